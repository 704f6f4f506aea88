//! RPC calls that change the node: `sendrawtransaction` and `submitblock` answered by
//! the node through `Input::Rpc` with btcd's results and error codes.

use rbtcd_core::chain::builder::{spend, BlockBuilder};
use rbtcd_core::chain::MemStore;
use rbtcd_core::harness::call_node;
use rbtcd_core::node::{Input, Node, NodeConfig, Output};
use rbtcd_core::params::{Network, Params};
use rbtcd_core::primitives::hash::{hex_encode, sha256};
use rbtcd_core::primitives::{Block, Encodable, OutPoint, Transaction};
use rbtcd_core::rpc::error::code;
use rbtcd_core::rpc::Rights;
use rbtcd_core::time::Time;
use serde_json::{json, Value};

const WITNESS_SCRIPT: [u8; 1] = [0x51];
const NOW_MS: Time = Time::from_millis(2_000_000_000_000);

fn p2wsh() -> Vec<u8> {
    [&[0u8, 32][..], &sha256(&WITNESS_SCRIPT)].concat()
}

fn next_block(node: &Node<MemStore>, txs: Vec<Transaction>) -> Block {
    let tip = node.chain().tip();
    let mut bb = BlockBuilder::new(
        node.chain().params(),
        tip.hash,
        tip.height + 1,
        tip.header.time,
    );
    bb.coinbase.outputs[0].script_pubkey = p2wsh();
    bb.txs = txs;
    bb.build()
}

/// A node whose first coinbase (paying P2WSH(OP_1)) has matured, and that coinbase's outpoint.
fn node_with_mature_coin() -> (Node<MemStore>, OutPoint) {
    let params = Params::new(Network::Regtest);
    let mut node = Node::new(params, NodeConfig::default(), MemStore::new(), 1, NOW_MS).unwrap();
    let mut first = None;
    for _ in 0..101 {
        let b = next_block(&node, vec![]);
        first.get_or_insert(OutPoint::new(b.txdata[0].txid(), 0));
        node.handle(NOW_MS, Input::SubmitBlock(b));
    }
    (node, first.unwrap())
}

fn call(node: &mut Node<MemStore>, method: &str, params: Value) -> Result<Value, (i32, String)> {
    call_node(node, NOW_MS, Rights::Admin, method, params)
        .0
        .map_err(|e| (e.code, e.message))
}

#[test]
fn sendrawtransaction_accepts_relays_and_refuses_as_btcd() {
    let (mut node, coin) = node_with_mature_coin();
    let mut tx = spend(&[coin], &[50 * 100_000_000 - 10_000]);
    tx.outputs[0].script_pubkey = p2wsh();
    tx.inputs[0].witness = vec![WITNESS_SCRIPT.to_vec()];
    let hex = hex_encode(&tx.encode());

    assert_eq!(
        call(&mut node, "sendrawtransaction", json!([hex])),
        Ok(json!(tx.txid().to_string()))
    );
    assert!(node.mempool().have(&tx.txid()));
    let again = call(&mut node, "sendrawtransaction", json!([hex])).unwrap_err();
    assert_eq!(again.0, code::VERIFY_ALREADY_IN_CHAIN, "{again:?}");
    assert_eq!(
        call(&mut node, "sendrawtransaction", json!(["zz"]))
            .unwrap_err()
            .0,
        code::DESERIALIZATION
    );
    assert_eq!(
        call(&mut node, "sendrawtransaction", json!(["00"]))
            .unwrap_err()
            .0,
        code::DESERIALIZATION
    );

    // Spending the same coin again conflicts: -26, with the mempool's reason.
    let mut double = tx.clone();
    double.outputs[0].value -= 1;
    let refused = call(
        &mut node,
        "sendrawtransaction",
        json!([hex_encode(&double.encode())]),
    )
    .unwrap_err();
    assert_eq!(refused.0, code::VERIFY_REJECTED, "{refused:?}");
    assert!(refused.1.starts_with("TX rejected: "), "{refused:?}");
}

