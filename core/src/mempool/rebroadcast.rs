//! btcd's rebroadcast of transactions submitted over RPC: re-announced until they are mined.

use crate::primitives::Txid;
use std::collections::BTreeSet;

/// Seconds before the first rebroadcast after a transaction is submitted.
pub const FIRST_REBROADCAST_SECS: u64 = 5 * 60;
/// Upper bound of the random interval between later rebroadcasts.
pub const MAX_REBROADCAST_INTERVAL_SECS: u64 = 30 * 60;

/// Locally submitted transactions still waiting to be mined, and when to announce them next.
#[derive(Default, Debug)]
pub struct Rebroadcast {
    pending: BTreeSet<Txid>,
    next: Option<u64>,
}

impl Rebroadcast {
    /// Tracks a transaction submitted at `now`.
    pub fn add(&mut self, txid: Txid, now: u64) {
        self.pending.insert(txid);
        if self.next.is_none() {
            self.next = Some(now + FIRST_REBROADCAST_SECS);
        }
    }

    /// Stops tracking (mined, or dropped from the mempool).
    pub fn remove(&mut self, txid: &Txid) {
        self.pending.remove(txid);
        if self.pending.is_empty() {
            self.next = None;
        }
    }

    /// The transactions tracked.
    pub fn pending(&self) -> impl Iterator<Item = &Txid> {
        self.pending.iter()
    }

    /// When the next rebroadcast is due, if anything is pending.
    pub fn deadline(&self) -> Option<u64> {
        self.next
    }

    /// The transactions to announce at `now`, if due; re-arms at a random interval drawn from
    /// `random`.
    pub fn due(&mut self, now: u64, random: u64) -> Vec<Txid> {
        match self.next {
            Some(t) if t <= now => {
                self.next = Some(now + 1 + random % MAX_REBROADCAST_INTERVAL_SECS);
                self.pending.iter().copied().collect()
            }
            _ => Vec::new(),
        }
    }

    /// True when nothing is pending.
    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::primitives::Hash256;

    #[test]
    fn first_after_five_minutes_then_random_until_removed() {
        let mut r = Rebroadcast::default();
        let t = Hash256([1; 32]);
        r.add(t, 1000);
        assert!(r.due(1000 + FIRST_REBROADCAST_SECS - 1, 7).is_empty());
        assert_eq!(r.due(1000 + FIRST_REBROADCAST_SECS, 7), vec![t]);
        let next = r.deadline().unwrap();
        assert!(next > 1000 + FIRST_REBROADCAST_SECS);
        assert!(next <= 1000 + FIRST_REBROADCAST_SECS + MAX_REBROADCAST_INTERVAL_SECS);
        r.remove(&t);
        assert_eq!(r.deadline(), None);
        assert!(r.due(u64::MAX, 0).is_empty());
    }
}
