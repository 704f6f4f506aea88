//! The daemon's optional features end to end: the transaction index (`--txindex`, turned on
//! late, dropped), `debuglevel` changing levels live, `invalidateblock`/`reconsiderblock`,
//! `verifychain`, their refusal to the limited user, and peers dialled through a SOCKS5 proxy
//! (plain addresses through `--proxy`, `.onion` names through `--onion`).

mod common;

use common::rpc::{Daemon, LIMITED};
use common::socks::{Requests, Socks};
use common::{log_text, wait_for_log, PATIENCE};
use serde_json::{json, Value};
use std::time::Instant;

const MINING_ADDR: &str = "--miningaddr=mgA7SfyBBrVGVSpQ7oqGHPhxpp2gUZWtfc";

/// Mines `n` blocks and returns their hashes.
fn generate(d: &Daemon, n: u32) -> Vec<String> {
    d.ok("generate", json!([n]))
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h.as_str().unwrap().to_string())
        .collect()
}

/// The coinbase txid of block `hash`.
fn coinbase_of(d: &Daemon, hash: &str) -> String {
    d.ok("getblock", json!([hash]))["tx"][0]
        .as_str()
        .unwrap()
        .to_string()
}

fn log_of(d: &Daemon) -> String {
    log_text(&d.home)
}

#[test]
fn txindex_answers_getrawtransaction_for_a_mined_coinbase() {
    let d = Daemon::start("txindex", &["--txindex", MINING_ADDR]);
    let hashes = generate(&d, 2);
    let txid = coinbase_of(&d, &hashes[0]);
    let verbose = d.ok("getrawtransaction", json!([txid, 1]));
    assert_eq!(verbose["txid"], json!(txid));
    assert_eq!(verbose["blockhash"], json!(hashes[0]));
    assert_eq!(verbose["confirmations"], json!(2));
    let block = d.ok("getblockheader", json!([hashes[0]]));
    assert_eq!(verbose["blocktime"], block["time"]);
    assert!(verbose["vin"][0]["coinbase"].is_string());
    let hex = d.ok("getrawtransaction", json!([txid]));
    assert_eq!(hex, verbose["hex"]);
    // Unknown transactions get btcd's -5.
    assert_eq!(d.err("getrawtransaction", json!(["ab".repeat(32)])), -5);
}

