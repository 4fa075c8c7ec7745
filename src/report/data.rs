//! Reading a run's output folder back: the parts of `summary.json`,
//! `economics.json` and the CSV files that the charts and the report need,
//! checked as they are read so a missing or corrupt file is named with what
//! is wrong and where.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::ReportError;
pub(crate) use crate::economics::appraisal::{Appraisal, Cumulative, Payback};
use crate::metrics::{Band, Metric};
// Text cells of the CSV files are read as they were before the writer
// neutralised them for spreadsheets.
use crate::published::{
    ASSUMPTIONS_FILE, BY_NEIGHBOURHOOD_FILE, ECONOMICS_FILE, EconomicsFile, MonthRecord,
    MorrisRecord, SUMMARY_FILE, SensitivityRecord, Settings, SummaryFile, de_csv_text,
};

/// Reads one file of the output folder by name.
pub type Source<'a> = dyn Fn(&str) -> std::io::Result<Vec<u8>> + Sync + 'a;

#[derive(Debug, Deserialize)]
pub(crate) struct NeighbourhoodRow {
    #[serde(deserialize_with = "de_csv_text")]
    pub scenario: String,
    #[serde(deserialize_with = "de_csv_text")]
    pub neighbourhood: String,
    pub deprivation_decile: u8,
    pub resident_months: f64,
    pub crisis_months: f64,
}

#[derive(Debug, Deserialize)]
pub(crate) struct AssumptionRow {
    #[serde(deserialize_with = "de_csv_text")]
    pub scenario: String,
    #[serde(deserialize_with = "de_csv_text")]
    pub parameter: String,
    #[serde(deserialize_with = "de_csv_text")]
    pub value: String,
    #[serde(deserialize_with = "de_csv_text")]
    pub source: String,
    #[serde(deserialize_with = "de_csv_text")]
    pub confidence: String,
    /// The range's ends and distribution, empty where it has none (and in
    /// the files of runs before ranges were written).
    #[serde(default, deserialize_with = "de_csv_text")]
    pub range_low: String,
    #[serde(default, deserialize_with = "de_csv_text")]
    pub range_high: String,
    #[serde(default, deserialize_with = "de_csv_text")]
    pub distribution: String,
    /// Where the range comes from, or why it is held fixed.
    #[serde(default, deserialize_with = "de_csv_text")]
    pub uncertainty: String,
}

/// Monthly bands by scenario and metric.
pub(crate) struct Series {
    file: &'static str,
    names: Vec<String>,
    bands: BTreeMap<(usize, String), Vec<Band>>,
}

impl Series {
    /// The monthly bands of `metric` for scenario `s`, month 1 first.
    pub(crate) fn get(&self, s: usize, metric: &Metric) -> Result<&[Band], ReportError> {
        let metric = metric.name();
        self.bands
            .get(&(s, metric.clone()))
            .map(Vec::as_slice)
            .ok_or_else(|| ReportError::Corrupt {
                file: self.file.into(),
                detail: format!(
                    "it has no rows for metric \"{metric}\" of scenario \"{}\"",
                    self.names[s]
                ),
            })
    }
}

/// Months of the horizon on the calendar, and financial years.
#[derive(Clone, Copy, Debug)]
pub struct Timeline {
    /// Calendar year and month of month 1.
    pub start: (i32, u32),
    pub financial_year_start_month: u32,
}

impl Timeline {
    pub fn new(start: (i32, u32), financial_year_start_month: u32) -> Timeline {
        Timeline {
            start,
            financial_year_start_month,
        }
    }

    /// Calendar year and month (1–12) of horizon month `m` (1-based).
    pub fn calendar(&self, m: u32) -> (i32, u32) {
        let i = self.start.0 * 12 + self.start.1 as i32 - 1 + m as i32 - 1;
        (i.div_euclid(12), i.rem_euclid(12) as u32 + 1)
    }

    pub fn fy_of_month(&self, m: u32) -> String {
        let (y, month) = self.calendar(m);
        let fy = if month >= self.financial_year_start_month {
            y
        } else {
            y - 1
        };
        crate::economics::fy_label(fy, self.financial_year_start_month)
    }

    /// Months (1-based) of the horizon that start a financial year.
    pub fn year_starts(&self, months: u32) -> Vec<u32> {
        (1..=months)
            .filter(|&m| self.calendar(m).1 == self.financial_year_start_month)
            .collect()
    }
}

/// Everything the report is built from.
pub(crate) struct RunData {
    pub summary: SummaryFile,
    pub economics: EconomicsFile<'static>,
    pub timeseries: Series,
    pub differences: Series,
    pub neighbourhoods: Vec<NeighbourhoodRow>,
    pub assumptions: Vec<AssumptionRow>,
    /// `upstream sensitivity`'s one-way results, when the folder has them.
    pub sensitivity: Vec<SensitivityRecord>,
    /// Its Morris screen, when the folder has one.
    pub morris: Vec<MorrisRecord>,
    pub timeline: Timeline,
}

