use crate::chain::builder::{branch, finish};
use crate::chain::{Chain, ChainError, MemStore, RuleError};
use crate::params::{Network, Params};
use crate::primitives::BlockHeader;

const NOW: u64 = 2_000_000_000;

/// The block whose data completes a branch is not blamed when the branch's next block, stored
/// before it, fails to connect: only the failing block is refused. (The simulator found a node
/// banning an honest peer for relaying a valid block whose stored child was an attacker's.)
#[test]
fn a_valid_block_is_not_refused_for_a_stored_descendant_that_fails() {
    let params = Params::new(Network::Regtest);
    let main = branch(&params, &params.genesis, 1, 3, b"main");
    let mut chain = Chain::open(params.clone(), MemStore::new()).unwrap();
    for b in &main {
        chain.process_block(b.clone(), NOW).unwrap();
    }
    // A side branch from block 2: a valid block at height 3, and on it a block claiming one
    // satoshi more than its coinbase may (found only when it connects).
    let side = branch(&params, &main[1], 3, 2, b"side");
    let (parent, mut child) = (side[0].clone(), side[1].clone());
    child.txdata[0].outputs[0].value += 1;
    finish(&mut child);
    let headers: Vec<BlockHeader> = vec![parent.header, child.header];
    chain.process_headers(&headers, NOW).unwrap();
    // The child's data comes first; it cannot connect without its parent's.
    chain.process_block(child.clone(), NOW).unwrap();
    assert_eq!(chain.tip().hash, main[2].block_hash());
    // The parent's data completes the branch; connecting the child fails, not the parent.
    assert!(chain.process_block(parent.clone(), NOW).is_ok());
    let refused = chain.process_block(child.clone(), NOW);
    assert!(
        matches!(refused, Err(ChainError::Rule(RuleError::KnownInvalid(h))) if h == child.block_hash()),
        "{refused:?}"
    );
    // The parent's own failure is still its error.
    let mut bad = branch(&params, &main[2], 4, 1, b"bad").remove(0);
    bad.txdata[0].outputs[0].value += 1;
    finish(&mut bad);
    assert!(matches!(
        chain.process_block(bad, NOW),
        Err(ChainError::Rule(RuleError::BadCoinbaseValue { .. }))
    ));
}
