//! The UTXO cache's budget under a UTXO set far larger than it (issue 13): rbtcd syncs from
//! Bitcoin Knots a chain whose blocks each split an old coinbase into thousands of coins
//! (`spending_chain`: 500,000 coins at the tip, some 60 MiB of cache), once with
//! `--utxocachemaxsize=16` and once with the default budget, each on a fresh datadir.
//! Printed for each: the budget, the cache's own peak accounted size and how many flushes it
//! made (from the lines the node logs at each flush, the last one at shutdown), the process's
//! peak resident memory at the tip with what it is made of then (anonymous memory, and file
//! pages such as the LMDB map that flushes write through), and the sync time from process
//! start.
//!
//! `cargo bench -p rbtcd --bench utxo_cache`; under `cargo test` (no `--bench` argument) a
//! short pass of a small chain.

#[path = "../tests/common/mod.rs"]
mod e2e;

use e2e::foreign::{loadavg, peak_rss_kb, status_kb, synced};
use e2e::knots::Knots;
use e2e::log_text;
use e2e::rpc::Daemon;
use rbtcd_core::chain::builder::spending_chain;
use rbtcd_core::chain::coins::DEFAULT_CACHE_MIB;
use rbtcd_core::params::{Network, Params};
use rbtcd_core::primitives::hash::hex_encode;
use rbtcd_core::primitives::Encodable;
use serde_json::json;
use std::time::Instant;

const MIB: f64 = (1 << 20) as f64;

/// What one sync showed.
struct Run {
    budget_mib: usize,
    /// The largest "peak" any flush line reported, in bytes.
    cache_peak: u64,
    /// The budget the flush lines reported, in bytes.
    logged_budget: u64,
    flushes: usize,
    peak_rss_kb: u64,
    /// Resident memory at the tip: the process's own (heap, stacks) and file pages mapped
    /// (the LMDB map, which a flush writes through).
    anon_kb: u64,
    file_kb: u64,
    secs: f64,
    txouts: u64,
}

/// The number after `marker` in `line`, up to the next space.
fn number_after(line: &str, marker: &str) -> Option<u64> {
    let rest = &line[line.find(marker)? + marker.len()..];
    rest.split(' ').next()?.parse().ok()
}

/// rbtcd with a `budget_mib` UTXO cache syncing from `source` until its tip is `target`, then
/// stopped (which flushes, and logs the cache's peak once more).
fn sync(name: &str, source: &Knots, target: &str, budget_mib: usize) -> Run {
    let start = Instant::now();
    let connect = format!("--connect={}", source.p2p);
    let budget = format!("--utxocachemaxsize={budget_mib}");
    let mut rbtcd = Daemon::start(name, &[&connect, &budget]);
    let wall = synced(start, target, || {
        rbtcd
            .ok("getbestblockhash", json!([]))
            .as_str()
            .unwrap()
            .to_string()
    });
    let pid = rbtcd.child.id();
    let (peak_rss_kb, anon_kb, file_kb) = (
        peak_rss_kb(pid),
        status_kb(pid, "RssAnon"),
        status_kb(pid, "RssFile"),
    );
    let txouts = rbtcd.ok("gettxoutsetinfo", json!([]))["txouts"]
        .as_u64()
        .expect("txouts");
    rbtcd.stop();
    let log = log_text(&rbtcd.home);
    let flushes: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("Flushed chain state"))
        .collect();
    assert!(!flushes.is_empty(), "the stopped node logged no flush");
    let cache_peak = flushes
        .iter()
        .filter_map(|l| number_after(l, "peak "))
        .max()
        .expect("flush lines name the cache's peak");
    let logged_budget = number_after(flushes[0], "budget ").expect("flush lines name the budget");
    Run {
        budget_mib,
        cache_peak,
        logged_budget,
        flushes: flushes.len(),
        peak_rss_kb,
        anon_kb,
        file_kb,
        secs: wall.as_secs_f64(),
        txouts,
    }
}

impl Run {
    fn print(&self, who: &str) {
        println!("bench: utxo_cache_{who}_budget: {} MiB", self.budget_mib);
        println!(
            "bench: utxo_cache_{who}_cache_peak: {:.1} MiB",
            self.cache_peak as f64 / MIB
        );
        println!("bench: utxo_cache_{who}_flushes: {}", self.flushes);
        println!(
            "bench: utxo_cache_{who}_peak_rss: {:.1} MB",
            self.peak_rss_kb as f64 / 1024.0
        );
        println!(
            "bench: utxo_cache_{who}_rss_anon_at_tip: {:.1} MB",
            self.anon_kb as f64 / 1024.0
        );
        println!(
            "bench: utxo_cache_{who}_rss_file_at_tip: {:.1} MB",
            self.file_kb as f64 / 1024.0
        );
        println!("bench: utxo_cache_{who}_sync: {:.2} s", self.secs);
    }
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let params = Params::new(Network::Regtest);
    // After the 100 blocks coinbases take to mature, each block leaves `fan_out` more coins.
    let (blocks, fan_out) = match full {
        true => (300, 2_500),
        false => (110, 50),
    };
    let chain = spending_chain(&params, blocks, fan_out);
    let target = chain.last().expect("blocks").block_hash().to_string();

    // The chain's timestamps start at genesis (2011): a tip that old keeps Knots in initial
    // block download, where it answers no peer's getheaders.
    let source = Knots::start("bench-utxo-source", &["maxtipage=2000000000"]);
    for block in &chain {
        let hex = hex_encode(&block.encode());
        assert_eq!(source.ok("submitblock", json!([hex])), json!(null));
    }
    assert_eq!(source.tip(), target, "Knots took every block");

    let small = sync("bench-utxo-16", &source, &target, 16);
    let default = sync("bench-utxo-default", &source, &target, DEFAULT_CACHE_MIB);
    for run in [&small, &default] {
        assert_eq!(run.logged_budget, (run.budget_mib as u64) << 20);
        assert_eq!(run.txouts, default.txouts);
    }
    println!("bench: utxo_cache_chain_txouts: {}", default.txouts);
    small.print("16");
    default.print("default");
    println!("bench: loadavg_1min: {}", loadavg());
}
