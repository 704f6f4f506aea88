//! A vector whose copies share what they have in common: elements in leaves of `LEAF`, leaves
//! in branches of [`FANOUT`], branches under one root, each level behind an `Arc`. Cloning it
//! clones one pointer; changing an element goes through `Arc::make_mut` at each level, so a
//! change after a copy was taken copies the root, one branch and one leaf (the copy keeps the
//! old ones), and a change with no copy alive copies nothing. The block index keeps its tables
//! in these so that a view of it for readers beside the node costs no second copy of the
//! index.

use std::sync::Arc;

/// Leaves per branch: with 64, a mainnet-sized arena (900,000 entries in leaves of 32) has a
/// root of ~440 branches, so the root a change copies stays a few KiB.
const FANOUT: usize = 64;

/// A leaf grows in place as elements are pushed.
type Leaf<T> = Arc<Vec<T>>;
/// Branches and the root are slices, rebuilt when they gain or lose a child (once a leaf's or
/// a branch's worth of pushes): a read goes through one pointer fewer at each level than a
/// `Vec` would need, and reads are what a node does most with its block index.
type Branch<T> = Arc<[Leaf<T>]>;

/// A persistent vector (see the module); `Clone` is O(1).
#[derive(Debug)]
pub struct SharedVec<T, const LEAF: usize> {
    root: Arc<[Branch<T>]>,
    len: usize,
}

/// `slice` with `child` added at the end.
fn grown<X: Clone>(slice: &Arc<[X]>, child: X) -> Arc<[X]> {
    slice.iter().cloned().chain([child]).collect()
}

/// `slice` without its last child.
fn shrunk<X: Clone>(slice: &Arc<[X]>) -> Arc<[X]> {
    slice[..slice.len().saturating_sub(1)]
        .iter()
        .cloned()
        .collect()
}

impl<T, const LEAF: usize> Clone for SharedVec<T, LEAF> {
    fn clone(&self) -> Self {
        SharedVec {
            root: Arc::clone(&self.root),
            len: self.len,
        }
    }
}

impl<T, const LEAF: usize> Default for SharedVec<T, LEAF> {
    fn default() -> Self {
        SharedVec {
            root: Arc::default(),
            len: 0,
        }
    }
}

impl<T: Clone, const LEAF: usize> SharedVec<T, LEAF> {
    /// Elements under one branch.
    const SPAN: usize = LEAF * FANOUT;

    /// `len` copies of `value`.
    pub fn filled(value: T, len: usize) -> Self {
        let leaves = (0..len.div_ceil(LEAF))
            .map(|l| Arc::new(vec![value.clone(); (len - l * LEAF).min(LEAF)]));
        let leaves: Vec<Leaf<T>> = leaves.collect();
        SharedVec {
            root: leaves.chunks(FANOUT).map(Branch::from).collect(),
            len,
        }
    }

    /// How many elements it holds.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The element at `i`.
    pub fn get(&self, i: usize) -> Option<&T> {
        (i < self.len).then(|| &self.root[i / Self::SPAN][i / LEAF % FANOUT][i % LEAF])
    }

    /// The element at `i`, to change: its leaf and the levels above are copied first when a
    /// copy of this vector shares them.
    pub fn get_mut(&mut self, i: usize) -> Option<&mut T> {
        if i >= self.len {
            return None;
        }
        let branch = Arc::make_mut(&mut Arc::make_mut(&mut self.root)[i / Self::SPAN]);
        let leaf = Arc::make_mut(&mut branch[i / LEAF % FANOUT]);
        Some(&mut leaf[i % LEAF])
    }

    /// The last element.
    pub fn last(&self) -> Option<&T> {
        self.len.checked_sub(1).and_then(|i| self.get(i))
    }

    /// Appends `value`.
    pub fn push(&mut self, value: T) {
        if self.len.is_multiple_of(Self::SPAN) {
            self.root = grown(&self.root, Branch::default());
        }
        let root = Arc::make_mut(&mut self.root);
        let branch = root.last_mut().expect("a branch was just ensured");
        if self.len.is_multiple_of(LEAF) {
            *branch = grown(branch, Leaf::default());
        }
        let branch = Arc::make_mut(branch);
        let leaf = Arc::make_mut(branch.last_mut().expect("a leaf was just ensured"));
        if leaf.len() == leaf.capacity() {
            // Doubling, but never past a whole leaf: short vectors (a simulated node's chain)
            // stay small, and a full leaf has no spare room.
            leaf.reserve_exact((2 * leaf.len()).max(4).min(LEAF) - leaf.len());
        }
        leaf.push(value);
        self.len += 1;
    }

