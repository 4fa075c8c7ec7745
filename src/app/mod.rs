//! The whole pipeline as a library, with no terminal: load and check a
//! [`Plan`], estimate its memory, run it with a progress callback, appraise
//! it, render its files (and the report) and write them in one step. The
//! `upstream` command is this module plus argument parsing, a progress bar
//! and exit codes; a web app or batch runner drives the same steps.
//!
//! Every rule between scenarios lives in [`Plan::new`], beside what it
//! protects, so no embedder can run a comparison the command would refuse.
//!
//! ```
//! use upstream::app::{Plan, Request};
//!
//! let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
//! let request = Request {
//!     scenarios: vec![
//!         root.join("tests/fixtures/small.toml"),
//!         root.join("tests/fixtures/small_hubs.toml"),
//!     ],
//!     replicates: 2,
//!     years: Some(1),
//!     ..Request::default()
//! };
//! let plan = Plan::new(&request)?;
//! plan.check_memory(None)?;
//! let outcome = plan.run(&|| {})?;
//! let hubs = &outcome.economics.appraisals[0];
//! assert_eq!(hubs.scenario, "Small borough with hubs");
//! let files = outcome.render()?;
//! assert!(files.iter().any(|(name, _)| name == "economics.json"));
//! # Ok::<(), upstream::Error>(())
//! ```

use std::path::{Path, PathBuf};

use crate::format::{count, size, sizes};
use crate::output::OutputError;
use crate::replicates::{MemoryEstimate, RunSettings, RunsError, ThreadPoolError};
#[cfg(feature = "report")]
use crate::report;
use crate::scenario::{self, BUNDLED, Loaded, Overrides, ScenarioError};

mod outcome;
mod plan;
mod watch;

pub use outcome::Outcome;
#[cfg(feature = "report")]
pub use outcome::{build_report, rebuild_report};
pub(crate) use plan::available_memory;
pub use plan::{Draws, Plan, ShardResults};
pub use watch::{Said, Unwatched, Watch};

/// Replicates per scenario when a request does not say.
pub const DEFAULT_REPLICATES: u32 = 16;
/// The master seed when a request does not say.
pub const DEFAULT_SEED: u64 = 20_260_401;
/// The most replicates a run may ask for.
pub const MAX_REPLICATES: u32 = 10_000;
/// The most worker threads a run may ask for.
pub const MAX_THREADS: usize = 1_024;
/// The most residents one simulated resident may stand for (`--scale`).
pub const MAX_STANDS_FOR: u32 = 100;

/// What a run asks for, before anything is read or checked: the command
/// line's `upstream run` as data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    /// Scenario files, the baseline first. Empty: the bundled default
    /// comparison ([`bundled`]).
    pub scenarios: Vec<PathBuf>,
    /// Stochastic replicates per scenario.
    pub replicates: u32,
    /// The master seed: the same seed gives the same results, byte for byte.
    pub seed: u64,
    /// Worker threads; `None` uses one per core. Results do not depend on it.
    pub threads: Option<usize>,
    /// A horizon in years for every scenario, overriding their own.
    pub years: Option<u32>,
    /// Refuse scenarios with warnings, as errors.
    pub strict: bool,
    /// Draw each replicate's values of the scenarios' uncertain parameters
    /// (`--uncertainty`), so that bands cover the assumptions as well as
    /// chance.
    pub uncertainty: bool,
    /// Residents each simulated resident stands for (`--scale`): 1
    /// simulates the place itself.
    pub stands_for: u32,
}

impl Default for Request {
    fn default() -> Self {
        Request {
            scenarios: Vec::new(),
            replicates: DEFAULT_REPLICATES,
            seed: DEFAULT_SEED,
            threads: None,
            years: None,
            strict: false,
            uncertainty: false,
            stands_for: 1,
        }
    }
}

