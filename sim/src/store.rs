//! A simulated node's store: the core's [`MemStore`] for the database (crash semantics: a
//! crash loses the batch in flight) but for the UTXO set and the block index, which are a
//! [`NodeCoins`] and a [`NodeEntries`] beside it (outputs and entries shared between nodes)
//! committed with the rest of each batch, and [`SimFiles`] for the block and undo files (a
//! crash loses every record not synced; payloads shared between nodes). It can also be made to refuse writes as a full disk does: appends, syncs and
//! batches are refused whole and nothing committed is lost.

use crate::coins::{CoinTable, NodeCoins};
use crate::entries::{EntryTable, NodeEntries};
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
    /// The committed index entries.
    entries: NodeEntries,
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
    /// What nodes share: the run's outputs and index entries.
    shared: Rc<Shared>,
}

/// What every node's store of a run refers to instead of holding its own copy.
#[derive(Default)]
pub struct Shared {
    /// The outputs of every node's coins.
    pub coins: CoinTable,
    /// Every node's index entries.
    pub entries: EntryTable,
}

impl SimStore {
    /// A store holding a copy of `base`'s committed state, with `files` (a copy of `base`'s
    /// synced files: [`SimFiles::copy_of`]) and its coins and index in tables of its own.
    pub fn new(base: &MemStore, files: SimFiles) -> SimStore {
        SimStore::sharing(base, files, Rc::default())
    }

    /// As [`SimStore::new`], its coins' outputs and its index entries held in `shared` (shared
    /// with other nodes). `base` has no transaction index (the simulation runs none).
    pub fn sharing(base: &MemStore, files: SimFiles, shared: Rc<Shared>) -> SimStore {
        let read = "the base store reads back";
        assert!(
            base.tx_index_tip().expect(read).is_none(),
            "a base store with a transaction index"
        );
        // The database's own state, built afresh: a copy of `base` would hold a copy of its
        // coins and index (and its coin map's capacity after they moved out).
        let mut rest = WriteBatch::new();
        let singles = [
            base.tip().expect(read).map(WriteOp::PutTip),
            base.addr_book().expect(read).map(WriteOp::PutAddrBook),
            base.bans().expect(read).map(WriteOp::PutBans),
            base.schema_version()
                .expect(read)
                .map(WriteOp::PutSchemaVersion),
            base.file_ends().expect(read).map(WriteOp::PutFileEnds),
        ];
        rest.ops.extend(singles.into_iter().flatten());
        let mut inner = MemStore::new();
        inner
            .write(rest)
            .expect("a fresh in-memory store accepts a batch");
        let mut coins = NodeCoins::default();
        base.for_each_coin(&mut |outpoint, coin| coins.put(&shared.coins, outpoint, coin))
            .expect(read);
        let mut entries = NodeEntries::default();
        for entry in base.index_entries().expect(read) {
            entries.put(&shared.entries, &entry);
        }
        SimStore {
            inner,
            disk: Rc::new(RefCell::new(Disk {
                files,
                coins,
                entries,
                full: false,
                failed: 0,
            })),
            shared,
        }
    }

    /// A fresh handle on what was committed and synced (the old handle is dead, as after a
    /// crash).
    pub fn reopen(&self) -> SimStore {
        self.disk.borrow_mut().files.crash();
        SimStore {
            inner: self.inner.reopen(),
            disk: self.disk.clone(),
            shared: self.shared.clone(),
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
        // A dead handle (after a crash) reads nothing, as the inner store's reads.
        self.inner.tip()?;
        Ok(self.disk.borrow().entries.all(&self.shared.entries))
    }

    fn index_entry(&self, hash: &BlockHash) -> Result<Option<IndexEntry>, StoreError> {
        self.inner.tip()?;
        Ok(self.disk.borrow().entries.get(&self.shared.entries, hash))
    }

    fn coin(&self, outpoint: &OutPoint) -> Result<Option<Coin>, StoreError> {
        self.inner.tip()?;
        Ok(self.disk.borrow().coins.get(&self.shared.coins, outpoint))
    }

    fn for_each_coin(&self, f: &mut dyn FnMut(&OutPoint, &Coin)) -> Result<(), StoreError> {
        self.inner.tip()?;
        self.disk.borrow().coins.for_each(&self.shared.coins, f);
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
            let mut mine = Vec::new();
            let mut rest = Vec::with_capacity(batch.ops.len());
            for op in batch.ops {
                match op {
                    WriteOp::PutCoin(..) | WriteOp::DeleteCoin(_) | WriteOp::PutIndex(_) => {
                        mine.push(op)
                    }
                    other => rest.push(other),
                }
            }
            // The rest first: when it fails (a crash inside the batch), no coin or entry
            // changes either.
            store.inner.write(WriteBatch { ops: rest })?;
            let mut disk = store.disk.borrow_mut();
            let shared = &store.shared;
            for op in mine {
                match op {
                    WriteOp::PutCoin(outpoint, coin) => {
                        disk.coins.put(&shared.coins, &outpoint, &coin)
                    }
                    WriteOp::DeleteCoin(outpoint) => disk.coins.delete(&shared.coins, &outpoint),
                    WriteOp::PutIndex(entry) => disk.entries.put(&shared.entries, &entry),
                    _ => unreachable!("only coins and entries are kept here"),
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
