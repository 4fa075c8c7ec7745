//! The `[need]`, `[risk_factors]`, `[household]` and `[risk_score]` sections:
//! how need moves between levels, what drives it, and how residents are ranked
//! for risk-stratified offers.
//!
//! Contract: transition rates are monthly hazards; utilities lie in -1 to 1;
//! each risk factor's prevalence is a probability of at most 0.95 and it lasts
//! at least a month; risk-score weights are whole numbers from 0 to 100, with
//! a documented default when the section is absent.

use super::checks::{R, bad, each, finite, hazard, multiplier, probability};
use crate::model::{NEED_LEVELS, NeedSpec, RISK_FACTORS, RiskScore, RiskSpec};
use crate::scenario::schema::{HouseholdIn, NeedIn, RiskFactorsIn, RiskIn, RiskScoreIn};

pub(super) fn need(n: &NeedIn) -> R<NeedSpec> {
    Ok(NeedSpec {
        escalation: each(
            "need.escalation_per_month",
            n.escalation_per_month.value,
            hazard,
        )?,
        recovery: each(
            "need.recovery_per_month",
            n.recovery_per_month.value,
            hazard,
        )?,
        age_escalation_multiplier: each(
            "need.age_escalation_multiplier",
            n.age_escalation_multiplier.value,
            multiplier,
        )?,
        utility: utility(n.utility.value)?,
    })
}

/// Quality-of-life weight of each need level.
fn utility(u: [f64; NEED_LEVELS]) -> R<[f64; NEED_LEVELS]> {
    for (i, x) in u.iter().enumerate() {
        if !(-1.0..=1.0).contains(&finite(&format!("need.utility[{i}]"), *x)?) {
            return bad(
                format!("need.utility[{i}]"),
                format!("expected a utility weight from -1 to 1, found {x}"),
            );
        }
    }
    Ok(u)
}

/// The five risk factors, in the model's order.
pub(super) fn risks(rf: &RiskFactorsIn) -> R<[RiskSpec; RISK_FACTORS]> {
    Ok([
        risk("low_income", &rf.low_income)?,
        risk("insecure_housing", &rf.insecure_housing)?,
        risk("isolation", &rf.isolation)?,
        risk("long_term_condition", &rf.long_term_condition)?,
        risk("family_stress", &rf.family_stress)?,
    ])
}

fn risk(name: &str, r: &RiskIn) -> R<RiskSpec> {
    let path = |f: &str| format!("risk_factors.{name}.{f}");
    let persistence = finite(&path("persistence_months"), r.persistence_months.value)?;
    if persistence < 1.0 {
        return bad(
            path("persistence_months"),
            format!("expected at least 1 month, found {persistence}"),
        );
    }
    Ok(RiskSpec {
        prevalence_most_deprived: prevalence(
            &path("prevalence_most_deprived"),
            r.prevalence_most_deprived.value,
        )?,
        prevalence_least_deprived: prevalence(
            &path("prevalence_least_deprived"),
            r.prevalence_least_deprived.value,
        )?,
        escalation_multiplier: multiplier(
            &path("escalation_multiplier"),
            r.escalation_multiplier.value,
        )?,
        recovery_multiplier: multiplier(&path("recovery_multiplier"), r.recovery_multiplier.value)?,
        persistence_months: persistence,
    })
}

/// A probability of at most 0.95, the engine's own cap: the onset rate that
/// holds a prevalence divides by one minus it.
fn prevalence(path: &str, v: f64) -> R<f64> {
    probability(path, v)?;
    if v > 0.95 {
        return bad(
            path,
            format!("expected a prevalence of at most 0.95, found {v}"),
        );
    }
    Ok(v)
}

pub(super) fn household_stress(h: &HouseholdIn) -> R<[f64; 3]> {
    each(
        "household.crisis_stress_multiplier",
        h.crisis_stress_multiplier.value,
        multiplier,
    )
}

pub(super) fn risk_score(r: Option<&RiskScoreIn>) -> R<RiskScore> {
    let Some(r) = r else {
        return Ok(RiskScore {
            need_weights: [0, 1, 3, 6],
            factor_weights: [1; RISK_FACTORS],
        });
    };
    let need = r
        .need_weights
        .iter()
        .enumerate()
        .map(|(i, w)| ("need_weights", i, w));
    let factor = r
        .factor_weights
        .iter()
        .enumerate()
        .map(|(i, w)| ("factor_weights", i, w));
    for (list, i, w) in need.chain(factor) {
        if *w > 100 {
            return bad(
                format!("risk_score.{list}[{i}]"),
                format!("expected a weight from 0 to 100, found {w}"),
            );
        }
    }
    Ok(RiskScore {
        need_weights: r.need_weights,
        factor_weights: r.factor_weights,
    })
}
