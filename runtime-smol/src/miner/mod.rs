//! The CPU miner: worker threads searching nonces of the job the node hands out.
//!
//! The node sends `Option<MiningJob>` (btcd: a new template, or stop generating) into a
//! channel; a feeder thread publishes each as the current job. Workers claim chunks of 65,536
//! nonces and check between slices of a chunk whether the job is still current, so a new job
//! or `None` stops stale work within about a millisecond. A solution goes back on the `solved`
//! channel with the job id and the header to submit; then the job is retired until the node
//! sends the next one. Hash rate is a 10-second running average, as btcd reports it.

mod hash_rate;
mod work;

pub use hash_rate::{HashRate, UPDATE_INTERVAL};

use async_channel::{Receiver, Sender};
use rbtcd_core::mining::{search, MiningJob};
use rbtcd_core::primitives::BlockHeader;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Instant;
use work::{Claim, Work};

/// Nonces searched between checks that the job is still current (about a millisecond).
const SLICE: u32 = 1 << 13;
/// btcd counts both SHA-256 passes of a nonce as hashes; its hash rate figures do, so ours do.
const HASHES_PER_NONCE: u64 = 2;

/// A solved job.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Solved {
    /// The id of the job that was solved.
    pub job_id: u64,
    /// The job's header with the winning nonce and the (possibly rolled) time.
    pub header: BlockHeader,
}

/// One worker per available core: btcd's default when `genproclimit` is not set.
pub fn default_workers() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Running miner threads.
#[derive(Debug)]
pub struct Miner {
    rate: Arc<Mutex<HashRate>>,
    threads: Vec<JoinHandle<()>>,
}

impl Miner {
    /// Starts `workers` search threads fed from `jobs`, sending solutions to `solved` (make
    /// it unbounded: a report is never allowed to block a worker). The miner runs until every
    /// sender of `jobs` is dropped.
    pub fn spawn(
        workers: usize,
        jobs: Receiver<Option<MiningJob>>,
        solved: Sender<Solved>,
    ) -> std::io::Result<Miner> {
        let work = Arc::new(Work::default());
        let hashes = Arc::new(AtomicU64::new(0));
        let rate = Arc::new(Mutex::new(HashRate::default()));
        let mut threads = Vec::with_capacity(workers + 2);
        let spawn = |name: String, f: Box<dyn FnOnce() + Send>| {
            std::thread::Builder::new().name(name).spawn(f)
        };
        {
            let work = Arc::clone(&work);
            threads.push(spawn(
                "miner-feed".into(),
                Box::new(move || {
                    while let Ok(job) = jobs.recv_blocking() {
                        work.set_job(job);
                    }
                    work.stop();
                }),
            )?);
        }
        for i in 0..workers {
            let (work, hashes, solved) = (Arc::clone(&work), Arc::clone(&hashes), solved.clone());
            threads.push(spawn(
                format!("miner-{i}"),
                Box::new(move || mine(&work, &hashes, &solved)),
            )?);
        }
        {
            let rate = Arc::clone(&rate);
            threads.push(spawn(
                "miner-speed".into(),
                Box::new(move || monitor_speed(&work, &hashes, &rate)),
            )?);
        }
        Ok(Miner { rate, threads })
    }

    /// Hashes per second, averaged as btcd does (two per nonce, every 10 s).
    pub fn hashes_per_sec(&self) -> f64 {
        self.rate
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .per_sec()
    }

    /// Waits for the threads to end, which they do once every sender of `jobs` is dropped.
    pub fn join(self) {
        for t in self.threads {
            if t.join().is_err() {
                log::error!("a miner thread panicked");
            }
        }
    }
}

/// A worker: claims chunks and searches them until the miner stops.
fn mine(work: &Work, hashes: &AtomicU64, solved: &Sender<Solved>) {
    while let Some(claim) = work.claim() {
        if let Some(nonce) = search_claim(work, &claim, hashes) {
            let header = claim.job.solved_header(nonce);
            work.solved(&claim, || {
                let report = Solved {
                    job_id: claim.job.id,
                    header,
                };
                if solved.try_send(report).is_err() {
                    log::warn!(
                        "miner solution for job {} dropped: nobody listens",
                        claim.job.id
                    );
                }
            });
        }
    }
}

/// Searches a claimed chunk slice by slice, giving up as soon as its job is replaced.
fn search_claim(work: &Work, claim: &Claim, hashes: &AtomicU64) -> Option<u32> {
    let (first, last) = (*claim.nonces.start(), *claim.nonces.end());
    let mut start = first;
    while work.is_current(claim.generation) {
        let end = start.saturating_add(SLICE - 1).min(last);
        let found = search(&claim.job, start..=end);
        let tried = u64::from(found.unwrap_or(end) - start) + 1;
        hashes.fetch_add(tried * HASHES_PER_NONCE, Ordering::Relaxed);
        if found.is_some() || end == last {
            return found;
        }
        start = end + 1;
    }
    None
}

/// btcd's speed monitor: every 10 s fold the hashes done into the running average.
fn monitor_speed(work: &Work, hashes: &AtomicU64, rate: &Mutex<HashRate>) {
    let mut since = Instant::now();
    while work.sleep_until(since + UPDATE_INTERVAL) {
        let now = Instant::now();
        let done = hashes.swap(0, Ordering::Relaxed);
        let mut rate = rate.lock().unwrap_or_else(|e| e.into_inner());
        rate.update(done, now - since);
        if rate.per_sec() != 0.0 {
            log::debug!("Hash speed: {:6.0} kilohashes/s", rate.per_sec() / 1000.0);
        }
        since = now;
    }
}

#[cfg(test)]
mod tests;
