//! Validation: turns a parsed scenario into a [`Config`], checking every value
//! against its allowed range and converting units (pounds to pence, weekly to
//! monthly costs, budgets to caseload places).

use super::Invalid;
use super::schema::*;
use crate::model::*;

pub struct Compiled {
    pub config: Config,
    pub start: (i32, u32),
}

pub(super) type R<T> = Result<T, Invalid>;

/// The longest horizon a scenario may ask for.
pub const MAX_YEARS: u32 = 30;
const MAX_MONTHS: u32 = MAX_YEARS * 12;

pub(super) fn bad<T>(path: impl Into<String>, message: impl Into<String>) -> R<T> {
    Err(Invalid {
        path: path.into(),
        message: message.into(),
    })
}

pub(super) fn finite(path: &str, v: f64) -> R<f64> {
    if v.is_finite() {
        Ok(v)
    } else {
        bad(path, format!("expected a finite number, found {v}"))
    }
}

fn non_negative(path: &str, v: f64, what: &str) -> R<f64> {
    if finite(path, v)? < 0.0 {
        return bad(path, format!("expected {what} of 0 or more, found {v}"));
    }
    Ok(v)
}

pub(super) fn probability(path: &str, v: f64) -> R<f64> {
    if !(0.0..=1.0).contains(&finite(path, v)?) {
        return bad(
            path,
            format!("expected a probability from 0 to 1, found {v}"),
        );
    }
    Ok(v)
}

/// The largest amount of money any one value may hold: keeps every total,
/// in pence, far inside the range of a 64-bit integer.
const MAX_POUNDS: f64 = 1e12;

pub(super) fn cost(path: &str, v: f64) -> R<f64> {
    non_negative(path, v, "a cost in £")?;
    if v > MAX_POUNDS {
        return bad(
            path,
            format!("expected at most £1,000,000,000,000, found {v}"),
        );
    }
    Ok(v)
}

/// Places, caseloads and capacities: at most ten million.
fn places(path: &str, v: u32) -> R<u32> {
    if v > 10_000_000 {
        return bad(path, format!("expected at most 10,000,000, found {v}"));
    }
    Ok(v)
}

fn hazard(path: &str, v: f64) -> R<f64> {
    non_negative(path, v, "a rate per month")?;
    if v > 50.0 {
        return bad(
            path,
            format!("expected a rate per month of at most 50, found {v}"),
        );
    }
    Ok(v)
}

fn multiplier(path: &str, v: f64) -> R<f64> {
    non_negative(path, v, "a multiplier")?;
    if v > 1000.0 {
        return bad(
            path,
            format!("expected a multiplier of at most 1000, found {v}"),
        );
    }
    Ok(v)
}

fn each<const N: usize>(path: &str, v: [f64; N], check: fn(&str, f64) -> R<f64>) -> R<[f64; N]> {
    for (i, x) in v.iter().enumerate() {
        check(&format!("{path}[{i}]"), *x)?;
    }
    Ok(v)
}

fn shares(path: &str, v: &[f64], len: std::ops::RangeInclusive<usize>) -> R<Vec<f64>> {
    if !len.contains(&v.len()) {
        return bad(
            path,
            format!(
                "expected {} to {} shares, found {}",
                len.start(),
                len.end(),
                v.len()
            ),
        );
    }
    for (i, x) in v.iter().enumerate() {
        non_negative(&format!("{path}[{i}]"), *x, "a share")?;
    }
    if v.iter().sum::<f64>() <= 0.0 {
        return bad(path, "expected shares that add up to more than 0");
    }
    Ok(v.to_vec())
}

/// Pence from pounds, rounded to the nearest penny.
fn pence(pounds: f64) -> i64 {
    (pounds * 100.0).round() as i64
}

/// Weeks in an average month.
const WEEKS_PER_MONTH: f64 = 365.25 / 7.0 / 12.0;

const BAND_NAMES: [AgeBandName; 4] = [
    AgeBandName::Children,
    AgeBandName::WorkingAge,
    AgeBandName::Older,
    AgeBandName::Oldest,
];

fn bands(path: &str, names: &[AgeBandName]) -> R<[bool; AGE_BANDS]> {
    if names.is_empty() {
        return bad(
            path,
            "expected at least one of \"children\", \"working_age\", \"older\", \"oldest\"",
        );
    }
    let mut out = [false; AGE_BANDS];
    for n in names {
        out[BAND_NAMES
            .iter()
            .position(|b| b == n)
            .expect("all names listed")] = true;
    }
    Ok(out)
}

