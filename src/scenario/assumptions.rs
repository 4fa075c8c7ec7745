//! The assumptions a scenario carries: every parameter of the merged scenario
//! with its value, its evidence and the file that sets it.
//!
//! Contract: one [`Assumption`] per leaf value, in the merged table's key
//! order. A table's own `source` and `confidence` apply to the parameters
//! inside it that carry none; `name`, `description` and `extends` are not
//! parameters. Each is credited to the most derived file that defines it.

use super::locate::{dotted, split_path};
use super::{Assumption, SourceFile};

/// Every parameter of the merged scenario with its value and evidence.
pub(super) fn assumptions(merged: &toml::Table, files: &[SourceFile]) -> Vec<Assumption> {
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

/// Whether `table` (one file, before merging) sets the value at `path`.
pub(super) fn defines(table: &toml::Table, path: &[String]) -> bool {
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
