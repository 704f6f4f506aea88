//! Every kernel this CPU runs, checked against `sha2` over whole headers.

use super::*;
use crate::mining::ExtraNonceRoll;
use crate::params::{Network, Params};
use crate::primitives::hash::sha256d;
use crate::primitives::{BlockHeader, Hash256, U256};
use proptest::prelude::*;

/// A header's hash with `nonce`, as `sha256d` of its 80 bytes: nothing shared with the kernels.
fn reference_hash(job: &MiningJob, nonce: u32) -> [u8; 32] {
    sha256d(&job.solved_header(nonce).to_bytes())
}

/// The last state word of the hash, as the kernels report it.
fn reference_top(job: &MiningJob, nonce: u32) -> u32 {
    let hash = reference_hash(job, nonce);
    u32::from_be_bytes(hash[28..].try_into().unwrap())
}

/// The first solution in `nonces`, trying each in turn.
fn reference_search(job: &MiningJob, nonces: RangeInclusive<u32>) -> Option<u32> {
    nonces
        .into_iter()
        .find(|&n| job.hash_meets_target(&reference_hash(job, n)))
}

fn header(seed: u8, bits: u32) -> BlockHeader {
    BlockHeader {
        version: 0x2000_0000 | i32::from(seed),
        prev_blockhash: Hash256([seed; 32]),
        merkle_root: Hash256([seed.wrapping_mul(7); 32]),
        time: 1_700_000_000 + u32::from(seed),
        bits,
        nonce: 0,
    }
}

/// A job for `header` with other `bits`.
fn with_bits(header: &BlockHeader, bits: u32) -> MiningJob {
    MiningJob::new(0, &BlockHeader { bits, ..*header }).unwrap()
}

/// Checks every kernel's batch from `first` against the reference.
fn check_top_words(job: &MiningJob, first: u32) {
    for kernel in Kernel::supported() {
        let first = first.min(u32::MAX - (kernel.lanes() as u32 - 1));
        let expected: Vec<u32> = (0..kernel.lanes() as u32)
            .map(|lane| reference_top(job, first + lane))
            .collect();
        assert_eq!(
            kernel.top_words(job, first),
            expected,
            "{kernel} from nonce {first}"
        );
    }
}

/// Checks every kernel's search of `nonces` against the reference.
fn check_search(job: &MiningJob, nonces: RangeInclusive<u32>) {
    let expected = reference_search(job, nonces.clone());
    for kernel in Kernel::supported() {
        assert_eq!(
            kernel.search(job, nonces.clone()),
            expected,
            "{kernel} over {nonces:?}"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn every_kernel_hashes_random_headers_as_sha2(
        version: i32,
        prev: [u8; 32],
        root: [u8; 32],
        time: u32,
        first: u32,
    ) {
        let header = BlockHeader {
            version,
            prev_blockhash: Hash256(prev),
            merkle_root: Hash256(root),
            time,
            bits: 0x1d00_ffff,
            nonce: 0,
        };
        let job = MiningJob::new(0, &header).unwrap();
        check_top_words(&job, first);
        // Targets of about one hash in sixteen: solutions and misses in one short range.
        let easy = with_bits(&header, 0x200f_ffff);
        let first = first.min(u32::MAX - 40);
        check_search(&easy, first..=first + 40);
    }
}

#[test]
fn every_kernel_covers_the_nonce_space_edges_and_extra_nonce_rolls() {
    let job = MiningJob::new(0, &header(3, 0x1d00_ffff)).unwrap();
    let mut roll = ExtraNonceRoll::new(job, vec![Hash256([4; 32])], u64::MAX);
    // Extra nonces u64::MAX, then 0 and 1 after the wrap.
    for _ in 0..3 {
        let job = roll.next_job(|en| Hash256::sha256d(&en.to_le_bytes()));
        for first in [0, 1, u32::MAX / 2, u32::MAX - 8, u32::MAX] {
            check_top_words(&job, first);
        }
        // Each job is searched to the end of its space and the next from its start, as the
        // miner walks them; regtest's target passes about one hash in two.
        let easy = with_bits(job.header(), 0x207f_ffff);
        for range in [0..=0, 0..=20, u32::MAX - 20..=u32::MAX, u32::MAX..=u32::MAX] {
            check_search(&easy, range);
        }
        check_search(&job, u32::MAX - 300..=u32::MAX);
        check_search(&job, 0..=300);
    }
}

#[test]
fn a_candidate_is_checked_below_its_top_word() {
    // A target equal to the lowest hash in a range: its nonce solves it, while with the target
    // one less that hash's top 32 bits still pass and only the full comparison turns it down.
    let mut job = MiningJob::new(0, &header(9, 0x1d00_ffff)).unwrap();
    let range = 1000..=1100;
    let (lowest, nonce) = range
        .clone()
        .map(|n| (U256::from_le_bytes(reference_hash(&job, n)), n))
        .min()
        .unwrap();
    for (target, expected) in [(lowest, Some(nonce)), (lowest - U256::ONE, None)] {
        job.target = target;
        job.target_top = (target.0[3] >> 32) as u32;
        assert_eq!(reference_search(&job, range.clone()), expected);
        check_search(&job, range.clone());
    }
}

#[test]
fn empty_ranges_and_ranges_shorter_than_a_batch() {
    let job = MiningJob::new(0, &Params::new(Network::Regtest).genesis.header).unwrap();
    for range in [
        RangeInclusive::new(100, 99),
        RangeInclusive::new(u32::MAX, 0),
        0..=6,
        5..=17,
        u32::MAX - 9..=u32::MAX,
    ] {
        check_search(&job, range);
    }
}

#[test]
fn every_kernel_compresses_its_streams_as_sha2() {
    for count in [1, 3] {
        for streams in [1, 2, 4, 8] {
            let expected = Kernel::PORTABLE.compress_streams(streams, count).unwrap();
            assert_eq!(expected.compressions, (streams as u64) * u64::from(count));
            for kernel in Kernel::supported() {
                let run = kernel.compress_streams(streams, count).unwrap();
                assert_eq!(run.fold, expected.fold, "{kernel}, {streams} streams");
                assert_eq!(run.compressions % expected.compressions, 0);
            }
        }
    }
    assert_eq!(Kernel::detect().compress_streams(3, 1), None);
}

#[test]
fn the_detected_kernel_is_supported_and_named() {
    let kernel = Kernel::detect();
    assert!(Kernel::supported().contains(&kernel));
    assert_eq!(Kernel::PORTABLE.to_string(), "portable x8");
    let names: Vec<String> = Kernel::supported().iter().map(|k| k.to_string()).collect();
    #[cfg(target_arch = "x86_64")]
    for (found, name) in [
        (std::arch::is_x86_feature_detected!("sha"), "sha-ni x2"),
        (std::arch::is_x86_feature_detected!("avx2"), "avx2 x8"),
    ] {
        assert_eq!(names.contains(&name.to_string()), found, "{names:?}");
    }
}
