//! A syncing daemon killed (SIGKILL) at random moments, again and again: each restart opens the
//! database and carries on from its last flushed tip, and the sync finishes on the serving
//! daemon's tip.

mod common;

use common::{free_port, home, log_text, start};
use rbtcd::daemon::BLOCK_DB_DIR;
use rbtcd::store::lmdb::LmdbStore;
use rbtcd::store::upgrades;
use rbtcd_core::chain::builder::spending_chain;
use rbtcd_core::chain::store::copy_store;
use rbtcd_core::chain::{Chain, MemStore};
use rbtcd_core::params::{Network, Params};
use std::path::Path;
use std::time::{Duration, Instant};

const BLOCKS: u32 = 2000;
const KILLS: usize = 6;

/// Writes a regtest chain of [`BLOCKS`] into `home`'s database in one batch (connecting block
/// by block into LMDB would take most of the test's time in fsyncs) and returns its tip hash.
fn seed_database(home: &Path) -> String {
    let params = Params::new(Network::Regtest);
    let mut chain = Chain::open(params.clone(), MemStore::new()).unwrap();
    for b in spending_chain(&params, BLOCKS, 2) {
        chain.process_block(b, 2_000_000_000).unwrap();
    }
    let tip = chain.tip().hash.to_string();
    let source = chain.into_store().unwrap();
    let dir = home.join(".rbtcd/data/regtest").join(BLOCK_DB_DIR);
    let mut store = LmdbStore::open(&dir).unwrap();
    upgrades::upgrade(&mut store).unwrap();
    copy_store(&source, &mut store).unwrap();
    store.close();
    tip
}

/// The heights the log says were connected, in order.
fn connected_heights(text: &str) -> Vec<u32> {
    text.split("Block connected (height ")
        .skip(1)
        .filter_map(|rest| rest.split(',').next()?.parse().ok())
        .collect()
}

#[test]
fn a_syncing_daemon_killed_repeatedly_restarts_and_finishes() {
    let (ha, hb) = (home("server"), home("syncer"));
    let want = seed_database(&ha);
    let port = free_port();
    let mut server = start(&ha, &["--regtest", &format!("--listen=127.0.0.1:{port}")]);
    let connect = format!("--connect=127.0.0.1:{port}");
    let args = ["--regtest", connect.as_str(), "--debuglevel=debug"];

    let mut rng: u64 = 0x2545_f491_4f6c_dd1d;
    let mut killed_mid_sync = 0;
    for _ in 0..KILLS {
        let before = connected_heights(&log_text(&hb)).len();
        let mut syncer = start(&hb, &args);
        // Kill once this run has made progress, a varying moment later.
        let started = Instant::now();
        while connected_heights(&log_text(&hb)).len() == before
            && started.elapsed() < Duration::from_secs(60)
        {
            std::thread::sleep(Duration::from_millis(5));
        }
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        std::thread::sleep(Duration::from_millis(rng % 250));
        syncer.kill().unwrap();
        syncer.wait().unwrap();
        let heights = connected_heights(&log_text(&hb));
        let last = heights.last().copied().unwrap_or(0);
        if heights.len() > before && last < BLOCKS {
            killed_mid_sync += 1;
        }
    }
    assert!(
        killed_mid_sync >= 2,
        "only {killed_mid_sync} kills landed during the sync"
    );

    // A run between kills may already have reached the tip (the sync takes well under a
    // second), so only what this last run logs counts: it connects the tip, or opens on it
    // when a flush had stored it.
    let logged_before = log_text(&hb).len();
    let mut syncer = start(&hb, &args);
    let started = Instant::now();
    let done = format!("Block connected (height {BLOCKS}, hash {want})");
    let opened_on_tip = format!("Chain state (height {BLOCKS}, hash {want}");
    while !log_text(&hb)
        .get(logged_before..)
        .is_some_and(|tail| tail.contains(&done) || tail.contains(&opened_on_tip))
    {
        assert!(
            started.elapsed() < Duration::from_secs(180),
            "the sync never finished after the kills"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // Every start opened the database the kill before had left: after a kill the node resumes
    // from its last flushed tip (during a sync that fits the UTXO cache, genesis) and fetches
    // the rest again.
    let opened = log_text(&hb).matches("Chain state (height ").count();
    assert_eq!(opened, KILLS + 1);
    syncer.kill().unwrap();
    syncer.wait().unwrap();
    server.kill().unwrap();
    server.wait().unwrap();
}
