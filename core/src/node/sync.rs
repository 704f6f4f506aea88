//! Headers-first sync: who to ask for headers, headers and inventory received, and which
//! blocks to request from whom.

use super::blocks::INVALID_BLOCK_BAN_SCORE;
use super::Node;
use crate::chain::{ChainError, ChainStore};
use crate::net::peer::{DisconnectReason, PeerId};
use crate::net::syncmgr;
use crate::primitives::BlockHash;
use crate::wire::locator::BlockLocatorMessage;
use crate::wire::protocol::PROTOCOL_VERSION;
use crate::wire::{InvType, Inventory, Message, ServiceFlags};

/// Headers messages that do not connect, in a row, before each ban score increase (Core's
/// `MAX_NUM_UNCONNECTING_HEADERS_MSGS`).
pub const UNCONNECTING_HEADERS_LIMIT: u32 = 10;
/// Ban score added each time [`UNCONNECTING_HEADERS_LIMIT`] is reached (Core's amount).
pub const UNCONNECTING_HEADERS_BAN_SCORE: u32 = 20;

impl<S: ChainStore> Node<S> {
    /// Starts header sync with a peer when none is running: during initial download with one
    /// peer at a time, then with every peer not yet asked.
    pub(super) fn start_headers_sync(&mut self) {
        if self.sync.headers_peer().is_some() {
            return;
        }
        let ready: Vec<PeerId> = self
            .peers
            .iter()
            .filter(|(id, p)| p.is_ready() && !self.sync.was_asked(**id))
            .map(|(id, _)| *id)
            .collect();
        let best = self.chain.index().best_header().height;
        // The peer claiming the most blocks leads while it is ahead of us.
        let leader = ready
            .iter()
            .filter(|id| self.peers[id].best_height > best)
            .max_by_key(|id| (self.peers[id].best_height, std::cmp::Reverse(**id)));
        match leader {
            Some(&id) => {
                self.sync.sync_headers_from(id);
                self.send_getheaders(id, BlockHash::ZERO);
            }
            None => {
                for id in ready {
                    self.send_getheaders(id, BlockHash::ZERO);
                }
            }
        }
    }

    /// Asks for headers after our best header's parent, so that a peer with nothing new still
    /// answers with that header and shows which chain it is on (as Core).
    pub(super) fn send_getheaders(&mut self, peer: PeerId, stop: BlockHash) {
        let index = self.chain.index();
        let best = index.best_header();
        let from = match best.height {
            0 => best.hash,
            _ => best.header.prev_blockhash,
        };
        let locator = syncmgr::locator(index, &from);
        self.sync.asked_headers(peer, self.now);
        self.send(
            peer,
            &Message::GetHeaders(BlockLocatorMessage {
                version: PROTOCOL_VERSION,
                locator,
                stop_hash: stop,
            }),
        );
    }

    pub(super) fn on_headers(
        &mut self,
        peer: PeerId,
        headers: Vec<crate::primitives::BlockHeader>,
    ) {
        self.sync.got_headers(peer);
        let full = headers.len() == crate::wire::protocol::MAX_BLOCK_HEADERS_PER_MSG;
        if let Some(first) = headers.first() {
            if self.chain.index().get(&first.prev_blockhash).is_none() {
                // An announcement that skips blocks we lack: ask for the gap. As Core, a peer
                // that keeps sending headers that never connect is misbehaving.
                let count = self.peers.get_mut(&peer).map_or(0, |p| {
                    p.unconnecting_headers += 1;
                    p.unconnecting_headers
                });
                if count.is_multiple_of(UNCONNECTING_HEADERS_LIMIT) {
                    self.misbehave(
                        peer,
                        UNCONNECTING_HEADERS_BAN_SCORE,
                        0,
                        "unconnecting headers",
                    );
                }
                if self.peers.contains_key(&peer) {
                    self.send_getheaders(peer, BlockHash::ZERO);
                }
                return;
            }
            if let Some(p) = self.peers.get_mut(&peer) {
                p.unconnecting_headers = 0;
            }
        }
        if let Err(e) = self.chain.process_headers(&headers, self.now.unix_secs()) {
            return match e {
                ChainError::Rule(r) => {
                    let reason = r.to_string();
                    self.misbehave(peer, INVALID_BLOCK_BAN_SCORE, 0, &reason);
                    self.disconnect(peer, DisconnectReason::BadHeaders(reason));
                }
                other => self.fail(&other.to_string()),
            };
        }
        if let Some(last) = headers.last() {
            self.note_has_block(peer, &last.block_hash());
            if let Some(p) = self.peers.get_mut(&peer) {
                for h in &headers {
                    p.learn(h.block_hash());
                }
            }
        }
        self.sync.schedule(self.chain.index());
        if full {
            self.send_getheaders(peer, BlockHash::ZERO);
        } else if self.sync.headers_sync_ended(peer) {
            self.start_headers_sync();
        }
    }

