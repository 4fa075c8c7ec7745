//! A run over many places (`upstream run --places`): every scenario in
//! every place, each with its own residents and deprivation; the totals of
//! a region and of all places are the places' figures added replicate by
//! replicate; a run over places shards and merges to the same file, byte
//! for byte; a bad places table is refused naming file, line and column;
//! a run too big for the memory given is refused with the shards that
//! would fit.

use std::fs;
use std::path::Path;

use upstream::app::Request;
use upstream::region::{Level, PlaceRow, Region, neighbourhoods};

use crate::common::{merge_ok, upstream};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn request(replicates: u32) -> Request {
    Request {
        scenarios: vec![
            root().join("tests/fixtures/small.toml"),
            root().join("tests/fixtures/small_hubs.toml"),
        ],
        replicates,
        seed: 3,
        threads: Some(2),
        years: Some(1),
        ..Request::default()
    }
}

fn region(table: &Path, replicates: u32) -> Region {
    Region::new_through(&request(replicates), table, &|p| fs::read_to_string(p)).unwrap()
}

#[test]
fn totals_are_the_places_added_up_and_each_place_has_its_own_residents() {
    let table = root().join("tests/fixtures/places.csv");
    let r = region(&table, 8);
    let residents: Vec<u32> = r
        .places
        .iter()
        .map(|p| p.plan.scenarios()[0].config.population.residents)
        .collect();
    assert_eq!(residents, [4000, 2500, 3000]);
    // Every scenario keeps its own name in every place.
    for p in &r.places {
        let names: Vec<&str> = p
            .plan
            .scenarios()
            .iter()
            .map(|l| l.config.name.as_str())
            .collect();
        assert_eq!(names, ["Small borough", "Small borough with hubs"]);
    }
    let outcome = r.run(&|| {}).unwrap();
    // The terminal says how many threads the run used: at least one.
    assert!(outcome.threads() >= 1);
    let rows = outcome.rows();
    let find = |level: Level, name: &str, scenario: &str, figure: &str| {
        rows.iter()
            .find(|x| {
                x.level == level && x.name == name && x.scenario == scenario && x.figure == figure
            })
            .unwrap_or_else(|| panic!("{name} {scenario} {figure}"))
    };
    for scenario in ["Small borough", "Small borough with hubs"] {
        for figure in [
            "total_cost_gbp",
            "reactive_cost_gbp",
            "prevention_spend_gbp",
        ] {
            let place = |n: &str| find(Level::Place, n, scenario, figure).band.mean;
            let (a, b, c) = (place("Northtown"), place("Easton"), place("Southby"));
            let all = find(Level::All, "all places", scenario, figure);
            let north = find(Level::Region, "North", scenario, figure).band.mean;
            assert!(a > 0.0 && b > 0.0 && c > 0.0, "{figure}");
            assert!(
                (all.band.mean - (a + b + c)).abs() <= 1e-6 * all.band.mean,
                "{figure}"
            );
            assert!((north - (a + b)).abs() <= 1e-6 * north, "{figure}");
            assert_eq!((all.places, all.residents), (3, 9500));
        }
    }
    // Each place's replicates are cut down to their figures as they run:
    // a place's figures are its own run's, to the penny, and its net
    // present value its own appraisal's.
    let alone = region(&table, 8).places.remove(0).plan.run(&|| {}).unwrap();
    let hubs = &alone.economics.appraisals[0];
    let npv = find(Level::Place, "Northtown", "Small borough with hubs", "npv");
    assert_eq!(npv.band, hubs.npv);
    for (s, scenario) in ["Small borough", "Small borough with hubs"]
        .iter()
        .enumerate()
    {
        let own = upstream::aggregate::headline_by_replicate(&alone.experiment, s);
        let each = [
            ("total_cost_gbp", &own.total_cost_gbp),
            ("reactive_cost_gbp", &own.reactive_cost_gbp),
            ("prevention_spend_gbp", &own.prevention_spend_gbp),
            ("capital_spend_gbp", &own.capital_spend_gbp),
            ("net_revenue_saving_gbp", &own.net_revenue_saving_gbp),
            ("crisis_months_avoided", &own.crisis_months_avoided),
        ];
        for (figure, v) in each.into_iter().take(if s == 0 { 4 } else { 6 }) {
            let got = find(Level::Place, "Northtown", scenario, figure);
            assert_eq!(
                got.band,
                upstream::metrics::Band::of(v),
                "{scenario} {figure}"
            );
        }
    }
    // The work reported is each place's own run's added up: the
    // resident-months simulated, and the burn-in shared between its
    // scenarios and so not simulated again.
    let (mut months, mut shared) = (0, 0);
    for p in region(&table, 8).places {
        let own = p.plan.run(&|| {}).unwrap();
        months += own.experiment.resident_months;
        shared += own.experiment.burn_in_shared;
    }
    assert!(shared > 0, "the fixture's scenarios share their burn-in");
    assert_eq!(
        (outcome.resident_months, outcome.burn_in_shared),
        (months, shared)
    );
}

