//! Snapshot and resume: a replicate stopped at any month, turned into bytes
//! and resumed gives the same numbers, byte for byte, as running straight
//! through; resumed under a scenario that changes from that month on (a
//! budget from the next year, a shock), it gives exactly what a full run of
//! the changed scenario gives, and leaves every earlier month untouched.
//! Bytes that are not a whole, matching snapshot are refused.

use std::path::{Path, PathBuf};

use upstream::engine::{Engine, ReplicateResult, SnapshotError, run_replicate};
use upstream::model::Config;
use upstream::model::population::flag;
use upstream::scenario::{self, Overrides};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// `small_hubs.toml` as `edit` rewrites it, as if written that way.
fn hubs_edited(edit: impl Fn(String) -> String) -> Config {
    let hubs = fixture("small_hubs.toml");
    let read = |p: &Path| {
        let text = std::fs::read_to_string(p)?;
        Ok(if p.ends_with("small_hubs.toml") {
            edit(text)
        } else {
            text
        })
    };
    scenario::load_from(&hubs, &Overrides::default(), &read)
        .unwrap_or_else(|e| panic!("{e}"))
        .config
}

/// `small_hubs.toml` with `extra` TOML added at its end.
fn hubs_with(extra: &str) -> Config {
    hubs_edited(|text| format!("{text}\n{extra}\n"))
}

/// A small place where every mechanism a snapshot must carry is busy: a
/// caseload intervention with lingering effects, funded community assets
/// that grow and then decline, homes bought in year 2 for a service whose
/// overflow waits (temporary accommodation queues rather than buying spot
/// places), and a shock.
fn busy() -> Config {
    hubs_with(
        r#"
[interventions.fund]
name = "Community fund"
kind = "assets"
payer = "voluntary_sector"
annual_budget = [100_000, 0]
cost_per_place_per_year = 466
targeting = { neighbourhoods = "all" }

[interventions.homes]
name = "Homes bought"
kind = "places"
payer = "housing"
service = "temporary_accommodation"
places = [1, 2]
capital_cost_per_place = 300_000
running_cost_per_place_week = 100
financing = { method = "mrp", rate = 0.045, years = 50 }

[episodes.temporary_accommodation]
capacity = 3
overflow = "queue"

[shocks.cost_of_living]
name = "Cost-of-living shock"
from_month = 4
to_month = 15
factor = "low_income"
prevalence_multiplier = 1.5
"#,
    )
}

fn resumed(config: &Config, snapshot: &[u8]) -> ReplicateResult {
    Engine::resume(config, snapshot)
        .unwrap_or_else(|e| panic!("{e}"))
        .run()
}

#[test]
fn a_resumed_replicate_matches_one_run_straight_through() {
    let config = busy();
    let straight = run_replicate(&config, 7, 2);
    let months = config.months;
    let mut waiting_when_saved = 0;
    for at in [0, 5, 12, 13, months - 1, months] {
        let mut engine = Engine::new(&config, 7, 2);
        engine.run_to(at);
        waiting_when_saved += engine
            .population()
            .residents
            .flags
            .iter()
            .filter(|&&f| f & flag::WAITING != 0)
            .count();
        let bytes = engine.snapshot();
        let back = Engine::resume(&config, &bytes).unwrap_or_else(|e| panic!("{e}"));
        // Everything the snapshot holds, and everything recounted from it,
        // comes back exactly.
        assert_eq!(back.snapshot(), bytes, "month {at}");
        assert_eq!(back.month(), engine.month());
        let r = back.run();
        assert_eq!(r, straight, "resumed after month {at}");
    }
    // Someone was waiting when a snapshot was taken, so a waiting list was
    // carried across.
    assert!(waiting_when_saved > 0, "the test needs residents waiting");
}

