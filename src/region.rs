//! A run over many places at once: a region, or the nation. A places table
//! gives each place's residents and how they spread over the national
//! deprivation deciles (and, where known, last year's activity); every
//! scenario of the run is run in every place, with that place's own
//! population and rates laid over the baseline as `upstream new-place`
//! would lay them. Places run in parallel, each replicate of each place one
//! piece of work, so a run over many places shards like any other.
//!
//! The results are each place's, each region's and all places' together:
//! a place's figures are added to the others' replicate by replicate (the
//! same replicate is the same luck in every place), so the totals' bands
//! are the bands of the totals, not sums of bands.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use rayon::prelude::*;

use crate::aggregate::{self, HeadlineByReplicate};
use crate::app::{self, Outcome, Plan, Request, ShardResults};
use crate::error::Error;
use crate::experiment::{self, AssembleError, MemoryEstimate, Partial, Shard};
use crate::format::{count, money, size};
use crate::metrics::Band;
use crate::place::{Activity, NeighbourhoodRow, PlaceFigures};
use crate::scenario::Overrides;

/// The columns a places table may have; `place`, `residents` and the ten
/// deciles are required.
pub const COLUMNS: [&str; 18] = [
    "place",
    "region",
    "residents",
    "decile_1",
    "decile_2",
    "decile_3",
    "decile_4",
    "decile_5",
    "decile_6",
    "decile_7",
    "decile_8",
    "decile_9",
    "decile_10",
    "ae_attendances",
    "unplanned_admissions",
    "looked_after_children",
    "households_in_temporary_accommodation",
    "care_home_residents",
];

/// The most places one run may hold.
pub const MAX_PLACES: usize = 1_000;

/// One row of a places table.
#[derive(Clone, Debug, PartialEq)]
pub struct PlaceRow {
    /// The place's name (unique in the table).
    pub name: String,
    /// The region it belongs to, if the table says.
    pub region: Option<String>,
    /// Its residents.
    pub residents: u32,
    /// Its residents (or neighbourhoods, in any unit, as long as all ten
    /// use the same) in each national deprivation decile, most deprived
    /// first.
    pub deciles: [f64; 10],
    /// Last year's activity, where the table gives it.
    pub activity: Activity,
}

/// Why a run over many places cannot be set up.
#[derive(Debug, thiserror::Error)]
pub enum RegionError {
    /// A places table that cannot be read or has a bad row.
    #[error("{}{}{}: {message}", file.display(), line.map(|l| format!(", line {l}")).unwrap_or_default(), column.as_ref().map(|c| format!(", column `{c}`")).unwrap_or_default())]
    Table {
        /// The table.
        file: PathBuf,
        /// The line at fault, if one.
        line: Option<usize>,
        /// The column at fault, if one.
        column: Option<String>,
        /// What is wrong and what was expected.
        message: String,
    },
    /// A place whose scenarios cannot be set up.
    #[error("place \"{place}\" (line {line} of {}): {source}", file.display())]
    Place {
        /// The table.
        file: PathBuf,
        /// The place's line in it.
        line: usize,
        /// The place.
        place: String,
        /// What went wrong.
        source: Box<Error>,
    },
    /// A run over many places that would not fit in memory.
    #[error(
        "this run over {places} places needs about {} of memory, more than {} ({limit_from}): {}",
        size(need.total()),
        size(*limit),
        shards.map_or_else(
            || format!("the largest place's residents on each of {threads} threads need {} for their populations; use fewer --threads", size(need.program + need.populations)),
            |n| format!("split it into {n} shards (--shard K/{n}), each needing about {}, or use fewer replicates", size(*per_shard))
        )
    )]
    Memory {
        /// Places in the run.
        places: usize,
        /// What the run would need, by part.
        need: MemoryEstimate,
        /// The most it may use, in bytes.
        limit: u64,
        /// Where the limit came from.
        limit_from: &'static str,
        /// Worker threads.
        threads: usize,
        /// The fewest shards that would each fit, if any would.
        shards: Option<u32>,
        /// What each of those shards would need.
        per_shard: u64,
    },
}

