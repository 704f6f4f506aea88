//! Fuzzes the whole node: seeded sequences of connections, disconnections, clock ticks, local
//! submissions, received bytes (valid messages of every kind the node acts on, built from a
//! small real chain, often mutated, split at random), HTTP JSON-RPC bodies and WebSocket
//! sessions (every method of the table with parameters from a pool of plausible and hostile
//! values, batches, mutated bodies, `authenticate` right and wrong) fed to one `Node`. Oracles:
//! no panic; a timer left due after a tick clears within a few more (parked RPC calls finish;
//! a timer that never clears would spin the driver); the node only writes to connections it
//! was given and has not dropped, one well-formed frame per `Send`; every RPC request is
//! answered once and only requests are answered; WebSocket texts and closes go only to open
//! clients; the tip never has more work than the best header; the same case replays to the
//! same outputs.
//!
//! Usage: `node <seed> <seconds>`; prints `executions=N panics=P violations=V elapsed=...`.
//! Failing cases are reported with their seed (a case is a pure function of it).

use rbtcd_core::address::{Address, Payload};
use rbtcd_core::chain::builder::{spend, BlockBuilder};
use rbtcd_core::chain::MemStore;
use rbtcd_core::harness::{mine_chain, START};
use rbtcd_core::net::peer::{Direction, PeerId};
use rbtcd_core::node::{Input, Node, NodeConfig, Notification, Output, RpcSettings};
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
use rbtcd_fuzz::{mutate, Rng};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::{Duration, Instant};

/// What every case starts from: a chain the fuzzed node has, and one it may be sent.
struct World {
    params: Params,
    store: MemStore,
    /// Blocks of a longer chain on the same genesis (a reorg when sent in order).
    other: Vec<Block>,
    /// Messages to start mutations from.
    seeds: Vec<Message>,
    /// RPC parameter values to draw from: hashes and txids of both chains, addresses,
    /// outpoints, numbers, and junk.
    values: Vec<Value>,
}

/// The RPC credentials of the fuzzed node.
const CREDENTIALS: (&str, &str) = ("f", "f");

/// Most ticks a timer may stay due for after a tick (parked calls finishing).
const MAX_DUE_TICKS: usize = 16;

