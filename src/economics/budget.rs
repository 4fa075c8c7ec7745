//! Budgets as a finance officer keeps them: nominal £ by financial year,
//! payer and service line, baseline against scenario, with capital financing
//! charged to revenue, against each payer's envelope and savings target.
//!
//! No optimism bias here: these are the projections themselves.

use serde::{Deserialize, Serialize};

use super::bridge::YearAmount;
use super::lines::{LineKind, lines, money_of, value_left};
use super::{Conventions, InterventionMoney, Repayment};
use crate::metrics::Band;
use crate::model::{Config, Payer};
use crate::replicates::ScenarioRuns;

/// Which account a budget line is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Account {
    /// Day-to-day spending: services, prevention, and the financing
    /// charges of capital.
    Revenue,
    /// Capital purchases themselves, kept out of the revenue total.
    Capital,
}

impl Account {
    /// The account as `budget.csv` writes it: `revenue` or `capital`.
    pub fn name(self) -> &'static str {
        match self {
            Account::Revenue => "revenue",
            Account::Capital => "capital",
        }
    }
}

/// The line name of a payer's revenue total.
pub const TOTAL_REVENUE: &str = "Total revenue";

/// One row of `budget.csv`: a payer's budget line in one financial year,
/// nominal £ summed over the horizon's months in that year, as bands across
/// replicates.
///
/// Signs as everywhere in Upstream: spending is an amount (`baseline`,
/// `scenario_value`); a change is positive when it saves money or leaves
/// money to spare (`saving`, `headroom`, `beyond_target`) and negative when
/// it costs more or falls short.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BudgetRow {
    /// The scenario's name (the baseline's rows compare it with itself).
    pub scenario: String,
    /// The financial year's label, such as `2026/27`.
    pub financial_year: String,
    /// Whose budget the line is in.
    pub payer: Payer,
    /// Revenue or capital.
    pub account: Account,
    /// The line: a service, handoff, an intervention, its capital or
    /// financing, or [`TOTAL_REVENUE`].
    pub line: String,
    /// The baseline's figure.
    pub baseline: Band,
    /// This scenario's figure.
    pub scenario_value: Band,
    /// The saving: baseline less scenario, paired by replicate (negative
    /// where the scenario spends more).
    pub saving: Band,
    /// Divides a nominal figure of this financial year to give it in real
    /// terms at the price base (GDP deflator since the price base).
    pub deflator: f64,
    /// On a payer's revenue total only, where the scenario gives one.
    pub envelope: Option<f64>,
    /// The envelope less the scenario's spend: below zero is an overspend.
    pub headroom: Option<Band>,
    /// On a payer's revenue total only, where the scenario gives one: the
    /// saving against the baseline needed this financial year.
    pub savings_target: Option<f64>,
    /// The saving made against the baseline less the target: below zero is
    /// a shortfall.
    pub beyond_target: Option<Band>,
}

/// A budget line's nominal monthly values in one run and replicate.
struct Nominal {
    name: String,
    payer: Payer,
    account: Account,
    baseline: Vec<Vec<f64>>,
    scenario: Vec<Vec<f64>>,
}

/// Monthly principal repaid and interest on the capital purchases in
/// `capital` (nominal), each year's charge spread evenly over its twelve
/// months from the month after the purchase.
pub(super) fn financing_schedule(capital: &[f64], m: &InterventionMoney) -> Vec<Repayment> {
    let mut out = vec![Repayment::default(); capital.len()];
    let Some(f) = m.financing else {
        return out;
    };
    for (bought, &amount) in capital.iter().enumerate() {
        if amount == 0.0 {
            continue;
        }
        for (y, year) in f.annual_schedule(amount).iter().enumerate() {
            for k in 0..12 {
                let month = bought + 1 + y * 12 + k;
                if month < out.len() {
                    out[month].principal += year.principal / 12.0;
                    out[month].interest += year.interest / 12.0;
                }
            }
        }
    }
    out
}

