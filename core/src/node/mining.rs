//! The node's side of the CPU miner (btcd's cpuminer control loop, without threads): whether
//! to generate, the template being mined, and the work handed to the miner threads through
//! [`Output::MineOn`]. Solutions come back as [`super::Input::BlockSolved`].
//!
//! Work is renewed when the tip moves (at once, so threads drop stale work within a slice of
//! nonces), when the mempool took transactions and the template is over a minute old, and
//! every [`crate::mining::TIME_UPDATE_SECS`] with a fresh timestamp, as btcd's miner does.
//!
//! Differs from btcd: the miner also works without peers and before the chain is current
//! (btcd waits for both), so a lone regtest node can mine; and a template whose time is ahead
//! of the clock (blocks found faster than the median time past advances) is held back until
//! the clock reaches it, so generated blocks are never refused as too far in the future.

mod manager;
mod rpc;

pub(super) use manager::Mining;
#[cfg(test)]
use manager::MAX_MINER_THREADS;
use manager::{Switch, Unusable};

use super::{Node, Output};
use crate::chain::{ChainStore, Placement};
use crate::mining::BlockTemplate;
use crate::primitives::BlockHeader;

impl<S: ChainStore> Node<S> {
    /// Turns the CPU miner on with `threads` threads (at most
    /// [`manager::MAX_MINER_THREADS`]), or off (btcd's `setgenerate`). The caller checks that
    /// mining addresses exist.
    pub(super) fn set_generate(&mut self, generate: bool, threads: u32) {
        match self.mining.switch(generate, threads) {
            Switch::Started => log::info!("CPU miner started"),
            Switch::Stopped => {
                log::info!("CPU miner stopped");
                self.outputs.push_back(Output::MineOn(None));
            }
            Switch::Kept => {}
        }
    }

    /// Whether the CPU miner is on (`getgenerate`).
    pub fn is_generating(&self) -> bool {
        self.mining.is_on()
    }

    /// Threads the miner uses when on (`genproclimit`).
    pub fn generate_threads(&self) -> u32 {
        self.mining.threads()
    }

    /// The miner's hash rate as last reported, 0 while it is off (btcd).
    pub fn hashes_per_sec(&self) -> f64 {
        self.mining.hashes_per_sec()
    }

    /// True when the chain is synced as far as anyone knows and its tip is recent (btcd's
    /// `IsCurrent`): no point mining on an old tip.
    pub fn is_current(&self) -> bool {
        let tip = self.chain.tip();
        self.chain.index().best_header().hash == tip.hash
            && u64::from(tip.header.time) + 24 * 3600 >= self.now.unix_secs()
    }

    /// The getblocktemplate template and when it was made (unix time); see
    /// [`Mining::gbt_template`].
    pub(crate) fn gbt_template(&mut self) -> (&BlockTemplate, u64) {
        self.mining.gbt_template(
            &self.chain,
            &self.mempool,
            &self.config.mining_addrs,
            self.config.block_max_weight,
            self.now.unix_secs(),
        )
    }

    /// Takes the miner threads' hash rate report.
    pub(super) fn on_hash_rate(&mut self, per_sec: f64) {
        self.mining.hash_rate_reported(per_sec);
    }

    /// Hands out new work when the template went stale or its time is due for an update.
    pub(super) fn update_mining(&mut self) {
        if self.failure.is_some() {
            return;
        }
        match self.mining.work_due(
            &self.chain,
            &self.mempool,
            &self.config.mining_addrs,
            self.config.block_max_weight,
            self.now,
        ) {
            Ok(None) => {}
            Ok(Some(work)) => self.outputs.push_back(Output::MineOn(Some(Box::new(work)))),
            Err(e) => {
                log::error!("CPU miner stopped: {e}");
                self.set_generate(false, self.mining.threads());
            }
        }
    }

    /// A miner thread solved work `work_id` with the coinbase's `extra_nonce` and `header`:
    /// submits the block unless the work is stale (btcd's `submitBlock`).
    pub(super) fn on_block_solved(&mut self, work_id: u64, extra_nonce: u64, header: BlockHeader) {
        let tip = self.chain.tip().hash;
        let block = match self.mining.solved_block(work_id, extra_nonce, header, &tip) {
            Ok(block) => block,
            Err(Unusable::Off) => {
                return log::debug!("Dropping a solution found while the miner is off")
            }
            Err(Unusable::Stale) => {
                return log::debug!(
                    "Block submitted via CPU miner with previous block {} is stale",
                    header.prev_blockhash
                )
            }
            Err(Unusable::Mismatch) => {
                return log::warn!(
                    "CPU miner solution for work {work_id} does not match its template"
                )
            }
        };
        let hash = block.block_hash();
        let amount: i64 = block.txdata[0].outputs.iter().map(|o| o.value).sum();
        match self.on_block(None, block) {
            Ok(Placement::MainChain) => log::info!(
                "Block submitted via CPU miner accepted (hash {hash}, amount {})",
                crate::primitives::amount::format_btc(amount)
            ),
            Ok(placement) => log::debug!("Block submitted via CPU miner is {placement:?}"),
            Err(e) => log::debug!("Block submitted via CPU miner rejected: {e}"),
        }
    }
}

#[cfg(test)]
mod tests;
