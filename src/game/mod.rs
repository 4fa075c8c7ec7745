//! The learning simulation's core: an academy cohort's teams each run the
//! same place, a year a round, splitting a prevention budget across the
//! levers a facilitator allows; every team meets the same luck, so the
//! differences between teams are their decisions.
//!
//! A game is a scenario with an `[optimise]` table (its levers, budget and
//! payers' limits) set to the facilitator's place size and number of rounds.
//! A team's history is a *path*: its amounts round by round. Each round
//! resumes every path's replicates from where its last year left them
//! ([`Engine::resume`]) under the path's amounts so far, runs the year and
//! snapshots them again, so no year is simulated twice. Every path starts
//! from one burn-in, and the "no change" path (every lever at £0) is played
//! beside the teams, so a team's results are paired with it replicate by
//! replicate. [`Standing`] and [`ranking`] set the teams side by side after
//! a round, for the class screen and the debrief.
//!
//! Nothing here reads files, keeps a database or serves pages: the caller
//! keeps the snapshots and decisions, and replaying a game from its
//! recorded decisions gives the same numbers, byte for byte.

mod cards;
mod explain;
mod results;

use rayon::prelude::*;

pub use cards::{CARD_POUNDS, Card};
pub use explain::{Explanation, Figures, ShockCost, TeamEffects};
pub use results::{Demand, Mtfs, Pair, PayerYear, RoundResults};

use crate::engine::Engine;
use crate::engine::SnapshotError;
use crate::model::{Payer, ProviderFailure, RiskFactor, Shock as ModelShock};
use crate::scenario::{FileSet, Loaded, Overrides, ScenarioError};

/// The most rounds (simulated years) a game may have.
pub const MAX_ROUNDS: u32 = 10;
/// The fewest residents a game's place may have.
pub const MIN_RESIDENTS: u32 = 5_000;
/// The most residents a game's place may have: a round must come back
/// within seconds.
pub const MAX_RESIDENTS: u32 = 100_000;
/// The most replicates a game may run.
pub const MAX_REPLICATES: u32 = 16;
/// The name of the scenario file a game writes to set its place up.
pub const GAME_FILE: &str = "game.toml";

/// What a facilitator chooses when creating a game.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Setup {
    /// The scenario to play, by its name in the game's files; it needs an
    /// `[optimise]` table naming the levers.
    pub scenario: String,
    /// Rounds, one simulated year each (1 to [`MAX_ROUNDS`]).
    pub rounds: u32,
    /// Residents in the place ([`MIN_RESIDENTS`] to [`MAX_RESIDENTS`]).
    pub residents: u32,
    /// Replicates run for every team (1 to [`MAX_REPLICATES`]).
    pub replicates: u32,
    /// £ each team may spend a round; the `[optimise]` table's budget when
    /// `None`.
    pub budget: Option<f64>,
    /// The master seed: every team meets the same luck.
    pub seed: u64,
}

/// Something the facilitator announces between rounds, the same for every
/// team, lasting from the round it is announced for to the end of the game.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Shock {
    /// Living costs rise: the share of residents on a low income is
    /// multiplied by `multiplier` (more than 1).
    CostOfLiving {
        /// Multiplies low-income prevalence (1.01 to 2).
        multiplier: f64,
    },
    /// Every team's budget is cut by `share` (0.01 to 1) of what it was.
    BudgetCut {
        /// The share cut.
        share: f64,
    },
    /// A provider fails: episode service `service` loses a `share` of its
    /// in-house places (0.01 to 1), so new entries go to the spot market or
    /// wait (see [`ProviderFailure`]).
    ProviderFailure {
        /// The episode service's id.
        service: String,
        /// The share of its in-house places lost.
        share: f64,
    },
}

/// A shock and the round it starts in (1-based).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Announced {
    /// The first round it affects.
    pub round: u32,
    /// What happens.
    pub shock: Shock,
}

/// Why a game cannot be set up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GameError {
    /// A setting is outside what a game allows.
    #[error("{0}")]
    Setting(String),
    /// The scenario does not load, or has no levers to play.
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    /// A team's saved state cannot be resumed.
    #[error("a team's saved year cannot be resumed: {0}")]
    Snapshot(#[from] SnapshotError),
}

