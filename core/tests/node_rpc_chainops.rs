//! Operator RPCs answered by the node through `Input::Rpc`: `getrawtransaction` through the transaction index,
//! `invalidateblock`/`reconsiderblock` moving the tip (and the mempool with it), `verifychain`
//! and `debuglevel`.

use rbtcd_core::chain::builder::BlockBuilder;
use rbtcd_core::chain::MemStore;
use rbtcd_core::harness::call_node;
use rbtcd_core::node::{Input, Node, NodeConfig, Output, RpcSettings};
use rbtcd_core::params::{Network, Params};
use rbtcd_core::primitives::hash::hex_encode;
use rbtcd_core::primitives::{Block, Encodable};
use rbtcd_core::rpc::debug_level::LevelSpec;
use rbtcd_core::rpc::error::code;
use rbtcd_core::rpc::Rights;
use rbtcd_core::time::Time;
use serde_json::{json, Value};

const NOW_MS: Time = Time::from_millis(2_000_000_000_000);

const SUBSYSTEMS: &[&str] = &["CHAN", "PEER"];

fn node(tx_index: bool, store: MemStore) -> Node<MemStore> {
    let config = NodeConfig {
        tx_index,
        rpc: RpcSettings {
            log_subsystems: SUBSYSTEMS.to_vec(),
            ..RpcSettings::default()
        },
        ..NodeConfig::default()
    };
    Node::new(Params::new(Network::Regtest), config, store, 1, NOW_MS).unwrap()
}

/// Mines `n` blocks on the tip and returns them.
fn mine(node: &mut Node<MemStore>, n: u32) -> Vec<Block> {
    (0..n)
        .map(|_| {
            let tip = node.chain().tip();
            let b = BlockBuilder::new(
                node.chain().params(),
                tip.hash,
                tip.height + 1,
                tip.header.time,
            )
            .build();
            node.handle(NOW_MS, Input::SubmitBlock(b.clone()));
            b
        })
        .collect()
}

fn call(node: &mut Node<MemStore>, method: &str, params: Value) -> Result<Value, (i32, String)> {
    rpc(node, method, params).0
}

/// The outcome of a call and the node's other outputs meanwhile.
fn rpc(
    node: &mut Node<MemStore>,
    method: &str,
    params: Value,
) -> (Result<Value, (i32, String)>, Vec<Output>) {
    let (outcome, outputs) = call_node(node, NOW_MS, Rights::Admin, method, params);
    (outcome.map_err(|e| (e.code, e.message)), outputs)
}

#[test]
fn getrawtransaction_finds_confirmed_transactions_only_with_the_index() {
    let store = MemStore::new();
    let mut plain = node(false, store.clone());
    let blocks = mine(&mut plain, 3);
    let coinbase = &blocks[0].txdata[0];
    let txid = coinbase.txid().to_string();
    let e = call(&mut plain, "getrawtransaction", json!([txid])).unwrap_err();
    assert_eq!(
        e,
        (
            code::INVALID_ADDRESS_OR_KEY,
            "The transaction index must be enabled to query the blockchain (specify --txindex)"
                .into()
        )
    );

    // Restarted with the index on: the blocks mined before are caught up.
    let mut indexed = node(true, plain.into_store().reopen());
    let hex = call(&mut indexed, "getrawtransaction", json!([txid])).unwrap();
    assert_eq!(hex, json!(hex_encode(&coinbase.encode())));
    let verbose = call(&mut indexed, "getrawtransaction", json!([txid, 1])).unwrap();
    assert_eq!(verbose["txid"], json!(txid));
    assert_eq!(
        verbose["blockhash"],
        json!(blocks[0].block_hash().to_string())
    );
    assert_eq!(verbose["confirmations"], json!(3));
    assert_eq!(verbose["blocktime"], json!(blocks[0].header.time));

    let unknown = "ab".repeat(32);
    let e = call(&mut indexed, "getrawtransaction", json!([unknown])).unwrap_err();
    assert_eq!(e.0, code::INVALID_ADDRESS_OR_KEY);
    assert!(e
        .1
        .starts_with("No information available about transaction"));
}

#[test]
fn invalidate_and_reconsider_move_the_tip_and_the_index() {
    let mut node = node(true, MemStore::new());
    let blocks = mine(&mut node, 4);
    let target = blocks[1].block_hash().to_string();
    let late_coinbase = blocks[3].txdata[0].txid().to_string();

    assert_eq!(
        call(&mut node, "invalidateblock", json!([target])),
        Ok(Value::Null)
    );
    assert_eq!(node.chain().tip().hash, blocks[0].block_hash());
    let e = call(&mut node, "getrawtransaction", json!([late_coinbase])).unwrap_err();
    assert!(e.1.starts_with("No information available"), "{e:?}");
    let tips = call(&mut node, "getchaintips", json!([])).unwrap();
    assert!(tips
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t["status"] == "invalid"));

    assert_eq!(
        call(&mut node, "reconsiderblock", json!([target])),
        Ok(Value::Null)
    );
    assert_eq!(node.chain().tip().hash, blocks[3].block_hash());
    assert!(call(&mut node, "getrawtransaction", json!([late_coinbase])).is_ok());

    let e = call(&mut node, "invalidateblock", json!(["00".repeat(32)])).unwrap_err();
    assert_eq!(e.0, code::INTERNAL);
    assert!(e.1.contains("is not found and thus cannot be invalidated"));
    let e = call(&mut node, "reconsiderblock", json!(["zz"])).unwrap_err();
    assert_eq!(e.0, code::DESERIALIZATION);
}

#[test]
fn verifychain_answers_true_on_a_sound_chain() {
    let mut node = node(false, MemStore::new());
    mine(&mut node, 5);
    assert_eq!(call(&mut node, "verifychain", json!([])), Ok(json!(true)));
    assert_eq!(
        call(&mut node, "verifychain", json!([1, 2])),
        Ok(json!(true))
    );
    assert_eq!(
        call(&mut node, "verifychain", json!([4, -1])),
        Ok(json!(true))
    );
}

#[test]
fn debuglevel_lists_subsystems_and_hands_a_checked_spec_to_the_daemon() {
    let mut node = node(false, MemStore::new());
    let levels = |outputs: Vec<Output>| {
        outputs
            .into_iter()
            .filter(|o| matches!(o, Output::LogLevels(_)))
            .collect::<Vec<_>>()
    };
    let (shown, outputs) = rpc(&mut node, "debuglevel", json!(["show"]));
    assert_eq!(shown, Ok(json!("Supported subsystems [CHAN PEER]")));
    assert!(levels(outputs).is_empty());
    let (done, outputs) = rpc(&mut node, "debuglevel", json!(["info,PEER=debug"]));
    assert_eq!(done, Ok(json!("Done.")));
    assert_eq!(
        levels(outputs),
        [Output::LogLevels(
            LevelSpec::parse("info,PEER=debug", SUBSYSTEMS).unwrap()
        )]
    );
    for bad in ["PEER=loud", "NOPE=info"] {
        let (refused, outputs) = rpc(&mut node, "debuglevel", json!([bad]));
        assert_eq!(refused.unwrap_err().0, code::INVALID_PARAMS, "{bad}");
        assert!(levels(outputs).is_empty(), "{bad}");
    }
    assert_eq!(
        call(&mut node, "debuglevel", json!([])).unwrap_err().0,
        code::INVALID_PARAMS
    );
}
