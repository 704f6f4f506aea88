//! RPC through the node's one way in: HTTP bodies (`Input::Rpc`, single, batch, notification
//! only) answered by exactly one `Output::RpcReply` even when a call is worked on over several
//! ticks; `stop` and `debuglevel` as outputs; WebSocket sessions (`Input::WsOpened`,
//! `WsMessage`, `WsClosed`) with btcd's `authenticate` handshake and its deadline, block
//! notifications in event order, and a `rescan` worked on between other requests.

use rbtcd_core::address::{Address, Payload, WitnessProgram};
use rbtcd_core::chain::builder::BlockBuilder;
use rbtcd_core::chain::MemStore;
use rbtcd_core::harness::rpc_result;
use rbtcd_core::node::{Input, Node, NodeConfig, Output, RpcSettings};
use rbtcd_core::params::{Network, Params};
use rbtcd_core::primitives::hash::sha256;
use rbtcd_core::primitives::{Block, OutPoint};
use rbtcd_core::rpc::auth::Credentials;
use rbtcd_core::rpc::error::code;
use rbtcd_core::rpc::ws::hub::MAX_WATCHED;
use rbtcd_core::rpc::ws::ClientId;
use rbtcd_core::rpc::Rights;
use rbtcd_core::script::opcodes::OP_1;
use rbtcd_core::time::Time;
use serde_json::{json, Value};
use std::time::Duration;

const NOW_MS: Time = Time::from_millis(2_000_000_000_000);
const ADMIN: (&str, &str) = ("u", "p");

/// A regtest node with a mining address and credentials, and everything it output.
struct Rig {
    node: Node<MemStore>,
    now: Time,
    out: Vec<Output>,
}

fn watched() -> Address {
    let program = WitnessProgram::new(0, sha256(&[OP_1]).to_vec()).unwrap();
    Address::new(Payload::Witness(program), &Params::new(Network::Regtest))
}

impl Rig {
    fn new() -> Rig {
        Rig::rendering(false)
    }

    /// A rig whose driver renders expensive replies itself when `by_driver`.
    fn rendering(by_driver: bool) -> Rig {
        let admin = (ADMIN.0.to_string(), ADMIN.1.to_string());
        let config = NodeConfig {
            mining_addrs: vec![watched()],
            rpc: RpcSettings {
                credentials: Credentials::new(Some(&admin), None),
                render_by_driver: by_driver,
                ..RpcSettings::default()
            },
            ..NodeConfig::default()
        };
        let params = Params::new(Network::Regtest);
        Rig {
            node: Node::new(params, config, MemStore::new(), 3, NOW_MS).unwrap(),
            now: NOW_MS,
            out: Vec::new(),
        }
    }

    fn input(&mut self, input: Input) {
        self.node.handle(self.now, input);
        while let Some(o) = self.node.poll_output() {
            self.out.push(o);
        }
    }

    /// Ticks while the node has something due now (parked calls).
    fn settle(&mut self) {
        while self.node.poll_timeout().is_some_and(|t| t <= self.now) {
            self.input(Input::Tick);
        }
    }

    /// The outputs since the last look.
    fn take(&mut self) -> Vec<Output> {
        std::mem::take(&mut self.out)
    }

    fn http(&mut self, id: u64, body: Value) {
        let body = body.to_string().into_bytes();
        self.input(Input::Rpc {
            id,
            rights: Rights::Admin,
            body,
        });
    }

    fn ws(&mut self, client: ClientId, message: Value) {
        let text = message.to_string();
        self.input(Input::WsMessage { client, text });
    }

    /// Mines a block paying [`watched`] on the tip and submits it.
    fn mine(&mut self) -> Block {
        let tip = self.node.chain().tip();
        let mut b = BlockBuilder::new(
            self.node.chain().params(),
            tip.hash,
            tip.height + 1,
            tip.header.time,
        );
        b.coinbase.outputs[0].script_pubkey = watched().script_pubkey();
        let block = b.build();
        self.input(Input::SubmitBlock(block.clone()));
        block
    }
}

