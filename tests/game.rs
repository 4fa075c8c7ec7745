//! The learning simulation's core: a team's year carries on from its last
//! (played round by round, a team's numbers are those of its amounts run
//! straight through, and its net present value so far is the one
//! `upstream run` gives the same amounts); a game replayed from its
//! recorded decisions gives the same results byte for byte on any number of
//! threads; a team that funds nothing is the no-change path exactly; a
//! shock acts from its round on; bad decisions and settings are refused.

use std::path::Path;

use upstream::app::{Plan, Request};
use upstream::engine::Engine;
use upstream::game::{Announced, DecisionError, Game, Played, RoundResults, Setup, Shock};
use upstream::scenario::FileSet;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const SCENARIO: &str = "tests/fixtures/small_portfolio.toml";

/// The files a game on the small two-lever borough needs, held in memory.
fn files() -> FileSet {
    let mut set = FileSet::new();
    for name in [
        "scenarios/baseline.toml",
        "tests/fixtures/small.toml",
        SCENARIO,
    ] {
        set.insert(
            name,
            std::fs::read_to_string(Path::new(ROOT).join(name)).unwrap(),
        )
        .unwrap();
    }
    set
}

fn setup(rounds: u32, replicates: u32) -> Setup {
    Setup {
        scenario: SCENARIO.into(),
        rounds,
        residents: 6_000,
        replicates,
        budget: None,
        seed: 7,
    }
}

/// Plays every round for the no-change path and `teams`, returning each
/// team's results round by round and the paths' final states.
fn play(
    game: &Game,
    teams: &[Vec<Vec<f64>>],
    shocks: &[Announced],
) -> (Vec<Vec<RoundResults>>, Vec<Played>) {
    let start = game.burn_in().unwrap();
    let levers = game.levers().len();
    let rounds = game.setup().rounds as usize;
    let zeros = vec![vec![0.0; levers]; rounds];
    let mut states: Vec<_> = (0..=teams.len()).map(|_| start.clone()).collect();
    let mut results = vec![Vec::new(); teams.len()];
    let mut last = Vec::new();
    for round in 1..=rounds {
        let amounts: Vec<&[Vec<f64>]> = std::iter::once(&zeros[..round])
            .chain(teams.iter().map(|t| &t[..round]))
            .collect();
        let paths: Vec<_> = amounts.iter().copied().zip(&states).collect();
        let played = game.play(round as u32, shocks, &paths).unwrap();
        for (t, team) in teams.iter().enumerate() {
            results[t].push(
                game.results(
                    round as u32,
                    shocks,
                    &played[0],
                    (&team[..round], &played[t + 1]),
                )
                .unwrap(),
            );
        }
        states = played.iter().map(|p| p.snapshots.clone()).collect();
        last = played;
    }
    (results, last)
}

