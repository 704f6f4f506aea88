//! The block index in memory: every known header with its work and status, the children of
//! each block, and the main chain by height.
//!
//! It scales with the chain as Core's does: entries live in an arena with parent and skip
//! links (Core's `pprev`/`pskip`), so any ancestor is found in O(log n) steps and the fork
//! point of two chains in O(log² n); whether a block's whole path has data ("linked", Core's
//! `nChainTx != 0`) is kept per entry and updated only for the blocks a change reaches; and
//! the best header comes from a small set of header tips instead of a scan of every entry.

use super::index_view::IndexView;
use super::records::{IndexEntry, Status};
use super::shared_vec::SharedVec;
use super::slot_table::SlotTable;
use crate::primitives::BlockHash;
use std::cmp::Reverse;
use std::collections::BTreeSet;

/// Blocks whose times give the median time past.
const MEDIAN_TIME_BLOCKS: usize = 11;

/// An entry's place in the arena.
pub(super) type Slot = u32;

/// An entry in the arena with what the index keeps beside it.
#[derive(Clone, Debug)]
pub(super) struct Node {
    pub(super) entry: IndexEntry,
    /// Arrival order, so that between equal-work chains the first seen wins.
    seq: u64,
    parent: Option<Slot>,
    /// An ancestor further back (at [`skip_height`]), for logarithmic ancestor walks.
    skip: Option<Slot>,
    /// The first child indexed and the next sibling: a block's children in the order they
    /// were indexed, without a list per entry (a `Vec` of their hashes took 128 bytes of heap
    /// for every block with a child, more than the entry itself).
    first_child: Option<Slot>,
    next_sibling: Option<Slot>,
    /// This block and every ancestor have data and none is invalid.
    linked: bool,
}

/// Nodes per leaf of the [`Arena`]: 32 of ~230 bytes, the ~7 KiB a change to an entry copies
/// while a view shares its leaf.
const ARENA_LEAF: usize = 32;

/// The entries by slot, in leaves that never move: growth adds a leaf where one array doubled,
/// so at most one leaf's worth is unused and nothing is copied (a thousand simulated nodes each
/// held a doubled array of ~250-byte entries half empty). Views share the leaves.
#[derive(Clone, Debug, Default)]
pub(super) struct Arena(SharedVec<Node, ARENA_LEAF>);

impl Arena {
    pub(super) fn len(&self) -> usize {
        self.0.len()
    }

    /// Adds `node` at the next slot, which it returns.
    fn push(&mut self, node: Node) -> Slot {
        let slot = self.len() as Slot;
        self.0.push(node);
        slot
    }

    fn iter(&self) -> impl Iterator<Item = &Node> {
        self.0.iter()
    }
}

impl std::ops::Index<Slot> for Arena {
    type Output = Node;

    fn index(&self, slot: Slot) -> &Node {
        &self.0[slot as usize]
    }
}

impl std::ops::IndexMut<Slot> for Arena {
    fn index_mut(&mut self, slot: Slot) -> &mut Node {
        &mut self.0[slot as usize]
    }
}

/// Header tips ordered so that the last one has the most work, the earliest arrival among
/// equals.
type TipKey = (crate::primitives::Work, Reverse<u64>, BlockHash);

/// All known headers; the main chain is the path from genesis to the tip.
#[derive(Clone, Debug)]
pub struct BlockIndex {
    /// The entries, their lookup by hash and the main chain, which views share.
    tables: IndexView,
    /// Headers that may lead the header chain and have no child that may: the best header is
    /// the last. Only these can have the most work among the eligible headers, since a child
    /// always has more work than its parent.
    header_tips: BTreeSet<TipKey>,
    /// Headers whose block arrived but failed the context-free checks. The copy may have been
    /// mutated in transit (the header itself is fine), so they are not marked invalid; they
    /// just stop leading the header chain until a good copy is stored, or sync would wait
    /// forever for a block nobody honest has. Kept in memory only.
    data_failed: BTreeSet<BlockHash>,
    /// Whether [`BlockIndex::view`] hands out views ([`BlockIndex::keep_view`]).
    view_kept: bool,
}

