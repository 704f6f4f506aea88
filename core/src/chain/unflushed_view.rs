//! What the chain changed since its last flush, for readers beside the node: the store holds
//! the chain state as of the last flush (every flush writes the tip with it), so that state
//! plus these changes is the state as of the tip. Kept by the chain as it connects and
//! disconnects blocks (once asked to, [`super::Chain::keep_read_view`]) as a list of each
//! block's changes, newest first, its links behind `Arc`s: a copy costs a pointer clone and
//! never changes after, and recording a block costs one map of its changes (a trie kept per
//! change, copied along its paths after every copy taken, cost 12% of a signed chain's sync).
//! Emptied at each flush; past [`MAX_CHANGES`] changes or [`MAX_BLOCKS`] blocks the chain stops
//! keeping it until the next flush, so its memory and a lookup's walk stay bounded (lookups
//! that would read the store then go to the node). A synced chain flushes at once then; one
//! still syncing waits for its next flush.

use super::tx_index::TxLoc;
use crate::mempool::Coin;
use crate::primitives::{BlockHash, OutPoint, Txid};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Most changes (coins and transaction index entries) kept between two flushes: about 15 MB,
/// some five mainnet blocks; during a sync the chain flushes far less often than this fills.
pub const MAX_CHANGES: usize = 100_000;
/// Most blocks' changes kept between two flushes: a lookup walks at most this many maps.
pub const MAX_BLOCKS: usize = 1_000;

/// One block's changes and the older blocks'.
#[derive(Debug)]
struct Delta<K, V> {
    changes: BTreeMap<K, V>,
    older: Option<Arc<Delta<K, V>>>,
}

impl<K, V> Drop for Delta<K, V> {
    /// Unlinks the older blocks one by one: dropping a long list recursively would overflow
    /// the stack.
    fn drop(&mut self) {
        let mut next = self.older.take();
        while let Some(delta) = next {
            match Arc::try_unwrap(delta) {
                Ok(mut d) => next = d.older.take(),
                // Still part of another copy, which drops the rest.
                Err(_) => break,
            }
        }
    }
}

/// Blocks' changes, newest first.
#[derive(Debug)]
struct Deltas<K, V> {
    newest: Option<Arc<Delta<K, V>>>,
    len: usize,
}

impl<K, V> Clone for Deltas<K, V> {
    fn clone(&self) -> Self {
        Deltas {
            newest: self.newest.clone(),
            len: self.len,
        }
    }
}

impl<K, V> Default for Deltas<K, V> {
    fn default() -> Self {
        Deltas {
            newest: None,
            len: 0,
        }
    }
}

impl<K: Ord, V> Deltas<K, V> {
    fn push(&mut self, changes: BTreeMap<K, V>) {
        self.len += changes.len();
        let older = self.newest.take();
        self.newest = Some(Arc::new(Delta { changes, older }));
    }

    /// The newest change of `key`.
    fn get(&self, key: &K) -> Option<&V> {
        let mut delta = self.newest.as_deref();
        while let Some(d) = delta {
            if let Some(v) = d.changes.get(key) {
                return Some(v);
            }
            delta = d.older.as_deref();
        }
        None
    }
}

/// A consistent, immutable copy of the chain's changes since its last flush (see the module).
#[derive(Clone, Debug)]
pub struct UnflushedView {
    /// Coins created (`Some`) or spent (`None`), by block.
    coins: Deltas<OutPoint, Option<Coin>>,
    /// Transaction index entries added (`Some`) or removed, by block.
    tx_locs: Deltas<Txid, Option<TxLoc>>,
    /// Blocks recorded.
    blocks: usize,
    /// The tip the last flush wrote.
    flushed_tip: BlockHash,
}

impl UnflushedView {
    /// No changes since a flush that wrote `tip`.
    pub(super) fn new(tip: BlockHash) -> UnflushedView {
        UnflushedView {
            coins: Deltas::default(),
            tx_locs: Deltas::default(),
            blocks: 0,
            flushed_tip: tip,
        }
    }

    /// Whether one more block of `changes` changes stays within [`MAX_CHANGES`] and
    /// [`MAX_BLOCKS`].
    pub(super) fn has_room(&self, changes: usize) -> bool {
        self.coins.len + self.tx_locs.len + changes <= MAX_CHANGES && self.blocks < MAX_BLOCKS
    }

    /// A block's coin changes (`None`: spent).
    pub(super) fn record_coins(&mut self, changes: BTreeMap<OutPoint, Option<Coin>>) {
        self.coins.push(changes);
        self.blocks += 1;
    }

    /// A block's transaction index changes (`None`: removed).
    pub(super) fn record_tx_locs(&mut self, changes: BTreeMap<Txid, Option<TxLoc>>) {
        self.tx_locs.push(changes);
        self.blocks += 1;
    }

    /// The coin at `op` when it changed since the flush (`Some(None)`: spent); `None` when
    /// the store's is current.
    pub fn coin(&self, op: &OutPoint) -> Option<&Option<Coin>> {
        self.coins.get(op)
    }

    /// The transaction index entry of `txid` when it changed since the flush (`Some(None)`:
    /// removed); `None` when the store's is current.
    pub fn tx_loc(&self, txid: &Txid) -> Option<&Option<TxLoc>> {
        self.tx_locs.get(txid)
    }

    /// The tip the last flush wrote: the store holds this state until the next flush.
    pub fn flushed_tip(&self) -> BlockHash {
        self.flushed_tip
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_newest_change_answers_and_copies_keep_theirs() {
        let mut deltas: Deltas<u32, u32> = Deltas::default();
        deltas.push(BTreeMap::from([(1, 10), (2, 20)]));
        let before = deltas.clone();
        deltas.push(BTreeMap::from([(2, 21), (3, 30)]));
        assert_eq!(
            [1, 2, 3, 4].map(|k| deltas.get(&k).copied()),
            [Some(10), Some(21), Some(30), None]
        );
        assert_eq!(
            [1, 2, 3].map(|k| before.get(&k).copied()),
            [Some(10), Some(20), None]
        );
        assert_eq!((deltas.len, before.len), (4, 2));
    }

    #[test]
    fn a_long_list_drops_without_recursion() {
        let mut deltas: Deltas<u32, u32> = Deltas::default();
        for i in 0..1_000_000 {
            deltas.push(BTreeMap::from([(i, i)]));
        }
        let copy = deltas.clone();
        drop(deltas);
        assert_eq!(copy.get(&0), Some(&0));
        drop(copy);
    }

    #[test]
    fn room_is_bounded_by_changes_and_blocks() {
        let mut view = UnflushedView::new(BlockHash::ZERO);
        assert!(view.has_room(MAX_CHANGES));
        assert!(!view.has_room(MAX_CHANGES + 1));
        for _ in 0..MAX_BLOCKS {
            assert!(view.has_room(0));
            view.record_tx_locs(BTreeMap::new());
        }
        assert!(!view.has_room(0));
    }
}
