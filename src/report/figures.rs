//! Which charts a run gets, built from its numbers, each with a title that
//! says what it shows and alt text that says what it found.

use super::ReportError;
use super::charts::{
    BARS_NOTE, BarGroup, Bars, Body, Chart, Colour, Curve, Curves, Grid, LAYER_COLOURS, Line,
    Lines, Marker, SCENARIO_COLOURS, Screened, Screening, Swing, Tornado, Unit, Value,
};
use super::data::{Appraisal, RunData};
use crate::format::{count, money, signed};
use crate::metrics::{Band, Metric, ServiceMeasure};
use crate::model::NeedLevel;

pub(crate) const WIDE: (u32, u32) = (1100, 600);

/// Where a chart goes in the report.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Section {
    Scenario(usize),
    Demand,
    Neighbourhoods,
    /// The assumptions that decide a result: a sensitivity run's charts.
    Decide,
    /// Whether each scenario is worth it: its acceptability curves.
    Worth,
}

pub(crate) struct Figure {
    pub section: Section,
    pub chart: Chart,
}

/// A headline measure charted over time for every scenario.
struct Measure {
    metric: Metric,
    /// Short name used in file names.
    slug: String,
    title: String,
    y_desc: String,
    unit: Unit,
}

pub(crate) fn colour(s: usize) -> Colour {
    SCENARIO_COLOURS[s % SCENARIO_COLOURS.len()]
}

fn means(b: &[Band]) -> Vec<f64> {
    b.iter().map(|b| b.mean).collect()
}

fn band(b: &[Band]) -> Option<(Vec<f64>, Vec<f64>)> {
    Some((
        b.iter().map(|b| b.p5).collect(),
        b.iter().map(|b| b.p95).collect(),
    ))
}

fn measures(d: &RunData) -> Vec<Measure> {
    let mut v = vec![
        Measure {
            metric: Metric::ReactiveCost,
            slug: "reactive-cost".into(),
            title: "Reactive cost each month".into(),
            y_desc: "£ a month, at price base".into(),
            unit: Unit::Money,
        },
        Measure {
            metric: Metric::Need(NeedLevel::Crisis),
            slug: "crisis".into(),
            title: "Residents in crisis".into(),
            y_desc: "residents in crisis".into(),
            unit: Unit::Count,
        },
    ];
    for s in &d.summary.settings.services {
        let (metric, title, y_desc) = s.charted();
        v.push(Measure {
            metric,
            // Apart from the fixed charts' names, whatever the service's id.
            slug: format!("service-{}", s.id.replace('_', "-")),
            title,
            y_desc,
            unit: Unit::Count,
        });
    }
    v.push(Measure {
        metric: Metric::QolIndex,
        slug: "quality-of-life".into(),
        title: "Quality of life (mean index, 0 to 1)".into(),
        y_desc: "quality-of-life index".into(),
        unit: Unit::Index,
    });
    v
}

fn fmt(unit: Unit, v: f64) -> String {
    match unit {
        Unit::Money => money(v),
        Unit::Index => format!("{v:.4}"),
        _ => count(v),
    }
}

/// Whether the run has replicates enough for a 90% range to mean anything.
fn ranges(d: &RunData) -> bool {
    d.summary.settings.replicates >= super::MIN_REPLICATES_FOR_RANGES
}

/// " with 90% bands", or what the bands are where there are too few
/// replicates for them to be read as ranges.
fn bands_words(ranges: bool) -> &'static str {
    if ranges {
        ", with 90% bands"
    } else {
        ", with the replicates' spread shaded (too few replicates for a range)"
    }
}

fn range_words(unit: Unit, b: &Band, ranges: bool) -> String {
    if !ranges {
        return fmt(unit, b.mean);
    }
    let crosses = if b.p5 < 0.0 && b.p95 > 0.0 {
        ", crossing zero"
    } else {
        ""
    };
    format!(
        "{} (90% range {} to {}{crosses})",
        fmt(unit, b.mean),
        fmt(unit, b.p5),
        fmt(unit, b.p95)
    )
}

