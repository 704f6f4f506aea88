//! Bitcoin Knots (a Bitcoin Core derivative) as a regtest peer: installed once per target
//! directory by the project's `get-knots.sh`, started on free ports, spoken to over JSON-RPC.
//! Shared by the interop tests and the interop bench (which includes this file by path).

use super::foreign::{rss_kb, Rpc};
use super::free_ports;
use serde_json::json;
use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// RPC credentials of every Knots started here.
pub const USER: (&str, &str) = ("knots", "knotspw");
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
    /// Its P2P listener, `host:port`.
    pub p2p: String,
    /// Its RPC.
    node: Rpc,
}

impl Deref for Knots {
    type Target = Rpc;

    fn deref(&self) -> &Rpc {
        &self.node
    }
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
        let [rpc_port, p2p_port] = free_ports();
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
            p2p: format!("127.0.0.1:{p2p_port}"),
            node: Rpc {
                name: "knots",
                rpc: format!("127.0.0.1:{rpc_port}"),
                creds: USER,
                log: dir.join("regtest/debug.log"),
            },
            dir,
        };
        k.wait_until_up();
        k
    }

    /// Mines `n` blocks to [`MINING_ADDRESS`] and returns their hashes.
    pub fn mine(&self, n: u32) -> Vec<String> {
        let hashes = self.ok("generatetoaddress", json!([n, MINING_ADDRESS]));
        serde_json::from_value(hashes).unwrap()
    }

    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Resident memory of the process, in kB (from /proc).
    pub fn rss_kb(&self) -> u64 {
        rss_kb(self.pid())
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
