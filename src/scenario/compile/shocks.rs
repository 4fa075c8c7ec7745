//! The `[shocks]` section: periods in which a risk factor's prevalence is
//! multiplied, such as a rise in living costs.
//!
//! Contract: `from_month` ≤ `to_month`, both within the longest horizon a
//! scenario may have (not this one's: a shorter `--years` run simply ends
//! first); the multiplier is in range.

use std::collections::BTreeMap;

use super::MAX_MONTHS;
use super::checks::{R, bad, multiplier};
use crate::model::Shock;
use crate::scenario::schema::ShockIn;

/// The shocks in id order.
pub(super) fn shocks(list: &BTreeMap<String, ShockIn>) -> R<Vec<Shock>> {
    list.iter().map(|(id, sh)| shock(id, sh)).collect()
}

fn shock(id: &str, sh: &ShockIn) -> R<Shock> {
    let path = |f: &str| format!("shocks.{id}.{f}");
    // The month at fault is named: `from_month` out of the horizon, else
    // `to_month` before it or past the horizon.
    let at_fault = if !(1..=MAX_MONTHS).contains(&sh.from_month) {
        Some("from_month")
    } else if !(sh.from_month..=MAX_MONTHS).contains(&sh.to_month) {
        Some("to_month")
    } else {
        None
    };
    if let Some(field) = at_fault {
        return bad(
            path(field),
            format!(
                "expected 1 ≤ from_month ≤ to_month ≤ {MAX_MONTHS}, found {} to {}",
                sh.from_month, sh.to_month
            ),
        );
    }
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