fn risk_mults(path: &str, m: &Option<RiskMultIn>) -> R<[f64; RISK_FACTORS]> {
    let mut out = [1.0; RISK_FACTORS];
    if let Some(m) = m {
        for (f, (name, v)) in m.by_factor().iter().enumerate() {
            if let Some(v) = v {
                out[f] = multiplier(&format!("{path}.{name}"), *v)?;
            }
        }
    }
    Ok(out)
}

fn parse_start(s: &str) -> R<(i32, u32)> {
    let err = || {
        bad(
            "start",
            format!("expected a month as \"YYYY-MM\" (for example \"2026-04\"), found \"{s}\""),
        )
    };
    let Some((y, m)) = s.split_once('-') else {
        return err();
    };
    let (Ok(y), Ok(m)) = (y.parse::<i32>(), m.parse::<u32>()) else {
        return err();
    };
    if !(1900..=2200).contains(&y) || !(1..=12).contains(&m) || s.len() != 7 {
        return err();
    }
    Ok((y, m))
}

fn valid_id(path: &str, id: &str) -> R<()> {
    if id.is_empty()
        || !id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    {
        return bad(
            path,
            format!("`{id}` is not a valid name: use lower-case letters, digits and underscores"),
        );
    }
    Ok(())
}

/// Neighbourhood names as the scenario gives them, or N01, N02, … by default.
pub fn neighbourhood_names(p: &PopulationIn) -> Vec<String> {
    match &p.neighbourhood_names {
        Some(n) => n.clone(),
        None => (1..=p.neighbourhoods as usize)
            .map(|i| format!("N{i:02}"))
            .collect(),
    }
}

