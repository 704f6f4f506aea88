//! The UTXO cache against no cache at all: over random sequences of block connections,
//! disconnections, flushes and budget changes (with the chain's flush policy: flush before a
//! block that would not fit, flush after one that went over), the coins seen through the
//! cache equal those of a store written straight through after every block.

use proptest::prelude::*;
use rbtcd_core::chain::builder::{spend, BlockBuilder};
use rbtcd_core::chain::coins::{for_each_merged, CachedCoins, CoinChange, CoinsCache};
use rbtcd_core::chain::connect::{connect_block, disconnect_block};
use rbtcd_core::chain::index::BlockIndex;
use rbtcd_core::chain::{BlockUndo, ChainStore, IndexEntry, MemStore, Status, WriteBatch};
use rbtcd_core::mempool::Coin;
use rbtcd_core::params::{Network, Params};
use rbtcd_core::primitives::{Block, OutPoint};
use std::collections::BTreeMap;

#[derive(Clone, Debug)]
enum Op {
    /// Connect a new block spending up to three coins picked by these numbers.
    Connect(Vec<u16>),
    /// Disconnect the tip.
    Disconnect,
    /// Flush, emptying the cache or not.
    Flush(bool),
    /// Restart with another budget (after a clean flush).
    Budget(usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        5 => proptest::collection::vec(any::<u16>(), 0..4).prop_map(Op::Connect),
        2 => Just(Op::Disconnect),
        1 => any::<bool>().prop_map(Op::Flush),
        1 => prop_oneof![Just(0usize), Just(1 << 10), Just(4 << 10), Just(1 << 20)]
            .prop_map(Op::Budget),
    ]
}

/// One side of the comparison: a cache (with budget) over a store.
struct Side {
    cache: CoinsCache,
    store: MemStore,
}

impl Side {
    fn new(budget: usize) -> Side {
        Side {
            cache: CoinsCache::new(budget),
            store: MemStore::new(),
        }
    }

    fn flush(&mut self, empty: bool) {
        let ops = self.cache.flush_ops(empty);
        self.store.write(WriteBatch { ops }).unwrap();
    }

    /// Applies a block's changes under the chain's policy.
    fn apply(&mut self, changes: BTreeMap<OutPoint, CoinChange>) {
        if self.cache.would_overflow(&changes) {
            self.flush(true);
        }
        self.cache.apply(&self.store, changes).unwrap();
        if self.cache.usage() > self.cache.budget() {
            self.flush(true);
        }
    }

    fn coins(&self) -> BTreeMap<OutPoint, Coin> {
        let mut all = BTreeMap::new();
        for_each_merged(&self.cache, &self.store, &mut |op, c| {
            all.insert(*op, c.clone());
        })
        .unwrap();
        all
    }
}

fn entry_of(block: &Block, height: u32) -> IndexEntry {
    IndexEntry::header_only(
        block.block_hash(),
        block.header,
        height,
        block.header.work(),
        Status::HEADER_VALID.with(Status::DATA_STORED),
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn the_cached_view_equals_the_uncached_one(ops in proptest::collection::vec(op(), 1..80)) {
        let mut p = Params::new(Network::Regtest);
        p.coinbase_maturity = 1;
        let mut index = BlockIndex::new(IndexEntry {
            status: Status::VALID.with(Status::DATA_STORED),
            ..entry_of(&p.genesis, 0)
        });
        let mut cached = Side::new(4 << 10);
        // No cache: nothing is kept between blocks, every block is written through.
        let mut plain = Side::new(0);
        let mut connected: Vec<(Block, BlockUndo)> = Vec::new();
        for op in ops {
            match op {
                Op::Connect(picks) => {
                    let tip = *index.tip();
                    let mature: Vec<(OutPoint, Coin)> = cached
                        .coins()
                        .into_iter()
                        .filter(|(_, c)| c.height < tip.height + 1)
                        .collect();
                    let mut bb = BlockBuilder::new(&p, tip.hash, tip.height + 1, tip.header.time)
                        .tag(&(connected.len() as u32).to_le_bytes());
                    let mut used = Vec::new();
                    for pick in picks {
                        if mature.is_empty() {
                            break;
                        }
                        let (o, c) = &mature[pick as usize % mature.len()];
                        if used.contains(o) {
                            continue;
                        }
                        used.push(*o);
                        // Two outputs, one spendable, one not (OP_RETURN stays out).
                        let mut tx = spend(&[*o], &[c.output.value / 2, c.output.value / 2]);
                        if pick % 5 == 0 {
                            tx.outputs[1].script_pubkey = vec![0x6a];
                        }
                        bb = bb.tx(tx);
                    }
                    let block = bb.build();
                    let entry = entry_of(&block, tip.height + 1);
                    let mut results = Vec::new();
                    for side in [&mut cached, &mut plain] {
                        let mut view = CachedCoins { cache: &mut side.cache, store: &side.store };
                        let c = connect_block(&mut view, &index, &block, &entry, &p, None).unwrap();
                        results.push(c.undo.clone());
                        side.apply(c.changes);
                    }
                    prop_assert_eq!(&results[0], &results[1], "same undo data");
                    plain.flush(true);
                    index.insert(entry);
                    index.push_main(entry.hash);
                    connected.push((block, results.remove(0)));
                }
                Op::Disconnect => {
                    let Some((block, undo)) = connected.pop() else { continue };
                    let hash = block.block_hash();
                    for side in [&mut cached, &mut plain] {
                        let mut view = CachedCoins { cache: &mut side.cache, store: &side.store };
                        let changes = disconnect_block(&mut view, &block, hash, undo.clone()).unwrap();
                        side.apply(changes);
                    }
                    plain.flush(true);
                    index.pop_main();
                }
                Op::Flush(empty) => cached.flush(empty),
                Op::Budget(budget) => {
                    cached.flush(true);
                    cached.cache = CoinsCache::new(budget);
                }
            }
            let want = plain.store.utxo_snapshot().unwrap();
            prop_assert_eq!(&cached.coins(), &want);
            for (o, c) in &want {
                let seen = cached.cache.peek(&cached.store, o).unwrap();
                prop_assert_eq!(seen.as_ref(), Some(c));
            }
            // The policy keeps the cache within its budget after every block.
            prop_assert!(cached.cache.usage() <= cached.cache.budget());
        }
        // A final flush leaves the two stores identical.
        cached.flush(false);
        prop_assert_eq!(cached.store.utxo_snapshot().unwrap(), plain.store.utxo_snapshot().unwrap());
    }
}
