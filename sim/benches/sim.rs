//! Simulator throughput: wall time of the calm scenario (blocks every 10 simulated minutes, a
//! steady transaction load) for many nodes over many simulated hours, and peak memory per
//! simulated node (VmHWM). `cargo bench -p rbtcd-sim --bench sim` measures 1,000 nodes: the
//! hours it runs come from `SIM_BENCH_HOURS` (default 24); `SIM_BENCH_NODES` changes the node
//! count. Under `cargo test` it runs a short smoke pass instead.

use rbtcd_sim::run::{run, Options};
use rbtcd_sim::scenario::Kind;
use std::time::Instant;

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Peak resident memory of this process, KiB.
fn vm_hwm_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// CPU time this process used so far, seconds (user + system, from /proc/self/stat).
fn cpu_secs() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which ends with ')'): utime and stime are 14th and 15th.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let (nodes, hours) = if full {
        (
            env_or("SIM_BENCH_NODES", 1000usize),
            env_or("SIM_BENCH_HOURS", 24.0f64),
        )
    } else {
        (5, 0.25)
    };
    let base = vm_hwm_kib().unwrap_or(0);
    let options = Options::new(1, nodes, hours, Kind::Calm);
    let started = Instant::now();
    let report = run(&options);
    let secs = started.elapsed().as_secs_f64();
    let cpu = cpu_secs().unwrap_or(0.0);
    assert!(report.passed(), "bench run failed: {:?}", report.violations);
    let peak = vm_hwm_kib().unwrap_or(0);
    // The run includes the 35-minute healing and quiet phase after the load.
    let simulated_hours = hours + 35.0 / 60.0;
    println!("bench: sim_nodes: {nodes}");
    println!("bench: sim_simulated_hours: {simulated_hours:.2} h");
    println!("bench: sim_wall_time: {secs:.1} s");
    println!("bench: sim_cpu_time: {cpu:.1} s");
    println!(
        "bench: machine_load: {}",
        std::fs::read_to_string("/proc/loadavg")
            .unwrap_or_default()
            .trim()
    );
    println!(
        "bench: sim_blocks: {} mined, height {}",
        report.stats.mined, report.height
    );
    println!(
        "bench: sim_load: {} txs submitted, {} tx acceptances, {} frames delivered",
        report.stats.txs, report.stats.tx_accepted, report.stats.frames
    );
    println!(
        "bench: sim_node_hours_per_wall_second: {:.1}",
        nodes as f64 * simulated_hours / secs
    );
    println!(
        "bench: sim_peak_memory_per_node: {:.0} KiB (VmHWM {peak} KiB, {base} KiB before the run)",
        peak.saturating_sub(base) as f64 / nodes as f64
    );
    println!(
        "bench: sim_node_hours_per_cpu_second: {:.1}",
        nodes as f64 * simulated_hours / cpu.max(0.001)
    );
    println!(
        "ratio: sim_simulated_vs_wall_time: {:.1}",
        simulated_hours * 3600.0 / secs
    );
}