/// Why a team's decision is refused; nothing is changed.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum DecisionError {
    /// Not one amount per lever.
    #[error("expected an amount for each of the {expected} levers, found {found}")]
    Levers {
        /// Levers in the game.
        expected: usize,
        /// Amounts given.
        found: usize,
    },
    /// An amount below £0, or not a number.
    #[error("{lever}: expected an amount of £0 or more, found {found}")]
    Amount {
        /// The lever's name.
        lever: String,
        /// What was given.
        found: String,
    },
    /// More than the team's budget.
    #[error("the amounts add up to £{total}, more than this round's budget of £{budget}")]
    OverBudget {
        /// The amounts' sum, formatted.
        total: String,
        /// The budget, formatted.
        budget: String,
    },
    /// More than a payer may put in.
    #[error("{payer} would put in £{total}, more than its limit of £{limit}")]
    PayerLimit {
        /// The payer's name for people.
        payer: String,
        /// Its levers' sum, formatted.
        total: String,
        /// Its limit, formatted.
        limit: String,
    },
}

/// A game: the place, its levers and budget, set up and checked.
#[derive(Clone, Debug)]
pub struct Game {
    setup: Setup,
    scenario: Loaded,
    budget: f64,
    /// The levers' cards, worked out when first asked for.
    cards: std::sync::OnceLock<Vec<Card>>,
}

/// A lever a team may fund.
#[derive(Clone, Debug, PartialEq)]
pub struct Lever {
    /// The intervention's id.
    pub id: String,
    /// Its name for people.
    pub name: String,
    /// Who funds it.
    pub payer: Payer,
}

/// One path's replicates at the end of a round: each replicate's saved
/// state, in replicate order.
pub type Snapshots = Vec<Vec<u8>>;

/// What a round gives one path: its replicates' saved states, and what
/// they have recorded over the game so far.
#[derive(Clone, Debug)]
pub struct Played {
    /// To resume the next round from.
    pub snapshots: Snapshots,
    /// Each replicate's recorded months, from month 1 to the round's end.
    pub replicates: Vec<crate::engine::ReplicateResult>,
}

impl Game {
    /// Sets up a game from `files` (the bundled scenarios, or those uploaded
    /// with one): the scenario `setup.scenario` at the chosen size, over
    /// `setup.rounds` years.
    pub fn new(files: &FileSet, setup: Setup) -> Result<Game, GameError> {
        let range = |what: &str, v: u32, lo: u32, hi: u32| {
            if v < lo || v > hi {
                Err(GameError::Setting(format!(
                    "{what}: expected {lo} to {hi}, found {v}"
                )))
            } else {
                Ok(())
            }
        };
        range("rounds", setup.rounds, 1, MAX_ROUNDS)?;
        range("residents", setup.residents, MIN_RESIDENTS, MAX_RESIDENTS)?;
        range("replicates", setup.replicates, 1, MAX_REPLICATES)?;
        if files.names().any(|n| n == GAME_FILE) {
            return Err(GameError::Setting(format!(
                "{GAME_FILE} is the name a game gives its own settings: rename that file"
            )));
        }
        let mut files = files.clone();
        files
            .insert(GAME_FILE, game_file(&setup))
            .expect("a plain file name");
        let mut scenario = files.load(GAME_FILE, &Overrides::default())?;
        // The [optimise] table's budget and payers' limits are amounts for
        // the place as the scenario writes it: a game of another size gets
        // them in proportion to its residents, as the baseline's own sizes
        // are written per 1,000, so a team spends as much per resident
        // whatever the size chosen.
        let written = files
            .load(&setup.scenario, &Overrides::default())?
            .config
            .population
            .residents;
        let scale = setup.residents as f64 / written as f64;
        let Some(table) = scenario.optimise.as_mut() else {
            return Err(GameError::Setting(format!(
                "{}: a game needs an [optimise] table naming the levers teams may fund (see scenarios/prevention_portfolio.toml)",
                setup.scenario
            )));
        };
        // To the pound: a budget a facilitator reads out.
        table.budget = (table.budget * scale).round();
        for (_, limit) in &mut table.payer_limits {
            *limit = (*limit * scale).round();
        }
        let budget = setup.budget.unwrap_or(table.budget);
        if !(budget > 0.0 && budget <= 1e12) {
            return Err(GameError::Setting(format!(
                "budget: expected more than £0 a round, found {budget}"
            )));
        }
        for lever in &table.levers {
            let iv = scenario
                .config
                .interventions
                .iter()
                .find(|i| i.id == lever.intervention)
                .expect("a lever is an intervention");
            if iv.acts_in_burn_in() {
                return Err(GameError::Setting(format!(
                    "{}: lever `{}` is already running (existing = true); a team's lever starts from nothing",
                    setup.scenario, lever.intervention
                )));
            }
        }
        Ok(Game {
            setup,
            scenario,
            budget,
            cards: std::sync::OnceLock::new(),
        })
    }

