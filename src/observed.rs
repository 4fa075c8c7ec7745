//! A place's observed history: the counts it recorded (A&E attendances a
//! year, children looked after at the end of March), read from a CSV to set
//! beside the simulation's own.
//!
//! The file has the columns `metric`, `period` and `count`, and may have a
//! `source`. `metric` is a count as the run's monthly CSV names it
//! (`service.ae_attendance.events`); `period` is a calendar month
//! (`2026-07`) or a financial year (`2026/27`). A flow (contacts, entries)
//! is summed over the period; a stock (places occupied, residents at a need
//! level) is read at the end of the period's last month, as counts on a day
//! are published (children looked after at 31 March).

use std::path::{Path, PathBuf};

use crate::input;
use crate::metrics::{Kind, Layout, Metric};
use crate::scenario::Loaded;

/// A month or a financial year.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Period {
    /// A calendar month: year and month (1–12).
    Month(i32, u32),
    /// A financial year, by the calendar year it starts in (2026 for
    /// 2026/27).
    FinancialYear(i32),
}

impl Period {
    /// Reads `2026-07` or `2026/27`.
    pub fn parse(text: &str) -> Option<Period> {
        let year = |t: &str| -> Option<i32> {
            (t.len() == 4 && t.bytes().all(|b| b.is_ascii_digit()))
                .then(|| t.parse().ok())
                .flatten()
        };
        if let Some((y, m)) = text.split_once('-') {
            let month: u32 = (m.len() == 2).then(|| m.parse().ok()).flatten()?;
            return (1..=12)
                .contains(&month)
                .then_some(Period::Month(year(y)?, month));
        }
        let (y, next) = text.split_once('/')?;
        let first = year(y)?;
        let next: i32 = (next.len() == 2 && next.bytes().all(|b| b.is_ascii_digit()))
            .then(|| next.parse().ok())
            .flatten()?;
        (next == (first + 1).rem_euclid(100)).then_some(Period::FinancialYear(first))
    }

    /// The period as the file writes it.
    pub fn label(&self) -> String {
        match self {
            Period::Month(y, m) => format!("{y}-{m:02}"),
            Period::FinancialYear(y) => format!("{y}/{:02}", (y + 1).rem_euclid(100)),
        }
    }

    /// Its first and last month as (calendar year, month), for financial
    /// years that start in `fy_start_month`.
    fn ends(&self, fy_start_month: u32) -> ((i32, u32), (i32, u32)) {
        match *self {
            Period::Month(y, m) => ((y, m), (y, m)),
            Period::FinancialYear(y) => {
                let last = if fy_start_month == 1 {
                    (y, 12)
                } else {
                    (y + 1, fy_start_month - 1)
                };
                ((y, fy_start_month), last)
            }
        }
    }
}

/// Months from `start` to `at`, both (calendar year, month).
fn months_between(start: (i32, u32), at: (i32, u32)) -> i64 {
    (at.0 as i64 - start.0 as i64) * 12 + at.1 as i64 - start.1 as i64
}

/// A month as people write it: "April 2026".
fn month_name((y, m): (i32, u32)) -> String {
    const NAMES: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    format!("{} {y}", NAMES[(m as usize).clamp(1, 12) - 1])
}

/// One observed count.
#[derive(Clone, Debug, PartialEq)]
pub struct Observation {
    /// The metric, as the monthly CSV names it.
    pub metric: String,
    /// When.
    pub period: Period,
    /// What the place counted.
    pub count: f64,
    /// Where the count comes from, if the file says.
    pub source: Option<String>,
    /// The line of the file it is on.
    pub line: usize,
    /// The metric's place in the scenario's monthly row.
    index: usize,
    /// Read at the last month's end, not summed.
    stock: bool,
    /// The horizon months it covers, 0-based, first and last.
    months: (usize, usize),
}

