//! Soak runs: many seeds, each in its own process (`--jobs` at a time), each reporting one
//! JSON line that the parent collects into a summary table and a JSON file for CI. A process
//! per seed keeps seeds independent: a panic, an abort or runaway memory in one seed cannot
//! take the others down.

use crate::run::{Options, Report};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

/// The prefix of the line a child prints with its result.
pub const RESULT_PREFIX: &str = "result: ";

/// One seed's outcome.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// The run.
    pub options: Options,
    /// Its one-line summary.
    pub summary: String,
    /// Its violations (empty: passed).
    pub violations: Vec<String>,
    /// Its trace digest.
    pub digest: u64,
}

impl Outcome {
    /// True when every invariant held.
    pub fn passed(&self) -> bool {
        self.violations.is_empty()
    }

    /// The outcome as JSON.
    pub fn to_json(&self) -> Value {
        json!({
            "seed": self.options.seed,
            "nodes": self.options.nodes,
            "hours": self.options.hours,
            "scenario": self.options.kind.name(),
            "passed": self.passed(),
            "violations": self.violations,
            "digest": format!("{:016x}", self.digest),
            "summary": self.summary,
            "replay": self.options.replay_command(),
        })
    }
}

/// The JSON line a child prints for `report`.
pub fn result_line(report: &Report) -> String {
    let line = json!({
        "violations": report.violations,
        "digest": format!("{:016x}", report.digest),
    });
    format!("{RESULT_PREFIX}{line}")
}

/// Runs every run of `runs` in a child process of `exe`, `jobs` at a time; `done` hears of
/// each outcome as it comes in. Outcomes are returned in the order of `runs`.
pub fn run_all(
    exe: &std::path::Path,
    runs: &[Options],
    jobs: usize,
    mut done: impl FnMut(&Outcome),
) -> Vec<Outcome> {
    let mut pending = runs.iter().enumerate();
    let mut running: Vec<(usize, Child)> = Vec::new();
    let mut outcomes: BTreeMap<usize, Outcome> = BTreeMap::new();
    loop {
        while running.len() < jobs.max(1) {
            let Some((n, options)) = pending.next() else {
                break;
            };
            let child = Command::new(exe)
                .args(options.args())
                .arg("--result-line")
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .expect("the simulator can start itself");
            running.push((n, child));
        }
        if running.is_empty() {
            break;
        }
        // Children run at their own pace; wait on the oldest (its output is read to the end,
        // so a child never blocks on a full pipe).
        let (n, child) = running.remove(0);
        let outcome = collect(runs[n].clone(), child);
        done(&outcome);
        outcomes.insert(n, outcome);
    }
    outcomes.into_values().collect()
}

/// Reads a child's output to the end and turns it into an outcome.
fn collect(options: Options, mut child: Child) -> Outcome {
    let stdout = child.stdout.take().expect("piped");
    let mut summary = String::new();
    let mut result: Option<Value> = None;
    for line in BufReader::new(stdout).lines().map_while(Result::ok) {
        match line.strip_prefix(RESULT_PREFIX) {
            Some(json) => result = serde_json::from_str(json).ok(),
            None if line.starts_with("seed=") => summary = line,
            None => {}
        }
    }
    let status = child.wait();
    let (violations, digest) = match result {
        Some(r) => (
            r["violations"]
                .as_array()
                .map(|vs| {
                    vs.iter()
                        .filter_map(|v| v.as_str().map(String::from))
                        .collect()
                })
                .unwrap_or_default(),
            r["digest"]
                .as_str()
                .and_then(|d| u64::from_str_radix(d, 16).ok())
                .unwrap_or(0),
        ),
        None => (
            vec![format!("the run's process gave no result ({status:?})")],
            0,
        ),
    };
    Outcome {
        options,
        summary,
        violations,
        digest,
    }
}

/// The closing table: counts, then each failure with its first violation and replay command.
pub fn table(outcomes: &[Outcome]) -> String {
    let failed: Vec<&Outcome> = outcomes.iter().filter(|o| !o.passed()).collect();
    let mut out = format!(
        "soak: {} seeds, {} ok, {} failed\n",
        outcomes.len(),
        outcomes.len() - failed.len(),
        failed.len()
    );
    if !failed.is_empty() {
        out.push_str(&format!(
            "{:>8}  {:<70}  replay\n",
            "seed", "first violation"
        ));
        for o in failed {
            let first: String = o.violations[0].chars().take(70).collect();
            out.push_str(&format!(
                "{:>8}  {:<70}  {}\n",
                o.options.seed,
                first,
                o.options.replay_command()
            ));
        }
    }
    out
}
