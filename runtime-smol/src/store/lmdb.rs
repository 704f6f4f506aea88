//! The chain's store on LMDB (through heed): one named database per [`Table`], records encoded
//! as the core encodes them, and every [`WriteBatch`] one LMDB write transaction; raw blocks
//! and undo data in flat files beside it ([`FlatFiles`]). LMDB commits are durable (synced)
//! before `write` returns, so a crash leaves the state of the last acknowledged batch, and
//! the chain syncs the files before each batch that refers to them.

use super::files::FlatFiles;
use heed::types::Bytes;
use heed::{CommitOrAbort, Database, Env, EnvOpenOptions};
use rbtcd_core::chain::block_files::FileEnds;
use rbtcd_core::chain::store::{utxo_key, MetaKey};
use rbtcd_core::chain::{
    BlockFiles, ChainStore, FileKind, FilePos, IndexEntry, StoreError, Table, TxLoc, WriteBatch,
    WriteOp,
};
use rbtcd_core::mempool::Coin;
use rbtcd_core::primitives::{BlockHash, Decodable, Encodable, Hash256, OutPoint, Txid};
use rbtcd_core::rpc::block_lookup::FlushedState;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

/// Address space reserved for the memory map. LMDB files are sparse, so this is an upper bound
/// on the database size, not disk usage (mainnet needs several hundred GiB).
pub(super) const MAP_SIZE: usize = 1 << 40;

type Db = Database<'static, Bytes, Bytes>;

/// Changes in a batch after which the environment is reopened to hand back the pages the
/// transaction dirtied (see [`LmdbStore::release_dirty_pages`]); a batch this large is a UTXO
/// cache flush, rare enough that the reopen's cost (milliseconds) does not show.
const RELEASE_AFTER_OPS: usize = 10_000;

/// Tables of schema 1 that held blocks and undo data inside LMDB; opened only to move their
/// contents into the flat files.
const LEGACY_TABLES: [&str; 2] = ["blocks", "undo"];

/// The open environment and its tables, as readers beside the store take them.
type Opened = (Env, [Db; Table::ALL.len()]);

/// Where [`LmdbReader`]s find the open environment. The store empties it before it closes the
/// environment and fills it again after reopening: heed refuses to open an environment that a
/// handle still refers to, and closing waits until every handle is dropped, so a reader holds
/// one only for a single read.
type ReaderSlot = Arc<Mutex<Option<Opened>>>;

fn lock(slot: &ReaderSlot) -> MutexGuard<'_, Option<Opened>> {
    slot.lock().unwrap_or_else(|e| e.into_inner())
}

/// An LMDB environment holding the chain's tables, and the block files beside it.
pub struct LmdbStore {
    /// `None` only when [`LmdbStore::release_dirty_pages`] failed to reopen it.
    env: Option<Env>,
    dbs: [Db; Table::ALL.len()],
    files: FlatFiles,
    /// Write transactions committed since open.
    commits: u64,
    /// What [`LmdbStore::reader`]s read through.
    readers: ReaderSlot,
}

fn backend(e: heed::Error) -> StoreError {
    StoreError::Backend(e.to_string())
}

fn decode<T: Decodable>(table: Table, bytes: &[u8]) -> Result<T, StoreError> {
    T::decode(bytes).map_err(|e| StoreError::Corrupt {
        table,
        reason: e.to_string(),
    })
}

impl LmdbStore {
    /// Opens (creating if needed) the database in directory `dir`.
    pub fn open(dir: &Path) -> Result<LmdbStore, StoreError> {
        std::fs::create_dir_all(dir)
            .map_err(|e| StoreError::Backend(format!("{}: {e}", dir.display())))?;
        let (env, dbs) = open_env(dir)?;
        Ok(LmdbStore {
            readers: Arc::new(Mutex::new(Some((env.clone(), dbs)))),
            env: Some(env),
            dbs,
            files: FlatFiles::open(dir)?,
            commits: 0,
        })
    }

