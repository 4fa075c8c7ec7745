//! `upstream sensitivity` as an [`Experiment`]: its settings, its runs
//! (one way, then the Morris screen if asked), its files and what it says.

use std::fmt::Write;
use std::path::Path;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use super::{OneWay, Screening};
use crate::app::{Outcome, Plan};
use crate::experiments::Error;
use crate::experiments::{
    Compared, Experiment, Files, How, Published, Running, Said, Source, Timing,
};
use crate::published::{MORRIS_FILE, SENSITIVITY_FILE};
use crate::replicates::RunSettings;

/// What decides a sensitivity analysis's results.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Settings {
    /// The comparison varied.
    #[serde(flatten)]
    pub compared: Compared,
    /// Parameters listed per scenario in the terminal.
    pub top: usize,
    /// Vary only the uncertain parameters whose names start with one of
    /// these; with none, every one.
    pub only: Vec<String>,
    /// Also screen by Morris's method with this many trajectories.
    pub morris: Option<u32>,
}

/// A sensitivity analysis, planned.
pub struct Sensitivity {
    settings: Settings,
    plan: Plan,
}

/// What a sensitivity analysis found.
pub struct Found {
    one_way: OneWay,
    central: Outcome,
    screen: Option<Screening>,
    one_way_seconds: f64,
}

impl Experiment for Sensitivity {
    const NAME: &'static str = "sensitivity";
    type Settings = Settings;
    type Found = Found;

    fn name_bundled(settings: &mut Settings) {
        super::super::name_bundled(&mut settings.compared);
    }

    fn plan(settings: Settings, how: &How, source: &Source) -> Result<Self, Error> {
        let plan = settings
            .compared
            .plan("upstream sensitivity", how.threads, source)?;
        Ok(Sensitivity { settings, plan })
    }

    fn notes(&self) -> Vec<String> {
        super::super::warnings(&self.plan)
    }

    fn check_memory(&self, limit: Option<u64>) -> Result<(), Error> {
        Ok(self.plan.check_memory(limit)?)
    }

    fn jobs(&self) -> u64 {
        // The central comparison and each parameter at each end, then each
        // trajectory's points; counted before widths are shared, so the bar
        // may end a little early.
        let parameters = super::selected(self.plan.scenarios(), &self.settings.only).len() as u64;
        let comparisons = 1
            + 2 * parameters
            + self
                .settings
                .morris
                .map_or(0, |t| t as u64 * (parameters + 1));
        comparisons * self.plan.scenarios().len() as u64 * self.run_settings().replicates as u64
    }

    fn run(&self, running: Running) -> Result<Option<Found>, Error> {
        let settings = self.run_settings();
        let scenarios = self.plan.scenarios().to_vec();
        let only = &self.settings.only;
        let tick = || (running.tick)(1);
        let started = Instant::now();
        let found =
            super::one_way_with_central(scenarios.clone(), settings, only, running.runs, &tick)?;
        let one_way_seconds = started.elapsed().as_secs_f64();
        let screen = match self.settings.morris {
            Some(t) => super::morris(scenarios, settings, t, only, running.runs, &tick)?,
            None => None,
        };
        Ok(found.map(|(one_way, central)| Found {
            one_way,
            central,
            screen,
            one_way_seconds,
        }))
    }

    fn files(&self, found: &Found, out: &Path) -> Result<Published, Error> {
        // The central comparison's own files, then the sensitivity's, then a
        // report built from them all, as `upstream report` would rebuild it.
        let mut files = found.central.render()?;
        files.push((
            SENSITIVITY_FILE.to_string(),
            super::publish::sensitivity_csv(&found.one_way),
        ));
        if let Some(screen) = &found.screen {
            files.push((MORRIS_FILE.to_string(), super::publish::morris_csv(screen)));
        }
        match crate::app::build_report(&files, &|_, _| {}) {
            Ok(report) => {
                files.extend(report);
                Ok(files.into())
            }
            Err(source) => Ok(Published {
                files,
                then: Some(Error::App(crate::app::Error::ReportAfterResults {
                    dir: out.to_path_buf(),
                    source,
                })),
            }),
        }
    }

    fn summary(&self, found: &Found, _: &Files, out: &Path, timing: Timing) -> Said {
        let mut said = Said {
            out: super::publish::summary(
                &found.one_way,
                found.screen.as_ref(),
                self.settings.top,
                out,
            ),
            err: String::new(),
        };
        if timing.whole {
            let replicates = self.run_settings().replicates;
            let one_way = &found.one_way;
            let _ = writeln!(
                said.err,
                "One-way: {} comparisons of {replicates} replicates, {}.",
                one_way.comparisons,
                super::super::rate(one_way.resident_months, found.one_way_seconds)
            );
            if let Some(m) = &found.screen {
                let _ = writeln!(
                    said.err,
                    "Morris screen: {} parameters × {} trajectories, {} comparisons of {replicates} replicates, {}.",
                    m.effects.first().map_or(0, |e| e.len()),
                    m.trajectories,
                    m.comparisons,
                    super::super::rate(m.resident_months, timing.seconds - found.one_way_seconds)
                );
            }
        }
        said
    }
}

impl Sensitivity {
    fn run_settings(&self) -> &RunSettings {
        self.plan.settings()
    }
}
