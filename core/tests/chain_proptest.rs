//! Property: whatever order the blocks of a random block tree arrive in (orphans, side chains,
//! reorganizations, invalid branches), the chain ends on the most-work valid tip with exactly
//! the UTXO set of connecting that chain directly, and the UTXO set a simple model predicts.

use proptest::prelude::*;
use proptest::sample::Index;
use rbtcd_core::chain::builder::{spend, BlockBuilder};
use rbtcd_core::chain::{Chain, ChainStore, MemStore};
use rbtcd_core::mempool::Coin;
use rbtcd_core::params::{Network, Params};
use rbtcd_core::primitives::{Block, BlockHash, OutPoint};
use std::collections::BTreeMap;

const NOW: u64 = 1_296_688_602 + 10_000_000;

fn params() -> Params {
    let mut p = Params::new(Network::Regtest);
    // Lets blocks spend their ancestors' coinbases in a small tree.
    p.coinbase_maturity = 1;
    p
}

type Utxo = BTreeMap<OutPoint, Coin>;

struct Node {
    block: Block,
    hash: BlockHash,
    height: u32,
    /// The UTXO set after this block on its branch (the model).
    utxo: Utxo,
    /// This block or an ancestor breaks a rule.
    invalid: bool,
}

/// Adds the outputs of `b`'s transactions at `height` to `utxo` and removes what they spend.
fn apply(utxo: &mut Utxo, b: &Block, height: u32) {
    for tx in &b.txdata {
        for i in &tx.inputs {
            utxo.remove(&i.prevout);
        }
        for (v, o) in tx.outputs.iter().enumerate() {
            let coin = Coin {
                output: o.clone(),
                height,
                is_coinbase: tx.is_coinbase(),
            };
            utxo.insert(OutPoint::new(tx.txid(), v as u32), coin);
        }
    }
}

/// A block on `parent`: spends up to two mature coins of its branch; `overspend` makes it
/// claim one satoshi more than its inputs (valid alone, invalid when connected).
fn child(p: &Params, parent: &Node, tag: usize, pick: u8, overspend: bool) -> Node {
    let height = parent.height + 1;
    let mature: Vec<(&OutPoint, &Coin)> = parent
        .utxo
        .iter()
        .filter(|(_, c)| !c.is_coinbase || height - c.height >= p.coinbase_maturity)
        .collect();
    let mut bb = BlockBuilder::new(p, parent.hash, height, parent.block.header.time)
        .tag(&(tag as u32).to_le_bytes());
    let n = (pick % 3) as usize;
    if n > 0 && mature.len() >= n {
        let start = pick as usize % mature.len();
        let chosen: Vec<_> = (0..n).map(|k| mature[(start + k) % mature.len()]).collect();
        let inputs: Vec<OutPoint> = chosen.iter().map(|(op, _)| **op).collect();
        let total: i64 = chosen.iter().map(|(_, c)| c.output.value).sum();
        let extra = overspend as i64;
        bb = bb.tx(spend(&inputs, &[total / 2, total - total / 2 + extra]));
    }
    let block = bb.build();
    let mut utxo = parent.utxo.clone();
    apply(&mut utxo, &block, height);
    Node {
        hash: block.block_hash(),
        invalid: parent.invalid || (overspend && block.txdata.len() > 1),
        block,
        height,
        utxo,
    }
}

/// The UTXO set the chain's store holds (as of its last flush).
fn store_utxo(store: &MemStore) -> Utxo {
    let mut m = Utxo::new();
    store
        .for_each_coin(&mut |op, c| {
            m.insert(*op, c.clone());
        })
        .unwrap();
    m
}

/// The tree: `parents[i]` picks the parent of block `i + 1` among the blocks before it; one
/// more block goes on the deepest valid block so that the best valid tip is unique.
fn build_tree(parents: &[Index], picks: &[u8]) -> Vec<Node> {
    let p = params();
    let mut nodes = vec![Node {
        block: p.genesis.clone(),
        hash: p.genesis_hash,
        height: 0,
        utxo: Utxo::new(),
        invalid: false,
    }];
    for (i, (parent, pick)) in parents.iter().zip(picks).enumerate() {
        let parent = &nodes[parent.index(nodes.len())];
        let n = child(&p, parent, i, *pick, pick % 7 == 6);
        nodes.push(n);
    }
    let deepest = nodes
        .iter()
        .filter(|n| !n.invalid)
        .max_by_key(|n| n.height)
        .expect("genesis is valid");
    let last = child(&p, deepest, usize::MAX, 1, false);
    nodes.push(last);
    nodes
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn arrival_order_does_not_change_the_outcome(
        (parents, picks, order) in (4usize..24).prop_flat_map(|n| (
            proptest::collection::vec(any::<Index>(), n),
            proptest::collection::vec(any::<u8>(), n),
            Just((1..=n + 1).collect::<Vec<usize>>()).prop_shuffle(),
        ))
    ) {
        let nodes = build_tree(&parents, &picks);
        let winner = nodes.last().unwrap();

        let store = MemStore::new();
        let mut chain = Chain::open(params(), store.clone()).unwrap();
        for &i in &order {
            // Invalid blocks are refused; that is part of the scenario, not a failure.
            let _ = chain.process_block(nodes[i].block.clone(), NOW);
        }
        prop_assert_eq!(chain.tip().hash, winner.hash);
        prop_assert_eq!(chain.orphan_count(), 0);
        let utxo = chain.utxo_snapshot().unwrap();
        prop_assert_eq!(&utxo, &winner.utxo);

        // The same chain connected directly, block by block.
        let mut path = vec![winner];
        while path.last().unwrap().height > 0 {
            let prev = path.last().unwrap().block.header.prev_blockhash;
            path.push(nodes.iter().find(|n| n.hash == prev).unwrap());
        }
        let direct = MemStore::new();
        let mut straight = Chain::open(params(), direct.clone()).unwrap();
        for n in path.iter().rev().skip(1) {
            straight.process_block(n.block.clone(), NOW).unwrap();
        }
        prop_assert_eq!(&straight.utxo_snapshot().unwrap(), &utxo);
        straight.flush().unwrap();
        prop_assert_eq!(&store_utxo(&direct), &utxo);

        // Reopening after a flush gives the same state.
        chain.flush().unwrap();
        prop_assert_eq!(&store_utxo(&store), &utxo);
        let reopened = Chain::open(params(), store.reopen()).unwrap();
        prop_assert_eq!(reopened.tip().hash, winner.hash);
    }
}
