//! Calibration to a place's observed history, by approximate Bayesian
//! computation with rejection: candidates drawn from the uncertain
//! parameters' ranges (their priors) are each run for several replicates,
//! and the candidates whose mean simulated counts come closest to the
//! observed counts are kept as the posterior.
//!
//! With more than one generation it is sequential (ABC-PMC, population
//! Monte Carlo: Beaumont, Cornuet, Marin and Robert 2009): each later
//! generation's candidates are proposed around the last generation's kept
//! ones (one picked by its weight, each parameter's normal score moved by
//! a normal step of twice their weighted variance), the closest of the
//! generation are kept with importance weights (prior over proposal), and
//! the last generation's kept candidates, resampled by weight, are the
//! posterior. The same runs then go where the counts point, so more
//! parameters can be fitted for them. A generation is proposed from the
//! last one's results, so a sequential calibration runs whole, not in
//! shards; each of its candidates runs on a luck of its own
//! ([`SEQUENTIAL_BATCH`]).
//!
//! Contract: candidate `c`'s draw of a parameter is its distribution's
//! quantile at [`named_uniform`]`(Crn::new(seed, c), name, Calibration)`,
//! so the same seed gives the same candidates, and a parameter's draws do
//! not depend on which others are fitted. Each batch of [`BATCH`]
//! candidates runs on a luck of its own (its seed mixed from the master
//! seed and its first candidate), the same on any thread count: rejection
//! needs the candidates' counts to carry chance as the place's counts do.
//! With every candidate on one luck the posterior left chance out, and its
//! 90% intervals covered true police incident rates in 45 places of 100
//! (`tests/calibrate.rs`, simulation-based calibration). The distance is the root
//! mean square of each count's relative difference,
//! (simulated − observed) / max(observed, 1). Parameters not fitted stay at
//! their values.

#[cfg(feature = "report")]
mod command;
#[cfg(feature = "report")]
mod page;
pub mod publish;

#[cfg(feature = "report")]
pub use command::{Calibrate, Settings};

use crate::experiments::Error;
use crate::format::significant;
use crate::metrics::Band;
use crate::observed::Observed;
use crate::replicates::{RunSettings, Runs};
use crate::rng::{Crn, Purpose, named_uniform};
use crate::scenario::{Correlation, Loaded, Restated, Shape, Uncertain, correlations_hold};
use statrs::distribution::{Continuous, ContinuousCDF, Normal};

/// Candidates compiled and run at once, on one luck: enough to keep every
/// core busy, few enough that their results stay small and that the kept
/// candidates come from many lucks.
pub const BATCH: usize = 32;

/// A sequential calibration runs each candidate on a luck of its own: its
/// later generations keep candidates close to one another, and a batch
/// sharing one luck would leave chance out of what they keep (their 90%
/// intervals covered a noisy rate's truth in 68 places of 100 with
/// batches of 32).
pub const SEQUENTIAL_BATCH: usize = 1;

/// The fewest candidates a calibration keeps: fewer would make the
/// posterior's 5th and 95th percentiles a guess.
pub const MIN_ACCEPTED: u32 = 10;

/// The most candidates a calibration may draw.
pub const MAX_CANDIDATES: u32 = 100_000;

/// The most generations a sequential calibration may run.
pub const MAX_GENERATIONS: u32 = 20;

/// A fitted parameter is taken as informed by the counts when its kept
/// draws differ from its prior by more than chance at this level. With
/// rejection, an uninformed parameter's kept draws are a random subset of
/// its prior: their quantiles are uniform, which a Kolmogorov–Smirnov test
/// checks. The level is strict because many parameters are tested at once.
pub const INFORMED_P: f64 = 0.01;

/// Significant figures the calibrated scenario writes: more would claim a
/// precision a few hundred candidates do not have.
pub const WRITTEN_FIGURES: i32 = 4;

/// How a calibration runs.
#[derive(Clone, Debug, PartialEq)]
pub struct CalibrationSettings {
    /// Candidates drawn from the priors.
    pub candidates: u32,
    /// The closest candidates kept as the posterior.
    pub accept: u32,
    /// Prefixes of the uncertain parameters to fit; every one when empty.
    pub only: Vec<String>,
    /// Generations of candidates, each drawing `candidates`: 1 (or 0) is
    /// rejection, more is sequential (ABC-PMC).
    pub generations: u32,
}

/// One candidate: a draw of every fitted parameter, and how close its
/// simulated counts come to the observed ones.
#[derive(Clone, Debug, PartialEq)]
pub struct Candidate {
    /// Each fitted parameter's quantile in its prior.
    pub quantiles: Vec<f64>,
    /// Each fitted parameter's values, element by element.
    pub values: Vec<Vec<f64>>,
    /// `simulated[r][i]`: observation `i`'s simulated count in replicate
    /// `r`.
    pub simulated: Vec<Vec<f64>>,
    /// The root mean square relative difference of the replicates' mean
    /// counts from the observed.
    pub distance: f64,
    /// The generation it was drawn in, from 1 (drawn from the priors).
    pub generation: u32,
}

/// One fitted parameter: its prior and what the counts made of it.
#[derive(Clone, Debug, PartialEq)]
pub struct Fitted {
    /// The parameter as the scenario states it, with its range.
    pub prior: Uncertain,
    /// The kept candidates' 5th, 50th and 95th percentiles, element by
    /// element.
    pub posterior: [Vec<f64>; 3],
    /// The posterior's 90% range as a share of the prior's (for a list,
    /// of its widest element).
    pub kept: f64,
    /// The chance that draws from the prior alone would be as far from it
    /// as the kept draws are (Kolmogorov–Smirnov, on their quantiles).
    pub p_value: f64,
}

impl Fitted {
    /// Whether the counts informed it (see [`INFORMED_P`]).
    pub fn informed(&self) -> bool {
        self.p_value < INFORMED_P
    }
}

