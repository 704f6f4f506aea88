//! A signature-heavy regtest chain synced from Bitcoin Knots, rbtcd beside a second Knots in
//! one run (issue 13). The bench builds the chain itself ([`signed_chain`]): 50 blocks of
//! 1,500 signed transactions, 131,250 signed inputs. Knots A takes it by `submitblock`; Knots B,
//! then rbtcd, then rbtcd again with a 16 MiB UTXO cache, each on a fresh datadir, sync it from
//! Knots A and are timed from their process start (start-up included). Printed: each sync's
//! time, CPU time (user + system, all threads) and peak resident memory, the ratio, the load,
//! and how often each rbtcd connected to Knots A (1 unless it dropped its only peer).
//!
//! `cargo bench -p rbtcd --bench sync_signed`; under `cargo test` (no `--bench` argument) a
//! short pass of 3 blocks of 30 transactions.

#[path = "../tests/common/mod.rs"]
mod e2e;
mod signed_chain;
// Shared with the script benches, whose libsecp256k1 baseline this bench does not use.
#[allow(dead_code)]
#[path = "../../core/benches/signing/mod.rs"]
mod signing;

use e2e::foreign::{cpu_time, loadavg, peak_rss_kb, synced};
use e2e::knots::Knots;
use e2e::log_text;
use e2e::rpc::Daemon;
use rbtcd_core::params::{Network, Params};
use rbtcd_core::primitives::hash::hex_encode;
use rbtcd_core::primitives::Encodable;
use serde_json::json;
use signed_chain::{build_chain, shape};
use std::time::{Duration, Instant};

/// One node's sync: wall time from its process start, CPU time and peak memory at the end.
struct Sync {
    wall: Duration,
    cpu: Duration,
    peak_rss_mb: f64,
}

impl Sync {
    /// Measures the node `pid` started at `start` once `tip` returns `target`.
    fn measure(start: Instant, pid: u32, target: &str, tip: impl Fn() -> String) -> Sync {
        let wall = synced(start, target, tip);
        Sync {
            wall,
            cpu: cpu_time(pid),
            peak_rss_mb: peak_rss_kb(pid) as f64 / 1024.0,
        }
    }

    /// Prints the `bench:` lines of the sync by `who`.
    fn print(&self, who: &str) {
        println!("bench: sync_signed_{who}: {:.2} s", self.wall.as_secs_f64());
        println!(
            "bench: sync_signed_{who}_cpu: {:.2} s",
            self.cpu.as_secs_f64()
        );
        println!(
            "bench: sync_signed_{who}_peak_rss: {:.1} MB",
            self.peak_rss_mb
        );
    }
}

/// rbtcd started with `extra` arguments syncing from `source` until its tip is `target`, and
/// how many times it connected to its only peer (more than once: it dropped the peer, as for
/// a stall, and redialled).
fn sync_rbtcd(name: &str, source: &Knots, target: &str, extra: &[&str]) -> (Sync, usize) {
    let start = Instant::now();
    let connect = format!("--connect={}", source.p2p);
    let args: Vec<&str> = [connect.as_str()]
        .into_iter()
        .chain(extra.iter().copied())
        .collect();
    let rbtcd = Daemon::start(name, &args);
    let sync = Sync::measure(start, rbtcd.child.id(), target, || {
        rbtcd
            .ok("getbestblockhash", json!([]))
            .as_str()
            .unwrap()
            .to_string()
    });
    let connections = log_text(&rbtcd.home).matches("New valid peer").count();
    (sync, connections)
}

fn main() {
    let (txs, signed_blocks) = shape();
    let params = Params::new(Network::Regtest);
    let built = Instant::now();
    let (chain, signed_inputs) = build_chain(&params, txs, signed_blocks);
    let built = built.elapsed();
    let target = chain.last().expect("blocks").block_hash().to_string();

    // The chain's timestamps start at genesis (2011): a tip that old keeps Knots in initial
    // block download, where it answers no peer's getheaders.
    let no_ibd = "maxtipage=2000000000";
    let source = Knots::start("bench-signed-source", &[no_ibd]);
    for block in &chain {
        let hex = hex_encode(&block.encode());
        assert_eq!(
            source.ok("submitblock", json!([hex])),
            json!(null),
            "Knots rejected block {}",
            block.block_hash()
        );
    }
    assert_eq!(source.tip(), target, "Knots A took every block");
    println!(
        "chain: {} blocks, {signed_blocks} of {txs} transactions, {signed_inputs} signed \
         inputs, built in {:.1} s",
        chain.len(),
        built.as_secs_f64()
    );

    let start = Instant::now();
    let follower = Knots::start(
        "bench-signed-follower",
        &[no_ibd, &format!("connect={}", source.p2p)],
    );
    let knots = Sync::measure(start, follower.pid(), &target, || follower.tip());
    drop(follower);
    let (rbtcd, connections) = sync_rbtcd("bench-signed", &source, &target, &[]);
    let (small, small_connections) = sync_rbtcd(
        "bench-signed-cache16",
        &source,
        &target,
        &["--utxocachemaxsize=16"],
    );

    knots.print("knots");
    rbtcd.print("rbtcd");
    println!(
        "ratio: sync_signed_rbtcd_over_knots: {:.3}",
        knots.wall.as_secs_f64() / rbtcd.wall.as_secs_f64()
    );
    println!("bench: sync_signed_rbtcd_peer_connections: {connections}");
    small.print("rbtcd_utxocache16");
    println!("bench: sync_signed_rbtcd_utxocache16_peer_connections: {small_connections}");
    println!("bench: loadavg_1min: {}", loadavg());
}
