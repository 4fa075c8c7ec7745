//! Shared burn-ins: scenarios that run the same burn-in (they differ only in
//! names and in interventions that do nothing before month 1) simulate it
//! once per replicate and carry it on into each. Every scenario's every
//! replicate then gives the same numbers, byte for byte, as running it alone
//! from the start, on any number of threads; scenarios whose burn-ins differ
//! (a programme already running, a service's places) run their own.

use std::path::{Path, PathBuf};

use upstream::engine::{Engine, run_replicate};
use upstream::model::Config;
use upstream::replicates::{self, Experiment, RunSettings};
use upstream::scenario::{self, Overrides};

fn load(path: &Path) -> Config {
    scenario::load_with(
        path,
        &Overrides {
            horizon_years: Some(2),
        },
    )
    .unwrap_or_else(|e| panic!("{e}"))
    .config
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// The bundled scenarios, the baseline first, each cut to `residents`.
fn bundled(residents: u32) -> Vec<Config> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort_by_key(|p| !p.ends_with("baseline.toml"));
    files
        .iter()
        .map(|p| {
            let mut c = load(p);
            c.population.residents = residents;
            c
        })
        .collect()
}

fn run(configs: &[Config], replicates: u32, threads: usize) -> Experiment {
    let refs: Vec<&Config> = configs.iter().collect();
    let settings = RunSettings {
        replicates,
        seed: 29,
        threads: Some(threads),
    };
    replicates::run(&refs, &settings, &|| {}).unwrap()
}

/// Every scenario's every replicate in `run` is what it gives alone, and
/// the burn-in resident-months shared are those of `carried` scenarios
/// carried on from another's burn-in in each replicate.
fn assert_as_alone(configs: &[Config], run: &Experiment, carried: u64) {
    let replicates = run.scenarios[0].replicates.len() as u32;
    let mut stands_for = 0;
    for (s, config) in configs.iter().enumerate() {
        for r in 0..replicates {
            let alone = run_replicate(config, 29, r);
            stands_for += alone.resident_months;
            assert!(
                run.scenarios[s].replicates[r as usize] == alone,
                "{} replicate {r} differs from its run alone",
                config.name
            );
        }
    }
    let slots = Engine::new(&configs[0], 29, 0).population().residents.len() as u64;
    let shared = carried * replicates as u64 * slots * configs[0].burn_in_months as u64;
    assert_eq!(run.burn_in_shared, shared);
    assert_eq!(run.resident_months + run.burn_in_shared, stands_for);
}

#[test]
fn the_bundled_comparison_shares_burn_ins_and_gives_what_each_scenario_gives_alone() {
    let configs = bundled(6_000);
    // Which scenarios run the baseline's burn-in is the rule's to say; the
    // test holds the rule to its promise and checks it is used at all.
    let carried = configs[1..]
        .iter()
        .filter(|c| configs[0].shares_burn_in_with(c))
        .count() as u64;
    assert!(carried >= 3, "most bundled scenarios only add programmes");
    assert!(
        configs.iter().any(|c| !configs[0].shares_burn_in_with(c)),
        "some bundled scenario changes what runs before month 1"
    );
    let two = run(&configs, 2, 2);
    assert_as_alone(&configs, &two, carried);
    let one = run(&configs, 2, 1);
    for (a, b) in one.scenarios.iter().zip(&two.scenarios) {
        assert!(a.replicates == b.replicates, "one thread and two differ");
    }
}

