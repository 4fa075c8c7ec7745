//! `upstream run` and `upstream merge`, driven: a run of scenarios, a run
//! over a places table, one shard of either written as a part, and the
//! merge of parts (a run's, or an experiment's through
//! [`crate::experiments::merge`]). Each gives what the terminal shows as
//! [`Said`]; progress goes to a [`Watch`].

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::app::{self, Outcome, Plan, Request, Said, Watch};
use crate::output::OutputFolder;
use crate::replicates::Shard;
use crate::shard::{self, Finished, Merging, Work};

/// Anything that stops a run, a run over places, a shard or a merge.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The pipeline's.
    #[error(transparent)]
    App(#[from] app::Error),
    /// A shard's or a merge's (a run over places' among them).
    #[error(transparent)]
    Shard(#[from] shard::Error),
    /// An experiment's, merged from its parts.
    #[error(transparent)]
    Experiment(#[from] crate::experiments::Error),
}

app::through_app!(Error);

impl From<crate::region::Error> for Error {
    fn from(e: crate::region::Error) -> Error {
        shard::Error::from(e).into()
    }
}

impl From<shard::ShardError> for Error {
    fn from(e: shard::ShardError) -> Error {
        shard::Error::from(e).into()
    }
}

/// A run as the command asks for it.
#[derive(Clone, Debug, Default)]
pub struct Run {
    /// The scenarios and settings.
    pub request: Request,
    /// A places table, for a run over many places.
    pub places: Option<PathBuf>,
    /// The shard to run, if one.
    pub shard: Option<Shard>,
    /// The output folder (a shard's: where its part goes).
    pub out: PathBuf,
    /// Refuse a run estimated to need more memory than this.
    pub memory_limit: Option<u64>,
    /// Write no report (the data files alone).
    pub no_report: bool,
}

/// Runs `run`: whole, over places, or as one shard.
pub fn run(run: &Run, watch: &dyn Watch) -> Result<Said, Error> {
    if let Some(shard) = run.shard {
        return run_shard(run, shard, watch);
    }
    if let Some(places) = &run.places {
        return run_places(run, places, watch);
    }
    let plan = Plan::new(&run.request)?;
    for l in plan.scenarios() {
        for w in &l.warnings {
            watch.note(&format!("warning: {w}"));
        }
    }
    plan.check_memory(run.memory_limit)?;
    // Held until the files are in place: another run into the same folder
    // is refused now, not after its simulation.
    let out = crate::output::claim(&run.out)?;
    let outcome = {
        let tick = watch.progress(plan.jobs());
        plan.run(&|| tick(1))?
    };
    let mut said = write_outcome(&outcome, &out, run.no_report, watch)?;
    for w in outcome.warnings_from_results() {
        let _ = writeln!(said.err, "warning: {w}");
    }
    said.err.push_str(&simulated(
        outcome.experiment.resident_months,
        outcome.seconds,
        outcome.experiment.threads,
    ));
    said.err.push_str(&shared_burn_in(&outcome));
    Ok(said)
}

/// A run's burn-in shared between scenarios, if any was.
fn shared_burn_in(outcome: &Outcome) -> String {
    if outcome.experiment.burn_in_shared == 0 {
        return String::new();
    }
    format!(
        "Scenarios that run the same burn-in shared it: {:.2} billion resident-months of burn-in not simulated again.\n",
        outcome.experiment.burn_in_shared as f64 / 1e9
    )
}

/// Writes a run's files (and the report, unless `no_report`) to `out`;
/// says its table and what was written.
fn write_outcome(
    outcome: &Outcome,
    out: &OutputFolder,
    no_report: bool,
    watch: &dyn Watch,
) -> Result<Said, Error> {
    let written = if no_report {
        outcome.write(out)?
    } else {
        let drawn = watch.drawing();
        outcome.write_with_report(out, &*drawn)?
    };
    let dir = crate::published::CHARTS_DIR;
    let mut shown: Vec<String> = written
        .into_iter()
        .filter(|n| !n.starts_with(dir))
        .collect();
    if !no_report {
        shown.push(format!("{dir}/"));
    }
    Ok(Said {
        out: format!(
            "{}Wrote {} to {}\n",
            outcome.table(),
            shown.join(", "),
            out.path().display()
        ),
        err: String::new(),
    })
}

/// Warnings, one note each: the first ten of a run over many places, and
/// how many more.
fn note_all(warnings: &[String], watch: &dyn Watch) {
    for w in warnings.iter().take(10) {
        watch.note(&format!("warning: {w}"));
    }
    if warnings.len() > 10 {
        watch.note(&format!("warning: and {} more", warnings.len() - 10));
    }
}

/// Every scenario in every place of a places table.
fn run_places(run: &Run, places: &Path, watch: &dyn Watch) -> Result<Said, Error> {
    let work = Work::new_through(&run.request, Some(places), &crate::input::read)?;
    note_all(&work.warnings(), watch);
    work.check_memory(run.memory_limit, 1)?;
    let Work::Region(region) = work else {
        unreachable!("a places table gives a region")
    };
    let out = crate::output::claim(&run.out)?;
    let (places_count, residents) = (region.places.len(), region.residents());
    let memory = region.memory(region.places[0].plan.threads(), 1).total();
    let outcome = {
        let tick = watch.progress(region.jobs());
        region.run(&|| tick(1))?
    };
    let written = out.write(&outcome.render())?;
    let mut said = Said {
        out: format!(
            "{}Wrote {} to {}\n",
            outcome.table(),
            written.join(", "),
            run.out.display()
        ),
        err: simulated(
            outcome.resident_months(),
            outcome.seconds,
            outcome.threads(),
        ),
    };
    let _ = writeln!(
        said.err,
        "{places_count} places, {} residents; memory estimated at {} ({} bytes of state a resident).",
        crate::format::count(residents as f64),
        crate::format::size(memory),
        crate::replicates::MemoryEstimate::PER_RESIDENT
    );
    Ok(said)
}

/// How much was simulated, how fast, on how many threads.
fn simulated(resident_months: u64, seconds: f64, threads: usize) -> String {
    format!(
        "Simulated {:.2} billion resident-months in {seconds:.1} s on {threads} {}: {:.0} million resident-months a second.\n",
        resident_months as f64 / 1e9,
        if threads == 1 { "thread" } else { "threads" },
        resident_months as f64 / seconds / 1e6
    )
}

/// One shard of a run: its replicates, written as a part for `upstream
/// merge`.
fn run_shard(run: &Run, shard: Shard, watch: &dyn Watch) -> Result<Said, Error> {
    let (work, key) = shard::plan_keeping_inputs(&run.request, run.places.as_deref())?;
    note_all(&work.warnings(), watch);
    work.check_memory(run.memory_limit, shard.count())?;
    let started = Instant::now();
    let results = {
        let tick = watch.progress(work.jobs().div_ceil(shard.count() as u64));
        work.run_shard(shard, &|| tick(1))?
    };
    let seconds = started.elapsed().as_secs_f64();
    let runs = results.replicates();
    let path = shard::write_part(&run.out, &key, shard, seconds, &results)?;
    Ok(Said {
        out: format!(
            "Wrote shard {} of {} ({runs} runs of a scenario's replicate, {seconds:.1} s) to {}; when every shard is done, `upstream merge {}` puts them together.\n",
            shard.index(),
            shard.count(),
            path.display(),
            run.out.display()
        ),
        err: String::new(),
    })
}

/// Puts the parts in `parts` (files, or folders holding them) together
/// into `out`: a run's, or an experiment's.
pub fn merge(
    parts: &[PathBuf],
    out: &Path,
    no_report: bool,
    watch: &dyn Watch,
) -> Result<Said, Error> {
    let merged = match shard::merge(parts)? {
        Merging::Run(merged) => merged,
        Merging::Experiment(experiment) => {
            let first = parts.first().map_or(Path::new(""), PathBuf::as_path);
            return Ok(crate::experiments::merge(experiment, first, out, watch)?);
        }
    };
    let folder = crate::output::claim(out)?;
    let mut said = match &merged.outcome {
        Finished::Plan(outcome) => write_outcome(outcome, &folder, no_report, watch)?,
        Finished::Region(region) => {
            let written = folder.write(&region.render())?;
            Said {
                out: format!(
                    "{}Wrote {} to {}\n",
                    region.table(),
                    written.join(", "),
                    out.display()
                ),
                err: String::new(),
            }
        }
    };
    let _ = writeln!(
        said.err,
        "Merged {} shards: {:.2} billion resident-months, {:.1} s of simulation in all, the longest shard {:.1} s.",
        merged.shards,
        merged.outcome.resident_months() as f64 / 1e9,
        merged.outcome.seconds(),
        merged.longest_seconds
    );
    if let Finished::Plan(outcome) = &merged.outcome {
        said.err.push_str(&shared_burn_in(outcome));
    }
    Ok(said)
}
