//! Chain throughput: blocks connected per second into a MemStore, for a generated regtest chain
//! of 10,000 blocks with transactions, and headers validated per second. Script verification is
//! still a placeholder, so the block figure excludes signature checks.
//!
//! `cargo bench -p rbtcd-core --bench chain`

use rbtcd_core::chain::builder::{spend, BlockBuilder};
use rbtcd_core::chain::{Chain, MemStore, Placement};
use rbtcd_core::params::{Network, Params};
use rbtcd_core::primitives::hash::sha256d;
use rbtcd_core::primitives::{Block, BlockHeader, OutPoint};
use std::hint::black_box;
use std::time::Instant;

const BLOCKS: usize = 10_000;
/// Transactions each block carries once coinbases mature: one fan-out and this many spends.
const SPENDS_PER_BLOCK: usize = 10;

/// A chain where block `h` splits the coinbase of block `h - 100` into ten outputs and spends
/// each output the previous block's fan-out created.
fn generate(p: &Params) -> Vec<Block> {
    let mut blocks: Vec<Block> = Vec::with_capacity(BLOCKS);
    let (mut prev, mut prev_time) = (p.genesis_hash, p.genesis.header.time);
    let mut last_fanout: Option<(OutPoint, i64)> = None;
    for height in 1..=BLOCKS as u32 {
        let mut bb = BlockBuilder::new(p, prev, height, prev_time);
        if let Some((op, each)) = last_fanout.take() {
            for i in 0..SPENDS_PER_BLOCK as u32 {
                bb = bb.tx(spend(&[OutPoint::new(op.txid, op.vout + i)], &[each]));
            }
        }
        if height > 100 {
            let cb = &blocks[height as usize - 101].txdata[0];
            let value = cb.outputs[0].value;
            let each = value / SPENDS_PER_BLOCK as i64;
            let fan = spend(&[OutPoint::new(cb.txid(), 0)], &[each; SPENDS_PER_BLOCK]);
            last_fanout = Some((OutPoint::new(fan.txid(), 0), each));
            bb = bb.tx(fan);
        }
        let b = bb.build();
        prev = b.block_hash();
        prev_time = b.header.time;
        blocks.push(b);
    }
    blocks
}

fn main() {
    let p = Params::new(Network::Regtest);
    let now = p.genesis.header.time as u64 + 10 * BLOCKS as u64;
    let t = Instant::now();
    let blocks = generate(&p);
    let txs: usize = blocks.iter().map(|b| b.txdata.len()).sum();
    eprintln!(
        "generated {BLOCKS} blocks ({txs} transactions) in {:.2} s",
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
    assert_eq!(chain.tip().height as usize, BLOCKS);
    println!(
        "bench: chain_blocks_connected_per_sec_memstore: {:.0} blocks/s",
        BLOCKS as f64 / secs
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
    assert_eq!(chain.index().best_header().height as usize, BLOCKS);
    let headers_per_sec = BLOCKS as f64 / secs;
    println!("bench: chain_headers_validated_per_sec: {headers_per_sec:.0} headers/s");

    // The limit: hashing the headers alone (every header is hashed at least once).
    let t = Instant::now();
    for h in &headers {
        black_box(sha256d(&h.to_bytes()));
    }
    let hash_per_sec = BLOCKS as f64 / t.elapsed().as_secs_f64();
    println!("bench: sha256d_headers_per_sec_1core: {hash_per_sec:.0} headers/s");
    println!(
        "ratio: chain_headers_vs_sha256d_limit: {:.3}",
        headers_per_sec / hash_per_sec
    );
}
