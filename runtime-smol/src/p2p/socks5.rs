//! A SOCKS5 client (RFC 1928) with username/password authentication (RFC 1929), for outbound
//! peer connections through `--proxy` and `--onion` (CONNECT), and DNS seed lookups through
//! `--proxy` (Tor's RESOLVE extension), so that nothing goes around the proxy.

use smol::io::{AsyncReadExt, AsyncWriteExt};
use smol::net::TcpStream;
use std::fmt;
use std::io;
use std::net::{IpAddr, SocketAddr};

const VERSION: u8 = 5;
const METHOD_NONE: u8 = 0x00;
const METHOD_USER_PASS: u8 = 0x02;
const NO_ACCEPTABLE_METHOD: u8 = 0xff;
const USER_PASS_VERSION: u8 = 1;
const CMD_CONNECT: u8 = 1;
/// Tor's extension: resolve a host name, answering with its address in the reply.
const CMD_RESOLVE: u8 = 0xf0;
const ATYP_IPV4: u8 = 1;
const ATYP_DOMAIN: u8 = 3;
const ATYP_IPV6: u8 = 4;

/// A SOCKS5 proxy server and the credentials to give it, if any.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Proxy {
    /// The proxy's address.
    pub addr: SocketAddr,
    /// Username and password (RFC 1929); each at most 255 bytes.
    pub credentials: Option<(String, String)>,
}

/// What to ask the proxy to connect to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// An IP address and port.
    Addr(SocketAddr),
    /// A host name the proxy resolves (a `.onion` name, for Tor), and a port.
    Domain(String, u16),
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Addr(a) => write!(f, "{a}"),
            Target::Domain(host, port) => write!(f, "{host}:{port}"),
        }
    }
}

/// Why a connection through the proxy failed.
#[derive(Debug)]
pub enum Socks5Error {
    /// Reaching or talking to the proxy failed.
    Io(io::Error),
    /// The proxy does not speak SOCKS version 5 (it answered this version).
    NotSocks5(u8),
    /// The proxy accepts none of the offered authentication methods (give `--proxyuser` and
    /// `--proxypass` if it needs a login).
    NoAcceptableMethod,
    /// The proxy refused the username and password.
    AuthFailed,
    /// A username, password or host name is longer than the 255 bytes SOCKS5 allows.
    TooLong(&'static str),
    /// The proxy could not connect to the target (RFC 1928 reply code).
    Refused(u8),
    /// The proxy's reply was malformed.
    BadReply(&'static str),
}

impl fmt::Display for Socks5Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Socks5Error::Io(e) => write!(f, "proxy: {e}"),
            Socks5Error::NotSocks5(v) => write!(f, "proxy speaks SOCKS version {v}, not 5"),
            Socks5Error::NoAcceptableMethod => {
                f.write_str("proxy accepts none of the offered authentication methods")
            }
            Socks5Error::AuthFailed => f.write_str("proxy refused the username and password"),
            Socks5Error::TooLong(what) => write!(f, "SOCKS5 {what} longer than 255 bytes"),
            Socks5Error::Refused(code) => write!(f, "proxy could not connect: {}", reply(*code)),
            Socks5Error::BadReply(why) => write!(f, "malformed proxy reply: {why}"),
        }
    }
}

impl std::error::Error for Socks5Error {}

impl From<io::Error> for Socks5Error {
    fn from(e: io::Error) -> Self {
        Socks5Error::Io(e)
    }
}

/// RFC 1928's names for reply codes.
fn reply(code: u8) -> &'static str {
    match code {
        1 => "general SOCKS server failure",
        2 => "connection not allowed by ruleset",
        3 => "network unreachable",
        4 => "host unreachable",
        5 => "connection refused",
        6 => "TTL expired",
        7 => "command not supported",
        8 => "address type not supported",
        _ => "unknown error",
    }
}

/// Appends a length-prefixed field (RFC 1929 credentials, RFC 1928 domain names).
fn push_short(out: &mut Vec<u8>, bytes: &[u8], what: &'static str) -> Result<(), Socks5Error> {
    let len = u8::try_from(bytes.len()).map_err(|_| Socks5Error::TooLong(what))?;
    out.push(len);
    out.extend_from_slice(bytes);
    Ok(())
}

