//! The state of one run: each simulated node's slot (its [`Node`], the store that outlives it,
//! its connections, its miner's work), the network, the calendar and timers, what the
//! invariants watch while the run goes, and the trace digest. Nodes are driven exactly as the
//! daemon drives its node: one input, then every output drained, then a tick when
//! `poll_timeout` falls due.

use crate::adversary::{self, Attacker};
use crate::calendar::Calendar;
use crate::calls::{self, Call, RpcWatch, WsHeard, WS_CLIENT};
use crate::digest::Digest;
use crate::files::SimFiles;
use crate::net::{Arrival, ConnId, NetEvent, Network};
use crate::run::Step;
use crate::scenario::{Attack, Plan};
use crate::store::{self, SimStore};
use crate::workload::{self, BLOCK_MAX_WEIGHT};
use rbtcd_core::chain::{ChainOptions, ChainStore};
use rbtcd_core::harness::START;
use rbtcd_core::mining::{search, MinerWork};
use rbtcd_core::net::peer::PeerId;
use rbtcd_core::node::{Input, Node, NodeConfig, Notification, Output, RpcSettings, Time};
use rbtcd_core::params::Params;
use rbtcd_core::primitives::{BlockHash, Transaction, Txid};
use rbtcd_core::rng::Rng;
use rbtcd_core::rpc::auth::Credentials;
use rbtcd_core::rpc::{RequestId, Rights};
use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::rc::Rc;

/// The P2P port every simulated node listens on.
pub const PORT: u16 = 18444;
/// Addresses each node is seeded with at start, as a DNS seed would answer.
const SEED_ADDRS: usize = 8;
/// The send queue limit of simulated nodes: small enough that a peer reading slowly is
/// dropped within a run, far above what an honest slow link ever holds.
pub const MAX_SEND_QUEUE: u64 = 512 * 1024;
/// The UTXO cache budget of simulated nodes, as a small daemon would set it
/// (`--utxocachemaxsize`): the default (250 MiB) never fills on a simulated chain, so every
/// node kept each coin twice, in its cache and in its store, and a thousand nodes held a
/// day's coins twice over; at this size the cache fills and flushes, which the simulation
/// should exercise anyway. 16 KiB rather than 64: the cache's table was ~45 KiB of each
/// node's peak in the 1,000-node bench, and flushing four times as often costs little.
pub const UTXO_CACHE_BYTES: usize = 16 * 1024;

/// Something scheduled in the calendar.
#[derive(Clone, Debug)]
pub enum Ev {
    /// The network's own events.
    Net(NetEvent),
    /// A step of the run's controller.
    Step(Step),
}

impl From<NetEvent> for Ev {
    fn from(e: NetEvent) -> Ev {
        Ev::Net(e)
    }
}

/// Counters for the summary.
#[derive(Clone, Debug, Default)]
pub struct Stats {
    /// Blocks solved by the simulated hash power (handed to nodes as `BlockSolved`).
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
    /// Disconnects because a peer left too much unread.
    pub send_queue_drops: u64,
    /// Bans.
    pub bans: u64,
    /// Node crashes (kills, crashes inside a write, full disks).
    pub crashes: u64,
    /// Store writes that failed (crash inside a write, full disk).
    pub store_faults: u64,
    /// Partitions.
    pub partitions: u64,
    /// Adversary attack rounds.
    pub attacks: u64,
    /// HTTP JSON-RPC requests and WebSocket requests the controller sent.
    pub rpc_calls: u64,
    /// Block notifications WebSocket clients heard.
    pub ws_blocks: u64,
    /// Transaction notifications WebSocket clients heard.
    pub ws_txs: u64,
}

/// What a recorded run keeps for its plot: every node's tip height over time, when nodes
/// were down, and when each block reached each node.
#[derive(Clone, Debug, Default)]
pub struct Timeline {
    /// Per node, its tip height after each change: (simulated ms, height).
    pub heights: Vec<Vec<(u64, u32)>>,
    /// Times nodes were down: (node, from, to) in simulated ms.
    pub down: Vec<(usize, u64, u64)>,
    /// Per block, the times honest nodes connected it (the first is when it was mined).
    pub blocks: BTreeMap<BlockHash, Vec<u64>>,
    /// Per node, since when it has been down.
    down_since: BTreeMap<usize, u64>,
}

impl TxFate {
    /// Node `node` accepted the transaction.
    fn accepted(&mut self, node: usize) {
        let word = node / 64;
        if self.keepers.len() <= word {
            self.keepers.resize(word + 1, 0);
        }
        self.keepers[word] |= 1 << (node % 64);
    }

