//! `upstream elicit`: ranges from a place's own experts. Each expert's
//! judgements of a number (their median, and their quartiles or 90% range)
//! are fitted, the experts pooled, and the pool written into a scenario
//! that extends the one they were asked about, as each number's range,
//! distribution and source.
//!
//! The judgements file has the columns `parameter`, `expert`, `median`
//! and any of `p5`, `p25`, `p75` and `p95` (the 5th, 25th, 75th and 95th
//! percentiles), one row per expert per number: each row gives its
//! quartiles, its 90% range or both. A parameter is named as the
//! assumptions table names it (`events.ae_attendance.unit_cost`); one item
//! of a list as `need.escalation_per_month[1]`, and the rest of the list
//! then moves with it in proportion, as a list's items are drawn together.
//! Experts are pooled with equal weights (a linear pool), as SHELF does
//! when each expert is asked alone.

pub mod pool;

use std::path::{Path, PathBuf};

use crate::format::decimal;
use crate::input::{self, TextKind};
use crate::scenario::{self, Elicitable, Loaded, Restated, ScenarioError, Shape};
use pool::{Fitted, PROBABILITIES, Pool, SplitNormal};

/// Judgements or settings that cannot be used, or a scenario that cannot
/// be written.
#[derive(Debug, thiserror::Error)]
pub enum ElicitError {
    /// The judgements file cannot be read or has a bad row.
    #[error("{}{}{}: {message}", file.display(), line.map(|l| format!(", line {l}")).unwrap_or_default(), column.as_ref().map(|c| format!(", column {c}")).unwrap_or_default())]
    Judgements {
        /// The file.
        file: PathBuf,
        /// The line at fault, if one.
        line: Option<usize>,
        /// The column at fault, as "3 (median)", if one.
        column: Option<String>,
        /// What is wrong and what was expected.
        message: String,
    },
    /// A setting that cannot be used.
    #[error("{0}")]
    Setting(String),
    /// The scenario asked about, or the one written, does not load.
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    /// The file would replace another, or cannot be written.
    #[error(transparent)]
    NewFile(#[from] crate::output::NewFileError),
}

/// One expert's judgements of one number.
#[derive(Clone, Debug, PartialEq)]
pub struct Judgement {
    /// The number, as the file names it.
    pub parameter: String,
    /// The expert, as the file names them.
    pub expert: String,
    /// (probability, value) for each percentile given, in order.
    pub points: Vec<(f64, f64)>,
    /// The line of the file it is on.
    pub line: usize,
}

/// The columns a judgements file may have, the percentiles in the order of
/// [`PROBABILITIES`].
const COLUMNS: [&str; 7] = ["parameter", "expert", "p5", "p25", "median", "p75", "p95"];
/// The columns it must have.
const REQUIRED: [&str; 3] = ["parameter", "expert", "median"];

/// Reads the judgements in `path`, through `read`, each row checked: a
/// parameter and an expert named, a median and a pair of percentiles
/// either side of it (quartiles, a 90% range or both), rising, and no
/// expert judging a number twice.
pub fn read_judgements(
    path: &Path,
    read: &dyn Fn(&Path) -> std::io::Result<String>,
) -> Result<Vec<Judgement>, ElicitError> {
    let fault =
        |line: Option<usize>, column: Option<usize>, message: String| ElicitError::Judgements {
            file: path.to_path_buf(),
            line,
            column: column.map(|i| format!("{} ({})", i + 1, COLUMNS[i])),
            message,
        };
    let text = read(path).map_err(|e| fault(None, None, format!("cannot read it: {e}")))?;
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(true)
        .from_reader(text.as_bytes());
    let headers: csv::StringRecord = reader
        .headers()
        .map_err(|e| fault(Some(1), None, format!("not a CSV file: {e}")))?
        .iter()
        .map(str::to_ascii_lowercase)
        .collect();
    input::check_header(&headers, &COLUMNS, &REQUIRED, "a table of judgements").map_err(|f| {
        ElicitError::Judgements {
            file: path.to_path_buf(),
            line: Some(1),
            column: match (f.index, f.column) {
                (Some(i), Some(name)) => Some(format!("{} ({name})", i + 1)),
                (_, name) => name,
            },
            message: f.message,
        }
    })?;
    // Where each of COLUMNS is in the file, if it is.
    let at: Vec<Option<usize>> = COLUMNS
        .iter()
        .map(|c| headers.iter().position(|h| h == *c))
        .collect();
    let mut out: Vec<Judgement> = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| {
            let line = e.position().map(|p| p.line() as usize);
            fault(line, None, format!("not a CSV row: {e}"))
        })?;
        // Every record read from text has its position.
        let line = record
            .position()
            .map(|p| p.line() as usize)
            .unwrap_or_default();
        if let Some(why) = input::row_length_fault(record.len(), headers.len()) {
            return Err(fault(Some(line), None, why));
        }
        let cell = |j: usize| at[j].map_or("", |k| &record[k]);
        let mut names = [String::new(), String::new()];
        for (j, name) in names.iter_mut().enumerate() {
            let text = cell(j);
            if text.is_empty() {
                return Err(fault(Some(line), Some(j), "is empty: name it".into()));
            }
            if let Some(why) = input::text_fault(text, TextKind::Name) {
                return Err(fault(Some(line), Some(j), why));
            }
            *name = text.to_string();
        }
        let [parameter, expert] = names;
        let mut points = Vec::new();
        for (j, p) in PROBABILITIES.iter().enumerate() {
            let text = cell(j + 2);
            if text.is_empty() {
                continue;
            }
            let v: f64 = text
                .parse()
                .ok()
                .filter(|v: &f64| v.is_finite())
                .ok_or_else(|| {
                    fault(
                        Some(line),
                        Some(j + 2),
                        format!("expected a number, found \"{}\"", input::quote(text)),
                    )
                })?;
            if let Some(&(_, before)) = points.last()
                && v <= before
            {
                return Err(fault(
                    Some(line),
                    Some(j + 2),
                    format!(
                        "expected a value above {before}, the percentile before it: each percentile is above the one before"
                    ),
                ));
            }
            points.push((*p, v));
        }
        let has = |p: f64| points.iter().any(|q| q.0 == p);
        if !has(0.5) {
            return Err(fault(
                Some(line),
                Some(4),
                "is empty: every judgement needs the expert's median".into(),
            ));
        }
        // Each pair's probabilities and columns.
        for (lo, hi, lo_at, hi_at) in [(0.25, 0.75, 3, 5), (0.05, 0.95, 2, 6)] {
            if has(lo) != has(hi) {
                let missing = if has(lo) { hi_at } else { lo_at };
                return Err(fault(
                    Some(line),
                    Some(missing),
                    "is empty: give both quartiles (p25 and p75) or both ends of the 90% range (p5 and p95), or both pairs".into(),
                ));
            }
        }
        if points.len() < 3 {
            return Err(fault(
                Some(line),
                None,
                "expected the expert's quartiles (p25 and p75) or 90% range (p5 and p95) beside their median".into(),
            ));
        }
        if let Some(earlier) = out
            .iter()
            .find(|o| o.parameter == parameter && o.expert == expert)
        {
            return Err(fault(
                Some(line),
                Some(1),
                format!(
                    "this expert's judgement of this number is on line {} already: give each once",
                    earlier.line
                ),
            ));
        }
        out.push(Judgement {
            parameter,
            expert,
            points,
            line,
        });
    }
    if out.is_empty() {
        return Err(fault(
            None,
            None,
            "it holds no judgements: expected a row for each expert and number, under the header parameter,expert,p5,p25,median,p75,p95".into(),
        ));
    }
    Ok(out)
}

