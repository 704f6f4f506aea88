//! Connections coming and going: admission (limits, bans, inbound eviction), forgetting a
//! peer, its ban score, saving the ban list, and pings.

use super::timers::Timer;
use super::{Node, Notification};
use crate::chain::ChainStore;
use crate::net::banscore::{verdict, Verdict};
use crate::net::connmgr;
use crate::net::eviction;
use crate::net::group::group_key;
use crate::net::ipnet::IpNet;
use crate::net::peer::{Direction, DisconnectReason, Peer, PeerId, PING_INTERVAL};
use crate::primitives::murmur3::murmur3;
use crate::wire::Message;
use crate::wire::ServiceFlags;
use std::net::SocketAddr;
use std::time::Duration;

/// Delay before reconnecting to a permanent peer (btcd's connmgr retry base).
pub const RECONNECT_DELAY: Duration = Duration::from_secs(5);

impl<S: ChainStore> Node<S> {
    /// The peers that completed the handshake.
    pub(super) fn ready_peers(&self) -> Vec<PeerId> {
        self.peers
            .iter()
            .filter(|(_, p)| p.is_ready())
            .map(|(id, _)| *id)
            .collect()
    }

    pub(super) fn on_connected(&mut self, peer: PeerId, addr: SocketAddr, direction: Direction) {
        let p = Box::new(Peer::new(
            addr,
            direction,
            self.params.magic,
            self.now,
            self.inventory_key,
        ));
        let banned = self.is_banned(&addr.ip(), self.now);
        let inbound = self
            .peers
            .values()
            .filter(|p| p.direction == Direction::Inbound)
            .count();
        let max_inbound = connmgr::max_inbound(
            self.config.max_peers,
            self.config.permanent_peers.len(),
            self.config.connect_only,
        );
        let mut full = self.peers.len() >= self.config.max_peers
            || (direction == Direction::Inbound && inbound >= max_inbound);
        // Core's eviction: a new inbound connection may take the slot of a less useful one,
        // so that one host cannot hold every slot.
        if full && direction == Direction::Inbound && !banned {
            if let Some(victim) = self.eviction_victim() {
                self.disconnect(victim, DisconnectReason::Evicted);
                full = false;
            }
        }
        if direction == Direction::Outbound {
            self.timers.cancel(Timer::Reconnect(addr));
            self.dial_ended(&addr);
            if self.config.permanent_peers.contains(&addr) {
                self.permanent.insert(peer, addr);
            }
        }
        // Registered first so that `disconnect` reports it.
        self.peers.insert(peer, p);
        self.arm_peer(peer);
        if banned {
            return self.disconnect(peer, DisconnectReason::AddressBanned);
        }
        if full {
            return self.disconnect(peer, DisconnectReason::TooManyPeers);
        }
        if direction == Direction::Outbound {
            self.send_version(peer);
        }
    }

    /// The inbound peer to drop for a new inbound connection, if any may be
    /// ([`eviction::select`]); whitelisted peers are never candidates.
    fn eviction_victim(&self) -> Option<PeerId> {
        let candidates = self
            .peers
            .iter()
            .filter(|(_, p)| {
                p.direction == Direction::Inbound
                    && !self
                        .config
                        .whitelist
                        .iter()
                        .any(|n| n.contains(p.addr.ip()))
            })
            .map(|(id, p)| eviction::Candidate {
                id: *id,
                connected_at: p.connected_at.as_millis(),
                min_ping: p
                    .min_ping
                    .map(|d| d.as_millis().try_into().unwrap_or(u64::MAX)),
                last_block_at: p.last_block_at.as_millis(),
                last_tx_at: p.last_tx_at.as_millis(),
                relays_txs: p.relays_txs(),
                full_node: p
                    .remote
                    .as_ref()
                    .is_some_and(|v| v.services.has(ServiceFlags::NETWORK)),
                keyed_group: u64::from(murmur3(
                    self.eviction_key,
                    group_key(&connmgr::peer_addr(&p.addr).addr).as_bytes(),
                )),
            })
            .collect();
        eviction::select(candidates)
    }

    pub(super) fn forget(&mut self, peer: PeerId) {
        if self.peers.remove(&peer).is_none() {
            return;
        }
        self.timers.cancel(Timer::Peer(peer));
        self.timers.cancel(Timer::Trickle(peer));
        self.turns.remove(peer);
        self.sync.peer_gone(peer);
        self.tx_fetch.peer_gone(peer);
        if let Some(addr) = self.permanent.remove(&peer) {
            self.schedule_reconnect(addr);
        }
        self.start_headers_sync();
        self.fill_outbound();
    }

    /// Adds to `peer`'s ban score; bans and disconnects at the threshold.
    pub(super) fn misbehave(
        &mut self,
        peer: PeerId,
        persistent: u32,
        transient: u32,
        reason: &str,
    ) {
        if self.config.disable_banning {
            return;
        }
        let now_secs = self.now.unix_secs();
        let Some(p) = self.peers.get_mut(&peer) else {
            return;
        };
        let ip = p.addr.ip();
        if self.config.whitelist.iter().any(|net| net.contains(ip)) {
            log::debug!("misbehaving whitelisted peer {peer}: {reason}");
            return;
        }
        let score = p.ban_score.increase(persistent, transient, now_secs);
        match verdict(score, self.config.ban_threshold) {
            Verdict::Fine => {}
            Verdict::Warn => log::warn!("misbehaving peer {peer}: {reason} -- ban score {score}"),
            Verdict::Ban => {
                let until = self.now + self.config.ban_duration;
                self.banned.ban(IpNet::host(ip.to_canonical()), until);
                self.save_bans();
                self.notify(Notification::Banned { ip, until });
                self.disconnect(
                    peer,
                    DisconnectReason::Banned {
                        score,
                        reason: reason.to_string(),
                    },
                );
            }
        }
    }

    pub(super) fn save_bans(&mut self) {
        if let Err(e) = self.chain.save_bans(self.banned.save()) {
            self.fail(&e.to_string());
        }
    }

    pub(super) fn ping(&mut self, peer: PeerId) {
        let nonce = self.nonces.next_u64();
        let Some(p) = self.peers.get_mut(&peer) else {
            return;
        };
        p.ping = Some((nonce, self.now));
        p.next_ping = Some(self.now + PING_INTERVAL);
        self.send(peer, &Message::Ping(nonce));
    }
}
