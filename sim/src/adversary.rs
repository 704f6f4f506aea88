//! What adversarial peers send: framed messages the honest nodes must survive, and blocks that
//! break a consensus rule, every one of [`Breakage::ALL`] in turn (the simulator remembers their
//! hashes; an honest node connecting one is a violation). An honest node bans a peer at its
//! first invalid block, so an attacker that kept one address would show each honest node a
//! single breakage; like a Sybil attacker, each adversary comes back under a fresh address when
//! banned ([`Attacker::banned`]).

use crate::breakage::{Breakage, Context};
use crate::scenario::Attack;
use crate::store::SimStore;
use crate::workload;
use rbtcd_core::node::Node;
use rbtcd_core::primitives::{Block, BlockHash, Hash256};
use rbtcd_core::rng::Rng;
use rbtcd_core::wire::protocol::MAX_BLOCK_HEADERS_PER_MSG;
use rbtcd_core::wire::{encode_message, Message, NetAddress, ServiceFlags, TimestampedAddress};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

/// Entries in one spam `addr` message (the protocol's maximum).
const SPAM_ADDRS: usize = 1000;

/// One attack's output: frames for every peer, and invalid blocks made for it.
pub struct Strike {
    /// Framed messages to send to each connected peer.
    pub frames: Vec<Vec<u8>>,
    /// Hashes of consensus-invalid blocks among them.
    pub invalid: Vec<BlockHash>,
}

/// An adversary's own state: its randomness, its turn through the breakages and the address
/// it now connects from.
pub struct Attacker {
    rng: Rng,
    /// Every breakage, in this adversary's order.
    order: Vec<Breakage>,
    /// The breakage of its next invalid block (an index into `order`).
    turn: usize,
    /// The address honest nodes see it connect from.
    pub addr: SocketAddr,
}

impl Attacker {
    /// The attacker of the node listening at `addr`, drawing from `rng`.
    pub fn new(mut rng: Rng, addr: SocketAddr) -> Attacker {
        let mut order = Breakage::ALL.to_vec();
        // Adversaries of one run start their turns at different breakages.
        rng.shuffle(&mut order);
        Attacker {
            rng,
            order,
            turn: 0,
            addr,
        }
    }

    /// The breakage of the next invalid block: each in turn, so that over a run every rule
    /// is tried, not just the few a random draw happens to reach honest nodes with.
    fn next_breakage(&mut self) -> Breakage {
        let how = self.order[self.turn % self.order.len()];
        self.turn += 1;
        how
    }

    /// An honest node banned it: it comes back from another host of its /16 (the ban covers
    /// one address; 255 aliases outlast any run's attacks).
    pub fn banned(&mut self) {
        if let IpAddr::V4(ip) = self.addr.ip() {
            let [a, b, c, d] = ip.octets();
            self.addr = SocketAddr::new(
                Ipv4Addr::new(a, b, c.wrapping_add(1), d).into(),
                self.addr.port(),
            );
        }
    }
}

/// The frames of `attack` by the adversary running `node`, at `now_secs`.
pub fn strike(
    attack: Attack,
    node: &Node<SimStore>,
    attacker: &mut Attacker,
    now_secs: u64,
) -> Strike {
    let rng = &mut attacker.rng;
    let params = node.chain().params();
    let frame = |m: &Message| encode_message(params.magic, m);
    let mut invalid = Vec::new();
    let frames = match attack {
        Attack::Garbage => {
            let len = 1 + rng.index(2_000);
            let mut bytes: Vec<u8> = (0..len).map(|_| rng.next_u64() as u8).collect();
            if rng.unit() < 0.5 && bytes.len() >= 24 {
                // A plausible header: the decoder must reject the payload, not resync past it.
                bytes[..4].copy_from_slice(&params.magic);
            }
            vec![bytes]
        }
        Attack::OversizeHeaders => {
            let tip = node.chain().tip().header;
            vec![frame(&Message::Headers(vec![
                tip;
                MAX_BLOCK_HEADERS_PER_MSG + 1
            ]))]
        }
        Attack::InvalidBlocks => {
            let how = attacker.next_breakage();
            let rng = &mut attacker.rng;
            let block = invalid_block(node, how, rng, now_secs);
            invalid.push(block.block_hash());
            vec![
                frame(&Message::Headers(vec![block.header])),
                frame(&Message::Block(block)),
            ]
        }
        Attack::AddrSpam => {
            let addrs = (0..SPAM_ADDRS)
                .map(|_| TimestampedAddress {
                    time: now_secs as u32,
                    addr: NetAddress::new(random_public_addr(rng), ServiceFlags::NETWORK),
                })
                .collect();
            vec![frame(&Message::Addr(addrs))]
        }
        // Passive attacks act by filtering what the node sends or reading slowly.
        Attack::StallBlocks | Attack::Silent | Attack::SlowReader => Vec::new(),
    };
    Strike { frames, invalid }
}