#[test]
fn txindex_turned_on_late_catches_up_and_can_be_dropped() {
    let mut d = Daemon::start("txindex-late", &[MINING_ADDR]);
    let hashes = generate(&d, 3);
    let txid = coinbase_of(&d, &hashes[2]);
    let r = d.call_as(common::rpc::ADMIN, "getrawtransaction", json!([txid]));
    assert_eq!(r["error"]["code"], json!(-5));
    assert_eq!(
        r["error"]["message"],
        json!("The transaction index must be enabled to query the blockchain (specify --txindex)")
    );

    d.restart(&["--txindex"]);
    wait_for_log(&d.home, "the catch-up", |t| {
        t.contains("Catching up indexes from height 0 to 3")
            && t.contains("Indexes caught up to height 3")
    });
    assert_eq!(
        d.ok("getrawtransaction", json!([txid, true]))["blockhash"],
        json!(hashes[2])
    );

    d.stop();
    let out = common::rbtcd(&d.home, &["--regtest", "--droptxindex"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(log_of(&d).contains("Dropped transaction index"));
    d.relaunch(&["--txindex"]);
    let text = wait_for_log(&d.home, "a second catch-up", |t| {
        t.matches("Catching up indexes from height 0 to 3").count() == 2
    });
    assert!(text.contains("Transaction index is enabled"));
    assert!(d.ok("getrawtransaction", json!([txid])).is_string());
}

#[test]
fn debuglevel_lists_subsystems_and_changes_levels_while_running() {
    let d = Daemon::start("debuglevel", &[MINING_ADDR]);
    let show = d.ok("debuglevel", json!(["show"]));
    let show = show.as_str().unwrap();
    assert!(show.starts_with("Supported subsystems ["), "{show}");
    for tag in ["CHAN", "INDX", "PEER", "RPCS", "SRVR", "TXMP"] {
        assert!(show.contains(tag), "{tag} in {show}");
    }
    // Block connections are logged at debug level: not yet...
    generate(&d, 1);
    assert_eq!(d.ok("debuglevel", json!(["SRVR=debug"])), json!("Done."));
    // ...but once SRVR is at debug, they are.
    generate(&d, 1);
    wait_for_log(&d.home, "a debug line after the change", |t| {
        t.contains("Block connected (height 2")
    });
    assert!(!log_of(&d).contains("Block connected (height 1,"));
    assert_eq!(d.err("debuglevel", json!(["SRVR=loud"])), -32602);
    assert_eq!(d.err("debuglevel", json!(["NOPE=info"])), -32602);
    assert_eq!(d.ok("debuglevel", json!(["info"])), json!("Done."));
}

#[test]
fn invalidateblock_moves_the_tip_back_and_reconsiderblock_restores_it() {
    let d = Daemon::start("invalidate", &[MINING_ADDR]);
    let hashes = generate(&d, 5);
    assert_eq!(d.ok("verifychain", json!([])), json!(true));
    assert_eq!(d.ok("verifychain", json!([3, 5])), json!(true));

    assert_eq!(d.ok("invalidateblock", json!([hashes[2]])), Value::Null);
    assert_eq!(d.ok("getblockcount", json!([])), json!(2));
    assert_eq!(d.ok("getbestblockhash", json!([])), json!(hashes[1]));
    let tips = d.ok("getchaintips", json!([]));
    assert!(
        tips.as_array()
            .unwrap()
            .iter()
            .any(|t| t["hash"] == json!(hashes[4]) && t["status"] == "invalid"),
        "{tips}"
    );
    assert_eq!(d.ok("reconsiderblock", json!([hashes[2]])), Value::Null);
    assert_eq!(d.ok("getblockcount", json!([])), json!(5));
    assert_eq!(d.ok("getbestblockhash", json!([])), json!(hashes[4]));
    assert_eq!(d.err("invalidateblock", json!(["00".repeat(32)])), -32603);
    assert_eq!(d.err("reconsiderblock", json!(["nothex"])), -22);
}

#[test]
fn limited_user_is_refused_the_admin_operator_commands() {
    let d = Daemon::start("operator-limited", &[]);
    for (method, params) in [("debuglevel", json!(["info"])), ("verifychain", json!([]))] {
        let r = d.call_as(LIMITED, method, params);
        assert_eq!(r["error"]["code"], json!(-32603), "{method}: {r}");
        assert_eq!(
            r["error"]["message"],
            json!("limited user not authorized for this method")
        );
    }
    // btcd lets the limited user invalidate and reconsider blocks (its rpcLimited set).
    let genesis = d.ok("getblockhash", json!([0]));
    let r = d.call_as(LIMITED, "reconsiderblock", json!([genesis]));
    assert!(r["error"].is_null(), "{r}");
}

/// A SOCKS5 proxy requiring the login `user`/`pass`, and what it was asked.
fn socks5_proxy(user: &'static str, pass: &'static str) -> (String, Requests) {
    let socks = Socks {
        login: Some((user, pass)),
        resolves_to: [127, 0, 0, 1].into(),
    };
    socks.start("127.0.0.1:0")
}

#[test]
fn a_daemon_syncs_through_a_socks5_proxy() {
    let source = Daemon::start("socks-source", &[MINING_ADDR]);
    let hashes = generate(&source, 4);
    let (proxy, targets) = socks5_proxy("alice", "s3cret");
    let proxy_arg = format!("--proxy={proxy}");
    let connect_arg = format!("--connect={}", source.p2p);
    let synced = Daemon::start(
        "socks-synced",
        &[
            &proxy_arg,
            "--proxyuser=alice",
            "--proxypass=s3cret",
            &connect_arg,
        ],
    );
    let start = Instant::now();
    while synced.ok("getbestblockhash", json!([])) != json!(hashes[3]) {
        assert!(start.elapsed() < PATIENCE, "never synced through the proxy");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let asked = targets.lock().unwrap().clone();
    assert!(
        asked.contains(&format!("CONNECT {}", source.p2p)),
        "{asked:?}"
    );
}

#[test]
fn onion_peers_are_dialled_by_name_through_the_onion_proxy() {
    let (proxy, targets) = socks5_proxy("tor", "tor");
    let onion_arg = format!("--onion={proxy}");
    let _d = Daemon::start(
        "socks-onion",
        &[
            &onion_arg,
            "--onionuser=tor",
            "--onionpass=tor",
            "--connect=expyuzz4wqqyqhjn.onion:18444",
        ],
    );
    let start = Instant::now();
    // The proxy cannot reach the hidden service, but it is asked for it by name.
    while !targets
        .lock()
        .unwrap()
        .contains(&"CONNECT expyuzz4wqqyqhjn.onion:18444".to_string())
    {
        assert!(
            start.elapsed() < PATIENCE,
            "the onion proxy was never asked"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}