/// Each scenario's line and band of a measure over time, or with
/// `difference`, each policy's paired difference from the baseline.
fn over_time(d: &RunData, m: &Measure, difference: bool) -> Result<Chart, ReportError> {
    let (series, first) = if difference {
        (&d.differences, 1)
    } else {
        (&d.timeseries, 0)
    };
    let mut lines = Vec::new();
    let mut found = Vec::new();
    for (s, name) in d.names().enumerate().skip(first) {
        let b = series.get(s, &m.metric)?;
        found.push(format!(
            "{name} {}",
            range_words(m.unit, &b[b.len() - 1], ranges(d))
        ));
        lines.push(Line {
            label: name.to_string(),
            colour: colour(s),
            mean: means(b),
            band: band(b),
            dashed: false,
        });
    }
    let found = found.join("; ");
    let (file, title, alt, y_desc) = if difference {
        (
            format!("{}-difference", m.slug),
            format!("{}, difference from the baseline", m.title),
            format!(
                "Line chart over time of each scenario's difference from the baseline in “{}”, paired by replicate{}, and a zero line. In the last month: {found}.",
                m.title,
                bands_words(ranges(d))
            ),
            format!("{}, scenario less baseline", m.y_desc),
        )
    } else {
        (
            m.slug.clone(),
            m.title.clone(),
            format!(
                "Line chart over time of “{}” for each scenario{}. In the last month: {found}.",
                m.title,
                bands_words(ranges(d))
            ),
            m.y_desc.clone(),
        )
    };
    Ok(Chart {
        file,
        title,
        alt,
        size: WIDE,
        timeline: d.timeline,
        body: Body::Lines(Lines {
            y_desc,
            unit: m.unit,
            lines,
            zero_line: difference,
            marker: None,
        }),
    })
}

fn slug(s: usize) -> String {
    format!("scenario-{s}")
}

fn cumulative(d: &RunData, s: usize, a: &Appraisal) -> Chart {
    let months = a.cumulative.len();
    let pick = |f: fn(&super::data::Cumulative) -> Band| -> Vec<Band> {
        a.cumulative.iter().map(f).collect()
    };
    let net = pick(|c| c.net);
    let savings = pick(|c| c.savings);
    let investment = pick(|c| c.investment);
    let p = &a.payback_month_discounted;
    let marker = p.p50.map(|m| Marker {
        label: if ranges(d) {
            format!(
                " Pays back: month {m} (90% range {} to {})",
                p.p5.map_or("–".into(), |v| v.to_string()),
                p.p95.map_or("never".into(), |v| v.to_string())
            )
        } else {
            format!(" Pays back: month {m} (median)")
        },
        // Month m's cumulative figure is drawn at m − ½.
        month: m as f64 - 0.5,
        span: (
            p.p5.unwrap_or(m) as f64 - 0.5,
            p.p95.map_or(months as f64, |v| v as f64 - 0.5),
        ),
    });
    let last = net.last().copied().unwrap_or_default();
    let payback = match p.p50 {
        _ if a.undiscounted_investment.mean <= 0.0 => String::new(),
        Some(m) => format!(" It pays back in month {m}."),
        None => format!(
            " It does not pay back within the horizon in {:.0}% of replicates.",
            100.0 * (1.0 - p.within_horizon)
        ),
    };
    let residual = if a.pv_residual_value.mean > 0.0 {
        format!(
            " The last month credits the residual value of capital bought, {} discounted.",
            money(a.pv_residual_value.mean)
        )
    } else {
        String::new()
    };
    Chart {
        file: format!("{}-payback", slug(s)),
        title: format!("{}: cumulative discounted net saving", a.scenario),
        alt: format!(
            "Line chart of cumulative discounted savings, investment and net saving by month against the baseline. By the last month the net saving, which is the net present value, is {}.{payback}{residual}",
            range_words(Unit::Money, &last, ranges(d))
        ),
        size: WIDE,
        timeline: d.timeline,
        body: Body::Lines(Lines {
            y_desc: "£, discounted, at price base".into(),
            unit: Unit::Money,
            lines: vec![
                Line {
                    label: "Reactive cost avoided to date, discounted, after optimism bias".into(),
                    colour: SCENARIO_COLOURS[3],
                    mean: means(&savings),
                    band: None,
                    dashed: false,
                },
                Line {
                    label: "Spending to date (prevention and capital), discounted, with the optimism-bias allowance".into(),
                    colour: SCENARIO_COLOURS[5],
                    mean: means(&investment),
                    band: None,
                    dashed: true,
                },
                Line {
                    label: if a.pv_residual_value.mean > 0.0 {
                        format!(
                            "Net saving to date, discounted (the last month credits capital's value left at the horizon, {} discounted)",
                            money(a.pv_residual_value.mean)
                        )
                    } else {
                        "Net saving to date, discounted".into()
                    },
                    colour: SCENARIO_COLOURS[0],
                    mean: means(&net),
                    band: band(&net),
                    dashed: false,
                },
            ],
            zero_line: true,
            marker,
        }),
    }
}

