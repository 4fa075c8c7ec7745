//! One error vocabulary for everything the library does on a user's behalf,
//! so an embedder can tell "bad scenario, line 12" from "not our folder"
//! from "our fault" by matching, not by reading text.
//!
//! Every message names what is wrong, where, and how to put it right; the
//! `upstream` command prints it as one line. [`Error::is_input`] splits the
//! errors the user can fix (exit code 2) from faults in Upstream (exit 1).

#[cfg(feature = "report")]
use std::path::PathBuf;

use crate::app::PlanError;
use crate::output::OutputError;
use crate::place::PlaceError;
use crate::replicates::ThreadPoolError;
#[cfg(feature = "report")]
use crate::report::ReportError;
use crate::scenario::ScenarioError;

/// Anything that stops a check, a run or a report: the union of every
/// layer's error, flattened, for the `upstream` command and embedders.
/// Nothing inside the library returns it.
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
        source: ReportError,
    },
    /// A run's results were written, but its report failed.
    #[cfg(feature = "report")]
    #[error("the results are written to {}, but the report could not be built: {source}", dir.display())]
    ReportAfterResults {
        /// The output folder, which now holds the results.
        dir: PathBuf,
        /// What stopped the report.
        source: ReportError,
    },
    /// The worker threads could not be started.
    #[error(transparent)]
    Threads(#[from] ThreadPoolError),
    /// A place that could not be set up (`upstream new-place`).
    #[error(transparent)]
    Place(#[from] PlaceError),
    /// Judgements that cannot be pooled into a scenario (`upstream elicit`).
    #[error(transparent)]
    Elicit(#[from] crate::elicit::ElicitError),
    /// A sweep asked for something it cannot run.
    #[error(transparent)]
    Sweep(#[from] crate::experiments::sweep::SweepError),
    /// A place's observed counts that cannot be used.
    #[error(transparent)]
    Observed(#[from] crate::observed::ObservedError),
    /// A run that cannot be reviewed as asked.
    #[error(transparent)]
    Review(#[from] crate::experiments::review::ReviewError),
    /// A budget that cannot be split as asked.
    #[error(transparent)]
    Optimise(#[from] crate::experiments::optimise::OptimiseError),
    /// A run over many places that cannot be set up.
    #[error(transparent)]
    Region(#[from] crate::region::RegionError),
    /// Shards that cannot be written, read or merged.
    #[error(transparent)]
    Shard(#[from] crate::shard::ShardError),
    /// An experiment's runs that could not be done or put together.
    #[error(transparent)]
    Runs(#[from] crate::replicates::RunsError),
    /// The learning simulation's server could not start.
    #[cfg(feature = "serve")]
    #[error(transparent)]
    Serve(#[from] crate::serve::ServeError),
}

impl Error {
    /// Whether the user can put this right (a scenario, an argument, a
    /// folder), rather than it being a fault in Upstream.
    pub fn is_input(&self) -> bool {
        match self {
            Error::Scenario(_) | Error::Plan(_) => true,
            #[cfg(feature = "report")]
            Error::NotAnOutputFolder(_) | Error::Report { .. } => true,
            Error::Output(e) => !matches!(e, OutputError::Workbook(_)),
            #[cfg(feature = "report")]
            Error::ReportAfterResults { .. } => false,
            Error::Threads(_) | Error::Runs(crate::replicates::RunsError::Threads(_)) => false,
            Error::Runs(_) => true,
            Error::Place(_)
            | Error::Elicit(_)
            | Error::Sweep(_)
            | Error::Observed(_)
            | Error::Review(_)
            | Error::Optimise(_)
            | Error::Shard(_)
            | Error::Region(_) => true,
            #[cfg(feature = "serve")]
            Error::Serve(_) => true,
        }
    }
}

impl From<crate::app::Error> for Error {
    fn from(e: crate::app::Error) -> Error {
        use crate::app::Error as E;
        match e {
            E::Scenario(e) => Error::Scenario(e),
            E::Plan(e) => Error::Plan(e),
            E::Output(e) => Error::Output(e),
            #[cfg(feature = "report")]
            E::NotAnOutputFolder(dir) => Error::NotAnOutputFolder(dir),
            #[cfg(feature = "report")]
            E::Report { dir, source } => Error::Report { dir, source },
            #[cfg(feature = "report")]
            E::ReportAfterResults { dir, source } => Error::ReportAfterResults { dir, source },
            E::Threads(e) => Error::Threads(e),
            E::Runs(e) => Error::Runs(e),
        }
    }
}

impl From<crate::region::Error> for Error {
    fn from(e: crate::region::Error) -> Error {
        use crate::region::Error as E;
        match e {
            E::App(e) => e.into(),
            E::Region(e) => Error::Region(e),
            E::Place(e) => Error::Place(e),
        }
    }
}

impl From<crate::shard::Error> for Error {
    fn from(e: crate::shard::Error) -> Error {
        use crate::shard::Error as E;
        match e {
            E::App(e) => e.into(),
            E::Region(e) => e.into(),
            E::Shard(e) => Error::Shard(e),
        }
    }
}

impl From<crate::experiments::Error> for Error {
    fn from(e: crate::experiments::Error) -> Error {
        use crate::experiments::Error as E;
        match e {
            E::App(e) => e.into(),
            E::Shard(e) => e.into(),
            E::Observed(e) => Error::Observed(e),
            E::Sweep(e) => Error::Sweep(e),
            E::Review(e) => Error::Review(e),
            E::Optimise(e) => Error::Optimise(e),
        }
    }
}

#[cfg(feature = "report")]
impl From<crate::run::Error> for Error {
    fn from(e: crate::run::Error) -> Error {
        use crate::run::Error as E;
        match e {
            E::App(e) => e.into(),
            E::Shard(e) => e.into(),
            E::Experiment(e) => e.into(),
        }
    }
}