    /// Removes the last element; a leaf or branch it leaves empty goes with it.
    pub fn pop(&mut self) -> Option<T> {
        self.len = self.len.checked_sub(1)?;
        let root = Arc::make_mut(&mut self.root);
        let branch = root.last_mut().expect("a non-empty vector has a branch");
        let leaves = Arc::make_mut(branch);
        let leaf = Arc::make_mut(leaves.last_mut().expect("and a leaf"));
        let value = leaf.pop();
        if leaf.is_empty() {
            *branch = shrunk(branch);
            if branch.is_empty() {
                self.root = shrunk(&self.root);
            }
        }
        value
    }

    /// The elements in order.
    pub fn iter(&self) -> impl Iterator<Item = &T> {
        self.root
            .iter()
            .flat_map(|b| b.iter())
            .flat_map(|l| l.iter())
    }
}

impl<T: Clone, const LEAF: usize> std::ops::Index<usize> for SharedVec<T, LEAF> {
    type Output = T;

    fn index(&self, i: usize) -> &T {
        self.get(i).expect("index within the vector")
    }
}

impl<T: Clone, const LEAF: usize> std::ops::IndexMut<usize> for SharedVec<T, LEAF> {
    fn index_mut(&mut self, i: usize) -> &mut T {
        self.get_mut(i).expect("index within the vector")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Leaves of 4, so a few hundred elements span several branches.
    type Small = SharedVec<u32, 4>;

    fn leaves_shared(a: &Small, b: &Small) -> usize {
        let leaves = |v: &Small| -> Vec<*const Vec<u32>> {
            v.root
                .iter()
                .flat_map(|b| b.iter())
                .map(Arc::as_ptr)
                .collect()
        };
        let (a, b) = (leaves(a), leaves(b));
        a.iter().zip(&b).filter(|(x, y)| x == y).count()
    }

    #[test]
    fn answers_as_a_vec_through_pushes_pops_and_changes() {
        let mut v = Small::default();
        let mut model = Vec::new();
        for i in 0..700u32 {
            v.push(i);
            model.push(i);
            if i % 7 == 0 {
                v[(i / 2) as usize] += 1000;
                model[(i / 2) as usize] += 1000;
            }
            if i % 5 == 0 {
                assert_eq!(v.pop(), model.pop());
            }
            assert_eq!(v.len(), model.len());
            assert_eq!(v.last(), model.last());
        }
        assert!(v.iter().eq(model.iter()));
        assert_eq!(v.get(model.len()), None);
        while let Some(x) = model.pop() {
            assert_eq!(v.pop(), Some(x));
        }
        assert_eq!(v.pop(), None);
        assert!(
            v.is_empty() && v.root.is_empty(),
            "empty levels are dropped"
        );
        let f = Small::filled(9, 300);
        assert_eq!(f.len(), 300);
        assert!(f.iter().all(|x| *x == 9) && f.iter().count() == 300);
    }

    #[test]
    fn a_copy_keeps_what_it_saw_and_a_change_copies_one_leaf() {
        let mut v = Small::default();
        for i in 0..1000u32 {
            v.push(i);
        }
        let copy = v.clone();
        v[10] = 0;
        v.push(1000);
        let leaves = 1000 / 4;
        assert_eq!(
            leaves_shared(&v, &copy),
            leaves - 1,
            "only the changed leaf is copied (the push began a new leaf)"
        );
        for _ in 0..600 {
            v.pop();
        }
        v[0] = 77;
        assert!(copy.iter().copied().eq(0..1000), "the copy never changes");
        assert_eq!(v.len(), 401);
        assert_eq!((v[0], v[10], v[400]), (77, 0, 400));
    }

    #[test]
    fn with_no_copy_alive_a_change_copies_nothing() {
        let mut v = Small::filled(0, 1000);
        let before = v.clone();
        drop(before);
        let root = Arc::as_ptr(&v.root);
        let leaf = Arc::as_ptr(&v.root[3][5]);
        v[3 * 4 * FANOUT + 5 * 4] = 1;
        v.push(2);
        v.pop();
        assert_eq!(Arc::as_ptr(&v.root), root);
        assert_eq!(Arc::as_ptr(&v.root[3][5]), leaf);
    }
}
