//! The node: one sans-IO state machine composing the peer handler, the sync manager, the chain
//! and the mempool.
//!
//! # Driver contract
//!
//! The driver owns sockets and the clock. For every event it calls [`Node::handle`] once with
//! the current time (milliseconds since the Unix epoch), then drains [`Node::poll_output`]
//! until it returns `None`, then sleeps until [`Node::poll_timeout`] (or the next event) and
//! feeds [`Input::Tick`]. Peer ids are tokens the driver allocates; after the node asks for a
//! disconnect it forgets the peer at once, so the driver's later `Disconnected` for it and any
//! bytes still in flight are ignored.
//!
//! # Where it differs from btcd
//!
//! - Blocks download from every synced peer in parallel ([`crate::net::download`]); a peer
//!   holding the window for 2 s is dropped (btcd: one sync peer, 3 min stall timer).
//! - Blocks are only requested from peers known to have them: the most-work block each peer
//!   announced or sent, learnt by asking for headers from our best header's parent (Core).
//! - Undecodable frames add [`MALFORMED_BAN_SCORE`] instead of dropping the peer at once (the
//!   decoder resynchronises); invalid blocks and headers add [`INVALID_BLOCK_BAN_SCORE`];
//!   `notfound` adds nothing (btcd's score there bans honest peers).
//! - Peers below protocol 70001 are refused (see [`crate::net::peer::MIN_PEER_PROTOCOL_VERSION`]).
//! - A ping unanswered for 20 min drops the peer (btcd has no pong deadline).
//! - A failing store stops the node with [`Notification::Fatal`] instead of a panic.
//! - Inbound connections leave room for the outbound target: at most `maxpeers` minus the
//!   permanent peers and (unless `connect` is set) the 8 automatic outbound slots (Core).
//! - addr/addrv2 are rate limited per peer as Core does ([`crate::net::addr_rate`]).
//! - Our `minrelaytxfee` is sent as a BIP133 feefilter after the handshake (Core), and a
//!   peer's feefilter is honoured when announcing transactions (btcd honours it too).
//! - Bans cover networks as well as addresses, can be set by hand ([`Node::ban`]) and are
//!   kept in the store across restarts (Core's banlist).

mod admin;

pub use admin::{NetTotals, PeerCommand, PeerCommandError, PeerTarget};

use crate::address::Address;
use crate::chain::{
    BlockVerdict, Chain, ChainError, ChainEvent, ChainStore, Placement, VerdictError,
};
use crate::mempool::{Accepted, Mempool, Policy, RejectReason};
use crate::net::addrmgr::AddrManager;
use crate::net::bans::BanList;
use crate::net::banscore::{verdict, Verdict, DEFAULT_THRESHOLD};
use crate::net::connmgr::{self, ConnManager, DIAL_TIMEOUT_MS};
use crate::net::download::MAX_IN_FLIGHT_PER_PEER;
use crate::net::ipnet::IpNet;
use crate::net::peer::{
    Direction, DisconnectReason, Handshake, Peer, PeerId, MIN_PEER_PROTOCOL_VERSION,
    PING_INTERVAL_MS,
};
use crate::net::syncmgr::{self, SyncManager, STALL_CHECK_MS};
use crate::params::{Network, Params};
use crate::primitives::{Block, BlockHash, Hash256, Transaction, Txid};
use crate::rng::Rng;
use crate::wire::locator::BlockLocatorMessage;
use crate::wire::protocol::{
    ADDRV2_VERSION, FEE_FILTER_VERSION, MAX_ADDR_PER_MSG, MAX_INV_PER_MSG, PROTOCOL_VERSION,
    SEND_HEADERS_VERSION,
};
use crate::wire::reject::{RejectCode, RejectMessage};
use crate::wire::{
    encode_message, AddrV2Entry, InvType, Inventory, Message, NetAddress, ServiceFlags,
    VersionMessage, WireError,
};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

mod mining;

/// Milliseconds since the Unix epoch, as the driver reads them.
pub type Time = u64;

/// Ban score added for each frame that fails to decode (bad checksum, malformed payload,
/// oversized or unnamed command). btcd drops the peer on the first; rbtcd's decoder resyncs,
/// so a peer may survive a few corrupt frames but not a stream of them.
pub const MALFORMED_BAN_SCORE: u32 = 20;
/// Ban score for a block or header that breaks consensus (btcd gives none; Core gives 100).
pub const INVALID_BLOCK_BAN_SCORE: u32 = 100;
/// Headers messages that do not connect, in a row, before each ban score increase (Core's
/// `MAX_NUM_UNCONNECTING_HEADERS_MSGS`).
pub const UNCONNECTING_HEADERS_LIMIT: u32 = 10;
/// Ban score added each time [`UNCONNECTING_HEADERS_LIMIT`] is reached (Core's amount).
pub const UNCONNECTING_HEADERS_BAN_SCORE: u32 = 20;
/// Transient ban score for a mempool request (btcd's amount, against floods).
pub const MEMPOOL_BAN_SCORE: u32 = 33;
/// Headers announced directly when a batch of newly connected blocks is this small; a larger
/// jump is announced by its tip alone.
const MAX_HEADERS_ANNOUNCED: usize = 8;
/// Delay before reconnecting to a permanent peer (btcd's connmgr retry base).
pub const RECONNECT_DELAY_MS: u64 = 5_000;
/// The address book is saved this often (btcd's `dumpAddressInterval`), and at shutdown.
pub const ADDR_SAVE_INTERVAL_MS: u64 = 10 * 60_000;
/// A requested transaction not delivered in this long may be requested from another peer.
const TX_REQUEST_TIMEOUT_MS: u64 = 60_000;
/// The daemon's per-peer send queue limit: room for the 16 largest blocks a syncing peer may
/// have in flight and then some; a peer that leaves more unread is not reading.
pub const DEFAULT_MAX_SEND_QUEUE: u64 = 128 * 1024 * 1024;

