use super::*;
use crate::chain::builder::{spend, BlockBuilder};
use crate::chain::{Chain, MemStore};
use crate::harness::mine_chain_to;
use crate::mempool::estimate::FeeEstimator;
use crate::mempool::Policy;
use crate::net::peer::{PeerId, Peers};
use crate::net::peer_command::{PeerCommand, PeerTarget};
use crate::params::{Network, Params as ChainParams};
use crate::primitives::encode::{Decodable, Encodable};
use crate::primitives::hash::hex_decode;
use crate::primitives::hash::{hex_encode, Hash256};
use crate::primitives::transaction::Transaction;
use crate::primitives::OutPoint;
use crate::rpc::error::code;
use crate::rpc::methods::find;
use crate::rpc::RpcError;
use crate::time::Time;
use serde_json::json;
use std::collections::BTreeMap;
use std::net::SocketAddr;

/// A regtest chain of `n` blocks above genesis, and (when `n > 0`) a stale sibling of the last
/// block.
fn chain_with(n: u32) -> Chain<MemStore> {
    let params = ChainParams::new(Network::Regtest);
    let mut chain = Chain::open(params.clone(), MemStore::new()).unwrap();
    for h in 1..=n {
        let tip = *chain.tip();
        let block = BlockBuilder::new(&params, tip.hash, h, tip.header.time).build();
        chain.process_block(block, 2_000_000_000).unwrap();
    }
    if n == 0 {
        return chain;
    }
    let parent = *chain
        .index()
        .get(&chain.tip().header.prev_blockhash)
        .unwrap();
    let stale = BlockBuilder::new(&params, parent.hash, n, parent.header.time)
        .tag(b"stale")
        .build();
    chain.process_block(stale, 2_000_000_000).unwrap();
    chain
}

pub(crate) fn info() -> NodeInfo {
    NodeInfo {
        version: (0, 1, 0),
        start_time: 1_000,
        proxy: String::new(),
        log_subsystems: vec!["CHAN", "PEER"],
    }
}

/// A node without peers or traffic, at `now`.
fn no_net(now: Time) -> NetView<'static> {
    const NO_PEERS: &Peers = &BTreeMap::new();
    const NO_PERMANENT: &BTreeMap<PeerId, SocketAddr> = &BTreeMap::new();
    NetView {
        peers: NO_PEERS,
        added: &[],
        permanent: NO_PERMANENT,
        totals: Default::default(),
        sync_peer: None,
        bans: Box::leak(Box::default()),
        now,
        local: LocalView {
            services: crate::wire::protocol::ServiceFlags::NETWORK
                | crate::wire::protocol::ServiceFlags::WITNESS,
            user_agent: "/rbtcd:0.1.0/",
            relay: true,
            addrs: Box::leak(Box::default()),
        },
    }
}

/// The context of a call at unix time `now` against `chain` and `mempool`, without peers or a
/// miner, over HTTP.
pub(crate) fn context<'a>(
    chain: &'a Chain<MemStore>,
    mempool: &'a Mempool,
    info: &'a NodeInfo,
    now: u64,
) -> Context<'a> {
    Context {
        chain,
        mempool,
        info,
        net: no_net(Time::from_unix_secs(now)),
        miner: MinerView {
            generating: false,
            threads: 0,
            default_threads: 1,
            hashes_per_sec: 0.0,
            can_pay: false,
            fees: Box::leak(Box::<FeeEstimator>::default()),
        },
        now,
        transport: Transport::Http,
    }
}

fn call(chain: &Chain<MemStore>, method: &str, params: Value) -> Result<Value, RpcError> {
    call_with(chain, &Mempool::new(Policy::default()), method, params)
}

fn call_with(
    chain: &Chain<MemStore>,
    mempool: &Mempool,
    method: &str,
    params: Value,
) -> Result<Value, RpcError> {
    // A render is finished here as the node or its driver would finish it.
    handle(chain, mempool, method, params).and_then(|h| match h.effect {
        Some(Effect::Render(render)) => render.finish(),
        _ => Ok(h.result),
    })
}

/// Runs `method` at unix time 1,042 against `chain` and `mempool`, without peers.
fn handle(
    chain: &Chain<MemStore>,
    mempool: &Mempool,
    method: &str,
    params: Value,
) -> Result<Handled, RpcError> {
    let info = info();
    let ctx = context(chain, mempool, &info, 1_042);
    let params = params.as_array().unwrap().clone();
    find(method).unwrap().call(&ctx, None, &params)
}

#[test]
fn heights_and_hashes_follow_the_main_chain() {
    let chain = chain_with(3);
    let tip = chain.tip().hash.to_string();
    assert_eq!(call(&chain, "getblockcount", json!([])).unwrap(), json!(3));
    assert_eq!(
        call(&chain, "getbestblockhash", json!([])).unwrap(),
        json!(tip)
    );
    assert_eq!(
        call(&chain, "getblockhash", json!([3])).unwrap(),
        json!(tip)
    );
    assert_eq!(
        call(&chain, "getbestblock", json!([])).unwrap(),
        json!({"hash": tip, "height": 3})
    );
    let e = call(&chain, "getblockhash", json!([4])).unwrap_err();
    assert_eq!(
        (e.code, e.message.as_str()),
        (code::MISC, "Block number out of range")
    );
    let e = call(&chain, "getblockhash", json!(["x"])).unwrap_err();
    assert_eq!(e.code, code::INVALID_PARAMS);
    let e = call(&chain, "getblockcount", json!([1])).unwrap_err();
    assert_eq!(e.code, code::INVALID_PARAMS);
}

