//! Which announced transactions to request from whom, with per-peer bounds (a small part of
//! Bitcoin Core's `TxRequestTracker`): each peer's announcements wait in a queue of at most
//! [`MAX_PEER_TX_ANNOUNCEMENTS`] (those requested included), and at most
//! [`MAX_PEER_TX_IN_FLIGHT`] of them are requested from it
//! at a time. A peer announcing millions of transactions so costs a fixed amount of memory and
//! gets a hundred `getdata` entries at a time, not one per announcement.

use super::budget::{
    HASH_MAP_ENTRY, HASH_SET_ENTRY, MAX_PEER_TX_ANNOUNCEMENTS, MAX_PEER_TX_IN_FLIGHT,
};
use super::peer::PeerId;
use crate::primitives::Hash256;
use crate::time::Time;
use crate::wire::{InvType, Inventory};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::time::Duration;

/// A requested transaction not delivered in this long may be announced and requested again.
pub const TX_REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// One peer's announcements not yet requested.
#[derive(Default, Debug)]
struct Queue {
    order: VecDeque<Inventory>,
    hashes: BTreeSet<Hash256>,
    in_flight: usize,
}

impl Queue {
    /// Bytes held for the queue and its peer's requests.
    fn memory(&self) -> u64 {
        (self.order.capacity() * std::mem::size_of::<Inventory>()
            + self.hashes.len() * HASH_SET_ENTRY
            + self.in_flight * HASH_MAP_ENTRY) as u64
    }
}

/// Announcements and requests of every peer.
#[derive(Default, Debug)]
pub struct TxFetcher {
    /// Requested hashes: from whom, and when.
    in_flight: BTreeMap<Hash256, (PeerId, Time)>,
    peers: BTreeMap<PeerId, Queue>,
}

impl TxFetcher {
    /// Records that `peer` announced `item`. False when it was ignored because the peer's queue
    /// is full, whatever it announced (Core's per-peer announcement limit comes before any
    /// other check); duplicates (queued by this peer, or requested from anyone) are dropped
    /// silently.
    pub fn announce(&mut self, peer: PeerId, item: Inventory) -> bool {
        let q = self.peers.entry(peer).or_default();
        if q.hashes.contains(&item.hash) {
            return true;
        }
        if q.order.len() + q.in_flight >= MAX_PEER_TX_ANNOUNCEMENTS {
            return false;
        }
        if self.in_flight.contains_key(&item.hash) {
            return true;
        }
        q.hashes.insert(item.hash);
        q.order.push_back(item);
        true
    }

    /// True when `hash` was requested from someone and not yet answered.
    pub fn is_requested(&self, hash: &Hash256) -> bool {
        self.in_flight.contains_key(hash)
    }

    /// Takes the next announcements of `peer` to request at `now`, oldest first, while it has
    /// free request slots; those `wanted` rejects (already have, refused before) or someone
    /// else was asked for are dropped. The caller sends one `getdata` with the result, asking
    /// for witnesses (a stripped segwit spend would not verify).
    pub fn requests(
        &mut self,
        peer: PeerId,
        now: Time,
        mut wanted: impl FnMut(&Inventory) -> bool,
    ) -> Vec<Inventory> {
        let mut out = Vec::new();
        let Some(q) = self.peers.get_mut(&peer) else {
            return out;
        };
        while q.in_flight < MAX_PEER_TX_IN_FLIGHT {
            let Some(item) = q.order.pop_front() else {
                break;
            };
            q.hashes.remove(&item.hash);
            if self.in_flight.contains_key(&item.hash) || !wanted(&item) {
                continue;
            }
            self.in_flight.insert(item.hash, (peer, now));
            q.in_flight += 1;
            let inv_type = match item.inv_type.base() {
                InvType::TX => InvType::WITNESS_TX,
                other => other,
            };
            out.push(Inventory {
                inv_type,
                hash: item.hash,
            });
        }
        out
    }

    fn release(&mut self, hash: &Hash256) -> Option<PeerId> {
        let (peer, _) = self.in_flight.remove(hash)?;
        if let Some(q) = self.peers.get_mut(&peer) {
            q.in_flight -= 1;
        }
        Some(peer)
    }

    /// A transaction with this txid or wtxid arrived: returns the peer it was requested from.
    pub fn received(&mut self, hash: &Hash256) -> Option<PeerId> {
        self.release(hash)
    }

    /// `peer` answered `notfound` for `hash`; only its own request is released.
    pub fn not_found(&mut self, peer: PeerId, hash: &Hash256) -> bool {
        match self.in_flight.get(hash) {
            Some((p, _)) if *p == peer => self.release(hash).is_some(),
            _ => false,
        }
    }

    /// Releases requests older than [`TX_REQUEST_TIMEOUT`] at `now`; returns the peers that
    /// had some (they have free slots again).
    pub fn expire(&mut self, now: Time) -> Vec<PeerId> {
        let old: Vec<Hash256> = self
            .in_flight
            .iter()
            .filter(|(_, (_, at))| now.since(*at) >= TX_REQUEST_TIMEOUT)
            .map(|(h, _)| *h)
            .collect();
        let peers: BTreeSet<PeerId> = old.iter().filter_map(|h| self.release(h)).collect();
        peers.into_iter().collect()
    }

