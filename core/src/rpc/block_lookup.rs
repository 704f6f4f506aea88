//! What the lookups (`getblockcount`, `getbestblockhash`, `getbestblock`, `getblockhash`,
//! `getblockheader`, `getheaders`, `getblock`, `getrawtransaction`, `gettxout`,
//! `getmempoolinfo`) read: the block
//! index as of one moment, the stored blocks' bytes, the coins and the transaction index as of
//! the tip, and the pool. The node's live chain provides it ([`LiveChain`]), and so does a
//! [`ReadView`] it published with the driver's own readers of the block files and the store
//! ([`ViewLookup`]), which answers these calls beside the node, never waiting behind its
//! message loop. Both run the same handlers, so the answers are the same.

use super::handlers::Context;
use super::jsonrpc::{self, Body, Request};
use super::methods::{self, LookupKind, Method};
use super::render::{Part, ReplyJob};
use super::view::ChainView;
use super::{Rights, Transport};
use crate::chain::index_view::IndexView;
use crate::chain::tx_index::{tx_at, TxLoc};
use crate::chain::unflushed_view::UnflushedView;
use crate::chain::{ChainError, ChainStore, FilePos, IndexEntry, StoreError};
use crate::mempool::view::MempoolView;
use crate::mempool::{Coin, Mempool};
use crate::params::Network;
use crate::primitives::{Block, BlockHash, Decodable, OutPoint, Transaction, Txid};
use std::cell::Cell;
use std::sync::Arc;

/// The block index, stored blocks, coins, transaction index and pool, read at one moment.
pub trait BlockLookup {
    /// The network, for addresses.
    fn network(&self) -> Network;
    /// The entry of `hash`.
    fn entry(&self, hash: &BlockHash) -> Option<IndexEntry>;
    /// The main chain's block at `height`.
    fn main_hash(&self, height: u32) -> Option<BlockHash>;
    /// The main chain's tip.
    fn tip(&self) -> IndexEntry;
    /// The stored bytes of `entry`'s block (`None` when only its header is known).
    fn block_bytes(&self, entry: &IndexEntry) -> Result<Option<Vec<u8>>, ChainError>;

    /// The pool transaction `txid`.
    fn mempool_tx(&self, txid: &Txid) -> Option<Arc<Transaction>>;
    /// True when `txid` is in the pool or held as an orphan.
    fn mempool_has(&self, txid: &Txid) -> bool;
    /// The pool transaction spending `op`, if any.
    fn mempool_spender(&self, op: &OutPoint) -> Option<Txid>;
    /// How many transactions the pool holds (orphans aside), and their total serialized size.
    fn mempool_totals(&self) -> (usize, usize);
    /// Whether the transaction index is kept (`txindex`).
    fn tx_index_enabled(&self) -> bool;
    /// Where the transaction index puts `txid` (`None` when it is off or lacks `txid`).
    fn tx_location(&self, txid: &Txid) -> Result<Option<TxLoc>, ChainError>;
    /// The unspent output at `op` as of the tip.
    fn utxo(&self, op: &OutPoint) -> Result<Option<Coin>, ChainError>;

    /// True when `entry` is on the main chain.
    fn is_main(&self, entry: &IndexEntry) -> bool {
        self.main_hash(entry.height) == Some(entry.hash)
    }

    /// A main-chain transaction found through the transaction index, with its block's entry.
    fn indexed_transaction(
        &self,
        txid: &Txid,
    ) -> Result<Option<(Transaction, IndexEntry)>, ChainError> {
        let Some(loc) = self.tx_location(txid)? else {
            return Ok(None);
        };
        let entry = self.entry(&loc.block).ok_or_else(|| {
            ChainError::Inconsistent(format!(
                "transaction index names unknown block {}",
                loc.block
            ))
        })?;
        let bytes = self.block_bytes(&entry)?.ok_or_else(|| {
            ChainError::Inconsistent(format!("block data of {} missing", loc.block))
        })?;
        let block = Block::decode(&bytes).map_err(|e| {
            ChainError::Inconsistent(format!("stored block {} does not decode: {e}", loc.block))
        })?;
        Ok(Some((tx_at(&block, &loc, txid)?, entry)))
    }
}

/// The node's chain and pool as they are now.
pub struct LiveChain<'a> {
    /// The chain.
    pub chain: &'a dyn ChainView,
    /// The pool.
    pub mempool: &'a Mempool,
}

