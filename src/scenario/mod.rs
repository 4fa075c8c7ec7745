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
mod file_set;
mod locate;
mod money;
mod optimise;
mod plausible;
mod schema;
mod starting;
mod text;
mod uncertain;
mod words;

use std::fmt;
use std::path::{Path, PathBuf};

use crate::model::{Config, StartingHousehold};
use locate::{locate, path_segments, split_path};

pub use compile::MAX_YEARS;
pub use file_set::FileSet;
pub use optimise::{Budget, DEFAULT_FRONTIER, DEFAULT_STEP, Funding, Lever, Reach};
pub use plausible::EFFECT_RANGE;
pub use text::{MAX_CELL, MAX_NAME, MAX_PROSE};
pub use uncertain::{
    Correlation, HeldFixed, Origin, RangeText, Restated, Shape, Uncertain, Uncertainty,
    correlations_hold,
};
pub use words::nearest;

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

/// A problem in a scenario, with where and why: an error that stops it
/// being used, or a warning (see [`Loaded::warnings`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ScenarioError {
    /// The file at fault: the scenario, a file it extends, or its starting
    /// state.
    pub file: PathBuf,
    /// The scenario that inherits the field from `file`, when `file` is one
    /// it extends: a place's own file is named first, so nobody is sent to
    /// fix a bundled file for a field they never touched.
    pub inherited_by: Option<PathBuf>,
    /// The line in that file (1-based), when it can be found.
    pub line: Option<usize>,
    /// Dotted path of the field, when the problem is with one field.
    pub field: Option<String>,
    /// What is wrong and what was expected.
    pub message: String,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.inherited_by, &self.field) {
            (Some(by), Some(field)) => write!(
                f,
                "{} inherits `{field}` from {}",
                by.display(),
                self.file.display()
            )?,
            _ => write!(f, "{}", self.file.display())?,
        }
        if let Some(line) = self.line {
            write!(f, ", line {line}")?;
        }
        if let (None, Some(field)) = (&self.inherited_by, &self.field) {
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
    /// Values it may hold but that are rarely meant (an effect of ×60, a
    /// budget that funds less than one case, years past the horizon,
    /// targeting that reaches nobody): shown with the results, errors under
    /// `--strict`.
    pub warnings: Vec<ScenarioError>,
    /// The parameters a run with `--uncertainty` draws for each replicate.
    pub uncertainty: Uncertainty,
    /// The prevention budget `upstream optimise` splits, if the scenario
    /// has an `[optimise]` table.
    pub optimise: Option<Budget>,
    /// What a draw recompiles.
    recipe: Recipe,
}

/// What it takes to compile the scenario again with other parameter values.
#[derive(Debug, Clone)]
struct Recipe {
    /// The merged table, ranges and distributions taken out.
    merged: toml::Table,
    /// The merged table as the files write it, ranges kept: what a file
    /// that extends this scenario copies when it restates part of a list.
    written: toml::Table,
    starting: Option<Vec<StartingHousehold>>,
    /// The central scenario's burn-in: a draw keeps it, so every draw (and
    /// every scenario paired with this one) shares the timeline.
    burn_in_months: u32,
}

/// What compiling a scenario gives besides [`Built`]: the scenario with
/// sizes per 1,000 turned into amounts, and its first month.
struct Resolved {
    scenario: schema::Scenario,
    start: (i32, u32),
}

/// A scenario compiled: the simulation and its money.
struct Built {
    config: Config,
    conventions: crate::economics::Conventions,
    intervention_money: Vec<crate::economics::InterventionMoney>,
}

impl Recipe {
    /// The scenario with each parameter in `values` set, compiled.
    fn at(
        &self,
        files: &[SourceFile],
        values: &[(&Uncertain, &[f64])],
    ) -> Result<Built, ScenarioError> {
        let mut merged = self.merged.clone();
        for (u, v) in values {
            u.set(&mut merged, v);
        }
        let scenario = typed(&merged, files)?;
        let (mut built, _) = build(&scenario, files, self.starting.clone())?;
        built.config.burn_in_months = self.burn_in_months;
        Ok(built)
    }
}