#[test]
fn submitblock_answers_null_or_the_rejection() {
    let (mut node, _) = node_with_mature_coin();
    let block = next_block(&node, vec![]);
    let hex = hex_encode(&block.encode());
    assert_eq!(
        call(&mut node, "submitblock", json!([hex])),
        Ok(Value::Null)
    );
    assert_eq!(node.chain().tip().hash, block.block_hash());
    assert_eq!(
        call(&mut node, "submitblock", json!([hex])),
        Ok(json!("rejected: duplicate"))
    );

    let mut bad = next_block(&node, vec![]);
    bad.txdata[0].outputs[0].value += 1;
    rbtcd_core::chain::builder::finish(&mut bad);
    let answer = call(&mut node, "submitblock", json!([hex_encode(&bad.encode())])).unwrap();
    assert!(
        answer.as_str().unwrap().starts_with("rejected: "),
        "{answer}"
    );
    assert_eq!(node.chain().tip().hash, block.block_hash());
    assert_eq!(
        call(&mut node, "submitblock", json!(["nothex"]))
            .unwrap_err()
            .0,
        code::DESERIALIZATION
    );
}

#[test]
fn generate_mines_blocks_paying_the_mining_address() {
    let params = Params::new(Network::Regtest);
    let pay_to = rbtcd_core::address::Address::new(
        rbtcd_core::address::Payload::PubKeyHash([9; 20]),
        &params,
    );
    let config = NodeConfig {
        mining_addrs: vec![pay_to.clone()],
        ..NodeConfig::default()
    };
    let mut node = Node::new(params, config, MemStore::new(), 1, NOW_MS).unwrap();
    let hashes = call(&mut node, "generate", json!([3])).unwrap();
    let hashes = hashes.as_array().unwrap();
    assert_eq!(hashes.len(), 3);
    assert_eq!(node.chain().tip().height, 3);
    assert_eq!(hashes[2], json!(node.chain().tip().hash.to_string()));
    let tip = node
        .chain()
        .block(&node.chain().tip().hash)
        .unwrap()
        .unwrap();
    assert_eq!(
        tip.txdata[0].outputs[0].script_pubkey,
        pay_to.script_pubkey()
    );
    assert_eq!(
        call(&mut node, "generate", json!([0])).unwrap_err().0,
        code::INTERNAL
    );

    let mut no_addr = Node::new(
        Params::new(Network::Regtest),
        NodeConfig::default(),
        MemStore::new(),
        1,
        NOW_MS,
    )
    .unwrap();
    let e = call(&mut no_addr, "generate", json!([1])).unwrap_err();
    assert!(e.1.contains("No payment addresses"), "{e:?}");
    let mut mainnet = Node::new(
        Params::new(Network::Mainnet),
        NodeConfig::default(),
        MemStore::new(),
        1,
        NOW_MS,
    )
    .unwrap();
    assert_eq!(
        call(&mut mainnet, "generate", json!([1])).unwrap_err().0,
        code::DIFFICULTY
    );
}

