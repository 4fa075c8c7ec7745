//! Money as finance officers see it: the calendar (financial years), prices
//! (real and nominal), discounting, optimism bias, capital and its financing,
//! and cashable against non-cashable savings.
//!
//! This layer works on finished runs (the engine's monthly series in pounds
//! at the price base) and knows nothing of files or terminals. Its conventions
//! come from the scenario; `scenario` validates them.

pub mod appraisal;
pub mod bridge;
pub mod budget;
pub mod information;
pub mod ledger;
pub mod lines;

use std::collections::BTreeMap;

use serde::Serialize;

use crate::model::{Config, Payer};
use crate::replicates::ScenarioRuns;

/// How sure an assumption is, for optimism bias.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Grade {
    /// High confidence (grade A in the UK unit-cost notes).
    High,
    /// Medium confidence (grade B).
    Medium,
    /// Low confidence (grade C), and any figure whose confidence is not
    /// stated.
    Low,
}

impl Grade {
    /// The grade's name: `high`, `medium` or `low`.
    pub fn name(self) -> &'static str {
        match self {
            Grade::High => "high",
            Grade::Medium => "medium",
            Grade::Low => "low",
        }
    }
}

/// A discount-rate schedule: the rate that applies from each year onwards.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Schedule {
    /// The schedule described for people, as the outputs print it.
    pub name: String,
    /// `(from_year, rate)`, from year 0, in increasing years.
    pub steps: Vec<(u32, f64)>,
}

impl Schedule {
    /// HM Treasury Green Book social time preference rate (the 2022 schedule,
    /// unchanged in the 2026 edition): 3.5% for years 0–30, then declining.
    pub fn green_book() -> Schedule {
        Schedule {
            name: "Green Book STPR (3.5% to year 30, 3.0% to 75, 2.5% to 125, 2.0% to 200, 1.5% to 300, 1.0% after)".into(),
            steps: vec![
                (0, 0.035),
                (30, 0.03),
                (75, 0.025),
                (125, 0.02),
                (200, 0.015),
                (300, 0.01),
            ],
        }
    }

    /// The Green Book's schedule for health effects (quality-adjusted life
    /// years): 1.5% for years 0–30, then declining in proportion.
    pub fn green_book_health() -> Schedule {
        Schedule {
            name: "Green Book health (1.5% to year 30, 1.286% to 75, 1.071% to 125, 0.857% to 200, 0.643% to 300, 0.429% after)".into(),
            steps: vec![
                (0, 0.015),
                (30, 0.01286),
                (75, 0.01071),
                (125, 0.00857),
                (200, 0.00643),
                (300, 0.00429),
            ],
        }
    }

    /// One rate a year for every year, as a fraction (0.035 is 3.5%).
    pub fn flat(rate: f64) -> Schedule {
        Schedule {
            name: format!("flat {}% a year", rate * 100.0),
            steps: vec![(0, rate)],
        }
    }

    /// The rate between year `year` and the next.
    pub fn rate(&self, year: u32) -> f64 {
        self.steps
            .iter()
            .rev()
            .find(|(from, _)| *from <= year)
            .map_or(0.0, |(_, r)| *r)
    }

    /// Discount factor of year `t` (year 0 is undiscounted):
    /// `DF(t) = Π_{k<t} 1 / (1 + r_k)`.
    pub fn factor(&self, t: u32) -> f64 {
        (0..t).map(|k| 1.0 / (1.0 + self.rate(k))).product()
    }

    /// Factors for years `0..years`.
    pub fn factors(&self, years: u32) -> Vec<f64> {
        let mut out = Vec::with_capacity(years as usize);
        let mut df = 1.0;
        for k in 0..years {
            out.push(df);
            df /= 1.0 + self.rate(k);
        }
        out
    }
}

