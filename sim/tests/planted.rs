//! The planted-bug check: built with `--features planted-bug-merkle`, the core accepts blocks
//! whose merkle root does not match their transactions, and the simulator must report a failing
//! seed (an honest node connecting an adversary's invalid block). Without the feature this file
//! is empty. Run: `cargo test -p rbtcd-sim --features planted-bug-merkle --test planted`.

#![cfg(feature = "planted-bug-merkle")]

use rbtcd_sim::run::{run, Options};
use rbtcd_sim::scenario::Kind;

#[test]
fn the_simulator_finds_the_planted_merkle_bug() {
    let found = (1..=10).find_map(|seed| {
        let options = Options::new(seed, 12, 1.0, Kind::Adversarial);
        let report = run(&options);
        report
            .violations
            .iter()
            .any(|v| v.contains("invalid block"))
            .then(|| (options.replay_command(), report.violations))
    });
    let (replay, violations) = found.expect("no seed exposed the planted bug");
    println!("planted bug found: {violations:?}\nreplay: {replay}");
}
