//! Reading residents' starting state from a CSV file instead of synthesising
//! them: one row per resident, grouped into households by an identifier.
//!
//! Columns (a header row first, in any order): `household`, `neighbourhood`
//! (a neighbourhood's name), `age`, `need` (thriving, coping, struggling or
//! crisis), and one column per risk factor (`low_income`, `insecure_housing`,
//! `isolation`, `long_term_condition`, `family_stress`) holding 0 or 1. A
//! household's first row is its reference person, who must be 18 or over.

use std::collections::HashMap;
use std::path::Path;

use super::ScenarioError;
use crate::input::{TextKind, quote, text_fault};
use crate::model::{MAX_AGE, NeedLevel, RiskFactor, StartingHousehold, StartingResident};

const COLUMNS: [&str; 9] = [
    "household",
    "neighbourhood",
    "age",
    "need",
    "low_income",
    "insecure_housing",
    "isolation",
    "long_term_condition",
    "family_stress",
];

/// The households in `text`, read from `path` (named in errors).
pub(super) fn parse(
    path: &Path,
    text: &str,
    names: &[String],
) -> Result<Vec<StartingHousehold>, ScenarioError> {
    let err = |line: Option<usize>, field: Option<&str>, message: String| ScenarioError {
        file: path.to_path_buf(),
        inherited_by: None,
        line,
        field: field.map(str::to_string),
        message,
    };
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| err(Some(1), None, format!("not a valid CSV header row: {e}")))?
        .clone();
    crate::input::check_header(&headers, &COLUMNS, &COLUMNS, "a starting-state table")
        .map_err(|f| err(Some(1), f.column.as_deref(), f.message))?;
    let mut at = [0usize; COLUMNS.len()];
    for (k, c) in COLUMNS.iter().enumerate() {
        at[k] = headers.iter().position(|h| h == *c).expect("checked above");
    }

    let mut households: Vec<(usize, Vec<StartingResident>)> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for record in reader.records() {
        let record = record.map_err(|e| {
            let line = e.position().map(|p| p.line() as usize);
            err(line, None, format!("not valid CSV: {e}"))
        })?;
        let line = record.position().map(|p| p.line() as usize);
        let cell = |k: usize| record.get(at[k]).unwrap_or("");
        let household = cell(0).to_string();
        if household.is_empty() {
            return Err(err(
                line,
                Some("household"),
                "expected a household identifier, found nothing".into(),
            ));
        }
        if let Some(why) = text_fault(&household, TextKind::Name) {
            return Err(err(line, Some("household"), why));
        }
        let neighbourhood = names.iter().position(|n| n == cell(1)).ok_or_else(|| {
            err(
                line,
                Some("neighbourhood"),
                format!(
                    "no neighbourhood is called \"{}\"; the names are {}",
                    quote(cell(1)),
                    names.join(", ")
                ),
            )
        })?;
        let age = cell(2)
            .parse::<u8>()
            .ok()
            .filter(|a| *a <= MAX_AGE)
            .ok_or_else(|| {
                err(
                    line,
                    Some("age"),
                    format!(
                        "expected an age from 0 to {MAX_AGE}, found \"{}\"",
                        quote(cell(2))
                    ),
                )
            })?;
        let need = NeedLevel::ALL
            .iter()
            .position(|l| l.name() == cell(3))
            .ok_or_else(|| {
                err(
                    line,
                    Some("need"),
                    format!(
                        "expected thriving, coping, struggling or crisis, found \"{}\"",
                        quote(cell(3))
                    ),
                )
            })? as u8;
        let mut risk_mask = 0u8;
        for (f, factor) in RiskFactor::ALL.iter().enumerate() {
            match cell(4 + f) {
                "1" => risk_mask |= factor.bit(),
                "0" => {}
                other => {
                    return Err(err(
                        line,
                        Some(COLUMNS[4 + f]),
                        format!("expected 0 or 1, found \"{}\"", quote(other)),
                    ));
                }
            }
        }
        let resident = StartingResident {
            age,
            need,
            risk_mask,
        };
        match index.get(&household) {
            Some(&h) => {
                if households[h].0 != neighbourhood {
                    return Err(err(
                        line,
                        Some("neighbourhood"),
                        format!(
                            "household \"{}\" is already in another neighbourhood",
                            quote(&household)
                        ),
                    ));
                }
                households[h].1.push(resident);
            }
            None => {
                if age < 18 {
                    return Err(err(
                        line,
                        Some("age"),
                        format!(
                            "household \"{}\" starts with a child; list an adult (its reference person) first",
                            quote(&household)
                        ),
                    ));
                }
                index.insert(household, households.len());
                households.push((neighbourhood, vec![resident]));
            }
        }
    }
    if households.is_empty() {
        return Err(err(
            None,
            None,
            "the starting state has no residents".into(),
        ));
    }
    // Neighbourhood order, keeping the file's order within each.
    households.sort_by_key(|(n, _)| *n);
    Ok(households
        .into_iter()
        .map(|(neighbourhood, members)| StartingHousehold {
            neighbourhood,
            members,
        })
        .collect())
}
