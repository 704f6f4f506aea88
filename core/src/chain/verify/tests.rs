use super::*;
use crate::chain::builder::spending_chain;
use crate::chain::{BlockFiles, FileKind, MemStore, WriteBatch, WriteOp};
use crate::params::{Network, Params};
use crate::primitives::{BlockHash, Encodable};

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

/// Points `hash`'s entry in `store` at a newly appended `kind` record holding `payload`, as
/// a store whose records disagree with their blocks would, and reopens the chain on it.
fn repoint(store: MemStore, hash: BlockHash, kind: FileKind, payload: &[u8]) -> Chain<MemStore> {
    let mut store = store.reopen();
    let mut entry = store.index_entry(&hash).unwrap().unwrap();
    let pos = Some(store.append(kind, payload).unwrap());
    match kind {
        FileKind::Blocks => entry.data = pos,
        FileKind::Undo => entry.undo = pos,
    }
    let ends = store.sync().unwrap();
    store
        .write(WriteBatch {
            ops: vec![WriteOp::PutIndex(entry), WriteOp::PutFileEnds(ends)],
        })
        .unwrap();
    Chain::open(Params::new(Network::Regtest), store).unwrap()
}

#[test]
fn damage_is_found_at_the_level_that_looks_for_it_and_within_depth_only() {
    let (chain, store) = chain_of(110);
    let damaged_height = 105;
    let hash = *chain.index().main_at(damaged_height).unwrap();
    // Undo data with a coin missing: only level 3 reads it.
    let mut undo = chain.undo(&hash).unwrap().unwrap();
    let block = chain.block(&hash).unwrap().unwrap();
    chain.into_store().unwrap();
    undo.spent.pop();
    let chain = repoint(store.clone(), hash, FileKind::Undo, &undo.encode());
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
    let mut short = block;
    short.txdata.pop();
    let chain = repoint(store.clone(), hash, FileKind::Blocks, &short.encode());
    assert_eq!(verify_chain(&chain, level::READ, 288), Ok(()));
    assert!(verify_chain(&chain, level::SANITY, 288).is_err());

    // Bytes damaged in the file: reading fails, naming the file and the record's offset.
    let pos = chain.index().get(&hash).unwrap().data.unwrap();
    store.corrupt_file(FileKind::Blocks, pos.file, pos.offset as usize + 40);
    let e = verify_chain(&chain, level::READ, 288).unwrap_err();
    assert!(
        e.to_string().contains(&format!(
            "blk00000.dat damaged at offset {}",
            pos.offset - 8
        )),
        "{e}"
    );
}
