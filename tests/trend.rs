//! A declared trend: the place grows and ages as its table says, a flat
//! table changes nothing, and a wrong table is refused with the field and
//! line.

use std::path::{Path, PathBuf};

use upstream::engine::Engine;
use upstream::model::Config;
use upstream::model::demography::{ADULT_AGE, growth_by_year};
use upstream::model::population::is_vacant;
use upstream::scenario;

const BASELINE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/baseline.toml");

/// A 20,000-resident place extending the bundled baseline, with `trend`
/// (the body of `[population.trend]`) if given.
fn place(trend: Option<&str>, years: u32) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("place.toml");
    let mut text = format!(
        "name = \"Trend test\"\nextends = {BASELINE:?}\nhorizon_years = {years}\n\n\
         [population]\nresidents = 20_000\nneighbourhoods = 4\ndeprivation_deciles = [1, 4, 7, 10]\n"
    );
    if let Some(t) = trend {
        text.push_str("\n[population.trend]\n");
        text.push_str(t);
    }
    std::fs::write(&path, text).unwrap();
    (tmp, path)
}

fn config(path: &Path) -> Config {
    scenario::load(path).expect("the scenario loads").config
}

/// Children and adults in the engine's place now.
fn counts(engine: &Engine) -> [f64; 2] {
    let mut n = [0.0; 2];
    for &a in &engine.population().residents.age {
        if !is_vacant(a) {
            n[(a >= ADULT_AGE) as usize] += 1.0;
        }
    }
    n
}

const GROWING: &str = "age_bands = [0, 18, 65, 85]\nyears = [\n\
    [2026, 10000, 30000, 8000, 2000],\n\
    [2027, 10300, 30100, 8300, 2100],\n\
    [2028, 10600, 30200, 8600, 2200],\n\
    [2029, 10900, 30300, 8900, 2300],\n\
    [2030, 11200, 30400, 9200, 2400],\n]\n";

/// Children and adults within 0.5% of the trend's path at the end of
/// scenario year `year`.
fn on_path(engine: &Engine, start: [f64; 2], growth: [f64; 2], year: u32) {
    let now = counts(engine);
    for k in 0..2 {
        let want = start[k] * growth[k];
        assert!(
            (now[k] - want).abs() <= 0.005 * want,
            "year {year}: {} {} against {want:.0} on the path",
            ["children", "adults"][k],
            now[k]
        );
    }
}

/// Residents aged 65 or over, by the bands of [`GROWING`]: 65-84 and 85+.
fn older(engine: &Engine) -> [f64; 2] {
    let mut n = [0.0; 2];
    for &a in &engine.population().residents.age {
        if !is_vacant(a) && a >= 65 {
            n[(a >= 85) as usize] += 1.0;
        }
    }
    n
}

#[test]
fn the_place_grows_and_ages_along_the_declared_path() {
    let (_tmp, path) = place(Some(GROWING), 4);
    let cfg = config(&path);
    let growth = growth_by_year(&cfg);
    assert_eq!(growth.len(), 5);
    let mut engine = Engine::new(&cfg, 7, 0);
    engine.run_to(0);
    let (start, start_older) = (counts(&engine), older(&engine));
    // The table's 65-84 and 85+ bands grow by 15% and 20% over four years.
    let band_growth = [
        [1.0, 1.0],
        [1.0375, 1.05],
        [1.075, 1.1],
        [1.1125, 1.15],
        [1.15, 1.2],
    ];
    for year in 1..=4 {
        engine.run_to(12 * year);
        engine.check_invariants().expect("the accounts balance");
        on_path(&engine, start, growth[year as usize], year);
        // Ages follow the table's bands too (newcomers' ages and moves,
        // from one year's ages to the next).
        let old = older(&engine);
        for b in 0..2 {
            let want = start_older[b] * band_growth[year as usize][b];
            assert!(
                (old[b] - want).abs() <= 0.03 * want,
                "year {year}: {} residents aged {} against {want:.0}",
                old[b],
                ["65-84", "85+"][b]
            );
        }
    }
    let tv = engine.turnover();
    let now = counts(&engine);
    assert_eq!(tv.end as f64, now[0] + now[1]);
    assert!(tv.end > tv.start);
}

