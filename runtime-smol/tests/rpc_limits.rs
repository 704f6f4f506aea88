//! The RPC server against hostile clients (issue 19's RPC and WebSocket rows): ambiguous
//! request framing, clients that never authenticate, send too much before they do, ping
//! instead of reading, or never read what they are sent. Each test checks the bound and that
//! normal service goes on.

mod common;

use async_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
use async_tungstenite::tungstenite::protocol::frame::Frame;
use async_tungstenite::tungstenite::Message;
use common::rpc::*;
use futures::StreamExt;
use rbtcd::rpc::{client, UNAUTHENTICATED_CLIENTS};
use rbtcd_core::rpc::auth::basic_auth;
use rbtcd_core::rpc::jsonrpc::MAX_BATCH;
use serde_json::json;
use std::io::{Read, Write};
use std::time::{Duration, Instant};

/// A request head with the admin's credentials, `extra` header lines and a 33-byte body.
fn framed(extra: &str) -> Vec<u8> {
    let body = br#"{"id":1,"method":"getblockcount"}"#;
    assert_eq!(body.len(), 33);
    let mut req = format!(
        "POST / HTTP/1.1\r\nHost: x\r\nAuthorization: {}\r\n{extra}\r\n",
        basic_auth(ADMIN.0, ADMIN.1)
    )
    .into_bytes();
    req.extend_from_slice(body);
    req
}

#[test]
fn ambiguous_request_framing_is_refused_with_400() {
    let d = Daemon::start("smuggle", &[]);
    // RFC 9112 sections 5 and 6.3: each of these is a 400 and the connection closed, never a
    // guess at the body's length.
    let cases = [
        "Content-Length: 33\r\nContent-Length: 34\r\n",
        "Content-Length: 33\r\nContent-Length: 33\r\n",
        "Content-Length: +33\r\n",
        "Content-Length: 33\r\nX-Folded: a\r\n b\r\n",
        "Content-Length : 33\r\n",
    ];
    for case in cases {
        let mut s = d.connect();
        s.write_all(&framed(case)).unwrap();
        let (status, _, _) = read_reply(&mut s);
        assert_eq!(status, 400, "{case:?}");
        assert!(is_closed(&mut s), "{case:?}");
    }
    // The same request framed plainly is served, on a connection that stays open.
    let mut s = d.connect();
    for _ in 0..2 {
        s.write_all(&framed("Content-Length: 33\r\n")).unwrap();
        let (status, _, body) = read_reply(&mut s);
        assert_eq!(status, 200);
        let reply: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(reply["result"], json!(0));
    }
}

