//! `getblockstats`: Bitcoin Core's per-block statistics (fees, fee rates, sizes, UTXO set
//! growth), computed from a stored block and its undo data (the coins its inputs spent).

use super::Context;
use crate::chain::IndexEntry;
use crate::primitives::block::Block;
use crate::primitives::encode::compact_size_len;
use crate::primitives::transaction::{TxOut, MAX_MONEY};
use crate::rpc::error::{code, RpcError};
use crate::rpc::params::Params;
use crate::script::standard::is_unspendable;
use serde_json::{json, Value};

/// Bytes Core counts per UTXO beyond the output itself: the outpoint (36), the height and
/// coinbase flag (4) and the spent flag (1).
const PER_UTXO_OVERHEAD: i64 = 41;
/// Weight units per virtual byte.
const WITNESS_SCALE: i64 = 4;
/// Core's largest serialized block, the starting minimum of `mintxsize`.
const MAX_BLOCK_SERIALIZED_SIZE: i64 = 4_000_000;

/// Every statistic, in Core's order (sorted by name).
const STATS: &[&str] = &[
    "avgfee",
    "avgfeerate",
    "avgtxsize",
    "blockhash",
    "feerate_percentiles",
    "height",
    "ins",
    "maxfee",
    "maxfeerate",
    "maxtxsize",
    "medianfee",
    "mediantime",
    "mediantxsize",
    "minfee",
    "minfeerate",
    "mintxsize",
    "outs",
    "subsidy",
    "swtotal_size",
    "swtotal_weight",
    "swtxs",
    "time",
    "total_out",
    "total_size",
    "total_weight",
    "totalfee",
    "txs",
    "utxo_increase",
    "utxo_increase_actual",
    "utxo_size_inc",
    "utxo_size_inc_actual",
];

/// Bytes an output takes in the UTXO set as Core counts it.
fn utxo_size(out: &TxOut) -> i64 {
    let script = out.script_pubkey.len();
    (8 + compact_size_len(script as u64) + script) as i64 + PER_UTXO_OVERHEAD
}

/// The middle value, or the mean of the middle two, rounded down; 0 for none (Core's
/// truncated median).
fn truncated_median(mut values: Vec<i64>) -> i64 {
    values.sort_unstable();
    let n = values.len();
    match n {
        0 => 0,
        _ if n.is_multiple_of(2) => (values[n / 2 - 1] + values[n / 2]) / 2,
        _ => values[n / 2],
    }
}

/// The fee rates at the 10th, 25th, 50th, 75th and 90th percentiles of the block's weight.
fn percentiles_by_weight(mut rates: Vec<(i64, i64)>, total_weight: i64) -> [i64; 5] {
    let mut out = [0; 5];
    if rates.is_empty() {
        return out;
    }
    rates.sort_unstable();
    let total = total_weight as f64;
    let marks = [
        total / 10.0,
        total / 4.0,
        total / 2.0,
        total * 3.0 / 4.0,
        total * 9.0 / 10.0,
    ];
    let mut next = 0;
    let mut weight = 0;
    for &(rate, w) in &rates {
        weight += w;
        while next < marks.len() && weight as f64 >= marks[next] {
            out[next] = rate;
            next += 1;
        }
    }
    // Rounding can leave the top marks unreached: they get the highest rate.
    let last = rates[rates.len() - 1].0;
    for slot in &mut out[next..] {
        *slot = last;
    }
    out
}

