//! The nonce search: two SHA-256 compressions per nonce.

use super::job::{MiningJob, ShaBlock, NONCE_OFFSET, SHA256_IV};
use std::ops::RangeInclusive;

/// The second hash's input block: a 32-byte digest followed by SHA-256 padding for 256 bits.
fn second_hash_block() -> ShaBlock {
    let mut b = [0u8; 64];
    b[32] = 0x80;
    b[56..].copy_from_slice(&(32u64 * 8).to_be_bytes());
    b.into()
}

/// Nonces hashed side by side. Consecutive compressions of one nonce depend on each other,
/// so one nonce at a time leaves the SHA units waiting on latency; interleaving independent
/// nonces lets the CPU overlap them (measured with `cargo bench --bench miner`).
const LANES: usize = 8;

/// The first nonce in `nonces`, in increasing order, whose header hash meets the job's target.
///
/// Per nonce this writes four bytes and runs two SHA-256 compressions: the header's second
/// block on top of the job's midstate, then the 32-byte digest with precomputed padding. Most
/// candidates are rejected by comparing the hash's top 32 bits with the target's.
pub fn search(job: &MiningJob, nonces: RangeInclusive<u32>) -> Option<u32> {
    search_lanes::<LANES>(job, nonces)
}

/// `search` with `N` nonces interleaved (the benchmark compares lane counts through this).
pub fn search_lanes<const N: usize>(job: &MiningJob, nonces: RangeInclusive<u32>) -> Option<u32> {
    let (first, last) = nonces.into_inner();
    let end = u64::from(last) + 1;
    let mut next = u64::from(first);
    let mut wide = Lanes::<N>::new(job);
    while end.saturating_sub(next) >= N as u64 {
        if let Some(nonce) = wide.first_solution(job, next as u32) {
            return Some(nonce);
        }
        next += N as u64;
    }
    let mut narrow = Lanes::<1>::new(job);
    (next..end).find_map(|n| narrow.first_solution(job, n as u32))
}

/// The input blocks of `N` nonces hashed together; only nonce bytes and digests change.
struct Lanes<const N: usize> {
    tails: [ShaBlock; N],
    digests: [ShaBlock; N],
}

impl<const N: usize> Lanes<N> {
    fn new(job: &MiningJob) -> Self {
        Lanes {
            tails: [job.tail; N],
            digests: [second_hash_block(); N],
        }
    }

    /// The first of the nonces `first..first + N` that solves the job.
    #[inline(always)]
    fn first_solution(&mut self, job: &MiningJob, first: u32) -> Option<u32> {
        let mut states = [job.midstate; N];
        for (k, (state, tail)) in states.iter_mut().zip(&mut self.tails).enumerate() {
            let nonce = first.wrapping_add(k as u32);
            tail[NONCE_OFFSET..NONCE_OFFSET + 4].copy_from_slice(&nonce.to_le_bytes());
            sha2::compress256(state, std::slice::from_ref(tail));
        }
        let mut hashes = [SHA256_IV; N];
        for ((hash, state), digest) in hashes.iter_mut().zip(&states).zip(&mut self.digests) {
            for (chunk, word) in digest[..32].chunks_exact_mut(4).zip(state) {
                chunk.copy_from_slice(&word.to_be_bytes());
            }
            sha2::compress256(hash, std::slice::from_ref(digest));
        }
        // The hash read as a little-endian number has its top 32 bits in the last state
        // word, byte-swapped.
        hashes
            .iter()
            .position(|h| h[7].swap_bytes() <= job.target_top && meets(job, h))
            .map(|k| first.wrapping_add(k as u32))
    }
}

/// The full comparison, for the rare hash whose top word does not already decide.
#[cold]
fn meets(job: &MiningJob, state: &[u32; 8]) -> bool {
    let mut hash = [0u8; 32];
    for (chunk, word) in hash.chunks_exact_mut(4).zip(state) {
        chunk.copy_from_slice(&word.to_be_bytes());
    }
    job.hash_meets_target(&hash)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params::{Network, Params};
    use crate::primitives::BlockHeader;

    #[test]
    fn finds_the_genesis_nonces() {
        for network in Network::ALL {
            let params = Params::new(network);
            let header = params.genesis.header;
            let job = MiningJob::new(0, &header).unwrap();
            let n = header.nonce;
            let found = search(&job, n.saturating_sub(300)..=n.saturating_add(300));
            // Easy networks may have an earlier solution; whatever is found must be valid.
            let nonce = found.expect("the range holds the genesis nonce");
            assert!(nonce <= n, "{network}: search skipped the genesis nonce");
            assert!(job
                .solved_header(nonce)
                .check_proof_of_work(&params.pow_limit));
        }
    }

    #[test]
    fn empty_and_single_ranges() {
        let header = Params::new(Network::Mainnet).genesis.header;
        let job = MiningJob::new(0, &header).unwrap();
        let n = header.nonce;
        assert_eq!(search(&job, n..=n), Some(n));
        assert_eq!(search(&job, n + 1..=n), None);
        assert_eq!(search(&job, n + 1..=n + 1), None);
    }

    #[test]
    fn the_last_nonce_is_searched() {
        // With the easiest possible target every hash meets it, so the first nonce is found,
        // including u32::MAX at the very end of the space.
        let header = BlockHeader {
            bits: 0x2100_ffff,
            ..Default::default()
        };
        let job = MiningJob::new(0, &header).unwrap();
        assert_eq!(search(&job, u32::MAX..=u32::MAX), Some(u32::MAX));
    }

    #[test]
    fn every_regtest_solution_is_valid_and_none_is_skipped() {
        // Regtest's target passes about one hash in two, so both outcomes are exercised.
        let params = Params::new(Network::Regtest);
        let job = MiningJob::new(0, &params.genesis.header).unwrap();
        let mut start = 0u32;
        for _ in 0..50 {
            let nonce = search(&job, start..=start + 1000).unwrap();
            for skipped in start..nonce {
                assert!(!job
                    .solved_header(skipped)
                    .check_proof_of_work(&params.pow_limit));
            }
            assert!(job
                .solved_header(nonce)
                .check_proof_of_work(&params.pow_limit));
            start = nonce + 1;
        }
    }

    #[test]
    fn every_lane_count_finds_the_same_first_nonce() {
        let job = MiningJob::new(0, &Params::new(Network::Regtest).genesis.header).unwrap();
        let max = u32::MAX;
        for range in [
            0..=0,
            0..=6,
            5..=17,
            RangeInclusive::new(100, 99),
            max - 9..=max,
            max..=max,
        ] {
            let expected = search_lanes::<1>(&job, range.clone());
            assert_eq!(search_lanes::<2>(&job, range.clone()), expected);
            assert_eq!(search_lanes::<3>(&job, range.clone()), expected);
            assert_eq!(search_lanes::<8>(&job, range.clone()), expected);
            assert_eq!(search(&job, range.clone()), expected, "{range:?}");
        }
    }
}
