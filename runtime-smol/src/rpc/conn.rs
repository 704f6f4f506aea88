//! One RPC client connection as the HTTP parser and the WebSocket side read it: the socket
//! (plain or TLS) behind a read deadline and, until the client has authenticated, a byte
//! budget, so a client without credentials can hold neither time nor memory.

use futures::io::{AsyncRead, AsyncWrite};
use smol::Timer;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use super::http::Slot;

/// How long a client may take to authenticate from when it connected (absolute: nothing it
/// sends extends it), and how long an authenticated HTTP client may take over each request.
pub const READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Bytes a client may send before it has authenticated: a request head with credentials, or a
/// WebSocket upgrade and its `authenticate` message. More closes the connection.
pub const UNAUTHENTICATED_BYTES: usize = 16 * 1024;
/// Connections that may be open at once without having authenticated; more are closed as
/// they are accepted. Each holds at most [`UNAUTHENTICATED_BYTES`] for at most
/// [`READ_TIMEOUT`], so together they can hold neither much memory nor the process's file
/// descriptors, and a flood of them clears within one timeout.
pub const UNAUTHENTICATED_CLIENTS: usize = 128;

/// What the server decides about a connection while the parser reads it.
pub struct Control {
    /// When reading gives up; `None` for no limit (an authenticated WebSocket).
    deadline: Mutex<Option<Instant>>,
    authenticated: AtomicBool,
    /// The connection's place among the [`UNAUTHENTICATED_CLIENTS`], given back once it
    /// authenticates (or closes).
    unauthenticated: Mutex<Option<Slot>>,
    /// Bytes read while not authenticated.
    unauthenticated_read: AtomicUsize,
    /// The connection is being closed after a refusal: reads end, so nothing more is drained.
    closing: AtomicBool,
    /// Bytes of a request were read that no reply has followed yet.
    unanswered: AtomicBool,
    timed_out: AtomicBool,
    /// Writes go straight to the socket: async-h1 writes `100 Continue` from a task of its
    /// own and never flushes it.
    write_through: AtomicBool,
}

impl Control {
    /// A connection just accepted, holding `unauthenticated` until it authenticates: its
    /// authentication deadline starts now.
    pub fn new(unauthenticated: Slot) -> Control {
        Control {
            deadline: Mutex::new(Some(Instant::now() + READ_TIMEOUT)),
            authenticated: AtomicBool::new(false),
            unauthenticated: Mutex::new(Some(unauthenticated)),
            unauthenticated_read: AtomicUsize::new(0),
            closing: AtomicBool::new(false),
            unanswered: AtomicBool::new(false),
            timed_out: AtomicBool::new(false),
            write_through: AtomicBool::new(false),
        }
    }

    /// The client proved its credentials; `deadline` applies from now on.
    pub fn authenticate(&self, deadline: Option<Duration>) {
        self.authenticated.store(true, Ordering::SeqCst);
        self.set_deadline(deadline);
        self.unauthenticated
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
    }

    /// Runs `work` (a TLS handshake) until it ends or the read deadline passes, so a client
    /// that opens a connection and never finishes its handshake holds its place no longer
    /// than one that never sends a request.
    pub async fn before_deadline<T>(
        &self,
        work: impl Future<Output = io::Result<T>>,
    ) -> io::Result<T> {
        let Some(deadline) = self.deadline() else {
            return work.await;
        };
        let expired = async {
            Timer::at(deadline).await;
            self.timed_out.store(true, Ordering::SeqCst);
            Err(io::ErrorKind::TimedOut.into())
        };
        smol::future::or(work, expired).await
    }

    /// Whether the client has authenticated.
    pub fn is_authenticated(&self) -> bool {
        self.authenticated.load(Ordering::SeqCst)
    }

    fn set_deadline(&self, after: Option<Duration>) {
        let mut d = self.deadline.lock().unwrap_or_else(|e| e.into_inner());
        *d = after.map(|a| Instant::now() + a);
    }

    fn deadline(&self) -> Option<Instant> {
        *self.deadline.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether writes go straight to the socket (for a request that expects `100 Continue`)
    /// or are gathered until a flush.
    pub fn write_through(&self, on: bool) {
        self.write_through.store(on, Ordering::SeqCst);
    }

    /// Ends reading: the reply being written is the last.
    pub fn close(&self) {
        self.closing.store(true, Ordering::SeqCst);
    }

    /// Whether a request was cut short by a parse error (not by a timeout or a refusal the
    /// server already answered), so it deserves a 400.
    pub fn left_unanswered(&self) -> bool {
        self.unanswered.load(Ordering::SeqCst)
            && !self.timed_out.load(Ordering::SeqCst)
            && !self.closing.load(Ordering::SeqCst)
    }
}

/// Reply bytes held back until a flush (or until this many are held): async-h1 writes a
/// reply's head and its body separately, and with `TCP_NODELAY` each write was a packet of
/// its own and a wake-up for the client. Every writer here flushes at the end of what it
/// sends (async-h1 after each reply, tungstenite after each message).
const WRITE_BUFFER: usize = 64 * 1024;

/// A socket read through a [`Control`], its writes gathered until each flush.
pub struct Guarded<S> {
    io: S,
    control: std::sync::Arc<Control>,
    timer: Timer,
    armed: Option<Instant>,
    /// Bytes written to this and not yet to the socket, from `out_sent` on.
    out: Vec<u8>,
    out_sent: usize,
}

impl<S> Guarded<S> {
    /// Wraps `io`, read as `control` says.
    pub fn new(io: S, control: std::sync::Arc<Control>) -> Self {
        Guarded {
            io,
            control,
            timer: Timer::never(),
            armed: None,
            out: Vec::new(),
            out_sent: 0,
        }
    }

