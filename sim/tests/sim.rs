//! The simulator in the normal test suite: 32 seeds of the mixed-fault scenario with 20 nodes,
//! every invariant checked, and replay determinism. Seeds are split over four tests so the
//! test harness runs them in parallel.

use rbtcd_sim::run::{run, Options};
use rbtcd_sim::scenario::Kind;

/// Simulated hours of each run's fault phase (plus 35 quiet minutes): sized so the 32 seeds
/// take about a minute in the test profile on two cores.
const HOURS: f64 = 0.5;

fn mixed(seed: u64) -> Options {
    Options {
        seed,
        nodes: 20,
        hours: HOURS,
        kind: Kind::Mixed,
    }
}

/// Runs seeds `from..from + 8`; fails listing each failing seed with its replay command.
fn eight_seeds(from: u64) {
    let mut failures = Vec::new();
    for seed in from..from + 8 {
        let options = mixed(seed);
        let report = run(&options);
        assert!(report.stats.mined > 0, "seed {seed}: no block was mined");
        if !report.passed() {
            failures.push(format!(
                "seed {seed}: {:?}\n  replay: {}",
                report.violations,
                options.replay_command()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn mixed_faults_seeds_1_to_8() {
    eight_seeds(1);
}

#[test]
fn mixed_faults_seeds_9_to_16() {
    eight_seeds(9);
}

#[test]
fn mixed_faults_seeds_17_to_24() {
    eight_seeds(17);
}

#[test]
fn mixed_faults_seeds_25_to_32() {
    eight_seeds(25);
}

#[test]
fn a_seed_replays_to_the_same_digest_and_another_seed_differs() {
    let first = run(&mixed(1001));
    let again = run(&mixed(1001));
    let other = run(&mixed(1002));
    assert_eq!(first.digest, again.digest, "same seed, different trace");
    assert_eq!(first.height, again.height);
    assert_ne!(first.digest, other.digest, "the digest ignores what happened");
}