/// How a capital purchase is paid for out of revenue.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
#[serde(tag = "method", rename_all = "snake_case")]
pub enum Financing {
    /// A level annual payment over `years` at `rate` (a repayment loan).
    Annuity {
        /// Interest a year, as a fraction.
        rate: f64,
        /// Loan term in years.
        years: u32,
    },
    /// Minimum revenue provision, straight line over the asset's life, plus
    /// interest at `rate` on what is still outstanding.
    Mrp {
        /// Interest a year, as a fraction.
        rate: f64,
        /// The asset's life in years.
        years: u32,
    },
}

impl Financing {
    /// The loan term or asset life, in years.
    pub fn years(&self) -> u32 {
        match *self {
            Financing::Annuity { years, .. } | Financing::Mrp { years, .. } => years,
        }
    }

    /// Each year's repayment of principal (for MRP, the minimum revenue
    /// provision) and interest after a purchase of `amount`, for `years`
    /// years (year 0 is the first year's).
    pub fn annual_schedule(&self, amount: f64) -> Vec<Repayment> {
        match *self {
            Financing::Annuity { rate, years } => {
                let payment = if rate == 0.0 {
                    amount / years as f64
                } else {
                    amount * rate / (1.0 - (1.0 + rate).powi(-(years as i32)))
                };
                let mut owed = amount;
                (0..years)
                    .map(|_| {
                        let interest = rate * owed;
                        owed -= payment - interest;
                        Repayment {
                            principal: payment - interest,
                            interest,
                        }
                    })
                    .collect()
            }
            Financing::Mrp { rate, years } => {
                let mrp = amount / years as f64;
                (0..years)
                    .map(|y| Repayment {
                        principal: mrp,
                        interest: rate * (amount - mrp * y as f64),
                    })
                    .collect()
            }
        }
    }

    /// Revenue charge (principal and interest) in each year after a
    /// purchase of `amount`.
    pub fn annual_charges(&self, amount: f64) -> Vec<f64> {
        self.annual_schedule(amount)
            .iter()
            .map(|r| r.principal + r.interest)
            .collect()
    }
}

/// One year's revenue charge for a capital purchase.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Repayment {
    /// Principal repaid (for MRP, the minimum revenue provision).
    pub principal: f64,
    /// Interest on what is still owed.
    pub interest: f64,
}

/// What a scenario says about one of its interventions' money.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct InterventionMoney {
    /// The intervention's id.
    pub id: String,
    /// Weakest confidence among its revenue cost figures (none stated
    /// counts as low): sets the optimism bias on its revenue spend.
    pub cost_grade: Grade,
    /// Confidence of its capital cost per place (none stated counts as
    /// low): sets the optimism bias on its capital spend.
    pub capital_cost_grade: Grade,
    /// Weakest confidence among its effects (none stated counts as low).
    pub effect_grade: Grade,
    /// How its capital purchases are charged to revenue: places
    /// interventions only, and required when they buy anything.
    pub financing: Option<Financing>,
    /// Share of the purchase cost still held as asset value at the horizon;
    /// `None` is straight line over the financing years.
    pub residual_value_share: Option<f64>,
    /// Share of the purchase cost that is land, which keeps its value; the
    /// rest (buildings) loses it in a straight line over the financing
    /// years. `None` is no land. Never given with `residual_value_share`.
    pub land_share: Option<f64>,
}

/// A pooled budget: payers who agree to share costs and savings.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Pool {
    /// The pool's key in `[economics.pools]`.
    pub id: String,
    /// The pool's name for people.
    pub name: String,
    /// The payers in the pool, each once.
    pub payers: Vec<Payer>,
}

/// A payer's revenue budget envelope and medium-term financial strategy
/// savings target, nominal £ by financial year of the horizon (last repeats).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PayerBudget {
    /// Whose budget it is.
    pub payer: Payer,
    /// Revenue budget envelope, nominal £ by financial year; empty when not
    /// given.
    pub envelope: Vec<f64>,
    /// Savings needed against the baseline, nominal £ by financial year;
    /// empty when not given.
    pub savings_target: Vec<f64>,
}