/// Monthly revenue charges of the capital purchases in `capital` (nominal).
pub(super) fn financing_charges(capital: &[f64], m: &InterventionMoney) -> Vec<f64> {
    financing_schedule(capital, m)
        .iter()
        .map(|r| r.principal + r.interest)
        .collect()
}

fn nominal_lines(
    conv: &Conventions,
    base: (&Config, &[InterventionMoney], &ScenarioRuns),
    scen: (&Config, &[InterventionMoney], &ScenarioRuns),
) -> Vec<Nominal> {
    let reps = base.2.series.len().min(scen.2.series.len());
    let mut out = Vec::new();
    for line in lines(base.0, scen.0) {
        let infl = conv.inflation_of(&line.id);
        let nominal = |runs: &ScenarioRuns, r: usize| -> Vec<f64> {
            line.monthly(runs, r)
                .iter()
                .enumerate()
                .map(|(m, v)| conv.nominal(*v, infl, m as u32 + 1))
                .collect()
        };
        let b: Vec<Vec<f64>> = (0..reps).map(|r| nominal(base.2, r)).collect();
        let s: Vec<Vec<f64>> = (0..reps).map(|r| nominal(scen.2, r)).collect();
        if line.kind == LineKind::Capital {
            let money = |own: &[InterventionMoney]| {
                own.iter().chain(base.1).find(|x| x.id == line.id).cloned()
            };
            let charges = |v: &[Vec<f64>], m: Option<InterventionMoney>| -> Vec<Vec<f64>> {
                v.iter()
                    .map(|c| match &m {
                        Some(m) => financing_charges(c, m),
                        None => vec![0.0; c.len()],
                    })
                    .collect()
            };
            out.push(Nominal {
                name: format!("{} (financing)", line.name.trim_end_matches(" (capital)")),
                payer: line.payer,
                account: Account::Revenue,
                baseline: charges(&b, money(base.1)),
                scenario: charges(&s, money(scen.1)),
            });
        }
        out.push(Nominal {
            name: line.name.clone(),
            payer: line.payer,
            account: if line.kind == LineKind::Capital {
                Account::Capital
            } else {
                Account::Revenue
            },
            baseline: b,
            scenario: s,
        });
    }
    out
}

/// Scenario `s`'s budget against scenario 0's.
pub struct Budget {
    /// Its lines and each payer's revenue total, by financial year.
    pub rows: Vec<BudgetRow>,
    /// The revenue budget impact in each financial year: the baseline's
    /// revenue lines (financing included) less the scenario's, cash, every
    /// payer.
    pub revenue_impact_by_year: Vec<YearAmount>,
}

