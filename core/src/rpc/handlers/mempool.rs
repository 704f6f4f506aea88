//! Mempool queries (btcd's, and Core's `getmempoolentry`), and Core's `savemempool`.

use super::tx_json::{btc, decode_tx};
use super::{Context, Effect, Handled};
use crate::mempool::{Checked, Entry, Mempool};
use crate::primitives::{Hash256, OutPoint, Txid};
use crate::rpc::block_lookup::BlockLookup;
use crate::rpc::error::{code, RpcError};
use crate::rpc::params::{hex_arg, Params};
use serde_json::{json, Map, Value};
use std::collections::BTreeSet;

/// `savemempool` (Core's): the node writes its pool to `mempool.dat` and answers
/// `{"filename": path}`.
pub fn save_mempool(_: &Context<'_>, p: Params) -> Result<Handled, RpcError> {
    p.expect_count(0, 0)?;
    Ok(Handled::effect(Effect::SaveMempool))
}

/// `getmempoolinfo`: transaction count and total serialized size, as btcd.
pub fn get_mempool_info(chain: &dyn BlockLookup, p: Params) -> Result<Value, RpcError> {
    p.expect_count(0, 0)?;
    let (size, bytes) = chain.mempool_totals();
    Ok(json!({ "size": size, "bytes": bytes }))
}

/// `getrawmempool (verbose=false)`: txids, or btcd's verbose entry per txid.
pub fn get_raw_mempool(ctx: &Context<'_>, p: Params) -> Result<Value, RpcError> {
    p.expect_count(0, 1)?;
    if !p.opt_bool(0, "verbose")?.unwrap_or(false) {
        let ids: Vec<String> = ctx.mempool.entries().map(|e| e.txid.to_string()).collect();
        return Ok(json!(ids));
    }
    let mut m = Map::new();
    for e in ctx.mempool.entries() {
        let depends: Vec<String> = e.parents.iter().map(|t| t.to_string()).collect();
        m.insert(
            e.txid.to_string(),
            json!({
                "size": e.tx.total_size(),
                "vsize": e.vsize(),
                "weight": e.weight,
                "fee": btc(e.fee),
                "time": e.time,
                "height": e.height,
                "startingpriority": 0.0,
                "currentpriority": 0.0,
                "depends": depends,
            }),
        );
    }
    Ok(Value::Object(m))
}

/// `getmempoolentry "txid"`: Core's entry shape, its ancestor and descendant figures counting
/// the transaction itself (sizes in virtual bytes). Core's `unbroadcast` is left out: rbtcd
/// does not track whether a peer has fetched the transaction.
pub fn get_mempool_entry(ctx: &Context<'_>, p: Params) -> Result<Value, RpcError> {
    p.expect_count(1, 1)?;
    let txid = p.hash(0, "txid")?;
    let pool = ctx.mempool;
    let entry = pool
        .get(&txid)
        .ok_or_else(|| RpcError::new(code::INVALID_ADDRESS_OR_KEY, "Transaction not in mempool"))?;
    let ancestors = related(pool, entry, |e| &e.parents);
    let descendants = related(pool, entry, |e| &e.children);
    let total = |set: &[&Entry], f: fn(&Entry) -> i64| set.iter().map(|e| f(e)).sum::<i64>();
    let vsize = |e: &Entry| e.vsize() as i64;
    let fee = |e: &Entry| e.fee;
    // BIP125: replaceable when it or an unconfirmed ancestor signals.
    let signals = ancestors
        .iter()
        .any(|e| e.tx.inputs.iter().any(|i| i.sequence < 0xffff_fffe));
    let ids = |set: &BTreeSet<Txid>| set.iter().map(Txid::to_string).collect::<Vec<_>>();
    Ok(json!({
        "vsize": entry.vsize(),
        "weight": entry.weight,
        "time": entry.time,
        "height": entry.height,
        "descendantcount": descendants.len(),
        "descendantsize": total(&descendants, vsize),
        "ancestorcount": ancestors.len(),
        "ancestorsize": total(&ancestors, vsize),
        "wtxid": entry.wtxid.to_string(),
        "fees": {
            "base": btc(entry.fee),
            "modified": btc(entry.fee),
            "ancestor": btc(total(&ancestors, fee)),
            "descendant": btc(total(&descendants, fee)),
        },
        "depends": ids(&entry.parents),
        "spentby": ids(&entry.children),
        "bip125-replaceable": signals,
    }))
}

