//! Running a test inside a network namespace of its own, so that it can give itself routable
//! addresses, a DNS resolver and a multicast route (SSDP) without any traffic leaving the
//! namespace. The test re-executes its own binary under `ip netns exec`; `/etc/netns/NAME/`
//! holds the namespace's `resolv.conf` and `hosts`, which `ip netns exec` mounts over `/etc`.

use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

/// Set in the re-executed test: the namespace it runs in.
const INSIDE: &str = "RBTCD_TEST_NETNS";

/// Routable addresses the namespace's loopback carries (public-looking, but reachable only
/// inside the namespace): the node under test, other nodes or peers, and an external address.
pub const NODE_IP: &str = "20.0.0.1";
/// A second host in the namespace.
pub const OTHER_IP: &str = "20.0.0.2";
/// A third host in the namespace (a raw test peer).
pub const PEER_IP: &str = "20.0.0.3";
/// The home gateway's LAN address.
pub const GATEWAY_IP: &str = "192.168.1.1";

/// Runs the test named `test` (its path in the test binary) in a fresh namespace: returns
/// false after the namespace run passed (the caller returns), true when already inside (the
/// caller runs its body). The namespace has `lo` up with the addresses above, a multicast
/// route on `lo`, and a resolver at 127.0.0.1:53.
pub fn enter(test: &str) -> bool {
    if std::env::var_os(INSIDE).is_some() {
        return true;
    }
    static COUNT: AtomicU32 = AtomicU32::new(0);
    let name = format!(
        "rbtcd-{}-{}",
        std::process::id(),
        COUNT.fetch_add(1, Ordering::Relaxed)
    );
    let ns = Namespace::create(&name);
    let out = Command::new("ip")
        .args(["netns", "exec", &ns.name])
        .arg(std::env::current_exe().unwrap())
        .args(["--exact", test, "--nocapture", "--test-threads=1"])
        .env(INSIDE, &ns.name)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "{test} failed in {}:\n{text}",
        ns.name
    );
    assert!(text.contains("1 passed"), "{test} did not run:\n{text}");
    false
}

/// A namespace, deleted with its `/etc/netns` files when dropped.
struct Namespace {
    name: String,
}

impl Namespace {
    fn create(name: &str) -> Namespace {
        let ip = |args: &[&str]| {
            let status = Command::new("ip").args(args).status().unwrap();
            assert!(status.success(), "ip {args:?} failed (needs root)");
        };
        ip(&["netns", "add", name]);
        let ns = Namespace {
            name: name.to_string(),
        };
        ip(&["-n", name, "link", "set", "lo", "up", "multicast", "on"]);
        for addr in [NODE_IP, OTHER_IP, PEER_IP, GATEWAY_IP] {
            ip(&[
                "-n",
                name,
                "addr",
                "add",
                &format!("{addr}/32"),
                "dev",
                "lo",
            ]);
        }
        ip(&["-n", name, "route", "add", "224.0.0.0/4", "dev", "lo"]);
        let etc = ns.etc();
        std::fs::create_dir_all(&etc).unwrap();
        std::fs::write(
            etc.join("resolv.conf"),
            "nameserver 127.0.0.1\noptions timeout:2 attempts:1\n",
        )
        .unwrap();
        std::fs::write(etc.join("hosts"), "127.0.0.1 localhost\n").unwrap();
        ns
    }

    fn etc(&self) -> std::path::PathBuf {
        std::path::Path::new("/etc/netns").join(&self.name)
    }
}

impl Drop for Namespace {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(self.etc());
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .status();
    }
}