fn table_error(file: &Path, line: Option<usize>, column: Option<&str>, message: String) -> Error {
    RegionError::Table {
        file: file.to_path_buf(),
        line,
        column: column.map(str::to_string),
        message,
    }
    .into()
}

/// Reads a places table (CSV, the [`COLUMNS`]) through `read`.
pub fn read_places(
    file: &Path,
    read: &dyn Fn(&Path) -> std::io::Result<String>,
) -> Result<Vec<(usize, PlaceRow)>, Error> {
    let text =
        read(file).map_err(|e| table_error(file, None, None, format!("cannot read it: {e}")))?;
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| table_error(file, Some(1), None, format!("not a CSV file: {e}")))?
        .clone();
    for h in headers.iter() {
        if !COLUMNS.contains(&h) {
            return Err(table_error(
                file,
                Some(1),
                Some(h),
                format!("unknown column; expected {}", COLUMNS.join(", ")),
            ));
        }
    }
    let column = |name: &str| headers.iter().position(|h| h == name);
    for required in COLUMNS
        .iter()
        .filter(|c| **c != "region" && !is_activity(c))
    {
        if column(required).is_none() {
            return Err(table_error(
                file,
                Some(1),
                Some(required),
                "missing; a places table needs place, residents and decile_1 to decile_10".into(),
            ));
        }
    }
    let mut rows: Vec<(usize, PlaceRow)> = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let line = i + 2;
        let record = record.map_err(|e| table_error(file, Some(line), None, e.to_string()))?;
        let cell = |name: &str| column(name).and_then(|c| record.get(c)).unwrap_or("");
        let bad = |name: &str, expected: &str| {
            table_error(
                file,
                Some(line),
                Some(name),
                format!("expected {expected}, found \"{}\"", cell(name)),
            )
        };
        let name = cell("place").to_string();
        if name.is_empty() {
            return Err(bad("place", "the place's name"));
        }
        if let Some((first, _)) = rows.iter().find(|(_, r)| r.name == name) {
            return Err(table_error(
                file,
                Some(line),
                Some("place"),
                format!("\"{name}\" is listed twice (first on line {first})"),
            ));
        }
        let residents = cell("residents")
            .replace(['_', ','], "")
            .parse::<u32>()
            .ok()
            .filter(|r| (1..=50_000_000).contains(r))
            .ok_or_else(|| bad("residents", "a whole number from 1 to 50,000,000"))?;
        let mut deciles = [0.0; 10];
        for (k, d) in deciles.iter_mut().enumerate() {
            let col = format!("decile_{}", k + 1);
            *d = cell(&col)
                .replace(['_', ','], "")
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite() && *v >= 0.0)
                .ok_or_else(|| bad(&col, "a number of 0 or more"))?;
        }
        if deciles.iter().sum::<f64>() <= 0.0 {
            return Err(table_error(
                file,
                Some(line),
                Some("decile_1"),
                "the ten deciles are all 0; give how the place's residents spread over them".into(),
            ));
        }
        let given = |col: &str| -> Result<Option<f64>, Error> {
            match cell(col) {
                "" => Ok(None),
                v => v
                    .replace(['_', ','], "")
                    .parse::<f64>()
                    .ok()
                    .filter(|v| v.is_finite() && *v >= 0.0)
                    .map(Some)
                    .ok_or_else(|| bad(col, "a count of 0 or more, or nothing")),
            }
        };
        let region = Some(cell("region").to_string()).filter(|r| !r.is_empty());
        rows.push((
            line,
            PlaceRow {
                name,
                region,
                residents,
                deciles,
                activity: Activity {
                    ae_attendances: given("ae_attendances")?,
                    unplanned_admissions: given("unplanned_admissions")?,
                    looked_after_children: given("looked_after_children")?,
                    households_in_temporary_accommodation: given(
                        "households_in_temporary_accommodation",
                    )?,
                    care_home_residents: given("care_home_residents")?,
                },
            },
        ));
    }
    if rows.is_empty() {
        return Err(table_error(file, None, None, "it lists no places".into()));
    }
    if rows.len() > MAX_PLACES {
        return Err(table_error(
            file,
            None,
            None,
            format!(
                "it lists {} places; a run holds at most {MAX_PLACES}",
                rows.len()
            ),
        ));
    }
    Ok(rows)
}