#[test]
fn getblock_has_btcds_shapes_at_each_verbosity() {
    let chain = chain_with(2);
    let h1 = chain.index().main_at(1).unwrap().to_string();
    let h2 = chain.index().main_at(2).unwrap().to_string();
    let hex = call(&chain, "getblock", json!([h1, 0])).unwrap();
    let block = chain
        .block(chain.index().main_at(1).unwrap())
        .unwrap()
        .unwrap();
    assert_eq!(
        hex,
        json!(crate::primitives::hash::hex_encode(&block.encode()))
    );
    let v1 = call(&chain, "getblock", json!([h1])).unwrap();
    assert_eq!(v1["height"], json!(1));
    assert_eq!(v1["confirmations"], json!(2));
    assert_eq!(v1["nextblockhash"], json!(h2));
    assert_eq!(v1["tx"], json!([block.txdata[0].txid().to_string()]));
    assert_eq!(v1["bits"], json!("207fffff"));
    assert_eq!(v1["size"], json!(block.total_size()));
    let v2 = call(&chain, "getblock", json!([h2, 2])).unwrap();
    assert!(v2.get("nextblockhash").is_none());
    let coinbase = &v2["rawtx"][0];
    assert_eq!(coinbase["blockhash"], json!(h2));
    assert!(coinbase["vin"][0]["coinbase"].is_string());
    assert_eq!(coinbase["vout"][0]["value"], json!(50.0));
    let missing = "11".repeat(32);
    let e = call(&chain, "getblock", json!([missing])).unwrap_err();
    assert_eq!(
        (e.code, e.message.as_str()),
        (code::INVALID_ADDRESS_OR_KEY, "Block not found")
    );
    let e = call(&chain, "getblock", json!(["zz"])).unwrap_err();
    assert_eq!(e.code, code::DESERIALIZATION);
}

#[test]
fn difficulty_is_measured_against_0x1d00ffff_on_every_network() {
    use super::chain::difficulty;
    assert_eq!(difficulty(0x1d00_ffff), 1.0);
    // Mainnet block 100,000, whose difficulty every explorer shows.
    assert_eq!(difficulty(0x1b04_864c), 14_484.162_361_225_4);
    // Regtest's limit, as Bitcoin Core and Knots report it.
    assert_eq!(difficulty(0x207f_ffff), 4.656_542_373_906_925e-10);
    assert_eq!(difficulty(0), 0.0);
    // Core prints 16 significant digits; the exact ratio would be 4.6565423739069247e-10.
    assert_eq!(
        serde_json::to_string(&difficulty(0x207f_ffff)).unwrap(),
        "4.656542373906925e-10"
    );
}

#[test]
fn headers_tips_and_chain_info() {
    let chain = chain_with(2);
    let tip = *chain.tip();
    let hdr = call(&chain, "getblockheader", json!([tip.hash.to_string()])).unwrap();
    assert_eq!(
        hdr["previousblockhash"],
        json!(tip.header.prev_blockhash.to_string())
    );
    // Core's regtest difficulty: measured against 0x1d00ffff, not the network's limit.
    assert_eq!(hdr["difficulty"], json!(4.656542373906925e-10));
    let raw = call(
        &chain,
        "getblockheader",
        json!([tip.hash.to_string(), false]),
    )
    .unwrap();
    assert_eq!(raw.as_str().unwrap().len(), 160);
    let tips = call(&chain, "getchaintips", json!([])).unwrap();
    assert_eq!(tips.as_array().unwrap().len(), 2);
    assert_eq!(tips[0]["status"], json!("active"));
    assert_eq!(tips[0]["branchlen"], json!(0));
    assert_eq!(tips[1]["branchlen"], json!(1));
    assert_eq!(tips[1]["height"], json!(2));
    let ci = call(&chain, "getblockchaininfo", json!([])).unwrap();
    assert_eq!(ci["chain"], json!("regtest"));
    assert_eq!(ci["blocks"], json!(2));
    assert_eq!(ci["bestblockhash"], json!(tip.hash.to_string()));
    assert_eq!(
        call(&chain, "getdifficulty", json!([])).unwrap(),
        json!(4.656542373906925e-10)
    );
}

#[test]
fn txout_reads_the_utxo_set() {
    let chain = chain_with(1);
    let block = chain.block(&chain.tip().hash).unwrap().unwrap();
    let txid = block.txdata[0].txid().to_string();
    let out = call(&chain, "gettxout", json!([txid, 0])).unwrap();
    assert_eq!(out["confirmations"], json!(1));
    assert_eq!(out["coinbase"], json!(true));
    assert_eq!(out["value"], json!(50.0));
    assert_eq!(
        call(&chain, "gettxout", json!([txid, 7])).unwrap(),
        Value::Null
    );
}

#[test]
fn decoding_commands_describe_transactions_and_scripts() {
    let chain = chain_with(1);
    let block = chain.block(&chain.tip().hash).unwrap().unwrap();
    let hex = crate::primitives::hash::hex_encode(&block.txdata[0].encode());
    let d = call(&chain, "decoderawtransaction", json!([hex])).unwrap();
    assert_eq!(d["txid"], json!(block.txdata[0].txid().to_string()));
    assert_eq!(d["vout"][0]["n"], json!(0));
    let e = call(&chain, "decoderawtransaction", json!(["00"])).unwrap_err();
    assert_eq!(e.code, code::DESERIALIZATION);
    let s = call(
        &chain,
        "decodescript",
        json!(["76a914000102030405060708090a0b0c0d0e0f1011121388ac"]),
    )
    .unwrap();
    assert_eq!(s["type"], json!("pubkeyhash"));
    assert_eq!(s["reqSigs"], json!(1));
    assert!(s["p2sh"].as_str().unwrap().starts_with('2'));
    assert_eq!(s["addresses"][0].as_str().unwrap().len(), 34);
}

