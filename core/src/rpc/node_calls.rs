//! RPC calls answered by the node: the handlers read the node's state through a
//! [`Context`], and what they ask to change (submissions) is applied here, on the node, so
//! the daemon, the simulator and tests all go through the same path.

use super::error::{code, RpcError};
use super::handlers::{self, Context, Effect, Handled, NodeInfo};
use super::methods::Method;
use crate::chain::{ChainError, ChainStore, Placement};
use crate::mempool::{Accepted, RejectReason};
use crate::node::{Node, Time};
use serde_json::Value;

impl<S: ChainStore> Node<S> {
    /// Answers an authorized `method` call at `now` (ms). A returned [`Effect::Stop`] is for
    /// the driver to carry out after replying; every other effect has been applied.
    pub fn rpc(
        &mut self,
        now: Time,
        method: &Method,
        params: &[Value],
        info: &NodeInfo,
    ) -> Result<Handled, RpcError> {
        let ctx = Context {
            chain: self.chain(),
            mempool: self.mempool(),
            info,
            connections: self.peers().len() as u32,
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
            Some(Effect::Stop) | None => Ok(handled),
        }
    }
}
