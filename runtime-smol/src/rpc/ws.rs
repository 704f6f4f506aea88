//! The RPC server's WebSocket side (`/ws`), btcd's `rpcwebsocket.go`: after the upgrade, one
//! JSON-RPC request (or batch) per text message, answered in order, with the client's
//! notifications written as they come. A client that did not authenticate with the upgrade
//! request's `Authorization` header must send `authenticate` first, within the read timeout;
//! anything else, or bad credentials, closes the connection. Requests run on the blocking
//! thread pool, so notifications keep flowing while one is answered (a long `rescan`), and a
//! client whose notification queue overflows is disconnected.

use crate::rpc::http::{read_chain, run_body, Credentials, RpcService, READ_TIMEOUT};
use crate::rpc::notify::Notifier;
use async_tungstenite::tungstenite::protocol::Role;
use async_tungstenite::tungstenite::Message;
use async_tungstenite::WebSocketStream;
use futures::StreamExt;
use rbtcd_core::rpc::handlers::websocket_help;
use rbtcd_core::rpc::jsonrpc::{self, Body};
use rbtcd_core::rpc::methods::Method;
use rbtcd_core::rpc::params::Params;
use rbtcd_core::rpc::ws::hub::spent_outpoints;
use rbtcd_core::rpc::ws::rescan::rescan_blocks;
use rbtcd_core::rpc::ws::{BlockSource, ClientId, Rescan};
use rbtcd_core::rpc::{Rights, RpcError, Transport};
use serde_json::{json, Value};
use smol::{Async, Timer};
use std::collections::BTreeMap;
use std::hash::{BuildHasher, RandomState};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;

/// The GUID RFC 6455 appends to the client's key.
const WS_GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
/// Blocks a `rescan` reads per visit to the node, so the node keeps working in between.
const RESCAN_STEP: u32 = 200;

/// The `Sec-WebSocket-Accept` value for a client's `Sec-WebSocket-Key`.
pub fn accept_key(key: &str) -> String {
    let digest = rbtcd_core::script::hashes::sha1(format!("{key}{WS_GUID}").as_bytes());
    rbtcd_core::base64::encode(&digest)
}

/// What a WebSocket client is served by: the node's RPC calls and the notifications.
#[derive(Clone)]
pub struct Services {
    /// The node's RPC calls.
    pub rpc: Arc<dyn RpcService>,
    /// Subscriptions and notification queues.
    pub notifier: Arc<Notifier>,
}

/// Serves an upgraded connection until the client leaves, fails to authenticate, is idle
/// past the read timeout while unauthenticated, or falls too far behind its notifications.
pub async fn serve(
    stream: Async<TcpStream>,
    peer: SocketAddr,
    rights: Option<Rights>,
    creds: &Credentials,
    services: Services,
) {
    let mut ws = WebSocketStream::from_raw_socket(stream, Role::Server, None).await;
    let rights = match rights {
        Some(r) => r,
        None => match authenticate_first(&mut ws, peer, creds).await {
            Some(r) => r,
            None => return,
        },
    };
    let (id, queue) = services.notifier.connect();
    let _registered = Registered(services.notifier.clone(), id);
    let client = Client {
        id,
        // btcd gives each connection a random session id for `session`.
        session_id: RandomState::new().hash_one(peer),
        services,
    };
    log::info!(target: "rbtcd::rpc", "New websocket client {peer}");
    loop {
        let next = smol::future::or(async { Next::Message(ws.next().await) }, async {
            Next::Note(queue.recv().await)
        })
        .await;
        let text = match next {
            Next::Note(Ok(note)) => {
                if ws.send(Message::text(note)).await.is_err() {
                    return;
                }
                continue;
            }
            Next::Note(Err(_)) => {
                log::info!(target: "rbtcd::rpc", "Disconnected slow websocket client {peer}");
                return;
            }
            Next::Message(Some(Ok(Message::Text(t)))) => t.to_string(),
            Next::Message(Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_)))) => {
                continue
            }
            Next::Message(_) => return,
        };
        let mut job = {
            let client = client.clone();
            smol::unblock(move || client.answer(&text, rights))
        };
        // Notifications keep going out while the request runs.
        let reply = loop {
            let step = smol::future::or(async { Step::Done((&mut job).await) }, async {
                Step::Note(queue.recv().await)
            })
            .await;
            match step {
                Step::Done(reply) => break reply,
                Step::Note(Ok(note)) => {
                    if ws.send(Message::text(note)).await.is_err() {
                        return;
                    }
                }
                Step::Note(Err(_)) => return,
            }
        };
        // What the request itself queued (a rescan's notifications) goes out before its reply.
        while let Ok(note) = queue.try_recv() {
            if ws.send(Message::text(note)).await.is_err() {
                return;
            }
        }
        if let Some(reply) = reply {
            if ws.send(Message::text(reply.to_string())).await.is_err() {
                return;
            }
        }
    }
}

enum Next<M> {
    Message(M),
    Note(Result<String, async_channel::RecvError>),
}

enum Step {
    Done(Option<Value>),
    Note(Result<String, async_channel::RecvError>),
}

/// Forgets the client's subscriptions when its connection ends.
struct Registered(Arc<Notifier>, ClientId);

