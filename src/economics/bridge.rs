//! The money bridge: one scenario's money from the net revenue saving as
//! simulated to the net present value a business case reports, and to the
//! revenue budget impact a finance officer signs, each step named with its amount. The
//! steps add up: each total is the one before it plus the steps between,
//! replicate by replicate, so the means add up too.
//!
//! Every output names these figures as the bridge does, so a figure means the
//! same wherever it is read.

use serde::{Deserialize, Serialize};

use crate::format::money;
use crate::metrics::Band;

/// One replicate's parts of the bridge, over the horizon: price-base £ as
/// simulated unless said otherwise.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Parts {
    /// Extra prevention (revenue) spend.
    pub prevention: f64,
    /// Extra capital spend.
    pub capital: f64,
    /// Reactive cost avoided, gross.
    pub avoided: f64,
    /// What prices rising faster than general inflation add to the net
    /// saving in real terms.
    pub price_effect: f64,
    /// Capital's value left at the horizon, real.
    pub residual_value: f64,
    /// The optimism-bias allowance on spend (an amount, taken off).
    pub optimism_bias_on_spend: f64,
    /// The optimism-bias allowance on savings (an amount, taken off).
    pub optimism_bias_on_savings: f64,
    /// What cash prices add to the revenue lines' net saving.
    pub inflation: f64,
    /// Extra financing charges (MRP and interest) within the horizon, cash.
    pub financing: f64,
    /// The net present value, and beside it without optimism bias and on
    /// cashable savings only.
    pub npv: f64,
    pub npv_without_optimism_bias: f64,
    pub npv_cashable: f64,
}

/// One line of the bridge.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Step {
    /// A stable name for programs, such as `optimism_bias_on_spend`.
    pub id: String,
    /// The name people read, the same in every output.
    pub name: String,
    /// A total (the sum of everything above it) rather than a step.
    pub total: bool,
    /// Its amount in £ (a step's effect on the total, signed), across
    /// replicates.
    pub amount: Band,
}

/// A scenario's money, step by step.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Bridge {
    /// From the net revenue saving as simulated (price base, undiscounted,
    /// before optimism bias) to the net present value.
    pub appraisal: Vec<Step>,
    /// From the net revenue saving to the revenue budget impact over the
    /// horizon (cash prices, every payer, with capital's financing charges).
    pub budget: Vec<Step>,
    /// Beside the net present value: without optimism bias.
    pub npv_without_optimism_bias: Band,
    /// Beside the net present value: cashable savings only.
    pub npv_cashable: Band,
    /// When the net revenue saving and the net present value differ in
    /// sign, why, in one sentence naming the step that turns it.
    pub sign_change: Option<String>,
    /// The revenue budget impact (cash, all payers, financing included) in
    /// each financial year of the horizon: the figure a Section 151 officer
    /// signs, year by year. The years add up to the budget chain's total.
    #[serde(default)]
    pub revenue_budget_impact_by_year: Vec<YearAmount>,
}

impl Bridge {
    /// The revenue budget impact over the horizon: the budget chain's total
    /// (zero before a bridge is built).
    pub fn revenue_budget_impact(&self) -> Band {
        self.budget
            .iter()
            .find(|s| s.id == "revenue_budget_impact")
            .map_or_else(Band::default, |s| s.amount)
    }
}

/// An amount in one financial year, across replicates.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct YearAmount {
    /// The financial year's label, such as `2026/27`.
    pub financial_year: String,
    /// The amount in £.
    pub amount: Band,
}

/// How a bridge's lines are built from a replicate's parts: a step's amount,
/// or `None` for a total.
type Rule = (&'static str, &'static str, Option<fn(&Parts) -> f64>);

const APPRAISAL: &[Rule] = &[
    (
        "extra_prevention_spend",
        "Extra prevention spend",
        Some(|p| -p.prevention),
    ),
    (
        "reactive_cost_avoided",
        "Reactive cost avoided",
        Some(|p| p.avoided),
    ),
    ("net_revenue_saving", "Net revenue saving", None),
    (
        "extra_capital_spend",
        "Extra capital spend",
        Some(|p| -p.capital),
    ),
    (
        "residual_value",
        "Capital's value left at the horizon",
        Some(|p| p.residual_value),
    ),
    (
        "relative_price_effects",
        "Prices rising faster than general inflation",
        Some(|p| p.price_effect),
    ),
    (
        "optimism_bias_on_spend",
        "Optimism bias on spend",
        Some(|p| -p.optimism_bias_on_spend),
    ),
    (
        "optimism_bias_on_savings",
        "Optimism bias on savings",
        Some(|p| -p.optimism_bias_on_savings),
    ),
    (
        "net_saving_after_optimism_bias",
        "Net saving after optimism bias, real terms",
        None,
    ),
    ("discounting", "Discounting", Some(discounting)),
    ("npv", "Net present value", None),
];

const BUDGET: &[Rule] = &[
    (
        "net_revenue_saving",
        "Net revenue saving",
        Some(net_revenue_saving),
    ),
    (
        "financing",
        "Financing of capital (MRP and interest)",
        Some(|p| -p.financing),
    ),
    (
        "inflation",
        "Inflation to cash prices",
        Some(|p| p.inflation),
    ),
    (
        "revenue_budget_impact",
        "Revenue budget impact, cash, all payers",
        None,
    ),
];

fn net_revenue_saving(p: &Parts) -> f64 {
    p.avoided - p.prevention
}

