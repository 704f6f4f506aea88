//! The node's vocabulary with its driver: the [`Input`]s fed to
//! [`Node::handle`](super::Node::handle), the [`Output`]s drained from
//! [`Node::poll_output`](super::Node::poll_output), and the [`Notification`]s among them.

use crate::mempool::RejectReason;
use crate::net::peer::{Direction, DisconnectReason, PeerId};
use crate::primitives::{Block, BlockHash, Transaction, Txid};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

/// Milliseconds since the Unix epoch, as the driver reads them.
pub type Time = u64;

/// Something that happened, fed to [`Node::handle`](super::Node::handle).
#[derive(Clone, Debug)]
pub enum Input {
    /// A connection is up.
    Connected {
        /// The driver's token for it.
        peer: PeerId,
        /// The remote address.
        addr: SocketAddr,
        /// Who opened it.
        direction: Direction,
    },
    /// Dialing an address asked for by [`Output::Connect`] failed.
    ConnectFailed {
        /// The address.
        addr: SocketAddr,
    },
    /// A DNS seed asked for by [`Output::Resolve`] answered (nothing when the lookup failed:
    /// the seed is asked again later).
    Resolved {
        /// The seed's host name.
        seed: String,
        /// The addresses it gave: nodes on the network's standard port.
        addrs: Vec<IpAddr>,
    },
    /// One of our addresses as the world sees it, learnt by the driver (the gateway's external
    /// address, mapped by UPnP); advertised to peers that can reach it.
    LocalAddress {
        /// The address and port peers should dial.
        addr: SocketAddr,
        /// How it was learnt.
        source: crate::net::local::LocalSource,
    },
    /// Bytes arrived on a connection, in any chunking.
    Received {
        /// The connection.
        peer: PeerId,
        /// The bytes.
        bytes: Vec<u8>,
    },
    /// Bytes of [`Output::Send`]s for a connection were written to its socket (drivers
    /// with [`NodeConfig::max_send_queue`] set report every write).
    Sent {
        /// The connection.
        peer: PeerId,
        /// How many bytes.
        bytes: usize,
    },
    /// A connection closed (by the peer or after [`Output::Disconnect`]).
    Disconnected {
        /// The connection.
        peer: PeerId,
    },
    /// A transaction submitted locally (RPC `sendrawtransaction`).
    SubmitTx(Transaction),
    /// A block submitted locally (RPC `submitblock`, the miner).
    SubmitBlock(Block),
    /// A miner thread solved the work of an [`Output::MineOn`].
    BlockSolved {
        /// The work's id.
        work_id: u64,
        /// The extra nonce of the job solved.
        extra_nonce: u64,
        /// The job's header with the winning nonce.
        header: crate::primitives::BlockHeader,
    },
    /// The miner threads' hash rate (hashes per second, averaged as btcd does).
    HashRate(f64),
    /// Time passed (see [`Node::poll_timeout`](super::Node::poll_timeout)).
    Tick,
}

/// What the node notifies its driver of (RPC notifications, logs, tests).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Notification {
    /// The handshake with a peer completed.
    PeerReady(PeerId),
    /// A block became the tip.
    BlockConnected {
        /// Its hash.
        hash: BlockHash,
        /// Its height.
        height: u32,
        /// How many transactions it holds.
        txs: usize,
        /// Its header time.
        time: u32,
    },
    /// A block left the main chain.
    BlockDisconnected {
        /// Its hash.
        hash: BlockHash,
        /// Its height.
        height: u32,
    },
    /// A transaction entered the mempool (WebSocket clients are sent it whole).
    TxAccepted(Arc<Transaction>),
    /// A locally submitted transaction was refused.
    TxRejected {
        /// Its txid.
        txid: Txid,
        /// Why.
        reason: RejectReason,
    },
    /// An address was banned until the given time (ms).
    Banned {
        /// The banned address.
        ip: IpAddr,
        /// When the ban ends.
        until: Time,
    },
    /// The node stopped working: its store failed. The driver should shut down.
    Fatal(String),
}

/// What the node wants done, drained with [`Node::poll_output`](super::Node::poll_output).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Output {
    /// Open a connection.
    Connect {
        /// Where to.
        addr: SocketAddr,
    },
    /// Write bytes to a connection.
    Send {
        /// The connection.
        peer: PeerId,
        /// One framed message.
        bytes: Vec<u8>,
    },
    /// Close a connection (the node has already forgotten it).
    Disconnect {
        /// The connection.
        peer: PeerId,
        /// Why.
        reason: DisconnectReason,
    },
    /// Look up a DNS seed; answer with [`Input::Resolved`].
    Resolve {
        /// The seed's host name.
        seed: String,
    },
    /// Tell the outside world.
    Notify(Notification),
    /// New work for the miner threads (replacing any older work at once), or stop mining.
    MineOn(Option<Box<crate::mining::MinerWork>>),
}
