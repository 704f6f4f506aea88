//! Connecting the signature-heavy chain of the sync bench ([`signed_chain`]: blocks of 1,500
//! signed transactions) straight into a chain over `MemStore`, without a network or a disk:
//! the per-block time of validation with the daemon's script-check pool on this machine, and
//! with every check on the calling thread, for comparison. Each block is handed over as the
//! node gets it (decoded, not yet checked) and timed until it is the tip.
//!
//! `cargo bench -p rbtcd --bench connect_block`; under `cargo test` (no `--bench` argument) a
//! short pass of 3 blocks of 30 transactions.

#[path = "../tests/common/mod.rs"]
mod e2e;
mod signed_chain;
// Shared with the script benches, whose libsecp256k1 baseline this bench does not use.
#[allow(dead_code)]
#[path = "../../core/benches/signing/mod.rs"]
mod signing;

use e2e::foreign::loadavg;
use rbtcd::scripts::ScriptPool;
use rbtcd_core::chain::assume_valid::AssumeValid;
use rbtcd_core::chain::script_check::{ScriptChecks, ScriptExecutor, Sequential};
use rbtcd_core::chain::{Chain, ChainOptions, MemStore, Placement};
use rbtcd_core::params::{Network, Params};
use rbtcd_core::primitives::Block;
use signed_chain::{build_chain, shape};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A time far past every block's, so none is too far in the future.
const NOW: u64 = 2_000_000_000;

/// Connects `blocks` in order with `executor` checking the scripts; returns the time each
/// block of more than one transaction took.
fn connect_all(
    params: &Params,
    blocks: &[Block],
    executor: Arc<dyn ScriptExecutor>,
) -> Vec<Duration> {
    let options = ChainOptions {
        scripts: ScriptChecks {
            executor,
            ..ScriptChecks::default()
        },
        assume_valid: AssumeValid::Off,
        ..ChainOptions::default()
    };
    let mut chain = Chain::open_with(params.clone(), MemStore::new(), options).expect("opens");
    let mut times = Vec::new();
    for block in blocks {
        let heavy = block.txdata.len() > 1;
        let block = block.clone();
        let start = Instant::now();
        let placed = chain.process_block(block, NOW).expect("a valid block");
        let took = start.elapsed();
        assert_eq!(placed, Placement::MainChain);
        if heavy {
            times.push(took);
        }
    }
    times
}

/// Prints the median and total time of `times` as `connect_block_signed_{who}` lines.
fn print(who: &str, times: &mut [Duration], signed_inputs: usize) {
    times.sort();
    let median = times[times.len() / 2];
    let total: Duration = times.iter().sum();
    println!(
        "bench: connect_block_signed_{who}_median: {:.2} ms",
        median.as_secs_f64() * 1e3
    );
    println!(
        "bench: connect_block_signed_{who}_total: {:.3} s",
        total.as_secs_f64()
    );
    println!(
        "bench: connect_block_signed_{who}_inputs: {:.0} inputs/s",
        signed_inputs as f64 / total.as_secs_f64()
    );
}

fn main() {
    let (txs, signed_blocks) = shape();
    let params = Params::new(Network::Regtest);
    let (blocks, signed_inputs) = build_chain(&params, txs, signed_blocks);
    let pool = Arc::new(ScriptPool::new(None).expect("a script pool"));
    println!(
        "chain: {} blocks, {signed_blocks} of {txs} transactions, {signed_inputs} signed \
         inputs; pool of {} threads",
        blocks.len(),
        pool.threads()
    );
    let mut pooled = connect_all(&params, &blocks, pool);
    let mut sequential = connect_all(&params, &blocks, Arc::new(Sequential));
    print("pool", &mut pooled, signed_inputs);
    print("sequential", &mut sequential, signed_inputs);
    let pooled: Duration = pooled.iter().sum();
    let sequential: Duration = sequential.iter().sum();
    println!(
        "ratio: connect_block_signed_sequential_over_pool: {:.3}",
        sequential.as_secs_f64() / pooled.as_secs_f64()
    );
    println!("bench: loadavg_1min: {}", loadavg());
}
