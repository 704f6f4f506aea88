//! getblocktemplate answered from the node's template (btcd's `handleGetBlockTemplate`):
//! BIP22 templates and BIP23 proposals.

use crate::chain::proposal::check_block_proposal;
use crate::chain::ChainStore;
use crate::node::Node;
use crate::params::Network;
use crate::primitives::hash::hex_decode;
use crate::primitives::{Block, Decodable};
use crate::rpc::error::{code, RpcError};
use crate::rpc::handlers::mining::{
    decode_long_poll_id, reject_reason, template_result, TemplateRequest,
};
use serde_json::{json, Value};

impl<S: ChainStore> Node<S> {
    /// `getblocktemplate`'s answer: a BIP22 template, or a BIP23 proposal's verdict.
    pub(in crate::node) fn block_template_rpc(
        &mut self,
        request: &TemplateRequest,
    ) -> Result<Value, RpcError> {
        match request.mode.as_str() {
            "proposal" => self.block_proposal(request.data.as_deref()),
            _ => self.block_template(request),
        }
    }

    fn block_template(&mut self, request: &TemplateRequest) -> Result<Value, RpcError> {
        if request.wants_coinbase_txn && self.config().mining_addrs.is_empty() {
            return Err(RpcError::new(
                code::INTERNAL,
                "A coinbase transaction has been requested, but the server has not been \
                 configured with any payment addresses via --miningaddr",
            ));
        }
        let params = self.chain().params();
        let local_net = matches!(params.network, Network::Regtest | Network::Simnet);
        if !local_net && self.peers().is_empty() {
            return Err(RpcError::new(
                code::CLIENT_NOT_CONNECTED,
                "Bitcoin is not connected",
            ));
        }
        if self.chain().tip().height != 0 && !self.is_current() {
            return Err(RpcError::new(
                code::CLIENT_IN_INITIAL_DOWNLOAD,
                "Bitcoin is downloading blocks...",
            ));
        }
        let now_secs = self.now.unix_secs();
        let (template, generated_at) = self.gbt_template();
        let template = template.clone();
        // A long poll naming an older template learns whether work on it may still be
        // submitted; one naming the current template gets it again (btcd would wait for a
        // change; rbtcd's RPC calls cannot wait on the node).
        let submit_old = request
            .long_poll_id
            .as_deref()
            .and_then(decode_long_poll_id)
            .filter(|(prev, at)| {
                *prev != template.block.header.prev_blockhash || *at != generated_at
            })
            .map(|(prev, _)| prev == template.block.header.prev_blockhash);
        Ok(template_result(
            self.chain(),
            &template,
            generated_at,
            now_secs,
            request.wants_coinbase_txn,
            submit_old,
        ))
    }

    fn block_proposal(&mut self, data: Option<&str>) -> Result<Value, RpcError> {
        let hex = data.filter(|d| !d.is_empty()).ok_or_else(|| {
            RpcError::new(
                code::TYPE,
                "Data must contain the hex-encoded serialized block that is being proposed",
            )
        })?;
        let padded = if hex.len() % 2 == 1 {
            format!("0{hex}")
        } else {
            hex.to_string()
        };
        let bytes = hex_decode(&padded).map_err(|_| {
            RpcError::new(
                code::DESERIALIZATION,
                format!("Data must be hexadecimal string (not {padded:?})"),
            )
        })?;
        let block = Block::decode(&bytes).map_err(|e| {
            RpcError::new(code::DESERIALIZATION, format!("Block decode failed: {e}"))
        })?;
        let chain = self.chain();
        if block.header.prev_blockhash != chain.tip().hash {
            return Ok(json!("bad-prevblk"));
        }
        if chain.have_block(&block.block_hash()) {
            return Ok(json!("duplicate"));
        }
        match check_block_proposal(chain, &block, self.now.unix_secs()) {
            Ok(()) => Ok(Value::Null),
            Err(e @ crate::chain::ChainError::Rule(_)) => {
                log::info!("Rejected block proposal: {e}");
                Ok(json!(reject_reason(&e)))
            }
            Err(e) => Err(RpcError::new(
                code::VERIFY,
                format!("Failed to process block proposal: {e}"),
            )),
        }
    }
}
