//! Calls side by side (issue 16): the node answers the cheap part of a `getblock` (finding the
//! block, reading its bytes) and leaves decoding and formatting it to a pool of
//! `rpcmaxconcurrentreqs` workers beside it, so a `getblockcount` sent behind 50 `getblock`s of
//! big blocks is answered before most of them, and every call is answered even with one worker.
//! Only the order replies arrive in is checked, never a clock.

mod common;

use common::rpc::*;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// Outputs of each big block's coinbase: a block of about 125 kB whose verbosity-2 JSON (an
/// address, disassembly and hex per output) takes some 40 times longer to render than to find.
const OUTPUTS: usize = 4_000;
/// Concurrent `getblock` calls.
const CALLS: usize = 50;

/// A call's body.
fn body(method: &str, params: Value) -> Vec<u8> {
    json!({"jsonrpc": "1.0", "id": 1, "method": method, "params": params})
        .to_string()
        .into_bytes()
}

/// Sends [`CALLS`] `getblock` calls of `hashes` at verbosity 2 on connections of their own,
/// then a `getblockcount` once all are written; reads every reply side by side. The replies
/// to the `getblock`s in arrival order, and how many of them arrived before the count's.
fn race(d: &Daemon, hashes: &[String]) -> (Vec<Value>, usize) {
    let mut calls = Vec::new();
    for i in 0..CALLS {
        let mut s = d.connect();
        let hash = &hashes[i % hashes.len()];
        send(
            &mut s,
            Some(ADMIN),
            &body("getblock", json!([hash, 2])),
            false,
        );
        calls.push(s);
    }
    let mut count = d.connect();
    send(
        &mut count,
        Some(ADMIN),
        &body("getblockcount", json!([])),
        false,
    );
    let arrived = Arc::new(AtomicUsize::new(0));
    let read = |mut s: std::net::TcpStream, arrived: Arc<AtomicUsize>| {
        std::thread::spawn(move || {
            let (status, _, reply) = read_reply(&mut s);
            let rank = arrived.fetch_add(1, Ordering::SeqCst);
            assert_eq!(status, 200);
            let reply: Value = serde_json::from_slice(&reply).unwrap();
            (rank, reply)
        })
    };
    let count = read(count, arrived.clone());
    let blocks: Vec<_> = calls
        .into_iter()
        .map(|s| read(s, arrived.clone()))
        .collect();
    let (count_rank, count) = count.join().unwrap();
    assert_eq!(count["result"], json!(2), "{count}");
    let mut replies: Vec<(usize, Value)> = blocks.into_iter().map(|t| t.join().unwrap()).collect();
    replies.sort_by_key(|(rank, _)| *rank);
    let replies: Vec<Value> = replies.into_iter().map(|(_, r)| r).collect();
    (replies, count_rank)
}

/// Every reply is its block, whole.
fn check_blocks(replies: &[Value], hashes: &[String]) {
    assert_eq!(replies.len(), CALLS);
    for reply in replies {
        assert!(reply["error"].is_null(), "{}", reply["error"]);
        let block = &reply["result"];
        assert!(hashes.contains(&block["hash"].as_str().unwrap().to_string()));
        let coinbase = &block["rawtx"][0];
        assert_eq!(coinbase["vout"].as_array().unwrap().len(), OUTPUTS + 1);
        assert_eq!(
            coinbase["vout"][OUTPUTS]["scriptPubKey"]["type"],
            json!("witness_v0_keyhash")
        );
    }
}

#[test]
fn a_getblockcount_is_not_held_behind_fifty_big_getblocks() {
    let (d, hashes) = Daemon::with_big_blocks("side-by-side", OUTPUTS, &["--rpcmaxclients=64"]);
    let (replies, before) = race(&d, &hashes);
    check_blocks(&replies, &hashes);
    // Rendered on the node's thread, every getblock would come first (50 before it).
    assert!(
        before < CALLS / 2,
        "{before} of {CALLS} getblock replies came before the getblockcount's"
    );
}

#[test]
fn one_render_worker_still_answers_every_call() {
    let (d, hashes) = Daemon::with_big_blocks(
        "one-worker",
        OUTPUTS,
        &["--rpcmaxclients=64", "--rpcmaxconcurrentreqs=1"],
    );
    let (replies, before) = race(&d, &hashes);
    check_blocks(&replies, &hashes);
    assert!(
        before < CALLS / 2,
        "{before} of {CALLS} getblock replies came before the getblockcount's"
    );
}