/// The merged table as the schema's types; errors located in the files.
fn typed(merged: &toml::Table, files: &[SourceFile]) -> Result<schema::Scenario, ScenarioError> {
    serde_path_to_error::deserialize(toml::Value::Table(merged.clone())).map_err(|e| {
        let path = path_segments(e.path());
        let field = path.iter().rev().find(|s| s.parse::<usize>().is_err());
        locate(
            files,
            &path,
            words::plain(e.inner().message(), field.map(|s| s.as_str())),
        )
    })
}

/// Compiles a typed scenario: the simulation, its money, its first month,
/// and the scenario with sizes per 1,000 turned into amounts.
fn build(
    scenario: &schema::Scenario,
    files: &[SourceFile],
    starting: Option<Vec<StartingHousehold>>,
) -> Result<(Built, Resolved), ScenarioError> {
    let located_invalid = |inv: Invalid| locate(files, &split_path(&inv.path), inv.message);
    let compiled = compile::compile(scenario, starting).map_err(located_invalid)?;
    let conventions = money::conventions(&compiled.scenario, &compiled.config, compiled.start)
        .map_err(located_invalid)?;
    let intervention_money = money::interventions(&compiled.scenario).map_err(located_invalid)?;
    Ok((
        Built {
            config: compiled.config,
            conventions,
            intervention_money,
        },
        Resolved {
            scenario: compiled.scenario,
            start: compiled.start,
        },
    ))
}

impl Loaded {
    /// The scenario under a comparison's default widths (its baseline's
    /// `[uncertainty]` table), in place of its own: every scenario of a run
    /// draws by the same rule.
    pub fn with_default_width(mut self, widths: Option<[f64; 3]>) -> Result<Loaded, ScenarioError> {
        if widths == self.uncertainty.default_width {
            return Ok(self);
        }
        let stated = self
            .uncertainty
            .parameters
            .iter()
            .filter(|u| u.origin == Origin::Stated)
            .cloned()
            .collect();
        let central = Built {
            config: self.config.clone(),
            conventions: self.conventions.clone(),
            intervention_money: self.intervention_money.clone(),
        };
        let correlated = std::mem::take(&mut self.uncertainty);
        self.uncertainty = uncertain::of(widths, &self.recipe, &central, &self.files, stated)?
            .with_correlations_of(&correlated);
        Ok(self)
    }

    /// The scenario with its uncertain parameter `parameter` at the low (or
    /// high) end of its range and every other at its value; `None` if it
    /// has no such parameter. The timeline stays the scenario's own.
    pub fn at_end(&self, parameter: &str, high: bool) -> Result<Option<Loaded>, ScenarioError> {
        let Some(u) = self
            .uncertainty
            .parameters
            .iter()
            .find(|u| u.parameter == parameter)
        else {
            return Ok(None);
        };
        let end = if high { &u.high } else { &u.low };
        self.with_numbers(&[(parameter, end)]).map(Some)
    }

    /// The number (or list) the scenario holds at the dotted name `name`,
    /// element by element, if it holds one there.
    pub fn number(&self, name: &str) -> Option<Vec<f64>> {
        uncertain::numbers_at(&self.recipe.merged, &split_path(name))
    }

