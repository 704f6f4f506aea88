//! Why a header, block or transaction was refused, and why the chain could not proceed.

use super::store::StoreError;
use crate::primitives::{BlockHash, OutPoint, Txid};
use std::fmt;

/// A consensus rule a header, block or transaction breaks. Only invalid data causes these, so a
/// peer that sends it misbehaves.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum RuleError {
    // Header rules.
    /// The hash does not meet the header's own target, or the target is above the pow limit.
    HighHash,
    /// `bits` is not the difficulty the chain requires here.
    BadDifficultyBits {
        /// Required compact target.
        expected: u32,
        /// What the header has.
        found: u32,
    },
    /// The timestamp is not after the median time of the previous 11 blocks.
    TimeTooOld {
        /// Header time.
        time: u32,
        /// Median time past of the parent.
        median_time_past: u32,
    },
    /// BIP94 (testnet4): a retarget period's first block is more than
    /// [`MAX_TIMEWARP`](crate::params::MAX_TIMEWARP) seconds older than its parent.
    Timewarp {
        /// Header time.
        time: u32,
        /// The parent's time.
        parent_time: u32,
    },
    /// The timestamp is more than two hours ahead of the node's adjusted time.
    TimeTooNew {
        /// Header time.
        time: u32,
        /// Latest acceptable time.
        max: u64,
    },
    /// A block at a checkpoint height has another hash than the checkpoint.
    CheckpointMismatch {
        /// Checkpoint height.
        height: u32,
    },
    /// The header forks the chain below the last checkpoint the chain has passed.
    ForkBeforeCheckpoint {
        /// Height of the new header.
        height: u32,
        /// Height of that checkpoint.
        checkpoint: u32,
    },
    /// The block version is too old for its height (BIP34/66/65).
    ObsoleteVersion {
        /// Header version.
        version: i32,
        /// Height.
        height: u32,
    },
    /// The parent is not in the index (a header out of order).
    UnknownParent(BlockHash),
    /// The parent is known invalid.
    InvalidAncestor(BlockHash),
    /// The block itself was found invalid earlier.
    KnownInvalid(BlockHash),

    // Block rules without context.
    /// A block without transactions.
    NoTransactions,
    /// Too many transactions or too many bytes without witness data.
    BadBlockLength,
    /// The first transaction is not a coinbase.
    FirstTxNotCoinbase,
    /// A coinbase after the first transaction.
    MultipleCoinbases(usize),
    /// The merkle root of the transactions differs from the header's.
    BadMerkleRoot,
    /// The transaction list repeats transactions in a way that keeps the merkle root
    /// (CVE-2012-2459).
    DuplicateTransactions,

    // Block rules with context.
    /// BIP141 weight above 4,000,000.
    BlockTooHeavy(usize),
    /// Signature operation cost above 80,000.
    TooManySigops(u32),
    /// The coinbase does not start with the block height (BIP34).
    BadCoinbaseHeight(u32),
    /// The witness commitment is missing or wrong while transactions carry witnesses (BIP141).
    BadWitnessCommitment,
    /// The coinbase witness is not one 32-byte reserved value (BIP141).
    BadWitnessNonce,
    /// Witness data in a block without a witness commitment (or before segwit).
    UnexpectedWitness(Txid),
    /// The coinbase claims more than subsidy plus fees.
    BadCoinbaseValue {
        /// Claimed.
        claimed: i64,
        /// Allowed.
        allowed: i64,
    },
    /// A transaction would overwrite an unspent output of the same txid (BIP30).
    OverwritesUnspent(Txid),

    // Transaction rules.
    /// A transaction without inputs.
    NoInputs(Txid),
    /// A transaction without outputs.
    NoOutputs(Txid),
    /// A transaction larger than a block may be.
    TxTooBig(Txid),
    /// An output value negative or above 21 million coins.
    BadOutputValue(Txid),
    /// Outputs summing above 21 million coins.
    BadOutputTotal(Txid),
    /// The same outpoint spent twice by one transaction.
    DuplicateInputs(Txid),
    /// A coinbase scriptSig outside 2..=100 bytes.
    BadCoinbaseScriptLength(Txid),
    /// A non-coinbase input spends the null outpoint.
    NullPrevout(Txid),
    /// An input spends an output that does not exist or is already spent.
    MissingOrSpentInput(OutPoint),
    /// A coinbase output spent before 100 confirmations.
    ImmatureCoinbaseSpend {
        /// The spent output.
        outpoint: OutPoint,
        /// Confirmations it has.
        confirmations: u32,
    },
    /// Inputs summing above 21 million coins.
    BadInputTotal(Txid),
    /// Outputs worth more than the inputs.
    SpendsMoreThanInputs(Txid),
    /// The lock time is not reached at the block's height and time (BIP113 when CSV is active).
    NonFinalTx(Txid),
    /// A relative lock time (BIP68) is not reached.
    SequenceLockNotMet(Txid),
    /// Script verification failed.
    ScriptFailed {
        /// Transaction.
        txid: Txid,
        /// Input index.
        input: usize,
        /// Why.
        reason: String,
    },
}

impl RuleError {
    /// True for the failures a relayer can cause in a valid block by changing its witness data,
    /// which the block hash does not cover (Core's `BLOCK_MUTATED` witness cases): they condemn
    /// that copy, not the block.
    pub fn is_witness_mutation(&self) -> bool {
        matches!(
            self,
            RuleError::BadWitnessCommitment
                | RuleError::BadWitnessNonce
                | RuleError::UnexpectedWitness(_)
        )
    }
}

impl fmt::Display for RuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The variant names and fields are the explanation; the Debug form is precise enough.
        write!(f, "consensus rule broken: {self:?}")
    }
}

impl std::error::Error for RuleError {}

/// Why the chain refused or failed to process something.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum ChainError {
    /// The data breaks a consensus rule.
    Rule(RuleError),
    /// The store failed; the node must stop (its memory and the store may disagree otherwise).
    Store(StoreError),
    /// The store's contents contradict each other (e.g. a tip that is not in the index).
    Inconsistent(String),
}

impl fmt::Display for ChainError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChainError::Rule(r) => write!(f, "{r}"),
            ChainError::Store(e) => write!(f, "{e}"),
            ChainError::Inconsistent(why) => {
                write!(f, "chain database inconsistent: {why}; resync from scratch")
            }
        }
    }
}

impl std::error::Error for ChainError {}

impl From<RuleError> for ChainError {
    fn from(e: RuleError) -> Self {
        ChainError::Rule(e)
    }
}

impl From<StoreError> for ChainError {
    fn from(e: StoreError) -> Self {
        ChainError::Store(e)
    }
}