/// The budget of scenario `s` against scenario 0.
pub fn budget(
    conv: &Conventions,
    configs: &[&Config],
    money: &[&[InterventionMoney]],
    runs: &[ScenarioRuns],
    s: usize,
) -> Budget {
    let nominal = nominal_lines(
        conv,
        (configs[0], money[0], &runs[0]),
        (configs[s], money[s], &runs[s]),
    );
    let months = runs[s].series.first().map_or(0, |x| x.months) as u32;
    let mut fys: Vec<i32> = (1..=months).map(|m| conv.financial_year(m)).collect();
    fys.dedup();
    let reps = nominal.first().map_or(0, |n| n.baseline.len());
    // Sum of a line over the months of financial year `fy`, per replicate.
    let by_fy = |v: &[Vec<f64>], fy: i32| -> Vec<f64> {
        v.iter()
            .map(|rep| {
                rep.iter()
                    .enumerate()
                    .filter(|(m, _)| conv.financial_year(*m as u32 + 1) == fy)
                    .map(|(_, x)| x)
                    .sum()
            })
            .collect()
    };
    let less = |a: &[f64], b: &[f64]| -> Vec<f64> { a.iter().zip(b).map(|(x, y)| x - y).collect() };
    let mut out = Vec::new();
    let mut impact_by_year = Vec::with_capacity(fys.len());
    for (year_index, &fy) in fys.iter().enumerate() {
        let deflator = conv.deflator(fy);
        let mut impact = vec![0.0; reps];
        for payer in Payer::ALL {
            let mut total_b = vec![0.0; reps];
            let mut total_s = vec![0.0; reps];
            let mut any = false;
            for n in nominal.iter().filter(|n| n.payer == payer) {
                any = true;
                let (b, sv) = (by_fy(&n.baseline, fy), by_fy(&n.scenario, fy));
                if n.account == Account::Revenue {
                    for r in 0..reps {
                        total_b[r] += b[r];
                        total_s[r] += sv[r];
                    }
                }
                out.push(BudgetRow {
                    scenario: configs[s].name.clone(),
                    financial_year: conv.fy_label(fy),
                    payer,
                    account: n.account,
                    line: n.name.clone(),
                    baseline: Band::of(&b),
                    scenario_value: Band::of(&sv),
                    saving: Band::of(&less(&b, &sv)),
                    deflator,
                    envelope: None,
                    headroom: None,
                    savings_target: None,
                    beyond_target: None,
                });
            }
            for (v, (b, sv)) in impact.iter_mut().zip(total_b.iter().zip(&total_s)) {
                *v += b - sv;
            }
            let budget = conv.budgets.iter().find(|b| b.payer == payer);
            if !any && budget.is_none() {
                continue;
            }
            let pick = |v: &[f64]| -> Option<f64> {
                (!v.is_empty()).then(|| v[year_index.min(v.len() - 1)])
            };
            let envelope = budget.and_then(|b| pick(&b.envelope));
            let target = budget.and_then(|b| pick(&b.savings_target));
            let saving = less(&total_b, &total_s);
            out.push(BudgetRow {
                scenario: configs[s].name.clone(),
                financial_year: conv.fy_label(fy),
                payer,
                account: Account::Revenue,
                line: TOTAL_REVENUE.into(),
                baseline: Band::of(&total_b),
                scenario_value: Band::of(&total_s),
                saving: Band::of(&saving),
                deflator,
                envelope,
                headroom: envelope
                    .map(|e| Band::of(&total_s.iter().map(|x| e - x).collect::<Vec<_>>())),
                savings_target: target,
                beyond_target: target
                    .map(|t| Band::of(&saving.iter().map(|x| x - t).collect::<Vec<_>>())),
            });
        }
        impact_by_year.push(YearAmount {
            financial_year: conv.fy_label(fy),
            amount: Band::of(&impact),
        });
    }
    Budget {
        rows: out,
        revenue_impact_by_year: impact_by_year,
    }
}

/// How far over a payer's envelope the baseline may start before it is
/// warned about: budgets are set near what is spent, so a baseline far over
/// its envelope holds another place's envelope, or the wrong units.
pub const OVER_ENVELOPE_AT_START: f64 = 0.10;

/// Each payer whose baseline spends more than [`OVER_ENVELOPE_AT_START`]
/// over its envelope in the first financial year: (payer, financial year,
/// the baseline's spend, the envelope), from the rows of `baseline`, the
/// baseline scenario's name.
pub fn over_envelope_at_start(
    rows: &[BudgetRow],
    baseline: &str,
) -> Vec<(Payer, String, f64, f64)> {
    let mut out: Vec<(Payer, String, f64, f64)> = Vec::new();
    let first = rows
        .iter()
        .find(|r| r.scenario == baseline)
        .map(|r| &r.financial_year);
    for r in rows.iter().filter(|r| {
        r.scenario == baseline && r.line == TOTAL_REVENUE && Some(&r.financial_year) == first
    }) {
        if let Some(e) = r.envelope
            && e > 0.0
            && r.scenario_value.mean > e * (1.0 + OVER_ENVELOPE_AT_START)
        {
            out.push((r.payer, r.financial_year.clone(), r.scenario_value.mean, e));
        }
    }
    out
}