    /// The facilitator's choices.
    pub fn setup(&self) -> &Setup {
        &self.setup
    }

    /// The game's scenario at its written amounts.
    pub fn scenario(&self) -> &Loaded {
        &self.scenario
    }

    /// The game a practice round is played in: the same place, levers and
    /// budget with other luck, so practising shows no team what round 1's
    /// luck will be.
    pub fn practice(&self) -> Game {
        let mut setup = self.setup.clone();
        // Another seed, scattered by the mixer, gives independent streams.
        setup.seed = crate::rng::mix64(setup.seed);
        Game {
            setup,
            scenario: self.scenario.clone(),
            budget: self.budget,
            cards: self.cards.clone(),
        }
    }

    /// The services with places a provider failure can hit, as (id, name).
    pub fn services_with_places(&self) -> Vec<(String, String)> {
        self.scenario
            .config
            .episodes
            .iter()
            .map(|e| (e.id.clone(), e.name.clone()))
            .collect()
    }

    /// The levers teams may fund, in the order amounts are given.
    pub fn levers(&self) -> Vec<Lever> {
        self.table()
            .levers
            .iter()
            .map(|l| Lever {
                id: l.intervention.clone(),
                name: l.name.clone(),
                payer: l.payer,
            })
            .collect()
    }

    fn table(&self) -> &crate::scenario::Budget {
        self.scenario.optimise.as_ref().expect("checked in new")
    }

    /// The budget each team has in `round` after the cuts announced for it
    /// or before.
    pub fn budget_in(&self, round: u32, shocks: &[Announced]) -> f64 {
        shocks
            .iter()
            .filter(|a| a.round <= round)
            .fold(self.budget, |b, a| match a.shock {
                Shock::BudgetCut { share } => b * (1.0 - share),
                Shock::CostOfLiving { .. } | Shock::ProviderFailure { .. } => b,
            })
    }

    /// Checks a team's amounts for `round`, lever by lever: each £0 or
    /// more, within the round's budget and the payers' limits.
    pub fn check(
        &self,
        round: u32,
        shocks: &[Announced],
        amounts: &[f64],
    ) -> Result<(), DecisionError> {
        let levers = &self.table().levers;
        if amounts.len() != levers.len() {
            return Err(DecisionError::Levers {
                expected: levers.len(),
                found: amounts.len(),
            });
        }
        for (l, &a) in levers.iter().zip(amounts) {
            if !(a >= 0.0 && a.is_finite()) {
                return Err(DecisionError::Amount {
                    lever: l.name.clone(),
                    found: a.to_string(),
                });
            }
        }
        let pounds = |v: f64| crate::format::thousands(v.round());
        let total: f64 = amounts.iter().sum();
        let budget = self.budget_in(round, shocks);
        // Amounts are whole pounds: a penny over from rounding is not over.
        if total > budget + 0.5 {
            return Err(DecisionError::OverBudget {
                total: pounds(total),
                budget: pounds(budget),
            });
        }
        for &(payer, limit) in &self.table().payer_limits {
            let put: f64 = levers
                .iter()
                .zip(amounts)
                .filter(|(l, _)| l.payer == payer)
                .map(|(_, a)| a)
                .sum();
            if put > limit + 0.5 {
                return Err(DecisionError::PayerLimit {
                    payer: payer.label().to_string(),
                    total: pounds(put),
                    limit: pounds(limit),
                });
            }
        }
        Ok(())
    }

