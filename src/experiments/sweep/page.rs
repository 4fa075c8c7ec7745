//! `upstream sweep`'s page and charts, drawn with the report's toolkit.

use std::collections::HashMap;
use std::fmt::Write;

use crate::format::{count, money};
use crate::metrics::Band;
use crate::report::charts::{BARS_NOTE, BarGroup, Bars, Body, Chart, Grid, Unit, Value};
use crate::report::data::Timeline;
use crate::report::figures::{WIDE, colour};
use crate::report::html::{band_or_mean, chart_grid, standalone, table};
use crate::report::words::html;
use crate::report::{ReportError, page_with_charts};

/// `upstream sweep`'s page: each scenario's net present value,
/// crisis-months avoided and payback at every point of the grid, with the
/// sweep's charts.
fn sweep_page(
    sweep: &super::Swept,
    replicates: u32,
    seed: u64,
    charts: &[crate::report::charts::Chart],
    svgs: &HashMap<&str, &str>,
) -> String {
    let over: Vec<&str> = sweep.axes.iter().map(|a| a.parameter.as_str()).collect();
    let title = format!("Upstream: a sweep over {}", over.join(" and "));
    let lede = format!(
        "Each scenario against {} at every point, {} replicates a point with the same seed ({seed}), so the figures move with the numbers alone, not with chance.",
        sweep.scenarios[0], replicates
    );
    let no_bands = crate::published::no_bands(replicates);
    let ranged = if no_bands.is_some() {
        ""
    } else {
        " (90% range)"
    };
    let mut out = String::new();
    if let Some(why) = &no_bands {
        let _ = writeln!(out, "<p><strong>{}</strong></p>", html(why));
    }
    let refs: Vec<&crate::report::charts::Chart> = charts.iter().collect();
    out.push_str("<h2 class=\"first\" id=\"charts\">Across the sweep</h2>\n");
    chart_grid(&mut out, &refs, svgs);
    let npv_head = format!("Net present value{ranged}");
    let crisis_head = format!("Crisis-months avoided{ranged}");
    for (s, name) in sweep.scenarios.iter().enumerate().skip(1) {
        let _ = writeln!(out, "<h2 id=\"scenario-{s}\">{}</h2>", html(name));
        let rows: Vec<Vec<String>> = sweep
            .points
            .iter()
            .map(|p| {
                let f = &p.scenarios[s - 1];
                let mut row: Vec<String> = sweep
                    .axes
                    .iter()
                    .zip(&p.values)
                    .map(|(a, v)| html(&a.label(*v)))
                    .collect();
                row.extend([
                    band_or_mean(&f.npv, money, no_bands.is_none()),
                    band_or_mean(&f.crisis_months_avoided, count, no_bands.is_none()),
                    html(&format!("{:.0}%", f.payback_within_horizon * 100.0)),
                    html(
                        &f.payback_month_p50
                            .map_or("—".to_string(), |m| format!("month {m}")),
                    ),
                ]);
                row
            })
            .collect();
        let mut head: Vec<&str> = over.clone();
        head.extend([
            npv_head.as_str(),
            crisis_head.as_str(),
            "Replicates paying back (discounted)",
            "Median payback",
        ]);
        let mut numeric = vec![true; head.len()];
        numeric[head.len() - 1] = false;
        table(&mut out, &head, &numeric, &rows);
    }
    let _ = writeln!(
        out,
        "<footer><h2 id=\"reproduce\">Reproducing this sweep</h2>\n<p>Upstream {}; seed {seed}; {} replicates a point; {} points. Each point's results are kept in runs/ under an id that hashes everything that decides them, so a sweep run again into the same folder reruns only the points it lacks. The same command, version and files give the same numbers, byte for byte, whatever the number of threads.</p></footer>",
        html(env!("CARGO_PKG_VERSION")),
        replicates,
        sweep.points.len()
    );
    standalone(&title, &lede, &out)
}

