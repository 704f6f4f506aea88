//! Chain queries: heights, hashes, blocks, headers, tips, difficulty and unspent outputs.

use super::tx_json::{script_pub_key, TxBlock};
use super::Context;
use crate::chain::{IndexEntry, Status};
use crate::mempool::Coin;
use crate::params::Params as ChainParams;
use crate::primitives::hash::{hex_encode, BlockHash};
use crate::primitives::target::{compact_to_target, U256};
use crate::primitives::transaction::OutPoint;
use crate::rpc::block_lookup::{BlockLookup, LiveChain};
use crate::rpc::error::{code, RpcError};
use crate::rpc::params::Params;
use crate::rpc::render::{BlockRender, BlockVerbosity, Render};
use serde_json::{json, Map, Value};

/// btcd's "Block not found" (-5).
fn block_not_found() -> RpcError {
    RpcError::new(code::INVALID_ADDRESS_OR_KEY, "Block not found")
}

fn database_error(e: impl std::fmt::Display) -> RpcError {
    RpcError::new(code::DATABASE, format!("Database error: {e}"))
}

/// `U256` as the nearest `f64`.
pub(super) fn to_f64(v: &U256) -> f64 {
    v.0.iter().rev().fold(0.0, |acc, limb| {
        acc * 18_446_744_073_709_551_616.0 + *limb as f64
    })
}

/// The compact target of difficulty 1 (the genesis block's on mainnet).
const DIFFICULTY_ONE_BITS: u32 = 0x1d00_ffff;

/// How many times harder `bits` is than difficulty 1, as Bitcoin Core reports it on every
/// network: measured against the target of 0x1d00ffff and rounded to the 16 significant digits
/// Core's JSON writer prints, so clients see the same number from both. btcd measures against
/// each network's own proof-of-work limit and rounds to 8 decimals, which agrees on mainnet
/// but reports 1 instead of Core's 4.656542373906925e-10 on regtest and simnet.
pub fn difficulty(bits: u32) -> f64 {
    let (target, negative, overflow) = compact_to_target(bits);
    if target.is_zero() || negative || overflow {
        return 0.0;
    }
    let (one, _, _) = compact_to_target(DIFFICULTY_ONE_BITS);
    let ratio = to_f64(&one) / to_f64(&target);
    format!("{ratio:.15e}").parse().unwrap_or(ratio)
}

/// Confirmations of a block: 1 for the tip, -1 off the main chain (as Bitcoin Core).
fn confirmations(chain: &dyn BlockLookup, e: &IndexEntry) -> i64 {
    if chain.is_main(e) {
        i64::from(chain.tip().height) - i64::from(e.height) + 1
    } else {
        -1
    }
}

fn next_hash(chain: &dyn BlockLookup, e: &IndexEntry) -> Option<BlockHash> {
    chain
        .is_main(e)
        .then(|| chain.main_hash(e.height + 1))
        .flatten()
}

/// The entry of the block whose hash is parameter `i`.
fn entry(chain: &dyn BlockLookup, p: Params, i: usize) -> Result<IndexEntry, RpcError> {
    let hash = p.hash(i, "hash")?;
    chain.entry(&hash).ok_or_else(block_not_found)
}

/// The header fields `getblock` and `getblockheader` share, in btcd's names.
fn header_fields(chain: &dyn BlockLookup, e: &IndexEntry) -> Map<String, Value> {
    let h = &e.header;
    let mut m = Map::new();
    m.insert("hash".into(), json!(e.hash.to_string()));
    m.insert("confirmations".into(), json!(confirmations(chain, e)));
    m.insert("height".into(), json!(e.height));
    m.insert("version".into(), json!(h.version));
    m.insert("versionHex".into(), json!(format!("{:08x}", h.version)));
    m.insert("merkleroot".into(), json!(h.merkle_root.to_string()));
    m.insert("time".into(), json!(h.time));
    m.insert("nonce".into(), json!(h.nonce));
    m.insert("bits".into(), json!(format!("{:08x}", h.bits)));
    m.insert("difficulty".into(), json!(difficulty(h.bits)));
    m
}