    /// Node `node` went down (its mempool with it).
    fn forget(&mut self, node: usize) {
        if let Some(word) = self.keepers.get_mut(node / 64) {
            *word &= !(1 << (node % 64));
        }
    }

    /// The first honest node that accepted the transaction and has run since.
    pub fn keeper(&self) -> Option<usize> {
        let (word, bits) = self.keepers.iter().enumerate().find(|(_, w)| **w != 0)?;
        Some(word * 64 + bits.trailing_zeros() as usize)
    }
}

impl Timeline {
    /// An empty timeline of `nodes` nodes starting at `height`.
    pub fn new(nodes: usize, height: u32) -> Timeline {
        Timeline {
            heights: vec![vec![(0, height)]; nodes],
            ..Timeline::default()
        }
    }

    fn went_down(&mut self, node: usize, at: u64) {
        self.down_since.entry(node).or_insert(at);
    }

    fn came_up(&mut self, node: usize, at: u64) {
        if let Some(from) = self.down_since.remove(&node) {
            self.down.push((node, from, at));
        }
    }

    /// Closes the open down intervals at `end`.
    pub fn finish(&mut self, end: u64) {
        for (node, from) in std::mem::take(&mut self.down_since) {
            self.down.push((node, from, end));
        }
    }
}

/// What became of a workload transaction.
#[derive(Clone, Debug, Default)]
pub struct TxFate {
    /// Honest nodes that accepted it into their mempools and have run since, a bit per node
    /// (a node's bit is cleared when it goes down: its mempool is gone). A list of nodes with
    /// their start counts took 16 bytes per acceptance, ~40 KiB a node in the 1,000-node bench.
    keepers: Vec<u64>,
    /// Why the node it was submitted to refused it, if it did.
    pub rejected: Option<String>,
}

/// One simulated node.
pub struct Slot {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Its store: survives crashes; a crash loses only the batch in flight.
    pub store: SimStore,
    /// The running node (`None` while down).
    pub node: Option<Node<SimStore>>,
    /// Its connections: peer id to connection and side.
    conns: BTreeMap<PeerId, (ConnId, usize)>,
    next_peer: PeerId,
    /// Starts so far (the node's seed changes with each).
    pub starts: u64,
    /// A store fault is armed: the node's `Fatal` is expected.
    pub fault_armed: bool,
    /// Store writes seen failing so far.
    failed_writes: u64,
    /// The tip the node's store had committed when it last announced a tip change
    /// (`BlockConnected`/`BlockDisconnected`): a restart must find it or a later one.
    acked_tip: Option<BlockHash>,
    /// The miner's current work (`Output::MineOn`).
    pub work: Option<Box<MinerWork>>,
    /// When the node's next tick is due (simulated ms), as entered in the timers.
    due: Option<u64>,
    /// Addresses fed at each start.
    seeds: Vec<SocketAddr>,
    /// An adversary's own state (`None` for honest nodes).
    attacker: Option<Attacker>,
    /// This run of the node's RPC requests and WebSocket client.
    pub rpc: RpcWatch,
    /// The block of an `invalidateblock`/`reconsiderblock` pair sent and not yet answered, with
    /// the request: if the node goes down first, the block may stay invalid.
    unreconsidered: Option<(RequestId, BlockHash)>,
}

/// The whole simulated network's state.
pub struct World {
    /// Network parameters (regtest).
    pub params: Params,
    /// The run's plan.
    pub plan: Plan,
    /// The run's seed.
    pub seed: u64,
    /// Simulated ms since the start.
    pub now: u64,
    /// The nodes.
    pub slots: Vec<Slot>,
    /// Connections and links.
    pub net: Network,
    /// What is scheduled.
    pub calendar: Calendar<Ev>,
    /// Nodes' next ticks: (due, node).
    timers: BTreeSet<(u64, usize)>,
    /// Hashes of the invalid blocks adversaries made.
    pub invalid: BTreeSet<BlockHash>,
    /// Invariant violations seen so far.
    pub violations: Vec<String>,
    /// Digest of everything observable that happened.
    pub digest: Digest,
    /// Counters.
    pub stats: Stats,
    /// What a recorded run keeps for its plot (`None`: not recorded).
    pub timeline: Option<Timeline>,
    /// The workload's transactions and what became of them.
    pub submitted: BTreeMap<Txid, TxFate>,
    /// The next HTTP request id (above the WebSocket client's opening ids).
    next_request: RequestId,
}

/// The address of node `i`: one distinct public /16 per node, so the address manager's
/// one-outbound-per-group rule does not starve a small network.
pub fn addr_of(i: usize) -> SocketAddr {
    let ip = Ipv4Addr::new(20 + (i / 256) as u8, (i % 256) as u8, 0, 1);
    SocketAddr::new(IpAddr::V4(ip), PORT)
}

