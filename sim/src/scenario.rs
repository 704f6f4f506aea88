//! Scenarios: the fault mix of a run, itself derived from the run's seed (VOPR style), so every
//! seed explores a different combination of latency, loss, partitions, crashes, clock skew and
//! adversaries.

use crate::links::LinkMix;
use rbtcd_core::rng::Rng;
use std::collections::BTreeSet;

/// Simulated milliseconds in a minute.
pub const MINUTE_MS: u64 = 60_000;
/// Simulated milliseconds in an hour.
pub const HOUR_MS: u64 = 60 * MINUTE_MS;
/// Largest clock skew given to a node: well inside the 2 h future-block limit and the
/// median-time-past rule, so skew alone never makes an honest block invalid.
pub const MAX_SKEW_MS: u64 = 20 * MINUTE_MS;
/// Most nodes that mine in a run (drawn among the honest nodes).
pub const MAX_MINERS: usize = 16;
/// How long the network stays quiet after the last fault heals before convergence is checked.
pub const QUIET_MS: u64 = 30 * MINUTE_MS;

/// A named family of fault mixes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// No faults: latency only, blocks and transactions (the benchmark's load).
    Calm,
    /// Every fault kind, each with a seed-chosen intensity (possibly zero).
    Mixed,
    /// Mixed, with many adversarial peers attacking often, each sending invalid blocks.
    Adversarial,
}

impl Kind {
    /// The scenario names the CLI accepts.
    pub const NAMES: [&'static str; 3] = ["calm", "mixed", "adversarial"];

    /// The scenario called `name`.
    pub fn parse(name: &str) -> Option<Kind> {
        match name {
            "calm" => Some(Kind::Calm),
            "mixed" => Some(Kind::Mixed),
            "adversarial" => Some(Kind::Adversarial),
            _ => None,
        }
    }

    /// Its CLI name.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Calm => "calm",
            Kind::Mixed => "mixed",
            Kind::Adversarial => "adversarial",
        }
    }
}

/// What an adversarial peer does besides running an ordinary node.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Attack {
    /// Mines blocks that break a consensus rule and pushes them to its peers.
    InvalidBlocks,
    /// Sends random bytes, sometimes behind a valid magic.
    Garbage,
    /// Sends a `headers` message with more headers than the protocol allows.
    OversizeHeaders,
    /// Floods peers with `addr` messages of random addresses.
    AddrSpam,
    /// Never delivers the blocks it is asked for (stalls downloads).
    StallBlocks,
    /// Connects and then sends nothing at all.
    Silent,
    /// Reads what it is sent very slowly, so its peers' send queues fill.
    SlowReader,
}

impl Attack {
    /// Every attack, in the order a round sends them: invalid blocks first, since garbage or
    /// an oversized message ahead of them would get the connection closed before they arrive.
    const ALL: [Attack; 7] = [
        Attack::InvalidBlocks,
        Attack::Garbage,
        Attack::OversizeHeaders,
        Attack::AddrSpam,
        Attack::StallBlocks,
        Attack::Silent,
        Attack::SlowReader,
    ];
}

/// A kind of fault a run can be told to leave out (shrinking drops them one by one).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Fault {
    /// Adversarial peers (they become honest nodes).
    Adversaries,
    /// Crashes of every kind.
    Crashes,
    /// Partitions.
    Partitions,
    /// Packet loss.
    Loss,
    /// Clock skew.
    Skew,
    /// Slow and intercontinental links (all links regional and fast).
    SlowLinks,
}

impl Fault {
    /// Every fault kind.
    pub const ALL: [Fault; 6] = [
        Fault::Adversaries,
        Fault::Crashes,
        Fault::Partitions,
        Fault::Loss,
        Fault::Skew,
        Fault::SlowLinks,
    ];

