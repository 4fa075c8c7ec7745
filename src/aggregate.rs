//! From replicates to bands: per month, over the horizon, paired against the
//! baseline, and by neighbourhood. Works in replicate order only, so results
//! do not depend on how the runs were scheduled.

use crate::metrics::{Band, Metric, NeighbourhoodMetric};
use crate::model::{Config, NeedLevel};
use crate::replicates::{Experiment, ScenarioRuns};

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

/// Share of a year's funded place-months a caseload programme may leave
/// empty before it is warned about: its budget is charged in full whether
/// or not its places fill.
pub const UNUSED_PLACES: f64 = 0.25;

/// Support given beyond a programme's funded places, as a share of its
/// funded place-months, before it is warned about (and at least a year of
/// one resident's support): a few cases seen through after a small fall in
/// places are not worth a warning.
pub const UNFUNDED_SUPPORT: f64 = 0.01;

/// What a caseload programme did with its places, means across replicates.
#[derive(Clone, Debug, PartialEq)]
pub struct PlacesUsed {
    /// The intervention's id.
    pub id: String,
    /// Place-months funded in each scenario year.
    pub funded: Vec<f64>,
    /// Of those, place-months holding a case.
    pub used: Vec<f64>,
    /// Case-months held beyond the funded places in each scenario year:
    /// support that goes on with no money paying for it.
    pub unfunded: Vec<f64>,
}

impl PlacesUsed {
    /// The first scenario year (0-based) over [`UNUSED_PLACES`] empty, with
    /// the share empty.
    pub fn first_year_unused(&self) -> Option<(usize, f64)> {
        // A year with no places funded gives 0 / 0: no share at all, never
        // over the limit.
        self.funded
            .iter()
            .zip(&self.used)
            .enumerate()
            .map(|(y, (f, u))| (y, 1.0 - u / f))
            .find(|(_, empty)| *empty > UNUSED_PLACES)
    }

    /// Case-months of unfunded support over the horizon, and the year with
    /// the most, when over [`UNFUNDED_SUPPORT`] of the funded place-months
    /// and at least twelve.
    pub fn unfunded_support(&self) -> Option<(f64, usize)> {
        let total: f64 = self.unfunded.iter().sum();
        let funded: f64 = self.funded.iter().sum();
        if total < 12.0 || total <= UNFUNDED_SUPPORT * funded {
            return None;
        }
        let most = (0..self.unfunded.len())
            .max_by(|&a, &b| self.unfunded[a].total_cmp(&self.unfunded[b]))
            .unwrap_or(0);
        Some((total, most))
    }
}

/// Each caseload programme's places, used and not, and the support it
/// holds beyond them, year by year. `config_of(r)` is replicate `r`'s
/// scenario (its draw, under uncertainty): its places are the ones that
/// replicate funded.
pub fn places_used<'a>(
    config_of: &dyn Fn(usize) -> &'a Config,
    runs: &ScenarioRuns,
) -> Vec<PlacesUsed> {
    use crate::metrics::InterventionMeasure;
    use crate::model::{Delivery, by_year};
    let reps = runs.series.len();
    let months = runs.months();
    if reps == 0 {
        return Vec::new();
    }
    let n = runs.layout.len();
    let years = months.div_ceil(12);
    let mut out = Vec::new();
    for (i, iv) in config_of(0).interventions.iter().enumerate() {
        if !matches!(iv.delivery, Delivery::Caseload { .. }) {
            continue;
        }
        let Some(metric) = runs
            .layout
            .find(&Metric::intervention(&iv.id, InterventionMeasure::Caseload))
        else {
            continue;
        };
        let mut used = PlacesUsed {
            id: iv.id.clone(),
            funded: vec![0.0; years],
            used: vec![0.0; years],
            unfunded: vec![0.0; years],
        };
        for (r, series) in runs.series.iter().enumerate() {
            let iv = &config_of(r).interventions[i];
            let Delivery::Caseload { places_by_year, .. } = &iv.delivery else {
                continue;
            };
            for m in 0..months {
                let month = m as u32 + 1;
                // The whole place's places, as the series counts its cases.
                let places = if month < iv.start_month {
                    0.0
                } else {
                    by_year(places_by_year.as_slice(), month)
                        .copied()
                        .unwrap_or(0) as f64
                        * config_of(r).stands_for.max(1) as f64
                };
                let cases = series.get(n, m, metric);
                let y = m / 12;
                used.funded[y] += places / reps as f64;
                used.used[y] += cases.min(places) / reps as f64;
                used.unfunded[y] += (cases - places).max(0.0) / reps as f64;
            }
        }
        out.push(used);
    }
    out
}

