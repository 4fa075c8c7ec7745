//! The pipeline as a library (`upstream::app`): every rule between
//! scenarios is kept by `Plan`, whoever drives it, each refusal is a typed
//! error an embedder can match, and a run driven through the library writes
//! exactly the files the command writes.

use std::fs;
use std::path::{Path, PathBuf};

use upstream::Error;
use upstream::app::{Plan, PlanError, Request};
use upstream::output::OutputError;
use upstream::replicates::RunSettings;
use upstream::scenario::{self, Loaded, Overrides};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// A scenario named "Other" that extends the small fixture with `extra`.
fn other(extra: &str) -> Loaded {
    let path = fixture("other.toml");
    let text = format!("name = \"Other\"\nextends = \"small.toml\"\n{extra}\n");
    let read = |p: &Path| {
        if p == path {
            Ok(text.clone())
        } else {
            fs::read_to_string(p)
        }
    };
    scenario::load_from(&path, &Overrides::default(), &read).unwrap_or_else(|e| panic!("{e}"))
}

fn small() -> Loaded {
    scenario::load(&fixture("small.toml")).unwrap()
}

fn settings() -> RunSettings {
    RunSettings {
        replicates: 2,
        seed: 1,
        threads: Some(2),
    }
}

#[test]
fn every_pairing_rule_is_kept_by_the_plan_and_named_in_its_error() {
    for (extra, rule) in [
        ("horizon_years = 3", "horizon"),
        ("burn_in_months = 6", "burn_in_months"),
        (
            "[population]\nresidents = 6_001",
            "population (residents, neighbourhoods or household make-up)",
        ),
        (
            "[population]\nage_band_cuts = [16, 60, 80]",
            "population.age_band_cuts",
        ),
        (
            "[economics]\ndiscount_rate = 0.05",
            "money conventions ([economics] or start)",
        ),
    ] {
        match Plan::of(vec![small(), other(extra)], settings()) {
            Err(PlanError::Unpaired {
                scenario,
                baseline,
                what,
                ..
            }) => {
                assert_eq!(
                    (scenario.as_str(), baseline.as_str()),
                    ("Other", "Small borough")
                );
                assert_eq!(what, rule, "{extra}");
            }
            other => panic!("{extra}: {other:?}"),
        }
    }
    // What only changes the policy pairs.
    let plan = Plan::of(
        vec![small(), other("description = \"Same place\"")],
        settings(),
    );
    assert!(plan.is_ok());
}

#[test]
fn two_scenarios_with_one_name_are_refused() {
    let e = Plan::of(vec![small(), small()], settings()).unwrap_err();
    assert!(
        matches!(&e, PlanError::SameName { name, .. } if name == "Small borough"),
        "{e}"
    );
}

#[test]
fn settings_out_of_range_are_refused_before_any_file_is_read() {
    for (request, setting) in [
        (
            Request {
                replicates: 0,
                ..Request::default()
            },
            "--replicates",
        ),
        (
            Request {
                threads: Some(0),
                ..Request::default()
            },
            "--threads",
        ),
        (
            Request {
                years: Some(31),
                ..Request::default()
            },
            "--years",
        ),
    ] {
        // A scenario that does not exist: the settings are checked first.
        let request = Request {
            scenarios: vec![fixture("nowhere.toml")],
            ..request
        };
        match Plan::new(&request) {
            Err(upstream::app::Error::Plan(PlanError::OutOfRange { setting: s, .. })) => {
                assert_eq!(s, setting)
            }
            other => panic!("{setting}: {other:?}"),
        }
    }
}

#[test]
fn a_plan_of_scenarios_loaded_elsewhere_keeps_the_same_bounds() {
    let none = RunSettings {
        replicates: 0,
        ..settings()
    };
    assert!(matches!(
        Plan::of(vec![small()], none),
        Err(PlanError::OutOfRange {
            setting: "--replicates",
            ..
        })
    ));
    assert!(matches!(
        Plan::of(Vec::new(), settings()),
        Err(PlanError::NoScenarios)
    ));
}

