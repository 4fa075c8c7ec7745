//! `upstream optimise` as an [`Experiment`]: its settings, its runs (every
//! split of the budget at each share of it), its files and what it says.

use std::fmt::Write;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::{Objective, Optimised, Share};
use crate::app::Plan;
use crate::experiments::Error;
use crate::experiments::{
    Compared, Experiment, Files, How, Published, Running, Said, Source, Timing,
};
use crate::published::{FRONTIER_FILE, SPLITS_FILE};

/// What decides an optimisation's results.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Settings {
    /// The baseline, then the scenario whose `[optimise]` table states the
    /// budget to split; with none, the bundled prevention portfolio.
    #[serde(flatten)]
    pub compared: Compared,
    /// What the best split maximises.
    pub objective: Objective,
    /// Draw each replicate's own values of the uncertain parameters,
    /// shared by every split.
    pub uncertainty: bool,
}

/// An optimisation, planned.
pub struct Optimise {
    settings: Settings,
    plan: Plan,
    shares: Vec<Share>,
    memory_limit: Option<u64>,
}

/// With no scenarios, the bundled prevention portfolio against the bundled
/// baseline, named.
fn name_portfolio(compared: &mut Compared) {
    if compared.scenarios.is_empty() && compared.baseline.is_none() {
        let dir = crate::app::bundled_dir();
        compared.scenarios = vec![
            dir.join("baseline.toml"),
            dir.join("prevention_portfolio.toml"),
        ];
    }
}

impl Experiment for Optimise {
    const NAME: &'static str = "optimise";
    type Settings = Settings;
    type Found = Optimised;

    fn name_bundled(settings: &mut Settings) {
        name_portfolio(&mut settings.compared);
    }

    fn plan(mut settings: Settings, how: &How, source: &Source) -> Result<Self, Error> {
        name_portfolio(&mut settings.compared);
        let plan = settings
            .compared
            .plan("upstream optimise", how.threads, source)?;
        let shares = super::plan(plan.scenarios())?;
        Ok(Optimise {
            settings,
            plan,
            shares,
            memory_limit: how.memory_limit,
        })
    }

    fn notes(&self) -> Vec<String> {
        let mut notes = super::super::warnings(&self.plan);
        notes.push(format!(
            "{} splits of the budget at {} shares of it, {} replicates each",
            self.splits(),
            self.shares.len(),
            self.plan.settings().replicates
        ));
        notes
    }

    fn check_memory(&self, limit: Option<u64>) -> Result<(), Error> {
        Ok(self.plan.check_memory(limit)?)
    }

    fn jobs(&self) -> u64 {
        let splits = self.splits();
        // Each batch runs the baseline again; with uncertainty, twice.
        let batches = (splits + 1).div_ceil(super::BATCH);
        let runs = (splits + 1 + batches) as u64 * if self.settings.uncertainty { 2 } else { 1 };
        runs * self.plan.settings().replicates as u64
    }

    fn run(&self, running: Running) -> Result<Option<Optimised>, Error> {
        super::optimise(
            self.plan.scenarios(),
            self.plan.settings(),
            self.settings.objective,
            self.settings.uncertainty,
            self.memory_limit,
            running.runs,
            &|| (running.tick)(1),
        )
    }

    fn files(&self, found: &Optimised, out: &Path) -> Result<Published, Error> {
        let mut files = vec![
            (SPLITS_FILE.to_string(), super::publish::splits_csv(found)),
            (
                FRONTIER_FILE.to_string(),
                super::publish::frontier_csv(found),
            ),
        ];
        files.extend(
            super::page::page(found).map_err(|source| super::super::report_error(out, source))?,
        );
        Ok(files.into())
    }

    fn summary(&self, found: &Optimised, files: &Files, out: &Path, timing: Timing) -> Said {
        use crate::format::{count, money};
        let mut said = Said::default();
        let o = &mut said.out;
        let no_bands = crate::published::no_bands(self.plan.settings().replicates);
        let band = |b: &crate::metrics::Band, f: fn(f64) -> String| match no_bands {
            Some(_) => f(b.mean),
            None => format!("{} ({} to {})", f(b.mean), f(b.p5), f(b.p95)),
        };
        let _ = writeln!(
            o,
            "The best split by {} at each budget (mean across replicates, 5th to 95th percentile):",
            found.objective.name()
        );
        for &i in &found.best {
            let s = &found.splits[i];
            let _ = writeln!(
                o,
                "  {} a year: {}\n    net present value {}; crisis-months avoided {}",
                money(s.share * found.budget.budget),
                found.describe(s),
                band(&s.figures.npv, money),
                band(&s.figures.crisis_months_avoided, count),
            );
        }
        let _ = writeln!(
            o,
            "  As the scenario states it ({}): net present value {}; crisis-months avoided {}",
            found.stated_name,
            band(&found.stated.npv, money),
            band(&found.stated.crisis_months_avoided, count),
        );
        let _ = writeln!(o, "  {}", found.stated_sentence());
        let _ = writeln!(o, "{}", found.stability());
        if let Some(why) = no_bands {
            let _ = writeln!(o, "{why}");
        }
        let _ = writeln!(
            o,
            "Wrote {} files to {} ({:.1} billion resident-months in {:.0} s, {:.0} million a second).",
            files.len(),
            out.display(),
            found.resident_months as f64 / 1e9,
            timing.seconds,
            found.resident_months as f64 / timing.seconds / 1e6
        );
        said
    }
}

impl Optimise {
    fn splits(&self) -> usize {
        self.shares.iter().map(|(_, s)| s.len()).sum()
    }
}
