//! The node task: the sans-IO [`Node`] driven as its driver contract says. One task owns the
//! node and feeds it what the sockets, the RPC server and the miner threads report, stamped
//! with the wall clock, then carries out what the node asks: bytes to peers, replies to RPC
//! callers and WebSocket clients, logging levels, mining work, shutdown. Per-connection tasks
//! only move bytes. Framing, handshakes, bans, sync and RPC dispatch all stay in the core.

pub(crate) mod dialer;
pub(crate) mod onion;
pub(crate) mod progress;
pub(crate) mod seeds;
pub(crate) mod socks5;
pub(crate) mod upnp;

use crate::p2p::dialer::Dialer;
use crate::p2p::progress::Progress;
use crate::p2p::seeds::SeedResolver;
use crate::rpc::lookups::Published;
use crate::rpc::render::RenderPool;
use crate::rpc::ws::WsQueue;
use futures::FutureExt;
use rbtcd_core::chain::ChainStore;
use rbtcd_core::mining::MinerWork;
use rbtcd_core::net::peer::{Direction, PeerId};
use rbtcd_core::node::{Input, Node, Notification, Output};
use rbtcd_core::primitives::Block;
use rbtcd_core::rpc::ws::ClientId;
use rbtcd_core::rpc::{RequestId, Rights};
use rbtcd_core::time::Time;
use rbtcd_core::wire::protocol::MAX_PROTOCOL_MESSAGE_LENGTH;
use rbtcd_core::wire::Decoder;
use smol::channel::{unbounded, Receiver, Sender, TryRecvError};
use smol::io::{AsyncReadExt, AsyncWriteExt};
use smol::net::{TcpListener, TcpStream};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How long an outbound dial may take (btcd's default connect timeout).
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// Bytes read from a socket at a time.
const READ_CHUNK: usize = 64 * 1024;
/// Bytes a reader reads ahead while the node still handles what it was given last: enough
/// for the next block to arrive and be decoded while the node validates the one before (Core
/// reads up to its 5 MB receive flood size ahead). A reader also stops once it decoded a
/// block, so at most one block waits decoded beside the node's.
const READ_AHEAD: usize = MAX_PROTOCOL_MESSAGE_LENGTH as usize + READ_CHUNK;

/// The wall clock as the node reads it.
pub fn now() -> Time {
    let since_epoch = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    Time::from_millis(u64::try_from(since_epoch.as_millis()).unwrap_or(u64::MAX))
}

/// What the sockets and the rest of the daemon tell the node task.
pub enum Event {
    /// A connection was accepted or dialled.
    Connection(TcpStream, SocketAddr, Direction),
    /// Something for the node itself (closes, writes done, submitted blocks, WebSocket
    /// messages...).
    Input(Input),
    /// Bytes read from a connection, with the blocks among them the reader already decoded;
    /// the reader hands nothing more over until the signal on the sender, given once the node
    /// handled every complete message in them ([`Node::receive_paused`]), and reads at most
    /// [`READ_AHEAD`] bytes ahead meanwhile, so a peer sending faster than the node serves it
    /// is held back by TCP instead of queueing here.
    Received(PeerId, Vec<u8>, Vec<BlockAhead>, Sender<()>),
    /// An authenticated HTTP JSON-RPC request (the RPC server's `id`); the reply body goes to
    /// `reply`.
    Rpc {
        /// The RPC server's token for the request.
        id: RequestId,
        /// What the caller may do.
        rights: Rights,
        /// The request body.
        body: Vec<u8>,
        /// Where the reply body goes.
        reply: Sender<String>,
    },
    /// A WebSocket client connected (the RPC server's `client` token); what the node sends
    /// it goes to `queue`, and dropping `queue` closes the connection.
    WsOpened {
        /// The RPC server's token for the connection.
        client: ClientId,
        /// What its upgrade request's credentials allow, if it had any.
        rights: Option<Rights>,
        /// Its outgoing queue.
        queue: WsQueue,
    },
    /// Shut down: close every connection and return the node.
    Stop,
}

/// Messages queued for one WebSocket client before it counts as too slow and is dropped, so
/// a slow reader never holds up the node or other clients.
pub const WS_QUEUE_LIMIT: usize = 4096;

/// A block message a reader decoded: its frame's stream offset, its payload's length, the
/// block (see [`Input::DecodedBlock`]).
pub type BlockAhead = (u64, usize, Block);

/// Where the node task sends what is not for a socket.
#[derive(Default)]
pub struct Sinks {
    /// Every notification (tests watch the node through it).
    pub notify: Option<Sender<Notification>>,
    /// The miner threads' feed ([`crate::miner::generate::spawn_miner`]).
    pub miner: Option<Sender<Option<MinerWork>>>,
    /// Told when the node asks to shut down (the `stop` RPC).
    pub shutdown: Option<Sender<()>>,
    /// How outbound connections are made (directly, or through proxies).
    pub dialer: Dialer,
    /// Where RPC replies the node leaves to its driver are rendered.
    pub renders: RenderPool,
    /// Where the node's chain is published for the RPC server's lookups.
    pub published: Option<Arc<Published>>,
    /// The data directory `savemempool` writes `mempool.dat` into (`None`: it is not written).
    pub mempool_dir: Option<std::path::PathBuf>,
}

/// The node task's open channels: peers' writers, RPC callers waiting for replies and
/// WebSocket clients' queues.
#[derive(Default)]
struct Channels {
    writers: BTreeMap<PeerId, Writer>,
    replies: BTreeMap<RequestId, Sender<String>>,
    websockets: BTreeMap<ClientId, WsQueue>,
}

/// One connection's outgoing side: the queue its writer task drains, and the socket.
struct Writer {
    queue: Sender<Vec<u8>>,
    stream: TcpStream,
}

impl Writer {
    /// Closes the connection now: the queue (so the writer task ends) and the socket itself,
    /// so a writer blocked on a peer that does not read is released and its queued bytes freed,
    /// and the reader stops reading from a peer the node already dropped.
    fn close(self) {
        self.queue.close();
        let _ = self.stream.shutdown(std::net::Shutdown::Both);
    }
}

/// Binds every listen address, or says which one failed and why (a busy port, typically).
pub async fn bind(addrs: &[SocketAddr]) -> Result<Vec<TcpListener>, String> {
    let mut listeners = Vec::with_capacity(addrs.len());
    for addr in addrs {
        let l = TcpListener::bind(addr)
            .await
            .map_err(|e| format!("can't listen on {addr}: {e}"))?;
        log::info!(target: "rbtcd::p2p", "Server listening on {}", l.local_addr().map_or(*addr, |a| a));
        listeners.push(l);
    }
    Ok(listeners)
}

/// Runs `node` until [`Event::Stop`] arrives on `events` or the node reports a fatal error,
/// accepting peers on `listeners` and sending what is not for a socket to `sinks`. Every
/// notification is logged. Returns the node so the caller can close its store.
pub async fn run<S: ChainStore + Send + 'static>(
    mut node: Node<S>,
    listeners: Vec<TcpListener>,
    events: (Sender<Event>, Receiver<Event>),
    sinks: Sinks,
) -> Node<S> {
    let (tx, rx) = events;
    let seeds = SeedResolver::new(sinks.dialer.proxy.clone());
    let dialer = Arc::new(sinks.dialer.clone());
    let accept_tasks: Vec<smol::Task<()>> = listeners
        .into_iter()
        .map(|l| smol::spawn(accept_loop(l, tx.clone())))
        .collect();
    let mut channels = Channels::default();
    let mut progress = Progress::new(now());
    let mut next_peer: PeerId = 1;
    let mut task = Task {
        channels: &mut channels,
        progress: &mut progress,
        tx: &tx,
        sinks: &sinks,
        dialer: &dialer,
        seeds: &seeds,
    };
    // The node may want things done before any event (dialling its permanent peers).
    let mut stopped = task.drain(&mut node);
    // One timer, moved only when the node's next deadline moves: arming a timer wakes
    // async-io's reactor thread, and a fresh timer per event (every RPC call is one) cost a
    // thread wake-up each.
    let mut timer = smol::Timer::never();
    let mut armed: Option<Time> = None;
    // Readers waiting for their peer's messages to be handled before they read more.
    let mut paused: BTreeMap<PeerId, Sender<()>> = BTreeMap::new();
    while !stopped {
        let event = if node.turns_waiting() {
            // Peers' messages wait for their turns: let the sockets' tasks run, then take what
            // arrived meanwhile, or else serve the next turn at once (no timer: arming one
            // wakes the reactor thread).
            smol::future::yield_now().await;
            match rx.try_recv() {
                Ok(e) => Some(e),
                Err(TryRecvError::Empty) => Some(Event::Input(Input::Tick)),
                Err(TryRecvError::Closed) => None,
            }
        } else {
            let deadline = node.poll_timeout();
            if deadline != armed {
                match deadline {
                    Some(at) => timer.set_after(at.since(now())),
                    None => timer = smol::Timer::never(),
                }
                armed = deadline;
            }
            futures::select! {
                e = rx.recv().fuse() => e.ok(),
                _ = FutureExt::fuse(&mut timer) => {
                    // A fired timer stays silent until it is set again.
                    armed = None;
                    Some(Event::Input(Input::Tick))
                }
            }
        };
        let Some(event) = event else { break };
        let input = match event {
            Event::Stop => break,
            Event::Received(peer, bytes, blocks, done) => {
                paused.insert(peer, done);
                for (at, len, block) in blocks {
                    let block = Box::new(block);
                    node.handle(
                        now(),
                        Input::DecodedBlock {
                            peer,
                            at,
                            len,
                            block,
                        },
                    );
                }
                Input::Received { peer, bytes }
            }
            Event::Input(input) => {
                if let Input::WsClosed { client } = input {
                    task.channels.websockets.remove(&client);
                }
                input
            }
            Event::Rpc {
                id,
                rights,
                body,
                reply,
            } => {
                task.channels.replies.insert(id, reply);
                Input::Rpc { id, rights, body }
            }
            Event::WsOpened {
                client,
                rights,
                queue,
            } => {
                task.channels.websockets.insert(client, queue);
                Input::WsOpened { client, rights }
            }
            Event::Connection(stream, addr, direction) => {
                let peer = next_peer;
                next_peer += 1;
                let (wtx, wrx) = unbounded();
                let writer = Writer {
                    queue: wtx,
                    stream: stream.clone(),
                };
                task.channels.writers.insert(peer, writer);
                smol::spawn(write_loop(stream.clone(), peer, wrx, tx.clone())).detach();
                let magic = node.chain().params().magic;
                smol::spawn(read_loop(stream, peer, magic, tx.clone())).detach();
                Input::Connected {
                    peer,
                    addr,
                    direction,
                }
            }
        };
        node.handle(now(), input);
        stopped = task.drain(&mut node);
        // A peer whose messages all got their turns may send more (Core's `fPauseRecv`): what
        // a flooding peer makes the node hold stays within one read.
        paused.retain(|peer, done| {
            node.receive_paused(*peer) || {
                // A reader that is gone has nothing more to read.
                let _ = done.try_send(());
                false
            }
        });
    }
    drop(accept_tasks);
    // Calls still queued hold their callers' reply channels: drop them now, so every caller
    // hears the node is gone instead of waiting (and holding shutdown) forever.
    rx.close();
    while rx.try_recv().is_ok() {}
    for (_, w) in std::mem::take(&mut task.channels.writers) {
        w.close();
    }
    node
}

