//! Lookups answered beside the node: the node task publishes the node's [`ReadView`] after
//! each input that changed the chain or the pool ([`Published::update`]), and the RPC server
//! answers a request body (HTTP) or message (WebSocket, from an authenticated client) that
//! holds only lookups (the tip's height and hash, `getblockhash`, `getblockheader`,
//! `getheaders`, `getblock`, `getrawtransaction`, `gettxout`, `getmempoolinfo`) from the
//! latest one, reading blocks from the block files and what the last flush wrote from LMDB
//! itself, so such calls never wait behind the node's message loop. Everything else goes to
//! the node.

use super::render::RenderPool;
use crate::store::files;
use crate::store::lmdb::LmdbReader;
use rbtcd_core::chain::{ChainStore, FileKind};
use rbtcd_core::node::Node;
use rbtcd_core::rpc::block_lookup::{LookupBody, ReadView};
use rbtcd_core::rpc::methods::LookupKind;
use rbtcd_core::rpc::{Rights, Transport};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// The node's latest [`ReadView`], shared by the node task (writer) and the RPC server.
#[derive(Default)]
pub struct Published {
    view: Mutex<Option<Arc<ReadView>>>,
    /// The published view's generation plus one (0 before the first), read without the lock
    /// to skip inputs that changed nothing.
    generation: AtomicU64,
}

impl Published {
    /// Publishes `node`'s view when its chain or pool changed since the last one.
    pub fn update<S: ChainStore>(&self, node: &Node<S>) {
        let Some(view) = node.read_view() else {
            return;
        };
        let tag = view.generation + 1;
        if self.generation.load(Ordering::Acquire) == tag {
            return;
        }
        *self.view.lock().unwrap_or_else(|e| e.into_inner()) = Some(Arc::new(view));
        self.generation.store(tag, Ordering::Release);
    }