fn is_activity(column: &str) -> bool {
    COLUMNS[13..].contains(&column)
}

/// `total` split in proportion to `weights`, in whole numbers that add up
/// to it (largest remainders first, ties to the earlier).
fn apportion(total: u64, weights: &[f64]) -> Vec<u64> {
    let sum: f64 = weights.iter().sum();
    let exact: Vec<f64> = weights.iter().map(|w| total as f64 * w / sum).collect();
    let mut out: Vec<u64> = exact.iter().map(|e| e.floor() as u64).collect();
    let mut left = total - out.iter().sum::<u64>();
    let mut order: Vec<usize> = (0..weights.len()).collect();
    order.sort_by(|&a, &b| {
        let (ra, rb) = (exact[a] - exact[a].floor(), exact[b] - exact[b].floor());
        rb.total_cmp(&ra).then(a.cmp(&b))
    });
    for i in order {
        if left == 0 {
            break;
        }
        if weights[i] > 0.0 {
            out[i] += 1;
            left -= 1;
        }
    }
    out
}

/// The place's neighbourhoods: its residents in each decile, in
/// neighbourhoods of about `size` residents (the baseline's own), so that
/// an intervention aimed at "the three most deprived neighbourhoods"
/// reaches about as many people in every place; but never fewer than
/// `fewest` (the baseline's count), smaller ones in a small place, so that
/// every neighbourhood a scenario names exists in every place.
pub fn neighbourhoods(row: &PlaceRow, size: f64, fewest: usize) -> Vec<NeighbourhoodRow> {
    let by_decile = apportion(row.residents as u64, &row.deciles);
    let mut parts: Vec<u64> = by_decile
        .iter()
        .map(|&r| {
            if r == 0 {
                0
            } else {
                ((r as f64 / size).round() as u64).clamp(1, r)
            }
        })
        .collect();
    let fewest = (fewest as u64).min(row.residents as u64);
    while parts.iter().sum::<u64>() < fewest {
        // Split further the decile whose neighbourhoods are largest.
        let k = (0..10)
            .filter(|&k| parts[k] > 0 && parts[k] < by_decile[k])
            .max_by(|&a, &b| {
                let per = |k: usize| by_decile[k] as f64 / parts[k] as f64;
                per(a).total_cmp(&per(b)).then(b.cmp(&a))
            })
            .expect("fewer neighbourhoods than residents");
        parts[k] += 1;
    }
    let mut out = Vec::new();
    for (k, (&residents, &n)) in by_decile.iter().zip(&parts).enumerate() {
        if residents == 0 {
            continue;
        }
        for (j, r) in apportion(residents, &vec![1.0; n as usize])
            .into_iter()
            .enumerate()
        {
            out.push(NeighbourhoodRow {
                name: format!("decile {} #{}", k + 1, j + 1),
                decile: k as u8 + 1,
                residents: r as u32,
            });
        }
    }
    out
}

