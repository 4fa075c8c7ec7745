//! Splitting a prevention budget: every split of a scenario's `[optimise]`
//! budget across its levers (the interventions it may go to, and the
//! neighbourhoods each may reach), on a lattice of the table's step, within
//! the payers' limits and the minimum per neighbourhood, run against the
//! baseline with common random numbers; the best by expected net present
//! value or by crisis-months avoided, at each of the frontier's shares of
//! the budget; and how often the best stays best replicate by replicate.
//!
//! The search is exhaustive over the lattice, not a local optimiser: the
//! model's outcome is a step function of a budget (a budget buys whole
//! places), on which a gradient or simplex method stalls, and a lattice of
//! a few hundred splits runs in minutes with every point paired.

#[cfg(feature = "report")]
mod command;
#[cfg(feature = "report")]
mod page;
pub mod publish;

#[cfg(feature = "report")]
pub use command::{Optimise, Settings};

use serde::{Deserialize, Serialize};

use crate::app::Plan;
use crate::experiments::Error;
use crate::metrics::Band;
use crate::model::Payer;
use crate::replicates::{RunSettings, Runs};
use crate::scenario::{Budget, Funding, Loaded};

/// The most splits one optimisation runs, over every share of the
/// frontier: above it, a coarser step or fewer reach options is asked for.
pub const MAX_SPLITS: usize = 2_000;

/// The most ways of giving steps to levers and reach options (before the
/// limits) the lattice is walked for: past it, too many splits is said
/// without walking.
const MAX_LATTICE: u64 = 2_000_000;

/// `n` choose `k`, saturating.
fn binomial(n: u64, k: u64) -> u64 {
    let k = k.min(n - k.min(n));
    (0..k).fold(1u64, |acc, i| acc.saturating_mul(n - i) / (i + 1))
}

/// Splits run together against one run of the baseline.
pub const BATCH: usize = 16;

/// What the best split maximises.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Objective {
    /// Expected net present value against the baseline.
    Npv,
    /// Expected resident-months in crisis avoided against the baseline.
    CrisisMonths,
}

impl Objective {
    /// Its name in the outputs.
    pub fn name(self) -> &'static str {
        match self {
            Objective::Npv => "net present value",
            Objective::CrisisMonths => "crisis-months avoided",
        }
    }

    fn of(self, f: &Figures) -> &Band {
        match self {
            Objective::Npv => &f.npv,
            Objective::CrisisMonths => &f.crisis_months_avoided,
        }
    }
}

/// Why an optimisation cannot be run as asked.
#[derive(Debug, thiserror::Error, PartialEq)]
#[non_exhaustive]
pub enum OptimiseError {
    /// The scenario has no `[optimise]` table.
    #[error(
        "{scenario} has no [optimise] table: add one naming the budget to split and its levers (see scenarios/prevention_portfolio.toml)"
    )]
    NoBudget {
        /// The scenario's file.
        scenario: String,
    },
    /// Other than a baseline and one scenario.
    #[error(
        "upstream optimise compares a baseline with one scenario whose [optimise] table states the budget to split; {scenarios} scenarios were given"
    )]
    NotTwo {
        /// How many were given.
        scenarios: usize,
    },
    /// A lever the baseline funds already.
    #[error(
        "lever `{lever}` is in the baseline too; the optimiser splits new money across interventions the baseline does not fund"
    )]
    InBaseline {
        /// The lever's key.
        lever: String,
    },
    /// Too many splits.
    #[error(
        "{splits} splits to run (more than {MAX_SPLITS}); a coarser `step`, fewer reach options or fewer frontier shares in [optimise] make fewer"
    )]
    TooMany {
        /// How many, in words.
        splits: String,
    },
    /// No split at some share meets the limits.
    #[error(
        "no split of {amount} a year meets the payers' limits and the minimum per neighbourhood; loosen them, or leave this share out of `frontier`"
    )]
    NoSplit {
        /// The amount, in words.
        amount: String,
    },
}

