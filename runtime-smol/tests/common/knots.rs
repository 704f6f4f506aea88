//! Bitcoin Knots (a Bitcoin Core derivative) as a regtest peer: installed once per target
//! directory by the project's `get-knots.sh`, started on free ports, spoken to over JSON-RPC.
//! Shared by the interop tests and the interop bench (which includes this file by path).

use super::free_port;
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// RPC credentials of every Knots started here.
pub const USER: (&str, &str) = ("knots", "knotspw");
/// How long Knots may take to start or to reach a state a test waits for: a liveness bound.
const PATIENCE: Duration = Duration::from_secs(120);
/// Knots's own regtest mining address (P2WPKH), as its functional tests use.
pub const MINING_ADDRESS: &str = "bcrt1qmf0ly9d73vceccttvtn3auzdudfdr7p0jve494";

/// The directory holding Knots's `bin/bitcoind`, installed on first use. The install runs
/// under `flock` so that test binaries and benches running side by side share one copy; a
/// missing script or network makes this panic with the reason, never skip.
pub fn install() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dest = Path::new(env!("CARGO_TARGET_TMPDIR")).join("knots");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/tools/get-knots.sh");
        assert!(
            script.exists(),
            "Bitcoin Knots installer missing: {} (the interop tests need the project's shared \
             tools beside the repository)",
            script.display()
        );
        std::fs::create_dir_all(&dest).unwrap();
        let out = Command::new("flock")
            .arg(dest.join(".install-lock"))
            .arg(&script)
            .arg(&dest)
            .output()
            .unwrap_or_else(|e| panic!("cannot run flock {}: {e}", script.display()));
        assert!(
            out.status.success() && dest.join("bin/bitcoind").exists(),
            "installing Bitcoin Knots failed (network access to the Debian mirror is needed):\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        dest
    })
}

/// A running regtest `bitcoind`, stopped and removed when dropped.
pub struct Knots {
    child: Child,
    /// Its data directory.
    pub dir: PathBuf,
    /// Its RPC listener, `host:port`.
    pub rpc: String,
    /// Its P2P listener, `host:port`.
    pub p2p: String,
}

impl Knots {
    /// Starts Knots named `name` (a data directory of its own) with extra `key=value` lines for
    /// the `[regtest]` section (which override the defaults, e.g. `disablewallet=0`), and waits
    /// until its RPC answers.
    pub fn start(name: &str, extra: &[&str]) -> Knots {
        let bin = install().join("bin/bitcoind");
        let dir = std::env::temp_dir().join(format!("rbtcd-knots-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let (rpc_port, p2p_port) = (free_port(), free_port());
        let mut conf = format!(
            "regtest=1\ndnsseed=0\nfixedseeds=0\nlistenonion=0\ndisablewallet=1\n\
             [regtest]\nbind=127.0.0.1:{p2p_port}\nport={p2p_port}\nrpcbind=127.0.0.1\n\
             rpcallowip=127.0.0.1\nrpcport={rpc_port}\nrpcuser={}\nrpcpassword={}\n",
            USER.0, USER.1
        );
        for line in extra {
            conf += line;
            conf.push('\n');
        }
        std::fs::write(dir.join("bitcoin.conf"), conf).unwrap();
        let child = Command::new(bin)
            .arg(format!("-datadir={}", dir.display()))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let k = Knots {
            child,
            dir,
            rpc: format!("127.0.0.1:{rpc_port}"),
            p2p: format!("127.0.0.1:{p2p_port}"),
        };
        // Polled with a short timeout: while Knots is still starting, its free port may briefly
        // belong to something else that never answers.
        k.wait_for("its RPC to come up", || {
            k.call_within(Duration::from_secs(2), "getblockcount", json!([]))
                .is_ok()
        });
        k
    }

    /// One JSON-RPC call: the result, or the error object.
    pub fn call(&self, method: &str, params: Value) -> Result<Value, Value> {
        self.call_within(PATIENCE, method, params)
    }

    /// A call whose reply must arrive within `timeout`.
    fn call_within(&self, timeout: Duration, method: &str, params: Value) -> Result<Value, Value> {
        let body = json!({"jsonrpc": "1.0", "id": 1, "method": method, "params": params});
        let reply = post(&self.rpc, USER, body.to_string().as_bytes(), timeout)
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
            .unwrap_or_else(|e| panic!("knots {method}: {e}"))
    }

    /// Mines `n` blocks to [`MINING_ADDRESS`] and returns their hashes.
    pub fn mine(&self, n: u32) -> Vec<String> {
        let hashes = self.ok("generatetoaddress", json!([n, MINING_ADDRESS]));
        serde_json::from_value(hashes).unwrap()
    }

    /// Waits until `done` holds, failing with `what` and the end of Knots's debug log.
    pub fn wait_for(&self, what: &str, done: impl Fn() -> bool) {
        let start = Instant::now();
        while !done() {
            if start.elapsed() > PATIENCE {
                let log =
                    std::fs::read_to_string(self.dir.join("regtest/debug.log")).unwrap_or_default();
                let tail: Vec<&str> = log.lines().rev().take(40).collect();
                let tail: Vec<&str> = tail.into_iter().rev().collect();
                panic!(
                    "Knots in {}: waited in vain for {what}; its log ends:\n{}",
                    self.dir.display(),
                    tail.join("\n")
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Its best block hash.
    pub fn tip(&self) -> String {
        self.ok("getbestblockhash", json!([]))
            .as_str()
            .unwrap()
            .to_string()
    }

    /// Resident memory of the process, in kB (from /proc).
    pub fn rss_kb(&self) -> u64 {
        rss_kb(self.child.id())
    }
}

impl Drop for Knots {
    fn drop(&mut self) {
        let _ = self.call("stop", json!([]));
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(20) {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        // A failed test leaves the data directory (with Knots's debug.log) to look at.
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// The resident set size of process `pid`, in kB.
pub fn rss_kb(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS in /proc status")
}

/// POSTs `body` to `addr` with basic auth and returns the reply body (any HTTP status: Core
/// answers JSON-RPC 1.0 errors with 500 and the error in the body).
pub fn post(
    addr: &str,
    who: (&str, &str),
    body: &[u8],
    timeout: Duration,
) -> std::io::Result<Vec<u8>> {
    let mut s = TcpStream::connect(addr)?;
    s.set_read_timeout(Some(timeout))?;
    let head = format!(
        "POST / HTTP/1.1\r\nHost: x\r\nAuthorization: {}\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n",
        rbtcd::rpc_http::basic_auth(who.0, who.1),
        body.len()
    );
    s.write_all(head.as_bytes())?;
    s.write_all(body)?;
    let mut reply = Vec::new();
    s.read_to_end(&mut reply)?;
    let end = reply
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| std::io::Error::other("no HTTP head in the reply"))?;
    Ok(reply.split_off(end + 4))
}
