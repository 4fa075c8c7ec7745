//! Ranges from a place's experts: `upstream elicit` pools each expert's
//! percentiles (a linear pool), writes the pool into a scenario that
//! extends the one they were asked about, and that scenario loads with
//! each elicited number drawn from its new range, sourced to the experts;
//! a judgement that cannot be used is refused with its file, line and
//! column, and no file is written or replaced.

use std::fs;
use std::path::{Path, PathBuf};

use statrs::distribution::{ContinuousCDF, Normal};
use upstream::elicit::{self, ElicitError, Settings};
use upstream::scenario::{self, Origin, Shape};

use crate::common::upstream;

fn baseline() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/baseline.toml")
}

/// `judgements` written to a fresh folder, and the settings that pool them
/// into `elicited.toml` beside it.
fn setup(judgements: &str) -> (tempfile::TempDir, Settings) {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("judgements.csv");
    fs::write(&file, judgements).unwrap();
    let settings = Settings {
        scenario: baseline(),
        judgements: file,
        out: tmp.path().join("elicited.toml"),
        held_on: Some("2026-12-10".into()),
        shape: None,
    };
    (tmp, settings)
}

const HEADER: &str = "parameter,expert,p5,p25,median,p75,p95\n";

/// One expert whose quartiles are a normal's pools to that normal: its 5th
/// and 95th percentiles are the median ∓ 1.645/0.674 of the half
/// interquartile range, in closed form; and the scenario written draws the
/// number from a range sourced to that expert.
#[test]
fn one_expert_s_symmetric_quartiles_pool_to_their_normal() {
    let (tmp, settings) = setup(&format!(
        "{HEADER}events.ae_attendance.unit_cost,Ana,,250,280,310,\n"
    ));
    let (_, elicited) = elicit::elicited_scenario(&settings, &upstream::input::read).unwrap();
    let e = &elicited[0];
    let normal = Normal::standard();
    let sigma = 30.0 / normal.inverse_cdf(0.75);
    let z95 = normal.inverse_cdf(0.95);
    for (got, want) in [
        (e.pooled[0], 280.0 - z95 * sigma),
        (e.pooled[1], 250.0),
        (e.pooled[2], 280.0),
        (e.pooled[3], 310.0),
        (e.pooled[4], 280.0 + z95 * sigma),
    ] {
        assert!((got - want).abs() < 1e-6, "{:?}", e.pooled);
    }
    assert_eq!(e.experts.len(), 1);
    assert!(e.experts[0].misfit < 1e-9);
    assert_eq!(e.stated, 273.0);
    // The written distribution follows the pool closely.
    assert!(e.written.misfit < 0.03, "{:?}", e.written);

    // Through the command: the file is written, loads, and draws the
    // number from its new range with the experts as its source.
    let out = upstream(&[
        "elicit",
        baseline().to_str().unwrap(),
        settings.judgements.to_str().unwrap(),
        "-o",
        settings.out.to_str().unwrap(),
        "--held-on",
        "2026-12-10",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains(
            "events.ae_attendance.unit_cost: stated 273; 1 expert pooled to a median of 280"
        ),
        "{stdout}"
    );
    let loaded = scenario::load(&settings.out).unwrap();
    let u = loaded
        .uncertainty
        .parameters
        .iter()
        .find(|u| u.parameter == "events.ae_attendance.unit_cost")
        .expect("the elicited number is drawn");
    assert_eq!(u.origin, Origin::Stated);
    assert_eq!(u.shape, e.written.shape);
    assert_eq!(
        (u.low[0], u.high[0]),
        (e.written.low.round(), e.written.high.round())
    );
    let a = loaded
        .assumptions
        .iter()
        .find(|a| a.parameter == "events.ae_attendance.unit_cost")
        .unwrap();
    assert_eq!(
        a.source.as_deref(),
        Some("elicited, 1 expert, 2026-12-10 (judgements.csv; their linear pool)")
    );
    // Everything else is the baseline's: the same residents, the same
    // other figures.
    let base = scenario::load(&baseline()).unwrap();
    assert_eq!(loaded.config.population, base.config.population);
    assert_eq!(loaded.assumptions.len(), base.assumptions.len());
    // Run again, it refuses to replace the file.
    let again = upstream(&[
        "elicit",
        baseline().to_str().unwrap(),
        settings.judgements.to_str().unwrap(),
        "-o",
        settings.out.to_str().unwrap(),
    ]);
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("exists; choose another --out"));
    drop(tmp);
}

/// Experts who disagree pool to a median between theirs, wider than
/// either; one item of a list moves the whole list in proportion, as a
/// list's items are drawn together; a shape asked for is the shape
/// written.
#[test]
fn experts_who_disagree_widen_the_pool_and_a_list_moves_in_proportion() {
    let (_tmp, mut settings) = setup(&format!(
        "{HEADER}need.escalation_per_month[1],Ana,,0.018,0.02,0.022,\n\
         need.escalation_per_month[1],Ben,0.025,,0.03,,0.036\n"
    ));
    settings.shape = Some(Shape::Pert);
    let (text, elicited) = elicit::elicited_scenario(&settings, &upstream::input::read).unwrap();
    let e = &elicited[0];
    assert_eq!(e.parameter, "need.escalation_per_month[1]");
    assert!(0.02 < e.pooled[2] && e.pooled[2] < 0.03, "{:?}", e.pooled);
    assert!(e.pooled[4] - e.pooled[0] > 0.036 - 0.025, "{:?}", e.pooled);
    assert_eq!(e.written.shape, Shape::Pert);
    fs::write(&settings.out, &text).unwrap();
    let loaded = scenario::load(&settings.out).unwrap();
    let stated = scenario::load(&baseline()).unwrap();
    let before = &stated
        .elicitable("need.escalation_per_month[1]")
        .unwrap()
        .parameter
        .central;
    let u = loaded
        .uncertainty
        .parameters
        .iter()
        .find(|u| u.parameter == "need.escalation_per_month")
        .unwrap();
    assert_eq!(u.shape, Shape::Pert);
    for ends in [&u.low, &u.central, &u.high] {
        let ratios: Vec<f64> = ends.iter().zip(before).map(|(x, b)| x / b).collect();
        for r in &ratios {
            assert!((r - ratios[0]).abs() < 1e-5, "{ends:?} against {before:?}");
        }
    }
    // Item [1]'s range is the pool's, to the figures written.
    assert!((u.low[1] - e.written.low).abs() < 1e-6 * e.written.low.abs().max(1.0));
    assert!((u.high[1] - e.written.high).abs() < 1e-6);
}