/// One split's figures against the baseline: means and 5th–95th
/// percentile bands across replicates.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Figures {
    /// Net present value, £.
    pub npv: Band,
    /// Crisis-months avoided.
    pub crisis_months_avoided: Band,
    /// Present value of the extra intervention spend, £.
    pub pv_investment: Band,
    /// Share of replicates with net present value above zero.
    pub probability_npv_positive: f64,
    /// The objective replicate by replicate.
    #[serde(skip)]
    pub by_replicate: Vec<f64>,
}

/// One split of one share of the budget.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Split {
    /// The share of the budget split, 0 to 1.
    pub share: f64,
    /// £ a year, and reach, for each lever, in the table's order.
    #[serde(skip)]
    pub funding: Vec<Funding>,
    /// Its figures.
    pub figures: Figures,
    /// Replicates in which it is the best of its share's splits.
    pub wins: u32,
}

/// An optimisation's results.
#[derive(Clone, Debug)]
pub struct Optimised {
    /// What was maximised.
    pub objective: Objective,
    /// The budget, levers and limits.
    pub budget: Budget,
    /// The scenario as it states its own split.
    pub stated: Figures,
    /// The scenario's name.
    pub stated_name: String,
    /// £ a year the scenario gives the levers (in its first year).
    pub stated_amount: f64,
    /// Where the split as written stands: the index of the same split
    /// among `splits`, or why the optimiser could not choose it.
    pub stated_is: Result<usize, String>,
    /// Every split run, share by share.
    pub splits: Vec<Split>,
    /// For each share of the frontier, the index of its best split.
    pub best: Vec<usize>,
    /// Replicates behind each split.
    pub replicates: u32,
    /// The master seed.
    pub seed: u64,
    /// Residents in the place.
    pub residents: u32,
    /// Months of the horizon.
    pub months: u32,
    /// The baseline's name.
    pub baseline: String,
    /// Whether each replicate drew its own parameters.
    pub parameters_drawn: bool,
    /// How many uncertain parameters the baseline and the scenario draw
    /// (0 when none are drawn).
    pub parameters: usize,
    /// Resident-months simulated, burn-in included.
    pub resident_months: u64,
}

impl Optimised {
    /// The best split at the whole budget.
    pub fn best_overall(&self) -> &Split {
        &self.splits[*self.best.last().expect("the frontier ends at 1")]
    }

    /// The split's funding in words: each funded lever, its amount and
    /// reach, such as "Neighbourhood hub £600k (most_deprived:2)".
    pub fn describe(&self, split: &Split) -> String {
        let parts: Vec<String> = self
            .budget
            .levers
            .iter()
            .zip(&split.funding)
            .filter(|(_, f)| f.amount > 0.0)
            .map(|(l, f)| {
                format!(
                    "{} {} ({})",
                    l.name,
                    crate::format::money(f.amount),
                    l.reach[f.reach].label
                )
            })
            .collect();
        if parts.is_empty() {
            "nothing".into()
        } else {
            parts.join("; ")
        }
    }

    /// Where the split as written stands, in one sentence.
    pub fn stated_sentence(&self) -> String {
        match &self.stated_is {
            Ok(i) => format!(
                "As the scenario states it ({}), the split is split {}.",
                self.stated_name,
                i + 1
            ),
            Err(why) => format!(
                "As the scenario states it ({}), the split is not one the optimiser could choose: {why}.",
                self.stated_name
            ),
        }
    }

    /// How often the best split at the whole budget is the best of its
    /// share's splits replicate by replicate, in one sentence.
    pub fn stability(&self) -> String {
        let best = self.best_overall();
        let draws = if self.parameters_drawn {
            ", each replicate with its own draw of the uncertain parameters"
        } else {
            ""
        };
        format!(
            "The best split is also the best in {} of {} replicates{draws}.",
            best.wins, self.replicates
        )
    }
}

