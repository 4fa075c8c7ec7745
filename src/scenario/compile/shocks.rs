//! The `[shocks]` section: periods in which a risk factor's prevalence is
//! multiplied, such as a rise in living costs; and `[provider_failures]`,
//! periods in which an episode service loses a share of its places.
//!
//! Contract: `from_month` ≤ `to_month`, both within the longest horizon a
//! scenario may have (not this one's: a shorter `--years` run simply ends
//! first); the multiplier is in range; a failure names an episode service
//! and loses more than none and at most all of its places.

use std::collections::BTreeMap;

use super::MAX_MONTHS;
use super::checks::{R, bad, finite, multiplier, service_index};
use crate::model::{EpisodeService, ProviderFailure, Shock};
use crate::scenario::schema::{ProviderFailureIn, ShockIn};

/// The shocks in id order.
pub(super) fn shocks(list: &BTreeMap<String, ShockIn>) -> R<Vec<Shock>> {
    list.iter().map(|(id, sh)| shock(id, sh)).collect()
}

/// The provider failures in id order, each on one of `episodes`.
pub(super) fn provider_failures(
    list: &BTreeMap<String, ProviderFailureIn>,
    episodes: &[EpisodeService],
) -> R<Vec<ProviderFailure>> {
    let ids: Vec<&str> = episodes.iter().map(|e| e.id.as_str()).collect();
    list.iter()
        .map(|(id, f)| {
            let path = |field: &str| format!("provider_failures.{id}.{field}");
            months(&path, f.from_month, f.to_month)?;
            let service = service_index(path("service"), &ids, &f.service, "episode")?;
            let lost = finite(&path("places_lost"), f.places_lost.value)?;
            if !(lost > 0.0 && lost <= 1.0) {
                return bad(
                    path("places_lost"),
                    format!("expected a share of the places above 0 and at most 1, found {lost}"),
                );
            }
            Ok(ProviderFailure {
                name: f.name.clone(),
                service,
                from_month: f.from_month,
                to_month: f.to_month,
                places_lost: lost,
            })
        })
        .collect()
}

/// A period's months: `from_month` out of the horizon is named, else
/// `to_month` before it or past the horizon.
fn months(path: &dyn Fn(&str) -> String, from: u32, to: u32) -> R<()> {
    let at_fault = if !(1..=MAX_MONTHS).contains(&from) {
        Some("from_month")
    } else if !(from..=MAX_MONTHS).contains(&to) {
        Some("to_month")
    } else {
        None
    };
    match at_fault {
        Some(field) => bad(
            path(field),
            format!("expected 1 ≤ from_month ≤ to_month ≤ {MAX_MONTHS}, found {from} to {to}"),
        ),
        None => Ok(()),
    }
}

fn shock(id: &str, sh: &ShockIn) -> R<Shock> {
    let path = |f: &str| format!("shocks.{id}.{f}");
    months(&path, sh.from_month, sh.to_month)?;
    Ok(Shock {
        name: sh.name.clone(),
        from_month: sh.from_month,
        to_month: sh.to_month,
        factor: sh.factor,
        prevalence_multiplier: multiplier(
            &path("prevalence_multiplier"),
            sh.prevalence_multiplier.value,
        )?,
    })
}
