//! Consensus encoding: little-endian integers, CompactSize counts, and a bounded reader.
//!
//! Every count read from untrusted bytes is checked against what the remaining input could
//! possibly hold before anything is allocated, so a 9-byte claim of "2^64 items" costs nothing.

use super::hash::Hash256;
use std::fmt;

/// The largest CompactSize Bitcoin Core accepts for any length or count (32 MiB).
pub const MAX_COMPACT_SIZE: u64 = 0x0200_0000;

/// Why bytes could not be decoded. Each variant names what was wrong so a peer's ban score
/// can be raised with a reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    /// The input ended while `needed` more bytes were expected.
    UnexpectedEnd { needed: usize },
    /// A CompactSize was not in its shortest form.
    NonCanonicalCompactSize(u64),
    /// A count or length exceeds the protocol maximum.
    CountTooLarge { count: u64, max: u64 },
    /// A count claims more items than the remaining bytes can hold.
    CountExceedsInput { count: u64, remaining: usize },
    /// A segwit marker was followed by a flag other than 1.
    BadWitnessFlag(u8),
    /// A transaction was serialized with the witness flag but no input has witness data.
    SuperfluousWitness,
    /// Bytes were left over after a value that must consume its whole input.
    TrailingBytes(usize),
    /// A field had a value the format forbids (the text says which).
    Invalid(&'static str),
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::UnexpectedEnd { needed } => {
                write!(f, "input ended early ({needed} more bytes needed)")
            }
            DecodeError::NonCanonicalCompactSize(v) => {
                write!(f, "non-canonical CompactSize encoding of {v}")
            }
            DecodeError::CountTooLarge { count, max } => {
                write!(f, "count {count} exceeds maximum {max}")
            }
            DecodeError::CountExceedsInput { count, remaining } => {
                write!(
                    f,
                    "count {count} cannot fit in the remaining {remaining} bytes"
                )
            }
            DecodeError::BadWitnessFlag(b) => write!(f, "witness flag byte is {b:#04x}, not 0x01"),
            DecodeError::SuperfluousWitness => write!(f, "witness flag set but no witness data"),
            DecodeError::TrailingBytes(n) => write!(f, "{n} unexpected trailing bytes"),
            DecodeError::Invalid(what) => write!(f, "invalid {what}"),
        }
    }
}

impl std::error::Error for DecodeError {}

/// A cursor over untrusted bytes.
pub struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    /// Starts reading at the beginning of `data`.
    pub fn new(data: &'a [u8]) -> Self {
        Reader { data, pos: 0 }
    }

    /// Bytes not yet consumed.
    pub fn remaining(&self) -> usize {
        self.data.len() - self.pos
    }

    /// Bytes consumed so far.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// Takes the next `n` bytes.
    pub fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        if self.remaining() < n {
            return Err(DecodeError::UnexpectedEnd {
                needed: n - self.remaining(),
            });
        }
        let s = &self.data[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    /// Takes a fixed-size array.
    pub fn array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }

    /// Reads one byte.
    pub fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.take(1)?[0])
    }
    /// Reads a little-endian u16.
    pub fn u16_le(&mut self) -> Result<u16, DecodeError> {
        Ok(u16::from_le_bytes(self.array()?))
    }
    /// Reads a big-endian u16 (network port numbers).
    pub fn u16_be(&mut self) -> Result<u16, DecodeError> {
        Ok(u16::from_be_bytes(self.array()?))
    }
    /// Reads a little-endian u32.
    pub fn u32_le(&mut self) -> Result<u32, DecodeError> {
        Ok(u32::from_le_bytes(self.array()?))
    }
    /// Reads a little-endian i32.
    pub fn i32_le(&mut self) -> Result<i32, DecodeError> {
        Ok(i32::from_le_bytes(self.array()?))
    }
    /// Reads a little-endian u64.
    pub fn u64_le(&mut self) -> Result<u64, DecodeError> {
        Ok(u64::from_le_bytes(self.array()?))
    }
    /// Reads a little-endian i64.
    pub fn i64_le(&mut self) -> Result<i64, DecodeError> {
        Ok(i64::from_le_bytes(self.array()?))
    }
    /// Reads a 32-byte hash in serialization order.
    pub fn hash(&mut self) -> Result<Hash256, DecodeError> {
        Ok(Hash256(self.array()?))
    }

    /// Reads a CompactSize in canonical form, without any bound.
    pub fn compact_size_raw(&mut self) -> Result<u64, DecodeError> {
        let first = self.u8()?;
        let (v, min) = match first {
            0xfd => (self.u16_le()? as u64, 0xfd),
            0xfe => (self.u32_le()? as u64, 0x1_0000),
            0xff => (self.u64_le()?, 0x1_0000_0000),
            b => return Ok(b as u64),
        };
        if v < min {
            return Err(DecodeError::NonCanonicalCompactSize(v));
        }
        Ok(v)
    }

    /// Reads a count of items each at least `min_item_bytes` long, rejecting counts the rest of
    /// the input cannot hold and counts above `max`.
    pub fn count(&mut self, min_item_bytes: usize, max: u64) -> Result<usize, DecodeError> {
        let n = self.compact_size_raw()?;
        if n > max {
            return Err(DecodeError::CountTooLarge { count: n, max });
        }
        let need = n.saturating_mul(min_item_bytes.max(1) as u64);
        if need > self.remaining() as u64 {
            return Err(DecodeError::CountExceedsInput {
                count: n,
                remaining: self.remaining(),
            });
        }
        Ok(n as usize)
    }

    /// Reads a length-prefixed byte string.
    pub fn var_bytes(&mut self) -> Result<Vec<u8>, DecodeError> {
        let n = self.count(1, MAX_COMPACT_SIZE)?;
        Ok(self.take(n)?.to_vec())
    }

    /// Fails unless all input was consumed.
    pub fn finish(&self) -> Result<(), DecodeError> {
        match self.remaining() {
            0 => Ok(()),
            n => Err(DecodeError::TrailingBytes(n)),
        }
    }
}

