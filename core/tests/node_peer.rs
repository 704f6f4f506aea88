//! The peer handler against a scripted remote: the version handshake and each way it fails,
//! keep-alive and idle deadlines, ban scores for malformed and abusive messages, bans and their
//! expiry, manual and persisted bans, `maxpeers` and the outbound reservation, send queue
//! limits, addr rate limits and feefilter.

use rbtcd_core::chain::builder::{branch, BlockBuilder};
use rbtcd_core::chain::MemStore;
use rbtcd_core::net::budget::SEND_QUEUE_SLACK;
use rbtcd_core::net::connmgr;
use rbtcd_core::net::local::LocalSource;
use rbtcd_core::net::peer::{
    Direction, DisconnectReason, PeerId, HANDSHAKE_TIMEOUT, IDLE_TIMEOUT, PING_INTERVAL,
    PONG_TIMEOUT,
};
use rbtcd_core::net::syncmgr::HEADERS_TIMEOUT;
use rbtcd_core::node::{
    Input, Node, NodeConfig, Notification, Output, ADDR_SAVE_INTERVAL, LOCAL_ADVERT_INTERVAL,
    RECONNECT_DELAY, SEED_RETRY,
};
use rbtcd_core::params::{Network, Params};
use rbtcd_core::primitives::{BlockHeader, Hash256};
use rbtcd_core::rpc::error::code;
use rbtcd_core::wire::locator::BlockLocatorMessage;
use rbtcd_core::wire::protocol::MAX_INV_PER_MSG;
use rbtcd_core::wire::TimestampedAddress;
use rbtcd_core::wire::{encode_message, InvType, Inventory, Message, NetAddress, ServiceFlags};
use serde_json::json;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

mod peer_rig;
use peer_rig::*;

/// Options whitelisting the rig's peers (10.1.0.0/16), whose addr relay is then not rate
/// limited: for tests that feed many addresses at once.
fn trusting() -> NodeConfig {
    NodeConfig {
        whitelist: vec!["10.1.0.0/16".parse().unwrap()],
        ..NodeConfig::default()
    }
}

#[test]
fn inbound_handshake_negotiates_like_btcd() {
    let mut r = Rig::new(NodeConfig::default());
    r.connect(1, addr(1), Direction::Inbound);
    assert!(r.sent(1).is_empty(), "an inbound peer speaks first");
    r.send(1, &Message::Version(version(5, 70016, full())));
    r.send(1, &Message::SendAddrV2);
    r.send(1, &Message::WtxidRelay);
    let sent = r.sent(1);
    assert!(matches!(&sent[0], Message::Version(v) if v.version == 70016 && v.start_height == 0));
    assert_eq!(sent[1..], [Message::SendAddrV2, Message::Verack]);
    r.send(1, &Message::Verack);
    let sent = r.sent(1);
    assert_eq!(sent[0], Message::SendHeaders);
    let min_relay_fee = NodeConfig::default().policy.min_relay_fee_per_kvb;
    assert_eq!(
        sent[1],
        Message::FeeFilter(min_relay_fee),
        "BIP133, as Core"
    );
    assert!(matches!(&sent[2..], [Message::GetHeaders(_)]));
    let p = &r.node.peers()[&1];
    assert!(p.is_ready() && p.send_addrv2 && p.wtxid_relay);
    assert!(r.out.contains(&Output::Notify(Notification::PeerReady(1))));
}

#[test]
fn negotiation_messages_from_old_versions_do_not_count() {
    let mut r = Rig::new(NodeConfig::default());
    r.connect(1, addr(1), Direction::Inbound);
    r.send(1, &Message::Version(version(5, 70015, full())));
    assert_eq!(
        r.sent(1)[1..],
        [Message::Verack],
        "no sendaddrv2 below 70016"
    );
    r.send(1, &Message::SendAddrV2);
    r.send(1, &Message::Verack);
    let p = &r.node.peers()[&1];
    assert!(p.is_ready() && !p.send_addrv2);
    assert_eq!(p.version, 70015);
}

#[test]
fn outbound_handshake_sends_version_first() {
    let mut r = Rig::new(NodeConfig::default());
    r.connect(1, addr(1), Direction::Outbound);
    assert!(matches!(&r.sent(1)[..], [Message::Version(_)]));
    r.send(1, &Message::Version(version(5, 70016, full())));
    assert_eq!(r.sent(1), [Message::SendAddrV2, Message::Verack]);
    r.send(1, &Message::Verack);
    assert!(r.node.peers()[&1].is_ready());
}

#[test]
fn a_message_before_version_disconnects() {
    let mut r = Rig::new(NodeConfig::default());
    r.connect(1, addr(1), Direction::Inbound);
    r.send(1, &Message::Ping(1));
    assert_eq!(
        r.disconnected(1),
        Some(&DisconnectReason::VersionNotFirst("ping".into()))
    );
    assert!(r.node.peers().is_empty());
}

#[test]
fn an_obsolete_version_is_rejected() {
    let mut r = Rig::new(NodeConfig::default());
    r.connect(1, addr(1), Direction::Inbound);
    r.send(1, &Message::Version(version(5, 60002, full())));
    assert_eq!(
        r.disconnected(1),
        Some(&DisconnectReason::ObsoleteVersion(60002))
    );
    assert!(matches!(&r.sent(1)[..], [Message::Reject(m)] if m.message == "version"));
}

#[test]
fn a_connection_to_self_is_detected_by_nonce() {
    let mut r = Rig::new(NodeConfig::default());
    r.connect(1, addr(9), Direction::Outbound);
    let Message::Version(ours) = r.sent(1).remove(0) else {
        panic!("version first")
    };
    // The same connection seen from the listening side.
    r.connect(2, addr(9), Direction::Inbound);
    r.send(2, &Message::Version(ours));
    assert_eq!(r.disconnected(2), Some(&DisconnectReason::SelfConnection));
}

