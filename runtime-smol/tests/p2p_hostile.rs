//! A hostile peer against the running daemon, for what the core's peer tests cannot see: the
//! sockets' own buffering. A peer sending faster than the node decodes must be held back by
//! TCP, not queued in the daemon.

mod common;

use common::foreign::rss_kb;
use common::p2p;
use common::rpc::Daemon;
use rbtcd_core::wire::{Decoder, Message};
use serde_json::json;
use std::io::{Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

#[test]
fn four_megabyte_unknown_messages_cost_no_memory_and_the_peer_stays_served() {
    let d = Daemon::start("p2p-unknown-flood", &[]);
    let pid = d.child.id();
    let before = rss_kb(pid);
    let mut s = p2p::handshake(d.p2p.parse().unwrap(), 7).unwrap();
    let done = Arc::new(AtomicBool::new(false));
    let sampler = {
        let done = Arc::clone(&done);
        std::thread::spawn(move || {
            let mut most = 0;
            while !done.load(Ordering::Relaxed) {
                most = rss_kb(pid).max(most);
                std::thread::sleep(Duration::from_millis(10));
            }
            most
        })
    };
    // 400 MB of a command the daemon does not know, as fast as it takes them.
    let junk = p2p::frame("bigjunk", &vec![0xa5; 3_999_000], 3_999_000);
    for _ in 0..100 {
        s.write_all(&junk).unwrap();
    }
    done.store(true, Ordering::Relaxed);
    let most = sampler.join().unwrap();
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
