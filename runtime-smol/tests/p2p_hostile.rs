//! A hostile peer against the running daemon, for what the core's peer tests cannot see: the
//! sockets' own buffering. A peer sending faster than the node decodes must be held back by
//! TCP, not queued in the daemon.

mod common;

use common::foreign::{rss_kb, RssSampler};
use common::p2p;
use common::rpc::Daemon;
use rbtcd_core::wire::{Decoder, Message};
use serde_json::json;
use std::io::{Read, Write};
use std::time::Duration;

#[test]
fn four_megabyte_unknown_messages_cost_no_memory_and_the_peer_stays_served() {
    let d = Daemon::start("p2p-unknown-flood", &[]);
    let pid = d.child.id();
    let before = rss_kb(pid);
    let mut s = p2p::handshake(d.p2p.parse().unwrap(), 7).unwrap();
    let sampler = RssSampler::start(pid);
    // 400 MB of a command the daemon does not know, as fast as it takes them.
    let junk = p2p::frame("bigjunk", &vec![0xa5; 3_999_000], 3_999_000);
    for _ in 0..100 {
        s.write_all(&junk).unwrap();
    }
    let most = sampler.stop();
    // Bound: 64 MB over the daemon's resident memory before the flood (the flood was 400 MB).
    assert!(
        most < before + 64 * 1024,
        "RSS rose from {before} kB to {most} kB"
    );
    // The peer is still connected and answered; RPC clients are served.
    assert_eq!(d.ok("getblockcount", json!([])), json!(0));
    s.write_all(&p2p::message(&Message::Ping(99))).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let mut decoder = Decoder::new(p2p::magic());
    let mut buf = [0u8; 4096];
    loop {
        let n = s.read(&mut buf).unwrap();
        assert!(n > 0, "the daemon closed the connection");
        decoder.push(&buf[..n]);
        if std::iter::from_fn(|| decoder.pull()).any(|m| m == Ok(Message::Pong(99))) {
            break;
        }
    }
}

#[test]
fn a_peer_dropped_for_not_reading_has_its_connection_closed() {
    let d = Daemon::start("p2p-never-reads", &[]);
    let mut s = p2p::handshake(d.p2p.parse().unwrap(), 8).unwrap();
    s.set_write_timeout(Some(Duration::from_secs(60))).unwrap();
    // Pings whose pongs are never read: past its send queue's hard limit (about 6 MB of
    // pongs) the node drops the peer, and the daemon must close the socket even though its
    // writer is stuck on a peer that does not read. 200 MB of pings is far past that.
    let pings: Vec<u8> = (0..10_000)
        .flat_map(|n| p2p::message(&Message::Ping(n)))
        .collect();
    let mut written = 0;
    let refused = loop {
        if s.write_all(&pings).is_err() {
            break true;
        }
        written += pings.len();
        if written > 200_000_000 {
            break false;
        }
    };
    assert!(
        refused,
        "{written} bytes written to a dropped peer's connection"
    );
    // The daemon serves on.
    assert_eq!(d.ok("getblockcount", json!([])), json!(0));
}
