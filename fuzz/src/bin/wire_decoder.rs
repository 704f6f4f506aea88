//! Seeded driver of the wire decoder's case ([`rbtcd_fuzz::wire_case`]): generated inputs of
//! one to four frames, checked whole and in random chunks.
//!
//! Usage: `wire_decoder <seed> <seconds>`; prints `executions=N panics=P elapsed=...`.
//! Inputs that panic are written to `fuzz/crashes/`.

use rbtcd_core::params::{Network, Params};
use rbtcd_fuzz::wire_case::{check, input, seed_frames};
use rbtcd_fuzz::{Rng, Source};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::{Duration, Instant};

fn main() {
    let (seed, secs) = rbtcd_fuzz::seed_and_seconds("wire_decoder");
    let params = Params::new(Network::Mainnet);
    let frames = seed_frames(&params);
    rbtcd_fuzz::print_first_panic_only();
    let mut rng = Rng::new(seed);
    let start = Instant::now();
    let limit = Duration::from_secs(secs);
    let (mut executions, mut panics, mut errors) = (0u64, 0u64, 0u64);
    while start.elapsed() < limit {
        for _ in 0..256 {
            let data = input(&mut rng, params.magic, &frames);
            let mut case_rng = Rng::new(rng.next_u64());
            let result = catch_unwind(AssertUnwindSafe(|| {
                check(&mut case_rng, params.magic, &data)
            }));
            executions += 1;
            if let Ok(n) = result {
                errors += n as u64;
            } else {
                panics += 1;
                let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/crashes");
                let _ = std::fs::create_dir_all(dir);
                let path = format!("{dir}/wire_decoder-{seed}-{executions}.bin");
                if std::fs::write(&path, &data).is_ok() {
                    eprintln!("saved crashing input to {path}");
                }
            }
        }
    }
    println!(
        "executions={executions} panics={panics} elapsed={:.1}s seed={seed} decode_errors={errors}",
        start.elapsed().as_secs_f64()
    );
    if panics > 0 {
        std::process::exit(1);
    }
}
