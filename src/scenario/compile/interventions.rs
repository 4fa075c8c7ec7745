//! The `[interventions]` section: what is commissioned, how it is delivered
//! (a caseload of residents or households, community assets, or in-house
//! places for an episode service), whom it reaches and what it changes.
//!
//! Contract: each intervention has a valid id whose random-number stream is
//! its own; it gives only the fields of its kind, and every field its kind
//! needs; budgets become monthly spend in pence by year (the last year
//! repeats); neighbourhoods, services and risk factors it names exist.

use super::checks::{
    R, WEEKS_PER_MONTH, bad, bands, cost, finite, multiplier, non_negative, pence, place_count,
    places, probability, service_index, transfer, valid_id,
};
use super::{MAX_MONTHS, MAX_YEARS};
use crate::model::{
    Delivery, Effect, EffectTarget, Intervention, MAX_INTERVENTIONS, Neighbourhood, Targeting, Unit,
};
use crate::rng::stream_of;
use crate::scenario::Invalid;
use crate::scenario::schema::{
    EffectIn, EffectOn, ExpandIn, InterventionIn, KindIn, NeighbourhoodsIn, Param, Scenario,
    TargetingIn,
};

/// Monthly spend in pence by scenario year, and how the money is delivered.
type Delivered = (Vec<i64>, Delivery);

/// The interventions in id order; `areas` are the population's neighbourhoods.
pub(super) fn interventions(s: &Scenario, areas: &[Neighbourhood]) -> R<Vec<Intervention>> {
    if s.interventions.len() > MAX_INTERVENTIONS {
        return bad(
            "interventions",
            format!("expected at most {MAX_INTERVENTIONS} interventions"),
        );
    }
    let mut out: Vec<Intervention> = Vec::new();
    for (id, x) in &s.interventions {
        let iv = intervention(s, areas, &out, id, x)?;
        out.push(iv);
    }
    Ok(out)
}

fn intervention(
    s: &Scenario,
    areas: &[Neighbourhood],
    earlier: &[Intervention],
    id: &str,
    x: &InterventionIn,
) -> R<Intervention> {
    let base = format!("interventions.{id}");
    valid_id(&base, id)?;
    own_stream(&base, id, earlier.iter().map(|iv| iv.id.as_str()))?;
    let start_month = start_month(&base, x)?;
    fields_fit_kind(&base, x)?;
    let (monthly_spend_by_year, delivery) = match x.kind {
        KindIn::Caseload => caseload(s, areas, &base, x, start_month)?,
        KindIn::Assets => assets(areas, &base, x)?,
        KindIn::Places => added_places(s, &base, x)?,
    };
    Ok(Intervention {
        id: id.to_string(),
        name: x.name.clone(),
        payer: x.payer,
        start_month,
        monthly_spend_by_year,
        delivery,
    })
}

/// Refuses an id whose random-number stream is an earlier intervention's.
/// Each intervention draws from the stream its id hashes to, so that adding
/// one never moves another's draws; two that shared a stream would give every
/// resident the same offer priority, engagement and dropout draws in both:
/// correlated where they should be independent, and silently.
fn own_stream<'a>(path: &str, id: &str, earlier: impl IntoIterator<Item = &'a str>) -> R<()> {
    let mine = stream_of(id);
    match earlier.into_iter().find(|other| stream_of(other) == mine) {
        Some(other) => bad(
            path,
            format!(
                "`{id}` would share its random-number stream with the intervention `{other}` (the two names hash alike); rename one of them"
            ),
        ),
        None => Ok(()),
    }
}

fn start_month(base: &str, x: &InterventionIn) -> R<u32> {
    let start_month = x.start_month.unwrap_or(1);
    // Checked against the longest horizon, not this one, so that a shorter
    // `--years` simply ends the run before a late start.
    if !(1..=MAX_MONTHS).contains(&start_month) {
        return bad(
            format!("{base}.start_month"),
            format!("expected a month from 1 to {MAX_MONTHS}, found {start_month}"),
        );
    }
    Ok(start_month)
}

