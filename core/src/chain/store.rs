//! The storage interface of the chain: a synchronous key-value store with atomic write batches
//! (block index, UTXO set, metadata), beside [`BlockFiles`] for raw blocks and undo data.
//!
//! Backends: [`MemStore`](super::mem_store::MemStore) in the core (tests, simulator) and LMDB
//! with flat files in the daemon. The chain never writes the key-value part outside a
//! [`WriteBatch`], and each batch is a whole flush of the UTXO cache and the index entries
//! changed since the last one, recording the tip and how far the block files are committed
//! (see [`super::state`] for why that is crash safe). Records are encoded with the
//! `Encodable` implementations of [`IndexEntry`], [`Coin`] and [`FileEnds`]; a
//! byte-oriented backend keys them as [`Table`] documents.

use super::block_files::{BadRecord, BlockFiles, FileEnds, FileKind};
use super::records::IndexEntry;
use super::tx_index::TxLoc;
use crate::mempool::Coin;
use crate::primitives::{BlockHash, OutPoint, Txid};
use std::collections::BTreeMap;
use std::fmt;

/// The logical tables of a store (LMDB: one named database each).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub enum Table {
    /// Block hash (32 bytes, serialization order) -> encoded [`IndexEntry`].
    Index,
    /// Outpoint key (txid then vout big-endian, so byte order is outpoint order) -> encoded
    /// [`Coin`].
    Utxo,
    /// Fixed names ([`MetaKey`]) -> small values.
    Meta,
    /// Txid -> encoded [`TxLoc`] (only with the transaction index on).
    TxIndex,
}

impl Table {
    /// Every table.
    pub const ALL: [Table; 4] = [Table::Index, Table::Utxo, Table::Meta, Table::TxIndex];

    /// The table's name (LMDB database name).
    pub fn name(self) -> &'static str {
        match self {
            Table::Index => "index",
            Table::Utxo => "utxo",
            Table::Meta => "meta",
            Table::TxIndex => "txindex",
        }
    }
}

/// Keys of the [`Table::Meta`] table.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub enum MetaKey {
    /// Hash of the block the UTXO set reflects (32 bytes).
    Tip,
    /// The address manager's serialized state (opaque to the chain).
    AddrBook,
    /// The peer ban list (opaque to the chain).
    Bans,
    /// Database schema version (u32 LE), see [`super::upgrades`].
    SchemaVersion,
    /// The last block the transaction index covers (32 bytes); absent when it was never built.
    TxIndexTip,
    /// How far the block and undo files are committed (encoded [`FileEnds`]).
    FileEnds,
}

impl MetaKey {
    /// The key's bytes in the meta table.
    pub fn name(self) -> &'static str {
        match self {
            MetaKey::Tip => "tip",
            MetaKey::AddrBook => "addrbook",
            MetaKey::Bans => "bans",
            MetaKey::SchemaVersion => "schema_version",
            MetaKey::TxIndexTip => "txindex_tip",
            MetaKey::FileEnds => "file_ends",
        }
    }
}

/// The byte key of an outpoint in [`Table::Utxo`]: txid, then vout big-endian.
pub fn utxo_key(op: &OutPoint) -> [u8; 36] {
    let mut k = [0u8; 36];
    k[..32].copy_from_slice(&op.txid.0);
    k[32..].copy_from_slice(&op.vout.to_be_bytes());
    k
}

/// One change in a batch.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum WriteOp {
    /// Insert or replace an index entry (keyed by its hash).
    PutIndex(IndexEntry),
    /// Add or replace an unspent output.
    PutCoin(OutPoint, Coin),
    /// Remove an unspent output.
    DeleteCoin(OutPoint),
    /// Record the block the UTXO set now reflects.
    PutTip(BlockHash),
    /// Replace the address book blob.
    PutAddrBook(Vec<u8>),
    /// Replace the ban list blob.
    PutBans(Vec<u8>),
    /// Record the schema version.
    PutSchemaVersion(u32),
    /// Record where a transaction is (transaction index).
    PutTxLoc(Txid, TxLoc),
    /// Forget where a transaction is.
    DeleteTxLoc(Txid),
    /// Record the last block the transaction index covers.
    PutTxIndexTip(BlockHash),
    /// Remove the whole transaction index and its tip (`--droptxindex`).
    ClearTxIndex,
    /// Record how far the block files are committed (synced before this batch).
    PutFileEnds(FileEnds),
}

/// Changes applied all together or not at all, in order (a later op on the same key wins).
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct WriteBatch {
    /// The changes, in order.
    pub ops: Vec<WriteOp>,
}

impl WriteBatch {
    /// An empty batch.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends one change.
    pub fn push(&mut self, op: WriteOp) {
        self.ops.push(op);
    }

    /// True when there is nothing to write.
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }
}

/// Why a store operation failed. Any of these stops the node: continuing on a store that did
/// not commit would leave memory and disk disagreeing.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum StoreError {
    /// The backend failed (I/O error, map full, ...); the text is the backend's reason.
    Backend(String),
    /// A stored record does not decode: the database is damaged or from another program.
    Corrupt {
        /// Which table.
        table: Table,
        /// What was wrong.
        reason: String,
    },
    /// The store was crashed or closed; reopen it to continue from the committed state.
    Closed,
    /// A block or undo record in the flat files does not match what the index says.
    BadFile(BadRecord),
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::Backend(r) => write!(f, "database error: {r}"),
            StoreError::Corrupt { table, reason } => write!(
                f,
                "database corrupt in table {}: {reason}; restore from a backup or resync",
                table.name()
            ),
            StoreError::Closed => f.write_str("database closed (after a crash or shutdown)"),
            StoreError::BadFile(bad) => write!(f, "{bad}"),
        }
    }
}

