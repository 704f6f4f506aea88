//! The seam between validation and the script interpreter. The mempool checks a transaction's
//! inputs through [`verify_tx_scripts`] under the relay policy's flags
//! ([`crate::script::STANDARD_FLAGS`]); block connection hands each transaction's inputs to a
//! [`ScriptExecutor`] (in the spirit of Core's `CCheckQueue`) through [`BlockScripts`] under
//! the flags its height requires ([`crate::script::flags_for_height`]) as soon as it has found
//! the outputs they spend, so the executor's threads check the first transactions while
//! validation still looks up the coins of the later ones. Both share one signature cache.
//!
//! The executor may check inputs in any order and on any number of threads, but the verdict
//! does not depend on that: it is the lowest failing input of the block, which is the one the
//! chain reports.

use super::error::RuleError;
use crate::primitives::{Block, Transaction, TxOut};
use crate::script::{Flags, ScriptError, SigCache, TxVerifier};
use std::borrow::Borrow;
use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// At most this many inputs of one transaction make one check: a transaction spending
/// thousands of coins is still spread over every thread, each share recomputing the
/// transaction's signature-hash midstates once.
const INPUTS_PER_CHECK: usize = 16;

/// One unit of work handed to an executor.
pub type Check<'s> = Box<dyn FnOnce() + Send + 's>;

/// Where a feeder hands checks over to an executor.
pub trait CheckQueue<'s> {
    /// Queues `check`; it may run at once, on this thread or another.
    fn add(&self, check: Check<'s>);
}

/// Runs checks as they are handed over.
pub trait ScriptExecutor: Send + Sync + fmt::Debug {
    /// Calls `feed` once with a queue to hand checks to, and returns when every check handed
    /// over has run. Checks may run in any order, on any thread, while `feed` still runs.
    fn run<'s>(&self, feed: &mut dyn FnMut(&dyn CheckQueue<'s>));
}

/// Checks one after the other on the caller's thread, each as it is handed over (core tests,
/// the simulator).
#[derive(Clone, Copy, Debug, Default)]
pub struct Sequential;

impl<'s> CheckQueue<'s> for Sequential {
    fn add(&self, check: Check<'s>) {
        check()
    }
}

impl ScriptExecutor for Sequential {
    fn run<'s>(&self, feed: &mut dyn FnMut(&dyn CheckQueue<'s>)) {
        feed(&Sequential)
    }
}

/// How block connection checks scripts: the executor, the shared signature cache.
#[derive(Clone, Debug)]
pub struct ScriptChecks {
    /// Who runs the checks.
    pub executor: Arc<dyn ScriptExecutor>,
    /// Signatures already verified (looked up, not filled, by block validation).
    pub sig_cache: Arc<SigCache>,
}

impl Default for ScriptChecks {
    fn default() -> Self {
        ScriptChecks {
            executor: Arc::new(Sequential),
            sig_cache: Arc::new(SigCache::new(
                crate::script::sigcache::DEFAULT_SIG_CACHE_ENTRIES,
            )),
        }
    }
}

/// Verifies every input script of `tx` under `flags`, filling `cache` with the signatures
/// that pass; `spent[i]` is the output input `i` spends.
pub fn verify_tx_scripts(
    tx: &Transaction,
    spent: &[TxOut],
    flags: Flags,
    cache: Option<&SigCache>,
) -> Result<(), RuleError> {
    let verifier = TxVerifier::new(tx, spent);
    let verifier = match cache {
        Some(c) => verifier.with_sig_cache(c, true),
        None => verifier,
    };
    verifier
        .verify_all(flags)
        .map_err(|(input, e)| script_failed(tx, input, &e))
}

fn script_failed(tx: &Transaction, input: usize, e: &ScriptError) -> RuleError {
    RuleError::ScriptFailed {
        txid: tx.txid(),
        input,
        reason: e.to_string(),
    }
}

/// The script checks of one block, handed to an executor transaction by transaction; the
/// verdict is the lowest failing input, whichever thread found what first.
pub struct BlockScripts<'s> {
    flags: Flags,
    sig_cache: &'s SigCache,
    /// The lowest transaction known to fail: checks of later ones are skipped.
    lowest_failed_tx: AtomicUsize,
    /// The lowest failure found, by (transaction, input).
    failure: Mutex<Option<(usize, usize, RuleError)>>,
}

impl<'s> BlockScripts<'s> {
    /// A block's checks under `flags`, looking signatures up in `sig_cache`.
    pub fn new(flags: Flags, sig_cache: &'s SigCache) -> Self {
        BlockScripts {
            flags,
            sig_cache,
            lowest_failed_tx: AtomicUsize::new(usize::MAX),
            failure: Mutex::new(None),
        }
    }

