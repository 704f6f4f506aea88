//! The block index as of one moment, for readers beside the node: every entry by hash and the
//! main chain by height, kept by the [`BlockIndex`](super::index::BlockIndex) as it changes
//! (once asked to, [`BlockIndex::keep_view`](super::index::BlockIndex::keep_view)) in
//! [`SharedMap`]s. Taking a copy costs a few pointer clones however long the chain; the
//! index's next change copies only what it touches, so the copy never changes.

use super::records::IndexEntry;
use super::shared_map::SharedMap;
use crate::primitives::BlockHash;

/// A consistent, immutable copy of the block index (see the module).
#[derive(Clone, Debug)]
pub struct IndexView {
    entries: SharedMap<BlockHash, IndexEntry>,
    /// Main-chain hashes by height; heights above `tip_height` are left from chains since
    /// disconnected and mean nothing.
    main: SharedMap<u32, BlockHash>,
    tip_height: u32,
    /// Counts the changes made so far, so a publisher can tell a copy is new.
    generation: u64,
}

impl IndexView {
    /// A view of `entries` with the main chain `main` (genesis first, never empty).
    pub(super) fn new<'a>(
        entries: impl Iterator<Item = &'a IndexEntry>,
        main: impl Iterator<Item = BlockHash>,
    ) -> IndexView {
        let mut view = IndexView {
            entries: SharedMap::default(),
            main: SharedMap::default(),
            tip_height: 0,
            generation: 0,
        };
        for e in entries {
            view.entries.insert(e.hash, *e);
        }
        for (height, hash) in main.enumerate() {
            view.main.insert(height as u32, hash);
            view.tip_height = height as u32;
        }
        view
    }

    /// An entry was added or changed.
    pub(super) fn record(&mut self, entry: IndexEntry) {
        self.entries.insert(entry.hash, entry);
        self.generation += 1;
    }

    /// The main chain grew by `hash` at `height`.
    pub(super) fn push_main(&mut self, height: u32, hash: BlockHash) {
        self.main.insert(height, hash);
        self.tip_height = height;
        self.generation += 1;
    }

    /// The main chain's tip was disconnected.
    pub(super) fn pop_main(&mut self) {
        self.tip_height = self.tip_height.saturating_sub(1);
        self.generation += 1;
    }

    /// The entry of `hash`.
    pub fn get(&self, hash: &BlockHash) -> Option<&IndexEntry> {
        self.entries.get(hash)
    }

    /// The main chain's block at `height`.
    pub fn main_at(&self, height: u32) -> Option<&BlockHash> {
        (height <= self.tip_height)
            .then(|| self.main.get(&height))
            .flatten()
    }

    /// True when `hash` is on the main chain.
    pub fn is_main(&self, hash: &BlockHash) -> bool {
        self.get(hash)
            .is_some_and(|e| self.main_at(e.height) == Some(hash))
    }

    /// The main chain's tip.
    pub fn tip(&self) -> &IndexEntry {
        self.main_at(self.tip_height)
            .and_then(|hash| self.get(hash))
            .expect("the main chain's blocks are indexed")
    }

    /// How many entries it holds.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Never true: genesis is always there.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Changes made to the index before this copy was taken; a newer copy has a higher count.
    pub fn generation(&self) -> u64 {
        self.generation
    }
}
