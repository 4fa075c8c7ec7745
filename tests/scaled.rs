//! A place simulated at a fraction of its size (`--scale K`): every figure
//! is still the whole place's (means within what chance and rounding
//! allow of a run of every resident), each replicate's chance is wider,
//! parameters drawn on the scaled place are held at the whole place's
//! present, the outputs say so in one sentence, and a place that cannot be
//! scaled, or a scale out of range, is refused.

use std::path::Path;

use upstream::aggregate::places_used;
use upstream::app::{Outcome, Plan, Request};
use upstream::metrics::{Metric, ServiceMeasure};
use upstream::model::NeedLevel;

use crate::common::upstream;

fn request(k: u32, replicates: u32, uncertainty: bool) -> Request {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    Request {
        scenarios: vec![
            root.join("baseline.toml"),
            root.join("early_help_families.toml"),
        ],
        replicates,
        seed: 7,
        threads: None,
        years: Some(3),
        uncertainty,
        stands_for: k,
        ..Request::default()
    }
}

fn run(k: u32, replicates: u32, uncertainty: bool) -> Outcome {
    Plan::new(&request(k, replicates, uncertainty))
        .unwrap()
        .run(&|| {})
        .unwrap()
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

fn sd(v: &[f64]) -> f64 {
    let m = mean(v);
    (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (v.len() - 1) as f64).sqrt()
}

fn summary(o: &Outcome) -> String {
    let files = o.render().unwrap();
    let (_, bytes) = files.iter().find(|(n, _)| n == "summary.json").unwrap();
    String::from_utf8(bytes.clone()).unwrap()
}

#[test]
fn a_place_simulated_at_a_quarter_of_its_size_gives_the_whole_places_figures() {
    let (whole, quarter) = (run(1, 12, false), run(4, 12, false));
    assert!(whole.plan.scaled_run().is_none());
    assert_eq!(quarter.plan.scaled_run().unwrap().stands_for, 4);
    let placement = Metric::service("childrens_placement", ServiceMeasure::Occupancy);
    for s in 0..2 {
        let (a, b) = (
            &whole.experiment.scenarios[s],
            &quarter.experiment.scenarios[s],
        );
        for (metric, within) in [
            (Metric::Residents, 0.005),
            (Metric::ReactiveCost, 0.02),
            (Metric::Need(NeedLevel::Crisis), 0.03),
            (Metric::Qalys, 0.005),
            (placement.clone(), 0.06),
        ] {
            let (x, y) = (mean(&a.totals(&metric)), mean(&b.totals(&metric)));
            assert!(
                (y / x - 1.0).abs() < within,
                "scenario {s}, {}: {y} against the whole place's {x}",
                metric.name()
            );
        }
    }
    // k residents who share one life move together: chance widens.
    let cost = |o: &Outcome| sd(&o.experiment.scenarios[0].totals(&Metric::ReactiveCost));
    assert!(
        cost(&quarter) > 1.3 * cost(&whole),
        "{} against {}",
        cost(&quarter),
        cost(&whole)
    );
    // The programme's places are the whole place's, as its cases are.
    let used = |o: &Outcome| {
        let central = &o.plan.scenarios()[1].config;
        places_used(&|_| central, &o.experiment.scenarios[1])
    };
    let (a, b) = (used(&whole), used(&quarter));
    assert_eq!(a.len(), b.len());
    assert!(a.iter().any(|p| p.id == "family_early_help"));
    assert!(a.iter().all(|p| p.funded.len() == 3));
    for (a, b) in a.iter().zip(&b) {
        for y in 0..a.funded.len() {
            assert!(
                (b.funded[y] / a.funded[y] - 1.0).abs() < 0.01,
                "{a:?} {b:?}"
            );
            assert!((b.used[y] / a.used[y] - 1.0).abs() < 0.06, "{a:?} {b:?}");
        }
    }
    // One sentence says so, in the files as in the terminal.
    let (plain, scaled) = (summary(&whole), summary(&quarter));
    assert!(!plain.contains("stands_for") && !plain.contains("stands for"));
    assert!(scaled.contains("\"stands_for\": 4"), "{scaled}");
    assert!(scaled.contains("Each simulated resident stands for 4"));
    assert!(
        quarter
            .table()
            .contains("Each simulated resident stands for 4")
    );
    assert!(!whole.table().contains("stands for"));
}

#[test]
fn parameters_drawn_on_a_scaled_place_are_held_at_the_whole_places_present() {
    let plan = |k| Plan::new(&request(k, 6, true)).unwrap_or_else(|e| panic!("{e}"));
    let (whole, quarter) = (plan(1), plan(4));
    let (a, b) = (whole.draws().unwrap(), quarter.draws().unwrap());
    for r in 0..6 {
        assert_eq!(quarter.config_at(1, r, true).stands_for, 4);
        assert_eq!(quarter.config_at(0, r, false).stands_for, 4);
        assert_eq!(whole.config_at(0, r, true).stands_for, 1);
    }
    // The present every draw is held at is the whole place's (six pilot
    // replicates of a quarter-size place move a service's first year by
    // up to about 15%, chance alone; each count multiplied by the wrong
    // factor would be 4 or 16 times off).
    for (x, y) in a.stated.occupancy.iter().zip(&b.stated.occupancy) {
        assert!((y / x - 1.0).abs() < 0.2, "{y} against {x}");
    }
    for (x, y) in a
        .stated
        .contacts_per_month
        .iter()
        .zip(&b.stated.contacts_per_month)
    {
        assert!((y / x - 1.0).abs() < 0.05, "{y} against {x}");
    }
    // The same draws: the parameters do not depend on the scale.
    assert_eq!(a.values, b.values);
    let o = quarter.run(&|| {}).unwrap();
    assert!(o.economics.value_of_information.is_some());
}

#[test]
fn a_scale_out_of_range_or_a_place_given_resident_by_resident_is_refused() {
    for k in [0, 101] {
        let e = Plan::new(&request(k, 2, false)).unwrap_err();
        assert!(
            e.to_string().contains("--scale must be from 1 to 100"),
            "{e}"
        );
    }
    let root = env!("CARGO_MANIFEST_DIR");
    let refused = |what: &[&str], expect: &str| {
        let dir = tempfile::tempdir().unwrap();
        let out_dir = dir.path().join("out");
        let mut args = vec!["run"];
        args.extend(what);
        args.extend(["-r", "1", "--scale", "2", "-o", out_dir.to_str().unwrap()]);
        let out = upstream(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success());
        assert!(stderr.contains(expect), "{stderr}");
        assert!(!out_dir.exists());
    };
    refused(
        &[&format!("{root}/tests/fixtures/every_field.toml")],
        "--scale: the place is given resident by resident",
    );
    refused(
        &["--places", &format!("{root}/tests/fixtures/places.csv")],
        "--scale is not yet for a run over a places table",
    );
}