    /// Ready with an error once the deadline has passed; registers the waker otherwise.
    fn poll_deadline(&mut self, cx: &mut Context<'_>) -> Poll<io::Error> {
        let Some(deadline) = self.control.deadline() else {
            return Poll::Pending;
        };
        loop {
            if Instant::now() >= deadline {
                self.control.timed_out.store(true, Ordering::SeqCst);
                return Poll::Ready(io::ErrorKind::TimedOut.into());
            }
            // Arming a timer wakes the reactor's thread, and the deadline moves with every
            // request: a timer armed for no later than the deadline is kept, and moved to the
            // deadline only when it fires early.
            if self.armed.is_none_or(|at| at > deadline) {
                self.timer.set_at(deadline);
                self.armed = Some(deadline);
            }
            match Pin::new(&mut self.timer).poll(cx) {
                Poll::Ready(_) => self.armed = None,
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Guarded<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let control = this.control.clone();
        if control.closing.load(Ordering::SeqCst) {
            return Poll::Ready(Ok(0));
        }
        // Before authentication, never read past the budget.
        let buf = if control.is_authenticated() {
            buf
        } else {
            let left = UNAUTHENTICATED_BYTES
                .saturating_sub(control.unauthenticated_read.load(Ordering::SeqCst));
            if left == 0 {
                return Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "sent too much before authenticating",
                )));
            }
            let n = buf.len().min(left);
            &mut buf[..n]
        };
        match Pin::new(&mut this.io).poll_read(cx, buf) {
            Poll::Ready(Ok(n)) => {
                if !control.is_authenticated() {
                    control.unauthenticated_read.fetch_add(n, Ordering::SeqCst);
                }
                if n > 0 {
                    control.unanswered.store(true, Ordering::SeqCst);
                }
                Poll::Ready(Ok(n))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => this.poll_deadline(cx).map(Err),
        }
    }
}

impl<S: AsyncWrite + Unpin> Guarded<S> {
    /// Writes out what is held.
    fn poll_write_out(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.out_sent < self.out.len() {
            let pending = &self.out[self.out_sent..];
            match Pin::new(&mut self.io).poll_write(cx, pending) {
                Poll::Ready(Ok(0)) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Poll::Ready(Ok(n)) => self.out_sent += n,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
        }
        self.out.clear();
        self.out_sent = 0;
        Poll::Ready(Ok(()))
    }

    /// A reply is being written.
    fn replied(&self) {
        let control = &self.control;
        control.unanswered.store(false, Ordering::SeqCst);
        // An authenticated HTTP client gets the read timeout again for its next request
        // once it has a reply; a WebSocket's has no deadline and keeps none.
        if control.is_authenticated() && control.deadline().is_some() {
            control.set_deadline(Some(READ_TIMEOUT));
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Guarded<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let through = this.control.write_through.load(Ordering::SeqCst);
        if through || this.out.len() + buf.len() > WRITE_BUFFER {
            if let Err(e) = futures::ready!(this.poll_write_out(cx)) {
                return Poll::Ready(Err(e));
            }
            if through || buf.len() > WRITE_BUFFER {
                let written = Pin::new(&mut this.io).poll_write(cx, buf);
                if let Poll::Ready(Ok(_)) = written {
                    this.replied();
                }
                return written;
            }
        }
        this.out.extend_from_slice(buf);
        this.replied();
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        futures::ready!(this.poll_write_out(cx))?;
        Pin::new(&mut this.io).poll_flush(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        futures::ready!(this.poll_write_out(cx))?;
        Pin::new(&mut this.io).poll_close(cx)
    }
}

/// A connection shared by the parser's reader and writer halves (async-h1 needs it cloneable).
pub type Shared<S> = async_dup::Arc<async_dup::Mutex<Guarded<S>>>;

/// Shares `io`, read through `control`.
pub fn share<S>(io: S, control: std::sync::Arc<Control>) -> Shared<S> {
    async_dup::Arc::new(async_dup::Mutex::new(Guarded::new(io, control)))
}