    /// A reader of the chain state as of the last committed batch, for threads beside the
    /// node's (see [`LmdbReader`]).
    pub fn reader(&self) -> LmdbReader {
        LmdbReader {
            slot: Arc::clone(&self.readers),
        }
    }

    /// Schema 1 to 2: moves every block and undo record out of LMDB into the flat files and
    /// points the index entries at them, in one transaction that also empties the old tables
    /// and records the files' ends. Running it again (after a crash before the version was
    /// recorded) finds nothing left to move.
    pub fn move_blocks_to_files(&mut self) -> Result<(), StoreError> {
        let rtxn = self.env()?.read_txn().map_err(backend)?;
        let legacy = self
            .env()?
            .open_databases_and_commit(rtxn, |opener, rtxn| {
                let [a, b] = LEGACY_TABLES;
                let blocks = opener.open_database::<Bytes, Bytes>(rtxn, Some(a))?;
                let undo = opener.open_database::<Bytes, Bytes>(rtxn, Some(b))?;
                Ok::<_, heed::Error>(CommitOrAbort::<_, ()>::Commit([blocks, undo]))
            })
            .map_err(backend)?
            .unwrap_commit();
        let [Some(blocks), Some(undo)] = legacy else {
            return Ok(());
        };
        // What an interrupted run appended is not referred to by anything committed.
        self.files.truncate(self.file_ends()?.unwrap_or_default())?;
        let mut entries = self.index_entries()?;
        entries.sort_by_key(|e| (e.height, e.hash));
        // A handle of its own: the read transaction outlives the files' appends below.
        let env = self.env()?.clone();
        let rtxn = env.read_txn().map_err(backend)?;
        for e in &mut entries {
            if let Some(raw) = blocks.get(&rtxn, &e.hash.0).map_err(backend)? {
                e.data = Some(self.files.append(FileKind::Blocks, raw)?);
            }
            if let Some(raw) = undo.get(&rtxn, &e.hash.0).map_err(backend)? {
                e.undo = Some(self.files.append(FileKind::Undo, raw)?);
            }
        }
        drop(rtxn);
        let ends = self.files.sync()?;
        let mut wtxn = self.env()?.write_txn().map_err(backend)?;
        let index = self.db(Table::Index);
        for e in &entries {
            index
                .put(&mut wtxn, &e.hash.0, &e.encode())
                .map_err(backend)?;
        }
        let (key, value) = (MetaKey::FileEnds.name().as_bytes(), ends.encode());
        self.db(Table::Meta)
            .put(&mut wtxn, key, &value)
            .map_err(backend)?;
        for db in [blocks, undo] {
            db.clear(&mut wtxn).map_err(backend)?;
        }
        wtxn.commit().map_err(backend)
    }

    fn db(&self, table: Table) -> Db {
        table_db(&self.dbs, table)
    }

    fn get(&self, table: Table, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        let rtxn = self.env()?.read_txn().map_err(backend)?;
        Ok(self
            .db(table)
            .get(&rtxn, key)
            .map_err(backend)?
            .map(<[u8]>::to_vec))
    }

    fn get_decoded<T: Decodable>(&self, table: Table, key: &[u8]) -> Result<Option<T>, StoreError> {
        self.get(table, key)?
            .map(|bytes| decode(table, &bytes))
            .transpose()
    }

    /// A block hash kept under `key` in the meta table.
    fn meta_hash(&self, key: MetaKey) -> Result<Option<BlockHash>, StoreError> {
        let bytes = self.get(Table::Meta, key.name().as_bytes())?;
        bytes.map(|b| meta_hash_of(key, &b)).transpose()
    }

    /// Disk syncs this store has issued since open: the block files' (see
    /// [`FlatFiles::syncs`]) and two per committed batch (LMDB syncs the data pages, then
    /// writes the meta page synchronously). What the chain's writes cost the disk; the store
    /// bench prints it per block.
    pub fn disk_syncs(&self) -> u64 {
        self.files.syncs() + 2 * self.commits
    }

