//! The scenario parser on damaged input: every bundled scenario cut short at
//! every line, with each line deleted, and with each number replaced by
//! extreme values. Nothing may panic, and every rejection must be a clear
//! one-line error naming the file. (The same check, driven by a
//! coverage-guided fuzzer, is `fuzz/fuzz_targets/scenario.rs`.)

use std::fs;
use std::path::{Path, PathBuf};

use upstream::scenario::{self, Overrides};

fn bundled() -> Vec<(String, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut v: Vec<(String, String)> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                fs::read_to_string(&p).unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

/// Loads `text` as scenarios/fuzz.toml, the bundled files beside it as they
/// are; returns the error message, if any.
fn check(text: &str, files: &[(String, String)]) -> Option<String> {
    let dir = PathBuf::from("scenarios");
    let top = dir.join("fuzz.toml");
    let read = |p: &Path| -> std::io::Result<String> {
        if p == top {
            return Ok(text.to_string());
        }
        let name = p.file_name().map(|n| n.to_string_lossy().into_owned());
        files
            .iter()
            .find(|(n, _)| Some(n) == name.as_ref())
            .map(|(_, t)| t.clone())
            .ok_or_else(|| std::io::Error::from(std::io::ErrorKind::NotFound))
    };
    match scenario::load_from(&top, &Overrides::default(), &read) {
        Ok(loaded) => {
            // What is accepted must also run: a small version for a few
            // months, every running count checked.
            let mut c = loaded.config;
            if c.population.starting.is_none() {
                c.population.residents = c.population.residents.min(800);
            }
            c.burn_in_months = c.burn_in_months.min(3);
            c.months = c.months.min(14);
            let mut engine = upstream::engine::Engine::new(&c, 1, 0);
            for _ in 0..c.burn_in_months + c.months {
                engine.step();
            }
            if let Err(e) = engine.check_invariants() {
                panic!("an accepted scenario breaks an invariant ({e}):\n{text}");
            }
            None
        }
        Err(e) => Some(e.to_string()),
    }
}

fn assert_clear(message: &str, input: &str) {
    assert!(
        !message.trim().is_empty() && !message.trim().contains('\n'),
        "an unclear error {message:?} for:\n{input}"
    );
    assert!(
        message.contains("scenarios/"),
        "the error does not name the file: {message:?}"
    );
}

#[test]
fn damaged_scenarios_never_panic_and_every_rejection_is_clear() {
    let files = bundled();
    assert!(files.len() >= 7);
    let (mut accepted, mut rejected) = (0, 0);
    let mut tally = |result: Option<String>, input: &str| match result {
        None => accepted += 1,
        Some(m) => {
            assert_clear(&m, input);
            rejected += 1;
        }
    };
    for (_, text) in &files {
        let lines: Vec<&str> = text.lines().collect();
        for cut in 0..=lines.len() {
            let shortened = lines[..cut].join("\n");
            tally(check(&shortened, &files), &shortened);
        }
        for drop in 0..lines.len() {
            let mut without = lines.clone();
            without.remove(drop);
            let without = without.join("\n");
            tally(check(&without, &files), &without);
        }
        // Every number in turn made extreme, negative, fractional or not a
        // number at all.
        for (i, line) in lines.iter().enumerate() {
            let Some(at) = line.find(|c: char| c.is_ascii_digit()) else {
                continue;
            };
            let end = line[at..]
                .find(|c: char| !(c.is_ascii_digit() || c == '_' || c == '.'))
                .map_or(line.len(), |e| at + e);
            for replacement in [
                "0",
                "-1",
                "1e308",
                "99999999999999999999",
                "0.5",
                "nan",
                "inf",
                "\"x\"",
            ] {
                let mut changed = lines.clone();
                let edited = format!("{}{replacement}{}", &line[..at], &line[end..]);
                changed[i] = &edited;
                let changed = changed.join("\n");
                tally(check(&changed, &files), &changed);
            }
        }
    }
    eprintln!("{accepted} damaged scenarios accepted, {rejected} rejected clearly");
    assert!(
        rejected > 1000 && accepted > 100,
        "{accepted} accepted, {rejected} rejected"
    );
}

#[test]
fn bytes_that_are_not_text_are_rejected_clearly() {
    let files = bundled();
    for input in [
        "\u{0}\u{1}\u{2}",
        "name = \"x\"\u{0}",
        "[[[",
        "name = \"\u{202e}\"",
        "\u{feff}",
    ] {
        let m = check(input, &files).unwrap_or_else(|| panic!("accepted: {input:?}"));
        assert_clear(&m, input);
    }
}
