//! The version handshake and the framing in front of it: bytes become messages, and each
//! message is routed by the peer's handshake state.

use super::{Node, Notification};
use crate::chain::ChainStore;
use crate::net::peer::{
    Direction, DisconnectReason, Handshake, Peer, PeerId, MIN_PEER_PROTOCOL_VERSION, PING_INTERVAL,
};
use crate::net::{connmgr, user_agent};
use crate::params::Network;
use crate::primitives::Hash256;
use crate::wire::protocol::{
    ADDRV2_VERSION, FEE_FILTER_VERSION, PROTOCOL_VERSION, SEND_HEADERS_VERSION,
};
use crate::wire::reject::{RejectCode, RejectMessage};
use crate::wire::{Message, NetAddress, ServiceFlags, VersionMessage, WireError};

/// Ban score added for each frame that fails to decode (bad checksum, malformed payload,
/// unnamed command). btcd drops the peer on the first; rbtcd's decoder resyncs, so a peer may
/// survive a few corrupt frames but not a stream of them. A frame over a hard limit (payload
/// length, list entries) adds it too and disconnects at once, as btcd and Core do.
pub const MALFORMED_BAN_SCORE: u32 = 20;

impl<S: ChainStore> Node<S> {
    pub(super) fn send_version(&mut self, peer: PeerId) {
        let Some(p) = self.peers.get_mut(&peer) else {
            return;
        };
        let nonce = match p.our_nonce {
            Some(n) => n,
            None => {
                let n = self.nonces.next_u64();
                p.our_nonce = Some(n);
                n
            }
        };
        let receiver = NetAddress::new(p.addr, ServiceFlags::NONE);
        // As btcd: our address best reachable from the peer, or nothing.
        let sender = self
            .own_entry(peer)
            .and_then(|own| connmgr::to_legacy(&own))
            .map_or(
                NetAddress {
                    services: self.config.services,
                    ip: std::net::Ipv6Addr::UNSPECIFIED,
                    port: 0,
                },
                |own| own.addr,
            );
        let msg = VersionMessage {
            version: PROTOCOL_VERSION as i32,
            services: self.config.services,
            timestamp: self.now.unix_secs() as i64,
            receiver,
            sender,
            nonce,
            user_agent: self.config.user_agent.clone(),
            start_height: self.chain.tip().height as i32,
            relay: !self.config.blocks_only,
        };
        self.send(peer, &Message::Version(msg));
    }

    pub(super) fn on_bytes(&mut self, peer: PeerId, bytes: Vec<u8>) {
        let Some(p) = self.peers.get_mut(&peer) else {
            return;
        };
        let len = bytes.len() as u64;
        p.decoder.push_owned(bytes);
        p.bytes_recv += len;
        self.totals.recv += len;
        if p.decoder.foreign_start() {
            // No ban score: a BIP324 initiator (Core, Knots) opens this way and reconnects with
            // v1 only when we close before sending anything.
            return self.disconnect(peer, DisconnectReason::UnrecognisedHandshake);
        }
        if self.config.fair_turns {
            // Handled one message per turn, after every input (`serve_turn`).
            if p.decoder.has_frame() {
                self.turns.wait(peer);
            }
            return;
        }
        while self.handle_frame(peer) {}
    }

    /// Decodes and handles `peer`'s next frame. False when there was none (the decoder then
    /// gives back what it no longer needs) or the peer was dropped for it.
    pub(super) fn handle_frame(&mut self, peer: PeerId) -> bool {
        let Some(p) = self.peers.get_mut(&peer) else {
            return false;
        };
        let Some(frame) = p.decoder.pull() else {
            p.decoder.compact();
            return false;
        };
        p.last_recv = self.now;
        let raw_block = p.decoder.take_raw_block();
        match frame {
            Ok(msg) => {
                self.raw_block = raw_block;
                self.on_message(peer, msg);
                self.raw_block = None;
            }
            Err(WireError::BadMagic { .. }) => {
                self.disconnect(peer, DisconnectReason::WrongNetwork);
                return false;
            }
            // Ignored, as btcd ignores unknown messages; the decoder did not keep it.
            Err(WireError::UnknownDiscarded { .. }) => {}
            Err(e) if e.exceeds_limit() => {
                let reason = e.to_string();
                self.misbehave(peer, MALFORMED_BAN_SCORE, 0, &reason);
                self.disconnect(peer, DisconnectReason::ProtocolLimit(reason));
                return false;
            }
            Err(e) => self.misbehave(peer, MALFORMED_BAN_SCORE, 0, &e.to_string()),
        }
        true
    }

