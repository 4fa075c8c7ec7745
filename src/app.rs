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
use std::time::Instant;

use crate::aggregate;
use crate::economics::{self, Economics, InterventionMoney};
use crate::format::{count, size, sizes};
use crate::model::Config;
use crate::output::{self, OutputError, OutputFolder, RunInfo};
use crate::replicates::{
    self, Experiment, MemoryEstimate, RunSettings, Runs, RunsError, Shard, ThreadPoolError,
};
#[cfg(feature = "report")]
use crate::report;
use crate::scenario::{self, BUNDLED, Loaded, Overrides, ScenarioError};

/// Replicates per scenario when a request does not say.
pub const DEFAULT_REPLICATES: u32 = 16;
/// The master seed when a request does not say.
pub const DEFAULT_SEED: u64 = 20_260_401;
/// The most replicates a run may ask for.
pub const MAX_REPLICATES: u32 = 10_000;
/// The most worker threads a run may ask for.
pub const MAX_THREADS: usize = 1_024;

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

/// What a run or an experiment says: lines for standard output, then for
/// standard error (warnings and timings).
#[derive(Debug, Default)]
pub struct Said {
    /// For standard output.
    pub out: String,
    /// For standard error.
    pub err: String,
}

/// What the one driving a run or an experiment is shown as it goes: the
/// `upstream` command prints these; a test may keep or drop them.
pub trait Watch {
    /// A line for standard error before the runs.
    fn note(&self, line: &str);
    /// A counter of runs done out of `jobs`, dropped when the runs end.
    fn progress(&self, jobs: u64) -> Box<dyn Fn(u64) + Sync + '_>;
    /// A counter of charts drawn out of how many, dropped when drawn.
    fn drawing(&self) -> Box<dyn Fn(usize, usize) + Sync + '_>;
}

/// A watcher that shows nothing.
pub struct Unwatched;

impl Watch for Unwatched {
    fn note(&self, _: &str) {}
    fn progress(&self, _: u64) -> Box<dyn Fn(u64) + Sync + '_> {
        Box::new(|_| {})
    }
    fn drawing(&self) -> Box<dyn Fn(usize, usize) + Sync + '_> {
        Box::new(|_, _| {})
    }
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
    /// A plan with no scenario in it: it needs at least the baseline.
    #[error("a run needs at least one scenario, the baseline")]
    NoScenarios,
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
            && places as f64 > PLACES_BEYOND_REACH * reach as f64
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

/// Scenarios checked to run together, and how to run them.
#[derive(Debug)]
pub struct Plan {
    scenarios: Vec<Loaded>,
    settings: RunSettings,
    draws: Option<Draws>,
}

/// A probabilistic run's parameters: each scenario's simulation at each
/// replicate's draw.
#[derive(Debug)]
pub struct Draws {
    /// `configs[s][r]`: scenario `s` at replicate `r`'s draw.
    configs: Vec<Vec<Config>>,
    /// `values[s][r][p]`: scenario `s`'s uncertain parameter `p` (in its
    /// [`scenario::Uncertainty::parameters`] order) in replicate `r`,
    /// element by element.
    pub values: Vec<Vec<Vec<Vec<f64>>>>,
}

impl Plan {
    /// Checks the request's settings, loads its scenarios (the bundled
    /// default comparison if it names none) and checks them together.
    pub fn new(request: &Request) -> Result<Plan, Error> {
        Plan::new_through(request, &crate::input::read)
    }