    /// Flushes and closes the environment, waiting until LMDB has released it.
    pub fn close(mut self) {
        lock(&self.readers).take();
        if let Some(env) = self.env.take() {
            env.prepare_for_closing().wait();
        }
    }

    /// The open environment; an error (not a panic) when reopening it failed, so a node
    /// stopping after that error still shuts down cleanly.
    fn env(&self) -> Result<&Env, StoreError> {
        self.env
            .as_ref()
            .ok_or_else(|| StoreError::Backend("the database failed to reopen".into()))
    }

    /// Closes the environment and opens it again: LMDB (without `MDB_WRITEMAP`) mallocs every
    /// page a write transaction dirties and keeps them all for reuse until the environment
    /// closes. A UTXO flush dirties most of the coin table's leaf pages, so the largest flush
    /// so far stayed allocated for the life of the process (39.6 MB after the utxo_cache
    /// bench's sync with a 16 MiB cache, heaptrack's largest live allocation site).
    fn release_dirty_pages(&mut self) -> Result<(), StoreError> {
        let Some(env) = self.env.take() else {
            return Ok(());
        };
        lock(&self.readers).take();
        let dir = env.path().to_path_buf();
        env.prepare_for_closing().wait();
        let (env, dbs) = open_env(&dir)?;
        *lock(&self.readers) = Some((env.clone(), dbs));
        self.env = Some(env);
        self.dbs = dbs;
        Ok(())
    }
}

impl Drop for LmdbStore {
    /// Readers that outlive the store must not keep its environment open (a store opened
    /// again on the directory would be refused).
    fn drop(&mut self) {
        lock(&self.readers).take();
    }
}

/// `table`'s database among `dbs` (one per [`Table::ALL`], in order).
fn table_db(dbs: &[Db; Table::ALL.len()], table: Table) -> Db {
    dbs[Table::ALL
        .iter()
        .position(|t| *t == table)
        .expect("known table")]
}

/// A block hash stored under `key` in the meta table as `bytes`.
fn meta_hash_of(key: MetaKey, bytes: &[u8]) -> Result<BlockHash, StoreError> {
    <[u8; 32]>::try_from(bytes)
        .map(Hash256)
        .map_err(|_| StoreError::Corrupt {
            table: Table::Meta,
            reason: format!("{} of {} bytes", key.name(), bytes.len()),
        })
}

/// Reads the store's chain state from other threads than the node's, each read one read
/// transaction that also reads the tip the batch it sees wrote ([`FlushedState`]). Fails
/// (rather than waits) while the store reopens or after it closed.
#[derive(Clone)]
pub struct LmdbReader {
    slot: ReaderSlot,
}

impl LmdbReader {
    /// The stored tip and the record under `key` in `table`, read in one transaction.
    fn read<T: Decodable>(
        &self,
        table: Table,
        key: &[u8],
    ) -> Result<(Option<BlockHash>, Option<T>), StoreError> {
        // The handle is taken out of the slot, so the lock is not held during the read.
        let (env, dbs) = lock(&self.slot).clone().ok_or(StoreError::Closed)?;
        let rtxn = env.read_txn().map_err(backend)?;
        let tip_key = MetaKey::Tip;
        let tip = table_db(&dbs, Table::Meta)
            .get(&rtxn, tip_key.name().as_bytes())
            .map_err(backend)?
            .map(|b| meta_hash_of(tip_key, b))
            .transpose()?;
        let value = table_db(&dbs, table)
            .get(&rtxn, key)
            .map_err(backend)?
            .map(|b| decode(table, b))
            .transpose()?;
        Ok((tip, value))
    }
}

impl FlushedState for LmdbReader {
    fn coin_with_tip(
        &self,
        op: &OutPoint,
    ) -> Result<(Option<BlockHash>, Option<Coin>), StoreError> {
        self.read(Table::Utxo, &utxo_key(op))
    }

    fn tx_location_with_tip(
        &self,
        txid: &Txid,
    ) -> Result<(Option<BlockHash>, Option<TxLoc>), StoreError> {
        self.read(Table::TxIndex, &txid.0)
    }
}

