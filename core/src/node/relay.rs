//! Transactions: submitted locally or received from peers, accepted into the mempool, then
//! announced to the peers that want them; which announced transactions to request, and the
//! ban score for refused ones.

use super::timers::Timer;
use super::{Node, Notification};
use crate::chain::ChainStore;
use crate::mempool::{Accepted, RejectReason};
use crate::net::peer::PeerId;
use crate::primitives::{Transaction, Txid};
use crate::wire::protocol::MAX_INV_PER_MSG;
use crate::wire::{InvType, Inventory, Message};
use std::sync::Arc;

/// Ban score for relaying a transaction invalid in every context (Core's punishment of
/// `TX_CONSENSUS` failures).
pub const INVALID_TX_BAN_SCORE: u32 = 100;
/// Transient ban score for a transaction we did not ask for that the mempool refused: honest
/// peers announce first and send only what is requested, so a stream of these is a flood.
pub const UNSOLICITED_REJECT_BAN_SCORE: u32 = 2;

impl<S: ChainStore> Node<S> {
    pub(super) fn submit_tx(&mut self, tx: Transaction) -> Result<Accepted, RejectReason> {
        let txid = tx.txid();
        let random = self.mempool_rng.next_u64();
        let result = self
            .mempool
            .accept(tx, &self.chain, self.now.unix_secs(), random);
        match &result {
            Ok(Accepted::Added(ids)) => {
                self.mempool
                    .rebroadcast_until_mined(txid, self.now.unix_secs());
                self.arm_rebroadcast();
                self.relay_txs(None, ids.clone());
            }
            Ok(Accepted::Orphan(_)) => {}
            Err(reason) => self.notify(Notification::TxRejected {
                txid,
                reason: reason.clone(),
            }),
        }
        result
    }

    pub(super) fn on_tx(&mut self, peer: PeerId, tx: Transaction) {
        let txid = tx.txid();
        let wtxid = tx.wtxid();
        let asked = [
            self.tx_fetch.received(&txid),
            self.tx_fetch.received(&wtxid),
        ];
        let solicited = asked.contains(&Some(peer));
        if let Some(p) = self.peers.get_mut(&peer) {
            p.learn(txid);
        }
        let random = self.mempool_rng.next_u64();
        match self
            .mempool
            .accept(tx, &self.chain, self.now.unix_secs(), random)
        {
            Ok(Accepted::Added(ids)) => {
                if let Some(p) = self.peers.get_mut(&peer) {
                    p.last_tx_at = self.now;
                }
                self.relay_txs(Some(peer), ids)
            }
            Ok(Accepted::Orphan(parents)) => {
                for hash in parents {
                    let item = Inventory {
                        inv_type: InvType::TX,
                        hash,
                    };
                    self.tx_fetch.announce(peer, item);
                }
            }
            Err(RejectReason::AlreadyHave(_) | RejectReason::AlreadyOrphan(_)) => {}
            Err(reason) => {
                log::debug!("tx {txid} from peer {peer} rejected: {reason}");
                self.rejected_txs.insert(&txid.0);
                self.rejected_txs.insert(&wtxid.0);
                if reason.is_invalid() {
                    self.misbehave(peer, INVALID_TX_BAN_SCORE, 0, &reason.to_string());
                } else if !solicited {
                    self.misbehave(
                        peer,
                        0,
                        UNSOLICITED_REJECT_BAN_SCORE,
                        "unrequested tx refused",
                    );
                }
            }
        }
        // Whoever was asked has a free request slot again.
        let mut askers: Vec<PeerId> = asked.into_iter().flatten().collect();
        askers.push(peer);
        askers.dedup();
        for p in askers {
            self.request_txs(p);
        }
    }

    /// Asks `peer` for the transactions it announced that we still want, up to its free
    /// request slots.
    pub(super) fn request_txs(&mut self, peer: PeerId) {
        if !self.peers.contains_key(&peer) {
            return;
        }
        let (mempool, rejected) = (&self.mempool, &self.rejected_txs);
        let want = self.tx_fetch.requests(peer, self.now, |item| {
            let have = match item.inv_type.base() {
                InvType::WTX => mempool.get_by_wtxid(&item.hash).is_some(),
                _ => mempool.have(&item.hash),
            };
            !have && !rejected.contains(&item.hash.0)
        });
        if !want.is_empty() {
            self.timers
                .set(Timer::TxRequests, self.tx_fetch.next_expiry());
            self.send(peer, &Message::GetData(want));
        }
    }

    /// Notifies and announces newly accepted transactions.
    fn relay_txs(&mut self, from: Option<PeerId>, txids: Vec<Txid>) {
        for txid in &txids {
            if let Some(entry) = self.mempool.get(txid) {
                let tx = Arc::clone(&entry.tx);
                self.notify(Notification::TxAccepted(Arc::clone(&tx)));
                self.ws_tx_accepted(&tx);
            }
            self.mining.mempool_updated();
        }
        self.announce_txs(from, &txids, false);
    }

    /// Announces transactions to every ready peer that relays them except `from`; unless
    /// `force` (a rebroadcast), only to peers not known to have them; never to a peer whose
    /// feefilter the transaction's fee rate is below.
    pub(super) fn announce_txs(&mut self, from: Option<PeerId>, txids: &[Txid], force: bool) {
        // Fee rates in satoshis per 1000 vbytes, as feefilter counts them.
        let rates: Vec<i64> = txids
            .iter()
            .map(|t| {
                self.mempool.get(t).map_or(i64::MAX, |e| {
                    e.fee.saturating_mul(1000) / e.vsize().max(1) as i64
                })
            })
            .collect();
        let targets: Vec<PeerId> = self
            .peers
            .iter()
            .filter(|(id, p)| Some(**id) != from && p.is_ready() && p.relays_txs())
            .map(|(id, _)| *id)
            .collect();
        for peer in targets {
            let Some(p) = self.peers.get_mut(&peer) else {
                continue;
            };
            let inv: Vec<Inventory> = txids
                .iter()
                .zip(&rates)
                .filter(|(t, rate)| (force || !p.knows(t)) && **rate >= p.fee_filter)
                .map(|(hash, _)| Inventory {
                    inv_type: InvType::TX,
                    hash: *hash,
                })
                .collect();
            for item in &inv {
                p.learn(item.hash);
            }
            p.tx_inv_queue.extend(inv);
            self.trickle(peer);
        }
    }

    /// Sends `peer` its queued transaction announcements when `trickleinterval` has passed
    /// since the last ones, else arms the peer's trickle timer for then.
    pub(super) fn trickle(&mut self, peer: PeerId) {
        let (now, interval) = (self.now, self.config.trickle_interval);
        let Some(p) = self.peers.get_mut(&peer) else {
            return;
        };
        if p.tx_inv_queue.is_empty() {
            return self.timers.cancel(Timer::Trickle(peer));
        }
        let due = p.last_tx_inv.map_or(now, |last| last + interval);
        if due > now {
            return self.timers.arm(Timer::Trickle(peer), due);
        }
        self.timers.cancel(Timer::Trickle(peer));
        p.last_tx_inv = Some(now);
        let queued = std::mem::take(&mut p.tx_inv_queue);
        for inv in queued.chunks(MAX_INV_PER_MSG) {
            self.send(peer, &Message::Inv(inv.to_vec()));
        }
    }
}
