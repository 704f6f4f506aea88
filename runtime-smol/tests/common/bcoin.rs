//! bcoin (a JavaScript full node) as a regtest peer: installed once per target directory with
//! npm, started on free ports without wallet and without outbound connections of its own,
//! spoken to over its JSON-RPC (basic auth, the API key as password).

use super::foreign::Rpc;
use super::free_ports;
use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;

/// The API key of every bcoin started here.
const API_KEY: &str = "bcoinpw";
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
    /// Its P2P listener, `host:port`.
    pub p2p: String,
    /// Its HTTP RPC.
    node: Rpc,
}

impl Deref for Bcoin {
    type Target = Rpc;

    fn deref(&self) -> &Rpc {
        &self.node
    }
}

impl Bcoin {
    /// Starts bcoin named `name`, in memory, listening but dialling nobody, and waits until its
    /// RPC answers.
    pub fn start(name: &str) -> Bcoin {
        let bin = install().join("node_modules/.bin/bcoin");
        let dir = std::env::temp_dir().join(format!("rbtcd-bcoin-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let [rpc_port, p2p_port] = free_ports();
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
            p2p: format!("127.0.0.1:{p2p_port}"),
            node: Rpc {
                name: "bcoin",
                rpc: format!("127.0.0.1:{rpc_port}"),
                creds: ("x", API_KEY),
                log: dir.join("debug.log"),
            },
            dir,
        };
        b.wait_until_up();
        b
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