/// Opens the environment in `dir` and its tables.
fn open_env(dir: &Path) -> Result<(Env, [Db; Table::ALL.len()]), StoreError> {
    // SAFETY: the environment's files are only ever modified through LMDB, by this process;
    // LMDB's lock file keeps a second rbtcd on the same directory consistent.
    #[allow(unsafe_code)]
    let env = unsafe {
        EnvOpenOptions::new()
            .map_size(MAP_SIZE)
            .max_dbs((Table::ALL.len() + LEGACY_TABLES.len()) as u32)
            .open(dir)
    }
    .map_err(backend)?;
    let wtxn = env.write_txn().map_err(backend)?;
    let dbs = env
        .create_databases_and_commit(wtxn, |opener, wtxn| {
            let mut dbs = Vec::with_capacity(Table::ALL.len());
            for table in Table::ALL {
                dbs.push(opener.create_database::<Bytes, Bytes>(wtxn, Some(table.name()))?);
            }
            let dbs: [_; Table::ALL.len()] = dbs.try_into().expect("one database per table");
            Ok::<_, heed::Error>(CommitOrAbort::<_, ()>::Commit(dbs))
        })
        .map_err(backend)?
        .unwrap_commit();
    Ok((env, dbs))
}

fn outpoint_from_key(key: &[u8]) -> Result<OutPoint, StoreError> {
    let corrupt = || StoreError::Corrupt {
        table: Table::Utxo,
        reason: format!("key of {} bytes, expected 36", key.len()),
    };
    let txid: [u8; 32] = key
        .get(..32)
        .ok_or_else(corrupt)?
        .try_into()
        .map_err(|_| corrupt())?;
    let vout: [u8; 4] = key
        .get(32..)
        .ok_or_else(corrupt)?
        .try_into()
        .map_err(|_| corrupt())?;
    Ok(OutPoint::new(Hash256(txid), u32::from_be_bytes(vout)))
}

impl ChainStore for LmdbStore {
    fn index_entries(&self) -> Result<Vec<IndexEntry>, StoreError> {
        let rtxn = self.env()?.read_txn().map_err(backend)?;
        let mut out = Vec::new();
        for item in self.db(Table::Index).iter(&rtxn).map_err(backend)? {
            let (_, value) = item.map_err(backend)?;
            out.push(decode(Table::Index, value)?);
        }
        Ok(out)
    }

    fn index_entry(&self, hash: &BlockHash) -> Result<Option<IndexEntry>, StoreError> {
        self.get_decoded(Table::Index, &hash.0)
    }

    fn coin(&self, outpoint: &OutPoint) -> Result<Option<Coin>, StoreError> {
        self.get_decoded(Table::Utxo, &utxo_key(outpoint))
    }

    fn for_each_coin(&self, f: &mut dyn FnMut(&OutPoint, &Coin)) -> Result<(), StoreError> {
        let rtxn = self.env()?.read_txn().map_err(backend)?;
        for item in self.db(Table::Utxo).iter(&rtxn).map_err(backend)? {
            let (key, value) = item.map_err(backend)?;
            f(&outpoint_from_key(key)?, &decode(Table::Utxo, value)?);
        }
        Ok(())
    }

    fn tip(&self) -> Result<Option<BlockHash>, StoreError> {
        self.meta_hash(MetaKey::Tip)
    }

    fn addr_book(&self) -> Result<Option<Vec<u8>>, StoreError> {
        self.get(Table::Meta, MetaKey::AddrBook.name().as_bytes())
    }

    fn bans(&self) -> Result<Option<Vec<u8>>, StoreError> {
        self.get(Table::Meta, MetaKey::Bans.name().as_bytes())
    }

