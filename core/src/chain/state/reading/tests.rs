use super::RECENT_CONNECTED;
use crate::chain::builder::branch;
use crate::chain::{Chain, MemStore};
use crate::params::{Network, Params};
use crate::primitives::{Block, BlockHeader};

const NOW: u64 = 2_000_000_000;

/// A chain on a fresh store and 30 blocks on its genesis.
fn chain_and_blocks() -> (Chain<MemStore>, Vec<Block>) {
    let params = Params::new(Network::Regtest);
    let blocks = branch(&params, &params.genesis, 1, 30, b"recent");
    (Chain::open(params, MemStore::new()).unwrap(), blocks)
}

#[test]
fn only_the_last_connected_blocks_stay_parsed_and_older_ones_read_back() {
    let (mut chain, blocks) = chain_and_blocks();
    for b in &blocks {
        chain.process_block(b.clone(), NOW).unwrap();
    }
    assert_eq!(chain.tip().hash, blocks[29].block_hash());
    assert_eq!(chain.recent.kept(), RECENT_CONNECTED);
    for (i, b) in blocks.iter().enumerate() {
        let kept = chain.recent.get(&b.block_hash()).is_some();
        assert_eq!(kept, i >= blocks.len() - RECENT_CONNECTED, "block {i}");
        // Kept or not, the block reads as it was stored.
        assert_eq!(chain.block(&b.block_hash()).unwrap().as_ref(), Some(b));
    }
}

#[test]
fn blocks_ahead_of_their_parents_stay_parsed_until_connected() {
    let (mut chain, blocks) = chain_and_blocks();
    let headers: Vec<BlockHeader> = blocks.iter().map(|b| b.header).collect();
    chain.process_headers(&headers, NOW).unwrap();
    // Every block but the first arrives before its parent's data: none can connect yet.
    for b in blocks[1..].iter().rev() {
        chain.process_block(b.clone(), NOW).unwrap();
    }
    assert_eq!(chain.tip().height, 0);
    assert_eq!(chain.recent.kept(), blocks.len() - 1);
    chain.process_block(blocks[0].clone(), NOW).unwrap();
    assert_eq!(chain.tip().hash, blocks[29].block_hash());
    assert_eq!(chain.recent.kept(), RECENT_CONNECTED);
}

#[test]
fn a_reorg_past_the_kept_blocks_reads_the_rest_back() {
    let (mut chain, blocks) = chain_and_blocks();
    for b in &blocks {
        chain.process_block(b.clone(), NOW).unwrap();
    }
    // A longer branch from block 5 disconnects 25 blocks, most no longer kept parsed.
    let params = chain.params().clone();
    let fork = branch(&params, &blocks[4], 6, 27, b"fork");
    for b in &fork {
        chain.process_block(b.clone(), NOW).unwrap();
    }
    assert_eq!(chain.tip().hash, fork[26].block_hash());
    assert_eq!(chain.tip().height, 32);
    assert_eq!(chain.recent.kept(), RECENT_CONNECTED);
    for b in &blocks[5..] {
        assert!(!chain.index().is_main(&b.block_hash()));
        assert_eq!(chain.block(&b.block_hash()).unwrap().as_ref(), Some(b));
    }
}