/// What [`run`] carries the node's outputs out with.
struct Task<'a> {
    channels: &'a mut Channels,
    progress: &'a mut Progress,
    tx: &'a Sender<Event>,
    sinks: &'a Sinks,
    dialer: &'a Arc<Dialer>,
    seeds: &'a SeedResolver,
}

impl Task<'_> {
    /// Carries out everything the node wants done; true when it reported a fatal error.
    fn drain<S: ChainStore + Send + 'static>(&mut self, node: &mut Node<S>) -> bool {
        let mut fatal = false;
        loop {
            // Before any reply of the input goes out, so no caller reads an older chain in a
            // block lookup than a reply it already has.
            if let Some(published) = &self.sinks.published {
                published.update(node);
            }
            let Some(output) = node.poll_output() else {
                break;
            };
            match output {
                Output::Send { peer, bytes } => {
                    if let Some(w) = self.channels.writers.get(&peer) {
                        // A closed writer means the reader is reporting the disconnect.
                        let _ = w.queue.try_send(bytes);
                    }
                }
                Output::Disconnect { peer, reason } => {
                    log::debug!(target: "rbtcd::p2p::peer", "Disconnecting peer {peer}: {reason:?}");
                    if let Some(w) = self.channels.writers.remove(&peer) {
                        w.close();
                    }
                }
                Output::Connect { addr } => {
                    smol::spawn(dial(addr, self.tx.clone(), Arc::clone(self.dialer))).detach();
                }
                Output::Resolve { seed } => {
                    let (seeds, tx) = (self.seeds.clone(), self.tx.clone());
                    smol::spawn(async move {
                        let addrs = seeds.lookup(&seed).await;
                        let _ = tx.send(Event::Input(Input::Resolved { seed, addrs })).await;
                    })
                    .detach();
                }
                Output::Notify(n) => {
                    fatal |= matches!(n, Notification::Fatal(_));
                    log_notification(&n);
                    if let Notification::BlockConnected {
                        height, txs, time, ..
                    } = &n
                    {
                        if let Some(line) = self.progress.block(*txs, *height, *time, now()) {
                            log::info!(target: "rbtcd::p2p::sync", "{line}");
                        }
                    }
                    if let Some(sink) = &self.sinks.notify {
                        let _ = sink.try_send(n);
                    }
                }
                Output::MineOn(work) => match &self.sinks.miner {
                    Some(miner) => {
                        let _ = miner.try_send(work.map(|w| *w));
                    }
                    None => log::warn!(target: "rbtcd::miner", "no miner threads to mine with"),
                },
                Output::RpcReply { id, body } => {
                    // A caller that went away no longer waits.
                    if let Some(reply) = self.channels.replies.remove(&id) {
                        let _ = reply.try_send(body);
                    }
                }
                Output::RpcRender { id, job } => {
                    if let Some(reply) = self.channels.replies.remove(&id) {
                        self.sinks.renders.render(job, reply);
                    }
                }
                Output::Ws { client, text } => self.send_websocket(node, client, text),
                // The connection task read the same verdict from the handshake itself and
                // took the client's `rpcmaxwebsockets` slot then.
                Output::WsAuthenticated { .. } => {}
                Output::WsClose { client } => {
                    // Dropping the queue ends the connection's task, which closes it.
                    self.channels.websockets.remove(&client);
                }
                Output::LogLevels(spec) => crate::logging::apply(&spec),
                // The call is answered once the node hears how the write went.
                Output::SaveMempool { save, bytes } => {
                    let saved = match &self.sinks.mempool_dir {
                        Some(dir) => crate::mempool_file::save_logged(dir, &bytes),
                        None => {
                            log::warn!(target: "rbtcd::mempool", "no data directory to save the mempool in");
                            false
                        }
                    };
                    node.handle(now(), Input::MempoolSaved { save, saved });
                }
                Output::Shutdown => {
                    if let Some(shutdown) = &self.sinks.shutdown {
                        let _ = shutdown.try_send(());
                    }
                }
            }
        }
        fatal
    }

    /// Queues `text` for a WebSocket client; one whose queue is full is closed at once (its
    /// slot freed, nothing more written), and the node told so.
    fn send_websocket<S: ChainStore + Send + 'static>(
        &mut self,
        node: &mut Node<S>,
        client: ClientId,
        text: String,
    ) {
        let Some(queue) = self.channels.websockets.get(&client) else {
            return;
        };
        if !queue.push(text) {
            log::warn!(
                target: "rbtcd::rpc",
                "WebSocket client {client} does not read what it is sent; disconnecting it"
            );
            queue.evict();
            self.channels.websockets.remove(&client);
            node.handle(now(), Input::WsClosed { client });
        }
    }
}

