//! One simulated run: the event loop (calendar events, node ticks) and the controller that
//! drives load and faults through the plan, heals everything, waits out the quiet period and
//! checks the invariants. Simulated time jumps from one event to the next; a run is a pure
//! function of its seed.

use crate::calls::RPC_INTERVAL_MS;
use crate::invariants::check_end;
use crate::scenario::{exponential, CrashKind, Fault, Kind, Plan, MINUTE_MS, QUIET_MS};
use crate::workload::{premined, Wallet};
use crate::world::{Ev, Stats, Timeline, TxFate, World};
use rbtcd_core::params::{Network, Params};
use rbtcd_core::rng::Rng;
use std::collections::BTreeMap;
use std::time::Duration;

/// Runs above this many nodes skip the UTXO recomputation (it replays every chain).
pub const UTXO_CHECK_MAX_NODES: usize = 64;
/// After healing, a block is mined this late so equal-work forks left by partitions resolve.
const TIEBREAK_AFTER_MS: u64 = 5 * MINUTE_MS;

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
    /// Fault kinds left out of the scenario's plan.
    pub without: Vec<Fault>,
}

impl Options {
    /// A run of `kind` with every fault the scenario draws.
    pub fn new(seed: u64, nodes: usize, hours: f64, kind: Kind) -> Options {
        Options {
            seed,
            nodes,
            hours,
            kind,
            without: Vec::new(),
        }
    }

    /// The plan this run follows.
    pub fn plan(&self) -> Plan {
        let mut plan = Plan::derive(self.kind, self.seed, self.nodes, self.hours);
        for f in &self.without {
            plan.without(*f);
        }
        plan
    }

    /// The arguments of `rbtcd-sim` that replay this run.
    pub fn args(&self) -> Vec<String> {
        let mut args = vec![
            "--seed".into(),
            self.seed.to_string(),
            "--nodes".into(),
            self.nodes.to_string(),
            "--hours".into(),
            self.hours.to_string(),
            "--scenario".into(),
            self.kind.name().into(),
        ];
        if !self.without.is_empty() {
            let names: Vec<&str> = self.without.iter().map(|f| f.name()).collect();
            args.extend(["--without".into(), names.join(",")]);
        }
        args
    }

