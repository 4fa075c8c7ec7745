//! One-way sensitivity: which assumptions decide a comparison's answer.
//! Each uncertain parameter is set to the low and then the high end of its
//! range, every other parameter at its value, and the whole comparison is
//! run again with the same seed; so each scenario's net present value and
//! crisis-months avoided at either end differ from the central run only by
//! that parameter's effect (the same residents meet the same luck), not by
//! noise.
//!
//! [`morris`] screens the same parameters globally: Morris's elementary
//! effects, each the change in a figure when one parameter moves by two
//! thirds of its range with the others wherever the trajectory has put
//! them, so a parameter that matters only together with others shows too.
//!
//! Contract: a parameter several scenarios share is moved in all of them at
//! once; a scenario without it runs as it is. Results are means across
//! replicates, in the order of the parameters' first appearance (the
//! baseline's first); [`OneWay::ranked`] and [`Screening::ranked`] order
//! them by effect.

#[cfg(feature = "report")]
mod command;
pub mod publish;

#[cfg(feature = "report")]
pub use command::{Sensitivity, Settings};

use crate::app::{Outcome, Plan};
use crate::economics::Economics;
use crate::experiments::Error;
use crate::replicates::{RunSettings, Runs};
use crate::scenario::Loaded;

/// A figure at the low end of a parameter's range, at every parameter's
/// value, and at the high end: means across replicates.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Ends {
    /// With the parameter at the low end of its range.
    pub low: f64,
    /// With every parameter at its value.
    pub central: f64,
    /// With the parameter at the high end.
    pub high: f64,
}

impl Ends {
    /// How far the figure moves between the two ends, either way.
    pub fn swing(&self) -> f64 {
        (self.high - self.low).abs()
    }
}

/// One parameter's effect on one scenario's comparison with the baseline.
#[derive(Clone, Debug, PartialEq)]
pub struct Swing {
    /// The parameter's dotted name.
    pub parameter: String,
    /// The range's ends as written (a list's as text), low then high.
    pub range: (String, String),
    /// Net present value against the baseline, £.
    pub npv: Ends,
    /// Crisis-months avoided against the baseline.
    pub crisis_months_avoided: Ends,
}

/// The one-way sensitivity of each scenario (after the baseline).
#[derive(Clone, Debug, PartialEq)]
pub struct OneWay {
    /// Scenario names, the baseline first.
    pub scenarios: Vec<String>,
    /// `effects[s - 1]`: scenario `s`'s effects, one per parameter, in
    /// the parameters' order.
    pub effects: Vec<Vec<Swing>>,
    /// Comparisons run (twice the parameters, and the central one).
    pub comparisons: usize,
    /// Resident-months simulated in all, burn-in included.
    pub resident_months: u64,
}

impl OneWay {
    /// Scenario `s`'s effects (`s` ≥ 1), the largest swing in net present
    /// value first (ties by name).
    pub fn ranked(&self, s: usize) -> Vec<&Swing> {
        let mut v: Vec<&Swing> = self.effects[s - 1].iter().collect();
        v.sort_by(|a, b| {
            b.npv
                .swing()
                .total_cmp(&a.npv.swing())
                .then_with(|| a.parameter.cmp(&b.parameter))
        });
        v
    }
}

/// Every uncertain parameter's name across the scenarios, each once, in
/// order of first appearance.
pub fn parameters(scenarios: &[Loaded]) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for l in scenarios {
        for u in &l.uncertainty.parameters {
            if !names.contains(&u.parameter) {
                names.push(u.parameter.clone());
            }
        }
    }
    names
}

/// The uncertain parameters whose names start with one of `only` (every
/// one when `only` is empty), in order of first appearance.
pub fn selected(scenarios: &[Loaded], only: &[String]) -> Vec<String> {
    parameters(scenarios)
        .into_iter()
        .filter(|n| only.is_empty() || only.iter().any(|p| n.starts_with(p.as_str())))
        .collect()
}