#[test]
fn neighbourhoods_are_the_baselines_size_and_never_fewer_than_its_count() {
    let row = |residents: u32, deciles: [f64; 10]| PlaceRow {
        name: "P".into(),
        region: None,
        residents,
        deciles,
        activity: Default::default(),
    };
    let big = neighbourhoods(&row(1_000_000, [1.0; 10]), 10_000.0, 20);
    assert_eq!(big.len(), 100);
    assert_eq!(
        big.iter().map(|n| n.residents as u64).sum::<u64>(),
        1_000_000
    );
    let mut only_two = [0.0; 10];
    only_two[0] = 3.0;
    only_two[9] = 1.0;
    let small = neighbourhoods(&row(2_281, only_two), 10_000.0, 20);
    assert_eq!(small.len(), 20);
    assert_eq!(small.iter().map(|n| n.residents).sum::<u32>(), 2_281);
    assert!(small.iter().all(|n| n.decile == 1 || n.decile == 10));
    let most = small
        .iter()
        .filter(|n| n.decile == 1)
        .map(|n| n.residents)
        .sum::<u32>();
    assert_eq!(most, 1_711, "three quarters of the residents, rounded");
}

fn run(args: &[&str]) -> std::process::Output {
    let mut all = vec![
        "run",
        "tests/fixtures/small.toml",
        "tests/fixtures/small_hubs.toml",
        "--places",
        "tests/fixtures/places.csv",
        "-r",
        "3",
        "--years",
        "1",
        "-q",
    ];
    all.extend(args);
    upstream(&all)
}

