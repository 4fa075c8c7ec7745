//! A run over many places at once: a region, or the nation. A places table
//! gives each place's residents and how they spread over the national
//! deprivation deciles (and, where known, last year's activity); every
//! scenario of the run is run in every place, with that place's own
//! population and rates laid over the baseline as `upstream new-place`
//! would lay them. Places run in parallel, each replicate of each place one
//! piece of work, so a run over many places shards like any other. Each
//! piece is cut down to the figures the run gives as soon as it is run, so
//! the nation's places with a thousand replicates hold a few numbers each,
//! not their months.
//!
//! The results are each place's, each region's and all places' together:
//! a place's figures are added to the others' replicate by replicate (the
//! same replicate is the same luck in every place), so the totals' bands
//! are the bands of the totals, not sums of bands.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use rayon::prelude::*;

use crate::aggregate::{self, HeadlineByReplicate};
use crate::app::{self, Plan, Request};
use crate::format::{count, money, size};
use crate::input;
use crate::metrics::Band;
use crate::place::PlaceError;
use crate::place::{Activity, NeighbourhoodRow, PlaceFigures};
use crate::replicates::{self, AssembleError, MemoryEstimate, Partial, Shard};
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

/// The most a decile's count may be: a place's residents, or its
/// neighbourhoods or shares in any unit, are never more than the most
/// residents a place may have.
const MAX_DECILE: f64 = 50_000_000.0;

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