impl Observation {
    /// The simulation's figure for this count in one replicate's monthly
    /// `series` (laid out as the scenario's [`Layout`]).
    pub fn simulated(&self, series: &crate::metrics::Series, layout: &Layout) -> f64 {
        let n = layout.len();
        if self.stock {
            series.get(n, self.months.1, self.index)
        } else {
            (self.months.0..=self.months.1)
                .map(|m| series.get(n, m, self.index))
                .sum()
        }
    }

    /// The last horizon month (0-based) it needs.
    pub fn last_month(&self) -> usize {
        self.months.1
    }
}

/// A place's observed counts, checked against a scenario.
#[derive(Clone, Debug, PartialEq)]
pub struct Observed {
    /// The file they were read from.
    pub file: PathBuf,
    /// Every count, in the file's order.
    pub observations: Vec<Observation>,
}

impl Observed {
    /// The file's name, without its folder: what shared outputs (the
    /// calibrated scenario, a report) call it, so no machine's folders
    /// travel with them.
    pub fn name(&self) -> String {
        file_name(&self.file)
    }

    /// Each metric observed, once, in order of first appearance.
    pub fn metrics(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for o in &self.observations {
            if !out.contains(&o.metric.as_str()) {
                out.push(&o.metric);
            }
        }
        out
    }

    /// The horizon months (from the scenario's start) needed to simulate
    /// every count.
    pub fn months_needed(&self) -> usize {
        self.observations
            .iter()
            .map(|o| o.last_month() + 1)
            .max()
            .unwrap_or(0)
    }
}

/// Observed counts that cannot be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{}{}{}: {message}", file.display(), line.map(|l| format!(", line {l}")).unwrap_or_default(), column.as_ref().map(|c| format!(", column {c}")).unwrap_or_default())]
pub struct ObservedError {
    /// The file.
    pub file: PathBuf,
    /// The line at fault, if one.
    pub line: Option<usize>,
    /// The column at fault, as "3 (count)", if one.
    pub column: Option<String>,
    /// What is wrong and what was expected.
    pub message: String,
}

/// The columns a file must have, then the one it may have.
const COLUMNS: [&str; 3] = ["metric", "period", "count"];
const OPTIONAL: &str = "source";

/// Reads `path` and checks its counts against `scenario`: each metric one
/// the scenario records as a count, each period inside its horizon, each
/// count a number of 0 or more, no count given twice.
pub fn read(path: &Path, scenario: &Loaded) -> Result<Observed, ObservedError> {
    read_through(path, scenario, &crate::input::read)
}

/// As [`read`], reading the file through `read` (a shard keeps its text; a
/// merge reads it from the parts).
pub fn read_through(
    path: &Path,
    scenario: &Loaded,
    read: &dyn Fn(&Path) -> std::io::Result<String>,
) -> Result<Observed, ObservedError> {
    let text = read(path).map_err(|e| ObservedError {
        file: path.to_path_buf(),
        line: None,
        column: None,
        message: format!("cannot read it: {e}"),
    })?;
    parse(path, &text, scenario)
}

/// As [`read`], from the file's text.
pub fn parse(path: &Path, text: &str, scenario: &Loaded) -> Result<Observed, ObservedError> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(true)
        .from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| fault(path, Some(1), None, format!("not a CSV file: {e}")))?
        .clone();
    let rows = Rows::of(path, &headers, scenario)?;
    let mut observations: Vec<Observation> = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let record =
            record.map_err(|e| fault(path, Some(i + 2), None, format!("not a CSV row: {e}")))?;
        let line = record.position().map_or(i + 2, |p| p.line() as usize);
        if let Some(why) = input::row_length_fault(record.len(), headers.len()) {
            return Err(fault(path, Some(line), None, why));
        }
        let observation = rows.observation(&record, line, &observations)?;
        observations.push(observation);
    }
    if observations.is_empty() {
        return Err(fault(
            path,
            None,
            None,
            "it holds no counts: expected a row for each count, under the header metric,period,count".into(),
        ));
    }
    Ok(Observed {
        file: path.to_path_buf(),
        observations,
    })
}

