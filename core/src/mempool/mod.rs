//! The transaction memory pool: acceptance policy, orphans, block connect/disconnect, and the
//! rebroadcast set (btcd's `mempool` package plus `server.go`'s rebroadcast handler).
//!
//! Consensus checks are not repeated here: the pool asks the chain through [`ChainContext`], so
//! the mempool and block validation can never disagree about a rule.

pub mod error;
pub mod estimate;
pub mod orphans;
pub mod persist;
pub mod policy;
mod rebroadcast;
pub mod view;

pub use error::RejectReason;
pub use policy::Policy;

use crate::primitives::{Block, OutPoint, Transaction, TxOut, Txid, Wtxid};
use crate::script::sigops::tx_sigop_cost;
use crate::script::Flags;
use orphans::{Orphans, MAX_ORPHAN_SIZE};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// Most sigop cost a standard transaction may have (a fifth of the block limit, as Core).
pub const MAX_STANDARD_TX_SIGOP_COST: u32 = 16_000;

/// An unspent confirmed output as the chain reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Coin {
    /// The output.
    pub output: TxOut,
    /// Height of the block that created it.
    pub height: u32,
    /// Whether it was created by a coinbase (maturity applies).
    pub is_coinbase: bool,
}

/// What the mempool needs from the chain. The node implements it over its chain state; tests
/// implement it over a map.
pub trait ChainContext {
    /// The unspent confirmed output at `outpoint`.
    fn coin(&self, outpoint: &OutPoint) -> Option<Coin>;
    /// Height of the next block (the one a mempool transaction would be mined in).
    fn next_height(&self) -> u32;
    /// Confirmations a coinbase output needs before it may be spent.
    fn coinbase_maturity(&self) -> u32;
    /// Context-free consensus checks (the chain's own `CheckTransactionSanity`).
    fn check_transaction(&self, tx: &Transaction) -> Result<(), String>;
    /// Whether the transaction is final in the next block (height and median time past).
    fn is_final(&self, tx: &Transaction) -> bool;
    /// Whether BIP68 relative lock times are met in the next block; `coins[i]` is what input
    /// `i` spends (unconfirmed parents reported at the next height).
    fn sequence_locks_met(&self, tx: &Transaction, coins: &[Coin]) -> bool;
    /// Script verification under standard flags; `Err((input, reason))` on failure.
    fn verify_scripts(&self, tx: &Transaction, spent: &[TxOut]) -> Result<(), (usize, String)>;
}

/// A transaction in the pool, with what templates and RPC need to know about it.
#[derive(Clone, Debug)]
pub struct Entry {
    /// The transaction.
    pub tx: Arc<Transaction>,
    /// Its txid.
    pub txid: Txid,
    /// Its wtxid.
    pub wtxid: Wtxid,
    /// Fee in satoshis.
    pub fee: i64,
    /// BIP141 weight.
    pub weight: usize,
    /// BIP141 sigop cost.
    pub sigop_cost: u32,
    /// Unix time it was accepted.
    pub time: u64,
    /// Chain height when it was accepted.
    pub height: u32,
    /// In-pool transactions it spends.
    pub parents: BTreeSet<Txid>,
    /// In-pool transactions spending it.
    pub children: BTreeSet<Txid>,
}

impl Entry {
    /// Virtual size.
    pub fn vsize(&self) -> usize {
        self.weight.div_ceil(4)
    }
}

/// The result of offering a transaction.
#[derive(Debug, PartialEq, Eq)]
pub enum Accepted {
    /// Accepted, followed by any orphans that became acceptable, in acceptance order.
    Added(Vec<Txid>),
    /// Parents unknown: kept as an orphan; these are the missing parents to ask for.
    Orphan(Vec<Txid>),
}

/// The verdict of [`Mempool::check`] on a transaction that broke no rule.
#[derive(Debug, PartialEq, Eq)]
pub enum Checked {
    /// Some parents are neither confirmed nor in the pool: it would be kept as an orphan.
    Missing(Vec<Txid>),
    /// Acceptable now.
    Valid(Valid),
}

