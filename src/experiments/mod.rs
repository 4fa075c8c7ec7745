//! The experiments: each a folder that owns its method, its settings and
//! what it publishes, and each an [`Experiment`] that [`drive`] runs whole,
//! as one shard writing its part, or (through [`merge`]) as the merge of
//! every shard's part, to the same files byte for byte.
//!
//! Adding an experiment is a folder here (its method in `mod.rs`, its
//! files and page in `publish.rs`, its settings and steps in
//! `command.rs`), a line in [`merge`]'s registry, and its command in the
//! `upstream` binary's arguments.

pub mod break_even;
pub mod calibrate;
pub mod optimise;
pub mod review;
pub mod sensitivity;
pub mod sweep;

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::Serialize;
use serde::de::DeserializeOwned;

pub use crate::app::{Said, Unwatched, Watch};
use crate::replicates::{Runs, Shard};
#[cfg(feature = "report")]
use crate::shard::{ExperimentParts, ShardError};
use crate::shard::{Inputs, PartResults, RunKey};

/// Anything that stops an experiment: its own refusals, a place's observed
/// counts, its shards, or the pipeline under them.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The pipeline's.
    #[error(transparent)]
    App(#[from] crate::app::Error),
    /// Its shards' or their merge's.
    #[error(transparent)]
    Shard(#[from] crate::shard::Error),
    /// A place's observed counts that cannot be used.
    #[error(transparent)]
    Observed(#[from] crate::observed::ObservedError),
    /// A sweep asked for something it cannot run.
    #[error(transparent)]
    Sweep(#[from] sweep::SweepError),
    /// A run that cannot be reviewed as asked.
    #[error(transparent)]
    Review(#[from] review::ReviewError),
    /// A budget that cannot be split as asked.
    #[error(transparent)]
    Optimise(#[from] optimise::OptimiseError),
}

crate::app::through_app!(Error);

impl From<crate::shard::ShardError> for Error {
    fn from(e: crate::shard::ShardError) -> Error {
        crate::shard::Error::from(e).into()
    }
}

/// Files an experiment publishes, as (name in its folder, contents).
pub type Files = Vec<(String, Vec<u8>)>;

/// One experiment: what its shards must agree on, how it plans and runs,
/// what it publishes and what it says. [`drive`] does the rest (the
/// folder, the shards, the merge, the clock), the same for every one.
pub trait Experiment: Sized {
    /// The command, as typed after `upstream`, and the name its parts carry.
    const NAME: &'static str;
    /// Everything that decides its results, stored in each shard's part
    /// and compared between parts; where it writes, how it reports, and
    /// the threads and memory it may use are not settings.
    type Settings: Serialize + DeserializeOwned;
    /// What its runs found.
    type Found;
    /// Names the files run when none are given (the bundled ones), so a
    /// merge need not find them where the shards did.
    fn name_bundled(_settings: &mut Self::Settings) {}
    /// Reads and checks everything it needs, through `source`, before any
    /// run or any folder is claimed.
    fn plan(settings: Self::Settings, how: &How, source: &Source) -> Result<Self, Error>;
    /// Lines for standard error before the runs (the scenarios' warnings).
    fn notes(&self) -> Vec<String>;
    /// Refuses a plan estimated to need more memory than `limit`.
    fn check_memory(&self, limit: Option<u64>) -> Result<(), Error>;
    /// Runs of one scenario's replicate to do, for a progress bar.
    fn jobs(&self) -> u64;
    /// Does the runs: what they found, or nothing on a shard.
    fn run(&self, running: Running) -> Result<Option<Self::Found>, Error>;
    /// Its files, page and charts, for the folder `out`.
    fn files(&self, found: &Self::Found, out: &Path) -> Result<Published, Error>;
    /// What the terminal shows once the files are written.
    fn summary(&self, found: &Self::Found, published: &Files, out: &Path, timing: Timing) -> Said;
}

/// What an experiment's runs are given.
pub struct Running<'a> {
    /// Where each run is done (here, as a shard's share, or put together
    /// from the parts).
    pub runs: &'a mut Runs,
    /// Counts `n` runs done.
    pub tick: &'a (dyn Fn(u64) + Sync),
    /// The output folder, for an experiment that keeps what it has done
    /// as it goes (a sweep's points), so that it can resume.
    pub out: &'a Path,
}

/// An experiment's files, and an error to give once they are written (a
/// page that could not be drawn beside results that were).
pub struct Published {
    /// The files.
    pub files: Files,
    /// The error, if one.
    pub then: Option<Error>,
}

impl From<Files> for Published {
    fn from(files: Files) -> Published {
        Published { files, then: None }
    }
}

/// How long an experiment's runs took, and whether they were simulated
/// here (a merge's time is not the simulation's: it says the shards').
#[derive(Clone, Copy, Debug)]
pub struct Timing {
    /// Seconds from the first run to the last.
    pub seconds: f64,
    /// Whether every run was simulated here, whole.
    pub whole: bool,
}

/// How an experiment is run, none of which changes a result.
#[derive(Clone, Debug, Default)]
pub struct How {
    /// The output folder (a shard's: where its part goes).
    pub out: PathBuf,
    /// The shard to run, if one.
    pub shard: Option<Shard>,
    /// Refuse a plan estimated to need more memory than this.
    pub memory_limit: Option<u64>,
    /// Worker threads (default: one per core).
    pub threads: Option<usize>,
}

/// Where an experiment reads its files and does its runs: here; as one
/// shard, keeping what it reads for its part; or as the merge of every
/// shard's part, reading the files and runs the parts hold.
pub struct Source {
    inputs: Inputs,
    runs: Runs,
}

impl Source {
    /// The text of the file at `path`.
    pub fn read(&self, path: &Path) -> std::io::Result<String> {
        self.inputs.read(path)
    }
}

/// Runs the experiment `E` with `settings`, whole or (with a shard in
/// `how`) as one shard, which writes its part: the settings, the text of
/// every file read, and its share of each run. Gives what to print.
pub fn drive<E: Experiment>(
    mut settings: E::Settings,
    how: &How,
    watch: &dyn Watch,
) -> Result<Said, Error> {
    let Some(shard) = how.shard else {
        let mut source = Source {
            inputs: Inputs::disk(),
            runs: Runs::whole(),
        };
        return run_in::<E>(settings, how, &mut source, watch);
    };
    E::name_bundled(&mut settings);
    let stored = match serde_json::to_value(&settings).expect("plain settings") {
        serde_json::Value::Object(map) => map.into_iter().collect(),
        _ => unreachable!("settings are a table"),
    };
    let mut source = Source {
        inputs: Inputs::keeping(),
        runs: Runs::shard(shard),
    };
    let started = Instant::now();
    run_in::<E>(settings, how, &mut source, watch)?;
    let seconds = started.elapsed().as_secs_f64();
    let runs = source.runs.count();
    let kept = source.runs.into_kept();
    let replicates: usize = kept.iter().map(|p| p.results.len()).sum();
    let key = RunKey::of_experiment(E::NAME, stored, source.inputs.into_kept());
    let path = crate::shard::write_part(
        &how.out,
        &key,
        shard,
        seconds,
        &PartResults::Experiment(kept),
    )?;
    Ok(Said {
        out: format!(
            "Wrote shard {} of {} ({replicates} scenario replicates of the experiment's {runs} runs, {seconds:.1} s) to {}; when every shard is done, `upstream merge {}` puts them together.\n",
            shard.index(),
            shard.count(),
            path.display(),
            how.out.display()
        ),
        err: String::new(),
    })
}

/// Merges an experiment's parts into `out`: the experiment again, with the
/// settings and files its shards had, each run put together from the parts
/// rather than simulated. `first` is the first part, named in errors.
#[cfg(feature = "report")]
pub fn merge(
    parts: ExperimentParts,
    first: &Path,
    out: &Path,
    watch: &dyn Watch,
) -> Result<Said, Error> {
    let command = parts.key.command.clone();
    let settings = serde_json::Value::Object(parts.key.settings.into_iter().collect());
    let mut source = Source {
        inputs: parts.inputs,
        runs: parts.runs,
    };
    let how = How {
        out: out.to_path_buf(),
        ..How::default()
    };
    // The registry: every experiment that can be sharded, by name.
    let mut said = match command.as_str() {
        sensitivity::Sensitivity::NAME => {
            merge_as::<sensitivity::Sensitivity>(settings, first, &how, &mut source, watch)
        }
        break_even::BreakEven::NAME => {
            merge_as::<break_even::BreakEven>(settings, first, &how, &mut source, watch)
        }
        sweep::Sweep::NAME => merge_as::<sweep::Sweep>(settings, first, &how, &mut source, watch),
        optimise::Optimise::NAME => {
            merge_as::<optimise::Optimise>(settings, first, &how, &mut source, watch)
        }
        calibrate::Calibrate::NAME => {
            merge_as::<calibrate::Calibrate>(settings, first, &how, &mut source, watch)
        }
        other => Err(ShardError::Damaged {
            file: first.to_path_buf(),
            reason: format!(
                "it is a shard of `upstream {other}`, which this Upstream does not run"
            ),
        }
        .into()),
    }?;
    said.err.push_str(&format!(
        "Merged {} shards of `upstream {command}`: {:.1} s of simulation in all, the longest shard {:.1} s.\n",
        parts.shards, parts.seconds, parts.longest_seconds
    ));
    Ok(said)
}

#[cfg(feature = "report")]
fn merge_as<E: Experiment>(
    settings: serde_json::Value,
    first: &Path,
    how: &How,
    source: &mut Source,
    watch: &dyn Watch,
) -> Result<Said, Error> {
    let settings: E::Settings =
        serde_json::from_value(settings).map_err(|e| ShardError::Damaged {
            file: first.to_path_buf(),
            reason: format!("its `upstream {}` settings do not read: {e}", E::NAME),
        })?;
    run_in::<E>(settings, how, source, watch)
}

/// What every experiment does: plans, shows its notes, checks memory,
/// claims its folder (unless a shard, whose part goes in a folder every
/// shard shares), runs, and writes its files.
fn run_in<E: Experiment>(
    settings: E::Settings,
    how: &How,
    source: &mut Source,
    watch: &dyn Watch,
) -> Result<Said, Error> {
    let experiment = E::plan(settings, how, source)?;
    for line in experiment.notes() {
        watch.note(&line);
    }
    experiment.check_memory(how.memory_limit)?;
    let folder = match source.runs.only() {
        Some(_) => None,
        None => Some(crate::output::claim(&how.out)?),
    };
    let started = Instant::now();
    let found = {
        let tick = watch.progress(experiment.jobs());
        experiment.run(Running {
            runs: &mut source.runs,
            tick: &*tick,
            out: &how.out,
        })?
    };
    source.runs.finish()?;
    let (Some(found), Some(folder)) = (found, folder) else {
        return Ok(Said::default());
    };
    let timing = Timing {
        seconds: started.elapsed().as_secs_f64(),
        whole: source.runs.is_whole(),
    };
    let published = experiment.files(&found, &how.out)?;
    folder.write(&published.files)?;
    if let Some(e) = published.then {
        return Err(e);
    }
    Ok(experiment.summary(&found, &published.files, &how.out, timing))
}

/// The bundled default comparison, named, when no scenario is given.
#[cfg(feature = "report")]
fn name_bundled(compared: &mut Compared) {
    if compared.scenarios.is_empty() && compared.baseline.is_none() {
        compared.scenarios = crate::app::bundled();
    }
}

/// What a comparison runs: its scenarios, seed, replicates and horizon.
#[derive(Clone, Debug, Default, Serialize, serde::Deserialize)]
pub struct Compared {
    /// Scenario files: the first is the baseline unless `baseline` is given;
    /// with none, the bundled default comparison.
    pub scenarios: Vec<PathBuf>,
    /// The baseline every other scenario is compared with.
    pub baseline: Option<PathBuf>,
    /// The master seed.
    pub seed: u64,
    /// Stochastic replicates of each comparison.
    pub replicates: u32,
    /// The horizon in years, overriding every scenario's own.
    pub years: Option<u32>,
}

impl Compared {
    /// The request for these scenarios, run on `threads`.
    pub fn request(&self, threads: Option<usize>) -> crate::app::Request {
        crate::app::Request {
            scenarios: self
                .baseline
                .iter()
                .chain(&self.scenarios)
                .cloned()
                .collect(),
            replicates: self.replicates,
            seed: self.seed,
            threads,
            years: self.years,
            ..Default::default()
        }
    }

    /// The plan every comparison experiment makes before it runs: its
    /// scenarios read through `source` (a baseline and at least one
    /// scenario).
    #[cfg(feature = "report")]
    fn plan(
        &self,
        name: &'static str,
        threads: Option<usize>,
        source: &Source,
    ) -> Result<crate::app::Plan, Error> {
        let plan = crate::app::Plan::new_through(&self.request(threads), &|p| source.read(p))?;
        if plan.scenarios().len() < 2 {
            return Err(crate::app::PlanError::NothingToCompare { experiment: name }.into());
        }
        Ok(plan)
    }
}

/// The scenarios' warnings, one line each.
#[cfg(feature = "report")]
fn warnings(plan: &crate::app::Plan) -> Vec<String> {
    plan.scenarios()
        .iter()
        .flat_map(|l| l.warnings.iter().map(|w| format!("warning: {w}")))
        .collect()
}

/// "1.23 billion resident-months in 4.5 s, 273 million a second".
#[cfg(feature = "report")]
fn rate(months: u64, seconds: f64) -> String {
    format!(
        "{:.2} billion resident-months in {:.1} s, {:.0} million a second",
        months as f64 / 1e9,
        seconds,
        months as f64 / seconds / 1e6
    )
}

/// A report or page that could not be drawn for the folder `dir`.
#[cfg(feature = "report")]
fn report_error(dir: &Path, source: crate::report::ReportError) -> Error {
    crate::app::Error::Report {
        dir: dir.to_path_buf(),
        source,
    }
    .into()
}
