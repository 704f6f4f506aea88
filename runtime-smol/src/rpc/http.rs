//! The RPC server's HTTP transport: btcd's `rpcServer` HTTP side, on tide.
//!
//! Sockets are accepted on smol with `TCP_NODELAY` (tide's own listener has none and stalls
//! 40 ms per reply) and, unless `notls`, go through a TLS handshake ([`super::tls`]); async-h1
//! parses each connection and tide routes: `POST /` JSON-RPC, and `/ws` upgraded to a
//! WebSocket (see [`super::ws`]). Before tide sees a request its framing is checked (RFC 9112's
//! request-smuggling refusals), and a client holds an `rpcmaxclients` slot only once it has
//! authenticated ([`super::conn`] bounds the time and bytes before that, the TLS handshake
//! included). Request bodies go to the node task ([`Event::Rpc`]), which parses, authorizes
//! and answers them; bodies of lookups only are answered here from the chain the node
//! published ([`super::lookups`]).

use super::conn::{self, Control, READ_TIMEOUT, UNAUTHENTICATED_CLIENTS};
use super::lookups::Lookups;
use super::tls;
use crate::config::RpcConfig;
use crate::p2p::Event;
use futures::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use futures::FutureExt;
use futures_rustls::TlsAcceptor;
use rbtcd_core::rpc::auth::Credentials;
use rbtcd_core::rpc::error::code;
use rbtcd_core::rpc::jsonrpc::{self, Version};
use rbtcd_core::rpc::{RequestId, Rights, RpcError, Transport};
use smol::channel::Sender;
use smol::{Async, Executor, Timer};
use std::net::{SocketAddr, TcpListener};
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;
use tide::http::{headers, Request, Response, StatusCode};

/// Largest accepted request body: room for a hex-encoded 4 MB block with its envelope.
pub const MAX_BODY: usize = 10 * 1024 * 1024;
/// The realm named in a 401 reply.
pub const REALM: &str = "rbtcd RPC";

/// The error for calls the node can no longer answer.
fn shutting_down() -> RpcError {
    RpcError::new(code::MISC, "the node is shutting down")
}

/// A running RPC server; dropping it without [`RpcServer::stop`] also stops it.
pub struct RpcServer {
    stop: Option<async_channel::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
    addrs: Vec<SocketAddr>,
}

