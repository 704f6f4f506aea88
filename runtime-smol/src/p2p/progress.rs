//! btcd's sync progress line: every 10 seconds of block processing, how many blocks and
//! transactions were processed, the height reached and the tip's date.

use crate::logging::timestamp;
use std::time::Duration;

/// How often the line is logged at most.
pub const INTERVAL_MS: u64 = 10_000;

/// Counts connected blocks between progress lines.
#[derive(Debug)]
pub struct Progress {
    blocks: u64,
    txs: u64,
    last_log_ms: u64,
}

impl Progress {
    /// Starts counting at `now_ms`.
    pub fn new(now_ms: u64) -> Progress {
        Progress {
            blocks: 0,
            txs: 0,
            last_log_ms: now_ms,
        }
    }

    /// Records a connected block with `txs` transactions at `height` whose header time is
    /// `block_time`; returns the line to log when 10 s have passed since the last one.
    pub fn block(
        &mut self,
        txs: usize,
        height: u32,
        block_time: u32,
        now_ms: u64,
    ) -> Option<String> {
        self.blocks += 1;
        self.txs += txs as u64;
        let elapsed = now_ms.saturating_sub(self.last_log_ms);
        if elapsed < INTERVAL_MS {
            return None;
        }
        let plural =
            |n: u64, one: &'static str, many: &'static str| if n == 1 { one } else { many };
        let date = timestamp(Duration::from_secs(u64::from(block_time)));
        let line = format!(
            "Processed {} {} in the last {:.2}s ({} {}, height {height}, {} +0000 UTC)",
            self.blocks,
            plural(self.blocks, "block", "blocks"),
            elapsed as f64 / 1000.0,
            self.txs,
            plural(self.txs, "transaction", "transactions"),
            date.trim_end_matches(".000"),
        );
        *self = Progress::new(now_ms);
        Some(line)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logs_every_ten_seconds_with_btcd_wording() {
        let mut p = Progress::new(0);
        assert_eq!(p.block(1, 1, 1_296_688_603, 1_000), None);
        assert_eq!(p.block(3, 2, 1_296_688_604, 9_999), None);
        assert_eq!(
            p.block(2, 3, 1_296_688_605, 10_010).as_deref(),
            Some("Processed 3 blocks in the last 10.01s (6 transactions, height 3, 2011-02-02 23:16:45 +0000 UTC)")
        );
        assert_eq!(
            p.block(1, 4, 1_296_688_606, 15_000),
            None,
            "counting restarts"
        );
        assert_eq!(
            p.block(0, 5, 1_296_688_607, 20_010).as_deref(),
            Some("Processed 2 blocks in the last 10.00s (1 transaction, height 5, 2011-02-02 23:16:47 +0000 UTC)")
        );
    }
}