impl<'a> LiveChain<'a> {
    /// The chain and pool a handler's context reads.
    pub fn of(ctx: &Context<'a>) -> LiveChain<'a> {
        LiveChain {
            chain: ctx.chain,
            mempool: ctx.mempool,
        }
    }
}

impl BlockLookup for LiveChain<'_> {
    fn network(&self) -> Network {
        self.chain.params().network
    }

    fn entry(&self, hash: &BlockHash) -> Option<IndexEntry> {
        self.chain.index().get(hash).copied()
    }

    fn main_hash(&self, height: u32) -> Option<BlockHash> {
        self.chain.main_hash(height)
    }

    fn tip(&self) -> IndexEntry {
        *self.chain.tip()
    }

    fn block_bytes(&self, entry: &IndexEntry) -> Result<Option<Vec<u8>>, ChainError> {
        self.chain.block_bytes(&entry.hash)
    }

    fn mempool_tx(&self, txid: &Txid) -> Option<Arc<Transaction>> {
        self.mempool.get(txid).map(|e| Arc::clone(&e.tx))
    }

    fn mempool_has(&self, txid: &Txid) -> bool {
        self.mempool.have(txid)
    }

    fn mempool_spender(&self, op: &OutPoint) -> Option<Txid> {
        self.mempool.spender_of(op)
    }

    fn mempool_totals(&self) -> (usize, usize) {
        let bytes = self.mempool.entries().map(|e| e.tx.total_size()).sum();
        (self.mempool.len(), bytes)
    }

    fn tx_index_enabled(&self) -> bool {
        self.chain.tx_index_enabled()
    }

    fn tx_location(&self, txid: &Txid) -> Result<Option<TxLoc>, ChainError> {
        self.chain.tx_location(txid)
    }

    fn utxo(&self, op: &OutPoint) -> Result<Option<Coin>, ChainError> {
        self.chain.utxo(op)
    }
}

/// What the node publishes after each input that changed its chain or pool, for readers
/// beside it ([`crate::node::Node::read_view`]): immutable, taken in O(1).
#[derive(Clone, Debug)]
pub struct ReadView {
    /// The block index.
    pub index: IndexView,
    /// The network.
    pub network: Network,
    /// The chain's changes since its last flush, over what the store holds; `None` while the
    /// chain keeps none (past the copy's bounds): lookups that read the store go to the node.
    pub unflushed: Option<UnflushedView>,
    /// The pool.
    pub mempool: MempoolView,
    /// Whether the transaction index is kept.
    pub tx_index: bool,
    /// Changes made to the chain and pool before this view was taken; a newer view has a
    /// higher count.
    pub generation: u64,
}

impl ReadView {
    /// Whether a store whose tip is `stored_tip` holds the state this view's unflushed
    /// changes start from: the tip the last flush wrote (every flush writes the tip, and the
    /// coins and transaction index are those of the tip it writes). When not, a flush came
    /// after the view was taken, and a newer view is needed.
    pub fn starts_from(&self, stored_tip: Option<BlockHash>) -> bool {
        self.unflushed
            .as_ref()
            .is_some_and(|u| stored_tip == Some(u.flushed_tip()))
    }
}

/// The chain state a store holds (as of its last flush), each read returning the tip stored
/// with what it read (read together, e.g. in one read transaction), so a reader can tell
/// which flush it saw: a driver's reader beside the node, or any [`ChainStore`].
pub trait FlushedState {
    /// The stored tip and the stored coin at `op`.
    fn coin_with_tip(&self, op: &OutPoint)
        -> Result<(Option<BlockHash>, Option<Coin>), StoreError>;
    /// The stored tip and the stored transaction index entry of `txid`.
    fn tx_location_with_tip(
        &self,
        txid: &Txid,
    ) -> Result<(Option<BlockHash>, Option<TxLoc>), StoreError>;
}

impl<S: ChainStore> FlushedState for S {
    fn coin_with_tip(
        &self,
        op: &OutPoint,
    ) -> Result<(Option<BlockHash>, Option<Coin>), StoreError> {
        Ok((self.tip()?, self.coin(op)?))
    }

    fn tx_location_with_tip(
        &self,
        txid: &Txid,
    ) -> Result<(Option<BlockHash>, Option<TxLoc>), StoreError> {
        Ok((self.tip()?, self.tx_location(txid)?))
    }
}

