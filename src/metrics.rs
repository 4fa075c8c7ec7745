//! What is recorded each month, and its aggregation across replicates.
//!
//! The engine writes integers (counts and pence) into a flat month × metric
//! table, so sums are exact and independent of the order of work. Derived
//! figures (pounds, the quality-of-life index) are computed once a replicate is
//! finished, and aggregation across replicates runs in replicate order, so the
//! output is the same bytes whatever the thread count.

use crate::model::{Config, NEED_LEVELS, NeedLevel, Payer, RiskFactor};

/// How a metric adds up over the horizon.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A count at the end of each month (residents, occupancy): the horizon
    /// figure is the monthly average.
    Stock,
    /// Something that happens during a month (events, spend): the horizon
    /// figure is the sum.
    Flow,
}

#[derive(Clone, Debug)]
pub struct MetricDef {
    pub name: String,
    pub kind: Kind,
    /// Stored in pence, reported in pounds.
    pub pence: bool,
}

/// Indices into a month's row of metrics, laid out from a config.
#[derive(Clone, Debug)]
pub struct Layout {
    pub defs: Vec<MetricDef>,
    pub residents: usize,
    pub need: usize,
    pub crisis_entries: usize,
    /// Residents with each risk factor (five metrics).
    pub risk: usize,
    pub qol_index: usize,
    pub qalys: usize,
    pub event_count: usize,
    pub event_cost: usize,
    pub episode_entries: usize,
    /// Entries that found the in-house places full and were bought on the
    /// spot market (so spot_entries / entries is the blocking probability).
    pub episode_spot_entries: usize,
    pub episode_occupancy: usize,
    pub episode_spot: usize,
    pub episode_waiting: usize,
    pub episode_cost: usize,
    pub handoff_cost: usize,
    pub iv_spend: usize,
    pub iv_capital: usize,
    pub iv_reached: usize,
    pub iv_caseload: usize,
    pub connected: usize,
    pub asset_places: usize,
    pub births: usize,
    pub deaths: usize,
    pub moves_in: usize,
    pub moves_out: usize,
    pub payer_reactive: usize,
    pub payer_prevention: usize,
    pub payer_capital: usize,
    pub reactive_cost: usize,
    pub prevention_spend: usize,
    pub capital_spend: usize,
    pub total_cost: usize,
}

/// Headline metrics by name, used by summaries and the terminal table.
pub mod names {
    pub const TOTAL_COST: &str = "cost.total_gbp";
    pub const REACTIVE_COST: &str = "cost.reactive_gbp";
    pub const PREVENTION_SPEND: &str = "cost.prevention_gbp";
    pub const CAPITAL_SPEND: &str = "cost.capital_gbp";
    pub const CRISIS: &str = "need.crisis";
    pub const RESIDENTS: &str = "residents";
}

