//! The ledger a finance model is built on: each scenario's simulated
//! activity by replicate and period (contacts, place-months in house and on
//! the spot market, and the pounds that have no price of their own), the
//! rules that turn activity into money at the price base, and what each
//! comparison carries as simulated (capital's value left, and the financing
//! charges of each period's purchases).
//!
//! Every money figure of an appraisal follows from these and the
//! conventions, period by period: a period's months share a financial year
//! (so prices) and an appraisal year (so a discount factor). The workbook's
//! formulas take the ledger as data and the conventions as inputs.

use std::ops::Range;

use super::budget::financing_schedule;
use super::lines::{Line, LineKind, lines, money_of, value_left};
use super::{Conventions, InterventionMoney, Repayment};
use crate::metrics::{Metric, ServiceMeasure};
use crate::model::{Config, NeedLevel, Payer};
use crate::replicates::ScenarioRuns;

/// Months of the horizon alike in financial year and appraisal year.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Period {
    /// The financial year, by the calendar year it starts.
    pub financial_year: i32,
    /// The appraisal year, from 0 (the horizon's first twelve months).
    pub year: u32,
    /// Its months, 0-based.
    pub months: Range<usize>,
}

/// The horizon's periods, in order: one a year when the horizon starts with
/// a financial year, else two (each year's months before and after the
/// financial year turns).
pub fn periods(conv: &Conventions, months: usize) -> Vec<Period> {
    let mut out: Vec<Period> = Vec::new();
    for m in 0..months {
        let financial_year = conv.financial_year(m as u32 + 1);
        let year = (m / 12) as u32;
        match out.last_mut() {
            Some(p) if p.financial_year == financial_year && p.year == year => p.months.end = m + 1,
            _ => out.push(Period {
                financial_year,
                year,
                months: m..m + 1,
            }),
        }
    }
    out
}

/// Rows a sheet of the ledger needs, a header and one a scenario, replicate
/// and period: checked against a spreadsheet's limit before a run.
pub fn sheet_rows(scenarios: usize, replicates: usize, periods: usize) -> usize {
    scenarios
        .saturating_mul(replicates)
        .saturating_mul(periods)
        .saturating_add(1)
}

/// How a line's money at the price base follows from activity columns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Costing {
    /// Contacts with event service `service` (the column) times its unit
    /// cost.
    Contacts {
        /// The service's id.
        service: String,
        /// The contacts' column.
        contacts: usize,
    },
    /// An episode service's paid places: in-house place-months (not the
    /// homes interventions own) times its monthly cost, and spot
    /// place-months times its spot cost.
    Places {
        /// The service's id.
        service: String,
        /// The in-house place-months' column.
        in_house: usize,
        /// The spot place-months' column.
        spot: usize,
    },
    /// The part of every paid place-month that the service's payer
    /// recovers from another payer.
    Recovered {
        /// The service's id.
        service: String,
        /// The in-house place-months' column.
        in_house: usize,
        /// The spot place-months' column.
        spot: usize,
    },
    /// Pounds as simulated, at the price base: handoff, an intervention's
    /// spend, capital or rent.
    Pounds {
        /// The column.
        column: usize,
    },
}

/// One line of the ledger: a line of money and how it is costed.
#[derive(Clone, Debug)]
pub struct LedgerLine {
    /// The line.
    pub line: Line,
    /// How its money follows from activity.
    pub costing: Costing,
}

/// A column of activity.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Column {
    /// Its heading, such as "A&E attendance: contacts".
    pub name: String,
}

/// What one comparison carries as simulated, per replicate and period.
#[derive(Clone, Debug, Default)]
pub struct Carried {
    /// Capital's value left at the horizon, by capital line (in
    /// `capital_lines` order): the period's purchases, scenario less
    /// baseline, at the price base, each times the share of it left.
    pub value_left: Vec<Vec<Vec<f64>>>,
    /// Financing charges (MRP and interest) in each period of each
    /// period's purchases at the price base, scenario less baseline:
    /// `[replicate][period][capital line][purchase period]`. Times each
    /// purchase period's cash index, summed, they are the period's cash
    /// charges.
    pub financing: Vec<Vec<Vec<Vec<f64>>>>,
    /// Crisis-months avoided, by replicate.
    pub crisis_months_avoided: Vec<f64>,
    /// Quality-adjusted life years gained, discounted, by replicate.
    pub qalys_gained: Vec<f64>,
}

/// The simulated activity of a comparison.
#[derive(Clone, Debug)]
pub struct Ledger {
    /// The horizon's periods.
    pub periods: Vec<Period>,
    /// Every line of every scenario, each once, the baseline's first.
    pub lines: Vec<LedgerLine>,
    /// The activity columns.
    pub columns: Vec<Column>,
    /// `[scenario][replicate][period][column]`.
    pub activity: Vec<Vec<Vec<Vec<f64>>>>,
    /// Indices in `lines` of the capital lines.
    pub capital_lines: Vec<usize>,
    /// Scenarios 1.. against scenario 0 (index 0 is empty).
    pub carried: Vec<Carried>,
    /// Each scenario's own financing charges (MRP and interest), on its own
    /// terms, of its purchases at the price base:
    /// `[scenario][replicate][period charged][capital line][purchase
    /// period]`, laid out as [`Carried::financing`]. The budget's financing
    /// lines are these in cash; the capital schedule splits them into
    /// principal and interest.
    pub own_financing: Vec<Vec<Vec<Vec<Vec<Repayment>>>>>,
}

