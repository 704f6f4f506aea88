//! WebSocket notifications end to end: regtest daemons whose blocks pay P2WSH(`OP_1`), so a
//! test can spend a matured coinbase without keys, and WebSocket clients subscribing to
//! blocks, transactions and filters.

mod common;

use async_tungstenite::tungstenite::Message;
use async_tungstenite::WebSocketStream;
use common::rpc::*;
use common::PATIENCE;
use futures::StreamExt;
use rbtcd_core::address::{Address, Payload, WitnessProgram};
use rbtcd_core::params::{Network, Params};
use rbtcd_core::primitives::hash::{hex_decode, hex_encode, sha256};
use rbtcd_core::primitives::{Block, Decodable, Encodable, OutPoint, Transaction, TxIn, TxOut};
use serde_json::{json, Value};
use std::collections::VecDeque;
use std::net::TcpStream;

/// Fee of the test spend, in satoshis.
const FEE: i64 = 10_000;

/// P2WSH of the script `OP_1`: spendable by revealing the script.
fn anyone() -> Address {
    let program = WitnessProgram::new(0, sha256(&[0x51]).to_vec()).unwrap();
    Address::new(Payload::Witness(program), &Params::new(Network::Regtest))
}

/// A regtest daemon mining to [`anyone`].
fn daemon(name: &str) -> Daemon {
    Daemon::start(name, &[&format!("--miningaddr={}", anyone())])
}

/// A WebSocket client that keeps the notifications arriving between replies.
struct Client {
    ws: WebSocketStream<smol::Async<TcpStream>>,
    notes: VecDeque<Value>,
}

impl Client {
    fn open(d: &Daemon, who: (&str, &str)) -> Client {
        let (status, ws) = websocket(d, Some(who));
        assert_eq!(status, 101);
        Client {
            ws: ws.unwrap(),
            notes: VecDeque::new(),
        }
    }

    /// The next message, failing the test if none comes within the liveness bound.
    fn read(&mut self) -> Value {
        let text = smol::block_on(smol::future::or(
            async { Some(next_text(&mut self.ws).await) },
            async {
                smol::Timer::after(PATIENCE).await;
                None
            },
        ));
        serde_json::from_str(&text.expect("no message from the server")).unwrap()
    }

    /// The reply to `method`, keeping notifications that arrive first.
    fn call(&mut self, method: &str, params: Value) -> Value {
        let req = json!({"jsonrpc": "1.0", "id": 1, "method": method, "params": params});
        smol::block_on(self.ws.send(Message::text(req.to_string()))).unwrap();
        loop {
            let v = self.read();
            if v.get("method").is_some() {
                self.notes.push_back(v);
            } else {
                return v;
            }
        }
    }

    /// The result of `method`, failing the test on an error reply.
    fn ok(&mut self, method: &str, params: Value) -> Value {
        let r = self.call(method, params);
        assert!(r["error"].is_null(), "{method}: {r}");
        r["result"].clone()
    }

    /// The next notification.
    fn note(&mut self) -> Value {
        match self.notes.pop_front() {
            Some(n) => n,
            None => {
                let v = self.read();
                assert!(v.get("method").is_some(), "not a notification: {v}");
                v
            }
        }
    }
}

async fn next_text(ws: &mut WebSocketStream<smol::Async<TcpStream>>) -> String {
    loop {
        match ws.next().await {
            Some(Ok(Message::Text(t))) => return t.to_string(),
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
            other => panic!("connection ended: {other:?}"),
        }
    }
}

fn block(d: &Daemon, hash: &Value) -> Block {
    let hex = d.ok("getblock", json!([hash, 0]));
    Block::decode(&hex_decode(hex.as_str().unwrap()).unwrap()).unwrap()
}

/// Spends output 0 of `coinbase` to P2WSH(`OP_1`), paying [`FEE`].
fn spend(coinbase: &Transaction) -> Transaction {
    Transaction {
        version: 2,
        inputs: vec![TxIn {
            prevout: OutPoint::new(coinbase.txid(), 0),
            script_sig: vec![],
            sequence: u32::MAX,
            witness: vec![vec![0x51]],
        }],
        outputs: vec![TxOut {
            value: coinbase.outputs[0].value - FEE,
            script_pubkey: anyone().script_pubkey(),
        }],
        lock_time: 0,
    }
}

#[test]
fn clients_hear_of_every_block_and_transaction_in_order() {
    let d = daemon("ws-follow");
    let mut blocks = Client::open(&d, ADMIN);
    let mut txs = Client::open(&d, ADMIN);
    let mut verbose = Client::open(&d, ADMIN);
    assert!(blocks.ok("notifyblocks", json!([])).is_null());
    txs.ok("notifynewtransactions", json!([]));
    verbose.ok("notifynewtransactions", json!([true]));

    let hashes = d.ok("generate", json!([101]));
    for (i, hash) in hashes.as_array().unwrap().iter().enumerate() {
        let connected = blocks.note();
        assert_eq!(connected["method"], "blockconnected", "{connected}");
        assert_eq!(connected["params"][0], *hash);
        assert_eq!(connected["params"][1], json!(i + 1));
        assert!(connected["params"][2].as_u64().unwrap() > 1_296_688_602);
        let filtered = blocks.note();
        assert_eq!(filtered["method"], "filteredblockconnected");
        assert_eq!(filtered["params"][0], json!(i + 1));
        assert!(filtered["params"][2].is_null(), "no filter loaded");
    }

    // Blocks stop; a transaction the client still follows shows none came in between.
    assert!(blocks.ok("stopnotifyblocks", json!([])).is_null());
    blocks.ok("notifynewtransactions", json!([]));
    d.ok("generate", json!([1]));
    let coinbase = block(&d, &hashes[0]).txdata[0].clone();
    let tx = spend(&coinbase);
    let txid = d.ok("sendrawtransaction", json!([hex_encode(&tx.encode())]));
    assert_eq!(txid, json!(tx.txid().to_string()));
    let amount = (coinbase.outputs[0].value - FEE) as f64 / 1e8;
    for client in [&mut blocks, &mut txs] {
        let n = client.note();
        assert_eq!(
            n,
            json!({"jsonrpc": "1.0", "method": "txaccepted", "params": [txid, amount], "id": null})
        );
    }
    let n = verbose.note();
    assert_eq!(n["method"], "txacceptedverbose");
    assert_eq!(n["params"][0]["txid"], txid);
    assert_eq!(n["params"][0]["hex"], json!(hex_encode(&tx.encode())));
    assert_eq!(
        n["params"][0]["vout"][0]["scriptPubKey"]["address"],
        json!(anyone().to_string())
    );
}

