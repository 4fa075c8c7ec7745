//! The `extends` chain: a scenario file, the file it extends, and so on to a
//! file that extends nothing, merged into one table.
//!
//! Contract: each file is read once, found relative to the folder of the file
//! that names it; a cycle, a chain more than [`MAX_EXTENDS_DEPTH`] files deep,
//! an unreadable, empty or malformed file is refused with the file (and the
//! `extends` line) to blame. Merging runs from the base outwards: tables merge
//! key by key, any other value (numbers, text, lists) is replaced whole, and
//! command-line overrides go on top of every file.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::locate::{line_of, located};
use super::{Overrides, ScenarioError, SourceFile};

const MAX_EXTENDS_DEPTH: usize = 16;

/// The fields a scenario file sets at its top level.
const TOP_LEVEL: [&str; 22] = [
    "name",
    "description",
    "extends",
    "start",
    "horizon_years",
    "burn_in_months",
    "warm_start",
    "population",
    "need",
    "risk_factors",
    "household",
    "assets",
    "events",
    "episodes",
    "handoff",
    "interventions",
    "shocks",
    "provider_failures",
    "risk_score",
    "economics",
    "uncertainty",
    "optimise",
];

/// Reads a scenario file's text; the disk, or text held elsewhere.
pub(super) type Read<'a> = &'a dyn Fn(&Path) -> std::io::Result<String>;

/// Every file of the chain, the scenario's own first, each with its table.
pub(super) fn chain(
    path: &Path,
    read: Read,
) -> Result<(Vec<SourceFile>, Vec<toml::Table>), ScenarioError> {
    let mut files: Vec<SourceFile> = Vec::new();
    let mut tables: Vec<toml::Table> = Vec::new();
    let mut next = Some(path.to_path_buf());
    while let Some(p) = next.take() {
        refuse_cycle(&files, &p)?;
        if files.len() >= MAX_EXTENDS_DEPTH {
            return Err(ScenarioError {
                file: path.to_path_buf(),
                inherited_by: None,
                line: None,
                field: Some("extends".into()),
                message: format!("`extends` goes more than {MAX_EXTENDS_DEPTH} files deep"),
            });
        }
        let (file, table) = read_one(&p, files.last(), read)?;
        next = extended(&file, &table)?;
        files.push(file);
        tables.push(table);
    }
    Ok((files, tables))
}

/// The chain's tables merged from the base outwards, overrides last.
pub(super) fn merged(tables: &[toml::Table], overrides: &Overrides) -> toml::Table {
    let mut merged = toml::Table::new();
    for t in tables.iter().rev() {
        merge(&mut merged, t.clone());
    }
    if let Some(years) = overrides.horizon_years {
        merged.insert("horizon_years".into(), toml::Value::Integer(years as i64));
    }
    merged
}

/// Refuses `p` if it is already in the chain. Paths are compared canonically,
/// so `a/../b.toml` and `b.toml` are one file; a file that cannot be
/// canonicalised (not on disk) never matches.
fn refuse_cycle(files: &[SourceFile], p: &Path) -> Result<(), ScenarioError> {
    let canonical = p.canonicalize().ok();
    if !files
        .iter()
        .any(|f| f.path.canonicalize().ok() == canonical && canonical.is_some())
    {
        return Ok(());
    }
    let chain: Vec<String> = files.iter().map(|f| f.path.display().to_string()).collect();
    let from = files.last().expect("a file extends this one");
    Err(located(
        from,
        &["extends".into()],
        format!(
            "`extends` makes a cycle: {} → {}; a scenario cannot extend itself",
            chain.join(" → "),
            p.display()
        ),
    ))
}

/// Reads and parses one file; `from` is the file that extends it, if any,
/// which is blamed when it cannot be read.
fn read_one(
    p: &Path,
    from: Option<&SourceFile>,
    read: Read,
) -> Result<(SourceFile, toml::Table), ScenarioError> {
    let text = read(p).map_err(|e| match from {
        Some(from) => located(
            from,
            &["extends".into()],
            format!("cannot read the extended file {}: {e}", p.display()),
        ),
        None => ScenarioError {
            file: p.to_path_buf(),
            inherited_by: None,
            line: None,
            field: None,
            message: format!("cannot read the file: {e}"),
        },
    })?;
    if text.trim().is_empty() {
        return Err(ScenarioError {
            file: p.to_path_buf(),
            inherited_by: None,
            line: None,
            field: None,
            message: "the file is empty; a scenario needs at least `name` and `extends` (or a full set of tables)"
                .into(),
        });
    }
    let table: toml::Table = toml::from_str(&text).map_err(|e| {
        let line = e.span().map(|s| line_of(&text, s.start));
        let line_text = line.and_then(|l| text.lines().nth(l - 1)).unwrap_or("");
        ScenarioError {
            file: p.to_path_buf(),
            inherited_by: None,
            line,
            field: None,
            message: super::words::toml_syntax(e.message(), line_text),
        }
    })?;
    // A file extended by another may be any TOML file the scenario names:
    // one that sets nothing a scenario sets is refused before any of its
    // keys can be quoted in an error.
    if let Some(from) = from.filter(|_| !table.keys().any(|k| TOP_LEVEL.contains(&k.as_str()))) {
        return Err(located(
            from,
            &["extends".into()],
            format!(
                "{} is not a scenario file: it sets none of a scenario's fields (such as name, population, services or interventions)",
                p.display()
            ),
        ));
    }
    let file = SourceFile {
        sha256: hex(&Sha256::digest(text.as_bytes())),
        path: p.to_path_buf(),
        text,
    };
    // Before anything follows `extends` or copies a name.
    super::text::check(&file, &table)?;
    Ok((file, table))
}

