//! Replies whose expensive part is left for later: the node answers the cheap part of a call
//! on its own thread (finding a block or transaction and reading its bytes) and hands back a [`Render`], pure
//! data with the pure function that finishes it (decoding and JSON formatting). A driver with
//! threads to spare runs [`ReplyJob::finish`] beside the node, bounded by
//! `rpcmaxconcurrentreqs`, so one client's big `getblock` does not hold every other call behind
//! it; the simulator and fuzzers run the same function inline.

use super::error::{code, RpcError};
use super::handlers::tx_json::{tx_raw_result, TxBlock};
use super::jsonrpc::{self, Version};
use crate::params::{Network, Params};
use crate::primitives::block::Block;
use crate::primitives::encode::{Decodable, Encodable};
use crate::primitives::hash::hex_encode;
use crate::primitives::Transaction;
use serde_json::{json, Map, Value};

/// The expensive rest of one call's answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Render {
    /// A stored block as `getblock` shows it.
    Block(Box<BlockRender>),
    /// A transaction as `getrawtransaction` shows it.
    Transaction(Box<TxRender>),
}

/// A transaction found by `getrawtransaction`, with where it was mined.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TxRender {
    /// The transaction.
    pub tx: Transaction,
    /// Decoded as JSON (else its serialization in hex).
    pub verbose: bool,
    /// Its block, when confirmed.
    pub block: Option<TxBlock>,
    /// The network, for addresses.
    pub network: Network,
}

/// How `getblock` shows a block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlockVerbosity {
    /// The serialized block in hex (0).
    Hex,
    /// The header fields, sizes and txids (1).
    Txids,
    /// The header fields, sizes and each transaction decoded (2).
    Decoded,
}

/// A block found by `getblock`, with what the node knew of it when the call ran.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockRender {
    /// The block as stored.
    pub bytes: Vec<u8>,
    /// What to show.
    pub verbosity: BlockVerbosity,
    /// The fields that come from the block index (hash, height, confirmations, links...).
    pub fields: Map<String, Value>,
    /// The block's place, for its decoded transactions' block fields.
    pub at: TxBlock,
    /// The network, for addresses (a custom signet's challenge does not change them).
    pub network: Network,
}

impl Render {
    /// The call's result.
    pub fn finish(self) -> Result<Value, RpcError> {
        match self {
            Render::Block(block) => block.finish(),
            Render::Transaction(tx) => Ok(tx.finish()),
        }
    }
}

impl BlockRender {
    fn finish(self) -> Result<Value, RpcError> {
        if self.verbosity == BlockVerbosity::Hex {
            return Ok(json!(hex_encode(&self.bytes)));
        }
        // The node stored these bytes after checking them; failing to read them back means the
        // block files are damaged.
        let block = Block::decode(&self.bytes).map_err(|e| {
            RpcError::new(code::DATABASE, format!("Database error: stored block: {e}"))
        })?;
        let mut m = self.fields;
        m.insert("strippedsize".into(), json!(block.base_size()));
        m.insert("size".into(), json!(block.total_size()));
        m.insert("weight".into(), json!(block.weight()));
        if self.verbosity == BlockVerbosity::Txids {
            let txids: Vec<String> = block.txdata.iter().map(|t| t.txid().to_string()).collect();
            m.insert("tx".into(), json!(txids));
        } else {
            let params = Params::new(self.network);
            let txs: Vec<Value> = block
                .txdata
                .iter()
                .map(|t| tx_raw_result(t, &params, Some(&self.at)))
                .collect();
            m.insert("rawtx".into(), json!(txs));
        }
        Ok(Value::Object(m))
    }
}

impl TxRender {
    fn finish(self) -> Value {
        match self.verbose {
            true => tx_raw_result(&self.tx, &Params::new(self.network), self.block.as_ref()),
            false => json!(hex_encode(&self.tx.encode())),
        }
    }
}

/// One reply of a request body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Part {
    /// Answered already: the whole JSON-RPC response object.
    Ready(Value),
    /// Still to be rendered, then answered in `version` with `id`.
    Render {
        /// The request's dialect.
        version: Version,
        /// The request's id.
        id: Value,
        /// What is left to do.
        render: Render,
    },
}

/// A request body's replies, some of them still to render.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplyJob {
    /// The body was a batch (the reply is an array).
    pub batch: bool,
    /// One per request that gets a reply, in order.
    pub parts: Vec<Part>,
}

impl ReplyJob {
    /// Whether any part is still to render.
    pub fn is_deferred(&self) -> bool {
        self.parts.iter().any(|p| matches!(p, Part::Render { .. }))
    }

    /// The reply as JSON: an object, an array for a batch, or nothing when no request had an
    /// id.
    pub fn finish_value(self) -> Option<Value> {
        let mut replies: Vec<Value> = self
            .parts
            .into_iter()
            .map(|part| match part {
                Part::Ready(reply) => reply,
                Part::Render {
                    version,
                    id,
                    render,
                } => jsonrpc::response(version, Some(id), render.finish()),
            })
            .collect();
        match (self.batch, replies.len()) {
            (_, 0) => None,
            (true, _) => Some(Value::Array(replies)),
            (false, _) => Some(replies.swap_remove(0)),
        }
    }

    /// The reply body as sent over HTTP: empty when no request had an id.
    pub fn finish(self) -> String {
        self.finish_value()
            .map_or_else(String::new, |body| body.to_string())
    }
}