/// Spearman's rank correlation of paired values: the correlation of their
/// ranks (ties at their average rank); 0 when either does not vary.
pub fn rank_correlation(a: &[f64], b: &[f64]) -> f64 {
    let ranks = |x: &[f64]| -> Vec<f64> {
        let mut order: Vec<usize> = (0..x.len()).collect();
        order.sort_by(|&i, &j| x[i].total_cmp(&x[j]));
        let mut r = vec![0.0; x.len()];
        let mut k = 0;
        while k < order.len() {
            let mut end = k;
            while end + 1 < order.len() && x[order[end + 1]] == x[order[k]] {
                end += 1;
            }
            let average = (k + end) as f64 / 2.0;
            for &i in &order[k..=end] {
                r[i] = average;
            }
            k = end + 1;
        }
        r
    };
    let (ra, rb) = (ranks(a), ranks(b));
    let n = ra.len() as f64;
    let (ma, mb) = (ra.iter().sum::<f64>() / n, rb.iter().sum::<f64>() / n);
    let cov: f64 = ra.iter().zip(&rb).map(|(x, y)| (x - ma) * (y - mb)).sum();
    let va: f64 = ra.iter().map(|x| (x - ma).powi(2)).sum();
    let vb: f64 = rb.iter().map(|y| (y - mb).powi(2)).sum();
    if va == 0.0 || vb == 0.0 {
        0.0
    } else {
        cov / (va * vb).sqrt()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rank_correlation_reads_order_not_size() {
        let a = [1.0, 2.0, 3.0, 4.0, 5.0];
        assert_eq!(rank_correlation(&a, &[10.0, 20.0, 300.0, 4000.0, 5e9]), 1.0);
        assert_eq!(rank_correlation(&a, &[5.0, 4.0, 3.0, 2.0, 1.0]), -1.0);
        assert_eq!(rank_correlation(&a, &[7.0; 5]), 0.0);
        // Ties share their average rank: ranks 0, 1.5, 1.5, 3 against 0..3.
        let r = rank_correlation(&[1.0, 2.0, 3.0, 4.0], &[1.0, 2.0, 2.0, 3.0]);
        assert!((r - 4.5 / (5.0f64 * 4.5).sqrt()).abs() < 1e-12, "{r}");
    }

    fn used(funded: &[f64], used: &[f64], unfunded: &[f64]) -> PlacesUsed {
        PlacesUsed {
            id: "p".into(),
            funded: funded.to_vec(),
            used: used.to_vec(),
            unfunded: unfunded.to_vec(),
        }
    }

    #[test]
    fn a_programme_is_warned_about_its_first_year_over_a_quarter_empty() {
        // A year with no places funded says nothing; exactly a quarter
        // empty is allowed; the first year beyond it is named.
        let p = used(
            &[0.0, 1200.0, 1200.0, 1200.0],
            &[0.0, 900.0, 899.0, 100.0],
            &[0.0; 4],
        );
        let (year, empty) = p.first_year_unused().unwrap();
        assert_eq!(year, 2);
        assert!((empty - 301.0 / 1200.0).abs() < 1e-12, "{empty}");
        assert_eq!(used(&[1200.0], &[900.0], &[0.0]).first_year_unused(), None);
        assert_eq!(used(&[0.0], &[0.0], &[0.0]).first_year_unused(), None);
    }

    #[test]
    fn unfunded_support_is_warned_about_beyond_a_hundredth_and_a_year() {
        // 10,000 place-months funded: up to 100 case-months beyond them is
        // quiet, more is named with the year that held the most.
        let funded = [5000.0, 5000.0];
        let p = |a: f64, b: f64| used(&funded, &funded, &[a, b]).unfunded_support();
        assert_eq!(p(60.0, 40.0), None);
        assert_eq!(p(40.0, 60.5), Some((100.5, 1)));
        assert_eq!(p(80.0, 21.0), Some((101.0, 0)));
        // A small programme: at least twelve case-months, a year of one
        // resident's support.
        let small = |a: f64| used(&[100.0], &[100.0], &[a]).unfunded_support();
        assert_eq!(small(11.9), None);
        assert_eq!(small(12.0), Some((12.0, 0)));
    }
}
