//! Mining commands (btcd's handlers of the same names): the CPU miner's figures and switch,
//! `getnetworkhashps`, `estimatefee`, and getblocktemplate's request and result in btcd's
//! (BIP22/23) shapes with BIP22 reject reasons. The node makes templates and switches the
//! miner ([`Effect::SetGenerate`], [`Effect::BlockTemplate`]).

pub use super::chain::difficulty;
use super::{Context, Effect, Handled};
use crate::chain::header_rules::MAX_FUTURE_BLOCK_TIME;
use crate::chain::{ChainError, RuleError};
use crate::mempool::estimate::MAX_TARGET;
use crate::mining::{BlockTemplate, COINBASE_FLAGS};
use crate::params::Network;
use crate::primitives::encode::Encodable;
use crate::primitives::hash::hex_encode;
use crate::primitives::target::compact_to_target;
use crate::primitives::{BlockHash, Txid};
use crate::rpc::error::{code, RpcError};
use crate::rpc::params::Params;
use crate::rpc::view::ChainView;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// Largest block weight (BIP141), getblocktemplate's `weightlimit`.
const WEIGHT_LIMIT: u64 = 4_000_000;
/// btcd's `wire.MaxBlockPayload`, getblocktemplate's `sizelimit`.
const SIZE_LIMIT: u64 = 4_000_000;
/// Template changes a getblocktemplate caller may make (btcd's `gbtMutableFields`).
const MUTABLE: [&str; 4] = ["time", "transactions/add", "prevblock", "coinbase/append"];
/// Nonce range a caller may search (btcd's `gbtNonceRange`).
const NONCE_RANGE: &str = "00000000ffffffff";

/// btcd's refusal to mine without somewhere to pay.
pub fn no_mining_addresses() -> RpcError {
    RpcError::new(
        code::INTERNAL,
        "No payment addresses specified via --miningaddr",
    )
}

/// `getgenerate`: whether the CPU miner is on.
pub fn get_generate(ctx: &Context<'_>, p: Params) -> Result<Value, RpcError> {
    p.expect_count(0, 0)?;
    Ok(json!(ctx.miner.generating))
}

/// `gethashespersec`: the miner's hash rate, 0 while it is off (btcd).
pub fn get_hashes_per_sec(ctx: &Context<'_>, p: Params) -> Result<Value, RpcError> {
    p.expect_count(0, 0)?;
    Ok(json!(hashes_per_sec(ctx) as i64))
}

fn hashes_per_sec(ctx: &Context<'_>) -> f64 {
    match ctx.miner.generating {
        true => ctx.miner.hashes_per_sec,
        false => 0.0,
    }
}

/// `setgenerate generate (genproclimit=-1)`: 0 threads means off; -1 the configured count.
pub fn set_generate(ctx: &Context<'_>, p: Params) -> Result<Handled, RpcError> {
    p.expect_count(1, 2)?;
    let generate = p
        .get(0)
        .and_then(Value::as_bool)
        .ok_or_else(|| RpcError::invalid_params("generate must be a boolean"))?;
    let limit = p.opt_i64(1, "genproclimit")?.unwrap_or(-1);
    if !generate || limit == 0 {
        return Ok(Handled::effect(Effect::SetGenerate(None)));
    }
    if !ctx.miner.can_pay {
        return Err(no_mining_addresses());
    }
    let threads = u32::try_from(limit).unwrap_or(ctx.miner.default_threads);
    Ok(Handled::effect(Effect::SetGenerate(Some(threads))))
}

/// `getmininginfo`: btcd's non-wallet fields.
pub fn get_mining_info(ctx: &Context<'_>, p: Params) -> Result<Value, RpcError> {
    p.expect_count(0, 0)?;
    let chain = ctx.chain;
    let tip = *chain.tip();
    let block = chain
        .block(&tip.hash)
        .map_err(|e| RpcError::new(code::DATABASE, format!("Database error: {e}")))?
        .ok_or_else(|| RpcError::new(code::DATABASE, "Database error: tip block missing"))?;
    let network = chain.params().network;
    Ok(json!({
        "blocks": tip.height,
        "currentblocksize": block.total_size(),
        "currentblockweight": block.weight(),
        "currentblocktx": block.txdata.len(),
        "difficulty": difficulty(tip.header.bits),
        "errors": "",
        "generate": ctx.miner.generating,
        "genproclimit": ctx.miner.threads,
        "hashespersec": hashes_per_sec(ctx),
        "networkhashps": network_hash_ps(chain, 120, -1),
        "pooledtx": ctx.mempool.len(),
        "testnet": matches!(network, Network::Testnet3 | Network::Testnet4),
    }))
}

