//! The block index's lookup from block hash to arena slot: an open-addressing table of slots
//! alone, the hash of each read from the arena. A map holding each hash again beside its slot
//! took ~40 bytes a bucket (36 of them the key); this takes 4, at most half the buckets full.
//! Entries are never removed from the index, so neither are they here. The buckets are a
//! [`SharedVec`], so a view of the index shares them: a header indexed after a view was taken
//! copies the one leaf of [`LEAF`] buckets (2 KiB) it lands in.

use super::shared_vec::SharedVec;
use crate::primitives::BlockHash;

/// An empty bucket.
const EMPTY: u32 = u32::MAX;

/// Buckets per leaf of the table.
const LEAF: usize = 512;

/// Block hash to slot (see the module docs). Every method that probes takes the arena's view,
/// `hash_of`, giving the hash of a slot already inserted.
#[derive(Clone, Debug, Default)]
pub(super) struct SlotTable {
    buckets: SharedVec<u32, LEAF>,
    len: usize,
}

/// Where probing for `hash` starts in `buckets` buckets (a power of two). A block hash's
/// first bytes are already uniform: proof of work constrains its last ones.
fn start(hash: &BlockHash, buckets: usize) -> usize {
    let word = u64::from_le_bytes(hash.0[..8].try_into().expect("8 bytes"));
    word as usize & (buckets - 1)
}

impl SlotTable {
    /// The slot of `hash`, if inserted.
    pub(super) fn get(&self, hash: &BlockHash, hash_of: impl Fn(u32) -> BlockHash) -> Option<u32> {
        if self.buckets.is_empty() {
            return None;
        }
        let mask = self.buckets.len() - 1;
        let mut at = start(hash, self.buckets.len());
        loop {
            match self.buckets[at] {
                EMPTY => return None,
                slot if hash_of(slot) == *hash => return Some(slot),
                _ => at = (at + 1) & mask,
            }
        }
    }

    /// Inserts `slot`, whose hash is `hash`, not yet in the table.
    pub(super) fn insert(
        &mut self,
        hash: &BlockHash,
        slot: u32,
        hash_of: impl Fn(u32) -> BlockHash,
    ) {
        debug_assert!(slot != EMPTY, "slot numbers stay below u32::MAX");
        if 2 * (self.len + 1) > self.buckets.len() {
            let old = std::mem::take(&mut self.buckets);
            self.buckets = SharedVec::filled(EMPTY, (old.len() * 2).max(16));
            for &s in old.iter().filter(|s| **s != EMPTY) {
                self.place(&hash_of(s), s);
            }
        }
        self.place(hash, slot);
        self.len += 1;
    }

    fn place(&mut self, hash: &BlockHash, slot: u32) {
        let mask = self.buckets.len() - 1;
        let mut at = start(hash, self.buckets.len());
        while self.buckets[at] != EMPTY {
            at = (at + 1) & mask;
        }
        self.buckets[at] = slot;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::primitives::hash::Hash256;

    #[test]
    fn finds_every_slot_inserted_through_growth_and_colliding_starts() {
        // Hashes whose first bytes agree in the low bits share a start: they probe past
        // each other.
        let hashes: Vec<BlockHash> = (0..1000u32)
            .map(|n| {
                let mut h = [0u8; 32];
                h[..4].copy_from_slice(&(n % 7 * 1024).to_le_bytes());
                h[8..12].copy_from_slice(&n.to_le_bytes());
                Hash256(h)
            })
            .collect();
        let hash_of = |s: u32| hashes[s as usize];
        let mut table = SlotTable::default();
        assert_eq!(table.get(&hashes[0], hash_of), None);
        for (slot, hash) in hashes.iter().enumerate() {
            table.insert(hash, slot as u32, hash_of);
            assert_eq!(table.get(hash, hash_of), Some(slot as u32));
        }
        for (slot, hash) in hashes.iter().enumerate() {
            assert_eq!(table.get(hash, hash_of), Some(slot as u32));
        }
        assert_eq!(table.get(&Hash256([9; 32]), hash_of), None);
        assert!(
            table.buckets.len() <= 4 * hashes.len(),
            "at most half full, doubling"
        );
    }
}
