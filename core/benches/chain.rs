//! Chain throughput: blocks connected per second into a MemStore, for a generated regtest chain
//! of 10,000 blocks with transactions, and headers validated per second. The generated outputs
//! are anyone-can-spend (`OP_1`): scripts run through the interpreter but no signature is
//! checked, so the block figure measures validation and UTXO work, not ECDSA.
//!
//! `cargo bench -p rbtcd-core --bench chain`

use rbtcd_core::chain::builder::spending_chain;
use rbtcd_core::chain::{Chain, MemStore, Placement};
use rbtcd_core::params::{Network, Params};
use rbtcd_core::primitives::hash::sha256d;
use rbtcd_core::primitives::BlockHeader;
use std::hint::black_box;
use std::time::Instant;

/// Chain length under `cargo bench`; `cargo test` (no `--bench` argument) runs a short smoke
/// pass instead.
const BLOCKS_BENCH: usize = 10_000;
const BLOCKS_SMOKE: usize = 300;
/// Transactions each block carries once coinbases mature: one split and this many spends.
const SPENDS_PER_BLOCK: usize = 10;

fn main() {
    let n_blocks = if std::env::args().any(|a| a == "--bench") {
        BLOCKS_BENCH
    } else {
        BLOCKS_SMOKE
    };
    let p = Params::new(Network::Regtest);
    let now = p.genesis.header.time as u64 + 10 * n_blocks as u64;
    let t = Instant::now();
    let blocks = spending_chain(&p, n_blocks as u32, SPENDS_PER_BLOCK as u32);
    let txs: usize = blocks.iter().map(|b| b.txdata.len()).sum();
    eprintln!(
        "generated {n_blocks} blocks ({txs} transactions) in {:.2} s",
        t.elapsed().as_secs_f64()
    );

    let mut chain = Chain::open(p.clone(), MemStore::new()).unwrap();
    let t = Instant::now();
    for b in &blocks {
        assert_eq!(
            chain.process_block(b.clone(), now),
            Ok(Placement::MainChain)
        );
    }
    let secs = t.elapsed().as_secs_f64();
    assert_eq!(chain.tip().height as usize, n_blocks);
    println!(
        "bench: chain_blocks_connected_per_sec_memstore: {:.0} blocks/s",
        n_blocks as f64 / secs
    );
    println!(
        "bench: chain_txs_connected_per_sec_memstore: {:.0} tx/s",
        txs as f64 / secs
    );

    // Headers in batches of 2,000, as a `headers` message carries.
    let headers: Vec<BlockHeader> = blocks.iter().map(|b| b.header).collect();
    let mut chain = Chain::open(p, MemStore::new()).unwrap();
    let t = Instant::now();
    for batch in headers.chunks(2000) {
        chain.process_headers(batch, now).unwrap();
    }
    let secs = t.elapsed().as_secs_f64();
    assert_eq!(chain.index().best_header().height as usize, n_blocks);
    let headers_per_sec = n_blocks as f64 / secs;
    println!("bench: chain_headers_validated_per_sec: {headers_per_sec:.0} headers/s");

    // The limit: hashing the headers alone (every header is hashed at least once).
    let t = Instant::now();
    for h in &headers {
        black_box(sha256d(&h.to_bytes()));
    }
    let hash_per_sec = n_blocks as f64 / t.elapsed().as_secs_f64();
    println!("bench: sha256d_headers_per_sec_1core: {hash_per_sec:.0} headers/s");
    println!(
        "ratio: chain_headers_vs_sha256d_limit: {:.3}",
        headers_per_sec / hash_per_sec
    );
}
