//! `sendrawtransaction`, `submitblock` and `generate`: the parameters are decoded here; the
//! node applies the resulting [`Effect`] and answers as btcd does.

use super::tx_json::decode_tx;
use super::{Context, Effect, Handled};
use crate::primitives::{Block, Decodable};
use crate::rpc::error::{code, RpcError};
use crate::rpc::params::Params;
use serde_json::Value;

/// `sendrawtransaction "hex" (allowhighfees)`.
pub fn send_raw_transaction(_: &Context<'_>, p: Params<'_>) -> Result<Handled, RpcError> {
    p.expect_count(1, 2)?;
    let tx = decode_tx(&p.hex(0, "hexstring")?)?;
    p.opt_bool(1, "allowhighfees")?;
    Ok(Handled {
        result: Value::Null,
        effect: Some(Effect::SubmitTx(tx)),
    })
}

/// `submitblock "hexblock" ({"workid": ...})`.
pub fn submit_block(_: &Context<'_>, p: Params<'_>) -> Result<Handled, RpcError> {
    p.expect_count(1, 2)?;
    let bytes = p.hex(0, "hexblock")?;
    let block = Block::decode(&bytes)
        .map_err(|e| RpcError::new(code::DESERIALIZATION, format!("Block decode failed: {e}")))?;
    Ok(Handled {
        result: Value::Null,
        effect: Some(Effect::SubmitBlock(block)),
    })
}

/// `generate numblocks`.
pub fn generate(_: &Context<'_>, p: Params<'_>) -> Result<Handled, RpcError> {
    p.expect_count(1, 1)?;
    let n = p.i64(0, "numblocks")?;
    let n = u32::try_from(n).ok().filter(|n| *n > 0).ok_or_else(|| {
        RpcError::new(
            code::INTERNAL,
            "Please request a nonzero number of blocks to generate.",
        )
    })?;
    Ok(Handled {
        result: Value::Null,
        effect: Some(Effect::Generate(n)),
    })
}
