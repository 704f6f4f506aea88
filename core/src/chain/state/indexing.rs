//! The chain's side of the transaction index: turning it on (catching up with the blocks
//! connected while it was off), keeping it with each connect and disconnect until the next
//! flush writes it with the rest of the chain state, and looking transactions up through it.

use super::Chain;
use crate::chain::error::ChainError;
use crate::chain::records::IndexEntry;
use crate::chain::store::{ChainStore, WriteBatch, WriteOp};
use crate::chain::tx_index::{index_ops, tx_at, unindex_ops, TxLoc};
use crate::primitives::{Block, BlockHash, Transaction, Txid};
use std::collections::BTreeMap;

/// Catch-up commits once a batch holds this many changes, so a long catch-up neither builds
/// one huge transaction nor pays a commit per block.
const CATCH_UP_BATCH_OPS: usize = 50_000;

impl<S: ChainStore> Chain<S> {
    /// True when the transaction index is maintained.
    pub fn tx_index_enabled(&self) -> bool {
        self.tx_index
    }

    /// Turns the transaction index on: blocks that left the main chain while it was off are
    /// removed from it, the main-chain blocks it lacks are added (btcd's "Catching up indexes"),
    /// and from then on every connect and disconnect updates it in the same batch. A new index
    /// starts at genesis, whose coinbase is not indexed (it cannot be spent), as btcd does.
    pub fn enable_tx_index(&mut self) -> Result<(), ChainError> {
        log::info!("Transaction index is enabled");
        // The catch-up writes the store directly: it must hold the tip's state first.
        self.flush()?;
        let mut indexed = self.store.tx_index_tip()?;
        while let Some(hash) = indexed.filter(|h| !self.index.is_main(h)) {
            let block = self.stored_block(&hash)?;
            log::info!(
                "Removing block {hash} from the transaction index (no longer in the main chain)"
            );
            self.store.write(WriteBatch {
                ops: unindex_ops(&block).collect(),
            })?;
            indexed = Some(block.header.prev_blockhash);
        }
        let mut batch = WriteBatch::new();
        let from = match indexed {
            Some(hash) => self.index.get(&hash).map_or(0, |e| e.height),
            None => {
                batch.push(WriteOp::PutTxIndexTip(self.params.genesis_hash));
                0
            }
        };
        let best = self.tip().height;
        if from < best {
            log::info!("Catching up indexes from height {from} to {best}");
        }
        for height in from + 1..=best {
            let hash = *self
                .index
                .main_at(height)
                .expect("height within the main chain");
            let block = self.stored_block(&hash)?;
            batch.ops.extend(index_ops(&block, hash));
            if batch.ops.len() >= CATCH_UP_BATCH_OPS {
                self.store.write(std::mem::take(&mut batch))?;
            }
        }
        if !batch.is_empty() {
            self.store.write(batch)?;
        }
        if from < best {
            log::info!("Indexes caught up to height {best}");
        }
        self.tx_index = true;
        Ok(())
    }

    /// Where the transaction index puts `txid` as of the tip (what the next flush writes,
    /// else the store's); `None` when the index is off or does not hold `txid`.
    pub fn tx_location(&self, txid: &Txid) -> Result<Option<TxLoc>, ChainError> {
        if !self.tx_index {
            return Ok(None);
        }
        match self.tx_pending.get(txid) {
            Some(pending) => Ok(*pending),
            None => Ok(self.store.tx_location(txid)?),
        }
    }

    /// A main-chain transaction found through the transaction index, with its block's entry;
    /// `None` when the index is off or does not hold `txid`.
    pub fn indexed_transaction(
        &self,
        txid: &Txid,
    ) -> Result<Option<(Transaction, IndexEntry)>, ChainError> {
        let Some(loc) = self.tx_location(txid)? else {
            return Ok(None);
        };
        let entry = *self.index.get(&loc.block).ok_or_else(|| {
            ChainError::Inconsistent(format!(
                "transaction index names unknown block {}",
                loc.block
            ))
        })?;
        let block = self.stored_block(&loc.block)?;
        Ok(Some((tx_at(&block, &loc, txid)?, entry)))
    }

    /// Records `block`'s transactions (connected as `hash`) for the next flush.
    pub(super) fn index_block_txs(&mut self, block: &Block, hash: BlockHash) {
        self.pend_block(index_ops(block, hash));
    }

    /// Records the removal of `block`'s transactions (disconnected) for the next flush.
    pub(super) fn unindex_block_txs(&mut self, block: &Block) {
        self.pend_block(unindex_ops(block));
    }

    /// Records one block's transaction index `ops` for the next flush, and for the readers'
    /// copy of the changes since the last one.
    fn pend_block(&mut self, ops: impl Iterator<Item = WriteOp>) {
        let keep = self.unflushed.is_some();
        let mut changes = BTreeMap::new();
        for op in ops {
            if let Some((txid, loc)) = self.pend(op) {
                if keep {
                    changes.insert(txid, loc);
                }
            }
        }
        self.record_unflushed(changes.len(), |view| view.record_tx_locs(changes));
    }

    /// Records `op` for the next flush; the transaction index change it makes, if any.
    fn pend(&mut self, op: WriteOp) -> Option<(Txid, Option<TxLoc>)> {
        let (txid, loc) = match op {
            WriteOp::PutTxLoc(txid, loc) => (txid, Some(loc)),
            WriteOp::DeleteTxLoc(txid) => (txid, None),
            WriteOp::PutTxIndexTip(tip) => {
                self.tx_pending_tip = Some(tip);
                return None;
            }
            other => {
                debug_assert!(false, "not a transaction index op: {other:?}");
                return None;
            }
        };
        self.tx_pending.insert(txid, loc);
        Some((txid, loc))
    }
}
