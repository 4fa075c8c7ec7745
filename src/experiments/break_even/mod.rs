//! Break-even: how strong an intervention's effect (or how high its
//! engagement) must be for its scenario to pay back, every other assumption
//! as stated: "hubs pay back if police incidents fall by at least 12% among
//! those reached".
//!
//! Each lever is moved along a grid from no effect (a multiplier of 1, or
//! engagement of 0) to twice its stated change (stopped where the value
//! would leave its domain), the scenario run at every point with the same
//! seed as the baseline, so the net present value along the grid moves
//! with the lever alone. The break-even is where net present value first
//! turns positive: in the mean across replicates (the central figure) and
//! in each replicate (their 5th and 95th percentiles make the band, as
//! every band in Upstream), interpolated linearly between grid points.
//!
//! With the parameters drawn (`--uncertainty`), each replicate draws every
//! other uncertain parameter as a run does, its present held at the stated
//! baseline's, the same draw at every grid point and in the baseline; the
//! lever alone is set by the grid. The band then covers the assumptions as
//! well as chance.
//!
//! Contract: the baseline runs once per scenario; every grid point shares
//! its replicates. A lever that pays back with no effect of its kind, or
//! does not pay back even at the grid's end, is said so, not extrapolated.

#[cfg(feature = "report")]
mod command;
#[cfg(feature = "report")]
mod page;
pub mod publish;

#[cfg(feature = "report")]
pub use command::{BreakEven, Settings};

use crate::economics::{self, Economics};
use crate::experiments::Error;
use crate::model::{Config, Delivery, EffectTarget};
use crate::present::Held;
use crate::replicates::{RunSettings, Runs};
use crate::scenario::Loaded;

/// Grid points from no effect to the grid's end, both included.
pub const GRID_POINTS: usize = 9;
/// The grid's end, as a multiple of the stated change.
pub const GRID_END: f64 = 2.0;

/// Where net present value turns positive along a lever's grid.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Crossing {
    /// Positive even with no effect of this kind: the rest of the
    /// scenario pays back without it.
    WithoutIt,
    /// At this value of the lever.
    At(f64),
    /// Not positive anywhere on the grid, up to the grid's end.
    Beyond,
}

impl Crossing {
    /// Ordered along the lever's strength: without it first, beyond last.
    fn rank(self, value: &dyn Fn(f64) -> f64) -> f64 {
        match self {
            Crossing::WithoutIt => f64::NEG_INFINITY,
            Crossing::At(v) => value(v),
            Crossing::Beyond => f64::INFINITY,
        }
    }
}

/// One lever of one intervention in one scenario.
#[derive(Clone, Debug, PartialEq)]
pub struct Threshold {
    /// The scenario's name.
    pub scenario: String,
    /// The lever's dotted name, as the assumptions list names it.
    pub parameter: String,
    /// What the lever is, in words: "Neighbourhood hub: police incidents
    /// (rate)".
    pub label: String,
    /// The value with no effect: 1 for a multiplier, 0 for engagement.
    pub none: f64,
    /// The value as the scenario states it.
    pub stated: f64,
    /// The lever's values along the grid, from `none`.
    pub grid: Vec<f64>,
    /// Mean net present value against the baseline at each grid value, £.
    pub npv: Vec<f64>,
    /// Where the mean net present value turns positive.
    pub central: Crossing,
    /// The 5th and 95th percentiles of the replicates' own break-evens,
    /// in the lever's strength (the first nearer no effect); none when the
    /// replicates are too few for a band
    /// ([`crate::published::no_bands`]).
    pub band: Option<(Crossing, Crossing)>,
    /// Whether each replicate drew the other uncertain parameters, so the
    /// band covers them as well as chance.
    pub parameters_drawn: bool,
}

impl Threshold {
    /// A value as its share of the stated change: 0 with no effect, 1 as
    /// stated.
    pub fn strength(&self, value: f64) -> f64 {
        (value - self.none) / (self.stated - self.none)
    }
}