/// The HTTP replies among `out`, by request id.
fn replies(out: &[Output]) -> Vec<(u64, String)> {
    out.iter()
        .filter_map(|o| match o {
            Output::RpcReply { id, body } => Some((*id, body.clone())),
            _ => None,
        })
        .collect()
}

/// The texts `out` sends to `client`, parsed.
fn texts(out: &[Output], client: ClientId) -> Vec<Value> {
    out.iter()
        .filter_map(|o| match o {
            Output::Ws { client: c, text } if *c == client => {
                Some(serde_json::from_str(text).unwrap())
            }
            _ => None,
        })
        .collect()
}

#[test]
fn a_batch_waits_for_its_parked_generate_and_is_answered_once_in_order() {
    let mut r = Rig::new();
    r.http(
        1,
        json!([
            {"id": "a", "method": "getblockcount"},
            {"method": "uptime"},
            {"id": "b", "method": "generate", "params": [2]},
            {"id": "c", "method": "getblockcount"},
            7,
        ]),
    );
    assert!(replies(&r.take()).is_empty(), "generate works over ticks");
    assert!(r.node.poll_timeout() <= Some(r.now), "and is due at once");
    r.settle();
    let out = r.take();
    let got = replies(&out);
    let [(1, body)] = got.as_slice() else {
        panic!("one reply to request 1: {out:?}")
    };
    let body: Value = serde_json::from_str(body).unwrap();
    let batch = body.as_array().unwrap();
    assert_eq!(batch.len(), 4, "no reply for the notification: {body}");
    assert_eq!(batch[0]["result"], json!(0));
    let hashes = batch[1]["result"].as_array().unwrap();
    assert_eq!(hashes.len(), 2);
    assert_eq!(hashes[1], json!(r.node.chain().tip().hash.to_string()));
    assert_eq!(
        batch[2]["result"],
        json!(2),
        "later requests run after the parked one, as btcd runs a batch"
    );
    assert_eq!(batch[3]["error"]["code"], json!(code::INVALID_REQUEST));
    assert!(
        r.node.poll_timeout().is_none_or(|t| t > r.now),
        "nothing left due"
    );
}

#[test]
fn a_driver_renders_getblock_replies_to_what_the_node_would_answer() {
    let mut inline = Rig::rendering(false);
    let mut driver = Rig::rendering(true);
    for r in [&mut inline, &mut driver] {
        r.mine();
        r.mine();
    }
    let hash = driver.node.chain().tip().hash.to_string();
    let batch = json!([
        {"id": 1, "method": "getblock", "params": [hash, 2]},
        {"method": "getblock", "params": [hash, 0]},
        {"id": 2, "method": "getblockcount"},
        {"id": 3, "jsonrpc": "2.0", "method": "getblock", "params": [hash, 0]},
    ]);
    for r in [&mut inline, &mut driver] {
        r.http(1, batch.clone());
        r.http(2, json!({"id": 4, "method": "getblockcount"}));
    }
    let inline_out = inline.take();
    let got = replies(&inline_out);
    let [(1, want), (2, count)] = got.as_slice() else {
        panic!("both answered inline: {inline_out:?}")
    };
    let out = driver.take();
    let jobs: Vec<_> = out
        .iter()
        .filter_map(|o| match o {
            Output::RpcRender { id, job } => Some((*id, job.clone())),
            _ => None,
        })
        .collect();
    let [(1, job)] = jobs.as_slice() else {
        panic!("the batch left to the driver: {out:?}")
    };
    assert!(
        job.batch && job.parts.len() == 3,
        "no part for the notification"
    );
    assert_eq!(
        replies(&out),
        [(2, count.clone())],
        "a cheap call is answered by the node"
    );
    assert_eq!(
        &job.clone().finish(),
        want,
        "rendered beside the node or inline alike"
    );
    let body: Value = serde_json::from_str(want).unwrap();
    assert_eq!(body[0]["result"]["height"], json!(2));
    assert_eq!(body[0]["result"]["rawtx"].as_array().unwrap().len(), 1);
    assert_eq!(body[1]["result"], json!(2));
    assert_eq!(body[2]["jsonrpc"], json!("2.0"));

    driver.http(
        3,
        json!([{"id": 1, "method": "getblock", "params": [hash]}, {"id": 2, "method": "stop"}]),
    );
    let out = driver.take();
    let got = replies(&out);
    assert_eq!(
        got.len(),
        1,
        "a reply before a shutdown is rendered at once: {out:?}"
    );
    let body: Value = serde_json::from_str(&got[0].1).unwrap();
    assert_eq!(body[0]["result"]["hash"], json!(hash));
}

