//! The ways an adversary breaks a block: one per consensus rule the chain enforces (the
//! `RuleError` catalogue), each made from a valid template on the adversary's tip (with its
//! mempool's transactions: segwit spends, time-locked and chained ones) and then given valid
//! proof of work, so only the rule itself can refuse it. Grouped by rule family; each family
//! has a planted bug in the core (test features) that the simulator must catch.

use crate::workload::{solve, WITNESS_SCRIPT};
use rbtcd_core::chain::block_rules::{add_witness_commitment, WITNESS_COMMITMENT_PREFIX};
use rbtcd_core::chain::builder::spend;
use rbtcd_core::params::Params;
use rbtcd_core::primitives::{Block, Hash256, OutPoint, Transaction, TxOut, Txid};
use rbtcd_core::rng::Rng;

/// A family of consensus rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Family {
    /// Header rules: proof of work and difficulty, timestamps, versions.
    Header,
    /// The block's shape: merkle root, coinbase placement, duplicates, weight, sigops.
    Structure,
    /// Rules tied to the block's place: BIP34 height, witness commitment.
    Context,
    /// Money: subsidy plus fees, output values, inputs covering outputs.
    Value,
    /// Inputs: missing, spent twice, immature coinbases.
    Inputs,
    /// Lock times: nLockTime and BIP68 sequence locks.
    Locks,
    /// Script and signature verification.
    Scripts,
}

/// One way to break a block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Breakage {
    /// `HighHash`-adjacent: difficulty bits other than required (`BadDifficultyBits`).
    Bits,
    /// A timestamp at or below the median time past (`TimeTooOld`).
    TimeTooOld,
    /// A timestamp a month ahead (`TimeTooNew`).
    TimeTooNew,
    /// Version 1 after BIP34 (`ObsoleteVersion`).
    Version,
    /// The header commits to other transactions (`BadMerkleRoot`).
    MerkleRoot,
    /// No transactions at all (`NoTransactions`).
    NoTransactions,
    /// A spend before the coinbase (`FirstTxNotCoinbase`).
    FirstTxNotCoinbase,
    /// Two coinbases (`MultipleCoinbases`).
    MultipleCoinbases,
    /// A transaction twice (`DuplicateTransactions`).
    DuplicateTransactions,
    /// Over the weight limit, within the base size limit (`BlockTooHeavy`).
    TooHeavy,
    /// Over the sigop cost limit (`TooManySigops`).
    TooManySigops,
    /// A coinbase script of 101 bytes (`BadCoinbaseScriptLength`).
    CoinbaseScriptLength,
    /// The coinbase claims another height (`BadCoinbaseHeight`).
    CoinbaseHeight,
    /// A witness commitment to other witnesses (`BadWitnessCommitment`).
    WitnessCommitment,
    /// A witness reserved value of the wrong size (`BadWitnessNonce`).
    WitnessNonce,
    /// The coinbase claims more than subsidy plus fees (`BadCoinbaseValue`).
    Subsidy,
    /// A spend paying out more than it spends (`SpendsMoreThanInputs`).
    SpendsMoreThanInputs,
    /// An output worth more than all bitcoin (`BadOutputValue`).
    OutputValue,
    /// A spend with no outputs (`NoOutputs`).
    NoOutputs,
    /// A spend of an output that never existed (`MissingOrSpentInput`).
    MissingInput,
    /// Two spends of one output in the block (`MissingOrSpentInput` for the second).
    DoubleSpend,
    /// One output spent twice by one transaction (`DuplicateInputs`).
    DuplicateInputs,
    /// A spend of the tip's coinbase (`ImmatureCoinbaseSpend`).
    ImmatureSpend,
    /// A lock time far ahead with a non-final sequence (`NonFinalTx`).
    NonFinal,
    /// A relative lock of 1,000 blocks (`SequenceLockNotMet`).
    SequenceLock,
    /// A witness that does not match the script it spends (`ScriptFailed`).
    BadWitness,
}

/// Everything a breakage needs to know about the adversary's chain.
pub struct Context<'a> {
    /// The network's parameters.
    pub params: &'a Params,
    /// The height the block would have.
    pub height: u32,
    /// The txid of the tip's coinbase (immature by construction).
    pub tip_coinbase: Txid,
    /// The adversary's clock, Unix seconds.
    pub now_secs: u64,
}