fn link_fields(chain: &dyn BlockLookup, e: &IndexEntry, m: &mut Map<String, Value>) {
    if e.height > 0 {
        m.insert(
            "previousblockhash".into(),
            json!(e.header.prev_blockhash.to_string()),
        );
    }
    if let Some(next) = next_hash(chain, e) {
        m.insert("nextblockhash".into(), json!(next.to_string()));
    }
}

/// `getblockcount`: the height of the tip.
pub fn get_block_count(chain: &dyn BlockLookup, p: Params) -> Result<Value, RpcError> {
    p.expect_count(0, 0)?;
    Ok(json!(chain.tip().height))
}

/// `getbestblockhash`: the tip's hash.
pub fn get_best_block_hash(chain: &dyn BlockLookup, p: Params) -> Result<Value, RpcError> {
    p.expect_count(0, 0)?;
    Ok(json!(chain.tip().hash.to_string()))
}

/// `getbestblock` (btcd extension): the tip's hash and height.
pub fn get_best_block(chain: &dyn BlockLookup, p: Params) -> Result<Value, RpcError> {
    p.expect_count(0, 0)?;
    let tip = chain.tip();
    Ok(json!({ "hash": tip.hash.to_string(), "height": tip.height }))
}

/// `getblockhash index`: the main-chain hash at a height; -1 "Block number out of range" as btcd.
pub fn get_block_hash(chain: &dyn BlockLookup, p: Params) -> Result<Value, RpcError> {
    p.expect_count(1, 1)?;
    let height = p.i64(0, "index")?;
    u32::try_from(height)
        .ok()
        .and_then(|h| chain.main_hash(h))
        .map(|hash| json!(hash.to_string()))
        .ok_or_else(|| RpcError::new(code::MISC, "Block number out of range"))
}

/// `getblock hash (verbosity=1)`: hex (0), a summary with txids (1) or with decoded txs (2).
/// Finding the block and reading its bytes is all done here; decoding and formatting it,
/// which for a big block takes far longer, is left to the [`Render`].
pub fn get_block(chain: &dyn BlockLookup, p: Params) -> Result<Render, RpcError> {
    p.expect_count(1, 2)?;
    let e = entry(chain, p, 0)?;
    let verbosity = match p.opt_i64(1, "verbosity")?.unwrap_or(1) {
        0 => BlockVerbosity::Hex,
        1 => BlockVerbosity::Txids,
        _ => BlockVerbosity::Decoded,
    };
    let bytes = chain
        .block_bytes(&e)
        .map_err(database_error)?
        .ok_or_else(block_not_found)?;
    let mut fields = header_fields(chain, &e);
    // btcd names the previous block even for genesis (all zeros), unlike `getblockheader`.
    fields.insert(
        "previousblockhash".into(),
        json!(e.header.prev_blockhash.to_string()),
    );
    if let Some(next) = next_hash(chain, &e) {
        fields.insert("nextblockhash".into(), json!(next.to_string()));
    }
    Ok(Render::Block(Box::new(BlockRender {
        bytes,
        verbosity,
        fields,
        at: TxBlock {
            hash: e.hash,
            time: e.header.time,
            confirmations: confirmations(chain, &e),
        },
        network: chain.network(),
    })))
}

/// `getblockheader hash (verbose=true)`: the header as JSON, or its 80 bytes in hex.
pub fn get_block_header(chain: &dyn BlockLookup, p: Params) -> Result<Value, RpcError> {
    p.expect_count(1, 2)?;
    let e = entry(chain, p, 0)?;
    if !p.opt_bool(1, "verbose")?.unwrap_or(true) {
        return Ok(json!(hex_encode(&e.header.to_bytes())));
    }
    let mut m = header_fields(chain, &e);
    link_fields(chain, &e, &mut m);
    Ok(Value::Object(m))
}

/// `getblockchaininfo`: chain name, heights, best hash, difficulty, median time, chain work.
pub fn get_blockchain_info(ctx: &Context<'_>, p: Params) -> Result<Value, RpcError> {
    p.expect_count(0, 0)?;
    let index = ctx.chain.index();
    let tip = ctx.chain.tip();
    Ok(json!({
        "chain": ctx.chain.params().network.name(),
        "blocks": tip.height,
        "headers": index.best_header().height,
        "bestblockhash": tip.hash.to_string(),
        "difficulty": difficulty(tip.header.bits),
        "mediantime": index.median_time_past(&tip.hash),
        "pruned": false,
        "chainwork": hex_encode(&tip.chain_work.0.to_be_bytes()),
        "softforks": super_majority_forks(ctx, tip.height),
        "warnings": [],
    }))
}

