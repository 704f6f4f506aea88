//! The RPC server's WebSocket side (`/ws`), btcd's `rpcwebsocket.go` transport: after the
//! upgrade, each text message goes to the node ([`Input::WsMessage`]) and whatever the node
//! sends the client (replies and notifications, in order) is written back. A message of block
//! lookups only, from an authenticated client, is answered here from the chain the node
//! published ([`super::lookups`]), its reply queued with the node's. The node decides
//! everything else: the `authenticate` handshake of a client without credentials, requests,
//! subscriptions and when to close. Its handshake is still forwarded whole, but read here too
//! with the node's rule (the first message must be `authenticate` with credentials the HTTP
//! side accepts; anything else and the node closes the client), so a client that passed it
//! has its lookups answered here as one that authenticated in its upgrade request does. Reading and writing run side by side, so a client that
//! does not read fills its queue and is closed at once ([`WsQueue`]).

use super::conn::Control;
use super::http::{Shared, Slot};
use crate::p2p::{Event, WS_QUEUE_LIMIT};
use async_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};
use async_tungstenite::tungstenite::Message;
use async_tungstenite::WebSocketStream;
use futures::io::{AsyncRead, AsyncWrite};
use futures::{SinkExt, StreamExt};
use rbtcd_core::node::Input;
use rbtcd_core::rpc::auth::authenticate_message;
use rbtcd_core::rpc::ws::ClientId;
use rbtcd_core::rpc::{Rights, Transport};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

/// The GUID RFC 6455 appends to the client's key.
const WS_GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
/// Largest message a client may send (as an HTTP body).
const MAX_MESSAGE: usize = super::http::MAX_BODY;
/// Pings (and pongs) a client may send at once, and per second after that; more closes it.
const CONTROL_BURST: u32 = 20;

/// The `Sec-WebSocket-Accept` value for a client's `Sec-WebSocket-Key`.
pub fn accept_key(key: &str) -> String {
    let digest = rbtcd_core::script::hashes::sha1(format!("{key}{WS_GUID}").as_bytes());
    rbtcd_core::base64::encode(&digest)
}

/// A client's outgoing queue as the node task holds it: texts (at most [`WS_QUEUE_LIMIT`])
/// and a way to close the connection at once, unsent texts and all, when the client has not
/// read them.
pub struct WsQueue {
    /// The texts, in order.
    pub out: async_channel::Sender<String>,
    /// Sending on it drops the client without writing what is queued.
    pub evict: async_channel::Sender<()>,
    /// Bytes of text queued and not yet written (at most [`WS_QUEUE_BYTES`]).
    pub queued: Arc<AtomicUsize>,
}

/// Bytes of text queued for one client before it counts as too slow and is dropped.
pub const WS_QUEUE_BYTES: usize = 32 * 1024 * 1024;

impl WsQueue {
    /// Queues `text`; false when the client has too much unread already (it should go).
    pub fn push(&self, text: String) -> bool {
        let len = text.len();
        let before = self.queued.fetch_add(len, Ordering::SeqCst);
        before + len <= WS_QUEUE_BYTES && self.out.try_send(text).is_ok()
    }

    /// Closes the client at once, without writing what is queued.
    pub fn evict(&self) {
        let _ = self.evict.try_send(());
    }
}

