//! RPC command handlers: pure functions from a [`Context`] and positional parameters to a
//! JSON result, in btcd's result shapes and error codes. The adapter supplies the context
//! (the chain and mempool it holds, clocks as plain numbers) and acts on [`Effect`]s.

mod chain;
mod info;
mod mempool;
mod message;
pub mod mining;
mod net;
mod operator;
mod raw_tx;
mod submit;
pub mod tx_json;
mod utxo_set;

use super::error::RpcError;
use super::methods::{Method, Transport};
use super::params::Params;
use crate::chain::{BlockVerdict, Chain, ChainStore};
use crate::mempool::Mempool;
use crate::node::PeerCommand;
use crate::primitives::{Block, BlockHash, Transaction};
use serde_json::Value;

pub use net::{peer_command_error, NetView};

/// Facts about the running node that the chain and mempool do not know.
#[derive(Clone, Debug)]
pub struct NodeInfo {
    /// The daemon's version as (major, minor, patch).
    pub version: (u32, u32, u32),
    /// Unix time the daemon started.
    pub start_time: u64,
    /// Configured SOCKS proxy, or empty.
    pub proxy: String,
    /// The logging subsystem tags `debuglevel show` lists, sorted.
    pub log_subsystems: Vec<&'static str>,
}

/// What a handler reads: borrowed node state and the current time.
pub struct Context<'a, S: ChainStore> {
    /// The block chain.
    pub chain: &'a Chain<S>,
    /// The transaction memory pool.
    pub mempool: &'a Mempool,
    /// Static node facts.
    pub info: &'a NodeInfo,
    /// Connected peers right now.
    pub connections: u32,
    /// Peers, added nodes and traffic.
    pub net: NetView<'a>,
    /// Unix time now.
    pub now: u64,
}

/// Something to do after the handler checked its parameters: changes to the node (applied by
/// [`crate::node::Node::rpc`]) or to the daemon.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Effect {
    /// Shut the daemon down (`stop`).
    Stop,
    /// Offer a transaction to the mempool and relay it (`sendrawtransaction`).
    SubmitTx(Transaction),
    /// Process a block and announce it (`submitblock`).
    SubmitBlock(Block),
    /// Mine this many blocks on the tip right away (`generate`, regtest and simnet).
    Generate(u32),
    /// Apply an operator's verdict on a block (`invalidateblock`, `reconsiderblock`).
    BlockVerdict(BlockHash, BlockVerdict),
    /// Change the logging levels to this `debuglevel` specification; the daemon checks it and
    /// answers -32602 with the reason when it is not valid.
    DebugLevel(String),
    /// Dial, drop or ping peers (`addnode`, `node`, `ping`).
    Peer(PeerCommand),
    /// Answer with up to this many known addresses, drawn at random (`getnodeaddresses`).
    NodeAddresses(usize),
}

/// A handler's answer: the result and any effect to carry out after replying.
#[derive(Clone, Debug, PartialEq)]
pub struct Handled {
    /// The JSON result.
    pub result: Value,
    /// What to do next, if anything.
    pub effect: Option<Effect>,
}

impl From<Value> for Handled {
    fn from(result: Value) -> Self {
        Handled {
            result,
            effect: None,
        }
    }
}

/// Runs an authorized `method` with `params`. Submissions come back as an [`Effect`] the node
/// applies. Methods that need a part of the node these handlers cannot see yet (peer details,
/// the miner) answer -1 "Command unimplemented"; those that need an index rbtcd does not keep answer btcd's error naming
/// the option.
pub fn dispatch<S: ChainStore>(
    ctx: &Context<'_, S>,
    method: &Method,
    params: &[Value],
) -> Result<Handled, RpcError> {
    let p = Params::new(method.name, params);
    let value = match method.name {
        "getbestblock" => chain::get_best_block(ctx, p)?,
        "getbestblockhash" => chain::get_best_block_hash(ctx, p)?,
        "getblock" => chain::get_block(ctx, p)?,
        "getblockchaininfo" => chain::get_blockchain_info(ctx, p)?,
        "getblockcount" => chain::get_block_count(ctx, p)?,
        "getblockhash" => chain::get_block_hash(ctx, p)?,
        "getblockheader" => chain::get_block_header(ctx, p)?,
        "getchaintips" => chain::get_chain_tips(ctx, p)?,
        "getdifficulty" => chain::get_difficulty(ctx, p)?,
        "gettxout" => chain::get_tx_out(ctx, p)?,
        "gettxoutsetinfo" => utxo_set::get_tx_out_set_info(ctx, p)?,
        "getmempoolinfo" => mempool::get_mempool_info(ctx, p)?,
        "getnetworkhashps" => mining::get_network_hash_ps(ctx, p)?,
        "getrawmempool" => mempool::get_raw_mempool(ctx, p)?,
        "testmempoolaccept" => mempool::test_mempool_accept(ctx, p)?,
        "gettxspendingprevout" => mempool::get_tx_spending_prev_out(ctx, p)?,
        "signmessagewithprivkey" => message::sign_message_with_priv_key(ctx, p)?,
        "verifymessage" => message::verify_message(ctx, p)?,
        "decoderawtransaction" => tx_json::decode_raw_transaction(ctx, p)?,
        "decodescript" => tx_json::decode_script(ctx, p)?,
        "createrawtransaction" => raw_tx::create_raw_transaction(ctx, p)?,
        "getrawtransaction" => raw_tx::get_raw_transaction(ctx, p)?,
        "searchrawtransactions" => raw_tx::search_raw_transactions(p)?,
        "getcfilter" | "getcfilterheader" => raw_tx::cfilter(p)?,
        "getheaders" => chain::get_headers(ctx, p)?,
        "getconnectioncount" => {
            p.expect_count(0, 0)?;
            Value::from(ctx.connections)
        }
        "getcurrentnet" => info::get_current_net(ctx, p)?,
        "getinfo" => info::get_info(ctx, p)?,
        "help" => info::help(p, Transport::Http)?,
        "uptime" => info::uptime(ctx, p)?,
        "validateaddress" => info::validate_address(ctx, p)?,
        "version" => info::version(p)?,
        "sendrawtransaction" => return submit::send_raw_transaction(p),
        "submitblock" => return submit::submit_block(p),
        "generate" => return submit::generate(p),
        "debuglevel" => return operator::debug_level(ctx, p),
        "invalidateblock" => return operator::block_verdict(p, BlockVerdict::Invalid),
        "reconsiderblock" => return operator::block_verdict(p, BlockVerdict::Reconsider),
        "verifychain" => operator::verify_chain_rpc(ctx, p)?,
        "addnode" => return net::add_node(ctx, p),
        "node" => return net::node(ctx, p),
        "ping" => return net::ping(p),
        "getnodeaddresses" => return net::get_node_addresses(p),
        "getpeerinfo" => net::get_peer_info(ctx, p)?,
        "getnettotals" => net::get_net_totals(ctx, p)?,
        "getaddednodeinfo" => net::get_added_node_info(ctx, p)?,
        "stop" => {
            p.expect_count(0, 0)?;
            return Ok(Handled {
                result: Value::String("rbtcd stopping.".into()),
                effect: Some(Effect::Stop),
            });
        }
        _ => return Err(RpcError::unimplemented()),
    };
    Ok(value.into())
}

/// `help` over a WebSocket, whose command overview also lists the WebSocket-only commands.
pub fn websocket_help(params: &[Value]) -> Result<Value, RpcError> {
    info::help(Params::new("help", params), Transport::WebSocket)
}

#[cfg(test)]
mod tests;
