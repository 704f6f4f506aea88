//! A node and a scripted remote side for the peer handler's tests: connect peers, feed them
//! messages or raw bytes, advance the clock, read what the node sent back.
#![allow(dead_code)]

use rbtcd_core::chain::MemStore;
use rbtcd_core::harness::{rpc_body, rpc_result};
use rbtcd_core::net::peer::{Direction, DisconnectReason, PeerId};
use rbtcd_core::node::{Input, Node, NodeConfig, Output, Time};
use rbtcd_core::params::{Network, Params};
use rbtcd_core::rpc::Rights;
use rbtcd_core::wire::{
    encode_message, Decoder, Message, NetAddress, ServiceFlags, VersionMessage,
};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

/// The rig's start time: regtest genesis plus a day.
pub const T0: Time = Time::from_unix_secs(1_296_688_602 + 86_400);

/// `n` milliseconds.
pub fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Peer address `n` (10.1.0.n).
pub fn addr(n: u8) -> SocketAddr {
    SocketAddr::new(IpAddr::V4(Ipv4Addr::new(10, 1, 0, n)), 18444)
}

/// A node and a scripted remote side.
pub struct Rig {
    /// The node under test.
    pub node: Node<MemStore>,
    /// The rig's clock.
    pub now: Time,
    /// The network's magic.
    pub magic: [u8; 4],
    /// Outputs not consumed yet.
    pub out: Vec<Output>,
}

/// A version message from a peer.
pub fn version(nonce: u64, v: i32, services: ServiceFlags) -> VersionMessage {
    VersionMessage {
        version: v,
        services,
        timestamp: T0.unix_secs() as i64,
        receiver: NetAddress::new(addr(200), ServiceFlags::NONE),
        sender: NetAddress {
            services,
            ip: Ipv6Addr::UNSPECIFIED,
            port: 0,
        },
        nonce,
        user_agent: "/test/".into(),
        start_height: 0,
        relay: true,
    }
}

/// NODE_NETWORK and NODE_WITNESS.
pub fn full() -> ServiceFlags {
    ServiceFlags::NETWORK | ServiceFlags::WITNESS
}

impl Rig {
    /// A regtest node with `config` over an empty store.
    pub fn new(config: NodeConfig) -> Rig {
        Rig::on(Params::new(Network::Regtest), config, MemStore::new(), 7)
    }

    /// A node on `params` over `store` (kept by the caller to inspect or restart from).
    pub fn on(params: Params, config: NodeConfig, store: MemStore, seed: u64) -> Rig {
        Rig {
            magic: params.magic,
            node: Node::new(params, config, store, seed, T0).unwrap(),
            now: T0,
            out: Vec::new(),
        }
    }

    /// Feeds one input and collects what the node wants done.
    pub fn input(&mut self, input: Input) {
        self.node.handle(self.now, input);
        while let Some(o) = self.node.poll_output() {
            self.out.push(o);
        }
    }

    /// Calls `method` over RPC as the admin user; the result or the error's code.
    pub fn call(
        &mut self,
        method: &str,
        params: serde_json::Value,
    ) -> Result<serde_json::Value, i32> {
        let id = self.out.len() as u64;
        let body = rpc_body(id, method, params);
        self.input(Input::Rpc {
            id,
            rights: Rights::Admin,
            body,
        });
        let reply = self.out.iter().find_map(|o| match o {
            Output::RpcReply { id: got, body } if *got == id => Some(body.clone()),
            _ => None,
        });
        rpc_result(&reply.expect("answered at once")).map_err(|e| e.code)
    }

    /// A connection from (or to) `a`.
    pub fn connect(&mut self, peer: PeerId, a: SocketAddr, direction: Direction) {
        self.input(Input::Connected {
            peer,
            addr: a,
            direction,
        });
    }

    /// `peer` sends `msg`.
    pub fn send(&mut self, peer: PeerId, msg: &Message) {
        let bytes = encode_message(self.magic, msg);
        self.input(Input::Received { peer, bytes });
    }

    /// Moves the clock to `t` and ticks.
    pub fn advance_to(&mut self, t: Time) {
        self.now = t;
        self.input(Input::Tick);
    }

    /// Every message the node sent to `peer` so far, consumed.
    pub fn sent(&mut self, peer: PeerId) -> Vec<Message> {
        let mut d = Decoder::new(self.magic);
        let mut msgs = Vec::new();
        self.out.retain(|o| match o {
            Output::Send { peer: p, bytes } if *p == peer => {
                d.push(bytes);
                msgs.push(d.pull().unwrap().unwrap());
                false
            }
            _ => true,
        });
        msgs
    }

    /// Sizes of the frames sent to `peer` and not consumed yet: what a driver reports written
    /// with [`Input::Sent`].
    pub fn unconsumed_sends(&self, peer: PeerId) -> Vec<usize> {
        self.out
            .iter()
            .filter_map(|o| match o {
                Output::Send { peer: p, bytes } if *p == peer => Some(bytes.len()),
                _ => None,
            })
            .collect()
    }

    /// Why the node dropped `peer`, if it did.
    pub fn disconnected(&self, peer: PeerId) -> Option<&DisconnectReason> {
        self.out.iter().find_map(|o| match o {
            Output::Disconnect { peer: p, reason } if *p == peer => Some(reason),
            _ => None,
        })
    }

    /// An inbound peer through the whole handshake.
    pub fn ready_inbound(&mut self, peer: PeerId, a: SocketAddr) {
        self.connect(peer, a, Direction::Inbound);
        self.send(peer, &Message::Version(version(1000 + peer, 70016, full())));
        self.send(peer, &Message::Verack);
        assert!(self.node.peers()[&peer].is_ready());
        // Every new peer is asked for headers; this one has nothing to add.
        assert!(matches!(
            self.sent(peer).last(),
            Some(Message::GetHeaders(_))
        ));
        self.send(peer, &Message::Headers(vec![]));
    }
}

/// True when `peer`'s address is banned now.
pub fn is_banned(r: &Rig, peer: PeerId) -> bool {
    matches!(r.disconnected(peer), Some(DisconnectReason::Banned { .. }))
}
