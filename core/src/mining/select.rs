//! Choosing a block's transactions from the mempool (the selection loop of btcd's
//! `NewBlockTemplate`): highest fee rate first, a transaction only after all its in-pool
//! parents, within the weight and sigop cost limits.

use crate::mempool::Entry;
use crate::primitives::{Transaction, Txid};
use std::cmp::Ordering;
use std::collections::{BTreeMap, BinaryHeap};

/// What a block may hold and what is already used (header and coinbase).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Budget {
    /// Weight the block must stay below (btcd's `blockmaxweight` comparison is strict).
    pub max_weight: usize,
    /// Most sigop cost the block may have.
    pub max_sigop_cost: u32,
    /// Weight used before any transaction is chosen.
    pub weight: usize,
    /// Sigop cost used before any transaction is chosen.
    pub sigop_cost: u32,
    /// Weight a witness commitment adds to the coinbase, paid by the first witness transaction.
    pub commitment_weight: usize,
    /// Whether transactions with witnesses may be chosen (segwit active at the block's height).
    pub segwit: bool,
}

/// The chosen transactions, parents before children, and their totals.
#[derive(Debug)]
pub struct Selection<'a> {
    /// The chosen entries in block order.
    pub entries: Vec<&'a Entry>,
    /// Sum of their fees.
    pub fees: i64,
    /// Block weight with them, from the budget's starting weight.
    pub weight: usize,
    /// Block sigop cost with them, from the budget's starting cost.
    pub sigop_cost: u32,
    /// Whether any has a witness (the block then needs a witness commitment).
    pub witness: bool,
}

/// A candidate in the priority queue, ordered by fee rate (fee per weight unit), then by
/// txid so equal rates are taken in a reproducible order.
struct ByFeeRate<'a>(&'a Entry);

impl ByFeeRate<'_> {
    fn key(&self) -> (i128, i128) {
        (i128::from(self.0.fee), self.0.weight.max(1) as i128)
    }
}

impl Ord for ByFeeRate<'_> {
    fn cmp(&self, other: &Self) -> Ordering {
        let ((fa, wa), (fb, wb)) = (self.key(), other.key());
        (fa * wb)
            .cmp(&(fb * wa))
            .then_with(|| other.0.txid.cmp(&self.0.txid))
    }
}

impl PartialOrd for ByFeeRate<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for ByFeeRate<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for ByFeeRate<'_> {}

/// Chooses from `pool` within `budget`, skipping transactions `is_final` rejects.
///
/// A transaction with in-pool parents waits until all of them are chosen, as btcd's
/// dependency map; one whose parent did not fit is left out with it. Parents outside `pool`
/// count as confirmed.
pub fn select<'a>(
    pool: impl IntoIterator<Item = &'a Entry>,
    budget: &Budget,
    is_final: impl Fn(&Transaction) -> bool,
) -> Selection<'a> {
    let pool: BTreeMap<Txid, &Entry> = pool.into_iter().map(|e| (e.txid, e)).collect();
    let mut waiting: BTreeMap<Txid, usize> = BTreeMap::new();
    let mut queue = BinaryHeap::new();
    for e in pool.values() {
        let parents = e.parents.iter().filter(|p| pool.contains_key(p)).count();
        if parents == 0 {
            queue.push(ByFeeRate(e));
        } else {
            waiting.insert(e.txid, parents);
        }
    }
    let mut chosen = Selection {
        entries: Vec::new(),
        fees: 0,
        weight: budget.weight,
        sigop_cost: budget.sigop_cost,
        witness: false,
    };
    while let Some(ByFeeRate(e)) = queue.pop() {
        let has_witness = e.tx.has_witness();
        if has_witness && !budget.segwit {
            continue;
        }
        let commitment = if has_witness && !chosen.witness {
            budget.commitment_weight
        } else {
            0
        };
        let weight = chosen.weight + commitment + e.weight;
        let sigop_cost = chosen.sigop_cost.saturating_add(e.sigop_cost);
        if weight >= budget.max_weight || sigop_cost > budget.max_sigop_cost || !is_final(&e.tx) {
            continue;
        }
        chosen.entries.push(e);
        chosen.fees += e.fee;
        chosen.weight = weight;
        chosen.sigop_cost = sigop_cost;
        chosen.witness |= has_witness;
        for child in &e.children {
            if let Some(left) = waiting.get_mut(child) {
                *left -= 1;
                if *left == 0 {
                    waiting.remove(child);
                    queue.push(ByFeeRate(pool[child]));
                }
            }
        }
    }
    chosen
}

#[cfg(test)]
mod tests;