/// Appends a CompactSize.
pub fn write_compact_size(out: &mut Vec<u8>, v: u64) {
    match v {
        0..=0xfc => out.push(v as u8),
        0xfd..=0xffff => {
            out.push(0xfd);
            out.extend_from_slice(&(v as u16).to_le_bytes());
        }
        0x1_0000..=0xffff_ffff => {
            out.push(0xfe);
            out.extend_from_slice(&(v as u32).to_le_bytes());
        }
        _ => {
            out.push(0xff);
            out.extend_from_slice(&v.to_le_bytes());
        }
    }
}

/// How many bytes [`write_compact_size`] writes for `v`.
pub fn compact_size_len(v: u64) -> usize {
    match v {
        0..=0xfc => 1,
        0xfd..=0xffff => 3,
        0x1_0000..=0xffff_ffff => 5,
        _ => 9,
    }
}

/// Appends a length-prefixed byte string.
pub fn write_var_bytes(out: &mut Vec<u8>, b: &[u8]) {
    write_compact_size(out, b.len() as u64);
    out.extend_from_slice(b);
}

/// A value with one canonical byte encoding.
pub trait Encodable {
    /// Appends the encoding to `out`.
    fn encode_to(&self, out: &mut Vec<u8>);

    /// The encoding as a fresh vector.
    fn encode(&self) -> Vec<u8> {
        let mut v = Vec::new();
        self.encode_to(&mut v);
        v
    }
}

/// A value that can be read from untrusted bytes.
pub trait Decodable: Sized {
    /// Reads one value, leaving the reader after it.
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError>;

    /// Decodes a value that must span all of `bytes`.
    fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes);
        let v = Self::decode_from(&mut r)?;
        r.finish()?;
        Ok(v)
    }
}

impl Encodable for Hash256 {
    fn encode_to(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.0);
    }
}

impl Decodable for Hash256 {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        r.hash()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_size_round_trips_at_boundaries() {
        for v in [
            0u64,
            0xfc,
            0xfd,
            0xffff,
            0x1_0000,
            0xffff_ffff,
            0x1_0000_0000,
            u64::MAX,
        ] {
            let mut b = Vec::new();
            write_compact_size(&mut b, v);
            assert_eq!(b.len(), compact_size_len(v));
            assert_eq!(Reader::new(&b).compact_size_raw().unwrap(), v);
        }
    }

    #[test]
    fn non_canonical_compact_size_is_rejected() {
        assert_eq!(
            Reader::new(&[0xfd, 0x10, 0x00]).compact_size_raw(),
            Err(DecodeError::NonCanonicalCompactSize(0x10))
        );
    }

    #[test]
    fn huge_counts_are_rejected_before_allocation() {
        let b = [0xfe, 0xff, 0xff, 0xff, 0x00, 1, 2, 3];
        assert!(matches!(
            Reader::new(&b).count(1, u64::MAX),
            Err(DecodeError::CountExceedsInput {
                count: 0xffffff,
                remaining: 3
            })
        ));
        assert!(matches!(
            Reader::new(&b).var_bytes(),
            Err(DecodeError::CountExceedsInput { .. })
        ));
    }
}