/// The file that `file` extends, relative to its folder, if it names one.
fn extended(file: &SourceFile, table: &toml::Table) -> Result<Option<PathBuf>, ScenarioError> {
    match table.get("extends") {
        None => Ok(None),
        Some(toml::Value::String(parent)) => {
            let dir = file.path.parent().unwrap_or(Path::new("."));
            Ok(Some(dir.join(parent)))
        }
        Some(other) => Err(located(
            file,
            &["extends".into()],
            format!(
                "expected the path of a scenario file, found {}",
                other.type_str()
            ),
        )),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The keys that hold a parameter's value: a file that gives one replaces
/// whichever the file it extends gave.
const VALUE_KEYS: [&str; 4] = [
    "value",
    "per_1000_residents",
    "per_1000_children",
    "per_1000_households",
];

/// Tables merge key by key; anything else is replaced.
fn merge(base: &mut toml::Table, over: toml::Table) {
    if VALUE_KEYS.iter().any(|k| over.contains_key(*k)) {
        base.retain(|k, _| !VALUE_KEYS.contains(&k));
    }
    for (k, v) in over {
        match (base.get_mut(&k), v) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => merge(b, o),
            (_, v) => {
                base.insert(k, v);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_top_level_fields_are_the_schemas() {
        let e = toml::from_str::<super::super::schema::Scenario>("zzz = 1")
            .unwrap_err()
            .to_string();
        let listed = e
            .split("expected one of")
            .nth(1)
            .expect("the fields listed");
        let fields: Vec<&str> = listed.split('`').skip(1).step_by(2).collect();
        let mut ours = TOP_LEVEL.to_vec();
        let mut theirs = fields.clone();
        ours.sort();
        theirs.sort();
        assert_eq!(ours, theirs);
    }

    #[test]
    fn an_extended_file_that_is_not_a_scenario_is_not_quoted() {
        let read = |p: &Path| -> std::io::Result<String> {
            Ok(match p.to_str().unwrap() {
                "s.toml" => "name = \"s\"\nextends = \"secrets.toml\"\n".into(),
                _ => "[registry]\ntoken = \"hunter2\"\n".into(),
            })
        };
        let e = chain(Path::new("s.toml"), &read).unwrap_err();
        let shown = e.to_string();
        assert!(shown.contains("not a scenario file"), "{shown}");
        assert!(
            !shown.contains("registry") && !shown.contains("hunter2"),
            "{shown}"
        );
        assert_eq!((e.line, e.field.as_deref()), (Some(2), Some("extends")));
    }

    #[test]
    fn merge_overrides_leaves_and_keeps_siblings() {
        let mut base: toml::Table = toml::from_str("a = 1\n[t]\nx = 1\ny = [1, 2]\n").unwrap();
        let over: toml::Table = toml::from_str("[t]\ny = [3]\nz = 2\n").unwrap();
        merge(&mut base, over);
        let expect: toml::Table = toml::from_str("a = 1\n[t]\nx = 1\ny = [3]\nz = 2\n").unwrap();
        assert_eq!(base, expect);
    }

    #[test]
    fn a_value_given_per_1000_replaces_an_amount_and_back() {
        let mut base: toml::Table =
            toml::from_str("c = { value = 400, source = \"s\" }\n").unwrap();
        merge(
            &mut base,
            toml::from_str("c = { per_1000_residents = 2.0 }\n").unwrap(),
        );
        let expect: toml::Table =
            toml::from_str("c = { per_1000_residents = 2.0, source = \"s\" }\n").unwrap();
        assert_eq!(base, expect);
        merge(&mut base, toml::from_str("c = { value = 150 }\n").unwrap());
        let expect: toml::Table = toml::from_str("c = { value = 150, source = \"s\" }\n").unwrap();
        assert_eq!(base, expect);
    }
}