/// A block on `node`'s tip broken by `how`, with valid proof of work for its bits.
fn invalid_block(node: &Node<SimStore>, how: Breakage, rng: &mut Rng, now_secs: u64) -> Block {
    let chain = node.chain();
    let tip = chain.tip();
    let tip_coinbase = match chain.block(&tip.hash) {
        Ok(Some(block)) => block.txdata[0].txid(),
        _ => Hash256(rng.bytes32()),
    };
    let ctx = Context {
        params: chain.params(),
        height: tip.height + 1,
        tip_coinbase,
        now_secs,
    };
    let mut block = workload::template(node, now_secs, rng.next_u64()).block;
    how.apply(&mut block, &ctx, rng);
    block
}

/// A random publicly routable IPv4 address on the regtest port.
fn random_public_addr(rng: &mut Rng) -> SocketAddr {
    let a = 30 + rng.below(190) as u8;
    let ip = Ipv4Addr::new(
        a,
        rng.next_u64() as u8,
        rng.next_u64() as u8,
        1 + rng.below(250) as u8,
    );
    SocketAddr::new(IpAddr::V4(ip), 18444)
}

/// True when an adversary with `attacks` drops this outgoing frame.
pub fn drops(attacks: &[Attack], frame: &[u8]) -> bool {
    attacks.contains(&Attack::Silent)
        || (attacks.contains(&Attack::StallBlocks) && command(frame) == b"block")
}

/// The command of a framed message, without its NUL padding.
fn command(frame: &[u8]) -> &[u8] {
    let field = frame.get(4..16).unwrap_or(&[]);
    let end = field.iter().position(|b| *b == 0).unwrap_or(field.len());
    &field[..end]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::world::{addr_of, node_at};

    #[test]
    fn an_attacker_tries_every_breakage_in_turn() {
        let mut attacker = Attacker::new(Rng::new(5), addr_of(3));
        let n = Breakage::ALL.len();
        let first: Vec<Breakage> = (0..n).map(|_| attacker.next_breakage()).collect();
        assert!(Breakage::ALL.iter().all(|b| first.contains(b)), "{first:?}");
        let again: Vec<Breakage> = (0..n).map(|_| attacker.next_breakage()).collect();
        assert_eq!(first, again, "the second round repeats the first");
    }

    #[test]
    fn a_banned_attacker_comes_back_from_another_host_of_its_group() {
        let mut attacker = Attacker::new(Rng::new(5), addr_of(3));
        let mut seen = vec![attacker.addr];
        for _ in 0..3 {
            attacker.banned();
            assert!(!seen.contains(&attacker.addr), "{seen:?}");
            let (IpAddr::V4(new), IpAddr::V4(old)) = (attacker.addr.ip(), addr_of(3).ip()) else {
                panic!("IPv4 addresses");
            };
            assert_eq!(new.octets()[..2], old.octets()[..2], "same /16");
            // Honest nodes can dial it back there.
            assert_eq!(node_at(&attacker.addr, 12), Some(3));
            seen.push(attacker.addr);
        }
    }
}