async fn accept_loop(listener: TcpListener, tx: Sender<Event>) {
    loop {
        match listener.accept().await {
            Ok((stream, addr)) => {
                if tx
                    .send(Event::Connection(stream, addr, Direction::Inbound))
                    .await
                    .is_err()
                {
                    return;
                }
            }
            Err(e) => {
                log::warn!(target: "rbtcd::p2p", "Can't accept connection: {e}");
                smol::Timer::after(Duration::from_millis(100)).await;
            }
        }
    }
}

async fn dial(addr: SocketAddr, tx: Sender<Event>, dialer: Arc<Dialer>) {
    let connect = dialer.dial(addr).fuse();
    let timeout = FutureExt::fuse(smol::Timer::after(CONNECT_TIMEOUT));
    futures::pin_mut!(connect, timeout);
    let result = futures::select! {
        r = connect => r,
        _ = timeout => Err(crate::p2p::dialer::DialError::Io(std::io::ErrorKind::TimedOut.into())),
    };
    match result {
        Ok(stream) => {
            let _ = tx
                .send(Event::Connection(stream, addr, Direction::Outbound))
                .await;
        }
        Err(e) => {
            log::debug!(target: "rbtcd::p2p", "Failed to connect to {addr}: {e}");
            let _ = tx.send(Event::Input(Input::ConnectFailed { addr })).await;
        }
    }
}