/// The Kolmogorov–Smirnov test of `quantiles` against the uniform on
/// (0, 1): the chance of a statistic at least as large, by Stephens's
/// approximation of its distribution (good from about 5 values).
pub fn uniformity_p_value(quantiles: &[f64]) -> f64 {
    let mut q = quantiles.to_vec();
    q.sort_by(f64::total_cmp);
    let n = q.len() as f64;
    if q.is_empty() {
        return 1.0;
    }
    let d = q
        .iter()
        .enumerate()
        .map(|(i, &x)| ((i + 1) as f64 / n - x).max(x - i as f64 / n))
        .fold(0.0, f64::max);
    let lambda = (n.sqrt() + 0.12 + 0.11 / n.sqrt()) * d;
    if lambda < 0.3 {
        // The series below converges slowly here, and the answer is 1 to
        // many decimals.
        return 1.0;
    }
    let p: f64 = (1..=100)
        .map(|k| {
            let k = k as f64;
            let sign = if k % 2.0 == 1.0 { 1.0 } else { -1.0 };
            2.0 * sign * (-2.0 * k * k * lambda * lambda).exp()
        })
        .sum();
    p.clamp(0.0, 1.0)
}

/// One observed count beside the simulation's before and after.
#[derive(Clone, Debug, PartialEq)]
pub struct Fit {
    /// The observed count.
    pub observed: f64,
    /// Every parameter at its stated value: the mean across replicates.
    pub stated: f64,
    /// Across every candidate and replicate: the prior's spread.
    pub prior: Band,
    /// Across the kept candidates and their replicates.
    pub posterior: Band,
}

impl Fit {
    /// Whether the observed count lies inside the calibrated 90% band (the
    /// kept candidates' 5th to 95th percentiles): a calibration that
    /// covers should hold about nine counts in ten.
    pub fn inside(&self) -> bool {
        self.posterior.p5 <= self.observed && self.observed <= self.posterior.p95
    }
}

/// A share of a parameter's kept draws in the outer tenth of its prior at
/// one end (a tenth is what chance puts there) past which the posterior is
/// piled against that edge.
const PILED: f64 = 0.5;

/// A finished calibration.
#[derive(Clone, Debug, PartialEq)]
pub struct Calibration {
    /// The scenario's name.
    pub scenario: String,
    /// The counts fitted to.
    pub observed: Observed,
    /// The parameters fitted, in the scenario's order.
    pub parameters: Vec<Fitted>,
    /// Every candidate, in the order drawn.
    pub candidates: Vec<Candidate>,
    /// The kept candidates (of the last generation), closest first.
    pub accepted: Vec<usize>,
    /// The posterior's draws: `accepted` for rejection; for a sequential
    /// calibration, `accepted` resampled by their importance weights (a
    /// candidate may stand more than once).
    pub posterior: Vec<usize>,
    /// Generations run: 1 for rejection.
    pub generations: u32,
    /// The scenario as stated: its distance from the observed counts.
    pub stated_distance: f64,
    /// One row per observed count, in the file's order.
    pub fit: Vec<Fit>,
    /// Replicates each candidate ran.
    pub replicates: u32,
    /// The seed.
    pub seed: u64,
    /// Resident-months simulated in all, burn-in included.
    pub resident_months: u64,
}

impl Calibration {
    /// Each observed count outside the calibrated 90% band, in a sentence
    /// each: the metric and period, the count, the band and on which side.
    pub fn outside_the_band(&self) -> Vec<String> {
        self.observed
            .observations
            .iter()
            .zip(&self.fit)
            .filter(|(_, f)| !f.inside())
            .map(|(o, f)| {
                format!(
                    "{} {}: observed {}, {} the calibrated 90% band ({} to {})",
                    o.metric,
                    o.period.label(),
                    crate::format::count(f.observed),
                    if f.observed > f.posterior.p95 {
                        "above"
                    } else {
                        "below"
                    },
                    crate::format::count(f.posterior.p5),
                    crate::format::count(f.posterior.p95)
                )
            })
            .collect()
    }

    /// How many observed counts lie inside the calibrated 90% band, in a
    /// sentence, with a warning for those that do not.
    pub fn coverage(&self) -> (String, Option<String>) {
        let n = self.fit.len();
        let inside = self.fit.iter().filter(|f| f.inside()).count();
        let said = format!(
            "Inside the calibrated 90% band: {inside} of {n} observed count{} (a calibration that covers holds about nine in ten; fit.csv's inside_calibrated_90).",
            if n == 1 { "" } else { "s" }
        );
        let outside = self.outside_the_band();
        let warn = (!outside.is_empty()).then(|| {
            format!(
                "{} of the observed counts lie outside the calibrated 90% band: {}. The ranges fitted may not reach the place's values (see any parameter piled against its range's edge), or the counts may be defined differently from the model's.",
                outside.len(),
                outside.join("; ")
            )
        });
        (said, warn)
    }

    /// Each fitted parameter whose kept draws pile against an end of its
    /// prior range (over half of them in its outer tenth), in a sentence
    /// with the advice to widen the range that way.
    pub fn piled_against_an_edge(&self) -> Vec<String> {
        let kept = self.posterior.len().max(1) as f64;
        self.parameters
            .iter()
            .enumerate()
            .filter_map(|(p, f)| {
                let share = |at: &dyn Fn(f64) -> bool| {
                    self.posterior
                        .iter()
                        .filter(|&&c| at(self.candidates[c].quantiles[p]))
                        .count() as f64
                        / kept
                };
                let (low, high) = (share(&|u| u < 0.1), share(&|u| u > 0.9));
                let (end, which, share) = if high >= PILED && high >= low {
                    (&f.prior.high, "high", high)
                } else if low >= PILED {
                    (&f.prior.low, "low", low)
                } else {
                    return None;
                };
                Some(format!(
                    "{}: {:.0}% of the kept draws lie in the {which}est tenth of its range, against the {which} end ({}); the counts may want values beyond it: widen the range past {} and calibrate again.",
                    f.prior.parameter,
                    share * 100.0,
                    f.prior.written(end),
                    f.prior.written(end)
                ))
            })
            .collect()
    }

