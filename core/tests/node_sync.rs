//! Nodes syncing over the in-memory harness: headers first, then blocks from every peer in
//! parallel, replacing a peer that stalls; new blocks announced once synced.

use rbtcd_core::chain::builder::BlockBuilder;
use rbtcd_core::harness::{mine_chain, Harness, START};
use rbtcd_core::net::peer::DisconnectReason;
use rbtcd_core::net::syncmgr::BLOCK_TIMEOUT;
use rbtcd_core::node::{Input, NodeConfig, Notification, Output};
use rbtcd_core::params::{Network, Params};
use std::time::Duration;

const MINUTE: Duration = Duration::from_secs(60);

fn tip_height(h: &Harness, i: usize) -> u32 {
    h.nodes[i].chain().tip().height
}

fn connected_heights(h: &Harness, i: usize) -> Vec<u32> {
    h.notifications[i]
        .iter()
        .filter_map(|n| match n {
            Notification::BlockConnected { height, .. } => Some(*height),
            _ => None,
        })
        .collect()
}

#[test]
fn a_fresh_node_syncs_2000_blocks_headers_first() {
    let params = Params::new(Network::Regtest);
    let (store, blocks) = mine_chain(&params, 2000, b"a");
    let mut h = Harness::new(params);
    let full = h.add_node_with_store(NodeConfig::default(), store, 1);
    let fresh = h.add_node(NodeConfig::default(), 2);
    h.connect(fresh, full);
    // Headers-first: the whole header chain is known before the last blocks arrive.
    let headers_done = h.run_until_cond(START + 10 * MINUTE, |h| {
        h.nodes[fresh].chain().index().best_header().height == 2000
    });
    assert!(headers_done);
    assert!(tip_height(&h, fresh) < 2000);
    assert!(h.run_until_cond(START + 10 * MINUTE, |h| tip_height(h, fresh) == 2000));
    assert_eq!(
        h.nodes[fresh].chain().tip().hash,
        blocks.last().unwrap().block_hash()
    );
    assert_eq!(connected_heights(&h, fresh), (1..=2000).collect::<Vec<_>>());
    assert!(h.disconnects[fresh].is_empty());
}

#[test]
fn a_stalling_peer_is_dropped_and_sync_finishes_from_the_others() {
    let params = Params::new(Network::Regtest);
    let (store, _) = mine_chain(&params, 2000, b"a");
    let mut h = Harness::new(params);
    let servers: Vec<usize> = (0..3)
        .map(|i| h.add_node_with_store(NodeConfig::default(), store.duplicate(), 10 + i))
        .collect();
    let fresh = h.add_node(NodeConfig::default(), 2);
    // The first server never sees a getdata, so never answers one.
    h.make_deaf(servers[0], "getdata");
    for s in &servers {
        h.connect(fresh, *s);
    }
    assert!(h.run_until_cond(START + 30 * MINUTE, |h| tip_height(h, fresh) == 2000));
    // The window stall rule, not the 3 min request timeout, found the staller.
    let took = h.now().since(START);
    assert!(took < BLOCK_TIMEOUT, "{took:?}");
    let stalled: Vec<&Output> = h.disconnects[fresh].iter().collect();
    assert_eq!(stalled.len(), 1, "{stalled:?}");
    assert!(matches!(
        stalled[0],
        Output::Disconnect {
            reason: DisconnectReason::Stalled,
            ..
        }
    ));
    // The dropped connection was the deaf server's.
    assert_eq!(h.nodes[servers[0]].peers().len(), 0);
    assert_eq!(h.nodes[fresh].peers().len(), 2);
}

#[test]
fn a_new_block_is_announced_and_fetched_by_synced_peers() {
    let params = Params::new(Network::Regtest);
    let (store, _) = mine_chain(&params, 20, b"a");
    let mut h = Harness::new(params.clone());
    let a = h.add_node_with_store(NodeConfig::default(), store.duplicate(), 1);
    let b = h.add_node_with_store(NodeConfig::default(), store.duplicate(), 2);
    let c = h.add_node_with_store(NodeConfig::default(), store, 3);
    // A line a - b - c: c hears of a's block only through b's announcement.
    h.connect(b, a);
    h.connect(c, b);
    h.run_until(START + MINUTE);
    let t = *h.nodes[a].chain().tip();
    let block = BlockBuilder::new(&params, t.hash, t.height + 1, t.header.time)
        .tag(b"new")
        .build();
    h.input(a, Input::SubmitBlock(block.clone()));
    assert!(h.run_until_cond(START + 2 * MINUTE, |h| tip_height(h, c) == 21));
    assert_eq!(h.nodes[c].chain().tip().hash, block.block_hash());
    assert_eq!(tip_height(&h, b), 21);
}

