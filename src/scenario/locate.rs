//! Where in the files a problem lies: turns a dotted field path into the file
//! and line that set it.
//!
//! Contract: an error names the most derived file that says the deepest part of
//! the field's path, and the line where that part is written. When no file
//! says any of it, the error names the scenario's own file and no line. Paths
//! are written as people read them: `interventions.hubs.effects[1].multiplier`.

use toml::de::{DeTable, DeValue};

use super::{ScenarioError, SourceFile};

pub(super) fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())]
        .bytes()
        .filter(|&b| b == b'\n')
        .count()
        + 1
}

pub(super) fn path_segments(path: &serde_path_to_error::Path) -> Vec<String> {
    use serde_path_to_error::Segment;
    path.iter()
        .filter_map(|s| match s {
            Segment::Map { key } => Some(key.clone()),
            Segment::Seq { index } => Some(index.to_string()),
            _ => None,
        })
        .collect()
}

pub(super) fn split_path(path: &str) -> Vec<String> {
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

pub(super) fn dotted(path: &[String]) -> String {
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
pub(super) fn locate(files: &[SourceFile], path: &[String], message: String) -> ScenarioError {
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
            inherited_by: (f.path != files[0].path && field.is_some())
                .then(|| files[0].path.clone()),
            line: Some(line_of(&f.text, offset)),
            field,
            message,
        },
        None => ScenarioError {
            file: files[0].path.clone(),
            line: None,
            field,
            message,
            ..Default::default()
        },
    }
}

/// As [`locate`], in one file only.
pub(super) fn located(file: &SourceFile, path: &[String], message: String) -> ScenarioError {
    locate(std::slice::from_ref(file), path, message)
}

#[cfg(test)]
mod tests {
    use super::*;

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
