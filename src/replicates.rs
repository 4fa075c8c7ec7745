//! Scenarios × replicates, run in parallel with rayon.
//!
//! Each (scenario, replicate) job is independent; with fewer jobs than
//! threads, each job's months are split across the threads as well (the
//! engine's chunks of residents). Results are collected in job order, and
//! every random draw depends only on its coordinates (see `rng`), so the
//! output is identical for any thread count.

use rayon::prelude::*;

use crate::engine::{self, Engine, ReplicateResult};
use crate::metrics::{Layout, Metric, Series};
use crate::model::Config;

/// A month's chunks of residents on rayon's threads.
struct Pool;

impl engine::Workers for Pool {
    fn run(&self, jobs: &mut [&mut (dyn FnMut() + Send)]) {
        jobs.par_iter_mut().for_each(|job| job());
    }
}

/// How to run an experiment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunSettings {
    /// Stochastic replicates per scenario.
    pub replicates: u32,
    /// The master seed: the same seed gives the same results, byte for byte.
    pub seed: u64,
    /// Worker threads; `None` uses every core.
    pub threads: Option<usize>,
}

/// One scenario's replicates.
#[derive(Clone, Debug)]
pub struct ScenarioRuns {
    /// Where each metric sits in a month's row, for this scenario.
    pub layout: Layout,
    /// Each replicate's monthly series in pounds, in replicate order.
    pub series: Vec<Series>,
    /// Each replicate's raw results (integers and pence), in replicate order.
    pub replicates: Vec<ReplicateResult>,
}

impl ScenarioRuns {
    /// Months recorded in each replicate.
    pub fn months(&self) -> usize {
        self.series.first().map_or(0, |s| s.months)
    }

    /// Each replicate's figure from `read`, for `metric`; zeros where this
    /// scenario has no such metric (an intervention the baseline lacks
    /// spends nothing there). This and [`ScenarioRuns::monthly`] are the
    /// only readers of a scenario's series, and the only places that rule
    /// is applied.
    fn each(&self, metric: &Metric, read: impl Fn(&Series, usize) -> f64) -> Vec<f64> {
        match self.layout.find(metric) {
            Some(k) => self.series.iter().map(|s| read(s, k)).collect(),
            None => vec![0.0; self.series.len()],
        }
    }

    /// `metric` in month `month` (0-based), replicate by replicate.
    pub fn at_month(&self, metric: &Metric, month: usize) -> Vec<f64> {
        let n = self.layout.len();
        self.each(metric, |s, k| s.get(n, month, k))
    }

    /// `metric`'s horizon figure (sum of a flow, mean of a stock),
    /// replicate by replicate.
    pub fn totals(&self, metric: &Metric) -> Vec<f64> {
        self.each(metric, |s, k| s.total(&self.layout, k))
    }

    /// `metric` month by month in one replicate.
    pub fn monthly(&self, metric: &Metric, replicate: usize) -> Vec<f64> {
        let (n, s) = (self.layout.len(), &self.series[replicate]);
        match self.layout.find(metric) {
            Some(k) => (0..s.months).map(|m| s.get(n, m, k)).collect(),
            None => vec![0.0; s.months],
        }
    }
}

/// Every scenario's replicates from one run.
#[derive(Clone, Debug)]
pub struct Experiment {
    /// One entry per scenario, in the order given (the baseline first).
    pub scenarios: Vec<ScenarioRuns>,
    /// Resident-months simulated in all, burn-in included: a burn-in
    /// shared by several scenarios counted once.
    pub resident_months: u64,
    /// Burn-in resident-months not simulated again because scenarios shared
    /// them ([`Config::shares_burn_in_with`]): the work the replicates stand
    /// for is this and [`Experiment::resident_months`] together.
    pub burn_in_shared: u64,
    /// Worker threads the run used.
    pub threads: usize,
}

/// The pool of worker threads could not be started.
#[derive(Debug, thiserror::Error)]
#[error("could not start {threads} worker threads: {source}")]
pub struct ThreadPoolError {
    threads: usize,
    source: rayon::ThreadPoolBuildError,
}