/// What `upstream elicit` is asked to do.
#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    /// The scenario the experts were asked about.
    pub scenario: PathBuf,
    /// Their judgements.
    pub judgements: PathBuf,
    /// The scenario file to write.
    pub out: PathBuf,
    /// When the judgements were made (YYYY-MM-DD), for the source.
    pub held_on: Option<String>,
    /// A shape to write every range as, in place of the closest.
    pub shape: Option<Shape>,
}

/// One expert's judgements of a number, fitted.
#[derive(Clone, Debug, PartialEq)]
pub struct ExpertFit {
    /// The expert, counted from 1 in the order the file first names them.
    pub number: usize,
    /// The line of their judgement.
    pub line: usize,
    /// Their fitted distribution.
    pub fit: SplitNormal,
    /// How far, as a chance, it misses their own judgements.
    pub misfit: f64,
}

/// One number's judgements, pooled and written.
#[derive(Clone, Debug, PartialEq)]
pub struct Elicited {
    /// The number, as the scenario names it.
    pub parameter: String,
    /// Each expert who judged it.
    pub experts: Vec<ExpertFit>,
    /// The pool's 5th, 25th, 50th, 75th and 95th percentiles.
    pub pooled: [f64; 5],
    /// The distribution written.
    pub written: Fitted,
    /// Closer-fitting shapes the scenario refused, and why.
    pub refused: Vec<(Shape, String)>,
    /// The scenario's figure for it as stated.
    pub stated: f64,
}

