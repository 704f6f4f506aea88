//! assumevalid, with Bitcoin Core's semantics: a block's scripts are not checked when it is an
//! ancestor of the assumed-valid block, that block is known, the best header chain contains
//! both, that chain has at least the network's minimum work, and the block is buried under at
//! least two weeks' worth of work on it (so scripts are always checked near the tip). Every
//! other rule is still checked for every block.

use super::index::BlockIndex;
use super::records::IndexEntry;
use crate::params::Params;
use crate::primitives::BlockHash;

/// Work-equivalent time below which scripts are always checked (Core: two weeks).
const MIN_BURIED_SECS: u64 = 60 * 60 * 24 * 7 * 2;

/// Which block assumevalid trusts (`--assumevalid`).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub enum AssumeValid {
    /// The network's default ([`Params::default_assume_valid`]).
    #[default]
    NetworkDefault,
    /// Check every script (`--assumevalid=0`).
    Off,
    /// Trust the ancestors of this block.
    Block(BlockHash),
}

impl AssumeValid {
    /// The block trusted on the network of `params`, if any.
    pub fn block(self, params: &Params) -> Option<BlockHash> {
        match self {
            AssumeValid::NetworkDefault => params.default_assume_valid,
            AssumeValid::Off => None,
            AssumeValid::Block(hash) => Some(hash),
        }
    }
}

/// Core's `GetBlockProofEquivalentTime(to, from, tip)` for `to` at or above `from`: seconds it
/// would take at `tip`'s difficulty to do the work between them (saturating).
fn proof_equivalent_secs(
    to: &IndexEntry,
    from: &IndexEntry,
    tip: &IndexEntry,
    spacing: u32,
) -> u64 {
    if to.chain_work <= from.chain_work {
        return 0;
    }
    let diff = (to.chain_work - from.chain_work).0;
    let per_block = tip.header.work().0;
    if per_block.is_zero() {
        return u64::MAX;
    }
    match diff.checked_mul_u64(u64::from(spacing)) {
        Some(scaled) => {
            let secs = scaled.div_u256(per_block);
            if secs.bits() > 63 {
                u64::MAX
            } else {
                secs.low_u64()
            }
        }
        None => u64::MAX,
    }
}

