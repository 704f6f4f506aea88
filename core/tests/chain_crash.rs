//! Crash consistency on the in-memory store, which loses what a power cut loses (the batch in
//! flight and every block-file byte not synced). A crash is injected at every durability event
//! of a run that syncs a chain with a reorganization, flushing often (a small UTXO cache and a
//! short flush interval): before a file sync, between the sync and the store batch, and after
//! the batch (a crash between two blocks). Each time the store reopens at exactly the state of
//! some flushed tip, loses no committed batch, and then reaches the same final tip and UTXO
//! set.

use rbtcd_core::chain::builder::{spend, BlockBuilder};
use rbtcd_core::chain::{Chain, ChainError, ChainOptions, ChainStore, MemStore, StoreError};
use rbtcd_core::mempool::Coin;
use rbtcd_core::params::{Network, Params};
use rbtcd_core::primitives::{Block, BlockHash, OutPoint};
use std::collections::BTreeMap;

const NOW: u64 = 1_296_688_602 + 10_000_000;
/// Seconds between the arrivals of two blocks; with [`options`]'s interval, a periodic flush
/// every third block.
const SPACING: u64 = 600;

fn params() -> Params {
    let mut p = Params::new(Network::Regtest);
    p.coinbase_maturity = 1;
    p
}

/// A cache small enough to fill within a few blocks, and a flush every 30 minutes.
fn options() -> ChainOptions {
    ChainOptions {
        utxo_cache_bytes: 3 << 10,
        flush_interval_secs: 1800,
        ..ChainOptions::default()
    }
}

/// Blocks `1..=len` on `parent`, each spending the previous block's coinbase.
fn branch(p: &Params, parent: &Block, height: u32, len: usize, tag: u8) -> Vec<Block> {
    let mut out: Vec<Block> = Vec::new();
    let mut prev = parent.clone();
    for i in 0..len as u32 {
        let mut bb =
            BlockBuilder::new(p, prev.block_hash(), height + i, prev.header.time).tag(&[tag]);
        if prev.txdata[0].outputs[0].value > 0 && i > 0 {
            let cb = &prev.txdata[0];
            bb = bb.tx(spend(
                &[OutPoint::new(cb.txid(), 0)],
                &[cb.outputs[0].value],
            ));
        }
        let b = bb.build();
        out.push(b.clone());
        prev = b;
    }
    out
}

type Utxo = BTreeMap<OutPoint, Coin>;

/// The blocks in arrival order: 30 on genesis, then a 12-block fork from height 20 that wins.
fn arrivals(p: &Params) -> Vec<Block> {
    let main = branch(p, &p.genesis, 1, 30, 0);
    let fork = branch(p, &main[19], 21, 12, 1);
    main.into_iter().chain(fork).collect()
}

/// The UTXO set of every tip the arrivals pass through, and the final tip.
fn reference(p: &Params, blocks: &[Block]) -> (BTreeMap<BlockHash, Utxo>, BlockHash) {
    let mut states = BTreeMap::new();
    let mut chain = Chain::open(p.clone(), MemStore::new()).unwrap();
    states.insert(p.genesis_hash, chain.utxo_snapshot().unwrap());
    for b in blocks {
        chain.process_block(b.clone(), NOW).unwrap();
        states.insert(chain.tip().hash, chain.utxo_snapshot().unwrap());
    }
    // Tips passed through inside the reorganization: connect the winner straight.
    let mut straight = Chain::open(p.clone(), MemStore::new()).unwrap();
    for b in blocks[..20].iter().chain(&blocks[30..]) {
        straight.process_block(b.clone(), NOW).unwrap();
        states.insert(straight.tip().hash, straight.utxo_snapshot().unwrap());
    }
    (states, chain.tip().hash)
}

/// Feeds `blocks` in order, the `i`th at `NOW + i * SPACING`, stopping at a crash.
fn feed(chain: &mut Chain<MemStore>, blocks: &[Block]) -> Result<(), ChainError> {
    for (i, b) in blocks.iter().enumerate() {
        chain.process_block(b.clone(), NOW + i as u64 * SPACING)?;
    }
    Ok(())
}

