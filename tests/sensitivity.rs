//! One-way sensitivity (`upstream sensitivity`): each comparison at a
//! parameter's range ends is paired with the central one, so a parameter
//! that cannot move a figure leaves it exactly as it was; a unit cost moves
//! money but not what residents live through; the ranking runs from the
//! largest swing down; and the command writes its file or refuses clearly.

use upstream::experiments::sensitivity::{OneWay, one_way};
use upstream::replicates::Runs;

use crate::common::{small_hubs_plan, upstream};

fn small_pair() -> OneWay {
    let plan = small_hubs_plan(3, 5, 2, 1);
    one_way(plan.scenarios().to_vec(), plan.settings(), &|| {}).unwrap()
}

#[test]
fn effects_are_paired_with_the_central_run() {
    let o = small_pair();
    let effects = &o.effects[0];
    let find = |name: &str| effects.iter().find(|e| e.parameter == name).unwrap();
    // Every effect shares the one central comparison.
    let central = effects[0].npv.central;
    assert!(effects.iter().all(|e| e.npv.central == central));
    // Quality-of-life weights change neither money nor crisis: exactly no
    // swing, so no noise either.
    let utility = find("need.utility");
    assert_eq!((utility.npv.low, utility.npv.high), (central, central));
    assert_eq!(utility.crisis_months_avoided.swing(), 0.0);
    // A unit cost moves money, not lives: the dearer police time that hubs
    // avoid, the more they save.
    let police = find("events.police_incident.unit_cost");
    let c = &police.crisis_months_avoided;
    assert!(c.low == c.central && c.central == c.high);
    assert!(
        police.npv.low < central && central < police.npv.high,
        "{police:?}"
    );
    // Escalation changes what residents live through.
    assert!(
        find("need.escalation_per_month")
            .crisis_months_avoided
            .swing()
            > 0.0
    );
    // Twice the parameters and the central comparison.
    assert_eq!(o.comparisons, 2 * effects.len() + 1);
}

#[test]
fn the_ranking_runs_from_the_largest_swing_down() {
    let o = small_pair();
    let ranked = o.ranked(1);
    assert_eq!(ranked.len(), o.effects[0].len());
    assert!(
        ranked
            .windows(2)
            .all(|w| w[0].npv.swing() >= w[1].npv.swing())
    );
    assert!(ranked[0].npv.swing() > 0.0);
}

#[test]
fn the_command_writes_its_file_or_refuses_clearly() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("sens");
    let run = |scenarios: &[&str]| {
        let mut args = vec!["sensitivity"];
        args.extend(scenarios);
        args.extend(["-r", "2", "--years", "1", "-q", "-o", out.to_str().unwrap()]);
        upstream(&args)
    };
    let alone = run(&["tests/fixtures/small.toml"]);
    assert_eq!(alone.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&alone.stderr).contains("give at least one scenario after it"));
    assert!(!out.exists());
    let ok = run(&[
        "tests/fixtures/small.toml",
        "tests/fixtures/small_hubs.toml",
    ]);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let csv = std::fs::read_to_string(out.join("sensitivity.csv")).unwrap();
    let mut lines = csv.lines();
    assert!(
        lines
            .next()
            .unwrap()
            .starts_with("scenario,rank,parameter,range_low,range_high,npv_gbp_at_low")
    );
    let rows: Vec<&str> = lines.collect();
    assert!(rows.len() > 30);
    assert!(
        rows.iter()
            .all(|r| r.starts_with("Small borough with hubs,"))
    );
    assert!(rows[0].starts_with("Small borough with hubs,1,"));
    // The tornado chart names the parameter with the largest swing.
    let top = rows[0].split(',').nth(2).unwrap();
    let svg = std::fs::read_to_string(out.join("charts/tornado_1.svg")).unwrap();
    assert!(svg.contains(top), "{top} not in the tornado chart");
    assert!(out.join("charts/tornado_1.png").is_file());
    // The central comparison is written as any run, and its report has the
    // section on the assumptions that decide the result, in the file's
    // order, and lists every assumption with those first.
    assert!(out.join("summary.json").is_file() && out.join("upstream.xlsx").is_file());
    let page = std::fs::read_to_string(out.join("report.html")).unwrap();
    let section =
        &page[page.find("id=\"deciding\"").unwrap()..page.find("id=\"appendix\"").unwrap()];
    let order: Vec<usize> = rows
        .iter()
        .take(5)
        .map(|r| {
            section
                .find(&format!("<code>{}</code>", r.split(',').nth(2).unwrap()))
                .unwrap()
        })
        .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{order:?}");
    assert!(section.contains("tornado_1"));
    let every = &page[page
        .find("(every assumption, those that move a result most first)")
        .unwrap()..];
    let first_row = &every[every.find("<code>").unwrap() + 6..every.find("</code>").unwrap()];
    assert_eq!(first_row, top);
    // `upstream report` rebuilds the same page from the folder.
    let page_before = page.clone();
    let rebuilt = upstream(&["report", out.to_str().unwrap(), "-q"]);
    assert!(rebuilt.status.success());
    assert_eq!(
        std::fs::read_to_string(out.join("report.html")).unwrap(),
        page_before
    );
    // A second run replaces the folder it wrote.
    assert!(
        run(&[
            "tests/fixtures/small.toml",
            "tests/fixtures/small_hubs.toml"
        ])
        .status
        .success()
    );
}

