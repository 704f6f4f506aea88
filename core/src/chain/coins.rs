//! The UTXO cache (Bitcoin Core's `CCoinsViewCache`, btcd's `utxocache.go`): coins read
//! through a bounded in-memory map in front of the store, changes kept there until the chain
//! flushes them as one batch.
//!
//! An entry is DIRTY when it differs from the store, and FRESH when the store is known not to
//! hold the coin at all: a FRESH coin that gets spent is simply forgotten, so a coin created
//! and spent between two flushes never reaches the store. The cache measures its own memory
//! (hash table plus script bytes) and never lets its table grow past its budget: a lookup that
//! would make it grow beyond is answered without caching, and the chain flushes (and empties
//! the cache) before applying a block whose coins would not fit.

use super::hashed_key_map::HashedKeyMap;
use super::store::{ChainStore, StoreError, WriteOp};
use crate::mempool::Coin;
use crate::primitives::OutPoint;
use std::collections::BTreeMap;

/// btcd's default `--utxocachemaxsize`, in MiB.
pub const DEFAULT_CACHE_MIB: usize = 250;
/// What a heap allocation costs beyond its bytes (allocator header and rounding).
const ALLOC_OVERHEAD: usize = 16;

/// One cached coin: unspent (`Some`) or spent since the last flush (`None`, always DIRTY).
#[derive(Clone, Debug)]
struct Entry {
    coin: Option<Coin>,
    dirty: bool,
    fresh: bool,
}

/// Where a connection or disconnection leaves an outpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CoinChange {
    /// A coin was created (or restored by a disconnect); `overwrite` when the outpoint may
    /// already hold an unspent coin (coinbases, as Core, for the pre-BIP30 duplicates).
    Add {
        /// The coin.
        coin: Coin,
        /// Whether an unspent coin may already be there.
        overwrite: bool,
    },
    /// The coin was spent.
    Spend,
}

/// Something coins can be looked up in while validating a block.
pub trait CoinSource {
    /// The unspent coin at `op`.
    fn coin(&mut self, op: &OutPoint) -> Result<Option<Coin>, StoreError>;
}

/// The cache, over a store it is given at each call.
#[derive(Clone, Debug)]
pub struct CoinsCache {
    entries: HashedKeyMap<OutPoint, Entry>,
    /// Bytes the coins' scripts take on the heap.
    heap: usize,
    budget: usize,
    /// The table's buckets, as last observed (see [`CoinsCache::observe`]).
    buckets: usize,
    /// The most memory measured after any change since creation.
    peak: usize,
}

/// Buckets a table needs for `items` entries (the standard library's hash table keeps at most
/// 7/8 of its power-of-two buckets full).
fn buckets_for(items: usize) -> usize {
    match items {
        0 => 0,
        1..=3 => 4,
        4..=7 => 8,
        n => (n * 8).div_ceil(7).next_power_of_two(),
    }
}

/// Entries a table of `buckets` holds before it must grow (the inverse of [`buckets_for`]).
fn full_capacity(buckets: usize) -> usize {
    match buckets {
        0..=8 => buckets.saturating_sub(1),
        n => n / 8 * 7,
    }
}

/// Bytes a table of `buckets` takes: each bucket holds an entry and a control byte.
fn table_bytes(buckets: usize) -> usize {
    buckets * (std::mem::size_of::<(OutPoint, Entry)>() + 1)
}

fn heap_of(coin: &Option<Coin>) -> usize {
    match coin {
        Some(c) if c.output.script_pubkey.capacity() > 0 => {
            c.output.script_pubkey.capacity() + ALLOC_OVERHEAD
        }
        _ => 0,
    }
}

impl CoinsCache {
    /// An empty cache that keeps its memory within `budget` bytes.
    pub fn new(budget: usize) -> Self {
        CoinsCache {
            entries: HashedKeyMap::default(),
            heap: 0,
            budget,
            buckets: 0,
            peak: 0,
        }
    }

    /// The memory budget in bytes.
    pub fn budget(&self) -> usize {
        self.budget
    }

    /// Memory the cache takes now, in bytes (its table plus scripts).
    pub fn usage(&self) -> usize {
        table_bytes(self.buckets) + self.heap
    }

    /// The most memory the cache took at any time.
    pub fn peak_usage(&self) -> usize {
        self.peak
    }

