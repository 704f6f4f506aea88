//! Bech32 (BIP173) and Bech32m (BIP350) strings: a human-readable part, a separator `1`, and
//! 5-bit data with a six-character BCH checksum.

use std::fmt;

const CHARSET: &[u8; 32] = b"qpzry9x8gf2tvdw0s3jn54khce6mua7l";
const GENERATOR: [u32; 5] = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];
/// Longest string BIP173 allows.
pub const MAX_LEN: usize = 90;
const CHECKSUM_LEN: usize = 6;

/// Which checksum constant a string uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Variant {
    /// BIP173, for segwit version 0.
    Bech32,
    /// BIP350, for segwit version 1 and later.
    Bech32m,
}

impl Variant {
    fn constant(self) -> u32 {
        match self {
            Variant::Bech32 => 1,
            Variant::Bech32m => 0x2bc830a3,
        }
    }
}

/// Why a string is not valid Bech32 or Bech32m.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Bech32Error {
    /// Longer than the 90 characters BIP173 allows.
    TooLong(usize),
    /// Upper- and lower-case letters mixed (only all-lower or all-upper is valid).
    MixedCase,
    /// A character outside printable ASCII, or outside the data alphabet after the separator.
    InvalidChar {
        /// The character.
        ch: char,
        /// Its position (in characters).
        position: usize,
    },
    /// No `1` separating the human-readable part from the data.
    MissingSeparator,
    /// Nothing before the separator.
    EmptyHrp,
    /// Fewer than six data characters: no room for the checksum.
    TooShort,
    /// The checksum matches neither Bech32 nor Bech32m: a typo or a truncated string.
    BadChecksum,
    /// Non-zero bits or more than four bits of padding after converting 5-bit data to bytes.
    InvalidPadding,
}

impl fmt::Display for Bech32Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Bech32Error::TooLong(n) => write!(f, "bech32 string is {n} characters, over {MAX_LEN}"),
            Bech32Error::MixedCase => f.write_str("bech32 string mixes upper and lower case"),
            Bech32Error::InvalidChar { ch, position } => {
                write!(f, "invalid bech32 character {ch:?} at position {position}")
            }
            Bech32Error::MissingSeparator => f.write_str("bech32 string has no '1' separator"),
            Bech32Error::EmptyHrp => f.write_str("bech32 string has no human-readable part"),
            Bech32Error::TooShort => f.write_str("bech32 data is shorter than its checksum"),
            Bech32Error::BadChecksum => f.write_str("bech32 checksum mismatch (typo?)"),
            Bech32Error::InvalidPadding => f.write_str("bech32 data has invalid padding"),
        }
    }
}

impl std::error::Error for Bech32Error {}

/// A decoded string: lower-case human-readable part, 5-bit values without checksum, variant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decoded {
    /// The human-readable part, lower case.
    pub hrp: String,
    /// The data as 5-bit values, checksum removed.
    pub data: Vec<u8>,
    /// Which checksum the string carries.
    pub variant: Variant,
}

fn polymod(values: impl Iterator<Item = u8>) -> u32 {
    values.fold(1u32, |chk, v| {
        let top = chk >> 25;
        let chk = ((chk & 0x1ff_ffff) << 5) ^ u32::from(v);
        GENERATOR
            .iter()
            .enumerate()
            .filter(|(i, _)| (top >> i) & 1 == 1)
            .fold(chk, |c, (_, g)| c ^ g)
    })
}

/// The human-readable part as checksummed: high bits of each character, zero, low bits.
fn hrp_expand(hrp: &[u8]) -> impl Iterator<Item = u8> + '_ {
    hrp.iter()
        .map(|c| c >> 5)
        .chain(std::iter::once(0))
        .chain(hrp.iter().map(|c| c & 31))
}

/// Encodes `data` (5-bit values) under `hrp` (lower case) with the checksum of `variant`.
pub fn encode(hrp: &str, data: &[u8], variant: Variant) -> String {
    let values = hrp_expand(hrp.as_bytes())
        .chain(data.iter().copied())
        .chain([0; CHECKSUM_LEN]);
    let pm = polymod(values) ^ variant.constant();
    let checksum = (0..CHECKSUM_LEN).map(|i| ((pm >> (5 * (5 - i))) & 31) as u8);
    let mut s = String::with_capacity(hrp.len() + 1 + data.len() + CHECKSUM_LEN);
    s.push_str(hrp);
    s.push('1');
    s.extend(
        data.iter()
            .copied()
            .chain(checksum)
            .map(|v| CHARSET[v as usize] as char),
    );
    s
}

/// Decodes a Bech32 or Bech32m string and says which it is.
pub fn decode(s: &str) -> Result<Decoded, Bech32Error> {
    let len = s.chars().count();
    if len > MAX_LEN {
        return Err(Bech32Error::TooLong(len));
    }
    if let Some((position, ch)) = s.chars().enumerate().find(|(_, c)| !matches!(c, '!'..='~')) {
        return Err(Bech32Error::InvalidChar { ch, position });
    }
    if s.bytes().any(|c| c.is_ascii_lowercase()) && s.bytes().any(|c| c.is_ascii_uppercase()) {
        return Err(Bech32Error::MixedCase);
    }
    let lower = s.to_ascii_lowercase();
    let sep = lower.rfind('1').ok_or(Bech32Error::MissingSeparator)?;
    if sep == 0 {
        return Err(Bech32Error::EmptyHrp);
    }
    let (hrp, rest) = (&lower[..sep], &lower.as_bytes()[sep + 1..]);
    if rest.len() < CHECKSUM_LEN {
        return Err(Bech32Error::TooShort);
    }
    let mut data =
        rest.iter()
            .enumerate()
            .map(|(i, &c)| {
                CHARSET.iter().position(|&a| a == c).map(|v| v as u8).ok_or(
                    Bech32Error::InvalidChar {
                        ch: c as char,
                        position: sep + 1 + i,
                    },
                )
            })
            .collect::<Result<Vec<u8>, _>>()?;
    let residue = polymod(hrp_expand(hrp.as_bytes()).chain(data.iter().copied()));
    let variant = [Variant::Bech32, Variant::Bech32m]
        .into_iter()
        .find(|v| v.constant() == residue)
        .ok_or(Bech32Error::BadChecksum)?;
    data.truncate(data.len() - CHECKSUM_LEN);
    Ok(Decoded {
        hrp: hrp.to_string(),
        data,
        variant,
    })
}

