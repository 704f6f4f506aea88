//! The node's deadlines as one ordered table: each has an identity ([`Timer`]), arming one
//! again replaces its time, [`Node::poll_timeout`](super::Node::poll_timeout) is the earliest,
//! and a tick runs only the timers that are due (quinn-proto's timer table; DESIGN.md's
//! "timers have identity").

use crate::net::peer::PeerId;
use crate::rpc::ws::ClientId;
use crate::time::Time;
use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;

/// A named deadline.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Timer {
    /// A peer's next deadline: handshake, idle, pong or the next ping.
    Peer(PeerId),
    /// Look for peers stalling the block download.
    StallCheck,
    /// Forget transaction requests that were not delivered in time.
    TxRequests,
    /// Expire orphan transactions.
    Orphans,
    /// Announce the local transactions not yet mined again.
    Rebroadcast,
    /// Dial a permanent peer.
    Reconnect(SocketAddr),
    /// A dial got no answer in time.
    Dial(SocketAddr),
    /// Try again to fill free outbound slots.
    Outbound,
    /// Save the address book.
    AddrSave,
    /// Advertise our addresses to every peer again.
    LocalAdvert,
    /// Ask the network's DNS seed with this index again (its last lookup gave nothing).
    SeedRetry(usize),
    /// Send a peer its queued transaction announcements (`trickleinterval`).
    Trickle(PeerId),
    /// The miner's work may need renewing (a fresh timestamp, a held-back template).
    Mining,
    /// A WebSocket client without credentials ran out of time to authenticate.
    WsAuth(ClientId),
    /// Work a step on the parked RPC calls.
    RpcJobs,
}

/// Armed timers, by identity and by time.
#[derive(Debug, Default)]
pub(super) struct Timers {
    by_timer: BTreeMap<Timer, Time>,
    by_time: BTreeSet<(Time, Timer)>,
}

impl Timers {
    /// Arms `timer` for `at`, replacing its earlier time if armed.
    pub(super) fn arm(&mut self, timer: Timer, at: Time) {
        // Re-armed for the same time after every input (the miner's timer): nothing to move.
        if self.by_timer.get(&timer) == Some(&at) {
            return;
        }
        if let Some(old) = self.by_timer.insert(timer, at) {
            self.by_time.remove(&(old, timer));
        }
        self.by_time.insert((at, timer));
    }

    /// Arms `timer` for `at` unless it is armed already (for an earlier or later time).
    pub(super) fn arm_once(&mut self, timer: Timer, at: Time) {
        if !self.by_timer.contains_key(&timer) {
            self.arm(timer, at);
        }
    }

    /// Arms `timer` for `at`, or disarms it when `at` is `None`.
    pub(super) fn set(&mut self, timer: Timer, at: Option<Time>) {
        match at {
            Some(at) => self.arm(timer, at),
            None => self.cancel(timer),
        }
    }

    /// Disarms `timer`.
    pub(super) fn cancel(&mut self, timer: Timer) {
        if let Some(at) = self.by_timer.remove(&timer) {
            self.by_time.remove(&(at, timer));
        }
    }

    /// True when `timer` is armed.
    pub(super) fn is_armed(&self, timer: Timer) -> bool {
        self.by_timer.contains_key(&timer)
    }

    /// When the earliest timer falls due.
    pub(super) fn next(&self) -> Option<Time> {
        self.by_time.first().map(|(at, _)| *at)
    }

    /// Disarms and returns every timer due at `now`, earliest first. Timers armed again while
    /// these run wait for the next tick, even when due at once.
    pub(super) fn take_due(&mut self, now: Time) -> Vec<Timer> {
        let mut due = Vec::new();
        while let Some(&(at, timer)) = self.by_time.first() {
            if at > now {
                break;
            }
            self.by_time.pop_first();
            self.by_timer.remove(&timer);
            due.push(timer);
        }
        due
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(ms: u64) -> Time {
        Time::from_millis(ms)
    }

    #[test]
    fn the_earliest_is_next_rearming_replaces_and_only_due_timers_are_taken() {
        let mut timers = Timers::default();
        assert_eq!(timers.next(), None);
        timers.arm(Timer::AddrSave, t(50));
        timers.arm(Timer::Peer(1), t(10));
        timers.arm(Timer::Peer(2), t(20));
        assert_eq!(timers.next(), Some(t(10)));
        timers.arm(Timer::Peer(1), t(30));
        assert_eq!(timers.next(), Some(t(20)), "re-arming replaces");
        timers.arm(Timer::Peer(1), t(30));
        assert_eq!(timers.by_time.len(), timers.by_timer.len(), "re-armed once");
        timers.arm_once(Timer::Peer(2), t(5));
        assert!(timers.is_armed(Timer::Peer(2)) && !timers.is_armed(Timer::Orphans));
        assert_eq!(timers.next(), Some(t(20)), "arm_once keeps an armed time");
        timers.set(Timer::Peer(2), None);
        assert_eq!(timers.take_due(t(29)), []);
        assert_eq!(timers.take_due(t(50)), [Timer::Peer(1), Timer::AddrSave]);
        assert_eq!(timers.next(), None);
        timers.arm(Timer::RpcJobs, t(50));
        timers.cancel(Timer::RpcJobs);
        assert_eq!(timers.take_due(t(100)), []);
    }
}
