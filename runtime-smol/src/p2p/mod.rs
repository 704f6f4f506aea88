//! The P2P driver: real TCP sockets around the sans-IO [`Node`]. One task owns the node and
//! feeds it what the sockets report, stamped with the wall clock; per-connection tasks only
//! move bytes. Framing, handshakes, bans and sync all stay in the core.

pub(crate) mod dialer;
pub(crate) mod onion;
pub(crate) mod progress;
pub(crate) mod socks5;

use crate::p2p::dialer::Dialer;
use crate::p2p::progress::Progress;
use futures::FutureExt;
use rbtcd_core::chain::ChainStore;
use rbtcd_core::mining::MinerWork;
use rbtcd_core::net::peer::{Direction, PeerId};
use rbtcd_core::node::{Input, Node, Notification, Output};
use smol::channel::{unbounded, Receiver, Sender};
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

/// Milliseconds since the Unix epoch: the node's notion of now.
pub fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// Work run on the node task with the node in hand (RPC handlers, block templates): the one
/// way other parts of the daemon read the node's state or feed it, without locks.
pub type Call<S> = Box<dyn FnOnce(&mut Node<S>) + Send>;

/// What the sockets and the rest of the daemon tell the node task.
pub enum Event<S: ChainStore> {
    /// A connection was accepted or dialled.
    Connection(TcpStream, SocketAddr, Direction),
    /// Something for the node itself (closes, writes done, submitted blocks...).
    Input(Input),
    /// Bytes read from a connection; the reader waits for the signal on the sender before
    /// reading more, so a peer sending faster than the node decodes is held back by TCP
    /// instead of queueing here.
    Received(PeerId, Vec<u8>, Sender<()>),
    /// Run this with the node; whatever it makes the node want done is carried out after.
    Call(Call<S>),
    /// Shut down: close every connection and return the node.
    Stop,
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
/// accepting on `listeners` and making outbound connections the way `dialer` says (directly by
/// default, or through proxies). Every notification is logged and, when `notify` is given,
/// also sent there (as anything made from a notification, so a listener can mix in its own
/// messages in order); the node's mining work goes to `miner` (the miner threads' feed).
/// Returns the node so the caller can close its store.
pub async fn run<S: ChainStore + Send + 'static, N: From<Notification>>(
    mut node: Node<S>,
    listeners: Vec<TcpListener>,
    events: (Sender<Event<S>>, Receiver<Event<S>>),
    notify: Option<Sender<N>>,
    miner: Option<Sender<Option<MinerWork>>>,
    dialer: Dialer,
) -> Node<S> {
    let (tx, rx) = events;
    let dialer = Arc::new(dialer);
    let accept_tasks: Vec<smol::Task<()>> = listeners
        .into_iter()
        .map(|l| smol::spawn(accept_loop(l, tx.clone())))
        .collect();
    let mut writers = Writers::new();
    let mut progress = Progress::new(unix_ms());
    let mut next_peer: PeerId = 1;
    // The node may want things done before any event (dialling its permanent peers).
    let sinks = Sinks {
        notify: notify.as_ref(),
        miner: miner.as_ref(),
        dialer: &dialer,
    };
    let mut stopped = drain(&mut node, &mut writers, &mut progress, &tx, &sinks);
    while !stopped {
        let event = match node.poll_timeout() {
            Some(deadline) => {
                let wait = Duration::from_millis(deadline.saturating_sub(unix_ms()));
                futures::select! {
                    e = rx.recv().fuse() => e.ok(),
                    _ = FutureExt::fuse(smol::Timer::after(wait)) => Some(Event::Input(Input::Tick)),
                }
            }
            None => rx.recv().await.ok(),
        };
        let Some(event) = event else { break };
        let input = match event {
            Event::Stop => break,
            Event::Input(input) => input,
            Event::Received(peer, bytes, done) => {
                node.handle(unix_ms(), Input::Received { peer, bytes });
                stopped = drain(&mut node, &mut writers, &mut progress, &tx, &sinks);
                let _ = done.try_send(());
                continue;
            }
            Event::Call(call) => {
                call(&mut node);
                stopped = drain(&mut node, &mut writers, &mut progress, &tx, &sinks);
                continue;
            }
            Event::Connection(stream, addr, direction) => {
                let peer = next_peer;
                next_peer += 1;
                let (wtx, wrx) = unbounded();
                writers.insert(
                    peer,
                    Writer {
                        queue: wtx,
                        stream: stream.clone(),
                    },
                );
                smol::spawn(write_loop(stream.clone(), peer, wrx, tx.clone())).detach();
                smol::spawn(read_loop(stream, peer, tx.clone())).detach();
                Input::Connected {
                    peer,
                    addr,
                    direction,
                }
            }
        };
        node.handle(unix_ms(), input);
        stopped = drain(&mut node, &mut writers, &mut progress, &tx, &sinks);
    }
    drop(accept_tasks);
    for (_, w) in std::mem::take(&mut writers) {
        w.close();
    }
    node
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

/// The open connections' writers, by peer.
type Writers = BTreeMap<PeerId, Writer>;

/// Where the node's notifications and mining work go besides the log.
struct Sinks<'a, N> {
    notify: Option<&'a Sender<N>>,
    miner: Option<&'a Sender<Option<MinerWork>>>,
    dialer: &'a Arc<Dialer>,
}

