//! Review: an earlier run's projection set beside the counts a place has
//! observed since, to see where and when they leave the projection's band
//! and which assumptions would have to move to close the gap.
//!
//! The projection is made again from the run's recorded settings (its
//! scenario files, checked by their SHA-256, its seed and replicates, and
//! its draws of the uncertain parameters if it drew them), simulated only
//! as far as the last count observed, and checked month by month against
//! the run's published `timeseries.csv`: a review never compares counts
//! with a projection other than the one the board saw. Bands are the 5th
//! to 95th percentiles across replicates of each count as observed (a
//! financial year's sum, a stock at its last month's end), not sums of
//! monthly bands.
//!
//! Which assumptions would have to move: each uncertain parameter of the
//! scenario at the low and then the high end of its range, every other at
//! its value, with the run's seed; the share of the gap that the better end
//! closes. The gap is the root mean square relative difference of the mean
//! counts from the observed (as calibration measures it) over the counts
//! outside the band: a parameter that would pull a count inside the band
//! away from it is judged by what it does where the projection failed.

#[cfg(feature = "report")]
mod command;
#[cfg(feature = "report")]
mod page;
pub mod publish;

#[cfg(feature = "report")]
pub use command::{Review, Settings};

use std::path::{Path, PathBuf};

use crate::experiments::Error;
use crate::metrics::Band;
use crate::observed::Observed;
use crate::published::SummaryFile;
use crate::replicates::{self, RunSettings};
use crate::scenario::Loaded;

/// A run that cannot be reviewed as asked.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReviewError {
    /// The folder holds no run's `summary.json`.
    #[error("{} holds no run to review (no readable summary.json): {why}", dir.display())]
    NotARun {
        /// The folder.
        dir: PathBuf,
        /// What went wrong reading it.
        why: String,
    },
    /// The run has several scenarios and none was named, or the one named
    /// is not in it.
    #[error("{why}; the run holds {}: name one with --scenario", names.iter().map(|n| format!("\"{n}\"")).collect::<Vec<_>>().join(", "))]
    WhichScenario {
        /// What is wrong.
        why: String,
        /// The run's scenarios.
        names: Vec<String>,
    },
    /// A scenario file the run read is missing or has changed.
    #[error("{} {why}", path.display())]
    File {
        /// The file, as summary.json records it.
        path: PathBuf,
        /// What is wrong with it.
        why: String,
    },
    /// A run of too few replicates to have a band to leave.
    #[error("{} was run with {replicates} replicate{}: too few for the 90% band a review compares counts with (at least {}); run the projection again with more", dir.display(), if *.replicates == 1 { "" } else { "s" }, crate::aggregate::MIN_REPLICATES_FOR_RANGES)]
    TooFewReplicates {
        /// The run's folder.
        dir: PathBuf,
        /// Its replicates.
        replicates: u32,
    },
    /// The projection made again does not match what the run published.
    #[error("the projection made again from {}'s settings does not match its timeseries.csv ({what}); {}", dir.display(), why_not_reproduced(version))]
    NotReproduced {
        /// The run's folder.
        dir: PathBuf,
        /// Where it first differs.
        what: String,
        /// The version that made the run.
        version: String,
    },
}

/// Why a run made again may not match what it published: another version
/// of Upstream, or (the same version) a timeseries.csv changed since the
/// run; its scenario files are checked against their SHA-256 before.
fn why_not_reproduced(version: &str) -> String {
    let this = env!("CARGO_PKG_VERSION");
    if version == this {
        format!(
            "it was made by this version of Upstream ({this}) from the same scenario files, so its timeseries.csv has been changed since the run: restore the run's folder as the run wrote it, or run the projection again"
        )
    } else {
        format!("it was made by Upstream {version}, this is {this}: review it with that version")
    }
}

/// What the observed count did against the projection's band.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// Inside the 5th to 95th percentiles.
    Inside,
    /// Above the 95th percentile.
    Above,
    /// Below the 5th percentile.
    Below,
}

impl Side {
    /// As the outputs write it.
    pub fn name(self) -> &'static str {
        match self {
            Side::Inside => "inside",
            Side::Above => "above",
            Side::Below => "below",
        }
    }
}

/// One observed count beside the projection.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    /// The projection's figure for it across replicates.
    pub projected: Band,
    /// Where the observed count fell.
    pub side: Side,
}

/// An assumption moved to one end of its range, and how much of the gap
/// between the projection and the observed counts that closes.
#[derive(Clone, Debug, PartialEq)]
pub struct Shift {
    /// The parameter's dotted name.
    pub parameter: String,
    /// The high end (else the low end) of its range closes more.
    pub high: bool,
    /// The value at that end, as written.
    pub value: String,
    /// The gap with the parameter there.
    pub distance: f64,
    /// The share of the gap it closes (negative if it widens it at both
    /// ends).
    pub closes: f64,
}

