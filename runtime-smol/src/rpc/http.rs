//! The RPC server's HTTP transport: btcd's `rpcServer` HTTP side on smol sockets.
//!
//! A small hand-written HTTP/1.1 server rather than tide: tide 0.16 brings async-std and its own
//! HTTP stack, and hides the per-connection control this needs (refusing a client over
//! `rpcmaxclients` with 503, a read deadline per request, rejecting an oversize body from its
//! `Content-Length` before reading it). The server serves POST `/` with keep-alive, and `/ws`
//! upgrades to a WebSocket (see [`super::ws`]). It checks credentials and hands each request
//! body to the node task ([`Event::Rpc`]), which parses, authorizes and answers it.

use crate::config::RpcConfig;
use crate::p2p::Event;
use futures::io::{AsyncReadExt, AsyncWriteExt};
use rbtcd_core::rpc::auth::Credentials;
use rbtcd_core::rpc::error::code;
use rbtcd_core::rpc::jsonrpc::{self, Version};
use rbtcd_core::rpc::{RequestId, RpcError};
use smol::channel::Sender;
use smol::{Async, Executor, Timer};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

/// How long a client may take to send one whole request (headers and body), and how long an
/// idle keep-alive connection is kept.
pub const READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Largest accepted request head (request line and headers).
pub const MAX_HEAD: usize = 16 * 1024;
/// Largest accepted request body: room for a hex-encoded 4 MB block with its envelope.
pub const MAX_BODY: usize = 10 * 1024 * 1024;
/// The realm named in a 401 reply.
pub const REALM: &str = "rbtcd RPC";

/// The error for calls the node can no longer answer.
fn shutting_down() -> RpcError {
    RpcError::new(code::MISC, "the node is shutting down")
}

/// A running HTTP RPC server; dropping it without [`RpcServer::stop`] also stops it.
pub struct RpcServer {
    stop: Option<async_channel::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
    addrs: Vec<SocketAddr>,
}

impl RpcServer {
    /// Binds every listener in `cfg` and serves them on a thread of its own, answering from
    /// the node task behind `events`.
    pub fn start(cfg: &RpcConfig, events: Sender<Event>) -> std::io::Result<RpcServer> {
        let mut listeners = Vec::new();
        for addr in &cfg.listeners {
            let l = TcpListener::bind(addr)?;
            log::info!("RPC server listening on {}", l.local_addr()?);
            listeners.push(Async::new(l)?);
        }
        let addrs = listeners
            .iter()
            .map(|l| l.get_ref().local_addr())
            .collect::<std::io::Result<_>>()?;
        let shared = Arc::new(Shared {
            creds: Credentials::new(cfg.admin.as_ref(), cfg.limited.as_ref()),
            events,
            next_id: AtomicU64::new(1),
            max_clients: cfg.max_clients,
            clients: AtomicUsize::new(0),
            max_websockets: cfg.max_websockets,
            websockets: AtomicUsize::new(0),
            busy: AtomicUsize::new(0),
        });
        let (stop, stopped) = async_channel::bounded::<()>(1);
        let thread = std::thread::Builder::new()
            .name("rpc".into())
            .spawn(move || {
                let ex = Arc::new(Executor::new());
                for l in listeners {
                    // Tasks hold the executor weakly: a strong reference from a task it owns
                    // would keep it, and every connection, alive after the server stops.
                    ex.spawn(accept_loop(Arc::downgrade(&ex), l, shared.clone()))
                        .detach();
                }
                smol::block_on(ex.run(async {
                    // The channel closes when the server is stopped; nothing is sent on it.
                    let _ = stopped.recv().await;
                    finish_replies(&shared).await;
                }));
            })?;
        Ok(RpcServer {
            stop: Some(stop),
            thread: Some(thread),
            addrs,
        })
    }

    /// The bound listener addresses (useful when a port of 0 was configured).
    pub fn local_addrs(&self) -> &[SocketAddr] {
        &self.addrs
    }

