//! Hostile peers against the node, one test per attack of issue 19's P2P rows: each asserts
//! the bound on what the attacker makes the node hold (its accounted memory, under a stated
//! figure), the disconnect or refusal the attack earns, and that an honest peer is still
//! served normally.

use rbtcd_core::chain::builder::{spend, BlockBuilder};
use rbtcd_core::chain::{Chain, MemStore, Placement};
use rbtcd_core::harness::{mine_chain, START};
use rbtcd_core::net::budget::{
    MAX_FRAME, MAX_PEER_TX_ANNOUNCEMENTS, MAX_PEER_TX_IN_FLIGHT, PEER_MEMORY_BUDGET,
    SEND_BUFFER_LIMIT,
};
use rbtcd_core::net::peer::{Direction, DisconnectReason, PeerId};
use rbtcd_core::node::{Input, NodeConfig};
use rbtcd_core::params::{Network, Params};
use rbtcd_core::primitives::hash::sha256d;
use rbtcd_core::primitives::{Block, Hash256, OutPoint, Transaction, TxIn, TxOut};
use rbtcd_core::wire::{encode_message, InvType, Inventory, Message};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

mod peer_rig;
use peer_rig::*;

/// An address in the network group `8.g.0.0/16`.
fn in_group(g: u8, host: u16) -> SocketAddr {
    let [hi, lo] = host.to_be_bytes();
    SocketAddr::new(IpAddr::V4(Ipv4Addr::new(8, g, hi, lo)), 18444)
}

/// `peer` is served: a ping gets its pong.
fn answers_pings(r: &mut Rig, peer: PeerId) -> bool {
    r.sent(peer);
    r.send(peer, &Message::Ping(4242));
    r.sent(peer).contains(&Message::Pong(4242))
}

fn tx_hash(batch: u32, i: u32) -> Hash256 {
    let mut h = [0x3c; 32];
    h[..4].copy_from_slice(&batch.to_le_bytes());
    h[4..8].copy_from_slice(&i.to_le_bytes());
    Hash256(h)
}

/// The `getdata` entries among `msgs`.
fn requested(msgs: &[Message]) -> Vec<Inventory> {
    msgs.iter()
        .flat_map(|m| match m {
            Message::GetData(items) => items.clone(),
            _ => Vec::new(),
        })
        .collect()
}

#[test]
fn an_inv_flood_is_asked_for_a_hundred_at_a_time_and_its_queue_is_capped() {
    let mut r = attacker_and_honest(NodeConfig::default());
    let mut asked = Vec::new();
    // 40 inv messages of 50,000 distinct random txids each: 2,000,000 announcements.
    for batch in 0..40 {
        let inv = (0..50_000)
            .map(|i| Inventory {
                inv_type: InvType::TX,
                hash: tx_hash(batch, i),
            })
            .collect();
        r.send(1, &Message::Inv(inv));
        asked.extend(requested(&r.sent(1)));
        let held = r.node.peer_memory(1).unwrap();
        // Bound: the announcement queue (5,000 entries) and the known-inventory set, < 2 MB.
        assert!(held.total() < 2_000_000, "batch {batch}: {held:?}");
    }
    assert_eq!(
        asked.len(),
        MAX_PEER_TX_IN_FLIGHT,
        "requests in flight are capped"
    );
    // Refusal, not misbehaviour (Core): the flood is ignored past the queue, without score.
    assert_eq!(r.disconnected(1), None);
    assert_eq!(r.node.peers()[&1].ban_score.value(START.unix_secs()), 0);
    // Answering frees slots, and the queue (the first 5,000 announced) drains a hundred at a
    // time; nothing announced past the cap is ever asked for.
    let mut total = asked.len();
    while !asked.is_empty() {
        r.send(1, &Message::NotFound(asked));
        asked = requested(&r.sent(1));
        total += asked.len();
    }
    assert_eq!(total, MAX_PEER_TX_ANNOUNCEMENTS);
    // Normal service: an honest peer's announcement is asked for at once.
    let honest = tx_hash(99, 1);
    r.send(
        2,
        &Message::Inv(vec![Inventory {
            inv_type: InvType::TX,
            hash: honest,
        }]),
    );
    assert_eq!(
        requested(&r.sent(2)),
        vec![Inventory {
            inv_type: InvType::WITNESS_TX,
            hash: honest
        }]
    );
}

/// A version-3 (non-standard) transaction: refused by policy, valid by consensus.
fn nonstandard_tx(n: u32) -> Transaction {
    let mut tx = spend(&[OutPoint::new(Hash256([7; 32]), n)], &[1000]);
    tx.version = 3;
    tx.lock_time = n;
    tx
}

