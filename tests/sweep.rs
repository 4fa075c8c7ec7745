//! Sweeps (`upstream sweep`): the point at a scenario's stated value is the
//! plain comparison, to the pound; a number that moves only money moves
//! the net present value one way and crisis-months not at all; a sweep
//! stopped part-way resumes from the points it kept and ends where an
//! unbroken one does; and the command writes its files or refuses clearly.

use std::cell::RefCell;
use std::collections::HashMap;

use upstream::app::Plan;
use upstream::experiments::sweep::{Axis, Point, Swept, sweep};
use upstream::replicates::Runs;

use crate::common::{small_hubs_plan, upstream};

fn small_pair() -> Plan {
    small_hubs_plan(3, 4, 2, 1)
}

fn run(plan: &Plan, axes: &[Axis]) -> Swept {
    sweep(
        plan.scenarios(),
        plan.settings(),
        axes,
        &|_| None,
        &mut |_| Ok(()),
        &mut Runs::whole(),
        &|| {},
    )
    .unwrap()
    .expect("run whole")
}

#[test]
fn the_stated_value_is_the_plain_comparison_and_a_unit_cost_moves_only_money() {
    let plan = small_pair();
    let axis = Axis::parse("events.police_incident.unit_cost=x0.5:x1.5:3").unwrap();
    let s = run(&plan, &[axis]);
    assert_eq!(s.points.len(), 3);
    assert_eq!(s.run, 3);
    let plain = Plan::of(plan.scenarios().to_vec(), plan.settings().clone())
        .unwrap()
        .run(&|| {})
        .unwrap();
    let hubs = &plain.economics.appraisals[0];
    // ×1 is the plain run, to the pound and the crisis-month.
    let mid = &s.points[1].scenarios[0];
    assert_eq!(mid.npv, hubs.npv);
    assert_eq!(mid.crisis_months_avoided, hubs.crisis_months_avoided);
    // Dearer police time, more saved by the hubs' fewer incidents; the same
    // residents live the same lives.
    let npv: Vec<f64> = s.points.iter().map(|p| p.scenarios[0].npv.mean).collect();
    assert!(npv[0] < npv[1] && npv[1] < npv[2], "{npv:?}");
    for p in &s.points {
        assert_eq!(
            p.scenarios[0].crisis_months_avoided,
            hubs.crisis_months_avoided
        );
    }
}

#[test]
fn a_stopped_sweep_resumes_from_its_kept_points_and_ends_as_an_unbroken_one() {
    let plan = small_pair();
    let axes = [
        Axis::parse("interventions.hubs.engagement=0.5:0.9:3").unwrap(),
        Axis::parse("events.police_incident.unit_cost=x0.5:x1.5:2").unwrap(),
    ];
    let whole = run(&plan, &axes);
    assert_eq!(whole.points.len(), 6);
    // Stopped after three points, as a kill would stop it.
    let kept: RefCell<HashMap<String, Point>> = RefCell::new(HashMap::new());
    let stopped = sweep(
        plan.scenarios(),
        plan.settings(),
        &axes,
        &|_| None,
        &mut |p| {
            let mut k = kept.borrow_mut();
            if k.len() == 3 {
                return Err(upstream::experiments::Error::Sweep(
                    upstream::experiments::sweep::SweepError::Axes("stopped".into()),
                ));
            }
            k.insert(p.id.clone(), p.clone());
            Ok(())
        },
        &mut Runs::whole(),
        &|| {},
    );
    assert!(stopped.is_err());
    // The first three are the grid's coarsest: corners of the engagement
    // axis's ends.
    assert!(kept.borrow().values().all(|p| p.at[0] != 1));
    let resumed = sweep(
        plan.scenarios(),
        plan.settings(),
        &axes,
        &|id| kept.borrow().get(id).cloned(),
        &mut |_| Ok(()),
        &mut Runs::whole(),
        &|| {},
    )
    .unwrap()
    .expect("run whole");
    assert_eq!(resumed.run, 3);
    assert_eq!(resumed.points, whole.points);
    // A kept point under another seed is not taken for this one.
    let other = Plan::of(
        plan.scenarios().to_vec(),
        upstream::replicates::RunSettings {
            seed: 5,
            ..plan.settings().clone()
        },
    )
    .unwrap();
    let fresh = sweep(
        other.scenarios(),
        other.settings(),
        &axes,
        &|id| kept.borrow().get(id).cloned(),
        &mut |_| Ok(()),
        &mut Runs::whole(),
        &|| {},
    )
    .unwrap()
    .expect("run whole");
    assert_eq!(fresh.run, 6);
}