#[test]
fn an_outbound_peer_without_network_and_witness_services_is_dropped() {
    let mut r = Rig::new(NodeConfig::default());
    r.connect(1, addr(1), Direction::Outbound);
    r.send(
        1,
        &Message::Version(version(5, 70016, ServiceFlags::NETWORK)),
    );
    assert_eq!(
        r.disconnected(1),
        Some(&DisconnectReason::MissingServices(ServiceFlags::WITNESS))
    );
    // Inbound peers need not serve anything.
    r.connect(2, addr(2), Direction::Inbound);
    r.send(2, &Message::Version(version(6, 70016, ServiceFlags::NONE)));
    assert_eq!(r.disconnected(2), None);
}

#[test]
fn the_handshake_times_out_after_30_seconds() {
    let mut r = Rig::new(NodeConfig::default());
    r.connect(1, addr(1), Direction::Inbound);
    r.send(1, &Message::Version(version(5, 70016, full())));
    assert_eq!(r.node.poll_timeout(), Some(T0 + HANDSHAKE_TIMEOUT));
    r.advance_to(T0 + HANDSHAKE_TIMEOUT - ms(1));
    assert_eq!(r.disconnected(1), None);
    r.advance_to(T0 + HANDSHAKE_TIMEOUT);
    assert_eq!(r.disconnected(1), Some(&DisconnectReason::HandshakeTimeout));
}

#[test]
fn duplicate_version_and_verack_disconnect() {
    let mut r = Rig::new(NodeConfig::default());
    r.ready_inbound(1, addr(1));
    r.send(1, &Message::Version(version(77, 70016, full())));
    assert_eq!(r.disconnected(1), Some(&DisconnectReason::DuplicateVersion));
    r.ready_inbound(2, addr(2));
    r.send(2, &Message::Verack);
    assert_eq!(r.disconnected(2), Some(&DisconnectReason::DuplicateVerack));
}

#[test]
fn other_messages_before_verack_break_the_handshake() {
    let mut r = Rig::new(NodeConfig::default());
    r.connect(1, addr(1), Direction::Inbound);
    r.send(1, &Message::Version(version(5, 70016, full())));
    // Unknown commands (compact block negotiation, say) are ignored.
    r.send(
        1,
        &Message::Unknown {
            command: "sendcmpct2".into(),
            payload: vec![],
        },
    );
    assert_eq!(r.disconnected(1), None);
    r.send(1, &Message::GetAddr);
    assert_eq!(
        r.disconnected(1),
        Some(&DisconnectReason::UnexpectedBeforeVerack("getaddr".into()))
    );
}

#[test]
fn negotiation_after_the_handshake_disconnects() {
    let mut r = Rig::new(NodeConfig::default());
    r.ready_inbound(1, addr(1));
    r.send(1, &Message::SendAddrV2);
    assert_eq!(
        r.disconnected(1),
        Some(&DisconnectReason::NegotiationAfterHandshake(
            "sendaddrv2".into()
        ))
    );
}

#[test]
fn pings_every_two_minutes_and_drops_a_peer_that_never_pongs() {
    let mut r = Rig::new(NodeConfig::default());
    r.ready_inbound(1, addr(1));
    r.advance_to(T0 + PING_INTERVAL);
    let [Message::Ping(nonce)] = r.sent(1)[..] else {
        panic!("one ping")
    };
    // A pong with another nonce answers nothing; the right one does.
    r.send(1, &Message::Pong(nonce ^ 1));
    assert!(r.node.peers()[&1].ping.is_some());
    r.send(1, &Message::Pong(nonce));
    assert!(r.node.peers()[&1].ping.is_none());
    let second = T0 + 2 * PING_INTERVAL;
    r.advance_to(second);
    let [Message::Ping(_)] = r.sent(1)[..] else {
        panic!("a second ping")
    };
    // The peer keeps talking (so it is not idle) but never answers the ping.
    let mut t = second;
    while t < second + PONG_TIMEOUT - ms(60_000) {
        t += ms(60_000);
        r.now = t;
        r.send(1, &Message::Ping(t.as_millis()));
        r.input(Input::Tick);
    }
    assert_eq!(r.disconnected(1), None);
    r.advance_to(second + PONG_TIMEOUT);
    assert_eq!(r.disconnected(1), Some(&DisconnectReason::PingTimeout));
}

#[test]
fn a_silent_peer_goes_after_five_minutes() {
    let mut r = Rig::new(NodeConfig::default());
    r.ready_inbound(1, addr(1));
    r.advance_to(T0 + IDLE_TIMEOUT - ms(1));
    assert_eq!(r.disconnected(1), None);
    r.advance_to(T0 + IDLE_TIMEOUT);
    assert_eq!(r.disconnected(1), Some(&DisconnectReason::Idle));
}

fn corrupt_frame(magic: [u8; 4]) -> Vec<u8> {
    let mut bytes = encode_message(magic, &Message::Ping(3));
    *bytes.last_mut().unwrap() ^= 0xff;
    bytes
}

