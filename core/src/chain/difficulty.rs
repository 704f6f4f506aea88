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
    if !height.is_multiple_of(interval) {
        if !params.reduce_min_difficulty {
            return parent.header.bits;
        }
        // Testnet: a block long after its parent may be mined at minimum difficulty; otherwise
        // the difficulty is that of the last block not mined under this exception.
        if time as u64 > parent.header.time as u64 + params.min_diff_reduction_time as u64 {
            return params.pow_limit_bits;
        }
        let mut e = parent;
        while !e.height.is_multiple_of(interval) && e.header.bits == params.pow_limit_bits {
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
    // BIP94: from the period's first block, which testnet's minimum-difficulty exception
    // cannot have lowered (the period's last block can be one of those).
    let base = match params.enforce_bip94 {
        true => first.header.bits,
        false => parent.header.bits,
    };
    let (old, _, _) = compact_to_target(base);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::records::Status;
    use crate::params::Network;
    use crate::primitives::{BlockHeader, Work};

    /// An index holding a chain of headers with `bits[i]` and `times[i]` at height `i`.
    fn chain(bits: &[u32], times: &[u32]) -> BlockIndex {
        let entry = |prev, height: usize| {
            let header = BlockHeader {
                version: 1,
                prev_blockhash: prev,
                bits: bits[height],
                time: times[height],
                ..Default::default()
            };
            IndexEntry::header_only(
                header.block_hash(),
                header,
                height as u32,
                Work::ZERO,
                Status::HEADER_VALID,
            )
        };
        let g = entry(Default::default(), 0);
        let mut index = BlockIndex::new(g);
        let mut prev = g.hash;
        for h in 1..bits.len() {
            let e = entry(prev, h);
            index.insert(e);
            index.push_main(e.hash);
            prev = e.hash;
        }
        index
    }

    /// Core's pow_tests: a retarget period from `first` to `last` time at `bits` gives
    /// `expected`.
    fn retarget(first: u32, last: u32, bits: u32, expected: u32) {
        let p = Params::new(Network::Mainnet);
        let n = p.retarget_interval() as usize;
        let mut times: Vec<u32> = (0..n as u32).map(|i| first + i).collect();
        times[n - 1] = last;
        let index = chain(&vec![bits; n], &times);
        let tip = *index.tip();
        assert_eq!(required_bits(&index, &tip, last + 600, &p), expected);
    }

    #[test]
    fn mainnet_retargets_match_core() {
        retarget(1261130161, 1262152739, 0x1d00ffff, 0x1d00d86a);
        // Clamped at the pow limit.
        retarget(1231006505, 1233061996, 0x1d00ffff, 0x1d00ffff);
        // Clamped at a factor of four either way.
        retarget(1279008237, 1279297671, 0x1c05a3f4, 0x1c0168fd);
        retarget(1263163443, 1269211443, 0x1c387f6f, 0x1d00e1fd);
    }

    #[test]
    fn no_change_between_retargets_on_mainnet() {
        let p = Params::new(Network::Mainnet);
        let index = chain(&[0x1d00ffff, 0x1c05a3f4], &[1000, 1600]);
        let tip = *index.tip();
        assert_eq!(required_bits(&index, &tip, 1_000_000, &p), 0x1c05a3f4);
    }

    #[test]
    fn testnet_minimum_difficulty_exception() {
        let p = Params::new(Network::Testnet3);
        let limit = p.pow_limit_bits;
        let index = chain(&[0x1c05a3f4, 0x1c05a3f4, limit], &[1000, 1600, 4000]);
        let tip = *index.tip();
        // More than 20 minutes after the parent: minimum difficulty allowed.
        assert_eq!(required_bits(&index, &tip, 4000 + 1201, &p), limit);
        // Otherwise the last difficulty not mined under the exception.
        assert_eq!(required_bits(&index, &tip, 4000 + 1200, &p), 0x1c05a3f4);
    }

    #[test]
    fn bip94_retargets_from_the_periods_first_block() {
        let p = Params::new(Network::Testnet4);
        let n = p.retarget_interval() as usize;
        let hard = 0x1c05a3f4;
        // The period's last block was mined under the minimum-difficulty exception.
        let mut bits = vec![hard; n];
        bits[n - 1] = p.pow_limit_bits;
        let mut times: Vec<u32> = (0..n as u32).map(|i| 1_000_000 + i * 600).collect();
        times[n - 1] = times[0] + p.target_timespan;
        let index = chain(&bits, &times);
        let tip = *index.tip();
        let next = required_bits(&index, &tip, times[n - 1] + 600, &p);
        // A period of exactly the target timespan keeps the first block's difficulty.
        assert_eq!(next, hard, "testnet4 starts from the period's first block");
        let testnet3 = Params::new(Network::Testnet3);
        let from_last = required_bits(&index, &tip, times[n - 1] + 600, &testnet3);
        assert_eq!(
            from_last, p.pow_limit_bits,
            "testnet3 starts from the last block"
        );
    }

    #[test]
    fn regtest_never_retargets() {
        let p = Params::new(Network::Regtest);
        let n = p.retarget_interval() as usize;
        let index = chain(&vec![0x207fffff; n], &vec![1; n]);
        let tip = *index.tip();
        assert_eq!(required_bits(&index, &tip, 2, &p), 0x207fffff);
    }
}