/// One row of the capital and financing schedule: a capital scheme's extra
/// purchases (the scenario's less the baseline's) and their financing in
/// one financial year, nominal £, as bands across replicates.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CapitalRow {
    /// The scenario's name.
    pub scenario: String,
    /// The financial year's label, such as `2026/27`.
    pub financial_year: String,
    /// Whose capital programme it is in.
    pub payer: Payer,
    /// The scheme: its intervention's name.
    pub scheme: String,
    /// Capital spent in the year.
    pub capital_spend: Band,
    /// Principal repaid (for MRP, the minimum revenue provision).
    pub principal_repaid: Band,
    /// Interest on what is still owed.
    pub interest: Band,
    /// Principal and interest: the financing line charged to revenue.
    pub financing_charge: Band,
    /// Borrowing still outstanding at the year's end.
    pub debt_outstanding: Band,
    /// The final financial year's row only: the purchases' value left at
    /// the horizon, real £ at the price base (the bridge's "capital's value
    /// left at the horizon", scheme by scheme).
    pub value_left_at_horizon: Option<Band>,
}

/// The capital and financing schedule of scenario `s` against scenario 0:
/// one row a financial year for each capital scheme in either.
pub fn capital_rows(
    conv: &Conventions,
    configs: &[&Config],
    money: &[&[InterventionMoney]],
    runs: &[ScenarioRuns],
    s: usize,
) -> Vec<CapitalRow> {
    let (base, scen) = (&runs[0], &runs[s]);
    let reps = base.series.len().min(scen.series.len());
    let months = scen.series.first().map_or(0, |x| x.months);
    let mut fys: Vec<i32> = (1..=months as u32)
        .map(|m| conv.financial_year(m))
        .collect();
    fys.dedup();
    let mut out = Vec::new();
    for line in lines(configs[0], configs[s]) {
        if line.kind != LineKind::Capital {
            continue;
        }
        let infl = conv.inflation_of(&line.id);
        let (money_b, money_s) = (
            money_of(&line.id, money[0], money[0]).cloned(),
            money_of(&line.id, money[s], money[0]).cloned(),
        );
        // Per replicate and month, scenario less baseline: spend, principal,
        // interest, debt outstanding; and per replicate the value left.
        let mut per_rep = Vec::with_capacity(reps);
        let mut left = Vec::with_capacity(reps);
        for r in 0..reps {
            let nominal = |runs: &ScenarioRuns| -> Vec<f64> {
                line.monthly(runs, r)
                    .iter()
                    .enumerate()
                    .map(|(m, v)| conv.nominal(*v, infl, m as u32 + 1))
                    .collect()
            };
            let side = |spend: &[f64], m: &Option<InterventionMoney>| {
                let sched = m.as_ref().map_or_else(
                    || vec![Repayment::default(); spend.len()],
                    |m| financing_schedule(spend, m),
                );
                let mut owed = 0.0;
                let debt: Vec<f64> = spend
                    .iter()
                    .zip(&sched)
                    .map(|(c, p)| {
                        owed += c - p.principal;
                        owed
                    })
                    .collect();
                (sched, debt)
            };
            let (cb, cs) = (nominal(base), nominal(scen));
            let (sb, db) = side(&cb, &money_b);
            let (ss, ds) = side(&cs, &money_s);
            let month_rows: Vec<[f64; 4]> = (0..months)
                .map(|m| {
                    [
                        cs[m] - cb[m],
                        ss[m].principal - sb[m].principal,
                        ss[m].interest - sb[m].interest,
                        ds[m] - db[m],
                    ]
                })
                .collect();
            let real: Vec<f64> = (0..months)
                .map(|m| conv.real(cs[m] - cb[m], m as u32 + 1))
                .collect();
            let stated = money_s.as_ref().and_then(|m| m.residual_value_share);
            let asset_years = money_s
                .as_ref()
                .and_then(|m| m.financing)
                .map_or(f64::INFINITY, |f| f.years() as f64);
            let land = money_s.as_ref().and_then(|m| m.land_share).unwrap_or(0.0);
            left.push(value_left(&real, stated, land, asset_years));
            per_rep.push(month_rows);
        }
        for (i, &fy) in fys.iter().enumerate() {
            let in_year: Vec<usize> = (0..months)
                .filter(|m| conv.financial_year(*m as u32 + 1) == fy)
                .collect();
            let last = *in_year.last().unwrap_or(&0);
            let sum = |k: usize| -> Band {
                Band::of(
                    &per_rep
                        .iter()
                        .map(|rep| in_year.iter().map(|&m| rep[m][k]).sum())
                        .collect::<Vec<f64>>(),
                )
            };
            let (principal, interest) = (sum(1), sum(2));
            let charge = Band::of(
                &per_rep
                    .iter()
                    .map(|rep| in_year.iter().map(|&m| rep[m][1] + rep[m][2]).sum())
                    .collect::<Vec<f64>>(),
            );
            out.push(CapitalRow {
                scenario: configs[s].name.clone(),
                financial_year: conv.fy_label(fy),
                payer: line.payer,
                scheme: line.name.trim_end_matches(" (capital)").to_string(),
                capital_spend: sum(0),
                principal_repaid: principal,
                interest,
                financing_charge: charge,
                debt_outstanding: Band::of(
                    &per_rep.iter().map(|rep| rep[last][3]).collect::<Vec<f64>>(),
                ),
                value_left_at_horizon: (i + 1 == fys.len()).then(|| Band::of(&left)),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::economics::{Financing, Grade};

    #[test]
    fn a_baseline_is_warned_about_only_beyond_a_tenth_over_its_first_envelope() {
        let row =
            |scenario: &str, fy: &str, payer: Payer, line: &str, spend: f64, e: f64| BudgetRow {
                scenario: scenario.into(),
                financial_year: fy.into(),
                payer,
                account: Account::Revenue,
                line: line.into(),
                baseline: Band::of(&[spend]),
                scenario_value: Band::of(&[spend]),
                saving: Band::of(&[0.0]),
                deflator: 1.0,
                envelope: Some(e),
                headroom: None,
                savings_target: None,
                beyond_target: None,
            };
        let (b, t) = ("Baseline", TOTAL_REVENUE);
        let rows = [
            // Exactly a tenth over: quiet.
            row(b, "2026/27", Payer::Housing, t, 110.0, 100.0),
            // Just over a tenth: named.
            row(b, "2026/27", Payer::ChildrensServices, t, 110.01, 100.0),
            // A zero envelope gives no share to judge.
            row(b, "2026/27", Payer::Police, t, 50.0, 0.0),
            // Not a payer's total, not the first year, not the baseline.
            row(b, "2026/27", Payer::Nhs, "A&E attendance", 500.0, 100.0),
            row(b, "2027/28", Payer::Housing, t, 500.0, 100.0),
            row("Hubs", "2026/27", Payer::Housing, t, 500.0, 100.0),
        ];
        assert_eq!(
            over_envelope_at_start(&rows, b),
            vec![(
                Payer::ChildrensServices,
                "2026/27".to_string(),
                110.01,
                100.0
            )]
        );
    }

    #[test]
    fn financing_starts_the_month_after_purchase() {
        let m = InterventionMoney {
            id: "homes".into(),
            cost_grade: Grade::High,
            capital_cost_grade: Grade::High,
            effect_grade: Grade::High,
            financing: Some(Financing::Mrp {
                rate: 0.0,
                years: 2,
            }),
            residual_value_share: None,
            land_share: None,
        };
        let mut capital = vec![0.0; 40];
        capital[0] = 2400.0;
        let c = financing_charges(&capital, &m);
        assert_eq!(c[0], 0.0);
        assert!(c[1..25].iter().all(|&x| (x - 100.0).abs() < 1e-9));
        assert!(c[25..].iter().all(|&x| x == 0.0));
        assert!((c.iter().sum::<f64>() - 2400.0).abs() < 1e-9);
    }
}
