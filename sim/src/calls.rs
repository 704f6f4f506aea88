//! The RPC clients of the simulation, driving nodes through the inputs the daemon's HTTP and
//! WebSocket servers use: the controller's HTTP JSON-RPC requests (reads, writes and calls
//! that run long), and the WebSocket client each node has from every start, which
//! authenticates with btcd's `authenticate`, subscribes to blocks and transactions and now and
//! then asks for a rescan. [`RpcWatch`] holds what the invariants need: requests not answered
//! yet and what the client subscribed to.

use rbtcd_core::primitives::encode::Encodable;
use rbtcd_core::primitives::hash::hex_encode;
use rbtcd_core::primitives::{BlockHash, Transaction, Txid};
use rbtcd_core::rng::Rng;
use rbtcd_core::rpc::ws::ClientId;
use rbtcd_core::rpc::RequestId;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;

/// The WebSocket client each node has (one per start: a restarted node is a new process).
pub const WS_CLIENT: ClientId = 1;
/// The admin credentials of every simulated node.
pub const CREDENTIALS: (&str, &str) = ("sim", "sim");
/// Mean time between the controller's RPC requests to a random running honest node, ms.
pub const RPC_INTERVAL_MS: u64 = 20_000;

/// What the chosen node looks like when the controller writes a request for it.
pub struct Target {
    /// Its tip.
    pub tip: BlockHash,
    /// Its main-chain block 20 below the tip, where a rescan starts.
    pub below: BlockHash,
    /// Its main-chain block under the tip, where a rescan ends (one ending at the tip would
    /// leave the address watched for good).
    pub under_tip: BlockHash,
    /// Another honest node's address.
    pub other: SocketAddr,
    /// The simulated coins' address on this network.
    pub address: String,
}

/// One request the controller sends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Call {
    /// An HTTP body: reads (single, a batch with a notification and an unknown method, an
    /// unparsable body) and writes (`generate 1`, which runs long; `addnode onetry`; `ping`).
    Http(Vec<u8>),
    /// An HTTP body holding `invalidateblock` of the tip with `reconsiderblock` after it.
    Invalidate(Vec<u8>),
    /// A text for the node's WebSocket client: a `rescan` over the last blocks (long), or a
    /// `session`.
    Ws(String),
}

/// A call drawn from `rng` for `target`, with JSON-RPC id `id`.
pub fn draw(rng: &mut Rng, id: RequestId, target: &Target) -> Call {
    let one = |method: &str, params: Value| json!({"jsonrpc": "1.0", "id": id, "method": method, "params": params});
    let http = |v: Value| Call::Http(v.to_string().into_bytes());
    let (tip, below, end) = (
        target.tip.to_string(),
        target.below.to_string(),
        target.under_tip.to_string(),
    );
    // Weights: mostly reads; a block generated about every 40 calls, so the planned block
    // rate is barely changed.
    match rng.below(40) {
        0..=5 => http(one("getblockcount", json!([]))),
        6..=8 => http(one("getbestblockhash", json!([]))),
        9..=10 => http(one("getpeerinfo", json!([]))),
        11..=13 => http(json!([
            one("getblockchaininfo", json!([])),
            {"method": "uptime"},
            one("nosuchmethod", json!([])),
        ])),
        14..=16 => http(one("getrawmempool", json!([true]))),
        17..=18 => http(one("getblock", json!([tip]))),
        19..=20 => http(one("getchaintips", json!([]))),
        21..=22 => http(one("getmininginfo", json!([]))),
        23 => Call::Http(b"{\"id\": 1, \"method\"".to_vec()),
        24..=25 => http(one("ping", json!([]))),
        26 => http(one("addnode", json!([target.other.to_string(), "onetry"]))),
        27 => Call::Invalidate(
            json!([
                one("invalidateblock", json!([tip])),
                one("reconsiderblock", json!([tip])),
            ])
            .to_string()
            .into_bytes(),
        ),
        28 => http(one("generate", json!([1]))),
        29..=30 => http(one("getblocktemplate", json!([]))),
        31..=33 => Call::Ws(
            json!({"id": id, "method": "rescan", "params": [below, [target.address], [], end]})
                .to_string(),
        ),
        34..=35 => Call::Ws(json!({"id": id, "method": "session", "params": []}).to_string()),
        _ => http(one("getinfo", json!([]))),
    }
}