/// A sweep's charts (see [`page`]).
fn charts(sweep: &super::Swept) -> Vec<Chart> {
    let timeline = Timeline::new((2026, 4), 4);
    let names = &sweep.scenarios[1..];
    let value = |b: &Band| Value {
        mean: b.mean,
        lo: b.p5,
        hi: b.p95,
    };
    match &sweep.axes[..] {
        [a] => {
            let categories: Vec<String> = a.values.iter().map(|v| a.label(*v)).collect();
            let over = |file: &str, what: &str, unit: Unit, pick: fn(&super::Figures) -> Band| {
                let groups: Vec<BarGroup> = names
                    .iter()
                    .enumerate()
                    .map(|(s, name)| BarGroup {
                        label: name.clone(),
                        colour: colour(s + 1),
                        values: sweep.points.iter().map(|p| value(&pick(&p.scenarios[s]))).collect(),
                    })
                    .collect();
                let facts: Vec<String> = names
                    .iter()
                    .enumerate()
                    .map(|(s, name)| {
                        let by: Vec<String> = sweep
                            .points
                            .iter()
                            .map(|p| {
                                let m = pick(&p.scenarios[s]).mean;
                                format!(
                                    "{} at {}",
                                    if unit == Unit::Money { money(m) } else { count(m) },
                                    a.label(p.values[0])
                                )
                            })
                            .collect();
                        format!("{name}: {}", by.join(", "))
                    })
                    .collect();
                Chart {
                    file: file.into(),
                    title: format!("{what} as {} varies", a.parameter),
                    alt: format!("Bar chart of {what} at each value of {}. {}.", a.parameter, facts.join("; ")),
                    size: WIDE,
                    timeline,
                    body: Body::Bars(Bars {
                        y_desc: what.to_string(),
                        note: BARS_NOTE.into(),
                        unit,
                        categories: categories.clone(),
                        groups,
                    }),
                }
            };
            vec![
                over("sweep-npv", "Net present value against the baseline (£)", Unit::Money, |f| f.npv),
                over(
                    "sweep-crisis-months-avoided",
                    "Crisis-months avoided against the baseline",
                    Unit::Count,
                    |f| f.crisis_months_avoided,
                ),
            ]
        }
        [a, b] => names
            .iter()
            .enumerate()
            .map(|(s, name)| {
                let values: Vec<Vec<f64>> = (0..b.values.len())
                    .map(|j| {
                        (0..a.values.len())
                            .map(|i| sweep.at(&[i, j]).scenarios[s].npv.mean)
                            .collect()
                    })
                    .collect();
                Chart {
                    file: format!("sweep-npv-{}", s + 1),
                    title: format!("{name}: net present value over {} and {}", a.parameter, b.parameter),
                    alt: format!(
                        "Heat map of {name}'s net present value against the baseline: rows are {} from {} to {}, columns {} from {} to {}; it runs from {} to {}.",
                        b.parameter,
                        b.label(b.values[0]),
                        b.label(b.values[b.values.len() - 1]),
                        a.parameter,
                        a.label(a.values[0]),
                        a.label(a.values[a.values.len() - 1]),
                        money(values.iter().flatten().copied().fold(f64::INFINITY, f64::min)),
                        money(values.iter().flatten().copied().fold(f64::NEG_INFINITY, f64::max)),
                    ),
                    // Tall enough for the colour scale and its notes.
                    size: (1400, (160 + 48 * b.values.len() as u32).max(440)),
                    timeline,
                    body: Body::Grid(Grid {
                        rows: b.values.iter().map(|v| b.label(*v)).collect(),
                        columns: a.values.iter().map(|v| a.label(*v)).collect(),
                        column_notes: vec![String::new(); a.values.len()],
                        values,
                        unit: Unit::Money,
                        x_desc: format!("{} (columns); rows: {}", a.parameter, b.parameter),
                        scale_desc: "Net present value against the baseline, mean across replicates.".into(),
                        negative_means: "Blue: the scenario costs more than it saves.".into(),
                        positive_means: "Orange: it saves more than it costs.".into(),
                    }),
                }
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// Its page and charts, as (name, contents): `report.html`, and under
/// `charts/`: over one number, bar charts of net present value and of
/// crisis-months avoided at each value, every scenario with its 90% range;
/// over two, a heat map of each scenario's net present value.
pub(super) fn page(
    sweep: &super::Swept,
    replicates: u32,
    seed: u64,
) -> Result<Vec<(String, Vec<u8>)>, ReportError> {
    let charts = charts(sweep);
    page_with_charts(&charts, |svgs| {
        sweep_page(sweep, replicates, seed, &charts, svgs)
    })
}