/// Serves an upgraded connection as WebSocket client `client` until the client leaves or
/// the node closes it; `rights` (and a `rpcmaxwebsockets` slot) when its upgrade request
/// carried valid credentials.
pub(super) async fn serve<S>(
    stream: S,
    control: &Control,
    peer: SocketAddr,
    client: ClientId,
    rights: Option<Rights>,
    slot: Option<Slot>,
    shared: &Shared,
) where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let config = WebSocketConfig::default()
        .max_message_size(Some(MAX_MESSAGE))
        .max_frame_size(Some(MAX_MESSAGE))
        .max_write_buffer_size(2 * MAX_MESSAGE);
    let ws = WebSocketStream::from_raw_socket(stream, Role::Server, Some(config)).await;
    let (out, queue) = async_channel::bounded(WS_QUEUE_LIMIT);
    let (evict, evicted) = async_channel::bounded(1);
    let queued = Arc::new(AtomicUsize::new(0));
    // Where replies to lookups answered here are queued, in turn with the node's. Held weak:
    // the node closes a client by dropping its queue, and a strong copy here would keep the
    // connection open past that.
    let (lookup_out, lookup_evict) = (out.downgrade(), evict.downgrade());
    // The slot of a client that authenticates with a message, taken then.
    let handshake_slot = OnceLock::new();
    let events = &shared.events;
    let opened = Event::WsOpened {
        client,
        rights,
        queue: WsQueue {
            out,
            evict,
            queued: queued.clone(),
        },
    };
    if events.send(opened).await.is_err() {
        return;
    }
    log::info!(target: "rbtcd::rpc", "New websocket client {peer}");
    let (mut sink, mut incoming) = ws.split();
    let reading = async {
        let mut pings = ControlBudget::new();
        let (mut rights, mut handshake) = (rights, rights.is_none());
        while let Some(Ok(message)) = incoming.next().await {
            match message {
                Message::Text(text) => {
                    let text = text.to_string();
                    if std::mem::take(&mut handshake) {
                        // The node answers the handshake; it passes exactly when this grants
                        // rights, and a client that failed it is closed, never asked again.
                        rights = authenticate_message(text.as_bytes())
                            .and_then(|(_, header)| shared.creds.check(&header));
                        if rights.is_some() {
                            // As for credentials in the upgrade request: a slot, no deadline.
                            let Some(taken) = shared.websockets.try_take() else {
                                log::info!(
                                    "Max WebSocket clients exceeded [{}] - disconnecting client {peer}",
                                    shared.websockets.max()
                                );
                                return;
                            };
                            let _ = handshake_slot.set(taken);
                            control.authenticate(None);
                        }
                    }
                    let answered = match (rights, &shared.lookups) {
                        (Some(rights), Some(lookups)) => {
                            lookups
                                .answer(text.as_bytes(), rights, Transport::WebSocket)
                                .await
                        }
                        _ => None,
                    };
                    if let Some(reply) = answered {
                        let (Some(out), Some(evict)) =
                            (lookup_out.upgrade(), lookup_evict.upgrade())
                        else {
                            // The node closed the client meanwhile.
                            return;
                        };
                        let queue = WsQueue {
                            out,
                            evict,
                            queued: queued.clone(),
                        };
                        if !reply.is_empty() && !queue.push(reply) {
                            log::warn!(
                                target: "rbtcd::rpc",
                                "WebSocket client {peer} does not read what it is sent; disconnecting it"
                            );
                            return;
                        }
                        continue;
                    }
                    let message = Event::Input(Input::WsMessage { client, text });
                    if events.send(message).await.is_err() {
                        return;
                    }
                }
                // tungstenite answers a ping itself, keeping only the latest pong unsent.
                Message::Ping(_) | Message::Pong(_) if !pings.spend() => {
                    log::info!(target: "rbtcd::rpc", "WebSocket client {peer} sends too many pings");
                    return;
                }
                Message::Binary(_) | Message::Close(_) => return,
                Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => {}
            }
        }
    };
    let writing = async {
        loop {
            match queue.recv().await {
                Ok(text) => {
                    queued.fetch_sub(text.len(), Ordering::SeqCst);
                    let sent = smol::future::or(
                        async { sink.send(Message::text(text)).await.is_ok() },
                        async {
                            // Closed without a word: the node closed the client normally, and
                            // what is queued still goes out.
                            if evicted.recv().await.is_err() {
                                std::future::pending::<()>().await;
                            }
                            false
                        },
                    )
                    .await;
                    if !sent {
                        return;
                    }
                }
                Err(_) => {
                    let _ = sink.close().await;
                    return;
                }
            }
        }
    };
    smol::future::or(reading, writing).await;
    log::info!(target: "rbtcd::rpc", "Disconnected websocket client {peer}");
    let _ = events.send(Event::Input(Input::WsClosed { client })).await;
    // The slot is held until the node has heard the client left.
    drop((slot, handshake_slot));
}

/// A token bucket for a client's control frames: [`CONTROL_BURST`] at once, one more each
/// second.
struct ControlBudget {
    tokens: u32,
    refilled: Instant,
}

impl ControlBudget {
    fn new() -> Self {
        ControlBudget {
            tokens: CONTROL_BURST,
            refilled: Instant::now(),
        }
    }