/// Runs the one-way sensitivity of `scenarios` (the baseline first): the
/// central comparison, then each parameter at each end. `on_done` is called
/// once per finished replicate.
pub fn one_way(
    scenarios: Vec<Loaded>,
    settings: &RunSettings,
    on_done: &(dyn Fn() + Sync),
) -> Result<OneWay, Error> {
    let found = one_way_with_central(scenarios, settings, &[], &mut Runs::whole(), on_done)?;
    Ok(found.expect("run whole").0)
}

/// As [`one_way`], over the parameters [`selected`] by `only`, with the
/// central comparison's whole outcome: the run every figure is a departure
/// from, to write and report as any run. Run in `runs`: nothing, if
/// `runs` does one shard's share.
pub fn one_way_with_central(
    scenarios: Vec<Loaded>,
    settings: &RunSettings,
    only: &[String],
    runs: &mut Runs,
    on_done: &(dyn Fn() + Sync),
) -> Result<Option<(OneWay, Outcome)>, Error> {
    let scenarios = with_baseline_widths(scenarios)?;
    let scenarios = scenarios.as_slice();
    let names = selected(scenarios, only);
    nothing_selected(&names, only)?;
    let outcome = Plan::of(scenarios.to_vec(), settings.clone())?.run_in(runs, on_done)?;
    let mut each_end = Vec::with_capacity(names.len());
    for name in &names {
        let mut ends = Vec::with_capacity(2);
        for high in [false, true] {
            let set = scenarios
                .iter()
                .map(|l| Ok(l.at_end(name, high)?.unwrap_or_else(|| l.clone())))
                .collect::<Result<Vec<_>, Error>>()?;
            ends.extend(compare(set, settings, runs, on_done)?);
        }
        each_end.push(ends);
    }
    // Every run is done (or this shard's share of it) before anything is
    // summed up.
    let Some(outcome) = outcome else {
        return Ok(None);
    };
    let central = &outcome.economics;
    let mut resident_months = outcome.experiment.resident_months;
    let mut effects = vec![Vec::with_capacity(names.len()); scenarios.len() - 1];
    for (name, ends) in names.iter().zip(each_end) {
        resident_months += ends.iter().map(|e| e.1).sum::<u64>();
        let ends: Vec<Economics> = ends.into_iter().map(|e| e.0).collect();
        let range = range_text(scenarios, name);
        for (s, by) in effects.iter_mut().enumerate() {
            let figure = |e: &Economics, f: fn(&crate::economics::appraisal::Appraisal) -> f64| {
                f(&e.appraisals[s])
            };
            let npv = |a: &crate::economics::appraisal::Appraisal| a.npv.mean;
            let crisis = |a: &crate::economics::appraisal::Appraisal| a.crisis_months_avoided.mean;
            by.push(Swing {
                parameter: name.clone(),
                range: range.clone(),
                npv: Ends {
                    low: figure(&ends[0], npv),
                    central: figure(central, npv),
                    high: figure(&ends[1], npv),
                },
                crisis_months_avoided: Ends {
                    low: figure(&ends[0], crisis),
                    central: figure(central, crisis),
                    high: figure(&ends[1], crisis),
                },
            });
        }
    }
    let one_way = OneWay {
        scenarios: scenarios.iter().map(|l| l.config.name.clone()).collect(),
        effects,
        comparisons: 1 + 2 * names.len(),
        resident_months,
    };
    Ok(Some((one_way, outcome)))
}

/// The range of the first scenario that has `name`, as text.
fn range_text(scenarios: &[Loaded], name: &str) -> (String, String) {
    let u = scenarios
        .iter()
        .flat_map(|l| &l.uncertainty.parameters)
        .find(|u| u.parameter == name)
        .expect("a name from these scenarios");
    (u.written(&u.low), u.written(&u.high))
}

/// Refuses an experiment with no parameter to vary, saying why.
fn nothing_selected(names: &[String], only: &[String]) -> Result<(), Error> {
    match (names.is_empty(), only.is_empty()) {
        (false, _) => Ok(()),
        (true, true) => Err(crate::app::PlanError::NothingUncertain.into()),
        (true, false) => Err(crate::app::PlanError::NoneSelected {
            only: only.to_vec(),
        }
        .into()),
    }
}