/// Carries out everything the node wants done; true when it reported a fatal error.
fn drain<S: ChainStore + Send + 'static, N: From<Notification>>(
    node: &mut Node<S>,
    writers: &mut Writers,
    progress: &mut Progress,
    tx: &Sender<Event<S>>,
    sinks: &Sinks<'_, N>,
) -> bool {
    let mut fatal = false;
    while let Some(output) = node.poll_output() {
        match output {
            Output::Send { peer, bytes } => {
                if let Some(w) = writers.get(&peer) {
                    // A closed writer means the reader is reporting the disconnect.
                    let _ = w.queue.try_send(bytes);
                }
            }
            Output::Disconnect { peer, reason } => {
                log::debug!(target: "rbtcd::p2p::peer", "Disconnecting peer {peer}: {reason:?}");
                if let Some(w) = writers.remove(&peer) {
                    w.close();
                }
            }
            Output::Connect { addr } => {
                smol::spawn(dial(addr, tx.clone(), Arc::clone(sinks.dialer))).detach();
            }
            Output::Resolve { seed } => {
                let port = node.chain().params().default_port;
                smol::spawn(resolve_seed(seed, port, tx.clone())).detach();
            }
            Output::Notify(n) => {
                fatal |= matches!(n, Notification::Fatal(_));
                log_notification(&n);
                if let Notification::BlockConnected {
                    height, txs, time, ..
                } = &n
                {
                    if let Some(line) = progress.block(*txs, *height, *time, unix_ms()) {
                        log::info!(target: "rbtcd::p2p::sync", "{line}");
                    }
                }
                if let Some(sink) = sinks.notify {
                    let _ = sink.try_send(n.into());
                }
            }
            Output::MineOn(work) => match sinks.miner {
                Some(miner) => {
                    let _ = miner.try_send(work.map(|w| *w));
                }
                None => log::warn!(target: "rbtcd::miner", "no miner threads to mine with"),
            },
        }
    }
    fatal
}

async fn accept_loop<S: ChainStore>(listener: TcpListener, tx: Sender<Event<S>>) {
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

async fn dial<S: ChainStore>(addr: SocketAddr, tx: Sender<Event<S>>, dialer: Arc<Dialer>) {
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

/// Looks up a DNS seed for the node (the core never touches DNS).
async fn resolve_seed<S: ChainStore>(seed: String, port: u16, tx: Sender<Event<S>>) {
    let addrs = match smol::net::resolve((seed.as_str(), port)).await {
        Ok(addrs) => addrs,
        Err(e) => {
            log::info!(target: "rbtcd::p2p", "DNS seed {seed} lookup failed: {e}");
            Vec::new()
        }
    };
    let _ = tx.send(Event::Input(Input::Resolved { seed, addrs })).await;
}

/// Reads `peer`'s bytes for the node, one chunk at a time: the next read waits until the node
/// handled the last chunk, so at most [`READ_CHUNK`] bytes per connection wait in the queue.
async fn read_loop<S: ChainStore>(mut stream: TcpStream, peer: PeerId, tx: Sender<Event<S>>) {
    let mut buf = vec![0u8; READ_CHUNK];
    loop {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                // A node task that stops drops the sender, which ends this loop.
                let (done_tx, done_rx) = smol::channel::bounded(1);
                let event = Event::Received(peer, buf[..n].to_vec(), done_tx);
                if tx.send(event).await.is_err() || done_rx.recv().await.is_err() {
                    return;
                }
            }
        }
    }
    let _ = tx.send(Event::Input(Input::Disconnected { peer })).await;
}

/// Writes what the node sends to `peer`, reporting each write so the node can tell a peer
/// that does not read (its send queue limit).
async fn write_loop<S: ChainStore>(
    mut stream: TcpStream,
    peer: PeerId,
    rx: Receiver<Vec<u8>>,
    tx: Sender<Event<S>>,
) {
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
