//! A place of its own: a scenario that extends the bundled baseline with its
//! own number of residents gets capacities, budgets and envelopes in
//! proportion (the baseline writes them per 1,000), and so runs like the
//! borough per resident; `upstream new-place` writes one from a
//! neighbourhood CSV and reproduces the counts it is given; sizes written as
//! amounts for another population are warned about; errors about an
//! inherited field name the place's own file first.

use std::fs;
use std::path::Path;

use upstream::model::{Config, Delivery};
use upstream::replicates::{self, RunSettings};
use upstream::scenario::{self, Loaded};

use std::process::Output;

use crate::common::{assert_rejected, upstream};

fn write(text: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let root = env!("CARGO_MANIFEST_DIR");
    let file = tmp.path().join("my_place.toml");
    fs::write(
        &file,
        text.replace("BASELINE", &format!("{root}/scenarios/baseline.toml")),
    )
    .unwrap();
    (tmp, file)
}

fn load(path: &Path) -> Loaded {
    scenario::load(path).unwrap_or_else(|e| panic!("{e}"))
}

fn bundled(name: &str) -> Loaded {
    load(
        &Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("scenarios")
            .join(name),
    )
}

const SMALL_PLACE: &str = "extends = \"BASELINE\"\nname = \"Small place\"\n\
    [population]\nresidents = 80_000\nneighbourhoods = 10\n\
    deprivation_deciles = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\n";

fn early_help_places(c: &Config) -> u32 {
    match &c.interventions[0].delivery {
        Delivery::Caseload { places_by_year, .. } => places_by_year[0],
        _ => panic!("early help is a caseload"),
    }
}

#[test]
fn sizes_written_per_1000_scale_with_the_place() {
    let borough = bundled("baseline.toml");
    let (_tmp, file) = write(SMALL_PLACE);
    let place = load(&file);
    assert!(place.warnings.is_empty(), "{:?}", place.warnings);
    let ratio = 80_000.0 / 200_000.0;
    for (b, p) in borough.config.episodes.iter().zip(&place.config.episodes) {
        let expected = b.capacity as f64 * ratio;
        assert!(
            (p.capacity as f64 - expected).abs() <= 1.0,
            "{}: {} places against {expected:.1} in proportion",
            b.name,
            p.capacity
        );
    }
    // A month's spend in pence, rounded: £10 a resident a year.
    let pence_a_month = |pounds_a_year: f64| (pounds_a_year * 100.0 / 12.0).round() as i64;
    assert_eq!(
        borough.config.interventions[0].monthly_spend(1),
        pence_a_month(2_000_000.0)
    );
    assert_eq!(
        place.config.interventions[0].monthly_spend(1),
        pence_a_month(800_000.0)
    );
    let (b, p) = (
        early_help_places(&borough.config),
        early_help_places(&place.config),
    );
    assert!(
        (p as f64 - b as f64 * ratio).abs() <= 1.0,
        "{p} cases against {b}"
    );
    let envelope = |l: &Loaded| {
        let budgets = &l.conventions.budgets;
        let b = budgets
            .iter()
            .find(|b| b.payer == upstream::model::Payer::ChildrensServices);
        b.expect("a children's envelope").envelope.clone()
    };
    for (b, p) in envelope(&borough).iter().zip(envelope(&place)) {
        assert!((p - b * ratio).abs() < 0.01, "envelope {p} against {b}");
    }
}

/// Reactive cost a resident over three years, and the share of episode
/// places bought on the spot market, over eight replicates.
fn per_resident(mut c: Config) -> (f64, f64) {
    c.months = 36;
    let settings = RunSettings {
        replicates: 8,
        seed: 12,
        threads: Some(2),
    };
    let runs = replicates::run(&[&c], &settings, &|| {})
        .unwrap()
        .scenarios
        .remove(0);
    let layout = &runs.layout;
    let (mut cost, mut spot, mut occupied) = (0.0, 0.0, 0.0);
    for r in &runs.replicates {
        for m in r.raw.chunks(layout.len()) {
            cost += m[layout.reactive_cost] as f64 / 100.0;
            for e in 0..c.episodes.len() {
                spot += m[layout.episode_spot + e] as f64;
                occupied += m[layout.episode_occupancy + e] as f64;
            }
        }
    }
    let residents = c.population.residents as f64 * runs.replicates.len() as f64;
    (cost / residents, spot / occupied)
}

