//! A simulated node's store: the core's [`MemStore`] (crash semantics: a crash loses the
//! batch in flight and every block file byte not yet synced), which can also be made to
//! refuse writes as a full disk does: appends, syncs and batches are refused whole and
//! nothing committed is lost.

use rbtcd_core::chain::block_files::FileEnds;
use rbtcd_core::chain::{
    BlockFiles, ChainStore, FileKind, FilePos, IndexEntry, MemStore, StoreError, TxLoc, WriteBatch,
};
use rbtcd_core::mempool::Coin;
use rbtcd_core::primitives::{BlockHash, OutPoint, Txid};
use std::cell::RefCell;
use std::rc::Rc;

/// The message of a write refused by a full disk (LMDB's).
pub const DISK_FULL: &str = "MDB_MAP_FULL: Environment mapsize limit reached";

/// What survives a node's restarts besides the [`MemStore`]'s state.
#[derive(Default)]
struct Disk {
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
}

impl SimStore {
    /// A store holding a copy of `base`'s committed state and synced files.
    pub fn new(base: &MemStore) -> SimStore {
        SimStore {
            inner: base.duplicate(),
            disk: Rc::default(),
        }
    }

    /// A fresh handle on what was committed (the old handle is dead, as after a crash).
    pub fn reopen(&self) -> SimStore {
        SimStore {
            inner: self.inner.reopen(),
            disk: self.disk.clone(),
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

    /// Runs one write unless the disk is full, counting it when it fails.
    fn guarded<T>(
        &mut self,
        write: impl FnOnce(&mut MemStore) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let result = if self.disk.borrow().full {
            Err(StoreError::Backend(DISK_FULL.into()))
        } else {
            write(&mut self.inner)
        };
        if result.is_err() {
            self.disk.borrow_mut().failed += 1;
        }
        result
    }
}

impl ChainStore for SimStore {
    fn index_entries(&self) -> Result<Vec<IndexEntry>, StoreError> {
        self.inner.index_entries()
    }

    fn index_entry(&self, hash: &BlockHash) -> Result<Option<IndexEntry>, StoreError> {
        self.inner.index_entry(hash)
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

    fn file_ends(&self) -> Result<Option<FileEnds>, StoreError> {
        self.inner.file_ends()
    }

    fn write(&mut self, batch: WriteBatch) -> Result<(), StoreError> {
        self.guarded(|inner| inner.write(batch))
    }
}

impl BlockFiles for SimStore {
    fn append(&mut self, kind: FileKind, payload: &[u8]) -> Result<FilePos, StoreError> {
        self.guarded(|inner| inner.append(kind, payload))
    }

    fn read(&self, kind: FileKind, pos: FilePos) -> Result<Vec<u8>, StoreError> {
        self.inner.read(kind, pos)
    }

    fn sync(&mut self) -> Result<FileEnds, StoreError> {
        self.guarded(|inner| inner.sync())
    }

    fn truncate(&mut self, ends: FileEnds) -> Result<(), StoreError> {
        self.inner.truncate(ends)
    }
}
