//! The memory peers make the node hold ([`crate::net::budget`]): accounted per peer, and
//! enforced after every input — a peer that stopped reading is dropped past its send queue's
//! hard limit, and when all peers together pass the node's budget the one holding the most goes.

use super::Node;
use crate::chain::ChainStore;
use crate::net::budget::{
    PeerMemory, PEER_FIXED, PEER_MEMORY_BUDGET, SEND_QUEUE_HARD_LIMIT, SEND_QUEUE_SLACK,
};
use crate::net::peer::{DisconnectReason, Peer, PeerId};
use crate::wire::Inventory;

impl<S: ChainStore> Node<S> {
    /// What `peer` makes the node hold now, by kind; `None` for an unknown peer.
    pub fn peer_memory(&self, peer: PeerId) -> Option<PeerMemory> {
        let p = self.peers.get(&peer)?;
        Some(Self::memory_of(p, self.tx_fetch.memory(peer)))
    }

    /// What a peer whose state is `p` makes the node hold now, `tx_announcements` bytes for
    /// its announcements and requests.
    fn memory_of(p: &Peer, tx_announcements: u64) -> PeerMemory {
        PeerMemory {
            receive: p.decoder.held() as u64,
            send: p.send_queue,
            getdata_backlog: (p.getdata_backlog.capacity() * std::mem::size_of::<Inventory>())
                as u64,
            known_inventory: p.known_memory(),
            tx_announcements,
            fixed: PEER_FIXED,
        }
    }

    /// Bytes held for refused transactions (fixed: a rolling filter).
    pub fn rejects_memory(&self) -> u64 {
        self.rejected_txs.memory() as u64
    }

    /// Drops peers over their send queue's hard limit, then, while all peers together hold more
    /// than the budget, the one holding the most (the newest on ties).
    pub(super) fn enforce_memory_budget(&mut self) {
        if let Some(limit) = self.config.max_send_queue {
            let hard = limit.saturating_add(SEND_QUEUE_SLACK);
            let unread: Vec<(PeerId, u64)> = self
                .peers
                .iter()
                .filter(|(_, p)| p.send_queue > hard)
                .map(|(id, p)| (*id, p.send_queue))
                .collect();
            for (peer, queued) in unread {
                self.disconnect(peer, DisconnectReason::SendQueueFull(queued));
            }
        }
        if self.budget_holds_whatever_peers_hold() {
            return;
        }
        loop {
            // One pass, nothing collected: this runs after every input (a profile of the
            // simulator's thousand nodes had the collected list among its largest costs).
            let mut total = 0u64;
            let mut largest: Option<(u64, PeerId)> = None;
            // Both in peer order: one walk over the announcements beside the peers instead of
            // a lookup per peer (the lookups were ~5% of the simulator's CPU).
            {
                let mut fetch = self.tx_fetch.memories().peekable();
                for (id, p) in &self.peers {
                    while fetch.next_if(|(f, _)| f < id).is_some() {}
                    let tx = fetch.next_if(|(f, _)| f == id).map_or(0, |(_, b)| b);
                    let held = (Self::memory_of(p, tx).total(), *id);
                    total += held.0;
                    largest = largest.max(Some(held));
                }
            }
            if total <= self.config.peer_memory_budget {
                return;
            }
            let Some((bytes, peer)) = largest else {
                return;
            };
            log::warn!("peer memory {total} bytes over the budget: dropping peer {peer}");
            self.disconnect(peer, DisconnectReason::MemoryBudget(bytes));
        }
    }

    /// True when the peers cannot hold more than the budget even each at its bound
    /// ([`PEER_MEMORY_BUDGET`], with this node's send queue limit): then no peer need be
    /// measured. Every kind is within its bound at the end of each input once the peers over
    /// their send queue's hard limit are gone; without a send queue limit nothing bounds it.
    fn budget_holds_whatever_peers_hold(&self) -> bool {
        let Some(limit) = self.config.max_send_queue else {
            return false;
        };
        let per_peer = (PEER_MEMORY_BUDGET - SEND_QUEUE_HARD_LIMIT)
            .saturating_add(limit.saturating_add(SEND_QUEUE_SLACK));
        per_peer.saturating_mul(self.peers.len() as u64) <= self.config.peer_memory_budget
    }
}
