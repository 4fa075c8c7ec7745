//! A team's results at the end of a round, paired with the no-change path:
//! the year just played (demand, cost and spend by payer, residents in
//! crisis) and the game so far (net present value, crisis-months avoided,
//! who pays), the latter appraised exactly as `upstream run` appraises a
//! scenario over a horizon that ends with the round.

use serde::{Deserialize, Serialize};

use super::{Game, Played};
use crate::economics::appraisal::Position;
use crate::economics::budget::TOTAL_REVENUE;
use crate::economics::{self, InterventionMoney};
use crate::metrics::{Band, Layout, Metric, PayerMeasure, Series, ServiceMeasure};
use crate::model::{NeedLevel, Payer};
use crate::replicates::ScenarioRuns;
use crate::scenario::Loaded;

/// A team's results at the end of a round.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RoundResults {
    /// The round (1-based).
    pub round: u32,
    /// The financial year its first month falls in, such as `2026/27`.
    pub financial_year: String,
    /// £ the team put into each lever this round, in lever order.
    pub amounts: Vec<f64>,
    /// Demand on each reactive service over the year.
    pub demand: Vec<Demand>,
    /// Each payer's year, in [`Payer::ALL`] order.
    pub payers: Vec<PayerYear>,
    /// Residents at crisis need at the year's end.
    pub in_crisis: Pair,
    /// Net present value of the game so far against no change (savings
    /// less spend, discounted, after optimism bias): `upstream run`'s
    /// `npv` over a horizon ending this round.
    pub npv_so_far: Band,
    /// Share of replicates whose net present value so far is above zero.
    pub probability_npv_positive: f64,
    /// Resident-months in crisis avoided over the game so far.
    pub crisis_months_avoided_so_far: Band,
    /// Each payer's position over the game so far (discounted, after
    /// optimism bias), in [`Payer::ALL`] order.
    pub who_pays_so_far: Vec<Position>,
    /// The medium-term financial strategy: for each payer the scenario
    /// gives an envelope or savings target, its revenue budget in each
    /// financial year that ended this round, as `budget.csv`'s payer
    /// total rows give it. Empty when the scenario sets no budgets.
    #[serde(default)]
    pub mtfs: Vec<Mtfs>,
}

/// A payer's revenue budget in a financial year against its medium-term
/// financial strategy (nominal £): `budget.csv`'s row for the payer's
/// total revenue, the team's place against no change. Signs as everywhere
/// in Upstream: positive saves money or leaves it to spare.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(from = "StoredMtfs")]
pub struct Mtfs {
    /// The payer's id, such as `childrens_services`.
    pub payer: String,
    /// Its name for people.
    pub name: String,
    /// The financial year, such as `2026/27`.
    pub financial_year: String,
    /// The saving in the payer's revenue budget against no change
    /// (`budget.csv`'s `saving`): below zero the team spends more.
    pub saving: Band,
    /// The envelope, where the scenario gives one.
    pub envelope: Option<f64>,
    /// The envelope less the team's revenue budget: below zero is an
    /// overspend (`headroom`).
    pub headroom: Option<Band>,
    /// The saving against no change the strategy asks for this year,
    /// where the scenario gives one.
    pub savings_target: Option<f64>,
    /// The saving made less the target: below zero is a shortfall
    /// (`beyond_target`).
    pub beyond_target: Option<Band>,
}

/// [`Mtfs`] as a games database holds it: as it is written now, or as
/// versions before one sign convention wrote it (`change`,
/// `over_envelope` and `shortfall`, each the other way round), so a game
/// played before still shows its results, with today's signs.
#[derive(Deserialize)]
struct StoredMtfs {
    payer: String,
    name: String,
    financial_year: String,
    saving: Option<Band>,
    change: Option<Band>,
    envelope: Option<f64>,
    headroom: Option<Band>,
    over_envelope: Option<Band>,
    savings_target: Option<f64>,
    beyond_target: Option<Band>,
    shortfall: Option<Band>,
}

impl From<StoredMtfs> for Mtfs {
    fn from(s: StoredMtfs) -> Mtfs {
        Mtfs {
            payer: s.payer,
            name: s.name,
            financial_year: s.financial_year,
            saving: s.saving.or(s.change.map(Band::negated)).unwrap_or_default(),
            envelope: s.envelope,
            headroom: s.headroom.or(s.over_envelope.map(Band::negated)),
            savings_target: s.savings_target,
            beyond_target: s.beyond_target.or(s.shortfall.map(Band::negated)),
        }
    }
}