/// A [`ReadView`] with `read`, which reads a block's record from the block files (the
/// driver's, on its own thread: the files are append-only, so what the view points at stays),
/// and `store`, which reads the store's coins and transaction index (only lookups of
/// [`LookupKind::Store`] do). A read of the store that finds a later flush than the view's, or
/// in a view that kept no changes since its flush, makes the lookup
/// [stale](ViewLookup::is_stale): its answer must be dropped.
pub struct ViewLookup<'a, R> {
    view: &'a ReadView,
    read: R,
    store: &'a dyn FlushedState,
    stale: Cell<bool>,
}

impl<'a, R> ViewLookup<'a, R> {
    /// Lookups in `view`, reading blocks with `read` and the store through `store`.
    pub fn new(view: &'a ReadView, read: R, store: &'a dyn FlushedState) -> Self {
        ViewLookup {
            view,
            read,
            store,
            stale: Cell::new(false),
        }
    }

    /// Whether a read of the store could not be answered as of the view's moment (a later
    /// flush than the view's, or no changes kept since it): the answers must be dropped (the
    /// driver asks a newer view, then the node).
    pub fn is_stale(&self) -> bool {
        self.stale.get()
    }

    /// `read` of the store, as of the view's flush.
    fn stored<T>(
        &self,
        read: impl FnOnce(&dyn FlushedState) -> Result<(Option<BlockHash>, T), StoreError>,
    ) -> Result<T, ChainError> {
        let (tip, value) = read(self.store)?;
        if !self.view.starts_from(tip) {
            self.stale.set(true);
            return Err(ChainError::Store(StoreError::Backend(
                "the view does not hold the state over the store's".into(),
            )));
        }
        Ok(value)
    }
}

impl<R: Fn(FilePos) -> Result<Vec<u8>, StoreError>> BlockLookup for ViewLookup<'_, R> {
    fn network(&self) -> Network {
        self.view.network
    }

    fn entry(&self, hash: &BlockHash) -> Option<IndexEntry> {
        self.view.index.get(hash).copied()
    }

    fn main_hash(&self, height: u32) -> Option<BlockHash> {
        self.view.index.main_at(height).copied()
    }

    fn tip(&self) -> IndexEntry {
        *self.view.index.tip()
    }

    fn block_bytes(&self, entry: &IndexEntry) -> Result<Option<Vec<u8>>, ChainError> {
        match entry.data {
            Some(pos) => Ok(Some((self.read)(pos)?)),
            None => Ok(None),
        }
    }

    fn mempool_tx(&self, txid: &Txid) -> Option<Arc<Transaction>> {
        self.view.mempool.get(txid).cloned()
    }

    fn mempool_has(&self, txid: &Txid) -> bool {
        self.view.mempool.have(txid)
    }

    fn mempool_spender(&self, op: &OutPoint) -> Option<Txid> {
        self.view.mempool.spender_of(op)
    }

    fn mempool_totals(&self) -> (usize, usize) {
        (self.view.mempool.count(), self.view.mempool.bytes())
    }

    fn tx_index_enabled(&self) -> bool {
        self.view.tx_index
    }

    fn tx_location(&self, txid: &Txid) -> Result<Option<TxLoc>, ChainError> {
        if !self.view.tx_index {
            return Ok(None);
        }
        match self.view.unflushed.as_ref().and_then(|u| u.tx_loc(txid)) {
            Some(loc) => Ok(*loc),
            None => self.stored(|s| s.tx_location_with_tip(txid)),
        }
    }

    fn utxo(&self, op: &OutPoint) -> Result<Option<Coin>, ChainError> {
        match self.view.unflushed.as_ref().and_then(|u| u.coin(op)) {
            Some(coin) => Ok(coin.clone()),
            None => self.stored(|s| s.coin_with_tip(op)),
        }
    }
}

/// Largest body answered from a lookup: bigger ones (batches of thousands of lookups) go to
/// the node rather than be scanned and parsed twice.
const MAX_LOOKUP_BODY: usize = 64 * 1024;

/// The lookups' method names in quotes, as a request names them.
const LOOKUP_NAMES: [&[u8]; 10] = [
    b"\"getbestblock\"",
    b"\"getbestblockhash\"",
    b"\"getblock\"",
    b"\"getblockcount\"",
    b"\"getblockhash\"",
    b"\"getblockheader\"",
    b"\"getheaders\"",
    b"\"getmempoolinfo\"",
    b"\"getrawtransaction\"",
    b"\"gettxout\"",
];

