//! Mainnet block 277647 (many real transactions) connects against the outputs it spends
//! (`277647.utxostore.bz2`, btcd's compressed utxo entries), and disconnecting it restores them.

mod common;

use bitcoin::secp256k1::PublicKey;
use rbtcd_core::chain::block_rules::{check_block_context, check_block_sanity};
use rbtcd_core::chain::coins::{for_each_merged, CachedCoins, CoinsCache};
use rbtcd_core::chain::connect::{connect_block, disconnect_block};
use rbtcd_core::chain::index::BlockIndex;
use rbtcd_core::chain::script_check::ScriptChecks;
use rbtcd_core::chain::{
    ChainError, ChainStore, IndexEntry, MemStore, RuleError, Status, WriteBatch, WriteOp,
};
use rbtcd_core::mempool::Coin;
use rbtcd_core::params::{Network, Params};
use rbtcd_core::primitives::{Block, Hash256, OutPoint, TxOut};
use std::collections::BTreeMap;

const HEIGHT: u32 = 277_647;

/// btcd's variable-length quantity: base-128 digits, most significant first, each continued
/// digit offset by one.
fn vlq(b: &[u8], pos: &mut usize) -> u64 {
    let mut n = 0u64;
    loop {
        let v = b[*pos];
        *pos += 1;
        n = (n << 7) | (v & 0x7f) as u64;
        if v & 0x80 == 0 {
            return n;
        }
        n += 1;
    }
}

/// btcd's (and Core's) amount compression, undone.
fn decompress_amount(x: u64) -> i64 {
    if x == 0 {
        return 0;
    }
    let x = x - 1;
    let (mut e, x) = (x % 10, x / 10);
    let mut n = if e < 9 {
        let d = x % 9 + 1;
        (x / 9) * 10 + d
    } else {
        x + 1
    };
    while e > 0 {
        n *= 10;
        e -= 1;
    }
    n as i64
}

/// btcd's script compression, undone: special forms for P2PKH, P2SH and P2PK.
fn decompress_script(b: &[u8], pos: &mut usize) -> Vec<u8> {
    let code = vlq(b, pos);
    let mut take = |n: usize| {
        let s = b[*pos..*pos + n].to_vec();
        *pos += n;
        s
    };
    match code {
        0 => [vec![0x76, 0xa9, 20], take(20), vec![0x88, 0xac]].concat(),
        1 => [vec![0xa9, 20], take(20), vec![0x87]].concat(),
        2 | 3 => [vec![33, code as u8], take(32), vec![0xac]].concat(),
        4 | 5 => {
            let key = [vec![code as u8 - 2], take(32)].concat();
            let full = PublicKey::from_slice(&key)
                .unwrap()
                .serialize_uncompressed();
            [vec![65], full.to_vec(), vec![0xac]].concat()
        }
        n => take(n as usize - 6),
    }
}

/// The outputs the block spends that exist before it. The file also lists outputs the block
/// creates and spends itself; a store before the block cannot hold those.
fn spent_coins(block: &Block) -> Vec<(OutPoint, Coin)> {
    let own: Vec<_> = block.txdata.iter().map(|t| t.txid()).collect();
    let mut all = stored_entries();
    all.retain(|(op, _)| !own.contains(&op.txid));
    all
}

/// Every record of `277647.utxostore.bz2`.
fn stored_entries() -> Vec<(OutPoint, Coin)> {
    let data = common::read_bz2("277647.utxostore.bz2");
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < data.len() {
        let txid = Hash256(data[pos..pos + 32].try_into().unwrap());
        let vout = u32::from_le_bytes(data[pos + 32..pos + 36].try_into().unwrap());
        let len = u32::from_le_bytes(data[pos + 36..pos + 40].try_into().unwrap()) as usize;
        let entry = &data[pos + 40..pos + 40 + len];
        pos += 40 + len;
        let mut p = 0;
        let code = vlq(entry, &mut p);
        let value = decompress_amount(vlq(entry, &mut p));
        let script_pubkey = decompress_script(entry, &mut p);
        assert_eq!(p, entry.len());
        let coin = Coin {
            output: TxOut {
                value,
                script_pubkey,
            },
            height: (code >> 1) as u32,
            is_coinbase: code & 1 == 1,
        };
        out.push((OutPoint::new(txid, vout), coin));
    }
    out
}

