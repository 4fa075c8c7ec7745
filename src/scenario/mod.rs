//! Scenario files: reading, `extends`, validation, and the assumptions they
//! carry.
//!
//! A scenario may `extends = "baseline.toml"` (relative to its own folder) and
//! override only what changes. Tables merge key by key; any other value
//! (numbers, text, lists) is replaced whole. Errors name the file, the line,
//! the dotted field and what was expected.

mod compile;
mod money;
pub mod schema;
mod starting;

use std::fmt;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use toml::de::{DeTable, DeValue};

use crate::model::Config;

pub use compile::MAX_YEARS;

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
    pub file: PathBuf,
    pub line: Option<usize>,
    /// Dotted path of the field, when the problem is with one field.
    pub field: Option<String>,
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
pub struct Invalid {
    pub path: String,
    pub message: String,
}

/// One file read for a scenario.
#[derive(Debug, Clone)]
pub struct SourceFile {
    pub path: PathBuf,
    pub sha256: String,
    text: String,
}

/// An assumption: a parameter's value and the evidence behind it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Assumption {
    pub parameter: String,
    pub value: String,
    pub source: Option<String>,
    pub confidence: Option<String>,
    pub file: String,
}

/// A scenario ready to run, with what is needed to report and reproduce it.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub config: Config,
    /// Money conventions (`[economics]`, with defaults).
    pub conventions: crate::economics::Conventions,
    /// Each intervention's financing and optimism-bias grades.
    pub intervention_money: Vec<crate::economics::InterventionMoney>,
    pub description: Option<String>,
    pub start: (i32, u32),
    /// The file itself first, then what it extends, in order.
    pub files: Vec<SourceFile>,
    pub assumptions: Vec<Assumption>,
}

const MAX_EXTENDS_DEPTH: usize = 16;

/// Settings from the command line that override every scenario's own.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Overrides {
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
    let mut files: Vec<SourceFile> = Vec::new();
    let mut tables: Vec<toml::Table> = Vec::new();
    let mut next = Some(path.to_path_buf());
    while let Some(p) = next.take() {
        let canonical = p.canonicalize().ok();
        if files
            .iter()
            .any(|f| f.path.canonicalize().ok() == canonical && canonical.is_some())
        {
            let chain: Vec<String> = files.iter().map(|f| f.path.display().to_string()).collect();
            let from = files.last().expect("a file extends this one");
            return Err(located(
                from,
                &["extends".into()],
                format!(
                    "`extends` makes a cycle: {} → {}; a scenario cannot extend itself",
                    chain.join(" → "),
                    p.display()
                ),
            ));
        }
        if files.len() >= MAX_EXTENDS_DEPTH {
            return Err(ScenarioError {
                file: path.to_path_buf(),
                line: None,
                field: Some("extends".into()),
                message: format!("`extends` goes more than {MAX_EXTENDS_DEPTH} files deep"),
            });
        }
        let text = match read(&p) {
            Ok(t) => t,
            Err(e) => {
                return Err(match files.last() {
                    Some(from) => located(
                        from,
                        &["extends".into()],
                        format!("cannot read the extended file {}: {e}", p.display()),
                    ),
                    None => ScenarioError {
                        file: p.clone(),
                        line: None,
                        field: None,
                        message: format!("cannot read the file: {e}"),
                    },
                });
            }
        };
        if text.trim().is_empty() {
            return Err(ScenarioError {
                file: p.clone(),
                line: None,
                field: None,
                message: "the file is empty; a scenario needs at least `name` and `extends` (or a full set of tables)"
                    .into(),
            });
        }
        let table: toml::Table = toml::from_str(&text).map_err(|e| ScenarioError {
            file: p.clone(),
            line: e.span().map(|s| line_of(&text, s.start)),
            field: None,
            message: format!("not valid TOML: {}", e.message().trim()),
        })?;
        let file = SourceFile {
            sha256: hex(&Sha256::digest(text.as_bytes())),
            path: p.clone(),
            text,
        };
        match table.get("extends") {
            None => {}
            Some(toml::Value::String(parent)) => {
                let dir = p.parent().unwrap_or(Path::new("."));
                next = Some(dir.join(parent));
            }
            Some(other) => {
                return Err(located(
                    &file,
                    &["extends".into()],
                    format!(
                        "expected the path of a scenario file, found {}",
                        other.type_str()
                    ),
                ));
            }
        }
        files.push(file);
        tables.push(table);
    }

    // Merge from the base outwards.
    let mut merged = toml::Table::new();
    for t in tables.iter().rev() {
        merge(&mut merged, t.clone());
    }
    if let Some(years) = overrides.horizon_years {
        merged.insert("horizon_years".into(), toml::Value::Integer(years as i64));
    }
    let scenario: schema::Scenario =
        serde_path_to_error::deserialize(toml::Value::Table(merged.clone())).map_err(|e| {
            let path = path_segments(e.path());
            locate(&files, &path, clean_message(e.inner().message()))
        })?;
    // A starting-state file is found beside the scenario file that names it.
    let starting = match &scenario.population.starting_state {
        None => None,
        Some(name) => {
            let field = split_path("population.starting_state");
            let owner = files
                .iter()
                .zip(&tables)
                .find(|(_, t)| defines(t, &field))
                .map(|(f, _)| f)
                .unwrap_or(&files[0]);
            let dir = owner.path.parent().unwrap_or(Path::new("."));
            let names = compile::neighbourhood_names(&scenario.population);
            Some(starting::read(&dir.join(name), &names)?)
        }
    };
    let compiled = compile::compile(&scenario, starting).map_err(|inv| {
        let path = split_path(&inv.path);
        locate(&files, &path, inv.message)
    })?;
    let located_invalid = |inv: Invalid| {
        let path = split_path(&inv.path);
        locate(&files, &path, inv.message)
    };
    let conventions =
        money::conventions(&scenario, &compiled.config, compiled.start).map_err(located_invalid)?;
    let intervention_money = money::interventions(&scenario).map_err(located_invalid)?;
    let assumptions = assumptions(&merged, &files);
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

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// serde's words for types, in the words of people writing scenarios.
fn clean_message(m: &str) -> String {
    let mut out = m.trim().to_string();
    for (from, to) in [
        ("expected u8", "expected a whole number from 0 to 255"),
        ("expected u16", "expected a whole number from 0 to 65,535"),
        (
            "expected u32",
            "expected a whole number from 0 to 4,294,967,295",
        ),
        ("expected f64", "expected a number"),
        ("expected a boolean", "expected true or false"),
        ("expected a string", "expected text in quotes"),
    ] {
        out = out.replace(from, to);
    }
    out
}

