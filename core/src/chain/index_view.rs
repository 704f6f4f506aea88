//! The block index as of one moment, for readers beside the node: every entry by hash and the
//! main chain by height. It is the [`BlockIndex`](super::index::BlockIndex)'s own storage (the
//! arena of entries, the hash-to-slot table and the main chain, each a [`SharedVec`]), so
//! taking a view clones three pointers and holds no second copy of the index; the index's next
//! change copies only the leaves it touches, so a view never changes.

use super::index::{Arena, Slot};
use super::records::IndexEntry;
use super::shared_vec::SharedVec;
use super::slot_table::SlotTable;
use crate::primitives::BlockHash;

/// Main-chain slots per leaf: the 4 KiB a block connected after a view was taken copies.
const MAIN_LEAF: usize = 1024;

/// A consistent, immutable view of the block index (see the module).
#[derive(Clone, Debug)]
pub struct IndexView {
    /// Every entry, by slot.
    pub(super) nodes: Arena,
    pub(super) slots: SlotTable,
    /// The main chain by height, as slots: 4 bytes a block where its hash took 32. Changed
    /// only through [`IndexView::push_main`] and [`IndexView::pop_main`], which keep `tip`.
    pub(super) main: SharedVec<Slot, MAIN_LEAF>,
    /// The main chain's last slot: the tip is read far more often than it moves, and this
    /// saves the walk down `main`'s levels.
    pub(super) tip: Slot,
    /// Counts the changes made so far, so a publisher can tell a view is new.
    pub(super) generation: u64,
}

impl IndexView {
    /// The main chain grew by `slot`.
    pub(super) fn push_main(&mut self, slot: Slot) {
        self.main.push(slot);
        self.tip = slot;
    }

    /// The main chain lost its tip (never genesis).
    pub(super) fn pop_main(&mut self) {
        self.main.pop();
        self.tip = *self.main.last().expect("genesis stays on the main chain");
    }

    /// The slot of `hash`.
    pub(super) fn slot(&self, hash: &BlockHash) -> Option<Slot> {
        self.slots.get(hash, |s| self.nodes[s].entry.hash)
    }

    /// The entry of `hash`.
    pub fn get(&self, hash: &BlockHash) -> Option<&IndexEntry> {
        self.slot(hash).map(|s| &self.nodes[s].entry)
    }

    /// The main chain's block at `height`.
    pub fn main_at(&self, height: u32) -> Option<&BlockHash> {
        self.main
            .get(height as usize)
            .map(|s| &self.nodes[*s].entry.hash)
    }

    /// True when `hash` is on the main chain.
    pub fn is_main(&self, hash: &BlockHash) -> bool {
        self.slot(hash)
            .is_some_and(|s| self.main.get(self.nodes[s].entry.height as usize) == Some(&s))
    }

    /// The main chain's tip.
    pub fn tip(&self) -> &IndexEntry {
        &self.nodes[self.tip].entry
    }

    /// How many entries it holds.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Never true: genesis is always there.
    pub fn is_empty(&self) -> bool {
        self.nodes.len() == 0
    }

    /// Changes made to the index before this view was taken; a newer view has a higher count.
    pub fn generation(&self) -> u64 {
        self.generation
    }
}
