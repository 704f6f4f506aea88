//! The pool across restarts (Core's `-persistmempool`): the node turns its pool into a
//! `mempool.dat` ([`MempoolFile`]) and takes one back at start; the driver keeps the file.

use super::Node;
use crate::chain::ChainStore;
use crate::mempool::persist::{MempoolFile, MempoolFileError, SavedTx};
use crate::mempool::{Accepted, RejectReason};
use crate::primitives::Txid;
use std::collections::{BTreeMap, BTreeSet};

/// What loading a `mempool.dat` did, as Core's log line counts it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MempoolLoaded {
    /// Transactions that entered the pool.
    pub accepted: usize,
    /// Transactions refused (spent, mined meanwhile, no longer valid...).
    pub failed: usize,
    /// Transactions the pool held already.
    pub already_there: usize,
    /// Local transactions rebroadcast until mined again.
    pub unbroadcast: usize,
    /// Fee deltas left out: rbtcd has no `prioritisetransaction`.
    pub deltas_ignored: usize,
}

impl<S: ChainStore> Node<S> {
    /// The pool as Core's `mempool.dat` (version 2, obfuscated with a fresh key): every
    /// transaction after the pooled ones it spends, with its accept time; rbtcd's locally
    /// submitted transactions still waiting to be mined as the unbroadcast set.
    pub fn save_mempool(&mut self) -> Vec<u8> {
        let key = self.mempool_rng.next_u64().to_le_bytes();
        let file = MempoolFile {
            txs: self.pool_in_spending_order(),
            deltas: Vec::new(),
            unbroadcast: self.mempool.rebroadcast_pending().copied().collect(),
        };
        file.encode(Some(key))
    }

    /// Pooled transactions, parents first (Kahn's order over in-pool parents), so that
    /// reading them back in order never meets a child before its parent.
    fn pool_in_spending_order(&self) -> Vec<SavedTx> {
        let mut waiting: BTreeMap<Txid, usize> = self
            .mempool
            .entries()
            .map(|e| (e.txid, e.parents.len()))
            .collect();
        let mut ready: Vec<Txid> = waiting
            .iter()
            .filter(|(_, &n)| n == 0)
            .map(|(t, _)| *t)
            .collect();
        let mut out = Vec::with_capacity(waiting.len());
        while let Some(txid) = ready.pop() {
            let Some(e) = self.mempool.get(&txid) else {
                continue;
            };
            out.push(SavedTx {
                tx: (*e.tx).clone(),
                time: i64::try_from(e.time).unwrap_or(i64::MAX),
                fee_delta: 0,
            });
            for child in &e.children {
                if let Some(n) = waiting.get_mut(child) {
                    *n -= 1;
                    if *n == 0 {
                        ready.push(*child);
                    }
                }
            }
        }
        out
    }

    /// Offers the transactions of a `mempool.dat` to the pool, each with its saved accept
    /// time, without relaying them (peers hear of them as of any pooled transaction); the
    /// unbroadcast ones are rebroadcast until mined. A file that does not decode changes
    /// nothing.
    pub fn load_mempool(&mut self, bytes: &[u8]) -> Result<MempoolLoaded, MempoolFileError> {
        let file = MempoolFile::decode(bytes)?;
        let mut loaded = MempoolLoaded {
            deltas_ignored: file.deltas.len()
                + file.txs.iter().filter(|s| s.fee_delta != 0).count(),
            ..MempoolLoaded::default()
        };
        let now = self.now.unix_secs();
        for saved in file.txs {
            let txid = saved.tx.txid();
            // A time from the future (a clock set back) counts as now.
            let time = u64::try_from(saved.time).unwrap_or(0).min(now);
            let random = self.mempool_rng.next_u64();
            match self.mempool.accept(saved.tx, &self.chain, time, random) {
                Ok(Accepted::Added(_)) => loaded.accepted += 1,
                Err(RejectReason::AlreadyHave(_)) if self.mempool.have(&txid) => {
                    loaded.already_there += 1
                }
                Ok(Accepted::Orphan(_)) | Err(_) => loaded.failed += 1,
            }
        }
        let unbroadcast: BTreeSet<Txid> = file.unbroadcast.into_iter().collect();
        for txid in unbroadcast {
            if self.mempool.have(&txid) {
                self.mempool.rebroadcast_until_mined(txid, now);
                loaded.unbroadcast += 1;
            }
        }
        self.arm_rebroadcast();
        Ok(loaded)
    }
}
