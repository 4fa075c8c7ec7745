//! The business case of each scenario against the baseline, paired by
//! replicate: net present value, return on investment, benefit–cost ratio,
//! payback, and who pays and who saves.
//!
//! Conventions (Green Book): money in real terms at the price base, with
//! relative price effects where a line inflates faster than the GDP deflator;
//! discounted by appraisal year (year 0 is the horizon's first twelve months);
//! capital counted when spent, less its residual value at the horizon (its
//! financing is a budget matter, not an economic cost); optimism bias raises
//! each intervention's extra cost by the uplift for the grade of its cost
//! figures, and cuts savings by the haircut for the weakest grade of the
//! changed interventions' effects, always in the prudent direction.

use serde::{Deserialize, Serialize};

use super::bridge::{Bridge, Parts};
use super::budget::financing_charges;
use super::ledger::{Period, periods};
pub use super::lines::{Line, LineKind, lines};
use super::lines::{money_of, value_left};
use super::{Conventions, Grade, InterventionMoney};
use crate::metrics::{Band, Metric, f64_or_nan};
use crate::model::{Config, NeedLevel, Payer};
use crate::replicates::ScenarioRuns;

/// A figure that is not defined in every replicate (a ratio whose
/// denominator can be zero or negative): its band over the replicates where
/// it is, and how many those are.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    /// Mean over the replicates where it is defined (NaN if none).
    #[serde(deserialize_with = "f64_or_nan")]
    pub mean: f64,
    /// 5th percentile over those replicates.
    #[serde(deserialize_with = "f64_or_nan")]
    pub p5: f64,
    /// Median over those replicates.
    #[serde(deserialize_with = "f64_or_nan")]
    pub p50: f64,
    /// 95th percentile over those replicates.
    #[serde(deserialize_with = "f64_or_nan")]
    pub p95: f64,
    /// Replicates in which it is defined.
    pub replicates: usize,
}

impl Estimate {
    fn of(values: &[Option<f64>]) -> Estimate {
        let defined: Vec<f64> = values.iter().flatten().copied().collect();
        let b = Band::of(&defined);
        Estimate {
            mean: b.mean,
            p5: b.p5,
            p50: b.p50,
            p95: b.p95,
            replicates: defined.len(),
        }
    }
}

/// Payback month across replicates. Percentiles are order statistics (no
/// interpolation between months); `None` is "not within the horizon".
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Payback {
    /// Share of replicates that pay back within the horizon.
    #[serde(deserialize_with = "f64_or_nan")]
    pub within_horizon: f64,
    /// 5th percentile payback month (1-based month of the horizon).
    pub p5: Option<u32>,
    /// Median payback month.
    pub p50: Option<u32>,
    /// 95th percentile payback month.
    pub p95: Option<u32>,
}

impl Payback {
    fn of(months: &[Option<u32>]) -> Payback {
        let mut sorted: Vec<u32> = months.iter().map(|m| m.unwrap_or(u32::MAX)).collect();
        sorted.sort_unstable();
        let at = |q: f64| -> Option<u32> {
            if sorted.is_empty() {
                return None;
            }
            let i = ((sorted.len() - 1) as f64 * q).round() as usize;
            Some(sorted[i]).filter(|&m| m != u32::MAX)
        };
        Payback {
            within_horizon: if months.is_empty() {
                0.0
            } else {
                months.iter().filter(|m| m.is_some()).count() as f64 / months.len() as f64
            },
            p5: at(0.05),
            p50: at(0.5),
            p95: at(0.95),
        }
    }
}

/// First month (1-based) in which cumulative savings exceed cumulative
/// investment, once something has been invested; `None` if never.
pub fn payback_month(investment: &[f64], savings: &[f64]) -> Option<u32> {
    let (mut inv, mut sav) = (0.0, 0.0);
    for (m, (i, s)) in investment.iter().zip(savings).enumerate() {
        inv += i;
        sav += s;
        if inv > 0.0 && sav > inv {
            return Some(m as u32 + 1);
        }
    }
    None
}

/// Net present value of a monthly net flow with yearly discount factors.
pub fn npv(net: &[f64], factors: &[f64]) -> f64 {
    net.iter()
        .enumerate()
        .map(|(m, v)| v * factors[m / 12])
        .sum()
}

/// A payer's (or a pool's) position over the horizon, discounted, real.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Position {
    /// The payer's name (such as `adult_social_care`) or the pool's id.
    pub id: String,
    /// The payer's or pool's name for people.
    pub name: String,
    /// Extra intervention spend (capital net of residual value).
    pub spend: Band,
    /// Reactive cost avoided.
    pub cost_avoided: Band,
    /// Cost avoided less spend.
    pub net: Band,
}

/// Cumulative discounted flows at the end of a month. The last month's
/// investment is net of capital's residual value, so its net is the NPV.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Cumulative {
    /// Month of the horizon, 1-based.
    pub month: u32,
    /// Its financial year's label, such as `2026/27`.
    pub financial_year: String,
    /// Extra intervention spend to date, after optimism bias.
    pub investment: Band,
    /// Reactive cost avoided to date, after optimism bias.
    pub savings: Band,
    /// Savings less investment to date.
    pub net: Band,
}

