//! The CPU miner: worker threads searching nonces of the work the node hands out
//! ([`rbtcd_core::node::Output::MineOn`]).
//!
//! A feeder thread publishes each `Option<MinerWork>` from the node as the current work
//! (`None`: stop generating), starting more worker threads when the work asks for more than
//! are running; workers above the work's thread count wait. Workers claim chunks of 65,536
//! nonces and check between slices of a chunk whether the work is still current, so new work
//! or `None` stops stale work within about a millisecond. When a job's nonce space is used up
//! the next chunk rolls the coinbase extra nonce. A solution goes back on the `solved` channel
//! with the work id, extra nonce and header; the work is then retired until the node sends
//! more. Hash rate is a 10-second running average, as btcd reports it.
//!
//! The nonce-search kernel is chosen once, when the miner starts, for this CPU
//! ([`Kernel::detect`]) and logged (`Miner using sha-ni x2`).

pub(crate) mod generate;
mod hash_rate;
mod work;

pub use hash_rate::{HashRate, UPDATE_INTERVAL};

use async_channel::{Receiver, Sender};
use rbtcd_core::mining::{Kernel, MinerWork};
use rbtcd_core::primitives::BlockHeader;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Instant;
use work::{Claim, Work};

/// Nonces searched between checks that the work is still current (about a millisecond).
const SLICE: u32 = 1 << 13;
/// btcd counts both SHA-256 passes of a nonce as hashes; its hash rate figures do, so ours do.
const HASHES_PER_NONCE: u64 = 2;

/// A solved job.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Solved {
    /// The id of the work that was solved.
    pub work_id: u64,
    /// The coinbase extra nonce of the job solved.
    pub extra_nonce: u64,
    /// The job's header with the winning nonce.
    pub header: BlockHeader,
}

/// One worker per available core: btcd's default `genproclimit`.
pub fn default_workers() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// What the threads share.
struct Shared {
    kernel: Kernel,
    work: Work,
    hashes: AtomicU64,
    solved: Sender<Solved>,
    workers: Mutex<Vec<JoinHandle<()>>>,
}

/// Running miner threads.
pub struct Miner {
    shared: Arc<Shared>,
    threads: Vec<JoinHandle<()>>,
}

impl Miner {
    /// Starts the feeder and speed monitor threads: work comes from `jobs`, solutions go to
    /// `solved` (make it unbounded: a report never blocks a worker), and every 10 s the hash
    /// rate goes to `report_rate`. The miner runs until every sender of `jobs` is dropped.
    pub fn spawn(
        jobs: Receiver<Option<MinerWork>>,
        solved: Sender<Solved>,
        report_rate: Box<dyn Fn(f64) + Send>,
    ) -> std::io::Result<Miner> {
        let kernel = Kernel::detect();
        log::info!("Miner using {kernel}");
        let shared = Arc::new(Shared {
            kernel,
            work: Work::default(),
            hashes: AtomicU64::new(0),
            solved,
            workers: Mutex::new(Vec::new()),
        });
        let feeder = {
            let shared = Arc::clone(&shared);
            std::thread::Builder::new()
                .name("miner-feed".into())
                .spawn(move || {
                    while let Ok(work) = jobs.recv_blocking() {
                        let wanted = work.as_ref().map_or(0, |w| w.threads as usize);
                        if let Err(e) = start_workers(&shared, wanted) {
                            log::error!("cannot start miner threads: {e}");
                        }
                        shared.work.set_work(work);
                    }
                    shared.work.stop();
                })?
        };
        let monitor = {
            let shared = Arc::clone(&shared);
            std::thread::Builder::new()
                .name("miner-speed".into())
                .spawn(move || monitor_speed(&shared, report_rate))?
        };
        Ok(Miner {
            shared,
            threads: vec![feeder, monitor],
        })
    }

    /// Worker threads started so far (they are kept, idle, when the work wants fewer).
    pub fn workers(&self) -> usize {
        self.shared
            .workers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .len()
    }

    /// Waits for the threads to end, which they do once every sender of `jobs` is dropped.
    pub fn join(self) {
        let workers = std::mem::take(
            &mut *self
                .shared
                .workers
                .lock()
                .unwrap_or_else(|e| e.into_inner()),
        );
        for t in self.threads.into_iter().chain(workers) {
            if t.join().is_err() {
                log::error!("a miner thread panicked");
            }
        }
    }
}

impl std::fmt::Debug for Miner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Miner")
            .field("workers", &self.workers())
            .finish()
    }
}

/// Starts worker threads until `wanted` exist.
fn start_workers(shared: &Arc<Shared>, wanted: usize) -> std::io::Result<()> {
    let mut workers = shared.workers.lock().unwrap_or_else(|e| e.into_inner());
    while workers.len() < wanted {
        let i = workers.len();
        let s = Arc::clone(shared);
        workers.push(
            std::thread::Builder::new()
                .name(format!("miner-{i}"))
                .spawn(move || mine(&s, i))?,
        );
    }
    Ok(())
}

/// Worker number `i`: claims chunks and searches them until the miner stops.
fn mine(shared: &Shared, i: usize) {
    while let Some(claim) = shared.work.claim(i) {
        if let Some(nonce) = search_claim(shared, &claim) {
            let report = Solved {
                work_id: claim.job.id,
                extra_nonce: claim.extra_nonce,
                header: claim.job.solved_header(nonce),
            };
            shared.work.solved(&claim, || {
                if shared.solved.try_send(report).is_err() {
                    log::warn!(
                        "miner solution for work {} dropped: nobody listens",
                        claim.job.id
                    );
                }
            });
        }
    }
}

/// Searches a claimed chunk slice by slice, giving up as soon as its job is replaced.
fn search_claim(shared: &Shared, claim: &Claim) -> Option<u32> {
    let (first, last) = (*claim.nonces.start(), *claim.nonces.end());
    let mut start = first;
    while shared.work.is_current(claim.generation) {
        let end = start.saturating_add(SLICE - 1).min(last);
        let found = shared.kernel.search(&claim.job, start..=end);
        let tried = u64::from(found.unwrap_or(end) - start) + 1;
        shared
            .hashes
            .fetch_add(tried * HASHES_PER_NONCE, Ordering::Relaxed);
        if found.is_some() || end == last {
            return found;
        }
        start = end + 1;
    }
    None
}

/// btcd's speed monitor: every 10 s fold the hashes done into the running average.
fn monitor_speed(shared: &Shared, report: Box<dyn Fn(f64) + Send>) {
    let mut since = Instant::now();
    let mut rate = HashRate::default();
    while shared.work.sleep_until(since + UPDATE_INTERVAL) {
        let now = Instant::now();
        let done = shared.hashes.swap(0, Ordering::Relaxed);
        rate.update(done, now - since);
        let per_sec = rate.per_sec();
        if per_sec != 0.0 {
            log::debug!("Hash speed: {:6.0} kilohashes/s", per_sec / 1000.0);
        }
        report(per_sec);
        since = now;
    }
}

#[cfg(test)]
mod tests;
