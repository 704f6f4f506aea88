//! The WebSocket clients' subscriptions (btcd's `wsNotificationManager`): which notifications
//! each client asked for, and the notifications a node event produces for each, in the order
//! btcd sends them. The transport feeds events in the order the node reported them and
//! delivers [`Outgoing`] notifications in the order returned, so each client sees events in
//! the order they happened.

use super::filter::{output_payloads, TxFilter};
use super::notification::{self as n, BlockDetails};
use crate::address::{Address, Payload};
use crate::params::Params as ChainParams;
use crate::primitives::{Block, BlockHeader, OutPoint, Transaction, Txid};
use crate::rpc::error::{code, RpcError};
use crate::rpc::params::{decode_hex_error, Params};
use serde_json::Value;
use std::collections::{BTreeMap, HashSet};

/// The subscription commands [`Hub::command`] runs.
pub const COMMANDS: &[&str] = &[
    "loadtxfilter",
    "notifyblocks",
    "notifynewtransactions",
    "notifyreceived",
    "notifyspent",
    "stopnotifyblocks",
    "stopnotifynewtransactions",
    "stopnotifyreceived",
    "stopnotifyspent",
];

/// The transport's name for a connected client.
pub type ClientId = u64;

/// A notification for one client.
pub type Outgoing = (ClientId, Value);

/// What one client asked to be told about.
#[derive(Clone, Debug, Default)]
struct Client {
    /// `notifyblocks`.
    blocks: bool,
    /// `notifynewtransactions`, with whether verbose.
    new_txs: Option<bool>,
    /// `notifyspent` outpoints (and outputs found by `notifyreceived`).
    spent: HashSet<OutPoint>,
    /// `notifyreceived` addresses.
    received: HashSet<Payload>,
    /// `loadtxfilter`.
    filter: Option<TxFilter>,
}

impl Client {
    fn watches(&self) -> bool {
        !self.spent.is_empty() || !self.received.is_empty()
    }
}

/// Every client's subscriptions.
pub struct Hub {
    params: ChainParams,
    clients: BTreeMap<ClientId, Client>,
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

