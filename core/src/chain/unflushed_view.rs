//! What the chain changed since its last flush, for readers beside the node: the store holds
//! the chain state as of the last flush (every flush writes the tip with it), so that state
//! plus these changes is the state as of the tip. Kept by the chain as it connects and
//! disconnects blocks (once asked to, [`super::Chain::keep_read_view`]) in [`SharedMap`]s, so
//! a copy costs a few pointer clones and never changes after; emptied at each flush.

use super::coins::CoinChange;
use super::shared_map::SharedMap;
use super::tx_index::TxLoc;
use crate::mempool::Coin;
use crate::primitives::{BlockHash, OutPoint, Txid};
use std::collections::BTreeMap;

/// A consistent, immutable copy of the chain's changes since its last flush (see the module).
#[derive(Clone, Debug)]
pub struct UnflushedView {
    /// Coins created (`Some`) or spent (`None`) since the flush.
    coins: SharedMap<OutPoint, Option<Coin>>,
    /// Transaction index entries added (`Some`) or removed since the flush.
    tx_locs: SharedMap<Txid, Option<TxLoc>>,
    /// The tip the last flush wrote to the store.
    flushed_tip: BlockHash,
}

impl UnflushedView {
    /// No changes since a flush that wrote `tip`.
    pub(super) fn new(tip: BlockHash) -> UnflushedView {
        UnflushedView {
            coins: SharedMap::default(),
            tx_locs: SharedMap::default(),
            flushed_tip: tip,
        }
    }

    /// A block's coin changes, as the UTXO cache applies them.
    pub(super) fn record_coins(&mut self, changes: &BTreeMap<OutPoint, CoinChange>) {
        for (op, change) in changes {
            let coin = match change {
                CoinChange::Add { coin, .. } => Some(coin.clone()),
                CoinChange::Spend => None,
            };
            self.coins.insert(*op, coin);
        }
    }

    /// A transaction index change.
    pub(super) fn record_tx_loc(&mut self, txid: Txid, loc: Option<TxLoc>) {
        self.tx_locs.insert(txid, loc);
    }

    /// A flush wrote everything, with `tip`.
    pub(super) fn flushed(&mut self, tip: BlockHash) {
        self.coins.clear();
        self.tx_locs.clear();
        self.flushed_tip = tip;
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

    /// Changes made before this copy was taken; a newer copy has a higher count.
    pub fn generation(&self) -> u64 {
        self.coins.changes() + self.tx_locs.changes()
    }
}
