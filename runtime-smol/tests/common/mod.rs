//! Helpers shared by the end-to-end tests: a private home directory per daemon, starting the
//! real binary, reading its regtest log, stopping it as an operator would.
#![allow(dead_code)]

pub mod bcoin;
pub mod binaries;
pub mod dns;
pub mod foreign;
pub mod gateway;
pub mod knots;
pub mod netns;
pub mod p2p;
pub mod peer;
pub mod rpc;
pub mod socks;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a test waits for a log line before failing: a liveness bound, not a speed target.
pub const PATIENCE: Duration = Duration::from_secs(120);

/// A fresh, empty home directory for one daemon (its `.rbtcd` goes there).
pub fn home(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rbtcd-e2e-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The daemon binary with `home` as its home directory, without RPC unless `args` set it up,
/// and then over plain HTTP (`--notls`, the tests' listeners are loopback ones).
pub fn rbtcd(home: &Path, args: &[&str]) -> Command {
    let mut c = rbtcd_tls(home, args);
    if args.iter().any(|a| a.starts_with("--rpc")) && !args.contains(&"--norpc") {
        c.arg("--notls");
    }
    c
}

/// The daemon binary with `home` as its home directory, without RPC unless `args` set it up,
/// and then over TLS unless `args` say `--notls`.
pub fn rbtcd_tls(home: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(binaries::rbtcd());
    // Without credentials the daemon serves RPC with a cookie on the default port, which
    // daemons of tests running side by side would contend for; a port of the kernel's choosing
    // (`:0`) can be one that `free_port` just handed to another test's daemon. Tests that talk
    // RPC pass their own `--rpc...` options.
    if !args
        .iter()
        .any(|a| a.starts_with("--rpc") || *a == "--norpc")
    {
        c.arg("--norpc");
    }
    c.args(args).env("HOME", home);
    c
}

/// Starts the daemon in the background (stdout discarded, stderr kept for the exit check).
pub fn start(home: &Path, args: &[&str]) -> Child {
    rbtcd(home, args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// A free loopback port (released for the daemon to take).
pub fn free_port() -> u16 {
    let [port] = free_ports();
    port
}

/// `N` free loopback ports, none handed out before in this process: the kernel hands a
/// just-released port out again readily, and tests run side by side, so a port given to one
/// test's daemon could otherwise go to another's before the first daemon binds it.
pub fn free_ports<const N: usize>() -> [u16; N] {
    static GIVEN: std::sync::Mutex<std::collections::BTreeSet<u16>> =
        std::sync::Mutex::new(std::collections::BTreeSet::new());
    let mut given = GIVEN.lock().unwrap_or_else(|p| p.into_inner());
    // Held until all are chosen, so the kernel cannot repeat one within the call.
    let mut held = Vec::new();
    let mut ports = [0; N];
    for port in &mut ports {
        *port = loop {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            let p = l.local_addr().unwrap().port();
            held.push(l);
            if given.insert(p) {
                break p;
            }
        };
    }
    ports
}

/// Whether something listens on `addr`. A connection to itself does not count: while nothing
/// listens, the kernel can pick the target port as the probe's own and join the two halves
/// (TCP simultaneous open), which then also keeps the daemon from binding that port.
pub fn listening(addr: &str) -> bool {
    std::net::TcpStream::connect(addr)
        .is_ok_and(|s| matches!((s.local_addr(), s.peer_addr()), (Ok(l), Ok(p)) if l != p))
}

/// The regtest log file of the daemon living in `home`.
pub fn log_path(home: &Path) -> PathBuf {
    home.join(".rbtcd/logs/regtest/rbtcd.log")
}

/// The log's text so far (empty before the daemon wrote any).
pub fn log_text(home: &Path) -> String {
    std::fs::read_to_string(log_path(home)).unwrap_or_default()
}

/// Waits until `done` holds for the log's text and returns the text; fails naming `what`.
pub fn wait_for_log(home: &Path, what: &str, done: impl Fn(&str) -> bool) -> String {
    let start = Instant::now();
    while start.elapsed() < PATIENCE {
        let text = log_text(home);
        if done(&text) {
            return text;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("{what} never appeared in {}", log_path(home).display());
}

/// Sends SIGTERM and checks the daemon exits with status 0.
pub fn terminate(child: Child) {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
}
