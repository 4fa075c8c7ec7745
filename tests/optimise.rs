//! Optimising a prevention budget (`upstream optimise`): on two levers
//! whose best split is known in closed form (one helps, one cannot, both
//! spend the whole budget, and the helpful one's payer is capped), the
//! optimiser finds it by either objective and at each share of the budget;
//! a split equal to the one the scenario states gives its figures exactly;
//! the results do not depend on the thread count; and a bad `[optimise]`
//! table is refused with its file, line and field.

use std::path::{Path, PathBuf};

use upstream::app::{Plan, Request};
use upstream::experiments::optimise::{Objective, optimise};
use upstream::replicates::Runs;

use crate::common::{every_file, upstream};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn two_levers(replicates: u32, threads: usize) -> Plan {
    Plan::new(&Request {
        scenarios: vec![fixture("small.toml"), fixture("small_portfolio.toml")],
        replicates,
        seed: 11,
        threads: Some(threads),
        years: Some(2),
        ..Request::default()
    })
    .unwrap()
}

#[test]
fn the_optimiser_finds_the_closed_form_best_split() {
    let plan = two_levers(8, 2);
    for objective in [Objective::Npv, Objective::CrisisMonths] {
        let found = optimise(
            plan.scenarios(),
            plan.settings(),
            objective,
            false,
            None,
            &mut Runs::whole(),
            &|| {},
        )
        .unwrap()
        .expect("run whole");
        // At £90k (0.6 of the budget) all of it to the strong lever; at
        // £150k, the £90k housing may put in, and the rest to the other.
        let best: Vec<Vec<f64>> = found
            .best
            .iter()
            .map(|&i| found.splits[i].funding.iter().map(|f| f.amount).collect())
            .collect();
        assert_eq!(
            best,
            [vec![90_000.0, 0.0], vec![90_000.0, 60_000.0]],
            "{objective:?}"
        );
        // Every split at the whole budget kept housing within its limit.
        let whole: Vec<_> = found.splits.iter().filter(|s| s.share == 1.0).collect();
        assert_eq!(
            whole.len(),
            7,
            "£0, or £30k, £60k and £90k to the strong lever at either reach"
        );
        assert_eq!(found.splits.len(), 18, "more than one batch of splits");
        // The objective rises with the strong lever's share, as the closed
        // form says, not only at the top.
        let mut by_strong: Vec<(f64, f64)> = whole
            .iter()
            .filter(|s| s.funding[0].reach == 0)
            .map(|s| {
                let f = &s.figures;
                let v = match objective {
                    Objective::Npv => f.npv.mean,
                    Objective::CrisisMonths => f.crisis_months_avoided.mean,
                };
                (s.funding[0].amount, v)
            })
            .collect();
        by_strong.sort_by(|a, b| a.0.total_cmp(&b.0));
        assert!(
            by_strong.windows(2).all(|w| w[1].1 > w[0].1),
            "{objective:?}: {by_strong:?}"
        );
        // Replicate by replicate, the wins add up to the replicates at
        // each share.
        for &share in &[0.6, 1.0] {
            let wins: u32 = found
                .splits
                .iter()
                .filter(|s| s.share == share)
                .map(|s| s.wins)
                .sum();
            assert_eq!(wins, 8);
        }
        // The split the scenario states (£60k strong, £90k none) is on the
        // lattice: run as a split, it gives the stated figures exactly.
        let same = whole
            .iter()
            .find(|s| s.funding[0].amount == 60_000.0 && s.funding[0].reach == 0)
            .unwrap();
        assert_eq!(same.figures, found.stated);
        let at = found.splits.iter().position(|s| std::ptr::eq(s, *same));
        assert_eq!(found.stated_is, Ok(at.unwrap()));
        assert!(found.best_overall().figures.npv.mean > found.stated.npv.mean);
    }
}

