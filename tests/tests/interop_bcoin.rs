//! rbtcd against bcoin (a JavaScript full node) on regtest: rbtcd syncs bcoin's blocks, bcoin
//! accepts rbtcd's, and the RPC views of the shared chain agree. bcoin is installed with npm on
//! first use (see `runtime-smol/tests/common/bcoin.rs`); without npm or network these tests
//! fail, never skip.

// The harness the daemon's own end-to-end tests use, so that both drive nodes one way.
#[path = "../../runtime-smol/tests/common/mod.rs"]
mod common;

use common::bcoin::Bcoin;
use common::foreign::{BLOCK_FIELDS, HEADER_FIELDS};
use common::rpc::Daemon;
use common::PATIENCE;
use rbtcd_core::address::{base58, Address, Payload};
use rbtcd_core::params::{Network, Params};
use serde_json::{json, Value};
use std::time::Instant;

/// The same P2PKH output as rbtcd and as bcoin write it: bcoin 1.0.2's regtest has address
/// prefixes of its own (base58 version 0x3c, bech32 "rb") where Core and rbtcd use testnet's.
fn addresses() -> (String, String) {
    let hash = [7; 20];
    let ours = Address::new(Payload::PubKeyHash(hash), &Params::new(Network::Regtest));
    let theirs = base58::encode_check(&[&[0x3c][..], &hash].concat());
    (ours.to_string(), theirs)
}

fn wait_until(what: &str, done: impl Fn() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < PATIENCE, "waited in vain for {what}");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

fn tip(d: &Daemon) -> String {
    d.ok("getbestblockhash", json!([]))
        .as_str()
        .unwrap()
        .to_string()
}

/// Checks that each of `fields` is present in both objects with the same value.
fn assert_fields_agree(what: &str, ours: &Value, theirs: &Value, fields: &[&str]) {
    for key in fields {
        assert!(ours.get(key).is_some(), "{what}: rbtcd lacks {key}: {ours}");
        assert_eq!(
            ours[key], theirs[key],
            "{what}: field {key} differs (rbtcd vs bcoin)"
        );
    }
}

/// Difficulties agree to the last digit Core prints: bcoin prints the exact double
/// (4.6565423739069247e-10 on regtest), Core and rbtcd 16 significant digits.
fn assert_same_difficulty(what: &str, ours: &Value, theirs: &Value) {
    let (a, b) = (ours.as_f64().unwrap(), theirs.as_f64().unwrap());
    assert!((a - b).abs() <= b * 1e-15, "{what}: difficulty {a} vs {b}");
}

#[test]
fn rbtcd_syncs_from_bcoin_bcoin_accepts_rbtcd_blocks_and_their_rpc_views_agree() {
    // 1. bcoin mines 300 blocks; rbtcd connects and reaches the same tip.
    let bcoin = Bcoin::start("shared");
    let (pay_to, bcoin_pay_to) = addresses();
    bcoin.ok("generatetoaddress", json!([300, bcoin_pay_to]));
    let d = Daemon::start(
        "bcoin-shared",
        &[
            &format!("--connect={}", bcoin.p2p),
            &format!("--miningaddr={pay_to}"),
        ],
    );
    wait_until("rbtcd to reach bcoin's tip at 300", || {
        tip(&d) == bcoin.tip()
    });

    // 2. rbtcd mines 100 on top; bcoin validates them and follows.
    let ours = d.ok("generate", json!([100]));
    let ours = ours
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .as_str()
        .unwrap()
        .to_string();
    bcoin.wait_for("bcoin to accept rbtcd's 100 blocks", || bcoin.tip() == ours);

    // 4. The RPC views of the shared chain.
    for method in ["getblockcount", "getbestblockhash", "getchaintips"] {
        assert_eq!(
            d.ok(method, json!([])),
            bcoin.ok(method, json!([])),
            "{method}"
        );
    }
    assert_same_difficulty(
        "getdifficulty",
        &d.ok("getdifficulty", json!([])),
        &bcoin.ok("getdifficulty", json!([])),
    );
    for height in [0, 1, 150, 300, 301, 400] {
        let hash = d.ok("getblockhash", json!([height]));
        assert_eq!(
            hash,
            bcoin.ok("getblockhash", json!([height])),
            "height {height}"
        );
        let what = format!("getblockheader {height}");
        assert_eq!(
            d.ok("getblockheader", json!([hash, false])),
            bcoin.ok("getblockheader", json!([hash, false])),
            "{what} raw"
        );
        let (a, b) = (
            d.ok("getblockheader", json!([hash, true])),
            bcoin.ok("getblockheader", json!([hash, true])),
        );
        // bcoin writes `bits` as a number and has no `nonce` here; the rest is shared.
        assert_fields_agree(&what, &a, &b, &[HEADER_FIELDS, &["versionHex"]].concat());
        assert_same_difficulty(&what, &a["difficulty"], &b["difficulty"]);
        let what = format!("getblock {height}");
        assert_eq!(
            d.ok("getblock", json!([hash, 0])),
            bcoin.ok("getblock", json!([hash, 0])),
            "{what} verbosity 0"
        );
        let (a, b) = (
            d.ok("getblock", json!([hash, 1])),
            bcoin.ok("getblock", json!([hash, 1])),
        );
        assert_fields_agree(&what, &a, &b, BLOCK_FIELDS);
        assert_same_difficulty(&what, &a["difficulty"], &b["difficulty"]);
    }
}
