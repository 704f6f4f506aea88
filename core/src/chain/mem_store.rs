//! An in-memory [`ChainStore`] with crash semantics, for tests and the simulator.
//!
//! The committed state lives behind a shared handle, so it outlives the node that wrote it (the
//! simulator kills a node and restarts it on the same store). A crash loses what a power cut
//! loses: the batch in flight and every block-file byte not synced ([`MemFiles`]).
//! [`MemStore::fail_at_write`] makes the Nth next batch fail without applying anything, and
//! [`MemStore::fail_at_event`] the Nth next durability event (a file sync or a batch), after
//! which the handle is dead; [`MemStore::reopen`] gives a fresh handle on what survived.

use super::block_files::{BlockFiles, FileEnds, FileKind, FilePos, MemFiles};
use super::hashed_key_map::HashedKeyMap;
use super::records::IndexEntry;
use super::store::{ChainStore, StoreError, WriteBatch, WriteOp};
use super::tx_index::TxLoc;
use crate::mempool::Coin;
use crate::primitives::{BlockHash, OutPoint, Txid};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

#[derive(Clone, Default)]
struct Committed {
    index: BTreeMap<BlockHash, IndexEntry>,
    utxo: HashedKeyMap<OutPoint, Coin>,
    tip: Option<BlockHash>,
    addr_book: Option<Vec<u8>>,
    bans: Option<Vec<u8>>,
    schema_version: Option<u32>,
    tx_index: HashedKeyMap<Txid, TxLoc>,
    tx_index_tip: Option<BlockHash>,
    file_ends: Option<FileEnds>,
}

/// Which durability events count down to an injected crash.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum CrashOn {
    /// Batches only.
    Writes,
    /// Batches and file syncs.
    Events,
}

#[derive(Default)]
struct Shared {
    state: Committed,
    files: MemFiles,
    /// Incremented by every reopen; handles of an older generation are dead.
    generation: u64,
    /// Events left before the injected crash (`Some(0)`: the next one crashes).
    crash_in: Option<(u64, CrashOn)>,
    /// Batches committed since creation.
    commits: u64,
    /// File syncs since creation.
    syncs: u64,
}

impl Shared {
    /// Counts down to an injected crash at a batch or (`sync`) a file sync; true when this
    /// event is the one that crashes (the store is then dead and has lost what a power cut
    /// loses).
    fn crashes_now(&mut self, sync: bool) -> bool {
        match self.crash_in {
            Some((_, CrashOn::Writes)) if sync => false,
            Some((0, _)) => {
                self.generation += 1;
                self.crash_in = None;
                self.files.crash();
                true
            }
            Some((n, on)) => {
                self.crash_in = Some((n - 1, on));
                false
            }
            None => false,
        }
    }
}

/// An in-memory store; clones share state (like two handles on one database file).
#[derive(Clone, Default)]
pub struct MemStore {
    shared: Arc<Mutex<Shared>>,
    generation: u64,
}

