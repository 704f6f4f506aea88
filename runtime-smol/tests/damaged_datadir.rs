//! A data directory damaged or out of space: the daemon refuses or stops with status 1 and one
//! line naming what is wrong and where, never a panic, and the directory opens with its chain
//! once the damage is undone or space is freed.

mod common;

use common::rpc::{command, send, Daemon, ADMIN};
use rbtcd::rpc::client;
use rbtcd::store::check;
use rbtcd::store::lmdb::LmdbStore;
use rbtcd_core::chain::{ChainStore, WriteBatch, WriteOp};
use rbtcd_core::mempool::Coin;
use rbtcd_core::primitives::{Hash256, OutPoint, TxOut};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const MINING_ADDR: &str = "--miningaddr=mgA7SfyBBrVGVSpQ7oqGHPhxpp2gUZWtfc";

/// Waits for `child` to exit (it must within [`common::PATIENCE`]) and gives its status code.
fn exit_code(child: &mut Child) -> Option<i32> {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status.code();
        }
        if start.elapsed() > common::PATIENCE {
            let _ = child.kill();
            panic!("the daemon did not exit");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Starts the daemon of `home` once more and expects it to refuse: status 1 and one line on
/// stderr, which is returned.
fn refused_start(home: &Path) -> String {
    let mut child = common::rbtcd(home, &["--regtest"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let code = exit_code(&mut child);
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(code, Some(1), "{stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    stderr
}

fn block_dir(home: &Path) -> PathBuf {
    home.join(".rbtcd/data/regtest/blocks_lmdb")
}

/// The tests run one after the other. Side by side, the damaged-file test's first call
/// was reset or refused in about 1 run in 50 (never alone in 190 runs); the cause is not found
/// yet (both daemons had their own ports and printed no error).
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[test]
fn a_damaged_block_file_stops_the_start_naming_file_and_offset() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let mut d = Daemon::start("damaged-file", &[MINING_ADDR]);
    d.ok("generate", json!([10]));
    let tip = d.ok("getbestblockhash", json!([]));
    let raw = d.ok("getblock", json!([tip, 0]));
    let raw = rbtcd_core::primitives::hash::hex_decode(raw.as_str().unwrap()).unwrap();
    d.stop();
    let blk = block_dir(&d.home).join("blk00000.dat");
    let original = std::fs::read(&blk).unwrap();
    let at = original
        .windows(raw.len())
        .position(|w| w == raw.as_slice())
        .expect("the tip's bytes are in the first block file");
    let record = at - 8;

    // One byte of the tip's record changed: found by the start's check of the last blocks.
    let mut damaged = original.clone();
    damaged[at + 40] ^= 0x55;
    std::fs::write(&blk, &damaged).unwrap();
    let line = refused_start(&d.home);
    assert!(
        line.contains(&format!("blk00000.dat damaged at offset {record}")),
        "{line}"
    );

    // The file cut short inside the tip's record: found before anything is read, and left
    // as it was.
    std::fs::write(&blk, &original[..at + 10]).unwrap();
    let line = refused_start(&d.home);
    assert!(
        line.contains(&format!("blk00000.dat damaged at offset {}", at + 10)),
        "{line}"
    );
    assert_eq!(std::fs::metadata(&blk).unwrap().len(), at as u64 + 10);

    // Restored from a copy, the directory opens with the whole chain.
    std::fs::write(&blk, &original).unwrap();
    d.relaunch(&[MINING_ADDR]);
    assert_eq!(d.ok("getbestblockhash", json!([])), tip);
    assert_eq!(
        d.ok("getblock", json!([tip, 0])).as_str().unwrap().len(),
        raw.len() * 2
    );
}

/// A process holding a mount namespace (in a user namespace of its own) in which `dir` is a
/// small tmpfs; killed when dropped.
struct SmallDisk {
    holder: Child,
}

impl SmallDisk {
    /// `None` when this machine does not let an unprivileged user mount a tmpfs.
    fn mount(dir: &Path, size: &str) -> Option<SmallDisk> {
        let script = format!("mount -t tmpfs -o size={size} tmpfs \"$0\" && exec sleep 100000");
        let holder = Command::new("unshare")
            .args(["-rm", "sh", "-c", &script])
            .arg(dir)
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        let mut disk = SmallDisk { holder };
        let start = Instant::now();
        loop {
            let mounts = std::fs::read_to_string(format!("/proc/{}/mountinfo", disk.holder.id()))
                .unwrap_or_default();
            if mounts
                .lines()
                .any(|l| l.contains(dir.to_str().unwrap()) && l.contains("tmpfs"))
            {
                return Some(disk);
            }
            if disk.holder.try_wait().unwrap().is_some() || start.elapsed() > common::PATIENCE {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// `path` (under the mounted directory) as the holder sees it.
    fn inside(&self, path: &Path) -> PathBuf {
        Path::new(&format!("/proc/{}/root", self.holder.id())).join(path.strip_prefix("/").unwrap())
    }

    /// `c` run inside the namespace, with the same arguments and environment.
    fn enter(&self, c: &Command) -> Command {
        let mut wrapped = Command::new("nsenter");
        wrapped
            .args([
                "-t",
                &self.holder.id().to_string(),
                "-U",
                "-m",
                "--preserve-credentials",
                "--",
            ])
            .arg(c.get_program())
            .args(c.get_args())
            .stdout(Stdio::null());
        for (k, v) in c.get_envs() {
            if let Some(v) = v {
                wrapped.env(k, v);
            }
        }
        wrapped
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = self.holder.kill();
        let _ = self.holder.wait();
    }
}

/// Calls `getblockcount` on `rpc` over and over, on one keep-alive connection at a time, until
/// `stop` is set, counting the answers; a refused or broken connection is tried again.
fn call_until_stopped(rpc: &str, stop: &AtomicBool, answered: &AtomicUsize) {
    let body = json!({"jsonrpc": "1.0", "id": 1, "method": "getblockcount", "params": []});
    let body = body.to_string();
    while !stop.load(Ordering::SeqCst) {
        let Ok(mut s) = std::net::TcpStream::connect(rpc) else {
            std::thread::sleep(Duration::from_millis(10));
            continue;
        };
        while !stop.load(Ordering::SeqCst) {
            let sent = client::write_request(&mut s, "x", Some(ADMIN), body.as_bytes(), false);
            if sent.is_err() || client::read_reply(&mut s).is_err() {
                break;
            }
            answered.fetch_add(1, Ordering::SeqCst);
        }
    }
}

#[test]
fn a_full_disk_stops_the_node_naming_the_datadir_and_it_opens_afterwards() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let home = common::home("disk-full");
    let data = home.join(".rbtcd/data");
    std::fs::create_dir_all(&data).unwrap();
    let Some(disk) = SmallDisk::mount(&data, "48m") else {
        eprintln!("skipped: unprivileged tmpfs mounts (unshare -rm) are not permitted here");
        return;
    };
    let [rpc, p2p] = common::free_ports().map(|port| format!("127.0.0.1:{port}"));
    let stderr = home.join("stderr.txt");
    let start = || {
        let mut c = disk.enter(&command(&home, &rpc, &p2p, &[MINING_ADDR]));
        c.stderr(std::fs::File::create(&stderr).unwrap());
        c.spawn().unwrap()
    };
    let mut d = Daemon {
        child: start(),
        rpc: rpc.clone(),
        p2p: p2p.clone(),
        home: home.clone(),
        tls: false,
    };
    d.wait_for_rpc();
    d.ok("generate", json!([3]));
    let tip = d.ok("getbestblockhash", json!([]));
    // A restart cuts the block files back to their records: the next block needs new space.
    d.stop();
    d.child = start();
    d.wait_for_rpc();

    // Clients keep calling while the disk fills: the node must still stop and the process
    // exit, not wait for their calls.
    let stop = Arc::new(AtomicBool::new(false));
    let answered = Arc::new(AtomicUsize::new(0));
    let callers: Vec<_> = (0..4)
        .map(|_| {
            let (stop, answered, rpc) = (stop.clone(), answered.clone(), rpc.clone());
            std::thread::spawn(move || call_until_stopped(&rpc, &stop, &answered))
        })
        .collect();
    let waiting = Instant::now();
    while answered.load(Ordering::SeqCst) < 20 {
        assert!(
            waiting.elapsed() < common::PATIENCE,
            "the callers were never answered"
        );
        std::thread::sleep(Duration::from_millis(10));
    }

    let filler = disk.inside(&data.join("filler"));
    {
        use std::io::Write;
        let mut f = std::fs::File::create(&filler).unwrap();
        let chunk = vec![0u8; 1 << 20];
        while f.write_all(&chunk).is_ok() {}
    }
    let body = json!({"jsonrpc": "1.0", "id": 1, "method": "generate", "params": [1]});
    let mut s = std::net::TcpStream::connect(&d.rpc).unwrap();
    send(&mut s, Some(ADMIN), body.to_string().as_bytes(), false);
    assert_eq!(exit_code(&mut d.child), Some(1));
    stop.store(true, Ordering::SeqCst);
    for c in callers {
        c.join().unwrap();
    }
    let line = std::fs::read_to_string(&stderr).unwrap();
    assert_eq!(line.trim_end().lines().count(), 1, "{line}");
    assert!(
        line.contains(block_dir(&home).to_str().unwrap()) && line.contains("No space left"),
        "{line}"
    );

    // Space freed, the directory opens at the last durable tip and goes on.
    std::fs::remove_file(&filler).unwrap();
    d.child = start();
    d.wait_for_rpc();
    assert_eq!(d.ok("getbestblockhash", json!([])), tip);
    d.ok("generate", json!([1]));
    assert_eq!(d.ok("getblockcount", json!([])), json!(4));
    d.stop();
}

/// The LMDB data file of the daemon living in `home`.
fn data_file(home: &Path) -> PathBuf {
    block_dir(home).join("data.mdb")
}

/// Starts the daemon of `home` on its (damaged) database and, once it has loaded it, stops it
/// with SIGTERM, whose shutdown flush is a write transaction. The start must refuse with
/// status 1 and one line on stderr (returned), or run and stop with status 0 (`None`): never a
/// signal or a panic. `case` names the damage in failures.
fn start_and_stop(home: &Path, case: &str) -> Option<String> {
    let _ = std::fs::remove_file(common::log_path(home));
    let mut child = common::start(home, &["--regtest", "--nolisten"]);
    let start = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            let out = child.wait_with_output().unwrap();
            let line = String::from_utf8_lossy(&out.stderr).to_string();
            assert_eq!(out.status.code(), Some(1), "{case}: {line}");
            assert_eq!(line.trim_end().lines().count(), 1, "{case}: {line}");
            return Some(line);
        }
        if common::log_text(home).contains("Block database loaded") {
            common::terminate(child);
            return None;
        }
        assert!(start.elapsed() < common::PATIENCE, "{case} hangs");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn u16_at(file: &[u8], at: usize) -> usize {
    u16::from_le_bytes(file[at..at + 2].try_into().unwrap()).into()
}

fn u64_at(file: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(file[at..at + 8].try_into().unwrap())
}

/// LMDB's free-page database (dbi 0) in a data file, found as LMDB finds it: in the meta page
/// (page 0 or 1) with the larger transaction id. Offsets are those of LMDB's 64-bit layout: a
/// 16-byte page header (page number, pad, flags, lower and upper bounds of the free space),
/// node offsets after it; a meta page's record after the header.
struct FreeDb {
    page_size: usize,
    root: usize,
    /// Records (one per transaction that freed pages).
    entries: u64,
    /// The last page in use (`mm_last_pg`).
    last_page: u64,
}

impl FreeDb {
    const HEADER: usize = 16;
    const BRANCH: usize = 0x01;
    const LEAF: usize = 0x02;
    /// A leaf node's flag: its value is on overflow pages, the node holds their page number.
    const BIG_DATA: usize = 0x01;

    fn of(file: &[u8]) -> FreeDb {
        // mm_dbs[0] starts 40 bytes into a meta page: its md_pad is the page size, then
        // flags, depth, three page counts, entries, root; the last page in use is at 136, the
        // transaction id at 144.
        let page_size = u64_at(file, 40) as usize & 0xFFFF_FFFF;
        let meta = [0, page_size]
            .into_iter()
            .max_by_key(|&m| u64_at(file, m + 144))
            .unwrap();
        FreeDb {
            page_size,
            root: u64_at(file, meta + 80) as usize,
            entries: u64_at(file, meta + 72),
            last_page: u64_at(file, meta + 136),
        }
    }

    /// The byte range of the root page's nodes (from its upper bound to its end): the keys
    /// and values, or child pointers, without the header.
    fn root_nodes(&self, file: &[u8]) -> std::ops::Range<usize> {
        let page = self.root * self.page_size;
        page + u16_at(file, page + 14)..page + self.page_size
    }

    /// Where the value of the first (oldest) record starts: the list of pages freed by that
    /// transaction, a count and then the page numbers. It is the first record a write
    /// transaction reads when it needs pages.
    fn first_list(&self, file: &[u8]) -> usize {
        let mut page = self.root * self.page_size;
        while u16_at(file, page + 10) & Self::BRANCH != 0 {
            // A branch node's child page number is in its first six bytes (lo, hi, flags).
            let node = page + u16_at(file, page + Self::HEADER);
            let child =
                u16_at(file, node) | u16_at(file, node + 2) << 16 | u16_at(file, node + 4) << 32;
            page = child * self.page_size;
        }
        assert!(u16_at(file, page + 10) & Self::LEAF != 0, "not a leaf page");
        let node = page + u16_at(file, page + Self::HEADER);
        let value = node + 8 + u16_at(file, node + 6);
        match u16_at(file, node + 4) & Self::BIG_DATA {
            0 => value,
            _ => u64_at(file, value) as usize * self.page_size + Self::HEADER,
        }
    }
}

/// LMDB's free-page database is read by every write transaction that allocates pages (the
/// shutdown flush's too), not by the reads of the tables: damage there passed the walk of the
/// tables and killed the daemon at its stop. The start's check reads it, and refuses.
#[test]
fn a_damaged_free_page_database_is_refused_in_one_line() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let mut d = Daemon::start("damaged-free-db", &[MINING_ADDR]);
    d.ok("generate", json!([50]));
    d.stop();
    let original = std::fs::read(data_file(&d.home)).unwrap();
    let free = FreeDb::of(&original);
    // LMDB's magic number where the layout above puts it: the offsets are right.
    assert_eq!(u64_at(&original, 16) as u32, 0xBEEF_C0DE);
    assert!(free.entries > 0, "no freed pages after 50 blocks");

    // The oldest list of freed pages says it holds 2^28 of them: LMDB trusts the count and
    // reads far past the record.
    let mut damaged = original.clone();
    let at = free.first_list(&original);
    damaged[at..at + 8].copy_from_slice(&(1u64 << 28).to_le_bytes());
    std::fs::write(data_file(&d.home), &damaged).unwrap();
    let line = start_and_stop(&d.home, "count").expect("the damaged count was not refused");
    eprintln!("count: {line}");
    assert!(line.contains("corrupt: the free-page database"), "{line}");

    // Its largest page one past the file's last page: LMDB would hand that page out as well
    // as the next new one, two pages with one number.
    assert!(u64_at(&original, at) > 0, "the oldest list is empty");
    let mut damaged = original.clone();
    damaged[at + 8..at + 16].copy_from_slice(&(free.last_page + 1).to_le_bytes());
    std::fs::write(data_file(&d.home), &damaged).unwrap();
    let line = start_and_stop(&d.home, "page").expect("the page past the end was not refused");
    eprintln!("page: {line}");
    let past = format!("page {} is not a data page", free.last_page + 1);
    assert!(line.contains(&past), "{line}");

    // Pseudo-random bytes over the root page's records or child pointers.
    for seed in 1..=3u64 {
        let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let mut damaged = original.clone();
        for b in &mut damaged[free.root_nodes(&original)] {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            *b = x as u8;
        }
        std::fs::write(data_file(&d.home), &damaged).unwrap();
        let case = format!("seed {seed}");
        let line = start_and_stop(&d.home, &case).unwrap_or_else(|| panic!("{case} ran"));
        eprintln!("{case}: {line}");
        assert!(line.contains("corrupt:"), "{case}: {line}");
    }

    std::fs::write(data_file(&d.home), &original).unwrap();
    d.relaunch(&[MINING_ADDR]);
    assert_eq!(d.ok("getblockcount", json!([])), json!(50));
}

/// Damage in the database's pages: LMDB has no checksums and reading a damaged page can fault,
/// so the start walks the database in a child process first. Over many damaged copies, every
/// start either refuses in one line with status 1 or runs and stops cleanly — never a signal
/// or a panic — and the walk is what catches the damage that used to kill the daemon.
#[test]
fn damaged_database_pages_are_refused_in_one_line_never_a_crash() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let mut d = Daemon::start("damaged-pages", &[MINING_ADDR]);
    d.ok("generate", json!([200]));
    d.stop();
    let original = std::fs::read(data_file(&d.home)).unwrap();
    let pages = original.len() / 4096;
    assert!(pages > 8, "{pages} pages");
    let (mut refused, mut by_the_walk, mut ran) = (0, 0, 0);
    for case in 0..40u64 {
        // Three 64-byte runs of pseudo-random bytes in pages past LMDB's two meta pages.
        let mut x = case.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut damaged = original.clone();
        for _ in 0..3 {
            let page = 2 + (next() as usize) % (pages - 2);
            let at = page * 4096 + (next() as usize) % (4096 - 64);
            for b in &mut damaged[at..at + 64] {
                *b = next() as u8;
            }
        }
        std::fs::write(data_file(&d.home), &damaged).unwrap();
        match start_and_stop(&d.home, &format!("case {case}")) {
            Some(line) => {
                refused += 1;
                let walk = ["killed the checking process", "corrupt: MDB_", "free-page"];
                if walk.iter().any(|w| line.contains(w)) {
                    by_the_walk += 1;
                }
            }
            // The damage was in free pages or inside values the start does not read.
            None => ran += 1,
        }
    }
    eprintln!("40 damaged copies: {refused} refused ({by_the_walk} by the walk), {ran} ran");
    assert!(by_the_walk > 0, "no damage reached the walk in 40 cases");

    // The undamaged file opens with the whole chain.
    std::fs::write(data_file(&d.home), &original).unwrap();
    d.relaunch(&[MINING_ADDR]);
    assert_eq!(d.ok("getblockcount", json!([])), json!(200));
}

/// An emptied or deleted `data.mdb` beside block files is refused, not restarted from genesis
/// over the blocks; the files are left as they were.
#[test]
fn an_empty_database_beside_block_files_is_refused() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let mut d = Daemon::start("empty-db", &[MINING_ADDR]);
    d.ok("generate", json!([5]));
    let tip = d.ok("getbestblockhash", json!([]));
    d.stop();
    let original = std::fs::read(data_file(&d.home)).unwrap();
    let blk = std::fs::read(block_dir(&d.home).join("blk00000.dat")).unwrap();

    std::fs::write(data_file(&d.home), b"").unwrap();
    let line = refused_start(&d.home);
    assert!(line.contains("data.mdb is missing or empty"), "{line}");
    assert_eq!(std::fs::metadata(data_file(&d.home)).unwrap().len(), 0);
    std::fs::remove_file(data_file(&d.home)).unwrap();
    let line = refused_start(&d.home);
    assert!(line.contains("data.mdb is missing or empty"), "{line}");
    assert_eq!(
        std::fs::read(block_dir(&d.home).join("blk00000.dat")).unwrap(),
        blk
    );

    std::fs::write(data_file(&d.home), &original).unwrap();
    d.relaunch(&[MINING_ADDR]);
    assert_eq!(d.ok("getbestblockhash", json!([])), tip);
}

/// Tells [`full_disk_child`] the store's directory.
const FULL_DISK_DIR: &str = "RBTCD_TEST_FULL_DISK_DIR";

/// Changes in each batch of the full-disk test: more than the 10,000 after which the store
/// closes and reopens its environment to hand back LMDB's dirty pages.
const LARGE_BATCH: u32 = 10_005;

/// Coin `i` of the full-disk test, under a key of its own.
fn test_coin(i: u32) -> (OutPoint, Coin) {
    let op = OutPoint::new(Hash256([(i % 251) as u8; 32]), i);
    let output = TxOut {
        value: i64::from(i),
        script_pubkey: vec![0x51; 25 + (i % 16) as usize],
    };
    let coin = Coin {
        output,
        height: i,
        is_coinbase: false,
    };
    (op, coin)
}

/// Large batch `k`: coins `k * LARGE_BATCH` up to the next batch's.
fn large_batch(k: u32) -> WriteBatch {
    let coins = k * LARGE_BATCH..(k + 1) * LARGE_BATCH;
    let ops = coins.map(|i| {
        let (op, coin) = test_coin(i);
        WriteOp::PutCoin(op, coin)
    });
    WriteBatch { ops: ops.collect() }
}

/// Whether the store holds every coin of batch `k` (`Some(true)`), none (`Some(false)`), or
/// some of them.
fn holds_batch(store: &LmdbStore, k: u32) -> Option<bool> {
    let held = (k * LARGE_BATCH..(k + 1) * LARGE_BATCH)
        .filter(|&i| {
            let (op, coin) = test_coin(i);
            let held = store.coin(&op).unwrap();
            assert!(held.is_none() || held == Some(coin), "coin {i}: {held:?}");
            held.is_some()
        })
        .count();
    match held as u32 {
        0 => Some(false),
        LARGE_BATCH => Some(true),
        _ => None,
    }
}

/// The child process of the full-disk test, run with a file size limit: writes large batches
/// 1, 2, ... into the store in [`FULL_DISK_DIR`] until one fails, printing `committed k`
/// after each batch that did (read back after the environment was reopened), then
/// `failed k: reason` and, once the store still reads the last committed batch, `read`.
#[test]
#[ignore = "run with a file size limit by a_full_disk_under_a_large_batch_is_an_error_and_the_store_reopens"]
fn full_disk_child() {
    let dir = PathBuf::from(std::env::var(FULL_DISK_DIR).expect("run by the full-disk test"));
    let mut store = LmdbStore::open(&dir).unwrap();
    for k in 1..64 {
        if let Err(e) = store.write(large_batch(k)) {
            println!("failed {k}: {e}");
            assert_eq!(holds_batch(&store, k - 1), Some(true));
            assert_eq!(holds_batch(&store, k), Some(false));
            println!("read");
            store.close();
            return;
        }
        assert_eq!(holds_batch(&store, k), Some(true));
        println!("committed {k}");
    }
    panic!("64 large batches fitted under the limit");
}

/// A disk filling up under a batch large enough to reopen the environment after it (see
/// `LmdbStore::release_dirty_pages`): the environment is reopened after the last batch that
/// fits, the next one is an error (not a crash), the store still reads, and once there is
/// room the directory opens at the last committed batch and takes the failed one. The full
/// disk is a file size limit (RLIMIT_FSIZE, with SIGXFSZ ignored so a write past it fails
/// with EFBIG as a write to a full disk fails with ENOSPC).
#[test]
fn a_full_disk_under_a_large_batch_is_an_error_and_the_store_reopens() {
    let dir = common::home("full-disk-batch").join("blocks_lmdb");
    let mut store = LmdbStore::open(&dir).unwrap();
    store.write(large_batch(0)).unwrap();
    store.close();
    let limit = std::fs::metadata(dir.join("data.mdb")).unwrap().len() + (3 << 20);

    // `trap '' XFSZ` leaves the signal ignored across the execs.
    let out = Command::new("sh")
        .args(["-c", "trap '' XFSZ; exec prlimit --fsize=\"$0\" -- \"$@\""])
        .arg(limit.to_string())
        .arg(std::env::current_exe().unwrap())
        .args(["--exact", "full_disk_child", "--ignored", "--nocapture"])
        .env(FULL_DISK_DIR, &dir)
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let committed = stdout
        .lines()
        .filter(|l| l.starts_with("committed "))
        .count() as u32;
    assert!(committed >= 1, "no batch fitted: {stdout}");
    let failed = format!("failed {}: ", committed + 1);
    let reason = stdout
        .lines()
        .find_map(|l| l.strip_prefix(&failed))
        .unwrap_or_else(|| panic!("{stdout}"));
    // A write starting past the limit fails with EFBIG; one crossing it writes short, which
    // LMDB reports as EIO (a full disk's short write too).
    let errors = [
        "File too large (os error 27)",
        "Input/output error (os error 5)",
    ];
    assert!(errors.iter().any(|e| reason.contains(e)), "{reason}");
    assert!(stdout.lines().any(|l| l == "read"), "{stdout}");
    let size = std::fs::metadata(dir.join("data.mdb")).unwrap().len();
    assert!(size <= limit, "{size} > {limit}");
    // What the failed commit wrote lies past the last page in use: the start's check passes.
    let walked = check::check(&common::binaries::rbtcd(), &dir)
        .unwrap()
        .unwrap();
    assert!(walked.free_pages > 0, "{walked:?}");

    // Room again: the committed batches are there, the failed one is not, and it fits now.
    let mut store = LmdbStore::open(&dir).unwrap();
    for k in 0..=committed {
        assert_eq!(holds_batch(&store, k), Some(true), "batch {k}");
    }
    assert_eq!(holds_batch(&store, committed + 1), Some(false));
    store.write(large_batch(committed + 1)).unwrap();
    assert_eq!(holds_batch(&store, committed + 1), Some(true));
    store.close();
    let _ = std::fs::remove_dir_all(dir.parent().unwrap());
}