    /// Its CLI name.
    pub fn name(self) -> &'static str {
        match self {
            Fault::Adversaries => "adversaries",
            Fault::Crashes => "crashes",
            Fault::Partitions => "partitions",
            Fault::Loss => "loss",
            Fault::Skew => "skew",
            Fault::SlowLinks => "slow-links",
        }
    }

    /// The fault called `name`.
    pub fn parse(name: &str) -> Option<Fault> {
        Fault::ALL.into_iter().find(|f| f.name() == name)
    }
}

/// How a node goes down.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CrashKind {
    /// The process is killed between two events.
    Kill,
    /// The process dies inside a store write: the batch in flight is lost.
    MidBatch,
    /// The disk fills: the next write is refused and the node must stop cleanly; the
    /// operator frees space and restarts it.
    DiskFull,
}

/// A node crash: killed at `at`, restarted `down` later.
#[derive(Clone, Debug)]
pub struct Crash {
    /// The node.
    pub node: usize,
    /// When, ms after the start.
    pub at: u64,
    /// How long it stays down, ms.
    pub down: u64,
    /// How it goes down.
    pub kind: CrashKind,
}

/// A network partition, healed at `heal`.
#[derive(Clone, Debug)]
pub struct Partition {
    /// When it starts, ms after the start.
    pub at: u64,
    /// When it heals, ms after the start.
    pub heal: u64,
    /// One side of the cut (the rest is the other side), or for a link partition the nodes
    /// whose links to everyone are cut.
    pub side: BTreeSet<usize>,
}

/// One run's whole plan: network shape, faults and load.
#[derive(Clone, Debug)]
pub struct Plan {
    /// Total nodes, adversaries included.
    pub nodes: usize,
    /// Indices at and above this are adversaries.
    pub honest: usize,
    /// Attacks of each adversary (index `honest + k`).
    pub attacks: Vec<Vec<Attack>>,
    /// The distributions of link latency and bandwidth.
    pub links: LinkMix,
    /// Probability that a packet is lost (TCP retransmits it: it arrives late).
    pub loss: f64,
    /// Crashes, in time order.
    pub crashes: Vec<Crash>,
    /// Partitions, in time order.
    pub partitions: Vec<Partition>,
    /// Clock skew of each node, ms (signed).
    pub skew_ms: Vec<i64>,
    /// Relative hash rate of each honest node (0: does not mine).
    pub hash_rate: Vec<f64>,
    /// Mean time between blocks, ms.
    pub block_interval: u64,
    /// Mean time between workload transactions, ms.
    pub tx_interval: u64,
    /// Mean time between an adversary's attacks, ms.
    pub attack_interval: u64,
    /// End of the fault phase: everything heals here, ms after the start.
    pub fault_end: u64,
}