/// The money conventions of a comparison: the same for every scenario in it.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Conventions {
    /// Financial year the scenario's prices are in, by the calendar year it
    /// starts (2023 for 2023/24).
    pub price_base: i32,
    /// First month of the horizon (calendar year, month 1–12).
    pub start: (i32, u32),
    /// Calendar month a financial year starts (4: April).
    pub financial_year_start_month: u32,
    /// Discount rates for money: the Green Book schedule unless the
    /// scenario sets a flat rate.
    pub discount: Schedule,
    /// Discount rates for quality-adjusted life years: the Green Book's
    /// health schedule unless the scenario sets a flat rate.
    pub health_discount: Schedule,
    /// General inflation (GDP deflator growth) a year: turns nominal into real.
    pub general_inflation: f64,
    /// Unit-cost inflation a year by service or intervention id; others
    /// inflate at `default_inflation`.
    pub inflation: BTreeMap<String, f64>,
    /// Unit-cost inflation a year of lines not in `inflation`: general
    /// inflation unless the scenario sets `default`.
    pub default_inflation: f64,
    /// Optimism bias by grade (high, medium, low).
    pub cost_uplift: [f64; 3],
    /// Optimism-bias haircut on savings by grade (high, medium, low), as a
    /// share (0.3 removes 30%).
    pub savings_haircut: [f64; 3],
    /// Share of a service's avoided cost that is cashable, by service id.
    pub cashable: BTreeMap<String, f64>,
    /// Cashable share of services not in `cashable`: 0 unless the scenario
    /// sets `default`.
    pub default_cashable: f64,
    /// Payers who share costs and savings, reported together.
    pub pools: Vec<Pool>,
    /// Budget envelopes and savings targets, for the payers that have them.
    pub budgets: Vec<PayerBudget>,
}

impl Default for Conventions {
    fn default() -> Self {
        Conventions {
            price_base: 2023,
            start: (2026, 4),
            financial_year_start_month: 4,
            discount: Schedule::green_book(),
            health_discount: Schedule::green_book_health(),
            general_inflation: 0.0,
            inflation: BTreeMap::new(),
            default_inflation: 0.0,
            cost_uplift: [0.0; 3],
            savings_haircut: [0.0; 3],
            cashable: BTreeMap::new(),
            default_cashable: 0.0,
            pools: Vec::new(),
            budgets: Vec::new(),
        }
    }
}

/// Label of the financial year starting in calendar year `y`.
pub fn fy_label(y: i32, start_month: u32) -> String {
    if start_month == 1 {
        format!("{y}")
    } else {
        format!("{y}/{:02}", (y + 1).rem_euclid(100))
    }
}

impl Conventions {
    /// Calendar (year, month) of horizon month `m` (1-based).
    pub fn calendar(&self, m: u32) -> (i32, u32) {
        let zero = self.start.0 as i64 * 12 + self.start.1 as i64 - 1 + (m as i64 - 1);
        (
            (zero.div_euclid(12)) as i32,
            (zero.rem_euclid(12) + 1) as u32,
        )
    }

    /// Financial year (by its starting calendar year) of horizon month `m`.
    pub fn financial_year(&self, m: u32) -> i32 {
        let (y, month) = self.calendar(m);
        if month >= self.financial_year_start_month {
            y
        } else {
            y - 1
        }
    }

    /// Label of financial year `fy` (by its starting calendar year), such
    /// as `2026/27`.
    pub fn fy_label(&self, fy: i32) -> String {
        fy_label(fy, self.financial_year_start_month)
    }

    /// Label of the price base's financial year, such as `2023/24`.
    pub fn price_base_label(&self) -> String {
        self.fy_label(self.price_base)
    }

    /// Whole financial years from the price base to month `m`'s.
    pub fn years_from_price_base(&self, m: u32) -> i32 {
        self.financial_year(m) - self.price_base
    }