    /// As [`Plan::new`], reading each scenario's files through `read` (a
    /// shard keeps their text; a merge reads them from its parts).
    pub fn new_through(
        request: &Request,
        read: &dyn Fn(&Path) -> std::io::Result<String>,
    ) -> Result<Plan, Error> {
        let settings = RunSettings {
            replicates: request.replicates,
            seed: request.seed,
            threads: request.threads,
        };
        // Before anything is read.
        check_settings(&settings)?;
        if let Some(y) = request.years {
            in_range("--years", y as u64, 1, scenario::MAX_YEARS as u64)?;
        }
        let paths = if request.scenarios.is_empty() {
            bundled()
        } else {
            request.scenarios.clone()
        };
        let overrides = Overrides {
            horizon_years: request.years,
        };
        let scenarios = paths
            .iter()
            .map(|p| load_through(p, &overrides, read))
            .collect::<Result<Vec<_>, _>>()?;
        if request.strict {
            strict(&scenarios)?;
        }
        let plan = Plan::of(scenarios, settings)?;
        if request.uncertainty {
            return plan.with_uncertainty();
        }
        Ok(plan)
    }

    /// The plan with each replicate's own draw of every uncertain
    /// parameter: a parameter several scenarios share draws the same value
    /// in the same replicate, so differences stay paired. The run then
    /// also runs each replicate with every parameter at its value, to tell
    /// the parameters' share of the net present value's variance from
    /// chance's.
    pub fn with_uncertainty(mut self) -> Result<Plan, Error> {
        use rayon::prelude::*;
        // The baseline's default widths are the comparison's.
        let widths = self.scenarios[0].uncertainty.default_width;
        self.scenarios = std::mem::take(&mut self.scenarios)
            .into_iter()
            .map(|l| l.with_default_width(widths))
            .collect::<Result<_, _>>()?;
        if self
            .scenarios
            .iter()
            .all(|l| l.uncertainty.parameters.is_empty())
        {
            return Err(PlanError::NothingUncertain.into());
        }
        let (seed, replicates) = (self.settings.seed, self.settings.replicates);
        let drawn = self
            .scenarios
            .iter()
            .map(|l| {
                (0..replicates)
                    .into_par_iter()
                    .map(|r| l.drawn(crate::rng::Crn::new(seed, r)))
                    .collect::<Result<Vec<_>, _>>()
            })
            .collect::<Result<Vec<_>, _>>()?;
        let (configs, values) = drawn
            .into_iter()
            .map(|each| each.into_iter().unzip())
            .unzip();
        self.draws = Some(Draws { configs, values });
        Ok(self)
    }

    /// Scenario `s`'s parameters in replicate `r`: its draw when `drawn`
    /// and the plan draws parameters, else its stated values.
    pub fn config_at(&self, s: usize, r: u32, drawn: bool) -> &Config {
        match (&self.draws, drawn) {
            (Some(d), true) => &d.configs[s][r as usize],
            _ => &self.scenarios[s].config,
        }
    }

    /// Each replicate's parameter draws, if the run draws them.
    pub fn draws(&self) -> Option<&Draws> {
        self.draws.as_ref()
    }

    /// Replicates to run in all, for a progress bar: scenarios ×
    /// replicates, twice over when parameters are drawn.
    pub fn jobs(&self) -> u64 {
        let once = self.scenarios.len() as u64 * self.settings.replicates as u64;
        if self.draws.is_some() { 2 * once } else { once }
    }

    /// Checks scenarios loaded elsewhere (the baseline first) to run
    /// together, with settings in bounds: each has its own name, and each
    /// can be paired with the baseline resident by resident.
    pub fn of(scenarios: Vec<Loaded>, settings: RunSettings) -> Result<Plan, PlanError> {
        check_settings(&settings)?;
        if scenarios.is_empty() {
            return Err(PlanError::NoScenarios);
        }
        for (i, l) in scenarios.iter().enumerate() {
            if let Some(first) = scenarios[..i]
                .iter()
                .find(|o| o.config.name == l.config.name)
            {
                return Err(PlanError::SameName {
                    first: first.files[0].path.clone(),
                    second: l.files[0].path.clone(),
                    name: l.config.name.clone(),
                });
            }
        }
        let base = &scenarios[0];
        for l in &scenarios[1..] {
            if let Some((what, fix)) = unpaired(base, l) {
                return Err(PlanError::Unpaired {
                    scenario: l.config.name.clone(),
                    baseline: base.config.name.clone(),
                    what,
                    fix,
                });
            }
        }
        Ok(Plan {
            scenarios,
            settings,
            draws: None,
        })
    }

