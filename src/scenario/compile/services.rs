//! The `[assets]`, `[events]`, `[episodes]` and `[handoff]` sections: the
//! community assets and the reactive services whose demand and cost the
//! model counts.
//!
//! Contract: service ids are valid and unique across events and episodes,
//! and there are at most [`MAX_SERVICES`] in all; costs become pence (weekly
//! episode costs become monthly ones); episode durations are drawn from a
//! distribution whose parameters are in range (a spread for a lognormal
//! only); a spot premium is at least 1.

use std::collections::BTreeMap;

use super::checks::{
    R, WEEKS_PER_MONTH, bad, bands, cost, each, finite, hazard, multiplier, non_negative, pence,
    place_count, probability, risk_mults, transfer, valid_id,
};
use crate::model::{AssetSpec, Duration, EpisodeService, EventService, HandoffSpec, MAX_SERVICES};
use crate::scenario::schema::{
    AssetsIn, DistributionName, DurationIn, EpisodeIn, EventIn, HandoffIn, Scenario,
};

pub(super) fn assets(a: &AssetsIn) -> R<AssetSpec> {
    Ok(AssetSpec {
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
    })
}

/// The event services, then the episode services, each in id order.
pub(super) fn services(s: &Scenario) -> R<(Vec<EventService>, Vec<EpisodeService>)> {
    if s.events.len() + s.episodes.len() > MAX_SERVICES {
        return bad(
            "events",
            format!("expected at most {MAX_SERVICES} event and episode services in all"),
        );
    }
    let events = s
        .events
        .iter()
        .map(|(id, e)| event(id, e))
        .collect::<R<_>>()?;
    let episodes = s
        .episodes
        .iter()
        .map(|(id, e)| episode(id, e, &s.events))
        .collect::<R<_>>()?;
    Ok((events, episodes))
}

fn event(id: &str, e: &EventIn) -> R<EventService> {
    let path = |f: &str| format!("events.{id}.{f}");
    valid_id(&format!("events.{id}"), id)?;
    Ok(EventService {
        id: id.to_string(),
        name: e.name.clone(),
        payer: e.payer,
        unit_cost_pence: pence(cost(&path("unit_cost"), e.unit_cost.value)?),
        rate_per_month: each(&path("rate_per_month"), e.rate_per_month.value, hazard)?,
        age_multiplier: match &e.age_multiplier {
            Some(m) => each(&path("age_multiplier"), m.value, multiplier)?,
            None => [1.0; 4],
        },
        risk_multiplier: risk_mults(&path("risk_multiplier"), &e.risk_multiplier)?,
    })
}

fn episode(id: &str, e: &EpisodeIn, events: &BTreeMap<String, EventIn>) -> R<EpisodeService> {
    let path = |f: &str| format!("episodes.{id}.{f}");
    valid_id(&format!("episodes.{id}"), id)?;
    // Both kinds report as `service.{id}` in the outputs, so ids are shared.
    if events.contains_key(id) {
        return bad(
            format!("episodes.{id}"),
            format!("`{id}` is already the name of an event service"),
        );
    }
    let duration = duration(&path("duration"), &e.duration)?;
    let weekly = cost(&path("weekly_cost"), e.weekly_cost.value)?;
    let premium = spot_premium(
        &path("spot_premium"),
        e.spot_premium.as_ref().map(|p| p.value),
    )?;
    let monthly = weekly * WEEKS_PER_MONTH;
    if let Some(r) = &e.recovered_per_week
        && r.value > weekly
    {
        return bad(
            path("recovered_per_week"),
            format!(
                "expected at most the weekly cost (£{weekly}), found £{}",
                r.value
            ),
        );
    }
    let recovered = transfer(
        &format!("episodes.{id}"),
        (
            "recovered_per_week",
            e.recovered_per_week.as_ref().map(|r| r.value),
        ),
        ("recovered_from", e.recovered_from),
        e.payer,
        "the part of each occupied place's cost recovered",
    )?;
    Ok(EpisodeService {
        id: id.to_string(),
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
        recovered,
        capacity: place_count(&path("capacity"), e.capacity.value)?,
        overflow: e.overflow,
    })
}

/// An episode's length; `path` is the `duration` table's.
fn duration(path: &str, d: &DurationIn) -> R<Duration> {
    let mean_path = format!("{path}.mean_months");
    let mean = finite(&mean_path, d.mean_months.value)?;
    if !(1.0..=1200.0).contains(&mean) {
        return bad(
            mean_path,
            format!("expected 1 to 1,200 months, found {mean}"),
        );
    }
    // Only a lognormal has a spread; one given to another is a mistake, not
    // silently ignored (and unchecked).
    if d.sd_months.is_some() && d.distribution != DistributionName::Lognormal {
        return bad(
            format!("{path}.sd_months"),
            "`sd_months` applies only to distribution = \"lognormal\"",
        );
    }
    Ok(match d.distribution {
        DistributionName::Exponential => Duration::Exponential { mean_months: mean },
        DistributionName::Fixed => Duration::Fixed {
            months: mean.round().min(u16::MAX as f64 - 1.0) as u16,
        },
        DistributionName::Lognormal => lognormal(path, d, mean)?,
    })
}

fn lognormal(path: &str, d: &DurationIn, mean: f64) -> R<Duration> {
    let sd_path = format!("{path}.sd_months");
    let Some(sd) = &d.sd_months else {
        return bad(sd_path, "a lognormal duration needs `sd_months`");
    };
    let sd = finite(&sd_path, sd.value)?;
    if sd <= 0.0 || sd > 100.0 * mean {
        return bad(
            sd_path,
            format!("expected more than 0 and at most 100 times the mean, found {sd}"),
        );
    }
    Ok(Duration::LogNormal {
        mean_months: mean,
        sd_months: sd,
    })
}

/// The price of a spot-purchased place as a multiple of an in-house one; 1
/// when not given.
fn spot_premium(path: &str, v: Option<f64>) -> R<f64> {
    let Some(v) = v else {
        return Ok(1.0);
    };
    let v = multiplier(path, v)?;
    if v < 1.0 {
        return bad(
            path,
            format!("expected a premium of 1 or more (1.5 = 50% dearer), found {v}"),
        );
    }
    Ok(v)
}

pub(super) fn handoff(h: &HandoffIn) -> R<HandoffSpec> {
    if h.window_months == 0 {
        return bad("handoff.window_months", "expected at least 1 month");
    }
    Ok(HandoffSpec {
        window_months: h.window_months,
        cost_per_extra_service_pence: pence(cost(
            "handoff.cost_per_extra_service",
            h.cost_per_extra_service.value,
        )?),
        payer: h.payer,
        integration: match &h.integration {
            Some(p) => probability("handoff.integration", p.value)?,
            None => 0.0,
        },
    })
}
