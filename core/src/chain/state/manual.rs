//! Operator verdicts on blocks (btcd's `InvalidateBlock` and `ReconsiderBlock`, Core's
//! `PreciousBlock`): marking a block and its descendants invalid, or clearing that, or
//! preferring it among tips of equal work, and moving to the best chain left.

use super::{Chain, Ties};
use crate::chain::error::ChainError;
use crate::chain::records::Status;
use crate::chain::store::ChainStore;
use crate::primitives::BlockHash;
use std::collections::BTreeSet;
use std::fmt;

/// An operator's verdict on a block.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum BlockVerdict {
    /// `invalidateblock`: treat it and its descendants as invalid.
    Invalid,
    /// `reconsiderblock`: validate it (and its descendants) again.
    Reconsider,
    /// `preciousblock`: treat it as if it arrived before every other tip of equal work.
    Precious,
}

/// Why a block could not be invalidated or reconsidered.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum VerdictError {
    /// The block is not in the index; check the hash.
    NotFound {
        /// The requested block.
        hash: BlockHash,
        /// The verdict asked for (each command words the refusal its own way).
        verdict: BlockVerdict,
    },
    /// Genesis cannot be invalidated.
    Genesis(BlockHash),
    /// The chain failed (store error or inconsistency); the node must stop.
    Chain(ChainError),
}

impl fmt::Display for VerdictError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VerdictError::NotFound {
                hash,
                verdict: BlockVerdict::Invalid,
            } => write!(
                f,
                "Requested block hash of {hash} is not found and thus cannot be invalidated."
            ),
            VerdictError::NotFound {
                hash,
                verdict: BlockVerdict::Reconsider,
            } => write!(
                f,
                "requested block hash of {hash} is not found and thus cannot be reconsidered"
            ),
            VerdictError::NotFound {
                verdict: BlockVerdict::Precious,
                ..
            } => f.write_str("Block not found"),
            VerdictError::Genesis(hash) => write!(
                f,
                "Requested block hash of {hash} is a at height 0 and is thus a genesis block and \
                 cannot be invalidated."
            ),
            VerdictError::Chain(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for VerdictError {}

impl From<ChainError> for VerdictError {
    fn from(e: ChainError) -> Self {
        VerdictError::Chain(e)
    }
}

impl<S: ChainStore> Chain<S> {
    /// Marks `hash` invalid and its descendants as having an invalid ancestor. A main-chain
    /// block is disconnected first (with everything above it), then the chain moves to the
    /// valid chain with the most work, which may be a side branch. Invalidating a block already
    /// known invalid changes nothing.
    pub fn invalidate_block(&mut self, hash: &BlockHash) -> Result<(), VerdictError> {
        let entry = *self.index.get(hash).ok_or(VerdictError::NotFound {
            hash: *hash,
            verdict: BlockVerdict::Invalid,
        })?;
        if entry.height == 0 {
            return Err(VerdictError::Genesis(*hash));
        }
        if entry.status.is_invalid() {
            return Ok(());
        }
        log::info!("Invalidating block {hash} at height {}", entry.height);
        // Disconnecting before marking keeps the store consistent at every commit: a crash in
        // between reopens on the old best chain, as if the command had not been given.
        if self.index.is_main(hash) {
            while self.index.tip().hash != entry.header.prev_blockhash {
                self.disconnect_tip()?;
            }
        }
        self.mark_invalid(hash)?;
        // The tip may have moved back: blocks passed over for having less work than it count
        // again.
        self.rebuild_candidates();
        self.activate_ignoring_bad_branches(Ties::KeepTip)?;
        // An operator's command is done once it is durable.
        self.flush().map_err(VerdictError::from)
    }

    /// Clears the invalid marks of `hash` and of its descendants whose only fault was an
    /// invalid ancestor, then moves to the best valid chain. Blocks are validated again when
    /// connected, so a block that really breaks a rule is marked invalid again (and, as btcd,
    /// that is not an error of this call). A block that is not invalid changes nothing. As in
    /// Core, a reconsidered tip of the same work as the current one, seen before it, becomes
    /// the tip again.
    pub fn reconsider_block(&mut self, hash: &BlockHash) -> Result<(), VerdictError> {
        let entry = *self.index.get(hash).ok_or(VerdictError::NotFound {
            hash: *hash,
            verdict: BlockVerdict::Reconsider,
        })?;
        log::info!("Reconsidering block {hash}");
        if !entry.status.is_invalid() {
            log::info!("Block {hash} is valid, nothing to reconsider");
            return Ok(());
        }
        let mut stack = vec![*hash];
        let mut cleared = BTreeSet::new();
        // Parents are settled before their children, so each child's ancestor flag follows
        // its parent's final state (a descendant that failed by itself keeps its own mark).
        while let Some(h) = stack.pop() {
            let e = *self.index.get(&h).expect("indexed");
            let parent_invalid = self
                .index
                .get(&e.header.prev_blockhash)
                .is_some_and(|p| p.status.is_invalid());
            let mut status = e.status.without(Status::INVALID_ANCESTOR);
            if h == *hash {
                status = status.without(Status::INVALID);
            }
            if parent_invalid {
                status = status.with(Status::INVALID_ANCESTOR);
            }
            if status != e.status {
                self.index.set_status(&h, status).expect("indexed");
                self.dirty.insert(h);
                cleared.insert(h);
            }
            stack.extend(self.index.children(&h));
        }
        self.rebuild_candidates();
        self.activate_ignoring_bad_branches(Ties::Reconsidered(&cleared))?;
        self.flush().map_err(VerdictError::from)
    }

    /// Treats `hash` as if it had arrived before every other block of its work, as Core's
    /// `preciousblock`: when it ties with the tip, the chain moves to it. A later call on
    /// another block of the same work moves back. A block with less work than the tip could
    /// not win a tie, so it changes nothing (as Core). The preference lives in memory only.
    pub fn precious_block(&mut self, hash: &BlockHash) -> Result<(), VerdictError> {
        let entry = *self.index.get(hash).ok_or(VerdictError::NotFound {
            hash: *hash,
            verdict: BlockVerdict::Precious,
        })?;
        if entry.chain_work < self.tip().chain_work {
            return Ok(());
        }
        // The candidate set is ordered by the preference, so a candidate is re-keyed.
        let was_candidate = self.candidates.remove(&self.candidate_key(&entry));
        self.precious_calls += 1;
        self.precious.insert(*hash, self.precious_calls);
        if was_candidate {
            self.candidates.insert(self.candidate_key(&entry));
        }
        log::info!("Preferring block {hash} among tips of equal work");
        self.activate_ignoring_bad_branches(Ties::KeepTip)
    }

    /// Moves to the best chain; blocks found invalid on the way are marked and logged by the
    /// activation, which is all an operator command needs.
    fn activate_ignoring_bad_branches(&mut self, ties: Ties<'_>) -> Result<(), VerdictError> {
        match self.activate_best_chain(ties) {
            Ok(()) | Err(ChainError::Rule(_)) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}

#[cfg(test)]
mod tests;