/// Each optional field, whether it is given, and the kinds it applies to.
fn kinds_of_fields(x: &InterventionIn) -> [(bool, &'static str, &'static [KindIn]); 19] {
    use KindIn::{Assets, Caseload, Places};
    [
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
        (
            x.running_cost_per_place_week.is_some(),
            "running_cost_per_place_week",
            &[Places],
        ),
        (x.rent_per_week.is_some(), "rent_per_week", &[Places]),
        (x.rent_paid_by.is_some(), "rent_paid_by", &[Places]),
    ]
}

/// Fields that belong to other kinds are mistakes, not silently ignored.
fn fields_fit_kind(base: &str, x: &InterventionIn) -> R<()> {
    for (given, field, kinds) in kinds_of_fields(x) {
        if given && !kinds.contains(&x.kind) {
            let names: Vec<&str> = kinds
                .iter()
                .map(|k| match k {
                    KindIn::Caseload => "caseload",
                    KindIn::Assets => "assets",
                    KindIn::Places => "places",
                })
                .collect();
            return bad(
                format!("{base}.{field}"),
                format!("`{field}` applies only to kind = {}", names.join(" or ")),
            );
        }
    }
    Ok(())
}

/// The annual budget in £ by year; `[0]` when optional and not given.
fn budget(base: &str, x: &InterventionIn, required: bool) -> R<Vec<f64>> {
    let path = format!("{base}.annual_budget");
    match &x.annual_budget {
        Some(b) => {
            if b.value.is_empty() {
                return bad(path, "expected at least one year's budget");
            }
            for (i, v) in b.value.iter().enumerate() {
                cost(&format!("{path}[{i}]"), *v)?;
            }
            Ok(b.value.clone())
        }
        None if required => bad(
            path,
            "expected a budget in £ a year, by year (the last repeats)",
        ),
        None => Ok(vec![0.0]),
    }
}

/// Monthly spend in pence from an annual budget in £, by year.
fn monthly(budget: &[f64]) -> Vec<i64> {
    budget.iter().map(|v| pence(v / 12.0)).collect()
}

/// An optional value checked by `check`, or `default` when not given.
fn optional(
    path: &str,
    p: &Option<Param<f64>>,
    default: f64,
    check: impl Fn(&str, f64) -> R<f64>,
) -> R<f64> {
    match p {
        Some(p) => check(path, p.value),
        None => Ok(default),
    }
}

// Caseload: support for residents or households, one place each.

fn caseload(
    s: &Scenario,
    areas: &[Neighbourhood],
    base: &str,
    x: &InterventionIn,
    start_month: u32,
) -> R<Delivered> {
    let path = |f: &str| format!("{base}.{f}");
    let unit = unit_cost(base, x)?;
    let (spend, places) = spend_and_places(base, x, unit)?;
    let burn_in_places = burn_in_places(base, x, unit, &places)?;
    let targeting = targeting(areas, base, x)?;
    let support_months = support_months(base, x)?;
    if x.existing && start_month != 1 {
        return bad(
            path("start_month"),
            "an `existing` offer is already running, so it starts in month 1",
        );
    }
    let half_life_months = optional(
        &path("effect_half_life_months"),
        &x.effect_half_life_months,
        0.0,
        |p, v| non_negative(p, v, "a half-life in months"),
    )?;
    let effects = effects(s, base, &x.effects)?;
    let delivery = Delivery::Caseload {
        places_by_year: places,
        targeting,
        engagement: optional(&path("engagement"), &x.engagement, 1.0, probability)?,
        dropout_per_month: optional(
            &path("dropout_per_month"),
            &x.dropout_per_month,
            0.0,
            probability,
        )?,
        support_months,
        ramp_up_months: x.ramp_up_months.unwrap_or(0),
        half_life_months,
        effects,
        existing: x.existing,
        burn_in_places,
    };
    Ok((spend, delivery))
}

