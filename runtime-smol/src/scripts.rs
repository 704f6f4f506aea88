//! The daemon's script-check executor: a pool of `available_parallelism()` threads that checks
//! a block's inputs in parallel (Core's `CCheckQueue`), answering with the lowest failing input
//! as the core requires, whichever thread found what first.

use rayon::prelude::*;
use rbtcd_core::chain::script_check::{ScriptExecutor, Sequential};
use std::fmt;

/// Fewer checks than this run on the node's thread: handing them over costs more than they do.
const PARALLEL_FROM: usize = 8;

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

impl ScriptExecutor for ScriptPool {
    fn first_failure(&self, count: usize, check: &(dyn Fn(usize) -> bool + Sync)) -> Option<usize> {
        if count < PARALLEL_FROM || self.threads() < 2 {
            return Sequential.first_failure(count, check);
        }
        // find_first answers the lowest matching index, skipping only indices above a match.
        self.pool
            .install(|| (0..count).into_par_iter().find_first(|i| !check(*i)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn finds_the_lowest_failure_having_run_everything_below_it() {
        let pool = ScriptPool::new(Some(4)).unwrap();
        for failing in [vec![], vec![9_999], vec![17, 5_000], vec![0, 3]] {
            let ran = AtomicUsize::new(0);
            let below = AtomicUsize::new(0);
            let lowest = failing.iter().min().copied();
            let check = |i: usize| {
                ran.fetch_add(1, Ordering::Relaxed);
                if lowest.is_some_and(|l| i < l) {
                    below.fetch_add(1, Ordering::Relaxed);
                }
                !failing.contains(&i)
            };
            assert_eq!(pool.first_failure(10_000, &check), lowest);
            assert_eq!(below.load(Ordering::Relaxed), lowest.unwrap_or(0));
            if lowest.is_none() {
                assert_eq!(ran.load(Ordering::Relaxed), 10_000);
            }
        }
    }
}
