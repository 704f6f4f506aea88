//! The JSON-RPC case: one request body (single or batch), as the daemon's HTTP transport hands
//! it to the core: parsed into requests, each authorized for the admin or the limited user and
//! answered by the node (over the same 110-block store as the node case), each answer wrapped
//! in its reply envelope.
//!
//! Oracles: no panic; every request with an id and every malformed entry gets exactly one
//! reply, carrying the request's id; a reply serializes; the tip never has more work than the
//! best header. Calls that only take long by design (`generate` of more than a few blocks,
//! `stop`) are skipped: their cost is the caller's choice, not a hazard.

use crate::node_case::World;
use rbtcd_core::chain::MemStore;
use rbtcd_core::net::harness::START;
use rbtcd_core::node::{Node, NodeConfig};
use rbtcd_core::rpc::error::RpcError;
use rbtcd_core::rpc::handlers::NodeInfo;
use rbtcd_core::rpc::jsonrpc::{parse_body, response, Body, Request};
use rbtcd_core::rpc::methods::{authorize, Rights, Transport};
use serde_json::Value;

/// The regtest address `generate` pays to in the case.
const MINING_ADDR: &str = "mgA7SfyBBrVGVSpQ7oqGHPhxpp2gUZWtfc";

/// A node for RPC cases over `w`'s chain, with a mining address so `generate` works.
pub fn rpc_node(w: &World) -> Node<MemStore> {
    let addr = rbtcd_core::address::Address::from_str_for(MINING_ADDR, &w.params)
        .expect("a valid regtest address");
    let config = NodeConfig {
        mining_addrs: vec![addr],
        ..NodeConfig::default()
    };
    w.node(config, 1)
}

/// True for calls skipped because they are slow by design.
fn slow_by_design(r: &Request) -> bool {
    match r.method.as_str() {
        "generate" => r
            .params
            .first()
            .and_then(Value::as_u64)
            .is_none_or(|n| n > 3),
        "stop" => true,
        _ => false,
    }
}

fn answer(node: &mut Node<MemStore>, r: &Request, transport: Transport, rights: Rights) -> Value {
    let info = NodeInfo {
        version: (0, 1, 0),
        start_time: START / 1000,
        proxy: String::new(),
        log_subsystems: vec!["PEER", "RPCS"],
    };
    let outcome: Result<Value, RpcError> = authorize(&r.method, transport, rights)
        .and_then(|m| node.rpc(START, m, &r.params, &info).map(|h| h.result));
    response(r.version, r.id.clone(), outcome)
}

/// Checks one reply against the request it answers.
fn check_reply(reply: &Value, id: &Value) {
    assert_eq!(reply.get("id"), Some(id), "reply {reply} lost the id");
    serde_json::to_vec(reply).expect("a reply serializes");
}

/// Runs one request body through parsing, authorization and the node; panics on a broken
/// oracle. `control` picks the transport and the user.
pub fn run_body(node: &mut Node<MemStore>, control: u8, body: &[u8]) {
    let transport = match control & 1 {
        0 => Transport::Http,
        _ => Transport::WebSocket,
    };
    let rights = match control & 2 {
        0 => Rights::Admin,
        _ => Rights::Limited,
    };
    let requests = match parse_body(body) {
        Body::Single(Ok(r)) => vec![Ok(r)],
        Body::Single(Err(e)) => vec![Err((None, e))],
        Body::Batch(entries) => entries,
    };
    for entry in requests {
        match entry {
            Ok(r) if slow_by_design(&r) => {}
            Ok(r) => {
                let reply = answer(node, &r, transport, rights);
                check_reply(&reply, r.id.as_ref().unwrap_or(&Value::Null));
            }
            Err((id, e)) => {
                let reply = response(rbtcd_core::rpc::jsonrpc::Version::V1, id.clone(), Err(e));
                check_reply(&reply, id.as_ref().unwrap_or(&Value::Null));
            }
        }
    }
    let index = node.chain().index();
    assert!(
        node.chain().tip().chain_work <= index.best_header().chain_work,
        "tip has more work than the best header"
    );
}
