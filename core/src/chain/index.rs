//! The block index in memory: every known header with its work and status, the children of
//! each block, and the main chain by height.

use super::hashed_key_map::HashedKeyMap;
use super::records::{IndexEntry, Status};
use crate::primitives::BlockHash;
use std::collections::BTreeSet;

/// Blocks whose times give the median time past.
const MEDIAN_TIME_BLOCKS: usize = 11;

#[derive(Clone, Debug)]
struct Node {
    entry: IndexEntry,
    /// Arrival order, so that between equal-work chains the first seen wins.
    seq: u64,
}

/// All known headers; the main chain is the path from genesis to the tip.
#[derive(Clone, Debug)]
pub struct BlockIndex {
    nodes: HashedKeyMap<BlockHash, Node>,
    children: HashedKeyMap<BlockHash, Vec<BlockHash>>,
    main: Vec<BlockHash>,
    next_seq: u64,
    best_header: BlockHash,
    /// Headers whose block arrived but failed the context-free checks. The copy may have been
    /// mutated in transit (the header itself is fine), so they are not marked invalid; they
    /// just stop leading the header chain until a good copy is stored, or sync would wait
    /// forever for a block nobody honest has. Kept in memory only.
    data_failed: BTreeSet<BlockHash>,
}

impl BlockIndex {
    /// An index holding only `genesis`, which is the tip.
    pub fn new(genesis: IndexEntry) -> Self {
        let mut index = BlockIndex {
            nodes: HashedKeyMap::default(),
            children: HashedKeyMap::default(),
            main: vec![genesis.hash],
            next_seq: 0,
            best_header: genesis.hash,
            data_failed: BTreeSet::new(),
        };
        index.insert(genesis);
        index
    }

    /// Rebuilds the index from stored entries with the main chain ending at `tip`.
    pub fn load(mut entries: Vec<IndexEntry>, tip: &BlockHash) -> Result<Self, String> {
        entries.sort_by_key(|e| (e.height, e.hash));
        let mut it = entries.into_iter();
        let genesis = it
            .next()
            .filter(|g| g.height == 0)
            .ok_or("no genesis entry")?;
        let mut index = BlockIndex::new(genesis);
        for e in it {
            if index.get(&e.header.prev_blockhash).is_none() {
                return Err(format!("entry {} has no parent in the index", e.hash));
            }
            index.insert(e);
        }
        let mut main = Vec::new();
        let mut cur = index
            .get(tip)
            .ok_or(format!("tip {tip} is not in the index"))?;
        loop {
            main.push(cur.hash);
            if cur.height == 0 {
                break;
            }
            cur = &index.nodes[&cur.header.prev_blockhash].entry;
        }
        main.reverse();
        index.main = main;
        Ok(index)
    }