    /// What was fitted to what, and how close the kept candidates and the
    /// scenario as stated came, in one sentence; `years` is the horizon
    /// simulated.
    pub fn summary(&self, years: u32) -> String {
        format!(
            "{}: {} counts from {} over {years} year{}; kept {}, within {} of the observed counts (root mean square of the relative differences); as stated, the scenario is {} from them.",
            self.scenario,
            self.observed.observations.len(),
            self.observed.name(),
            if years == 1 { "" } else { "s" },
            self.kept_of(),
            percent(self.tolerance()),
            percent(self.stated_distance)
        )
    }

    /// Which candidates were kept of how many, in words: "the 20 closest
    /// of 200 candidates", or, sequentially, of the last generation's.
    pub fn kept_of(&self) -> String {
        if self.generations <= 1 {
            return format!(
                "the {} closest of {} candidates",
                self.accepted.len(),
                self.candidates.len()
            );
        }
        let last = self
            .candidates
            .iter()
            .filter(|c| c.generation == self.generations)
            .count();
        format!(
            "the {} closest of the last generation's {last} candidates ({} generations, {} candidates in all, by sequential Monte Carlo; the kept resampled by their importance weights)",
            self.accepted.len(),
            self.generations,
            self.candidates.len()
        )
    }

    /// A warning when even the closest candidate is far from the counts.
    pub fn far_from_the_counts(&self) -> Option<String> {
        let closest = self
            .accepted
            .first()
            .map_or(f64::NAN, |&c| self.candidates[c].distance);
        (closest > CLOSE_ENOUGH).then(|| format!(
            "Even the closest candidate is {} from the observed counts: no values within these ranges reproduce them, so the model's structure (or the counts' definitions) may differ from the place's, not only its parameters.",
            percent(closest)
        ))
    }

    /// What the counts informed and what they left, in sentences, and a
    /// row for each informed parameter: name, stated value and range,
    /// posterior median and 5th to 95th percentiles (three significant
    /// figures), and the share of the prior's 90% range kept.
    pub fn findings(&self) -> (Vec<String>, Vec<[String; 4]>) {
        let (informed, not): (Vec<_>, Vec<_>) = self.parameters.iter().partition(|f| f.informed());
        let mut sentences = Vec::new();
        if informed.is_empty() {
            sentences.push("The counts informed no parameter: each one's kept draws are no further from its range than chance allows.".to_string());
        }
        if self.stated_distance < self.tolerance() {
            sentences.push("The scenario as stated is closer to the counts than some kept candidates: to narrow the ranges further, draw more candidates (--candidates) or fit fewer parameters (--fit).".to_string());
        }
        if !not.is_empty() {
            let one = not.len() == 1;
            sentences.push(format!(
                "{} fitted parameter{} not informed by these counts {} (calibration.csv lists {}).",
                not.len(),
                if one { "" } else { "s" },
                if one {
                    "keeps its stated range"
                } else {
                    "keep their stated ranges"
                },
                if one { "it" } else { "them" }
            ));
        }
        let short = |u: &Uncertain, v: &[f64]| {
            let v: Vec<f64> = v.iter().map(|&x| significant(x, 3)).collect();
            u.written(&v)
        };
        let rows = informed
            .iter()
            .map(|f| {
                let u = &f.prior;
                [
                    u.parameter.clone(),
                    format!(
                        "{} ({} to {})",
                        short(u, &u.central),
                        short(u, &u.low),
                        short(u, &u.high)
                    ),
                    format!(
                        "{} ({} to {})",
                        short(u, &f.posterior[1]),
                        short(u, &f.posterior[0]),
                        short(u, &f.posterior[2])
                    ),
                    format!("{:.0}%", f.kept * 100.0),
                ]
            })
            .collect();
        (sentences, rows)
    }

    /// The tolerance reached: the largest distance among those kept.
    pub fn tolerance(&self) -> f64 {
        self.accepted
            .last()
            .map_or(f64::NAN, |&c| self.candidates[c].distance)
    }

    /// The fitted parameters restated with their posteriors, for the ones
    /// the counts informed: value the median, range the 5th to 95th
    /// percentiles, a PERT hump between, and a source that says how.
    pub fn restated(&self) -> Vec<Restated> {
        let source = format!(
            "Calibrated to {} by `upstream calibrate`: the 5th, 50th and 95th percentiles of {} (seed {}, {} replicates each), within {} of the observed counts",
            self.observed.name(),
            self.kept_of(),
            self.seed,
            self.replicates,
            percent(self.tolerance()),
        );
        self.parameters
            .iter()
            .filter(|f| f.informed())
            .map(|f| {
                let round = |v: &[f64]| -> Vec<f64> {
                    v.iter().map(|&x| significant(x, WRITTEN_FIGURES)).collect()
                };
                Restated {
                    parameter: f.prior.parameter.clone(),
                    value: round(&f.posterior[1]),
                    low: round(&f.posterior[0]),
                    high: round(&f.posterior[2]),
                    shape: Shape::Pert,
                    source: source.clone(),
                }
            })
            .collect()
    }
}

