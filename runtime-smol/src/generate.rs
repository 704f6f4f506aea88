//! `--generate`: btcd's CPU miner loop. Templates are built on the node's tip and mempool (on
//! the node task, through [`Event::Call`]), handed to the miner threads as jobs, and each
//! solution is submitted to the node as a block, which relays it to peers, and followed by a
//! template on the new tip.

use crate::config::Config;
use crate::miner::Solved;
use crate::p2p::{unix_ms, Event};
use async_channel::{Receiver, Sender};
use futures::future::{select, Either};
use rbtcd_core::address::Address;
use rbtcd_core::chain::ChainStore;
use rbtcd_core::mining::{choose_mining_address, new_block_template, BlockTemplate, MiningJob};
use rbtcd_core::node::{Input, Node};
use rbtcd_core::params::Params;
use rbtcd_core::primitives::{Block, BlockHash};
use rbtcd_core::rng::Rng;
use std::pin::pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How often the loop checks whether the template went stale (a tip from elsewhere).
const REFRESH_CHECK: Duration = Duration::from_secs(5);

/// The miner's state between solutions: where rewards go and the template being mined.
#[derive(Debug)]
pub struct Generator {
    addrs: Vec<Address>,
    max_weight: usize,
    rng: Rng,
    template: Option<BlockTemplate>,
    job_id: u64,
}

/// A block the miner found and the node made its tip.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Accepted {
    /// Its hash.
    pub hash: BlockHash,
    /// What its coinbase pays (subsidy and fees), in satoshis.
    pub amount: i64,
}

/// The generator `cfg` asks for; see [`mining_addresses`] for the refusals.
pub fn from_config(cfg: &Config, seed: u64) -> Result<Generator, String> {
    let addrs = mining_addresses(&cfg.mining_addrs, &Params::new(cfg.network))?;
    Ok(Generator::new(addrs, cfg.block_max_weight as usize, seed))
}

/// Checks that `params`' network supports generating and parses the mining addresses for it,
/// refusing as btcd does (one line naming the address).
pub fn mining_addresses(addrs: &[String], params: &Params) -> Result<Vec<Address>, String> {
    if !params.generate_supported {
        return Err(format!(
            "generate is not supported on {}: the CPU cannot mine its difficulty; use --regtest \
             or --simnet",
            params.network
        ));
    }
    parse_mining_addresses(addrs, params)
}

/// Parses `miningaddr` values for `params`' network, naming the first that is not valid.
pub fn parse_mining_addresses(addrs: &[String], params: &Params) -> Result<Vec<Address>, String> {
    addrs
        .iter()
        .map(|a| {
            Address::from_str_for(a, params).map_err(|e| {
                format!("mining address '{a}' is not valid for the active network: {e}")
            })
        })
        .collect()
}

impl Generator {
    /// Mines to `addrs` (one chosen at random per template; at least one, as the configuration
    /// requires with `generate`), blocks under `max_weight`.
    pub fn new(addrs: Vec<Address>, max_weight: usize, seed: u64) -> Generator {
        assert!(!addrs.is_empty(), "generating needs a mining address");
        Generator {
            addrs,
            max_weight,
            rng: Rng::new(seed),
            template: None,
            job_id: 0,
        }
    }

    /// A job from a fresh template on the node's tip and mempool at unix time `now` (seconds).
    pub fn next_job<S: ChainStore>(&mut self, node: &Node<S>, now: u64) -> MiningJob {
        let pay_to =
            choose_mining_address(&self.addrs, &mut self.rng).expect("checked in Generator::new");
        let template = new_block_template(
            node.chain(),
            node.mempool().entries(),
            pay_to,
            self.max_weight,
            now,
        );
        self.job_id += 1;
        let job = template
            .job(self.job_id)
            .expect("the chain only yields valid difficulty bits");
        self.template = Some(template);
        job
    }

    /// Whether the job being mined is stale at `now` (the tip moved, or the mempool may hold
    /// better transactions and the template is old).
    pub fn needs_refresh<S: ChainStore>(&self, node: &Node<S>, now: u64) -> bool {
        self.template.as_ref().is_none_or(|t| {
            t.needs_refresh(&node.chain().tip().hash, !node.mempool().is_empty(), now)
        })
    }

