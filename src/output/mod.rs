//! Output files and the terminal table. The engine and aggregation produce
//! numbers; this layer alone decides how they look.

mod atomic;
#[cfg(feature = "xlsx")]
pub mod finance;
pub(crate) mod table;
#[cfg(feature = "xlsx")]
mod workbook;

use std::path::{Path, PathBuf};

use crate::aggregate::{self, MonthRow};
use crate::economics::Economics;
use crate::experiment::{Experiment, RunSettings};
use crate::metrics::{Band, NeighbourhoodMetric};
use crate::model::Config;
use crate::published::{
    CHARTS_DIR, DATA_FILES, EconomicsFile, FileRef, REPORT_FILE, ScenarioSummary, ServiceKind,
    ServiceRef, Settings, SummaryFile, Warning, csv_text,
};
use crate::scenario::{Assumption, Loaded};

pub use atomic::OutputError;

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
}

impl RunInfo<'_> {
    /// Uncertain parameters drawn across the scenarios, each name once.
    pub fn parameters_drawn(&self) -> usize {
        if self.draws.is_none() {
            return 0;
        }
        let mut names: Vec<&str> = self
            .scenarios
            .iter()
            .flat_map(|l| {
                l.uncertainty
                    .parameters
                    .iter()
                    .map(|u| u.parameter.as_str())
            })
            .collect();
        names.sort_unstable();
        names.dedup();
        names.len()
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

/// A cell of a CSV file. Every CSV file is written through [`csv_bytes`],
/// which neutralises text a spreadsheet would run as a formula
/// ([`csv_text`]); a number, negative ones included, is written as it is.
enum Cell {
    Text(String),
    Number(String),
}

fn text(s: impl Into<String>) -> Cell {
    Cell::Text(s.into())
}

fn number(v: f64) -> Cell {
    Cell::Number(exact(v))
}

/// A sum of money, to the penny, as the workbook and a ledger hold it: a
/// mean of pounds carries floating-point noise (3667152.5499999993) that
/// is no part of the figure.
fn pounds(v: f64) -> Cell {
    number(to_the_penny(v))
}

/// `v` rounded to the penny, as every output writes money.
pub fn to_the_penny(v: f64) -> f64 {
    if v.is_finite() {
        (v * 100.0).round() / 100.0 + 0.0
    } else {
        v
    }
}

fn whole(v: impl Into<u64>) -> Cell {
    Cell::Number(v.into().to_string())
}

fn csv_bytes(header: &[&str], rows: impl Iterator<Item = Vec<Cell>>) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(header).expect("writing to memory");
    for r in rows {
        for c in &r {
            let field = match c {
                Cell::Text(t) => csv_text(t),
                Cell::Number(n) => n.as_str().into(),
            };
            w.write_field(field.as_bytes()).expect("writing to memory");
        }
        w.write_record(None::<&[u8]>).expect("writing to memory");
    }
    w.into_inner().expect("writing to memory")
}