impl Shift {
    /// "events.ae_attendance.rate_per_month at the high end of its range
    /// ([0.0225, …]) closes 71% of the gap".
    pub fn reading(&self) -> String {
        format!(
            "{} at the {} end of its range ({}) closes {:.0}% of the gap",
            self.parameter,
            if self.high { "high" } else { "low" },
            self.value,
            self.closes * 100.0
        )
    }
}

/// A finished review.
#[derive(Clone, Debug, PartialEq)]
pub struct Reviewed {
    /// The scenario reviewed.
    pub scenario: String,
    /// The counts observed.
    pub observed: Observed,
    /// One row per count, in the file's order.
    pub rows: Vec<Row>,
    /// The gap: root mean square relative difference of the projection's
    /// mean counts (every parameter at its value) from the observed, over
    /// the counts outside the band (0 when none is).
    pub distance: f64,
    /// Each uncertain parameter at its better end, the most gap closed
    /// first.
    pub levers: Vec<Shift>,
    /// Replicates the projection ran.
    pub replicates: u32,
    /// Resident-months simulated in all, burn-in included.
    pub resident_months: u64,
}

impl Reviewed {
    /// How many counts lie outside the band, and the gap, in one sentence.
    pub fn summary(&self) -> String {
        let outside = self.rows.iter().filter(|r| r.side != Side::Inside).count();
        format!(
            "{}: {} of {} observed counts lie outside the projection's 90% band ({} replicates); the gap between the projection's means and the counts is {} (root mean square of the relative differences).",
            self.scenario,
            outside,
            self.rows.len(),
            self.replicates,
            crate::experiments::calibrate::percent(self.distance)
        )
    }

    /// When each metric first left the band, a sentence each.
    pub fn departure_sentences(&self) -> Vec<String> {
        self.departures()
            .into_iter()
            .map(|(metric, period, side)| {
                format!("{metric} left the band in {period}, {} it", side.name())
            })
            .collect()
    }

    /// The first period (in the file's order) each metric left the band,
    /// with its side: (metric, period, side).
    pub fn departures(&self) -> Vec<(String, String, Side)> {
        let mut out: Vec<(String, String, Side)> = Vec::new();
        for (o, r) in self.observed.observations.iter().zip(&self.rows) {
            if r.side != Side::Inside && !out.iter().any(|(m, _, _)| *m == o.metric) {
                out.push((o.metric.clone(), o.period.label(), r.side));
            }
        }
        out
    }
}

/// A run's folder, read for review: its summary and the scenario named.
#[derive(Clone, Debug)]
pub struct RunToReview {
    /// The run's folder.
    pub dir: PathBuf,
    /// Its `summary.json`.
    pub summary: SummaryFile,
    /// The scenario reviewed, as the run had it: its recorded horizon.
    pub scenario: Loaded,
    /// The run's baseline, whose default widths every scenario drew by.
    pub baseline_widths: Option<[f64; 3]>,
    /// The scenario's file, as the run recorded it.
    path: PathBuf,
}

impl RunToReview {
    /// The scenario over its first `years` years only: a review need
    /// simulate no further than the last count observed.
    pub fn first_years(&self, years: u32) -> Result<Loaded, Error> {
        if years * 12 >= self.scenario.config.months {
            return Ok(self.scenario.clone());
        }
        let overrides = crate::scenario::Overrides {
            horizon_years: Some(years),
        };
        Ok(crate::app::load(&self.path, &overrides)?)
    }
}

