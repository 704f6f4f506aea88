//! A map whose copies share what they have in common: a 16-way trie over a 64-bit digest of
//! each key, its nodes behind `Arc`s. Cloning it clones one pointer; changing a copy copies
//! only the nodes on the changed key's path (O(log n)), and a node no other copy holds is
//! changed in place. So a writer can hand out a consistent copy after every change for the
//! price of the change, and readers on other threads keep theirs for as long as they like.

use std::sync::Arc;

/// Bits of the digest each level of the trie consumes.
const BITS: u32 = 4;
/// Children per branch.
const FANOUT: usize = 1 << BITS;

/// A key of a [`SharedMap`]: its 64-bit digest decides its path in the trie. Keys with equal
/// digests share a leaf, so a digest that many keys share costs only speed, never answers.
pub trait TrieKey: Clone + Eq {
    /// The key's digest; its low bits are used first, so they should be the ones that vary.
    fn digest(&self) -> u64;
}

impl TrieKey for u32 {
    fn digest(&self) -> u64 {
        u64::from(*self)
    }
}

impl TrieKey for crate::primitives::Hash256 {
    fn digest(&self) -> u64 {
        // A block hash's first bytes are its least significant, which proof of work leaves
        // random (the zeros it demands are at the other end); a txid's are random throughout.
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(&self.0[..8]);
        u64::from_le_bytes(bytes)
    }
}

impl TrieKey for crate::primitives::OutPoint {
    fn digest(&self) -> u64 {
        // The outputs of one transaction spread over different leaves.
        self.txid.digest() ^ u64::from(self.vout).rotate_left(32)
    }
}

/// A branch's children, one per value of the digest's nibble at its depth.
type Children<K, V> = [Option<Arc<Node<K, V>>>; FANOUT];

#[derive(Clone, Debug)]
enum Node<K, V> {
    /// Every entry whose digest is `digest`.
    Leaf {
        digest: u64,
        entries: Vec<(K, V)>,
    },
    Branch(Box<Children<K, V>>),
}

/// The child index of `digest` at trie depth `depth`.
fn nibble(digest: u64, depth: u32) -> usize {
    ((digest >> (depth * BITS)) as usize) & (FANOUT - 1)
}

/// A persistent map (see the module); `Clone` is O(1).
#[derive(Clone, Debug)]
pub struct SharedMap<K, V> {
    root: Option<Arc<Node<K, V>>>,
    len: usize,
    /// Inserts and removals so far, so a publisher can tell a copy is new.
    changes: u64,
}

impl<K, V> Default for SharedMap<K, V> {
    fn default() -> Self {
        SharedMap {
            root: None,
            len: 0,
            changes: 0,
        }
    }
}

impl<K: TrieKey, V: Clone> SharedMap<K, V> {
    /// The value of `key`.
    pub fn get(&self, key: &K) -> Option<&V> {
        let digest = key.digest();
        let mut node = self.root.as_deref()?;
        let mut depth = 0;
        loop {
            match node {
                Node::Leaf { entries, .. } => {
                    return entries.iter().find(|(k, _)| k == key).map(|(_, v)| v)
                }
                Node::Branch(children) => {
                    node = children[nibble(digest, depth)].as_deref()?;
                    depth += 1;
                }
            }
        }
    }

    /// Sets `key` to `value`.
    pub fn insert(&mut self, key: K, value: V) {
        let digest = key.digest();
        let added = match &mut self.root {
            None => {
                self.root = Some(Arc::new(Node::Leaf {
                    digest,
                    entries: vec![(key, value)],
                }));
                true
            }
            Some(root) => insert_at(root, 0, digest, key, value),
        };
        self.len += usize::from(added);
        self.changes += 1;
    }

    /// Removes `key`, returning its value. Emptied leaves and branches are dropped, so the
    /// trie never holds more nodes than its entries need.
    pub fn remove(&mut self, key: &K) -> Option<V> {
        // Looked up first, so removing an absent key copies no shared node.
        self.get(key)?;
        let root = self.root.as_mut()?;
        let removed = remove_at(root, 0, key.digest(), key)?;
        if is_empty_node(root) {
            self.root = None;
        }
        self.len -= 1;
        self.changes += 1;
        Some(removed)
    }

    /// Changes made so far (inserts and removals): a copy with a higher count is newer.
    pub fn changes(&self) -> u64 {
        self.changes
    }

    /// How many keys it holds.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether it holds no key.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// Inserts under `node` at `depth`; whether the key is new.
fn insert_at<K: TrieKey, V: Clone>(
    node: &mut Arc<Node<K, V>>,
    depth: u32,
    digest: u64,
    key: K,
    value: V,
) -> bool {
    let node = Arc::make_mut(node);
    let other = match node {
        Node::Leaf { digest: here, .. } if *here != digest => Some(*here),
        _ => None,
    };
    if let Some(here) = other {
        // Two digests: the leaf goes one level down, under a branch. They differ in some
        // nibble, so splitting ends before the digest's bits run out.
        let mut children: Box<Children<K, V>> = Box::default();
        let leaf = std::mem::replace(node, Node::Branch(Box::default()));
        children[nibble(here, depth)] = Some(Arc::new(leaf));
        *node = Node::Branch(children);
    }
    match node {
        Node::Leaf { entries, .. } => match entries.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => {
                slot.1 = value;
                false
            }
            None => {
                entries.push((key, value));
                true
            }
        },
        Node::Branch(children) => insert_child(children, depth, digest, key, value),
    }
}