/// What a run will hold in memory at its peak, in bytes, worked out before
/// anything is allocated so that a run too big for the machine can be
/// refused up front. Calibrated on measured peaks, on the generous side.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemoryEstimate {
    /// The program itself, its tables and buffers:
    /// [`MemoryEstimate::BASE`].
    pub program: u64,
    /// Residents' state for the replicates running at once.
    pub populations: u64,
    /// Populations alive at once on each thread: two where scenarios share
    /// a burn-in (its own, and the scenario carried on from it), else one.
    pub copies: u64,
    /// Every replicate's monthly results, kept until the end.
    pub results: u64,
    /// Aggregation, output files, the workbook and the report.
    pub outputs: u64,
}

impl MemoryEstimate {
    /// Bytes of state per resident while a replicate runs (about 28
    /// measured, with households and the key cache).
    pub const PER_RESIDENT: u64 = 32;
    /// The program itself, its tables and buffers.
    pub const BASE: u64 = 24 << 20;

    /// Every part, in the order of the fields: a breakdown that lists
    /// these lists everything in [`MemoryEstimate::total`].
    pub fn parts(&self) -> [u64; 4] {
        [self.program, self.populations, self.results, self.outputs]
    }

    /// Bytes in all: the sum of the parts.
    pub fn total(&self) -> u64 {
        self.parts().iter().fold(0, |a, &b| a.saturating_add(b))
    }
}

/// The memory a run of `configs` × `replicates` on `threads` threads needs.
pub fn memory_estimate(configs: &[&Config], replicates: u32, threads: usize) -> MemoryEstimate {
    let jobs = configs.len() as u64 * replicates as u64;
    let at_once = (threads as u64).min(jobs).max(1);
    let largest = configs
        .iter()
        .map(|c| crate::model::demography::expected_slots(c))
        .max()
        .unwrap_or(0);
    let shared = configs
        .iter()
        .enumerate()
        .any(|(i, a)| configs[i + 1..].iter().any(|b| a.shares_burn_in_with(b)));
    let copies = if shared { 2 } else { 1 };
    let (mut results, mut outputs) = (0u64, 0u64);
    for c in configs {
        let cells = c.months as u64 * Layout::new(c).len() as u64;
        let places = c.population.neighbourhoods.len() as u64;
        // Raw integers and their series as numbers, per replicate.
        let per_replicate =
            cells * 16 + places * 8 * crate::metrics::NeighbourhoodMetric::COUNT as u64;
        results = results.saturating_add(per_replicate.saturating_mul(replicates as u64));
        // Bands, CSV text and workbook cells for the scenario and its
        // differences from the baseline: the workbook holds every cell at
        // once. Measured at about 2,100 bytes a cell at the peak of the
        // default comparison (157 MB over ten years, 52 MB over two).
        outputs = outputs.saturating_add(cells * 2_400);
    }
    MemoryEstimate {
        program: MemoryEstimate::BASE,
        populations: at_once
            .saturating_mul(copies)
            .saturating_mul(largest)
            .saturating_mul(MemoryEstimate::PER_RESIDENT),
        copies,
        results,
        outputs,
    }
}

/// Runs every scenario for every replicate. `on_done` is called once per
/// finished job, from whichever thread ran it (for progress bars).
pub fn run(
    configs: &[&Config],
    settings: &RunSettings,
    on_done: &(dyn Fn() + Sync),
) -> Result<Experiment, ThreadPoolError> {
    let config = |s: usize, _| configs[s];
    let part = run_part(configs.len(), &config, settings, Shard::WHOLE, on_done)?;
    Ok(assemble(configs.len(), &config, settings, vec![part]).expect("one shard holds it all"))
}

/// Which share of a run's work one process does: shard `index` of `count`
/// (from 1). The work is the run's list of replicates to simulate, each
/// replicate's scenarios that share a burn-in counting as one piece, in a
/// fixed order; shard `k` takes pieces `k`, `k + count`, `k + 2 × count`…
/// so every shard gets as near the same work as can be, whatever the
/// number of shards (one with no piece, when there are more shards than
/// pieces, does nothing).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Shard {
    index: u32,
    count: u32,
}