/// Reopens a crashed store and checks it holds exactly a flushed tip's state with at least
/// `committed` batches, then finishes the sync and checks the end state.
fn recover(p: &Params, store: &MemStore, committed: u64, what: &str) {
    let blocks = arrivals(p);
    let (states, final_tip) = reference(p, &blocks);
    let store = store.reopen();
    assert!(
        store.commits() >= committed,
        "{what}: a committed batch was lost"
    );
    let flushed = store.tip().unwrap().expect("a tip");
    assert_eq!(
        Some(&store.utxo_snapshot().unwrap()),
        states.get(&flushed),
        "{what}: the store holds the UTXO set of its tip {flushed}"
    );
    let mut chain = Chain::open_with(p.clone(), store.clone(), options()).unwrap();
    // Blocks stored after the flushed tip were connected again at open.
    let tip = chain.tip().hash;
    assert_eq!(
        Some(&chain.utxo_snapshot().unwrap()),
        states.get(&tip),
        "{what}"
    );
    feed(&mut chain, &blocks).unwrap();
    assert_eq!(chain.tip().hash, final_tip, "{what}");
    assert_eq!(chain.utxo_snapshot().unwrap(), states[&final_tip], "{what}");
    chain.flush().unwrap();
    assert_eq!(store.utxo_snapshot().unwrap(), states[&final_tip], "{what}");
}

#[test]
fn a_crash_at_any_sync_or_batch_reopens_at_a_flushed_tip() {
    let p = params();
    let blocks = arrivals(&p);
    // Count the durability events of an undisturbed run after opening.
    let probe = MemStore::new();
    let mut chain = Chain::open_with(p.clone(), probe.clone(), options()).unwrap();
    let (syncs, commits) = (probe.syncs(), probe.commits());
    feed(&mut chain, &blocks).unwrap();
    let events = probe.syncs() - syncs + probe.commits() - commits;
    assert!(events >= 20, "only {events} events: the run hardly flushes");

    for crash_at in 1..=events {
        let store = MemStore::new();
        let mut chain = Chain::open_with(p.clone(), store.clone(), options()).unwrap();
        store.fail_at_event(crash_at);
        let mut committed = store.commits();
        let mut crashed = false;
        for (i, b) in blocks.iter().enumerate() {
            match chain.process_block(b.clone(), NOW + i as u64 * SPACING) {
                Ok(_) => committed = store.commits(),
                Err(ChainError::Store(StoreError::Closed)) => {
                    crashed = true;
                    break;
                }
                Err(e) => panic!("crash at event {crash_at}: unexpected {e}"),
            }
        }
        assert!(crashed, "crash at event {crash_at} never happened");
        // Events alternate: a file sync (odd), then the batch it precedes (even).
        let what = match crash_at % 2 {
            1 => format!("crash before file sync {}", crash_at.div_ceil(2)),
            _ => format!("crash between file sync and batch {}", crash_at / 2),
        };
        recover(&p, &store, committed, &what);
    }
}

#[test]
fn a_crash_after_any_block_reopens_at_a_flushed_tip() {
    let p = params();
    let blocks = arrivals(&p);
    for stop in 0..=blocks.len() {
        let store = MemStore::new();
        let mut chain = Chain::open_with(p.clone(), store.clone(), options()).unwrap();
        feed(&mut chain, &blocks[..stop]).unwrap();
        let committed = store.commits();
        // Killed after the last batch: nothing in memory survives, the batches all do.
        store.crash();
        recover(&p, &store, committed, &format!("crash after block {stop}"));
    }
}

#[test]
fn unsynced_block_bytes_are_lost_in_a_crash_and_fetched_again() {
    let p = params();
    let blocks = arrivals(&p);
    let store = MemStore::new();
    let never = ChainOptions {
        flush_interval_secs: u64::MAX,
        ..ChainOptions::default()
    };
    let mut chain = Chain::open_with(p.clone(), store.clone(), never).unwrap();
    feed(&mut chain, &blocks[..10]).unwrap();
    chain.flush().unwrap();
    let bytes = store.file_bytes();
    feed(&mut chain, &blocks[..20]).unwrap();
    assert!(store.file_bytes() > bytes, "appended, not synced");
    store.crash();
    assert_eq!(
        store.file_bytes(),
        bytes,
        "the power cut took the unsynced bytes"
    );
    let mut chain = Chain::open(p.clone(), store.reopen()).unwrap();
    assert_eq!(chain.tip().height, 10);
    assert!(chain.block(&blocks[14].block_hash()).unwrap().is_none());
    feed(&mut chain, &blocks[10..20]).unwrap();
    assert_eq!(chain.tip().hash, blocks[19].block_hash());
}
