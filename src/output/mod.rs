//! Output files and the terminal table. The engine and aggregation produce
//! numbers; this layer alone decides how they look.

mod atomic;
pub(crate) mod cells;
#[cfg(feature = "xlsx")]
pub mod finance;
#[cfg(feature = "xlsx")]
pub mod live;
pub(crate) mod table;
#[cfg(feature = "xlsx")]
mod workbook;

use std::path::{Path, PathBuf};

use crate::aggregate::{self, MonthRow};
use crate::economics::Economics;
use crate::metrics::{Band, NeighbourhoodMetric};
use crate::model::Config;
use crate::present::{FirstYear, Held};
use crate::published::{
    CHARTS_DIR, DATA_FILES, EconomicsFile, FileRef, REPORT_FILE, ScenarioSummary, ServiceKind,
    ServiceRef, Settings, SummaryFile, Warning,
};
use crate::replicates::{Experiment, RunSettings};
use crate::scenario::{Assumption, Loaded};

pub use atomic::OutputError;
pub use cells::to_the_penny;
use cells::{Cell, band_cells, csv_bytes, number, pounds, pounds_cells, text, whole};

/// Everything about a run needed to describe and reproduce it.
pub struct RunInfo<'a> {
    /// The appraisals and budgets of the run.
    pub economics: &'a Economics,
    /// The scenarios as loaded, the baseline first.
    pub scenarios: &'a [Loaded],
    /// Replicates, seed and threads asked for.
    pub settings: &'a RunSettings,
    /// Resident-months simulated in all, burn-in included: a shared burn-in
    /// counted once.
    pub resident_months: u64,
    /// Burn-in resident-months shared between scenarios, not simulated
    /// again.
    pub burn_in_shared: u64,
    /// Each replicate's draws of the uncertain parameters, if the run drew
    /// them: `[scenario][replicate][parameter]`, element by element.
    pub draws: Option<&'a [Vec<Vec<Vec<f64>>>]>,
    /// The stated baseline's first year and the factors that held each
    /// replicate's draw at it, if the run drew parameters.
    pub present: Option<(&'a FirstYear, &'a [Held])>,
    /// How the place was scaled, if it was.
    pub scaled: Option<crate::published::ScaledRun>,
}

impl RunInfo<'_> {
    /// Uncertain parameters drawn across the scenarios, each name once.
    pub fn parameters_drawn(&self) -> usize {
        if self.draws.is_none() {
            return 0;
        }
        crate::scenario::parameters_drawn(self.scenarios).len()
    }

    /// A scenario file's path as the outputs record it: as the run was
    /// given it, relative to the current folder; or, if given in full (as
    /// the bundled default comparison's are when Upstream runs outside its
    /// own folder), relative to the baseline's folder. No output then
    /// holds where Upstream was built, or another absolute path.
    fn recorded(&self, path: &str) -> String {
        let path = Path::new(path);
        if path.is_relative() {
            return path.display().to_string();
        }
        let baseline = self.scenarios[0].files[0].path.as_path();
        // A baseline given relative to the current folder has its folder
        // there too.
        let base = std::path::absolute(baseline)
            .ok()
            .and_then(|b| b.parent().map(Path::to_path_buf))
            .unwrap_or_default();
        relative(path, &base).display().to_string()
    }
}

/// `p`'s parts with `.` dropped and each `..` taking away the folder
/// before it, by name.
fn resolved(p: &Path) -> Vec<std::path::Component<'_>> {
    use std::path::Component;
    let mut out: Vec<Component> = Vec::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir if matches!(out.last(), Some(Component::Normal(_))) => {
                out.pop();
            }
            c => out.push(c),
        }
    }
    out
}

/// `path` with `.` and `..` resolved by name, not on disk (a file to be
/// written may be in a folder that does not exist yet).
pub fn resolved_by_name(path: &Path) -> PathBuf {
    resolved(path).iter().collect()
}

