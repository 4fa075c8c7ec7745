//! One-way sensitivity: which assumptions decide a comparison's answer.
//! Each uncertain parameter is set to the low and then the high end of its
//! range, every other parameter at its value, and the whole comparison is
//! run again with the same seed; so each scenario's net present value and
//! crisis-months avoided at either end differ from the central run only by
//! that parameter's effect (the same residents meet the same luck), not by
//! noise.
//!
//! Contract: a parameter several scenarios share is moved in all of them at
//! once; a scenario without it runs as it is. Results are means across
//! replicates, in the order of the parameters' first appearance (the
//! baseline's first); [`OneWay::ranked`] orders them by swing.

use crate::Error;
use crate::app::Plan;
use crate::economics::Economics;
use crate::experiment::RunSettings;
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
pub struct Effect {
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
    pub effects: Vec<Vec<Effect>>,
    /// Comparisons run (twice the parameters, and the central one).
    pub comparisons: usize,
    /// Resident-months simulated in all, burn-in included.
    pub resident_months: u64,
}

impl OneWay {
    /// Scenario `s`'s effects (`s` ≥ 1), the largest swing in net present
    /// value first (ties by name).
    pub fn ranked(&self, s: usize) -> Vec<&Effect> {
        let mut v: Vec<&Effect> = self.effects[s - 1].iter().collect();
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

/// Runs the one-way sensitivity of `scenarios` (the baseline first): the
/// central comparison, then each parameter at each end. `on_done` is called
/// once per finished replicate.
pub fn one_way(
    scenarios: Vec<Loaded>,
    settings: &RunSettings,
    on_done: &(dyn Fn() + Sync),
) -> Result<OneWay, Error> {
    // The baseline's default widths are the comparison's.
    let widths = scenarios[0].uncertainty.default_width;
    let scenarios = scenarios
        .into_iter()
        .map(|l| l.with_default_width(widths))
        .collect::<Result<Vec<_>, _>>()?;
    let scenarios = scenarios.as_slice();
    let names = parameters(scenarios);
    if names.is_empty() {
        return Err(crate::app::PlanError::NothingUncertain.into());
    }
    let run = |set: Vec<Loaded>| -> Result<(Economics, u64), Error> {
        let outcome = Plan::of(set, settings.clone())?.run(on_done)?;
        Ok((outcome.economics, outcome.experiment.resident_months))
    };
    let (central, mut resident_months) = run(scenarios.to_vec())?;
    let mut effects = vec![Vec::with_capacity(names.len()); scenarios.len() - 1];
    for name in &names {
        let mut ends = Vec::with_capacity(2);
        for high in [false, true] {
            let set = scenarios
                .iter()
                .map(|l| Ok(l.at_end(name, high)?.unwrap_or_else(|| l.clone())))
                .collect::<Result<Vec<_>, Error>>()?;
            let (economics, months) = run(set)?;
            resident_months += months;
            ends.push(economics);
        }
        let range = range_text(scenarios, name);
        for (s, by) in effects.iter_mut().enumerate() {
            let figure = |e: &Economics, f: fn(&crate::economics::appraisal::Appraisal) -> f64| {
                f(&e.appraisals[s])
            };
            let npv = |a: &crate::economics::appraisal::Appraisal| a.npv.mean;
            let crisis = |a: &crate::economics::appraisal::Appraisal| a.crisis_months_avoided.mean;
            by.push(Effect {
                parameter: name.clone(),
                range: range.clone(),
                npv: Ends {
                    low: figure(&ends[0], npv),
                    central: figure(&central, npv),
                    high: figure(&ends[1], npv),
                },
                crisis_months_avoided: Ends {
                    low: figure(&ends[0], crisis),
                    central: figure(&central, crisis),
                    high: figure(&ends[1], crisis),
                },
            });
        }
    }
    Ok(OneWay {
        scenarios: scenarios.iter().map(|l| l.config.name.clone()).collect(),
        effects,
        comparisons: 1 + 2 * names.len(),
        resident_months,
    })
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
