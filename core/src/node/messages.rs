//! Messages from peers that finished the handshake, and serving their `getdata` requests.

use super::Node;
use crate::chain::ChainStore;
use crate::net::budget::MAX_GETDATA_BACKLOG;
use crate::net::peer::{DisconnectReason, PeerId};
use crate::net::{connmgr, syncmgr};
use crate::primitives::Transaction;
use crate::wire::protocol::MAX_INV_PER_MSG;
use crate::wire::{AddrV2Entry, Command, InvType, Inventory, Message};

fn is_tx(item: &Inventory) -> bool {
    matches!(item.inv_type.base(), InvType::TX | InvType::WTX)
}

/// Transient ban score for a mempool request (btcd's amount, against floods).
pub const MEMPOOL_BAN_SCORE: u32 = 33;

impl<S: ChainStore> Node<S> {
    pub(super) fn on_ready_message(&mut self, peer: PeerId, msg: Message) {
        match msg {
            Message::Ping(nonce) => self.send(peer, &Message::Pong(nonce)),
            Message::Pong(nonce) => {
                if let Some(p) = self.peers.get_mut(&peer) {
                    // A pong with another nonce answers nothing we sent.
                    if let Some((_, sent)) = p.ping.filter(|(n, _)| *n == nonce) {
                        let rtt = self.now.since(sent);
                        p.ping = None;
                        p.ping_rtt = Some(rtt);
                        p.min_ping = Some(p.min_ping.map_or(rtt, |m| m.min(rtt)));
                        // The next ping may now be due before the deadline armed.
                        self.arm_peer(peer);
                    }
                }
            }
            Message::SendHeaders => {
                if let Some(p) = self.peers.get_mut(&peer) {
                    p.send_headers = true;
                }
            }
            Message::GetHeaders(req) => {
                let headers =
                    syncmgr::headers_after(self.chain.index(), &req.locator, &req.stop_hash);
                self.send(peer, &Message::Headers(headers));
            }
            Message::GetBlocks(req) => {
                let hashes =
                    syncmgr::blocks_after(self.chain.index(), &req.locator, &req.stop_hash);
                let inv = hashes
                    .into_iter()
                    .map(|hash| Inventory {
                        inv_type: InvType::BLOCK,
                        hash,
                    })
                    .collect::<Vec<_>>();
                if !inv.is_empty() {
                    self.send(peer, &Message::Inv(inv));
                }
            }
            Message::GetData(items) => self.on_getdata(peer, items),
            Message::GetAddr => self.on_getaddr(peer),
            Message::Addr(list) => {
                let entries: Vec<AddrV2Entry> = list.iter().map(connmgr::from_legacy).collect();
                self.on_addrs(peer, &entries);
            }
            Message::AddrV2(entries) => self.on_addrs(peer, &entries),
            Message::Headers(headers) => self.on_headers(peer, headers),
            // btcd: with blocksonly our version asked for no transactions (BIP37's relay flag).
            Message::Inv(items) if self.config.blocks_only && items.iter().any(is_tx) => {
                self.disconnect(peer, DisconnectReason::TxRelayInBlocksOnly)
            }
            Message::Inv(items) => self.on_inv(peer, items),
            Message::Block(block) => {
                // A refusal already raised the peer's ban score.
                let _ = self.on_block(Some(peer), block);
            }
            // btcd: blocksonly ignores transactions from peers.
            Message::Tx(_) if self.config.blocks_only => {}
            Message::Tx(tx) => self.on_tx(peer, tx),
            Message::NotFound(items) => {
                // Not misbehaviour (btcd's ban score here gets honest nodes banned).
                for item in items {
                    if item.inv_type.base() == InvType::BLOCK {
                        self.sync.block_not_found(peer, &item.hash);
                    } else {
                        self.tx_fetch.not_found(peer, &item.hash);
                    }
                }
                self.request_txs(peer);
            }
            Message::MemPool => {
                self.misbehave(peer, 0, MEMPOOL_BAN_SCORE, "mempool");
                if self.peers.contains_key(&peer) {
                    let inv: Vec<Inventory> = self
                        .mempool
                        .entries()
                        .take(MAX_INV_PER_MSG)
                        .map(|e| Inventory {
                            inv_type: InvType::TX,
                            hash: e.txid,
                        })
                        .collect();
                    if !inv.is_empty() {
                        self.send(peer, &Message::Inv(inv));
                    }
                }
            }
            // Core ignores rates outside the money range.
            Message::FeeFilter(rate)
                if (0..=crate::primitives::transaction::MAX_MONEY).contains(&rate) =>
            {
                if let Some(p) = self.peers.get_mut(&peer) {
                    p.fee_filter = rate;
                }
            }
            // The rest carry nothing the node acts on.
            _ => {}
        }
    }