/// The body of `reconsiderblock` for `hash`, with id `id`.
pub fn reconsider(hash: BlockHash, id: RequestId) -> Vec<u8> {
    json!({"jsonrpc": "1.0", "id": id, "method": "reconsiderblock", "params": [hash.to_string()]})
        .to_string()
        .into_bytes()
}

/// Whether the reply to a [`Call::Invalidate`] pair says its `reconsiderblock` succeeded (a
/// store failure in between fails it, leaving the block invalid).
pub fn reconsidered(reply: &str) -> bool {
    serde_json::from_str::<Value>(reply).is_ok_and(|r| r[1]["error"].is_null() && !r[1].is_null())
}

/// The body of `sendrawtransaction` for `tx`, with id `id` (how the workload submits half its
/// transactions).
pub fn send_raw(tx: &Transaction, id: RequestId) -> Vec<u8> {
    json!({"jsonrpc": "1.0", "id": id, "method": "sendrawtransaction",
           "params": [hex_encode(&tx.encode())]})
    .to_string()
    .into_bytes()
}

/// The texts the WebSocket client opens with (it connects without credentials): btcd's
/// `authenticate`, then `notifyblocks` and `notifynewtransactions`, with ids 0, 1 and 2.
pub fn ws_opening() -> [String; 3] {
    [
        json!({"id": 0, "method": "authenticate", "params": [CREDENTIALS.0, CREDENTIALS.1]})
            .to_string(),
        json!({"id": 1, "method": "notifyblocks", "params": []}).to_string(),
        json!({"id": 2, "method": "notifynewtransactions", "params": []}).to_string(),
    ]
}

/// Ids of [`ws_opening`]'s subscriptions: blocks, then transactions.
const SUBSCRIBE_BLOCKS: u64 = 1;
const SUBSCRIBE_TXS: u64 = 2;

/// What a WebSocket message was.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WsHeard {
    /// `blockconnected HASH` or `blockdisconnected HASH`.
    Block(String),
    /// `txaccepted TXID`.
    Tx(String),
    /// The reply to request `id`.
    Reply(u64),
    /// Another notification (`filteredblock*`, `rescanprogress`, `recvtx`...).
    Other,
}

/// Reads a WebSocket text the node sent.
pub fn hear(text: &str) -> Result<WsHeard, String> {
    let message: Value = serde_json::from_str(text).map_err(|e| format!("not JSON ({e})"))?;
    let first = message["params"][0].as_str().unwrap_or_default();
    Ok(match message["method"].as_str() {
        Some(m @ ("blockconnected" | "blockdisconnected")) => {
            WsHeard::Block(format!("{m} {first}"))
        }
        Some("txaccepted") => WsHeard::Tx(first.to_string()),
        Some(_) => WsHeard::Other,
        None => WsHeard::Reply(
            message["id"]
                .as_u64()
                .ok_or_else(|| format!("a reply without a numeric id: {text}"))?,
        ),
    })
}

/// What the RPC invariants follow for one node during one run of its process.
#[derive(Clone, Debug, Default)]
pub struct RpcWatch {
    /// HTTP requests sent and not answered.
    pub outstanding: BTreeSet<RequestId>,
    /// WebSocket requests (with ids) sent and not answered.
    pub ws_outstanding: BTreeSet<u64>,
    /// Workload transactions submitted by `sendrawtransaction`, by request.
    pub sends: BTreeMap<RequestId, Txid>,
    /// The client's `notifyblocks` succeeded.
    pub blocks: bool,
    /// The client's `notifynewtransactions` succeeded.
    pub txs: bool,
    /// The client is connected (from the node's start until it is closed).
    pub connected: bool,
}

