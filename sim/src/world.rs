//! The shared state of one run: each simulated node's slot (its [`Node`], the store that
//! outlives it, its open connections), what the invariants watch while the run goes, and the
//! trace digest. Node tasks and the controller take turns on it (madsim runs one task at a time).

use crate::adversary;
use crate::calls::{self, WS_CLIENT};
use crate::digest::Digest;
use crate::scenario::Plan;
use crate::workload::{self, BLOCK_MAX_WEIGHT};
use madsim::net::{Receiver, Sender};
use madsim::time::Instant;
use rbtcd_core::chain::MemStore;
use rbtcd_core::harness::START;
use rbtcd_core::net::peer::{Direction, PeerId};
use rbtcd_core::node::{Input, Node, NodeConfig, Notification, Output, RpcSettings, Time};
use rbtcd_core::params::Params;
use rbtcd_core::primitives::{BlockHash, Transaction};
use rbtcd_core::rng::Rng;
use rbtcd_core::rpc::auth::Credentials;
use rbtcd_core::rpc::RequestId;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard};

/// The P2P port every simulated node listens on.
pub const PORT: u16 = 18444;
/// Addresses each node is seeded with at start, as a DNS seed would answer.
const SEED_ADDRS: usize = 8;

/// The world, shared by the node tasks and the controller.
#[derive(Clone)]
pub struct Shared(Arc<Mutex<World>>);

impl Shared {
    /// Wraps `world`.
    pub fn new(world: World) -> Shared {
        Shared(Arc::new(Mutex::new(world)))
    }