    /// Stops accepting, drops every connection and waits for the server thread.
    pub fn stop(mut self) {
        self.shut_down();
    }

    fn shut_down(&mut self) {
        self.stop.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for RpcServer {
    fn drop(&mut self) {
        self.shut_down();
    }
}

struct Shared {
    creds: Credentials,
    /// The node task.
    events: Sender<Event>,
    /// Tokens for requests and WebSocket connections.
    next_id: AtomicU64,
    max_clients: usize,
    clients: AtomicUsize,
    max_websockets: usize,
    websockets: AtomicUsize,
    /// Requests read but not yet fully answered.
    busy: AtomicUsize,
}

/// Gives requests being answered (a `stop` reply among them) a moment to be written.
async fn finish_replies(shared: &Shared) {
    for _ in 0..50 {
        if shared.busy.load(Ordering::SeqCst) == 0 {
            return;
        }
        Timer::after(Duration::from_millis(20)).await;
    }
}

/// Counts a client (or a request) for as long as it lasts.
struct ClientSlot<'a>(&'a AtomicUsize);

impl<'a> ClientSlot<'a> {
    fn take(counter: &'a AtomicUsize) -> Self {
        counter.fetch_add(1, Ordering::SeqCst);
        ClientSlot(counter)
    }

    /// A slot while fewer than `max` are held, or `None`.
    fn try_take(counter: &'a AtomicUsize, max: usize) -> Option<Self> {
        let before = counter.fetch_add(1, Ordering::SeqCst);
        // Dropping a refused slot gives the count back.
        let slot = ClientSlot(counter);
        (before < max).then_some(slot)
    }
}

/// Answers a client over the `what` limit with btcd's 503 and closes it.
async fn refuse_busy(
    stream: &mut Async<TcpStream>,
    what: &str,
    max: usize,
    peer: SocketAddr,
) -> std::io::Result<()> {
    log::info!("Max {what} clients exceeded [{max}] - disconnecting client {peer}");
    let reply = HttpReply::text(503, "503 Too busy.  Try again later.");
    write_reply(stream, &reply, false).await
}

impl Drop for ClientSlot<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

async fn accept_loop(ex: Weak<Executor<'static>>, l: Async<TcpListener>, shared: Arc<Shared>) {
    loop {
        let (stream, peer) = match l.accept().await {
            Ok(s) => s,
            Err(e) => {
                log::warn!("RPC accept failed: {e}");
                Timer::after(Duration::from_millis(100)).await;
                continue;
            }
        };
        let Some(ex) = ex.upgrade() else { return };
        let shared = shared.clone();
        ex.spawn(async move {
            if let Err(e) = serve_client(stream, peer, &shared).await {
                log::debug!("RPC client {peer}: {e}");
            }
        })
        .detach();
    }
}

async fn serve_client(
    mut stream: Async<TcpStream>,
    peer: SocketAddr,
    shared: &Shared,
) -> std::io::Result<()> {
    let Some(slot) = ClientSlot::try_take(&shared.clients, shared.max_clients) else {
        return refuse_busy(&mut stream, "RPC", shared.max_clients, peer).await;
    };
    // Replies are written whole; waiting for more data to coalesce only adds latency.
    stream.get_ref().set_nodelay(true)?;
    let mut buf = Vec::new();
    loop {
        let read = smol::future::or(
            async { Some(read_request(&mut stream, &mut buf).await) },
            async {
                Timer::after(READ_TIMEOUT).await;
                None
            },
        )
        .await;
        let req = match read {
            None => {
                log::debug!("RPC client {peer} timed out");
                return Ok(());
            }
            Some(Err(ReadError::Closed)) => return Ok(()),
            Some(Err(ReadError::Io(e))) => return Err(e),
            Some(Err(ReadError::Refused(reply))) => {
                return write_reply(&mut stream, &reply, false).await
            }
            Some(Ok(req)) => req,
        };
        if req.path == "/ws" {
            // A WebSocket client counts against rpcmaxwebsockets instead.
            drop(slot);
            return upgrade(stream, req, peer, shared).await;
        }
        let _busy = ClientSlot::take(&shared.busy);
        let keep_alive = req.keep_alive;
        let reply = answer(&req, peer, shared).await;
        let keep_alive = keep_alive && reply.status != 401;
        write_reply(&mut stream, &reply, keep_alive).await?;
        if !keep_alive {
            return Ok(());
        }
    }
}

/// Upgrades a `/ws` request to a WebSocket (RFC 6455) and serves it; a wrong `Authorization`
/// header is refused as over HTTP, a missing one leaves authentication to the first message.
async fn upgrade(
    mut stream: Async<TcpStream>,
    req: HttpRequest,
    peer: SocketAddr,
    shared: &Shared,
) -> std::io::Result<()> {
    let Some(key) = req.websocket_key.as_deref().filter(|_| req.method == "GET") else {
        let reply = HttpReply::text(400, "400 Bad Request: expected a WebSocket upgrade");
        return write_reply(&mut stream, &reply, false).await;
    };
    let rights = match req.authorization.as_deref() {
        None => None,
        Some(h) => match shared.creds.check(h) {
            Some(r) => Some(r),
            None => {
                log::warn!("RPC authentication failure from {peer}");
                return write_reply(&mut stream, &unauthorized(), false).await;
            }
        },
    };
    let Some(_slot) = ClientSlot::try_take(&shared.websockets, shared.max_websockets) else {
        return refuse_busy(&mut stream, "WebSocket", shared.max_websockets, peer).await;
    };
    let head = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {}\r\n\r\n",
        crate::rpc::ws::accept_key(key)
    );
    stream.write_all(head.as_bytes()).await?;
    let client = shared.next_id.fetch_add(1, Ordering::Relaxed);
    crate::rpc::ws::serve(stream, peer, client, rights, &shared.events).await;
    Ok(())
}