    /// Unit-cost inflation a year of line `id` (a service, `handoff` or an
    /// intervention).
    pub fn inflation_of(&self, id: &str) -> f64 {
        self.inflation
            .get(id)
            .copied()
            .unwrap_or(self.default_inflation)
    }

    /// Cashable share of the avoided cost of service `id` (or `handoff`).
    pub fn cashable_of(&self, id: &str) -> f64 {
        self.cashable
            .get(id)
            .copied()
            .unwrap_or(self.default_cashable)
    }

    /// Turns a price-base amount in month `m` into nominal £ of that month's
    /// financial year, for a line inflating at `inflation` a year.
    pub fn nominal(&self, amount: f64, inflation: f64, m: u32) -> f64 {
        amount * (1.0 + inflation).powi(self.years_from_price_base(m))
    }

    /// Deflates a nominal amount in month `m` to the price base with the GDP
    /// deflator (general inflation).
    pub fn real(&self, nominal: f64, m: u32) -> f64 {
        nominal / self.deflator(self.financial_year(m))
    }

    /// GDP deflator of financial year `fy` against the price base.
    pub fn deflator(&self, fy: i32) -> f64 {
        (1.0 + self.general_inflation).powi(fy - self.price_base)
    }

    /// Optimism-bias uplift on extra cost whose figures are of grade `g`,
    /// as a share (0.2 adds 20%).
    pub fn uplift(&self, g: Grade) -> f64 {
        self.cost_uplift[g as usize]
    }

    /// Optimism-bias haircut on savings from effects of grade `g`, as a
    /// share (0.3 removes 30%).
    pub fn haircut(&self, g: Grade) -> f64 {
        self.savings_haircut[g as usize]
    }
}

/// The economics of a whole comparison.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Economics {
    /// The money conventions every scenario shares.
    pub conventions: Conventions,
    /// Scenarios 1.. against scenario 0.
    pub appraisals: Vec<appraisal::Appraisal>,
    /// Every scenario (the baseline against itself first); written to
    /// `budget.csv` rather than the JSON.
    #[serde(skip)]
    pub budget: Vec<budget::BudgetRow>,
    /// What knowing the uncertain parameters would be worth to the
    /// decision, when the run draws them.
    pub value_of_information: Option<information::ValueOfInformation>,
}

