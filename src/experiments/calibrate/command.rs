//! `upstream calibrate` as an [`Experiment`]: its settings, its runs (each
//! candidate drawn from the parameters' ranges, each batch on its own luck), its
//! files (the calibrated scenario among them) and what it says.

use std::fmt::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{Calibration, CalibrationSettings};
use crate::app::Plan;
use crate::experiments::Error;
use crate::experiments::{Experiment, Files, How, Published, Running, Said, Source, Timing};
use crate::observed::Observed;
use crate::published::{CALIBRATED_FILE, CALIBRATION_FILE, CANDIDATES_FILE, FIT_FILE};
use crate::replicates::RunSettings;
use crate::scenario::Loaded;

/// What decides a calibration's results.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Settings {
    /// The scenario to calibrate: the place's baseline.
    pub scenario: PathBuf,
    /// The place's observed counts.
    pub observed: PathBuf,
    /// Candidate parameter sets drawn from the ranges.
    pub candidates: u32,
    /// The closest candidates kept as the posterior.
    pub accept: u32,
    /// Fit only the uncertain parameters whose names start with one of
    /// these; with none, every one.
    pub fit: Vec<String>,
    /// Stochastic replicates of each candidate.
    pub replicates: u32,
    /// The master seed.
    pub seed: u64,
    /// Generations of `candidates` each: 1 (or 0) is rejection, more is
    /// sequential (ABC-PMC).
    #[serde(default)]
    pub generations: u32,
}

/// A calibration, planned: the scenario as stated, and as run (no further
/// than the last count observed).
pub struct Calibrate {
    settings: Settings,
    full: Loaded,
    scenario: Loaded,
    read: Observed,
    plan: Plan,
    years: u32,
}

impl Experiment for Calibrate {
    const NAME: &'static str = "calibrate";
    type Settings = Settings;
    type Found = Calibration;

    fn plan(settings: Settings, how: &How, source: &Source) -> Result<Self, Error> {
        use crate::app::load_through;
        use crate::observed::read_through;
        let run = RunSettings {
            replicates: settings.replicates,
            seed: settings.seed,
            threads: how.threads,
        };
        let read_file = |p: &Path| source.read(p);
        let full = load_through(&settings.scenario, &Default::default(), &read_file)?;
        let read = read_through(&settings.observed, &full, &read_file)?;
        // No further than the last count observed: the rest of the horizon
        // would cost time and tell the fit nothing.
        let years = super::years_needed(&read);
        let (scenario, read) = if (years * 12) < full.config.months {
            let overrides = crate::scenario::Overrides {
                horizon_years: Some(years),
            };
            let short = load_through(&settings.scenario, &overrides, &read_file)?;
            let read = read_through(&settings.observed, &short, &read_file)?;
            (short, read)
        } else {
            (full.clone(), read)
        };
        let plan = Plan::of(vec![scenario.clone()], run)?;
        Ok(Calibrate {
            settings,
            full,
            scenario,
            read,
            plan,
            years,
        })
    }

    fn notes(&self) -> Vec<String> {
        self.full
            .warnings
            .iter()
            .map(|w| format!("warning: {w}"))
            .collect()
    }

    fn check_memory(&self, limit: Option<u64>) -> Result<(), Error> {
        Ok(self.plan.check_memory(limit)?)
    }

    fn jobs(&self) -> u64 {
        let generations = self.settings.generations.max(1) as u64;
        (self.settings.candidates as u64 * generations + 1) * self.settings.replicates as u64
    }

    fn run(&self, running: Running) -> Result<Option<Calibration>, Error> {
        let calibration = CalibrationSettings {
            candidates: self.settings.candidates,
            accept: self.settings.accept,
            only: self.settings.fit.clone(),
            generations: self.settings.generations,
        };
        super::calibrate(
            &self.scenario,
            &self.read,
            self.plan.settings(),
            &calibration,
            running.runs,
            &|| (running.tick)(1),
        )
    }

    fn files(&self, found: &Calibration, out: &Path) -> Result<Published, Error> {
        let text = super::calibrated_scenario(found, &self.full, out)?;
        let mut files = vec![
            (CALIBRATED_FILE.to_string(), text.into_bytes()),
            (
                CALIBRATION_FILE.to_string(),
                super::publish::calibration_csv(found),
            ),
            (
                CANDIDATES_FILE.to_string(),
                super::publish::candidates_csv(found),
            ),
            (FIT_FILE.to_string(), super::publish::fit_csv(found)),
        ];
        files.extend(
            super::page::page(found, self.simulated(), &found.moved_together(&self.full).1)
                .map_err(|source| super::super::report_error(out, source))?,
        );
        Ok(files.into())
    }

    fn summary(&self, found: &Calibration, files: &Files, out: &Path, timing: Timing) -> Said {
        let mut said = Said::default();
        let o = &mut said.out;
        let _ = writeln!(o, "{}", found.summary(self.simulated()));
        if let Some(w) = found.far_from_the_counts() {
            let _ = writeln!(said.err, "warning: {w}");
        }
        let (coverage, outside) = found.coverage();
        let _ = writeln!(o, "{coverage}");
        if let Some(w) = outside {
            let _ = writeln!(said.err, "warning: {w}");
        }
        for w in found.piled_against_an_edge() {
            let _ = writeln!(said.err, "warning: {w}");
        }
        let (sentences, informed) = found.findings();
        if !informed.is_empty() {
            let _ = writeln!(
                o,
                "Informed by the counts (stated value and range → posterior median and 5th to 95th percentiles; share of the prior's 90% range kept):"
            );
        }
        let width = informed
            .iter()
            .map(|r| r[0].chars().count())
            .max()
            .unwrap_or(0);
        for [name, stated, posterior, kept] in &informed {
            let _ = writeln!(o, "  {name:<width$}  {stated}  →  {posterior}, {kept} kept");
        }
        for s in &sentences {
            let _ = writeln!(o, "{s}");
        }
        let (_, together) = found.moved_together(&self.full);
        if !together.is_empty() {
            let _ = writeln!(o, "{together}");
        }
        let charts = files.iter().filter(|(n, _)| n.ends_with(".svg")).count();
        let _ = writeln!(
            o,
            "Wrote {CALIBRATED_FILE}, {CALIBRATION_FILE}, {CANDIDATES_FILE}, {FIT_FILE}, report.html and {charts} fit chart{} to {}; run the calibrated scenario with `upstream run {} --uncertainty`.",
            if charts == 1 { "" } else { "s" },
            out.display(),
            out.join(CALIBRATED_FILE).display()
        );
        if timing.whole {
            let _ = writeln!(
                said.err,
                "Ran {} candidates and the scenario as stated, {} replicates each: {:.2} billion resident-months in {:.1} s, {:.0} million resident-months a second.",
                found.candidates.len(),
                self.settings.replicates,
                found.resident_months as f64 / 1e9,
                timing.seconds,
                found.resident_months as f64 / timing.seconds / 1e6
            );
        }
        said
    }
}

impl Calibrate {
    /// The years simulated.
    fn simulated(&self) -> u32 {
        self.years.min(self.full.config.months / 12)
    }
}