    pub(super) fn on_inv(&mut self, peer: PeerId, items: Vec<Inventory>) {
        let mut new_block = false;
        for item in &items {
            if let Some(p) = self.peers.get_mut(&peer) {
                p.learn(item.hash);
            }
            match item.inv_type.base() {
                InvType::BLOCK => match self.chain.index().get(&item.hash) {
                    Some(_) => self.note_has_block(peer, &item.hash),
                    None => new_block = true,
                },
                // Past the peer's queue limit announcements are ignored (Core): not
                // misbehaviour, just not remembered.
                InvType::TX | InvType::WTX => {
                    self.tx_fetch.announce(peer, *item);
                }
                _ => {}
            }
        }
        if new_block {
            self.send_getheaders(peer, BlockHash::ZERO);
        }
        self.request_txs(peer);
    }

    /// Asks every ready peer for blocks it can serve, lowest heights first: those of the best
    /// header chain it has, or else, when its own best block has more work than our tip but
    /// lies on another branch, the blocks toward it (Core's rule: the best header may be one
    /// whose block never comes, such as an adversary's that failed its checks before a restart
    /// forgot so, or whose sender left, while an honest peer's block at the same height would
    /// move the tip).
    pub(super) fn request_blocks(&mut self) {
        #[cfg(feature = "planted-bug-no-refetch")]
        if self.restarted {
            return;
        }
        if self.sync.blocks_done() {
            return;
        }
        let index = self.chain.index();
        let best = index.best_header().hash;
        let mut candidates = Vec::new();
        for (id, p) in self.peers.iter_mut() {
            let serves = p.is_ready()
                && p.remote
                    .as_ref()
                    .is_some_and(|v| v.services.has(ServiceFlags::NETWORK));
            let Some(known) = p.best_known.filter(|_| serves) else {
                continue;
            };
            // Only blocks the peer has: those below where its chain and ours part.
            let height = match p.serve_height {
                Some((b, k, h)) if b == best && k == known => h,
                _ => {
                    let h = syncmgr::common_height(index, &best, &known).unwrap_or(0);
                    p.serve_height = Some((best, known, h));
                    h
                }
            };
            candidates.push((*id, height, known));
        }
        let tip_work = index.tip().chain_work;
        for (peer, height, known) in candidates {
            let hashes = self.sync.blocks_to_request(
                self.chain.index(),
                peer,
                height,
                &known,
                tip_work,
                self.now,
            );
            if !hashes.is_empty() {
                let inv = hashes
                    .into_iter()
                    .map(|hash| Inventory {
                        inv_type: InvType::WITNESS_BLOCK,
                        hash,
                    })
                    .collect();
                self.send(peer, &Message::GetData(inv));
            }
        }
    }

    /// Records that `peer` has block `hash` (and so its ancestors).
    pub(super) fn note_has_block(&mut self, peer: PeerId, hash: &BlockHash) {
        let index = self.chain.index();
        let Some(entry) = index.get(hash) else {
            return;
        };
        let Some(p) = self.peers.get_mut(&peer) else {
            return;
        };
        p.best_height = p.best_height.max(entry.height);
        let better = match p.best_known.and_then(|k| index.get(&k)) {
            Some(current) => entry.chain_work > current.chain_work,
            None => true,
        };
        if better {
            p.best_known = Some(*hash);
        }
    }
}
