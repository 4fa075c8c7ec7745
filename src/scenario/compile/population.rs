//! The `[population]` section: residents, neighbourhoods, age bands,
//! turnover, and the starting state when a scenario gives one.
//!
//! Contract: every neighbourhood has a unique name and a deprivation decile
//! from 1 to 10 (spread evenly when not given); the age-band cuts increase;
//! the reference ages and shares match one to one; and a starting state holds
//! exactly `residents` people.

use super::checks::{R, bad, each, multiplier, probability, shares};
use crate::model::trend::Trend;
use crate::model::{AgeBands, MAX_AGE, Neighbourhood, PopulationSpec, StartingHousehold};
use crate::scenario::schema::PopulationIn;

/// The population to synthesise (or read) and its age bands.
pub(super) fn population(
    p: &PopulationIn,
    starting: Option<Vec<StartingHousehold>>,
    start_year: i32,
) -> R<(PopulationSpec, AgeBands)> {
    counts(p)?;
    let deciles = deciles(p)?;
    let names = names(p)?;
    starting_fits(p, starting.as_deref())?;
    let quotas = quotas(p, starting.as_deref())?;
    let cuts = age_band_cuts(p)?;
    let age_shares = reference_ages(p)?;
    if p.max_parent_age < 18 {
        return bad("population.max_parent_age", "expected an age of 18 or more");
    }
    let spec = PopulationSpec {
        residents: p.residents,
        starting,
        neighbourhoods: names
            .into_iter()
            .zip(&deciles)
            .zip(quotas)
            .map(|((name, &decile), residents)| Neighbourhood {
                name,
                decile,
                residents,
            })
            .collect(),
        household_size_shares: shares(
            "population.household_size_shares",
            &p.household_size_shares.value,
            1..=6,
        )?,
        reference_age_edges: p.reference_age_edges.clone(),
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
        turnover: p.turnover,
        trend: trend(p, start_year)?,
    };
    Ok((spec, AgeBands::new(cuts)))
}

/// The declared trend: bands from age 0 upwards, one row a year from the
/// scenario's start year, every count positive.
fn trend(p: &PopulationIn, start_year: i32) -> R<Option<Trend>> {
    let Some(t) = &p.trend else {
        return Ok(None);
    };
    let bands = &t.age_bands;
    if bands.first() != Some(&0)
        || bands.windows(2).any(|w| w[0] >= w[1])
        || bands.iter().any(|&a| a > MAX_AGE)
    {
        return bad(
            "population.trend.age_bands",
            format!(
                "expected the first age of each band, from 0 and increasing (for example [0, 18, 65, 85]), found {bands:?}"
            ),
        );
    }
    if t.years.is_empty() {
        return bad(
            "population.trend.years",
            "expected one row a year, from the scenario's start year: the year, then the residents in each band",
        );
    }
    let mut residents = Vec::with_capacity(t.years.len());
    for (i, row) in t.years.iter().enumerate() {
        let field = format!("population.trend.years[{i}]");
        let year = start_year + i as i32;
        if row.len() != bands.len() + 1 {
            return bad(
                field,
                format!(
                    "expected the year and then {} residents counts (one per age band), found {} numbers",
                    bands.len(),
                    row.len()
                ),
            );
        }
        if row[0] != year as f64 {
            return bad(
                format!("{field}[0]"),
                format!(
                    "expected the year {year} first (rows run one a year from the scenario's start, {start_year}), found {}",
                    row[0]
                ),
            );
        }
        if let Some(b) = (1..row.len()).find(|&b| !(row[b].is_finite() && row[b] > 0.0)) {
            return bad(
                format!("{field}[{b}]"),
                format!(
                    "expected residents in each band above zero, found {}",
                    row[b]
                ),
            );
        }
        // Room is kept for the largest the place becomes (three times its
        // start at most; projections move a few percent a year).
        if let Some(first) = residents.first() {
            let first: &Vec<f64> = first;
            if let Some(b) = (0..bands.len()).find(|&b| row[b + 1] > 3.0 * first[b]) {
                return bad(
                    format!("{field}[{}]", b + 1),
                    format!(
                        "expected each band to stay within three times its first year's count; the band from age {} grows from {} to {}",
                        bands[b],
                        first[b],
                        row[b + 1]
                    ),
                );
            }
        }
        residents.push(row[1..].to_vec());
    }
    Ok(Some(Trend {
        band_starts: bands.clone(),
        residents,
    }))
}