/// One scenario's business case against the baseline.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Appraisal {
    /// The scenario's name.
    pub scenario: String,
    /// The baseline's name.
    pub against: String,
    /// Optimism-bias uplift on each changed intervention's extra cost.
    pub cost_uplift: Vec<(String, f64)>,
    /// Optimism-bias haircut on savings, and the grade it was chosen by.
    pub savings_haircut: f64,
    /// The weakest effect grade among the changed interventions; `None`
    /// when no intervention changed.
    pub savings_haircut_grade: Option<Grade>,
    /// Net present value of net savings (savings less investment).
    pub npv: Band,
    /// As `npv`, with no optimism-bias uplift or haircut.
    pub npv_without_optimism_bias: Band,
    /// As `npv`, counting only cashable savings.
    pub npv_cashable: Band,
    /// Present value of extra intervention spend, revenue and capital,
    /// less capital's residual value.
    pub pv_investment: Band,
    /// Present value of reactive cost avoided.
    pub pv_savings: Band,
    /// The cashable part of `pv_savings`.
    pub pv_cashable_savings: Band,
    /// Residual value of capital purchases at the horizon, discounted.
    pub pv_residual_value: Band,
    /// Net present value per £ of present-value investment.
    pub roi: Estimate,
    /// Present-value savings per £ of present-value investment.
    pub benefit_cost_ratio: Estimate,
    /// First month in which cumulative discounted savings exceed cumulative
    /// discounted investment.
    pub payback_month_discounted: Payback,
    /// As `payback_month_discounted`, undiscounted.
    pub payback_month_undiscounted: Payback,
    /// Share of replicates whose net present value is above zero.
    #[serde(deserialize_with = "f64_or_nan")]
    pub probability_npv_positive: f64,
    /// Extra intervention spend over the horizon, real £ undiscounted, less
    /// capital's residual value.
    pub undiscounted_investment: Band,
    /// Reactive cost avoided over the horizon, real £ undiscounted.
    pub undiscounted_savings: Band,
    /// Undiscounted savings less investment.
    pub undiscounted_net: Band,
    /// Baseline resident-months in crisis less the scenario's, over the
    /// horizon.
    pub crisis_months_avoided: Band,
    /// Discounted at the health rate.
    pub qalys_gained: Band,
    /// Net cost (investment less savings, present value) per crisis-month
    /// avoided; negative when the scenario saves money as well.
    pub net_cost_per_crisis_month_avoided: Estimate,
    /// Net cost (present value) per discounted QALY gained; negative when
    /// the scenario saves money as well.
    pub net_cost_per_qaly_gained: Estimate,
    /// The chance the scenario is worth it at each price the place might
    /// put on a crisis-month avoided, and on a QALY gained.
    #[serde(default)]
    pub acceptability: Vec<Acceptability>,
    /// Each payer's position, in [`Payer::ALL`] order.
    pub who_pays: Vec<Position>,
    /// Each pool's position, in the conventions' order.
    pub pools: Vec<Position>,
    /// Cumulative discounted flows at the end of each month of the horizon.
    pub cumulative: Vec<Cumulative>,
    /// From the money as simulated to the net present value, and to the
    /// revenue budget impact, step by step.
    pub bridge: Bridge,
    /// The net present value's workings, appraisal year by year.
    pub by_year: Vec<YearFlow>,
    /// Each capital scheme's purchases and financing by financial year
    /// (empty without capital).
    #[serde(default)]
    pub capital_schedule: Vec<super::budget::CapitalRow>,
    /// How much of the net present value's spread comes from the uncertain
    /// parameters and how much from chance (a run that draws parameters
    /// only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub npv_variance: Option<VarianceSplit>,
    /// The net present value replicate by replicate, for the split above.
    #[serde(skip)]
    pub npv_by_replicate: Vec<f64>,
    /// Crisis-months avoided replicate by replicate.
    #[serde(skip)]
    pub crisis_months_avoided_by_replicate: Vec<f64>,
    /// QALYs gained (discounted) replicate by replicate.
    #[serde(skip)]
    pub qalys_gained_by_replicate: Vec<f64>,
}

/// A cost-effectiveness acceptability curve: the chance a scenario is worth
/// it against what the place is willing to pay for one unit of outcome.
/// In a replicate it is worth it when its net benefit, the net present
/// value plus the willingness to pay times the units gained, is above
/// zero; at a willingness of £0 the chance is the chance the net present
/// value is above zero.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Acceptability {
    /// The unit of outcome: `crisis_month` (a resident-month in crisis
    /// avoided) or `qaly` (a QALY gained, discounted at the health rate).
    pub per: String,
    /// Willingness to pay for one unit, £, rising from 0.
    pub willingness_gbp: Vec<f64>,
    /// Share of replicates worth it at each willingness.
    pub chance_worth_it: Vec<f64>,
}

/// Points on an acceptability curve per QALY: every £2,500.
const ACCEPTABILITY_POINTS: usize = 21;

/// Points on a curve per crisis-month avoided, whose prices span more.
const CRISIS_POINTS: usize = 41;

/// The top of the QALY curve: past the £20,000 to £30,000 a QALY NICE
/// takes as its threshold.
const QALY_WILLINGNESS_TOP: f64 = 50_000.0;

impl Acceptability {
    /// The curve from each replicate's net present value and units gained,
    /// in replicate order, at each willingness in `willingness`.
    pub fn of(per: &str, npv: &[f64], units: &[f64], willingness: Vec<f64>) -> Acceptability {
        let n = npv.len().min(units.len());
        let chance_worth_it = willingness
            .iter()
            .map(|w| {
                let worth = (0..n).filter(|&r| npv[r] + w * units[r] > 0.0).count();
                if n == 0 {
                    f64::NAN
                } else {
                    worth as f64 / n as f64
                }
            })
            .collect();
        Acceptability {
            per: per.into(),
            willingness_gbp: willingness,
            chance_worth_it,
        }
    }

    /// Willingness from £0 to a round top, at `CRISIS_POINTS` points
    /// closer together near £0: the top reaches past the 95th percentile of each
    /// scenario's replicates' own break-even prices (`−npv / units` where
    /// units are gained and money lost), so every curve shows where it
    /// levels off. `scenarios` holds each scenario's net present values
    /// and units, replicate by replicate.
    pub fn grid_for(scenarios: &[(&[f64], &[f64])]) -> Vec<f64> {
        let top = scenarios
            .iter()
            .filter_map(|(npv, units)| {
                let mut prices: Vec<f64> = npv
                    .iter()
                    .zip(*units)
                    .filter(|&(v, u)| *u > 0.0 && *v < 0.0)
                    .map(|(v, u)| -v / u)
                    .collect();
                prices.sort_by(f64::total_cmp);
                let p95 = (prices.len().saturating_sub(1) as f64 * 0.95).round() as usize;
                prices.get(p95).copied()
            })
            .fold(100.0, f64::max);
        let top = round_up(1.1 * top);
        // Denser near £0, where most curves rise: the square of even steps.
        let steps = (CRISIS_POINTS - 1) as f64;
        (0..CRISIS_POINTS)
            .map(|i| top * (i as f64 / steps).powi(2))
            .collect()
    }
}