    /// The scenario with each number named in `values` (a dotted path, as
    /// the assumptions list names it: `interventions.hubs.engagement`,
    /// `interventions.hubs.effects[2].multiplier`) set, element by element,
    /// and every other as it is; compiled and checked as the file would be.
    /// Money conventions and interventions' financing stay the scenario's
    /// own, and so do the uncertain parameters' ranges: a draw sets every
    /// uncertain parameter afresh. A name that holds no number here is an
    /// error.
    pub fn with_numbers(&self, values: &[(&str, &[f64])]) -> Result<Loaded, ScenarioError> {
        let mut merged = self.recipe.merged.clone();
        for (name, v) in values {
            let path = split_path(name);
            if uncertain::set_numbers(&mut merged, &path, v).is_none() {
                return Err(locate(
                    &self.files,
                    &path,
                    format!(
                        "`{name}` holds no number of {} element{} to set",
                        v.len(),
                        if v.len() == 1 { "" } else { "s" }
                    ),
                ));
            }
        }
        let scenario = typed(&merged, &self.files)?;
        let (mut built, _) = build(&scenario, &self.files, self.recipe.starting.clone())?;
        built.config.burn_in_months = self.recipe.burn_in_months;
        let mut at = self.clone();
        at.config = built.config;
        // Money settings (`economics.*`, a unit cost's money side) move the
        // appraisal too, not only the simulation.
        at.conventions = built.conventions;
        at.intervention_money = built.intervention_money;
        // A later change starts from this one.
        at.recipe.merged = merged;
        Ok(at)
    }

    /// The simulation with every uncertain parameter at replicate `crn`'s
    /// draw, and the values drawn (in [`Uncertainty::parameters`] order).
    /// The money conventions do not move (ranges that would move them are
    /// refused when the scenario is loaded).
    pub fn drawn(&self, crn: crate::rng::Crn) -> Result<(Config, Vec<Vec<f64>>), ScenarioError> {
        let values: Vec<Vec<f64>> = self
            .uncertainty
            .parameters
            .iter()
            .map(|u| self.uncertainty.draw(crn, u))
            .collect();
        let pairs: Vec<(&Uncertain, &[f64])> = self
            .uncertainty
            .parameters
            .iter()
            .zip(&values)
            .map(|(u, v)| (u, v.as_slice()))
            .collect();
        let built = self.recipe.at(&self.files, &pairs).map_err(|mut e| {
            e.message = format!(
                "this replicate's draw of the uncertain parameters is refused ({}); narrow the ranges that meet here",
                e.message
            );
            e
        })?;
        Ok((built.config, values))
    }
}

/// What a file that extends a scenario says about itself.
#[derive(Clone, Debug, PartialEq)]
pub struct Extension {
    /// The path of the scenario it extends, as its `extends` writes it
    /// (relative to the new file's folder).
    pub extends: String,
    /// Its `name`.
    pub name: String,
    /// Its `description`.
    pub description: String,
    /// Comment lines at its top, each without the `#`.
    pub comments: Vec<String>,
    /// Rank correlations it adds to the `[uncertainty]` table's (which it
    /// copies first, as a list it writes replaces the one it extends).
    pub correlations: Vec<Correlation>,
}