/// Node options, with btcd's names and defaults.
#[derive(Clone, Debug)]
pub struct NodeConfig {
    /// `maxpeers`: most simultaneous connections (default 125).
    pub max_peers: usize,
    /// `banthreshold`: ban score at which a peer is banned (default 100).
    pub ban_threshold: u32,
    /// `banduration`: how long a ban lasts, ms (default 24 h; btcd's minimum is 1 s).
    pub ban_duration_ms: u64,
    /// `nobanning`: never ban.
    pub disable_banning: bool,
    /// `whitelist`: networks whose peers' misbehaviour is only logged, never scored (btcd).
    pub whitelist: Vec<IpNet>,
    /// `miningaddr`: addresses blocks generated by the `generate` RPC pay to.
    pub mining_addrs: Vec<Address>,
    /// `blockmaxweight`: weight limit of generated blocks.
    pub block_max_weight: usize,
    /// `generate`: run the CPU miner from the start.
    pub generate: bool,
    /// `genproclimit`: miner threads, also when `setgenerate` turns mining on without a count
    /// (btcd: one per core).
    pub gen_proc_limit: u32,
    /// `connect`/`addpeer`: peers kept connected, reconnected when lost.
    pub permanent_peers: Vec<SocketAddr>,
    /// `connect` was given: dial only the permanent peers (no automatic outbound connections,
    /// no DNS seeding).
    pub connect_only: bool,
    /// Services advertised in our version.
    pub services: ServiceFlags,
    /// Our BIP14 user agent.
    pub user_agent: String,
    /// Mempool policy (`minrelaytxfee`, `maxorphantx`, ...).
    pub policy: Policy,
    /// `txindex`: keep the transaction index (caught up at start when it lags).
    pub tx_index: bool,
    /// Most bytes handed to the driver for one peer and not yet reported written
    /// ([`Input::Sent`]) before the peer is dropped; `None` for drivers that do not report
    /// writes (tests, the in-memory harness).
    pub max_send_queue: Option<u64>,
}

impl Default for NodeConfig {
    fn default() -> Self {
        NodeConfig {
            max_peers: 125,
            ban_threshold: DEFAULT_THRESHOLD,
            ban_duration_ms: 24 * 3600 * 1000,
            disable_banning: false,
            whitelist: Vec::new(),
            mining_addrs: Vec::new(),
            block_max_weight: 3_000_000,
            generate: false,
            gen_proc_limit: 1,
            permanent_peers: Vec::new(),
            connect_only: false,
            services: ServiceFlags::NETWORK | ServiceFlags::WITNESS,
            user_agent: format!("/rbtcd:{}/", env!("CARGO_PKG_VERSION")),
            policy: Policy::default(),
            tx_index: false,
            max_send_queue: None,
        }
    }
}

/// Why the node could not start.
#[derive(Debug)]
pub enum InitError {
    /// The chain state could not be opened.
    Chain(ChainError),
    /// The saved address book could not be read from the store.
    AddrBook(crate::chain::StoreError),
    /// The saved ban list could not be read from the store.
    Bans(crate::chain::StoreError),
}

impl std::fmt::Display for InitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            InitError::Chain(e) => write!(f, "cannot open the chain: {e}"),
            InitError::AddrBook(e) => write!(f, "cannot read the address book: {e}"),
            InitError::Bans(e) => write!(f, "cannot read the ban list: {e}"),
        }
    }
}

impl std::error::Error for InitError {}