impl Shard {
    /// The whole run as one shard.
    pub const WHOLE: Shard = Shard { index: 1, count: 1 };
    /// The most shards a run may be split into.
    pub const MAX: u32 = 100_000;

    /// Shard `index` of `count`, if `1 <= index <= count <= MAX`.
    pub fn new(index: u32, count: u32) -> Option<Shard> {
        (1 <= index && index <= count && count <= Shard::MAX).then_some(Shard { index, count })
    }

    /// Its number, from 1.
    pub fn index(&self) -> u32 {
        self.index
    }

    /// How many shards the run is split into.
    pub fn count(&self) -> u32 {
        self.count
    }

    /// Whether the run's `piece`th piece of work (from 0) is this shard's.
    pub fn holds(&self, piece: usize) -> bool {
        piece % self.count as usize == (self.index - 1) as usize
    }
}

/// Some of a run's replicates, as a shard ran them.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct Partial {
    /// (scenario, replicate, its results), in the run's order.
    pub results: Vec<(usize, u32, ReplicateResult)>,
    /// Burn-in resident-months these replicates did not simulate again
    /// because scenarios shared them: (the scenario that ran the burn-in,
    /// the replicate, resident-months), for each burn-in shared.
    pub burn_in_shared: Vec<(usize, u32, u64)>,
    /// Worker threads the shard used.
    pub threads: usize,
}

/// The shards' results do not make up the run.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AssembleError {
    /// A scenario's replicate no shard ran.
    #[error("no shard holds replicate {} of scenario {}", .replicate + 1, .scenario + 1)]
    Missing {
        /// The scenario, from 0.
        scenario: usize,
        /// The replicate, from 0.
        replicate: u32,
    },
    /// A scenario's replicate more than one shard ran, or one outside the
    /// run.
    #[error("replicate {} of scenario {} is given twice, or is not part of this run", .replicate + 1, .scenario + 1)]
    Extra {
        /// The scenario, from 0.
        scenario: usize,
        /// The replicate, from 0.
        replicate: u32,
    },
    /// A place's replicate no shard ran, in a run over places.
    #[error("no shard holds replicate {} of place {}", .replicate + 1, .place + 1)]
    MissingPlace {
        /// The place, from 0 in its table's order.
        place: usize,
        /// The replicate, from 0.
        replicate: u32,
    },
    /// A place's replicate given twice, or not part of the run.
    #[error("replicate {} of place {} is given twice, or is not part of this run", .replicate + 1, .place + 1)]
    ExtraPlace {
        /// The place, from 0 in its table's order.
        place: usize,
        /// The replicate, from 0.
        replicate: u32,
    },
}

/// Puts a run's shards back together: the same experiment, number for
/// number, as running it whole, whatever the number or order of shards.
/// Threads are the most any shard used.
pub fn assemble<'a>(
    scenarios: usize,
    config: &dyn Fn(usize, u32) -> &'a Config,
    settings: &RunSettings,
    parts: Vec<Partial>,
) -> Result<Experiment, AssembleError> {
    let reps = settings.replicates as usize;
    let mut by_job: Vec<Option<ReplicateResult>> = vec![None; scenarios * reps];
    let (mut shared, mut threads) = (0, 0);
    for part in parts {
        shared += part.burn_in_shared.iter().map(|b| b.2).sum::<u64>();
        threads = threads.max(part.threads);
        for (s, r, result) in part.results {
            let extra = AssembleError::Extra {
                scenario: s,
                replicate: r,
            };
            if s >= scenarios || r as usize >= reps {
                return Err(extra);
            }
            let slot = &mut by_job[s * reps + r as usize];
            if slot.replace(result).is_some() {
                return Err(extra);
            }
        }
    }
    let mut runs = Vec::with_capacity(scenarios);
    let mut resident_months = 0u64;
    let mut results = by_job.into_iter().enumerate();
    for s in 0..scenarios {
        let layout = Layout::new(config(s, 0));
        let replicates = results
            .by_ref()
            .take(reps)
            .map(|(job, r)| {
                r.ok_or(AssembleError::Missing {
                    scenario: s,
                    replicate: (job % reps) as u32,
                })
            })
            .collect::<Result<Vec<ReplicateResult>, _>>()?;
        resident_months += replicates.iter().map(|r| r.resident_months).sum::<u64>();
        let series = replicates
            .iter()
            .zip(0..)
            .map(|(raw, r)| {
                let c = config(s, r);
                Series::from_raw(c, &layout, &raw.raw, c.months as usize)
            })
            .collect();
        runs.push(ScenarioRuns {
            layout,
            series,
            replicates,
        });
    }
    Ok(Experiment {
        scenarios: runs,
        resident_months: resident_months - shared,
        burn_in_shared: shared,
        threads,
    })
}

