//! Transaction relay between nodes over the in-memory harness: a transaction submitted to one
//! node reaches every mempool, leaves them when mined, and comes back on a reorganisation.

use rbtcd_core::chain::builder::{spend, BlockBuilder};
use rbtcd_core::harness::{mine_chain_to, Harness, START};
use rbtcd_core::node::{Input, NodeConfig, Notification};
use rbtcd_core::params::{Network, Params};
use rbtcd_core::primitives::hash::sha256;
use rbtcd_core::primitives::{Block, OutPoint, Transaction};
use rbtcd_core::script::opcodes::OP_1;
use std::time::Duration;

const MINUTE: Duration = Duration::from_secs(60);
const FEE: i64 = 10_000;

/// P2WSH of the script `OP_1`: standard, and spendable by revealing the script.
fn p2wsh_true() -> Vec<u8> {
    let mut s = vec![0, 32];
    s.extend(sha256(&[OP_1]));
    s
}

fn spend_p2wsh(input: OutPoint, value: i64) -> Transaction {
    let mut tx = spend(&[input], &[value - FEE]);
    tx.outputs[0].script_pubkey = p2wsh_true();
    tx.inputs[0].witness = vec![vec![OP_1]];
    tx
}

fn block_on(h: &Harness, node: usize, tag: &[u8], txs: Vec<Transaction>) -> Block {
    let params = Params::new(Network::Regtest);
    let t = h.nodes[node].chain().tip();
    let fees = FEE * txs.len() as i64;
    let mut b = BlockBuilder::new(&params, t.hash, t.height + 1, t.header.time).tag(tag);
    b.txs = txs;
    b.fees(fees).build()
}

/// Two connected nodes (0 and 1) sharing 101 blocks whose coinbases pay P2WSH(OP_1), after a
/// minute of handshaking; the blocks are returned to spend from.
fn two_nodes_with_mature_coins() -> (Harness, Vec<Block>) {
    let params = Params::new(Network::Regtest);
    let (store, blocks) = mine_chain_to(&params, 101, b"r", &p2wsh_true());
    let mut h = Harness::new(params);
    let a = h.add_node_with_store(NodeConfig::default(), store.duplicate(), 1);
    let b = h.add_node_with_store(NodeConfig::default(), store, 2);
    h.connect(a, b);
    h.run_until(START + MINUTE);
    (h, blocks)
}

fn all_have(h: &Harness, tx: &Transaction) -> bool {
    h.nodes.iter().all(|n| n.mempool().have(&tx.txid()))
}

#[test]
fn a_transaction_reaches_every_mempool_leaves_when_mined_and_returns_on_reorg() {
    let params = Params::new(Network::Regtest);
    let (store, blocks) = mine_chain_to(&params, 101, b"r", &p2wsh_true());
    let mut h = Harness::new(params.clone());
    let nodes: Vec<usize> = (0..4)
        .map(|i| h.add_node_with_store(NodeConfig::default(), store.duplicate(), i))
        .collect();
    // A line 0 - 1 - 2 - 3, so relay must hop through every node.
    for w in nodes.windows(2) {
        h.connect(w[0], w[1]);
    }
    h.run_until(START + MINUTE);

    let coinbase = &blocks[0].txdata[0];
    let tx = spend_p2wsh(OutPoint::new(coinbase.txid(), 0), coinbase.outputs[0].value);
    h.input(0, Input::SubmitTx(tx.clone()));
    assert!(h.notifications[0].contains(&Notification::TxAccepted(tx.clone().into())));
    assert!(h.run_until_cond(START + 2 * MINUTE, |h| all_have(h, &tx)));

    // Mined at node 3: gone from every mempool once the block spreads.
    let mined = block_on(&h, 3, b"mined", vec![tx.clone()]);
    h.input(3, Input::SubmitBlock(mined.clone()));
    assert!(h.run_until_cond(START + 3 * MINUTE, |h| {
        h.nodes
            .iter()
            .all(|n| n.chain().tip().hash == mined.block_hash())
    }));
    assert!(h.nodes.iter().all(|n| n.mempool().is_empty()));

    // Node 0 finds a longer branch without it: everyone reorganises, the tx is back.
    let fork_parent = blocks.last().unwrap();
    let first = BlockBuilder::new(
        &params,
        fork_parent.block_hash(),
        102,
        fork_parent.header.time,
    )
    .tag(b"fork1")
    .build();
    let second = BlockBuilder::new(&params, first.block_hash(), 103, first.header.time)
        .tag(b"fork2")
        .build();
    h.input(0, Input::SubmitBlock(first));
    h.input(0, Input::SubmitBlock(second.clone()));
    assert!(h.run_until_cond(START + 4 * MINUTE, |h| {
        h.nodes
            .iter()
            .all(|n| n.chain().tip().hash == second.block_hash())
    }));
    assert!(all_have(&h, &tx));
}

