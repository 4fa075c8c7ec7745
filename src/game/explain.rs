//! What each of a team's levers, and each shock, did to its game so far,
//! found the way only a simulation can: by replaying the team's place on
//! the same luck without that lever (all its rounds at £0), and without
//! that shock. A lever's effect is the team's result less the result
//! replayed without it; what the levers did together beyond their own
//! effects is the remainder, so the effects and the remainder add up to
//! the team's result exactly. A shock's effect is the team's result less
//! its result had the shock not happened (each against a no-change place
//! without it), and the shock's cost is what it added to the no-change
//! place itself.
//!
//! A budget cut changes what teams could spend, not the place: there is
//! nothing to replay, so its effect is in the decisions teams made.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::{Announced, Game, GameError, Played, RoundResults, Shock, Snapshots, results};
use crate::scenario::Loaded;

/// Two figures of a team's game so far, each a mean over the replicates.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Figures {
    /// Net present value against no change, £ (as
    /// [`RoundResults::npv_so_far`]).
    pub npv: f64,
    /// Resident-months in crisis avoided (as
    /// [`RoundResults::crisis_months_avoided_so_far`]).
    pub crisis_months: f64,
}

impl Figures {
    fn of(r: &RoundResults) -> Figures {
        Figures {
            npv: r.npv_so_far.mean,
            crisis_months: r.crisis_months_avoided_so_far.mean,
        }
    }

    fn less(self, other: Figures) -> Figures {
        Figures {
            npv: self.npv - other.npv,
            crisis_months: self.crisis_months - other.crisis_months,
        }
    }
}

/// What one team's levers and the shocks did to its game so far.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TeamEffects {
    /// Its result: the game so far against no change.
    pub result: Figures,
    /// Each lever's effect, in lever order: the result less the result
    /// replayed without the lever. A lever it never funded did nothing.
    pub levers: Vec<Figures>,
    /// The result less the levers' effects: what they did together beyond
    /// each alone (one lever's reach overlapping another's, or adding to
    /// it).
    pub together: Figures,
    /// Each replayed shock's effect on the result, in the order of
    /// [`Explanation::shocks`]: the result less the result had the shock
    /// not happened.
    pub shocks: Vec<Figures>,
}

/// What a shock did to the no-change place over the game so far.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ShockCost {
    /// The shock's place in the game's list of shocks.
    pub index: usize,
    /// Reactive cost it added, all payers, £ at the scenario's prices,
    /// undiscounted (a mean over the replicates).
    pub cost: f64,
    /// Resident-months in crisis it added (a mean over the replicates).
    pub crisis_months: f64,
}

/// The debrief's explanation of every team's game so far.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Explanation {
    /// The last round it covers: rounds 1 to this.
    pub round: u32,
    /// The shocks replayed (those in force that change the place), each
    /// with its cost to the no-change place.
    pub shocks: Vec<ShockCost>,
    /// Each team's effects, in the order the teams were given.
    pub teams: Vec<TeamEffects>,
}

/// A path to replay: its amounts round by round, the shocks it meets (by
/// their place in the game's list), and the path it is compared with: the
/// no-change place that meets the same shocks.
struct Path {
    amounts: Vec<Vec<f64>>,
    shocks: Vec<usize>,
    base: usize,
}