/// What the checks learnt about an acceptable transaction.
#[derive(Debug, PartialEq, Eq)]
pub struct Valid {
    /// Fee in satoshis.
    pub fee: i64,
    /// BIP141 weight.
    pub weight: usize,
    /// BIP141 sigop cost.
    pub sigop_cost: u32,
    /// In-pool transactions it spends.
    pub parents: BTreeSet<Txid>,
}

/// The memory pool.
#[derive(Default)]
pub struct Mempool {
    policy: Policy,
    entries: BTreeMap<Txid, Entry>,
    by_wtxid: BTreeMap<Wtxid, Txid>,
    spent_by: BTreeMap<OutPoint, Txid>,
    orphans: Orphans,
    /// Locally submitted transactions re-announced until mined.
    rebroadcast: rebroadcast::Rebroadcast,
    /// What readers beside the node see, once [`Mempool::keep_view`] was called.
    view: Option<view::MempoolView>,
}

impl Mempool {
    /// Keeps a copy of what `getrawtransaction` and `gettxout` read of the pool, changed with
    /// it, for readers beside the node ([`Mempool::view`]).
    pub fn keep_view(&mut self) {
        if self.view.is_none() {
            let mut view = view::MempoolView::default();
            for e in self.entries.values() {
                view.added(e.txid, &e.tx);
            }
            self.view = Some(view);
            self.orphans.keep_ids();
        }
    }

    /// The pool as it is now, when [`Mempool::keep_view`] was called: a copy that never
    /// changes, taken in O(1).
    pub fn view(&self) -> Option<view::MempoolView> {
        let ids = self.orphans.ids()?;
        Some(self.view.clone()?.with_orphans(ids))
    }

    /// Re-announces `txid`, submitted locally at unix time `now`, until it is mined or
    /// leaves the pool.
    pub fn rebroadcast_until_mined(&mut self, txid: Txid, now: u64) {
        self.rebroadcast.add(txid, now);
    }

    /// The locally submitted transactions still waiting to be mined.
    pub fn rebroadcast_pending(&self) -> impl Iterator<Item = &Txid> {
        self.rebroadcast.pending()
    }

    /// When local transactions are next due to be re-announced (unix time).
    pub fn rebroadcast_deadline(&self) -> Option<u64> {
        self.rebroadcast.deadline()
    }

    /// The local transactions to re-announce at unix time `now`, if due; the next interval is
    /// drawn from `random`.
    pub fn rebroadcast_due(&mut self, now: u64, random: u64) -> Vec<Txid> {
        self.rebroadcast.due(now, random)
    }

    /// An empty pool with `policy`.
    pub fn new(policy: Policy) -> Self {
        Mempool {
            policy,
            ..Default::default()
        }
    }

    /// The relay policy.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// Number of transactions.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Number of orphans held.
    pub fn orphan_count(&self) -> usize {
        self.orphans.len()
    }

    /// The entry for `txid`.
    pub fn get(&self, txid: &Txid) -> Option<&Entry> {
        self.entries.get(txid)
    }

    /// The entry for a wtxid (BIP339 relay).
    pub fn get_by_wtxid(&self, wtxid: &Wtxid) -> Option<&Entry> {
        self.by_wtxid.get(wtxid).and_then(|t| self.entries.get(t))
    }

    /// True when `txid` is in the pool or held as an orphan.
    pub fn have(&self, txid: &Txid) -> bool {
        self.entries.contains_key(txid) || self.orphans.contains(txid)
    }

    /// All entries in txid order.
    pub fn entries(&self) -> impl Iterator<Item = &Entry> {
        self.entries.values()
    }

    /// The pool transaction spending `outpoint`, if any (`gettxspendingprevout`).
    pub fn spender_of(&self, outpoint: &OutPoint) -> Option<Txid> {
        self.spent_by.get(outpoint).copied()
    }

