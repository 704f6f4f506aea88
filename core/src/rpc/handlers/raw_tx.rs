//! Raw transactions: building one (`createrawtransaction`), reading one from the mempool or
//! the transaction index (`getrawtransaction`), and btcd's answers for the lookups that need an
//! index rbtcd does not keep.

use super::tx_json::TxBlock;
use super::Context;
use crate::address::Address;
use crate::primitives::encode::Encodable;
use crate::primitives::hash::hex_encode;
use crate::primitives::transaction::{OutPoint, Transaction, TxIn, TxOut};
use crate::rpc::block_lookup::BlockLookup;
use crate::rpc::error::{code, RpcError};
use crate::rpc::params::{decode_hex_error, Params};
use crate::rpc::render::{Render, TxRender};
use serde_json::{json, Value};

/// The most satoshis there can be.
const MAX_SATOSHI: f64 = 21e14;
/// The final sequence number; inputs of a transaction with a lock time use one less.
const SEQUENCE_FINAL: u32 = u32::MAX;

/// `createrawtransaction [{"txid","vout"},...] {"address":amount,...} (locktime)`: an unsigned
/// version-1 transaction in hex, as btcd builds it.
pub fn create_raw_transaction(ctx: &Context<'_>, p: Params) -> Result<Value, RpcError> {
    p.expect_count(2, 3)?;
    let inputs = p
        .get(0)
        .and_then(Value::as_array)
        .ok_or_else(|| RpcError::invalid_params("parameter #1 'inputs' must be an array"))?;
    let amounts = p
        .get(1)
        .and_then(Value::as_object)
        .ok_or_else(|| RpcError::invalid_params("parameter #2 'amounts' must be an object"))?;
    let lock_time = p.opt_i64(2, "locktime")?;
    let lock_time = match lock_time {
        None => 0,
        Some(t) => u32::try_from(t)
            .map_err(|_| RpcError::new(code::INVALID_PARAMETER, "Locktime out of range"))?,
    };
    let sequence = if lock_time != 0 {
        SEQUENCE_FINAL - 1
    } else {
        SEQUENCE_FINAL
    };
    let mut tx = Transaction {
        version: 1,
        inputs: Vec::new(),
        outputs: Vec::new(),
        lock_time,
    };
    for input in inputs {
        let txid = input["txid"]
            .as_str()
            .ok_or_else(|| RpcError::invalid_params("input lacks a string 'txid'"))?;
        let vout = input["vout"]
            .as_u64()
            .and_then(|v| u32::try_from(v).ok())
            .ok_or_else(|| RpcError::invalid_params("input lacks a uint32 'vout'"))?;
        let txid = txid.parse().map_err(|_| decode_hex_error(txid))?;
        tx.inputs.push(TxIn {
            prevout: OutPoint::new(txid, vout),
            script_sig: Vec::new(),
            sequence,
            witness: Vec::new(),
        });
    }
    let params = ctx.chain.params();
    for (addr, amount) in amounts {
        let btc = amount.as_f64().unwrap_or(-1.0);
        let sats = (btc * 1e8).round();
        if btc <= 0.0 || sats > MAX_SATOSHI {
            return Err(RpcError::new(code::TYPE, "Invalid amount"));
        }
        let address = Address::from_str_for(addr, params).map_err(|e| {
            RpcError::new(
                code::INVALID_ADDRESS_OR_KEY,
                format!("Invalid address or key: {e}"),
            )
        })?;
        tx.outputs.push(TxOut {
            value: sats as i64,
            script_pubkey: address.script_pubkey(),
        });
    }
    Ok(json!(hex_encode(&tx.encode())))
}

/// `getrawtransaction txid (verbose=0)`: a mempool transaction, or with the transaction index
/// a main-chain one, in hex or as btcd's `TxRawResult` (with its block when confirmed); found
/// here, formatted by a [`Render`] that may run beside the node.
pub fn get_raw_transaction(chain: &dyn BlockLookup, p: Params) -> Result<Render, RpcError> {
    p.expect_count(1, 2)?;
    let txid = p.hash(0, "txid")?;
    // btcd takes an integer here; Bitcoin Core clients also send a boolean.
    let verbose = match p.get(1) {
        None => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => p.i64(1, "verbose")? != 0,
    };
    let (tx, block) =
        match chain.mempool_tx(&txid) {
            Some(tx) => (Transaction::clone(&tx), None),
            None if !chain.tx_index_enabled() => return Err(RpcError::new(
                code::INVALID_ADDRESS_OR_KEY,
                "The transaction index must be enabled to query the blockchain (specify --txindex)",
            )),
            None => match chain.indexed_transaction(&txid) {
                Ok(Some((tx, entry))) => {
                    let at = TxBlock {
                        hash: entry.hash,
                        time: entry.header.time,
                        confirmations: i64::from(chain.tip().height) - i64::from(entry.height) + 1,
                    };
                    (tx, Some(at))
                }
                Ok(None) => {
                    return Err(RpcError::new(
                        code::INVALID_ADDRESS_OR_KEY,
                        format!("No information available about transaction {txid}"),
                    ))
                }
                Err(e) => {
                    return Err(RpcError::new(
                        code::INTERNAL,
                        format!("Failed to retrieve transaction location: {e}"),
                    ))
                }
            },
        };
    Ok(Render::Transaction(Box::new(TxRender {
        tx,
        verbose,
        block,
        network: chain.network(),
    })))
}

/// `searchrawtransactions`: needs the address index.
pub fn search_raw_transactions(_: &Context<'_>, p: Params) -> Result<Value, RpcError> {
    p.expect_count(1, 7)?;
    Err(RpcError::new(
        code::MISC,
        "Address index must be enabled (--addrindex)",
    ))
}

/// `getcfilter` and `getcfilterheader`: need the committed-filter index.
pub fn cfilter(_: &Context<'_>, p: Params) -> Result<Value, RpcError> {
    p.expect_count(2, 2)?;
    Err(RpcError::new(
        code::INVALID_ADDRESS_OR_KEY,
        "The CF index must be enabled for this command",
    ))
}