    fn schema_version(&self) -> Result<Option<u32>, StoreError> {
        match self.get(Table::Meta, MetaKey::SchemaVersion.name().as_bytes())? {
            None => Ok(None),
            Some(bytes) => <[u8; 4]>::try_from(bytes.as_slice())
                .map(|b| Some(u32::from_le_bytes(b)))
                .map_err(|_| StoreError::Corrupt {
                    table: Table::Meta,
                    reason: format!("schema version of {} bytes", bytes.len()),
                }),
        }
    }

    fn tx_location(&self, txid: &Txid) -> Result<Option<TxLoc>, StoreError> {
        self.get_decoded(Table::TxIndex, &txid.0)
    }

    fn tx_index_tip(&self) -> Result<Option<BlockHash>, StoreError> {
        self.meta_hash(MetaKey::TxIndexTip)
    }

    fn file_ends(&self) -> Result<Option<FileEnds>, StoreError> {
        self.get_decoded(Table::Meta, MetaKey::FileEnds.name().as_bytes())
    }

    fn write(&mut self, batch: WriteBatch) -> Result<(), StoreError> {
        let large = batch.ops.len() >= RELEASE_AFTER_OPS;
        let mut wtxn = self.env()?.write_txn().map_err(backend)?;
        for op in batch.ops {
            let (table, key, value): (Table, Vec<u8>, Option<Vec<u8>>) = match op {
                WriteOp::PutIndex(e) => (Table::Index, e.hash.0.to_vec(), Some(e.encode())),
                WriteOp::PutFileEnds(ends) => meta(MetaKey::FileEnds, ends.encode()),
                WriteOp::PutCoin(o, c) => (Table::Utxo, utxo_key(&o).to_vec(), Some(c.encode())),
                WriteOp::DeleteCoin(o) => (Table::Utxo, utxo_key(&o).to_vec(), None),
                WriteOp::PutTip(h) => meta(MetaKey::Tip, h.0.to_vec()),
                WriteOp::PutAddrBook(b) => meta(MetaKey::AddrBook, b),
                WriteOp::PutBans(b) => meta(MetaKey::Bans, b),
                WriteOp::PutSchemaVersion(v) => {
                    meta(MetaKey::SchemaVersion, v.to_le_bytes().to_vec())
                }
                WriteOp::PutTxLoc(t, loc) => (Table::TxIndex, t.0.to_vec(), Some(loc.encode())),
                WriteOp::DeleteTxLoc(t) => (Table::TxIndex, t.0.to_vec(), None),
                WriteOp::PutTxIndexTip(h) => meta(MetaKey::TxIndexTip, h.0.to_vec()),
                WriteOp::ClearTxIndex => {
                    self.db(Table::TxIndex).clear(&mut wtxn).map_err(backend)?;
                    let key = MetaKey::TxIndexTip.name().as_bytes();
                    self.db(Table::Meta)
                        .delete(&mut wtxn, key)
                        .map_err(backend)?;
                    continue;
                }
            };
            let db = self.db(table);
            match value {
                Some(v) => db.put(&mut wtxn, &key, &v).map_err(backend)?,
                None => {
                    db.delete(&mut wtxn, &key).map_err(backend)?;
                }
            }
        }
        wtxn.commit().map_err(backend)?;
        self.commits += 1;
        if large {
            self.release_dirty_pages()?;
        }
        Ok(())
    }
}

impl BlockFiles for LmdbStore {
    fn append(&mut self, kind: FileKind, payload: &[u8]) -> Result<FilePos, StoreError> {
        self.files.append(kind, payload)
    }

    fn read(&self, kind: FileKind, pos: FilePos) -> Result<Vec<u8>, StoreError> {
        self.files.read(kind, pos)
    }

    fn sync(&mut self) -> Result<FileEnds, StoreError> {
        self.files.sync()
    }

    fn truncate(&mut self, ends: FileEnds) -> Result<(), StoreError> {
        self.files.truncate(ends)
    }
}

fn meta(key: MetaKey, value: Vec<u8>) -> (Table, Vec<u8>, Option<Vec<u8>>) {
    (Table::Meta, key.name().as_bytes().to_vec(), Some(value))
}

#[cfg(test)]
mod tests;
