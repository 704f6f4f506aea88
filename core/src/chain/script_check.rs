//! The seam between validation and the script interpreter: block connection and the mempool
//! both check a transaction's inputs through [`verify_tx_scripts`], under the flags the
//! block's height ([`crate::script::flags_for_height`]) or the relay policy
//! ([`crate::script::STANDARD_FLAGS`]) requires.

use super::error::RuleError;
use crate::primitives::{Transaction, TxOut};
use crate::script::{Flags, TxVerifier};

/// Verifies every input script of `tx`; `spent[i]` is the output input `i` spends.
pub fn verify_tx_scripts(tx: &Transaction, spent: &[TxOut], flags: Flags) -> Result<(), RuleError> {
    TxVerifier::new(tx, spent)
        .verify_all(flags)
        .map_err(|(input, e)| RuleError::ScriptFailed {
            txid: tx.txid(),
            input,
            reason: e.to_string(),
        })
}
