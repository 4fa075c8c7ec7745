//! A provider failure: an episode service loses a share of its in-house
//! places for a period. Nothing changes before it; while it lasts no one
//! new takes a lost place, so with spot overflow the same residents enter
//! (common random numbers) and more of them are bought on the spot market
//! at a higher cost; with every place lost, no one is placed in-house; a
//! failure that loses no whole place changes nothing at all. Bad failures
//! are refused naming the field.

use std::path::Path;

use upstream::engine::Engine;
use upstream::metrics::{Layout, Metric, Series, ServiceMeasure};
use upstream::model::Config;
use upstream::scenario;

use crate::common::assert_rejected;

const SERVICE: &str = "adult_residential_care";

/// The small borough, with `failure` (a TOML table body) as a provider
/// failure of adult residential care from month 7 to 18 when given.
fn borough(failure: Option<&str>) -> Config {
    let tmp = tempfile::tempdir().unwrap();
    let root = env!("CARGO_MANIFEST_DIR");
    let mut text = format!(
        "name = \"Failure\"\nextends = \"{root}/tests/fixtures/small.toml\"\n[population]\nresidents = 20_000\n"
    );
    if let Some(body) = failure {
        text += &format!(
            "[provider_failures.care_home]\nname = \"A care home provider fails\"\nservice = \"{SERVICE}\"\nfrom_month = 7\nto_month = 18\n{body}\n"
        );
    }
    let file = tmp.path().join("failure.toml");
    std::fs::write(&file, text).unwrap();
    scenario::load(Path::new(&file))
        .unwrap_or_else(|e| panic!("{e}"))
        .config
}

/// Each month's figure of `measure` for the service, replicate `r`.
fn monthly(config: &Config, r: u32, measure: ServiceMeasure) -> Vec<f64> {
    let run = Engine::new(config, 11, r).run();
    let layout = Layout::new(config);
    let k = layout.find(&Metric::service(SERVICE, measure)).unwrap();
    let months = config.months as usize;
    let series = Series::from_raw(config, &layout, &run.raw, months);
    (0..months)
        .map(|m| series.get(layout.len(), m, k))
        .collect()
}

#[test]
fn a_provider_failure_sends_new_entries_to_the_spot_market_while_it_lasts() {
    let control = borough(None);
    let failed = borough(Some("places_lost = 0.5"));
    let capacity = control.episodes[0].capacity as f64;
    assert_eq!(control.episodes[0].id, SERVICE);
    let (mut spot_before, mut spot_after, mut cost_before, mut cost_after) = (0.0, 0.0, 0.0, 0.0);
    for r in 0..3 {
        let entries = monthly(&control, r, ServiceMeasure::Entries);
        // The same residents need a place: only where they are placed moves.
        assert_eq!(entries, monthly(&failed, r, ServiceMeasure::Entries));
        let (c_spot, f_spot) = (
            monthly(&control, r, ServiceMeasure::SpotEntries),
            monthly(&failed, r, ServiceMeasure::SpotEntries),
        );
        let (c_cost, f_cost) = (
            monthly(&control, r, ServiceMeasure::Cost),
            monthly(&failed, r, ServiceMeasure::Cost),
        );
        // Months 1 to 6 are untouched.
        assert_eq!(c_spot[..6], f_spot[..6]);
        assert_eq!(c_cost[..6], f_cost[..6]);
        for m in 6..18 {
            assert!(f_spot[m] >= c_spot[m], "replicate {r}, month {}", m + 1);
        }
        spot_before += c_spot[6..18].iter().sum::<f64>();
        spot_after += f_spot[6..18].iter().sum::<f64>();
        cost_before += c_cost[6..18].iter().sum::<f64>();
        cost_after += f_cost[6..18].iter().sum::<f64>();
        // In-house places taken never exceed those left open, once residents
        // placed before the failure have left: occupancy less spot.
        let occupied = monthly(&failed, r, ServiceMeasure::Occupancy);
        let spot = monthly(&failed, r, ServiceMeasure::SpotPlaces);
        let in_house: Vec<f64> = occupied.iter().zip(&spot).map(|(o, s)| o - s).collect();
        for m in 7..18 {
            assert!(
                in_house[m] <= in_house[m - 1].max((capacity * 0.5).ceil()),
                "replicate {r}, month {}: {} in-house after {}",
                m + 1,
                in_house[m],
                in_house[m - 1]
            );
        }
    }
    assert!(
        spot_after > spot_before,
        "{spot_after} against {spot_before}"
    );
    assert!(
        cost_after > cost_before,
        "{cost_after} against {cost_before}"
    );
}

#[test]
fn with_every_place_lost_no_one_is_placed_in_house_and_losing_no_whole_place_changes_nothing() {
    let control = borough(None);
    let all = borough(Some("places_lost = 1.0"));
    for r in 0..2 {
        let entries = monthly(&all, r, ServiceMeasure::Entries);
        let spot = monthly(&all, r, ServiceMeasure::SpotEntries);
        assert_eq!(
            entries[6..18],
            spot[6..18],
            "replicate {r}: every entry bought"
        );
        assert_ne!(entries[..6], spot[..6], "replicate {r}: in-house before");
    }
    // Fewer than one place's share of the places: nothing is lost.
    let capacity = control.episodes[0].capacity as f64;
    let sliver = borough(Some(&format!("places_lost = {}", 0.5 / capacity)));
    for r in 0..2 {
        assert_eq!(
            Engine::new(&control, 11, r).run().raw,
            Engine::new(&sliver, 11, r).run().raw
        );
    }
}

#[test]
fn bad_provider_failures_are_refused_naming_the_field() {
    let base = "name = \"Bad\"\nextends = \"BASELINE\"\n[provider_failures.x]\nname = \"X\"\n";
    assert_rejected(
        &format!("{base}service = \"hospital\"\nfrom_month = 1\nto_month = 2\nplaces_lost = 0.5\n"),
        &[
            "provider_failures.x.service",
            "no episode service is called \"hospital\"",
        ],
    );
    for (lost, says) in [
        ("0", "above 0 and at most 1"),
        ("1.5", "above 0 and at most 1"),
    ] {
        assert_rejected(
            &format!(
                "{base}service = \"{SERVICE}\"\nfrom_month = 1\nto_month = 2\nplaces_lost = {lost}\n"
            ),
            &["provider_failures.x.places_lost", says],
        );
    }
    assert_rejected(
        &format!(
            "{base}service = \"{SERVICE}\"\nfrom_month = 5\nto_month = 2\nplaces_lost = 0.5\n"
        ),
        &["provider_failures.x.to_month", "1 ≤ from_month ≤ to_month"],
    );
    assert_rejected(
        &format!(
            "{base}service = \"{SERVICE}\"\nfrom_month = 1\nto_month = 2\nplaces_lost = 0.5\nplaces = 3\n"
        ),
        &["unknown field `places`"],
    );
}