    /// The scenario a path plays: `amounts[round][lever]` (£ for that year)
    /// for the rounds decided so far, and the shocks announced.
    pub fn scenario_for(
        &self,
        name: &str,
        amounts: &[Vec<f64>],
        shocks: &[Announced],
    ) -> Result<Loaded, GameError> {
        let levers = self.table().levers.len();
        let by_lever: Vec<Vec<f64>> = (0..levers)
            .map(|l| {
                let years: Vec<f64> = amounts.iter().map(|round| round[l]).collect();
                if years.is_empty() { vec![0.0] } else { years }
            })
            .collect();
        // A year not yet decided repeats the last; it is never simulated.
        let mut at = self.scenario.with_lever_budgets(name, &by_lever)?;
        let end = self.setup.rounds * 12;
        for a in shocks {
            let from_month = (a.round - 1) * 12 + 1;
            match &a.shock {
                Shock::CostOfLiving { multiplier } => at.config.shocks.push(ModelShock {
                    name: format!("Cost-of-living rise from round {}", a.round),
                    from_month,
                    to_month: end,
                    factor: RiskFactor::LowIncome,
                    prevalence_multiplier: *multiplier,
                }),
                Shock::ProviderFailure { service, share } => {
                    let service = at
                        .config
                        .episodes
                        .iter()
                        .position(|e| e.id == *service)
                        .ok_or_else(|| {
                            GameError::Setting(format!(
                                "a provider failure names {service}, which is not one of this place's services with places"
                            ))
                        })?;
                    at.config.provider_failures.push(ProviderFailure {
                        name: format!("Provider failure from round {}", a.round),
                        service,
                        from_month,
                        to_month: end,
                        places_lost: *share,
                    });
                }
                Shock::BudgetCut { .. } => {}
            }
        }
        Ok(at)
    }

    /// Each replicate's state at the end of the burn-in, before round 1:
    /// the same for every path, since no lever acts before month 1.
    pub fn burn_in(&self) -> Result<Snapshots, GameError> {
        let at = self.scenario_for("No change", &[], &[])?;
        let config = &at.config;
        Ok((0..self.setup.replicates)
            .into_par_iter()
            .map(|r| {
                let mut e = Engine::new(config, self.setup.seed, r);
                e.run_to(0);
                e.snapshot()
            })
            .collect())
    }

    /// Plays `round` (1-based) for every path: `paths[i]` is its amounts for
    /// rounds 1 to `round` and its replicates' states at the end of the
    /// round before (from [`Game::burn_in`] for round 1). The paths and
    /// their replicates run in parallel; the results do not depend on how
    /// many threads run them.
    pub fn play(
        &self,
        round: u32,
        shocks: &[Announced],
        paths: &[(&[Vec<f64>], &Snapshots)],
    ) -> Result<Vec<Played>, GameError> {
        assert!(
            round >= 1 && round <= self.setup.rounds,
            "a round of the game"
        );
        let scenarios: Vec<Loaded> = paths
            .iter()
            .map(|(amounts, _)| {
                assert_eq!(amounts.len(), round as usize, "an amount list a round");
                self.scenario_for("path", amounts, shocks)
            })
            .collect::<Result<_, _>>()?;
        let jobs: Vec<(&Loaded, &Snapshots)> =
            scenarios.iter().zip(paths.iter().map(|p| p.1)).collect();
        self.advance(round, &jobs)
    }