#[test]
fn node_facts() {
    let chain = chain_with(0);
    assert_eq!(call(&chain, "uptime", json!([])).unwrap(), json!(42));
    assert_eq!(
        call(&chain, "getcurrentnet", json!([])).unwrap(),
        json!(0xdab5_bffa_u32)
    );
    let info = call(&chain, "getinfo", json!([])).unwrap();
    assert_eq!(info["version"], json!(10_000));
    assert_eq!(info["protocolversion"], json!(70016));
    assert_eq!(info["relayfee"], json!(0.00001));
    assert_eq!(
        call(&chain, "version", json!([])).unwrap()["btcdjsonrpcapi"]["major"],
        json!(1)
    );
    let help = call(&chain, "help", json!([])).unwrap();
    let http = crate::rpc::methods::METHODS
        .iter()
        .filter(|m| m.reach == crate::rpc::methods::Reach::Both);
    assert!(
        help.as_str().unwrap().lines().eq(http.map(|m| m.usage)),
        "one usage line per HTTP command"
    );
    let one = call(&chain, "help", json!(["getblockhash"])).unwrap();
    let one = one.as_str().unwrap();
    assert!(one.starts_with("getblockhash index\n\n"), "{one}");
    assert!(
        one.contains("\nArguments:\n1. index (numeric, required) ")
            && one.contains("\nResult:\n")
            && one.ends_with("\nExample:\nrbtcctl getblockhash 0"),
        "{one}"
    );
    assert_eq!(
        call(&chain, "getmempoolinfo", json!([])).unwrap(),
        json!({"size": 0, "bytes": 0})
    );
    assert_eq!(call(&chain, "getrawmempool", json!([])).unwrap(), json!([]));
    let ok = call(
        &chain,
        "validateaddress",
        json!(["bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080"]),
    )
    .unwrap();
    assert_eq!(ok["isvalid"], json!(true));
    assert_eq!(ok["iswitness"], json!(true));
    assert_eq!(ok["witness_version"], json!(0));
    let bad = call(
        &chain,
        "validateaddress",
        json!(["1BoatSLRHtKNngkdXEeobR76b53LETtpyT"]),
    )
    .unwrap();
    assert_eq!(bad, json!({"isvalid": false}));
}

#[test]
fn stop_asks_the_adapter_to_shut_down() {
    let chain = chain_with(0);
    let mempool = Mempool::new(Policy::default());
    let info = info();
    let ctx = context(&chain, &mempool, &info, 0);
    let h = find("stop").unwrap().call(&ctx, None, &[]).unwrap();
    assert_eq!(h.effect, Some(Effect::Stop));
}

#[test]
fn raw_transactions_and_index_errors() {
    let chain = chain_with(3);
    let txid = "aa".repeat(32);
    let hex = call(
        &chain,
        "createrawtransaction",
        json!([[{"txid": txid, "vout": 1}], {"bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080": 1.5}, 7]),
    )
    .unwrap();
    let tx = Transaction::decode(&hex_decode(hex.as_str().unwrap()).unwrap()).unwrap();
    assert_eq!((tx.version, tx.lock_time), (1, 7));
    assert_eq!(tx.inputs[0].prevout.vout, 1);
    assert_eq!(tx.inputs[0].sequence, u32::MAX - 1);
    assert_eq!(tx.outputs[0].value, 150_000_000);
    let bad_amount = call(
        &chain,
        "createrawtransaction",
        json!([[], {"bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080": -1}]),
    );
    assert_eq!(bad_amount.unwrap_err().code, code::TYPE);
    let bad_addr = call(&chain, "createrawtransaction", json!([[], {"nope": 1}]));
    assert_eq!(bad_addr.unwrap_err().code, code::INVALID_ADDRESS_OR_KEY);
    let e = call(&chain, "getrawtransaction", json!([txid])).unwrap_err();
    assert!(e.message.contains("--txindex"), "{e}");
    let e = call(&chain, "searchrawtransactions", json!(["addr"])).unwrap_err();
    assert!(e.message.contains("--addrindex"), "{e}");
    let e = call(&chain, "getcfilter", json!([txid, 0])).unwrap_err();
    assert_eq!(e.code, code::INVALID_ADDRESS_OR_KEY);
    assert_eq!(
        call(&chain, "getconnectioncount", json!([])).unwrap(),
        json!(0)
    );
}

#[test]
fn getheaders_follows_the_locator() {
    let chain = chain_with(3);
    let index = chain.index();
    let h = |n| index.main_at(n).unwrap().to_string();
    let all = call(&chain, "getheaders", json!([[], ""])).unwrap();
    assert_eq!(all.as_array().unwrap().len(), 3);
    let after1 = call(&chain, "getheaders", json!([[h(1)], h(2)])).unwrap();
    let hdr2 = index
        .get(index.main_at(2).unwrap())
        .unwrap()
        .header
        .to_bytes();
    assert_eq!(after1, json!([crate::primitives::hash::hex_encode(&hdr2)]));
}

/// Bitcoin Core's `rpc_signmessage.py` regtest key, address and signature.
const CORE_KEY: &str = "cUeKHd5orzT3mz8P9pxyREHfsWtVfgsfDjiZZBcjUBAaGk1BTj7N";
const CORE_ADDRESS: &str = "mpLQjfK79b7CCV4VMJWEWAj5Mpx8Up5zxB";
const CORE_SIGNATURE: &str =
    "INbVnW4e6PeRmsv2Qgu8NuopvrVjkcxob+sX8OcZG0SALhWybUjzMLPdAsXI46YZGb0KQTRii+wWIQzRpG/U+S0=";
const CORE_MESSAGE: &str = "This is just a test message";

