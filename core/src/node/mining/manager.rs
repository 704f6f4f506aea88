//! The miner's state: whether to generate, the template being mined and the work made from
//! it, and getblocktemplate's own template. The node asks it for what it means (switch on or
//! off, work due, a solution's block); only this module touches the fields.

use crate::address::Address;
use crate::chain::{Chain, ChainStore};
use crate::mempool::Mempool;
use crate::mining::{
    choose_mining_address, new_block_template, new_block_template_paying, BlockTemplate,
    InvalidTarget, MinerWork, REFRESH_AFTER_SECS, TIME_UPDATE_SECS,
};
use crate::primitives::{Block, BlockHash, BlockHeader};
use crate::rng::Rng;
use crate::time::Time;
use std::fmt;
use std::time::Duration;

/// Most miner threads, whatever `genproclimit` or `setgenerate` ask for: more than any machine
/// has cores, fewer than would exhaust the process's threads.
pub const MAX_MINER_THREADS: u32 = 256;

/// The miner's state in the node.
#[derive(Debug)]
pub(in crate::node) struct Mining {
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
    /// Picks which mining address a block pays, and each work's first extra nonce.
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

/// What turning the miner on or off changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(in crate::node) enum Switch {
    /// It was off and is now on.
    Started,
    /// It was on and is now off: the miner threads must stop.
    Stopped,
    /// It stays as it was (perhaps with another thread count).
    Kept,
}

/// Why the miner cannot go on: it turns itself off.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(in crate::node) enum MinerStop {
    /// No `--miningaddr` to pay the block to.
    NoAddresses,
    /// The template's bits give no target to mine for.
    Target(InvalidTarget),
}

impl fmt::Display for MinerStop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MinerStop::NoAddresses => write!(f, "no mining addresses (--miningaddr)"),
            MinerStop::Target(e) => e.fmt(f),
        }
    }
}

/// Why a miner thread's solution makes no block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(in crate::node) enum Unusable {
    /// The miner was turned off after handing the work out.
    Off,
    /// Newer work was handed out, or the tip moved.
    Stale,
    /// The header does not commit to the template's transactions.
    Mismatch,
}

