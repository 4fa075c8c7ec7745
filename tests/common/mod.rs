//! Helpers shared by the integration tests.

use std::fs;
use std::process::{Command, Output};

/// Runs the `upstream` binary from the repository folder.
pub fn upstream(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_upstream"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the binary runs")
}

/// The small borough and its hubs (`tests/fixtures`), planned with these
/// replicates, seed, threads and horizon in years.
pub fn small_hubs_plan(
    replicates: u32,
    seed: u64,
    threads: usize,
    years: u32,
) -> upstream::app::Plan {
    let request = upstream::app::Request {
        scenarios: ["small.toml", "small_hubs.toml"]
            .map(|f| {
                std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("tests/fixtures")
                    .join(f)
            })
            .to_vec(),
        replicates,
        seed,
        threads: Some(threads),
        years: Some(years),
        ..upstream::app::Request::default()
    };
    upstream::app::Plan::new(&request).unwrap()
}

/// A bad input: exit code 2, a message naming what and where, nothing written.
pub fn assert_rejected(scenario_text: &str, expect: &[&str]) {
    let tmp = tempfile::tempdir().unwrap();
    let root = env!("CARGO_MANIFEST_DIR");
    let text = scenario_text.replace("BASELINE", &format!("{root}/scenarios/baseline.toml"));
    let file = tmp.path().join("bad.toml");
    fs::write(&file, text).unwrap();
    let out_dir = tmp.path().join("out");
    let out = upstream(&[
        "run",
        file.to_str().unwrap(),
        "-r",
        "1",
        "-o",
        out_dir.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr: {stderr}");
    for e in expect {
        assert!(stderr.contains(e), "expected {e:?} in: {stderr}");
    }
    assert_eq!(
        stderr.trim().lines().count(),
        1,
        "one clear paragraph: {stderr}"
    );
    assert!(!out_dir.exists(), "no output folder for bad input");
}

/// Every file under `dir`, by its path relative to `dir`.
pub fn every_file(dir: &std::path::Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    let mut out = std::collections::BTreeMap::new();
    let mut folders = vec![dir.to_path_buf()];
    while let Some(f) = folders.pop() {
        for e in fs::read_dir(&f).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                folders.push(p);
            } else {
                let rel = p.strip_prefix(dir).unwrap().to_string_lossy().into_owned();
                out.insert(rel, fs::read(&p).unwrap());
            }
        }
    }
    out
}

/// A workbook sheet's first row, as text.
pub fn header_of(sheet: &calamine::Range<calamine::Data>) -> Vec<String> {
    sheet
        .rows()
        .next()
        .unwrap()
        .iter()
        .map(|c| c.to_string())
        .collect()
}

/// Runs `upstream ARGS` and fails, with its errors, if it fails.
pub fn ok(args: &[&str]) {
    let out = upstream(args);
    assert!(
        out.status.success(),
        "upstream {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `upstream merge PARTS -o OUT -q EXTRA`.
pub fn merge(parts: &[std::path::PathBuf], out: &std::path::Path, extra: &[&str]) -> Output {
    let mut args = vec!["merge"];
    args.extend(parts.iter().map(|p| p.to_str().unwrap()));
    args.extend(["-o", out.to_str().unwrap(), "-q"]);
    args.extend(extra);
    upstream(&args)
}

/// `upstream merge PARTS -o OUT -q EXTRA`, which must succeed.
pub fn merge_ok(parts: &[std::path::PathBuf], out: &std::path::Path, extra: &[&str]) {
    let got = merge(parts, out, extra);
    assert!(
        got.status.success(),
        "{}",
        String::from_utf8_lossy(&got.stderr)
    );
}

/// A merge of `parts` that is refused as an input error saying each of
/// `expect`, and writes nothing.
pub fn refused_merge(
    parts: &[std::path::PathBuf],
    out: &std::path::Path,
    extra: &[&str],
    expect: &[&str],
) {
    let got = merge(parts, out, extra);
    let stderr = String::from_utf8_lossy(&got.stderr);
    assert_eq!(got.status.code(), Some(2), "{stderr}");
    for e in expect {
        assert!(stderr.contains(e), "expected {e:?} in: {stderr}");
    }
    assert!(!out.exists(), "nothing written for a bad merge");
}