    /// The latest view, if the node published one.
    pub fn current(&self) -> Option<Arc<ReadView>> {
        self.view.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// What the HTTP server answers lookups with.
#[derive(Clone)]
pub struct Lookups {
    published: Arc<Published>,
    /// Runs lookups that read blocks or the store, within `rpcmaxconcurrentreqs`.
    pool: RenderPool,
    /// The block files' directory.
    blocks: Arc<PathBuf>,
    /// Reads what the last flush wrote.
    store: LmdbReader,
}

impl Lookups {
    /// Answers from what the node task publishes in `published`, reading blocks from the files
    /// in `blocks` and the flushed chain state through `store`, on `pool`'s workers.
    pub fn new(
        published: Arc<Published>,
        pool: RenderPool,
        blocks: PathBuf,
        store: LmdbReader,
    ) -> Lookups {
        Lookups {
            published,
            pool,
            blocks: Arc::new(blocks),
            store,
        }
    }

    /// The reply to `body` from a caller with `rights` over `transport`, answered from the
    /// latest view when the body holds only lookups (empty when it asks for no reply);
    /// `None` when the node must answer it.
    pub async fn answer(
        &self,
        body: &[u8],
        rights: Rights,
        transport: Transport,
    ) -> Option<String> {
        let calls = LookupBody::parse(body, rights, transport)?;
        let kind = calls.kind();
        let (published, blocks, store) = (
            Arc::clone(&self.published),
            Arc::clone(&self.blocks),
            self.store.clone(),
        );
        let run = move || {
            let read = |pos| files::read(&blocks, FileKind::Blocks, pos);
            calls.answer_from_views(|| published.current(), &read, &store)
        };
        match kind {
            // Index lookups are quick: answered here, without a thread hop, then the
            // connection goes behind the others, whose requests a keep-alive client that
            // always has the next one ready would otherwise keep waiting.
            LookupKind::Index => {
                let reply = run();
                smol::future::yield_now().await;
                reply
            }
            LookupKind::Blocks | LookupKind::Store => self.pool.run(run).await,
        }
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::config::RpcConfig;
    use crate::p2p::Event;
    use crate::rpc::client::{self, Connector};
    use crate::rpc::http::RpcServer;
    use crate::store::lmdb::LmdbStore;
    use rbtcd_core::chain::builder::{spend, BlockBuilder};
    use rbtcd_core::mempool::policy::Policy;
    use rbtcd_core::net::peer::Direction;
    use rbtcd_core::node::{Input, NodeConfig, Output, RpcSettings};
    use rbtcd_core::params::{Network, Params};
    use rbtcd_core::primitives::hash::hex_encode;
    use rbtcd_core::primitives::{Block, Encodable, OutPoint, Transaction};
    use rbtcd_core::time::Time;
    use rbtcd_core::wire::{encode_message, Message, NetAddress, ServiceFlags, VersionMessage};
    use serde_json::{json, Value};
    use std::net::TcpStream;
    use std::time::Duration;

    pub(in crate::rpc) const NOW: Time = Time::from_millis(2_000_000_000_000);
    pub(in crate::rpc) const ADMIN: (&str, &str) = ("admin", "pw");

    /// Mines `n` blocks on the tip.
    /// A regtest node in a fresh directory of the temp dir named `name` (its path returned),
    /// publishing its views, with `config` tweaked further.
    pub(in crate::rpc) fn publishing_node(
        name: &str,
        config: impl FnOnce(&mut NodeConfig),
    ) -> (std::path::PathBuf, Node<LmdbStore>) {
        let dir = std::env::temp_dir().join(format!("{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let mut cfg = NodeConfig {
            rpc: RpcSettings {
                publish_view: true,
                ..RpcSettings::default()
            },
            ..NodeConfig::default()
        };
        config(&mut cfg);
        let params = Params::new(Network::Regtest);
        let node = Node::new(params, cfg, LmdbStore::open(&dir).unwrap(), 1, NOW).unwrap();
        (dir, node)
    }

    pub(in crate::rpc) fn mine(node: &mut Node<LmdbStore>, n: usize) {
        for _ in 0..n {
            let tip = *node.chain().tip();
            let params = node.chain().params().clone();
            let block =
                BlockBuilder::new(&params, tip.hash, tip.height + 1, tip.header.time).build();
            node.handle(NOW, Input::SubmitBlock(block));
        }
        while node.poll_output().is_some() {}
    }

    /// The node's own reply to `body`, rendered inline.
    fn node_reply(node: &mut Node<LmdbStore>, body: &[u8]) -> String {
        let rpc = Input::Rpc {
            id: 7,
            rights: Rights::Admin,
            body: body.to_vec(),
        };
        node.handle(NOW, rpc);
        std::iter::from_fn(|| node.poll_output())
            .find_map(|out| match out {
                Output::RpcReply { id: 7, body } => Some(body),
                _ => None,
            })
            .expect("answered at once")
    }

    /// A `/ws` connection switched to a WebSocket, its upgrade request carrying `who`'s
    /// credentials if any.
    pub(in crate::rpc) fn upgraded(addr: &str, who: Option<(&str, &str)>) -> TcpStream {
        use std::io::{Read, Write};
        let mut s = TcpStream::connect(addr).unwrap();
        let auth = who.map_or(String::new(), |(user, pass)| {
            let header = rbtcd_core::rpc::auth::basic_auth(user, pass);
            format!("Authorization: {header}\r\n")
        });
        let upgrade = format!(
            "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
             {auth}\r\n"
        );
        s.write_all(upgrade.as_bytes()).unwrap();
        let mut head = Vec::new();
        while !head.ends_with(b"\r\n\r\n") {
            let mut byte = [0u8];
            s.read_exact(&mut byte).unwrap();
            head.push(byte[0]);
        }
        assert!(head.starts_with(b"HTTP/1.1 101"), "{head:?}");
        s
    }

    /// Sends `body` as a message over a fresh `/ws` connection with the admin's credentials
    /// and returns the first text message back.
    fn ws_ask(addr: &str, body: &[u8]) -> String {
        use async_tungstenite::tungstenite::protocol::Role;
        use async_tungstenite::tungstenite::Message;
        use async_tungstenite::WebSocketStream;
        use futures::StreamExt;
        let s = upgraded(addr, Some(ADMIN));
        let text = String::from_utf8(body.to_vec()).unwrap();
        smol::block_on(async {
            let stream = smol::Async::new(s).unwrap();
            let mut ws = WebSocketStream::from_raw_socket(stream, Role::Client, None).await;
            ws.send(Message::text(text)).await.unwrap();
            let reply = async {
                loop {
                    match ws.next().await {
                        Some(Ok(Message::Text(t))) => return t.to_string(),
                        Some(Ok(_)) => continue,
                        other => panic!("no reply: {other:?}"),
                    }
                }
            };
            // The node never answers here: only a lookup answered beside it comes back.
            let never = async {
                smol::Timer::after(Duration::from_secs(60)).await;
                panic!("the lookup waited for the node")
            };
            smol::future::or(reply, never).await
        })
    }

    /// An RPC server answering lookups from `node`'s published views (its blocks and store in
    /// `dir`), the first view published, with room for `max_websockets` WebSocket clients; the
    /// node task's queue is never read, so every call that reaches the node waits there.
    pub(in crate::rpc) fn serve(
        node: &Node<LmdbStore>,
        dir: &std::path::Path,
        max_websockets: usize,
    ) -> (Arc<Published>, RpcServer, smol::channel::Receiver<Event>) {
        let published = Arc::new(Published::default());
        published.update(node);
        let (events, queued) = smol::channel::unbounded::<Event>();
        let rpc = RpcConfig {
            listeners: vec!["127.0.0.1:0".parse().unwrap()],
            admin: Some((ADMIN.0.into(), ADMIN.1.into())),
            limited: None,
            cookie: None,
            max_clients: 8,
            max_websockets,
            max_concurrent_reqs: 2,
            tls: None,
        };
        let reader = node.chain().store().reader();
        let lookups = Lookups::new(
            Arc::clone(&published),
            RenderPool::new(2),
            dir.to_path_buf(),
            reader,
        );
        let server = RpcServer::start(&rpc, events, Some(lookups)).unwrap();
        (published, server, queued)
    }

    /// `body` posted over HTTP with the admin's credentials; the reply body.
    fn post(addr: &str, body: &[u8]) -> String {
        let reply = Connector::plain()
            .post(addr, Some(ADMIN), body, Duration::from_secs(60))
            .unwrap();
        assert_eq!(reply.status, 200);
        String::from_utf8(reply.body).unwrap()
    }

    /// The peer that hands the node blocks in the tx lookups test.
    const PEER: u64 = 1;

    /// Connects [`PEER`] and completes its handshake.
    fn connect_peer(node: &mut Node<LmdbStore>) {
        let addr = "10.1.0.1:18444".parse().unwrap();
        let direction = Direction::Inbound;
        node.handle(
            NOW,
            Input::Connected {
                peer: PEER,
                addr,
                direction,
            },
        );
        let services = ServiceFlags::NETWORK | ServiceFlags::WITNESS;
        let version = VersionMessage {
            version: 70016,
            services,
            timestamp: NOW.unix_secs() as i64,
            receiver: NetAddress::new(addr, ServiceFlags::NONE),
            sender: NetAddress::new(addr, services),
            nonce: 77,
            user_agent: "/test/".into(),
            start_height: 0,
            relay: true,
        };
        receive(node, &Message::Version(version));
        receive(node, &Message::Verack);
    }

    /// [`PEER`] sends `msg`.
    fn receive(node: &mut Node<LmdbStore>, msg: &Message) {
        let bytes = encode_message(node.chain().params().magic, msg);
        node.handle(NOW, Input::Received { peer: PEER, bytes });
        while node.poll_output().is_some() {}
    }

    /// A block with `txs` on the tip; the peer sends it (the node flushes for blocks submitted
    /// locally, not for a peer's) unless `submit`.
    fn add_block(node: &mut Node<LmdbStore>, txs: &[Transaction], submit: bool) -> Block {
        let tip = *node.chain().tip();
        let params = node.chain().params().clone();
        let mut builder = BlockBuilder::new(&params, tip.hash, tip.height + 1, tip.header.time);
        builder.txs = txs.to_vec();
        let block = builder.build();
        match submit {
            true => {
                node.handle(NOW, Input::SubmitBlock(block.clone()));
                while node.poll_output().is_some() {}
            }
            false => receive(node, &Message::Block(block.clone())),
        }
        assert_eq!(node.chain().tip().hash, block.block_hash());
        block
    }

    /// Whether the store holds the tip's state.
    fn flushed(node: &Node<LmdbStore>) -> bool {
        node.chain().store().tip().unwrap() == Some(node.chain().tip().hash)
    }

    #[test]
    fn tx_lookups_are_answered_while_the_node_loop_answers_nothing() {
        for tx_index in [true, false] {
            let name = format!("rbtcd-tx-lookups-{tx_index}");
            let (dir, mut node) = publishing_node(&name, |config| {
                config.tx_index = tx_index;
                // The builder's anyone-can-spend outputs are not standard.
                config.policy = Policy {
                    accept_non_std: true,
                    ..Policy::default()
                };
            });
            connect_peer(&mut node);
            // 100 blocks from the peer, then one submitted: all flushed to LMDB. Then one
            // more from the peer, only in the UTXO cache and the pending index entries.
            let mut blocks: Vec<Block> =
                (0..100).map(|_| add_block(&mut node, &[], false)).collect();
            assert!(!flushed(&node));
            blocks.push(add_block(&mut node, &[], true));
            assert!(flushed(&node));
            blocks.push(add_block(&mut node, &[], false));
            assert!(!flushed(&node));
            let (cb1, cb102) = (&blocks[0].txdata[0], &blocks[101].txdata[0]);
            // A pool transaction spends block 1's (flushed) coinbase.
            let value = cb1.outputs[0].value;
            let tx = spend(&[OutPoint::new(cb1.txid(), 0)], &[value - 10_000]);
            let send = json!({"id": 1, "method": "sendrawtransaction",
                "params": [hex_encode(&tx.encode())]});
            let sent = node_reply(&mut node, send.to_string().as_bytes());
            assert!(sent.contains(&tx.txid().to_string()), "{sent}");

            let (published, server, queued) = serve(&node, &dir, 1);
            let addr = server.local_addrs()[0].to_string();
            let (cb1_id, cb102_id, tx_id) = (
                cb1.txid().to_string(),
                cb102.txid().to_string(),
                tx.txid().to_string(),
            );
            let calls: Vec<Value> = [
                json!(["gettxout", [cb1_id, 0]]),
                json!(["gettxout", [cb1_id, 0, false]]),
                json!(["gettxout", [cb102_id, 0]]),
                json!(["gettxout", [tx_id, 0]]),
                json!(["getrawtransaction", [cb1_id, 1]]),
                json!(["getrawtransaction", [cb102_id]]),
                json!(["getrawtransaction", [tx_id, 1]]),
                json!(["getblockhash", [102]]),
                json!(["getmempoolinfo", []]),
            ]
            .iter()
            .enumerate()
            .map(|(id, c)| json!({"jsonrpc": "2.0", "id": id, "method": c[0], "params": c[1]}))
            .collect();
            let body = serde_json::to_vec(&calls).unwrap();
            let answered = post(&addr, &body);
            let then = node_reply(&mut node, &body);
            assert_eq!(answered, then, "txindex {tx_index}");
            let results: Vec<Value> = serde_json::from_str::<Vec<Value>>(&answered)
                .unwrap()
                .into_iter()
                .map(|r| match &r["error"] {
                    Value::Null => r["result"].clone(),
                    e => e["message"].clone(),
                })
                .collect();
            // The pool's spend hides the flushed coin; without the pool it is there.
            assert_eq!(results[0], Value::Null);
            assert_eq!(results[1]["confirmations"], json!(102));
            // A coin only in the cache, and one only in the pool.
            assert_eq!(results[2]["confirmations"], json!(1));
            assert_eq!(results[3]["confirmations"], json!(0));
            match tx_index {
                true => {
                    assert_eq!(results[4]["confirmations"], json!(102));
                    assert_eq!(results[5], json!(hex_encode(&cb102.encode())));
                }
                false => {
                    for r in &results[4..6] {
                        assert!(r.as_str().unwrap().contains("--txindex"), "{r}");
                    }
                }
            }
            assert_eq!(results[6]["txid"], json!(tx_id));
            assert_eq!(results[8]["size"], json!(1));

            // The tx is mined by a submitted block (a flush): until the node publishes, the
            // view's flushed state is not the store's, so the call goes to the node.
            add_block(&mut node, std::slice::from_ref(&tx), true);
            let mut waiting = TcpStream::connect(&addr).unwrap();
            client::write_request(&mut waiting, &addr, Some(ADMIN), &body, false).unwrap();
            // Taken out and dropped here, its reply channel closes: the caller hears the
            // node is gone.
            match smol::block_on(queued.recv()) {
                Ok(Event::Rpc { body: got, .. }) => assert_eq!(got, body),
                _ => panic!("the call should have reached the node"),
            }
            let reply = String::from_utf8(client::read_reply(&mut waiting).unwrap().body).unwrap();
            assert!(reply.contains("the node is shutting down"), "{reply}");
            // Once published, answered beside the node again, as the node answers now.
            published.update(&node);
            let now = post(&addr, &body);
            assert_ne!(now, then);
            assert_eq!(now, node_reply(&mut node, &body));
            assert!(queued.try_recv().is_err(), "nothing else reached the node");

            server.stop();
            drop(queued);
            node.into_store().close();
            let _ = std::fs::remove_dir_all(&dir);
        }
    }

    #[test]
    fn block_lookups_are_answered_while_the_node_loop_answers_nothing() {
        let (dir, mut node) = publishing_node("rbtcd-lookups", |_| {});
        mine(&mut node, 3);
        let (published, server, queued) = serve(&node, &dir, 1);
        let addr = server.local_addrs()[0].to_string();

        let mut waiting = TcpStream::connect(&addr).unwrap();
        let info = client::request("getblockchaininfo", &[]);
        client::write_request(&mut waiting, &addr, Some(ADMIN), &info, false).unwrap();

        let ask = |body: &[u8]| post(&addr, body);
        let hash = node.chain().index().main_at(2).unwrap().to_string();
        let calls: Vec<Value> = [
            json!(["getblockcount", []]),
            json!(["getbestblockhash", []]),
            json!(["getbestblock", []]),
            json!(["getheaders", [[hash], ""]]),
            json!(["getblockhash", [2]]),
            json!(["getblockhash", [4]]),
            json!(["getblockheader", [hash]]),
            json!(["getblock", [hash, 2]]),
            json!(["getblock", [hash, 0]]),
        ]
        .iter()
        .enumerate()
        .map(|(id, c)| json!({"jsonrpc": "2.0", "id": id, "method": c[0], "params": c[1]}))
        .collect();
        let body = serde_json::to_vec(&calls).unwrap();
        let answered = ask(&body);
        let then = node_reply(&mut node, &body);
        assert_eq!(answered, then);
        assert!(answered.contains(r#""nextblockhash""#), "{answered}");
        // Over a WebSocket that authenticated in its upgrade request, the same.
        assert_eq!(ws_ask(&addr, &body), then);

        // The node moves on: lookups answer as of the last view published, then the next.
        mine(&mut node, 2);
        assert_eq!(ask(&body), then);
        published.update(&node);
        let now = ask(&body);
        assert_ne!(now, then);
        assert_eq!(now, node_reply(&mut node, &body));

        // The call for the node is still queued, unanswered (taking it out drops its reply
        // channel: the caller then hears the node is gone).
        match queued.try_recv() {
            Ok(Event::Rpc { body, .. }) => assert_eq!(body, info),
            _ => panic!("getblockchaininfo should wait in the node's queue"),
        }
        match queued.try_recv() {
            Ok(Event::WsOpened { .. }) => {}
            _ => panic!("the WebSocket client was opened on the node"),
        }
        let reply = client::read_reply(&mut waiting).unwrap();
        let reply = String::from_utf8(reply.body).unwrap();
        assert!(reply.contains("the node is shutting down"), "{reply}");
        server.stop();
        drop(queued);
        node.into_store().close();
        let _ = std::fs::remove_dir_all(&dir);
    }
}