impl RunData {
    /// Scenario `s`'s one-way rows, the largest swing first.
    pub(crate) fn swings(&self, s: usize) -> Vec<&SensitivityRecord> {
        let name = &self.summary.scenarios[s].name;
        let mut rows: Vec<_> = self
            .sensitivity
            .iter()
            .filter(|r| &r.scenario == name)
            .collect();
        rows.sort_by_key(|r| r.rank);
        rows
    }

    /// Scenario `s`'s Morris rows, the largest μ* first.
    pub(crate) fn screened(&self, s: usize) -> Vec<&MorrisRecord> {
        let name = &self.summary.scenarios[s].name;
        let mut rows: Vec<_> = self.morris.iter().filter(|r| &r.scenario == name).collect();
        rows.sort_by_key(|r| r.rank);
        rows
    }
}

impl RunData {
    pub(crate) fn names(&self) -> impl Iterator<Item = &str> {
        self.summary.scenarios.iter().map(|s| s.name.as_str())
    }

    pub(crate) fn months(&self) -> u32 {
        self.summary.settings.months
    }

    pub(crate) fn price_base_label(&self) -> String {
        let c = &self.economics.conventions;
        crate::economics::fy_label(c.price_base, c.financial_year_start_month)
    }
}

fn read(source: &Source, file: &'static str) -> Result<Vec<u8>, ReportError> {
    source(file).map_err(|e| ReportError::Missing {
        file: file.into(),
        reason: e.to_string(),
    })
}

fn json<T: DeserializeOwned>(source: &Source, file: &'static str) -> Result<T, ReportError> {
    let bytes = read(source, file)?;
    serde_json::from_slice(&bytes).map_err(|e| ReportError::Corrupt {
        file: file.into(),
        detail: e.to_string(),
    })
}

/// The rows of a CSV file that a folder may not have (an experiment's):
/// none when it is absent, and checked as any other when present.
fn optional_csv_rows<T: DeserializeOwned>(
    source: &Source,
    file: &'static str,
) -> Result<Vec<T>, ReportError> {
    match source(file) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        _ => csv_rows(source, file, true),
    }
}

/// The rows of a CSV file; only a file that may be empty (differences when
/// there is no scenario to compare) may have none.
fn csv_rows<T: DeserializeOwned>(
    source: &Source,
    file: &'static str,
    may_be_empty: bool,
) -> Result<Vec<T>, ReportError> {
    let bytes = read(source, file)?;
    let corrupt = |detail: String| ReportError::Corrupt {
        file: file.into(),
        detail,
    };
    let mut reader = csv::Reader::from_reader(bytes.as_slice());
    let mut rows = Vec::new();
    for r in reader.deserialize() {
        rows.push(r.map_err(|e| {
            let at = e
                .position()
                .map(|p| format!("line {}: ", p.line()))
                .unwrap_or_default();
            corrupt(format!("{at}{}", e.kind_message()))
        })?);
    }
    if rows.is_empty() && !may_be_empty {
        return Err(corrupt("it has no rows".into()));
    }
    Ok(rows)
}

trait KindMessage {
    fn kind_message(&self) -> String;
}

impl KindMessage for csv::Error {
    /// The error without the position, which the caller adds as a line.
    fn kind_message(&self) -> String {
        match self.kind() {
            csv::ErrorKind::Deserialize { err, .. } => match err.field() {
                Some(f) => format!("field {}: {}", f + 1, err.kind()),
                None => err.kind().to_string(),
            },
            csv::ErrorKind::UnequalLengths {
                expected_len, len, ..
            } => format!("{len} fields where the header has {expected_len}"),
            _ => self.to_string(),
        }
    }
}

/// The scenario's position in the run; `at` says where it was named.
fn index_of(names: &[String], name: &str, file: &str, at: &str) -> Result<usize, ReportError> {
    names
        .iter()
        .position(|n| n == name)
        .ok_or_else(|| ReportError::Corrupt {
            file: file.into(),
            detail: format!("{at}scenario \"{name}\" is not one of the run's (summary.json)"),
        })
}

/// The file line of the i-th data row (after the header, counting from 1).
fn line_of(i: usize) -> String {
    format!("line {}: ", i + 2)
}