    /// The scenarios, the baseline first.
    pub fn scenarios(&self) -> &[Loaded] {
        &self.scenarios
    }

    /// Replicates, seed and threads, as checked.
    pub fn settings(&self) -> &RunSettings {
        &self.settings
    }

    /// The worker threads the run will use.
    pub fn threads(&self) -> usize {
        self.settings
            .threads
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
    }

    fn configs(&self) -> Vec<&Config> {
        self.scenarios.iter().map(|l| &l.config).collect()
    }

    /// The memory the run will need at its peak.
    pub fn memory(&self) -> MemoryEstimate {
        let mut m =
            replicates::memory_estimate(&self.configs(), self.settings.replicates, self.threads());
        if self.draws.is_some() {
            // The re-run at every parameter's value is kept until both are
            // appraised.
            m.results = m.results.saturating_mul(2);
        }
        m
    }

    /// Refuses, before anything is allocated, a run that would not fit in
    /// `limit` bytes, or (with no limit) in the memory the machine has
    /// available now.
    pub fn check_memory(&self, limit: Option<u64>) -> Result<(), PlanError> {
        let (limit, limit_from) = match (limit, available_memory()) {
            (Some(l), _) => (l, "--memory-limit"),
            (None, Some(a)) => (a, "the memory this machine has available"),
            (None, None) => return Ok(()),
        };
        let need = self.memory();
        if need.total() <= limit {
            return Ok(());
        }
        Err(PlanError::Memory {
            need,
            limit,
            limit_from,
            residents: self
                .scenarios
                .iter()
                .map(|l| l.config.population.residents)
                .max()
                .unwrap_or(0),
            threads: self.threads(),
            runs: self.jobs(),
        })
    }

    /// Runs every scenario for every replicate and appraises each against
    /// the baseline. `on_done` is called once per finished replicate, from
    /// any thread.
    pub fn run(self, on_done: &(dyn Fn() + Sync)) -> Result<Outcome, Error> {
        let started = Instant::now();
        let part = self.run_shard(Shard::WHOLE, on_done)?;
        let seconds = started.elapsed().as_secs_f64();
        Ok(self
            .put_together(vec![part], seconds)
            .expect("one shard holds the whole run"))
    }

    /// One shard's share of the run ([`Shard`]): its replicates of every
    /// scenario, not yet appraised; [`Plan::put_together`] makes the
    /// outcome from every shard's.
    pub fn run_shard(
        &self,
        shard: Shard,
        on_done: &(dyn Fn() + Sync),
    ) -> Result<ShardResults, Error> {
        let configs = self.configs();
        let central = |s: usize, _| configs[s];
        let n = configs.len();
        Ok(match &self.draws {
            None => ShardResults {
                run: replicates::run_part(n, &central, &self.settings, shard, on_done)?,
                central: None,
            },
            Some(d) => {
                let drawn = |s: usize, r: u32| &d.configs[s][r as usize];
                ShardResults {
                    run: replicates::run_part(n, &drawn, &self.settings, shard, on_done)?,
                    central: Some(replicates::run_part(
                        n,
                        &central,
                        &self.settings,
                        shard,
                        on_done,
                    )?),
                }
            }
        })
    }

