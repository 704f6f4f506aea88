//! btcd's WebSocket notifications (`btcjson/chainsvrwsntfns.go`): JSON-RPC 1.0 requests with a
//! null id, positional parameters in btcd's order.

use crate::params::Params as ChainParams;
use crate::primitives::encode::Encodable;
use crate::primitives::hash::hex_encode;
use crate::primitives::{Block, BlockHash, BlockHeader, Transaction};
use crate::rpc::handlers::tx_json::{btc, tx_raw_result};
use serde_json::{json, Value};

/// A notification `method` with `params`, as btcd marshals it.
pub fn notification(method: &str, params: Vec<Value>) -> Value {
    json!({ "jsonrpc": "1.0", "method": method, "params": params, "id": null })
}

/// `blockconnected [hash, height, time]`.
pub fn block_connected(hash: &BlockHash, height: u32, time: u32) -> Value {
    notification(
        "blockconnected",
        vec![json!(hash.to_string()), json!(height), json!(time)],
    )
}

/// `blockdisconnected [hash, height, time]`.
pub fn block_disconnected(hash: &BlockHash, height: u32, time: u32) -> Value {
    notification(
        "blockdisconnected",
        vec![json!(hash.to_string()), json!(height), json!(time)],
    )
}

/// `filteredblockconnected [height, header hex, [tx hex...]]`; btcd sends null, not `[]`,
/// when none of the block's transactions matched the client's filter.
pub fn filtered_block_connected(height: u32, header: &BlockHeader, txs: &[String]) -> Value {
    let txs = if txs.is_empty() {
        Value::Null
    } else {
        json!(txs)
    };
    notification(
        "filteredblockconnected",
        vec![json!(height), json!(hex_encode(&header.encode())), txs],
    )
}

/// `filteredblockdisconnected [height, header hex]`.
pub fn filtered_block_disconnected(height: u32, header: &BlockHeader) -> Value {
    notification(
        "filteredblockdisconnected",
        vec![json!(height), json!(hex_encode(&header.encode()))],
    )
}

/// Where a transaction was mined, btcd's `BlockDetails`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlockDetails {
    /// The block's height.
    pub height: u32,
    /// The block's hash.
    pub hash: BlockHash,
    /// The transaction's index in the block.
    pub index: usize,
    /// The block's header time.
    pub time: u32,
}

impl BlockDetails {
    /// The details of transaction `index` of `block` at `height`.
    pub fn of(block: &Block, height: u32, index: usize) -> Self {
        BlockDetails {
            height,
            hash: block.block_hash(),
            index,
            time: block.header.time,
        }
    }

    fn to_json(self) -> Value {
        json!({
            "height": self.height,
            "hash": self.hash.to_string(),
            "index": self.index,
            "time": self.time,
        })
    }
}

/// The parameters of `recvtx`/`redeemingtx`: the details are left out for a mempool
/// transaction, as btcd omits a trailing nil optional parameter.
fn tx_with_block(tx_hex: &str, block: Option<BlockDetails>) -> Vec<Value> {
    let mut params = vec![json!(tx_hex)];
    params.extend(block.map(BlockDetails::to_json));
    params
}

/// `recvtx [tx hex, (block details)]`: a transaction paid a watched address.
pub fn recv_tx(tx_hex: &str, block: Option<BlockDetails>) -> Value {
    notification("recvtx", tx_with_block(tx_hex, block))
}

/// `redeemingtx [tx hex, (block details)]`: a transaction spent a watched outpoint.
pub fn redeeming_tx(tx_hex: &str, block: Option<BlockDetails>) -> Value {
    notification("redeemingtx", tx_with_block(tx_hex, block))
}

/// `rescanprogress [hash, height, time]` of the last block a rescan went through.
pub fn rescan_progress(hash: &BlockHash, height: u32, time: u32) -> Value {
    notification(
        "rescanprogress",
        vec![json!(hash.to_string()), json!(height), json!(time)],
    )
}