/// Anything that stops a check, a run or a report: a scenario, the
/// settings, the runs, the output folder or the report. Every layer above
/// wraps it; `upstream::Error` is the union of them all.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A scenario file that cannot be read, parsed or validated.
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    /// Settings, or scenarios that cannot be run together.
    #[error(transparent)]
    Plan(#[from] PlanError),
    /// The output folder cannot be written (or the workbook built).
    #[error(transparent)]
    Output(#[from] OutputError),
    /// `upstream report` given something that is not a folder.
    #[cfg(feature = "report")]
    #[error("{} is not an output folder (it does not exist or is not a folder)", .0.display())]
    NotAnOutputFolder(PathBuf),
    /// A folder the report cannot be built from.
    #[cfg(feature = "report")]
    #[error("cannot build the report from {}: {source}", dir.display())]
    Report {
        /// The output folder.
        dir: PathBuf,
        /// What stopped the report.
        source: report::ReportError,
    },
    /// A run's results were written, but its report failed.
    #[cfg(feature = "report")]
    #[error("the results are written to {}, but the report could not be built: {source}", dir.display())]
    ReportAfterResults {
        /// The output folder, which now holds the results.
        dir: PathBuf,
        /// What stopped the report.
        source: report::ReportError,
    },
    /// The worker threads could not be started.
    #[error(transparent)]
    Threads(#[from] ThreadPoolError),
    /// Runs that could not be done or put together.
    #[error(transparent)]
    Runs(#[from] RunsError),
}

/// `From` each of the pipeline's own errors for a layer's error that
/// wraps [`Error`], so `?` takes them there in one step.
macro_rules! through_app {
    ($layer:ty) => {
        $crate::app::through_app!($layer: crate::scenario::ScenarioError, crate::app::PlanError, crate::output::OutputError, crate::replicates::ThreadPoolError, crate::replicates::RunsError);
    };
    ($layer:ty: $($e:ty),*) => {
        $(impl From<$e> for $layer {
            fn from(e: $e) -> $layer {
                crate::app::Error::from(e).into()
            }
        })*
    };
}
pub(crate) use through_app;

/// Settings, or scenarios, that cannot be run together.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PlanError {
    /// A setting outside what Upstream can run.
    #[error("{setting} must be from {} to {}, not {value}", count(*.lo as f64), count(*.hi as f64))]
    OutOfRange {
        /// The setting as the command line names it, such as `--replicates`.
        setting: &'static str,
        /// The smallest allowed.
        lo: u64,
        /// The largest allowed.
        hi: u64,
        /// The value asked for.
        value: u64,
    },
    /// A place that cannot be simulated at a fraction of its size.
    #[error("--scale: {0}")]
    Scale(crate::model::scaled::ScaleError),
    /// A sequential calibration asked to run in shards: each generation is
    /// proposed from the last one's results.
    #[error(
        "a calibration of more than one generation (--generations) runs whole, not in shards: each generation is proposed from the last one's results; run it without --shard, or with --generations 1"
    )]
    SequentialInShards,
    /// A scale asked of a run over a places table, whose places run whole.
    #[error(
        "--scale is not yet for a run over a places table (--places): each place is simulated whole"
    )]
    ScaleOverPlaces,
    /// A plan with no scenario in it: it needs at least the baseline.
    #[error("a run needs at least one scenario, the baseline")]
    NoScenarios,
    /// A run whose workbook would not fit in a spreadsheet.
    #[error(
        "the workbook's finance model would need {} rows ({scenarios} scenarios × {replicates} replicates × {periods} periods), more than a spreadsheet's {}; run fewer replicates (-r) or a shorter horizon (--years)",
        count(*rows as f64), count(*limit as f64)
    )]
    Workbook {
        /// Rows the largest sheet needs.
        rows: usize,
        /// The most a sheet holds.
        limit: usize,
        /// Scenarios in the run.
        scenarios: usize,
        /// Replicates of each.
        replicates: usize,
        /// Periods of the horizon (financial years, split where the
        /// appraisal year turns within one).
        periods: usize,
    },
    /// Outputs are keyed by scenario name, so two scenarios cannot share one.
    #[error("{} and {} both name their scenario \"{name}\"; each scenario in a run needs its own name (set `name` in the file)", first.display(), second.display())]
    SameName {
        /// The first file with that name.
        first: PathBuf,
        /// The later file with the same name.
        second: PathBuf,
        /// The name they share.
        name: String,
    },
    /// A scenario that cannot be compared resident by resident with the
    /// baseline.
    #[error(
        "scenario \"{scenario}\" has a different {what} from the baseline \"{baseline}\"; scenarios are compared resident by resident, so they must share it ({fix})"
    )]
    Unpaired {
        /// The scenario's name.
        scenario: String,
        /// The baseline's name.
        baseline: String,
        /// What differs.
        what: &'static str,
        /// How to put it right.
        fix: &'static str,
    },
    /// A run estimated to need more memory than it may use.
    #[error(
        "this run needs about {}, more than {} ({limit_from}); use fewer replicates, years or residents, fewer --threads, or a bigger machine",
        memory_breakdown(.need, *.residents, *.threads, *.runs), size(*.limit)
    )]
    Memory {
        /// What the run would need, by part.
        need: MemoryEstimate,
        /// The most it may use, in bytes.
        limit: u64,
        /// Where the limit came from.
        limit_from: &'static str,
        /// Residents in the largest scenario.
        residents: u32,
        /// Worker threads the run would use.
        threads: usize,
        /// Scenarios × replicates.
        runs: u64,
    },
    /// `--uncertainty` or a sensitivity run, and no scenario has a range
    /// to draw or vary.
    #[error(
        "no scenario in this run has an uncertain parameter to draw or vary; give a parameter a `range` (`{{ value = 0.7, range = [0.5, 0.9] }}`) or the baseline an `[uncertainty]` table of default widths"
    )]
    NothingUncertain,
    /// An experiment told to vary only parameters none of which is
    /// uncertain.
    #[error(
        "no uncertain parameter's name starts with {}; `upstream check` lists the uncertain parameters",
        .only.iter().map(|p| format!("\"{p}\"")).collect::<Vec<_>>().join(" or ")
    )]
    NoneSelected {
        /// The prefixes given (`--only`).
        only: Vec<String>,
    },
    /// An experiment that compares scenarios, given the baseline alone.
    #[error(
        "{experiment} compares scenarios with the baseline: give at least one scenario after it"
    )]
    NothingToCompare {
        /// The command, such as `upstream sensitivity`.
        experiment: &'static str,
    },
    /// `--strict` and a scenario with warnings.
    #[error(
        "{count} {} and --strict, which makes them errors; the first: {first}",
        if *.count == 1 { "warning" } else { "warnings" }
    )]
    Strict {
        /// Warnings across the scenarios.
        count: usize,
        /// The first of them.
        first: Box<scenario::ScenarioError>,
    },
}

