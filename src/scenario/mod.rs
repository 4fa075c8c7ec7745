//! Scenario files: reading, `extends`, validation, and the assumptions they
//! carry.
//!
//! A scenario may `extends = "baseline.toml"` (relative to its own folder) and
//! override only what changes. Tables merge key by key; any other value
//! (numbers, text, lists) is replaced whole. Errors name the file, the line,
//! the dotted field and what was expected.
//!
//! Loading runs in stages, one module each: `extends` reads and merges the
//! chain of files, `schema` gives the merged table its types, `compile`
//! checks every value and builds the model's [`Config`], `money` the economic
//! conventions, and `assumptions` lists each parameter with its evidence;
//! `text` bounds every text, and `locate` turns any failure into a file,
//! line and field.

mod assumptions;
mod compile;
mod extends;
mod locate;
mod money;
mod schema;
mod starting;
mod text;

use std::fmt;
use std::path::{Path, PathBuf};

use crate::model::{Config, StartingHousehold};
use locate::{clean_message, locate, path_segments, split_path};

pub use compile::MAX_YEARS;
pub use text::{MAX_CELL, MAX_NAME, MAX_PROSE};

/// The bundled default comparison under `scenarios/`, baseline first.
pub const BUNDLED: [&str; 7] = [
    "baseline.toml",
    "hubs.toml",
    "community_fund.toml",
    "gp_risk_stratification.toml",
    "early_help_families.toml",
    "ta_acquisition.toml",
    "disinvestment.toml",
];

/// A scenario that could not be used, with where and why.
#[derive(Debug, Clone, PartialEq)]
pub struct ScenarioError {
    /// The file at fault: the scenario, a file it extends, or its starting
    /// state.
    pub file: PathBuf,
    /// The line in that file (1-based), when it can be found.
    pub line: Option<usize>,
    /// Dotted path of the field, when the problem is with one field.
    pub field: Option<String>,
    /// What is wrong and what was expected.
    pub message: String,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(line) = self.line {
            write!(f, ", line {line}")?;
        }
        if let Some(field) = &self.field {
            write!(f, ", field `{field}`")?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for ScenarioError {}

/// A validation failure before it is located in a file.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Invalid {
    /// Dotted path of the field, such as `interventions.hubs.caseload[0]`.
    pub path: String,
    /// What is wrong and what was expected.
    pub message: String,
}

/// One file read for a scenario.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// The path it was read from.
    pub path: PathBuf,
    /// The SHA-256 of its text, in lower-case hex.
    pub sha256: String,
    text: String,
}

/// An assumption: a parameter's value and the evidence behind it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Assumption {
    /// Dotted path of the parameter, such as `need.escalation_per_month`
    /// (list items by 0-based index).
    pub parameter: String,
    /// The value as TOML text.
    pub value: String,
    /// Where the figure comes from, its own or its table's.
    pub source: Option<String>,
    /// How sure it is, as written (`high`, `medium`, `low`, or `A`, `B`,
    /// `C`), its own or its table's.
    pub confidence: Option<String>,
    /// Path of the most derived file that sets it.
    pub file: String,
}

/// A scenario ready to run, with what is needed to report and reproduce it.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The validated model the engine runs.
    pub config: Config,
    /// Money conventions (`[economics]`, with defaults).
    pub conventions: crate::economics::Conventions,
    /// Each intervention's financing and optimism-bias grades.
    pub intervention_money: Vec<crate::economics::InterventionMoney>,
    /// The scenario's `description`, if it gives one.
    pub description: Option<String>,
    /// The horizon's first month: (calendar year, month 1–12).
    pub start: (i32, u32),
    /// The file itself first, then what it extends, in order.
    pub files: Vec<SourceFile>,
    /// Every parameter with its value and evidence, in the merged file's
    /// key order.
    pub assumptions: Vec<Assumption>,
}

/// Settings from the command line that override every scenario's own.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Overrides {
    /// A horizon in years (`--years`) in place of the scenario's
    /// `horizon_years`.
    pub horizon_years: Option<u32>,
}

/// Reads, merges and validates a scenario file.
pub fn load(path: &Path) -> Result<Loaded, ScenarioError> {
    load_with(path, &Overrides::default())
}

/// As [`load`], with command-line overrides applied before validation.
pub fn load_with(path: &Path, overrides: &Overrides) -> Result<Loaded, ScenarioError> {
    load_from(path, overrides, &|p| std::fs::read_to_string(p))
}

/// As [`load_with`], reading each scenario file (the first and every one it
/// extends) through `read`: for checking text that is not on disk, such as
/// the fuzzer's.
pub fn load_from(
    path: &Path,
    overrides: &Overrides,
    read: &dyn Fn(&Path) -> std::io::Result<String>,
) -> Result<Loaded, ScenarioError> {
    let (files, tables) = extends::chain(path, read)?;
    let merged = extends::merged(&tables, overrides);
    let scenario: schema::Scenario =
        serde_path_to_error::deserialize(toml::Value::Table(merged.clone())).map_err(|e| {
            let path = path_segments(e.path());
            locate(&files, &path, clean_message(e.inner().message()))
        })?;
    let starting = starting_state(&scenario, &files, &tables)?;
    let located_invalid = |inv: Invalid| {
        let path = split_path(&inv.path);
        locate(&files, &path, inv.message)
    };
    let compiled = compile::compile(&scenario, starting).map_err(located_invalid)?;
    let conventions =
        money::conventions(&scenario, &compiled.config, compiled.start).map_err(located_invalid)?;
    let intervention_money = money::interventions(&scenario).map_err(located_invalid)?;
    let assumptions = assumptions::assumptions(&merged, &files);
    text::fits_a_cell(&files, &assumptions)?;
    Ok(Loaded {
        config: compiled.config,
        conventions,
        intervention_money,
        description: scenario.description.clone(),
        start: compiled.start,
        files,
        assumptions,
    })
}

/// The households of `population.starting_state`, if named. The file is found
/// beside the scenario file that names it, not beside the one that extends it.
fn starting_state(
    scenario: &schema::Scenario,
    files: &[SourceFile],
    tables: &[toml::Table],
) -> Result<Option<Vec<StartingHousehold>>, ScenarioError> {
    let Some(name) = &scenario.population.starting_state else {
        return Ok(None);
    };
    let field = split_path("population.starting_state");
    let owner = files
        .iter()
        .zip(tables)
        .find(|(_, t)| assumptions::defines(t, &field))
        .map(|(f, _)| f)
        .unwrap_or(&files[0]);
    let dir = owner.path.parent().unwrap_or(Path::new("."));
    let names = compile::neighbourhood_names(&scenario.population);
    Ok(Some(starting::read(&dir.join(name), &names)?))
}
