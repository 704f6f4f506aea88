//! Flushing the chain state to the store: the one kind of batch the chain writes (see the
//! crash-safety argument in [`super`]), and when to write it.

use super::Chain;
use crate::chain::error::ChainError;
use crate::chain::store::{ChainStore, WriteBatch, WriteOp};
use crate::chain::unflushed_view::UnflushedView;

impl<S: ChainStore> Chain<S> {
    /// Makes the chain state durable: syncs the block files, then writes the UTXO cache's
    /// changes, the changed index entries, the transaction index's changes, the tip and the
    /// files' committed ends as one batch. Clean coins stay cached.
    pub fn flush(&mut self) -> Result<(), ChainError> {
        self.flush_state(false)
    }

    /// [`Chain::flush`], emptying the cache afterwards when `empty_cache` (it was full).
    ///
    /// Each flush is logged once its batch is durable (as btcd logs its UTXO cache flushes),
    /// with the cache's own measure of its memory: what operators size `--utxocachemaxsize`
    /// by, and what a crash test may rely on as the oldest tip a restart can open at.
    pub(super) fn flush_state(&mut self, empty_cache: bool) -> Result<(), ChainError> {
        let ends = self.store.sync()?;
        let (usage, entries) = (self.coins.usage(), self.coins.len());
        let mut batch = WriteBatch {
            ops: self.coins.flush_ops(empty_cache),
        };
        let coin_writes = batch.ops.len();
        // Room for the rest up front: the coin writes fill the vector exactly, and growing it
        // by the first push below would double a buffer as large as the cache for a moment.
        batch
            .ops
            .reserve_exact(self.dirty.len() + self.tx_pending.len() + 3);
        for hash in std::mem::take(&mut self.dirty) {
            if let Some(e) = self.index.get(&hash) {
                batch.push(WriteOp::PutIndex(*e));
            }
        }
        for (txid, loc) in std::mem::take(&mut self.tx_pending) {
            batch.push(match loc {
                Some(loc) => WriteOp::PutTxLoc(txid, loc),
                None => WriteOp::DeleteTxLoc(txid),
            });
        }
        if let Some(tip) = self.tx_pending_tip.take() {
            batch.push(WriteOp::PutTxIndexTip(tip));
        }
        let tip = *self.index.tip();
        batch.push(WriteOp::PutTip(tip.hash));
        batch.push(WriteOp::PutFileEnds(ends));
        self.store.write(batch)?;
        if self.keep_unflushed {
            self.unflushed = Some(UnflushedView::new(tip.hash));
            self.unflushed_generation += 1;
        }
        log::info!(
            "Flushed chain state (height {}, hash {}): {coin_writes} coin writes; UTXO cache \
             {entries} entries, {usage} bytes, peak {} bytes, budget {} bytes",
            tip.height,
            tip.hash,
            self.coins.peak_usage(),
            self.coins.budget()
        );
        Ok(())
    }

    /// Flushes when [`ChainOptions::flush_interval_secs`](super::ChainOptions) have passed
    /// since the last flush, at the node's unix time `now` (the first call only starts the
    /// clock), and early when the readers' copy of the changes since the last flush went
    /// past its bounds while the chain is synced (see [`Chain::readers_wait_for_a_flush`]).
    pub fn maybe_flush(&mut self, now: u64) -> Result<(), ChainError> {
        match self.last_flush {
            None => self.last_flush = Some(now),
            Some(at)
                if now.saturating_sub(at) >= self.options.flush_interval_secs
                    || self.readers_wait_for_a_flush(now) =>
            {
                self.flush()?;
                self.last_flush = Some(now);
            }
            Some(_) => {}
        }
        Ok(())
    }

    /// True when readers beside the node are kept and their copy of the changes since the last
    /// flush went past its bounds, so their store lookups go to the node until the next flush,
    /// and the tip is less than a day old (btcd's test for a synced chain). Synced, a flush
    /// every few blocks costs little, where waiting for the hourly one would send every
    /// `gettxout` through the node's loop for most of each hour; during a sync the flushes
    /// stay rare, as the UTXO cache is there to keep them.
    fn readers_wait_for_a_flush(&self, now: u64) -> bool {
        const SYNCED_TIP_AGE_SECS: u64 = 24 * 60 * 60;
        self.keep_unflushed
            && self.unflushed.is_none()
            && u64::from(self.index.tip().header.time) + SYNCED_TIP_AGE_SECS >= now
    }
}