/// Per replicate, the scenarios (by index, in order) that share one
/// burn-in: the first runs it, the rest are carried on from its end.
fn burn_in_groups<'a>(
    scenarios: usize,
    replicates: u32,
    config: &(dyn Fn(usize, u32) -> &'a Config + Sync),
) -> Vec<(u32, Vec<usize>)> {
    (0..replicates)
        .flat_map(|r| {
            replicate_groups(scenarios, r, config)
                .into_iter()
                .map(move |g| (r, g))
        })
        .collect()
}

/// Replicate `r`'s scenarios (by index, in order) grouped by the burn-in
/// they share.
pub(crate) fn replicate_groups<'a>(
    scenarios: usize,
    r: u32,
    config: &(dyn Fn(usize, u32) -> &'a Config + Sync),
) -> Vec<Vec<usize>> {
    let mut groups: Vec<Vec<usize>> = Vec::new();
    for s in 0..scenarios {
        let c = config(s, r);
        match groups
            .iter_mut()
            .find(|g| config(g[0], r).shares_burn_in_with(c))
        {
            Some(g) => g.push(s),
            None => groups.push(vec![s]),
        }
    }
    groups
}

/// One shard's share of a run of `scenarios` scenarios, scenario `s`'s
/// replicate `r` with the parameters `config(s, r)`: the pieces of work
/// [`Shard::holds`] picks, to be put together with the other shards' by
/// [`assemble`]. `on_done` is called once per finished job.
pub fn run_part<'a>(
    scenarios: usize,
    config: &(dyn Fn(usize, u32) -> &'a Config + Sync),
    settings: &RunSettings,
    shard: Shard,
    on_done: &(dyn Fn() + Sync),
) -> Result<Partial, ThreadPoolError> {
    Ok(run_part_from(scenarios, config, settings, shard, 0, on_done)?.0)
}

/// As [`run_part`], the run's pieces numbered from `first` (an
/// experiment's runs share out their pieces as one list): with the number
/// of pieces the run has.
fn run_part_from<'a>(
    scenarios: usize,
    config: &(dyn Fn(usize, u32) -> &'a Config + Sync),
    settings: &RunSettings,
    shard: Shard,
    first: usize,
    on_done: &(dyn Fn() + Sync),
) -> Result<(Partial, usize), ThreadPoolError> {
    let pool = pool(settings)?;
    let all = burn_in_groups(scenarios, settings.replicates, config);
    let pieces = all.len();
    // Scenarios that run the same burn-in in a replicate share it (see
    // [`run_group`]). Each group is one piece of the work, so a shard never
    // splits a shared burn-in.
    let groups: Vec<(u32, Vec<usize>)> = all
        .into_iter()
        .enumerate()
        .filter(|(piece, _)| shard.holds(first + piece))
        .map(|(_, g)| g)
        .collect();
    let workers = workers(groups.len(), &pool);
    let done: Vec<(Vec<(usize, ReplicateResult)>, u64)> = pool.install(|| {
        groups
            .par_iter()
            .map(|(r, members)| run_group(config, settings.seed, *r, members, workers, on_done))
            .collect()
    });
    let mut part = Partial {
        threads: pool.current_num_threads(),
        ..Partial::default()
    };
    for ((r, members), (out, saved)) in groups.iter().zip(done) {
        if saved > 0 {
            part.burn_in_shared.push((members[0], *r, saved));
        }
        part.results
            .extend(out.into_iter().map(|(s, result)| (s, *r, result)));
    }
    Ok((part, pieces))
}