    /// An unspent output created by a pool transaction (`gettxout` with mempool).
    pub fn output(&self, outpoint: &OutPoint) -> Option<&TxOut> {
        if self.spent_by.contains_key(outpoint) {
            return None;
        }
        self.entries
            .get(&outpoint.txid)?
            .tx
            .outputs
            .get(outpoint.vout as usize)
    }

    /// Offers a transaction at unix time `now`; `random` picks an orphan to evict when the
    /// orphan pool is full.
    pub fn accept(
        &mut self,
        tx: Transaction,
        ctx: &impl ChainContext,
        now: u64,
        random: u64,
    ) -> Result<Accepted, RejectReason> {
        let tx = Arc::new(tx);
        let txid = tx.txid();
        match self.accept_one(&tx, txid, ctx, now)? {
            Some(missing) => {
                let size = tx.total_size();
                if size > MAX_ORPHAN_SIZE {
                    return Err(RejectReason::OrphanTooLarge(size));
                }
                self.orphans
                    .add(tx, txid, now, self.policy.max_orphans, random);
                Ok(Accepted::Orphan(missing))
            }
            None => Ok(Accepted::Added(self.promote_orphans(txid, ctx, now))),
        }
    }

    /// Accepts orphans whose parents became available, breadth first from `parent`.
    fn promote_orphans(&mut self, parent: Txid, ctx: &impl ChainContext, now: u64) -> Vec<Txid> {
        let mut added = vec![parent];
        let mut queue = vec![parent];
        while let Some(p) = queue.pop() {
            for child in self.orphans.children_of(&p) {
                let Some(tx) = self.orphans.remove(&child) else {
                    continue;
                };
                // An orphan still missing other parents goes back; a failing one is dropped.
                match self.accept_one(&tx, child, ctx, now) {
                    Ok(None) => {
                        added.push(child);
                        queue.push(child);
                    }
                    Ok(Some(_)) => self.orphans.add(tx, child, now, self.policy.max_orphans, 0),
                    Err(_) => {}
                }
            }
        }
        added
    }

    /// Validates and inserts one transaction; `Ok(Some(missing))` when parents are unknown.
    fn accept_one(
        &mut self,
        tx: &Arc<Transaction>,
        txid: Txid,
        ctx: &impl ChainContext,
        now: u64,
    ) -> Result<Option<Vec<Txid>>, RejectReason> {
        let v = match self.check(tx, ctx)? {
            Checked::Missing(missing) => return Ok(Some(missing)),
            Checked::Valid(v) => v,
        };
        for p in &v.parents {
            if let Some(e) = self.entries.get_mut(p) {
                e.children.insert(txid);
            }
        }
        for input in &tx.inputs {
            self.spent_by.insert(input.prevout, txid);
        }
        if let Some(view) = &mut self.view {
            view.added(txid, tx);
        }
        let wtxid = tx.wtxid();
        self.by_wtxid.insert(wtxid, txid);
        self.entries.insert(
            txid,
            Entry {
                tx: tx.clone(),
                txid,
                wtxid,
                fee: v.fee,
                weight: v.weight,
                sigop_cost: v.sigop_cost,
                time: now,
                height: ctx.next_height() - 1,
                parents: v.parents,
                children: BTreeSet::new(),
            },
        );
        Ok(None)
    }

