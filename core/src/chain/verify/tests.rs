use super::*;
use crate::chain::builder::spending_chain;
use crate::chain::{MemStore, WriteBatch, WriteOp};
use crate::params::{Network, Params};

fn chain_of(n: u32) -> (Chain<MemStore>, MemStore) {
    let params = Params::new(Network::Regtest);
    let store = MemStore::new();
    let mut chain = Chain::open(params.clone(), store.clone()).unwrap();
    for b in spending_chain(&params, n, 2) {
        chain.process_block(b, 2_000_000_000).unwrap();
    }
    (chain, store)
}

#[test]
fn a_sound_chain_verifies_at_every_level() {
    let (chain, _) = chain_of(110);
    for lvl in 0..=4 {
        assert_eq!(verify_chain(&chain, lvl, 288), Ok(()), "level {lvl}");
    }
    assert_eq!(verify_chain(&chain, 3, 0), Ok(()));
}

#[test]
fn damage_is_found_at_the_level_that_looks_for_it_and_within_depth_only() {
    let (chain, mut store) = chain_of(110);
    let damaged_height = 105;
    let hash = *chain.index().main_at(damaged_height).unwrap();
    // Undo data with a coin missing: only level 3 reads it.
    let mut undo = store.undo(&hash).unwrap().unwrap();
    undo.spent.pop();
    store
        .write(WriteBatch {
            ops: vec![WriteOp::PutUndo(hash, undo)],
        })
        .unwrap();
    assert_eq!(verify_chain(&chain, level::CONTEXT, 288), Ok(()));
    let e = verify_chain(&chain, level::UNDO, 288).unwrap_err();
    assert_eq!((e.hash, e.height), (hash, damaged_height));
    assert_eq!(
        verify_chain(&chain, level::UNDO, 5),
        Ok(()),
        "below the depth"
    );
    assert!(verify_chain(&chain, level::UNDO, 6).is_err());

    // A block whose stored transactions no longer match its merkle root fails sanity.
    let mut block = store.block(&hash).unwrap().unwrap();
    block.txdata.pop();
    store
        .write(WriteBatch {
            ops: vec![WriteOp::PutBlock(hash, block)],
        })
        .unwrap();
    assert_eq!(verify_chain(&chain, level::READ, 288), Ok(()));
    assert!(verify_chain(&chain, level::SANITY, 288).is_err());
}
