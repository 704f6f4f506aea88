//! `rbtcd-sim`: runs simulated networks by seed and reports a summary and trace digest per run;
//! a failing run prints the command that replays it.

use argh::FromArgs;
use rbtcd_sim::run::{run, Options, Report};
use rbtcd_sim::scenario::Kind;
use std::process::ExitCode;

/// rbtcd's deterministic network simulator.
#[derive(FromArgs)]
struct Args {
    /// the (first) seed
    #[argh(option, default = "1")]
    seed: u64,
    /// nodes per run, adversaries included
    #[argh(option, default = "20")]
    nodes: usize,
    /// simulated hours of the fault phase
    #[argh(option, default = "2.0")]
    hours: f64,
    /// scenario: calm, mixed or adversarial
    #[argh(option, default = "String::from(\"mixed\")")]
    scenario: String,
    /// run this many consecutive seeds from --seed (soak mode)
    #[argh(option, default = "1")]
    seeds: u64,
}

fn main() -> ExitCode {
    let args: Args = argh::from_env();
    let Some(kind) = Kind::parse(&args.scenario) else {
        eprintln!(
            "unknown scenario {:?}; choose one of {}",
            args.scenario,
            Kind::NAMES.join(", ")
        );
        return ExitCode::FAILURE;
    };
    let mut failed = Vec::new();
    for seed in args.seed..args.seed.saturating_add(args.seeds) {
        let options = Options {
            seed,
            nodes: args.nodes,
            hours: args.hours,
            kind,
        };
        let report = run(&options);
        println!("{}", summary(&options, &report));
        if !report.passed() {
            for v in &report.violations {
                println!("  violation: {v}");
            }
            println!("  FAILED seed {seed}; replay: {}", options.replay_command());
            failed.push(seed);
        }
    }
    if args.seeds > 1 {
        println!(
            "soak: {} seeds from {}, {} failed{}",
            args.seeds,
            args.seed,
            failed.len(),
            if failed.is_empty() {
                String::new()
            } else {
                format!(": {failed:?}")
            }
        );
    }
    if failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn summary(o: &Options, r: &Report) -> String {
    let s = &r.stats;
    format!(
        "seed={} scenario={} nodes={} honest={} hours={} height={} mined={} txs={} accepted={} \
         frames={} disconnects={} bans={} crashes={} partitions={} attacks={} invalid_sent={} \
         rpc_calls={} ws_blocks={} digest={:016x} {}",
        o.seed,
        o.kind.name(),
        o.nodes,
        r.honest,
        o.hours,
        r.height,
        s.mined,
        s.txs,
        s.tx_accepted,
        s.frames,
        s.disconnects,
        s.bans,
        s.crashes,
        s.partitions,
        s.attacks,
        s.invalid_sent,
        s.rpc_calls,
        s.ws_blocks,
        r.digest,
        if r.passed() { "ok" } else { "FAIL" }
    )
}
