//! A WebSocket client's own commands (btcd's `wsHandlers`): the session id, subscriptions
//! (`notifyblocks`, `notifyspent`, ...), the transaction filter and scans over the chain. They
//! read the node through the [`Context`] and change the client's [`Subscriptions`] in its
//! [`Session`].

use super::{Context, Effect, Handled};
use crate::address::{Address, Payload};
use crate::params::Params as ChainParams;
use crate::primitives::OutPoint;
use crate::rpc::error::{code, RpcError};
use crate::rpc::params::{decode_hex_error, Params};
use crate::rpc::ws::notification::{redeeming_tx, tx_hex};
use crate::rpc::ws::rescan::{rescan_blocks, Rescan};
use crate::rpc::ws::Subscriptions;
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// One WebSocket client as its commands see it.
pub struct Session<'a> {
    /// btcd's random session id, for `session`.
    pub id: u64,
    /// What the client asked to be told about.
    pub subs: &'a mut Subscriptions,
    /// Notifications for this client, to send before the reply (mempool spends `notifyspent`
    /// found at once).
    pub notes: Vec<Value>,
}

/// A session handler's signature.
pub type SessionFn = fn(&Context<'_>, &mut Session<'_>, Params) -> Result<Handled, RpcError>;

/// `authenticate` on a client that already did (the first one is the node's handshake).
pub fn authenticate(_: &Context<'_>, _: &mut Session<'_>, _: Params) -> Result<Handled, RpcError> {
    Err(RpcError::invalid_request("already authenticated"))
}

/// `session`: the connection's session id.
pub fn session(_: &Context<'_>, s: &mut Session<'_>, p: Params) -> Result<Handled, RpcError> {
    p.expect_count(0, 0)?;
    Ok(json!({ "sessionid": s.id }).into())
}

/// `notifyblocks`.
pub fn notify_blocks(_: &Context<'_>, s: &mut Session<'_>, p: Params) -> Result<Handled, RpcError> {
    p.expect_count(0, 0)?;
    s.subs.notify_blocks(true);
    Ok(Value::Null.into())
}

/// `stopnotifyblocks`.
pub fn stop_notify_blocks(
    _: &Context<'_>,
    s: &mut Session<'_>,
    p: Params,
) -> Result<Handled, RpcError> {
    p.expect_count(0, 0)?;
    s.subs.notify_blocks(false);
    Ok(Value::Null.into())
}

/// `notifynewtransactions (verbose=false)`.
pub fn notify_new_transactions(
    _: &Context<'_>,
    s: &mut Session<'_>,
    p: Params,
) -> Result<Handled, RpcError> {
    p.expect_count(0, 1)?;
    let verbose = p.opt_bool(0, "verbose")?.unwrap_or(false);
    s.subs.notify_new_txs(Some(verbose));
    Ok(Value::Null.into())
}

/// `stopnotifynewtransactions`.
pub fn stop_notify_new_transactions(
    _: &Context<'_>,
    s: &mut Session<'_>,
    p: Params,
) -> Result<Handled, RpcError> {
    p.expect_count(0, 0)?;
    s.subs.notify_new_txs(None);
    Ok(Value::Null.into())
}

/// `notifyspent [outpoints]`: watches the outpoints and, as btcd, tells at once of mempool
/// transactions already spending them (`redeemingtx`, one per transaction).
pub fn notify_spent(
    ctx: &Context<'_>,
    s: &mut Session<'_>,
    p: Params,
) -> Result<Handled, RpcError> {
    p.expect_count(1, 1)?;
    let ops = outpoints(&p, 0, decode_hex_error)?;
    s.subs.check_room(ops.len(), false)?;
    let spenders: BTreeMap<_, _> = ops
        .iter()
        .filter_map(|op| ctx.mempool.spender_of(op))
        .filter_map(|txid| Some((txid, ctx.mempool.get(&txid)?)))
        .collect();
    s.notes.extend(
        spenders
            .values()
            .map(|entry| redeeming_tx(&tx_hex(&entry.tx), None)),
    );
    s.subs.watch_spent(ops);
    Ok(Value::Null.into())
}

/// `stopnotifyspent [outpoints]`.
pub fn stop_notify_spent(
    _: &Context<'_>,
    s: &mut Session<'_>,
    p: Params,
) -> Result<Handled, RpcError> {
    p.expect_count(1, 1)?;
    s.subs.unwatch_spent(&outpoints(&p, 0, decode_hex_error)?);
    Ok(Value::Null.into())
}

/// `notifyreceived [addresses]`.
pub fn notify_received(
    ctx: &Context<'_>,
    s: &mut Session<'_>,
    p: Params,
) -> Result<Handled, RpcError> {
    p.expect_count(1, 1)?;
    let addresses = addresses(&p, ctx.chain.params())?;
    s.subs.check_room(addresses.len(), false)?;
    s.subs.watch_received(addresses);
    Ok(Value::Null.into())
}

/// `stopnotifyreceived [addresses]`.
pub fn stop_notify_received(
    ctx: &Context<'_>,
    s: &mut Session<'_>,
    p: Params,
) -> Result<Handled, RpcError> {
    p.expect_count(1, 1)?;
    s.subs.unwatch_received(&addresses(&p, ctx.chain.params())?);
    Ok(Value::Null.into())
}

/// `loadtxfilter reload [addresses] [outpoints]`. Addresses that do not decode are skipped, as
/// btcd does: no output could pay them.
pub fn load_tx_filter(
    ctx: &Context<'_>,
    s: &mut Session<'_>,
    p: Params,
) -> Result<Handled, RpcError> {
    p.expect_count(3, 3)?;
    let reload = p.opt_bool(0, "reload")?.unwrap_or(false);
    let params = ctx.chain.params();
    let payloads: Vec<Payload> = strings(&p, 1, "addresses")?
        .into_iter()
        .filter_map(|a| Address::from_str_for(a, params).ok())
        .map(|a| a.payload().clone())
        .collect();
    let ops = outpoints(&p, 2, |h| {
        RpcError::new(code::INVALID_PARAMETER, format!("invalid hash {h:?}"))
    })?;
    s.subs.check_room(payloads.len() + ops.len(), reload)?;
    s.subs.load_filter(reload, payloads, ops);
    Ok(Value::Null.into())
}

/// `rescanblocks [hashes]`: the loaded filter's matches in the given blocks.
pub fn rescan_blocks_rpc(
    ctx: &Context<'_>,
    s: &mut Session<'_>,
    p: Params,
) -> Result<Handled, RpcError> {
    rescan_blocks(ctx.chain, s.subs.filter_mut(), p).map(Handled::from)
}

/// `rescan beginblock [addresses] [outpoints] (endblock)`: checked here, then scanned by the
/// node a step at a time ([`Effect::Rescan`]), answering null when done.
pub fn rescan(ctx: &Context<'_>, _: &mut Session<'_>, p: Params) -> Result<Handled, RpcError> {
    Rescan::start(ctx.chain, p).map(|scan| Handled::effect(Effect::Rescan(scan)))
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
