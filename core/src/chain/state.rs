//! The chain state machine: accepts headers and blocks, keeps orphans, selects the chain with
//! the most work, and connects or disconnects blocks through the UTXO cache, flushing to the
//! store now and then.
//!
//! # Crash safety
//!
//! What is durable is the store's last batch plus the block-file bytes it refers to. Every
//! batch the chain writes is a whole flush ([`Chain::flush`]): the UTXO cache's dirty coins,
//! every index entry changed since the previous flush, the transaction index's changes, the
//! tip those coins are the UTXO set of, and the committed ends of the block files. Before the
//! batch, the files are synced, so each file position in it names durable bytes. So, after a
//! kill -9 (or a power cut) at any instant:
//! - the store opens at the state of some flushed tip: the store commits a batch atomically or
//!   not at all, and nothing but whole flushes is ever written;
//! - the chain state is exactly that tip's: coins, tip and index entries come from one batch;
//! - nothing flushed is lost: a later crash cannot touch a committed batch, and file bytes
//!   below the committed ends were synced before it;
//! - every block after the tip is connected again from the files when its bytes were committed
//!   (its entry says where), or fetched again from peers when they were not: at start the
//!   files are cut back to the committed ends ([`BlockFiles::truncate`]), so bytes a crash left
//!   half-written are never read, and entries not flushed simply do not exist.
//!
//! Flushes happen when the cache would outgrow its budget, every [`FLUSH_INTERVAL_SECS`] of
//! the `now` the chain is given, before a caller needs the store to be current, at shutdown
//! ([`Chain::into_store`]), and after each locally submitted block so that it is durable
//! before the submitter is told it was accepted. Between flushes nothing is synced at all:
//! initial sync costs one file sync and one batch per flush, not per block.

use super::assume_valid::{skips_scripts, AssumeValid};
use super::block_files::FileKind;
use super::block_rules::{check_block_context, check_block_sanity};
use super::coins::{CachedCoins, CoinChange, CoinsCache, DEFAULT_CACHE_MIB};
use super::connect::{connect_block, disconnect_block};
use super::error::{ChainError, RuleError};
use super::header_rules::{check_header_context, check_header_sanity};
use super::index::BlockIndex;
use super::orphans::OrphanBlocks;
use super::records::{IndexEntry, Status};
use super::script_check::ScriptChecks;
use super::store::{ChainStore, WriteBatch, WriteOp};
use super::tx_index::TxLoc;
use super::unflushed_view::UnflushedView;
use crate::params::Params;
use crate::primitives::{Block, BlockHash, BlockHeader, Encodable, OutPoint, Txid, Work};
use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet};

mod flush;
mod indexing;
mod manual;
mod reading;
#[cfg(test)]
mod tests;

pub use manual::{BlockVerdict, VerdictError};
pub use reading::RecentBlocks;

/// Seconds between periodic flushes (Core writes its chain state about hourly).
pub const FLUSH_INTERVAL_SECS: u64 = 60 * 60;

/// How the chain uses memory and when it flushes.
#[derive(Clone, Debug)]
pub struct ChainOptions {
    /// The UTXO cache's budget in bytes (`--utxocachemaxsize`, in MiB on the command line).
    pub utxo_cache_bytes: usize,
    /// Seconds between periodic flushes.
    pub flush_interval_secs: u64,
    /// Who checks a block's scripts, and the signature cache shared with the mempool.
    pub scripts: ScriptChecks,
    /// Whose ancestors' scripts are not checked (`--assumevalid`).
    pub assume_valid: AssumeValid,
}

impl Default for ChainOptions {
    fn default() -> Self {
        ChainOptions {
            utxo_cache_bytes: DEFAULT_CACHE_MIB << 20,
            flush_interval_secs: FLUSH_INTERVAL_SECS,
            scripts: ScriptChecks::default(),
            assume_valid: AssumeValid::NetworkDefault,
        }
    }
}

/// Where a processed block ended up.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Placement {
    /// On the main chain (connected, possibly after a reorganization).
    MainChain,
    /// Stored on a side chain with no more work than the main chain.
    SideChain,
    /// Parent unknown: held as an orphan; `root` is the first block of its orphan chain, whose
    /// parent is what to ask peers for.
    Orphan {
        /// First orphan of the chain.
        root: BlockHash,
    },
    /// Already stored or held.
    AlreadyHave,
}