    /// The outcome from every shard's results (in any order), appraised
    /// against the baseline: the same, number for number, as
    /// [`Plan::run`]. `seconds` is the simulation's wall-clock time.
    pub fn put_together(
        self,
        shards: Vec<ShardResults>,
        seconds: f64,
    ) -> Result<Outcome, replicates::AssembleError> {
        let configs = self.configs();
        let n = configs.len();
        let central = |s: usize, _| configs[s];
        let (runs, centrals): (Vec<_>, Vec<_>) =
            shards.into_iter().map(|p| (p.run, p.central)).unzip();
        let (experiment, chance) = match &self.draws {
            None => (
                replicates::assemble(n, &central, &self.settings, runs)?,
                None,
            ),
            Some(d) => {
                let drawn = |s: usize, r: u32| &d.configs[s][r as usize];
                (
                    replicates::assemble(n, &drawn, &self.settings, runs)?,
                    Some(replicates::assemble(
                        n,
                        &central,
                        &self.settings,
                        centrals.into_iter().flatten().collect(),
                    )?),
                )
            }
        };
        drop(configs);
        Ok(self.appraise(experiment, chance, seconds))
    }

    /// As [`Plan::run`], as one of an experiment's runs ([`Runs`]): the
    /// outcome, unless `runs` does one shard's share.
    pub fn run_in(
        self,
        runs: &mut Runs,
        on_done: &(dyn Fn() + Sync),
    ) -> Result<Option<Outcome>, Error> {
        let started = Instant::now();
        let configs = self.configs();
        let n = configs.len();
        let central = |s: usize, _| configs[s];
        let (experiment, chance) = match &self.draws {
            None => (runs.run(n, &central, &self.settings, on_done)?, None),
            Some(d) => {
                let drawn = |s: usize, r: u32| &d.configs[s][r as usize];
                (
                    runs.run(n, &drawn, &self.settings, on_done)?,
                    runs.run(n, &central, &self.settings, on_done)?,
                )
            }
        };
        drop(configs);
        let seconds = started.elapsed().as_secs_f64();
        Ok(experiment.map(|e| self.appraise(e, chance, seconds)))
    }

    /// The outcome of the run's replicates (and, with drawn parameters,
    /// `chance`, the same replicates at every parameter's value),
    /// appraised against the baseline.
    fn appraise(
        mut self,
        experiment: Experiment,
        chance: Option<Experiment>,
        seconds: f64,
    ) -> Outcome {
        let configs = self.configs();
        let money: Vec<&[InterventionMoney]> = self
            .scenarios
            .iter()
            .map(|l| l.intervention_money.as_slice())
            .collect();
        let mut economics = economics::evaluate(
            &self.scenarios[0].conventions,
            &configs,
            &money,
            &experiment.scenarios,
        );
        let mut experiment = experiment;
        if let Some(chance) = chance {
            let central = economics::evaluate(
                &self.scenarios[0].conventions,
                &configs,
                &money,
                &chance.scenarios,
            );
            for (a, c) in economics.appraisals.iter_mut().zip(&central.appraisals) {
                a.npv_variance = Some(economics::appraisal::VarianceSplit::of(
                    &a.npv_by_replicate,
                    &c.npv_by_replicate,
                ));
            }
            experiment.resident_months += chance.resident_months;
            experiment.burn_in_shared += chance.burn_in_shared;
        }
        drop(configs);
        let warned_before = self.scenarios.iter().map(|l| l.warnings.len()).collect();
        self.warn_from_results(&experiment, &economics);
        Outcome {
            plan: self,
            experiment,
            economics,
            seconds,
            warned_before,
        }
    }

