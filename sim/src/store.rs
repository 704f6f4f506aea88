//! A simulated node's store: the core's [`MemStore`] (crash semantics: a crash loses exactly
//! the batch in flight) with blocks and undo records kept apart, one copy per run shared by
//! every node that stores them. A block's undo record depends only on the block and its
//! ancestors, so equal hashes mean equal records on every node. The store can also be made to
//! refuse writes as a full disk does: the batch is refused whole and nothing is lost.

use rbtcd_core::chain::{
    BlockUndo, ChainStore, IndexEntry, MemStore, StoreError, TxLoc, WriteBatch, WriteOp,
};
use rbtcd_core::mempool::Coin;
use rbtcd_core::primitives::{Block, BlockHash, OutPoint, Txid};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::{Rc, Weak};

/// The message of a write refused by a full disk (LMDB's).
pub const DISK_FULL: &str = "MDB_MAP_FULL: Environment mapsize limit reached";

/// The run's one copy of each block and undo record, by hash.
#[derive(Default)]
pub struct Pool {
    blocks: BTreeMap<BlockHash, Weak<Block>>,
    undo: BTreeMap<BlockHash, Weak<BlockUndo>>,
}

impl Pool {
    fn block(&mut self, hash: BlockHash, block: Block) -> Rc<Block> {
        intern(&mut self.blocks, hash, block)
    }

    fn undo(&mut self, hash: BlockHash, undo: BlockUndo) -> Rc<BlockUndo> {
        intern(&mut self.undo, hash, undo)
    }
}

fn intern<T>(map: &mut BTreeMap<BlockHash, Weak<T>>, hash: BlockHash, value: T) -> Rc<T> {
    if let Some(shared) = map.get(&hash).and_then(Weak::upgrade) {
        return shared;
    }
    let shared = Rc::new(value);
    map.insert(hash, Rc::downgrade(&shared));
    shared
}

/// What one node has committed besides the [`MemStore`]'s tables.
#[derive(Default)]
struct Disk {
    blocks: BTreeMap<BlockHash, Rc<Block>>,
    undo: BTreeMap<BlockHash, Rc<BlockUndo>>,
    /// Writes refused from now on (a full disk), until cleared.
    full: bool,
    /// Writes that failed (full disk or a crash inside them), ever.
    failed: u64,
}

/// A node's store in the simulator (see the module docs).
#[derive(Clone)]
pub struct SimStore {
    inner: MemStore,
    disk: Rc<RefCell<Disk>>,
    pool: Rc<RefCell<Pool>>,
}

impl SimStore {
    /// A store holding a copy of `base`'s committed state, sharing blocks through `pool`.
    pub fn new(base: &MemStore, pool: Rc<RefCell<Pool>>) -> SimStore {
        SimStore {
            inner: base.duplicate(),
            disk: Rc::default(),
            pool,
        }
    }

    /// A fresh handle on what was committed (the old handle is dead, as after a crash).
    pub fn reopen(&self) -> SimStore {
        SimStore {
            inner: self.inner.reopen(),
            disk: self.disk.clone(),
            pool: self.pool.clone(),
        }
    }

    /// Makes the `n`th next write fail as a crash inside it does.
    pub fn fail_at_write(&self, n: u64) {
        self.inner.fail_at_write(n);
    }

    /// Fills the disk (every write refused) or frees it.
    pub fn set_full(&self, full: bool) {
        self.disk.borrow_mut().full = full;
    }

    /// Writes that failed so far (full disk or a crash inside them), across restarts.
    pub fn failed_writes(&self) -> u64 {
        self.disk.borrow().failed
    }
}

impl ChainStore for SimStore {
    fn index_entries(&self) -> Result<Vec<IndexEntry>, StoreError> {
        self.inner.index_entries()
    }

    fn index_entry(&self, hash: &BlockHash) -> Result<Option<IndexEntry>, StoreError> {
        self.inner.index_entry(hash)
    }

    fn block(&self, hash: &BlockHash) -> Result<Option<Block>, StoreError> {
        // Also checks that the handle is alive.
        let premined = self.inner.block(hash)?;
        Ok(premined.or_else(|| self.disk.borrow().blocks.get(hash).map(|b| Block::clone(b))))
    }

    fn undo(&self, hash: &BlockHash) -> Result<Option<BlockUndo>, StoreError> {
        let premined = self.inner.undo(hash)?;
        Ok(premined.or_else(|| {
            self.disk
                .borrow()
                .undo
                .get(hash)
                .map(|u| BlockUndo::clone(u))
        }))
    }

    fn coin(&self, outpoint: &OutPoint) -> Result<Option<Coin>, StoreError> {
        self.inner.coin(outpoint)
    }

    fn for_each_coin(&self, f: &mut dyn FnMut(&OutPoint, &Coin)) -> Result<(), StoreError> {
        self.inner.for_each_coin(f)
    }

    fn tip(&self) -> Result<Option<BlockHash>, StoreError> {
        self.inner.tip()
    }

    fn addr_book(&self) -> Result<Option<Vec<u8>>, StoreError> {
        self.inner.addr_book()
    }

    fn bans(&self) -> Result<Option<Vec<u8>>, StoreError> {
        self.inner.bans()
    }

    fn schema_version(&self) -> Result<Option<u32>, StoreError> {
        self.inner.schema_version()
    }

    fn tx_location(&self, txid: &Txid) -> Result<Option<TxLoc>, StoreError> {
        self.inner.tx_location(txid)
    }

    fn tx_index_tip(&self) -> Result<Option<BlockHash>, StoreError> {
        self.inner.tx_index_tip()
    }

    fn write(&mut self, batch: WriteBatch) -> Result<(), StoreError> {
        if self.disk.borrow().full {
            self.disk.borrow_mut().failed += 1;
            return Err(StoreError::Backend(DISK_FULL.into()));
        }
        let mut rest = WriteBatch::new();
        let (mut blocks, mut undo) = (Vec::new(), Vec::new());
        for op in batch.ops {
            match op {
                WriteOp::PutBlock(hash, block) => blocks.push((hash, Some(block))),
                WriteOp::DeleteBlock(hash) => blocks.push((hash, None)),
                WriteOp::PutUndo(hash, record) => undo.push((hash, Some(record))),
                WriteOp::DeleteUndo(hash) => undo.push((hash, None)),
                other => rest.push(other),
            }
        }
        // The MemStore decides whether the batch commits (a crash inside it loses it all);
        // blocks and undo records are applied only when it did.
        if let Err(e) = self.inner.write(rest) {
            self.disk.borrow_mut().failed += 1;
            return Err(e);
        }
        let mut disk = self.disk.borrow_mut();
        let mut pool = self.pool.borrow_mut();
        for (hash, block) in blocks {
            match block {
                Some(block) => disk.blocks.insert(hash, pool.block(hash, block)),
                None => disk.blocks.remove(&hash),
            };
        }
        for (hash, record) in undo {
            match record {
                Some(record) => disk.undo.insert(hash, pool.undo(hash, record)),
                None => disk.undo.remove(&hash),
            };
        }
        Ok(())
    }
}