/// A node with two ready inbound peers: 1 (the attacker) and 2 (honest).
fn attacker_and_honest(config: NodeConfig) -> Rig {
    let mut r = Rig::new(config);
    r.ready_inbound(1, addr(1));
    r.ready_inbound(2, addr(2));
    r
}

#[test]
fn a_consensus_invalid_transaction_bans_its_sender_at_once() {
    let mut r = attacker_and_honest(NodeConfig::default());
    // The same output spent twice: invalid in any chain.
    let mut twice = nonstandard_tx(0);
    twice.inputs.push(twice.inputs[0].clone());
    r.send(1, &Message::Tx(twice));
    assert!(is_banned(&r, 1), "{:?}", r.disconnected(1));
    assert!(answers_pings(&mut r, 2));
}

#[test]
fn a_transaction_paying_to_a_lone_checksig_is_refused_not_a_crash() {
    // The output script `OP_CHECKSIG` once made standardness checks panic (slice out of range).
    let mut r = attacker_and_honest(NodeConfig::default());
    let mut tx = nonstandard_tx(0);
    tx.version = 2;
    tx.outputs[0].script_pubkey = vec![0xac];
    r.send(1, &Message::Tx(tx));
    assert!(answers_pings(&mut r, 1));
    assert!(answers_pings(&mut r, 2));
}

#[test]
fn unsolicited_refused_transactions_are_scored_until_banned() {
    let mut r = attacker_and_honest(NodeConfig::default());
    let mut sent = 0;
    while r.disconnected(1).is_none() {
        assert!(sent < 1_000_000, "never banned");
        r.send(1, &Message::Tx(nonstandard_tx(sent)));
        sent += 1;
    }
    assert!(is_banned(&r, 1));
    // Two points each, with no time to decay: banned at the 50th.
    assert_eq!(sent, 50);
    assert!(answers_pings(&mut r, 2));
}

#[test]
fn refused_transactions_are_remembered_in_fixed_memory() {
    // The flooder is whitelisted so it is never scored away: the refusal filter alone must
    // bound what a million distinct bad transactions cost.
    let config = NodeConfig {
        whitelist: vec!["10.1.0.1/32".parse().unwrap()],
        ..NodeConfig::default()
    };
    let mut r = attacker_and_honest(config);
    let filter = r.node.rejects_memory();
    // Bound: Core's m_recent_rejects, 120,000 entries at one in a million false positives.
    assert!(filter < 1_400_000, "{filter} bytes");
    let n = 150_000;
    let frames: Vec<u8> = (0..n)
        .flat_map(|i| encode_message(r.magic, &Message::Tx(nonstandard_tx(i))))
        .collect();
    for chunk in frames.chunks(64 * 1024) {
        r.input(Input::Received {
            peer: 1,
            bytes: chunk.to_vec(),
        });
    }
    r.out.clear();
    assert_eq!(r.node.rejects_memory(), filter, "the filter never grows");
    assert!(r.node.peer_memory(1).unwrap().total() < 1_000_000);
    assert_eq!(r.disconnected(1), None);
    // The most recent refusals are remembered: announced again, they are not fetched...
    let recent: Vec<Inventory> = (n - 1000..n)
        .map(|i| Inventory {
            inv_type: InvType::TX,
            hash: nonstandard_tx(i).txid(),
        })
        .collect();
    r.send(2, &Message::Inv(recent));
    assert!(requested(&r.sent(2)).is_empty());
    // ...while new transactions still are.
    let fresh = nonstandard_tx(n + 5).txid();
    r.send(
        2,
        &Message::Inv(vec![Inventory {
            inv_type: InvType::TX,
            hash: fresh,
        }]),
    );
    assert_eq!(requested(&r.sent(2)).len(), 1);
}

/// A chain whose last `big` blocks each carry a transaction with a ~400 kB output script:
/// blocks big enough that a few fill a send buffer.
fn chain_with_big_blocks(params: &Params, big: u32) -> (MemStore, Vec<Block>) {
    let (store, small) = mine_chain(params, 101, b"big");
    let mut chain = Chain::open(params.clone(), store).unwrap();
    let mut blocks = Vec::new();
    for i in 0..big {
        let coinbase = &small[i as usize].txdata[0];
        let tx = Transaction {
            version: 1,
            inputs: vec![TxIn {
                prevout: OutPoint::new(coinbase.txid(), 0),
                script_sig: vec![],
                sequence: u32::MAX,
                witness: vec![],
            }],
            outputs: vec![TxOut {
                value: coinbase.outputs[0].value,
                script_pubkey: vec![0x6a; 400_000],
            }],
            lock_time: 0,
        };
        let t = chain.tip();
        let b = BlockBuilder::new(params, t.hash, t.height + 1, t.header.time)
            .tx(tx)
            .build();
        assert_eq!(
            chain.process_block(b.clone(), START.unix_secs()),
            Ok(Placement::MainChain)
        );
        blocks.push(b);
    }
    (chain.into_store().expect("flushes"), blocks)
}