#[test]
fn a_bad_scenario_is_an_input_error_naming_its_file_line_and_field() {
    let request = Request {
        scenarios: vec![fixture("small.toml"), fixture("nowhere.toml")],
        ..Request::default()
    };
    // As the command and an embedder see it, through the library's union.
    let e = Error::from(Plan::new(&request).unwrap_err());
    assert!(e.is_input() && matches!(e, Error::Scenario(_)), "{e}");

    let tmp = tempfile::tempdir().unwrap();
    let bad = tmp.path().join("bad.toml");
    let small = fixture("small.toml");
    fs::write(
        &bad,
        format!(
            "name = \"Bad\"\nextends = \"{}\"\nhorizon_years = 0\n",
            small.display()
        ),
    )
    .unwrap();
    let request = Request {
        scenarios: vec![small, bad.clone()],
        ..Request::default()
    };
    match Plan::new(&request) {
        Err(upstream::app::Error::Scenario(e)) => {
            assert_eq!(
                (e.file.as_path(), e.line, e.field.as_deref()),
                (bad.as_path(), Some(3), Some("horizon_years"))
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_run_bigger_than_its_memory_limit_is_refused_before_it_starts() {
    let plan = Plan::of(vec![small()], settings()).unwrap();
    let need = plan.memory().total();
    assert!(plan.check_memory(Some(need)).is_ok());
    match plan.check_memory(Some(need - 1)) {
        Err(PlanError::Memory { limit, .. }) => assert_eq!(limit, need - 1),
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_library_writes_exactly_what_the_command_writes() {
    let tmp = tempfile::tempdir().unwrap();
    let by_command = tmp.path().join("command");
    let out = crate::common::upstream(&[
        "run",
        "tests/fixtures/small.toml",
        "tests/fixtures/small_hubs.toml",
        "-r",
        "2",
        "--seed",
        "9",
        "-j",
        "2",
        "--no-report",
        "-q",
        "-o",
        by_command.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // The same paths as the command was given (tests run from the
    // repository's folder), since the outputs name the scenario files.
    let request = Request {
        scenarios: ["small.toml", "small_hubs.toml"]
            .map(|f| Path::new("tests/fixtures").join(f))
            .to_vec(),
        replicates: 2,
        seed: 9,
        threads: Some(2),
        years: None,
        strict: false,
        uncertainty: false,
        stands_for: 1,
    };
    let outcome = Plan::new(&request).unwrap().run(&|| {}).unwrap();
    let by_library = tmp.path().join("library");
    let folder = upstream::output::claim(&by_library).unwrap();
    let written = outcome.write(&folder).unwrap();
    assert_eq!(written.len(), upstream::published::DATA_FILES.len());
    assert_eq!(
        crate::common::every_file(&by_command),
        crate::common::every_file(&by_library)
    );
}

#[test]
fn a_folder_holding_other_files_is_an_output_error_and_is_left_alone() {
    let is_foreign = |e: &Error| {
        e.is_input()
            && matches!(&e, Error::Output(OutputError::Foreign { name, .. }) if name == "notes.txt")
    };
    // Found when the folder is claimed, before a run...
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("out");
    fs::create_dir(&dir).unwrap();
    fs::write(dir.join("notes.txt"), "mine").unwrap();
    let e = Error::from(upstream::output::claim(&dir).unwrap_err());
    assert!(is_foreign(&e), "{e}");
    // ...or put there while it runs.
    fs::remove_file(dir.join("notes.txt")).unwrap();
    let folder = upstream::output::claim(&dir).unwrap();
    let outcome = Plan::of(vec![small()], settings())
        .unwrap()
        .run(&|| {})
        .unwrap();
    fs::write(dir.join("notes.txt"), "mine").unwrap();
    let e = Error::from(outcome.write(&folder).unwrap_err());
    assert!(is_foreign(&e), "{e}");
    assert_eq!(fs::read_to_string(dir.join("notes.txt")).unwrap(), "mine");
    assert_eq!(fs::read_dir(&dir).unwrap().count(), 1);
    drop(folder);
    assert_eq!(
        fs::read_dir(tmp.path()).unwrap().count(),
        1,
        "only the folder"
    );
}

#[test]
fn the_terminal_table_shows_a_loss_that_rounds_to_nothing_without_a_sign() {
    // An offer with no effect, costing £12,000 over the two years: a net
    // saving and a net present value just below zero, to one decimal place
    // of £1m nothing. The table once printed them "£-0.0m".
    let tiny = other(
        "[interventions.tiny]\nname = \"Tiny\"\nkind = \"caseload\"\npayer = \"housing\"\nannual_budget = [6_000]\nunit_cost_per_month = 100\nsupport_months = 6",
    );
    // Eight replicates, so the table shows bands.
    let eight = RunSettings {
        replicates: 8,
        ..settings()
    };
    let outcome = Plan::of(vec![small(), tiny], eight)
        .unwrap()
        .run(&|| {})
        .unwrap();
    let saving = upstream::aggregate::headline(&outcome.experiment, 1).net_revenue_saving_gbp;
    let npv = &outcome.economics.appraisals[0].npv;
    for v in [
        saving.mean,
        saving.p5,
        saving.p95,
        npv.mean,
        npv.p5,
        npv.p95,
    ] {
        assert!(
            (-50_000.0..0.0).contains(&v),
            "{v} rounds to £0.0m, from below"
        );
    }
    let table = outcome.table();
    let row = table.lines().find(|l| l.starts_with("Other")).unwrap();
    // The net revenue saving, the revenue budget impact and the net
    // present value.
    assert_eq!(row.matches("£0.0m (£0.0m to £0.0m)").count(), 3, "{row}");
    assert!(!row.contains("£-") && !row.contains("−£0.0m"), "{row}");
}
