//! A mining job: a header prepared for fast nonce search.

use crate::primitives::{BlockHeader, Hash256, U256};
use sha2::digest::consts::U64;
use sha2::digest::generic_array::GenericArray;
use std::fmt;

/// One 64-byte SHA-256 input block, in the form `sha2::compress256` takes.
pub(super) type ShaBlock = GenericArray<u8, U64>;

/// SHA-256's initial state.
pub(super) const SHA256_IV: [u32; 8] = [
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
];

/// Offset of the nonce inside the second header block (header bytes 76..80).
pub(super) const NONCE_OFFSET: usize = 12;
/// Offset of the time inside the second header block (header bytes 68..72).
const TIME_OFFSET: usize = 4;

/// A header's bits do not encode a usable target (negative, zero or overflowing).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InvalidTarget {
    /// The offending compact bits.
    pub bits: u32,
}

impl fmt::Display for InvalidTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "bits {:#010x} encode no valid target (negative, zero or overflowing); \
             the template's difficulty calculation is wrong",
            self.bits
        )
    }
}

impl std::error::Error for InvalidTarget {}

/// A block header prepared for nonce search.
///
/// The header is 80 bytes, so its first SHA-256 pass takes two blocks. The first block (version,
/// previous hash, 28 bytes of the merkle root) does not depend on the nonce: its compression,
/// the midstate, is done once here. The second block (the merkle root's last 4 bytes, time,
/// bits, nonce and SHA-256 padding) is kept ready so a search only writes the nonce into it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MiningJob {
    /// Identifies the job to whoever made it (a template id, a generation); search ignores it.
    pub id: u64,
    header: BlockHeader,
    pub(super) midstate: [u32; 8],
    pub(super) tail: ShaBlock,
    pub(super) target: U256,
    /// The target's most significant 32 bits, checked first so most hashes are rejected by
    /// one comparison.
    pub(super) target_top: u32,
}

impl MiningJob {
    /// Prepares `header` (its nonce is ignored) for search, to meet the target its bits encode.
    pub fn new(id: u64, header: &BlockHeader) -> Result<MiningJob, InvalidTarget> {
        let target = header.target().ok_or(InvalidTarget { bits: header.bits })?;
        let bytes = header.to_bytes();
        let mut midstate = SHA256_IV;
        sha2::compress256(&mut midstate, &[ShaBlock::clone_from_slice(&bytes[..64])]);
        let mut tail = [0u8; 64];
        tail[..16].copy_from_slice(&bytes[64..]);
        tail[16] = 0x80;
        tail[56..].copy_from_slice(&(80u64 * 8).to_be_bytes());
        Ok(MiningJob {
            id,
            header: *header,
            midstate,
            tail: tail.into(),
            target,
            target_top: (target.0[3] >> 32) as u32,
        })
    }

    /// The header this job searches over (its nonce as given when the job was made).
    pub fn header(&self) -> &BlockHeader {
        &self.header
    }

    /// The target a hash must not exceed.
    pub fn target(&self) -> &U256 {
        &self.target
    }

    /// The header with `nonce` filled in: what to submit once `search` found it.
    pub fn solved_header(&self, nonce: u32) -> BlockHeader {
        BlockHeader {
            nonce,
            ..self.header
        }
    }

    /// The same job with another timestamp. Time lives in the second block, so the midstate is
    /// reused; rolling time is how workers get fresh nonce space without a new template.
    pub fn with_time(&self, time: u32) -> MiningJob {
        let mut job = self.clone();
        job.header.time = time;
        job.tail[TIME_OFFSET..TIME_OFFSET + 4].copy_from_slice(&time.to_le_bytes());
        job
    }

    /// The same job with another merkle root (a coinbase with a new extra nonce); the midstate
    /// is recomputed because 28 of the root's bytes are in the first block.
    pub fn with_merkle_root(&self, merkle_root: Hash256) -> MiningJob {
        let header = BlockHeader {
            merkle_root,
            ..self.header
        };
        MiningJob::new(self.id, &header).expect("the target was valid when the job was made")
    }

    /// True when `hash` (a block hash in serialization order) meets the job's target.
    pub fn hash_meets_target(&self, hash: &[u8; 32]) -> bool {
        U256::from_le_bytes(*hash) <= self.target
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params::{Network, Params};

    #[test]
    fn midstate_and_tail_hash_to_the_block_hash() {
        let header = Params::new(Network::Mainnet).genesis.header;
        let job = MiningJob::new(7, &header).unwrap();
        let mut state = job.midstate;
        let mut tail = job.tail;
        tail[NONCE_OFFSET..NONCE_OFFSET + 4].copy_from_slice(&header.nonce.to_le_bytes());
        sha2::compress256(&mut state, &[tail]);
        let first: Vec<u8> = state.iter().flat_map(|w| w.to_be_bytes()).collect();
        assert_eq!(first, crate::primitives::hash::sha256(&header.to_bytes()));
        assert_eq!(job.solved_header(header.nonce), header);
        assert_eq!(job.id, 7);
    }

    #[test]
    fn rolled_time_and_root_match_a_fresh_job() {
        let header = Params::new(Network::Regtest).genesis.header;
        let job = MiningJob::new(1, &header).unwrap();
        let later = BlockHeader {
            time: header.time + 60,
            ..header
        };
        assert_eq!(
            job.with_time(later.time),
            MiningJob::new(1, &later).unwrap()
        );
        let other_root = BlockHeader {
            merkle_root: Hash256([9; 32]),
            ..header
        };
        assert_eq!(
            job.with_merkle_root(other_root.merkle_root),
            MiningJob::new(1, &other_root).unwrap()
        );
    }

    #[test]
    fn unusable_bits_are_rejected() {
        for bits in [0, 0x0180_0001, 0xff12_3456] {
            let header = BlockHeader {
                bits,
                ..Default::default()
            };
            assert_eq!(MiningJob::new(0, &header), Err(InvalidTarget { bits }));
        }
    }
}