/// An expert whose fitted distribution misses their own judgements by more
/// than this chance is named, to be asked again.
pub const MISFIT_TO_ASK_AGAIN: f64 = 0.05;

/// Writes the elicited scenario to `settings.out` (never replacing a file)
/// and returns what was pooled.
pub fn elicit(settings: &Settings) -> Result<Vec<Elicited>, ElicitError> {
    if settings.out.exists() {
        return Err(crate::output::NewFileError::Exists(settings.out.clone()).into());
    }
    let (text, elicited) = elicited_scenario(settings, &input::read)?;
    crate::output::write_new(&settings.out, &text)?;
    Ok(elicited)
}

/// The text of the elicited scenario and what was pooled, every file read
/// through `read`. The text is loaded before it is returned, so a file
/// that would not load is never written.
pub fn elicited_scenario(
    settings: &Settings,
    read: &dyn Fn(&Path) -> std::io::Result<String>,
) -> Result<(String, Vec<Elicited>), ElicitError> {
    if let Some(date) = &settings.held_on
        && !is_date(date)
    {
        return Err(ElicitError::Setting(format!(
            "--held-on: expected a date as 2026-12-10, found \"{}\"",
            input::quote(date)
        )));
    }
    let scenario = scenario::load_from(&settings.scenario, &Default::default(), read)?;
    let judgements = read_judgements(&settings.judgements, read)?;
    let mut experts: Vec<&str> = Vec::new();
    for j in &judgements {
        if !experts.contains(&j.expert.as_str()) {
            experts.push(&j.expert);
        }
    }
    let dir = settings.out.parent().unwrap_or(Path::new(""));
    let extends = crate::output::relative(&settings.scenario, dir)
        .display()
        .to_string()
        .replace('\\', "/");
    let name = scenario_name(&scenario);
    let file = file_name(&settings.judgements);
    let load = |text: &str| {
        scenario::load_from(&settings.out, &Default::default(), &|p: &Path| {
            if p == settings.out {
                Ok(text.to_string())
            } else {
                read(&crate::output::resolved_by_name(p))
            }
        })
    };
    let mut elicited = Vec::new();
    let mut restated = Vec::new();
    for parameter in parameters(&judgements) {
        let these: Vec<&Judgement> = judgements
            .iter()
            .filter(|j| j.parameter == parameter)
            .collect();
        let first = these[0].line;
        let fault = |message: String| ElicitError::Judgements {
            file: settings.judgements.clone(),
            line: Some(first),
            column: Some("1 (parameter)".into()),
            message,
        };
        let target = scenario.elicitable(&parameter).map_err(fault)?;
        let fits: Vec<ExpertFit> = these
            .iter()
            .map(|j| {
                let fit =
                    SplitNormal::fit(&j.points).expect("rows are checked to rise about a median");
                ExpertFit {
                    number: experts
                        .iter()
                        .position(|e| *e == j.expert)
                        .expect("listed above")
                        + 1,
                    line: j.line,
                    fit,
                    misfit: fit.misfit(&j.points),
                }
            })
            .collect();
        let pool = Pool {
            experts: fits.iter().map(|f| f.fit).collect(),
        };
        let candidates = match settings.shape {
            Some(shape) => pool::fit(&pool, shape).into_iter().collect(),
            None => pool::fits(&pool),
        };
        let source = source(these.len(), settings.held_on.as_deref(), &file, &target);
        let mut refused = Vec::new();
        let mut chosen = None;
        for f in candidates {
            let r = restate(&target, &f, &source);
            let header = scenario::Extension {
                extends: extends.clone(),
                name: name.clone(),
                description: String::new(),
                comments: Vec::new(),
                correlations: Vec::new(),
            };
            match scenario
                .extension(&header, std::slice::from_ref(&r))
                .map(|t| load(&t))
            {
                Ok(Ok(_)) => {
                    chosen = Some((f, r));
                    break;
                }
                Ok(Err(e)) | Err(e) => refused.push((f.shape, e.message)),
            }
        }
        let Some((mut written, r)) = chosen else {
            let why: Vec<String> = refused
                .iter()
                .map(|(s, m)| format!("as {}: {m}", s.name()))
                .collect();
            return Err(fault(if why.is_empty() {
                "the pooled judgements cannot be written as the distribution asked for (a lognormal needs every percentile above 0)".into()
            } else {
                format!(
                    "the scenario takes no range the pooled judgements give ({})",
                    why.join("; ")
                )
            }));
        };
        // The figures as the file writes them, for the judged item.
        let at = target.item.unwrap_or(0);
        (written.low, written.value, written.high) = (r.low[at], r.value[at], r.high[at]);
        restated.push(r);
        elicited.push(Elicited {
            parameter: target.parameter.parameter.clone()
                + &target.item.map(|i| format!("[{i}]")).unwrap_or_default(),
            pooled: PROBABILITIES.map(|p| pool.quantile(p)),
            experts: fits,
            written,
            refused,
            stated: target.stated,
        });
    }
    let header = scenario::Extension {
        extends,
        name: format!("{name} (elicited)"),
        description: format!("{name}, with ranges from its experts' judgements in {file}."),
        comments: comments(
            &name,
            &file,
            experts.len(),
            settings.held_on.as_deref(),
            &elicited,
        ),
        correlations: Vec::new(),
    };
    let text = scenario.extension(&header, &restated)?;
    load(&text)?;
    Ok((text, elicited))
}