    /// The command that replays this run.
    pub fn replay_command(&self) -> String {
        let features: String = crate::PLANTED_BUGS
            .iter()
            .filter(|(_, on)| *on)
            .map(|(name, _)| format!(" --features {name}"))
            .collect();
        format!(
            "cargo run --release -p rbtcd-sim{features} -- {}",
            self.args().join(" ")
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
    let plan = options.plan();
    let honest = plan.honest;
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        Controller::new(plan, options.seed).run_on_madsim()
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

/// Runs `options` to the end recording its timeline (for a plot).
pub fn run_recorded(options: &Options) -> (Report, Timeline) {
    let mut controller = Controller::new(options.plan(), options.seed);
    controller.world.timeline = Some(Timeline::new(options.nodes, crate::workload::PREMINED));
    let report = controller.run_on_madsim();
    let mut timeline = controller.world.timeline.take().unwrap_or_default();
    timeline.finish(controller.world.now);
    (report, timeline)
}

/// The controller's scheduled steps.
#[derive(Clone, Debug)]
pub enum Step {
    /// The simulated hash power finds a block.
    Mine,
    /// The workload submits a transaction.
    Tx,
    /// The RPC load: a request to a random running honest node.
    Rpc,
    /// An adversary attacks.
    Attack(usize),
    /// The plan's `n`th crash.
    Crash(usize),
    /// A node comes back.
    Restart(usize),
    /// The plan's `n`th partition starts.
    Cut(usize),
    /// The plan's `n`th partition heals.
    Heal(usize),
    /// The fault phase ends: everything heals.
    EndFaults,
    /// A last block, so that equal-work forks left by partitions resolve.
    Tiebreak,
    /// The end-of-run invariants.
    Check,
}

/// Drives one run.
struct Controller {
    world: World,
    rng: Rng,
    /// The RPC load's own stream, so that it shifts no other draw of the plan.
    rpc_rng: Rng,
    wallet: Wallet,
    total_rate: f64,
    /// The end-of-run check ran.
    done: bool,
}

impl Controller {
    fn new(plan: Plan, seed: u64) -> Controller {
        let params = Params::new(Network::Regtest);
        let wallet = Wallet::new(&premined(&params).1, params.coinbase_maturity);
        Controller {
            total_rate: plan.hash_rate.iter().sum(),
            world: World::new(params, plan, seed),
            rng: Rng::new(seed ^ 0xc0_47_01),
            rpc_rng: Rng::stream(seed, "sim rpc"),
            wallet,
            done: false,
        }
    }

    fn plan(&self) -> &Plan {
        &self.world.plan
    }

    /// Runs to the end on a madsim runtime seeded with the run's seed: the loop sleeps on
    /// madsim's clock until each event's simulated time, so inside a run the OS clock reads
    /// simulated time, OS randomness is madsim's seeded stream and a system thread cannot be
    /// spawned (madsim refuses it): anything in the core or the simulator that reached for the
    /// OS would still replay, and a thread would fail the run.
    fn run_on_madsim(&mut self) -> Report {
        let seed = self.world.seed;
        madsim::runtime::Runtime::with_seed_and_config(seed, madsim::Config::default())
            .block_on(self.run_to_end())
    }

    async fn run_to_end(&mut self) -> Report {
        let start = madsim::time::Instant::now();
        let mut clock = 0;
        let plan = self.plan().clone();
        for i in 0..plan.nodes {
            self.world.start_node(i);
        }
        let first = exponential(&mut self.rng, plan.block_interval);
        self.world.schedule(first, Step::Mine);
        let first = exponential(&mut self.rng, plan.tx_interval);
        self.world.schedule(first, Step::Tx);
        let first = exponential(&mut self.rpc_rng, RPC_INTERVAL_MS);
        self.world.schedule(first, Step::Rpc);
        for i in plan.honest..plan.nodes {
            let first = exponential(&mut self.rng, plan.attack_interval);
            self.world.schedule(first, Step::Attack(i));
        }
        for (n, c) in plan.crashes.iter().enumerate() {
            self.world.schedule(c.at, Step::Crash(n));
        }
        for (n, p) in plan.partitions.iter().enumerate() {
            self.world.schedule(p.at, Step::Cut(n));
            self.world.schedule(p.heal, Step::Heal(n));
        }
        self.world.schedule(plan.fault_end, Step::EndFaults);
        loop {
            let event = self.world.calendar.next_at();
            let tick = self.world.next_tick();
            let next = match (event, tick) {
                (Some(at), Some((due, _))) => at.min(due),
                (Some(at), None) | (None, Some((at, _))) => at,
                (None, None) => clock,
            };
            if next > clock {
                clock = next;
                madsim::time::sleep_until(start + Duration::from_millis(clock)).await;
            }
            match (event, tick) {
                (Some(at), Some((due, _))) if at <= due => self.event(),
                (_, Some((due, i))) => {
                    self.world.now = due;
                    self.world.tick(i);
                }
                (Some(_), None) => self.event(),
                (None, None) => break,
            }
            if self.done {
                break;
            }
        }
        if !self.done {
            self.world
                .violations
                .push("the run ended before its final check".into());
        }
        self.report()
    }

    /// Carries out the earliest calendar event.
    fn event(&mut self) {
        let (at, event) = self.world.calendar.pop().expect("peeked");
        self.world.now = at;
        match event {
            Ev::Net(e) => self.world.on_net(e),
            Ev::Step(step) => self.step(at, step),
        }
    }

    /// The honest nodes running now.
    fn honest_up(&self) -> Vec<usize> {
        (0..self.plan().honest)
            .filter(|i| self.world.is_up(*i))
            .collect()
    }

    fn step(&mut self, t: u64, step: Step) {
        let plan = &self.world.plan;
        let faults = t < plan.fault_end;
        if !faults && matches!(step, Step::Mine | Step::Tx | Step::Rpc | Step::Attack(_)) {
            // Load and attacks end with the fault phase: the quiet period must be quiet.
            return;
        }
        match step {
            Step::Mine => {
                let (interval, rates) = (plan.block_interval, plan.hash_rate.clone());
                let miner = pick_miner(&rates, self.total_rate, &mut self.rng);
                // Hash rate of nodes that are down, or not yet given work, is lost.
                if self.world.is_up(miner) {
                    self.world.solve(miner);
                }
                let next = t + exponential(&mut self.rng, interval);
                self.world.schedule(next, Step::Mine);
            }
            Step::Tiebreak => {
                let miners: Vec<usize> = self
                    .honest_up()
                    .into_iter()
                    .filter(|i| self.plan().hash_rate[*i] > 0.0)
                    .collect();
                let _ = miners.into_iter().find(|m| self.world.solve(*m));
            }
            Step::Tx => {
                let interval = plan.tx_interval;
                if let Some(tx) = self.wallet.next_tx() {
                    let up = self.honest_up();
                    if !up.is_empty() {
                        self.world.stats.txs += 1;
                        self.world.submitted.insert(tx.txid(), TxFate::default());
                        let to = up[self.rng.index(up.len())];
                        // Half go through `sendrawtransaction`, as a wallet would send them.
                        if self.rpc_rng.below(2) == 0 {
                            self.world.send_raw_tx(to, &tx);
                        } else {
                            self.world.feed(to, rbtcd_core::node::Input::SubmitTx(tx));
                        }
                    }
                }
                let next = t + exponential(&mut self.rng, interval);
                self.world.schedule(next, Step::Tx);
            }
            Step::Rpc => {
                let up = self.honest_up();
                if !up.is_empty() {
                    let to = up[self.rpc_rng.index(up.len())];
                    let other = up[self.rpc_rng.index(up.len())];
                    self.world.rpc(to, &mut self.rpc_rng, other);
                }
                let next = t + exponential(&mut self.rpc_rng, RPC_INTERVAL_MS);
                self.world.schedule(next, Step::Rpc);
            }
            Step::Attack(i) => {
                let interval = plan.attack_interval;
                self.world.attack(i);
                let next = t + exponential(&mut self.rng, interval);
                self.world.schedule(next, Step::Attack(i));
            }
            Step::Crash(n) => {
                let c = plan.crashes[n].clone();
                let restart = (t + c.down).min(plan.fault_end);
                if self.world.is_up(c.node) {
                    match c.kind {
                        CrashKind::Kill => self.world.take_down(c.node),
                        CrashKind::MidBatch => {
                            let n = 1 + self.rng.below(3);
                            self.world.arm_crash(c.node, n);
                        }
                        CrashKind::DiskFull => self.world.fill_disk(c.node),
                    }
                    self.world.schedule(restart, Step::Restart(c.node));
                }
            }
            Step::Restart(i) => self.restart(i),
            Step::Cut(n) => {
                self.world.stats.partitions += 1;
                for (a, b) in links(plan, n) {
                    self.world.net.cut(a, b);
                }
            }
            Step::Heal(n) => {
                for (a, b) in links(plan, n) {
                    self.world.net.heal(&mut self.world.calendar, t, a, b);
                }
            }
            Step::EndFaults => {
                let (honest, nodes) = (plan.honest, plan.nodes);
                self.world.net.heal_all(&mut self.world.calendar, t);
                for i in honest..nodes {
                    self.world.retire(i);
                }
                for i in 0..honest {
                    if !self.world.is_up(i) {
                        self.restart(i);
                    }
                }
                self.world.schedule(t + TIEBREAK_AFTER_MS, Step::Tiebreak);
                self.world
                    .schedule(t + TIEBREAK_AFTER_MS + QUIET_MS, Step::Check);
            }
            Step::Check => {
                let recompute = self.world.plan.nodes <= UTXO_CHECK_MAX_NODES;
                check_end(&mut self.world, recompute);
                self.done = true;
            }
        }
    }

    /// Restarts node `i` on its store (killing it first if it still runs).
    fn restart(&mut self, i: usize) {
        self.world.take_down(i);
        self.world.start_node(i);
    }

    fn report(&self) -> Report {
        let w = &self.world;
        let mut heights: BTreeMap<u32, usize> = BTreeMap::new();
        for slot in &w.slots[..w.plan.honest] {
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
            honest: w.plan.honest,
        }
    }
}

/// A miner drawn by hash rate.
fn pick_miner(rates: &[f64], total: f64, rng: &mut Rng) -> usize {
    let mut x = rng.unit() * total;
    for (i, r) in rates.iter().enumerate() {
        if x < *r {
            return i;
        }
        x -= r;
    }
    rates.len() - 1
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