/// The node listening at `addr` among `nodes`, if any (an adversary also listens on the
/// other hosts of its /16 it comes back from).
pub fn node_at(addr: &SocketAddr, nodes: usize) -> Option<usize> {
    let IpAddr::V4(ip) = addr.ip() else {
        return None;
    };
    let [a, b, _, d] = ip.octets();
    let i = (usize::from(a).checked_sub(20)? << 8) + usize::from(b);
    (addr.port() == PORT && d == 1 && i < nodes).then_some(i)
}

impl World {
    /// A world for `plan`, every node down on a copy of the premined chain.
    pub fn new(params: Params, plan: Plan, seed: u64) -> World {
        let (premined, _) = workload::premined(&params);
        let files = SimFiles::copy_of(premined, Rc::default())
            .expect("the premined chain's files read back");
        let shared = Rc::new(store::Shared::default());
        let mut rng = Rng::new(seed ^ 0x5107_5eed);
        let slots = (0..plan.nodes)
            .map(|i| {
                let mut others: Vec<usize> = (0..plan.nodes).filter(|j| *j != i).collect();
                rng.shuffle(&mut others);
                // Drawn for every node, so a plan's other draws do not depend on who attacks.
                let fork = rng.fork();
                Slot {
                    addr: addr_of(i),
                    store: SimStore::sharing(premined, files.clone(), shared.clone()),
                    node: None,
                    conns: BTreeMap::new(),
                    next_peer: 1,
                    starts: 0,
                    fault_armed: false,
                    failed_writes: 0,
                    acked_tip: None,
                    work: None,
                    due: None,
                    seeds: others.into_iter().take(SEED_ADDRS).map(addr_of).collect(),
                    attacker: plan
                        .is_adversary(i)
                        .then(|| Attacker::new(fork, addr_of(i))),
                    rpc: RpcWatch::default(),
                    unreconsidered: None,
                }
            })
            .collect();
        let slow_readers = (plan.honest..plan.nodes)
            .filter(|i| plan.attacks_of(*i).contains(&Attack::SlowReader))
            .collect();
        World {
            net: Network::new(
                seed,
                plan.nodes,
                plan.links.clone(),
                plan.loss,
                slow_readers,
            ),
            params,
            seed,
            now: 0,
            slots,
            calendar: Calendar::default(),
            timers: BTreeSet::new(),
            invalid: BTreeSet::new(),
            violations: Vec::new(),
            digest: Digest::default(),
            stats: Stats::default(),
            timeline: None,
            submitted: BTreeMap::new(),
            next_request: 100,
            plan,
        }
    }

    /// Node `i`'s clock: simulated time plus its skew.
    fn clock(&self, i: usize) -> Time {
        Time::from_millis(
            (START.as_millis() + self.now).saturating_add_signed(self.plan.skew_ms[i]),
        )
    }

    /// True when node `i` is running.
    pub fn is_up(&self, i: usize) -> bool {
        self.slots[i].node.is_some()
    }

    /// The earliest due node tick.
    pub fn next_tick(&self) -> Option<(u64, usize)> {
        self.timers.first().copied()
    }

    /// Schedules controller step `step` at `at`.
    pub fn schedule(&mut self, at: u64, step: Step) {
        self.calendar.push(at, Ev::Step(step));
    }