impl Ledger {
    /// A line's money at the price base in one scenario, replicate and
    /// period, with `unit` giving a service's unit costs in pounds:
    /// `(per contact or in-house place-month, spot place-month, recovered
    /// place-month)`.
    pub fn price_base(
        &self,
        k: usize,
        activity: &[f64],
        unit: &dyn Fn(&str) -> (f64, f64, f64),
    ) -> f64 {
        match &self.lines[k].costing {
            Costing::Contacts { service, contacts } => activity[*contacts] * unit(service).0,
            Costing::Places {
                service,
                in_house,
                spot,
            } => {
                let (a, s, _) = unit(service);
                activity[*in_house] * a + activity[*spot] * s
            }
            Costing::Recovered {
                service,
                in_house,
                spot,
            } => (activity[*in_house] + activity[*spot]) * unit(service).2,
            Costing::Pounds { column } => activity[*column],
        }
    }
}

/// A service's unit costs in pounds in `config`, as the engine charges them:
/// per contact or in-house place-month, per spot place-month, and recovered
/// per place-month.
pub fn unit_costs(config: &Config, service: &str) -> (f64, f64, f64) {
    if let Some(e) = config.events.iter().find(|e| e.id == service) {
        return (e.unit_cost_pence as f64 / 100.0, 0.0, 0.0);
    }
    config
        .episodes
        .iter()
        .find(|e| e.id == service)
        .map_or((0.0, 0.0, 0.0), |e| {
            (
                e.monthly_cost_pence as f64 / 100.0,
                e.spot_monthly_cost_pence as f64 / 100.0,
                e.recovered.map_or(0.0, |(_, p)| p as f64 / 100.0),
            )
        })
}

/// What each activity column counts, before it is read from a run.
enum Source {
    Contacts(String),
    InHouse(String),
    Spot(String),
    Pounds(Metric),
}

/// Lays out the lines and columns of every scenario.
fn layout(configs: &[&Config], priced: bool) -> (Vec<LedgerLine>, Vec<Column>, Vec<Source>) {
    let mut all: Vec<Line> = Vec::new();
    for c in configs {
        for l in lines(configs[0], c) {
            if !all
                .iter()
                .any(|x| x.kind == l.kind && x.id == l.id && x.name == l.name && x.sign == l.sign)
            {
                all.push(l);
            }
        }
    }
    let mut columns = Vec::new();
    let mut sources = Vec::new();
    let mut column = |name: String, source: Source, sources: &mut Vec<Source>| {
        columns.push(Column { name });
        sources.push(source);
        sources.len() - 1
    };
    let mut out = Vec::new();
    for line in all {
        let episode_of = |id: &str| configs.iter().flat_map(|c| &c.episodes).any(|e| e.id == id);
        let costing = match &line.metric {
            Metric::Service(id, ServiceMeasure::Cost) if priced && !episode_of(id) => {
                let contacts = column(
                    format!("{}: contacts", line.name),
                    Source::Contacts(id.clone()),
                    &mut sources,
                );
                Costing::Contacts {
                    service: id.clone(),
                    contacts,
                }
            }
            Metric::Service(id, measure @ (ServiceMeasure::Cost | ServiceMeasure::Recovered))
                if priced =>
            {
                let existing = out.iter().find_map(|l: &LedgerLine| match &l.costing {
                    Costing::Places {
                        service,
                        in_house,
                        spot,
                    } if service == id => Some((*in_house, *spot)),
                    _ => None,
                });
                let (in_house, spot) = existing.unwrap_or_else(|| {
                    let name = configs
                        .iter()
                        .flat_map(|c| &c.episodes)
                        .find(|e| e.id == *id)
                        .map_or(id.clone(), |e| e.name.clone());
                    (
                        column(
                            format!("{name}: place-months in house"),
                            Source::InHouse(id.clone()),
                            &mut sources,
                        ),
                        column(
                            format!("{name}: place-months on the spot market"),
                            Source::Spot(id.clone()),
                            &mut sources,
                        ),
                    )
                });
                let service = id.clone();
                if *measure == ServiceMeasure::Cost {
                    Costing::Places {
                        service,
                        in_house,
                        spot,
                    }
                } else {
                    Costing::Recovered {
                        service,
                        in_house,
                        spot,
                    }
                }
            }
            metric => {
                let existing = out.iter().find_map(|l: &LedgerLine| match l.costing {
                    Costing::Pounds { column } if l.line.metric == *metric => Some(column),
                    _ => None,
                });
                let column = existing.unwrap_or_else(|| {
                    column(
                        format!("{} (£ at the price base)", line.name),
                        Source::Pounds(metric.clone()),
                        &mut sources,
                    )
                });
                Costing::Pounds { column }
            }
        };
        out.push(LedgerLine { line, costing });
    }
    (out, columns, sources)
}