    /// Plays `round` for paths each with a scenario of its own (its amounts
    /// and shocks) from its replicates' states at the end of the round
    /// before; every path and replicate in parallel, in a fixed order.
    fn advance(
        &self,
        round: u32,
        paths: &[(&Loaded, &Snapshots)],
    ) -> Result<Vec<Played>, GameError> {
        let reps = self.setup.replicates as usize;
        let jobs: Vec<(usize, usize)> = (0..paths.len())
            .flat_map(|p| (0..reps).map(move |r| (p, r)))
            .collect();
        let done: Vec<Result<(Vec<u8>, crate::engine::ReplicateResult), SnapshotError>> = jobs
            .par_iter()
            .map(|&(p, r)| {
                let mut e = Engine::resume(&paths[p].0.config, &paths[p].1[r])?;
                e.run_to(round * 12);
                let bytes = e.snapshot();
                Ok((bytes, e.finish()))
            })
            .collect();
        let mut done = done.into_iter();
        let mut out = Vec::with_capacity(paths.len());
        for _ in paths {
            let mut played = Played {
                snapshots: Vec::with_capacity(reps),
                replicates: Vec::with_capacity(reps),
            };
            for _ in 0..reps {
                let (bytes, result) = done.next().expect("a job a replicate")?;
                played.snapshots.push(bytes);
                played.replicates.push(result);
            }
            out.push(played);
        }
        Ok(out)
    }

    /// A team's results at the end of `round`: the year just played and the
    /// game so far, each paired with the no-change path replicate by
    /// replicate.
    pub fn results(
        &self,
        round: u32,
        shocks: &[Announced],
        no_change: &Played,
        team: (&[Vec<f64>], &Played),
    ) -> Result<RoundResults, GameError> {
        let zeros = vec![vec![0.0; self.table().levers.len()]; round as usize];
        let base = self.scenario_for("No change", &zeros, shocks)?;
        let with = self.scenario_for("Team", team.0, shocks)?;
        Ok(results::round(
            self,
            round,
            (&base, no_change),
            (&with, team.1),
            team.0,
        ))
    }
}

/// The scenario file a game writes over the facilitator's choice: the
/// place at the chosen size, over the game's years.
fn game_file(setup: &Setup) -> String {
    format!(
        "# Written by Upstream for a learning simulation.\nextends = {}\nhorizon_years = {}\n\n[population]\nresidents = {}\n",
        toml::Value::String(setup.scenario.clone()),
        setup.rounds,
        setup.residents
    )
}

/// A team's results in each round of the game played so far (the practice
/// round set aside), round 1 first. A team that joined late has none for
/// the rounds before: its place was the no-change place then.
pub struct Standing<'a> {
    /// The team's name.
    pub name: &'a str,
    /// The first round it played.
    pub joined: u32,
    /// Its results, round 1 first.
    pub rounds: Vec<&'a RoundResults>,
}

impl<'a> Standing<'a> {
    /// A team's standing from its results in any order, the practice
    /// round's among them or not.
    pub fn new(
        name: &'a str,
        joined: u32,
        results: impl IntoIterator<Item = &'a RoundResults>,
    ) -> Standing<'a> {
        let mut rounds: Vec<&RoundResults> = results.into_iter().filter(|r| r.round > 0).collect();
        rounds.sort_by_key(|r| r.round);
        Standing {
            name,
            joined,
            rounds,
        }
    }

    /// Its results after the latest round it played.
    pub fn latest(&self) -> Option<&'a RoundResults> {
        self.rounds.last().copied()
    }

    /// A figure's mean by round over `played` rounds: 0 before the team
    /// joined (its place was no change's); `None` when a round it played
    /// has no results.
    pub fn by_round(
        &self,
        played: u32,
        figure: impl Fn(&RoundResults) -> crate::metrics::Band,
    ) -> Option<Vec<f64>> {
        (1..=played)
            .map(
                |round| match self.rounds.iter().find(|r| r.round == round) {
                    Some(r) => Some(figure(r).mean),
                    None if round < self.joined => Some(0.0),
                    None => None,
                },
            )
            .collect()
    }
}

/// The teams with results, best first on net present value so far (ties
/// by name), each with its place on crisis-months avoided (1: the most;
/// teams level share a place).
pub fn ranking<'s, 'a>(standings: &'s [Standing<'a>]) -> Vec<(&'s Standing<'a>, usize)> {
    let mut ranked: Vec<&Standing> = standings.iter().filter(|s| s.latest().is_some()).collect();
    let npv = |s: &Standing| s.latest().map_or(0.0, |r| r.npv_so_far.mean);
    let crisis = |s: &Standing| {
        s.latest()
            .map_or(0.0, |r| r.crisis_months_avoided_so_far.mean)
    };
    ranked.sort_by(|a, b| npv(b).total_cmp(&npv(a)).then_with(|| a.name.cmp(b.name)));
    ranked
        .iter()
        .map(|s| {
            let place = 1 + ranked.iter().filter(|o| crisis(o) > crisis(s)).count();
            (*s, place)
        })
        .collect()
}

