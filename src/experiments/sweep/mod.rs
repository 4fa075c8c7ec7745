//! Sweeps: a comparison run again at each point of a grid over one or two
//! numbers of the scenarios (a budget, an effect, engagement, a horizon),
//! every point with the same seed, so the curves move with the numbers
//! alone, not with chance.
//!
//! Points run in an interleaved order (the grid's ends first, then the
//! middle, then the quarters, …), so a sweep stopped part-way still covers
//! the whole range coarsely. Each point's result carries an id, a hash of
//! everything that decides it (Upstream's version, the scenarios' files,
//! the seed, replicates and horizon, and the values set); a caller that
//! kept the results of an interrupted sweep hands them back through
//! `known`, and those points are not run again.

#[cfg(feature = "report")]
mod command;
#[cfg(feature = "report")]
mod page;
pub mod publish;

#[cfg(feature = "report")]
pub use command::{Settings, Sweep};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::app::Plan;
use crate::experiments::Error;
use crate::metrics::Band;
use crate::replicates::{RunSettings, Runs};
use crate::scenario::Loaded;

/// The most points a sweep axis may have.
pub const MAX_POINTS: usize = 101;

/// Why a sweep cannot be run as asked.
#[derive(Debug, thiserror::Error, PartialEq)]
#[non_exhaustive]
pub enum SweepError {
    /// `--vary` written other than as `NAME=FROM:TO:POINTS`.
    #[error(
        "--vary \"{text}\" is not NAME=FROM:TO:POINTS ({why}); for example interventions.hubs.annual_budget=100000:700000:7, or x0.5:x2:7 for multiples of the value each scenario states"
    )]
    Syntax {
        /// The text given.
        text: String,
        /// What is wrong with it.
        why: String,
    },
    /// A name no scenario of the comparison holds a number at.
    #[error(
        "no scenario of this comparison holds a number at `{parameter}`; `upstream check` and assumptions.csv list every parameter by name"
    )]
    NoSuchNumber {
        /// The dotted name given.
        parameter: String,
    },
    /// More than two axes, or the same name twice.
    #[error("a sweep varies one or two different numbers, not {0}")]
    Axes(String),
}

/// One number a sweep varies, and the values it takes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Axis {
    /// The number's dotted name, as the assumptions list names it.
    pub parameter: String,
    /// The values along the axis, evenly spaced from the first to the last.
    pub values: Vec<f64>,
    /// Whether the values multiply what each scenario states (element by
    /// element), rather than replace it (every element set to the value).
    pub multiples: bool,
}

impl Axis {
    /// Reads `NAME=FROM:TO:POINTS`, where FROM and TO are numbers (written
    /// `x0.5` or `×0.5` for multiples of the stated value) and POINTS is 1
    /// to [`MAX_POINTS`].
    pub fn parse(text: &str) -> Result<Axis, SweepError> {
        let bad = |why: &str| SweepError::Syntax {
            text: text.to_string(),
            why: why.to_string(),
        };
        let (name, spec) = text.split_once('=').ok_or_else(|| bad("no `=`"))?;
        let name = name.trim();
        if name.is_empty() {
            return Err(bad("no name before `=`"));
        }
        let parts: Vec<&str> = spec.split(':').map(str::trim).collect();
        let [from, to, points] = parts[..] else {
            return Err(bad("expected three parts after `=`, separated by `:`"));
        };
        fn multiple(t: &str) -> Option<&str> {
            t.strip_prefix('x').or_else(|| t.strip_prefix('×'))
        }
        let multiples = multiple(from).is_some();
        if multiple(to).is_some() != multiples {
            return Err(bad(
                "FROM and TO must both be multiples (x…) or both be numbers",
            ));
        }
        let number = |t: &str| -> Result<f64, SweepError> {
            let t = multiple(t).unwrap_or(t).replace('_', "");
            match t.parse::<f64>() {
                Ok(v) if v.is_finite() => Ok(v),
                _ => Err(bad(&format!("\"{t}\" is not a number"))),
            }
        };
        let (from, to) = (number(from)?, number(to)?);
        let points: usize = points
            .parse()
            .ok()
            .filter(|n| (1..=MAX_POINTS).contains(n))
            .ok_or_else(|| {
                bad(&format!(
                    "POINTS must be a whole number from 1 to {MAX_POINTS}"
                ))
            })?;
        if points == 1 && from != to {
            return Err(bad("one point needs FROM and TO the same"));
        }
        let values = (0..points)
            .map(|i| match i {
                0 => from,
                i if i == points - 1 => to,
                i => from + (to - from) * i as f64 / (points - 1) as f64,
            })
            .collect();
        Ok(Axis {
            parameter: name.to_string(),
            values,
            multiples,
        })
    }

