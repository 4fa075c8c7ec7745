//! A plan: scenarios checked to run together, their draws, memory and
//! runs.

use std::path::Path;
use std::time::Instant;

use super::{
    Error, MAX_STANDS_FOR, Outcome, PlanError, Request, bundled, check_settings, in_range,
    load_through, strict,
};
use crate::aggregate;
use crate::economics::{self, Economics, InterventionMoney};
use crate::format::count;
use crate::model::Config;
use crate::present::{FirstYear, Held, Present};
use crate::replicates::{self, Experiment, MemoryEstimate, RunSettings, Runs, Shard};
use crate::scenario::{self, Loaded, Overrides};

/// Scenarios checked to run together, and how to run them.
#[derive(Debug)]
pub struct Plan {
    pub(super) scenarios: Vec<Loaded>,
    pub(super) settings: RunSettings,
    pub(super) draws: Option<Draws>,
    /// The place simulated at a fraction of its size, if it is.
    pub(super) scaled: Option<Scaling>,
}

/// A run whose simulated residents each stand for several of the place's
/// ([`Config::standing_for`]).
#[derive(Debug)]
pub(super) struct Scaling {
    /// Residents each simulated resident stands for.
    pub stands_for: u32,
    /// Each scenario as simulated, in the plan's order.
    configs: Vec<Config>,
    /// The largest share by which an amount rounded to whole places moved.
    pub rounded_share: f64,
}

/// A probabilistic run's parameters: each scenario's simulation at each
/// replicate's draw.
#[derive(Debug)]
pub struct Draws {
    /// `configs[s][r]`: scenario `s` at replicate `r`'s draw.
    pub(super) configs: Vec<Vec<Config>>,
    /// `values[s][r][p]`: scenario `s`'s uncertain parameter `p` (in its
    /// [`scenario::Uncertainty::parameters`] order) in replicate `r`,
    /// element by element.
    pub values: Vec<Vec<Vec<Vec<f64>>>>,
    /// `held[r]`: the factors that scaled replicate `r`'s draw to the
    /// stated baseline's present, shared by every scenario.
    pub held: Vec<Held>,
    /// The stated baseline's first year, which every draw is held at.
    pub stated: FirstYear,
}

impl Plan {
    /// Checks the request's settings, loads its scenarios (the bundled
    /// default comparison if it names none) and checks them together.
    pub fn new(request: &Request) -> Result<Plan, Error> {
        Plan::new_through(request, &crate::input::read)
    }

    /// As [`Plan::new`], reading each scenario's files through `read` (a
    /// shard keeps their text; a merge reads them from its parts).
    pub fn new_through(
        request: &Request,
        read: &dyn Fn(&Path) -> std::io::Result<String>,
    ) -> Result<Plan, Error> {
        let settings = RunSettings {
            replicates: request.replicates,
            seed: request.seed,
            threads: request.threads,
        };
        // Before anything is read.
        check_settings(&settings)?;
        if let Some(y) = request.years {
            in_range("--years", y as u64, 1, scenario::MAX_YEARS as u64)?;
        }
        let paths = if request.scenarios.is_empty() {
            bundled()
        } else {
            request.scenarios.clone()
        };
        let overrides = Overrides {
            horizon_years: request.years,
        };
        let scenarios = paths
            .iter()
            .map(|p| load_through(p, &overrides, read))
            .collect::<Result<Vec<_>, _>>()?;
        if request.strict {
            strict(&scenarios)?;
        }
        let plan = Plan::of(scenarios, settings)?.standing_for(request.stands_for)?;
        if request.uncertainty {
            return plan.with_uncertainty();
        }
        Ok(plan)
    }