/// The pool of worker threads `settings` asks for.
pub(crate) fn pool(settings: &RunSettings) -> Result<rayon::ThreadPool, ThreadPoolError> {
    let mut builder = rayon::ThreadPoolBuilder::new();
    if let Some(n) = settings.threads {
        builder = builder.num_threads(n);
    }
    builder.build().map_err(|source| ThreadPoolError {
        threads: settings.threads.unwrap_or(0),
        source,
    })
}

/// Who runs a replicate's months with `jobs` replicates at once on
/// `pool`: cores a run of few replicates would leave idle go to each
/// replicate's months; with enough replicates to fill them, each runs on
/// one thread, and no more populations are alive at once than threads (two
/// where a burn-in is shared).
pub(crate) fn workers(jobs: usize, pool: &rayon::ThreadPool) -> &'static dyn engine::Workers {
    if jobs < pool.current_num_threads() {
        &Pool
    } else {
        &engine::OneThread
    }
}

/// Replicate `r` of the scenarios `members` (by index), which share one
/// burn-in: the first runs it, and the rest are carried on from its end,
/// the same numbers, byte for byte, as simulating it again. Each
/// scenario's results, and the burn-in resident-months not simulated
/// again. `on_done` is called once per scenario.
pub(crate) fn run_group<'a>(
    config: &(dyn Fn(usize, u32) -> &'a Config + Sync),
    seed: u64,
    r: u32,
    members: &[usize],
    workers: &dyn engine::Workers,
    on_done: &(dyn Fn() + Sync),
) -> (Vec<(usize, ReplicateResult)>, u64) {
    let lead = config(members[0], r);
    let mut engine = Engine::new_on(lead, seed, r, workers);
    let mut out = Vec::with_capacity(members.len());
    let mut shared = 0;
    if members.len() > 1 {
        engine.run_to(0);
        let slots = engine.population().residents.len() as u64;
        for &s in &members[1..] {
            let carried = engine.carry_on(config(s, r));
            shared += slots * lead.burn_in_months as u64;
            out.push((s, carried.run()));
            on_done();
        }
    }
    out.push((members[0], engine.run()));
    on_done();
    (out, shared)
}

/// Where an experiment's runs are done. An experiment (a sweep, a
/// sensitivity analysis, a calibration…) is a fixed list of runs, each
/// decided by the experiment's settings alone, never by an earlier run's
/// results; so its pieces of work can be numbered as one list across its
/// runs and shared out between shards as a single run's are.
///
/// - [`Runs::whole`] does every run here and hands each back.
/// - [`Runs::shard`] does one shard's share of each run and hands back
///   nothing: the experiment goes on to its next run without summing up,
///   and [`Runs::into_kept`] gives the shares, to be written as a part.
/// - [`Runs::merge`] does no simulation: it puts each run together from
///   every shard's share, so the experiment sums up exactly as if it had
///   run whole.
#[derive(Debug)]
pub struct Runs {
    mode: Mode,
    /// Pieces of work in the runs so far.
    pieces: usize,
    /// Runs so far.
    runs: usize,
}

#[derive(Debug)]
enum Mode {
    Whole,
    Shard { shard: Shard, kept: Vec<Partial> },
    Merge { shards: Vec<Vec<Partial>> },
}

impl Runs {
    /// Every run done here.
    pub fn whole() -> Runs {
        Runs::with(Mode::Whole)
    }

    /// One shard's share of each run done here, kept.
    pub fn shard(shard: Shard) -> Runs {
        Runs::with(Mode::Shard {
            shard,
            kept: Vec::new(),
        })
    }

