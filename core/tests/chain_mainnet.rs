//! Real mainnet blocks 1..=255 connect on a fresh in-memory store.

mod common;

use rbtcd_core::chain::{Chain, ChainEvent, ChainStore, MemStore, Placement};
use rbtcd_core::params::{Network, Params};

/// Any time after 2009 works as the node's clock for these blocks.
const NOW: u64 = 1_700_000_000;

#[test]
fn mainnet_blocks_1_to_255_connect_with_no_batch_until_a_flush() {
    let blocks = common::blocks("blocks1-256.bz2");
    assert_eq!(blocks.len(), 255);
    let store = MemStore::new();
    let mut chain = Chain::open(Params::new(Network::Mainnet), store.clone()).unwrap();
    let commits_before = store.commits();
    for (i, b) in blocks.iter().enumerate() {
        let hash = b.block_hash();
        assert_eq!(
            chain.process_block(b.clone(), NOW),
            Ok(Placement::MainChain),
            "block {}",
            i + 1
        );
        assert_eq!(
            chain.drain_events(),
            vec![ChainEvent::Connected {
                hash,
                height: i as u32 + 1,
                txs: b.txdata.len(),
                time: b.header.time,
            }]
        );
    }
    let last = blocks.last().unwrap().block_hash();
    assert_eq!(chain.tip().height, 255);
    assert_eq!(chain.tip().hash, last);
    // Nothing is written while the UTXO cache has room: no batch, no file sync per block.
    assert_eq!(store.commits(), commits_before);
    assert_eq!(
        store.tip().unwrap(),
        Some(Params::new(Network::Mainnet).genesis_hash)
    );
    let syncs = store.syncs();
    chain.flush().unwrap();
    assert_eq!(store.commits() - commits_before, 1, "one flush, one batch");
    assert_eq!(store.syncs() - syncs, 1, "and one file sync");
    assert_eq!(store.tip().unwrap(), Some(last));
    // Every coinbase output is unspent except the ones these early blocks spent.
    assert!(store.utxo_len() > 200);
    // Reopening the store gives the same chain without reprocessing anything.
    let reopened = Chain::open(Params::new(Network::Mainnet), store.reopen()).unwrap();
    assert_eq!(reopened.tip().hash, last);
    assert_eq!(reopened.index().len(), 256);
}