/// A new file that could not be written.
#[derive(Debug, thiserror::Error)]
pub enum NewFileError {
    /// The file would replace another.
    #[error("{} exists; choose another --out, or move it first", .0.display())]
    Exists(PathBuf),
    /// The file cannot be written.
    #[error("cannot write {}: {source}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// Why the system refused.
        source: std::io::Error,
    },
}

/// Writes `text` to the file `path` as one step, never replacing a file: a
/// hidden temporary file beside it, synced, then linked into place. A file
/// already there (even one another process wrote a moment ago) is kept,
/// and named in the error.
pub fn write_new(path: &Path, text: &str) -> Result<(), NewFileError> {
    use std::io::Write as _;
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temp = dir.join(format!(".{name}.upstream-new-{}", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&temp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        std::fs::hard_link(&temp, path)
    })();
    let _ = std::fs::remove_file(&temp);
    result.map_err(|source| {
        if source.kind() == std::io::ErrorKind::AlreadyExists {
            NewFileError::Exists(path.to_path_buf())
        } else {
            NewFileError::Write {
                path: path.to_path_buf(),
                source,
            }
        }
    })
}

/// `path` made absolute, `.` and `..` resolved by name, without reading
/// the disk.
pub fn absolute_by_name(path: &Path) -> PathBuf {
    let path = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    resolved(&path).iter().collect()
}

/// `path` relative to the folder `base`, both made absolute and `.` and `..`
/// resolved by name, without reading the disk. Paths with no common root
/// (on different drives) give the file's name alone.
pub fn relative(path: &Path, base: &Path) -> PathBuf {
    use std::path::Component;
    // A file named without a folder (`-o northtown.toml`) has the empty
    // path as its parent: the current folder.
    let base = if base.as_os_str().is_empty() {
        Path::new(".")
    } else {
        base
    };
    let (Ok(path), Ok(base)) = (std::path::absolute(path), std::path::absolute(base)) else {
        return path.file_name().map(PathBuf::from).unwrap_or_default();
    };
    let (p, b) = (resolved(&path), resolved(&base));
    let common = p.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let rooted = |c: &Component| matches!(c, Component::Prefix(_) | Component::RootDir);
    if !p[..common].iter().any(rooted) {
        return path.file_name().map(PathBuf::from).unwrap_or_default();
    }
    let mut out = PathBuf::new();
    for _ in common..b.len() {
        out.push("..");
    }
    for c in &p[common..] {
        out.push(c);
    }
    out
}

fn month_rows_csv(names: &[&str], rows: &[MonthRow]) -> Vec<u8> {
    csv_bytes(
        &crate::published::MonthRecord::COLUMNS,
        rows.iter().map(|r| {
            let mut v = vec![
                text(names[r.scenario]),
                whole(r.month as u64),
                text(r.metric.as_str()),
            ];
            v.extend(if r.money {
                pounds_cells(&r.band)
            } else {
                band_cells(&r.band)
            });
            v
        }),
    )
}