/// Sets every appraisal's acceptability curves, on one scale a unit for
/// the whole comparison: per crisis-month avoided (up to where the
/// scenarios' curves level off) and per QALY gained (up to
/// `QALY_WILLINGNESS_TOP`).
pub fn price_outcomes(appraisals: &mut [Appraisal]) {
    let crisis: Vec<(&[f64], &[f64])> = appraisals
        .iter()
        .map(|a| {
            (
                a.npv_by_replicate.as_slice(),
                a.crisis_months_avoided_by_replicate.as_slice(),
            )
        })
        .collect();
    let crisis_grid = Acceptability::grid_for(&crisis);
    for a in appraisals.iter_mut() {
        a.acceptability = vec![
            Acceptability::of(
                "crisis_month",
                &a.npv_by_replicate,
                &a.crisis_months_avoided_by_replicate,
                crisis_grid.clone(),
            ),
            Acceptability::of(
                "qaly",
                &a.npv_by_replicate,
                &a.qalys_gained_by_replicate,
                grid(QALY_WILLINGNESS_TOP),
            ),
        ];
    }
}

/// [`ACCEPTABILITY_POINTS`] even steps from 0 to `top`.
fn grid(top: f64) -> Vec<f64> {
    let steps = (ACCEPTABILITY_POINTS - 1) as f64;
    (0..ACCEPTABILITY_POINTS)
        .map(|i| top * i as f64 / steps)
        .collect()
}

/// The next of 1, 2, 2.5 or 5 times a power of ten at or above `x` (at
/// least 1).
fn round_up(x: f64) -> f64 {
    let x = x.max(1.0);
    let power = 10f64.powf(x.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * power)
        .find(|&v| v >= x * (1.0 - 1e-12))
        .unwrap_or(10.0 * power)
}

/// The net present value's variance across replicates split between the
/// uncertain parameters and chance, from a run that draws parameters and
/// the same replicates re-run with every parameter at its value (the same
/// chance, paired): chance's part is the variance of the re-run, the
/// parameters' the variance of each replicate's difference between the
/// two. The shares are of their sum, which estimates the total variance
/// when the parameters' effect does not depend on the replicate's luck.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct VarianceSplit {
    /// Standard deviation of the net present value across replicates, with
    /// parameters drawn.
    pub sd: f64,
    /// The parameters' share of the variance, 0 to 1.
    pub parameters: f64,
    /// Chance's share, 0 to 1.
    pub chance: f64,
}

impl VarianceSplit {
    /// From each replicate's net present value with parameters drawn and at
    /// their values, in replicate order.
    pub fn of(drawn: &[f64], central: &[f64]) -> VarianceSplit {
        assert_eq!(drawn.len(), central.len());
        let var = |xs: &[f64]| {
            let n = xs.len() as f64;
            if xs.len() < 2 {
                return 0.0;
            }
            let mean = xs.iter().sum::<f64>() / n;
            xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)
        };
        let diff: Vec<f64> = drawn.iter().zip(central).map(|(d, c)| d - c).collect();
        let (p, c) = (var(&diff), var(central));
        let (parameters, chance) = if p + c > 0.0 {
            (p / (p + c), c / (p + c))
        } else {
            (0.0, 0.0)
        };
        VarianceSplit {
            sd: var(drawn).sqrt(),
            parameters,
            chance,
        }
    }
}

/// One appraisal year's flows (year 0 is the horizon's first twelve
/// months): real £ at the price base, undiscounted, after optimism bias. The
/// net present value is the sum over years of the discount factor times cost
/// avoided less spend, plus value left; cashable likewise.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct YearFlow {
    /// Appraisal year, from 0.
    pub year: u32,
    /// Its first month of the horizon, 1-based.
    pub first_month: u32,
    /// Its last month of the horizon, 1-based.
    pub last_month: u32,
    /// The discount rate from this year to the next.
    pub discount_rate: f64,
    /// Its discount factor (1 in year 0).
    pub discount_factor: f64,
    /// Extra intervention spend, capital counted when bought.
    pub spend: Band,
    /// Reactive cost avoided.
    pub cost_avoided: Band,
    /// The cashable part of `cost_avoided`.
    pub cashable_cost_avoided: Band,
    /// Capital's value left at the horizon: the final year only, else 0.
    pub value_left: Band,
}

/// One replicate's flows, real £ by month after optimism bias.
struct Flows {
    investment: Vec<f64>,
    savings: Vec<f64>,
    cashable_savings: Vec<f64>,
    /// Residual value at the horizon (real, undiscounted).
    residual: f64,
    /// By payer: discounted spend (net of residual) and cost avoided.
    payer_spend: [f64; Payer::ALL.len()],
    payer_avoided: [f64; Payer::ALL.len()],
    /// The parts of the money bridge (`bridge::Parts`), over the horizon.
    parts: Parts,
}

struct Context<'a> {
    lines: Vec<Line>,
    baseline: &'a ScenarioRuns,
    scenario: &'a ScenarioRuns,
    /// Uplift by line index (prevention and capital lines), 0 for others.
    uplift: Vec<f64>,
    haircut: f64,
    /// Relative price effect by line and month: (1 + i) / (1 + g) to the power
    /// of the years since the price base.
    rpe: Vec<Vec<f64>>,
    cashable: Vec<f64>,
    residual_share: Vec<Option<f64>>,
    /// Years over which a capital line's asset loses its value (straight
    /// line), when no residual share is stated.
    asset_years: Vec<f64>,
    /// Share of a capital line's purchases that is land, keeping its value.
    land_share: Vec<f64>,
    factors: Vec<f64>,
    months: usize,
    /// Cash (nominal) value of £1 at the price base, by line and month.
    cash: Vec<Vec<f64>>,
    /// A capital line's financing terms, if it has any.
    financing: Vec<Option<InterventionMoney>>,
    /// The horizon's periods: months alike in financial year and appraisal
    /// year, so alike in prices and discount factor.
    periods: Vec<Period>,
}

