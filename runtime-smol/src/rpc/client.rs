//! A blocking JSON-RPC client over HTTP/1.1, plain or over TLS (rustls): what `rbtcctl`, the
//! end-to-end tests and the interop harnesses use to call rbtcd, Knots or bcoin. One request
//! per connection unless the caller keeps the stream ([`Connector::open`], [`write_request`],
//! [`read_reply`]).
//!
//! Hand-written: the lock file holds no blocking HTTP client (the server side is tide's, which
//! is async), and a request, a status line, headers and a `Content-Length` body are all
//! JSON-RPC needs.

use crate::p2p::socks5::{self, Proxy, Target};
use rbtcd_core::rpc::auth::basic_auth;
use rustls::{ClientConfig, ClientConnection, StreamOwned};
use serde_json::{json, Value};
use std::fmt;
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::Duration;

/// The largest reply head read before giving up on the server.
const MAX_HEAD: usize = 64 * 1024;

/// One HTTP reply.
#[derive(Debug)]
pub struct Reply {
    /// The status code (200, 401, 500...).
    pub status: u16,
    /// The status line and headers, as sent.
    pub head: String,
    /// The body.
    pub body: Vec<u8>,
}

/// Why a call failed.
#[derive(Debug)]
pub enum CallError {
    /// The server could not be reached or the reply was not HTTP or not JSON.
    Transport(String),
    /// The server answered with an HTTP error status (such as 401) and no JSON-RPC error.
    Http(u16, String),
    /// The server answered with a JSON-RPC error: its code, message and the whole object.
    Rpc(i64, String, Value),
}

impl fmt::Display for CallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CallError::Transport(e) => write!(f, "{e}"),
            CallError::Http(status, body) => write!(f, "status {status}: {}", body.trim()),
            CallError::Rpc(code, message, _) => write!(f, "{code}: {message}"),
        }
    }
}

/// A JSON-RPC 1.0 request body, as btcctl sends it.
pub fn request(method: &str, params: &[Value]) -> Vec<u8> {
    json!({"jsonrpc": "1.0", "id": 1, "method": method, "params": params})
        .to_string()
        .into_bytes()
}

/// Writes a POST of `body` to `/`, with basic auth when `auth` is given; `close` asks the
/// server to close the connection after its reply.
pub fn write_request(
    stream: &mut impl Write,
    host: &str,
    auth: Option<(&str, &str)>,
    body: &[u8],
    close: bool,
) -> io::Result<()> {
    let mut head = format!(
        "POST / HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n",
        body.len()
    );
    if let Some((user, pass)) = auth {
        head += &format!("Authorization: {}\r\n", basic_auth(user, pass));
    }
    if close {
        head += "Connection: close\r\n";
    }
    head += "\r\n";
    stream.write_all(head.as_bytes())?;
    stream.write_all(body)?;
    stream.flush()
}

/// Reads one reply. The head is read byte by byte and the body by its `Content-Length`, so a
/// kept-alive stream is left at the start of the next reply; without a length the body runs
/// to the end of the stream.
pub fn read_reply(stream: &mut impl Read) -> io::Result<Reply> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if head.len() > MAX_HEAD {
            return Err(bad("an HTTP head over 64 KiB"));
        }
        match stream.read(&mut byte)? {
            0 => return Err(bad("the connection closed before the reply's head ended")),
            _ => head.push(byte[0]),
        }
    }
    let head = String::from_utf8(head).map_err(|_| bad("a reply head that is not UTF-8"))?;
    let status = head
        .strip_prefix("HTTP/1.")
        .and_then(|rest| rest.get(2..5))
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| bad(&format!("not an HTTP reply: {:?}", head.lines().next())))?;
    let length = head.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.eq_ignore_ascii_case("content-length")
            .then(|| value.trim().parse::<usize>().ok())?
    });
    let mut body = Vec::new();
    match length {
        Some(n) => {
            body.resize(n, 0);
            stream.read_exact(&mut body)?;
        }
        None => {
            stream.read_to_end(&mut body)?;
        }
    }
    Ok(Reply { status, head, body })
}

fn bad(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.to_string())
}

/// How connections to a server are made: plain TCP, or TLS with a client configuration
/// ([`super::tls::client_config`]); directly or through a SOCKS5 proxy.
#[derive(Clone, Default)]
pub struct Connector {
    tls: Option<Arc<ClientConfig>>,
    proxy: Option<Proxy>,
}

/// A connection a [`Connector`] opened.
pub enum Stream {
    /// Plain HTTP.
    Plain(TcpStream),
    /// HTTP over TLS.
    Tls(Box<StreamOwned<ClientConnection, TcpStream>>),
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(s) => s.read(buf),
            Stream::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(s) => s.write(buf),
            Stream::Tls(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Stream::Plain(s) => s.flush(),
            Stream::Tls(s) => s.flush(),
        }
    }
}

impl Connector {
    /// Plain HTTP (`--notls`, Knots, bcoin).
    pub fn plain() -> Connector {
        Connector::default()
    }

    /// HTTP over TLS with `config`.
    pub fn tls(config: Arc<ClientConfig>) -> Connector {
        Connector {
            tls: Some(config),
            proxy: None,
        }
    }

    /// The same, connecting through `proxy` (btcctl's `--proxy`): the proxy resolves a host
    /// name, so no DNS query leaves this machine.
    pub(crate) fn through(self, proxy: Proxy) -> Connector {
        Connector {
            proxy: Some(proxy),
            ..self
        }
    }

