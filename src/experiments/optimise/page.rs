//! `upstream optimise`'s page and charts, drawn with the report's toolkit.

use std::collections::HashMap;
use std::fmt::Write;

use crate::format::{count, money};
use crate::metrics::Band;
use crate::report::charts::{BARS_NOTE, BarGroup, Bars, Body, Chart, Unit, Value};
use crate::report::data::Timeline;
use crate::report::figures::{WIDE, colour};
use crate::report::html::{band_or_mean, chart_grid, standalone, table};
use crate::report::words::html;
use crate::report::{ReportError, page_with_charts};

/// A band of money or a count, or its mean alone when there are too few
/// replicates for a band.
type BandText<'a> = dyn Fn(&crate::metrics::Band, fn(f64) -> String) -> String + 'a;

/// `upstream optimise`'s page: the best split at each budget with the
/// frontier's charts, how often it stays best, the split as written, the
/// limits, the best splits of the whole budget, and how to reproduce it.
fn optimise_page(
    o: &super::Optimised,
    charts: &[crate::report::charts::Chart],
    svgs: &HashMap<&str, &str>,
) -> String {
    let b = &o.budget;
    let no_bands = crate::published::no_bands(o.replicates);
    let band =
        |x: &crate::metrics::Band, f: fn(f64) -> String| band_or_mean(x, f, no_bands.is_none());
    let ranged = if no_bands.is_some() {
        ""
    } else {
        " (90% range)"
    };
    let title = format!(
        "Upstream: splitting {} a year of prevention, {}",
        money(b.budget),
        o.stated_name
    );
    let lede = format!(
        "{} residents over {} months, {} replicates a split, against {}. The best split maximises expected {}. Every split is a comparison with the baseline under the stated assumptions, with the same luck, not a forecast.",
        count(o.residents as f64),
        o.months,
        o.replicates,
        o.baseline,
        o.objective.name()
    );
    let mut out = String::new();
    let heads = [
        format!("Net present value{ranged}"),
        format!("Crisis-months avoided{ranged}"),
    ];
    optimise_frontier(
        &mut out,
        o,
        &band,
        &heads,
        no_bands.as_deref(),
        charts,
        svgs,
    );
    optimise_limits(&mut out, b);
    optimise_whole_budget(&mut out, o, &band, &heads);
    let _ = writeln!(
        out,
        "<footer><h2 id=\"reproduce\">Reproducing this optimisation</h2>\n<p>Upstream {}; seed {}; {} replicates a split. {} The same command, version and files give the same numbers, byte for byte, whatever the number of threads.</p></footer>",
        html(env!("CARGO_PKG_VERSION")),
        o.seed,
        o.replicates,
        html(&crate::published::bands_cover(o.parameters)),
    );
    standalone(&title, &lede, &out)
}

/// The optimisation page's first section: the best split at each budget
/// beside the split as written, and the frontier's charts.
fn optimise_frontier(
    out: &mut String,
    o: &super::Optimised,
    band: &BandText,
    heads: &[String; 2],
    no_bands: Option<&str>,
    charts: &[crate::report::charts::Chart],
    svgs: &HashMap<&str, &str>,
) {
    let b = &o.budget;
    out.push_str("<h2 class=\"first\" id=\"frontier\">The best split at each budget</h2>\n");
    let _ = writeln!(
        out,
        "<p class=\"headline\">{}</p>",
        html(&format!(
            "At {} a year: {}. {}",
            money(b.budget),
            o.describe(o.best_overall()),
            o.stability()
        ))
    );
    if let Some(why) = no_bands {
        let _ = writeln!(out, "<p><strong>{}</strong></p>", html(why));
    }
    let [npv_head, crisis_head] = heads;
    let mut rows: Vec<Vec<String>> = o
        .best
        .iter()
        .map(|&i| {
            let s = &o.splits[i];
            vec![
                "best".into(),
                html(&money(s.share * b.budget)),
                html(&o.describe(s)),
                band(&s.figures.npv, money),
                band(&s.figures.crisis_months_avoided, count),
                format!("{} of {}", s.wins, o.replicates),
            ]
        })
        .collect();
    rows.push(vec![
        "as written".into(),
        html(&money(o.stated_amount)),
        html(&o.stated_sentence()),
        band(&o.stated.npv, money),
        band(&o.stated.crisis_months_avoided, count),
        String::new(),
    ]);
    table(
        out,
        &[
            "Split",
            "Budget a year",
            "Funding",
            npv_head,
            crisis_head,
            "Replicates in which it is best",
        ],
        &[false, true, false, true, true, true],
        &rows,
    );
    let refs: Vec<&crate::report::charts::Chart> = charts.iter().collect();
    chart_grid(out, &refs, svgs);
}

