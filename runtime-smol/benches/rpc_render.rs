//! `getblockcount` latency while 50 clients keep asking for big blocks at verbosity 2: the
//! node finds each block and leaves rendering it to `rpcmaxconcurrentreqs` workers beside it,
//! so the cheap call should wait for the node's loop, not for the renders. Prints the p50 and
//! p99 of `getblockcount`, the `getblock` rate, and the machine's load.
//!
//! `cargo bench -p rbtcd --bench rpc_render`; under `cargo test` (no `--bench` argument) a
//! short smoke pass of half-second loads.

mod common;
#[path = "../tests/common/mod.rs"]
mod e2e;

use e2e::rpc::{Daemon, ADMIN};
use rbtcd::rpc::client::Connector;
use rbtcd_core::rpc::auth::basic_auth;
use std::time::Duration;

/// Clients asking for big blocks.
const GETBLOCK_CLIENTS: usize = 50;
/// Outputs of each big block's coinbase (about 125 kB of block, 1.5 MB of JSON).
const OUTPUTS: usize = 4_000;
const GETBLOCKCOUNT: &str = r#"{"jsonrpc":"1.0","id":1,"method":"getblockcount","params":[]}"#;

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let run = match full {
        true => Duration::from_secs(10),
        false => Duration::from_millis(500),
    };
    let clients = format!("--rpcmaxclients={}", GETBLOCK_CLIENTS + 8);
    let (d, hashes) = Daemon::with_big_blocks("bench-render", OUTPUTS, &[&clients]);
    let auth = basic_auth(ADMIN.0, ADMIN.1);
    let getblock = format!(
        r#"{{"jsonrpc":"1.0","id":1,"method":"getblock","params":["{}",2]}}"#,
        hashes[1]
    );
    let loadavg = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let plain = Connector::plain();
    let (blocks, count) = std::thread::scope(|s| {
        let blocks =
            s.spawn(|| common::hammer(&plain, &d.rpc, &auth, &getblock, GETBLOCK_CLIENTS, run));
        let count = common::hammer(&plain, &d.rpc, &auth, GETBLOCKCOUNT, 1, run);
        (blocks.join().unwrap(), count)
    });
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "bench: rpc_getblockcount_p50_beside_{GETBLOCK_CLIENTS}_getblock_clients: {:.3} ms",
        ms(count.p50)
    );
    println!(
        "bench: rpc_getblockcount_p99_beside_{GETBLOCK_CLIENTS}_getblock_clients: {:.3} ms",
        ms(count.p99)
    );
    println!(
        "bench: rpc_getblock_verbosity2_{OUTPUTS}_outputs_{GETBLOCK_CLIENTS}_clients: {:.1} req/s",
        blocks.rate()
    );
    println!(
        "bench: loadavg_1min: {}",
        loadavg.split(' ').next().unwrap_or("?")
    );
    println!("getblockcount: {}", count.summary());
    println!("getblock: {}", blocks.summary());
}