#[test]
fn a_split_funds_its_levers_at_their_reach_and_leaves_the_unfunded_out() {
    use upstream::model::Delivery;
    use upstream::scenario::{Funding, Loaded};
    let plan = two_levers(1, 2);
    let portfolio = &plan.scenarios()[1];
    let neighbourhoods = |l: &Loaded, id: &str| -> Option<usize> {
        let iv = l.config.interventions.iter().find(|iv| iv.id == id)?;
        match &iv.delivery {
            Delivery::Caseload { targeting, .. } => Some(targeting.neighbourhoods.len()),
            _ => None,
        }
    };
    let at = |amount: f64, reach: usize| Funding { amount, reach };
    let wide = portfolio
        .with_funding("Wide", &[at(90_000.0, 0), at(60_000.0, 0)])
        .unwrap();
    let narrow = portfolio
        .with_funding("Narrow", &[at(90_000.0, 1), at(60_000.0, 0)])
        .unwrap();
    // Its own targeting names no neighbourhoods (so all of them); the
    // reach option, the three most deprived.
    assert_eq!(neighbourhoods(&wide, "strong"), Some(0));
    assert_eq!(neighbourhoods(&narrow, "strong"), Some(3));
    let spend = |l: &Loaded, id: &str| {
        let iv = l
            .config
            .interventions
            .iter()
            .find(|iv| iv.id == id)
            .unwrap();
        iv.monthly_spend_by_year.clone()
    };
    // £90k a year is £7,500 a month, in pence.
    assert_eq!(spend(&narrow, "strong"), [750_000]);
    assert_eq!(narrow.config.name, "Narrow");
    let strong_draws = |l: &Loaded| {
        l.uncertainty
            .parameters
            .iter()
            .filter(|u| u.parameter.starts_with("interventions.strong."))
            .count()
    };
    assert!(strong_draws(portfolio) > 0, "a graded effect draws");
    let without = portfolio
        .with_funding("Without", &[at(0.0, 0), at(150_000.0, 0)])
        .unwrap();
    assert_eq!(neighbourhoods(&without, "strong"), None);
    assert_eq!(strong_draws(&without), 0, "a lever left out draws nothing");
}

#[test]
fn the_command_writes_the_same_files_on_any_thread_count() {
    let tmp = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for threads in ["1", "2"] {
        let out = tmp.path().join(threads);
        let run = upstream(&[
            "optimise",
            fixture("small.toml").to_str().unwrap(),
            fixture("small_portfolio.toml").to_str().unwrap(),
            "-r",
            "2",
            "--years",
            "1",
            "-j",
            threads,
            "-q",
            "-o",
            out.to_str().unwrap(),
        ]);
        assert!(
            run.status.success(),
            "{}",
            String::from_utf8_lossy(&run.stderr)
        );
        files.push(every_file(&out));
    }
    assert_eq!(files[0], files[1]);
    let names: Vec<&String> = files[0].keys().collect();
    for expected in [
        "splits.csv",
        "frontier.csv",
        "charts/frontier-npv.svg",
        "charts/frontier-crisis-months-avoided.png",
        "report.html",
    ] {
        assert!(
            names.iter().any(|n| *n == expected),
            "{expected} in {names:?}"
        );
    }
    let frontier = String::from_utf8(files[0]["frontier.csv"].clone()).unwrap();
    let lines: Vec<&str> = frontier.lines().collect();
    assert!(
        lines[0].starts_with("row,share_of_budget,budget_gbp_a_year,split,funding,npv_gbp_mean")
    );
    // Two shares, then the split as written.
    assert_eq!(lines.len(), 4, "{frontier}");
    assert!(lines[3].starts_with("as written,1,150000,"), "{frontier}");
    assert!(
        lines[3]
            .contains("As the scenario states it (Small borough, two levers), the split is split"),
        "{frontier}"
    );
    // The page says the same figures as the files: the best split at the
    // whole budget, in the same words.
    let page = String::from_utf8(files[0]["report.html"].clone()).unwrap();
    let best = lines[2].split(',').nth(4).unwrap();
    assert!(page.contains(best), "{best} in the page");
    assert!(page.contains("The best split at each budget"));
    let splits = String::from_utf8(files[0]["splits.csv"].clone()).unwrap();
    assert!(
        splits
            .lines()
            .next()
            .unwrap()
            .contains("strong_gbp_a_year,strong_reach,none_gbp_a_year")
    );
}