#[test]
fn notifications_alone_get_an_empty_reply_and_junk_a_parse_error() {
    let mut r = Rig::new();
    r.http(1, json!({"method": "getblockcount"}));
    r.input(Input::Rpc {
        id: 2,
        rights: Rights::Admin,
        body: b"{nope".to_vec(),
    });
    let out = r.take();
    let got = replies(&out);
    assert_eq!(got[0], (1, String::new()));
    assert_eq!(got[1].0, 2);
    assert_eq!(rpc_result(&got[1].1).unwrap_err().code, code::PARSE);
    assert_eq!(got.len(), 2);
}

#[test]
fn stop_replies_before_shutting_down_and_debuglevel_is_an_output() {
    let mut r = Rig::new();
    r.http(1, json!({"id": 1, "method": "stop"}));
    let out = r.take();
    let at = |want: fn(&Output) -> bool| out.iter().position(want).unwrap();
    assert!(at(|o| matches!(o, Output::RpcReply { .. })) < at(|o| *o == Output::Shutdown));
    r.input(Input::Rpc {
        id: 2,
        rights: Rights::Limited,
        body: json!({"id": 2, "method": "stop"}).to_string().into_bytes(),
    });
    let out = r.take();
    assert!(
        !out.contains(&Output::Shutdown),
        "a limited user cannot stop"
    );
    assert_eq!(
        rpc_result(&replies(&out)[0].1).unwrap_err().code,
        code::INTERNAL
    );
}

#[test]
fn websocket_clients_authenticate_first_or_are_closed() {
    let mut r = Rig::new();
    // Anything before `authenticate` closes the connection; so do wrong credentials.
    r.input(Input::WsOpened {
        client: 1,
        rights: None,
    });
    r.ws(1, json!({"id": 1, "method": "getblockcount"}));
    r.input(Input::WsOpened {
        client: 2,
        rights: None,
    });
    r.ws(
        2,
        json!({"id": 1, "method": "authenticate", "params": ["u", "wrong"]}),
    );
    let out = r.take();
    assert_eq!(
        out,
        [Output::WsClose { client: 1 }, Output::WsClose { client: 2 }]
    );
    // The right credentials are answered null, and the session works.
    r.input(Input::WsOpened {
        client: 3,
        rights: None,
    });
    r.ws(
        3,
        json!({"id": 1, "method": "authenticate", "params": ADMIN}),
    );
    r.ws(3, json!({"id": 2, "method": "getblockcount"}));
    r.ws(
        3,
        json!({"id": 3, "method": "authenticate", "params": ADMIN}),
    );
    let out = r.take();
    // The transport is told first, so the client's slot is taken before its reply goes out.
    assert_eq!(out[0], Output::WsAuthenticated { client: 3 });
    let got = texts(&out, 3);
    assert_eq!(got[0], json!({"result": null, "error": null, "id": 1}));
    assert_eq!(got[1]["result"], json!(0));
    assert_eq!(got[2]["error"]["code"], json!(code::INVALID_REQUEST));
    // A client that never authenticates is closed when its time is up, not before.
    r.input(Input::WsOpened {
        client: 4,
        rights: None,
    });
    let deadline = r.node.poll_timeout().unwrap();
    assert_eq!(deadline, r.now + Duration::from_secs(10));
    r.now = deadline - Duration::from_millis(1);
    r.input(Input::Tick);
    assert!(r.take().is_empty());
    r.now = deadline;
    r.input(Input::Tick);
    assert_eq!(r.take(), [Output::WsClose { client: 4 }]);
    // Messages from clients the node closed, or that left, are ignored.
    r.ws(4, json!({"id": 1, "method": "getblockcount"}));
    r.input(Input::WsClosed { client: 3 });
    r.ws(3, json!({"id": 4, "method": "getblockcount"}));
    assert!(r.take().is_empty());
}

