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
//!   holding the window back is dropped after an adaptive timeout, never the last one (btcd:
//!   one sync peer, 3 min stall timer).
//! - Blocks are only requested from peers known to have them: the most-work block each peer
//!   announced or sent, learnt by asking for headers from our best header's parent (Core).
//! - Undecodable frames add [`MALFORMED_BAN_SCORE`] instead of dropping the peer at once (the
//!   decoder resynchronises), except frames over a hard limit (payload length, list entries),
//!   which also disconnect; invalid blocks and headers add [`INVALID_BLOCK_BAN_SCORE`];
//!   `notfound` adds nothing (btcd's score there bans honest peers).
//! - Everything a peer can make the node hold is bounded and accounted
//!   ([`crate::net::budget`], [`Node::peer_memory`]): `getdata` is served only while the
//!   peer's send buffer has room (Core's `-maxsendbuffer`), a peer that stops reading is
//!   dropped a few MB later, transaction announcements and requests are capped per peer, refused
//!   transactions go into a rolling bloom filter, large unknown messages are discarded unread,
//!   and past the total budget the peer holding the most is dropped.
//! - When the inbound slots are full a new inbound connection evicts the least useful inbound
//!   peer, chosen as Core does ([`crate::net::eviction`]).
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
//! - Our address goes to outbound peers after the handshake (btcd) and to every peer once a
//!   day ([`LOCAL_ADVERT_INTERVAL`], Core), heads our `getaddr` answers, and is the sender
//!   of our `version`; a DNS seed whose lookup failed is asked again after [`SEED_RETRY`].

mod addresses;
mod admin;
mod blocks;
mod budget;
mod config;
mod handshake;
mod io;
mod mempool_file;
mod messages;
mod mining;
mod outbox;
mod peers;
mod relay;
mod rpc;
mod sync;
mod tick;
mod timers;
mod turns;
mod ws;

pub use crate::net::peer_command::{NetTotals, PeerCommand, PeerCommandError, PeerTarget};
pub use crate::time::Time;
pub use addresses::{ADDR_SAVE_INTERVAL, LOCAL_ADVERT_INTERVAL, OUTBOUND_RETRY, SEED_RETRY};
pub use blocks::INVALID_BLOCK_BAN_SCORE;
pub use config::{InitError, NodeConfig, RpcSettings, DEFAULT_TRICKLE_INTERVAL};
pub use handshake::MALFORMED_BAN_SCORE;
pub use io::{Input, Notification, Output};
pub use mempool_file::MempoolLoaded;
pub use messages::MEMPOOL_BAN_SCORE;
pub use peers::RECONNECT_DELAY;
pub use relay::{INVALID_TX_BAN_SCORE, UNSOLICITED_REJECT_BAN_SCORE};
pub use sync::{UNCONNECTING_HEADERS_BAN_SCORE, UNCONNECTING_HEADERS_LIMIT};

use crate::address::Address;
use crate::chain::{Chain, ChainStore};
use crate::mempool::estimate::FeeEstimator;
use crate::mempool::Mempool;
use crate::net::addrmgr::AddrManager;
use crate::net::bans::BanList;
use crate::net::connmgr::{peer_addr, ConnManager};
use crate::net::local::LocalAddrs;
use crate::net::peer::{PeerId, Peers};
use crate::net::rolling_bloom::RollingBloom;
use crate::net::syncmgr::SyncManager;
use crate::net::tx_fetch::TxFetcher;
use crate::params::Params;
use crate::rng::Rng;
use crate::rpc::block_lookup::ReadView;
use crate::rpc::handlers::NodeInfo;
use crate::rpc::ws::Hub;
use crate::rpc::Transport;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::net::{IpAddr, SocketAddr};

/// Refused transactions remembered (Core's `m_recent_rejects` size and false positive rate).
const RECENT_REJECTS: u32 = 120_000;
const RECENT_REJECTS_FP_RATE: f64 = 0.000_001;

