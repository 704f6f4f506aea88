//! The chain state machine: accepts headers and blocks, keeps orphans, selects the chain with
//! the most work, and connects or disconnects blocks through the store, one batch per block.

use super::block_rules::{check_block_context, check_block_sanity};
use super::connect::{connect_block, disconnect_block};
use super::error::{ChainError, RuleError};
use super::header_rules::{check_header_context, check_header_sanity};
use super::index::BlockIndex;
use super::orphans::OrphanBlocks;
use super::records::{IndexEntry, Status};
use super::store::{ChainStore, WriteBatch, WriteOp};
use super::tx_index::{index_ops, unindex_ops};
use crate::params::Params;
use crate::primitives::{Block, BlockHash, BlockHeader, Work};
use std::cmp::Reverse;
use std::collections::BTreeSet;

mod indexing;
mod manual;

pub use manual::{BlockVerdict, VerdictError};

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

/// Candidate tips ordered so the last one has the most work, the earliest arrival among equals.
type CandidateKey = (Work, Reverse<u64>, BlockHash);

/// Chain state over a store.
pub struct Chain<S: ChainStore> {
    params: Params,
    store: S,
    index: BlockIndex,
    orphans: OrphanBlocks,
    /// Blocks with data whose ancestors all have data and none is invalid, with at least the
    /// tip's work: the tips the chain may move to.
    candidates: BTreeSet<CandidateKey>,
    events: Vec<ChainEvent>,
    /// Whether connects and disconnects also update the transaction index.
    tx_index: bool,
}

impl<S: ChainStore> Chain<S> {
    /// Opens the chain in `store`, writing the genesis block into a fresh store, and moves to
    /// the best stored chain (a crash may have stored blocks without connecting them).
    pub fn open(params: Params, mut store: S) -> Result<Self, ChainError> {
        let index = match store.tip()? {
            None => {
                let g = &params.genesis;
                let entry = IndexEntry {
                    hash: params.genesis_hash,
                    header: g.header,
                    height: 0,
                    chain_work: g.header.work(),
                    status: Status::HEADER_VALID
                        .with(Status::DATA_STORED)
                        .with(Status::VALID),
                };
                store.write(WriteBatch {
                    ops: vec![
                        WriteOp::PutIndex(entry),
                        WriteOp::PutBlock(entry.hash, g.clone()),
                        WriteOp::PutTip(entry.hash),
                    ],
                })?;
                BlockIndex::new(entry)
            }
            Some(tip) => {
                BlockIndex::load(store.index_entries()?, &tip).map_err(ChainError::Inconsistent)?
            }
        };
        if index.main_at(0) != Some(&params.genesis_hash) {
            return Err(ChainError::Inconsistent(format!(
                "the store's genesis is not {}'s; wrong data directory?",
                params.network
            )));
        }
        let mut chain = Chain {
            params,
            store,
            index,
            orphans: OrphanBlocks::default(),
            candidates: BTreeSet::new(),
            events: Vec::new(),
            tx_index: false,
        };
        chain.rebuild_candidates();
        chain.activate_best_chain()?;
        chain.events.clear();
        Ok(chain)
    }

    /// The network parameters.
    pub fn params(&self) -> &Params {
        &self.params
    }

    /// Gives the store back, e.g. to close it cleanly.
    pub fn into_store(self) -> S {
        self.store
    }

    /// The store (read-only: the chain alone writes to it).
    pub fn store(&self) -> &S {
        &self.store
    }

