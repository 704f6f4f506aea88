//! Addresses: DNS seeds, `addr`/`addrv2` and `getaddr`, our own addresses and when they are
//! advertised, automatic outbound dialing, and saving the address book.

use super::timers::Timer;
use super::{Node, Output};
use crate::chain::ChainStore;
use crate::net::connmgr;
use crate::net::local::LocalSource;
use crate::net::peer::{Direction, PeerId};
use crate::wire::protocol::MAX_ADDR_PER_MSG;
use crate::wire::{AddrV2Entry, Message, ServiceFlags};
use std::collections::BTreeSet;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

/// The address book is saved this often (btcd's `dumpAddressInterval`), and at shutdown.
pub const ADDR_SAVE_INTERVAL: Duration = Duration::from_secs(10 * 60);
/// A DNS seed that gave nothing (a failed lookup) is asked again after this long, while the
/// address book still needs addresses.
pub const SEED_RETRY: Duration = Duration::from_secs(10 * 60);
/// Our address is advertised again to every peer this often (Core: once a day on average),
/// besides once to each outbound peer after the handshake (btcd).
pub const LOCAL_ADVERT_INTERVAL: Duration = Duration::from_secs(24 * 3600);
/// After the address book yielded fewer candidates than free outbound slots, how long to wait
/// before searching it again unless new addresses arrive (btcd's connection manager retries
/// after 5 s).
pub const OUTBOUND_RETRY: Duration = Duration::from_secs(5);

impl<S: ChainStore> Node<S> {
    /// Asks the driver to look `seed` up, unless seeding is off.
    pub(super) fn resolve_seed(&mut self, seed: String) {
        if self.config.dns_seed && !self.config.connect_only {
            self.outputs.push_back(Output::Resolve { seed });
        }
    }

    /// Asks the network's seed number `index` again if the address book still needs more.
    pub(super) fn retry_seed(&mut self, index: usize) {
        if let Some(seed) = self.params.dns_seeds.get(index).cloned() {
            if self.addrs.need_more() {
                self.resolve_seed(seed);
            }
        }
    }

    pub(super) fn on_resolved(&mut self, seed: String, found: &[IpAddr]) {
        // Seeds answer with nodes listening on the network's standard port.
        let port = self.params.standard_port;
        let found: Vec<SocketAddr> = found.iter().map(|ip| SocketAddr::new(*ip, port)).collect();
        let Some(first) = found.first() else {
            log::debug!("DNS seed {seed} gave no addresses; asking again later");
            // Only the network's own seeds are asked, so only they are asked again.
            if let Some(index) = self.params.dns_seeds.iter().position(|s| *s == seed) {
                self.timers
                    .arm(Timer::SeedRetry(index), self.now + SEED_RETRY);
            }
            return;
        };
        let entries: Vec<AddrV2Entry> = found
            .iter()
            .map(|a| {
                let p = connmgr::peer_addr(a);
                AddrV2Entry {
                    time: self.now.unix_secs() as u32,
                    services: ServiceFlags::NETWORK,
                    addr: p.addr,
                    port: p.port,
                }
            })
            .collect();
        // btcd credits the seed's first answer as the source.
        let source = connmgr::peer_addr(first).addr;
        self.addrs.add(&entries, &source, self.now.unix_secs());
        self.timers.cancel(Timer::Outbound);
        self.fill_outbound();
    }

    pub(super) fn on_addrs(&mut self, peer: PeerId, entries: &[AddrV2Entry]) {
        let Some(p) = self.peers.get(&peer) else {
            return;
        };
        let source = connmgr::peer_addr(&p.addr).addr;
        let whitelisted = self
            .config
            .whitelist
            .iter()
            .any(|n| n.contains(p.addr.ip()));
        let now = self.now;
        let Some(p) = self.peers.get_mut(&peer) else {
            return;
        };
        // Whitelisted peers relay without limit (Core's addr permission).
        let admitted = match whitelisted {
            true => entries.len(),
            false => p.addr_rate.admit(entries.len(), now),
        };
        let known = self.addrs.len();
        self.addrs
            .add(&entries[..admitted], &source, self.now.unix_secs());
        if self.addrs.len() > known {
            // New addresses end the wait for a dry book.
            self.timers.cancel(Timer::Outbound);
        }
        self.fill_outbound();
    }