impl Plan {
    /// Derives the plan of `kind` for `seed` with `nodes` nodes over `hours` simulated hours.
    pub fn derive(kind: Kind, seed: u64, nodes: usize, hours: f64) -> Plan {
        let mut rng = Rng::new(seed ^ 0x5ce7_a210);
        let fault_end = (hours * HOUR_MS as f64) as u64;
        let chance = |rng: &mut Rng, p: f64| rng.unit() < p;
        let adversaries = match kind {
            Kind::Calm => 0,
            Kind::Mixed => rng.below(nodes as u64 / 5 + 1) as usize,
            Kind::Adversarial => (nodes / 4).max(1),
        };
        let honest = nodes.saturating_sub(adversaries).max(1);
        let attacks = (honest..nodes)
            .map(|_| {
                let mut set: Vec<Attack> = Attack::ALL
                    .iter()
                    .copied()
                    .filter(|_| chance(&mut rng, 0.4))
                    .collect();
                if set.is_empty() {
                    set.push(Attack::ALL[rng.index(Attack::ALL.len())]);
                }
                if kind == Kind::Adversarial && set[0] != Attack::InvalidBlocks {
                    set.insert(0, Attack::InvalidBlocks);
                }
                set
            })
            .collect();
        let faulty = kind != Kind::Calm;
        let low = 1 + rng.below(if faulty { 100 } else { 20 });
        let links = LinkMix {
            regional_ms: (low, low + 1 + rng.below(if faulty { 150 } else { 50 })),
            far: rng.unit() * if faulty { 0.3 } else { 0.1 },
            slow: rng.unit() * if faulty { 0.3 } else { 0.1 },
        };
        let loss = if faulty && chance(&mut rng, 0.5) {
            rng.unit() * 0.1
        } else {
            0.0
        };
        // Crashes per node per simulated day.
        let crash_rate = if faulty { rng.unit() * 3.0 } else { 0.0 };
        let mut crashes = Vec::new();
        let expected = crash_rate * honest as f64 * hours / 24.0;
        let count = (expected + rng.unit()) as usize;
        for _ in 0..count {
            let at = rng.below(fault_end.max(1));
            crashes.push(Crash {
                node: rng.index(honest),
                at,
                down: MINUTE_MS + rng.below(30 * MINUTE_MS),
                kind: [CrashKind::Kill, CrashKind::MidBatch, CrashKind::DiskFull][rng.index(3)],
            });
        }
        crashes.sort_by_key(|c| c.at);
        let mut partitions = Vec::new();
        let count = if faulty { rng.below(4) } else { 0 };
        for _ in 0..count {
            let at = rng.below(fault_end.max(1));
            let heal = (at + 5 * MINUTE_MS + rng.below(60 * MINUTE_MS)).min(fault_end);
            let size = 1 + rng.index(nodes.max(2) / 2);
            let mut side = BTreeSet::new();
            while side.len() < size {
                side.insert(rng.index(nodes));
            }
            partitions.push(Partition { at, heal, side });
        }
        partitions.sort_by_key(|p| p.at);
        let max_skew = if faulty { rng.below(MAX_SKEW_MS) } else { 0 };
        let skew_ms = (0..nodes)
            .map(|_| rng.below(2 * max_skew + 1) as i64 - max_skew as i64)
            .collect();
        // A few big miners and some small ones; most nodes do not mine, as in the real
        // network.
        let miners = (honest / 2).clamp(1, MAX_MINERS);
        let mut hash_rate = vec![0.0; honest];
        for _ in 0..miners {
            hash_rate[rng.index(honest)] = rng.unit() * rng.unit() * 10.0 + 0.01;
        }
        Plan {
            nodes,
            honest,
            attacks,
            links,
            loss,
            crashes,
            partitions,
            skew_ms,
            hash_rate,
            block_interval: 10 * MINUTE_MS,
            tx_interval: 5_000 + rng.below(55_000),
            attack_interval: match kind {
                Kind::Adversarial => MINUTE_MS,
                _ => 10 * MINUTE_MS,
            },
            fault_end,
        }
    }

    /// Removes `fault` from the plan, leaving every other draw as it was.
    pub fn without(&mut self, fault: Fault) {
        match fault {
            Fault::Adversaries => {
                self.honest = self.nodes;
                self.attacks.clear();
                // The former adversaries run as honest nodes that do not mine.
                self.hash_rate.resize(self.nodes, 0.0);
            }
            Fault::Crashes => self.crashes.clear(),
            Fault::Partitions => self.partitions.clear(),
            Fault::Loss => self.loss = 0.0,
            Fault::Skew => self.skew_ms.iter_mut().for_each(|s| *s = 0),
            Fault::SlowLinks => {
                self.links.far = 0.0;
                self.links.slow = 0.0;
            }
        }
    }

    /// True when node `i` is an adversary.
    pub fn is_adversary(&self, i: usize) -> bool {
        i >= self.honest
    }

    /// The attacks of node `i` (none for honest nodes).
    pub fn attacks_of(&self, i: usize) -> &[Attack] {
        if self.is_adversary(i) {
            &self.attacks[i - self.honest]
        } else {
            &[]
        }
    }
}

/// A draw from the exponential distribution with the given mean (Poisson arrivals).
pub fn exponential(rng: &mut Rng, mean: u64) -> u64 {
    let u = 1.0 - rng.unit();
    (-(u.ln()) * mean as f64) as u64 + 1
}