#[test]
fn filters_select_transactions_and_rescanblocks_finds_them() {
    let d = daemon("ws-filter");
    let hashes = d.ok("generate", json!([101]));
    let coinbase = block(&d, &hashes[0]).txdata[0].clone();
    // A limited user may use the WebSocket notification commands, as in btcd.
    let mut c = Client::open(&d, LIMITED);
    assert!(c.ok("session", json!([]))["sessionid"].is_u64());
    assert!(c
        .ok("help", json!([]))
        .as_str()
        .unwrap()
        .contains("loadtxfilter"));
    let e = c.call("rescanblocks", json!([[hashes[0]]]));
    assert_eq!(e["error"]["code"], json!(-1), "no filter yet: {e}");
    let watched = json!({"hash": coinbase.txid().to_string(), "index": 0});
    assert!(c.ok("loadtxfilter", json!([true, [], [watched]])).is_null());
    c.ok("notifyblocks", json!([]));

    let tx = spend(&coinbase);
    let hex = hex_encode(&tx.encode());
    d.ok("sendrawtransaction", json!([hex]));
    let n = c.note();
    assert_eq!(n["method"], "relevanttxaccepted");
    assert_eq!(n["params"], json!([hex]));
    // Watching an outpoint the mempool already spends is answered with that spend at once.
    let outpoint = json!({"hash": coinbase.txid().to_string(), "index": 0});
    assert!(c.ok("notifyspent", json!([[outpoint]])).is_null());
    assert_eq!(
        c.note(),
        json!({"jsonrpc": "1.0", "method": "redeemingtx", "params": [hex], "id": null})
    );

    let mined = d.ok("generate", json!([1]))[0].clone();
    let n = c.note();
    assert_eq!(n["method"], "redeemingtx", "mined, with where: {n}");
    assert_eq!(n["params"][1]["hash"], mined);
    assert_eq!(n["params"][1]["index"], json!(1));
    assert_eq!(c.note()["method"], "blockconnected");
    let n = c.note();
    assert_eq!(n["method"], "filteredblockconnected");
    assert_eq!(n["params"][0], json!(102));
    let header = &hex_encode(&block(&d, &mined).header.encode());
    assert_eq!(n["params"][1], json!(header));
    assert_eq!(n["params"][2], json!([hex]));

    // The filter now also knows the spend's output; rescanning by address finds the coinbase.
    c.ok("loadtxfilter", json!([false, [anyone().to_string()], []]));
    let found = c.ok("rescanblocks", json!([[hashes[0], hashes[1]]]));
    let coinbase_hex = hex_encode(&coinbase.encode());
    assert_eq!(
        found[0],
        json!({"hash": hashes[0], "transactions": [coinbase_hex]})
    );
    assert_eq!(
        found.as_array().unwrap().len(),
        2,
        "block 2's coinbase pays it too"
    );
    let e = c.call("rescanblocks", json!([[hashes[0], hashes[2]]]));
    assert_eq!(e["error"]["code"], json!(-8), "not a chain: {e}");

    // btcd's rpcLimited leaves out the stopnotify commands.
    let e = c.call("stopnotifyblocks", json!([]));
    assert_eq!(e["error"]["code"], json!(-32602), "{e}");
}

#[test]
fn rescan_notifies_what_it_finds_then_finishes() {
    let d = daemon("ws-rescan");
    let hashes = d.ok("generate", json!([3]));
    let genesis = d.ok("getblockhash", json!([0]));
    let mut c = Client::open(&d, LIMITED);
    let r = c.call("rescan", json!([genesis, [anyone().to_string()], []]));
    assert_eq!(r["result"], Value::Null, "{r}");
    assert!(r["error"].is_null(), "{r}");
    for (i, hash) in hashes.as_array().unwrap().iter().enumerate() {
        let n = c.note();
        assert_eq!(n["method"], "recvtx", "{n}");
        assert_eq!(n["params"][1]["hash"], *hash);
        assert_eq!(n["params"][1]["height"], json!(i + 1));
        assert_eq!(n["params"][1]["index"], json!(0));
    }
    let done = c.note();
    assert_eq!(done["method"], "rescanfinished");
    assert_eq!(done["params"][0], hashes[2]);
    assert_eq!(done["params"][1], json!(3));

    // Rescanned to the tip, the address stays watched for new blocks.
    let next = d.ok("generate", json!([1]))[0].clone();
    let n = c.note();
    assert_eq!(n["method"], "recvtx");
    assert_eq!(n["params"][1]["hash"], next, "{n} {hashes}");
}
