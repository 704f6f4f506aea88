//! WebSocket notification delivery (btcd's `wsNotificationManager` around the core's
//! [`Hub`]): the node's notifications are turned into each client's notifications on a thread
//! of their own, in the order the node reported them, and queued per client. A client whose
//! queue is full is disconnected, so a slow reader never holds up the node or other clients.
//! Watches a rescan leaves behind join the same [`Feed`] from the node, so they start exactly
//! after the blocks the rescan saw.

use crate::rpc::http::{read_chain, shutting_down, RpcService};
use rbtcd_core::address::Payload;
use rbtcd_core::node::Notification;
use rbtcd_core::params::Params;
use rbtcd_core::primitives::{OutPoint, Transaction};
use rbtcd_core::rpc::ws::{hub, ClientId, Hub, Outgoing};
use rbtcd_core::rpc::RpcError;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};

/// Notifications queued for one client before it counts as too slow and is dropped.
pub const QUEUE_LIMIT: usize = 4096;

/// What the notifier thread works through, in order.
#[derive(Debug)]
pub enum Feed {
    /// Something the node reported.
    Node(Notification),
    /// A client's subscription command, applied from this point of the node's events on (as
    /// btcd queues registrations behind the notifications), answered on `reply`.
    Command {
        /// The client.
        client: ClientId,
        /// The command, one of the hub's.
        method: String,
        /// Its parameters.
        params: Vec<Value>,
        /// Where the outcome goes.
        reply: async_channel::Sender<Result<Value, RpcError>>,
    },
    /// Watch outpoints and addresses for a client from this point of the node's events on.
    Watch {
        /// The client.
        client: ClientId,
        /// Outpoints whose spends to notify.
        outpoints: Vec<OutPoint>,
        /// Addresses whose payments to notify.
        addresses: Vec<Payload>,
    },
}

impl From<Notification> for Feed {
    fn from(n: Notification) -> Self {
        Feed::Node(n)
    }
}

/// Every WebSocket client's subscriptions and notification queue.
pub struct Notifier {
    state: Mutex<State>,
    /// The feed's sender, held weakly so the feed ends when the node stops.
    feed: async_channel::WeakSender<Feed>,
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
    /// No clients yet, on `params`' network, with `feed` the sender of the feed [`run`]
    /// reads.
    ///
    /// [`run`]: Notifier::run
    pub fn new(params: Params, feed: async_channel::WeakSender<Feed>) -> Self {
        Notifier {
            state: Mutex::new(State {
                hub: Hub::new(params),
                queues: BTreeMap::new(),
                next_id: 1,
            }),
            feed,
        }
    }