/// A change of the main chain, for the node to notify and update the mempool.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ChainEvent {
    /// The block became the tip.
    Connected {
        /// Block hash.
        hash: BlockHash,
        /// Its height.
        height: u32,
        /// How many transactions it holds.
        txs: usize,
        /// Its header time.
        time: u32,
    },
    /// The block stopped being the tip (its parent is the tip now).
    Disconnected {
        /// Block hash.
        hash: BlockHash,
        /// Its height.
        height: u32,
    },
}

/// Where a block stands among tips of equal work: blocks made precious first, the latest call
/// first (Core's negative `nSequenceId`s), then the others in arrival order.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Arrival {
    /// Made precious by the `n`th `preciousblock` call.
    Precious(Reverse<u64>),
    /// Its place in the index's arrival order.
    Seen(u64),
}

/// Whether the chain leaves its tip for another tip of equal work that ranks first in
/// [`Arrival`] order.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Ties<'a> {
    /// Only for a precious one: a block arriving never displaces a tip of equal work.
    KeepTip,
    /// Also for one of these blocks, just cleared by `reconsiderblock`: a tip displaced only
    /// by being invalid takes its place back, as Core's candidate set re-admits it ahead of
    /// the tip.
    Reconsidered(&'a BTreeSet<BlockHash>),
}

/// Candidate tips ordered so the last one has the most work, the first in [`Arrival`] order
/// among equals.
type CandidateKey = (Work, Reverse<Arrival>, BlockHash);

/// Chain state over a store.
pub struct Chain<S: ChainStore> {
    params: Params,
    options: ChainOptions,
    store: S,
    index: BlockIndex,
    orphans: OrphanBlocks,
    /// Blocks with data whose ancestors all have data and none is invalid, with at least the
    /// tip's work: the tips the chain may move to.
    candidates: BTreeSet<CandidateKey>,
    events: Vec<ChainEvent>,
    /// Whether connects and disconnects also update the transaction index.
    tx_index: bool,
    /// The UTXO set as of the tip, over the store's (as of the last flush).
    coins: CoinsCache,
    /// Index entries changed since the last flush.
    dirty: BTreeSet<BlockHash>,
    /// Transaction index changes since the last flush (`None`: removed), and its tip.
    tx_pending: BTreeMap<Txid, Option<TxLoc>>,
    tx_pending_tip: Option<BlockHash>,
    /// Blocks stored lately, kept parsed so connecting them reads nothing back.
    recent: RecentBlocks,
    /// Whether [`Chain::keep_read_view`] was called: each flush then starts `unflushed` anew.
    keep_unflushed: bool,
    /// The changes since the last flush, for readers beside the node; `None` when not kept,
    /// or past its bounds since the last flush.
    unflushed: Option<UnflushedView>,
    /// Blocks recorded in `unflushed` and flushes since it was first kept, so a publisher
    /// can tell a copy is new.
    unflushed_generation: u64,
    /// When the last flush happened (the `now` given then); `None` before the first.
    last_flush: Option<u64>,
    /// Blocks made precious, with the number of the `preciousblock` call that did it last.
    /// In memory only, as Core's sequence ids.
    precious: BTreeMap<BlockHash, u64>,
    /// `preciousblock` calls so far.
    precious_calls: u64,
}

impl<S: ChainStore> Chain<S> {
    /// Opens the chain in `store` with default options; see [`Chain::open_with`].
    pub fn open(params: Params, store: S) -> Result<Self, ChainError> {
        Self::open_with(params, store, ChainOptions::default())
    }