    /// Cached entries (unspent coins and spends not yet flushed).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Whether `extra` more entries (with `extra_heap` script bytes) fit within the budget,
    /// counting the table's growth to hold them.
    ///
    /// The table's reported capacity is what it can take before it must grow: its buckets'
    /// capacity less the slots that removed entries left marked (so that lookups probe past
    /// them). When inserts use that up, the table clears the marks in place if it is at most
    /// half full, and otherwise doubles, however many entries it holds: a cache of coins
    /// created and spent block after block can double long before it holds its capacity.
    pub fn fits(&self, extra: usize, extra_heap: usize) -> bool {
        let len = self.entries.len();
        let room = self.entries.capacity().saturating_sub(len);
        let full = full_capacity(self.buckets);
        let buckets = if extra <= room || len + extra <= full / 2 {
            self.buckets
        } else {
            buckets_for((len + extra).max(full + 1))
        };
        table_bytes(buckets) + self.heap + extra_heap <= self.budget
    }

    /// Notes the table's buckets after inserts: its capacity only ever exceeds what its
    /// buckets held when it grew, and right after growing it equals the new buckets' capacity.
    fn observe(&mut self) {
        let capacity = self.entries.capacity();
        if capacity > full_capacity(self.buckets) {
            self.buckets = buckets_for(capacity);
        }
    }

    fn note_peak(&mut self) {
        self.observe();
        self.peak = self.peak.max(self.usage());
    }

    /// The unspent coin at `op`, from the cache or else the store (then cached clean, when it
    /// fits).
    pub fn fetch<S: ChainStore + ?Sized>(
        &mut self,
        store: &S,
        op: &OutPoint,
    ) -> Result<Option<Coin>, StoreError> {
        if let Some(e) = self.entries.get(op) {
            return Ok(e.coin.clone());
        }
        let Some(coin) = store.coin(op)? else {
            return Ok(None);
        };
        let heap = heap_of(&Some(coin.clone()));
        if self.fits(1, heap) {
            self.heap += heap;
            self.entries.insert(
                *op,
                Entry {
                    coin: Some(coin.clone()),
                    dirty: false,
                    fresh: false,
                },
            );
            self.note_peak();
        }
        Ok(Some(coin))
    }

    /// The unspent coin at `op` without caching anything (for readers holding `&self`).
    pub fn peek<S: ChainStore + ?Sized>(
        &self,
        store: &S,
        op: &OutPoint,
    ) -> Result<Option<Coin>, StoreError> {
        match self.entries.get(op) {
            Some(e) => Ok(e.coin.clone()),
            None => store.coin(op),
        }
    }

    /// Whether applying `changes` could make the table outgrow the budget (the chain then
    /// flushes first).
    pub fn would_overflow(&self, changes: &BTreeMap<OutPoint, CoinChange>) -> bool {
        let mut extra = 0;
        let mut heap = 0;
        for (op, change) in changes {
            if let CoinChange::Add { coin, .. } = change {
                heap += heap_of(&Some(coin.clone()));
            }
            extra += usize::from(!self.entries.contains_key(op));
        }
        !self.fits(extra, heap)
    }

    /// Applies one block's changes. Spends of coins not cached are looked up in `store` first
    /// (to know whether the store holds them).
    pub fn apply<S: ChainStore + ?Sized>(
        &mut self,
        store: &S,
        changes: BTreeMap<OutPoint, CoinChange>,
    ) -> Result<(), StoreError> {
        for (op, change) in changes {
            match change {
                CoinChange::Add { coin, overwrite } => self.add(op, coin, overwrite),
                CoinChange::Spend => self.spend(store, &op)?,
            }
        }
        self.note_peak();
        Ok(())
    }

    fn add(&mut self, op: OutPoint, coin: Coin, overwrite: bool) {
        let coin = Some(coin);
        let heap = heap_of(&coin);
        let fresh = match self.entries.get(&op) {
            None => !overwrite,
            // An unspent coin is replaced: the store may hold it.
            Some(Entry { coin: Some(_), .. }) => false,
            // A spend not yet flushed must still reach the store: not FRESH (Core).
            Some(e) => !overwrite && !e.dirty,
        };
        if let Some(old) = self.entries.insert(
            op,
            Entry {
                coin,
                dirty: true,
                fresh,
            },
        ) {
            self.heap -= heap_of(&old.coin);
        }
        self.heap += heap;
    }

    fn spend<S: ChainStore + ?Sized>(
        &mut self,
        store: &S,
        op: &OutPoint,
    ) -> Result<(), StoreError> {
        if !self.entries.contains_key(op) {
            match store.coin(op)? {
                // Nothing to spend: a coin created and spent within one block never got here.
                None => return Ok(()),
                Some(_) => {
                    self.entries.insert(
                        *op,
                        Entry {
                            coin: None,
                            dirty: true,
                            fresh: false,
                        },
                    );
                    return Ok(());
                }
            }
        }
        let e = self.entries.get_mut(op).expect("present");
        self.heap -= heap_of(&e.coin);
        if e.fresh {
            self.entries.remove(op);
        } else {
            e.coin = None;
            e.dirty = true;
        }
        Ok(())
    }

