//! Orphan transactions: ones whose parents are not known yet, kept bounded and short-lived.

use crate::chain::shared_map::SharedMap;
use crate::primitives::{OutPoint, Transaction, Txid};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// How long an orphan is kept (btcd's `orphanTTL`), in seconds.
pub const ORPHAN_TTL_SECS: u64 = 15 * 60;
/// Largest orphan kept, in bytes (btcd's `maxOrphanTxSize`).
pub const MAX_ORPHAN_SIZE: usize = 100_000;

struct Orphan {
    tx: Arc<Transaction>,
    expires: u64,
}

/// The orphan pool, indexed by txid and by the outpoints orphans spend.
#[derive(Default)]
pub struct Orphans {
    by_txid: BTreeMap<Txid, Orphan>,
    by_prevout: BTreeMap<OutPoint, BTreeSet<Txid>>,
    /// The orphans' txids for readers beside the node, once [`Orphans::keep_ids`] was called.
    ids: Option<SharedMap<Txid, ()>>,
}

impl Orphans {
    /// Number of orphans held.
    pub fn len(&self) -> usize {
        self.by_txid.len()
    }

    /// True when none are held.
    pub fn is_empty(&self) -> bool {
        self.by_txid.is_empty()
    }

    /// True when `txid` is held.
    pub fn contains(&self, txid: &Txid) -> bool {
        self.by_txid.contains_key(txid)
    }

    /// Keeps the orphans' txids in a map whose copies never change ([`Orphans::ids`]).
    pub fn keep_ids(&mut self) {
        if self.ids.is_none() {
            let mut ids = SharedMap::default();
            for txid in self.by_txid.keys() {
                ids.insert(*txid, ());
            }
            self.ids = Some(ids);
        }
    }

    /// The orphans' txids as of now, when [`Orphans::keep_ids`] was called (O(1)).
    pub fn ids(&self) -> Option<SharedMap<Txid, ()>> {
        self.ids.clone()
    }

    /// Adds an orphan, evicting one chosen by `random` when `max` are already held. `max == 0`
    /// keeps none.
    pub fn add(&mut self, tx: Arc<Transaction>, txid: Txid, now: u64, max: usize, random: u64) {
        if max == 0 || self.contains(&txid) {
            return;
        }
        self.expire(now);
        if self.by_txid.len() >= max {
            let victim = *self
                .by_txid
                .keys()
                .nth((random % self.by_txid.len() as u64) as usize)
                .expect("index below len");
            self.remove(&victim);
        }
        for input in &tx.inputs {
            self.by_prevout
                .entry(input.prevout)
                .or_default()
                .insert(txid);
        }
        if let Some(ids) = &mut self.ids {
            ids.insert(txid, ());
        }
        self.by_txid.insert(
            txid,
            Orphan {
                tx,
                expires: now + ORPHAN_TTL_SECS,
            },
        );
    }

    /// Removes one orphan.
    pub fn remove(&mut self, txid: &Txid) -> Option<Arc<Transaction>> {
        let orphan = self.by_txid.remove(txid)?;
        if let Some(ids) = &mut self.ids {
            ids.remove(txid);
        }
        for input in &orphan.tx.inputs {
            if let Some(set) = self.by_prevout.get_mut(&input.prevout) {
                set.remove(txid);
                if set.is_empty() {
                    self.by_prevout.remove(&input.prevout);
                }
            }
        }
        Some(orphan.tx)
    }

    /// Drops orphans whose time is up.
    pub fn expire(&mut self, now: u64) {
        let dead: Vec<Txid> = self
            .by_txid
            .iter()
            .filter(|(_, o)| o.expires <= now)
            .map(|(t, _)| *t)
            .collect();
        for t in dead {
            self.remove(&t);
        }
    }

    /// Orphans spending any output of `parent`, in txid order.
    pub fn children_of(&self, parent: &Txid) -> Vec<Txid> {
        let from = OutPoint::new(*parent, 0);
        let mut out: BTreeSet<Txid> = BTreeSet::new();
        for (_, set) in self
            .by_prevout
            .range(from..)
            .take_while(|(op, _)| op.txid == *parent)
        {
            out.extend(set.iter().copied());
        }
        out.into_iter().collect()
    }

    /// Orphans that spend `outpoint` (they conflict with a transaction that now spends it).
    pub fn spenders_of(&self, outpoint: &OutPoint) -> Vec<Txid> {
        self.by_prevout
            .get(outpoint)
            .map(|s| s.iter().copied().collect())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::primitives::{Hash256, TxIn};

    fn orphan(parent: u8, n: u8) -> (Arc<Transaction>, Txid) {
        let tx = Transaction {
            version: 1,
            inputs: vec![TxIn {
                prevout: OutPoint::new(Hash256([parent; 32]), n as u32),
                ..Default::default()
            }],
            outputs: vec![],
            lock_time: n as u32,
        };
        let id = tx.txid();
        (Arc::new(tx), id)
    }

    #[test]
    fn bounded_expiring_and_indexed_by_parent() {
        let mut o = Orphans::default();
        for n in 0..5 {
            let (tx, id) = orphan(1, n);
            o.add(tx, id, 100, 3, n as u64);
        }
        assert_eq!(o.len(), 3);
        assert_eq!(o.children_of(&Hash256([1; 32])).len(), 3);
        assert!(o.children_of(&Hash256([2; 32])).is_empty());
        o.expire(100 + ORPHAN_TTL_SECS);
        assert!(o.is_empty());
        assert!(o.by_prevout.is_empty(), "index emptied with the pool");
    }
}