/// `estimatefee numblocks`: BTC per kilobyte ([`crate::mempool::estimate`]), never below the
/// minimum relay fee, with btcd's refusals as internal errors.
pub fn estimate_fee(ctx: &Context<'_>, p: Params) -> Result<Value, RpcError> {
    p.expect_count(1, 1)?;
    let n = p.i64(0, "numblocks")?;
    if n <= 0 {
        return Err(RpcError::new(
            code::INTERNAL,
            "Parameter NumBlocks must be positive",
        ));
    }
    let target = u32::try_from(n).unwrap_or(u32::MAX);
    let floor = ctx.mempool.policy().min_relay_fee_per_kvb;
    ctx.miner
        .fees
        .estimate(target, floor)
        .map(|sat_per_kvb| json!(sat_per_kvb as f64 / 1e8))
        .map_err(|e| RpcError::new(code::INTERNAL, e.to_string()))
}

/// `estimatesmartfee conf_target ("estimate_mode")`: Core's shape, from what the node observed
/// of mined mempool transactions (the same figures as `estimatefee`), in BTC per 1000 virtual
/// bytes and never below the minimum relay fee. With nothing observed confirming in time it
/// answers Core's "no feerate" error rather than a rate it did not see.
pub fn estimate_smart_fee(ctx: &Context<'_>, p: Params) -> Result<Value, RpcError> {
    p.expect_count(1, 2)?;
    let target = p.i64(0, "conf_target")?;
    let target = u32::try_from(target)
        .ok()
        .filter(|t| (1..=MAX_TARGET).contains(t))
        .ok_or_else(|| {
            RpcError::new(
                code::INVALID_PARAMETER,
                format!("Invalid conf_target, must be between 1 and {MAX_TARGET}"),
            )
        })?;
    let mode = p.opt_str(1, "estimate_mode")?.unwrap_or("unset");
    if !["unset", "economical", "conservative"].contains(&mode.to_ascii_lowercase().as_str()) {
        return Err(RpcError::new(
            code::INVALID_PARAMETER,
            r#"Invalid estimate_mode parameter, must be one of: "unset", "economical", "conservative""#,
        ));
    }
    let floor = ctx.mempool.policy().min_relay_fee_per_kvb;
    Ok(match ctx.miner.fees.observed(target) {
        Ok(Some(rate)) => json!({ "feerate": rate.max(floor) as f64 / 1e8, "blocks": target }),
        // Core reports no target when it has no estimate.
        Ok(None) | Err(_) => json!({
            "errors": ["Insufficient data or no feerate found"],
            "blocks": 0,
        }),
    })
}

/// `getblocktemplate ({request})`: checked here, answered by the node from its template.
pub fn get_block_template(_: &Context<'_>, p: Params) -> Result<Handled, RpcError> {
    let request = template_request(&p)?;
    match request.mode.as_str() {
        "template" | "proposal" => Ok(Handled::effect(Effect::BlockTemplate(request))),
        _ => Err(invalid_mode()),
    }
}

/// `getnetworkhashps (blocks=120 height=-1)`.
pub fn get_network_hash_ps(ctx: &Context<'_>, p: Params) -> Result<Value, RpcError> {
    p.expect_count(0, 2)?;
    let blocks = p.opt_i64(0, "blocks")?.unwrap_or(120);
    let height = p.opt_i64(1, "height")?.unwrap_or(-1);
    Ok(json!(network_hash_ps(ctx.chain, blocks, height)))
}

/// btcd's `getnetworkhashps` estimate: the work of the blocks after the start height divided
/// by the time their timestamps span. `blocks <= 0` starts at the last difficulty change; a
/// negative `height` means the tip; a zero or future `height` gives 0.
pub fn network_hash_ps(chain: &dyn ChainView, blocks: i64, height: i64) -> f64 {
    let tip = i64::from(chain.tip().height);
    if height > tip || height == 0 {
        return 0.0;
    }
    let end = if height < 0 { tip } else { height };
    let interval = i64::from(chain.params().retarget_interval()).max(1);
    let start = match blocks {
        b if b <= 0 => end - (end % interval + 1),
        b => end - b,
    }
    .max(0);
    let index = chain.index();
    let header_at = |h: i64| {
        let hash = index.main_at(h as u32).expect("main chain height");
        index.get(hash).expect("indexed").header
    };
    let first = header_at(start).time;
    let (mut min, mut max) = (first, first);
    let mut work = 0.0;
    for h in start + 1..=end {
        let header = header_at(h);
        work += super::chain::to_f64(&header.work().0);
        min = min.min(header.time);
        max = max.max(header.time);
    }
    match max - min {
        0 => 0.0,
        span => work / f64::from(span),
    }
}