impl Calibration {
    /// How the fitted parameters moved together among the kept candidates,
    /// as rank correlations for the calibrated scenario's `[uncertainty]`
    /// table (each pair whose rank correlation is beyond what chance gives
    /// at 5% across every pair, |r| > z/√(n − 1) for n kept), and a
    /// sentence saying so. Drawn by the Gaussian copula, they keep each pair's rank
    /// correlation, not every feature of the joint posterior. Shrunk
    /// towards none, together, where with `scenario`'s own they could not
    /// all hold at once.
    pub fn moved_together(&self, scenario: &Loaded) -> (Vec<Correlation>, String) {
        // Every fitted parameter, restated or not: two can trade off (more
        // of one needs less of the other) while each alone stays as wide as
        // its range.
        let fitted: Vec<usize> = (0..self.parameters.len()).collect();
        let n = self.posterior.len();
        if fitted.len() < 2 || n < 4 {
            return (Vec::new(), String::new());
        }
        if scenario.uncertainty.default_width.is_none() {
            return (Vec::new(), "How they moved together is not kept: the scenario has no [uncertainty] table to hold rank correlations; give it one to keep them.".into());
        }
        let kept = |p: usize| -> Vec<f64> {
            self.posterior
                .iter()
                .map(|&c| self.candidates[c].quantiles[p])
                .collect()
        };
        // Beyond chance at 5% for all the pairs together (Bonferroni), so
        // fitting many parameters does not keep chance pairings.
        let pairs = fitted.len() * (fitted.len() - 1) / 2;
        let z = Normal::standard().inverse_cdf(1.0 - 0.025 / pairs as f64);
        let beyond_chance = z / ((n - 1) as f64).sqrt();
        let source =
            format!("rank correlation of the {n} kept candidates, by `upstream calibrate`");
        let mut found = Vec::new();
        for (i, &a) in fitted.iter().enumerate() {
            for &b in &fitted[i + 1..] {
                let r = crate::aggregate::rank_correlation(&kept(a), &kept(b));
                if r.abs() > beyond_chance {
                    found.push(Correlation {
                        parameters: vec![
                            self.parameters[a].prior.parameter.clone(),
                            self.parameters[b].prior.parameter.clone(),
                        ],
                        rank: significant(r, 2),
                        source: Some(source.clone()),
                    });
                }
            }
        }
        let mut shrunk = 0;
        while !found.is_empty() && shrunk < 50 {
            let all: Vec<Correlation> = scenario
                .uncertainty
                .correlations
                .iter()
                .chain(&found)
                .cloned()
                .collect();
            if correlations_hold(&all) {
                break;
            }
            for c in &mut found {
                c.rank = significant(c.rank * 0.9, 2);
            }
            shrunk += 1;
        }
        let said = match found.len() {
            0 => "No pair of the fitted parameters moved together among the kept candidates beyond what chance gives, so each is drawn on its own.".to_string(),
            k => format!(
                "{k} pair{} of the fitted parameters moved together among the kept candidates beyond what chance gives: kept below as rank correlations in [uncertainty], drawn by a Gaussian copula (each pair's rank correlation is kept, not every feature of the joint posterior){}.",
                if k == 1 { "" } else { "s" },
                if shrunk > 0 {
                    format!("; shrunk by a tenth {shrunk} time{} so that they hold with the scenario's own", if shrunk == 1 { "" } else { "s" })
                } else {
                    String::new()
                }
            ),
        };
        (found, said)
    }
}

/// A distance as people read it: "4.2%".
/// A calibration whose closest candidate is further than this from the
/// observed counts (root mean square relative difference) is warned about.
pub const CLOSE_ENOUGH: f64 = 0.25;

/// A distance as a percentage with one decimal.
pub fn percent(distance: f64) -> String {
    format!("{:.1}%", distance * 100.0)
}

/// The horizon, in whole years, that covers every observed count: a
/// calibration need simulate no further.
pub fn years_needed(observed: &Observed) -> u32 {
    observed.months_needed().div_ceil(12).max(1) as u32
}

/// The root mean square relative difference of `simulated` from
/// `observed`, count by count.
pub fn distance(simulated: &[f64], observed: &[f64]) -> f64 {
    let n = observed.len().max(1) as f64;
    let sum: f64 = simulated
        .iter()
        .zip(observed)
        .map(|(s, o)| ((s - o) / o.max(1.0)).powi(2))
        .sum();
    (sum / n).sqrt()
}

/// Fits the uncertain parameters of `scenario` selected by
/// `calibration.only` to `observed` (read against this scenario). `on_done`
/// is called once per finished replicate. Run in `runs`: nothing, if
/// `runs` does one shard's share.
pub fn calibrate(
    scenario: &Loaded,
    observed: &Observed,
    settings: &RunSettings,
    calibration: &CalibrationSettings,
    runs: &mut Runs,
    on_done: &(dyn Fn() + Sync),
) -> Result<Option<Calibration>, Error> {
    let fitted = fitted(scenario, calibration)?;
    let generations = calibration.generations.max(1);
    if generations > 1 && !runs.is_whole() {
        return Err(crate::app::PlanError::SequentialInShards.into());
    }
    let counts: Vec<f64> = observed.observations.iter().map(|o| o.count).collect();
    let runner = Candidates {
        scenario,
        observed,
        fitted: &fitted,
        counts: &counts,
        settings,
    };
    let (n, accept) = (calibration.candidates, calibration.accept as usize);
    let batch = if generations > 1 {
        SEQUENTIAL_BATCH
    } else {
        BATCH
    };
    let prior = |c: u32| runner.prior(c);
    let Some((stated, mut candidates, mut resident_months)) =
        runner.run(&prior, (0, n, batch), 1, runs, on_done)?
    else {
        return Ok(None);
    };
    let stated = means(&stated.expect("the first generation runs the scenario as stated"));
    let mut order = closest(&candidates, 0, accept);
    let mut weights = vec![1.0 / order.len().max(1) as f64; order.len()];
    for generation in 2..=generations {
        let proposal = Proposal::new(&candidates, &order, &weights, settings.seed);
        let from = candidates.len();
        let propose = |c: u32| proposal.propose(c, &fitted);
        let Some((_, drawn, simulated)) =
            runner.run(&propose, (from as u32, n, batch), generation, runs, on_done)?
        else {
            return Ok(None);
        };
        resident_months += simulated;
        candidates.extend(drawn);
        order = closest(&candidates, from, accept);
        weights = proposal.weights(&candidates, &order);
    }
    let kept = if generations > 1 {
        resample(&order, &weights, settings.seed)
    } else {
        order.clone()
    };
    let parameters = fitted
        .iter()
        .enumerate()
        .map(|(j, u)| {
            posterior(
                u,
                &kept
                    .iter()
                    .map(|&c| candidates[c].quantiles[j])
                    .collect::<Vec<_>>(),
            )
        })
        .collect();
    let fit = (0..counts.len())
        .map(|i| {
            let across = |which: &mut dyn Iterator<Item = &Candidate>| -> Band {
                let v: Vec<f64> = which
                    .flat_map(|c| c.simulated.iter().map(move |r| r[i]))
                    .collect();
                Band::of(&v)
            };
            Fit {
                observed: counts[i],
                stated: stated[i],
                prior: across(&mut candidates.iter().filter(|c| c.generation == 1)),
                posterior: across(&mut kept.iter().map(|&c| &candidates[c])),
            }
        })
        .collect();
    Ok(Some(Calibration {
        scenario: scenario.config.name.clone(),
        observed: observed.clone(),
        parameters,
        stated_distance: distance(&stated, &counts),
        candidates,
        accepted: order,
        posterior: kept,
        generations,
        fit,
        replicates: settings.replicates,
        seed: settings.seed,
        resident_months,
    }))
}

