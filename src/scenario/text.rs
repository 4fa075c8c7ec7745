//! Limits on the text a scenario file holds: every string in it and every
//! table key, checked in each file as soon as it is read, before anything
//! else uses the text.
//!
//! Contract: `description` and `source` hold at most [`MAX_PROSE`]
//! characters, file paths (`extends`, `starting_state`) at most
//! [`MAX_PROSE`] too, and every other text (names, ids, keys, choices such
//! as `payer`) at most [`MAX_NAME`]. A name is repeated on every row of the
//! output files, so its length multiplies: a 1 MB name once needed a
//! gigabyte of memory, and a spreadsheet cell holds at most [`MAX_CELL`]
//! characters.
//!
//! No text holds a control character (NUL, escape, and the like: Unicode's
//! category Cc), which would pass into CSV and HTML files and can mislead a
//! terminal, except that a description or source may hold line breaks and
//! tabs, as prose written over several lines does.
//!
//! After the whole scenario is validated, [`fits_a_cell`] checks each
//! parameter's value as the outputs write it: a long list of names can
//! outgrow a cell even when each name is short.

use super::locate::{dotted, locate, located};
use super::{Assumption, ScenarioError, SourceFile};
use crate::format::count;
pub use crate::input::{MAX_NAME, MAX_PROSE};
use crate::input::{TextKind as Kind, quote, text_fault as fault};

/// The most characters a spreadsheet cell holds (Excel's limit, in UTF-16
/// units).
pub const MAX_CELL: usize = 32_767;

/// What a text is, by the key it is written under.
fn kind_of(key: &str) -> Kind {
    match key {
        "description" | "source" => Kind::Prose,
        "extends" | "starting_state" => Kind::Path,
        _ => Kind::Name,
    }
}

/// Checks every text and key of one file's table.
pub(super) fn check(file: &SourceFile, table: &toml::Table) -> Result<(), ScenarioError> {
    walk_table(file, table, &mut Vec::new())
}

fn walk_table(
    file: &SourceFile,
    table: &toml::Table,
    path: &mut Vec<String>,
) -> Result<(), ScenarioError> {
    for (k, v) in table {
        if let Some(why) = fault(k, Kind::Name) {
            // Named by the table that holds it: the key itself may be too
            // long, or too strange, to print.
            let mut at = path.clone();
            at.push(k.clone());
            let mut e = located(file, &at, format!("the name \"{}\": {why}", quote(k)));
            e.field = (!path.is_empty()).then(|| dotted(path));
            return Err(e);
        }
        path.push(k.clone());
        walk_value(file, v, kind_of(k), path)?;
        path.pop();
    }
    Ok(())
}

fn walk_value(
    file: &SourceFile,
    value: &toml::Value,
    kind: Kind,
    path: &mut Vec<String>,
) -> Result<(), ScenarioError> {
    match value {
        toml::Value::String(s) => match fault(s, kind) {
            Some(why) => Err(located(file, path, why)),
            None => Ok(()),
        },
        toml::Value::Table(t) => walk_table(file, t, path),
        toml::Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                path.push(i.to_string());
                walk_value(file, item, kind, path)?;
                path.pop();
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// Refuses a parameter whose value, written out as the outputs write it,
/// would not fit in a spreadsheet cell.
pub(super) fn fits_a_cell(
    files: &[SourceFile],
    assumptions: &[Assumption],
) -> Result<(), ScenarioError> {
    for a in assumptions {
        // Counted as the workbook's writer counts, in UTF-16 units: an
        // emoji takes two.
        let n = a.value.encode_utf16().count();
        if n > MAX_CELL {
            return Err(locate(
                files,
                &super::locate::split_path(&a.parameter),
                format!(
                    "expected a value that fits in a spreadsheet cell when written out ({} characters at most), found {}; shorten the list or its names",
                    count(MAX_CELL as f64),
                    count(n as f64)
                ),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_depend_on_the_kind_of_text() {
        let name = "x".repeat(MAX_NAME);
        assert_eq!(fault(&name, Kind::Name), None);
        assert!(fault(&format!("{name}x"), Kind::Name).is_some_and(|m| m.contains("200")));
        assert_eq!(fault(&format!("{name}x"), Kind::Prose), None);
        let prose = "x".repeat(MAX_PROSE + 1);
        assert!(fault(&prose, Kind::Prose).is_some_and(|m| m.contains("2,000")));
        assert!(fault(&prose, Kind::Path).is_some());
    }

    #[test]
    fn only_prose_may_hold_line_breaks_and_tabs() {
        assert_eq!(fault("one\ntwo\tthree\r\n", Kind::Prose), None);
        for kind in [Kind::Name, Kind::Path] {
            assert!(fault("one\ntwo", kind).is_some());
        }
        for kind in [Kind::Name, Kind::Prose, Kind::Path] {
            let m = fault("ab\0c", kind).unwrap();
            assert!(m.contains("U+0000 at character 3"), "{m}");
            assert!(fault("\u{1b}[31m", kind).is_some());
            assert!(fault("\u{85}", kind).is_some());
        }
    }

    #[test]
    fn each_key_gets_the_rules_of_its_kind_of_text() {
        let file = |text: &str| SourceFile {
            path: "s.toml".into(),
            sha256: String::new(),
            text: text.into(),
        };
        let long = "p".repeat(MAX_NAME + 100);
        for key in ["extends", "starting_state", "description", "source"] {
            let text = format!("{key} = \"{long}\"\n");
            let table: toml::Table = toml::from_str(&text).unwrap();
            assert!(check(&file(&text), &table).is_ok(), "{key}");
        }
        let text = format!("name = \"{long}\"\n");
        let table: toml::Table = toml::from_str(&text).unwrap();
        assert!(check(&file(&text), &table).is_err());
        let text = "description = \"one\\ntwo\"\nsource = \"a\\tb\"\n";
        let table: toml::Table = toml::from_str(text).unwrap();
        assert!(check(&file(text), &table).is_ok());
        let text = "starting_state = \"a\\nb.csv\"\n";
        let table: toml::Table = toml::from_str(text).unwrap();
        assert!(check(&file(text), &table).is_err());
    }

    #[test]
    fn a_cell_is_measured_as_the_workbook_measures_it() {
        let files = [SourceFile {
            path: "s.toml".into(),
            sha256: String::new(),
            text: "[population]\nneighbourhood_names = []\n".into(),
        }];
        let names = |n: usize| Assumption {
            parameter: "population.neighbourhood_names".into(),
            value: "\u{1f3e0}".repeat(n),
            source: None,
            confidence: None,
            file: String::new(),
        };
        assert!(fits_a_cell(&files, &[names(MAX_CELL / 2)]).is_ok());
        let e = fits_a_cell(&files, &[names(MAX_CELL / 2 + 1)]).unwrap_err();
        assert_eq!(e.line, Some(2));
        assert!(e.message.contains("found 32,768"), "{e}");
    }
}
