//! Connecting a block to the UTXO set (the rules that need spent outputs) and disconnecting it
//! with its undo data. Both read coins from a [`CoinSource`] (the UTXO cache over the store)
//! and return the block's coin changes, which the caller applies to the cache only when the
//! whole block succeeded.

use super::coins::{CoinChange, CoinSource};
use super::error::{ChainError, RuleError};
use super::index::BlockIndex;
use super::records::{BlockUndo, IndexEntry};
use super::script_check::{BlockScripts, CheckQueue, ScriptChecks};
use super::tx_rules::SequenceLock;
use crate::mempool::Coin;
use crate::params::{Network, Params};
use crate::primitives::transaction::MAX_MONEY;
use crate::primitives::{Block, BlockHash, OutPoint, Transaction, TxOut, Txid};
use crate::script::opcodes::OP_RETURN;
use crate::script::sigops::tx_sigop_cost;
use crate::script::{flags_for_height, Flags};
use std::collections::BTreeMap;

/// Largest BIP141 signature operation cost of a block.
pub const MAX_BLOCK_SIGOPS_COST: u32 = 80_000;
/// Scripts longer than this can never be spent (Core's `MAX_SCRIPT_SIZE`).
const MAX_SCRIPT_SIZE: usize = 10_000;
/// From this height a coinbase may repeat one from before BIP34 (whose indicated height was
/// this), so BIP30 is checked again whatever the chain (Core's `BIP34_IMPLIES_BIP30_LIMIT`).
const BIP34_IMPLIES_BIP30_LIMIT: u32 = 1_983_702;
/// The two mainnet blocks that duplicated earlier coinbases before BIP30 (heights 91842, 91880).
const BIP30_EXCEPTIONS: [&str; 2] = [
    "00000000000a4d0a398161ffc163c503763b1f4360639393e0e4c8e300e0caec",
    "00000000000743f190a18c5577a3c2d2a1f610ae9601ac046a38084ccb7cd721",
];

/// True for outputs no script can spend; they never enter the UTXO set.
pub fn is_unspendable(script_pubkey: &[u8]) -> bool {
    script_pubkey.first() == Some(&OP_RETURN) || script_pubkey.len() > MAX_SCRIPT_SIZE
}

/// Whether the block `entry` (a child of the main-chain tip) must be checked for outputs
/// overwriting unspent ones (BIP30), exactly where Bitcoin Core checks: not for the two
/// historical exceptions, and not on a chain through the network's BIP34 activation block
/// (BIP34 makes coinbases unique there) until [`BIP34_IMPLIES_BIP30_LIMIT`]. Networks without
/// a known activation block (regtest, signet, simnet) always check.
pub fn bip30_applies(index: &BlockIndex, entry: &IndexEntry, params: &Params) -> bool {
    if params.network == Network::Mainnet {
        let hash = entry.hash.to_string();
        if BIP30_EXCEPTIONS.contains(&hash.as_str()) {
            return false;
        }
    }
    let through_bip34 = params.bip34_hash.is_some_and(|want| {
        index
            .ancestor(&entry.header.prev_blockhash, params.bip34_height)
            .is_some_and(|e| e.hash == want)
    });
    !through_bip34 || entry.height >= BIP34_IMPLIES_BIP30_LIMIT
}

/// Pending UTXO changes of one block over its coin source.
struct View<'a, C> {
    source: &'a mut C,
    changes: BTreeMap<OutPoint, CoinChange>,
}

impl<C: CoinSource> View<'_, C> {
    fn coin(&mut self, op: &OutPoint) -> Result<Option<Coin>, ChainError> {
        match self.changes.get(op) {
            Some(CoinChange::Add { coin, .. }) => Ok(Some(coin.clone())),
            Some(CoinChange::Spend) => Ok(None),
            None => Ok(self.source.coin(op)?),
        }
    }

    fn add(&mut self, op: OutPoint, coin: Coin, overwrite: bool) {
        self.changes.insert(op, CoinChange::Add { coin, overwrite });
    }

    /// Spending a coin this very block created leaves no trace at all.
    fn spend(&mut self, op: OutPoint) {
        match self.changes.get(&op) {
            Some(CoinChange::Add { .. }) => {
                self.changes.remove(&op);
            }
            _ => {
                self.changes.insert(op, CoinChange::Spend);
            }
        }
    }
}