impl Mining {
    /// Mining state for a node started with `generate` and `threads`, choosing addresses
    /// with `rng`.
    pub(in crate::node) fn new(generate: bool, threads: u32, rng: Rng) -> Mining {
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
            rng,
        }
    }

    /// One of `addrs`, chosen at random as btcd does.
    pub(in crate::node) fn pay_to<'a>(&mut self, addrs: &'a [Address]) -> Option<&'a Address> {
        choose_mining_address(addrs, &mut self.rng)
    }

    /// Notes that the mempool took a transaction.
    pub(in crate::node) fn mempool_updated(&mut self) {
        self.mempool_updates += 1;
    }

    /// True when the mempool took transactions since the miner's template was made.
    pub(in crate::node) fn mempool_changed(&self) -> bool {
        self.mempool_updates != self.template_updates
    }

    /// Whether mining is on.
    pub(in crate::node) fn is_on(&self) -> bool {
        self.generate
    }

    /// Threads the miner uses when on.
    pub(in crate::node) fn threads(&self) -> u32 {
        self.threads
    }

    /// The hash rate the threads last reported, 0 while off.
    pub(in crate::node) fn hashes_per_sec(&self) -> f64 {
        match self.generate {
            true => self.hashes_per_sec,
            false => 0.0,
        }
    }

    /// Takes the miner threads' hash rate report.
    pub(in crate::node) fn hash_rate_reported(&mut self, per_sec: f64) {
        self.hashes_per_sec = per_sec;
    }

    /// The template being mined, if any.
    #[cfg(test)]
    pub(in crate::node) fn template(&self) -> Option<&BlockTemplate> {
        self.template.as_ref()
    }

    /// Turns mining on with `threads` threads (at most [`MAX_MINER_THREADS`]), or off.
    pub(in crate::node) fn switch(&mut self, generate: bool, threads: u32) -> Switch {
        let threads = threads.min(MAX_MINER_THREADS);
        let was = self.generate;
        let threads_changed = self.threads != threads;
        self.threads = threads;
        self.generate = generate && threads > 0;
        if !self.generate {
            self.template = None;
            self.issued_at = None;
            self.hashes_per_sec = 0.0;
            return if was { Switch::Stopped } else { Switch::Kept };
        }
        if !was || threads_changed {
            // New work carries the thread count; a fresh template is cheapest to reason about.
            self.template = None;
        }
        if was {
            Switch::Kept
        } else {
            Switch::Started
        }
    }

    /// When the miner next needs the node's attention.
    pub(in crate::node) fn deadline(&self) -> Option<Time> {
        let template = self.template.as_ref().filter(|_| self.generate)?;
        let refresh = self
            .mempool_changed()
            .then(|| Time::from_unix_secs(template.created + REFRESH_AFTER_SECS + 1));
        let next = match self.issued_at {
            Some(at) => at + Duration::from_secs(TIME_UPDATE_SECS),
            None => Time::from_unix_secs(u64::from(template.block.header.time)),
        };
        Some(refresh.map_or(next, |r| r.min(next)))
    }

    /// The getblocktemplate template and when it was made (unix time), as btcd keeps it:
    /// rebuilt when `chain`'s tip moved, or when the mempool changed and it is a minute old
    /// (btcd's `gbtRegenerateSeconds`); otherwise given the time `now`. Its coinbase pays to
    /// one of `addrs`, or to `OP_TRUE` when there are none (coinbasevalue callers write their
    /// own coinbase).
    pub(in crate::node) fn gbt_template<S: ChainStore>(
        &mut self,
        chain: &Chain<S>,
        mempool: &Mempool,
        addrs: &[Address],
        max_weight: usize,
        now: u64,
    ) -> (&BlockTemplate, u64) {
        let tip = chain.tip().hash;
        let updates = self.mempool_updates;
        let fresh = self.gbt.as_ref().is_some_and(|g| {
            g.template.block.header.prev_blockhash == tip
                && (g.updates == updates || now < g.generated_at + REFRESH_AFTER_SECS)
        });
        if fresh {
            let g = self.gbt.as_mut().expect("checked");
            g.template.update_time(chain, now);
        } else {
            let script = self
                .pay_to(addrs)
                .map_or_else(|| vec![crate::script::opcodes::OP_1], |a| a.script_pubkey());
            let template =
                new_block_template_paying(chain, mempool.entries(), script, max_weight, now);
            self.gbt = Some(Gbt {
                template,
                generated_at: now,
                updates,
            });
        }
        let g = self.gbt.as_ref().expect("set above");
        (&g.template, g.generated_at)
    }

    /// New work for the miner threads when mining is on and the template went stale, its
    /// time is due for an update, or it waited for the clock (at `now`) to reach its time.
    /// Templates pay to one of `addrs` and hold `mempool`'s transactions up to `max_weight`.
    pub(in crate::node) fn work_due<S: ChainStore>(
        &mut self,
        chain: &Chain<S>,
        mempool: &Mempool,
        addrs: &[Address],
        max_weight: usize,
        now: Time,
    ) -> Result<Option<MinerWork>, MinerStop> {
        if !self.generate {
            return Ok(None);
        }
        let now_secs = now.unix_secs();
        let tip = chain.tip().hash;
        let changed = self.mempool_changed();
        let stale = self
            .template
            .as_ref()
            .is_none_or(|t| t.needs_refresh(&tip, changed, now_secs));
        if stale {
            let pay_to = self.pay_to(addrs).ok_or(MinerStop::NoAddresses)?;
            let template =
                new_block_template(chain, mempool.entries(), pay_to, max_weight, now_secs);
            self.template = Some(template);
            self.template_updates = self.mempool_updates;
            self.issued_at = None;
        } else if self
            .issued_at
            .is_some_and(|at| now >= at + Duration::from_secs(TIME_UPDATE_SECS))
        {
            if let Some(t) = self.template.as_mut() {
                t.update_time(chain, now_secs);
            }
            self.issued_at = None;
        }
        match self.issued_at {
            None => self.issue_work(now),
            Some(_) => Ok(None),
        }
    }

    /// Work from the template once the clock (`now`) has reached its time.
    fn issue_work(&mut self, now: Time) -> Result<Option<MinerWork>, MinerStop> {
        let Some(template) = self.template.as_ref() else {
            return Ok(None);
        };
        if u64::from(template.block.header.time) > now.unix_secs() {
            return Ok(None);
        }
        self.work_id += 1;
        let first_extra_nonce = self.rng.next_u64();
        let work = template
            .miner_work(self.work_id, self.threads, first_extra_nonce)
            .map_err(MinerStop::Target)?;
        self.issued_at = Some(now);
        Ok(Some(work))
    }

    /// The block a miner thread's solution to work `work_id` makes, with the coinbase's
    /// `extra_nonce` and `header`, when it still builds on `tip`. The next work is then built
    /// on the new tip.
    pub(in crate::node) fn solved_block(
        &mut self,
        work_id: u64,
        extra_nonce: u64,
        header: BlockHeader,
        tip: &BlockHash,
    ) -> Result<Block, Unusable> {
        let template = self.template.as_ref().ok_or(Unusable::Off)?;
        if work_id != self.work_id || template.block.header.prev_blockhash != *tip {
            return Err(Unusable::Stale);
        }
        let mut template = template.clone();
        template.set_extra_nonce(extra_nonce);
        if template.block.header.merkle_root != header.merkle_root {
            return Err(Unusable::Mismatch);
        }
        self.template = None;
        Ok(template.solved_block(header))
    }
}