/// One scenario's activity in one replicate, by period and column.
fn activity(
    runs: &ScenarioRuns,
    config: &Config,
    r: usize,
    periods: &[Period],
    sources: &[Source],
) -> Vec<Vec<f64>> {
    let months = periods.last().map_or(0, |p| p.months.end);
    let monthly: Vec<Vec<f64>> = sources
        .iter()
        .map(|source| match source {
            Source::Contacts(id) => runs.monthly(&Metric::service(id, ServiceMeasure::Events), r),
            Source::Spot(id) => runs.monthly(&Metric::service(id, ServiceMeasure::SpotPlaces), r),
            Source::InHouse(id) => {
                // The paid in-house places are what the month's cost holds
                // beside its spot places: exact, since both are whole pence.
                let cost = runs.monthly(&Metric::service(id, ServiceMeasure::Cost), r);
                let spot = runs.monthly(&Metric::service(id, ServiceMeasure::SpotPlaces), r);
                let (monthly, spot_monthly, _) = unit_costs(config, id);
                (0..months)
                    .map(|m| {
                        if monthly == 0.0 {
                            0.0
                        } else {
                            ((cost[m] - spot[m] * spot_monthly) / monthly).round()
                        }
                    })
                    .collect()
            }
            Source::Pounds(metric) => runs.monthly(metric, r),
        })
        .collect();
    periods
        .iter()
        .map(|p| {
            monthly
                .iter()
                .map(|v| v[p.months.clone()].iter().sum())
                .collect()
        })
        .collect()
}

/// The financing charges (principal, or MRP, and interest) that fall in
/// each period of the purchases made in each period, from monthly purchases
/// `capital` on the terms of `m`: `[period charged][purchase period]`.
/// Charges are linear in what is bought, so each purchase period's
/// charges, times that period's cash index, are the cash charges of
/// purchases made at its prices.
pub fn financing_by_period(
    capital: &[f64],
    m: &InterventionMoney,
    periods: &[Period],
) -> Vec<Vec<Repayment>> {
    let mut out = vec![vec![Repayment::default(); periods.len()]; periods.len()];
    for (p, bought) in periods.iter().enumerate() {
        let only: Vec<f64> = (0..capital.len())
            .map(|k| {
                if bought.months.contains(&k) {
                    capital[k]
                } else {
                    0.0
                }
            })
            .collect();
        let schedule = financing_schedule(&only, m);
        for (q, into) in periods.iter().enumerate() {
            for k in into.months.clone() {
                out[q][p].principal += schedule[k].principal;
                out[q][p].interest += schedule[k].interest;
            }
        }
    }
    out
}

/// A repayment's charge to revenue: principal and interest.
pub fn charge(r: &Repayment) -> f64 {
    r.principal + r.interest
}

/// What comparison `s` carries as simulated.
fn carried(
    conv: &Conventions,
    money: &[&[InterventionMoney]],
    runs: &[ScenarioRuns],
    s: usize,
    periods: &[Period],
    capital: &[&Line],
) -> Carried {
    let reps = runs[s].series.len().min(runs[0].series.len());
    let months = periods.last().map_or(0, |p| p.months.end);
    let health = conv
        .health_discount
        .factors((months.div_ceil(12) as u32).max(1));
    let mut out = Carried::default();
    for r in 0..reps {
        let mut left = vec![vec![0.0; capital.len()]; periods.len()];
        let mut charges = vec![vec![vec![0.0; periods.len()]; capital.len()]; periods.len()];
        for (j, line) in capital.iter().enumerate() {
            let (b, sv) = (line.monthly(&runs[0], r), line.monthly(&runs[s], r));
            let Some(m) = money_of(&line.id, money[s], money[0]) else {
                continue;
            };
            let asset_years = m.financing.map_or(f64::INFINITY, |f| f.years() as f64);
            let land = m.land_share.unwrap_or(0.0);
            for (p, period) in periods.iter().enumerate() {
                // Each period's purchases valued alone, in place in the
                // horizon, so each keeps its own age at the horizon.
                let only = |v: &[f64]| -> Vec<f64> {
                    (0..months)
                        .map(|k| {
                            if period.months.contains(&k) {
                                v[k]
                            } else {
                                0.0
                            }
                        })
                        .collect()
                };
                let d: Vec<f64> = (0..months).map(|k| sv[k] - b[k]).collect();
                left[p][j] = value_left(&only(&d), m.residual_value_share, land, asset_years);
            }
            let (cs, cb) = (
                financing_by_period(&sv, m, periods),
                financing_by_period(&b, m, periods),
            );
            for (q, row) in charges.iter_mut().enumerate() {
                for (p, into) in row[j].iter_mut().enumerate() {
                    *into = charge(&cs[q][p]) - charge(&cb[q][p]);
                }
            }
        }
        out.value_left.push(left);
        out.financing.push(charges);
        let crisis = Metric::Need(NeedLevel::Crisis);
        let (cb, cs) = (runs[0].monthly(&crisis, r), runs[s].monthly(&crisis, r));
        out.crisis_months_avoided
            .push(cb.iter().zip(&cs).map(|(b, s)| b - s).sum());
        let (qb, qs) = (
            runs[0].monthly(&Metric::Qalys, r),
            runs[s].monthly(&Metric::Qalys, r),
        );
        out.qalys_gained
            .push((0..months).map(|m| (qs[m] - qb[m]) * health[m / 12]).sum());
    }
    out
}