/// Reads `peer`'s bytes for the node. What was read is handed over once the node handled
/// every complete message of what it was handed before (one per turn, in turn with other
/// peers); meanwhile the reader reads on, up to [`READ_AHEAD`] bytes or one block, and decodes
/// the blocks among them (a copy of the stream through a [`Decoder`] of its own), so the next block is
/// already decoded, off the node's thread, when the node is done validating the last.
async fn read_loop(mut stream: TcpStream, peer: PeerId, magic: [u8; 4], tx: Sender<Event>) {
    let mut buf = vec![0u8; READ_CHUNK];
    let mut ahead = Decoder::new(magic);
    let mut held: Vec<u8> = Vec::new();
    let mut blocks: Vec<BlockAhead> = Vec::new();
    // The node's signal that it handled what it was handed last.
    let mut handling: Option<Receiver<()>> = None;
    loop {
        if handling.is_none() && !held.is_empty() {
            let (done_tx, done_rx) = smol::channel::bounded(1);
            let bytes = std::mem::take(&mut held);
            let event = Event::Received(peer, bytes, std::mem::take(&mut blocks), done_tx);
            // A node task that stops drops the receiver, which ends this loop.
            if tx.send(event).await.is_err() {
                return;
            }
            handling = Some(done_rx);
        }
        let handled = async {
            match &handling {
                Some(done) => Step::Handled(done.recv().await.is_ok()),
                None => futures::future::pending().await,
            }
        };
        let room = held.len() < READ_AHEAD && blocks.is_empty();
        let read = async {
            match room {
                true => Step::Read(stream.read(&mut buf).await),
                false => futures::future::pending().await,
            }
        };
        match smol::future::or(handled, read).await {
            Step::Handled(true) => handling = None,
            Step::Handled(false) => return,
            Step::Read(Ok(0) | Err(_)) => break,
            Step::Read(Ok(n)) => {
                held.extend_from_slice(&buf[..n]);
                ahead.push(&buf[..n]);
                while let Some(frame) = ahead.next_block() {
                    blocks.extend(frame);
                }
            }
        }
    }
    // What was read before the close is still the node's, ahead of the close itself.
    if !held.is_empty() {
        let (done_tx, _) = smol::channel::bounded(1);
        let _ = tx.send(Event::Received(peer, held, blocks, done_tx)).await;
    }
    let _ = tx.send(Event::Input(Input::Disconnected { peer })).await;
}