#[test]
fn a_team_played_round_by_round_matches_its_amounts_run_straight_through() {
    let game = Game::new(&files(), setup(3, 2)).unwrap();
    let team = vec![
        vec![60_000.0, 90_000.0],
        vec![150_000.0, 0.0],
        vec![30_000.0, 20_000.0],
    ];
    let (results, played) = play(&game, std::slice::from_ref(&team), &[]);

    // The engine, straight through the three years under the same amounts.
    let straight = game.scenario_for("Team", &team, &[]).unwrap();
    for (r, got) in played[1].replicates.iter().enumerate() {
        let want = Engine::new(&straight.config, 7, r as u32).run();
        assert_eq!(got.raw, want.raw, "replicate {r}");
    }

    // `upstream run` on the same amounts, written as scenario files.
    let tmp = tempfile::tempdir().unwrap();
    let write = |file: &str, strong: &str, none: &str| {
        let text = format!(
            "name = {file:?}\nextends = {:?}\nhorizon_years = 3\n[population]\nresidents = 6_000\n\
             [interventions.strong]\nannual_budget = {strong}\n[interventions.none]\nannual_budget = {none}\n",
            Path::new(ROOT).join(SCENARIO)
        );
        let path = tmp.path().join(file);
        std::fs::write(&path, text).unwrap();
        path
    };
    let request = Request {
        scenarios: vec![
            write("no_change.toml", "[0]", "[0]"),
            write(
                "team.toml",
                "[60_000, 150_000, 30_000]",
                "[90_000, 0, 20_000]",
            ),
        ],
        replicates: 2,
        seed: 7,
        threads: Some(2),
        ..Request::default()
    };
    let outcome = Plan::new(&request).unwrap().run(&|| {}).unwrap();
    let run = &outcome.economics.appraisals[0];
    let last = results[0].last().unwrap();
    assert_eq!(last.npv_so_far, run.npv);
    assert_eq!(last.crisis_months_avoided_so_far, run.crisis_months_avoided);
    assert_eq!(last.who_pays_so_far, run.who_pays);
    assert_eq!(last.amounts, vec![30_000.0, 20_000.0]);
    // Each round's medium-term financial strategy is budget.csv's payer
    // total for the financial year the round ended, as the run gives it.
    for (round, r) in results[0].iter().enumerate() {
        assert!(!r.mtfs.is_empty(), "the baseline sets children's budgets");
        for m in &r.mtfs {
            assert_eq!(m.financial_year, r.financial_year);
            let row = outcome
                .economics
                .budget
                .iter()
                .find(|b| {
                    b.scenario == run.scenario
                        && b.financial_year == m.financial_year
                        && b.payer.name() == m.payer
                        && b.line == upstream::economics::budget::TOTAL_REVENUE
                })
                .unwrap();
            assert_eq!(
                (m.saving, m.beyond_target, m.headroom, m.savings_target),
                (
                    row.saving,
                    row.beyond_target,
                    row.headroom,
                    row.savings_target
                ),
                "round {}",
                round + 1
            );
        }
    }
    // Money went where the amounts said: housing funds `strong`, the police
    // `none`, £150k in round 2 with nothing from the police.
    let housing = |r: &RoundResults| {
        r.payers
            .iter()
            .find(|p| p.payer == "housing")
            .unwrap()
            .spend
            .change
            .mean
    };
    assert!((housing(&results[0][1]) - 150_000.0).abs() < 1.0);
    assert!((housing(&results[0][0]) - 60_000.0).abs() < 1.0);
}

#[test]
fn a_replayed_game_gives_the_same_results_byte_for_byte_on_any_threads() {
    let game = Game::new(&files(), setup(2, 2)).unwrap();
    let teams = vec![
        vec![vec![90_000.0, 60_000.0], vec![90_000.0, 60_000.0]],
        vec![vec![0.0, 150_000.0], vec![45_000.0, 0.0]],
    ];
    let shocks = [Announced {
        round: 2,
        shock: Shock::CostOfLiving { multiplier: 1.3 },
    }];
    let on = |threads| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        let (results, played) = pool.install(|| play(&game, &teams, &shocks));
        (
            serde_json::to_string(&results).unwrap(),
            played.into_iter().map(|p| p.snapshots).collect::<Vec<_>>(),
        )
    };
    let one = on(1);
    assert_eq!(one, on(2));
    assert_eq!(one, on(3));
    // The teams' decisions made a difference: their results differ.
    let (results, _) = play(&game, &teams, &shocks);
    assert_ne!(results[0][1].npv_so_far, results[1][1].npv_so_far);
}

#[test]
fn a_team_that_funds_nothing_is_the_no_change_path() {
    let game = Game::new(&files(), setup(2, 2)).unwrap();
    let (results, played) = play(&game, &[vec![vec![0.0, 0.0]; 2]], &[]);
    for (a, b) in played[0].replicates.iter().zip(&played[1].replicates) {
        assert_eq!(a.raw, b.raw);
    }
    for r in &results[0] {
        assert_eq!(r.npv_so_far.mean, 0.0);
        assert_eq!(r.crisis_months_avoided_so_far.p95, 0.0);
        assert_eq!(r.in_crisis.change.p5, 0.0);
        assert_eq!(r.in_crisis.change.p95, 0.0);
        for d in &r.demand {
            assert_eq!(
                (d.count.change.p5, d.count.change.p95),
                (0.0, 0.0),
                "{}",
                d.service
            );
            assert!(
                d.count.team.mean > 0.0 || d.measure == "entries",
                "{}",
                d.service
            );
        }
    }
}

