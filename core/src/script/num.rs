//! Script numbers: little-endian sign-magnitude integers on the stack.

use super::error::ScriptError;

/// Longest encoding arithmetic operands may have.
pub const DEFAULT_MAX_NUM_LEN: usize = 4;
/// Longest encoding the locktime opcodes accept (lock times reach 2^32 - 1).
pub const LOCKTIME_MAX_NUM_LEN: usize = 5;

/// Decodes a stack element as a number. Longer than `max_len` bytes is an error; with
/// `require_minimal` so is any encoding with a superfluous trailing byte.
pub fn decode_num(bytes: &[u8], require_minimal: bool, max_len: usize) -> Result<i64, ScriptError> {
    if bytes.len() > max_len {
        return Err(ScriptError::NumberTooBig);
    }
    let Some((&last, rest)) = bytes.split_last() else {
        return Ok(0);
    };
    // The last byte may only be 0x00 or 0x80 when the one before needs its high bit for value.
    if require_minimal && last & 0x7f == 0 && rest.last().is_none_or(|b| b & 0x80 == 0) {
        return Err(ScriptError::NonMinimalNumber);
    }
    let magnitude = bytes
        .iter()
        .enumerate()
        .fold(0i64, |acc, (i, b)| acc | (i64::from(*b) << (8 * i)));
    Ok(if last & 0x80 != 0 {
        -(magnitude & !(0x80i64 << (8 * rest.len())))
    } else {
        magnitude
    })
}

/// The minimal encoding of `n`.
pub fn encode_num(n: i64) -> Vec<u8> {
    let mut out = Vec::with_capacity(9);
    let mut abs = n.unsigned_abs();
    while abs > 0 {
        out.push(abs as u8);
        abs >>= 8;
    }
    if let Some(last) = out.last_mut() {
        if *last & 0x80 != 0 {
            out.push(if n < 0 { 0x80 } else { 0 });
        } else if n < 0 {
            *last |= 0x80;
        }
    }
    out
}

/// A stack element's truth value: false for any encoding of zero, including negative zero.
pub fn cast_to_bool(bytes: &[u8]) -> bool {
    match bytes.split_last() {
        None => false,
        Some((&last, rest)) => rest.iter().any(|b| *b != 0) || (last != 0 && last != 0x80),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_edge_values() {
        for n in [
            0,
            1,
            -1,
            127,
            128,
            -128,
            255,
            256,
            0x7fff_ffff,
            -0x7fff_ffff,
            1 << 40,
        ] {
            assert_eq!(decode_num(&encode_num(n), true, 8), Ok(n), "{n}");
        }
        assert_eq!(encode_num(-1), vec![0x81]);
        assert_eq!(encode_num(128), vec![0x80, 0x00]);
    }

    #[test]
    fn rejects_long_and_non_minimal_encodings() {
        assert_eq!(
            decode_num(&[1, 0, 0, 0, 0], false, 4),
            Err(ScriptError::NumberTooBig)
        );
        assert_eq!(
            decode_num(&[5, 0], true, 4),
            Err(ScriptError::NonMinimalNumber)
        );
        assert_eq!(
            decode_num(&[0x80], true, 4),
            Err(ScriptError::NonMinimalNumber)
        );
        assert_eq!(decode_num(&[0xff, 0x00], true, 4), Ok(255));
        assert_eq!(decode_num(&[5, 0x80], false, 4), Ok(-5));
    }

    #[test]
    fn negative_zero_is_false() {
        assert!(!cast_to_bool(&[0, 0, 0x80]));
        assert!(cast_to_bool(&[0, 1, 0x80]));
        assert!(!cast_to_bool(&[]));
    }
}