/// The scenarios under their baseline's default widths: every scenario of a
/// comparison varies by the same rule.
fn with_baseline_widths(scenarios: Vec<Loaded>) -> Result<Vec<Loaded>, Error> {
    let widths = scenarios[0].uncertainty.default_width;
    Ok(scenarios
        .into_iter()
        .map(|l| l.with_default_width(widths))
        .collect::<Result<Vec<_>, _>>()?)
}

/// Runs one comparison in `runs`: its economics and the resident-months
/// simulated, unless `runs` does one shard's share.
fn compare(
    set: Vec<Loaded>,
    settings: &RunSettings,
    runs: &mut Runs,
    on_done: &(dyn Fn() + Sync),
) -> Result<Option<(Economics, u64)>, Error> {
    let outcome = Plan::of(set, settings.clone())?.run_in(runs, on_done)?;
    Ok(outcome.map(|o| (o.economics, o.experiment.resident_months)))
}

/// Levels of the Morris grid: each parameter sits at 0, ⅓, ⅔ or all of the
/// way across its range.
pub const MORRIS_LEVELS: u32 = 4;
/// The Morris step, as a share of each range: levels / (2 (levels − 1)),
/// so every level has a partner a step away and the levels are sampled
/// evenly.
pub const MORRIS_STEP: f64 = MORRIS_LEVELS as f64 / (2.0 * (MORRIS_LEVELS as f64 - 1.0));

/// A Morris trajectory: `k + 1` points in the unit cube of `k` parameters'
/// ranges, each after the first moving one parameter by
/// [`MORRIS_STEP`], every parameter once.
#[derive(Clone, Debug, PartialEq)]
pub struct Trajectory {
    /// Each point's shares of the way across each parameter's range.
    pub points: Vec<Vec<f64>>,
    /// `moved[i]`: the parameter that moves from point `i` to `i + 1`.
    pub moved: Vec<usize>,
}

/// Trajectory `t` of a screen of `k` parameters under master seed `seed`:
/// a start drawn on the grid's levels and a random order of the
/// parameters, from the screening's own random stream (so the same seed
/// gives the same design, and adding a trajectory leaves the others).
pub fn trajectory(seed: u64, t: u32, k: usize) -> Trajectory {
    let mut stream = crate::rng::Crn::new(seed, t).stream(0, 0, crate::rng::Purpose::Screening);
    let top = (MORRIS_LEVELS - 1) as f64;
    let mut x: Vec<f64> = (0..k)
        .map(|_| {
            let level = ((stream.uniform() * MORRIS_LEVELS as f64) as u32).min(MORRIS_LEVELS - 1);
            level as f64 / top
        })
        .collect();
    // Fisher–Yates: the order the parameters move in.
    let mut order: Vec<usize> = (0..k).collect();
    for i in (1..k).rev() {
        let j = ((stream.uniform() * (i + 1) as f64) as usize).min(i);
        order.swap(i, j);
    }
    let mut points = Vec::with_capacity(k + 1);
    points.push(x.clone());
    for &j in &order {
        // Up from the lower half of the grid, down from the upper, so the
        // point stays inside the ranges.
        x[j] = if x[j] < 0.5 {
            x[j] + MORRIS_STEP
        } else {
            x[j] - MORRIS_STEP
        };
        // Land exactly on a level (⅓ + ⅔ is 1 only to rounding).
        x[j] = (x[j] * top).round() / top;
        points.push(x.clone());
    }
    Trajectory {
        points,
        moved: order,
    }
}

/// A parameter's elementary effects on one figure, across trajectories:
/// each the figure's change over the step, per whole range (the change
/// divided by the share of the range stepped).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Elementary {
    /// Mean absolute elementary effect: how much the parameter matters.
    pub mu_star: f64,
    /// Mean elementary effect: which way (near zero with a large μ*, it
    /// pushes both ways).
    pub mu: f64,
    /// Standard deviation of the elementary effects: how much the
    /// parameter's effect depends on where the others are (interaction or
    /// a curve); 0 with one trajectory.
    pub sigma: f64,
}