/// Bytes as 5-bit values, the last one zero-padded.
pub fn to_base32(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() * 8 / 5 + 1);
    let (mut acc, mut bits) = (0u32, 0u32);
    for &b in bytes {
        acc = (acc << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(((acc >> bits) & 31) as u8);
        }
    }
    if bits > 0 {
        out.push(((acc << (5 - bits)) & 31) as u8);
    }
    out
}

/// 5-bit values as bytes; the padding must be under five bits and zero.
pub fn from_base32(values: &[u8]) -> Result<Vec<u8>, Bech32Error> {
    let mut out = Vec::with_capacity(values.len() * 5 / 8);
    let (mut acc, mut bits) = (0u32, 0u32);
    for &v in values {
        acc = ((acc << 5) | u32::from(v)) & 0xfff;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    if bits >= 5 || acc & ((1 << bits) - 1) != 0 {
        return Err(Bech32Error::InvalidPadding);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    // BIP173 and BIP350 test vectors.

    #[test]
    fn valid_bech32_strings() {
        for s in [
            "A12UEL5L",
            "a12uel5l",
            "an83characterlonghumanreadablepartthatcontainsthenumber1andtheexcludedcharactersbio1tt5tgs",
            "abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw",
            "11qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqc8247j",
            "split1checkupstagehandshakeupstreamerranterredcaperred2y9e3w",
            "?1ezyfcl",
        ] {
            let d = decode(s).unwrap_or_else(|e| panic!("{s}: {e}"));
            assert_eq!(d.variant, Variant::Bech32, "{s}");
            assert_eq!(encode(&d.hrp, &d.data, d.variant), s.to_ascii_lowercase());
        }
    }

    #[test]
    fn valid_bech32m_strings() {
        for s in [
            "A1LQFN3A",
            "a1lqfn3a",
            "an83characterlonghumanreadablepartthatcontainsthetheexcludedcharactersbioandnumber11sg7hg6",
            "abcdef1l7aum6echk45nj3s0wdvt2fg8x9yrzpqzd3ryx",
            "11llllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllludsr8",
            "split1checkupstagehandshakeupstreamerranterredcaperredlc445v",
            "?1v759aa",
        ] {
            let d = decode(s).unwrap_or_else(|e| panic!("{s}: {e}"));
            assert_eq!(d.variant, Variant::Bech32m, "{s}");
            assert_eq!(encode(&d.hrp, &d.data, d.variant), s.to_ascii_lowercase());
        }
    }

    #[test]
    fn invalid_strings_with_reasons() {
        use Bech32Error::*;
        let cases: &[(&str, Bech32Error)] = &[
            (" 1nwldj5", InvalidChar { ch: ' ', position: 0 }),
            ("\u{7f}1axkwrx", InvalidChar { ch: '\u{7f}', position: 0 }),
            ("\u{80}1eym55h", InvalidChar { ch: '\u{80}', position: 0 }),
            (
                "an84characterslonghumanreadablepartthatcontainsthenumber1andtheexcludedcharactersbio1569pvx",
                TooLong(91),
            ),
            ("pzry9x0s0muk", MissingSeparator),
            ("1pzry9x0s0muk", EmptyHrp),
            ("x1b4n0q5v", InvalidChar { ch: 'b', position: 2 }),
            ("li1dgmt3", TooShort),
            ("de1lg7wt\u{ff}", InvalidChar { ch: '\u{ff}', position: 8 }),
            ("A1G7SGD8", BadChecksum),
            ("10a06t8", EmptyHrp),
            ("1qzzfhee", EmptyHrp),
            ("qyrz8wqd2c9m", MissingSeparator),
            ("y1b0jsk6g", InvalidChar { ch: 'b', position: 2 }),
            ("lt1igcx5c0", InvalidChar { ch: 'i', position: 3 }),
            ("in1muywd", TooShort),
            ("mm1crxm3i", InvalidChar { ch: 'i', position: 8 }),
            ("au1s5cgom", InvalidChar { ch: 'o', position: 7 }),
            ("M1VUXWEZ", BadChecksum),
            ("16plkw9", EmptyHrp),
            ("1p2gdwpf", EmptyHrp),
            ("Bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", MixedCase),
        ];
        for (s, want) in cases {
            assert_eq!(decode(s).as_ref(), Err(want), "{s:?}");
        }
    }

    #[test]
    fn base32_conversion_round_trips_and_checks_padding() {
        for len in 0..42u8 {
            let bytes: Vec<u8> = (0..len).map(|i| i.wrapping_mul(37)).collect();
            assert_eq!(from_base32(&to_base32(&bytes)).unwrap(), bytes);
        }
        // One 5-bit value is too little for a byte: five bits of padding.
        assert_eq!(from_base32(&[0]), Err(Bech32Error::InvalidPadding));
        // Two values hold one byte plus two padding bits, which must be zero.
        assert_eq!(from_base32(&[0, 1]), Err(Bech32Error::InvalidPadding));
        assert_eq!(from_base32(&[0, 4]).unwrap(), vec![1]);
    }
}