    /// Has `client` watch `outpoints` and `addresses` once the feed reaches this point: called
    /// on the node, that is right after the node's last event so far.
    pub fn watch_from_here(
        &self,
        client: ClientId,
        outpoints: Vec<OutPoint>,
        addresses: Vec<Payload>,
    ) {
        if let Some(feed) = self.feed.upgrade() {
            let _ = feed.try_send(Feed::Watch {
                client,
                outpoints,
                addresses,
            });
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

    /// Runs a subscription command of `id` once the notifications of every event before it
    /// are queued, so the client hears of no earlier event; `None` when `method` is not one.
    pub fn command(
        &self,
        id: ClientId,
        method: &str,
        params: &[Value],
    ) -> Option<Result<Value, RpcError>> {
        if !hub::COMMANDS.contains(&method) {
            return None;
        }
        let (reply, answer) = async_channel::bounded(1);
        let command = Feed::Command {
            client: id,
            method: method.to_string(),
            params: params.to_vec(),
            reply,
        };
        let sent = self
            .feed
            .upgrade()
            .is_some_and(|feed| feed.try_send(command).is_ok());
        if !sent {
            return Some(Err(shutting_down()));
        }
        Some(
            answer
                .recv_blocking()
                .unwrap_or_else(|_| Err(shutting_down())),
        )
    }

    /// Runs `f` on the subscriptions (filters for `rescanblocks`, watches after `rescan`).
    pub fn with_hub<T>(&self, f: impl FnOnce(&mut Hub) -> T) -> T {
        f(&mut self.lock().hub)
    }

    /// Tells the clients watching outpoints that `tx` in the mempool spends them.
    pub fn mempool_spend(&self, tx: &Transaction) {
        let mut s = self.lock();
        let out = s.hub.mempool_spend(tx);
        s.deliver(out);
    }

    /// Queues notifications for `id` alone (a rescan's); false when the client is gone.
    pub fn send(&self, id: ClientId, notes: Vec<Value>) -> bool {
        let mut s = self.lock();
        s.deliver(notes.into_iter().map(|n| (id, n)).collect());
        s.queues.contains_key(&id)
    }

    /// Turns the node's `events` into client notifications until the node stops, reading the
    /// blocks involved through `service` only when some client is to hear of them.
    pub fn run(&self, feed: async_channel::Receiver<Feed>, service: &dyn RpcService) {
        while let Ok(item) = feed.recv_blocking() {
            let event = match item {
                Feed::Node(event) => event,
                Feed::Command {
                    client,
                    method,
                    params,
                    reply,
                } => {
                    let outcome = self.lock().hub.command(client, &method, &params);
                    let _ = reply.try_send(outcome.expect("only hub commands are fed"));
                    continue;
                }
                Feed::Watch {
                    client,
                    outpoints,
                    addresses,
                } => {
                    self.lock().hub.watch(client, outpoints, addresses);
                    continue;
                }
            };
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
    use crate::rpc::http::ChainJob;
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
        let (feed_tx, feed) = async_channel::unbounded();
        let notifier = Notifier::new(Params::new(Network::Regtest), feed_tx.downgrade());
        let tx = |i: usize| spend(&[OutPoint::new(Txid::ZERO, i as u32)], &[1]);
        let (slow, slow_rx) = notifier.connect();
        let (fast, fast_rx) = notifier.connect();
        let mut fast_got = Vec::new();
        std::thread::scope(|s| {
            s.spawn(|| notifier.run(feed, &NoNode));
            for id in [slow, fast] {
                let r = notifier.command(id, "notifynewtransactions", &[]);
                assert_eq!(r, Some(Ok(Value::Null)));
            }
            // A burst that just fits, which the fast client reads; then one that overflows
            // the slow client, who never reads.
            for burst in [0..QUEUE_LIMIT, QUEUE_LIMIT..QUEUE_LIMIT + 10] {
                let len = burst.len();
                for i in burst {
                    let event = Notification::TxAccepted(Arc::new(tx(i)));
                    feed_tx.try_send(Feed::from(event)).unwrap();
                }
                for _ in 0..len {
                    let note = fast_rx.recv_blocking().unwrap();
                    fast_got.push(serde_json::from_str::<Value>(&note).unwrap());
                }
            }
            drop(feed_tx);
        });
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

    #[test]
    fn a_watch_from_the_feed_covers_only_later_events() {
        let (feed_tx, feed) = async_channel::unbounded();
        let notifier = Notifier::new(Params::new(Network::Regtest), feed_tx.downgrade());
        let (id, queue) = notifier.connect();
        let address = Payload::PubKeyHash([4; 20]);
        let script =
            rbtcd_core::address::Address::new(address.clone(), &Params::new(Network::Regtest))
                .script_pubkey();
        let pay = |vout: u32| {
            let mut tx = spend(&[OutPoint::new(Txid::ZERO, vout)], &[5]);
            tx.outputs[0].script_pubkey = script.clone();
            Arc::new(tx)
        };
        let (before, after) = (pay(1), pay(2));
        feed_tx
            .try_send(Notification::TxAccepted(before).into())
            .unwrap();
        notifier.watch_from_here(id, vec![], vec![address]);
        feed_tx
            .try_send(Notification::TxAccepted(after.clone()).into())
            .unwrap();
        drop(feed_tx);
        notifier.run(feed, &NoNode);
        let note: Value = serde_json::from_str(&queue.try_recv().unwrap()).unwrap();
        assert_eq!(note["method"], "recvtx");
        let hex = rbtcd_core::rpc::ws::notification::tx_hex(&after);
        assert_eq!(note["params"], serde_json::json!([hex]));
        assert!(
            queue.try_recv().is_err(),
            "the earlier payment is not notified"
        );
    }
}
