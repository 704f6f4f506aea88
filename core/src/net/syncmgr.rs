//! The sync manager's state: headers-first from one peer at a time, then blocks from every
//! peer in parallel through the [`Downloader`], with stall detection; and the read-only
//! answers to other peers' `getheaders` and `getblocks`.

use super::download::{Downloader, MAX_IN_FLIGHT_PER_PEER, WINDOW};
use super::peer::PeerId;
use crate::chain::index::BlockIndex;
use crate::chain::{IndexEntry, Status};
use crate::primitives::{BlockHash, BlockHeader, Work};
use crate::time::Time;
use crate::wire::protocol::MAX_BLOCK_HEADERS_PER_MSG;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

/// Any block request older than this drops its peer (btcd's 3 min stall timeout).
pub const BLOCK_TIMEOUT: Duration = Duration::from_secs(180);
/// A getheaders unanswered for this long drops the peer (btcd: three times its 30 s
/// `stallResponseTimeout` for getheaders).
pub const HEADERS_TIMEOUT: Duration = Duration::from_secs(90);
/// How often stalls are looked for while anything is outstanding.
pub const STALL_CHECK: Duration = Duration::from_secs(1);
/// Most block hashes in an inv answering getblocks (btcd's `wire.MaxBlocksPerMsg`).
pub const MAX_BLOCKS_PER_INV: usize = 500;

/// Download and header-sync bookkeeping.
#[derive(Default)]
pub struct SyncManager {
    /// Block download scheduling.
    downloader: Downloader<PeerId>,
    /// Hashes handed to the downloader and not yet received, so that walking the header
    /// chain back stops where earlier walks ended.
    wanted: BTreeSet<BlockHash>,
    /// The peer headers are synced from during initial download.
    headers_peer: Option<PeerId>,
    /// Outstanding getheaders, by peer, with when each was sent.
    headers_asked: BTreeMap<PeerId, Time>,
    /// Peers that were sent a getheaders at least once.
    asked_once: BTreeSet<PeerId>,
    /// The best header the wanted blocks lead to.
    scheduled_best: Option<BlockHash>,
}

impl SyncManager {
    /// The peer headers are synced from during initial download, if any.
    pub fn headers_peer(&self) -> Option<PeerId> {
        self.headers_peer
    }

    /// Makes `peer` the one headers are synced from.
    pub fn sync_headers_from(&mut self, peer: PeerId) {
        self.headers_peer = Some(peer);
    }

    /// `peer` sent its last headers: true when it was the one synced from, which it no
    /// longer is (another may take over).
    pub fn headers_sync_ended(&mut self, peer: PeerId) -> bool {
        let was = self.headers_peer == Some(peer);
        if was {
            self.headers_peer = None;
        }
        was
    }

    /// Records a getheaders sent to `peer` at `now`.
    pub fn asked_headers(&mut self, peer: PeerId, now: Time) {
        self.headers_asked.insert(peer, now);
        self.asked_once.insert(peer);
    }

    /// Records a headers answer from `peer`.
    pub fn got_headers(&mut self, peer: PeerId) {
        self.headers_asked.remove(&peer);
    }

    /// True when `peer` was sent a getheaders at least once.
    pub fn was_asked(&self, peer: PeerId) -> bool {
        self.asked_once.contains(&peer)
    }

    /// Forgets a departed peer; its blocks become requestable from others.
    pub fn peer_gone(&mut self, peer: PeerId) {
        self.downloader.peer_gone(peer);
        self.headers_asked.remove(&peer);
        self.asked_once.remove(&peer);
        if self.headers_peer == Some(peer) {
            self.headers_peer = None;
        }
    }