#[test]
fn websockets_take_a_slot_only_once_authenticated() {
    let d = Daemon::start("wsslots", &["--rpcmaxwebsockets=1"]);
    // Three sockets without credentials hold no slot...
    let mut waiting: Vec<_> = (0..3).map(|_| websocket(&d, None).1.unwrap()).collect();
    // ...so a client with credentials in its upgrade request takes the only one.
    let (status, ws) = websocket(&d, Some(ADMIN));
    assert_eq!(status, 101);
    let mut ws = ws.unwrap();
    assert_eq!(
        ws_call(&mut ws, "getblockcount", json!([])).unwrap()["result"],
        json!(0)
    );
    // A second one is refused before the upgrade, and one that authenticates by message
    // while the slot is held is closed.
    assert_eq!(websocket(&d, Some(ADMIN)).0, 503);
    assert_eq!(
        ws_call(&mut waiting[0], "authenticate", json!([ADMIN.0, ADMIN.1])),
        None
    );
    // Once the holder leaves (the server notices the close a moment later), a socket that
    // authenticates takes the slot and is served.
    drop(ws);
    let start = Instant::now();
    loop {
        let (_, ws) = websocket(&d, None);
        let mut ws = ws.unwrap();
        if ws_call(&mut ws, "authenticate", json!([ADMIN.0, ADMIN.1])).is_some() {
            assert_eq!(
                ws_call(&mut ws, "getblockcount", json!([])).unwrap()["result"],
                json!(0)
            );
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "slot never freed"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    drop(waiting);
}

#[test]
fn unauthenticated_websockets_can_neither_buffer_nor_ping_their_way_past_the_deadline() {
    let d = Daemon::start("wsbudget", &[]);
    // A big message without credentials: the server reads at most 16 KiB of it and closes the
    // connection. Sends fail once the close arrives; until then the kernel takes what fits in
    // the client's send buffer (autotuned up to `tcp_wmem`'s maximum, 4 MiB here) and the
    // server's receive window, so 16 MB is offered: far more than any buffering can take.
    let (_, ws) = websocket(&d, None);
    let mut ws = ws.unwrap();
    const FRAMES: usize = 4_000;
    let closed = smol::block_on(smol::future::or(
        async {
            for sent in 0..FRAMES {
                let kind = if sent == 0 {
                    Data::Text
                } else {
                    Data::Continue
                };
                let frame = Frame::message(vec![b'x'; 4096], OpCode::Data(kind), false);
                if ws.send(Message::Frame(frame)).await.is_err() {
                    return sent;
                }
            }
            FRAMES
        },
        async {
            // A server that neither reads nor closes leaves the sends blocked.
            smol::Timer::after(common::PATIENCE).await;
            FRAMES
        },
    ));
    assert!(closed < FRAMES, "16 MB accepted without credentials");
    // A socket that pings every second but never authenticates gets its pongs, and is
    // closed by its deadline all the same.
    let (_, ws) = websocket(&d, None);
    let mut ws = ws.unwrap();
    let start = Instant::now();
    let pongs = smol::block_on(async {
        let mut pongs = 0;
        while start.elapsed() < Duration::from_secs(60) {
            if ws.send(Message::Ping(vec![1].into())).await.is_err() {
                break;
            }
            match ws.next().await {
                Some(Ok(Message::Pong(_))) => pongs += 1,
                _ => break,
            }
            smol::Timer::after(Duration::from_secs(1)).await;
        }
        pongs
    });
    let lasted = start.elapsed();
    assert!(pongs >= 3, "{pongs} pongs in {lasted:?}");
    assert!(lasted < Duration::from_secs(40), "pinged for {lasted:?}");
    // A flood of pings is not answered one by one: the socket is closed.
    let (_, ws) = websocket(&d, Some(ADMIN));
    let mut ws = ws.unwrap();
    let flooded = smol::block_on(async {
        for sent in 0..100_000 {
            if ws.send(Message::Ping(vec![1].into())).await.is_err() {
                return sent;
            }
        }
        100_000
    });
    assert!(flooded < 100_000, "100,000 pings accepted");
    assert_eq!(d.ok("getblockcount", json!([])), json!(0));
}

#[test]
fn a_websocket_client_that_does_not_read_is_dropped_and_frees_its_slot() {
    let d = Daemon::start("wsslow", &["--rpcmaxwebsockets=1"]);
    let (_, ws) = websocket(&d, Some(ADMIN));
    let mut ws = ws.unwrap();
    // Thousands of requests whose replies (the full command list) are never read: the
    // replies fill the socket's buffers and then the server's queue for the client.
    smol::block_on(async {
        for i in 0..20_000 {
            let req = json!({"jsonrpc": "1.0", "id": i, "method": "help", "params": []});
            if ws.send(Message::text(req.to_string())).await.is_err() {
                break;
            }
        }
    });
    // The slot comes free: another client is let in and served.
    let start = Instant::now();
    loop {
        let (status, other) = websocket(&d, Some(ADMIN));
        if status == 101 {
            let mut other = other.unwrap();
            assert_eq!(
                ws_call(&mut other, "getblockcount", json!([])).unwrap()["result"],
                json!(0)
            );
            break;
        }
        assert_eq!(status, 503);
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "slot still held by the client that does not read"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(d.ok("getblockcount", json!([])), json!(0));
}

#[test]
fn batches_are_capped_in_calls() {
    let d = Daemon::start("batch", &[]);
    let batch = |n: usize| -> Vec<u8> {
        let calls: Vec<_> = (0..n)
            .map(|i| json!({"jsonrpc": "2.0", "id": i, "method": "getblockcount"}))
            .collect();
        serde_json::to_vec(&calls).unwrap()
    };
    let (status, _, body) = d.post(Some(LIMITED), &batch(MAX_BATCH));
    assert_eq!(status, 200);
    let replies: Vec<serde_json::Value> = serde_json::from_slice(&body).unwrap();
    assert_eq!(replies.len(), MAX_BATCH);
    assert!(replies.iter().all(|r| r["result"] == json!(0)));
    // One call more and the whole batch is refused, saying why, in one reply.
    let (status, _, body) = d.post(Some(LIMITED), &batch(MAX_BATCH + 1));
    assert_eq!(status, 200);
    let replies: Vec<serde_json::Value> = serde_json::from_slice(&body).unwrap();
    assert_eq!(replies.len(), 1);
    assert_eq!(replies[0]["error"]["code"], json!(-32600));
    let message = replies[0]["error"]["message"].as_str().unwrap();
    assert!(message.contains(&MAX_BATCH.to_string()), "{message}");
    assert_eq!(d.ok("getblockcount", json!([])), json!(0));
}

#[test]
fn connections_that_never_authenticate_are_capped() {
    let d = Daemon::start("unauthcap", &[]);
    // One connection more than the cap: the server closes one of them without a byte (the
    // last it accepts; or an earlier one while the probe `start` made still counted).
    let mut held: Vec<_> = (0..=UNAUTHENTICATED_CLIENTS).map(|_| d.connect()).collect();
    let start = Instant::now();
    let closed = loop {
        let closed = held.iter_mut().position(|s| {
            s.set_nonblocking(true).unwrap();
            let mut b = [0u8; 1];
            let eof = matches!(s.read(&mut b), Ok(0));
            s.set_nonblocking(false).unwrap();
            eof
        });
        if let Some(i) = closed {
            break i;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "a connection past the cap stays open"
        );
        std::thread::sleep(Duration::from_millis(10));
    };
    assert!(closed > 0, "the first connection was closed");
    // The first connection is still open: the other was not closed by its own
    // authentication deadline (which comes after the first one's), but by the cap.
    let body = br#"{"jsonrpc":"1.0","id":1,"method":"getblockcount","params":[]}"#;
    send(&mut held[0], Some(ADMIN), body, true);
    let (status, _, reply) = read_reply(&mut held[0]);
    assert_eq!(status, 200);
    let reply: serde_json::Value = serde_json::from_slice(&reply).unwrap();
    assert_eq!(reply["result"], json!(0), "{reply}");
    // Once the silent connections are gone, service goes on.
    drop(held);
    let start = Instant::now();
    loop {
        let mut s = d.connect();
        let served = client::write_request(&mut s, "x", Some(ADMIN), body, true).is_ok()
            && client::read_reply(&mut s).is_ok_and(|r| r.status == 200);
        if served {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "no service after the silent connections closed"
        );
    }
}
