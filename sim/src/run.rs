//! One simulated run: a madsim runtime seeded with the run's seed, one host per node, and the
//! controller that drives load and faults through the plan, heals everything, waits out the
//! quiet period and checks the invariants.

use crate::driver::run_node;
use crate::invariants::check_end;
use crate::scenario::{exponential, Kind, Plan, MINUTE_MS, QUIET_MS};
use crate::workload::{premined, Wallet};
use crate::world::{Event, Shared, Stats, World};
use madsim::net::NetSim;
use madsim::runtime::{Handle, Runtime};
use madsim::time::Instant;
use rbtcd_core::params::{Network, Params};
use rbtcd_core::rng::Rng;
use std::collections::BTreeMap;
use std::time::Duration;

/// Runs above this many nodes skip the UTXO recomputation (it replays every chain).
pub const UTXO_CHECK_MAX_NODES: usize = 64;
/// After healing, a block is mined this late so equal-work forks left by partitions resolve.
const TIEBREAK_AFTER_MS: u64 = 5 * MINUTE_MS;
/// Mean time between RPC requests to a random running node, ms.
const RPC_INTERVAL_MS: u64 = 20_000;

/// What to run.
#[derive(Clone, Debug)]
pub struct Options {
    /// The seed: everything follows from it.
    pub seed: u64,
    /// Nodes, adversaries included.
    pub nodes: usize,
    /// Simulated hours of the fault phase.
    pub hours: f64,
    /// The scenario.
    pub kind: Kind,
}

impl Options {
    /// The command that replays this run.
    pub fn replay_command(&self) -> String {
        let features = if cfg!(feature = "planted-bug-merkle") {
            " --features planted-bug-merkle"
        } else {
            ""
        };
        format!(
            "cargo run --release -p rbtcd-sim{features} -- --seed {} --nodes {} --hours {} --scenario {}",
            self.seed,
            self.nodes,
            self.hours,
            self.kind.name()
        )
    }
}

/// What a run did and found.
#[derive(Clone, Debug)]
pub struct Report {
    /// The trace digest.
    pub digest: u64,
    /// Invariant violations (empty: the run passed).
    pub violations: Vec<String>,
    /// Counters.
    pub stats: Stats,
    /// Height of the most common honest tip at the end.
    pub height: u32,
    /// Honest nodes and adversaries.
    pub honest: usize,
}

impl Report {
    /// True when every invariant held.
    pub fn passed(&self) -> bool {
        self.violations.is_empty()
    }
}

/// Runs `options` to the end (a panic anywhere is a violation, not a crash of the caller).
pub fn run(options: &Options) -> Report {
    let plan = Plan::derive(options.kind, options.seed, options.nodes, options.hours);
    let mut config = madsim::Config::default();
    config.net.send_latency =
        Duration::from_millis(plan.latency_ms.0)..Duration::from_millis(plan.latency_ms.1);
    config.net.packet_loss_rate = plan.loss;
    let runtime = Runtime::with_seed_and_config(options.seed, config);
    let seed = options.seed;
    let honest = plan.honest;
    let recompute = options.nodes <= UTXO_CHECK_MAX_NODES;
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        runtime.block_on(control(plan, seed, recompute))
    }));
    match outcome {
        Ok(report) => report,
        Err(panic) => {
            let what = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "unknown panic".into());
            Report {
                digest: 0,
                violations: vec![format!("panic: {what}")],
                stats: Stats::default(),
                height: 0,
                honest,
            }
        }
    }
}

/// The controller's scheduled steps.
#[derive(Clone, Debug)]
enum Step {
    Mine,
    Tx,
    Rpc,
    Attack(usize),
    Crash(usize),
    Restart(usize),
    Cut(usize),
    Heal(usize),
    EndFaults,
    Tiebreak,
    Check,
}

