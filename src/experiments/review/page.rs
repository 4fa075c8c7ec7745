//! `upstream review`'s page and charts, drawn with the report's toolkit.

use std::collections::HashMap;
use std::fmt::Write;

use crate::format::count;
use crate::report::charts::{BarGroup, Bars, Body, Chart, Unit, Value};
use crate::report::data::Timeline;
use crate::report::figures::{WIDE, colour};
use crate::report::html::{band_or_mean, chart_grid, list, standalone, table};
use crate::report::words::html;
use crate::report::{ReportError, page_with_charts};

/// `upstream review`'s page: where the observed counts left the
/// projection's band and when, each count beside the band, a chart a
/// metric, and the assumptions that would have to move to close the gap.
fn review_page(
    r: &super::Reviewed,
    run: &str,
    charts: &[crate::report::charts::Chart],
    svgs: &HashMap<&str, &str>,
) -> String {
    let title = format!("Upstream: {} against what happened", r.scenario);
    let lede = format!(
        "The projection made by the run in {run}, made again from its recorded files and seed ({} replicates), beside the counts in {}. A count outside the projection's 90% band is one the projection did not expect.",
        r.replicates,
        r.observed.name()
    );
    let mut out = String::new();
    out.push_str(
        "<h2 class=\"first\" id=\"departures\">Where the counts left the projection</h2>\n",
    );
    let _ = writeln!(out, "<p class=\"headline\">{}</p>", html(&r.summary()));
    let departures = r.departure_sentences();
    if !departures.is_empty() {
        list(
            &mut out,
            &departures.iter().map(|d| d.as_str()).collect::<Vec<_>>(),
        );
    }
    let rows: Vec<Vec<String>> = r
        .observed
        .observations
        .iter()
        .zip(&r.rows)
        .map(|(o, row)| {
            vec![
                html(&o.metric),
                html(&o.period.label()),
                html(&count(o.count)),
                band_or_mean(&row.projected, count, true),
                html(row.side.name()),
                html(o.source.as_deref().unwrap_or("")),
            ]
        })
        .collect();
    table(
        &mut out,
        &[
            "Metric",
            "Period",
            "Observed",
            "Projected (90% range)",
            "Observed against the band",
            "Source",
        ],
        &[false, false, true, true, false, false],
        &rows,
    );
    let refs: Vec<&crate::report::charts::Chart> = charts.iter().collect();
    chart_grid(&mut out, &refs, svgs);
    out.push_str("<h2 id=\"levers\">What would have to move</h2>\n");
    if r.distance == 0.0 {
        out.push_str("<p>No count left the band, so there is no gap to close.</p>\n");
    } else {
        let _ = writeln!(
            out,
            "<p>Each uncertain assumption moved alone to the end of its range that brings the projection nearer the counts outside the band, with the run's seed, ranked by the share of the gap (a root mean square relative difference of {}) it closes. In the world assumptions move together; here they move one at a time.</p>",
            html(&format!("{:.1}%", r.distance * 100.0))
        );
        let rows: Vec<Vec<String>> = r
            .levers
            .iter()
            .take(10)
            .map(|l| {
                vec![
                    format!("<code>{}</code>", html(&l.parameter)),
                    html(if l.high { "high" } else { "low" }),
                    html(&l.value),
                    html(&format!("{:.0}%", l.closes * 100.0)),
                ]
            })
            .collect();
        table(
            &mut out,
            &[
                "Assumption",
                "End of its range",
                "Value there",
                "Share of the gap closed",
            ],
            &[false, false, true, true],
            &rows,
        );
    }
    let _ = writeln!(
        out,
        "<footer><h2 id=\"reproduce\">Reproducing this review</h2>\n<p>Upstream {}; <code>upstream review {} --scenario \"{}\" --observed {}</code>. The projection is checked month by month against the run's timeseries.csv before it is compared.</p></footer>",
        html(env!("CARGO_PKG_VERSION")),
        html(run),
        html(&r.scenario),
        html(&r.observed.name())
    );
    standalone(&title, &lede, &out)
}

/// A review's charts (see [`super::review_charts`]): one per metric
/// observed, each period's observed count beside the projection's mean and
/// 90% range across replicates.
fn charts(r: &super::Reviewed) -> Vec<Chart> {
    let timeline = Timeline::new((2026, 4), 4);
    let metrics = r.observed.metrics();
    metrics
        .iter()
        .enumerate()
        .map(|(k, metric)| {
            let rows: Vec<(&crate::observed::Observation, &super::Row)> = r
                .observed
                .observations
                .iter()
                .zip(&r.rows)
                .filter(|(o, _)| o.metric == *metric)
                .collect();
            let facts: Vec<String> = rows
                .iter()
                .map(|(o, row)| {
                    format!(
                        "{}: observed {}, projected {} ({} to {}), {} the band",
                        o.period.label(),
                        count(o.count),
                        count(row.projected.mean),
                        count(row.projected.p5),
                        count(row.projected.p95),
                        row.side.name()
                    )
                })
                .collect();
            Chart {
                file: format!("review-{}", k + 1),
                title: format!("{metric}: observed against the projection"),
                alt: format!(
                    "Bar chart of {metric} in each period observed: the observed count beside the projection's mean and 90% range. {}.",
                    facts.join("; ")
                ),
                size: WIDE,
                timeline,
                body: Body::Bars(Bars {
                    y_desc: metric.to_string(),
                    note: format!(
                        "Observed: the place's count. Projected: {}'s mean across its {} replicates, the whisker their 90% range.",
                        r.scenario, r.replicates
                    ),
                    unit: Unit::Count,
                    categories: rows.iter().map(|(o, _)| o.period.label()).collect(),
                    groups: vec![
                        BarGroup {
                            label: "Observed".into(),
                            colour: colour(0),
                            values: rows
                                .iter()
                                .map(|(o, _)| Value {
                                    mean: o.count,
                                    lo: o.count,
                                    hi: o.count,
                                })
                                .collect(),
                        },
                        BarGroup {
                            label: "Projected".into(),
                            colour: colour(1),
                            values: rows
                                .iter()
                                .map(|(_, row)| Value {
                                    mean: row.projected.mean,
                                    lo: row.projected.p5,
                                    hi: row.projected.p95,
                                })
                                .collect(),
                        },
                    ],
                }),
            }
        })
        .collect()
}

/// Its page and charts, as (name, contents): `report.html`, and under
/// `charts/` one chart per metric observed, the observed counts beside the
/// projection's band. `run` is the reviewed run's folder.
pub(super) fn page(r: &super::Reviewed, run: &str) -> Result<Vec<(String, Vec<u8>)>, ReportError> {
    let charts = charts(r);
    page_with_charts(&charts, |svgs| review_page(r, run, &charts, svgs))
}