/// `path` made absolute and `.` and `..` resolved by name, so two
/// spellings of one file compare equal without the file existing.
fn normal(path: &Path) -> PathBuf {
    let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut out = PathBuf::new();
    for c in abs.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// One place of the run.
#[derive(Debug)]
pub struct PlaceRun {
    /// Its name.
    pub name: String,
    /// Its region, if the table gives one.
    pub region: Option<String>,
    /// Its scenarios, checked to run together.
    pub plan: Plan,
}

/// A run over many places.
#[derive(Debug)]
pub struct Region {
    /// The places, in the table's order.
    pub places: Vec<PlaceRun>,
}

impl Region {
    /// Sets up `request`'s scenarios in every place of the table `places`,
    /// reading every file through `read`.
    pub fn new_through(
        request: &Request,
        places: &Path,
        read: &(dyn Fn(&Path) -> std::io::Result<String> + Sync),
    ) -> Result<Region, Error> {
        let mut request = request.clone();
        if request.scenarios.is_empty() {
            request.scenarios = app::bundled();
        }
        // The scenarios as they stand first, so a fault in one is reported
        // against its own file, not against a place.
        let plain = Plan::new_through(
            &Request {
                uncertainty: false,
                ..request.clone()
            },
            read,
        )?;
        let base = &plain.scenarios()[0].config.population;
        let fewest = base.neighbourhoods.len();
        let size = base.residents as f64 / fewest as f64;
        let rows = read_places(places, read)?;
        let baseline = &request.scenarios[0];
        let at = normal(baseline);
        // The place's own scenario stands where the baseline is, and
        // extends the baseline under another name, so every scenario that
        // extends the baseline extends the place.
        let stem = baseline.file_stem().unwrap_or_default().to_string_lossy();
        let national = baseline.with_file_name(format!("{stem}.without-place.toml"));
        let national_at = normal(&national);
        let built: Vec<Result<PlaceRun, Error>> = rows
            .par_iter()
            .map(|(line, row)| {
                let in_place = |e: Error| -> Error {
                    RegionError::Place {
                        file: places.to_path_buf(),
                        line: *line,
                        place: row.name.clone(),
                        source: Box::new(e),
                    }
                    .into()
                };
                let figures = PlaceFigures {
                    name: row.name.clone(),
                    neighbourhoods: neighbourhoods(row, size, fewest),
                    activity: row.activity.clone(),
                };
                let under = |p: &Path| {
                    if normal(p) == national_at {
                        read(baseline)
                    } else {
                        read(p)
                    }
                };
                let (text, _) = crate::place::place_scenario(&figures, &national, baseline, &under)
                    .map_err(|e| in_place(e.into()))?;
                let read_here = |p: &Path| {
                    let n = normal(p);
                    if n == at {
                        Ok(text.clone())
                    } else if n == national_at {
                        read(baseline)
                    } else {
                        read(p)
                    }
                };
                let overrides = Overrides {
                    horizon_years: request.years,
                };
                let mut scenarios = request
                    .scenarios
                    .iter()
                    .map(|p| app::load_through(p, &overrides, &read_here))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| in_place(e.into()))?;
                // Each scenario keeps its own name in every place (the
                // place's scenario names itself after the place).
                for (l, p) in scenarios.iter_mut().zip(plain.scenarios()) {
                    l.config.name.clone_from(&p.config.name);
                }
                if request.strict {
                    app::strict(&scenarios).map_err(|e| in_place(e.into()))?;
                }
                let mut plan = Plan::of(scenarios, plain.settings().clone())
                    .map_err(|e| in_place(e.into()))?;
                if request.uncertainty {
                    plan = plan.with_uncertainty().map_err(in_place)?;
                }
                Ok(PlaceRun {
                    name: row.name.clone(),
                    region: row.region.clone(),
                    plan,
                })
            })
            .collect();
        Ok(Region {
            places: built.into_iter().collect::<Result<_, _>>()?,
        })
    }

    fn scenarios(&self) -> usize {
        self.places[0].plan.scenarios().len()
    }

    fn drawn(&self) -> bool {
        self.places[0].plan.draws().is_some()
    }

    /// Residents in all places.
    pub fn residents(&self) -> u64 {
        self.places
            .iter()
            .map(|p| p.plan.scenarios()[0].config.population.residents as u64)
            .sum()
    }

    /// Replicates to run in all, for a progress bar.
    pub fn jobs(&self) -> u64 {
        self.places.iter().map(|p| p.plan.jobs()).sum()
    }

    /// The memory the run needs at its peak on `threads` threads, split
    /// into `shards` shards (each shard's share).
    pub fn memory(&self, threads: usize, shards: u32) -> MemoryEstimate {
        let configs: Vec<&crate::model::Config> = self
            .places
            .iter()
            .flat_map(|p| p.plan.scenarios().iter().map(|l| &l.config))
            .collect();
        let settings = self.places[0].plan.settings();
        let mut m = experiment::memory_estimate(&configs, settings.replicates, threads);
        let factor = if self.drawn() { 2 } else { 1 };
        m.results = (m.results * factor).div_ceil(shards as u64);
        // The run's files are a table of figures a place, not each place's
        // months: what remains is each place's appraisal, at most one at a
        // time beside the results.
        m.outputs = m.outputs.div_ceil(self.places.len() as u64);
        m
    }

    /// Refuses, before anything is allocated, a run that would not fit in
    /// `limit` bytes (or the memory this machine has available), saying
    /// how many shards would.
    /// A shard of `shards` holds only its share of the results.
    pub fn check_memory(
        &self,
        limit: Option<u64>,
        threads: usize,
        shards: u32,
    ) -> Result<(), RegionError> {
        let (limit, limit_from) = match (limit, app::available_memory()) {
            (Some(l), _) => (l, "--memory-limit"),
            (None, Some(a)) => (a, "the memory this machine has available"),
            (None, None) => return Ok(()),
        };
        let need = self.memory(threads, shards);
        if need.total() <= limit {
            return Ok(());
        }
        // Only the results divide among shards.
        let whole = self.memory(threads, 1);
        let fixed = whole.total() - whole.results;
        let shards = (limit > fixed)
            .then(|| whole.results.div_ceil(limit - fixed))
            .filter(|&n| n <= Shard::MAX as u64)
            .map(|n| n as u32);
        Err(RegionError::Memory {
            places: self.places.len(),
            need: whole,
            limit,
            limit_from,
            threads,
            shards,
            per_shard: shards.map_or(0, |n| self.memory(threads, n).total()),
        })
    }

    /// One shard's share of the run: every place's replicates that
    /// [`Shard::holds`] picks (each replicate of each place one piece).
    pub fn run_shard(
        &self,
        shard: Shard,
        on_done: &(dyn Fn() + Sync),
    ) -> Result<ShardResults, Error> {
        let per = self.scenarios();
        let n = self.places.len() * per;
        let settings = self.places[0].plan.settings();
        let at = |drawn: bool| {
            move |i: usize, r: u32| self.places[i / per].plan.config_at(i % per, r, drawn)
        };
        let drawn = self.drawn();
        let run = experiment::run_part(n, &at(drawn), settings, shard, on_done)?;
        let central = if drawn {
            Some(experiment::run_part(
                n,
                &at(false),
                settings,
                shard,
                on_done,
            )?)
        } else {
            None
        };
        Ok(ShardResults { run, central })
    }

    /// Runs every place whole.
    pub fn run(self, on_done: &(dyn Fn() + Sync)) -> Result<RegionOutcome, Error> {
        let started = std::time::Instant::now();
        let part = self.run_shard(Shard::WHOLE, on_done)?;
        let seconds = started.elapsed().as_secs_f64();
        Ok(self
            .put_together(vec![part], seconds)
            .expect("one shard holds the whole run"))
    }

    /// The outcome from every shard's results, in any order: each place
    /// appraised as its own run would be, then the places added up.
    pub fn put_together(
        self,
        shards: Vec<ShardResults>,
        seconds: f64,
    ) -> Result<RegionOutcome, AssembleError> {
        let per = self.scenarios();
        let places = self.places.len();
        let split = |part: Partial| -> Vec<Partial> {
            let mut each: Vec<Partial> = (0..places)
                .map(|_| Partial {
                    threads: part.threads,
                    ..Partial::default()
                })
                .collect();
            for (i, r, result) in part.results {
                each[i / per].results.push((i % per, r, result));
            }
            for (i, r, saved) in part.burn_in_shared {
                each[i / per].burn_in_shared.push((i % per, r, saved));
            }
            each
        };
        let mut by_place: Vec<Vec<ShardResults>> = (0..places).map(|_| Vec::new()).collect();
        for shard in shards {
            let central = shard.central.map(split);
            let mut central = central.map(|c| c.into_iter().map(Some).collect::<Vec<_>>());
            for (p, run) in split(shard.run).into_iter().enumerate() {
                by_place[p].push(ShardResults {
                    run,
                    central: central.as_mut().and_then(|c| c[p].take()),
                });
            }
        }
        let outcomes = self
            .places
            .into_iter()
            .zip(by_place)
            .map(|(place, parts)| {
                Ok(PlaceOutcome {
                    name: place.name,
                    region: place.region,
                    outcome: place.plan.put_together(parts, seconds)?,
                })
            })
            .collect::<Result<Vec<_>, AssembleError>>()?;
        Ok(RegionOutcome {
            places: outcomes,
            seconds,
        })
    }
}

