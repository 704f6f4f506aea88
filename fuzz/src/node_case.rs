//! The whole node's case: a sequence of connections, disconnections, clock jumps, writes
//! reported done, locally submitted blocks, received bytes, HTTP JSON-RPC bodies and WebSocket
//! sessions fed to one `Node` over a 110-block regtest store. Received bytes are valid
//! handshakes (most of the time, so later messages are reached), messages of every kind the
//! node acts on (built from a real competing chain, so headers and blocks can cause reorgs),
//! often mutated and re-checksummed, floods of one message, oversized frames, or raw bytes,
//! concatenated and split at random. RPC bodies call every method of the table (and wallet and
//! unknown ones) with parameters from a pool of hashes, txids, addresses, outpoints, numbers
//! and junk, singly or in batches, admin or limited, sometimes mutated; WebSocket clients open
//! with or without credentials, `authenticate` rightly or wrongly, send the same bodies and
//! close.
//!
//! Oracles, after every input:
//! - no panic;
//! - a timer still due after a tick clears within a few more ticks (parked RPC calls such as
//!   `generate` finish; a timer that never clears would spin the driver);
//! - the node writes only to connections it was given and has not dropped, one well-formed
//!   frame per `Send`, and disconnects only live connections;
//! - every RPC request is answered once, only requests are answered, and replies are JSON;
//!   WebSocket texts and closes go only to open clients;
//! - the tip never has more work than the best header;
//! - every peer's accounted memory is within [`PEER_MEMORY_BUDGET`] and all peers together
//!   within the node's configured budget.

use crate::{mutate, Source};
use rbtcd_core::address::{Address, Payload};
use rbtcd_core::chain::builder::{spend, BlockBuilder};
use rbtcd_core::chain::MemStore;
use rbtcd_core::harness::{mine_chain, START};
use rbtcd_core::net::budget::{MAX_PEER_TX_ANNOUNCEMENTS, PEER_MEMORY_BUDGET, SEND_BUFFER_LIMIT};
use rbtcd_core::net::peer::{Direction, PeerId};
use rbtcd_core::node::{Input, Node, NodeConfig, Output, RpcSettings, Time};
use rbtcd_core::params::{Network, Params};
use rbtcd_core::primitives::hash::sha256d;
use rbtcd_core::primitives::{Block, Hash256, OutPoint};
use rbtcd_core::rpc::auth::Credentials;
use rbtcd_core::rpc::methods::{METHODS, WALLET_METHODS};
use rbtcd_core::rpc::ws::ClientId;
use rbtcd_core::rpc::{RequestId, Rights};
use rbtcd_core::wire::locator::BlockLocatorMessage;
use rbtcd_core::wire::{
    encode_message, Decoder, InvType, Inventory, Message, NetAddress, ServiceFlags, VersionMessage,
};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

/// The RPC credentials of the fuzzed node (user, password).
pub const CREDENTIALS: (&str, &str) = ("f", "f");

/// Most ticks a timer may stay due for after a tick (parked calls finishing).
const MAX_DUE_TICKS: usize = 16;

/// Most bytes one flood (a message repeated) takes: small messages still repeat hundreds of
/// times, a large `inv` a few. Repeating a 72 kB `inv` up to 300 times fed 12-36 MB to one
/// case, seconds per execution under coverage instrumentation (the slow units of the first
/// long run), for nothing the duplicates add after the first copy.
const FLOOD_BYTES: usize = 256 * 1024;

/// Most bytes one case feeds its peers (the case ends there): room for a frame near the
/// 4 MB limit and more, and a bound on each execution's time.
const CASE_RECEIVED_BYTES: usize = 6 << 20;

/// What every case starts from: a chain the fuzzed node has, and one it may be sent.
pub struct World {
    /// Regtest.
    pub params: Params,
    store: MemStore,
    /// Blocks of a longer chain on the same genesis (a reorg when sent in order).
    other: Vec<Block>,
    /// Messages to start mutations from; the first is a valid version.
    pub seeds: Vec<Message>,
    /// RPC parameter values to draw from: hashes and txids of both chains, addresses,
    /// outpoints, numbers, and junk.
    values: Vec<Value>,
}