    /// Guard rails only the results can judge, added to each scenario's
    /// warnings: a programme whose funded places stay empty, support that
    /// goes on after the money for it stops, and a baseline that starts
    /// far over a payer's envelope.
    fn warn_from_results(&mut self, experiment: &Experiment, economics: &Economics) {
        for (s, runs) in experiment.scenarios.iter().enumerate() {
            let draws = self.draws.as_ref();
            let central = &self.scenarios[s].config;
            let config_of = |r: usize| draws.map_or(central, |d: &Draws| &d.configs[s][r]);
            let found = aggregate::places_used(&config_of, runs);
            let l = &mut self.scenarios[s];
            for p in found {
                let at = format!("interventions.{}", p.id);
                if let Some((y, empty)) = p.first_year_unused() {
                    l.warn(
                        &at,
                        format!(
                            "leaves {:.0}% of its funded places empty in year {} (mean across \
                             replicates), over the {:.0}% a programme may: its budget is charged \
                             in full for places nobody uses; check its targeting, engagement, \
                             dropout and budget",
                            100.0 * empty,
                            y + 1,
                            100.0 * aggregate::UNUSED_PLACES
                        ),
                    );
                }
                if let Some((months, y)) = p.unfunded_support() {
                    l.warn(
                        &at,
                        format!(
                            "holds more cases than its money pays for: {} months of support \
                             (mean across replicates, most in year {}) go on after its places \
                             fall, with no spend for them, so its saving is overstated; keep \
                             its budget until those cases finish, or end their support with \
                             the money",
                            count(months),
                            y + 1
                        ),
                    );
                }
            }
        }
        let baseline = &self.scenarios[0].config.name;
        for (payer, fy, spend, envelope) in
            economics::budget::over_envelope_at_start(&economics.budget, baseline)
        {
            self.scenarios[0].warn(
                &format!("economics.budgets.{}.envelope", payer.name()),
                format!(
                    "the baseline spends £{} in {fy}, {:.0}% over this envelope of £{}, before \
                     any policy: an envelope taken from another place, even scaled per \
                     resident, is not this place's; set the place's own",
                    count(spend),
                    100.0 * (spend / envelope - 1.0),
                    count(envelope)
                ),
            );
        }
    }
}

/// One shard's replicates ([`Plan::run_shard`]).
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct ShardResults {
    /// The run's replicates: with drawn parameters, each at its draw.
    pub run: replicates::Partial,
    /// With drawn parameters, the same replicates with every parameter at
    /// its value; else none.
    pub central: Option<replicates::Partial>,
}

/// Why `l` cannot be paired with the baseline, and the fix, if it cannot.
/// Pairing by replicate compares the same residents month by month, so the
/// timeline, the population's slots and the money conventions must match.
fn unpaired(base: &Loaded, l: &Loaded) -> Option<(&'static str, &'static str)> {
    let (b, c) = (&base.config, &l.config);
    [
        (
            c.months != b.months,
            "horizon",
            "use --years to set it for all",
        ),
        (
            c.burn_in_months != b.burn_in_months,
            "burn_in_months",
            "remove it from the scenario",
        ),
        (
            c.warm_start != b.warm_start,
            "warm_start",
            "remove it from the scenario",
        ),
        (
            !c.population.same_households(&b.population),
            "population (residents, neighbourhoods or household make-up)",
            "remove those [population] fields from the scenario",
        ),
        (
            c.age_bands != b.age_bands,
            "population.age_band_cuts",
            "remove it from the scenario",
        ),
        (
            l.conventions != base.conventions,
            "money conventions ([economics] or start)",
            "set them in the baseline only",
        ),
    ]
    .into_iter()
    .find(|d| d.0)
    .map(|(_, what, fix)| (what, fix))
}

/// The memory the machine can give a new process now, from /proc/meminfo.
pub(crate) fn available_memory() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// A finished run: its plan, every replicate's results and their economics.
#[derive(Debug)]
pub struct Outcome {
    /// The plan that was run.
    pub plan: Plan,
    /// Every scenario's replicates, in the plan's order.
    pub experiment: Experiment,
    /// Each scenario appraised against the baseline, and the budgets.
    pub economics: Economics,
    /// Wall-clock seconds the simulation took (not the appraisal).
    pub seconds: f64,
    /// How many warnings each scenario had before the run: the rest were
    /// found in its results.
    warned_before: Vec<usize>,
}

impl Outcome {
    /// Warnings found in the run's results (the scenarios' own were given
    /// when they loaded), in scenario order.
    pub fn warnings_from_results(&self) -> impl Iterator<Item = &scenario::ScenarioError> {
        self.plan
            .scenarios
            .iter()
            .zip(&self.warned_before)
            .flat_map(|(l, &before)| &l.warnings[before..])
    }