    /// Opens the chain in `store`, writing the genesis block into a fresh store, cutting the
    /// block files back to what the last flush committed, and moves to the best stored chain
    /// (blocks stored after the last flushed tip are connected again).
    pub fn open_with(
        params: Params,
        mut store: S,
        options: ChainOptions,
    ) -> Result<Self, ChainError> {
        let index = match store.tip()? {
            None => {
                store.truncate(Default::default())?;
                let g = &params.genesis;
                let data = store.append(FileKind::Blocks, &g.encode())?;
                let entry = IndexEntry {
                    data: Some(data),
                    ..IndexEntry::header_only(
                        params.genesis_hash,
                        g.header,
                        0,
                        g.header.work(),
                        Status::HEADER_VALID
                            .with(Status::DATA_STORED)
                            .with(Status::VALID),
                    )
                };
                let ends = store.sync()?;
                store.write(WriteBatch {
                    ops: vec![
                        WriteOp::PutIndex(entry),
                        WriteOp::PutTip(entry.hash),
                        WriteOp::PutFileEnds(ends),
                    ],
                })?;
                BlockIndex::new(entry)
            }
            Some(tip) => {
                let ends = store.file_ends()?.ok_or_else(|| {
                    ChainError::Inconsistent(
                        "the database records no block files (an older layout not upgraded)".into(),
                    )
                })?;
                store.truncate(ends)?;
                BlockIndex::load(store.index_entries()?, &tip).map_err(ChainError::Inconsistent)?
            }
        };
        if index.main_at(0) != Some(&params.genesis_hash) {
            return Err(ChainError::Inconsistent(format!(
                "the store's genesis is not {}'s; wrong data directory?",
                params.network
            )));
        }
        if let Some(hash) = options.assume_valid.block(&params) {
            log::info!("Assuming ancestors of block {hash} have valid signatures.");
        }
        let mut chain = Chain {
            params,
            coins: CoinsCache::new(options.utxo_cache_bytes),
            options,
            store,
            index,
            orphans: OrphanBlocks::default(),
            candidates: BTreeSet::new(),
            events: Vec::new(),
            tx_index: false,
            dirty: BTreeSet::new(),
            tx_pending: BTreeMap::new(),
            tx_pending_tip: None,
            recent: RecentBlocks::default(),
            keep_unflushed: false,
            unflushed: None,
            unflushed_generation: 0,
            last_flush: None,
            precious: BTreeMap::new(),
            precious_calls: 0,
        };
        chain.rebuild_candidates();
        chain.activate_best_chain(Ties::KeepTip)?;
        chain.events.clear();
        Ok(chain)
    }

    /// The network parameters.
    pub fn params(&self) -> &Params {
        &self.params
    }

    /// Flushes everything and gives the store back, e.g. to close it cleanly.
    pub fn into_store(mut self) -> Result<S, ChainError> {
        self.flush()?;
        Ok(self.store)
    }

    /// Gives the store back as it is: what was not flushed is lost, as in a crash.
    pub fn into_store_unflushed(self) -> S {
        self.store
    }

    /// The store (read-only: the chain alone writes to it). Its chain state is that of the
    /// last flush; read coins and blocks through the chain.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// The options the chain was opened with.
    pub fn options(&self) -> &ChainOptions {
        &self.options
    }

    /// The UTXO cache (its size and budget).
    pub fn coins_cache(&self) -> &CoinsCache {
        &self.coins
    }

    /// The block index.
    pub fn index(&self) -> &BlockIndex {
        &self.index
    }

    /// Keeps copies of the index ([`BlockIndex::keep_view`]) and of the changes since the
    /// last flush ([`Chain::unflushed_view`]) for readers beside the node. Flushes first, so
    /// those changes start from what the store holds.
    pub fn keep_read_view(&mut self) -> Result<(), ChainError> {
        self.index.keep_view();
        if !self.keep_unflushed {
            self.keep_unflushed = true;
            self.flush()?;
        }
        Ok(())
    }

    /// The changes since the last flush as they are now: a copy that never changes, taken in
    /// O(1); `None` unless [`Chain::keep_read_view`] was called, and while the changes since
    /// the last flush are past the copy's bounds.
    pub fn unflushed_view(&self) -> Option<UnflushedView> {
        self.unflushed.clone()
    }

    /// Counts the changes to [`Chain::unflushed_view`] (blocks recorded, flushes): a higher
    /// count means a newer copy.
    pub fn unflushed_generation(&self) -> u64 {
        self.unflushed_generation
    }