impl Elementary {
    fn of(effects: &[f64]) -> Elementary {
        let n = effects.len() as f64;
        if effects.is_empty() {
            return Elementary::default();
        }
        let mu = effects.iter().sum::<f64>() / n;
        let mu_star = effects.iter().map(|e| e.abs()).sum::<f64>() / n;
        let sigma = if effects.len() > 1 {
            (effects.iter().map(|e| (e - mu).powi(2)).sum::<f64>() / (n - 1.0)).sqrt()
        } else {
            0.0
        };
        Elementary { mu_star, mu, sigma }
    }
}

/// One parameter's screening against one scenario's comparison.
#[derive(Clone, Debug, PartialEq)]
pub struct Screened {
    /// The parameter's dotted name.
    pub parameter: String,
    /// The range's ends as written, low then high.
    pub range: (String, String),
    /// On net present value against the baseline, £ per whole range.
    pub npv: Elementary,
    /// On crisis-months avoided against the baseline, per whole range.
    pub crisis_months_avoided: Elementary,
}

/// A Morris screen of each scenario (after the baseline).
#[derive(Clone, Debug, PartialEq)]
pub struct Screening {
    /// Scenario names, the baseline first.
    pub scenarios: Vec<String>,
    /// Trajectories run.
    pub trajectories: u32,
    /// `effects[s - 1]`: scenario `s`'s parameters, in the parameters'
    /// order.
    pub effects: Vec<Vec<Screened>>,
    /// Comparisons run: trajectories × (parameters + 1).
    pub comparisons: usize,
    /// Resident-months simulated in all, burn-in included.
    pub resident_months: u64,
}

impl Screening {
    /// Scenario `s`'s parameters (`s` ≥ 1), the largest μ* on net present
    /// value first (ties by name).
    pub fn ranked(&self, s: usize) -> Vec<&Screened> {
        let mut v: Vec<&Screened> = self.effects[s - 1].iter().collect();
        v.sort_by(|a, b| {
            b.npv
                .mu_star
                .total_cmp(&a.npv.mu_star)
                .then_with(|| a.parameter.cmp(&b.parameter))
        });
        v
    }
}