/// Every split of `share` of the budget on the lattice that meets the
/// payers' limits and the minimum per neighbourhood: each lever's amount
/// a whole number of steps, every reach option a funded lever can afford.
pub fn splits(budget: &Budget, share: f64) -> Vec<Vec<Funding>> {
    let total = share * budget.budget;
    let units = budget.units as usize;
    let step = total / units as f64;
    let n = budget.levers.len();
    let mut out = Vec::new();
    let mut counts = vec![0usize; n];
    compositions(units, 0, &mut counts, &mut |counts| {
        // Whole pounds, as a scenario holds a budget, rounded along the
        // running total so they add up to the amount split.
        let mut before = 0usize;
        let amounts: Vec<f64> = counts
            .iter()
            .map(|&c| {
                let from = (before as f64 * step).round();
                before += c;
                (before as f64 * step).round() - from
            })
            .collect();
        // Payers' limits, with a penny's slack for rounding.
        for p in Payer::ALL {
            if let Some(limit) = budget.payer_limit(p) {
                let spent: f64 = budget
                    .levers
                    .iter()
                    .zip(&amounts)
                    .filter(|(l, _)| l.payer == p)
                    .map(|(_, a)| a)
                    .sum();
                if spent > limit + 0.01 {
                    return;
                }
            }
        }
        // Each funded lever's affordable reach options.
        let options: Vec<Vec<usize>> = budget
            .levers
            .iter()
            .zip(&amounts)
            .map(|(l, &a)| {
                if a <= 0.0 {
                    return vec![0];
                }
                (0..l.reach.len())
                    .filter(|&r| {
                        a + 0.01
                            >= budget.minimum_per_neighbourhood * l.reach[r].neighbourhoods as f64
                    })
                    .collect()
            })
            .collect();
        if options.iter().any(Vec::is_empty) {
            return;
        }
        let mut pick = vec![0usize; n];
        loop {
            out.push(
                (0..n)
                    .map(|i| Funding {
                        amount: amounts[i],
                        reach: options[i][pick[i]],
                    })
                    .collect(),
            );
            // The next combination of reach options, the last lever fastest.
            let mut i = n;
            loop {
                if i == 0 {
                    return;
                }
                i -= 1;
                pick[i] += 1;
                if pick[i] < options[i].len() {
                    break;
                }
                pick[i] = 0;
            }
        }
    });
    out
}

/// The uncertain parameters the baseline and the scenario draw under the
/// baseline's widths, counted once by name.
fn drawn_parameters(baseline: &Loaded, scenario: &Loaded) -> Result<usize, Error> {
    let widths = baseline.uncertainty.default_width;
    let scenario = scenario.clone().with_default_width(widths)?;
    let mut names: Vec<&str> = baseline
        .uncertainty
        .parameters
        .iter()
        .chain(&scenario.uncertainty.parameters)
        .map(|u| u.parameter.as_str())
        .collect();
    names.sort_unstable();
    names.dedup();
    Ok(names.len())
}

/// The split the scenario writes, with each lever at its own targeting, or
/// why it is not one the limits allow.
fn stated_split(budget: &Budget, scenario: &Loaded) -> Result<Vec<Funding>, String> {
    use crate::format::money;
    let mut out = Vec::new();
    for l in &budget.levers {
        let by_year = scenario
            .number(&format!("interventions.{}.annual_budget", l.intervention))
            .unwrap_or_default();
        let Some(&amount) = by_year.first() else {
            return Err(format!("{} has no annual budget", l.name));
        };
        if by_year.iter().any(|&a| a != amount) {
            return Err(format!("{}'s budget changes from year to year", l.name));
        }
        if amount > 0.0
            && amount + 0.01 < budget.minimum_per_neighbourhood * l.reach[0].neighbourhoods as f64
        {
            return Err(format!(
                "{} spends {} a year over {} neighbourhoods, under the minimum of {} in each",
                l.name,
                money(amount),
                l.reach[0].neighbourhoods,
                money(budget.minimum_per_neighbourhood)
            ));
        }
        out.push(Funding { amount, reach: 0 });
    }
    let total: f64 = out.iter().map(|f| f.amount).sum();
    if (total - budget.budget).abs() > 0.01 {
        return Err(format!(
            "it spends {} a year, not the budget of {}",
            money(total),
            money(budget.budget)
        ));
    }
    for p in Payer::ALL {
        if let Some(limit) = budget.payer_limit(p) {
            let spent: f64 = budget
                .levers
                .iter()
                .zip(&out)
                .filter(|(l, _)| l.payer == p)
                .map(|(_, f)| f.amount)
                .sum();
            if spent > limit + 0.01 {
                return Err(format!(
                    "{} puts in {} a year, above its limit of {}",
                    p.name(),
                    money(spent),
                    money(limit)
                ));
            }
        }
    }
    Ok(out)
}

