//! `upstream sweep` as an [`Experiment`]: its settings, its runs (the
//! comparison at each point of the grid, each point kept as it is done so
//! an interrupted sweep resumes), its files and what it says.

use std::fmt::Write;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::{Axis, Point, Swept};
use crate::app::Plan;
use crate::experiments::Error;
use crate::experiments::{
    Compared, Experiment, Files, How, Published, Running, Said, Source, Timing,
};
use crate::published::{SWEEP_FILE, SWEEP_RUNS_DIR};

/// What decides a sweep's results.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Settings {
    /// The comparison run at each point.
    #[serde(flatten)]
    pub compared: Compared,
    /// The numbers varied, as `NAME=FROM:TO:POINTS`: once or twice.
    pub vary: Vec<String>,
}

/// A sweep, planned.
pub struct Sweep {
    plan: Plan,
    axes: Vec<Axis>,
}

impl Experiment for Sweep {
    const NAME: &'static str = "sweep";
    type Settings = Settings;
    type Found = Swept;

    fn name_bundled(settings: &mut Settings) {
        super::super::name_bundled(&mut settings.compared);
    }

    fn plan(settings: Settings, how: &How, source: &Source) -> Result<Self, Error> {
        let axes = settings
            .vary
            .iter()
            .map(|t| Axis::parse(t))
            .collect::<Result<Vec<_>, _>>()?;
        let plan = settings
            .compared
            .plan("upstream sweep", how.threads, source)?;
        super::check(plan.scenarios(), &axes)?;
        Ok(Sweep { plan, axes })
    }

    fn notes(&self) -> Vec<String> {
        super::super::warnings(&self.plan)
    }

    fn check_memory(&self, limit: Option<u64>) -> Result<(), Error> {
        Ok(self.plan.check_memory(limit)?)
    }

    fn jobs(&self) -> u64 {
        self.points() * self.per_point()
    }

    fn run(&self, running: Running) -> Result<Option<Swept>, Error> {
        let kept = running.out.join(SWEEP_RUNS_DIR);
        // A shard's or a merge's runs are numbered from the sweep's first
        // point, so none is skipped.
        let resumable = running.runs.is_whole();
        // A point kept by an interrupted sweep into this folder, if its file
        // holds the point of that id.
        let known = |id: &str| -> Option<Point> {
            if !resumable {
                return None;
            }
            let bytes = crate::input::read_bytes(
                &kept.join(format!("{id}.json")),
                crate::input::MAX_INPUT_BYTES,
            )
            .ok()?;
            let p: Point = serde_json::from_slice(&bytes).ok()?;
            // Counted as done for the progress bar.
            (p.id == id).then(|| {
                (running.tick)(self.per_point());
                p
            })
        };
        let mut keep = |p: &Point| -> Result<(), Error> {
            crate::output::keep_file(
                &kept,
                &format!("{}.json", p.id),
                &serde_json::to_vec_pretty(p).expect("a point serialises"),
            )?;
            Ok(())
        };
        super::sweep(
            self.plan.scenarios(),
            self.plan.settings(),
            &self.axes,
            &known,
            &mut keep,
            running.runs,
            &|| (running.tick)(1),
        )
    }

    fn files(&self, found: &Swept, out: &Path) -> Result<Published, Error> {
        let settings = self.plan.settings();
        let mut files = vec![(SWEEP_FILE.to_string(), super::publish::sweep_csv(found))];
        for p in &found.points {
            files.push((
                format!("{SWEEP_RUNS_DIR}/{}.json", p.id),
                serde_json::to_vec_pretty(p).expect("a point serialises"),
            ));
        }
        files.extend(
            super::page::page(found, settings.replicates, settings.seed)
                .map_err(|source| super::super::report_error(out, source))?,
        );
        Ok(files.into())
    }

    fn summary(&self, found: &Swept, _: &Files, out: &Path, timing: Timing) -> Said {
        use crate::format::money;
        let settings = self.plan.settings();
        let mut said = Said::default();
        let o = &mut said.out;
        let no_bands = crate::published::no_bands(settings.replicates);
        for (s, name) in found.scenarios.iter().enumerate().skip(1) {
            let _ = writeln!(
                o,
                "{name}: net present value (mean across replicates) at each point:"
            );
            let at: Vec<String> = found
                .points
                .iter()
                .map(|p| {
                    let each: Vec<String> = found
                        .axes
                        .iter()
                        .zip(&p.values)
                        .map(|(a, v)| format!("{} = {}", a.parameter, a.label(*v)))
                        .collect();
                    each.join(", ")
                })
                .collect();
            let width = at.iter().map(|a| a.chars().count()).max().unwrap_or(0);
            for (p, at) in found.points.iter().zip(&at) {
                let f = &p.scenarios[s - 1];
                let band = match no_bands {
                    Some(_) => String::new(),
                    None => format!("  ({} to {})", money(f.npv.p5), money(f.npv.p95)),
                };
                let _ = writeln!(o, "  {at:<width$} {:>10}{band}", money(f.npv.mean));
            }
        }
        if let Some(why) = &no_bands {
            let _ = writeln!(o, "{why}");
        }
        let _ = writeln!(
            o,
            "Wrote {SWEEP_FILE} and {} to {}",
            if found.axes.len() == 1 {
                "bar charts of net present value and crisis-months avoided"
            } else {
                "a heat map of net present value per scenario"
            },
            out.display()
        );
        if timing.whole {
            let _ = writeln!(
                said.err,
                "{} points ({} run now, {} kept from an earlier run), {} replicates each: {:.2} billion resident-months in {:.1} s.",
                found.points.len(),
                found.run,
                found.points.len() - found.run,
                settings.replicates,
                found.resident_months as f64 / 1e9,
                timing.seconds
            );
        }
        said
    }
}

impl Sweep {
    fn points(&self) -> u64 {
        self.axes.iter().map(|a| a.values.len() as u64).product()
    }

    /// Runs at each point: every scenario's replicates.
    fn per_point(&self) -> u64 {
        self.plan.scenarios().len() as u64 * self.plan.settings().replicates as u64
    }
}
