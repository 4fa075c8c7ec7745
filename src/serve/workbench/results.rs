//! What a finished run's page reads from the files the run wrote: its
//! headline and money bridge (`economics.json`), who pays by financial
//! year (`budget.csv`), and its outcomes over time (`timeseries.csv`,
//! named as `summary.json` and the report name them). A file that cannot
//! be read leaves its part of the page out; it never stops the page.

use std::path::Path;

use super::super::store::{Kind, RunRow, State as RunState};
use super::{MOST_SERVED, pages, queue};

/// The headline of a finished run, read from the economics file it wrote:
/// each policy's net present value (median and 90% band) and chance of
/// paying back, named as the terminal and the report name them.
pub(super) fn headline(runs: &Path, run: &RunRow) -> Vec<pages::Headline> {
    if run.state != RunState::Done || run.kind != Kind::Run {
        return Vec::new();
    }
    let (_, out) = queue::folders(runs, run.id);
    let Ok(bytes) =
        crate::input::read_bytes(&out.join(crate::published::ECONOMICS_FILE), MOST_SERVED)
    else {
        return Vec::new();
    };
    let Ok(json) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
        return Vec::new();
    };
    let empty = Vec::new();
    let appraisals = json["appraisals"].as_array().unwrap_or(&empty);
    appraisals
        .iter()
        .map(|a| {
            let f = |k: &str, q: &str| a[k][q].as_f64();
            pages::Headline {
                scenario: a["scenario"].as_str().unwrap_or("").to_string(),
                npv: [f("npv", "p5"), f("npv", "p50"), f("npv", "p95")],
                chance: a["probability_npv_positive"].as_f64(),
                bridge: serde_json::from_value(a["bridge"].clone()).ok(),
            }
        })
        .collect()
}

/// Each policy's revenue saving by payer and financial year, read from the
/// budget file its run wrote (`budget.csv`'s "Total revenue" lines, nominal
/// £; positive when the payer saves): the figures its table and chart show.
pub(super) fn by_payer(runs: &Path, run: &RunRow) -> Vec<pages::ByPayer> {
    if run.state != RunState::Done || run.kind != Kind::Run {
        return Vec::new();
    }
    let (_, out) = queue::folders(runs, run.id);
    let Ok(bytes) = crate::input::read_bytes(&out.join(crate::published::BUDGET_FILE), MOST_SERVED)
    else {
        return Vec::new();
    };
    let mut reader = csv::Reader::from_reader(bytes.as_slice());
    let Ok(header) = reader.headers().cloned() else {
        return Vec::new();
    };
    let column = |name: &str| header.iter().position(|h| h == name);
    let (Some(scenario), Some(year), Some(payer), Some(account), Some(line), Some(saving)) = (
        column("scenario"),
        column("financial_year"),
        column("payer"),
        column("account"),
        column("service_line"),
        column("saving_mean"),
    ) else {
        return Vec::new();
    };
    let mut found: Vec<pages::ByPayer> = Vec::new();
    for row in reader.records().map_while(Result::ok) {
        let field = |i: usize| row.get(i).unwrap_or("");
        // The baseline is the place's own scenario, named after it.
        if field(account) != "revenue"
            || field(line) != "Total revenue"
            || field(scenario) == run.place
        {
            continue;
        }
        let Ok(value) = field(saving).parse::<f64>() else {
            continue;
        };
        let name = field(scenario);
        let at = match found.iter().position(|b| b.scenario == name) {
            Some(at) => at,
            None => {
                found.push(pages::ByPayer {
                    scenario: name.to_string(),
                    years: Vec::new(),
                    payers: Vec::new(),
                });
                found.len() - 1
            }
        };
        let b = &mut found[at];
        let y = match b.years.iter().position(|y| y == field(year)) {
            Some(y) => y,
            None => {
                b.years.push(field(year).to_string());
                b.years.len() - 1
            }
        };
        let p = match b.payers.iter().position(|(p, _)| p == field(payer)) {
            Some(p) => p,
            None => {
                b.payers.push((field(payer).to_string(), Vec::new()));
                b.payers.len() - 1
            }
        };
        let values = &mut b.payers[p].1;
        values.resize(values.len().max(y + 1), 0.0);
        values[y] = value;
    }
    found
}

/// One outcome over time: every scenario's monthly mean with its 90% band.
pub(super) struct Outcome {
    /// Its title, as the report's chart of it says it.
    pub title: String,
    /// What its axis counts.
    pub axis: String,
    /// Residents in crisis and places held, shown first; events a month
    /// are folded below them.
    pub first: bool,
    /// Each scenario's line, the baseline first.
    pub lines: Vec<crate::serve::chart::Line>,
}