impl Breakage {
    /// Every breakage.
    pub const ALL: [Breakage; 26] = [
        Breakage::Bits,
        Breakage::TimeTooOld,
        Breakage::TimeTooNew,
        Breakage::Version,
        Breakage::MerkleRoot,
        Breakage::NoTransactions,
        Breakage::FirstTxNotCoinbase,
        Breakage::MultipleCoinbases,
        Breakage::DuplicateTransactions,
        Breakage::TooHeavy,
        Breakage::TooManySigops,
        Breakage::CoinbaseScriptLength,
        Breakage::CoinbaseHeight,
        Breakage::WitnessCommitment,
        Breakage::WitnessNonce,
        Breakage::Subsidy,
        Breakage::SpendsMoreThanInputs,
        Breakage::OutputValue,
        Breakage::NoOutputs,
        Breakage::MissingInput,
        Breakage::DoubleSpend,
        Breakage::DuplicateInputs,
        Breakage::ImmatureSpend,
        Breakage::NonFinal,
        Breakage::SequenceLock,
        Breakage::BadWitness,
    ];

    /// The rule family it breaks.
    pub fn family(self) -> Family {
        use Breakage::*;
        match self {
            Bits | TimeTooOld | TimeTooNew | Version => Family::Header,
            MerkleRoot
            | NoTransactions
            | FirstTxNotCoinbase
            | MultipleCoinbases
            | DuplicateTransactions
            | TooHeavy
            | TooManySigops
            | CoinbaseScriptLength => Family::Structure,
            CoinbaseHeight | WitnessCommitment | WitnessNonce => Family::Context,
            Subsidy | SpendsMoreThanInputs | OutputValue | NoOutputs => Family::Value,
            MissingInput | DoubleSpend | DuplicateInputs | ImmatureSpend => Family::Inputs,
            NonFinal | SequenceLock => Family::Locks,
            BadWitness => Family::Scripts,
        }
    }

    /// Breaks `block` (a valid, unsolved template) and solves it.
    pub fn apply(self, block: &mut Block, ctx: &Context, rng: &mut Rng) {
        use Breakage::*;
        let height = ctx.height;
        match self {
            Bits => {
                block.header.bits = ctx.params.pow_limit_bits - 1;
                return solve(block);
            }
            TimeTooOld => {
                block.header.time = ctx.params.genesis.header.time;
                return solve(block);
            }
            TimeTooNew => {
                block.header.time = (ctx.now_secs + 30 * 86_400) as u32;
                return solve(block);
            }
            Version => {
                block.header.version = 1;
                return solve(block);
            }
            MerkleRoot => {
                solve(block);
                // Changing the coinbase after solving leaves the header's root stale.
                block.txdata[0].inputs[0].script_sig.push(0x51);
                return;
            }
            NoTransactions => {
                block.txdata.clear();
                block.header.merkle_root = Hash256::default();
                return solve(block);
            }
            FirstTxNotCoinbase => {
                block.txdata.push(made_up_spend(rng));
                renew(block, false);
                let last = block.txdata.len() - 1;
                block.txdata.swap(0, last);
                block.header.merkle_root = block.compute_merkle_root().0;
                return solve(block);
            }
            MultipleCoinbases => {
                let mut second = block.txdata[0].clone();
                second.inputs[0].script_sig.push(0x51);
                block.txdata.push(second);
            }
            DuplicateTransactions => {
                let tx = mempool_tx(block, rng).unwrap_or_else(|| made_up_spend(rng));
                block.txdata.push(tx.clone());
                block.txdata.push(tx);
            }
            TooHeavy => {
                // Within the base size limit, over the weight limit through a witness.
                coinbase_output(block, vec![0x6a; 900_000]);
                let i = replace_mempool_tx(block, rng);
                block.txdata[i].inputs[0]
                    .witness
                    .insert(0, vec![0; 500_000]);
            }
            TooManySigops => coinbase_output(block, vec![0xac; 20_001]),
            CoinbaseScriptLength => block.txdata[0].inputs[0].script_sig.resize(101, 0x51),
            CoinbaseHeight => {
                let mut script = height_push(height + 1);
                script.extend_from_slice(&[8; 9]);
                block.txdata[0].inputs[0].script_sig = script;
            }
            WitnessCommitment | WitnessNonce => {
                renew(block, true);
                let coinbase = &mut block.txdata[0];
                if self == WitnessNonce {
                    coinbase.inputs[0].witness = vec![vec![0; 31]];
                } else {
                    let out = coinbase.outputs.last_mut().expect("a commitment output");
                    out.script_pubkey[10] ^= 1;
                }
                block.header.merkle_root = block.compute_merkle_root().0;
                return solve(block);
            }
            Subsidy => block.txdata[0].outputs[0].value += 1,
            SpendsMoreThanInputs => {
                let i = replace_mempool_tx(block, rng);
                // Well past the fee the spend paid.
                block.txdata[i].outputs[0].value += 10 * 100_000_000;
            }
            OutputValue => {
                let mut tx = made_up_spend(rng);
                tx.outputs[0].value = 21_000_001 * 100_000_000;
                block.txdata.push(tx);
            }
            NoOutputs => {
                let mut tx = made_up_spend(rng);
                tx.outputs.clear();
                block.txdata.push(tx);
            }
            MissingInput => block.txdata.push(made_up_spend(rng)),
            DoubleSpend => {
                let i = replace_mempool_tx(block, rng);
                let mut again = block.txdata[i].clone();
                again.outputs[0].value -= 1;
                block.txdata.push(again);
            }
            DuplicateInputs => {
                let i = replace_mempool_tx(block, rng);
                let input = block.txdata[i].inputs[0].clone();
                block.txdata[i].inputs.push(input);
            }
            ImmatureSpend => {
                let value = block.txdata[0].outputs[0].value;
                block
                    .txdata
                    .push(segwit_spend(OutPoint::new(ctx.tip_coinbase, 0), value / 2));
            }
            NonFinal => {
                let i = replace_mempool_tx(block, rng);
                let tx = &mut block.txdata[i];
                tx.lock_time = height + 1_000;
                tx.inputs.iter_mut().for_each(|input| input.sequence = 0);
            }
            SequenceLock => {
                let i = replace_mempool_tx(block, rng);
                let tx = &mut block.txdata[i];
                tx.version = 2;
                tx.inputs[0].sequence = 1_000;
            }
            BadWitness => {
                let i = replace_mempool_tx(block, rng);
                block.txdata[i].inputs[0].witness = vec![vec![0x00]];
            }
        }
        renew(block, false);
        solve(block);
    }
}