fn series(
    source: &Source,
    file: &'static str,
    names: &[String],
    months: u32,
    may_be_empty: bool,
) -> Result<Series, ReportError> {
    let rows: Vec<MonthRecord> = csv_rows(source, file, may_be_empty)?;
    let mut bands: BTreeMap<(usize, String), Vec<Band>> = BTreeMap::new();
    let nan = Band {
        mean: f64::NAN,
        p5: f64::NAN,
        p50: f64::NAN,
        p95: f64::NAN,
    };
    for (i, r) in rows.into_iter().enumerate() {
        let s = index_of(names, &r.scenario, file, &line_of(i))?;
        if !(1..=months).contains(&r.month) {
            return Err(ReportError::Corrupt {
                file: file.into(),
                detail: format!(
                    "{}month {} is outside the run's 1 to {months}",
                    line_of(i),
                    r.month
                ),
            });
        }
        let v = bands
            .entry((s, r.metric))
            .or_insert_with(|| vec![nan; months as usize]);
        v[r.month as usize - 1] = Band {
            mean: r.mean,
            p5: r.p5,
            p50: r.p50,
            p95: r.p95,
        };
    }
    for ((s, metric), v) in &bands {
        if let Some(m) = v.iter().position(|b| b.mean.is_nan()) {
            return Err(ReportError::Corrupt {
                file: file.into(),
                detail: format!(
                    "metric \"{metric}\" of scenario \"{}\" has no number for month {}",
                    names[*s],
                    m + 1
                ),
            });
        }
    }
    Ok(Series {
        file,
        names: names.to_vec(),
        bands,
    })
}

fn start_of(settings: &Settings) -> Result<(i32, u32), ReportError> {
    let bad = || ReportError::Corrupt {
        file: SUMMARY_FILE.into(),
        detail: format!(
            "settings.start is \"{}\", expected a year and month such as 2026-04",
            settings.start
        ),
    };
    let (y, m) = settings.start.split_once('-').ok_or_else(bad)?;
    let y: i32 = y.parse().map_err(|_| bad())?;
    let m: u32 = m.parse().map_err(|_| bad())?;
    if (1..=12).contains(&m) {
        Ok((y, m))
    } else {
        Err(bad())
    }
}

/// Reads and checks the output folder that `source` reads from.
pub(crate) fn load(source: &Source) -> Result<RunData, ReportError> {
    let summary: SummaryFile = json(source, SUMMARY_FILE)?;
    let economics: EconomicsFile<'static> = json(source, ECONOMICS_FILE)?;
    let names: Vec<String> = summary.scenarios.iter().map(|s| s.name.clone()).collect();
    if names.is_empty() || summary.settings.months == 0 {
        return Err(ReportError::Corrupt {
            file: SUMMARY_FILE.into(),
            detail: "it lists no scenarios or no months".into(),
        });
    }
    for a in economics.appraisals.iter() {
        index_of(&names, &a.scenario, ECONOMICS_FILE, "an appraisal's ")?;
    }
    let months = summary.settings.months;
    let timeseries = series(
        source,
        crate::published::TIMESERIES_FILE,
        &names,
        months,
        false,
    )?;
    let differences = series(
        source,
        crate::published::DIFFERENCES_FILE,
        &names,
        months,
        names.len() == 1,
    )?;
    let neighbourhoods: Vec<NeighbourhoodRow> = csv_rows(source, BY_NEIGHBOURHOOD_FILE, false)?;
    for (i, r) in neighbourhoods.iter().enumerate() {
        index_of(&names, &r.scenario, BY_NEIGHBOURHOOD_FILE, &line_of(i))?;
    }
    let assumptions: Vec<AssumptionRow> = csv_rows(source, ASSUMPTIONS_FILE, false)?;
    let sensitivity: Vec<SensitivityRecord> =
        optional_csv_rows(source, crate::published::SENSITIVITY_FILE)?;
    for (i, r) in sensitivity.iter().enumerate() {
        index_of(
            &names,
            &r.scenario,
            crate::published::SENSITIVITY_FILE,
            &line_of(i),
        )?;
    }
    let morris: Vec<MorrisRecord> = optional_csv_rows(source, crate::published::MORRIS_FILE)?;
    for (i, r) in morris.iter().enumerate() {
        index_of(
            &names,
            &r.scenario,
            crate::published::MORRIS_FILE,
            &line_of(i),
        )?;
    }
    let c = &economics.conventions;
    if !(1..=12).contains(&c.financial_year_start_month) {
        return Err(ReportError::Corrupt {
            file: ECONOMICS_FILE.into(),
            detail: format!(
                "conventions.financial_year_start_month is {}, expected 1 to 12",
                c.financial_year_start_month
            ),
        });
    }
    let timeline = Timeline::new(start_of(&summary.settings)?, c.financial_year_start_month);
    Ok(RunData {
        summary,
        economics,
        timeseries,
        differences,
        neighbourhoods,
        assumptions,
        sensitivity,
        morris,
        timeline,
    })
}