/// Loads a scenario and adds the warnings that need its starting
/// population: a programme whose targeting reaches nobody.
pub fn load(path: &Path, overrides: &Overrides) -> Result<Loaded, scenario::ScenarioError> {
    load_through(path, overrides, &crate::input::read)
}

/// Whether `places` at once are more than [`PLACES_BEYOND_REACH`] times
/// the `reach` of their targeting: most would stay empty.
fn beyond_reach(places: u32, reach: usize) -> bool {
    places as f64 > PLACES_BEYOND_REACH * reach as f64
}

/// As [`load`], reading each file through `read` (see
/// [`scenario::load_from`]).
pub fn load_through(
    path: &Path,
    overrides: &Overrides,
    read: &dyn Fn(&Path) -> std::io::Result<String>,
) -> Result<Loaded, scenario::ScenarioError> {
    let mut loaded = scenario::load_from(path, overrides, read)?;
    let reach = crate::engine::reach_at_start(&loaded.config);
    let ids: Vec<String> = loaded
        .config
        .interventions
        .iter()
        .map(|i| i.id.clone())
        .collect();
    let most_places: Vec<Option<u32>> = loaded
        .config
        .interventions
        .iter()
        .map(|i| match &i.delivery {
            crate::model::Delivery::Caseload { places_by_year, .. } => {
                places_by_year.iter().copied().max()
            }
            _ => None,
        })
        .collect();
    for ((id, reach), places) in ids.iter().zip(reach).zip(most_places) {
        if reach == Some(0) {
            loaded.warn(
                &format!("interventions.{id}.targeting"),
                "reaches nobody in the starting population, so its budget would be spent on no \
                 one; widen its neighbourhoods, age bands or need level"
                    .into(),
            );
        } else if let (Some(reach), Some(places)) = (reach, places)
            && beyond_reach(places, reach)
        {
            // The budget is charged in full whether or not its places fill.
            loaded.warn(
                &format!("interventions.{id}.annual_budget"),
                format!(
                    "buys {} places at once, more than {PLACES_BEYOND_REACH} times the {} its \
                     targeting reaches at the start: most would stay empty while the budget is \
                     charged in full; check the budget's units, or widen the targeting",
                    count(places as f64),
                    count(reach as f64)
                ),
            );
        }
    }
    Ok(loaded)
}