    /// Runs every acceptance rule on `tx` without changing the pool (`accept` and
    /// `testmempoolaccept` share it, so a dry run can never disagree with the real one).
    pub fn check(
        &self,
        tx: &Transaction,
        ctx: &(impl ChainContext + ?Sized),
    ) -> Result<Checked, RejectReason> {
        let txid = tx.txid();
        if self.entries.contains_key(&txid) {
            return Err(RejectReason::AlreadyHave(txid));
        }
        if self.orphans.contains(&txid) {
            return Err(RejectReason::AlreadyOrphan(txid));
        }
        ctx.check_transaction(tx).map_err(RejectReason::Invalid)?;
        if tx.is_coinbase() {
            return Err(RejectReason::Coinbase);
        }
        if !self.policy.accept_non_std {
            policy::check_transaction_standard(tx, &self.policy)?;
        }
        if !ctx.is_final(tx) {
            return Err(RejectReason::NotFinal);
        }
        for input in &tx.inputs {
            if let Some(spender) = self.spent_by.get(&input.prevout) {
                return Err(RejectReason::Conflict {
                    outpoint: input.prevout,
                    spender: *spender,
                });
            }
        }

        let next_height = ctx.next_height();
        let mut coins = Vec::with_capacity(tx.inputs.len());
        let mut missing = BTreeSet::new();
        let mut parents = BTreeSet::new();
        for input in &tx.inputs {
            let op = input.prevout;
            if let Some(parent) = self.entries.get(&op.txid) {
                match parent.tx.outputs.get(op.vout as usize) {
                    Some(out) => {
                        parents.insert(op.txid);
                        coins.push(Coin {
                            output: out.clone(),
                            height: next_height,
                            is_coinbase: false,
                        });
                    }
                    None => return Err(RejectReason::AlreadySpentOrMissing(op)),
                }
            } else if let Some(coin) = ctx.coin(&op) {
                coins.push(coin);
            } else {
                missing.insert(op.txid);
            }
        }
        if !missing.is_empty() {
            // If any of this transaction's own outputs is unspent in the chain, it is already
            // mined; its inputs are spent rather than unknown.
            if (0..tx.outputs.len() as u32).any(|i| ctx.coin(&OutPoint::new(txid, i)).is_some()) {
                return Err(RejectReason::AlreadySpentOrMissing(tx.inputs[0].prevout));
            }
            return Ok(Checked::Missing(missing.into_iter().collect()));
        }

        let maturity = ctx.coinbase_maturity();
        let mut value_in: i64 = 0;
        for (input, coin) in tx.inputs.iter().zip(&coins) {
            if coin.is_coinbase && next_height.saturating_sub(coin.height) < maturity {
                return Err(RejectReason::PrematureSpend(format!(
                    "tried to spend coinbase transaction output {}:{} from height {} at height {next_height} before required maturity of {maturity} blocks",
                    input.prevout.txid, input.prevout.vout, coin.height
                )));
            }
            value_in = value_in
                .checked_add(coin.output.value)
                .filter(|v| *v <= crate::primitives::transaction::MAX_MONEY)
                .ok_or_else(|| {
                    RejectReason::Invalid(
                        "total value of all transaction inputs is out of range".into(),
                    )
                })?;
        }
        let value_out: i64 = tx.outputs.iter().map(|o| o.value).sum();
        let fee = value_in - value_out;
        if fee < 0 {
            return Err(RejectReason::Invalid(format!(
                "total value of all transaction inputs for transaction {txid} is {value_in} which is less than the amount spent of {value_out}"
            )));
        }
        if !ctx.sequence_locks_met(tx, &coins) {
            return Err(RejectReason::SequenceLocks);
        }
        let spent: Vec<TxOut> = coins.iter().map(|c| c.output.clone()).collect();
        if !self.policy.accept_non_std {
            policy::check_inputs_standard(tx, &spent)?;
        }
        let scripts: Vec<&[u8]> = spent.iter().map(|o| o.script_pubkey.as_slice()).collect();
        let sigop_cost = tx_sigop_cost(tx, &scripts, Flags::P2SH | Flags::WITNESS);
        if sigop_cost > MAX_STANDARD_TX_SIGOP_COST {
            return Err(RejectReason::NonStandard(format!(
                "transaction has too many sigops: {sigop_cost} > {MAX_STANDARD_TX_SIGOP_COST}"
            )));
        }
        let weight = tx.weight();
        let required = policy::min_relay_fee(weight.div_ceil(4), self.policy.min_relay_fee_per_kvb);
        if fee < required {
            return Err(RejectReason::InsufficientFee { fee, required });
        }
        ctx.verify_scripts(tx, &spent)
            .map_err(|(input, reason)| RejectReason::ScriptFailed { input, reason })?;
        Ok(Checked::Valid(Valid {
            fee,
            weight,
            sigop_cost,
            parents,
        }))
    }