#[test]
fn a_run_over_places_shards_and_merges_to_the_same_file() {
    let tmp = tempfile::tempdir().unwrap();
    let whole = tmp.path().join("whole");
    assert!(run(&["-o", whole.to_str().unwrap()]).status.success());
    let expected = fs::read(whole.join("places.csv")).unwrap();
    // 3 places × 3 replicates: 9 pieces; 11 shards leave two idle.
    for count in [2u32, 11] {
        let parts = tmp.path().join(format!("parts-{count}"));
        for k in (1..=count).rev() {
            let shard = format!("{k}/{count}");
            let out = run(&["--shard", &shard, "-j", "1", "-o", parts.to_str().unwrap()]);
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let merged = tmp.path().join(format!("merged-{count}"));
        merge_ok(std::slice::from_ref(&parts), &merged, &[]);
        assert!(
            fs::read(merged.join("places.csv")).unwrap() == expected,
            "{count} shards"
        );
    }
}

/// A place whose own figures the model cannot reproduce is refused naming
/// the table's line and column, not the baseline's file; and among a
/// thousand such places the first is reported at once, not after every
/// place is set up (issue 37, fault 17).
#[test]
fn a_place_the_model_cannot_reproduce_is_blamed_on_its_row_at_once() {
    let tmp = tempfile::tempdir().unwrap();
    let header = "place,residents,decile_1,decile_2,decile_3,decile_4,decile_5,decile_6,decile_7,decile_8,decile_9,decile_10,ae_attendances";
    let mut table = format!("{header}\nFine,5000,1,1,1,1,1,1,1,1,1,1,\n");
    for i in 0..999 {
        table.push_str(&format!("Busy {i},5000,1,1,1,1,1,1,1,1,1,1,90000000\n"));
    }
    let file = tmp.path().join("busy.csv");
    fs::write(&file, table).unwrap();
    let out_dir = tmp.path().join("out");
    let started = std::time::Instant::now();
    let got = upstream(&[
        "run",
        "tests/fixtures/small.toml",
        "--places",
        file.to_str().unwrap(),
        "-r",
        "1",
        "-o",
        out_dir.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&got.stderr);
    assert_eq!(got.status.code(), Some(2), "{stderr}");
    for e in [
        "busy.csv, line 3, column `ae_attendances`",
        "place \"Busy 0\"",
        "rate_per_month",
    ] {
        assert!(stderr.contains(e), "expected {e:?} in {stderr}");
    }
    assert!(!stderr.contains("small.toml"), "{stderr}");
    assert!(!out_dir.exists());
    // Setting up all thousand places first took minutes.
    assert!(started.elapsed().as_secs() < 60, "{:?}", started.elapsed());
}

#[test]
fn a_bad_places_table_is_refused_by_file_line_and_column() {
    let tmp = tempfile::tempdir().unwrap();
    let good = fs::read_to_string(root().join("tests/fixtures/places.csv")).unwrap();
    let cases: Vec<(String, &[&str])> = vec![
        (good.replace("region,", "county,"), &["line 1", "column `county`", "unknown column"]),
        (good.replace(",decile_10", ""), &["line 1", "column `decile_10`", "missing"]),
        (good.replace("Easton", "Northtown"), &["line 3", "column `place`", "listed twice (first on line 2)"]),
        (good.replace("Southby,South,3000", "Southby,South,lots"), &["line 4", "column `residents`", "a whole number"]),
        (good.replace("Southby,South,3000,300", "Southby,South,3000,-3"), &["line 4", "column `decile_1`", "a number from 0 to 50,000,000"]),
        ("place,residents,decile_1,decile_2,decile_3,decile_4,decile_5,decile_6,decile_7,decile_8,decile_9,decile_10\n".into(), &["lists no places"]),
    ];
    for (i, (text, expect)) in cases.into_iter().enumerate() {
        let table = tmp.path().join(format!("bad{i}.csv"));
        fs::write(&table, text).unwrap();
        let out_dir = tmp.path().join(format!("out{i}"));
        let got = upstream(&[
            "run",
            "tests/fixtures/small.toml",
            "--places",
            table.to_str().unwrap(),
            "-o",
            out_dir.to_str().unwrap(),
        ]);
        let stderr = String::from_utf8_lossy(&got.stderr);
        assert_eq!(got.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains(&format!("bad{i}.csv")), "{stderr}");
        for e in expect {
            assert!(stderr.contains(e), "expected {e:?} in {stderr}");
        }
        assert!(!out_dir.exists());
    }
}

#[test]
fn a_run_too_big_for_its_memory_is_refused_with_the_shards_that_would_fit() {
    let table = root().join("tests/fixtures/places.csv");
    let r = region(&table, 200);
    let whole = r.memory(2, 1).total();
    // Results shrink with shards; the populations do not.
    assert!(r.memory(2, 4).total() < whole);
    let limit = r.memory(2, 4).total();
    let err = r.check_memory(Some(limit), 2, 1).unwrap_err();
    let text = err.to_string();
    let shards = (1..=4).find(|&n| r.memory(2, n).total() <= limit).unwrap();
    assert!(shards > 1);
    assert!(
        text.contains(&format!(
            "split it into {shards} shards (--shard K/{shards})"
        )),
        "{text}"
    );
    assert!(r.check_memory(Some(whole), 2, 1).is_ok());
    // One of those shards fits.
    assert!(r.check_memory(Some(limit), 2, shards).is_ok());
    let tiny = r.check_memory(Some(1 << 20), 2, 1).unwrap_err().to_string();
    assert!(tiny.contains("use fewer --threads"), "{tiny}");
}

/// With parameters drawn, a place's figures are its own probabilistic
/// run's (each replicate its own draw), not the plain run's; and the run
/// shards and merges to the same file.
#[test]
fn a_run_over_places_with_parameters_drawn_gives_each_place_its_own_draws_and_shards() {
    let table = root().join("tests/fixtures/places.csv");
    let drawn = Request {
        uncertainty: true,
        ..request(4)
    };
    let set_up =
        |req: &Request| Region::new_through(req, &table, &|p| fs::read_to_string(p)).unwrap();
    let rows = set_up(&drawn).run(&|| {}).unwrap().rows();
    let plain = set_up(&request(4)).run(&|| {}).unwrap().rows();
    let npv = |rows: &[upstream::region::Row]| {
        rows.iter()
            .find(|x| x.level == Level::Place && x.name == "Easton" && x.figure == "npv")
            .unwrap()
            .band
    };
    let alone = set_up(&drawn).places.remove(1).plan.run(&|| {}).unwrap();
    assert_eq!(npv(&rows), alone.economics.appraisals[0].npv);
    assert_ne!(npv(&rows), npv(&plain));

    let tmp = tempfile::tempdir().unwrap();
    let whole = tmp.path().join("whole");
    let go = |extra: &[&str]| {
        let mut args = vec!["--uncertainty"];
        args.extend(extra);
        let out = run(&args);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    go(&["-o", whole.to_str().unwrap()]);
    let parts = tmp.path().join("parts");
    for k in ["3/3", "1/3", "2/3"] {
        go(&["--shard", k, "-j", "1", "-o", parts.to_str().unwrap()]);
    }
    let merged = tmp.path().join("merged");
    merge_ok(std::slice::from_ref(&parts), &merged, &[]);
    assert!(
        fs::read(merged.join("places.csv")).unwrap() == fs::read(whole.join("places.csv")).unwrap()
    );
}
