//! RPC calls answered by the node: the handlers read the node's state through a
//! [`Context`], and what they ask to change (submissions) is applied here, on the node, so
//! the daemon, the simulator and tests all go through the same path.

use crate::chain::{ChainError, ChainStore, Placement};
use crate::mempool::{Accepted, RejectReason};
use crate::mining::{new_block_template, search};
use crate::net::connmgr;
use crate::node::{Node, Time};
use crate::primitives::BlockHash;
use crate::rpc::error::{code, RpcError};
use crate::rpc::handlers::{self, Context, Effect, Handled, NodeInfo};
use crate::rpc::methods::Method;
use serde_json::{json, Value};

impl<S: ChainStore> Node<S> {
    /// `generate`: mines `n` blocks on the tip at `now` (regtest and simnet, where a nonce is
    /// found in a few tries) paying to the configured mining addresses, as btcd's RPC does.
    fn generate(&mut self, now: Time, n: u32) -> Result<Vec<BlockHash>, RpcError> {
        let network = self.chain().params().network;
        if !self.chain().params().generate_supported {
            return Err(RpcError::new(
                code::DIFFICULTY,
                format!(
                    "No support for `generate` on the current network, {network}, as it's unlikely to be useful"
                ),
            ));
        }
        if self.is_generating() {
            return Err(RpcError::new(
                code::INTERNAL,
                "Server is already CPU mining. Please call `setgenerate 0` before calling \
                 discrete `generate` commands.",
            ));
        }
        // Not `with_capacity(n)`: `n` comes from the caller and may be billions.
        let mut hashes = Vec::new();
        for id in 0..u64::from(n) {
            let pay_to = self.mining_address().ok_or_else(|| {
                RpcError::new(
                    code::INTERNAL,
                    "No payment addresses specified via --miningaddr",
                )
            })?;
            let template = new_block_template(
                self.chain(),
                self.mempool().entries(),
                &pay_to,
                self.config().block_max_weight,
                now / 1000,
            );
            let mut job = template
                .job(id)
                .map_err(|e| RpcError::new(code::INTERNAL, e.to_string()))?;
            // Each pass over the nonce space rolls the time by a second.
            let nonce = loop {
                if let Some(nonce) = search(&job, 0..=u32::MAX) {
                    break nonce;
                }
                job = job.with_time(job.header().time + 1);
            };
            let block = template.solved_block(job.solved_header(nonce));
            let hash = block.block_hash();
            match self.submit_block(now, block) {
                Ok(_) if self.chain().tip().hash == hash => hashes.push(hash),
                Ok(_) => {
                    return Err(RpcError::new(
                        code::INTERNAL,
                        "generated block not on the tip",
                    ))
                }
                Err(e) => return Err(RpcError::new(code::INTERNAL, e.to_string())),
            }
        }
        Ok(hashes)
    }

    /// Answers an authorized `method` call at `now` (ms). A returned [`Effect::Stop`] or
    /// [`Effect::DebugLevel`] is for the driver to carry out; every other effect has been
    /// applied.
    pub fn rpc(
        &mut self,
        now: Time,
        method: &Method,
        params: &[Value],
        info: &NodeInfo,
    ) -> Result<Handled, RpcError> {
        if let Some(answer) = self.mining_rpc(now, method.name, params) {
            return answer;
        }
        let ctx = Context {
            chain: self.chain(),
            mempool: self.mempool(),
            info,
            connections: self.peers().len() as u32,
            net: self.net_view(now),
            now: now / 1000,
        };
        let handled = handlers::dispatch(&ctx, method, params)?;
        match handled.effect {
            Some(Effect::SubmitTx(tx)) => {
                let txid = tx.txid();
                match self.submit_transaction(now, tx) {
                    Ok(Accepted::Added(_)) => Ok(Value::String(txid.to_string()).into()),
                    Ok(Accepted::Orphan(_)) => Err(RpcError::new(
                        code::VERIFY,
                        "TX rejected: orphan transaction",
                    )),
                    Err(reason @ RejectReason::AlreadyHave(_)) => Err(RpcError::new(
                        code::VERIFY_ALREADY_IN_CHAIN,
                        format!("TX rejected: {reason}"),
                    )),
                    Err(reason) => Err(RpcError::new(
                        code::VERIFY_REJECTED,
                        format!("TX rejected: {reason}"),
                    )),
                }
            }
            // btcd answers null for an accepted block and "rejected: <reason>" otherwise.
            Some(Effect::SubmitBlock(block)) => match self.submit_block(now, block) {
                Ok(Placement::AlreadyHave) => {
                    Ok(Value::String("rejected: duplicate".into()).into())
                }
                Ok(_) => Ok(Value::Null.into()),
                Err(ChainError::Rule(rule)) => {
                    Ok(Value::String(format!("rejected: {rule}")).into())
                }
                Err(e) => Err(RpcError::new(code::DATABASE, e.to_string())),
            },
            Some(Effect::Generate(n)) => self.generate(now, n).map(|hashes| {
                Value::Array(hashes.into_iter().map(|h| h.to_string().into()).collect()).into()
            }),
            Some(Effect::BlockVerdict(hash, verdict)) => self
                .block_verdict(&hash, verdict)
                .map(|()| Value::Null.into())
                .map_err(|e| RpcError::new(code::INTERNAL, e.to_string())),
            Some(Effect::Peer(cmd)) => self
                .peer_command(now, cmd)
                .map(|()| Value::Null.into())
                .map_err(handlers::peer_command_error),
            Some(Effect::NodeAddresses(count)) => Ok(Value::Array(
                self.node_addresses(count)
                    .iter()
                    .filter_map(|e| {
                        let socket = connmgr::to_legacy(e)?.addr.socket_addr();
                        Some(json!({
                            "time": e.time,
                            "services": e.services.0,
                            "address": socket.ip().to_string(),
                            "port": e.port,
                        }))
                    })
                    .collect(),
            )
            .into()),
            Some(Effect::Stop | Effect::DebugLevel(_)) | None => Ok(handled),
        }
    }
}