async fn control(plan: Plan, seed: u64, recompute_utxo: bool) -> Report {
    let params = Params::new(Network::Regtest);
    let handle = Handle::current();
    let mut rng = Rng::new(seed ^ 0xc0_47_01);
    // RPC load draws from its own stream, leaving the rest of the plan as it was.
    let mut rpc_rng = Rng::stream(seed, "sim rpc");
    let mut wallet = Wallet::new(&premined(&params).1, params.coinbase_maturity);
    let world = Shared::new(World::new(params, plan.clone(), seed, Instant::now()));
    for i in 0..plan.nodes {
        let w = world.clone();
        let host = handle
            .create_node()
            .name(format!("node{i}"))
            .ip(crate::world::addr_of(i).ip())
            .init(move || run_node(w.clone(), i))
            .build();
        world.lock().slots[i].id = Some(host.id());
    }
    let mut steps: BTreeMap<(u64, u64), Step> = BTreeMap::new();
    let mut seq = 0u64;
    let mut at = |steps: &mut BTreeMap<(u64, u64), Step>, t: u64, s: Step| {
        seq += 1;
        steps.insert((t, seq), s);
    };
    let total_rate: f64 = plan.hash_rate.iter().sum();
    at(
        &mut steps,
        exponential(&mut rng, plan.block_interval),
        Step::Mine,
    );
    at(
        &mut steps,
        exponential(&mut rng, plan.tx_interval),
        Step::Tx,
    );
    at(
        &mut steps,
        exponential(&mut rpc_rng, RPC_INTERVAL_MS),
        Step::Rpc,
    );
    for i in plan.honest..plan.nodes {
        at(
            &mut steps,
            exponential(&mut rng, plan.attack_interval),
            Step::Attack(i),
        );
    }
    for (n, c) in plan.crashes.iter().enumerate() {
        at(&mut steps, c.at, Step::Crash(n));
    }
    for (n, p) in plan.partitions.iter().enumerate() {
        at(&mut steps, p.at, Step::Cut(n));
        at(&mut steps, p.heal, Step::Heal(n));
    }
    at(&mut steps, plan.fault_end, Step::EndFaults);
    let net = NetSim::current();
    let mut cuts: BTreeMap<(usize, usize), u32> = BTreeMap::new();
    let start = world.lock().start;
    while let Some(((t, _), step)) = steps.pop_first() {
        madsim::time::sleep_until(start + Duration::from_millis(t)).await;
        let faults = t < plan.fault_end;
        if !faults && matches!(step, Step::Mine | Step::Tx | Step::Rpc | Step::Attack(_)) {
            // Load and attacks end with the fault phase: the quiet period must be quiet.
            continue;
        }
        match step {
            Step::Mine | Step::Tiebreak => {
                let up: Vec<usize> = {
                    let w = world.lock();
                    (0..plan.honest).filter(|i| w.is_up(*i)).collect()
                };
                let miner = if matches!(step, Step::Tiebreak) {
                    up.first().copied()
                } else {
                    pick_miner(&plan.hash_rate, total_rate, &up, &mut rng)
                };
                if let Some(m) = miner {
                    deliver(&world, m, Event::Mine(rng.next_u64()));
                }
                if matches!(step, Step::Mine) {
                    at(
                        &mut steps,
                        t + exponential(&mut rng, plan.block_interval),
                        Step::Mine,
                    );
                }
            }
            Step::Tx => {
                if let Some(tx) = wallet.next_tx() {
                    let up: Vec<usize> = {
                        let w = world.lock();
                        (0..plan.honest).filter(|i| w.is_up(*i)).collect()
                    };
                    if !up.is_empty() {
                        world.lock().stats.txs += 1;
                        deliver(&world, up[rng.index(up.len())], Event::Tx(tx));
                    }
                }
                at(
                    &mut steps,
                    t + exponential(&mut rng, plan.tx_interval),
                    Step::Tx,
                );
            }
            Step::Rpc => {
                let up: Vec<usize> = {
                    let w = world.lock();
                    (0..plan.honest).filter(|i| w.is_up(*i)).collect()
                };
                if !up.is_empty() {
                    let node = up[rpc_rng.index(up.len())];
                    deliver(&world, node, Event::Rpc(rpc_rng.next_u64()));
                }
                at(
                    &mut steps,
                    t + exponential(&mut rpc_rng, RPC_INTERVAL_MS),
                    Step::Rpc,
                );
            }
            Step::Attack(i) => {
                deliver(&world, i, Event::Attack);
                at(
                    &mut steps,
                    t + exponential(&mut rng, plan.attack_interval),
                    Step::Attack(i),
                );
            }
            Step::Crash(n) => {
                let c = &plan.crashes[n];
                if world.lock().is_up(c.node) {
                    if c.mid_batch {
                        world.lock().arm_crash(c.node, 1 + rng.below(3));
                    } else {
                        kill(&world, &handle, c.node);
                    }
                    at(
                        &mut steps,
                        (t + c.down).min(plan.fault_end),
                        Step::Restart(c.node),
                    );
                }
            }
            Step::Restart(i) => restart(&world, &handle, i),
            Step::Cut(n) => {
                world.lock().stats.partitions += 1;
                for link in links(&plan, n) {
                    let count = cuts.entry(link).or_default();
                    *count += 1;
                    if *count == 1 {
                        let ids = host_ids(&world, link);
                        net.clog_link(ids.0, ids.1);
                        net.clog_link(ids.1, ids.0);
                    }
                }
            }
            Step::Heal(n) => {
                for link in links(&plan, n) {
                    let count = cuts.entry(link).or_default();
                    *count = count.saturating_sub(1);
                    if *count == 0 {
                        let ids = host_ids(&world, link);
                        net.unclog_link(ids.0, ids.1);
                        net.unclog_link(ids.1, ids.0);
                    }
                }
            }
            Step::EndFaults => {
                for (link, count) in std::mem::take(&mut cuts) {
                    if count > 0 {
                        let ids = host_ids(&world, link);
                        net.unclog_link(ids.0, ids.1);
                        net.unclog_link(ids.1, ids.0);
                    }
                }
                for i in plan.honest..plan.nodes {
                    kill(&world, &handle, i);
                }
                for i in 0..plan.honest {
                    if !world.lock().is_up(i) {
                        restart(&world, &handle, i);
                    }
                }
                at(&mut steps, t + TIEBREAK_AFTER_MS, Step::Tiebreak);
                at(&mut steps, t + TIEBREAK_AFTER_MS + QUIET_MS, Step::Check);
            }
            Step::Check => {
                let mut w = world.lock();
                check_end(&mut w, recompute_utxo);
                break;
            }
        }
    }
    let w = world.lock();
    let mut heights: BTreeMap<u32, usize> = BTreeMap::new();
    for slot in &w.slots[..plan.honest] {
        if let Some(node) = &slot.node {
            *heights.entry(node.chain().tip().height).or_default() += 1;
        }
    }
    let height = heights
        .iter()
        .max_by_key(|(h, n)| (**n, **h))
        .map_or(0, |(h, _)| *h);
    let mut digest = w.digest;
    digest.add(&height.to_le_bytes());
    Report {
        digest: digest.value(),
        violations: w.violations.clone(),
        stats: w.stats.clone(),
        height,
        honest: plan.honest,
    }
}