#[test]
fn one_snapshot_resumed_several_times_at_once_runs_the_same_each_time() {
    let config = busy();
    let mut engine = Engine::new(&config, 3, 0);
    engine.run_to(9);
    let bytes = engine.snapshot();
    let results: Vec<ReplicateResult> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..3)
            .map(|_| s.spawn(|| resumed(&config, &bytes)))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(results.windows(2).all(|w| w[0] == w[1]));
}

/// Months 1..`month` of `a` and `b`, flattened.
fn first_months(r: &ReplicateResult, config: &Config, months: u32) -> Vec<i64> {
    let n = upstream::metrics::Layout::new(config).len();
    r.raw[..months as usize * n].to_vec()
}

fn change_from(month: u32, changed: &Config, unchanged: &Config) {
    let before = run_replicate(unchanged, 11, 1);
    let full = run_replicate(changed, 11, 1);
    let mut engine = Engine::new(unchanged, 11, 1);
    engine.run_to(month - 1);
    let resumed = resumed(changed, &engine.snapshot());
    assert_eq!(resumed, full, "resumed with the change from month {month}");
    assert_eq!(
        first_months(&resumed, changed, month - 1),
        first_months(&before, unchanged, month - 1),
        "months before {month} are untouched"
    );
    assert_ne!(resumed.raw, before.raw, "the change changes something");
}

#[test]
fn a_budget_changed_from_next_year_on_equals_a_run_with_it_written_in() {
    // The hubs' budget halves from year 2 (month 13) on.
    let unchanged = hubs_with("");
    let halved = hubs_edited(|text| {
        text.replace(
            "annual_budget = [350_000]",
            "annual_budget = [350_000, 175_000]",
        )
    });
    assert_ne!(halved.interventions, unchanged.interventions);
    change_from(13, &halved, &unchanged);
}

#[test]
fn a_shock_from_a_later_month_equals_a_run_with_it_written_in() {
    let unchanged = hubs_with("");
    let shocked = hubs_with(
        r#"
[shocks.housing]
name = "Housing shock"
from_month = 7
to_month = 18
factor = "insecure_housing"
prevalence_multiplier = 2.0
"#,
    );
    change_from(7, &shocked, &unchanged);
}

#[test]
fn bytes_that_are_not_a_matching_snapshot_are_refused() {
    let config = busy();
    let mut engine = Engine::new(&config, 5, 0);
    engine.run_to(3);
    let bytes = engine.snapshot();
    let refuse = |b: &[u8], c: &Config| match Engine::resume(c, b) {
        Ok(_) => panic!("resumed from bad bytes"),
        Err(e) => e,
    };
    for short in [&b"not a snapshot"[..], b"UPSTRSNP", b"UPSTRSNP1234567", b""] {
        assert!(
            matches!(refuse(short, &config), SnapshotError::NotASnapshot),
            "{short:?}"
        );
    }
    assert!(matches!(
        refuse(&bytes[..bytes.len() / 2], &config),
        SnapshotError::Damaged
    ));
    for at in [20, bytes.len() / 3, bytes.len() - 9] {
        let mut damaged = bytes.clone();
        damaged[at] ^= 0x10;
        assert!(
            matches!(refuse(&damaged, &config), SnapshotError::Damaged),
            "a flipped bit at byte {at}"
        );
    }
    let mut bigger = config.clone();
    bigger.population.residents += 1;
    let e = refuse(&bytes, &bigger);
    assert!(
        matches!(
            e,
            SnapshotError::Mismatch {
                what: "residents",
                ..
            }
        ),
        "{e}"
    );
    assert!(
        e.to_string()
            .contains("has 6000 residents but the scenario has 6001"),
        "{e}"
    );
    // The same number of interventions, in another order: residents' and
    // records' references to them would be credited to the wrong one.
    let mut reordered = config.clone();
    reordered.interventions.reverse();
    let e = refuse(&bytes, &reordered);
    assert!(
        matches!(
            e,
            SnapshotError::Different {
                what: "interventions",
                ..
            }
        ),
        "{e}"
    );
}
