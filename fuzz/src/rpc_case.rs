//! The JSON-RPC case: one request body (single or batch) entering the node as a transport hands
//! it over: an HTTP body ([`Input::Rpc`]) or a text from a WebSocket client that connected
//! with credentials ([`Input::WsOpened`], then [`Input::WsMessage`]), for the admin or the
//! limited user, answered by a node over the same 110-block store as the node case and ticked
//! until its parked calls finish.
//!
//! Oracles: the node case's ([`Observer`]: no panic, every HTTP request answered once with
//! JSON, texts only to open clients, parked calls done within a few ticks, the tip never ahead
//! of the best header), and the reply holds one entry per request with an id and per malformed
//! entry, carrying their ids in order. Calls that only take long by design (`generate` of more
//! than a few blocks) are skipped: their cost is the caller's choice, not a hazard.

use crate::node_case::{pay_to, rpc_settings, Observer, World};
use rbtcd_core::chain::MemStore;
use rbtcd_core::harness::START;
use rbtcd_core::node::{Input, Node, NodeConfig, Output};
use rbtcd_core::rpc::jsonrpc::{parse_body, Body, Request};
use rbtcd_core::rpc::Rights;
use serde_json::Value;

/// A node for RPC cases over `w`'s chain, with a mining address so `generate` works.
pub fn rpc_node(w: &World) -> Node<MemStore> {
    let config = NodeConfig {
        mining_addrs: vec![pay_to(&w.params)],
        rpc: rpc_settings(),
        ..NodeConfig::default()
    };
    w.node(config, 1)
}

/// True for calls skipped because they are slow by design.
fn slow_by_design(r: &Request) -> bool {
    r.method == "generate"
        && r.params
            .first()
            .and_then(Value::as_f64)
            .is_some_and(|n| n > 3.0)
}

/// The ids the reply to `body` must carry, in order; `None` when the body holds a call that is
/// slow by design.
fn expected_ids(body: &[u8]) -> Option<Vec<Value>> {
    let entries = match parse_body(body) {
        Body::Single(Ok(r)) => vec![Ok(r)],
        Body::Single(Err(_)) => vec![Err(None)],
        Body::Batch(entries) => entries
            .into_iter()
            .map(|e| e.map_err(|(id, _)| id))
            .collect(),
    };
    let mut ids = Vec::new();
    for entry in entries {
        match entry {
            Ok(r) if slow_by_design(&r) => return None,
            Ok(r) => ids.extend(r.id),
            Err(id) => ids.push(id.unwrap_or(Value::Null)),
        }
    }
    Some(ids)
}

/// The ids a reply body carries (one object, or an array of them); an error if it is not
/// replies.
fn reply_ids(reply: &Value) -> Result<Vec<Value>, String> {
    let entries = match reply {
        Value::Array(entries) => entries.as_slice(),
        one => std::slice::from_ref(one),
    };
    entries
        .iter()
        .map(|e| e.get("id").cloned().ok_or(format!("reply {e} has no id")))
        .collect()
}

/// Feeds one request body to `node` and checks the answer; the invariant broken, if any.
/// `control` picks the transport (bit 0: WebSocket) and the user (bit 1: limited).
pub fn run_body(node: &mut Node<MemStore>, control: u8, body: &[u8]) -> Result<(), String> {
    let rights = match control & 2 {
        0 => Rights::Admin,
        _ => Rights::Limited,
    };
    let websocket = control & 1 == 1;
    // A WebSocket message is text: what the client sends is what the node parses.
    let text = String::from_utf8_lossy(body).into_owned();
    let body = match websocket {
        true => text.as_bytes(),
        false => body,
    };
    let Some(expected) = expected_ids(body) else {
        return Ok(());
    };
    let mut seen = Observer::new(node.chain().params().magic);
    let input = match websocket {
        true => {
            let client = seen.open();
            seen.feed(
                node,
                START,
                Input::WsOpened {
                    client,
                    rights: Some(rights),
                },
            )?;
            Input::WsMessage { client, text }
        }
        false => Input::Rpc {
            id: seen.ask(),
            rights,
            body: body.to_vec(),
        },
    };
    seen.feed(node, START, input)?;
    // Parked calls go on at each tick.
    seen.feed(node, START, Input::Tick)?;
    let replies: Vec<&str> = seen
        .outputs
        .iter()
        .filter_map(|o| match o {
            Output::RpcReply { body, .. } => Some(body.as_str()),
            Output::Ws { text, .. } => Some(text.as_str()),
            _ => None,
        })
        .collect();
    let mut got = Vec::new();
    for reply in replies.iter().filter(|r| !r.is_empty()) {
        let reply: Value =
            serde_json::from_str(reply).map_err(|e| format!("reply {reply} is not JSON: {e}"))?;
        // WebSocket notifications (a `method`, no reply) may come before the reply.
        if reply.get("method").is_none() {
            got.extend(reply_ids(&reply)?);
        }
    }
    if !websocket && replies.len() != 1 {
        return Err(format!("{} HTTP replies to one request", replies.len()));
    }
    if got != expected {
        return Err(format!(
            "replies carry ids {got:?}, the requests {expected:?}"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node_case::world;

    /// The rpc_json fuzz target's first find: an 83-digit integer id came back as a float that
    /// read as another number (serde_json's default float parsing does not round-trip).
    #[test]
    fn a_huge_numeric_id_comes_back_as_the_same_number() {
        let body = br#"[{"id":0,"jsonrpc":"2.0","method":"getblockcount","params":[]},{"id":22222222222222222222222222222222222222222222222222222222222222222222222222222222221,"jsonrpc":"2.0","method":"getbestblock","params":[]}]"#;
        let mut node = rpc_node(&world());
        assert_eq!(run_body(&mut node, 1, body), Ok(()));
    }
}