impl Context<'_> {
    fn flows(&self, r: usize, optimism_bias: bool) -> Flows {
        let months = self.months;
        let mut investment = vec![0.0; months];
        let mut reactive = vec![vec![0.0; months]; self.lines.len()];
        let mut payer_spend = [0.0; Payer::ALL.len()];
        let mut payer_avoided = [0.0; Payer::ALL.len()];
        let mut residual = 0.0;
        let last_factor = self.factors[(months - 1) / 12];
        let mut parts = Parts::default();
        for (k, line) in self.lines.iter().enumerate() {
            let b = line.monthly(self.baseline, r);
            let s = line.monthly(self.scenario, r);
            match line.kind {
                LineKind::Reactive => {
                    for m in 0..months {
                        let d = b[m] - s[m];
                        reactive[k][m] = d * self.rpe[k][m];
                        parts.avoided += d;
                        parts.price_effect += d * (self.rpe[k][m] - 1.0);
                        parts.inflation += d * (self.cash[k][m] - 1.0);
                    }
                }
                LineKind::Prevention | LineKind::Capital => {
                    let u = if optimism_bias { self.uplift[k] } else { 0.0 };
                    let p = line.payer as usize;
                    // Prudent either way, on each period's net extra spend
                    // (as the workbook's formulas take it): more spend
                    // grows, less shrinks.
                    let mut grow = vec![0.0; months];
                    for period in &self.periods {
                        let net: f64 = period.months.clone().map(|m| s[m] - b[m]).sum();
                        grow[period.months.clone()].fill(u * prudent_sign(net));
                    }
                    for m in 0..months {
                        let simulated = s[m] - b[m];
                        let d = simulated * self.rpe[k][m];
                        let adj = d + grow[m] * d;
                        investment[m] += adj;
                        payer_spend[p] += adj * self.factors[m / 12];
                        parts.price_effect -= simulated * (self.rpe[k][m] - 1.0);
                        parts.optimism_bias_on_spend += grow[m] * d;
                        if line.kind == LineKind::Capital {
                            parts.capital += simulated;
                        } else {
                            parts.prevention += simulated;
                            parts.inflation -= simulated * (self.cash[k][m] - 1.0);
                        }
                    }
                    if let Some(money) = &self.financing[k] {
                        // The budget's financing charges, on cash prices.
                        let cash = |v: &[f64]| -> Vec<f64> {
                            v.iter().zip(&self.cash[k]).map(|(x, c)| x * c).collect()
                        };
                        let charges =
                            |v: &[f64]| -> f64 { financing_charges(&cash(v), money).iter().sum() };
                        parts.financing += charges(&s) - charges(&b);
                    }
                    if line.kind == LineKind::Capital {
                        let real: Vec<f64> = (0..months)
                            .map(|m| (s[m] - b[m]) * self.rpe[k][m])
                            .collect();
                        let value = value_left(
                            &real,
                            self.residual_share[k],
                            self.land_share[k],
                            self.asset_years[k],
                        );
                        residual += value;
                        payer_spend[p] -= value * last_factor;
                    }
                }
            }
        }
        let total: f64 = reactive.iter().flatten().sum();
        let h = if optimism_bias { self.haircut } else { 0.0 };
        // Prudent either way: a saving shrinks, an extra cost grows.
        let keep = if total >= 0.0 { 1.0 - h } else { 1.0 + h };
        parts.optimism_bias_on_savings = total * (1.0 - keep);
        parts.residual_value = residual;
        let mut savings = vec![0.0; months];
        let mut cashable_savings = vec![0.0; months];
        for (k, line) in self.lines.iter().enumerate() {
            if line.kind != LineKind::Reactive {
                continue;
            }
            let p = line.payer as usize;
            for m in 0..months {
                let v = reactive[k][m] * keep;
                savings[m] += v;
                cashable_savings[m] += v * self.cashable[k];
                payer_avoided[p] += v * self.factors[m / 12];
            }
        }
        Flows {
            investment,
            savings,
            cashable_savings,
            residual,
            payer_spend,
            payer_avoided,
            parts,
        }
    }
}

/// The direction optimism bias moves a period's net extra spend `net`:
/// more spend grows (+1), less shrinks (−1), none stays none (0), so the
/// allowance is the uplift times the net's size.
fn prudent_sign(net: f64) -> f64 {
    if net > 0.0 {
        1.0
    } else if net < 0.0 {
        -1.0
    } else {
        0.0
    }
}

/// Interventions that differ between the baseline and the scenario (new,
/// removed or changed): the ones a comparison is about.
pub(crate) fn changed_interventions(baseline: &Config, scenario: &Config) -> Vec<String> {
    let mut out = Vec::new();
    for iv in &scenario.interventions {
        if baseline.interventions.iter().find(|b| b.id == iv.id) != Some(iv) {
            out.push(iv.id.clone());
        }
    }
    for b in &baseline.interventions {
        if !scenario.interventions.iter().any(|iv| iv.id == b.id) {
            out.push(b.id.clone());
        }
    }
    out
}

/// Appraises scenario `s` against scenario 0 (the baseline), paired by
/// replicate.
pub fn appraise(
    conv: &Conventions,
    configs: &[&Config],
    money: &[&[InterventionMoney]],
    runs: &[ScenarioRuns],
    s: usize,
) -> Appraisal {
    let (bc, sc) = (configs[0], configs[s]);
    let allowances = Allowances::of(conv, bc, sc, money[0], money[s], runs, s);
    let ctx = context(conv, money[0], money[s], runs, s, &allowances);
    let reps = runs[s].series.len().min(runs[0].series.len());
    let mut tally = Tally::new(conv, ctx.months);
    for r in 0..reps {
        tally.add(conv, &ctx, runs, s, r);
    }
    tally.into_appraisal(conv, &ctx, bc, sc, allowances)
}