    /// The axis's value `v` as the outputs write it: `×1.5` for a multiple.
    pub fn label(&self, v: f64) -> String {
        let n = if v.fract() == 0.0 && v.abs() >= 1000.0 {
            crate::format::thousands(v)
        } else {
            // Six decimals at most, without trailing zeros: 0.1 + 0.2 is 0.3.
            let t = format!("{v:.6}");
            t.trim_end_matches('0').trim_end_matches('.').to_string()
        };
        if self.multiples { format!("×{n}") } else { n }
    }
}

/// The order to run an axis of `n` points in: both ends, then the middle,
/// then the middles of the halves, and so on; with each index's level (0
/// for the ends, 1 for the middle, …).
pub fn interleaved(n: usize) -> Vec<(usize, u32)> {
    let mut out: Vec<(usize, u32)> = Vec::with_capacity(n);
    if n == 0 {
        return out;
    }
    out.push((0, 0));
    if n > 1 {
        out.push((n - 1, 0));
    }
    // Breadth first over the gaps between points already placed.
    let mut gaps = std::collections::VecDeque::from([(0usize, n - 1, 1u32)]);
    while let Some((a, b, level)) = gaps.pop_front() {
        if b - a < 2 {
            continue;
        }
        let m = (a + b) / 2;
        out.push((m, level));
        gaps.push_back((a, m, level + 1));
        gaps.push_back((m, b, level + 1));
    }
    out
}

/// Every grid point of `axes` (indices along each), in the order a sweep
/// runs them: the coarsest grid first.
pub fn order(axes: &[Axis]) -> Vec<Vec<usize>> {
    match axes {
        [a] => interleaved(a.values.len())
            .into_iter()
            .map(|(i, _)| vec![i])
            .collect(),
        [a, b] => {
            let (oa, ob) = (interleaved(a.values.len()), interleaved(b.values.len()));
            let mut points: Vec<(u32, usize, usize, Vec<usize>)> = Vec::new();
            for (ra, &(i, la)) in oa.iter().enumerate() {
                for (rb, &(j, lb)) in ob.iter().enumerate() {
                    points.push((la.max(lb), ra, rb, vec![i, j]));
                }
            }
            points.sort_by_key(|p| (p.0, p.1, p.2));
            points.into_iter().map(|p| p.3).collect()
        }
        _ => Vec::new(),
    }
}

/// One scenario's figures at one point: means and 5th–95th percentile
/// bands across replicates, against the baseline.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Figures {
    /// The scenario's name.
    pub scenario: String,
    /// Net present value against the baseline, £.
    pub npv: Band,
    /// Crisis-months avoided against the baseline.
    pub crisis_months_avoided: Band,
    /// Present value of reactive cost avoided, £.
    pub pv_savings: Band,
    /// Present value of extra intervention spend, £.
    pub pv_investment: Band,
    /// Share of replicates that pay back (discounted) within the horizon.
    pub payback_within_horizon: f64,
    /// Median discounted payback month, if half the replicates pay back.
    pub payback_month_p50: Option<u32>,
}

/// One grid point's results.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Point {
    /// The hash of everything that decides this point's results.
    pub id: String,
    /// Its index along each axis.
    pub at: Vec<usize>,
    /// Its value along each axis.
    pub values: Vec<f64>,
    /// Each scenario's figures (after the baseline).
    pub scenarios: Vec<Figures>,
    /// Resident-months simulated, burn-in included.
    pub resident_months: u64,
}