/// The soft forks rbtcd enforces from a fixed height, by Core's names, with those heights.
fn buried_deployments(ctx: &Context<'_>) -> [(&'static str, u32); 6] {
    let p = ctx.chain.params();
    [
        ("bip34", p.bip34_height),
        ("bip66", p.bip66_height),
        ("bip65", p.bip65_height),
        ("csv", p.csv_height),
        ("segwit", p.segwit_height),
        ("taproot", p.taproot_height),
    ]
}

/// btcd's `softforks` of `getblockchaininfo`: the forks once deployed by block-version
/// super-majority, with the version they introduced and whether blocks of older versions are
/// rejected after a tip at `height`.
fn super_majority_forks(ctx: &Context<'_>, height: u32) -> Value {
    let versions = [("bip34", 2), ("bip66", 3), ("bip65", 4)];
    let heights = buried_deployments(ctx);
    let forks: Vec<Value> = versions
        .iter()
        .zip(heights)
        .map(|((id, version), (_, from))| {
            json!({"id": id, "version": version, "reject": {"status": height >= from}})
        })
        .collect();
    json!(forks)
}

/// `getdeploymentinfo ("blockhash")`: Core's state of each deployment for the block after
/// `blockhash` (the tip by default). Every fork rbtcd knows is buried (enforced from a fixed
/// height), so each reads `type` "buried", its `height`, and whether it is `active`.
pub fn get_deployment_info(ctx: &Context<'_>, p: Params) -> Result<Value, RpcError> {
    p.expect_count(0, 1)?;
    let e = match p.get(0) {
        None | Some(Value::Null) => *ctx.chain.tip(),
        Some(_) => entry(&LiveChain::of(ctx), p, 0)?,
    };
    let deployments: Map<String, Value> = buried_deployments(ctx)
        .into_iter()
        .map(|(name, height)| {
            let active = e.height + 1 >= height;
            let d = json!({"type": "buried", "active": active, "height": height});
            (name.to_string(), d)
        })
        .collect();
    Ok(json!({
        "hash": e.hash.to_string(),
        "height": e.height,
        "deployments": deployments,
    }))
}

/// `getdifficulty`: the tip's difficulty ratio.
pub fn get_difficulty(ctx: &Context<'_>, p: Params) -> Result<Value, RpcError> {
    p.expect_count(0, 0)?;
    Ok(json!(difficulty(ctx.chain.tip().header.bits)))
}

/// btcd's tip status names.
fn tip_status(s: Status, is_active: bool) -> &'static str {
    if is_active {
        "active"
    } else if s.is_invalid() {
        "invalid"
    } else if s.contains(Status::VALID) {
        "valid-fork"
    } else if s.contains(Status::DATA_STORED) {
        "valid-headers"
    } else {
        "headers-only"
    }
}

/// `getchaintips`: every block without children, with its branch length off the main chain.
pub fn get_chain_tips(ctx: &Context<'_>, p: Params) -> Result<Value, RpcError> {
    p.expect_count(0, 0)?;
    let index = ctx.chain.index();
    let tip = ctx.chain.tip();
    let mut tips: Vec<&IndexEntry> = index
        .entries()
        .filter(|e| index.children(&e.hash).next().is_none())
        .collect();
    // Active tip first, then the rest by descending height as btcd lists them.
    tips.sort_by_key(|e| (e.hash != tip.hash, std::cmp::Reverse(e.height)));
    let out: Vec<Value> = tips
        .into_iter()
        .map(|e| {
            let fork = index.fork_point(&e.hash).map_or(0, |f| f.height);
            json!({
                "height": e.height,
                "hash": e.hash.to_string(),
                "branchlen": e.height - fork,
                "status": tip_status(e.status, e.hash == tip.hash),
            })
        })
        .collect();
    Ok(json!(out))
}

