//! The pool as of one moment, for readers beside the node (the driver's `getrawtransaction`,
//! `gettxout` and `getmempoolinfo`): its transactions, the outpoints they spend, the orphans'
//! txids and the transactions' total size, kept in
//! [`SharedMap`]s as the pool changes (once asked to, [`super::Mempool::keep_view`]), so a copy
//! costs a few pointer clones and never changes after.

use crate::chain::shared_map::SharedMap;
use crate::primitives::{OutPoint, Transaction, Txid};
use std::sync::Arc;

/// A consistent, immutable copy of what the pool's lookups read (see the module).
#[derive(Clone, Debug, Default)]
pub struct MempoolView {
    txs: SharedMap<Txid, Arc<Transaction>>,
    spends: SharedMap<OutPoint, Txid>,
    orphans: SharedMap<Txid, ()>,
    /// The pool transactions' total serialized size.
    bytes: usize,
}

impl MempoolView {
    /// `tx` (as `txid`) entered the pool.
    pub(super) fn added(&mut self, txid: Txid, tx: &Arc<Transaction>) {
        for input in &tx.inputs {
            self.spends.insert(input.prevout, txid);
        }
        self.bytes += tx.total_size();
        self.txs.insert(txid, Arc::clone(tx));
    }

    /// No pool transaction spends `op` any more.
    pub(super) fn unspent(&mut self, op: &OutPoint) {
        self.spends.remove(op);
    }

    /// `txid` left the pool (its spends are released with [`MempoolView::unspent`]).
    pub(super) fn removed(&mut self, txid: &Txid) {
        if let Some(tx) = self.txs.remove(txid) {
            self.bytes -= tx.total_size();
        }
    }

    /// This copy with the orphans' txids `ids` (which the orphan pool keeps itself).
    pub(super) fn with_orphans(mut self, ids: SharedMap<Txid, ()>) -> MempoolView {
        self.orphans = ids;
        self
    }

    /// The pool transaction `txid`.
    pub fn get(&self, txid: &Txid) -> Option<&Arc<Transaction>> {
        self.txs.get(txid)
    }

    /// True when `txid` is in the pool or held as an orphan (as [`super::Mempool::have`]).
    pub fn have(&self, txid: &Txid) -> bool {
        self.txs.get(txid).is_some() || self.orphans.get(txid).is_some()
    }

    /// The pool transaction spending `op`, if any.
    pub fn spender_of(&self, op: &OutPoint) -> Option<Txid> {
        self.spends.get(op).copied()
    }

    /// How many transactions the pool holds (orphans aside).
    pub fn count(&self) -> usize {
        self.txs.len()
    }

    /// The pool transactions' total serialized size.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Changes made before this copy was taken; a newer copy has a higher count.
    pub fn generation(&self) -> u64 {
        self.txs.changes() + self.spends.changes() + self.orphans.changes()
    }
}