/// Tables merge key by key; anything else is replaced.
fn merge(base: &mut toml::Table, over: toml::Table) {
    for (k, v) in over {
        match (base.get_mut(&k), v) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => merge(b, o),
            (_, v) => {
                base.insert(k, v);
            }
        }
    }
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())]
        .bytes()
        .filter(|&b| b == b'\n')
        .count()
        + 1
}

fn path_segments(path: &serde_path_to_error::Path) -> Vec<String> {
    use serde_path_to_error::Segment;
    path.iter()
        .filter_map(|s| match s {
            Segment::Map { key } => Some(key.clone()),
            Segment::Seq { index } => Some(index.to_string()),
            _ => None,
        })
        .collect()
}

fn split_path(path: &str) -> Vec<String> {
    path.split('.')
        .flat_map(|part| {
            // `effects[1]` → `effects`, `1`
            let mut out = Vec::new();
            let mut rest = part;
            while let Some(i) = rest.find('[') {
                out.push(rest[..i].to_string());
                let j = rest[i..].find(']').map_or(rest.len(), |j| i + j);
                out.push(rest[i + 1..j].to_string());
                rest = rest.get(j + 1..).unwrap_or("");
            }
            if !rest.is_empty() {
                out.push(rest.to_string());
            }
            out
        })
        .filter(|s| !s.is_empty())
        .collect()
}

fn dotted(path: &[String]) -> String {
    let mut s = String::new();
    for seg in path {
        if seg.parse::<usize>().is_ok() {
            s.push_str(&format!("[{seg}]"));
        } else {
            if !s.is_empty() {
                s.push('.');
            }
            s.push_str(seg);
        }
    }
    s
}

/// Byte offset of the deepest part of `path` present in a file, and how many
/// segments of the path it covers.
fn find_in(text: &str, path: &[String]) -> Option<(usize, usize)> {
    let root = DeTable::parse(text).ok()?;
    let mut best = None;
    let mut table: &DeTable = root.get_ref();
    let mut value: Option<&toml::Spanned<DeValue>> = None;
    for (depth, seg) in path.iter().enumerate() {
        let next = if let Some(v) = value {
            match v.get_ref() {
                DeValue::Table(t) => t.iter().find(|(k, _)| k.get_ref() == seg).map(|(_, v)| v),
                DeValue::Array(a) => seg.parse::<usize>().ok().and_then(|i| a.get(i)),
                _ => None,
            }
        } else {
            table
                .iter()
                .find(|(k, _)| k.get_ref() == seg)
                .map(|(_, v)| v)
        };
        match next {
            Some(v) => {
                best = Some((v.span().start, depth + 1));
                value = Some(v);
            }
            None => break,
        }
        if let DeValue::Table(t) = value.expect("just set").get_ref() {
            table = t;
        }
    }
    best
}

