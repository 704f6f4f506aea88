//! Bech32 (BIP173) and Bech32m (BIP350) segwit address strings, through the `bech32` crate
//! (rust-bitcoin's): this module only says which checksum a string carries and turns the
//! crate's errors into reasons a user can act on.

use ::bech32::primitives::decode::{
    CharError, CheckedHrpstring, ChecksumError, UncheckedHrpstring, UncheckedHrpstringError,
};
use ::bech32::primitives::hrp;
use ::bech32::{segwit, Bech32, Bech32m, Fe32, Hrp};
use std::fmt;

/// Longest string BIP173 allows.
pub const MAX_LEN: usize = 90;

/// Which checksum constant a string uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Variant {
    /// BIP173, for segwit version 0.
    Bech32,
    /// BIP350, for segwit version 1 and later.
    Bech32m,
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

/// A string with a valid checksum: its human-readable part, which checksum, and the data.
pub struct Decoded<'s> {
    /// The human-readable part, lower case.
    pub hrp: String,
    /// Which checksum the string carries.
    pub variant: Variant,
    data: CheckedHrpstring<'s>,
}

impl Decoded<'_> {
    /// The first 5-bit value, a segwit address's witness version; `None` without data.
    pub fn version(&self) -> Option<u8> {
        let first = *self.data.data_part_ascii_no_checksum().first()?;
        Some(
            Fe32::from_char(char::from(first))
                .expect("checked by the crate")
                .to_u8(),
        )
    }

    /// The values after the witness version (at most 16) as bytes; the padding must be
    /// under five bits and zero.
    pub fn program(mut self) -> Result<Vec<u8>, Bech32Error> {
        self.data.remove_witness_version();
        self.data
            .validate_segwit_padding()
            .map_err(|_| Bech32Error::InvalidPadding)?;
        Ok(self.data.byte_iter().collect())
    }
}

/// Decodes a Bech32 or Bech32m string and says which it is.
pub fn decode(s: &str) -> Result<Decoded<'_>, Bech32Error> {
    let unchecked = UncheckedHrpstring::new(s).map_err(|e| parse_error(s, e))?;
    let hrp = unchecked.hrp().to_lowercase();
    let (variant, data) = match unchecked.validate_checksum::<Bech32>() {
        Ok(()) => (Variant::Bech32, unchecked.remove_checksum::<Bech32>()),
        Err(ChecksumError::InvalidResidue) => match unchecked.validate_checksum::<Bech32m>() {
            Ok(()) => (Variant::Bech32m, unchecked.remove_checksum::<Bech32m>()),
            Err(e) => return Err(checksum_error(s, e)),
        },
        Err(e) => return Err(checksum_error(s, e)),
    };
    Ok(Decoded { hrp, variant, data })
}

/// Writes the segwit address of `version` (0..=16) and `program` under `hrp` (lower case):
/// Bech32 for version 0, Bech32m after (BIP350).
pub fn write_segwit(
    f: &mut impl fmt::Write,
    hrp: &str,
    version: u8,
    program: &[u8],
) -> fmt::Result {
    let hrp = Hrp::parse(hrp).map_err(|_| fmt::Error)?;
    let version = Fe32::try_from(version).map_err(|_| fmt::Error)?;
    segwit::encode_lower_to_fmt_unchecked(f, hrp, version, program)
}

fn parse_error(s: &str, e: UncheckedHrpstringError) -> Bech32Error {
    // The crate checks the data part from its end and the human-readable part from its start,
    // so the character it names is the last of its kind or the first.
    let at = |ch: char, from_end: bool| {
        let mut found = s.chars().enumerate().filter(|&(_, c)| c == ch);
        let position = match from_end {
            true => found.last(),
            false => found.next(),
        };
        Bech32Error::InvalidChar {
            ch,
            position: position
                .map(|(i, _)| i)
                .expect("the crate names a character of the string"),
        }
    };
    match e {
        UncheckedHrpstringError::Char(CharError::MissingSeparator) => Bech32Error::MissingSeparator,
        UncheckedHrpstringError::Char(CharError::NothingAfterSeparator) => Bech32Error::TooShort,
        UncheckedHrpstringError::Char(CharError::InvalidChar(ch)) => at(ch, true),
        UncheckedHrpstringError::Char(CharError::MixedCase)
        | UncheckedHrpstringError::Hrp(hrp::Error::MixedCase) => Bech32Error::MixedCase,
        UncheckedHrpstringError::Hrp(hrp::Error::Empty) => Bech32Error::EmptyHrp,
        UncheckedHrpstringError::Hrp(hrp::Error::TooLong(_)) => {
            Bech32Error::TooLong(s.chars().count())
        }
        UncheckedHrpstringError::Hrp(hrp::Error::NonAsciiChar(ch)) => at(ch, false),
        UncheckedHrpstringError::Hrp(hrp::Error::InvalidAsciiByte(b)) => at(char::from(b), false),
        // The crate's error enums are non-exhaustive; any later reason is a malformed string.
        _ => Bech32Error::BadChecksum,
    }
}

fn checksum_error(s: &str, e: ChecksumError) -> Bech32Error {
    match e {
        ChecksumError::CodeLength(_) => Bech32Error::TooLong(s.chars().count()),
        ChecksumError::InvalidLength => Bech32Error::TooShort,
        _ => Bech32Error::BadChecksum,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // BIP173 and BIP350 test vectors.

    #[test]
    fn valid_strings_decode_with_their_checksum() {
        let bech32 = [
            "A12UEL5L",
            "a12uel5l",
            "an83characterlonghumanreadablepartthatcontainsthenumber1andtheexcludedcharactersbio1tt5tgs",
            "abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw",
            "11qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqc8247j",
            "split1checkupstagehandshakeupstreamerranterredcaperred2y9e3w",
            "?1ezyfcl",
        ];
        let bech32m = [
            "A1LQFN3A",
            "a1lqfn3a",
            "an83characterlonghumanreadablepartthatcontainsthetheexcludedcharactersbioandnumber11sg7hg6",
            "abcdef1l7aum6echk45nj3s0wdvt2fg8x9yrzpqzd3ryx",
            "11llllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllludsr8",
            "split1checkupstagehandshakeupstreamerranterredcaperredlc445v",
            "?1v759aa",
        ];
        for (strings, variant) in [(bech32, Variant::Bech32), (bech32m, Variant::Bech32m)] {
            for s in strings {
                let d = decode(s).unwrap_or_else(|e| panic!("{s}: {e}"));
                assert_eq!(d.variant, variant, "{s}");
                let sep = s.rfind('1').unwrap();
                assert_eq!(d.hrp, s[..sep].to_ascii_lowercase(), "{s}");
            }
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
            assert_eq!(decode(s).err().as_ref(), Some(want), "{s:?}");
        }
    }

    #[test]
    fn programs_need_zero_padding_under_five_bits() {
        // BIP173: a v0 program of 16 bytes whose padding bits are not zero; and one with a
        // whole spare 5-bit value.
        for s in [
            "bc1zw508d6qejxtdg4y5r3zarvaryvqyzf3du",
            "tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3pjxtptv",
        ] {
            assert_eq!(
                decode(s).unwrap().program().err(),
                Some(Bech32Error::InvalidPadding),
                "{s}"
            );
        }
    }
}
