//! The WebSocket clients' subscriptions (btcd's `wsNotificationManager`): which notifications
//! each client asked for, and the notifications a node event produces for each, in the order
//! btcd sends them. The transport feeds events in the order the node reported them and
//! delivers [`Outgoing`] notifications in the order returned, so each client sees events in
//! the order they happened.

use super::filter::{output_payloads, TxFilter};
use super::notification::{self as n, BlockDetails};
use crate::address::Payload;
use crate::params::Params as ChainParams;
use crate::primitives::{Block, BlockHeader, OutPoint, Transaction, Txid};
use crate::rpc::error::code;
use crate::rpc::RpcError;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// The transport's name for a connected client.
pub type ClientId = u64;

/// A notification for one client.
pub type Outgoing = (ClientId, Value);

/// Addresses and outpoints one client may ask to watch (`notifyspent`, `notifyreceived`,
/// `loadtxfilter` together), so no client can make the node hold unbounded sets for it.
pub const MAX_WATCHED: usize = 100_000;

/// What one client asked to be told about (its subscription commands change it).
#[derive(Clone, Debug, Default)]
pub struct Subscriptions {
    /// `notifyblocks`.
    blocks: bool,
    /// `notifynewtransactions`, with whether verbose.
    new_txs: Option<bool>,
    /// `notifyspent` outpoints (and outputs found by `notifyreceived`).
    spent: BTreeSet<OutPoint>,
    /// `notifyreceived` addresses.
    received: BTreeSet<Payload>,
    /// `loadtxfilter`.
    filter: Option<TxFilter>,
}

impl Subscriptions {
    fn watches(&self) -> bool {
        !self.spent.is_empty() || !self.received.is_empty()
    }

    /// Refuses a command that would make the client watch more than [`MAX_WATCHED`]
    /// addresses and outpoints: `more` added, with the loaded filter replaced if `reload`.
    pub fn check_room(&self, more: usize, reload: bool) -> Result<(), RpcError> {
        let filter = self.filter.as_ref().map_or(0, TxFilter::len);
        let kept = self.spent.len() + self.received.len() + if reload { 0 } else { filter };
        if kept.saturating_add(more) <= MAX_WATCHED {
            return Ok(());
        }
        Err(RpcError::new(
            code::INVALID_PARAMETER,
            format!(
                "too many subscriptions: a client may watch at most {MAX_WATCHED} addresses and \
                 outpoints; it watches {} and asked for {more} more",
                kept + if reload { filter } else { 0 }
            ),
        ))
    }

    /// `notifyblocks` (true) and `stopnotifyblocks` (false).
    pub fn notify_blocks(&mut self, on: bool) {
        self.blocks = on;
    }

    /// `notifynewtransactions` (`Some(verbose)`) and `stopnotifynewtransactions` (`None`).
    pub fn notify_new_txs(&mut self, verbose: Option<bool>) {
        self.new_txs = verbose;
    }

    /// `notifyspent`: tell of transactions spending `outpoints`.
    pub fn watch_spent(&mut self, outpoints: impl IntoIterator<Item = OutPoint>) {
        self.spent.extend(outpoints);
    }

    /// `stopnotifyspent`.
    pub fn unwatch_spent(&mut self, outpoints: &[OutPoint]) {
        for op in outpoints {
            self.spent.remove(op);
        }
    }

    /// `notifyreceived`: tell of transactions paying `addresses`.
    pub fn watch_received(&mut self, addresses: impl IntoIterator<Item = Payload>) {
        self.received.extend(addresses);
    }

    /// `stopnotifyreceived`.
    pub fn unwatch_received(&mut self, addresses: &[Payload]) {
        for a in addresses {
            self.received.remove(a);
        }
    }

