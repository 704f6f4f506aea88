//! The RPC server's WebSocket side (`/ws`), btcd's `rpcwebsocket.go` transport: after the
//! upgrade, each text message goes to the node ([`Input::WsMessage`]) and whatever the node
//! sends the client (replies and notifications, in order) is written back. The node decides
//! everything else: the `authenticate` handshake of a client without credentials, requests,
//! subscriptions and when to close.

use crate::p2p::{Event, WS_QUEUE_LIMIT};
use async_tungstenite::tungstenite::protocol::Role;
use async_tungstenite::tungstenite::Message;
use async_tungstenite::WebSocketStream;
use futures::StreamExt;
use rbtcd_core::node::Input;
use rbtcd_core::rpc::ws::ClientId;
use rbtcd_core::rpc::Rights;
use smol::channel::Sender;
use smol::Async;
use std::net::{SocketAddr, TcpStream};

/// The GUID RFC 6455 appends to the client's key.
const WS_GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// The `Sec-WebSocket-Accept` value for a client's `Sec-WebSocket-Key`.
pub fn accept_key(key: &str) -> String {
    let digest = rbtcd_core::script::hashes::sha1(format!("{key}{WS_GUID}").as_bytes());
    rbtcd_core::base64::encode(&digest)
}

/// What comes next on a connection.
enum Next<M> {
    /// A frame from the client (or its end).
    Incoming(M),
    /// A text from the node, or `None` once the node closed the client (or dropped it as
    /// too slow).
    Outgoing(Option<String>),
}

/// Serves an upgraded connection as WebSocket client `client` of the node behind `events`
/// until the client leaves or the node closes it; `rights` when its upgrade request carried
/// valid credentials.
pub async fn serve(
    stream: Async<TcpStream>,
    peer: SocketAddr,
    client: ClientId,
    rights: Option<Rights>,
    events: &Sender<Event>,
) {
    let mut ws = WebSocketStream::from_raw_socket(stream, Role::Server, None).await;
    let (out, queue) = smol::channel::bounded(WS_QUEUE_LIMIT);
    let opened = Event::WsOpened {
        client,
        rights,
        out,
    };
    if events.send(opened).await.is_err() {
        return;
    }
    log::info!(target: "rbtcd::rpc", "New websocket client {peer}");
    loop {
        let next = smol::future::or(async { Next::Incoming(ws.next().await) }, async {
            Next::Outgoing(queue.recv().await.ok())
        })
        .await;
        match next {
            Next::Outgoing(Some(text)) => {
                if ws.send(Message::text(text)).await.is_err() {
                    break;
                }
            }
            Next::Outgoing(None) => {
                let _ = ws.close(None).await;
                break;
            }
            Next::Incoming(Some(Ok(Message::Text(text)))) => {
                let text = text.to_string();
                let message = Event::Input(Input::WsMessage { client, text });
                if events.send(message).await.is_err() {
                    break;
                }
            }
            Next::Incoming(Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_)))) => {}
            Next::Incoming(_) => break,
        }
    }
    log::info!(target: "rbtcd::rpc", "Disconnected websocket client {peer}");
    let _ = events.send(Event::Input(Input::WsClosed { client })).await;
}

#[cfg(test)]
mod tests {
    use super::accept_key;

    #[test]
    fn accept_key_matches_rfc6455_example() {
        assert_eq!(
            accept_key("dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }
}
