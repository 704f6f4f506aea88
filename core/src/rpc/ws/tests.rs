//! The hub and scans over a small regtest chain whose first coinbase pays a watched address
//! and whose last block spends it.

use super::*;
use crate::address::{Address, Payload, WitnessProgram};
use crate::chain::builder::{spend, BlockBuilder};
use crate::chain::{Chain, MemStore};
use crate::mempool::{Mempool, Policy};
use crate::params::{Network, Params as ChainParams};
use crate::primitives::hash::sha256;
use crate::primitives::{Block, OutPoint, Transaction, Txid};
use crate::rpc::error::code;
use crate::rpc::handlers::session::Session;
use crate::rpc::handlers::tests as handler_tests;
use crate::rpc::handlers::Context;
use crate::rpc::methods::find;
use crate::rpc::params::Params;
use crate::rpc::RpcError;
use crate::rpc::Transport;
use crate::script::opcodes::OP_1;
use serde_json::{json, Value};

fn params() -> ChainParams {
    ChainParams::new(Network::Regtest)
}

/// P2WSH of `OP_1`: an address anyone can spend from by revealing the script.
fn watched() -> Address {
    let program = WitnessProgram::new(0, sha256(&[OP_1]).to_vec()).unwrap();
    Address::new(Payload::Witness(program), &params())
}

/// Blocks 1..=102: block 1's coinbase pays [`watched`], block 102 spends it.
fn blocks() -> Vec<Block> {
    let params = params();
    let mut blocks: Vec<Block> = Vec::new();
    let (mut prev, mut time) = (params.genesis_hash, params.genesis.header.time);
    for height in 1..=102u32 {
        let mut b = BlockBuilder::new(&params, prev, height, time);
        if height == 1 {
            b.coinbase.outputs[0].script_pubkey = watched().script_pubkey();
        }
        if height == 102 {
            let cb = &blocks[0].txdata[0];
            let mut tx = spend(
                &[OutPoint::new(cb.txid(), 0)],
                &[cb.outputs[0].value - 1000],
            );
            tx.inputs[0].witness = vec![vec![OP_1]];
            b = b.tx(tx).fees(1000);
        }
        let block = b.build();
        prev = block.block_hash();
        time = block.header.time;
        blocks.push(block);
    }
    blocks
}

fn chain(blocks: &[Block]) -> Chain<MemStore> {
    let mut chain = Chain::open(params(), MemStore::new()).unwrap();
    for b in blocks {
        chain
            .process_block(b.clone(), u64::from(b.header.time))
            .unwrap();
    }
    assert_eq!(chain.tip().height, blocks.len() as u32);
    chain
}

fn methods(out: &[Outgoing], client: ClientId) -> Vec<String> {
    out.iter()
        .filter(|(id, _)| *id == client)
        .map(|(_, v)| v["method"].as_str().unwrap().to_string())
        .collect()
}

/// Runs a WebSocket command of client `id` through the method table, on a genesis-only
/// chain with an empty mempool.
fn command(hub: &mut Hub, id: ClientId, method: &str, args: Value) -> Result<Value, RpcError> {
    let chain = Chain::open(params(), MemStore::new()).unwrap();
    let mempool = Mempool::new(Policy::default());
    let info = handler_tests::info();
    let ctx = Context {
        transport: Transport::WebSocket,
        ..handler_tests::context(&chain, &mempool, &info, 0)
    };
    let mut subs = hub.take(id).unwrap_or_default();
    let mut session = Session {
        id: 1,
        subs: &mut subs,
        notes: Vec::new(),
    };
    let args = args.as_array().unwrap().clone();
    let outcome = find(method).unwrap().call(&ctx, Some(&mut session), &args);
    hub.put(id, subs);
    outcome.map(|h| h.result)
}

fn ok(hub: &mut Hub, id: ClientId, method: &str, params: Value) {
    assert_eq!(
        command(hub, id, method, params),
        Ok(Value::Null),
        "{method}"
    );
}

fn err(hub: &mut Hub, id: ClientId, method: &str, params: Value) -> i32 {
    command(hub, id, method, params).unwrap_err().code
}

#[test]
fn block_subscribers_get_connected_then_filtered_notifications_until_they_stop() {
    let blocks = blocks();
    let mut hub = Hub::new(params());
    hub.add_client(1);
    hub.add_client(2);
    assert!(!hub.wants_blocks());
    ok(&mut hub, 1, "notifyblocks", json!([]));
    assert!(hub.wants_blocks());
    let out = hub.block_connected(&blocks[0], 1);
    assert_eq!(
        methods(&out, 1),
        ["blockconnected", "filteredblockconnected"]
    );
    assert!(methods(&out, 2).is_empty());
    assert_eq!(out[0].1["params"][0], blocks[0].block_hash().to_string());
    assert!(out[1].1["params"][2].is_null(), "no filter loaded");
    let out = hub.block_disconnected(&blocks[0].header, 1);
    assert_eq!(
        methods(&out, 1),
        ["blockdisconnected", "filteredblockdisconnected"]
    );
    ok(&mut hub, 1, "stopnotifyblocks", json!([]));
    assert!(hub.block_connected(&blocks[0], 1).is_empty());
    assert_eq!(
        err(&mut hub, 1, "notifyblocks", json!([1])),
        code::INVALID_PARAMS
    );
}