    /// The block index.
    pub fn index(&self) -> &BlockIndex {
        &self.index
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

    /// Validates and stores headers (headers-first sync), in one batch. Headers already known
    /// are skipped. On a bad header, the ones before it are kept and the error returned.
    pub fn process_headers(&mut self, headers: &[BlockHeader], now: u64) -> Result<(), ChainError> {
        let mut batch = WriteBatch::new();
        let mut result = Ok(());
        for h in headers {
            let hash = h.block_hash();
            if self.index.get(&hash).is_some() {
                continue;
            }
            match self.accept_header(hash, h, now) {
                Ok(entry) => {
                    self.index.insert(entry);
                    batch.push(WriteOp::PutIndex(entry));
                    if entry.status.is_invalid() {
                        result = Err(RuleError::InvalidAncestor(h.prev_blockhash).into());
                        break;
                    }
                }
                Err(e) => {
                    result = Err(e);
                    break;
                }
            }
        }
        if !batch.is_empty() {
            self.store.write(batch)?;
        }
        result
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
        Ok(IndexEntry {
            hash,
            header: *header,
            height: parent.height + 1,
            chain_work: parent.chain_work + header.work(),
            status: match parent.status.is_invalid() {
                true => Status::INVALID_ANCESTOR,
                false => Status::HEADER_VALID,
            },
        })
    }

    /// Processes a block that arrived at the node's adjusted unix time `now`: checks it, stores
    /// it, moves to the chain with the most work, and connects orphans waiting for it.
    pub fn process_block(&mut self, block: Block, now: u64) -> Result<Placement, ChainError> {
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
        let result = self.accept_block(hash, block, now);
        // Orphans waiting for this block (and for those) are accepted even when activation
        // failed, since they may build the better chain.
        let mut parents = vec![hash];
        while let Some(parent) = parents.pop() {
            for child in self.orphans.take_children(&parent) {
                let h = child.block_hash();
                match self.accept_block(h, child, now) {
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

    /// Stores a block whose parent is in the index and activates the best chain.
    fn accept_block(&mut self, hash: BlockHash, block: Block, now: u64) -> Result<(), ChainError> {
        let entry = match self.index.get(&hash) {
            Some(e) => *e,
            None => self.accept_header(hash, &block.header, now)?,
        };
        if entry.status.is_invalid() {
            self.store.write(WriteBatch {
                ops: vec![WriteOp::PutIndex(entry)],
            })?;
            self.index.insert(entry);
            return Err(RuleError::InvalidAncestor(block.header.prev_blockhash).into());
        }
        let parent_mtp = self.index.median_time_past(&block.header.prev_blockhash);
        check_block_context(&block, entry.height, parent_mtp, &self.params)?;
        let entry = IndexEntry {
            status: entry.status.with(Status::DATA_STORED),
            ..entry
        };
        self.store.write(WriteBatch {
            ops: vec![WriteOp::PutIndex(entry), WriteOp::PutBlock(hash, block)],
        })?;
        self.index.insert(entry);
        self.add_candidates_from(&hash);
        self.activate_best_chain()
    }

    fn candidate_key(&self, e: &IndexEntry) -> CandidateKey {
        (e.chain_work, Reverse(self.index.seq(&e.hash)), e.hash)
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
            stack.extend_from_slice(self.index.children(&h));
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
    fn activate_best_chain(&mut self) -> Result<(), ChainError> {
        let mut first_error = None;
        loop {
            let tip = *self.index.tip();
            let Some(&(work, _, best)) = self.candidates.last() else {
                break;
            };
            if best == tip.hash || work <= tip.chain_work {
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
        self.candidates =
            self.candidates
                .split_off(&(tip_work, Reverse(u64::MAX), BlockHash::ZERO));
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
        match connect_block(&self.store, &self.index, &block, &entry, &self.params) {
            Ok(mut batch) => {
                if self.tx_index {
                    batch.ops.extend(index_ops(&block, *hash));
                }
                self.store.write(batch)?;
                self.index
                    .set_status(hash, entry.status.with(Status::VALID));
                self.index.push_main(*hash);
                self.events.push(ChainEvent::Connected {
                    hash: *hash,
                    height: entry.height,
                    txs: block.txdata.len(),
                    time: block.header.time,
                });
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
        let missing = |what: &str| {
            ChainError::Inconsistent(format!("{what} of main-chain block {} missing", tip.hash))
        };
        let block = self
            .store
            .block(&tip.hash)?
            .ok_or_else(|| missing("block data"))?;
        let undo = self
            .store
            .undo(&tip.hash)?
            .ok_or_else(|| missing("undo data"))?;
        let mut batch = disconnect_block(&block, tip.hash, undo)?;
        if self.tx_index {
            batch.ops.extend(unindex_ops(&block));
        }
        self.store.write(batch)?;
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
        let mut batch = WriteBatch::new();
        let mut stack = vec![(*hash, Status::INVALID)];
        while let Some((h, flag)) = stack.pop() {
            let old = *self.index.get(&h).expect("indexed");
            self.candidates.remove(&self.candidate_key(&old));
            let status = old.status.without(Status::VALID).with(flag);
            let e = self.index.set_status(&h, status).expect("indexed");
            batch.push(WriteOp::PutIndex(e));
            stack.extend(
                self.index
                    .children(&h)
                    .iter()
                    .map(|c| (*c, Status::INVALID_ANCESTOR)),
            );
        }
        self.store.write(batch)?;
        Ok(())
    }
}
