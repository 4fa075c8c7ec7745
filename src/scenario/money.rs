//! Validation of the money conventions (`[economics]`) and of each
//! intervention's financing and optimism-bias grades.

use std::collections::BTreeMap;

use super::compile::checks::{R, bad, cost, finite, probability};
use super::schema::*;
use crate::economics::{
    Conventions, Financing, Grade, InterventionMoney, PayerBudget, Pool, Schedule,
};
use crate::model::{Config, Payer};

fn grade(c: Option<Confidence>) -> Option<Grade> {
    c.map(|c| match c {
        Confidence::High => Grade::High,
        Confidence::Medium => Grade::Medium,
        Confidence::Low => Grade::Low,
    })
}

/// A rate a year as a fraction, in `[lo, hi)`.
fn rate(path: &str, v: f64, lo: f64, hi: f64) -> R<f64> {
    if !(lo..hi).contains(&finite(path, v)?) {
        return bad(
            path,
            format!(
                "expected a rate a year as a fraction from {lo} to below {hi} (3.5% is 0.035), found {v}"
            ),
        );
    }
    Ok(v)
}

fn price_base(text: &str, fy_start: u32) -> R<i32> {
    let err = || {
        bad(
            "economics.price_base",
            format!("expected a financial year such as \"2023/24\", found \"{text}\""),
        )
    };
    let (y, rest) = match text.split_once('/') {
        Some((y, rest)) => (y, Some(rest)),
        None => (text, None),
    };
    let Ok(y) = y.parse::<i32>() else {
        return err();
    };
    if !(1900..=2200).contains(&y) {
        return err();
    }
    match rest {
        Some(next) if next == format!("{:02}", (y + 1).rem_euclid(100)) => Ok(y),
        None if fy_start == 1 => Ok(y),
        _ => err(),
    }
}

/// The ids money conventions may name: services, `handoff` and interventions.
fn known_ids(config: &Config, interventions: bool) -> Vec<String> {
    let mut ids: Vec<String> = config
        .events
        .iter()
        .map(|s| s.id.clone())
        .chain(config.episodes.iter().map(|s| s.id.clone()))
        .collect();
    ids.push("handoff".into());
    if interventions {
        ids.extend(config.interventions.iter().map(|i| i.id.clone()));
    }
    ids
}

fn by_id(
    field: &str,
    map: &BTreeMap<String, Param<f64>>,
    known: &[String],
    check: impl Fn(&str, f64) -> R<f64>,
) -> R<(BTreeMap<String, f64>, Option<f64>)> {
    let mut out = BTreeMap::new();
    let mut default = None;
    for (k, v) in map {
        let path = format!("economics.{field}.{k}");
        let v = check(&path, v.value)?;
        if k == "default" {
            default = Some(v);
        } else if known.contains(k) {
            out.insert(k.clone(), v);
        } else {
            return bad(
                path,
                format!(
                    "no service or intervention is called \"{k}\"; expected `default` or one of {}",
                    known.join(", ")
                ),
            );
        }
    }
    Ok((out, default))
}

pub(super) fn conventions(s: &Scenario, config: &Config, start: (i32, u32)) -> R<Conventions> {
    let d = Conventions::default();
    let Some(e) = &s.economics else {
        return Ok(Conventions { start, ..d });
    };
    let fy_start = e.financial_year_start_month.unwrap_or(4);
    if !(1..=12).contains(&fy_start) {
        return bad(
            "economics.financial_year_start_month",
            format!("expected a calendar month from 1 to 12 (4 is April), found {fy_start}"),
        );
    }
    let price_base = match &e.price_base {
        Some(t) => price_base(t, fy_start)?,
        None => d.price_base,
    };
    let discount = match &e.discount_rate {
        Some(r) => Schedule::flat(rate("economics.discount_rate", r.value, 0.0, 1.0)?),
        None => d.discount,
    };
    let health_discount = match &e.health_discount_rate {
        Some(r) => Schedule::flat(rate("economics.health_discount_rate", r.value, 0.0, 1.0)?),
        None => d.health_discount,
    };
    let general_inflation = match &e.general_inflation {
        Some(r) => rate("economics.general_inflation", r.value, -0.5, 1.0)?,
        None => d.general_inflation,
    };
    let (inflation, default_inflation) = by_id(
        "inflation",
        &e.inflation,
        &known_ids(config, true),
        |p, v| rate(p, v, -0.5, 1.0),
    )?;
    let (cashable, default_cashable) = by_id(
        "cashable",
        &e.cashable,
        &known_ids(config, false),
        probability,
    )?;
    let (cost_uplift, savings_haircut) = match &e.optimism_bias {
        None => (d.cost_uplift, d.savings_haircut),
        Some(ob) => {
            let grades = |name: &str, g: &ByGradeIn, max: f64| -> R<[f64; 3]> {
                let mut out = [0.0; 3];
                for (i, (k, v)) in [("high", &g.high), ("medium", &g.medium), ("low", &g.low)]
                    .into_iter()
                    .enumerate()
                {
                    let path = format!("economics.optimism_bias.{name}.{k}");
                    if !(0.0..=max).contains(&finite(&path, v.value)?) {
                        return bad(
                            path,
                            format!(
                                "expected a share from 0 to {max} (10% is 0.1), found {}",
                                v.value
                            ),
                        );
                    }
                    out[i] = v.value;
                }
                Ok(out)
            };
            (
                grades("cost_uplift", &ob.cost_uplift, 5.0)?,
                grades("savings_haircut", &ob.savings_haircut, 1.0)?,
            )
        }
    };
    let mut pools = Vec::new();
    for (id, p) in &e.pools {
        let path = format!("economics.pools.{id}.payers");
        if p.payers.is_empty() {
            return bad(path, "expected at least one payer in the pool");
        }
        let mut payers = p.payers.clone();
        payers.sort();
        payers.dedup();
        if payers.len() != p.payers.len() {
            return bad(path, "a payer is named twice in the pool");
        }
        pools.push(Pool {
            id: id.clone(),
            name: p.name.clone(),
            payers: p.payers.clone(),
        });
    }
    let mut budgets = Vec::new();
    for (name, b) in &e.budgets {
        let Some(payer) = Payer::ALL.into_iter().find(|p| p.name() == name) else {
            let names: Vec<&str> = Payer::ALL.iter().map(|p| p.name()).collect();
            return bad(
                format!("economics.budgets.{name}"),
                format!(
                    "no payer is called \"{name}\"; expected one of {}",
                    names.join(", ")
                ),
            );
        };
        let list = |field: &str, v: &Option<Param<Vec<f64>>>| -> R<Vec<f64>> {
            let Some(v) = v else {
                return Ok(Vec::new());
            };
            let path = format!("economics.budgets.{name}.{field}");
            if v.value.is_empty() {
                return bad(path, "expected at least one financial year's amount in £");
            }
            for (i, x) in v.value.iter().enumerate() {
                cost(&format!("{path}[{i}]"), *x)?;
            }
            Ok(v.value.clone())
        };
        budgets.push(PayerBudget {
            payer,
            envelope: list("envelope", &b.envelope)?,
            savings_target: list("savings_target", &b.savings_target)?,
        });
    }
    // In payer order, as when the table was keyed by payer.
    budgets.sort_by_key(|b| b.payer);
    Ok(Conventions {
        price_base,
        start,
        financial_year_start_month: fy_start,
        discount,
        health_discount,
        general_inflation,
        inflation,
        default_inflation: default_inflation.unwrap_or(general_inflation),
        cost_uplift,
        savings_haircut,
        cashable,
        default_cashable: default_cashable.unwrap_or(d.default_cashable),
        pools,
        budgets,
    })
}