/// What connecting a block changes: coins, and the undo data that reverses it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Connection {
    /// The block's net coin changes, by outpoint.
    pub changes: BTreeMap<OutPoint, CoinChange>,
    /// The coins it spent, in input order.
    pub undo: BlockUndo,
}

/// The coins `tx` spends from `view`, checking existence and coinbase maturity.
fn spent_coins<C: CoinSource>(
    view: &mut View<'_, C>,
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

/// Validates `block` against the UTXO set in `coins` as a child of the current main-chain tip
/// (which must be its parent) and returns what connecting it changes. Each transaction's
/// scripts are handed to `scripts` as soon as its spent coins are known, so they are checked
/// while the rest of the block's coins are looked up; their verdict counts only once every
/// other rule held. `None` skips them (assumevalid).
pub fn connect_block<C: CoinSource>(
    coins: &mut C,
    index: &BlockIndex,
    block: &Block,
    entry: &IndexEntry,
    params: &Params,
    scripts: Option<&ScriptChecks>,
) -> Result<Connection, ChainError> {
    let height = entry.height;
    // P2SH activates at its BIP16 height, as btcd does; the one mainnet block that broke it
    // (00000000000002dc756eebf4f49723ed8d30cc28a5f108eb94b1ba88ac4f9c22) comes before.
    let flags = flags_for_height(params, height);
    let mut view = View {
        source: coins,
        changes: BTreeMap::new(),
    };
    let mut undo = BlockUndo::default();
    let rules = BlockRules {
        index,
        entry,
        params,
        flags,
        bip30: bip30_applies(index, entry, params),
        parent_mtp: index.median_time_past(&entry.header.prev_blockhash),
    };
    match scripts.filter(|_| !cfg!(feature = "planted-bug-scripts")) {
        Some(checks) => {
            let block_scripts = BlockScripts::new(flags, &checks.sig_cache);
            let mut fees = None;
            checks.executor.run(&mut |queue| {
                let spent =
                    rules.spend_inputs(&mut view, &mut undo, block, Some((&block_scripts, queue)));
                if spent.is_err() {
                    // The block fails whatever its scripts say: checks not yet run need not.
                    block_scripts.abandon();
                }
                fees = Some(spent);
            });
            let fees = fees.expect("the executor runs its feeder")?;
            rules.check_subsidy(block, fees)?;
            block_scripts.verdict()?;
        }
        None => {
            let fees = rules.spend_inputs(&mut view, &mut undo, block, None)?;
            rules.check_subsidy(block, fees)?;
        }
    }
    Ok(Connection {
        changes: view.changes,
        undo,
    })
}

/// What the rules needing spent coins need to know of the block being connected.
struct BlockRules<'a> {
    index: &'a BlockIndex,
    entry: &'a IndexEntry,
    params: &'a Params,
    flags: Flags,
    bip30: bool,
    parent_mtp: u32,
}

