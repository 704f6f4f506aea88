//! `--generate` end to end: the daemon mines regtest blocks into its database, stops on
//! SIGTERM, and a restart without mining finds the blocks still there.

use rbtcd_core::address::{Address, Payload};
use rbtcd_core::params::{Network, Params};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const ACCEPTED: &str = "Block submitted via CPU miner accepted (hash ";

fn home(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rbtcd-gen-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn address(network: Network) -> String {
    Address::new(Payload::PubKeyHash([7; 20]), &Params::new(network)).to_string()
}

/// Starts the daemon; unless told otherwise it listens on a free loopback port, so tests can
/// run side by side.
fn start(home: &Path, args: &[&str]) -> Child {
    let any_port = ["--listen=127.0.0.1:0"];
    let listen = args
        .iter()
        .any(|a| a.starts_with("--listen") || a.starts_with("--connect"));
    Command::new(env!("CARGO_BIN_EXE_rbtcd"))
        .args(args)
        .args(if listen { &[][..] } else { &any_port[..] })
        .env("HOME", home)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits (at most a minute) until `done` holds for the log's text, and returns the text.
fn wait_for(log: &Path, what: &str, done: impl Fn(&str) -> bool) -> String {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(60) {
        if let Ok(text) = std::fs::read_to_string(log) {
            if done(&text) {
                return text;
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("{what} never appeared in {}", log.display());
}

fn terminate(child: Child) {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
}

#[test]
fn generated_blocks_are_stored_and_survive_a_restart() {
    let h = home("mine");
    let log = h.join(".rbtcd/logs/regtest/rbtcd.log");
    let addr = format!("--miningaddr={}", address(Network::Regtest));
    let miner = start(&h, &["--regtest", "--generate", &addr]);
    let text = wait_for(&log, "5 accepted blocks", |t| {
        t.matches(ACCEPTED).count() >= 5
    });
    terminate(miner);
    assert!(text.contains("amount 50 BTC)"), "{text}");

    let _ = std::fs::remove_file(&log);
    let node = start(&h, &["--regtest"]);
    let text = wait_for(&log, "the chain state", |t| {
        t.contains("Chain state (height ")
    });
    terminate(node);
    let height: u32 = text
        .split("Chain state (height ")
        .nth(1)
        .and_then(|rest| rest.split(',').next())
        .and_then(|n| n.parse().ok())
        .expect("a height in the chain state line");
    assert!(height >= 5, "only {height} blocks kept:\n{text}");
    assert!(!text.contains(ACCEPTED), "mined without --generate");
}

#[test]
fn a_second_daemon_syncs_the_mined_blocks_over_p2p() {
    let (ha, hb) = (home("p2p-a"), home("p2p-b"));
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = format!("--miningaddr={}", address(Network::Regtest));
    let listen = format!("--listen=127.0.0.1:{port}");
    let miner = start(&ha, &["--regtest", "--generate", &addr, &listen]);
    let log_a = ha.join(".rbtcd/logs/regtest/rbtcd.log");
    wait_for(&log_a, "3 accepted blocks", |t| {
        t.matches(ACCEPTED).count() >= 3
    });

    let connect = format!("--connect=127.0.0.1:{port}");
    let follower = start(&hb, &["--regtest", &connect, "--debuglevel=debug"]);
    let log_b = hb.join(".rbtcd/logs/regtest/rbtcd.log");
    wait_for(&log_b, "block 3 from the miner", |t| {
        t.contains("Block connected (height 3,")
    });
    terminate(follower);
    terminate(miner);
}

#[test]
fn mining_addresses_of_another_network_are_refused() {
    let h = home("badaddr");
    let addr = format!("--miningaddr={}", address(Network::Mainnet));
    let out = Command::new(env!("CARGO_BIN_EXE_rbtcd"))
        .args(["--regtest", "--generate", &addr])
        .env("HOME", &h)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("is not valid for the active network"),
        "{stderr}"
    );
}
