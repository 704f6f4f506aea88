//! btcd's sync progress line: every 10 seconds of block processing, how many blocks and
//! transactions were processed, the height reached and the tip's date.

use crate::logging::timestamp;
use rbtcd_core::time::Time;
use std::time::Duration;

/// How often the line is logged at most.
pub const INTERVAL: Duration = Duration::from_secs(10);

/// Counts connected blocks between progress lines.
#[derive(Debug)]
pub struct Progress {
    blocks: u64,
    txs: u64,
    last_log: Time,
}

impl Progress {
    /// Starts counting at `now`.
    pub fn new(now: Time) -> Progress {
        Progress {
            blocks: 0,
            txs: 0,
            last_log: now,
        }
    }

    /// Records a connected block with `txs` transactions at `height` whose header time is
    /// `block_time`; returns the line to log when 10 s have passed since the last one.
    pub fn block(&mut self, txs: usize, height: u32, block_time: u32, now: Time) -> Option<String> {
        self.blocks += 1;
        self.txs += txs as u64;
        let elapsed = now.since(self.last_log);
        if elapsed < INTERVAL {
            return None;
        }
        let plural =
            |n: u64, one: &'static str, many: &'static str| if n == 1 { one } else { many };
        let date = timestamp(Duration::from_secs(u64::from(block_time)));
        let line = format!(
            "Processed {} {} in the last {:.2}s ({} {}, height {height}, {} +0000 UTC)",
            self.blocks,
            plural(self.blocks, "block", "blocks"),
            elapsed.as_secs_f64(),
            self.txs,
            plural(self.txs, "transaction", "transactions"),
            date.trim_end_matches(".000"),
        );
        *self = Progress::new(now);
        Some(line)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(ms: u64) -> Time {
        Time::from_millis(ms)
    }

    #[test]
    fn logs_every_ten_seconds_with_btcd_wording() {
        let mut p = Progress::new(t(0));
        assert_eq!(p.block(1, 1, 1_296_688_603, t(1_000)), None);
        assert_eq!(p.block(3, 2, 1_296_688_604, t(9_999)), None);
        assert_eq!(
            p.block(2, 3, 1_296_688_605, t(10_010)).as_deref(),
            Some("Processed 3 blocks in the last 10.01s (6 transactions, height 3, 2011-02-02 23:16:45 +0000 UTC)")
        );
        assert_eq!(
            p.block(1, 4, 1_296_688_606, t(15_000)),
            None,
            "counting restarts"
        );
        assert_eq!(
            p.block(0, 5, 1_296_688_607, t(20_010)).as_deref(),
            Some("Processed 2 blocks in the last 10.00s (1 transaction, height 5, 2011-02-02 23:16:47 +0000 UTC)")
        );
    }
}