    /// `loadtxfilter`: a new filter, or (unless `reload`) more for the loaded one.
    pub fn load_filter(
        &mut self,
        reload: bool,
        addresses: impl IntoIterator<Item = Payload>,
        outpoints: Vec<OutPoint>,
    ) {
        match self.filter.as_mut().filter(|_| !reload) {
            Some(f) => {
                addresses.into_iter().for_each(|a| f.add_address(a));
                outpoints.into_iter().for_each(|o| f.add_outpoint(o));
            }
            None => self.filter = Some(TxFilter::new(addresses, outpoints)),
        }
    }

    /// The filter `loadtxfilter` loaded, if any.
    pub fn filter_mut(&mut self) -> Option<&mut TxFilter> {
        self.filter.as_mut()
    }
}

/// Every client's subscriptions.
pub struct Hub {
    params: ChainParams,
    clients: BTreeMap<ClientId, Subscriptions>,
}

impl Hub {
    /// No clients yet, on `params`' network.
    pub fn new(params: ChainParams) -> Self {
        Hub {
            params,
            clients: BTreeMap::new(),
        }
    }

    /// A client connected.
    pub fn add_client(&mut self, id: ClientId) {
        self.clients.entry(id).or_default();
    }

    /// A client left (or was dropped): forget everything it asked for.
    pub fn remove_client(&mut self, id: ClientId) {
        self.clients.remove(&id);
    }

    /// Whether a connected or disconnected block would be notified to anyone, so the
    /// transport need not read blocks nobody is told about.
    pub fn wants_blocks(&self) -> bool {
        self.clients.values().any(|c| c.blocks || c.watches())
    }

    /// Takes the subscriptions of `id` out (for one of its commands to change); see
    /// [`Hub::put`].
    pub fn take(&mut self, id: ClientId) -> Option<Subscriptions> {
        self.clients.remove(&id)
    }

    /// Puts back what [`Hub::take`] took.
    pub fn put(&mut self, id: ClientId, subs: Subscriptions) {
        self.clients.insert(id, subs);
    }

    /// Watches `outpoints` and `addresses` for `id`, as `notifyspent` and `notifyreceived` do
    /// (a `rescan` to the tip leaves its keys watched this way).
    pub fn watch(
        &mut self,
        id: ClientId,
        outpoints: impl IntoIterator<Item = OutPoint>,
        addresses: impl IntoIterator<Item = Payload>,
    ) {
        if let Some(c) = self.clients.get_mut(&id) {
            c.spent.extend(outpoints);
            c.received.extend(addresses);
        }
    }

    /// The notifications for `block`, just connected at `height`: `redeemingtx`/`recvtx` for
    /// watched outpoints and addresses (spent watches are then dropped), then
    /// `blockconnected` and `filteredblockconnected` for block subscribers.
    pub fn block_connected(&mut self, block: &Block, height: u32) -> Vec<Outgoing> {
        let mut out = Vec::new();
        if self.clients.values().any(Subscriptions::watches) {
            for (index, tx) in block.txdata.iter().enumerate() {
                let details = BlockDetails::of(block, height, index);
                self.notify_for_tx(tx, Some(details), &mut out);
            }
        }
        let hash = block.block_hash();
        let subscribers: Vec<ClientId> = self
            .clients
            .iter()
            .filter(|(_, c)| c.blocks)
            .map(|(id, _)| *id)
            .collect();
        let connected = n::block_connected(&hash, height, block.header.time);
        out.extend(subscribers.iter().map(|id| (*id, connected.clone())));
        let mut matched: BTreeMap<ClientId, Vec<String>> = BTreeMap::new();
        for tx in &block.txdata {
            let mut hex = None;
            for id in &subscribers {
                let client = self.clients.get_mut(id).expect("subscriber");
                if let Some(f) = client.filter.as_mut() {
                    if f.check(tx, &self.params) {
                        let hex = hex.get_or_insert_with(|| n::tx_hex(tx)).clone();
                        matched.entry(*id).or_default().push(hex);
                    }
                }
            }
        }
        for id in subscribers {
            let txs = matched.remove(&id).unwrap_or_default();
            out.push((id, n::filtered_block_connected(height, &block.header, &txs)));
        }
        out
    }