/// The starting chain and the seed messages (a second or so to build).
pub fn world() -> World {
    let params = Params::new(Network::Regtest);
    let (store, ours) = mine_chain(&params, 110, b"ours");
    let (_, other) = mine_chain(&params, 115, b"other");
    let version = VersionMessage {
        version: 70016,
        services: ServiceFlags::NETWORK | ServiceFlags::WITNESS,
        timestamp: START.unix_secs() as i64,
        receiver: NetAddress::new(addr(1), ServiceFlags::NONE),
        sender: NetAddress::new(addr(2), ServiceFlags::NETWORK),
        nonce: 9,
        user_agent: "/fuzz/".into(),
        start_height: 115,
        relay: true,
    };
    let cb = &ours[0].txdata[0];
    let tx = spend(
        &[OutPoint::new(cb.txid(), 0)],
        &[cb.outputs[0].value - 1000],
    );
    let inv = |t, h| Inventory {
        inv_type: t,
        hash: h,
    };
    let locator = |hashes: Vec<Hash256>| BlockLocatorMessage {
        version: 70016,
        locator: hashes,
        stop_hash: Hash256::ZERO,
    };
    // More distinct announcements than a peer's queue holds, so the cap is reached.
    let many_txs: Vec<Inventory> = (0..MAX_PEER_TX_ANNOUNCEMENTS as u32 + 100)
        .map(|n| {
            let mut h = [0x77; 32];
            h[..4].copy_from_slice(&n.to_le_bytes());
            inv(InvType::TX, Hash256(h))
        })
        .collect();
    let mut seeds = vec![
        Message::Version(version),
        Message::Verack,
        Message::SendAddrV2,
        Message::WtxidRelay,
        Message::SendHeaders,
        Message::Ping(5),
        Message::Pong(5),
        Message::MemPool,
        Message::Tx(tx.clone()),
        Message::Inv(vec![inv(InvType::TX, tx.txid())]),
        Message::Inv(many_txs),
        Message::Inv(vec![inv(InvType::BLOCK, other[114].block_hash())]),
        Message::GetData(vec![
            inv(InvType::WITNESS_BLOCK, ours[3].block_hash()),
            inv(InvType::TX, tx.txid()),
        ]),
        Message::GetData(
            ours.iter()
                .map(|b| inv(InvType::WITNESS_BLOCK, b.block_hash()))
                .collect(),
        ),
        Message::GetHeaders(locator(vec![params.genesis_hash])),
        Message::GetBlocks(locator(vec![ours[50].block_hash()])),
        Message::NotFound(vec![inv(InvType::BLOCK, other[0].block_hash())]),
        Message::Headers(other[..60].iter().map(|b| b.header).collect()),
        Message::Headers(other[60..].iter().map(|b| b.header).collect()),
        Message::Unknown {
            command: "sendcmpct2".into(),
            payload: vec![1; 40],
        },
    ];
    seeds.extend(other.iter().step_by(7).map(|b| Message::Block(b.clone())));
    let address = pay_to(&params).to_string();
    let outpoint = |b: &Block| json!({"hash": b.txdata[0].txid().to_string(), "index": 0});
    let mut values = vec![
        json!(0),
        json!(1),
        json!(3),
        json!(-1),
        json!(u64::MAX),
        json!(1.5),
        json!(true),
        json!(false),
        json!(null),
        json!(""),
        json!("show"),
        json!("info,PEER=debug"),
        json!("add"),
        json!("remove"),
        json!("10.9.0.0/16"),
        json!("10.9.0.1"),
        json!("zz"),
        json!({"mode": "proposal", "data": "00"}),
        json!([address]),
        json!(address),
        json!([outpoint(&ours[0]), outpoint(&other[1])]),
        json!([{"txid": ours[0].txdata[0].txid().to_string(), "vout": 0}]),
        json!({}),
    ];
    for b in [&ours[0], &ours[109], &other[114]] {
        values.push(json!(b.block_hash().to_string()));
        values.push(json!(b.txdata[0].txid().to_string()));
    }
    values.push(json!([
        params.genesis_hash.to_string(),
        ours[1].block_hash().to_string()
    ]));
    values.push(json!(params.genesis_hash.to_string()));
    World {
        params,
        store,
        other,
        seeds,
        values,
    }
}

