//! Initial sync into the store: the same generated 10,000-block regtest chain the core's
//! `chain` bench connects into memory, handed to the chain as a peer's bytes (as the daemon
//! does) and connected into LMDB with its flat block files and the UTXO cache at its default
//! budget, then into `MemStore`. Prints blocks per second into each and their ratio, the disk
//! syncs per block (flat-file `fdatasync`s and LMDB commits, the shutdown flush included)
//! beside the disk's own sync rate measured in the same run, and the block rate that sync
//! rate alone would allow. Then the transaction index is turned on, as `--txindex` on an
//! existing data directory does, and its catch-up over the whole chain is timed.
//!
//! `cargo bench -p rbtcd --bench store`

use rbtcd::store::lmdb::LmdbStore;
use rbtcd_core::chain::builder::spending_chain;
use rbtcd_core::chain::{Chain, MemStore, Placement};
use rbtcd_core::params::{Network, Params};
use rbtcd_core::primitives::{Block, Encodable};
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
    let t = Instant::now();
    let mut chain = Chain::open(p.clone(), LmdbStore::open(&dir).unwrap()).unwrap();
    connect_all(&mut chain, &blocks, now);
    // What a clean shutdown writes; it belongs to the sync's cost.
    chain.flush().unwrap();
    let lmdb_secs = t.elapsed().as_secs_f64();
    let syncs = chain.store().disk_syncs();
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

    let t = Instant::now();
    let mut chain = Chain::open(p, MemStore::new()).unwrap();
    connect_all(&mut chain, &blocks, now);
    chain.flush().unwrap();
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
    // The physical bound: the disk's sync rate over the syncs each block costs.
    let per_block = syncs as f64 / n;
    println!("bench: store_fsyncs_per_block: {per_block:.4} ({syncs} syncs for {n_blocks} blocks)");
    println!("bench: disk_fsyncs_per_sec: {fsyncs_per_sec:.0}");
    println!(
        "bench: fsync_bound_blocks_per_sec: {:.0} blocks/s",
        fsyncs_per_sec / per_block
    );
}

/// Hands every block to `chain` as the bytes a peer sent, checking each joins the main chain.
fn connect_all<S: rbtcd_core::chain::ChainStore>(chain: &mut Chain<S>, blocks: &[Block], now: u64) {
    for b in blocks {
        let raw = b.encode();
        assert_eq!(
            chain.process_block_bytes(b.clone(), Some(raw), now),
            Ok(Placement::MainChain)
        );
    }
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