impl RpcServer {
    /// Sets up TLS (generating the certificate on first start), binds every listener in `cfg`
    /// and serves them on a thread of its own, answering from the node task behind `events`
    /// and lookups with `lookups`.
    pub fn start(
        cfg: &RpcConfig,
        events: Sender<Event>,
        lookups: Option<Lookups>,
    ) -> std::io::Result<RpcServer> {
        let acceptor = match &cfg.tls {
            Some(files) => Some(TlsAcceptor::from(
                tls::server_config(files).map_err(std::io::Error::other)?,
            )),
            None => None,
        };
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
            lookups,
            next_id: AtomicU64::new(1),
            clients: Limit::new(cfg.max_clients),
            websockets: Limit::new(cfg.max_websockets),
            unauthenticated: Limit::new(UNAUTHENTICATED_CLIENTS),
            busy: Arc::new(AtomicUsize::new(0)),
        });
        let mut app = tide::with_state(shared.clone());
        app.at("/").post(call);
        app.at("/ws").get(upgrade);
        let app = Arc::new(app);
        let (stop, stopped) = async_channel::bounded::<()>(1);
        let thread = std::thread::Builder::new()
            .name("rpc".into())
            .spawn(move || {
                let ex = Arc::new(Executor::new());
                for l in listeners {
                    // Tasks hold the executor weakly: a strong reference from a task it owns
                    // would keep it, and every connection, alive after the server stops.
                    let accept = accept_loop(Arc::downgrade(&ex), l, app.clone(), acceptor.clone());
                    ex.spawn(accept).detach();
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

/// The tide application serving every connection.
type App = tide::Server<Arc<Shared>>;

/// What every connection's handlers share.
pub(crate) struct Shared {
    /// Accepted credentials; the WebSocket side reads a client's `authenticate` with them.
    pub(crate) creds: Credentials,
    /// The node task.
    pub(crate) events: Sender<Event>,
    /// Answers lookups beside the node.
    pub(crate) lookups: Option<Lookups>,
    /// Tokens for requests and WebSocket connections.
    next_id: AtomicU64,
    clients: Limit,
    pub(crate) websockets: Limit,
    /// Connections that have not authenticated yet.
    unauthenticated: Limit,
    /// Requests read but not yet fully answered.
    busy: Arc<AtomicUsize>,
}

/// A count of clients held against a maximum (`rpcmaxclients`, `rpcmaxwebsockets`).
pub(crate) struct Limit {
    max: usize,
    held: Arc<AtomicUsize>,
}

impl Limit {
    fn new(max: usize) -> Limit {
        Limit {
            max,
            held: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// A slot while fewer than the maximum are held, or `None`.
    pub(crate) fn try_take(&self) -> Option<Slot> {
        let before = self.held.fetch_add(1, Ordering::SeqCst);
        // Dropping a refused slot gives the count back.
        let slot = Slot(self.held.clone());
        (before < self.max).then_some(slot)
    }

    /// The maximum, for log lines.
    pub(crate) fn max(&self) -> usize {
        self.max
    }
}

/// One client (or request) counted for as long as it lasts.
pub(crate) struct Slot(Arc<AtomicUsize>);

impl Slot {
    fn take(counter: &Arc<AtomicUsize>) -> Slot {
        counter.fetch_add(1, Ordering::SeqCst);
        Slot(counter.clone())
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
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

async fn accept_loop(
    ex: Weak<Executor<'static>>,
    l: Async<TcpListener>,
    app: Arc<App>,
    tls: Option<TlsAcceptor>,
) {
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
        let Some(unauthenticated) = app.state().unauthenticated.try_take() else {
            log::debug!(
                "RPC client {peer} closed: {UNAUTHENTICATED_CLIENTS} connections have not authenticated yet"
            );
            continue;
        };
        let app = app.clone();
        let tls = tls.clone();
        let client = async move {
            // Replies are written whole; waiting for more data to coalesce only adds latency.
            if let Err(e) = stream.get_ref().set_nodelay(true) {
                log::debug!("RPC client {peer}: {e}");
                return;
            }
            let control = Arc::new(Control::new(unauthenticated));
            let Some(acceptor) = tls else {
                return serve_connection(stream, peer, control, &app).await;
            };
            match tls::accept(&acceptor, stream, &control).await {
                Ok(stream) => serve_connection(stream, peer, control, &app).await,
                Err(e) => log::debug!("RPC client {peer}: TLS handshake failed: {e}"),
            }
        };
        // A task that panics unwinds through the executor's thread, which would end every
        // connection and close the listeners while the daemon runs on: one client's failure
        // ends its connection only. What it shares is counters and locks that recover from
        // poisoning, so nothing is left half-changed for the others.
        ex.spawn(async move {
            if AssertUnwindSafe(client).catch_unwind().await.is_err() {
                log::error!("RPC client {peer}: serving it failed (a bug, reported above); it was disconnected");
            }
        })
        .detach();
    }
}

/// What a connection's handlers leave for it: its peer, its control, its client slot once
/// it has authenticated, and a WebSocket upgrade to run after the 101 reply.
#[derive(Clone)]
struct Connection {
    peer: SocketAddr,
    control: Arc<Control>,
    slot: Arc<Mutex<Option<Slot>>>,
    upgrade: Arc<Mutex<Option<Upgrade>>>,
}

/// A WebSocket upgrade the `/ws` handler accepted.
struct Upgrade {
    rights: Option<Rights>,
    slot: Option<Slot>,
    switched: tide::http::upgrade::Receiver,
}

/// Serves one connection (plain or TLS) until it closes, is refused or becomes a WebSocket.
async fn serve_connection<S>(io: S, peer: SocketAddr, control: Arc<Control>, app: &App)
where
    S: AsyncRead + AsyncWrite + Send + Unpin + 'static,
{
    let io = conn::share(io, control.clone());
    let connection = Connection {
        peer,
        control: control.clone(),
        slot: Arc::default(),
        upgrade: Arc::default(),
    };
    let served = async_h1::accept(io.clone(), |mut req: Request| {
        let connection = connection.clone();
        async move {
            let expects_continue = req.header(headers::EXPECT).is_some();
            connection.control.write_through(expects_continue);
            if let Some(refusal) = refuse_framing(&req) {
                log::debug!("RPC client {}: {}", connection.peer, refusal.1);
                connection.control.close();
                return Ok(text(refusal.0, refusal.1));
            }
            req.ext_mut().insert(connection);
            app.respond(req).await
        }
    })
    .await;
    if let Err(e) = served {
        log::debug!("RPC client {peer}: {e}");
        if control.left_unanswered() {
            // A head the parser refused (obs-fold, a space before the colon...): RFC 9112's 400.
            let mut out = io.clone();
            if out.write_all(BAD_REQUEST).await.is_ok() {
                let _ = out.flush().await;
            }
        }
        return;
    }
    let pending = connection
        .upgrade
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .take();
    if let Some(up) = pending {
        if up.switched.await.is_some() {
            let shared = app.state();
            let client = shared.next_id.fetch_add(1, Ordering::Relaxed);
            super::ws::serve(io, &control, peer, client, up.rights, up.slot, shared).await;
        }
    }
}

/// The reply to a request head the parser could not read.
const BAD_REQUEST: &[u8] =
    b"HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 16\r\nConnection: close\r\n\r\n400 Bad Request\n";

/// Refuses a request whose body length is ambiguous or too big, before it is read: two
/// `Content-Length` headers, one that is not plain digits (RFC 9112 section 6.3: 400), a
/// `Transfer-Encoding` (btcd serves only lengths), or a body over [`MAX_BODY`].
fn refuse_framing(req: &Request) -> Option<(StatusCode, &'static str)> {
    if req.header(headers::TRANSFER_ENCODING).is_some() {
        return Some((StatusCode::LengthRequired, "send a Content-Length"));
    }
    let lengths = req.header(headers::CONTENT_LENGTH)?;
    let values: Vec<&str> = lengths.iter().map(|v| v.as_str()).collect();
    let [value] = values.as_slice() else {
        return Some((StatusCode::BadRequest, "more than one Content-Length"));
    };
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Some((StatusCode::BadRequest, "bad Content-Length"));
    }
    match value.parse::<usize>() {
        Ok(len) if len <= MAX_BODY => None,
        _ => Some((StatusCode::PayloadTooLarge, "request body too large")),
    }
}

/// A plain-text reply that closes the connection.
fn text(status: StatusCode, body: &str) -> Response {
    let mut res = Response::new(status);
    res.set_body(format!("{body}\n"));
    res.set_content_type(tide::http::mime::PLAIN);
    res.insert_header(headers::CONNECTION, "close");
    res
}

fn connection(req: &tide::Request<Arc<Shared>>) -> Connection {
    req.ext::<Connection>()
        .cloned()
        .expect("every request is tagged with its connection before tide routes it")
}

/// Checks a request's `Authorization` header: its rights, or the reply refusing it (which
/// closes the connection).
fn authenticate(
    req: &tide::Request<Arc<Shared>>,
    conn: &Connection,
) -> Result<Option<Rights>, Box<Response>> {
    let Some(header) = req.header(headers::AUTHORIZATION) else {
        return Ok(None);
    };
    match req.state().creds.check(header.as_str()) {
        Some(rights) => Ok(Some(rights)),
        None => {
            log::warn!("RPC authentication failure from {}", conn.peer);
            conn.control.close();
            Err(Box::new(unauthorized()))
        }
    }
}

fn unauthorized() -> Response {
    let mut res = text(StatusCode::Unauthorized, "401 Unauthorized.");
    res.insert_header(
        headers::WWW_AUTHENTICATE,
        format!("Basic realm=\"{REALM}\""),
    );
    res
}

/// Answers a client over the `what` limit with btcd's 503, closing it.
fn too_busy(conn: &Connection, what: &str, max: usize) -> Response {
    log::info!(
        "Max {what} clients exceeded [{max}] - disconnecting client {}",
        conn.peer
    );
    conn.control.close();
    text(
        StatusCode::ServiceUnavailable,
        "503 Too busy.  Try again later.",
    )
}

/// `POST /`: authenticates, takes the client's slot the first time, and runs the body on
/// the node.
async fn call(mut req: tide::Request<Arc<Shared>>) -> tide::Result {
    let conn = connection(&req);
    let rights = match authenticate(&req, &conn) {
        Ok(Some(rights)) => rights,
        Ok(None) => {
            log::warn!("RPC authentication failure from {}", conn.peer);
            conn.control.close();
            return Ok(unauthorized().into());
        }
        Err(refused) => return Ok((*refused).into()),
    };
    let shared = req.state().clone();
    {
        let mut slot = conn.slot.lock().unwrap_or_else(|e| e.into_inner());
        if slot.is_none() {
            match shared.clients.try_take() {
                Some(s) => *slot = Some(s),
                None => return Ok(too_busy(&conn, "RPC", shared.clients.max()).into()),
            }
        }
    }
    conn.control.authenticate(Some(READ_TIMEOUT));
    let _busy = Slot::take(&shared.busy);
    let body = req.body_bytes().await?;
    let looked_up = match &shared.lookups {
        Some(lookups) => lookups.answer(&body, rights, Transport::Http).await,
        None => None,
    };
    if let Some(body) = looked_up {
        return Ok(json_reply(body).into());
    }
    let id: RequestId = shared.next_id.fetch_add(1, Ordering::Relaxed);
    let (reply, answered) = smol::channel::bounded(1);
    let call = Event::Rpc {
        id,
        rights,
        body,
        reply,
    };
    let body = match shared.events.send(call).await {
        Ok(()) => answered.recv().await.ok(),
        Err(_) => None,
    };
    let body = body
        .unwrap_or_else(|| jsonrpc::response(Version::V1, None, Err(shutting_down())).to_string());
    Ok(json_reply(body).into())
}

/// A 200 reply carrying a JSON-RPC reply body.
fn json_reply(body: String) -> Response {
    let mut res = Response::new(StatusCode::Ok);
    res.set_body(body);
    res.set_content_type(tide::http::mime::JSON);
    res
}

/// `GET /ws`: switches to a WebSocket (RFC 6455). A wrong `Authorization` header is refused
/// as over HTTP; a client without one authenticates with its first message and takes its
/// `rpcmaxwebsockets` slot only then.
async fn upgrade(req: tide::Request<Arc<Shared>>) -> tide::Result {
    let conn = connection(&req);
    let key = req
        .header("Sec-WebSocket-Key")
        .map(|k| k.as_str().to_string());
    let upgrading = req
        .header(headers::UPGRADE)
        .is_some_and(|u| u.as_str().eq_ignore_ascii_case("websocket"));
    let Some(key) = key.filter(|_| upgrading) else {
        conn.control.close();
        let reply = text(
            StatusCode::BadRequest,
            "400 Bad Request: expected a WebSocket upgrade",
        );
        return Ok(reply.into());
    };
    let rights = match authenticate(&req, &conn) {
        Ok(rights) => rights,
        Err(refused) => return Ok((*refused).into()),
    };
    let shared = req.state();
    let slot = match rights {
        Some(_) => match shared.websockets.try_take() {
            Some(slot) => Some(slot),
            None => {
                return Ok(too_busy(&conn, "WebSocket", shared.websockets.max()).into());
            }
        },
        None => None,
    };
    if rights.is_some() {
        // Authenticated by its header: no deadline from here, not even before the switch.
        conn.control.authenticate(None);
    }
    let mut res = Response::new(StatusCode::SwitchingProtocols);
    res.insert_header(headers::UPGRADE, "websocket");
    res.insert_header(headers::CONNECTION, "Upgrade");
    res.insert_header("Sec-WebSocket-Accept", super::ws::accept_key(&key));
    let switched = res.recv_upgrade().await;
    *conn.upgrade.lock().unwrap_or_else(|e| e.into_inner()) = Some(Upgrade {
        rights,
        slot,
        switched,
    });
    Ok(res.into())
}
