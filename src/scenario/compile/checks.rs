//! Range checks shared by every section of a scenario, and by the money
//! conventions.
//!
//! Contract: each check returns the value unchanged when it is in range, or an
//! [`Invalid`] naming the dotted path it was given and, in words for people
//! writing scenarios, what was expected and what was found. None converts
//! units except [`pence`], which rounds pounds to the nearest penny.

use crate::model::{AGE_BANDS, Payer, RISK_FACTORS};
use crate::scenario::Invalid;
use crate::scenario::schema::{AgeBandName, RiskMultIn};

pub(crate) type R<T> = Result<T, Invalid>;

/// Weeks in an average month: weekly amounts become monthly ones.
pub(crate) const WEEKS_PER_MONTH: f64 = 365.25 / 7.0 / 12.0;

pub(crate) fn bad<T>(path: impl Into<String>, message: impl Into<String>) -> R<T> {
    Err(Invalid {
        path: path.into(),
        message: message.into(),
    })
}

pub(crate) fn finite(path: &str, v: f64) -> R<f64> {
    if v.is_finite() {
        Ok(v)
    } else {
        bad(path, format!("expected a finite number, found {v}"))
    }
}

pub(crate) fn non_negative(path: &str, v: f64, what: &str) -> R<f64> {
    if finite(path, v)? < 0.0 {
        return bad(path, format!("expected {what} of 0 or more, found {v}"));
    }
    Ok(v)
}

pub(crate) fn probability(path: &str, v: f64) -> R<f64> {
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

pub(crate) fn cost(path: &str, v: f64) -> R<f64> {
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
pub(crate) fn places(path: &str, v: u32) -> R<u32> {
    if v > 10_000_000 {
        return bad(path, format!("expected at most 10,000,000, found {v}"));
    }
    Ok(v)
}

/// As [`places`], for a count held as a number (a size resolved for the
/// place, so already whole): 0 to ten million.
pub(crate) fn place_count(path: &str, v: f64) -> R<u32> {
    if !(0.0..=10_000_000.0).contains(&finite(path, v)?) {
        return bad(path, format!("expected 0 to 10,000,000, found {v}"));
    }
    Ok(v.round() as u32)
}

pub(crate) fn hazard(path: &str, v: f64) -> R<f64> {
    non_negative(path, v, "a rate per month")?;
    if v > 50.0 {
        return bad(
            path,
            format!("expected a rate per month of at most 50, found {v}"),
        );
    }
    Ok(v)
}

pub(crate) fn multiplier(path: &str, v: f64) -> R<f64> {
    non_negative(path, v, "a multiplier")?;
    if v > 1000.0 {
        return bad(
            path,
            format!("expected a multiplier of at most 1000, found {v}"),
        );
    }
    Ok(v)
}

/// `check` on each element, named `path[i]`.
pub(crate) fn each<const N: usize>(
    path: &str,
    v: [f64; N],
    check: fn(&str, f64) -> R<f64>,
) -> R<[f64; N]> {
    for (i, x) in v.iter().enumerate() {
        check(&format!("{path}[{i}]"), *x)?;
    }
    Ok(v)
}

pub(crate) fn shares(path: &str, v: &[f64], len: std::ops::RangeInclusive<usize>) -> R<Vec<f64>> {
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
pub(crate) fn pence(pounds: f64) -> i64 {
    (pounds * 100.0).round() as i64
}

const BAND_NAMES: [AgeBandName; 4] = [
    AgeBandName::Children,
    AgeBandName::WorkingAge,
    AgeBandName::Older,
    AgeBandName::Oldest,
];

pub(crate) fn bands(path: &str, names: &[AgeBandName]) -> R<[bool; AGE_BANDS]> {
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

/// Multipliers by risk factor; a factor not given multiplies by 1.
pub(crate) fn risk_mults(path: &str, m: &Option<RiskMultIn>) -> R<[f64; RISK_FACTORS]> {
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

/// A month as `"YYYY-MM"`: the year and the month.
pub(crate) fn parse_start(s: &str) -> R<(i32, u32)> {
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

/// A service's or intervention's id: it names metrics in the output files,
/// so lower-case letters, digits and underscores only.
pub(crate) fn valid_id(path: &str, id: &str) -> R<()> {
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

/// A weekly amount one payer pays another, given as a pair of fields
/// (`amount` in £ a week beside `payer`, both or neither): as the paying
/// payer and pence a month. `base` is the table's path, `to` the payer
/// receiving it, `what` the amount in words for the errors.
pub(crate) fn transfer(
    base: &str,
    (amount_field, amount): (&str, Option<f64>),
    (payer_field, payer): (&str, Option<Payer>),
    to: Payer,
    what: &str,
) -> R<Option<(Payer, i64)>> {
    let path = |f: &str| format!("{base}.{f}");
    match (amount, payer) {
        (None, None) => Ok(None),
        (Some(v), Some(from)) => {
            if from == to {
                return bad(
                    path(payer_field),
                    format!(
                        "{what} goes to `{}` from another payer, such as \"dwp\" for housing benefit",
                        to.name()
                    ),
                );
            }
            let v = cost(&path(amount_field), v)?;
            Ok(Some((from, pence(v * WEEKS_PER_MONTH))))
        }
        (Some(_), None) => bad(
            path(payer_field),
            format!(
                "`{amount_field}` needs `{payer_field}`: the payer {what} comes from, such as \"dwp\" for housing benefit"
            ),
        ),
        (None, Some(_)) => bad(
            path(amount_field),
            format!("`{payer_field}` needs `{amount_field}`: {what} in £ a week"),
        ),
    }
}

/// The index of service `svc` among `ids` (a `kind` of service), or an
/// error listing them.
pub(crate) fn service_index(path: String, ids: &[&str], svc: &str, kind: &str) -> R<usize> {
    ids.iter().position(|n| *n == svc).ok_or_else(|| Invalid {
        path,
        message: format!(
            "no {kind} service is called \"{svc}\"; the {kind} services are {}",
            ids.join(", ")
        ),
    })
}