fn summary_json(exp: &Experiment, info: &RunInfo) -> Vec<u8> {
    let first: &Config = &info.scenarios[0].config;
    let scenarios = info
        .scenarios
        .iter()
        .enumerate()
        .map(|(s, l)| ScenarioSummary {
            name: l.config.name.clone(),
            description: l.description.clone(),
            files: l
                .files
                .iter()
                .map(|f| FileRef {
                    path: info.recorded(&f.path.display().to_string()),
                    sha256: f.sha256.clone(),
                })
                .collect(),
            against_baseline: (s > 0).then(|| aggregate::headline(exp, s)),
            totals: aggregate::horizon_totals(&exp.scenarios[s])
                .into_iter()
                .collect(),
            warnings: l
                .warnings
                .iter()
                .map(|w| Warning {
                    file: info.recorded(&w.file.display().to_string()),
                    line: w.line,
                    field: w.field.clone(),
                    message: w.message.clone(),
                })
                .collect(),
        })
        .collect();
    let summary = SummaryFile {
        settings: Settings {
            upstream_version: env!("CARGO_PKG_VERSION").into(),
            seed: info.settings.seed,
            replicates: info.settings.replicates,
            months: first.months,
            burn_in_months: first.burn_in_months,
            start: format!(
                "{}-{:02}",
                info.scenarios[0].start.0, info.scenarios[0].start.1
            ),
            residents: first.population.residents,
            resident_months_simulated: info.resident_months,
            burn_in_resident_months_shared: info.burn_in_shared,
            scenarios: info
                .scenarios
                .iter()
                .map(|l| l.config.name.clone())
                .collect(),
            services: first
                .events
                .iter()
                .map(|e| ServiceRef {
                    id: e.id.clone(),
                    name: e.name.clone(),
                    kind: ServiceKind::Event,
                    payer: e.payer,
                    unit: None,
                })
                .chain(first.episodes.iter().map(|e| ServiceRef {
                    id: e.id.clone(),
                    name: e.name.clone(),
                    kind: ServiceKind::Episode,
                    payer: e.payer,
                    unit: Some(e.unit),
                }))
                .collect(),
            parameters_drawn: info.parameters_drawn(),
            scaled: info.scaled,
        },
        notes: vec![
            format!(
                "Money is in pounds at {} prices, undiscounted; capital is kept apart from revenue cost. Discounted figures are in economics.json.",
                info.economics.conventions.price_base_label()
            ),
            "Totals are over the horizon: flows (events, spend) are summed, stocks (residents, occupancy) are monthly averages.".into(),
            "Bands are across replicates: mean, 5th, 50th and 95th percentiles; comparisons are paired by replicate.".into(),
            crate::published::bands_cover(info.parameters_drawn()),
            crate::published::SIGNS.into(),
        ]
        .into_iter()
        .chain(info.scaled.map(|s| s.sentence()))
        .collect(),
        scenarios,
    };
    let mut bytes = serde_json::to_vec_pretty(&summary).expect("plain data");
    bytes.push(b'\n');
    bytes
}

fn assumptions_csv(info: &RunInfo) -> Vec<u8> {
    let rows = info.scenarios.iter().flat_map(|l| {
        l.assumptions.iter().map(|a: &Assumption| {
            let r = l.uncertainty.range_of(&a.parameter);
            let (low, high, shape, how) = (
                Cell::Number(r.low).if_number(),
                Cell::Number(r.high).if_number(),
                text(r.distribution),
                text(r.uncertainty),
            );
            vec![
                text(l.config.name.as_str()),
                text(a.parameter.as_str()),
                // A number stays a number; a list, text or true/false is text.
                if a.value.parse::<f64>().is_ok_and(f64::is_finite) {
                    Cell::Number(a.value.clone())
                } else {
                    text(a.value.as_str())
                },
                text(a.source.clone().unwrap_or_default()),
                text(a.confidence.clone().unwrap_or_default()),
                text(info.recorded(&a.file)),
                low,
                high,
                shape,
                how,
            ]
        })
    });
    csv_bytes(
        &[
            "scenario",
            "parameter",
            "value",
            "source",
            "confidence",
            "file",
            "range_low",
            "range_high",
            "distribution",
            "uncertainty",
        ],
        rows,
    )
}

/// How each replicate's draw was held at the present: for each service's
/// first-year measure (a month's contacts, or the residents in it on a
/// day), the stated baseline's mean over its first year and the factor the
/// replicate's rates were scaled by (the same in every scenario). Only the
/// header when nothing was drawn.
fn present_csv(info: &RunInfo) -> Vec<u8> {
    let rows = info.present.into_iter().flat_map(|(stated, held)| {
        held.iter().enumerate().flat_map(move |(r, h)| {
            let events = h.events.iter().zip(&stated.contacts_per_month);
            let episodes = h.episodes.iter().zip(&stated.occupancy);
            let row = move |id: &str, measure: &str, x: f64, k: f64| {
                vec![
                    whole(r as u64 + 1),
                    text(format!("service.{id}.{measure}")),
                    number(x),
                    number(k),
                ]
            };
            events
                .map(move |((id, k), x)| row(id, "events", *x, *k))
                .chain(episodes.map(move |((id, k), x)| row(id, "occupancy", *x, *k)))
        })
    });
    csv_bytes(
        &[
            "replicate",
            "metric",
            "stated_first_year_mean",
            "rates_scaled_by",
        ],
        rows,
    )
}

