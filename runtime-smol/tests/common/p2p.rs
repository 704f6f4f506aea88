//! A raw P2P client for the end-to-end tests and benches that play a hostile peer: the version
//! handshake, framed messages and hand-made frames (wrong lengths, unknown commands).

use rbtcd_core::params::{Network, Params};
use rbtcd_core::primitives::hash::sha256d;
use rbtcd_core::wire::{encode_message, Message, NetAddress, ServiceFlags, VersionMessage};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// The regtest network magic.
pub fn magic() -> [u8; 4] {
    Params::new(Network::Regtest).magic
}

/// A frame of `command` carrying `payload`, whose header claims `length` bytes.
pub fn frame(command: &str, payload: &[u8], length: u32) -> Vec<u8> {
    let mut out = magic().to_vec();
    let mut name = [0u8; 12];
    name[..command.len()].copy_from_slice(command.as_bytes());
    out.extend_from_slice(&name);
    out.extend_from_slice(&length.to_le_bytes());
    out.extend_from_slice(&sha256d(payload)[..4]);
    out.extend_from_slice(payload);
    out
}

/// `msg` framed for regtest.
pub fn message(msg: &Message) -> Vec<u8> {
    encode_message(magic(), msg)
}

/// Connects to `addr` and sends a version (with `nonce`) and a verack; `None` when refused.
/// The caller reads the replies, or not.
pub fn handshake(addr: SocketAddr, nonce: u64) -> Option<TcpStream> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).ok()?;
    let version = VersionMessage {
        version: 70016,
        services: ServiceFlags::NETWORK | ServiceFlags::WITNESS,
        timestamp: 0,
        receiver: NetAddress::new(addr, ServiceFlags::NONE),
        sender: NetAddress::new(addr, ServiceFlags::NONE),
        nonce,
        user_agent: "/hostile/".into(),
        start_height: 0,
        relay: true,
    };
    s.write_all(&message(&Message::Version(version))).ok()?;
    s.write_all(&message(&Message::Verack)).ok()?;
    Some(s)
}

/// Reads and throws away everything `s` receives, on a thread of its own, until it closes.
pub fn drain(s: &TcpStream) {
    if let Ok(mut r) = s.try_clone() {
        std::thread::spawn(move || {
            let mut buf = [0u8; 64 * 1024];
            while matches!(r.read(&mut buf), Ok(n) if n > 0) {}
        });
    }
}