/// Screens the uncertain parameters of `scenarios` (the baseline first) by
/// Morris's method with `trajectories` trajectories: each point of each
/// trajectory is a whole comparison at those parameters, run with the same
/// seed, so an elementary effect is the parameter's, not chance's.
/// Parameters are set across their ranges evenly, whatever their
/// distributions. Only the parameters [`selected`] by `only` move; the rest
/// stay at their values. Run in `runs`: nothing, if `runs` does one
/// shard's share. `on_done` is called once per finished replicate.
pub fn morris(
    scenarios: Vec<Loaded>,
    settings: &RunSettings,
    trajectories: u32,
    only: &[String],
    runs: &mut Runs,
    on_done: &(dyn Fn() + Sync),
) -> Result<Option<Screening>, Error> {
    let scenarios = with_baseline_widths(scenarios)?;
    let names = selected(&scenarios, only);
    nothing_selected(&names, only)?;
    let k = names.len();
    let figures = |e: &Economics| -> Vec<(f64, f64)> {
        e.appraisals
            .iter()
            .map(|a| (a.npv.mean, a.crisis_months_avoided.mean))
            .collect()
    };
    // effects[s][j]: scenario s's elementary effects of parameter j, on
    // (net present value, crisis-months avoided).
    let mut effects = vec![vec![Vec::new(); k]; scenarios.len() - 1];
    let mut resident_months = 0;
    for t in 0..trajectories {
        let design = trajectory(settings.seed, t, k);
        let mut before: Option<Vec<(f64, f64)>> = None;
        for (i, x) in design.points.iter().enumerate() {
            let set = scenarios
                .iter()
                .map(|l| {
                    let values: Vec<(&str, Vec<f64>)> = l
                        .uncertainty
                        .parameters
                        .iter()
                        .filter_map(|u| {
                            let j = names.iter().position(|n| *n == u.parameter)?;
                            Some((u.parameter.as_str(), u.at_share(x[j])))
                        })
                        .collect();
                    let refs: Vec<(&str, &[f64])> =
                        values.iter().map(|(n, v)| (*n, v.as_slice())).collect();
                    Ok(l.with_numbers(&refs)?)
                })
                .collect::<Result<Vec<_>, Error>>()?;
            let Some((economics, months)) = compare(set, settings, runs, on_done)? else {
                continue;
            };
            resident_months += months;
            let now = figures(&economics);
            if let Some(was) = &before {
                let j = design.moved[i - 1];
                let dx = x[j] - design.points[i - 1][j];
                for (s, by) in effects.iter_mut().enumerate() {
                    by[j].push(((now[s].0 - was[s].0) / dx, (now[s].1 - was[s].1) / dx));
                }
            }
            before = Some(now);
        }
    }
    if runs.only().is_some() {
        return Ok(None);
    }
    let effects = effects
        .into_iter()
        .map(|by| {
            by.into_iter()
                .zip(&names)
                .map(|(ee, name)| {
                    let npv: Vec<f64> = ee.iter().map(|e| e.0).collect();
                    let crisis: Vec<f64> = ee.iter().map(|e| e.1).collect();
                    Screened {
                        parameter: name.clone(),
                        range: range_text(&scenarios, name),
                        npv: Elementary::of(&npv),
                        crisis_months_avoided: Elementary::of(&crisis),
                    }
                })
                .collect()
        })
        .collect();
    Ok(Some(Screening {
        scenarios: scenarios.iter().map(|l| l.config.name.clone()).collect(),
        trajectories,
        effects,
        comparisons: trajectories as usize * (k + 1),
        resident_months,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_trajectory_moves_every_parameter_once_by_the_step_within_the_ranges() {
        for t in 0..50 {
            let d = trajectory(7, t, 9);
            assert_eq!(d.points.len(), 10);
            let mut moved = d.moved.clone();
            moved.sort_unstable();
            assert_eq!(moved, (0..9).collect::<Vec<_>>());
            for (i, &j) in d.moved.iter().enumerate() {
                let (a, b) = (&d.points[i], &d.points[i + 1]);
                assert!(((b[j] - a[j]).abs() - MORRIS_STEP).abs() < 1e-12);
                for m in (0..9).filter(|&m| m != j) {
                    assert_eq!(a[m], b[m]);
                }
            }
            for x in d.points.iter().flatten() {
                assert!((0.0..=1.0).contains(x));
                let level = x * 3.0;
                assert!((level - level.round()).abs() < 1e-12);
            }
        }
    }

    #[test]
    fn the_design_is_the_seeds_and_each_trajectory_its_own() {
        assert_eq!(trajectory(7, 3, 5), trajectory(7, 3, 5));
        assert_ne!(trajectory(7, 3, 5), trajectory(8, 3, 5));
        assert_ne!(trajectory(7, 3, 5), trajectory(7, 4, 5));
    }

    #[test]
    fn the_starting_levels_are_drawn_evenly() {
        let mut counts = [0u32; 4];
        for t in 0..2_000 {
            for x in &trajectory(11, t, 4).points[0] {
                counts[(x * 3.0).round() as usize] += 1;
            }
        }
        // 8,000 draws, 2,000 expected in each level; 4 standard deviations
        // is about 155.
        for c in counts {
            assert!((1_845..=2_155).contains(&c), "{counts:?}");
        }
    }

    #[test]
    fn elementary_effects_summarise_as_morris_defines_them() {
        let e = Elementary::of(&[2.0, -4.0, 6.0]);
        assert_eq!(e.mu, 4.0 / 3.0);
        assert_eq!(e.mu_star, 4.0);
        let var = ((2.0 - 4.0 / 3.0_f64).powi(2)
            + (-4.0 - 4.0 / 3.0_f64).powi(2)
            + (6.0 - 4.0 / 3.0_f64).powi(2))
            / 2.0;
        assert!((e.sigma - var.sqrt()).abs() < 1e-12);
        assert_eq!(Elementary::of(&[3.0]).sigma, 0.0);
    }
}