#[test]
fn malformed_frames_add_up_to_a_ban_that_expires() {
    let config = NodeConfig {
        ban_duration: ms(60_000),
        ..NodeConfig::default()
    };
    let mut r = Rig::new(config);
    r.ready_inbound(1, addr(1));
    for i in 0..5 {
        let bytes = corrupt_frame(r.magic);
        r.input(Input::Received { peer: 1, bytes });
        let score = r
            .node
            .peers()
            .get(&1)
            .map(|p| p.ban_score.value(T0.unix_secs()));
        match i {
            0..=3 => assert_eq!(score, Some(20 * (i + 1))),
            _ => assert!(is_banned(&r, 1)),
        }
    }
    let ip = addr(1).ip();
    assert!(r.out.contains(&Output::Notify(Notification::Banned {
        ip,
        until: T0 + ms(60_000)
    })));
    // The same address on another port is refused before any handshake.
    let other_port = SocketAddr::new(ip, 5555);
    r.connect(2, other_port, Direction::Inbound);
    assert_eq!(r.disconnected(2), Some(&DisconnectReason::AddressBanned));
    assert!(r.sent(2).is_empty());
    r.now = T0 + ms(60_000);
    r.connect(3, other_port, Direction::Inbound);
    assert_eq!(r.disconnected(3), None);
    assert!(!r.node.is_banned(&ip, r.now));
}

#[test]
fn a_wrong_network_disconnects_without_ban() {
    let mut r = Rig::new(NodeConfig::default());
    r.ready_inbound(1, addr(1));
    let bytes = encode_message([1, 2, 3, 4], &Message::Ping(1));
    r.input(Input::Received { peer: 1, bytes });
    assert_eq!(r.disconnected(1), Some(&DisconnectReason::WrongNetwork));
    assert!(!r.node.is_banned(&addr(1).ip(), r.now));
}

#[test]
fn a_bip324_opening_is_closed_at_once_and_the_v1_retry_is_served() {
    let mut r = Rig::new(NodeConfig::default());
    r.connect(1, addr(1), Direction::Inbound);
    // Knots and Core open outbound connections with a 64-byte ElligatorSwift key plus garbage,
    // and retry with v1 only if we close without sending a byte.
    let key: Vec<u8> = (0..64u8).map(|i| i.wrapping_mul(151) ^ 0xa5).collect();
    r.input(Input::Received {
        peer: 1,
        bytes: key[..10].to_vec(),
    });
    assert_eq!(
        r.disconnected(1),
        Some(&DisconnectReason::UnrecognisedHandshake)
    );
    assert!(
        r.sent(1).is_empty(),
        "the initiator only falls back on silence"
    );
    assert!(!r.node.is_banned(&addr(1).ip(), r.now));
    r.input(Input::Received {
        peer: 1,
        bytes: key[10..].to_vec(),
    });
    r.ready_inbound(2, addr(1));
    assert_eq!(r.node.peers()[&2].ban_score.value(T0.unix_secs()), 0);
}

#[test]
fn huge_getdata_requests_raise_a_decaying_score() {
    let mut r = Rig::new(NodeConfig::default());
    r.ready_inbound(1, addr(1));
    let items = vec![
        Inventory {
            inv_type: InvType::TX,
            hash: Hash256([1; 32]),
        };
        MAX_INV_PER_MSG
    ];
    r.send(1, &Message::GetData(items.clone()));
    assert_eq!(r.node.peers()[&1].ban_score.value(T0.unix_secs()), 99);
    assert!(matches!(&r.sent(1)[..], [Message::NotFound(n)] if n.len() == MAX_INV_PER_MSG));
    // Ten minutes later the transient score has decayed; another request is tolerated.
    r.now = T0 + ms(600_000);
    r.send(1, &Message::GetData(items.clone()));
    assert!(!is_banned(&r, 1));
    // But two at once are too many.
    r.send(1, &Message::GetData(items));
    assert!(is_banned(&r, 1));
}

#[test]
fn mempool_requests_raise_the_score_by_33() {
    let mut r = Rig::new(NodeConfig::default());
    r.ready_inbound(1, addr(1));
    for _ in 0..3 {
        r.send(1, &Message::MemPool);
    }
    assert_eq!(r.node.peers()[&1].ban_score.value(T0.unix_secs()), 99);
    r.send(1, &Message::MemPool);
    assert!(is_banned(&r, 1));
}

#[test]
fn an_invalid_header_bans_at_once() {
    let mut r = Rig::new(NodeConfig::default());
    r.ready_inbound(1, addr(1));
    let genesis = Params::new(Network::Regtest).genesis_hash;
    let bad = BlockHeader {
        version: 4,
        prev_blockhash: genesis,
        merkle_root: Hash256::ZERO,
        time: 1_296_688_603,
        bits: 0x1d00ffff, // far above regtest's target: the hash cannot meet it.
        nonce: 0,
    };
    r.send(1, &Message::Headers(vec![bad]));
    assert!(is_banned(&r, 1));
}

#[test]
fn banning_can_be_disabled() {
    let config = NodeConfig {
        disable_banning: true,
        ..NodeConfig::default()
    };
    let mut r = Rig::new(config);
    r.ready_inbound(1, addr(1));
    for _ in 0..10 {
        r.send(1, &Message::MemPool);
    }
    assert_eq!(r.disconnected(1), None);
}

#[test]
fn whitelisted_peers_are_never_banned() {
    let config = NodeConfig {
        whitelist: vec![format!("{}/24", addr(1).ip()).parse().unwrap()],
        ..NodeConfig::default()
    };
    let mut r = Rig::new(config);
    r.ready_inbound(1, addr(1));
    for _ in 0..10 {
        let bytes = corrupt_frame(r.magic);
        r.input(Input::Received { peer: 1, bytes });
    }
    assert_eq!(r.disconnected(1), None);
    assert_eq!(r.node.peers()[&1].ban_score.value(T0.unix_secs()), 0);
}