#[test]
fn an_invalid_transaction_is_refused_locally_and_not_relayed() {
    let (mut h, blocks) = two_nodes_with_mature_coins();
    let (a, b) = (0, 1);
    let coinbase = &blocks[0].txdata[0];
    // Spends more than the coin holds.
    let tx = spend_p2wsh(
        OutPoint::new(coinbase.txid(), 0),
        coinbase.outputs[0].value * 2,
    );
    h.input(a, Input::SubmitTx(tx.clone()));
    assert!(h.notifications[a]
        .iter()
        .any(|n| matches!(n, Notification::TxRejected { txid, .. } if *txid == tx.txid())));
    h.run_until(START + 2 * MINUTE);
    assert!(h.nodes[b].mempool().is_empty());
}

#[test]
fn a_submitted_transaction_is_rebroadcast_until_mined() {
    let (mut h, blocks) = two_nodes_with_mature_coins();
    let (a, b) = (0, 1);
    // b misses the first announcement.
    h.make_deaf(b, "inv");
    let coinbase = &blocks[0].txdata[0];
    let tx = spend_p2wsh(OutPoint::new(coinbase.txid(), 0), coinbase.outputs[0].value);
    h.input(a, Input::SubmitTx(tx.clone()));
    h.run_until(START + 2 * MINUTE);
    h.make_hear(b, "inv");
    assert!(!h.nodes[b].mempool().have(&tx.txid()));
    // The first rebroadcast is five minutes after submission.
    assert!(
        !h.run_until_cond(START + 6 * MINUTE - Duration::from_millis(1), |h| all_have(
            h, &tx
        ))
    );
    assert!(h.run_until_cond(START + 7 * MINUTE, |h| all_have(h, &tx)));
}

#[test]
fn requests_without_the_witness_flag_get_stripped_data() {
    use rbtcd_core::wire::{encode_message, Decoder, InvType, Inventory, Message};
    let params = Params::new(Network::Regtest);
    let (store, blocks) = mine_chain_to(&params, 101, b"r", &p2wsh_true());
    let mut h = Harness::new(params.clone());
    let a = h.add_node_with_store(NodeConfig::default(), store.duplicate(), 1);
    let b = h.add_node_with_store(NodeConfig::default(), store, 2);
    let (_, b_side) = h.connect(a, b);
    h.run_until(START + MINUTE);
    let coinbase = &blocks[0].txdata[0];
    let tx = spend_p2wsh(OutPoint::new(coinbase.txid(), 0), coinbase.outputs[0].value);
    h.input(b, Input::SubmitTx(tx.clone()));
    let mined = block_on(&h, b, b"w", vec![tx.clone()]);
    h.input(b, Input::SubmitBlock(mined.clone()));
    // Ask b directly, as a's connection, and read b's answers off its outputs.
    let ask = |inv_type, hash| {
        let msg = Message::GetData(vec![Inventory { inv_type, hash }]);
        Input::Received {
            peer: b_side,
            bytes: encode_message(params.magic, &msg),
        }
    };
    for (inv_type, witness) in [(InvType::BLOCK, false), (InvType::WITNESS_BLOCK, true)] {
        let now = h.now();
        h.nodes[b].handle(now, ask(inv_type, mined.block_hash()));
        let mut d = Decoder::new(params.magic);
        let mut got = None;
        while let Some(o) = h.nodes[b].poll_output() {
            if let rbtcd_core::node::Output::Send { bytes, .. } = o {
                d.push(&bytes);
                if let Some(Ok(Message::Block(blk))) = d.pull() {
                    got = Some(blk);
                }
            }
        }
        let blk = got.expect("the block is served");
        assert_eq!(blk.block_hash(), mined.block_hash());
        assert_eq!(blk.txdata[1].has_witness(), witness, "{inv_type}");
    }
}