/// Calls `each` with every way of giving `left` units to levers `i..`, the
/// first lever's count falling slowest.
fn compositions(left: usize, i: usize, counts: &mut Vec<usize>, each: &mut dyn FnMut(&[usize])) {
    if i + 1 == counts.len() {
        counts[i] = left;
        each(counts);
        return;
    }
    for c in (0..=left).rev() {
        counts[i] = c;
        compositions(left - c, i + 1, counts, each);
    }
}

/// A share of the budget and every split of it to run.
pub type Share = (f64, Vec<Vec<Funding>>);

/// Checks the comparison can be optimised: a baseline and one scenario
/// with an `[optimise]` table whose levers the baseline does not fund; and
/// returns every split to run, share by share.
pub fn plan(scenarios: &[Loaded]) -> Result<Vec<Share>, Error> {
    let [baseline, scenario] = scenarios else {
        return Err(OptimiseError::NotTwo {
            scenarios: scenarios.len(),
        }
        .into());
    };
    let budget = scenario
        .optimise
        .as_ref()
        .ok_or_else(|| OptimiseError::NoBudget {
            scenario: scenario.files[0].path.display().to_string(),
        })?;
    for l in &budget.levers {
        if baseline
            .config
            .interventions
            .iter()
            .any(|iv| iv.id == l.intervention)
        {
            return Err(OptimiseError::InBaseline {
                lever: l.intervention.clone(),
            }
            .into());
        }
    }
    // Ways to give the steps to the levers, times every reach option: more
    // than the splits that meet the limits, and cheap to count.
    let most = binomial(
        budget.units as u64 + budget.levers.len() as u64 - 1,
        budget.levers.len() as u64 - 1,
    )
    .saturating_mul(budget.levers.iter().map(|l| l.reach.len() as u64).product())
    .saturating_mul(budget.frontier.len() as u64);
    if most > MAX_LATTICE {
        return Err(OptimiseError::TooMany {
            splits: format!("up to {}", crate::format::thousands(most as f64)),
        }
        .into());
    }
    let mut all = Vec::new();
    for &share in &budget.frontier {
        let s = splits(budget, share);
        if s.is_empty() {
            return Err(OptimiseError::NoSplit {
                amount: crate::format::money(share * budget.budget),
            }
            .into());
        }
        all.push((share, s));
    }
    let total: usize = all.iter().map(|(_, s)| s.len()).sum();
    if total > MAX_SPLITS {
        return Err(OptimiseError::TooMany {
            splits: total.to_string(),
        }
        .into());
    }
    Ok(all)
}