    /// The plan with each replicate's own draw of every uncertain
    /// parameter: a parameter several scenarios share draws the same value
    /// in the same replicate, so differences stay paired. The run then
    /// also runs each replicate with every parameter at its value, to tell
    /// the parameters' share of the net present value's variance from
    /// chance's.
    pub fn with_uncertainty(mut self) -> Result<Plan, Error> {
        use rayon::prelude::*;
        // The baseline's default widths are the comparison's.
        let widths = self.scenarios[0].uncertainty.default_width;
        // And its correlations: every scenario draws by the same rule.
        let correlated = self.scenarios[0].uncertainty.clone();
        self.scenarios = std::mem::take(&mut self.scenarios)
            .into_iter()
            .map(|l| {
                let mut l = l.with_default_width(widths)?;
                l.uncertainty =
                    std::mem::take(&mut l.uncertainty).with_correlations_of(&correlated);
                Ok::<_, scenario::ScenarioError>(l)
            })
            .collect::<Result<_, _>>()?;
        if self
            .scenarios
            .iter()
            .all(|l| l.uncertainty.parameters.is_empty())
        {
            return Err(PlanError::NothingUncertain.into());
        }
        let (seed, replicates) = (self.settings.seed, self.settings.replicates);
        let drawn = self
            .scenarios
            .iter()
            .map(|l| {
                (0..replicates)
                    .into_par_iter()
                    .map(|r| l.drawn(crate::rng::Crn::new(seed, r)))
                    .collect::<Result<Vec<_>, _>>()
            })
            .collect::<Result<Vec<_>, _>>()?;
        let (mut configs, values): (Vec<Vec<Config>>, _) = drawn
            .into_iter()
            .map(|each| each.into_iter().unzip())
            .unzip();
        if let Some(k) = self.scaled.as_ref().map(|s| s.stands_for) {
            for c in configs.iter_mut().flatten() {
                // The stated place scaled, so a draw can be scaled too.
                *c = c.standing_for(k).map_err(PlanError::Scale)?.config;
            }
        }
        // The present held: each replicate's baseline draw is scaled to the
        // stated baseline's activity at the start, and every scenario of the
        // replicate takes the same factors, so differences stay paired.
        let threads = self.settings.threads;
        let present = Present::of(self.configs()[0], replicates, seed, threads)?;
        let held = present.hold(&mut configs[0], seed, threads)?;
        for scenario in &mut configs[1..] {
            for (c, h) in scenario.iter_mut().zip(&held) {
                h.apply(c);
            }
        }
        self.draws = Some(Draws {
            configs,
            values,
            held,
            stated: present.first_year,
        });
        Ok(self)
    }

    /// Scenario `s`'s parameters in replicate `r`: its draw when `drawn`
    /// and the plan draws parameters, else its stated values.
    pub fn config_at(&self, s: usize, r: u32, drawn: bool) -> &Config {
        match (&self.draws, drawn) {
            (Some(d), true) => &d.configs[s][r as usize],
            _ => self.configs()[s],
        }
    }

    /// Each replicate's parameter draws, if the run draws them.
    pub fn draws(&self) -> Option<&Draws> {
        self.draws.as_ref()
    }

    /// Replicates to run in all, for a progress bar: scenarios ×
    /// replicates, twice over when parameters are drawn.
    pub fn jobs(&self) -> u64 {
        let once = self.scenarios.len() as u64 * self.settings.replicates as u64;
        if self.draws.is_some() { 2 * once } else { once }
    }

    /// Checks scenarios loaded elsewhere (the baseline first) to run
    /// together, with settings in bounds: each has its own name, and each
    /// can be paired with the baseline resident by resident.
    pub fn of(scenarios: Vec<Loaded>, settings: RunSettings) -> Result<Plan, PlanError> {
        check_settings(&settings)?;
        if scenarios.is_empty() {
            return Err(PlanError::NoScenarios);
        }
        for (i, l) in scenarios.iter().enumerate() {
            if let Some(first) = scenarios[..i]
                .iter()
                .find(|o| o.config.name == l.config.name)
            {
                return Err(PlanError::SameName {
                    first: first.files[0].path.clone(),
                    second: l.files[0].path.clone(),
                    name: l.config.name.clone(),
                });
            }
        }
        let base = &scenarios[0];
        for l in &scenarios[1..] {
            if let Some((what, fix)) = unpaired(base, l) {
                return Err(PlanError::Unpaired {
                    scenario: l.config.name.clone(),
                    baseline: base.config.name.clone(),
                    what,
                    fix,
                });
            }
        }
        Ok(Plan {
            scenarios,
            settings,
            draws: None,
            scaled: None,
        })
    }