#[test]
fn block_subscribers_hear_each_block_once_in_order_until_they_stop() {
    let mut r = Rig::new();
    // btcd's limited users may not `stopnotifyblocks`.
    for (client, rights) in [(1, Rights::Admin), (2, Rights::Limited)] {
        r.input(Input::WsOpened {
            client,
            rights: Some(rights),
        });
    }
    r.ws(1, json!({"id": 1, "method": "notifyblocks"}));
    let blocks: Vec<Block> = (0..3).map(|_| r.mine()).collect();
    r.ws(1, json!({"id": 2, "method": "stopnotifyblocks"}));
    r.mine();
    let out = r.take();
    let heard: Vec<(String, Value)> = texts(&out, 1)
        .into_iter()
        .filter(|t| t["method"] == "blockconnected")
        .map(|t| {
            (
                t["params"][0].as_str().unwrap().to_string(),
                t["params"][1].clone(),
            )
        })
        .collect();
    let want: Vec<(String, Value)> = blocks
        .iter()
        .zip(1..)
        .map(|(b, h)| (b.block_hash().to_string(), json!(h)))
        .collect();
    assert_eq!(heard, want);
    assert!(texts(&out, 2).is_empty(), "client 2 did not subscribe");
}

#[test]
fn a_rescan_steps_between_other_requests_and_leaves_its_address_watched() {
    let mut r = Rig::new();
    let first = r.mine();
    for _ in 0..250 {
        r.mine();
    }
    r.input(Input::WsOpened {
        client: 9,
        rights: Some(Rights::Admin),
    });
    r.take();
    let genesis = r.node.chain().params().genesis_hash.to_string();
    let address = watched().to_string();
    r.ws(
        9,
        json!({"id": 1, "method": "rescan", "params": [genesis, [address], []]}),
    );
    r.ws(9, json!({"id": 2, "method": "getblockcount"}));
    let early = texts(&r.take(), 9);
    assert_eq!(early.len(), 1, "only the second request is answered yet");
    assert_eq!(early[0]["id"], json!(2));
    r.settle();
    let got = texts(&r.take(), 9);
    let methods: Vec<&str> = got
        .iter()
        .map(|t| t["method"].as_str().unwrap_or("reply"))
        .collect();
    assert_eq!(methods.first(), Some(&"recvtx"));
    assert!(methods.contains(&"rescanprogress"), "{methods:?}");
    assert_eq!(&methods[methods.len() - 2..], ["rescanfinished", "reply"]);
    assert_eq!(got.last().unwrap()["id"], json!(1));
    assert_eq!(
        got[0]["params"][1]["hash"],
        json!(first.block_hash().to_string())
    );
    // Scanned to the tip, the address stays watched: the next block's payment is heard.
    let next = r.mine();
    let heard = texts(&r.take(), 9);
    assert_eq!(heard.len(), 1, "{heard:?}");
    assert_eq!(heard[0]["method"], "recvtx");
    assert_eq!(
        heard[0]["params"][1]["hash"],
        json!(next.block_hash().to_string())
    );
}

