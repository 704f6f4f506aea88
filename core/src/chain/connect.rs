//! Connecting a block to the UTXO set (the rules that need spent outputs) and disconnecting it
//! with its undo data. Both produce one [`WriteBatch`] the caller commits atomically.

use super::error::{ChainError, RuleError};
use super::index::BlockIndex;
use super::records::{BlockUndo, IndexEntry, Status};
use super::script_check::verify_tx_scripts;
use super::store::{ChainStore, WriteBatch, WriteOp};
use super::tx_rules::SequenceLock;
use crate::mempool::Coin;
use crate::params::{Network, Params};
use crate::primitives::transaction::MAX_MONEY;
use crate::primitives::{Block, BlockHash, OutPoint, Transaction, TxOut, Txid};
use crate::script::flags_for_height;
use crate::script::opcodes::OP_RETURN;
use crate::script::sigops::tx_sigop_cost;
use std::collections::BTreeMap;

/// Largest BIP141 signature operation cost of a block.
pub const MAX_BLOCK_SIGOPS_COST: u32 = 80_000;
/// Scripts longer than this can never be spent (Core's `MAX_SCRIPT_SIZE`).
const MAX_SCRIPT_SIZE: usize = 10_000;
/// The two mainnet blocks that duplicated earlier coinbases before BIP30 (heights 91842, 91880).
const BIP30_EXCEPTIONS: [&str; 2] = [
    "00000000000a4d0a398161ffc163c503763b1f4360639393e0e4c8e300e0caec",
    "00000000000743f190a18c5577a3c2d2a1f610ae9601ac046a38084ccb7cd721",
];

/// True for outputs no script can spend; they never enter the UTXO set.
pub fn is_unspendable(script_pubkey: &[u8]) -> bool {
    script_pubkey.first() == Some(&OP_RETURN) || script_pubkey.len() > MAX_SCRIPT_SIZE
}

/// Pending UTXO changes of one block over the store.
struct View<'a, S> {
    store: &'a S,
    changes: BTreeMap<OutPoint, Option<Coin>>,
}

impl<S: ChainStore> View<'_, S> {
    fn coin(&self, op: &OutPoint) -> Result<Option<Coin>, ChainError> {
        match self.changes.get(op) {
            Some(c) => Ok(c.clone()),
            None => Ok(self.store.coin(op)?),
        }
    }
}

/// The coins `tx` spends from `view`, checking existence and coinbase maturity.
fn spent_coins<S: ChainStore>(
    view: &View<'_, S>,
    tx: &Transaction,
    height: u32,
    params: &Params,
) -> Result<Vec<Coin>, ChainError> {
    tx.inputs
        .iter()
        .map(|input| {
            let op = input.prevout;
            let coin = view.coin(&op)?.ok_or(RuleError::MissingOrSpentInput(op))?;
            let confirmations = height - coin.height;
            let maturity = match cfg!(feature = "planted-bug-maturity") {
                true => 0,
                false => params.coinbase_maturity,
            };
            if coin.is_coinbase && confirmations < maturity {
                return Err(RuleError::ImmatureCoinbaseSpend {
                    outpoint: op,
                    confirmations,
                }
                .into());
            }
            Ok(coin)
        })
        .collect()
}

/// The fee of `tx` given the coins it spends, checking value ranges.
fn tx_fee(tx: &Transaction, txid: Txid, coins: &[Coin]) -> Result<i64, RuleError> {
    let mut total_in: i64 = 0;
    for c in coins {
        total_in = total_in
            .checked_add(c.output.value)
            .filter(|t| (0..=MAX_MONEY).contains(t) && (0..=MAX_MONEY).contains(&c.output.value))
            .ok_or(RuleError::BadInputTotal(txid))?;
    }
    // Output values and their sum were range-checked by the sanity rules.
    let total_out: i64 = tx.outputs.iter().map(|o| o.value).sum();
    if total_in < total_out {
        return Err(RuleError::SpendsMoreThanInputs(txid));
    }
    Ok(total_in - total_out)
}