/// A finished run's `summary.json` and `timeseries.csv`, read once for
/// the charts of its outcomes and its figures beside the place's own.
pub(super) struct Series {
    summary: crate::published::SummaryFile,
    rows: Vec<crate::published::MonthRecord>,
}

/// Run `run`'s series, if it is a finished design's run and they read.
pub(super) fn series(runs: &Path, run: &RunRow) -> Option<Series> {
    use crate::published::{MonthRecord, SUMMARY_FILE, SummaryFile, TIMESERIES_FILE};
    if run.state != RunState::Done || run.kind != Kind::Run {
        return None;
    }
    let (_, out) = queue::folders(runs, run.id);
    let read = |name: &str| crate::input::read_bytes(&out.join(name), MOST_SERVED).ok();
    let summary = serde_json::from_slice::<SummaryFile>(&read(SUMMARY_FILE)?).ok()?;
    let bytes = read(TIMESERIES_FILE)?;
    let rows = csv::Reader::from_reader(bytes.as_slice())
        .deserialize::<MonthRecord>()
        .collect::<Result<Vec<_>, _>>()
        .ok()?;
    Some(Series { summary, rows })
}

/// A figure the place gave for last year beside what its baseline
/// simulated in its first year, counted as `upstream new-place` counts it
/// when it scales the place's rates: contacts in the year, or places held
/// on a day (the mean over the year).
pub(super) struct Beside {
    /// The figure, as the form asks for it.
    pub words: &'static str,
    /// The place's own figure.
    pub given: f64,
    /// The baseline's first year, the mean across replicates.
    pub simulated: f64,
}

/// Each figure `run`'s design gave, beside its baseline's first year.
pub(super) fn beside(series: &Series, run: &RunRow) -> Vec<Beside> {
    let Some(baseline) = series.summary.scenarios.first().map(|s| s.name.as_str()) else {
        return Vec::new();
    };
    let mut own = run.design.own.clone();
    let mut found = Vec::new();
    for (name, words) in crate::place::Activity::FIGURES {
        let (Some(Some(given)), Some((service, episode))) = (
            own.named(name).map(|v| *v),
            crate::place::Activity::service_of(name),
        ) else {
            continue;
        };
        let measure = if episode { "occupancy" } else { "events" };
        let metric = format!("service.{service}.{measure}");
        let year: Vec<f64> = series
            .rows
            .iter()
            .filter(|r| r.scenario == baseline && r.metric == metric && r.month <= 12)
            .map(|r| r.mean)
            .collect();
        if year.len() != 12 {
            continue;
        }
        let total: f64 = year.iter().sum();
        found.push(Beside {
            words,
            given,
            simulated: if episode { total / 12.0 } else { total },
        });
    }
    found
}

/// The run's outcomes over time, from its `timeseries.csv`: residents in
/// crisis and each service's charted measure, named as the report names
/// them.
pub(super) fn outcomes(series: &Series) -> Vec<Outcome> {
    use crate::metrics::Metric;
    use crate::model::NeedLevel;
    use crate::published::ServiceKind;
    let summary = &series.summary;
    let months = summary.settings.months as usize;
    let crisis = Metric::Need(NeedLevel::Crisis);
    let mut measures = vec![(
        crisis.name(),
        Outcome {
            title: "Residents in crisis".into(),
            axis: "residents in crisis".into(),
            first: true,
            lines: Vec::new(),
        },
    )];
    for s in &summary.settings.services {
        let (metric, title, axis) = s.charted();
        measures.push((
            metric.name(),
            Outcome {
                title,
                axis,
                first: s.kind == ServiceKind::Episode,
                lines: Vec::new(),
            },
        ));
    }
    for (_, o) in &mut measures {
        o.lines = summary
            .scenarios
            .iter()
            .map(|s| crate::serve::chart::Line {
                name: s.name.clone(),
                mean: vec![f64::NAN; months],
                p5: vec![f64::NAN; months],
                p95: vec![f64::NAN; months],
            })
            .collect();
    }
    for row in &series.rows {
        let Some((_, o)) = measures.iter_mut().find(|(m, _)| *m == row.metric) else {
            continue;
        };
        let Some(line) = o.lines.iter_mut().find(|l| l.name == row.scenario) else {
            continue;
        };
        // Month 1 is the first place; a month outside the horizon, none.
        let at = (row.month as usize).wrapping_sub(1);
        for (to, value) in [
            (&mut line.mean, row.mean),
            (&mut line.p5, row.p5),
            (&mut line.p95, row.p95),
        ] {
            if let Some(x) = to.get_mut(at) {
                *x = value;
            }
        }
    }
    measures
        .into_iter()
        .map(|(_, o)| o)
        .filter(|o| o.lines.iter().all(|l| l.mean.iter().all(|v| v.is_finite())))
        .collect()
}
