//! Seeded driver of the whole node's case ([`rbtcd_fuzz::node_case`]): each case is a pure
//! function of its seed; one case in eight is replayed and must give the same outputs.
//!
//! Usage: `node <seed> <seconds>`; prints `executions=N panics=P violations=V elapsed=...`.
//! Failing cases are reported with their seed.

use rbtcd_core::node::{Notification, Output};
use rbtcd_fuzz::node_case::{run_case, world};
use rbtcd_fuzz::{Rng, Source};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::{Duration, Instant};

fn main() {
    let (seed, secs) = rbtcd_fuzz::seed_and_seconds("node");
    let w = world();
    rbtcd_fuzz::print_first_panic_only();
    let mut rng = Rng::new(seed);
    let start = Instant::now();
    let limit = Duration::from_secs(secs);
    let (mut executions, mut panics, mut violations) = (0u64, 0u64, 0u64);
    // How far cases get: handshakes completed, blocks connected, peers dropped, RPC replies
    // with a result (not an error), WebSocket texts.
    let (mut ready, mut connected, mut dropped) = (0u64, 0u64, 0u64);
    let (mut answered, mut ws_texts) = (0u64, 0u64);
    while start.elapsed() < limit {
        let case = rng.next_u64();
        let result = catch_unwind(AssertUnwindSafe(|| {
            let (outputs, broken) = run_case(&mut Rng::new(case), &w);
            for o in &outputs {
                match o {
                    Output::Notify(Notification::PeerReady(_)) => ready += 1,
                    Output::Notify(Notification::BlockConnected { .. }) => connected += 1,
                    Output::Disconnect { .. } => dropped += 1,
                    Output::RpcReply { body, .. } if body.contains("\"error\":null") => {
                        answered += 1
                    }
                    Output::Ws { .. } => ws_texts += 1,
                    _ => {}
                }
            }
            // Replaying one case in eight checks determinism.
            if broken.is_none()
                && case.is_multiple_of(8)
                && run_case(&mut Rng::new(case), &w).0 != outputs
            {
                return Some("the same case gave different outputs".to_string());
            }
            broken
        }));
        executions += 1;
        match result {
            Ok(None) => {}
            Ok(Some(why)) => {
                violations += 1;
                eprintln!("case {case}: {why}");
            }
            Err(_) => {
                panics += 1;
                eprintln!("case {case}: panicked");
            }
        }
    }
    println!(
        "executions={executions} panics={panics} violations={violations} elapsed={:.1}s seed={seed} \
         handshakes={ready} blocks_connected={connected} disconnects={dropped} \
         rpc_results={answered} ws_texts={ws_texts}",
        start.elapsed().as_secs_f64()
    );
    if panics + violations > 0 {
        std::process::exit(1);
    }
}