    fn on_message(&mut self, peer: PeerId, msg: Message) {
        let Some(p) = self.peers.get(&peer) else {
            return;
        };
        let command = msg.command().to_string();
        match (p.handshake, msg) {
            (Handshake::AwaitVersion, Message::Version(v)) => self.on_version(peer, v),
            (Handshake::AwaitVersion, _) => {
                self.reject(
                    peer,
                    &command,
                    RejectCode::MALFORMED,
                    "version must come first",
                );
                self.disconnect(peer, DisconnectReason::VersionNotFirst(command));
            }
            (_, Message::Version(_)) => {
                self.reject(
                    peer,
                    &command,
                    RejectCode::DUPLICATE,
                    "duplicate version message",
                );
                self.disconnect(peer, DisconnectReason::DuplicateVersion);
            }
            (Handshake::AwaitVerack, Message::Verack) => self.on_verack(peer),
            (Handshake::AwaitVerack, Message::SendAddrV2) => self.negotiate(peer, |p| {
                p.send_addrv2 = true;
            }),
            (Handshake::AwaitVerack, Message::WtxidRelay) => self.negotiate(peer, |p| {
                p.wtxid_relay = true;
            }),
            // Unknown commands are ignored throughout (compact block negotiation and the like).
            (_, Message::Unknown { .. }) => {}
            (Handshake::AwaitVerack, _) => {
                self.disconnect(peer, DisconnectReason::UnexpectedBeforeVerack(command));
            }
            (Handshake::Ready, Message::Verack) => {
                self.reject(
                    peer,
                    &command,
                    RejectCode::DUPLICATE,
                    "duplicate verack message",
                );
                self.disconnect(peer, DisconnectReason::DuplicateVerack);
            }
            (Handshake::Ready, Message::SendAddrV2 | Message::WtxidRelay) => {
                self.disconnect(peer, DisconnectReason::NegotiationAfterHandshake(command));
            }
            (Handshake::Ready, msg) => self.on_ready_message(peer, msg),
        }
    }

    /// Records a pre-verack preference, which only counts from protocol 70016 on.
    fn negotiate(&mut self, peer: PeerId, set: impl FnOnce(&mut Peer)) {
        if let Some(p) = self.peers.get_mut(&peer) {
            if p.version >= ADDRV2_VERSION {
                set(p);
            }
        }
    }

    fn reject(&mut self, peer: PeerId, command: &str, code: RejectCode, reason: &str) {
        self.send(
            peer,
            &Message::Reject(RejectMessage {
                message: command.to_string(),
                code,
                reason: reason.to_string(),
                hash: Hash256::ZERO,
            }),
        );
    }

    fn on_version(&mut self, peer: PeerId, v: VersionMessage) {
        let dialled = self.peers.values().find(|p| p.our_nonce == Some(v.nonce));
        if let Some(own) = dialled.map(|p| p.addr) {
            // The address we dialled is our own: never pick it again, or every disconnect
            // redials it (found by the simulator; Core skips its local addresses too).
            self.local_addrs.insert(own);
            return self.disconnect(peer, DisconnectReason::SelfConnection);
        }
        let Some(p) = self.peers.get_mut(&peer) else {
            return;
        };
        let outbound = p.direction == Direction::Outbound;
        p.version = PROTOCOL_VERSION.min(v.version.max(0) as u32);
        p.best_height = v.start_height.max(0) as u32;
        let services = v.services;
        let their_version = v.version;
        let agent = v.user_agent.clone();
        p.remote = Some(v);
        let (black, white) = (&self.config.agent_blacklist, &self.config.agent_whitelist);
        if !user_agent::agent_allowed(&agent, black, white) {
            return self.disconnect(peer, DisconnectReason::UndesiredUserAgent(agent));
        }
        let mut wanted = ServiceFlags::NETWORK;
        if self.params.network != Network::Simnet {
            wanted |= ServiceFlags::WITNESS;
        }
        if outbound && !services.has(wanted) {
            let missing = ServiceFlags(wanted.0 & !services.0);
            self.reject(
                peer,
                "version",
                RejectCode::NONSTANDARD,
                "required services",
            );
            return self.disconnect(peer, DisconnectReason::MissingServices(missing));
        }
        if their_version < MIN_PEER_PROTOCOL_VERSION as i32 {
            self.reject(
                peer,
                "version",
                RejectCode::OBSOLETE,
                "protocol version too old",
            );
            return self.disconnect(peer, DisconnectReason::ObsoleteVersion(their_version));
        }
        if !outbound {
            self.send_version(peer);
        }
        let version = self.peers[&peer].version;
        if version >= ADDRV2_VERSION {
            self.send(peer, &Message::SendAddrV2);
        }
        self.send(peer, &Message::Verack);
        if let Some(p) = self.peers.get_mut(&peer) {
            p.handshake = Handshake::AwaitVerack;
        }
    }

    fn on_verack(&mut self, peer: PeerId) {
        let Some(p) = self.peers.get_mut(&peer) else {
            return;
        };
        p.handshake = Handshake::Ready;
        p.next_ping = Some(self.now + PING_INTERVAL);
        let (version, direction, addr) = (p.version, p.direction, p.addr);
        if version >= SEND_HEADERS_VERSION {
            self.send(peer, &Message::SendHeaders);
        }
        let min_fee = self.config.policy.min_relay_fee_per_kvb;
        if version >= FEE_FILTER_VERSION && min_fee > 0 {
            self.send(peer, &Message::FeeFilter(min_fee));
        }
        // As btcd: an outbound peer's address proved good, and it is asked for more; it is
        // told ours once we are synced (before, we would draw peers we cannot serve).
        if direction == Direction::Outbound {
            if self.is_current() {
                self.advertise_to(peer);
            }
            self.addrs
                .good(&connmgr::peer_addr(&addr), self.now.unix_secs());
            if self.addrs.need_more() {
                if let Some(p) = self.peers.get_mut(&peer) {
                    p.addr_rate.grant_getaddr();
                }
                self.send(peer, &Message::GetAddr);
            }
        }
        self.notify(Notification::PeerReady(peer));
        self.start_headers_sync();
    }
}
