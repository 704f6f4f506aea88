//! The RPC load: request bodies the controller sends nodes over HTTP, and the WebSocket client
//! every node has, which authenticates and subscribes to blocks when the node starts. The
//! world checks that each request gets exactly one reply and that the client hears every
//! block the node connects or disconnects, once and in order.

use serde_json::{json, Value};

/// The WebSocket client each node has.
pub const WS_CLIENT: u64 = 1;
/// Its credentials (the admin user of every simulated node).
pub const CREDENTIALS: (&str, &str) = ("sim", "sim");
/// The id of its `notifyblocks` request.
pub const SUBSCRIBE_ID: &str = "subscribe";

/// The request body numbered `n` (any number: they repeat), with JSON-RPC id `id`: reads,
/// a batch with a notification and an unknown method, and an unparsable body.
pub fn body(n: u64, id: u64) -> Vec<u8> {
    let one = |method: &str, params: Value| json!({"jsonrpc": "1.0", "id": id, "method": method, "params": params});
    let text = match n % 6 {
        0 => one("getblockcount", json!([])).to_string(),
        1 => one("getbestblockhash", json!([])).to_string(),
        2 => one("getpeerinfo", json!([])).to_string(),
        3 => json!([
            one("getblockchaininfo", json!([])),
            {"method": "uptime"},
            one("nosuchmethod", json!([])),
        ])
        .to_string(),
        4 => one("getrawmempool", json!([true])).to_string(),
        _ => "{\"id\": 1, \"method\"".to_string(),
    };
    text.into_bytes()
}

/// The messages the WebSocket client opens with: `authenticate`, then `notifyblocks`.
pub fn ws_opening() -> [String; 2] {
    [
        json!({"id": "auth", "method": "authenticate", "params": [CREDENTIALS.0, CREDENTIALS.1]})
            .to_string(),
        json!({"id": SUBSCRIBE_ID, "method": "notifyblocks", "params": []}).to_string(),
    ]
}