impl Game {
    /// Explains rounds 1 to `round` for teams whose amounts are `teams[t]`
    /// (`[round][lever]`, £0 for a round a team did not fund), under the
    /// game's `shocks`. Replays every path from the burn-in on the same
    /// luck, in parallel; the result does not depend on the threads.
    pub fn explain(
        &self,
        round: u32,
        shocks: &[Announced],
        teams: &[Vec<Vec<f64>>],
    ) -> Result<Explanation, GameError> {
        assert!(
            round >= 1 && round <= self.setup.rounds,
            "a round of the game"
        );
        let levers = self.table().levers.len();
        let in_force: Vec<usize> = (0..shocks.len())
            .filter(|&i| shocks[i].round <= round)
            .collect();
        let replayed: Vec<usize> = in_force
            .iter()
            .copied()
            .filter(|&i| !matches!(shocks[i].shock, Shock::BudgetCut { .. }))
            .collect();
        let without = |s: usize| in_force.iter().copied().filter(|&i| i != s).collect();
        let zeros = vec![vec![0.0; levers]; round as usize];
        // Paths 0 to replayed.len(): no change, then no change without
        // each replayed shock. Then, team by team: the team, the team
        // without each lever it funded, the team without each shock.
        let mut paths: Vec<Path> = std::iter::once(in_force.clone())
            .chain(replayed.iter().map(|&s| without(s)))
            .enumerate()
            .map(|(base, shocks)| Path {
                amounts: zeros.clone(),
                shocks,
                base,
            })
            .collect();
        for amounts in teams {
            assert_eq!(amounts.len(), round as usize, "an amount list a round");
            paths.push(Path {
                amounts: amounts.clone(),
                shocks: in_force.clone(),
                base: 0,
            });
            for l in funded(amounts) {
                let mut less = amounts.clone();
                for year in &mut less {
                    year[l] = 0.0;
                }
                paths.push(Path {
                    amounts: less,
                    shocks: in_force.clone(),
                    base: 0,
                });
            }
            for (k, &s) in replayed.iter().enumerate() {
                paths.push(Path {
                    amounts: amounts.clone(),
                    shocks: without(s),
                    base: 1 + k,
                });
            }
        }
        let (scenarios, played) = self.replay(round, shocks, &paths)?;
        let results: Vec<RoundResults> = (0..paths.len())
            .into_par_iter()
            .map(|p| {
                let base = paths[p].base;
                results::round(
                    self,
                    round,
                    (&scenarios[base], &played[base]),
                    (&scenarios[p], &played[p]),
                    &paths[p].amounts,
                )
            })
            .collect();
        let shock_costs = replayed
            .iter()
            .enumerate()
            .map(|(k, &index)| {
                let months = round as usize * 12;
                let (with_cost, with_crisis) = results::burden(&scenarios[0], &played[0], months);
                let (cost, crisis) = results::burden(&scenarios[1 + k], &played[1 + k], months);
                ShockCost {
                    index,
                    cost: with_cost - cost,
                    crisis_months: with_crisis - crisis,
                }
            })
            .collect();
        let mut next = 1 + replayed.len();
        let mut effects = Vec::with_capacity(teams.len());
        for amounts in teams {
            let result = Figures::of(&results[next]);
            next += 1;
            let mut by_lever = vec![Figures::default(); levers];
            for l in funded(amounts) {
                by_lever[l] = result.less(Figures::of(&results[next]));
                next += 1;
            }
            let together = by_lever.iter().fold(result, |left, e| left.less(*e));
            let by_shock = replayed
                .iter()
                .map(|_| {
                    next += 1;
                    result.less(Figures::of(&results[next - 1]))
                })
                .collect();
            effects.push(TeamEffects {
                result,
                levers: by_lever,
                together,
                shocks: by_shock,
            });
        }
        Ok(Explanation {
            round,
            shocks: shock_costs,
            teams: effects,
        })
    }

    /// Plays every path from the burn-in to the end of `round`, a round at
    /// a time as the game itself did, each round meeting only the shocks
    /// announced for it or before: the scenarios of the last round, and
    /// what each path recorded.
    fn replay(
        &self,
        round: u32,
        shocks: &[Announced],
        paths: &[Path],
    ) -> Result<(Vec<Loaded>, Vec<Played>), GameError> {
        let start = self.burn_in()?;
        let mut states: Vec<Snapshots> = vec![start; paths.len()];
        let mut last = (Vec::new(), Vec::new());
        for r in 1..=round {
            let scenarios: Vec<Loaded> = paths
                .iter()
                .map(|p| {
                    let met: Vec<Announced> = p
                        .shocks
                        .iter()
                        .filter(|&&i| shocks[i].round <= r)
                        .map(|&i| shocks[i].clone())
                        .collect();
                    self.scenario_for("path", &p.amounts[..r as usize], &met)
                })
                .collect::<Result<_, _>>()?;
            let jobs: Vec<(&Loaded, &Snapshots)> = scenarios.iter().zip(&states).collect();
            let mut played = self.advance(r, &jobs)?;
            states = played
                .iter_mut()
                .map(|p| std::mem::take(&mut p.snapshots))
                .collect();
            last = (scenarios, played);
        }
        Ok(last)
    }
}

