//! A signature-heavy regtest chain synced from Bitcoin Knots, rbtcd beside a second Knots in
//! one run (issue 13). The bench builds the chain itself, deterministically: 100 empty blocks,
//! one block splitting a matured coinbase into outputs paying one key as P2PKH, P2WPKH and
//! P2TR, then blocks of 1,500 transactions each spending the outputs the same transaction
//! spent in the block before (1 or 2 inputs, P2PKH, P2WPKH and P2TR key path in turn, no
//! fee) — 131,250 signed inputs over 50 blocks. Knots A takes it by `submitblock`; Knots B,
//! then rbtcd, then rbtcd again with a 16 MiB UTXO cache, each on a fresh datadir, sync it from
//! Knots A and are timed from their process start (start-up included). Printed: each sync's
//! time, CPU time (user + system, all threads) and peak resident memory, the ratio, the load,
//! and how often each rbtcd connected to Knots A (1 unless it dropped its only peer).
//!
//! `cargo bench -p rbtcd --bench sync_signed`; under `cargo test` (no `--bench` argument) a
//! short pass of 3 blocks of 30 transactions.

#[path = "../tests/common/mod.rs"]
mod e2e;
// Shared with the script benches, whose libsecp256k1 baseline this bench does not use.
#[allow(dead_code)]
#[path = "../../core/benches/signing/mod.rs"]
mod signing;

use e2e::foreign::{cpu_time, loadavg, peak_rss_kb, synced};
use e2e::knots::Knots;
use e2e::log_text;
use e2e::rpc::Daemon;
use rayon::prelude::*;
use rbtcd_core::chain::builder::{spend, BlockBuilder};
use rbtcd_core::params::{Network, Params};
use rbtcd_core::primitives::hash::hex_encode;
use rbtcd_core::primitives::{Block, Encodable, OutPoint, Transaction, TxOut};
use secp256k1::SecretKey;
use serde_json::json;
use signing::{script_pubkey, sign, Kind, SPENT_VALUE};
use std::time::{Duration, Instant};

/// How many inputs transaction `t` of a block spends: 1, 2, 2, 2 in turn (1.75 on average).
fn inputs_of(t: usize) -> usize {
    if t.is_multiple_of(4) {
        1
    } else {
        2
    }
}

/// How transaction `t` of a block signs (and so what its outputs pay).
fn kind_of(t: usize) -> Kind {
    Kind::ALL[t % Kind::ALL.len()]
}

/// `n` outputs of [`SPENT_VALUE`] paying `key` as `kind`.
fn payments(kind: Kind, key: &SecretKey, n: usize) -> Vec<TxOut> {
    let script = script_pubkey(kind, key);
    (0..n)
        .map(|_| TxOut {
            value: SPENT_VALUE,
            script_pubkey: script.clone(),
        })
        .collect()
}

/// Every output of `tx`.
fn outpoints(tx: &Transaction) -> Vec<OutPoint> {
    let txid = tx.txid();
    (0..tx.outputs.len() as u32)
        .map(|vout| OutPoint::new(txid, vout))
        .collect()
}

/// The chain after genesis: `signed_blocks` blocks of `txs` signed transactions on top of the
/// empty blocks and the split that fund them; and how many signed inputs it holds.
fn build_chain(params: &Params, txs: usize, signed_blocks: usize) -> (Vec<Block>, usize) {
    let key = SecretKey::from_slice(&[0x42; 32]).expect("valid key");
    let mut blocks: Vec<Block> = Vec::new();
    let next = |blocks: &[Block]| {
        let (parent, time) = match blocks.last() {
            Some(b) => (b.block_hash(), b.header.time),
            None => (params.genesis_hash, params.genesis.header.time),
        };
        BlockBuilder::new(params, parent, blocks.len() as u32 + 1, time)
    };
    for _ in 0..params.coinbase_maturity {
        blocks.push(next(&blocks).build());
    }
    // The first coinbase (anyone can spend it) split into every transaction's first inputs;
    // the rest of its value goes to the miner as fee.
    let coinbase = &blocks[0].txdata[0];
    let mut split = spend(&[OutPoint::new(coinbase.txid(), 0)], &[]);
    split.outputs = (0..txs)
        .flat_map(|t| payments(kind_of(t), &key, inputs_of(t)))
        .collect();
    let fee = coinbase.outputs[0].value - SPENT_VALUE * split.outputs.len() as i64;
    let split_outs = outpoints(&split);
    blocks.push(next(&blocks).tx(split).fees(fee).build());
    let mut funding: Vec<Vec<OutPoint>> = Vec::with_capacity(txs);
    let mut rest = &split_outs[..];
    for t in 0..txs {
        let (mine, others) = rest.split_at(inputs_of(t));
        funding.push(mine.to_vec());
        rest = others;
    }
    let mut signed_inputs = 0;
    for _ in 0..signed_blocks {
        let signed: Vec<Transaction> = funding
            .par_iter()
            .enumerate()
            .map(|(t, inputs)| {
                let mut template = spend(inputs, &[]);
                template.outputs = payments(kind_of(t), &key, inputs.len());
                sign(&template, kind_of(t), &key).tx
            })
            .collect();
        signed_inputs += signed.iter().map(|tx| tx.inputs.len()).sum::<usize>();
        funding = signed.iter().map(outpoints).collect();
        let mut bb = next(&blocks);
        bb.txs = signed;
        blocks.push(bb.build());
    }
    (blocks, signed_inputs)
}

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
    let full = std::env::args().any(|a| a == "--bench");
    let (txs, signed_blocks) = match full {
        true => (1_500, 50),
        false => (30, 3),
    };
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