/// What a comparison allows for beyond its flows: each changed line's cost
/// uplift and the optimism-bias haircut on savings, by the weakest evidence
/// grade among the changed interventions.
struct Allowances {
    lines: Vec<Line>,
    /// Uplift by line index (prevention and capital lines), 0 for others.
    uplift: Vec<f64>,
    /// Each changed intervention's uplift on money that moves, for the reader.
    cost_uplift: Vec<(String, f64)>,
    weakest: Option<Grade>,
    haircut: f64,
}

impl Allowances {
    fn of(
        conv: &Conventions,
        bc: &Config,
        sc: &Config,
        baseline_money: &[InterventionMoney],
        money: &[InterventionMoney],
        runs: &[ScenarioRuns],
        s: usize,
    ) -> Allowances {
        let lines = lines(bc, sc);
        let mut uplift = vec![0.0; lines.len()];
        let mut cost_uplift = Vec::new();
        let mut weakest: Option<Grade> = None;
        for id in &changed_interventions(bc, sc) {
            let Some(m) = money_of(id, money, baseline_money) else {
                continue;
            };
            weakest = Some(weakest.map_or(m.effect_grade, |w| w.max(m.effect_grade)));
            for (k, line) in lines.iter().enumerate() {
                if line.kind == LineKind::Reactive || line.id != *id {
                    continue;
                }
                // Capital by the grade of its purchase price, revenue by the
                // grade of its revenue costs.
                let u = conv.uplift(if line.kind == LineKind::Capital {
                    m.capital_cost_grade
                } else {
                    m.cost_grade
                });
                uplift[k] = u;
                // The allowance a reader is told of: only on money that moves.
                let moves = (0..runs[s].series.len().min(runs[0].series.len())).any(|r| {
                    let (b, sv) = (line.monthly(&runs[0], r), line.monthly(&runs[s], r));
                    b.iter().zip(sv).any(|(x, y)| *x != y)
                });
                if moves && !cost_uplift.iter().any(|(i, v)| i == id && *v == u) {
                    cost_uplift.push((id.clone(), u));
                }
            }
        }
        let haircut = weakest.map_or(0.0, |g| conv.haircut(g));
        Allowances {
            lines,
            uplift,
            cost_uplift,
            weakest,
            haircut,
        }
    }
}

/// The prices, shares and rules each line's flows are valued by.
fn context<'a>(
    conv: &Conventions,
    baseline_money: &[InterventionMoney],
    money: &[InterventionMoney],
    runs: &'a [ScenarioRuns],
    s: usize,
    allowances: &Allowances,
) -> Context<'a> {
    let lines = allowances.lines.clone();
    let months = runs[s].series.first().map_or(0, |x| x.months);
    let mut residual_share = vec![None; lines.len()];
    let mut asset_years = vec![f64::INFINITY; lines.len()];
    let mut land_share = vec![0.0; lines.len()];
    // Every capital line's residual rule (an unchanged one cancels between
    // the two runs anyway), from the scenario's definition.
    for (k, line) in lines.iter().enumerate() {
        if line.kind == LineKind::Capital
            && let Some(m) = money_of(&line.id, money, baseline_money)
        {
            residual_share[k] = m.residual_value_share;
            land_share[k] = m.land_share.unwrap_or(0.0);
            if let Some(f) = m.financing {
                asset_years[k] = f.years() as f64;
            }
        }
    }
    let by_month = |value: &dyn Fn(f64, u32) -> f64| -> Vec<Vec<f64>> {
        lines
            .iter()
            .map(|l| {
                let i = conv.inflation_of(&l.id);
                (1..=months as u32).map(|m| value(i, m)).collect()
            })
            .collect()
    };
    let rpe = by_month(&|i, m| conv.real(conv.nominal(1.0, i, m), m));
    let cash = by_month(&|i, m| conv.nominal(1.0, i, m));
    let cashable = lines
        .iter()
        .map(|l| {
            if l.kind == LineKind::Reactive {
                conv.cashable_of(&l.id)
            } else {
                0.0
            }
        })
        .collect();
    let financing = lines
        .iter()
        .map(|l| {
            (l.kind == LineKind::Capital)
                .then(|| money_of(&l.id, money, baseline_money).cloned())
                .flatten()
        })
        .collect();
    let years = months.div_ceil(12) as u32;
    Context {
        lines,
        baseline: &runs[0],
        scenario: &runs[s],
        uplift: allowances.uplift.clone(),
        haircut: allowances.haircut,
        rpe,
        cashable,
        residual_share,
        asset_years,
        land_share,
        factors: conv.discount.factors(years.max(1)),
        months,
        cash,
        financing,
        periods: periods(conv, months),
    }
}

/// Spend, cost avoided and net, one value a replicate.
type Rows = (Vec<f64>, Vec<f64>, Vec<f64>);

/// Each figure of an appraisal, one value a replicate, as the replicates
/// are valued.
struct Tally {
    npv: Vec<f64>,
    npv_raw: Vec<f64>,
    npv_cash: Vec<f64>,
    pv_inv: Vec<f64>,
    pv_sav: Vec<f64>,
    pv_cash: Vec<f64>,
    pv_res: Vec<f64>,
    roi: Vec<Option<f64>>,
    bcr: Vec<Option<f64>>,
    pb_disc: Vec<Option<u32>>,
    pb_undisc: Vec<Option<u32>>,
    u_inv: Vec<f64>,
    u_sav: Vec<f64>,
    u_net: Vec<f64>,
    crisis: Vec<f64>,
    qalys: Vec<f64>,
    per_crisis: Vec<Option<f64>>,
    per_qaly: Vec<Option<f64>>,
    payer_rows: Vec<Rows>,
    pool_rows: Vec<Rows>,
    cum: Vec<Rows>,
    bridge_parts: Vec<Parts>,
    /// Per year: spend, cost avoided, cashable, value left.
    yearly: Vec<[Vec<f64>; 4]>,
    health: Vec<f64>,
}

