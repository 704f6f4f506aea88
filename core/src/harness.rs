//! An in-memory network of [`Node`]s for tests, benchmarks and fuzzing: one controllable
//! clock, per-link latency, and message filters to make a peer misbehave (for example never
//! answer `getdata`). Everything is ordered by (time, sequence number), so a run is a pure
//! function of its inputs.

use crate::chain::builder::{BlockBuilder, ANYONE_CAN_SPEND};
use crate::chain::{Chain, MemStore, Placement};
use crate::net::peer::{Direction, PeerId};
use crate::node::{Input, Node, NodeConfig, Notification, Output, Time};
use crate::params::Params;
use crate::primitives::Block;
use crate::rpc::{RequestId, Rights, RpcError};
use crate::wire::protocol::{COMMAND_SIZE, MESSAGE_HEADER_SIZE};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

/// Start time of every harness run: regtest genesis time plus a day, in ms.
pub const START: Time = Time::from_unix_secs(1_296_688_602 + 86_400);
/// Latency of a link unless set otherwise.
pub const DEFAULT_LATENCY: Duration = Duration::from_millis(50);

/// One end of a link: a node index and that node's peer id for the connection.
type End = (usize, PeerId);

/// A simulated network of nodes over [`MemStore`]s.
pub struct Harness {
    params: Params,
    /// The nodes, by index.
    pub nodes: Vec<Node<MemStore>>,
    addrs: Vec<SocketAddr>,
    now: Time,
    seq: u64,
    queue: BTreeMap<(Time, u64), (usize, Input)>,
    links: BTreeMap<End, End>,
    latency: BTreeMap<(usize, usize), Duration>,
    next_peer: PeerId,
    /// Commands dropped on their way to a node (node index -> commands).
    deaf: BTreeMap<usize, BTreeSet<String>>,
    /// Notifications each node emitted, in order.
    pub notifications: Vec<Vec<Notification>>,
    /// Disconnects each node asked for, in order.
    pub disconnects: Vec<Vec<Output>>,
    /// Messages delivered so far.
    pub delivered: u64,
    /// RPC and WebSocket outputs of each node ([`Output::RpcReply`], [`Output::Ws`], ...), in
    /// order, but for the replies [`Harness::call`] took.
    pub rpc_outputs: Vec<Vec<Output>>,
    next_request: RequestId,
}

impl Harness {
    /// An empty network on `params`.
    pub fn new(params: Params) -> Harness {
        Harness {
            params,
            nodes: Vec::new(),
            addrs: Vec::new(),
            now: START,
            seq: 0,
            queue: BTreeMap::new(),
            links: BTreeMap::new(),
            latency: BTreeMap::new(),
            next_peer: 1,
            deaf: BTreeMap::new(),
            notifications: Vec::new(),
            disconnects: Vec::new(),
            delivered: 0,
            rpc_outputs: Vec::new(),
            next_request: 1,
        }
    }

    /// The current simulated time.
    pub fn now(&self) -> Time {
        self.now
    }

    /// Adds a node with a fresh store; returns its index. Its address is 10.0.0.(index+1).
    pub fn add_node(&mut self, config: NodeConfig, seed: u64) -> usize {
        self.add_node_with_store(config, MemStore::new(), seed)
    }

    /// Adds a node over `store` (e.g. one with a chain already in it).
    pub fn add_node_with_store(&mut self, config: NodeConfig, store: MemStore, seed: u64) -> usize {
        let i = self.nodes.len();
        let node = Node::new(self.params.clone(), config, store, seed, self.now)
            .expect("a fresh or valid store opens");
        self.nodes.push(node);
        self.addrs.push(Self::addr_of(i));
        self.notifications.push(Vec::new());
        self.disconnects.push(Vec::new());
        self.rpc_outputs.push(Vec::new());
        self.drain(i);
        i
    }