/// Each replicate's draw of each uncertain parameter, scenario by
/// scenario: the quantile (the same for a parameter in every scenario) and
/// the value it gives. Only the header when nothing was drawn.
fn draws_csv(info: &RunInfo) -> Vec<u8> {
    let crn = |r: usize| crate::rng::Crn::new(info.settings.seed, r as u32);
    let rows = info
        .draws
        .into_iter()
        .flat_map(|d| d.iter().zip(info.scenarios))
        .flat_map(|(by_rep, l)| {
            by_rep.iter().enumerate().flat_map(move |(r, values)| {
                l.uncertainty
                    .parameters
                    .iter()
                    .zip(values)
                    .map(move |(p, v)| {
                        vec![
                            text(l.config.name.as_str()),
                            whole(r as u64 + 1),
                            text(p.parameter.as_str()),
                            number(l.uncertainty.quantile_of(crn(r), p)),
                            Cell::Number(p.written(v)).if_number(),
                        ]
                    })
            })
        });
    csv_bytes(
        &["scenario", "replicate", "parameter", "quantile", "value"],
        rows,
    )
}

fn by_neighbourhood_csv(exp: &Experiment, info: &RunInfo) -> Vec<u8> {
    let mut header = vec!["scenario", "neighbourhood", "deprivation_decile"];
    header.extend(NeighbourhoodMetric::ALL.map(NeighbourhoodMetric::name));
    let rows = info.scenarios.iter().enumerate().flat_map(|(s, l)| {
        let means = aggregate::by_neighbourhood(&exp.scenarios[s]);
        l.config
            .population
            .neighbourhoods
            .iter()
            .zip(means)
            .map(|(n, vals)| {
                let mut row = vec![
                    text(l.config.name.as_str()),
                    text(n.name.as_str()),
                    whole(n.decile),
                ];
                row.extend(vals.iter().map(|v| number(*v)));
                row
            })
            .collect::<Vec<_>>()
    });
    csv_bytes(&header, rows)
}

fn economics_json(economics: &Economics) -> Vec<u8> {
    let notes = [
            "Each scenario is paired with the baseline replicate by replicate; bands are the mean and 5th, 50th and 95th percentiles across replicates.",
            "Money is real, at the price base, with relative price effects where a line's inflation differs from general inflation; discounted by appraisal year (year 0 is the horizon's first twelve months).",
            "Investment is extra intervention spend plus capital when spent, less the residual value of capital at the horizon; savings are reactive cost avoided.",
            "Optimism bias raises each changed intervention's extra cost by its cost grade's uplift and cuts savings by the weakest effect grade's haircut, in the prudent direction either way; npv_without_optimism_bias leaves both out.",
            "roi is net present value over present-value investment, benefit_cost_ratio present-value savings over it; both, and the net costs per crisis-month and per QALY, are given only over replicates where the denominator is positive (`replicates`).",
            "Payback months count from the horizon's first month; null is not within the horizon. Percentiles of payback are order statistics.",
            crate::published::SIGNS,
        ]
        .map(String::from)
        .to_vec();
    let file = EconomicsFile::of(economics, notes);
    let mut bytes = serde_json::to_vec_pretty(&file).expect("plain data");
    bytes.push(b'\n');
    bytes
}

fn opt(v: Option<f64>) -> Cell {
    v.map_or(Cell::Number(String::new()), number)
}

