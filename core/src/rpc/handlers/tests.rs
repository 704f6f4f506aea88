use super::*;
use crate::chain::builder::BlockBuilder;
use crate::chain::MemStore;
use crate::mempool::Policy;
use crate::params::{Network, Params as ChainParams};
use crate::primitives::encode::{Decodable, Encodable};
use crate::primitives::hash::hex_decode;
use crate::primitives::transaction::Transaction;
use crate::rpc::error::code;
use crate::rpc::methods::find;
use serde_json::json;

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

fn info() -> NodeInfo {
    NodeInfo {
        version: (0, 1, 0),
        start_time: 1_000,
        proxy: String::new(),
    }
}

fn call(chain: &Chain<MemStore>, method: &str, params: Value) -> Result<Value, RpcError> {
    let mempool = Mempool::new(Policy::default());
    let info = info();
    let ctx = Context {
        chain,
        mempool: &mempool,
        info: &info,
        connections: 0,
        now: 1_042,
    };
    let params = params.as_array().unwrap().clone();
    dispatch(&ctx, find(method).unwrap(), &params).map(|h| h.result)
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
        .store()
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
    let block = chain.store().block(&chain.tip().hash).unwrap().unwrap();
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
    let block = chain.store().block(&chain.tip().hash).unwrap().unwrap();
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
    assert_eq!(help.as_str().unwrap().lines().count(), 53);
    assert_eq!(
        call(&chain, "help", json!(["getblockcount"])).unwrap(),
        json!("getblockcount")
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
    let ctx = Context {
        chain: &chain,
        mempool: &mempool,
        info: &info,
        connections: 0,
        now: 0,
    };
    let h = dispatch(&ctx, find("stop").unwrap(), &[]).unwrap();
    assert_eq!(h.effect, Some(Effect::Stop));
    assert_eq!(
        dispatch(&ctx, find("getpeerinfo").unwrap(), &[]).unwrap_err(),
        RpcError::unimplemented()
    );
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
