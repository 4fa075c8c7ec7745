//! Guard rails: values a scenario may hold but that are rarely what was meant.
//! Each is a warning naming the field, what it does as written and what was
//! likely meant; `--strict` makes them errors. Values that can never be right
//! are errors already (`compile`).

use super::Invalid;
use super::schema::{InterventionIn, PER_KEYS, SIZES, Scenario};
use crate::format::count;
use crate::model::Config;

/// Effect multipliers outside this range are rare in evaluated programmes
/// (a fifth of the rate to five times it); outside it, a percentage or a
/// zero was usually meant.
pub const EFFECT_RANGE: (f64, f64) = (0.2, 5.0);

/// Every warning for a scenario that has compiled. A by-year list is judged
/// against the horizon of the file that writes it (`years_seen_by`); a
/// start month against the scenario's own horizon, unless the run set one
/// (`own_horizon` false: `--years`).
pub(super) fn warnings(
    s: &Scenario,
    config: &Config,
    own_horizon: bool,
    years_seen_by: &dyn Fn(&str) -> Option<u32>,
) -> Vec<Invalid> {
    let mut out = Vec::new();
    let mut warn = |path: String, message: String| out.push(Invalid { path, message });
    let years = |field: &str| years_seen_by(field).map_or(usize::MAX, |y| y as usize);
    for (id, iv) in &s.interventions {
        let at = |field: &str| format!("interventions.{id}.{field}");
        for (k, e) in iv.effects.iter().enumerate() {
            let m = e.multiplier.value;
            let path = at(&format!("effects[{k}].multiplier"));
            if m == 0.0 {
                warn(
                    path,
                    "a multiplier of 0 removes the rate entirely for everyone supported; for no \
                     effect write 1, for a 30% reduction 0.7"
                        .into(),
                );
            } else if m < EFFECT_RANGE.0 || m > EFFECT_RANGE.1 {
                warn(
                    path,
                    format!(
                        "a multiplier of {m} makes the rate {m} times what it would be, outside \
                         the usual {} to {}; multipliers are not percentages (a 60% reduction is \
                         0.4, a 60% increase 1.6)",
                        EFFECT_RANGE.0, EFFECT_RANGE.1
                    ),
                );
            }
        }
        budget_warnings(iv, &at, &mut warn);
        for (field, len) in [
            (
                "annual_budget",
                iv.annual_budget.as_ref().map(|p| p.value.len()),
            ),
            ("caseload", iv.caseload.as_ref().map(|p| p.value.len())),
            ("places", iv.places.as_ref().map(|p| p.value.len())),
        ] {
            let seen = years(&at(field));
            if let Some(len) = len.filter(|&l| l > seen) {
                warn(at(field), past_horizon(len, seen));
            }
        }
        if let Some(start) = iv.start_month.filter(|&m| own_horizon && m > config.months) {
            warn(
                at("start_month"),
                format!(
                    "starts in month {start}, after the {}-month horizon ends: it never runs",
                    config.months
                ),
            );
        }
    }
    if let Some(econ) = &s.economics {
        for (payer, b) in &econ.budgets {
            for (field, p) in [
                ("envelope", &b.envelope),
                ("savings_target", &b.savings_target),
            ] {
                let path = format!("economics.budgets.{payer}.{field}");
                let seen = years(&path);
                if let Some(len) = p.as_ref().map(|p| p.value.len()).filter(|&l| l > seen) {
                    warn(path, past_horizon(len, seen));
                }
            }
        }
    }
    for (path, message) in trend_too_fast(config) {
        warn(path, message);
    }
    for (path, message) in unit_costs_out_of_range(s) {
        warn(path, message);
    }
    out
}

/// How many times above or below the national unit cost the bundled
/// borough uses for a service its cost may be before it is warned about:
/// places differ, but rarely tenfold.
pub(super) const UNIT_COST_FACTOR: f64 = 10.0;