/// The statistics of `block` (at `e`), spending `spent` (one coin per non-coinbase input, in
/// order).
fn stats(ctx: &Context<'_>, e: &IndexEntry, block: &Block, spent: &[TxOut]) -> Value {
    let (mut ins, mut outs, mut utxos) = (0i64, 0i64, 0i64);
    let (mut utxo_size_inc, mut utxo_size_inc_actual) = (0i64, 0i64);
    let (mut total_out, mut total_size, mut total_weight) = (0i64, 0i64, 0i64);
    let (mut swtxs, mut swtotal_size, mut swtotal_weight) = (0i64, 0i64, 0i64);
    let (mut totalfee, mut maxfee, mut minfee) = (0i64, 0i64, MAX_MONEY);
    let (mut maxfeerate, mut minfeerate) = (0i64, MAX_MONEY);
    let (mut maxtxsize, mut mintxsize) = (0i64, MAX_BLOCK_SERIALIZED_SIZE);
    let (mut fees, mut sizes, mut rates) = (Vec::new(), Vec::new(), Vec::new());
    let mut spent = spent.iter();
    for tx in &block.txdata {
        outs += tx.outputs.len() as i64;
        let mut tx_out = 0;
        for out in &tx.outputs {
            tx_out += out.value;
            utxo_size_inc += utxo_size(out);
            // Genesis's coinbase never enters the UTXO set, nor do unspendable outputs.
            if e.height == 0 || is_unspendable(&out.script_pubkey) {
                continue;
            }
            utxos += 1;
            utxo_size_inc_actual += utxo_size(out);
        }
        if tx.is_coinbase() {
            continue;
        }
        ins += tx.inputs.len() as i64;
        total_out += tx_out;
        let size = tx.total_size() as i64;
        let weight = tx.weight() as i64;
        sizes.push(size);
        maxtxsize = maxtxsize.max(size);
        mintxsize = mintxsize.min(size);
        total_size += size;
        total_weight += weight;
        if tx.has_witness() {
            swtxs += 1;
            swtotal_size += size;
            swtotal_weight += weight;
        }
        let mut tx_in = 0;
        for coin in spent.by_ref().take(tx.inputs.len()) {
            tx_in += coin.value;
            utxo_size_inc -= utxo_size(coin);
            utxo_size_inc_actual -= utxo_size(coin);
        }
        let fee = tx_in - tx_out;
        fees.push(fee);
        maxfee = maxfee.max(fee);
        minfee = minfee.min(fee);
        totalfee += fee;
        let rate = if weight > 0 {
            fee * WITNESS_SCALE / weight
        } else {
            0
        };
        rates.push((rate, weight));
        maxfeerate = maxfeerate.max(rate);
        minfeerate = minfeerate.min(rate);
    }
    let paying = block.txdata.len() as i64 - 1;
    let per_tx = |total: i64| if paying > 0 { total / paying } else { 0 };
    let none_if = |v: i64, start: i64| if v == start { 0 } else { v };
    json!({
        "avgfee": per_tx(totalfee),
        "avgfeerate": if total_weight > 0 { totalfee * WITNESS_SCALE / total_weight } else { 0 },
        "avgtxsize": per_tx(total_size),
        "blockhash": e.hash.to_string(),
        "feerate_percentiles": percentiles_by_weight(rates, total_weight),
        "height": e.height,
        "ins": ins,
        "maxfee": maxfee,
        "maxfeerate": maxfeerate,
        "maxtxsize": maxtxsize,
        "medianfee": truncated_median(fees),
        "mediantime": ctx.chain.index().median_time_past(&e.hash),
        "mediantxsize": truncated_median(sizes),
        "minfee": none_if(minfee, MAX_MONEY),
        "minfeerate": none_if(minfeerate, MAX_MONEY),
        "mintxsize": none_if(mintxsize, MAX_BLOCK_SERIALIZED_SIZE),
        "outs": outs,
        "subsidy": ctx.chain.params().subsidy(e.height),
        "swtotal_size": swtotal_size,
        "swtotal_weight": swtotal_weight,
        "swtxs": swtxs,
        "time": e.header.time,
        "total_out": total_out,
        "total_size": total_size,
        "total_weight": total_weight,
        "totalfee": totalfee,
        "txs": block.txdata.len(),
        "utxo_increase": outs - ins,
        "utxo_increase_actual": utxos - ins,
        "utxo_size_inc": utxo_size_inc,
        "utxo_size_inc_actual": utxo_size_inc_actual,
    })
}

/// The block a `hash_or_height` parameter names, with Core's errors.
fn target<'c>(ctx: &Context<'c>, p: Params) -> Result<&'c IndexEntry, RpcError> {
    let index = ctx.chain.index();
    let not_found = || RpcError::new(code::INVALID_ADDRESS_OR_KEY, "Block not found");
    match p.get(0) {
        Some(Value::Number(_)) => {
            let height = p.i64(0, "hash_or_height")?;
            let tip = ctx.chain.tip().height;
            if height < 0 {
                return Err(RpcError::new(
                    code::INVALID_PARAMETER,
                    format!("Target block height {height} is negative"),
                ));
            }
            if height > i64::from(tip) {
                return Err(RpcError::new(
                    code::INVALID_PARAMETER,
                    format!("Target block height {height} after current tip {tip}"),
                ));
            }
            let hash = index.main_at(height as u32).ok_or_else(not_found)?;
            index.get(hash).ok_or_else(not_found)
        }
        _ => {
            let hash = p.hash(0, "hash_or_height")?;
            index.get(&hash).ok_or_else(not_found)
        }
    }
}

/// `getblockstats hash_or_height ( stats )`: Core's statistics of a stored block, all of them
/// or only those named in `stats`.
pub fn get_block_stats(ctx: &Context<'_>, p: Params) -> Result<Value, RpcError> {
    p.expect_count(1, 2)?;
    let e = target(ctx, p)?;
    let wanted: Vec<&str> = match p.get(1) {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(names)) => names
            .iter()
            .map(|n| {
                n.as_str()
                    .ok_or_else(|| RpcError::invalid_params("stats must be strings"))
            })
            .collect::<Result<_, _>>()?,
        Some(_) => {
            return Err(RpcError::invalid_params(
                "parameter #2 'stats' must be an array",
            ))
        }
    };
    if let Some(unknown) = wanted.iter().find(|n| !STATS.contains(n)) {
        return Err(RpcError::new(
            code::INVALID_PARAMETER,
            format!("Invalid selected statistic '{unknown}'"),
        ));
    }
    let database =
        |e: crate::chain::ChainError| RpcError::new(code::DATABASE, format!("Database error: {e}"));
    let missing = || RpcError::new(code::MISC, "Block not available (pruned data)");
    let block = ctx
        .chain
        .block(&e.hash)
        .map_err(database)?
        .ok_or_else(missing)?;
    let spent: Vec<TxOut> = if block.txdata.len() > 1 {
        let undo = ctx
            .chain
            .undo(&e.hash)
            .map_err(database)?
            .ok_or_else(|| RpcError::new(code::MISC, "Can't read undo data from disk"))?;
        undo.spent.into_iter().map(|c| c.output).collect()
    } else {
        Vec::new()
    };
    let mut all = stats(ctx, e, &block, &spent);
    if let (false, Value::Object(m)) = (wanted.is_empty(), &mut all) {
        m.retain(|k, _| wanted.contains(&k.as_str()));
    }
    Ok(all)
}
