//! The chain answers the mempool's questions ([`ChainContext`]) from its tip.

use rbtcd_core::chain::builder::{spend, BlockBuilder};
use rbtcd_core::chain::{Chain, MemStore, Placement};
use rbtcd_core::mempool::{Accepted, ChainContext, Mempool, Policy, RejectReason};
use rbtcd_core::params::{Network, Params};
use rbtcd_core::primitives::hash::sha256;
use rbtcd_core::primitives::{Block, OutPoint, Transaction};

const NOW: u64 = 1_296_688_602 + 10_000_000;
const COIN: i64 = 100_000_000;

/// The witness script `OP_1`: anyone can spend, so the test needs no keys, yet the spend
/// goes through the real segwit v0 interpreter path.
const WITNESS_SCRIPT: [u8; 1] = [0x51];

/// P2WSH paying to [`WITNESS_SCRIPT`].
fn p2wsh() -> Vec<u8> {
    let mut s = vec![0, 32];
    s.extend(sha256(&WITNESS_SCRIPT));
    s
}

/// A standard spend: P2WSH in and out, one coin of fee.
fn standard_spend(input: OutPoint, value: i64) -> Transaction {
    let mut tx = spend(&[input], &[value - COIN]);
    tx.outputs[0].script_pubkey = p2wsh();
    tx.inputs[0].witness = vec![WITNESS_SCRIPT.to_vec()];
    tx
}

fn mine(chain: &mut Chain<MemStore>, txs: Vec<Transaction>) -> Block {
    let t = chain.tip();
    let mut bb = BlockBuilder::new(chain.params(), t.hash, t.height + 1, t.header.time);
    bb.coinbase.outputs[0].script_pubkey = p2wsh();
    bb.txs = txs;
    let b = bb.build();
    assert_eq!(
        chain.process_block(b.clone(), NOW),
        Ok(Placement::MainChain)
    );
    b
}

#[test]
fn mempool_accepts_and_refuses_through_the_chain() {
    let mut chain = Chain::open(Params::new(Network::Regtest), MemStore::new()).unwrap();
    let blocks: Vec<Block> = (0..101).map(|_| mine(&mut chain, vec![])).collect();
    let coinbase = |i: usize| OutPoint::new(blocks[i].txdata[0].txid(), 0);
    assert_eq!(chain.next_height(), 102);
    assert_eq!(chain.coin(&coinbase(0)).unwrap().height, 1);
    assert!(chain.check_transaction(&spend(&[], &[1])).is_err());

    let mut pool = Mempool::new(Policy::default());
    let tx = standard_spend(coinbase(0), 50 * COIN);
    assert_eq!(
        pool.accept(tx.clone(), &chain, NOW, 0),
        Ok(Accepted::Added(vec![tx.txid()]))
    );
    // Block 51's coinbase has 51 confirmations at height 102.
    let immature = standard_spend(coinbase(50), 50 * COIN);
    assert!(matches!(
        pool.accept(immature, &chain, NOW, 0),
        Err(RejectReason::PrematureSpend(r)) if r.contains("maturity")
    ));
    let mut locked = standard_spend(coinbase(2), 50 * COIN);
    locked.inputs[0].sequence = 0;
    locked.lock_time = chain.next_height();
    assert_eq!(
        pool.accept(locked, &chain, NOW, 0),
        Err(RejectReason::NotFinal)
    );

    // BIP68 against a coin confirmed in the tip block (height 102).
    let parent = standard_spend(coinbase(1), 50 * COIN);
    let parent_out = OutPoint::new(parent.txid(), 0);
    mine(&mut chain, vec![parent]);
    let mut child = standard_spend(parent_out, 49 * COIN);
    child.inputs[0].sequence = 2;
    assert_eq!(
        pool.accept(child.clone(), &chain, NOW, 0),
        Err(RejectReason::SequenceLocks)
    );
    child.inputs[0].sequence = 1;
    assert!(matches!(
        pool.accept(child, &chain, NOW, 0),
        Ok(Accepted::Added(_))
    ));
}