    /// The store changes that bring it up to the cache, in outpoint order (an LMDB batch in
    /// key order writes fastest), marking everything clean. With `empty`, the cache is then
    /// dropped whole (its memory returned); otherwise clean coins stay cached and only spends
    /// are forgotten (Core's `Sync`).
    pub fn flush_ops(&mut self, empty: bool) -> Vec<WriteOp> {
        let mut dirty: Vec<(OutPoint, Option<Coin>)> = self
            .entries
            .iter()
            .filter(|(_, e)| e.dirty)
            .map(|(op, e)| (*op, e.coin.clone()))
            .collect();
        dirty.sort_unstable_by_key(|(op, _)| *op);
        if empty {
            self.entries = HashedKeyMap::default();
            self.buckets = 0;
            self.heap = 0;
        } else {
            self.entries.retain(|_, e| e.coin.is_some());
            for e in self.entries.values_mut() {
                e.dirty = false;
                e.fresh = false;
            }
        }
        dirty
            .into_iter()
            .map(|(op, coin)| match coin {
                Some(c) => WriteOp::PutCoin(op, c),
                None => WriteOp::DeleteCoin(op),
            })
            .collect()
    }

    /// The dirty entries in outpoint order: what the store lacks or holds stale (`None`: spent).
    pub fn dirty_sorted(&self) -> BTreeMap<OutPoint, Option<Coin>> {
        self.entries
            .iter()
            .filter(|(_, e)| e.dirty)
            .map(|(op, e)| (*op, e.coin.clone()))
            .collect()
    }
}

/// The cache over a store, looking coins up with [`CoinsCache::fetch`].
pub struct CachedCoins<'a, S: ?Sized> {
    /// The cache.
    pub cache: &'a mut CoinsCache,
    /// The store behind it.
    pub store: &'a S,
}

impl<S: ChainStore + ?Sized> CoinSource for CachedCoins<'_, S> {
    fn coin(&mut self, op: &OutPoint) -> Result<Option<Coin>, StoreError> {
        self.cache.fetch(self.store, op)
    }
}

/// The cache over a store, read-only ([`CoinsCache::peek`]): for checking a block proposal.
pub struct PeekCoins<'a, S: ?Sized> {
    /// The cache.
    pub cache: &'a CoinsCache,
    /// The store behind it.
    pub store: &'a S,
}

impl<S: ChainStore + ?Sized> CoinSource for PeekCoins<'_, S> {
    fn coin(&mut self, op: &OutPoint) -> Result<Option<Coin>, StoreError> {
        self.cache.peek(self.store, op)
    }
}

