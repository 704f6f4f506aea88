//! The address manager (btcd's `addrmgr`, after Bitcoin Core's): addresses we heard of sit in
//! "new" buckets, addresses we connected to in "tried" buckets. Bucket positions come from a
//! keyed hash of the address's network group and of the group of the peer that told us, so
//! one source (or one group of sources) can only ever fill a small share of the tables.
//!
//! All randomness comes from the [`Rng`] the node hands in; iteration is over ordered
//! collections, so the same inputs give the same choices.

mod known;
mod persist;

pub use known::{KnownAddress, PeerAddr};
pub use persist::RestoreError;

use super::group::{group_key, is_routable};
use crate::primitives::hash::sha256d;
use crate::rng::Rng;
use crate::wire::{AddrV2, AddrV2Entry};
use std::collections::{BTreeMap, BTreeSet};

/// Number of new buckets.
pub const NEW_BUCKETS: usize = 1024;
/// Addresses per new bucket.
pub const NEW_BUCKET_SIZE: usize = 64;
/// New buckets one source group can reach.
pub const NEW_BUCKETS_PER_GROUP: u64 = 64;
/// Most new buckets one address may sit in.
pub const NEW_BUCKETS_PER_ADDRESS: u8 = 8;
/// Number of tried buckets.
pub const TRIED_BUCKETS: usize = 64;
/// Addresses per tried bucket.
pub const TRIED_BUCKET_SIZE: usize = 256;
/// Tried buckets one address group can reach.
pub const TRIED_BUCKETS_PER_GROUP: u64 = 8;
/// Share of known addresses a `getaddr` answer holds, in percent.
pub const GETADDR_PERCENT: usize = 23;
/// Most addresses in a `getaddr` answer.
pub const GETADDR_MAX: usize = 2500;
/// Below this many addresses the node asks peers and DNS seeds for more.
pub const NEED_ADDRESS_THRESHOLD: usize = 1000;
/// Timestamps further ahead than this are back-dated (btcd: 10 minutes).
pub const FUTURE_SLACK_SECS: u64 = 600;
/// Back-dated timestamps are set this far in the past (btcd: 5 days).
pub const BACKDATE_SECS: u64 = 5 * 24 * 3600;
/// `connected` refreshes an address's time at most this often (btcd: 20 minutes).
pub const CONNECTED_REFRESH_SECS: u64 = 20 * 60;

/// The address manager.
#[derive(Clone, Debug)]
pub struct AddrManager {
    key: [u8; 32],
    rng: Rng,
    known: BTreeMap<PeerAddr, KnownAddress>,
    /// The new table's buckets that hold something, by number (an empty one is not kept): a
    /// table of all [`NEW_BUCKETS`] sets cost 24 KiB before the first address, and a thousand
    /// simulated nodes that each know a few dozen addresses held mostly empty buckets.
    new: BTreeMap<usize, BTreeSet<PeerAddr>>,
    tried: Vec<Vec<PeerAddr>>,
}

fn hash_u64(parts: &[&[u8]]) -> u64 {
    let data: Vec<u8> = parts.concat();
    u64::from_le_bytes(sha256d(&data)[..8].try_into().expect("8 bytes"))
}

impl AddrManager {
    /// An empty manager whose bucket key is drawn from `rng`.
    pub fn new(mut rng: Rng) -> AddrManager {
        let key = rng.bytes32();
        AddrManager::with_key(key, rng)
    }

    fn with_key(key: [u8; 32], rng: Rng) -> AddrManager {
        AddrManager {
            key,
            rng,
            known: BTreeMap::new(),
            new: BTreeMap::new(),
            tried: vec![Vec::new(); TRIED_BUCKETS],
        }
    }

    /// Number of known addresses.
    pub fn len(&self) -> usize {
        self.known.len()
    }

    /// True when no address is known.
    pub fn is_empty(&self) -> bool {
        self.known.is_empty()
    }

    /// Addresses in the tried table.
    pub fn tried_count(&self) -> usize {
        self.tried.iter().map(Vec::len).sum()
    }

    /// Addresses only in new buckets.
    pub fn new_count(&self) -> usize {
        self.known.len() - self.tried_count()
    }

    /// True when the node should ask for more addresses.
    pub fn need_more(&self) -> bool {
        self.known.len() < NEED_ADDRESS_THRESHOLD
    }

    /// What is known about `peer`.
    pub fn get(&self, peer: &PeerAddr) -> Option<&KnownAddress> {
        self.known.get(peer)
    }

    fn new_bucket(&self, addr: &AddrV2, source: &AddrV2) -> usize {
        let (group, src_group) = (group_key(addr), group_key(source));
        let within =
            hash_u64(&[&self.key, group.as_bytes(), src_group.as_bytes()]) % NEW_BUCKETS_PER_GROUP;
        (hash_u64(&[&self.key, src_group.as_bytes(), &within.to_le_bytes()]) % NEW_BUCKETS as u64)
            as usize
    }