/// The ledger of a comparison: scenario 0 is the baseline. `priced`: the
/// services' activity is counted (contacts, place-months) to be costed at
/// `configs`' unit costs; else every line is the pounds simulated, as when
/// each replicate drew its own unit costs.
pub fn ledger(
    conv: &Conventions,
    configs: &[&Config],
    money: &[&[InterventionMoney]],
    runs: &[ScenarioRuns],
    priced: bool,
) -> Ledger {
    let months = runs
        .first()
        .and_then(|r| r.series.first())
        .map_or(0, |x| x.months);
    let periods = periods(conv, months);
    let (lines, columns, sources) = layout(configs, priced);
    let activity = runs
        .iter()
        .zip(configs)
        .map(|(run, config)| {
            (0..run.series.len())
                .map(|r| activity(run, config, r, &periods, &sources))
                .collect()
        })
        .collect();
    let capital_lines: Vec<usize> = (0..lines.len())
        .filter(|&k| lines[k].line.kind == LineKind::Capital)
        .collect();
    let capital: Vec<&Line> = capital_lines.iter().map(|&k| &lines[k].line).collect();
    let carried = (0..runs.len())
        .map(|s| {
            if s == 0 {
                Carried::default()
            } else {
                carried(conv, money, runs, s, &periods, &capital)
            }
        })
        .collect();
    let own_financing = runs
        .iter()
        .enumerate()
        .map(|(s, run)| {
            (0..run.series.len())
                .map(|r| {
                    let by_line: Vec<Vec<Vec<Repayment>>> = capital
                        .iter()
                        .map(|line| match money_of(&line.id, money[s], money[0]) {
                            Some(m) => financing_by_period(&line.monthly(run, r), m, &periods),
                            None => vec![vec![Repayment::default(); periods.len()]; periods.len()],
                        })
                        .collect();
                    (0..periods.len())
                        .map(|q| by_line.iter().map(|f| f[q].clone()).collect())
                        .collect()
                })
                .collect()
        })
        .collect();
    Ledger {
        periods,
        lines,
        columns,
        activity,
        capital_lines,
        carried,
        own_financing,
    }
}

/// The columns of one comparison's workings in one replicate and period,
/// in the order the workbook's Workings sheet has them. Money is in pounds:
/// "price base" as simulated, "real" at the price base after relative price
/// effects, "cash" at each financial year's prices.
pub const PERIOD_COLUMNS: [&str; 12] = [
    "Discount factor",
    "Reactive cost avoided (£ price base)",
    "Reactive cost avoided (£ real)",
    "Cashable cost avoided (£ real)",
    "Reactive cost avoided (£ cash)",
    "Extra prevention spend (£ price base)",
    "Extra prevention spend (£ cash)",
    "Extra capital spend (£ price base)",
    "Extra spend, prevention and capital (£ real)",
    "Optimism bias on spend (£ real)",
    "Capital's value left at the horizon (£ real)",
    "Financing of capital, MRP and interest (£ cash)",
];

/// Indices into [`PERIOD_COLUMNS`].
pub mod at {
    #![allow(missing_docs)]
    pub const FACTOR: usize = 0;
    pub const AVOIDED: usize = 1;
    pub const AVOIDED_REAL: usize = 2;
    pub const CASHABLE_REAL: usize = 3;
    pub const AVOIDED_CASH: usize = 4;
    pub const PREVENTION: usize = 5;
    pub const PREVENTION_CASH: usize = 6;
    pub const CAPITAL: usize = 7;
    pub const SPEND_REAL: usize = 8;
    pub const OB_SPEND: usize = 9;
    pub const VALUE_LEFT: usize = 10;
    pub const FINANCING: usize = 11;
}

/// The prices a comparison's money is valued at, from the conventions.
#[derive(Clone, Debug)]
pub struct Prices {
    /// Discount factor by appraisal year.
    pub factors: Vec<f64>,
    /// Relative price index (real £ per price-base £) by line and period.
    pub real: Vec<Vec<f64>>,
    /// Cash index (cash £ per price-base £) by line and period.
    pub cash: Vec<Vec<f64>>,
    /// Cashable share by line (reactive lines; 0 for others).
    pub cashable: Vec<f64>,
}

/// What a comparison allows for: each line's optimism-bias uplift on
/// spend, and the haircut on savings.
#[derive(Clone, Debug)]
pub struct Allowance {
    /// Uplift by line (0 where none).
    pub uplift: Vec<f64>,
    /// The grade each uplift is read from, by line.
    pub uplift_grade: Vec<Option<super::Grade>>,
    /// The haircut on savings.
    pub haircut: f64,
    /// The grade it is read from (the weakest effect grade changed).
    pub haircut_grade: Option<super::Grade>,
}

impl Ledger {
    /// The prices of the comparison under `conv`.
    pub fn prices(&self, conv: &Conventions) -> Prices {
        let years = self.periods.last().map_or(1, |p| p.year + 1);
        let n = |p: &Period| p.financial_year - conv.price_base;
        let by_period = |f: &dyn Fn(f64, &Period) -> f64| -> Vec<Vec<f64>> {
            self.lines
                .iter()
                .map(|l| {
                    let i = conv.inflation_of(&l.line.id);
                    self.periods.iter().map(|p| f(i, p)).collect()
                })
                .collect()
        };
        Prices {
            factors: conv.discount.factors(years),
            real: by_period(&|i, p| {
                (1.0 + i).powi(n(p)) / (1.0 + conv.general_inflation).powi(n(p))
            }),
            cash: by_period(&|i, p| (1.0 + i).powi(n(p))),
            cashable: self
                .lines
                .iter()
                .map(|l| {
                    if l.line.kind == LineKind::Reactive {
                        conv.cashable_of(&l.line.id)
                    } else {
                        0.0
                    }
                })
                .collect(),
        }
    }