    /// Queues a `getdata` behind any earlier one still waiting, and serves what fits the
    /// peer's send buffer now; the rest is served as the peer reads (Core's `vRecvGetData`).
    fn on_getdata(&mut self, peer: PeerId, items: Vec<Inventory>) {
        let score = (items.len() * 99 / MAX_INV_PER_MSG) as u32;
        if score > 0 {
            self.misbehave(peer, 0, score, "getdata");
        }
        let Some(p) = self.peers.get_mut(&peer) else {
            return;
        };
        let waiting = p.getdata_backlog.len() + items.len();
        if waiting > MAX_GETDATA_BACKLOG {
            return self.disconnect(peer, DisconnectReason::GetDataBacklog(waiting));
        }
        p.getdata_backlog.extend(items);
        self.serve_getdata(peer);
    }

    /// Serves waiting `getdata` items of every peer whose send buffer has room again.
    pub(super) fn serve_getdata_backlogs(&mut self) {
        let waiting: Vec<PeerId> = self
            .peers
            .iter()
            .filter(|(_, p)| !p.getdata_backlog.is_empty())
            .map(|(id, _)| *id)
            .collect();
        for peer in waiting {
            self.serve_getdata(peer);
        }
    }

    /// Serves `peer`'s waiting `getdata` items, one at a time while its send buffer has room,
    /// then one `notfound` for those we lack.
    fn serve_getdata(&mut self, peer: PeerId) {
        let mut missing = Vec::new();
        while !self.send_queue_full(peer) {
            let Some(item) = self
                .peers
                .get_mut(&peer)
                .and_then(|p| p.getdata_backlog.pop_front())
            else {
                break;
            };
            // Requests without the witness flag get stripped data (pre-segwit peers).
            let witness = item.inv_type.has_witness() || item.inv_type == InvType::WTX;
            let msg = match item.inv_type.base() {
                // With witnesses: the stored bytes as they are, nothing decoded.
                InvType::BLOCK if witness => match self.chain.block_bytes(&item.hash) {
                    Ok(Some(raw)) => {
                        self.send_raw(peer, Command::Block, &raw);
                        continue;
                    }
                    Ok(None) => None,
                    Err(e) => return self.fail(&e.to_string()),
                },
                InvType::BLOCK => match self.chain.block(&item.hash) {
                    Ok(found) => found.map(|mut b| {
                        b.txdata.iter_mut().for_each(strip_witness);
                        Message::Block(b)
                    }),
                    Err(e) => return self.fail(&e.to_string()),
                },
                InvType::TX | InvType::WTX => {
                    let entry = match item.inv_type.base() {
                        InvType::TX => self.mempool.get(&item.hash),
                        _ => self.mempool.get_by_wtxid(&item.hash),
                    };
                    entry.map(|e| {
                        let mut tx = (*e.tx).clone();
                        if !witness {
                            strip_witness(&mut tx);
                        }
                        Message::Tx(tx)
                    })
                }
                _ => None,
            };
            match msg {
                Some(m) => self.send(peer, &m),
                None => missing.push(item),
            }
        }
        if let Some(p) = self.peers.get_mut(&peer) {
            if p.getdata_backlog.is_empty() {
                // Give back a big request's ring buffer once it is served.
                p.getdata_backlog = Default::default();
            }
        }
        if !missing.is_empty() {
            self.send(peer, &Message::NotFound(missing));
        }
    }
}

/// Removes a transaction's witnesses, leaving what a pre-segwit peer can decode.
fn strip_witness(tx: &mut Transaction) {
    for input in &mut tx.inputs {
        input.witness.clear();
    }
}
