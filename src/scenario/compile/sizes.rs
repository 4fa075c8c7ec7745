//! Sizes that scale with the place: a capacity, a budget, a caseload or an
//! envelope written per 1,000 residents, children or households becomes an
//! amount for this place's population, so a place set up with its own
//! `residents` does not inherit another place's sizes.

use super::checks::{R, bad, finite};
use crate::model::PopulationSpec;
use crate::model::demography::{ADULT_AGE, starting_ages_of, starting_households};
use crate::scenario::schema::{Param, Per, Scenario};

/// What a size written per 1,000 is multiplied by, for one place.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct Scale {
    /// Residents in the place.
    pub residents: f64,
    /// Expected residents under 18 at the start.
    pub children: f64,
    /// Expected households at the start.
    pub households: f64,
}

impl Scale {
    /// The counts of a place's starting population (expected, for a
    /// synthesised one; counted, for one given resident by resident).
    pub(super) fn of(p: &PopulationSpec) -> Scale {
        let residents = match &p.starting {
            Some(list) => list.iter().map(|h| h.members.len()).sum::<usize>() as f64,
            None => p.residents as f64,
        };
        let child_share: f64 = starting_ages_of(p)[..ADULT_AGE as usize].iter().sum();
        Scale {
            residents,
            children: residents * child_share,
            households: starting_households(p),
        }
    }

    /// The amount one unit of a size counted `per` this stands for.
    pub(super) fn factor(&self, per: Per) -> f64 {
        match per {
            Per::Place => 1.0,
            Per::Residents => self.residents / 1000.0,
            Per::Children => self.children / 1000.0,
            Per::Households => self.households / 1000.0,
        }
    }
}

/// The scenario with every size an amount for this place.
pub(super) fn resolve(s: &Scenario, scale: &Scale) -> R<Scenario> {
    let mut s = s.clone();
    for (id, e) in s.episodes.iter_mut() {
        let path = format!("episodes.{id}.capacity");
        whole_if_counted(&path, &e.capacity)?;
        e.capacity.value = (written(&path, e.capacity.value, e.capacity.per)?
            * scale.factor(e.capacity.per))
        .round();
        e.capacity.per = Per::Place;
    }
    for (id, iv) in s.interventions.iter_mut() {
        let at = |f: &str| format!("interventions.{id}.{f}");
        if let Some(b) = &mut iv.annual_budget {
            each(&at("annual_budget"), b, scale, false)?;
        }
        if let Some(c) = &mut iv.caseload {
            whole_list_if_counted(&at("caseload"), c)?;
            each(&at("caseload"), c, scale, true)?;
        }
        if let Some(b) = &mut iv.burn_in_budget {
            b.value = written(&at("burn_in_budget"), b.value, b.per)? * scale.factor(b.per);
            b.per = Per::Place;
        }
    }
    if let Some(econ) = &mut s.economics {
        for (payer, b) in econ.budgets.iter_mut() {
            for (field, p) in [
                ("envelope", &mut b.envelope),
                ("savings_target", &mut b.savings_target),
            ] {
                if let Some(p) = p {
                    each(
                        &format!("economics.budgets.{payer}.{field}"),
                        p,
                        scale,
                        false,
                    )?;
                }
            }
        }
    }
    Ok(s)
}

fn each(path: &str, p: &mut Param<Vec<f64>>, scale: &Scale, whole: bool) -> R<()> {
    let factor = scale.factor(p.per);
    for (i, v) in p.value.iter_mut().enumerate() {
        let amount = written(&format!("{path}[{i}]"), *v, p.per)? * factor;
        *v = if whole { amount.round() } else { amount };
    }
    p.per = Per::Place;
    Ok(())
}

/// A size as written: a finite number, and not below zero when written per
/// 1,000 (an amount's own range is checked once it is resolved).
fn written(path: &str, v: f64, per: Per) -> R<f64> {
    let v = finite(path, v)?;
    if per != Per::Place && v < 0.0 {
        return bad(path, format!("expected 0 or more per 1,000, found {v}"));
    }
    Ok(v)
}

/// Places and cases written as amounts are whole.
fn whole_if_counted(path: &str, p: &Param<f64>) -> R<()> {
    if p.per == Per::Place && p.value.fract() != 0.0 {
        return bad(
            path,
            format!(
                "expected a whole number of places, found the number {}; a share of a place can be written per 1,000 (per_1000_residents = …)",
                p.value
            ),
        );
    }
    Ok(())
}

fn whole_list_if_counted(path: &str, p: &Param<Vec<f64>>) -> R<()> {
    for (i, v) in p.value.iter().enumerate() {
        if p.per == Per::Place && v.fract() != 0.0 {
            return bad(
                format!("{path}[{i}]"),
                format!("expected a whole number of cases, found the number {v}"),
            );
        }
    }
    Ok(())
}