/// Reads the run in `dir` and loads the scenario named `name` (or its only
/// scenario) from the files it recorded, each checked against its SHA-256.
pub fn open(dir: &Path, name: Option<&str>) -> Result<RunToReview, Error> {
    let not_a_run = |why: String| ReviewError::NotARun {
        dir: dir.to_path_buf(),
        why,
    };
    let text = crate::input::read_bytes(
        &dir.join(crate::published::SUMMARY_FILE),
        crate::input::MAX_INPUT_BYTES,
    )
    .map_err(|e| not_a_run(e.to_string()))?;
    let summary: SummaryFile = serde_json::from_slice(&text)
        .map_err(|e| not_a_run(crate::input::reason(&e.to_string())))?;
    if crate::published::no_bands(summary.settings.replicates).is_some() {
        return Err(ReviewError::TooFewReplicates {
            dir: dir.to_path_buf(),
            replicates: summary.settings.replicates,
        }
        .into());
    }
    let names: Vec<String> = summary.scenarios.iter().map(|s| s.name.clone()).collect();
    let which = match name {
        Some(n) => names
            .iter()
            .position(|s| s == n)
            .ok_or_else(|| ReviewError::WhichScenario {
                why: format!("the run has no scenario \"{n}\""),
                names: names.clone(),
            })?,
        None if names.len() == 1 => 0,
        None => {
            return Err(ReviewError::WhichScenario {
                why: "which scenario did the place carry out?".into(),
                names,
            }
            .into());
        }
    };
    // Paths are recorded as the run was given them, relative to the folder
    // it ran in, or, when given in full, relative to the baseline's folder.
    let baseline_dir = summary
        .scenarios
        .first()
        .and_then(|s| s.files.first())
        .and_then(|f| Path::new(&f.path).parent().map(Path::to_path_buf))
        .unwrap_or_default();
    let resolve = |recorded: &str| -> PathBuf {
        let p = PathBuf::from(recorded);
        if p.exists() || baseline_dir.as_os_str().is_empty() {
            p
        } else {
            let there = baseline_dir.join(&p);
            if there.exists() { there } else { p }
        }
    };
    let load = |s: usize| -> Result<Loaded, Error> {
        let recorded = &summary.scenarios[s].files;
        for f in recorded {
            let path = resolve(&f.path);
            let bytes = crate::input::read(&path).map(String::into_bytes).map_err(|e| ReviewError::File {
                path: path.clone(),
                why: format!(
                    "cannot be read ({e}); a run's scenario paths are recorded relative to the folder it was run in (or, for a baseline given by its full path, to the baseline's folder): review from there"
                ),
            })?;
            use sha2::Digest;
            let sha: String = sha2::Sha256::digest(&bytes)
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            if sha != f.sha256 {
                return Err(ReviewError::File {
                    path,
                    why: "has changed since the run; a review re-makes the run's projection from the files it read, so restore it as it was (summary.json records its SHA-256)".into(),
                }
                .into());
            }
        }
        let years = summary.settings.months / 12;
        let overrides = crate::scenario::Overrides {
            horizon_years: (years * 12 == summary.settings.months).then_some(years),
        };
        Ok(crate::app::load(&resolve(&recorded[0].path), &overrides)?)
    };
    let scenario = load(which)?;
    let baseline_widths = if which == 0 {
        scenario.uncertainty.default_width
    } else {
        load(0)?.uncertainty.default_width
    };
    Ok(RunToReview {
        dir: dir.to_path_buf(),
        path: resolve(&summary.scenarios[which].files[0].path),
        summary,
        scenario,
        baseline_widths,
    })
}

/// Reviews `run`'s projection against `observed` (read against
/// `run.scenario` cut to `horizon_years`, or the run's own horizon).
/// `on_done` is called once per finished replicate.
pub fn review(
    run: &RunToReview,
    scenario: &Loaded,
    observed: &Observed,
    threads: Option<usize>,
    on_done: &(dyn Fn() + Sync),
) -> Result<Reviewed, Error> {
    let s = &run.summary.settings;
    let settings = RunSettings {
        replicates: s.replicates,
        seed: s.seed,
        threads,
    };
    let scenario = scenario.clone().with_default_width(run.baseline_widths)?;
    let mut plan = crate::app::Plan::of(vec![scenario.clone()], settings.clone())?;
    if s.parameters_drawn > 0 {
        plan = plan.with_uncertainty()?;
    }
    let outcome = plan.run(on_done)?;
    let mut resident_months = outcome.experiment.resident_months;
    let projection = &outcome.experiment.scenarios[0];
    check_published(run, projection, observed)?;
    let counts: Vec<f64> = observed.observations.iter().map(|o| o.count).collect();
    let rows: Vec<Row> = observed
        .observations
        .iter()
        .map(|o| {
            let each: Vec<f64> = projection
                .series
                .iter()
                .map(|sr| o.simulated(sr, &projection.layout))
                .collect();
            let projected = Band::of(&each);
            let side = if o.count > projected.p95 {
                Side::Above
            } else if o.count < projected.p5 {
                Side::Below
            } else {
                Side::Inside
            };
            Row { projected, side }
        })
        .collect();
    // The levers move one parameter with every other at its value, so the
    // gap they close is measured from the run with every parameter at its
    // value too.
    let mean_counts = |l: &Loaded| -> Result<(Vec<f64>, u64), Error> {
        let run = replicates::run(&[&l.config], &settings, on_done)?;
        let r = &run.scenarios[0];
        let n = r.series.len().max(1) as f64;
        let means = observed
            .observations
            .iter()
            .map(|o| {
                r.series
                    .iter()
                    .map(|sr| o.simulated(sr, &r.layout))
                    .sum::<f64>()
                    / n
            })
            .collect();
        Ok((means, run.resident_months))
    };
    let central = if s.parameters_drawn > 0 {
        let (m, months) = mean_counts(&scenario)?;
        resident_months += months;
        m
    } else {
        rows.iter().map(|r| r.projected.mean).collect()
    };
    // The counts outside the band, where the gap is measured.
    let outside: Vec<usize> = (0..rows.len())
        .filter(|&i| rows[i].side != Side::Inside)
        .collect();
    let gap = |means: &[f64]| -> f64 {
        let m: Vec<f64> = outside.iter().map(|&i| means[i]).collect();
        let c: Vec<f64> = outside.iter().map(|&i| counts[i]).collect();
        if m.is_empty() {
            0.0
        } else {
            crate::experiments::calibrate::distance(&m, &c)
        }
    };
    let distance = gap(&central);
    let mut levers = Vec::new();
    // Nothing to close when every count is inside the band.
    let parameters = if outside.is_empty() {
        &[][..]
    } else {
        &scenario.uncertainty.parameters[..]
    };
    for u in parameters {
        let mut best: Option<Shift> = None;
        for high in [false, true] {
            let at = scenario
                .at_end(&u.parameter, high)?
                .expect("a parameter of this scenario");
            let (m, months) = mean_counts(&at)?;
            resident_months += months;
            let d = gap(&m);
            let closes = if distance > 0.0 {
                1.0 - d / distance
            } else {
                0.0
            };
            if best.as_ref().is_none_or(|b| closes > b.closes) {
                best = Some(Shift {
                    parameter: u.parameter.clone(),
                    high,
                    value: u.written(if high { &u.high } else { &u.low }),
                    distance: d,
                    closes,
                });
            }
        }
        levers.extend(best);
    }
    levers.sort_by(|a, b| {
        b.closes
            .total_cmp(&a.closes)
            .then_with(|| a.parameter.cmp(&b.parameter))
    });
    Ok(Reviewed {
        scenario: scenario.config.name.clone(),
        observed: observed.clone(),
        rows,
        distance,
        levers,
        replicates: settings.replicates,
        resident_months,
    })
}

