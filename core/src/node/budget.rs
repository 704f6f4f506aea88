//! The memory peers make the node hold ([`crate::net::budget`]): accounted per peer, and
//! enforced after every input — a peer that stopped reading is dropped past its send queue's
//! hard limit, and when all peers together pass the node's budget the one holding the most goes.

use super::Node;
use crate::chain::ChainStore;
use crate::net::budget::{PeerMemory, PEER_FIXED, SEND_QUEUE_SLACK};
use crate::net::peer::{DisconnectReason, PeerId};
use crate::wire::Inventory;

impl<S: ChainStore> Node<S> {
    /// What `peer` makes the node hold now, by kind; `None` for an unknown peer.
    pub fn peer_memory(&self, peer: PeerId) -> Option<PeerMemory> {
        let p = self.peers.get(&peer)?;
        Some(PeerMemory {
            receive: p.decoder.held() as u64,
            send: p.send_queue,
            getdata_backlog: (p.getdata_backlog.capacity() * std::mem::size_of::<Inventory>())
                as u64,
            known_inventory: p.known_memory(),
            tx_announcements: self.tx_fetch.memory(peer),
            fixed: PEER_FIXED,
        })
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
        loop {
            let held: Vec<(u64, PeerId)> = self
                .peers
                .keys()
                .filter_map(|id| Some((self.peer_memory(*id)?.total(), *id)))
                .collect();
            let total: u64 = held.iter().map(|(bytes, _)| bytes).sum();
            if total <= self.config.peer_memory_budget {
                return;
            }
            let Some(&(bytes, peer)) = held.iter().max() else {
                return;
            };
            log::warn!("peer memory {total} bytes over the budget: dropping peer {peer}");
            self.disconnect(peer, DisconnectReason::MemoryBudget(bytes));
        }
    }
}