/// `gettxout txid vout (includemempool=true)`: an unspent output, or null when spent or unknown.
pub fn get_tx_out(chain: &dyn BlockLookup, p: Params) -> Result<Value, RpcError> {
    p.expect_count(2, 3)?;
    let txid = p.hash(0, "txid")?;
    let vout = u32::try_from(p.i64(1, "vout")?)
        .map_err(|_| RpcError::invalid_params("parameter #2 'vout' must be type uint32"))?;
    let include_mempool = p.opt_bool(2, "includemempool")?.unwrap_or(true);
    let op = OutPoint::new(txid, vout);
    let tip = chain.tip();
    let (output, confirmations, coinbase) = if include_mempool && chain.mempool_has(&txid) {
        let output = chain
            .mempool_tx(&txid)
            .filter(|_| chain.mempool_spender(&op).is_none())
            .and_then(|tx| tx.outputs.get(vout as usize).cloned());
        match output {
            Some(out) => (out, 0, false),
            None => return Ok(Value::Null),
        }
    } else {
        let coin: Option<Coin> = chain.utxo(&op).map_err(database_error)?;
        match coin {
            Some(c) => (
                c.output,
                i64::from(tip.height) - i64::from(c.height) + 1,
                c.is_coinbase,
            ),
            None => return Ok(Value::Null),
        }
    };
    if include_mempool && chain.mempool_spender(&op).is_some() {
        return Ok(Value::Null);
    }
    Ok(json!({
        "bestblock": tip.hash.to_string(),
        "confirmations": confirmations,
        "value": super::tx_json::btc(output.value),
        "scriptPubKey": script_pub_key(&output.script_pubkey, &ChainParams::new(chain.network())),
        "coinbase": coinbase,
    }))
}

/// Most headers `getheaders` returns, as the `headers` message.
const MAX_HEADERS: usize = 2000;

/// `getheaders [locator,...] hashstop`: hex headers of the main chain after the first locator
/// hash on it (after genesis when none is), up to `hashstop` or 2000 headers.
pub fn get_headers(chain: &dyn BlockLookup, p: Params) -> Result<Value, RpcError> {
    p.expect_count(2, 2)?;
    let locators = p
        .get(0)
        .and_then(Value::as_array)
        .ok_or_else(|| RpcError::invalid_params("parameter #1 'blocklocators' must be an array"))?;
    let mut start = 0;
    for l in locators {
        let s = l
            .as_str()
            .ok_or_else(|| RpcError::invalid_params("locators must be strings"))?;
        let hash: BlockHash = s
            .parse()
            .map_err(|_| crate::rpc::params::decode_hex_error(s))?;
        if let Some(e) = chain.entry(&hash).filter(|e| chain.is_main(e)) {
            start = e.height;
            break;
        }
    }
    let stop = p.str(1, "hashstop")?;
    let stop: BlockHash = if stop.is_empty() {
        BlockHash::default()
    } else {
        stop.parse()
            .map_err(|_| crate::rpc::params::decode_hex_error(stop))?
    };
    let mut out = Vec::new();
    let mut height = start + 1;
    while let Some(hash) = chain.main_hash(height) {
        let e = chain.entry(&hash).ok_or_else(block_not_found)?;
        out.push(json!(hex_encode(&e.header.to_bytes())));
        if hash == stop || out.len() == MAX_HEADERS {
            break;
        }
        height += 1;
    }
    Ok(json!(out))
}

/// `getindexinfo ("index_name")`: Core's shape for the optional indexes the node keeps, which is
/// the transaction index alone (`txindex`). It catches up before the node serves and then
/// follows every connected block, so it is synced at the tip; an unknown or absent index
/// answers an empty object, as in Core.
pub fn get_index_info(ctx: &Context<'_>, p: Params) -> Result<Value, RpcError> {
    p.expect_count(0, 1)?;
    let wanted = p.opt_str(0, "index_name")?;
    let mut m = Map::new();
    if ctx.chain.tx_index_enabled() && wanted.is_none_or(|name| name == "txindex") {
        m.insert(
            "txindex".into(),
            json!({ "synced": true, "best_block_height": ctx.chain.tip().height }),
        );
    }
    Ok(Value::Object(m))
}