/// Checks the projection made again against the run's `timeseries.csv`,
/// month by month, for every metric observed.
fn check_published(
    run: &RunToReview,
    projection: &crate::replicates::ScenarioRuns,
    observed: &Observed,
) -> Result<(), Error> {
    let path = run.dir.join(crate::published::TIMESERIES_FILE);
    let differs = |what: String| ReviewError::NotReproduced {
        dir: run.dir.clone(),
        what,
        version: run.summary.settings.upstream_version.clone(),
    };
    let text = crate::input::read_bytes(&path, crate::input::MAX_WRITTEN_BYTES).map_err(|e| {
        ReviewError::NotARun {
            dir: run.dir.clone(),
            why: format!("cannot read timeseries.csv: {e}"),
        }
    })?;
    let name = &run.scenario.config.name;
    let months = projection.months();
    let mut reader = csv::Reader::from_reader(text.as_slice());
    let mut checked = 0usize;
    for row in reader.deserialize::<crate::published::MonthRecord>() {
        let row = row.map_err(|e| differs(format!("unreadable row: {e}")))?;
        let (month, metric) = (row.month as usize, row.metric.as_str());
        if row.scenario != *name || !observed.observations.iter().any(|o| o.metric == metric) {
            continue;
        }
        if month == 0 || month > months {
            continue;
        }
        let k = projection
            .layout
            .defs
            .iter()
            .position(|d| d.name == metric)
            .ok_or_else(|| differs(format!("{metric} is not in the scenario")))?;
        let n = projection.layout.len();
        let each: Vec<f64> = projection
            .series
            .iter()
            .map(|sr| sr.get(n, month - 1, k))
            .collect();
        let made = Band::of(&each).mean;
        if made != row.mean {
            return Err(differs(format!(
                "{metric} in month {month}: {made} made again, {} published",
                row.mean
            ))
            .into());
        }
        checked += 1;
    }
    if checked == 0 {
        return Err(differs(format!(
            "it holds none of the observed metrics for \"{name}\""
        ))
        .into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_counts_the_counts_outside_the_band() {
        let row = |side| Row {
            projected: Band::default(),
            side,
        };
        let review = Reviewed {
            scenario: "Northtown".into(),
            observed: Observed {
                file: "observed.csv".into(),
                observations: Vec::new(),
            },
            rows: vec![row(Side::Inside), row(Side::Above), row(Side::Below)],
            distance: 0.1,
            levers: Vec::new(),
            replicates: 8,
            resident_months: 0,
        };
        let said = review.summary();
        assert!(
            said.starts_with("Northtown: 2 of 3 observed counts lie outside the projection's 90% band (8 replicates)"),
            "{said}"
        );
    }
}