pub fn compile(s: &Scenario, starting: Option<Vec<StartingHousehold>>) -> R<Compiled> {
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
    if s.burn_in_months > 240 {
        return bad(
            "burn_in_months",
            format!("expected at most 240 months, found {}", s.burn_in_months),
        );
    }
    let months = s.horizon_years * 12;

    // Population.
    let p = &s.population;
    if !(1..=50_000_000).contains(&p.residents) {
        return bad(
            "population.residents",
            format!("expected 1 to 50,000,000 residents, found {}", p.residents),
        );
    }
    if !(1..=1000).contains(&p.neighbourhoods) || p.neighbourhoods > p.residents {
        return bad(
            "population.neighbourhoods",
            format!(
                "expected 1 to 1,000 neighbourhoods and no more than residents, found {}",
                p.neighbourhoods
            ),
        );
    }
    let nn = p.neighbourhoods as usize;
    let deciles: Vec<u8> = match &p.deprivation_deciles {
        Some(d) => {
            if d.len() != nn {
                return bad(
                    "population.deprivation_deciles",
                    format!(
                        "expected one decile per neighbourhood ({nn}), found {}",
                        d.len()
                    ),
                );
            }
            for (i, x) in d.iter().enumerate() {
                if !(1..=10).contains(x) {
                    return bad(
                        format!("population.deprivation_deciles[{i}]"),
                        format!(
                            "expected a deprivation decile from 1 (most deprived) to 10, found {x}"
                        ),
                    );
                }
            }
            d.clone()
        }
        // Spread evenly from most to least deprived.
        None => (0..nn).map(|i| (1 + i * 10 / nn) as u8).collect(),
    };
    let names: Vec<String> = match &p.neighbourhood_names {
        Some(n) => {
            if n.len() != nn {
                return bad(
                    "population.neighbourhood_names",
                    format!(
                        "expected one name per neighbourhood ({nn}), found {}",
                        n.len()
                    ),
                );
            }
            for (i, a) in n.iter().enumerate() {
                if n[..i].contains(a) {
                    return bad(
                        format!("population.neighbourhood_names[{i}]"),
                        format!("the name \"{a}\" is used twice"),
                    );
                }
            }
            n.clone()
        }
        None => neighbourhood_names(p),
    };
    if let Some(list) = &starting {
        let rows: usize = list.iter().map(|h| h.members.len()).sum();
        if rows != p.residents as usize {
            return bad(
                "population.residents",
                format!(
                    "the starting state has {rows} residents, so `residents` must be {rows}, not {}",
                    p.residents
                ),
            );
        }
    }
    let cuts = p.age_band_cuts;
    if !(cuts[0] >= 1 && cuts[0] < cuts[1] && cuts[1] < cuts[2] && cuts[2] <= MAX_AGE) {
        return bad(
            "population.age_band_cuts",
            format!("expected three increasing ages from 1 to {MAX_AGE}, found {cuts:?}"),
        );
    }
    let edges = &p.reference_age_edges;
    let age_shares = shares(
        "population.reference_age_shares",
        &p.reference_age_shares.value,
        1..=20,
    )?;
    if edges.len() != age_shares.len() + 1
        || edges[0] < 18
        || edges.windows(2).any(|w| w[0] >= w[1])
        || *edges.last().expect("non-empty") > MAX_AGE + 1
    {
        return bad(
            "population.reference_age_edges",
            format!(
                "expected {} increasing ages from 18 to {}, one more than the shares",
                age_shares.len() + 1,
                MAX_AGE + 1
            ),
        );
    }
    if p.max_parent_age < 18 {
        return bad("population.max_parent_age", "expected an age of 18 or more");
    }
    let population = PopulationSpec {
        residents: p.residents,
        starting,
        neighbourhoods: names
            .into_iter()
            .zip(&deciles)
            .map(|(name, &decile)| Neighbourhood { name, decile })
            .collect(),
        household_size_shares: shares(
            "population.household_size_shares",
            &p.household_size_shares.value,
            1..=6,
        )?,
        reference_age_edges: edges.clone(),
        reference_age_shares: age_shares,
        partner_share: probability("population.partner_share", p.partner_share.value)?,
        max_parent_age: p.max_parent_age,
        mortality: each(
            "population.mortality_per_year",
            p.mortality_per_year.value,
            probability,
        )?,
        mortality_need_multiplier: each(
            "population.mortality_need_multiplier",
            p.mortality_need_multiplier.value,
            multiplier,
        )?,
        move_out_per_year: probability("population.move_out_per_year", p.move_out_per_year.value)?,
        birth_share: probability("population.birth_share", p.birth_share.value)?,
        turnover: p.turnover,
    };

    // Need.
    let need = NeedSpec {
        escalation: each(
            "need.escalation_per_month",
            s.need.escalation_per_month.value,
            hazard,
        )?,
        recovery: each(
            "need.recovery_per_month",
            s.need.recovery_per_month.value,
            hazard,
        )?,
        age_escalation_multiplier: each(
            "need.age_escalation_multiplier",
            s.need.age_escalation_multiplier.value,
            multiplier,
        )?,
        utility: {
            let u = s.need.utility.value;
            for (i, x) in u.iter().enumerate() {
                if !(-1.0..=1.0).contains(&finite(&format!("need.utility[{i}]"), *x)?) {
                    return bad(
                        format!("need.utility[{i}]"),
                        format!("expected a utility weight from -1 to 1, found {x}"),
                    );
                }
            }
            u
        },
    };
    let rf = &s.risk_factors;
    let risk = |name: &str, r: &RiskIn| -> R<RiskSpec> {
        let path = |f: &str| format!("risk_factors.{name}.{f}");
        let prev = |f: &str, v: f64| -> R<f64> {
            probability(&path(f), v)?;
            if v > 0.95 {
                return bad(
                    path(f),
                    format!("expected a prevalence of at most 0.95, found {v}"),
                );
            }
            Ok(v)
        };
        let persistence = finite(&path("persistence_months"), r.persistence_months.value)?;
        if persistence < 1.0 {
            return bad(
                path("persistence_months"),
                format!("expected at least 1 month, found {persistence}"),
            );
        }
        Ok(RiskSpec {
            prevalence_most_deprived: prev(
                "prevalence_most_deprived",
                r.prevalence_most_deprived.value,
            )?,
            prevalence_least_deprived: prev(
                "prevalence_least_deprived",
                r.prevalence_least_deprived.value,
            )?,
            escalation_multiplier: multiplier(
                &path("escalation_multiplier"),
                r.escalation_multiplier.value,
            )?,
            recovery_multiplier: multiplier(
                &path("recovery_multiplier"),
                r.recovery_multiplier.value,
            )?,
            persistence_months: persistence,
        })
    };
    let risks = [
        risk("low_income", &rf.low_income)?,
        risk("insecure_housing", &rf.insecure_housing)?,
        risk("isolation", &rf.isolation)?,
        risk("long_term_condition", &rf.long_term_condition)?,
        risk("family_stress", &rf.family_stress)?,
    ];
    let household_stress = each(
        "household.crisis_stress_multiplier",
        s.household.crisis_stress_multiplier.value,
        multiplier,
    )?;
    let a = &s.assets;
    let assets = AssetSpec {
        base_places_per_1000: non_negative(
            "assets.base_places_per_1000",
            a.base_places_per_1000.value,
            "places",
        )?,
        connect_per_month: hazard("assets.connect_per_month", a.connect_per_month.value)?,
        isolated_uptake_multiplier: multiplier(
            "assets.isolated_uptake_multiplier",
            a.isolated_uptake_multiplier.value,
        )?,
        disconnect_per_month: probability(
            "assets.disconnect_per_month",
            a.disconnect_per_month.value,
        )?,
        escalation_multiplier: multiplier(
            "assets.escalation_multiplier",
            a.escalation_multiplier.value,
        )?,
        growth_per_month: probability("assets.growth_per_month", a.growth_per_month.value)?,
        decline_per_month: probability("assets.decline_per_month", a.decline_per_month.value)?,
    };

    // Services.
    if s.events.len() + s.episodes.len() > MAX_SERVICES {
        return bad(
            "events",
            format!("expected at most {MAX_SERVICES} event and episode services in all"),
        );
    }
    let mut events = Vec::new();
    for (id, e) in &s.events {
        let path = |f: &str| format!("events.{id}.{f}");
        valid_id(&format!("events.{id}"), id)?;
        events.push(EventService {
            id: id.clone(),
            name: e.name.clone(),
            payer: e.payer,
            unit_cost_pence: pence(cost(&path("unit_cost"), e.unit_cost.value)?),
            rate_per_month: each(&path("rate_per_month"), e.rate_per_month.value, hazard)?,
            age_multiplier: match &e.age_multiplier {
                Some(m) => each(&path("age_multiplier"), m.value, multiplier)?,
                None => [1.0; 4],
            },
            risk_multiplier: risk_mults(&path("risk_multiplier"), &e.risk_multiplier)?,
        });
    }
    let mut episodes = Vec::new();
    for (id, e) in &s.episodes {
        let path = |f: &str| format!("episodes.{id}.{f}");
        valid_id(&format!("episodes.{id}"), id)?;
        if s.events.contains_key(id) {
            return bad(
                format!("episodes.{id}"),
                format!("`{id}` is already the name of an event service"),
            );
        }
        let mean = finite(&path("duration.mean_months"), e.duration.mean_months.value)?;
        if !(1.0..=1200.0).contains(&mean) {
            return bad(
                path("duration.mean_months"),
                format!("expected 1 to 1,200 months, found {mean}"),
            );
        }
        let duration = match e.duration.distribution {
            DistributionName::Exponential => Duration::Exponential { mean_months: mean },
            DistributionName::Fixed => Duration::Fixed {
                months: mean.round().min(u16::MAX as f64 - 1.0) as u16,
            },
            DistributionName::Lognormal => {
                let Some(sd) = &e.duration.sd_months else {
                    return bad(
                        path("duration.sd_months"),
                        "a lognormal duration needs `sd_months`",
                    );
                };
                let sd = finite(&path("duration.sd_months"), sd.value)?;
                if sd <= 0.0 || sd > 100.0 * mean {
                    return bad(
                        path("duration.sd_months"),
                        format!("expected more than 0 and at most 100 times the mean, found {sd}"),
                    );
                }
                Duration::LogNormal {
                    mean_months: mean,
                    sd_months: sd,
                }
            }
        };
        let weekly = cost(&path("weekly_cost"), e.weekly_cost.value)?;
        let premium = match &e.spot_premium {
            Some(p) => {
                let v = multiplier(&path("spot_premium"), p.value)?;
                if v < 1.0 {
                    return bad(
                        path("spot_premium"),
                        format!("expected a premium of 1 or more (1.5 = 50% dearer), found {v}"),
                    );
                }
                v
            }
            None => 1.0,
        };
        let monthly = weekly * WEEKS_PER_MONTH;
        episodes.push(EpisodeService {
            id: id.clone(),
            name: e.name.clone(),
            payer: e.payer,
            unit: e.unit,
            eligible_bands: bands(&path("eligible_age_bands"), &e.eligible_age_bands)?,
            entry_per_month: each(&path("entry_per_month"), e.entry_per_month.value, hazard)?,
            household_multiplier: match &e.household_multiplier {
                Some(m) => each(&path("household_multiplier"), m.value, multiplier)?,
                None => [1.0; 4],
            },
            risk_multiplier: risk_mults(&path("risk_multiplier"), &e.risk_multiplier)?,
            duration,
            monthly_cost_pence: pence(monthly),
            spot_monthly_cost_pence: pence(monthly * premium),
            capacity: places(&path("capacity"), e.capacity.value)?,
            overflow: e.overflow,
        });
    }
    if s.handoff.window_months == 0 {
        return bad("handoff.window_months", "expected at least 1 month");
    }
    let handoff = HandoffSpec {
        window_months: s.handoff.window_months,
        cost_per_extra_service_pence: pence(cost(
            "handoff.cost_per_extra_service",
            s.handoff.cost_per_extra_service.value,
        )?),
        payer: s.handoff.payer,
        integration: match &s.handoff.integration {
            Some(p) => probability("handoff.integration", p.value)?,
            None => 0.0,
        },
    };

    let neighbourhood_names: Vec<&str> = population
        .neighbourhoods
        .iter()
        .map(|n| n.name.as_str())
        .collect();
    let select = |path: &str, sel: &NeighbourhoodsIn| -> R<Vec<usize>> {
        let ranked = |most: bool, k: u32| -> R<Vec<usize>> {
            if k == 0 || k as usize > nn {
                return bad(path, format!("expected a count from 1 to {nn}, found {k}"));
            }
            let mut idx: Vec<usize> = (0..nn).collect();
            // Ties in decile are broken by the order neighbourhoods are listed.
            idx.sort_by_key(|&i| {
                if most {
                    deciles[i] as i32
                } else {
                    -(deciles[i] as i32)
                }
            });
            idx.truncate(k as usize);
            idx.sort_unstable();
            Ok(idx)
        };
        match sel {
            NeighbourhoodsIn::All => Ok((0..nn).collect()),
            NeighbourhoodsIn::MostDeprived(k) => ranked(true, *k),
            NeighbourhoodsIn::LeastDeprived(k) => ranked(false, *k),
            NeighbourhoodsIn::Named(list) if list.is_empty() => {
                bad(path, "expected at least one neighbourhood (or \"all\")")
            }
            NeighbourhoodsIn::Named(list) => list
                .iter()
                .enumerate()
                .map(|(i, name)| {
                    neighbourhood_names
                        .iter()
                        .position(|n| n == name)
                        .ok_or_else(|| Invalid {
                            path: format!("{path}[{i}]"),
                            message: format!(
                                "no neighbourhood is called \"{name}\"; the names are {}",
                                neighbourhood_names.join(", ")
                            ),
                        })
                })
                .collect(),
        }
    };

    // Interventions.
    if s.interventions.len() > MAX_INTERVENTIONS {
        return bad(
            "interventions",
            format!("expected at most {MAX_INTERVENTIONS} interventions"),
        );
    }
    let mut interventions = Vec::new();
    for (id, x) in &s.interventions {
        let base = format!("interventions.{id}");
        let path = |f: &str| format!("{base}.{f}");
        valid_id(&base, id)?;
        let start_month = x.start_month.unwrap_or(1);
        // Checked against the longest horizon, not this one, so that a shorter
        // `--years` simply ends the run before a late start.
        if !(1..=MAX_MONTHS).contains(&start_month) {
            return bad(
                path("start_month"),
                format!("expected a month from 1 to {MAX_MONTHS}, found {start_month}"),
            );
        }
        // Fields that belong to other kinds are mistakes, not silently ignored:
        // each field with the kinds it applies to, checked in one place.
        use KindIn::{Assets, Caseload, Places};
        let fields: [(bool, &str, &[KindIn]); 16] = [
            (x.caseload.is_some(), "caseload", &[Caseload]),
            (
                x.unit_cost_per_month.is_some(),
                "unit_cost_per_month",
                &[Caseload],
            ),
            (!x.expand.is_empty(), "expand", &[Caseload]),
            (x.engagement.is_some(), "engagement", &[Caseload]),
            (
                x.dropout_per_month.is_some(),
                "dropout_per_month",
                &[Caseload],
            ),
            (x.support_months.is_some(), "support_months", &[Caseload]),
            (x.ramp_up_months.is_some(), "ramp_up_months", &[Caseload]),
            (
                x.effect_half_life_months.is_some(),
                "effect_half_life_months",
                &[Caseload],
            ),
            (!x.effects.is_empty(), "effects", &[Caseload]),
            (x.existing, "existing", &[Caseload]),
            (x.burn_in_budget.is_some(), "burn_in_budget", &[Caseload]),
            (x.targeting.is_some(), "targeting", &[Caseload, Assets]),
            (
                x.cost_per_place_per_year.is_some(),
                "cost_per_place_per_year",
                &[Assets],
            ),
            (x.service.is_some(), "service", &[Places]),
            (x.places.is_some(), "places", &[Places]),
            (
                x.capital_cost_per_place.is_some(),
                "capital_cost_per_place",
                &[Places],
            ),
        ];
        for (given, field, kinds) in fields {
            if given && !kinds.contains(&x.kind) {
                let names: Vec<&str> = kinds
                    .iter()
                    .map(|k| match k {
                        Caseload => "caseload",
                        Assets => "assets",
                        Places => "places",
                    })
                    .collect();
                return bad(
                    path(field),
                    format!("`{field}` applies only to kind = {}", names.join(" or ")),
                );
            }
        }
        let budget = |required: bool| -> R<Vec<f64>> {
            match &x.annual_budget {
                Some(b) => {
                    if b.value.is_empty() {
                        return bad(path("annual_budget"), "expected at least one year's budget");
                    }
                    for (i, v) in b.value.iter().enumerate() {
                        cost(&format!("{}[{i}]", path("annual_budget")), *v)?;
                    }
                    Ok(b.value.clone())
                }
                None if required => bad(
                    path("annual_budget"),
                    "expected a budget in £ a year, by year (the last repeats)",
                ),
                None => Ok(vec![0.0]),
            }
        };
        let (monthly_spend_by_year, delivery) = match x.kind {
            KindIn::Caseload => {
                let Some(unit_cost) = &x.unit_cost_per_month else {
                    return bad(
                        path("unit_cost_per_month"),
                        "a caseload intervention needs `unit_cost_per_month` (£ per case per month)",
                    );
                };
                let unit = cost(&path("unit_cost_per_month"), unit_cost.value)?;
                if unit <= 0.0 {
                    return bad(
                        path("unit_cost_per_month"),
                        "expected a cost of more than £0 per case per month",
                    );
                }
                let (spend, places): (Vec<i64>, Vec<u32>) = match (&x.annual_budget, &x.caseload) {
                    (Some(_), Some(_)) => {
                        return bad(
                            path("caseload"),
                            "give either `annual_budget` or `caseload`, not both",
                        );
                    }
                    (None, Some(c)) => {
                        if c.value.is_empty() {
                            return bad(path("caseload"), "expected at least one year's caseload");
                        }
                        for (i, k) in c.value.iter().enumerate() {
                            places(&format!("{}[{i}]", path("caseload")), *k)?;
                        }
                        (
                            c.value.iter().map(|&k| pence(k as f64 * unit)).collect(),
                            c.value.clone(),
                        )
                    }
                    _ => {
                        let b = budget(true)?;
                        (
                            b.iter().map(|v| pence(v / 12.0)).collect(),
                            b.iter().map(|v| (v / 12.0 / unit).floor() as u32).collect(),
                        )
                    }
                };
                let burn_in_places = match (&x.burn_in_budget, x.existing) {
                    (Some(b), true) => {
                        (cost(&path("burn_in_budget"), b.value)? / 12.0 / unit).floor() as u32
                    }
                    (None, true) => places[0],
                    (Some(_), false) => {
                        return bad(
                            path("burn_in_budget"),
                            "`burn_in_budget` applies only to `existing = true`",
                        );
                    }
                    (None, false) => 0,
                };
                let tg_in = x.targeting.clone().unwrap_or_default();
                let tpath = |f: &str| format!("{base}.targeting.{f}");
                let targeting = Targeting {
                    neighbourhoods: match &tg_in.neighbourhoods {
                        Some(sel) => select(&tpath("neighbourhoods"), sel)?,
                        None => Vec::new(),
                    },
                    expansions: x
                        .expand
                        .iter()
                        .enumerate()
                        .map(|(i, e)| {
                            let p = format!("{base}.expand[{i}]");
                            if !(1..=MAX_YEARS).contains(&e.from_year) {
                                return bad(
                                    format!("{p}.from_year"),
                                    format!(
                                        "expected a year from 1 to {MAX_YEARS}, found {}",
                                        e.from_year
                                    ),
                                );
                            }
                            Ok((
                                (e.from_year - 1) * 12 + 1,
                                select(&format!("{p}.neighbourhoods"), &e.neighbourhoods)?,
                            ))
                        })
                        .collect::<R<_>>()?,
                    age_bands: match &tg_in.age_bands {
                        Some(b) => Some(bands(&tpath("age_bands"), b)?),
                        None => None,
                    },
                    need_at_least: tg_in.need_at_least,
                    with_children: tg_in.with_children,
                    unit: tg_in.unit,
                    risk_top_n: match tg_in.risk_top_n {
                        Some(0) => {
                            return bad(
                                tpath("risk_top_n"),
                                "expected 1 or more residents (0 would enrol nobody)",
                            );
                        }
                        other => other,
                    },
                    risk_top_share: match &tg_in.risk_top_percent {
                        Some(p) => {
                            let v = finite(&tpath("risk_top_percent"), p.value)?;
                            if !(v > 0.0 && v <= 100.0) {
                                return bad(
                                    tpath("risk_top_percent"),
                                    format!(
                                        "expected a percentage above 0 and up to 100, found {v}"
                                    ),
                                );
                            }
                            Some(v / 100.0)
                        }
                        None => None,
                    },
                };
                if targeting.risk_top_n.is_some() && targeting.risk_top_share.is_some() {
                    return bad(
                        tpath("risk_top_n"),
                        "give either `risk_top_n` or `risk_top_percent`, not both",
                    );
                }
                let support_months = match x.support_months {
                    Some(0) | None => {
                        return bad(
                            path("support_months"),
                            "a caseload intervention needs `support_months` of 1 or more",
                        );
                    }
                    Some(m) if m > 600 => {
                        return bad(
                            path("support_months"),
                            format!("expected at most 600 months, found {m}"),
                        );
                    }
                    Some(m) => m,
                };
                if x.existing && start_month != 1 {
                    return bad(
                        path("start_month"),
                        "an `existing` offer is already running, so it starts in month 1",
                    );
                }
                let half_life = match &x.effect_half_life_months {
                    Some(h) => non_negative(
                        &path("effect_half_life_months"),
                        h.value,
                        "a half-life in months",
                    )?,
                    None => 0.0,
                };
                let mut effects = Vec::new();
                for (i, e) in x.effects.iter().enumerate() {
                    let ep = format!("{base}.effects[{i}]");
                    let m = multiplier(&format!("{ep}.multiplier"), e.multiplier.value)?;
                    let find = |list: Vec<&str>, kind: &str| -> R<usize> {
                        let Some(svc) = &e.service else {
                            return bad(
                                format!("{ep}.service"),
                                format!(
                                    "this effect needs `service`, the name of an {kind} service: {}",
                                    list.join(", ")
                                ),
                            );
                        };
                        list.iter().position(|n| n == svc).ok_or_else(|| Invalid {
                            path: format!("{ep}.service"),
                            message: format!(
                                "no {kind} service is called \"{svc}\"; the {kind} services are {}",
                                list.join(", ")
                            ),
                        })
                    };
                    let event_ids = || s.events.keys().map(String::as_str).collect::<Vec<_>>();
                    let episode_ids = || s.episodes.keys().map(String::as_str).collect::<Vec<_>>();
                    let target = match e.on {
                        EffectOn::Escalation => EffectTarget::Escalation,
                        EffectOn::Recovery => EffectTarget::Recovery,
                        EffectOn::HandoffCost => EffectTarget::HandoffCost,
                        EffectOn::RiskFactor => match e.factor {
                            Some(f) => EffectTarget::RiskFactor(f),
                            None => {
                                return bad(
                                    format!("{ep}.factor"),
                                    "this effect needs `factor`: low_income, insecure_housing, isolation, long_term_condition or family_stress",
                                );
                            }
                        },
                        EffectOn::EventRate => EffectTarget::EventRate(find(event_ids(), "event")?),
                        EffectOn::EpisodeEntry => {
                            EffectTarget::EpisodeEntry(find(episode_ids(), "episode")?)
                        }
                        EffectOn::EpisodeDuration => {
                            EffectTarget::EpisodeDuration(find(episode_ids(), "episode")?)
                        }
                    };
                    if e.service.is_some()
                        && !matches!(
                            e.on,
                            EffectOn::EventRate
                                | EffectOn::EpisodeEntry
                                | EffectOn::EpisodeDuration
                        )
                    {
                        return bad(
                            format!("{ep}.service"),
                            "`service` applies only to effects on event_rate, episode_entry or episode_duration",
                        );
                    }
                    if e.factor.is_some() && e.on != EffectOn::RiskFactor {
                        return bad(
                            format!("{ep}.factor"),
                            "`factor` applies only to effects on risk_factor",
                        );
                    }
                    effects.push(Effect {
                        target,
                        multiplier: m,
                    });
                }
                (
                    spend,
                    Delivery::Caseload {
                        places_by_year: places,
                        targeting,
                        engagement: match &x.engagement {
                            Some(p) => probability(&path("engagement"), p.value)?,
                            None => 1.0,
                        },
                        dropout_per_month: match &x.dropout_per_month {
                            Some(p) => probability(&path("dropout_per_month"), p.value)?,
                            None => 0.0,
                        },
                        support_months,
                        ramp_up_months: x.ramp_up_months.unwrap_or(0),
                        half_life_months: half_life,
                        effects,
                        existing: x.existing,
                        burn_in_places,
                    },
                )
            }
            KindIn::Assets => {
                let b = budget(true)?;
                let Some(per) = &x.cost_per_place_per_year else {
                    return bad(
                        path("cost_per_place_per_year"),
                        "an assets intervention needs `cost_per_place_per_year` (£ to keep one resident connected for a year)",
                    );
                };
                let per = cost(&path("cost_per_place_per_year"), per.value)?;
                if per < 1.0 {
                    return bad(
                        path("cost_per_place_per_year"),
                        format!("expected £1 or more, found {per}"),
                    );
                }
                let neighbourhoods =
                    match x.targeting.as_ref().and_then(|t| t.neighbourhoods.as_ref()) {
                        Some(sel) => select(&format!("{base}.targeting.neighbourhoods"), sel)?,
                        None => (0..nn).collect(),
                    };
                (
                    b.iter().map(|v| pence(v / 12.0)).collect(),
                    Delivery::Assets {
                        neighbourhoods,
                        places_by_year: b.iter().map(|v| v / per).collect(),
                    },
                )
            }
            KindIn::Places => {
                let ids: Vec<&str> = s.episodes.keys().map(String::as_str).collect();
                let Some(svc) = &x.service else {
                    return bad(
                        path("service"),
                        format!(
                            "a places intervention needs `service`, one of the episode services: {}",
                            ids.join(", ")
                        ),
                    );
                };
                let service = ids.iter().position(|n| n == svc).ok_or_else(|| Invalid {
                    path: path("service"),
                    message: format!(
                        "no episode service is called \"{svc}\"; the episode services are {}",
                        ids.join(", ")
                    ),
                })?;
                let Some(places) = &x.places else {
                    return bad(
                        path("places"),
                        "a places intervention needs `places`: in-house places added, by year (the last repeats)",
                    );
                };
                if places.value.is_empty() {
                    return bad(path("places"), "expected at least one year's places");
                }
                for (i, v) in places.value.iter().enumerate() {
                    self::places(&format!("{}[{i}]", path("places")), *v)?;
                    if i > 0 && *v < places.value[i - 1] {
                        return bad(
                            format!("{}[{i}]", path("places")),
                            "places held can only grow from year to year (selling them is not modelled)",
                        );
                    }
                }
                let Some(capital) = &x.capital_cost_per_place else {
                    return bad(
                        path("capital_cost_per_place"),
                        "a places intervention needs `capital_cost_per_place` in £ (0 if none)",
                    );
                };
                (
                    budget(false)?.iter().map(|v| pence(v / 12.0)).collect(),
                    Delivery::Places {
                        service,
                        places_by_year: places.value.clone(),
                        capital_cost_per_place_pence: pence(cost(
                            &path("capital_cost_per_place"),
                            capital.value,
                        )?),
                    },
                )
            }
        };
        interventions.push(Intervention {
            id: id.clone(),
            name: x.name.clone(),
            payer: x.payer,
            start_month,
            monthly_spend_by_year,
            delivery,
        });
    }

    let mut shocks = Vec::new();
    for (id, sh) in &s.shocks {
        let path = |f: &str| format!("shocks.{id}.{f}");
        if sh.from_month < 1 || sh.to_month < sh.from_month || sh.to_month > MAX_MONTHS {
            return bad(
                path("to_month"),
                format!(
                    "expected 1 ≤ from_month ≤ to_month ≤ {MAX_MONTHS}, found {} to {}",
                    sh.from_month, sh.to_month
                ),
            );
        }
        shocks.push(Shock {
            name: sh.name.clone(),
            from_month: sh.from_month,
            to_month: sh.to_month,
            factor: sh.factor,
            prevalence_multiplier: multiplier(
                &path("prevalence_multiplier"),
                sh.prevalence_multiplier.value,
            )?,
        });
    }
    let risk_score = match &s.risk_score {
        Some(r) => {
            for (i, w) in r.need_weights.iter().chain(&r.factor_weights).enumerate() {
                if *w > 100 {
                    return bad(
                        "risk_score",
                        format!("weight {i} is {w}; expected whole numbers from 0 to 100"),
                    );
                }
            }
            RiskScore {
                need_weights: r.need_weights,
                factor_weights: r.factor_weights,
            }
        }
        None => RiskScore {
            need_weights: [0, 1, 3, 6],
            factor_weights: [1; RISK_FACTORS],
        },
    };

    Ok(Compiled {
        config: Config {
            name: s.name.clone(),
            months,
            burn_in_months: s.burn_in_months,
            age_bands: AgeBands::new(cuts),
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
            risk_score,
        },
        start,
    })
}