impl Loaded {
    /// The text of a scenario file that extends this one and restates each
    /// of `restated` (numbers this scenario states, ranged or not) with its new
    /// value and range, every other parameter inherited. A list of tables
    /// (an intervention's `effects`) is copied whole, as a file that
    /// extends another replaces a list it writes; the rest of the list
    /// keeps its figures and ranges.
    pub fn extension(
        &self,
        header: &Extension,
        restated: &[Restated],
    ) -> Result<String, ScenarioError> {
        let mut over = toml::Table::new();
        over.insert("extends".into(), header.extends.clone().into());
        over.insert("name".into(), header.name.clone().into());
        over.insert("description".into(), header.description.clone().into());
        let mut root = toml::Value::Table(over);
        let written = toml::Value::Table(self.recipe.written.clone());
        for r in restated {
            // A number with no range yet gets its first.
            let u = self
                .uncertainty
                .parameters
                .iter()
                .find(|u| u.parameter == r.parameter)
                .cloned()
                .or_else(|| uncertain::plain(&self.recipe.merged, &split_path(&r.parameter)));
            let Some(u) = u else {
                return Err(locate(
                    &self.files,
                    &split_path(&r.parameter),
                    format!("`{}` is not a number this scenario states", r.parameter),
                ));
            };
            put(&mut root, Some(&written), u.path(), u.restated(r));
        }
        if !header.correlations.is_empty() {
            let mut list = written
                .get("uncertainty")
                .and_then(|u| u.get("correlations"))
                .and_then(|c| c.as_array())
                .cloned()
                .unwrap_or_default();
            for c in &header.correlations {
                let mut t = toml::Table::new();
                t.insert(
                    "parameters".into(),
                    toml::Value::Array(c.parameters.iter().map(|p| p.clone().into()).collect()),
                );
                t.insert("rank".into(), c.rank.into());
                if let Some(source) = &c.source {
                    t.insert("source".into(), source.clone().into());
                }
                list.push(toml::Value::Table(t));
            }
            let mut leaf = toml::Table::new();
            leaf.insert("correlations".into(), toml::Value::Array(list));
            put(&mut root, None, &["uncertainty".to_string()], leaf);
        }
        let body = toml::to_string(&root)
            .map_err(|e| locate(&self.files, &[], format!("cannot be written as TOML: {e}")))?;
        let mut text = String::new();
        for c in &header.comments {
            if c.is_empty() {
                text.push_str("#\n");
            } else {
                text.push_str(&format!("# {c}\n"));
            }
        }
        if !header.comments.is_empty() {
            text.push('\n');
        }
        text.push_str(&body);
        Ok(text)
    }
}

/// A number a scenario states that a range can be given for: the whole
/// parameter, and, when one item of a list was named, which one (the rest
/// of the list moves with it in proportion).
#[derive(Clone, Debug, PartialEq)]
pub struct Elicitable {
    /// The parameter as the scenario states it (its range, if it has one).
    pub parameter: Uncertain,
    /// The list item named, counted from 0, if one was.
    pub item: Option<usize>,
    /// The named figure as stated.
    pub stated: f64,
}

impl Loaded {
    /// The number named `name` (dotted, a list's item as `name[1]`), or why
    /// a range cannot be given for it.
    pub fn elicitable(&self, name: &str) -> Result<Elicitable, String> {
        let path = split_path(name);
        let find = |path: &[String]| {
            let dotted = locate::dotted(path);
            self.uncertainty
                .parameters
                .iter()
                .find(|u| u.parameter == dotted)
                .cloned()
                .or_else(|| uncertain::plain(&self.recipe.merged, path))
        };
        if let Some((last, parent)) = path.split_last()
            && let Ok(item) = last.parse::<usize>()
            && let Some(list) = find(parent).filter(|u| u.central.len() > 1 || u.is_list())
        {
            let n = list.central.len();
            let Some(&stated) = list.central.get(item) else {
                return Err(format!(
                    "`{}` has {n} items, counted from 0: name one as `{}[0]` to `{}[{}]`",
                    list.parameter,
                    list.parameter,
                    list.parameter,
                    n - 1
                ));
            };
            if stated == 0.0 {
                return Err(format!(
                    "`{}` is 0 as stated, so the rest of its list cannot move in proportion to it: name another item",
                    crate::input::quote(name)
                ));
            }
            return Ok(Elicitable {
                parameter: list,
                item: Some(item),
                stated,
            });
        }
        match find(&path) {
            Some(u) if u.is_list() => Err(format!(
                "`{}` is a list of {}: name one item, as `{}[0]`, and the rest move with it in proportion",
                u.parameter,
                u.central.len(),
                u.parameter
            )),
            Some(u) => Ok(Elicitable {
                stated: u.central[0],
                parameter: u,
                item: None,
            }),
            None => Err(format!(
                "`{}` is not a number this scenario states: name a parameter as the assumptions table (assumptions.csv) names it",
                crate::input::quote(name)
            )),
        }
    }
}