    /// Hands every block on the best header chain that lacks data to the downloader. Walks back
    /// from the best header to the first block stored or already wanted; when the header chain
    /// switched branches, the old branch's wanted blocks are dropped first (one left behind
    /// below the fork would hold the download window's start for good).
    pub fn schedule(&mut self, index: &BlockIndex) {
        let best = index.best_header();
        let extends = |last: &BlockHash| {
            index
                .get(last)
                .and_then(|l| index.ancestor(&best.hash, l.height))
                .is_some_and(|a| a.hash == *last)
        };
        if self.scheduled_best.is_some_and(|last| !extends(&last)) {
            self.downloader.truncate_from(0);
            self.wanted.clear();
        }
        self.scheduled_best = Some(best.hash);
        let mut fresh = Vec::new();
        let mut cur = best;
        while !cur.status.contains(Status::DATA_STORED)
            && !cur.status.is_invalid()
            && !self.wanted.contains(&cur.hash)
        {
            fresh.push((cur.height, cur.hash));
            match index.get(&cur.header.prev_blockhash) {
                Some(parent) => cur = parent,
                None => break,
            }
        }
        let Some(&(lowest, _)) = fresh.last() else {
            return;
        };
        // A branch switch leaves wanted blocks of the old branch at these heights.
        self.downloader.truncate_from(lowest);
        self.wanted
            .retain(|h| index.get(h).is_some_and(|e| e.height < lowest));
        for (height, hash) in fresh {
            self.downloader.need(height, hash);
            self.wanted.insert(hash);
        }
    }

    /// A block arrived at `now`: returns the peer it was requested from, `None` when
    /// unsolicited.
    pub fn block_arrived(&mut self, hash: &BlockHash, now: Time) -> Option<PeerId> {
        self.wanted.remove(hash);
        self.downloader.received(hash, now)
    }

    /// `peer` answered that it does not have block `hash`: another peer may be asked.
    pub fn block_not_found(&mut self, peer: PeerId, hash: &BlockHash) {
        self.downloader.not_found(peer, hash);
    }

    /// True when every block wanted has arrived.
    pub fn blocks_done(&self) -> bool {
        self.downloader.is_done()
    }

    /// The blocks to ask `peer` for at `now`, lowest first: those of the best header chain it
    /// can serve (up to `serve_height`, where its chain and ours part), or else, when its best
    /// block `known` has more work than our tip's `tip_work` on another branch, the blocks
    /// toward it. Empty while the peer has its fill of requests.
    pub fn blocks_to_request(
        &mut self,
        index: &BlockIndex,
        peer: PeerId,
        serve_height: u32,
        known: &BlockHash,
        tip_work: Work,
        now: Time,
    ) -> Vec<BlockHash> {
        if self.downloader.in_flight_from(peer) >= MAX_IN_FLIGHT_PER_PEER {
            return Vec::new();
        }
        let hashes = self.downloader.assign(peer, serve_height, now);
        if !hashes.is_empty() {
            return hashes;
        }
        match index
            .get(known)
            .filter(|k| k.height > serve_height && k.chain_work > tip_work)
        {
            Some(k) => {
                let branch = missing_branch(index, k);
                self.downloader.assign_branch(peer, &branch, now)
            }
            None => Vec::new(),
        }
    }

    /// True while headers or blocks are outstanding.
    pub fn busy(&self) -> bool {
        !self.downloader.is_done() || !self.headers_asked.is_empty()
    }

    /// Peers to drop at `now`: those stalling the block download window (see
    /// [`crate::net::download`]: btcd's 3 min stall timer lets one slow peer hold a parallel
    /// download back far too long), those with overdue blocks, and those with an overdue
    /// getheaders. Sorted, without duplicates.
    pub fn stalled(&mut self, now: Time) -> Vec<PeerId> {
        let mut peers: BTreeSet<PeerId> = self
            .downloader
            .timed_out(now, BLOCK_TIMEOUT)
            .into_iter()
            .collect();
        peers.extend(self.downloader.stallers(now));
        peers.extend(
            self.headers_asked
                .iter()
                .filter(|(_, at)| now.since(**at) > HEADERS_TIMEOUT)
                .map(|(p, _)| *p),
        );
        peers.into_iter().collect()
    }
}

/// A block locator from `from`: the ten blocks below it one by one, then exponentially
/// sparser, always ending with genesis.
pub fn locator(index: &BlockIndex, from: &BlockHash) -> Vec<BlockHash> {
    let Some(top) = index.get(from) else {
        return Vec::new();
    };
    let mut hashes = Vec::new();
    let mut height = top.height;
    let mut step = 1;
    loop {
        if let Some(e) = index.ancestor(from, height) {
            hashes.push(e.hash);
        }
        if height == 0 {
            break;
        }
        if hashes.len() >= 10 {
            step *= 2;
        }
        height = height.saturating_sub(step);
    }
    hashes
}

