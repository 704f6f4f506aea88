//! rbtcd beside Bitcoin Knots on regtest, measured in one run: the time to sync 2,000 blocks
//! from a Knots node (rbtcd versus a second Knots, each timed from its process start, so
//! start-up is included) and their ratio, a second rbtcd syncing the same chain from the first,
//! the machine's load while it ran and the resident memory of each afterwards (RPC throughput
//! beside Knots is the `rpc` bench's).
//! Knots is installed on first use by the project's `get-knots.sh`, as for the interop tests.
//!
//! `cargo bench -p rbtcd --bench interop`; under `cargo test` (no `--bench` argument) a short
//! smoke pass of 50 blocks.

#[path = "../tests/common/mod.rs"]
mod e2e;

use e2e::foreign::synced;
use e2e::knots::Knots;
use e2e::rpc::Daemon;
use serde_json::json;
use std::time::Instant;

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let blocks = match full {
        true => 2_000,
        false => 50,
    };
    let source = Knots::start("bench-source", &[]);
    let mut mined = 0;
    while mined < blocks {
        let n = (blocks - mined).min(500);
        source.mine(n);
        mined += n;
    }
    let target = source.tip();

    let start = Instant::now();
    let rbtcd = Daemon::start("bench-interop", &[&format!("--connect={}", source.p2p)]);
    let rbtcd_sync = synced(start, &target, || {
        rbtcd
            .ok("getbestblockhash", json!([]))
            .as_str()
            .unwrap()
            .to_string()
    });
    let start = Instant::now();
    let follower = Knots::start("bench-follower", &[&format!("connect={}", source.p2p)]);
    let knots_sync = synced(start, &target, || follower.tip());
    drop(source);
    let start = Instant::now();
    let second = Daemon::start(
        "bench-interop-second",
        &[&format!("--connect={}", rbtcd.p2p)],
    );
    let rbtcd_from_rbtcd = synced(start, &target, || {
        second
            .ok("getbestblockhash", json!([]))
            .as_str()
            .unwrap()
            .to_string()
    });
    drop(second);

    println!(
        "bench: sync_{blocks}_blocks_from_knots_rbtcd: {:.2} s",
        rbtcd_sync.as_secs_f64()
    );
    println!(
        "bench: sync_{blocks}_blocks_from_knots_knots: {:.2} s",
        knots_sync.as_secs_f64()
    );
    println!(
        "ratio: sync_knots_over_rbtcd: {:.3}",
        knots_sync.as_secs_f64() / rbtcd_sync.as_secs_f64()
    );
    println!(
        "bench: sync_{blocks}_blocks_from_rbtcd_rbtcd: {:.2} s",
        rbtcd_from_rbtcd.as_secs_f64()
    );
    println!("bench: loadavg_1min: {}", e2e::foreign::loadavg());
    let rss = |kb: u64| kb as f64 / 1024.0;
    println!(
        "bench: rss_after_sync_rbtcd: {:.1} MB",
        rss(e2e::foreign::rss_kb(rbtcd.child.id()))
    );
    println!(
        "bench: rss_after_sync_knots: {:.1} MB",
        rss(follower.rss_kb())
    );
}