impl Threshold {
    /// A value of the lever in words: "a fall of 12%", "a rise of 35%",
    /// "engagement of 40%".
    pub fn amount(&self, value: f64) -> String {
        let pct = |x: f64| format!("{:.0}%", 100.0 * x);
        if self.none == 0.0 {
            format!("engagement of {}", pct(value))
        } else if self.stated < self.none {
            format!("a fall of {}", pct(self.none - value))
        } else {
            format!("a rise of {}", pct(value - self.none))
        }
    }

    /// A value as the percentage [`Threshold::amount`] names.
    fn share(&self, value: f64) -> String {
        format!("{:.0}%", 100.0 * (value - self.none).abs())
    }

    /// A crossing in words, for a band's end.
    fn end(&self, c: Crossing) -> String {
        match c {
            Crossing::WithoutIt => "none needed".into(),
            Crossing::At(v) => self.share(v),
            Crossing::Beyond => format!("beyond {}", self.share(self.grid[self.grid.len() - 1])),
        }
    }

    /// The break-even as one sentence, the same in the terminal and the
    /// file: "Neighbourhood hub: police incidents (rate): pays back from
    /// a fall of 12% (5% to 20% across replicates); stated: a fall of 30%."
    pub fn reading(&self) -> String {
        let stated = self.amount(self.stated);
        let band = match self.band {
            None => String::new(),
            Some((low, high)) if low == high => {
                " (the same at the 5th and the 95th percentile across replicates)".to_string()
            }
            Some((low, high)) => format!(
                " ({} to {} across replicates{})",
                self.end(low),
                self.end(high),
                if self.parameters_drawn {
                    ", the other parameters drawn"
                } else {
                    ""
                }
            ),
        };
        match self.central {
            Crossing::WithoutIt => format!(
                "{}: pays back with none of this effect{band}; stated: {stated}.",
                self.label
            ),
            Crossing::At(v) => format!(
                "{}: pays back from {}{band}; stated: {stated}.",
                self.label,
                self.amount(v)
            ),
            Crossing::Beyond => format!(
                "{}: does not pay back up to {}{band}; stated: {stated}.",
                self.label,
                self.amount(self.grid[self.grid.len() - 1])
            ),
        }
    }
}

/// Every lever's break-even, scenario by scenario.
#[derive(Clone, Debug, PartialEq)]
pub struct BreakEvens {
    /// Scenario names, the baseline first.
    pub scenarios: Vec<String>,
    /// Each scenario's levers, in the order of its interventions and their
    /// effects.
    pub levers: Vec<Threshold>,
    /// Resident-months simulated in all, burn-in included.
    pub resident_months: u64,
}

/// A lever before it is run: its name, words, and stated and no-effect
/// values.
#[derive(Clone, Debug, PartialEq)]
struct Planned {
    parameter: String,
    label: String,
    none: f64,
    stated: f64,
    /// The largest value the lever may take, or smallest if it falls.
    bound: Option<f64>,
}

/// The levers of the interventions `scenario` changes against `baseline`:
/// engagement and each effect's multiplier of every caseload intervention
/// it runs.
fn levers(baseline: &Loaded, scenario: &Loaded) -> Vec<Planned> {
    let changed = economics::appraisal::changed_interventions(&baseline.config, &scenario.config);
    let mut out = Vec::new();
    for i in &scenario.config.interventions {
        if !changed.contains(&i.id) {
            continue;
        }
        let Delivery::Caseload {
            engagement,
            effects,
            ..
        } = &i.delivery
        else {
            continue;
        };
        let prefix = format!("interventions.{}", i.id);
        if *engagement > 0.0 && has(scenario, &format!("{prefix}.engagement")) {
            out.push(Planned {
                parameter: format!("{prefix}.engagement"),
                label: format!("{}: engagement", i.name),
                none: 0.0,
                stated: *engagement,
                bound: Some(1.0),
            });
        }
        for (k, e) in effects.iter().enumerate() {
            if e.multiplier == 1.0 {
                continue;
            }
            out.push(Planned {
                parameter: format!("{prefix}.effects[{k}].multiplier"),
                label: format!("{}: {}", i.name, target(scenario, &e.target)),
                none: 1.0,
                stated: e.multiplier,
                // A multiplier below 1 may fall to 0; one above 1 is open.
                bound: (e.multiplier < 1.0).then_some(0.0),
            });
        }
    }
    out
}

