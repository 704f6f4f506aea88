//! Blocks arriving (from peers or submitted locally), operator verdicts, and what a change of
//! the main chain sets off: mempool updates, notifications and announcements.

use super::{Node, Notification};
use crate::chain::{BlockVerdict, ChainError, ChainEvent, ChainStore, Placement, VerdictError};
use crate::net::peer::PeerId;
use crate::primitives::{Block, BlockHash};
use crate::wire::{InvType, Inventory, Message};

/// Ban score for a block or header that breaks consensus (btcd gives none; Core gives 100).
pub const INVALID_BLOCK_BAN_SCORE: u32 = 100;
/// Headers announced directly when a batch of newly connected blocks is this small; a larger
/// jump is announced by its tip alone.
const MAX_HEADERS_ANNOUNCED: usize = 8;

impl<S: ChainStore> Node<S> {
    pub(super) fn on_block(
        &mut self,
        from: Option<PeerId>,
        block: Block,
    ) -> Result<Placement, ChainError> {
        let hash = block.block_hash();
        self.sync.block_arrived(&hash, self.now);
        if let Some(p) = from.and_then(|id| self.peers.get_mut(&id)) {
            p.learn(hash);
        }
        // A peer's block is stored as the bytes it sent.
        let raw = from.and(self.raw_block.take());
        let result = self
            .chain
            .process_block_bytes(block, raw, self.now.unix_secs());
        // A local submitter hears of the block only once it is durable.
        let result = match result {
            Ok(placement) if from.is_none() => self.chain.flush().map(|()| placement),
            other => other,
        };
        match &result {
            Ok(Placement::Orphan { root }) => {
                if let Some(peer) = from {
                    log::debug!("orphan block {hash}, root {root}: asking peer {peer} for headers");
                    self.send_getheaders(peer, BlockHash::ZERO);
                }
            }
            Ok(placement) => {
                if let Some(peer) = from {
                    if *placement != Placement::AlreadyHave {
                        // A block new to us: eviction protects peers that relay them.
                        if let Some(p) = self.peers.get_mut(&peer) {
                            p.last_block_at = self.now;
                        }
                    }
                    self.note_has_block(peer, &hash);
                }
            }
            Err(ChainError::Rule(r)) => {
                if let Some(peer) = from {
                    self.misbehave(peer, INVALID_BLOCK_BAN_SCORE, 0, &r.to_string());
                }
            }
            Err(e) => {
                self.fail(&e.to_string());
                return result;
            }
        }
        // A block may also extend the best header chain (submitted, or unsolicited).
        self.sync.schedule(self.chain.index());
        self.after_chain_change();
        result
    }

    /// Applies main-chain changes: mempool updates, notifications, announcements.
    fn after_chain_change(&mut self) {
        let events = self.chain.drain_events();
        if events.is_empty() {
            return;
        }
        let mut connected = Vec::new();
        for ev in events {
            let (hash, height, connected_info) = match ev {
                ChainEvent::Connected {
                    hash,
                    height,
                    txs,
                    time,
                } => (hash, height, Some((txs, time))),
                ChainEvent::Disconnected { hash, height } => (hash, height, None),
            };
            let is_connect = connected_info.is_some();
            // An empty pool has nothing a connected block could remove or unblock; skipping
            // the store read keeps initial download fast.
            let pool_idle = self.mempool.is_empty() && self.mempool.orphan_count() == 0;
            let pool_untouched = is_connect && pool_idle;
            // WebSocket clients may want the block too.
            let told = self.ws.wants_blocks();
            let block = match !pool_untouched || told {
                false => None,
                true => match self.chain.block_arc(&hash) {
                    Ok(Some(block)) => Some(block),
                    Ok(None) => return self.fail(&format!("block {hash} of the chain not stored")),
                    Err(e) => return self.fail(&e.to_string()),
                },
            };
            if let Some(block) = block.as_ref().filter(|_| !pool_untouched) {
                let now = self.now.unix_secs();
                // What the pool reports (removed conflicts, re-added txs) is not relayed.
                if is_connect {
                    self.fees.block_connected(block, height, &self.mempool);
                    self.mempool.block_connected(block, &self.chain, now);
                } else {
                    self.fees.block_disconnected();
                    self.mempool.block_disconnected(block, &self.chain, now);
                }
            } else {
                self.fees.empty_block_connected();
            }
            if let Some((txs, time)) = connected_info {
                connected.push(hash);
                self.notify(Notification::BlockConnected {
                    hash,
                    height,
                    txs,
                    time,
                });
            } else {
                connected.retain(|h| *h != hash);
                self.notify(Notification::BlockDisconnected { hash, height });
            }
            match (block.filter(|_| told), is_connect) {
                (Some(block), true) => self.ws_block_connected(&block, height),
                (Some(block), false) => self.ws_block_disconnected(&block.header, height),
                (None, _) => {}
            }
        }
        self.rejected_txs.reset();
        if self.sync.blocks_done() {
            self.announce_blocks(&connected);
        }
    }

    fn announce_blocks(&mut self, connected: &[BlockHash]) {
        let Some(tip) = connected.last().copied() else {
            return;
        };
        let tip_height = self.chain.tip().height;
        let headers: Vec<_> = connected
            .iter()
            .filter_map(|h| self.chain.index().get(h).map(|e| e.header))
            .collect();
        let ready: Vec<PeerId> = self
            .peers
            .iter()
            .filter(|(_, p)| p.is_ready() && !p.knows(&tip) && p.best_height < tip_height)
            .map(|(id, _)| *id)
            .collect();
        for peer in ready {
            let by_headers =
                self.peers[&peer].send_headers && headers.len() <= MAX_HEADERS_ANNOUNCED;
            if let Some(p) = self.peers.get_mut(&peer) {
                p.learn(tip);
            }
            if by_headers {
                self.send(peer, &Message::Headers(headers.clone()));
            } else {
                self.send(
                    peer,
                    &Message::Inv(vec![Inventory {
                        inv_type: InvType::BLOCK,
                        hash: tip,
                    }]),
                );
            }
        }
    }

    /// Applies an operator's verdict on a block (`invalidateblock`, `reconsiderblock`) and
    /// what it changed on the main chain (mempool, notifications), as for a new block.
    pub(super) fn block_verdict(
        &mut self,
        hash: &BlockHash,
        verdict: BlockVerdict,
    ) -> Result<(), VerdictError> {
        let result = match verdict {
            BlockVerdict::Invalid => self.chain.invalidate_block(hash),
            BlockVerdict::Reconsider => self.chain.reconsider_block(hash),
            BlockVerdict::Precious => self.chain.precious_block(hash),
        };
        if let Err(VerdictError::Chain(e)) = &result {
            self.fail(&e.to_string());
            return result;
        }
        self.sync.schedule(self.chain.index());
        self.after_chain_change();
        result
    }
}
