//! Operator commands on the node's connections (RPC `addnode`, `node`, `ping`): what they
//! ask for and why one is refused, and the traffic totals `getnettotals` reports.

use super::peer::PeerId;
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