/// £ per case per month: more than nothing, since places are budget / cost.
fn unit_cost(base: &str, x: &InterventionIn) -> R<f64> {
    let path = format!("{base}.unit_cost_per_month");
    let Some(unit_cost) = &x.unit_cost_per_month else {
        return bad(
            path,
            "a caseload intervention needs `unit_cost_per_month` (£ per case per month)",
        );
    };
    let unit = cost(&path, unit_cost.value)?;
    if unit <= 0.0 {
        return bad(path, "expected a cost of more than £0 per case per month");
    }
    Ok(unit)
}

/// Monthly spend and places by year, from a caseload (spend follows) or a
/// budget (places follow, whole places only).
fn spend_and_places(base: &str, x: &InterventionIn, unit: f64) -> R<(Vec<i64>, Vec<u32>)> {
    let path = format!("{base}.caseload");
    match (&x.annual_budget, &x.caseload) {
        (Some(_), Some(_)) => bad(path, "give either `annual_budget` or `caseload`, not both"),
        (None, Some(c)) => {
            if c.value.is_empty() {
                return bad(path, "expected at least one year's caseload");
            }
            let cases = c
                .value
                .iter()
                .enumerate()
                .map(|(i, &k)| place_count(&format!("{path}[{i}]"), k))
                .collect::<R<Vec<u32>>>()?;
            Ok((
                cases.iter().map(|&k| pence(k as f64 * unit)).collect(),
                cases,
            ))
        }
        _ => {
            let b = budget(base, x, true)?;
            Ok((
                monthly(&b),
                b.iter().map(|v| (v / 12.0 / unit).floor() as u32).collect(),
            ))
        }
    }
}

/// Places during burn-in: an `existing` offer runs at its first year's size
/// unless given a burn-in budget; a new one does not run.
fn burn_in_places(base: &str, x: &InterventionIn, unit: f64, places: &[u32]) -> R<u32> {
    let path = format!("{base}.burn_in_budget");
    match (&x.burn_in_budget, x.existing) {
        (Some(b), true) => Ok((cost(&path, b.value)? / 12.0 / unit).floor() as u32),
        (None, true) => Ok(places[0]),
        (Some(_), false) => bad(path, "`burn_in_budget` applies only to `existing = true`"),
        (None, false) => Ok(0),
    }
}

fn support_months(base: &str, x: &InterventionIn) -> R<u16> {
    let path = format!("{base}.support_months");
    match x.support_months {
        Some(0) | None => bad(
            path,
            "a caseload intervention needs `support_months` of 1 or more",
        ),
        Some(m) if m > 600 => bad(path, format!("expected at most 600 months, found {m}")),
        Some(m) => Ok(m),
    }
}

// Targeting: who a caseload offer reaches.

fn targeting(areas: &[Neighbourhood], base: &str, x: &InterventionIn) -> R<Targeting> {
    let none = TargetingIn::default();
    let tg = x.targeting.as_ref().unwrap_or(&none);
    let tpath = |f: &str| format!("{base}.targeting.{f}");
    let targeting = Targeting {
        neighbourhoods: match &tg.neighbourhoods {
            Some(sel) => select(areas, &tpath("neighbourhoods"), sel)?,
            None => Vec::new(),
        },
        expansions: x
            .expand
            .iter()
            .enumerate()
            .map(|(i, e)| expansion(areas, &format!("{base}.expand[{i}]"), e))
            .collect::<R<_>>()?,
        age_bands: match &tg.age_bands {
            Some(b) => Some(bands(&tpath("age_bands"), b)?),
            None => None,
        },
        need_at_least: tg.need_at_least,
        with_children: tg.with_children,
        unit: tg.unit,
        risk_top_n: risk_top_n(&tpath("risk_top_n"), tg.risk_top_n)?,
        risk_top_share: risk_top_share(&tpath("risk_top_share"), &tg.risk_top_share)?,
    };
    if targeting.risk_top_n.is_some() && targeting.risk_top_share.is_some() {
        return bad(
            tpath("risk_top_n"),
            "give either `risk_top_n` or `risk_top_share`, not both",
        );
    }
    Ok(targeting)
}