#[test]
fn a_programme_already_running_is_carried_on_wherever_the_scenario_lists_it() {
    let configs = bundled(3_000);
    let base = &configs[0];
    assert!(
        base.interventions.iter().any(|i| i.acts_in_burn_in()),
        "the baseline runs a programme from before month 1"
    );
    let mut engine = Engine::new(base, 29, 0);
    engine.run_to(0);
    assert!(
        engine
            .population()
            .residents
            .intervention
            .iter()
            .any(|&b| b != 0),
        "residents are in the running programme when the burn-in ends"
    );
    // A scenario that lists a new programme before the running one puts
    // them at other places: residents in the running one keep it.
    let added = configs
        .iter()
        .find_map(|c| {
            c.interventions
                .iter()
                .find(|i| !i.acts_in_burn_in() && !base.interventions.contains(i))
        })
        .expect("a bundled scenario adds a programme")
        .clone();
    let mut first = base.clone();
    first.name = "New programme listed first".into();
    first.interventions.insert(0, added.clone());
    let mut last = base.clone();
    last.name = "New programme listed last".into();
    last.interventions.push(added);
    // With no burn-in the starting population alone is shared.
    let mut unburnt: Vec<Config> = [base.clone(), first.clone(), last.clone()].to_vec();
    for c in &mut unburnt {
        c.burn_in_months = 0;
    }
    let set = [base.clone(), first, last];
    assert_as_alone(&set, &run(&set, 2, 2), 2);
    assert_as_alone(&unburnt, &run(&unburnt, 2, 2), 2);
}

#[test]
fn scenarios_share_a_burn_in_only_where_nothing_before_month_1_differs() {
    let base = load(&fixture("small.toml"));
    let hubs = load(&fixture("small_hubs.toml"));
    assert!(base.shares_burn_in_with(&hubs) && hubs.shares_burn_in_with(&base));
    let mut renamed = base.clone();
    renamed.name = "Another name".into();
    assert!(base.shares_burn_in_with(&renamed));
    // Anything else differs: the burn-in runs again, even for a setting it
    // does not read, so the rule errs towards simulating.
    type Change = fn(&mut Config);
    let differs: [(&str, Change); 6] = [
        ("horizon", |c| c.months += 12),
        ("burn-in", |c| c.burn_in_months += 1),
        ("residents", |c| c.population.residents += 1),
        ("warm start", |c| c.warm_start = !c.warm_start),
        ("a service's places", |c| c.episodes[0].capacity += 1),
        ("an event's unit cost", |c| c.events[0].unit_cost_pence += 1),
    ];
    for (what, change) in differs {
        let mut changed = base.clone();
        change(&mut changed);
        assert!(!base.shares_burn_in_with(&changed), "{what}");
        assert!(!changed.shares_burn_in_with(&base), "{what}");
    }
    // A shock from month 1 does nothing in burn-in, but is a setting.
    assert!(!base.shares_burn_in_with(&load(&fixture("small_shock.toml"))));
    // A programme already running acts in burn-in: without it, or with
    // another id (its random-number stream), the burn-in differs.
    let bundled = bundled(3_000);
    let running = bundled[0]
        .interventions
        .iter()
        .position(|i| i.acts_in_burn_in())
        .unwrap();
    let mut stopped = bundled[0].clone();
    stopped.interventions.remove(running);
    assert!(!bundled[0].shares_burn_in_with(&stopped));
    let mut other_id = bundled[0].clone();
    other_id.interventions[running].id.push_str("_2");
    assert!(!bundled[0].shares_burn_in_with(&other_id));
}

#[test]
#[should_panic(expected = "carried only into a scenario that shares it")]
fn a_burn_in_is_not_carried_before_it_is_done() {
    let base = load(&fixture("small.toml"));
    let hubs = load(&fixture("small_hubs.toml"));
    let _ = Engine::new(&base, 1, 0).carry_on(&hubs);
}

#[test]
#[should_panic(expected = "carried only into a scenario that shares it")]
fn a_burn_in_is_not_carried_once_the_horizon_has_begun() {
    let base = load(&fixture("small.toml"));
    let hubs = load(&fixture("small_hubs.toml"));
    let mut engine = Engine::new(&base, 1, 0);
    engine.run_to(1);
    let _ = engine.carry_on(&hubs);
}

#[test]
#[should_panic(expected = "carried only into a scenario that shares it")]
fn a_burn_in_is_not_carried_into_a_scenario_that_runs_another() {
    let base = load(&fixture("small.toml"));
    let mut bigger = base.clone();
    bigger.episodes[0].capacity += 5;
    let mut engine = Engine::new(&base, 1, 0);
    engine.run_to(0);
    let _ = engine.carry_on(&bigger);
}
