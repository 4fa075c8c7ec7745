//! The bundled baseline is steady: with no declared trend nothing drifts over
//! the horizon, and no metric has a month-of-year pattern beyond noise. A
//! board reads a rising or saw-toothed baseline as a forecast.

use std::path::Path;
use std::sync::OnceLock;

use upstream::replicates::{self, RunSettings, ScenarioRuns};
use upstream::scenario;

const REPLICATES: usize = 16;

/// The bundled baseline, 16 replicates, run once for both tests.
fn baseline() -> &'static ScenarioRuns {
    static RUNS: OnceLock<ScenarioRuns> = OnceLock::new();
    RUNS.get_or_init(|| {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/baseline.toml");
        let loaded = scenario::load(&path).expect("the baseline loads");
        let settings = RunSettings {
            replicates: REPLICATES as u32,
            seed: 20_261_201,
            threads: Some(2),
        };
        replicates::run(&[&loaded.config], &settings, &|| {})
            .expect("the baseline runs")
            .scenarios
            .remove(0)
    })
}

/// Mean and standard error of the mean.
fn mean_se(xs: &[f64]) -> (f64, f64) {
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, (var / n).sqrt())
}

/// Each replicate's value of metric `k` in month `m` (0-based).
fn value(runs: &ScenarioRuns, replicate: usize, m: usize, k: usize) -> f64 {
    runs.series[replicate].values[m * runs.layout.len() + k]
}

#[test]
fn no_metric_drifts_from_the_first_year_to_the_last() {
    // The last year's mean within 3% of the first year's, or within three
    // standard errors of the paired difference where chance is larger
    // (three, not two: some sixty metrics are tested at once, and two would
    // fail one by chance in most runs).
    let runs = baseline();
    let months = runs.months();
    assert!(months >= 24);
    let year_mean = |r: usize, k: usize, from: usize| -> f64 {
        (from..from + 12).map(|m| value(runs, r, m, k)).sum::<f64>() / 12.0
    };
    let mut drifting = Vec::new();
    for (k, def) in runs.layout.defs.iter().enumerate() {
        let first: Vec<f64> = (0..REPLICATES).map(|r| year_mean(r, k, 0)).collect();
        let change: Vec<f64> = (0..REPLICATES)
            .map(|r| year_mean(r, k, months - 12) - first[r])
            .collect();
        let (level, _) = mean_se(&first);
        let (d, se) = mean_se(&change);
        let allowed = (0.03 * level.abs()).max(3.0 * se);
        if d.abs() > allowed {
            drifting.push(format!(
                "{}: first year {level:.1}, last year {:.1} ({:+.1}%; allowed ±{allowed:.1})",
                def.name,
                level + d,
                100.0 * d / level
            ));
        }
    }
    assert!(drifting.is_empty(), "drifting:\n{}", drifting.join("\n"));
}

#[test]
fn no_metric_has_a_month_of_year_pattern() {
    // For each calendar month, how far the month sits from its own year's
    // mean, averaged over the years of each replicate: zero in expectation
    // for a steady place. Allowed: 1% of the level, or four standard errors
    // (twelve months of some sixty metrics are tested at once).
    let runs = baseline();
    let years = runs.months() / 12;
    let mut patterned = Vec::new();
    for (k, def) in runs.layout.defs.iter().enumerate() {
        let level: f64 = (0..REPLICATES)
            .map(|r| (0..years * 12).map(|m| value(runs, r, m, k)).sum::<f64>())
            .sum::<f64>()
            / (REPLICATES * years * 12) as f64;
        for month in 0..12 {
            let offsets: Vec<f64> = (0..REPLICATES)
                .map(|r| {
                    (0..years)
                        .map(|y| {
                            let year: f64 =
                                (0..12).map(|c| value(runs, r, y * 12 + c, k)).sum::<f64>() / 12.0;
                            value(runs, r, y * 12 + month, k) - year
                        })
                        .sum::<f64>()
                        / years as f64
                })
                .collect();
            let (offset, se) = mean_se(&offsets);
            let allowed = (0.01 * level.abs()).max(4.0 * se);
            if offset.abs() > allowed {
                patterned.push(format!(
                    "{} in month {} of the year: {offset:+.2} from its year's mean of about {level:.1} (allowed ±{allowed:.2})",
                    def.name,
                    month + 1
                ));
            }
        }
    }
    assert!(
        patterned.is_empty(),
        "month-of-year pattern:\n{}",
        patterned.join("\n")
    );
}