#[test]
fn messages_are_signed_and_verified_as_bitcoin_core_does() {
    let chain = chain_with(0);
    let sig = call(
        &chain,
        "signmessagewithprivkey",
        json!([CORE_KEY, CORE_MESSAGE]),
    )
    .unwrap();
    assert_eq!(sig, json!(CORE_SIGNATURE));
    let verify =
        |addr: &str, sig: &str, msg: &str| call(&chain, "verifymessage", json!([addr, sig, msg]));
    assert_eq!(
        verify(CORE_ADDRESS, CORE_SIGNATURE, CORE_MESSAGE).unwrap(),
        json!(true)
    );
    assert_eq!(
        verify(CORE_ADDRESS, CORE_SIGNATURE, "another message").unwrap(),
        json!(false)
    );
    // A signature that recovers no key is false, not an error.
    assert_eq!(
        verify(CORE_ADDRESS, &"A".repeat(88), CORE_MESSAGE).unwrap(),
        json!(false)
    );
    assert_eq!(
        verify(CORE_ADDRESS, "not base64!", CORE_MESSAGE)
            .unwrap_err()
            .code,
        code::PARSE
    );
    assert_eq!(
        verify("nonsense", CORE_SIGNATURE, CORE_MESSAGE)
            .unwrap_err()
            .code,
        code::INVALID_ADDRESS_OR_KEY
    );
    let p2sh = "2MzQwSSnBHWHqSAqtTVQ6v47XtaisrJa1Vc";
    assert_eq!(
        verify(p2sh, CORE_SIGNATURE, CORE_MESSAGE).unwrap_err().code,
        code::TYPE
    );
    let mainnet = ChainParams::new(Network::Mainnet);
    let main_chain = Chain::open(mainnet, MemStore::new()).unwrap();
    let e = call(
        &main_chain,
        "signmessagewithprivkey",
        json!([CORE_KEY, "x"]),
    )
    .unwrap_err();
    assert_eq!(
        (e.code, e.message.as_str()),
        (
            code::INVALID_ADDRESS_OR_KEY,
            "Private key for wrong network"
        )
    );
    let mut bad = CORE_KEY.to_string();
    bad.replace_range(10..11, if &bad[10..11] == "a" { "b" } else { "a" });
    let e = call(&chain, "signmessagewithprivkey", json!([bad, "x"])).unwrap_err();
    assert_eq!(e.message, "Private key checksum mismatch");
}

/// P2WSH of `OP_1`: standard, spendable by revealing the script.
fn p2wsh_true() -> Vec<u8> {
    let mut s = vec![0, 32];
    s.extend(crate::primitives::hash::sha256(&[
        crate::script::opcodes::OP_1,
    ]));
    s
}

fn spend_p2wsh(input: OutPoint, value: i64) -> Transaction {
    let mut tx = spend(&[input], &[value]);
    tx.outputs[0].script_pubkey = p2wsh_true();
    tx.inputs[0].witness = vec![vec![crate::script::opcodes::OP_1]];
    tx
}

#[test]
fn testmempoolaccept_judges_like_acceptance_and_leaves_the_pool_alone() {
    let params = ChainParams::new(Network::Regtest);
    let (store, blocks) = mine_chain_to(&params, 101, b"t", &p2wsh_true());
    let chain = Chain::open(params, store).unwrap();
    let coin = |i: usize| {
        let cb = &blocks[i].txdata[0];
        (OutPoint::new(cb.txid(), 0), cb.outputs[0].value)
    };
    let (op, value) = coin(0);
    let good = spend_p2wsh(op, value - 10_000);
    let (op2, value2) = coin(1);
    let greedy = spend_p2wsh(op2, value2 / 2);
    let orphan = spend_p2wsh(OutPoint::new(Hash256([9; 32]), 0), 1_000);
    let mempool = Mempool::new(Policy::default());
    let hexes: Vec<String> = [&good, &greedy, &orphan]
        .iter()
        .map(|t| hex_encode(&t.encode()))
        .collect();
    let r = call_with(&chain, &mempool, "testmempoolaccept", json!([hexes])).unwrap();
    assert_eq!(r[0]["txid"], json!(good.txid().to_string()));
    assert_eq!(r[0]["allowed"], json!(true));
    assert_eq!(r[0]["vsize"], json!(good.weight().div_ceil(4)));
    assert_eq!(r[0]["fees"]["base"], json!(0.0001));
    assert_eq!(r[1]["reject-reason"], json!("max-fee-exceeded"));
    assert!(r[1].get("allowed").is_none(), "{r}");
    assert_eq!(r[2]["reject-reason"], json!("missing-inputs"));
    // A huge maxfeerate lets the greedy one through.
    let r = call_with(
        &chain,
        &mempool,
        "testmempoolaccept",
        json!([[hexes[1]], 1000.0]),
    )
    .unwrap();
    assert_eq!(r[0]["allowed"], json!(true));
    assert!(mempool.is_empty());
    assert_eq!(
        call(&chain, "testmempoolaccept", json!([["zz"]]))
            .unwrap_err()
            .code,
        code::DESERIALIZATION
    );
    assert_eq!(
        call(&chain, "testmempoolaccept", json!(["00"]))
            .unwrap_err()
            .code,
        code::INVALID_PARAMS
    );
}