/// Where generated blocks pay.
pub fn pay_to(params: &Params) -> Address {
    Address::new(Payload::PubKeyHash([3; 20]), params)
}

/// The RPC settings of the fuzzed node: [`CREDENTIALS`] for the admin, two log subsystems.
pub fn rpc_settings() -> RpcSettings {
    let admin = (CREDENTIALS.0.to_string(), CREDENTIALS.1.to_string());
    RpcSettings {
        credentials: Credentials::new(Some(&admin), None),
        log_subsystems: vec!["CHAN", "PEER"],
        // Expensive replies come out to be rendered, as in the daemon.
        render_by_driver: true,
        ..RpcSettings::default()
    }
}

/// One JSON-RPC request: a method of the table (or a wallet or unknown one) with parameters
/// from the pool; `generate` asks for few blocks so parked calls end within a case.
fn request(src: &mut impl Source, w: &World, id: Option<u64>) -> Value {
    let method = match src.below(12) {
        0 => WALLET_METHODS[src.below(WALLET_METHODS.len())],
        1 => "nosuchmethod",
        _ => METHODS[src.below(METHODS.len())].name,
    };
    let params: Vec<Value> = match method {
        "generate" => vec![json!(1 + src.below(3))],
        _ => (0..src.below(4))
            .map(|_| w.values[src.below(w.values.len())].clone())
            .collect(),
    };
    let mut req = json!({"jsonrpc": "1.0", "method": method, "params": params});
    if let Some(id) = id {
        req["id"] = json!(id);
    }
    req
}

/// A request body: one request, a batch (some entries without ids), or mutated bytes.
fn rpc_body<S: Source>(src: &mut S, w: &World) -> Vec<u8> {
    let entry = |src: &mut S| {
        let id = (!src.one_in(5)).then(|| src.next_u64() % 100);
        request(src, w, id)
    };
    let mut body = match src.below(4) {
        0 => Value::Array((0..src.below(4)).map(|_| entry(src)).collect()),
        _ => entry(src),
    }
    .to_string()
    .into_bytes();
    if src.one_in(6) {
        mutate(src, &mut body);
    }
    body
}

impl World {
    /// A node over a copy of the starting chain.
    pub fn node(&self, config: NodeConfig, seed: u64) -> Node<MemStore> {
        Node::new(
            self.params.clone(),
            config,
            self.store.duplicate(),
            seed,
            START,
        )
        .expect("a prepared store opens")
    }
}

fn addr(n: u8) -> SocketAddr {
    SocketAddr::new(IpAddr::V4(Ipv4Addr::new(10, 9, 0, n)), 18444)
}