impl std::error::Error for StoreError {}

/// Copies everything `src` holds (index, blocks, undo data, UTXO set, tip, address book,
/// bans, schema) into the empty `dst`, records rewritten to where they land in `dst`'s files,
/// in one batch: seeding test and benchmark data directories, moving between backends. The
/// transaction index is left out: a copy without its tip rebuilds it when opened with the
/// index on.
pub fn copy_store<S, D>(src: &S, dst: &mut D) -> Result<(), StoreError>
where
    S: ChainStore + ?Sized,
    D: ChainStore + ?Sized,
{
    let mut batch = WriteBatch::new();
    let mut entries = src.index_entries()?;
    entries.sort_by_key(|e| (e.height, e.hash));
    for mut entry in entries {
        if let Some(pos) = entry.data {
            entry.data = Some(dst.append(FileKind::Blocks, &src.read(FileKind::Blocks, pos)?)?);
        }
        if let Some(pos) = entry.undo {
            entry.undo = Some(dst.append(FileKind::Undo, &src.read(FileKind::Undo, pos)?)?);
        }
        batch.push(WriteOp::PutIndex(entry));
    }
    src.for_each_coin(&mut |op, coin| batch.push(WriteOp::PutCoin(*op, coin.clone())))?;
    if let Some(tip) = src.tip()? {
        batch.push(WriteOp::PutTip(tip));
    }
    if let Some(book) = src.addr_book()? {
        batch.push(WriteOp::PutAddrBook(book));
    }
    if let Some(bans) = src.bans()? {
        batch.push(WriteOp::PutBans(bans));
    }
    if let Some(version) = src.schema_version()? {
        batch.push(WriteOp::PutSchemaVersion(version));
    }
    batch.push(WriteOp::PutFileEnds(dst.sync()?));
    dst.write(batch)
}

/// Synchronous storage for the chain. Reads see every committed batch; [`write`](Self::write)
/// commits a batch atomically and durably before returning `Ok`. The block files come with
/// it ([`BlockFiles`]).
pub trait ChainStore: BlockFiles {
    /// Every index entry, in any order (loaded once at startup).
    fn index_entries(&self) -> Result<Vec<IndexEntry>, StoreError>;
    /// The index entry of `hash`.
    fn index_entry(&self, hash: &BlockHash) -> Result<Option<IndexEntry>, StoreError>;
    /// The unspent output at `outpoint`.
    fn coin(&self, outpoint: &OutPoint) -> Result<Option<Coin>, StoreError>;
    /// Calls `f` for every unspent output in outpoint order (see [`utxo_key`]).
    fn for_each_coin(&self, f: &mut dyn FnMut(&OutPoint, &Coin)) -> Result<(), StoreError>;
    /// The block the UTXO set reflects; `None` for a fresh store.
    fn tip(&self) -> Result<Option<BlockHash>, StoreError>;
    /// The address book blob, if one was saved.
    fn addr_book(&self) -> Result<Option<Vec<u8>>, StoreError>;
    /// The ban list blob, if one was saved.
    fn bans(&self) -> Result<Option<Vec<u8>>, StoreError>;
    /// The schema version; `None` for a fresh store.
    fn schema_version(&self) -> Result<Option<u32>, StoreError>;
    /// Where transaction `txid` is, if the transaction index holds it.
    fn tx_location(&self, txid: &Txid) -> Result<Option<TxLoc>, StoreError>;
    /// The last block the transaction index covers; `None` when it was never built or dropped.
    fn tx_index_tip(&self) -> Result<Option<BlockHash>, StoreError>;
    /// How far the block files were committed by the last batch; `None` for a fresh store.
    fn file_ends(&self) -> Result<Option<FileEnds>, StoreError>;
    /// Commits `batch` atomically.
    fn write(&mut self, batch: WriteBatch) -> Result<(), StoreError>;

    /// Every unspent output, in memory: for tests and consistency checks on small chains.
    fn utxo_snapshot(&self) -> Result<BTreeMap<OutPoint, Coin>, StoreError> {
        let mut all = BTreeMap::new();
        self.for_each_coin(&mut |op, coin| {
            all.insert(*op, coin.clone());
        })?;
        Ok(all)
    }

    /// Records the schema version (a one-op batch).
    fn set_schema_version(&mut self, version: u32) -> Result<(), StoreError> {
        self.write(WriteBatch {
            ops: vec![WriteOp::PutSchemaVersion(version)],
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::builder::spending_chain;
    use crate::chain::{Chain, MemStore};
    use crate::params::{Network, Params};

    #[test]
    fn a_copy_opens_as_the_same_chain() {
        let params = Params::new(Network::Regtest);
        let mut chain = Chain::open(params.clone(), MemStore::new()).unwrap();
        for b in spending_chain(&params, 120, 2) {
            chain.process_block(b, 2_000_000_000).unwrap();
        }
        let source = chain.into_store().unwrap();
        let mut copy = MemStore::new();
        copy_store(&source, &mut copy).unwrap();
        assert_eq!(copy.utxo_snapshot(), source.utxo_snapshot());
        assert_eq!(copy.tip(), source.tip());
        let reopened = Chain::open(params, copy).unwrap();
        assert_eq!(reopened.tip().height, 120);
        let tip = reopened.tip().hash;
        assert_eq!(reopened.block(&tip).unwrap().unwrap().block_hash(), tip);
    }
}
