use super::*;
use rbtcd_core::chain::builder::{spending_chain, BlockBuilder};
use rbtcd_core::chain::{Chain, ChainOptions, MemStore};
use rbtcd_core::params::{Network, Params};
use rbtcd_core::primitives::Block;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};

/// A far-future "now" so no generated block is too new.
const NOW: u64 = 2_000_000_000;

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rbtcd-lmdb-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// The test chain: two-output splits and spends once coinbases mature.
fn regtest_blocks(params: &Params, n: u32) -> Vec<Block> {
    spending_chain(params, n, 2)
}

/// Everything a store holds that the chain reads, in a comparable form.
fn contents<S: ChainStore>(store: &S) -> String {
    let mut index = store.index_entries().unwrap();
    index.sort_by_key(|e| (e.height, e.hash.0));
    let mut undo = Vec::new();
    let mut blocks = Vec::new();
    let mut tx_locations = Vec::new();
    for e in &index {
        undo.push(e.undo.map(|pos| store.read(FileKind::Undo, pos).unwrap()));
        let block = e
            .data
            .map(|pos| Block::decode(&store.read(FileKind::Blocks, pos).unwrap()).unwrap());
        blocks.push(block.as_ref().map(|b| b.block_hash()));
        for tx in block.iter().flat_map(|b| &b.txdata) {
            tx_locations.push(store.tx_location(&tx.txid()).unwrap());
        }
    }
    format!(
        "{index:?}\n{undo:?}\n{blocks:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{tx_locations:?}\n{:?}",
        store.utxo_snapshot().unwrap(),
        store.tip().unwrap(),
        store.addr_book().unwrap(),
        store.bans().unwrap(),
        store.schema_version().unwrap(),
        store.tx_index_tip().unwrap()
    )
}

