//! 256-bit hashes and double SHA-256.

use sha2::{Digest, Sha256};
use std::fmt;
use std::str::FromStr;

/// A 256-bit hash stored in serialization (internal) byte order.
///
/// Bitcoin displays these byte-reversed; `Display` and `FromStr` use that order so that hashes
/// print the way every explorer and RPC shows them.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Hash256(pub [u8; 32]);

/// Identifies a transaction: double SHA-256 of its serialization without witness data.
pub type Txid = Hash256;
/// Identifies a transaction including its witness data (BIP141).
pub type Wtxid = Hash256;
/// Identifies a block: double SHA-256 of its 80-byte header.
pub type BlockHash = Hash256;

impl Hash256 {
    /// The all-zero hash, used for the genesis block's parent and null outpoints.
    pub const ZERO: Hash256 = Hash256([0u8; 32]);

    /// Double SHA-256 of `data`.
    pub fn sha256d(data: &[u8]) -> Hash256 {
        Hash256(sha256d(data))
    }

    /// True when every byte is zero.
    pub fn is_zero(&self) -> bool {
        self.0 == [0u8; 32]
    }
}

/// Single SHA-256.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}

/// Double SHA-256, Bitcoin's hash for blocks, transactions and message checksums.
pub fn sha256d(data: &[u8]) -> [u8; 32] {
    sha256(&sha256(data))
}

impl fmt::Display for Hash256 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0.iter().rev() {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Hash256 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Why a hex string could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HexError {
    /// The string has an odd number of digits.
    OddLength(usize),
    /// A character is not a hexadecimal digit.
    InvalidChar(char),
    /// The string decodes to the wrong number of bytes.
    WrongLength { expected: usize, got: usize },
}

impl fmt::Display for HexError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HexError::OddLength(n) => write!(f, "hex string has odd length {n}"),
            HexError::InvalidChar(c) => write!(f, "invalid hex character {c:?}"),
            HexError::WrongLength { expected, got } => {
                write!(f, "expected {expected} bytes of hex, got {got}")
            }
        }
    }
}

impl std::error::Error for HexError {}

impl FromStr for Hash256 {
    type Err = HexError;
    /// Parses the display (reversed) hex form.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bytes = hex_decode(s)?;
        if bytes.len() != 32 {
            return Err(HexError::WrongLength {
                expected: 32,
                got: bytes.len(),
            });
        }
        let mut out = [0u8; 32];
        for (i, b) in bytes.iter().rev().enumerate() {
            out[i] = *b;
        }
        Ok(Hash256(out))
    }
}

/// Lower-case hex of `bytes` in the given order.
pub fn hex_encode(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 0xf) as usize] as char);
    }
    s
}

/// Decodes hex (either case) into bytes in the given order.
pub fn hex_decode(s: &str) -> Result<Vec<u8>, HexError> {
    let s = s.as_bytes();
    if !s.len().is_multiple_of(2) {
        return Err(HexError::OddLength(s.len()));
    }
    fn nibble(c: u8) -> Result<u8, HexError> {
        match c {
            b'0'..=b'9' => Ok(c - b'0'),
            b'a'..=b'f' => Ok(c - b'a' + 10),
            b'A'..=b'F' => Ok(c - b'A' + 10),
            _ => Err(HexError::InvalidChar(c as char)),
        }
    }
    s.chunks(2)
        .map(|p| Ok((nibble(p[0])? << 4) | nibble(p[1])?))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_is_reversed_and_round_trips() {
        let s = "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f";
        let h: Hash256 = s.parse().unwrap();
        assert_eq!(h.0[31], 0);
        assert_eq!(h.0[0], 0x6f);
        assert_eq!(h.to_string(), s);
    }

    #[test]
    fn hex_errors_are_typed() {
        assert_eq!(hex_decode("abc"), Err(HexError::OddLength(3)));
        assert_eq!(hex_decode("zz"), Err(HexError::InvalidChar('z')));
        assert!(matches!(
            "00".parse::<Hash256>(),
            Err(HexError::WrongLength { .. })
        ));
    }

    #[test]
    fn sha256d_of_empty_matches_known_value() {
        assert_eq!(
            hex_encode(&sha256d(b"")),
            "5df6e0e2761359d30a8275058e299fcc0381534545f55cf43e41983f5d4c9456"
        );
    }
}
