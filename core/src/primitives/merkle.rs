//! Merkle roots over transaction ids.

use super::hash::{sha256d, Hash256};

/// Hashes two nodes into their parent.
pub fn merkle_parent(a: &Hash256, b: &Hash256) -> Hash256 {
    let mut buf = [0u8; 64];
    buf[..32].copy_from_slice(&a.0);
    buf[32..].copy_from_slice(&b.0);
    Hash256(sha256d(&buf))
}

/// The merkle root of `leaves`, and whether the tree is mutated: some level had two identical
/// adjacent nodes at an even position, so a different transaction list (with a duplicated tail)
/// has the same root (CVE-2012-2459). An empty list has the zero root.
pub fn merkle_root(leaves: &[Hash256]) -> (Hash256, bool) {
    if leaves.is_empty() {
        return (Hash256::ZERO, false);
    }
    let mut level = leaves.to_vec();
    let mut mutated = false;
    while level.len() > 1 {
        for pair in level.chunks_exact(2) {
            mutated |= pair[0] == pair[1];
        }
        if level.len() % 2 == 1 {
            level.push(*level.last().expect("non-empty level"));
        }
        level = level
            .chunks_exact(2)
            .map(|p| merkle_parent(&p[0], &p[1]))
            .collect();
    }
    (level[0], mutated)
}

/// The BIP141 witness root: the merkle root of wtxids with the coinbase's replaced by zero.
pub fn witness_merkle_root(wtxids: &[Hash256]) -> Hash256 {
    let mut ids = wtxids.to_vec();
    if let Some(first) = ids.first_mut() {
        *first = Hash256::ZERO;
    }
    merkle_root(&ids).0
}

/// The merkle branch (sibling hashes from leaf to root) for the leaf at `index`; used by
/// templates to recompute the root when only the coinbase changes.
pub fn merkle_branch(leaves: &[Hash256], mut index: usize) -> Vec<Hash256> {
    let mut branch = Vec::new();
    let mut level = leaves.to_vec();
    while level.len() > 1 {
        if level.len() % 2 == 1 {
            level.push(*level.last().expect("non-empty level"));
        }
        branch.push(level[index ^ 1]);
        index /= 2;
        level = level
            .chunks_exact(2)
            .map(|p| merkle_parent(&p[0], &p[1]))
            .collect();
    }
    branch
}

/// The root reached from `leaf` at `index` through `branch`.
pub fn root_from_branch(leaf: Hash256, branch: &[Hash256], mut index: usize) -> Hash256 {
    let mut h = leaf;
    for sib in branch {
        h = if index & 1 == 1 {
            merkle_parent(sib, &h)
        } else {
            merkle_parent(&h, sib)
        };
        index /= 2;
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaves(n: u8) -> Vec<Hash256> {
        (0..n).map(|i| Hash256([i; 32])).collect()
    }

    #[test]
    fn duplicated_tail_gives_same_root_and_is_flagged() {
        let three = leaves(3);
        let mut four = three.clone();
        four.push(three[2]);
        let (r3, m3) = merkle_root(&three);
        let (r4, m4) = merkle_root(&four);
        assert_eq!(r3, r4);
        assert!(!m3);
        assert!(m4);
    }

    #[test]
    fn branches_reproduce_the_root() {
        for n in 1..12u8 {
            let l = leaves(n);
            let (root, _) = merkle_root(&l);
            for i in 0..l.len() {
                assert_eq!(root_from_branch(l[i], &merkle_branch(&l, i), i), root);
            }
        }
    }
}
