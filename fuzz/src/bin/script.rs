//! Seeded driver of the script interpreter's case ([`rbtcd_fuzz::script_case`]): mutants that
//! still verify join the pool mutated from; panics, slow executions and (with the
//! `bitcoinconsensus` feature) verdicts that differ from Bitcoin Core's are reported.
//!
//! Usage: `script [SECONDS] [SEED]` (defaults: 60 seconds, seed from the clock).

use rbtcd_core::script::TxVerifier;
use rbtcd_fuzz::script_case::{core_verdict, describe, load_corpus, mutate, random_flags};
use rbtcd_fuzz::{Rng, Source};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

fn main() {
    let mut args = std::env::args().skip(1);
    let seconds: u64 = args.next().map_or(60, |s| s.parse().expect("SECONDS"));
    let seed: u64 = args.next().map_or_else(
        || {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .expect("clock")
                .as_nanos() as u64
        },
        |s| s.parse().expect("SEED"),
    );
    let corpus = load_corpus();
    let mut rng = Rng::new(seed);
    let compare = cfg!(feature = "bitcoinconsensus");
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let (mut execs, mut panics, mut valid, mut compared, mut mismatches) =
        (0u64, 0u64, 0u64, 0u64, 0u64);
    let mut slowest = Duration::ZERO;
    let mut slowest_case = String::new();
    // Keep going from interesting mutants: a mutant that still verifies replaces its parent.
    let mut pool = corpus.clone();
    // Panics are counted and reported here, not printed by the default hook per occurrence.
    std::panic::set_hook(Box::new(|_| {}));
    while Instant::now() < deadline {
        let parent = rng.below(pool.len());
        let mut case = pool[parent].clone();
        for _ in 0..1 + rng.below(4) {
            mutate(&mut rng, &mut case);
        }
        let consensus_only = compare && rng.one_in(2);
        let flags = random_flags(&mut rng, consensus_only);
        let started = Instant::now();
        let verdict = catch_unwind(AssertUnwindSafe(|| {
            TxVerifier::new(&case.tx, &case.spent).verify_input(case.index, flags)
        }));
        let took = started.elapsed();
        if took > slowest {
            slowest = took;
            slowest_case = describe(&case, flags);
        }
        execs += 1;
        match verdict {
            Err(_) => {
                panics += 1;
                eprintln!("PANIC: {}", describe(&case, flags));
            }
            Ok(result) => {
                if result.is_ok() {
                    valid += 1;
                    if rng.one_in(8) {
                        pool.push(case.clone());
                    }
                }
                if let Some(core) = consensus_only.then(|| core_verdict(&case, flags)).flatten() {
                    compared += 1;
                    if core != result.is_ok() {
                        mismatches += 1;
                        eprintln!("MISMATCH ours {result:?}: {}", describe(&case, flags));
                    }
                }
            }
        }
    }
    let reference = if compare {
        format!("{mismatches} verdict mismatches vs libbitcoinconsensus in {compared} compared")
    } else {
        "no reference (build with --features bitcoinconsensus to compare)".to_string()
    };
    println!(
        "script fuzz: seed {seed}, {execs} execs in {seconds}s ({}/s) from {} corpus spends, {valid} valid, {panics} panics, {reference}, slowest exec {:.1} ms",
        execs / seconds.max(1),
        corpus.len(),
        slowest.as_secs_f64() * 1e3
    );
    eprintln!("slowest: {slowest_case}");
    if panics > 0 || mismatches > 0 {
        std::process::exit(1);
    }
}
