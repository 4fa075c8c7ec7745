//! Charts and a self-contained HTML report built from a run's output
//! folder, so `upstream run` and `upstream report DIR` give the same
//! report byte for byte. Reads the published files, never the engine.

pub(crate) mod charts;
pub(crate) mod data;
pub(crate) mod figures;
pub(crate) mod html;
pub mod words;

use rayon::prelude::*;

pub use data::Source;
pub use html::APPENDIX;

use crate::published::{CHARTS_DIR, REPORT_FILE};

/// Why the report could not be built from a run's files.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReportError {
    /// A published file the report needs cannot be read.
    #[error("{file} is missing or unreadable ({reason})")]
    Missing {
        /// The file's name in the output folder, such as `summary.json`.
        file: String,
        /// Why it could not be read.
        reason: String,
    },
    /// A published file does not hold what Upstream writes there.
    #[error("{file} is not a valid Upstream output: {detail}")]
    Corrupt {
        /// The file's name in the output folder.
        file: String,
        /// What is wrong with it.
        detail: String,
    },
    /// A chart could not be drawn.
    #[error("could not draw chart {file}: {source}")]
    Chart {
        /// The chart's file name, without folder or extension.
        file: String,
        /// The drawing library's error.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

pub use crate::aggregate::MIN_REPLICATES_FOR_RANGES;

/// Builds the report page and every chart as SVG and PNG, as (file name,
/// contents) pairs relative to the output folder. `progress` is told how
/// many charts are drawn out of how many, from any thread.
pub fn build(
    source: &Source,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<Vec<(String, Vec<u8>)>, ReportError> {
    let mut run = data::load(source)?;
    let figures = figures::figures(&run)?;
    if run.summary.settings.replicates < MIN_REPLICATES_FOR_RANGES {
        // A 90% range over so few replicates says nothing: the words and
        // tables give the mean alone (the charts still draw what there is).
        for a in run.economics.appraisals.to_mut().iter_mut() {
            let bands = [
                &mut a.npv,
                &mut a.crisis_months_avoided,
                &mut a.undiscounted_savings,
                &mut a.undiscounted_investment,
            ];
            for b in bands.into_iter().chain(
                a.bridge
                    .appraisal
                    .iter_mut()
                    .chain(&mut a.bridge.budget)
                    .map(|s| &mut s.amount),
            ) {
                b.p5 = f64::NAN;
                b.p95 = f64::NAN;
            }
        }
    }
    let total = figures.len();
    let done = std::sync::atomic::AtomicUsize::new(0);
    let drawn: Vec<(String, Vec<u8>)> = figures
        .par_iter()
        .map(|f| {
            let svg = charts::svg(&f.chart)?;
            let png = charts::png(&f.chart)?;
            let n = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
            progress(n, total);
            Ok((svg, png))
        })
        .collect::<Result<_, ReportError>>()?;
    let svgs: std::collections::HashMap<&str, &str> = figures
        .iter()
        .zip(&drawn)
        .map(|(f, (svg, _))| (f.chart.file.as_str(), svg.as_str()))
        .collect();
    let page = html::page(&run, &figures, &svgs);
    let mut files = Vec::with_capacity(2 * total + 1);
    for (f, (svg, png)) in figures.iter().zip(drawn.iter()) {
        files.push((
            format!("{CHARTS_DIR}/{}.svg", f.chart.file),
            svg.clone().into_bytes(),
        ));
        files.push((format!("{CHARTS_DIR}/{}.png", f.chart.file), png.clone()));
    }
    files.push((REPORT_FILE.to_string(), page.into_bytes()));
    Ok(files)
}

/// `charts` drawn as files, and `report.html` from `page`, given each
/// chart's SVG by file name.
pub(crate) fn page_with_charts(
    charts: &[charts::Chart],
    page: impl FnOnce(&std::collections::HashMap<&str, &str>) -> String,
) -> Result<Vec<(String, Vec<u8>)>, ReportError> {
    let mut files = chart_files(charts)?;
    let svgs: std::collections::HashMap<&str, &str> = charts
        .iter()
        .filter_map(|c| {
            let name = format!("{CHARTS_DIR}/{}.svg", c.file);
            let svg = files.iter().find(|(n, _)| *n == name)?;
            Some((c.file.as_str(), std::str::from_utf8(&svg.1).ok()?))
        })
        .collect();
    let page = page(&svgs);
    files.push((REPORT_FILE.to_string(), page.into_bytes()));
    Ok(files)
}

/// Charts drawn on their own, outside a report: each as SVG and PNG under
/// `charts/`.
fn chart_files(charts: &[charts::Chart]) -> Result<Vec<(String, Vec<u8>)>, ReportError> {
    let mut files = Vec::new();
    let dir = crate::published::CHARTS_DIR;
    for chart in charts {
        files.push((
            format!("{dir}/{}.svg", chart.file),
            charts::svg(chart)?.into_bytes(),
        ));
        files.push((format!("{dir}/{}.png", chart.file), charts::png(chart)?));
    }
    Ok(files)
}