/// A getblocktemplate request (BIP22 `template_request`), the fields rbtcd acts on.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TemplateRequest {
    /// `template` (default) or `proposal`.
    pub mode: String,
    /// The caller wants a full coinbase (`coinbasetxn` without `coinbasevalue`).
    pub wants_coinbase_txn: bool,
    /// A long-poll id from an earlier template.
    pub long_poll_id: Option<String>,
    /// The proposed block's hex (proposal mode).
    pub data: Option<String>,
}

/// Parses `getblocktemplate ({request})`.
pub fn template_request(p: &Params) -> Result<TemplateRequest, RpcError> {
    p.expect_count(0, 1)?;
    let Some(obj) = p.get(0).filter(|v| !v.is_null()) else {
        return Ok(TemplateRequest {
            mode: "template".into(),
            ..TemplateRequest::default()
        });
    };
    let obj = obj
        .as_object()
        .ok_or_else(|| RpcError::invalid_params("request must be a JSON object"))?;
    let text = |key: &str| -> Result<Option<String>, RpcError> {
        match obj.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(RpcError::invalid_params(format!("{key} must be a string"))),
        }
    };
    let capabilities: Vec<&str> = obj
        .get("capabilities")
        .and_then(Value::as_array)
        .map(|caps| caps.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    Ok(TemplateRequest {
        mode: text("mode")?
            .filter(|m| !m.is_empty())
            .unwrap_or_else(|| "template".into()),
        wants_coinbase_txn: capabilities.contains(&"coinbasetxn")
            && !capabilities.contains(&"coinbasevalue"),
        long_poll_id: text("longpollid")?.filter(|id| !id.is_empty()),
        data: text("data")?,
    })
}

/// btcd's long-poll id: the template's parent and the unix time it was made.
pub fn long_poll_id(prev: &BlockHash, generated_at: u64) -> String {
    format!("{prev}-{generated_at}")
}

/// Decodes a long-poll id; `None` when malformed (btcd then answers at once).
pub fn decode_long_poll_id(id: &str) -> Option<(BlockHash, u64)> {
    let (hash, time) = id.split_once('-')?;
    Some((hash.parse().ok()?, time.parse().ok()?))
}

