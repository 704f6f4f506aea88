//! Reorganizations: deep ones, and ones that fail part-way on an invalid block and fall back to
//! the old chain (btcd's fullblocktests cover the same ground with their own block generator).

use rbtcd_core::chain::builder::{spend, BlockBuilder};
use rbtcd_core::chain::{
    Chain, ChainError, ChainEvent, ChainOptions, ChainStore, MemStore, Placement, RuleError, Status,
};
use rbtcd_core::params::{Network, Params};
use rbtcd_core::primitives::{Block, OutPoint};

const NOW: u64 = 1_296_688_602 + 10_000_000;

fn params() -> Params {
    let mut p = Params::new(Network::Regtest);
    p.coinbase_maturity = 1;
    p
}

/// `len` blocks on `parent` (at `height - 1`), each spending its parent's coinbase;
/// `overspend_at` makes that block's spend claim one satoshi too many.
fn branch(
    parent: &Block,
    height: u32,
    len: usize,
    tag: u8,
    overspend_at: Option<usize>,
) -> Vec<Block> {
    let p = params();
    let mut out: Vec<Block> = Vec::new();
    let mut prev = parent.clone();
    for i in 0..len {
        let mut bb = BlockBuilder::new(&p, prev.block_hash(), height + i as u32, prev.header.time)
            .tag(&[tag]);
        if height + i as u32 > 1 {
            let cb = &prev.txdata[0];
            let extra = (overspend_at == Some(i)) as i64;
            bb = bb.tx(spend(
                &[OutPoint::new(cb.txid(), 0)],
                &[cb.outputs[0].value + extra],
            ));
        }
        let b = bb.build();
        out.push(b.clone());
        prev = b;
    }
    out
}

#[test]
fn failed_reorganization_falls_back_to_the_old_chain() {
    let p = params();
    let main = branch(&p.genesis, 1, 10, 0, None);
    // Forks after block 5; its third block (height 8) overspends.
    let fork = branch(&main[4], 6, 7, 1, Some(2));
    let store = MemStore::new();
    let mut chain = Chain::open(p, store.clone()).unwrap();
    for b in &main {
        chain.process_block(b.clone(), NOW).unwrap();
    }
    let before = store.utxo_snapshot().unwrap();
    chain.drain_events();
    for b in &fork[..5] {
        // Up to height 10 the fork has no more work: stored, not validated against UTXOs.
        assert_eq!(
            chain.process_block(b.clone(), NOW),
            Ok(Placement::SideChain)
        );
    }
    // Height 11 outweighs the main chain: reorganize, fail at height 8, fall back.
    let bad = &fork[2];
    assert_eq!(
        chain.process_block(fork[5].clone(), NOW),
        Err(ChainError::Rule(RuleError::SpendsMoreThanInputs(
            bad.txdata[1].txid()
        )))
    );
    assert_eq!(chain.tip().hash, main[9].block_hash());
    assert_eq!(store.utxo_snapshot().unwrap(), before);
    let ev = chain.drain_events();
    let connected = |b: &Block| ChainEvent::Connected {
        hash: b.block_hash(),
        height: b.txdata[0].inputs[0].script_sig[0] as u32 - 0x50,
        txs: b.txdata.len(),
        time: b.header.time,
    };
    assert_eq!(ev.len(), 5 + 2 + 2 + 5);
    assert_eq!(&ev[5..7], &[connected(&fork[0]), connected(&fork[1])]);
    assert_eq!(ev.last(), Some(&connected(&main[9])));
    let status = |b: &Block| chain.index().get(&b.block_hash()).unwrap().status;
    assert!(status(bad).contains(Status::INVALID));
    assert!(status(&fork[5]).contains(Status::INVALID_ANCESTOR));
    assert!(!status(&fork[1]).is_invalid());
    assert_eq!(
        chain.process_block(fork[6].clone(), NOW),
        Err(ChainError::Rule(RuleError::InvalidAncestor(
            fork[5].block_hash()
        )))
    );
}

#[test]
fn deep_reorganization_matches_a_direct_sync() {
    let p = params();
    let main = branch(&p.genesis, 1, 160, 0, None);
    let fork = branch(&main[9], 11, 160, 1, None);
    let store = MemStore::new();
    let mut chain = Chain::open(p.clone(), store.clone()).unwrap();
    for b in main.iter().chain(&fork) {
        chain.process_block(b.clone(), NOW).unwrap();
    }
    assert_eq!(chain.tip().hash, fork.last().unwrap().block_hash());
    assert_eq!(chain.tip().height, 170);
    let ev = chain.drain_events();
    let disconnected = ev
        .iter()
        .filter(|e| matches!(e, ChainEvent::Disconnected { .. }))
        .count();
    assert_eq!(disconnected, 150);
    let direct = MemStore::new();
    let mut other = Chain::open(p, direct.clone()).unwrap();
    for b in main[..10].iter().chain(&fork) {
        other.process_block(b.clone(), NOW).unwrap();
    }
    assert_eq!(
        chain.utxo_snapshot().unwrap(),
        other.utxo_snapshot().unwrap()
    );
    chain.flush().unwrap();
    other.flush().unwrap();
    assert_eq!(
        store.utxo_snapshot().unwrap(),
        direct.utxo_snapshot().unwrap()
    );
    // Undo data stays for blocks reorganised away (as Core), should they come back.
    assert!(chain.undo(&main[50].block_hash()).unwrap().is_some());
    assert!(chain.undo(&fork[50].block_hash()).unwrap().is_some());
}