#[test]
fn gettxspendingprevout_names_the_mempool_spender() {
    let params = ChainParams::new(Network::Regtest);
    let (store, blocks) = mine_chain_to(&params, 101, b"s", &p2wsh_true());
    let chain = Chain::open(params, store).unwrap();
    let cb = &blocks[0].txdata[0];
    let op = OutPoint::new(cb.txid(), 0);
    let tx = spend_p2wsh(op, cb.outputs[0].value - 10_000);
    let mut mempool = Mempool::new(Policy::default());
    mempool
        .accept(tx.clone(), &chain, 2_000_000_000, 0)
        .unwrap();
    let other = OutPoint::new(blocks[1].txdata[0].txid(), 0);
    let r = call_with(
        &chain,
        &mempool,
        "gettxspendingprevout",
        json!([[{"txid": op.txid.to_string(), "vout": 0}, {"txid": other.txid.to_string(), "vout": 0}]]),
    )
    .unwrap();
    assert_eq!(r[0]["spendingtxid"], json!(tx.txid().to_string()));
    assert_eq!(r[1], json!({"txid": other.txid.to_string(), "vout": 0}));
    let bad = call(
        &chain,
        "gettxspendingprevout",
        json!([[{"txid": "xyz", "vout": 0}]]),
    );
    assert_eq!(bad.unwrap_err().code, code::INVALID_PARAMETER);
}

fn effect_of(method: &str, params: Value) -> Result<Option<Effect>, RpcError> {
    let mempool = Mempool::new(Policy::default());
    handle(&chain_with(0), &mempool, method, params).map(|h| h.effect)
}

#[test]
fn peer_commands_become_effects_with_btcd_parameter_errors() {
    let port = ChainParams::new(Network::Regtest).default_port;
    let connect = |addr: &str, permanent| {
        Some(Effect::Peer(PeerCommand::Connect {
            addr: addr.parse().unwrap(),
            permanent,
        }))
    };
    let ok = |m: &str, p: Value| effect_of(m, p).unwrap();
    let err = |m: &str, p: Value| effect_of(m, p).unwrap_err();
    assert_eq!(
        ok("addnode", json!(["10.0.0.1", "add"])),
        connect(&format!("10.0.0.1:{port}"), true)
    );
    assert_eq!(
        ok("addnode", json!(["[::1]:9", "onetry"])),
        connect("[::1]:9", false)
    );
    assert_eq!(
        ok("addnode", json!(["10.0.0.1:5", "remove"])),
        Some(Effect::Peer(PeerCommand::Remove(PeerTarget::Addr(
            "10.0.0.1:5".parse().unwrap()
        ))))
    );
    let e = err("addnode", json!(["10.0.0.1", "frob"]));
    assert_eq!(
        (e.code, e.message.as_str()),
        (code::INVALID_PARAMETER, "invalid subcommand for addnode")
    );
    assert_eq!(
        err("addnode", json!(["seed.example:1", "add"])).code,
        code::INVALID_PARAMETER
    );
    assert_eq!(
        err("addnode", json!(["10.0.0.1"])).code,
        code::INVALID_PARAMS
    );

    assert_eq!(
        ok("node", json!(["disconnect", "7"])),
        Some(Effect::Peer(PeerCommand::Disconnect(PeerTarget::Id(7))))
    );
    assert_eq!(
        ok("node", json!(["remove", "10.0.0.2"])),
        Some(Effect::Peer(PeerCommand::Remove(PeerTarget::Addr(
            format!("10.0.0.2:{port}").parse().unwrap()
        ))))
    );
    assert_eq!(
        ok("node", json!(["connect", "10.0.0.3"])),
        connect(&format!("10.0.0.3:{port}"), false),
        "temp by default"
    );
    assert_eq!(
        ok("node", json!(["connect", "10.0.0.3", "perm"])),
        connect(&format!("10.0.0.3:{port}"), true)
    );
    for (params, message) in [
        (
            json!(["disconnect", "nonsense"]),
            "invalid address or node ID",
        ),
        (
            json!(["connect", "10.0.0.3", "sometimes"]),
            "invalid subcommand for node connect",
        ),
        (json!(["frob", "1"]), "invalid subcommand for node"),
    ] {
        let e = err("node", params);
        assert_eq!(
            (e.code, e.message.as_str()),
            (code::INVALID_PARAMETER, message)
        );
    }

    assert_eq!(
        ok("ping", json!([])),
        Some(Effect::Peer(PeerCommand::PingAll))
    );
    assert_eq!(err("ping", json!([1])).code, code::INVALID_PARAMS);
    assert_eq!(
        ok("getnodeaddresses", json!([])),
        Some(Effect::NodeAddresses(1))
    );
    assert_eq!(
        ok("getnodeaddresses", json!([40])),
        Some(Effect::NodeAddresses(40))
    );
    let e = err("getnodeaddresses", json!([0]));
    assert_eq!(
        (e.code, e.message.as_str()),
        (code::INVALID_PARAMETER, "Address count out of range")
    );
}

#[test]
fn net_reads_answer_btcd_shapes_without_peers() {
    let chain = chain_with(0);
    assert_eq!(call(&chain, "getpeerinfo", json!([])).unwrap(), json!([]));
    assert_eq!(
        call(&chain, "getnettotals", json!([])).unwrap(),
        json!({"totalbytesrecv": 0, "totalbytessent": 0, "timemillis": 1_042_000})
    );
    assert_eq!(
        call(&chain, "getaddednodeinfo", json!([false])).unwrap(),
        json!([])
    );
    let e = call(&chain, "getaddednodeinfo", json!([true, "10.0.0.1:1"])).unwrap_err();
    assert_eq!(
        (e.code, e.message.as_str()),
        (code::CLIENT_NODE_NOT_ADDED, "Node has not been added")
    );
    assert_eq!(
        call(&chain, "getaddednodeinfo", json!([]))
            .unwrap_err()
            .code,
        code::INVALID_PARAMS
    );
}

