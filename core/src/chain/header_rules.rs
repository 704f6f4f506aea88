//! Header rules: proof of work, required difficulty, timestamps, checkpoints and version.

use super::difficulty::required_bits;
use super::error::RuleError;
use super::index::BlockIndex;
use super::records::IndexEntry;
use crate::params::{Params, MAX_TIMEWARP};
use crate::primitives::{BlockHash, BlockHeader, U256};

/// How far ahead of the node's adjusted time a header's timestamp may be, in seconds.
pub const MAX_FUTURE_BLOCK_TIME: u64 = 2 * 60 * 60;

/// The proof-of-work rule, which needs no context: `hash` (the header's, computed once by the
/// caller) meets the header's own target and that target is within the network's limit.
pub fn check_header_sanity(
    header: &BlockHeader,
    hash: &BlockHash,
    params: &Params,
) -> Result<(), RuleError> {
    match header.target() {
        Some(t) if t <= params.pow_limit && U256::from_le_bytes(hash.0) <= t => Ok(()),
        _ => Err(RuleError::HighHash),
    }
}

/// The rules a header must meet as a child of `parent`; `now` is the node's adjusted unix time.
pub fn check_header_context(
    index: &BlockIndex,
    parent: &IndexEntry,
    header: &BlockHeader,
    hash: BlockHash,
    now: u64,
    params: &Params,
) -> Result<(), RuleError> {
    let height = parent.height + 1;
    let expected = required_bits(index, parent, header.time, params);
    if header.bits != expected && !cfg!(feature = "planted-bug-bits") {
        return Err(RuleError::BadDifficultyBits {
            expected,
            found: header.bits,
        });
    }
    let median_time_past = index.median_time_past(&parent.hash);
    if header.time <= median_time_past {
        return Err(RuleError::TimeTooOld {
            time: header.time,
            median_time_past,
        });
    }
    let period_start = height.is_multiple_of(params.retarget_interval());
    if params.enforce_bip94
        && period_start
        && header.time < parent.header.time.saturating_sub(MAX_TIMEWARP)
    {
        return Err(RuleError::Timewarp {
            time: header.time,
            parent_time: parent.header.time,
        });
    }
    let max = now + MAX_FUTURE_BLOCK_TIME;
    if header.time as u64 > max {
        return Err(RuleError::TimeTooNew {
            time: header.time,
            max,
        });
    }
    if let Some(cp) = params.checkpoint_at(height) {
        if cp.hash != hash {
            return Err(RuleError::CheckpointMismatch { height });
        }
    }
    // A fork below the newest checkpoint the main chain has passed is never accepted.
    let tip_height = index.tip().height;
    if let Some(cp) = params
        .checkpoints
        .iter()
        .rev()
        .find(|c| c.height <= tip_height && index.is_main(&c.hash))
    {
        if height < cp.height {
            return Err(RuleError::ForkBeforeCheckpoint {
                height,
                checkpoint: cp.height,
            });
        }
    }
    let min_version = [
        (params.bip34_height, 2),
        (params.bip66_height, 3),
        (params.bip65_height, 4),
    ]
    .into_iter()
    .filter(|(active, _)| height >= *active)
    .map(|(_, v)| v)
    .max()
    .unwrap_or(1);
    if header.version < min_version {
        return Err(RuleError::ObsoleteVersion {
            version: header.version,
            height,
        });
    }
    Ok(())
}