    fn tried_bucket(&self, peer: &PeerAddr) -> usize {
        let id = [peer.addr.bytes(), &peer.port.to_le_bytes()].concat();
        let within = hash_u64(&[&self.key, &id]) % TRIED_BUCKETS_PER_GROUP;
        let group = group_key(&peer.addr);
        (hash_u64(&[&self.key, group.as_bytes(), &within.to_le_bytes()]) % TRIED_BUCKETS as u64)
            as usize
    }

    /// Adds addresses a peer at `source` told us about at `now` (unix seconds). Unroutable
    /// addresses are ignored; future timestamps are back-dated as btcd does.
    pub fn add(&mut self, entries: &[AddrV2Entry], source: &AddrV2, now: u64) {
        for entry in entries {
            self.add_one(entry, source, now);
        }
    }

    fn add_one(&mut self, entry: &AddrV2Entry, source: &AddrV2, now: u64) {
        if !is_routable(&entry.addr) {
            return;
        }
        let peer = PeerAddr {
            addr: entry.addr.clone(),
            port: entry.port,
        };
        let mut time = u64::from(entry.time);
        if time > now + FUTURE_SLACK_SECS {
            time = now.saturating_sub(BACKDATE_SECS);
        }
        if let Some(ka) = self.known.get_mut(&peer) {
            ka.time = ka.time.max(time);
            ka.services.0 |= entry.services.0;
            if ka.tried || ka.refs >= NEW_BUCKETS_PER_ADDRESS {
                return;
            }
            // The more buckets hold it already, the less likely another one is added.
            let refs = u64::from(ka.refs);
            if self.rng.below(2 * refs) != 0 {
                return;
            }
        } else {
            self.known.insert(
                peer.clone(),
                KnownAddress {
                    peer: peer.clone(),
                    services: entry.services,
                    time,
                    source: source.clone(),
                    attempts: 0,
                    last_attempt: 0,
                    last_success: 0,
                    tried: false,
                    refs: 0,
                },
            );
        }
        let bucket = self.new_bucket(&peer.addr, source);
        if self.new.get(&bucket).is_some_and(|b| b.contains(&peer)) {
            self.drop_if_unreferenced(&peer);
            return;
        }
        if self.new_len(bucket) >= NEW_BUCKET_SIZE {
            self.expire_new(bucket, now);
        }
        self.new.entry(bucket).or_default().insert(peer.clone());
        if let Some(ka) = self.known.get_mut(&peer) {
            ka.refs += 1;
        }
    }

    fn drop_if_unreferenced(&mut self, peer: &PeerAddr) {
        if self
            .known
            .get(peer)
            .is_some_and(|ka| !ka.tried && ka.refs == 0)
        {
            self.known.remove(peer);
        }
    }

    /// Addresses in new bucket `bucket`.
    fn new_len(&self, bucket: usize) -> usize {
        self.new.get(&bucket).map_or(0, BTreeSet::len)
    }

    /// Takes `peer` out of new bucket `bucket` (dropping the bucket once empty); false when it
    /// was not there. Its reference count is the caller's.
    fn take_from_new(&mut self, bucket: usize, peer: &PeerAddr) -> bool {
        let Some(b) = self.new.get_mut(&bucket) else {
            return false;
        };
        let held = b.remove(peer);
        if b.is_empty() {
            self.new.remove(&bucket);
        }
        held
    }

    fn remove_from_new(&mut self, bucket: usize, peer: &PeerAddr) {
        if self.take_from_new(bucket, peer) {
            if let Some(ka) = self.known.get_mut(peer) {
                ka.refs -= 1;
            }
            self.drop_if_unreferenced(peer);
        }
    }

    /// Makes room in a full new bucket: drops its bad entries, or else its oldest one.
    fn expire_new(&mut self, bucket: usize, now: u64) {
        let bad: Vec<PeerAddr> = self.new[&bucket]
            .iter()
            .filter(|p| self.known[*p].is_bad(now))
            .cloned()
            .collect();
        for p in &bad {
            self.remove_from_new(bucket, p);
        }
        if self.new_len(bucket) >= NEW_BUCKET_SIZE {
            let oldest = self.new[&bucket]
                .iter()
                .min_by_key(|p| self.known[*p].time)
                .cloned()
                .expect("the bucket is full");
            self.remove_from_new(bucket, &oldest);
        }
    }

    /// We are about to dial `peer`.
    pub fn attempt(&mut self, peer: &PeerAddr, now: u64) {
        if let Some(ka) = self.known.get_mut(peer) {
            ka.attempts += 1;
            ka.last_attempt = now;
        }
    }

    /// A connection to `peer` is up; refreshes its time (at most every 20 minutes).
    pub fn connected(&mut self, peer: &PeerAddr, now: u64) {
        if let Some(ka) = self.known.get_mut(peer) {
            if now > ka.time + CONNECTED_REFRESH_SECS {
                ka.time = now;
            }
        }
    }