#[test]
fn gettxoutsetinfo_reports_cores_fields() {
    let chain = chain_with(3);
    let r = call(&chain, "gettxoutsetinfo", json!([])).unwrap();
    let stats = crate::chain::utxo_stats::utxo_stats(&chain, true).unwrap();
    assert_eq!(r["height"], json!(chain.tip().height));
    assert_eq!(r["bestblock"], json!(chain.tip().hash.to_string()));
    assert_eq!(r["txouts"], json!(stats.txouts));
    assert_eq!(r["transactions"], json!(stats.transactions));
    assert_eq!(r["bogosize"], json!(stats.bogosize));
    assert_eq!(
        r["hash_serialized_3"],
        json!(stats.hash_serialized.unwrap().to_string())
    );
    assert_eq!(r["total_amount"], json!(stats.total_amount as f64 / 1e8));
    let none = call(&chain, "gettxoutsetinfo", json!(["none"])).unwrap();
    assert!(none.get("hash_serialized_3").is_none());
    assert_eq!(none["txouts"], r["txouts"]);
    for bad in [json!(["sha1"]), json!(["muhash"]), json!(["none", 2])] {
        let e = call(&chain, "gettxoutsetinfo", bad.clone()).unwrap_err();
        assert_eq!(e.code, code::INVALID_PARAMETER, "{bad}");
    }
}

#[test]
fn generatetoaddress_asks_to_mine_to_the_address_with_cores_defaults() {
    let chain = chain_with(0);
    let mempool = Mempool::new(Policy::default());
    let to =
        crate::address::Address::new(crate::address::Payload::PubKeyHash([3; 20]), chain.params());
    let h = handle(
        &chain,
        &mempool,
        "generatetoaddress",
        json!([2, to.to_string()]),
    )
    .unwrap();
    let want = Generate {
        blocks: 2,
        pay_to: Some(to.clone()),
        max_tries: Some(1_000_000),
    };
    assert_eq!(h.effect, Some(Effect::Generate(want)));
    let h = handle(
        &chain,
        &mempool,
        "generatetoaddress",
        json!([-4, to.to_string(), 7]),
    )
    .unwrap();
    let want = Generate {
        blocks: 0,
        pay_to: Some(to.clone()),
        max_tries: Some(7),
    };
    assert_eq!(h.effect, Some(Effect::Generate(want)), "Core mines nothing");
    let e = handle(&chain, &mempool, "generatetoaddress", json!([1, "1nope"])).unwrap_err();
    assert_eq!(
        (e.code, e.message.as_str()),
        (code::INVALID_ADDRESS_OR_KEY, "Error: Invalid address")
    );
    let h = handle(&chain, &mempool, "generate", json!([5])).unwrap();
    let want = Generate {
        blocks: 5,
        pay_to: None,
        max_tries: None,
    };
    assert_eq!(h.effect, Some(Effect::Generate(want)), "btcd's generate");
}

#[test]
fn getmempoolentry_has_cores_shape_with_ancestors_and_descendants() {
    let params = ChainParams::new(Network::Regtest);
    let (store, blocks) = mine_chain_to(&params, 101, b"e", &p2wsh_true());
    let chain = Chain::open(params, store).unwrap();
    let cb = &blocks[0].txdata[0];
    let parent = spend_p2wsh(OutPoint::new(cb.txid(), 0), cb.outputs[0].value - 10_000);
    let mut child = spend_p2wsh(
        OutPoint::new(parent.txid(), 0),
        parent.outputs[0].value - 20_000,
    );
    // Signals BIP125; its parent does not.
    child.inputs[0].sequence = 0xffff_fffd;
    let mut mempool = Mempool::new(Policy::default());
    for tx in [&parent, &child] {
        mempool
            .accept(tx.clone(), &chain, 2_000_000_000, 0)
            .unwrap();
    }
    let (p, c) = (parent.txid().to_string(), child.txid().to_string());
    let (pv, cv) = (parent.weight().div_ceil(4), child.weight().div_ceil(4));
    let e = call_with(&chain, &mempool, "getmempoolentry", json!([p])).unwrap();
    assert_eq!(e["vsize"], json!(pv));
    assert_eq!(e["weight"], json!(parent.weight()));
    assert_eq!(e["time"], json!(2_000_000_000u64));
    assert_eq!(e["height"], json!(101));
    assert_eq!(e["wtxid"], json!(parent.wtxid().to_string()));
    assert_eq!(
        (e["ancestorcount"].clone(), e["ancestorsize"].clone()),
        (json!(1), json!(pv))
    );
    assert_eq!(e["descendantcount"], json!(2));
    assert_eq!(e["descendantsize"], json!(pv + cv));
    assert_eq!(e["fees"]["base"], json!(0.0001));
    assert_eq!(e["fees"]["modified"], json!(0.0001));
    assert_eq!(e["fees"]["ancestor"], json!(0.0001));
    assert_eq!(e["fees"]["descendant"], json!(0.0003));
    assert_eq!(e["depends"], json!([]));
    assert_eq!(e["spentby"], json!([c]));
    assert_eq!(e["bip125-replaceable"], json!(false));
    let e = call_with(&chain, &mempool, "getmempoolentry", json!([c])).unwrap();
    assert_eq!(e["ancestorcount"], json!(2));
    assert_eq!(e["ancestorsize"], json!(pv + cv));
    assert_eq!(e["fees"]["ancestor"], json!(0.0003));
    assert_eq!(e["descendantcount"], json!(1));
    assert_eq!(e["depends"], json!([p]));
    assert_eq!(e["bip125-replaceable"], json!(true));
    let missing = "22".repeat(32);
    let err = call_with(&chain, &mempool, "getmempoolentry", json!([missing])).unwrap_err();
    assert_eq!(
        (err.code, err.message.as_str()),
        (code::INVALID_ADDRESS_OR_KEY, "Transaction not in mempool")
    );
}

