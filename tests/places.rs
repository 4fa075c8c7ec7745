//! A place of its own: a scenario that extends the bundled baseline with its
//! own number of residents gets capacities, budgets and envelopes in
//! proportion (the baseline writes them per 1,000), and so runs like the
//! borough per resident; sizes written as amounts for another population are
//! warned about; errors about an inherited field name the place's own file
//! first.

use std::fs;
use std::path::Path;

use upstream::experiment::{self, RunSettings};
use upstream::model::{Config, Delivery};
use upstream::scenario::{self, Loaded};

use crate::common::assert_rejected;

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

#[test]
fn a_smaller_place_runs_like_the_borough_per_resident() {
    // Same deprivation mix, 40% of the residents: reactive cost per resident
    // and the share of places bought on the spot market within 10% of the
    // borough's (a smaller service pools less, so its spot share is higher).
    let mut borough = bundled("baseline.toml").config;
    let (_tmp, file) = write(SMALL_PLACE);
    let mut place = load(&file).config;
    borough.months = 36;
    place.months = 36;
    let settings = RunSettings {
        replicates: 8,
        seed: 12,
        threads: Some(2),
    };
    let per_place = |c: &Config| {
        let runs = experiment::run(&[c], &settings, &|| {})
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
    };
    let (cost_b, spot_b) = per_place(&borough);
    let (cost_p, spot_p) = per_place(&place);
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