fn value(b: &Band) -> Value {
    Value {
        mean: b.mean,
        lo: b.p5,
        hi: b.p95,
    }
}

fn who_pays(s: usize, a: &Appraisal, d: &RunData) -> Chart {
    let timeline = d.timeline;
    let shown: Vec<_> = a
        .who_pays
        .iter()
        .filter(|p| {
            [p.spend, p.cost_avoided, p.net]
                .iter()
                .any(|b| b.p5 != 0.0 || b.p95 != 0.0)
        })
        .collect();
    let facts: Vec<String> = shown
        .iter()
        .map(|p| {
            format!(
                "{} net {}",
                p.name,
                range_words(Unit::Money, &p.net, ranges(d))
            )
        })
        .collect();
    Chart {
        file: format!("{}-who-pays", slug(s)),
        title: format!("{}: who pays and who saves", a.scenario),
        alt: format!(
            "Bar chart by payer of extra spending, reactive cost avoided and the net position, discounted over the horizon. {}.",
            if facts.is_empty() {
                "No payer's spending or costs change".to_string()
            } else {
                facts.join("; ")
            }
        ),
        size: WIDE,
        timeline,
        body: Body::Bars(Bars {
            y_desc: "£ over the horizon, discounted".into(),
            note: BARS_NOTE.into(),
            unit: Unit::Money,
            categories: shown.iter().map(|p| p.name.clone()).collect(),
            groups: vec![
                BarGroup {
                    label: "Extra spending".into(),
                    colour: SCENARIO_COLOURS[5],
                    values: shown.iter().map(|p| value(&p.spend)).collect(),
                },
                BarGroup {
                    label: "Reactive cost avoided".into(),
                    colour: SCENARIO_COLOURS[4],
                    values: shown.iter().map(|p| value(&p.cost_avoided)).collect(),
                },
                BarGroup {
                    label: "Net (avoided less spent)".into(),
                    colour: SCENARIO_COLOURS[0],
                    values: shown.iter().map(|p| value(&p.net)).collect(),
                },
            ],
        }),
    }
}

/// Two panels: the baseline's layers, then scenario `s`'s.
/// The difference from the baseline, paired by replicate, of each of
/// `metrics` over time: a line and band each, leaving out the ones a
/// scenario never moves.
fn difference_lines(
    d: &RunData,
    s: usize,
    metrics: &[(Metric, String, Colour)],
) -> Result<Vec<Line>, ReportError> {
    let mut lines = Vec::new();
    for (metric, label, colour) in metrics {
        let b = d.differences.get(s, metric)?;
        if b.iter()
            .all(|x| x.mean == 0.0 && x.p5 == 0.0 && x.p95 == 0.0)
        {
            continue;
        }
        lines.push(Line {
            label: label.clone(),
            colour: *colour,
            mean: means(b),
            band: band(b),
            dashed: false,
        });
    }
    Ok(lines)
}

/// The last month's mean difference of each line, largest first, in words.
fn largest_at_end(lines: &[Line], unit: Unit) -> String {
    let mut at_end: Vec<(f64, &str)> = lines
        .iter()
        .map(|l| (l.mean.last().copied().unwrap_or(0.0), l.label.as_str()))
        .collect();
    at_end.sort_by(|a, b| b.0.abs().total_cmp(&a.0.abs()));
    at_end
        .iter()
        .take(3)
        .map(|(v, l)| format!("{l} {}", fmt(unit, *v)))
        .collect::<Vec<_>>()
        .join("; ")
}