/// The levers a team put money into in any round.
fn funded(amounts: &[Vec<f64>]) -> Vec<usize> {
    let levers = amounts.first().map_or(0, Vec::len);
    (0..levers)
        .filter(|&l| amounts.iter().any(|year| year[l] > 0.0))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::game::small_game as game;

    /// Each team's figures after every round, played as the game plays.
    fn play(game: &Game, teams: &[Vec<Vec<f64>>], shocks: &[Announced]) -> Vec<Vec<Figures>> {
        let start = game.burn_in().unwrap();
        let zeros = vec![vec![0.0; 2]; 2];
        let mut states = vec![start; teams.len() + 1];
        let mut out = vec![Vec::new(); teams.len()];
        for round in 1..=2usize {
            let paths: Vec<(&[Vec<f64>], &Snapshots)> = std::iter::once(&zeros[..round])
                .chain(teams.iter().map(|t| &t[..round]))
                .zip(&states)
                .collect();
            let met: Vec<Announced> = shocks
                .iter()
                .filter(|a| a.round as usize <= round)
                .cloned()
                .collect();
            let played = game.play(round as u32, &met, &paths).unwrap();
            for (t, team) in teams.iter().enumerate() {
                let r = game
                    .results(
                        round as u32,
                        &met,
                        &played[0],
                        (&team[..round], &played[t + 1]),
                    )
                    .unwrap();
                out[t].push(Figures::of(&r));
            }
            states = played.into_iter().map(|p| p.snapshots).collect();
        }
        out
    }

    #[test]
    fn each_lever_and_shock_is_its_place_replayed_without_it_on_the_same_luck() {
        let game = game();
        let shocks = [
            Announced {
                round: 2,
                shock: Shock::CostOfLiving { multiplier: 1.5 },
            },
            Announced {
                round: 2,
                shock: Shock::BudgetCut { share: 0.1 },
            },
        ];
        let both = vec![vec![60_000.0, 90_000.0], vec![90_000.0, 30_000.0]];
        let only_strong = vec![vec![0.0, 0.0], vec![50_000.0, 0.0]];
        let nothing = vec![vec![0.0; 2]; 2];
        // `both` less its second lever, played as a team of its own.
        let both_less_none = vec![vec![60_000.0, 0.0], vec![90_000.0, 0.0]];
        let teams = [both.clone(), only_strong, nothing, both_less_none];
        let played = play(&game, &teams, &shocks);
        let explained = game.explain(2, &shocks, &teams).unwrap();
        assert_eq!(explained.round, 2);
        assert_eq!(explained.teams.len(), 4);
        // Replayed, every team's result is the one the game gave it.
        for (t, e) in explained.teams.iter().enumerate() {
            assert_eq!(e.result, played[t][1], "team {t}");
        }
        let [both_e, strong_e, nothing_e, less_e] = &explained.teams[..] else {
            unreachable!()
        };
        // A lever's effect is the result less the result without it: here
        // a team that played exactly that.
        assert_eq!(both_e.levers[1], both_e.result.less(less_e.result));
        assert_ne!(both_e.levers[0], Figures::default());
        // The effects and the remainder add up to the result.
        let sum = both_e.levers.iter().fold(both_e.together, |s, e| Figures {
            npv: s.npv + e.npv,
            crisis_months: s.crisis_months + e.crisis_months,
        });
        assert!((sum.npv - both_e.result.npv).abs() < 1e-6 * both_e.result.npv.abs().max(1.0));
        assert!((sum.crisis_months - both_e.result.crisis_months).abs() < 1e-9);
        // One lever funded: it did everything, with nothing left over;
        // the lever never funded did nothing.
        assert_eq!(strong_e.levers[0], strong_e.result);
        assert_eq!(strong_e.levers[1], Figures::default());
        assert_eq!(strong_e.together, Figures::default());
        assert_ne!(strong_e.result, Figures::default());
        // Funding nothing is no change, with or without the shock.
        assert_eq!(nothing_e.result, Figures::default());
        assert_eq!(nothing_e.shocks, [Figures::default()]);
        // Only the cost-of-living rise changes the place; it added crisis
        // to the no-change place, and changed its cost (in a year of a
        // small place, by less than the luck does, either way).
        assert_eq!(explained.shocks.len(), 1);
        let rise = &explained.shocks[0];
        assert_eq!(rise.index, 0);
        assert!(rise.crisis_months > 0.0 && rise.cost != 0.0, "{rise:?}");
        // A shock's effect is the result less the result had it not
        // happened: the same teams played without it.
        let calm = play(&game, &teams[..1], &shocks[1..]);
        assert_eq!(both_e.shocks[0], both_e.result.less(calm[0][1]));
        // After round 1 the round-2 shocks are not yet in force.
        let first = game.explain(1, &shocks, &[both[..1].to_vec()]).unwrap();
        assert!(first.shocks.is_empty() && first.teams[0].shocks.is_empty());
        assert_eq!(first.teams[0].result, played[0][0]);
    }
}