    /// Exclusive access (never held across an await).
    pub fn lock(&self) -> MutexGuard<'_, World> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Something for a node task to feed its node.
pub enum Event {
    /// A connection is up.
    Opened {
        /// Its sending half.
        tx: Sender,
        /// Its receiving half.
        rx: Receiver,
        /// The remote address.
        addr: SocketAddr,
        /// Who opened it.
        direction: Direction,
    },
    /// Dialing failed (refused, or the destination is down or cut off).
    ConnectFailed(SocketAddr),
    /// Bytes arrived on a connection.
    Bytes(PeerId, Vec<u8>),
    /// A connection closed.
    Closed(PeerId),
    /// The node found a block (its share of the simulated hash rate), with an extra nonce.
    Mine(u64),
    /// A transaction submitted locally.
    Tx(Transaction),
    /// An adversary's turn to attack.
    Attack,
    /// An HTTP JSON-RPC request: the `n`th body of [`calls::body`].
    Rpc(u64),
    /// The node's timer is due.
    Tick,
}

/// Work a node task does outside the world lock.
pub enum Action {
    /// Open a connection.
    Dial(SocketAddr),
    /// Read a connection's incoming bytes as [`Event::Bytes`].
    Read(PeerId, Receiver),
    /// The node stopped (crashed in a store write, or killed): end the task.
    Stop,
}

/// Counters for the summary.
#[derive(Clone, Debug, Default)]
pub struct Stats {
    /// Valid blocks mined.
    pub mined: u64,
    /// Invalid blocks adversaries sent.
    pub invalid_sent: u64,
    /// Workload transactions submitted.
    pub txs: u64,
    /// `TxAccepted` notifications (all nodes).
    pub tx_accepted: u64,
    /// Frames delivered.
    pub frames: u64,
    /// Disconnects nodes asked for.
    pub disconnects: u64,
    /// Bans.
    pub bans: u64,
    /// Node crashes.
    pub crashes: u64,
    /// Partitions.
    pub partitions: u64,
    /// Adversary attack rounds.
    pub attacks: u64,
    /// HTTP RPC requests sent.
    pub rpc_calls: u64,
    /// Block notifications WebSocket clients heard.
    pub ws_blocks: u64,
}

/// What the RPC invariants follow for one node: requests not answered yet, and whether its
/// WebSocket client has subscribed to blocks.
#[derive(Clone, Debug, Default)]
pub struct RpcWatch {
    /// Requests sent and not answered.
    pub outstanding: BTreeSet<RequestId>,
    next_request: RequestId,
    subscribed: bool,
}

/// One simulated node.
pub struct Slot {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Its store: survives crashes; a crash loses only the batch in flight.
    pub store: MemStore,
    /// The running node (`None` while down).
    pub node: Option<Node<MemStore>>,
    /// Its task's event queue (`None` while down).
    pub events: Option<async_channel::Sender<Event>>,
    /// Sending halves of its connections.
    conns: BTreeMap<PeerId, Sender>,
    next_peer: PeerId,
    /// Starts so far (the node's seed changes with each).
    pub starts: u64,
    /// A store-write crash is armed: the node's `Fatal` is expected.
    pub crash_armed: bool,
    /// The madsim node it runs on.
    pub id: Option<madsim::task::NodeId>,
    /// Addresses fed at each start.
    seeds: Vec<SocketAddr>,
    /// The adversary's own randomness.
    rng: Rng,
    /// RPC requests and the WebSocket client of this run of the node.
    pub rpc: RpcWatch,
}

/// The whole simulated network's state.
pub struct World {
    /// Network parameters (regtest).
    pub params: Params,
    /// The run's plan.
    pub plan: Plan,
    /// The run's seed.
    pub seed: u64,
    /// Simulated instant of [`START`].
    pub start: Instant,
    /// The nodes.
    pub slots: Vec<Slot>,
    /// Hashes of the invalid blocks adversaries made.
    pub invalid: BTreeSet<BlockHash>,
    /// Invariant violations seen so far.
    pub violations: Vec<String>,
    /// Digest of everything observable that happened.
    pub digest: Digest,
    /// Counters.
    pub stats: Stats,
}

/// The address of node `i`: one distinct public /16 per node, so the address manager's
/// one-outbound-per-group rule does not starve a small network.
pub fn addr_of(i: usize) -> SocketAddr {
    let ip = Ipv4Addr::new(20 + (i / 256) as u8, (i % 256) as u8, 0, 1);
    SocketAddr::new(IpAddr::V4(ip), PORT)
}

impl World {
    /// A world for `plan`, every node on a copy of the premined chain.
    pub fn new(params: Params, plan: Plan, seed: u64, start: Instant) -> World {
        let (premined, _) = workload::premined(&params);
        let mut rng = Rng::new(seed ^ 0x5107_5eed);
        let slots = (0..plan.nodes)
            .map(|i| {
                let mut others: Vec<usize> = (0..plan.nodes).filter(|j| *j != i).collect();
                rng.shuffle(&mut others);
                Slot {
                    addr: addr_of(i),
                    store: premined.duplicate(),
                    node: None,
                    events: None,
                    conns: BTreeMap::new(),
                    next_peer: 1,
                    starts: 0,
                    crash_armed: false,
                    id: None,
                    seeds: others.into_iter().take(SEED_ADDRS).map(addr_of).collect(),
                    rng: rng.fork(),
                    rpc: RpcWatch::default(),
                }
            })
            .collect();
        World {
            params,
            plan,
            seed,
            start,
            slots,
            invalid: BTreeSet::new(),
            violations: Vec::new(),
            digest: Digest::default(),
            stats: Stats::default(),
        }
    }

    /// Simulated milliseconds since the start.
    pub fn elapsed_ms(&self) -> u64 {
        Instant::now().duration_since(self.start).as_millis() as u64
    }

    /// Node `i`'s clock: simulated time plus its skew.
    fn clock(&self, i: usize) -> Time {
        let ms = START.as_millis() + self.elapsed_ms();
        Time::from_millis(ms.saturating_add_signed(self.plan.skew_ms[i]))
    }

    /// True when node `i` is running.
    pub fn is_up(&self, i: usize) -> bool {
        self.slots[i].node.is_some()
    }