    /// The address node `i` listens on.
    pub fn addr_of(i: usize) -> SocketAddr {
        let n = i as u32 + 1;
        SocketAddr::new(IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + n)), 18444)
    }

    /// Sets the one-way latency between nodes `a` and `b`, both directions.
    pub fn set_latency(&mut self, a: usize, b: usize, latency: Duration) {
        self.latency.insert((a.min(b), a.max(b)), latency);
    }

    fn latency(&self, a: usize, b: usize) -> Duration {
        *self
            .latency
            .get(&(a.min(b), a.max(b)))
            .unwrap_or(&DEFAULT_LATENCY)
    }

    /// Drops every message with `command` sent to node `i` from now on.
    pub fn make_deaf(&mut self, i: usize, command: &str) {
        self.deaf.entry(i).or_default().insert(command.to_string());
    }

    /// Undoes [`make_deaf`](Self::make_deaf) for `command`.
    pub fn make_hear(&mut self, i: usize, command: &str) {
        if let Some(d) = self.deaf.get_mut(&i) {
            d.remove(command);
        }
    }

    fn schedule(&mut self, at: Time, node: usize, input: Input) {
        self.seq += 1;
        self.queue.insert((at, self.seq), (node, input));
    }

    /// Opens a connection from `a` (outbound) to `b` (inbound), arriving after the latency.
    pub fn connect(&mut self, a: usize, b: usize) -> (PeerId, PeerId) {
        let (pa, pb) = (self.next_peer, self.next_peer + 1);
        self.next_peer += 2;
        self.links.insert((a, pa), (b, pb));
        self.links.insert((b, pb), (a, pa));
        let at = self.now + self.latency(a, b);
        let (addr_a, addr_b) = (self.addrs[a], self.addrs[b]);
        self.schedule(
            at,
            a,
            Input::Connected {
                peer: pa,
                addr: addr_b,
                direction: Direction::Outbound,
            },
        );
        self.schedule(
            at,
            b,
            Input::Connected {
                peer: pb,
                addr: addr_a,
                direction: Direction::Inbound,
            },
        );
        (pa, pb)
    }

    /// Feeds `input` to node `i` now.
    pub fn input(&mut self, i: usize, input: Input) {
        self.nodes[i].handle(self.now, input);
        self.drain(i);
    }

    fn drain(&mut self, i: usize) {
        while let Some(out) = self.nodes[i].poll_output() {
            match out {
                Output::Send { peer, bytes } => {
                    let Some(&(to, to_peer)) = self.links.get(&(i, peer)) else {
                        continue;
                    };
                    let command = command_of(&bytes);
                    if self.deaf.get(&to).is_some_and(|d| d.contains(&command)) {
                        continue;
                    }
                    let at = self.now + self.latency(i, to);
                    self.schedule(
                        at,
                        to,
                        Input::Received {
                            peer: to_peer,
                            bytes,
                        },
                    );
                }
                Output::Disconnect { peer, .. } => {
                    if let Some((to, to_peer)) = self.links.remove(&(i, peer)) {
                        self.links.remove(&(to, to_peer));
                        let at = self.now + self.latency(i, to);
                        self.schedule(at, to, Input::Disconnected { peer: to_peer });
                    }
                    self.disconnects[i].push(out);
                }
                Output::Connect { addr } => {
                    if let Some(to) = self.addrs.iter().position(|a| *a == addr) {
                        self.connect(i, to);
                    }
                }
                Output::Notify(n) => self.notifications[i].push(n),
                // No simulated DNS: tests feed `Input::Resolved` themselves.
                Output::Resolve { .. } | Output::MineOn(_) => {}
                // A driver's render runs here inline, as the simulator's does.
                Output::RpcRender { id, job } => self.rpc_outputs[i].push(Output::RpcReply {
                    id,
                    body: job.finish(),
                }),
                // Kept with the RPC outputs, and reported written as a driver with a disk.
                Output::SaveMempool { save, .. } => {
                    self.rpc_outputs[i].push(out);
                    let now = self.now;
                    self.schedule(now, i, Input::MempoolSaved { save, saved: true });
                }
                Output::RpcReply { .. }
                | Output::Ws { .. }
                | Output::WsAuthenticated { .. }
                | Output::WsClose { .. }
                | Output::LogLevels(_)
                | Output::Shutdown => self.rpc_outputs[i].push(out),
            }
        }
    }

    /// Calls `method` with `params` (a JSON array) on node `i` as the admin user over HTTP,
    /// running the network (up to an hour) until the node answers.
    pub fn call(&mut self, i: usize, method: &str, params: Value) -> Result<Value, RpcError> {
        let id = self.next_request;
        self.next_request += 1;
        let body = rpc_body(id, method, params);
        self.input(
            i,
            Input::Rpc {
                id,
                rights: Rights::Admin,
                body,
            },
        );
        let answered = |h: &Harness| {
            h.rpc_outputs[i]
                .iter()
                .any(|o| matches!(o, Output::RpcReply { id: got, .. } if *got == id))
        };
        let until = self.now + Duration::from_secs(3600);
        assert!(
            self.run_until_cond(until, answered),
            "{method} got no reply"
        );
        let at = self.rpc_outputs[i]
            .iter()
            .position(|o| matches!(o, Output::RpcReply { id: got, .. } if *got == id))
            .expect("answered");
        match self.rpc_outputs[i].remove(at) {
            Output::RpcReply { body, .. } => rpc_result(&body),
            _ => unreachable!("found as a reply"),
        }
    }

    /// The next time anything happens: a queued delivery or a node's timer.
    fn next_time(&self) -> Option<Time> {
        let queued = self.queue.keys().next().map(|(t, _)| *t);
        let timers = self.nodes.iter().filter_map(|n| n.poll_timeout());
        queued.into_iter().chain(timers).min()
    }

    /// Runs events in time order until `until` or until nothing is left; returns whether the
    /// network went quiet (nothing queued, no timer) before `until`.
    pub fn run_until(&mut self, until: Time) -> bool {
        self.run_while(until, |_| true)
    }

    /// Runs until `done` holds (checked after every step) or `until` passes; returns whether
    /// `done` held.
    pub fn run_until_cond(&mut self, until: Time, mut done: impl FnMut(&Harness) -> bool) -> bool {
        if done(self) {
            return true;
        }
        self.run_while(until, |h| !done(h));
        done(self)
    }

    fn run_while(&mut self, until: Time, mut go_on: impl FnMut(&Harness) -> bool) -> bool {
        loop {
            let Some(t) = self.next_time() else {
                return true;
            };
            if t > until {
                self.now = until;
                return false;
            }
            self.now = self.now.max(t);
            self.step();
            if !go_on(self) {
                return false;
            }
        }
    }

    /// Delivers everything due now, then ticks every node whose timer is due.
    fn step(&mut self) {
        while let Some(entry) = self.queue.first_entry() {
            if entry.key().0 > self.now {
                break;
            }
            let (node, input) = entry.remove();
            if matches!(input, Input::Received { .. }) {
                self.delivered += 1;
            }
            self.nodes[node].handle(self.now, input);
            self.drain(node);
        }
        for i in 0..self.nodes.len() {
            if self.nodes[i].poll_timeout().is_some_and(|t| t <= self.now) {
                self.nodes[i].handle(self.now, Input::Tick);
                self.drain(i);
            }
        }
    }
}

