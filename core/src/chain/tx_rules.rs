//! Transaction rules: context-free sanity, finality (lock time) and BIP68 sequence locks.

use super::error::RuleError;
use crate::primitives::transaction::MAX_MONEY;
use crate::primitives::Transaction;
use std::collections::BTreeSet;

/// Largest block weight (BIP141), which bounds a transaction's size too.
pub const MAX_BLOCK_WEIGHT: usize = 4_000_000;
/// Lock times below this are heights, at or above it unix times.
pub const LOCKTIME_THRESHOLD: u32 = 500_000_000;
/// Sequence bit that switches BIP68 off for an input.
pub const SEQUENCE_LOCKTIME_DISABLE_FLAG: u32 = 1 << 31;
/// Sequence bit that makes a BIP68 lock count time (units of 512 s) instead of blocks.
pub const SEQUENCE_LOCKTIME_TYPE_FLAG: u32 = 1 << 22;
/// Bits of the sequence holding the BIP68 lock value.
pub const SEQUENCE_LOCKTIME_MASK: u32 = 0x0000_ffff;
/// BIP68 time locks count in units of 2^9 seconds.
const SEQUENCE_LOCKTIME_GRANULARITY: u32 = 9;

/// Rules a transaction must follow whatever the chain (Core's `CheckTransaction`).
pub fn check_transaction_sanity(tx: &Transaction) -> Result<(), RuleError> {
    let txid = tx.txid();
    if tx.inputs.is_empty() {
        return Err(RuleError::NoInputs(txid));
    }
    if tx.outputs.is_empty() {
        return Err(RuleError::NoOutputs(txid));
    }
    if tx.base_size() * 4 > MAX_BLOCK_WEIGHT {
        return Err(RuleError::TxTooBig(txid));
    }
    let mut total: i64 = 0;
    for o in &tx.outputs {
        if !(0..=MAX_MONEY).contains(&o.value) {
            return Err(RuleError::BadOutputValue(txid));
        }
        total += o.value;
        if total > MAX_MONEY {
            return Err(RuleError::BadOutputTotal(txid));
        }
    }
    let mut seen = BTreeSet::new();
    if !tx.inputs.iter().all(|i| seen.insert(i.prevout)) {
        return Err(RuleError::DuplicateInputs(txid));
    }
    if tx.is_coinbase() {
        if !(2..=100).contains(&tx.inputs[0].script_sig.len()) {
            return Err(RuleError::BadCoinbaseScriptLength(txid));
        }
    } else if tx.inputs.iter().any(|i| i.prevout.is_null()) {
        return Err(RuleError::NullPrevout(txid));
    }
    Ok(())
}

/// True when `tx` may be in a block at `height` whose lock-time cutoff is `cutoff_time` (the
/// parent's median time past once BIP113 is active, the block time before).
pub fn is_final(tx: &Transaction, height: u32, cutoff_time: u32) -> bool {
    if tx.lock_time == 0 {
        return true;
    }
    let limit = if tx.lock_time < LOCKTIME_THRESHOLD {
        height
    } else {
        cutoff_time
    };
    tx.lock_time < limit || tx.inputs.iter().all(|i| i.sequence == u32::MAX)
}

/// The earliest block a transaction's BIP68 locks allow: it must be above `min_height` and its
/// parent's median time past above `min_time` (both -1 when unconstrained).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct SequenceLock {
    /// The lock holds while the block height is at most this.
    pub min_height: i64,
    /// The lock holds while the parent's median time past is at most this.
    pub min_time: i64,
}

impl SequenceLock {
    /// Computes the locks of `tx`; `coin_heights[i]` is the height of the output input `i`
    /// spends and `mtp_before(h)` the median time past of the block at height `h - 1` (BIP68
    /// measures time locks from the parent of the coin's block).
    pub fn of(tx: &Transaction, coin_heights: &[u32], mtp_before: impl Fn(u32) -> u32) -> Self {
        let mut lock = SequenceLock {
            min_height: -1,
            min_time: -1,
        };
        if tx.version < 2 || tx.is_coinbase() {
            return lock;
        }
        for (input, &height) in tx.inputs.iter().zip(coin_heights) {
            if input.sequence & SEQUENCE_LOCKTIME_DISABLE_FLAG != 0 {
                continue;
            }
            let value = (input.sequence & SEQUENCE_LOCKTIME_MASK) as i64;
            if input.sequence & SEQUENCE_LOCKTIME_TYPE_FLAG != 0 {
                let base = mtp_before(height) as i64;
                let t = base + (value << SEQUENCE_LOCKTIME_GRANULARITY) - 1;
                lock.min_time = lock.min_time.max(t);
            } else {
                lock.min_height = lock.min_height.max(height as i64 + value - 1);
            }
        }
        lock
    }

    /// True when a block at `height` whose parent has median time past `parent_mtp` satisfies
    /// the locks.
    pub fn met(&self, height: u32, parent_mtp: u32) -> bool {
        self.min_height < height as i64 && self.min_time < parent_mtp as i64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::primitives::{Hash256, OutPoint, TxIn, TxOut};

    fn tx(seq: u32, lock_time: u32) -> Transaction {
        Transaction {
            version: 2,
            inputs: vec![TxIn {
                prevout: OutPoint::new(Hash256([1; 32]), 0),
                script_sig: vec![],
                sequence: seq,
                witness: vec![],
            }],
            outputs: vec![TxOut {
                value: 1,
                script_pubkey: vec![],
            }],
            lock_time,
        }
    }

    #[test]
    fn lock_time_by_height_and_time() {
        assert!(is_final(&tx(0, 0), 1, 0));
        assert!(!is_final(&tx(0, 10), 10, 0));
        assert!(is_final(&tx(0, 10), 11, 0));
        assert!(is_final(&tx(u32::MAX, 10), 1, 0));
        assert!(!is_final(
            &tx(0, LOCKTIME_THRESHOLD + 5),
            1,
            LOCKTIME_THRESHOLD + 5
        ));
        assert!(is_final(
            &tx(0, LOCKTIME_THRESHOLD + 5),
            1,
            LOCKTIME_THRESHOLD + 6
        ));
    }

    #[test]
    fn sequence_locks_by_height_and_time() {
        let l = SequenceLock::of(&tx(5, 0), &[100], |_| 0);
        assert_eq!(l.min_height, 104);
        assert!(!l.met(104, 0) && l.met(105, 0));
        let l = SequenceLock::of(&tx(SEQUENCE_LOCKTIME_TYPE_FLAG | 2, 0), &[100], |h| h * 10);
        assert_eq!(l.min_time, 1000 + 1024 - 1);
        assert!(!l.met(200, 2023) && l.met(200, 2024));
        let mut v1 = tx(5, 0);
        v1.version = 1;
        assert!(SequenceLock::of(&v1, &[100], |_| 0).met(1, 0));
        assert!(
            SequenceLock::of(&tx(SEQUENCE_LOCKTIME_DISABLE_FLAG | 5, 0), &[100], |_| 0).met(1, 0)
        );
    }
}