    /// Each run put together from every shard's shares (each shard's
    /// [`Runs::into_kept`], in any order of shards).
    pub fn merge(shards: Vec<Vec<Partial>>) -> Runs {
        Runs::with(Mode::Merge { shards })
    }

    fn with(mode: Mode) -> Runs {
        Runs {
            mode,
            pieces: 0,
            runs: 0,
        }
    }

    /// The shard this does, if it does one shard's share.
    pub fn only(&self) -> Option<Shard> {
        match self.mode {
            Mode::Shard { shard, .. } => Some(shard),
            _ => None,
        }
    }

    /// Whether every run is done here, neither shared out nor merged.
    pub fn is_whole(&self) -> bool {
        matches!(self.mode, Mode::Whole)
    }

    /// Runs done (or put together) so far.
    pub fn count(&self) -> usize {
        self.runs
    }

    /// The next run of the experiment: scenario `s`'s replicate `r` with
    /// the parameters `config(s, r)`. The experiment, whole (or put
    /// together from the shards), unless this does one shard's share.
    pub fn run<'a>(
        &mut self,
        scenarios: usize,
        config: &(dyn Fn(usize, u32) -> &'a Config + Sync),
        settings: &RunSettings,
        on_done: &(dyn Fn() + Sync),
    ) -> Result<Option<Experiment>, RunsError> {
        let at = self.runs;
        self.runs += 1;
        match &mut self.mode {
            Mode::Whole => {
                let (part, _) =
                    run_part_from(scenarios, config, settings, Shard::WHOLE, 0, on_done)?;
                Ok(Some(
                    assemble(scenarios, config, settings, vec![part])
                        .expect("one shard holds it all"),
                ))
            }
            Mode::Shard { shard, kept } => {
                let (part, pieces) =
                    run_part_from(scenarios, config, settings, *shard, self.pieces, on_done)?;
                self.pieces += pieces;
                kept.push(part);
                Ok(None)
            }
            Mode::Merge { shards } => {
                let parts = shards
                    .iter_mut()
                    .map(|s| s.get_mut(at).map(std::mem::take))
                    .collect::<Option<Vec<Partial>>>()
                    .ok_or(RunsError::TooFew { runs: at })?;
                let whole = assemble(scenarios, config, settings, parts).map_err(|source| {
                    RunsError::Run {
                        run: at + 1,
                        source,
                    }
                })?;
                Ok(Some(whole))
            }
        }
    }

    /// Checks, once the experiment has ended, that a merge used every run
    /// the shards did.
    pub fn finish(&self) -> Result<(), RunsError> {
        match &self.mode {
            Mode::Merge { shards } => match shards.iter().map(Vec::len).max() {
                Some(held) if held > self.runs => Err(RunsError::TooMany {
                    held,
                    runs: self.runs,
                }),
                _ => Ok(()),
            },
            _ => Ok(()),
        }
    }

    /// The shares of each run this shard did, in the experiment's order.
    pub fn into_kept(self) -> Vec<Partial> {
        match self.mode {
            Mode::Shard { kept, .. } => kept,
            _ => Vec::new(),
        }
    }
}

/// An experiment's runs that could not be done or put together.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RunsError {
    /// The worker threads could not be started.
    #[error(transparent)]
    Threads(#[from] ThreadPoolError),
    /// The shards' shares of one run do not make it up.
    #[error("the parts do not make up run {run} of the experiment: {source}")]
    Run {
        /// The run, from 1.
        run: usize,
        /// What is missing or extra.
        source: AssembleError,
    },
    /// Fewer runs in the parts than the experiment does.
    #[error(
        "the parts hold {runs} runs of the experiment, but it does more: they were written by another experiment"
    )]
    TooFew {
        /// Runs the parts hold.
        runs: usize,
    },
    /// More runs in the parts than the experiment does.
    #[error(
        "the parts hold {held} runs of the experiment, but it does {runs}: they were written by another experiment"
    )]
    TooMany {
        /// Runs the parts hold.
        held: usize,
        /// Runs the experiment does.
        runs: usize,
    },
}
