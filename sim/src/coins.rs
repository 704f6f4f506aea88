//! A simulated node's committed UTXO set, with each output held once per run: a thousand nodes
//! on one chain commit the same coins, and the in-memory store kept a full copy of each per
//! node (about 170 bytes a coin, growing with every transaction mined: heaptrack of a 200-node
//! run). An outpoint's output is fixed
//! by its txid, so the run holds outpoints and outputs once ([`CoinTable`]) and each node only
//! which of them it has, with the two things that depend on the chain it saw: the height
//! (a transaction may be mined at different heights on two branches) and the coinbase flag.

use rbtcd_core::mempool::Coin;
use rbtcd_core::primitives::{OutPoint, TxOut};
use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};

/// Every outpoint any node of the run committed, numbered in the order first seen, with its
/// output. Only looked up by outpoint, never iterated, so its hashing order cannot reach a
/// run's outcome; the numbers follow the run's events, so they replay too.
#[derive(Default)]
pub struct CoinTable(RefCell<Table>);

#[derive(Default)]
struct Table {
    ids: HashMap<OutPoint, u32>,
    outputs: Vec<(OutPoint, TxOut)>,
}

impl CoinTable {
    /// The number of `outpoint`, holding `output` if it is new.
    fn intern(&self, outpoint: &OutPoint, output: &TxOut) -> u32 {
        let mut t = self.0.borrow_mut();
        if let Some(id) = t.ids.get(outpoint) {
            return *id;
        }
        let id = u32::try_from(t.outputs.len()).expect("fewer than 2^32 outputs in a run");
        t.outputs.push((*outpoint, output.clone()));
        t.ids.insert(*outpoint, id);
        id
    }

    /// The number of `outpoint`, if any node ever committed it.
    fn id(&self, outpoint: &OutPoint) -> Option<u32> {
        self.0.borrow().ids.get(outpoint).copied()
    }

    /// Outpoints and outputs held, and the distinct outputs' script bytes.
    pub fn size(&self) -> (usize, usize) {
        let t = self.0.borrow();
        let scripts = t.outputs.iter().map(|(_, o)| o.script_pubkey.len()).sum();
        (t.outputs.len(), scripts)
    }
}

/// One node's committed coins: for each outpoint number, the height and the coinbase flag
/// packed as `height << 1 | coinbase`.
#[derive(Clone, Default)]
pub struct NodeCoins(BTreeMap<u32, u32>);

impl NodeCoins {
    /// Adds or replaces the coin at `outpoint`.
    pub fn put(&mut self, table: &CoinTable, outpoint: &OutPoint, coin: &Coin) {
        let id = table.intern(outpoint, &coin.output);
        self.0
            .insert(id, coin.height << 1 | u32::from(coin.is_coinbase));
    }

    /// Removes the coin at `outpoint`, if held.
    pub fn delete(&mut self, table: &CoinTable, outpoint: &OutPoint) {
        if let Some(id) = table.id(outpoint) {
            self.0.remove(&id);
        }
    }

    /// The coin at `outpoint`, if held.
    pub fn get(&self, table: &CoinTable, outpoint: &OutPoint) -> Option<Coin> {
        let id = table.id(outpoint)?;
        let packed = self.0.get(&id)?;
        let t = table.0.borrow();
        Some(coin(&t.outputs[id as usize].1, *packed))
    }

    /// Every coin held, in outpoint order (the store's key order).
    pub fn for_each(&self, table: &CoinTable, f: &mut dyn FnMut(&OutPoint, &Coin)) {
        let t = table.0.borrow();
        let mut held: Vec<(&OutPoint, Coin)> = self
            .0
            .iter()
            .map(|(id, packed)| {
                let (outpoint, output) = &t.outputs[*id as usize];
                (outpoint, coin(output, *packed))
            })
            .collect();
        held.sort_unstable_by_key(|(outpoint, _)| **outpoint);
        for (outpoint, coin) in &held {
            f(outpoint, coin);
        }
    }
}

fn coin(output: &TxOut, packed: u32) -> Coin {
    Coin {
        output: output.clone(),
        height: packed >> 1,
        is_coinbase: packed & 1 == 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rbtcd_core::primitives::hash::Hash256;

    fn outpoint(n: u8) -> OutPoint {
        OutPoint::new(Hash256([n; 32]), u32::from(n))
    }

    fn coin_at(value: i64, height: u32, is_coinbase: bool) -> Coin {
        Coin {
            output: TxOut {
                value,
                script_pubkey: vec![0x51, value as u8],
            },
            height,
            is_coinbase,
        }
    }

    #[test]
    fn nodes_share_outputs_and_keep_their_own_heights_and_sets() {
        let table = CoinTable::default();
        let (mut a, mut b) = (NodeCoins::default(), NodeCoins::default());
        a.put(&table, &outpoint(2), &coin_at(20, 7, true));
        a.put(&table, &outpoint(1), &coin_at(10, 5, false));
        // The same transaction mined at another height on b's branch.
        b.put(&table, &outpoint(1), &coin_at(10, 6, false));
        assert_eq!(table.size(), (2, 4), "each output held once");
        assert_eq!(a.get(&table, &outpoint(1)), Some(coin_at(10, 5, false)));
        assert_eq!(b.get(&table, &outpoint(1)), Some(coin_at(10, 6, false)));
        assert_eq!(b.get(&table, &outpoint(2)), None);
        assert_eq!(a.get(&table, &outpoint(3)), None);
        let mut seen = Vec::new();
        a.for_each(&table, &mut |op, c| seen.push((*op, c.clone())));
        assert_eq!(
            seen,
            [
                (outpoint(1), coin_at(10, 5, false)),
                (outpoint(2), coin_at(20, 7, true))
            ],
            "outpoint order, not the order first seen"
        );
        a.delete(&table, &outpoint(2));
        b.delete(&table, &outpoint(3));
        assert_eq!(a.get(&table, &outpoint(2)), None);
        assert_eq!(b.get(&table, &outpoint(1)), Some(coin_at(10, 6, false)));
    }
}
