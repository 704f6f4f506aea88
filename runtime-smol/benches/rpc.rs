//! `getblockcount` throughput and latency, rbtcd beside Bitcoin Knots in one run: 32
//! concurrent keep-alive clients against each regtest daemon on loopback over plain HTTP, then
//! the same load against an rbtcd serving TLS (its default). Prints requests per second and
//! p99 latency of each, the ratios rbtcd/Knots and TLS/plain, and the machine's load.
//!
//! `cargo bench -p rbtcd --bench rpc`; under `cargo test` (no `--bench` argument) a short smoke
//! pass of half-second loads.

mod common;
#[path = "../tests/common/mod.rs"]
mod e2e;

use e2e::knots::{self, Knots};
use e2e::rpc::{Daemon, ADMIN};
use rbtcd::rpc::client::Connector;
use rbtcd::rpc::tls::{self, Trust};
use rbtcd_core::rpc::auth::basic_auth;
use std::time::Duration;

const CLIENTS: usize = 32;
const GETBLOCKCOUNT: &str = r#"{"jsonrpc":"1.0","id":1,"method":"getblockcount","params":[]}"#;

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let run = match full {
        true => Duration::from_secs(5),
        false => Duration::from_millis(500),
    };
    let max_clients = format!("--rpcmaxclients={}", CLIENTS + 8);
    let rbtcd = Daemon::start("bench-rpc", &[&max_clients]);
    let knots = Knots::start(
        "bench-rpc",
        &[&format!("rpcthreads={CLIENTS}"), "rpcworkqueue=256"],
    );
    let loadavg = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let ours = common::hammer(
        &Connector::plain(),
        &rbtcd.rpc,
        &basic_auth(ADMIN.0, ADMIN.1),
        GETBLOCKCOUNT,
        CLIENTS,
        run,
    );
    let theirs = common::hammer(
        &Connector::plain(),
        &knots.rpc,
        &basic_auth(knots::USER.0, knots::USER.1),
        GETBLOCKCOUNT,
        CLIENTS,
        run,
    );
    drop(rbtcd);
    let rbtcd_tls = Daemon::start_tls("bench-rpc-tls", &[&max_clients]);
    let trusted = Connector::tls(tls::client_config(Trust::Cert(&rbtcd_tls.cert())).unwrap());
    let over_tls = common::hammer(
        &trusted,
        &rbtcd_tls.rpc,
        &basic_auth(ADMIN.0, ADMIN.1),
        GETBLOCKCOUNT,
        CLIENTS,
        run,
    );
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "bench: rpc_getblockcount_{CLIENTS}_clients_plain_rbtcd: {:.0} req/s",
        ours.rate()
    );
    println!(
        "bench: rpc_getblockcount_{CLIENTS}_clients_plain_knots: {:.0} req/s",
        theirs.rate()
    );
    println!(
        "ratio: rpc_getblockcount_plain_rbtcd_over_knots: {:.2}",
        ours.rate() / theirs.rate()
    );
    println!(
        "bench: rpc_getblockcount_p99_plain_rbtcd: {:.3} ms",
        ms(ours.p99)
    );
    println!(
        "bench: rpc_getblockcount_p99_plain_knots: {:.3} ms",
        ms(theirs.p99)
    );
    println!(
        "bench: rpc_getblockcount_{CLIENTS}_clients_tls_rbtcd: {:.0} req/s",
        over_tls.rate()
    );
    println!(
        "bench: rpc_getblockcount_p99_tls_rbtcd: {:.3} ms",
        ms(over_tls.p99)
    );
    println!(
        "ratio: rpc_getblockcount_tls_over_plain: {:.2}",
        over_tls.rate() / ours.rate()
    );
    println!(
        "bench: loadavg_1min: {}",
        loadavg.split(' ').next().unwrap_or("?")
    );
    println!("rbtcd: {}", ours.summary());
    println!("knots: {}", theirs.summary());
    println!("rbtcd over TLS: {}", over_tls.summary());
}