#[test]
fn maxpeers_refuses_extra_connections() {
    let config = NodeConfig {
        max_peers: 2,
        // No automatic outbound slots to keep free for.
        connect_only: true,
        ..NodeConfig::default()
    };
    let mut r = Rig::new(config);
    r.ready_inbound(1, addr(1));
    r.connect(2, addr(2), Direction::Inbound);
    r.connect(3, addr(3), Direction::Inbound);
    assert_eq!(r.disconnected(2), None);
    assert_eq!(r.disconnected(3), Some(&DisconnectReason::TooManyPeers));
    // A slot frees when a peer leaves.
    r.input(Input::Disconnected { peer: 1 });
    r.connect(4, addr(4), Direction::Inbound);
    assert_eq!(r.disconnected(4), None);
}

#[test]
fn getheaders_is_answered_from_the_main_chain() {
    let mut r = Rig::new(NodeConfig::default());
    r.ready_inbound(1, addr(1));
    let genesis = Params::new(Network::Regtest).genesis_hash;
    r.send(
        1,
        &Message::GetHeaders(BlockLocatorMessage {
            version: 70016,
            locator: vec![genesis],
            stop_hash: Hash256::ZERO,
        }),
    );
    assert_eq!(r.sent(1), [Message::Headers(vec![])]);
}

#[test]
fn a_block_the_driver_decoded_is_taken_for_its_own_frame() {
    let params = Params::new(Network::Regtest);
    let mut r = Rig::new(NodeConfig::default());
    r.ready_inbound(1, addr(1));
    let child = |tag: &[u8]| branch(&params, &params.genesis, 1, 1, tag).remove(0);
    let (sent, decoded) = (child(b"sent"), child(b"decoded"));
    // The frame starts after every byte the peer sent so far.
    let info = r.call("getpeerinfo", json!([])).unwrap();
    let at = info[0]["bytesrecv"].as_u64().unwrap();
    // A block handed over for another offset is not taken: the node decodes the frame.
    r.input(Input::DecodedBlock {
        peer: 1,
        at: at + 1,
        len: 0,
        block: Box::new(decoded.clone()),
    });
    r.send(1, &Message::Block(sent.clone()));
    assert_eq!(r.node.chain().tip().hash, sent.block_hash());
    // One handed over for the frame's own offset stands for the frame's payload: the node
    // takes it (here another block than the bytes, which a driver never does) and decodes
    // nothing.
    let at = r.call("getpeerinfo", json!([])).unwrap()[0]["bytesrecv"]
        .as_u64()
        .unwrap();
    let grandchild = branch(&params, &decoded, 2, 1, b"decoded").remove(0);
    r.input(Input::DecodedBlock {
        peer: 1,
        at,
        len: 0,
        block: Box::new(decoded.clone()),
    });
    r.send(1, &Message::Block(grandchild.clone()));
    assert!(r.node.chain().have_block(&decoded.block_hash()));
    assert!(!r.node.chain().have_block(&grandchild.block_hash()));
}

#[test]
fn permanent_peers_are_dialed_and_redialed_after_five_seconds() {
    let config = NodeConfig {
        permanent_peers: vec![addr(5)],
        ..NodeConfig::default()
    };
    let mut r = Rig::new(config);
    r.input(Input::Tick);
    let dials = |r: &Rig| {
        r.out
            .iter()
            .filter(|o| **o == Output::Connect { addr: addr(5) })
            .count()
    };
    // Node::new queued the first dial.
    assert_eq!(dials(&r), 1);
    r.connect(1, addr(5), Direction::Outbound);
    r.input(Input::Disconnected { peer: 1 });
    r.advance_to(T0 + RECONNECT_DELAY - ms(1));
    assert_eq!(dials(&r), 1);
    r.advance_to(T0 + RECONNECT_DELAY);
    assert_eq!(dials(&r), 2);
}

/// `n` routable addresses, `per_group` in each /16.
fn public_addrs(n: usize, per_group: usize) -> Vec<TimestampedAddress> {
    (0..n)
        .map(|i| {
            let (g, k) = ((i / per_group) as u8, (i % per_group) as u8 + 1);
            let a = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(20, g, 0, k)), 8333);
            TimestampedAddress {
                time: (T0.unix_secs()) as u32 - 3600,
                addr: NetAddress::new(a, full()),
            }
        })
        .collect()
}

fn dials(r: &Rig) -> Vec<SocketAddr> {
    r.out
        .iter()
        .filter_map(|o| match o {
            Output::Connect { addr } => Some(*addr),
            _ => None,
        })
        .collect()
}

fn group(a: &SocketAddr) -> [u8; 2] {
    match a.ip() {
        IpAddr::V4(v4) => [v4.octets()[0], v4.octets()[1]],
        IpAddr::V6(_) => panic!("only IPv4 here"),
    }
}

#[test]
fn learned_addresses_fill_eight_outbound_slots_one_per_group() {
    let mut r = Rig::new(trusting());
    r.ready_inbound(1, addr(1));
    r.send(1, &Message::Addr(public_addrs(40, 3)));
    let first = dials(&r);
    assert_eq!(first.len(), 8, "{first:?}");
    let groups: std::collections::BTreeSet<[u8; 2]> = first.iter().map(group).collect();
    assert_eq!(groups.len(), 8, "one connection per /16");
    // A failed dial frees its slot for another group.
    r.input(Input::ConnectFailed { addr: first[0] });
    let second = dials(&r);
    assert_eq!(second.len(), 9);
    assert!(!first[1..].iter().any(|a| group(a) == group(&second[8])));
}

#[test]
fn connect_only_never_dials_learned_addresses() {
    let config = NodeConfig {
        connect_only: true,
        ..NodeConfig::default()
    };
    let mut r = Rig::new(config);
    r.ready_inbound(1, addr(1));
    r.send(1, &Message::Addr(public_addrs(40, 3)));
    assert!(dials(&r).is_empty());
}