#[test]
fn a_shock_acts_from_its_round_on_and_alike_for_every_team() {
    let game = Game::new(&files(), setup(2, 2)).unwrap();
    let teams = [
        vec![vec![90_000.0, 60_000.0]; 2],
        vec![vec![0.0, 150_000.0]; 2],
    ];
    let calm = play(&game, &teams, &[]).0;
    let shocks = [Announced {
        round: 2,
        shock: Shock::CostOfLiving { multiplier: 1.5 },
    }];
    let hit = play(&game, &teams, &shocks).0;
    for t in 0..2 {
        assert_eq!(calm[t][0], hit[t][0], "round 1 is before the shock");
    }
    // Every team's place meets the same shock: their no-change paths agree.
    assert_eq!(hit[0][1].in_crisis.no_change, hit[1][1].in_crisis.no_change);
    let crisis = |r: &RoundResults| r.in_crisis.no_change.mean;
    assert_ne!(calm[0][1], hit[0][1]);
    assert!(
        crisis(&hit[0][1]) > crisis(&calm[0][1]),
        "more residents on low incomes, more in crisis: {} against {}",
        crisis(&hit[0][1]),
        crisis(&calm[0][1])
    );

    // A provider failure from round 2: care homes lose half their places,
    // so the same residents are placed at spot prices.
    let care = "adult_residential_care";
    assert!(game.services_with_places().iter().any(|(id, _)| id == care));
    let failure = [Announced {
        round: 2,
        shock: Shock::ProviderFailure {
            service: care.into(),
            share: 0.5,
        },
    }];
    let failed = play(&game, &teams, &failure).0;
    let cost = |r: &RoundResults| {
        r.payers
            .iter()
            .find(|p| p.payer == "adult_social_care")
            .unwrap()
            .reactive_cost
            .no_change
            .mean
    };
    let entries = |r: &RoundResults| {
        r.demand
            .iter()
            .find(|d| d.service == care)
            .unwrap()
            .count
            .clone()
    };
    for t in 0..2 {
        assert_eq!(calm[t][0], failed[t][0], "round 1 is before the failure");
        assert_eq!(entries(&calm[t][1]), entries(&failed[t][1]));
    }
    assert_eq!(
        failed[0][1].in_crisis.no_change,
        failed[1][1].in_crisis.no_change
    );
    assert!(
        cost(&failed[0][1]) > cost(&calm[0][1]),
        "spot places cost more: {} against {}",
        cost(&failed[0][1]),
        cost(&calm[0][1])
    );
    let unknown = [Announced {
        round: 1,
        shock: Shock::ProviderFailure {
            service: "hospital".into(),
            share: 0.5,
        },
    }];
    assert!(
        game.scenario_for("x", &[], &unknown)
            .unwrap_err()
            .to_string()
            .contains("not one of this place's services with places")
    );
}

#[test]
fn bad_decisions_are_refused_with_what_is_wrong() {
    let game = Game::new(&files(), setup(2, 1)).unwrap();
    assert_eq!(game.budget_in(1, &[]), 150_000.0);
    assert_eq!(game.check(1, &[], &[90_000.0, 60_000.0]), Ok(()));
    assert_eq!(game.check(1, &[], &[0.0, 0.0]), Ok(()));
    assert_eq!(
        game.check(1, &[], &[1.0]),
        Err(DecisionError::Levers {
            expected: 2,
            found: 1
        })
    );
    let refused = |amounts: &[f64], shocks: &[Announced]| {
        game.check(2, shocks, amounts).unwrap_err().to_string()
    };
    assert_eq!(
        refused(&[-1.0, 0.0], &[]),
        "Strong help: expected an amount of £0 or more, found -1"
    );
    assert_eq!(
        refused(&[0.0, f64::NAN], &[]),
        "Help with no effect: expected an amount of £0 or more, found NaN"
    );
    assert_eq!(
        refused(&[60_000.0, 100_000.0], &[]),
        "the amounts add up to £160,000, more than this round's budget of £150,000"
    );
    assert!(
        refused(&[100_000.0, 0.0], &[])
            .starts_with("Housing would put in £100,000, more than its limit of £90,000")
    );
    // A cut from round 2 leaves round 1 alone.
    let cut = [Announced {
        round: 2,
        shock: Shock::BudgetCut { share: 0.2 },
    }];
    assert_eq!(game.budget_in(1, &cut), 150_000.0);
    assert_eq!(game.budget_in(2, &cut), 120_000.0);
    assert_eq!(game.check(1, &cut, &[90_000.0, 60_000.0]), Ok(()));
    assert_eq!(
        refused(&[90_000.0, 60_000.0], &cut),
        "the amounts add up to £150,000, more than this round's budget of £120,000"
    );
}