/// A two-round game on the small two-lever borough of the tests'
/// fixtures, for the game's unit tests.
#[cfg(test)]
fn small_game() -> Game {
    small_game_sized(6_000)
}

/// As [`small_game`], with `residents` residents.
#[cfg(test)]
fn small_game_sized(residents: u32) -> Game {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = FileSet::new();
    for name in [
        "scenarios/baseline.toml",
        "tests/fixtures/small.toml",
        "tests/fixtures/small_portfolio.toml",
    ] {
        let text = std::fs::read_to_string(root.join(name)).unwrap();
        files.insert(name, text).unwrap();
    }
    let setup = Setup {
        scenario: "tests/fixtures/small_portfolio.toml".into(),
        rounds: 2,
        residents,
        replicates: 2,
        budget: None,
        seed: 11,
    };
    Game::new(&files, setup).unwrap()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::Band;

    fn results(round: u32, npv: f64, crisis: f64) -> RoundResults {
        let band = |v: f64| Band {
            mean: v,
            p5: v,
            p50: v,
            p95: v,
        };
        RoundResults {
            round,
            financial_year: "2026/27".into(),
            amounts: vec![],
            demand: vec![],
            payers: vec![],
            in_crisis: Pair {
                team: Band::default(),
                no_change: Band::default(),
                change: Band::default(),
            },
            npv_so_far: band(npv),
            probability_npv_positive: 0.5,
            crisis_months_avoided_so_far: band(crisis),
            who_pays_so_far: vec![],
            mtfs: vec![],
        }
    }

    #[test]
    fn teams_are_ranked_on_npv_with_their_place_on_crisis_months() {
        let (ash, birch, cedar, elm) = (
            [
                results(2, 30.0, 8.0),
                results(0, 9e9, 9e9),
                results(1, -10.0, 5.0),
            ],
            [results(1, 20.0, 1.0), results(2, 40.0, 2.0)],
            [results(2, 30.0, 9.0)],
            [results(0, 9e9, 9e9)],
        );
        let s = [
            Standing::new("Ash", 1, &ash),
            Standing::new("Birch", 1, &birch),
            Standing::new("Cedar", 2, &cedar),
            // Dale has no results; Elm only the practice round's, set aside.
            Standing::new("Dale", 1, []),
            Standing::new("Elm", 1, &elm),
        ];
        let ranked: Vec<(&str, usize)> = ranking(&s).iter().map(|(s, c)| (s.name, *c)).collect();
        // Ash and Cedar tie on NPV and go by name.
        assert_eq!(ranked, [("Birch", 3), ("Ash", 2), ("Cedar", 1)]);
        // The practice round is set aside and the rounds put in order.
        assert_eq!(
            s[0].rounds.iter().map(|r| r.round).collect::<Vec<_>>(),
            [1, 2]
        );
        assert_eq!(s[0].latest().map(|r| r.round), Some(2));
        // Cedar joined in round 2: its round 1 is no change's, 0.
        assert_eq!(s[2].by_round(2, |r| r.npv_so_far), Some(vec![0.0, 30.0]));
        assert_eq!(s[0].by_round(2, |r| r.npv_so_far), Some(vec![-10.0, 30.0]));
        // A team missing a round it played draws no line.
        assert_eq!(s[3].by_round(1, |r| r.npv_so_far), None);
        // Teams level on crisis-months share a place.
        let level = [
            results(1, 5.0, 3.0),
            results(1, 4.0, 3.0),
            results(1, 3.0, 1.0),
        ];
        let s: Vec<Standing> = level.iter().map(|r| Standing::new("x", 1, [r])).collect();
        let places: Vec<usize> = ranking(&s).iter().map(|(_, c)| *c).collect();
        assert_eq!(places, [1, 1, 3]);
    }
}