fn cost_by_service(d: &RunData, s: usize) -> Result<Chart, ReportError> {
    let services = &d.summary.settings.services;
    let mut metrics: Vec<(Metric, String, Colour)> = services
        .iter()
        .enumerate()
        .map(|(i, x)| {
            (
                Metric::service(&x.id, ServiceMeasure::Cost),
                x.name.clone(),
                LAYER_COLOURS[i % 8],
            )
        })
        .collect();
    metrics.push((
        Metric::HandoffCost,
        "Handoff (failure demand)".into(),
        LAYER_COLOURS[8],
    ));
    metrics.push((
        Metric::PreventionSpend,
        "Prevention and early help".into(),
        LAYER_COLOURS[9],
    ));
    let lines = difference_lines(d, s, &metrics)?;
    let names: Vec<&str> = d.names().collect();
    Ok(Chart {
        file: format!("{}-cost-by-service", slug(s)),
        title: format!(
            "{}: cost by service, difference from the baseline",
            names[s]
        ),
        alt: format!(
            "Line chart over time of each service's monthly cost in {} less the baseline's, paired by replicate{}, and a zero line; below zero is a saving; capital is not shown. Largest differences in the last month: {}.",
            names[s],
            bands_words(ranges(d)),
            if lines.is_empty() {
                "none".to_string()
            } else {
                largest_at_end(&lines, Unit::Money)
            }
        ),
        size: WIDE,
        timeline: d.timeline,
        body: Body::Lines(Lines {
            y_desc: "£ a month, at price base, scenario less baseline".into(),
            unit: Unit::Money,
            lines,
            zero_line: true,
            marker: None,
        }),
    })
}

const NEED_LEVELS: [(NeedLevel, &str); 4] = [
    (NeedLevel::Thriving, "Thriving"),
    (NeedLevel::Coping, "Coping"),
    (NeedLevel::Struggling, "Struggling"),
    (NeedLevel::Crisis, "Crisis"),
];

fn need_composition(d: &RunData, s: usize) -> Result<Chart, ReportError> {
    let colours = [
        LAYER_COLOURS[3],
        LAYER_COLOURS[5],
        LAYER_COLOURS[1],
        LAYER_COLOURS[0],
    ];
    let metrics: Vec<(Metric, String, Colour)> = NEED_LEVELS
        .iter()
        .zip(colours)
        .map(|(&(level, label), c)| (Metric::Need(level), label.to_string(), c))
        .collect();
    let lines = difference_lines(d, s, &metrics)?;
    let names: Vec<&str> = d.names().collect();
    Ok(Chart {
        file: format!("{}-need-levels", slug(s)),
        title: format!(
            "{}: residents by need level, difference from the baseline",
            names[s]
        ),
        alt: format!(
            "Line chart over time of the residents at each need level in {} less the baseline's, paired by replicate{}, and a zero line. In the last month: {}.",
            names[s],
            bands_words(ranges(d)),
            if lines.is_empty() {
                "no difference".to_string()
            } else {
                largest_at_end(&lines, Unit::Count)
            }
        ),
        size: WIDE,
        timeline: d.timeline,
        body: Body::Lines(Lines {
            y_desc: "residents, scenario less baseline".into(),
            unit: Unit::Count,
            lines,
            zero_line: true,
            marker: None,
        }),
    })
}

