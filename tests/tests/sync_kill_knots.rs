//! rbtcd syncing a chain with a real UTXO set from Bitcoin Knots, killed with SIGKILL again and
//! again mid-sync (issue 13). A 1 MiB UTXO cache makes the node flush many times during the
//! sync, so restarts open at flushed tips in the middle of the chain. After every restart the
//! node opens at a tip no older than the last flush its log acknowledged; at the end its UTXO
//! set is Knots's, byte for byte (`gettxoutsetinfo`).

#[path = "../../runtime-smol/tests/common/mod.rs"]
mod common;

use common::knots::Knots;
use common::rpc::Daemon;
use common::{log_text, PATIENCE};
use rbtcd_core::chain::builder::spending_chain;
use rbtcd_core::params::{Network, Params};
use rbtcd_core::primitives::hash::hex_encode;
use rbtcd_core::primitives::Encodable;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// Blocks after genesis: once coinbases mature, each block splits an old coinbase into
/// [`FAN_OUT`] coins and spends the previous block's split, leaving ~60,000 coins at the tip.
const BLOCKS: u32 = 400;
const FAN_OUT: u32 = 200;
const KILLS: u32 = 6;

/// The heights of the "Block connected" lines in `text`, in order.
fn connected_heights(text: &str) -> Vec<u32> {
    heights_after(text, "Block connected (height ")
}

/// The heights of the flushes `text` acknowledges (logged once the batch is durable).
fn flushed_heights(text: &str) -> Vec<u32> {
    heights_after(text, "Flushed chain state (height ")
}

/// The height each start reports opening at.
fn opened_heights(text: &str) -> Vec<u32> {
    heights_after(text, "Chain state (height ")
}

/// The number after each `marker` in `text` (a line a kill cut short is skipped).
fn heights_after(text: &str, marker: &str) -> Vec<u32> {
    text.split(marker)
        .skip(1)
        .filter_map(|rest| rest.split(',').next()?.parse().ok())
        .collect()
}

/// Waits until `done` holds for the log written since byte `from`, and returns that part.
fn wait_for_tail(d: &Daemon, from: usize, what: &str, done: impl Fn(&str) -> bool) -> String {
    let start = Instant::now();
    loop {
        let text = log_text(&d.home);
        let tail = text.get(from..).unwrap_or_default();
        if done(tail) {
            return tail.to_string();
        }
        assert!(start.elapsed() < PATIENCE, "waited in vain for {what}");
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// The `gettxoutsetinfo` fields that say which UTXO set a node holds.
fn utxo_set(info: &Value) -> Value {
    let fields = [
        "height",
        "bestblock",
        "txouts",
        "total_amount",
        "hash_serialized_3",
    ];
    fields
        .iter()
        .map(|f| {
            assert!(!info[f].is_null(), "gettxoutsetinfo lacks {f}: {info}");
            (f.to_string(), info[f].clone())
        })
        .collect::<serde_json::Map<_, _>>()
        .into()
}

#[test]
fn rbtcd_killed_repeatedly_while_syncing_from_knots_ends_with_knots_utxo_set() {
    let params = Params::new(Network::Regtest);
    let chain = spending_chain(&params, BLOCKS, FAN_OUT);
    let want = chain.last().unwrap().block_hash().to_string();
    // The chain's timestamps start at genesis (2011): a tip that old keeps Knots in initial
    // block download, where it answers no peer's getheaders.
    let knots = Knots::start("sync-kill-source", &["maxtipage=2000000000"]);
    for block in &chain {
        let hex = hex_encode(&block.encode());
        assert_eq!(knots.ok("submitblock", json!([hex])), json!(null));
    }
    assert_eq!(knots.tip(), want, "Knots took every block");

    let connect = format!("--connect={}", knots.p2p);
    let args = [
        connect.as_str(),
        "--utxocachemaxsize=1",
        "--debuglevel=debug",
    ];
    let mut d = Daemon::start("sync-kill-knots", &args);
    let mut from = 0;
    let mut opened_at = 0;
    let mut landed_mid_sync = 0;
    let mut opened_mid_chain = 0;
    for round in 0..KILLS {
        // Kill once the sync passes a height spread over the chain (and past where this run
        // opened); every other round right after the first flush acknowledged from then on,
        // so that a kill also lands just after a batch became durable.
        let target = (BLOCKS * (round + 1) / (KILLS + 2)).max(opened_at + 1);
        let after_flush = round % 2 == 1;
        wait_for_tail(&d, from, "the sync to pass the kill height", |tail| {
            let done = tail.contains(&format!("Block connected (height {BLOCKS},"));
            let passed = connected_heights(tail).last().is_some_and(|&h| h >= target);
            let flushed = flushed_heights(tail).last().is_some_and(|&h| h >= target);
            done || (passed && (!after_flush || flushed))
        });
        d.child.kill().unwrap();
        d.child.wait().unwrap();
        // What the log shows now is all the killed process wrote.
        let text = log_text(&d.home);
        let run = &text[from..];
        if connected_heights(run).last().is_some_and(|&h| h < BLOCKS) {
            landed_mid_sync += 1;
        }
        let acknowledged = flushed_heights(&text).last().copied().unwrap_or(0);

        from = text.len();
        d.relaunch(&args);
        let started = wait_for_tail(&d, from, "the restart's chain state", |tail| {
            !opened_heights(tail).is_empty()
        });
        opened_at = opened_heights(&started)[0];
        assert!(
            opened_at >= acknowledged,
            "restart {round} opened at height {opened_at}, older than the flush of height \
             {acknowledged} the log acknowledged"
        );
        if opened_at > 0 && opened_at < BLOCKS {
            opened_mid_chain += 1;
        }
    }
    assert!(
        landed_mid_sync >= 1,
        "no kill landed during the sync ({KILLS} kills)"
    );
    assert!(
        opened_mid_chain >= 1,
        "no restart opened at a flushed tip in the middle of the chain"
    );

    let start = Instant::now();
    while d.ok("getbestblockhash", json!([])) != json!(want) {
        assert!(
            start.elapsed() < PATIENCE,
            "the sync never finished after the kills"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let ours = utxo_set(&d.ok("gettxoutsetinfo", json!([])));
    let theirs = utxo_set(&knots.ok("gettxoutsetinfo", json!([])));
    assert_eq!(ours, theirs, "rbtcd's UTXO set (left) differs from Knots's");
    assert_eq!(ours["height"], json!(BLOCKS));
    println!(
        "kills: {KILLS}, landed mid-sync: {landed_mid_sync}, restarts opened mid-chain: \
         {opened_mid_chain}, flushes acknowledged: {}, log {} bytes",
        flushed_heights(&log_text(&d.home)).len(),
        log_text(&d.home).len()
    );
}