impl Tally {
    fn new(conv: &Conventions, months: usize) -> Tally {
        let years = months.div_ceil(12) as u32;
        let rows = |n: usize| vec![(Vec::new(), Vec::new(), Vec::new()); n];
        Tally {
            npv: Vec::new(),
            npv_raw: Vec::new(),
            npv_cash: Vec::new(),
            pv_inv: Vec::new(),
            pv_sav: Vec::new(),
            pv_cash: Vec::new(),
            pv_res: Vec::new(),
            roi: Vec::new(),
            bcr: Vec::new(),
            pb_disc: Vec::new(),
            pb_undisc: Vec::new(),
            u_inv: Vec::new(),
            u_sav: Vec::new(),
            u_net: Vec::new(),
            crisis: Vec::new(),
            qalys: Vec::new(),
            per_crisis: Vec::new(),
            per_qaly: Vec::new(),
            payer_rows: rows(Payer::ALL.len()),
            pool_rows: rows(conv.pools.len()),
            cum: rows(months),
            bridge_parts: Vec::new(),
            yearly: vec![[const { Vec::new() }; 4]; years as usize],
            health: conv.health_discount.factors(years.max(1)),
        }
    }

    /// Values replicate `r` of scenario `s` against the baseline's.
    fn add(
        &mut self,
        conv: &Conventions,
        ctx: &Context,
        runs: &[ScenarioRuns],
        s: usize,
        r: usize,
    ) {
        let months = ctx.months;
        let years = self.yearly.len();
        let f = ctx.flows(r, true);
        let raw = ctx.flows(r, false);
        let disc = |v: &[f64]| -> Vec<f64> {
            v.iter()
                .enumerate()
                .map(|(m, x)| x * ctx.factors[m / 12])
                .collect()
        };
        let (di, ds, dc) = (
            disc(&f.investment),
            disc(&f.savings),
            disc(&f.cashable_savings),
        );
        let last = ctx.factors[(months.max(1) - 1) / 12];
        let residual = f.residual * last;
        let inv: f64 = di.iter().sum::<f64>() - residual;
        let sav: f64 = ds.iter().sum();
        let cash: f64 = dc.iter().sum();
        let n = sav - inv;
        self.npv.push(n);
        let n_raw = disc(&raw.savings).iter().sum::<f64>()
            - disc(&raw.investment).iter().sum::<f64>()
            + raw.residual * last;
        self.npv_raw.push(n_raw);
        self.npv_cash.push(cash - inv);
        self.bridge_parts.push(Parts {
            npv: n,
            npv_without_optimism_bias: n_raw,
            npv_cashable: cash - inv,
            ..f.parts
        });
        for (y, acc) in self.yearly.iter_mut().enumerate() {
            let span = y * 12..((y + 1) * 12).min(months);
            let sum = |v: &[f64]| -> f64 { v[span.clone()].iter().sum() };
            acc[0].push(sum(&f.investment));
            acc[1].push(sum(&f.savings));
            acc[2].push(sum(&f.cashable_savings));
            acc[3].push(if y + 1 == years { f.residual } else { 0.0 });
        }
        self.pv_inv.push(inv);
        self.pv_sav.push(sav);
        self.pv_cash.push(cash);
        self.pv_res.push(residual);
        self.roi.push((inv > 0.0).then(|| n / inv));
        self.bcr.push((inv > 0.0).then(|| sav / inv));
        self.pb_disc.push(payback_month(&di, &ds));
        self.pb_undisc
            .push(payback_month(&f.investment, &f.savings));
        let ui: f64 = f.investment.iter().sum::<f64>() - f.residual;
        let us: f64 = f.savings.iter().sum();
        self.u_inv.push(ui);
        self.u_sav.push(us);
        self.u_net.push(us - ui);
        let in_crisis = Metric::Need(NeedLevel::Crisis);
        let cb = runs[0].monthly(&in_crisis, r);
        let cs = runs[s].monthly(&in_crisis, r);
        let avoided: f64 = cb.iter().zip(&cs).map(|(b, s)| b - s).sum();
        self.crisis.push(avoided);
        let qb = runs[0].monthly(&Metric::Qalys, r);
        let qs = runs[s].monthly(&Metric::Qalys, r);
        let gained: f64 = (0..months)
            .map(|m| (qs[m] - qb[m]) * self.health[m / 12])
            .sum();
        self.qalys.push(gained);
        self.per_crisis.push((avoided > 0.0).then(|| -n / avoided));
        self.per_qaly.push((gained > 0.0).then(|| -n / gained));
        for (p, rows) in self.payer_rows.iter_mut().enumerate() {
            rows.0.push(f.payer_spend[p]);
            rows.1.push(f.payer_avoided[p]);
            rows.2.push(f.payer_avoided[p] - f.payer_spend[p]);
        }
        for (k, pool) in conv.pools.iter().enumerate() {
            let sum = |v: &[f64; Payer::ALL.len()]| -> f64 {
                pool.payers.iter().map(|p| v[*p as usize]).sum()
            };
            let (sp, av) = (sum(&f.payer_spend), sum(&f.payer_avoided));
            self.pool_rows[k].0.push(sp);
            self.pool_rows[k].1.push(av);
            self.pool_rows[k].2.push(av - sp);
        }
        let (mut ci, mut cs_) = (0.0, 0.0);
        for m in 0..months {
            ci += di[m];
            if m + 1 == months {
                // Capital's residual value is credited at the horizon, so the
                // cumulative net there is the net present value.
                ci -= residual;
            }
            cs_ += ds[m];
            self.cum[m].0.push(ci);
            self.cum[m].1.push(cs_);
            self.cum[m].2.push(cs_ - ci);
        }
    }