fn store_with(coins: &[(OutPoint, Coin)]) -> MemStore {
    let mut store = MemStore::new();
    let ops = coins
        .iter()
        .map(|(op, c)| WriteOp::PutCoin(*op, c.clone()))
        .collect();
    store.write(WriteBatch { ops }).unwrap();
    store
}

/// An index holding only genesis: the block's connection is checked against its spent outputs,
/// not against the 277,646 blocks before it.
fn genesis_index(params: &Params) -> BlockIndex {
    BlockIndex::new(IndexEntry::header_only(
        params.genesis_hash,
        params.genesis.header,
        0,
        params.genesis.header.work(),
        Status::VALID,
    ))
}

/// The block's index entry at its real height.
fn entry_at_height(block: &Block, status: Status) -> IndexEntry {
    IndexEntry::header_only(
        block.block_hash(),
        block.header,
        HEIGHT,
        block.header.work(),
        status,
    )
}

#[test]
fn block_277647_connects_and_disconnects_against_its_spent_outputs() {
    let params = Params::new(Network::Mainnet);
    let block: Block = common::blocks("277647.dat.bz2").pop().unwrap();
    let coins = spent_coins(&block);
    let inputs: usize = block.txdata.iter().skip(1).map(|t| t.inputs.len()).sum();
    assert_eq!(stored_entries().len(), inputs);
    let in_block = inputs - coins.len();
    assert!(in_block > 0, "the block spends some of its own outputs");

    check_block_sanity(&block).unwrap();
    // The parent's median time past is not at hand; any time before the block's will do
    // before CSV, and BIP34 (height in the coinbase) is checked for real.
    check_block_context(&block, HEIGHT, block.header.time - 1, &params).unwrap();

    let index = genesis_index(&params);
    let entry = entry_at_height(&block, Status::HEADER_VALID.with(Status::DATA_STORED));
    let store = store_with(&coins);
    let mut cache = CoinsCache::new(64 << 20);
    let before = snapshot(&cache, &store);
    let mut view = CachedCoins {
        cache: &mut cache,
        store: &store,
    };
    let connection = connect_block(
        &mut view,
        &index,
        &block,
        &entry,
        &params,
        Some(&ScriptChecks::default()),
    )
    .unwrap();
    cache.apply(&store, connection.changes).unwrap();
    let after = snapshot(&cache, &store);
    assert!(coins.iter().all(|(op, _)| !after.contains_key(op)));
    let created: usize = block.txdata.iter().map(|t| t.outputs.len()).sum();
    assert_eq!(after.len(), created - in_block);

    let undo = connection.undo;
    assert_eq!(undo.spent.len(), inputs);
    let mut view = CachedCoins {
        cache: &mut cache,
        store: &store,
    };
    let changes = disconnect_block(&mut view, &block, entry.hash, undo).unwrap();
    cache.apply(&store, changes).unwrap();
    assert_eq!(snapshot(&cache, &store), before);
}

/// The UTXO set the cache and the store hold together.
fn snapshot(cache: &CoinsCache, store: &MemStore) -> BTreeMap<OutPoint, Coin> {
    let mut all = BTreeMap::new();
    for_each_merged(cache, store, &mut |op, c| {
        all.insert(*op, c.clone());
    })
    .unwrap();
    all
}

#[test]
fn block_277647_without_one_spent_output_is_refused() {
    let params = Params::new(Network::Mainnet);
    let block: Block = common::blocks("277647.dat.bz2").pop().unwrap();
    let mut coins = spent_coins(&block);
    let (missing, _) = coins.remove(coins.len() / 2);
    let index = genesis_index(&params);
    let entry = entry_at_height(&block, Status::HEADER_VALID);
    let store = store_with(&coins);
    let mut cache = CoinsCache::new(64 << 20);
    let mut view = CachedCoins {
        cache: &mut cache,
        store: &store,
    };
    assert_eq!(
        connect_block(
            &mut view,
            &index,
            &block,
            &entry,
            &params,
            Some(&ScriptChecks::default())
        ),
        Err(ChainError::Rule(RuleError::MissingOrSpentInput(missing)))
    );
}