/// The whole node.
pub struct Node<S: ChainStore> {
    params: Params,
    config: NodeConfig,
    chain: Chain<S>,
    mempool: Mempool,
    /// Version and ping nonces.
    nonces: Rng,
    /// What the mempool's acceptance draws (orphan eviction).
    mempool_rng: Rng,
    /// Rebroadcast intervals.
    rebroadcast_rng: Rng,
    now: Time,
    /// Every deadline: what the next tick runs.
    timers: timers::Timers,
    peers: Peers,
    banned: BanList,
    totals: NetTotals,
    sync: SyncManager,
    addrs: AddrManager,
    connmgr: ConnManager,
    /// Transactions announced by peers, and those requested.
    tx_fetch: TxFetcher,
    /// Transactions refused since the tip last changed, so they are not fetched again (Core's
    /// `m_recent_rejects`: fixed memory however many arrive).
    rejected_txs: RollingBloom,
    /// Secret key of the network-group hash that inbound eviction protects by.
    eviction_key: u32,
    /// Keys every peer's set of known inventory ([`crate::net::peer::Peer::new`]).
    inventory_key: u64,
    /// Peers connected to a permanent address.
    permanent: BTreeMap<PeerId, SocketAddr>,
    /// Our own addresses, learnt from connections to ourselves.
    local_addrs: BTreeSet<SocketAddr>,
    /// Our addresses as peers should dial them, advertised to those that can reach them.
    advertised: LocalAddrs,
    /// Peers whose received messages wait for their turns ([`NodeConfig::fair_turns`]).
    turns: turns::Turns,
    outputs: VecDeque<Output>,
    mining: mining::Mining,
    /// Fee rates of mined mempool transactions, for `estimatefee`.
    fees: FeeEstimator,
    /// RPC requests in progress.
    rpc: rpc::Rpc,
    /// WebSocket clients.
    ws: ws::WsClients,
    /// Why the store failed, once it did: the node then only reports it.
    failure: Option<String>,
    /// The payload of the `block` message being handled, as received (what gets stored).
    raw_block: Option<Vec<u8>>,
    /// The planted liveness bug: set when the node restarted on a store it ran on before
    /// (one holding an address book), after which no block is requested.
    #[cfg(feature = "planted-bug-no-refetch")]
    restarted: bool,
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
        let mut chain = Chain::open_with(params.clone(), store, config.chain.clone())
            .map_err(InitError::Chain)?;
        if config.tx_index {
            chain.enable_tx_index().map_err(InitError::Chain)?;
        }
        let mut mempool = Mempool::new(config.policy);
        if config.rpc.publish_view {
            chain.keep_read_view().map_err(InitError::Chain)?;
            mempool.keep_view();
        }
        let mut advertised = LocalAddrs::default();
        if config.listening {
            for (addr, source) in &config.local_addrs {
                advertised.add(peer_addr(addr), *source);
            }
        }
        // Each component draws from its own stream of the seed.
        let addrs_rng = Rng::stream(seed, "addrs");
        let mut keys = Rng::stream(seed, "keys");
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
        let info = NodeInfo {
            version: version(),
            start_time: now.unix_secs(),
            proxy: config.rpc.proxy.clone(),
            log_subsystems: config.rpc.log_subsystems.clone(),
        };
        #[cfg(feature = "planted-bug-no-refetch")]
        let restarted = chain.store().addr_book().ok().flatten().is_some();
        Ok(Node {
            rpc: rpc::Rpc::new(info),
            ws: ws::WsClients::new(Hub::new(params.clone()), Rng::stream(seed, "ws")),
            params,
            mempool,
            mining: mining::Mining::new(
                config.generate,
                config.gen_proc_limit,
                Rng::stream(seed, "mining"),
            ),
            fees: FeeEstimator::default(),
            config,
            chain,
            nonces: Rng::stream(seed, "nonces"),
            mempool_rng: Rng::stream(seed, "mempool"),
            rebroadcast_rng: Rng::stream(seed, "rebroadcast"),
            now,
            timers: timers::Timers::default(),
            peers: BTreeMap::new(),
            banned,
            totals: NetTotals::default(),
            sync: SyncManager::default(),
            addrs,
            connmgr: ConnManager::default(),
            tx_fetch: TxFetcher::default(),
            rejected_txs: RollingBloom::new(
                RECENT_REJECTS,
                RECENT_REJECTS_FP_RATE,
                keys.next_u64() as u32,
            ),
            eviction_key: keys.next_u64() as u32,
            inventory_key: keys.next_u64(),
            permanent: BTreeMap::new(),
            local_addrs: BTreeSet::new(),
            advertised,
            turns: turns::Turns::default(),
            outputs: VecDeque::new(),
            failure: None,
            raw_block: None,
            #[cfg(feature = "planted-bug-no-refetch")]
            restarted,
        }
        .started())
    }

    fn started(mut self) -> Self {
        for addr in self.config.permanent_peers.clone() {
            self.dial_permanent(addr);
        }
        self.arm_periodic_timers();
        if self.addrs.is_empty() {
            for seed in self.params.dns_seeds.clone() {
                self.resolve_seed(seed);
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

    /// The chain and pool as they are now, for the driver to answer lookups beside the node
    /// (taken in O(1), never changing after); `None` unless
    /// [`RpcSettings::publish_view`] is set. A driver takes
    /// it after each input, before it sends that input's replies, so a caller never reads an
    /// older chain than a reply it already has.
    pub fn read_view(&self) -> Option<ReadView> {
        let index = self.chain.index().view()?;
        let mempool = self.mempool.view()?;
        let generation =
            index.generation() + self.chain.unflushed_generation() + mempool.generation();
        Some(ReadView {
            index,
            network: self.chain.params().network,
            unflushed: self.chain.unflushed_view(),
            mempool,
            tx_index: self.chain.tx_index_enabled(),
            generation,
        })
    }

    /// The node's options.
    pub fn config(&self) -> &NodeConfig {
        &self.config
    }

    /// One of the configured mining addresses, chosen at random as btcd does.
    fn mining_address(&mut self) -> Option<Address> {
        self.mining.pay_to(&self.config.mining_addrs).cloned()
    }

    /// The mempool.
    pub fn mempool(&self) -> &Mempool {
        &self.mempool
    }

    /// Connected peers (handshake complete or not).
    pub fn peers(&self) -> &Peers {
        &self.peers
    }

    /// True when `ip` is banned at `now`.
    pub fn is_banned(&self, ip: &IpAddr, now: Time) -> bool {
        self.banned.is_banned(*ip, now)
    }

    /// Feeds one event that happened at `now` (see the driver contract in [`io`]).
    pub fn handle(&mut self, now: Time, input: Input) {
        self.now = self.now.max(now);
        if self.failure.is_some() {
            return;
        }
        match input {
            Input::Connected {
                peer,
                addr,
                direction,
            } => self.on_connected(peer, addr, direction),
            Input::ConnectFailed { addr } => {
                self.dial_ended(&addr);
                if self.config.permanent_peers.contains(&addr) {
                    self.schedule_reconnect(addr);
                }
                self.fill_outbound();
            }
            Input::Resolved { seed, addrs } => self.on_resolved(seed, &addrs),
            Input::LocalAddress { addr, source } => self.on_local_address(addr, source),
            Input::Received { peer, bytes } => self.on_bytes(peer, bytes),
            Input::DecodedBlock {
                peer,
                at,
                len,
                block,
            } => {
                if let Some(p) = self.peers.get_mut(&peer) {
                    p.decoder.add_decoded(at, len, *block);
                }
            }
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
            Input::Rpc { id, rights, body } => {
                self.run_body(rpc::Origin::Http(id), rights, Transport::Http, &body)
            }
            Input::WsOpened { client, rights } => self.on_ws_opened(client, rights),
            Input::WsMessage { client, text } => self.on_ws_message(client, &text),
            Input::WsClosed { client } => self.ws_closed(client),
            Input::MempoolSaved { save, saved } => self.mempool_saved(save, saved),
            Input::Tick => self.on_tick(),
        }
        self.serve_turn();
        self.request_blocks();
        self.arm_stall_check();
        self.serve_getdata_backlogs();
        self.enforce_memory_budget();
    }

    /// The next thing the node wants done. Every way into the node (inputs, RPC calls,
    /// submissions) is followed by draining this, so the miner's work is renewed here once
    /// everything else is out.
    pub fn poll_output(&mut self) -> Option<Output> {
        if self.outputs.is_empty() && self.failure.is_none() {
            self.update_mining();
            self.timers
                .set(timers::Timer::Mining, self.mining.deadline());
        }
        self.outputs.pop_front()
    }

    /// When the node next needs [`Input::Tick`]: its earliest deadline.
    pub fn poll_timeout(&self) -> Option<Time> {
        match self.failure {
            Some(_) => None,
            // Messages waiting for their turns are served at the next input, due at once.
            None if self.turns.any() => {
                Some(self.timers.next().map_or(self.now, |t| t.min(self.now)))
            }
            None => self.timers.next(),
        }
    }

    /// Saves what must outlive the process (the address book, the chain state) and gives the
    /// store back, to be closed cleanly at shutdown. A store that fails here is logged: the
    /// data directory still opens at the last flushed state.
    pub fn into_store(mut self) -> S {
        if self.failure.is_none() {
            self.save_addr_book();
            if let Err(e) = self.chain.flush() {
                log::error!("cannot flush the chain state at shutdown: {e}");
            }
        }
        self.chain.into_store_unflushed()
    }

    /// Why the store failed, if it did (the daemon exits with it).
    pub fn failure(&self) -> Option<&str> {
        self.failure.as_deref()
    }

    /// The store failed: stop acting, tell the driver.
    fn fail(&mut self, why: &str) {
        log::error!("node stopping: {why}");
        self.failure = Some(why.to_string());
        self.notify(Notification::Fatal(why.to_string()));
    }
}

/// This crate's version as (major, minor, patch), which the daemon shares.
fn version() -> (u32, u32, u32) {
    let part = |s: &str| s.parse().unwrap_or(0);
    (
        part(env!("CARGO_PKG_VERSION_MAJOR")),
        part(env!("CARGO_PKG_VERSION_MINOR")),
        part(env!("CARGO_PKG_VERSION_PATCH")),
    )
}