/// Each parameter judged, once, in the order the file first names it.
fn parameters(judgements: &[Judgement]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for j in judgements {
        if !out.contains(&j.parameter) {
            out.push(j.parameter.clone());
        }
    }
    out
}

/// The parameter restated with `f`: a list scaled in proportion to the
/// item the experts judged.
fn restate(target: &Elicitable, f: &Fitted, source: &str) -> Restated {
    let u = &target.parameter;
    // Six significant figures: judgements are not more precise. A whole
    // number stays whole, as the file will write it.
    let written = |x: f64| {
        let x = crate::format::significant(x, 6);
        if u.is_whole() { x.round() } else { x }
    };
    let scaled = |x: f64| -> Vec<f64> {
        match target.item {
            Some(_) => u
                .central
                .iter()
                .map(|c| written(c * x / target.stated))
                .collect(),
            None => vec![written(x)],
        }
    };
    Restated {
        parameter: u.parameter.clone(),
        value: scaled(f.value),
        low: scaled(f.low),
        high: scaled(f.high),
        shape: f.shape,
        source: source.to_string(),
    }
}

/// The source written beside an elicited range.
fn source(experts: usize, held_on: Option<&str>, file: &str, target: &Elicitable) -> String {
    let mut s = format!(
        "elicited, {experts} expert{}",
        if experts == 1 { "" } else { "s" }
    );
    if let Some(d) = held_on {
        s.push_str(&format!(", {d}"));
    }
    s.push_str(&format!(" ({file}; their linear pool)"));
    if let Some(i) = target.item {
        s.push_str(&format!(
            "; judged for item [{i}], the rest of the list in proportion"
        ));
    }
    s
}

