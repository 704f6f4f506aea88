//! The chain a node publishes for readers beside it (`Node::read_view`): block lookups answered
//! from a view give the node's own answers as of the input the view was taken after, however
//! the chain moved on meanwhile, reorganizations included.

use rbtcd_core::chain::builder::BlockBuilder;
use rbtcd_core::chain::{BlockFiles, FileKind, MemStore};
use rbtcd_core::node::{Input, Node, NodeConfig, Output, RpcSettings};
use rbtcd_core::params::{Network, Params};
use rbtcd_core::primitives::{Block, BlockHash};
use rbtcd_core::rpc::block_lookup::{BlockLookup, LookupBody, ReadView, ViewLookup};
use rbtcd_core::rpc::{Rights, Transport};
use rbtcd_core::time::Time;
use serde_json::{json, Value};

const NOW_MS: Time = Time::from_millis(2_000_000_000_000);

fn node() -> Node<MemStore> {
    let config = NodeConfig {
        rpc: RpcSettings {
            publish_view: true,
            ..RpcSettings::default()
        },
        ..NodeConfig::default()
    };
    Node::new(
        Params::new(Network::Regtest),
        config,
        MemStore::new(),
        1,
        NOW_MS,
    )
    .unwrap()
}

/// A block on `parent`, told apart from its siblings by `tag`.
fn child(node: &Node<MemStore>, parent: &BlockHash, tag: u8) -> Block {
    let p = *node.chain().index().get(parent).unwrap();
    BlockBuilder::new(node.chain().params(), p.hash, p.height + 1, p.header.time)
        .tag(&[tag])
        .build()
}

/// `n` blocks on `parent`; their hashes.
fn extend(node: &mut Node<MemStore>, parent: BlockHash, n: usize, tag: u8) -> Vec<BlockHash> {
    let mut hashes = Vec::new();
    let mut tip = parent;
    for _ in 0..n {
        let block = child(node, &tip, tag);
        tip = block.block_hash();
        hashes.push(tip);
        node.handle(NOW_MS, Input::SubmitBlock(block));
    }
    while node.poll_output().is_some() {}
    hashes
}