    /// The plan with each simulated resident standing for `k` of the
    /// place's (1: the place itself), before any parameters are drawn.
    pub fn standing_for(mut self, k: u32) -> Result<Plan, PlanError> {
        in_range("--scale", k as u64, 1, MAX_STANDS_FOR as u64)?;
        // Draws are scaled as they are drawn, from this scale.
        assert!(self.draws.is_none(), "a plan is scaled before it draws");
        if k == 1 {
            self.scaled = None;
            return Ok(self);
        }
        let mut rounded_share = 0.0f64;
        let mut configs = Vec::with_capacity(self.scenarios.len());
        for l in &self.scenarios {
            let s = l.config.standing_for(k).map_err(PlanError::Scale)?;
            rounded_share = rounded_share.max(s.rounded_share);
            configs.push(s.config);
        }
        self.scaled = Some(Scaling {
            stands_for: k,
            configs,
            rounded_share,
        });
        Ok(self)
    }

    /// How the place is scaled, if it is, as the outputs record it.
    pub fn scaled_run(&self) -> Option<crate::published::ScaledRun> {
        self.scaled.as_ref().map(|s| crate::published::ScaledRun {
            stands_for: s.stands_for,
            rounded_share: s.rounded_share,
        })
    }

    /// The scenarios, the baseline first.
    pub fn scenarios(&self) -> &[Loaded] {
        &self.scenarios
    }

    /// Replicates, seed and threads, as checked.
    pub fn settings(&self) -> &RunSettings {
        &self.settings
    }

    /// The worker threads the run will use.
    pub fn threads(&self) -> usize {
        self.settings
            .threads
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
    }

    /// Each scenario as simulated: the place itself, or scaled.
    fn configs(&self) -> Vec<&Config> {
        match &self.scaled {
            Some(s) => s.configs.iter().collect(),
            None => self.scenarios.iter().map(|l| &l.config).collect(),
        }
    }

    /// The memory the run will need at its peak.
    pub fn memory(&self) -> MemoryEstimate {
        let mut m =
            replicates::memory_estimate(&self.configs(), self.settings.replicates, self.threads());
        if self.draws.is_some() {
            // The re-run at every parameter's value is kept until both are
            // appraised.
            m.results = m.results.saturating_mul(2);
        }
        m
    }

    /// Refuses, before anything is simulated, a run whose workbook would not
    /// fit in a spreadsheet (Excel's 1,048,576 rows a sheet).
    pub fn check_workbook(&self) -> Result<(), PlanError> {
        const LIMIT: usize = 1_048_576;
        let base = &self.scenarios[0];
        let periods =
            crate::economics::ledger::periods(&base.conventions, base.config.months as usize).len();
        let (scenarios, replicates) = (self.scenarios.len(), self.settings.replicates as usize);
        let rows = crate::economics::ledger::sheet_rows(scenarios, replicates, periods);
        if rows <= LIMIT {
            return Ok(());
        }
        Err(PlanError::Workbook {
            rows,
            limit: LIMIT,
            scenarios,
            replicates,
            periods,
        })
    }

    /// Refuses, before anything is allocated, a run whose workbook would
    /// not fit in a spreadsheet ([`Plan::check_workbook`]), or that would
    /// not fit in `limit` bytes, or (with no limit) in the memory the
    /// machine has available now.
    pub fn check_memory(&self, limit: Option<u64>) -> Result<(), PlanError> {
        // The workbook's limit first: it is what to change when both bind.
        self.check_workbook()?;
        let (limit, limit_from) = match (limit, available_memory()) {
            (Some(l), _) => (l, "--memory-limit"),
            (None, Some(a)) => (a, "the memory this machine has available"),
            (None, None) => return Ok(()),
        };
        let need = self.memory();
        if need.total() <= limit {
            return Ok(());
        }
        Err(PlanError::Memory {
            need,
            limit,
            limit_from,
            residents: self
                .scenarios
                .iter()
                .map(|l| l.config.population.residents)
                .max()
                .unwrap_or(0),
            threads: self.threads(),
            runs: self.jobs(),
        })
    }

