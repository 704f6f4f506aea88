//! The RPC server's WebSocket side (`/ws`), btcd's `rpcwebsocket.go`: after the upgrade, one
//! JSON-RPC request per text message, answered in order. A client that did not authenticate
//! with the upgrade request's `Authorization` header must send `authenticate` first, within
//! the read timeout; anything else, or bad credentials, closes the connection.

use crate::rpc_http::{run_body, Credentials, RpcService, READ_TIMEOUT};
use async_tungstenite::tungstenite::protocol::Role;
use async_tungstenite::tungstenite::Message;
use async_tungstenite::WebSocketStream;
use futures::StreamExt;
use rbtcd_core::rpc::jsonrpc::{self, Body};
use rbtcd_core::rpc::{Rights, RpcError, Transport};
use serde_json::{json, Value};
use smol::{Async, Timer};
use std::hash::{BuildHasher, RandomState};
use std::net::{SocketAddr, TcpStream};

/// The GUID RFC 6455 appends to the client's key.
const WS_GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// The `Sec-WebSocket-Accept` value for a client's `Sec-WebSocket-Key`.
pub fn accept_key(key: &str) -> String {
    let digest = rbtcd_core::script::hashes::sha1(format!("{key}{WS_GUID}").as_bytes());
    rbtcd_core::base64::encode(&digest)
}

/// Serves an upgraded connection until the client leaves, fails to authenticate, or is idle
/// past the read timeout while unauthenticated.
pub async fn serve(
    stream: Async<TcpStream>,
    peer: SocketAddr,
    mut rights: Option<Rights>,
    creds: &Credentials,
    service: &dyn RpcService,
) {
    let mut ws = WebSocketStream::from_raw_socket(stream, Role::Server, None).await;
    // btcd gives each connection a random session id for `session`.
    let session_id = RandomState::new().hash_one(peer);
    loop {
        let next = if rights.is_none() {
            let timeout = async {
                Timer::after(READ_TIMEOUT).await;
                None
            };
            match smol::future::or(async { Some(ws.next().await) }, timeout).await {
                Some(m) => m,
                None => {
                    log::debug!("WebSocket client {peer} did not authenticate in time");
                    return;
                }
            }
        } else {
            ws.next().await
        };
        let text = match next {
            Some(Ok(Message::Text(t))) => t.to_string(),
            Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => continue,
            Some(Ok(Message::Binary(_))) | Some(Ok(Message::Close(_))) | Some(Err(_)) | None => {
                return
            }
        };
        let reply = match rights {
            None => match authenticate(&text, creds) {
                Ok((r, reply)) => {
                    rights = Some(r);
                    reply
                }
                Err(()) => {
                    log::warn!("WebSocket authentication failure from {peer}");
                    return;
                }
            },
            Some(r) => match special(&text, session_id) {
                Some(reply) => reply,
                None => run_body(text.as_bytes(), r, Transport::WebSocket, service),
            },
        };
        if let Some(reply) = reply {
            if ws.send(Message::text(reply.to_string())).await.is_err() {
                return;
            }
        }
    }
}

/// Handles the first message of an unauthenticated client, which must be `authenticate`.
fn authenticate(text: &str, creds: &Credentials) -> Result<(Rights, Option<Value>), ()> {
    let Body::Single(Ok(req)) = jsonrpc::parse_body(text.as_bytes()) else {
        return Err(());
    };
    if req.method != "authenticate" {
        return Err(());
    }
    let (Some(Value::String(user)), Some(Value::String(pass))) =
        (req.params.first(), req.params.get(1))
    else {
        return Err(());
    };
    let header = crate::rpc_http::basic_auth(user, pass);
    let rights = creds.check(&header).ok_or(())?;
    let reply = req
        .id
        .map(|id| jsonrpc::response(req.version, Some(id), Ok(Value::Null)));
    Ok((rights, reply))
}

/// Commands about the connection itself: `session`, and `authenticate` once already
/// authenticated (btcd's error). Everything else goes to the service.
fn special(text: &str, session_id: u64) -> Option<Option<Value>> {
    let Body::Single(Ok(req)) = jsonrpc::parse_body(text.as_bytes()) else {
        return None;
    };
    let outcome = match req.method.as_str() {
        "session" => Ok(json!({ "sessionid": session_id })),
        "authenticate" => Err(RpcError::invalid_request("already authenticated")),
        _ => return None,
    };
    Some(
        req.id
            .map(|id| jsonrpc::response(req.version, Some(id), outcome)),
    )
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