#[test]
fn peers_that_ask_for_big_blocks_and_never_read_hold_one_send_buffer_each() {
    let params = Params::new(Network::Regtest);
    let (store, big) = chain_with_big_blocks(&params, 16);
    let config = NodeConfig {
        max_send_queue: Some(SEND_BUFFER_LIMIT),
        ..NodeConfig::default()
    };
    let mut r = Rig::on(params, config, store, 3);
    let getdata = Message::GetData(
        big.iter()
            .map(|b| Inventory {
                inv_type: InvType::WITNESS_BLOCK,
                hash: b.block_hash(),
            })
            .collect(),
    );
    let block_size = encode_message(r.magic, &Message::Block(big[0].clone())).len() as u64;
    // Three attackers ask for every big block, again and again, and never read.
    for peer in 1..=3 {
        r.ready_inbound(peer, addr(peer as u8));
        for _ in 0..10 {
            r.send(peer, &getdata);
        }
        let held = r.node.peer_memory(peer).unwrap();
        // Bound: the send buffer limit plus the one block that crossed it, and the queue of
        // 144 requests waiting for it to read: under 2 MB.
        assert!(held.send <= SEND_BUFFER_LIMIT + block_size, "{held:?}");
        assert!(held.total() < 2_000_000, "{held:?}");
        assert_eq!(r.node.peers()[&peer].getdata_backlog.len(), 160 - 3);
    }
    // Asking for more than a getdata's worth while not reading disconnects.
    let flood: Vec<Inventory> = (0..50_000)
        .map(|i| Inventory {
            inv_type: InvType::TX,
            hash: tx_hash(7, i),
        })
        .collect();
    r.send(1, &Message::GetData(flood));
    assert!(matches!(
        r.disconnected(1),
        Some(DisconnectReason::GetDataBacklog(n)) if *n > 50_000
    ));
    // Normal service: an honest peer that reads gets all sixteen blocks.
    r.ready_inbound(9, addr(9));
    r.sent(9);
    r.send(9, &getdata);
    let mut got = Vec::new();
    for _ in 0..100 {
        let written = r.unconsumed_sends(9);
        got.extend(
            r.sent(9)
                .into_iter()
                .filter(|m| matches!(m, Message::Block(_))),
        );
        for bytes in written {
            r.input(Input::Sent { peer: 9, bytes });
        }
        if got.len() == 16 {
            break;
        }
    }
    assert_eq!(got.len(), 16);
    assert!(r.disconnected(9).is_none());
}

/// A frame of command `command` whose payload is `len` bytes of `fill`.
fn raw_frame(magic: [u8; 4], command: &str, len: usize, fill: u8) -> Vec<u8> {
    let payload = vec![fill; len];
    let mut out = magic.to_vec();
    let mut name = [0u8; 12];
    name[..command.len()].copy_from_slice(command.as_bytes());
    out.extend_from_slice(&name);
    out.extend_from_slice(&(len as u32).to_le_bytes());
    out.extend_from_slice(&sha256d(&payload)[..4]);
    out.extend(payload);
    out
}

#[test]
fn four_megabyte_unknown_messages_are_discarded_unread() {
    let mut r = attacker_and_honest(NodeConfig::default());
    let frame = raw_frame(r.magic, "bigjunk", 3_999_000, 0xa5);
    let mut most = 0;
    for _ in 0..25 {
        for chunk in frame.chunks(64 * 1024) {
            r.input(Input::Received {
                peer: 1,
                bytes: chunk.to_vec(),
            });
            most = most.max(r.node.peer_memory(1).unwrap().receive);
        }
    }
    // Bound: the 64 kB the receive buffer keeps, never the 4 MB payload (100 MB were sent).
    assert!(most <= 128 * 1024, "{most} bytes held");
    // Ignored as btcd ignores unknown messages: no score, no disconnect, still served.
    assert_eq!(r.disconnected(1), None);
    assert_eq!(r.node.peers()[&1].ban_score.value(START.unix_secs()), 0);
    assert!(answers_pings(&mut r, 1));
    assert!(answers_pings(&mut r, 2));
}

