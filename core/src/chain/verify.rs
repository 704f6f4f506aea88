//! `verifychain`: checking the most recent main-chain blocks again, as btcd's `verifyChain`
//! does, with the deeper levels Bitcoin Core defines on top.

use super::block_rules::{check_block_context, check_block_sanity};
use super::connect::check_undo;
use super::error::ChainError;
use super::header_rules::check_header_sanity;
use super::state::Chain;
use super::store::ChainStore;
use crate::primitives::BlockHash;
use std::fmt;

/// How thoroughly each block is checked; every level includes the ones below.
pub mod level {
    /// The block data can be read.
    pub const READ: u32 = 0;
    /// Header and block sanity rules (proof of work, merkle root, sizes, coinbase).
    pub const SANITY: u32 = 1;
    /// Rules that need the block's place in the chain (finality, BIP34 height, witness
    /// commitment).
    pub const CONTEXT: u32 = 2;
    /// The undo data that disconnecting the block needs is present and matches its inputs.
    pub const UNDO: u32 = 3;
}

/// Why verification failed, and at which block.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct VerifyError {
    /// The block that failed.
    pub hash: BlockHash,
    /// Its height.
    pub height: u32,
    /// What was wrong.
    pub reason: ChainError,
}

impl fmt::Display for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "block {} at height {}: {}",
            self.hash, self.height, self.reason
        )
    }
}

impl std::error::Error for VerifyError {}

/// Checks the `depth` blocks below and including the tip (genesis excluded, as btcd) at
/// `check_level` (see [`level`]).
pub fn verify_chain<S: ChainStore>(
    chain: &Chain<S>,
    check_level: u32,
    depth: u32,
) -> Result<(), VerifyError> {
    let tip = chain.tip().height;
    let finish = tip.saturating_sub(depth);
    log::info!(
        "Verifying chain for {} blocks at level {check_level}",
        tip - finish
    );
    for height in (finish + 1..=tip).rev() {
        let hash = *chain
            .index()
            .main_at(height)
            .expect("height within the main chain");
        verify_block(chain, &hash, height, check_level).map_err(|reason| {
            log::error!(
                "Verify is unable to validate block at hash {hash} height {height}: {reason}"
            );
            VerifyError {
                hash,
                height,
                reason,
            }
        })?;
    }
    log::info!("Chain verify completed successfully");
    Ok(())
}

fn verify_block<S: ChainStore>(
    chain: &Chain<S>,
    hash: &BlockHash,
    height: u32,
    check_level: u32,
) -> Result<(), ChainError> {
    let missing = |what: &str| ChainError::Inconsistent(format!("{what} of {hash} missing"));
    let block = chain.block(hash)?.ok_or_else(|| missing("block data"))?;
    let params = chain.params();
    if check_level >= level::SANITY {
        check_header_sanity(&block.header, hash, params)?;
        check_block_sanity(&block)?;
    }
    if check_level >= level::CONTEXT {
        let parent_mtp = chain.index().median_time_past(&block.header.prev_blockhash);
        check_block_context(&block, height, parent_mtp, params)?;
    }
    if check_level >= level::UNDO {
        let undo = chain.undo(hash)?.ok_or_else(|| missing("undo data"))?;
        check_undo(&block, *hash, &undo)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
