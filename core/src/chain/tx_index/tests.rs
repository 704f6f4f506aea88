use super::*;
use crate::chain::builder::{branch, spending_chain};
use crate::chain::{Chain, ChainStore, MemStore};
use crate::params::{Network, Params};
use crate::primitives::Block;

const NOW: u64 = 2_000_000_000;

fn regtest() -> Params {
    Params::new(Network::Regtest)
}

/// Every transaction of `blocks` is found at its block and position, or none is.
fn assert_indexed<S: ChainStore>(chain: &Chain<S>, blocks: &[Block], expected: bool) {
    for block in blocks {
        let hash = block.block_hash();
        for tx in &block.txdata {
            let found = chain.indexed_transaction(&tx.txid()).unwrap();
            match (expected, found) {
                (true, Some((got, entry))) => {
                    assert_eq!(got, *tx);
                    assert_eq!(entry.hash, hash);
                }
                (false, None) => {}
                (want, got) => panic!("tx {} indexed: want {want}, got {got:?}", tx.txid()),
            }
        }
    }
}

#[test]
fn locations_round_trip() {
    let loc = TxLoc {
        block: Hash256([7; 32]),
        position: 513,
    };
    assert_eq!(TxLoc::decode(&loc.encode()).unwrap(), loc);
    assert!(TxLoc::decode(&[0; 35]).is_err());
}

#[test]
fn connected_blocks_are_indexed_in_the_flushing_batch() {
    let params = regtest();
    let blocks = spending_chain(&params, 110, 2);
    let plain_store = MemStore::new();
    let mut plain = Chain::open(params.clone(), plain_store.clone()).unwrap();
    let indexed_store = MemStore::new();
    let mut indexed = Chain::open(params.clone(), indexed_store.clone()).unwrap();
    indexed.enable_tx_index().unwrap();
    let (plain_before, indexed_before) = (plain_store.commits(), indexed_store.commits());
    for b in &blocks {
        plain.process_block(b.clone(), NOW).unwrap();
        indexed.process_block(b.clone(), NOW).unwrap();
    }
    assert_indexed(&indexed, &blocks, true);
    assert_eq!(
        indexed_store.tx_index_tip().unwrap(),
        Some(params.genesis_hash),
        "not flushed yet"
    );
    plain.flush().unwrap();
    indexed.flush().unwrap();
    assert_eq!(
        plain_store.commits() - plain_before,
        indexed_store.commits() - indexed_before,
        "the index adds no batch of its own"
    );
    assert_indexed(&indexed, &blocks, true);
    assert_indexed(&plain, &blocks, false);
    assert_eq!(
        indexed_store.tx_index_tip().unwrap(),
        Some(indexed.tip().hash)
    );
    assert_eq!(plain_store.tx_index_tip().unwrap(), None);
    assert!(
        indexed
            .indexed_transaction(&params.genesis.txdata[0].txid())
            .unwrap()
            .is_none(),
        "genesis is not indexed, as btcd"
    );
}

#[test]
fn a_reorg_moves_the_index_to_the_new_branch() {
    let params = regtest();
    let mut chain = Chain::open(params.clone(), MemStore::new()).unwrap();
    chain.enable_tx_index().unwrap();
    let a = branch(&params, &params.genesis, 1, 3, b"a");
    let b = branch(&params, &params.genesis, 1, 4, b"b");
    for blk in a.iter().chain(&b) {
        chain.process_block(blk.clone(), NOW).unwrap();
    }
    assert_eq!(chain.tip().hash, b[3].block_hash());
    assert_indexed(&chain, &a, false);
    assert_indexed(&chain, &b, true);
}

#[test]
fn enabling_late_catches_up_and_forgets_blocks_reorganised_away_meanwhile() {
    let params = regtest();
    let store = MemStore::new();
    let a = branch(&params, &params.genesis, 1, 3, b"a");
    let b = branch(&params, &params.genesis, 1, 5, b"b");
    let mut chain = Chain::open(params.clone(), store.clone()).unwrap();
    chain.enable_tx_index().unwrap();
    for blk in &a {
        chain.process_block(blk.clone(), NOW).unwrap();
    }
    // Restarted without the index: branch b takes over, the index still names branch a.
    let store = chain.into_store().unwrap();
    let mut chain = Chain::open(params.clone(), store.reopen()).unwrap();
    for blk in &b {
        chain.process_block(blk.clone(), NOW).unwrap();
    }
    let store = chain.into_store().unwrap();
    assert_eq!(store.tx_index_tip().unwrap(), Some(a[2].block_hash()));
    let mut chain = Chain::open(params.clone(), store.reopen()).unwrap();
    chain.enable_tx_index().unwrap();
    assert_indexed(&chain, &a, false);
    assert_indexed(&chain, &b, true);
    assert_eq!(
        chain.store().tx_index_tip().unwrap(),
        Some(b[4].block_hash())
    );
}

#[test]
fn a_crash_never_separates_the_index_from_the_chain() {
    let params = regtest();
    let blocks = spending_chain(&params, 30, 1);
    for crash_at in [3, 8, 21] {
        let store = MemStore::new();
        let mut chain = Chain::open(params.clone(), store.clone()).unwrap();
        chain.enable_tx_index().unwrap();
        store.fail_at_write(crash_at);
        for b in &blocks {
            if chain.process_block(b.clone(), NOW).is_err() {
                break;
            }
        }
        let reopened = store.reopen();
        assert_eq!(
            reopened.tip().unwrap(),
            reopened.tx_index_tip().unwrap(),
            "crash at write {crash_at}"
        );
    }
}

#[test]
fn dropping_removes_every_entry() {
    let params = regtest();
    let blocks = spending_chain(&params, 5, 0);
    let store = MemStore::new();
    let mut chain = Chain::open(params.clone(), store.clone()).unwrap();
    chain.enable_tx_index().unwrap();
    for b in &blocks {
        chain.process_block(b.clone(), NOW).unwrap();
    }
    let mut store = chain.into_store().unwrap();
    assert_eq!(drop_tx_index(&mut store), Ok(true));
    assert_eq!(store.tx_index_tip().unwrap(), None);
    assert_eq!(
        store.tx_location(&blocks[0].txdata[0].txid()).unwrap(),
        None
    );
    assert_eq!(drop_tx_index(&mut store), Ok(false));
}
