//! Parallel block download: which block to ask which peer for, a moving window over the chain
//! of headers we have, per-peer in-flight limits, and stall detection.
//!
//! btcd fetches from one sync peer at a time; like Bitcoin Core, rbtcd spreads requests over
//! every peer that has the blocks, and finds the peer holding the window back.

use crate::primitives::BlockHash;
use std::collections::{BTreeMap, BTreeSet};

/// Blocks beyond the lowest missing one that may be requested (Core's BLOCK_DOWNLOAD_WINDOW).
pub const WINDOW: u32 = 1024;
/// Most blocks in flight from one peer (Core's MAX_BLOCKS_IN_TRANSIT_PER_PEER).
pub const MAX_IN_FLIGHT_PER_PEER: usize = 16;

/// One outstanding request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Request<P> {
    peer: P,
    height: u32,
    sent_at: u64,
}

/// The download scheduler. `P` is the driver's peer token; times are milliseconds.
#[derive(Debug)]
pub struct Downloader<P: Ord + Copy> {
    /// Blocks whose headers are on the best header chain but whose data we lack, by height.
    needed: BTreeMap<u32, BlockHash>,
    in_flight: BTreeMap<BlockHash, Request<P>>,
    by_peer: BTreeMap<P, BTreeSet<BlockHash>>,
}

impl<P: Ord + Copy> Default for Downloader<P> {
    fn default() -> Self {
        Downloader {
            needed: BTreeMap::new(),
            in_flight: BTreeMap::new(),
            by_peer: BTreeMap::new(),
        }
    }
}

impl<P: Ord + Copy> Downloader<P> {
    /// Records that the block at `height` with `hash` must be downloaded.
    pub fn need(&mut self, height: u32, hash: BlockHash) {
        self.needed.insert(height, hash);
    }

    /// Forgets every block at or above `height` (the header chain was reorganised); requests
    /// already in flight for them are dropped too and their answers will be unsolicited.
    pub fn truncate_from(&mut self, height: u32) {
        let dropped: Vec<u32> = self.needed.range(height..).map(|(h, _)| *h).collect();
        for h in dropped {
            if let Some(hash) = self.needed.remove(&h) {
                self.cancel(&hash);
            }
        }
    }

    fn cancel(&mut self, hash: &BlockHash) -> Option<P> {
        let req = self.in_flight.remove(hash)?;
        if let Some(set) = self.by_peer.get_mut(&req.peer) {
            set.remove(hash);
        }
        Some(req.peer)
    }

    /// Number of blocks still to download (requested or not).
    pub fn remaining(&self) -> usize {
        self.needed.len()
    }

    /// True when nothing is left to download.
    pub fn is_done(&self) -> bool {
        self.needed.is_empty()
    }

    /// Blocks in flight from `peer`.
    pub fn in_flight_from(&self, peer: P) -> usize {
        self.by_peer.get(&peer).map_or(0, BTreeSet::len)
    }

    /// True when `hash` was requested from someone and not yet received.
    pub fn is_in_flight(&self, hash: &BlockHash) -> bool {
        self.in_flight.contains_key(hash)
    }

    /// Chooses blocks to request from `peer`, which claims the chain up to `peer_height`:
    /// lowest heights first, inside the window, not already in flight, up to the peer's free
    /// slots. The caller sends one `getdata` with the returned hashes.
    pub fn assign(&mut self, peer: P, peer_height: u32, now: u64) -> Vec<BlockHash> {
        let Some((&lowest, _)) = self.needed.first_key_value() else {
            return Vec::new();
        };
        let free = MAX_IN_FLIGHT_PER_PEER.saturating_sub(self.in_flight_from(peer));
        let limit = lowest
            .saturating_add(WINDOW)
            .min(peer_height.saturating_add(1));
        // A peer behind the lowest missing block has nothing to give.
        if limit <= lowest {
            return Vec::new();
        }
        let picks: Vec<(u32, BlockHash)> = self
            .needed
            .range(lowest..limit)
            .filter(|(_, hash)| !self.in_flight.contains_key(*hash))
            .take(free)
            .map(|(h, hash)| (*h, *hash))
            .collect();
        self.request(peer, picks, now)
    }

    /// Requests from `peer` blocks of a branch that is not the best header chain's (`blocks`,
    /// lowest first): the peer's own best chain, when it has more work than our tip (Core
    /// downloads toward each peer's best block, not only along its best header). Skips blocks
    /// already in flight and fills the peer's free slots; the requests are tracked like any
    /// other (timeouts, a departed peer's blocks), but no block is added to the needed ones.
    pub fn assign_branch(
        &mut self,
        peer: P,
        blocks: &[(u32, BlockHash)],
        now: u64,
    ) -> Vec<BlockHash> {
        let free = MAX_IN_FLIGHT_PER_PEER.saturating_sub(self.in_flight_from(peer));
        let picks: Vec<(u32, BlockHash)> = blocks
            .iter()
            .filter(|(_, hash)| !self.in_flight.contains_key(hash))
            .take(free)
            .copied()
            .collect();
        self.request(peer, picks, now)
    }