    /// Runs every scenario for every replicate and appraises each against
    /// the baseline. `on_done` is called once per finished replicate, from
    /// any thread.
    pub fn run(self, on_done: &(dyn Fn() + Sync)) -> Result<Outcome, Error> {
        let started = Instant::now();
        let part = self.run_shard(Shard::WHOLE, on_done)?;
        let seconds = started.elapsed().as_secs_f64();
        Ok(self
            .put_together(vec![part], seconds)
            .expect("one shard holds the whole run"))
    }

    /// One shard's share of the run ([`Shard`]): its replicates of every
    /// scenario, not yet appraised; [`Plan::put_together`] makes the
    /// outcome from every shard's.
    pub fn run_shard(
        &self,
        shard: Shard,
        on_done: &(dyn Fn() + Sync),
    ) -> Result<ShardResults, Error> {
        let configs = self.configs();
        let central = |s: usize, _| configs[s];
        let n = configs.len();
        Ok(match &self.draws {
            None => ShardResults {
                run: replicates::run_part(n, &central, &self.settings, shard, on_done)?,
                central: None,
            },
            Some(d) => {
                let drawn = |s: usize, r: u32| &d.configs[s][r as usize];
                ShardResults {
                    run: replicates::run_part(n, &drawn, &self.settings, shard, on_done)?,
                    central: Some(replicates::run_part(
                        n,
                        &central,
                        &self.settings,
                        shard,
                        on_done,
                    )?),
                }
            }
        })
    }

    /// The outcome from every shard's results (in any order), appraised
    /// against the baseline: the same, number for number, as
    /// [`Plan::run`]. `seconds` is the simulation's wall-clock time.
    pub fn put_together(
        self,
        shards: Vec<ShardResults>,
        seconds: f64,
    ) -> Result<Outcome, replicates::AssembleError> {
        let configs = self.configs();
        let n = configs.len();
        let central = |s: usize, _| configs[s];
        let (runs, centrals): (Vec<_>, Vec<_>) =
            shards.into_iter().map(|p| (p.run, p.central)).unzip();
        let (experiment, chance) = match &self.draws {
            None => (
                replicates::assemble(n, &central, &self.settings, runs)?,
                None,
            ),
            Some(d) => {
                let drawn = |s: usize, r: u32| &d.configs[s][r as usize];
                (
                    replicates::assemble(n, &drawn, &self.settings, runs)?,
                    Some(replicates::assemble(
                        n,
                        &central,
                        &self.settings,
                        centrals.into_iter().flatten().collect(),
                    )?),
                )
            }
        };
        drop(configs);
        Ok(self.appraise(experiment, chance, seconds))
    }

    /// As [`Plan::run`], as one of an experiment's runs ([`Runs`]): the
    /// outcome, unless `runs` does one shard's share.
    pub fn run_in(
        self,
        runs: &mut Runs,
        on_done: &(dyn Fn() + Sync),
    ) -> Result<Option<Outcome>, Error> {
        let started = Instant::now();
        let configs = self.configs();
        let n = configs.len();
        let central = |s: usize, _| configs[s];
        let (experiment, chance) = match &self.draws {
            None => (runs.run(n, &central, &self.settings, on_done)?, None),
            Some(d) => {
                let drawn = |s: usize, r: u32| &d.configs[s][r as usize];
                (
                    runs.run(n, &drawn, &self.settings, on_done)?,
                    runs.run(n, &central, &self.settings, on_done)?,
                )
            }
        };
        drop(configs);
        let seconds = started.elapsed().as_secs_f64();
        Ok(experiment.map(|e| self.appraise(e, chance, seconds)))
    }