impl Layout {
    pub fn new(config: &Config) -> Layout {
        let mut defs = Vec::new();
        let mut add = |name: String, kind: Kind, pence: bool| {
            defs.push(MetricDef { name, kind, pence });
            defs.len() - 1
        };
        let residents = add(names::RESIDENTS.into(), Kind::Stock, false);
        let need = add("need.thriving".into(), Kind::Stock, false);
        for l in &NeedLevel::ALL[1..] {
            add(format!("need.{}", l.name()), Kind::Stock, false);
        }
        let crisis_entries = add("need.crisis_entries".into(), Kind::Flow, false);
        let risk = add(
            format!("risk.{}", RiskFactor::ALL[0].name()),
            Kind::Stock,
            false,
        );
        for f in &RiskFactor::ALL[1..] {
            add(format!("risk.{}", f.name()), Kind::Stock, false);
        }
        let qol_index = add("qol.index".into(), Kind::Stock, false);
        let qalys = add("qol.qalys".into(), Kind::Flow, false);
        // Per-service blocks: each block holds one metric per service, in order.
        let block =
            |defs: &mut Vec<MetricDef>, ids: &[&str], suffix: &str, kind: Kind, pence: bool| {
                let start = defs.len();
                for id in ids {
                    defs.push(MetricDef {
                        name: format!("{id}.{suffix}"),
                        kind,
                        pence,
                    });
                }
                start
            };
        let ev_ids: Vec<String> = config
            .events
            .iter()
            .map(|s| format!("service.{}", s.id))
            .collect();
        let ep_ids: Vec<String> = config
            .episodes
            .iter()
            .map(|s| format!("service.{}", s.id))
            .collect();
        let iv_ids: Vec<String> = config
            .interventions
            .iter()
            .map(|s| format!("intervention.{}", s.id))
            .collect();
        let payer_ids: Vec<String> = Payer::ALL
            .iter()
            .map(|p| format!("payer.{}", p.name()))
            .collect();
        fn r(v: &[String]) -> Vec<&str> {
            v.iter().map(|s| s.as_str()).collect()
        }
        let (ev_ids, ep_ids, iv_ids, payer_ids) =
            (r(&ev_ids), r(&ep_ids), r(&iv_ids), r(&payer_ids));
        let event_count = block(&mut defs, &ev_ids, "events", Kind::Flow, false);
        let event_cost = block(&mut defs, &ev_ids, "cost_gbp", Kind::Flow, true);
        let episode_entries = block(&mut defs, &ep_ids, "entries", Kind::Flow, false);
        let episode_spot_entries = block(&mut defs, &ep_ids, "spot_entries", Kind::Flow, false);
        let episode_occupancy = block(&mut defs, &ep_ids, "occupancy", Kind::Stock, false);
        let episode_spot = block(&mut defs, &ep_ids, "spot_places", Kind::Stock, false);
        let episode_waiting = block(&mut defs, &ep_ids, "waiting", Kind::Stock, false);
        let episode_cost = block(&mut defs, &ep_ids, "cost_gbp", Kind::Flow, true);
        let mut add = |name: &str, kind: Kind, pence: bool| {
            defs.push(MetricDef {
                name: name.into(),
                kind,
                pence,
            });
            defs.len() - 1
        };
        let handoff_cost = add("handoff.cost_gbp", Kind::Flow, true);
        let connected = add("assets.connected", Kind::Stock, false);
        let asset_places = add("assets.places", Kind::Stock, false);
        let births = add("population.births", Kind::Flow, false);
        let deaths = add("population.deaths", Kind::Flow, false);
        let moves_in = add("population.moves_in", Kind::Flow, false);
        let moves_out = add("population.moves_out", Kind::Flow, false);
        let reactive_cost = add(names::REACTIVE_COST, Kind::Flow, true);
        let prevention_spend = add(names::PREVENTION_SPEND, Kind::Flow, true);
        let capital_spend = add(names::CAPITAL_SPEND, Kind::Flow, true);
        let total_cost = add(names::TOTAL_COST, Kind::Flow, true);
        let iv_spend = block(&mut defs, &iv_ids, "spend_gbp", Kind::Flow, true);
        let iv_capital = block(&mut defs, &iv_ids, "capital_gbp", Kind::Flow, true);
        let iv_reached = block(&mut defs, &iv_ids, "people_reached", Kind::Flow, false);
        let iv_caseload = block(&mut defs, &iv_ids, "caseload", Kind::Stock, false);
        let payer_reactive = block(&mut defs, &payer_ids, "reactive_cost_gbp", Kind::Flow, true);
        let payer_prevention = block(
            &mut defs,
            &payer_ids,
            "prevention_spend_gbp",
            Kind::Flow,
            true,
        );
        let payer_capital = block(&mut defs, &payer_ids, "capital_gbp", Kind::Flow, true);
        Layout {
            defs,
            residents,
            need,
            crisis_entries,
            risk,
            qol_index,
            qalys,
            event_count,
            event_cost,
            episode_entries,
            episode_spot_entries,
            episode_occupancy,
            episode_spot,
            episode_waiting,
            episode_cost,
            handoff_cost,
            iv_spend,
            iv_capital,
            iv_reached,
            iv_caseload,
            connected,
            asset_places,
            births,
            deaths,
            moves_in,
            moves_out,
            payer_reactive,
            payer_prevention,
            payer_capital,
            reactive_cost,
            prevention_spend,
            capital_spend,
            total_cost,
        }
    }

    pub fn len(&self) -> usize {
        self.defs.len()
    }
    pub fn is_empty(&self) -> bool {
        self.defs.is_empty()
    }
    pub fn index(&self, name: &str) -> Option<usize> {
        self.defs.iter().position(|d| d.name == name)
    }
}