    /// Records one block's `changes` changes in the readers' copy with `record`, or stops
    /// keeping it until the next flush when they would take it past its bounds.
    fn record_unflushed(&mut self, changes: usize, record: impl FnOnce(&mut UnflushedView)) {
        let Some(view) = &mut self.unflushed else {
            return;
        };
        self.unflushed_generation += 1;
        if view.has_room(changes) {
            record(view);
        } else {
            self.unflushed = None;
        }
    }

    /// Applies a block's coin changes to the cache, and to the readers' copy.
    fn apply_coins(&mut self, changes: BTreeMap<OutPoint, CoinChange>) -> Result<(), ChainError> {
        self.record_unflushed(changes.len(), |view| {
            let coins = changes.iter().map(|(op, change)| {
                let coin = match change {
                    CoinChange::Add { coin, .. } => Some(coin.clone()),
                    CoinChange::Spend => None,
                };
                (*op, coin)
            });
            view.record_coins(coins.collect());
        });
        Ok(self.coins.apply(&self.store, changes)?)
    }

    /// The main chain's tip.
    pub fn tip(&self) -> &IndexEntry {
        self.index.tip()
    }

    /// Stores the address book blob (a one-op batch; the chain is the store's only writer).
    pub fn save_addr_book(&mut self, book: Vec<u8>) -> Result<(), ChainError> {
        self.store.write(WriteBatch {
            ops: vec![WriteOp::PutAddrBook(book)],
        })?;
        Ok(())
    }

    /// Stores the ban list blob (a one-op batch).
    pub fn save_bans(&mut self, bans: Vec<u8>) -> Result<(), ChainError> {
        self.store.write(WriteBatch {
            ops: vec![WriteOp::PutBans(bans)],
        })?;
        Ok(())
    }

    /// Number of orphan blocks held.
    pub fn orphan_count(&self) -> usize {
        self.orphans.len()
    }

    /// True when the block is stored, held as an orphan, or known invalid (no need to fetch).
    pub fn have_block(&self, hash: &BlockHash) -> bool {
        self.orphans.contains(hash)
            || self
                .index
                .get(hash)
                .is_some_and(|e| e.status.contains(Status::DATA_STORED) || e.status.is_invalid())
    }

    /// Main-chain changes since the last call, in order.
    pub fn drain_events(&mut self) -> Vec<ChainEvent> {
        std::mem::take(&mut self.events)
    }

    /// Validates and indexes headers (headers-first sync); they reach the store with the next
    /// flush. Headers already known are skipped. On a bad header, the ones before it are kept
    /// and the error returned.
    pub fn process_headers(&mut self, headers: &[BlockHeader], now: u64) -> Result<(), ChainError> {
        for h in headers {
            let hash = h.block_hash();
            if self.index.get(&hash).is_some() {
                continue;
            }
            let entry = self.accept_header(hash, h, now)?;
            self.put_entry(entry);
            if entry.status.is_invalid() {
                return Err(RuleError::InvalidAncestor(h.prev_blockhash).into());
            }
        }
        Ok(())
    }

    /// Indexes `entry` (new or changed) and marks it for the next flush.
    fn put_entry(&mut self, entry: IndexEntry) {
        self.index.insert(entry);
        self.dirty.insert(entry.hash);
    }

    /// Checks a new header against its parent and returns its index entry (not yet stored).
    /// A child of an invalid block gets an entry marked as such: remembering it lets its own
    /// descendants be refused at once instead of waiting as orphans.
    fn accept_header(
        &self,
        hash: BlockHash,
        header: &BlockHeader,
        now: u64,
    ) -> Result<IndexEntry, ChainError> {
        check_header_sanity(header, &hash, &self.params)?;
        let prev = header.prev_blockhash;
        let parent = self
            .index
            .get(&prev)
            .ok_or(RuleError::UnknownParent(prev))?;
        check_header_context(&self.index, parent, header, hash, now, &self.params)?;
        Ok(IndexEntry::header_only(
            hash,
            *header,
            parent.height + 1,
            parent.chain_work + header.work(),
            match parent.status.is_invalid() {
                true => Status::INVALID_ANCESTOR,
                false => Status::HEADER_VALID,
            },
        ))
    }

