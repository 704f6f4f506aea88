//! Miner throughput against the SHA-256 compression ceiling of this CPU.
//!
//! The ceiling is what the miner's own kernel instructions do when nothing but independent
//! compressions is asked of them: 1, 2, 4 and 8 interleaved streams of full compressions, the
//! best taken (one stream is bound by the latency of the round instructions, more streams by
//! their throughput). A nonce costs two compressions, so the ratio is nonces/s x 2 / ceiling; it
//! can exceed 1 because the kernels skip the rounds that do not depend on the nonce.
//!
//! The machine is shared with other work, so each one-core figure is the best of several short
//! rounds, alternating between the measurements so that all see the same conditions; the
//! all-cores figure is the best round of every core searching at once. Under `cargo test` (no
//! `--bench` argument) one round of each runs, so the code stays exercised without taking the
//! test run's time.

use rbtcd_core::mining::{Kernel, MiningJob};
use rbtcd_core::primitives::{BlockHeader, Hash256};
use std::hint::black_box;
use std::sync::Barrier;
use std::time::{Duration, Instant};

/// Length of one measuring round.
const ROUND: Duration = Duration::from_millis(250);
/// Rounds per figure under `cargo bench` (the best is kept).
const ROUNDS: usize = 8;
/// Nonces per `search` call, as a miner thread's slice between checks for new work.
const SLICE: u32 = 1 << 13;
/// Compressions per `compress_streams` call, whatever the stream count.
const COMPRESSIONS_PER_CALL: u32 = 4096;
/// Stream counts the ceiling is measured with.
const STREAMS: [usize; 4] = [1, 2, 4, 8];

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

/// Compressions/s of `kernel`'s instructions on `streams` interleaved streams.
fn compressions_per_sec(kernel: Kernel, streams: usize) -> f64 {
    let count = COMPRESSIONS_PER_CALL / streams as u32;
    let units = kernel
        .compress_streams(streams, count)
        .expect("a supported stream count")
        .compressions;
    rate(units, || {
        black_box(kernel.compress_streams(black_box(streams), count));
    })
}

/// A job no nonce solves in practice (a recent mainnet difficulty), so every search scans its
/// whole slice.
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

/// Nonces/s of `kernel` over slices `lane`, `lane + lanes`, ... of the nonce space.
fn nonces_per_sec(kernel: Kernel, job: &MiningJob, lane: u32, lanes: u32) -> f64 {
    let mut slice = lane;
    rate(u64::from(SLICE), || {
        let first = (slice % (u32::MAX / SLICE)) * SLICE;
        black_box(kernel.search(black_box(job), first..=first + (SLICE - 1)));
        slice += lanes;
    })
}

/// Nonces/s of `kernel` with `cores` threads searching at once for one round.
fn nonces_per_sec_all(kernel: Kernel, job: &MiningJob, cores: u32) -> f64 {
    let start = Barrier::new(cores as usize);
    std::thread::scope(|s| {
        let workers: Vec<_> = (0..cores)
            .map(|lane| {
                let start = &start;
                s.spawn(move || {
                    start.wait();
                    nonces_per_sec(kernel, job, lane, cores)
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().expect("worker")).sum()
    })
}

/// A kernel's name as part of a figure's name.
fn figure_name(kernel: Kernel) -> String {
    kernel.to_string().replace(['-', ' '], "_")
}

fn main() {
    let rounds = match std::env::args().any(|a| a == "--bench") {
        true => ROUNDS,
        false => 1,
    };
    let job = hard_job();
    let miner = Kernel::detect();
    let kernels = Kernel::supported();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as u32;
    let mut ceiling = [0f64; STREAMS.len()];
    let mut one_core = vec![0f64; kernels.len()];
    let mut all_cores = 0f64;
    for _ in 0..rounds {
        for (best, streams) in ceiling.iter_mut().zip(STREAMS) {
            *best = best.max(compressions_per_sec(miner, streams));
        }
        for (best, kernel) in one_core.iter_mut().zip(&kernels) {
            *best = best.max(nonces_per_sec(*kernel, &job, 0, 1));
        }
        all_cores = all_cores.max(nonces_per_sec_all(miner, &job, cores));
    }
    let best_ceiling = ceiling.iter().copied().fold(0.0, f64::max);
    let one = one_core[kernels.iter().position(|k| *k == miner).expect("supported")];

    println!("bench: sha256_compress_ceiling_1core: {best_ceiling:.0} compressions/s");
    for (streams, c) in STREAMS.iter().zip(ceiling) {
        println!("bench: sha256_compress_1core_{streams}_streams: {c:.0} compressions/s");
    }
    println!("bench: miner_nonces_per_sec_1core: {one:.0} nonces/s");
    for (kernel, n) in kernels.iter().zip(&one_core) {
        let name = figure_name(*kernel);
        println!("bench: miner_nonces_per_sec_1core_{name}: {n:.0} nonces/s");
    }
    println!("bench: miner_nonces_per_sec_{cores}cores: {all_cores:.0} nonces/s");
    println!(
        "ratio: miner_vs_sha256_ceiling: {:.3}",
        one * 2.0 / best_ceiling
    );
    println!("ratio: miner_{cores}cores_vs_1core: {:.3}", all_cores / one);
}