/// Validates `block` against the UTXO set as a child of the current main-chain tip (which
/// must be its parent) and returns the batch that connects it: coin changes, undo data, the new
/// tip and its index entry marked valid.
pub fn connect_block<S: ChainStore>(
    store: &S,
    index: &BlockIndex,
    block: &Block,
    entry: &IndexEntry,
    params: &Params,
) -> Result<WriteBatch, ChainError> {
    let height = entry.height;
    let parent_mtp = index.median_time_past(&entry.header.prev_blockhash);
    let mainnet_hash = (params.network == Network::Mainnet).then(|| entry.hash.to_string());
    let is_mainnet = |h: &str| mainnet_hash.as_deref() == Some(h);
    // P2SH activates at its BIP16 height, as btcd does; the one mainnet block that broke it
    // (00000000000002dc756eebf4f49723ed8d30cc28a5f108eb94b1ba88ac4f9c22) comes before.
    let flags = flags_for_height(params, height);
    let bip30 = !BIP30_EXCEPTIONS.iter().any(|h| is_mainnet(h));
    let mut view = View {
        store,
        changes: BTreeMap::new(),
    };
    let mut undo = BlockUndo::default();
    let mut fees: i64 = 0;
    let mut sigops: u32 = 0;
    for tx in &block.txdata {
        let txid = tx.txid();
        if tx.is_coinbase() {
            sigops += tx_sigop_cost(tx, &[], flags);
        } else {
            let coins = spent_coins(&view, tx, height, params)?;
            fees += tx_fee(tx, txid, &coins)?;
            if height >= params.csv_height {
                let heights: Vec<u32> = coins.iter().map(|c| c.height).collect();
                let lock = SequenceLock::of(tx, &heights, |h| {
                    index
                        .main_at(h.saturating_sub(1))
                        .map_or(0, |b| index.median_time_past(b))
                });
                if !lock.met(height, parent_mtp) {
                    return Err(RuleError::SequenceLockNotMet(txid).into());
                }
            }
            let scripts: Vec<&[u8]> = coins
                .iter()
                .map(|c| c.output.script_pubkey.as_slice())
                .collect();
            sigops += tx_sigop_cost(tx, &scripts, flags);
            let spent: Vec<TxOut> = coins.iter().map(|c| c.output.clone()).collect();
            if !cfg!(feature = "planted-bug-scripts") {
                verify_tx_scripts(tx, &spent, flags)?;
            }
            for input in &tx.inputs {
                view.changes.insert(input.prevout, None);
            }
            undo.spent.extend(coins);
        }
        if sigops > MAX_BLOCK_SIGOPS_COST {
            return Err(RuleError::TooManySigops(sigops).into());
        }
        for (vout, output) in tx.outputs.iter().enumerate() {
            let op = OutPoint::new(txid, vout as u32);
            if bip30 && view.coin(&op)?.is_some() {
                return Err(RuleError::OverwritesUnspent(txid).into());
            }
            if !is_unspendable(&output.script_pubkey) {
                let coin = Coin {
                    output: output.clone(),
                    height,
                    is_coinbase: tx.is_coinbase(),
                };
                view.changes.insert(op, Some(coin));
            }
        }
    }
    let claimed: i64 = block.txdata[0].outputs.iter().map(|o| o.value).sum();
    let allowed = params.subsidy(height) + fees;
    if claimed > allowed && !cfg!(feature = "planted-bug-subsidy") {
        return Err(RuleError::BadCoinbaseValue { claimed, allowed }.into());
    }
    let mut batch = WriteBatch::new();
    for (op, change) in view.changes {
        batch.push(match change {
            Some(coin) => WriteOp::PutCoin(op, coin),
            None => WriteOp::DeleteCoin(op),
        });
    }
    batch.push(WriteOp::PutUndo(entry.hash, undo));
    batch.push(WriteOp::PutTip(entry.hash));
    batch.push(WriteOp::PutIndex(IndexEntry {
        status: entry.status.with(Status::VALID),
        ..*entry
    }));
    Ok(batch)
}

/// Checks that `undo` holds one coin per input `block` spends (what disconnecting needs).
pub fn check_undo(block: &Block, hash: BlockHash, undo: &BlockUndo) -> Result<(), ChainError> {
    let inputs: usize = block.txdata.iter().skip(1).map(|t| t.inputs.len()).sum();
    if undo.spent.len() != inputs {
        return Err(ChainError::Inconsistent(format!(
            "undo data of block {hash} has {} coins for {inputs} inputs",
            undo.spent.len()
        )));
    }
    Ok(())
}

/// The batch that undoes `block` (the main-chain tip): its outputs removed, the coins it spent
/// restored from `undo`, its undo data dropped and its parent made the tip.
pub fn disconnect_block(
    block: &Block,
    hash: BlockHash,
    undo: BlockUndo,
) -> Result<WriteBatch, ChainError> {
    check_undo(block, hash, &undo)?;
    let mut batch = WriteBatch::new();
    let mut restored = undo.spent.into_iter().rev();
    for tx in block.txdata.iter().rev() {
        let txid = tx.txid();
        for vout in 0..tx.outputs.len() {
            batch.push(WriteOp::DeleteCoin(OutPoint::new(txid, vout as u32)));
        }
        if tx.is_coinbase() {
            continue;
        }
        for input in tx.inputs.iter().rev() {
            if let Some(coin) = restored.next() {
                batch.push(WriteOp::PutCoin(input.prevout, coin));
            }
        }
    }
    batch.push(WriteOp::DeleteUndo(hash));
    batch.push(WriteOp::PutTip(block.header.prev_blockhash));
    Ok(batch)
}