    /// Starts node `i` on its store (reopened: whatever was not committed is gone) and seeds
    /// its address book; `None` when the node cannot start (a violation is recorded).
    pub fn start_node(
        &mut self,
        i: usize,
        events: async_channel::Sender<Event>,
    ) -> Option<Vec<Action>> {
        let now = self.clock(i);
        let slot = &mut self.slots[i];
        slot.starts += 1;
        slot.crash_armed = false;
        slot.conns.clear();
        slot.rpc = RpcWatch::default();
        let admin = (calls::CREDENTIALS.0.into(), calls::CREDENTIALS.1.into());
        let config = NodeConfig {
            block_max_weight: BLOCK_MAX_WEIGHT,
            rpc: RpcSettings {
                credentials: Credentials::new(Some(&admin), None),
                ..RpcSettings::default()
            },
            ..NodeConfig::default()
        };
        let seed = self.seed ^ (i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ (slot.starts << 48);
        match Node::new(self.params.clone(), config, slot.store.reopen(), seed, now) {
            Ok(node) => slot.node = Some(node),
            Err(e) => {
                self.violations
                    .push(format!("node {i} cannot restart on its store: {e}"));
                return None;
            }
        }
        slot.events = Some(events);
        // Seeds answer with IPs; the node dials them on the regtest port, where all listen.
        let addrs = slot.seeds.iter().map(SocketAddr::ip).collect();
        self.digest.add(&[b'S', i as u8]);
        let mut actions = self.feed(
            i,
            now,
            Input::Resolved {
                seed: "sim".into(),
                addrs,
            },
        );
        // Its WebSocket client connects without credentials, authenticates and subscribes.
        actions.extend(self.feed(
            i,
            now,
            Input::WsOpened {
                client: WS_CLIENT,
                rights: None,
            },
        ));
        for text in calls::ws_opening() {
            let message = Input::WsMessage {
                client: WS_CLIENT,
                text,
            };
            actions.extend(self.feed(i, now, message));
        }
        Some(actions)
    }

    /// Takes node `i` down at once (a process kill: nothing in flight is written) and closes
    /// its connections; returns its madsim id to kill the tasks with.
    pub fn take_down(&mut self, i: usize) -> Option<madsim::task::NodeId> {
        let slot = &mut self.slots[i];
        if slot.node.take().is_some() {
            self.stats.crashes += 1;
            self.digest.add(&[b'K', i as u8]);
        }
        slot.conns.clear();
        slot.events = None;
        // A killed process answers nothing more.
        slot.rpc = RpcWatch::default();
        slot.id
    }

    /// Arms a crash inside the `n`th next store write of node `i`.
    pub fn arm_crash(&mut self, i: usize, n: u64) {
        let slot = &mut self.slots[i];
        if slot.node.is_some() {
            slot.store.fail_at_write(n);
            slot.crash_armed = true;
        }
    }

    /// When node `i` next needs a tick, as a simulated instant.
    pub fn deadline(&self, i: usize) -> Option<Instant> {
        let t = self.slots[i].node.as_ref()?.poll_timeout()?;
        let now = self.clock(i);
        Some(Instant::now() + t.since(now))
    }

    /// Feeds `event` to node `i`; returns what its task must do.
    pub fn on_event(&mut self, i: usize, event: Event) -> Vec<Action> {
        let now = self.clock(i);
        if self.slots[i].node.is_none() {
            return vec![Action::Stop];
        }
        let mut actions = Vec::new();
        let input = match event {
            Event::Opened {
                tx,
                rx,
                addr,
                direction,
            } => {
                let slot = &mut self.slots[i];
                let peer = slot.next_peer;
                slot.next_peer += 1;
                slot.conns.insert(peer, tx);
                actions.push(Action::Read(peer, rx));
                Input::Connected {
                    peer,
                    addr,
                    direction,
                }
            }
            Event::ConnectFailed(addr) => Input::ConnectFailed { addr },
            Event::Bytes(peer, bytes) => {
                self.stats.frames += 1;
                Input::Received { peer, bytes }
            }
            Event::Closed(peer) => {
                self.slots[i].conns.remove(&peer);
                Input::Disconnected { peer }
            }
            Event::Mine(extra_nonce) => {
                let node = self.slots[i].node.as_ref().expect("checked above");
                let block = workload::mine(node, now.unix_secs(), extra_nonce);
                self.stats.mined += 1;
                Input::SubmitBlock(block)
            }
            Event::Tx(tx) => Input::SubmitTx(tx),
            Event::Attack => {
                self.attack(i, now);
                Input::Tick
            }
            Event::Rpc(n) => {
                let watch = &mut self.slots[i].rpc;
                let id = watch.next_request;
                watch.next_request += 1;
                watch.outstanding.insert(id);
                self.stats.rpc_calls += 1;
                Input::Rpc {
                    id,
                    rights: rbtcd_core::rpc::Rights::Admin,
                    body: calls::body(n, id),
                }
            }
            Event::Tick => Input::Tick,
        };
        actions.extend(self.feed(i, now, input));
        actions
    }

    /// One attack round of adversary `i`: each of its attacks, to every connection.
    fn attack(&mut self, i: usize, now: Time) {
        self.stats.attacks += 1;
        let attacks = self.plan.attacks_of(i).to_vec();
        let slot = &mut self.slots[i];
        let node = slot.node.as_ref().expect("attacks only from running nodes");
        for attack in attacks {
            let strike = adversary::strike(attack, node, &mut slot.rng, now.unix_secs());
            self.stats.invalid_sent += strike.invalid.len() as u64;
            self.invalid.extend(strike.invalid);
            for tx in slot.conns.values() {
                for frame in &strike.frames {
                    send(tx, frame.clone());
                }
            }
        }
    }

    /// Hands `input` to node `i` and carries out what it asks for.
    fn feed(&mut self, i: usize, now: Time, input: Input) -> Vec<Action> {
        let honest = !self.plan.is_adversary(i);
        let attacks = self.plan.attacks_of(i).to_vec();
        let mut actions = Vec::new();
        let mut notes = Vec::new();
        let mut rpc = Vec::new();
        {
            let slot = &mut self.slots[i];
            let Some(node) = slot.node.as_mut() else {
                return vec![Action::Stop];
            };
            node.handle(now, input);
            while let Some(out) = node.poll_output() {
                match out {
                    Output::Send { peer, bytes } => {
                        if let Some(tx) = slot.conns.get(&peer) {
                            if !adversary::drops(&attacks, &bytes) {
                                send(tx, bytes);
                            }
                        }
                    }
                    Output::Disconnect { peer, reason } => {
                        slot.conns.remove(&peer);
                        self.stats.disconnects += 1;
                        self.digest
                            .add(format!("D{i}:{peer}:{reason:?}").as_bytes());
                    }
                    Output::Connect { addr } => actions.push(Action::Dial(addr)),
                    // No DNS in the simulation: nodes are seeded at start.
                    Output::Resolve { .. } => {}
                    Output::Notify(n) => notes.push(n),
                    // Blocks come from the workload's simulated hash rate, not miner threads.
                    Output::MineOn(_) => {}
                    Output::RpcReply { .. }
                    | Output::Ws { .. }
                    | Output::WsClose { .. }
                    | Output::LogLevels(_)
                    | Output::Shutdown => rpc.push(out),
                }
            }
        }
        self.check_rpc(i, &notes, rpc);
        for n in notes {
            if self.observe(i, honest, now, n) {
                actions.push(Action::Stop);
            }
        }
        actions
    }

    /// The RPC invariants over one input's outputs of node `i`: every reply answers a request
    /// sent and not yet answered; the WebSocket client is never closed, and once subscribed
    /// hears of exactly the blocks the node connected and disconnected (`notes`), in order.
    fn check_rpc(&mut self, i: usize, notes: &[Notification], outputs: Vec<Output>) {
        let subscribed = self.slots[i].rpc.subscribed;
        let mut heard = Vec::new();
        for out in outputs {
            match out {
                Output::RpcReply { id, body } => {
                    if !self.slots[i].rpc.outstanding.remove(&id) {
                        self.violations
                            .push(format!("node {i} answered request {id} again, or unasked"));
                    }
                    self.digest.add(&id.to_le_bytes());
                    self.digest.add(body.as_bytes());
                }
                Output::Ws { client, text } => {
                    let message: Value = serde_json::from_str(&text).unwrap_or_default();
                    match message["method"].as_str() {
                        Some(m @ ("blockconnected" | "blockdisconnected")) => {
                            let hash = message["params"][0].as_str().unwrap_or_default();
                            heard.push(format!("{m} {hash}"));
                        }
                        _ if message["id"] == calls::SUBSCRIBE_ID => {
                            self.slots[i].rpc.subscribed = message["error"].is_null();
                        }
                        _ => {}
                    }
                    if client != WS_CLIENT {
                        self.violations.push(format!(
                            "node {i} wrote to unknown WebSocket client {client}"
                        ));
                    }
                }
                other => self
                    .violations
                    .push(format!("node {i} did what no client asked: {other:?}")),
            }
        }
        let expected: Vec<String> = notes
            .iter()
            .filter(|_| subscribed)
            .filter_map(|n| match n {
                Notification::BlockConnected { hash, .. } => Some(format!("blockconnected {hash}")),
                Notification::BlockDisconnected { hash, .. } => {
                    Some(format!("blockdisconnected {hash}"))
                }
                _ => None,
            })
            .collect();
        self.stats.ws_blocks += heard.len() as u64;
        if heard != expected {
            self.violations.push(format!(
                "node {i}'s WebSocket client heard {heard:?} of blocks {expected:?}"
            ));
        }
    }

    /// Checks and records one notification; true when the node stopped.
    fn observe(&mut self, i: usize, honest: bool, now: Time, n: Notification) -> bool {
        match &n {
            Notification::BlockConnected { hash, height, .. } => {
                if honest && self.invalid.contains(hash) {
                    self.violations.push(format!(
                        "honest node {i} connected invalid block {hash} at height {height}"
                    ));
                }
                self.digest.add(&hash.0);
                self.digest.add(&[b'C', i as u8]);
                self.digest.add(&now.as_millis().to_le_bytes());
            }
            Notification::BlockDisconnected { hash, .. } => {
                self.digest.add(&hash.0);
                self.digest.add(&[b'X', i as u8]);
            }
            Notification::TxAccepted(tx) => {
                self.stats.tx_accepted += 1;
                self.digest.add(&tx.txid().0);
            }
            Notification::Banned { ip, .. } => {
                self.stats.bans += 1;
                let victim = self.slots.iter().position(|s| s.addr.ip() == *ip);
                if let Some(j) = victim.filter(|j| honest && !self.plan.is_adversary(*j)) {
                    self.violations
                        .push(format!("honest node {i} banned honest node {j}"));
                }
                self.digest.add(format!("B{i}:{ip}").as_bytes());
            }
            Notification::Fatal(why) => {
                if !self.slots[i].crash_armed {
                    self.violations
                        .push(format!("node {i} stopped unexpectedly: {why}"));
                }
                self.take_down(i);
                return true;
            }
            Notification::PeerReady(_) | Notification::TxRejected { .. } => {}
        }
        false
    }
}

/// Writes one frame to a connection. madsim's channel send completes at once; a closed
/// connection is noticed by its reader, so the error is dropped here.
fn send(tx: &Sender, bytes: Vec<u8>) {
    let _ = futures::FutureExt::now_or_never(tx.send(Box::new(bytes)));
}