#[test]
fn holds_what_memstore_holds_and_survives_reopen() {
    let params = Params::new(Network::Regtest);
    let dir = temp_dir("same");
    let blocks = regtest_blocks(&params, 130);
    let mut on_disk = Chain::open(params.clone(), LmdbStore::open(&dir).unwrap()).unwrap();
    let mut in_mem = Chain::open(params.clone(), MemStore::new()).unwrap();
    on_disk.enable_tx_index().unwrap();
    in_mem.enable_tx_index().unwrap();
    for b in &blocks {
        on_disk.process_block(b.clone(), NOW).unwrap();
        in_mem.process_block(b.clone(), NOW).unwrap();
    }
    // A short side chain that wins, so undo data is written and used.
    let fork_at = &blocks[119];
    let mut parent = (fork_at.block_hash(), fork_at.header.time);
    for height in 121..=132 {
        let b = BlockBuilder::new(&params, parent.0, height, parent.1)
            .tag(b"fork")
            .build();
        parent = (b.block_hash(), b.header.time);
        on_disk.process_block(b.clone(), NOW).unwrap();
        in_mem.process_block(b, NOW).unwrap();
    }
    assert_eq!(on_disk.tip().height, 132);
    let mut extra = WriteBatch::new();
    extra.push(WriteOp::PutAddrBook(b"addresses".to_vec()));
    extra.push(WriteOp::PutBans(b"bans".to_vec()));
    extra.push(WriteOp::PutSchemaVersion(7));
    let (mut disk_store, mut mem_store) =
        (on_disk.into_store().unwrap(), in_mem.into_store().unwrap());
    disk_store.write(extra.clone()).unwrap();
    mem_store.write(extra).unwrap();
    assert_eq!(contents(&disk_store), contents(&mem_store));

    let before = contents(&disk_store);
    disk_store.close();
    let reopened = LmdbStore::open(&dir).unwrap();
    assert_eq!(
        contents(&reopened),
        before,
        "a reopened store holds the same"
    );
    let chain = Chain::open(params, reopened).unwrap();
    assert_eq!(chain.tip().hash, parent.0);
    let mut disk_store = chain.into_store().unwrap();
    assert_eq!(disk_store.tx_index_tip().unwrap(), Some(parent.0));
    let drop = WriteBatch {
        ops: vec![WriteOp::ClearTxIndex],
    };
    disk_store.write(drop.clone()).unwrap();
    mem_store.write(drop).unwrap();
    assert_eq!(contents(&disk_store), contents(&mem_store));
    assert_eq!(disk_store.tx_index_tip().unwrap(), None);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn corrupt_records_are_errors_not_panics() {
    let dir = temp_dir("corrupt");
    let mut store = LmdbStore::open(&dir).unwrap();
    let mut wtxn = store.env().unwrap().write_txn().unwrap();
    store
        .db(Table::Index)
        .put(&mut wtxn, &[1u8; 32], b"junk")
        .unwrap();
    store
        .db(Table::Meta)
        .put(&mut wtxn, b"tip", b"short")
        .unwrap();
    store
        .db(Table::Utxo)
        .put(&mut wtxn, b"bad key", b"")
        .unwrap();
    wtxn.commit().unwrap();
    assert!(matches!(
        store.index_entries(),
        Err(StoreError::Corrupt {
            table: Table::Index,
            ..
        })
    ));
    assert!(matches!(
        store.tip(),
        Err(StoreError::Corrupt {
            table: Table::Meta,
            ..
        })
    ));
    assert!(matches!(
        store.for_each_coin(&mut |_, _| {}),
        Err(StoreError::Corrupt {
            table: Table::Utxo,
            ..
        })
    ));
    store.write(WriteBatch::new()).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

const CRASH_BLOCKS: u32 = 720;
const CHILD_DIR_VAR: &str = "RBTCD_LMDB_CRASH_DIR";
/// The child flushes every this many blocks, as a local submitter would be acknowledged.
const FLUSH_EVERY: u32 = 5;

/// The child process of `survives_sigkill_while_connecting`: connects the generated chain into
/// the store in `RBTCD_LMDB_CRASH_DIR` from wherever its tip is, with a UTXO cache small
/// enough to flush by itself now and then, flushing every [`FLUSH_EVERY`] blocks and printing
/// each height once flushed, until killed.
#[test]
#[ignore = "run as a child process by survives_sigkill_while_connecting"]
fn crash_child() {
    let dir = PathBuf::from(std::env::var(CHILD_DIR_VAR).expect("run by the crash test"));
    let params = Params::new(Network::Regtest);
    let blocks = regtest_blocks(&params, CRASH_BLOCKS);
    let options = ChainOptions {
        utxo_cache_bytes: 48 << 10,
        ..ChainOptions::default()
    };
    let store = LmdbStore::open(&dir).unwrap();
    let mut chain = Chain::open_with(params, store, options).unwrap();
    // Opening may have connected stored blocks past the flushed tip.
    chain.flush().unwrap();
    let start = chain.tip().height as usize;
    println!("committed {start}");
    for block in &blocks[start..] {
        chain.process_block(block.clone(), NOW).unwrap();
        if chain.tip().height.is_multiple_of(FLUSH_EVERY) {
            chain.flush().unwrap();
            println!("committed {}", chain.tip().height);
        }
    }
    chain.flush().unwrap();
    println!("committed {}", chain.tip().height);
}

/// Kills a process connecting blocks into LMDB (SIGKILL) at pseudo-random points, many times;
/// after each kill the database opens, the tip is no older than the last height the child
/// reported committed, and the UTXO set equals a replay of the stored main chain.
#[test]
fn survives_sigkill_while_connecting() {
    let params = Params::new(Network::Regtest);
    let dir = temp_dir("sigkill");
    let blocks = regtest_blocks(&params, CRASH_BLOCKS);
    let mut rng: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move |bound: u64| {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng % bound
    };
    let mut kills = 0;
    let mut acknowledged = 0u32;
    while acknowledged < CRASH_BLOCKS {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "store::lmdb::tests::crash_child",
                "--ignored",
                "--nocapture",
            ])
            .args(["--test-threads", "1"])
            .env(CHILD_DIR_VAR, &dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let wait_for = next(8);
        let mut seen = 0;
        let mut finished = true;
        for line in lines.by_ref() {
            let line = line.unwrap();
            if let Some(h) = line.strip_prefix("committed ") {
                acknowledged = acknowledged.max(h.parse().unwrap());
                seen += 1;
                if seen > wait_for && acknowledged < CRASH_BLOCKS {
                    finished = false;
                    break;
                }
            }
        }
        if !finished {
            // Land the kill at a varying point inside the next blocks and their flush.
            std::thread::sleep(std::time::Duration::from_micros(next(2_000)));
            child.kill().unwrap();
            kills += 1;
        }
        child.wait().unwrap();
        drop(lines);

        let store = LmdbStore::open(&dir).expect("the database opens after a kill");
        let chain = Chain::open(params.clone(), store).expect("the chain loads after a kill");
        let tip = chain.tip().height;
        assert!(
            tip >= acknowledged,
            "tip {tip} older than acknowledged {acknowledged}"
        );
        assert_eq!(chain.tip().hash, blocks[tip as usize - 1].block_hash());
        let mut replay = Chain::open(params.clone(), MemStore::new()).unwrap();
        for b in &blocks[..tip as usize] {
            replay.process_block(b.clone(), NOW).unwrap();
        }
        assert_eq!(
            chain.utxo_snapshot().unwrap(),
            replay.utxo_snapshot().unwrap(),
            "after kill {kills}"
        );
        chain.into_store_unflushed().close();
    }
    assert!(kills >= 10, "only {kills} kills landed");
    println!("survived {kills} kills over {CRASH_BLOCKS} blocks");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A batch large enough to reopen the environment after it (to hand back LMDB's dirty pages)
/// leaves a store that reads, writes and reopens from disk as before.
#[test]
fn a_batch_that_reopens_the_environment_leaves_a_working_store() {
    let dir = temp_dir("release");
    let mut store = LmdbStore::open(&dir).unwrap();
    let coin = |i: u32| Coin {
        output: rbtcd_core::primitives::TxOut {
            value: i64::from(i),
            script_pubkey: vec![0x51; (i % 40) as usize],
        },
        height: i,
        is_coinbase: false,
    };
    let op = |i: u32| OutPoint::new(Hash256([(i % 251) as u8; 32]), i);
    let n = RELEASE_AFTER_OPS as u32 + 5;
    let ops = (0..n).map(|i| WriteOp::PutCoin(op(i), coin(i))).collect();
    store.write(WriteBatch { ops }).unwrap();
    assert_eq!(store.coin(&op(n - 1)).unwrap(), Some(coin(n - 1)));
    // Every other coin spent, in a second large batch.
    let ops = (0..n)
        .step_by(2)
        .map(|i| WriteOp::DeleteCoin(op(i)))
        .chain((n..n + RELEASE_AFTER_OPS as u32).map(|i| WriteOp::PutCoin(op(i), coin(i))));
    store.write(WriteBatch { ops: ops.collect() }).unwrap();
    store.close();
    let store = LmdbStore::open(&dir).unwrap();
    for i in 0..n + RELEASE_AFTER_OPS as u32 {
        let want = (i >= n || i % 2 == 1).then(|| coin(i));
        assert_eq!(store.coin(&op(i)).unwrap(), want, "coin {i}");
    }
    store.close();
    let _ = std::fs::remove_dir_all(&dir);
}

/// A reader beside the store reads each record with the tip stored with it, through the
/// environment's reopening after a large batch, and holds nothing open after the store
/// closes: the directory opens again while the reader is still alive.
#[test]
fn a_reader_follows_the_reopened_environment_and_keeps_nothing_open() {
    let dir = temp_dir("reader");
    let mut store = LmdbStore::open(&dir).unwrap();
    let reader = store.reader();
    let coin = Coin {
        output: rbtcd_core::primitives::TxOut {
            value: 7,
            script_pubkey: vec![0x51],
        },
        height: 3,
        is_coinbase: true,
    };
    let op = |i: u32| OutPoint::new(Hash256([9; 32]), i);
    let (tip_a, tip_b) = (Hash256([1; 32]), Hash256([2; 32]));
    let ops = vec![
        WriteOp::PutCoin(op(0), coin.clone()),
        WriteOp::PutTip(tip_a),
    ];
    store.write(WriteBatch { ops }).unwrap();
    assert_eq!(
        reader.coin_with_tip(&op(0)).unwrap(),
        (Some(tip_a), Some(coin.clone()))
    );
    // A batch past RELEASE_AFTER_OPS: the environment is closed and opened again.
    let ops = (1..=RELEASE_AFTER_OPS as u32)
        .map(|i| WriteOp::PutCoin(op(i), coin.clone()))
        .chain([WriteOp::DeleteCoin(op(0)), WriteOp::PutTip(tip_b)])
        .collect();
    store.write(WriteBatch { ops }).unwrap();
    assert_eq!(reader.coin_with_tip(&op(0)).unwrap(), (Some(tip_b), None));
    let loc = reader.tx_location_with_tip(&Hash256([5; 32])).unwrap();
    assert_eq!(loc, (Some(tip_b), None));
    store.close();
    assert_eq!(reader.coin_with_tip(&op(1)), Err(StoreError::Closed));
    let again = LmdbStore::open(&dir).unwrap();
    assert_eq!(again.coin(&op(1)).unwrap(), Some(coin));
    drop(again);
    assert_eq!(reader.coin_with_tip(&op(1)), Err(StoreError::Closed));
    let _ = std::fs::remove_dir_all(&dir);
}
