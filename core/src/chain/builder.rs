//! Building and mining blocks on networks with trivial difficulty (regtest, simnet): what
//! tests, benchmarks and the simulator use to make valid (or deliberately broken) blocks.

use super::block_rules::{add_witness_commitment, coinbase_height_prefix};
use crate::params::Params;
use crate::primitives::{Block, BlockHash, BlockHeader, OutPoint, Transaction, TxIn, TxOut};
use crate::script::opcodes::OP_1;

/// The output script anyone can spend with an empty scriptSig.
pub const ANYONE_CAN_SPEND: [u8; 1] = [OP_1];

/// A transaction spending `inputs` into outputs of `values`, all to [`ANYONE_CAN_SPEND`].
pub fn spend(inputs: &[OutPoint], values: &[i64]) -> Transaction {
    Transaction {
        version: 2,
        inputs: inputs
            .iter()
            .map(|op| TxIn {
                prevout: *op,
                script_sig: vec![],
                sequence: u32::MAX,
                witness: vec![],
            })
            .collect(),
        outputs: values
            .iter()
            .map(|v| TxOut {
                value: *v,
                script_pubkey: ANYONE_CAN_SPEND.to_vec(),
            })
            .collect(),
        lock_time: 0,
    }
}

/// A block under construction: header fields, coinbase and transactions.
#[derive(Clone, Debug)]
pub struct BlockBuilder {
    /// The header; `merkle_root` and `nonce` are set by [`build`](Self::build).
    pub header: BlockHeader,
    /// The coinbase: BIP34 height, paying the subsidy to [`ANYONE_CAN_SPEND`].
    pub coinbase: Transaction,
    /// The other transactions.
    pub txs: Vec<Transaction>,
}

impl BlockBuilder {
    /// A block at `height` on `parent` (whose time is `parent_time`), one second later, at the
    /// network's minimum difficulty.
    pub fn new(params: &Params, parent: BlockHash, height: u32, parent_time: u32) -> Self {
        let mut script_sig = coinbase_height_prefix(height);
        // Coinbase scripts need two bytes at least; this also keeps room for tags.
        script_sig.push(0);
        BlockBuilder {
            header: BlockHeader {
                version: 4,
                prev_blockhash: parent,
                merkle_root: Default::default(),
                time: parent_time + 1,
                bits: params.pow_limit_bits,
                nonce: 0,
            },
            coinbase: Transaction {
                version: 1,
                inputs: vec![TxIn {
                    prevout: OutPoint::NULL,
                    script_sig,
                    sequence: u32::MAX,
                    witness: vec![],
                }],
                outputs: vec![TxOut {
                    value: params.subsidy(height),
                    script_pubkey: ANYONE_CAN_SPEND.to_vec(),
                }],
                lock_time: 0,
            },
            txs: Vec::new(),
        }
    }

    /// Appends bytes to the coinbase scriptSig so blocks on the same parent differ.
    pub fn tag(mut self, tag: &[u8]) -> Self {
        self.coinbase.inputs[0].script_sig.extend_from_slice(tag);
        self
    }

    /// Adds a transaction.
    pub fn tx(mut self, tx: Transaction) -> Self {
        self.txs.push(tx);
        self
    }

    /// Adds `fee` to the coinbase output.
    pub fn fees(mut self, fee: i64) -> Self {
        self.coinbase.outputs[0].value += fee;
        self
    }

    /// The block with a witness commitment when any transaction has a witness, its merkle
    /// root, and a nonce meeting its target.
    pub fn build(self) -> Block {
        let mut block = Block {
            header: self.header,
            txdata: std::iter::once(self.coinbase).chain(self.txs).collect(),
        };
        if block.txdata.iter().any(Transaction::has_witness) {
            add_witness_commitment(&mut block);
        }
        finish(&mut block);
        block
    }
}

/// Recomputes the merkle root of `block` and mines it.
pub fn finish(block: &mut Block) {
    block.header.merkle_root = block.compute_merkle_root().0;
    mine(&mut block.header);
}

/// Searches nonces until the header meets its own target (quick only at trivial difficulty).
pub fn mine(header: &mut BlockHeader) {
    let target = header.target().expect("a valid compact target");
    header.nonce = 0;
    while crate::primitives::U256::from_le_bytes(header.block_hash().0) > target {
        header.nonce += 1;
    }
}

/// A regtest-style chain of `blocks` blocks after genesis that carries transactions: once
/// coinbases mature, block `h` splits the coinbase of block `h - maturity` into `fan_out`
/// outputs and spends each output the previous block's split created. Deterministic, so
/// separate processes build the same chain (tests, benchmarks, crash tests).
pub fn spending_chain(params: &Params, blocks: u32, fan_out: u32) -> Vec<Block> {
    let maturity = params.coinbase_maturity;
    let mut chain: Vec<Block> = Vec::with_capacity(blocks as usize);
    let (mut prev, mut prev_time) = (params.genesis_hash, params.genesis.header.time);
    let mut last_split: Option<(crate::primitives::Txid, i64)> = None;
    for height in 1..=blocks {
        let mut bb = BlockBuilder::new(params, prev, height, prev_time);
        if let Some((txid, each)) = last_split.take() {
            for vout in 0..fan_out {
                bb = bb.tx(spend(&[OutPoint::new(txid, vout)], &[each]));
            }
        }
        if height > maturity && fan_out > 0 {
            let coinbase = &chain[(height - maturity - 1) as usize].txdata[0];
            let each = coinbase.outputs[0].value / i64::from(fan_out);
            let split = spend(
                &[OutPoint::new(coinbase.txid(), 0)],
                &vec![each; fan_out as usize],
            );
            last_split = Some((split.txid(), each));
            bb = bb.tx(split);
        }
        let block = bb.build();
        prev = block.block_hash();
        prev_time = block.header.time;
        chain.push(block);
    }
    chain
}

/// `n` blocks on `parent` (which is at `height - 1`), tagged so branches from one parent differ.
pub fn branch(params: &Params, parent: &Block, height: u32, n: u32, tag: &[u8]) -> Vec<Block> {
    let mut out: Vec<Block> = Vec::new();
    let (mut prev, mut time) = (parent.block_hash(), parent.header.time);
    for h in height..height + n {
        let b = BlockBuilder::new(params, prev, h, time).tag(tag).build();
        prev = b.block_hash();
        time = b.header.time;
        out.push(b);
    }
    out
}
