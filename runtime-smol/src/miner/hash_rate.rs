//! The miner's hash rate as btcd reports it: a running average updated every 10 seconds.

use std::time::Duration;

/// How often btcd's speed monitor folds the hashes done into the average.
pub const UPDATE_INTERVAL: Duration = Duration::from_secs(10);

/// A running average of hashes per second: each period's rate is averaged with the previous
/// average (the first period sets it), as btcd's `speedMonitor` does.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct HashRate {
    per_sec: f64,
}

impl HashRate {
    /// Folds in `hashes` done over `period`.
    pub fn update(&mut self, hashes: u64, period: Duration) {
        let current = hashes as f64 / period.as_secs_f64().max(f64::MIN_POSITIVE);
        if self.per_sec == 0.0 {
            self.per_sec = current;
        }
        self.per_sec = (self.per_sec + current) / 2.0;
    }

    /// Hashes per second.
    pub fn per_sec(&self) -> f64 {
        self.per_sec
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_period_sets_the_rate_then_periods_are_averaged() {
        let mut r = HashRate::default();
        assert_eq!(r.per_sec(), 0.0);
        r.update(1000, UPDATE_INTERVAL);
        assert_eq!(r.per_sec(), 100.0);
        r.update(3000, UPDATE_INTERVAL);
        assert_eq!(r.per_sec(), 200.0);
        r.update(0, UPDATE_INTERVAL);
        assert_eq!(r.per_sec(), 100.0);
        r.update(500, Duration::from_secs(5));
        assert_eq!(r.per_sec(), 100.0);
    }

    #[test]
    fn an_idle_miner_decays_to_zero_and_restarts_from_the_next_period() {
        let mut r = HashRate::default();
        r.update(800, UPDATE_INTERVAL);
        for _ in 0..64 {
            r.update(0, UPDATE_INTERVAL);
        }
        assert!(r.per_sec() < 1e-15);
        r.update(0, UPDATE_INTERVAL);
        while r.per_sec() != 0.0 {
            r.update(0, UPDATE_INTERVAL);
        }
        r.update(600, UPDATE_INTERVAL);
        assert_eq!(r.per_sec(), 60.0);
    }
}