/// Each intervention's money: financing, residual value and the grades that
/// set its optimism bias (the weakest stated; none stated counts as low).
pub(super) fn interventions(s: &Scenario) -> R<Vec<InterventionMoney>> {
    let mut out = Vec::new();
    for (id, x) in &s.interventions {
        let path = |f: &str| format!("interventions.{id}.{f}");
        let own = grade(x.confidence);
        let weakest = |gs: Vec<Option<Grade>>| -> Grade {
            gs.into_iter()
                .map(|g| g.or(own).unwrap_or(Grade::Low))
                .max()
                .unwrap_or(own.unwrap_or(Grade::Low))
        };
        let cost_grade = weakest(
            [
                x.annual_budget.as_ref().map(|p| p.confidence),
                x.caseload.as_ref().map(|p| p.confidence),
                x.unit_cost_per_month.as_ref().map(|p| p.confidence),
                x.cost_per_place_per_year.as_ref().map(|p| p.confidence),
                x.running_cost_per_place_week.as_ref().map(|p| p.confidence),
            ]
            .into_iter()
            .flatten()
            .map(grade)
            .collect(),
        );
        let capital_cost_grade = weakest(
            x.capital_cost_per_place
                .iter()
                .map(|p| grade(p.confidence))
                .collect(),
        );
        let effect_grade = weakest(
            x.effects
                .iter()
                .map(|e| grade(e.confidence.or(e.multiplier.confidence)))
                .collect(),
        );
        let financing = match &x.financing {
            None => None,
            Some(f) => {
                if x.kind != KindIn::Places {
                    return bad(
                        path("financing"),
                        "`financing` applies only to kind = places",
                    );
                }
                let r = rate(&path("financing.rate"), f.rate.value, 0.0, 1.0)?;
                if !(1..=100).contains(&f.years) {
                    return bad(
                        path("financing.years"),
                        format!("expected 1 to 100 years, found {}", f.years),
                    );
                }
                Some(match f.method {
                    FinancingMethodIn::Annuity => Financing::Annuity {
                        rate: r,
                        years: f.years,
                    },
                    FinancingMethodIn::Mrp => Financing::Mrp {
                        rate: r,
                        years: f.years,
                    },
                })
            }
        };
        let buys = x
            .capital_cost_per_place
            .as_ref()
            .is_some_and(|c| c.value > 0.0);
        if buys && financing.is_none() {
            return bad(
                path("financing"),
                "a capital purchase needs a financing rule: financing = { method = \"annuity\" or \"mrp\", rate = 0.045, years = 40 }",
            );
        }
        let residual_value_share = match &x.residual_value_share {
            None => None,
            Some(v) => {
                if x.kind != KindIn::Places {
                    return bad(
                        path("residual_value_share"),
                        "`residual_value_share` applies only to kind = places",
                    );
                }
                Some(probability(&path("residual_value_share"), v.value)?)
            }
        };
        let land_share = match &x.land_share {
            None => None,
            Some(v) => {
                if x.kind != KindIn::Places {
                    return bad(
                        path("land_share"),
                        "`land_share` applies only to kind = places",
                    );
                }
                if residual_value_share.is_some() {
                    return bad(
                        path("land_share"),
                        "give `land_share` (land keeps its value, buildings lose theirs over the financing years) or `residual_value_share`, not both",
                    );
                }
                Some(probability(&path("land_share"), v.value)?)
            }
        };
        out.push(InterventionMoney {
            id: id.clone(),
            cost_grade,
            capital_cost_grade,
            effect_grade,
            financing,
            residual_value_share,
            land_share,
        });
    }
    Ok(out)
}
