//! What the interop harnesses share about a third-party node: calling its JSON-RPC, waiting
//! for a state with its log tail on failure, and plain HTTP posting.

use super::PATIENCE;
use rbtcd::rpc::client;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Verbose `getblockheader` fields that Knots and bcoin both write as rbtcd does (bcoin writes
/// `bits` as a number and has no `nonce`; Knots's extra fields are its suite's to add).
pub const HEADER_FIELDS: &[&str] = &[
    "hash",
    "confirmations",
    "height",
    "version",
    "merkleroot",
    "time",
];

/// `getblock` verbosity-1 fields that Knots and bcoin both write as rbtcd does.
pub const BLOCK_FIELDS: &[&str] = &[
    "hash",
    "confirmations",
    "size",
    "strippedsize",
    "weight",
    "height",
    "version",
    "versionHex",
    "merkleroot",
    "tx",
    "time",
];

/// A foreign node's JSON-RPC endpoint and its log file.
pub struct Rpc {
    /// What it is called in failure messages ("knots", "bcoin").
    pub name: &'static str,
    /// Its RPC listener, `host:port`.
    pub rpc: String,
    /// Basic-auth user and password.
    pub creds: (&'static str, &'static str),
    /// Its log, whose tail a failed wait shows.
    pub log: PathBuf,
}

impl Rpc {
    /// One JSON-RPC call: the result, or the error object.
    pub fn call(&self, method: &str, params: Value) -> Result<Value, Value> {
        self.call_within(PATIENCE, method, params)
    }

    /// A call whose reply must arrive within `timeout`.
    pub fn call_within(
        &self,
        timeout: Duration,
        method: &str,
        params: Value,
    ) -> Result<Value, Value> {
        let body = json!({"jsonrpc": "1.0", "id": 1, "method": method, "params": params});
        let reply = post(&self.rpc, self.creds, body.to_string().as_bytes(), timeout)
            .map_err(|e| json!({"transport": e.to_string()}))?;
        let reply: Value =
            serde_json::from_slice(&reply).map_err(|e| json!({"unparsable": e.to_string()}))?;
        match reply["error"].is_null() {
            true => Ok(reply["result"].clone()),
            false => Err(reply["error"].clone()),
        }
    }

    /// The result of a call, failing the test on an error.
    pub fn ok(&self, method: &str, params: Value) -> Value {
        self.call(method, params)
            .unwrap_or_else(|e| panic!("{} {method}: {e}", self.name))
    }

    /// Its best block hash.
    pub fn tip(&self) -> String {
        self.ok("getbestblockhash", json!([]))
            .as_str()
            .unwrap()
            .to_string()
    }

    /// Waits until `done` holds, failing with `what` and the end of the node's log.
    pub fn wait_for(&self, what: &str, done: impl Fn() -> bool) {
        let start = Instant::now();
        while !done() {
            if start.elapsed() > PATIENCE {
                let log = std::fs::read_to_string(&self.log).unwrap_or_default();
                let tail: Vec<&str> = log.lines().rev().take(40).collect();
                let tail: Vec<&str> = tail.into_iter().rev().collect();
                panic!(
                    "{} ({}): waited in vain for {what}; its log ends:\n{}",
                    self.name,
                    self.log.display(),
                    tail.join("\n")
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits until the RPC answers, polling with a short timeout: while the node is still
    /// starting, its free port may briefly belong to something else that never answers.
    pub fn wait_until_up(&self) {
        self.wait_for("its RPC to come up", || {
            self.call_within(Duration::from_secs(2), "getblockcount", json!([]))
                .is_ok()
        });
    }
}

/// The resident set size of process `pid`, in kB.
pub fn rss_kb(pid: u32) -> u64 {
    status_kb(pid, "VmRSS")
}

/// The peak resident set size of process `pid` over its life so far, in kB.
pub fn peak_rss_kb(pid: u32) -> u64 {
    status_kb(pid, "VmHWM")
}

/// The CPU time process `pid` has used so far, all its threads' user and system time
/// (`/proc/<pid>/stat`).
pub fn cpu_time(pid: u32) -> Duration {
    // Linux reports these in USER_HZ ticks, which its ABI fixes at 100 per second.
    const TICKS_PER_SEC: u64 = 100;
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // The command name may hold spaces; the numeric fields follow its closing parenthesis,
    // starting with the state (field 3), so utime (14) and stime (15) are the 12th and 13th.
    let fields: Vec<&str> = stat[stat.rfind(')').unwrap() + 1..]
        .split_whitespace()
        .collect();
    let ticks: u64 = fields[11..13]
        .iter()
        .map(|f| f.parse::<u64>().unwrap())
        .sum();
    Duration::from_millis(ticks * 1000 / TICKS_PER_SEC)
}

/// Polls `tip` until it returns `target`; how long that took since `start` (a sync timed from
/// its node's process start).
pub fn synced(start: Instant, target: &str, tip: impl Fn() -> String) -> Duration {
    while tip() != target {
        assert!(
            start.elapsed() < Duration::from_secs(600),
            "sync never finished"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    start.elapsed()
}

/// The machine's one-minute load average (`/proc/loadavg`), printed beside side-by-side
/// comparisons so a reader knows how busy the machine was.
pub fn loadavg() -> String {
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    load.split_whitespace().next().unwrap_or("?").to_string()
}

/// A `kB` field of `/proc/<pid>/status`.
/// The kB figure `field` of `/proc/<pid>/status` (`VmHWM`, `RssAnon`, `RssFile`, ...).
pub fn status_kb(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("{field} in /proc/{pid}/status"))
}

/// Samples the resident set size of process `pid` every 10 ms on a thread of its own until
/// stopped; [`RssSampler::stop`] gives the most seen, in kB.
pub struct RssSampler {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: std::thread::JoinHandle<u64>,
}

impl RssSampler {
    /// Starts sampling `pid`.
    pub fn start(pid: u32) -> RssSampler {
        use std::sync::atomic::{AtomicBool, Ordering};
        let stop = std::sync::Arc::new(AtomicBool::new(false));
        let flag = std::sync::Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            let mut most = 0;
            while !flag.load(Ordering::Relaxed) {
                most = rss_kb(pid).max(most);
                std::thread::sleep(Duration::from_millis(10));
            }
            most
        });
        RssSampler { stop, thread }
    }

    /// Stops sampling; the most resident memory seen, in kB.
    pub fn stop(self) -> u64 {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        self.thread.join().unwrap()
    }
}

/// POSTs `body` to `addr` with basic auth and returns the reply body (any HTTP status: Core
/// answers JSON-RPC 1.0 errors with 500 and the error in the body).
pub fn post(
    addr: &str,
    who: (&str, &str),
    body: &[u8],
    timeout: Duration,
) -> std::io::Result<Vec<u8>> {
    client::Connector::plain()
        .post(addr, Some(who), body, timeout)
        .map(|reply| reply.body)
}