    /// A TCP connection to `server`, direct or through the proxy.
    fn dial(&self, server: &str) -> io::Result<TcpStream> {
        let Some(proxy) = &self.proxy else {
            return TcpStream::connect(server);
        };
        let target = match server.parse() {
            Ok(addr) => Target::Addr(addr),
            Err(_) => {
                let (host, port) = server
                    .rsplit_once(':')
                    .and_then(|(h, p)| Some((h, p.parse().ok()?)))
                    .ok_or_else(|| bad(&format!("{server} is not host:port")))?;
                Target::Domain(host.to_string(), port)
            }
        };
        let stream = smol::block_on(socks5::connect(proxy, &target))
            .map_err(|e| io::Error::other(format!("proxy {}: {e}", proxy.addr)))?;
        let stream = Arc::<smol::Async<TcpStream>>::from(stream);
        let stream = Arc::try_unwrap(stream)
            .map_err(|_| io::Error::other("the proxied stream is shared"))?
            .into_inner()?;
        stream.set_nonblocking(false)?;
        Ok(stream)
    }

    /// Connects to `server` (`host:port`), the TLS handshake done; `timeout` bounds each read.
    pub fn open(&self, server: &str, timeout: Duration) -> io::Result<Stream> {
        let tcp = self.dial(server)?;
        tcp.set_read_timeout(Some(timeout))?;
        // A request's head and body are separate writes; the second must not wait for the
        // server to acknowledge the first.
        tcp.set_nodelay(true)?;
        let Some(config) = &self.tls else {
            return Ok(Stream::Plain(tcp));
        };
        let name = super::tls::server_name(server)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        let conn = ClientConnection::new(config.clone(), name).map_err(io::Error::other)?;
        let mut tls = StreamOwned::new(conn, tcp);
        // Finish the handshake here, so a refused certificate is an error of the connection
        // rather than of the first write.
        while tls.conn.is_handshaking() {
            tls.conn.complete_io(&mut tls.sock)?;
        }
        Ok(Stream::Tls(Box::new(tls)))
    }

    /// POSTs `body` to `server` (`host:port`) on a fresh connection and returns the reply,
    /// whatever its status; `timeout` bounds each read.
    pub fn post(
        &self,
        server: &str,
        auth: Option<(&str, &str)>,
        body: &[u8],
        timeout: Duration,
    ) -> io::Result<Reply> {
        let mut stream = self.open(server, timeout)?;
        write_request(&mut stream, server, auth, body, true)?;
        read_reply(&mut stream)
    }

    /// Calls `method` on `server` and returns its result. A JSON-RPC error in the reply is
    /// [`CallError::Rpc`] whatever the HTTP status (Core answers errors with 500); any other
    /// status but 200 is [`CallError::Http`].
    pub fn call(
        &self,
        server: &str,
        auth: (&str, &str),
        method: &str,
        params: &[Value],
        timeout: Duration,
    ) -> Result<Value, CallError> {
        let reply = self
            .post(server, Some(auth), &request(method, params), timeout)
            .map_err(|e| CallError::Transport(format!("{server}: {e}")))?;
        result(reply)
    }
}

/// The result in `reply`, or the error it carries.
fn result(reply: Reply) -> Result<Value, CallError> {
    let text = String::from_utf8_lossy(&reply.body);
    let parsed: Result<Value, _> = serde_json::from_str(&text);
    match parsed {
        Ok(v) if v.get("error").is_some_and(|e| !e.is_null()) => {
            let e = &v["error"];
            Err(CallError::Rpc(
                e["code"].as_i64().unwrap_or(0),
                e["message"].as_str().unwrap_or_default().to_string(),
                e.clone(),
            ))
        }
        _ if reply.status != 200 => Err(CallError::Http(reply.status, text.into_owned())),
        Ok(v) => Ok(v.get("result").cloned().unwrap_or(Value::Null)),
        Err(e) => Err(CallError::Transport(format!("bad JSON reply: {e}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_are_read_by_length_leaving_the_next_one() {
        let two = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}HTTP/1.1 401 Unauthorized\r\n\
                    content-length: 0\r\n\r\n";
        let mut stream = &two[..];
        let first = read_reply(&mut stream).unwrap();
        assert_eq!((first.status, &first.body[..]), (200, &b"{}"[..]));
        let second = read_reply(&mut stream).unwrap();
        assert_eq!((second.status, second.body.len()), (401, 0));
        assert!(stream.is_empty());
        let unsized_body = b"HTTP/1.0 500 Oops\r\n\r\nto the end";
        assert_eq!(
            read_reply(&mut &unsized_body[..]).unwrap().body,
            b"to the end"
        );
        assert!(read_reply(&mut &b"SSH-2.0\r\n\r\n"[..]).is_err());
        assert!(read_reply(&mut &b"HTTP/1.1 200 OK\r\n"[..]).is_err());
    }

    #[test]
    fn requests_carry_auth_and_length() {
        let mut sent = Vec::new();
        write_request(&mut sent, "h:1", Some(("u", "p")), b"{}", true).unwrap();
        let sent = String::from_utf8(sent).unwrap();
        assert!(sent.starts_with("POST / HTTP/1.1\r\nHost: h:1\r\n"));
        assert!(sent.contains("Content-Length: 2\r\n"));
        assert!(sent.contains(&format!("Authorization: {}\r\n", basic_auth("u", "p"))));
        assert!(sent.ends_with("Connection: close\r\n\r\n{}"));
    }
}