impl Drop for Registered {
    fn drop(&mut self) {
        self.0.disconnect(self.1);
    }
}

/// Waits for the `authenticate` command an unauthenticated client must open with.
async fn authenticate_first(
    ws: &mut WebSocketStream<Async<TcpStream>>,
    peer: SocketAddr,
    creds: &Credentials,
) -> Option<Rights> {
    loop {
        let timeout = async {
            Timer::after(READ_TIMEOUT).await;
            None
        };
        let text = match smol::future::or(async { Some(ws.next().await) }, timeout).await {
            None => {
                log::debug!("WebSocket client {peer} did not authenticate in time");
                return None;
            }
            Some(Some(Ok(Message::Text(t)))) => t.to_string(),
            Some(Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_)))) => continue,
            Some(_) => return None,
        };
        let Ok((rights, reply)) = authenticate(&text, creds) else {
            log::warn!("WebSocket authentication failure from {peer}");
            return None;
        };
        if let Some(reply) = reply {
            ws.send(Message::text(reply.to_string())).await.ok()?;
        }
        return Some(rights);
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
    let header = crate::rpc::http::basic_auth(user, pass);
    let rights = creds.check(&header).ok_or(())?;
    let reply = req
        .id
        .map(|id| jsonrpc::response(req.version, Some(id), Ok(Value::Null)));
    Ok((rights, reply))
}

/// An authenticated client, as its requests see it.
#[derive(Clone)]
struct Client {
    id: ClientId,
    session_id: u64,
    services: Services,
}

impl Client {
    /// Answers one message (a request or a batch).
    fn answer(&self, text: &str, rights: Rights) -> Option<Value> {
        let call = |m: &'static Method, p: &[Value]| self.call(m, p);
        run_body(text.as_bytes(), rights, Transport::WebSocket, &call)
    }

    /// Runs an authorized method: the connection's own commands here, subscriptions in the
    /// notifier, everything else on the node.
    fn call(&self, method: &'static Method, params: &[Value]) -> Result<Value, RpcError> {
        let notifier = &self.services.notifier;
        match method.name {
            "authenticate" => Err(RpcError::invalid_request("already authenticated")),
            "session" => {
                Params::new("session", params).expect_count(0, 0)?;
                Ok(json!({ "sessionid": self.session_id }))
            }
            "help" => websocket_help(params),
            "rescanblocks" => {
                let (notifier, id, params) = (notifier.clone(), self.id, params.to_vec());
                read_chain(self.services.rpc.as_ref(), move |chain| {
                    notifier.with_hub(|hub| rescan_blocks(chain, hub.filter_mut(id), &params))
                })?
            }
            "rescan" => self.rescan(params),
            "notifyspent" => {
                let result = notifier.command(self.id, method.name, params);
                let result = result.expect("a subscription command")?;
                // btcd tells at once of spends already in the mempool.
                let outpoints = spent_outpoints(params)?;
                let spends = read_chain(self.services.rpc.as_ref(), move |node| {
                    let spends = outpoints.iter().filter_map(|op| node.mempool_spender(op));
                    spends.map(|tx| (tx.txid(), tx)).collect::<BTreeMap<_, _>>()
                })?;
                for tx in spends.values() {
                    notifier.mempool_spend(tx);
                }
                Ok(result)
            }
            name => notifier
                .command(self.id, name, params)
                .unwrap_or_else(|| self.services.rpc.call(method, params)),
        }
    }

    /// `rescan`: scans the chain a step at a time on the node, queueing what it finds, then
    /// `rescanfinished`; answers null (btcd's shape) once all of it is queued.
    fn rescan(&self, params: &[Value]) -> Result<Value, RpcError> {
        let rpc = self.services.rpc.as_ref();
        let params = params.to_vec();
        let mut scan = read_chain(rpc, move |chain| Rescan::start(chain, &params))??;
        loop {
            let (notifier, id) = (self.services.notifier.clone(), self.id);
            let (back, outcome) = read_chain(rpc, move |chain| {
                let outcome = rescan_step(&mut scan, chain, &notifier, id);
                (scan, outcome)
            })?;
            scan = back;
            let (notes, done) = outcome?;
            if !self.services.notifier.send(self.id, notes) || done {
                return Ok(Value::Null);
            }
        }
    }
}

/// One step of a rescan, run on the node: the notifications found and whether it is done.
/// A scan to the tip leaves its keys watched; asking for that here, on the node, starts the
/// watch right after the last block the scan saw, neither missing nor repeating a block.
fn rescan_step(
    scan: &mut Rescan,
    chain: &dyn BlockSource,
    notifier: &Notifier,
    id: ClientId,
) -> Result<(Vec<Value>, bool), RpcError> {
    if scan.is_empty() {
        return Ok((vec![scan.finished(chain)?], true));
    }
    let step = scan.step(chain, RESCAN_STEP)?;
    let mut notes = step.notifications;
    if step.done {
        if scan.to_tip() {
            let (outpoints, addresses) = scan.watches();
            notifier.watch_from_here(id, outpoints, addresses);
        }
        notes.push(scan.finished(chain)?);
    }
    Ok((notes, step.done))
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