#[test]
fn a_partial_message_holds_at_most_one_frame() {
    let mut r = attacker_and_honest(NodeConfig::default());
    // A block frame of almost 4 MB, all but its last byte, in one piece and in chunks.
    let frame = raw_frame(r.magic, "block", 3_999_000, 0);
    r.input(Input::Received {
        peer: 1,
        bytes: frame[..frame.len() - 1].to_vec(),
    });
    let held = r.node.peer_memory(1).unwrap();
    assert!(held.receive >= 3_999_000);
    // Bound: twice the largest frame, whatever the chunking.
    assert!(held.receive <= 2 * MAX_FRAME, "{held:?}");
    assert!(held.total() <= PEER_MEMORY_BUDGET);
    // The peer goes when it stays silent (btcd's idle timeout), and others are served.
    assert!(answers_pings(&mut r, 2));
    r.advance_to(r.now + rbtcd_core::net::peer::IDLE_TIMEOUT);
    assert_eq!(r.disconnected(1), Some(&DisconnectReason::Idle));
}

#[test]
fn a_payload_over_its_commands_limit_disconnects_at_once() {
    let mut r = attacker_and_honest(NodeConfig::default());
    // A ping claiming nine bytes (its limit is eight).
    let mut frame = raw_frame(r.magic, "ping", 8, 1);
    frame[16..20].copy_from_slice(&9u32.to_le_bytes());
    r.input(Input::Received {
        peer: 1,
        bytes: frame,
    });
    assert!(matches!(
        r.disconnected(1),
        Some(DisconnectReason::ProtocolLimit(e)) if e.contains("max for [ping] is 8")
    ));
    assert!(answers_pings(&mut r, 2));
}

#[test]
fn an_inv_over_fifty_thousand_entries_disconnects_at_once() {
    let mut r = attacker_and_honest(NodeConfig::default());
    // A count of 50,001 entries (the payload fits the size limit; the count is over).
    let mut payload = vec![0xfd];
    payload.extend_from_slice(&50_001u16.to_le_bytes());
    payload.extend(std::iter::repeat_n(0u8, 50_000 * 36));
    let mut frame = raw_frame(r.magic, "inv", 0, 0);
    frame[16..20].copy_from_slice(&(payload.len() as u32).to_le_bytes());
    frame[20..24].copy_from_slice(&sha256d(&payload)[..4]);
    frame.truncate(24);
    frame.extend(payload);
    r.input(Input::Received {
        peer: 1,
        bytes: frame,
    });
    assert!(
        matches!(
            r.disconnected(1),
            Some(DisconnectReason::ProtocolLimit(e)) if e.contains("50001")
        ),
        "{:?}",
        r.disconnected(1)
    );
    assert!(answers_pings(&mut r, 2));
}

#[test]
fn one_host_filling_every_inbound_slot_is_evicted_for_newcomers() {
    let mut r = Rig::new(NodeConfig::default());
    // 117 inbound slots (125 less 8 outbound), all taken from one /16.
    let attacker: Vec<PeerId> = (1..=117).collect();
    for &peer in &attacker {
        r.now += Duration::from_secs(1);
        r.ready_inbound(peer, in_group(66, peer as u16));
    }
    assert!(attacker.iter().all(|p| r.disconnected(*p).is_none()));
    // Twenty honest peers from other networks still get in, each evicting an attacker.
    let honest: Vec<PeerId> = (200..220).collect();
    for &peer in &honest {
        r.now += Duration::from_secs(1);
        r.ready_inbound(peer, in_group(100 + (peer - 200) as u8, 1));
    }
    let evicted: Vec<PeerId> = attacker
        .iter()
        .copied()
        .filter(|p| r.disconnected(*p) == Some(&DisconnectReason::Evicted))
        .collect();
    assert_eq!(evicted.len(), honest.len());
    // The attacker's own new connections then only replace its own.
    for peer in 300..400 {
        r.now += Duration::from_secs(1);
        r.connect(peer, in_group(66, peer as u16), Direction::Inbound);
    }
    assert!(honest.iter().all(|p| r.disconnected(*p).is_none()));
    assert!(honest.iter().all(|p| r.node.peers().contains_key(p)));
    assert_eq!(r.node.peers().len(), 117);
    assert!(answers_pings(&mut r, 200));
}