/// Whether `node` holds no entry (a leaf emptied, or a branch without children).
fn is_empty_node<K, V>(node: &Node<K, V>) -> bool {
    match node {
        Node::Leaf { entries, .. } => entries.is_empty(),
        Node::Branch(children) => children.iter().all(Option::is_none),
    }
}

/// Removes `key` under `node` at `depth`, copying the nodes on its path that other copies
/// share.
fn remove_at<K: TrieKey, V: Clone>(
    node: &mut Arc<Node<K, V>>,
    depth: u32,
    digest: u64,
    key: &K,
) -> Option<V> {
    match Arc::make_mut(node) {
        Node::Leaf { entries, .. } => {
            let at = entries.iter().position(|(k, _)| k == key)?;
            Some(entries.swap_remove(at).1)
        }
        Node::Branch(children) => {
            let slot = &mut children[nibble(digest, depth)];
            let child = slot.as_mut()?;
            let removed = remove_at(child, depth + 1, digest, key)?;
            if is_empty_node(child) {
                *slot = None;
            }
            Some(removed)
        }
    }
}

fn insert_child<K: TrieKey, V: Clone>(
    children: &mut Children<K, V>,
    depth: u32,
    digest: u64,
    key: K,
    value: V,
) -> bool {
    match &mut children[nibble(digest, depth)] {
        Some(child) => insert_at(child, depth + 1, digest, key, value),
        empty @ None => {
            *empty = Some(Arc::new(Node::Leaf {
                digest,
                entries: vec![(key, value)],
            }));
            true
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    /// A key whose digest is chosen, so tests can make keys share digests and paths.
    #[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
    struct Key(u64, u8);

    impl TrieKey for Key {
        fn digest(&self) -> u64 {
            self.0
        }
    }

    #[test]
    fn answers_as_a_btree_map_including_shared_digests() {
        let mut map = SharedMap::default();
        let mut model = BTreeMap::new();
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for i in 0..3000u64 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            // Some digests repeat, some differ only in high bits.
            let digest = match i % 3 {
                0 => x,
                1 => x % 50,
                _ => (x % 4) << 60,
            };
            let key = Key(digest, (i % 5) as u8);
            map.insert(key.clone(), i);
            model.insert(key, i);
            assert_eq!(map.len(), model.len());
        }
        for (k, v) in &model {
            assert_eq!(map.get(k), Some(v), "{k:?}");
        }
        assert_eq!(map.get(&Key(7, 200)), None);
        assert_eq!(map.get(&Key(u64::MAX, 0)), None);
    }

    #[test]
    fn removals_answer_as_a_btree_map_and_leave_copies_alone() {
        let mut map = SharedMap::default();
        let mut model = BTreeMap::new();
        for i in 0..2000u64 {
            // Shared digests and long shared paths, as above.
            let key = Key(
                if i % 2 == 0 { i * 0x9e37_79b9 } else { i % 40 },
                (i % 3) as u8,
            );
            map.insert(key.clone(), i);
            model.insert(key, i);
        }
        let before = map.clone();
        let all: Vec<Key> = model.keys().cloned().collect();
        for (n, k) in all.iter().enumerate().filter(|(n, _)| n % 3 != 0) {
            assert_eq!(map.remove(k), model.remove(k), "{n}");
            assert_eq!(map.remove(k), None);
        }
        assert_eq!(map.remove(&Key(u64::MAX, 9)), None);
        assert_eq!(map.len(), model.len());
        for k in &all {
            assert_eq!(map.get(k), model.get(k));
            assert!(before.get(k).is_some());
        }
        for k in &all {
            map.remove(k);
        }
        assert!(map.is_empty());
        assert!(map.root.is_none(), "emptied nodes are dropped");
        assert_eq!(before.len(), all.len());
    }

    #[test]
    fn every_change_counts() {
        let mut map = SharedMap::default();
        map.insert(1u32, 1);
        map.insert(1u32, 2);
        assert_eq!(map.changes(), 2);
        assert_eq!(map.remove(&7), None);
        assert_eq!(map.changes(), 2, "removing nothing changes nothing");
        assert_eq!(map.remove(&1), Some(2));
        assert_eq!(map.changes(), 3);
    }

    #[test]
    fn a_copy_keeps_what_it_saw_while_the_original_changes() {
        let mut map = SharedMap::default();
        for h in 0..1000u32 {
            map.insert(h, h);
        }
        let before = map.clone();
        for h in 500..1500u32 {
            map.insert(h, h + 1);
        }
        assert_eq!(before.len(), 1000);
        assert_eq!(map.len(), 1500);
        for h in 0..1500u32 {
            let old = (h < 1000).then_some(h);
            assert_eq!(before.get(&h).copied(), old);
            let new = if h < 500 { h } else { h + 1 };
            assert_eq!(map.get(&h).copied(), Some(new));
        }
    }

    #[test]
    fn a_change_after_a_copy_copies_only_its_path() {
        let mut map = SharedMap::default();
        for h in 0..4096u32 {
            map.insert(h, h);
        }
        let copy = map.clone();
        map.insert(77, 0);
        // Every child of the root but the one on 77's path is still shared with the copy.
        let (Some(Node::Branch(a)), Some(Node::Branch(b))) =
            (map.root.as_deref(), copy.root.as_deref())
        else {
            panic!("a branch at the root")
        };
        let shared = a
            .iter()
            .zip(b.iter())
            .filter(|(x, y)| match (x, y) {
                (Some(x), Some(y)) => Arc::ptr_eq(x, y),
                _ => false,
            })
            .count();
        assert_eq!(shared, FANOUT - 1);
    }
}
