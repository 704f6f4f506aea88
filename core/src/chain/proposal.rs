//! Block proposals (BIP23, btcd's `CheckConnectBlockTemplate`): every rule a block on the tip
//! must meet except its proof of work, checked without storing or connecting anything.

use super::block_rules::{check_block_context, check_block_sanity};
use super::coins::PeekCoins;
use super::connect::connect_block;
use super::header_rules::check_header_context;
use super::records::{IndexEntry, Status};
use super::{Chain, ChainError, ChainStore, RuleError};
use crate::primitives::Block;

/// Checks `block`, a child of `chain`'s tip, at the node's unix time `now` as if it were to be
/// connected, ignoring its proof of work (a proposal is checked before it is mined). Whether
/// the block is already stored is the caller's question (BIP22 answers "duplicate").
pub fn check_block_proposal<S: ChainStore>(
    chain: &Chain<S>,
    block: &Block,
    now: u64,
) -> Result<(), ChainError> {
    let tip = chain.tip();
    if block.header.prev_blockhash != tip.hash {
        return Err(RuleError::UnknownParent(block.header.prev_blockhash).into());
    }
    let hash = block.block_hash();
    if chain
        .index()
        .get(&hash)
        .is_some_and(|e| e.status.is_invalid())
    {
        return Err(RuleError::KnownInvalid(hash).into());
    }
    check_block_sanity(block)?;
    let params = chain.params();
    check_header_context(chain.index(), tip, &block.header, hash, now, params)?;
    let parent_mtp = chain.index().median_time_past(&tip.hash);
    check_block_context(block, tip.height + 1, parent_mtp, params)?;
    let entry = IndexEntry::header_only(
        hash,
        block.header,
        tip.height + 1,
        tip.chain_work + block.header.work(),
        Status::DATA_STORED,
    );
    let mut coins = PeekCoins {
        cache: chain.coins_cache(),
        store: chain.store(),
    };
    let scripts = Some(&chain.options().scripts);
    connect_block(&mut coins, chain.index(), block, &entry, params, scripts).map(drop)
}