    /// Processes a block that arrived at the node's adjusted unix time `now`: checks it, stores
    /// it, moves to the chain with the most work, and connects orphans waiting for it.
    pub fn process_block(&mut self, block: Block, now: u64) -> Result<Placement, ChainError> {
        self.process_block_bytes(block, None, now)
    }

    /// [`Chain::process_block`] for a block that came off the wire as `raw` (its exact
    /// serialization): those bytes are what the block files keep.
    pub fn process_block_bytes(
        &mut self,
        block: Block,
        raw: Option<Vec<u8>>,
        now: u64,
    ) -> Result<Placement, ChainError> {
        let result = self.place_block(block, raw, now);
        self.maybe_flush(now)?;
        result
    }

    fn place_block(
        &mut self,
        block: Block,
        raw: Option<Vec<u8>>,
        now: u64,
    ) -> Result<Placement, ChainError> {
        let hash = block.block_hash();
        if let Some(e) = self.index.get(&hash) {
            if e.status.is_invalid() {
                return Err(RuleError::KnownInvalid(hash).into());
            }
            if e.status.contains(Status::DATA_STORED) {
                return Ok(Placement::AlreadyHave);
            }
        }
        if self.orphans.contains(&hash) {
            return Ok(Placement::AlreadyHave);
        }
        check_header_sanity(&block.header, &hash, &self.params)?;
        if let Err(e) = check_block_sanity(&block) {
            self.index.set_data_failed(&hash);
            return Err(e.into());
        }
        if self.index.get(&block.header.prev_blockhash).is_none() {
            self.orphans.add(hash, block, now);
            return Ok(Placement::Orphan {
                root: self.orphans.root(&hash),
            });
        }
        let result = self.accept_block(hash, block, raw, now);
        // Orphans waiting for this block (and for those) are accepted even when activation
        // failed, since they may build the better chain.
        let mut parents = vec![hash];
        while let Some(parent) = parents.pop() {
            for child in self.orphans.take_children(&parent) {
                let h = child.block_hash();
                match self.accept_block(h, child, None, now) {
                    Ok(()) => parents.push(h),
                    Err(ChainError::Rule(e)) => {
                        log::debug!("orphan {h} rejected: {e}");
                        // An indexed (invalid) block still settles its orphans: they become
                        // known-invalid too. Otherwise they can never connect.
                        match self.index.get(&h) {
                            Some(_) => parents.push(h),
                            None => self.drop_orphan_descendants(h),
                        }
                    }
                    Err(e) => return Err(e),
                }
            }
        }
        result?;
        Ok(match self.index.is_main(&hash) {
            true => Placement::MainChain,
            false => Placement::SideChain,
        })
    }

    /// Discards the orphans descending from a refused block: they can never connect.
    fn drop_orphan_descendants(&mut self, refused: BlockHash) {
        let mut stack = vec![refused];
        while let Some(h) = stack.pop() {
            stack.extend(self.orphans.take_children(&h).iter().map(Block::block_hash));
        }
    }

    /// Stores a block whose parent is in the index (appending `raw`, or its serialization, to
    /// the block files) and activates the best chain.
    fn accept_block(
        &mut self,
        hash: BlockHash,
        block: Block,
        raw: Option<Vec<u8>>,
        now: u64,
    ) -> Result<(), ChainError> {
        let entry = match self.index.get(&hash) {
            Some(e) => *e,
            None => self.accept_header(hash, &block.header, now)?,
        };
        if entry.status.is_invalid() {
            self.put_entry(entry);
            return Err(RuleError::InvalidAncestor(block.header.prev_blockhash).into());
        }
        let parent_mtp = self.index.median_time_past(&block.header.prev_blockhash);
        if let Err(e) = check_block_context(&block, entry.height, parent_mtp, &self.params) {
            // As Core: a failure a relayer could cause by altering the witness leaves the
            // header standing (a good copy may still come), but only stops it leading the header
            // chain; any other failure dooms every copy of the block, so the header is marked
            // invalid. Otherwise sync waits for good for a block nobody can give.
            self.put_entry(entry);
            match e.is_witness_mutation() {
                true => self.index.set_data_failed(&hash),
                false => self.mark_invalid(&hash)?,
            }
            return Err(e.into());
        }
        let raw = raw.unwrap_or_else(|| block.encode());
        let data = self.store.append(FileKind::Blocks, &raw)?;
        self.put_entry(IndexEntry {
            status: entry.status.with(Status::DATA_STORED),
            data: Some(data),
            ..entry
        });
        self.recent.insert(hash, block, raw.len());
        self.add_candidates_from(&hash);
        match self.activate_best_chain(Ties::KeepTip) {
            // Activation can fail on another block than this one: a descendant stored before
            // it (its data came first) or another branch's block. That is neither this block's
            // fault nor its sender's, so it is not this block's error (as Core blames only the
            // failing block's own source); the failing block is marked invalid either way.
            Err(ChainError::Rule(e))
                if !self.index.get(&hash).is_some_and(|x| x.status.is_invalid()) =>
            {
                log::info!(
                    "block {hash} is valid, but activating the best chain after it failed: {e}"
                );
                Ok(())
            }
            other => other,
        }
    }

