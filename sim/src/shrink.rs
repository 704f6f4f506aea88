//! Shrinking: a failing run reduced to a smaller one that still breaks the same invariant —
//! fewer nodes, a shorter fault phase, fewer kinds of fault — so the reproduction to read is as
//! small as the seed allows. Each candidate is a full run; the first that still fails the same
//! way is kept and shrinking goes on from it.

use crate::run::{Options, Report};
use crate::scenario::Fault;

/// Fewest nodes a shrunk run keeps.
const MIN_NODES: usize = 3;
/// Shortest fault phase a shrunk run keeps, hours.
const MIN_HOURS: f64 = 0.05;
/// Most candidate runs tried.
const MAX_RUNS: usize = 60;

/// A violation with its numbers and hashes blanked: what makes two failures "the same".
pub fn class(violation: &str) -> String {
    let mut out = String::new();
    let mut in_token = false;
    for c in violation.chars() {
        if c.is_ascii_hexdigit() {
            if !in_token {
                out.push('#');
                in_token = true;
            }
        } else {
            out.push(c);
            in_token = false;
        }
    }
    out
}

/// The result of shrinking.
pub struct Shrunk {
    /// The smallest run found that fails the same way.
    pub options: Options,
    /// Its report.
    pub report: Report,
    /// Candidate runs tried.
    pub runs: usize,
}

/// Shrinks the failing run `options` (whose report is `report`), running candidates with
/// `run`.
pub fn shrink(
    options: &Options,
    report: &Report,
    mut run: impl FnMut(&Options) -> Report,
) -> Shrunk {
    let target = report
        .violations
        .first()
        .map(|v| class(v))
        .unwrap_or_default();
    let mut best = (options.clone(), report.clone());
    let mut runs = 0;
    let mut fails_same = |candidate: &Options, runs: &mut usize| -> Option<Report> {
        *runs += 1;
        let r = run(candidate);
        r.violations.iter().any(|v| class(v) == target).then_some(r)
    };
    let mut progress = true;
    while progress && runs < MAX_RUNS {
        progress = false;
        for candidate in candidates(&best.0) {
            if runs >= MAX_RUNS {
                break;
            }
            if let Some(r) = fails_same(&candidate, &mut runs) {
                best = (candidate, r);
                progress = true;
                break;
            }
        }
    }
    Shrunk {
        options: best.0,
        report: best.1,
        runs,
    }
}

/// Smaller runs than `o`, most reducing first.
fn candidates(o: &Options) -> Vec<Options> {
    let mut out = Vec::new();
    for nodes in [o.nodes / 2, o.nodes * 3 / 4, o.nodes - 1] {
        if nodes >= MIN_NODES && nodes < o.nodes {
            out.push(Options { nodes, ..o.clone() });
        }
    }
    for hours in [o.hours / 2.0, o.hours * 3.0 / 4.0] {
        let hours = (hours * 100.0).round() / 100.0;
        if hours >= MIN_HOURS && hours < o.hours {
            out.push(Options { hours, ..o.clone() });
        }
    }
    for fault in Fault::ALL {
        if !o.without.contains(&fault) {
            let mut c = o.clone();
            c.without.push(fault);
            c.without.sort();
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::Kind;
    use crate::world::Stats;

    fn report(violations: &[&str]) -> Report {
        Report {
            digest: 0,
            violations: violations.iter().map(|v| v.to_string()).collect(),
            stats: Stats::default(),
            height: 0,
            honest: 0,
        }
    }

    #[test]
    fn classes_ignore_numbers_and_hashes() {
        assert_eq!(
            class("honest node 4 connected invalid block 6bfa2f2d at height 203"),
            class("honest node 11 connected invalid block 00ff at height 9")
        );
        assert_ne!(class("node 1 stopped"), class("node 1 restarted"));
    }

    #[test]
    fn shrinks_to_the_smallest_run_failing_the_same_way() {
        // A stand-in for a bug that shows with at least 5 nodes and crashes, at any length.
        let start = Options::new(9, 20, 2.0, Kind::Mixed);
        let fake = |o: &Options| {
            if o.nodes >= 5 && !o.without.contains(&Fault::Crashes) {
                report(&["node 3 stopped unexpectedly: 7"])
            } else if o.nodes >= 5 {
                report(&["another invariant"])
            } else {
                report(&[])
            }
        };
        let shrunk = shrink(&start, &fake(&start), fake);
        assert_eq!(shrunk.options.nodes, 5);
        assert!(shrunk.options.hours <= MIN_HOURS * 2.0);
        assert!(!shrunk.options.without.contains(&Fault::Crashes));
        let without: Vec<Fault> = Fault::ALL
            .into_iter()
            .filter(|f| *f != Fault::Crashes)
            .collect();
        assert_eq!(shrunk.options.without, without);
        assert!(shrunk.runs <= MAX_RUNS);
    }
}