/// Neighbourhoods added from a later year: (first month, indices).
fn expansion(areas: &[Neighbourhood], path: &str, e: &ExpandIn) -> R<(u32, Vec<usize>)> {
    if !(1..=MAX_YEARS).contains(&e.from_year) {
        return bad(
            format!("{path}.from_year"),
            format!(
                "expected a year from 1 to {MAX_YEARS}, found {}",
                e.from_year
            ),
        );
    }
    Ok((
        (e.from_year - 1) * 12 + 1,
        select(areas, &format!("{path}.neighbourhoods"), &e.neighbourhoods)?,
    ))
}

fn risk_top_n(path: &str, n: Option<u32>) -> R<Option<u32>> {
    if n == Some(0) {
        return bad(path, "expected 1 or more residents (0 would enrol nobody)");
    }
    Ok(n)
}

/// The top share of those eligible, from 0 to 1 like every share.
fn risk_top_share(path: &str, p: &Option<Param<f64>>) -> R<Option<f64>> {
    let Some(p) = p else {
        return Ok(None);
    };
    let v = finite(path, p.value)?;
    if !(v > 0.0 && v <= 1.0) {
        let hint = if v > 1.0 && v <= 100.0 {
            format!(" (for {v}% write {})", v / 100.0)
        } else {
            String::new()
        };
        return bad(
            path,
            format!("expected a share above 0 and up to 1, found {v}{hint}"),
        );
    }
    Ok(Some(v))
}

/// Indices of the neighbourhoods a selection names, in listed order.
fn select(areas: &[Neighbourhood], path: &str, sel: &NeighbourhoodsIn) -> R<Vec<usize>> {
    match sel {
        NeighbourhoodsIn::All => Ok((0..areas.len()).collect()),
        NeighbourhoodsIn::MostDeprived(k) => ranked(areas, path, true, *k),
        NeighbourhoodsIn::LeastDeprived(k) => ranked(areas, path, false, *k),
        NeighbourhoodsIn::Named(list) if list.is_empty() => {
            bad(path, "expected at least one neighbourhood (or \"all\")")
        }
        NeighbourhoodsIn::Named(list) => named(areas, path, list),
    }
}

/// The `k` most (or least) deprived neighbourhoods.
fn ranked(areas: &[Neighbourhood], path: &str, most: bool, k: u32) -> R<Vec<usize>> {
    let nn = areas.len();
    if k == 0 || k as usize > nn {
        return bad(path, format!("expected a count from 1 to {nn}, found {k}"));
    }
    let mut idx: Vec<usize> = (0..nn).collect();
    // Ties in decile are broken by the order neighbourhoods are listed.
    idx.sort_by_key(|&i| {
        if most {
            areas[i].decile as i32
        } else {
            -(areas[i].decile as i32)
        }
    });
    idx.truncate(k as usize);
    idx.sort_unstable();
    Ok(idx)
}

fn named(areas: &[Neighbourhood], path: &str, list: &[String]) -> R<Vec<usize>> {
    let names: Vec<&str> = areas.iter().map(|n| n.name.as_str()).collect();
    list.iter()
        .enumerate()
        .map(|(i, name)| {
            names.iter().position(|n| n == name).ok_or_else(|| Invalid {
                path: format!("{path}[{i}]"),
                message: format!(
                    "no neighbourhood is called \"{name}\"; the names are {}",
                    names.join(", ")
                ),
            })
        })
        .collect()
}

// Effects: what a caseload's support changes while it lasts.