fn unauthorized() -> HttpReply {
    HttpReply {
        extra_header: Some(format!("WWW-Authenticate: Basic realm=\"{REALM}\"")),
        ..HttpReply::text(401, "401 Unauthorized.")
    }
}

/// One parsed HTTP request.
struct HttpRequest {
    method: String,
    path: String,
    authorization: Option<String>,
    /// `Sec-WebSocket-Key` of a WebSocket upgrade request.
    websocket_key: Option<String>,
    keep_alive: bool,
    body: Vec<u8>,
}

enum ReadError {
    /// The client closed the connection between requests.
    Closed,
    Io(std::io::Error),
    /// The request is refused with this reply, and the connection closed.
    Refused(HttpReply),
}

impl From<std::io::Error> for ReadError {
    fn from(e: std::io::Error) -> Self {
        ReadError::Io(e)
    }
}

/// Reads one request; `buf` carries bytes already read past the previous request.
async fn read_request(
    stream: &mut Async<TcpStream>,
    buf: &mut Vec<u8>,
) -> Result<HttpRequest, ReadError> {
    let head_end = loop {
        if let Some(i) = find(buf, b"\r\n\r\n") {
            break i;
        }
        if buf.len() > MAX_HEAD {
            return Err(ReadError::Refused(HttpReply::text(
                431,
                "request header too large",
            )));
        }
        let mut chunk = [0u8; 4096];
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(if buf.is_empty() {
                ReadError::Closed
            } else {
                ReadError::Io(std::io::ErrorKind::UnexpectedEof.into())
            });
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let bad = |why: &str| ReadError::Refused(HttpReply::text(400, why));
    let head = std::str::from_utf8(&buf[..head_end]).map_err(|_| bad("head is not UTF-8"))?;
    let mut lines = head.split("\r\n");
    let mut start = lines.next().unwrap_or_default().split(' ');
    let (method, path, version) = match (start.next(), start.next(), start.next()) {
        (Some(m), Some(p), Some(v)) if v.starts_with("HTTP/1.") => (m, p, v),
        _ => return Err(bad("malformed request line")),
    };
    let mut content_length = None;
    let mut authorization = None;
    let mut websocket_key = None;
    let mut keep_alive = version != "HTTP/1.0";
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            return Err(bad("malformed header"));
        };
        let value = value.trim();
        match name.trim().to_ascii_lowercase().as_str() {
            "content-length" => {
                content_length = Some(
                    value
                        .parse::<usize>()
                        .map_err(|_| bad("bad Content-Length"))?,
                )
            }
            "authorization" => authorization = Some(value.to_string()),
            "sec-websocket-key" => websocket_key = Some(value.to_string()),
            "connection" => keep_alive = !value.eq_ignore_ascii_case("close"),
            "transfer-encoding" => {
                return Err(ReadError::Refused(HttpReply::text(
                    411,
                    "send a Content-Length",
                )))
            }
            _ => {}
        }
    }
    let len = content_length.unwrap_or(0);
    if len > MAX_BODY {
        return Err(ReadError::Refused(HttpReply::text(
            413,
            "request body too large",
        )));
    }
    let request = HttpRequest {
        method: method.to_string(),
        path: path.to_string(),
        authorization,
        websocket_key,
        keep_alive,
        body: Vec::new(),
    };
    buf.drain(..head_end + 4);
    while buf.len() < len {
        let mut chunk = vec![0u8; (len - buf.len()).min(64 * 1024)];
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(ReadError::Io(std::io::ErrorKind::UnexpectedEof.into()));
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let body = buf.drain(..len).collect();
    Ok(HttpRequest { body, ..request })
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// An HTTP reply.
struct HttpReply {
    status: u16,
    content_type: &'static str,
    extra_header: Option<String>,
    body: Vec<u8>,
}

impl HttpReply {
    fn text(status: u16, body: &str) -> Self {
        HttpReply {
            status,
            content_type: "text/plain; charset=utf-8",
            extra_header: None,
            body: format!("{body}\n").into_bytes(),
        }
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        405 => "Method Not Allowed",
        411 => "Length Required",
        413 => "Payload Too Large",
        431 => "Request Header Fields Too Large",
        503 => "Service Unavailable",
        _ => "Error",
    }
}

async fn write_reply(
    stream: &mut Async<TcpStream>,
    reply: &HttpReply,
    keep_alive: bool,
) -> std::io::Result<()> {
    let mut out = format!(
        "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: {}\r\n",
        reply.status,
        reason(reply.status),
        reply.content_type,
        reply.body.len(),
        if keep_alive { "keep-alive" } else { "close" },
    )
    .into_bytes();
    if let Some(h) = &reply.extra_header {
        out.extend_from_slice(h.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(&reply.body);
    stream.write_all(&out).await?;
    stream.flush().await
}

/// Answers one HTTP request: routing, authentication, then JSON-RPC on the node.
async fn answer(req: &HttpRequest, peer: SocketAddr, shared: &Shared) -> HttpReply {
    if req.path != "/" {
        return HttpReply::text(404, "404 page not found");
    }
    if req.method != "POST" {
        return HttpReply::text(405, "405 method not allowed: use POST");
    }
    let rights = req
        .authorization
        .as_deref()
        .and_then(|h| shared.creds.check(h));
    let Some(rights) = rights else {
        log::warn!("RPC authentication failure from {peer}");
        return unauthorized();
    };
    let id: RequestId = shared.next_id.fetch_add(1, Ordering::Relaxed);
    let (reply, answered) = smol::channel::bounded(1);
    let call = Event::Rpc {
        id,
        rights,
        body: req.body.clone(),
        reply,
    };
    let body = match shared.events.send(call).await {
        Ok(()) => answered.recv().await.ok(),
        Err(_) => None,
    };
    let body = body
        .unwrap_or_else(|| jsonrpc::response(Version::V1, None, Err(shutting_down())).to_string());
    HttpReply {
        status: 200,
        content_type: "application/json",
        extra_header: None,
        body: body.into_bytes(),
    }
}