/// Whether `body` holds one of [`LOOKUP_NAMES`]: each starts with a quote, so only the
/// places of quotes are compared.
fn names_a_lookup(body: &[u8]) -> bool {
    (0..body.len())
        .filter(|&i| body[i] == b'"')
        .any(|i| LOOKUP_NAMES.iter().any(|name| body[i..].starts_with(name)))
}

/// A request body every request of which is a lookup (of blocks, headers, the tip,
/// transactions or coins) its caller may make, so it can be answered from a [`BlockLookup`]
/// alone ([`LookupBody::parse`]).
#[derive(Debug)]
pub struct LookupBody {
    batch: bool,
    calls: Vec<(&'static Method, Request)>,
    kind: LookupKind,
}

impl LookupBody {
    /// `body` from a caller with `rights` over `transport`, when it holds only lookups
    /// the caller may make; `None` when any part of it needs the node (which then gets the
    /// body whole, so every error reply and batch rule stays the node's).
    pub fn parse(body: &[u8], rights: Rights, transport: Transport) -> Option<LookupBody> {
        // Most bodies name no lookup: a scan for the quoted names spares them a parse here
        // (the node parses them). A name written with escapes only sends its body to the node.
        if body.len() > MAX_LOOKUP_BODY || !names_a_lookup(body) {
            return None;
        }
        let (batch, requests) = match jsonrpc::parse_body(body) {
            Body::Single(Ok(request)) => (false, vec![request]),
            Body::Single(Err(_)) => return None,
            Body::Batch(entries) => (true, entries.into_iter().collect::<Result<_, _>>().ok()?),
        };
        let mut kind = LookupKind::Index;
        let mut calls = Vec::with_capacity(requests.len());
        for request in requests {
            let method = methods::authorize(&request.method, transport, rights).ok()?;
            kind = kind.max(method.lookup_kind()?);
            calls.push((method, request));
        }
        Some(LookupBody { batch, calls, kind })
    }

    /// What answering it reads: only the index, stored blocks too, or the store too.
    pub fn kind(&self) -> LookupKind {
        self.kind
    }

    /// The reply body, answered from `chain` as the node would answer it (empty when no
    /// request had an id).
    pub fn answer(&self, chain: &dyn BlockLookup) -> String {
        let parts = self
            .calls
            .iter()
            .filter_map(|(method, request)| {
                let result = method
                    .lookup(chain, &request.params)
                    .expect("only lookups are taken");
                let id = request.id.clone()?;
                Some(Part::Ready(jsonrpc::response(
                    request.version,
                    Some(id),
                    result,
                )))
            })
            .collect();
        ReplyJob {
            batch: self.batch,
            parts,
        }
        .finish()
    }

    /// The reply body, answered from the newest view `latest` gives, reading blocks with
    /// `read` and the store through `store`. A read that makes the lookup stale (the store
    /// flushed after the view, or the view kept no changes since its flush) makes it try the
    /// then newest view, up to [`VIEW_TRIES`] views; `None` when none was published or every
    /// try was stale (the node then answers).
    pub fn answer_from_views<R: Fn(FilePos) -> Result<Vec<u8>, StoreError>>(
        &self,
        mut latest: impl FnMut() -> Option<Arc<ReadView>>,
        read: &R,
        store: &dyn FlushedState,
    ) -> Option<String> {
        for _ in 0..VIEW_TRIES {
            let view = latest()?;
            let lookup = ViewLookup::new(&view, read, store);
            let reply = self.answer(&lookup);
            if !lookup.is_stale() {
                return Some(reply);
            }
        }
        None
    }
}

/// Views a lookup tries before it leaves a body to the node: a flush lands between taking a
/// view and reading the store only when the node flushes as the call arrives, and the view
/// published right after that flush matches the store until the next one.
pub const VIEW_TRIES: usize = 3;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rpc::methods::METHODS;

    #[test]
    fn the_names_scanned_for_are_the_method_tables_lookups() {
        let table: Vec<Vec<u8>> = METHODS
            .iter()
            .filter(|m| m.lookup_kind().is_some())
            .map(|m| format!("\"{}\"", m.name).into_bytes())
            .collect();
        let scanned: Vec<Vec<u8>> = LOOKUP_NAMES.iter().map(|n| n.to_vec()).collect();
        assert_eq!(scanned, table);
    }
}
