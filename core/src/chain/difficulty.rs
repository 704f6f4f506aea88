//! The difficulty a new header must carry: retargeting every 2016 blocks, testnet's
//! minimum-difficulty exception, and regtest's fixed difficulty.

use super::index::BlockIndex;
use super::records::IndexEntry;
use crate::params::Params;
use crate::primitives::target::{compact_to_target, target_to_compact};

/// The compact target required of a child of `parent` with timestamp `time`.
pub fn required_bits(index: &BlockIndex, parent: &IndexEntry, time: u32, params: &Params) -> u32 {
    if params.no_retargeting {
        return parent.header.bits;
    }
    let interval = params.retarget_interval();
    let height = parent.height + 1;
    if height % interval != 0 {
        if !params.reduce_min_difficulty {
            return parent.header.bits;
        }
        // Testnet: a block long after its parent may be mined at minimum difficulty; otherwise
        // the difficulty is that of the last block not mined under this exception.
        if time as u64 > parent.header.time as u64 + params.min_diff_reduction_time as u64 {
            return params.pow_limit_bits;
        }
        let mut e = parent;
        while e.height % interval != 0 && e.header.bits == params.pow_limit_bits {
            match index.get(&e.header.prev_blockhash) {
                Some(p) => e = p,
                None => break,
            }
        }
        return e.header.bits;
    }
    let Some(first) = index.ancestor(&parent.hash, parent.height + 1 - interval) else {
        return parent.header.bits;
    };
    let timespan = params.target_timespan as i64;
    let factor = params.retarget_adjustment_factor as i64;
    let actual = (parent.header.time as i64 - first.header.time as i64)
        .clamp(timespan / factor, timespan * factor) as u64;
    let (old, _, _) = compact_to_target(parent.header.bits);
    // Multiply first when it fits (exact, as Core); otherwise divide first.
    let new = match old.checked_mul_u64(actual) {
        Some(m) => m.div_u64(timespan as u64),
        None => old
            .div_u64(timespan as u64)
            .checked_mul_u64(actual)
            .unwrap_or(params.pow_limit),
    };
    target_to_compact(&new.min(params.pow_limit))
}