impl RpcWatch {
    /// Records the reply to the client's request `id`; false when none was outstanding.
    pub fn ws_replied(&mut self, id: u64, ok: bool) -> bool {
        match id {
            SUBSCRIBE_BLOCKS => self.blocks = ok,
            SUBSCRIBE_TXS => self.txs = ok,
            _ => {}
        }
        self.ws_outstanding.remove(&id)
    }
}

/// True when a reply text carries no error.
pub fn reply_ok(text: &str) -> bool {
    serde_json::from_str::<Value>(text).is_ok_and(|v| v["error"].is_null())
}

/// The error message of a single request's reply body, if it failed.
pub fn reply_error(body: &str) -> Option<String> {
    let v: Value = serde_json::from_str(body).ok()?;
    v["error"]["message"].as_str().map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hears_notifications_replies_and_junk_apart() {
        let block = r#"{"jsonrpc":"1.0","method":"blockconnected","params":["00ab",5,0]}"#;
        assert_eq!(
            hear(block),
            Ok(WsHeard::Block("blockconnected 00ab".into()))
        );
        let tx = r#"{"jsonrpc":"1.0","method":"txaccepted","params":["11cd",0.5]}"#;
        assert_eq!(hear(tx), Ok(WsHeard::Tx("11cd".into())));
        let reply = r#"{"result":null,"error":null,"id":7}"#;
        assert_eq!(hear(reply), Ok(WsHeard::Reply(7)));
        assert!(reply_ok(reply));
        let failed = r#"{"result":null,"error":{"code":-8,"message":"bad"},"id":7}"#;
        assert!(!reply_ok(failed));
        assert_eq!(reply_error(failed).as_deref(), Some("bad"));
        assert!(hear(r#"{"result":1,"id":"x"}"#).is_err());
        assert!(hear("not json").is_err());
    }

    #[test]
    fn a_pair_counts_as_reconsidered_only_when_its_reconsiderblock_succeeded() {
        assert!(reconsidered(
            r#"[{"result":null,"error":null,"id":1},{"result":null,"error":null,"id":1}]"#
        ));
        let failed = r#"[{"result":null,"error":null,"id":1},{"result":null,"error":{"code":-1,"message":"store"},"id":1}]"#;
        assert!(!reconsidered(failed));
        assert!(!reconsidered(r#"[{"result":null,"error":null,"id":1}]"#));
        assert!(!reconsidered("not json"));
    }

    #[test]
    fn every_request_kind_is_drawn() {
        let hash = BlockHash::sha256d(b"tip");
        let target = Target {
            tip: hash,
            below: hash,
            under_tip: hash,
            other: "10.0.0.1:18444".parse().unwrap(),
            address: "bcrt1qexample".into(),
        };
        let mut rng = Rng::new(3);
        let mut methods = BTreeSet::new();
        for id in 0..2_000 {
            let text = match draw(&mut rng, id, &target) {
                Call::Http(body) | Call::Invalidate(body) => String::from_utf8(body).unwrap(),
                Call::Ws(text) => text,
            };
            match serde_json::from_str::<Value>(&text) {
                Ok(Value::Array(batch)) => methods.extend(
                    batch
                        .iter()
                        .filter_map(|m| m["method"].as_str().map(String::from)),
                ),
                Ok(one) => methods.extend(one["method"].as_str().map(String::from)),
                Err(_) => {
                    methods.insert("(unparsable)".into());
                }
            }
        }
        for m in [
            "generate",
            "rescan",
            "invalidateblock",
            "addnode",
            "(unparsable)",
            "uptime",
        ] {
            assert!(methods.contains(m), "{m} never drawn: {methods:?}");
        }
    }
}
