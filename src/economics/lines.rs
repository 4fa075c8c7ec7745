//! The lines of money a comparison values: each reactive service's cost,
//! each intervention's revenue spend and capital, and the rules both the
//! appraisal and the budget use to value them (an intervention's money,
//! the value capital leaves at the horizon).

use serde::Serialize;

use super::InterventionMoney;
use crate::metrics::{InterventionMeasure, Metric, ServiceMeasure};
use crate::model::{Config, Delivery, Payer};
use crate::replicates::ScenarioRuns;

/// What a line of money is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LineKind {
    /// A reactive service's cost (or handoff cost): what prevention avoids.
    Reactive,
    /// An intervention's revenue spend.
    Prevention,
    /// An intervention's capital purchases.
    Capital,
}

/// One line of money in a comparison.
#[derive(Clone, Debug, PartialEq)]
pub struct Line {
    /// The service's id, `handoff`, or the intervention's id (which its
    /// capital line shares).
    pub id: String,
    /// The name for people; a capital line's ends in "(capital)".
    pub name: String,
    /// Reactive cost, prevention spend or capital.
    pub kind: LineKind,
    /// Who pays it.
    pub payer: Payer,
    /// The metric holding it in a run's series.
    pub metric: Metric,
    /// +1, or -1 for money the payer receives from another payer (a
    /// transfer: housing benefit subsidy recovered, rent): the payer's side
    /// of it, whose other side is a +1 line of the paying payer.
    pub sign: f64,
}

impl Line {
    /// The line's money in each month of replicate `r`, signed.
    pub fn monthly(&self, runs: &ScenarioRuns, r: usize) -> Vec<f64> {
        let v = runs.monthly(&self.metric, r);
        if self.sign == 1.0 {
            v
        } else {
            v.into_iter().map(|x| x * self.sign).collect()
        }
    }

    fn money(id: &str, name: String, kind: LineKind, payer: Payer, metric: Metric) -> Line {
        Line {
            id: id.to_string(),
            name,
            kind,
            payer,
            metric,
            sign: 1.0,
        }
    }

    /// Both sides of a transfer of `metric` from `from` to `to`, as reactive
    /// lines (what a payer's services cost it, net): together they add to
    /// nothing, so totals over every payer are unchanged. `name` is what it
    /// is for; `(received, paid)` say what it is to each side.
    fn transfer(
        id: &str,
        name: &str,
        (received, paid): (&str, &str),
        (from, to): (Payer, Payer),
        metric: Metric,
    ) -> [Line; 2] {
        [
            Line {
                sign: -1.0,
                ..Line::money(
                    id,
                    format!("{name}: {received} from {}", from.label()),
                    LineKind::Reactive,
                    to,
                    metric.clone(),
                )
            },
            Line::money(
                id,
                format!("{name}: {paid} to {}", to.label()),
                LineKind::Reactive,
                from,
                metric,
            ),
        ]
    }
}

fn lines_of(c: &Config) -> Vec<Line> {
    let mut out = Vec::new();
    for s in &c.events {
        out.push(Line::money(
            &s.id,
            s.name.clone(),
            LineKind::Reactive,
            s.payer,
            Metric::service(&s.id, ServiceMeasure::Cost),
        ));
    }
    for s in &c.episodes {
        out.push(Line::money(
            &s.id,
            s.name.clone(),
            LineKind::Reactive,
            s.payer,
            Metric::service(&s.id, ServiceMeasure::Cost),
        ));
        if let Some((from, _)) = s.recovered {
            out.extend(Line::transfer(
                &s.id,
                &s.name,
                ("recovered", "paid"),
                (from, s.payer),
                Metric::service(&s.id, ServiceMeasure::Recovered),
            ));
        }
    }
    out.push(Line::money(
        "handoff",
        "Handoff (failure demand)".into(),
        LineKind::Reactive,
        c.handoff.payer,
        Metric::HandoffCost,
    ));
    for iv in &c.interventions {
        out.push(Line::money(
            &iv.id,
            iv.name.clone(),
            LineKind::Prevention,
            iv.payer,
            Metric::intervention(&iv.id, InterventionMeasure::Spend),
        ));
        if let Delivery::Places { rent, .. } = &iv.delivery {
            out.push(Line::money(
                &iv.id,
                format!("{} (capital)", iv.name),
                LineKind::Capital,
                iv.payer,
                Metric::intervention(&iv.id, InterventionMeasure::Capital),
            ));
            if let Some((from, _)) = rent {
                out.extend(Line::transfer(
                    &iv.id,
                    &iv.name,
                    ("rent", "rent paid"),
                    (*from, iv.payer),
                    Metric::intervention(&iv.id, InterventionMeasure::Rent),
                ));
            }
        }
    }
    out
}

/// Every line of either scenario, the scenario's own first.
pub fn lines(baseline: &Config, scenario: &Config) -> Vec<Line> {
    let mut out = lines_of(scenario);
    for l in lines_of(baseline) {
        if !out
            .iter()
            .any(|x| x.kind == l.kind && x.id == l.id && x.name == l.name)
        {
            out.push(l);
        }
    }
    out
}

/// Value left at the horizon (the end of `purchases`) of monthly capital
/// purchases: the share `stated`, else the land share in full and the rest
/// straight line over `asset_years` from each purchase.
pub(super) fn value_left(
    purchases: &[f64],
    stated: Option<f64>,
    land: f64,
    asset_years: f64,
) -> f64 {
    let months = purchases.len();
    purchases
        .iter()
        .enumerate()
        .map(|(bought, v)| {
            let share = match stated {
                Some(sh) => sh,
                None => {
                    let building = (1.0 - (months - bought) as f64 / (asset_years * 12.0)).max(0.0);
                    land + (1.0 - land) * building
                }
            };
            v * share
        })
        .sum()
}

/// The money of intervention `id`: the scenario's definition, else the
/// baseline's.
pub(super) fn money_of<'a>(
    id: &str,
    scenario: &'a [InterventionMoney],
    baseline: &'a [InterventionMoney],
) -> Option<&'a InterventionMoney> {
    scenario.iter().chain(baseline).find(|x| x.id == id)
}