impl BlockRules<'_> {
    /// Spends the inputs and adds the outputs of every transaction of `block` in `view`,
    /// recording the spent coins in `undo`, checking every rule but the scripts and the
    /// coinbase's value, and handing each transaction's scripts to `scripts` once its spent
    /// coins are known. Returns the block's fees.
    fn spend_inputs<'s, C: CoinSource>(
        &self,
        view: &mut View<'_, C>,
        undo: &mut BlockUndo,
        block: &'s Block,
        scripts: Option<(&'s BlockScripts<'s>, &dyn CheckQueue<'s>)>,
    ) -> Result<i64, ChainError> {
        let (height, flags, params) = (self.entry.height, self.flags, self.params);
        let mut fees: i64 = 0;
        let mut sigops: u32 = 0;
        for (t, tx) in block.txdata.iter().enumerate() {
            let txid = tx.txid();
            if tx.is_coinbase() {
                sigops += tx_sigop_cost(tx, &[], flags);
            } else {
                let coins = spent_coins(view, tx, height, params)?;
                fees += tx_fee(tx, txid, &coins)?;
                if height >= params.csv_height {
                    let heights: Vec<u32> = coins.iter().map(|c| c.height).collect();
                    let lock = SequenceLock::of(tx, &heights, |h| {
                        self.index
                            .main_at(h.saturating_sub(1))
                            .map_or(0, |b| self.index.median_time_past(b))
                    });
                    if !lock.met(height, self.parent_mtp) {
                        return Err(RuleError::SequenceLockNotMet(txid).into());
                    }
                }
                let scripts_pubkeys: Vec<&[u8]> = coins
                    .iter()
                    .map(|c| c.output.script_pubkey.as_slice())
                    .collect();
                sigops += tx_sigop_cost(tx, &scripts_pubkeys, flags);
                if let Some((block_scripts, queue)) = scripts {
                    let spent: Vec<TxOut> = coins.iter().map(|c| c.output.clone()).collect();
                    block_scripts.add(queue, t, tx, spent);
                }
                for input in &tx.inputs {
                    view.spend(input.prevout);
                }
                undo.spent.extend(coins);
            }
            if sigops > MAX_BLOCK_SIGOPS_COST {
                return Err(RuleError::TooManySigops(sigops).into());
            }
            for (vout, output) in tx.outputs.iter().enumerate() {
                let op = OutPoint::new(txid, vout as u32);
                if self.bip30 && view.coin(&op)?.is_some() {
                    return Err(RuleError::OverwritesUnspent(txid).into());
                }
                if !is_unspendable(&output.script_pubkey) {
                    let coin = Coin {
                        output: output.clone(),
                        height,
                        is_coinbase: tx.is_coinbase(),
                    };
                    // Coinbases may overwrite (the pre-BIP30 duplicates), as Core allows.
                    view.add(op, coin, tx.is_coinbase());
                }
            }
        }
        Ok(fees)
    }

    /// The coinbase claims no more than the subsidy and `fees`.
    fn check_subsidy(&self, block: &Block, fees: i64) -> Result<(), RuleError> {
        let claimed: i64 = block.txdata[0].outputs.iter().map(|o| o.value).sum();
        let allowed = self.params.subsidy(self.entry.height) + fees;
        if claimed > allowed && !cfg!(feature = "planted-bug-subsidy") {
            return Err(RuleError::BadCoinbaseValue { claimed, allowed });
        }
        Ok(())
    }
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