impl MemStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn live(&self) -> Result<MutexGuard<'_, Shared>, StoreError> {
        let s = self.shared.lock().unwrap_or_else(|p| p.into_inner());
        if s.generation != self.generation {
            return Err(StoreError::Closed);
        }
        Ok(s)
    }

    /// Injects a crash: the `n`th batch from now (`n` = 1: the next one) fails with
    /// [`StoreError::Closed`] and applies nothing, and the handle stays dead afterwards.
    pub fn fail_at_write(&self, n: u64) {
        assert!(n >= 1, "writes are counted from 1");
        let mut s = self.shared.lock().unwrap_or_else(|p| p.into_inner());
        s.crash_in = Some((n - 1, CrashOn::Writes));
    }

    /// Injects a crash at the `n`th durability event from now, counting file syncs and
    /// batches: a crashing sync makes nothing durable, a crashing batch applies nothing.
    pub fn fail_at_event(&self, n: u64) {
        assert!(n >= 1, "events are counted from 1");
        let mut s = self.shared.lock().unwrap_or_else(|p| p.into_inner());
        s.crash_in = Some((n - 1, CrashOn::Events));
    }

    /// Crashes now: every existing handle is dead; only committed state and synced file bytes
    /// survive.
    pub fn crash(&self) {
        let mut s = self.shared.lock().unwrap_or_else(|p| p.into_inner());
        s.generation += 1;
        s.crash_in = None;
        s.files.crash();
    }

    /// A new live handle on the committed state (after a crash or to restart a node); older
    /// handles stop working.
    pub fn reopen(&self) -> MemStore {
        self.crash();
        let s = self.shared.lock().unwrap_or_else(|p| p.into_inner());
        MemStore {
            shared: self.shared.clone(),
            generation: s.generation,
        }
    }

    /// An independent store holding a copy of the committed state and the synced files:
    /// several simulated nodes can start from one prepared chain.
    pub fn duplicate(&self) -> MemStore {
        let s = self.shared.lock().unwrap_or_else(|p| p.into_inner());
        let mut files = s.files.clone();
        files.crash();
        MemStore {
            shared: Arc::new(Mutex::new(Shared {
                state: s.state.clone(),
                files,
                ..Shared::default()
            })),
            generation: 0,
        }
    }

    /// Batches committed so far.
    pub fn commits(&self) -> u64 {
        self.shared
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .commits
    }

    /// File syncs so far.
    pub fn syncs(&self) -> u64 {
        self.shared.lock().unwrap_or_else(|p| p.into_inner()).syncs
    }

    /// Damages one byte of a block or undo file (tests of damaged files).
    pub fn corrupt_file(&self, kind: FileKind, file: u32, offset: usize) {
        let mut s = self.shared.lock().unwrap_or_else(|p| p.into_inner());
        s.files.corrupt(kind, file, offset);
    }

    /// Bytes held in the block and undo files.
    pub fn file_bytes(&self) -> usize {
        self.shared
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .files
            .total_bytes()
    }

    /// Number of unspent outputs.
    pub fn utxo_len(&self) -> usize {
        self.shared
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .state
            .utxo
            .len()
    }
}

impl ChainStore for MemStore {
    fn index_entries(&self) -> Result<Vec<IndexEntry>, StoreError> {
        Ok(self.live()?.state.index.values().copied().collect())
    }

    fn index_entry(&self, hash: &BlockHash) -> Result<Option<IndexEntry>, StoreError> {
        Ok(self.live()?.state.index.get(hash).copied())
    }

    fn coin(&self, outpoint: &OutPoint) -> Result<Option<Coin>, StoreError> {
        Ok(self.live()?.state.utxo.get(outpoint).cloned())
    }

    fn for_each_coin(&self, f: &mut dyn FnMut(&OutPoint, &Coin)) -> Result<(), StoreError> {
        // OutPoint's derived order (txid bytes, then vout numerically) is utxo_key byte order.
        let s = self.live()?;
        let mut coins: Vec<_> = s.state.utxo.iter().collect();
        coins.sort_unstable_by_key(|(k, _)| **k);
        coins.into_iter().for_each(|(k, v)| f(k, v));
        Ok(())
    }

    fn tip(&self) -> Result<Option<BlockHash>, StoreError> {
        Ok(self.live()?.state.tip)
    }

    fn addr_book(&self) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.live()?.state.addr_book.clone())
    }

    fn bans(&self) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.live()?.state.bans.clone())
    }

    fn schema_version(&self) -> Result<Option<u32>, StoreError> {
        Ok(self.live()?.state.schema_version)
    }

    fn tx_location(&self, txid: &Txid) -> Result<Option<TxLoc>, StoreError> {
        Ok(self.live()?.state.tx_index.get(txid).copied())
    }

    fn tx_index_tip(&self) -> Result<Option<BlockHash>, StoreError> {
        Ok(self.live()?.state.tx_index_tip)
    }

    fn file_ends(&self) -> Result<Option<FileEnds>, StoreError> {
        Ok(self.live()?.state.file_ends)
    }

    fn write(&mut self, batch: WriteBatch) -> Result<(), StoreError> {
        let mut s = self.live()?;
        if s.crashes_now(false) {
            // The batch never reached the disk; the process is gone.
            return Err(StoreError::Closed);
        }
        let st = &mut s.state;
        for op in batch.ops {
            match op {
                WriteOp::PutIndex(e) => {
                    st.index.insert(e.hash, e);
                }
                WriteOp::PutFileEnds(ends) => st.file_ends = Some(ends),
                WriteOp::PutCoin(op, c) => {
                    st.utxo.insert(op, c);
                }
                WriteOp::DeleteCoin(op) => {
                    st.utxo.remove(&op);
                }
                WriteOp::PutTip(h) => st.tip = Some(h),
                WriteOp::PutAddrBook(b) => st.addr_book = Some(b),
                WriteOp::PutBans(b) => st.bans = Some(b),
                WriteOp::PutSchemaVersion(v) => st.schema_version = Some(v),
                WriteOp::PutTxLoc(txid, loc) => {
                    st.tx_index.insert(txid, loc);
                }
                WriteOp::DeleteTxLoc(txid) => {
                    st.tx_index.remove(&txid);
                }
                WriteOp::PutTxIndexTip(h) => st.tx_index_tip = Some(h),
                WriteOp::ClearTxIndex => {
                    st.tx_index = HashedKeyMap::default();
                    st.tx_index_tip = None;
                }
            }
        }
        s.commits += 1;
        Ok(())
    }
}

