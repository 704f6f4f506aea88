//! The node's side of the CPU miner (btcd's cpuminer control loop, without threads): whether
//! to generate, the template being mined, and the work handed to the miner threads through
//! [`Output::MineOn`]. Solutions come back as [`super::Input::BlockSolved`].
//!
//! Work is renewed when the tip moves (at once, so threads drop stale work within a slice of
//! nonces), when the mempool took transactions and the template is over a minute old, and
//! every [`TIME_UPDATE_SECS`] with a fresh timestamp, as btcd's miner does.
//!
//! Differs from btcd: the miner also works without peers and before the chain is current
//! (btcd waits for both), so a lone regtest node can mine; and a template whose time is ahead
//! of the clock (blocks found faster than the median time past advances) is held back until
//! the clock reaches it, so generated blocks are never refused as too far in the future.

mod rpc;

use super::{Node, Output, Time};
use crate::address::Address;
use crate::chain::{ChainStore, Placement};
use crate::mempool::estimate::FeeEstimator;
use crate::mining::{
    new_block_template, new_block_template_paying, BlockTemplate, REFRESH_AFTER_SECS,
    TIME_UPDATE_SECS,
};
use crate::primitives::BlockHeader;
use crate::rng::Rng;
use std::time::Duration;

/// Most miner threads, whatever `genproclimit` or `setgenerate` ask for: more than any machine
/// has cores, fewer than would exhaust the process's threads.
pub const MAX_MINER_THREADS: u32 = 256;

/// The miner's state in the node.
#[derive(Debug)]
pub(super) struct Mining {
    /// Mining is on (`--generate`, `setgenerate true`).
    generate: bool,
    /// Threads to mine with (btcd's `genproclimit`, kept while mining is off).
    threads: u32,
    /// What the miner threads last reported, hashes per second.
    hashes_per_sec: f64,
    /// The template being mined and the id of the work made from it.
    template: Option<BlockTemplate>,
    work_id: u64,
    /// When the current work was handed out; `None` while held back.
    issued_at: Option<Time>,
    /// Transactions the mempool took so far, and how many when the template was made.
    mempool_updates: u64,
    template_updates: u64,
    /// The getblocktemplate template (btcd's `gbtWorkState`), kept apart from the miner's.
    gbt: Option<Gbt>,
    /// Fee rates of mined mempool transactions, for `estimatefee`.
    pub(super) fees: FeeEstimator,
    /// Picks which mining address a block pays.
    rng: Rng,
}

/// The template getblocktemplate serves and when it was made.
#[derive(Debug)]
struct Gbt {
    template: BlockTemplate,
    /// Unix time it was made: with its parent, the long-poll id.
    generated_at: u64,
    /// The mempool's update count when it was made.
    updates: u64,
}

impl Mining {
    /// Mining state for a node started with `generate` and `threads`, choosing addresses
    /// with `rng`.
    pub(super) fn new(generate: bool, threads: u32, rng: Rng) -> Mining {
        Mining {
            generate: generate && threads > 0,
            threads: threads.min(MAX_MINER_THREADS),
            hashes_per_sec: 0.0,
            template: None,
            work_id: 0,
            issued_at: None,
            mempool_updates: 0,
            template_updates: 0,
            gbt: None,
            fees: FeeEstimator::default(),
            rng,
        }
    }

    /// One of `addrs`, chosen at random as btcd does.
    pub(super) fn pay_to<'a>(&mut self, addrs: &'a [Address]) -> Option<&'a Address> {
        crate::mining::choose_mining_address(addrs, &mut self.rng)
    }

    /// Notes that the mempool took a transaction.
    pub(super) fn mempool_updated(&mut self) {
        self.mempool_updates += 1;
    }

    /// When the miner next needs the node's attention.
    pub(super) fn deadline(&self) -> Option<Time> {
        let template = self.template.as_ref().filter(|_| self.generate)?;
        let refresh = (self.mempool_updates != self.template_updates)
            .then(|| Time::from_unix_secs(template.created + REFRESH_AFTER_SECS + 1));
        let next = match self.issued_at {
            Some(at) => at + Duration::from_secs(TIME_UPDATE_SECS),
            None => Time::from_unix_secs(u64::from(template.block.header.time)),
        };
        Some(refresh.map_or(next, |r| r.min(next)))
    }
}

impl<S: ChainStore> Node<S> {
    /// Turns the CPU miner on with `threads` threads (at most [`MAX_MINER_THREADS`]), or off
    /// (btcd's `setgenerate`). The caller checks that mining addresses exist.
    pub(super) fn set_generate(&mut self, generate: bool, threads: u32) {
        let threads = threads.min(MAX_MINER_THREADS);
        let was = self.mining.generate;
        let threads_changed = self.mining.threads != threads;
        self.mining.threads = threads;
        self.mining.generate = generate && threads > 0;
        if !self.mining.generate {
            self.mining.template = None;
            self.mining.issued_at = None;
            self.mining.hashes_per_sec = 0.0;
            if was {
                log::info!("CPU miner stopped");
                self.outputs.push_back(Output::MineOn(None));
            }
        } else if !was || threads_changed {
            if !was {
                log::info!("CPU miner started");
            }
            // New work carries the thread count; a fresh template is cheapest to reason about.
            self.mining.template = None;
        }
    }

    /// Whether the CPU miner is on (`getgenerate`).
    pub fn is_generating(&self) -> bool {
        self.mining.generate
    }

    /// Threads the miner uses when on (`genproclimit`).
    pub fn generate_threads(&self) -> u32 {
        self.mining.threads
    }