/// `rescanfinished [hash, height, time]` of the last block a rescan went through.
pub fn rescan_finished(hash: &BlockHash, height: u32, time: u32) -> Value {
    notification(
        "rescanfinished",
        vec![json!(hash.to_string()), json!(height), json!(time)],
    )
}

/// `txaccepted [txid, amount]`: the amount is the sum of the outputs, in BTC.
pub fn tx_accepted(tx: &Transaction) -> Value {
    let amount: i64 = tx.outputs.iter().map(|o| o.value).sum();
    notification(
        "txaccepted",
        vec![json!(tx.txid().to_string()), json!(btc(amount))],
    )
}

/// `txacceptedverbose [rawtx]`: the transaction as `getrawtransaction` verbose shows an
/// unmined one.
pub fn tx_accepted_verbose(tx: &Transaction, params: &ChainParams) -> Value {
    notification("txacceptedverbose", vec![tx_raw_result(tx, params, None)])
}

/// `relevanttxaccepted [tx hex]`: a mempool transaction matched the client's filter.
pub fn relevant_tx_accepted(tx_hex: &str) -> Value {
    notification("relevanttxaccepted", vec![json!(tx_hex)])
}

/// A transaction's serialization in hex, as notifications carry it.
pub fn tx_hex(tx: &Transaction) -> String {
    hex_encode(&tx.encode())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::builder::spend;
    use crate::params::Network;
    use crate::primitives::{OutPoint, Txid};

    #[test]
    fn block_notifications_have_btcds_positional_shapes() {
        let params = ChainParams::new(Network::Regtest);
        let header = params.genesis.header;
        let hash = header.block_hash();
        let n = block_connected(&hash, 7, 1_296_688_602);
        assert_eq!(n["jsonrpc"], "1.0");
        assert!(n["id"].is_null());
        assert_eq!(n["method"], "blockconnected");
        assert_eq!(n["params"], json!([hash.to_string(), 7, 1_296_688_602]));
        let d = block_disconnected(&hash, 7, 5);
        assert_eq!(d["method"], "blockdisconnected");
        assert_eq!(d["params"], json!([hash.to_string(), 7, 5]));
        let f = filtered_block_connected(3, &header, &[]);
        assert_eq!(f["params"][0], 3);
        assert_eq!(
            f["params"][1].as_str().unwrap().len(),
            160,
            "80-byte header"
        );
        assert!(f["params"][2].is_null(), "btcd sends null for no matches");
        let f = filtered_block_connected(3, &header, &["ab".into()]);
        assert_eq!(f["params"][2], json!(["ab"]));
        let fd = filtered_block_disconnected(3, &header);
        assert_eq!(fd["params"].as_array().unwrap().len(), 2);
    }

    #[test]
    fn transaction_notifications_carry_amounts_in_btc_and_optional_block_details() {
        let params = ChainParams::new(Network::Regtest);
        let tx = spend(&[OutPoint::new(Txid::ZERO, 0)], &[150_000_000, 25_000_000]);
        let n = tx_accepted(&tx);
        assert_eq!(n["params"], json!([tx.txid().to_string(), 1.75]));
        let v = tx_accepted_verbose(&tx, &params);
        assert_eq!(v["params"][0]["txid"], tx.txid().to_string());
        assert_eq!(v["params"][0]["vout"].as_array().unwrap().len(), 2);
        assert!(v["params"][0].get("blockhash").is_none());
        let hex = tx_hex(&tx);
        assert_eq!(recv_tx(&hex, None)["params"], json!([hex]));
        let block = params.genesis.clone();
        let details = BlockDetails::of(&block, 0, 0);
        let r = redeeming_tx(&hex, Some(details));
        assert_eq!(r["method"], "redeemingtx");
        assert_eq!(
            r["params"][1],
            json!({"height": 0, "hash": block.block_hash().to_string(), "index": 0, "time": block.header.time})
        );
        assert_eq!(relevant_tx_accepted(&hex)["params"], json!([hex]));
    }
}