/// Numbers as the shortest text that reads back to the same value.
/// A run over many places' figures ([`crate::region::RegionOutcome::rows`]).
pub fn places_csv(rows: &[crate::region::Row]) -> Vec<u8> {
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
                crate::region::Level::Place => "place",
                crate::region::Level::Region => "region",
                crate::region::Level::All => "all",
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

/// `upstream sensitivity`'s results: a row per scenario (after the
/// baseline) and parameter, the largest swing in net present value first.
pub fn sensitivity_csv(one_way: &crate::sensitivity::OneWay) -> Vec<u8> {
    let rows = (1..one_way.scenarios.len()).flat_map(|s| {
        one_way
            .ranked(s)
            .into_iter()
            .enumerate()
            .map(move |(rank, e)| {
                vec![
                    text(one_way.scenarios[s].as_str()),
                    whole(rank as u64 + 1),
                    text(e.parameter.as_str()),
                    Cell::Number(e.range.0.clone()).if_number(),
                    Cell::Number(e.range.1.clone()).if_number(),
                    pounds(e.npv.low),
                    pounds(e.npv.central),
                    pounds(e.npv.high),
                    pounds(e.npv.swing()),
                    number(e.crisis_months_avoided.low),
                    number(e.crisis_months_avoided.central),
                    number(e.crisis_months_avoided.high),
                ]
            })
    });
    csv_bytes(
        &[
            "scenario",
            "rank",
            "parameter",
            "range_low",
            "range_high",
            "npv_gbp_at_low",
            "npv_gbp_central",
            "npv_gbp_at_high",
            "npv_swing_gbp",
            "crisis_months_avoided_at_low",
            "crisis_months_avoided_central",
            "crisis_months_avoided_at_high",
        ],
        rows,
    )
}

/// A Morris screen's results: a row per scenario (after the baseline) and
/// parameter, the largest μ* on net present value first; elementary
/// effects are per whole range.
pub fn morris_csv(screen: &crate::sensitivity::Screening) -> Vec<u8> {
    let rows = (1..screen.scenarios.len()).flat_map(|s| {
        screen
            .ranked(s)
            .into_iter()
            .enumerate()
            .map(move |(rank, e)| {
                vec![
                    text(screen.scenarios[s].as_str()),
                    whole(rank as u64 + 1),
                    text(e.parameter.as_str()),
                    Cell::Number(e.range.0.clone()).if_number(),
                    Cell::Number(e.range.1.clone()).if_number(),
                    whole(screen.trajectories as u64),
                    pounds(e.npv.mu_star),
                    pounds(e.npv.mu),
                    pounds(e.npv.sigma),
                    number(e.crisis_months_avoided.mu_star),
                    number(e.crisis_months_avoided.mu),
                    number(e.crisis_months_avoided.sigma),
                ]
            })
    });
    csv_bytes(
        &[
            "scenario",
            "rank",
            "parameter",
            "range_low",
            "range_high",
            "trajectories",
            "npv_gbp_mu_star",
            "npv_gbp_mu",
            "npv_gbp_sigma",
            "crisis_months_avoided_mu_star",
            "crisis_months_avoided_mu",
            "crisis_months_avoided_sigma",
        ],
        rows,
    )
}

/// Break-evens: a row per scenario and lever. A break-even outside the
/// grid is an empty cell, and the reading says which side.
pub fn break_even_csv(b: &crate::breakeven::BreakEvens) -> Vec<u8> {
    use crate::breakeven::Crossing;
    let at = |c: Crossing| match c {
        Crossing::At(v) => number(v),
        _ => Cell::Number(String::new()),
    };
    let rows = b.levers.iter().map(|l| {
        vec![
            text(l.scenario.as_str()),
            text(l.parameter.as_str()),
            number(l.none),
            number(l.stated),
            at(l.central),
            l.band.map_or(Cell::Number(String::new()), |b| at(b.0)),
            l.band.map_or(Cell::Number(String::new()), |b| at(b.1)),
            number(l.grid[l.grid.len() - 1]),
            pounds(l.npv[0]),
            text(l.reading().as_str()),
        ]
    });
    csv_bytes(
        &[
            "scenario",
            "parameter",
            "value_with_no_effect",
            "value_stated",
            "break_even",
            "break_even_p5",
            "break_even_p95",
            "grid_end",
            "npv_gbp_with_no_effect",
            "reading",
        ],
        rows,
    )
}

/// A sweep's results: a row per grid point and scenario (after the
/// baseline), in grid order, with each axis's value in a column named by
/// its parameter.
pub fn sweep_csv(sweep: &crate::sweep::Sweep) -> Vec<u8> {
    let rows = sweep.points.iter().flat_map(|p| {
        p.scenarios.iter().map(move |f| {
            let mut row = vec![text(f.scenario.as_str())];
            row.extend(p.values.iter().map(|v| number(*v)));
            row.extend(npv_and_crisis_months(&f.npv, &f.crisis_months_avoided));
            row.extend([
                pounds(f.pv_savings.mean),
                pounds(f.pv_investment.mean),
                number(f.payback_within_horizon),
                f.payback_month_p50
                    .map_or(Cell::Number(String::new()), |m| whole(m as u64)),
                text(p.id.as_str()),
            ]);
            row
        })
    });
    let mut header: Vec<String> = vec!["scenario".into()];
    for a in &sweep.axes {
        header.push(if a.multiples {
            format!("{} (multiple of the stated value)", a.parameter)
        } else {
            a.parameter.clone()
        });
    }
    header.extend(NPV_AND_CRISIS_MONTHS.map(String::from));
    header.extend(
        [
            "pv_savings_gbp_mean",
            "pv_investment_gbp_mean",
            "share_paying_back_discounted",
            "payback_month_discounted_p50",
            "run_id",
        ]
        .map(String::from),
    );
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    csv_bytes(&header, rows)
}

/// Every split an optimisation ran: the share of the budget, each lever's
/// £ a year and reach, the figures against the baseline, and how often it
/// was the best of its share's splits.
pub fn splits_csv(o: &crate::optimise::Optimised) -> Vec<u8> {
    let best: Vec<usize> = o.best.clone();
    let rows = o.splits.iter().enumerate().map(|(i, s)| {
        let mut row = vec![
            whole((i + 1) as u64),
            number(s.share),
            pounds(s.share * o.budget.budget),
        ];
        for (l, f) in o.budget.levers.iter().zip(&s.funding) {
            row.push(pounds(f.amount));
            row.push(text(if f.amount > 0.0 {
                l.reach[f.reach].label.as_str()
            } else {
                ""
            }));
        }
        row.extend(split_figures(&s.figures));
        row.push(whole(s.wins));
        row.push(text(if best.contains(&i) { "yes" } else { "" }));
        row
    });
    let mut header: Vec<String> = ["split", "share_of_budget", "budget_gbp_a_year"]
        .map(String::from)
        .to_vec();
    for l in &o.budget.levers {
        header.push(format!("{}_gbp_a_year", l.intervention));
        header.push(format!("{}_reach", l.intervention));
    }
    header.extend(NPV_AND_CRISIS_MONTHS.map(String::from));
    header.extend(SPLIT_FIGURES.map(String::from));
    header.push("replicates_best_of_share".into());
    header.push("best_of_share".into());
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    csv_bytes(&header, rows)
}

/// The best split at each share of the budget: spend against outcome;
/// then, for comparison, the split the scenario states, as written. The
/// `row` column says which a row is.
pub fn frontier_csv(o: &crate::optimise::Optimised) -> Vec<u8> {
    let best = o.best.iter().map(|&i| {
        let s = &o.splits[i];
        let mut row = vec![
            text("best"),
            number(s.share),
            pounds(s.share * o.budget.budget),
            whole((i + 1) as u64),
            text(o.describe(s)),
        ];
        row.extend(split_figures(&s.figures));
        row.push(whole(s.wins));
        row
    });
    let mut stated = vec![
        text("as written"),
        number(o.stated_amount / o.budget.budget),
        pounds(o.stated_amount),
        match o.stated_is {
            Ok(i) => whole((i + 1) as u64),
            Err(_) => Cell::Number(String::new()),
        },
        text(o.stated_sentence()),
    ];
    stated.extend(split_figures(&o.stated));
    stated.push(Cell::Number(String::new()));
    let rows = best.chain(std::iter::once(stated));
    let mut header: Vec<String> = [
        "row",
        "share_of_budget",
        "budget_gbp_a_year",
        "split",
        "funding",
    ]
    .map(String::from)
    .to_vec();
    header.extend(NPV_AND_CRISIS_MONTHS.map(String::from));
    header.extend(SPLIT_FIGURES.map(String::from));
    header.push("replicates_best_of_share".into());
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    csv_bytes(&header, rows)
}

/// The columns [`split_figures`] fills after [`NPV_AND_CRISIS_MONTHS`].
const SPLIT_FIGURES: [&str; 2] = ["pv_investment_gbp_mean", "probability_npv_positive"];

/// The columns [`npv_and_crisis_months`] fills.
const NPV_AND_CRISIS_MONTHS: [&str; 6] = [
    "npv_gbp_mean",
    "npv_gbp_p5",
    "npv_gbp_p95",
    "crisis_months_avoided_mean",
    "crisis_months_avoided_p5",
    "crisis_months_avoided_p95",
];

fn split_figures(f: &crate::optimise::Figures) -> Vec<Cell> {
    let mut cells = Vec::from(npv_and_crisis_months(&f.npv, &f.crisis_months_avoided));
    cells.extend([
        pounds(f.pv_investment.mean),
        number(f.probability_npv_positive),
    ]);
    cells
}

/// Net present value and crisis-months avoided, each as mean, 5th and
/// 95th percentile: the columns every experiment's file opens its figures
/// with.
fn npv_and_crisis_months(npv: &Band, crisis: &Band) -> [Cell; 6] {
    [
        pounds(npv.mean),
        pounds(npv.p5),
        pounds(npv.p95),
        number(crisis.mean),
        number(crisis.p5),
        number(crisis.p95),
    ]
}

/// A calibration's fitted parameters: prior and posterior, and whether
/// the observed counts narrowed it (and so whether the calibrated scenario
/// restates it).
pub fn calibration_csv(c: &crate::calibrate::Calibration) -> Vec<u8> {
    let rows = c.parameters.iter().map(|f| {
        let u = &f.prior;
        vec![
            text(u.parameter.as_str()),
            Cell::Number(u.written(&u.central)).if_number(),
            Cell::Number(u.written(&u.low)).if_number(),
            Cell::Number(u.written(&u.high)).if_number(),
            text(u.shape.name()),
            Cell::Number(u.written(&f.posterior[0])).if_number(),
            Cell::Number(u.written(&f.posterior[1])).if_number(),
            Cell::Number(u.written(&f.posterior[2])).if_number(),
            number(f.kept),
            number(f.p_value),
            text(if f.informed() { "yes" } else { "no" }),
        ]
    });
    csv_bytes(
        &[
            "parameter",
            "stated_value",
            "prior_low",
            "prior_high",
            "prior_distribution",
            "posterior_p5",
            "posterior_p50",
            "posterior_p95",
            "share_of_prior_90pc_range_kept",
            "p_value_prior_alone",
            "restated_in_calibrated_scenario",
        ],
        rows,
    )
}

/// Every candidate a calibration ran, in the order drawn: its distance
/// from the observed counts, its rank if kept, and its parameters.
pub fn candidates_csv(c: &crate::calibrate::Calibration) -> Vec<u8> {
    let rows = c.candidates.iter().enumerate().map(|(i, cand)| {
        let rank = c.accepted.iter().position(|&a| a == i);
        let mut row = vec![
            whole(i as u64),
            number(cand.distance),
            rank.map_or(Cell::Number(String::new()), |r| whole(r as u64 + 1)),
        ];
        row.extend(
            c.parameters
                .iter()
                .zip(&cand.values)
                .map(|(f, v)| Cell::Number(f.prior.written(v)).if_number()),
        );
        row
    });
    let mut header: Vec<&str> = vec!["candidate", "distance", "kept_rank"];
    header.extend(c.parameters.iter().map(|f| f.prior.parameter.as_str()));
    csv_bytes(&header, rows)
}

/// Each observed count beside the simulation's: with every parameter as
/// stated, across every candidate (the prior) and across the kept ones
/// (the posterior), each across its replicates.
pub fn fit_csv(c: &crate::calibrate::Calibration) -> Vec<u8> {
    let rows = c.observed.observations.iter().zip(&c.fit).map(|(o, f)| {
        let mut row = vec![
            text(o.metric.as_str()),
            text(o.period.label()),
            number(o.count),
            number(f.stated),
        ];
        row.extend(band_cells(&f.prior));
        row.extend(band_cells(&f.posterior));
        row.push(text(o.source.clone().unwrap_or_default()));
        row
    });
    csv_bytes(
        &[
            "metric",
            "period",
            "observed",
            "stated_mean",
            "prior_mean",
            "prior_p5",
            "prior_p50",
            "prior_p95",
            "calibrated_mean",
            "calibrated_p5",
            "calibrated_p50",
            "calibrated_p95",
            "source",
        ],
        rows,
    )
}

/// A review's counts: each observed count beside the projection's mean
/// and 90% range across replicates, and where it fell.
pub fn review_csv(r: &crate::review::Review) -> Vec<u8> {
    let rows = r.observed.observations.iter().zip(&r.rows).map(|(o, row)| {
        let mut v = vec![
            text(o.metric.as_str()),
            text(o.period.label()),
            number(o.count),
        ];
        v.extend(band_cells(&row.projected));
        v.push(text(row.side.name()));
        v.push(text(o.source.clone().unwrap_or_default()));
        v
    });
    csv_bytes(
        &[
            "metric",
            "period",
            "observed",
            "projected_mean",
            "projected_p5",
            "projected_p50",
            "projected_p95",
            "observed_against_band",
            "source",
        ],
        rows,
    )
}

/// A review's levers: each uncertain parameter at the end of its range
/// that closes more of the gap, the most first.
pub fn levers_csv(r: &crate::review::Review) -> Vec<u8> {
    let rows = r.levers.iter().map(|l| {
        vec![
            text(l.parameter.as_str()),
            text(if l.high { "high" } else { "low" }),
            Cell::Number(l.value.clone()).if_number(),
            number(l.distance),
            number(r.distance),
            number(l.closes),
            text(l.reading()),
        ]
    });
    csv_bytes(
        &[
            "parameter",
            "end",
            "value",
            "gap_there",
            "gap_as_projected",
            "share_of_gap_closed",
            "reading",
        ],
        rows,
    )
}

impl Cell {
    /// A number stays a number; a list is text.
    fn if_number(self) -> Cell {
        match self {
            Cell::Number(t) if t.parse::<f64>().is_err() => Cell::Text(t),
            other => other,
        }
    }
}

fn exact(v: f64) -> String {
    if v == 0.0 { "0".into() } else { format!("{v}") }
}

fn band_cells(b: &Band) -> [Cell; 4] {
    [number(b.mean), number(b.p5), number(b.p50), number(b.p95)]
}

fn pounds_cells(b: &Band) -> [Cell; 4] {
    [pounds(b.mean), pounds(b.p5), pounds(b.p50), pounds(b.p95)]
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
        ],
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
                            number(crate::rng::parameter_uniform(crn(r), &p.parameter)),
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