/// A fault in the observed file `path`, at a line and a column (its index
/// and name) where known.
fn fault(
    path: &Path,
    line: Option<usize>,
    column: Option<(usize, &str)>,
    message: String,
) -> ObservedError {
    ObservedError {
        file: path.to_path_buf(),
        line,
        column: column.map(|(i, name)| format!("{} ({name})", i + 1)),
        message,
    }
}

/// How to read the rows of an observed file: where its columns are, and
/// the scenario's counts and horizon each row is checked against.
struct Rows<'a> {
    path: &'a Path,
    /// The columns `metric`, `period` and `count`, by position.
    at: [usize; 3],
    source_at: Option<usize>,
    layout: Layout,
    /// The names of the counts the scenario records.
    counts: Vec<String>,
    start: (i32, u32),
    months: usize,
    fy: u32,
    /// "the scenario runs from … to …".
    horizon: String,
}

impl<'a> Rows<'a> {
    /// Checks the header and sets up the rows' checks.
    fn of(
        path: &'a Path,
        headers: &csv::StringRecord,
        scenario: &Loaded,
    ) -> Result<Rows<'a>, ObservedError> {
        let columns: Vec<&str> = COLUMNS.iter().copied().chain([OPTIONAL]).collect();
        input::check_header(headers, &columns, &COLUMNS, "a table of observed counts").map_err(
            |f| {
                let column = match (f.index, f.column) {
                    (Some(i), Some(name)) => Some(format!("{} ({name})", i + 1)),
                    (_, name) => name,
                };
                ObservedError {
                    file: path.to_path_buf(),
                    line: Some(1),
                    column,
                    message: f.message,
                }
            },
        )?;
        let mut at = [0usize; 3];
        for (j, c) in COLUMNS.iter().enumerate() {
            at[j] = headers.iter().position(|h| h == *c).expect("checked above");
        }
        let config = &scenario.config;
        let layout = Layout::new(config);
        let start = scenario.start;
        let months = config.months;
        let last = {
            let total = start.0 as i64 * 12 + start.1 as i64 - 1 + months as i64 - 1;
            (
                (total.div_euclid(12)) as i32,
                (total.rem_euclid(12) + 1) as u32,
            )
        };
        let counts = layout
            .defs
            .iter()
            .filter(|d| is_count(&d.metric) && !d.pence)
            .map(|d| d.name.clone())
            .collect();
        Ok(Rows {
            path,
            at,
            source_at: headers.iter().position(|h| h == OPTIONAL),
            layout,
            counts,
            start,
            months: months as usize,
            fy: scenario.conventions.financial_year_start_month,
            horizon: format!(
                "the scenario runs from {} to {}",
                month_name(start),
                month_name(last)
            ),
        })
    }

    /// The observation on `line`, checked, and checked against those
    /// `before` it.
    fn observation(
        &self,
        record: &csv::StringRecord,
        line: usize,
        before: &[Observation],
    ) -> Result<Observation, ObservedError> {
        let err = |column, message| fault(self.path, Some(line), column, message);
        let cell = |j: usize| record.get(self.at[j]).unwrap_or("");
        let col = |j: usize| Some((self.at[j], COLUMNS[j]));
        let metric = cell(0);
        if let Some(why) = input::text_fault(metric, input::TextKind::Name) {
            return Err(err(col(0), why));
        }
        let Some(index) = self.layout.defs.iter().position(|d| d.name == metric) else {
            let counts: Vec<&str> = self.counts.iter().map(String::as_str).collect();
            let near = crate::scenario::nearest(metric, &counts)
                .map(|n| format!("; did you mean \"{n}\"?"))
                .unwrap_or_default();
            return Err(err(
                col(0),
                format!(
                    "unknown metric \"{}\": expected a count the scenario records, as timeseries.csv names it (such as service.ae_attendance.events){near}",
                    input::quote(metric)
                ),
            ));
        };
        let def = &self.layout.defs[index];
        if def.pence || !is_count(&def.metric) {
            return Err(err(
                col(0),
                format!(
                    "\"{metric}\" is not a count (it is {}); calibrate to counts such as contacts, entries or places occupied",
                    if def.pence { "money" } else { "an index" }
                ),
            ));
        }
        let Some(period) = Period::parse(cell(1)) else {
            return Err(err(
                col(1),
                format!(
                    "expected a month such as 2026-07 or a financial year such as 2026/27, found \"{}\"",
                    input::quote(cell(1))
                ),
            ));
        };
        let (first, last_m) = period.ends(self.fy);
        let (a, b) = (
            months_between(self.start, first),
            months_between(self.start, last_m),
        );
        if a < 0 || b >= self.months as i64 {
            return Err(err(
                col(1),
                format!(
                    "{} is outside the horizon: {}; observe inside it, or set the scenario's `start` and `horizon_years` to cover it",
                    period.label(),
                    self.horizon
                ),
            ));
        }
        let raw = cell(2);
        let count = raw
            .replace([',', '_'], "")
            .parse::<f64>()
            .ok()
            .filter(|c| c.is_finite() && *c >= 0.0)
            .ok_or_else(|| {
                err(
                    col(2),
                    format!(
                        "expected a count of 0 or more, found \"{}\"",
                        input::quote(raw)
                    ),
                )
            })?;
        if let Some(o) = before
            .iter()
            .find(|o| o.metric == metric && o.period == period)
        {
            return Err(err(
                col(1),
                format!(
                    "{metric} in {} is already given on line {}",
                    period.label(),
                    o.line
                ),
            ));
        }
        let overlapping = before
            .iter()
            .find(|o| o.metric == metric && o.months.0 as i64 <= b && a <= o.months.1 as i64);
        if let Some(o) = overlapping {
            return Err(err(
                col(1),
                format!(
                    "{metric} in {} overlaps {} on line {}; give months or financial years, not both",
                    period.label(),
                    o.period.label(),
                    o.line
                ),
            ));
        }
        let source = self
            .source_at
            .and_then(|j| record.get(j))
            .filter(|s| !s.is_empty())
            .map(str::to_string);
        if let Some(why) = source
            .as_deref()
            .and_then(|s| input::text_fault(s, input::TextKind::Prose))
        {
            return Err(err(self.source_at.map(|j| (j, OPTIONAL)), why));
        }
        Ok(Observation {
            metric: metric.to_string(),
            period,
            count,
            source,
            line,
            index,
            stock: def.kind == Kind::Stock,
            months: (a as usize, b as usize),
        })
    }
}