/// A figure for the team and for no change, and the team's difference,
/// each a band across replicates (the difference taken replicate by
/// replicate).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Pair {
    /// The team's path.
    pub team: Band,
    /// The no-change path.
    pub no_change: Band,
    /// Team less no change.
    pub change: Band,
}

impl Pair {
    fn of(team: &[f64], no_change: &[f64]) -> Pair {
        let change: Vec<f64> = team.iter().zip(no_change).map(|(t, n)| t - n).collect();
        Pair {
            team: Band::of(team),
            no_change: Band::of(no_change),
            change: Band::of(&change),
        }
    }
}

/// Demand on a reactive service over a year.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Demand {
    /// The service's id.
    pub service: String,
    /// Its name for people.
    pub name: String,
    /// What is counted: `contacts` (event services) or `entries` (episode
    /// services: admissions to care, placements, households placed).
    pub measure: String,
    /// The count over the year.
    pub count: Pair,
}

/// A payer's year, in real £ at the scenario's price base, undiscounted
/// and before optimism bias: money as simulated.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PayerYear {
    /// The payer's id, such as `housing`.
    pub payer: String,
    /// Its name for people.
    pub name: String,
    /// Prevention spend it funds (revenue).
    pub spend: Pair,
    /// Reactive services' cost it bears.
    pub reactive_cost: Pair,
}

/// One path's recorded months as the run's series, over `months`.
fn runs(at: &Loaded, played: &Played, months: usize) -> ScenarioRuns {
    let layout = Layout::new(&at.config);
    ScenarioRuns {
        series: played
            .replicates
            .iter()
            .map(|r| Series::from_raw(&at.config, &layout, &r.raw, months))
            .collect(),
        replicates: played.replicates.clone(),
        layout,
    }
}

/// `metric` over the months `from..to` (0-based), replicate by replicate:
/// a flow summed, or a stock read at the last month.
fn over(runs: &ScenarioRuns, metric: &Metric, from: usize, to: usize, stock: bool) -> Vec<f64> {
    (0..runs.series.len())
        .map(|r| {
            let m = runs.monthly(metric, r);
            if stock {
                m[to - 1]
            } else {
                m[from..to].iter().sum()
            }
        })
        .collect()
}

/// A path's reactive cost (all payers, £ at the scenario's prices,
/// undiscounted) and resident-months in crisis over months 1 to `months`,
/// each a mean over its replicates.
pub(super) fn burden(at: &Loaded, played: &Played, months: usize) -> (f64, f64) {
    let runs = runs(at, played, months);
    let mean = |v: Vec<f64>| v.iter().sum::<f64>() / v.len().max(1) as f64;
    let cost: f64 = Payer::ALL
        .iter()
        .map(|&p| {
            mean(over(
                &runs,
                &Metric::Payer(p, PayerMeasure::ReactiveCost),
                0,
                months,
                false,
            ))
        })
        .sum();
    let crisis = mean(over(
        &runs,
        &Metric::Need(NeedLevel::Crisis),
        0,
        months,
        false,
    ));
    (cost, crisis)
}