    /// The scenarios' names, the baseline first.
    pub fn names(&self) -> Vec<&str> {
        self.plan
            .scenarios
            .iter()
            .map(|l| l.config.name.as_str())
            .collect()
    }

    /// Resident-months simulated a second, burn-in included.
    pub fn resident_months_per_second(&self) -> f64 {
        self.experiment.resident_months as f64 / self.seconds
    }

    /// Every data file (CSV, JSON, the workbook), as (name, contents).
    pub fn render(&self) -> Result<Vec<(String, Vec<u8>)>, Error> {
        Ok(output::render(&self.experiment, &self.info())?)
    }

    /// What the outputs say about the run.
    fn info(&self) -> RunInfo<'_> {
        RunInfo {
            economics: &self.economics,
            scenarios: &self.plan.scenarios,
            settings: &self.plan.settings,
            resident_months: self.experiment.resident_months,
            burn_in_shared: self.experiment.burn_in_shared,
            draws: self.plan.draws.as_ref().map(|d| d.values.as_slice()),
        }
    }

    /// The terminal summary: a line per scenario, then what its figures mean.
    pub fn table(&self) -> String {
        let mut out = output::table::render(&self.experiment, &self.names(), &self.economics);
        out.push('\n');
        out.push_str(&output::table::notes(
            &self.economics,
            self.plan.scenarios[0].config.months,
            self.plan.settings.replicates,
            self.info().parameters_drawn(),
        ));
        out
    }

    /// Renders the data files and replaces the claimed folder `out` (see
    /// [`output::claim`]) with them in one step. Returns the names written.
    pub fn write(&self, out: &OutputFolder) -> Result<Vec<String>, Error> {
        Ok(out.write(&self.render()?)?)
    }

    /// As [`Outcome::write`], with the report and charts built from the data
    /// files; `progress` is told how many charts are drawn out of how many.
    /// If the report fails, the results are still written, and the error
    /// says so.
    #[cfg(feature = "report")]
    pub fn write_with_report(
        &self,
        out: &OutputFolder,
        progress: &(dyn Fn(usize, usize) + Sync),
    ) -> Result<Vec<String>, Error> {
        let mut files = self.render()?;
        match build_report(&files, progress) {
            Ok(report) => files.extend(report),
            Err(source) => {
                // Keep the results of a long run even if its report fails.
                out.write(&files)?;
                return Err(Error::ReportAfterResults {
                    dir: out.path().to_path_buf(),
                    source,
                });
            }
        }
        Ok(out.write(&files)?)
    }
}

#[cfg(feature = "report")]
/// Builds the report and charts from a run's files in memory, exactly as
/// [`rebuild_report`] builds them from the files on disk.
pub fn build_report(
    files: &[(String, Vec<u8>)],
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<Vec<(String, Vec<u8>)>, report::ReportError> {
    let source = |name: &str| {
        files
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, b)| b.clone())
            .ok_or_else(|| std::io::Error::from(std::io::ErrorKind::NotFound))
    };
    report::build(&source, progress)
}

#[cfg(feature = "report")]
/// Rebuilds the report and charts of the output folder `dir` from its files,
/// without re-running, and replaces them in one step. Returns the number of
/// charts drawn.
pub fn rebuild_report(
    dir: &Path,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<usize, Error> {
    if !dir.is_dir() {
        return Err(Error::NotAnOutputFolder(dir.to_path_buf()));
    }
    // Claimed before reading, so no run replaces the files meanwhile.
    let out = output::claim(dir)?;
    let source =
        |name: &str| crate::input::read_bytes(&dir.join(name), crate::input::MAX_WRITTEN_BYTES);
    let files = report::build(&source, progress).map_err(|source| Error::Report {
        dir: dir.to_path_buf(),
        source,
    })?;
    out.write_report(&files)?;
    Ok((files.len() - 1) / 2)
}
