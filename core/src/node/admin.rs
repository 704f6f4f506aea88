//! Operating the node's connections by hand: dialing, dropping and pinging peers (RPC
//! `addnode`, `node`, `ping`), manual bans, and the figures `getpeerinfo`, `getnettotals` and
//! `getnodeaddresses` report.

use super::{Node, Output, Time};
use crate::chain::ChainStore;
use crate::net::bans::BanList;
use crate::net::connmgr;
use crate::net::ipnet::IpNet;
use crate::net::peer::{DisconnectReason, PeerId};
use crate::rpc::handlers::NetView;
use crate::wire::AddrV2Entry;
use std::fmt;
use std::net::SocketAddr;

/// Bytes through every connection since the node started.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NetTotals {
    /// Bytes handed to the driver to send.
    pub sent: u64,
    /// Bytes received.
    pub recv: u64,
}

/// Which peer a command means: its id, or every connection to an address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PeerTarget {
    /// The driver's id for the connection (`getpeerinfo`'s `id`).
    Id(PeerId),
    /// The remote address.
    Addr(SocketAddr),
}

/// A change to the node's connections (RPC `addnode`, `node`, `ping`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PeerCommand {
    /// Dial `addr`; a permanent peer is also redialed whenever it is lost.
    Connect {
        /// Where to.
        addr: SocketAddr,
        /// Keep it connected (`addnode add`, `node connect perm`).
        permanent: bool,
    },
    /// Stop keeping a permanent peer and drop its connection.
    Remove(PeerTarget),
    /// Drop the connections to a peer that is not permanent.
    Disconnect(PeerTarget),
    /// Send a ping to every peer; the pong times show in `getpeerinfo`.
    PingAll,
}

/// Why a [`PeerCommand`] was refused (btcd's messages).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PeerCommandError {
    /// `maxpeers` connections already.
    MaxPeers,
    /// The address is already a permanent peer.
    AlreadyAdded,
    /// A one-off connection to an address that is a permanent peer.
    ExistsAsPermanent,
    /// No such peer.
    NotFound,
    /// The peer is permanent: `remove` it instead.
    PermanentUseRemove,
    /// The peer is not permanent: `disconnect` it instead.
    TemporaryUseDisconnect,
}

impl fmt::Display for PeerCommandError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PeerCommandError::MaxPeers => "max peers reached",
            PeerCommandError::AlreadyAdded => "peer already connected",
            PeerCommandError::ExistsAsPermanent => "peer exists as a permanent peer",
            PeerCommandError::NotFound => "peer not found",
            PeerCommandError::PermanentUseRemove => "can't disconnect a permanent peer, use remove",
            PeerCommandError::TemporaryUseDisconnect => {
                "can't remove a temporary peer, use disconnect"
            }
        })
    }
}

impl std::error::Error for PeerCommandError {}

impl<S: ChainStore> Node<S> {
    /// Carries out `cmd` at `now`.
    pub fn peer_command(&mut self, now: Time, cmd: PeerCommand) -> Result<(), PeerCommandError> {
        self.now = self.now.max(now);
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
            self.reconnect.insert(addr, self.now);
            self.dial_due();
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
        self.reconnect.remove(&addr);
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

    /// Bans `net` until `until` (ms) at `now`, drops its connected peers, and saves the ban
    /// list so the ban outlives a restart.
    pub fn ban(&mut self, now: Time, net: IpNet, until: Time) {
        self.now = self.now.max(now);
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

    /// Lifts the ban on exactly `net` and saves the list; false when `net` was not banned.
    pub fn unban(&mut self, net: &IpNet) -> bool {
        let lifted = self.banned.unban(net);
        if lifted {
            self.save_bans();
        }
        lifted
    }

    /// The bans in force or not yet expired.
    pub fn bans(&self) -> &BanList {
        &self.banned
    }

    /// Bytes sent and received over all connections since start.
    pub fn net_totals(&self) -> NetTotals {
        self.totals
    }

    /// The peer headers are synced from, if any (`getpeerinfo`'s `syncnode`).
    pub fn sync_peer(&self) -> Option<PeerId> {
        self.sync.headers_peer
    }

    /// The network side as the RPC handlers read it, at `now`.
    pub fn net_view(&self, now: Time) -> NetView<'_> {
        NetView {
            peers: &self.peers,
            added: &self.config.permanent_peers,
            permanent: &self.permanent,
            totals: self.totals,
            sync_peer: self.sync.headers_peer,
            now_ms: now,
        }
    }

    /// Up to `count` known good IP addresses, a random share as a `getaddr` answer has.
    pub fn node_addresses(&mut self, count: usize) -> Vec<AddrV2Entry> {
        let mut cache = self.addrs.address_cache(self.now_secs());
        cache.retain(|e| connmgr::to_legacy(e).is_some());
        cache.truncate(count);
        cache
    }
}