    /// Answers one getaddr per inbound connection, as btcd (outbound peers could use the
    /// answer to fingerprint us).
    pub(super) fn on_getaddr(&mut self, peer: PeerId) {
        let Some(p) = self.peers.get_mut(&peer) else {
            return;
        };
        if p.direction == Direction::Outbound || p.sent_addrs {
            return;
        }
        p.sent_addrs = true;
        let addrv2 = p.send_addrv2;
        let mut cache = self.addrs.address_cache(self.now.unix_secs());
        // Our own address first, so a peer that asks learns where to reach us.
        if let Some(own) = self.own_entry(peer) {
            cache.retain(|e| (&e.addr, e.port) != (&own.addr, own.port));
            cache.insert(0, own);
        }
        cache.truncate(MAX_ADDR_PER_MSG);
        let msg = match addrv2 {
            true => Message::AddrV2(cache),
            false => Message::Addr(cache.iter().filter_map(connmgr::to_legacy).collect()),
        };
        self.send(peer, &msg);
    }

    /// Dials addresses from the address manager while automatic outbound slots are free.
    /// Called when a slot may have freed or addresses arrived, and on ticks, not on every
    /// input: finding no candidate costs up to a hundred draws per slot.
    pub(super) fn fill_outbound(&mut self) {
        if self.config.connect_only || self.addrs.is_empty() {
            return;
        }
        let target =
            connmgr::target_outbound(self.config.max_peers, self.config.permanent_peers.len());
        let outbound: Vec<SocketAddr> = self
            .peers
            .iter()
            .filter(|(id, p)| {
                p.direction == Direction::Outbound && !self.permanent.contains_key(id)
            })
            .map(|(_, p)| p.addr)
            .collect();
        let free = target.saturating_sub(outbound.len() + self.connmgr.dialing_count());
        if free == 0 || self.timers.is_armed(Timer::Outbound) {
            // Nothing to pick, or the book ran dry moments ago (this runs after every addr
            // message and dial: keep both cases cheap).
            return;
        }
        let mut connected: BTreeSet<SocketAddr> = self.peers.values().map(|p| p.addr).collect();
        connected.extend(&self.local_addrs);
        let (now, banned) = (self.now, &self.banned);
        let picks = self.connmgr.pick(
            &mut self.addrs,
            target,
            &outbound,
            &connected,
            |ip| banned.is_banned(*ip, now),
            now,
        );
        self.dialing(&picks);
        if picks.len() < free {
            // As btcd's connection manager, wait before searching a dry book again; new
            // addresses end the wait.
            self.timers.arm(Timer::Outbound, self.now + OUTBOUND_RETRY);
        }
        for addr in picks {
            self.outputs.push_back(Output::Connect { addr });
        }
    }

    /// Our address best reachable from `peer`, as an address entry stamped now.
    pub(super) fn own_entry(&self, peer: PeerId) -> Option<AddrV2Entry> {
        let p = self.peers.get(&peer)?;
        let own = self
            .advertised
            .best_for(&connmgr::peer_addr(&p.addr).addr)?;
        Some(AddrV2Entry {
            time: self.now.unix_secs() as u32,
            services: self.config.services,
            addr: own.addr.clone(),
            port: own.port,
        })
    }

    /// Sends `peer` our address best reachable from it, if there is one.
    pub(super) fn advertise_to(&mut self, peer: PeerId) {
        let Some(own) = self.own_entry(peer) else {
            return;
        };
        let addrv2 = self.peers.get(&peer).is_some_and(|p| p.send_addrv2);
        let msg = match addrv2 {
            true => Message::AddrV2(vec![own]),
            false => match connmgr::to_legacy(&own) {
                Some(legacy) => Message::Addr(vec![legacy]),
                None => return,
            },
        };
        self.send(peer, &msg);
    }

    /// Advertises our address to every ready peer (when it is new, and daily).
    pub(super) fn advertise_to_all(&mut self) {
        for peer in self.ready_peers() {
            self.advertise_to(peer);
        }
    }

    /// The driver learnt one of our addresses (UPnP's external address).
    pub(super) fn on_local_address(&mut self, addr: SocketAddr, source: LocalSource) {
        if !self.config.listening {
            return;
        }
        if self.advertised.add(connmgr::peer_addr(&addr), source) {
            log::info!("Advertising local address {addr}");
            self.advertise_to_all();
        } else {
            log::warn!("Local address {addr} is not routable: not advertised");
        }
    }

    pub(super) fn save_addr_book(&mut self) {
        if let Err(e) = self.chain.save_addr_book(self.addrs.save()) {
            self.fail(&e.to_string());
        }
        if self.banned.expire(self.now) {
            self.save_bans();
        }
    }
}