    /// Starts node `i` on its store (reopened: whatever was not committed is gone) and seeds
    /// its address book; a node that cannot start is a violation.
    pub fn start_node(&mut self, i: usize) {
        let now = self.clock(i);
        let honest = !self.plan.is_adversary(i);
        let slot = &mut self.slots[i];
        slot.starts += 1;
        slot.fault_armed = false;
        slot.store.set_full(false);
        slot.conns.clear();
        slot.work = None;
        slot.rpc = RpcWatch::default();
        let mining = self.plan.hash_rate.get(i).is_some_and(|r| *r > 0.0);
        let admin = (calls::CREDENTIALS.0.into(), calls::CREDENTIALS.1.into());
        let config = NodeConfig {
            block_max_weight: BLOCK_MAX_WEIGHT,
            max_send_queue: Some(MAX_SEND_QUEUE),
            chain: ChainOptions {
                utxo_cache_bytes: UTXO_CACHE_BYTES,
                ..ChainOptions::default()
            },
            generate: mining,
            mining_addrs: vec![workload::mining_address(&self.params)],
            rpc: RpcSettings {
                credentials: Credentials::new(Some(&admin), None),
                // Expensive replies come out to be rendered, as in the daemon.
                render_by_driver: true,
                ..RpcSettings::default()
            },
            ..NodeConfig::default()
        };
        let seed = self.seed ^ (i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ (slot.starts << 48);
        let store = slot.store.reopen();
        match Node::new(self.params.clone(), config, store, seed, now) {
            Ok(node) => {
                // The daemon's crash promise: the store opens on a tip no older (in work)
                // than the one committed at its last announcement. It may be newer: flushes
                // without an announcement, or blocks committed in an input whose later write
                // failed.
                let tip = node.chain().tip();
                if let Some(acked) = slot.acked_tip.filter(|a| honest && *a != tip.hash) {
                    let index = node.chain().index();
                    let older = index.get(&acked).is_none_or(|a| {
                        a.chain_work > index.get(&tip.hash).map_or(a.chain_work, |t| t.chain_work)
                    });
                    if older {
                        self.violations.push(format!(
                            "node {i} restarted on tip {} at height {}, older than the tip it \
                             last announced ({acked})",
                            tip.hash, tip.height
                        ));
                    }
                }
                slot.node = Some(node);
            }
            Err(e) => {
                self.violations
                    .push(format!("node {i} cannot restart on its store: {e}"));
                return;
            }
        }
        self.net.node_up(i, slot.starts);
        if let Some(t) = self.timeline.as_mut() {
            t.came_up(i, self.now);
        }
        // Seeds answer with IPs; the node dials them on the regtest port, where all listen.
        let addrs = slot.seeds.iter().map(SocketAddr::ip).collect();
        self.digest.add(&[b'S', i as u8]);
        self.feed(
            i,
            Input::Resolved {
                seed: "sim".into(),
                addrs,
            },
        );
        // Its WebSocket client connects without credentials, authenticates and subscribes.
        if !self.is_up(i) {
            return;
        }
        self.slots[i].rpc.connected = true;
        self.feed(
            i,
            Input::WsOpened {
                client: WS_CLIENT,
                rights: None,
            },
        );
        for (id, text) in calls::ws_opening().into_iter().enumerate() {
            self.ws_send(i, id as u64, text);
        }
        // The node went down between an invalidateblock and its reconsiderblock: it keeps
        // refusing that block, as it was told to, until an operator reconsiders it.
        if let Some((_, hash)) = self.slots[i].unreconsidered.take() {
            let id = self.request_id();
            self.http(i, id, calls::reconsider(hash, id));
        }
    }

    /// Sends node `i`'s WebSocket client's request `id`.
    fn ws_send(&mut self, i: usize, id: u64, text: String) {
        if !self.slots[i].rpc.connected {
            return;
        }
        self.slots[i].rpc.ws_outstanding.insert(id);
        self.feed(
            i,
            Input::WsMessage {
                client: WS_CLIENT,
                text,
            },
        );
    }

    /// A fresh HTTP request id.
    fn request_id(&mut self) -> RequestId {
        self.next_request += 1;
        self.next_request
    }

    /// Sends running node `i` a call drawn from `rng` (the controller's RPC load).
    pub fn rpc(&mut self, i: usize, rng: &mut Rng, other: usize) {
        let Some(node) = self.slots[i].node.as_ref() else {
            return;
        };
        let chain = node.chain();
        let tip = chain.tip();
        let at = |h: u32| chain.index().main_at(h).copied().unwrap_or(tip.hash);
        let target = calls::Target {
            tip: tip.hash,
            below: at(tip.height.saturating_sub(20)),
            under_tip: at(tip.height.saturating_sub(1)),
            other: addr_of(other),
            address: workload::mining_address(&self.params).to_string(),
        };
        let id = self.request_id();
        self.stats.rpc_calls += 1;
        match calls::draw(rng, id, &target) {
            Call::Http(body) => self.http(i, id, body),
            Call::Invalidate(body) => {
                self.slots[i].unreconsidered = Some((id, target.tip));
                self.http(i, id, body);
            }
            Call::Ws(text) => self.ws_send(i, id, text),
        }
    }

    /// Sends node `i` HTTP request `id` with `body`, from the admin user.
    fn http(&mut self, i: usize, id: RequestId, body: Vec<u8>) {
        self.slots[i].rpc.outstanding.insert(id);
        self.feed(
            i,
            Input::Rpc {
                id,
                rights: Rights::Admin,
                body,
            },
        );
    }

    /// Submits workload transaction `tx` to node `i` with `sendrawtransaction`.
    pub fn send_raw_tx(&mut self, i: usize, tx: &Transaction) {
        let id = self.request_id();
        self.slots[i].rpc.sends.insert(id, tx.txid());
        self.http(i, id, calls::send_raw(tx, id));
    }

    /// Takes node `i` down at once (a process kill: nothing in flight is written); its
    /// connections close.
    pub fn take_down(&mut self, i: usize) {
        self.stop(i, true);
    }

    /// Takes adversary `i` off the network at the end of the fault phase: it leaves, which is
    /// not a crash to count or draw.
    pub fn retire(&mut self, i: usize) {
        self.stop(i, false);
    }

    fn stop(&mut self, i: usize, crash: bool) {
        let slot = &mut self.slots[i];
        if slot.node.take().is_some() {
            for fate in self.submitted.values_mut() {
                fate.forget(i);
            }
            if crash {
                self.stats.crashes += 1;
                self.digest.add(&[b'K', i as u8]);
                if let Some(t) = self.timeline.as_mut() {
                    t.went_down(i, self.now);
                }
            }
        }
        slot.conns.clear();
        slot.work = None;
        // A killed process answers nothing more; its clients see their connections reset.
        slot.rpc = RpcWatch::default();
        if let Some(due) = slot.due.take() {
            self.timers.remove(&(due, i));
        }
        self.net.node_down(&mut self.calendar, self.now, i);
    }

    /// Arms a crash inside the `n`th next store write of node `i`.
    pub fn arm_crash(&mut self, i: usize, n: u64) {
        let slot = &mut self.slots[i];
        if slot.node.is_some() {
            slot.store.fail_at_write(n);
            slot.fault_armed = true;
        }
    }

    /// Fills node `i`'s disk: its next write is refused.
    pub fn fill_disk(&mut self, i: usize) {
        let slot = &mut self.slots[i];
        if slot.node.is_some() {
            slot.store.set_full(true);
            slot.fault_armed = true;
        }
    }

    /// Carries out a due network event.
    pub fn on_net(&mut self, event: NetEvent) {
        let arrivals = self.net.on_event(&mut self.calendar, self.now, event);
        for arrival in arrivals {
            match arrival {
                Arrival::Opened {
                    conn,
                    side,
                    node,
                    remote,
                    direction,
                } => {
                    // An adversary connects from the address it now uses.
                    let from = self.slots[remote]
                        .attacker
                        .as_ref()
                        .map_or_else(|| addr_of(remote), |a| a.addr);
                    let slot = &mut self.slots[node];
                    let peer = slot.next_peer;
                    slot.next_peer += 1;
                    slot.conns.insert(peer, (conn, side));
                    self.net.bind(conn, side, peer);
                    self.feed(
                        node,
                        Input::Connected {
                            peer,
                            addr: from,
                            direction,
                        },
                    );
                }
                Arrival::Bytes { node, peer, bytes } => {
                    self.stats.frames += 1;
                    self.feed(node, Input::Received { peer, bytes });
                }
                Arrival::Closed { node, peer } => {
                    self.slots[node].conns.remove(&peer);
                    self.feed(node, Input::Disconnected { peer });
                }
                Arrival::DialFailed { node, addr } => {
                    self.feed(node, Input::ConnectFailed { addr });
                }
            }
        }
    }

    /// Node `i`'s timer fell due.
    pub fn tick(&mut self, i: usize) {
        if let Some(due) = self.slots[i].due.take() {
            self.timers.remove(&(due, i));
        }
        self.feed(i, Input::Tick);
    }

    /// The simulated hash power of node `i` found a block on its current work: the solution
    /// goes back as the miner threads send it. False when the node has no work.
    pub fn solve(&mut self, i: usize) -> bool {
        let Some(work) = self.slots[i].work.as_mut() else {
            return false;
        };
        let (extra_nonce, job) = work.next_job();
        let nonce = search(&job, 0..=u32::MAX).expect("regtest difficulty has solutions");
        let input = Input::BlockSolved {
            work_id: job.id,
            extra_nonce,
            header: job.solved_header(nonce),
        };
        self.stats.mined += 1;
        self.feed(i, input);
        true
    }

    /// One attack round of adversary `i`: each of its attacks, to every connection.
    pub fn attack(&mut self, i: usize) {
        let now = self.clock(i);
        let attacks = self.plan.attacks_of(i).to_vec();
        let slot = &mut self.slots[i];
        let (Some(node), Some(attacker)) = (slot.node.as_ref(), slot.attacker.as_mut()) else {
            return;
        };
        self.stats.attacks += 1;
        for attack in attacks {
            let strike = adversary::strike(attack, node, attacker, now.unix_secs());
            self.stats.invalid_sent += strike.invalid.len() as u64;
            self.invalid.extend(strike.invalid);
            for (conn, side) in slot.conns.values() {
                for frame in &strike.frames {
                    self.net
                        .send(&mut self.calendar, self.now, *conn, *side, frame.clone());
                }
            }
        }
        self.feed(i, Input::Tick);
    }

    /// Hands `input` to node `i` (after telling it what its connections wrote since its last
    /// input) and carries out what it asks for.
    pub fn feed(&mut self, i: usize, input: Input) {
        let now = self.clock(i);
        let honest = !self.plan.is_adversary(i);
        let mut notes = Vec::new();
        for (peer, bytes) in self.net.written(i, self.now) {
            self.handle(i, now, Input::Sent { peer, bytes }, &mut notes);
        }
        self.handle(i, now, input, &mut notes);
        let mut stopped = false;
        for n in notes {
            stopped |= self.observe(i, honest, n);
        }
        let slot = &mut self.slots[i];
        let failed = slot.store.failed_writes();
        if failed > slot.failed_writes {
            self.stats.store_faults += failed - slot.failed_writes;
            slot.failed_writes = failed;
            if !stopped {
                self.violations
                    .push(format!("node {i} kept running after a store write failed"));
            }
        }
        if stopped {
            self.take_down(i);
            return;
        }
        self.rearm(i);
    }

    /// Enters node `i`'s next tick in the timers.
    fn rearm(&mut self, i: usize) {
        let clock = self.clock(i);
        let slot = &mut self.slots[i];
        let due = slot.node.as_ref().and_then(Node::poll_timeout).map(|t| {
            // A deadline already past is served at the next millisecond, as a timer would.
            (self.now + t.since(clock).as_millis() as u64).max(self.now + 1)
        });
        if due != slot.due {
            if let Some(old) = slot.due {
                self.timers.remove(&(old, i));
            }
            if let Some(new) = due {
                self.timers.insert((new, i));
            }
            slot.due = due;
        }
    }

    /// One input to node `i` and its outputs.
    fn handle(&mut self, i: usize, now: Time, input: Input, notes: &mut Vec<Notification>) {
        let attacks = self.plan.attacks_of(i);
        let slot = &mut self.slots[i];
        let Some(node) = slot.node.as_mut() else {
            return;
        };
        let first_note = notes.len();
        let mut rpc = Vec::new();
        // The node's own answers to it (a `mempool.dat` written) come right after.
        let mut inputs = vec![input];
        while let Some(input) = inputs.pop() {
            node.handle(now, input);
            while let Some(out) = node.poll_output() {
                match out {
                    Output::Send { peer, bytes } => {
                        if let Some((conn, side)) = slot.conns.get(&peer) {
                            if !adversary::drops(attacks, &bytes) {
                                self.net
                                    .send(&mut self.calendar, self.now, *conn, *side, bytes);
                            }
                        }
                    }
                    Output::Disconnect { peer, reason } => {
                        if let Some((conn, side)) = slot.conns.remove(&peer) {
                            self.net.close(&mut self.calendar, self.now, conn, side);
                        }
                        self.stats.disconnects += 1;
                        if matches!(
                            reason,
                            rbtcd_core::net::peer::DisconnectReason::SendQueueFull(_)
                        ) {
                            self.stats.send_queue_drops += 1;
                        }
                        self.digest
                            .add(format!("D{i}:{peer}:{reason:?}").as_bytes());
                    }
                    Output::Connect { addr } => {
                        let to = node_at(&addr, self.plan.nodes);
                        self.net.dial(&mut self.calendar, self.now, i, to, addr);
                    }
                    // No DNS in the simulation: nodes are seeded at start.
                    Output::Resolve { .. } => {}
                    Output::Notify(n) => notes.push(n),
                    Output::MineOn(work) => slot.work = work,
                    // The daemon renders beside the node; the simulation renders inline.
                    Output::RpcRender { id, job } => rpc.push(Output::RpcReply {
                        id,
                        body: job.finish(),
                    }),
                    // Simulated disks keep no pool file; the write counts as done.
                    Output::SaveMempool { save, .. } => {
                        inputs.push(Input::MempoolSaved { save, saved: true });
                        rpc.push(out);
                    }
                    Output::RpcReply { .. }
                    | Output::Ws { .. }
                    | Output::WsAuthenticated { .. }
                    | Output::WsClose { .. }
                    | Output::LogLevels(_)
                    | Output::Shutdown => rpc.push(out),
                }
            }
        }
        self.check_rpc(i, &notes[first_note..], rpc);
    }

    /// The RPC invariants over the outputs of one input to node `i`: every reply answers a
    /// request sent and not yet answered; the WebSocket client is never closed, and once
    /// subscribed hears of exactly the blocks the node connected and disconnected and the
    /// transactions it accepted (`notes`), each once and in order.
    fn check_rpc(&mut self, i: usize, notes: &[Notification], outputs: Vec<Output>) {
        let watch = &self.slots[i].rpc;
        let (blocks, txs) = (watch.blocks, watch.txs);
        let (mut heard_blocks, mut heard_txs) = (Vec::new(), Vec::new());
        for out in outputs {
            match out {
                Output::RpcReply { id, body } => {
                    let slot = &mut self.slots[i];
                    let pair = slot.unreconsidered.is_some_and(|(asked, _)| asked == id);
                    if pair && calls::reconsidered(&body) {
                        slot.unreconsidered = None;
                    }
                    let watch = &mut slot.rpc;
                    if !watch.outstanding.remove(&id) {
                        self.violations
                            .push(format!("node {i} answered request {id} again, or unasked"));
                    }
                    if let Some(txid) = watch.sends.remove(&id) {
                        if let (Some(why), Some(fate)) =
                            (calls::reply_error(&body), self.submitted.get_mut(&txid))
                        {
                            fate.rejected.get_or_insert(why);
                        }
                    }
                    self.digest.add(&id.to_le_bytes());
                    self.digest.add(body.as_bytes());
                }
                Output::Ws { client, text } => {
                    if client != WS_CLIENT || !self.slots[i].rpc.connected {
                        self.violations.push(format!(
                            "node {i} wrote to unknown WebSocket client {client}"
                        ));
                        continue;
                    }
                    match calls::hear(&text) {
                        Ok(WsHeard::Block(b)) => heard_blocks.push(b),
                        Ok(WsHeard::Tx(t)) => heard_txs.push(t),
                        Ok(WsHeard::Reply(id)) => {
                            let ok = calls::reply_ok(&text);
                            if !self.slots[i].rpc.ws_replied(id, ok) {
                                self.violations.push(format!(
                                    "node {i} answered WebSocket request {id} again, or unasked"
                                ));
                            }
                            self.digest.add(text.as_bytes());
                        }
                        Ok(WsHeard::Other) => {}
                        Err(e) => self
                            .violations
                            .push(format!("node {i} sent its WebSocket client {e}")),
                    }
                }
                // The client's `authenticate` passed: the transport's cue to take a slot.
                Output::WsAuthenticated { client } if client == WS_CLIENT => {}
                Output::WsClose { client } => {
                    self.slots[i].rpc.connected = false;
                    self.violations.push(format!(
                        "node {i} closed WebSocket client {client}, which authenticated"
                    ));
                }
                other => self
                    .violations
                    .push(format!("node {i} did what no client asked: {other:?}")),
            }
        }
        let expected_blocks: Vec<String> = notes
            .iter()
            .filter(|_| blocks)
            .filter_map(|n| match n {
                Notification::BlockConnected { hash, .. } => Some(format!("blockconnected {hash}")),
                Notification::BlockDisconnected { hash, .. } => {
                    Some(format!("blockdisconnected {hash}"))
                }
                _ => None,
            })
            .collect();
        let expected_txs: Vec<String> = notes
            .iter()
            .filter(|_| txs)
            .filter_map(|n| match n {
                Notification::TxAccepted(tx) => Some(tx.txid().to_string()),
                _ => None,
            })
            .collect();
        self.stats.ws_blocks += heard_blocks.len() as u64;
        self.stats.ws_txs += heard_txs.len() as u64;
        if heard_blocks != expected_blocks {
            self.violations.push(format!(
                "node {i}'s WebSocket client heard {heard_blocks:?} of blocks {expected_blocks:?}"
            ));
        }
        if heard_txs != expected_txs {
            self.violations.push(format!(
                "node {i}'s WebSocket client heard {heard_txs:?} of transactions {expected_txs:?}"
            ));
        }
    }

    /// The tip node `i`'s store has committed (flushed): what a crash must not lose. Blocks
    /// connected since the last flush may be lost and fetched again, as in Core; blocks the
    /// node mined itself are flushed before it announces them.
    fn committed_tip(&self, i: usize) -> Option<BlockHash> {
        let node = self.slots[i].node.as_ref()?;
        node.chain().store().tip().ok().flatten()
    }

    /// Checks and records one notification; true when the node stopped.
    fn observe(&mut self, i: usize, honest: bool, n: Notification) -> bool {
        match &n {
            Notification::BlockConnected { hash, height, .. } => {
                if honest && self.invalid.contains(hash) {
                    self.violations.push(format!(
                        "honest node {i} connected invalid block {hash} at height {height}"
                    ));
                }
                self.slots[i].acked_tip = self.committed_tip(i);
                if let Some(t) = self.timeline.as_mut() {
                    t.heights[i].push((self.now, *height));
                    if honest {
                        t.blocks.entry(*hash).or_default().push(self.now);
                    }
                }
                self.digest.add(&hash.0);
                self.digest.add(&[b'C', i as u8]);
                self.digest.add(&self.now.to_le_bytes());
            }
            Notification::BlockDisconnected { hash, height } => {
                if let Some(t) = self.timeline.as_mut() {
                    t.heights[i].push((self.now, height.saturating_sub(1)));
                }
                self.slots[i].acked_tip = self.committed_tip(i);
                self.digest.add(&hash.0);
                self.digest.add(&[b'X', i as u8]);
            }
            Notification::TxAccepted(tx) => {
                self.stats.tx_accepted += 1;
                let txid = tx.txid();
                if let Some(fate) = self.submitted.get_mut(&txid).filter(|_| honest) {
                    fate.accepted(i);
                }
                self.digest.add(&txid.0);
            }
            Notification::TxRejected { txid, reason } => {
                if let Some(fate) = self.submitted.get_mut(txid) {
                    fate.rejected.get_or_insert_with(|| reason.to_string());
                }
            }
            Notification::Banned { ip, .. } => {
                self.stats.bans += 1;
                let victim = self.slots.iter().position(|s| s.addr.ip() == *ip);
                if let Some(j) = victim.filter(|j| honest && !self.plan.is_adversary(*j)) {
                    self.violations
                        .push(format!("honest node {i} banned honest node {j}"));
                }
                let sybil = self.slots.iter_mut().filter_map(|s| s.attacker.as_mut());
                if let Some(attacker) = sybil.into_iter().find(|a| a.addr.ip() == *ip) {
                    attacker.banned();
                }
                self.digest.add(format!("B{i}:{ip}").as_bytes());
            }
            Notification::Fatal(why) => {
                if !self.slots[i].fault_armed {
                    self.violations
                        .push(format!("node {i} stopped unexpectedly: {why}"));
                }
                return true;
            }
            Notification::PeerReady(_) => {}
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::Kind;
    use rbtcd_core::params::Network;

    /// A calm two-node world with node 0 started (its WebSocket client subscribed).
    fn started() -> World {
        let plan = Plan::derive(Kind::Calm, 1, 2, 0.1);
        let mut world = World::new(Params::new(Network::Regtest), plan, 1);
        world.start_node(0);
        world
    }

    #[test]
    fn the_websocket_client_subscribes_at_start_and_requests_are_answered_once() {
        let mut world = started();
        let watch = &world.slots[0].rpc;
        assert!(watch.connected && watch.blocks && watch.txs, "{watch:?}");
        assert!(watch.ws_outstanding.is_empty(), "{watch:?}");
        let mut rng = Rng::new(7);
        for _ in 0..40 {
            world.rpc(0, &mut rng, 1);
        }
        assert_eq!(world.stats.rpc_calls, 40);
        let watch = &world.slots[0].rpc;
        // Long calls (generate, rescan) may still run; the rest were answered at once.
        assert!(
            watch.outstanding.len() + watch.ws_outstanding.len() < 10,
            "{watch:?}"
        );
        assert!(world.violations.is_empty(), "{:?}", world.violations);
    }

    #[test]
    fn a_reply_to_no_request_is_a_violation() {
        let mut world = started();
        let reply = Output::RpcReply {
            id: 5,
            body: "{}".into(),
        };
        world.check_rpc(0, &[], vec![reply]);
        assert_eq!(
            world.violations,
            ["node 0 answered request 5 again, or unasked"]
        );
    }

    #[test]
    fn a_block_connected_without_its_notification_is_a_violation() {
        let mut world = started();
        let hash = world.slots[0].node.as_ref().unwrap().chain().tip().hash;
        let note = Notification::BlockConnected {
            hash,
            height: 1,
            txs: 1,
            time: 0,
        };
        world.check_rpc(0, std::slice::from_ref(&note), Vec::new());
        assert_eq!(world.violations.len(), 1, "{:?}", world.violations);
        assert!(world.violations[0].contains("heard [] of blocks"));
        // Heard twice is as wrong as not heard.
        let text =
            format!(r#"{{"jsonrpc":"1.0","method":"blockconnected","params":["{hash}",1,0]}}"#);
        let twice = vec![
            Output::Ws {
                client: WS_CLIENT,
                text: text.clone(),
            },
            Output::Ws {
                client: WS_CLIENT,
                text,
            },
        ];
        world.check_rpc(0, std::slice::from_ref(&note), twice.clone());
        assert_eq!(world.violations.len(), 2, "{:?}", world.violations);
        world.check_rpc(0, &[note], twice[..1].to_vec());
        assert_eq!(world.violations.len(), 2, "{:?}", world.violations);
    }
}