    /// The miner's hash rate as last reported, 0 while it is off (btcd).
    pub fn hashes_per_sec(&self) -> f64 {
        match self.mining.generate {
            true => self.mining.hashes_per_sec,
            false => 0.0,
        }
    }

    /// True when the chain is synced as far as anyone knows and its tip is recent (btcd's
    /// `IsCurrent`): no point mining on an old tip.
    pub fn is_current(&self) -> bool {
        let tip = self.chain.tip();
        self.chain.index().best_header().hash == tip.hash
            && u64::from(tip.header.time) + 24 * 3600 >= self.now.unix_secs()
    }

    /// The getblocktemplate template and when it was made (unix time), as btcd keeps it:
    /// rebuilt when the tip moved, or when the mempool changed and it is a minute old (btcd's
    /// `gbtRegenerateSeconds`); otherwise given the current time. Its coinbase pays to one of
    /// the mining addresses, or to `OP_TRUE` when there are none (coinbasevalue callers write
    /// their own coinbase).
    pub(crate) fn gbt_template(&mut self) -> (&BlockTemplate, u64) {
        let now = self.now.unix_secs();
        let tip = self.chain.tip().hash;
        let updates = self.mining.mempool_updates;
        let fresh = self.mining.gbt.as_ref().is_some_and(|g| {
            g.template.block.header.prev_blockhash == tip
                && (g.updates == updates || now < g.generated_at + REFRESH_AFTER_SECS)
        });
        if fresh {
            let g = self.mining.gbt.as_mut().expect("checked");
            g.template.update_time(&self.chain, now);
        } else {
            let script = self
                .mining_address()
                .map_or_else(|| vec![crate::script::opcodes::OP_1], |a| a.script_pubkey());
            let template = new_block_template_paying(
                &self.chain,
                self.mempool.entries(),
                script,
                self.config.block_max_weight,
                now,
            );
            self.mining.gbt = Some(Gbt {
                template,
                generated_at: now,
                updates,
            });
        }
        let g = self.mining.gbt.as_ref().expect("set above");
        (&g.template, g.generated_at)
    }

    /// Takes the miner threads' hash rate report.
    pub(super) fn on_hash_rate(&mut self, per_sec: f64) {
        self.mining.hashes_per_sec = per_sec;
    }

    /// Hands out new work when the template went stale or its time is due for an update.
    pub(super) fn update_mining(&mut self) {
        if !self.mining.generate || self.failed {
            return;
        }
        let now_secs = self.now.unix_secs();
        let tip = self.chain.tip().hash;
        let changed = self.mining.mempool_updates != self.mining.template_updates;
        let stale = self
            .mining
            .template
            .as_ref()
            .is_none_or(|t| t.needs_refresh(&tip, changed, now_secs));
        if stale {
            let Some(pay_to) = self.mining_address() else {
                log::error!("CPU miner stopped: no mining addresses (--miningaddr)");
                return self.set_generate(false, self.mining.threads);
            };
            let template = new_block_template(
                &self.chain,
                self.mempool.entries(),
                &pay_to,
                self.config.block_max_weight,
                now_secs,
            );
            self.mining.template = Some(template);
            self.mining.template_updates = self.mining.mempool_updates;
            self.mining.issued_at = None;
        } else if self
            .mining
            .issued_at
            .is_some_and(|at| self.now >= at + Duration::from_secs(TIME_UPDATE_SECS))
        {
            if let Some(t) = self.mining.template.as_mut() {
                t.update_time(&self.chain, now_secs);
            }
            self.mining.issued_at = None;
        }
        if self.mining.issued_at.is_none() {
            self.issue_work();
        }
    }

    /// Hands the template to the miner threads once the clock has reached its time.
    fn issue_work(&mut self) {
        let Some(template) = self.mining.template.as_ref() else {
            return;
        };
        if u64::from(template.block.header.time) > self.now.unix_secs() {
            return;
        }
        self.mining.work_id += 1;
        let first_extra_nonce = self.mining.rng.next_u64();
        match template.miner_work(self.mining.work_id, self.mining.threads, first_extra_nonce) {
            Ok(work) => {
                self.mining.issued_at = Some(self.now);
                self.outputs.push_back(Output::MineOn(Some(Box::new(work))));
            }
            Err(e) => {
                log::error!("CPU miner stopped: {e}");
                self.set_generate(false, self.mining.threads);
            }
        }
    }

    /// A miner thread solved work `work_id` with the coinbase's `extra_nonce` and `header`:
    /// submits the block unless the work is stale (btcd's `submitBlock`).
    pub(super) fn on_block_solved(&mut self, work_id: u64, extra_nonce: u64, header: BlockHeader) {
        let Some(template) = self.mining.template.as_ref() else {
            return log::debug!("Dropping a solution found while the miner is off");
        };
        if work_id != self.mining.work_id
            || template.block.header.prev_blockhash != self.chain.tip().hash
        {
            return log::debug!(
                "Block submitted via CPU miner with previous block {} is stale",
                header.prev_blockhash
            );
        }
        let mut template = template.clone();
        template.set_extra_nonce(extra_nonce);
        if template.block.header.merkle_root != header.merkle_root {
            return log::warn!("CPU miner solution for work {work_id} does not match its template");
        }
        let block = template.solved_block(header);
        let hash = block.block_hash();
        let amount: i64 = block.txdata[0].outputs.iter().map(|o| o.value).sum();
        // The next poll builds a template on the new tip.
        self.mining.template = None;
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
