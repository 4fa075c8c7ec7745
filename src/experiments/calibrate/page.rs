//! `upstream calibrate`'s page and charts, drawn with the report's toolkit.

use std::collections::HashMap;
use std::fmt::Write;

use crate::format::count;
use crate::metrics::Band;
use crate::report::charts::{BarGroup, Bars, Body, Chart, Unit, Value};
use crate::report::data::Timeline;
use crate::report::figures::{WIDE, colour};
use crate::report::html::{chart_grid, list, standalone, table};
use crate::report::words::html;
use crate::report::{ReportError, page_with_charts};

/// `upstream calibrate`'s page: what was fitted and how close it came,
/// the parameters the counts informed (stated against fitted), the fit
/// charts, and how to run the calibrated scenario.
fn calibration_page(
    c: &super::Calibration,
    years: u32,
    together: &str,
    charts: &[crate::report::charts::Chart],
    svgs: &HashMap<&str, &str>,
) -> String {
    let title = format!("Upstream: {} fitted to its observed counts", c.scenario);
    let how = if c.generations > 1 {
        format!(
            "by sequential Monte Carlo (ABC-PMC): {} generations, {} candidate parameter sets in all, the first drawn from the stated ranges and each later one proposed around the last one's closest",
            c.generations,
            c.candidates.len()
        )
    } else {
        format!(
            "by rejection: {} candidate parameter sets drawn from the stated ranges",
            c.candidates.len()
        )
    };
    let luck = if c.generations > 1 {
        "each candidate".to_string()
    } else {
        format!("each batch of {}", super::BATCH)
    };
    let lede = format!(
        "Approximate Bayesian computation {how}, each run over {} replicates ({luck} on a luck of its own, so the kept candidates carry chance as the place's counts do), the closest kept. Seed {}.",
        c.replicates, c.seed
    );
    let mut out = String::new();
    out.push_str("<h2 class=\"first\" id=\"fit\">How close the fit came</h2>\n");
    let _ = writeln!(out, "<p class=\"headline\">{}</p>", html(&c.summary(years)));
    let (coverage, outside) = c.coverage();
    let _ = writeln!(out, "<p>{}</p>", html(&coverage));
    for w in outside.into_iter().chain(c.piled_against_an_edge()) {
        let _ = writeln!(out, "<p><strong>{}</strong></p>", html(&w));
    }
    if let Some(w) = c.far_from_the_counts() {
        let _ = writeln!(out, "<p><strong>{}</strong></p>", html(&w));
    }
    let (sentences, informed) = c.findings();
    out.push_str("<h2 id=\"informed\">What the counts informed</h2>\n");
    if !informed.is_empty() {
        let rows: Vec<Vec<String>> = informed
            .iter()
            .map(|[name, stated, posterior, kept]| {
                vec![
                    format!("<code>{}</code>", html(name)),
                    html(stated),
                    html(posterior),
                    html(kept),
                ]
            })
            .collect();
        table(
            &mut out,
            &[
                "Parameter",
                "Stated value (range)",
                "Fitted median (5th to 95th percentile)",
                "Share of the stated 90% range kept",
            ],
            &[false, true, true, true],
            &rows,
        );
    }
    let words: Vec<&str> = sentences.iter().map(String::as_str).collect();
    list(&mut out, &words);
    if !together.is_empty() {
        let _ = writeln!(out, "<p>{}</p>", html(together));
    }
    out.push_str("<h2 id=\"charts\">Observed against simulated</h2>\n");
    let refs: Vec<&crate::report::charts::Chart> = charts.iter().collect();
    chart_grid(&mut out, &refs, svgs);
    let _ = writeln!(
        out,
        "<footer><h2 id=\"reproduce\">Using the calibration</h2>\n<p>{0}, beside this page, restates the parameters the counts informed as ranges; <code>upstream run {0} --uncertainty</code>, run in this folder, carries them into every band. Upstream {1}; the same command, version and files give the same candidates and results, whatever the number of threads.</p></footer>",
        html(crate::published::CALIBRATED_FILE),
        html(env!("CARGO_PKG_VERSION"))
    );
    standalone(&title, &lede, &out)
}

/// A calibration's fit charts (see [`super::calibration_charts`]): one per
/// metric observed, each period's observed count beside the simulation's
/// before calibration (every candidate) and after (the kept ones), with
/// their 90% ranges across candidates and replicates.
fn charts(c: &super::Calibration) -> Vec<Chart> {
    let timeline = Timeline::new((2026, 4), 4);
    let metrics = c.observed.metrics();
    let value = |b: &Band| Value {
        mean: b.mean,
        lo: b.p5,
        hi: b.p95,
    };
    metrics
        .iter()
        .enumerate()
        .map(|(k, metric)| {
            let rows: Vec<(&crate::observed::Observation, &super::Fit)> = c
                .observed
                .observations
                .iter()
                .zip(&c.fit)
                .filter(|(o, _)| o.metric == *metric)
                .collect();
            let observed = rows
                .iter()
                .map(|(_, f)| Value {
                    mean: f.observed,
                    lo: f.observed,
                    hi: f.observed,
                })
                .collect();
            let facts: Vec<String> = rows
                .iter()
                .map(|(o, f)| {
                    format!(
                        "{}: observed {}, before calibration {} ({} to {}), after {} ({} to {})",
                        o.period.label(),
                        count(f.observed),
                        count(f.prior.mean),
                        count(f.prior.p5),
                        count(f.prior.p95),
                        count(f.posterior.mean),
                        count(f.posterior.p5),
                        count(f.posterior.p95)
                    )
                })
                .collect();
            Chart {
                file: format!("fit-{}", k + 1),
                title: format!("{metric}: observed against simulated"),
                alt: format!(
                    "Bar chart of {metric} in each period observed: the observed count, and the simulation's mean with its 90% range before calibration (every candidate) and after (the {} kept). {}.",
                    c.accepted.len(),
                    facts.join("; ")
                ),
                size: WIDE,
                timeline,
                body: Body::Bars(Bars {
                    y_desc: metric.to_string(),
                    note: format!(
                        "Observed: the place's count. Simulated bars are means, whiskers the 90% range, across every candidate's replicates (before) or the {} kept candidates' (after).",
                        c.accepted.len()
                    ),
                    unit: Unit::Count,
                    categories: rows.iter().map(|(o, _)| o.period.label()).collect(),
                    groups: vec![
                        BarGroup {
                            label: "Observed".into(),
                            colour: colour(0),
                            values: observed,
                        },
                        BarGroup {
                            label: "Before calibration".into(),
                            colour: colour(2),
                            values: rows.iter().map(|(_, f)| value(&f.prior)).collect(),
                        },
                        BarGroup {
                            label: "After calibration".into(),
                            colour: colour(1),
                            values: rows.iter().map(|(_, f)| value(&f.posterior)).collect(),
                        },
                    ],
                }),
            }
        })
        .collect()
}

/// Its page and fit charts, as (name, contents): `report.html`, and under
/// `charts/` one chart per metric observed, the observed counts beside the
/// simulation's before and after calibration, with 90% ranges. `years` is
/// the horizon simulated; `together` says which fitted parameters moved
/// together, as the terminal does (empty if none).
pub(super) fn page(
    c: &super::Calibration,
    years: u32,
    together: &str,
) -> Result<Vec<(String, Vec<u8>)>, ReportError> {
    let charts = charts(c);
    page_with_charts(&charts, |svgs| {
        calibration_page(c, years, together, &charts, svgs)
    })
}