/// A miner among the `up` nodes, weighted by hash rate; `None` when none of them mines.
fn pick_miner(rates: &[f64], total: f64, up: &[usize], rng: &mut Rng) -> Option<usize> {
    // Hash rate of nodes that are down is lost, as in reality: the draw may find no one.
    let mut x = rng.unit() * total;
    for (i, r) in rates.iter().enumerate() {
        if x < *r {
            return up.contains(&i).then_some(i);
        }
        x -= r;
    }
    None
}

/// Hands `event` to node `i`'s task if it runs.
fn deliver(world: &Shared, i: usize, event: Event) {
    let events = world.lock().slots[i].events.clone();
    if let Some(events) = events {
        let _ = events.try_send(event);
    }
}

/// Kills node `i`'s host: the process dies between two events.
fn kill(world: &Shared, handle: &Handle, i: usize) {
    let id = world.lock().take_down(i);
    if let Some(id) = id {
        handle.kill(id);
    }
}

/// Restarts node `i`'s host on its store.
fn restart(world: &Shared, handle: &Handle, i: usize) {
    kill(world, handle, i);
    let id = world.lock().slots[i].id;
    if let Some(id) = id {
        handle.restart(id);
    }
}

/// The node pairs partition `n` cuts.
fn links(plan: &Plan, n: usize) -> Vec<(usize, usize)> {
    let side = &plan.partitions[n].side;
    let mut out = Vec::new();
    for a in side {
        for b in 0..plan.nodes {
            if !side.contains(&b) {
                out.push(((*a).min(b), (*a).max(b)));
            }
        }
    }
    out
}

fn host_ids(
    world: &Shared,
    (a, b): (usize, usize),
) -> (madsim::task::NodeId, madsim::task::NodeId) {
    let w = world.lock();
    (
        w.slots[a].id.expect("hosts exist"),
        w.slots[b].id.expect("hosts exist"),
    )
}