#[test]
fn bad_settings_are_refused_with_what_is_wrong() {
    let refused = |s: Setup| Game::new(&files(), s).unwrap_err().to_string();
    assert_eq!(
        refused(Setup {
            rounds: 0,
            ..setup(1, 1)
        }),
        "rounds: expected 1 to 10, found 0"
    );
    assert_eq!(
        refused(Setup {
            residents: 100,
            ..setup(1, 1)
        }),
        "residents: expected 5000 to 100000, found 100"
    );
    assert_eq!(
        refused(Setup {
            replicates: 17,
            ..setup(1, 1)
        }),
        "replicates: expected 1 to 16, found 17"
    );
    assert!(
        refused(Setup {
            scenario: "tests/fixtures/small.toml".into(),
            ..setup(1, 1)
        })
        .contains("a game needs an [optimise] table")
    );
    assert!(
        refused(Setup {
            budget: Some(-5.0),
            ..setup(1, 1)
        })
        .starts_with("budget:")
    );
    // A scenario outside the game's files is not read.
    let outside = refused(Setup {
        scenario: "/etc/passwd".into(),
        ..setup(1, 1)
    });
    assert!(
        outside.contains("/etc/passwd is outside the files given with the scenario"),
        "{outside}"
    );
}

/// The bundled scenarios, as `upstream serve` offers them.
fn bundled() -> FileSet {
    let mut set = FileSet::new();
    for e in std::fs::read_dir(Path::new(ROOT).join("scenarios")).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "toml") {
            let name = p.file_name().unwrap().to_str().unwrap().to_string();
            set.insert(&name, std::fs::read_to_string(&p).unwrap())
                .unwrap();
        }
    }
    set
}

/// The game as `upstream serve` sets it up by default (the bundled
/// portfolio, 20,000 residents, three rounds, four replicates) gives a team
/// the budget the scenario writes for its 200,000 residents in proportion
/// (£1.5m becomes £150k), and some allocation beats no change on both net
/// present value and crisis-months: at ten times the spend per resident,
/// every allocation once lost money and the team that spent least led
/// (issue 37, fault 18).
#[test]
fn in_the_default_game_some_allocation_beats_no_change() {
    let game = Game::new(
        &bundled(),
        Setup {
            scenario: "prevention_portfolio.toml".into(),
            rounds: 3,
            residents: 20_000,
            replicates: 4,
            budget: None,
            seed: 7,
        },
    )
    .unwrap();
    let b = game.budget_in(1, &[]);
    assert_eq!(b, 150_000.0);
    // The payers' limits scale too: housing's £750k is £75k here.
    let too_much_housing = game.check(1, &[], &[b, 0.0, 0.0]);
    assert!(
        too_much_housing.is_err_and(|e| e.to_string().contains("£75,000")),
        "housing funds the hubs, within its limit"
    );
    // As written (half, a quarter, a quarter), and each lever alone within
    // the payers' limits.
    let splits: Vec<[f64; 3]> = vec![
        [b * 0.5, b * 0.25, b * 0.25],
        [b * 0.5, 0.0, 0.0],
        [0.0, b, 0.0],
        [0.0, 0.0, b],
    ];
    let teams: Vec<Vec<Vec<f64>>> = splits.iter().map(|s| vec![s.to_vec(); 3]).collect();
    let (results, _) = play(&game, &teams, &[]);
    let beats = |r: &Vec<RoundResults>| {
        let last = r.last().unwrap();
        last.npv_so_far.mean > 0.0 && last.crisis_months_avoided_so_far.mean > 0.0
    };
    assert!(
        results.iter().any(beats),
        "{:?}",
        results
            .iter()
            .map(|r| (
                r.last().unwrap().npv_so_far.mean,
                r.last().unwrap().crisis_months_avoided_so_far.mean
            ))
            .collect::<Vec<_>>()
    );
}
