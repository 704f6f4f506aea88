//! Script checks on every core: a block of signed spends (P2PKH, P2WPKH and P2TR key path in
//! turn, 20 inputs per transaction) verified through the interpreter by the daemon's
//! script-check pool, against raw libsecp256k1 parsing and verifying the same signatures on a
//! pool of as many threads, measured in the same run. The ratio's floor is 0.85 (issue 13).
//!
//! `cargo bench -p rbtcd --bench scripts`; under `cargo test` (no `--bench` argument) one
//! short pass.

#[path = "../../core/benches/signing/mod.rs"]
mod signing;

use rayon::prelude::*;
use rbtcd::scripts::ScriptPool;
use rbtcd_core::chain::builder::spend;
use rbtcd_core::chain::script_check::{verify_block_scripts, ScriptChecks};
use rbtcd_core::primitives::{Block, Hash256, OutPoint, TxOut};
use rbtcd_core::script::STANDARD_FLAGS;
use secp256k1::SecretKey;
use signing::{best_of, sign, Kind, RawCheck};
use std::sync::Arc;

const INPUTS_PER_TX: u32 = 20;

/// A block of `txs` signed transactions after a coinbase, what each spends, and the raw
/// checks of all their signatures.
fn signed_block(txs: u32) -> (Block, Vec<Vec<TxOut>>, Vec<RawCheck>) {
    let key = SecretKey::from_slice(&[0x42; 32]).expect("valid key");
    let coinbase = spend(&[OutPoint::new(Hash256::ZERO, u32::MAX)], &[1]);
    let (mut txdata, mut spent, mut raw) = (vec![coinbase], vec![Vec::new()], Vec::new());
    for t in 0..txs {
        let inputs: Vec<OutPoint> = (0..INPUTS_PER_TX)
            .map(|i| {
                let mut id = [0u8; 32];
                id[..4].copy_from_slice(&t.to_le_bytes());
                OutPoint::new(Hash256(id), i)
            })
            .collect();
        let signed = sign(&spend(&inputs, &[49_000]), Kind::ALL[t as usize % 3], &key);
        txdata.push(signed.tx);
        spent.push(signed.spent);
        raw.extend(signed.raw);
    }
    let block = Block {
        header: Default::default(),
        txdata,
    };
    (block, spent, raw)
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let (txs, rounds) = if full { (300, 10) } else { (6, 1) };
    let (block, spent, raw) = signed_block(txs);
    let checks = raw.len();
    let pool = ScriptPool::new(None).expect("script threads");
    let threads = pool.threads();
    let scripts = ScriptChecks {
        executor: Arc::new(pool),
        // The default signature cache, empty and only looked up: block validation of
        // signatures the mempool never saw.
        ..ScriptChecks::default()
    };
    let interp = best_of(rounds, || {
        verify_block_scripts(&block, &spent, STANDARD_FLAGS, &scripts).expect("signed block");
    });
    let raw_pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("raw threads");
    let bare = best_of(rounds, || {
        raw_pool.install(|| assert!(raw.par_iter().all(RawCheck::verify)));
    });
    let interp_rate = checks as f64 / interp.as_secs_f64();
    let raw_rate = checks as f64 / bare.as_secs_f64();
    println!("block of {txs} transactions, {checks} signed inputs, {threads} threads");
    println!("bench: script_checks_per_sec_all_cores: {interp_rate:.0} checks/s");
    println!("bench: secp256k1_parse_verify_per_sec_all_cores: {raw_rate:.0} checks/s");
    println!(
        "ratio: script_checks_over_secp256k1_all_cores: {:.3}",
        interp_rate / raw_rate
    );
}
