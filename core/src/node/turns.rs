//! Fair turns over peers' received messages, as Bitcoin Core's message handler serves them:
//! with [`NodeConfig::fair_turns`](super::NodeConfig::fair_turns), bytes received from a peer
//! are only framed on arrival, and every input then gives each peer with a complete message
//! waiting one message's handling, in turn order. A peer that floods (thousands of small
//! messages in one read) is served one message per turn like everyone else, so an honest
//! peer's message waits behind at most one of the flooder's instead of all of them; and while
//! a peer has messages waiting, the driver reads no more from it ([`Node::receive_paused`]),
//! so what it makes the node buffer stays within one read.

use super::Node;
use crate::chain::ChainStore;
use crate::net::peer::PeerId;
use std::collections::VecDeque;

/// Peers with a complete received message waiting, in the order of their next turns.
#[derive(Debug, Default)]
pub(super) struct Turns {
    waiting: VecDeque<PeerId>,
}

impl Turns {
    /// `peer` has a message waiting: it is served after the peers already waiting.
    pub(super) fn wait(&mut self, peer: PeerId) {
        // At most one entry per connected peer, so the scan is short.
        if !self.waiting.contains(&peer) {
            self.waiting.push_back(peer);
        }
    }

    /// `peer` is gone: it gets no more turns.
    pub(super) fn remove(&mut self, peer: PeerId) {
        self.waiting.retain(|p| *p != peer);
    }

    /// True when some peer has a message waiting.
    pub(super) fn any(&self) -> bool {
        !self.waiting.is_empty()
    }
}

impl<S: ChainStore> Node<S> {
    /// One turn: handles one message of each peer that has one waiting, in turn order; a peer
    /// with another complete message goes to the back for the next turn.
    pub(super) fn serve_turn(&mut self) {
        for _ in 0..self.turns.waiting.len() {
            let Some(peer) = self.turns.waiting.pop_front() else {
                break;
            };
            if !self.handle_frame(peer) {
                continue;
            }
            let Some(p) = self.peers.get_mut(&peer) else {
                continue;
            };
            if p.decoder.has_frame() {
                self.turns.waiting.push_back(peer);
            } else {
                p.decoder.compact();
            }
        }
    }

    /// True when `peer` has received messages waiting for their turns: the driver should not
    /// read more from its socket until this turns false (Core's `fPauseRecv`), which it does
    /// once the node handled everything complete that the peer sent.
    pub fn receive_paused(&self, peer: PeerId) -> bool {
        self.turns.waiting.contains(&peer)
    }

    /// True when some peer's messages wait for their turns: the driver should feed another
    /// input (an [`Input::Tick`](super::Input::Tick) when nothing else happened) without
    /// waiting; [`Node::poll_timeout`] is then due at once.
    pub fn turns_waiting(&self) -> bool {
        self.turns.any()
    }
}