#[test]
fn subscriptions_per_client_are_capped_with_a_clear_error() {
    let mut r = Rig::new();
    for client in [1, 2] {
        r.input(Input::WsOpened {
            client,
            rights: Some(Rights::Admin),
        });
    }
    let hash = "11".repeat(32);
    let outpoints = |from: usize, n: usize| -> Value {
        (from..from + n)
            .map(|i| json!({"hash": hash, "index": i}))
            .collect()
    };
    let notify = |r: &mut Rig, client, from, n| {
        r.ws(
            client,
            json!({"id": 1, "method": "notifyspent", "params": [outpoints(from, n)]}),
        );
        texts(&r.take(), client).remove(0)
    };
    assert_eq!(notify(&mut r, 1, 0, MAX_WATCHED - 1)["error"], Value::Null);
    // One over the cap is refused whole, saying why; what was watched stays watched.
    let refused = notify(&mut r, 1, MAX_WATCHED, 2);
    assert_eq!(refused["error"]["code"], json!(code::INVALID_PARAMETER));
    let message = refused["error"]["message"].as_str().unwrap();
    assert!(message.contains("too many subscriptions"), "{message}");
    assert!(message.contains(&MAX_WATCHED.to_string()), "{message}");
    assert_eq!(notify(&mut r, 1, MAX_WATCHED, 1)["error"], Value::Null);
    // A filter counts too; another client has its own allowance.
    r.ws(
        1,
        json!({"id": 2, "method": "loadtxfilter", "params": [false, [], outpoints(2 * MAX_WATCHED, 1)]}),
    );
    assert_eq!(
        texts(&r.take(), 1)[0]["error"]["code"],
        json!(code::INVALID_PARAMETER)
    );
    assert_eq!(notify(&mut r, 2, 0, 10)["error"], Value::Null);
}

#[test]
fn a_driver_renders_getrawtransaction_replies_to_what_the_node_would_answer() {
    let mut inline = Rig::rendering(false);
    let mut driver = Rig::rendering(true);
    let mut spend = None;
    for r in [&mut inline, &mut driver] {
        let first = r.mine();
        for _ in 0..100 {
            r.mine();
        }
        // The first coinbase, now mature, spent back to the same P2WSH(OP_1).
        let mut tx = first.txdata[0].clone();
        tx.inputs[0].prevout = OutPoint::new(first.txdata[0].txid(), 0);
        tx.inputs[0].script_sig = Vec::new();
        tx.inputs[0].witness = vec![vec![OP_1]];
        tx.outputs.truncate(1);
        tx.outputs[0].value -= 10_000;
        r.input(Input::SubmitTx(tx.clone()));
        assert!(r.node.mempool().have(&tx.txid()));
        spend = Some(tx);
    }
    let txid = spend.unwrap().txid().to_string();
    let body = json!([
        {"id": 1, "method": "getrawtransaction", "params": [txid, 1]},
        {"id": 2, "method": "getrawtransaction", "params": [txid]},
    ]);
    inline.take();
    driver.take();
    inline.http(1, body.clone());
    driver.http(1, body);
    let inline_out = inline.take();
    let [(1, ref want)] = replies(&inline_out)[..] else {
        panic!("answered inline: {inline_out:?}")
    };
    let out = driver.take();
    let jobs: Vec<_> = out
        .iter()
        .filter_map(|o| match o {
            Output::RpcRender { id: 1, job } => Some(job.clone()),
            _ => None,
        })
        .collect();
    let [job] = &jobs[..] else {
        panic!("left to the driver: {out:?}")
    };
    assert_eq!(
        &job.clone().finish(),
        want,
        "rendered beside the node or inline alike"
    );
    let body: Value = serde_json::from_str(want).unwrap();
    assert_eq!(body[0]["result"]["txid"], json!(txid));
    assert_eq!(body[1]["result"], body[0]["result"]["hex"]);
}