fn neighbourhood_grid(d: &RunData) -> Option<Chart> {
    let names: Vec<&str> = d.names().collect();
    let mut places: Vec<(u8, &str)> = d
        .neighbourhoods
        .iter()
        .filter(|r| r.scenario == names[0])
        .map(|r| (r.deprivation_decile, r.neighbourhood.as_str()))
        .collect();
    places.sort();
    if names.len() < 2 || places.is_empty() {
        return None;
    }
    let rate = |scenario: &str, place: &str| -> f64 {
        d.neighbourhoods
            .iter()
            .find(|r| r.scenario == scenario && r.neighbourhood == place)
            .map_or(f64::NAN, |r| {
                1000.0 * r.crisis_months / r.resident_months.max(1.0)
            })
    };
    let values: Vec<Vec<f64>> = names[1..]
        .iter()
        .map(|s| {
            places
                .iter()
                .map(|(_, p)| rate(s, p) - rate(names[0], p))
                .collect()
        })
        .collect();
    let mut extremes: Vec<(f64, usize, usize)> = Vec::new();
    for (i, row) in values.iter().enumerate() {
        for (j, v) in row.iter().enumerate() {
            if v.is_finite() {
                extremes.push((*v, i, j));
            }
        }
    }
    let cell = |e: &(f64, usize, usize)| {
        format!(
            "{} in {} under {}",
            signed(e.0, 2),
            places[e.2].1,
            names[e.1 + 1]
        )
    };
    let fall = extremes
        .iter()
        .filter(|e| e.0 < 0.0)
        .min_by(|a, b| a.0.total_cmp(&b.0));
    let rise = extremes
        .iter()
        .filter(|e| e.0 > 0.0)
        .max_by(|a, b| a.0.total_cmp(&b.0));
    let found = match (fall, rise) {
        (Some(f), Some(r)) => format!(
            "The largest fall is {}; the largest rise is {}.",
            cell(f),
            cell(r)
        ),
        (Some(f), None) => format!("The largest fall is {}; nowhere rises.", cell(f)),
        (None, Some(r)) => format!("Nowhere falls; the largest rise is {}.", cell(r)),
        (None, None) => "No neighbourhood changes.".into(),
    };
    let missing = extremes.len() < values.len() * places.len();
    let h = 150 + 40 * values.len() as u32;
    Some(Chart {
        file: "neighbourhoods-crisis".into(),
        title: "Change in crisis by neighbourhood, most deprived first".into(),
        alt: format!(
            "Grid of the change from the baseline in crisis-months per 1,000 resident-months, one row per scenario and one column per neighbourhood ordered by deprivation. {found}{}",
            if missing {
                " Grey cells marked n/a have no figures."
            } else {
                ""
            }
        ),
        size: (1300, h.max(320)),
        timeline: d.timeline,
        body: Body::Grid(Grid {
            rows: names[1..].iter().map(|s| s.to_string()).collect(),
            columns: places.iter().map(|(_, p)| p.to_string()).collect(),
            column_notes: places.iter().map(|(dec, _)| format!("d{dec}")).collect(),
            values,
            unit: Unit::Count,
            x_desc: "Neighbourhoods by deprivation decile (d1 is the most deprived tenth of England)".into(),
            scale_desc: "Change in crisis-months per 1,000 resident-months, scenario less baseline, over the horizon.".into(),
            negative_means: "Blue: fewer months in crisis than the baseline.".into(),
            positive_means: "Orange: more months in crisis.".into(),
        }),
    })
}

/// Every chart of the report, in the order it shows them.
pub(crate) fn figures(d: &RunData) -> Result<Vec<Figure>, ReportError> {
    let n = d.summary.scenarios.len();
    let mut out = Vec::new();
    for a in d.economics.appraisals.iter() {
        let s = d.names().position(|x| x == a.scenario).unwrap_or(0);
        let section = Section::Scenario(s);
        for chart in [
            cumulative(d, s, a),
            who_pays(s, a, d),
            cost_by_service(d, s)?,
            need_composition(d, s)?,
        ] {
            out.push(Figure { section, chart });
        }
    }
    for m in measures(d) {
        for difference in [false, true].into_iter().take(n.min(2)) {
            out.push(Figure {
                section: Section::Demand,
                chart: over_time(d, &m, difference)?,
            });
        }
    }
    for s in 1..n {
        for chart in [tornado(d, s), screening(d, s)].into_iter().flatten() {
            out.push(Figure {
                section: Section::Decide,
                chart,
            });
        }
    }
    for per in ["crisis_month", "qaly"] {
        if let Some(chart) = acceptability(d, per) {
            out.push(Figure {
                section: Section::Worth,
                chart,
            });
        }
    }
    if let Some(chart) = neighbourhood_grid(d) {
        out.push(Figure {
            section: Section::Neighbourhoods,
            chart,
        });
    }
    Ok(out)
}

/// The unit of an acceptability curve, as a sentence names it.
pub(crate) fn unit_words(per: &str) -> &str {
    match per {
        "crisis_month" => "crisis-month avoided",
        "qaly" => "QALY gained",
        other => other,
    }
}