pub(super) fn round(
    game: &Game,
    round: u32,
    base: (&Loaded, &Played),
    with: (&Loaded, &Played),
    amounts: &[Vec<f64>],
) -> RoundResults {
    let months = round as usize * 12;
    let (from, to) = (months - 12, months);
    // The game so far is a horizon that ends with this round.
    let view = |l: &Loaded| {
        let mut v = l.clone();
        v.config.months = months as u32;
        v
    };
    let (b, w) = (view(base.0), view(with.0));
    let (rb, rw) = (runs(&b, base.1, months), runs(&w, with.1, months));
    let money: [&[InterventionMoney]; 2] = [&b.intervention_money, &w.intervention_money];
    let econ = economics::evaluate(
        &game.scenario.conventions,
        &[&b.config, &w.config],
        &money,
        &[rb.clone(), rw.clone()],
    );
    let a = &econ.appraisals[0];
    let pair = |metric: &Metric, stock: bool| {
        Pair::of(
            &over(&rw, metric, from, to, stock),
            &over(&rb, metric, from, to, stock),
        )
    };
    let config = &w.config;
    let demand = config
        .events
        .iter()
        .map(|s| {
            (
                s.id.as_str(),
                s.name.as_str(),
                ServiceMeasure::Events,
                "contacts",
            )
        })
        .chain(config.episodes.iter().map(|s| {
            (
                s.id.as_str(),
                s.name.as_str(),
                ServiceMeasure::Entries,
                "entries",
            )
        }))
        .map(|(id, name, measure, word)| Demand {
            service: id.to_string(),
            name: name.to_string(),
            measure: word.to_string(),
            count: pair(&Metric::service(id, measure), false),
        })
        .collect();
    let payers = Payer::ALL
        .iter()
        .map(|&p| PayerYear {
            payer: p.name().to_string(),
            name: p.label().to_string(),
            spend: pair(&Metric::Payer(p, PayerMeasure::PreventionSpend), false),
            reactive_cost: pair(&Metric::Payer(p, PayerMeasure::ReactiveCost), false),
        })
        .collect();
    let conventions = &game.scenario.conventions;
    let fy = conventions.financial_year(from as u32 + 1);
    // Financial years that end within this round's months: each shown
    // once, whole.
    let ended: Vec<String> = (from as u32 + 1..=to as u32)
        .filter(|&m| conventions.financial_year(m + 1) != conventions.financial_year(m))
        .map(|m| conventions.fy_label(conventions.financial_year(m)))
        .collect();
    let mtfs = econ
        .budget
        .iter()
        .filter(|r| {
            r.scenario == a.scenario
                && r.line == TOTAL_REVENUE
                && (r.envelope.is_some() || r.savings_target.is_some())
                && ended.contains(&r.financial_year)
        })
        .map(|r| Mtfs {
            payer: r.payer.name().to_string(),
            name: r.payer.label().to_string(),
            financial_year: r.financial_year.clone(),
            saving: r.saving,
            envelope: r.envelope,
            headroom: r.headroom,
            savings_target: r.savings_target,
            beyond_target: r.beyond_target,
        })
        .collect();
    RoundResults {
        round,
        financial_year: conventions.fy_label(fy),
        amounts: amounts[round as usize - 1].clone(),
        demand,
        payers,
        in_crisis: pair(&Metric::Need(NeedLevel::Crisis), true),
        npv_so_far: a.npv,
        probability_npv_positive: a.probability_npv_positive,
        crisis_months_avoided_so_far: a.crisis_months_avoided,
        who_pays_so_far: a.who_pays.clone(),
        mtfs,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_round_stored_before_one_sign_convention_reads_with_todays_signs() {
        let band = |mean: f64, p5: f64, p95: f64| Band {
            mean,
            p5,
            p50: mean,
            p95,
        };
        // As versions before one sign convention stored it: the change in
        // spend (−£40k, a saving), £10k under the envelope, £5k short.
        let old = r#"{"payer":"housing","name":"Housing","financial_year":"2026/27",
            "change":{"mean":-40000.0,"p5":-50000.0,"p50":-40000.0,"p95":-30000.0},
            "envelope":1000000.0,
            "over_envelope":{"mean":-10000.0,"p5":-20000.0,"p50":-10000.0,"p95":0.0},
            "savings_target":45000.0,
            "shortfall":{"mean":5000.0,"p5":-5000.0,"p50":5000.0,"p95":15000.0}}"#;
        let read: Mtfs = serde_json::from_str(old).unwrap();
        assert_eq!(read.saving, band(40_000.0, 30_000.0, 50_000.0));
        assert_eq!(read.headroom, Some(band(10_000.0, 0.0, 20_000.0)));
        assert_eq!(read.beyond_target, Some(band(-5_000.0, -15_000.0, 5_000.0)));
        assert_eq!(
            (read.envelope, read.savings_target),
            (Some(1e6), Some(45e3))
        );
        // As this version writes it: read back unchanged.
        let text = serde_json::to_string(&read).unwrap();
        assert!(text.contains("\"saving\"") && !text.contains("\"change\""));
        assert_eq!(serde_json::from_str::<Mtfs>(&text).unwrap(), read);
    }
}