    /// `peer` completed a handshake: it moves to the tried table. When its tried bucket is
    /// full, the bucket's oldest entry goes back to the new table.
    pub fn good(&mut self, peer: &PeerAddr, now: u64) {
        let Some(ka) = self.known.get_mut(peer) else {
            return;
        };
        ka.last_success = now;
        ka.last_attempt = now;
        ka.attempts = 0;
        if ka.tried {
            return;
        }
        let holding: Vec<usize> = self
            .new
            .iter()
            .filter(|(_, b)| b.contains(peer))
            .map(|(bucket, _)| *bucket)
            .collect();
        for bucket in holding {
            self.take_from_new(bucket, peer);
            if let Some(ka) = self.known.get_mut(peer) {
                ka.refs -= 1;
            }
        }
        let tb = self.tried_bucket(peer);
        if self.tried[tb].len() >= TRIED_BUCKET_SIZE {
            let (pos, _) = self.tried[tb]
                .iter()
                .enumerate()
                .min_by_key(|(_, p)| self.known[*p].time)
                .expect("the bucket is full");
            let evicted = self.tried[tb].remove(pos);
            let ka = self
                .known
                .get_mut(&evicted)
                .expect("tried entries are known");
            ka.tried = false;
            let evicted_source = ka.source.clone();
            let nb = self.new_bucket(&evicted.addr, &evicted_source);
            if self.new_len(nb) >= NEW_BUCKET_SIZE {
                self.expire_new(nb, now);
            }
            self.new.entry(nb).or_default().insert(evicted.clone());
            self.known.get_mut(&evicted).expect("still known").refs = 1;
        }
        self.tried[tb].push(peer.clone());
        let ka = self.known.get_mut(peer).expect("still known");
        ka.tried = true;
        debug_assert_eq!(ka.refs, 0);
    }

    /// Picks an address to dial, biased as btcd: tried or new with even odds, then entries
    /// weighted by [`KnownAddress::chance`].
    pub fn select(&mut self, now: u64) -> Option<&KnownAddress> {
        let (n_tried, n_new) = (self.tried_count(), self.new_count());
        if n_tried == 0 && n_new == 0 {
            return None;
        }
        let use_tried = n_tried > 0 && (n_new == 0 || self.rng.below(2) == 0);
        let mut factor = 1.0;
        loop {
            let peer = if use_tried {
                let bucket = &self.tried[self.rng.index(TRIED_BUCKETS)];
                if bucket.is_empty() {
                    continue;
                }
                bucket[self.rng.index(bucket.len())].clone()
            } else {
                let Some(bucket) = self.new.get(&self.rng.index(NEW_BUCKETS)) else {
                    continue;
                };
                let i = self.rng.index(bucket.len());
                bucket.iter().nth(i).expect("index in range").clone()
            };
            let chance = self.known[&peer].chance(now);
            if self.rng.unit() < factor * chance {
                return self.known.get(&peer);
            }
            factor *= 1.2;
        }
    }

    /// The answer to a `getaddr`: a random 23% of the good addresses, at most 2500.
    pub fn address_cache(&mut self, now: u64) -> Vec<AddrV2Entry> {
        let mut all: Vec<AddrV2Entry> = self
            .known
            .values()
            .filter(|ka| !ka.is_bad(now))
            .map(KnownAddress::entry)
            .collect();
        let n = (all.len() * GETADDR_PERCENT / 100).min(GETADDR_MAX);
        self.rng.shuffle(&mut all);
        all.truncate(n);
        all
    }

    /// Checks the tables' invariants, describing the first one broken (tests and fuzzing).
    pub fn check_invariants(&self) -> Result<(), String> {
        let mut refs: BTreeMap<&PeerAddr, u8> = BTreeMap::new();
        for (i, b) in &self.new {
            if b.len() > NEW_BUCKET_SIZE || b.is_empty() || *i >= NEW_BUCKETS {
                return Err(format!("new bucket {i} holds {}", b.len()));
            }
            for p in b {
                *refs.entry(p).or_default() += 1;
            }
        }
        let mut tried = BTreeSet::new();
        for (i, b) in self.tried.iter().enumerate() {
            if b.len() > TRIED_BUCKET_SIZE {
                return Err(format!("tried bucket {i} holds {}", b.len()));
            }
            for p in b {
                if !tried.insert(p) {
                    return Err(format!("{p:?} twice in the tried table"));
                }
            }
        }
        for (p, ka) in &self.known {
            let r = refs.get(p).copied().unwrap_or(0);
            if ka.refs != r || r > NEW_BUCKETS_PER_ADDRESS {
                return Err(format!("{p:?}: refs {} but in {r} new buckets", ka.refs));
            }
            if ka.tried != tried.contains(p) || (ka.tried && r > 0) {
                return Err(format!("{p:?}: tried flag disagrees with the tables"));
            }
            if !ka.tried && r == 0 {
                return Err(format!("{p:?} is in no table"));
            }
        }
        if refs
            .keys()
            .chain(tried.iter())
            .any(|p| !self.known.contains_key(*p))
        {
            return Err("a bucket holds an unknown address".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