/// The optimisation page's levers and limits.
fn optimise_limits(out: &mut String, b: &crate::scenario::Budget) {
    out.push_str("<h2 id=\"limits\">The levers and limits</h2>\n<ul>\n");
    let _ = writeln!(
        out,
        "<li>{} a year, split in steps of {} of the amount split, at {} of the budget.</li>",
        html(&money(b.budget)),
        html(&format!("1/{}", b.units)),
        html(
            &b.frontier
                .iter()
                .map(|f| format!("{}%", (f * 100.0).round()))
                .collect::<Vec<_>>()
                .join(", ")
        )
    );
    for l in &b.levers {
        let reach: Vec<String> = l
            .reach
            .iter()
            .map(|r| format!("{} ({} neighbourhoods)", r.label, r.neighbourhoods))
            .collect();
        let _ = writeln!(
            out,
            "<li><strong>{}</strong> (<code>{}</code>), paid for by {}{}; may reach {}.</li>",
            html(&l.name),
            html(&l.intervention),
            html(l.payer.name()),
            b.payer_limit(l.payer)
                .map(|m| format!(", at most {} a year", html(&money(m))))
                .unwrap_or_default(),
            html(&reach.join(" or "))
        );
    }
    if b.minimum_per_neighbourhood > 0.0 {
        let _ = writeln!(
            out,
            "<li>A funded lever spends at least {} a year in each neighbourhood it reaches.</li>",
            html(&money(b.minimum_per_neighbourhood))
        );
    }
    out.push_str("</ul>\n");
}

/// The optimisation page's best splits of the whole budget.
fn optimise_whole_budget(
    out: &mut String,
    o: &super::Optimised,
    band: &BandText,
    heads: &[String; 2],
) {
    let [npv_head, crisis_head] = heads;
    let mut whole: Vec<usize> = (0..o.splits.len())
        .filter(|&i| o.splits[i].share == 1.0)
        .collect();
    let key = |i: usize| match o.objective {
        super::Objective::Npv => o.splits[i].figures.npv.mean,
        super::Objective::CrisisMonths => o.splits[i].figures.crisis_months_avoided.mean,
    };
    whole.sort_by(|&x, &y| key(y).total_cmp(&key(x)).then(x.cmp(&y)));
    let shown = whole.len().min(10);
    let _ = writeln!(
        out,
        "<h2 id=\"splits\">The best {shown} of {} splits of the whole budget</h2>\n<p>By expected {}; splits.csv holds every split at every budget.</p>",
        whole.len(),
        html(o.objective.name())
    );
    let rows: Vec<Vec<String>> = whole[..shown]
        .iter()
        .map(|&i| {
            let s = &o.splits[i];
            vec![
                (i + 1).to_string(),
                html(&o.describe(s)),
                band(&s.figures.npv, money),
                band(&s.figures.crisis_months_avoided, count),
                s.wins.to_string(),
            ]
        })
        .collect();
    table(
        out,
        &[
            "Split",
            "Funding",
            npv_head,
            crisis_head,
            "Replicates in which it is best",
        ],
        &[true, false, true, true, true],
        &rows,
    );
}

/// An optimisation's frontier: the best split's net present value and
/// crisis-months avoided at each share of the budget, with 90% ranges.
fn frontier(o: &super::Optimised) -> Vec<Chart> {
    let timeline = Timeline::new((2026, 4), 4);
    let categories: Vec<String> = o
        .best
        .iter()
        .map(|&i| format!("{} a year", money(o.splits[i].share * o.budget.budget)))
        .collect();
    let over = |file: &str, what: &str, unit: Unit, pick: fn(&super::Figures) -> Band| {
        let values: Vec<Value> = o
            .best
            .iter()
            .map(|&i| {
                let b = pick(&o.splits[i].figures);
                Value {
                    mean: b.mean,
                    lo: b.p5,
                    hi: b.p95,
                }
            })
            .collect();
        let facts: Vec<String> = o
            .best
            .iter()
            .zip(&categories)
            .map(|(&i, c)| {
                let m = pick(&o.splits[i].figures).mean;
                let v = if unit == Unit::Money {
                    money(m)
                } else {
                    count(m)
                };
                format!("{v} at {c} ({})", o.describe(&o.splits[i]))
            })
            .collect();
        Chart {
            file: file.into(),
            title: format!(
                "{} of the best split at each budget (best by {})",
                what.trim_end_matches(" (£)"),
                o.objective.name()
            ),
            alt: format!(
                "Bar chart of {what} for the best split at each budget. {}.",
                facts.join("; ")
            ),
            size: WIDE,
            timeline,
            body: Body::Bars(Bars {
                y_desc: what.to_string(),
                note: BARS_NOTE.into(),
                unit,
                categories: categories.clone(),
                groups: vec![BarGroup {
                    label: "Best split".into(),
                    colour: colour(1),
                    values,
                }],
            }),
        }
    };
    vec![
        over(
            "frontier-npv",
            "Net present value against the baseline (£)",
            Unit::Money,
            |f| f.npv,
        ),
        over(
            "frontier-crisis-months-avoided",
            "Crisis-months avoided against the baseline",
            Unit::Count,
            |f| f.crisis_months_avoided,
        ),
    ]
}

/// Its page and charts, as (name, contents): `report.html`, and under
/// `charts/` the best split's net present value and crisis-months avoided
/// at each share of the budget.
pub(super) fn page(o: &super::Optimised) -> Result<Vec<(String, Vec<u8>)>, ReportError> {
    let charts = frontier(o);
    page_with_charts(&charts, |svgs| optimise_page(o, &charts, svgs))
}
