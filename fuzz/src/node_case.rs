//! The whole node's case: a sequence of connections, disconnections, clock jumps, writes
//! reported done, locally submitted blocks and received bytes fed to one `Node` over a
//! 110-block regtest store. Received bytes are valid handshakes (most of the time, so later
//! messages are reached), messages of every kind the node acts on (built from a real competing
//! chain, so headers and blocks can cause reorgs), often mutated and re-checksummed, floods of
//! one message, oversized frames, or raw bytes, concatenated and split at random.
//!
//! Oracles, after every input:
//! - no panic;
//! - after a tick no timer is still due (a timer that never clears would spin the driver);
//! - the node writes only to connections it was given and has not dropped, one well-formed
//!   frame per `Send`, and disconnects only live connections;
//! - the tip never has more work than the best header;
//! - every peer's accounted memory is within [`PEER_MEMORY_BUDGET`] and all peers together
//!   within the node's configured budget.

use crate::{mutate, Source};
use rbtcd_core::chain::builder::{spend, BlockBuilder};
use rbtcd_core::chain::MemStore;
use rbtcd_core::net::budget::{PEER_MEMORY_BUDGET, SEND_BUFFER_LIMIT};
use rbtcd_core::net::harness::{mine_chain, START};
use rbtcd_core::net::peer::{Direction, PeerId};
use rbtcd_core::node::{Input, Node, NodeConfig, Output};
use rbtcd_core::params::{Network, Params};
use rbtcd_core::primitives::hash::sha256d;
use rbtcd_core::primitives::{Block, Hash256, OutPoint};
use rbtcd_core::wire::locator::BlockLocatorMessage;
use rbtcd_core::wire::{
    encode_message, Decoder, InvType, Inventory, Message, NetAddress, ServiceFlags, VersionMessage,
};
use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

/// What every case starts from: a chain the fuzzed node has, and one it may be sent.
pub struct World {
    /// Regtest.
    pub params: Params,
    store: MemStore,
    /// Blocks of a longer chain on the same genesis (a reorg when sent in order).
    other: Vec<Block>,
    /// Messages to start mutations from; the first is a valid version.
    pub seeds: Vec<Message>,
}

/// The starting chain and the seed messages (a second or so to build).
pub fn world() -> World {
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
    let many_txs: Vec<Inventory> = (0..2000u32)
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
    World {
        params,
        store,
        other,
        seeds,
    }
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
/// and then a flood of one message, a frame claiming a large payload, or raw bytes.
fn message_bytes(src: &mut impl Source, w: &World) -> Vec<u8> {
    let msg = &w.seeds[src.below(w.seeds.len())];
    let mut frame = encode_message(w.params.magic, msg);
    match src.below(12) {
        0..=2 => frame,
        3..=5 => {
            mutate(src, &mut frame);
            frame
        }
        6 => frame.repeat(1 + src.below(300)),
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

/// One of the live peers (`live` not empty).
fn pick(src: &mut impl Source, live: &BTreeSet<PeerId>) -> PeerId {
    *live.iter().nth(src.below(live.len())).expect("in range")
}

/// The memory oracle: every live peer within its budget, all of them within the node's.
fn check_memory(
    node: &Node<MemStore>,
    live: &BTreeSet<PeerId>,
    total_budget: u64,
) -> Result<(), String> {
    let mut total = 0;
    for peer in live {
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
    if total > total_budget {
        return Err(format!(
            "peers hold {total} bytes together, over the node's budget of {total_budget}"
        ));
    }
    Ok(())
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
        ..NodeConfig::default()
    };
    let total_budget = config.peer_memory_budget;
    let seed = src.next_u64();
    let mut node = w.node(config, seed);
    let mut now = START;
    let mut live: BTreeSet<PeerId> = BTreeSet::new();
    // Peers that were sent a valid version, then a verack: handshakes mostly complete, so the
    // messages after them are reached.
    let mut greeted: BTreeSet<PeerId> = BTreeSet::new();
    let mut acked: BTreeSet<PeerId> = BTreeSet::new();
    let mut next_peer: PeerId = 1;
    let mut outputs = Vec::new();
    let mut decoder = Decoder::new(w.params.magic);
    for _ in 0..1 + src.below(60) {
        if src.exhausted() {
            break;
        }
        let input = match src.below(11) {
            0 | 1 => {
                let peer = next_peer;
                next_peer += 1;
                live.insert(peer);
                Input::Connected {
                    peer,
                    addr: addr(1 + src.below(4) as u8),
                    direction: match src.below(2) {
                        0 => Direction::Inbound,
                        _ => Direction::Outbound,
                    },
                }
            }
            2 if !live.is_empty() => {
                let peer = pick(src, &live);
                live.remove(&peer);
                Input::Disconnected { peer }
            }
            3 => {
                now += src.below(400_000) as u64;
                Input::Tick
            }
            4 if src.one_in(4) => Input::SubmitBlock(w.other[src.below(w.other.len())].clone()),
            4 => {
                let t = node.chain().tip();
                let b = BlockBuilder::new(&w.params, t.hash, t.height + 1, t.header.time).build();
                Input::SubmitBlock(b)
            }
            5 if !live.is_empty() => {
                // The driver wrote some of what the node queued for a peer.
                let peer = pick(src, &live);
                let queued = node.peers().get(&peer).map_or(0, |p| p.send_queue) as usize;
                Input::Sent {
                    peer,
                    bytes: src.below(queued + 1),
                }
            }
            _ if !live.is_empty() => {
                let peer = pick(src, &live);
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
        let tick = matches!(input, Input::Tick);
        node.handle(now, input);
        while let Some(out) = node.poll_output() {
            match &out {
                Output::Send { peer, bytes } => {
                    if !live.contains(peer) {
                        return (outputs, Some(format!("sent to unknown peer {peer}")));
                    }
                    decoder.push(bytes);
                    match (decoder.pull(), decoder.pull()) {
                        (Some(Ok(_)), None) => {}
                        other => {
                            return (outputs, Some(format!("bad frame sent: {other:?}")));
                        }
                    }
                }
                Output::Disconnect { peer, .. } => {
                    if !live.remove(peer) {
                        return (outputs, Some(format!("disconnected unknown peer {peer}")));
                    }
                }
                Output::Connect { .. }
                | Output::Resolve { .. }
                | Output::Notify(_)
                | Output::MineOn(_) => {}
            }
            outputs.push(out);
        }
        if tick && node.poll_timeout().is_some_and(|t| t <= now) {
            return (outputs, Some("a timer is still due after a tick".into()));
        }
        let index = node.chain().index();
        if node.chain().tip().chain_work > index.best_header().chain_work {
            return (
                outputs,
                Some("tip has more work than the best header".into()),
            );
        }
        if let Err(why) = check_memory(&node, &live, total_budget) {
            return (outputs, Some(why));
        }
    }
    (outputs, None)
}
