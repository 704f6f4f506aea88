//! `--generate` end to end: the daemon mines regtest blocks into its database, stops on
//! SIGTERM, and a restart without mining finds the blocks still there.

mod common;

use common::{free_port, home, log_path, rbtcd, terminate, wait_for_log};
use rbtcd_core::address::{Address, Payload};
use rbtcd_core::params::{Network, Params};
use std::path::Path;
use std::process::Child;

const ACCEPTED: &str = "Block submitted via CPU miner accepted (hash ";

fn address(network: Network) -> String {
    Address::new(Payload::PubKeyHash([7; 20]), &Params::new(network)).to_string()
}

/// Starts the daemon; unless told otherwise it listens on a free loopback port, so tests can
/// run side by side.
fn start(home: &Path, args: &[&str]) -> Child {
    let own_port = args
        .iter()
        .any(|a| a.starts_with("--listen") || a.starts_with("--connect"));
    let mut all = args.to_vec();
    if !own_port {
        all.push("--listen=127.0.0.1:0");
    }
    common::start(home, &all)
}

#[test]
fn generated_blocks_are_stored_and_survive_a_restart() {
    let h = home("mine");
    let addr = format!("--miningaddr={}", address(Network::Regtest));
    let miner = start(&h, &["--regtest", "--generate", &addr]);
    let text = wait_for_log(&h, "5 accepted blocks", |t| {
        t.matches(ACCEPTED).count() >= 5
    });
    terminate(miner);
    assert!(text.contains("amount 50 BTC)"), "{text}");

    let _ = std::fs::remove_file(log_path(&h));
    let node = start(&h, &["--regtest"]);
    let text = wait_for_log(&h, "the chain state", |t| {
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
    let port = free_port();
    let addr = format!("--miningaddr={}", address(Network::Regtest));
    let listen = format!("--listen=127.0.0.1:{port}");
    let miner = start(&ha, &["--regtest", "--generate", &addr, &listen]);
    wait_for_log(&ha, "3 accepted blocks", |t| {
        t.matches(ACCEPTED).count() >= 3
    });

    let connect = format!("--connect=127.0.0.1:{port}");
    let follower = start(&hb, &["--regtest", &connect, "--debuglevel=debug"]);
    wait_for_log(&hb, "block 3 from the miner", |t| {
        t.contains("Block connected (height 3,")
    });
    terminate(follower);
    terminate(miner);
}

#[test]
fn mining_addresses_of_another_network_are_refused() {
    let h = home("badaddr");
    let addr = format!("--miningaddr={}", address(Network::Mainnet));
    let out = rbtcd(&h, &["--regtest", "--generate", &addr])
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
