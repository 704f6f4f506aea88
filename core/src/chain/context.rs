//! What the mempool asks of the chain ([`ChainContext`]), answered from the main chain's tip.

use super::script_check::verify_tx_scripts;
use super::state::Chain;
use super::store::ChainStore;
use super::tx_rules::{check_transaction_sanity, is_final, SequenceLock};
use super::RuleError;
use crate::mempool::{ChainContext, Coin};
use crate::primitives::{OutPoint, Transaction, TxOut};
use crate::script::STANDARD_FLAGS;

impl<S: ChainStore> ChainContext for Chain<S> {
    fn coin(&self, outpoint: &OutPoint) -> Option<Coin> {
        // The trait has no error path: a failing store answers "no coin" (the transaction is
        // refused) and the failure reaches the node through its next write.
        self.unspent(outpoint).unwrap_or_else(|e| {
            log::error!("coin lookup {outpoint:?} failed: {e}");
            None
        })
    }

    fn next_height(&self) -> u32 {
        self.tip().height + 1
    }

    fn coinbase_maturity(&self) -> u32 {
        self.params().coinbase_maturity
    }

    fn check_transaction(&self, tx: &Transaction) -> Result<(), String> {
        check_transaction_sanity(tx).map_err(|e| e.to_string())
    }

    fn is_final(&self, tx: &Transaction) -> bool {
        // Policy always uses the median time past (BIP113), as Core's mempool does.
        let mtp = self.index().median_time_past(&self.tip().hash);
        is_final(tx, self.next_height(), mtp)
    }

    fn sequence_locks_met(&self, tx: &Transaction, coins: &[Coin]) -> bool {
        let height = self.next_height();
        if height < self.params().csv_height {
            return true;
        }
        let index = self.index();
        let heights: Vec<u32> = coins.iter().map(|c| c.height).collect();
        let lock = SequenceLock::of(tx, &heights, |h| {
            index
                .main_at(h.saturating_sub(1).min(height - 1))
                .map_or(0, |b| index.median_time_past(b))
        });
        lock.met(height, index.median_time_past(&self.tip().hash))
    }

    fn verify_scripts(&self, tx: &Transaction, spent: &[TxOut]) -> Result<(), (usize, String)> {
        // Relay policy: btcd's standard flags, a superset of every consensus flag.
        verify_tx_scripts(
            tx,
            spent,
            STANDARD_FLAGS,
            Some(&self.options().scripts.sig_cache),
        )
        .map_err(|e| match e {
            RuleError::ScriptFailed { input, reason, .. } => (input, reason),
            other => (0, other.to_string()),
        })
    }
}