/// Core's `GetSkipHeight`: turn off the lowest set bit (twice, for odd heights, plus one), which
/// makes every height reachable from any higher one in O(log n) jumps.
fn skip_height(height: u32) -> u32 {
    let invert_lowest_one = |n: u32| n & n.wrapping_sub(1);
    match height {
        0 | 1 => 0,
        h if h & 1 == 1 => invert_lowest_one(invert_lowest_one(h - 1)) + 1,
        h => invert_lowest_one(h),
    }
}

impl BlockIndex {
    /// An index holding only `genesis`, which is the tip.
    pub fn new(genesis: IndexEntry) -> Self {
        let mut index = BlockIndex {
            tables: IndexView {
                nodes: Arena::default(),
                slots: SlotTable::default(),
                main: SharedVec::default(),
                tip: 0,
                generation: 0,
            },
            header_tips: BTreeSet::new(),
            data_failed: BTreeSet::new(),
            view_kept: false,
        };
        index.insert(genesis);
        index.tables.push_main(0);
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
        let mut slot = index
            .slot(tip)
            .ok_or(format!("tip {tip} is not in the index"))?;
        let mut main = Vec::new();
        loop {
            let n = index.node(slot);
            main.push(slot);
            match n.parent {
                Some(p) => slot = p,
                None => break,
            }
        }
        index.tables.main = SharedVec::default();
        for slot in main.into_iter().rev() {
            index.tables.push_main(slot);
        }
        Ok(index)
    }

    fn slot(&self, hash: &BlockHash) -> Option<Slot> {
        self.tables.slot(hash)
    }

    fn node(&self, slot: Slot) -> &Node {
        &self.tables.nodes[slot]
    }

    /// Adds or replaces an entry; a new entry's parent must already be present (except genesis).
    /// The links, header tips and best header follow.
    pub fn insert(&mut self, entry: IndexEntry) {
        if let Some(slot) = self.slot(&entry.hash) {
            self.update(slot, |index| {
                if entry.status.contains(Status::DATA_STORED) {
                    index.data_failed.remove(&entry.hash);
                }
                index.tables.nodes[slot].entry = entry;
            });
            self.changed();
            return;
        }
        let parent = (entry.height > 0)
            .then(|| self.slot(&entry.header.prev_blockhash))
            .flatten();
        let skip = parent.and_then(|p| self.ancestor_slot(p, skip_height(entry.height)));
        let linked = Self::has_own_data(&entry)
            && parent.is_none_or(|p| self.node(p).linked)
            && (parent.is_some() || entry.height == 0);
        let slot = self.tables.nodes.len() as Slot;
        self.tables.nodes.push(Node {
            entry,
            seq: u64::from(slot),
            parent,
            skip,
            first_child: None,
            next_sibling: None,
            linked,
        });
        self.tables
            .slots
            .insert(&entry.hash, slot, |s| self.tables.nodes[s].entry.hash);
        if let Some(p) = parent {
            match self.child_slots(p).last() {
                Some(last) => self.tables.nodes[last].next_sibling = Some(slot),
                None => self.tables.nodes[p].first_child = Some(slot),
            }
        }
        if self.eligible(slot) {
            self.header_tips.insert(self.tip_key(slot));
            if let Some(p) = parent {
                self.header_tips.remove(&self.tip_key(p));
            }
        }
        self.changed();
    }

    /// Counts a change a view can see.
    fn changed(&mut self) {
        self.tables.generation += 1;
    }

    /// From now on, [`BlockIndex::view`] hands out views.
    pub fn keep_view(&mut self) {
        self.view_kept = true;
    }

    /// The index as it is now, when [`BlockIndex::keep_view`] was called: a view that never
    /// changes, taken in O(1). While it is alive, the index's changes copy the leaves of its
    /// tables they touch (a connected block copies ~20 KiB; see the tables' leaf sizes).
    pub fn view(&self) -> Option<IndexView> {
        self.view_kept.then(|| self.tables.clone())
    }

    /// Changes a known entry with `change`, then brings the header tips and the links of its
    /// descendants up to date.
    fn update(&mut self, slot: Slot, change: impl FnOnce(&mut Self)) {
        let was_eligible = self.eligible(slot);
        change(self);
        if self.eligible(slot) != was_eligible {
            self.eligibility_changed(slot);
        }
        self.relink(slot);
    }