    /// When the oldest request in flight times out, if any is.
    pub fn next_expiry(&self) -> Option<Time> {
        let oldest = self.in_flight.values().map(|(_, at)| *at).min()?;
        Some(oldest + TX_REQUEST_TIMEOUT)
    }

    /// Forgets a departed peer: its queue, and its requests (which others may then be asked
    /// for when they announce them).
    pub fn peer_gone(&mut self, peer: PeerId) {
        self.peers.remove(&peer);
        self.in_flight.retain(|_, (p, _)| *p != peer);
    }

    /// Requests in flight to `peer`.
    pub fn in_flight_from(&self, peer: PeerId) -> usize {
        self.peers.get(&peer).map_or(0, |q| q.in_flight)
    }

    /// Announcements of `peer` waiting to be requested.
    pub fn queued_from(&self, peer: PeerId) -> usize {
        self.peers.get(&peer).map_or(0, |q| q.order.len())
    }

    /// Bytes held for `peer`'s announcements and requests.
    pub fn memory(&self, peer: PeerId) -> u64 {
        self.peers.get(&peer).map_or(0, Queue::memory)
    }

    /// Bytes held for each peer that has announcements or requests, in peer order.
    pub fn memories(&self) -> impl Iterator<Item = (PeerId, u64)> + '_ {
        self.peers.iter().map(|(peer, q)| (*peer, q.memory()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tx(n: u32) -> Inventory {
        let mut h = [0u8; 32];
        h[..4].copy_from_slice(&n.to_le_bytes());
        Inventory {
            inv_type: InvType::TX,
            hash: Hash256(h),
        }
    }

    #[test]
    fn announcements_and_requests_are_capped_per_peer() {
        let mut f = TxFetcher::default();
        let accepted = (0..20_000).filter(|n| f.announce(1, tx(*n))).count();
        assert_eq!(accepted, MAX_PEER_TX_ANNOUNCEMENTS);
        let first = f.requests(1, Time::EPOCH, |_| true);
        assert_eq!(first.len(), MAX_PEER_TX_IN_FLIGHT);
        assert_eq!(first[0].inv_type, InvType::WITNESS_TX);
        assert!(
            f.requests(1, Time::EPOCH, |_| true).is_empty(),
            "no free slot"
        );
        // Each answer frees one slot.
        assert_eq!(f.received(&first[0].hash), Some(1));
        assert_eq!(f.requests(1, Time::EPOCH, |_| true).len(), 1);
        assert!(f.memory(1) < 1_000_000, "{}", f.memory(1));
        f.peer_gone(1);
        assert_eq!(f.memory(1), 0);
        assert!(!f.is_requested(&first[1].hash));
    }

    #[test]
    fn a_peer_at_its_cap_is_refused_even_what_another_peer_is_asked_for() {
        let mut f = TxFetcher::default();
        let elsewhere = tx(u32::MAX);
        f.announce(2, elsewhere);
        assert_eq!(f.requests(2, Time::EPOCH, |_| true).len(), 1);
        assert!(f.is_requested(&elsewhere.hash));
        for n in 0..MAX_PEER_TX_ANNOUNCEMENTS as u32 {
            assert!(f.announce(1, tx(n)));
        }
        assert!(!f.announce(1, elsewhere), "over its cap");
        assert!(f.announce(1, tx(0)), "already queued: still remembered");
        assert!(!f.announce(1, tx(u32::MAX - 1)));
    }

    #[test]
    fn a_hash_is_requested_from_one_peer_at_a_time() {
        let mut f = TxFetcher::default();
        f.announce(1, tx(7));
        f.announce(2, tx(7));
        assert_eq!(f.requests(1, Time::EPOCH, |_| true).len(), 1);
        assert!(f.requests(2, Time::EPOCH, |_| true).is_empty());
        assert!(!f.not_found(2, &tx(7).hash), "peer 2 was not asked");
        assert!(f.not_found(1, &tx(7).hash));
        // Announced again later, it can be fetched again.
        f.announce(2, tx(7));
        assert_eq!(f.requests(2, Time::EPOCH, |_| true).len(), 1);
    }

    #[test]
    fn unwanted_announcements_are_dropped_and_old_requests_expire() {
        let mut f = TxFetcher::default();
        for n in 0..10 {
            f.announce(3, tx(n));
        }
        let got = f.requests(3, Time::from_millis(1_000), |i| i.hash != tx(4).hash);
        assert_eq!(got.len(), 9);
        assert_eq!(f.queued_from(3), 0);
        assert!(f
            .expire(Time::from_millis(1_000) + TX_REQUEST_TIMEOUT - Duration::from_millis(1))
            .is_empty());
        assert_eq!(
            f.expire(Time::from_millis(1_000) + TX_REQUEST_TIMEOUT),
            vec![3]
        );
        assert_eq!(f.in_flight_from(3), 0);
    }
}
