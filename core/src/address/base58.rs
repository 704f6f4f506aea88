//! Base58 and Base58Check, the encoding of legacy addresses and WIF keys.

use crate::primitives::hash::sha256d;
use std::fmt;

const ALPHABET: &[u8; 58] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
/// Bytes of double-SHA-256 appended by Base58Check.
const CHECKSUM_LEN: usize = 4;

/// Why a Base58 or Base58Check string could not be decoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Base58Error {
    /// A character outside the Base58 alphabet (which leaves out `0`, `O`, `I` and `l`).
    InvalidChar {
        /// The character.
        ch: char,
        /// Its position (in characters).
        position: usize,
    },
    /// Fewer bytes than a Base58Check checksum.
    TooShort(usize),
    /// The last four bytes are not the checksum of the rest: a typo or a truncated string.
    BadChecksum,
}

impl fmt::Display for Base58Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Base58Error::InvalidChar { ch, position } => {
                write!(f, "invalid base58 character {ch:?} at position {position}")
            }
            Base58Error::TooShort(n) => {
                write!(
                    f,
                    "base58check data is {n} bytes, shorter than its checksum"
                )
            }
            Base58Error::BadChecksum => f.write_str("base58check checksum mismatch (typo?)"),
        }
    }
}

impl std::error::Error for Base58Error {}

/// Base58 of `data`: the bytes as one big-endian number, each leading zero byte as `1`.
pub fn encode(data: &[u8]) -> String {
    let zeros = data.iter().take_while(|&&b| b == 0).count();
    // Base58 digits, least significant first.
    let mut digits: Vec<u8> = Vec::with_capacity(data.len() * 138 / 100 + 1);
    for &byte in &data[zeros..] {
        let mut carry = u32::from(byte);
        for d in digits.iter_mut() {
            carry += u32::from(*d) << 8;
            *d = (carry % 58) as u8;
            carry /= 58;
        }
        while carry > 0 {
            digits.push((carry % 58) as u8);
            carry /= 58;
        }
    }
    std::iter::repeat_n('1', zeros)
        .chain(digits.iter().rev().map(|&d| ALPHABET[d as usize] as char))
        .collect()
}

/// Decodes Base58. The work is quadratic in the length: bound untrusted input first.
pub fn decode(s: &str) -> Result<Vec<u8>, Base58Error> {
    let zeros = s.bytes().take_while(|&c| c == b'1').count();
    // The number's bytes, least significant first.
    let mut bytes: Vec<u8> = Vec::with_capacity(s.len());
    for (position, ch) in s.chars().enumerate().skip(zeros) {
        let digit = ALPHABET
            .iter()
            .position(|&a| a as char == ch)
            .ok_or(Base58Error::InvalidChar { ch, position })?;
        let mut carry = digit as u32;
        for b in bytes.iter_mut() {
            carry += u32::from(*b) * 58;
            *b = carry as u8;
            carry >>= 8;
        }
        while carry > 0 {
            bytes.push(carry as u8);
            carry >>= 8;
        }
    }
    let mut out = vec![0u8; zeros];
    out.extend(bytes.iter().rev());
    Ok(out)
}

/// Base58Check: `payload` followed by the first four bytes of its double SHA-256.
pub fn encode_check(payload: &[u8]) -> String {
    let mut data = payload.to_vec();
    data.extend_from_slice(&sha256d(payload)[..CHECKSUM_LEN]);
    encode(&data)
}

/// Decodes Base58Check and verifies the checksum; returns the payload.
pub fn decode_check(s: &str) -> Result<Vec<u8>, Base58Error> {
    let mut data = decode(s)?;
    if data.len() < CHECKSUM_LEN {
        return Err(Base58Error::TooShort(data.len()));
    }
    let split = data.len() - CHECKSUM_LEN;
    if sha256d(&data[..split])[..CHECKSUM_LEN] != data[split..] {
        return Err(Base58Error::BadChecksum);
    }
    data.truncate(split);
    Ok(data)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::primitives::hash::hex_decode;

    #[test]
    fn known_encodings() {
        // Vectors from Bitcoin Core's base58_encode_decode.json.
        let cases = [
            ("", ""),
            ("61", "2g"),
            ("626262", "a3gV"),
            ("636363", "aPEr"),
            (
                "73696d706c792061206c6f6e6720737472696e67",
                "2cFupjhnEsSn59qHXstmK2ffpLv2",
            ),
            (
                "00eb15231dfceb60925886b67d065299925915aeb172c06647",
                "1NS17iag9jJgTHD1VXjvLCEnZuQ3rJDE9L",
            ),
            ("516b6fcd0f", "ABnLTmg"),
            ("bf4f89001e670274dd", "3SEo3LWLoPntC"),
            ("572e4794", "3EFU7m"),
            ("ecac89cad93923c02321", "EJDM8drfXA6uyA"),
            ("10c8511e", "Rt5zm"),
            ("00000000000000000000", "1111111111"),
        ];
        for (hex, b58) in cases {
            let bytes = hex_decode(hex).unwrap();
            assert_eq!(encode(&bytes), b58);
            assert_eq!(decode(b58).unwrap(), bytes);
        }
    }

    #[test]
    fn check_round_trip_and_errors() {
        let s = encode_check(&[0u8; 21]);
        assert_eq!(s, "1111111111111111111114oLvT2");
        assert_eq!(decode_check(&s).unwrap(), vec![0u8; 21]);
        let typo = s.replace('T', "U");
        assert_eq!(decode_check(&typo), Err(Base58Error::BadChecksum));
        assert_eq!(decode_check("1z"), Err(Base58Error::TooShort(2)));
        assert_eq!(
            decode("12l"),
            Err(Base58Error::InvalidChar {
                ch: 'l',
                position: 2
            })
        );
    }
}
