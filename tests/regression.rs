//! Regression baseline: a small fixed run's summary.json and economics.json,
//! committed under tests/regression/, compared value by value on every test
//! run. A model change that moves results fails here with a table of what
//! moved. This test catches change, not faults: a fault made beside an
//! intended change would be blessed along with it. So bless only when every
//! other test passes (the property, mechanism and known-answer tests are
//! what catch faults), then commit, so the difference shows in review:
//!
//! ```sh
//! cargo test --release -- --skip regression::   # all green first
//! UPSTREAM_BLESS=1 cargo test --release --test integration regression::
//! git diff tests/regression
//! ```

use std::fs;
use std::path::Path;

use serde_json::Value;

const FILES: [&str; 2] = ["summary.json", "economics.json"];

/// Numbers may differ in the last bits between maths libraries; anything
/// larger is a change in the model.
const RELATIVE: f64 = 1e-9;

fn differences(path: &str, old: &Value, new: &Value, out: &mut Vec<String>) {
    match (old, new) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in a {
                let p = format!("{path}.{k}");
                match b.get(k) {
                    Some(w) => differences(&p, v, w, out),
                    None => out.push(format!("{p}: {v} → (gone)")),
                }
            }
            for (k, w) in b {
                if !a.contains_key(k) {
                    out.push(format!("{path}.{k}: (new) → {w}"));
                }
            }
        }
        (Value::Array(a), Value::Array(b)) => {
            if a.len() != b.len() {
                out.push(format!("{path}: {} items → {}", a.len(), b.len()));
            }
            for (i, (v, w)) in a.iter().zip(b).enumerate() {
                differences(&format!("{path}[{i}]"), v, w, out);
            }
        }
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
            if (x - y).abs() > RELATIVE * x.abs().max(y.abs()) {
                out.push(format!("{path}: {x} → {y}"));
            }
        }
        _ if old != new => out.push(format!("{path}: {old} → {new}")),
        _ => {}
    }
}

/// What legitimately differs between machines: the thread count.
fn comparable(mut v: Value) -> Value {
    if let Some(s) = v.get_mut("settings").and_then(Value::as_object_mut) {
        s.remove("threads");
    }
    v
}

#[test]
fn a_small_fixed_run_matches_its_committed_results() {
    let tmp = tempfile::tempdir().unwrap();
    let out_dir = tmp.path().join("out");
    let out = crate::common::upstream(&[
        "run",
        "tests/fixtures/small.toml",
        "tests/fixtures/small_hubs.toml",
        "-r",
        "4",
        "--seed",
        "20260401",
        "--no-report",
        "-q",
        "-o",
        out_dir.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let committed = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/regression");
    if std::env::var_os("UPSTREAM_BLESS").is_some() {
        fs::create_dir_all(&committed).unwrap();
        for f in FILES {
            fs::copy(out_dir.join(f), committed.join(f)).unwrap();
        }
        eprintln!("blessed: review and commit {}", committed.display());
        return;
    }
    let mut moved = Vec::new();
    for f in FILES {
        let read = |dir: &Path| -> Value {
            let text = fs::read_to_string(dir.join(f)).unwrap_or_else(|e| {
                panic!(
                    "{}: {e} (bless with UPSTREAM_BLESS=1)",
                    dir.join(f).display()
                )
            });
            comparable(serde_json::from_str(&text).unwrap())
        };
        differences(f, &read(&committed), &read(&out_dir), &mut moved);
    }
    let shown: Vec<&String> = moved.iter().take(40).collect();
    assert!(
        moved.is_empty(),
        "{} values moved from the committed results (old → new). This test sees change, not \
         faults: before blessing, every other test must pass (`cargo test --release -- --skip \
         regression::`), since a fault made beside an intended change would be blessed with it. \
         If the change is intended and the rest is green, run UPSTREAM_BLESS=1 cargo test \
         --release --test integration regression:: and commit tests/regression:\n{}",
        moved.len(),
        shown
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn the_comparison_finds_a_moved_number_a_new_key_and_a_changed_text() {
    let old: Value = serde_json::json!({"a": {"b": 1.0, "c": "x"}, "d": [1, 2]});
    let new: Value = serde_json::json!({"a": {"b": 1.0 + 1e-6, "c": "y", "e": 0}, "d": [1, 2]});
    let mut out = Vec::new();
    differences("f", &old, &new, &mut out);
    assert_eq!(out.len(), 3, "{out:?}");
    let mut same = Vec::new();
    let nearly: Value = serde_json::json!({"a": {"b": 1.0 + 1e-13, "c": "x"}, "d": [1, 2]});
    differences("f", &old, &nearly, &mut same);
    assert!(same.is_empty(), "{same:?}");
}