fn world() -> World {
    let params = Params::new(Network::Regtest);
    let (store, ours) = mine_chain(&params, 110, b"ours");
    let (_, other) = mine_chain(&params, 115, b"other");
    let version = VersionMessage {
        version: 70016,
        services: ServiceFlags::NETWORK | ServiceFlags::WITNESS,
        timestamp: (START / 1000) as i64,
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
        Message::Inv(vec![inv(InvType::BLOCK, other[114].block_hash())]),
        Message::GetData(vec![
            inv(InvType::WITNESS_BLOCK, ours[3].block_hash()),
            inv(InvType::TX, tx.txid()),
        ]),
        Message::GetHeaders(locator(vec![params.genesis_hash])),
        Message::GetBlocks(locator(vec![ours[50].block_hash()])),
        Message::NotFound(vec![inv(InvType::BLOCK, other[0].block_hash())]),
        Message::Headers(other[..60].iter().map(|b| b.header).collect()),
        Message::Headers(other[60..].iter().map(|b| b.header).collect()),
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
fn pay_to(params: &Params) -> Address {
    Address::new(Payload::PubKeyHash([3; 20]), params)
}

/// One JSON-RPC request: a method of the table (or a wallet or unknown one) with parameters
/// from the pool; `generate` asks for few blocks so parked calls end within a case.
fn request(rng: &mut Rng, w: &World, id: Option<u64>) -> Value {
    let method = match rng.below(12) {
        0 => WALLET_METHODS[rng.below(WALLET_METHODS.len())],
        1 => "nosuchmethod",
        _ => METHODS[rng.below(METHODS.len())].name,
    };
    let params: Vec<Value> = match method {
        "generate" => vec![json!(1 + rng.below(3))],
        _ => (0..rng.below(4))
            .map(|_| w.values[rng.below(w.values.len())].clone())
            .collect(),
    };
    let mut req = json!({"jsonrpc": "1.0", "method": method, "params": params});
    if let Some(id) = id {
        req["id"] = json!(id);
    }
    req
}

/// A request body: one request, a batch (some entries without ids), or mutated bytes.
fn rpc_body(rng: &mut Rng, w: &World) -> Vec<u8> {
    let entry = |rng: &mut Rng| {
        let id = (!rng.one_in(5)).then(|| rng.next_u64() % 100);
        request(rng, w, id)
    };
    let mut body = match rng.below(4) {
        0 => Value::Array((0..rng.below(4)).map(|_| entry(rng)).collect()),
        _ => entry(rng),
    }
    .to_string()
    .into_bytes();
    if rng.one_in(6) {
        mutate(rng, &mut body);
    }
    body
}

fn addr(n: u8) -> SocketAddr {
    SocketAddr::new(IpAddr::V4(Ipv4Addr::new(10, 9, 0, n)), 18444)
}

/// Bytes for one received chunk: a seed message, maybe mutated, usually re-framed validly.
fn message_bytes(rng: &mut Rng, w: &World) -> Vec<u8> {
    let msg = &w.seeds[rng.below(w.seeds.len())];
    let mut frame = encode_message(w.params.magic, msg);
    match rng.below(4) {
        0 => frame,
        1 => {
            mutate(rng, &mut frame);
            frame
        }
        _ => {
            // Mutate the payload, then fix length and checksum so the payload decoder runs.
            let mut payload = frame.split_off(24);
            mutate(rng, &mut payload);
            frame[16..20].copy_from_slice(&(payload.len() as u32).to_le_bytes());
            frame[20..24].copy_from_slice(&sha256d(&payload)[..4]);
            frame.extend(payload);
            frame
        }
    }
}

/// One case: a seeded sequence of inputs. Returns the outputs and any invariant broken.
fn run_case(seed: u64, w: &World) -> (Vec<Output>, Option<String>) {
    let mut rng = Rng::new(seed);
    let admin = (CREDENTIALS.0.to_string(), CREDENTIALS.1.to_string());
    let config = NodeConfig {
        max_peers: 1 + rng.below(5),
        // With automatic outbound on, so few slots all go to outbound and every inbound
        // connection is refused: half the cases take inbound peers.
        connect_only: rng.one_in(2),
        max_send_queue: Some(1 << 16),
        mining_addrs: match rng.one_in(2) {
            true => vec![pay_to(&w.params)],
            false => Vec::new(),
        },
        rpc: RpcSettings {
            credentials: Credentials::new(Some(&admin), None),
            log_subsystems: vec!["CHAN", "PEER"],
            ..RpcSettings::default()
        },
        ..NodeConfig::default()
    };
    let mut node = Node::new(w.params.clone(), config, w.store.duplicate(), seed, START)
        .expect("a prepared store opens");
    let mut now = START;
    let mut live: BTreeSet<PeerId> = BTreeSet::new();
    // Peers that were sent a valid version, then a verack: handshakes mostly complete, so the
    // messages after them are reached.
    let mut greeted: BTreeSet<PeerId> = BTreeSet::new();
    let mut acked: BTreeSet<PeerId> = BTreeSet::new();
    let mut next_peer: PeerId = 1;
    let mut outputs = Vec::new();
    let mut decoder = Decoder::new(w.params.magic);
    // HTTP requests not answered yet, and WebSocket clients open as far as the node knows.
    let mut asked: BTreeSet<RequestId> = BTreeSet::new();
    let mut next_request: RequestId = 1;
    let mut clients: BTreeSet<ClientId> = BTreeSet::new();
    let mut next_client: ClientId = 1;
    for _ in 0..1 + rng.below(60) {
        let input = match rng.below(13) {
            10 => {
                let id = next_request;
                next_request += 1;
                asked.insert(id);
                let rights = match rng.one_in(3) {
                    true => Rights::Limited,
                    false => Rights::Admin,
                };
                let body = rpc_body(&mut rng, w);
                Input::Rpc { id, rights, body }
            }
            11 if clients.is_empty() || rng.one_in(4) => {
                let client = next_client;
                next_client += 1;
                clients.insert(client);
                let rights = [None, Some(Rights::Admin), Some(Rights::Limited)][rng.below(3)];
                Input::WsOpened { client, rights }
            }
            11 if rng.one_in(8) => {
                let client = *clients
                    .iter()
                    .nth(rng.below(clients.len()))
                    .expect("in range");
                clients.remove(&client);
                Input::WsClosed { client }
            }
            11 | 12 if !clients.is_empty() => {
                let client = *clients
                    .iter()
                    .nth(rng.below(clients.len()))
                    .expect("in range");
                let text = match rng.below(4) {
                    0 => {
                        let pass = if rng.one_in(3) {
                            "wrong"
                        } else {
                            CREDENTIALS.1
                        };
                        json!({"id": 0, "method": "authenticate", "params": [CREDENTIALS.0, pass]})
                            .to_string()
                    }
                    _ => String::from_utf8_lossy(&rpc_body(&mut rng, w)).into_owned(),
                };
                Input::WsMessage { client, text }
            }
            0 | 1 => {
                let peer = next_peer;
                next_peer += 1;
                live.insert(peer);
                Input::Connected {
                    peer,
                    addr: addr(1 + rng.below(4) as u8),
                    direction: match rng.below(2) {
                        0 => Direction::Inbound,
                        _ => Direction::Outbound,
                    },
                }
            }
            2 if !live.is_empty() => {
                let peer = *live.iter().nth(rng.below(live.len())).expect("in range");
                live.remove(&peer);
                Input::Disconnected { peer }
            }
            3 => {
                now += rng.below(400_000) as u64;
                Input::Tick
            }
            4 if rng.one_in(4) => Input::SubmitBlock(w.other[rng.below(w.other.len())].clone()),
            4 => {
                let t = node.chain().tip();
                let b = BlockBuilder::new(&w.params, t.hash, t.height + 1, t.header.time).build();
                Input::SubmitBlock(b)
            }
            _ if !live.is_empty() => {
                let peer = *live.iter().nth(rng.below(live.len())).expect("in range");
                let mut bytes = if !greeted.contains(&peer) && !rng.one_in(8) {
                    greeted.insert(peer);
                    encode_message(w.params.magic, &w.seeds[0])
                } else if !acked.contains(&peer) && !rng.one_in(8) {
                    acked.insert(peer);
                    encode_message(w.params.magic, &Message::Verack)
                } else {
                    message_bytes(&mut rng, w)
                };
                if rng.one_in(3) {
                    bytes.extend(message_bytes(&mut rng, w));
                }
                let cut = rng.below(bytes.len() + 1);
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
        let tick = matches!(input, Input::Tick);
        node.handle(now, input);
        let mut due_ticks = 0;
        loop {
            if let Some(broken) = drain(
                &mut node,
                &mut outputs,
                &mut live,
                &mut decoder,
                &mut asked,
                &mut clients,
            ) {
                return (outputs, Some(broken));
            }
            // A parked call keeps a timer due until it finishes.
            if !tick || node.poll_timeout().is_none_or(|t| t > now) {
                break;
            }
            if due_ticks == MAX_DUE_TICKS {
                return (outputs, Some("a timer stays due tick after tick".into()));
            }
            due_ticks += 1;
            node.handle(now, Input::Tick);
        }
        let index = node.chain().index();
        if node.chain().tip().chain_work > index.best_header().chain_work {
            return (
                outputs,
                Some("tip has more work than the best header".into()),
            );
        }
    }
    (outputs, None)
}

/// Takes the node's outputs into `outputs`, checking each; the invariant broken, if any.
fn drain(
    node: &mut Node<MemStore>,
    outputs: &mut Vec<Output>,
    live: &mut BTreeSet<PeerId>,
    decoder: &mut Decoder,
    asked: &mut BTreeSet<RequestId>,
    clients: &mut BTreeSet<ClientId>,
) -> Option<String> {
    while let Some(out) = node.poll_output() {
        match &out {
            Output::Send { peer, bytes } => {
                if !live.contains(peer) {
                    return Some(format!("sent to unknown peer {peer}"));
                }
                decoder.push(bytes);
                match (decoder.pull(), decoder.pull()) {
                    (Some(Ok(_)), None) => {}
                    other => return Some(format!("bad frame sent: {other:?}")),
                }
            }
            Output::Disconnect { peer, .. } => {
                if !live.remove(peer) {
                    return Some(format!("disconnected unknown peer {peer}"));
                }
            }
            Output::RpcReply { id, body } => {
                if !asked.remove(id) {
                    return Some(format!("answered request {id} twice, or unasked"));
                }
                if !body.is_empty() && serde_json::from_str::<Value>(body).is_err() {
                    return Some(format!("reply {id} is not JSON: {body}"));
                }
            }
            Output::Ws { client, .. } if !clients.contains(client) => {
                return Some(format!("wrote to closed WebSocket client {client}"));
            }
            Output::WsClose { client } => {
                if !clients.remove(client) {
                    return Some(format!("closed closed WebSocket client {client}"));
                }
            }
            Output::Connect { .. }
            | Output::Resolve { .. }
            | Output::Notify(_)
            | Output::MineOn(_)
            | Output::Ws { .. }
            | Output::WsAuthenticated { .. }
            | Output::LogLevels(_)
            | Output::Shutdown => {}
        }
        outputs.push(out);
    }
    None
}

fn main() {
    let (seed, secs) = rbtcd_fuzz::seed_and_seconds("node");
    let w = world();
    rbtcd_fuzz::print_first_panic_only();
    let mut rng = Rng::new(seed);
    let start = Instant::now();
    let limit = Duration::from_secs(secs);
    let (mut executions, mut panics, mut violations) = (0u64, 0u64, 0u64);
    // How far cases get: handshakes completed, blocks connected, peers dropped, RPC replies
    // with a result (not an error), WebSocket texts.
    let (mut ready, mut connected, mut dropped) = (0u64, 0u64, 0u64);
    let (mut answered, mut ws_texts) = (0u64, 0u64);
    while start.elapsed() < limit {
        let case = rng.next_u64();
        let result = catch_unwind(AssertUnwindSafe(|| {
            let (outputs, broken) = run_case(case, &w);
            for o in &outputs {
                match o {
                    Output::Notify(Notification::PeerReady(_)) => ready += 1,
                    Output::Notify(Notification::BlockConnected { .. }) => connected += 1,
                    Output::Disconnect { .. } => dropped += 1,
                    Output::RpcReply { body, .. } if body.contains("\"error\":null") => {
                        answered += 1
                    }
                    Output::Ws { .. } => ws_texts += 1,
                    _ => {}
                }
            }
            // Replaying one case in eight checks determinism.
            if broken.is_none() && case.is_multiple_of(8) && run_case(case, &w).0 != outputs {
                return Some("the same case gave different outputs".to_string());
            }
            broken
        }));
        executions += 1;
        match result {
            Ok(None) => {}
            Ok(Some(why)) => {
                violations += 1;
                eprintln!("case {case}: {why}");
            }
            Err(_) => {
                panics += 1;
                eprintln!("case {case}: panicked");
            }
        }
    }
    println!(
        "executions={executions} panics={panics} violations={violations} elapsed={:.1}s seed={seed} \
         handshakes={ready} blocks_connected={connected} disconnects={dropped} \
         rpc_results={answered} ws_texts={ws_texts}",
        start.elapsed().as_secs_f64()
    );
    if panics + violations > 0 {
        std::process::exit(1);
    }
}
