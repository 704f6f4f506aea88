//! Mempool queries.

use super::tx_json::btc;
use super::Context;
use crate::chain::ChainStore;
use crate::primitives::encode::Encodable;
use crate::rpc::error::RpcError;
use crate::rpc::params::Params;
use serde_json::{json, Map, Value};

/// `getmempoolinfo`: transaction count and total serialized size, as btcd.
pub fn get_mempool_info<S: ChainStore>(ctx: &Context<'_, S>, p: Params) -> Result<Value, RpcError> {
    p.expect_count(0, 0)?;
    let bytes: usize = ctx.mempool.entries().map(|e| e.tx.encode().len()).sum();
    Ok(json!({ "size": ctx.mempool.len(), "bytes": bytes }))
}

/// `getrawmempool (verbose=false)`: txids, or btcd's verbose entry per txid.
pub fn get_raw_mempool<S: ChainStore>(ctx: &Context<'_, S>, p: Params) -> Result<Value, RpcError> {
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
