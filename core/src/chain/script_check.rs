//! The seam between block validation and script execution.
//!
//! The script interpreter is being written separately; until it is merged, the chain does NOT
//! verify scripts. [`verify_tx_scripts`] is the single call site both block connection and the
//! mempool go through, so merging the interpreter means replacing its body only.

use super::error::RuleError;
use crate::params::Params;
use crate::primitives::{Transaction, TxOut};
use crate::script::Flags;

/// The consensus script flags for a block at `height`. P2SH is applied from genesis: mainnet's
/// BIP16 switch-over predates every block whose outputs could tell the difference here.
pub fn script_flags(params: &Params, height: u32) -> Flags {
    let mut f = Flags::P2SH;
    if height >= params.bip66_height {
        f = f | Flags::DERSIG;
    }
    if height >= params.bip65_height {
        f = f | Flags::CHECKLOCKTIMEVERIFY;
    }
    if height >= params.csv_height {
        f = f | Flags::CHECKSEQUENCEVERIFY;
    }
    if height >= params.segwit_height {
        f = f | Flags::WITNESS | Flags::NULLDUMMY;
    }
    if height >= params.taproot_height {
        f = f | Flags::TAPROOT;
    }
    f
}

/// Verifies every input script of `tx`; `spent[i]` is the output input `i` spends.
///
/// PLACEHOLDER until the script interpreter lands: accepts every script. Nothing in rbtcd
/// validates scripts yet.
pub fn verify_tx_scripts(
    _tx: &Transaction,
    _spent: &[TxOut],
    _flags: Flags,
) -> Result<(), RuleError> {
    Ok(())
}