    /// Removes one entry, leaving its descendants (their parent is now confirmed).
    fn remove_entry(&mut self, txid: &Txid) -> Option<Entry> {
        let e = self.entries.remove(txid)?;
        for input in &e.tx.inputs {
            if self.spent_by.get(&input.prevout) == Some(txid) {
                self.spent_by.remove(&input.prevout);
                if let Some(view) = &mut self.view {
                    view.unspent(&input.prevout);
                }
            }
        }
        if let Some(view) = &mut self.view {
            view.removed(txid);
        }
        self.by_wtxid.remove(&e.wtxid);
        for p in &e.parents {
            if let Some(pe) = self.entries.get_mut(p) {
                pe.children.remove(txid);
            }
        }
        for c in &e.children {
            if let Some(ce) = self.entries.get_mut(c) {
                ce.parents.remove(txid);
            }
        }
        self.rebroadcast.remove(txid);
        Some(e)
    }

    /// Removes a transaction and everything that spends it; returns the removed txids.
    pub fn remove_with_descendants(&mut self, txid: &Txid) -> Vec<Txid> {
        let mut removed = Vec::new();
        let mut stack = vec![*txid];
        while let Some(t) = stack.pop() {
            if let Some(e) = self.remove_entry(&t) {
                stack.extend(e.children.iter().copied());
                removed.push(t);
            }
        }
        removed
    }

    /// Updates the pool for a block connected to the main chain: its transactions leave, pool
    /// transactions double-spending its inputs leave with their descendants, and orphans it
    /// makes acceptable are accepted. Returns (removed conflicts, promoted orphans).
    pub fn block_connected(
        &mut self,
        block: &Block,
        ctx: &impl ChainContext,
        now: u64,
    ) -> (Vec<Txid>, Vec<Txid>) {
        let mut conflicts = Vec::new();
        let mut promoted = Vec::new();
        for tx in &block.txdata {
            let txid = tx.txid();
            self.remove_entry(&txid);
            self.orphans.remove(&txid);
            self.rebroadcast.remove(&txid);
            if tx.is_coinbase() {
                continue;
            }
            for input in &tx.inputs {
                if let Some(spender) = self.spent_by.get(&input.prevout).copied() {
                    conflicts.extend(self.remove_with_descendants(&spender));
                }
                for orphan in self.orphans.spenders_of(&input.prevout) {
                    self.orphans.remove(&orphan);
                }
            }
        }
        for tx in &block.txdata {
            let added = self.promote_orphans(tx.txid(), ctx, now);
            promoted.extend(added.into_iter().skip(1));
        }
        (conflicts, promoted)
    }

    /// Returns a disconnected block's transactions to the pool (those still valid on the new
    /// chain), in block order so parents come first. Returns the txids re-added.
    pub fn block_disconnected(
        &mut self,
        block: &Block,
        ctx: &impl ChainContext,
        now: u64,
    ) -> Vec<Txid> {
        let mut readded = Vec::new();
        for tx in block.txdata.iter().filter(|t| !t.is_coinbase()) {
            if let Ok(Accepted::Added(ids)) = self.accept(tx.clone(), ctx, now, 0) {
                readded.extend(ids);
            }
        }
        readded
    }

    /// Drops expired orphans.
    pub fn expire_orphans(&mut self, now: u64) {
        self.orphans.expire(now);
    }
}

#[cfg(test)]
mod tests;