/// The blocks lacking data on the chain ending at `tip`, lowest first: walking back from `tip`
/// to the first block stored. Empty when the walk meets an invalid block or goes further back
/// than the download window (a branch that long is not fetched this way).
pub fn missing_branch(index: &BlockIndex, tip: &IndexEntry) -> Vec<(u32, BlockHash)> {
    let mut branch = Vec::new();
    let mut cur = tip;
    while !cur.status.contains(Status::DATA_STORED) {
        if cur.status.is_invalid() || branch.len() >= WINDOW as usize {
            return Vec::new();
        }
        branch.push((cur.height, cur.hash));
        match index.get(&cur.header.prev_blockhash) {
            Some(parent) => cur = parent,
            None => return Vec::new(),
        }
    }
    branch.reverse();
    branch
}

/// Height of the last block the chains ending at `a` and `b` share.
pub fn common_height(index: &BlockIndex, a: &BlockHash, b: &BlockHash) -> Option<u32> {
    index.last_common_ancestor(a, b).map(|e| e.height)
}

/// Height of the first locator hash on our main chain (0, genesis, when none is).
fn fork_height(index: &BlockIndex, locator: &[BlockHash]) -> u32 {
    locator
        .iter()
        .find(|h| index.is_main(h))
        .and_then(|h| index.get(h))
        .map_or(0, |e| e.height)
}

/// Main-chain hashes after the locator's fork point, up to `stop` (inclusive) or `max`.
fn main_after(
    index: &BlockIndex,
    locator: &[BlockHash],
    stop: &BlockHash,
    max: usize,
) -> Vec<BlockHash> {
    let mut out = Vec::new();
    let mut h = fork_height(index, locator) + 1;
    while let Some(hash) = index.main_at(h) {
        out.push(*hash);
        if out.len() >= max || hash == stop {
            break;
        }
        h += 1;
    }
    out
}

/// The answer to getheaders: main-chain headers after the locator's fork point (at most
/// 2000), up to `stop`. An empty locator asks for the `stop` header alone.
pub fn headers_after(
    index: &BlockIndex,
    locator: &[BlockHash],
    stop: &BlockHash,
) -> Vec<BlockHeader> {
    if locator.is_empty() {
        return index.get(stop).map(|e| e.header).into_iter().collect();
    }
    main_after(index, locator, stop, MAX_BLOCK_HEADERS_PER_MSG)
        .iter()
        .filter_map(|h| index.get(h).map(|e| e.header))
        .collect()
}