/// The uncertain parameters `calibration.only` selects, once its numbers
/// of candidates and of those kept are checked.
fn fitted<'a>(
    scenario: &'a Loaded,
    calibration: &CalibrationSettings,
) -> Result<Vec<&'a Uncertain>, Error> {
    let fitted: Vec<&Uncertain> = scenario
        .uncertainty
        .parameters
        .iter()
        .filter(|u| {
            calibration.only.is_empty()
                || calibration
                    .only
                    .iter()
                    .any(|p| u.parameter.starts_with(p.as_str()))
        })
        .collect();
    if fitted.is_empty() {
        return Err(match calibration.only.is_empty() {
            true => crate::app::PlanError::NothingUncertain,
            false => crate::app::PlanError::NoneSelected {
                only: calibration.only.clone(),
            },
        }
        .into());
    }
    let (n, kept) = (calibration.candidates, calibration.accept);
    if !(MIN_ACCEPTED..=MAX_CANDIDATES).contains(&n) {
        return Err(crate::app::PlanError::OutOfRange {
            setting: "--candidates",
            lo: MIN_ACCEPTED as u64,
            hi: MAX_CANDIDATES as u64,
            value: n as u64,
        }
        .into());
    }
    if kept < MIN_ACCEPTED || kept > n {
        return Err(crate::app::PlanError::OutOfRange {
            setting: "--accept",
            lo: MIN_ACCEPTED as u64,
            hi: n.max(MIN_ACCEPTED) as u64,
            value: kept as u64,
        }
        .into());
    }
    if calibration.generations > MAX_GENERATIONS {
        return Err(crate::app::PlanError::OutOfRange {
            setting: "--generations",
            lo: 1,
            hi: MAX_GENERATIONS as u64,
            value: calibration.generations as u64,
        }
        .into());
    }
    Ok(fitted)
}

/// Parameter `u`'s posterior from the quantiles `q` the kept candidates
/// drew for it.
fn posterior(u: &Uncertain, q: &[f64]) -> Fitted {
    let band = Band::of(q);
    let posterior = [
        u.quantile(band.p5),
        u.quantile(band.p50),
        u.quantile(band.p95),
    ];
    let (prior_lo, prior_hi) = (u.quantile(0.05), u.quantile(0.95));
    let kept = (0..u.central.len())
        .filter(|&i| prior_hi[i] > prior_lo[i])
        .map(|i| (posterior[2][i] - posterior[0][i]) / (prior_hi[i] - prior_lo[i]))
        .fold(f64::NAN, f64::max);
    Fitted {
        prior: u.clone(),
        posterior,
        kept: if kept.is_nan() { 1.0 } else { kept },
        p_value: uniformity_p_value(q),
    }
}

/// The candidates' runs: each draws the fitted parameters and is run on
/// its batch's luck, its simulated counts set beside the observed ones.
struct Candidates<'a> {
    scenario: &'a Loaded,
    observed: &'a Observed,
    fitted: &'a [&'a Uncertain],
    counts: &'a [f64],
    settings: &'a RunSettings,
}

/// Each replicate's simulated counts, in the observed file's order.
type Counted = Vec<Vec<f64>>;

/// A generation run whole: the scenario as stated's counts (the first
/// generation runs it), the candidates and the resident-months simulated.
type Generation = (Option<Counted>, Vec<Candidate>, u64);

