//! addr/addrv2 relay rate limiting, as Bitcoin Core: a token bucket per peer filling at 0.1
//! address per second up to 1000, starting with one token, and topped up by 1000 when we ask
//! the peer for addresses (its answer is solicited). Addresses beyond the allowance are dropped
//! and counted, never scored: an honest peer may simply relay a burst.

use crate::time::Time;

/// Tokens gained per second.
pub const ADDR_RATE_PER_SEC: f64 = 0.1;
/// Most tokens the bucket fills to with time (Core's `MAX_ADDR_PROCESSING_TOKEN_BUCKET`).
pub const ADDR_BUCKET_MAX: f64 = 1000.0;
/// Tokens granted when we send `getaddr` (Core's `MAX_ADDR_TO_SEND`).
pub const GETADDR_GRANT: f64 = 1000.0;

/// One peer's allowance and what it did with it.
#[derive(Clone, Debug, PartialEq)]
pub struct AddrRateLimit {
    tokens: f64,
    /// When the bucket was last filled.
    filled_at: Time,
    /// Addresses taken in.
    pub processed: u64,
    /// Addresses dropped for exceeding the allowance.
    pub dropped: u64,
}

impl AddrRateLimit {
    /// A fresh allowance at `now`: one token.
    pub fn new(now: Time) -> Self {
        AddrRateLimit {
            tokens: 1.0,
            filled_at: now,
            processed: 0,
            dropped: 0,
        }
    }

    /// We asked the peer for addresses: its answer may be large.
    pub fn grant_getaddr(&mut self) {
        self.tokens += GETADDR_GRANT;
    }

    /// Of `n` addresses received at `now`, how many to take in; the rest are counted as
    /// dropped. Grants above the cap (after a `getaddr`) are kept until spent.
    pub fn admit(&mut self, n: usize, now: Time) -> usize {
        let elapsed = now.since(self.filled_at).as_secs_f64();
        self.filled_at = self.filled_at.max(now);
        if self.tokens < ADDR_BUCKET_MAX {
            self.tokens = (self.tokens + elapsed * ADDR_RATE_PER_SEC).min(ADDR_BUCKET_MAX);
        }
        let taken = (self.tokens.floor() as usize).min(n);
        self.tokens -= taken as f64;
        self.processed += taken as u64;
        self.dropped += (n - taken) as u64;
        taken
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(ms: u64) -> Time {
        Time::from_millis(ms)
    }

    #[test]
    fn one_address_then_one_per_ten_seconds() {
        let mut r = AddrRateLimit::new(ms(0));
        assert_eq!(r.admit(5, ms(0)), 1);
        assert_eq!(r.dropped, 4);
        assert_eq!(r.admit(1, ms(9_999)), 0);
        assert_eq!(r.admit(1, ms(10_000)), 1);
        assert_eq!((r.processed, r.dropped), (2, 5));
    }

    #[test]
    fn the_bucket_fills_to_a_thousand_at_most() {
        let mut r = AddrRateLimit::new(ms(0));
        let a_day = 86_400_000;
        assert_eq!(r.admit(5000, ms(a_day)), 1000);
        assert_eq!(r.dropped, 4000);
    }

    #[test]
    fn a_getaddr_answer_is_admitted_whole() {
        let mut r = AddrRateLimit::new(ms(0));
        r.grant_getaddr();
        assert_eq!(r.admit(1000, ms(0)), 1000);
        assert_eq!(r.admit(1000, ms(0)), 1, "the starting token remains");
    }
}
