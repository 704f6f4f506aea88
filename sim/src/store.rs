//! A simulated node's store: the core's [`MemStore`] for the database (crash semantics: a
//! crash loses the batch in flight) but for the UTXO set, which is a [`NodeCoins`] beside it
//! (outputs shared between nodes) committed with the rest of each batch, and [`SimFiles`] for
//! the block and undo files (a crash loses every record not synced; payloads shared between
//! nodes). It can also be made to refuse writes as a full disk does: appends, syncs and
//! batches are refused whole and nothing committed is lost.

use crate::coins::{CoinTable, NodeCoins};
use crate::files::SimFiles;
use rbtcd_core::chain::block_files::FileEnds;
use rbtcd_core::chain::{
    BlockFiles, ChainStore, FileKind, FilePos, IndexEntry, MemStore, StoreError, TxLoc, WriteBatch,
    WriteOp,
};
use rbtcd_core::mempool::Coin;
use rbtcd_core::primitives::{BlockHash, OutPoint, Txid};
use std::cell::RefCell;
use std::rc::Rc;

/// The message of a write refused by a full disk (LMDB's).
pub const DISK_FULL: &str = "MDB_MAP_FULL: Environment mapsize limit reached";

/// What survives a node's restarts besides the [`MemStore`]'s state.
struct Disk {
    /// The block and undo files.
    files: SimFiles,
    /// The committed coins.
    coins: NodeCoins,
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
    /// The run's outputs, shared by every node's coins.
    table: Rc<CoinTable>,
}

impl SimStore {
    /// A store holding a copy of `base`'s committed state, with `files` (a copy of `base`'s
    /// synced files: [`SimFiles::copy_of`]) and its outputs in a table of its own.
    pub fn new(base: &MemStore, files: SimFiles) -> SimStore {
        SimStore::sharing(base, files, Rc::default())
    }

    /// As [`SimStore::new`], its coins' outputs held in `table` (shared with other nodes).
    pub fn sharing(base: &MemStore, files: SimFiles, table: Rc<CoinTable>) -> SimStore {
        let mut inner = base.duplicate();
        // Its own copy of the files is never read: `files` has the same records.
        inner
            .truncate(FileEnds::default())
            .expect("a fresh in-memory store accepts a truncation");
        // Nor its copy of the coins: they move to the shared table.
        let mut coins = NodeCoins::default();
        let mut moved = WriteBatch::new();
        base.for_each_coin(&mut |outpoint, coin| {
            coins.put(&table, outpoint, coin);
            moved.push(WriteOp::DeleteCoin(*outpoint));
        })
        .expect("the base store reads back");
        inner
            .write(moved)
            .expect("a fresh in-memory store accepts a batch");
        SimStore {
            inner,
            disk: Rc::new(RefCell::new(Disk {
                files,
                coins,
                full: false,
                failed: 0,
            })),
            table,
        }
    }

    /// A fresh handle on what was committed and synced (the old handle is dead, as after a
    /// crash).
    pub fn reopen(&self) -> SimStore {
        self.disk.borrow_mut().files.crash();
        SimStore {
            inner: self.inner.reopen(),
            disk: self.disk.clone(),
            table: self.table.clone(),
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
        write: impl FnOnce(&mut SimStore) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let full = self.disk.borrow().full;
        let result = if full {
            Err(StoreError::Backend(DISK_FULL.into()))
        } else {
            write(self)
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
        // A dead handle (after a crash) reads nothing, as the inner store's reads.
        self.inner.tip()?;
        Ok(self.disk.borrow().coins.get(&self.table, outpoint))
    }

    fn for_each_coin(&self, f: &mut dyn FnMut(&OutPoint, &Coin)) -> Result<(), StoreError> {
        self.inner.tip()?;
        self.disk.borrow().coins.for_each(&self.table, f);
        Ok(())
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
        self.guarded(|store| {
            let mut coins = Vec::new();
            let mut rest = Vec::with_capacity(batch.ops.len());
            for op in batch.ops {
                match op {
                    WriteOp::PutCoin(outpoint, coin) => coins.push((outpoint, Some(coin))),
                    WriteOp::DeleteCoin(outpoint) => coins.push((outpoint, None)),
                    other => rest.push(other),
                }
            }
            // The rest first: when it fails (a crash inside the batch), no coin changes either.
            store.inner.write(WriteBatch { ops: rest })?;
            let mut disk = store.disk.borrow_mut();
            for (outpoint, coin) in coins {
                match coin {
                    Some(coin) => disk.coins.put(&store.table, &outpoint, &coin),
                    None => disk.coins.delete(&store.table, &outpoint),
                }
            }
            Ok(())
        })
    }
}

impl BlockFiles for SimStore {
    fn append(&mut self, kind: FileKind, payload: &[u8]) -> Result<FilePos, StoreError> {
        self.guarded(|store| store.disk.borrow_mut().files.append(kind, payload))
    }

    fn read(&self, kind: FileKind, pos: FilePos) -> Result<Vec<u8>, StoreError> {
        self.disk.borrow().files.read(kind, pos)
    }

    fn sync(&mut self) -> Result<FileEnds, StoreError> {
        self.guarded(|store| store.disk.borrow_mut().files.sync())
    }

    fn truncate(&mut self, ends: FileEnds) -> Result<(), StoreError> {
        self.disk.borrow_mut().files.truncate(ends)
    }
}