impl Candidates<'_> {
    /// Candidate `c`'s quantiles drawn from the priors, parameter by
    /// parameter.
    fn prior(&self, c: u32) -> Vec<f64> {
        let crn = Crn::new(self.settings.seed, c);
        self.fitted
            .iter()
            .map(|u| named_uniform(crn, &u.parameter, Purpose::Calibration))
            .collect()
    }

    /// Each replicate's simulated counts in `runs`.
    fn counted(&self, runs: crate::replicates::ScenarioRuns) -> Counted {
        runs.series
            .iter()
            .map(|s| {
                self.observed
                    .observations
                    .iter()
                    .map(|o| o.simulated(s, &runs.layout))
                    .collect()
            })
            .collect()
    }

    /// Runs `n` candidates of `generation`, numbered from `from`, `batch`
    /// at a time, each batch on a luck of its own (the first generation
    /// after the scenario as stated),
    /// candidate `c`'s quantiles `quantiles(c)`: the stated run's counts
    /// (first generation), the candidates and the resident-months
    /// simulated, or None if `runs` does a shard's share.
    fn run(
        &self,
        quantiles: &dyn Fn(u32) -> Vec<f64>,
        (from, n, batch): (u32, u32, usize),
        generation: u32,
        runs: &mut Runs,
        on_done: &(dyn Fn() + Sync),
    ) -> Result<Option<Generation>, Error> {
        let mut resident_months = 0;
        let mut stated: Option<Counted> = None;
        let mut candidates: Vec<Candidate> = Vec::with_capacity(n as usize);
        let mut whole = true;
        let end = from + n;
        let mut next = from;
        let mut first = generation == 1;
        while next < end || first {
            let first_of_batch = next;
            let mut configs = Vec::with_capacity(batch + 1);
            let mut drawn = Vec::with_capacity(batch);
            if first {
                configs.push(self.scenario.config.clone());
            }
            while next < end && drawn.len() < batch {
                let quantiles = quantiles(next);
                let values: Vec<Vec<f64>> = self
                    .fitted
                    .iter()
                    .zip(&quantiles)
                    .map(|(u, &q)| u.quantile(q))
                    .collect();
                let pairs: Vec<(&str, &[f64])> = self
                    .fitted
                    .iter()
                    .zip(&values)
                    .map(|(u, v)| (u.parameter.as_str(), v.as_slice()))
                    .collect();
                configs.push(self.scenario.with_numbers(&pairs)?.config);
                drawn.push((quantiles, values));
                next += 1;
            }
            let refs: Vec<&crate::model::Config> = configs.iter().collect();
            let with_stated = std::mem::take(&mut first);
            // The batch's own luck, keyed by its first candidate.
            let batch_settings = RunSettings {
                seed: crate::rng::mix64(self.settings.seed ^ (u64::from(first_of_batch) << 32)),
                ..self.settings.clone()
            };
            let Some(run) = runs.run(refs.len(), &|s, _| refs[s], &batch_settings, on_done)? else {
                whole = false;
                continue;
            };
            resident_months += run.resident_months;
            let mut each = run.scenarios.into_iter();
            if with_stated {
                stated = Some(self.counted(each.next().expect("the stated run")));
            }
            for ((quantiles, values), r) in drawn.into_iter().zip(each) {
                let simulated = self.counted(r);
                let distance = distance(&means(&simulated), self.counts);
                candidates.push(Candidate {
                    quantiles,
                    values,
                    simulated,
                    distance,
                    generation,
                });
            }
        }
        Ok(whole.then_some((stated, candidates, resident_months)))
    }
}

/// The `accept` closest of the candidates from `from` on, closest first;
/// ties (a parameter the counts do not see) keep the order drawn.
fn closest(candidates: &[Candidate], from: usize, accept: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (from..candidates.len()).collect();
    order.sort_by(|&a, &b| {
        candidates[a]
            .distance
            .total_cmp(&candidates[b].distance)
            .then(a.cmp(&b))
    });
    order.truncate(accept);
    order
}

/// Where the proposals' random numbers come from: apart from the priors'
/// and the runs' own.
const PROPOSAL_STREAM: u64 = 0x6162_632d_736d_6321;

/// A generation's proposal, from the last generation's kept candidates
/// and their weights: in each parameter's normal score (its prior's
/// quantile through the standard normal's inverse, where the priors are
/// independent standard normals), a kept candidate picked by weight and
/// moved by a normal step whose variance is twice the kept candidates'
/// weighted variance (Beaumont et al.'s kernel).
struct Proposal {
    /// The kept candidates' normal scores, parameter by parameter.
    particles: Vec<Vec<f64>>,
    /// Their weights, adding up to 1, and running totals of them.
    weights: Vec<f64>,
    cumulative: Vec<f64>,
    /// Each parameter's step: its standard deviation.
    step: Vec<f64>,
    seed: u64,
}

/// A quantile's normal score, kept off the infinite ends.
fn score(q: f64) -> f64 {
    Normal::standard().inverse_cdf(q.clamp(1e-12, 1.0 - 1e-12))
}

impl Proposal {
    fn new(candidates: &[Candidate], kept: &[usize], weights: &[f64], seed: u64) -> Proposal {
        let particles: Vec<Vec<f64>> = kept
            .iter()
            .map(|&c| candidates[c].quantiles.iter().map(|&q| score(q)).collect())
            .collect();
        let total: f64 = weights.iter().sum();
        let weights: Vec<f64> = weights.iter().map(|w| w / total).collect();
        let cumulative = weights
            .iter()
            .scan(0.0, |sum, w| {
                *sum += w;
                Some(*sum)
            })
            .collect();
        let parameters = particles.first().map_or(0, Vec::len);
        let step = (0..parameters)
            .map(|p| {
                let mean: f64 = particles.iter().zip(&weights).map(|(z, w)| w * z[p]).sum();
                let var: f64 = particles
                    .iter()
                    .zip(&weights)
                    .map(|(z, w)| w * (z[p] - mean).powi(2))
                    .sum();
                // Never a step of nothing: kept candidates that agree
                // still search around themselves.
                (2.0 * var).sqrt().max(1e-3)
            })
            .collect();
        Proposal {
            particles,
            weights,
            cumulative,
            step,
            seed,
        }
    }

