//! Transactions and scripts as btcd's JSON: `vin`/`vout`, `scriptPubKey`, and the decode
//! commands built on them.

use super::Context;
use crate::address::{Address, Payload};
use crate::params::Params as ChainParams;
use crate::primitives::encode::{Decodable, Encodable};
use crate::primitives::hash::{hex_encode, BlockHash};
use crate::primitives::transaction::Transaction;
use crate::rpc::error::{code, RpcError};
use crate::rpc::params::Params;
use crate::script::disasm::disasm;
use crate::script::hashes::hash160;
use crate::script::standard::{classify, ScriptClass};
use serde_json::{json, Map, Value};

/// Satoshis per bitcoin.
const COIN: f64 = 100_000_000.0;

/// An amount in BTC, as btcd reports values.
pub fn btc(sats: i64) -> f64 {
    sats as f64 / COIN
}

/// Where a transaction was mined, for the block fields of a verbose transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TxBlock {
    /// The block's hash.
    pub hash: BlockHash,
    /// The block's timestamp.
    pub time: u32,
    /// The block's confirmations.
    pub confirmations: i64,
}

/// btcd's `scriptPubKey` object: asm, hex, type, and the address(es) and required signatures
/// it pays to when standard.
pub fn script_pub_key(script: &[u8], params: &ChainParams) -> Value {
    let mut m = script_fields(script, params);
    m.insert("hex".into(), json!(hex_encode(script)));
    Value::Object(m)
}

/// asm, type, reqSigs and addresses: the fields `scriptPubKey` and `decodescript` share.
fn script_fields(script: &[u8], params: &ChainParams) -> Map<String, Value> {
    let class = classify(script);
    let mut m = Map::new();
    m.insert("asm".into(), json!(disasm(script)));
    let req_sigs = match class {
        ScriptClass::MultiSig { required, .. } => u32::from(required),
        ScriptClass::NullData | ScriptClass::NonStandard => 0,
        _ => 1,
    };
    if req_sigs > 0 {
        m.insert("reqSigs".into(), json!(req_sigs));
    }
    m.insert("type".into(), json!(class.name()));
    if let Some(addr) = Address::from_script_pubkey(script, params) {
        m.insert("address".into(), json!(addr.to_string()));
        m.insert("addresses".into(), json!([addr.to_string()]));
    }
    m
}

fn vin(tx: &Transaction) -> Vec<Value> {
    tx.inputs
        .iter()
        .map(|i| {
            let mut m = Map::new();
            if tx.is_coinbase() {
                m.insert("coinbase".into(), json!(hex_encode(&i.script_sig)));
            } else {
                m.insert("txid".into(), json!(i.prevout.txid.to_string()));
                m.insert("vout".into(), json!(i.prevout.vout));
                m.insert(
                    "scriptSig".into(),
                    json!({ "asm": disasm(&i.script_sig), "hex": hex_encode(&i.script_sig) }),
                );
            }
            if !i.witness.is_empty() {
                let w: Vec<String> = i.witness.iter().map(|w| hex_encode(w)).collect();
                m.insert("txinwitness".into(), json!(w));
            }
            m.insert("sequence".into(), json!(i.sequence));
            Value::Object(m)
        })
        .collect()
}

fn vout(tx: &Transaction, params: &ChainParams) -> Vec<Value> {
    tx.outputs
        .iter()
        .enumerate()
        .map(|(n, o)| {
            json!({
                "value": btc(o.value),
                "n": n,
                "scriptPubKey": script_pub_key(&o.script_pubkey, params),
            })
        })
        .collect()
}

/// btcd's `TxRawResult`: a transaction with its hex, ids, sizes, inputs and outputs, and the
/// block that holds it when known.
pub fn tx_raw_result(tx: &Transaction, params: &ChainParams, block: Option<&TxBlock>) -> Value {
    let mut m = Map::new();
    m.insert("hex".into(), json!(hex_encode(&tx.encode())));
    m.insert("txid".into(), json!(tx.txid().to_string()));
    m.insert("hash".into(), json!(tx.wtxid().to_string()));
    m.insert("size".into(), json!(tx.total_size()));
    m.insert("vsize".into(), json!(tx.vsize()));
    m.insert("weight".into(), json!(tx.weight()));
    m.insert("version".into(), json!(tx.version as u32));
    m.insert("locktime".into(), json!(tx.lock_time));
    m.insert("vin".into(), json!(vin(tx)));
    m.insert("vout".into(), json!(vout(tx, params)));
    if let Some(b) = block {
        m.insert("blockhash".into(), json!(b.hash.to_string()));
        m.insert("confirmations".into(), json!(b.confirmations));
        m.insert("time".into(), json!(b.time));
        m.insert("blocktime".into(), json!(b.time));
    }
    Value::Object(m)
}

/// A transaction from RPC bytes; undecodable is btcd's -22 "TX decode failed".
pub fn decode_tx(bytes: &[u8]) -> Result<Transaction, RpcError> {
    Transaction::decode(bytes)
        .map_err(|e| RpcError::new(code::DESERIALIZATION, format!("TX decode failed: {e}")))
}

/// `decoderawtransaction hextx`: btcd's `TxRawDecodeResult`.
pub fn decode_raw_transaction(ctx: &Context<'_>, p: Params) -> Result<Value, RpcError> {
    p.expect_count(1, 1)?;
    let tx = decode_tx(&p.hex(0, "hextx")?)?;
    Ok(json!({
        "txid": tx.txid().to_string(),
        "version": tx.version,
        "locktime": tx.lock_time,
        "vin": vin(&tx),
        "vout": vout(&tx, ctx.chain.params()),
    }))
}

/// `decodescript hexscript`: asm, type, addresses, and the P2SH address of the script itself
/// (omitted when the script is already P2SH).
pub fn decode_script(ctx: &Context<'_>, p: Params) -> Result<Value, RpcError> {
    p.expect_count(1, 1)?;
    let script = p.hex(0, "hexscript")?;
    let params = ctx.chain.params();
    let mut m = script_fields(&script, params);
    if classify(&script) != ScriptClass::ScriptHash {
        let p2sh = Address::new(Payload::ScriptHash(hash160(&script)), params);
        m.insert("p2sh".into(), json!(p2sh.to_string()));
    }
    Ok(Value::Object(m))
}
