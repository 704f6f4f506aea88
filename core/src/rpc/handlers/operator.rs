//! Operator commands: logging levels (`debuglevel`), verdicts on blocks (`invalidateblock`,
//! `reconsiderblock`, `preciousblock`) and checking the chain again (`verifychain`).

use super::{Context, Effect, Handled};
use crate::chain::verify::level;
use crate::chain::BlockVerdict;
use crate::primitives::BlockHash;
use crate::rpc::debug_level::LevelSpec;
use crate::rpc::error::{code, RpcError};
use crate::rpc::params::Params;
use serde_json::Value;

/// btcd's `verifychain` defaults.
const DEFAULT_CHECK_LEVEL: i64 = level::UNDO as i64;
const DEFAULT_CHECK_DEPTH: i64 = 288;

/// `debuglevel "levelspec"`: `show` lists the logging subsystems; anything else is a level
/// specification, checked here (-32602 with the reason) for the daemon to apply
/// ([`Effect::DebugLevel`]), answering btcd's "Done.".
pub fn debug_level(ctx: &Context<'_>, p: Params) -> Result<Handled, RpcError> {
    p.expect_count(1, 1)?;
    let spec = p.str(0, "levelspec")?;
    if spec == "show" {
        // Go's %v of a string slice, as btcd prints it.
        let list = ctx.info.log_subsystems.join(" ");
        return Ok(Value::String(format!("Supported subsystems [{list}]")).into());
    }
    let spec = LevelSpec::parse(spec, &ctx.info.log_subsystems)
        .map_err(|e| RpcError::new(code::INVALID_PARAMS, e.to_string()))?;
    Ok(Handled {
        result: Value::String("Done.".into()),
        effect: Some(Effect::DebugLevel(spec)),
    })
}

/// `stop`: btcd's answer, then the daemon shuts down.
pub fn stop(_: &Context<'_>, p: Params) -> Result<Handled, RpcError> {
    p.expect_count(0, 0)?;
    Ok(Handled {
        result: Value::String("rbtcd stopping.".into()),
        effect: Some(Effect::Stop),
    })
}

/// `invalidateblock "blockhash"`.
pub fn invalidate_block(_: &Context<'_>, p: Params) -> Result<Handled, RpcError> {
    block_verdict(p, BlockVerdict::Invalid)
}

/// `reconsiderblock "blockhash"`.
pub fn reconsider_block(_: &Context<'_>, p: Params) -> Result<Handled, RpcError> {
    block_verdict(p, BlockVerdict::Reconsider)
}

/// `preciousblock "blockhash"` (Core's): prefer the block among tips of equal work.
pub fn precious_block(_: &Context<'_>, p: Params) -> Result<Handled, RpcError> {
    block_verdict(p, BlockVerdict::Precious)
}

/// The verdict for the node to apply ([`Effect::BlockVerdict`]); null on success, as btcd.
fn block_verdict(p: Params, verdict: BlockVerdict) -> Result<Handled, RpcError> {
    p.expect_count(1, 1)?;
    let text = p.str(0, "blockhash")?;
    let hash: BlockHash = text.parse().map_err(|_| {
        RpcError::new(
            code::DESERIALIZATION,
            format!("Failed to deserialize blockhash from string of {text}"),
        )
    })?;
    Ok(Handled {
        result: Value::Null,
        effect: Some(Effect::BlockVerdict(hash, verdict)),
    })
}

/// `verifychain (checklevel=3 checkdepth=288)`: checks the last `checkdepth` blocks again
/// and answers whether they all passed (details go to the log, as btcd).
pub fn verify_chain_rpc(ctx: &Context<'_>, p: Params) -> Result<Value, RpcError> {
    p.expect_count(0, 2)?;
    let check_level = p.opt_i64(0, "checklevel")?.unwrap_or(DEFAULT_CHECK_LEVEL);
    let depth = p.opt_i64(1, "checkdepth")?.unwrap_or(DEFAULT_CHECK_DEPTH);
    let clamp = |v: i64| u32::try_from(v.max(0)).unwrap_or(u32::MAX);
    Ok(Value::Bool(
        ctx.chain.verify(clamp(check_level), clamp(depth)).is_ok(),
    ))
}
