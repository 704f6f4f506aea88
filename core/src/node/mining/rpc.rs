//! Mining RPCs answered by the node (btcd's handlers of the same names): the CPU miner's
//! switch and figures, and getblocktemplate.

use crate::chain::proposal::check_block_proposal;
use crate::chain::ChainStore;
use crate::node::{Node, Time};
use crate::params::Network;
use crate::primitives::hash::hex_decode;
use crate::primitives::{Block, Decodable};
use crate::rpc::error::{code, RpcError};
use crate::rpc::handlers::mining::{
    decode_long_poll_id, difficulty, invalid_mode, network_hash_ps, reject_reason,
    template_request, template_result, TemplateRequest,
};
use crate::rpc::handlers::Handled;
use crate::rpc::params::Params;
use serde_json::{json, Value};

/// btcd's refusal to mine without somewhere to pay.
fn no_mining_addresses() -> RpcError {
    RpcError::new(
        code::INTERNAL,
        "No payment addresses specified via --miningaddr",
    )
}

impl<S: ChainStore> Node<S> {
    /// Answers `method` at `now` (ms) when it is a mining call; `None` for other methods.
    pub(in crate::node) fn mining_rpc(
        &mut self,
        now: Time,
        method: &str,
        params: &[Value],
    ) -> Option<Result<Handled, RpcError>> {
        let p = Params::new(method, params);
        self.observe_time(now);
        let result = match method {
            "setgenerate" => self.rpc_set_generate(p),
            "getgenerate" => p.expect_count(0, 0).map(|_| json!(self.is_generating())),
            "gethashespersec" => p
                .expect_count(0, 0)
                .map(|_| json!(self.hashes_per_sec() as i64)),
            "getmininginfo" => self.rpc_get_mining_info(p),
            "getblocktemplate" => self.rpc_get_block_template(now, p),
            "estimatefee" => self.rpc_estimate_fee(p),
            _ => return None,
        };
        Some(result.map(Handled::from))
    }

    /// `estimatefee numblocks`: BTC per kilobyte ([`crate::mempool::estimate`]), with btcd's
    /// refusals as internal errors.
    fn rpc_estimate_fee(&self, p: Params) -> Result<Value, RpcError> {
        p.expect_count(1, 1)?;
        let n = p.i64(0, "numblocks")?;
        if n <= 0 {
            return Err(RpcError::new(
                code::INTERNAL,
                "Parameter NumBlocks must be positive",
            ));
        }
        let target = u32::try_from(n).unwrap_or(u32::MAX);
        self.estimate_fee(target)
            .map(|sat_per_kvb| json!(sat_per_kvb as f64 / 1e8))
            .map_err(|e| RpcError::new(code::INTERNAL, e.to_string()))
    }

    /// `setgenerate generate (genproclimit=-1)`: 0 threads means off; -1 the configured count.
    fn rpc_set_generate(&mut self, p: Params) -> Result<Value, RpcError> {
        p.expect_count(1, 2)?;
        let generate = p
            .get(0)
            .and_then(Value::as_bool)
            .ok_or_else(|| RpcError::invalid_params("generate must be a boolean"))?;
        let limit = p.opt_i64(1, "genproclimit")?.unwrap_or(-1);
        let generate = generate && limit != 0;
        if !generate {
            let threads = self.generate_threads();
            self.set_generate(false, threads);
            return Ok(Value::Null);
        }
        if self.config().mining_addrs.is_empty() {
            return Err(no_mining_addresses());
        }
        let threads = match u32::try_from(limit) {
            Ok(n) => n,
            Err(_) => self.config().gen_proc_limit,
        };
        self.set_generate(true, threads);
        Ok(Value::Null)
    }

    /// `getmininginfo`: btcd's non-wallet fields.
    fn rpc_get_mining_info(&mut self, p: Params) -> Result<Value, RpcError> {
        p.expect_count(0, 0)?;
        let chain = self.chain();
        let tip = *chain.tip();
        let block = chain
            .store()
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
            "generate": self.is_generating(),
            "genproclimit": self.generate_threads(),
            "hashespersec": self.hashes_per_sec(),
            "networkhashps": network_hash_ps(chain, 120, -1),
            "pooledtx": self.mempool().len(),
            "testnet": matches!(network, Network::Testnet3 | Network::Testnet4),
        }))
    }

    /// `getblocktemplate ({request})`: BIP22 templates and BIP23 proposals, as btcd.
    fn rpc_get_block_template(&mut self, now: Time, p: Params) -> Result<Value, RpcError> {
        let request = template_request(&p)?;
        match request.mode.as_str() {
            "template" => self.block_template(now, &request),
            "proposal" => self.block_proposal(now, request.data.as_deref()),
            _ => Err(invalid_mode()),
        }
    }

    fn block_template(&mut self, now: Time, request: &TemplateRequest) -> Result<Value, RpcError> {
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
        let now_secs = now / 1000;
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

    fn block_proposal(&mut self, now: Time, data: Option<&str>) -> Result<Value, RpcError> {
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
        match check_block_proposal(chain, &block, now / 1000) {
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
