//! The seam between validation and the script interpreter. The mempool checks a transaction's
//! inputs through [`verify_tx_scripts`] under the relay policy's flags
//! ([`crate::script::STANDARD_FLAGS`]); block connection hands every input of a block to a
//! [`ScriptExecutor`] (in the spirit of Core's `CCheckQueue`) under the flags its height
//! requires ([`crate::script::flags_for_height`]). Both share one signature cache.
//!
//! The executor may check inputs in any order and on any number of threads, but the verdict
//! does not depend on that: it is the lowest failing input of the block, which is the one the
//! chain reports.

use super::error::RuleError;
use crate::primitives::{Block, Transaction, TxOut};
use crate::script::{Flags, ScriptError, SigCache, TxVerifier};
use std::fmt;
use std::sync::Arc;

/// Runs a batch of independent checks.
pub trait ScriptExecutor: Send + Sync + fmt::Debug {
    /// Runs `check(i)` for `i` in `0..count` until it knows the lowest `i` for which `check`
    /// returns false, and returns it (`None` when all pass). Every check below the one
    /// returned must have been run and passed.
    fn first_failure(&self, count: usize, check: &(dyn Fn(usize) -> bool + Sync)) -> Option<usize>;
}

/// Checks one after the other on the caller's thread (core tests, the simulator).
#[derive(Clone, Copy, Debug, Default)]
pub struct Sequential;

impl ScriptExecutor for Sequential {
    fn first_failure(&self, count: usize, check: &(dyn Fn(usize) -> bool + Sync)) -> Option<usize> {
        (0..count).find(|i| !check(*i))
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

/// Verifies every input of `block` but the coinbase under `flags` through `checks`;
/// `spent[t]` holds the outputs transaction `t` spends (empty for the coinbase). The error
/// names the lowest failing input, whatever order the executor ran them in.
pub fn verify_block_scripts(
    block: &Block,
    spent: &[Vec<TxOut>],
    flags: Flags,
    checks: &ScriptChecks,
) -> Result<(), RuleError> {
    let verifiers: Vec<TxVerifier<'_>> = block
        .txdata
        .iter()
        .zip(spent)
        .map(|(tx, s)| TxVerifier::new(tx, s).with_sig_cache(&checks.sig_cache, false))
        .collect();
    // Input `i` of the block is input `i - starts[t]` of the last transaction `t` starting at
    // or before it.
    let mut starts = Vec::with_capacity(verifiers.len());
    let mut count = 0;
    for (t, v) in verifiers.iter().enumerate() {
        starts.push(count);
        if t > 0 {
            count += v.inputs();
        }
    }
    let locate = |i: usize| {
        let t = starts.partition_point(|s| *s <= i) - 1;
        (t, i - starts[t])
    };
    let check = |i: usize| {
        let (t, input) = locate(i);
        verifiers[t].verify_input(input, flags).is_ok()
    };
    let Some(i) = checks.executor.first_failure(count, &check) else {
        return Ok(());
    };
    let (t, input) = locate(i);
    let e = verifiers[t]
        .verify_input(input, flags)
        .expect_err("the executor reported this input failing");
    Err(script_failed(&block.txdata[t], input, &e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::builder::spend;
    use crate::primitives::{Hash256, OutPoint};
    use crate::script::opcodes::{OP_0, OP_1};

    /// Runs every check, last first, on two threads: a worst case for ordering.
    #[derive(Debug)]
    struct Backwards;

    impl ScriptExecutor for Backwards {
        fn first_failure(
            &self,
            count: usize,
            check: &(dyn Fn(usize) -> bool + Sync),
        ) -> Option<usize> {
            let failed: Vec<usize> = std::thread::scope(|s| {
                let odd = s.spawn(|| {
                    (0..count)
                        .rev()
                        .filter(|i| i % 2 == 1 && !check(*i))
                        .collect::<Vec<_>>()
                });
                let mut even: Vec<usize> = (0..count)
                    .rev()
                    .filter(|i| i % 2 == 0 && !check(*i))
                    .collect();
                even.extend(odd.join().expect("no panic"));
                even
            });
            failed.into_iter().min()
        }
    }

    /// A block of three spends of two inputs each; `bad` lists the (transaction, input) whose
    /// spent output fails.
    fn block_with_failures(bad: &[(usize, usize)]) -> (Block, Vec<Vec<TxOut>>) {
        let mut txdata = vec![spend(&[OutPoint::new(Hash256::ZERO, u32::MAX)], &[1])];
        let mut spent = vec![Vec::new()];
        for t in 1..=3usize {
            let inputs: Vec<OutPoint> = (0..2)
                .map(|i| OutPoint::new(Hash256([t as u8; 32]), i))
                .collect();
            txdata.push(spend(&inputs, &[1]));
            spent.push(
                (0..2)
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
        let (block, spent) = block_with_failures(&[(3, 0), (2, 1)]);
        let want = RuleError::ScriptFailed {
            txid: block.txdata[2].txid(),
            input: 1,
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
        let (good, spent) = block_with_failures(&[]);
        let checks = ScriptChecks::default();
        assert_eq!(
            verify_block_scripts(&good, &spent, Flags::NONE, &checks),
            Ok(())
        );
    }
}