fn budget_csv(economics: &Economics) -> Vec<u8> {
    let band3 = |b: &Band| [pounds(b.mean), pounds(b.p5), pounds(b.p95)];
    let opt3 = |b: &Option<Band>| match b {
        Some(b) => band3(b),
        None => [opt(None), opt(None), opt(None)],
    };
    csv_bytes(
        &[
            "scenario",
            "financial_year",
            "payer",
            "account",
            "service_line",
            "baseline_mean",
            "baseline_p5",
            "baseline_p95",
            "scenario_mean",
            "scenario_p5",
            "scenario_p95",
            "saving_mean",
            "saving_p5",
            "saving_p95",
            "baseline_real_mean",
            "scenario_real_mean",
            "saving_real_mean",
            "envelope",
            "headroom_mean",
            "headroom_p5",
            "headroom_p95",
            "savings_target",
            "beyond_target_mean",
            "beyond_target_p5",
            "beyond_target_p95",
        ],
        economics.budget.iter().map(|r| {
            let mut v = vec![
                text(r.scenario.as_str()),
                text(r.financial_year.as_str()),
                text(r.payer.name()),
                text(r.account.name()),
                text(r.line.as_str()),
            ];
            v.extend(band3(&r.baseline));
            v.extend(band3(&r.scenario_value));
            v.extend(band3(&r.saving));
            for b in [&r.baseline, &r.scenario_value, &r.saving] {
                v.push(pounds(b.mean / r.deflator));
            }
            v.push(opt(r.envelope.map(to_the_penny)));
            v.extend(opt3(&r.headroom));
            v.push(opt(r.savings_target.map(to_the_penny)));
            v.extend(opt3(&r.beyond_target));
            v
        }),
    )
}

/// Builds every output file in memory.
pub fn render(exp: &Experiment, info: &RunInfo) -> Result<Vec<(String, Vec<u8>)>, OutputError> {
    let names: Vec<&str> = info
        .scenarios
        .iter()
        .map(|l| l.config.name.as_str())
        .collect();
    let contents = vec![
        month_rows_csv(&names, &aggregate::timeseries(exp)),
        month_rows_csv(&names, &aggregate::differences(exp)),
        by_neighbourhood_csv(exp, info),
        assumptions_csv(info),
        summary_json(exp, info),
        economics_json(info.economics),
        budget_csv(info.economics),
        draws_csv(info),
        present_csv(info),
    ];
    #[cfg(feature = "xlsx")]
    let contents = {
        let workbook =
            workbook::render(exp, info).map_err(|e| OutputError::Workbook(e.to_string()))?;
        let mut all = contents;
        all.push(workbook);
        all
    };
    // Without the workbook (built without the `xlsx` feature) the last name
    // goes unused.
    Ok(DATA_FILES
        .iter()
        .map(|n| n.to_string())
        .zip(contents)
        .collect())
}

/// Whether Upstream writes this entry of an output folder (a path relative
/// to it; folders end in `/`).
pub fn is_ours(name: &str) -> bool {
    let charts = CHARTS_DIR;
    DATA_FILES.contains(&name)
        || name == crate::published::SENSITIVITY_FILE
        || name == crate::published::MORRIS_FILE
        || name == crate::published::BREAK_EVEN_FILE
        || name == crate::published::SWEEP_FILE
        || name == crate::published::PLACES_FILE
        || [
            crate::published::CALIBRATION_FILE,
            crate::published::CANDIDATES_FILE,
            crate::published::FIT_FILE,
            crate::published::CALIBRATED_FILE,
            crate::published::REVIEW_FILE,
            crate::published::LEVERS_FILE,
            crate::published::SPLITS_FILE,
            crate::published::FRONTIER_FILE,
        ]
        .contains(&name)
        || is_sweep_run(name)
        || name == REPORT_FILE
        || name == format!("{charts}/")
        || name
            .strip_prefix(charts)
            .and_then(|n| n.strip_prefix('/'))
            .is_some_and(|n| !n.contains('/') && (n.ends_with(".svg") || n.ends_with(".png")))
}

