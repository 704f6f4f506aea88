//! WebSocket clients inside the node (btcd's `wsClient` and `wsNotificationManager`): each
//! client's authentication, session id and subscriptions, and the notifications the node's
//! events produce for them, emitted as [`Output::Ws`] in the order the events happened.
//!
//! A client whose upgrade request carried no credentials must open with btcd's
//! `authenticate` within [`AUTH_TIMEOUT`]; anything else, or wrong credentials, closes it
//! ([`Output::WsClose`]).

use super::rpc::Origin;
use super::timers::Timer;
use super::{Node, Output};
use crate::address::Payload;
use crate::chain::ChainStore;
use crate::primitives::{Block, BlockHeader, OutPoint, Transaction};
use crate::rng::Rng;
use crate::rpc::auth::authenticate_message;
use crate::rpc::jsonrpc;
use crate::rpc::ws::{ClientId, Hub, Outgoing, Subscriptions};
use crate::rpc::{Rights, Transport};
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::Duration;

/// How long a client without credentials has to authenticate (the RPC read timeout).
pub const AUTH_TIMEOUT: Duration = Duration::from_secs(10);

/// The connected WebSocket clients.
pub(super) struct WsClients {
    clients: BTreeMap<ClientId, Client>,
    /// Subscriptions of the authenticated clients.
    hub: Hub,
    /// Draws session ids.
    rng: Rng,
}

/// One connection.
struct Client {
    /// Set once authenticated.
    rights: Option<Rights>,
    /// btcd's random session id.
    session_id: u64,
}

impl WsClients {
    /// No clients, on `hub`'s network, drawing session ids from `rng`.
    pub(super) fn new(hub: Hub, rng: Rng) -> WsClients {
        WsClients {
            clients: BTreeMap::new(),
            hub,
            rng,
        }
    }

    /// Whether `client` is connected (and not closed by the node).
    pub(super) fn is_connected(&self, client: ClientId) -> bool {
        self.clients.contains_key(&client)
    }

    /// The session id of `client` (0 when unknown).
    pub(super) fn session_id(&self, client: ClientId) -> u64 {
        self.clients.get(&client).map_or(0, |c| c.session_id)
    }

    /// Takes `client`'s subscriptions out for a command to change (see
    /// [`WsClients::restore_subscriptions`]).
    pub(super) fn take_subscriptions(&mut self, client: ClientId) -> Option<Subscriptions> {
        self.hub.take(client)
    }

    /// Puts back what [`WsClients::take_subscriptions`] took.
    pub(super) fn restore_subscriptions(&mut self, client: ClientId, subs: Subscriptions) {
        if self.clients.contains_key(&client) {
            self.hub.put(client, subs);
        }
    }

    /// Watches `outpoints` and `addresses` for `client` (after a rescan to the tip).
    pub(super) fn watch(
        &mut self,
        client: ClientId,
        outpoints: Vec<OutPoint>,
        addresses: Vec<Payload>,
    ) {
        self.hub.watch(client, outpoints, addresses);
    }

    /// Forgets a client that left or was closed.
    pub(super) fn remove(&mut self, client: ClientId) {
        self.clients.remove(&client);
        self.hub.remove_client(client);
    }

    /// Whether a block change would be told to anyone (so its block need not be read).
    pub(super) fn wants_blocks(&self) -> bool {
        self.hub.wants_blocks()
    }
}

impl<S: ChainStore> Node<S> {
    /// A client connected, authenticated already when `rights` is given.
    pub(super) fn on_ws_opened(&mut self, client: ClientId, rights: Option<Rights>) {
        let session_id = self.ws.rng.next_u64();
        self.ws
            .clients
            .insert(client, Client { rights, session_id });
        match rights {
            Some(_) => self.ws.hub.add_client(client),
            None => self
                .timers
                .arm(Timer::WsAuth(client), self.now + AUTH_TIMEOUT),
        }
    }

    /// A message from a client: its `authenticate` first, then requests.
    pub(super) fn on_ws_message(&mut self, client: ClientId, text: &str) {
        let Some(c) = self.ws.clients.get(&client) else {
            return;
        };
        match c.rights {
            Some(rights) => self.run_body(
                Origin::Ws(client),
                rights,
                Transport::WebSocket,
                text.as_bytes(),
            ),
            None => self.ws_authenticate(client, text),
        }
    }

    /// btcd's handshake for a client without credentials: the first message must be
    /// `authenticate "user" "pass"` with valid credentials (answered null when it has an id);
    /// anything else closes the connection.
    fn ws_authenticate(&mut self, client: ClientId, text: &str) {
        let Some((req, credentials)) = authenticate_message(text.as_bytes()) else {
            return self.ws_refuse(client);
        };
        let Some(rights) = self.config.rpc.credentials.check(&credentials) else {
            return self.ws_refuse(client);
        };
        if let Some(c) = self.ws.clients.get_mut(&client) {
            c.rights = Some(rights);
        }
        self.timers.cancel(Timer::WsAuth(client));
        self.ws.hub.add_client(client);
        self.outputs.push_back(Output::WsAuthenticated { client });
        if let Some(id) = req.id {
            let reply = jsonrpc::response(req.version, Some(id), Ok(Value::Null));
            self.ws_send(client, &reply);
        }
    }

    fn ws_refuse(&mut self, client: ClientId) {
        log::warn!("WebSocket authentication failure from client {client}");
        self.ws_close(client);
    }

    /// Closes a client and forgets it.
    fn ws_close(&mut self, client: ClientId) {
        self.ws_closed(client);
        self.outputs.push_back(Output::WsClose { client });
    }

    /// Forgets a client that left or was closed.
    pub(super) fn ws_closed(&mut self, client: ClientId) {
        self.ws.remove(client);
        self.timers.cancel(Timer::WsAuth(client));
    }

    /// Closes a client still unauthenticated when its time ran out.
    pub(super) fn ws_auth_expired(&mut self, client: ClientId) {
        if self
            .ws
            .clients
            .get(&client)
            .is_some_and(|c| c.rights.is_none())
        {
            log::debug!("WebSocket client {client} did not authenticate in time");
            self.ws_close(client);
        }
    }

    /// Queues `value` for `client`.
    pub(super) fn ws_send(&mut self, client: ClientId, value: &Value) {
        if self.ws.clients.contains_key(&client) {
            self.outputs.push_back(Output::Ws {
                client,
                text: value.to_string(),
            });
        }
    }

    fn ws_deliver(&mut self, out: Vec<Outgoing>) {
        for (client, note) in out {
            self.ws_send(client, &note);
        }
    }

    /// Tells the clients of `block`, just connected at `height`.
    pub(super) fn ws_block_connected(&mut self, block: &Block, height: u32) {
        let out = self.ws.hub.block_connected(block, height);
        self.ws_deliver(out);
    }

    /// Tells the clients of the block with `header`, just disconnected from `height`.
    pub(super) fn ws_block_disconnected(&mut self, header: &BlockHeader, height: u32) {
        let out = self.ws.hub.block_disconnected(header, height);
        self.ws_deliver(out);
    }

    /// Tells the clients of `tx`, just accepted to the mempool.
    pub(super) fn ws_tx_accepted(&mut self, tx: &Transaction) {
        let out = self.ws.hub.tx_accepted(tx);
        self.ws_deliver(out);
    }
}