#[test]
fn a_loaded_filter_selects_block_and_mempool_transactions_and_follows_paid_outputs() {
    let blocks = blocks();
    let mut hub = Hub::new(params());
    hub.add_client(1);
    ok(&mut hub, 1, "notifyblocks", json!([]));
    ok(
        &mut hub,
        1,
        "loadtxfilter",
        json!([true, [watched().to_string(), "bogus"], []]),
    );
    let out = hub.block_connected(&blocks[0], 1);
    let coinbase_hex = notification::tx_hex(&blocks[0].txdata[0]);
    assert_eq!(out[1].1["params"][2], json!([coinbase_hex]));
    // The paid output is now watched: its spend is relevant in the mempool.
    let spender = &blocks[101].txdata[1];
    let out = hub.tx_accepted(spender);
    assert_eq!(methods(&out, 1), ["relevanttxaccepted"]);
    assert_eq!(out[0].1["params"][0], notification::tx_hex(spender));
    // Reloading replaces the filter; adding to it keeps what was there.
    ok(&mut hub, 1, "loadtxfilter", json!([true, [], []]));
    assert!(hub.tx_accepted(spender).is_empty());
    let op = spender.inputs[0].prevout;
    let outpoint = json!({"hash": op.txid.to_string(), "index": op.vout});
    ok(&mut hub, 1, "loadtxfilter", json!([false, [], [outpoint]]));
    assert_eq!(
        methods(&hub.tx_accepted(spender), 1),
        ["relevanttxaccepted"]
    );
    let bad = json!([{"hash": "xyz", "index": 0}]);
    assert_eq!(
        err(&mut hub, 1, "loadtxfilter", json!([false, [], bad])),
        code::INVALID_PARAMETER
    );
}

#[test]
fn new_transaction_subscribers_get_plain_or_verbose_notifications() {
    let tx: Transaction = spend(&[OutPoint::new(Txid::ZERO, 1)], &[100_000_000]);
    let mut hub = Hub::new(params());
    for id in [1, 2, 3] {
        hub.add_client(id);
    }
    ok(&mut hub, 1, "notifynewtransactions", json!([]));
    ok(&mut hub, 2, "notifynewtransactions", json!([true]));
    let out = hub.tx_accepted(&tx);
    assert_eq!(out.len(), 2);
    assert_eq!(out[0], (1, notification::tx_accepted(&tx)));
    assert_eq!(out[0].1["params"][1], json!(1.0));
    assert_eq!(out[1].1["method"], "txacceptedverbose");
    assert_eq!(out[1].1["params"][0]["txid"], tx.txid().to_string());
    ok(&mut hub, 1, "stopnotifynewtransactions", json!([]));
    hub.remove_client(2);
    assert!(hub.tx_accepted(&tx).is_empty());
}

#[test]
fn received_addresses_and_spent_outpoints_notify_with_block_details() {
    let blocks = blocks();
    let mut hub = Hub::new(params());
    hub.add_client(7);
    assert_eq!(
        err(&mut hub, 7, "notifyreceived", json!([["nope"]])),
        code::INVALID_ADDRESS_OR_KEY
    );
    let bad = json!([[{"hash": "zz", "index": 0}]]);
    assert_eq!(err(&mut hub, 7, "notifyspent", bad), code::DESERIALIZATION);
    ok(
        &mut hub,
        7,
        "notifyreceived",
        json!([[watched().to_string()]]),
    );
    assert!(hub.wants_blocks());
    let out = hub.block_connected(&blocks[0], 1);
    assert_eq!(methods(&out, 7), ["recvtx"]);
    let details = &out[0].1["params"][1];
    assert_eq!(details["height"], 1);
    assert_eq!(details["index"], 0);
    assert_eq!(details["hash"], blocks[0].block_hash().to_string());
    // In the mempool the spend is notified without details and the watch stays...
    let spender = &blocks[101].txdata[1];
    let out = hub.tx_accepted(spender);
    assert_eq!(methods(&out, 7), ["redeemingtx"]);
    assert_eq!(out[0].1["params"].as_array().unwrap().len(), 1);
    // ...mined, it is notified once more and the watch ends.
    ok(
        &mut hub,
        7,
        "stopnotifyreceived",
        json!([[watched().to_string()]]),
    );
    let out = hub.block_connected(&blocks[101], 102);
    assert_eq!(methods(&out, 7), ["redeemingtx"]);
    assert_eq!(out[0].1["params"][1]["index"], 1);
    assert!(hub.block_connected(&blocks[101], 102).is_empty());
    assert!(!hub.wants_blocks());
}

