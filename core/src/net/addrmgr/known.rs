//! What the address manager knows about one address: when it was seen, tried and connected,
//! and how btcd judges it from that.

use crate::wire::{AddrV2, AddrV2Entry, ServiceFlags};

/// Days without news after which an address is dropped as stale (btcd's numMissingDays).
pub const MISSING_DAYS: u64 = 30;
/// Failed attempts after which a never-connected address is bad (btcd's numRetries).
pub const RETRIES: u32 = 3;
/// Failures after which an address without a success in [`MIN_BAD_DAYS`] is bad.
pub const MAX_FAILURES: u32 = 10;
/// See [`MAX_FAILURES`].
pub const MIN_BAD_DAYS: u64 = 7;

const DAY: u64 = 24 * 3600;

/// An address with its port: the identity of an entry.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct PeerAddr {
    /// The network address.
    pub addr: AddrV2,
    /// The port.
    pub port: u16,
}

/// One known address.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct KnownAddress {
    /// Where it is.
    pub peer: PeerAddr,
    /// Services it advertised.
    pub services: ServiceFlags,
    /// When it was last heard of (unix seconds).
    pub time: u64,
    /// The address of the peer that told us about it.
    pub source: AddrV2,
    /// Failed attempts since the last success.
    pub attempts: u32,
    /// When we last tried to connect (0: never).
    pub last_attempt: u64,
    /// When we last connected successfully (0: never).
    pub last_success: u64,
    /// In the tried table (else in one or more new buckets).
    pub tried: bool,
    /// How many new buckets hold it.
    pub refs: u8,
}

impl KnownAddress {
    /// The entry as an addrv2 message carries it.
    pub fn entry(&self) -> AddrV2Entry {
        AddrV2Entry {
            time: self.time.min(u64::from(u32::MAX)) as u32,
            services: self.services,
            addr: self.peer.addr.clone(),
            port: self.peer.port,
        }
    }

    /// btcd's selection weight: low right after an attempt, shrinking with each failure.
    pub fn chance(&self, now: u64) -> f64 {
        let since_attempt = now.saturating_sub(self.last_attempt);
        let mut c = if since_attempt < 600 { 0.01 } else { 1.0 };
        for _ in 0..self.attempts.min(64) {
            c /= 1.5;
        }
        c
    }

    /// btcd's judgement that an address is not worth keeping: from the future, not heard of
    /// in a month, never reached after several tries, or failing for a week.
    pub fn is_bad(&self, now: u64) -> bool {
        if self.last_attempt + 60 > now && self.last_attempt != 0 {
            return false;
        }
        self.time > now + 600
            || self.time + MISSING_DAYS * DAY < now
            || (self.last_success == 0 && self.attempts >= RETRIES)
            || (self.last_success + MIN_BAD_DAYS * DAY < now && self.attempts >= MAX_FAILURES)
    }
}