#[test]
fn an_amount_written_for_another_population_is_warned_about() {
    let root = env!("CARGO_MANIFEST_DIR");
    let (_tmp, file) = write(&format!(
        "extends = \"{root}/scenarios/hubs.toml\"\nname = \"My hubs\"\n\
         [population]\nresidents = 80_000\n"
    ));
    let place = load(&file);
    let w: Vec<String> = place.warnings.iter().map(|w| w.to_string()).collect();
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(
        w[0].contains("my_place.toml inherits `interventions.hubs.annual_budget` from")
            && w[0].contains("hubs.toml, line ")
            && w[0]
                .contains("written as an amount for 200,000 residents, but this place has 80,000"),
        "{}",
        w[0]
    );
}

#[test]
fn per_1000_is_for_sizes_only_and_alone() {
    assert_rejected(
        "extends = \"BASELINE\"\nname = \"E\"\n[need]\nutility = { per_1000_residents = [1, 1, 1, 1] }\n",
        &[
            "field `need.utility`",
            "`per_1000_residents` is for sizes only",
        ],
    );
    assert_rejected(
        "extends = \"BASELINE\"\nname = \"E\"\n[episodes.adult_residential_care]\ncapacity = { value = 10, per_1000_residents = 2.0 }\n",
        &["capacity", "give one of `value`, `per_1000_residents`"],
    );
    assert_rejected(
        "extends = \"BASELINE\"\nname = \"E\"\n[episodes.adult_residential_care]\ncapacity = 10.5\n",
        &["capacity", "expected a whole number of places"],
    );
}

#[test]
fn an_error_in_an_inherited_field_names_the_place_first() {
    let (_tmp, file) = write(
        "extends = \"BASELINE\"\nname = \"My place\"\n[population]\nresidents = 80_000\nneighbourhoods = 8\n",
    );
    let e = scenario::load(&file).unwrap_err().to_string();
    assert!(
        e.starts_with(&format!(
            "{} inherits `population.deprivation_deciles` from ",
            file.display()
        )) && e.contains("baseline.toml, line ")
            && e.contains("(`neighbourhoods = 8`), found 20"),
        "{e}"
    );
}

/// Neighbourhoods as a commissioner has them: 80,000 residents.
const AREAS: &str = "neighbourhood,imd_decile,residents\n\
    Northfield,1,12000\nEastgate,2,10500\nRiverside,3,9500\nOld Town,4,11000\n\
    Hillcrest,6,9000\nWestwood,7,8500\nMeadows,9,10000\nParkside,10,9500\n";

fn new_place(csv: &str, extra: &[&str]) -> (tempfile::TempDir, std::path::PathBuf, Output) {
    let tmp = tempfile::tempdir().unwrap();
    let areas = tmp.path().join("areas.csv");
    fs::write(&areas, csv).unwrap();
    let out_file = tmp.path().join("northtown.toml");
    let mut args = vec![
        "new-place",
        "--name",
        "Northtown",
        "--neighbourhoods",
        areas.to_str().unwrap(),
        "-o",
        out_file.to_str().unwrap(),
    ];
    args.extend(extra);
    let out = upstream(&args);
    (tmp, out_file, out)
}

