//! Why a transaction was not accepted into the mempool.

use crate::primitives::{OutPoint, Txid};
use std::fmt;

/// A rejected transaction, with btcd's reject reasons. Variants that a peer could only cause by
/// sending invalid data are distinguished from policy refusals so the node can decide whether to
/// raise the peer's ban score.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RejectReason {
    /// Already in the mempool.
    AlreadyHave(Txid),
    /// Already held as an orphan.
    AlreadyOrphan(Txid),
    /// A coinbase cannot be relayed loose.
    Coinbase,
    /// Fails a consensus rule (the chain's context-free or contextual checks).
    Invalid(String),
    /// Spends a coinbase output before it matured: valid again a few blocks on, so not the
    /// sender's fault (its tip may be ahead of ours).
    PrematureSpend(String),
    /// Script verification failed.
    ScriptFailed { input: usize, reason: String },
    /// Spends an output another mempool transaction already spends.
    Conflict { outpoint: OutPoint, spender: Txid },
    /// Spends outputs of a transaction already in the chain that are spent or never existed.
    AlreadySpentOrMissing(OutPoint),
    /// Not final at the next block's height and time.
    NotFinal,
    /// Fails BIP68 relative lock times.
    SequenceLocks,
    /// Non-standard: the text says which policy rule.
    NonStandard(String),
    /// Pays less than `minrelaytxfee` requires.
    InsufficientFee { fee: i64, required: i64 },
    /// Orphan too large to keep.
    OrphanTooLarge(usize),
}

impl RejectReason {
    /// True when only a transaction invalid in every context causes this, so relaying it is
    /// misbehaviour (Core punishes `TX_CONSENSUS`). Script failures are not counted: scripts are
    /// checked under the stricter standard flags, which a valid transaction may fail.
    pub fn is_invalid(&self) -> bool {
        matches!(self, RejectReason::Invalid(_) | RejectReason::Coinbase)
    }
}

impl fmt::Display for RejectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RejectReason::AlreadyHave(t) => write!(f, "already have transaction {t}"),
            RejectReason::AlreadyOrphan(t) => {
                write!(f, "already have transaction {t} as an orphan")
            }
            RejectReason::Coinbase => write!(f, "transaction is an individual coinbase"),
            RejectReason::Invalid(r) | RejectReason::PrematureSpend(r) => write!(f, "{r}"),
            RejectReason::ScriptFailed { input, reason } => {
                write!(f, "failed to validate input {input}: {reason}")
            }
            RejectReason::Conflict { outpoint, spender } => write!(
                f,
                "output {}:{} already spent by transaction {spender} in the memory pool",
                outpoint.txid, outpoint.vout
            ),
            RejectReason::AlreadySpentOrMissing(op) => {
                write!(
                    f,
                    "output {}:{} already spent or does not exist",
                    op.txid, op.vout
                )
            }
            RejectReason::NotFinal => write!(f, "transaction is not finalized"),
            RejectReason::SequenceLocks => {
                write!(f, "transaction's sequence locks on inputs not met")
            }
            RejectReason::NonStandard(r) => write!(f, "transaction is not standard: {r}"),
            RejectReason::InsufficientFee { fee, required } => write!(
                f,
                "transaction has {fee} fees which is under the required amount of {required}"
            ),
            RejectReason::OrphanTooLarge(n) => {
                write!(
                    f,
                    "orphan transaction size of {n} bytes is larger than max allowed"
                )
            }
        }
    }
}

impl std::error::Error for RejectReason {}