/// One place's outcome.
#[derive(Debug)]
pub struct PlaceOutcome {
    /// Its name.
    pub name: String,
    /// Its region, if the table gives one.
    pub region: Option<String>,
    /// Its scenarios' results and economics, as its own run would give.
    pub outcome: Outcome,
}

/// A finished run over many places.
#[derive(Debug)]
pub struct RegionOutcome {
    /// Each place's, in the table's order.
    pub places: Vec<PlaceOutcome>,
    /// Wall-clock seconds the simulation took.
    pub seconds: f64,
}

/// Which places a row of the results adds up.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// One place.
    Place,
    /// Every place of one region.
    Region,
    /// Every place in the run.
    All,
}

/// A row of `places.csv`: one figure of one scenario over some places.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    /// Which places it adds up.
    pub level: Level,
    /// The place's or region's name ("all places" for every place).
    pub name: String,
    /// The region a place is in (empty where none is given, and for the
    /// rows of regions and of all places).
    pub region: String,
    /// Places added up.
    pub places: usize,
    /// Their residents at the start.
    pub residents: u64,
    /// The scenario.
    pub scenario: String,
    /// The figure, named as in summary.json's `against_baseline` and
    /// economics.json (`npv`).
    pub figure: &'static str,
    /// Its band across replicates.
    pub band: Band,
}