/// Appraises every scenario against the first and lays out their budgets.
pub fn evaluate(
    conventions: &Conventions,
    configs: &[&Config],
    money: &[&[InterventionMoney]],
    runs: &[ScenarioRuns],
) -> Economics {
    let budgets: Vec<budget::Budget> = (0..runs.len())
        .map(|s| budget::budget(conventions, configs, money, runs, s))
        .collect();
    let mut appraisals: Vec<appraisal::Appraisal> = (1..runs.len())
        .map(|s| {
            let mut a = appraisal::appraise(conventions, configs, money, runs, s);
            a.capital_schedule = budget::capital_rows(conventions, configs, money, runs, s);
            a
        })
        .collect();
    appraisal::price_outcomes(&mut appraisals);
    let mut rows = Vec::new();
    for (s, b) in budgets.into_iter().enumerate() {
        if s > 0 {
            appraisals[s - 1].bridge.revenue_budget_impact_by_year = b.revenue_impact_by_year;
        }
        rows.extend(b.rows);
    }
    Economics {
        conventions: conventions.clone(),
        appraisals,
        budget: rows,
        value_of_information: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn green_book_discount_factors_match_the_published_values() {
        let s = Schedule::green_book();
        assert_eq!(s.factor(0), 1.0);
        assert!((s.factor(30) - 0.3562784).abs() < 5e-8);
        assert!((s.factor(31) - 0.3459014).abs() < 5e-8);
        assert!((s.factor(60) - 0.1467820).abs() < 5e-8);
        let f = s.factors(61);
        for t in [0, 1, 10, 30, 31, 60] {
            assert!((f[t as usize] - s.factor(t)).abs() < 1e-15);
        }
        // Annuities: the sum of factors of a £1 stream paid at the end of
        // each year, against their closed forms.
        let annuity = |n: u32| (1..=n).map(|t| s.factor(t)).sum::<f64>();
        assert!((annuity(30) - (1.0 - 1.035f64.powi(-30)) / 0.035).abs() < 1e-9);
        assert!((annuity(30) - 18.3920454).abs() < 1e-7);
        assert!((annuity(10) - 8.3166053).abs() < 1e-7);
    }

    #[test]
    fn a_zero_rate_does_not_discount() {
        let s = Schedule::flat(0.0);
        assert!(s.factors(40).iter().all(|&f| f == 1.0));
    }

    #[test]
    fn financial_years_run_april_to_march() {
        let c = Conventions {
            start: (2026, 1),
            ..Conventions::default()
        };
        assert_eq!(c.calendar(1), (2026, 1));
        assert_eq!(c.calendar(12), (2026, 12));
        assert_eq!(c.calendar(13), (2027, 1));
        assert_eq!(c.financial_year(3), 2025); // March 2026
        assert_eq!(c.financial_year(4), 2026); // April 2026
        assert_eq!(c.fy_label(2026), "2026/27");
        assert_eq!(c.fy_label(2099), "2099/00");
        assert_eq!(fy_label(2026, 1), "2026");
    }

    #[test]
    fn nominal_and_real_round_trip() {
        let c = Conventions {
            price_base: 2023,
            start: (2026, 4),
            general_inflation: 0.02,
            ..Conventions::default()
        };
        // Month 13 is in 2027/28: four years after the 2023/24 price base.
        assert_eq!(c.years_from_price_base(13), 4);
        let nominal = c.nominal(1000.0, 0.02, 13);
        assert!((nominal - 1000.0 * 1.02f64.powi(4)).abs() < 1e-9);
        assert!((c.real(nominal, 13) - 1000.0).abs() < 1e-9);
        // A line inflating faster than the deflator costs more in real terms.
        assert!(c.real(c.nominal(1000.0, 0.05, 13), 13) > 1000.0);
        // The Green Book's worked example: £1,000 nominal, 2% deflator.
        let gb = Conventions {
            price_base: 2026,
            start: (2027, 4),
            general_inflation: 0.02,
            ..Conventions::default()
        };
        assert_eq!((gb.real(1000.0, 1)).round(), 980.0);
        assert_eq!((gb.real(1000.0, 49)).round(), 906.0);
    }

    #[test]
    fn financing_charges_repay_the_purchase() {
        let a = Financing::Annuity {
            rate: 0.05,
            years: 20,
        };
        let charges = a.annual_charges(1000.0);
        assert_eq!(charges.len(), 20);
        // The present value of the payments at the loan rate is the loan.
        let pv: f64 = charges
            .iter()
            .enumerate()
            .map(|(t, c)| c / 1.05f64.powi(t as i32 + 1))
            .sum();
        assert!((pv - 1000.0).abs() < 1e-9);
        let m = Financing::Mrp {
            rate: 0.05,
            years: 4,
        };
        // MRP 250 a year, interest on 1000, 750, 500, 250.
        assert_eq!(m.annual_charges(1000.0), vec![300.0, 287.5, 275.0, 262.5]);
        // Either way the principal repaid is the purchase, and the annuity's
        // interest is charged on what is still owed.
        for f in [a, m] {
            let s = f.annual_schedule(1000.0);
            let repaid: f64 = s.iter().map(|r| r.principal).sum();
            assert!((repaid - 1000.0).abs() < 1e-9);
        }
        let s = a.annual_schedule(1000.0);
        assert!((s[0].interest - 50.0).abs() < 1e-9);
        assert!((s[1].interest - 0.05 * (1000.0 - s[0].principal)).abs() < 1e-9);
    }
}