/// Bytes for one received chunk: a seed message, maybe mutated, usually re-framed validly; now
/// and then a flood of one message (at most [`FLOOD_BYTES`]), a frame claiming a large
/// payload, or raw bytes.
fn message_bytes(src: &mut impl Source, w: &World) -> Vec<u8> {
    let msg = &w.seeds[src.below(w.seeds.len())];
    let mut frame = encode_message(w.params.magic, msg);
    match src.below(12) {
        0..=2 => frame,
        3..=5 => {
            mutate(src, &mut frame);
            frame
        }
        6 => {
            let most = (FLOOD_BYTES / frame.len()).max(1);
            let copies = (1 + src.below(300)).min(most);
            frame.repeat(copies)
        }
        7 => {
            // A header claiming up to ~5 MB, followed by part of that payload (rarely more
            // than 300 kB of it: big buffers make every execution slow).
            let claimed = src.below(5_000_000) as u32;
            frame[16..20].copy_from_slice(&claimed.to_le_bytes());
            frame.truncate(24);
            let most = match src.one_in(16) {
                true => claimed as usize,
                false => (claimed as usize).min(300_000),
            };
            let sent = src.below(most + 1);
            frame.resize(24 + sent, 0x5a);
            frame
        }
        8 => {
            let n = src.below(4096);
            src.bytes(n)
        }
        _ => {
            // Mutate the payload, then fix length and checksum so the payload decoder runs.
            let mut payload = frame.split_off(24);
            mutate(src, &mut payload);
            frame[16..20].copy_from_slice(&(payload.len() as u32).to_le_bytes());
            frame[20..24].copy_from_slice(&sha256d(&payload)[..4]);
            frame.extend(payload);
            frame
        }
    }
}

/// What the node was given and may still answer or write to, checked against its outputs:
/// the oracles every case shares.
pub struct Observer {
    /// Splits what the node sends into frames.
    decoder: Decoder,
    /// Connections given and not dropped.
    live: BTreeSet<PeerId>,
    /// HTTP requests not answered yet.
    asked: BTreeSet<RequestId>,
    /// WebSocket clients open as far as the node knows.
    clients: BTreeSet<ClientId>,
    next_peer: PeerId,
    next_request: RequestId,
    next_client: ClientId,
    /// Every output so far, in order.
    pub outputs: Vec<Output>,
}

impl Observer {
    /// Nothing given yet, on a network with `magic`.
    pub fn new(magic: [u8; 4]) -> Self {
        Observer {
            decoder: Decoder::new(magic),
            live: BTreeSet::new(),
            asked: BTreeSet::new(),
            clients: BTreeSet::new(),
            next_peer: 0,
            next_request: 0,
            next_client: 0,
            outputs: Vec::new(),
        }
    }

    /// A new connection's id, counted live.
    fn connect(&mut self) -> PeerId {
        self.next_peer += 1;
        self.live.insert(self.next_peer);
        self.next_peer
    }

    /// A new HTTP request's id, counted as waiting for its reply.
    pub fn ask(&mut self) -> RequestId {
        self.next_request += 1;
        self.asked.insert(self.next_request);
        self.next_request
    }

    /// A new WebSocket client's id, counted open.
    pub fn open(&mut self) -> ClientId {
        self.next_client += 1;
        self.clients.insert(self.next_client);
        self.next_client
    }

    /// Feeds `input` at `now` and checks what follows: the outputs, a timer left due after a
    /// tick (ticking again, as a driver would, while parked calls finish), the tip's work and
    /// the peers' memory. The invariant broken, if any.
    pub fn feed(
        &mut self,
        node: &mut Node<MemStore>,
        now: Time,
        input: Input,
    ) -> Result<(), String> {
        let tick = matches!(input, Input::Tick);
        node.handle(now, input);
        let mut due_ticks = 0;
        loop {
            // Written pool files are reported at once, every other one as failed, so both
            // of `savemempool`'s answers are reached.
            let mut saves = self.drain(node)?;
            while let Some(save) = saves.pop() {
                node.handle(
                    now,
                    Input::MempoolSaved {
                        save,
                        saved: save % 2 == 0,
                    },
                );
                saves.extend(self.drain(node)?);
            }
            if !tick || node.poll_timeout().is_none_or(|t| t > now) {
                break;
            }
            if due_ticks == MAX_DUE_TICKS {
                return Err("a timer stays due tick after tick".into());
            }
            due_ticks += 1;
            node.handle(now, Input::Tick);
        }
        let index = node.chain().index();
        if node.chain().tip().chain_work > index.best_header().chain_work {
            return Err("tip has more work than the best header".into());
        }
        self.check_memory(node)
    }