    /// The allowances of comparison `s` (scenario `s` against scenario 0).
    pub fn allowance(
        &self,
        conv: &Conventions,
        configs: &[&Config],
        money: &[&[InterventionMoney]],
        s: usize,
    ) -> Allowance {
        let changed = super::appraisal::changed_interventions(configs[0], configs[s]);
        let mut uplift = vec![0.0; self.lines.len()];
        let mut uplift_grade = vec![None; self.lines.len()];
        let mut weakest: Option<super::Grade> = None;
        for id in &changed {
            let Some(m) = money_of(id, money[s], money[0]) else {
                continue;
            };
            weakest = Some(weakest.map_or(m.effect_grade, |w| w.max(m.effect_grade)));
            for (k, l) in self.lines.iter().enumerate() {
                if l.line.kind == LineKind::Reactive || l.line.id != *id {
                    continue;
                }
                let g = if l.line.kind == LineKind::Capital {
                    m.capital_cost_grade
                } else {
                    m.cost_grade
                };
                uplift[k] = conv.uplift(g);
                uplift_grade[k] = Some(g);
            }
        }
        Allowance {
            uplift,
            uplift_grade,
            haircut: weakest.map_or(0.0, |g| conv.haircut(g)),
            haircut_grade: weakest,
        }
    }

    /// Each line's money at the price base in scenario `s`, replicate `r`,
    /// period `p`, at `configs[s]`'s unit costs.
    pub fn costs(&self, configs: &[&Config], s: usize, r: usize, p: usize) -> Vec<f64> {
        let unit = |id: &str| unit_costs(configs[s], id);
        (0..self.lines.len())
            .map(|k| self.price_base(k, &self.activity[s][r][p], &unit))
            .collect()
    }

    /// Comparison `s`'s workings in replicate `r`, period by period, in
    /// the order of [`PERIOD_COLUMNS`].
    pub fn period_workings(
        &self,
        configs: &[&Config],
        prices: &Prices,
        allowance: &Allowance,
        s: usize,
        r: usize,
    ) -> Vec<[f64; PERIOD_COLUMNS.len()]> {
        let carried = &self.carried[s];
        (0..self.periods.len())
            .map(|p| {
                let (b, sc) = (self.costs(configs, 0, r, p), self.costs(configs, s, r, p));
                let mut w = [0.0; PERIOD_COLUMNS.len()];
                w[at::FACTOR] = prices.factors[self.periods[p].year as usize];
                for (k, l) in self.lines.iter().enumerate() {
                    let (real, cash) = (prices.real[k][p], prices.cash[k][p]);
                    match l.line.kind {
                        LineKind::Reactive => {
                            let d = l.line.sign * (b[k] - sc[k]);
                            w[at::AVOIDED] += d;
                            w[at::AVOIDED_REAL] += d * real;
                            w[at::CASHABLE_REAL] += d * real * prices.cashable[k];
                            w[at::AVOIDED_CASH] += d * cash;
                        }
                        LineKind::Prevention | LineKind::Capital => {
                            let d = sc[k] - b[k];
                            if l.line.kind == LineKind::Prevention {
                                w[at::PREVENTION] += d;
                                w[at::PREVENTION_CASH] += d * cash;
                            } else {
                                w[at::CAPITAL] += d;
                            }
                            w[at::SPEND_REAL] += d * real;
                            w[at::OB_SPEND] += allowance.uplift[k] * (d * real).abs();
                        }
                    }
                }
                for (j, &k) in self.capital_lines.iter().enumerate() {
                    w[at::VALUE_LEFT] += carried.value_left[r][p][j] * prices.real[k][p];
                    w[at::FINANCING] += carried.financing[r][p][j]
                        .iter()
                        .zip(&prices.cash[k])
                        .map(|(f, c)| f * c)
                        .sum::<f64>();
                }
                w
            })
            .collect()
    }
}

/// Each payer's money in one period of a comparison, real: what it spends
/// beyond the baseline after optimism bias (prevention and capital), and
/// the reactive cost it avoids before the haircut on savings.
pub type PayerPeriod = [[f64; 2]; Payer::ALL.len()];

/// Indices into a [`PayerPeriod`] payer's pair.
pub mod payer_at {
    #![allow(missing_docs)]
    pub const SPEND: usize = 0;
    pub const AVOIDED: usize = 1;
}

impl Ledger {
    /// Comparison `s`'s money by payer in replicate `r`, period by period:
    /// the flows "who pays and who saves" discounts.
    pub fn payer_workings(
        &self,
        configs: &[&Config],
        prices: &Prices,
        allowance: &Allowance,
        s: usize,
        r: usize,
    ) -> Vec<PayerPeriod> {
        (0..self.periods.len())
            .map(|p| {
                let (b, sc) = (self.costs(configs, 0, r, p), self.costs(configs, s, r, p));
                let mut w = [[0.0; 2]; Payer::ALL.len()];
                for (k, l) in self.lines.iter().enumerate() {
                    let payer = &mut w[l.line.payer as usize];
                    let real = prices.real[k][p];
                    match l.line.kind {
                        LineKind::Reactive => {
                            payer[payer_at::AVOIDED] += l.line.sign * (b[k] - sc[k]) * real;
                        }
                        LineKind::Prevention | LineKind::Capital => {
                            let d = (sc[k] - b[k]) * real;
                            payer[payer_at::SPEND] += d + allowance.uplift[k] * d.abs();
                        }
                    }
                }
                w
            })
            .collect()
    }

