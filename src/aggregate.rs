//! From replicates to bands: per month, over the horizon, paired against the
//! baseline, and by neighbourhood. Works in replicate order only, so results
//! do not depend on how the runs were scheduled.

use crate::experiment::{Experiment, ScenarioRuns};
use crate::metrics::{Band, Metric, NeighbourhoodMetric};
use crate::model::NeedLevel;

/// One row of a long-format time series.
#[derive(Clone, Debug, PartialEq)]
pub struct MonthRow {
    /// Index of the scenario in the run (0 is the baseline).
    pub scenario: usize,
    /// Month of the horizon, 1-based.
    pub month: usize,
    /// The metric's name, as [`Metric::name`] gives it.
    pub metric: String,
    /// The figure across replicates (pounds for money).
    pub band: Band,
    /// Whether it is money (written to the penny).
    pub money: bool,
}

/// Bands per scenario, month and metric.
pub fn timeseries(exp: &Experiment) -> Vec<MonthRow> {
    let mut rows = Vec::new();
    for (s, runs) in exp.scenarios.iter().enumerate() {
        let months = runs.series.first().map_or(0, |x| x.months);
        for month in 0..months {
            for def in &runs.layout.defs {
                rows.push(MonthRow {
                    scenario: s,
                    month: month + 1,
                    metric: def.name.clone(),
                    band: Band::of(&runs.at_month(&def.metric, month)),
                    money: def.pence,
                });
            }
        }
    }
    rows
}

/// Each scenario minus the baseline (scenario 0), paired by replicate.
pub fn differences(exp: &Experiment) -> Vec<MonthRow> {
    let base = &exp.scenarios[0];
    let mut rows = Vec::new();
    for (s, runs) in exp.scenarios.iter().enumerate().skip(1) {
        let months = runs.series.first().map_or(0, |x| x.months);
        for month in 0..months {
            for def in &runs.layout.defs {
                let a = runs.at_month(&def.metric, month);
                let b = base.at_month(&def.metric, month);
                let d: Vec<f64> = a.iter().zip(&b).map(|(x, y)| x - y).collect();
                rows.push(MonthRow {
                    scenario: s,
                    month: month + 1,
                    metric: def.name.clone(),
                    band: Band::of(&d),
                    money: def.pence,
                });
            }
        }
    }
    rows
}

/// Horizon totals (sum of flows, mean of stocks) for every metric.
pub fn horizon_totals(runs: &ScenarioRuns) -> Vec<(String, Band)> {
    runs.layout
        .defs
        .iter()
        .map(|d| (d.name.clone(), Band::of(&runs.totals(&d.metric))))
        .collect()
}

/// The headline comparison of one scenario with the baseline.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Headline {
    /// This scenario's revenue cost over the horizon (reactive services,
    /// handoff and prevention), £ at the price base, undiscounted.
    pub total_cost_gbp: Band,
    /// Its reactive services' and handoff cost over the horizon, £.
    pub reactive_cost_gbp: Band,
    /// Its interventions' revenue spend over the horizon, £.
    pub prevention_spend_gbp: Band,
    /// Its capital purchases over the horizon, £.
    pub capital_spend_gbp: Band,
    /// Baseline revenue cost minus this scenario's, paired by replicate
    /// (capital is shown apart, not netted off). Read from output folders
    /// written before it had its name.
    #[serde(alias = "net_saving_gbp")]
    pub net_revenue_saving_gbp: Band,
    /// Resident-months in crisis avoided over the horizon, paired.
    pub crisis_months_avoided: Band,
}

/// Replicates below which no output gives a 90% range, only the mean: the
/// 5th and 95th percentiles of fewer are hardly apart from the extremes.
pub const MIN_REPLICATES_FOR_RANGES: u32 = 8;

/// The headline figures of scenario `s` (an index into the experiment's
/// scenarios), its savings paired with the baseline's replicate by replicate.
pub fn headline(exp: &Experiment, s: usize) -> Headline {
    let v = headline_by_replicate(exp, s);
    Headline {
        total_cost_gbp: Band::of(&v.total_cost_gbp),
        reactive_cost_gbp: Band::of(&v.reactive_cost_gbp),
        prevention_spend_gbp: Band::of(&v.prevention_spend_gbp),
        capital_spend_gbp: Band::of(&v.capital_spend_gbp),
        net_revenue_saving_gbp: Band::of(&v.net_revenue_saving_gbp),
        crisis_months_avoided: Band::of(&v.crisis_months_avoided),
    }
}

/// [`Headline`]'s figures replicate by replicate, before they are made
/// bands: figures that add up, so places' figures can be added replicate
/// by replicate into a region's.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HeadlineByReplicate {
    /// As [`Headline::total_cost_gbp`].
    pub total_cost_gbp: Vec<f64>,
    /// As [`Headline::reactive_cost_gbp`].
    pub reactive_cost_gbp: Vec<f64>,
    /// As [`Headline::prevention_spend_gbp`].
    pub prevention_spend_gbp: Vec<f64>,
    /// As [`Headline::capital_spend_gbp`].
    pub capital_spend_gbp: Vec<f64>,
    /// As [`Headline::net_revenue_saving_gbp`].
    pub net_revenue_saving_gbp: Vec<f64>,
    /// As [`Headline::crisis_months_avoided`].
    pub crisis_months_avoided: Vec<f64>,
}

/// Scenario `s`'s headline figures, replicate by replicate.
pub fn headline_by_replicate(exp: &Experiment, s: usize) -> HeadlineByReplicate {
    let runs = &exp.scenarios[s];
    let base = &exp.scenarios[0];
    let paired = |metric: &Metric| -> Vec<f64> {
        let a = runs.totals(metric);
        let b = base.totals(metric);
        a.iter().zip(&b).map(|(x, y)| y - x).collect()
    };
    let months = runs.series.first().map_or(0, |x| x.months) as f64;
    let crisis = |r: &ScenarioRuns| -> Vec<f64> {
        r.totals(&Metric::Need(NeedLevel::Crisis))
            .iter()
            .map(|v| v * months)
            .collect()
    };
    let (ca, cb) = (crisis(runs), crisis(base));
    HeadlineByReplicate {
        total_cost_gbp: runs.totals(&Metric::TotalCost),
        reactive_cost_gbp: runs.totals(&Metric::ReactiveCost),
        prevention_spend_gbp: runs.totals(&Metric::PreventionSpend),
        capital_spend_gbp: runs.totals(&Metric::CapitalSpend),
        net_revenue_saving_gbp: paired(&Metric::TotalCost),
        crisis_months_avoided: cb.iter().zip(&ca).map(|(b, a)| b - a).collect(),
    }
}

/// Mean over replicates of each neighbourhood total (cost in pounds).
pub fn by_neighbourhood(runs: &ScenarioRuns) -> Vec<[f64; NeighbourhoodMetric::COUNT]> {
    let n_neigh = runs
        .replicates
        .first()
        .map_or(0, |r| r.neighbourhoods.len());
    let reps = runs.replicates.len().max(1) as f64;
    (0..n_neigh)
        .map(|n| {
            let mut out = [0.0; NeighbourhoodMetric::COUNT];
            for r in &runs.replicates {
                for (k, v) in r.neighbourhoods[n].iter().enumerate() {
                    out[k] += *v as f64;
                }
            }
            for (v, metric) in out.iter_mut().zip(NeighbourhoodMetric::ALL) {
                *v /= reps;
                if metric.pence() {
                    *v /= 100.0;
                }
            }
            out
        })
        .collect()
}