    /// The appraisal: each figure's band across the replicates.
    fn into_appraisal(
        self,
        conv: &Conventions,
        ctx: &Context,
        bc: &Config,
        sc: &Config,
        allowances: Allowances,
    ) -> Appraisal {
        let months = ctx.months;
        let position = |id: &str, name: &str, rows: &Rows| Position {
            id: id.into(),
            name: name.into(),
            spend: Band::of(&rows.0),
            cost_avoided: Band::of(&rows.1),
            net: Band::of(&rows.2),
        };
        Appraisal {
            scenario: sc.name.clone(),
            against: bc.name.clone(),
            cost_uplift: allowances.cost_uplift,
            savings_haircut: allowances.haircut,
            savings_haircut_grade: allowances.weakest,
            npv: Band::of(&self.npv),
            npv_variance: None,
            npv_without_optimism_bias: Band::of(&self.npv_raw),
            npv_cashable: Band::of(&self.npv_cash),
            pv_investment: Band::of(&self.pv_inv),
            pv_savings: Band::of(&self.pv_sav),
            pv_cashable_savings: Band::of(&self.pv_cash),
            pv_residual_value: Band::of(&self.pv_res),
            roi: Estimate::of(&self.roi),
            benefit_cost_ratio: Estimate::of(&self.bcr),
            payback_month_discounted: Payback::of(&self.pb_disc),
            payback_month_undiscounted: Payback::of(&self.pb_undisc),
            probability_npv_positive: if self.npv.is_empty() {
                f64::NAN
            } else {
                self.npv.iter().filter(|&&v| v > 0.0).count() as f64 / self.npv.len() as f64
            },
            undiscounted_investment: Band::of(&self.u_inv),
            undiscounted_savings: Band::of(&self.u_sav),
            undiscounted_net: Band::of(&self.u_net),
            crisis_months_avoided: Band::of(&self.crisis),
            qalys_gained: Band::of(&self.qalys),
            // Priced once every scenario is appraised, on one scale
            // (`price_outcomes`).
            acceptability: Vec::new(),
            net_cost_per_crisis_month_avoided: Estimate::of(&self.per_crisis),
            net_cost_per_qaly_gained: Estimate::of(&self.per_qaly),
            who_pays: Payer::ALL
                .iter()
                .map(|p| position(p.name(), p.label(), &self.payer_rows[*p as usize]))
                .collect(),
            pools: conv
                .pools
                .iter()
                .zip(&self.pool_rows)
                .map(|(pool, rows)| position(&pool.id, &pool.name, rows))
                .collect(),
            cumulative: self
                .cum
                .iter()
                .enumerate()
                .map(|(m, (i, s_, n))| Cumulative {
                    month: m as u32 + 1,
                    financial_year: conv.fy_label(conv.financial_year(m as u32 + 1)),
                    investment: Band::of(i),
                    savings: Band::of(s_),
                    net: Band::of(n),
                })
                .collect(),
            bridge: Bridge::of(&self.bridge_parts),
            by_year: self
                .yearly
                .iter()
                .enumerate()
                .map(|(y, acc)| YearFlow {
                    year: y as u32,
                    first_month: y as u32 * 12 + 1,
                    last_month: ((y + 1) * 12).min(months) as u32,
                    discount_rate: conv.discount.rate(y as u32),
                    discount_factor: ctx.factors[y],
                    spend: Band::of(&acc[0]),
                    cost_avoided: Band::of(&acc[1]),
                    cashable_cost_avoided: Band::of(&acc[2]),
                    value_left: Band::of(&acc[3]),
                })
                .collect(),
            capital_schedule: Vec::new(),
            npv_by_replicate: self.npv,
            crisis_months_avoided_by_replicate: self.crisis,
            qalys_gained_by_replicate: self.qalys,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each point is the share of replicates whose net present value plus
    /// the willingness times its units is above zero; at £0, the chance
    /// the net present value is above zero.
    #[test]
    fn optimism_bias_grows_more_spend_shrinks_less_and_leaves_none_alone() {
        assert_eq!(prudent_sign(250.0), 1.0);
        assert_eq!(prudent_sign(-0.01), -1.0);
        assert_eq!(prudent_sign(0.0), 0.0);
        assert_eq!(prudent_sign(-0.0), 0.0);
    }

    #[test]
    fn an_acceptability_curve_counts_the_replicates_worth_it_at_each_price() {
        let npv = [-100.0, -50.0, 10.0, 20.0];
        let units = [10.0, 1.0, 0.0, -1.0];
        let c = Acceptability::of("crisis_month", &npv, &units, vec![0.0, 20.0, 60.0]);
        assert_eq!(c.chance_worth_it, [0.5, 0.5, 0.75]);
        // Units all gained: the chance never falls as the price rises.
        let gained = [3.0, 0.5, 1.0, 2.0];
        let grid = Acceptability::grid_for(&[(&npv, &gained)]);
        assert_eq!(grid.len(), CRISIS_POINTS);
        assert!(grid.windows(2).all(|w| w[0] < w[1]) && grid[0] == 0.0);
        let curve = Acceptability::of("crisis_month", &npv, &gained, grid.clone());
        assert!(curve.chance_worth_it.windows(2).all(|w| w[0] <= w[1]));
        // The grid reaches past every break-even price (100 and 100/3 here:
        // 110 rounds up to 200), so the curve ends at its top.
        assert_eq!(grid[grid.len() - 1], 200.0);
        assert_eq!(curve.chance_worth_it[grid.len() - 1], 1.0);
        for (x, want) in [
            (0.0, 1.0),
            (1.1, 2.0),
            (2.1, 2.5),
            (3.0, 5.0),
            (7.0, 10.0),
            (100.0, 100.0),
        ] {
            assert_eq!(round_up(x), want, "{x}");
        }
    }

    /// Chance's part is the re-run's variance; the parameters' is the
    /// variance of each replicate's paired difference.
    #[test]
    fn the_variance_splits_by_paired_differences() {
        let central = [1.0, 2.0, 3.0, 4.0];
        let drawn = [11.0, -8.0, 13.0, -6.0];
        let v = VarianceSplit::of(&drawn, &central);
        // Differences 10, -10, 10, -10: variance 400/3; chance 5/3.
        let (p, c) = (400.0 / 3.0, 5.0 / 3.0);
        assert!((v.parameters - p / (p + c)).abs() < 1e-12);
        assert!((v.chance - c / (p + c)).abs() < 1e-12);
        let mean = 2.5;
        let var = drawn.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / 3.0;
        assert!((v.sd - var.sqrt()).abs() < 1e-12);
        // Nothing drawn: all chance.
        let same = VarianceSplit::of(&central, &central);
        assert_eq!((same.parameters, same.chance), (0.0, 1.0));
        // Two replicates are enough for a variance; one is not.
        let two = VarianceSplit::of(&[1.0, 3.0], &[1.0, 1.0]);
        assert_eq!(
            (two.sd, two.parameters, two.chance),
            (2f64.sqrt(), 1.0, 0.0)
        );
        let one = VarianceSplit::of(&[5.0], &[4.0]);
        assert_eq!((one.sd, one.parameters, one.chance), (0.0, 0.0, 0.0));
    }

    /// The interventions a comparison is about: new, removed or changed,
    /// never one both scenarios run alike.
    #[test]
    fn changed_interventions_are_the_new_removed_and_changed_ones() {
        let load = |name: &str| {
            let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/fixtures")
                .join(name);
            crate::scenario::load(&path).unwrap().config
        };
        // small: early help; small_hubs: the same early help and hubs;
        // small_plain: early help with no budget.
        let (small, hubs, plain) = (
            load("small.toml"),
            load("small_hubs.toml"),
            load("small_plain.toml"),
        );
        assert_eq!(changed_interventions(&small, &small), Vec::<String>::new());
        assert_eq!(changed_interventions(&small, &hubs), ["hubs"]);
        assert_eq!(changed_interventions(&hubs, &small), ["hubs"]);
        assert_eq!(changed_interventions(&small, &plain), ["early_help"]);
        assert_eq!(changed_interventions(&plain, &hubs), ["early_help", "hubs"]);
    }

    #[test]
    fn payback_on_constructed_flows() {
        // £100 up front, £30 a month back: 30, 60, 90, 120 > 100 in month 4.
        let inv = [100.0, 0.0, 0.0, 0.0, 0.0];
        let sav = [30.0; 5];
        assert_eq!(payback_month(&inv, &sav), Some(4));
        // Exactly equal is not yet paid back.
        assert_eq!(payback_month(&[90.0, 0.0, 0.0], &[30.0; 3]), None);
        // Never: savings too small.
        assert_eq!(payback_month(&inv, &[1.0; 5]), None);
        // Nothing invested: no payback to speak of.
        assert_eq!(payback_month(&[0.0; 3], &[5.0; 3]), None);
        // A constant stream: investment I a month, savings S > I a month
        // from month k: closed form.
        let (i, s, k) = (10.0, 25.0, 6usize);
        let inv: Vec<f64> = vec![i; 60];
        let sav: Vec<f64> = (0..60).map(|m| if m >= k { s } else { 0.0 }).collect();
        // Paid back at the first n with (n − k)·s > n·i: n > k·s / (s − i).
        let expected = (k as f64 * s / (s - i)).floor() as u32 + 1;
        assert_eq!(payback_month(&inv, &sav), Some(expected));
    }

    #[test]
    fn value_left_is_straight_line_from_each_purchase_or_the_share_stated() {
        // A 24-month horizon: £1,000 bought in month 1 of an asset lasting
        // four years keeps half its value; £400 bought in the last month
        // keeps 47/48 of it; a stated share applies to every purchase.
        let mut bought = vec![0.0; 24];
        bought[0] = 1000.0;
        bought[23] = 400.0;
        let left = value_left(&bought, None, 0.0, 4.0);
        assert!(
            (left - (500.0 + 400.0 * 47.0 / 48.0)).abs() < 1e-9,
            "{left}"
        );
        assert!((value_left(&bought, Some(0.3), 0.0, 4.0) - 420.0).abs() < 1e-9);
        // Land keeps its value; only the buildings lose theirs: with 60%
        // land, the £1,000 keeps 600 + 400 × 0.5.
        let mut one = vec![0.0; 24];
        one[0] = 1000.0;
        assert!((value_left(&one, None, 0.6, 4.0) - 800.0).abs() < 1e-9);
        // A stated share overrides the land share.
        assert!((value_left(&one, Some(0.3), 0.6, 4.0) - 300.0).abs() < 1e-9);
        // An asset outlived by the horizon keeps nothing, never less; land
        // keeps its value even then.
        assert_eq!(value_left(&bought[..1], None, 0.0, 0.05), 0.0);
        assert!((value_left(&bought[..1], None, 0.25, 0.05) - 250.0).abs() < 1e-9);
        assert_eq!(value_left(&bought, None, 0.0, f64::INFINITY), 1400.0);
    }

    #[test]
    fn npv_of_a_hand_built_flow() {
        // Year 0: −£1,200 over the year; years 1 and 2: +£600 a year.
        let mut net = vec![-100.0; 12];
        net.extend(vec![50.0; 24]);
        let f = super::super::Schedule::green_book().factors(3);
        let expected = -1200.0 + 600.0 / 1.035 + 600.0 / 1.035f64.powi(2);
        assert!((npv(&net, &f) - expected).abs() < 1e-9);
    }

    #[test]
    fn payback_percentiles_treat_never_as_beyond_the_horizon() {
        let p = Payback::of(&[Some(30), None, Some(20), Some(40), None]);
        assert_eq!(p.within_horizon, 0.6);
        assert_eq!(p.p5, Some(20));
        assert_eq!(p.p50, Some(40));
        assert_eq!(p.p95, None);
    }

    #[test]
    fn estimates_use_only_defined_replicates() {
        let e = Estimate::of(&[Some(1.0), None, Some(3.0)]);
        assert_eq!(e.replicates, 2);
        assert_eq!(e.mean, 2.0);
    }
}
