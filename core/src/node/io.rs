//! The node's vocabulary with its driver: the [`Input`]s fed to
//! [`Node::handle`](super::Node::handle), the [`Output`]s drained from
//! [`Node::poll_output`](super::Node::poll_output), and the [`Notification`]s among them.
//!
//! # Driver contract
//!
//! A driver (the daemon, the simulator, a test) owns everything that is not a decision:
//! sockets, the clock, DNS, miner threads, the HTTP and WebSocket servers, the logger.
//!
//! 1. For every event it calls `handle(now, input)` once, with `now` the wall clock in
//!    milliseconds since the Unix epoch (never going backwards matters not: the node keeps
//!    the latest it saw).
//! 2. Then it drains `poll_output()` until `None` and carries out each [`Output`] in order.
//!    The order is meaningful: a WebSocket client's messages ([`Output::Ws`]) are in the order
//!    to write them, and the reply to `stop` comes before [`Output::Shutdown`].
//! 3. Then it waits for the next event or until `poll_timeout()`, whichever is first, and
//!    feeds [`Input::Tick`] for the latter.
//! 4. With [`NodeConfig::fair_turns`](super::NodeConfig::fair_turns), peers' messages are
//!    served one per peer per input: `poll_timeout()` is due at once while some wait, and the
//!    driver reads no more from a peer while
//!    [`Node::receive_paused`](super::Node::receive_paused) says its messages wait.
//!
//! Tokens are the driver's: it allocates a [`PeerId`] per connection, a [`RequestId`] per
//! HTTP JSON-RPC request and a [`ClientId`] per WebSocket connection, and never reuses one
//! while the node may still mention it. After the node drops a peer or a WebSocket client it
//! forgets it at once, so the driver's later report of the close, and bytes or messages still
//! in flight, are ignored.
//!
//! Every way the node can be changed comes through here: peer bytes, timers, local
//! submissions, the miner's solutions, RPC calls ([`Input::Rpc`]) and WebSocket sessions
//! ([`Input::WsOpened`], [`Input::WsMessage`]). The node answers every [`Input::Rpc`] with
//! exactly one [`Output::RpcReply`] or [`Output::RpcRender`], at once or later (`generate` and
//! the like are worked on between other inputs), and every WebSocket request with an id with one reply on
//! [`Output::Ws`] while the client is connected.

use crate::mempool::RejectReason;
use crate::net::peer::{Direction, DisconnectReason, PeerId};
use crate::primitives::{Block, BlockHash, Transaction, Txid};
use crate::rpc::debug_level::LevelSpec;
use crate::rpc::render::ReplyJob;
use crate::rpc::ws::ClientId;
use crate::rpc::{RequestId, Rights};
use crate::time::Time;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

/// Something that happened, fed to [`Node::handle`](super::Node::handle) (see the module's
/// driver contract).
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
    /// The `block` message whose frame starts `at` bytes into a connection's stream (counted
    /// from its first byte received), found and decoded by the driver off the node's thread
    /// with [`crate::wire::Decoder::next_block`] over the same bytes. Fed before the
    /// [`Input::Received`] that completes the frame; the node then takes this block instead of
    /// checking and decoding the payload itself. Optional: without it the node decodes.
    DecodedBlock {
        /// The connection.
        peer: PeerId,
        /// The frame's stream offset.
        at: u64,
        /// The payload's length.
        len: usize,
        /// The decoded block.
        block: Box<Block>,
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
    /// An HTTP JSON-RPC request body (one request or a batch) from a caller the driver
    /// authenticated (with [`crate::rpc::auth::Credentials`]); answered with exactly one
    /// [`Output::RpcReply`] or [`Output::RpcRender`] carrying the same `id`, now or after
    /// later inputs.
    Rpc {
        /// The driver's token for the request.
        id: RequestId,
        /// What the caller's credentials allow.
        rights: Rights,
        /// The request body as received.
        body: Vec<u8>,
    },
    /// A WebSocket client connected (`/ws`).
    WsOpened {
        /// The driver's token for the connection.
        client: ClientId,
        /// What the upgrade request's `Authorization` header allows; `None` when it had none,
        /// and the client must open with btcd's `authenticate` command in time or be closed.
        rights: Option<Rights>,
    },
    /// A text message from a WebSocket client: one JSON-RPC request or a batch.
    WsMessage {
        /// The connection.
        client: ClientId,
        /// The message.
        text: String,
    },
    /// A WebSocket connection closed (by the client, the driver, or after
    /// [`Output::WsClose`]).
    WsClosed {
        /// The connection.
        client: ClientId,
    },
    /// The driver carried out [`Output::SaveMempool`] `save`: the file is whole on disk
    /// (`saved`), or the write failed (and the old file, if any, is left as it was).
    MempoolSaved {
        /// The write's token.
        save: u64,
        /// Whether the new file is on disk.
        saved: bool,
    },
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
    /// An address was banned until the given time.
    Banned {
        /// The banned address.
        ip: IpAddr,
        /// When the ban ends.
        until: Time,
    },
    /// The node stopped working: its store failed. The driver should shut down.
    Fatal(String),
}

/// What the node wants done, drained with [`Node::poll_output`](super::Node::poll_output) and
/// carried out in order (see the module's driver contract).
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
    /// The answer to [`Input::Rpc`] `id`: the JSON body to send with status 200, empty when
    /// the request held only JSON-RPC notifications (no `id`), which get no reply.
    RpcReply {
        /// The request.
        id: RequestId,
        /// The JSON reply (an object, or an array for a batch), or empty.
        body: String,
    },
    /// The answer to [`Input::Rpc`] `id` is `job` rendered ([`ReplyJob::finish`]): pure work
    /// on data the node no longer needs, which the driver runs where it likes (beside the
    /// node, up to `rpcmaxconcurrentreqs` at a time) and sends as [`Output::RpcReply`]'s body.
    /// Only when [`crate::node::RpcSettings::render_by_driver`] is set.
    RpcRender {
        /// The request.
        id: RequestId,
        /// What is left to do.
        job: ReplyJob,
    },
    /// A text message for a WebSocket client: a reply or a notification.
    Ws {
        /// The connection.
        client: ClientId,
        /// The JSON text.
        text: String,
    },
    /// A WebSocket client that opened without credentials passed `authenticate`: from now on
    /// it counts against `rpcmaxwebsockets` and may send more than an authentication's bytes.
    WsAuthenticated {
        /// The connection.
        client: ClientId,
    },
    /// Close a WebSocket connection (it failed to authenticate); the node has forgotten it.
    WsClose {
        /// The connection.
        client: ClientId,
    },
    /// Change the logger's levels (RPC `debuglevel`; the node checked the specification).
    LogLevels(LevelSpec),
    /// Write this `mempool.dat` (RPC `savemempool`) where
    /// [`crate::node::RpcSettings::mempool_file`] says, replacing the old one only once the new
    /// one is whole on disk, then report how it went with [`Input::MempoolSaved`]: the call
    /// is answered only then.
    SaveMempool {
        /// The node's token for this write.
        save: u64,
        /// The file's bytes.
        bytes: Vec<u8>,
    },
    /// Shut the daemon down (RPC `stop`, after its reply).
    Shutdown,
}
