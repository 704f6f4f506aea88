//! Parallel block download: which block to ask which peer for, a moving window over the chain
//! of headers we have, per-peer in-flight limits, and stall detection.
//!
//! btcd fetches from one sync peer at a time; like Bitcoin Core, rbtcd spreads requests over
//! every peer that has the blocks, and finds the peer holding the window back.
//!
//! # Stalls
//!
//! A peer is a staller (Core's rule) only when all of these hold:
//! - it holds the block the window waits for (the lowest missing one);
//! - another peer could serve: that peer has nothing in flight, has blocks beyond the window's
//!   end, and got nothing from [`Downloader::assign`] only because the window is full; that
//!   moment starts the staller's clock;
//! - the staller has delivered no block since its clock started, for longer than the adaptive
//!   timeout ([`StallTimeout`]): it doubles after each stall and relaxes by 15% on each block
//!   that arrives, never below [`STALL_TIMEOUT_MIN`].
//!
//! Any block a peer delivers stops its clock, so time the node spends validating what a peer
//! sent (its next block waits in the socket meanwhile) is never counted against it. Near the
//! end of a sync nothing lies beyond the window, so nobody is a staller however slowly the last
//! blocks come; and the last peer is never dropped for stalling or timing out, since there is
//! nobody to hand its blocks to.

use crate::primitives::BlockHash;
use crate::time::Time;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

/// Blocks beyond the lowest missing one that may be requested (Core's BLOCK_DOWNLOAD_WINDOW).
pub const WINDOW: u32 = 1024;
/// Most blocks in flight from one peer (Core's MAX_BLOCKS_IN_TRANSIT_PER_PEER).
pub const MAX_IN_FLIGHT_PER_PEER: usize = 16;
/// The stall timeout to start with and the floor it relaxes to (Core's
/// `BLOCK_STALLING_TIMEOUT_DEFAULT`).
pub const STALL_TIMEOUT_MIN: Duration = Duration::from_secs(2);
/// The stall timeout's ceiling (Core's `BLOCK_STALLING_TIMEOUT_MAX`).
pub const STALL_TIMEOUT_MAX: Duration = Duration::from_secs(64);

/// The adaptive stall timeout: doubled after each stall (so a node whose own bandwidth is the
/// bottleneck does not drop one peer after another), relaxed by 15% per delivered block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StallTimeout(Duration);

impl Default for StallTimeout {
    fn default() -> Self {
        StallTimeout(STALL_TIMEOUT_MIN)
    }
}

impl StallTimeout {
    /// The timeout now.
    pub fn current(self) -> Duration {
        self.0
    }

    fn stalled(&mut self) {
        self.0 = (self.0 * 2).min(STALL_TIMEOUT_MAX);
    }

    fn progressed(&mut self) {
        self.0 = (self.0 * 85 / 100).max(STALL_TIMEOUT_MIN);
    }
}

/// One outstanding request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Request<P> {
    peer: P,
    height: u32,
    sent_at: Time,
}

/// What the scheduler knows of a peer it has assigned blocks to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct PeerState {
    /// When the peer last delivered a block it was asked for (the epoch: never).
    last_delivery: Time,
    /// Since when another peer has been waiting on this one's lowest block, if it is.
    stalling_since: Option<Time>,
}

/// The download scheduler. `P` is the driver's peer token.
#[derive(Debug)]
pub struct Downloader<P: Ord + Copy> {
    /// Blocks whose headers are on the best header chain but whose data we lack, by height.
    needed: BTreeMap<u32, BlockHash>,
    /// Heights of the needed blocks, by hash.
    heights: BTreeMap<BlockHash, u32>,
    in_flight: BTreeMap<BlockHash, Request<P>>,
    by_peer: BTreeMap<P, BTreeSet<BlockHash>>,
    /// Every peer blocks were ever assigned to (or offered), until it goes.
    peers: BTreeMap<P, PeerState>,
    stall_timeout: StallTimeout,
}

