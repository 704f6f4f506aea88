//! A simulated node's committed block index, with each entry held once per run: a thousand
//! nodes on one chain commit the same entries (the same header, height, work, status and file
//! positions), and the in-memory store kept a copy of each per node (~230 bytes an entry with
//! its map's share: 45 KiB a node for the premined chain alone, heaptrack of the 1,000-node
//! bench). The run holds every distinct entry once ([`EntryTable`]) and each node only which
//! one it has for each block, both by number (8 bytes a block).

use rbtcd_core::chain::IndexEntry;
use rbtcd_core::primitives::BlockHash;
use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};

/// Every block any node of the run committed an entry of, and every distinct entry, each
/// numbered in the order first seen. Only looked up by block hash, never iterated, so its
/// hashing order cannot reach a run's outcome; the numbers follow the run's events, so they
/// replay too.
#[derive(Default)]
pub struct EntryTable(RefCell<Table>);

#[derive(Default)]
struct Table {
    /// The blocks' numbers.
    blocks: HashMap<BlockHash, u32>,
    /// Per block number, the numbers of its distinct entries (a block's entry changes a few
    /// times: header only, stored, connected; nodes on other branches or fault paths add
    /// others).
    variants: Vec<Vec<u32>>,
    entries: Vec<IndexEntry>,
}

impl EntryTable {
    /// The numbers of `entry`'s block and of `entry`, holding it if it is new.
    fn intern(&self, entry: &IndexEntry) -> (u32, u32) {
        let mut t = self.0.borrow_mut();
        let Table {
            blocks,
            variants,
            entries,
        } = &mut *t;
        let block = *blocks.entry(entry.hash).or_insert_with(|| {
            variants.push(Vec::new());
            u32::try_from(variants.len() - 1).expect("fewer than 2^32 blocks in a run")
        });
        let ids = &mut variants[block as usize];
        if let Some(id) = ids.iter().find(|id| entries[**id as usize] == *entry) {
            return (block, *id);
        }
        let id = u32::try_from(entries.len()).expect("fewer than 2^32 index entries in a run");
        entries.push(*entry);
        ids.push(id);
        (block, id)
    }

    /// The number of block `hash`, if any node committed an entry of it.
    fn block(&self, hash: &BlockHash) -> Option<u32> {
        self.0.borrow().blocks.get(hash).copied()
    }

    fn get(&self, id: u32) -> IndexEntry {
        self.0.borrow().entries[id as usize]
    }

    /// Distinct entries held.
    pub fn len(&self) -> usize {
        self.0.borrow().entries.len()
    }

    /// True when no entry is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// One node's committed index: for each block's number, the number of its entry.
#[derive(Clone, Default)]
pub struct NodeEntries(BTreeMap<u32, u32>);

impl NodeEntries {
    /// Adds or replaces the entry of `entry.hash`.
    pub fn put(&mut self, table: &EntryTable, entry: &IndexEntry) {
        let (block, id) = table.intern(entry);
        self.0.insert(block, id);
    }

    /// The entry of `hash`, if held.
    pub fn get(&self, table: &EntryTable, hash: &BlockHash) -> Option<IndexEntry> {
        let id = self.0.get(&table.block(hash)?)?;
        Some(table.get(*id))
    }

    /// Every entry held, in block hash order (the store's key order).
    pub fn all(&self, table: &EntryTable) -> Vec<IndexEntry> {
        let mut all: Vec<IndexEntry> = self.0.values().map(|id| table.get(*id)).collect();
        all.sort_unstable_by_key(|e| e.hash);
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rbtcd_core::chain::Status;
    use rbtcd_core::primitives::hash::Hash256;
    use rbtcd_core::primitives::BlockHeader;

    fn entry(n: u8, status: u8) -> IndexEntry {
        let header = BlockHeader {
            version: 1,
            prev_blockhash: Hash256([0; 32]),
            merkle_root: Hash256([n; 32]),
            time: 0,
            bits: 0x207f_ffff,
            nonce: u32::from(n),
        };
        IndexEntry::header_only(
            Hash256([n; 32]),
            header,
            u32::from(n),
            Default::default(),
            Status(status),
        )
    }

    #[test]
    fn nodes_share_entries_and_keep_their_own_versions() {
        let table = EntryTable::default();
        let (mut a, mut b) = (NodeEntries::default(), NodeEntries::default());
        a.put(&table, &entry(2, 1));
        a.put(&table, &entry(1, 1));
        b.put(&table, &entry(1, 1));
        assert_eq!(table.len(), 2, "the same entry held once");
        // b learns more of block 1 than a: its entry changes, a's does not.
        b.put(&table, &entry(1, 3));
        assert_eq!(table.len(), 3);
        assert_eq!(a.get(&table, &Hash256([1; 32])), Some(entry(1, 1)));
        assert_eq!(b.get(&table, &Hash256([1; 32])), Some(entry(1, 3)));
        assert_eq!(b.get(&table, &Hash256([2; 32])), None);
        assert_eq!(
            a.all(&table),
            [entry(1, 1), entry(2, 1)],
            "hash order, not the order first seen"
        );
        // Back to an entry already held: no new one.
        b.put(&table, &entry(1, 1));
        assert_eq!(table.len(), 3);
    }
}
