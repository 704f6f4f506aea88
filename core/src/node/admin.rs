//! Operating the node's connections by hand: dialing, dropping and pinging peers (RPC
//! `addnode`, `node`, `ping`), manual bans, and the figures `getpeerinfo`, `getnettotals` and
//! `getnodeaddresses` report.

use super::timers::Timer;
use super::{Node, Output, Time};
use crate::chain::ChainStore;
use crate::net::bans::BanList;
use crate::net::connmgr;
use crate::net::ipnet::IpNet;
use crate::net::peer::{DisconnectReason, PeerId};
use crate::net::peer_command::{PeerCommand, PeerCommandError, PeerTarget};
use crate::rpc::handlers::{LocalView, NetView};
use crate::wire::AddrV2Entry;
use std::net::SocketAddr;

impl<S: ChainStore> Node<S> {
    /// Carries out `cmd`.
    pub(super) fn peer_command(&mut self, cmd: PeerCommand) -> Result<(), PeerCommandError> {
        match cmd {
            PeerCommand::Connect { addr, permanent } => self.connect_peer(addr, permanent),
            PeerCommand::Remove(target) => self.remove_peer(target),
            PeerCommand::Disconnect(target) => self.disconnect_peer(target),
            PeerCommand::PingAll => {
                for peer in self.ready_peers() {
                    self.ping(peer);
                }
                Ok(())
            }
        }
    }

    fn connect_peer(&mut self, addr: SocketAddr, permanent: bool) -> Result<(), PeerCommandError> {
        if self.peers.len() >= self.config.max_peers {
            return Err(PeerCommandError::MaxPeers);
        }
        if self.config.permanent_peers.contains(&addr) {
            return Err(match permanent {
                true => PeerCommandError::AlreadyAdded,
                false => PeerCommandError::ExistsAsPermanent,
            });
        }
        if permanent {
            self.config.permanent_peers.push(addr);
            self.dial_permanent(addr);
        } else {
            self.outputs.push_back(Output::Connect { addr });
        }
        Ok(())
    }

    /// The connections `target` names.
    fn targets(&self, target: PeerTarget) -> Vec<PeerId> {
        self.peers
            .iter()
            .filter(|(id, p)| match target {
                PeerTarget::Id(want) => **id == want,
                PeerTarget::Addr(a) => p.addr == a,
            })
            .map(|(id, _)| *id)
            .collect()
    }

    fn remove_peer(&mut self, target: PeerTarget) -> Result<(), PeerCommandError> {
        let addr = match target {
            PeerTarget::Addr(a) => Some(a).filter(|a| self.config.permanent_peers.contains(a)),
            PeerTarget::Id(id) => self.permanent.get(&id).copied(),
        };
        let Some(addr) = addr else {
            return Err(match self.targets(target).is_empty() {
                true => PeerCommandError::NotFound,
                false => PeerCommandError::TemporaryUseDisconnect,
            });
        };
        self.config.permanent_peers.retain(|a| *a != addr);
        self.timers.cancel(Timer::Reconnect(addr));
        let connected: Vec<PeerId> = self
            .permanent
            .iter()
            .filter(|(_, a)| **a == addr)
            .map(|(id, _)| *id)
            .collect();
        for peer in connected {
            // No longer permanent, so not redialed when it goes.
            self.permanent.remove(&peer);
            self.disconnect(peer, DisconnectReason::Requested);
        }
        Ok(())
    }

    fn disconnect_peer(&mut self, target: PeerTarget) -> Result<(), PeerCommandError> {
        let peers = self.targets(target);
        if peers.is_empty() {
            return Err(PeerCommandError::NotFound);
        }
        if peers.iter().any(|id| self.permanent.contains_key(id)) {
            return Err(PeerCommandError::PermanentUseRemove);
        }
        for peer in peers {
            self.disconnect(peer, DisconnectReason::Requested);
        }
        Ok(())
    }

    /// Bans `net` until `until` (ms), drops its connected peers, and saves the ban list so the
    /// ban outlives a restart.
    pub(super) fn ban(&mut self, net: IpNet, until: Time) {
        self.banned.ban(net, until);
        self.save_bans();
        let inside: Vec<PeerId> = self
            .peers
            .iter()
            .filter(|(_, p)| net.contains(p.addr.ip().to_canonical()))
            .map(|(id, _)| *id)
            .collect();
        for peer in inside {
            self.disconnect(peer, DisconnectReason::AddressBanned);
        }
    }

    /// Lifts the ban on exactly `net` and saves the list.
    pub(super) fn unban(&mut self, net: &IpNet) {
        if self.banned.unban(net) {
            self.save_bans();
        }
    }

    /// Lifts every ban and saves the list.
    pub(super) fn clear_bans(&mut self) {
        self.banned = BanList::default();
        self.save_bans();
    }

    /// The bans in force or not yet expired.
    pub fn bans(&self) -> &BanList {
        &self.banned
    }

    /// The peer headers are synced from, if any (`getpeerinfo`'s `syncnode`).
    pub fn sync_peer(&self) -> Option<PeerId> {
        self.sync.headers_peer()
    }

    /// The network side as the RPC handlers read it, at `now`.
    pub(super) fn net_view(&self) -> NetView<'_> {
        NetView {
            peers: &self.peers,
            added: &self.config.permanent_peers,
            permanent: &self.permanent,
            totals: self.totals,
            sync_peer: self.sync.headers_peer(),
            bans: &self.banned,
            now: self.now,
            local: LocalView {
                services: self.config.services,
                user_agent: &self.config.user_agent,
                relay: !self.config.blocks_only,
                addrs: &self.advertised,
            },
        }
    }

    /// Up to `count` known good IP addresses, a random share as a `getaddr` answer has.
    pub(super) fn node_addresses(&mut self, count: usize) -> Vec<AddrV2Entry> {
        let mut cache = self.addrs.address_cache(self.now.unix_secs());
        cache.retain(|e| connmgr::to_legacy(e).is_some());
        cache.truncate(count);
        cache
    }
}