/// A judgement that cannot be used names the file, the line and the
/// column, and says what was expected; nothing is written.
#[test]
fn judgements_that_cannot_be_used_are_refused_where_they_are() {
    let cases: [(&str, &[&str]); 9] = [
        (
            "events.nothing.unit_cost,Ana,,1,2,3,\n",
            &[
                "line 2, column 1 (parameter)",
                "is not a number this scenario states",
            ],
        ),
        (
            "need.escalation_per_month,Ana,,0.02,0.025,0.03,\n",
            &[
                "line 2",
                "is a list of 3: name one item, as `need.escalation_per_month[0]`",
            ],
        ),
        (
            "need.escalation_per_month[7],Ana,,0.02,0.025,0.03,\n",
            &["line 2", "has 3 items, counted from 0"],
        ),
        (
            "events.ae_attendance.unit_cost,Ana,,250,280,,\n",
            &["line 2, column 6 (p75)", "give both quartiles"],
        ),
        (
            "events.ae_attendance.unit_cost,Ana,,250,280,270,\n",
            &["line 2, column 6 (p75)", "expected a value above 280"],
        ),
        (
            "events.ae_attendance.unit_cost,Ana,,250,280,x310,\n",
            &[
                "line 2, column 6 (p75)",
                "expected a number, found \"x310\"",
            ],
        ),
        (
            "events.ae_attendance.unit_cost,Ana,,250,280,310,\nevents.ae_attendance.unit_cost,Ana,200,,280,,400\n",
            &["line 3, column 2 (expert)", "on line 2 already"],
        ),
        (
            "events.ae_attendance.unit_cost,Ana,,,280,,\n",
            &["line 2", "expected the expert's quartiles"],
        ),
        (
            "economics.general_inflation,Ana,,0.015,0.02,0.025,\n",
            &[
                "line 2, column 1 (parameter)",
                "the scenario takes no range",
                "money conventions",
            ],
        ),
    ];
    for (rows, expect) in cases {
        let (tmp, settings) = setup(&format!("{HEADER}{rows}"));
        let e = elicit::elicit(&settings).unwrap_err();
        let text = e.to_string();
        assert!(
            matches!(e, ElicitError::Judgements { .. }),
            "{rows}: {text}"
        );
        assert!(
            text.starts_with(&settings.judgements.display().to_string()),
            "{text}"
        );
        for x in expect {
            assert!(text.contains(x), "{rows}: expected {x:?} in {text}");
        }
        assert!(!settings.out.exists(), "{rows}");
        assert_eq!(fs::read_dir(tmp.path()).unwrap().count(), 1, "{rows}");
    }
    // A name the scenario does not know is quoted back cut short, not
    // whole.
    let long = format!("events.{}", "x".repeat(150));
    let (_tmp, settings) = setup(&format!("{HEADER}{long},Ana,,1,2,3,\n"));
    let e = elicit::elicit(&settings).unwrap_err().to_string();
    assert!(
        e.contains("…` is not a number") && !e.contains(&long),
        "{e}"
    );
    // An unknown column is refused on the header line; a bad date before
    // anything is read.
    let (_tmp, settings) = setup("parameter,expert,median,p75,p25,mode\n");
    let e = elicit::elicit(&settings).unwrap_err().to_string();
    assert!(
        e.contains("line 1, column 6 (mode)") && e.contains("unknown column"),
        "{e}"
    );
    let (_tmp, mut settings) = setup(&format!(
        "{HEADER}events.ae_attendance.unit_cost,Ana,,250,280,310,\n"
    ));
    settings.held_on = Some("10/12/2026".into());
    let e = elicit::elicit(&settings).unwrap_err().to_string();
    assert!(
        e.contains("--held-on: expected a date as 2026-12-10"),
        "{e}"
    );
}

/// The bundled illustrative judgements pool into a scenario that loads.
#[test]
fn the_bundled_illustrative_judgements_pool_into_a_scenario() {
    let tmp = tempfile::tempdir().unwrap();
    let settings = Settings {
        scenario: baseline(),
        judgements: Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("scenarios/judgements/illustrative.csv"),
        out: tmp.path().join("ours.toml"),
        held_on: None,
        shape: None,
    };
    let elicited = elicit::elicit(&settings).unwrap();
    assert!(elicited.len() >= 3);
    let loaded = scenario::load(&settings.out).unwrap();
    for e in &elicited {
        let name = e.parameter.split('[').next().unwrap();
        assert!(
            loaded
                .uncertainty
                .parameters
                .iter()
                .any(|u| u.parameter == name),
            "{name} is drawn"
        );
    }
}