#[test]
fn getaddr_is_answered_once_per_inbound_connection_only() {
    let config = NodeConfig {
        connect_only: true,
        ..trusting()
    };
    let mut r = Rig::new(config);
    r.ready_inbound(1, addr(1));
    r.send(1, &Message::Addr(public_addrs(100, 1)));
    assert_eq!(r.node.addr_manager().len(), 100);
    r.send(1, &Message::GetAddr);
    // 23% of the good addresses, as legacy addr since this peer did not send sendaddrv2.
    assert!(matches!(&r.sent(1)[..], [Message::Addr(a)] if a.len() == 23));
    r.send(1, &Message::GetAddr);
    assert!(r.sent(1).is_empty());
    // Outbound peers are never answered.
    r.connect(2, addr(2), Direction::Outbound);
    r.send(2, &Message::Version(version(9, 70016, full())));
    r.send(2, &Message::Verack);
    r.sent(2);
    r.send(2, &Message::GetAddr);
    assert!(r.sent(2).is_empty());
}

/// The seeds a fresh node on `params` asks for.
fn seeds_asked(r: &Rig) -> Vec<String> {
    r.out
        .iter()
        .filter_map(|o| match o {
            Output::Resolve { seed } => Some(seed.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn dns_seed_answers_are_dialled_on_the_networks_standard_port() {
    let custom_signet = Params::custom_signet(vec![0x51], vec!["seed.example".into()]);
    let networks = [
        Network::Mainnet,
        Network::Testnet3,
        Network::Testnet4,
        Network::Signet,
    ];
    let all = networks.into_iter().map(Params::new).chain([custom_signet]);
    for params in all {
        let (seeds, port) = (params.dns_seeds.clone(), params.standard_port);
        let mut r = Rig::on(params, NodeConfig::default(), MemStore::new(), 1);
        r.input(Input::Tick);
        assert_eq!(seeds_asked(&r), seeds);
        let ips: Vec<IpAddr> = public_addrs(3, 1)
            .iter()
            .map(|a| a.addr.socket_addr().ip())
            .collect();
        r.input(Input::Resolved {
            seed: seeds[0].clone(),
            addrs: ips.clone(),
        });
        let mut dialed = dials(&r);
        dialed.sort();
        let expected: Vec<SocketAddr> = ips.iter().map(|ip| SocketAddr::new(*ip, port)).collect();
        assert_eq!(dialed, expected, "port {port}");
        assert_ne!(port, 12008, "never rbtcd's own listen port");
    }
}

#[test]
fn nodnsseed_and_connect_ask_no_seed() {
    let params = || Params::new(Network::Mainnet);
    let off = NodeConfig {
        dns_seed: false,
        ..NodeConfig::default()
    };
    let connect = NodeConfig {
        connect_only: true,
        ..NodeConfig::default()
    };
    for config in [off, connect] {
        let mut r = Rig::on(params(), config, MemStore::new(), 1);
        r.advance_to(T0 + 2 * SEED_RETRY);
        assert!(seeds_asked(&r).is_empty());
    }
}

#[test]
fn a_seed_that_gave_nothing_is_asked_again_later() {
    let mut r = Rig::on(
        Params::new(Network::Testnet4),
        NodeConfig::default(),
        MemStore::new(),
        1,
    );
    r.input(Input::Tick);
    let first = seeds_asked(&r);
    r.out.clear();
    r.input(Input::Resolved {
        seed: first[0].clone(),
        addrs: vec![],
    });
    r.advance_to(T0 + SEED_RETRY - ms(1));
    assert!(seeds_asked(&r).is_empty(), "not at once");
    r.advance_to(T0 + SEED_RETRY);
    assert_eq!(seeds_asked(&r), [first[0].clone()]);
}

/// A routable peer address (the rig's 10.1/16 ones are private: no address is reachable from
/// there).
fn public(n: u8) -> SocketAddr {
    SocketAddr::new(IpAddr::V4(Ipv4Addr::new(20, 9, 0, n)), 18444)
}

fn local_config(listening: bool) -> NodeConfig {
    let manual: SocketAddr = "1.2.3.4:12008".parse().unwrap();
    let bound: SocketAddr = "5.6.7.8:12008".parse().unwrap();
    NodeConfig {
        listening,
        local_addrs: vec![(bound, LocalSource::Bound), (manual, LocalSource::Manual)],
        ..NodeConfig::default()
    }
}

/// The address entries in `msgs`' addr and addrv2 messages.
fn addr_entries(msgs: &[Message]) -> Vec<SocketAddr> {
    msgs.iter()
        .flat_map(|m| match m {
            Message::Addr(list) => list.iter().map(|a| a.addr.socket_addr()).collect(),
            Message::AddrV2(list) => list
                .iter()
                .filter_map(connmgr::to_legacy)
                .map(|a| a.addr.socket_addr())
                .collect(),
            _ => Vec::new(),
        })
        .collect()
}

/// The sender address of the version the node answers an inbound `peer` (routable) with.
fn our_version_sender(r: &mut Rig, peer: PeerId) -> Option<SocketAddr> {
    r.connect(peer, public(peer as u8), Direction::Inbound);
    r.send(peer, &Message::Version(version(1000 + peer, 70016, full())));
    r.sent(peer).into_iter().find_map(|m| match m {
        Message::Version(v) => Some(v.sender.socket_addr()),
        _ => None,
    })
}

#[test]
fn our_best_address_is_in_our_version_and_getaddr_answer() {
    let mut r = Rig::new(local_config(true));
    let ours = our_version_sender(&mut r, 1);
    // The operator's externalip outranks a bound address.
    assert_eq!(ours, Some("1.2.3.4:12008".parse().unwrap()));
    r.send(1, &Message::Verack);
    r.send(1, &Message::Headers(vec![]));
    r.sent(1);
    r.send(1, &Message::GetAddr);
    let answer = addr_entries(&r.sent(1));
    assert_eq!(answer.first(), Some(&"1.2.3.4:12008".parse().unwrap()));
}

#[test]
fn nolisten_advertises_nothing() {
    let mut r = Rig::new(local_config(false));
    let sender = our_version_sender(&mut r, 1);
    assert_eq!(sender.map(|a| a.port()), Some(0));
    r.send(1, &Message::Verack);
    r.send(1, &Message::GetAddr);
    assert!(addr_entries(&r.sent(1)).is_empty());
    r.input(Input::LocalAddress {
        addr: "9.9.9.9:12008".parse().unwrap(),
        source: LocalSource::Upnp,
    });
    assert!(addr_entries(&r.sent(1)).is_empty());
}

/// Completes an outbound handshake with `peer` at `a`; returns what the node sent.
fn ready_outbound(r: &mut Rig, peer: PeerId, a: SocketAddr) -> Vec<Message> {
    r.connect(peer, a, Direction::Outbound);
    r.send(peer, &Message::Version(version(2000 + peer, 70016, full())));
    r.send(peer, &Message::Verack);
    r.sent(peer)
}

#[test]
fn outbound_peers_are_told_our_address_and_again_daily() {
    let mut r = Rig::new(local_config(true));
    let sent = ready_outbound(&mut r, 1, public(1));
    assert_eq!(addr_entries(&sent), ["1.2.3.4:12008".parse().unwrap()]);
    r.send(1, &Message::Headers(vec![]));
    // The peer stays alive for two days answering pings; our address goes out once a day.
    let mut adverts = Vec::new();
    let mut t = T0;
    while t < T0 + 2 * LOCAL_ADVERT_INTERVAL {
        t += PING_INTERVAL;
        r.advance_to(t);
        let sent = r.sent(1);
        if !addr_entries(&sent).is_empty() {
            adverts.push(t);
        }
        for m in sent {
            if let Message::Ping(n) = m {
                r.send(1, &Message::Pong(n));
            }
        }
        r.send(1, &Message::Ping(7));
    }
    assert_eq!(r.disconnected(1), None);
    let day = LOCAL_ADVERT_INTERVAL;
    assert_eq!(adverts.len(), 2, "{adverts:?}");
    for (k, at) in (1..).zip(adverts) {
        assert!((T0 + k * day..T0 + k * day + PING_INTERVAL).contains(&at));
    }
}

#[test]
fn an_address_learnt_by_the_driver_is_advertised_to_ready_peers() {
    let mut r = Rig::new(NodeConfig::default());
    r.ready_inbound(1, public(1));
    r.sent(1);
    let upnp: SocketAddr = "9.9.9.9:12008".parse().unwrap();
    r.input(Input::LocalAddress {
        addr: upnp,
        source: LocalSource::Upnp,
    });
    assert_eq!(addr_entries(&r.sent(1)), [upnp]);
    // An unroutable one (a gateway behind another NAT) is not.
    r.input(Input::LocalAddress {
        addr: "100.64.0.1:12008".parse().unwrap(),
        source: LocalSource::Upnp,
    });
    assert!(addr_entries(&r.sent(1)).is_empty());
}

#[test]
fn user_agent_lists_drop_peers_as_btcd() {
    let config = NodeConfig {
        agent_blacklist: vec!["bad".into()],
        agent_whitelist: vec!["test".into()],
        ..NodeConfig::default()
    };
    let mut r = Rig::new(config);
    for (peer, agent, welcome) in [
        (1, "/test:1/", true),
        (2, "/test:1/bad/", false),
        (3, "/other/", false),
    ] {
        r.connect(peer, addr(peer as u8), Direction::Inbound);
        let mut v = version(1000 + peer, 70016, full());
        v.user_agent = agent.into();
        r.send(peer, &Message::Version(v));
        let dropped = matches!(
            r.disconnected(peer),
            Some(DisconnectReason::UndesiredUserAgent(_))
        );
        assert_eq!(dropped, !welcome, "{agent}");
    }
}

#[test]
fn blocksonly_asks_for_no_transactions_and_drops_announcers() {
    let config = NodeConfig {
        blocks_only: true,
        ..NodeConfig::default()
    };
    let mut r = Rig::new(config);
    r.connect(1, addr(1), Direction::Outbound);
    let relay = r.sent(1).into_iter().find_map(|m| match m {
        Message::Version(v) => Some(v.relay),
        _ => None,
    });
    assert_eq!(relay, Some(false));
    r.ready_inbound(2, addr(2));
    let tx = Inventory {
        inv_type: InvType::TX,
        hash: Hash256([3; 32]),
    };
    r.send(2, &Message::Inv(vec![tx]));
    assert_eq!(
        r.disconnected(2),
        Some(&DisconnectReason::TxRelayInBlocksOnly)
    );
}

#[test]
fn nostalldetect_keeps_a_peer_that_never_answers_getheaders() {
    for no_stall_detect in [false, true] {
        let mut r = Rig::new(NodeConfig {
            no_stall_detect,
            ..NodeConfig::default()
        });
        r.connect(1, addr(1), Direction::Inbound);
        r.send(1, &Message::Version(version(1001, 70016, full())));
        r.send(1, &Message::Verack);
        // The getheaders every new peer gets goes unanswered.
        let mut t = T0;
        while t < T0 + 3 * HEADERS_TIMEOUT {
            t += ms(10_000);
            r.advance_to(t);
            r.send(1, &Message::Ping(1));
        }
        let stalled = r.disconnected(1) == Some(&DisconnectReason::Stalled);
        assert_eq!(stalled, !no_stall_detect);
    }
}

#[test]
fn headers_that_never_connect_raise_the_score_every_tenth_time() {
    let mut r = Rig::new(NodeConfig::default());
    r.ready_inbound(1, addr(1));
    let orphan = BlockHeader {
        version: 4,
        prev_blockhash: Hash256([5; 32]),
        merkle_root: Hash256::ZERO,
        time: 1_296_688_603,
        bits: 0x207fffff,
        nonce: 0,
    };
    for i in 1..=10 {
        r.send(1, &Message::Headers(vec![orphan]));
        // Each is answered with a getheaders for the gap.
        assert!(matches!(r.sent(1).last(), Some(Message::GetHeaders(_))));
        let score = r.node.peers()[&1].ban_score.value(T0.unix_secs());
        assert_eq!(score, if i < 10 { 0 } else { 20 });
    }
}

#[test]
fn an_invalid_block_bans_its_sender() {
    let mut r = Rig::new(NodeConfig::default());
    r.ready_inbound(1, addr(1));
    let params = Params::new(Network::Regtest);
    let g = &params.genesis;
    let mut block = BlockBuilder::new(&params, params.genesis_hash, 1, g.header.time).build();
    // Still meets its target, but the merkle root no longer matches the coinbase.
    block.txdata[0].outputs[0].value -= 1;
    r.send(1, &Message::Block(block));
    assert!(is_banned(&r, 1));
    assert_eq!(r.node.chain().tip().height, 0);
}

#[test]
fn a_failing_store_stops_the_node_with_a_notification_instead_of_a_panic() {
    let params = Params::new(Network::Regtest);
    let store = MemStore::new();
    let mut r = Rig::on(params.clone(), NodeConfig::default(), store.clone(), 1);
    r.ready_inbound(1, addr(1));
    store.fail_at_write(1);
    let g = &params.genesis;
    let block = BlockBuilder::new(&params, params.genesis_hash, 1, g.header.time).build();
    r.input(Input::SubmitBlock(block));
    assert!(r
        .out
        .iter()
        .any(|o| matches!(o, Output::Notify(Notification::Fatal(_)))));
    assert_eq!(r.node.poll_timeout(), None);
    r.out.clear();
    r.send(1, &Message::Ping(1));
    assert!(r.out.is_empty(), "a stopped node does nothing");
}

#[test]
fn the_address_book_is_saved_periodically_and_at_shutdown() {
    let params = Params::new(Network::Regtest);
    let store = MemStore::new();
    let config = NodeConfig {
        connect_only: true,
        ..trusting()
    };
    let mut r = Rig::on(params.clone(), config.clone(), store.clone(), 1);
    r.ready_inbound(1, addr(1));
    r.send(1, &Message::Addr(public_addrs(30, 1)));
    use rbtcd_core::chain::ChainStore;
    assert_eq!(store.addr_book().unwrap(), None);
    r.advance_to(T0 + ADDR_SAVE_INTERVAL);
    assert!(store.addr_book().unwrap().is_some());
    // The first peer idled out meanwhile; another brings ten more addresses.
    r.ready_inbound(2, addr(2));
    r.send(2, &Message::Addr(public_addrs(40, 1)));
    assert_eq!(r.node.addr_manager().len(), 40);
    let store = r.node.into_store();
    let restarted = Node::new(params, config, store, 2, T0 + ms(3_600_000)).unwrap();
    assert_eq!(restarted.addr_manager().len(), 40);
}

#[test]
fn manual_subnet_bans_refuse_at_accept_survive_a_restart_and_lift() {
    let params = Params::new(Network::Regtest);
    let store = MemStore::new();
    let mut r = Rig::on(params.clone(), NodeConfig::default(), store.clone(), 1);
    r.ready_inbound(1, addr(1));
    let until = (T0 + ms(3_600_000)).unix_secs();
    assert_eq!(
        r.call("setban", json!(["10.1.0.0/16", "add", until, true])),
        Ok(json!(null))
    );
    assert_eq!(
        r.call("setban", json!(["10.1.0.0/16", "add"])),
        Err(code::CLIENT_NODE_ALREADY_ADDED)
    );
    assert_eq!(
        r.call("listbanned", json!([])),
        Ok(json!([{"address": "10.1.0.0/16", "banned_until": until, "time_remaining": 3600}]))
    );
    assert_eq!(r.disconnected(1), Some(&DisconnectReason::AddressBanned));
    r.connect(2, addr(2), Direction::Inbound);
    assert_eq!(r.disconnected(2), Some(&DisconnectReason::AddressBanned));
    assert!(r.sent(2).is_empty(), "refused before any handshake work");
    let outside = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(10, 2, 0, 1)), 18444);
    r.connect(3, outside, Direction::Inbound);
    assert_eq!(r.disconnected(3), None);

    let restarted = Node::new(params.clone(), NodeConfig::default(), store.clone(), 2, T0).unwrap();
    assert!(restarted.is_banned(&addr(9).ip(), T0 + ms(1)));
    assert!(
        !restarted.is_banned(&addr(9).ip(), T0 + ms(3_600_000)),
        "expired"
    );
    assert_eq!(
        r.call("setban", json!(["10.1.0.0/16", "remove"])),
        Ok(json!(null))
    );
    assert_eq!(
        r.call("setban", json!(["10.1.0.0/16", "remove"])),
        Err(code::CLIENT_INVALID_IP_OR_SUBNET)
    );
    assert_eq!(
        r.call("setban", json!(["10.1/8", "add"])),
        Err(code::CLIENT_INVALID_IP_OR_SUBNET)
    );
    let restarted = Node::new(params, NodeConfig::default(), store, 3, T0).unwrap();
    assert!(!restarted.is_banned(&addr(9).ip(), T0 + ms(1)));
    assert_eq!(restarted.bans().iter().count(), 0);
}

#[test]
fn score_bans_are_kept_across_a_restart() {
    let params = Params::new(Network::Regtest);
    let store = MemStore::new();
    let mut r = Rig::on(params.clone(), NodeConfig::default(), store.clone(), 1);
    r.ready_inbound(1, addr(1));
    for _ in 0..5 {
        let bytes = corrupt_frame(r.magic);
        r.input(Input::Received { peer: 1, bytes });
    }
    assert!(is_banned(&r, 1));
    let restarted = Node::new(params, NodeConfig::default(), store, 2, T0).unwrap();
    assert!(restarted.is_banned(&addr(1).ip(), T0 + ms(1)));
}

#[test]
fn a_peer_that_does_not_read_is_dropped_past_the_send_queue_slack() {
    let config = NodeConfig {
        max_send_queue: Some(2_000),
        ..NodeConfig::default()
    };
    let mut r = Rig::new(config);
    r.ready_inbound(1, addr(1));
    r.ready_inbound(2, addr(2));
    // The handshake's messages, never reported written.
    let handshake = r.node.peers()[&2].send_queue;
    let pings: Vec<u8> = (0..10_000)
        .flat_map(|n| encode_message(r.magic, &Message::Ping(n)))
        .collect();
    let mut rounds = 0;
    while r.disconnected(1).is_none() {
        rounds += 1;
        assert!(rounds < 100, "never dropped");
        r.input(Input::Received {
            peer: 1,
            bytes: pings.clone(),
        });
        r.input(Input::Received {
            peer: 2,
            bytes: pings.clone(),
        });
        // Peer 2's socket keeps up: the driver reports each write.
        let written = r.unconsumed_sends(2);
        r.out.retain(|o| !matches!(o, Output::Send { .. }));
        for bytes in written {
            r.input(Input::Sent { peer: 2, bytes });
        }
    }
    // Pongs are small replies, sent past the send buffer limit, up to the slack.
    assert!(matches!(
        r.disconnected(1),
        Some(DisconnectReason::SendQueueFull(n)) if *n > 2_000 + SEND_QUEUE_SLACK
            && *n < 2_000 + SEND_QUEUE_SLACK + 400_000
    ));
    assert_eq!(r.disconnected(2), None);
    assert_eq!(r.node.peers()[&2].send_queue, handshake);
}

#[test]
fn unsolicited_addresses_are_rate_limited_and_counted_not_scored() {
    let config = NodeConfig {
        connect_only: true,
        ..NodeConfig::default()
    };
    let mut r = Rig::new(config);
    r.ready_inbound(1, addr(1));
    let burst = public_addrs(50, 1);
    r.send(1, &Message::Addr(burst[..40].to_vec()));
    assert_eq!(r.node.addr_manager().len(), 1, "one token to start with");
    let p = &r.node.peers()[&1];
    assert_eq!((p.addr_rate.processed, p.addr_rate.dropped), (1, 39));
    assert_eq!(p.ban_score.value(T0.unix_secs()), 0);
    assert_eq!(r.disconnected(1), None);
    // 0.1 address a second: twenty seconds later, two more are taken.
    r.now += ms(20_000);
    r.send(1, &Message::Addr(burst[40..].to_vec()));
    assert_eq!(r.node.addr_manager().len(), 3);
}

#[test]
fn the_answer_to_our_getaddr_is_taken_whole() {
    let mut r = Rig::new(NodeConfig {
        connect_only: true,
        ..NodeConfig::default()
    });
    r.connect(1, addr(1), Direction::Outbound);
    r.send(1, &Message::Version(version(9, 70016, full())));
    r.send(1, &Message::Verack);
    assert!(r.sent(1).contains(&Message::GetAddr));
    r.send(1, &Message::Addr(public_addrs(200, 1)));
    assert_eq!(r.node.addr_manager().len(), 200);
}

#[test]
fn inbound_connections_leave_the_outbound_slots_free() {
    let config = NodeConfig {
        max_peers: 10,
        ..NodeConfig::default()
    };
    let mut r = Rig::new(config);
    // 10 peers, 8 of them kept for automatic outbound connections.
    r.connect(1, addr(1), Direction::Inbound);
    r.connect(2, addr(2), Direction::Inbound);
    r.connect(3, addr(3), Direction::Inbound);
    assert_eq!(r.disconnected(2), None);
    assert_eq!(r.disconnected(3), Some(&DisconnectReason::TooManyPeers));
    for peer in 4..12 {
        r.connect(peer, addr(peer as u8), Direction::Outbound);
    }
    assert!((4..12).all(|p| r.disconnected(p).is_none()));
    r.connect(12, addr(12), Direction::Outbound);
    assert_eq!(r.disconnected(12), Some(&DisconnectReason::TooManyPeers));
}

#[test]
fn a_peers_feefilter_is_recorded_when_in_the_money_range() {
    let mut r = Rig::new(NodeConfig::default());
    r.ready_inbound(1, addr(1));
    r.send(1, &Message::FeeFilter(5_000));
    assert_eq!(r.node.peers()[&1].fee_filter, 5_000);
    r.send(1, &Message::FeeFilter(-1));
    r.send(1, &Message::FeeFilter(i64::MAX));
    assert_eq!(
        r.node.peers()[&1].fee_filter,
        5_000,
        "out of range: ignored"
    );
}

#[test]
fn banthreshold_sets_the_score_that_bans() {
    let mut r = Rig::new(NodeConfig {
        ban_threshold: 40,
        ..NodeConfig::default()
    });
    r.ready_inbound(1, addr(1));
    let bytes = corrupt_frame(r.magic);
    r.input(Input::Received { peer: 1, bytes });
    assert!(!is_banned(&r, 1));
    let bytes = corrupt_frame(r.magic);
    r.input(Input::Received { peer: 1, bytes });
    assert!(is_banned(&r, 1), "two malformed frames reach 40");
}
