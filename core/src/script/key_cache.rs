//! A bounded cache of parsed public keys. Parsing a compressed or x-only key decompresses it
//! (a field square root), which costs about a tenth of a signature check; a key that signs
//! again (address reuse, a wallet's change key, many inputs of one transaction) is parsed
//! once. Only keys that parse are kept, so a hit is exactly what parsing would return.

use secp256k1::{PublicKey, XOnlyPublicKey};
use std::collections::{BTreeMap, VecDeque};
use std::sync::{Mutex, MutexGuard};

/// Keys kept by default (some 3 MB at most).
pub const DEFAULT_KEY_CACHE_ENTRIES: usize = 20_000;

/// Parsed keys of one kind, oldest first in `order`.
struct Parsed<K> {
    map: BTreeMap<Vec<u8>, K>,
    order: VecDeque<Vec<u8>>,
}

impl<K> Default for Parsed<K> {
    fn default() -> Self {
        Parsed {
            map: BTreeMap::new(),
            order: VecDeque::new(),
        }
    }
}

/// Up to `capacity` parsed ECDSA keys and as many x-only (BIP340) keys, the oldest evicted
/// first. Safe to share between the script-check threads.
pub struct KeyCache {
    capacity: usize,
    ecdsa: Mutex<Parsed<PublicKey>>,
    x_only: Mutex<Parsed<XOnlyPublicKey>>,
}

impl std::fmt::Debug for KeyCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyCache")
            .field("capacity", &self.capacity)
            .finish()
    }
}

/// Locks `m`; a panic while holding it cannot leave a wrong key behind (entries are inserted
/// whole), so a poisoned lock is still usable.
fn lock<K>(m: &Mutex<Parsed<K>>) -> MutexGuard<'_, Parsed<K>> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The key `bytes` encode, from `cache` or parsed (outside the lock) and remembered.
fn get_or_parse<K: Copy>(
    cache: &Mutex<Parsed<K>>,
    capacity: usize,
    bytes: &[u8],
    parse: impl FnOnce(&[u8]) -> Option<K>,
) -> Option<K> {
    if capacity == 0 {
        return parse(bytes);
    }
    if let Some(k) = lock(cache).map.get(bytes) {
        return Some(*k);
    }
    let key = parse(bytes)?;
    let mut c = lock(cache);
    if c.map.insert(bytes.to_vec(), key).is_none() {
        c.order.push_back(bytes.to_vec());
        if c.order.len() > capacity {
            let old = c.order.pop_front().expect("non-empty");
            c.map.remove(&old);
        }
    }
    Some(key)
}

impl KeyCache {
    /// A cache of at most `capacity` keys of each kind (0 parses every time).
    pub fn new(capacity: usize) -> Self {
        KeyCache {
            capacity,
            ecdsa: Mutex::default(),
            x_only: Mutex::default(),
        }
    }

    /// The SEC-encoded (compressed or uncompressed) key `bytes`, or `None` when invalid.
    pub fn ecdsa(&self, bytes: &[u8]) -> Option<PublicKey> {
        get_or_parse(&self.ecdsa, self.capacity, bytes, |b| {
            PublicKey::from_slice(b).ok()
        })
    }

    /// The 32-byte x-only key `bytes`, or `None` when invalid.
    pub fn x_only(&self, bytes: &[u8]) -> Option<XOnlyPublicKey> {
        get_or_parse(&self.x_only, self.capacity, bytes, |b| {
            XOnlyPublicKey::from_slice(b).ok()
        })
    }

    /// Keys cached, of both kinds.
    pub fn len(&self) -> usize {
        lock(&self.ecdsa).order.len() + lock(&self.x_only).order.len()
    }

    /// True when no key is cached.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secp256k1::{SecretKey, SECP256K1};

    fn key(i: u8) -> PublicKey {
        SecretKey::from_slice(&[i; 32])
            .expect("valid")
            .public_key(SECP256K1)
    }

    #[test]
    fn answers_what_parsing_answers_and_keeps_only_valid_keys() {
        let cache = KeyCache::new(10);
        let k = key(1);
        for bytes in [k.serialize().to_vec(), k.serialize_uncompressed().to_vec()] {
            assert_eq!(cache.ecdsa(&bytes), Some(k));
            // The second answer comes from the cache, and is the same.
            assert_eq!(cache.ecdsa(&bytes), Some(k));
        }
        let x = k.x_only_public_key().0;
        assert_eq!(cache.x_only(&x.serialize()), Some(x));
        assert_eq!(cache.len(), 3);
        // Not a point on the curve: never cached, always refused.
        let mut bad = k.serialize();
        bad[1..].fill(0xff);
        assert_eq!(cache.ecdsa(&bad), None);
        assert_eq!(cache.ecdsa(&bad), None);
        assert_eq!(cache.x_only(&[0xff; 32]), None);
        assert_eq!(
            cache.ecdsa(&x.serialize()),
            None,
            "an x-only key is no SEC key"
        );
        assert_eq!(cache.len(), 3);
    }

    #[test]
    fn stays_within_its_capacity_evicting_the_oldest() {
        let cache = KeyCache::new(2);
        for i in 1..=5 {
            assert_eq!(cache.ecdsa(&key(i).serialize()), Some(key(i)));
            assert!(cache.len() <= 2);
        }
        let held: Vec<Vec<u8>> = lock(&cache.ecdsa).order.iter().cloned().collect();
        assert_eq!(
            held,
            vec![key(4).serialize().to_vec(), key(5).serialize().to_vec()]
        );
        let off = KeyCache::new(0);
        assert_eq!(off.ecdsa(&key(1).serialize()), Some(key(1)));
        assert!(off.is_empty());
    }
}
