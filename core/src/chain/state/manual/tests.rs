use super::*;
use crate::chain::builder::{branch, spend, BlockBuilder};
use crate::chain::{ChainEvent, MemStore};
use crate::params::{Network, Params};
use crate::primitives::{Block, OutPoint};

const NOW: u64 = 2_000_000_000;

fn regtest() -> Params {
    Params::new(Network::Regtest)
}

fn chain_with(params: &Params, blocks: &[&[Block]]) -> Chain<MemStore> {
    let mut chain = Chain::open(params.clone(), MemStore::new()).unwrap();
    for b in blocks.iter().flat_map(|bs| bs.iter()) {
        chain.process_block(b.clone(), NOW).unwrap();
    }
    chain.drain_events();
    chain
}

#[test]
fn invalidating_a_main_chain_block_moves_the_tip_to_its_parent_and_back() {
    let params = regtest();
    let a = branch(&params, &params.genesis, 1, 5, b"a");
    let mut chain = chain_with(&params, &[&a]);
    let target = a[2].block_hash();
    chain.invalidate_block(&target).unwrap();
    assert_eq!(chain.tip().hash, a[1].block_hash());
    let events = chain.drain_events();
    assert_eq!(events.len(), 3, "three blocks disconnected: {events:?}");
    assert!(events
        .iter()
        .all(|e| matches!(e, ChainEvent::Disconnected { .. })));
    let status = |c: &Chain<MemStore>, b: &Block| c.index().get(&b.block_hash()).unwrap().status;
    assert!(status(&chain, &a[2]).contains(Status::INVALID));
    assert!(status(&chain, &a[4]).contains(Status::INVALID_ANCESTOR));
    assert!(!status(&chain, &a[4]).contains(Status::VALID));
    // A block on the invalid branch is refused while it stays invalid.
    let more = branch(&params, &a[4], 6, 1, b"a");
    assert!(chain.process_block(more[0].clone(), NOW).is_err());

    // Invalidating again is a no-op; reconsidering restores the longest chain.
    chain.invalidate_block(&target).unwrap();
    chain.reconsider_block(&target).unwrap();
    assert_eq!(chain.tip().hash, a[4].block_hash());
    assert!(!status(&chain, &a[4]).is_invalid());
    assert!(!status(&chain, &a[2]).is_invalid());
}

#[test]
fn invalidation_survives_a_restart() {
    let params = regtest();
    let a = branch(&params, &params.genesis, 1, 4, b"a");
    let mut chain = chain_with(&params, &[&a]);
    chain.invalidate_block(&a[1].block_hash()).unwrap();
    let store = chain.into_store().unwrap().reopen();
    let chain = Chain::open(params, store).unwrap();
    assert_eq!(chain.tip().hash, a[0].block_hash());
}

#[test]
fn invalidating_moves_to_a_side_branch_with_more_work_left() {
    let params = regtest();
    let a = branch(&params, &params.genesis, 1, 5, b"a");
    let b = branch(&params, &params.genesis, 1, 3, b"b");
    let mut chain = chain_with(&params, &[&a, &b]);
    assert_eq!(chain.tip().hash, a[4].block_hash());
    chain.invalidate_block(&a[0].block_hash()).unwrap();
    assert_eq!(
        chain.tip().hash,
        b[2].block_hash(),
        "b is now the best valid chain"
    );
    chain.reconsider_block(&a[0].block_hash()).unwrap();
    assert_eq!(chain.tip().hash, a[4].block_hash());
}

#[test]
fn invalidating_a_side_branch_leaves_the_tip_alone() {
    let params = regtest();
    let a = branch(&params, &params.genesis, 1, 4, b"a");
    let b = branch(&params, &params.genesis, 1, 2, b"b");
    let mut chain = chain_with(&params, &[&a, &b]);
    chain.invalidate_block(&b[0].block_hash()).unwrap();
    assert_eq!(chain.tip().hash, a[3].block_hash());
    assert!(chain.drain_events().is_empty());
    assert!(chain
        .index()
        .get(&b[1].block_hash())
        .unwrap()
        .status
        .contains(Status::INVALID_ANCESTOR));
    // Reconsidering a branch with less work clears it without moving the tip.
    chain.reconsider_block(&b[0].block_hash()).unwrap();
    assert_eq!(chain.tip().hash, a[3].block_hash());
    assert!(!chain
        .index()
        .get(&b[1].block_hash())
        .unwrap()
        .status
        .is_invalid());
}

#[test]
fn reconsidering_a_really_invalid_block_marks_it_again_without_error() {
    let params = regtest();
    let a = branch(&params, &params.genesis, 1, 2, b"a");
    // A block that spends an output that does not exist: a valid header, invalid on connect.
    let bad = BlockBuilder::new(&params, a[1].block_hash(), 3, a[1].header.time)
        .tx(spend(
            &[OutPoint::new(crate::primitives::Hash256([0xab; 32]), 0)],
            &[1],
        ))
        .build();
    let mut chain = chain_with(&params, &[&a]);
    assert!(chain.process_block(bad.clone(), NOW).is_err());
    let hash = bad.block_hash();
    assert!(chain
        .index()
        .get(&hash)
        .unwrap()
        .status
        .contains(Status::INVALID));
    chain.reconsider_block(&hash).unwrap();
    assert_eq!(chain.tip().hash, a[1].block_hash());
    assert!(chain
        .index()
        .get(&hash)
        .unwrap()
        .status
        .contains(Status::INVALID));
}