    /// The header tips after `slot` became eligible or stopped being so.
    fn eligibility_changed(&mut self, slot: Slot) {
        let key = self.tip_key(slot);
        let parent = self.node(slot).parent;
        if self.eligible(slot) {
            if !self.has_eligible_child(slot) {
                self.header_tips.insert(key);
            }
            if let Some(p) = parent {
                self.header_tips.remove(&self.tip_key(p));
            }
        } else {
            self.header_tips.remove(&key);
            if let Some(p) = parent.filter(|p| self.eligible(*p) && !self.has_eligible_child(*p)) {
                self.header_tips.insert(self.tip_key(p));
            }
        }
    }

    fn has_eligible_child(&self, slot: Slot) -> bool {
        self.child_slots(slot).any(|c| self.eligible(c))
    }

    /// The children of `slot`, in the order they were indexed.
    fn child_slots(&self, slot: Slot) -> impl Iterator<Item = Slot> + '_ {
        std::iter::successors(self.node(slot).first_child, |c| self.node(*c).next_sibling)
    }

    /// Recomputes whether `slot` is linked and, when that changed, its descendants.
    fn relink(&mut self, slot: Slot) {
        let mut stack = vec![slot];
        while let Some(s) = stack.pop() {
            let n = self.node(s);
            let linked = Self::has_own_data(&n.entry)
                && match n.parent {
                    Some(p) => self.node(p).linked,
                    None => n.entry.height == 0,
                };
            if linked == n.linked {
                continue;
            }
            self.tables.nodes[s].linked = linked;
            stack.extend(self.child_slots(s));
        }
    }

    fn has_own_data(entry: &IndexEntry) -> bool {
        entry.status.contains(Status::DATA_STORED) && !entry.status.is_invalid()
    }

    fn tip_key(&self, slot: Slot) -> TipKey {
        let n = self.node(slot);
        (n.entry.chain_work, Reverse(n.seq), n.entry.hash)
    }

    /// The entry of `hash`.
    pub fn get(&self, hash: &BlockHash) -> Option<&IndexEntry> {
        self.tables.get(hash)
    }

    /// Arrival order of `hash` (lower arrived first).
    pub fn seq(&self, hash: &BlockHash) -> u64 {
        self.slot(hash).map_or(u64::MAX, |s| self.node(s).seq)
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.tables.nodes.len()
    }

    /// Never true: genesis is always present.
    pub fn is_empty(&self) -> bool {
        self.tables.nodes.len() == 0
    }

    /// Every entry, in arrival order.
    pub fn entries(&self) -> impl Iterator<Item = &IndexEntry> {
        self.tables.nodes.iter().map(|n| &n.entry)
    }

    /// Replaces the status of a known entry and returns the updated entry.
    pub fn set_status(&mut self, hash: &BlockHash, status: Status) -> Option<IndexEntry> {
        let slot = self.slot(hash)?;
        self.update(slot, |index| index.tables.nodes[slot].entry.status = status);
        self.changed();
        Some(self.node(slot).entry)
    }

    /// Notes that the block of `hash` arrived and failed its context-free checks; see
    /// `data_failed`.
    pub fn set_data_failed(&mut self, hash: &BlockHash) {
        let Some(slot) = self.slot(hash) else {
            return;
        };
        self.update(slot, |index| {
            index.data_failed.insert(*hash);
        });
    }

    /// Whether `slot` may lead the header chain: not invalid, and its data not failed.
    fn eligible(&self, slot: Slot) -> bool {
        let e = &self.node(slot).entry;
        !e.status.is_invalid() && !self.data_failed.contains(&e.hash)
    }

    /// True when `hash` and every block before it have data and none is known invalid: the
    /// block can be connected once its parent is the tip (Core's `HaveNumChainTxs`).
    pub fn is_linked(&self, hash: &BlockHash) -> bool {
        self.slot(hash).is_some_and(|s| self.node(s).linked)
    }

    /// Known children of `hash`, in the order they were indexed.
    pub fn children(&self, hash: &BlockHash) -> impl Iterator<Item = BlockHash> + '_ {
        self.slot(hash)
            .into_iter()
            .flat_map(|s| self.child_slots(s))
            .map(|c| self.node(c).entry.hash)
    }

    /// The header with the most work (it may lack block data).
    pub fn best_header(&self) -> &IndexEntry {
        // Genesis is never invalid, so some header is always eligible.
        match self.header_tips.last() {
            Some((_, _, hash)) => self.get(hash).expect("tips are indexed"),
            None => &self.node(self.tables.main[0]).entry,
        }
    }

    /// The main chain's tip.
    pub fn tip(&self) -> &IndexEntry {
        self.tables.tip()
    }

    /// The main chain's block at `height`.
    pub fn main_at(&self, height: u32) -> Option<&BlockHash> {
        self.tables.main_at(height)
    }

    /// True when `hash` is on the main chain.
    pub fn is_main(&self, hash: &BlockHash) -> bool {
        self.tables.is_main(hash)
    }

    /// Extends the main chain by a child of the tip.
    pub fn push_main(&mut self, hash: BlockHash) {
        debug_assert_eq!(
            self.get(&hash).map(|e| e.header.prev_blockhash),
            Some(self.tip().hash)
        );
        let slot = self.slot(&hash).expect("a main-chain block is indexed");
        self.tables.push_main(slot);
        self.changed();
    }

    /// Removes the tip from the main chain (it stays in the index).
    pub fn pop_main(&mut self) {
        debug_assert!(self.tables.main.len() > 1, "genesis cannot be disconnected");
        self.tables.pop_main();
        self.changed();
    }

    fn ancestor_slot(&self, from: Slot, height: u32) -> Option<Slot> {
        self.walk(from, height).map(|(slot, _)| slot)
    }

    /// Core's `GetAncestor`: follows a skip link whenever it does not overshoot and the
    /// parent's skip link would not get closer. Returns the ancestor and the hops taken.
    fn walk(&self, from: Slot, height: u32) -> Option<(Slot, u32)> {
        let mut slot = from;
        let mut at = self.node(slot).entry.height;
        if height > at {
            return None;
        }
        let mut hops = 0;
        while at > height {
            hops += 1;
            let n = self.node(slot);
            let (skip, skip_prev) = (skip_height(at), skip_height(at - 1));
            let worth_it =
                skip == height || (skip > height && !(skip_prev + 2 < skip && skip_prev >= height));
            match (n.skip, n.parent) {
                (Some(s), _) if worth_it => {
                    slot = s;
                    at = skip;
                }
                (_, Some(p)) => {
                    slot = p;
                    at -= 1;
                }
                _ => return None,
            }
        }
        Some((slot, hops))
    }

    /// The ancestor of `hash` at `height` (itself at its own height), in O(log n).
    pub fn ancestor(&self, hash: &BlockHash, height: u32) -> Option<&IndexEntry> {
        if self.is_main(hash) {
            let e = self.get(hash)?;
            return (height <= e.height)
                .then(|| self.get(self.main_at(height)?))
                .flatten();
        }
        let slot = self.ancestor_slot(self.slot(hash)?, height)?;
        Some(&self.node(slot).entry)
    }

    /// The median of the timestamps of `hash` and its ten predecessors (fewer near genesis).
    pub fn median_time_past(&self, hash: &BlockHash) -> u32 {
        let mut times = Vec::with_capacity(MEDIAN_TIME_BLOCKS);
        let mut cur = self.slot(hash);
        while let Some(s) = cur {
            let n = self.node(s);
            times.push(n.entry.header.time);
            if times.len() == MEDIAN_TIME_BLOCKS {
                break;
            }
            cur = n.parent;
        }
        times.sort_unstable();
        times.get(times.len() / 2).copied().unwrap_or(0)
    }

    /// The last block the chains ending at `a` and `b` share: a binary search over heights,
    /// each probe an O(log n) ancestor lookup.
    pub fn last_common_ancestor(&self, a: &BlockHash, b: &BlockHash) -> Option<&IndexEntry> {
        let (sa, sb) = (self.slot(a)?, self.slot(b)?);
        let top = self.node(sa).entry.height.min(self.node(sb).entry.height);
        let same = |h: u32| self.ancestor_slot(sa, h) == self.ancestor_slot(sb, h);
        if same(top) {
            return self.ancestor_slot(sa, top).map(|s| &self.node(s).entry);
        }
        // Genesis is shared; find the highest shared height below `top`.
        let (mut lo, mut hi) = (0, top);
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            match same(mid) {
                true => lo = mid,
                false => hi = mid,
            }
        }
        self.ancestor_slot(sa, lo).map(|s| &self.node(s).entry)
    }

    /// The last common block of the main chain and the chain ending at `hash`.
    pub fn fork_point(&self, hash: &BlockHash) -> Option<&IndexEntry> {
        let tip = self.tip().hash;
        self.last_common_ancestor(hash, &tip)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::builder::BlockBuilder;
    use crate::params::{Network, Params};

    fn entry_of(p: &Params, parent: &IndexEntry, tag: u8) -> IndexEntry {
        let b = BlockBuilder::new(p, parent.hash, parent.height + 1, parent.header.time)
            .tag(&[tag])
            .build();
        IndexEntry::header_only(
            b.block_hash(),
            b.header,
            parent.height + 1,
            parent.chain_work + b.header.work(),
            Status::HEADER_VALID,
        )
    }

    fn genesis(p: &Params) -> IndexEntry {
        IndexEntry::header_only(
            p.genesis_hash,
            p.genesis.header,
            0,
            p.genesis.header.work(),
            Status::HEADER_VALID
                .with(Status::DATA_STORED)
                .with(Status::VALID),
        )
    }

    /// A main chain of `main` blocks and a side branch of `side` blocks leaving it at `fork`.
    fn two_branches(
        main: u32,
        fork: u32,
        side: u32,
    ) -> (BlockIndex, Vec<IndexEntry>, Vec<IndexEntry>) {
        let p = Params::new(Network::Regtest);
        let g = genesis(&p);
        let mut index = BlockIndex::new(g);
        let mut a = vec![g];
        for _ in 0..main {
            let e = entry_of(&p, a.last().unwrap(), 0);
            index.insert(e);
            index.push_main(e.hash);
            a.push(e);
        }
        let mut b = vec![a[fork as usize]];
        for _ in 0..side {
            let e = entry_of(&p, b.last().unwrap(), 1);
            index.insert(e);
            b.push(e);
        }
        (index, a, b)
    }

    /// What `view` answers about `hashes` and heights up to `top`.
    type Answers = (
        Vec<(Option<IndexEntry>, bool)>,
        Vec<Option<BlockHash>>,
        BlockHash,
    );

    fn answers(view: &IndexView, hashes: &[BlockHash], top: u32) -> Answers {
        (
            hashes
                .iter()
                .map(|h| (view.get(h).copied(), view.is_main(h)))
                .collect(),
            (0..=top).map(|h| view.main_at(h).copied()).collect(),
            view.tip().hash,
        )
    }

    #[test]
    fn a_view_answers_as_at_its_moment_after_more_blocks_and_a_reorganization() {
        let p = Params::new(Network::Regtest);
        // Thousands of entries: many leaves of every table, and more than one branch.
        let (mut index, a, b) = two_branches(3000, 1000, 10);
        index.keep_view();
        let mut longer = b.clone();
        for _ in 0..2500 {
            let e = entry_of(&p, longer.last().unwrap(), 1);
            longer.push(e);
        }
        let hashes: Vec<BlockHash> = a.iter().chain(&longer[1..]).map(|e| e.hash).collect();
        let view = index.view().expect("a view is kept");
        let then = answers(&view, &hashes, 3600);
        assert_eq!(then.0.iter().filter(|(e, _)| e.is_some()).count(), 3011);
        assert_eq!(then.2, a[3000].hash);

        // The side branch grows past the main chain and takes over; entries on both change.
        for e in &longer[11..] {
            index.insert(*e);
        }
        index.set_status(&a[1500].hash, Status::INVALID);
        index.insert(IndexEntry {
            status: longer[5].status.with(Status::DATA_STORED),
            ..longer[5]
        });
        while index.tip().height > 1000 {
            index.pop_main();
        }
        for e in &longer[1..] {
            index.push_main(e.hash);
        }
        let now = index.view().unwrap();
        assert_eq!(now.tip().hash, longer.last().unwrap().hash);
        assert!(now.is_main(&longer[2000].hash) && !now.is_main(&a[2000].hash));
        assert!(now.get(&a[1500].hash).unwrap().status.is_invalid());
        assert!(now.generation() > view.generation());

        assert_eq!(
            answers(&view, &hashes, 3600),
            then,
            "the view never changes"
        );
        assert_eq!(view.len(), 3011);
        assert_eq!(view.main_at(3001), None);
        assert!(view.is_main(&a[2000].hash) && !view.is_main(&longer[2000].hash));
    }

    #[test]
    fn skip_heights_are_lower_and_reach_far() {
        for h in 2..5000u32 {
            assert!(skip_height(h) < h, "{h}");
        }
        assert_eq!(skip_height(1024), 0);
        assert_eq!(skip_height(1025), 1);
        assert_eq!(skip_height(1536), 1024);
    }

    #[test]
    fn ancestors_of_side_chains_match_a_walk_and_take_few_steps() {
        let (index, a, b) = two_branches(50, 20, 3000);
        let tip = b.last().unwrap();
        for h in [0, 1, 19, 20, 21, 500, 1023, 1024, 2999, 3000, 3020] {
            let want = if h <= 20 {
                a[h as usize]
            } else {
                b[(h - 20) as usize]
            };
            assert_eq!(index.ancestor(&tip.hash, h), Some(&want), "height {h}");
        }
        assert_eq!(index.ancestor(&tip.hash, 3021), None);
        // O(log n): no height takes more than a few dozen hops from 3020 blocks up.
        let slot = index.slot(&tip.hash).unwrap();
        let worst = (0..=tip.height)
            .map(|h| index.walk(slot, h).unwrap().1)
            .max()
            .unwrap();
        assert!(worst <= 64, "worst walk {worst} hops");
    }

    #[test]
    fn fork_points_and_common_ancestors_are_found() {
        let (index, a, b) = two_branches(40, 17, 60);
        assert_eq!(index.fork_point(&b.last().unwrap().hash), Some(&a[17]));
        assert_eq!(index.fork_point(&a[30].hash), Some(&a[30]));
        assert_eq!(
            index.last_common_ancestor(&a[40].hash, &b[5].hash),
            Some(&a[17])
        );
        assert_eq!(
            index.last_common_ancestor(&a[10].hash, &b[5].hash),
            Some(&a[10])
        );
    }

    #[test]
    fn the_best_header_follows_invalidity_without_a_scan() {
        let (mut index, a, b) = two_branches(10, 5, 8);
        assert_eq!(index.best_header().hash, b[8].hash, "13 beats 10");
        index.set_status(&b[6].hash, Status::INVALID);
        index.set_status(&b[7].hash, Status::INVALID_ANCESTOR);
        index.set_status(&b[8].hash, Status::INVALID_ANCESTOR);
        assert_eq!(
            index.best_header().hash,
            a[10].hash,
            "b5 ties at 10, a10 came first"
        );
        for e in &b[6..] {
            index.set_status(&e.hash, Status::HEADER_VALID);
        }
        assert_eq!(index.best_header().hash, b[8].hash);
        index.set_data_failed(&b[8].hash);
        assert_eq!(
            index.best_header().hash,
            b[7].hash,
            "its parent, 12 high, still beats 10"
        );
    }

    #[test]
    fn links_follow_data_along_the_path() {
        let (mut index, a, b) = two_branches(3, 3, 3);
        assert!(!index.is_linked(&a[1].hash), "headers only");
        let with_data = |e: &IndexEntry| IndexEntry {
            status: e.status.with(Status::DATA_STORED),
            ..*e
        };
        index.insert(with_data(&b[2]));
        index.insert(with_data(&b[3]));
        assert!(!index.is_linked(&b[3].hash), "parents lack data");
        for e in &a[1..] {
            index.insert(with_data(e));
        }
        assert!(index.is_linked(&a[3].hash));
        assert!(!index.is_linked(&b[3].hash), "b1 still lacks data");
        index.insert(with_data(&b[1]));
        assert!(
            index.is_linked(&b[3].hash),
            "the whole branch links at once"
        );
        index.set_status(&a[2].hash, Status::INVALID.with(Status::DATA_STORED));
        assert!(!index.is_linked(&b[3].hash) && !index.is_linked(&a[3].hash));
    }
}