/// The getblocktemplate result for `template` (btcd's `blockTemplateResult`), made at
/// `generated_at`, at unix time `now`. With `coinbase_txn` the coinbase is included
/// (`coinbasetxn`), otherwise only its value (`coinbasevalue`, the default).
pub fn template_result(
    chain: &dyn ChainView,
    template: &BlockTemplate,
    generated_at: u64,
    now: u64,
    coinbase_txn: bool,
    submit_old: Option<bool>,
) -> Value {
    let block = &template.block;
    let header = &block.header;
    let params = chain.params();
    let mut positions: BTreeMap<Txid, usize> = BTreeMap::new();
    let mut transactions = Vec::with_capacity(block.txdata.len().saturating_sub(1));
    for (i, tx) in block.txdata.iter().enumerate() {
        let txid = tx.txid();
        positions.insert(txid, i);
        if i == 0 {
            continue;
        }
        let depends: std::collections::BTreeSet<usize> = tx
            .inputs
            .iter()
            .filter_map(|input| positions.get(&input.prevout.txid).copied())
            .collect();
        transactions.push(json!({
            "data": hex_encode(&tx.encode()),
            "hash": tx.wtxid().to_string(),
            "txid": txid.to_string(),
            "depends": depends.into_iter().collect::<Vec<_>>(),
            "fee": template.tx_fees[i],
            "sigops": template.tx_sigop_costs[i],
            "weight": tx.weight(),
        }));
    }
    let (target, _, _) = compact_to_target(header.bits);
    let parent_mtp = chain.index().median_time_past(&header.prev_blockhash);
    let mut rules = Vec::new();
    if template.height >= params.csv_height {
        rules.push("csv");
    }
    if template.height >= params.segwit_height {
        // "!": a client that does not know segwit cannot use the template (BIP9).
        rules.push("!segwit");
    }
    if template.height >= params.taproot_height {
        rules.push("taproot");
    }
    let mut m = Map::new();
    m.insert("bits".into(), json!(format!("{:08x}", header.bits)));
    m.insert("curtime".into(), json!(header.time));
    m.insert("height".into(), json!(template.height));
    m.insert(
        "previousblockhash".into(),
        json!(header.prev_blockhash.to_string()),
    );
    m.insert(
        "sigoplimit".into(),
        json!(crate::chain::connect::MAX_BLOCK_SIGOPS_COST),
    );
    m.insert("sizelimit".into(), json!(SIZE_LIMIT));
    m.insert("weightlimit".into(), json!(WEIGHT_LIMIT));
    m.insert("transactions".into(), Value::Array(transactions));
    m.insert("version".into(), json!(header.version));
    m.insert("rules".into(), json!(rules));
    m.insert("vbavailable".into(), json!({}));
    m.insert("vbrequired".into(), json!(0));
    m.insert(
        "longpollid".into(),
        json!(long_poll_id(&header.prev_blockhash, generated_at)),
    );
    if let Some(submit_old) = submit_old {
        m.insert("submitold".into(), json!(submit_old));
    }
    m.insert("target".into(), json!(hex_encode(&target.to_be_bytes())));
    m.insert("mintime".into(), json!(parent_mtp + 1));
    m.insert("maxtime".into(), json!(now + MAX_FUTURE_BLOCK_TIME));
    m.insert("mutable".into(), json!(MUTABLE));
    m.insert("noncerange".into(), json!(NONCE_RANGE));
    m.insert("capabilities".into(), json!(["proposal"]));
    if let Some(commitment) = block.txdata[0]
        .outputs
        .iter()
        .find(|o| o.script_pubkey.starts_with(&WITNESS_COMMITMENT_PREFIX))
    {
        m.insert(
            "default_witness_commitment".into(),
            json!(hex_encode(&commitment.script_pubkey)),
        );
    }
    let coinbase = &block.txdata[0];
    if coinbase_txn {
        m.insert(
            "coinbasetxn".into(),
            json!({
                "data": hex_encode(&coinbase.encode()),
                "hash": coinbase.txid().to_string(),
                "txid": "",
                "depends": [],
                "fee": template.tx_fees[0],
                "sigops": template.tx_sigop_costs[0],
                "weight": 0,
            }),
        );
    } else {
        let mut flags = vec![COINBASE_FLAGS.len() as u8];
        flags.extend_from_slice(COINBASE_FLAGS);
        m.insert("coinbaseaux".into(), json!({ "flags": hex_encode(&flags) }));
        m.insert("coinbasevalue".into(), json!(coinbase.outputs[0].value));
    }
    Value::Object(m)
}

/// The start of a BIP141 witness commitment output script.
const WITNESS_COMMITMENT_PREFIX: [u8; 6] = [0x6a, 0x24, 0xaa, 0x21, 0xa9, 0xed];

/// The "Invalid mode" error.
pub fn invalid_mode() -> RpcError {
    RpcError::new(code::INVALID_PARAMETER, "Invalid mode")
}