#[test]
fn the_command_writes_its_files_resumes_and_refuses_clearly() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("sweep");
    let go = |vary: &[&str]| {
        let mut args = vec![
            "sweep",
            "tests/fixtures/small.toml",
            "tests/fixtures/small_hubs.toml",
            "-r",
            "2",
            "--years",
            "1",
            "-o",
            out.to_str().unwrap(),
        ];
        for v in vary {
            args.extend(["--vary", v]);
        }
        upstream(&args)
    };
    let one = go(&["interventions.hubs.engagement=0.5:0.9:3"]);
    assert!(
        one.status.success(),
        "{}",
        String::from_utf8_lossy(&one.stderr)
    );
    let csv = std::fs::read_to_string(out.join("sweep.csv")).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert!(lines[0].starts_with("scenario,interventions.hubs.engagement,npv_gbp_mean,"));
    assert_eq!(lines.len(), 4);
    assert!(lines[1].starts_with("Small borough with hubs,0.5,"));
    assert!(lines[3].starts_with("Small borough with hubs,0.9,"));
    for chart in ["sweep-npv", "sweep-crisis-months-avoided"] {
        assert!(out.join(format!("charts/{chart}.svg")).is_file(), "{chart}");
        assert!(out.join(format!("charts/{chart}.png")).is_file(), "{chart}");
    }
    assert_eq!(std::fs::read_dir(out.join("runs")).unwrap().count(), 3);
    // The page tables each point's figures as the CSV has them: the same
    // engagement labels, a row each, and both charts.
    let page = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(page.contains("a sweep over interventions.hubs.engagement"));
    assert_eq!(page.matches("<figure").count(), 2);
    for v in ["0.5", "0.7", "0.9"] {
        assert!(
            page.contains(&format!("<tr><td class=\"n\">{v}</td>")),
            "{v}"
        );
    }
    // Again into the same folder: every point kept, the same file.
    let again = go(&["interventions.hubs.engagement=0.5:0.9:3"]);
    assert!(again.status.success());
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("(0 run now, 3 kept from an earlier run)")
    );
    assert_eq!(std::fs::read_to_string(out.join("sweep.csv")).unwrap(), csv);
    // Two numbers: a heat map per scenario.
    let two = go(&[
        "interventions.hubs.engagement=0.5:0.9:2",
        "events.police_incident.unit_cost=x0.5:x1.5:2",
    ]);
    assert!(
        two.status.success(),
        "{}",
        String::from_utf8_lossy(&two.stderr)
    );
    assert!(out.join("charts/sweep-npv-1.svg").is_file());
    assert!(!out.join("charts/sweep-npv.svg").exists());
    // Refusals name what is wrong.
    for (vary, says) in [
        (
            vec!["nowhere.at_all=1:2:3"],
            "no scenario of this comparison holds a number at `nowhere.at_all`",
        ),
        (
            vec!["interventions.hubs.engagement=0.5:0.9"],
            "is not NAME=FROM:TO:POINTS",
        ),
        (
            vec![
                "interventions.hubs.engagement=0.5:0.9:2",
                "interventions.hubs.engagement=0.5:0.9:2",
            ],
            "twice",
        ),
        (
            vec!["interventions.hubs.engagement=0.5:1.5:3"],
            "engagement",
        ),
    ] {
        let bad = go(&vary);
        assert_eq!(bad.status.code(), Some(2), "{vary:?}");
        let err = String::from_utf8_lossy(&bad.stderr);
        assert!(err.contains(says), "{vary:?}: {err}");
    }
}

/// A sweep over a money setting (`economics.*`) moves the appraisal as a
/// run with that setting written in the scenario would: it was once
/// ignored, every point giving the same NPV to the penny (issue 37,
/// fault 10).
#[test]
fn a_sweep_over_a_money_setting_gives_each_points_own_appraisal() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("sweep");
    let root = env!("CARGO_MANIFEST_DIR");
    let common = ["-r", "2", "--years", "2", "--seed", "5", "-q"];
    let mut args = vec![
        "sweep",
        "tests/fixtures/small.toml",
        "tests/fixtures/small_hubs.toml",
        "--vary",
        "economics.optimism_bias.cost_uplift.low=0:1:2",
        "-o",
        out.to_str().unwrap(),
    ];
    args.extend(common);
    crate::common::ok(&args);
    let csv = std::fs::read_to_string(out.join("sweep.csv")).unwrap();
    let npv: Vec<f64> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(2).unwrap().parse().unwrap())
        .collect();
    assert_eq!(npv.len(), 2, "{csv}");
    assert!(
        npv[1] < npv[0],
        "a larger cost uplift lowers the NPV: {csv}"
    );
    // The point at an uplift of 1 is the run of scenarios that say so (the
    // baseline and the policy alike, as money settings must be shared).
    let said = |name: &str, file: &str| {
        let path = tmp.path().join(file);
        std::fs::write(
            &path,
            format!(
                "name = \"{name}\"\nextends = \"{root}/tests/fixtures/{file}\"\n\
                 [economics.optimism_bias]\ncost_uplift = {{ low = 1.0 }}\n"
            ),
        )
        .unwrap();
        path.to_str().unwrap().to_string()
    };
    let (base, hubs) = (
        said("Small borough", "small.toml"),
        said("Small borough with hubs", "small_hubs.toml"),
    );
    let run = tmp.path().join("run");
    let mut args = vec![
        "run",
        base.as_str(),
        hubs.as_str(),
        "--no-report",
        "-o",
        run.to_str().unwrap(),
    ];
    args.extend(common);
    crate::common::ok(&args);
    let e: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("economics.json")).unwrap())
            .unwrap();
    let ran = e["appraisals"][0]["npv"]["mean"].as_f64().unwrap();
    assert!((ran - npv[1]).abs() <= 0.005, "run {ran}, sweep {}", npv[1]);
}