/// Whether `entry` (about to be connected) may skip its script checks under `assumed`.
pub fn skips_scripts(
    index: &BlockIndex,
    entry: &IndexEntry,
    assumed: Option<BlockHash>,
    params: &Params,
) -> bool {
    let Some(assumed) = assumed else {
        return false;
    };
    let on_chain_of = |tip: &BlockHash| {
        index
            .ancestor(tip, entry.height)
            .is_some_and(|e| e.hash == entry.hash)
    };
    let best = index.best_header();
    index.get(&assumed).is_some()
        && on_chain_of(&assumed)
        && on_chain_of(&best.hash)
        && best.chain_work >= params.min_chain_work
        && proof_equivalent_secs(best, entry, best, params.target_spacing) > MIN_BURIED_SECS
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::builder::branch;
    use crate::chain::records::Status;
    use crate::params::Network;
    use crate::primitives::{Block, Hash256};

    /// A regtest header chain of 2,100 blocks (two weeks of work is 2,016 of them) and a
    /// 5-block side branch from height 10.
    fn headers() -> (Params, BlockIndex, Vec<IndexEntry>, Vec<IndexEntry>) {
        let p = Params::new(Network::Regtest);
        let g = IndexEntry::header_only(
            p.genesis_hash,
            p.genesis.header,
            0,
            p.genesis.header.work(),
            Status::HEADER_VALID,
        );
        let mut index = BlockIndex::new(g);
        let mut add = |blocks: &[Block], from: &IndexEntry| {
            let mut out = vec![*from];
            for b in blocks {
                let parent = *out.last().unwrap();
                let e = IndexEntry::header_only(
                    b.block_hash(),
                    b.header,
                    parent.height + 1,
                    parent.chain_work + b.header.work(),
                    Status::HEADER_VALID,
                );
                index.insert(e);
                out.push(e);
            }
            out
        };
        let main_blocks = branch(&p, &p.genesis, 1, 2100, b"m");
        let main = add(&main_blocks, &g);
        let side_blocks = branch(&p, &main_blocks[9], 11, 5, b"s");
        let side = add(&side_blocks, &main[10]);
        (p, index, main, side)
    }

    /// A chain whose block 3 spends an output no script can satisfy, under 2,100 blocks.
    fn chain_with_a_bad_script(p: &Params) -> Vec<Block> {
        use crate::chain::builder::{spend, BlockBuilder};
        use crate::primitives::OutPoint;
        use crate::script::opcodes::OP_0;
        let mut blocks: Vec<Block> = Vec::new();
        let (mut prev, mut time) = (p.genesis_hash, p.genesis.header.time);
        for height in 1..=2100u32 {
            let mut bb = BlockBuilder::new(p, prev, height, time);
            match height {
                2 => {
                    let cb = &blocks[0].txdata[0];
                    let mut tx = spend(&[OutPoint::new(cb.txid(), 0)], &[cb.outputs[0].value]);
                    tx.outputs[0].script_pubkey = vec![OP_0];
                    bb = bb.tx(tx);
                }
                3 => {
                    let bad = &blocks[1].txdata[1];
                    bb = bb.tx(spend(&[OutPoint::new(bad.txid(), 0)], &[1000]));
                }
                _ => {}
            }
            let b = bb.build();
            (prev, time) = (b.block_hash(), b.header.time);
            blocks.push(b);
        }
        blocks
    }

    #[test]
    fn a_chain_under_the_assumed_block_connects_without_its_scripts() {
        use crate::chain::{Chain, ChainError, ChainOptions, MemStore, RuleError};
        let mut p = Params::new(Network::Regtest);
        p.coinbase_maturity = 1;
        let blocks = chain_with_a_bad_script(&p);
        let headers: Vec<_> = blocks.iter().map(|b| b.header).collect();
        let tip = blocks.last().unwrap().block_hash();
        for (assume, accepted) in [(AssumeValid::Block(tip), true), (AssumeValid::Off, false)] {
            let options = ChainOptions {
                assume_valid: assume,
                ..ChainOptions::default()
            };
            let mut chain = Chain::open_with(p.clone(), MemStore::new(), options).unwrap();
            chain.process_headers(&headers, 2_000_000_000).unwrap();
            chain
                .process_block(blocks[0].clone(), 2_000_000_000)
                .unwrap();
            chain
                .process_block(blocks[1].clone(), 2_000_000_000)
                .unwrap();
            let third = chain.process_block(blocks[2].clone(), 2_000_000_000);
            match accepted {
                true => assert_eq!(chain.tip().height, 3, "{third:?}"),
                false => assert!(
                    matches!(third, Err(ChainError::Rule(RuleError::ScriptFailed { .. }))),
                    "{third:?}"
                ),
            }
        }
    }

    #[test]
    fn scripts_are_skipped_only_where_core_skips_them() {
        let (mut p, index, main, side) = headers();
        let tip = Some(main[2100].hash);
        assert!(
            skips_scripts(&index, &main[10], tip, &p),
            "deep under the assumed block"
        );
        assert!(
            !skips_scripts(&index, &main[100], tip, &p),
            "within two weeks of work"
        );
        assert!(!skips_scripts(&index, &main[10], None, &p), "off");
        let unknown = Some(Hash256([1; 32]));
        assert!(
            !skips_scripts(&index, &main[10], unknown, &p),
            "unknown block"
        );
        assert!(
            !skips_scripts(&index, &main[60], Some(main[50].hash), &p),
            "not an ancestor"
        );
        assert!(
            !skips_scripts(&index, &side[3], tip, &p),
            "not on the assumed chain"
        );
        p.min_chain_work = main[2100].chain_work + main[1].header.work();
        assert!(
            !skips_scripts(&index, &main[10], tip, &p),
            "too little work"
        );
        assert_eq!(AssumeValid::Off.block(&p), None);
        assert_eq!(
            AssumeValid::NetworkDefault.block(&p),
            None,
            "regtest has none"
        );
        let main_p = Params::new(Network::Mainnet);
        assert_eq!(
            AssumeValid::NetworkDefault.block(&main_p),
            main_p.default_assume_valid
        );
    }
}