    /// The block a solution completes, or `None` when it is stale: for an older job, or for a
    /// template whose parent is no longer the tip (mining on it would only make a side chain).
    pub fn solved_block<S: ChainStore>(&self, node: &Node<S>, solved: &Solved) -> Option<Block> {
        let template = self.template.as_ref()?;
        (solved.job_id == self.job_id
            && template.block.header.prev_blockhash == node.chain().tip().hash)
            .then(|| template.solved_block(solved.header))
    }

    /// Submits a solution to the node at `now_ms`, logging as btcd does: `Some` when the block
    /// became the tip, `None` when the solution was stale or the block was refused.
    pub fn submit<S: ChainStore>(
        &self,
        node: &mut Node<S>,
        solved: &Solved,
        now_ms: u64,
    ) -> Option<Accepted> {
        let Some(block) = self.solved_block(node, solved) else {
            log::debug!("Dropping a solution of stale job {}", solved.job_id);
            return None;
        };
        let hash = block.block_hash();
        let amount = block.txdata[0].outputs.iter().map(|o| o.value).sum();
        node.handle(now_ms, Input::SubmitBlock(block));
        if node.chain().tip().hash == hash {
            log::info!(
                "Block submitted via CPU miner accepted (hash {hash}, amount {})",
                format_btc(amount)
            );
            Some(Accepted { hash, amount })
        } else {
            log::error!("Block submitted via CPU miner rejected (hash {hash})");
            None
        }
    }

    /// One turn of the loop on the node task: submits `found` if any, then returns a job on a
    /// fresh template when the current one is done or stale.
    pub fn step<S: ChainStore>(
        &mut self,
        node: &mut Node<S>,
        found: Option<&Solved>,
        now_ms: u64,
    ) -> Option<MiningJob> {
        let submitted = found.is_some();
        if let Some(found) = found {
            self.submit(node, found, now_ms);
        }
        (submitted || self.needs_refresh(node, now_ms / 1000))
            .then(|| self.next_job(node, now_ms / 1000))
    }
}

/// Mines through the node task reached by `events` until the miner threads or the node stop
/// (the reason is returned): sends jobs into `jobs`, takes solutions from `solved`, and moves
/// to a new template after each block or when the tip moves.
pub async fn run<S: ChainStore + Send + 'static>(
    generator: Generator,
    events: Sender<Event<S>>,
    jobs: Sender<Option<MiningJob>>,
    solved: Receiver<Solved>,
) -> String {
    let generator = Arc::new(Mutex::new(generator));
    let mut found = None;
    loop {
        let (reply, answer) = async_channel::bounded(1);
        let shared = Arc::clone(&generator);
        let call = Box::new(move |node: &mut Node<S>| {
            let mut generator = shared.lock().unwrap_or_else(|poison| poison.into_inner());
            let _ = reply.try_send(generator.step(node, found.as_ref(), unix_ms()));
        });
        if events.send(Event::Call(call)).await.is_err() {
            return "the node stopped".to_string();
        }
        let Ok(job) = answer.recv().await else {
            return "the node stopped".to_string();
        };
        if let Some(job) = job {
            // A template's time is at least its parent's median time past plus one, so blocks
            // found faster than one per second (regtest) would run ahead of the clock until the
            // chain refuses them as too far in the future. Waiting until the clock reaches the
            // template's time keeps every block acceptable.
            let ahead = u64::from(job.header().time).saturating_sub(unix_ms() / 1000);
            if ahead > 0 {
                smol::Timer::after(Duration::from_secs(ahead)).await;
            }
            if jobs.send(Some(job)).await.is_err() {
                return "the miner threads stopped".to_string();
            }
        }
        let tick = smol::Timer::after(REFRESH_CHECK);
        found = match select(pin!(solved.recv()), tick).await {
            Either::Left((Ok(solution), _)) => Some(solution),
            Either::Left((Err(_), _)) => return "the miner threads stopped".to_string(),
            Either::Right(_) => None,
        };
    }
}

/// Satoshis as btcd prints amounts: BTC with as few decimals as needed.
pub fn format_btc(sats: i64) -> String {
    let sign = if sats < 0 { "-" } else { "" };
    let abs = sats.unsigned_abs();
    let (whole, frac) = (abs / 100_000_000, abs % 100_000_000);
    if frac == 0 {
        format!("{sign}{whole} BTC")
    } else {
        let digits = format!("{frac:08}");
        format!("{sign}{whole}.{} BTC", digits.trim_end_matches('0'))
    }
}

#[cfg(test)]
mod tests;