/// Runs every split of the scenario's budget (the comparison's second
/// scenario) against the baseline (its first), `BATCH` at a time, each
/// batch with the baseline again under the same seed, so every split is
/// paired with the same baseline replicates; with `uncertainty`, each
/// replicate draws one set of parameters shared by every split. A batch
/// that would not fit in `memory_limit` (or the memory available) is
/// refused before it runs: the first is the largest. `on_done` is called
/// once per finished replicate.
pub fn optimise(
    scenarios: &[Loaded],
    settings: &RunSettings,
    objective: Objective,
    uncertainty: bool,
    memory_limit: Option<u64>,
    runs: &mut Runs,
    on_done: &(dyn Fn() + Sync),
) -> Result<Option<Optimised>, Error> {
    let shares = plan(scenarios)?;
    let (baseline, scenario) = (&scenarios[0], &scenarios[1]);
    let budget = scenario.optimise.clone().expect("checked by plan");
    let which: Vec<(f64, Vec<Funding>)> = shares
        .into_iter()
        .flat_map(|(share, each)| each.into_iter().map(move |f| (share, f)))
        .collect();
    // The stated scenario runs first; each batch's splits are built as it
    // starts, so no more scenarios are held than a batch.
    let order: Vec<Option<usize>> = std::iter::once(None)
        .chain((0..which.len()).map(Some))
        .collect();
    let mut figures: Vec<Figures> = Vec::with_capacity(order.len());
    let mut resident_months = 0;
    for batch in order.chunks(BATCH) {
        let mut set = vec![baseline.clone()];
        for at in batch {
            set.push(match at {
                None => scenario.clone(),
                Some(i) => scenario.with_funding(&format!("Split {}", i + 1), &which[*i].1)?,
            });
        }
        let mut plan = Plan::of(set, settings.clone())?;
        if uncertainty {
            plan = plan.with_uncertainty()?;
        }
        plan.check_memory(memory_limit)?;
        let Some(outcome) = plan.run_in(runs, on_done)? else {
            continue;
        };
        resident_months += outcome.experiment.resident_months;
        for a in &outcome.economics.appraisals {
            figures.push(Figures {
                npv: a.npv,
                crisis_months_avoided: a.crisis_months_avoided,
                pv_investment: a.pv_investment,
                probability_npv_positive: a.probability_npv_positive,
                by_replicate: match objective {
                    Objective::Npv => a.npv_by_replicate.clone(),
                    Objective::CrisisMonths => a.crisis_months_avoided_by_replicate.clone(),
                },
            });
        }
    }
    if runs.only().is_some() {
        return Ok(None);
    }
    let stated = figures.remove(0);
    let stated_amount = budget
        .levers
        .iter()
        .filter_map(|l| {
            scenario
                .number(&format!("interventions.{}.annual_budget", l.intervention))
                .and_then(|v| v.first().copied())
        })
        .sum();
    let stated_is = stated_split(&budget, scenario).and_then(|f| {
        which
            .iter()
            // Whole pounds, against a figure the scenario writes.
            .position(|(share, g)| {
                *share == 1.0
                    && g.iter()
                        .zip(&f)
                        .all(|(a, b)| a.reach == b.reach && (a.amount - b.amount).abs() < 0.5)
            })
            .ok_or_else(|| "it is not a whole number of the table's steps".to_string())
    });
    let mut splits: Vec<Split> = which
        .into_iter()
        .zip(figures)
        .map(|((share, funding), figures)| Split {
            share,
            funding,
            figures,
            wins: 0,
        })
        .collect();
    let mut best = Vec::new();
    for &share in &budget.frontier {
        let at: Vec<usize> = (0..splits.len())
            .filter(|&i| splits[i].share == share)
            .collect();
        // The first of equals: the order is the lattice's, so the result
        // does not depend on the run.
        let top = |value: &dyn Fn(usize) -> f64| -> usize {
            let mut b = at[0];
            for &i in &at[1..] {
                if value(i) > value(b) {
                    b = i;
                }
            }
            b
        };
        best.push(top(&|i| objective.of(&splits[i].figures).mean));
        for r in 0..settings.replicates as usize {
            let w = top(&|i| splits[i].figures.by_replicate[r]);
            splits[w].wins += 1;
        }
    }
    Ok(Some(Optimised {
        objective,
        budget,
        stated,
        stated_name: scenario.config.name.clone(),
        stated_amount,
        stated_is,
        splits,
        best,
        replicates: settings.replicates,
        seed: settings.seed,
        residents: baseline.config.population.residents,
        months: baseline.config.months,
        baseline: baseline.config.name.clone(),
        parameters_drawn: uncertainty,
        parameters: if uncertainty {
            drawn_parameters(baseline, scenario)?
        } else {
            0
        },
        resident_months,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{Lever, Reach};

    fn budget(levers: &[(Payer, &[usize])], units: u32) -> Budget {
        Budget {
            budget: 1_000_000.0,
            levers: levers
                .iter()
                .enumerate()
                .map(|(i, (payer, reach))| Lever {
                    intervention: format!("lever_{i}"),
                    name: format!("Lever {i}"),
                    payer: *payer,
                    reach: reach
                        .iter()
                        .map(|&n| Reach::new(format!("most_deprived:{n}"), n))
                        .collect(),
                })
                .collect(),
            units,
            frontier: vec![1.0],
            payer_limits: Vec::new(),
            minimum_per_neighbourhood: 0.0,
        }
    }

    /// The best of `splits` by a separable objective.
    fn argmax(splits: &[Vec<Funding>], value: impl Fn(&[Funding]) -> f64) -> Vec<f64> {
        let b = splits
            .iter()
            .max_by(|a, b| value(a).partial_cmp(&value(b)).unwrap())
            .unwrap();
        b.iter().map(|f| f.amount).collect()
    }

    #[test]
    fn the_lattice_holds_every_split_once_and_spends_the_whole_amount() {
        let b = budget(
            &[
                (Payer::Housing, &[2]),
                (Payer::Nhs, &[2]),
                (Payer::Police, &[2]),
            ],
            10,
        );
        let s = splits(&b, 1.0);
        // Ways to put 10 steps in 3 levers: C(12, 2).
        assert_eq!(s.len(), 66);
        for f in &s {
            let total: f64 = f.iter().map(|x| x.amount).sum();
            assert!((total - 1e6).abs() < 1e-6, "{f:?}");
        }
        let mut seen: Vec<Vec<i64>> = s
            .iter()
            .map(|f| f.iter().map(|x| x.amount as i64).collect())
            .collect();
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), 66);
        // Half the budget in steps of a tenth of that half.
        assert!(
            splits(&b, 0.5)
                .iter()
                .all(|f| { (f.iter().map(|x| x.amount).sum::<f64>() - 5e5).abs() < 1e-6 })
        );
    }

    /// Maximising Σ wᵢ√xᵢ with Σ xᵢ = B gives xᵢ = B wᵢ² / Σ w²: with
    /// w = (1, √2, √7), a tenth, a fifth and seven tenths, all on the
    /// lattice. Capping the third lever's payer at 0.4 B leaves 0.6 B to
    /// split by the same rule over the first two: 0.2 B and 0.4 B.
    #[test]
    fn on_a_separable_concave_objective_the_lattice_finds_the_closed_form_optimum() {
        let w = [1.0, 2f64.sqrt(), 7f64.sqrt()];
        let value = |f: &[Funding]| -> f64 {
            f.iter()
                .zip(&w)
                .map(|(x, w)| w * (x.amount / 1e6).sqrt())
                .sum()
        };
        let mut b = budget(
            &[
                (Payer::Housing, &[2]),
                (Payer::Nhs, &[2]),
                (Payer::Police, &[2]),
            ],
            10,
        );
        let found = argmax(&splits(&b, 1.0), value);
        assert_eq!(found, [1e5, 2e5, 7e5]);
        b.payer_limits = vec![(Payer::Police, 4e5)];
        let capped = splits(&b, 1.0);
        assert!(
            capped.iter().all(|f| f[2].amount <= 4e5 + 0.01),
            "the limit holds in every split"
        );
        assert_eq!(argmax(&capped, value), [2e5, 4e5, 4e5]);
    }

    #[test]
    fn a_funded_lever_reaches_only_as_many_neighbourhoods_as_its_minimum_allows() {
        let mut b = budget(&[(Payer::Housing, &[2, 5]), (Payer::Nhs, &[4])], 4);
        b.minimum_per_neighbourhood = 100_000.0;
        let s = splits(&b, 1.0);
        for f in &s {
            for (l, x) in b.levers.iter().zip(f) {
                if x.amount > 0.0 {
                    assert!(x.amount + 0.01 >= 1e5 * l.reach[x.reach].neighbourhoods as f64);
                }
            }
        }
        // £250k reaches 2 neighbourhoods, not 5; £500k and more reach
        // either. Lever 1 needs £400k for its 4.
        let amounts: Vec<(i64, usize, i64)> = s
            .iter()
            .map(|f| (f[0].amount as i64, f[0].reach, f[1].amount as i64))
            .collect();
        assert_eq!(
            amounts,
            [
                (1_000_000, 0, 0),
                (1_000_000, 1, 0),
                (500_000, 0, 500_000),
                (500_000, 1, 500_000),
                (250_000, 0, 750_000),
                (0, 0, 1_000_000),
            ]
        );
    }
}