/// Fills the derived columns of one finished month (costs by payer, totals,
/// quality of life) from the raw counts the engine wrote.
pub fn derive_month(config: &Config, layout: &Layout, row: &mut [i64]) {
    let mut payer_reactive = [0i64; Payer::ALL.len()];
    let mut payer_prevention = [0i64; Payer::ALL.len()];
    let mut payer_capital = [0i64; Payer::ALL.len()];
    for (s, svc) in config.events.iter().enumerate() {
        payer_reactive[svc.payer as usize] += row[layout.event_cost + s];
    }
    for (e, svc) in config.episodes.iter().enumerate() {
        payer_reactive[svc.payer as usize] += row[layout.episode_cost + e];
    }
    payer_reactive[config.handoff.payer as usize] += row[layout.handoff_cost];
    for (i, iv) in config.interventions.iter().enumerate() {
        payer_prevention[iv.payer as usize] += row[layout.iv_spend + i];
        payer_capital[iv.payer as usize] += row[layout.iv_capital + i];
    }
    for p in 0..Payer::ALL.len() {
        row[layout.payer_reactive + p] = payer_reactive[p];
        row[layout.payer_prevention + p] = payer_prevention[p];
        row[layout.payer_capital + p] = payer_capital[p];
    }
    let reactive: i64 = payer_reactive.iter().sum();
    let prevention: i64 = payer_prevention.iter().sum();
    row[layout.reactive_cost] = reactive;
    row[layout.prevention_spend] = prevention;
    row[layout.capital_spend] = payer_capital.iter().sum();
    // Revenue cost: reactive services, handoff and prevention. Capital is kept
    // apart (the economics layer finances it).
    row[layout.total_cost] = reactive + prevention;
}

/// One replicate's finished series, in reporting units (pounds, not pence).
/// `values[month * n_metrics + metric]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    pub months: usize,
    pub values: Vec<f64>,
}

impl Series {
    pub fn from_raw(config: &Config, layout: &Layout, raw: &[i64], months: usize) -> Series {
        let n = layout.len();
        let mut values = Vec::with_capacity(raw.len());
        for m in 0..months {
            let row = &raw[m * n..(m + 1) * n];
            for (k, def) in layout.defs.iter().enumerate() {
                values.push(if def.pence {
                    row[k] as f64 / 100.0
                } else {
                    row[k] as f64
                });
            }
            // Quality of life: mean utility weight, and QALYs lived this month.
            let residents = row[layout.residents] as f64;
            let utility: f64 = (0..NEED_LEVELS)
                .map(|l| row[layout.need + l] as f64 * config.need.utility[l])
                .sum();
            let base = m * n;
            values[base + layout.qol_index] = if residents > 0.0 {
                utility / residents
            } else {
                0.0
            };
            values[base + layout.qalys] = utility / 12.0;
        }
        Series { months, values }
    }

    pub fn get(&self, n_metrics: usize, month: usize, metric: usize) -> f64 {
        self.values[month * n_metrics + metric]
    }

    /// The horizon figure: sum of a flow, average of a stock.
    pub fn total(&self, layout: &Layout, metric: usize) -> f64 {
        let n = layout.len();
        let sum: f64 = (0..self.months).map(|m| self.values[m * n + metric]).sum();
        match layout.defs[metric].kind {
            Kind::Flow => sum,
            Kind::Stock => sum / self.months.max(1) as f64,
        }
    }
}

/// Reads a number that JSON wrote as `null` because it was not a number
/// (a band over no replicates) back as NaN.
pub fn f64_or_nan<'de, D: serde::Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    use serde::Deserialize;
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
}

/// Mean and percentile band across replicates.
#[derive(Clone, Copy, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Band {
    #[serde(deserialize_with = "f64_or_nan")]
    pub mean: f64,
    #[serde(deserialize_with = "f64_or_nan")]
    pub p5: f64,
    #[serde(deserialize_with = "f64_or_nan")]
    pub p50: f64,
    #[serde(deserialize_with = "f64_or_nan")]
    pub p95: f64,
}

impl Band {
    /// From values in replicate order. Percentiles interpolate linearly between
    /// order statistics (the common "type 7" definition).
    pub fn of(values: &[f64]) -> Band {
        if values.is_empty() {
            return Band {
                mean: f64::NAN,
                p5: f64::NAN,
                p50: f64::NAN,
                p95: f64::NAN,
            };
        }
        let mean = values.iter().sum::<f64>() / values.len() as f64;
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        Band {
            mean,
            p5: quantile(&sorted, 0.05),
            p50: quantile(&sorted, 0.50),
            p95: quantile(&sorted, 0.95),
        }
    }
}

pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    let h = (sorted.len() - 1) as f64 * q;
    let lo = h.floor() as usize;
    let hi = h.ceil() as usize;
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn band_percentiles_interpolate() {
        let v: Vec<f64> = (0..=100).map(|x| x as f64).collect();
        let b = Band::of(&v);
        assert_eq!(b.mean, 50.0);
        assert_eq!(b.p5, 5.0);
        assert_eq!(b.p50, 50.0);
        assert_eq!(b.p95, 95.0);
        let b = Band::of(&[3.0, 1.0]);
        assert_eq!((b.p5, b.p50, b.p95), (1.1, 2.0, 2.9));
    }
}