/// The coin changes that undo `block` (the main-chain tip): its outputs spent, the coins it
/// spent restored from `undo`.
pub fn disconnect_block<C: CoinSource>(
    coins: &mut C,
    block: &Block,
    hash: BlockHash,
    undo: BlockUndo,
) -> Result<BTreeMap<OutPoint, CoinChange>, ChainError> {
    check_undo(block, hash, &undo)?;
    let mut view = View {
        source: coins,
        changes: BTreeMap::new(),
    };
    let mut restored = undo.spent.into_iter().rev();
    for tx in block.txdata.iter().rev() {
        let txid = tx.txid();
        for (vout, output) in tx.outputs.iter().enumerate() {
            if !is_unspendable(&output.script_pubkey) {
                view.spend(OutPoint::new(txid, vout as u32));
            }
        }
        if tx.is_coinbase() {
            continue;
        }
        for input in tx.inputs.iter().rev() {
            if let Some(coin) = restored.next() {
                // Whether the restored coin overwrites one (Core's unclean undo).
                let overwrite = view.coin(&input.prevout)?.is_some();
                view.add(input.prevout, coin, overwrite);
            }
        }
    }
    Ok(view.changes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::builder::{branch, spend, ANYONE_CAN_SPEND};
    use crate::chain::script_check::{Check, ScriptExecutor};
    use crate::chain::store::StoreError;
    use crate::chain::{Chain, MemStore, Status};
    use crate::primitives::Hash256;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};

    /// Whether BIP30 applies to the next block on a 6-block regtest chain whose BIP34
    /// activation block is set by `bip34`, at `height` (normally 7).
    fn applies(bip34: impl Fn(&[Block]) -> Option<BlockHash>, height: u32) -> bool {
        let mut p = Params::new(Network::Regtest);
        let blocks = branch(&p, &p.genesis, 1, 6, b"b");
        p.bip34_height = 3;
        p.bip34_hash = bip34(&blocks);
        let mut chain = Chain::open(p.clone(), MemStore::new()).unwrap();
        for b in &blocks {
            chain.process_block(b.clone(), 2_000_000_000).unwrap();
        }
        let tip = chain.tip();
        let next = IndexEntry::header_only(
            Hash256([7; 32]),
            crate::primitives::BlockHeader {
                prev_blockhash: tip.hash,
                ..tip.header
            },
            height,
            tip.chain_work,
            Status::HEADER_VALID,
        );
        bip30_applies(chain.index(), &next, &p)
    }

    /// Coins in memory, counting lookups.
    struct CountedCoins {
        coins: BTreeMap<OutPoint, Coin>,
        lookups: Arc<AtomicUsize>,
    }

    impl CoinSource for CountedCoins {
        fn coin(&mut self, op: &OutPoint) -> Result<Option<Coin>, StoreError> {
            self.lookups.fetch_add(1, Ordering::Relaxed);
            Ok(self.coins.get(op).cloned())
        }
    }

    /// Runs each check at once, noting how many coins had been looked up when it came.
    #[derive(Debug)]
    struct Watching {
        lookups: Arc<AtomicUsize>,
        seen: Mutex<Vec<usize>>,
    }

    impl<'s> CheckQueue<'s> for Watching {
        fn add(&self, check: Check<'s>) {
            let lookups = self.lookups.load(Ordering::Relaxed);
            self.seen.lock().unwrap().push(lookups);
            check();
        }
    }

    impl ScriptExecutor for Watching {
        fn run<'s>(&self, feed: &mut dyn FnMut(&dyn CheckQueue<'s>)) {
            feed(self)
        }
    }

    #[test]
    fn each_transactions_scripts_are_handed_over_before_the_next_ones_coins_are_read() {
        let params = Params::new(Network::Regtest);
        let chain = Chain::open(params.clone(), MemStore::new()).unwrap();
        let lookups = Arc::new(AtomicUsize::new(0));
        let mut coins = CountedCoins {
            coins: BTreeMap::new(),
            lookups: Arc::clone(&lookups),
        };
        let mut txdata = vec![spend(&[OutPoint::new(Hash256::ZERO, u32::MAX)], &[1])];
        for t in 1..=5u8 {
            let op = OutPoint::new(Hash256([t; 32]), 0);
            let output = TxOut {
                value: 1,
                script_pubkey: ANYONE_CAN_SPEND.to_vec(),
            };
            let coin = Coin {
                output,
                height: 0,
                is_coinbase: false,
            };
            coins.coins.insert(op, coin);
            txdata.push(spend(&[op], &[1]));
        }
        let block = Block {
            header: Default::default(),
            txdata,
        };
        let tip = chain.tip();
        let entry = IndexEntry::header_only(
            block.block_hash(),
            crate::primitives::BlockHeader {
                prev_blockhash: tip.hash,
                ..tip.header
            },
            1,
            tip.chain_work,
            Status::HEADER_VALID,
        );
        let watching = Arc::new(Watching {
            lookups: Arc::clone(&lookups),
            seen: Mutex::new(Vec::new()),
        });
        let checks = ScriptChecks {
            executor: watching.clone(),
            ..ScriptChecks::default()
        };
        let connection = connect_block(
            &mut coins,
            chain.index(),
            &block,
            &entry,
            &params,
            Some(&checks),
        );
        assert_eq!(connection.map(|c| c.undo.spent.len()), Ok(5));
        let seen = watching.seen.lock().unwrap().clone();
        let total = lookups.load(Ordering::Relaxed);
        assert_eq!(seen.len(), 5, "one check per one-input transaction");
        assert!(
            seen.windows(2).all(|w| w[0] < w[1]) && seen[4] < total,
            "checks handed over at lookups {seen:?} of {total}"
        );
    }

    #[test]
    fn bip30_is_checked_where_core_checks_it() {
        // A chain through the known BIP34 block: BIP34 makes coinbases unique.
        assert!(!applies(|b| Some(b[2].block_hash()), 7));
        // Until the height where old coinbases' indicated heights come round again.
        assert!(applies(
            |b| Some(b[2].block_hash()),
            BIP34_IMPLIES_BIP30_LIMIT
        ));
        // Another chain at that height, or a network without a known block: always.
        assert!(applies(|b| Some(b[3].block_hash()), 7));
        assert!(applies(|_| None, 7));
    }
}
