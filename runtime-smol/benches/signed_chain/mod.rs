//! The signature-heavy regtest chain the sync and connect benches share (issue 13), built
//! deterministically: 100 empty blocks, one block splitting a matured coinbase into outputs
//! paying one key as P2PKH, P2WPKH and P2TR, then blocks of `txs` transactions each spending
//! the outputs the same transaction spent in the block before (1 or 2 inputs, P2PKH, P2WPKH
//! and P2TR key path in turn, no fee).

use crate::signing::{script_pubkey, sign, Kind, SPENT_VALUE};
use rayon::prelude::*;
use rbtcd_core::chain::builder::{spend, BlockBuilder};
use rbtcd_core::params::Params;
use rbtcd_core::primitives::{Block, OutPoint, Transaction, TxOut};
use secp256k1::SecretKey;

/// How many inputs transaction `t` of a block spends: 1, 2, 2, 2 in turn (1.75 on average).
fn inputs_of(t: usize) -> usize {
    if t.is_multiple_of(4) {
        1
    } else {
        2
    }
}

/// How transaction `t` of a block signs (and so what its outputs pay).
fn kind_of(t: usize) -> Kind {
    Kind::ALL[t % Kind::ALL.len()]
}

/// `n` outputs of [`SPENT_VALUE`] paying `key` as `kind`.
fn payments(kind: Kind, key: &SecretKey, n: usize) -> Vec<TxOut> {
    let script = script_pubkey(kind, key);
    (0..n)
        .map(|_| TxOut {
            value: SPENT_VALUE,
            script_pubkey: script.clone(),
        })
        .collect()
}

/// Every output of `tx`.
fn outpoints(tx: &Transaction) -> Vec<OutPoint> {
    let txid = tx.txid();
    (0..tx.outputs.len() as u32)
        .map(|vout| OutPoint::new(txid, vout))
        .collect()
}

/// The chain's shape, (transactions per signed block, signed blocks): the size under
/// `cargo bench`, a short pass when `cargo test` runs the bench.
pub fn shape() -> (usize, usize) {
    match std::env::args().any(|a| a == "--bench") {
        true => (1_500, 50),
        false => (30, 3),
    }
}

/// The chain after genesis: `signed_blocks` blocks of `txs` signed transactions on top of the
/// empty blocks and the split that fund them; and how many signed inputs it holds.
pub fn build_chain(params: &Params, txs: usize, signed_blocks: usize) -> (Vec<Block>, usize) {
    let key = SecretKey::from_slice(&[0x42; 32]).expect("valid key");
    let mut blocks: Vec<Block> = Vec::new();
    let next = |blocks: &[Block]| {
        let (parent, time) = match blocks.last() {
            Some(b) => (b.block_hash(), b.header.time),
            None => (params.genesis_hash, params.genesis.header.time),
        };
        BlockBuilder::new(params, parent, blocks.len() as u32 + 1, time)
    };
    for _ in 0..params.coinbase_maturity {
        blocks.push(next(&blocks).build());
    }
    // The first coinbase (anyone can spend it) split into every transaction's first inputs;
    // the rest of its value goes to the miner as fee.
    let coinbase = &blocks[0].txdata[0];
    let mut split = spend(&[OutPoint::new(coinbase.txid(), 0)], &[]);
    split.outputs = (0..txs)
        .flat_map(|t| payments(kind_of(t), &key, inputs_of(t)))
        .collect();
    let fee = coinbase.outputs[0].value - SPENT_VALUE * split.outputs.len() as i64;
    let split_outs = outpoints(&split);
    blocks.push(next(&blocks).tx(split).fees(fee).build());
    let mut funding: Vec<Vec<OutPoint>> = Vec::with_capacity(txs);
    let mut rest = &split_outs[..];
    for t in 0..txs {
        let (mine, others) = rest.split_at(inputs_of(t));
        funding.push(mine.to_vec());
        rest = others;
    }
    let mut signed_inputs = 0;
    for _ in 0..signed_blocks {
        let signed: Vec<Transaction> = funding
            .par_iter()
            .enumerate()
            .map(|(t, inputs)| {
                let mut template = spend(inputs, &[]);
                template.outputs = payments(kind_of(t), &key, inputs.len());
                sign(&template, kind_of(t), &key).tx
            })
            .collect();
        signed_inputs += signed.iter().map(|tx| tx.inputs.len()).sum::<usize>();
        funding = signed.iter().map(outpoints).collect();
        let mut bb = next(&blocks);
        bb.txs = signed;
        blocks.push(bb.build());
    }
    (blocks, signed_inputs)
}