/// `-o northtown.toml`, as the guide to your own place writes it: a file named without a
/// folder extends the baseline by its path from the current folder (issue
/// 37, fault 8: it once extended "baseline.toml", which is not there).
#[test]
fn new_place_written_into_the_current_folder_extends_the_baseline_it_names() {
    let tmp = tempfile::tempdir().unwrap();
    let root = env!("CARGO_MANIFEST_DIR");
    fs::create_dir(tmp.path().join("work")).unwrap();
    fs::write(tmp.path().join("work/areas.csv"), AREAS).unwrap();
    let baseline = format!("{root}/scenarios/baseline.toml");
    let in_work = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_upstream"))
            .args(args)
            .current_dir(tmp.path().join("work"))
            .output()
            .unwrap()
    };
    let out = in_work(&[
        "new-place",
        "--name",
        "Northtown",
        "--neighbourhoods",
        "areas.csv",
        "--extends",
        &baseline,
        "-o",
        "northtown.toml",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let check = in_work(&["check", "northtown.toml"]);
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
}

/// A commissioner starts from their authority's row of the bundled places
/// table: its residents laid out over its deprivation deciles, nothing to
/// build by hand (issue 37, fault 9); a name not in the table is refused
/// with the nearest one.
#[test]
fn new_place_starts_from_a_row_of_the_bundled_places_table() {
    let tmp = tempfile::tempdir().unwrap();
    let root = env!("CARGO_MANIFEST_DIR");
    let out = tmp.path().join("doncaster.toml");
    let made = upstream(&[
        "new-place",
        "--place",
        "Doncaster",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let said = String::from_utf8_lossy(&made.stdout);
    assert!(said.contains("312,785 residents"), "{said}");
    let loaded = upstream::app::load(&out, &Default::default()).unwrap();
    let population = &loaded.config.population;
    assert_eq!(loaded.config.name, "Doncaster");
    assert_eq!(population.residents, 312_785);
    // The table's row, decile by decile (England's, most deprived first).
    let table = fs::read_to_string(format!("{root}/scenarios/places/england.csv")).unwrap();
    let row: Vec<u64> = table
        .lines()
        .find(|l| l.starts_with("Doncaster,"))
        .unwrap()
        .split(',')
        .skip(3)
        .map(|c| c.parse().unwrap())
        .collect();
    let check = upstream(&["check", out.to_str().unwrap()]);
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
    let text = fs::read_to_string(&out).unwrap();
    let residents_in = |decile: usize| -> u64 {
        // The written lists: deprivation_deciles and neighbourhood_residents.
        let list = |key: &str| -> Vec<u64> {
            let line = text.lines().find(|l| l.starts_with(key)).unwrap();
            let inner = &line[line.find('[').unwrap() + 1..line.rfind(']').unwrap()];
            inner
                .split(',')
                .map(|c| c.trim().replace('_', "").parse().unwrap())
                .collect()
        };
        let (deciles, residents) = (list("deprivation_deciles"), list("neighbourhood_residents"));
        deciles
            .iter()
            .zip(&residents)
            .filter(|(d, _)| **d == decile as u64)
            .map(|(_, r)| *r)
            .sum()
    };
    for (k, want) in row.iter().enumerate() {
        assert_eq!(residents_in(k + 1), *want, "decile {}", k + 1);
    }
    let wrong = upstream(&[
        "new-place",
        "--place",
        "Doncastr",
        "-o",
        tmp.path().join("x.toml").to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&wrong.stderr);
    assert_eq!(wrong.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("england.csv, column `place`"), "{stderr}");
    assert!(stderr.contains("did you mean \"Doncaster\"?"), "{stderr}");
    assert!(!tmp.path().join("x.toml").exists());
}

#[test]
fn new_place_writes_a_place_that_reproduces_the_figures_given() {
    let (_tmp, file, out) = new_place(
        AREAS,
        &[
            "--ae-attendances",
            "30000",
            "--unplanned-admissions",
            "8500",
            "--looked-after-children",
            "140",
            "--households-in-temporary-accommodation",
            "90",
            "--care-home-residents",
            "180",
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = fs::read_to_string(&file).unwrap();
    assert!(
        text.contains("# From you: 140 looked-after children."),
        "{text}"
    );
    let place = load(&file);
    assert!(place.warnings.is_empty(), "{:?}", place.warnings);
    let c = &place.config;
    assert_eq!(c.population.residents, 80_000);
    let names: Vec<&str> = c
        .population
        .neighbourhoods
        .iter()
        .map(|n| n.name.as_str())
        .collect();
    assert_eq!(names[3], "Old Town");
    assert_eq!(c.population.neighbourhoods[0].residents, 12_000);
    // Run on other luck than the calibration's: each figure within 10% in
    // the first year.
    let mut one_year = c.clone();
    one_year.months = 12;
    let settings = RunSettings {
        replicates: 8,
        seed: 77,
        threads: Some(2),
    };
    let runs = replicates::run(&[&one_year], &settings, &|| {})
        .unwrap()
        .scenarios
        .remove(0);
    let lay = &runs.layout;
    let mean = |f: &dyn Fn(&[i64]) -> f64, per_month: bool| {
        let total: f64 = runs
            .replicates
            .iter()
            .flat_map(|r| r.raw.chunks(lay.len()))
            .map(f)
            .sum();
        total / 8.0 / if per_month { 12.0 } else { 1.0 }
    };
    let event = |id: &str| c.events.iter().position(|e| e.id == id).unwrap();
    let episode = |id: &str| c.episodes.iter().position(|e| e.id == id).unwrap();
    for (what, seen, target) in [
        (
            "A&E attendances",
            mean(
                &|m| m[lay.event_count + event("ae_attendance")] as f64,
                false,
            ),
            30_000.0,
        ),
        (
            "unplanned admissions",
            mean(
                &|m| m[lay.event_count + event("unplanned_admission")] as f64,
                false,
            ),
            8_500.0,
        ),
        (
            "looked-after children",
            mean(
                &|m| m[lay.episode_occupancy + episode("childrens_placement")] as f64,
                true,
            ),
            140.0,
        ),
        (
            "households in temporary accommodation",
            mean(
                &|m| m[lay.episode_occupancy + episode("temporary_accommodation")] as f64,
                true,
            ),
            90.0,
        ),
        (
            "care-home residents",
            mean(
                &|m| m[lay.episode_occupancy + episode("adult_residential_care")] as f64,
                true,
            ),
            180.0,
        ),
    ] {
        assert!(
            (seen / target - 1.0).abs() < 0.1,
            "{what}: {seen:.1} in the first year against {target} given"
        );
    }
}

#[test]
fn a_place_from_new_place_runs_like_the_borough_per_resident() {
    // Ten neighbourhoods, one in each decile like the borough's mix, 80,000
    // residents, no figures of its own: sizes in proportion, and reactive
    // cost per resident and the spot share within 10% of the borough's.
    let csv: String = std::iter::once("neighbourhood,imd_decile,residents\n".to_string())
        .chain((1..=10).map(|d| format!("Area {d},{d},8000\n")))
        .collect();
    let (_tmp, file, out) = new_place(&csv, &[]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let place = load(&file).config;
    let borough = bundled("baseline.toml").config;
    for (b, p) in borough.episodes.iter().zip(&place.episodes) {
        assert!(
            (p.capacity as f64 - 0.4 * b.capacity as f64).abs() <= 1.0,
            "{}",
            b.name
        );
    }
    let (cost_b, spot_b) = per_resident(borough);
    let (cost_p, spot_p) = per_resident(place);
    assert!(
        (cost_p / cost_b - 1.0).abs() < 0.1,
        "reactive cost a resident over three years: £{cost_p:.0} against £{cost_b:.0}"
    );
    assert!(
        (spot_p / spot_b - 1.0).abs() < 0.1,
        "spot share: {spot_p:.3} against {spot_b:.3}"
    );
}

#[test]
fn new_place_refuses_bad_neighbourhoods_and_never_replaces_a_file() {
    for (csv, expect) in [
        (
            "neighbourhood,imd_decile,residents\nA,11,100\n",
            "line 2: imd_decile: expected a whole number from 1",
        ),
        (
            "neighbourhood,decile,residents\nA,1,100\n",
            "line 1: unknown column \"decile\"; expected neighbourhood, imd_decile, residents",
        ),
        (
            "neighbourhood,imd_decile,residents\nA,1,100\nA,2,100\n",
            "line 3: \"A\" is listed twice",
        ),
        (
            "neighbourhood,imd_decile,residents\nA,1,lots\n",
            "line 2: residents: expected a whole number above 0",
        ),
    ] {
        let (_tmp, file, out) = new_place(csv, &[]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(
            stderr.contains("areas.csv, ") && stderr.contains(expect),
            "{stderr}"
        );
        assert!(!file.exists());
    }
    let (tmp, file, out) = new_place(AREAS, &[]);
    assert_eq!(out.status.code(), Some(0));
    let before = fs::read(&file).unwrap();
    let again = upstream(&[
        "new-place",
        "--name",
        "Other",
        "--neighbourhoods",
        tmp.path().join("areas.csv").to_str().unwrap(),
        "-o",
        file.to_str().unwrap(),
    ]);
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("exists; choose another --out"));
    assert_eq!(fs::read(&file).unwrap(), before);
}

#[test]
fn a_large_place_is_judged_on_a_sample_scaled_up() {
    // Above 200,000 residents the starting-population checks read a
    // 200,000-resident synthesis, keeping each neighbourhood's share, and
    // scale it up: twice the borough expects about twice its activity.
    let borough = bundled("baseline.toml").config;
    let mut twice = borough.clone();
    twice.population.residents *= 2;
    let (one, two) = (
        upstream::engine::expected_at_start(&borough),
        upstream::engine::expected_at_start(&twice),
    );
    for (a, b) in one.contacts_per_month.iter().zip(&two.contacts_per_month) {
        assert!((b / a - 2.0).abs() < 1e-9, "contacts {b} against {a}");
    }
    for (a, b) in one.occupancy.iter().zip(&two.occupancy) {
        assert!((b / a - 2.0).abs() < 1e-9, "occupancy {b} against {a}");
    }
    // A programme's reach is scaled up alike: twice the residents in the
    // neighbourhoods it targets, twice the people it can reach.
    let doubled: Vec<Option<usize>> = upstream::engine::reach_at_start(&borough)
        .iter()
        .map(|r| r.map(|r| 2 * r))
        .collect();
    assert_eq!(upstream::engine::reach_at_start(&twice), doubled);
    // Below the sample size a place is read whole: half the borough's
    // residents, about half its reach (not a sample the borough's size).
    let mut half = borough.clone();
    half.population.residents /= 2;
    let h = upstream::engine::expected_at_start(&half);
    assert!(h.occupancy.iter().zip(&one.occupancy).all(|(h, a)| h < a));
    let (reach_half, reach_one) = (
        upstream::engine::reach_at_start(&half),
        upstream::engine::reach_at_start(&borough),
    );
    for (h, a) in reach_half.iter().zip(&reach_one) {
        let (h, a) = (h.unwrap() as f64, a.unwrap() as f64);
        assert!((h / a - 0.5).abs() < 0.1, "reach {h} against {a}");
    }
}