/// A parent and its child, both pooled through `sendrawtransaction`; their txids.
fn pool_parent_and_child(node: &mut Node<MemStore>, coin: OutPoint) -> Vec<String> {
    let mut parent = spend(&[coin], &[50 * 100_000_000 - 10_000]);
    parent.outputs[0].script_pubkey = p2wsh();
    parent.inputs[0].witness = vec![WITNESS_SCRIPT.to_vec()];
    let mut child = spend(
        &[OutPoint::new(parent.txid(), 0)],
        &[50 * 100_000_000 - 20_000],
    );
    child.outputs[0].script_pubkey = p2wsh();
    child.inputs[0].witness = vec![WITNESS_SCRIPT.to_vec()];
    let mut txids = Vec::new();
    for tx in [parent, child] {
        let hex = hex_encode(&tx.encode());
        txids.push(
            call(node, "sendrawtransaction", json!([hex]))
                .unwrap()
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    txids.sort();
    txids
}

fn pooled(node: &Node<MemStore>) -> Vec<String> {
    let mut txids: Vec<String> = node
        .mempool()
        .entries()
        .map(|e| e.txid.to_string())
        .collect();
    txids.sort();
    txids
}

#[test]
fn savemempool_hands_the_pool_to_the_driver_and_a_restarted_node_loads_it_back() {
    let (mut node, coin) = node_with_mature_coin();
    let txids = pool_parent_and_child(&mut node, coin);
    let (answer, outputs) = call_node(&mut node, NOW_MS, Rights::Admin, "savemempool", json!([]));
    assert_eq!(
        answer.unwrap(),
        json!({ "filename": "" }),
        "no file configured"
    );
    let saved: Vec<&Vec<u8>> = outputs
        .iter()
        .filter_map(|o| match o {
            Output::SaveMempool { bytes, .. } => Some(bytes),
            _ => None,
        })
        .collect();
    let [bytes] = saved[..] else {
        panic!("one dump expected: {outputs:?}")
    };
    assert_eq!(bytes[..8], 2u64.to_le_bytes(), "Core's obfuscated version");

    // The same chain, a fresh node: the pool comes back, parent before child.
    let store = node.into_store().reopen();
    let mut again = Node::new(
        Params::new(Network::Regtest),
        NodeConfig::default(),
        store,
        2,
        NOW_MS,
    )
    .unwrap();
    assert!(pooled(&again).is_empty());
    let loaded = again.load_mempool(bytes).unwrap();
    assert_eq!((loaded.accepted, loaded.failed), (2, 0));
    assert_eq!(loaded.unbroadcast, 2, "both were submitted locally");
    assert_eq!(pooled(&again), txids);
    // Loading again finds them there.
    let loaded = again.load_mempool(bytes).unwrap();
    assert_eq!((loaded.accepted, loaded.already_there), (0, 2));

    // A damaged file changes nothing.
    let mut fresh = Node::new(
        Params::new(Network::Regtest),
        NodeConfig::default(),
        again.into_store().reopen(),
        3,
        NOW_MS,
    )
    .unwrap();
    assert!(fresh.load_mempool(&bytes[..bytes.len() / 2]).is_err());
    assert!(pooled(&fresh).is_empty());
}

#[test]
fn savemempool_answers_once_the_driver_reports_the_write_and_a_failed_write_is_cores_error() {
    let (mut node, _) = node_with_mature_coin();
    while node.poll_output().is_some() {}
    let body = |id: u64| {
        format!(r#"[{{"jsonrpc":"2.0","id":{id},"method":"savemempool"}},{{"jsonrpc":"2.0","id":{},"method":"getblockcount"}}]"#, id + 1)
            .into_bytes()
    };
    let ask = |node: &mut Node<MemStore>, id: u64| {
        node.handle(
            NOW_MS,
            Input::Rpc {
                id,
                rights: Rights::Admin,
                body: body(id),
            },
        );
        let mut save = None;
        while let Some(out) = node.poll_output() {
            match out {
                Output::SaveMempool { save: s, .. } => save = Some(s),
                Output::RpcReply { .. } | Output::RpcRender { .. } => {
                    panic!("answered before the write: {out:?}")
                }
                _ => {}
            }
        }
        save.expect("a write asked for")
    };
    let reply = |node: &mut Node<MemStore>| -> Value {
        let mut got = None;
        while let Some(out) = node.poll_output() {
            if let Output::RpcReply { body, .. } = out {
                got = Some(serde_json::from_str(&body).unwrap());
            }
        }
        got.expect("answered once the write is reported")
    };

    let failed = ask(&mut node, 10);
    node.handle(
        NOW_MS,
        Input::MempoolSaved {
            save: failed,
            saved: false,
        },
    );
    let r = reply(&mut node);
    assert_eq!(r[0]["error"]["code"], json!(-1), "{r}");
    assert_eq!(
        r[0]["error"]["message"],
        json!("Unable to dump mempool to disk")
    );
    assert_eq!(
        r[1]["result"],
        json!(101),
        "the rest of the batch runs after: {r}"
    );

    let saved = ask(&mut node, 20);
    // A report for a write the node did not ask for, or already heard of, changes nothing.
    node.handle(
        NOW_MS,
        Input::MempoolSaved {
            save: failed,
            saved: true,
        },
    );
    node.handle(
        NOW_MS,
        Input::MempoolSaved {
            save: saved + 7,
            saved: true,
        },
    );
    assert!(
        !std::iter::from_fn(|| node.poll_output()).any(|o| matches!(o, Output::RpcReply { .. }))
    );
    node.handle(
        NOW_MS,
        Input::MempoolSaved {
            save: saved,
            saved: true,
        },
    );
    let r = reply(&mut node);
    assert_eq!(r[0]["result"], json!({ "filename": "" }), "{r}");
    assert!(r[0]["error"].is_null());
}
