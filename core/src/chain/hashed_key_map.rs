//! Hash maps for keys that are themselves hashes (block hashes, outpoints): their first eight
//! bytes are already uniformly spread, so hashing them again is wasted work, and a fixed hasher
//! keeps iteration order the same from run to run (no per-process random keys).

// A fixed hasher: iteration order depends on the keys alone, the same in every run.
#[allow(clippy::disallowed_types)]
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// Folds the leading bytes of each write into the state; length prefixes are ignored.
#[derive(Default, Clone, Copy)]
pub struct HashedKeyHasher(u64);

impl Hasher for HashedKeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut word = [0u8; 8];
        let n = bytes.len().min(8);
        word[..n].copy_from_slice(&bytes[..n]);
        self.0 = self.0.rotate_left(29) ^ u64::from_le_bytes(word);
    }

    fn write_usize(&mut self, _: usize) {}
}

/// A `HashMap` over hash-like keys with [`HashedKeyHasher`].
#[allow(clippy::disallowed_types)]
pub type HashedKeyMap<K, V> = HashMap<K, V, BuildHasherDefault<HashedKeyHasher>>;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::primitives::{Hash256, OutPoint};
    use std::hash::{BuildHasher, Hash};

    fn hash_of(v: impl Hash) -> u64 {
        BuildHasherDefault::<HashedKeyHasher>::default().hash_one(v)
    }

    #[test]
    fn distinct_outputs_of_one_transaction_hash_differently() {
        let t = Hash256([7; 32]);
        assert_ne!(hash_of(OutPoint::new(t, 0)), hash_of(OutPoint::new(t, 1)));
        assert_ne!(hash_of(Hash256([1; 32])), hash_of(Hash256([2; 32])));
    }
}
