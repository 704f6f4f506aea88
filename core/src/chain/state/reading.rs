//! Reading the chain's data as of its tip: blocks (from the recent-block cache or the block
//! files), undo data, and coins (through the UTXO cache), whatever has been flushed yet.

use super::Chain;
use crate::chain::block_files::FileKind;
use crate::chain::coins::for_each_merged;
use crate::chain::error::ChainError;
use crate::chain::records::BlockUndo;
use crate::chain::store::ChainStore;
use crate::mempool::Coin;
use crate::primitives::{Block, BlockHash, Decodable, OutPoint};
use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

/// Bytes of recently stored blocks kept parsed: during a parallel download blocks arrive ahead
/// of their parents, and connecting them should not read and parse them again.
const RECENT_BLOCKS_BYTES: usize = 64 << 20;
/// Connected blocks kept parsed, newest first: what the mempool's update reads right after a
/// block connects, and what a shallow reorg disconnects. Older ones are read back if needed.
const RECENT_CONNECTED: usize = 8;

/// Recently stored blocks, parsed, oldest dropped first once over [`RECENT_BLOCKS_BYTES`]; of
/// those already connected, only the last [`RECENT_CONNECTED`] stay. Without that second bound
/// every block of a sync stayed parsed until the byte bound, which counts serialized bytes:
/// 298 small-transaction blocks, 90 MB of heap, held for the life of the process.
#[derive(Default)]
pub struct RecentBlocks {
    blocks: BTreeMap<BlockHash, (Arc<Block>, usize)>,
    order: VecDeque<BlockHash>,
    connected: VecDeque<BlockHash>,
    bytes: usize,
}

impl RecentBlocks {
    /// Keeps `block` (of `size` serialized bytes).
    pub fn insert(&mut self, hash: BlockHash, block: Block, size: usize) {
        if self.blocks.insert(hash, (Arc::new(block), size)).is_some() {
            return;
        }
        self.order.push_back(hash);
        self.bytes += size;
        while self.bytes > RECENT_BLOCKS_BYTES {
            let Some(old) = self.order.pop_front() else {
                break;
            };
            self.forget(&old);
        }
    }

    /// Notes that `hash` was connected: the oldest connected blocks beyond
    /// [`RECENT_CONNECTED`] are dropped.
    pub fn connected(&mut self, hash: BlockHash) {
        if !self.blocks.contains_key(&hash) || self.connected.contains(&hash) {
            return;
        }
        self.connected.push_back(hash);
        while self.connected.len() > RECENT_CONNECTED {
            let Some(old) = self.connected.pop_front() else {
                break;
            };
            self.order.retain(|h| *h != old);
            self.forget(&old);
        }
    }

    /// Drops `hash` from the map and the byte count (its place in `order` or `connected`, if
    /// any, is left to the caller).
    fn forget(&mut self, hash: &BlockHash) {
        if let Some((_, n)) = self.blocks.remove(hash) {
            self.bytes -= n;
        }
    }

    /// The block `hash`, if kept.
    pub fn get(&self, hash: &BlockHash) -> Option<Arc<Block>> {
        self.blocks.get(hash).map(|(b, _)| Arc::clone(b))
    }

    /// How many blocks are kept.
    #[cfg(test)]
    pub fn kept(&self) -> usize {
        self.blocks.len()
    }
}

impl<S: ChainStore> Chain<S> {
    /// The stored block `hash`, parsed (shared, not copied, when it was stored lately).
    pub fn block_arc(&self, hash: &BlockHash) -> Result<Option<Arc<Block>>, ChainError> {
        if let Some(b) = self.recent.get(hash) {
            return Ok(Some(b));
        }
        let Some(raw) = self.block_bytes(hash)? else {
            return Ok(None);
        };
        Block::decode(&raw).map(|b| Some(Arc::new(b))).map_err(|e| {
            ChainError::Inconsistent(format!("stored block {hash} does not decode: {e}"))
        })
    }

    /// The stored block `hash`.
    pub fn block(&self, hash: &BlockHash) -> Result<Option<Block>, ChainError> {
        Ok(self.block_arc(hash)?.map(|b| Block::clone(&b)))
    }

    /// The stored block `hash` as the bytes it was stored as (what the network sent).
    pub fn block_bytes(&self, hash: &BlockHash) -> Result<Option<Vec<u8>>, ChainError> {
        match self.index.get(hash).and_then(|e| e.data) {
            Some(pos) => Ok(Some(self.store.read(FileKind::Blocks, pos)?)),
            None => Ok(None),
        }
    }

    /// The undo data of block `hash`, kept once it was connected.
    pub fn undo(&self, hash: &BlockHash) -> Result<Option<BlockUndo>, ChainError> {
        let Some(pos) = self.index.get(hash).and_then(|e| e.undo) else {
            return Ok(None);
        };
        let raw = self.store.read(FileKind::Undo, pos)?;
        BlockUndo::decode(&raw).map(Some).map_err(|e| {
            ChainError::Inconsistent(format!("undo data of {hash} does not decode: {e}"))
        })
    }

    /// The stored data of a block the index says is stored.
    pub(super) fn stored_block(&self, hash: &BlockHash) -> Result<Arc<Block>, ChainError> {
        self.block_arc(hash)?
            .ok_or_else(|| ChainError::Inconsistent(format!("block data of {hash} missing")))
    }

    /// The unspent coin at `op` as of the tip.
    pub fn unspent(&self, op: &OutPoint) -> Result<Option<Coin>, ChainError> {
        Ok(self.coins.peek(&self.store, op)?)
    }

    /// Calls `f` for every unspent coin as of the tip, in outpoint order (the store's coins
    /// merged with what the cache has not flushed yet).
    pub fn for_each_coin(&self, f: &mut dyn FnMut(&OutPoint, &Coin)) -> Result<(), ChainError> {
        Ok(for_each_merged(&self.coins, &self.store, f)?)
    }

    /// Every unspent coin as of the tip, in memory: for tests and checks on small chains.
    pub fn utxo_snapshot(&self) -> Result<BTreeMap<OutPoint, Coin>, ChainError> {
        let mut all = BTreeMap::new();
        self.for_each_coin(&mut |op, coin| {
            all.insert(*op, coin.clone());
        })?;
        Ok(all)
    }
}

#[cfg(test)]
mod tests;