    /// The filter `id` loaded, if any.
    pub fn filter_mut(&mut self, id: ClientId) -> Option<&mut TxFilter> {
        self.clients.get_mut(&id)?.filter.as_mut()
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

    /// Runs a subscription command of client `id`; `None` when `method` is not one of
    /// [`COMMANDS`].
    pub fn command(
        &mut self,
        id: ClientId,
        method: &str,
        values: &[Value],
    ) -> Option<Result<Value, RpcError>> {
        let p = Params::new(method, values);
        let params = self.params.clone();
        let client = self.clients.entry(id).or_default();
        let outcome = match method {
            "notifyblocks" => p.expect_count(0, 0).map(|()| client.blocks = true),
            "stopnotifyblocks" => p.expect_count(0, 0).map(|()| client.blocks = false),
            "notifynewtransactions" => p.expect_count(0, 1).and_then(|()| {
                client.new_txs = Some(p.opt_bool(0, "verbose")?.unwrap_or(false));
                Ok(())
            }),
            "stopnotifynewtransactions" => p.expect_count(0, 0).map(|()| client.new_txs = None),
            "notifyspent" => p.expect_count(1, 1).and_then(|()| {
                client.spent.extend(spent_outpoints(values)?);
                Ok(())
            }),
            "stopnotifyspent" => p.expect_count(1, 1).and_then(|()| {
                for op in spent_outpoints(values)? {
                    client.spent.remove(&op);
                }
                Ok(())
            }),
            "notifyreceived" => p.expect_count(1, 1).and_then(|()| {
                client.received.extend(addresses(&p, &params)?);
                Ok(())
            }),
            "stopnotifyreceived" => p.expect_count(1, 1).and_then(|()| {
                for a in addresses(&p, &params)? {
                    client.received.remove(&a);
                }
                Ok(())
            }),
            "loadtxfilter" => p.expect_count(3, 3).and_then(|()| {
                let reload = p.opt_bool(0, "reload")?.unwrap_or(false);
                // btcd skips addresses it cannot decode: no output could pay them.
                let payloads = strings(&p, 1, "addresses")?
                    .into_iter()
                    .filter_map(|s| Address::from_str_for(s, &params).ok())
                    .map(|a| a.payload().clone());
                let ops = outpoints(&p, 2, |h| {
                    RpcError::new(code::INVALID_PARAMETER, format!("invalid hash {h:?}"))
                })?;
                match client.filter.as_mut().filter(|_| !reload) {
                    Some(f) => {
                        payloads.for_each(|a| f.add_address(a));
                        ops.into_iter().for_each(|o| f.add_outpoint(o));
                    }
                    None => client.filter = Some(TxFilter::new(payloads, ops)),
                }
                Ok(())
            }),
            _ => return None,
        };
        Some(outcome.map(|()| Value::Null))
    }

    /// The notifications for `block`, just connected at `height`: `redeemingtx`/`recvtx` for
    /// watched outpoints and addresses (spent watches are then dropped), then
    /// `blockconnected` and `filteredblockconnected` for block subscribers.
    pub fn block_connected(&mut self, block: &Block, height: u32) -> Vec<Outgoing> {
        let mut out = Vec::new();
        if self.clients.values().any(Client::watches) {
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

    /// `redeemingtx` for a mempool transaction found spending outpoints just watched with
    /// `notifyspent` (btcd tells of such a spend at once).
    pub fn mempool_spend(&mut self, tx: &Transaction) -> Vec<Outgoing> {
        let mut out = Vec::new();
        self.notify_spends(tx, None, &mut out);
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

/// The outpoints of `notifyspent`/`stopnotifyspent`.
pub fn spent_outpoints(values: &[Value]) -> Result<Vec<OutPoint>, RpcError> {
    outpoints(&Params::new("notifyspent", values), 0, decode_hex_error)
}

/// A required array of strings.
fn strings<'a>(p: &Params<'a>, i: usize, name: &str) -> Result<Vec<&'a str>, RpcError> {
    p.array(i, name)?
        .iter()
        .map(|v| {
            v.as_str().ok_or_else(|| {
                RpcError::invalid_params(format!("parameter #{} '{name}' must hold strings", i + 1))
            })
        })
        .collect()
}

/// `notifyreceived`'s addresses: every one must be valid for the network (btcd's
/// `checkAddressValidity`, -5).
fn addresses(p: &Params, params: &ChainParams) -> Result<Vec<Payload>, RpcError> {
    strings(p, 0, "addresses")?
        .into_iter()
        .map(|s| {
            Address::from_str_for(s, params)
                .map(|a| a.payload().clone())
                .map_err(|_| {
                    RpcError::new(
                        code::INVALID_ADDRESS_OR_KEY,
                        format!("Invalid address or key: {s}"),
                    )
                })
        })
        .collect()
}

/// A required array of btcd's `OutPoint` objects, `{"hash": txid, "index": n}`; a malformed
/// hash fails with `bad_hash`'s error.
fn outpoints(
    p: &Params,
    i: usize,
    bad_hash: impl Fn(&str) -> RpcError,
) -> Result<Vec<OutPoint>, RpcError> {
    let malformed = || {
        RpcError::invalid_params(format!(
            "parameter #{} 'outpoints' must hold {{\"hash\":\"txid\",\"index\":n}} objects",
            i + 1
        ))
    };
    p.array(i, "outpoints")?
        .iter()
        .map(|v| {
            let hash = v["hash"].as_str().ok_or_else(malformed)?;
            let index = v["index"].as_u64().and_then(|n| u32::try_from(n).ok());
            let index = index.ok_or_else(malformed)?;
            let txid = hash.parse().map_err(|_| bad_hash(hash))?;
            Ok(OutPoint::new(txid, index))
        })
        .collect()
}
