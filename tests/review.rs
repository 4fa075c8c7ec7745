//! Review (`upstream review`): on a history the model made whose second
//! year comes from A&E attendance rates 30% above the projection's, the
//! first year lies inside the projection's band and the second above it,
//! and the assumption that closes most of the gap is the A&E rate at the
//! high end of its range, while a unit cost closes none of it; and a run
//! that cannot be re-made as it was (a changed scenario file, a changed
//! published figure, an unnamed scenario among several) is refused.

use std::fs;
use std::path::{Path, PathBuf};

use upstream::replicates::RunSettings;
use upstream::scenario::Loaded;

use crate::common::upstream;

const SMALL: &str = "tests/fixtures/small.toml";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs `upstream` and returns (exit code, stdout, stderr).
fn cli(args: &[&str]) -> (Option<i32>, String, String) {
    said(upstream(args))
}

/// As [`cli`], run in the folder `dir`.
fn cli_in(dir: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    said(
        std::process::Command::new(env!("CARGO_BIN_EXE_upstream"))
            .args(args)
            .current_dir(dir)
            .output()
            .unwrap(),
    )
}

fn said(out: std::process::Output) -> (Option<i32>, String, String) {
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// One replicate of `scenario` under seed 99: each of `observations`'
/// counts.
fn one_history(scenario: &Loaded, observations: &upstream::observed::Observed) -> Vec<f64> {
    let settings = RunSettings {
        replicates: 1,
        seed: 99,
        threads: Some(2),
    };
    let run = upstream::replicates::run(&[&scenario.config], &settings, &|| {}).unwrap();
    let r = &run.scenarios[0];
    observations
        .observations
        .iter()
        .map(|o| o.simulated(&r.series[0], &r.layout))
        .collect()
}

/// What happened: A&E attendances and police incidents in each financial
/// year, the first year as the scenario states, the second from a run with
/// A&E rates 30% higher (both under another seed than the projection's).
fn what_happened() -> String {
    let scenario = upstream::app::load(&root().join(SMALL), &Default::default()).unwrap();
    let rows = [
        ("service.ae_attendance.events", "2026/27"),
        ("service.ae_attendance.events", "2027/28"),
        ("service.police_incident.events", "2026/27"),
        ("service.police_incident.events", "2027/28"),
    ];
    let csv = |counts: &[f64]| -> String {
        let mut t = String::from("metric,period,count\n");
        for ((m, p), c) in rows.iter().zip(counts) {
            t.push_str(&format!("{m},{p},{c}\n"));
        }
        t
    };
    let shape = upstream::observed::parse(Path::new("x.csv"), &csv(&[0.0; 4]), &scenario).unwrap();
    let name = "events.ae_attendance.rate_per_month";
    let higher: Vec<f64> = scenario
        .number(name)
        .unwrap()
        .iter()
        .map(|x| x * 1.3)
        .collect();
    let changed = scenario.with_numbers(&[(name, &higher)]).unwrap();
    let before = one_history(&scenario, &shape);
    let after = one_history(&changed, &shape);
    // The A&E count of the second year from the changed rates; everything
    // else as stated.
    csv(&[before[0], after[1], before[2], before[3]])
}

#[test]
fn a_change_part_way_leaves_the_band_when_it_happens_and_its_assumption_closes_the_gap() {
    let tmp = tempfile::tempdir().unwrap();
    let run_dir = tmp.path().join("run");
    let (code, _, err) = cli(&[
        "run",
        SMALL,
        "-r",
        "8",
        "--seed",
        "3",
        "--no-report",
        "-q",
        "-o",
        run_dir.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(0), "{err}");
    let obs = tmp.path().join("observed.csv");
    fs::write(&obs, what_happened()).unwrap();
    let out_dir = tmp.path().join("review");
    let (code, stdout, err) = cli(&[
        "review",
        run_dir.to_str().unwrap(),
        "--observed",
        obs.to_str().unwrap(),
        "-o",
        out_dir.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        stdout.contains("service.ae_attendance.events left the band in 2027/28, above it"),
        "{stdout}"
    );
    let review = fs::read_to_string(out_dir.join("review.csv")).unwrap();
    let sides: Vec<&str> = review
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(7).unwrap())
        .collect();
    // Police incidents are as stated, so each falls inside a band of 8
    // replicates or not by chance alone; A&E attendances do not.
    assert_eq!(sides[..2], ["inside", "above"], "{review}");
    let levers = fs::read_to_string(out_dir.join("levers.csv")).unwrap();
    let first = levers.lines().nth(1).unwrap();
    assert!(
        first.starts_with("events.ae_attendance.rate_per_month,high,"),
        "{levers}"
    );
    // A unit cost moves no count: it closes none of the gap.
    let cost = levers
        .lines()
        .find(|l| l.starts_with("events.ae_attendance.unit_cost,"))
        .unwrap();
    let closes: f64 = cost.split(',').nth(5).unwrap().parse().unwrap();
    assert_eq!(closes, 0.0, "{cost}");
    assert!(out_dir.join("charts/review-1.svg").exists());
    assert!(out_dir.join("charts/review-2.png").exists());
    // The page says what the terminal says, and tables the same rows.
    let page = fs::read_to_string(out_dir.join("report.html")).unwrap();
    assert!(
        page.contains("service.ae_attendance.events left the band in 2027/28, above it"),
        "{page}"
    );
    let summary = stdout
        .lines()
        .find(|l| l.contains("observed counts lie outside"))
        .unwrap();
    assert!(page.contains(&summary.replace('\'', "&#39;")), "{summary}");
    // Its count is review.csv's: the rows outside the band, of all rows.
    let outside = sides.iter().filter(|s| **s != "inside").count();
    assert!(
        summary.contains(&format!(
            "{outside} of {} observed counts lie outside",
            sides.len()
        )),
        "{summary}: {sides:?}"
    );
    assert!(page.contains("<code>events.ae_attendance.rate_per_month</code>"));
    assert_eq!(page.matches("<figure").count(), 2);
    // The run and the counts are named by their own names: the folders of
    // the machine that made the review stay there (issue 37, fault 7).
    let tmp_name = tmp.path().file_name().unwrap().to_str().unwrap();
    assert!(!page.contains(tmp_name), "the page names {tmp_name}");
    assert!(page.contains("upstream review run "), "{page}");
}

#[test]
fn a_run_that_cannot_be_made_again_as_it_was_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    // A scenario the test can change after the run.
    let mine = tmp.path().join("mine.toml");
    let text = format!(
        "name = \"Mine\"\nextends = \"{}\"\n",
        root().join(SMALL).display()
    );
    fs::write(&mine, &text).unwrap();
    let run_dir = tmp.path().join("run");
    let small = root().join(SMALL);
    let here = tmp.path();
    let (code, _, err) = cli_in(
        here,
        &[
            "run",
            "mine.toml",
            small.to_str().unwrap(),
            "-r",
            "8",
            "--no-report",
            "-q",
            "-o",
            "run",
        ],
    );
    assert_eq!(code, Some(0), "{err}");
    let obs = tmp.path().join("observed.csv");
    fs::write(
        &obs,
        "metric,period,count\nservice.ae_attendance.events,2026/27,2300\n",
    )
    .unwrap();
    let out_dir = tmp.path().join("review");
    let review = |scenario: Option<&str>| {
        let mut args = vec![
            "review",
            run_dir.to_str().unwrap(),
            "--observed",
            obs.to_str().unwrap(),
            "-o",
            out_dir.to_str().unwrap(),
        ];
        if let Some(s) = scenario {
            args.extend(["--scenario", s]);
        }
        cli_in(here, &args)
    };
    let (code, _, err) = review(None);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("name one with --scenario"), "{err}");
    assert!(err.contains("\"Mine\", \"Small borough\""), "{err}");
    let (code, _, err) = review(Some("Nobody"));
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("the run has no scenario \"Nobody\""), "{err}");
    // As it was, it reviews; from another folder, the recorded paths do
    // not lead to the files, and it says where to review from.
    let (code, _, err) = review(Some("Mine"));
    assert_eq!(code, Some(0), "{err}");
    let (code, _, err) = cli(&[
        "review",
        run_dir.to_str().unwrap(),
        "--observed",
        obs.to_str().unwrap(),
        "--scenario",
        "Mine",
        "-o",
        out_dir.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("mine.toml cannot be read"), "{err}");
    assert!(err.contains("review from there"), "{err}");
    // A published figure changed: the projection made again differs.
    let series = run_dir.join("timeseries.csv");
    let published = fs::read_to_string(&series).unwrap();
    let line = published
        .lines()
        .find(|l| l.starts_with("Mine,1,service.ae_attendance.events,"))
        .unwrap()
        .to_string();
    let mean = line.split(',').nth(3).unwrap();
    let bumped = line.replacen(mean, &format!("{}1", mean), 1);
    fs::write(&series, published.replace(&line, &bumped)).unwrap();
    let (code, _, err) = review(Some("Mine"));
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("does not match its timeseries.csv (service.ae_attendance.events in month 1:"),
        "{err}"
    );
    // Made by this version from the same files: the published file was
    // changed, and another version would not help (issue 37, fault 17).
    assert!(
        err.contains("its timeseries.csv has been changed since the run"),
        "{err}"
    );
    assert!(!err.contains("review it with that version"), "{err}");
    fs::write(&series, &published).unwrap();
    // The scenario file changed since the run.
    fs::write(&mine, format!("{text}# a comment\n")).unwrap();
    let (code, _, err) = review(Some("Mine"));
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("mine.toml has changed since the run"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
}

#[test]
fn a_run_of_too_few_replicates_for_a_band_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let run_dir = tmp.path().join("run");
    let (code, _, err) = cli(&[
        "run",
        SMALL,
        "-r",
        "2",
        "--years",
        "1",
        "--no-report",
        "-q",
        "-o",
        run_dir.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(0), "{err}");
    let obs = tmp.path().join("observed.csv");
    fs::write(
        &obs,
        "metric,period,count\nservice.ae_attendance.events,2026/27,2300\n",
    )
    .unwrap();
    let out_dir = tmp.path().join("review");
    let (code, _, err) = cli(&[
        "review",
        run_dir.to_str().unwrap(),
        "--observed",
        obs.to_str().unwrap(),
        "-o",
        out_dir.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("was run with 2 replicates: too few for the 90% band"),
        "{err}"
    );
    assert!(!out_dir.exists());
}