/// Anything that stops a run over many places: its table, a place, or
/// the pipeline under them.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The pipeline's.
    #[error(transparent)]
    App(#[from] app::Error),
    /// The run over places' own.
    #[error(transparent)]
    Region(#[from] RegionError),
    /// A place that could not be set up.
    #[error(transparent)]
    Place(#[from] PlaceError),
}

app::through_app!(Error);

/// Why a run over many places cannot be set up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
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
            || format!("the places set up and the largest place's residents on each of {threads} threads need {} before any results; use fewer --threads", size(need.program + need.populations)),
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
    let required: Vec<&str> = COLUMNS
        .iter()
        .copied()
        .filter(|c| *c != "region" && !is_activity(c))
        .collect();
    input::check_header(&headers, &COLUMNS, &required, "a places table")
        .map_err(|f| table_error(file, Some(1), f.column.as_deref(), f.message))?;
    let column = |name: &str| headers.iter().position(|h| h == name);
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
                format!(
                    "expected {expected}, found \"{}\"",
                    input::quote(cell(name))
                ),
            )
        };
        let name = cell("place").to_string();
        if name.is_empty() {
            return Err(bad("place", "the place's name"));
        }
        for col in ["place", "region"] {
            if let Some(why) = input::text_fault(cell(col), input::TextKind::Name) {
                return Err(table_error(file, Some(line), Some(col), why));
            }
        }
        if let Some((first, _)) = rows.iter().find(|(_, r)| r.name == name) {
            return Err(table_error(
                file,
                Some(line),
                Some("place"),
                format!(
                    "\"{}\" is listed twice (first on line {first})",
                    input::quote(&name)
                ),
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
                .filter(|v| (0.0..=MAX_DECILE).contains(v))
                .ok_or_else(|| bad(&col, "a number from 0 to 50,000,000"))?;
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

/// Places set up in parallel before any fault among them is reported.
const SET_UP_AT_ONCE: usize = 16;

/// The column of a places table behind a field of the place's scenario: the
/// activity that sets a service's rate, else the residents and deciles.
fn column_behind(field: &str) -> &'static str {
    let services = [
        ("ae_attendance", "ae_attendances"),
        ("unplanned_admission", "unplanned_admissions"),
        ("childrens_placement", "looked_after_children"),
        (
            "temporary_accommodation",
            "households_in_temporary_accommodation",
        ),
        ("adult_residential_care", "care_home_residents"),
    ];
    services
        .iter()
        .find(|(service, _)| field.split('.').nth(1) == Some(service))
        .map_or("residents", |(_, column)| column)
}

/// The row of the places table `file` for the place called `name`
/// (`upstream new-place --place`), read through `read`.
pub fn place_row(
    file: &Path,
    name: &str,
    read: &dyn Fn(&Path) -> std::io::Result<String>,
) -> Result<PlaceRow, Error> {
    let rows = read_places(file, read)?;
    if let Some((_, row)) = rows.iter().find(|(_, r)| r.name == name) {
        return Ok(row.clone());
    }
    let names: Vec<&str> = rows.iter().map(|(_, r)| r.name.as_str()).collect();
    let near = crate::scenario::nearest(name, &names)
        .map(|n| format!("; did you mean \"{n}\"?"))
        .unwrap_or_default();
    Err(table_error(
        file,
        None,
        Some("place"),
        format!(
            "no place is called \"{}\"{near} ({} places are listed, by their names in the column `place`)",
            input::quote(name),
            names.len()
        ),
    ))
}

fn is_activity(column: &str) -> bool {
    COLUMNS[13..].contains(&column)
}

/// `total` split in proportion to `weights` (finite, 0 or more, not all
/// 0), in whole numbers that add up to it exactly (largest remainders
/// first, ties to the earlier); a weight of 0 gets none.
fn apportion(total: u64, weights: &[f64]) -> Vec<u64> {
    // Shares of the largest weight, so no sum or product can overflow
    // however large the weights are.
    let most = weights.iter().copied().fold(0.0, f64::max);
    assert!(
        most > 0.0 && most.is_finite(),
        "weights checked by the caller"
    );
    let shares: Vec<f64> = weights.iter().map(|w| w / most).collect();
    let sum: f64 = shares.iter().sum();
    let exact: Vec<f64> = shares.iter().map(|w| total as f64 * (w / sum)).collect();
    let mut out: Vec<u64> = exact
        .iter()
        .map(|e| (e.floor() as u64).min(total))
        .collect();
    let mut order: Vec<usize> = (0..weights.len()).filter(|&i| shares[i] > 0.0).collect();
    order.sort_by(|&a, &b| {
        let (ra, rb) = (exact[a] - exact[a].floor(), exact[b] - exact[b].floor());
        rb.total_cmp(&ra).then(a.cmp(&b))
    });
    // Rounding can leave the floors a few over or (far more often) under
    // the total: take from, or give to, the largest remainders in turn.
    let mut given: u64 = out.iter().sum();
    for &i in order.iter().rev().cycle() {
        if given <= total {
            break;
        }
        if out[i] > 0 {
            out[i] -= 1;
            given -= 1;
        }
    }
    for &i in order.iter().cycle() {
        if given >= total {
            break;
        }
        out[i] += 1;
        given += 1;
    }
    out
}

/// A place's figures from its row of a places table, laid out as a run
/// over places lays it out: neighbourhoods of about the `baseline`'s size,
/// at least as many as it has; each count in `given` wins over the
/// table's.
pub fn figures(row: &PlaceRow, baseline: &crate::model::Config, given: Activity) -> PlaceFigures {
    let hoods = baseline.population.neighbourhoods.len();
    let size = baseline.population.residents as f64 / hoods as f64;
    PlaceFigures {
        name: row.name.clone(),
        neighbourhoods: neighbourhoods(row, size, hoods),
        activity: given.or(&row.activity),
        horizon_years: None,
    }
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
        if request.stands_for > 1 {
            return Err(app::Error::from(app::PlanError::ScaleOverPlaces).into());
        }
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
        let set_up = |(line, row): &(usize, PlaceRow)| -> Result<PlaceRun, Error> {
            let in_place = |e: Error| -> Error {
                // A fault in the place's own scenario, written from its
                // row where the baseline stands, is the row's: blame the
                // table, not the baseline's file.
                let scenario = match &e {
                    Error::App(app::Error::Scenario(se)) => Some(se),
                    Error::Place(PlaceError::Scenario(se)) => Some(se),
                    _ => None,
                };
                if let Some(se) = scenario
                    && normal(&se.file) == at
                    && se.inherited_by.is_none()
                {
                    let field = se.field.clone().unwrap_or_default();
                    return RegionError::Table {
                            file: places.to_path_buf(),
                            line: Some(*line),
                            column: Some(column_behind(&field).to_string()),
                            message: format!(
                                "place \"{}\": the model cannot reproduce this figure: it would set `{field}` beyond what the model takes ({})",
                                input::quote(&row.name),
                                se.message
                            ),
                        }
                        .into();
                }
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
                horizon_years: None,
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
            let mut plan =
                Plan::of(scenarios, plain.settings().clone()).map_err(|e| in_place(e.into()))?;
            if request.uncertainty {
                plan = plan.with_uncertainty().map_err(|e| in_place(e.into()))?;
            }
            Ok(PlaceRun {
                name: row.name.clone(),
                region: row.region.clone(),
                plan,
            })
        };
        // A few places at a time, in the table's order, so the first place
        // that cannot be set up is reported at once, not after every other
        // place is set up.
        let mut set = Vec::with_capacity(rows.len());
        for chunk in rows.chunks(SET_UP_AT_ONCE) {
            let built: Vec<Result<PlaceRun, Error>> = chunk.par_iter().map(set_up).collect();
            for place in built {
                set.push(place?);
            }
        }
        Ok(Region { places: set })
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

    /// Replicates to run in all, for a progress bar: every scenario's in
    /// every place.
    pub fn jobs(&self) -> u64 {
        let settings = self.places[0].plan.settings();
        (self.places.len() * self.scenarios()) as u64 * settings.replicates as u64
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
        let mut m = replicates::memory_estimate(&configs, settings.replicates, threads);
        // Each place's replicate is cut down to places.csv's figures as
        // soon as it is run: the months of at most one replicate a thread
        // are held, and a few figures for every replicate of every place.
        // The months in flight are counted with the populations running.
        let per_replicate = m.results / settings.replicates.max(1) as u64;
        m.populations = m.populations.saturating_add(
            per_replicate
                .div_ceil(self.places.len() as u64)
                .saturating_mul(threads as u64),
        );
        let figures = (configs.len() * FIGURES.len() * 8) as u64 * settings.replicates as u64;
        m.results = figures.div_ceil(shards as u64);
        // The run's files are a table of figures a place, not each place's
        // months.
        m.outputs = m.outputs.div_ceil(self.places.len() as u64);
        // Each place's scenarios, set up, and the memory its populations of
        // another size leave behind: England's 153 places peaked 67 MB
        // above the rest of the estimate.
        m.program = m
            .program
            .saturating_add(self.places.len() as u64 * Region::PER_PLACE);
        m
    }

    /// Memory each place takes beyond its populations and results.
    pub const PER_PLACE: u64 = 1 << 20;

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

    /// One shard's share of the run: the replicates of places that
    /// [`Shard::holds`] picks (each replicate of each place one piece, the
    /// run's first replicate of every place first), each cut down to the
    /// figures places.csv gives as soon as it is run.
    pub fn run_shard(
        &self,
        shard: Shard,
        on_done: &(dyn Fn() + Sync),
    ) -> Result<PlacesPartial, Error> {
        let (per, places) = (self.scenarios(), self.places.len());
        let settings = self.places[0].plan.settings();
        let drawn = self.drawn();
        let pool = replicates::pool(settings)?;
        let pieces: Vec<(usize, u32)> = (0..settings.replicates)
            .flat_map(|r| (0..places).map(move |p| (p, r)))
            .enumerate()
            .filter(|(piece, _)| shard.holds(*piece))
            .map(|(_, at)| at)
            .collect();
        let workers = replicates::workers(pieces.len(), &pool);
        let done: Vec<(PlaceReplicate, u64, u64)> = pool.install(|| {
            pieces
                .par_iter()
                .map(|&(p, r)| {
                    let plan = &self.places[p].plan;
                    let config = |s: usize, r: u32| plan.config_at(s, r, drawn);
                    let mut results = Vec::with_capacity(per);
                    let mut shared = 0;
                    for members in replicates::replicate_groups(per, r, &config) {
                        let (out, saved) = replicates::run_group(
                            &config,
                            settings.seed,
                            r,
                            &members,
                            workers,
                            on_done,
                        );
                        results.extend(out);
                        shared += saved;
                    }
                    let months = results.iter().map(|(_, x)| x.resident_months).sum();
                    let figures = replicate_figures(plan, r, drawn, results);
                    (
                        PlaceReplicate {
                            place: p,
                            replicate: r,
                            figures,
                        },
                        months,
                        shared,
                    )
                })
                .collect()
        });
        let mut part = PlacesPartial {
            threads: pool.current_num_threads(),
            ..PlacesPartial::default()
        };
        for (figures, months, shared) in done {
            part.resident_months += months - shared;
            part.burn_in_shared += shared;
            part.replicates.push(figures);
        }
        Ok(part)
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

    /// The outcome from every shard's results, in any order: each place's
    /// figures, replicate by replicate, as its own run would give them.
    pub fn put_together(
        self,
        shards: Vec<PlacesPartial>,
        seconds: f64,
    ) -> Result<RegionOutcome, AssembleError> {
        let replicates = self.places[0].plan.settings().replicates;
        let reps = replicates as usize;
        let per = self.scenarios();
        let mut slots: Vec<Option<Vec<Vec<f64>>>> = vec![None; self.places.len() * reps];
        let (mut resident_months, mut burn_in_shared, mut threads) = (0, 0, 0);
        for shard in shards {
            resident_months += shard.resident_months;
            burn_in_shared += shard.burn_in_shared;
            threads = threads.max(shard.threads);
            for x in shard.replicates {
                let extra = AssembleError::ExtraPlace {
                    place: x.place,
                    replicate: x.replicate,
                };
                let fits = x.figures.len() == per
                    && x.figures
                        .iter()
                        .enumerate()
                        .all(|(s, f)| f.len() == figures_in(s));
                if x.place >= self.places.len() || x.replicate as usize >= reps || !fits {
                    return Err(extra);
                }
                if slots[x.place * reps + x.replicate as usize]
                    .replace(x.figures)
                    .is_some()
                {
                    return Err(extra);
                }
            }
        }
        let names: Vec<String> = self.places[0]
            .plan
            .scenarios()
            .iter()
            .map(|l| l.config.name.clone())
            .collect();
        let mut slots = slots.into_iter();
        let places = self
            .places
            .into_iter()
            .enumerate()
            .map(|(p, place)| {
                let each = slots
                    .by_ref()
                    .take(reps)
                    .enumerate()
                    .map(|(r, f)| {
                        f.ok_or(AssembleError::MissingPlace {
                            place: p,
                            replicate: r as u32,
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                // [s][f][r] from [r][s][f].
                let figures = (0..per)
                    .map(|s| {
                        (0..figures_in(s))
                            .map(|f| each.iter().map(|x| x[s][f]).collect())
                            .collect()
                    })
                    .collect();
                Ok(PlaceOutcome {
                    name: place.name,
                    region: place.region,
                    residents: place.plan.scenarios()[0].config.population.residents as u64,
                    figures,
                })
            })
            .collect::<Result<Vec<_>, AssembleError>>()?;
        Ok(RegionOutcome {
            places,
            scenarios: names,
            replicates,
            resident_months,
            burn_in_shared,
            threads,
            seconds,
        })
    }
}

/// The figures places.csv gives of each scenario, in order: the first
/// four of every scenario, the rest of each one compared with the
/// baseline. Named as in summary.json's `against_baseline` and
/// economics.json (`npv`).
pub const FIGURES: [&str; 7] = [
    "total_cost_gbp",
    "reactive_cost_gbp",
    "prevention_spend_gbp",
    "capital_spend_gbp",
    "net_revenue_saving_gbp",
    "crisis_months_avoided",
    "npv",
];

/// How many of [`FIGURES`] scenario `s` has.
fn figures_in(s: usize) -> usize {
    if s == 0 { 4 } else { FIGURES.len() }
}

/// One place's replicate `r`, from its scenarios' results: each scenario's
/// [`FIGURES`], worked out as the place's own run works them out for that
/// replicate (every figure is a replicate's own, paired with the
/// baseline's same replicate).
fn replicate_figures(
    plan: &Plan,
    r: u32,
    drawn: bool,
    results: Vec<(usize, crate::engine::ReplicateResult)>,
) -> Vec<Vec<f64>> {
    let per = plan.scenarios().len();
    let one = replicates::RunSettings {
        replicates: 1,
        ..plan.settings().clone()
    };
    let part = Partial {
        results: results.into_iter().map(|(s, x)| (s, 0, x)).collect(),
        burn_in_shared: Vec::new(),
        threads: 1,
    };
    let exp = replicates::assemble(per, &|s, _| plan.config_at(s, r, drawn), &one, vec![part])
        .expect("every scenario of the replicate was run");
    let configs: Vec<&crate::model::Config> = plan.scenarios().iter().map(|l| &l.config).collect();
    let money: Vec<&[crate::economics::InterventionMoney]> = plan
        .scenarios()
        .iter()
        .map(|l| l.intervention_money.as_slice())
        .collect();
    let economics = crate::economics::evaluate(
        &plan.scenarios()[0].conventions,
        &configs,
        &money,
        &exp.scenarios,
    );
    (0..per)
        .map(|s| {
            let HeadlineByReplicate {
                total_cost_gbp,
                reactive_cost_gbp,
                prevention_spend_gbp,
                capital_spend_gbp,
                net_revenue_saving_gbp,
                crisis_months_avoided,
            } = aggregate::headline_by_replicate(&exp, s);
            let mut f = vec![
                total_cost_gbp[0],
                reactive_cost_gbp[0],
                prevention_spend_gbp[0],
                capital_spend_gbp[0],
            ];
            if s > 0 {
                f.push(net_revenue_saving_gbp[0]);
                f.push(crisis_months_avoided[0]);
                f.push(economics.appraisals[s - 1].npv_by_replicate[0]);
            }
            f
        })
        .collect()
}

/// One place's replicate, cut down to places.csv's figures.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct PlaceReplicate {
    /// The place, from 0 in the table's order.
    pub place: usize,
    /// The replicate, from 0.
    pub replicate: u32,
    /// `figures[s][f]`: scenario `s`'s figure `f` of [`FIGURES`] (the
    /// baseline's first four). A part holds each as its bits, a whole
    /// number, so nothing is rounded on the way to the merge.
    #[serde(with = "as_bits")]
    pub figures: Vec<Vec<f64>>,
}

/// Numbers written as their bits: JSON's decimal text does not always read
/// back to the same number.
mod as_bits {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub(super) fn serialize<S: Serializer>(v: &[Vec<f64>], s: S) -> Result<S::Ok, S::Error> {
        let bits: Vec<Vec<u64>> = v
            .iter()
            .map(|row| row.iter().map(|x| x.to_bits()).collect())
            .collect();
        bits.serialize(s)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Vec<f64>>, D::Error> {
        let bits = Vec::<Vec<u64>>::deserialize(d)?;
        Ok(bits
            .into_iter()
            .map(|row| row.into_iter().map(f64::from_bits).collect())
            .collect())
    }
}

/// A shard's share of a run over places ([`Region::run_shard`]).
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct PlacesPartial {
    /// Its places' replicates, in the run's order.
    pub replicates: Vec<PlaceReplicate>,
    /// Resident-months simulated, burn-in included once where shared.
    pub resident_months: u64,
    /// Burn-in resident-months not simulated again because scenarios
    /// shared them.
    pub burn_in_shared: u64,
    /// Worker threads the shard used.
    pub threads: usize,
}

/// One place's figures.
#[derive(Debug)]
pub struct PlaceOutcome {
    /// Its name.
    pub name: String,
    /// Its region, if the table gives one.
    pub region: Option<String>,
    /// Its residents at the start.
    pub residents: u64,
    /// `figures[s][f][r]`: scenario `s`'s figure `f` of [`FIGURES`] in
    /// replicate `r`.
    pub figures: Vec<Vec<Vec<f64>>>,
}

/// A finished run over many places.
#[derive(Debug)]
pub struct RegionOutcome {
    /// Each place's, in the table's order.
    pub places: Vec<PlaceOutcome>,
    /// The scenarios' names, the baseline first.
    pub scenarios: Vec<String>,
    /// Replicates of each place.
    pub replicates: u32,
    /// Resident-months simulated, burn-in included once where shared.
    pub resident_months: u64,
    /// Burn-in resident-months not simulated again.
    pub burn_in_shared: u64,
    /// Worker threads the run used (the most any shard used).
    pub threads: usize,
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

impl RegionOutcome {
    /// Resident-months simulated in all, burn-in included once where
    /// shared.
    pub fn resident_months(&self) -> u64 {
        self.resident_months
    }

    /// Worker threads the run used (the most any shard used).
    pub fn threads(&self) -> usize {
        self.threads
    }

    /// Every scenario's figures for each place, each region (where the
    /// table gives regions) and all places, bands across replicates of the
    /// figures added up replicate by replicate.
    pub fn rows(&self) -> Vec<Row> {
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
            let residents = members.iter().map(|&i| self.places[i].residents).sum();
            for (s, scenario) in self.scenarios.iter().enumerate() {
                let mut sums: Vec<Vec<f64>> = Vec::new();
                for &i in &members {
                    let each = &self.places[i].figures[s];
                    if sums.is_empty() {
                        sums = each.clone();
                    } else {
                        for (total, v) in sums.iter_mut().zip(each) {
                            total.iter_mut().zip(v).for_each(|(t, x)| *t += x);
                        }
                    }
                }
                rows.extend(sums.into_iter().zip(FIGURES).map(|(v, figure)| Row {
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
            places_csv(&self.rows()),
        )]
    }

    /// The terminal summary: for all places and each region, each
    /// scenario's net revenue saving and net present value.
    pub fn table(&self) -> String {
        use std::fmt::Write as _;
        let rows = self.rows();
        let replicates = self.replicates;
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

/// A run over many places' figures ([`RegionOutcome::rows`]), as
/// `places.csv`.
fn places_csv(rows: &[Row]) -> Vec<u8> {
    use crate::output::cells::{band_cells, csv_bytes, pounds_cells, text, whole};
    csv_bytes(
        &[
            "level",
            "name",
            "region",
            "places",
            "residents",
            "scenario",
            "figure",
            "mean",
            "p5",
            "p50",
            "p95",
        ],
        rows.iter().map(|r| {
            let level = match r.level {
                Level::Place => "place",
                Level::Region => "region",
                Level::All => "all",
            };
            let mut cells = vec![
                text(level),
                text(r.name.as_str()),
                text(r.region.as_str()),
                whole(r.places as u64),
                whole(r.residents),
                text(r.scenario.as_str()),
                text(r.figure),
            ];
            // Every figure but crisis-months is money.
            cells.extend(if r.figure.ends_with("_gbp") || r.figure == "npv" {
                pounds_cells(&r.band)
            } else {
                band_cells(&r.band)
            });
            cells
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn table(residents: u32, deciles: &[f64; 10]) -> String {
        let cells: Vec<String> = deciles.iter().map(|d| format!("{d:?}")).collect();
        format!(
            "place,residents,decile_1,decile_2,decile_3,decile_4,decile_5,decile_6,decile_7,decile_8,decile_9,decile_10\n\
             Somewhere,{residents},{}\n",
            cells.join(",")
        )
    }

    fn read(text: &str) -> Result<Vec<(usize, PlaceRow)>, Error> {
        let text = text.to_string();
        read_places(Path::new("places.csv"), &|_| Ok(text.clone()))
    }

    #[test]
    fn deciles_beyond_any_place_are_refused() {
        for huge in [1e305, 1e308, 5e7 + 1.0] {
            let mut d = [100.0; 10];
            d[0] = huge;
            let e = read(&table(5_000, &d)).unwrap_err().to_string();
            assert!(
                e.contains("decile_1") && e.contains("0 to 50,000,000"),
                "{e}"
            );
        }
    }

    #[test]
    fn apportioning_keeps_every_resident_whatever_the_weights() {
        assert_eq!(apportion(10, &[1.0, 1.0, 1.0]), vec![4, 3, 3]);
        assert_eq!(
            apportion(5_000, &[f64::MAX, f64::MAX, 0.0]),
            vec![2_500, 2_500, 0]
        );
        assert_eq!(apportion(7, &[1e-300, 0.0]), vec![7, 0]);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// Every table that is accepted has each of its places' residents
        /// laid out in full, none in a decile it gives 0.
        #[test]
        fn an_accepted_place_runs_every_resident(
            residents in 1u32..=50_000_000,
            deciles in proptest::array::uniform10(prop_oneof![
                Just(0.0),
                0.0f64..1.0,
                0.0f64..1e4,
                0.0f64..=5e7,
                Just(5e7),
                any::<f64>(),
            ]),
            size in 50.0f64..20_000.0,
            fewest in 1usize..40,
        ) {
            if let Ok(rows) = read(&table(residents, &deciles)) {
                let row = &rows[0].1;
                let hoods = neighbourhoods(row, size, fewest);
                let run: u64 = hoods.iter().map(|n| n.residents as u64).sum();
                prop_assert_eq!(run, residents as u64);
                for n in &hoods {
                    prop_assert!(n.residents > 0);
                    prop_assert!(deciles[n.decile as usize - 1] > 0.0);
                }
            }
        }
    }
}
