//! Crash consistency on the in-memory store: a crash at any write (block storage, connect,
//! disconnect during a reorganization) leaves a store that reopens to a consistent chain (the
//! UTXO set is exactly that of its tip) and that then reaches the same final tip.

use rbtcd_core::chain::builder::{spend, BlockBuilder};
use rbtcd_core::chain::{Chain, ChainError, ChainStore, MemStore, StoreError};
use rbtcd_core::mempool::Coin;
use rbtcd_core::params::{Network, Params};
use rbtcd_core::primitives::{Block, BlockHash, OutPoint};
use std::collections::BTreeMap;

const NOW: u64 = 1_296_688_602 + 10_000_000;

fn params() -> Params {
    let mut p = Params::new(Network::Regtest);
    p.coinbase_maturity = 1;
    p
}

/// Blocks `1..=len` on `parent`, each spending the previous block's coinbase.
fn branch(p: &Params, parent: &Block, height: u32, len: usize, tag: u8) -> Vec<Block> {
    let mut out: Vec<Block> = Vec::new();
    let mut prev = parent.clone();
    for i in 0..len as u32 {
        let mut bb =
            BlockBuilder::new(p, prev.block_hash(), height + i, prev.header.time).tag(&[tag]);
        if prev.txdata[0].outputs[0].value > 0 && i > 0 {
            let cb = &prev.txdata[0];
            bb = bb.tx(spend(
                &[OutPoint::new(cb.txid(), 0)],
                &[cb.outputs[0].value],
            ));
        }
        let b = bb.build();
        out.push(b.clone());
        prev = b;
    }
    out
}

type Utxo = BTreeMap<OutPoint, Coin>;

#[test]
fn a_crash_at_any_write_reopens_consistently() {
    let p = params();
    let main = branch(&p, &p.genesis, 1, 30, 0);
    let fork = branch(&p, &main[19], 21, 12, 1);
    let arrivals: Vec<Block> = main.iter().chain(&fork).cloned().collect();

    // The reference run: UTXO set after every tip it reaches, and how many writes it takes.
    let reference = MemStore::new();
    let mut chain = Chain::open(p.clone(), reference.clone()).unwrap();
    let mut states: BTreeMap<BlockHash, Utxo> = BTreeMap::new();
    states.insert(p.genesis_hash, reference.utxo_snapshot().unwrap());
    for b in &arrivals {
        chain.process_block(b.clone(), NOW).unwrap();
        states.insert(chain.tip().hash, reference.utxo_snapshot().unwrap());
    }
    let final_tip = chain.tip().hash;
    assert_eq!(final_tip, fork.last().unwrap().block_hash());
    // States for tips passed through inside a reorganization: connect the winner directly.
    let direct = MemStore::new();
    let mut straight = Chain::open(p.clone(), direct.clone()).unwrap();
    for b in main[..20].iter().chain(&fork) {
        straight.process_block(b.clone(), NOW).unwrap();
        states.insert(straight.tip().hash, direct.utxo_snapshot().unwrap());
    }
    // Writes after opening (the genesis write at open is the first of the reference's).
    let writes = reference.commits() - 1;

    for crash_at in 1..=writes {
        let store = MemStore::new();
        let mut chain = Chain::open(p.clone(), store.clone()).unwrap();
        store.fail_at_write(crash_at);
        let mut crashed = false;
        for b in &arrivals {
            match chain.process_block(b.clone(), NOW) {
                Ok(_) => {}
                Err(ChainError::Store(StoreError::Closed)) => {
                    crashed = true;
                    break;
                }
                Err(e) => panic!("crash at write {crash_at}: unexpected {e}"),
            }
        }
        assert!(crashed, "crash at write {crash_at} never happened");
        let store = store.reopen();
        let mut chain = Chain::open(p.clone(), store.clone()).unwrap();
        let tip = chain.tip().hash;
        assert_eq!(
            Some(&store.utxo_snapshot().unwrap()),
            states.get(&tip),
            "crash at write {crash_at}: UTXO set of tip {tip}"
        );
        for b in &arrivals {
            chain.process_block(b.clone(), NOW).unwrap();
        }
        assert_eq!(chain.tip().hash, final_tip, "crash at write {crash_at}");
        assert_eq!(store.utxo_snapshot().unwrap(), states[&final_tip]);
    }
}
