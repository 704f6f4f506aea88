//! `gettxoutsetinfo`: Bitcoin Core's statistics of the UTXO set, with `hash_serialized_3` so
//! the set can be compared with another node's byte for byte.

use super::tx_json::btc;
use super::Context;
use crate::rpc::error::{code, RpcError};
use crate::rpc::params::Params;
use serde_json::{json, Value};

/// `gettxoutsetinfo ("hash_type"="hash_serialized_3")`: Core's fields, the hash for
/// `hash_serialized_3` and none for `none`. MuHash and querying past blocks need Core's
/// coinstats index, which rbtcd does not keep.
pub fn get_tx_out_set_info(ctx: &Context<'_>, p: Params) -> Result<Value, RpcError> {
    p.expect_count(0, 3)?;
    let hash = match p.opt_str(0, "hash_type")?.unwrap_or("hash_serialized_3") {
        "hash_serialized_3" => true,
        "none" => false,
        "muhash" => {
            return Err(RpcError::new(
                code::INVALID_PARAMETER,
                "hash_type muhash needs the coinstats index, which rbtcd does not keep",
            ))
        }
        other => {
            return Err(RpcError::new(
                code::INVALID_PARAMETER,
                format!("'{other}' is not a valid hash_type"),
            ))
        }
    };
    if p.get(1).is_some_and(|v| !v.is_null()) {
        return Err(RpcError::new(
            code::INVALID_PARAMETER,
            "Querying specific block heights requires coinstatsindex",
        ));
    }
    let stats = ctx
        .chain
        .utxo_stats(hash)
        .map_err(|e| RpcError::new(code::INTERNAL, format!("Unable to read UTXO set: {e}")))?;
    let mut out = json!({
        "height": stats.height,
        "bestblock": stats.best_block.to_string(),
        "txouts": stats.txouts,
        "bogosize": stats.bogosize,
    });
    if let Some(h) = stats.hash_serialized {
        out["hash_serialized_3"] = json!(h.to_string());
    }
    out["total_amount"] = json!(btc(stats.total_amount));
    out["transactions"] = json!(stats.transactions);
    Ok(out)
}
