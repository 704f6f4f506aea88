//! bcoin (a JavaScript full node) as a regtest peer: installed once per target directory with
//! npm, started on free ports without wallet and without outbound connections of its own,
//! spoken to over its JSON-RPC (basic auth, the API key as password).

use super::free_port;
use super::knots::post;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The API key of every bcoin started here.
const API_KEY: &str = "bcoinpw";
/// How long bcoin may take to start or to reach a state a test waits for: a liveness bound.
const PATIENCE: Duration = Duration::from_secs(120);
/// bcoin 1.0.2's `leveldown` does not build on current Node; 6.1.1 ships prebuilt binaries.
const PACKAGE_JSON: &str = r#"{"name": "rbtcd-interop-bcoin", "private": true,
  "dependencies": {"bcoin": "1.0.2"}, "overrides": {"leveldown": "6.1.1"}}"#;

/// The directory holding `node_modules/.bin/bcoin`, installed with npm on first use (under
/// `flock`, so test binaries running side by side share one copy). Without npm or network
/// this panics with the reason, never skips.
pub fn install() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dest = Path::new(env!("CARGO_TARGET_TMPDIR")).join("bcoin");
        std::fs::create_dir_all(&dest).unwrap();
        std::fs::write(dest.join("package.json"), PACKAGE_JSON).unwrap();
        let out = Command::new("flock")
            .arg(dest.join(".install-lock"))
            .args(["npm", "install", "--no-audit", "--no-fund", "--prefix"])
            .arg(&dest)
            .output()
            .unwrap_or_else(|e| panic!("cannot run flock npm (bcoin needs Node.js and npm): {e}"));
        assert!(
            out.status.success() && dest.join("node_modules/.bin/bcoin").exists(),
            "installing bcoin 1.0.2 with npm failed (network access to the npm registry is \
             needed):\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        dest
    })
}

/// A running regtest bcoin, killed and removed when dropped.
pub struct Bcoin {
    child: Child,
    /// Its prefix directory (logs).
    pub dir: PathBuf,
    /// Its HTTP RPC listener, `host:port`.
    pub rpc: String,
    /// Its P2P listener, `host:port`.
    pub p2p: String,
}

impl Bcoin {
    /// Starts bcoin named `name`, in memory, listening but dialling nobody, and waits until its
    /// RPC answers.
    pub fn start(name: &str) -> Bcoin {
        let bin = install().join("node_modules/.bin/bcoin");
        let dir = std::env::temp_dir().join(format!("rbtcd-bcoin-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let (rpc_port, p2p_port) = (free_port(), free_port());
        let child = Command::new(bin)
            .arg("--network=regtest")
            .arg("--no-wallet")
            .arg("--memory")
            .arg(format!("--prefix={}", dir.display()))
            .arg("--host=127.0.0.1")
            .arg(format!("--port={p2p_port}"))
            .arg("--http-host=127.0.0.1")
            .arg(format!("--http-port={rpc_port}"))
            .arg(format!("--api-key={API_KEY}"))
            .arg("--listen")
            // bcoin insists on dialling someone (regtest's seed is 127.0.0.1:48444, which a
            // stray bcoin might hold); port 1 refuses at once, so it dials nobody.
            .arg("--only=127.0.0.1:1")
            .arg("--log-level=debug")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let b = Bcoin {
            child,
            dir,
            rpc: format!("127.0.0.1:{rpc_port}"),
            p2p: format!("127.0.0.1:{p2p_port}"),
        };
        b.wait_for("its RPC to come up", || {
            b.call_within(Duration::from_secs(2), "getblockcount", json!([]))
                .is_ok()
        });
        b
    }

    /// One JSON-RPC call: the result, or the error object.
    pub fn call(&self, method: &str, params: Value) -> Result<Value, Value> {
        self.call_within(PATIENCE, method, params)
    }

    fn call_within(&self, timeout: Duration, method: &str, params: Value) -> Result<Value, Value> {
        let body = json!({"jsonrpc": "1.0", "id": 1, "method": method, "params": params});
        let reply = post(
            &self.rpc,
            ("x", API_KEY),
            body.to_string().as_bytes(),
            timeout,
        )
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
            .unwrap_or_else(|e| panic!("bcoin {method}: {e}"))
    }

    /// Its best block hash.
    pub fn tip(&self) -> String {
        self.ok("getbestblockhash", json!([]))
            .as_str()
            .unwrap()
            .to_string()
    }

    /// Waits until `done` holds, failing with `what` and the end of bcoin's log.
    pub fn wait_for(&self, what: &str, done: impl Fn() -> bool) {
        let start = Instant::now();
        while !done() {
            if start.elapsed() > PATIENCE {
                let log = std::fs::read_to_string(self.dir.join("debug.log")).unwrap_or_default();
                let tail: Vec<&str> = log.lines().rev().take(40).collect();
                let tail: Vec<&str> = tail.into_iter().rev().collect();
                panic!(
                    "bcoin in {}: waited in vain for {what}; its log ends:\n{}",
                    self.dir.display(),
                    tail.join("\n")
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Bcoin {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        // A failed test leaves the directory (with bcoin's debug.log) to look at.
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}
