//! btcd's reorganization fixtures (`blk_0_to_4`, `blk_3A`, `blk_4A`, `blk_5A`, `reorgtest.hex`):
//! a mainnet-format chain 0..4 and a side chain forking after block 2. As in btcd's tests the
//! coinbase maturity is lowered to 1, since the fixtures spend coinbases right away.

mod common;

use rbtcd_core::chain::{
    Chain, ChainError, ChainEvent, ChainStore, MemStore, Placement, RuleError, Status,
};
use rbtcd_core::params::{Network, Params};
use rbtcd_core::primitives::hash::hex_decode;
use rbtcd_core::primitives::{Block, Decodable};

const NOW: u64 = 1_700_000_000;

fn params() -> Params {
    let mut p = Params::new(Network::Mainnet);
    p.coinbase_maturity = 1;
    p
}

/// Blocks 0..=4, then 3A, 4A, 5A.
fn fixtures() -> (Vec<Block>, Block, Block, Block) {
    let main = common::blocks("blk_0_to_4.dat.bz2");
    let one = |f: &str| common::blocks(f).pop().unwrap();
    (
        main,
        one("blk_3A.dat.bz2"),
        one("blk_4A.dat.bz2"),
        one("blk_5A.dat.bz2"),
    )
}

#[test]
fn side_chain_is_stored_then_reorganized_to_when_it_gains_work() {
    let (main, b3a, b4a, b5a) = fixtures();
    assert_eq!(main.len(), 5);
    let store = MemStore::new();
    let mut chain = Chain::open(params(), store.clone()).unwrap();
    assert_eq!(
        chain.process_block(main[0].clone(), NOW),
        Ok(Placement::AlreadyHave)
    );
    for b in &main[1..] {
        assert_eq!(
            chain.process_block(b.clone(), NOW),
            Ok(Placement::MainChain)
        );
    }
    chain.drain_events();
    let utxo_at_4 = store.utxo_snapshot().unwrap();
    // 3A and 4A: stored on a side chain; 4A ties block 4's work and the first seen stays.
    for b in [&b3a, &b4a] {
        assert_eq!(
            chain.process_block(b.clone(), NOW),
            Ok(Placement::SideChain)
        );
        assert!(chain.have_block(&b.block_hash()));
    }
    assert_eq!(chain.tip().hash, main[4].block_hash());
    assert!(chain.drain_events().is_empty());
    assert_eq!(store.utxo_snapshot().unwrap(), utxo_at_4);
    // 5A gives the side chain more work: reorganize.
    assert_eq!(
        chain.process_block(b5a.clone(), NOW),
        Ok(Placement::MainChain)
    );
    assert_eq!(chain.tip().height, 5);
    assert_eq!(chain.tip().hash, b5a.block_hash());
    let ev = |hash: &Block, height, connected: bool| match connected {
        true => ChainEvent::Connected {
            hash: hash.block_hash(),
            height,
            txs: hash.txdata.len(),
            time: hash.header.time,
        },
        false => ChainEvent::Disconnected {
            hash: hash.block_hash(),
            height,
        },
    };
    assert_eq!(
        chain.drain_events(),
        vec![
            ev(&main[4], 4, false),
            ev(&main[3], 3, false),
            ev(&b3a, 3, true),
            ev(&b4a, 4, true),
            ev(&b5a, 5, true),
        ]
    );
    // The UTXO set equals that of a node that only ever saw the winning chain.
    let direct = MemStore::new();
    let mut other = Chain::open(params(), direct.clone()).unwrap();
    for b in main[1..3].iter().chain([&b3a, &b4a, &b5a]) {
        assert_eq!(
            other.process_block(b.clone(), NOW),
            Ok(Placement::MainChain)
        );
    }
    assert_eq!(
        store.utxo_snapshot().unwrap(),
        direct.utxo_snapshot().unwrap()
    );
    // The old branch is still stored, so going back needs no download.
    assert!(chain.have_block(&main[4].block_hash()));
}

