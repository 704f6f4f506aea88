//! The end-of-run invariants over the honest nodes (the per-event ones live in
//! [`crate::world::World::observe`] and the RPC ones in `World::check_rpc`): one most-work
//! tip, no confirmed transaction in any mempool, bounded address books, no known-invalid block
//! on any main chain, every RPC request to a running node answered, and (on small runs) each
//! stored UTXO set equal to a recomputation from the node's own chain.

use crate::world::World;
use rbtcd_core::chain::{Chain, ChainStore, MemStore, Placement};
use rbtcd_core::harness::START;
use rbtcd_core::net::addrmgr::{NEW_BUCKETS, NEW_BUCKET_SIZE, TRIED_BUCKETS, TRIED_BUCKET_SIZE};
use rbtcd_core::primitives::{Block, BlockHash, Txid};
use std::collections::{BTreeMap, BTreeSet};

/// Most addresses an address book can hold (every bucket full).
pub const ADDR_BOOK_BOUND: usize =
    NEW_BUCKETS * NEW_BUCKET_SIZE + TRIED_BUCKETS * TRIED_BUCKET_SIZE;

/// Checks the end-of-run invariants, recording violations in `world`; `recompute_utxo` replays
/// every honest node's chain into a fresh store and compares UTXO sets (costly on big runs).
pub fn check_end(world: &mut World, recompute_utxo: bool) {
    let mut violations = Vec::new();
    let mut tips: BTreeMap<BlockHash, Vec<usize>> = BTreeMap::new();
    let mut recomputed: BTreeMap<BlockHash, Result<(), String>> = BTreeMap::new();
    for i in 0..world.plan.honest {
        let Some(node) = world.slots[i].node.as_ref() else {
            violations.push(format!("honest node {i} is down after the healing phase"));
            continue;
        };
        let tip = node.chain().tip();
        tips.entry(tip.hash).or_default().push(i);
        let blocks = match main_chain(node.chain().store(), tip.hash) {
            Ok(blocks) => blocks,
            Err(e) => {
                violations.push(format!("node {i}: main chain unreadable: {e}"));
                continue;
            }
        };
        let mut confirmed: BTreeSet<Txid> = BTreeSet::new();
        for b in &blocks {
            let hash = b.block_hash();
            if world.invalid.contains(&hash) {
                violations.push(format!("node {i}: invalid block {hash} on its main chain"));
            }
            confirmed.extend(b.txdata.iter().map(|tx| tx.txid()));
        }
        for e in node.mempool().entries() {
            if confirmed.contains(&e.txid) {
                violations.push(format!(
                    "node {i}: confirmed tx {} still in mempool",
                    e.txid
                ));
            }
        }
        let unanswered = &world.slots[i].rpc.outstanding;
        if !unanswered.is_empty() {
            violations.push(format!(
                "node {i}: RPC requests {unanswered:?} never answered"
            ));
        }
        let book = node.addr_manager().len();
        if book > ADDR_BOOK_BOUND {
            violations.push(format!(
                "node {i}: address book holds {book} > {ADDR_BOOK_BOUND}"
            ));
        }
        if recompute_utxo {
            let verdict = recomputed
                .entry(tip.hash)
                .or_insert_with(|| utxo_matches(world, &blocks, node.chain().store()))
                .clone();
            if let Err(e) = verdict {
                violations.push(format!("node {i}: {e}"));
            }
        }
    }
    if tips.len() > 1 {
        let listed: Vec<String> = tips
            .iter()
            .map(|(hash, nodes)| format!("{hash} held by {nodes:?}"))
            .collect();
        violations.push(format!(
            "honest nodes did not converge on one tip after the quiet period: {}",
            listed.join("; ")
        ));
    }
    world.violations.extend(violations);
}

/// The main chain ending at `tip`, genesis excluded, oldest first.
fn main_chain(store: &MemStore, tip: BlockHash) -> Result<Vec<Block>, String> {
    let mut blocks = Vec::new();
    let mut hash = tip;
    while let Some(block) = store.block(&hash).map_err(|e| e.to_string())? {
        if block.header.prev_blockhash == BlockHash::default() {
            break;
        }
        hash = block.header.prev_blockhash;
        blocks.push(block);
    }
    blocks.reverse();
    Ok(blocks)
}

/// Replays `blocks` into a fresh chain and compares its UTXO set with `store`'s.
fn utxo_matches(world: &World, blocks: &[Block], store: &MemStore) -> Result<(), String> {
    let mut chain = Chain::open(world.params.clone(), MemStore::new())
        .map_err(|e| format!("fresh chain: {e}"))?;
    let now = START.unix_secs() + world.elapsed_ms() / 1000 + 3600;
    for b in blocks {
        let hash = b.block_hash();
        match chain.process_block(b.clone(), now) {
            Ok(Placement::MainChain) => {}
            other => return Err(format!("its main-chain block {hash} replays as {other:?}")),
        }
    }
    let want = chain.store().utxo_snapshot().map_err(|e| e.to_string())?;
    let have = store.utxo_snapshot().map_err(|e| e.to_string())?;
    if want != have {
        return Err(format!(
            "UTXO set differs from a recomputation from its chain ({} stored, {} recomputed)",
            have.len(),
            want.len()
        ));
    }
    Ok(())
}
