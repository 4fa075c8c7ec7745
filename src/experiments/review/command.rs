//! `upstream review` as an [`Experiment`]: its settings, its runs (the
//! projection made again, and each assumption moved), its files and what it
//! says. A review reads an earlier run's folder where it is, so it is not
//! sharded.

use std::fmt::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{Reviewed, RunToReview, Side};
use crate::experiments::Error;
use crate::experiments::{Experiment, Files, How, Published, Running, Said, Source, Timing};
use crate::observed::Observed;
use crate::published::{LEVERS_FILE, REVIEW_FILE};
use crate::scenario::Loaded;

/// What decides a review's results.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Settings {
    /// The earlier run's output folder.
    pub run: PathBuf,
    /// The counts observed since.
    pub observed: PathBuf,
    /// The scenario the place carried out (needed when the run has several).
    pub scenario: Option<String>,
    /// Assumptions listed in the terminal, the most gap closed first.
    pub top: usize,
}

/// A review, planned.
pub struct Review {
    settings: Settings,
    run: RunToReview,
    scenario: Loaded,
    read: Observed,
    threads: Option<usize>,
}

impl Experiment for Review {
    const NAME: &'static str = "review";
    type Settings = Settings;
    type Found = Reviewed;

    fn plan(settings: Settings, how: &How, _: &Source) -> Result<Self, Error> {
        let run = super::open(&settings.run, settings.scenario.as_deref())?;
        let read = crate::observed::read(&settings.observed, &run.scenario)?;
        // No further than the last count observed.
        let scenario = run.first_years(crate::experiments::calibrate::years_needed(&read))?;
        let read = crate::observed::read(&settings.observed, &scenario)?;
        Ok(Review {
            settings,
            run,
            scenario,
            read,
            threads: how.threads,
        })
    }

    fn notes(&self) -> Vec<String> {
        Vec::new()
    }

    fn check_memory(&self, _: Option<u64>) -> Result<(), Error> {
        Ok(())
    }

    fn jobs(&self) -> u64 {
        let s = &self.run.summary.settings;
        (1 + 2 * self.parameters() + u64::from(s.parameters_drawn > 0) * 2) * s.replicates as u64
    }

    fn run(&self, running: Running) -> Result<Option<Reviewed>, Error> {
        let found = super::review(&self.run, &self.scenario, &self.read, self.threads, &|| {
            (running.tick)(1)
        })?;
        Ok(Some(found))
    }

    fn files(&self, found: &Reviewed, out: &Path) -> Result<Published, Error> {
        let mut files = vec![
            (REVIEW_FILE.to_string(), super::publish::review_csv(found)),
            (LEVERS_FILE.to_string(), super::publish::levers_csv(found)),
        ];
        let run = crate::observed::file_name(&self.settings.run);
        files.extend(
            super::page::page(found, &run)
                .map_err(|source| super::super::report_error(out, source))?,
        );
        Ok(files.into())
    }

    fn summary(&self, found: &Reviewed, files: &Files, out: &Path, timing: Timing) -> Said {
        let mut said = Said::default();
        let o = &mut said.out;
        let outside = found.rows.iter().filter(|r| r.side != Side::Inside).count();
        let _ = writeln!(o, "{}", found.summary());
        for d in found.departure_sentences() {
            let _ = writeln!(o, "  {d}");
        }
        if outside > 0 {
            let _ = writeln!(
                o,
                "Assumptions that would close the gap (each alone, every other at its value):"
            );
            let closing = found.levers.iter().filter(|l| l.closes > 0.0);
            for l in closing.take(self.settings.top) {
                let _ = writeln!(o, "  {}", l.reading());
            }
            if found.levers.iter().all(|l| l.closes <= 0.0) {
                let _ = writeln!(
                    o,
                    "  none: no uncertain parameter at either end of its range brings the projection nearer the counts"
                );
            }
        }
        // The charts, each as SVG and PNG, beside the two CSVs and the page.
        let charts = files.len().saturating_sub(3) / 2;
        let _ = writeln!(
            o,
            "Wrote {REVIEW_FILE}, {LEVERS_FILE} and {charts} chart{} to {}",
            if charts == 1 { "" } else { "s" },
            out.display()
        );
        let _ = writeln!(
            said.err,
            "Made the projection again and moved {} assumptions: {:.2} billion resident-months in {:.1} s.",
            self.parameters(),
            found.resident_months as f64 / 1e9,
            timing.seconds
        );
        said
    }
}

impl Review {
    fn parameters(&self) -> u64 {
        self.scenario.uncertainty.parameters.len() as u64
    }
}