/// The answer to getblocks: main-chain block hashes after the locator's fork point (at most
/// 500), up to `stop`.
pub fn blocks_after(index: &BlockIndex, locator: &[BlockHash], stop: &BlockHash) -> Vec<BlockHash> {
    main_after(index, locator, stop, MAX_BLOCKS_PER_INV)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::{Chain, MemStore};
    use crate::harness::mine_chain;
    use crate::params::{Network, Params};

    fn chain(n: u32) -> Chain<MemStore> {
        let params = Params::new(Network::Regtest);
        let (store, _) = mine_chain(&params, n, b"s");
        Chain::open(params, store).unwrap()
    }

    #[test]
    fn locators_are_dense_then_exponential_and_end_at_genesis() {
        let c = chain(100);
        let index = c.index();
        let loc = locator(index, &c.tip().hash);
        let heights: Vec<u32> = loc.iter().map(|h| index.get(h).unwrap().height).collect();
        assert_eq!(
            heights,
            [100, 99, 98, 97, 96, 95, 94, 93, 92, 91, 89, 85, 77, 61, 29, 0]
        );
    }

    #[test]
    fn answers_start_after_the_fork_point_and_stop_at_the_stop_hash() {
        let c = chain(2500);
        let index = c.index();
        let at = |h: u32| *index.main_at(h).unwrap();
        // An unknown hash first, then one on our chain.
        let loc = [junk(), at(10)];
        let headers = headers_after(index, &loc, &BlockHash::ZERO);
        assert_eq!(headers.len(), MAX_BLOCK_HEADERS_PER_MSG);
        assert_eq!(headers[0].block_hash(), at(11));
        let upto = headers_after(index, &loc, &at(15));
        assert_eq!(upto.len(), 5);
        assert_eq!(
            blocks_after(index, &loc, &BlockHash::ZERO).len(),
            MAX_BLOCKS_PER_INV
        );
        // Nothing known: from genesis.
        assert_eq!(
            blocks_after(index, &[junk()], &at(3)),
            [at(1), at(2), at(3)]
        );
        // An empty locator asks for the stop header alone.
        assert_eq!(
            headers_after(index, &[], &at(7)),
            [index.get(&at(7)).unwrap().header]
        );
    }

    /// A hash no chain has.
    fn junk() -> BlockHash {
        crate::primitives::Hash256([0xab; 32])
    }

    #[test]
    fn scheduling_walks_back_to_stored_blocks_only_once() {
        let params = Params::new(Network::Regtest);
        let (_, blocks) = mine_chain(&params, 30, b"s");
        let mut c = Chain::open(params, MemStore::new()).unwrap();
        for b in &blocks[..10] {
            c.process_block(b.clone(), crate::harness::START.unix_secs())
                .unwrap();
        }
        let headers: Vec<_> = blocks.iter().map(|b| b.header).collect();
        c.process_headers(&headers[..20], crate::harness::START.unix_secs())
            .unwrap();
        let mut s = SyncManager::default();
        s.schedule(c.index());
        assert_eq!(s.downloader.remaining(), 10);
        assert_eq!(s.downloader.lowest_needed(), Some(11));
        c.process_headers(&headers[20..], crate::harness::START.unix_secs())
            .unwrap();
        s.schedule(c.index());
        assert_eq!(s.downloader.remaining(), 20);
        assert_eq!(s.block_arrived(&blocks[10].block_hash(), Time::EPOCH), None);
        assert_eq!(s.downloader.remaining(), 19);
    }

    #[test]
    fn a_header_chain_switch_forgets_every_block_of_the_old_branch() {
        let params = Params::new(Network::Regtest);
        let (_, a) = mine_chain(&params, 3, b"a");
        let (_, b) = mine_chain(&params, 4, b"b");
        let now = crate::harness::START.unix_secs();
        let mut c = Chain::open(params, MemStore::new()).unwrap();
        for block in &b[..2] {
            c.process_block(block.clone(), now).unwrap();
        }
        let headers = |blocks: &[crate::primitives::Block]| -> Vec<BlockHeader> {
            blocks.iter().map(|b| b.header).collect()
        };
        c.process_headers(&headers(&a), now).unwrap();
        let mut s = SyncManager::default();
        s.schedule(c.index());
        assert_eq!(s.downloader.remaining(), 3, "branch a from its first block");
        // Branch b, whose first two blocks are stored, takes the lead again.
        c.process_headers(&headers(&b[2..]), now).unwrap();
        s.schedule(c.index());
        assert_eq!(
            s.downloader.lowest_needed(),
            Some(3),
            "a's blocks 1 and 2 are gone"
        );
        assert_eq!(s.downloader.remaining(), 2);
    }

    #[test]
    fn a_missing_branch_runs_from_the_last_stored_block_to_its_tip() {
        let params = Params::new(Network::Regtest);
        let (_, a) = mine_chain(&params, 5, b"a");
        let (_, b) = mine_chain(&params, 3, b"b");
        let now = crate::harness::START.unix_secs();
        let mut c = Chain::open(params, MemStore::new()).unwrap();
        c.process_block(b[0].clone(), now).unwrap();
        let headers: Vec<BlockHeader> = b.iter().map(|b| b.header).collect();
        c.process_headers(&headers, now).unwrap();
        let headers: Vec<BlockHeader> = a.iter().map(|b| b.header).collect();
        c.process_headers(&headers, now).unwrap();
        let index = c.index();
        assert_eq!(index.best_header().hash, a[4].block_hash());
        let tip = index.get(&b[2].block_hash()).unwrap();
        assert_eq!(
            missing_branch(index, tip),
            [(2, b[1].block_hash()), (3, b[2].block_hash())]
        );
        let stored = index.get(&b[0].block_hash()).unwrap();
        assert!(missing_branch(index, stored).is_empty());
    }
}