    /// The notifications for the block with `header`, just disconnected from `height`:
    /// `blockdisconnected` and `filteredblockdisconnected` for block subscribers.
    pub fn block_disconnected(&mut self, header: &BlockHeader, height: u32) -> Vec<Outgoing> {
        let hash = header.block_hash();
        let gone = n::block_disconnected(&hash, height, header.time);
        let filtered = n::filtered_block_disconnected(height, header);
        self.clients
            .iter()
            .filter(|(_, c)| c.blocks)
            .flat_map(|(id, _)| [(*id, gone.clone()), (*id, filtered.clone())])
            .collect()
    }

    /// The notifications for `tx`, just accepted to the mempool: `txaccepted` or
    /// `txacceptedverbose` for subscribers, `redeemingtx`/`recvtx` for watches, and
    /// `relevanttxaccepted` for clients whose filter it matches.
    pub fn tx_accepted(&mut self, tx: &Transaction) -> Vec<Outgoing> {
        let mut out = Vec::new();
        let (mut plain, mut verbose) = (None, None);
        for (id, c) in &self.clients {
            let note = match c.new_txs {
                None => continue,
                Some(false) => plain.get_or_insert_with(|| n::tx_accepted(tx)),
                Some(true) => {
                    verbose.get_or_insert_with(|| n::tx_accepted_verbose(tx, &self.params))
                }
            };
            out.push((*id, note.clone()));
        }
        self.notify_for_tx(tx, None, &mut out);
        let mut hex = None;
        for (id, c) in &mut self.clients {
            if let Some(f) = c.filter.as_mut() {
                if f.check(tx, &self.params) {
                    let hex = hex.get_or_insert_with(|| n::tx_hex(tx));
                    out.push((*id, n::relevant_tx_accepted(hex)));
                }
            }
        }
        out
    }

    /// btcd's `notifyForTx`: spends of watched outpoints, then payments to watched addresses.
    fn notify_for_tx(
        &mut self,
        tx: &Transaction,
        block: Option<BlockDetails>,
        out: &mut Vec<Outgoing>,
    ) {
        self.notify_spends(tx, block, out);
        self.notify_receives(tx, block, out);
    }

    /// One `redeemingtx` per client whose watched outpoint `tx` spends; a mined spend ends the
    /// watch.
    fn notify_spends(
        &mut self,
        tx: &Transaction,
        block: Option<BlockDetails>,
        out: &mut Vec<Outgoing>,
    ) {
        let mut hex = None;
        for (id, c) in &mut self.clients {
            let mut spends = false;
            for input in &tx.inputs {
                let watched = match block {
                    Some(_) => c.spent.remove(&input.prevout),
                    None => c.spent.contains(&input.prevout),
                };
                spends |= watched;
            }
            if spends {
                let hex = hex.get_or_insert_with(|| n::tx_hex(tx));
                out.push((*id, n::redeeming_tx(hex, block)));
            }
        }
    }

    /// One `recvtx` per client whose watched address `tx` pays; the paid outputs become
    /// watched outpoints.
    fn notify_receives(
        &mut self,
        tx: &Transaction,
        block: Option<BlockDetails>,
        out: &mut Vec<Outgoing>,
    ) {
        let mut hex = None;
        let txid: Txid = tx.txid();
        for (id, c) in &mut self.clients {
            if c.received.is_empty() {
                continue;
            }
            let mut pays = false;
            for (i, o) in tx.outputs.iter().enumerate() {
                let payloads = output_payloads(&o.script_pubkey, &self.params);
                if payloads.iter().any(|p| c.received.contains(p)) {
                    c.spent.insert(OutPoint::new(txid, i as u32));
                    pays = true;
                }
            }
            if pays {
                let hex = hex.get_or_insert_with(|| n::tx_hex(tx));
                out.push((*id, n::recv_tx(hex, block)));
            }
        }
    }
}