/// Whether the scenario's files state the number `parameter`.
fn has(scenario: &Loaded, parameter: &str) -> bool {
    scenario
        .assumptions
        .iter()
        .any(|a| a.parameter == parameter)
}

/// What an effect multiplies, in words.
fn target(scenario: &Loaded, t: &EffectTarget) -> String {
    let c = &scenario.config;
    match t {
        EffectTarget::Escalation => "escalation of need".into(),
        EffectTarget::Recovery => "recovery from need".into(),
        EffectTarget::RiskFactor(r) => format!("onset of {}", r.name().replace('_', " ")),
        EffectTarget::EventRate(s) => format!("{} (rate)", c.events[*s].name),
        EffectTarget::EpisodeEntry(s) => format!("{} (entries)", c.episodes[*s].name),
        EffectTarget::EpisodeDuration(s) => format!("{} (length of stay)", c.episodes[*s].name),
        EffectTarget::HandoffCost => "cost of handoffs between services".into(),
    }
}

/// The grid's values from `none` towards twice the stated change, stopped
/// at the bound.
fn grid(p: &Planned) -> Vec<f64> {
    let change = p.stated - p.none;
    let (end, last) = match p.bound {
        Some(b) if (b - p.none) / change < GRID_END => ((b - p.none) / change, b),
        _ => (GRID_END, p.none + GRID_END * change),
    };
    let steps = (GRID_POINTS - 1) as f64;
    (0..GRID_POINTS)
        .map(|i| match i {
            0 => p.none,
            i if i == GRID_POINTS - 1 => last,
            i => p.none + end * i as f64 / steps * change,
        })
        .collect()
}

/// Where `npv` along `grid` first turns positive, interpolated linearly.
pub fn crossing(grid: &[f64], npv: &[f64]) -> Crossing {
    if npv[0] > 0.0 {
        return Crossing::WithoutIt;
    }
    for i in 1..npv.len() {
        if npv[i] > 0.0 {
            let t = -npv[i - 1] / (npv[i] - npv[i - 1]);
            return Crossing::At(grid[i - 1] + t * (grid[i] - grid[i - 1]));
        }
    }
    Crossing::Beyond
}

/// The `q` quantile (type 7, as [`crate::metrics::Band`]) of crossings
/// ordered along the lever's strength; next to an open end, the end
/// further from the middle.
fn quantile(mut crossings: Vec<Crossing>, q: f64, strength: &dyn Fn(f64) -> f64) -> Crossing {
    crossings.sort_by(|a, b| a.rank(strength).total_cmp(&b.rank(strength)));
    let h = (crossings.len() - 1) as f64 * q;
    let (lo, hi) = (h.floor() as usize, h.ceil() as usize);
    match (crossings[lo], crossings[hi]) {
        (Crossing::At(a), Crossing::At(b)) => Crossing::At(a + (h - lo as f64) * (b - a)),
        // Next to an open end, the band reaches it: the end further out.
        (a, b) => {
            if q <= 0.5 {
                a
            } else {
                b
            }
        }
    }
}

/// The levers [`break_even`] will run across the scenarios after the
/// baseline.
pub fn levers_of(scenarios: &[Loaded]) -> usize {
    scenarios[1..]
        .iter()
        .map(|l| levers(&scenarios[0], l).len())
        .sum()
}