/// The comments at the top of the elicited scenario: how it was made and,
/// for each number, the pool and how closely the written range follows it.
fn comments(
    name: &str,
    file: &str,
    experts: usize,
    held_on: Option<&str>,
    elicited: &[Elicited],
) -> Vec<String> {
    let mut out = vec![
        format!(
            "{name} with ranges elicited from {experts} expert{}{} ({file}), by `upstream elicit`.",
            if experts == 1 { "" } else { "s" },
            held_on.map(|d| format!(" on {d}")).unwrap_or_default()
        ),
        "Each expert's percentiles are fitted as a split normal (their median, a spread of its own either side); the experts are pooled with equal weights (a linear pool), and the pool is written as the distribution that comes closest to it from its 5th to its 95th percentile.".into(),
        String::new(),
    ];
    for e in elicited {
        out.push(format!(
            "{}: {} expert{}; pooled 5th, 50th and 95th percentiles {}, {} and {}; written as {} (stated before: {}), within {:.1} percentage points of the pool's chances.",
            e.parameter,
            e.experts.len(),
            if e.experts.len() == 1 { "" } else { "s" },
            figure(e.pooled[0]),
            figure(e.pooled[2]),
            figure(e.pooled[4]),
            written(&e.written),
            figure(e.stated),
            100.0 * e.written.misfit
        ));
    }
    out
}

/// A fitted range as a sentence: "pert from 0.012 to 0.047, value 0.025".
pub fn written(f: &Fitted) -> String {
    let ends = if f.shape == Shape::Lognormal {
        "5th to 95th percentile"
    } else {
        "range"
    };
    format!(
        "{} ({ends} {} to {}, value {})",
        f.shape.name(),
        figure(f.low),
        figure(f.high),
        figure(f.value)
    )
}

/// A judged figure to four significant figures, as people write one.
pub fn figure(x: f64) -> String {
    if x == 0.0 || !x.is_finite() {
        return format!("{x}");
    }
    let digits = (3 - x.abs().log10().floor() as i32).max(0) as usize;
    let s = decimal(x, digits);
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// The scenario's name, as it calls itself.
fn scenario_name(s: &Loaded) -> String {
    s.config.name.clone()
}

/// A file's name without its folder, as shared outputs name it.
fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Whether `text` is a date as YYYY-MM-DD.
fn is_date(text: &str) -> bool {
    let parts: Vec<&str> = text.split('-').collect();
    let [y, m, d] = parts[..] else {
        return false;
    };
    let num = |t: &str, len: usize| {
        (t.len() == len && t.bytes().all(|b| b.is_ascii_digit()))
            .then(|| t.parse::<u32>().ok())
            .flatten()
    };
    matches!(
        (num(y, 4), num(m, 2), num(d, 2)),
        (Some(_), Some(1..=12), Some(1..=31))
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_date_is_year_month_day() {
        assert!(is_date("2026-12-10"));
        for bad in [
            "2026-13-01",
            "26-12-10",
            "2026-12",
            "10/12/2026",
            "2026-12-1x",
        ] {
            assert!(!is_date(bad), "{bad}");
        }
    }

    #[test]
    fn a_figure_keeps_four_significant_figures() {
        assert_eq!(figure(0.025_04), "0.02504");
        assert_eq!(figure(2595.4), "2595");
        assert_eq!(figure(12.5), "12.5");
    }
}