impl<P: Ord + Copy> Default for Downloader<P> {
    fn default() -> Self {
        Downloader {
            needed: BTreeMap::new(),
            heights: BTreeMap::new(),
            in_flight: BTreeMap::new(),
            by_peer: BTreeMap::new(),
            peers: BTreeMap::new(),
            stall_timeout: StallTimeout::default(),
        }
    }
}

impl<P: Ord + Copy> Downloader<P> {
    /// Records that the block at `height` with `hash` must be downloaded.
    pub fn need(&mut self, height: u32, hash: BlockHash) {
        if let Some(old) = self.needed.insert(height, hash) {
            self.heights.remove(&old);
        }
        self.heights.insert(hash, height);
    }

    /// Forgets every block at or above `height` (the header chain was reorganised); requests
    /// already in flight for them are dropped too and their answers will be unsolicited.
    pub fn truncate_from(&mut self, height: u32) {
        for (_, hash) in self.needed.split_off(&height) {
            self.heights.remove(&hash);
            self.cancel(&hash);
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

    /// The stall timeout in force.
    pub fn stall_timeout(&self) -> StallTimeout {
        self.stall_timeout
    }

    /// Chooses blocks to request from `peer`, which claims the chain up to `peer_height`:
    /// lowest heights first, inside the window, not already in flight, up to the peer's free
    /// slots. The caller sends one `getdata` with the returned hashes. An idle peer that gets
    /// nothing only because the window is full starts the clock of the peer holding the
    /// window's first block (see the module doc).
    pub fn assign(&mut self, peer: P, peer_height: u32, now: Time) -> Vec<BlockHash> {
        let Some((&lowest, _)) = self.needed.first_key_value() else {
            return Vec::new();
        };
        self.peers.entry(peer).or_default();
        let in_flight = self.in_flight_from(peer);
        let free = MAX_IN_FLIGHT_PER_PEER.saturating_sub(in_flight);
        let window_end = lowest.saturating_add(WINDOW);
        let limit = window_end.min(peer_height.saturating_add(1));
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
        let beyond_window = peer_height >= window_end
            && self.needed.range(window_end..=peer_height).next().is_some();
        if picks.is_empty() && in_flight == 0 && beyond_window {
            self.note_window_blocked(peer, lowest, now);
        }
        self.request(peer, picks, now)
    }

    /// Requests from `peer` blocks of a branch that is not the best header chain's (`blocks`,
    /// lowest first): the peer's own best chain, when it has more work than our tip (Core
    /// downloads toward each peer's best block, not only along its best header). Skips blocks
    /// already in flight and fills the peer's free slots; the requests are tracked like any
    /// other (timeouts, stalls, a departed peer's blocks), but no block is added to the needed
    /// ones.
    pub fn assign_branch(
        &mut self,
        peer: P,
        blocks: &[(u32, BlockHash)],
        now: Time,
    ) -> Vec<BlockHash> {
        self.peers.entry(peer).or_default();
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
    fn request(&mut self, peer: P, picks: Vec<(u32, BlockHash)>, now: Time) -> Vec<BlockHash> {
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

    /// `idle` could download if the window were one block larger: whoever holds the lowest
    /// block is holding everyone back from `now` on (unless its clock already runs).
    fn note_window_blocked(&mut self, idle: P, lowest: u32, now: Time) {
        let holder = self
            .needed
            .get(&lowest)
            .and_then(|h| self.in_flight.get(h))
            .map(|r| r.peer)
            .filter(|p| *p != idle);
        if let Some(state) = holder.and_then(|p| self.peers.get_mut(&p)) {
            state.stalling_since.get_or_insert(now);
        }
    }

    /// A block arrived at `now` (and was handed to the chain). Returns the peer it was
    /// requested from, or `None` when it was unsolicited. That peer's stall clock stops and
    /// the stall timeout relaxes: the download made progress.
    pub fn received(&mut self, hash: &BlockHash, now: Time) -> Option<P> {
        // Unsolicited, or its request was dropped: still no longer needed.
        if let Some(height) = self.heights.remove(hash) {
            self.needed.remove(&height);
        }
        let peer = self.cancel(hash)?;
        if let Some(state) = self.peers.get_mut(&peer) {
            state.last_delivery = now;
            state.stalling_since = None;
        }
        self.stall_timeout.progressed();
        Some(peer)
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
        self.peers.remove(&peer);
    }

    /// Peers that have stalled the download at `now` (see the module doc), worst first; the
    /// caller drops them, and their blocks are reassigned. Each reported stall doubles the
    /// timeout for the next one. Never every peer: the last one stays.
    pub fn stallers(&mut self, now: Time) -> Vec<P> {
        let timeout = self.stall_timeout.current();
        let mut stalled: Vec<(Time, P)> = self
            .peers
            .iter()
            .filter_map(|(p, s)| s.stalling_since.map(|since| (since, *p)))
            .filter(|(since, _)| now.since(*since) > timeout)
            .collect();
        stalled.sort();
        stalled.truncate(self.peers.len().saturating_sub(1));
        for _ in &stalled {
            self.stall_timeout.stalled();
        }
        stalled.into_iter().map(|(_, p)| p).collect()
    }

    /// Peers whose oldest request has waited longer than `timeout` (the block download
    /// timeout), counted from when it was sent or from the peer's last delivery, whichever is
    /// later (Core's `m_downloading_since`): a peer busy delivering a long queue is not late.
    /// Never every peer: the last one stays.
    pub fn timed_out(&self, now: Time, timeout: Duration) -> Vec<P> {
        let mut late: Vec<P> = self
            .by_peer
            .iter()
            .filter_map(|(peer, hashes)| {
                let oldest = hashes
                    .iter()
                    .filter_map(|h| self.in_flight.get(h))
                    .map(|r| r.sent_at)
                    .min()?;
                let delivered = self
                    .peers
                    .get(peer)
                    .map_or(Time::EPOCH, |s| s.last_delivery);
                (now.since(oldest.max(delivered)) > timeout).then_some(*peer)
            })
            .collect();
        // The most recent deliverer stays when every peer is late.
        if late.len() >= self.peers.len() {
            late.sort_by_key(|p| self.peers.get(p).map_or(Time::EPOCH, |s| s.last_delivery));
            late.pop();
            late.sort();
        }
        late
    }

    /// Height of the lowest block still missing.
    pub fn lowest_needed(&self) -> Option<u32> {
        self.needed.first_key_value().map(|(h, _)| *h)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The instant `ms` milliseconds after the epoch.
    fn t(ms: u64) -> Time {
        Time::from_millis(ms)
    }

    /// `d` in milliseconds.
    fn ms(d: Duration) -> u64 {
        d.as_millis() as u64
    }
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
            d.assign_branch(5, &other, t(0)),
            [hash(1001), hash(1002), hash(1003)]
        );
        assert!(
            d.assign_branch(6, &other, t(0)).is_empty(),
            "already in flight"
        );
        assert_eq!(d.in_flight_from(5), 3);
        assert_eq!(d.received(&hash(1002), t(0)), Some(5));
        assert_eq!(
            d.remaining(),
            20,
            "block 2 of the best chain is still needed"
        );
        assert_eq!(d.assign(6, 20, t(0))[..2], [hash(1), hash(2)]);
        d.peer_gone(5);
        // The caller leaves stored blocks out of the branch it passes.
        let rest = [other[0], other[2]];
        assert_eq!(d.assign_branch(7, &rest, t(0)), [hash(1001), hash(1003)]);
    }

    #[test]
    fn a_peer_behind_the_lowest_missing_block_gets_nothing() {
        let mut d = with_blocks(20);
        assert_eq!(d.received(&hash(1), t(0)), None);
        assert!(d.assign(1, 0, t(0)).is_empty());
        assert!(d.assign(1, 1, t(0)).is_empty());
        assert_eq!(d.assign(1, 2, t(0)), [hash(2)]);
    }

    #[test]
    fn spreads_lowest_blocks_over_peers_within_limits() {
        let mut d = with_blocks(100);
        let a = d.assign(1, 100, t(0));
        let b = d.assign(2, 100, t(0));
        assert_eq!(a.len(), MAX_IN_FLIGHT_PER_PEER);
        assert_eq!(a[0], hash(1));
        assert_eq!(
            b[0],
            hash(1 + MAX_IN_FLIGHT_PER_PEER as u32),
            "no block requested twice"
        );
        assert!(d.assign(1, 100, t(0)).is_empty(), "peer 1 has no free slot");
        assert_eq!(d.received(&hash(1), t(0)), Some(1));
        assert_eq!(d.assign(1, 100, t(0)).len(), 1);
        assert_eq!(d.received(&hash(999), t(0)), None, "unsolicited");
    }

    #[test]
    fn respects_peer_height_and_window() {
        let mut d = with_blocks(5000);
        assert_eq!(d.assign(1, 3, t(0)), vec![hash(1), hash(2), hash(3)]);
        let mut total = 3;
        for p in 2..200u8 {
            total += d.assign(p, 5000, t(0)).len();
        }
        assert_eq!(
            total as u32, WINDOW,
            "nothing beyond lowest + WINDOW is requested"
        );
    }

    /// Fills the window with requests from peers 1, 2, ... (16 each) at time `at`; returns the
    /// last peer used.
    fn fill_window(d: &mut Downloader<u8>, at: u64) -> u8 {
        let mut p = 0u8;
        while d.in_flight.len() < WINDOW as usize {
            p += 1;
            d.assign(p, u32::MAX, t(at));
        }
        p
    }

    #[test]
    fn a_peer_holding_the_window_is_replaced_when_an_idle_peer_could_serve() {
        let mut d = with_blocks(WINDOW + 50);
        let last = fill_window(&mut d, 1000);
        // Everyone else delivers the rest of what they hold; peer 1 sends nothing.
        for h in 17..=WINDOW {
            assert!(d.received(&hash(h), t(1500)).is_some());
        }
        assert!(d.stallers(t(100_000)).is_empty(), "nobody is waiting yet");
        // An idle peer that has blocks beyond the window gets nothing: the window is blocked.
        let idle = last + 1;
        assert!(d.assign(idle, u32::MAX, t(2000)).is_empty());
        assert!(
            d.stallers(t(2000 + ms(STALL_TIMEOUT_MIN))).is_empty(),
            "not yet"
        );
        assert_eq!(d.stallers(t(2001 + ms(STALL_TIMEOUT_MIN))), [1]);
        assert_eq!(
            d.stall_timeout().current(),
            2 * STALL_TIMEOUT_MIN,
            "doubled"
        );
        d.peer_gone(1);
        assert_eq!(
            d.assign(idle, u32::MAX, t(5000))[0],
            hash(1),
            "the stalled blocks go to another peer"
        );
    }

    #[test]
    fn a_delivering_peer_is_never_a_staller() {
        let mut d = with_blocks(WINDOW + 50);
        let last = fill_window(&mut d, 0);
        for h in 17..=WINDOW {
            d.received(&hash(h), t(10));
        }
        let idle = last + 1;
        assert!(d.assign(idle, u32::MAX, t(100)).is_empty());
        // Peer 1 delivers one block every 1.9 s (the node validating each slowly): its clock
        // restarts with each, the waiting peer notices again each time, nobody is dropped.
        let mut now = 100;
        for h in 1..=15 {
            now += 1900;
            assert!(d.stallers(t(now)).is_empty(), "block {h}");
            assert_eq!(d.received(&hash(h), t(now)), Some(1));
            assert!(d.assign(idle, u32::MAX, t(now)).len() <= MAX_IN_FLIGHT_PER_PEER);
        }
    }

    #[test]
    fn one_slow_peer_is_kept_to_the_end_of_the_sync() {
        // 40 heavy blocks from the only peer, each taking 300 ms to validate, so that every
        // request waits about 16 x 300 ms: far past the stall timeout, never a stall.
        let mut d = with_blocks(40);
        let mut now = 0;
        d.assign(7, 40, t(now));
        while !d.is_done() {
            now += 300;
            let next = d.lowest_needed().unwrap();
            assert!(d.stallers(t(now)).is_empty());
            assert!(
                d.timed_out(t(now), Duration::from_millis(1000)).is_empty(),
                "the last peer stays"
            );
            assert_eq!(d.received(&hash(next), t(now)), Some(7));
            d.assign(7, 40, t(now));
        }
    }

    #[test]
    fn the_end_of_a_sync_has_no_stallers_however_slow() {
        let mut d = with_blocks(20);
        assert_eq!(d.assign(1, 20, t(0)).len(), MAX_IN_FLIGHT_PER_PEER);
        assert_eq!(d.assign(2, 20, t(0)).len(), 4);
        d.received(&hash(17), t(10));
        // Peer 2 is idle, but nothing lies beyond the window for it to want.
        assert!(d.assign(2, 20, t(20)).is_empty());
        assert!(d.stallers(t(1_000_000)).is_empty());
    }

    #[test]
    fn the_stall_timeout_doubles_per_stall_and_relaxes_on_progress() {
        let mut timeout = StallTimeout::default();
        assert_eq!(timeout.current(), STALL_TIMEOUT_MIN);
        for _ in 0..10 {
            timeout.stalled();
        }
        assert_eq!(timeout.current(), STALL_TIMEOUT_MAX, "capped");
        timeout.progressed();
        assert_eq!(timeout.current(), STALL_TIMEOUT_MAX * 85 / 100);
        for _ in 0..100 {
            timeout.progressed();
        }
        assert_eq!(timeout.current(), STALL_TIMEOUT_MIN, "floored");

        // Through the downloader: a stall doubles it, so a second waiting peer must wait
        // twice as long before the next holder is dropped.
        let mut d = with_blocks(WINDOW + 50);
        let last = fill_window(&mut d, 0);
        for h in 33..=WINDOW {
            d.received(&hash(h), t(1));
        }
        for _ in 0..20 {
            d.stall_timeout.progressed();
        }
        let idle = last + 1;
        d.assign(idle, u32::MAX, t(10));
        assert_eq!(d.stallers(t(10 + ms(STALL_TIMEOUT_MIN) + 1)), [1]);
        d.peer_gone(1);
        // The idle peer takes peer 1's blocks and now holds the window; a second newcomer
        // waits on it, and the doubled timeout applies.
        assert_eq!(
            d.assign(idle, u32::MAX, t(3000)).len(),
            MAX_IN_FLIGHT_PER_PEER
        );
        let second = idle + 1;
        assert!(d.assign(second, u32::MAX, t(3000)).is_empty());
        assert_eq!(d.stall_timeout().current(), 2 * STALL_TIMEOUT_MIN);
        let doubled = ms(d.stall_timeout().current());
        assert!(d.stallers(t(3000 + doubled)).is_empty());
        assert_eq!(d.stallers(t(3001 + doubled)), [idle]);
    }

    #[test]
    fn block_timeouts_count_from_the_last_delivery_and_spare_the_last_peer() {
        let mut d = with_blocks(100);
        d.assign(1, 100, t(0));
        d.assign(2, 100, t(0));
        // Peer 1 keeps delivering; peer 2 sends nothing.
        for h in 1..=10 {
            d.received(&hash(h), t(h as u64 * 10_000));
        }
        assert_eq!(d.timed_out(t(100_000), Duration::from_millis(60_000)), [2]);
        d.peer_gone(2);
        assert!(
            d.timed_out(t(1_000_000), Duration::from_millis(60_000))
                .is_empty(),
            "the last peer stays"
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
                    0 => { d.assign(peer, n, t(0)); }
                    1 => {
                        let owed: Vec<_> = d.by_peer.get(&peer).map(|s| s.iter().copied().collect()).unwrap_or_default();
                        if let Some(h) = owed.get(pick as usize % owed.len().max(1)) {
                            prop_assert_eq!(d.received(h, t(0)), Some(peer));
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
                for h in d.assign(99, n, t(0)) {
                    prop_assert!(got.insert(h));
                    d.received(&h, t(0));
                }
            }
            prop_assert_eq!(got.len() as u32, n);
        }
    }
}