    /// Takes the node's outputs, checking each; the `mempool.dat` writes asked for.
    fn drain(&mut self, node: &mut Node<MemStore>) -> Result<Vec<u64>, String> {
        let mut saves = Vec::new();
        while let Some(out) = node.poll_output() {
            // The driver's render runs here inline: its reply is checked as any other.
            let out = match out {
                Output::RpcRender { id, job } => Output::RpcReply {
                    id,
                    body: job.finish(),
                },
                out => out,
            };
            match &out {
                Output::Send { peer, bytes } => {
                    if !self.live.contains(peer) {
                        return Err(format!("sent to unknown peer {peer}"));
                    }
                    self.decoder.push(bytes);
                    match (self.decoder.pull(), self.decoder.pull()) {
                        (Some(Ok(_)), None) => {}
                        other => return Err(format!("bad frame sent: {other:?}")),
                    }
                }
                Output::Disconnect { peer, .. } => {
                    if !self.live.remove(peer) {
                        return Err(format!("disconnected unknown peer {peer}"));
                    }
                }
                Output::RpcReply { id, body } => {
                    if !self.asked.remove(id) {
                        return Err(format!("answered request {id} twice, or unasked"));
                    }
                    if !body.is_empty() && serde_json::from_str::<Value>(body).is_err() {
                        return Err(format!("reply {id} is not JSON: {body}"));
                    }
                }
                Output::Ws { client, .. } if !self.clients.contains(client) => {
                    return Err(format!("wrote to closed WebSocket client {client}"));
                }
                Output::WsClose { client } => {
                    if !self.clients.remove(client) {
                        return Err(format!("closed closed WebSocket client {client}"));
                    }
                }
                Output::SaveMempool { save, .. } => saves.push(*save),
                Output::Connect { .. }
                | Output::Resolve { .. }
                | Output::Notify(_)
                | Output::MineOn(_)
                | Output::Ws { .. }
                | Output::WsAuthenticated { .. }
                | Output::LogLevels(_)
                | Output::Shutdown
                // Rendered into a reply above.
                | Output::RpcRender { .. } => {}
            }
            self.outputs.push(out);
        }
        Ok(saves)
    }

    /// The memory oracle: every live peer within its budget, all of them within the node's.
    fn check_memory(&self, node: &Node<MemStore>) -> Result<(), String> {
        let mut total = 0;
        for peer in &self.live {
            let Some(m) = node.peer_memory(*peer) else {
                continue;
            };
            if m.total() > PEER_MEMORY_BUDGET {
                return Err(format!(
                    "peer {peer} holds {} bytes, over the budget of {PEER_MEMORY_BUDGET}: {m:?}",
                    m.total()
                ));
            }
            total += m.total();
        }
        let budget = node.config().peer_memory_budget;
        if total > budget {
            return Err(format!(
                "peers hold {total} bytes together, over the node's budget of {budget}"
            ));
        }
        Ok(())
    }
}

/// One of `set`'s members (`set` not empty).
fn pick<T: Copy>(src: &mut impl Source, set: &BTreeSet<T>) -> T {
    *set.iter().nth(src.below(set.len())).expect("in range")
}