#[test]
fn estimatesmartfee_answers_only_what_was_observed_in_cores_shape() {
    let chain = chain_with(0);
    let mempool = Mempool::new(Policy::default());
    let info = info();
    let mut fees = FeeEstimator::default();
    let ask = |fees: &FeeEstimator, params: Value| {
        let mut ctx = context(&chain, &mempool, &info, 1_042);
        ctx.miner.fees = fees;
        let params = params.as_array().unwrap().clone();
        find("estimatesmartfee")
            .unwrap()
            .call(&ctx, None, &params)
            .map(|h| h.result)
    };
    let none = json!({"errors": ["Insufficient data or no feerate found"], "blocks": 0});
    assert_eq!(ask(&fees, json!([6])).unwrap(), none, "no blocks seen");
    for _ in 0..3 {
        fees.empty_block_connected();
    }
    // Blocks seen, but no transaction: the relay floor would be a made-up answer.
    assert_eq!(ask(&fees, json!([6, "economical"])).unwrap(), none);
    let e = ask(&fees, json!([0])).unwrap_err();
    assert_eq!(
        (e.code, e.message.as_str()),
        (
            code::INVALID_PARAMETER,
            "Invalid conf_target, must be between 1 and 25"
        )
    );
    assert_eq!(
        ask(&fees, json!([26])).unwrap_err().code,
        code::INVALID_PARAMETER
    );
    let e = ask(&fees, json!([6, "fast"])).unwrap_err();
    assert_eq!(e.code, code::INVALID_PARAMETER);
    assert_eq!(
        ask(&fees, json!([])).unwrap_err().code,
        code::INVALID_PARAMS
    );
}

#[test]
fn getindexinfo_lists_the_transaction_index_when_kept() {
    let mut chain = chain_with(3);
    assert_eq!(call(&chain, "getindexinfo", json!([])).unwrap(), json!({}));
    chain.enable_tx_index().unwrap();
    let txindex = json!({"txindex": {"synced": true, "best_block_height": 3}});
    assert_eq!(call(&chain, "getindexinfo", json!([])).unwrap(), txindex);
    assert_eq!(
        call(&chain, "getindexinfo", json!(["txindex"])).unwrap(),
        txindex
    );
    assert_eq!(
        call(&chain, "getindexinfo", json!(["coinstatsindex"])).unwrap(),
        json!({}),
        "Core answers an index it does not keep with nothing"
    );
}

