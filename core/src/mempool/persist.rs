//! Bitcoin Core's `mempool.dat`: the pool written at shutdown (and by `savemempool`) and read
//! back at start, in Core's own format so a data directory's pool can move between rbtcd and
//! Core-derived nodes.
//!
//! The layout: a little-endian `u64` version (1, or 2 with an obfuscation key); for version 2 the
//! 8-byte key as a length-prefixed vector, after which every byte at file offset `p` is XORed
//! with `key[p % 8]` (so a pool full of one script does not sit on disk as plain text); then a
//! `u64` count of entries, each a transaction with witness, its accept time and fee delta
//! (`i64`s); then the fee deltas as a map (count, txid, `i64`) and the txids still waiting for
//! their first broadcast as a set (count, txid).

use crate::primitives::encode::{write_compact_size, Decodable, DecodeError, Encodable, Reader};
use crate::primitives::{Transaction, Txid};
use std::fmt;

/// The version without obfuscation.
const VERSION_PLAIN: u64 = 1;
/// The version Core writes since 28.0: the rest of the file XORed with a key.
const VERSION_OBFUSCATED: u64 = 2;
/// Length of the obfuscation key.
const KEY_LEN: usize = 8;
/// Fewest bytes an entry takes (a transaction's smallest encoding and two `i64`s), to refuse a
/// count the file cannot hold before reserving room for it.
const MIN_ENTRY_BYTES: usize = 10 + 16;

/// One pooled transaction as the file keeps it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SavedTx {
    /// The transaction.
    pub tx: Transaction,
    /// Unix time it entered the pool.
    pub time: i64,
    /// Core's `prioritisetransaction` fee delta in satoshis.
    pub fee_delta: i64,
}

/// A pool as `mempool.dat` holds it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MempoolFile {
    /// The transactions, each after the pooled transactions it spends.
    pub txs: Vec<SavedTx>,
    /// Fee deltas, including those of transactions not in the pool.
    pub deltas: Vec<(Txid, i64)>,
    /// Transactions submitted locally and not yet announced (Core's unbroadcast set).
    pub unbroadcast: Vec<Txid>,
}

/// Why a `mempool.dat` could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MempoolFileError {
    /// A version neither 1 nor 2.
    Version(u64),
    /// The key of a version 2 file is not 8 bytes long.
    KeyLength(u64),
    /// The bytes do not decode (truncated, or not this format).
    Decode(DecodeError),
}

impl fmt::Display for MempoolFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MempoolFileError::Version(v) => write!(f, "unknown mempool file version {v}"),
            MempoolFileError::KeyLength(n) => {
                write!(f, "obfuscation key of {n} bytes, expected {KEY_LEN}")
            }
            MempoolFileError::Decode(e) => write!(f, "malformed mempool file: {e}"),
        }
    }
}

impl std::error::Error for MempoolFileError {}

impl From<DecodeError> for MempoolFileError {
    fn from(e: DecodeError) -> Self {
        MempoolFileError::Decode(e)
    }
}

/// XORs `bytes`, which start at file offset `offset`, with `key` (Core's obfuscation, keyed
/// by position so any part of the file can be undone alone).
fn xor(bytes: &mut [u8], offset: usize, key: &[u8; KEY_LEN]) {
    for (i, b) in bytes.iter_mut().enumerate() {
        *b ^= key[(offset + i) % KEY_LEN];
    }
}

impl MempoolFile {
    /// The file's bytes: version 2 obfuscated with `key` (the caller draws it at random, as
    /// Core does for each write), or version 1 with `None`.
    pub fn encode(&self, key: Option<[u8; KEY_LEN]>) -> Vec<u8> {
        let mut out = Vec::new();
        let version = key.map_or(VERSION_PLAIN, |_| VERSION_OBFUSCATED);
        out.extend_from_slice(&version.to_le_bytes());
        if let Some(key) = &key {
            write_compact_size(&mut out, KEY_LEN as u64);
            out.extend_from_slice(key);
        }
        let body_start = out.len();
        out.extend_from_slice(&(self.txs.len() as u64).to_le_bytes());
        for saved in &self.txs {
            saved.tx.encode_to(&mut out);
            out.extend_from_slice(&saved.time.to_le_bytes());
            out.extend_from_slice(&saved.fee_delta.to_le_bytes());
        }
        write_compact_size(&mut out, self.deltas.len() as u64);
        for (txid, delta) in &self.deltas {
            out.extend_from_slice(&txid.0);
            out.extend_from_slice(&delta.to_le_bytes());
        }
        write_compact_size(&mut out, self.unbroadcast.len() as u64);
        for txid in &self.unbroadcast {
            out.extend_from_slice(&txid.0);
        }
        if let Some(key) = &key {
            xor(&mut out[body_start..], body_start, key);
        }
        out
    }

    /// Reads a file of either version. Bytes after the unbroadcast set are ignored, as Core
    /// does (a later version may append fields).
    pub fn decode(bytes: &[u8]) -> Result<MempoolFile, MempoolFileError> {
        let mut r = Reader::new(bytes);
        let version = r.u64_le()?;
        let key = match version {
            VERSION_PLAIN => None,
            VERSION_OBFUSCATED => {
                let len = r.compact_size_raw()?;
                if len != KEY_LEN as u64 {
                    return Err(MempoolFileError::KeyLength(len));
                }
                Some(r.array::<KEY_LEN>()?)
            }
            v => return Err(MempoolFileError::Version(v)),
        };
        let body_start = r.position();
        let mut body = bytes[body_start..].to_vec();
        if let Some(key) = &key {
            xor(&mut body, body_start, key);
        }
        let mut r = Reader::new(&body);
        let count = r.u64_le()?;
        if count.saturating_mul(MIN_ENTRY_BYTES as u64) > r.remaining() as u64 {
            return Err(DecodeError::CountExceedsInput {
                count,
                remaining: r.remaining(),
            }
            .into());
        }
        let mut txs = Vec::with_capacity(count as usize);
        for _ in 0..count {
            txs.push(SavedTx {
                tx: Transaction::decode_from(&mut r)?,
                time: r.i64_le()?,
                fee_delta: r.i64_le()?,
            });
        }
        let n = r.count(32 + 8, u64::MAX)?;
        let mut deltas = Vec::with_capacity(n);
        for _ in 0..n {
            deltas.push((r.hash()?, r.i64_le()?));
        }
        let n = r.count(32, u64::MAX)?;
        let mut unbroadcast = Vec::with_capacity(n);
        for _ in 0..n {
            unbroadcast.push(r.hash()?);
        }
        Ok(MempoolFile {
            txs,
            deltas,
            unbroadcast,
        })
    }
}

#[cfg(test)]
mod tests;