/// Whether `name` is a sweep's kept point (`runs/<16 hex digits>.json`,
/// or the same with `.partial` while it is written) or their folder.
fn is_sweep_run(name: &str) -> bool {
    let Some(rest) = name.strip_prefix(crate::published::SWEEP_RUNS_DIR) else {
        return false;
    };
    let Some(file) = rest.strip_prefix('/') else {
        return false;
    };
    if file.is_empty() {
        return true;
    }
    let id = file
        .strip_suffix(".json")
        .or_else(|| file.strip_suffix(".json.partial"));
    id.is_some_and(|id| id.len() == 16 && id.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Writes one file into `dir` (made if need be) so that it is whole or
/// absent: written as `<name>.partial`, synced, then renamed. For what a
/// long experiment keeps as it goes (a sweep's points), inside a folder it
/// has claimed; the folder's final contents are written as any run's.
pub fn keep_file(dir: &Path, name: &str, bytes: &[u8]) -> Result<(), OutputError> {
    use std::io::Write;
    let failed = |source| OutputError::Write {
        path: dir.to_path_buf(),
        source,
    };
    std::fs::create_dir_all(dir).map_err(failed)?;
    let partial = dir.join(format!("{name}.partial"));
    let mut f = std::fs::File::create(&partial).map_err(failed)?;
    f.write_all(bytes).map_err(failed)?;
    f.sync_all().map_err(failed)?;
    std::fs::rename(&partial, dir.join(name)).map_err(failed)
}

/// An output folder claimed by one run: no other run (in this process or
/// another) may write it until this is dropped. Claim it before the
/// simulation, so that a run into a folder another is writing is refused at
/// once rather than after its work.
#[derive(Debug)]
pub struct OutputFolder {
    dir: PathBuf,
    _lock: atomic::Lock,
}

/// Claims the output folder `dir`: takes its lock (see [`OutputError::Busy`])
/// and checks that it can be replaced by a run's outputs without losing
/// anything that Upstream did not write.
pub fn claim(dir: &Path) -> Result<OutputFolder, OutputError> {
    let lock = atomic::lock(dir)?;
    atomic::check_writable(dir, &is_ours)?;
    Ok(OutputFolder {
        dir: dir.to_path_buf(),
        _lock: lock,
    })
}

impl OutputFolder {
    /// The folder, as given.
    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// Replaces the folder with a run's files (from [`render`], with or
    /// without the report's) in one step. Returns the names written.
    pub fn write(&self, files: &[(String, Vec<u8>)]) -> Result<Vec<String>, OutputError> {
        // Again: the user may have put something in it since it was claimed.
        atomic::check_writable(&self.dir, &is_ours)?;
        atomic::replace_folder(&self.dir, files, &[])?;
        Ok(files.iter().map(|(n, _)| n.clone()).collect())
    }

    /// Replaces the report and charts in the folder in one step, keeping
    /// its other files.
    pub fn write_report(&self, files: &[(String, Vec<u8>)]) -> Result<(), OutputError> {
        atomic::check_writable(&self.dir, &is_ours)?;
        let carry: Vec<String> = DATA_FILES
            .iter()
            .filter(|n| self.dir.join(n).is_file())
            .map(|n| n.to_string())
            .collect();
        atomic::replace_folder(&self.dir, files, &carry)
    }
}

/// Checks, before any simulation, that `dir` can be replaced by a run's
/// outputs without losing anything that Upstream did not write, and that no
/// other run is writing it. To keep it from other runs, [`claim`] it.
pub fn check_writable(dir: &Path) -> Result<(), OutputError> {
    claim(dir).map(drop)
}

/// Claims the folder `dir` and replaces it with a run's files in one step.
/// Returns the names written.
pub fn write(dir: &Path, files: &[(String, Vec<u8>)]) -> Result<Vec<String>, OutputError> {
    claim(dir)?.write(files)
}

/// Claims the output folder `dir` and replaces its report and charts in one
/// step, keeping its other files.
pub fn write_report(dir: &Path, files: &[(String, Vec<u8>)]) -> Result<(), OutputError> {
    claim(dir)?.write_report(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(unix)]
    fn a_path_relative_to_a_folder_is_worked_out_by_name() {
        for (path, base, expect) in [
            ("/a/b/c.toml", "/a/b", "c.toml"),
            ("/a/b/../d/c.toml", "/a/b", "../d/c.toml"),
            ("/a/b/./c.toml", "/a/b/", "c.toml"),
            ("/x/c.toml", "/a/b", "../../x/c.toml"),
            ("/a/b/c/d.toml", "/a", "b/c/d.toml"),
        ] {
            assert_eq!(
                relative(Path::new(path), Path::new(base)),
                Path::new(expect)
            );
        }
    }
}
