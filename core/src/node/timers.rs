//! What [`Input::Tick`](super::Input::Tick) runs: peer deadlines and pings, the stall check,
//! request expiry, rebroadcasts, dialing, the periodic address book save and chain-state
//! flush.

use super::addresses::{ADDR_SAVE_INTERVAL_MS, LOCAL_ADVERT_INTERVAL_MS};
use super::peers::RECONNECT_DELAY_MS;
use super::{Node, Output};
use crate::chain::ChainStore;
use crate::net::peer::{DisconnectReason, PeerId};
use crate::net::syncmgr::STALL_CHECK_MS;
use std::net::SocketAddr;

impl<S: ChainStore> Node<S> {
    pub(super) fn on_tick(&mut self) {
        let now = self.now;
        let due: Vec<(PeerId, Option<DisconnectReason>, bool)> = self
            .peers
            .iter()
            .map(|(id, p)| {
                let ping_due = p.ping.is_none() && p.next_ping.is_some_and(|t| t <= now);
                (*id, p.expired(now), ping_due)
            })
            .collect();
        for (peer, expired, ping_due) in due {
            if let Some(reason) = expired {
                self.disconnect(peer, reason);
            } else if ping_due {
                self.ping(peer);
            }
        }
        let trickles: Vec<PeerId> = self
            .peers
            .iter()
            .filter(|(_, p)| p.trickle_due.is_some_and(|t| t <= now))
            .map(|(id, _)| *id)
            .collect();
        for peer in trickles {
            self.trickle(peer);
        }
        if self.next_stall_check.is_some_and(|t| t <= now) {
            self.next_stall_check = None;
            for peer in self.sync.stalled(now) {
                self.disconnect(peer, DisconnectReason::Stalled);
            }
        }
        self.expire_tx_requests();
        self.mempool.expire_orphans(self.now_secs());
        let random = self.rng.next_u64();
        let due = self.mempool.rebroadcast.due(self.now_secs(), random);
        if !due.is_empty() {
            self.announce_txs(None, &due, true);
        }
        self.connmgr.expire(now);
        self.retry_seeds();
        if self.next_local_advert <= now {
            self.next_local_advert = now + LOCAL_ADVERT_INTERVAL_MS;
            self.advertise_to_all();
        }
        self.dial_due();
        self.fill_outbound();
        self.expire_ws_clients();
        self.step_jobs();
        if self.next_addr_save <= now {
            self.next_addr_save = now + ADDR_SAVE_INTERVAL_MS;
            self.save_addr_book();
        }
        // Ticks come at least every address-save interval, well within the flush interval.
        if let Err(e) = self.chain.maybe_flush(self.now_secs()) {
            self.fail(&e.to_string());
        }
    }

    pub(super) fn dial_due(&mut self) {
        let due: Vec<SocketAddr> = self
            .reconnect
            .iter()
            .filter(|(_, t)| **t <= self.now)
            .map(|(a, _)| *a)
            .collect();
        for addr in due {
            // Re-armed in case the attempt fails silently; a connection clears it.
            self.reconnect
                .insert(addr, self.now + RECONNECT_DELAY_MS * 6);
            self.outputs.push_back(Output::Connect { addr });
        }
    }

    pub(super) fn arm_stall_check(&mut self) {
        // `nostalldetect`: the check never runs, so no peer is dropped for stalling.
        if self.config.no_stall_detect {
            return;
        }
        if self.next_stall_check.is_none() && self.sync.busy() {
            self.next_stall_check = Some(self.now + STALL_CHECK_MS);
        }
    }

    /// Releases transaction requests that went unanswered; their peers get free slots.
    fn expire_tx_requests(&mut self) {
        for peer in self.tx_fetch.expire(self.now) {
            self.request_txs(peer);
        }
    }
}