    fn candidate_key(&self, e: &IndexEntry) -> CandidateKey {
        let arrival = match self.precious.get(&e.hash) {
            Some(&call) => Arrival::Precious(Reverse(call)),
            None => Arrival::Seen(self.index.seq(&e.hash)),
        };
        (e.chain_work, Reverse(arrival), e.hash)
    }

    /// Adds `hash` and its stored descendants as candidates once their whole path has data
    /// (the index keeps that per block, so nothing is walked back).
    fn add_candidates_from(&mut self, hash: &BlockHash) {
        let mut stack = vec![*hash];
        while let Some(h) = stack.pop() {
            if !self.index.is_linked(&h) {
                continue;
            }
            let e = *self.index.get(&h).expect("indexed");
            self.candidates.insert(self.candidate_key(&e));
            stack.extend(self.index.children(&h));
        }
    }

    /// Recomputes the candidate set from the whole index (at open and after an operator's
    /// verdict; a block failing validation only removes its own descendants).
    fn rebuild_candidates(&mut self) {
        let mut entries: Vec<IndexEntry> = self.index.entries().copied().collect();
        entries.sort_by_key(|e| e.height);
        let mut linked = BTreeSet::new();
        self.candidates.clear();
        for e in entries {
            let parent_linked = e.height == 0 || linked.contains(&e.header.prev_blockhash);
            let ok = e.status.contains(Status::DATA_STORED) && !e.status.is_invalid();
            if parent_linked && ok {
                linked.insert(e.hash);
                self.candidates.insert(self.candidate_key(&e));
            }
        }
    }

    /// Moves the main chain to the candidate with the most work, falling back past blocks that
    /// turn out invalid; returns the first rule error met on the way.
    fn activate_best_chain(&mut self, ties: Ties<'_>) -> Result<(), ChainError> {
        let mut first_error = None;
        loop {
            let tip = *self.index.tip();
            let Some(&best_key) = self.candidates.last() else {
                break;
            };
            let (work, Reverse(arrival), best) = best_key;
            // Among equal work the tip stays put (the first seen wins) unless an operator made
            // another tip precious since, or reconsidered one seen before it.
            let moves = work > tip.chain_work
                || (work == tip.chain_work
                    && (matches!(arrival, Arrival::Precious(_))
                        || matches!(ties, Ties::Reconsidered(cleared) if cleared.contains(&best)))
                    && best_key > self.candidate_key(&tip));
            if best == tip.hash || !moves {
                break;
            }
            match self.reorganize_to(&best) {
                Ok(()) => {}
                Err(ChainError::Rule(e)) => {
                    first_error.get_or_insert(e);
                }
                Err(e) => return Err(e),
            }
        }
        let tip_work = self.index.tip().chain_work;
        self.candidates = self.candidates.split_off(&(
            tip_work,
            Reverse(Arrival::Seen(u64::MAX)),
            BlockHash::ZERO,
        ));
        match first_error {
            Some(e) => Err(e.into()),
            None => Ok(()),
        }
    }