/// The BIP22 reason for refusing a proposal (btcd's `chainErrToGBTErrString`).
pub fn reject_reason(err: &ChainError) -> String {
    let ChainError::Rule(rule) = err else {
        return format!("rejected: {err}");
    };
    let reason = match rule {
        RuleError::HighHash => "high-hash",
        RuleError::BadDifficultyBits { .. } => "bad-diffbits",
        RuleError::TimeTooOld { .. } => "time-too-old",
        RuleError::Timewarp { .. } => "time-timewarp-attack",
        RuleError::TimeTooNew { .. } => "time-too-new",
        RuleError::CheckpointMismatch { .. } => "bad-checkpoint",
        RuleError::ForkBeforeCheckpoint { .. } => "fork-too-old",
        RuleError::ObsoleteVersion { .. } => "bad-version",
        RuleError::UnknownParent(_) => "prev-blk-not-found",
        RuleError::InvalidAncestor(_) => "bad-prevblk",
        RuleError::NoTransactions => "bad-txns-none",
        RuleError::BadBlockLength => "bad-blk-length",
        RuleError::FirstTxNotCoinbase => "bad-txns-nocoinbase",
        RuleError::MultipleCoinbases(_) => "bad-txns-multicoinbase",
        RuleError::BadMerkleRoot => "bad-txnmrklroot",
        RuleError::DuplicateTransactions => "bad-txns-duplicate",
        RuleError::BlockTooHeavy(_) => "bad-blk-weight",
        RuleError::TooManySigops(_) => "high-sigops",
        RuleError::BadCoinbaseHeight(_) => "bad-cb-height",
        RuleError::BadWitnessCommitment => "bad-witness-merkle-match",
        RuleError::BadWitnessNonce => "bad-witness-nonce-size",
        RuleError::UnexpectedWitness(_) => "unexpected-witness",
        RuleError::BadCoinbaseValue { .. } => "bad-cb-value",
        RuleError::OverwritesUnspent(_) => "bad-txns-overwrite",
        RuleError::NoInputs(_) => "bad-txns-noinputs",
        RuleError::NoOutputs(_) => "bad-txns-nooutputs",
        RuleError::TxTooBig(_) => "bad-txns-size",
        RuleError::BadOutputValue(_) | RuleError::BadOutputTotal(_) => "bad-txns-outputvalue",
        RuleError::DuplicateInputs(_) => "bad-txns-dupinputs",
        RuleError::BadCoinbaseScriptLength(_) => "bad-cb-length",
        RuleError::NullPrevout(_) | RuleError::BadInputTotal(_) => "bad-txns-badinput",
        RuleError::MissingOrSpentInput(_) => "bad-txns-missinginput",
        RuleError::ImmatureCoinbaseSpend { .. } => "bad-txns-maturity",
        RuleError::SpendsMoreThanInputs(_) => "bad-txns-highspend",
        RuleError::NonFinalTx(_) | RuleError::SequenceLockNotMet(_) => "bad-txns-unfinalizedtx",
        RuleError::ScriptFailed { .. } => "bad-script-validate",
        RuleError::KnownInvalid(_) => return format!("rejected: {err}"),
    };
    reason.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::builder::BlockBuilder;
    use crate::chain::{Chain, MemStore};
    use crate::params::{Network, Params as ChainParams};

    #[test]
    fn network_hash_ps_is_work_over_time_as_btcd() {
        let params = ChainParams::new(Network::Regtest);
        let mut chain = Chain::open(params.clone(), MemStore::new()).unwrap();
        let t0 = params.genesis.header.time;
        for i in 1..=10u32 {
            let tip = *chain.tip();
            let mut b = BlockBuilder::new(&params, tip.hash, tip.height + 1, tip.header.time);
            b.header.time = t0 + 100 * i;
            chain
                .process_block(b.build(), u64::from(t0) + 10_000)
                .unwrap();
        }
        // Regtest's pow limit: each block is worth 2 hashes; 10 blocks over 1000 s.
        assert_eq!(network_hash_ps(&chain, 120, -1), 20.0 / 1000.0);
        assert_eq!(network_hash_ps(&chain, 2, -1), 4.0 / 200.0);
        assert_eq!(network_hash_ps(&chain, 2, 5), 4.0 / 200.0);
        assert_eq!(network_hash_ps(&chain, 120, 0), 0.0);
        assert_eq!(network_hash_ps(&chain, 120, 11), 0.0);
        // Regtest never retargets within 10 blocks: back to genesis.
        assert_eq!(network_hash_ps(&chain, 0, -1), 20.0 / 1000.0);
    }

    #[test]
    fn long_poll_ids_round_trip_and_requests_parse() {
        let hash = ChainParams::new(Network::Regtest).genesis_hash;
        let id = long_poll_id(&hash, 1_700_000_000);
        assert_eq!(decode_long_poll_id(&id), Some((hash, 1_700_000_000)));
        assert_eq!(decode_long_poll_id("nonsense"), None);
        let values = [json!({"capabilities": ["coinbasetxn"], "longpollid": id})];
        let r = template_request(&Params::new("getblocktemplate", &values)).unwrap();
        assert_eq!(r.mode, "template");
        assert!(r.wants_coinbase_txn);
        assert_eq!(r.long_poll_id, Some(id));
        let both = [json!({"capabilities": ["coinbasetxn", "coinbasevalue"]})];
        let r = template_request(&Params::new("getblocktemplate", &both)).unwrap();
        assert!(!r.wants_coinbase_txn);
        let bad = [json!("template")];
        assert!(template_request(&Params::new("getblocktemplate", &bad)).is_err());
    }
}
