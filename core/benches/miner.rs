//! Miner throughput: the SHA-256 compression limit, nonce search on one core and on all cores.
//!
//! A nonce costs two compressions, so `search` is compared with half the raw compression rate
//! measured in the same run. The machine is shared with other work, so each one-core figure is
//! the best of several short rounds, alternating between the measurements so that both see the
//! same conditions. Under `cargo test` (no `--bench` argument) one round of each runs, so the
//! code stays exercised without taking the test run's time.

use rbtcd_core::mining::{search, search_lanes, MiningJob};
use rbtcd_core::primitives::{BlockHeader, Hash256};
use sha2::digest::generic_array::GenericArray;
use std::hint::black_box;
use std::time::{Duration, Instant};

/// Length of one measuring round.
const ROUND: Duration = Duration::from_millis(250);
/// Rounds per one-core figure under `cargo bench` (the best is kept).
const ROUNDS: usize = 8;
/// Nonces per `search` call, as a miner thread's chunk.
const CHUNK: u32 = 1 << 16;
/// Blocks per `compress256` call when measuring the raw limit.
const BLOCKS_PER_CALL: usize = 1024;

/// Runs `step` (which does `units` units of work) repeatedly for one round; units/s.
fn rate(units: u64, mut step: impl FnMut()) -> f64 {
    step(); // warm up
    let start = Instant::now();
    let mut done = 0u64;
    while start.elapsed() < ROUND {
        step();
        done += units;
    }
    done as f64 / start.elapsed().as_secs_f64()
}

/// Compressions/s with `blocks_per_call` blocks chained per `compress256` call.
fn compressions_per_sec(blocks_per_call: usize) -> f64 {
    let blocks = vec![GenericArray::from([0x5au8; 64]); blocks_per_call];
    let mut state = [0u32; 8];
    let calls = BLOCKS_PER_CALL / blocks_per_call;
    let r = rate(BLOCKS_PER_CALL as u64, || {
        for _ in 0..calls {
            sha2::compress256(&mut state, black_box(&blocks));
        }
    });
    black_box(state);
    r
}

/// A job no nonce solves in practice (a recent mainnet difficulty), so every search scans its
/// whole chunk.
fn hard_job() -> MiningJob {
    let header = BlockHeader {
        version: 0x2000_0000,
        prev_blockhash: Hash256([0x11; 32]),
        merkle_root: Hash256([0x22; 32]),
        time: 1_700_000_000,
        bits: 0x1703_4219,
        nonce: 0,
    };
    MiningJob::new(0, &header).expect("valid bits")
}

/// Nonces/s of `find` over chunks `lane`, `lane + lanes`, ... of the nonce space.
fn nonces_per_sec(
    job: &MiningJob,
    lane: u32,
    lanes: u32,
    find: fn(&MiningJob, std::ops::RangeInclusive<u32>) -> Option<u32>,
) -> f64 {
    let mut chunk = lane;
    rate(u64::from(CHUNK), || {
        let first = (chunk % (u32::MAX / CHUNK)) * CHUNK;
        black_box(find(black_box(job), first..=first + (CHUNK - 1)));
        chunk += lanes;
    })
}

fn main() {
    let rounds = match std::env::args().any(|a| a == "--bench") {
        true => ROUNDS,
        false => 1,
    };
    let job = hard_job();
    let mut best = [0f64; 4];
    for _ in 0..rounds {
        let round = [
            compressions_per_sec(BLOCKS_PER_CALL),
            compressions_per_sec(1),
            nonces_per_sec(&job, 0, 1, search),
            nonces_per_sec(&job, 0, 1, search_lanes::<1>),
        ];
        for (b, r) in best.iter_mut().zip(round) {
            *b = b.max(r);
        }
    }
    let [compress, single_calls, one, one_lane] = best;
    println!("bench: sha256_compress_limit_1core: {compress:.0} compressions/s");
    println!("bench: sha256_compress_one_block_calls_1core: {single_calls:.0} compressions/s");
    println!("bench: miner_nonces_per_sec_1core: {one:.0} nonces/s");
    println!("bench: miner_nonces_per_sec_1core_no_interleave: {one_lane:.0} nonces/s");
    println!(
        "ratio: miner_vs_sha256_limit: {:.3}",
        one / (compress / 2.0)
    );

    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as u32;
    let all: f64 = std::thread::scope(|s| {
        let workers: Vec<_> = (0..cores)
            .map(|lane| {
                let job = &job;
                s.spawn(move || {
                    (0..rounds)
                        .map(|_| nonces_per_sec(job, lane, cores, search))
                        .sum::<f64>()
                        / rounds as f64
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().expect("worker")).sum()
    });
    println!("bench: miner_nonces_per_sec_{cores}cores: {all:.0} nonces/s");
}
