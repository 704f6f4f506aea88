//! rbtcd against Bitcoin Knots (a Bitcoin Core derivative) on regtest: each syncs the other's
//! blocks, both reorganise to the other's longer fork, the RPC views of the shared chain
//! agree (Core's commands too: field names, JSON types and the values that must match),
//! `preciousblock` moves both to the same tip, each loads the other's `mempool.dat`, and
//! Knots's own `bitcoin-cli` drives rbtcd through a regtest workflow. Knots is installed on first use by the project's `get-knots.sh` (see
//! `runtime-smol/tests/common/knots.rs`); without it or without network access these tests
//! fail, never skip.

// The harness the daemon's own end-to-end tests use, so that both drive nodes one way.
#[path = "../../runtime-smol/tests/common/mod.rs"]
mod common;

use common::foreign::{BLOCK_FIELDS, HEADER_FIELDS};
use common::knots::{self, Knots, MINING_ADDRESS};
use common::rpc::{Daemon, ADMIN};
use common::PATIENCE;
use rbtcd_core::address::{Address, Payload, WitnessProgram};
use rbtcd_core::params::{Network, Params};
use rbtcd_core::primitives::hash::hex_encode;
use rbtcd_core::primitives::{Encodable, OutPoint, Transaction, TxIn, TxOut};
use rbtcd_core::script::hashes::hash160;
use rbtcd_core::script::sighash::{SighashCache, SIGHASH_ALL};
use serde_json::{json, Value};
use std::time::Instant;

/// Header fields Knots writes as Core and rbtcd do, beyond those bcoin shares too.
const CORE_HEADER_FIELDS: &[&str] = &["nonce", "bits", "difficulty"];

/// Waits until `done` holds, failing with `what`.
fn wait_until(what: &str, done: impl Fn() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < PATIENCE, "waited in vain for {what}");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// The reply text of a parameterless `method` at `addr`.
fn raw(addr: &str, who: (&str, &str), method: &str) -> String {
    let body = json!({"jsonrpc": "1.0", "id": 1, "method": method, "params": []});
    let reply = common::foreign::post(addr, who, body.to_string().as_bytes(), PATIENCE).unwrap();
    String::from_utf8(reply).unwrap()
}

/// rbtcd's best block hash.
fn tip(d: &Daemon) -> String {
    d.ok("getbestblockhash", json!([]))
        .as_str()
        .unwrap()
        .to_string()
}

/// An rbtcd daemon mining to Knots's address, with `extra` arguments.
/// `getblockchaininfo` fields whose values rbtcd and Knots share on the same chain.
const CHAIN_INFO_FIELDS: [&str; 8] = [
    "chain",
    "blocks",
    "headers",
    "bestblockhash",
    "difficulty",
    "mediantime",
    "chainwork",
    "pruned",
];