/// A sweep's results: every point, in grid order (the first axis slowest).
#[derive(Clone, Debug, PartialEq)]
pub struct Swept {
    /// The axes varied.
    pub axes: Vec<Axis>,
    /// Scenario names, the baseline first.
    pub scenarios: Vec<String>,
    /// Every point, in grid order.
    pub points: Vec<Point>,
    /// Points run now (the rest were handed back by `known`).
    pub run: usize,
    /// Resident-months simulated now, burn-in included.
    pub resident_months: u64,
}

impl Swept {
    /// The point at grid indices `at`.
    pub fn at(&self, at: &[usize]) -> &Point {
        self.points
            .iter()
            .find(|p| p.at == at)
            .expect("every grid point is in the sweep")
    }
}

/// Checks `axes` against the scenarios: one or two, different, each a
/// number some scenario holds.
pub fn check(scenarios: &[Loaded], axes: &[Axis]) -> Result<(), SweepError> {
    match axes {
        [] => return Err(SweepError::Axes("none".into())),
        [a, b] if a.parameter == b.parameter => {
            return Err(SweepError::Axes(format!("`{}` twice", a.parameter)));
        }
        [_] | [_, _] => {}
        more => return Err(SweepError::Axes(more.len().to_string())),
    }
    for a in axes {
        if scenarios.iter().all(|l| l.number(&a.parameter).is_none()) {
            return Err(SweepError::NoSuchNumber {
                parameter: a.parameter.clone(),
            });
        }
    }
    Ok(())
}

/// The scenarios at grid point `at`: each axis's number set in every
/// scenario that holds it.
fn at_point(scenarios: &[Loaded], axes: &[Axis], at: &[usize]) -> Result<Vec<Loaded>, Error> {
    scenarios
        .iter()
        .map(|l| {
            let mut set: Vec<(&str, Vec<f64>)> = Vec::new();
            for (a, &i) in axes.iter().zip(at) {
                if let Some(stated) = l.number(&a.parameter) {
                    let v = a.values[i];
                    let values = if a.multiples {
                        stated.iter().map(|x| x * v).collect()
                    } else {
                        vec![v; stated.len()]
                    };
                    set.push((a.parameter.as_str(), values));
                }
            }
            let refs: Vec<(&str, &[f64])> = set.iter().map(|(n, v)| (*n, v.as_slice())).collect();
            Ok(l.with_numbers(&refs)?)
        })
        .collect()
}

