//! Blocks whose parent is unknown, kept for a while in case the parent arrives (btcd: at most
//! 100, each for at most an hour).

use crate::primitives::{Block, BlockHash};
use std::collections::BTreeMap;

/// Most orphan blocks kept.
pub const MAX_ORPHAN_BLOCKS: usize = 100;
/// Seconds an orphan block is kept.
pub const ORPHAN_EXPIRY_SECS: u64 = 60 * 60;

struct Orphan {
    block: Block,
    expires: u64,
}

/// The orphan block pool.
#[derive(Default)]
pub struct OrphanBlocks {
    by_hash: BTreeMap<BlockHash, Orphan>,
    by_parent: BTreeMap<BlockHash, Vec<BlockHash>>,
}

impl OrphanBlocks {
    /// Number of orphans held.
    pub fn len(&self) -> usize {
        self.by_hash.len()
    }

    /// True when none are held.
    pub fn is_empty(&self) -> bool {
        self.by_hash.is_empty()
    }

    /// True when `hash` is held.
    pub fn contains(&self, hash: &BlockHash) -> bool {
        self.by_hash.contains_key(hash)
    }

    /// Adds an orphan at unix time `now`, first dropping expired ones and, when still full, the
    /// one closest to expiry.
    pub fn add(&mut self, hash: BlockHash, block: Block, now: u64) {
        self.expire(now);
        if self.by_hash.len() >= MAX_ORPHAN_BLOCKS {
            let oldest = self
                .by_hash
                .iter()
                .min_by_key(|(h, o)| (o.expires, **h))
                .map(|(h, _)| *h);
            if let Some(h) = oldest {
                self.remove(&h);
            }
        }
        self.by_parent
            .entry(block.header.prev_blockhash)
            .or_default()
            .push(hash);
        let expires = now + ORPHAN_EXPIRY_SECS;
        self.by_hash.insert(hash, Orphan { block, expires });
    }

    /// Drops orphans whose time is up.
    pub fn expire(&mut self, now: u64) {
        let expired: Vec<BlockHash> = self
            .by_hash
            .iter()
            .filter(|(_, o)| o.expires <= now)
            .map(|(h, _)| *h)
            .collect();
        for h in expired {
            self.remove(&h);
        }
    }

    fn remove(&mut self, hash: &BlockHash) -> Option<Block> {
        let o = self.by_hash.remove(hash)?;
        let parent = o.block.header.prev_blockhash;
        if let Some(v) = self.by_parent.get_mut(&parent) {
            v.retain(|h| h != hash);
            if v.is_empty() {
                self.by_parent.remove(&parent);
            }
        }
        Some(o.block)
    }

    /// Takes out the orphans whose parent is `parent`.
    pub fn take_children(&mut self, parent: &BlockHash) -> Vec<Block> {
        let hashes = self.by_parent.remove(parent).unwrap_or_default();
        hashes.iter().filter_map(|h| self.remove(h)).collect()
    }

    /// The first block of the orphan chain ending at `hash` (what to ask peers for the parent
    /// of), like btcd's `GetOrphanRoot`.
    pub fn root(&self, hash: &BlockHash) -> BlockHash {
        let mut cur = *hash;
        while let Some(o) = self.by_hash.get(&cur) {
            let parent = o.block.header.prev_blockhash;
            if !self.by_hash.contains_key(&parent) {
                break;
            }
            cur = parent;
        }
        cur
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::primitives::{BlockHeader, Hash256};

    fn block(prev: u8, nonce: u32) -> (BlockHash, Block) {
        let b = Block {
            header: BlockHeader {
                prev_blockhash: Hash256([prev; 32]),
                nonce,
                ..Default::default()
            },
            txdata: vec![],
        };
        (b.block_hash(), b)
    }

    #[test]
    fn bounded_and_expiring() {
        let mut o = OrphanBlocks::default();
        for i in 0..MAX_ORPHAN_BLOCKS as u32 + 5 {
            let (h, b) = block(1, i);
            o.add(h, b, 1000 + i as u64);
        }
        assert_eq!(o.len(), MAX_ORPHAN_BLOCKS);
        // The first five (earliest expiry) were evicted.
        assert!(!o.contains(&block(1, 0).0));
        assert!(o.contains(&block(1, 5).0));
        o.expire(1000 + ORPHAN_EXPIRY_SECS + 10);
        assert_eq!(o.len(), MAX_ORPHAN_BLOCKS - 6);
        assert_eq!(
            o.take_children(&Hash256([1; 32])).len(),
            MAX_ORPHAN_BLOCKS - 6
        );
        assert!(o.is_empty());
    }
}
