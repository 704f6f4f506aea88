//! `--generate`: btcd's CPU miner loop. Templates are built on the chain's tip, handed to the
//! miner threads as jobs, and each solution is turned into a block, processed into the chain
//! and followed by a template on the new tip.

use crate::config::Config;
use crate::miner::{default_workers, Miner, Solved};
use async_channel::{Receiver, Sender};
use futures::future::{select, Either};
use rbtcd_core::address::Address;
use rbtcd_core::chain::{Chain, ChainError, ChainStore, Placement};
use rbtcd_core::mining::{choose_mining_address, new_block_template, BlockTemplate, MiningJob};
use rbtcd_core::params::Params;
use rbtcd_core::primitives::{Block, BlockHash};
use rbtcd_core::rng::Rng;
use std::future::Future;
use std::pin::pin;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

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

/// A block the miner found and the chain accepted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Accepted {
    /// Its hash.
    pub hash: BlockHash,
    /// Where the chain put it.
    pub placement: Placement,
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

    /// A job from a fresh template on `chain`'s tip at unix time `now`. The node has no
    /// mempool in this build, so templates hold the coinbase alone.
    pub fn next_job<S: ChainStore>(&mut self, chain: &Chain<S>, now: u64) -> MiningJob {
        let pay_to =
            choose_mining_address(&self.addrs, &mut self.rng).expect("checked in Generator::new");
        let template = new_block_template(chain, &[], pay_to, self.max_weight, now);
        self.job_id += 1;
        let job = template
            .job(self.job_id)
            .expect("the chain only yields valid difficulty bits");
        self.template = Some(template);
        job
    }

    /// Whether the job being mined is stale at `now` (the tip moved).
    pub fn needs_refresh<S: ChainStore>(&self, chain: &Chain<S>, now: u64) -> bool {
        self.template
            .as_ref()
            .is_none_or(|t| t.needs_refresh(&chain.tip().hash, false, now))
    }

    /// The block a solution completes, or `None` when it is stale: for an older job, or for a
    /// template whose parent is no longer the tip (mining on it would only make a side chain).
    pub fn solved_block<S: ChainStore>(&self, chain: &Chain<S>, solved: &Solved) -> Option<Block> {
        let template = self.template.as_ref()?;
        (solved.job_id == self.job_id && template.block.header.prev_blockhash == chain.tip().hash)
            .then(|| template.solved_block(solved.header))
    }

    /// Processes a solution into `chain` at `now`: `Ok(None)` when it was stale or the chain
    /// rejected the block (logged as btcd does), `Err` when the store failed.
    pub fn submit<S: ChainStore>(
        &self,
        chain: &mut Chain<S>,
        solved: &Solved,
        now: u64,
    ) -> Result<Option<Accepted>, ChainError> {
        let Some(block) = self.solved_block(chain, solved) else {
            log::debug!("Dropping a solution of stale job {}", solved.job_id);
            return Ok(None);
        };
        let hash = block.block_hash();
        let amount = block.txdata[0].outputs.iter().map(|o| o.value).sum();
        match chain.process_block(block, now) {
            Ok(placement) => {
                log::info!(
                    "Block submitted via CPU miner accepted (hash {hash}, amount {})",
                    format_btc(amount)
                );
                Ok(Some(Accepted {
                    hash,
                    placement,
                    amount,
                }))
            }
            Err(ChainError::Rule(why)) => {
                log::error!("Block submitted via CPU miner rejected: {why}");
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// Mines on `chain` until the store fails (the error is returned): sends jobs into `jobs`,
    /// takes solutions from `solved`, and moves to a new template after each block or when the
    /// tip moves.
    pub async fn run<S: ChainStore>(
        &mut self,
        chain: &mut Chain<S>,
        jobs: &Sender<Option<MiningJob>>,
        solved: &Receiver<Solved>,
    ) -> String {
        let stopped = || "the miner threads stopped".to_string();
        if !self.send_job(chain, jobs).await {
            return stopped();
        }
        loop {
            let tick = smol::Timer::after(REFRESH_CHECK);
            let found = match select(pin!(solved.recv()), tick).await {
                Either::Left((Ok(found), _)) => Some(found),
                Either::Left((Err(_), _)) => return stopped(),
                Either::Right(_) => None,
            };
            let now = unix_now();
            if let Some(found) = found {
                if let Err(e) = self.submit(chain, &found, now) {
                    return format!("cannot store a mined block: {e}");
                }
            } else if !self.needs_refresh(chain, now) {
                continue;
            }
            if !self.send_job(chain, jobs).await {
                return stopped();
            }
        }
    }

    /// Sends a job on a fresh template; false when the miner threads are gone.
    ///
    /// A template's time is at least its parent's median time past plus one, so blocks found
    /// faster than one per second (regtest) would run ahead of the clock until the chain
    /// refuses them as too far in the future. Waiting until the clock reaches the template's
    /// time keeps every block acceptable and paces a regtest miner at a few blocks a second.
    async fn send_job<S: ChainStore>(
        &mut self,
        chain: &Chain<S>,
        jobs: &Sender<Option<MiningJob>>,
    ) -> bool {
        let now = unix_now();
        let job = self.next_job(chain, now);
        let ahead = u64::from(job.header().time).saturating_sub(now);
        if ahead > 0 {
            smol::Timer::after(Duration::from_secs(ahead)).await;
        }
        jobs.send(Some(job)).await.is_ok()
    }
}

/// Runs the miner threads and the loop on `chain` until `stop` completes, then stops the
/// threads; `Err` when mining failed first.
pub fn mine_until<S: ChainStore, T>(
    generator: &mut Generator,
    chain: &mut Chain<S>,
    stop: impl Future<Output = T>,
) -> Result<T, String> {
    let (jobs, jobs_rx) = async_channel::unbounded();
    let (solved_tx, solved) = async_channel::unbounded();
    let workers = default_workers();
    let miner = Miner::spawn(workers, jobs_rx, solved_tx)
        .map_err(|e| format!("cannot start the miner threads: {e}"))?;
    log::info!("CPU miner started with {workers} worker(s)");
    let outcome = {
        let stop = pin!(stop);
        let mining = pin!(generator.run(chain, &jobs, &solved));
        match smol::block_on(select(stop, mining)) {
            Either::Left((stopped, _)) => Ok(stopped),
            Either::Right((failure, _)) => Err(failure),
        }
    };
    drop(jobs);
    miner.join();
    log::info!("CPU miner stopped");
    outcome
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

/// The OS clock as unix seconds.
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests;