/// What one place adds for one scenario, replicate by replicate.
fn figures_of(o: &Outcome, s: usize) -> Vec<(&'static str, Vec<f64>)> {
    let HeadlineByReplicate {
        total_cost_gbp,
        reactive_cost_gbp,
        prevention_spend_gbp,
        capital_spend_gbp,
        net_revenue_saving_gbp,
        crisis_months_avoided,
    } = aggregate::headline_by_replicate(&o.experiment, s);
    let mut out = vec![
        ("total_cost_gbp", total_cost_gbp),
        ("reactive_cost_gbp", reactive_cost_gbp),
        ("prevention_spend_gbp", prevention_spend_gbp),
        ("capital_spend_gbp", capital_spend_gbp),
    ];
    if s > 0 {
        out.push(("net_revenue_saving_gbp", net_revenue_saving_gbp));
        out.push(("crisis_months_avoided", crisis_months_avoided));
        out.push((
            "npv",
            o.economics.appraisals[s - 1].npv_by_replicate.clone(),
        ));
    }
    out
}

impl RegionOutcome {
    /// Resident-months simulated in all, burn-in included.
    pub fn resident_months(&self) -> u64 {
        self.places
            .iter()
            .map(|p| p.outcome.experiment.resident_months)
            .sum()
    }

    /// Worker threads the run used (the most any shard used).
    pub fn threads(&self) -> usize {
        self.places
            .iter()
            .map(|p| p.outcome.experiment.threads)
            .max()
            .unwrap_or(1)
    }

