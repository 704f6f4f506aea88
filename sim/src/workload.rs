//! The load: a premined chain whose coinbases anyone can spend, a wallet that turns them into a
//! steady stream of standard transactions, and block mining on a node's own template.

use crate::store::SimStore;
use rbtcd_core::address::{Address, Payload, WitnessProgram};
use rbtcd_core::chain::builder::spend;
use rbtcd_core::chain::MemStore;
use rbtcd_core::harness::mine_chain_to;
use rbtcd_core::mining::{new_block_template, search, BlockTemplate};
use rbtcd_core::node::Node;
use rbtcd_core::params::Params;
use rbtcd_core::primitives::hash::sha256;
use rbtcd_core::primitives::{Block, OutPoint, Transaction};
use std::collections::VecDeque;
use std::sync::OnceLock;

/// The witness script every simulated coin pays to: `OP_1`, so no keys are needed, yet spends
/// go through the segwit v0 interpreter and count as standard.
pub const WITNESS_SCRIPT: [u8; 1] = [0x51];
/// Blocks mined before the simulation starts: coinbases of the first 100 are mature at once.
pub const PREMINED: u32 = 200;
/// Fee of each workload transaction, satoshis.
pub const FEE: i64 = 20_000;
/// Weight limit of simulated blocks.
pub const BLOCK_MAX_WEIGHT: usize = 1_000_000;

/// The P2WSH output script of [`WITNESS_SCRIPT`].
pub fn p2wsh() -> Vec<u8> {
    let mut s = vec![0, 32];
    s.extend(sha256(&WITNESS_SCRIPT));
    s
}

/// The address miners pay to.
pub fn mining_address(params: &Params) -> Address {
    let program = WitnessProgram::new(0, sha256(&WITNESS_SCRIPT).to_vec())
        .expect("a 32-byte v0 program is valid");
    Address::new(Payload::Witness(program), params)
}

/// The premined chain every node starts from (built once per process: it does not depend on
/// the seed) and its blocks.
pub fn premined(params: &Params) -> &'static (MemStore, Vec<Block>) {
    static CHAIN: OnceLock<(MemStore, Vec<Block>)> = OnceLock::new();
    CHAIN.get_or_init(|| mine_chain_to(params, PREMINED, b"sim", &p2wsh()))
}

/// Spendable outputs and the transactions made from them.
pub struct Wallet {
    coins: VecDeque<(OutPoint, i64)>,
}

impl Wallet {
    /// A wallet holding the mature premined coinbases.
    pub fn new(blocks: &[Block], maturity: u32) -> Wallet {
        let mature = blocks.len().saturating_sub(maturity as usize);
        let coins = blocks[..mature]
            .iter()
            .map(|b| {
                (
                    OutPoint::new(b.txdata[0].txid(), 0),
                    b.txdata[0].outputs[0].value,
                )
            })
            .collect();
        Wallet { coins }
    }

    /// The next transaction: spends the oldest coin into two (or one, when small), paying
    /// [`FEE`]; its outputs become coins. `None` once the wallet is empty.
    pub fn next_tx(&mut self) -> Option<Transaction> {
        let (outpoint, value) = self.coins.pop_front()?;
        let left = value - FEE;
        if left <= FEE {
            return self.next_tx();
        }
        let values = if left > 100 * FEE {
            vec![left / 2, left - left / 2]
        } else {
            vec![left]
        };
        let mut tx = spend(&[outpoint], &values);
        for out in &mut tx.outputs {
            out.script_pubkey = p2wsh();
        }
        tx.inputs[0].witness = vec![WITNESS_SCRIPT.to_vec()];
        let txid = tx.txid();
        for (vout, v) in values.iter().enumerate() {
            self.coins.push_back((OutPoint::new(txid, vout as u32), *v));
        }
        Some(tx)
    }
}

/// A template on `node`'s tip with its mempool, at `now_secs`, unique to `extra_nonce`.
pub fn template(node: &Node<SimStore>, now_secs: u64, extra_nonce: u64) -> BlockTemplate {
    let params = node.chain().params();
    let mut t = new_block_template(
        node.chain(),
        node.mempool().entries(),
        &mining_address(params),
        BLOCK_MAX_WEIGHT,
        now_secs,
    );
    t.set_extra_nonce(extra_nonce);
    t
}

/// Solves `block`'s header at its own target with the real nonce search (instant at regtest
/// difficulty; the simulated hash rate decides *when* a block is found, not this search).
pub fn solve(block: &mut Block) {
    let job = rbtcd_core::mining::MiningJob::new(0, &block.header).expect("a valid target");
    let nonce = search(&job, 0..=u32::MAX).expect("regtest difficulty has solutions");
    block.header = job.solved_header(nonce);
}
