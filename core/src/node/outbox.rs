//! The node's outbox: messages queued for peers (with their send-queue accounting),
//! notifications and disconnects, drained by the driver through [`Node::poll_output`].

use super::{Node, Notification, Output};
use crate::chain::ChainStore;
use crate::net::peer::{DisconnectReason, PeerId};
use crate::wire::{encode_frame, encode_message, Command, Message};

impl<S: ChainStore> Node<S> {
    /// Queues `msg` for `peer`, counting its bytes against its send buffer (see
    /// [`Node::send_queue_full`]).
    pub(super) fn send(&mut self, peer: PeerId, msg: &Message) {
        if self.peers.contains_key(&peer) {
            let bytes = encode_message(self.params.magic, msg);
            self.send_frame(peer, bytes);
        }
    }

    /// Queues a `command` message whose payload is `payload` as it is (a stored block).
    pub(super) fn send_raw(&mut self, peer: PeerId, command: Command, payload: &[u8]) {
        if self.peers.contains_key(&peer) {
            let bytes = encode_frame(self.params.magic, command, payload);
            self.send_frame(peer, bytes);
        }
    }

    fn send_frame(&mut self, peer: PeerId, bytes: Vec<u8>) {
        let Some(p) = self.peers.get_mut(&peer) else {
            return;
        };
        let len = bytes.len() as u64;
        p.bytes_sent += len;
        p.send_queue += len;
        p.last_send = self.now;
        self.totals.sent += len;
        self.outputs.push_back(Output::Send { peer, bytes });
    }

    /// True when `peer` left more unread than its send buffer limit
    /// ([`NodeConfig::max_send_queue`](super::NodeConfig::max_send_queue)): its `getdata`
    /// waits until it reads.
    pub(super) fn send_queue_full(&self, peer: PeerId) -> bool {
        let queued = self.peers.get(&peer).map_or(0, |p| p.send_queue);
        self.config.max_send_queue.is_some_and(|max| queued > max)
    }

    pub(super) fn notify(&mut self, n: Notification) {
        self.outputs.push_back(Output::Notify(n));
    }

    /// Drops `peer` now; the driver closes the socket.
    pub(super) fn disconnect(&mut self, peer: PeerId, reason: DisconnectReason) {
        if self.peers.contains_key(&peer) {
            log::debug!("disconnecting peer {peer}: {reason}");
            self.forget(peer);
            self.outputs.push_back(Output::Disconnect { peer, reason });
        }
    }
}