    /// The outcome of the run's replicates (and, with drawn parameters,
    /// `chance`, the same replicates at every parameter's value),
    /// appraised against the baseline.
    fn appraise(
        mut self,
        experiment: Experiment,
        chance: Option<Experiment>,
        seconds: f64,
    ) -> Outcome {
        let configs = self.configs();
        let money: Vec<&[InterventionMoney]> = self
            .scenarios
            .iter()
            .map(|l| l.intervention_money.as_slice())
            .collect();
        let mut economics = economics::evaluate(
            &self.scenarios[0].conventions,
            &configs,
            &money,
            &experiment.scenarios,
        );
        let mut experiment = experiment;
        if let Some(chance) = chance {
            let central = economics::evaluate(
                &self.scenarios[0].conventions,
                &configs,
                &money,
                &chance.scenarios,
            );
            for (a, c) in economics.appraisals.iter_mut().zip(&central.appraisals) {
                a.npv_variance = Some(economics::appraisal::VarianceSplit::of(
                    &a.npv_by_replicate,
                    &c.npv_by_replicate,
                ));
            }
            economics.value_of_information = Some(self.value_of_information(&economics, &central));
            experiment.resident_months += chance.resident_months;
            experiment.burn_in_shared += chance.burn_in_shared;
        }
        drop(configs);
        let warned_before = self.scenarios.iter().map(|l| l.warnings.len()).collect();
        self.warn_from_results(&experiment, &economics);
        Outcome {
            plan: self,
            experiment,
            economics,
            seconds,
            warned_before,
        }
    }

    /// What knowing the uncertain parameters would be worth to choosing
    /// between the scenarios: from each replicate's net present value with
    /// the parameters drawn and (`central`) at their values, and each
    /// parameter's quantile in each replicate.
    fn value_of_information(
        &self,
        drawn: &Economics,
        central: &Economics,
    ) -> economics::information::ValueOfInformation {
        let names: Vec<&str> = self
            .scenarios
            .iter()
            .map(|l| l.config.name.as_str())
            .collect();
        let none: &[f64] = &[];
        let npv: Vec<&[f64]> = std::iter::once(none)
            .chain(
                drawn
                    .appraisals
                    .iter()
                    .map(|a| a.npv_by_replicate.as_slice()),
            )
            .collect();
        let chance: Vec<&[f64]> = std::iter::once(none)
            .chain(
                central
                    .appraisals
                    .iter()
                    .map(|a| a.npv_by_replicate.as_slice()),
            )
            .collect();
        let parameters = scenario::parameters_drawn(&self.scenarios);
        let (seed, reps) = (self.settings.seed, self.settings.replicates);
        let quantiles: Vec<(String, Vec<f64>)> = parameters
            .into_iter()
            .map(|p| {
                let copula = &self.scenarios[0].uncertainty.copula;
                let q = (0..reps)
                    .map(|r| copula.quantile(crate::rng::Crn::new(seed, r), p))
                    .collect();
                (p.to_string(), q)
            })
            .collect();
        economics::information::value_of_information(&names, &npv, &chance, &quantiles)
    }

