//! RPC command handlers: functions from a [`Context`] and positional parameters to a JSON
//! result, in btcd's result shapes and error codes, named in the method table
//! ([`crate::rpc::methods`]). The node supplies the context (its chain, mempool, peers and
//! miner, clocks as plain numbers) and carries out the [`Effect`]s handlers ask for.

pub mod block_stats;
pub mod chain;
pub mod info;
pub mod mempool;
pub mod message;
pub mod mining;
pub mod net;
pub mod operator;
pub mod raw_tx;
pub mod session;
pub mod submit;
pub mod tx_json;
pub mod utxo_set;

pub use net::{LocalView, NetView};

use super::caller::Transport;
use super::debug_level::LevelSpec;
use super::view::ChainView;
use crate::address::Address;
use crate::chain::BlockVerdict;
use crate::mempool::estimate::FeeEstimator;
use crate::mempool::Mempool;
use crate::net::ipnet::IpNet;
use crate::net::peer_command::PeerCommand;
use crate::primitives::{Block, BlockHash, Transaction};
use crate::rpc::render::Render;
use crate::rpc::ws::rescan::Rescan;
use crate::time::Time;
use mining::TemplateRequest;
use serde_json::Value;

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
pub struct Context<'a> {
    /// The block chain.
    pub chain: &'a dyn ChainView,
    /// The transaction memory pool.
    pub mempool: &'a Mempool,
    /// Static node facts.
    pub info: &'a NodeInfo,
    /// Peers, added nodes and traffic.
    pub net: NetView<'a>,
    /// The CPU miner's state.
    pub miner: MinerView<'a>,
    /// Unix time now.
    pub now: u64,
    /// Where the call arrived.
    pub transport: Transport,
}

/// The CPU miner as the mining calls read it.
pub struct MinerView<'a> {
    /// Mining is on.
    pub generating: bool,
    /// Threads it mines with (`genproclimit`).
    pub threads: u32,
    /// Threads `setgenerate true` uses when given no count (the configured `genproclimit`).
    pub default_threads: u32,
    /// Hash rate the miner threads last reported.
    pub hashes_per_sec: f64,
    /// Whether any `miningaddr` is configured.
    pub can_pay: bool,
    /// Fee rates of recently mined transactions, for `estimatefee`.
    pub fees: &'a FeeEstimator,
}

/// Something to do after the handler checked its parameters: changes to the node, carried
/// out by the node, whose answer then replaces the handler's result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Effect {
    /// Shut the daemon down (`stop`), after replying.
    Stop,
    /// Offer a transaction to the mempool and relay it (`sendrawtransaction`).
    SubmitTx(Transaction),
    /// Process a block and announce it (`submitblock`).
    SubmitBlock(Block),
    /// Mine blocks on the tip, one at a time between other work, answering when done
    /// (`generate`, `generatetoaddress`; regtest and simnet).
    Generate(Generate),
    /// Apply an operator's verdict on a block (`invalidateblock`, `reconsiderblock`).
    BlockVerdict(BlockHash, BlockVerdict),
    /// Change the logging levels (`debuglevel`; checked already).
    DebugLevel(LevelSpec),
    /// Dial, drop or ping peers (`addnode`, `node`, `ping`).
    Peer(PeerCommand),
    /// Answer with up to this many known addresses, drawn at random (`getnodeaddresses`).
    NodeAddresses(usize),
    /// Ban a network until a time, dropping its peers, or (`None`) lift its ban (`setban`).
    Ban(IpNet, Option<Time>),
    /// Write the pool to `mempool.dat` (`savemempool`).
    SaveMempool,
    /// Lift every ban (`clearbanned`).
    ClearBans,
    /// Turn the CPU miner on with this many threads, or off (`setgenerate`).
    SetGenerate(Option<u32>),
    /// Answer a getblocktemplate request from the node's template.
    BlockTemplate(TemplateRequest),
    /// Scan the chain for a WebSocket client in steps between other work, notifying what it
    /// finds, and answer when done (`rescan`).
    Rescan(Rescan),
    /// Answer with what the render gives: the node runs it inline, or leaves it to its driver
    /// to run beside it ([`crate::node::Output::RpcRender`]).
    Render(Render),
}

/// What a `generate` or `generatetoaddress` call asks to mine.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Generate {
    /// How many blocks.
    pub blocks: u32,
    /// Where their coinbases pay; `None` for one of the configured `miningaddr`s (btcd).
    pub pay_to: Option<Address>,
    /// Nonces that may fail in all before the call answers with the blocks it has (Core's
    /// `maxtries`); `None` for no limit (btcd's `generate`).
    pub max_tries: Option<u64>,
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

impl Handled {
    /// A null result and `effect` for the node to carry out.
    pub fn effect(effect: Effect) -> Self {
        Handled {
            result: Value::Null,
            effect: Some(effect),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests;