#[test]
fn unknown_blocks_and_genesis_are_refused_with_btcds_messages() {
    let params = regtest();
    let mut chain = chain_with(&params, &[]);
    let unknown = crate::primitives::Hash256([1; 32]);
    let e = chain.invalidate_block(&unknown).unwrap_err();
    assert!(
        e.to_string()
            .contains("is not found and thus cannot be invalidated"),
        "{e}"
    );
    let e = chain.reconsider_block(&unknown).unwrap_err();
    assert!(e.to_string().contains("cannot be reconsidered"), "{e}");
    let e = chain.invalidate_block(&params.genesis_hash).unwrap_err();
    assert_eq!(e, VerdictError::Genesis(params.genesis_hash));
}

#[test]
fn a_precious_tip_of_equal_work_takes_over_and_a_later_call_moves_back() {
    // Core's rpc_preciousblock scenario: two branches of equal work, the first seen active.
    let params = regtest();
    let a = branch(&params, &params.genesis, 1, 3, b"a");
    let b = branch(&params, &params.genesis, 1, 3, b"b");
    let mut chain = chain_with(&params, &[&a, &b]);
    assert_eq!(
        chain.tip().hash,
        a[2].block_hash(),
        "the first seen wins a tie"
    );

    chain.precious_block(&b[2].block_hash()).unwrap();
    assert_eq!(chain.tip().hash, b[2].block_hash());
    let events = chain.drain_events();
    assert_eq!(events.len(), 6, "three out, three in: {events:?}");

    chain.precious_block(&a[2].block_hash()).unwrap();
    assert_eq!(chain.tip().hash, a[2].block_hash(), "the latest call wins");
    chain.precious_block(&b[2].block_hash()).unwrap();
    assert_eq!(chain.tip().hash, b[2].block_hash(), "and again");

    // Less work than the tip cannot win a tie: nothing changes, as Core.
    chain.precious_block(&a[1].block_hash()).unwrap();
    assert_eq!(chain.tip().hash, b[2].block_hash());
    // The tip itself: nothing to do.
    chain.precious_block(&b[2].block_hash()).unwrap();
    assert_eq!(chain.tip().hash, b[2].block_hash());

    // More work still wins over any preference.
    let more = branch(&params, &a[2], 4, 1, b"a");
    chain.process_block(more[0].clone(), NOW).unwrap();
    assert_eq!(chain.tip().hash, more[0].block_hash());
}

#[test]
fn a_precious_call_on_less_work_than_the_tip_is_not_remembered_as_a_win() {
    let params = regtest();
    let a = branch(&params, &params.genesis, 1, 3, b"a");
    let b = branch(&params, &params.genesis, 1, 3, b"b");
    let mut chain = chain_with(&params, &[&a, &b[..2]]);
    // b[1] has less work than the tip: the call changes nothing now...
    chain.precious_block(&b[1].block_hash()).unwrap();
    assert_eq!(chain.tip().hash, a[2].block_hash());
    // ...and b[2], equal to the tip but not made precious, arrives second and loses the tie.
    chain.process_block(b[2].clone(), NOW).unwrap();
    assert_eq!(chain.tip().hash, a[2].block_hash());
}

#[test]
fn preciousblock_refuses_an_unknown_block_with_cores_message() {
    let params = regtest();
    let mut chain = chain_with(&params, &[]);
    let unknown = crate::primitives::Hash256([1; 32]);
    let e = chain.precious_block(&unknown).unwrap_err();
    assert_eq!(e.to_string(), "Block not found");
}

#[test]
fn a_reconsidered_tip_seen_first_takes_the_place_of_an_equal_work_one_as_in_core() {
    let params = regtest();
    let a = branch(&params, &params.genesis, 1, 2, b"a");
    let b = branch(&params, &params.genesis, 1, 2, b"b");
    let mut chain = chain_with(&params, &[&a, &b]);
    assert_eq!(
        chain.tip().hash,
        a[1].block_hash(),
        "the first seen of equal work"
    );
    chain.invalidate_block(&a[0].block_hash()).unwrap();
    assert_eq!(chain.tip().hash, b[1].block_hash(), "the next seen");
    chain.reconsider_block(&a[0].block_hash()).unwrap();
    assert_eq!(
        chain.tip().hash,
        a[1].block_hash(),
        "back to the first seen"
    );
    // A block arriving with equal work never displaces the tip.
    chain.invalidate_block(&a[1].block_hash()).unwrap();
    assert_eq!(chain.tip().hash, b[1].block_hash());
    let later = branch(&params, &a[0], 2, 1, b"later");
    chain.process_block(later[0].clone(), NOW).unwrap();
    assert_eq!(chain.tip().hash, b[1].block_hash());
    chain.reconsider_block(&a[1].block_hash()).unwrap();
    assert_eq!(chain.tip().hash, a[1].block_hash());
}