    /// Takes a token; false when none is left.
    fn spend(&mut self) -> bool {
        let secs = self.refilled.elapsed().as_secs();
        if secs > 0 {
            let earned = u32::try_from(secs).unwrap_or(u32::MAX);
            self.tokens = self.tokens.saturating_add(earned).min(CONTROL_BURST);
            self.refilled += Duration::from_secs(secs);
        }
        match self.tokens.checked_sub(1) {
            Some(left) => {
                self.tokens = left;
                true
            }
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{accept_key, ControlBudget, CONTROL_BURST};
    use crate::p2p::Event;
    use async_tungstenite::tungstenite::protocol::Role;
    use async_tungstenite::tungstenite::Message;
    use async_tungstenite::WebSocketStream;
    use futures::StreamExt;
    use rbtcd_core::node::{Input, Output};
    use rbtcd_core::rpc::Rights;
    use serde_json::json;
    use smol::Async;
    use std::net::TcpStream;
    use std::time::Duration;

    use crate::rpc::lookups::tests::{mine, publishing_node, serve, upgraded, ADMIN, NOW};
    /// Far longer than anything here takes: only a test that is failing waits this long.
    const PATIENCE: Duration = Duration::from_secs(60);

    /// A `/ws` connection whose upgrade request carries no credentials.
    async fn open(addr: &str) -> WebSocketStream<Async<TcpStream>> {
        let s = upgraded(addr, None);
        WebSocketStream::from_raw_socket(Async::new(s).unwrap(), Role::Client, None).await
    }

    /// Waits for `what`, failing after [`PATIENCE`].
    async fn within<T>(what: &str, f: impl std::future::Future<Output = T>) -> T {
        let late = async {
            smol::Timer::after(PATIENCE).await;
            panic!("{what} did not come")
        };
        smol::future::or(f, late).await
    }

    #[test]
    fn lookups_after_an_authenticate_message_are_answered_beside_the_node_and_only_then() {
        let (dir, mut node) = publishing_node("rbtcd-ws-auth", |_| {});
        mine(&mut node, 3);
        // The node task's queue is only looked at, never answered.
        let (_published, server, queued) = serve(&node, &dir, 4);
        let addr = server.local_addrs()[0].to_string();

        let call = |id: u32, method: &str, params: serde_json::Value| {
            json!({"jsonrpc": "1.0", "id": id, "method": method, "params": params}).to_string()
        };
        let authenticate = |pass: &str| call(1, "authenticate", json!([ADMIN.0, pass]));
        let hash = node.chain().index().main_at(2).unwrap().to_string();
        let asked = [
            call(2, "getblockhash", json!([2])),
            call(3, "getblock", json!([hash, 1])),
        ];
        let mut expected: Vec<String> = asked
            .iter()
            .map(|body| {
                let rpc = Input::Rpc {
                    id: 7,
                    rights: Rights::Admin,
                    body: body.as_bytes().to_vec(),
                };
                node.handle(NOW, rpc);
                std::iter::from_fn(|| node.poll_output())
                    .find_map(|out| match out {
                        Output::RpcReply { id: 7, body } => Some(body),
                        _ => None,
                    })
                    .expect("the node answers lookups at once")
            })
            .collect();
        expected.reverse();

        smol::block_on(async {
            // Good credentials in the first message: the lookups that follow are answered
            // though the node has not even read the handshake.
            let mut good = open(&addr).await;
            for text in [authenticate(ADMIN.1)].iter().chain(&asked) {
                good.send(Message::text(text.clone())).await.unwrap();
            }
            while let Some(want) = expected.pop() {
                let got = within("a lookup's reply", async {
                    loop {
                        match good.next().await {
                            Some(Ok(Message::Text(t))) => return t.to_string(),
                            Some(Ok(_)) => continue,
                            other => panic!("no reply: {other:?}"),
                        }
                    }
                })
                .await;
                assert_eq!(got, want);
            }
            let next = || within("the node's next event", queued.recv());
            // Kept: a client's queue, dropped, would close it.
            let mut opened = vec![next().await];
            assert!(matches!(
                opened[0],
                Ok(Event::WsOpened { rights: None, .. })
            ));
            match next().await {
                Ok(Event::Input(Input::WsMessage { text, .. })) => {
                    assert_eq!(
                        text,
                        authenticate(ADMIN.1),
                        "the node still hears the handshake"
                    )
                }
                _ => panic!("the handshake goes to the node"),
            }
            assert!(queued.is_empty(), "the lookups did not go to the node");

            // Wrong credentials (then right ones: the node closed it at the first), or none:
            // every message goes to the node, lookups included.
            let wrong = [
                authenticate("wrong"),
                authenticate(ADMIN.1),
                asked[0].clone(),
            ];
            // Every client stays open to the end, both ends: one leaving would be news too.
            let mut clients = vec![good];
            for messages in [&wrong[..], &asked[..1]] {
                let mut ws = open(&addr).await;
                for text in messages {
                    ws.send(Message::text(text.clone())).await.unwrap();
                }
                opened.push(next().await);
                assert!(matches!(
                    opened.last(),
                    Some(Ok(Event::WsOpened { rights: None, .. }))
                ));
                for want in messages {
                    match next().await {
                        Ok(Event::Input(Input::WsMessage { text, .. })) => assert_eq!(&text, want),
                        _ => panic!("each message goes to the node"),
                    }
                }
                clients.push(ws);
            }
        });
        server.stop();
        drop(queued);
        node.into_store().close();
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn accept_key_matches_rfc6455_example() {
        assert_eq!(
            accept_key("dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }

    #[test]
    fn control_frames_beyond_the_burst_are_refused() {
        let mut budget = ControlBudget::new();
        for _ in 0..CONTROL_BURST {
            assert!(budget.spend());
        }
        assert!(!budget.spend());
    }
}