impl BlockFiles for MemStore {
    fn append(&mut self, kind: FileKind, payload: &[u8]) -> Result<FilePos, StoreError> {
        self.live()?.files.append(kind, payload)
    }

    fn read(&self, kind: FileKind, pos: FilePos) -> Result<Vec<u8>, StoreError> {
        self.live()?.files.read(kind, pos)
    }

    fn sync(&mut self) -> Result<FileEnds, StoreError> {
        let mut s = self.live()?;
        if s.crashes_now(true) {
            return Err(StoreError::Closed);
        }
        s.syncs += 1;
        s.files.sync()
    }

    fn truncate(&mut self, ends: FileEnds) -> Result<(), StoreError> {
        self.live()?.files.truncate(ends)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::primitives::{Hash256, TxOut};

    fn coin(v: i64) -> Coin {
        Coin {
            output: TxOut {
                value: v,
                script_pubkey: vec![],
            },
            height: 1,
            is_coinbase: false,
        }
    }

    fn put(op: u8, v: i64) -> WriteBatch {
        WriteBatch {
            ops: vec![
                WriteOp::PutCoin(OutPoint::new(Hash256([op; 32]), 0), coin(v)),
                WriteOp::PutTip(Hash256([op; 32])),
            ],
        }
    }

    #[test]
    fn crash_at_nth_write_keeps_only_committed_batches() {
        let mut s = MemStore::new();
        s.write(put(1, 10)).unwrap();
        s.fail_at_write(2);
        s.write(put(2, 20)).unwrap();
        assert_eq!(s.write(put(3, 30)), Err(StoreError::Closed));
        // The dead handle refuses everything, reads included.
        assert_eq!(s.tip(), Err(StoreError::Closed));
        assert_eq!(s.write(put(4, 40)), Err(StoreError::Closed));
        let r = s.reopen();
        assert_eq!(r.tip().unwrap(), Some(Hash256([2; 32])));
        assert_eq!(r.utxo_len(), 2);
        assert!(r
            .coin(&OutPoint::new(Hash256([3; 32]), 0))
            .unwrap()
            .is_none());
        assert_eq!(r.commits(), 2);
    }

    #[test]
    fn reopen_kills_older_handles() {
        let mut a = MemStore::new();
        a.set_schema_version(3).unwrap();
        let mut b = a.reopen();
        assert_eq!(a.schema_version(), Err(StoreError::Closed));
        assert_eq!(b.schema_version().unwrap(), Some(3));
        b.write(put(9, 1)).unwrap();
        let mut seen = Vec::new();
        b.for_each_coin(&mut |op, c| seen.push((*op, c.output.value)))
            .unwrap();
        assert_eq!(seen, vec![(OutPoint::new(Hash256([9; 32]), 0), 1)]);
    }

    #[test]
    fn utxo_order_matches_key_bytes() {
        let a = OutPoint::new(Hash256([1; 32]), 1);
        let b = OutPoint::new(Hash256([1; 32]), 256);
        assert!(a < b);
        assert!(super::super::store::utxo_key(&a) < super::super::store::utxo_key(&b));
    }
}
