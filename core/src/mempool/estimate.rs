//! A fee estimator in the spirit of btcd's (`mempool/estimatefee.go`), kept simple: for each
//! block the node connects, the mempool transactions it mined are recorded with their fee rate
//! and how many blocks they waited; `estimatefee n` answers the median fee rate of the
//! transactions in the window that confirmed within `n` blocks.
//!
//! btcd sorts observations into per-wait bins and also rolls back on reorganisations; here a
//! disconnected block's observations are dropped. With no observed transaction confirming in
//! time, the answer is the minimum relay fee (what any transaction must pay anyway).

use super::{Entry, Mempool};
use crate::primitives::Block;
use std::collections::VecDeque;
use std::fmt;

/// Largest confirmation target (btcd's `estimateFeeDepth`).
pub const MAX_TARGET: u32 = 25;
/// Blocks that must be seen before estimating (btcd's `DefaultEstimateFeeMinRegisteredBlocks`).
pub const MIN_BLOCKS: u32 = 3;
/// Blocks whose observations are kept.
const WINDOW: usize = 100;

/// Why no estimate can be given; the texts are btcd's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EstimateError {
    /// Fewer than [`MIN_BLOCKS`] blocks were connected while the node watched its mempool.
    TooFewBlocks,
    /// A target of zero blocks.
    ZeroTarget,
    /// A target beyond [`MAX_TARGET`] blocks.
    TargetTooFar,
}

impl fmt::Display for EstimateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EstimateError::TooFewBlocks => write!(f, "not enough blocks have been observed"),
            EstimateError::ZeroTarget => write!(f, "cannot confirm transaction in zero blocks"),
            EstimateError::TargetTooFar => write!(
                f,
                "can only estimate fees for up to {MAX_TARGET} blocks from now"
            ),
        }
    }
}

impl std::error::Error for EstimateError {}

/// One mined mempool transaction: blocks it waited and its fee rate (satoshis per 1000
/// virtual bytes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Observed {
    waited: u32,
    rate: i64,
}

/// Recent blocks' observations.
#[derive(Clone, Debug, Default)]
pub struct FeeEstimator {
    blocks: VecDeque<Vec<Observed>>,
    registered: u32,
}

impl FeeEstimator {
    /// Records `block`, connected at `height`, before its transactions leave `pool`.
    pub fn block_connected(&mut self, block: &Block, height: u32, pool: &Mempool) {
        let observed = block
            .txdata
            .iter()
            .skip(1)
            .filter_map(|tx| pool.get(&tx.txid()))
            .map(|e: &Entry| Observed {
                waited: height.saturating_sub(e.height).max(1),
                rate: e.fee * 1000 / e.vsize().max(1) as i64,
            })
            .collect();
        self.blocks.push_back(observed);
        if self.blocks.len() > WINDOW {
            self.blocks.pop_front();
        }
        self.registered += 1;
    }

    /// Records a connected block while the mempool was empty (nothing to observe).
    pub fn empty_block_connected(&mut self) {
        self.blocks.push_back(Vec::new());
        if self.blocks.len() > WINDOW {
            self.blocks.pop_front();
        }
        self.registered += 1;
    }

    /// Forgets the newest block's observations (it left the main chain).
    pub fn block_disconnected(&mut self) {
        if self.blocks.pop_back().is_some() {
            self.registered -= 1;
        }
    }

    /// The fee rate, in satoshis per 1000 virtual bytes, to confirm within `target` blocks;
    /// `floor` when no observed transaction did.
    pub fn estimate(&self, target: u32, floor: i64) -> Result<i64, EstimateError> {
        Ok(self.observed(target)?.unwrap_or(floor).max(floor))
    }

    /// The median fee rate, in satoshis per 1000 virtual bytes, of the observed transactions
    /// that confirmed within `target` blocks; `None` when none did.
    pub fn observed(&self, target: u32) -> Result<Option<i64>, EstimateError> {
        if self.registered < MIN_BLOCKS {
            return Err(EstimateError::TooFewBlocks);
        }
        if target == 0 {
            return Err(EstimateError::ZeroTarget);
        }
        if target > MAX_TARGET {
            return Err(EstimateError::TargetTooFar);
        }
        let mut rates: Vec<i64> = self
            .blocks
            .iter()
            .flatten()
            .filter(|o| o.waited <= target)
            .map(|o| o.rate)
            .collect();
        rates.sort_unstable();
        Ok(rates.get(rates.len() / 2).copied())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn estimator(blocks: &[&[(u32, i64)]]) -> FeeEstimator {
        let mut e = FeeEstimator::default();
        for b in blocks {
            e.blocks.push_back(
                b.iter()
                    .map(|&(waited, rate)| Observed { waited, rate })
                    .collect(),
            );
            e.registered += 1;
        }
        e
    }

    #[test]
    fn refuses_as_btcd_until_enough_blocks_and_for_bad_targets() {
        let e = estimator(&[&[(1, 5000)], &[]]);
        assert_eq!(e.estimate(1, 1000), Err(EstimateError::TooFewBlocks));
        let e = estimator(&[&[(1, 5000)], &[], &[]]);
        assert_eq!(e.estimate(0, 1000), Err(EstimateError::ZeroTarget));
        assert_eq!(e.estimate(26, 1000), Err(EstimateError::TargetTooFar));
        assert_eq!(e.estimate(25, 1000), Ok(5000));
    }

    #[test]
    fn the_median_of_transactions_confirmed_in_time_never_below_the_floor() {
        let e = estimator(&[
            &[(1, 9000), (1, 7000), (3, 2000)],
            &[(2, 4000)],
            &[(1, 500)],
        ]);
        // Within one block: 500, 7000, 9000.
        assert_eq!(e.estimate(1, 1000), Ok(7000));
        // Within two: 500, 4000, 7000, 9000 -> the upper middle.
        assert_eq!(e.estimate(2, 1000), Ok(7000));
        // Within three: 500, 2000, 4000, 7000, 9000.
        assert_eq!(e.estimate(3, 1000), Ok(4000));
        assert_eq!(e.estimate(3, 5000), Ok(5000));
        let mut e = e;
        e.block_disconnected();
        e.block_disconnected();
        assert_eq!(e.estimate(1, 1000), Err(EstimateError::TooFewBlocks));
        let quiet = estimator(&[&[], &[], &[]]);
        assert_eq!(quiet.estimate(6, 1000), Ok(1000));
        assert_eq!(
            quiet.observed(6),
            Ok(None),
            "the floor is not an observation"
        );
    }
}