/// One case: a sequence of inputs chosen by `src`. Returns the outputs and the first invariant
/// broken, if any.
pub fn run_case(src: &mut impl Source, w: &World) -> (Vec<Output>, Option<String>) {
    let config = NodeConfig {
        max_peers: 1 + src.below(5),
        // With automatic outbound on, so few slots all go to outbound and every inbound
        // connection is refused: half the cases take inbound peers.
        connect_only: src.one_in(2),
        max_send_queue: Some([1 << 16, SEND_BUFFER_LIMIT][src.below(2)]),
        peer_memory_budget: [1 << 20, 12 << 20, 256 << 20][src.below(3)],
        mining_addrs: match src.one_in(2) {
            true => vec![pay_to(&w.params)],
            false => Vec::new(),
        },
        rpc: rpc_settings(),
        ..NodeConfig::default()
    };
    let seed = src.next_u64();
    let mut node = w.node(config, seed);
    let mut now = START;
    let mut seen = Observer::new(w.params.magic);
    // Peers that were sent a valid version, then a verack: handshakes mostly complete, so the
    // messages after them are reached.
    let mut greeted: BTreeSet<PeerId> = BTreeSet::new();
    let mut acked: BTreeSet<PeerId> = BTreeSet::new();
    let mut received = 0;
    for _ in 0..1 + src.below(60) {
        if src.exhausted() {
            break;
        }
        let input = match src.below(14) {
            10 => {
                let id = seen.ask();
                let rights = match src.one_in(3) {
                    true => Rights::Limited,
                    false => Rights::Admin,
                };
                let body = rpc_body(src, w);
                Input::Rpc { id, rights, body }
            }
            11 if seen.clients.is_empty() || src.one_in(4) => {
                let client = seen.open();
                let rights = [None, Some(Rights::Admin), Some(Rights::Limited)][src.below(3)];
                Input::WsOpened { client, rights }
            }
            11 if src.one_in(8) => {
                let client = pick(src, &seen.clients);
                seen.clients.remove(&client);
                Input::WsClosed { client }
            }
            11 | 12 if !seen.clients.is_empty() => {
                let client = pick(src, &seen.clients);
                let text = match src.below(4) {
                    0 => {
                        let pass = match src.one_in(3) {
                            true => "wrong",
                            false => CREDENTIALS.1,
                        };
                        json!({"id": 0, "method": "authenticate", "params": [CREDENTIALS.0, pass]})
                            .to_string()
                    }
                    _ => String::from_utf8_lossy(&rpc_body(src, w)).into_owned(),
                };
                Input::WsMessage { client, text }
            }
            0 | 1 => {
                let peer = seen.connect();
                Input::Connected {
                    peer,
                    addr: addr(1 + src.below(4) as u8),
                    direction: match src.below(2) {
                        0 => Direction::Inbound,
                        _ => Direction::Outbound,
                    },
                }
            }
            2 if !seen.live.is_empty() => {
                let peer = pick(src, &seen.live);
                seen.live.remove(&peer);
                Input::Disconnected { peer }
            }
            3 => {
                now += Duration::from_millis(src.below(400_000) as u64);
                Input::Tick
            }
            4 if src.one_in(4) => Input::SubmitBlock(w.other[src.below(w.other.len())].clone()),
            4 => {
                let t = node.chain().tip();
                let b = BlockBuilder::new(&w.params, t.hash, t.height + 1, t.header.time).build();
                Input::SubmitBlock(b)
            }
            5 if !seen.live.is_empty() => {
                // The driver wrote some of what the node queued for a peer.
                let peer = pick(src, &seen.live);
                let queued = node.peers().get(&peer).map_or(0, |p| p.send_queue) as usize;
                Input::Sent {
                    peer,
                    bytes: src.below(queued + 1),
                }
            }
            _ if !seen.live.is_empty() => {
                let peer = pick(src, &seen.live);
                let mut bytes = if !greeted.contains(&peer) && !src.one_in(8) {
                    greeted.insert(peer);
                    encode_message(w.params.magic, &w.seeds[0])
                } else if !acked.contains(&peer) && !src.one_in(8) {
                    acked.insert(peer);
                    encode_message(w.params.magic, &Message::Verack)
                } else {
                    message_bytes(src, w)
                };
                if src.one_in(3) {
                    bytes.extend(message_bytes(src, w));
                }
                received += bytes.len();
                if received > CASE_RECEIVED_BYTES {
                    break;
                }
                let cut = src.below(bytes.len() + 1);
                node.handle(
                    now,
                    Input::Received {
                        peer,
                        bytes: bytes[..cut].to_vec(),
                    },
                );
                Input::Received {
                    peer,
                    bytes: bytes[cut..].to_vec(),
                }
            }
            _ => Input::Tick,
        };
        if let Err(why) = seen.feed(&mut node, now, input) {
            return (seen.outputs, Some(why));
        }
    }
    (seen.outputs, None)
}
