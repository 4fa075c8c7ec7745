//! `upstream break-even` as an [`Experiment`]: its settings, its runs (each
//! lever along its grid), its files and what it says.

use std::fmt::Write;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::BreakEvens;
use crate::app::Plan;
use crate::experiments::Error;
use crate::experiments::{
    Compared, Experiment, Files, How, Published, Running, Said, Source, Timing,
};
use crate::published::BREAK_EVEN_FILE;

/// What decides a break-even's results.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Settings {
    /// The comparison whose levers move.
    #[serde(flatten)]
    pub compared: Compared,
    /// Each replicate draws the other uncertain parameters, shared by every
    /// grid point and the baseline, so the band covers them too.
    #[serde(default)]
    pub uncertainty: bool,
}

/// A break-even, planned.
pub struct BreakEven {
    plan: Plan,
}

impl BreakEven {
    /// The uncertain parameters each replicate draws: none unless drawn.
    fn parameters_drawn(&self) -> usize {
        if self.plan.draws().is_none() {
            return 0;
        }
        crate::scenario::parameters_drawn(self.plan.scenarios()).len()
    }
}

impl Experiment for BreakEven {
    const NAME: &'static str = "break-even";
    type Settings = Settings;
    type Found = BreakEvens;

    fn name_bundled(settings: &mut Settings) {
        super::super::name_bundled(&mut settings.compared);
    }

    fn plan(settings: Settings, how: &How, source: &Source) -> Result<Self, Error> {
        let mut plan = settings
            .compared
            .plan("upstream break-even", how.threads, source)?;
        if settings.uncertainty {
            plan = plan.with_uncertainty()?;
        }
        Ok(BreakEven { plan })
    }

    fn notes(&self) -> Vec<String> {
        super::super::warnings(&self.plan)
    }

    fn check_memory(&self, limit: Option<u64>) -> Result<(), Error> {
        Ok(self.plan.check_memory(limit)?)
    }

    fn jobs(&self) -> u64 {
        let levers = super::levers_of(self.plan.scenarios()) as u64;
        levers * (1 + super::GRID_POINTS as u64) * self.plan.settings().replicates as u64
    }

    fn run(&self, running: Running) -> Result<Option<BreakEvens>, Error> {
        let settings = self.plan.settings();
        let drawn = self.plan.draws().map(|d| super::Drawn {
            baseline: (0..settings.replicates)
                .map(|r| self.plan.config_at(0, r, true))
                .collect(),
            held: &d.held,
        });
        super::break_even(
            self.plan.scenarios(),
            settings,
            drawn.as_ref(),
            running.runs,
            &|| (running.tick)(1),
        )
    }

    fn files(&self, found: &BreakEvens, _: &Path) -> Result<Published, Error> {
        let settings = self.plan.settings();
        let mut files = vec![(
            BREAK_EVEN_FILE.to_string(),
            super::publish::break_even_csv(found),
        )];
        files.extend(super::page::page(
            found,
            settings.replicates,
            settings.seed,
            self.parameters_drawn(),
        ));
        Ok(files.into())
    }

    fn summary(&self, found: &BreakEvens, _: &Files, out: &Path, timing: Timing) -> Said {
        let settings = self.plan.settings();
        let mut said = Said::default();
        let o = &mut said.out;
        for s in &found.scenarios[1..] {
            let _ = writeln!(o, "{s}:");
            let mut levers = found.levers.iter().filter(|l| &l.scenario == s).peekable();
            if levers.peek().is_none() {
                let _ = writeln!(
                    o,
                    "  no lever to move: it changes no caseload intervention with an engagement or an effect"
                );
            }
            for l in levers {
                let _ = writeln!(o, "  {}", l.reading());
            }
        }
        if let Some(why) = crate::published::no_bands(settings.replicates) {
            let _ = writeln!(o, "{why}");
        }
        // What the replicates cover, with or without bands.
        if self.parameters_drawn() > 0
            || settings.replicates >= crate::aggregate::MIN_REPLICATES_FOR_RANGES
        {
            let _ = writeln!(o, "{}", super::bands_cover(self.parameters_drawn()));
        }
        let _ = writeln!(
            o,
            "Wrote {BREAK_EVEN_FILE} and report.html to {}",
            out.display()
        );
        if timing.whole {
            let levers = super::levers_of(self.plan.scenarios());
            let _ = writeln!(
                said.err,
                "Ran {levers} levers at {} points of {} replicates: {:.2} billion resident-months in {:.1} s, {:.0} million resident-months a second.",
                super::GRID_POINTS,
                settings.replicates,
                found.resident_months as f64 / 1e9,
                timing.seconds,
                found.resident_months as f64 / timing.seconds / 1e6
            );
        }
        said
    }
}
