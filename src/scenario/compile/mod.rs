//! Validation: turns a parsed scenario into a [`Config`], checking every value
//! against its allowed range and converting units (pounds to pence, weekly to
//! monthly costs, budgets to caseload places).
//!
//! Contract: a scenario that compiles is within the ranges the engine relies
//! on; one that does not is refused with the first problem found, as an
//! [`Invalid`](crate::scenario::Invalid) naming the dotted field and what was
//! expected. Sections are checked in a fixed order (top-level settings,
//! population, need, risk factors, household, assets, services, handoff,
//! interventions, shocks, risk score), so a scenario with several mistakes
//! always reports the same one first. One module per section; the range
//! checks they share are in `checks`.

pub(super) mod checks;
mod interventions;
mod need;
mod population;
mod services;
mod shocks;
mod sizes;

use crate::model::{Config, StartingHousehold};
use crate::scenario::schema::Scenario;
use checks::{R, bad, parse_start};

pub(super) use population::neighbourhood_names;

/// A scenario ready for the engine, and the calendar month it starts in.
pub(super) struct Compiled {
    pub config: Config,
    pub start: (i32, u32),
    /// The scenario with every size written per 1,000 turned into an amount
    /// for this place (what the money conventions and checks read).
    pub scenario: Scenario,
}

/// The longest horizon a scenario may ask for.
pub const MAX_YEARS: u32 = 30;
const MAX_MONTHS: u32 = MAX_YEARS * 12;
const MAX_BURN_IN: u32 = 240;

pub(super) fn compile(s: &Scenario, starting: Option<Vec<StartingHousehold>>) -> R<Compiled> {
    let (start, months) = horizon(s)?;
    let (population, age_bands) =
        population::population(&s.population, starting, parse_start(&s.start)?.0)?;
    let resolved = sizes::resolve(s, &sizes::Scale::of(&population))?;
    let s = &resolved;
    let need = need::need(&s.need)?;
    let risks = need::risks(&s.risk_factors)?;
    let household_stress = need::household_stress(&s.household)?;
    let assets = services::assets(&s.assets)?;
    let (events, episodes) = services::services(s)?;
    let handoff = services::handoff(&s.handoff)?;
    let interventions = interventions::interventions(s, &population.neighbourhoods)?;
    let shocks = shocks::shocks(&s.shocks)?;
    let provider_failures = shocks::provider_failures(&s.provider_failures, &episodes)?;
    let risk_score = need::risk_score(s.risk_score.as_ref())?;
    let mut config = Config {
        name: s.name.clone(),
        months,
        // Set below, by the rule if the scenario gives none.
        burn_in_months: 0,
        warm_start: s.warm_start,
        age_bands,
        population,
        need,
        risks,
        household_stress,
        assets,
        events,
        episodes,
        handoff,
        interventions,
        shocks,
        provider_failures,
        risk_score,
        stands_for: 1,
    };
    config.burn_in_months = s
        .burn_in_months
        .unwrap_or_else(|| config.steady_burn_in().min(MAX_BURN_IN));
    Ok(Compiled {
        config,
        start,
        scenario: resolved,
    })
}

/// The scenario's name, first month, and length in months; burn-in in range.
fn horizon(s: &Scenario) -> R<((i32, u32), u32)> {
    if s.name.trim().is_empty() {
        return bad("name", "expected the scenario's name, found empty text");
    }
    let start = parse_start(&s.start)?;
    if !(1..=MAX_YEARS).contains(&s.horizon_years) {
        return bad(
            "horizon_years",
            format!("expected 1 to {MAX_YEARS} years, found {}", s.horizon_years),
        );
    }
    if let Some(b) = s.burn_in_months.filter(|&b| b > MAX_BURN_IN) {
        return bad(
            "burn_in_months",
            format!("expected at most {MAX_BURN_IN} months, found {b}"),
        );
    }
    Ok((start, s.horizon_years * 12))
}