    /// Every scenario's figures for each place, each region (where the
    /// table gives regions) and all places, bands across replicates of the
    /// figures added up replicate by replicate.
    pub fn rows(&self) -> Vec<Row> {
        let names = self.places[0].outcome.names();
        let mut regions: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for (i, p) in self.places.iter().enumerate() {
            if let Some(r) = &p.region {
                regions.entry(r.as_str()).or_default().push(i);
            }
        }
        let mut groups: Vec<(Level, String, String, Vec<usize>)> = vec![(
            Level::All,
            "all places".into(),
            String::new(),
            (0..self.places.len()).collect(),
        )];
        groups.extend(
            regions
                .into_iter()
                .map(|(r, members)| (Level::Region, r.to_string(), String::new(), members)),
        );
        groups.extend(self.places.iter().enumerate().map(|(i, p)| {
            (
                Level::Place,
                p.name.clone(),
                p.region.clone().unwrap_or_default(),
                vec![i],
            )
        }));
        let mut rows = Vec::new();
        for (level, name, region, members) in groups {
            let residents = members
                .iter()
                .map(|&i| {
                    self.places[i].outcome.plan.scenarios()[0]
                        .config
                        .population
                        .residents as u64
                })
                .sum();
            for (s, scenario) in names.iter().enumerate() {
                let mut sums: Vec<(&'static str, Vec<f64>)> = Vec::new();
                for &i in &members {
                    let each = figures_of(&self.places[i].outcome, s);
                    if sums.is_empty() {
                        sums = each;
                    } else {
                        for ((_, total), (_, v)) in sums.iter_mut().zip(each) {
                            total.iter_mut().zip(v).for_each(|(t, x)| *t += x);
                        }
                    }
                }
                rows.extend(sums.into_iter().map(|(figure, v)| Row {
                    level,
                    name: name.clone(),
                    region: region.clone(),
                    places: members.len(),
                    residents,
                    scenario: scenario.to_string(),
                    figure,
                    band: Band::of(&v),
                }));
            }
        }
        rows
    }

    /// The run's files: places.csv.
    pub fn render(&self) -> Vec<(String, Vec<u8>)> {
        vec![(
            crate::published::PLACES_FILE.to_string(),
            crate::output::places_csv(&self.rows()),
        )]
    }

    /// The terminal summary: for all places and each region, each
    /// scenario's net revenue saving and net present value.
    pub fn table(&self) -> String {
        use std::fmt::Write as _;
        let rows = self.rows();
        let replicates = self.places[0].outcome.plan.settings().replicates;
        let ranges = replicates >= aggregate::MIN_REPLICATES_FOR_RANGES;
        let shown = |b: &Band| {
            if ranges {
                format!("{} ({} to {})", money(b.mean), money(b.p5), money(b.p95))
            } else {
                money(b.mean)
            }
        };
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{:<32} {:>12} {:<32} {:>34} {:>34}",
            "Places",
            "Residents",
            "Scenario",
            if ranges {
                "Net revenue saving (90%)"
            } else {
                "Net revenue saving"
            },
            if ranges {
                "Net present value (90%)"
            } else {
                "Net present value"
            }
        );
        let find = |r: &Row, figure: &str| {
            rows.iter()
                .find(|x| {
                    x.level == r.level
                        && x.name == r.name
                        && x.scenario == r.scenario
                        && x.figure == figure
                })
                .map(|x| shown(&x.band))
                .unwrap_or_default()
        };
        for r in rows
            .iter()
            .filter(|r| r.level != Level::Place && r.figure == "net_revenue_saving_gbp")
        {
            let label = match r.level {
                Level::All => format!("All {} places", r.places),
                _ => format!("{} ({} places)", r.name, r.places),
            };
            let _ = writeln!(
                out,
                "{:<32} {:>12} {:<32} {:>34} {:>34}",
                label,
                count(r.residents as f64),
                r.scenario,
                find(r, "net_revenue_saving_gbp"),
                find(r, "npv")
            );
        }
        let _ = writeln!(
            out,
            "\nEach place runs every scenario with its own residents, deprivation and rates; a region's and all places' figures are the places' added up replicate by replicate (the same luck everywhere in a replicate), so their bands are the totals' own. Every place's figures are in places.csv. Net revenue saving is undiscounted, net present value discounted with optimism bias, as in a single place's economics.json.{}",
            if ranges {
                ""
            } else {
                " Too few replicates for a 90% range: figures are means."
            }
        );
        out
    }
}
