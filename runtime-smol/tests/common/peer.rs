//! A scripted P2P peer speaking to a daemon over TCP with the core's own framing: it sends
//! what the test says and waits (up to [`PATIENCE`]) for the messages the test looks for.

use super::PATIENCE;
use rbtcd_core::wire::{
    encode_message, Decoder, Message, NetAddress, ServiceFlags, VersionMessage,
};
use std::io::{Read, Write};
use std::net::{Ipv6Addr, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// A connection to a daemon.
pub struct TestPeer {
    stream: TcpStream,
    decoder: Decoder,
    magic: [u8; 4],
}

impl TestPeer {
    /// Connects to the daemon at `addr` on the network with `magic`.
    pub fn connect(addr: SocketAddr, magic: [u8; 4]) -> TestPeer {
        let stream = TcpStream::connect_timeout(&addr, PATIENCE).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        TestPeer {
            stream,
            decoder: Decoder::new(magic),
            magic,
        }
    }

    /// Sends `msg`.
    pub fn send(&mut self, msg: &Message) {
        self.stream
            .write_all(&encode_message(self.magic, msg))
            .unwrap();
    }

    /// Reads messages until `pick` takes one, answering pings on the way.
    pub fn wait_for<T>(&mut self, what: &str, mut pick: impl FnMut(&Message) -> Option<T>) -> T {
        let start = Instant::now();
        let mut buf = [0u8; 65536];
        loop {
            while let Some(msg) = self.decoder.pull() {
                let msg = msg.unwrap();
                if let Message::Ping(n) = msg {
                    self.send(&Message::Pong(n));
                }
                if let Some(found) = pick(&msg) {
                    return found;
                }
            }
            assert!(start.elapsed() < PATIENCE, "{what} never arrived");
            match self.stream.read(&mut buf) {
                Ok(0) => panic!("the daemon closed the connection before {what}"),
                Ok(n) => self.decoder.push(&buf[..n]),
                Err(_) => {}
            }
        }
    }

    /// The version handshake as an inbound peer of the daemon: returns the daemon's version.
    pub fn handshake(&mut self) -> VersionMessage {
        let ours = VersionMessage {
            version: 70016,
            services: ServiceFlags::NETWORK | ServiceFlags::WITNESS,
            timestamp: 0,
            receiver: NetAddress {
                services: ServiceFlags::NONE,
                ip: Ipv6Addr::UNSPECIFIED,
                port: 0,
            },
            sender: NetAddress {
                services: ServiceFlags::NONE,
                ip: Ipv6Addr::UNSPECIFIED,
                port: 0,
            },
            nonce: 0x5eed,
            user_agent: "/reach-test:1/".into(),
            start_height: 0,
            relay: true,
        };
        self.send(&Message::Version(ours));
        let theirs = self.wait_for("version", |m| match m {
            Message::Version(v) => Some(v.clone()),
            _ => None,
        });
        self.send(&Message::Verack);
        self.wait_for("verack", |m| matches!(m, Message::Verack).then_some(()));
        theirs
    }

    /// Asks for addresses and returns those of the first non-empty answer.
    pub fn getaddr(&mut self) -> Vec<SocketAddr> {
        self.send(&Message::GetAddr);
        self.wait_for("an addr answer", |m| match m {
            Message::Addr(list) if !list.is_empty() => {
                Some(list.iter().map(|a| a.addr.socket_addr()).collect())
            }
            Message::AddrV2(list) if !list.is_empty() => Some(
                list.iter()
                    .filter_map(rbtcd_core::net::connmgr::to_legacy)
                    .map(|a| a.addr.socket_addr())
                    .collect(),
            ),
            _ => None,
        })
    }
}