fn small_screen(threads: usize) -> upstream::experiments::sensitivity::Screening {
    let plan = small_hubs_plan(2, 5, threads, 1);
    upstream::experiments::sensitivity::morris(
        plan.scenarios().to_vec(),
        plan.settings(),
        3,
        &[],
        &mut Runs::whole(),
        &|| {},
    )
    .unwrap()
    .expect("run whole")
}

#[test]
fn a_morris_screen_finds_what_cannot_matter_and_what_moves_only_money() {
    let m = small_screen(2);
    let effects = &m.effects[0];
    let find = |name: &str| effects.iter().find(|e| e.parameter == name).unwrap();
    // Trajectories × (parameters + 1) comparisons.
    assert_eq!(m.comparisons, 3 * (effects.len() + 1));
    // Quality-of-life weights move neither money nor crisis, wherever the
    // other parameters are: every elementary effect exactly zero.
    let utility = find("need.utility");
    assert_eq!(utility.npv, Default::default());
    assert_eq!(utility.crisis_months_avoided, Default::default());
    // A unit cost moves money and never lives; and dearer police time
    // always makes hubs' savings larger: every effect the same sign, so
    // μ and μ* agree.
    let police = find("events.police_incident.unit_cost");
    assert_eq!(police.crisis_months_avoided, Default::default());
    assert!(police.npv.mu > 0.0, "{police:?}");
    assert!((police.npv.mu - police.npv.mu_star).abs() <= 1e-9 * police.npv.mu_star);
    // Escalation changes what residents live through.
    assert!(
        find("need.escalation_per_month")
            .crisis_months_avoided
            .mu_star
            > 0.0
    );
    // Ranked from the largest μ* down.
    let ranked = m.ranked(1);
    assert!(
        ranked
            .windows(2)
            .all(|w| w[0].npv.mu_star >= w[1].npv.mu_star)
    );
    assert!(ranked[0].npv.mu_star > 0.0);
}

#[test]
fn a_morris_screen_is_the_same_on_any_thread_count() {
    assert_eq!(small_screen(1), small_screen(2));
}

#[test]
fn the_command_writes_a_morris_screen_beside_the_tornado() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("sens");
    let ok = upstream(&[
        "sensitivity",
        "tests/fixtures/small.toml",
        "tests/fixtures/small_hubs.toml",
        "--morris",
        "2",
        "-r",
        "2",
        "--years",
        "1",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let csv = std::fs::read_to_string(out.join("morris.csv")).unwrap();
    let mut lines = csv.lines();
    assert!(
        lines.next().unwrap().starts_with(
            "scenario,rank,parameter,range_low,range_high,trajectories,npv_gbp_mu_star"
        )
    );
    let first = lines.next().unwrap();
    assert!(first.starts_with("Small borough with hubs,1,"));
    let top = first.split(',').nth(2).unwrap();
    let stdout = String::from_utf8_lossy(&ok.stdout);
    assert!(stdout.contains("Morris screen, 2 trajectories"));
    assert!(stdout.contains(top));
    let svg = std::fs::read_to_string(out.join("charts/morris_1.svg")).unwrap();
    assert!(svg.contains(top), "{top} not in the Morris chart");
    assert!(out.join("charts/morris_1.png").is_file());
    assert!(out.join("sensitivity.csv").is_file());
    // --only narrows both to the parameters it names.
    let only = upstream(&[
        "sensitivity",
        "tests/fixtures/small.toml",
        "tests/fixtures/small_hubs.toml",
        "--only",
        "events.police_incident",
        "--only",
        "need.recovery",
        "--morris",
        "1",
        "-r",
        "1",
        "--years",
        "1",
        "-q",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(
        only.status.success(),
        "{}",
        String::from_utf8_lossy(&only.stderr)
    );
    for file in ["sensitivity.csv", "morris.csv"] {
        let csv = std::fs::read_to_string(out.join(file)).unwrap();
        let names: Vec<&str> = csv
            .lines()
            .skip(1)
            .map(|l| l.split(',').nth(2).unwrap())
            .collect();
        assert!(names.contains(&"need.recovery_per_month"), "{file}");
        assert!(names.len() > 2, "{file}");
        assert!(
            names
                .iter()
                .all(|n| n.starts_with("events.police_incident") || n.starts_with("need.recovery")),
            "{file}: {names:?}"
        );
    }
    let none = upstream(&[
        "sensitivity",
        "tests/fixtures/small.toml",
        "tests/fixtures/small_hubs.toml",
        "--only",
        "nowhere.",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(none.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&none.stderr)
            .contains("no uncertain parameter's name starts with \"nowhere.\""),
        "{}",
        String::from_utf8_lossy(&none.stderr)
    );
    // Zero trajectories is refused by name.
    let zero = upstream(&["sensitivity", "--morris", "0"]);
    assert_eq!(zero.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&zero.stderr).contains("--morris"));
}