/// A bad `[optimise]` table, appended to the two-lever fixture's levers:
/// exit code 2, one line naming the file, line and field, nothing written.
fn refused(table: &str, expect: &[&str]) {
    let tmp = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(fixture("small_portfolio.toml")).unwrap();
    let levers = text.split("[optimise]").next().unwrap();
    let file = tmp.path().join("bad.toml");
    let small = fixture("small.toml");
    std::fs::write(
        &file,
        format!(
            "{}[optimise]\n{table}\n",
            levers.replace("\"small.toml\"", &format!("{:?}", small.to_str().unwrap()))
        ),
    )
    .unwrap();
    let out_dir = tmp.path().join("out");
    let run = upstream(&[
        "optimise",
        small.to_str().unwrap(),
        file.to_str().unwrap(),
        "-r",
        "1",
        "-o",
        out_dir.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(2), "{table}: {stderr}");
    for e in expect {
        assert!(stderr.contains(e), "{table}: expected {e:?} in: {stderr}");
    }
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(!out_dir.exists());
}

#[test]
fn a_bad_optimise_table_is_refused_with_file_line_and_field() {
    let ok = "budget = 150_000\nlevers = [\"strong\", \"none\"]\n";
    refused(
        "budget = 150_000\nlevers = [\"strnog\", \"none\"]",
        &[
            "bad.toml",
            "line 49",
            "optimise.levers[0]",
            "did you mean `strong`",
        ],
    );
    refused(
        "budget = 0\nlevers = [\"strong\"]",
        &["optimise.budget", "above £0"],
    );
    refused(
        "budget = 150_000\nlevers = []",
        &["optimise.levers", "at least one"],
    );
    refused(
        "budget = 150_000\nlevers = [\"strong\", \"strong\"]",
        &["optimise.levers[1]", "listed twice"],
    );
    for step in ["0.3", "0", "-0.5", "0.005", "1.5", "nan"] {
        refused(
            &format!("{ok}step = {step}"),
            &["optimise.step", "divides it evenly"],
        );
    }
    for frontier in ["[0.5, 0.25, 1]", "[0.5, 0.5, 1]", "[0.5]", "[0, 1]", "[]"] {
        refused(
            &format!("{ok}frontier = {frontier}"),
            &["optimise.frontier", "rising, the last 1"],
        );
    }
    refused(
        &format!("{ok}payer_limits = {{ nhs = 5 }}"),
        &["optimise.payer_limits.nhs", "no lever is paid for by nhs"],
    );
    refused(
        &format!("{ok}payer_limits = {{ housing = 10_000, police = 10_000 }}"),
        &["optimise.payer_limits", "£20,000 of the £150,000"],
    );
    refused(
        &format!("{ok}payer_limits = {{ housing = 90_000, police = 59_999 }}"),
        &["optimise.payer_limits", "£149,999 of the £150,000"],
    );
    refused(
        &format!("{ok}payer_limits = {{ hosing = 5 }}"),
        &["optimise.payer_limits", "hosing"],
    );
    refused(
        &format!("{ok}reach = {{ elsewhere = [\"all\"] }}"),
        &["optimise.reach.elsewhere", "not one of the levers"],
    );
    refused(
        &format!("{ok}reach = {{ strong = [\"most_deprived:9\"] }}"),
        &["optimise.reach.strong[0]"],
    );
    // Every one of the small borough's five neighbourhoods, as its own
    // targeting reaches already.
    refused(
        &format!("{ok}reach = {{ strong = [\"most_deprived:5\"] }}"),
        &[
            "optimise.reach.strong[0]",
            "reaches the same neighbourhoods as `all`",
        ],
    );
    refused(&format!("{ok}budgett = 5"), &["optimise", "budgett"]);
    refused(
        &format!("{ok}minimum_per_neighbourhood = 100_000"),
        &["no split of £38k a year meets"],
    );
    // 101 splits at each of 20 shares.
    let shares: Vec<String> = (1..=20).map(|i| format!("{}", i as f64 / 20.0)).collect();
    refused(
        &format!("{ok}step = 0.01\nfrontier = [{}]", shares.join(", ")),
        &["2020 splits to run (more than 2000)"],
    );
}

#[test]
fn a_table_at_the_edges_of_what_is_allowed_is_accepted() {
    let tmp = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(fixture("small_portfolio.toml")).unwrap();
    let levers = text.split("[optimise]").next().unwrap();
    let small = fixture("small.toml");
    let levers = levers.replace("\"small.toml\"", &format!("{:?}", small.to_str().unwrap()));
    // Limits that let the levers spend exactly the budget; the coarsest and
    // finest steps; one share.
    for table in [
        "payer_limits = { housing = 90_000, police = 60_000 }",
        "step = 1",
        "step = 0.01",
        "frontier = [1]",
    ] {
        let file = tmp.path().join("edge.toml");
        std::fs::write(
            &file,
            format!(
                "{levers}[optimise]\nbudget = 150_000\nlevers = [\"strong\", \"none\"]\n{table}\n"
            ),
        )
        .unwrap();
        let loaded = upstream::scenario::load(&file);
        assert!(loaded.is_ok(), "{table}: {:?}", loaded.err());
    }
}

#[test]
fn a_lever_the_baseline_funds_or_a_scenario_without_a_budget_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let run = |baseline: &Path, scenario: &Path| {
        upstream(&[
            "optimise",
            baseline.to_str().unwrap(),
            scenario.to_str().unwrap(),
            "-r",
            "1",
            "-o",
            tmp.path().join("out").to_str().unwrap(),
        ])
    };
    let three = upstream(&[
        "optimise",
        fixture("small.toml").to_str().unwrap(),
        fixture("small_hubs.toml").to_str().unwrap(),
        fixture("small_portfolio.toml").to_str().unwrap(),
        "-o",
        tmp.path().join("out").to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&three.stderr);
    assert_eq!(three.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("3 scenarios were given"), "{stderr}");
    let none = run(&fixture("small.toml"), &fixture("small_hubs.toml"));
    let stderr = String::from_utf8_lossy(&none.stderr);
    assert_eq!(none.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("small_hubs.toml has no [optimise] table"),
        "{stderr}"
    );
    // A baseline that funds the levers already.
    let funded = tmp.path().join("funded.toml");
    std::fs::write(
        &funded,
        format!(
            "name = \"Funded\"\nextends = {:?}\n",
            fixture("small_portfolio.toml").to_str().unwrap()
        ),
    )
    .unwrap();
    let both = run(&funded, &fixture("small_portfolio.toml"));
    let stderr = String::from_utf8_lossy(&both.stderr);
    assert_eq!(both.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("lever `strong` is in the baseline too"),
        "{stderr}"
    );
    assert!(!tmp.path().join("out").exists());
}

#[test]
fn a_stated_split_the_limits_do_not_allow_is_said_so() {
    let plan = two_levers(1, 2);
    let mut scenarios = plan.scenarios().to_vec();
    scenarios[1] = scenarios[1]
        .with_numbers(&[
            ("interventions.strong.annual_budget", &[120_000.0]),
            ("interventions.none.annual_budget", &[30_000.0]),
        ])
        .unwrap();
    let found = optimise(
        &scenarios,
        plan.settings(),
        Objective::Npv,
        false,
        None,
        &mut Runs::whole(),
        &|| {},
    )
    .unwrap()
    .expect("run whole");
    assert_eq!(
        found.stated_is,
        Err("housing puts in £120k a year, above its limit of £90k".to_string())
    );
    assert!(
        found
            .stated_sentence()
            .contains("is not one the optimiser could choose: housing puts in £120k"),
        "{}",
        found.stated_sentence()
    );
    // The best split is the same whatever the scenario states.
    let best = found.best_overall();
    assert_eq!(best.funding[0].amount, 90_000.0);
}

#[test]
fn with_parameters_drawn_every_split_meets_the_same_draws() {
    let plan = two_levers(8, 2);
    let found = optimise(
        plan.scenarios(),
        plan.settings(),
        Objective::Npv,
        true,
        None,
        &mut Runs::whole(),
        &|| {},
    )
    .unwrap()
    .expect("run whole");
    assert!(found.parameters_drawn);
    assert_eq!(found.best_overall().funding[0].amount, 90_000.0);
    // The split as written, run as a split, draws the same parameters in
    // each replicate, so its figures are the stated scenario's exactly.
    let i = found.stated_is.clone().unwrap();
    assert_eq!(found.splits[i].figures, found.stated);
    assert!(
        found
            .stability()
            .contains("each replicate with its own draw")
    );
}