    /// Each capital line's value left at the horizon in comparison `s`,
    /// replicate `r`, real (in `capital_lines` order).
    pub fn scheme_value_left(&self, prices: &Prices, s: usize, r: usize) -> Vec<f64> {
        let carried = &self.carried[s];
        self.capital_lines
            .iter()
            .enumerate()
            .map(|(j, &k)| {
                (0..self.periods.len())
                    .map(|p| carried.value_left[r][p][j] * prices.real[k][p])
                    .sum()
            })
            .collect()
    }

    /// Each payer's present values in one replicate of comparison `s`:
    /// `[spend, cost avoided, net]`, spend net of its capital's value left
    /// at the horizon, cost avoided after the haircut (`kept`, the share
    /// kept). The payers' nets add up to the net present value.
    pub fn payer_figures(
        &self,
        w: &[[f64; PERIOD_COLUMNS.len()]],
        payers: &[PayerPeriod],
        scheme_value_left: &[f64],
        kept: f64,
    ) -> [[f64; 3]; Payer::ALL.len()] {
        let horizon = w.last().map_or(1.0, |x| x[at::FACTOR]);
        let mut out = [[0.0; 3]; Payer::ALL.len()];
        for (p, figures) in out.iter_mut().enumerate() {
            let disc = |i: usize| {
                w.iter()
                    .zip(payers)
                    .map(|(x, y)| x[at::FACTOR] * y[p][i])
                    .sum::<f64>()
            };
            let left: f64 = self
                .capital_lines
                .iter()
                .zip(scheme_value_left)
                .filter(|(k, _)| self.lines[**k].line.payer as usize == p)
                .map(|(_, v)| v)
                .sum();
            let spend = disc(payer_at::SPEND) - left * horizon;
            let avoided = kept * disc(payer_at::AVOIDED);
            *figures = [spend, avoided, avoided - spend];
        }
        out
    }
}

/// One replicate's figures of a comparison, from its period workings, in
/// the order the workbook's Replicates sheet has them; the ids are the
/// money bridge's where it has them, and so are the signs: + saves money,
/// − costs it (extra spend and optimism bias are below zero).
pub const REPLICATE_COLUMNS: [(&str, &str); 30] = [
    ("reactive_cost_avoided", "Reactive cost avoided"),
    ("extra_prevention_spend", "Extra prevention spend"),
    ("net_revenue_saving", "Net revenue saving"),
    ("extra_capital_spend", "Extra capital spend"),
    ("residual_value", "Capital's value left at the horizon"),
    (
        "relative_price_effects",
        "Prices rising faster than general inflation",
    ),
    ("optimism_bias_on_spend", "Optimism bias on spend"),
    ("avoided_real", "Reactive cost avoided, real"),
    ("kept", "Share of savings kept after optimism bias"),
    ("optimism_bias_on_savings", "Optimism bias on savings"),
    (
        "net_saving_after_optimism_bias",
        "Net saving after optimism bias, real terms",
    ),
    ("horizon_factor", "Discount factor at the horizon"),
    ("pv_savings", "Savings, present value"),
    ("pv_cashable_savings", "Cashable savings, present value"),
    ("pv_residual_value", "Value left, present value"),
    ("pv_investment", "Investment, present value"),
    ("npv", "Net present value"),
    ("discounting", "Discounting"),
    (
        "npv_without_optimism_bias",
        "Net present value without optimism bias",
    ),
    ("npv_cashable", "Net present value of cashable savings"),
    ("inflation", "Inflation to cash prices"),
    ("financing", "Financing of capital (MRP and interest)"),
    (
        "revenue_budget_impact",
        "Revenue budget impact, cash, all payers",
    ),
    ("roi", "Return on investment"),
    ("benefit_cost_ratio", "Benefit-cost ratio"),
    ("crisis_months_avoided", "Crisis-months avoided"),
    (
        "net_cost_per_crisis_month_avoided",
        "Net cost per crisis-month avoided",
    ),
    ("qalys_gained", "QALYs gained, discounted"),
    ("net_cost_per_qaly_gained", "Net cost per QALY gained"),
    (
        "undiscounted_net",
        "Net saving, undiscounted, after optimism bias",
    ),
];

/// The index of replicate column `id`.
pub fn replicate_column(id: &str) -> usize {
    REPLICATE_COLUMNS
        .iter()
        .position(|(i, _)| *i == id)
        .unwrap_or_else(|| panic!("no replicate column {id}"))
}

