//! Saving and restoring the address manager through the store's address-book blob: the key,
//! every address with its bookkeeping, and which buckets hold it, so a restart keeps the
//! same tables (btcd saves every 10 minutes and at shutdown).

use super::{AddrManager, KnownAddress, PeerAddr, NEW_BUCKETS, TRIED_BUCKETS};
use crate::primitives::encode::{write_compact_size, Reader};
use crate::primitives::{DecodeError, Encodable};
use crate::rng::Rng;
use crate::wire::address::MIN_ADDRV2_ENTRY_SIZE;
use crate::wire::{AddrV2, AddrV2Entry, PayloadError};
use std::collections::BTreeSet;
use std::fmt;

/// Format version of the blob.
const VERSION: u8 = 1;
/// Smallest encoded address record: entry, source (id, length, 0 bytes), counters, flags.
const MIN_RECORD: usize = MIN_ADDRV2_ENTRY_SIZE + 2 + 4 + 8 + 8 + 1;

/// Why a saved address book was not restored (the node then starts with an empty one).
#[derive(Debug, Clone, PartialEq)]
pub enum RestoreError {
    /// The blob is from a newer or unknown format.
    Version(u8),
    /// The blob is truncated or malformed.
    Malformed(String),
    /// The tables in the blob break an invariant.
    Inconsistent(String),
}

impl fmt::Display for RestoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RestoreError::Version(v) => write!(f, "address book format {v} is not supported"),
            RestoreError::Malformed(e) => write!(f, "address book is malformed: {e}"),
            RestoreError::Inconsistent(e) => write!(f, "address book is inconsistent: {e}"),
        }
    }
}

impl std::error::Error for RestoreError {}

impl From<DecodeError> for RestoreError {
    fn from(e: DecodeError) -> Self {
        RestoreError::Malformed(e.to_string())
    }
}

impl From<PayloadError> for RestoreError {
    fn from(e: PayloadError) -> Self {
        RestoreError::Malformed(e.to_string())
    }
}

impl AddrManager {
    /// The whole state as bytes for [`crate::chain::WriteOp::PutAddrBook`].
    pub fn save(&self) -> Vec<u8> {
        let mut out = vec![VERSION];
        out.extend_from_slice(&self.key);
        write_compact_size(&mut out, self.known.len() as u64);
        let position: std::collections::BTreeMap<&PeerAddr, u64> = self
            .known
            .keys()
            .enumerate()
            .map(|(i, p)| (p, i as u64))
            .collect();
        for ka in self.known.values() {
            ka.entry().encode_to(&mut out);
            ka.source.write(&mut out);
            out.extend_from_slice(&ka.attempts.to_le_bytes());
            out.extend_from_slice(&ka.last_attempt.to_le_bytes());
            out.extend_from_slice(&ka.last_success.to_le_bytes());
            out.push(u8::from(ka.tried));
        }
        for b in 0..NEW_BUCKETS {
            let bucket = self.new.get(&b);
            write_compact_size(&mut out, bucket.map_or(0, BTreeSet::len) as u64);
            for p in bucket.into_iter().flatten() {
                write_compact_size(&mut out, position[p]);
            }
        }
        for bucket in &self.tried {
            write_compact_size(&mut out, bucket.len() as u64);
            for p in bucket {
                write_compact_size(&mut out, position[p]);
            }
        }
        out
    }

    /// Rebuilds a manager from [`save`](Self::save)'s bytes, drawing later choices from `rng`.
    pub fn restore(bytes: &[u8], rng: Rng) -> Result<AddrManager, RestoreError> {
        let mut r = Reader::new(bytes);
        let version = r.u8()?;
        if version != VERSION {
            return Err(RestoreError::Version(version));
        }
        let mut m = AddrManager::with_key(r.array()?, rng);
        let count = r.count(MIN_RECORD, u64::MAX)?;
        let mut peers = Vec::with_capacity(count);
        for _ in 0..count {
            let entry = AddrV2Entry::read(&mut r)?;
            let source_entry = AddrV2::read(&mut r)?;
            let peer = PeerAddr {
                addr: entry.addr,
                port: entry.port,
            };
            let ka = KnownAddress {
                peer: peer.clone(),
                services: entry.services,
                time: u64::from(entry.time),
                source: source_entry,
                attempts: r.u32_le()?,
                last_attempt: r.u64_le()?,
                last_success: r.u64_le()?,
                tried: r.u8()? == 1,
                refs: 0,
            };
            if m.known.insert(peer.clone(), ka).is_some() {
                return Err(RestoreError::Inconsistent(format!("{peer:?} twice")));
            }
            peers.push(peer);
        }
        let lookup = |r: &mut Reader<'_>| -> Result<PeerAddr, RestoreError> {
            let i = r.compact_size_raw()?;
            peers
                .get(i as usize)
                .cloned()
                .ok_or_else(|| RestoreError::Malformed(format!("address {i} of {}", peers.len())))
        };
        for b in 0..NEW_BUCKETS {
            for _ in 0..r.count(1, super::NEW_BUCKET_SIZE as u64)? {
                let p = lookup(&mut r)?;
                if m.new.entry(b).or_default().insert(p.clone()) {
                    let ka = m.known.get_mut(&p).expect("looked up");
                    ka.refs = ka.refs.saturating_add(1);
                }
            }
        }
        for b in 0..TRIED_BUCKETS {
            for _ in 0..r.count(1, super::TRIED_BUCKET_SIZE as u64)? {
                m.tried[b].push(lookup(&mut r)?);
            }
        }
        r.finish()?;
        m.check_invariants().map_err(RestoreError::Inconsistent)?;
        Ok(m)
    }
}
