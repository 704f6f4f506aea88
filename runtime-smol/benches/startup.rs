//! Daemon start-up time to listening, on an empty data directory and on one holding a
//! 10,000-block regtest chain, and the resident memory of the idle daemon with that chain.
//!
//! `cargo bench -p rbtcd --bench startup` (runs the release binary built for the bench).

use rbtcd::daemon::BLOCK_DB_DIR;
use rbtcd::store::lmdb::LmdbStore;
use rbtcd::store::upgrades;
use rbtcd_core::chain::builder::spending_chain;
use rbtcd_core::chain::store::copy_store;
use rbtcd_core::chain::{Chain, MemStore};
use rbtcd_core::params::{Network, Params};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn home(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rbtcd-bench-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn seed(home: &Path, blocks: u32) {
    let params = Params::new(Network::Regtest);
    let mut chain = Chain::open(params.clone(), MemStore::new()).unwrap();
    for b in spending_chain(&params, blocks, 10) {
        chain.process_block(b, 2_000_000_000).unwrap();
    }
    let source = chain.into_store().unwrap();
    let mut store = LmdbStore::open(&home.join(".rbtcd/data/regtest").join(BLOCK_DB_DIR)).unwrap();
    upgrades::upgrade(&mut store).unwrap();
    copy_store(&source, &mut store).unwrap();
    store.close();
}

/// Starts the daemon and returns it with the time until its log says it listens.
fn start(home: &Path) -> (Child, Duration) {
    let log = home.join(".rbtcd/logs/regtest/rbtcd.log");
    let t = Instant::now();
    let child = Command::new(env!("CARGO_BIN_EXE_rbtcd"))
        .args(["--regtest", "--listen=127.0.0.1:0", "--norpc"])
        .env("HOME", home)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    while !std::fs::read_to_string(&log).is_ok_and(|t| t.contains("Server listening on")) {
        assert!(t.elapsed() < Duration::from_secs(120), "never listened");
        std::thread::sleep(Duration::from_millis(1));
    }
    (child, t.elapsed())
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn stop(mut child: Child) {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let _ = child.wait();
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let blocks = if full { 10_000 } else { 200 };

    let empty = home("empty");
    let (child, empty_time) = start(&empty);
    stop(child);

    let synced = home("synced");
    seed(&synced, blocks);
    let (child, synced_time) = start(&synced);
    std::thread::sleep(Duration::from_secs(if full { 3 } else { 1 }));
    let rss = rss_kib(child.id());
    stop(child);

    println!(
        "bench: startup_to_listening_empty_datadir: {:.1} ms",
        empty_time.as_secs_f64() * 1e3
    );
    println!(
        "bench: startup_to_listening_{blocks}_blocks: {:.1} ms",
        synced_time.as_secs_f64() * 1e3
    );
    println!(
        "bench: idle_daemon_rss_{blocks}_blocks: {:.1} MiB",
        rss as f64 / 1024.0
    );
    let _ = std::fs::remove_dir_all(&empty);
    let _ = std::fs::remove_dir_all(&synced);
}
