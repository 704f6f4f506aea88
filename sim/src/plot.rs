//! A run drawn as SVG: each node's tip height over simulated time with partitions (red) and
//! honest nodes' downtime (grey) as bands and the end of the fault phase as a line, and below
//! it how long each block took to reach the honest nodes (median, 90th percentile and
//! slowest), so a failing run can be looked at.

use crate::run::{Options, Report};
use crate::world::Timeline;
use plotters::prelude::*;

/// Simulated ms in an hour.
const HOUR: f64 = 3_600_000.0;

/// Draws `timeline` of the run `options` (which `report` summarises) to the SVG file `path`.
pub fn draw(
    path: &str,
    options: &Options,
    report: &Report,
    timeline: &Timeline,
) -> Result<(), Box<dyn std::error::Error>> {
    let plan = options.plan();
    let end = timeline
        .heights
        .iter()
        .flatten()
        .map(|(t, _)| *t)
        .chain(timeline.down.iter().map(|d| d.2))
        .max()
        .unwrap_or(1) as f64
        / HOUR;
    let heights = timeline.heights.iter().flatten().map(|(_, h)| *h);
    let (low, high) = (
        heights.clone().min().unwrap_or(0),
        heights.max().unwrap_or(1) + 1,
    );
    let root = SVGBackend::new(path, (1400, 1000)).into_drawing_area();
    root.fill(&WHITE)?;
    let (top, bottom) = root.split_vertically(640);
    let title = format!(
        "seed {} {} - {} nodes ({} honest), {} h of faults: {}",
        options.seed,
        options.kind.name(),
        options.nodes,
        plan.honest,
        options.hours,
        if report.passed() { "ok" } else { "FAILED" }
    );
    let mut chart = ChartBuilder::on(&top)
        .caption(title, ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(56)
        .build_cartesian_2d(0.0..end, low..high)?;
    chart
        .configure_mesh()
        .x_desc("simulated hours")
        .y_desc("tip height")
        .draw()?;
    let band = |from: u64, to: u64, color: RGBAColor| {
        Rectangle::new(
            [(from as f64 / HOUR, low), (to as f64 / HOUR, high)],
            color.filled(),
        )
    };
    chart
        .draw_series(
            plan.partitions
                .iter()
                .map(|p| band(p.at, p.heal, RGBColor(230, 60, 60).mix(0.15))),
        )?
        .label("partition")
        .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 14, y + 5)], RED.mix(0.3).filled()));
    // Adversaries leave for good when the faults end; that is no crash.
    chart
        .draw_series(
            timeline
                .down
                .iter()
                .filter(|(node, _, _)| !plan.is_adversary(*node))
                .map(|(_, from, to)| band(*from, *to, RGBColor(90, 90, 90).mix(0.12))),
        )?
        .label("an honest node down (crash, crash in a write, full disk)")
        .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 14, y + 5)], BLACK.mix(0.3).filled()));
    let heal = plan.fault_end as f64 / HOUR;
    chart
        .draw_series(std::iter::once(PathElement::new(
            vec![(heal, low), (heal, high)],
            BLACK.stroke_width(2),
        )))?
        .label("faults end: all heals, adversaries leave")
        .legend(|(x, y)| PathElement::new(vec![(x + 7, y - 6), (x + 7, y + 6)], BLACK));
    for (i, steps) in timeline.heights.iter().enumerate() {
        let mut points = Vec::with_capacity(steps.len() * 2);
        for (n, (t, h)) in steps.iter().enumerate() {
            if n > 0 {
                points.push((*t as f64 / HOUR, steps[n - 1].1));
            }
            points.push((*t as f64 / HOUR, *h));
        }
        points.push((end, steps.last().map_or(low, |s| s.1)));
        let color = if plan.is_adversary(i) {
            RED.mix(0.8)
        } else {
            Palette99::pick(i).mix(0.7)
        };
        chart.draw_series(LineSeries::new(points, color.stroke_width(1)))?;
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .position(SeriesLabelPosition::UpperLeft)
        .draw()?;
    draw_propagation(&bottom, timeline, end)?;
    root.present()?;
    Ok(())
}

/// The lower panel: per block, seconds from its first connection to its arrival at the
/// honest nodes that connected it.
fn draw_propagation(
    area: &DrawingArea<SVGBackend, plotters::coord::Shift>,
    timeline: &Timeline,
    end: f64,
) -> Result<(), Box<dyn std::error::Error>> {
    let mut rows: Vec<(f64, [f64; 3])> = Vec::new();
    for times in timeline.blocks.values() {
        let Some(first) = times.iter().min() else {
            continue;
        };
        let mut delays: Vec<f64> = times.iter().map(|t| (t - first) as f64 / 1000.0).collect();
        delays.sort_by(f64::total_cmp);
        let at = |q: f64| delays[((delays.len() - 1) as f64 * q).round() as usize];
        rows.push((*first as f64 / HOUR, [at(0.5), at(0.9), at(1.0)]));
    }
    rows.sort_by(|a, b| a.0.total_cmp(&b.0));
    let top = rows.iter().map(|r| r.1[2]).fold(1.0, f64::max).max(1.0) * 1.1;
    let mut chart = ChartBuilder::on(area)
        .caption("block propagation to honest nodes", ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(56)
        .build_cartesian_2d(0.0..end, 0.0..top)?;
    chart
        .configure_mesh()
        .x_desc("simulated hours (block first connected)")
        .y_desc("seconds")
        .draw()?;
    let styles = [
        ("median", BLUE),
        ("90th percentile", GREEN),
        ("slowest", RED),
    ];
    for (k, (name, color)) in styles.into_iter().enumerate() {
        chart
            .draw_series(LineSeries::new(
                rows.iter().map(|(x, q)| (*x, q[k])),
                color.stroke_width(2),
            ))?
            .label(name)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], color));
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .position(SeriesLabelPosition::UpperRight)
        .draw()?;
    Ok(())
}