/// A JSON-RPC 1.0 request body for `method` with `params` (a JSON array) and id `id`.
pub fn rpc_body(id: u64, method: &str, params: Value) -> Vec<u8> {
    json!({ "jsonrpc": "1.0", "id": id, "method": method, "params": params })
        .to_string()
        .into_bytes()
}

/// The result, or the error, of a single JSON-RPC reply body.
pub fn rpc_result(body: &str) -> Result<Value, RpcError> {
    let reply: Value = serde_json::from_str(body).expect("replies are JSON");
    match &reply["error"] {
        Value::Null => Ok(reply["result"].clone()),
        e => Err(RpcError::new(
            e["code"].as_i64().unwrap_or_default() as i32,
            e["message"].as_str().unwrap_or_default(),
        )),
    }
}

/// Calls `method` with `params` (a JSON array) on a lone `node` as `rights` over HTTP at
/// `now`, ticking it until it answers and draining its outputs as a driver does (a
/// `mempool.dat` it is asked to write counts as written); returns the outcome and the node's
/// other outputs, in order.
pub fn call_node(
    node: &mut Node<MemStore>,
    now: Time,
    rights: Rights,
    method: &str,
    params: Value,
) -> (Result<Value, RpcError>, Vec<Output>) {
    const ID: RequestId = 1;
    let mut outputs = Vec::new();
    let mut reply = None;
    node.handle(
        now,
        Input::Rpc {
            id: ID,
            rights,
            body: rpc_body(ID, method, params),
        },
    );
    loop {
        let mut saved = Vec::new();
        while let Some(out) = node.poll_output() {
            match out {
                Output::RpcReply { id: ID, body } => reply = Some(rpc_result(&body)),
                Output::SaveMempool { save, .. } => {
                    saved.push(save);
                    outputs.push(out);
                }
                other => outputs.push(other),
            }
        }
        if !saved.is_empty() {
            for save in saved {
                node.handle(now, Input::MempoolSaved { save, saved: true });
            }
            continue;
        }
        if let Some(reply) = reply {
            return (reply, outputs);
        }
        assert!(
            node.poll_timeout().is_some_and(|t| t <= now),
            "{method} got no reply and nothing is due"
        );
        node.handle(now, Input::Tick);
    }
}

/// The command name of one framed message.
fn command_of(bytes: &[u8]) -> String {
    let field = bytes.get(4..4 + COMMAND_SIZE).unwrap_or(&[]);
    let end = field.iter().position(|b| *b == 0).unwrap_or(field.len());
    debug_assert!(bytes.len() >= MESSAGE_HEADER_SIZE);
    String::from_utf8_lossy(&field[..end]).into_owned()
}

/// Mines `n` regtest-style blocks on `params`' genesis (each tagged with `tag`, so chains with
/// different tags differ) into a fresh store; returns the store and the blocks.
pub fn mine_chain(params: &Params, n: u32, tag: &[u8]) -> (MemStore, Vec<Block>) {
    mine_chain_to(params, n, tag, &ANYONE_CAN_SPEND)
}

/// As [`mine_chain`], with every coinbase paying to `script_pubkey`.
pub fn mine_chain_to(
    params: &Params,
    n: u32,
    tag: &[u8],
    script_pubkey: &[u8],
) -> (MemStore, Vec<Block>) {
    let store = MemStore::new();
    let mut chain = Chain::open(params.clone(), store.clone()).expect("fresh store opens");
    let mut blocks = Vec::with_capacity(n as usize);
    for _ in 0..n {
        let t = chain.tip();
        let mut builder = BlockBuilder::new(params, t.hash, t.height + 1, t.header.time).tag(tag);
        builder.coinbase.outputs[0].script_pubkey = script_pubkey.to_vec();
        let block = builder.build();
        let placed = chain.process_block(block.clone(), START.unix_secs());
        assert_eq!(
            placed,
            Ok(Placement::MainChain),
            "a built block extends the tip"
        );
        blocks.push(block);
    }
    (chain.into_store().expect("flushes"), blocks)
}