#[test]
fn transactions_below_a_peers_feefilter_are_not_announced_to_it() {
    let params = Params::new(Network::Regtest);
    let (store, blocks) = mine_chain_to(&params, 101, b"r", &p2wsh_true());
    let mut h = Harness::new(params);
    let a = h.add_node_with_store(NodeConfig::default(), store.duplicate(), 1);
    // b relays nothing under 0.01 BTC/kvB and says so in its feefilter after the handshake.
    let mut picky = NodeConfig::default();
    picky.policy.min_relay_fee_per_kvb = 1_000_000;
    let b = h.add_node_with_store(picky, store.duplicate(), 2);
    let c = h.add_node_with_store(NodeConfig::default(), store, 3);
    let (to_b, _) = h.connect(a, b);
    let (to_c, _) = h.connect(a, c);
    h.run_until(START + MINUTE);
    assert_eq!(h.nodes[a].peers()[&to_b].fee_filter, 1_000_000);
    assert_eq!(h.nodes[a].peers()[&to_c].fee_filter, 1_000);

    let coinbase = &blocks[0].txdata[0];
    let tx = spend_p2wsh(OutPoint::new(coinbase.txid(), 0), coinbase.outputs[0].value);
    h.input(a, Input::SubmitTx(tx.clone()));
    assert!(h.run_until_cond(START + 2 * MINUTE, |h| h.nodes[c]
        .mempool()
        .have(&tx.txid())));
    assert!(h.nodes[a].peers()[&to_c].knows(&tx.txid()));
    assert!(
        !h.nodes[a].peers()[&to_b].knows(&tx.txid()),
        "never announced to b"
    );
}

#[test]
fn transaction_announcements_trickle() {
    let params = Params::new(Network::Regtest);
    let (store, blocks) = mine_chain_to(&params, 102, b"r", &p2wsh_true());
    let mut h = Harness::new(params);
    let slow = NodeConfig {
        trickle_interval: Duration::from_secs(30),
        ..NodeConfig::default()
    };
    let a = h.add_node_with_store(slow, store.duplicate(), 1);
    let b = h.add_node_with_store(NodeConfig::default(), store, 2);
    h.connect(a, b);
    h.run_until(START + MINUTE);
    let coin = |i: usize| {
        let coinbase = &blocks[i].txdata[0];
        spend_p2wsh(OutPoint::new(coinbase.txid(), 0), coinbase.outputs[0].value)
    };
    let (first, second) = (coin(0), coin(1));
    let t = h.now();
    // The first announcement goes at once; the next waits out the interval.
    h.input(a, Input::SubmitTx(first.clone()));
    h.input(a, Input::SubmitTx(second.clone()));
    assert!(h.run_until_cond(t + Duration::from_secs(10), |h| h.nodes[b]
        .mempool()
        .have(&first.txid())));
    h.run_until(t + Duration::from_secs(25));
    assert!(
        !h.nodes[b].mempool().have(&second.txid()),
        "not before 30 s"
    );
    assert!(h.run_until_cond(t + Duration::from_secs(40), |h| h.nodes[b]
        .mempool()
        .have(&second.txid())));
}