/// `entry` and every pool entry reachable from it through `next` (its parents or children).
fn related<'p>(
    pool: &'p Mempool,
    entry: &'p Entry,
    next: fn(&Entry) -> &BTreeSet<Txid>,
) -> Vec<&'p Entry> {
    let mut seen = BTreeSet::from([entry.txid]);
    let mut found = vec![entry];
    let mut i = 0;
    while let Some(e) = found.get(i) {
        for txid in next(e) {
            if let Some(other) = pool.get(txid).filter(|_| seen.insert(*txid)) {
                found.push(other);
            }
        }
        i += 1;
    }
    found
}

/// btcd's `maxfeerate` default for `testmempoolaccept`, in BTC per 1000 virtual bytes.
const DEFAULT_MAX_FEE_RATE: f64 = 0.1;

/// `testmempoolaccept ["rawtx",...] (maxfeerate)`: each transaction's verdict from the same
/// checks `sendrawtransaction` runs, without changing the pool; btcd's result shape.
pub fn test_mempool_accept(ctx: &Context<'_>, p: Params) -> Result<Value, RpcError> {
    p.expect_count(1, 2)?;
    let Some(Value::Array(raws)) = p.get(0) else {
        return Err(RpcError::invalid_params(
            "rawtxns must be an array of hex strings",
        ));
    };
    // Zero means the default, as in btcd.
    let max_rate = p
        .opt_f64(1, "maxfeerate")?
        .filter(|r| *r != 0.0)
        .unwrap_or(DEFAULT_MAX_FEE_RATE);
    let mut txs = Vec::with_capacity(raws.len());
    for raw in raws {
        let hex = raw
            .as_str()
            .ok_or_else(|| RpcError::invalid_params("rawtxns must be an array of hex strings"))?;
        txs.push(decode_tx(&hex_arg(hex)?)?);
    }
    let results = txs.iter().map(|tx| {
        let mut item = json!({
            "txid": tx.txid().to_string(),
            "wtxid": tx.wtxid().to_string(),
            "package-error": "",
        });
        match ctx.mempool.check(tx, ctx.chain.tx_context()) {
            Err(reason) => item["reject-reason"] = json!(reason.to_string()),
            // Core's word for unknown parents.
            Ok(Checked::Missing(_)) => item["reject-reason"] = json!("missing-inputs"),
            Ok(Checked::Valid(v)) => {
                let vsize = v.weight.div_ceil(4) as i64;
                let rate = btc(v.fee * 1000 / vsize);
                if rate > max_rate {
                    item["reject-reason"] = json!("max-fee-exceeded");
                } else {
                    item["allowed"] = json!(true);
                    item["vsize"] = json!(vsize);
                    item["fees"] = json!({
                        "base": btc(v.fee),
                        "effective-feerate": rate,
                        "effective-includes": null,
                    });
                }
            }
        }
        item
    });
    Ok(Value::Array(results.collect()))
}

/// `gettxspendingprevout [{"txid":..,"vout":n},...]`: the mempool transaction spending each
/// outpoint, if any.
pub fn get_tx_spending_prev_out(ctx: &Context<'_>, p: Params) -> Result<Value, RpcError> {
    p.expect_count(1, 1)?;
    let Some(Value::Array(outputs)) = p.get(0) else {
        return Err(RpcError::invalid_params(
            "outputs must be an array of {txid, vout}",
        ));
    };
    let mut results = Vec::with_capacity(outputs.len());
    for o in outputs {
        let (Some(txid), Some(vout)) = (
            o.get("txid").and_then(Value::as_str),
            o.get("vout")
                .and_then(Value::as_u64)
                .and_then(|v| u32::try_from(v).ok()),
        ) else {
            return Err(RpcError::invalid_params(
                "each output needs a txid string and a vout number",
            ));
        };
        let hash: Hash256 = txid.parse().map_err(|_| {
            RpcError::new(code::INVALID_PARAMETER, format!("invalid txid {txid:?}"))
        })?;
        let op = OutPoint::new(hash, vout);
        let mut item = json!({ "txid": txid, "vout": vout });
        if let Some(spender) = ctx.mempool.spender_of(&op) {
            item["spendingtxid"] = json!(spender.to_string());
        }
        results.push(item);
    }
    Ok(Value::Array(results))
}