/// `path`'s last part, as text.
pub fn file_name(path: &Path) -> String {
    path.file_name()
        .unwrap_or(path.as_os_str())
        .to_string_lossy()
        .into_owned()
}

/// Whether a metric counts residents, places or events (not an index or
/// quality-adjusted life years).
fn is_count(m: &Metric) -> bool {
    !matches!(m, Metric::QolIndex | Metric::Qalys)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_read_as_people_write_them() {
        assert_eq!(Period::parse("2026-07"), Some(Period::Month(2026, 7)));
        assert_eq!(Period::parse("2026/27"), Some(Period::FinancialYear(2026)));
        assert_eq!(Period::parse("1999/00"), Some(Period::FinancialYear(1999)));
        for bad in [
            "2026/28",
            "2026-13",
            "2026-7",
            "26/27",
            "2026",
            "April 2026",
            "",
        ] {
            assert_eq!(Period::parse(bad), None, "{bad}");
        }
        for p in [Period::Month(2026, 7), Period::FinancialYear(2026)] {
            assert_eq!(Period::parse(&p.label()), Some(p));
        }
    }

    #[test]
    fn a_financial_year_runs_april_to_march() {
        assert_eq!(Period::FinancialYear(2026).ends(4), ((2026, 4), (2027, 3)));
        assert_eq!(Period::FinancialYear(2026).ends(1), ((2026, 1), (2026, 12)));
        assert_eq!(months_between((2026, 4), (2027, 3)), 11);
        assert_eq!(months_between((2026, 4), (2026, 1)), -3);
    }
}