/// Neighbourhood names as the scenario gives them, or N01, N02, … by default.
pub(crate) fn neighbourhood_names(p: &PopulationIn) -> Vec<String> {
    match &p.neighbourhood_names {
        Some(n) => n.clone(),
        None => (1..=p.neighbourhoods as usize)
            .map(|i| format!("N{i:02}"))
            .collect(),
    }
}

fn counts(p: &PopulationIn) -> R<()> {
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
    Ok(())
}

fn deciles(p: &PopulationIn) -> R<Vec<u8>> {
    let nn = p.neighbourhoods as usize;
    let Some(d) = &p.deprivation_deciles else {
        // Spread evenly from most to least deprived.
        return Ok((0..nn).map(|i| (1 + i * 10 / nn) as u8).collect());
    };
    if d.len() != nn {
        return bad(
            "population.deprivation_deciles",
            format!(
                "expected one decile per neighbourhood (`neighbourhoods = {nn}`), found {}; give the place its own list",
                d.len()
            ),
        );
    }
    for (i, x) in d.iter().enumerate() {
        if !(1..=10).contains(x) {
            return bad(
                format!("population.deprivation_deciles[{i}]"),
                format!("expected a deprivation decile from 1 (most deprived) to 10, found {x}"),
            );
        }
    }
    Ok(d.clone())
}

fn names(p: &PopulationIn) -> R<Vec<String>> {
    let nn = p.neighbourhoods as usize;
    let Some(n) = &p.neighbourhood_names else {
        return Ok(neighbourhood_names(p));
    };
    if n.len() != nn {
        return bad(
            "population.neighbourhood_names",
            format!(
                "expected one name per neighbourhood (`neighbourhoods = {nn}`), found {}; give the place its own list",
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
    Ok(n.clone())
}

/// A starting state fixes the population: `residents` must count it.
fn starting_fits(p: &PopulationIn, starting: Option<&[StartingHousehold]>) -> R<()> {
    let Some(list) = starting else {
        return Ok(());
    };
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
    Ok(())
}

/// Residents of each neighbourhood: as given (adding up to `residents`, and
/// matching a starting state's), counted from a starting state, or split
/// evenly.
fn quotas(p: &PopulationIn, starting: Option<&[StartingHousehold]>) -> R<Vec<u32>> {
    let nn = p.neighbourhoods as usize;
    let counted = starting.map(|list| {
        let mut c = vec![0u32; nn];
        for h in list {
            c[h.neighbourhood] += h.members.len() as u32;
        }
        c
    });
    let path = "population.neighbourhood_residents";
    let Some(given) = &p.neighbourhood_residents else {
        let even = |n: usize| p.residents / nn as u32 + u32::from(n < (p.residents as usize % nn));
        return Ok(counted.unwrap_or_else(|| (0..nn).map(even).collect()));
    };
    if given.len() != nn {
        return bad(
            path,
            format!(
                "expected one count per neighbourhood (`neighbourhoods = {nn}`), found {}; give the place its own list",
                given.len()
            ),
        );
    }
    let sum: u64 = given.iter().map(|&x| x as u64).sum();
    if sum != p.residents as u64 {
        return bad(
            path,
            format!(
                "the neighbourhoods' residents add up to {sum}, but `residents` is {}",
                p.residents
            ),
        );
    }
    if let Some(c) = counted
        && let Some(i) = (0..nn).find(|&i| c[i] != given[i])
    {
        return bad(
            format!("{path}[{i}]"),
            format!(
                "the starting state has {} residents in this neighbourhood, not {}",
                c[i], given[i]
            ),
        );
    }
    Ok(given.clone())
}

fn age_band_cuts(p: &PopulationIn) -> R<[u8; 3]> {
    let cuts = p.age_band_cuts;
    if !(cuts[0] >= 1 && cuts[0] < cuts[1] && cuts[1] < cuts[2] && cuts[2] <= MAX_AGE) {
        return bad(
            "population.age_band_cuts",
            format!("expected three increasing ages from 1 to {MAX_AGE}, found {cuts:?}"),
        );
    }
    Ok(cuts)
}

/// The shares of household reference persons by age, checked against the
/// age edges that bound them; returns the shares.
fn reference_ages(p: &PopulationIn) -> R<Vec<f64>> {
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
    Ok(age_shares)
}
