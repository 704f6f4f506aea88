//! The daemon's script-check executor: a pool of `available_parallelism()` threads that checks
//! a block's inputs in parallel (Core's `CCheckQueue`) as validation hands them over, while the
//! node's thread goes on looking up the coins of the block's later transactions.

use rbtcd_core::chain::script_check::{Check, CheckQueue, ScriptExecutor, Sequential};
use std::fmt;

/// A thread pool for script checks.
pub struct ScriptPool {
    pool: rayon::ThreadPool,
}

impl ScriptPool {
    /// A pool of `threads` threads (`available_parallelism()` when `None`).
    pub fn new(threads: Option<usize>) -> Result<ScriptPool, String> {
        let threads = threads.unwrap_or_else(|| {
            std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
        });
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("scriptcheck-{i}"))
            .build()
            .map_err(|e| format!("cannot start the script-check threads: {e}"))?;
        Ok(ScriptPool { pool })
    }

    /// Number of threads.
    pub fn threads(&self) -> usize {
        self.pool.current_num_threads()
    }
}

impl fmt::Debug for ScriptPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ScriptPool({} threads)", self.threads())
    }
}

/// Checks handed to the pool's threads within one [`ScriptExecutor::run`].
struct PoolQueue<'a, 's>(&'a rayon::Scope<'s>);

impl<'s> CheckQueue<'s> for PoolQueue<'_, 's> {
    fn add(&self, check: Check<'s>) {
        self.0.spawn(move |_| check());
    }
}

impl ScriptExecutor for ScriptPool {
    fn run<'s>(&self, feed: &mut dyn FnMut(&dyn CheckQueue<'s>)) {
        if self.threads() < 2 {
            return Sequential.run(feed);
        }
        // The feeder runs on the caller's thread; the scope ends once every check it spawned
        // has run.
        self.pool.in_place_scope(|scope| feed(&PoolQueue(scope)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::mpsc;
    use std::time::Duration;

    #[test]
    fn runs_every_check_handed_over_before_returning() {
        let pool = ScriptPool::new(Some(4)).unwrap();
        let ran = AtomicUsize::new(0);
        pool.run(&mut |queue| {
            for _ in 0..10_000 {
                queue.add(Box::new(|| {
                    ran.fetch_add(1, Ordering::Relaxed);
                }));
            }
        });
        assert_eq!(ran.load(Ordering::Relaxed), 10_000);
    }

    #[test]
    fn checks_run_while_the_feeder_still_works() {
        let pool = ScriptPool::new(Some(2)).unwrap();
        let (done, checked) = mpsc::channel();
        let mut seen = false;
        pool.run(&mut |queue| {
            let done = done.clone();
            queue.add(Box::new(move || done.send(()).unwrap()));
            // The feeder waits for its first check: it returns only if a pool thread ran it.
            seen = checked.recv_timeout(Duration::from_secs(60)).is_ok();
        });
        assert!(seen, "no pool thread ran the check while the feeder waited");
    }
}