#[test]
fn orphans_wait_for_their_parents_and_then_connect() {
    let (main, b3a, b4a, b5a) = fixtures();
    let mut chain = Chain::open(params(), MemStore::new()).unwrap();
    for b in &main[1..3] {
        chain.process_block(b.clone(), NOW).unwrap();
    }
    assert_eq!(
        chain.process_block(b5a.clone(), NOW),
        Ok(Placement::Orphan {
            root: b5a.block_hash()
        })
    );
    assert_eq!(
        chain.process_block(b4a.clone(), NOW),
        Ok(Placement::Orphan {
            root: b4a.block_hash()
        })
    );
    assert_eq!(chain.orphan_count(), 2);
    assert!(chain.have_block(&b5a.block_hash()));
    assert_eq!(
        chain.process_block(b5a.clone(), NOW),
        Ok(Placement::AlreadyHave)
    );
    assert_eq!(
        chain.process_block(b3a.clone(), NOW),
        Ok(Placement::MainChain)
    );
    assert_eq!(chain.orphan_count(), 0);
    assert_eq!(chain.tip().hash, b5a.block_hash());
    assert_eq!(chain.tip().height, 5);
}

#[test]
fn orphans_expire_after_an_hour() {
    let (main, _, b4a, _) = fixtures();
    let mut chain = Chain::open(params(), MemStore::new()).unwrap();
    chain.process_block(main[1].clone(), NOW).unwrap();
    chain.process_block(b4a, NOW).unwrap();
    assert_eq!(chain.orphan_count(), 1);
    // Adding another orphan an hour later first drops the expired one.
    chain.process_block(main[3].clone(), NOW + 3600).unwrap();
    assert_eq!(chain.orphan_count(), 1);
    chain.process_block(main[2].clone(), NOW + 3600).unwrap();
    assert_eq!(chain.tip().height, 3);
}

/// The blocks of `reorgtest.hex`: per block, hex words after a `Block ...:` line (network
/// magic, length, block).
fn reorgtest_hex() -> Vec<Block> {
    let text = String::from_utf8(common::read_vector("reorgtest.hex")).unwrap();
    let mut raw: Vec<String> = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with("Block ") {
            raw.push(String::new());
        } else if line.starts_with("File path") || line.is_empty() {
            continue;
        } else if let Some(cur) = raw.last_mut() {
            cur.extend(line.split_whitespace());
        }
    }
    raw.iter()
        .map(|h| {
            let bytes = hex_decode(h).unwrap();
            assert_eq!(bytes[..4], [0xf9, 0xbe, 0xb4, 0xd9]);
            let len = u32::from_le_bytes(bytes[4..8].try_into().unwrap()) as usize;
            assert_eq!(bytes.len(), 8 + len);
            Block::decode(&bytes[8..]).unwrap()
        })
        .collect()
}

#[test]
fn reorgtest_hex_is_refused_from_its_broken_block_2_on() {
    // The hex file is documentation in btcd, not loaded by its tests: an independently mined
    // variant of the same shape (0..4, then 3A on 2, 4A on 3A, 5A on 4A) whose block 2 spends
    // an output that its chain never created. Everything above block 2 is refused as having an
    // invalid ancestor (and remembered as such, so nothing waits as an orphan).
    let hex = reorgtest_hex();
    assert_eq!(hex.len(), 8);
    let h: Vec<_> = hex.iter().map(Block::block_hash).collect();
    let prev: Vec<_> = hex.iter().map(|b| b.header.prev_blockhash).collect();
    assert_eq!(h[0], params().genesis_hash);
    assert_eq!(prev[1..5], h[0..4]);
    assert_eq!((prev[5], prev[6], prev[7]), (h[2], h[5], h[6]));
    let missing = hex[2].txdata[1].inputs[0].prevout;
    assert!(hex[..2]
        .iter()
        .all(|b| b.txdata.iter().all(|t| t.txid() != missing.txid)));
    let mut chain = Chain::open(params(), MemStore::new()).unwrap();
    let results: Vec<_> = hex
        .into_iter()
        .map(|b| chain.process_block(b, NOW))
        .collect();
    let bad_parent = |i: usize| Err(ChainError::Rule(RuleError::InvalidAncestor(h[i])));
    assert_eq!(
        results,
        [
            Ok(Placement::AlreadyHave),
            Ok(Placement::MainChain),
            Err(ChainError::Rule(RuleError::MissingOrSpentInput(missing))),
            bad_parent(2),
            bad_parent(3),
            bad_parent(2),
            bad_parent(5),
            bad_parent(6),
        ]
    );
    assert_eq!(chain.orphan_count(), 0);
    assert_eq!((chain.tip().hash, chain.tip().height), (h[1], 1));
    assert!(chain
        .index()
        .get(&h[2])
        .unwrap()
        .status
        .contains(Status::INVALID));
    assert_eq!(
        chain.process_block(reorgtest_hex().swap_remove(2), NOW),
        Err(ChainError::Rule(RuleError::KnownInvalid(h[2])))
    );
}