    /// Candidate `c`'s quantiles, parameter by parameter of `fitted`.
    fn propose(&self, c: u32, fitted: &[&Uncertain]) -> Vec<f64> {
        let crn = Crn::new(crate::rng::mix64(self.seed ^ PROPOSAL_STREAM), c);
        let pick = named_uniform(crn, "kept candidate", Purpose::Calibration);
        let j = self
            .cumulative
            .partition_point(|&t| t <= pick)
            .min(self.particles.len() - 1);
        let normal = Normal::standard();
        fitted
            .iter()
            .enumerate()
            .map(|(p, u)| {
                let e = score(named_uniform(crn, &u.parameter, Purpose::Calibration));
                normal
                    .cdf(self.particles[j][p] + self.step[p] * e)
                    .clamp(1e-12, 1.0 - 1e-12)
            })
            .collect()
    }

    /// The importance weights of the candidates `kept` (drawn from this
    /// proposal), adding up to 1: each one's prior density over the
    /// proposal's density at it.
    fn weights(&self, candidates: &[Candidate], kept: &[usize]) -> Vec<f64> {
        let normal = Normal::standard();
        let raw: Vec<f64> = kept
            .iter()
            .map(|&c| {
                let z: Vec<f64> = candidates[c].quantiles.iter().map(|&q| score(q)).collect();
                // On the log scale: many parameters' densities multiply
                // to numbers too small for a float.
                let prior: f64 = z.iter().map(|&x| normal.ln_pdf(x)).sum();
                let each: Vec<f64> = self
                    .particles
                    .iter()
                    .zip(&self.weights)
                    .map(|(y, w)| {
                        w.ln()
                            + z.iter()
                                .zip(y)
                                .zip(&self.step)
                                .map(|((a, b), s)| normal.ln_pdf((a - b) / s) - s.ln())
                                .sum::<f64>()
                    })
                    .collect();
                let top = each.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let proposal = top + each.iter().map(|e| (e - top).exp()).sum::<f64>().ln();
                prior - proposal
            })
            .collect();
        let top = raw.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let w: Vec<f64> = raw.iter().map(|r| (r - top).exp()).collect();
        let total: f64 = w.iter().sum();
        w.iter().map(|x| x / total).collect()
    }
}

/// Systematic resampling: `kept`, each as often as its weight (adding up
/// to 1) says, as many draws as there are kept candidates, from one
/// uniform of the seed's own.
fn resample(kept: &[usize], weights: &[f64], seed: u64) -> Vec<usize> {
    let n = kept.len();
    let crn = Crn::new(crate::rng::mix64(seed ^ PROPOSAL_STREAM), u32::MAX);
    let start = named_uniform(crn, "resample", Purpose::Calibration);
    let mut out = Vec::with_capacity(n);
    let (mut j, mut below) = (0, weights.first().copied().unwrap_or(0.0));
    for i in 0..n {
        let at = (i as f64 + start) / n as f64;
        while at > below && j + 1 < n {
            j += 1;
            below += weights[j];
        }
        out.push(kept[j]);
    }
    out
}

/// The calibrated scenario's text, to be written as
/// [`CALIBRATED_FILE`](crate::published::CALIBRATED_FILE) in `dir`: a file
/// that extends `scenario` (by its path relative to `dir`) and restates
/// each parameter the counts informed with its posterior. It is loaded
/// before it is returned, so a file that would not load is never written.
pub fn calibrated_scenario(
    c: &Calibration,
    scenario: &Loaded,
    dir: &std::path::Path,
) -> Result<String, Error> {
    let original = &scenario.files[0].path;
    let extends = crate::output::relative(original, dir)
        .display()
        .to_string()
        .replace('\\', "/");
    let restated = c.restated();
    let not_informed = c.parameters.len() - restated.len();
    let mut comments = vec![
        format!(
            "{} calibrated to the counts in {}, by `upstream calibrate` (seed {}, {} candidates of {} replicates each).",
            c.scenario,
            c.observed.name(),
            c.seed,
            c.candidates.len(),
            c.replicates
        ),
        format!(
            "Kept {}, within {} of the observed counts (root mean square of the relative differences); as stated, the scenario is {} from them.",
            c.kept_of(),
            percent(c.tolerance()),
            percent(c.stated_distance)
        ),
        String::new(),
    ];
    let (correlations, together) = c.moved_together(scenario);
    comments.push(match restated.len() {
        0 => "The counts narrowed no parameter: every parameter keeps its stated value and range.".into(),
        n => format!(
            "{n} parameter{} the counts narrowed {} restated below: value the posterior median, range its 5th to 95th percentiles.",
            if n == 1 { "" } else { "s" },
            if n == 1 { "is" } else { "are" }
        ),
    });
    if !together.is_empty() {
        comments.push(together);
    }
    if not_informed > 0 {
        comments.push(format!(
            "{not_informed} other fitted parameter{} the counts did not inform (kept draws no further from the prior than chance allows) {} inherited as stated; calibration.csv lists them.",
            if not_informed == 1 { "" } else { "s" },
            if not_informed == 1 { "is" } else { "are" }
        ));
    }
    let header = crate::scenario::Extension {
        extends,
        name: format!("{} (calibrated)", c.scenario),
        description: format!(
            "{}, its uncertain parameters calibrated to {}.",
            c.scenario,
            c.observed.name()
        ),
        comments,
        correlations,
    };
    let text = scenario.extension(&header, &restated)?;
    let path = dir.join(crate::published::CALIBRATED_FILE);
    crate::scenario::load_from(&path, &Default::default(), &|p: &std::path::Path| {
        if p == path {
            Ok(text.clone())
        } else {
            // By name: `dir` may not exist yet, so `dir/..` cannot be
            // followed on disk.
            crate::input::read(&crate::output::resolved_by_name(p))
        }
    })?;
    Ok(text)
}