#[test]
fn a_flat_trend_changes_nothing() {
    // A table whose rows never change declares no trend: byte for byte the
    // same replicate as the place without one.
    let flat = "age_bands = [0, 18, 65]\nyears = [\n\
        [2026, 400, 1200, 300],\n[2027, 400, 1200, 300],\n[2028, 400, 1200, 300],\n]\n";
    let (_a, with) = place(Some(flat), 2);
    let (_b, without) = place(None, 2);
    let (with, without) = (config(&with), config(&without));
    assert!(with.population.trend.is_some());
    assert_eq!(
        Engine::new(&with, 11, 3).run(),
        Engine::new(&without, 11, 3).run()
    );
}

#[test]
fn a_growing_place_resumes_from_a_snapshot_as_if_never_stopped() {
    let (_tmp, path) = place(Some(GROWING), 3);
    let cfg = config(&path);
    let straight = Engine::new(&cfg, 5, 1).run();
    let mut first = Engine::new(&cfg, 5, 1);
    first.run_to(17);
    let bytes = first.snapshot();
    let resumed = Engine::resume(&cfg, &bytes).expect("the snapshot resumes");
    assert_eq!(resumed.run(), straight);
}

#[test]
fn a_wrong_trend_is_refused_with_its_field_and_line() {
    for (table, field, expected) in [
        (
            "age_bands = [0, 18]\nyears = [[2026, 10, 20], [2028, 11, 20]]\n",
            "population.trend.years[1]",
            "expected the year 2027 first",
        ),
        (
            "age_bands = [0, 18]\nyears = [[2026, 10, 20], [2027, 11]]\n",
            "population.trend.years[1]",
            "then 2 residents counts",
        ),
        (
            "age_bands = [0, 18]\nyears = [[2026, 10, 0]]\n",
            "population.trend.years[0]",
            "above zero",
        ),
        (
            "age_bands = [5, 18]\nyears = [[2026, 10, 20]]\n",
            "population.trend.age_bands",
            "from 0 and increasing",
        ),
        (
            "age_bands = [0, 18]\nrows = [[2026, 10, 20]]\n",
            "rows",
            "years",
        ),
    ] {
        let (_tmp, path) = place(Some(table), 2);
        let err = scenario::load(&path)
            .err()
            .unwrap_or_else(|| panic!("{table} was accepted"))
            .to_string();
        assert!(err.contains("place.toml"), "{err}");
        assert!(err.contains("line"), "{err}");
        assert!(err.contains(field), "{field}: {err}");
        assert!(err.contains(expected), "{expected}: {err}");
    }
}

#[test]
fn a_shrinking_place_follows_its_path_down() {
    // Fewer children each year: no room is kept, and leavers' slots are
    // left empty until the children are back on the path.
    let shrinking = "age_bands = [0, 18]\nyears = [\n\
        [2026, 1000, 4000],\n[2027, 970, 4000],\n[2028, 940, 4000],\n[2029, 910, 4000],\n]\n";
    let (_tmp, path) = place(Some(shrinking), 3);
    let cfg = config(&path);
    let growth = growth_by_year(&cfg);
    let mut engine = Engine::new(&cfg, 3, 2);
    assert_eq!(
        engine.population().residents.len(),
        20_000,
        "no room is kept for a place that never grows"
    );
    engine.run_to(0);
    let start = counts(&engine);
    for year in 1..=3 {
        engine.run_to(12 * year);
        engine.check_invariants().expect("the accounts balance");
        on_path(&engine, start, growth[year as usize], year);
    }
}