/// A mempool transaction of the template, if it has any.
fn mempool_tx(block: &Block, rng: &mut Rng) -> Option<Transaction> {
    (block.txdata.len() > 1).then(|| block.txdata[1 + rng.index(block.txdata.len() - 1)].clone())
}

/// The index of a spend in `block` to break: one of the template's mempool transactions, or
/// a spend of the premined chain's first coinbase added for the purpose.
fn replace_mempool_tx(block: &mut Block, rng: &mut Rng) -> usize {
    if block.txdata.len() > 1 {
        return 1 + rng.index(block.txdata.len() - 1);
    }
    block.txdata.push(made_up_spend(rng));
    block.txdata.len() - 1
}

/// A standard-looking segwit spend of `outpoint` paying `value`.
fn segwit_spend(outpoint: OutPoint, value: i64) -> Transaction {
    let mut tx = spend(&[outpoint], &[value]);
    tx.outputs[0].script_pubkey = crate::workload::p2wsh();
    tx.inputs[0].witness = vec![WITNESS_SCRIPT.to_vec()];
    tx
}

/// A spend of an output nobody ever made.
fn made_up_spend(rng: &mut Rng) -> Transaction {
    let txid = Hash256(rng.bytes32());
    segwit_spend(OutPoint::new(txid, 0), 50_000)
}

/// Adds an output paying to `script` to the coinbase.
fn coinbase_output(block: &mut Block, script: Vec<u8>) {
    block.txdata[0].outputs.push(TxOut {
        value: 0,
        script_pubkey: script,
    });
}

/// The BIP34 push of `height`.
fn height_push(height: u32) -> Vec<u8> {
    let mut bytes = height.to_le_bytes().to_vec();
    while bytes.len() > 1 && bytes[bytes.len() - 1] == 0 && bytes[bytes.len() - 2] & 0x80 == 0 {
        bytes.pop();
    }
    if bytes.last().is_some_and(|b| b & 0x80 != 0) {
        bytes.push(0);
    }
    let mut script = vec![bytes.len() as u8];
    script.extend(bytes);
    script
}

/// Renews the witness commitment (always when `commit`, else when a spend carries a witness)
/// and the merkle root after the transactions changed.
fn renew(block: &mut Block, commit: bool) {
    let coinbase = &mut block.txdata[0];
    coinbase
        .outputs
        .retain(|o| !o.script_pubkey.starts_with(&WITNESS_COMMITMENT_PREFIX));
    coinbase.inputs[0].witness.clear();
    let witness = block.txdata[1..]
        .iter()
        .any(|t| t.inputs.iter().any(|i| !i.witness.is_empty()));
    if commit || witness {
        add_witness_commitment(block);
    }
    block.header.merkle_root = block.compute_merkle_root().0;
}

#[cfg(test)]
mod tests {
    use super::height_push;

    #[test]
    fn heights_are_pushed_as_minimal_script_numbers() {
        assert_eq!(height_push(1), [1, 1]);
        assert_eq!(height_push(127), [1, 127]);
        assert_eq!(height_push(128), [2, 128, 0]);
        assert_eq!(height_push(300), [2, 44, 1]);
    }
}