fn after_optimism_bias(p: &Parts) -> f64 {
    net_revenue_saving(p) - p.capital + p.residual_value + p.price_effect
        - p.optimism_bias_on_spend
        - p.optimism_bias_on_savings
}

fn discounting(p: &Parts) -> f64 {
    p.npv - after_optimism_bias(p)
}

/// The lines of `rules` over the replicates' parts: each step's amounts,
/// each total the running sum of the steps above it.
fn lines(rules: &[Rule], parts: &[Parts]) -> Vec<Step> {
    let mut running = vec![0.0; parts.len()];
    rules
        .iter()
        .map(|&(id, name, rule)| {
            let values: Vec<f64> = match rule {
                Some(f) => {
                    // `+ 0.0` writes a step of nothing as 0, not −0.
                    let v: Vec<f64> = parts.iter().map(|p| f(p) + 0.0).collect();
                    for (r, x) in running.iter_mut().zip(&v) {
                        *r += x;
                    }
                    v
                }
                None => running.clone(),
            };
            Step {
                id: id.into(),
                name: name.into(),
                total: rule.is_none(),
                amount: Band::of(&values),
            }
        })
        .collect()
}

impl Bridge {
    /// The bridge over the replicates' parts.
    pub(super) fn of(parts: &[Parts]) -> Bridge {
        let appraisal = lines(APPRAISAL, parts);
        let band = |f: fn(&Parts) -> f64| Band::of(&parts.iter().map(f).collect::<Vec<_>>());
        let sign_change = sign_change(&appraisal);
        Bridge {
            appraisal,
            budget: lines(BUDGET, parts),
            npv_without_optimism_bias: band(|p| p.npv_without_optimism_bias),
            npv_cashable: band(|p| p.npv_cashable),
            sign_change,
            revenue_budget_impact_by_year: Vec::new(),
        }
    }

    /// The appraisal line named `id`.
    pub fn step(&self, id: &str) -> Option<&Step> {
        self.appraisal
            .iter()
            .chain(&self.budget)
            .find(|s| s.id == id)
    }
}

/// Why the net revenue saving and the net present value differ in sign: the
/// largest step between them that pulls towards the net present value's
/// sign (capital spend taken with its value left at the horizon).
fn sign_change(appraisal: &[Step]) -> Option<String> {
    let at = |id: &str| appraisal.iter().position(|s| s.id == id);
    let (from, to) = (at("net_revenue_saving")?, at("npv")?);
    let (saving, npv) = (appraisal[from].amount.mean, appraisal[to].amount.mean);
    if saving == 0.0 || npv == 0.0 || (saving > 0.0) == (npv > 0.0) {
        return None;
    }
    let mut steps: Vec<(String, f64)> = Vec::new();
    for s in appraisal[from + 1..to].iter().filter(|s| !s.total) {
        if s.id == "residual_value"
            && let Some(last) = steps.last_mut()
        {
            last.0 = "capital spend less its value left at the horizon".into();
            last.1 += s.amount.mean;
        } else {
            steps.push((s.name.to_lowercase(), s.amount.mean));
        }
    }
    let (name, amount) = steps
        .into_iter()
        .filter(|(_, a)| (*a > 0.0) == (npv > 0.0))
        .max_by(|a, b| a.1.abs().total_cmp(&b.1.abs()))?;
    Some(format!(
        "The net revenue saving of {} becomes a mean net present value of {} mainly through {name} ({}).",
        money(saving),
        money(npv),
        money(amount)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(avoided: f64, npv: f64) -> Parts {
        Parts {
            prevention: 100.0,
            capital: 50.0,
            avoided,
            price_effect: 3.0,
            residual_value: 20.0,
            optimism_bias_on_spend: 45.0,
            optimism_bias_on_savings: 0.3 * avoided,
            inflation: 12.0,
            financing: 9.0,
            npv,
            npv_without_optimism_bias: npv + 80.0,
            npv_cashable: npv - 10.0,
        }
    }

    #[test]
    fn each_total_is_the_sum_of_the_steps_above_it() {
        let b = Bridge::of(&[parts(300.0, 40.0), parts(200.0, -30.0)]);
        let mean = |id: &str| b.step(id).unwrap().amount.mean;
        // Net revenue saving 300 − 100 and 200 − 100.
        assert_eq!(mean("net_revenue_saving"), (200.0 + 100.0) / 2.0);
        let after = mean("net_revenue_saving") - 50.0 + 20.0 + 3.0 - 45.0 - 0.3 * 250.0;
        assert!((mean("net_saving_after_optimism_bias") - after).abs() < 1e-9);
        assert!((mean("npv") - 5.0).abs() < 1e-9);
        assert!((mean("discounting") - (5.0 - after)).abs() < 1e-9);
        let revenue = mean("net_revenue_saving") - 9.0 + 12.0;
        assert!((mean("revenue_budget_impact") - revenue).abs() < 1e-9);
    }

    #[test]
    fn a_change_of_sign_is_explained_by_the_step_that_turns_it() {
        // Net revenue saving 300 − 100 = 200; optimism bias on savings
        // (−90) is the largest step pulling down to an NPV of −10 (capital
        // less its value left is −30).
        let b = Bridge::of(&[parts(300.0, -10.0)]);
        let why = b.sign_change.expect("saving and NPV differ in sign");
        assert!(why.contains("optimism bias on savings"), "{why}");
        assert!(Bridge::of(&[parts(300.0, 10.0)]).sign_change.is_none());
    }
}