/// Something that happened, fed to [`Node::handle`].
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
    /// A DNS seed asked for by [`Output::Resolve`] answered.
    Resolved {
        /// The seed's host name.
        seed: String,
        /// The addresses it gave.
        addrs: Vec<SocketAddr>,
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
    /// Time passed (see [`Node::poll_timeout`]).
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

/// What the node wants done, drained with [`Node::poll_output`].
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

/// The whole node.
pub struct Node<S: ChainStore> {
    params: Params,
    config: NodeConfig,
    chain: Chain<S>,
    mempool: Mempool,
    rng: Rng,
    now: Time,
    peers: BTreeMap<PeerId, Peer>,
    banned: BanList,
    totals: NetTotals,
    sync: SyncManager,
    addrs: AddrManager,
    connmgr: ConnManager,
    /// Transactions requested, by hash, with who was asked and when.
    tx_requests: BTreeMap<Hash256, (PeerId, Time)>,
    /// Transactions refused since the last block, so they are not fetched again.
    rejected_txs: BTreeSet<Hash256>,
    /// Permanent peers not connected, with when to dial them.
    reconnect: BTreeMap<SocketAddr, Time>,
    /// Peers connected to a permanent address.
    permanent: BTreeMap<PeerId, SocketAddr>,
    /// Our own addresses, learnt from connections to ourselves.
    local_addrs: BTreeSet<SocketAddr>,
    next_stall_check: Option<Time>,
    next_addr_save: Time,
    outputs: VecDeque<Output>,
    mining: mining::Mining,
    /// Set when the store failed: the node then only reports it.
    failed: bool,
}

impl<S: ChainStore> Node<S> {
    /// Opens the chain in `store` and starts dialing the permanent peers.
    pub fn new(
        params: Params,
        config: NodeConfig,
        store: S,
        seed: u64,
        now: Time,
    ) -> Result<Self, InitError> {
        let mut chain = Chain::open(params.clone(), store).map_err(InitError::Chain)?;
        if config.tx_index {
            chain.enable_tx_index().map_err(InitError::Chain)?;
        }
        let reconnect = config.permanent_peers.iter().map(|a| (*a, now)).collect();
        let mut rng = Rng::new(seed);
        let addrs_rng = rng.fork();
        let banned = match chain.store().bans().map_err(InitError::Bans)? {
            None => BanList::default(),
            // As the address book: a damaged list costs only the bans.
            Some(bytes) => BanList::restore(&bytes).unwrap_or_else(|e| {
                log::warn!("ban list unreadable, starting without bans: {e}");
                BanList::default()
            }),
        };
        let addrs = match chain.store().addr_book().map_err(InitError::AddrBook)? {
            None => AddrManager::new(addrs_rng),
            // A damaged book costs only the addresses: start afresh rather than refuse to run.
            Some(book) => AddrManager::restore(&book, addrs_rng.clone()).unwrap_or_else(|e| {
                log::warn!("address book unreadable, starting empty: {e}");
                AddrManager::new(addrs_rng)
            }),
        };
        Ok(Node {
            params,
            mempool: Mempool::new(config.policy),
            mining: mining::Mining::new(config.generate, config.gen_proc_limit),
            config,
            chain,
            rng,
            now,
            peers: BTreeMap::new(),
            banned,
            totals: NetTotals::default(),
            sync: SyncManager::default(),
            addrs,
            connmgr: ConnManager::default(),
            tx_requests: BTreeMap::new(),
            rejected_txs: BTreeSet::new(),
            reconnect,
            permanent: BTreeMap::new(),
            local_addrs: BTreeSet::new(),
            next_stall_check: None,
            next_addr_save: now + ADDR_SAVE_INTERVAL_MS,
            outputs: VecDeque::new(),
            failed: false,
        }
        .started())
    }

    fn started(mut self) -> Self {
        self.dial_due();
        if !self.config.connect_only && self.addrs.is_empty() {
            for seed in self.params.dns_seeds {
                self.outputs.push_back(Output::Resolve {
                    seed: seed.to_string(),
                });
            }
        }
        self
    }

    /// The address manager.
    pub fn addr_manager(&self) -> &AddrManager {
        &self.addrs
    }

    /// The chain state.
    pub fn chain(&self) -> &Chain<S> {
        &self.chain
    }

    /// The node's options.
    pub fn config(&self) -> &NodeConfig {
        &self.config
    }

    /// One of the configured mining addresses, chosen at random as btcd does.
    pub fn mining_address(&mut self) -> Option<Address> {
        crate::mining::choose_mining_address(&self.config.mining_addrs, &mut self.rng).cloned()
    }

    /// The mempool.
    pub fn mempool(&self) -> &Mempool {
        &self.mempool
    }

    /// Connected peers (handshake complete or not).
    pub fn peers(&self) -> &BTreeMap<PeerId, Peer> {
        &self.peers
    }

    /// True when `ip` is banned at `now`.
    pub fn is_banned(&self, ip: &IpAddr, now: Time) -> bool {
        self.banned.is_banned(*ip, now)
    }

    /// Feeds one event that happened at `now`.
    pub fn handle(&mut self, now: Time, input: Input) {
        self.now = self.now.max(now);
        if self.failed {
            return;
        }
        match input {
            Input::Connected {
                peer,
                addr,
                direction,
            } => self.on_connected(peer, addr, direction),
            Input::ConnectFailed { addr } => {
                self.connmgr.dialing.remove(&addr);
                if self.config.permanent_peers.contains(&addr) {
                    self.reconnect.insert(addr, self.now + RECONNECT_DELAY_MS);
                }
                self.fill_outbound();
            }
            Input::Resolved { seed, addrs } => self.on_resolved(&seed, &addrs),
            Input::Received { peer, bytes } => self.on_bytes(peer, &bytes),
            Input::Sent { peer, bytes } => {
                if let Some(p) = self.peers.get_mut(&peer) {
                    p.send_queue = p.send_queue.saturating_sub(bytes as u64);
                }
            }
            Input::Disconnected { peer } => self.forget(peer),
            Input::SubmitTx(tx) => {
                // The outcome is also notified (TxRejected) for drivers that feed inputs.
                let _ = self.submit_tx(tx);
            }
            Input::SubmitBlock(block) => {
                let _ = self.on_block(None, block);
            }
            Input::BlockSolved {
                work_id,
                extra_nonce,
                header,
            } => self.on_block_solved(work_id, extra_nonce, header),
            Input::HashRate(per_sec) => self.on_hash_rate(per_sec),
            Input::Tick => self.on_tick(),
        }
        self.request_blocks();
        self.arm_stall_check();
        self.drop_unread_peers();
    }

    /// The next thing the node wants done. Every way into the node (inputs, RPC calls,
    /// submissions) is followed by draining this, so the miner's work is renewed here once
    /// everything else is out.
    pub fn poll_output(&mut self) -> Option<Output> {
        if self.outputs.is_empty() {
            self.update_mining();
        }
        self.outputs.pop_front()
    }

    /// When the node next needs [`Input::Tick`].
    pub fn poll_timeout(&self) -> Option<Time> {
        if self.failed {
            return None;
        }
        let peers = self.peers.values().map(Peer::deadline);
        let reconnects = self.reconnect.values().copied();
        let dials = self.connmgr.dialing.values().map(|t| t + DIAL_TIMEOUT_MS);
        let rebroadcast = self.mempool.rebroadcast.deadline().map(|secs| secs * 1000);
        peers
            .chain([self.next_addr_save])
            .chain(reconnects)
            .chain(dials)
            .chain(self.next_stall_check)
            .chain(rebroadcast)
            .chain(self.mining.deadline())
            .min()
    }

    fn now_secs(&self) -> u64 {
        self.now / 1000
    }

    /// Queues `msg` for `peer`, counting its bytes (see [`Node::drop_unread_peers`]).
    fn send(&mut self, peer: PeerId, msg: &Message) {
        let Some(p) = self.peers.get_mut(&peer) else {
            return;
        };
        let bytes = encode_message(self.params.magic, msg);
        let len = bytes.len() as u64;
        p.bytes_sent += len;
        p.send_queue += len;
        p.last_send = self.now;
        self.totals.sent += len;
        self.outputs.push_back(Output::Send { peer, bytes });
    }

    /// True when `peer` left more unread than [`NodeConfig::max_send_queue`].
    fn send_queue_full(&self, peer: PeerId) -> bool {
        let queued = self.peers.get(&peer).map_or(0, |p| p.send_queue);
        self.config.max_send_queue.is_some_and(|max| queued > max)
    }

    /// Drops peers over the send queue limit. Checked after each input rather than in
    /// [`Node::send`], so no handler sees its peer vanish halfway.
    fn drop_unread_peers(&mut self) {
        let Some(max) = self.config.max_send_queue else {
            return;
        };
        let full: Vec<(PeerId, u64)> = self
            .peers
            .iter()
            .filter(|(_, p)| p.send_queue > max)
            .map(|(id, p)| (*id, p.send_queue))
            .collect();
        for (peer, queued) in full {
            self.disconnect(peer, DisconnectReason::SendQueueFull(queued));
        }
    }

    fn notify(&mut self, n: Notification) {
        self.outputs.push_back(Output::Notify(n));
    }

    /// Drops `peer` now; the driver closes the socket.
    fn disconnect(&mut self, peer: PeerId, reason: DisconnectReason) {
        if self.peers.contains_key(&peer) {
            log::debug!("disconnecting peer {peer}: {reason}");
            self.forget(peer);
            self.outputs.push_back(Output::Disconnect { peer, reason });
        }
    }

    fn forget(&mut self, peer: PeerId) {
        if self.peers.remove(&peer).is_none() {
            return;
        }
        self.sync.peer_gone(peer);
        self.tx_requests.retain(|_, (p, _)| *p != peer);
        if let Some(addr) = self.permanent.remove(&peer) {
            self.reconnect.insert(addr, self.now + RECONNECT_DELAY_MS);
        }
        self.start_headers_sync();
        self.fill_outbound();
    }

    /// Adds to `peer`'s ban score; bans and disconnects at the threshold.
    fn misbehave(&mut self, peer: PeerId, persistent: u32, transient: u32, reason: &str) {
        if self.config.disable_banning {
            return;
        }
        let now_secs = self.now_secs();
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
                let until = self.now + self.config.ban_duration_ms;
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

    // ---- connections and handshake ----

    fn on_connected(&mut self, peer: PeerId, addr: SocketAddr, direction: Direction) {
        let p = Peer::new(addr, direction, self.params.magic, self.now);
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
        let full = self.peers.len() >= self.config.max_peers
            || (direction == Direction::Inbound && inbound >= max_inbound);
        if direction == Direction::Outbound {
            self.reconnect.remove(&addr);
            self.connmgr.dialing.remove(&addr);
            if self.config.permanent_peers.contains(&addr) {
                self.permanent.insert(peer, addr);
            }
        }
        // Registered first so that `disconnect` reports it.
        self.peers.insert(peer, p);
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

    fn send_version(&mut self, peer: PeerId) {
        let Some(p) = self.peers.get_mut(&peer) else {
            return;
        };
        let nonce = match p.our_nonce {
            Some(n) => n,
            None => {
                let n = self.rng.next_u64();
                p.our_nonce = Some(n);
                n
            }
        };
        let msg = VersionMessage {
            version: PROTOCOL_VERSION as i32,
            services: self.config.services,
            timestamp: (self.now / 1000) as i64,
            receiver: NetAddress::new(p.addr, ServiceFlags::NONE),
            sender: NetAddress {
                services: self.config.services,
                ip: std::net::Ipv6Addr::UNSPECIFIED,
                port: 0,
            },
            nonce,
            user_agent: self.config.user_agent.clone(),
            start_height: self.chain.tip().height as i32,
            relay: true,
        };
        self.send(peer, &Message::Version(msg));
    }

    fn on_bytes(&mut self, peer: PeerId, bytes: &[u8]) {
        let Some(p) = self.peers.get_mut(&peer) else {
            return;
        };
        p.decoder.push(bytes);
        p.bytes_recv += bytes.len() as u64;
        self.totals.recv += bytes.len() as u64;
        if p.decoder.foreign_start() {
            // No ban score: a BIP324 initiator (Core, Knots) opens this way and reconnects with
            // v1 only when we close before sending anything.
            return self.disconnect(peer, DisconnectReason::UnrecognisedHandshake);
        }
        loop {
            let Some(p) = self.peers.get_mut(&peer) else {
                return;
            };
            let Some(frame) = p.decoder.pull() else {
                return;
            };
            p.last_recv = self.now;
            match frame {
                Ok(msg) => self.on_message(peer, msg),
                Err(WireError::BadMagic { .. }) => {
                    return self.disconnect(peer, DisconnectReason::WrongNetwork)
                }
                Err(e) => self.misbehave(peer, MALFORMED_BAN_SCORE, 0, &e.to_string()),
            }
        }
    }

    fn on_message(&mut self, peer: PeerId, msg: Message) {
        let Some(p) = self.peers.get(&peer) else {
            return;
        };
        let command = msg.command().to_string();
        match (p.handshake, msg) {
            (Handshake::AwaitVersion, Message::Version(v)) => self.on_version(peer, v),
            (Handshake::AwaitVersion, _) => {
                self.reject(
                    peer,
                    &command,
                    RejectCode::MALFORMED,
                    "version must come first",
                );
                self.disconnect(peer, DisconnectReason::VersionNotFirst(command));
            }
            (_, Message::Version(_)) => {
                self.reject(
                    peer,
                    &command,
                    RejectCode::DUPLICATE,
                    "duplicate version message",
                );
                self.disconnect(peer, DisconnectReason::DuplicateVersion);
            }
            (Handshake::AwaitVerack, Message::Verack) => self.on_verack(peer),
            (Handshake::AwaitVerack, Message::SendAddrV2) => self.negotiate(peer, |p| {
                p.send_addrv2 = true;
            }),
            (Handshake::AwaitVerack, Message::WtxidRelay) => self.negotiate(peer, |p| {
                p.wtxid_relay = true;
            }),
            // Unknown commands are ignored throughout (compact block negotiation and the like).
            (_, Message::Unknown { .. }) => {}
            (Handshake::AwaitVerack, _) => {
                self.disconnect(peer, DisconnectReason::UnexpectedBeforeVerack(command));
            }
            (Handshake::Ready, Message::Verack) => {
                self.reject(
                    peer,
                    &command,
                    RejectCode::DUPLICATE,
                    "duplicate verack message",
                );
                self.disconnect(peer, DisconnectReason::DuplicateVerack);
            }
            (Handshake::Ready, Message::SendAddrV2 | Message::WtxidRelay) => {
                self.disconnect(peer, DisconnectReason::NegotiationAfterHandshake(command));
            }
            (Handshake::Ready, msg) => self.on_ready_message(peer, msg),
        }
    }

    /// Records a pre-verack preference, which only counts from protocol 70016 on.
    fn negotiate(&mut self, peer: PeerId, set: impl FnOnce(&mut Peer)) {
        if let Some(p) = self.peers.get_mut(&peer) {
            if p.version >= ADDRV2_VERSION {
                set(p);
            }
        }
    }

    fn reject(&mut self, peer: PeerId, command: &str, code: RejectCode, reason: &str) {
        self.send(
            peer,
            &Message::Reject(RejectMessage {
                message: command.to_string(),
                code,
                reason: reason.to_string(),
                hash: Hash256::ZERO,
            }),
        );
    }

    fn on_version(&mut self, peer: PeerId, v: VersionMessage) {
        let dialled = self.peers.values().find(|p| p.our_nonce == Some(v.nonce));
        if let Some(own) = dialled.map(|p| p.addr) {
            // The address we dialled is our own: never pick it again, or every disconnect
            // redials it (found by the simulator; Core skips its local addresses too).
            self.local_addrs.insert(own);
            return self.disconnect(peer, DisconnectReason::SelfConnection);
        }
        let Some(p) = self.peers.get_mut(&peer) else {
            return;
        };
        let outbound = p.direction == Direction::Outbound;
        p.version = PROTOCOL_VERSION.min(v.version.max(0) as u32);
        p.best_height = v.start_height.max(0) as u32;
        let services = v.services;
        let their_version = v.version;
        p.remote = Some(v);
        let mut wanted = ServiceFlags::NETWORK;
        if self.params.network != Network::Simnet {
            wanted |= ServiceFlags::WITNESS;
        }
        if outbound && !services.has(wanted) {
            let missing = ServiceFlags(wanted.0 & !services.0);
            self.reject(
                peer,
                "version",
                RejectCode::NONSTANDARD,
                "required services",
            );
            return self.disconnect(peer, DisconnectReason::MissingServices(missing));
        }
        if their_version < MIN_PEER_PROTOCOL_VERSION as i32 {
            self.reject(
                peer,
                "version",
                RejectCode::OBSOLETE,
                "protocol version too old",
            );
            return self.disconnect(peer, DisconnectReason::ObsoleteVersion(their_version));
        }
        if !outbound {
            self.send_version(peer);
        }
        let version = self.peers[&peer].version;
        if version >= ADDRV2_VERSION {
            self.send(peer, &Message::SendAddrV2);
        }
        self.send(peer, &Message::Verack);
        if let Some(p) = self.peers.get_mut(&peer) {
            p.handshake = Handshake::AwaitVerack;
        }
    }

    fn on_verack(&mut self, peer: PeerId) {
        let Some(p) = self.peers.get_mut(&peer) else {
            return;
        };
        p.handshake = Handshake::Ready;
        p.next_ping = Some(self.now + PING_INTERVAL_MS);
        let (version, direction, addr) = (p.version, p.direction, p.addr);
        if version >= SEND_HEADERS_VERSION {
            self.send(peer, &Message::SendHeaders);
        }
        let min_fee = self.config.policy.min_relay_fee_per_kvb;
        if version >= FEE_FILTER_VERSION && min_fee > 0 {
            self.send(peer, &Message::FeeFilter(min_fee));
        }
        // As btcd: an outbound peer's address proved good, and it is asked for more.
        if direction == Direction::Outbound {
            self.addrs.good(&connmgr::peer_addr(&addr), self.now_secs());
            if self.addrs.need_more() {
                if let Some(p) = self.peers.get_mut(&peer) {
                    p.addr_rate.grant_getaddr();
                }
                self.send(peer, &Message::GetAddr);
            }
        }
        self.notify(Notification::PeerReady(peer));
        self.start_headers_sync();
    }

    // ---- timers ----

    fn on_tick(&mut self) {
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
        self.dial_due();
        self.fill_outbound();
        if self.next_addr_save <= now {
            self.next_addr_save = now + ADDR_SAVE_INTERVAL_MS;
            self.save_addr_book();
        }
    }

    fn save_addr_book(&mut self) {
        if let Err(e) = self.chain.save_addr_book(self.addrs.save()) {
            self.fail(&e.to_string());
        }
        if self.banned.expire(self.now) {
            self.save_bans();
        }
    }

    fn save_bans(&mut self) {
        if let Err(e) = self.chain.save_bans(self.banned.save()) {
            self.fail(&e.to_string());
        }
    }

    /// Saves what must outlive the process (the address book) and gives the store back, to be
    /// closed cleanly at shutdown.
    pub fn into_store(mut self) -> S {
        if !self.failed {
            self.save_addr_book();
        }
        self.chain.into_store()
    }

    fn ping(&mut self, peer: PeerId) {
        let nonce = self.rng.next_u64();
        let Some(p) = self.peers.get_mut(&peer) else {
            return;
        };
        p.ping = Some((nonce, self.now));
        p.next_ping = Some(self.now + PING_INTERVAL_MS);
        self.send(peer, &Message::Ping(nonce));
    }

    fn dial_due(&mut self) {
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

    fn arm_stall_check(&mut self) {
        if self.next_stall_check.is_none() && self.sync.busy() {
            self.next_stall_check = Some(self.now + STALL_CHECK_MS);
        }
    }

    fn expire_tx_requests(&mut self) {
        let now = self.now;
        self.tx_requests
            .retain(|_, (_, at)| now.saturating_sub(*at) < TX_REQUEST_TIMEOUT_MS);
    }

    // ---- messages after the handshake ----

    fn on_ready_message(&mut self, peer: PeerId, msg: Message) {
        match msg {
            Message::Ping(nonce) => self.send(peer, &Message::Pong(nonce)),
            Message::Pong(nonce) => {
                if let Some(p) = self.peers.get_mut(&peer) {
                    // A pong with another nonce answers nothing we sent.
                    if let Some((_, sent)) = p.ping.filter(|(n, _)| *n == nonce) {
                        p.ping = None;
                        p.ping_rtt = Some(self.now.saturating_sub(sent));
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
            Message::Inv(items) => self.on_inv(peer, items),
            Message::Block(block) => {
                // A refusal already raised the peer's ban score.
                let _ = self.on_block(Some(peer), block);
            }
            Message::Tx(tx) => self.on_tx(peer, tx),
            Message::NotFound(items) => {
                // Not misbehaviour (btcd's ban score here gets honest nodes banned).
                for item in items {
                    if item.inv_type.base() == InvType::BLOCK {
                        self.sync.downloader.not_found(peer, &item.hash);
                    } else {
                        self.tx_requests.remove(&item.hash);
                    }
                }
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

    fn on_getdata(&mut self, peer: PeerId, items: Vec<Inventory>) {
        let score = (items.len() * 99 / MAX_INV_PER_MSG) as u32;
        if score > 0 {
            self.misbehave(peer, 0, score, "getdata");
        }
        let mut missing = Vec::new();
        for item in items {
            // The rest of a request too big for the peer's send queue is not served.
            if !self.peers.contains_key(&peer) || self.send_queue_full(peer) {
                return;
            }
            // Requests without the witness flag get stripped data (pre-segwit peers).
            let witness = item.inv_type.has_witness() || item.inv_type == InvType::WTX;
            let msg = match item.inv_type.base() {
                InvType::BLOCK => match self.chain.store().block(&item.hash) {
                    Ok(found) => found.map(|mut b| {
                        if !witness {
                            b.txdata.iter_mut().for_each(strip_witness);
                        }
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
        if !missing.is_empty() {
            self.send(peer, &Message::NotFound(missing));
        }
    }

    // ---- addresses and outbound connections ----

    fn on_resolved(&mut self, seed: &str, found: &[SocketAddr]) {
        let Some(first) = found.first() else {
            return log::info!("DNS seed {seed} gave no addresses");
        };
        let entries: Vec<AddrV2Entry> = found
            .iter()
            .map(|a| {
                let p = connmgr::peer_addr(a);
                AddrV2Entry {
                    time: self.now_secs() as u32,
                    services: ServiceFlags::NETWORK,
                    addr: p.addr,
                    port: p.port,
                }
            })
            .collect();
        // btcd credits the seed's first answer as the source.
        let source = connmgr::peer_addr(first).addr;
        self.addrs.add(&entries, &source, self.now_secs());
        self.fill_outbound();
    }

    fn on_addrs(&mut self, peer: PeerId, entries: &[AddrV2Entry]) {
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
        self.addrs
            .add(&entries[..admitted], &source, self.now_secs());
        self.fill_outbound();
    }

    /// Answers one getaddr per inbound connection, as btcd (outbound peers could use the
    /// answer to fingerprint us).
    fn on_getaddr(&mut self, peer: PeerId) {
        let Some(p) = self.peers.get_mut(&peer) else {
            return;
        };
        if p.direction == Direction::Outbound || p.sent_addrs {
            return;
        }
        p.sent_addrs = true;
        let addrv2 = p.send_addrv2;
        let mut cache = self.addrs.address_cache(self.now_secs());
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
    fn fill_outbound(&mut self) {
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
        for addr in picks {
            self.outputs.push_back(Output::Connect { addr });
        }
    }

    // ---- headers-first sync ----

    /// Starts header sync with a peer when none is running: during initial download with one
    /// peer at a time, then with every peer not yet asked.
    fn start_headers_sync(&mut self) {
        if self.sync.headers_peer.is_some() {
            return;
        }
        let ready: Vec<PeerId> = self
            .peers
            .iter()
            .filter(|(id, p)| p.is_ready() && !self.sync.was_asked(**id))
            .map(|(id, _)| *id)
            .collect();
        let best = self.chain.index().best_header().height;
        // The peer claiming the most blocks leads while it is ahead of us.
        let leader = ready
            .iter()
            .filter(|id| self.peers[id].best_height > best)
            .max_by_key(|id| (self.peers[id].best_height, std::cmp::Reverse(**id)));
        match leader {
            Some(&id) => {
                self.sync.headers_peer = Some(id);
                self.send_getheaders(id, BlockHash::ZERO);
            }
            None => {
                for id in ready {
                    self.send_getheaders(id, BlockHash::ZERO);
                }
            }
        }
    }

    /// Asks for headers after our best header's parent, so that a peer with nothing new still
    /// answers with that header and shows which chain it is on (as Core).
    fn send_getheaders(&mut self, peer: PeerId, stop: BlockHash) {
        let index = self.chain.index();
        let best = index.best_header();
        let from = match best.height {
            0 => best.hash,
            _ => best.header.prev_blockhash,
        };
        let locator = syncmgr::locator(index, &from);
        self.sync.asked_headers(peer, self.now);
        self.send(
            peer,
            &Message::GetHeaders(BlockLocatorMessage {
                version: PROTOCOL_VERSION,
                locator,
                stop_hash: stop,
            }),
        );
    }

    fn on_headers(&mut self, peer: PeerId, headers: Vec<crate::primitives::BlockHeader>) {
        self.sync.got_headers(peer);
        let full = headers.len() == crate::wire::protocol::MAX_BLOCK_HEADERS_PER_MSG;
        if let Some(first) = headers.first() {
            if self.chain.index().get(&first.prev_blockhash).is_none() {
                // An announcement that skips blocks we lack: ask for the gap. As Core, a peer
                // that keeps sending headers that never connect is misbehaving.
                let count = self.peers.get_mut(&peer).map_or(0, |p| {
                    p.unconnecting_headers += 1;
                    p.unconnecting_headers
                });
                if count.is_multiple_of(UNCONNECTING_HEADERS_LIMIT) {
                    self.misbehave(
                        peer,
                        UNCONNECTING_HEADERS_BAN_SCORE,
                        0,
                        "unconnecting headers",
                    );
                }
                if self.peers.contains_key(&peer) {
                    self.send_getheaders(peer, BlockHash::ZERO);
                }
                return;
            }
            if let Some(p) = self.peers.get_mut(&peer) {
                p.unconnecting_headers = 0;
            }
        }
        if let Err(e) = self.chain.process_headers(&headers, self.now_secs()) {
            return match e {
                ChainError::Rule(r) => {
                    let reason = r.to_string();
                    self.misbehave(peer, INVALID_BLOCK_BAN_SCORE, 0, &reason);
                    self.disconnect(peer, DisconnectReason::BadHeaders(reason));
                }
                other => self.fail(&other.to_string()),
            };
        }
        if let Some(last) = headers.last() {
            self.note_has_block(peer, &last.block_hash());
            if let Some(p) = self.peers.get_mut(&peer) {
                for h in &headers {
                    p.learn(h.block_hash());
                }
            }
        }
        self.sync.schedule(self.chain.index());
        if full {
            self.send_getheaders(peer, BlockHash::ZERO);
        } else if self.sync.headers_peer == Some(peer) {
            self.sync.headers_peer = None;
            self.start_headers_sync();
        }
    }

    fn on_inv(&mut self, peer: PeerId, items: Vec<Inventory>) {
        let mut want_txs = Vec::new();
        let mut new_block = false;
        for item in &items {
            if let Some(p) = self.peers.get_mut(&peer) {
                p.learn(item.hash);
            }
            match item.inv_type.base() {
                InvType::BLOCK => match self.chain.index().get(&item.hash) {
                    Some(_) => self.note_has_block(peer, &item.hash),
                    None => new_block = true,
                },
                InvType::TX | InvType::WTX => {
                    let have = match item.inv_type.base() {
                        InvType::TX => self.mempool.have(&item.hash),
                        _ => self.mempool.get_by_wtxid(&item.hash).is_some(),
                    };
                    if !have
                        && !self.rejected_txs.contains(&item.hash)
                        && !self.tx_requests.contains_key(&item.hash)
                    {
                        self.tx_requests.insert(item.hash, (peer, self.now));
                        // Asked for with witnesses: a stripped segwit spend would not verify.
                        let inv_type = match item.inv_type.base() {
                            InvType::TX => InvType::WITNESS_TX,
                            other => other,
                        };
                        want_txs.push(Inventory {
                            inv_type,
                            hash: item.hash,
                        });
                    }
                }
                _ => {}
            }
        }
        if new_block {
            self.send_getheaders(peer, BlockHash::ZERO);
        }
        if !want_txs.is_empty() {
            self.send(peer, &Message::GetData(want_txs));
        }
    }

    /// Asks every ready peer for blocks it can serve, lowest heights first.
    fn request_blocks(&mut self) {
        if self.sync.downloader.is_done() {
            return;
        }
        let index = self.chain.index();
        let best = index.best_header().hash;
        let mut candidates = Vec::new();
        for (id, p) in self.peers.iter_mut() {
            let serves = p.is_ready()
                && p.remote
                    .as_ref()
                    .is_some_and(|v| v.services.has(ServiceFlags::NETWORK));
            let Some(known) = p.best_known.filter(|_| serves) else {
                continue;
            };
            // Only blocks the peer has: those below where its chain and ours part.
            let height = match p.serve_height {
                Some((b, k, h)) if b == best && k == known => h,
                _ => {
                    let h = syncmgr::common_height(index, &best, &known).unwrap_or(0);
                    p.serve_height = Some((best, known, h));
                    h
                }
            };
            candidates.push((*id, height));
        }
        for (peer, height) in candidates {
            if self.sync.downloader.in_flight_from(peer) >= MAX_IN_FLIGHT_PER_PEER {
                continue;
            }
            let hashes = self.sync.downloader.assign(peer, height, self.now);
            if !hashes.is_empty() {
                let inv = hashes
                    .into_iter()
                    .map(|hash| Inventory {
                        inv_type: InvType::WITNESS_BLOCK,
                        hash,
                    })
                    .collect();
                self.send(peer, &Message::GetData(inv));
            }
        }
    }

    /// Records that `peer` has block `hash` (and so its ancestors).
    fn note_has_block(&mut self, peer: PeerId, hash: &BlockHash) {
        let index = self.chain.index();
        let Some(entry) = index.get(hash) else {
            return;
        };
        let Some(p) = self.peers.get_mut(&peer) else {
            return;
        };
        p.best_height = p.best_height.max(entry.height);
        let better = match p.best_known.and_then(|k| index.get(&k)) {
            Some(current) => entry.chain_work > current.chain_work,
            None => true,
        };
        if better {
            p.best_known = Some(*hash);
        }
    }

    fn on_block(&mut self, from: Option<PeerId>, block: Block) -> Result<Placement, ChainError> {
        let hash = block.block_hash();
        self.sync.block_arrived(&hash);
        if let Some(p) = from.and_then(|id| self.peers.get_mut(&id)) {
            p.learn(hash);
        }
        let result = self.chain.process_block(block, self.now_secs());
        match &result {
            Ok(Placement::Orphan { root }) => {
                if let Some(peer) = from {
                    log::debug!("orphan block {hash}, root {root}: asking peer {peer} for headers");
                    self.send_getheaders(peer, BlockHash::ZERO);
                }
            }
            Ok(_) => {
                if let Some(peer) = from {
                    self.note_has_block(peer, &hash);
                }
            }
            Err(ChainError::Rule(r)) => {
                if let Some(peer) = from {
                    self.misbehave(peer, INVALID_BLOCK_BAN_SCORE, 0, &r.to_string());
                }
            }
            Err(e) => {
                self.fail(&e.to_string());
                return result;
            }
        }
        // A block may also extend the best header chain (submitted, or unsolicited).
        self.sync.schedule(self.chain.index());
        self.after_chain_change();
        result
    }

    /// Applies main-chain changes: mempool updates, notifications, announcements.
    fn after_chain_change(&mut self) {
        let events = self.chain.drain_events();
        if events.is_empty() {
            return;
        }
        let mut connected = Vec::new();
        for ev in events {
            let (hash, height, connected_info) = match ev {
                ChainEvent::Connected {
                    hash,
                    height,
                    txs,
                    time,
                } => (hash, height, Some((txs, time))),
                ChainEvent::Disconnected { hash, height } => (hash, height, None),
            };
            let is_connect = connected_info.is_some();
            // An empty pool has nothing a connected block could remove or unblock; skipping
            // the store read keeps initial download fast.
            let pool_idle = self.mempool.is_empty() && self.mempool.orphan_count() == 0;
            if !(is_connect && pool_idle) {
                let block = match self.chain.store().block(&hash) {
                    Ok(Some(block)) => block,
                    Ok(None) => return self.fail(&format!("block {hash} of the chain not stored")),
                    Err(e) => return self.fail(&e.to_string()),
                };
                let now = self.now_secs();
                // What the pool reports (removed conflicts, re-added txs) is not relayed.
                if is_connect {
                    self.mining
                        .fees
                        .block_connected(&block, height, &self.mempool);
                    self.mempool.block_connected(&block, &self.chain, now);
                } else {
                    self.mining.fees.block_disconnected();
                    self.mempool.block_disconnected(&block, &self.chain, now);
                }
            } else {
                self.mining.fees.empty_block_connected();
            }
            if let Some((txs, time)) = connected_info {
                connected.push(hash);
                self.notify(Notification::BlockConnected {
                    hash,
                    height,
                    txs,
                    time,
                });
            } else {
                connected.retain(|h| *h != hash);
                self.notify(Notification::BlockDisconnected { hash, height });
            }
        }
        self.rejected_txs.clear();
        if self.sync.downloader.is_done() {
            self.announce_blocks(&connected);
        }
    }

    fn announce_blocks(&mut self, connected: &[BlockHash]) {
        let Some(tip) = connected.last().copied() else {
            return;
        };
        let tip_height = self.chain.tip().height;
        let headers: Vec<_> = connected
            .iter()
            .filter_map(|h| self.chain.index().get(h).map(|e| e.header))
            .collect();
        let ready: Vec<PeerId> = self
            .peers
            .iter()
            .filter(|(_, p)| p.is_ready() && !p.knows(&tip) && p.best_height < tip_height)
            .map(|(id, _)| *id)
            .collect();
        for peer in ready {
            let by_headers =
                self.peers[&peer].send_headers && headers.len() <= MAX_HEADERS_ANNOUNCED;
            if let Some(p) = self.peers.get_mut(&peer) {
                p.learn(tip);
            }
            if by_headers {
                self.send(peer, &Message::Headers(headers.clone()));
            } else {
                self.send(
                    peer,
                    &Message::Inv(vec![Inventory {
                        inv_type: InvType::BLOCK,
                        hash: tip,
                    }]),
                );
            }
        }
    }

    // ---- transactions ----

    fn submit_tx(&mut self, tx: Transaction) -> Result<Accepted, RejectReason> {
        let txid = tx.txid();
        let random = self.rng.next_u64();
        let result = self
            .mempool
            .accept(tx, &self.chain, self.now_secs(), random);
        match &result {
            Ok(Accepted::Added(ids)) => {
                self.mempool.rebroadcast.add(txid, self.now_secs());
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

    /// Submits a local transaction (RPC `sendrawtransaction`) at `now`: when the mempool takes
    /// it, it is relayed and rebroadcast until mined.
    pub fn submit_transaction(
        &mut self,
        now: Time,
        tx: Transaction,
    ) -> Result<Accepted, RejectReason> {
        self.now = self.now.max(now);
        if self.failed {
            return Err(RejectReason::Invalid("the node stopped".into()));
        }
        self.submit_tx(tx)
    }

    /// Submits a local block (RPC `submitblock`, the miner) at `now`: where the chain put it,
    /// or why it was refused. Accepted blocks are announced to peers.
    pub fn submit_block(&mut self, now: Time, block: Block) -> Result<Placement, ChainError> {
        self.now = self.now.max(now);
        let result = self.on_block(None, block);
        self.request_blocks();
        self.arm_stall_check();
        result
    }

    /// Applies an operator's verdict on a block (`invalidateblock`, `reconsiderblock`) and
    /// what it changed on the main chain (mempool, notifications), as for a new block.
    pub fn block_verdict(
        &mut self,
        hash: &BlockHash,
        verdict: BlockVerdict,
    ) -> Result<(), VerdictError> {
        let result = match verdict {
            BlockVerdict::Invalid => self.chain.invalidate_block(hash),
            BlockVerdict::Reconsider => self.chain.reconsider_block(hash),
        };
        if let Err(VerdictError::Chain(e)) = &result {
            self.fail(&e.to_string());
            return result;
        }
        self.sync.schedule(self.chain.index());
        self.after_chain_change();
        result
    }

    fn on_tx(&mut self, peer: PeerId, tx: Transaction) {
        let txid = tx.txid();
        let wtxid = tx.wtxid();
        self.tx_requests.remove(&txid);
        self.tx_requests.remove(&wtxid);
        if let Some(p) = self.peers.get_mut(&peer) {
            p.learn(txid);
        }
        let random = self.rng.next_u64();
        match self
            .mempool
            .accept(tx, &self.chain, self.now_secs(), random)
        {
            Ok(Accepted::Added(ids)) => self.relay_txs(Some(peer), ids),
            Ok(Accepted::Orphan(parents)) => {
                let want: Vec<Inventory> = parents
                    .into_iter()
                    .filter(|h| !self.tx_requests.contains_key(h))
                    .map(|hash| Inventory {
                        inv_type: InvType::WITNESS_TX,
                        hash,
                    })
                    .collect();
                for item in &want {
                    self.tx_requests.insert(item.hash, (peer, self.now));
                }
                if !want.is_empty() {
                    self.send(peer, &Message::GetData(want));
                }
            }
            Err(RejectReason::AlreadyHave(_) | RejectReason::AlreadyOrphan(_)) => {}
            Err(reason) => {
                log::debug!("tx {txid} from peer {peer} rejected: {reason:?}");
                self.rejected_txs.insert(txid);
            }
        }
    }

    /// Notifies and announces newly accepted transactions.
    fn relay_txs(&mut self, from: Option<PeerId>, txids: Vec<Txid>) {
        for txid in &txids {
            if let Some(entry) = self.mempool.get(txid) {
                let tx = Arc::clone(&entry.tx);
                self.notify(Notification::TxAccepted(tx));
            }
            self.mining.mempool_updated();
        }
        self.announce_txs(from, &txids, false);
    }

    /// Announces transactions to every ready peer that relays them except `from`; unless
    /// `force` (a rebroadcast), only to peers not known to have them; never to a peer whose
    /// feefilter the transaction's fee rate is below.
    fn announce_txs(&mut self, from: Option<PeerId>, txids: &[Txid], force: bool) {
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
            if !inv.is_empty() {
                self.send(peer, &Message::Inv(inv));
            }
        }
    }

    /// The store failed: stop acting, tell the driver.
    fn fail(&mut self, why: &str) {
        log::error!("node stopping: {why}");
        self.failed = true;
        self.notify(Notification::Fatal(why.to_string()));
    }
}

/// Removes a transaction's witnesses, leaving what a pre-segwit peer can decode.
fn strip_witness(tx: &mut Transaction) {
    for input in &mut tx.inputs {
        input.witness.clear();
    }
}