    /// Records `picks` as requested from `peer` at `now`; returns their hashes.
    fn request(&mut self, peer: P, picks: Vec<(u32, BlockHash)>, now: u64) -> Vec<BlockHash> {
        for (height, hash) in &picks {
            self.in_flight.insert(
                *hash,
                Request {
                    peer,
                    height: *height,
                    sent_at: now,
                },
            );
            self.by_peer.entry(peer).or_default().insert(*hash);
        }
        picks.into_iter().map(|(_, h)| h).collect()
    }

    /// A block arrived (and was handed to the chain). Returns the peer it was requested from,
    /// or `None` when it was unsolicited.
    pub fn received(&mut self, hash: &BlockHash) -> Option<P> {
        let height = match self.in_flight.get(hash) {
            Some(req) => Some(req.height),
            // Unsolicited, or its request was dropped: still no longer needed.
            None => self
                .needed
                .iter()
                .find(|(_, h)| *h == hash)
                .map(|(k, _)| *k),
        };
        // A block of another branch (`assign_branch`) leaves the one needed at its height.
        if let Some(h) = height.filter(|h| self.needed.get(h) == Some(hash)) {
            self.needed.remove(&h);
        }
        self.cancel(hash)
    }

    /// The peer answered `notfound` for `hash`: make it requestable from someone else.
    pub fn not_found(&mut self, peer: P, hash: &BlockHash) {
        if self.in_flight.get(hash).is_some_and(|r| r.peer == peer) {
            self.cancel(hash);
        }
    }

    /// The peer disconnected: everything it owed is requestable again.
    pub fn peer_gone(&mut self, peer: P) {
        for hash in self.by_peer.remove(&peer).unwrap_or_default() {
            self.in_flight.remove(&hash);
        }
    }

    /// The peer holding the download back at `now`: it has had the lowest missing block in
    /// flight for longer than `stall_ms` while the window is full, so nobody else can make
    /// progress past it. The caller disconnects it (its blocks are then reassigned).
    pub fn window_staller(&self, now: u64, stall_ms: u64) -> Option<P> {
        let (&lowest, hash) = self.needed.first_key_value()?;
        let req = self.in_flight.get(hash)?;
        let window_full = self
            .needed
            .range(lowest..lowest.saturating_add(WINDOW))
            .all(|(_, h)| self.in_flight.contains_key(h));
        (window_full && now.saturating_sub(req.sent_at) > stall_ms).then_some(req.peer)
    }

    /// Peers with any request older than `timeout_ms` (the block download timeout).
    pub fn timed_out(&self, now: u64, timeout_ms: u64) -> Vec<P> {
        let peers: BTreeSet<P> = self
            .in_flight
            .values()
            .filter(|r| now.saturating_sub(r.sent_at) > timeout_ms)
            .map(|r| r.peer)
            .collect();
        peers.into_iter().collect()
    }

    /// Height of the lowest block still missing.
    pub fn lowest_needed(&self) -> Option<u32> {
        self.needed.first_key_value().map(|(h, _)| *h)
    }