    /// Disconnects down to the fork with `target`'s chain and connects up to `target`. A block
    /// that fails is marked invalid (with its descendants) and its error returned.
    fn reorganize_to(&mut self, target: &BlockHash) -> Result<(), ChainError> {
        let fork = self
            .index
            .fork_point(target)
            .ok_or_else(|| ChainError::Inconsistent(format!("{target} does not reach genesis")))?
            .hash;
        while self.index.tip().hash != fork {
            self.disconnect_tip()?;
        }
        let mut path = Vec::new();
        let mut cur = *target;
        while cur != fork {
            path.push(cur);
            cur = self.index.get(&cur).expect("indexed").header.prev_blockhash;
        }
        for hash in path.into_iter().rev() {
            self.connect_tip(&hash)?;
        }
        Ok(())
    }

    fn connect_tip(&mut self, hash: &BlockHash) -> Result<(), ChainError> {
        let entry = *self.index.get(hash).expect("indexed");
        let block = self.stored_block(hash)?;
        let mut coins = CachedCoins {
            cache: &mut self.coins,
            store: &self.store,
        };
        let assumed = self.options.assume_valid.block(&self.params);
        let skip = skips_scripts(&self.index, &entry, assumed, &self.params);
        let scripts = (!skip).then_some(&self.options.scripts);
        match connect_block(
            &mut coins,
            &self.index,
            &block,
            &entry,
            &self.params,
            scripts,
        ) {
            Ok(connection) => {
                if self.coins.would_overflow(&connection.changes) {
                    // The cache holds the parent's state: flush that, then start afresh.
                    self.flush_state(true)?;
                }
                self.apply_coins(connection.changes)?;
                // Undo data is the same whenever the block is connected: written once.
                let undo = match entry.undo {
                    Some(pos) => pos,
                    None => self
                        .store
                        .append(FileKind::Undo, &connection.undo.encode())?,
                };
                self.put_entry(IndexEntry {
                    status: entry.status.with(Status::VALID),
                    undo: Some(undo),
                    ..entry
                });
                if self.tx_index {
                    self.index_block_txs(&block, *hash);
                }
                self.index.push_main(*hash);
                self.recent.connected(*hash);
                self.events.push(ChainEvent::Connected {
                    hash: *hash,
                    height: entry.height,
                    txs: block.txdata.len(),
                    time: block.header.time,
                });
                if self.coins.usage() > self.coins.budget() {
                    self.flush_state(true)?;
                }
                Ok(())
            }
            Err(ChainError::Rule(e)) => {
                log::info!("block {hash} at height {} is invalid: {e}", entry.height);
                self.mark_invalid(hash)?;
                Err(e.into())
            }
            Err(e) => Err(e),
        }
    }

    fn disconnect_tip(&mut self) -> Result<(), ChainError> {
        let tip = *self.index.tip();
        let block = self.stored_block(&tip.hash)?;
        let undo = self.undo(&tip.hash)?.ok_or_else(|| {
            ChainError::Inconsistent(format!(
                "undo data of main-chain block {} missing",
                tip.hash
            ))
        })?;
        let mut coins = CachedCoins {
            cache: &mut self.coins,
            store: &self.store,
        };
        let changes = disconnect_block(&mut coins, &block, tip.hash, undo)?;
        if self.coins.would_overflow(&changes) {
            self.flush_state(true)?;
        }
        self.apply_coins(changes)?;
        if self.tx_index {
            self.unindex_block_txs(&block);
        }
        self.index.pop_main();
        self.events.push(ChainEvent::Disconnected {
            hash: tip.hash,
            height: tip.height,
        });
        Ok(())
    }

    /// Marks `hash` invalid and every known descendant as having an invalid ancestor; none of
    /// them counts as validated any more, nor stays a candidate tip.
    fn mark_invalid(&mut self, hash: &BlockHash) -> Result<(), ChainError> {
        let mut stack = vec![(*hash, Status::INVALID)];
        while let Some((h, flag)) = stack.pop() {
            let old = *self.index.get(&h).expect("indexed");
            self.candidates.remove(&self.candidate_key(&old));
            let status = old.status.without(Status::VALID).with(flag);
            self.index.set_status(&h, status).expect("indexed");
            self.dirty.insert(h);
            stack.extend(
                self.index
                    .children(&h)
                    .map(|c| (c, Status::INVALID_ANCESTOR)),
            );
        }
        Ok(())
    }
}
