//! Charts and a self-contained HTML report built from a run's output
//! folder, so `upstream run` and `upstream report DIR` give the same
//! report byte for byte. Reads the published files, never the engine.

mod charts;
mod data;
mod figures;
mod html;
pub mod words;

use rayon::prelude::*;

pub use data::Source;
pub use html::APPENDIX;

use crate::published::{CHARTS_DIR, REPORT_FILE};

/// Why the report could not be built from a run's files.
#[derive(Debug, thiserror::Error)]
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

/// Morris charts of a screen, one per scenario after the baseline: each
/// parameter at (μ*, σ) of its elementary effects on net present value, the
/// `top` largest named. SVG and PNG files under `charts/`.
pub fn morris_charts(
    screen: &crate::sensitivity::Screening,
    top: usize,
) -> Result<Vec<(String, Vec<u8>)>, ReportError> {
    let mut files = Vec::new();
    for s in 1..screen.scenarios.len() {
        let ranked = screen.ranked(s);
        let chart = charts::Chart {
            file: format!("morris_{s}"),
            title: format!(
                "{}: which assumptions move net present value, {} trajectories",
                screen.scenarios[s], screen.trajectories
            ),
            alt: format!(
                "Morris screen of {}'s net present value against the baseline; the largest mean elementary effects (per whole range): {}",
                screen.scenarios[s],
                ranked
                    .iter()
                    .take(top)
                    .map(|e| format!(
                        "{} {} (σ {})",
                        e.parameter,
                        crate::format::money(e.npv.mu_star),
                        crate::format::money(e.npv.sigma)
                    ))
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
            size: (1400, 800),
            timeline: data::Timeline::new((2026, 4), 4),
            body: charts::Body::Screening(charts::Screening {
                x_desc: "μ*: mean size of the elementary effects on net present value (£ per whole range)".into(),
                y_desc: "σ: their spread (£)".into(),
                points: ranked
                    .iter()
                    .map(|e| charts::Screened {
                        label: e.parameter.clone(),
                        mu_star: e.npv.mu_star,
                        sigma: e.npv.sigma,
                    })
                    .collect(),
                labelled: top,
            }),
        };
        let dir = crate::published::CHARTS_DIR;
        files.push((
            format!("{dir}/{}.svg", chart.file),
            charts::svg(&chart)?.into_bytes(),
        ));
        files.push((format!("{dir}/{}.png", chart.file), charts::png(&chart)?));
    }
    Ok(files)
}

/// Tornado charts of a one-way sensitivity, one per scenario after the
/// baseline, of its net present value over the `top` parameters with the
/// largest swings: SVG and PNG files under `charts/`, as (name, contents).
pub fn tornado_charts(
    one_way: &crate::sensitivity::OneWay,
    top: usize,
) -> Result<Vec<(String, Vec<u8>)>, ReportError> {
    let mut files = Vec::new();
    for s in 1..one_way.scenarios.len() {
        let ranked = one_way.ranked(s);
        let shown: Vec<_> = ranked.iter().take(top).collect();
        let centre = ranked.first().map_or(0.0, |e| e.npv.central);
        let chart = charts::Chart {
            file: format!("tornado_{s}"),
            title: format!(
                "{}: net present value against the baseline, one assumption at a time",
                one_way.scenarios[s]
            ),
            alt: format!(
                "Tornado chart of {}'s net present value: {} with every parameter at its value; {}",
                one_way.scenarios[s],
                crate::format::money(centre),
                shown
                    .iter()
                    .map(|e| format!(
                        "{} from {} to {}",
                        e.parameter,
                        crate::format::money(e.npv.low),
                        crate::format::money(e.npv.high)
                    ))
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
            size: (1400, 140 + 34 * shown.len().max(1) as u32),
            timeline: data::Timeline::new((2026, 4), 4),
            body: charts::Body::Tornado(charts::Tornado {
                x_desc: "Net present value against the baseline (£)".into(),
                centre,
                rows: shown
                    .iter()
                    .map(|e| charts::Swing {
                        label: e.parameter.clone(),
                        low: e.npv.low,
                        high: e.npv.high,
                    })
                    .collect(),
            }),
        };
        let dir = crate::published::CHARTS_DIR;
        files.push((
            format!("{dir}/{}.svg", chart.file),
            charts::svg(&chart)?.into_bytes(),
        ));
        files.push((format!("{dir}/{}.png", chart.file), charts::png(&chart)?));
    }
    Ok(files)
}