/// One batch of every lookup about `blocks` and heights up to one past the tip's.
fn lookups(blocks: &[BlockHash], top: u32) -> Vec<u8> {
    let mut calls = Vec::new();
    let mut call = |method: &str, params: Value| {
        let id = calls.len();
        calls.push(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
    };
    for h in 0..=top + 1 {
        call("getblockhash", json!([h]));
    }
    for hash in blocks {
        let hash = hash.to_string();
        call("getblockheader", json!([hash]));
        call("getblockheader", json!([hash, false]));
        for verbosity in 0..3 {
            call("getblock", json!([hash, verbosity]));
        }
    }
    call("getblock", json!(["00".repeat(32)]));
    serde_json::to_vec(&calls).unwrap()
}

/// The node's own reply to `body`.
fn live(node: &mut Node<MemStore>, body: &[u8]) -> String {
    node.handle(
        NOW_MS,
        Input::Rpc {
            id: 9,
            rights: Rights::Admin,
            body: body.to_vec(),
        },
    );
    let mut reply = None;
    while let Some(out) = node.poll_output() {
        if let Output::RpcReply { id: 9, body } = out {
            reply = Some(body);
        }
    }
    reply.expect("the node answers lookups at once")
}

/// The reply to `body` answered from `view` alone, reading blocks from `node`'s store as a
/// driver reads its block files.
fn from_view(node: &Node<MemStore>, view: &ReadView, body: &[u8]) -> String {
    let read = |pos| node.chain().store().read(FileKind::Blocks, pos);
    LookupBody::parse(body, Rights::Admin, Transport::Http)
        .expect("only lookups")
        .answer(&ViewLookup { view, read })
}

/// The view's main chain is one chain: each block's parent is the block below it.
fn assert_one_chain(node: &Node<MemStore>, view: &ReadView) {
    let read = |pos| node.chain().store().read(FileKind::Blocks, pos);
    let lookup = ViewLookup { view, read };
    let tip = lookup.tip();
    for h in 1..=tip.height {
        let here = lookup.entry(&lookup.main_hash(h).unwrap()).unwrap();
        assert_eq!(Some(here.header.prev_blockhash), lookup.main_hash(h - 1));
    }
    assert_eq!(lookup.main_hash(tip.height), Some(tip.hash));
    assert_eq!(lookup.main_hash(tip.height + 1), None);
}

#[test]
fn a_view_answers_as_the_node_did_when_it_was_taken_across_a_reorganization() {
    let mut node = node();
    let genesis = node.chain().tip().hash;
    let a = extend(&mut node, genesis, 5, 1);
    let before = node.read_view().expect("the node keeps a view");
    // Everything a later branch will hold is asked about too: unknown to this view.
    let b = {
        let mut other = self::node();
        extend(&mut other, genesis, 2, 1);
        let fork = extend(&mut other, a[1], 5, 2);
        [a.clone(), fork].concat()
    };
    let body = lookups(&b, 7);
    let answered_before = live(&mut node, &body);
    assert_eq!(from_view(&node, &before, &body), answered_before);

    // A longer branch from height 2 takes over: heights 3 to 5 change, 6 and 7 appear.
    let fork = extend(&mut node, a[1], 5, 2);
    assert_eq!(node.chain().tip().hash, fork[4]);
    let after = node.read_view().unwrap();
    let answered_after = live(&mut node, &body);
    assert_ne!(answered_after, answered_before);
    assert_eq!(from_view(&node, &after, &body), answered_after);
    // The view taken before still answers as the node did then: none of the new chain.
    assert_eq!(from_view(&node, &before, &body), answered_before);
    assert_one_chain(&node, &before);
    assert_one_chain(&node, &after);
    assert_eq!(before.index.tip().hash, a[4]);

    // Back to the first branch, made longest: heights shrink back and grow again.
    let back = extend(&mut node, a[4], 3, 1);
    let last = node.read_view().unwrap();
    assert_eq!(last.index.tip().hash, back[2]);
    let all = [b.clone(), back.clone()].concat();
    let body = lookups(&all, 8);
    let answered_last = live(&mut node, &body);
    assert_eq!(from_view(&node, &last, &body), answered_last);
    assert_one_chain(&node, &last);
    assert!(after.index.generation() > before.index.generation());
    assert!(last.index.generation() > after.index.generation());

    // Invalidating both branches' blocks above height 5 leaves a shorter chain.
    for hash in [fork[0], back[0]] {
        let call = json!({"id": 1, "method": "invalidateblock", "params": [hash.to_string()]});
        let reply = live(&mut node, call.to_string().as_bytes());
        assert!(reply.contains(r#""error":null"#), "{reply}");
    }
    assert_eq!(node.chain().tip().hash, a[4]);
    let shorter = node.read_view().unwrap();
    assert_eq!(from_view(&node, &shorter, &body), live(&mut node, &body));
    assert_one_chain(&node, &shorter);
    assert_eq!(from_view(&node, &last, &body), answered_last);
}

#[test]
fn only_bodies_of_lookups_the_caller_may_make_are_answered_from_a_view() {
    let lookup =
        |body: &str, rights| LookupBody::parse(body.as_bytes(), rights, Transport::Http).is_some();
    let one =
        |method: &str| format!(r#"{{"jsonrpc":"1.0","id":1,"method":"{method}","params":[]}}"#);
    for method in ["getblockhash", "getblockheader", "getblock"] {
        assert!(lookup(&one(method), Rights::Admin), "{method}");
        assert!(lookup(&one(method), Rights::Limited), "{method}");
    }
    for method in [
        "getblockcount",
        "getblockchaininfo",
        "getrawtransaction",
        "stop",
        "x",
    ] {
        assert!(!lookup(&one(method), Rights::Admin), "{method}");
    }
    let batch = format!("[{},{}]", one("getblockhash"), one("getblockcount"));
    assert!(
        !lookup(&batch, Rights::Admin),
        "a batch with a call for the node"
    );
    let batch = format!("[{},{}]", one("getblockhash"), one("getblock"));
    assert!(lookup(&batch, Rights::Admin));
    assert!(
        !lookup("[]", Rights::Admin),
        "the node answers the empty batch"
    );
    assert!(
        !lookup(r#"{"method":"getblock""#, Rights::Admin),
        "nor what does not parse"
    );
}