/// What a reader waited for.
enum Step {
    /// The node handled what it was handed (false: the node task is gone).
    Handled(bool),
    /// A read finished.
    Read(std::io::Result<usize>),
}

/// Writes what the node sends to `peer`, reporting each write so the node can tell a peer
/// that does not read (its send queue limit).
async fn write_loop(mut stream: TcpStream, peer: PeerId, rx: Receiver<Vec<u8>>, tx: Sender<Event>) {
    while let Ok(bytes) = rx.recv().await {
        if stream.write_all(&bytes).await.is_err() {
            break;
        }
        let sent = Input::Sent {
            peer,
            bytes: bytes.len(),
        };
        if tx.send(Event::Input(sent)).await.is_err() {
            break;
        }
    }
    let _ = stream.shutdown(std::net::Shutdown::Both);
}

fn log_notification(n: &Notification) {
    match n {
        Notification::PeerReady(peer) => {
            log::info!(target: "rbtcd::p2p::peer", "New valid peer {peer}")
        }
        Notification::BlockConnected { hash, height, .. } => {
            log::debug!(target: "rbtcd::p2p", "Block connected (height {height}, hash {hash})")
        }
        Notification::BlockDisconnected { hash, height } => {
            log::info!(target: "rbtcd::p2p", "Block disconnected (height {height}, hash {hash})")
        }
        Notification::TxAccepted(tx) => {
            log::debug!(target: "rbtcd::p2p", "Accepted transaction {}", tx.txid())
        }
        Notification::TxRejected { txid, reason } => {
            log::info!(target: "rbtcd::p2p", "Rejected transaction {txid}: {reason:?}")
        }
        Notification::Banned { ip, until } => {
            log::info!(target: "rbtcd::p2p::peer", "Banned peer {ip} until {until} ms")
        }
        Notification::Fatal(e) => log::error!(target: "rbtcd::p2p", "Stopping the node: {e}"),
    }
}

#[cfg(test)]
mod tests;
