//! Blocks connected per second into the LMDB store, for the same generated 10,000-block regtest
//! chain the core's `chain` bench connects into memory (that bench prints the in-memory figure
//! and headers validated per second). Each block is one durable LMDB commit. Then the
//! transaction index is turned on, as `--txindex` on an existing data directory does, and its
//! catch-up over the whole chain is timed.
//!
//! `cargo bench -p rbtcd --bench store`

use rbtcd::store::lmdb::LmdbStore;
use rbtcd_core::chain::builder::spending_chain;
use rbtcd_core::chain::{Chain, MemStore, Placement};
use rbtcd_core::params::{Network, Params};
use std::time::Instant;

/// Chain length under `cargo bench`; `cargo test` (no `--bench` argument) runs a short smoke
/// pass instead.
const BLOCKS_BENCH: u32 = 10_000;
const BLOCKS_SMOKE: u32 = 150;
const SPENDS_PER_BLOCK: u32 = 10;

fn main() {
    let n_blocks = if std::env::args().any(|a| a == "--bench") {
        BLOCKS_BENCH
    } else {
        BLOCKS_SMOKE
    };
    let p = Params::new(Network::Regtest);
    let now = u64::from(p.genesis.header.time) + 10 * u64::from(n_blocks);
    let blocks = spending_chain(&p, n_blocks, SPENDS_PER_BLOCK);
    let txs: usize = blocks.iter().map(|b| b.txdata.len()).sum();
    let bytes: usize = blocks.iter().map(|b| b.total_size()).sum();
    eprintln!("generated {n_blocks} blocks ({txs} transactions, {bytes} bytes)");

    let dir = std::env::temp_dir().join(format!("rbtcd-bench-store-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut chain = Chain::open(p.clone(), LmdbStore::open(&dir).unwrap()).unwrap();
    let t = Instant::now();
    for b in &blocks {
        assert_eq!(
            chain.process_block(b.clone(), now),
            Ok(Placement::MainChain)
        );
    }
    let lmdb_secs = t.elapsed().as_secs_f64();
    // `--txindex` turned on late: the whole chain is indexed at start.
    let t = Instant::now();
    chain.enable_tx_index().unwrap();
    let catch_up_secs = t.elapsed().as_secs_f64();
    chain.into_store().unwrap().close();
    let on_disk: u64 = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().metadata().unwrap().len())
        .sum();
    let _ = std::fs::remove_dir_all(&dir);

    let mut chain = Chain::open(p, MemStore::new()).unwrap();
    let t = Instant::now();
    for b in &blocks {
        assert_eq!(
            chain.process_block(b.clone(), now),
            Ok(Placement::MainChain)
        );
    }
    let mem_secs = t.elapsed().as_secs_f64();

    let fsyncs_per_sec = fsync_rate(&std::env::temp_dir());
    let n = f64::from(n_blocks);
    println!(
        "bench: chain_blocks_connected_per_sec_lmdb: {:.0} blocks/s",
        n / lmdb_secs
    );
    println!(
        "bench: chain_txs_connected_per_sec_lmdb: {:.0} tx/s",
        txs as f64 / lmdb_secs
    );
    println!(
        "bench: chain_blocks_connected_per_sec_memstore: {:.0} blocks/s",
        n / mem_secs
    );
    println!("bench: lmdb_file_bytes_after_10k_blocks: {on_disk}");
    println!(
        "bench: txindex_catch_up_txs_per_sec_lmdb: {:.0} tx/s ({n_blocks} blocks in {catch_up_secs:.2} s)",
        txs as f64 / catch_up_secs
    );
    println!("ratio: lmdb_vs_memstore: {:.3}", mem_secs / lmdb_secs);
    // The physical bound: a block is stored (one commit) then connected (another), and each
    // durable LMDB commit syncs the data and then the meta page.
    println!("bench: disk_fsyncs_per_sec: {fsyncs_per_sec:.0}");
    println!(
        "ratio: lmdb_blocks_vs_fsync_limit (4 syncs per block): {:.3}",
        n / lmdb_secs / (fsyncs_per_sec / 4.0)
    );
}

/// Small writes each followed by fdatasync, per second, in `dir`: what one durable commit
/// costs at least on this disk.
fn fsync_rate(dir: &std::path::Path) -> f64 {
    use std::io::Write;
    let path = dir.join(format!("rbtcd-bench-fsync-{}", std::process::id()));
    let mut f = std::fs::File::create(&path).unwrap();
    let page = [7u8; 4096];
    let rounds = 500;
    let t = Instant::now();
    for _ in 0..rounds {
        f.write_all(&page).unwrap();
        f.sync_data().unwrap();
    }
    let rate = f64::from(rounds) / t.elapsed().as_secs_f64();
    let _ = std::fs::remove_file(&path);
    rate
}