/// Puts `leaf` at `path` in `slot`: tables made on the way, a list copied
/// whole from `written` (the scenario as extended) before one of its
/// elements changes, and the leaf's keys set over a table already there.
fn put(slot: &mut toml::Value, written: Option<&toml::Value>, path: &[String], leaf: toml::Table) {
    let Some((seg, rest)) = path.split_first() else {
        match slot {
            toml::Value::Table(t) => t.extend(leaf),
            other => *other = toml::Value::Table(leaf),
        }
        return;
    };
    if let Ok(i) = seg.parse::<usize>() {
        if !slot.is_array() {
            *slot = written.cloned().unwrap_or(toml::Value::Array(Vec::new()));
        }
        let from = written.and_then(|w| w.get(i));
        if let Some(element) = slot.as_array_mut().and_then(|a| a.get_mut(i)) {
            put(element, from, rest, leaf);
        }
        return;
    }
    if !slot.is_table() {
        *slot = toml::Value::Table(toml::Table::new());
    }
    let from = written.and_then(|w| w.get(seg.as_str()));
    if let toml::Value::Table(t) = slot {
        let child = t
            .entry(seg.clone())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        put(child, from, rest, leaf);
    }
}

impl Loaded {
    /// Adds a warning about `field` (dotted, as `interventions.hubs.targeting`),
    /// located in the file and line that set it.
    pub fn warn(&mut self, field: &str, message: String) {
        let w = locate(&self.files, &split_path(field), message);
        self.warnings.push(w);
    }
}

/// Settings from the command line that override every scenario's own.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Overrides {
    /// A horizon in years (`--years`) in place of the scenario's
    /// `horizon_years`.
    pub horizon_years: Option<u32>,
}

/// The uncertain parameters of `scenarios`, each name once, in name order.
pub fn parameters_drawn(scenarios: &[Loaded]) -> Vec<&str> {
    let mut names: Vec<&str> = scenarios
        .iter()
        .flat_map(|l| {
            l.uncertainty
                .parameters
                .iter()
                .map(|u| u.parameter.as_str())
        })
        .collect();
    names.sort_unstable();
    names.dedup();
    names
}

/// Reads, merges and validates a scenario file.
pub fn load(path: &Path) -> Result<Loaded, ScenarioError> {
    load_with(path, &Overrides::default())
}

/// As [`load`], with command-line overrides applied before validation.
pub fn load_with(path: &Path, overrides: &Overrides) -> Result<Loaded, ScenarioError> {
    load_from(path, overrides, &crate::input::read)
}