#[test]
fn getnetworkinfo_has_cores_shape() {
    let chain = chain_with(0);
    let n = call(&chain, "getnetworkinfo", json!([])).unwrap();
    assert_eq!(n["version"], json!(10_000));
    assert_eq!(n["subversion"], json!("/rbtcd:0.1.0/"));
    assert_eq!(n["protocolversion"], json!(70016));
    assert_eq!(n["localservices"], json!("0000000000000009"));
    assert_eq!(n["localservicesnames"], json!(["NETWORK", "WITNESS"]));
    assert_eq!(n["localrelay"], json!(true));
    assert_eq!(n["networkactive"], json!(true));
    assert_eq!(
        (
            &n["connections"],
            &n["connections_in"],
            &n["connections_out"]
        ),
        (&json!(0), &json!(0), &json!(0))
    );
    assert_eq!(n["relayfee"], json!(0.00001));
    assert_eq!(n["incrementalfee"], json!(0.00001));
    assert_eq!(n["localaddresses"], json!([]));
    assert_eq!(n["warnings"], json!([]));
    let names: Vec<&Value> = n["networks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| &x["name"])
        .collect();
    assert_eq!(names, [&json!("ipv4"), &json!("ipv6")]);
    assert_eq!(n["networks"][0]["reachable"], json!(true));
    assert_eq!(
        call(&chain, "getnetworkinfo", json!([1])).unwrap_err().code,
        code::INVALID_PARAMS
    );
}

#[test]
fn getblockstats_counts_fees_sizes_and_utxo_growth_as_core() {
    let params = ChainParams::new(Network::Regtest);
    let (store, blocks) = mine_chain_to(&params, 101, b"b", &p2wsh_true());
    let mut chain = Chain::open(params.clone(), store).unwrap();
    let coin = |i: usize| {
        let cb = &blocks[i].txdata[0];
        (OutPoint::new(cb.txid(), 0), cb.outputs[0].value)
    };
    let ((a, va), (b, vb)) = (coin(0), coin(1));
    let cheap = spend_p2wsh(a, va - 10_000);
    let dear = spend_p2wsh(b, vb - 30_000);
    let tip = *chain.tip();
    let block = BlockBuilder::new(&params, tip.hash, 102, tip.header.time)
        .tx(cheap.clone())
        .tx(dear.clone())
        .fees(40_000)
        .build();
    chain.process_block(block.clone(), 2_000_000_000).unwrap();
    assert_eq!(chain.tip().height, 102);
    let s = call(&chain, "getblockstats", json!([102])).unwrap();
    let by_hash = call(
        &chain,
        "getblockstats",
        json!([block.block_hash().to_string()]),
    );
    assert_eq!(by_hash.unwrap(), s);
    let (w1, w2) = (cheap.weight() as i64, dear.weight() as i64);
    let (s1, s2) = (cheap.total_size() as i64, dear.total_size() as i64);
    assert_eq!(s["txs"], json!(3));
    assert_eq!(s["ins"], json!(2));
    // The coinbase's payout and witness commitment, and one output per spend.
    assert_eq!(s["outs"], json!(4));
    assert_eq!(s["utxo_increase"], json!(2));
    assert_eq!(
        s["utxo_increase_actual"],
        json!(1),
        "OP_RETURN never enters the set"
    );
    assert_eq!(
        (
            &s["totalfee"],
            &s["minfee"],
            &s["maxfee"],
            &s["medianfee"],
            &s["avgfee"]
        ),
        (
            &json!(40_000),
            &json!(10_000),
            &json!(30_000),
            &json!(20_000),
            &json!(20_000)
        )
    );
    assert_eq!(s["total_out"], json!(va + vb - 40_000));
    assert_eq!(s["total_weight"], json!(w1 + w2));
    assert_eq!(s["total_size"], json!(s1 + s2));
    assert_eq!(
        (&s["swtxs"], &s["swtotal_weight"]),
        (&json!(2), &json!(w1 + w2))
    );
    assert_eq!(s["minfeerate"], json!(10_000 * 4 / w1));
    assert_eq!(s["maxfeerate"], json!(30_000 * 4 / w2));
    assert_eq!(s["avgfeerate"], json!(40_000 * 4 / (w1 + w2)));
    assert_eq!(s["subsidy"], json!(params.subsidy(102)));
    assert_eq!(s["height"], json!(102));
    assert_eq!(s["blockhash"], json!(block.block_hash().to_string()));
    let percentiles = s["feerate_percentiles"].as_array().unwrap();
    assert_eq!(percentiles.len(), 5);
    assert_eq!(percentiles[0], s["minfeerate"]);
    assert_eq!(percentiles[4], s["maxfeerate"]);
    // Each coin spent left the set: its output and Core's 41 bytes of overhead.
    let spent_size: i64 = [&blocks[0], &blocks[1]]
        .iter()
        .map(|b| 8 + 1 + b.txdata[0].outputs[0].script_pubkey.len() as i64 + 41)
        .sum();
    let made: i64 = [&cheap, &dear]
        .iter()
        .map(|t| 8 + 1 + t.outputs[0].script_pubkey.len() as i64 + 41)
        .sum();
    let coinbase = &block.txdata[0];
    let payout = 8 + 1 + coinbase.outputs[0].script_pubkey.len() as i64 + 41;
    let commitment = 8 + 1 + coinbase.outputs[1].script_pubkey.len() as i64 + 41;
    assert_eq!(s["utxo_size_inc_actual"], json!(payout + made - spent_size));
    assert_eq!(
        s["utxo_size_inc"],
        json!(payout + commitment + made - spent_size)
    );

    let picked = call(&chain, "getblockstats", json!([102, ["txs", "totalfee"]])).unwrap();
    assert_eq!(picked, json!({"txs": 3, "totalfee": 40_000}));
    let genesis = call(&chain, "getblockstats", json!([0])).unwrap();
    assert_eq!(
        (
            &genesis["txs"],
            &genesis["ins"],
            &genesis["utxo_increase"],
            &genesis["utxo_increase_actual"]
        ),
        (&json!(1), &json!(0), &json!(1), &json!(0))
    );
    assert_eq!(genesis["feerate_percentiles"], json!([0, 0, 0, 0, 0]));
    let e = call(&chain, "getblockstats", json!([102, ["fees"]])).unwrap_err();
    assert_eq!(
        (e.code, e.message.as_str()),
        (code::INVALID_PARAMETER, "Invalid selected statistic 'fees'")
    );
    let e = call(&chain, "getblockstats", json!([103])).unwrap_err();
    assert_eq!(e.message, "Target block height 103 after current tip 102");
    let e = call(&chain, "getblockstats", json!([-1])).unwrap_err();
    assert_eq!(e.message, "Target block height -1 is negative");
    let e = call(
        &chain,
        "getblockstats",
        json!([Hash256([7; 32]).to_string()]),
    )
    .unwrap_err();
    assert_eq!(e.code, code::INVALID_ADDRESS_OR_KEY);
}

#[test]
fn deployments_are_buried_and_active_after_their_heights() {
    let chain = chain_with(1);
    let info = call(&chain, "getdeploymentinfo", json!([])).unwrap();
    assert_eq!(info["height"], json!(1));
    assert_eq!(info["hash"], json!(chain.tip().hash.to_string()));
    let d = &info["deployments"];
    for name in ["bip34", "bip66", "bip65", "csv", "segwit", "taproot"] {
        assert_eq!(d[name]["type"], json!("buried"), "{name}");
        assert_eq!(d[name]["active"], json!(true), "{name}");
    }
    assert_eq!(d["segwit"]["height"], json!(chain.params().segwit_height));
    // At genesis, the block after it (height 1) is where regtest's BIP34 starts.
    let genesis = chain.params().genesis_hash.to_string();
    let at_genesis = call(&chain, "getdeploymentinfo", json!([genesis])).unwrap();
    assert_eq!(at_genesis["height"], json!(0));
    assert_eq!(at_genesis["deployments"]["bip34"]["active"], json!(true));

    let mainnet = Chain::open(ChainParams::new(Network::Mainnet), MemStore::new()).unwrap();
    let d = call(&mainnet, "getdeploymentinfo", json!([])).unwrap()["deployments"].clone();
    assert_eq!(
        d["bip34"],
        json!({"type": "buried", "active": false, "height": 227_931})
    );
    let forks = call(&mainnet, "getblockchaininfo", json!([])).unwrap()["softforks"].clone();
    assert_eq!(
        forks,
        json!([
            {"id": "bip34", "version": 2, "reject": {"status": false}},
            {"id": "bip66", "version": 3, "reject": {"status": false}},
            {"id": "bip65", "version": 4, "reject": {"status": false}},
        ])
    );
    let forks = call(&chain, "getblockchaininfo", json!([])).unwrap()["softforks"].clone();
    assert_eq!(
        forks[0]["reject"]["status"],
        json!(true),
        "regtest's BIP34 is at 1"
    );
}