/// Calls `f` for every unspent coin of `store` as the cache amends it, in outpoint order: the
/// store's coins merged with the cache's dirty entries, without flushing.
pub fn for_each_merged<S: ChainStore + ?Sized>(
    cache: &CoinsCache,
    store: &S,
    f: &mut dyn FnMut(&OutPoint, &Coin),
) -> Result<(), StoreError> {
    let dirty = cache.dirty_sorted();
    let mut pending = dirty.iter().peekable();
    store.for_each_coin(&mut |op, coin| {
        while let Some((dop, dcoin)) = pending.next_if(|(d, _)| *d < op) {
            if let Some(c) = dcoin {
                f(dop, c);
            }
        }
        match pending.next_if(|(d, _)| *d == op) {
            Some((_, Some(c))) => f(op, c),
            Some((_, None)) => {}
            None => f(op, coin),
        }
    })?;
    for (op, coin) in pending {
        if let Some(c) = coin {
            f(op, c);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::mem_store::MemStore;
    use crate::chain::store::WriteBatch;
    use crate::primitives::{Hash256, TxOut};

    fn coin(v: i64) -> Coin {
        Coin {
            output: TxOut {
                value: v,
                script_pubkey: vec![0x51; 25],
            },
            height: 1,
            is_coinbase: false,
        }
    }

    fn op(n: u8) -> OutPoint {
        OutPoint::new(Hash256([n; 32]), 0)
    }

    fn add(c: Coin) -> CoinChange {
        CoinChange::Add {
            coin: c,
            overwrite: false,
        }
    }

    #[test]
    fn a_coin_created_and_spent_between_flushes_never_reaches_the_store() {
        let store = MemStore::new();
        let mut cache = CoinsCache::new(1 << 20);
        cache
            .apply(&store, BTreeMap::from([(op(1), add(coin(5)))]))
            .unwrap();
        cache
            .apply(&store, BTreeMap::from([(op(1), CoinChange::Spend)]))
            .unwrap();
        assert!(cache.is_empty());
        assert!(cache.flush_ops(false).is_empty());
    }

    #[test]
    fn spends_of_stored_coins_are_flushed_as_deletes() {
        let mut store = MemStore::new();
        store
            .write(WriteBatch {
                ops: vec![WriteOp::PutCoin(op(2), coin(7))],
            })
            .unwrap();
        let mut cache = CoinsCache::new(1 << 20);
        assert_eq!(cache.fetch(&store, &op(2)).unwrap(), Some(coin(7)));
        cache
            .apply(&store, BTreeMap::from([(op(2), CoinChange::Spend)]))
            .unwrap();
        assert_eq!(cache.peek(&store, &op(2)).unwrap(), None);
        // Re-created before the flush: not FRESH, since the spend must still be written.
        cache
            .apply(&store, BTreeMap::from([(op(2), add(coin(8)))]))
            .unwrap();
        cache
            .apply(&store, BTreeMap::from([(op(2), CoinChange::Spend)]))
            .unwrap();
        assert_eq!(cache.flush_ops(false), vec![WriteOp::DeleteCoin(op(2))]);
    }

    #[test]
    fn the_table_never_outgrows_the_budget() {
        let mut store = MemStore::new();
        let ops: Vec<WriteOp> = (0..200u8)
            .map(|n| WriteOp::PutCoin(op(n), coin(1)))
            .collect();
        store.write(WriteBatch { ops }).unwrap();
        let budget = 8 << 10;
        let mut cache = CoinsCache::new(budget);
        for n in 0..200u8 {
            assert_eq!(
                cache.fetch(&store, &op(n)).unwrap(),
                Some(coin(1)),
                "answered"
            );
            assert!(cache.usage() <= budget, "{} > {budget}", cache.usage());
        }
        assert!(cache.len() < 200, "some lookups were not cached");
        assert!(cache.peak_usage() <= budget);
    }

    /// The `n`th of many distinct outpoints, their txids scattered as real ones are.
    fn op_n(n: u32) -> OutPoint {
        let mut txid = [0u8; 32];
        let scattered = u64::from(n).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        txid[..8].copy_from_slice(&scattered.to_le_bytes());
        OutPoint::new(Hash256(txid), 0)
    }

    #[test]
    fn coins_created_and_spent_block_after_block_keep_the_table_within_the_budget() {
        // A steady UTXO set with churn, as a chain's blocks make: each block creates coins
        // and spends the oldest. FRESH coins spent are removed, and in a dense table the slots
        // they leave count against its room to grow: it doubles before it holds its capacity.
        let store = MemStore::new();
        let budget = 512 << 10;
        let mut cache = CoinsCache::new(budget);
        let (per_block, live) = (200, 3_000);
        let (mut oldest, mut next) = (0, 0);
        for _ in 0..300 {
            let mut changes: BTreeMap<OutPoint, CoinChange> = (next..next + per_block)
                .map(|n| (op_n(n), add(coin(1))))
                .collect();
            next += per_block;
            while next - oldest > live {
                changes.insert(op_n(oldest), CoinChange::Spend);
                oldest += 1;
            }
            // What the chain does: flush (and empty) the cache first when the block would
            // not fit.
            if cache.would_overflow(&changes) {
                cache.flush_ops(true);
            }
            cache.apply(&store, changes).unwrap();
            assert!(
                cache.usage() <= budget,
                "{} > budget {budget}",
                cache.usage()
            );
        }
        assert!(cache.len() > 2_500, "the cache was emptied too early");
        assert!(
            cache.peak_usage() <= budget,
            "peak {} > budget {budget}",
            cache.peak_usage()
        );
    }

    #[test]
    fn merged_iteration_sees_unflushed_changes() {
        let mut store = MemStore::new();
        store
            .write(WriteBatch {
                ops: vec![
                    WriteOp::PutCoin(op(1), coin(1)),
                    WriteOp::PutCoin(op(3), coin(3)),
                ],
            })
            .unwrap();
        let mut cache = CoinsCache::new(1 << 20);
        cache.fetch(&store, &op(3)).unwrap();
        let changes = BTreeMap::from([
            (op(0), add(coin(0))),
            (op(2), add(coin(2))),
            (op(3), CoinChange::Spend),
            (op(4), add(coin(4))),
        ]);
        cache.apply(&store, changes).unwrap();
        let mut seen = Vec::new();
        for_each_merged(&cache, &store, &mut |op, c| {
            seen.push((op.txid.0[0], c.output.value))
        })
        .unwrap();
        assert_eq!(seen, [(0, 0), (1, 1), (2, 2), (4, 4)]);
    }
}
