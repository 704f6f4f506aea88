//! Node throughput over the in-memory harness: a fresh node syncs a 10,000-block regtest chain
//! from one peer (headers first, then blocks), measured as blocks per second and messages
//! handled per second across both nodes. The ratio compares the sync with connecting the same
//! blocks straight into a chain in the same run, so it shows the node's own overhead
//! (framing, scheduling, serving from the store, mempool updates) on any machine.
//!
//! `cargo bench -p rbtcd-core --bench node`

use rbtcd_core::chain::{Chain, MemStore};
use rbtcd_core::harness::{mine_chain, Harness, START};
use rbtcd_core::node::NodeConfig;
use rbtcd_core::params::{Network, Params};
use std::time::Instant;

/// Chain length under `cargo bench`; `cargo test` (no `--bench` argument) runs a short smoke
/// pass instead.
const BLOCKS: u32 = 10_000;
const BLOCKS_SMOKE: u32 = 300;

fn main() {
    let blocks_n = if std::env::args().any(|a| a == "--bench") {
        BLOCKS
    } else {
        BLOCKS_SMOKE
    };
    let params = Params::new(Network::Regtest);
    let (store, blocks) = mine_chain(&params, blocks_n, b"bench");

    // The limit: the same blocks connected directly.
    let started = Instant::now();
    let mut chain = Chain::open(params.clone(), MemStore::new()).unwrap();
    for b in &blocks {
        chain.process_block(b.clone(), START.unix_secs()).unwrap();
    }
    let direct = blocks_n as f64 / started.elapsed().as_secs_f64();
    assert_eq!(chain.tip().height, blocks_n);

    let mut h = Harness::new(params);
    let full = h.add_node_with_store(NodeConfig::default(), store, 1);
    let fresh = h.add_node(NodeConfig::default(), 2);
    h.set_latency(full, fresh, std::time::Duration::from_millis(1));
    h.connect(fresh, full);
    let started = Instant::now();
    let done = h.run_until_cond(START + std::time::Duration::from_secs(3600), |h| {
        h.nodes[fresh].chain().tip().height == blocks_n
    });
    let secs = started.elapsed().as_secs_f64();
    assert!(done, "sync did not finish within an hour of simulated time");
    let synced = blocks_n as f64 / secs;
    println!("bench: node_sync_{blocks_n}_blocks: {synced:.0} blocks/s");
    println!(
        "bench: node_messages_handled: {:.0} messages/s",
        h.delivered as f64 / secs
    );
    println!("bench: chain_connect_direct: {direct:.0} blocks/s");
    println!("ratio: node_sync_vs_direct_connect: {:.2}", synced / direct);
}