/// The bundled borough's unit costs, each service's national figure with
/// its source: (field path, £, what one unit is, source), read once from
/// the bundled baseline so the figure has one home.
fn national_unit_costs() -> &'static [(String, f64, &'static str, String)] {
    static COSTS: std::sync::OnceLock<Vec<(String, f64, &'static str, String)>> =
        std::sync::OnceLock::new();
    COSTS.get_or_init(|| {
        let table: toml::Table = include_str!("../../scenarios/baseline.toml")
            .parse()
            .expect("the bundled baseline is TOML");
        let mut out = Vec::new();
        for (kind, field, unit) in [
            ("events", "unit_cost", "a contact"),
            ("episodes", "weekly_cost", "a week"),
        ] {
            let services = table.get(kind).and_then(|t| t.as_table());
            for (id, service) in services.into_iter().flatten() {
                let param = service.get(field);
                let value = param.and_then(|p| {
                    p.get("value")
                        .or(Some(p))
                        .and_then(|v| v.as_float().or(v.as_integer().map(|i| i as f64)))
                });
                let source = param
                    .and_then(|p| p.get("source"))
                    .and_then(|s| s.as_str())
                    .unwrap_or("the bundled baseline");
                if let Some(v) = value.filter(|v| *v > 0.0) {
                    out.push((format!("{kind}.{id}.{field}"), v, unit, source.to_string()));
                }
            }
        }
        out
    })
}

/// A service's unit cost more than [`UNIT_COST_FACTOR`] times above or
/// below the national figure the bundled borough uses for the same
/// service: usually a monthly, yearly or whole-stay cost written as one
/// contact's or one week's, or pounds written as thousands.
fn unit_costs_out_of_range(s: &Scenario) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let given = s
        .events
        .iter()
        .map(|(id, e)| (format!("events.{id}.unit_cost"), e.unit_cost.value))
        .chain(
            s.episodes
                .iter()
                .map(|(id, e)| (format!("episodes.{id}.weekly_cost"), e.weekly_cost.value)),
        );
    for (path, value) in given {
        let Some((_, national, unit, source)) =
            national_unit_costs().iter().find(|(p, ..)| *p == path)
        else {
            continue;
        };
        let ratio = value / national;
        if value > 0.0 && !(1.0 / UNIT_COST_FACTOR..=UNIT_COST_FACTOR).contains(&ratio) {
            let against = if ratio > 1.0 {
                format!("{} times", count(ratio))
            } else {
                format!("{:.0}% of", (100.0 * ratio).max(1.0))
            };
            out.push((
                path,
                format!(
                    "£{} {unit} is {against} the £{} the bundled borough uses for this service \
                     ({source}), outside the usual £{} to £{}; a cost for a month, a year or a \
                     whole stay written as {unit}'s, or pounds as thousands?",
                    count(value),
                    count(*national),
                    count(national / UNIT_COST_FACTOR),
                    count(national * UNIT_COST_FACTOR),
                ),
            ));
        }
    }
    out
}

/// A declared trend whose children or adults fall in a year by more than
/// residents leave: the place can only shrink as fast as they do.
fn trend_too_fast(config: &Config) -> Vec<(String, String)> {
    use crate::model::demography::{ADULT_AGE, Demography, growth_by_year, starting_ages};
    let growth = growth_by_year(config);
    if growth.is_empty() {
        return Vec::new();
    }
    let start = starting_ages(config);
    let leave = Demography::new(config).chance_of_leaving(config);
    let adult = ADULT_AGE as usize;
    let rate = |ages: std::ops::Range<usize>| {
        let n: f64 = start[ages.clone()].iter().sum();
        let gone: f64 = ages.map(|a| start[a] * leave[a]).sum();
        if n > 0.0 { gone / n } else { 0.0 }
    };
    let leaving = [rate(0..adult), rate(adult..start.len())];
    let mut out = Vec::new();
    for (y, w) in growth.windows(2).enumerate() {
        for (k, who) in ["children", "adults"].into_iter().enumerate() {
            let fall = 1.0 - w[1][k] / w[0][k];
            if fall > leaving[k] {
                out.push((
                    format!("population.trend.years[{}]", y + 1),
                    format!(
                        "declares {:.1}% fewer {who} than a year before, but only {:.1}% of {who} leave in a year: the place will shrink more slowly than declared",
                        100.0 * fall,
                        100.0 * leaving[k]
                    ),
                ));
            }
        }
    }
    out
}