fn effects(s: &Scenario, base: &str, list: &[EffectIn]) -> R<Vec<Effect>> {
    list.iter()
        .enumerate()
        .map(|(i, e)| effect(s, &format!("{base}.effects[{i}]"), e))
        .collect()
}

fn effect(s: &Scenario, ep: &str, e: &EffectIn) -> R<Effect> {
    let multiplier = multiplier(&format!("{ep}.multiplier"), e.multiplier.value)?;
    let target = effect_target(s, ep, e)?;
    if e.service.is_some()
        && !matches!(
            e.on,
            EffectOn::EventRate | EffectOn::EpisodeEntry | EffectOn::EpisodeDuration
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
    Ok(Effect { target, multiplier })
}

fn effect_target(s: &Scenario, ep: &str, e: &EffectIn) -> R<EffectTarget> {
    let events = || s.events.keys().map(String::as_str).collect::<Vec<_>>();
    let episodes = || s.episodes.keys().map(String::as_str).collect::<Vec<_>>();
    let service = |ids: Vec<&str>, kind: &str| effect_service(ep, e, &ids, kind);
    Ok(match e.on {
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
        EffectOn::EventRate => EffectTarget::EventRate(service(events(), "event")?),
        EffectOn::EpisodeEntry => EffectTarget::EpisodeEntry(service(episodes(), "episode")?),
        EffectOn::EpisodeDuration => EffectTarget::EpisodeDuration(service(episodes(), "episode")?),
    })
}

/// The index of the service an effect names, among the services of its kind.
fn effect_service(ep: &str, e: &EffectIn, ids: &[&str], kind: &str) -> R<usize> {
    let path = format!("{ep}.service");
    let Some(svc) = &e.service else {
        return bad(
            path,
            format!(
                "this effect needs `service`, the name of an {kind} service: {}",
                ids.join(", ")
            ),
        );
    };
    service_index(path, ids, svc, kind)
}

// Assets: community places funded in the targeted neighbourhoods.

fn assets(areas: &[Neighbourhood], base: &str, x: &InterventionIn) -> R<Delivered> {
    let b = budget(base, x, true)?;
    let path = format!("{base}.cost_per_place_per_year");
    let Some(per) = &x.cost_per_place_per_year else {
        return bad(
            path,
            "an assets intervention needs `cost_per_place_per_year` (£ to keep one resident connected for a year)",
        );
    };
    let per = cost(&path, per.value)?;
    if per < 1.0 {
        return bad(path, format!("expected £1 or more, found {per}"));
    }
    if let Some(tg) = &x.targeting {
        neighbourhoods_only(base, tg)?;
    }
    let neighbourhoods = match x.targeting.as_ref().and_then(|t| t.neighbourhoods.as_ref()) {
        Some(sel) => select(areas, &format!("{base}.targeting.neighbourhoods"), sel)?,
        None => (0..areas.len()).collect(),
    };
    let delivery = Delivery::Assets {
        neighbourhoods,
        places_by_year: b.iter().map(|v| v / per).collect(),
    };
    Ok((monthly(&b), delivery))
}

/// Assets serve whole neighbourhoods, so targeting by anything else is a
/// mistake, not silently ignored (and unchecked).
fn neighbourhoods_only(base: &str, tg: &TargetingIn) -> R<()> {
    let given = [
        (tg.age_bands.is_some(), "age_bands"),
        (tg.need_at_least.is_some(), "need_at_least"),
        (tg.with_children, "with_children"),
        (tg.unit != Unit::default(), "unit"),
        (tg.risk_top_n.is_some(), "risk_top_n"),
        (tg.risk_top_share.is_some(), "risk_top_share"),
    ];
    match given.iter().find(|(given, _)| *given) {
        Some((_, field)) => bad(
            format!("{base}.targeting.{field}"),
            format!(
                "`{field}` applies only to kind = caseload; assets are targeted by `neighbourhoods` only"
            ),
        ),
        None => Ok(()),
    }
}

// Places: in-house places added to an episode service, such as homes bought.

fn added_places(s: &Scenario, base: &str, x: &InterventionIn) -> R<Delivered> {
    let path = |f: &str| format!("{base}.{f}");
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
    let service = service_index(path("service"), &ids, svc, "episode")?;
    let places_by_year = places_held(base, x)?;
    let Some(capital) = &x.capital_cost_per_place else {
        return bad(
            path("capital_cost_per_place"),
            "a places intervention needs `capital_cost_per_place` in £ (0 if none)",
        );
    };
    let capital = cost(&path("capital_cost_per_place"), capital.value)?;
    let Some(running) = &x.running_cost_per_place_week else {
        return bad(
            path("running_cost_per_place_week"),
            "a places intervention needs `running_cost_per_place_week` in £: what each place held costs to run (management, repairs, insurance), occupied or not; an occupied place then costs the service nothing",
        );
    };
    let running = cost(&path("running_cost_per_place_week"), running.value)?;
    // Every place held is paid for, occupied or not, on top of any budget.
    let budget = budget(base, x, false)?;
    let years = budget.len().max(places_by_year.len());
    let at = |v: &[f64], y: usize| v[y.min(v.len() - 1)];
    let held: Vec<f64> = places_by_year.iter().map(|&p| p as f64).collect();
    let spend = (0..years)
        .map(|y| pence(at(&budget, y) / 12.0 + at(&held, y) * running * WEEKS_PER_MONTH))
        .collect();
    let rent = transfer(
        base,
        ("rent_per_week", x.rent_per_week.as_ref().map(|r| r.value)),
        ("rent_paid_by", x.rent_paid_by),
        x.payer,
        "the rent an occupied place earns",
    )?;
    let delivery = Delivery::Places {
        service,
        places_by_year,
        capital_cost_per_place_pence: pence(capital),
        rent,
    };
    Ok((spend, delivery))
}

/// Places held by year: they can only grow.
fn places_held(base: &str, x: &InterventionIn) -> R<Vec<u32>> {
    let path = format!("{base}.places");
    let Some(held) = &x.places else {
        return bad(
            path,
            "a places intervention needs `places`: in-house places added, by year (the last repeats)",
        );
    };
    if held.value.is_empty() {
        return bad(path, "expected at least one year's places");
    }
    for (i, v) in held.value.iter().enumerate() {
        places(&format!("{path}[{i}]"), *v)?;
        if i > 0 && *v < held.value[i - 1] {
            return bad(
                format!("{path}[{i}]"),
                "places held can only grow from year to year (selling them is not modelled)",
            );
        }
    }
    Ok(held.value.clone())
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    /// Two valid ids with one stream, found by brute force: a 32-bit hash
    /// repeats within some 10⁵ names (the birthday bound).
    fn colliding_ids() -> (String, String) {
        let mut seen = HashMap::new();
        (0u32..)
            .find_map(|n| {
                let id = format!("iv{n}");
                seen.insert(stream_of(&id), id.clone())
                    .map(|first| (first, id))
            })
            .expect("a 32-bit hash repeats")
    }

    #[test]
    fn an_id_sharing_an_earlier_ones_stream_is_refused() {
        let (first, second) = colliding_ids();
        assert_ne!(first, second);
        valid_id("first", &first).unwrap();
        valid_id("second", &second).unwrap();
        let err = own_stream(
            "interventions.second",
            &second,
            ["early_help", first.as_str()],
        )
        .unwrap_err();
        assert_eq!(err.path, "interventions.second");
        assert!(
            err.message.contains(&format!("`{second}`"))
                && err.message.contains(&format!("`{first}`"))
                && err.message.contains("rename one of them"),
            "{}",
            err.message
        );
        // Distinct streams, and an intervention with none before it, pass.
        own_stream("interventions.hubs", "hubs", ["early_help", "fund"]).unwrap();
        own_stream("interventions.hubs", "hubs", []).unwrap();
    }
}