/// Finds which file says `path` (the most derived first) and on which line.
fn locate(files: &[SourceFile], path: &[String], message: String) -> ScenarioError {
    let mut best: Option<(&SourceFile, usize, usize)> = None;
    for f in files {
        if let Some((offset, depth)) = find_in(&f.text, path)
            && best.is_none_or(|(_, _, d)| depth > d)
        {
            best = Some((f, offset, depth));
        }
    }
    let field = (!path.is_empty()).then(|| dotted(path));
    match best {
        Some((f, offset, _)) => ScenarioError {
            file: f.path.clone(),
            line: Some(line_of(&f.text, offset)),
            field,
            message,
        },
        None => ScenarioError {
            file: files[0].path.clone(),
            line: None,
            field,
            message,
        },
    }
}

fn located(file: &SourceFile, path: &[String], message: String) -> ScenarioError {
    locate(std::slice::from_ref(file), path, message)
}

/// Every parameter of the merged scenario with its value and evidence. A
/// table's own `source` and `confidence` apply to the parameters inside it
/// that carry none.
fn assumptions(merged: &toml::Table, files: &[SourceFile]) -> Vec<Assumption> {
    let mut out = Vec::new();
    walk(merged, &mut Vec::new(), None, None, &mut out);
    // Name the file that sets each parameter (the most derived one).
    let defined: Vec<(String, toml::Table)> = files
        .iter()
        .filter_map(|f| Some((f.path.display().to_string(), toml::from_str(&f.text).ok()?)))
        .collect();
    for a in &mut out {
        let path = split_path(&a.parameter);
        if let Some((name, _)) = defined.iter().find(|(_, t)| defines(t, &path)) {
            a.file = name.clone();
        }
    }
    out
}

fn defines(table: &toml::Table, path: &[String]) -> bool {
    let mut value: Option<&toml::Value> = None;
    for seg in path {
        let next = match value {
            None => table.get(seg),
            Some(toml::Value::Table(t)) => t.get(seg),
            Some(toml::Value::Array(a)) => seg.parse::<usize>().ok().and_then(|i| a.get(i)),
            Some(_) => None,
        };
        match next {
            Some(v) => value = Some(v),
            None => return false,
        }
    }
    true
}

fn walk(
    table: &toml::Table,
    path: &mut Vec<String>,
    source: Option<&str>,
    confidence: Option<&str>,
    out: &mut Vec<Assumption>,
) {
    let source = table.get("source").and_then(|v| v.as_str()).or(source);
    let confidence = table
        .get("confidence")
        .and_then(|v| v.as_str())
        .or(confidence);
    for (k, v) in table {
        if matches!(
            k.as_str(),
            "source" | "confidence" | "name" | "description" | "extends"
        ) {
            continue;
        }
        path.push(k.clone());
        match v {
            toml::Value::Table(t) if t.contains_key("value") => {
                push(
                    out,
                    path,
                    &t["value"],
                    t.get("source").and_then(|v| v.as_str()).or(source),
                    t.get("confidence").and_then(|v| v.as_str()).or(confidence),
                );
            }
            toml::Value::Table(t) => walk(t, path, source, confidence, out),
            toml::Value::Array(items)
                if items.iter().all(|i| i.is_table()) && !items.is_empty() =>
            {
                for (i, item) in items.iter().enumerate() {
                    path.push(i.to_string());
                    walk(
                        item.as_table().expect("checked"),
                        path,
                        source,
                        confidence,
                        out,
                    );
                    path.pop();
                }
            }
            other => push(out, path, other, source, confidence),
        }
        path.pop();
    }
}

fn push(
    out: &mut Vec<Assumption>,
    path: &[String],
    value: &toml::Value,
    source: Option<&str>,
    confidence: Option<&str>,
) {
    out.push(Assumption {
        parameter: dotted(path),
        value: value.to_string(),
        source: source.map(str::to_string),
        confidence: confidence.map(str::to_string),
        file: String::new(),
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_overrides_leaves_and_keeps_siblings() {
        let mut base: toml::Table = toml::from_str("a = 1\n[t]\nx = 1\ny = [1, 2]\n").unwrap();
        let over: toml::Table = toml::from_str("[t]\ny = [3]\nz = 2\n").unwrap();
        merge(&mut base, over);
        let expect: toml::Table = toml::from_str("a = 1\n[t]\nx = 1\ny = [3]\nz = 2\n").unwrap();
        assert_eq!(base, expect);
    }

    #[test]
    fn paths_split_and_join() {
        let p = split_path("interventions.hubs.effects[1].multiplier");
        assert_eq!(p, ["interventions", "hubs", "effects", "1", "multiplier"]);
        assert_eq!(dotted(&p), "interventions.hubs.effects[1].multiplier");
    }

    #[test]
    fn finds_the_line_of_a_nested_field() {
        let text = "name = \"x\"\n\n[events.ae]\nname = \"A&E\"\nunit_cost = -5\n";
        let (offset, depth) = find_in(text, &split_path("events.ae.unit_cost")).unwrap();
        assert_eq!((line_of(text, offset), depth), (5, 3));
        let (offset, depth) = find_in(text, &split_path("events.ae.missing")).unwrap();
        assert_eq!((line_of(text, offset), depth), (3, 2));
    }
}