/// The id of a point: the first 16 hex digits of a SHA-256 over Upstream's
/// version, the settings, each scenario's files and the values set.
pub fn point_id(
    scenarios: &[Loaded],
    settings: &RunSettings,
    axes: &[Axis],
    at: &[usize],
) -> String {
    let mut h = Sha256::new();
    h.update(format!(
        "upstream {} sweep\nseed {}\nreplicates {}\n",
        env!("CARGO_PKG_VERSION"),
        settings.seed,
        settings.replicates
    ));
    for l in scenarios {
        h.update(format!(
            "scenario {}\nmonths {}\n",
            l.config.name, l.config.months
        ));
        for f in &l.files {
            h.update(format!("file {}\n", f.sha256));
        }
    }
    for (a, &i) in axes.iter().zip(at) {
        h.update(format!(
            "{} {} {:016x}\n",
            a.parameter,
            if a.multiples { "times" } else { "set" },
            a.values[i].to_bits()
        ));
    }
    h.finalize()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Runs the comparison at every grid point of `axes` not already in
/// `known` (asked by id), in [`order`], in `runs`: the sweep, unless `runs`
/// does one shard's share. `finished` is given each point as it completes
/// (to keep it, so an interrupted sweep can resume); `on_done` is called
/// once per finished replicate.
pub fn sweep(
    scenarios: &[Loaded],
    settings: &RunSettings,
    axes: &[Axis],
    known: &dyn Fn(&str) -> Option<Point>,
    finished: &mut dyn FnMut(&Point) -> Result<(), Error>,
    runs: &mut Runs,
    on_done: &(dyn Fn() + Sync),
) -> Result<Option<Swept>, Error> {
    check(scenarios, axes)?;
    // Every point compiled first: a value the scenarios refuse is refused
    // before anything runs.
    let grid = order(axes);
    for at in &grid {
        at_point(scenarios, axes, at)?;
    }
    let mut points = Vec::new();
    let mut run = 0;
    let mut resident_months = 0;
    for at in grid {
        let id = point_id(scenarios, settings, axes, &at);
        let values: Vec<f64> = axes.iter().zip(&at).map(|(a, &i)| a.values[i]).collect();
        if let Some(p) = known(&id).filter(|p| p.at == at && p.values == values) {
            points.push(p);
            continue;
        }
        let set = at_point(scenarios, axes, &at)?;
        let Some(outcome) = Plan::of(set, settings.clone())?.run_in(runs, on_done)? else {
            continue;
        };
        let point = Point {
            id,
            at,
            values,
            scenarios: outcome
                .economics
                .appraisals
                .iter()
                .map(|a| Figures {
                    scenario: a.scenario.clone(),
                    npv: a.npv,
                    crisis_months_avoided: a.crisis_months_avoided,
                    pv_savings: a.pv_savings,
                    pv_investment: a.pv_investment,
                    payback_within_horizon: a.payback_month_discounted.within_horizon,
                    payback_month_p50: a.payback_month_discounted.p50,
                })
                .collect(),
            resident_months: outcome.experiment.resident_months,
        };
        finished(&point)?;
        run += 1;
        resident_months += point.resident_months;
        points.push(point);
    }
    if runs.only().is_some() {
        return Ok(None);
    }
    points.sort_by(|a, b| a.at.cmp(&b.at));
    Ok(Some(Swept {
        axes: axes.to_vec(),
        scenarios: scenarios.iter().map(|l| l.config.name.clone()).collect(),
        points,
        run,
        resident_months,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_axis_is_read_from_name_from_to_points() {
        let a = Axis::parse("interventions.hubs.annual_budget=100_000:700000:7").unwrap();
        assert_eq!(a.parameter, "interventions.hubs.annual_budget");
        assert_eq!(a.values, [1e5, 2e5, 3e5, 4e5, 5e5, 6e5, 7e5]);
        assert!(!a.multiples);
        let m = Axis::parse("x=x0.5:×2:4").unwrap();
        assert!(m.multiples);
        assert_eq!(m.values, [0.5, 1.0, 1.5, 2.0]);
        assert_eq!(Axis::parse("x=3:3:1").unwrap().values, [3.0]);
        // The last point is TO exactly, as written, where the steps'
        // arithmetic would land an ulp away (0.2 + 0.7 is 0.8999…).
        assert_eq!(Axis::parse("x=0.2:0.9:4").unwrap().values[3], 0.9);
        for bad in [
            "x",
            "=1:2:3",
            "x=1:2",
            "x=1:two:3",
            "x=1:2:0",
            "x=1:2:102",
            "x=x1:2:3",
            "x=1:2:1",
            "x=1:inf:3",
        ] {
            assert!(
                matches!(Axis::parse(bad), Err(SweepError::Syntax { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn the_order_covers_every_point_once_the_coarsest_first() {
        for n in 1..40 {
            let o = interleaved(n);
            let mut idx: Vec<usize> = o.iter().map(|p| p.0).collect();
            idx.sort_unstable();
            assert_eq!(idx, (0..n).collect::<Vec<_>>(), "{n}");
            assert!(o.windows(2).all(|w| w[0].1 <= w[1].1), "{n}: {o:?}");
        }
        let o: Vec<usize> = interleaved(9).into_iter().map(|p| p.0).collect();
        assert_eq!(o, [0, 8, 4, 2, 6, 1, 3, 5, 7]);
        // Two axes: the four corners first, every point once.
        let axis = |n| Axis {
            parameter: String::new(),
            values: vec![0.0; n],
            multiples: false,
        };
        let grid = order(&[axis(5), axis(3)]);
        assert_eq!(grid.len(), 15);
        let mut corners = grid[..4].to_vec();
        corners.sort();
        assert_eq!(corners, [vec![0, 0], vec![0, 2], vec![4, 0], vec![4, 2]]);
        let mut all = grid.clone();
        all.sort();
        all.dedup();
        assert_eq!(all.len(), 15);
    }
}