/// What a break-even's bands cover, in one sentence: the same in the
/// terminal and on its page.
pub fn bands_cover(parameters_drawn: usize) -> String {
    if parameters_drawn == 0 {
        return crate::published::bands_cover(0);
    }
    format!(
        "Bands cover chance and {parameters_drawn} uncertain parameters together: each replicate draws its own value of each, the same at every point of a lever's grid and in the baseline, the lever alone set by the grid. The present is held and the future drawn: each draw's service rates are scaled so that the baseline's first year has the stated baseline's activity, as a run with --uncertainty holds it."
    )
}

/// Each replicate's draw of the uncertain parameters, for a break-even
/// with them drawn: the baseline's drawn configuration and the factors
/// that hold its present, by replicate.
pub struct Drawn<'a> {
    /// The baseline as replicate `r` draws it, present held.
    pub baseline: Vec<&'a Config>,
    /// The factors replicate `r`'s draw is held by, which every scenario
    /// of the replicate takes.
    pub held: &'a [Held],
}

/// `variant` (a scenario with `lever` set to a grid point) as each
/// replicate draws it: every uncertain parameter but the lever drawn,
/// then held as the baseline's draw is.
fn drawn_variant(
    variant: &Loaded,
    lever: &str,
    seed: u64,
    held: &[Held],
) -> Result<Vec<Config>, Error> {
    use rayon::prelude::*;
    let mut at = variant.clone();
    at.uncertainty.parameters.retain(|u| u.parameter != lever);
    let configs = (0..held.len())
        .into_par_iter()
        .map(|r| {
            let (mut config, _) = at.drawn(crate::rng::Crn::new(seed, r as u32))?;
            held[r].apply(&mut config);
            Ok(config)
        })
        .collect::<Result<Vec<_>, crate::scenario::ScenarioError>>()?;
    Ok(configs)
}