/// Each observation's mean across replicates.
fn means(simulated: &[Vec<f64>]) -> Vec<f64> {
    let r = simulated.len().max(1) as f64;
    let n = simulated.first().map_or(0, |s| s.len());
    (0..n)
        .map(|i| simulated.iter().map(|s| s[i]).sum::<f64>() / r)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The share of its prior range a parameter keeps is its kept
    /// candidates' 90% range over its prior's: kept quantiles spanning a
    /// tenth of a uniform prior keep a tenth of it.
    #[test]
    fn a_parameter_keeps_the_share_of_its_prior_its_kept_draws_span() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
        let hubs = root.join("small_hubs.toml");
        let read = |p: &std::path::Path| {
            let text = crate::input::read(p)?;
            Ok(if p == hubs {
                text.replace(
                    "engagement = 0.95",
                    "engagement = { value = 0.5, range = [0.2, 0.8], distribution = \"uniform\" }",
                )
            } else {
                text
            })
        };
        let scenario = crate::scenario::load_from(&hubs, &Default::default(), &read).unwrap();
        let u = scenario
            .uncertainty
            .parameters
            .iter()
            .find(|u| u.parameter == "interventions.hubs.engagement")
            .unwrap();
        let q: Vec<f64> = (0..=100).map(|k| 0.45 + 0.001 * k as f64).collect();
        let fitted = posterior(u, &q);
        assert!((fitted.kept - 0.1).abs() < 0.005, "kept {}", fitted.kept);
        assert!((fitted.posterior[1][0] - 0.5).abs() < 1e-9);
    }

    /// The warning is for a closest candidate further than
    /// [`CLOSE_ENOUGH`] from the counts, not one at it.
    #[test]
    fn only_a_closest_candidate_beyond_close_enough_is_warned_about() {
        let at = |distance: f64| Calibration {
            scenario: "Place".into(),
            observed: Observed {
                file: "counts.csv".into(),
                observations: Vec::new(),
            },
            parameters: Vec::new(),
            candidates: vec![Candidate {
                quantiles: Vec::new(),
                values: Vec::new(),
                simulated: Vec::new(),
                distance,
                generation: 1,
            }],
            accepted: vec![0],
            posterior: vec![0],
            generations: 1,
            stated_distance: 0.0,
            fit: Vec::new(),
            replicates: 1,
            seed: 1,
            resident_months: 0,
        };
        assert_eq!(at(CLOSE_ENOUGH).far_from_the_counts(), None);
        let far = at(CLOSE_ENOUGH + 0.001).far_from_the_counts().unwrap();
        assert!(far.contains("25.1%"), "{far}");
    }

    fn at_score(z: f64) -> Candidate {
        Candidate {
            quantiles: vec![Normal::standard().cdf(z)],
            values: Vec::new(),
            simulated: Vec::new(),
            distance: 0.0,
            generation: 1,
        }
    }

    /// Two kept candidates at normal scores −1 and +1, equally weighted:
    /// the step is √2 (twice their variance, 1), and a candidate's weight
    /// is its prior density over the two-hump proposal's.
    #[test]
    fn importance_weights_are_the_prior_over_the_proposal() {
        let kept = [at_score(-1.0), at_score(1.0)];
        let proposal = Proposal::new(&kept, &[0, 1], &[0.5, 0.5], 1);
        assert!((proposal.step[0] - 2f64.sqrt()).abs() < 1e-6);
        let n = Normal::standard();
        let s = 2f64.sqrt();
        let want =
            |z: f64| n.pdf(z) / (0.5 * n.pdf((z + 1.0) / s) / s + 0.5 * n.pdf((z - 1.0) / s) / s);
        let drawn = [at_score(0.0), at_score(2.5)];
        let w = proposal.weights(&drawn, &[0, 1]);
        assert!((w[0] + w[1] - 1.0).abs() < 1e-12);
        let ratio = w[1] / w[0];
        assert!((ratio - want(2.5) / want(0.0)).abs() < 1e-6, "{ratio}");
    }

    /// Systematic resampling keeps each candidate as often as its weight.
    #[test]
    fn resampling_keeps_each_candidate_as_often_as_its_weight() {
        for seed in 0..20 {
            let got = resample(&[7, 8, 9, 10], &[0.5, 0.5, 0.0, 0.0], seed);
            assert_eq!(got, [7, 7, 8, 8]);
            let got = resample(&[7, 8, 9, 10], &[0.25; 4], seed);
            assert_eq!(got, [7, 8, 9, 10]);
        }
    }

    #[test]
    fn uniform_quantiles_pass_and_bunched_ones_fail_the_uniformity_test() {
        let even: Vec<f64> = (0..20).map(|i| (i as f64 + 0.5) / 20.0).collect();
        assert_eq!(uniformity_p_value(&even), 1.0);
        let bunched: Vec<f64> = (0..20).map(|i| 0.4 + 0.01 * i as f64).collect();
        assert!(uniformity_p_value(&bunched) < INFORMED_P);
        // D = 0.3175 over 20 values: between the published critical values
        // for n = 20 at 5% (0.294) and at 1% (0.352).
        let shifted: Vec<f64> = (0..20).map(|i| (i as f64 + 0.5) / 20.0 * 0.7).collect();
        let p = uniformity_p_value(&shifted);
        assert!((0.01..0.05).contains(&p), "{p}");
        assert_eq!(significant(0.000_027_371_6, 4), 0.000_027_37);
        assert_eq!(significant(1946.25, 4), 1946.0);
        assert_eq!(significant(-1.23456, 3), -1.23);
    }

    #[test]
    fn the_distance_is_the_root_mean_square_relative_difference() {
        assert_eq!(distance(&[110.0, 90.0], &[100.0, 100.0]), 0.1);
        assert_eq!(distance(&[5.0, 5.0], &[5.0, 5.0]), 0.0);
        // A count of 0 is compared in absolute terms, not divided by 0.
        assert_eq!(distance(&[2.0], &[0.0]), 2.0);
        assert_eq!(means(&[vec![1.0, 4.0], vec![3.0, 8.0]]), vec![2.0, 6.0]);
    }
}