#[test]
fn a_longer_fork_from_a_peer_reorganises_the_node() {
    let params = Params::new(Network::Regtest);
    let (short, _) = mine_chain(&params, 10, b"short");
    let (long, long_blocks) = mine_chain(&params, 12, b"long");
    let mut h = Harness::new(params);
    let a = h.add_node_with_store(NodeConfig::default(), short, 1);
    let b = h.add_node_with_store(NodeConfig::default(), long, 2);
    h.connect(a, b);
    assert!(h.run_until_cond(START + 5 * MINUTE, |h| tip_height(h, a) == 12));
    assert_eq!(
        h.nodes[a].chain().tip().hash,
        long_blocks.last().unwrap().block_hash()
    );
    let disconnected = h.notifications[a]
        .iter()
        .filter(|n| matches!(n, Notification::BlockDisconnected { .. }))
        .count();
    assert_eq!(disconnected, 10);
}

#[test]
fn runs_are_deterministic() {
    let run = || {
        let params = Params::new(Network::Regtest);
        let (store, _) = mine_chain(&params, 300, b"d");
        let mut h = Harness::new(params);
        let s1 = h.add_node_with_store(NodeConfig::default(), store.duplicate(), 5);
        let s2 = h.add_node_with_store(NodeConfig::default(), store, 6);
        let fresh = h.add_node(NodeConfig::default(), 7);
        h.set_latency(fresh, s1, Duration::from_millis(30));
        h.set_latency(fresh, s2, Duration::from_millis(70));
        h.connect(fresh, s1);
        h.connect(fresh, s2);
        h.run_until_cond(START + 10 * MINUTE, |h| tip_height(h, fresh) == 300);
        (h.now(), h.delivered, h.notifications.clone())
    };
    assert_eq!(run(), run());
}

#[test]
fn a_mesh_with_competing_miners_converges_on_one_tip() {
    let seeds: u64 = std::env::var("MESH_SEEDS").map_or(3, |s| s.parse().unwrap());
    for seed in 0..seeds {
        mesh_converges(seed);
    }
}

fn mesh_converges(seed: u64) {
    use rbtcd_core::rng::Rng;
    let params = Params::new(Network::Regtest);
    let mut h = Harness::new(params.clone());
    let n = 6;
    for i in 0..n {
        h.add_node(NodeConfig::default(), seed * 100 + i as u64);
    }
    let mut rng = Rng::new(seed);
    // A ring plus random chords, with uneven latencies so that blocks race.
    for i in 0..n {
        h.connect(i, (i + 1) % n);
        h.set_latency(i, (i + 1) % n, Duration::from_millis(20 + rng.below(400)));
    }
    for _ in 0..3 {
        let (a, b) = (rng.index(n), rng.index(n));
        if a != b {
            h.connect(a, b);
        }
    }
    h.run_until(START + MINUTE);
    // Forty blocks mined by random nodes, often two at once (competing tips).
    for round in 0..20u64 {
        for tag in 0..2u8 {
            let miner = rng.index(n);
            let t = *h.nodes[miner].chain().tip();
            let block = BlockBuilder::new(&params, t.hash, t.height + 1, t.header.time)
                .tag(&[round as u8, tag])
                .build();
            h.input(miner, Input::SubmitBlock(block));
        }
        h.run_until(START + (2 + round as u32) * MINUTE / 2);
    }
    // Equal-work tips may split the network until one more block breaks the tie.
    h.run_until(START + 20 * MINUTE);
    let t = *h.nodes[0].chain().tip();
    let last = BlockBuilder::new(&params, t.hash, t.height + 1, t.header.time)
        .tag(b"tie-breaker")
        .build();
    h.input(0, Input::SubmitBlock(last.clone()));
    let converged = h.run_until_cond(START + 30 * MINUTE, |h| {
        let tip = h.nodes[0].chain().tip().hash;
        h.nodes.iter().all(|n| n.chain().tip().hash == tip)
    });
    assert!(converged, "seed {seed}");
    assert_eq!(h.nodes[3].chain().tip().hash, last.block_hash());
    assert!(tip_height(&h, 0) >= 20);
}
