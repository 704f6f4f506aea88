//! `rbtcd-sim`: runs simulated networks by seed and reports a summary and trace digest per run;
//! a failing run prints the command that replays it (shrunk to a smaller reproduction with
//! `--shrink`). `--seeds N --jobs J` soaks N seeds in J processes with a summary table and
//! JSON results; `--plot FILE.svg` draws a run.

use argh::FromArgs;
use rbtcd_sim::run::{run, Options, Report};
use rbtcd_sim::scenario::{Fault, Kind};
use rbtcd_sim::{plot, shrink, soak};
use std::process::ExitCode;

/// rbtcd's deterministic network simulator.
#[derive(FromArgs)]
struct Args {
    /// the (first) seed (default: $MADSIM_TEST_SEED, else 1)
    #[argh(option, default = "default_seed()")]
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
    /// fault kinds to leave out, comma-separated (adversaries, crashes, partitions, loss,
    /// skew, slow-links)
    #[argh(option, default = "String::new()")]
    without: String,
    /// run this many consecutive seeds from --seed (soak mode)
    #[argh(option, default = "1")]
    seeds: u64,
    /// soak seeds in this many processes at once
    #[argh(option, default = "1")]
    jobs: usize,
    /// write the soak's results to this JSON file
    #[argh(option)]
    json: Option<String>,
    /// shrink each failing run to a smaller one failing the same way
    #[argh(switch)]
    shrink: bool,
    /// draw the run (tip heights, partitions and crashes, block propagation) to this SVG file
    #[argh(option)]
    plot: Option<String>,
    /// print the run's result as one JSON line (how soak processes report)
    #[argh(switch)]
    result_line: bool,
}

/// madsim's replay variable, so a seed printed by a madsim-style sweep replays as it does there.
fn default_seed() -> u64 {
    std::env::var("MADSIM_TEST_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1)
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
    let mut without = Vec::new();
    for name in args.without.split(',').filter(|n| !n.is_empty()) {
        match Fault::parse(name) {
            Some(f) => without.push(f),
            None => {
                eprintln!("unknown fault kind {name:?} in --without");
                return ExitCode::FAILURE;
            }
        }
    }
    let runs: Vec<Options> = (args.seed..args.seed.saturating_add(args.seeds))
        .map(|seed| Options {
            without: without.clone(),
            ..Options::new(seed, args.nodes, args.hours, kind)
        })
        .collect();
    let outcomes = if args.jobs > 1 && runs.len() > 1 {
        let exe = std::env::current_exe().expect("the simulator knows its own path");
        soak::run_all(&exe, &runs, args.jobs, |o| {
            println!("{}", o.summary);
            print_failure(&o.options, &o.violations);
        })
    } else {
        runs.iter().map(|o| run_here(o, &args)).collect()
    };
    if runs.len() > 1 {
        print!("{}", soak::table(&outcomes));
    }
    if let Some(path) = &args.json {
        let all: Vec<_> = outcomes.iter().map(soak::Outcome::to_json).collect();
        let text = serde_json::to_string_pretty(&all).expect("JSON values serialise");
        if let Err(e) = std::fs::write(path, text) {
            eprintln!("cannot write {path}: {e}");
            return ExitCode::FAILURE;
        }
    }
    if args.shrink {
        for o in outcomes.iter().filter(|o| !o.passed()) {
            shrink_and_print(&o.options);
        }
    }
    if outcomes.iter().all(soak::Outcome::passed) {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Runs `options` in this process, printing its summary (and its plot when asked).
fn run_here(options: &Options, args: &Args) -> soak::Outcome {
    let report = match &args.plot {
        Some(path) => {
            let (report, timeline) = rbtcd_sim::run::run_recorded(options);
            match plot::draw(path, options, &report, &timeline) {
                Ok(()) => println!("plot: {path}"),
                Err(e) => eprintln!("cannot draw {path}: {e}"),
            }
            report
        }
        None => run(options),
    };
    let summary = summary(options, &report);
    println!("{summary}");
    print_failure(options, &report.violations);
    if args.result_line {
        println!("{}", soak::result_line(&report));
    }
    soak::Outcome {
        options: options.clone(),
        summary,
        violations: report.violations,
        digest: report.digest,
    }
}

fn print_failure(options: &Options, violations: &[String]) {
    if violations.is_empty() {
        return;
    }
    for v in violations {
        println!("  violation: {v}");
    }
    println!(
        "  FAILED seed {}; replay: {}",
        options.seed,
        options.replay_command()
    );
}

fn shrink_and_print(options: &Options) {
    let report = run(options);
    if report.passed() {
        println!("shrink: seed {} passed when run again", options.seed);
        return;
    }
    let shrunk = shrink::shrink(options, &report, run);
    println!(
        "shrunk seed {} in {} runs to: {}\n  still failing: {}",
        options.seed,
        shrunk.runs,
        shrunk.options.replay_command(),
        shrunk.report.violations[0]
    );
}

fn summary(o: &Options, r: &Report) -> String {
    let s = &r.stats;
    format!(
        "seed={} scenario={} nodes={} honest={} hours={} height={} mined={} txs={} accepted={} \
         frames={} disconnects={} send_queue_drops={} bans={} crashes={} store_faults={} \
         partitions={} attacks={} invalid_sent={} rpc_calls={} ws_blocks={} ws_txs={} \
         digest={:016x} {}",
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
        s.send_queue_drops,
        s.bans,
        s.crashes,
        s.store_faults,
        s.partitions,
        s.attacks,
        s.invalid_sent,
        s.rpc_calls,
        s.ws_blocks,
        s.ws_txs,
        r.digest,
        if r.passed() { "ok" } else { "FAIL" }
    )
}