#[test]
fn rescanblocks_returns_matching_transactions_of_consecutive_blocks() {
    let blocks = blocks();
    let chain = chain(&blocks);
    let hash = |i: usize| json!(blocks[i].block_hash().to_string());
    let e = rescan::rescan_blocks(
        &chain,
        None,
        Params::new("rescanblocks", &[json!([hash(0)])]),
    )
    .unwrap_err();
    assert_eq!(e.code, code::MISC, "no filter loaded");
    let mut filter = TxFilter::new([watched().payload().clone()], []);
    let found = rescan::rescan_blocks(
        &chain,
        Some(&mut filter),
        Params::new("rescanblocks", &[json!([hash(0), hash(1)])]),
    )
    .unwrap();
    assert_eq!(
        found,
        json!([{"hash": hash(0), "transactions": [notification::tx_hex(&blocks[0].txdata[0])]}])
    );
    let found = rescan::rescan_blocks(
        &chain,
        Some(&mut filter),
        Params::new("rescanblocks", &[json!([hash(101)])]),
    )
    .unwrap();
    assert_eq!(
        found[0]["transactions"][0],
        notification::tx_hex(&blocks[101].txdata[1])
    );
    let e = rescan::rescan_blocks(
        &chain,
        Some(&mut filter),
        Params::new("rescanblocks", &[json!([hash(0), hash(2)])]),
    )
    .unwrap_err();
    assert_eq!(e.code, code::INVALID_PARAMETER, "not a child");
    let unknown = json!([Txid::ZERO.to_string()]);
    let e = rescan::rescan_blocks(
        &chain,
        Some(&mut filter),
        Params::new("rescanblocks", &[unknown]),
    )
    .unwrap_err();
    assert_eq!(e.code, code::INVALID_ADDRESS_OR_KEY);
}

#[test]
fn rescan_steps_through_the_chain_to_the_tip() {
    let blocks = blocks();
    let chain = chain(&blocks);
    let genesis = json!(params().genesis_hash.to_string());
    let args = [genesis.clone(), json!([watched().to_string()]), json!([])];
    let mut scan = Rescan::start(&chain, Params::new("rescan", &args)).unwrap();
    assert!(scan.to_tip() && !scan.is_empty());
    let mut seen = Vec::new();
    loop {
        let step = scan.step(&chain, 40).unwrap();
        seen.extend(
            step.notifications
                .iter()
                .map(|n| n["method"].as_str().unwrap().to_string()),
        );
        if step.done {
            break;
        }
    }
    assert_eq!(
        seen,
        ["recvtx", "rescanprogress", "rescanprogress", "redeemingtx"]
    );
    let tip = &blocks[101];
    assert_eq!(
        scan.finished(&chain).unwrap()["params"],
        json!([tip.block_hash().to_string(), 102, tip.header.time])
    );
    let (outpoints, addresses) = scan.watches();
    assert!(outpoints.is_empty(), "the received output was spent");
    assert_eq!(addresses.len(), 1);

    // An end block stops the scan before it, as btcd's height range does.
    let end = json!(blocks[101].block_hash().to_string());
    let args = [genesis, json!([watched().to_string()]), json!([]), end];
    let mut scan = Rescan::start(&chain, Params::new("rescan", &args)).unwrap();
    let step = scan.step(&chain, 1000).unwrap();
    assert!(step.done && !scan.to_tip());
    let methods: Vec<_> = step
        .notifications
        .iter()
        .map(|n| n["method"].clone())
        .collect();
    assert_eq!(methods, [json!("recvtx")]);
    // Starting after the payment, the spend is still found by the address it spends from.
    let args = [
        json!(blocks[1].block_hash().to_string()),
        json!([watched().to_string()]),
        json!([]),
    ];
    let mut scan = Rescan::start(&chain, Params::new("rescan", &args)).unwrap();
    let step = scan.step(&chain, 1000).unwrap();
    let methods: Vec<_> = step
        .notifications
        .iter()
        .map(|n| n["method"].clone())
        .collect();
    assert_eq!(methods, [json!("redeemingtx")]);
    let unknown = [json!(Txid::ZERO.to_string()), json!([]), json!([])];
    assert_eq!(
        Rescan::start(&chain, Params::new("rescan", &unknown))
            .unwrap_err()
            .code,
        code::INVALID_ADDRESS_OR_KEY
    );
}

#[test]
fn websocket_help_lists_the_websocket_commands_too() {
    let mut hub = Hub::new(params());
    let all = command(&mut hub, 1, "help", json!([])).unwrap();
    let lines: Vec<&str> = all.as_str().unwrap().lines().collect();
    assert_eq!(lines.len(), crate::rpc::methods::METHODS.len());
    assert!(lines.iter().any(|l| l.starts_with("notifyblocks")));
    let one = command(&mut hub, 1, "help", json!(["rescanblocks"])).unwrap();
    assert!(one.as_str().unwrap().starts_with("rescanblocks"));
}