    /// Hands the inputs of `tx`, transaction `t` of the block, to `queue`; `spent[i]` is the
    /// output input `i` spends.
    pub fn add<S>(&'s self, queue: &dyn CheckQueue<'s>, t: usize, tx: &'s Transaction, spent: S)
    where
        S: Borrow<[TxOut]> + Send + Sync + 's,
    {
        let spent = Arc::new(spent);
        let inputs = tx.inputs.len();
        for first in (0..inputs).step_by(INPUTS_PER_CHECK) {
            let spent = Arc::clone(&spent);
            let last = inputs.min(first + INPUTS_PER_CHECK);
            queue.add(Box::new(move || {
                self.check(t, tx, (*spent).borrow(), first..last)
            }));
        }
    }

    /// Verifies `inputs` of `tx` (transaction `t`) unless an earlier transaction failed.
    fn check(&self, t: usize, tx: &Transaction, spent: &[TxOut], inputs: std::ops::Range<usize>) {
        if t > self.lowest_failed_tx.load(Ordering::Relaxed) {
            return;
        }
        let verifier = TxVerifier::new(tx, spent).with_sig_cache(self.sig_cache, false);
        for input in inputs {
            if let Err(e) = verifier.verify_input(input, self.flags) {
                self.lowest_failed_tx.fetch_min(t, Ordering::Relaxed);
                let mut failure = self.failure.lock().unwrap_or_else(|p| p.into_inner());
                if failure
                    .as_ref()
                    .is_none_or(|(ft, fi, _)| (t, input) < (*ft, *fi))
                {
                    *failure = Some((t, input, script_failed(tx, input, &e)));
                }
                return;
            }
        }
    }

    /// Skips every check not yet started: the block failed another rule.
    pub fn abandon(&self) {
        self.lowest_failed_tx.store(0, Ordering::Relaxed);
    }

    /// The verdict once every check handed over has run: the lowest failing input's error.
    pub fn verdict(self) -> Result<(), RuleError> {
        let failure = self.failure.into_inner().unwrap_or_else(|p| p.into_inner());
        match failure {
            Some((_, _, e)) => Err(e),
            None => Ok(()),
        }
    }
}

/// Verifies every input of `block` but the coinbase under `flags` through `checks`;
/// `spent[t]` holds the outputs transaction `t` spends (empty for the coinbase). The error
/// names the lowest failing input, whatever order the executor ran them in.
pub fn verify_block_scripts(
    block: &Block,
    spent: &[Vec<TxOut>],
    flags: Flags,
    checks: &ScriptChecks,
) -> Result<(), RuleError> {
    let scripts = BlockScripts::new(flags, &checks.sig_cache);
    checks.executor.run(&mut |queue| {
        for (t, (tx, s)) in block.txdata.iter().zip(spent).enumerate().skip(1) {
            scripts.add(queue, t, tx, s.as_slice());
        }
    });
    scripts.verdict()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::builder::spend;
    use crate::primitives::{Hash256, OutPoint};
    use crate::script::opcodes::{OP_0, OP_1};

    /// Holds every check until the feeder is done, then runs them last first, on two
    /// threads: a worst case for ordering.
    #[derive(Debug)]
    struct Backwards;

    /// The checks [`Backwards`] holds.
    struct Held<'s>(Mutex<Vec<Check<'s>>>);

    impl<'s> CheckQueue<'s> for Held<'s> {
        fn add(&self, check: Check<'s>) {
            self.0.lock().unwrap().push(check);
        }
    }

    impl ScriptExecutor for Backwards {
        fn run<'s>(&self, feed: &mut dyn FnMut(&dyn CheckQueue<'s>)) {
            let held = Held(Mutex::new(Vec::new()));
            feed(&held);
            let (even, odd): (Vec<_>, Vec<_>) = held
                .0
                .into_inner()
                .unwrap()
                .into_iter()
                .rev()
                .enumerate()
                .partition(|(i, _)| i % 2 == 0);
            std::thread::scope(|s| {
                s.spawn(|| odd.into_iter().for_each(|(_, c)| c()));
                even.into_iter().for_each(|(_, c)| c());
            });
        }
    }

    /// A block of three spends of `inputs` inputs each; `bad` lists the (transaction, input)
    /// whose spent output fails.
    fn block_with_failures(inputs: u32, bad: &[(usize, usize)]) -> (Block, Vec<Vec<TxOut>>) {
        let mut txdata = vec![spend(&[OutPoint::new(Hash256::ZERO, u32::MAX)], &[1])];
        let mut spent = vec![Vec::new()];
        for t in 1..=3usize {
            let prevouts: Vec<OutPoint> = (0..inputs)
                .map(|i| OutPoint::new(Hash256([t as u8; 32]), i))
                .collect();
            txdata.push(spend(&prevouts, &[1]));
            spent.push(
                (0..inputs as usize)
                    .map(|i| TxOut {
                        value: 1,
                        script_pubkey: vec![if bad.contains(&(t, i)) { OP_0 } else { OP_1 }],
                    })
                    .collect(),
            );
        }
        let block = Block {
            header: Default::default(),
            txdata,
        };
        (block, spent)
    }

    #[test]
    fn the_verdict_is_the_lowest_failing_input_whatever_the_order() {
        // Two inputs a transaction: one check each. Forty: each split over several checks.
        let cases = [
            (2, vec![(3, 0), (2, 1)], (2, 1)),
            (40, vec![(3, 0), (2, 35), (2, 20)], (2, 20)),
        ];
        for (inputs, bad, (t, input)) in cases {
            let (block, spent) = block_with_failures(inputs, &bad);
            let want = RuleError::ScriptFailed {
                txid: block.txdata[t].txid(),
                input,
                reason: ScriptError::EvalFalse.to_string(),
            };
            for executor in [
                Arc::new(Sequential) as Arc<dyn ScriptExecutor>,
                Arc::new(Backwards),
            ] {
                let checks = ScriptChecks {
                    executor,
                    ..ScriptChecks::default()
                };
                let verdict = verify_block_scripts(&block, &spent, Flags::NONE, &checks);
                assert_eq!(verdict, Err(want.clone()), "{:?}", checks.executor);
            }
            let (good, spent) = block_with_failures(inputs, &[]);
            let checks = ScriptChecks {
                executor: Arc::new(Backwards),
                ..ScriptChecks::default()
            };
            assert_eq!(
                verify_block_scripts(&good, &spent, Flags::NONE, &checks),
                Ok(())
            );
        }
    }
}