    /// Adds or replaces an entry; a new entry's parent must already be present (except genesis).
    pub fn insert(&mut self, entry: IndexEntry) {
        if let Some(old) = self.get(&entry.hash).copied() {
            let was_eligible = self.eligible(&old);
            if let Some(n) = self.nodes.get_mut(&entry.hash) {
                n.entry = entry;
            }
            if entry.status.contains(Status::DATA_STORED) {
                self.data_failed.remove(&entry.hash);
            }
            if self.eligible(&entry) != was_eligible {
                self.recompute_best_header();
            }
            return;
        }
        if entry.height > 0 {
            self.children
                .entry(entry.header.prev_blockhash)
                .or_default()
                .push(entry.hash);
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        if self.eligible(&entry)
            && entry.chain_work
                > self
                    .get(&self.best_header)
                    .map_or_else(Default::default, |b| b.chain_work)
        {
            self.best_header = entry.hash;
        }
        self.nodes.insert(entry.hash, Node { entry, seq });
    }

    /// The entry of `hash`.
    pub fn get(&self, hash: &BlockHash) -> Option<&IndexEntry> {
        self.nodes.get(hash).map(|n| &n.entry)
    }

    /// Arrival order of `hash` (lower arrived first).
    pub fn seq(&self, hash: &BlockHash) -> u64 {
        self.nodes.get(hash).map_or(u64::MAX, |n| n.seq)
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Never true: genesis is always present.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Every entry, in no meaningful (but reproducible) order.
    pub fn entries(&self) -> impl Iterator<Item = &IndexEntry> {
        self.nodes.values().map(|n| &n.entry)
    }

    /// Replaces the status of a known entry and returns the updated entry.
    pub fn set_status(&mut self, hash: &BlockHash, status: Status) -> Option<IndexEntry> {
        let n = self.nodes.get_mut(hash)?;
        let was_invalid = n.entry.status.is_invalid();
        n.entry.status = status;
        let entry = n.entry;
        if status.is_invalid() != was_invalid {
            self.recompute_best_header();
        }
        Some(entry)
    }

    /// Notes that the block of `hash` arrived and failed its context-free checks; see
    /// `data_failed`.
    pub fn set_data_failed(&mut self, hash: &BlockHash) {
        if self.nodes.contains_key(hash) && self.data_failed.insert(*hash) {
            self.recompute_best_header();
        }
    }

    /// Whether `entry` may lead the header chain: not invalid, and its data not failed.
    fn eligible(&self, entry: &IndexEntry) -> bool {
        !entry.status.is_invalid() && !self.data_failed.contains(&entry.hash)
    }

    /// The best header again after eligibility changed: most work, first arrival on ties (the
    /// same rule as arrival-time updates).
    fn recompute_best_header(&mut self) {
        let mut best: Option<(&IndexEntry, u64)> = None;
        for n in self.nodes.values() {
            if !self.eligible(&n.entry) {
                continue;
            }
            let better = best.is_none_or(|(b, seq)| {
                n.entry.chain_work > b.chain_work
                    || (n.entry.chain_work == b.chain_work && n.seq < seq)
            });
            if better {
                best = Some((&n.entry, n.seq));
            }
        }
        // Genesis is never invalid, so some header is always eligible.
        self.best_header = best.map_or(self.main[0], |(e, _)| e.hash);
    }

    /// Known children of `hash`.
    pub fn children(&self, hash: &BlockHash) -> &[BlockHash] {
        self.children.get(hash).map_or(&[], Vec::as_slice)
    }

    /// The header with the most work (it may lack block data).
    pub fn best_header(&self) -> &IndexEntry {
        &self.nodes[&self.best_header].entry
    }

    /// The main chain's tip.
    pub fn tip(&self) -> &IndexEntry {
        &self.nodes[self
            .main
            .last()
            .expect("genesis is always on the main chain")]
        .entry
    }

    /// The main chain's block at `height`.
    pub fn main_at(&self, height: u32) -> Option<&BlockHash> {
        self.main.get(height as usize)
    }

    /// True when `hash` is on the main chain.
    pub fn is_main(&self, hash: &BlockHash) -> bool {
        self.get(hash)
            .is_some_and(|e| self.main_at(e.height) == Some(hash))
    }

    /// Extends the main chain by a child of the tip.
    pub fn push_main(&mut self, hash: BlockHash) {
        debug_assert_eq!(
            self.get(&hash).map(|e| e.header.prev_blockhash),
            Some(self.tip().hash)
        );
        self.main.push(hash);
    }

    /// Removes the tip from the main chain (it stays in the index).
    pub fn pop_main(&mut self) {
        debug_assert!(self.main.len() > 1, "genesis cannot be disconnected");
        self.main.pop();
    }

    /// The ancestor of `hash` at `height` (itself at its own height).
    pub fn ancestor(&self, hash: &BlockHash, height: u32) -> Option<&IndexEntry> {
        let mut e = self.get(hash)?;
        if height > e.height {
            return None;
        }
        // Walk back until the path joins the main chain, then jump by height.
        while e.height > height && !self.is_main(&e.hash) {
            e = self.get(&e.header.prev_blockhash)?;
        }
        match e.height == height {
            true => Some(e),
            false => self.get(self.main_at(height)?),
        }
    }

    /// The median of the timestamps of `hash` and its ten predecessors (fewer near genesis).
    pub fn median_time_past(&self, hash: &BlockHash) -> u32 {
        let mut times = Vec::with_capacity(MEDIAN_TIME_BLOCKS);
        let mut cur = self.get(hash);
        while let Some(e) = cur {
            times.push(e.header.time);
            if times.len() == MEDIAN_TIME_BLOCKS || e.height == 0 {
                break;
            }
            cur = self.get(&e.header.prev_blockhash);
        }
        times.sort_unstable();
        times.get(times.len() / 2).copied().unwrap_or(0)
    }

    /// The last common block of the main chain and the chain ending at `hash`.
    pub fn fork_point(&self, hash: &BlockHash) -> Option<&IndexEntry> {
        let mut e = self.get(hash)?;
        while !self.is_main(&e.hash) {
            e = self.get(&e.header.prev_blockhash)?;
        }
        Some(e)
    }
}