fn rbtcd(name: &str, extra: &[&str]) -> Daemon {
    let mut args = vec![format!("--miningaddr={MINING_ADDRESS}")];
    args.extend(extra.iter().map(|a| a.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    Daemon::start(&format!("knots-{name}"), &args)
}

/// Knots with `blocks` mined, and an rbtcd following only it, synced to its tip.
fn rbtcd_following_knots(name: &str, blocks: u32) -> (Knots, Daemon) {
    let knots = Knots::start(name, &[]);
    knots.mine(blocks);
    let d = rbtcd(name, &[&format!("--connect={}", knots.p2p)]);
    wait_until(&format!("rbtcd to sync Knots's {blocks} blocks"), || {
        tip(&d) == knots.tip()
    });
    (knots, d)
}

/// Mines `n` blocks on rbtcd and returns the last one's hash.
fn generate(d: &Daemon, n: u32) -> String {
    let hashes = d.ok("generate", json!([n]));
    let hashes = hashes.as_array().unwrap();
    assert_eq!(hashes.len(), n as usize);
    hashes.last().unwrap().as_str().unwrap().to_string()
}

/// Knots's peers whose user agent names rbtcd.
fn rbtcd_peers(k: &Knots) -> Vec<Value> {
    let peers = k.ok("getpeerinfo", json!([]));
    peers
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["subver"].as_str().unwrap_or("").contains("rbtcd"))
        .cloned()
        .collect()
}

/// Checks that every field present in both objects has the same value, and that at least
/// `expected` such fields exist (so a renamed field cannot silently drop out of the check).
fn assert_shared_fields_agree(what: &str, ours: &Value, theirs: &Value, expected: &[&str]) {
    let (ours, theirs) = (ours.as_object().unwrap(), theirs.as_object().unwrap());
    for key in expected {
        assert!(ours.contains_key(*key), "{what}: rbtcd lacks {key}");
        assert!(theirs.contains_key(*key), "{what}: Knots lacks {key}");
    }
    for (key, value) in ours {
        if let Some(other) = theirs.get(key) {
            assert_eq!(value, other, "{what}: field {key} differs (rbtcd vs Knots)");
        }
    }
}

#[test]
fn rbtcd_syncs_from_knots_knots_accepts_rbtcd_blocks_and_their_rpc_views_agree() {
    // 1. Knots mines 300 blocks; rbtcd connects and reaches the same tip.
    let knots = Knots::start("shared", &["txindex=1"]);
    knots.mine(300);
    let d = rbtcd(
        "shared",
        &[
            &format!("--connect={}", knots.p2p),
            "--debuglevel=debug",
            "--txindex",
        ],
    );
    wait_until("rbtcd to reach Knots's tip at 300", || {
        tip(&d) == knots.tip()
    });
    assert_eq!(d.ok("getblockcount", json!([])), json!(300));

    // Knots also dials rbtcd: BIP324 v2 first, which rbtcd closes unanswered, then v1.
    knots.ok("addnode", json!([d.p2p, "add"]));
    knots.wait_for("Knots's outbound v1 connection to rbtcd", || {
        rbtcd_peers(&knots)
            .iter()
            .any(|p| p["inbound"] == json!(false) && p["transport_protocol_type"] == json!("v1"))
    });

    let log = common::log_text(&d.home);
    assert!(log.contains(": UnrecognisedHandshake"), "{log}");
    assert!(!log.contains("misbehaving"), "{log}");

    // 2. rbtcd mines 100 on top; Knots validates them and follows.
    let ours = generate(&d, 100);
    knots.wait_for("Knots to accept rbtcd's 100 blocks", || knots.tip() == ours);
    assert_eq!(knots.ok("getblockcount", json!([])), json!(400));
    let tips = knots.ok("getchaintips", json!([]));
    assert_eq!(
        tips.as_array().unwrap().len(),
        1,
        "no rejected branch: {tips}"
    );

    // 4. The RPC views of the shared chain.
    for method in ["getblockcount", "getbestblockhash", "getchaintips"] {
        assert_eq!(
            d.ok(method, json!([])),
            knots.ok(method, json!([])),
            "{method}"
        );
    }
    assert_shared_fields_agree(
        "getblockchaininfo",
        &d.ok("getblockchaininfo", json!([])),
        &knots.ok("getblockchaininfo", json!([])),
        &CHAIN_INFO_FIELDS,
    );
    // Knots dropped `getdifficulty`; its value is the tip's difficulty in getblockchaininfo.
    // Compared as printed: serde_json's float parsing can read two texts 1 ulp apart as one.
    let rbtcd_text = raw(&d.rpc, ADMIN, "getdifficulty");
    let knots_text = raw(&knots.rpc, knots::USER, "getblockchaininfo");
    let printed = |text: &str, key: &str| {
        let at = text.find(key).unwrap_or_else(|| panic!("{key} in {text}")) + key.len();
        text[at..].split([',', '}']).next().unwrap().to_string()
    };
    assert_eq!(
        printed(&rbtcd_text, r#""result":"#),
        printed(&knots_text, r#""difficulty":"#),
        "getdifficulty"
    );
    // Knots's blocks, rbtcd's blocks, the genesis block and the tip.
    for height in [0, 1, 150, 299, 300, 301, 399, 400] {
        let hash = d.ok("getblockhash", json!([height]));
        assert_eq!(
            hash,
            knots.ok("getblockhash", json!([height])),
            "height {height}"
        );
        for verbose in [false, true] {
            let what = format!("getblockheader {height} verbose={verbose}");
            let (a, b) = (
                d.ok("getblockheader", json!([hash, verbose])),
                knots.ok("getblockheader", json!([hash, verbose])),
            );
            match verbose {
                false => assert_eq!(a, b, "{what}"),
                true => assert_shared_fields_agree(
                    &what,
                    &a,
                    &b,
                    &[HEADER_FIELDS, CORE_HEADER_FIELDS].concat(),
                ),
            }
        }
        let what = format!("getblock {height} verbosity 0");
        assert_eq!(
            d.ok("getblock", json!([hash, 0])),
            knots.ok("getblock", json!([hash, 0])),
            "{what}"
        );
        let what = format!("getblock {height} verbosity 1");
        assert_shared_fields_agree(
            &what,
            &d.ok("getblock", json!([hash, 1])),
            &knots.ok("getblock", json!([hash, 1])),
            &[BLOCK_FIELDS, CORE_HEADER_FIELDS].concat(),
        );
        if height > 0 {
            assert_same_coinbase(&d, &knots, &hash, height);
        }
    }
}

/// Both nodes' `getrawtransaction` of the coinbase of block `hash` (through their transaction
/// indexes): the raw bytes, and the verbose fields both implement (their `vin`/`vout` objects
/// differ in naming, so their values and scripts are compared one by one).
fn assert_same_coinbase(d: &Daemon, knots: &Knots, hash: &Value, height: u32) {
    let txid = &d.ok("getblock", json!([hash, 1]))["tx"][0];
    let what = format!("getrawtransaction of the coinbase at {height}");
    assert_eq!(
        d.ok("getrawtransaction", json!([txid, 0])),
        knots.ok("getrawtransaction", json!([txid, 0])),
        "{what}"
    );
    let (a, b) = (
        d.ok("getrawtransaction", json!([txid, 1])),
        knots.ok("getrawtransaction", json!([txid, 1])),
    );
    for key in [
        "txid",
        "hash",
        "version",
        "size",
        "vsize",
        "weight",
        "locktime",
        "hex",
        "blockhash",
        "confirmations",
        "time",
        "blocktime",
    ] {
        assert!(!a[key].is_null(), "{what}: rbtcd lacks {key}");
        assert_eq!(a[key], b[key], "{what}: field {key} (rbtcd vs Knots)");
    }
    let (va, vb) = (a["vout"].as_array().unwrap(), b["vout"].as_array().unwrap());
    assert_eq!(va.len(), vb.len(), "{what}: outputs");
    for (x, y) in va.iter().zip(vb) {
        assert_eq!(x["value"], y["value"], "{what}: output value");
        assert_eq!(x["n"], y["n"], "{what}: output index");
        assert_eq!(
            x["scriptPubKey"]["hex"], y["scriptPubKey"]["hex"],
            "{what}: output script"
        );
    }
    assert_eq!(
        a["vin"][0]["coinbase"], b["vin"][0]["coinbase"],
        "{what}: coinbase script"
    );
}

/// Cuts every connection of Knots (rbtcd keeps redialling its `--connect` peer, which Knots
/// refuses while inactive) and waits until both sides see none.
fn cut(knots: &Knots, d: &Daemon) {
    knots.ok("setnetworkactive", json!([false]));
    knots.wait_for("Knots to drop its peers", || {
        knots.ok("getconnectioncount", json!([])) == json!(0)
    });
    wait_until("rbtcd to notice", || {
        d.ok("getconnectioncount", json!([])) == json!(0)
    });
}

/// The tips of `chaintips` that are not the active one, as (height, branchlen, status).
fn side_tips(chaintips: &Value) -> Vec<(u64, u64, String)> {
    chaintips
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["status"] != json!("active"))
        .map(|t| {
            (
                t["height"].as_u64().unwrap(),
                t["branchlen"].as_u64().unwrap(),
                t["status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn each_reorganises_to_the_others_longer_fork() {
    let (knots, d) = rbtcd_following_knots("forks", 110);

    // 3a. Apart, Knots mines 6 and rbtcd 3; together again, rbtcd takes Knots's fork.
    cut(&knots, &d);
    let theirs = knots.mine(6).pop().unwrap();
    let ours = generate(&d, 3);
    knots.ok("setnetworkactive", json!([true]));
    wait_until("rbtcd to reorganise to Knots's fork", || tip(&d) == theirs);
    assert_eq!(d.ok("getblockcount", json!([])), json!(116));
    let stale = d.ok("getblockheader", json!([ours, true]));
    assert_eq!(stale["confirmations"], json!(-1), "{stale}");
    assert_eq!(
        side_tips(&d.ok("getchaintips", json!([]))),
        [(113, 3, "valid-fork".to_string())]
    );

    // 3b. Apart again, Knots mines 2 and rbtcd 5; together, Knots takes rbtcd's fork.
    cut(&knots, &d);
    knots.mine(2);
    let ours = generate(&d, 5);
    knots.ok("setnetworkactive", json!([true]));
    knots.wait_for("Knots to reorganise to rbtcd's fork", || {
        knots.tip() == ours
    });
    assert_eq!(knots.ok("getblockcount", json!([])), json!(121));
    // Both know both stale branches; each has the blocks only of the one it was on.
    wait_until("rbtcd to hear of Knots's stale blocks", || {
        side_tips(&d.ok("getchaintips", json!([]))).len() == 2
    });
    assert_eq!(
        side_tips(&d.ok("getchaintips", json!([]))),
        [
            (118, 2, "headers-only".to_string()),
            (113, 3, "valid-fork".to_string())
        ]
    );
    assert_eq!(
        side_tips(&knots.ok("getchaintips", json!([]))),
        [
            (118, 2, "valid-fork".to_string()),
            (113, 3, "headers-only".to_string())
        ]
    );
    let without_status = |tips: Value| {
        let mut tips = tips;
        for t in tips.as_array_mut().unwrap() {
            t.as_object_mut().unwrap().remove("status");
        }
        tips
    };
    assert_eq!(
        without_status(d.ok("getchaintips", json!([]))),
        without_status(knots.ok("getchaintips", json!([])))
    );
}

/// rbtcd's mempool, as a sorted list of txids.
fn mempool(get: impl Fn() -> Value) -> Vec<String> {
    let mut txids: Vec<String> = serde_json::from_value(get()).unwrap();
    txids.sort();
    txids
}

#[test]
fn segwit_and_taproot_payments_relay_between_knots_and_rbtcd() {
    let knots = Knots::start("wallet", &["disablewallet=0", "fallbackfee=0.0002"]);
    knots.ok("createwallet", json!(["w"]));
    let miner = knots.ok("getnewaddress", json!([]));
    knots.ok("generatetoaddress", json!([101, miner]));
    let d = rbtcd("wallet", &[&format!("--connect={}", knots.p2p)]);
    wait_until("rbtcd to sync the wallet's chain", || {
        tip(&d) == knots.tip()
    });

    // Knots pays a P2WPKH and a P2TR address of its wallet; rbtcd takes both into its
    // mempool, then the block that confirms them.
    let mut paid = Vec::new();
    for kind in ["bech32", "bech32m"] {
        let address = knots.ok("getnewaddress", json!(["", kind]));
        let txid = knots.ok("sendtoaddress", json!([address, 10]));
        let tx = knots.ok("gettransaction", json!([txid, false, true]));
        let vout = tx["details"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["address"] == address && o["category"] == json!("receive"))
            .unwrap_or_else(|| panic!("no output to {address} in {tx}"))["vout"]
            .clone();
        paid.push((txid, vout));
    }
    let knots_pool = || knots.ok("getrawmempool", json!([]));
    let ours = || d.ok("getrawmempool", json!([]));
    assert_eq!(mempool(knots_pool).len(), 2);
    wait_until("rbtcd to accept Knots's two payments", || {
        mempool(ours) == mempool(knots_pool)
    });
    let block = knots.mine(1).pop().unwrap();
    wait_until("rbtcd to connect the block with the payments", || {
        tip(&d) == block
    });
    assert!(mempool(ours).is_empty());

    // A spend of both outputs (witness v0 and a taproot key path), signed by Knots's wallet,
    // enters through rbtcd and reaches Knots's mempool; rbtcd's block confirming it is
    // accepted by Knots (witness commitment included).
    let inputs: Vec<Value> = paid
        .iter()
        .map(|(txid, vout)| json!({"txid": txid, "vout": vout}))
        .collect();
    let to = knots.ok("getnewaddress", json!(["", "bech32m"]));
    let unsigned = knots.ok(
        "createrawtransaction",
        json!([inputs, {to.as_str().unwrap(): 19.9999}]),
    );
    let signed = knots.ok("signrawtransactionwithwallet", json!([unsigned]));
    assert_eq!(signed["complete"], json!(true), "{signed}");
    let spend = d.ok("sendrawtransaction", json!([signed["hex"]]));
    wait_until("Knots to receive the spend from rbtcd", || {
        mempool(knots_pool) == [spend.as_str().unwrap().to_string()]
    });
    let ours_block = generate(&d, 1);
    knots.wait_for("Knots to accept rbtcd's block with the spend", || {
        knots.tip() == ours_block
    });
    assert!(mempool(knots_pool).is_empty());
    let confirmed = knots.ok("gettransaction", json!([spend]));
    assert_eq!(confirmed["blockhash"], json!(ours_block), "{confirmed}");

    // The two UTXO sets (P2WPKH, P2TR, coinbases, change) are the same, byte for byte.
    let theirs = knots.ok("gettxoutsetinfo", json!([]));
    let ours = d.ok("gettxoutsetinfo", json!([]));
    assert_shared_fields_agree(
        "gettxoutsetinfo",
        &ours,
        &theirs,
        &[
            "height",
            "bestblock",
            "txouts",
            "bogosize",
            "hash_serialized_3",
            "total_amount",
            "transactions",
        ],
    );
}

/// JSON's name for the type of `v`.
fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Checks that both objects have each of `expected`, and that every field they share has the
/// same JSON type.
fn assert_same_shape(what: &str, ours: &Value, theirs: &Value, expected: &[&str]) {
    let (ours, theirs) = (ours.as_object().unwrap(), theirs.as_object().unwrap());
    for key in expected {
        assert!(
            ours.contains_key(*key),
            "{what}: rbtcd lacks {key}: {ours:?}"
        );
        assert!(
            theirs.contains_key(*key),
            "{what}: Knots lacks {key}: {theirs:?}"
        );
    }
    for (key, value) in ours {
        if let Some(other) = theirs.get(key) {
            assert_eq!(
                json_type(value),
                json_type(other),
                "{what}: field {key} is {value} in rbtcd, {other} in Knots"
            );
        }
    }
}

/// Knots's `bitcoin-cli` against rbtcd: runs `args`, checks it exits 0 and returns its output
/// (JSON when it parses as such, else the text as a string).
fn cli(d: &Daemon, args: &[&str]) -> Value {
    let (host, port) = d.rpc.rsplit_once(':').unwrap();
    let out = std::process::Command::new(knots::install().join("bin/bitcoin-cli"))
        .args([
            "-regtest".to_string(),
            format!("-rpcconnect={host}"),
            format!("-rpcport={port}"),
            format!("-rpcuser={}", ADMIN.0),
            format!("-rpcpassword={}", ADMIN.1),
        ])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "bitcoin-cli {args:?} exited {}: {}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    serde_json::from_str(&text).unwrap_or_else(|_| json!(text.trim()))
}

/// A key the test holds, its P2WPKH output script and regtest address.
struct Wallet {
    key: secp256k1::SecretKey,
    pubkey: [u8; 33],
    script: Vec<u8>,
    address: String,
}

impl Wallet {
    fn new() -> Wallet {
        let key = secp256k1::SecretKey::from_slice(&[0x42; 32]).unwrap();
        let pubkey = secp256k1::PublicKey::from_secret_key(secp256k1::SECP256K1, &key).serialize();
        let hash = hash160(&pubkey).to_vec();
        let script = [&[0x00, 20][..], &hash].concat();
        let program = WitnessProgram::new(0, hash).unwrap();
        let address = Address::new(Payload::Witness(program), &Params::new(Network::Regtest));
        Wallet {
            key,
            pubkey,
            script,
            address: address.to_string(),
        }
    }

    /// A transaction spending `value` satoshis at `prevout` (paying this wallet) back to it,
    /// less `fee`, signed with the core's BIP143 signature hash.
    fn spend(&self, prevout: OutPoint, value: i64, fee: i64) -> Transaction {
        let mut tx = Transaction {
            version: 2,
            inputs: vec![TxIn {
                prevout,
                script_sig: vec![],
                sequence: u32::MAX,
                witness: vec![],
            }],
            outputs: vec![TxOut {
                value: value - fee,
                script_pubkey: self.script.clone(),
            }],
            lock_time: 0,
        };
        let spent = [TxOut {
            value,
            script_pubkey: self.script.clone(),
        }];
        // BIP143 signs a P2WPKH spend with the key's P2PKH script as the script code.
        let code = [&[0x76, 0xa9, 20][..], &self.script[2..], &[0x88, 0xac]].concat();
        let digest = SighashCache::new(&tx, &spent).segwit_v0(0, &code, value, SIGHASH_ALL);
        let sig = secp256k1::SECP256K1
            .sign_ecdsa(&secp256k1::Message::from_digest(digest), &self.key)
            .serialize_der();
        tx.inputs[0].witness = vec![[&sig[..], &[SIGHASH_ALL]].concat(), self.pubkey.to_vec()];
        tx
    }
}

/// Satoshis of a BTC amount as JSON-RPC reports it.
fn sats(btc: &Value) -> i64 {
    (btc.as_f64().unwrap() * 1e8).round() as i64
}

#[test]
fn new_commands_answer_as_knots_does_and_bitcoin_cli_drives_rbtcd() {
    let knots = Knots::start("cli", &["txindex=1"]);
    // The harness's daemons serve plain HTTP (`--notls`), which bitcoin-cli speaks.
    let d = rbtcd("cli", &[&format!("--connect={}", knots.p2p), "--txindex"]);
    let wallet = Wallet::new();

    // Knots's bitcoin-cli mines on rbtcd: a block paying the test's key, then 100 to mature it.
    let mined = cli(&d, &["generatetoaddress", "1", &wallet.address]);
    let ours = mined[0].as_str().unwrap().to_string();
    knots.wait_for("Knots to follow rbtcd", || knots.tip() == ours);
    let theirs = knots.mine(1);
    assert_same_shape(
        "generatetoaddress",
        &json!({"hashes": mined}),
        &json!({"hashes": theirs}),
        &["hashes"],
    );
    wait_until("rbtcd to follow Knots", || tip(&d) == knots.tip());
    cli(&d, &["generatetoaddress", "100", MINING_ADDRESS]);
    knots.wait_for("Knots to take rbtcd's 100 blocks", || {
        knots.tip() == tip(&d)
    });

    let block = cli(&d, &["getblock", &ours, "2"]);
    let coinbase = &block["tx"]
        .as_array()
        .or(block["rawtx"].as_array())
        .unwrap()[0];
    let (vout, value) = coinbase["vout"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["scriptPubKey"]["hex"] == json!(hex_encode(&wallet.script)))
        .map(|o| (o["n"].as_u64().unwrap() as u32, sats(&o["value"])))
        .expect("the coinbase pays the test's key");
    let txid = coinbase["txid"].as_str().unwrap().to_string();
    let raw = cli(&d, &["getrawtransaction", &txid, "1"]);
    assert_eq!(raw["txid"], json!(txid));

    // A spend signed here goes in through bitcoin-cli, and reaches Knots.
    let spend = wallet.spend(OutPoint::new(txid.parse().unwrap(), vout), value, 12_345);
    let hex = hex_encode(&spend.encode());
    let sent = cli(&d, &["sendrawtransaction", &hex]);
    assert_eq!(sent, json!(spend.txid().to_string()));
    let spent_txid = spend.txid().to_string();
    knots.wait_for("Knots to receive the spend from rbtcd", || {
        knots.call("getmempoolentry", json!([spent_txid])).is_ok()
    });
    let entry = cli(&d, &["getmempoolentry", &spent_txid]);
    let theirs = knots.ok("getmempoolentry", json!([spent_txid]));
    assert_same_shape(
        "getmempoolentry",
        &entry,
        &theirs,
        &[
            "vsize",
            "weight",
            "time",
            "height",
            "descendantcount",
            "descendantsize",
            "ancestorcount",
            "ancestorsize",
            "wtxid",
            "fees",
            "depends",
            "spentby",
            "bip125-replaceable",
        ],
    );
    for key in [
        "vsize",
        "weight",
        "height",
        "descendantcount",
        "descendantsize",
        "ancestorcount",
        "ancestorsize",
        "wtxid",
        "depends",
        "spentby",
    ] {
        assert_eq!(entry[key], theirs[key], "getmempoolentry: field {key}");
    }
    assert_eq!(sats(&entry["fees"]["base"]), 12_345);
    assert_eq!(entry["fees"]["base"], theirs["fees"]["base"]);

    let estimate = cli(&d, &["estimatesmartfee", "6"]);
    assert_same_shape(
        "estimatesmartfee",
        &estimate,
        &knots.ok("estimatesmartfee", json!([6])),
        &["blocks"],
    );

    // The spend confirmed in a block bitcoin-cli mines on rbtcd; both nodes' statistics of
    // it, and of a block with only a coinbase, are the same.
    let confirming = cli(&d, &["generatetoaddress", "1", MINING_ADDRESS])[0].clone();
    knots.wait_for("Knots to take the block with the spend", || {
        json!(knots.tip()) == confirming
    });
    for at in [confirming.clone(), json!(ours), json!(0)] {
        let (a, b) = (
            d.ok("getblockstats", json!([at])),
            knots.ok("getblockstats", json!([at])),
        );
        // Every one of Core's 31 statistics, names and values alike.
        assert_eq!(a, b, "getblockstats {at}");
        assert_eq!(a.as_object().unwrap().len(), 31, "{a}");
    }
    let picked = json!([confirming, ["totalfee", "txs"]]);
    assert_eq!(
        d.ok("getblockstats", picked.clone()),
        knots.ok("getblockstats", picked)
    );
    assert_eq!(
        d.ok("getblockstats", json!([confirming]))["totalfee"],
        json!(12_345)
    );

    // The rest of the week's commands on the shared chain.
    let (a, b) = (
        d.ok("getdeploymentinfo", json!([])),
        knots.ok("getdeploymentinfo", json!([])),
    );
    assert_eq!((&a["hash"], &a["height"]), (&b["hash"], &b["height"]));
    for name in ["bip34", "bip66", "bip65", "csv", "segwit"] {
        assert_eq!(a["deployments"][name], b["deployments"][name], "{name}");
    }
    assert_eq!(
        a["deployments"]["taproot"]["active"],
        b["deployments"]["taproot"]["active"]
    );
    wait_until("Knots's transaction index to catch up", || {
        knots.ok("getindexinfo", json!([])) == d.ok("getindexinfo", json!([]))
    });
    assert_eq!(
        d.ok("getindexinfo", json!(["txindex"])),
        knots.ok("getindexinfo", json!(["txindex"]))
    );
    assert_same_shape(
        "getnetworkinfo",
        &d.ok("getnetworkinfo", json!([])),
        &knots.ok("getnetworkinfo", json!([])),
        &[
            "version",
            "subversion",
            "protocolversion",
            "localservices",
            "localrelay",
            "timeoffset",
            "connections",
            "networkactive",
            "networks",
            "relayfee",
            "incrementalfee",
            "localaddresses",
            "warnings",
        ],
    );
    assert_same_shape(
        "getblockchaininfo",
        &d.ok("getblockchaininfo", json!([])),
        &knots.ok("getblockchaininfo", json!([])),
        &[&CHAIN_INFO_FIELDS[..], &["warnings"]].concat(),
    );
    let confirmed = cli(&d, &["getrawtransaction", &spent_txid, "1"]);
    assert_eq!(confirmed["blockhash"], confirming);
}

#[test]
fn preciousblock_moves_both_to_the_same_tip_of_equal_work() {
    let (knots, d) = rbtcd_following_knots("precious", 105);
    // Apart, each mines one block; each is then handed the other's, so both hold the same two
    // tips of equal work, each active on its own.
    cut(&knots, &d);
    let theirs = knots.mine(1).pop().unwrap();
    let ours = generate(&d, 1);
    let hex = |v: Value| v.as_str().unwrap().to_string();
    let theirs_hex = hex(knots.ok("getblock", json!([theirs, 0])));
    let ours_hex = hex(d.ok("getblock", json!([ours, 0])));
    assert_eq!(d.ok("submitblock", json!([theirs_hex])), Value::Null);
    // Core answers "inconclusive" for a valid block that did not become the tip.
    let knots_took = knots.ok("submitblock", json!([ours_hex]));
    assert!(
        knots_took.is_null() || knots_took == json!("inconclusive"),
        "{knots_took}"
    );
    assert_eq!(tip(&d), ours, "the first seen stays the tip");
    assert_eq!(knots.tip(), theirs);
    // Each invalidates its own tip and moves to the other's block; reconsidered, the block it
    // saw first is its tip again.
    assert_eq!(d.ok("invalidateblock", json!([ours])), Value::Null);
    assert_eq!(knots.ok("invalidateblock", json!([theirs])), Value::Null);
    assert_eq!((tip(&d), knots.tip()), (theirs.clone(), ours.clone()));
    assert_eq!(d.ok("reconsiderblock", json!([ours])), Value::Null);
    assert_eq!(knots.ok("reconsiderblock", json!([theirs])), Value::Null);
    assert_eq!((tip(&d), knots.tip()), (ours.clone(), theirs.clone()));

    // Each prefers the other's block, then its own again, then the other's: both follow.
    for (precious, name) in [
        (&theirs, "Knots's"),
        (&ours, "rbtcd's"),
        (&theirs, "Knots's"),
    ] {
        assert_eq!(d.ok("preciousblock", json!([precious])), Value::Null);
        assert_eq!(knots.ok("preciousblock", json!([precious])), Value::Null);
        assert_eq!(&tip(&d), precious, "rbtcd on {name} block");
        assert_eq!(&knots.tip(), precious, "Knots on {name} block");
    }
    // Both refuse an unknown block with the same error.
    let unknown = "11".repeat(32);
    let ours_err = d.call_as(ADMIN, "preciousblock", json!([unknown]))["error"].clone();
    let theirs_err = knots.call("preciousblock", json!([unknown])).unwrap_err();
    assert_eq!(ours_err, theirs_err);
}

/// The mature output of the coinbase at `height` on rbtcd, with its value in satoshis.
fn coinbase_output(d: &Daemon, height: u32) -> (OutPoint, i64) {
    let hash = d.ok("getblockhash", json!([height]));
    let block = d.ok("getblock", json!([hash, 1]));
    let txid = block["tx"][0].as_str().unwrap().to_string();
    let out = d.ok("gettxout", json!([txid, 0]));
    (OutPoint::new(txid.parse().unwrap(), 0), sats(&out["value"]))
}

/// The log lines of the daemon in `home` that contain `text`.
fn log_lines(home: &std::path::Path, text: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut dirs = vec![home.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "log") {
                let log = std::fs::read_to_string(&path).unwrap_or_default();
                found.extend(log.lines().filter(|l| l.contains(text)).map(String::from));
            }
        }
    }
    found
}

#[test]
fn mempool_dat_moves_between_rbtcd_and_knots_and_survives_restarts() {
    let wallet = Wallet::new();
    let knots = Knots::start("mempool", &[]);
    let args = [
        format!("--miningaddr={MINING_ADDRESS}"),
        format!("--connect={}", knots.p2p),
    ];
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut d = Daemon::start("knots-mempool", &args);
    let mined = d.ok("generatetoaddress", json!([104, wallet.address]));
    let last = mined.as_array().unwrap().last().unwrap().clone();
    knots.wait_for("Knots to sync rbtcd's blocks", || {
        json!(knots.tip()) == last
    });
    cut(&knots, &d);

    // A parent and its child in rbtcd's pool; another transaction in Knots's only.
    let fee = 10_000;
    let (coin, value) = coinbase_output(&d, 1);
    let parent = wallet.spend(coin, value, fee);
    let child = wallet.spend(OutPoint::new(parent.txid(), 0), value - fee, fee);
    for tx in [&parent, &child] {
        d.ok("sendrawtransaction", json!([hex_encode(&tx.encode())]));
    }
    let (coin, value) = coinbase_output(&d, 2);
    let theirs = wallet.spend(coin, value, fee);
    knots.ok("sendrawtransaction", json!([hex_encode(&theirs.encode())]));
    let sorted = |txs: &[&Transaction]| {
        let mut ids: Vec<String> = txs.iter().map(|t| t.txid().to_string()).collect();
        ids.sort();
        ids
    };
    let ours_only = sorted(&[&parent, &child]);
    let all = sorted(&[&parent, &child, &theirs]);
    let rbtcd_pool = |d: &Daemon| mempool(|| d.ok("getrawmempool", json!([])));
    assert_eq!(rbtcd_pool(&d), ours_only);

    // Knots imports the file rbtcd's savemempool wrote.
    let saved = d.ok("savemempool", json!([]));
    let ours = std::path::PathBuf::from(saved["filename"].as_str().unwrap());
    assert!(ours.ends_with("mempool.dat"), "{saved}");
    assert!(ours.starts_with(&d.home), "{saved}");
    knots.ok("importmempool", json!([ours.display().to_string()]));
    assert_eq!(mempool(|| knots.ok("getrawmempool", json!([]))), all);

    // A clean restart writes the pool and reads it back.
    d.restart(&args);
    assert_eq!(rbtcd_pool(&d), ours_only, "rbtcd's pool after a restart");

    // rbtcd loads the file Knots's savemempool wrote.
    let knots_file = knots.ok("savemempool", json!([]))["filename"]
        .as_str()
        .unwrap()
        .to_string();
    d.stop();
    std::fs::copy(&knots_file, &ours).unwrap();
    d.relaunch(&args);
    assert_eq!(rbtcd_pool(&d), all, "rbtcd's pool from Knots's file");

    // A damaged file: one log line and an empty pool, never a failed start.
    d.stop();
    let bytes = std::fs::read(&ours).unwrap();
    std::fs::write(&ours, &bytes[..bytes.len() / 2]).unwrap();
    d.relaunch(&args);
    assert!(rbtcd_pool(&d).is_empty());
    assert_eq!(
        log_lines(&d.home, "starting with an empty mempool").len(),
        1
    );

    // --persistmempool=0 neither reads nor writes the file.
    let send = |d: &Daemon, tx: &Transaction| {
        d.ok("sendrawtransaction", json!([hex_encode(&tx.encode())]));
    };
    send(&d, &parent);
    d.stop();
    let written = std::fs::read(&ours).unwrap();
    d.relaunch(&[&args[..], &["--persistmempool=0"]].concat());
    assert!(rbtcd_pool(&d).is_empty(), "the file was not read");
    send(&d, &parent);
    send(&d, &child);
    d.stop();
    assert_eq!(
        std::fs::read(&ours).unwrap(),
        written,
        "the file was not written"
    );
    d.relaunch(&args);
    assert_eq!(rbtcd_pool(&d), sorted(&[&parent]));
}