#[test]
fn headers_lead_only_while_their_blocks_can_be_valid() {
    let p = params();
    let mut chain = Chain::open(p.clone(), MemStore::new()).unwrap();
    let g = &p.genesis;
    let a = BlockBuilder::new(&p, p.genesis_hash, 1, g.header.time)
        .tag(b"a")
        .build();
    let b = BlockBuilder::new(&p, p.genesis_hash, 1, g.header.time)
        .tag(b"b")
        .build();
    chain.process_headers(&[a.header, b.header], NOW).unwrap();
    // Equal work: the first header seen leads.
    assert_eq!(chain.index().best_header().hash, a.block_hash());
    // A copy of `a` whose transactions do not match its header (mutated in transit, or sent
    // by an attacker with a header of its own): `a` stops leading without being marked invalid,
    // so sync turns to `b` instead of waiting for data nobody may have.
    let mut mutated = a.clone();
    mutated.txdata[0].inputs[0].script_sig.push(0x51);
    assert!(chain.process_block(mutated, NOW).is_err());
    assert_eq!(chain.index().best_header().hash, b.block_hash());
    assert!(!chain
        .index()
        .get(&a.block_hash())
        .unwrap()
        .status
        .is_invalid());
    // The good copy is still accepted; a block that is really invalid stops leading for good.
    assert!(chain.process_block(a.clone(), NOW).is_ok());
    let c = BlockBuilder::new(&p, a.block_hash(), 2, a.header.time)
        .tag(b"c")
        .fees(1)
        .build();
    chain.process_headers(&[c.header], NOW).unwrap();
    assert_eq!(chain.index().best_header().hash, c.block_hash());
    assert!(chain.process_block(c.clone(), NOW).is_err());
    assert!(chain
        .index()
        .get(&c.block_hash())
        .unwrap()
        .status
        .is_invalid());
    assert_ne!(chain.index().best_header().hash, c.block_hash());
}

/// A reorganization whose fork point lies below the last flush, with the UTXO cache large and
/// with it so small that it flushes by itself in the middle of the reorganization: the chain
/// ends where a direct sync does, the flushed store agrees, and a crash before the next flush
/// reopens at the last flushed tip and gets there again.
#[test]
fn reorganizations_deeper_than_the_last_flush() {
    let p = params();
    let main = branch(&p.genesis, 1, 60, 0, None);
    let fork = branch(&main[29], 31, 35, 1, None);
    let mut direct = Chain::open(p.clone(), MemStore::new()).unwrap();
    for b in main[..30].iter().chain(&fork) {
        direct.process_block(b.clone(), NOW).unwrap();
    }
    let want = direct.utxo_snapshot().unwrap();
    for budget in [64 << 20, 3 << 10] {
        let options = ChainOptions {
            utxo_cache_bytes: budget,
            flush_interval_secs: u64::MAX,
            ..ChainOptions::default()
        };
        let store = MemStore::new();
        let mut chain = Chain::open_with(p.clone(), store.clone(), options.clone()).unwrap();
        for b in &main[..40] {
            chain.process_block(b.clone(), NOW).unwrap();
        }
        chain.flush().unwrap();
        for b in &main[40..] {
            chain.process_block(b.clone(), NOW).unwrap();
        }
        let flushed_before_reorg = store.tip().unwrap().unwrap();
        for b in &fork {
            chain.process_block(b.clone(), NOW).unwrap();
        }
        assert_eq!(chain.tip().hash, fork.last().unwrap().block_hash());
        assert_eq!(chain.utxo_snapshot().unwrap(), want, "budget {budget}");
        let flushed = store.tip().unwrap().unwrap();
        match budget {
            64_000_000.. => assert_eq!(flushed, flushed_before_reorg, "no flush of its own"),
            _ => assert_ne!(flushed, main[39].block_hash(), "flushed while reorganizing"),
        }
        // A crash now: the store is at some flushed tip, and the blocks come again.
        store.crash();
        let store = store.reopen();
        let mut chain = Chain::open_with(p.clone(), store.clone(), options).unwrap();
        for b in main.iter().chain(&fork) {
            chain.process_block(b.clone(), NOW).unwrap();
        }
        assert_eq!(chain.utxo_snapshot().unwrap(), want, "budget {budget}");
        chain.flush().unwrap();
        assert_eq!(store.utxo_snapshot().unwrap(), want, "budget {budget}");
    }
}
