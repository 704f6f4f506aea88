//! The chain a node publishes for readers beside it (`Node::read_view`): lookups answered
//! from a view give the node's own answers as of the input the view was taken after, however
//! the chain and pool moved on meanwhile, reorganizations included, until the next flush (after
//! which an older view's reads of the store are refused and a newer view answers).

use rbtcd_core::chain::builder::{spend, BlockBuilder};
use rbtcd_core::chain::unflushed_view::MAX_BLOCKS;
use rbtcd_core::chain::{BlockFiles, ChainOptions, ChainStore, FileKind, MemStore};
use rbtcd_core::harness::{mine_chain, Harness};
use rbtcd_core::mempool::policy::Policy;
use rbtcd_core::node::{Input, Node, NodeConfig, Output, RpcSettings};
use rbtcd_core::params::{Network, Params};
use rbtcd_core::primitives::hash::hex_encode;
use rbtcd_core::primitives::{Block, BlockHash, Encodable, OutPoint, Transaction, Txid};
use rbtcd_core::rpc::block_lookup::{BlockLookup, LookupBody, ReadView, ViewLookup};
use rbtcd_core::rpc::{Rights, Transport};
use rbtcd_core::time::Time;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;

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

/// One batch of every lookup about `blocks` and heights up to one past the tip's, and of the
/// tip's height and hash.
fn lookups(blocks: &[BlockHash], top: u32) -> Vec<u8> {
    let mut calls = Vec::new();
    let mut call = |method: &str, params: Value| {
        let id = calls.len();
        calls.push(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
    };
    for method in ["getblockcount", "getbestblockhash", "getbestblock"] {
        call(method, json!([]));
    }
    call("getblockcount", json!([1]));
    for h in 0..=top + 1 {
        call("getblockhash", json!([h]));
    }
    call("getheaders", json!([[], ""]));
    call("getheaders", json!([["zz"], ""]));
    for hash in blocks {
        let hash = hash.to_string();
        call("getblockheader", json!([hash]));
        call("getblockheader", json!([hash, false]));
        for verbosity in 0..3 {
            call("getblock", json!([hash, verbosity]));
        }
        // After `hash` when it is on the main chain, and up to it from genesis.
        call("getheaders", json!([[hash], ""]));
        call("getheaders", json!([[], hash]));
    }
    call("getblock", json!(["00".repeat(32)]));
    serde_json::to_vec(&calls).unwrap()
}

/// The tip's height and hash as `view` answers `getblockcount` and `getbestblockhash`.
fn view_tip(node: &Node<MemStore>, view: &ReadView) -> (Value, Value) {
    let body = br#"[{"id":0,"method":"getblockcount"},{"id":1,"method":"getbestblockhash"}]"#;
    let reply = results(&from_view(node, view, body));
    (reply[0].clone(), reply[1].clone())
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
/// driver reads its block files, and the flushed chain state from the store as the driver
/// reads LMDB; `None` when the store was flushed after the view was taken.
fn from_view_if_current(node: &Node<MemStore>, view: &ReadView, body: &[u8]) -> Option<String> {
    from_views(node, &[view], body)
}

/// [`from_view_if_current`] trying `views` in turn, as a driver tries the newest it has.
fn from_views(node: &Node<MemStore>, views: &[&ReadView], body: &[u8]) -> Option<String> {
    let read = |pos| node.chain().store().read(FileKind::Blocks, pos);
    // Each try takes the next view; once they run out, the last one again.
    let mut views = views.iter();
    let mut current = None;
    let latest = || {
        if let Some(v) = views.next() {
            current = Some(Arc::new(ReadView::clone(v)));
        }
        current.clone()
    };
    LookupBody::parse(body, Rights::Admin, Transport::Http)
        .expect("only lookups")
        .answer_from_views(latest, &read, node.chain().store())
}

/// [`from_view_if_current`] for a view that must still answer.
fn from_view(node: &Node<MemStore>, view: &ReadView, body: &[u8]) -> String {
    from_view_if_current(node, view, body).expect("no flush since the view was taken")
}

/// The view's main chain is one chain: each block's parent is the block below it.
fn assert_one_chain(node: &Node<MemStore>, view: &ReadView) {
    let read = |pos| node.chain().store().read(FileKind::Blocks, pos);
    let lookup = ViewLookup::new(view, read, node.chain().store());
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
    assert_eq!(
        view_tip(&node, &before),
        (json!(5), json!(a[4].to_string()))
    );
    assert_eq!(
        view_tip(&node, &after),
        (json!(7), json!(fork[4].to_string()))
    );
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
    for method in [
        "getblockcount",
        "getbestblockhash",
        "getbestblock",
        "getblockhash",
        "getblockheader",
        "getheaders",
        "getblock",
        "getrawtransaction",
        "gettxout",
    ] {
        assert!(lookup(&one(method), Rights::Admin), "{method}");
        assert!(lookup(&one(method), Rights::Limited), "{method}");
    }
    // As through the node, only the admin may ask the pool's totals.
    assert!(lookup(&one("getmempoolinfo"), Rights::Admin));
    assert!(!lookup(&one("getmempoolinfo"), Rights::Limited));
    for method in [
        "getblockchaininfo",
        "getchaintips",
        "getrawmempool",
        "sendrawtransaction",
        "gettxoutsetinfo",
        "stop",
        "x",
    ] {
        assert!(!lookup(&one(method), Rights::Admin), "{method}");
    }
    let batch = format!("[{},{}]", one("getblockcount"), one("getblockchaininfo"));
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

/// One batch of `getrawtransaction` (both verbosities) about each of `txids`, `gettxout`
/// (with and without the pool) about their first two outputs, then `getmempoolinfo`.
fn tx_lookups(txids: &[Txid]) -> Vec<u8> {
    let mut calls = Vec::new();
    let mut call = |method: &str, params: Value| {
        let id = calls.len();
        calls.push(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
    };
    for txid in txids {
        let txid = txid.to_string();
        call("getrawtransaction", json!([txid]));
        call("getrawtransaction", json!([txid, 1]));
        for vout in 0..2 {
            call("gettxout", json!([txid, vout]));
            call("gettxout", json!([txid, vout, false]));
        }
    }
    call("getmempoolinfo", json!([]));
    serde_json::to_vec(&calls).unwrap()
}

/// The results (or error messages, as strings) of a batch reply, in order.
fn results(reply: &str) -> Vec<Value> {
    let parsed: Vec<Value> = serde_json::from_str(reply).unwrap();
    parsed
        .into_iter()
        .map(|r| match &r["error"] {
            Value::Null => r["result"].clone(),
            e => e["message"].clone(),
        })
        .collect()
}

/// The pool's size and bytes as [`tx_lookups`] answers them (the last call).
fn pool_info(results: &[Value]) -> (&Value, &Value) {
    let info = results.last().unwrap();
    (&info["size"], &info["bytes"])
}

/// What [`tx_lookups`] answers about the transaction at `index` of its list: its
/// `getrawtransaction` in hex, and `gettxout` of output 0 with and without the pool.
fn about(results: &[Value], index: usize) -> (&Value, &Value, &Value) {
    let at = index * 6;
    (&results[at], &results[at + 2], &results[at + 3])
}

/// The reader node of the test network and the miner it syncs from.
const READER: usize = 0;
const MINER: usize = 1;

/// A network of two nodes: a reader publishing its view, with the transaction index when
/// `tx_index`, flushing only every hour (blocks reach it from its peer, which it does not flush
/// for), and a miner holding a chain `height` blocks high; both take the builder's anyone-can-spend outputs
/// into their pools. Runs until the reader has synced.
fn network(tx_index: bool, height: u32) -> (Harness, Vec<Block>) {
    network_at(tx_index, height, Duration::ZERO)
}

/// [`network`] with the nodes' clocks `ahead` of the mined chain's times (days ahead, the
/// reader is syncing an old chain).
fn network_at(tx_index: bool, height: u32, ahead: Duration) -> (Harness, Vec<Block>) {
    let params = Params::new(Network::Regtest);
    let (store, blocks) = mine_chain(&params, height, b"a");
    let mut h = Harness::new(params);
    let policy = Policy {
        accept_non_std: true,
        ..Policy::default()
    };
    let reader = NodeConfig {
        rpc: RpcSettings {
            publish_view: true,
            ..RpcSettings::default()
        },
        tx_index,
        policy,
        chain: ChainOptions {
            flush_interval_secs: FLUSH_SECS,
            ..ChainOptions::default()
        },
        ..NodeConfig::default()
    };
    assert_eq!(h.add_node(reader, 1), READER);
    let miner = NodeConfig {
        policy,
        ..NodeConfig::default()
    };
    assert_eq!(h.add_node_with_store(miner, store, 2), MINER);
    h.run_until(h.now() + ahead);
    h.connect(READER, MINER);
    let tip = blocks.last().unwrap().block_hash();
    assert!(
        h.run_until_cond(h.now() + MINUTE, |h| h.nodes[READER].chain().tip().hash
            == tip)
    );
    (h, blocks)
}

/// The reader's flush interval.
const FLUSH_SECS: u64 = 3600;
const MINUTE: Duration = Duration::from_secs(60);

/// Whether the reader's store holds its tip's state (it flushed since the tip last moved).
fn flushed(h: &Harness) -> bool {
    let node = &h.nodes[READER];
    node.chain().store().tip().unwrap() == Some(node.chain().tip().hash)
}

/// The miner mines `txs` in a block on `parent` (tagged `tag`).
fn mine(h: &mut Harness, parent: &BlockHash, txs: &[Transaction], tag: u8) -> BlockHash {
    let miner = &h.nodes[MINER];
    let p = *miner.chain().index().get(parent).unwrap();
    let mut builder =
        BlockBuilder::new(miner.chain().params(), p.hash, p.height + 1, p.header.time).tag(&[tag]);
    builder.txs = txs.to_vec();
    let block = builder.build();
    let hash = block.block_hash();
    h.input(MINER, Input::SubmitBlock(block));
    hash
}

/// Runs until the reader's tip is `hash`.
fn reach(h: &mut Harness, hash: BlockHash) {
    let there = |h: &Harness| h.nodes[READER].chain().tip().hash == hash;
    assert!(h.run_until_cond(h.now() + MINUTE, there));
}

/// The reader's own reply to `body`.
fn ask_reader(h: &mut Harness, body: &[u8]) -> String {
    h.input(
        READER,
        Input::Rpc {
            id: 9,
            rights: Rights::Admin,
            body: body.to_vec(),
        },
    );
    let at = h.rpc_outputs[READER]
        .iter()
        .position(|o| matches!(o, Output::RpcReply { id: 9, .. }))
        .expect("the node answers lookups at once");
    match h.rpc_outputs[READER].remove(at) {
        Output::RpcReply { body, .. } => body,
        _ => unreachable!("found as a reply"),
    }
}

/// Takes the reader's view and its own answer to `body` now, checks the view answers the
/// same, and keeps both in `moments`; the answer's results.
fn moment(h: &mut Harness, body: &[u8], moments: &mut Vec<(ReadView, String)>) -> Vec<Value> {
    let view = h.nodes[READER].read_view().unwrap();
    let answer = ask_reader(h, body);
    assert_eq!(from_view(&h.nodes[READER], &view, body), answer);
    moments.push((view, answer.clone()));
    results(&answer)
}

#[test]
fn views_answer_tx_lookups_as_the_node_did_across_the_pool_flushes_and_a_reorganization() {
    for tx_index in [true, false] {
        let (mut h, a) = network(tx_index, 101);
        let (cb0, cb1) = (a[0].txdata[0].clone(), a[1].txdata[0].clone());
        let value = cb0.outputs[0].value;
        let tx1 = spend(&[OutPoint::new(cb0.txid(), 0)], &[value - 10_000, 5_000]);
        let tx2 = spend(&[OutPoint::new(cb1.txid(), 0)], &[value - 20_000]);
        let body = tx_lookups(&[cb0.txid(), cb1.txid(), tx1.txid(), tx2.txid()]);
        // Every moment's view with the node's own answer then.
        let mut moments: Vec<(ReadView, String)> = Vec::new();

        // The coins and index entries of 101 blocks from a peer, none flushed yet.
        assert!(!flushed(&h));
        let now = moment(&mut h, &body, &mut moments);
        let (raw, with_pool, _) = about(&now, 0);
        assert_eq!(with_pool["confirmations"], json!(101));
        match tx_index {
            true => assert_eq!(raw, &json!(hex_encode(&cb0.encode()))),
            false => assert!(raw.as_str().unwrap().contains("--txindex"), "{raw}"),
        }

        // tx1 enters the pool: it hides the coin it spends from the pool's view only.
        let sent = h.call(
            READER,
            "sendrawtransaction",
            json!([hex_encode(&tx1.encode())]),
        );
        assert_eq!(sent, Ok(json!(tx1.txid().to_string())));
        let now = moment(&mut h, &body, &mut moments);
        let (_, with_pool, without) = about(&now, 0);
        assert_eq!(with_pool, &Value::Null);
        assert_eq!(without["confirmations"], json!(101));
        let (raw, with_pool, without) = about(&now, 2);
        assert_eq!(raw, &json!(hex_encode(&tx1.encode())));
        assert_eq!(with_pool["confirmations"], json!(0));
        assert_eq!(without, &Value::Null);
        let tx1_bytes = tx1.encode().len();
        assert_eq!(pool_info(&now), (&json!(1), &json!(tx1_bytes)));

        // tx1 is mined: out of the pool, its outputs confirmed (still unflushed).
        let mined = mine(&mut h, &a[100].block_hash(), std::slice::from_ref(&tx1), 1);
        reach(&mut h, mined);
        assert!(!flushed(&h));
        let now = moment(&mut h, &body, &mut moments);
        assert_eq!(about(&now, 2).1["confirmations"], json!(1));
        assert_eq!(about(&now, 0).2, &Value::Null);
        assert_eq!(pool_info(&now), (&json!(0), &json!(0)));

        // Every view so far still answers as the node did then: nothing was flushed.
        for (view, then) in &moments {
            assert_eq!(&from_view(&h.nodes[READER], view, &body), then);
        }

        // A flush: the coins and index entries are now only in the store.
        let later = h.now() + Duration::from_secs(2 * FLUSH_SECS);
        h.run_until(later);
        assert!(flushed(&h));
        let now = moment(&mut h, &body, &mut moments);
        assert_eq!(about(&now, 2).1["confirmations"], json!(1));
        assert_eq!(about(&now, 1).1["confirmations"], json!(101));
        // Views from before it read a store that moved on: they answer nothing, and a
        // driver holding one tries the newest view instead.
        let after_flush = moments.len() - 1;
        let reader = &h.nodes[READER];
        for (view, _) in &moments[..after_flush] {
            assert_eq!(from_view_if_current(reader, view, &body), None);
        }
        let newest = &moments[after_flush];
        let retried = from_views(reader, &[&moments[0].0, &newest.0], &body);
        assert_eq!(retried.as_ref(), Some(&newest.1));

        // tx2 enters the pool, hiding a flushed coin.
        let sent = h.call(
            READER,
            "sendrawtransaction",
            json!([hex_encode(&tx2.encode())]),
        );
        assert_eq!(sent, Ok(json!(tx2.txid().to_string())));
        let now = moment(&mut h, &body, &mut moments);
        assert_eq!(about(&now, 1).1, &Value::Null);
        assert_eq!(about(&now, 1).2["confirmations"], json!(101));

        // A longer branch from below tx1's block takes over: tx1 goes back to the pool, its
        // coins and index entries are undone over what the store holds.
        let b1 = mine(&mut h, &a[100].block_hash(), &[], 2);
        let b2 = mine(&mut h, &b1, &[], 2);
        reach(&mut h, b2);
        assert!(!h.nodes[READER].chain().index().is_main(&mined));
        assert!(h.nodes[READER].mempool().have(&tx1.txid()));
        let now = moment(&mut h, &body, &mut moments);
        assert_eq!(about(&now, 2).0, &json!(hex_encode(&tx1.encode())));
        assert_eq!(about(&now, 2).2, &Value::Null);
        assert_eq!(about(&now, 0).2["confirmations"], json!(103));
        let both = tx1_bytes + tx2.encode().len();
        assert_eq!(pool_info(&now), (&json!(2), &json!(both)));

        // Both leave the pool, mined on the new branch.
        let b3 = mine(&mut h, &b2, &[tx1.clone(), tx2.clone()], 2);
        reach(&mut h, b3);
        assert!(h.nodes[READER].mempool().is_empty());
        assert!(!flushed(&h));
        let now = moment(&mut h, &body, &mut moments);
        assert_eq!(about(&now, 3).1["confirmations"], json!(1));
        assert_eq!(pool_info(&now), (&json!(0), &json!(0)));

        // Since the flush, every view answers as the node did when it was taken.
        for (view, then) in &moments[after_flush..] {
            assert_eq!(&from_view(&h.nodes[READER], view, &body), then);
        }
        let generations: Vec<u64> = moments.iter().map(|(v, _)| v.generation).collect();
        assert!(
            generations.windows(2).all(|w| w[0] < w[1]),
            "{generations:?}"
        );
    }
}

#[test]
fn past_its_bounds_a_synced_chain_flushes_and_a_syncing_one_leaves_store_reads_to_the_node() {
    // More blocks since the flush than a view keeps.
    let height = MAX_BLOCKS as u32 + 20;
    // A tip less than a day old: the chain flushed as soon as the view's changes went past
    // its bounds, and kept the blocks since, so the view answers store lookups.
    let (mut h, a) = network(true, height);
    assert!(!flushed(&h));
    let body = tx_lookups(&[a[0].txdata[0].txid()]);
    let view = h.nodes[READER].read_view().unwrap();
    assert!(view.unflushed.is_some());
    let answer = ask_reader(&mut h, &body);
    assert_eq!(
        from_view_if_current(&h.nodes[READER], &view, &body),
        Some(answer)
    );

    // A tip days old, as while syncing: the cache's flushes stay rare, and until the next one
    // the view leaves store lookups to the node.
    let (mut h, a) = network_at(true, height, Duration::from_secs(3 * 24 * 3600));
    assert!(!flushed(&h));
    let cb = &a[0].txdata[0];
    let body = tx_lookups(&[cb.txid()]);
    let view = h.nodes[READER].read_view().unwrap();
    assert!(view.unflushed.is_none());
    assert_eq!(from_view_if_current(&h.nodes[READER], &view, &body), None);
    // What reads no store is still answered.
    let blocks_only = lookups(&[a[5].block_hash()], 3);
    let answer = ask_reader(&mut h, &blocks_only);
    assert_eq!(from_view(&h.nodes[READER], &view, &blocks_only), answer);

    // The next flush starts the view's changes again.
    let later = h.now() + Duration::from_secs(2 * FLUSH_SECS);
    h.run_until(later);
    assert!(flushed(&h));
    let mut moments = Vec::new();
    let now = moment(&mut h, &body, &mut moments);
    assert_eq!(about(&now, 0).1["confirmations"], json!(height));
}
