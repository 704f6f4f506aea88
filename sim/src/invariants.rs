//! The end-of-run invariants over the honest nodes (the per-event ones live in
//! [`crate::world::World`]: no invalid block connected, no honest ban, a failed write stops the
//! node, a restart finds a tip no older than the last announced, every RPC reply answers one
//! outstanding request and WebSocket clients hear every block and transaction once and in
//! order). Safety: no confirmed
//! transaction in any mempool, bounded address books, no known-invalid block on any main
//! chain, and (on small runs) each stored UTXO set equal to a recomputation from the node's
//! own chain. Liveness: every honest node reaches the one most-work tip within the quiet
//! period after the last fault heals, and every workload transaction is mined, still held,
//! refused with a reason, or lost with the mempools of crashed nodes; every RPC request to a
//! running node is answered.

use crate::store::SimStore;
use crate::world::World;
use rbtcd_core::chain::{Chain, MemStore, Placement};
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
    let mut mined: BTreeSet<Txid> = BTreeSet::new();
    for i in 0..world.plan.honest {
        let Some(node) = world.slots[i].node.as_ref() else {
            violations.push(format!("honest node {i} is down after the healing phase"));
            continue;
        };
        let tip = node.chain().tip();
        tips.entry(tip.hash).or_default().push(i);
        let blocks = match main_chain(node.chain(), tip.hash) {
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
        mined.extend(confirmed.iter().copied());
        for e in node.mempool().entries() {
            if confirmed.contains(&e.txid) {
                violations.push(format!(
                    "node {i}: confirmed tx {} still in mempool",
                    e.txid
                ));
            }
        }
        let rpc = &world.slots[i].rpc;
        if !rpc.outstanding.is_empty() || !rpc.ws_outstanding.is_empty() {
            violations.push(format!(
                "node {i}: RPC requests {:?} and WebSocket requests {:?} never answered",
                rpc.outstanding, rpc.ws_outstanding
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
                .or_insert_with(|| utxo_matches(world, &blocks, node.chain()))
                .clone();
            if let Err(e) = verdict {
                violations.push(format!("node {i}: {e}"));
            }
        }
    }
    violations.extend(unaccounted_txs(world, &mined));
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
fn main_chain(chain: &Chain<SimStore>, tip: BlockHash) -> Result<Vec<Block>, String> {
    let mut blocks = Vec::new();
    let mut hash = tip;
    while let Some(block) = chain.block(&hash).map_err(|e| e.to_string())? {
        if block.header.prev_blockhash == BlockHash::default() {
            break;
        }
        hash = block.header.prev_blockhash;
        blocks.push(block);
    }
    blocks.reverse();
    Ok(blocks)
}

/// Replays `blocks` into a fresh chain and compares its UTXO set with `node`'s (as of its tip,
/// flushed or not).
fn utxo_matches(world: &World, blocks: &[Block], node: &Chain<SimStore>) -> Result<(), String> {
    let mut chain = Chain::open(world.params.clone(), MemStore::new())
        .map_err(|e| format!("fresh chain: {e}"))?;
    let now = START.unix_secs() + world.now / 1000 + 3600;
    for b in blocks {
        let hash = b.block_hash();
        match chain.process_block(b.clone(), now) {
            Ok(Placement::MainChain) => {}
            other => return Err(format!("its main-chain block {hash} replays as {other:?}")),
        }
    }
    let want = chain.utxo_snapshot().map_err(|e| e.to_string())?;
    let have = node.utxo_snapshot().map_err(|e| e.to_string())?;
    if want != have {
        return Err(format!(
            "UTXO set differs from a recomputation from its chain ({} stored, {} recomputed)",
            have.len(),
            want.len()
        ));
    }
    Ok(())
}

/// Workload transactions that an honest node accepted and still runs on, yet are neither
/// mined nor held by any honest node (mempool or orphans), nor refused with a reason. Lost
/// ones are fine only when every honest node that took them has restarted since (mempools do
/// not survive a crash) and no honest node holds them.
fn unaccounted_txs(world: &World, mined: &BTreeSet<Txid>) -> Vec<String> {
    let honest = &world.slots[..world.plan.honest];
    let held = |txid: &Txid| {
        honest
            .iter()
            .filter_map(|s| s.node.as_ref())
            .any(|n| n.mempool().have(txid))
    };
    world
        .submitted
        .iter()
        .filter(|(txid, fate)| fate.rejected.is_none() && !mined.contains(txid) && !held(txid))
        .filter_map(|(txid, fate)| {
            let keeper = fate.keeper()?;
            Some(format!(
                "transaction {txid} accepted by node {keeper} (running since) was neither mined, \
                 kept nor refused"
            ))
        })
        .collect()
}