/// The `command` (CONNECT or RESOLVE) request for `target`.
fn request(command: u8, target: &Target) -> Result<Vec<u8>, Socks5Error> {
    let mut req = vec![VERSION, command, 0];
    let port = match target {
        Target::Addr(addr) => {
            match addr.ip() {
                IpAddr::V4(ip) => {
                    req.push(ATYP_IPV4);
                    req.extend_from_slice(&ip.octets());
                }
                IpAddr::V6(ip) => {
                    req.push(ATYP_IPV6);
                    req.extend_from_slice(&ip.octets());
                }
            }
            addr.port()
        }
        Target::Domain(host, port) => {
            req.push(ATYP_DOMAIN);
            push_short(&mut req, host.as_bytes(), "host name")?;
            *port
        }
    };
    req.extend_from_slice(&port.to_be_bytes());
    Ok(req)
}

/// Connects to `target` through `proxy` and returns the stream, ready for the peer protocol.
pub async fn connect(proxy: &Proxy, target: &Target) -> Result<TcpStream, Socks5Error> {
    let mut stream = open(proxy).await?;
    ask(&mut stream, CMD_CONNECT, target).await?;
    Ok(stream)
}

/// Resolves `host` through `proxy` with Tor's RESOLVE command: the proxy does the lookup, so
/// no DNS query leaves this machine.
pub async fn resolve(proxy: &Proxy, host: &str) -> Result<IpAddr, Socks5Error> {
    let mut stream = open(proxy).await?;
    let target = Target::Domain(host.to_string(), 0);
    match ask(&mut stream, CMD_RESOLVE, &target).await? {
        Some(ip) => Ok(ip),
        None => Err(Socks5Error::BadReply(
            "a host name where an address was expected",
        )),
    }
}

/// Opens a connection to `proxy` and authenticates.
async fn open(proxy: &Proxy) -> Result<TcpStream, Socks5Error> {
    let mut stream = TcpStream::connect(proxy.addr).await?;
    // Offer a login only when there is one: some proxies pick it whenever it is offered.
    let greeting: &[u8] = match proxy.credentials {
        Some(_) => &[VERSION, 2, METHOD_NONE, METHOD_USER_PASS],
        None => &[VERSION, 1, METHOD_NONE],
    };
    stream.write_all(greeting).await?;
    let mut choice = [0u8; 2];
    stream.read_exact(&mut choice).await?;
    if choice[0] != VERSION {
        return Err(Socks5Error::NotSocks5(choice[0]));
    }
    match (choice[1], &proxy.credentials) {
        (METHOD_NONE, _) => {}
        (METHOD_USER_PASS, Some((user, pass))) => {
            let mut login = vec![USER_PASS_VERSION];
            push_short(&mut login, user.as_bytes(), "username")?;
            push_short(&mut login, pass.as_bytes(), "password")?;
            stream.write_all(&login).await?;
            let mut status = [0u8; 2];
            stream.read_exact(&mut status).await?;
            if status[1] != 0 {
                return Err(Socks5Error::AuthFailed);
            }
        }
        (NO_ACCEPTABLE_METHOD, _) => return Err(Socks5Error::NoAcceptableMethod),
        _ => return Err(Socks5Error::BadReply("a method that was not offered")),
    }
    Ok(stream)
}

/// Sends one request and reads the reply; returns the reply's address when it is an IP (the
/// bound address for CONNECT, of no use; the answer for RESOLVE).
async fn ask(
    stream: &mut TcpStream,
    command: u8,
    target: &Target,
) -> Result<Option<IpAddr>, Socks5Error> {
    stream.write_all(&request(command, target)?).await?;
    let mut head = [0u8; 4];
    stream.read_exact(&mut head).await?;
    if head[0] != VERSION {
        return Err(Socks5Error::NotSocks5(head[0]));
    }
    if head[1] != 0 {
        return Err(Socks5Error::Refused(head[1]));
    }
    let addr_len = match head[3] {
        ATYP_IPV4 => 4,
        ATYP_IPV6 => 16,
        ATYP_DOMAIN => {
            let mut len = [0u8; 1];
            stream.read_exact(&mut len).await?;
            usize::from(len[0])
        }
        _ => return Err(Socks5Error::BadReply("unknown address type")),
    };
    let mut addr = vec![0u8; addr_len + 2];
    stream.read_exact(&mut addr).await?;
    let ip = match head[3] {
        ATYP_IPV4 => <[u8; 4]>::try_from(&addr[..4]).ok().map(IpAddr::from),
        ATYP_IPV6 => <[u8; 16]>::try_from(&addr[..16]).ok().map(IpAddr::from),
        _ => None,
    };
    Ok(ip)
}

#[cfg(test)]
mod tests;