    /// Guard rails only the results can judge, added to each scenario's
    /// warnings: a programme whose funded places stay empty, support that
    /// goes on after the money for it stops, and a baseline that starts
    /// far over a payer's envelope.
    fn warn_from_results(&mut self, experiment: &Experiment, economics: &Economics) {
        for (s, runs) in experiment.scenarios.iter().enumerate() {
            let draws = self.draws.as_ref();
            let central = &self.scenarios[s].config;
            let config_of = |r: usize| draws.map_or(central, |d: &Draws| &d.configs[s][r]);
            let found = aggregate::places_used(&config_of, runs);
            let l = &mut self.scenarios[s];
            for p in found {
                let at = format!("interventions.{}", p.id);
                if let Some((y, empty)) = p.first_year_unused() {
                    l.warn(
                        &at,
                        format!(
                            "leaves {:.0}% of its funded places empty in year {} (mean across \
                             replicates), over the {:.0}% a programme may: its budget is charged \
                             in full for places nobody uses; check its targeting, engagement, \
                             dropout and budget",
                            100.0 * empty,
                            y + 1,
                            100.0 * aggregate::UNUSED_PLACES
                        ),
                    );
                }
                if let Some((months, y)) = p.unfunded_support() {
                    l.warn(
                        &at,
                        format!(
                            "holds more cases than its money pays for: {} months of support \
                             (mean across replicates, most in year {}) go on after its places \
                             fall, with no spend for them, so its saving is overstated; keep \
                             its budget until those cases finish, or end their support with \
                             the money",
                            count(months),
                            y + 1
                        ),
                    );
                }
            }
        }
        let baseline = &self.scenarios[0].config.name;
        for (payer, fy, spend, envelope) in
            economics::budget::over_envelope_at_start(&economics.budget, baseline)
        {
            self.scenarios[0].warn(
                &format!("economics.budgets.{}.envelope", payer.name()),
                format!(
                    "the baseline spends £{} in {fy}, {:.0}% over this envelope of £{}, before \
                     any policy: an envelope taken from another place, even scaled per \
                     resident, is not this place's; set the place's own",
                    count(spend),
                    100.0 * (spend / envelope - 1.0),
                    count(envelope)
                ),
            );
        }
    }
}

/// One shard's replicates ([`Plan::run_shard`]).
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct ShardResults {
    /// The run's replicates: with drawn parameters, each at its draw.
    pub run: replicates::Partial,
    /// With drawn parameters, the same replicates with every parameter at
    /// its value; else none.
    pub central: Option<replicates::Partial>,
}

/// Why `l` cannot be paired with the baseline, and the fix, if it cannot.
/// Pairing by replicate compares the same residents month by month, so the
/// timeline, the population's slots and the money conventions must match.
fn unpaired(base: &Loaded, l: &Loaded) -> Option<(&'static str, &'static str)> {
    let (b, c) = (&base.config, &l.config);
    [
        (
            c.months != b.months,
            "horizon",
            "use --years to set it for all",
        ),
        (
            c.burn_in_months != b.burn_in_months,
            "burn_in_months",
            "remove it from the scenario",
        ),
        (
            c.warm_start != b.warm_start,
            "warm_start",
            "remove it from the scenario",
        ),
        (
            !c.population.same_households(&b.population),
            "population (residents, neighbourhoods or household make-up)",
            "remove those [population] fields from the scenario",
        ),
        (
            c.age_bands != b.age_bands,
            "population.age_band_cuts",
            "remove it from the scenario",
        ),
        (
            l.conventions != base.conventions,
            "money conventions ([economics] or start)",
            "set them in the baseline only",
        ),
    ]
    .into_iter()
    .find(|d| d.0)
    .map(|(_, what, fix)| (what, fix))
}

/// The memory the machine can give a new process now, from /proc/meminfo.
pub(crate) fn available_memory() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_workbook_too_large_for_a_spreadsheet_is_refused() {
        // Two scenarios over 100 years (100 periods): 5,242 replicates need
        // 1,048,401 rows, which fit; 5,243 need 1,048,601, which do not.
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
        let plan = |replicates: u32| {
            let load = |f: &str| {
                let mut l = crate::scenario::load(&dir.join(f)).unwrap();
                l.config.months = 1200;
                l
            };
            let settings = RunSettings {
                replicates,
                seed: 1,
                threads: Some(1),
            };
            Plan::of(vec![load("baseline.toml"), load("hubs.toml")], settings).unwrap()
        };
        assert!(plan(5242).check_workbook().is_ok());
        match plan(5243).check_workbook() {
            Err(PlanError::Workbook { rows, periods, .. }) => {
                assert_eq!((rows, periods), (1_048_601, 100));
            }
            other => panic!("not refused: {other:?}"),
        }
        // Refused before the memory is weighed, whatever the limit.
        assert!(matches!(
            plan(5243).check_memory(Some(u64::MAX)),
            Err(PlanError::Workbook { .. })
        ));
    }
}
