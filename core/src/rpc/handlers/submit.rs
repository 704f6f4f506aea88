//! `sendrawtransaction`, `submitblock`, `generate` and `generatetoaddress`: the parameters are
//! decoded here; the node applies the resulting [`Effect`] and answers as btcd (Bitcoin Core
//! for `generatetoaddress`) does.

use super::tx_json::decode_tx;
use super::{Context, Effect, Generate, Handled};
use crate::address::Address;
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
    Ok(Handled::effect(Effect::Generate(Generate {
        blocks: n,
        pay_to: None,
        max_tries: None,
    })))
}

/// Core's `generatetoaddress` default `maxtries`.
const DEFAULT_MAX_TRIES: u64 = 1_000_000;

/// `generatetoaddress nblocks "address" (maxtries=1000000)`: Core's command, mined like
/// `generate` but paying to `address`. As in Core, a count below one mines nothing and
/// running out of tries answers with the blocks mined so far.
pub fn generate_to_address(ctx: &Context<'_>, p: Params<'_>) -> Result<Handled, RpcError> {
    p.expect_count(2, 3)?;
    let blocks = u32::try_from(p.i64(0, "nblocks")?.max(0)).unwrap_or(u32::MAX);
    let address = Address::from_str_for(p.str(1, "address")?, ctx.chain.params())
        .map_err(|_| RpcError::new(code::INVALID_ADDRESS_OR_KEY, "Error: Invalid address"))?;
    let max_tries = p
        .opt_i64(2, "maxtries")?
        .unwrap_or(DEFAULT_MAX_TRIES as i64);
    Ok(Handled::effect(Effect::Generate(Generate {
        blocks,
        pay_to: Some(address),
        max_tries: Some(u64::try_from(max_tries).unwrap_or(0)),
    })))
}
