//! A bounded cache of signatures already found valid, so a transaction verified on mempool
//! entry is not verified again when its block arrives. One cache is shared by the mempool,
//! which fills it, and block validation, which only looks in it (as Core: a block's signatures
//! will not be seen again, so storing them would only push out the mempool's).

use super::hashes::sha256;
use super::key_cache::{KeyCache, DEFAULT_KEY_CACHE_ENTRIES};
// Membership only, never iterated: the random order cannot reach an output.
#[allow(clippy::disallowed_types)]
use std::collections::HashSet;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

/// Remembers up to `capacity` valid (message, signature, key) triples; the oldest entry is
/// evicted first. Only successes are stored, so a hit can never turn an invalid signature
/// valid. Safe to share between threads. Beside it, the public keys already parsed.
pub struct SigCache {
    capacity: usize,
    inner: Mutex<Entries>,
    /// Whether anything was ever stored: until then a lookup cannot hit, so block validation
    /// (during initial sync, with nothing in the mempool) skips the key's hash and the lock.
    filled: AtomicBool,
    keys: KeyCache,
}

/// btcd's default `--sigcachemaxsize`, in entries.
pub const DEFAULT_SIG_CACHE_ENTRIES: usize = 100_000;

impl std::fmt::Debug for SigCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigCache")
            .field("capacity", &self.capacity)
            .field("len", &self.len())
            .finish()
    }
}

#[derive(Default)]
#[allow(clippy::disallowed_types)]
struct Entries {
    set: HashSet<[u8; 32]>,
    order: VecDeque<[u8; 32]>,
}

/// The cache key: one hash over everything a verification depends on, with the kind so an
/// ECDSA and a Schnorr check can never collide.
fn key(kind: u8, msg: &[u8; 32], sig: &[u8], pubkey: &[u8]) -> [u8; 32] {
    let mut buf = Vec::with_capacity(1 + 32 + 2 + sig.len() + pubkey.len());
    buf.push(kind);
    buf.extend_from_slice(msg);
    // Script elements are at most 520 bytes, so two length bytes delimit the signature.
    buf.extend_from_slice(&(sig.len() as u16).to_le_bytes());
    buf.extend_from_slice(sig);
    buf.extend_from_slice(pubkey);
    sha256(&buf)
}

impl SigCache {
    /// A cache holding at most `capacity` entries (btcd's default is 100,000), and up to
    /// [`DEFAULT_KEY_CACHE_ENTRIES`] parsed keys of each kind (none when `capacity` is 0: an
    /// operator who turns caching off gets none).
    pub fn new(capacity: usize) -> Self {
        SigCache {
            capacity,
            inner: Mutex::new(Entries::default()),
            filled: AtomicBool::new(false),
            keys: KeyCache::new(capacity.min(DEFAULT_KEY_CACHE_ENTRIES)),
        }
    }

    /// The parsed public keys, shared by everything that shares this cache.
    pub fn keys(&self) -> &KeyCache {
        &self.keys
    }

    /// Returns the cached verdict or runs `verify`, caching a success when `store`.
    pub fn check(
        &self,
        kind: u8,
        msg: &[u8; 32],
        sig: &[u8],
        pubkey: &[u8],
        store: bool,
        verify: impl FnOnce() -> bool,
    ) -> bool {
        // Entries are only ever evicted for newer ones: once filled, never empty again.
        if self.capacity == 0 || (!store && !self.filled.load(Ordering::Relaxed)) {
            return verify();
        }
        let k = key(kind, msg, sig, pubkey);
        if self.lock().set.contains(&k) {
            return true;
        }
        let ok = verify();
        if ok && store {
            let mut e = self.lock();
            if e.set.insert(k) {
                self.filled.store(true, Ordering::Relaxed);
                e.order.push_back(k);
                if e.order.len() > self.capacity {
                    let old = e.order.pop_front().expect("non-empty");
                    e.set.remove(&old);
                }
            }
        }
        ok
    }

    /// Number of cached entries.
    pub fn len(&self) -> usize {
        self.lock().order.len()
    }

    /// True when nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Entries> {
        // A panic while holding the lock cannot leave the set inconsistent with a verdict, so a
        // poisoned lock is still usable.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caches_successes_only_and_stays_bounded() {
        let c = SigCache::new(2);
        let m = [1u8; 32];
        assert!(!c.check(0, &m, b"bad", b"k", true, || false));
        assert!(c.is_empty());
        assert!(c.check(0, &m, b"a", b"k", true, || true));
        // A hit does not run the verifier.
        assert!(c.check(0, &m, b"a", b"k", false, || panic!("should be cached")));
        // A lookup that must not store leaves the cache as it was.
        assert!(c.check(1, &m, b"z", b"k", false, || true));
        assert_eq!(c.len(), 1);
        assert!(c.check(1, &m, b"b", b"k", true, || true));
        assert!(c.check(1, &m, b"c", b"k", true, || true));
        assert_eq!(c.len(), 2);
        // The oldest ("a") was evicted, so it is verified again.
        assert!(!c.check(0, &m, b"a", b"k", true, || false));
    }
}