/// As [`load_with`], reading each file (the scenario, every one it extends
/// and its starting state) through `read`: for checking text that is not on
/// disk, such as the fuzzer's, or keeping a scenario to files it may read
/// ([`FileSet`]).
pub fn load_from(
    path: &Path,
    overrides: &Overrides,
    read: &dyn Fn(&Path) -> std::io::Result<String>,
) -> Result<Loaded, ScenarioError> {
    let (files, tables) = extends::chain(path, read)?;
    let merged = extends::merged(&tables, overrides);
    let mut plain = merged.clone();
    let stated = uncertain::stated(&mut plain)
        .map_err(|inv| locate(&files, &split_path(&inv.path), inv.message))?;
    let scenario = typed(&plain, &files)?;
    // After the schema's own refusals, so a misspelt size is named as one.
    if let Some((path, key)) = per_outside_sizes(&merged) {
        return Err(locate(
            &files,
            &path,
            format!(
                "`{key}` is for sizes only (capacity, annual_budget, caseload, burn_in_budget, \
                 envelope, savings_target); write this value as `value`"
            ),
        ));
    }
    let starting = starting_state(&scenario, &files, &tables, read)?;
    let located_invalid = |inv: Invalid| {
        let path = split_path(&inv.path);
        locate(&files, &path, inv.message)
    };
    let (built, Resolved { scenario, start }) = build(&scenario, &files, starting.clone())?;
    // From here on, sizes written per 1,000 are amounts for this place.
    let scenario = &scenario;
    let recipe = Recipe {
        merged: plain,
        written: merged.clone(),
        starting,
        burn_in_months: built.config.burn_in_months,
    };
    let optimise = optimise::budget(scenario, &built.config, &recipe.merged, &|id, written| {
        optimise::count_reach(&recipe.merged, &files, recipe.starting.clone(), id, written)
    })
    .map_err(|inv| optimise::located(&files, inv))?;
    let widths = uncertain::widths(scenario, &files)?;
    let uncertainty = uncertain::of(widths, &recipe, &built, &files, stated)?;
    let uncertainty = uncertain::correlated(uncertainty, scenario, &files)?;
    let assumptions = assumptions::assumptions(&merged, &files);
    text::fits_a_cell(&files, &assumptions)?;
    // A list is judged against the horizon of the file that writes it: a
    // file that shortens the horizon (or `--years`) leaves longer lists it
    // inherits unused on purpose.
    let years_seen_by = |field: &str| -> Option<u32> {
        let path = split_path(field);
        let j = tables.iter().position(|t| assumptions::defines(t, &path))?;
        tables[j..]
            .iter()
            .find_map(|t| t.get("horizon_years").and_then(|v| v.as_integer()))
            .map(|y| y.clamp(0, u32::MAX as i64) as u32)
    };
    let own_horizon = overrides.horizon_years.is_none();
    let residents = built.config.population.residents;
    let warnings = plausible::warnings(scenario, &built.config, own_horizon, &years_seen_by)
        .into_iter()
        .chain(plausible::inherited_sizes(&merged, &tables, residents))
        .map(located_invalid)
        .collect();
    Ok(Loaded {
        config: built.config,
        conventions: built.conventions,
        intervention_money: built.intervention_money,
        description: scenario.description.clone(),
        start,
        files,
        assumptions,
        warnings,
        uncertainty,
        optimise,
        recipe,
    })
}

/// The first `per_1000_…` key anywhere but a size ([`schema::SIZES`]): its
/// path and the key.
fn per_outside_sizes(merged: &toml::Table) -> Option<(Vec<String>, String)> {
    fn walk(t: &toml::Table, path: &mut Vec<String>, found: &mut Option<(Vec<String>, String)>) {
        for (k, v) in t {
            if found.is_some() {
                return;
            }
            if schema::PER_KEYS.iter().any(|(p, _)| p == k) {
                let allowed = schema::SIZES.iter().any(|s| {
                    let pat: Vec<&str> = s.split('.').collect();
                    pat.len() == path.len()
                        && pat
                            .iter()
                            .zip(path.iter())
                            .all(|(p, seg)| *p == "*" || p == seg)
                });
                if !allowed {
                    *found = Some((path.clone(), k.clone()));
                }
                continue;
            }
            if let toml::Value::Table(inner) = v {
                path.push(k.clone());
                walk(inner, path, found);
                path.pop();
            } else if let toml::Value::Array(items) = v {
                for (i, item) in items.iter().enumerate() {
                    if let toml::Value::Table(inner) = item {
                        path.push(k.clone());
                        path.push(i.to_string());
                        walk(inner, path, found);
                        path.pop();
                        path.pop();
                    }
                }
            }
        }
    }
    let mut found = None;
    walk(merged, &mut Vec::new(), &mut found);
    found
}

/// The households of `population.starting_state`, if named. The file is found
/// beside the scenario file that names it, not beside the one that extends it.
fn starting_state(
    scenario: &schema::Scenario,
    files: &[SourceFile],
    tables: &[toml::Table],
    read: extends::Read,
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
    let path = dir.join(name);
    let text = read(&path).map_err(|e| {
        locate::located(
            owner,
            &field,
            format!("cannot read the starting state {}: {e}", path.display()),
        )
    })?;
    Ok(Some(starting::parse(&path, &text, &names)?))
}
