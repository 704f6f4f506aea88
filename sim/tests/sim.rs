//! The simulator in the normal test suite: 32 seeds of the mixed-fault scenario with 20 nodes,
//! every invariant checked, and replay determinism. Seeds are split over four tests so the
//! test harness runs them in parallel.

use rbtcd_sim::run::{run, Options};
use rbtcd_sim::scenario::{Fault, Kind};

/// Simulated hours of each run's fault phase (plus 35 quiet minutes): sized so the 32 seeds
/// take about a minute in the test profile on two cores.
const HOURS: f64 = 0.5;

fn mixed(seed: u64) -> Options {
    Options::new(seed, 20, HOURS, Kind::Mixed)
}

/// Seeds that once failed: honest nodes were left on different tips after the quiet period in
/// runs where adversaries sent blocks failing their context-free checks. The node kept such a
/// block's header at the head of its header chain and waited forever for data nobody honest
/// had (fixed in `chain::index`: such headers no longer lead). 5 and 13 are also in the sweep.
const ONCE_FAILING: [u64; 9] = [39, 1007, 1019, 1023, 1032, 1043, 1044, 1045, 1059];

// Seeds 18 and 32 of the sweep once failed too: honest nodes stayed on the old tip because an
// adversary's header at the next height (its block failing context-free checks, or never
// delivered) led their header chain, first seen among equal-work headers and, after a restart,
// no longer marked failed, while blocks were only downloaded along the best header chain, so
// the honest block at that height was never fetched. Fixed in the download plan
// (`node::sync::request_blocks`): as Core, a node also downloads toward a peer's best block
// when it has more work than the tip, and a header chain switch forgets the old branch's
// blocks.

/// The `part`th quarter of seeds 1..=32; fails listing each failing seed
/// with its replay command.
fn eight_seeds(part: usize) {
    let seeds: Vec<u64> = (1..=32).collect();
    sweep(&seeds[part * 8..part * 8 + 8]);
}

/// Runs the mixed scenario on each seed; fails listing each failing seed with its replay
/// command.
fn sweep(seeds: &[u64]) {
    let mut failures = Vec::new();
    for &seed in seeds {
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
fn mixed_faults_first_quarter_of_32_seeds() {
    eight_seeds(0);
}

#[test]
fn mixed_faults_second_quarter_of_32_seeds() {
    eight_seeds(1);
}

#[test]
fn mixed_faults_third_quarter_of_32_seeds() {
    eight_seeds(2);
}

#[test]
fn mixed_faults_fourth_quarter_of_32_seeds() {
    eight_seeds(3);
}

#[test]
fn seeds_that_once_failed_now_converge() {
    sweep(&ONCE_FAILING);
}

#[test]
fn a_seed_replays_to_the_same_digest_and_another_seed_differs() {
    let first = run(&mixed(1001));
    let again = run(&mixed(1001));
    let other = run(&mixed(1002));
    assert_eq!(first.digest, again.digest, "same seed, different trace");
    assert_eq!(first.height, again.height);
    assert_ne!(
        first.digest, other.digest,
        "the digest ignores what happened"
    );
}

/// Seeds the soak of 12-node, quarter-hour mixed runs found failing. 38 and 188 pass since
/// main's `ibd` and `hostile` work merged (undiagnosed: the fix is somewhere in that merge).
/// The others failed to converge after the quiet period because of one adversary block each
/// that broke a rule checked only once the block's height and parent are known (weight, BIP34
/// height, finality, witness commitment): the refused block left its header leading every
/// honest node's header chain, so the downloader waited for good for a block nobody had and
/// honest miners, whose downloads never finished, never announced their own blocks. The header
/// is now marked invalid (or, for a witness a relayer could have altered, stops leading).
const SMALL_NOW_PASSING: [u64; 8] = [38, 61, 142, 175, 188, 296, 310, 586];

/// Runs the 12-node, quarter-hour mixed scenario on each seed; fails listing the failures.
fn small_sweep(seeds: &[u64]) {
    let mut failures = Vec::new();
    for &seed in seeds {
        let options = Options::new(seed, 12, 0.25, Kind::Mixed);
        let report = run(&options);
        if !report.passed() {
            failures.push(format!("seed {seed}: {:?}", report.violations));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn small_soak_seeds_that_once_failed_converge() {
    small_sweep(&SMALL_NOW_PASSING);
}

/// Small-soak seeds on which, once adversaries came back under fresh addresses, an honest node
/// banned an honest peer: the peer had sent a valid block whose child, an attacker's block
/// stored before it, failed when the chain moved onto the pair, and the node blamed the
/// block it had just received (fixed in `Chain::accept_block`).
const SMALL_HONEST_BANNED: [u64; 3] = [109, 366, 745];

#[test]
fn small_soak_seeds_where_an_honest_peer_was_banned_now_pass() {
    small_sweep(&SMALL_HONEST_BANNED);
}

/// Small-soak seeds where a node went down between the controller's `invalidateblock` and its
/// `reconsiderblock` (a store fault failed the second): restarted, it rightly kept refusing the
/// block, so it stayed behind, banning a peer that offered its descendants. The controller now
/// reconsiders such a block after the restart, as an operator would.
const SMALL_LEFT_INVALIDATED: [u64; 5] = [3135, 3470, 5037, 5801, 5863];

#[test]
fn small_soak_seeds_where_a_block_stayed_invalidated_now_pass() {
    small_sweep(&SMALL_LEFT_INVALIDATED);
}

#[test]
fn adversaries_leaving_at_the_end_are_not_counted_as_crashes() {
    let mut options = Options::new(3, 8, 0.1, Kind::Adversarial);
    options.without = vec![Fault::Crashes];
    let report = run(&options);
    assert!(report.passed(), "{:?}", report.violations);
    assert!(report.honest < 8, "the scenario has adversaries");
    assert_eq!(report.stats.crashes, 0);
}