/// How many times the residents (or households) a programme's targeting
/// reaches at the start its places may be before it is warned about:
/// people become eligible as the years go on, but not several times over.
const PLACES_BEYOND_REACH: f64 = 2.0;

/// Under `--strict`, the first warning of any scenario as an error.
pub fn strict(scenarios: &[Loaded]) -> Result<(), PlanError> {
    let mut all = scenarios.iter().flat_map(|l| &l.warnings);
    match all.next() {
        None => Ok(()),
        Some(first) => Err(PlanError::Strict {
            count: 1 + all.count(),
            first: Box::new(first.clone()),
        }),
    }
}

/// "25 MB of memory (24 MB for the program itself, …)": every part of the
/// estimate, shown so that the parts add up to the total.
fn memory_breakdown(need: &MemoryEstimate, residents: u32, threads: usize, runs: u64) -> String {
    let (total, parts) = sizes(&need.parts());
    let [program, populations, results, outputs] = &parts[..] else {
        unreachable!("four parts")
    };
    format!(
        "{total} of memory ({program} for the program itself, {populations} for {} residents on each of {threads} threads{}, {results} for the results of {} replicates, {outputs} for the outputs)",
        count(residents as f64),
        if need.copies > 1 {
            " (two copies where scenarios share a burn-in)"
        } else {
            ""
        },
        count(runs as f64)
    )
}

/// The bundled scenarios' folder: `scenarios/` here if it holds them, else
/// the one Upstream was built from.
pub fn bundled_dir() -> PathBuf {
    let local = Path::new("scenarios");
    if local.join(BUNDLED[0]).is_file() {
        local.to_path_buf()
    } else {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios")
    }
}

/// The bundled default comparison: the baseline borough, then each bundled
/// intervention scenario.
pub fn bundled() -> Vec<PathBuf> {
    let dir = bundled_dir();
    BUNDLED.iter().map(|f| dir.join(f)).collect()
}

fn in_range(setting: &'static str, value: u64, lo: u64, hi: u64) -> Result<(), PlanError> {
    if (lo..=hi).contains(&value) {
        Ok(())
    } else {
        Err(PlanError::OutOfRange {
            setting,
            lo,
            hi,
            value,
        })
    }
}

/// The bounds on a run's settings.
fn check_settings(settings: &RunSettings) -> Result<(), PlanError> {
    in_range(
        "--replicates",
        settings.replicates as u64,
        1,
        MAX_REPLICATES as u64,
    )?;
    if let Some(t) = settings.threads {
        in_range("--threads", t as u64, 1, MAX_THREADS as u64)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_beyond_reach_are_more_than_twice_it_not_twice() {
        assert!(!beyond_reach(40, 20));
        assert!(beyond_reach(41, 20));
        assert!(!beyond_reach(21, 20));
        assert!(!beyond_reach(0, 0));
        assert!(beyond_reach(1, 0));
    }
}