    /// The height the request for `hash` was made at, if in flight.
    pub fn requested_height(&self, hash: &BlockHash) -> Option<u32> {
        self.in_flight.get(hash).map(|r| r.height)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::primitives::Hash256;
    use proptest::prelude::*;

    fn hash(h: u32) -> BlockHash {
        let mut b = [0u8; 32];
        b[..4].copy_from_slice(&h.to_le_bytes());
        Hash256(b)
    }

    fn with_blocks(n: u32) -> Downloader<u8> {
        let mut d = Downloader::default();
        for h in 1..=n {
            d.need(h, hash(h));
        }
        d
    }

    #[test]
    fn a_branch_is_requested_beside_the_needed_blocks_and_leaves_them_needed() {
        let mut d = with_blocks(20);
        let other: Vec<(u32, BlockHash)> = (1..=3).map(|h| (h, hash(1000 + h))).collect();
        assert_eq!(
            d.assign_branch(5, &other, 0),
            [hash(1001), hash(1002), hash(1003)]
        );
        assert!(
            d.assign_branch(6, &other, 0).is_empty(),
            "already in flight"
        );
        assert_eq!(d.in_flight_from(5), 3);
        assert_eq!(d.received(&hash(1002)), Some(5));
        assert_eq!(
            d.remaining(),
            20,
            "block 2 of the best chain is still needed"
        );
        assert_eq!(d.assign(6, 20, 0)[..2], [hash(1), hash(2)]);
        d.peer_gone(5);
        // The caller leaves stored blocks out of the branch it passes.
        let rest = [other[0], other[2]];
        assert_eq!(d.assign_branch(7, &rest, 0), [hash(1001), hash(1003)]);
    }

    #[test]
    fn a_peer_behind_the_lowest_missing_block_gets_nothing() {
        let mut d = with_blocks(20);
        assert_eq!(d.received(&hash(1)), None);
        assert!(d.assign(1, 0, 0).is_empty());
        assert!(d.assign(1, 1, 0).is_empty());
        assert_eq!(d.assign(1, 2, 0), [hash(2)]);
    }

    #[test]
    fn spreads_lowest_blocks_over_peers_within_limits() {
        let mut d = with_blocks(100);
        let a = d.assign(1, 100, 0);
        let b = d.assign(2, 100, 0);
        assert_eq!(a.len(), MAX_IN_FLIGHT_PER_PEER);
        assert_eq!(a[0], hash(1));
        assert_eq!(
            b[0],
            hash(1 + MAX_IN_FLIGHT_PER_PEER as u32),
            "no block requested twice"
        );
        assert!(d.assign(1, 100, 0).is_empty(), "peer 1 has no free slot");
        assert_eq!(d.received(&hash(1)), Some(1));
        assert_eq!(d.assign(1, 100, 0).len(), 1);
        assert_eq!(d.received(&hash(999)), None, "unsolicited");
    }

    #[test]
    fn respects_peer_height_and_window() {
        let mut d = with_blocks(5000);
        assert_eq!(d.assign(1, 3, 0), vec![hash(1), hash(2), hash(3)]);
        let mut total = 3;
        for p in 2..200u8 {
            total += d.assign(p, 5000, 0).len();
        }
        assert_eq!(
            total as u32, WINDOW,
            "nothing beyond lowest + WINDOW is requested"
        );
    }

    #[test]
    fn a_stalling_peer_is_found_and_its_blocks_reassigned() {
        let mut d = with_blocks(WINDOW + 50);
        let mut p = 0u8;
        while d.in_flight.len() < WINDOW as usize {
            p += 1;
            d.assign(p, u32::MAX, 1000);
        }
        // Everyone but peer 1 delivers except the blocks they hold at the window's start.
        assert_eq!(d.window_staller(2000, 2000), None, "not stalled yet");
        assert_eq!(d.window_staller(3001, 2000), Some(1));
        d.peer_gone(1);
        assert_eq!(
            d.assign(200, u32::MAX, 3001)[0],
            hash(1),
            "the stalled blocks go to another peer"
        );
        assert_eq!(
            d.timed_out(3001 + 60_000, 60_000),
            (2..=p).collect::<Vec<_>>()
        );
    }

    proptest! {
        /// Whatever the order of assignments, deliveries, notfounds and disconnects, every block
        /// is eventually downloaded exactly once and never in flight from two peers.
        #[test]
        fn every_block_downloaded_once(ops in proptest::collection::vec((0u8..4, 0u8..5, any::<u16>()), 1..400)) {
            let n = 200u32;
            let mut d = with_blocks(n);
            let mut got = BTreeSet::new();
            for (kind, peer, pick) in ops {
                match kind {
                    0 => { d.assign(peer, n, 0); }
                    1 => {
                        let owed: Vec<_> = d.by_peer.get(&peer).map(|s| s.iter().copied().collect()).unwrap_or_default();
                        if let Some(h) = owed.get(pick as usize % owed.len().max(1)) {
                            prop_assert_eq!(d.received(h), Some(peer));
                            prop_assert!(got.insert(*h));
                        }
                    }
                    2 => d.peer_gone(peer),
                    _ => {
                        let owed: Vec<_> = d.by_peer.get(&peer).map(|s| s.iter().copied().collect()).unwrap_or_default();
                        if let Some(h) = owed.first() { d.not_found(peer, h); }
                    }
                }
                let flying: usize = d.by_peer.values().map(BTreeSet::len).sum();
                prop_assert_eq!(flying, d.in_flight.len());
            }
            // The others leave; one honest newcomer drains the rest.
            for peer in 0..5 { d.peer_gone(peer); }
            while !d.is_done() {
                for h in d.assign(99, n, 0) {
                    prop_assert!(got.insert(h));
                    d.received(&h);
                }
            }
            prop_assert_eq!(got.len() as u32, n);
        }
    }
}
