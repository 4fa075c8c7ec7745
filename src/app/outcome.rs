//! A finished run: its figures rendered, written, tabled and reported.

#[cfg(feature = "report")]
use std::path::Path;

use super::{Error, Plan};
use crate::economics::Economics;
use crate::output::{self, OutputFolder, RunInfo};
use crate::replicates::Experiment;
#[cfg(feature = "report")]
use crate::report;
use crate::scenario;

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
    pub(super) warned_before: Vec<usize>,
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
            present: self
                .plan
                .draws
                .as_ref()
                .map(|d| (&d.stated, d.held.as_slice())),
            scaled: self.plan.scaled_run(),
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
            self.plan.scaled_run(),
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