/// Every scenario's acceptability curve for one unit of outcome (`per`), if
/// any scenario gains some of it.
fn acceptability(d: &RunData, per: &str) -> Option<Chart> {
    let names: Vec<&str> = d.names().collect();
    let mut curves = Vec::new();
    let mut facts = Vec::new();
    for a in d.economics.appraisals.iter() {
        let Some(c) = a.acceptability.iter().find(|c| c.per == per) else {
            continue;
        };
        let s = names.iter().position(|x| *x == a.scenario).unwrap_or(0);
        let points: Vec<(f64, f64)> = c
            .willingness_gbp
            .iter()
            .copied()
            .zip(c.chance_worth_it.iter().copied())
            .filter(|p| p.1.is_finite())
            .collect();
        let (Some(first), Some(last)) = (points.first(), points.last()) else {
            continue;
        };
        facts.push(format!(
            "{}: {:.0}% at £0, {:.0}% at {}",
            a.scenario,
            first.1 * 100.0,
            last.1 * 100.0,
            money(last.0)
        ));
        curves.push(Curve {
            label: a.scenario.clone(),
            colour: colour(s),
            points,
        });
    }
    let gains = |a: &Appraisal| match per {
        "qaly" => a.qalys_gained.mean != 0.0,
        _ => a.crisis_months_avoided.mean != 0.0,
    };
    if curves.is_empty() || !d.economics.appraisals.iter().any(gains) {
        return None;
    }
    let unit = unit_words(per);
    Some(Chart {
        file: format!("acceptability-{}", per.replace('_', "-")),
        title: format!("Chance each scenario is worth it, by what a {unit} is worth to the place"),
        alt: format!(
            "Cost-effectiveness acceptability curves: the share of replicates in which each scenario's net present value plus the willingness to pay per {unit} times the units it gains is above zero. {}.",
            facts.join("; ")
        ),
        size: WIDE,
        timeline: d.timeline,
        body: Body::Curves(Curves {
            x_desc: format!(
                "Willingness to pay per {unit} (£{})",
                if per == "qaly" {
                    ""
                } else {
                    ", square-root scale"
                }
            ),
            x_sqrt: per != "qaly",
            y_desc: "Chance it is worth it".into(),
            curves,
            note: format!(
                "At £0 a scenario is worth it when its net present value is above zero; further right, each {unit} counts for that much money too. Shares of replicates."
            ),
        }),
    })
}

/// Parameters a tornado or Morris chart shows: the largest.
pub(crate) const DECIDING: usize = 10;

/// Scenario `s`'s tornado of net present value over the parameters with
/// the largest one-way swings, if the folder has a sensitivity run.
fn tornado(d: &RunData, s: usize) -> Option<Chart> {
    let ranked = d.swings(s);
    let first = ranked.first()?;
    let name = &d.summary.scenarios[s].name;
    let shown: Vec<_> = ranked.iter().take(DECIDING).collect();
    let centre = first.npv_gbp_central;
    Some(Chart {
        file: format!("tornado_{s}"),
        title: format!("{name}: net present value against the baseline, one assumption at a time"),
        alt: format!(
            "Tornado chart of {name}'s net present value: {} with every parameter at its value; {}",
            money(centre),
            shown
                .iter()
                .map(|e| format!(
                    "{} from {} to {}",
                    e.parameter,
                    money(e.npv_gbp_at_low),
                    money(e.npv_gbp_at_high)
                ))
                .collect::<Vec<_>>()
                .join("; ")
        ),
        size: (1400, 140 + 34 * shown.len().max(1) as u32),
        timeline: d.timeline,
        body: Body::Tornado(Tornado {
            x_desc: "Net present value against the baseline (£)".into(),
            centre,
            rows: shown
                .iter()
                .map(|e| Swing {
                    label: e.parameter.clone(),
                    low: e.npv_gbp_at_low,
                    high: e.npv_gbp_at_high,
                })
                .collect(),
        }),
    })
}

/// Scenario `s`'s Morris chart, if the folder has a screen.
fn screening(d: &RunData, s: usize) -> Option<Chart> {
    let ranked = d.screened(s);
    let first = ranked.first()?;
    let name = &d.summary.scenarios[s].name;
    Some(Chart {
        file: format!("morris_{s}"),
        title: format!(
            "{name}: which assumptions move net present value, {} trajectories",
            first.trajectories
        ),
        alt: format!(
            "Morris screen of {name}'s net present value against the baseline; the largest mean elementary effects (per whole range): {}",
            ranked
                .iter()
                .take(DECIDING)
                .map(|e| format!(
                    "{} {} (σ {})",
                    e.parameter,
                    money(e.npv_gbp_mu_star),
                    money(e.npv_gbp_sigma)
                ))
                .collect::<Vec<_>>()
                .join("; ")
        ),
        size: (1400, 800),
        timeline: d.timeline,
        body: Body::Screening(Screening {
            x_desc:
                "μ*: mean size of the elementary effects on net present value (£ per whole range)"
                    .into(),
            y_desc: "σ: their spread (£)".into(),
            points: ranked
                .iter()
                .map(|e| Screened {
                    label: e.parameter.clone(),
                    mu_star: e.npv_gbp_mu_star,
                    sigma: e.npv_gbp_sigma,
                })
                .collect(),
            labelled: DECIDING,
        }),
    })
}
