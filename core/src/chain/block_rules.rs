//! Block rules: the ones a block must meet on its own (`check_block_sanity`) and the ones that
//! depend on its place in the chain (`check_block_context`). Rules needing the UTXO set are in
//! [`super::connect`].

use super::error::RuleError;
use super::tx_rules::{check_transaction_sanity, is_final, MAX_BLOCK_WEIGHT};
use crate::params::Params;
use crate::primitives::hash::sha256d;
use crate::primitives::{Block, TxOut};

/// Scripts of a BIP141 witness commitment output start with OP_RETURN, a 36-byte push and this
/// tag.
pub const WITNESS_COMMITMENT_PREFIX: [u8; 6] = [0x6a, 0x24, 0xaa, 0x21, 0xa9, 0xed];

/// Checks what a block must satisfy wherever it sits: transactions present, sizes, exactly one
/// coinbase first, every transaction's sanity, and the merkle root (rejecting the CVE-2012-2459
/// duplicate-transaction mutation).
pub fn check_block_sanity(block: &Block) -> Result<(), RuleError> {
    let txs = &block.txdata;
    if txs.is_empty() {
        return Err(RuleError::NoTransactions);
    }
    if txs.len() * 4 > MAX_BLOCK_WEIGHT || block.base_size() * 4 > MAX_BLOCK_WEIGHT {
        return Err(RuleError::BadBlockLength);
    }
    if !txs[0].is_coinbase() {
        return Err(RuleError::FirstTxNotCoinbase);
    }
    if let Some(i) = txs.iter().skip(1).position(|t| t.is_coinbase()) {
        return Err(RuleError::MultipleCoinbases(i + 1));
    }
    // The merkle root first: a mutated copy of a valid block must not be judged by its contents.
    let (root, mutated) = block.compute_merkle_root();
    // The simulator's planted-bug check turns this rule off to show it finds the breakage.
    if root != block.header.merkle_root && !cfg!(feature = "planted-bug-merkle") {
        return Err(RuleError::BadMerkleRoot);
    }
    if mutated {
        return Err(RuleError::DuplicateTransactions);
    }
    txs.iter().try_for_each(check_transaction_sanity)
}

/// The scriptSig prefix BIP34 requires: the height as a minimal script number push.
pub fn coinbase_height_prefix(height: u32) -> Vec<u8> {
    match height {
        0 => vec![0x00],
        1..=16 => vec![0x50 + height as u8],
        _ => {
            let mut n = height.to_le_bytes().to_vec();
            while n.last() == Some(&0) {
                n.pop();
            }
            if n.last().is_some_and(|b| b & 0x80 != 0) {
                n.push(0);
            }
            let mut s = vec![n.len() as u8];
            s.extend(n);
            s
        }
    }
}

/// The 32-byte witness commitment of a block, from the last coinbase output carrying one.
pub fn witness_commitment(block: &Block) -> Option<&[u8]> {
    block.txdata.first()?.outputs.iter().rev().find_map(|o| {
        (o.script_pubkey.len() >= 38 && o.script_pubkey.starts_with(&WITNESS_COMMITMENT_PREFIX))
            .then(|| &o.script_pubkey[6..38])
    })
}

/// The commitment value for a witness root and the coinbase's reserved value.
pub fn witness_commitment_hash(witness_root: &[u8; 32], reserved: &[u8]) -> [u8; 32] {
    let mut buf = witness_root.to_vec();
    buf.extend_from_slice(reserved);
    sha256d(&buf)
}

/// Gives `block` a BIP141 witness commitment: an all-zero reserved value as the coinbase's
/// witness and an output committing to the witness merkle root. Done after the last change to
/// the transactions; the coinbase's own txid changes, so the merkle root is computed after.
pub fn add_witness_commitment(block: &mut Block) {
    let reserved = vec![0u8; 32];
    block.txdata[0].inputs[0].witness = vec![reserved.clone()];
    let root = block.compute_witness_merkle_root();
    let mut script = WITNESS_COMMITMENT_PREFIX.to_vec();
    script.extend_from_slice(&witness_commitment_hash(&root.0, &reserved));
    block.txdata[0].outputs.push(TxOut {
        value: 0,
        script_pubkey: script,
    });
}

/// Checks the rules that depend on the block's height and its parent's median time past:
/// finality (BIP113 once CSV is active), BIP34 height in the coinbase, the BIP141 witness
/// commitment, and the weight limit.
pub fn check_block_context(
    block: &Block,
    height: u32,
    parent_mtp: u32,
    params: &Params,
) -> Result<(), RuleError> {
    let cutoff = if height >= params.csv_height {
        parent_mtp
    } else {
        block.header.time
    };
    let finality = !cfg!(feature = "planted-bug-locktime");
    if let Some(tx) = block
        .txdata
        .iter()
        .find(|t| finality && !is_final(t, height, cutoff))
    {
        return Err(RuleError::NonFinalTx(tx.txid()));
    }
    let coinbase = &block.txdata[0];
    if height >= params.bip34_height
        && !cfg!(feature = "planted-bug-coinbase-height")
        && !coinbase.inputs[0]
            .script_sig
            .starts_with(&coinbase_height_prefix(height))
    {
        return Err(RuleError::BadCoinbaseHeight(height));
    }
    let commitment = (height >= params.segwit_height)
        .then(|| witness_commitment(block))
        .flatten();
    match commitment {
        Some(expected) => {
            let witness = &coinbase.inputs[0].witness;
            if witness.len() != 1 || witness[0].len() != 32 {
                return Err(RuleError::BadWitnessNonce);
            }
            let root = block.compute_witness_merkle_root();
            if witness_commitment_hash(&root.0, &witness[0]) != expected {
                return Err(RuleError::BadWitnessCommitment);
            }
        }
        None => {
            if let Some(tx) = block.txdata.iter().find(|t| t.has_witness()) {
                return Err(RuleError::UnexpectedWitness(tx.txid()));
            }
        }
    }
    let weight = block.weight();
    if weight > MAX_BLOCK_WEIGHT {
        return Err(RuleError::BlockTooHeavy(weight));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn height_prefix_is_a_minimal_script_number() {
        assert_eq!(coinbase_height_prefix(5), vec![0x55]);
        assert_eq!(coinbase_height_prefix(17), vec![1, 17]);
        assert_eq!(coinbase_height_prefix(128), vec![2, 0x80, 0]);
        // Mainnet block 227931 (BIP34 activation) starts with 03 5b 7a 03.
        assert_eq!(coinbase_height_prefix(227_931), vec![3, 0x5b, 0x7a, 0x03]);
    }
}
