//! Mining RPCs end to end against a running regtest daemon: setgenerate and the miner
//! threads with the CPU's nonce-search kernel, gethashespersec, getmininginfo, getblocktemplate templates and proposals, and who may call them.

mod common;

use common::rpc::*;
use rbtcd_core::address::{Address, Payload};
use rbtcd_core::mining::{search, Kernel, MiningJob};
use rbtcd_core::params::{Network, Params};
use rbtcd_core::primitives::hash::{hex_decode, hex_encode};
use rbtcd_core::primitives::{Block, BlockHeader, Decodable, Encodable, Transaction};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

fn mining_addr() -> String {
    Address::new(Payload::PubKeyHash([7; 20]), &Params::new(Network::Regtest)).to_string()
}

fn start(name: &str) -> Daemon {
    let addr = format!("--miningaddr={}", mining_addr());
    Daemon::start(name, &[&addr, "--genproclimit=1"])
}

fn block_count(d: &Daemon) -> u64 {
    d.ok("getblockcount", json!([])).as_u64().unwrap()
}

/// Waits (bounded, for liveness only) until the chain reaches `height`.
fn wait_for_height(d: &Daemon, height: u64) {
    let start = Instant::now();
    while block_count(d) < height {
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "no blocks mined"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn error_message(d: &Daemon, method: &str, params: Value) -> (i64, String) {
    let r = d.call_as(ADMIN, method, params);
    (
        r["error"]["code"].as_i64().unwrap_or_else(|| panic!("{r}")),
        r["error"]["message"].as_str().unwrap().to_string(),
    )
}

#[test]
fn setgenerate_mines_until_turned_off() {
    let d = start("setgen");
    assert_eq!(d.ok("getgenerate", json!([])), json!(false));
    assert_eq!(d.ok("setgenerate", json!([true, 1])), Value::Null);
    assert_eq!(d.ok("getgenerate", json!([])), json!(true));
    wait_for_height(&d, 3);
    // The miner searched with the kernel this CPU runs best, and its work is the hash rate
    // reported (the first report comes after btcd's 10-second update interval).
    let log = common::log_text(&d.home);
    assert!(
        log.contains(&format!("[INF] MINR: Miner using {}", Kernel::detect())),
        "{log}"
    );
    let start = Instant::now();
    while d.ok("gethashespersec", json!([])) == json!(0) {
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "no hash rate reported"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(d.ok("gethashespersec", json!([])).as_i64().unwrap() > 0);
    let info = d.ok("getmininginfo", json!([]));
    assert_eq!(info["generate"], json!(true));
    assert_eq!(info["genproclimit"], json!(1));
    assert!(info["hashespersec"].as_f64().unwrap() > 0.0, "{info}");
    assert_eq!(
        d.err("generate", json!([1])),
        -32603,
        "generate while mining"
    );
    assert_eq!(d.ok("setgenerate", json!([false])), Value::Null);
    assert_eq!(d.ok("getgenerate", json!([])), json!(false));
    assert_eq!(d.ok("gethashespersec", json!([])), json!(0));
    // Solutions still in flight when mining stopped are dropped by the node.
    let stopped_at = block_count(&d);
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(block_count(&d), stopped_at);
    // genproclimit 0 turns mining off, whatever the flag says.
    assert_eq!(d.ok("setgenerate", json!([true, 0])), Value::Null);
    assert_eq!(d.ok("getgenerate", json!([])), json!(false));
}

#[test]
fn mining_calls_refuse_as_btcd() {
    let d = Daemon::start("mining-refusals", &[]);
    let (code, message) = error_message(&d, "setgenerate", json!([true]));
    assert_eq!(code, -32603);
    assert_eq!(message, "No payment addresses specified via --miningaddr");
    let (code, message) = error_message(
        &d,
        "getblocktemplate",
        json!([{"capabilities": ["coinbasetxn"]}]),
    );
    assert_eq!(code, -32603);
    assert!(message.starts_with("A coinbase transaction has been requested"));
    assert_eq!(d.err("getblocktemplate", json!([{"mode": "nonsense"}])), -8);
    assert_eq!(d.err("getblocktemplate", json!([{"mode": "proposal"}])), -3);
    assert_eq!(
        d.err(
            "getblocktemplate",
            json!([{"mode": "proposal", "data": "zz"}])
        ),
        -22
    );
    let (code, message) = error_message(&d, "estimatefee", json!([0]));
    assert_eq!(
        (code, message.as_str()),
        (-32603, "Parameter NumBlocks must be positive")
    );
    let (code, message) = error_message(&d, "estimatefee", json!([6]));
    assert_eq!(
        (code, message.as_str()),
        (-32603, "not enough blocks have been observed")
    );
    // The limited user may not drive or inspect the miner (btcd's rpcLimited set).
    for method in [
        "setgenerate",
        "getgenerate",
        "gethashespersec",
        "getmininginfo",
        "getblocktemplate",
    ] {
        let params = if method == "setgenerate" {
            json!([false])
        } else {
            json!([])
        };
        let r = d.call_as(LIMITED, method, params);
        assert_eq!(r["error"]["code"], json!(-32603), "{method}: {r}");
        assert!(r["result"].is_null());
    }
    // getnetworkhashps is in the limited set.
    let r = d.call_as(LIMITED, "getnetworkhashps", json!([]));
    assert_eq!(r["result"], json!(0.0), "{r}");
}

#[test]
fn getmininginfo_and_getnetworkhashps_describe_the_chain() {
    let d = start("mininginfo");
    let hashes = d.ok("generate", json!([2]));
    assert_eq!(hashes.as_array().unwrap().len(), 2);
    let info = d.ok("getmininginfo", json!([]));
    for key in [
        "blocks",
        "currentblocksize",
        "currentblockweight",
        "currentblocktx",
        "difficulty",
        "errors",
        "generate",
        "genproclimit",
        "hashespersec",
        "networkhashps",
        "pooledtx",
        "testnet",
    ] {
        assert!(info.get(key).is_some(), "getmininginfo lacks {key}: {info}");
    }
    assert_eq!(info["blocks"], json!(2));
    assert_eq!(info["currentblocktx"], json!(1));
    let tip = d.ok("getblock", json!([hashes[1]]));
    assert_eq!(info["currentblocksize"], tip["size"]);
    assert_eq!(info["currentblockweight"], tip["weight"]);
    assert_eq!(info["difficulty"], d.ok("getdifficulty", json!([])));
    assert_eq!(info["generate"], json!(false));
    assert_eq!(info["genproclimit"], json!(1));
    assert_eq!(info["pooledtx"], json!(0));
    assert_eq!(info["testnet"], json!(false));
    assert_eq!(info["errors"], json!(""));
    let hps = d.ok("getnetworkhashps", json!([]));
    assert_eq!(info["networkhashps"], hps);
    assert!(hps.as_f64().unwrap() >= 0.0);
    assert_eq!(d.ok("getnetworkhashps", json!([120, 0])), json!(0.0));
    assert_eq!(d.ok("getnetworkhashps", json!([120, 99])), json!(0.0));
    // estimatefee needs three blocks seen; with no mempool transaction mined it answers the
    // minimum relay fee, in BTC/kB.
    let (code, message) = error_message(&d, "estimatefee", json!([6]));
    assert_eq!(
        (code, message.as_str()),
        (-32603, "not enough blocks have been observed")
    );
    d.ok("generate", json!([1]));
    assert_eq!(d.ok("estimatefee", json!([6])), json!(0.00001));
    let (code, message) = error_message(&d, "estimatefee", json!([26]));
    assert_eq!(
        (code, message.as_str()),
        (
            -32603,
            "can only estimate fees for up to 25 blocks from now"
        )
    );
}

/// A block built from a getblocktemplate result with a coinbase transaction, mined with the
/// same nonce search the miner threads use.
fn block_from_template(t: &Value) -> Block {
    let tx =
        |v: &Value| Transaction::decode(&hex_decode(v["data"].as_str().unwrap()).unwrap()).unwrap();
    let txdata: Vec<Transaction> = std::iter::once(tx(&t["coinbasetxn"]))
        .chain(t["transactions"].as_array().unwrap().iter().map(tx))
        .collect();
    let mut block = Block {
        header: BlockHeader {
            version: t["version"].as_i64().unwrap() as i32,
            prev_blockhash: t["previousblockhash"].as_str().unwrap().parse().unwrap(),
            merkle_root: Default::default(),
            time: t["curtime"].as_u64().unwrap() as u32,
            bits: u32::from_str_radix(t["bits"].as_str().unwrap(), 16).unwrap(),
            nonce: 0,
        },
        txdata,
    };
    block.header.merkle_root = block.compute_merkle_root().0;
    let job = MiningJob::new(0, &block.header).unwrap();
    let nonce = search(&job, 0..=u32::MAX).expect("regtest difficulty is trivial");
    block.header.nonce = nonce;
    block
}

#[test]
fn getblocktemplate_blocks_are_accepted_and_proposals_checked() {
    let d = start("gbt");
    d.ok("generate", json!([1]));
    let tip = d.ok("getbestblockhash", json!([]));
    let t = d.ok(
        "getblocktemplate",
        json!([{"capabilities": ["coinbasetxn"], "rules": ["segwit"]}]),
    );
    assert_eq!(t["height"], json!(2));
    assert_eq!(t["previousblockhash"], tip);
    assert_eq!(t["sigoplimit"], json!(80_000));
    assert_eq!(t["sizelimit"], json!(4_000_000));
    assert_eq!(t["weightlimit"], json!(4_000_000));
    assert_eq!(t["noncerange"], json!("00000000ffffffff"));
    assert_eq!(t["capabilities"], json!(["proposal"]));
    assert_eq!(
        t["mutable"],
        json!(["time", "transactions/add", "prevblock", "coinbase/append"])
    );
    assert!(t["rules"].as_array().unwrap().contains(&json!("!segwit")));
    assert_eq!(t["target"].as_str().unwrap().len(), 64);
    assert!(t["mintime"].as_u64().unwrap() <= t["curtime"].as_u64().unwrap());
    assert!(t["maxtime"].as_u64().unwrap() > t["curtime"].as_u64().unwrap());
    let long_poll_id = t["longpollid"].as_str().unwrap();
    assert!(long_poll_id.starts_with(tip.as_str().unwrap()));
    assert!(t.get("coinbasevalue").is_none(), "coinbasetxn mode");
    // The default mode gives the coinbase value instead, 50 BTC on regtest plus no fees.
    let plain = d.ok("getblocktemplate", json!([]));
    assert_eq!(plain["coinbasevalue"], json!(5_000_000_000u64));
    assert!(plain.get("coinbasetxn").is_none());
    assert_eq!(plain["longpollid"], t["longpollid"], "the same template");

    let block = block_from_template(&t);
    let hex = hex_encode(&block.encode());
    // Proposals: the block as built is fine; a broken merkle root is named as BIP22 does.
    let propose = |hex: &str| {
        d.ok(
            "getblocktemplate",
            json!([{"mode": "proposal", "data": hex}]),
        )
    };
    assert_eq!(propose(&hex), Value::Null);
    let mut broken = block.clone();
    broken.header.merkle_root = Default::default();
    assert_eq!(
        propose(&hex_encode(&broken.encode())),
        json!("bad-txnmrklroot")
    );
    assert_eq!(d.ok("submitblock", json!([hex])), Value::Null);
    assert_eq!(
        d.ok("getbestblockhash", json!([])),
        json!(block.block_hash().to_string())
    );
    // Now the template's parent is no longer the tip.
    assert_eq!(propose(&hex), json!("bad-prevblk"));
    // A long poll with the old id answers at once with the new template, and says work on
    // the old one is no longer worth submitting.
    let next = d.ok("getblocktemplate", json!([{"longpollid": long_poll_id}]));
    assert_eq!(next["height"], json!(3));
    assert_eq!(next["submitold"], json!(false));
}

#[test]
fn generatetoaddress_mines_to_the_callers_address_as_core() {
    // No --miningaddr: the caller's address is the only one there is.
    let d = Daemon::start("generatetoaddress", &[]);
    let params = Params::new(Network::Regtest);
    let to = Address::new(Payload::PubKeyHash([9; 20]), &params).to_string();
    let hashes = d.ok("generatetoaddress", json!([3, to]));
    let hashes = hashes.as_array().unwrap();
    assert_eq!(hashes.len(), 3);
    assert_eq!(block_count(&d), 3);
    assert_eq!(hashes[2], d.ok("getbestblockhash", json!([])));
    for hash in hashes {
        let block = d.ok("getblock", json!([hash, 2]));
        let paid = &block["rawtx"][0]["vout"][0]["scriptPubKey"];
        assert_eq!(paid["address"], json!(to), "{block}");
    }
    // Core: no blocks asked, or no tries allowed, mines nothing and says so.
    assert_eq!(d.ok("generatetoaddress", json!([0, to])), json!([]));
    assert_eq!(d.ok("generatetoaddress", json!([2, to, 0])), json!([]));
    assert_eq!(block_count(&d), 3);
    let (code, message) = error_message(&d, "generatetoaddress", json!([1, "nonsense"]));
    assert_eq!((code, message.as_str()), (-5, "Error: Invalid address"));
    let mainnet = Address::new(Payload::PubKeyHash([9; 20]), &Params::new(Network::Mainnet));
    let (code, _) = error_message(&d, "generatetoaddress", json!([1, mainnet.to_string()]));
    assert_eq!(code, -5, "another network's address");
    let (code, _) = error_message(&d, "generatetoaddress", json!([1]));
    assert_eq!(code, -32602);
    // Without an address btcd's generate still refuses.
    let (code, message) = error_message(&d, "generate", json!([1]));
    assert_eq!(
        (code, message.as_str()),
        (-32603, "No payment addresses specified via --miningaddr")
    );
}
