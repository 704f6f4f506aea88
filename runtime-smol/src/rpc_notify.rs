//! WebSocket notification delivery (btcd's `wsNotificationManager` around the core's
//! [`Hub`]): the node's notifications are turned into each client's notifications on a thread
//! of their own, in the order the node reported them, and queued per client. A client whose
//! queue is full is disconnected, so a slow reader never holds up the node or other clients.

use crate::rpc_http::{read_chain, RpcService};
use rbtcd_core::node::Notification;
use rbtcd_core::params::Params;
use rbtcd_core::rpc::ws::{ClientId, Hub, Outgoing};
use rbtcd_core::rpc::RpcError;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};

/// Notifications queued for one client before it counts as too slow and is dropped.
pub const QUEUE_LIMIT: usize = 4096;

/// Every WebSocket client's subscriptions and notification queue.
pub struct Notifier {
    state: Mutex<State>,
}

struct State {
    hub: Hub,
    queues: BTreeMap<ClientId, async_channel::Sender<String>>,
    next_id: ClientId,
}

impl State {
    /// Queues `out`; a client whose queue is full is forgotten, which closes its queue and
    /// so its connection.
    fn deliver(&mut self, out: Vec<Outgoing>) {
        for (id, note) in out {
            let Some(queue) = self.queues.get(&id) else {
                continue;
            };
            if let Err(e) = queue.try_send(note.to_string()) {
                if e.is_full() {
                    log::warn!(
                        target: "rbtcd::rpc",
                        "WebSocket client {id} has {QUEUE_LIMIT} notifications unread; disconnecting it"
                    );
                }
                self.queues.remove(&id);
                self.hub.remove_client(id);
            }
        }
    }
}

impl Notifier {
    /// No clients yet, on `params`' network.
    pub fn new(params: Params) -> Self {
        Notifier {
            state: Mutex::new(State {
                hub: Hub::new(params),
                queues: BTreeMap::new(),
                next_id: 1,
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic elsewhere leaves the state usable: it is only sets and queues.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Registers an authenticated client: its id and the queue its notifications arrive on.
    pub fn connect(&self) -> (ClientId, async_channel::Receiver<String>) {
        let mut s = self.lock();
        let id = s.next_id;
        s.next_id += 1;
        let (tx, rx) = async_channel::bounded(QUEUE_LIMIT);
        s.queues.insert(id, tx);
        s.hub.add_client(id);
        (id, rx)
    }

    /// Forgets a client that left.
    pub fn disconnect(&self, id: ClientId) {
        let mut s = self.lock();
        s.queues.remove(&id);
        s.hub.remove_client(id);
    }

    /// Runs a subscription command of `id`; `None` when `method` is not one.
    pub fn command(
        &self,
        id: ClientId,
        method: &str,
        params: &[Value],
    ) -> Option<Result<Value, RpcError>> {
        self.lock().hub.command(id, method, params)
    }

    /// Runs `f` on the subscriptions (filters for `rescanblocks`, watches after `rescan`).
    pub fn with_hub<T>(&self, f: impl FnOnce(&mut Hub) -> T) -> T {
        f(&mut self.lock().hub)
    }

    /// Queues notifications for `id` alone (a rescan's); false when the client is gone.
    pub fn send(&self, id: ClientId, notes: Vec<Value>) -> bool {
        let mut s = self.lock();
        s.deliver(notes.into_iter().map(|n| (id, n)).collect());
        s.queues.contains_key(&id)
    }

    /// Turns the node's `events` into client notifications until the node stops, reading the
    /// blocks involved through `service` only when some client is to hear of them.
    pub fn run(&self, events: async_channel::Receiver<Notification>, service: &dyn RpcService) {
        while let Ok(event) = events.recv_blocking() {
            let out = match event {
                Notification::BlockConnected { hash, height, .. } => {
                    if !self.lock().hub.wants_blocks() {
                        continue;
                    }
                    match read_chain(service, move |c| c.block(&hash)) {
                        Ok(Ok(Some(block))) => self.lock().hub.block_connected(&block, height),
                        other => {
                            log::warn!(target: "rbtcd::rpc", "Cannot notify block {hash}: {other:?}");
                            continue;
                        }
                    }
                }
                Notification::BlockDisconnected { hash, height } => {
                    if !self.lock().hub.wants_blocks() {
                        continue;
                    }
                    match read_chain(service, move |c| c.header(&hash)) {
                        Ok(Some(header)) => self.lock().hub.block_disconnected(&header, height),
                        other => {
                            log::warn!(target: "rbtcd::rpc", "Cannot notify block {hash}: {other:?}");
                            continue;
                        }
                    }
                }
                Notification::TxAccepted(tx) => self.lock().hub.tx_accepted(&tx),
                _ => continue,
            };
            self.lock().deliver(out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rpc_http::ChainJob;
    use rbtcd_core::chain::builder::spend;
    use rbtcd_core::params::Network;
    use rbtcd_core::primitives::{OutPoint, Txid};
    use rbtcd_core::rpc::methods::Method;
    use std::sync::Arc;

    /// Transaction events never need the node.
    struct NoNode;

    impl RpcService for NoNode {
        fn call(&self, _: &'static Method, _: &[Value]) -> Result<Value, RpcError> {
            unreachable!("no calls for transactions")
        }

        fn with_chain(&self, _: ChainJob) -> Result<(), RpcError> {
            unreachable!("no chain reads for transactions")
        }
    }

    #[test]
    fn a_client_that_falls_behind_is_dropped_while_others_keep_up() {
        let notifier = Notifier::new(Params::new(Network::Regtest));
        let (slow, slow_rx) = notifier.connect();
        let (fast, fast_rx) = notifier.connect();
        for id in [slow, fast] {
            let r = notifier.command(id, "notifynewtransactions", &[]);
            assert_eq!(r, Some(Ok(Value::Null)));
        }
        let tx = |i: usize| spend(&[OutPoint::new(Txid::ZERO, i as u32)], &[1]);
        let feed = |range: std::ops::Range<usize>| {
            let (events, events_rx) = async_channel::unbounded();
            for i in range {
                events
                    .try_send(Notification::TxAccepted(Arc::new(tx(i))))
                    .unwrap();
            }
            drop(events);
            notifier.run(events_rx, &NoNode);
        };
        // The fast client reads between bursts; the slow one never does.
        let mut fast_got = Vec::new();
        for burst in [0..QUEUE_LIMIT, QUEUE_LIMIT..QUEUE_LIMIT + 10] {
            feed(burst);
            while let Ok(note) = fast_rx.try_recv() {
                fast_got.push(serde_json::from_str::<Value>(&note).unwrap());
            }
        }
        assert_eq!(fast_got.len(), QUEUE_LIMIT + 10);
        for (i, note) in fast_got.iter().enumerate() {
            assert_eq!(note["params"][0], tx(i).txid().to_string(), "in order");
        }
        // The slow client keeps what was queued, then finds its queue closed.
        let mut queued = 0;
        while slow_rx.try_recv().is_ok() {
            queued += 1;
        }
        assert_eq!(queued, QUEUE_LIMIT);
        assert!(slow_rx.is_closed());
        assert!(!notifier.send(slow, vec![Value::Null]), "forgotten");
    }
}