/// Finds every lever's break-even in each scenario after the baseline,
/// with the other parameters drawn if `drawn` gives their draws.
/// `on_done` is called once per finished replicate. Run in `runs`:
/// nothing, if `runs` does one shard's share.
pub fn break_even(
    scenarios: &[Loaded],
    settings: &RunSettings,
    drawn: Option<&Drawn>,
    runs: &mut Runs,
    on_done: &(dyn Fn() + Sync),
) -> Result<Option<BreakEvens>, Error> {
    let baseline = &scenarios[0];
    let mut out = Vec::new();
    let mut resident_months = 0;
    for scenario in &scenarios[1..] {
        for p in levers(baseline, scenario) {
            let grid = grid(&p);
            let variants = grid
                .iter()
                .map(|v| scenario.with_numbers(&[(p.parameter.as_str(), &[*v])]))
                .collect::<Result<Vec<_>, _>>()?;
            let mut configs = vec![&baseline.config];
            configs.extend(variants.iter().map(|l| &l.config));
            let draws: Vec<Vec<Config>> = match drawn {
                Some(d) => variants
                    .iter()
                    .map(|v| drawn_variant(v, &p.parameter, settings.seed, d.held))
                    .collect::<Result<_, _>>()?,
                None => Vec::new(),
            };
            let config_at = |s: usize, r: u32| match (drawn, s) {
                (None, _) => configs[s],
                (Some(d), 0) => d.baseline[r as usize],
                (Some(_), s) => &draws[s - 1][r as usize],
            };
            let Some(run) = runs.run(configs.len(), &config_at, settings, on_done)? else {
                continue;
            };
            resident_months += run.resident_months;
            let money: Vec<&[economics::InterventionMoney]> = std::iter::once(baseline)
                .chain(std::iter::repeat_n(scenario, variants.len()))
                .map(|l| l.intervention_money.as_slice())
                .collect();
            let e: Economics =
                economics::evaluate(&baseline.conventions, &configs, &money, &run.scenarios);
            let npv: Vec<f64> = e.appraisals.iter().map(|a| a.npv.mean).collect();
            let central = crossing(&grid, &npv);
            let each: Vec<Crossing> = (0..settings.replicates as usize)
                .map(|r| {
                    let v: Vec<f64> = e.appraisals.iter().map(|a| a.npv_by_replicate[r]).collect();
                    crossing(&grid, &v)
                })
                .collect();
            let strength = |v: f64| (v - p.none) / (p.stated - p.none);
            out.push(Threshold {
                scenario: scenario.config.name.clone(),
                band: crate::published::no_bands(settings.replicates)
                    .is_none()
                    .then(|| {
                        (
                            quantile(each.clone(), 0.05, &strength),
                            quantile(each, 0.95, &strength),
                        )
                    }),
                parameters_drawn: drawn.is_some(),
                parameter: p.parameter,
                label: p.label,
                none: p.none,
                stated: p.stated,
                grid,
                npv,
                central,
            });
        }
    }
    if runs.only().is_some() {
        return Ok(None);
    }
    Ok(Some(BreakEvens {
        scenarios: scenarios.iter().map(|l| l.config.name.clone()).collect(),
        levers: out,
        resident_months,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    /// Engagement is a lever only where the scenario's files state it: a
    /// default engagement is not the scenario's to break even on.
    #[test]
    fn engagement_is_a_lever_only_where_the_files_state_it() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
        let hubs = root.join("small_hubs.toml");
        let load = |drop_engagement: bool| {
            let read = |p: &Path| {
                let text = crate::input::read(p)?;
                Ok(if drop_engagement && p == hubs {
                    text.lines()
                        .filter(|l| !l.starts_with("engagement"))
                        .collect::<Vec<_>>()
                        .join("\n")
                } else {
                    text
                })
            };
            crate::scenario::load_from(&hubs, &Default::default(), &read).unwrap()
        };
        let baseline = crate::scenario::load(&root.join("small.toml")).unwrap();
        let engagement = |s: &Loaded| {
            levers(&baseline, s)
                .iter()
                .filter(|l| l.parameter.ends_with(".engagement"))
                .count()
        };
        assert_eq!(engagement(&load(false)), 1);
        assert_eq!(engagement(&load(true)), 0);
        assert!(
            !levers(&baseline, &load(true)).is_empty(),
            "its effects are"
        );
    }

    /// A grid point's draw keeps the lever at the grid's value in every
    /// replicate while the other parameters move from replicate to
    /// replicate.
    #[test]
    fn a_drawn_variant_holds_its_lever_and_draws_the_rest() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
        let small = root.join("small.toml");
        let read = |p: &Path| {
            let text = crate::input::read(p)?;
            Ok(if p == small {
                text + "\n[uncertainty]\ndefault_width = { high = 0.3, medium = 0.3, low = 0.3 }\n"
            } else {
                // The lever itself uncertain, so the grid must overrule
                // its draw.
                text.replace(
                    "multiplier = 2.0 }",
                    "multiplier = 2.0, confidence = \"low\" }",
                )
            })
        };
        let hubs =
            crate::scenario::load_from(&root.join("small_hubs.toml"), &Default::default(), &read)
                .unwrap();
        let lever = "interventions.hubs.effects[0].multiplier";
        assert!(
            hubs.uncertainty
                .parameters
                .iter()
                .any(|u| u.parameter == lever)
        );
        let at = hubs.with_numbers(&[(lever, &[0.55])]).unwrap();
        let held = vec![
            Held {
                events: Vec::new(),
                episodes: Vec::new(),
            };
            4
        ];
        let configs = drawn_variant(&at, lever, 7, &held).unwrap();
        let hub = |c: &Config| {
            let i = c.interventions.iter().find(|i| i.id == "hubs").unwrap();
            match &i.delivery {
                Delivery::Caseload { effects, .. } => effects[0].multiplier,
                _ => unreachable!("hubs are a caseload"),
            }
        };
        for c in &configs {
            assert_eq!(hub(c), 0.55);
        }
        let escalation: Vec<f64> = configs.iter().map(|c| c.need.escalation[0]).collect();
        assert!(
            escalation.windows(2).any(|w| w[0] != w[1]),
            "{escalation:?}"
        );
    }

    #[test]
    fn the_crossing_is_where_the_line_through_two_points_meets_zero() {
        let g = [1.0, 0.9, 0.8, 0.7];
        let near = |c: Crossing, x: f64| matches!(c, Crossing::At(v) if (v - x).abs() < 1e-12);
        assert!(near(crossing(&g, &[-3.0, -1.0, 1.0, 3.0]), 0.85));
        assert!(near(crossing(&g, &[-3.0, -1.0, 3.0, 3.0]), 0.875));
        assert_eq!(crossing(&g, &[1.0, 2.0, 3.0, 4.0]), Crossing::WithoutIt);
        assert_eq!(crossing(&g, &[-4.0, -3.0, -2.0, 0.0]), Crossing::Beyond);
        // The first turn positive, not a later one.
        assert!(near(crossing(&g, &[-1.0, 1.0, -1.0, 1.0]), 0.95));
    }

    #[test]
    fn the_band_orders_crossings_by_strength_and_keeps_open_ends() {
        // A multiplier falling from 1: strength rises as it falls.
        let strength = |v: f64| (v - 1.0) / (0.5 - 1.0);
        let at = |v| Crossing::At(v);
        let c = vec![at(0.9), at(0.8), at(0.7), at(0.6), at(0.95)];
        assert_eq!(quantile(c.clone(), 0.0, &strength), at(0.95));
        assert_eq!(quantile(c.clone(), 1.0, &strength), at(0.6));
        assert!(matches!(quantile(c, 0.5, &strength), Crossing::At(v) if (v - 0.8).abs() < 1e-12));
        let open = vec![Crossing::WithoutIt, at(0.9), Crossing::Beyond];
        assert_eq!(quantile(open.clone(), 0.0, &strength), Crossing::WithoutIt);
        assert_eq!(quantile(open.clone(), 1.0, &strength), Crossing::Beyond);
        assert_eq!(quantile(open.clone(), 0.5, &strength), at(0.9));
        assert_eq!(quantile(open.clone(), 0.95, &strength), Crossing::Beyond);
        assert_eq!(quantile(open, 0.05, &strength), Crossing::WithoutIt);
    }

    #[test]
    fn a_grid_runs_from_no_effect_to_twice_the_change_within_the_domain() {
        let p = |none, stated, bound| Planned {
            parameter: String::new(),
            label: String::new(),
            none,
            stated,
            bound,
        };
        let g = grid(&p(1.0, 0.7, Some(0.0)));
        assert_eq!(g.len(), GRID_POINTS);
        assert_eq!(g[0], 1.0);
        assert!((g[GRID_POINTS - 1] - 0.4).abs() < 1e-12);
        // ×0.4 cannot double its change below 0.
        let g = grid(&p(1.0, 0.4, Some(0.0)));
        assert_eq!(g[GRID_POINTS - 1], 0.0);
        // Engagement of 0.95 stops at 1.
        let g = grid(&p(0.0, 0.95, Some(1.0)));
        assert_eq!(g[GRID_POINTS - 1], 1.0);
        let g = grid(&p(1.0, 2.0, None));
        assert!((g[GRID_POINTS - 1] - 3.0).abs() < 1e-12);
        // Between its ends the grid is evenly spaced, whether the change
        // doubles or stops at the bound.
        for g in [
            grid(&p(1.0, 0.7, Some(0.0))),
            grid(&p(1.0, 0.4, Some(0.0))),
            grid(&p(0.0, 0.95, Some(1.0))),
        ] {
            let step = (g[GRID_POINTS - 1] - g[0]) / (GRID_POINTS - 1) as f64;
            for (k, w) in g.windows(2).enumerate() {
                assert!((w[1] - w[0] - step).abs() < 1e-12, "{g:?}: step {k}");
            }
        }
    }
}