fn past_horizon(len: usize, years: usize) -> String {
    format!(
        "gives {len} years but the horizon is {years}: years {} to {len} are never used",
        years + 1
    )
}

/// A budget too small to fund one case (or one place) in a year it is
/// spent: usually thousands of pounds written as pounds.
fn budget_warnings(
    iv: &InterventionIn,
    at: &dyn Fn(&str) -> String,
    warn: &mut dyn FnMut(String, String),
) {
    let Some(budget) = &iv.annual_budget else {
        return;
    };
    let (unit, what) = match (&iv.unit_cost_per_month, &iv.cost_per_place_per_year) {
        (Some(c), _) => (c.value * 12.0, "a case for a year"),
        (None, Some(c)) => (c.value, "a place for a year"),
        _ => return,
    };
    if unit <= 0.0 {
        return;
    }
    for (year, &pounds) in budget.value.iter().enumerate() {
        if pounds > 0.0 && pounds < unit {
            warn(
                at("annual_budget"),
                format!(
                    "year {}'s budget of £{} funds {:.2} of {what} (£{}); money is written in \
                     pounds, e.g. annual_budget = [2_000_000] for £2m a year",
                    year + 1,
                    count(pounds),
                    pounds / unit,
                    count(unit)
                ),
            );
            return;
        }
    }
}

/// Sizes written as amounts in a file made for a different number of
/// residents than this place has: a place set up by extending another
/// would otherwise inherit its capacities, budgets and envelopes unscaled.
/// `tables` are the files' tables, the scenario's own first.
pub(super) fn inherited_sizes(
    merged: &toml::Table,
    tables: &[toml::Table],
    residents: u32,
) -> Vec<Invalid> {
    let residents_seen_by = |j: usize| {
        tables[j..].iter().find_map(|t| {
            t.get("population")?
                .get("residents")?
                .as_integer()
                .map(|r| r as f64)
        })
    };
    let mut out = Vec::new();
    for path in size_paths(merged) {
        let Some(j) = tables
            .iter()
            .position(|t| super::assumptions::defines(t, &path))
        else {
            continue;
        };
        let written = value_at(&tables[j], &path);
        let per_1000 = written
            .and_then(|v| v.as_table())
            .is_some_and(|t| PER_KEYS.iter().any(|(k, _)| t.contains_key(*k)));
        let Some(seen) = residents_seen_by(j).filter(|&r| r != residents as f64 && r > 0.0) else {
            continue;
        };
        if per_1000 {
            continue;
        }
        let field = path.join(".");
        out.push(Invalid {
            path: field,
            message: format!(
                "written as an amount for {} residents, but this place has {}; write it per \
                 1,000 residents, children or households (e.g. `{{ per_1000_residents = … }}`) \
                 so it scales with the place, or set this place's own",
                count(seen),
                count(residents as f64)
            ),
        });
    }
    out
}

/// Every size in the merged scenario, as a path of keys.
fn size_paths(merged: &toml::Table) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for pattern in SIZES {
        let parts: Vec<&str> = pattern.split('.').collect();
        let mut partial: Vec<(Vec<String>, &toml::Value)> = Vec::new();
        let root = toml::Value::Table(merged.clone());
        partial.push((Vec::new(), &root));
        for part in &parts {
            let mut next = Vec::new();
            for (path, v) in &partial {
                let Some(t) = v.as_table() else { continue };
                for (k, inner) in t {
                    if *part == "*" || part == k {
                        let mut p = path.clone();
                        p.push(k.clone());
                        next.push((p, inner));
                    }
                }
            }
            partial = next;
        }
        out.extend(partial.into_iter().map(|(p, _)| p));
    }
    out
}

fn value_at<'a>(table: &'a toml::Table, path: &[String]) -> Option<&'a toml::Value> {
    let (first, rest) = path.split_first()?;
    rest.iter()
        .try_fold(table.get(first)?, |v, k| v.as_table()?.get(k))
}