#[test]
fn past_the_total_budget_the_peer_holding_the_most_is_dropped() {
    let config = NodeConfig {
        peer_memory_budget: 10_000_000,
        ..NodeConfig::default()
    };
    let mut r = Rig::new(config);
    for peer in 1..=5 {
        r.ready_inbound(peer, addr(peer as u8));
    }
    // Four peers each leave a 3 MB block frame unfinished (each a byte shorter than the one
    // before); the fourth takes the total past 10 MB.
    let frame = raw_frame(r.magic, "block", 3_000_000, 0);
    for peer in 1..=4 {
        let part = frame.len() - 1 - peer as usize;
        r.input(Input::Received {
            peer,
            bytes: frame[..part].to_vec(),
        });
    }
    let dropped: Vec<PeerId> = (1..=4)
        .filter(|p| matches!(r.disconnected(*p), Some(DisconnectReason::MemoryBudget(_))))
        .collect();
    // The largest holder goes, not the one that crossed the line.
    assert_eq!(dropped, vec![1]);
    let total: u64 = r
        .node
        .peers()
        .keys()
        .map(|p| r.node.peer_memory(*p).unwrap().total())
        .sum();
    assert!(total <= 10_000_000, "{total}");
    assert!(answers_pings(&mut r, 5));
}

/// Pings with nonces `first..first + count`, as one read's bytes.
fn pings(r: &Rig, first: u64, count: u64) -> Vec<u8> {
    (first..first + count)
        .flat_map(|n| encode_message(r.magic, &Message::Ping(n)))
        .collect()
}

/// A node serving peers in turns, with a ready attacker (1) and honest peer (2).
fn in_turns() -> Rig {
    let mut r = attacker_and_honest(NodeConfig {
        fair_turns: true,
        ..NodeConfig::default()
    });
    r.sent(1);
    r.sent(2);
    r
}

#[test]
fn a_flooding_peer_gets_one_message_per_turn_and_the_honest_peer_its_turn_in_between() {
    let mut r = in_turns();
    // 2,000 messages in one read from the attacker, then one from the honest peer.
    r.input(Input::Received {
        peer: 1,
        bytes: pings(&r, 0, 2_000),
    });
    assert!(
        r.node.receive_paused(1),
        "the attacker's socket is not read while its messages wait"
    );
    assert!(r.node.turns_waiting());
    assert!(
        r.node.poll_timeout().is_some_and(|t| t <= r.now),
        "the next turn is due at once"
    );
    r.send(2, &Message::Ping(u64::MAX));
    assert_eq!(r.sent(2), vec![Message::Pong(u64::MAX)]);
    assert!(!r.node.receive_paused(2));
    // One turn for the attacker's read and one for the honest peer's: two of its pings
    // answered before the honest one, not 2,000.
    let mut answered = r.sent(1);
    assert_eq!(answered, vec![Message::Pong(0), Message::Pong(1)]);
    let mut turns = 0;
    while r.node.turns_waiting() {
        r.input(Input::Tick);
        turns += 1;
        assert!(turns <= 2_000, "turns never end");
    }
    // The rest, one per turn, in order, none dropped; then the attacker may be read again.
    assert_eq!(turns, 1_998);
    answered.extend(r.sent(1));
    assert_eq!(answered, (0..2_000).map(Message::Pong).collect::<Vec<_>>());
    assert!(!r.node.receive_paused(1));
    assert!(r.disconnected(1).is_none());
}

#[test]
fn turns_wait_only_for_complete_messages_and_end_with_their_peer() {
    let mut r = in_turns();
    let mut bytes = pings(&r, 0, 3);
    let tail = bytes.split_off(bytes.len() - 3);
    r.input(Input::Received { peer: 1, bytes });
    assert_eq!(r.sent(1), vec![Message::Pong(0)]);
    assert!(r.node.receive_paused(1));
    r.input(Input::Tick);
    assert_eq!(r.sent(1), vec![Message::Pong(1)]);
    assert!(
        !r.node.receive_paused(1) && !r.node.turns_waiting(),
        "the third ping needs more bytes: its socket must be read"
    );
    r.input(Input::Received {
        peer: 1,
        bytes: tail,
    });
    assert_eq!(r.sent(1), vec![Message::Pong(2)]);
    // A flood ending in another network's frame: the peer is dropped at that frame's turn,
    // and its turns end with it.
    let mut flood = pings(&r, 10, 3);
    let mut foreign = encode_message([0x0b, 0x11, 0x09, 0x07], &Message::Ping(99));
    flood.append(&mut foreign);
    flood.extend(pings(&r, 20, 3));
    r.input(Input::Received {
        peer: 1,
        bytes: flood,
    });
    while r.node.turns_waiting() {
        r.input(Input::Tick);
    }
    assert!(matches!(
        r.disconnected(1),
        Some(DisconnectReason::WrongNetwork)
    ));
    assert!(!r.node.receive_paused(1));
    assert!(answers_pings(&mut r, 2));
}