/// One replicate's figures from its period workings (NaN where a ratio is
/// not defined), in the order of [`REPLICATE_COLUMNS`].
pub fn replicate_figures(
    w: &[[f64; PERIOD_COLUMNS.len()]],
    haircut: f64,
    crisis_months_avoided: f64,
    qalys_gained: f64,
) -> [f64; REPLICATE_COLUMNS.len()] {
    let sum = |c: usize| w.iter().map(|x| x[c]).sum::<f64>();
    let disc = |c: usize| w.iter().map(|x| x[at::FACTOR] * x[c]).sum::<f64>();
    let avoided = sum(at::AVOIDED);
    let prevention = sum(at::PREVENTION);
    let net = avoided - prevention;
    let capital = sum(at::CAPITAL);
    let left = sum(at::VALUE_LEFT);
    let price_effect =
        (sum(at::AVOIDED_REAL) - avoided) - (sum(at::SPEND_REAL) - prevention - capital);
    let ob_spend = sum(at::OB_SPEND);
    let avoided_real = sum(at::AVOIDED_REAL);
    let kept = if avoided_real >= 0.0 {
        1.0 - haircut
    } else {
        1.0 + haircut
    };
    let ob_savings = avoided_real * (1.0 - kept);
    let after = net - capital + left + price_effect - ob_spend - ob_savings;
    let horizon = w.last().map_or(1.0, |x| x[at::FACTOR]);
    let pv_savings = kept * disc(at::AVOIDED_REAL);
    let pv_cashable = kept * disc(at::CASHABLE_REAL);
    let pv_left = left * horizon;
    let pv_investment = disc(at::SPEND_REAL) + disc(at::OB_SPEND) - pv_left;
    let npv = pv_savings - pv_investment;
    let npv_raw = disc(at::AVOIDED_REAL) - disc(at::SPEND_REAL) + pv_left;
    let inflation = (sum(at::AVOIDED_CASH) - avoided) - (sum(at::PREVENTION_CASH) - prevention);
    let financing = sum(at::FINANCING);
    let ratio = |a: f64, b: f64, when: bool| if when { a / b } else { f64::NAN };
    let undiscounted = kept * avoided_real - (sum(at::SPEND_REAL) + ob_spend - left);
    [
        avoided,
        -prevention,
        net,
        -capital,
        left,
        price_effect,
        -ob_spend,
        avoided_real,
        kept,
        -ob_savings,
        after,
        horizon,
        pv_savings,
        pv_cashable,
        pv_left,
        pv_investment,
        npv,
        npv - after,
        npv_raw,
        pv_cashable - pv_investment,
        inflation,
        -financing,
        net - financing + inflation,
        ratio(npv, pv_investment, pv_investment > 0.0),
        ratio(pv_savings, pv_investment, pv_investment > 0.0),
        crisis_months_avoided,
        ratio(-npv, crisis_months_avoided, crisis_months_avoided > 0.0),
        qalys_gained,
        ratio(-npv, qalys_gained, qalys_gained > 0.0),
        undiscounted,
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each payer's spend after optimism bias and reactive cost avoided,
    /// real, period by period; its present values (spend net of its
    /// capital's value left, cost avoided after the haircut): worked by
    /// hand for four lines of four payers over two periods.
    #[test]
    fn each_payer_is_valued_as_who_pays_and_who_saves_has_it() {
        let config = crate::scenario::load(std::path::Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/scenarios/baseline.toml"
        )))
        .expect("baseline loads")
        .config;
        let line = |kind, payer, sign, column| LedgerLine {
            line: Line {
                id: format!("line{column}"),
                name: format!("Line {column}"),
                kind,
                payer,
                metric: Metric::Qalys,
                sign,
            },
            costing: Costing::Pounds { column },
        };
        let carried = Carried {
            value_left: vec![vec![vec![100.0], vec![0.0]]],
            ..Carried::default()
        };
        let ledger = Ledger {
            periods: (0..2)
                .map(|y| Period {
                    financial_year: 2027 + y,
                    year: y as u32,
                    months: 12 * y as usize..12 * (y as usize + 1),
                })
                .collect(),
            lines: vec![
                line(LineKind::Reactive, Payer::Nhs, 1.0, 0),
                // Money the housing service receives from another payer.
                line(LineKind::Reactive, Payer::Housing, -1.0, 1),
                line(LineKind::Prevention, Payer::ChildrensServices, 1.0, 2),
                line(LineKind::Capital, Payer::Housing, 1.0, 3),
            ],
            columns: Vec::new(),
            // [scenario][replicate][period][column]
            activity: vec![
                vec![vec![
                    vec![100.0, 10.0, 0.0, 0.0],
                    vec![100.0, 10.0, 40.0, 0.0],
                ]],
                vec![vec![
                    vec![70.0, 4.0, 50.0, 200.0],
                    vec![60.0, 10.0, 0.0, 0.0],
                ]],
            ],
            capital_lines: vec![3],
            carried: vec![Carried::default(), carried],
            own_financing: Vec::new(),
        };
        let prices = Prices {
            factors: vec![1.0, 0.9],
            real: vec![vec![1.0, 1.1]; 4],
            cash: vec![vec![1.0, 1.0]; 4],
            cashable: vec![0.0; 4],
        };
        let allowance = Allowance {
            uplift: vec![0.0, 0.0, 0.2, 0.3],
            uplift_grade: vec![None; 4],
            haircut: 0.1,
            haircut_grade: None,
        };
        let configs = [&config, &config];
        let w = ledger.payer_workings(&configs, &prices, &allowance, 1, 0);
        let (nhs, housing, children) = (
            Payer::Nhs as usize,
            Payer::Housing as usize,
            Payer::ChildrensServices as usize,
        );
        let close = |a: f64, b: f64| assert!((a - b).abs() < 1e-9, "{a} against {b}");
        // NHS: 30 avoided, then 40 at 1.1 real.
        close(w[0][nhs][payer_at::AVOIDED], 30.0);
        close(w[1][nhs][payer_at::AVOIDED], 44.0);
        // Housing receives 6 less from the other payer: a cost.
        close(w[0][housing][payer_at::AVOIDED], -6.0);
        // 200 of capital with 30% optimism bias.
        close(w[0][housing][payer_at::SPEND], 260.0);
        // Children's services: 50 more with 20% bias, then 40 less (44
        // real), its saving shrunk by 20%.
        close(w[0][children][payer_at::SPEND], 60.0);
        close(w[1][children][payer_at::SPEND], -35.2);
        let untouched = [Payer::AdultSocialCare, Payer::Police, Payer::Dwp];
        for p in untouched {
            assert_eq!(w[0][p as usize], [0.0; 2]);
            assert_eq!(w[1][p as usize], [0.0; 2]);
        }
        let left = ledger.scheme_value_left(&prices, 1, 0);
        assert_eq!(left, vec![100.0]);
        let mut periods = [[0.0; PERIOD_COLUMNS.len()]; 2];
        periods[0][at::FACTOR] = 1.0;
        periods[1][at::FACTOR] = 0.9;
        let f = ledger.payer_figures(&periods, &w, &left, 0.9);
        // [spend, cost avoided, net]
        let want = |p: usize, v: [f64; 3]| {
            for i in 0..3 {
                close(f[p][i], v[i]);
            }
        };
        want(
            nhs,
            [0.0, 0.9 * (30.0 + 44.0 * 0.9), 0.9 * (30.0 + 44.0 * 0.9)],
        );
        // The homes' value left, 100 at the horizon, counts against the spend.
        want(housing, [260.0 - 100.0 * 0.9, -5.4, -5.4 - 170.0]);
        want(children, [60.0 - 35.2 * 0.9, 0.0, -(60.0 - 35.2 * 0.9)]);
        for p in untouched {
            want(p as usize, [0.0; 3]);
        }
    }

    /// Each period's purchases are financed alone: no charge before the
    /// month after purchase, and the charges of all purchase periods add up
    /// to the whole schedule's, period by period.
    #[test]
    fn financing_is_charged_by_period_from_the_period_of_purchase() {
        use crate::economics::{Financing, Grade};
        let m = InterventionMoney {
            id: "homes".into(),
            cost_grade: Grade::High,
            capital_cost_grade: Grade::High,
            effect_grade: Grade::High,
            financing: Some(Financing::Mrp {
                rate: 0.05,
                years: 2,
            }),
            residual_value_share: None,
            land_share: None,
        };
        let january = Conventions {
            start: (2027, 1),
            ..Conventions::default()
        };
        let ps = periods(&january, 36);
        let mut capital = vec![0.0; 36];
        capital[1] = 1200.0;
        capital[5] = 2400.0;
        capital[20] = 600.0;
        let by = financing_by_period(&capital, &m, &ps);
        let whole = financing_schedule(&capital, &m);
        type Part = fn(&Repayment) -> f64;
        let parts: [(&str, Part); 2] =
            [("principal", |x| x.principal), ("interest", |x| x.interest)];
        for (q, into) in ps.iter().enumerate() {
            for (part, of) in parts {
                let want: f64 = into.months.clone().map(|k| of(&whole[k])).sum();
                let got: f64 = by[q].iter().map(of).sum();
                assert!(
                    (got - want).abs() < 1e-9,
                    "{part} in period {q}: {got} against {want}"
                );
            }
            for (p, bought) in ps.iter().enumerate() {
                if into.months.end <= bought.months.start {
                    assert_eq!(
                        charge(&by[q][p]),
                        0.0,
                        "charged in {q} for purchases in {p}"
                    );
                }
            }
        }
        // Month 1 is in the first period (January to March), month 5 in
        // the second: each is charged from its own period on, principal and
        // interest.
        assert!(by[0][0].principal > 0.0 && by[1][1].interest > 0.0 && by[1][0].principal > 0.0);
        // Two years' MRP from the month after purchase: the first two
        // purchases are repaid within the 36 months, the last (month 20)
        // for 15 of its 24 months.
        let repaid: f64 = by.iter().flatten().map(|x| x.principal).sum();
        assert!((repaid - (1200.0 + 2400.0 + 600.0 * 15.0 / 24.0)).abs() < 1e-9);
        // Nothing bought, nothing charged.
        let none = financing_by_period(&[0.0; 36], &m, &ps);
        assert!(none.iter().flatten().all(|x| charge(x) == 0.0));
    }

    #[test]
    fn periods_split_where_the_financial_year_or_the_appraisal_year_turns() {
        let april = Conventions::default();
        let p = periods(&april, 30);
        assert_eq!(p.len(), 3);
        assert_eq!(
            (p[0].financial_year, p[0].year, p[0].months.clone()),
            (2026, 0, 0..12)
        );
        assert_eq!(
            (p[2].financial_year, p[2].year, p[2].months.clone()),
            (2028, 2, 24..30)
        );
        let january = Conventions {
            start: (2027, 1),
            ..Conventions::default()
        };
        let p = periods(&january, 24);
        let spans: Vec<(i32, u32, Range<usize>)> = p
            .iter()
            .map(|x| (x.financial_year, x.year, x.months.clone()))
            .collect();
        assert_eq!(
            spans,
            vec![
                (2026, 0, 0..3),
                (2027, 0, 3..12),
                (2027, 1, 12..15),
                (2028, 1, 15..24)
            ]
        );
    }
}
