//! Properties the model must have, checked through the library.

use std::path::Path;

use upstream::engine::{Engine, run_replicate};
use upstream::metrics::Layout;
use upstream::model::hazards::transition_probs;
use upstream::model::*;
use upstream::scenario;

fn load(rel: &str) -> Config {
    scenario::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join(rel))
        .expect("fixture loads")
        .config
}

#[test]
fn no_resident_is_lost_or_duplicated_and_every_count_reconciles() {
    let config = load("tests/fixtures/small_hubs.toml");
    let mut engine = Engine::new(&config, 11, 0);
    engine.check_invariants().unwrap();
    // Three years past burn-in: covers yearly turnover, enrolment, episodes.
    for _ in 0..config.burn_in_months + 36 {
        engine.step();
        engine
            .check_invariants()
            .unwrap_or_else(|e| panic!("month {}: {e}", engine.months_run()));
    }
    let tv = engine.turnover();
    assert!(
        tv.deaths > 0 && tv.births > 0 && tv.moves_in > 0 && tv.moves_out > 0,
        "{tv:?}"
    );
}

#[test]
fn counts_add_up_to_the_population_every_month() {
    let config = load("tests/fixtures/small.toml");
    let layout = Layout::new(&config);
    let result = run_replicate(&config, 3, 1);
    let n = layout.len();
    assert_eq!(result.raw.len(), n * config.months as usize);
    for month in result.raw.chunks(n) {
        let by_need: i64 = (0..NEED_LEVELS).map(|l| month[layout.need + l]).sum();
        assert_eq!(by_need, month[layout.residents]);
        assert_eq!(month[layout.residents], config.population.residents as i64);
        for (i, v) in month.iter().enumerate() {
            assert!(*v >= 0, "{} is negative: {v}", layout.defs[i].name);
        }
        // Revenue cost reconciles: by payer, by service and in total.
        let payers: i64 = (0..Payer::ALL.len())
            .map(|p| month[layout.payer_reactive + p] + month[layout.payer_prevention + p])
            .sum();
        assert_eq!(payers, month[layout.total_cost]);
        // Each service's cost from its own activity and unit costs.
        for (s, svc) in config.events.iter().enumerate() {
            assert_eq!(
                month[layout.event_cost + s],
                month[layout.event_count + s] * svc.unit_cost_pence
            );
        }
        for (e, svc) in config.episodes.iter().enumerate() {
            let spot = month[layout.episode_spot + e];
            let in_house = month[layout.episode_occupancy + e] - spot;
            assert_eq!(
                month[layout.episode_cost + e],
                in_house * svc.monthly_cost_pence + spot * svc.spot_monthly_cost_pence
            );
        }
        let services: i64 = (0..config.events.len())
            .map(|s| month[layout.event_cost + s])
            .chain((0..config.episodes.len()).map(|e| month[layout.episode_cost + e]))
            .sum::<i64>()
            + month[layout.handoff_cost];
        assert_eq!(services, month[layout.reactive_cost]);
    }
}

#[test]
fn neighbourhood_totals_add_up_to_the_places_totals() {
    use upstream::metrics::NeighbourhoodMetric as Nb;
    // Hubs, and a queue for temporary accommodation, so that entries come
    // both straight into a place and from a waiting list.
    let mut config = load("tests/fixtures/small_hubs.toml");
    let ta = config
        .episodes
        .iter()
        .position(|e| e.id == "temporary_accommodation")
        .unwrap();
    config.episodes[ta].overflow = Overflow::Queue;
    config.episodes[ta].capacity = 3;
    // Two of its places owned, which cost the service nothing when
    // occupied: their in-house cost comes off the neighbourhoods by share.
    config.interventions.push(Intervention {
        id: "homes".into(),
        name: "Homes".into(),
        payer: Payer::Housing,
        start_month: 1,
        monthly_spend_by_year: vec![0],
        delivery: Delivery::Places {
            service: ta,
            places_by_year: vec![2],
            capital_cost_per_place_pence: 0,
            rent: Some((Payer::Dwp, 100_000)),
        },
    });
    let layout = Layout::new(&config);
    let result = run_replicate(&config, 4, 0);
    let n = layout.len();
    let over_months = |first: usize, count: usize| -> i64 {
        result
            .raw
            .chunks(n)
            .map(|month| month[first..first + count].iter().sum::<i64>())
            .sum()
    };
    let by_place = |m: Nb| -> i64 { result.neighbourhoods.iter().map(|nb| nb[m as usize]).sum() };
    let (events, episodes) = (config.events.len(), config.episodes.len());
    let interventions = config.interventions.len();
    for (m, place) in [
        (Nb::ResidentMonths, over_months(layout.residents, 1)),
        (Nb::CrisisMonths, over_months(layout.need + 3, 1)),
        (Nb::StrugglingMonths, over_months(layout.need + 2, 1)),
        (Nb::ServiceEvents, over_months(layout.event_count, events)),
        (
            Nb::EpisodeEntries,
            over_months(layout.episode_entries, episodes),
        ),
        (Nb::ReactiveCost, over_months(layout.reactive_cost, 1)),
        (
            Nb::PeopleReached,
            over_months(layout.iv_reached, interventions),
        ),
        (Nb::ConnectedMonths, over_months(layout.connected, 1)),
    ] {
        assert!(place > 0, "{}: the test needs some", m.name());
        assert_eq!(by_place(m), place, "{}", m.name());
    }
    let waited = over_months(layout.episode_waiting + ta, 1);
    assert!(waited > 0, "the test needs residents waiting");
    let rent = over_months(layout.iv_rent[config.interventions.len() - 1].unwrap(), 1);
    assert!(rent > 0, "the test needs owned places occupied");
    // Each month: occupied owned places earn rent instead of costing the
    // in-house price, and recover no subsidy; the other places do both.
    let svc = &config.episodes[ta];
    let (_, recovered_pence) = svc.recovered.expect("the baseline recovers subsidy");
    for month in result.raw.chunks(n) {
        let owned = month[layout.iv_rent[config.interventions.len() - 1].unwrap()] / 100_000;
        let spot = month[layout.episode_spot + ta];
        let in_house = month[layout.episode_occupancy + ta] - spot;
        assert!((0..=2.min(in_house)).contains(&owned));
        assert_eq!(
            month[layout.episode_cost + ta],
            (in_house - owned) * svc.monthly_cost_pence + spot * svc.spot_monthly_cost_pence
        );
        assert_eq!(
            month[layout.episode_recovered[ta].unwrap()],
            (in_house - owned + spot) * recovered_pence
        );
    }
}

/// A config where need levels follow one birth–death chain for everyone:
/// no risk factors, no household stress, no assets, no interventions, no
/// turnover, no age effect.
fn independent_chain(residents: u32, months: u32) -> Config {
    let mut c = load("tests/fixtures/small.toml");
    c.population.residents = residents;
    c.population.turnover = false;
    c.months = months;
    c.burn_in_months = 0;
    for r in c.risks.iter_mut() {
        r.prevalence_most_deprived = 0.0;
        r.prevalence_least_deprived = 0.0;
    }
    c.household_stress = [1.0; 3];
    c.need.age_escalation_multiplier = [1.0; AGE_BANDS];
    c.assets.base_places_per_1000 = 0.0;
    c.interventions.clear();
    c.shocks.clear();
    c
}

/// The chain's one-month transition matrix, from the same competing-risk rule.
fn matrix(need: &NeedSpec) -> [[f64; 4]; 4] {
    let mut p = [[0.0; 4]; 4];
    for i in 0..4 {
        let (up, down) = transition_probs(need, i, 1.0, 1.0);
        if i < 3 {
            p[i][i + 1] = up;
        }
        if i > 0 {
            p[i][i - 1] = down;
        }
        p[i][i] = 1.0 - up - down;
    }
    p
}

#[test]
fn need_levels_follow_the_birth_death_chain_to_its_stationary_distribution() {
    let n = 100_000u32;
    let months = 240;
    let mut config = independent_chain(n, months);
    // Everyone starts thriving: adults living alone, spread over the
    // neighbourhoods.
    let places = config.population.neighbourhoods.len();
    config.population.starting = Some(
        (0..n as usize)
            .map(|i| StartingHousehold {
                neighbourhood: i * places / n as usize,
                members: vec![StartingResident {
                    age: 40,
                    need: 0,
                    risk_mask: 0,
                }],
            })
            .collect(),
    );
    let p = matrix(&config.need);
    // Closed form by detailed balance: π[i+1] p[i+1][i] = π[i] p[i][i+1].
    let mut pi = [1.0, 0.0, 0.0, 0.0];
    for i in 0..3 {
        pi[i + 1] = pi[i] * p[i][i + 1] / p[i + 1][i];
    }
    let total: f64 = pi.iter().sum();
    let pi = pi.map(|x| x / total);

    let mut engine = Engine::new(&config, 5, 0);
    let mut dist = [1.0, 0.0, 0.0, 0.0];
    for t in 1..=months {
        engine.step();
        let mut next = [0.0; 4];
        for i in 0..4 {
            for j in 0..4 {
                next[j] += dist[i] * p[i][j];
            }
        }
        dist = next;
        if t % 12 == 0 {
            let mut counts = [0u32; 4];
            for &l in &engine.population().residents.need {
                counts[l as usize] += 1;
            }
            for l in 0..4 {
                let share = counts[l] as f64 / n as f64;
                // Five binomial standard errors: a fixed seed, so this cannot
                // flicker, and a wrong transition rule fails it by far more.
                let se = (dist[l] * (1.0 - dist[l]) / n as f64).sqrt();
                assert!(
                    (share - dist[l]).abs() < 5.0 * se + 1e-9,
                    "month {t}, level {l}: simulated {share:.5}, π₀Pᵗ {:.5} (±{:.5})",
                    dist[l],
                    5.0 * se
                );
            }
        }
    }
    // By month 240 the chain has reached its stationary distribution.
    for l in 0..4 {
        assert!(
            (dist[l] - pi[l]).abs() < 1e-6,
            "level {l}: {} vs {}",
            dist[l],
            pi[l]
        );
    }
    let engine_pi = upstream::model::hazards::stationary_need(&config, 1);
    for l in 0..4 {
        assert!((engine_pi[l] - pi[l]).abs() < 1e-12);
    }
}

/// A universal offer with a given effect on escalation.
fn with_prevention(escalation: f64) -> Config {
    let mut c = load("tests/fixtures/small_plain.toml");
    c.interventions.push(Intervention {
        id: "test".into(),
        name: "Test offer".into(),
        payer: Payer::VoluntarySector,
        start_month: 1,
        monthly_spend_by_year: vec![100_000],
        delivery: Delivery::Caseload {
            places_by_year: vec![600],
            targeting: Targeting {
                need_at_least: Some(NeedLevel::Coping),
                ..Targeting::default()
            },
            engagement: 0.9,
            dropout_per_month: 0.0,
            support_months: 6,
            ramp_up_months: 0,
            half_life_months: 6.0,
            effects: vec![Effect {
                target: EffectTarget::Escalation,
                multiplier: escalation,
            }],
            existing: false,
            burn_in_places: 0,
        },
    });
    c
}

#[test]
fn more_effective_prevention_never_raises_expected_demand() {
    let weak = with_prevention(0.9);
    let strong = with_prevention(0.5);
    let layout = Layout::new(&weak);
    let demand = |c: &Config, r: u32| -> f64 {
        let out = run_replicate(c, 42, r);
        let n = layout.len();
        out.raw
            .chunks(n)
            .map(|m| {
                (0..c.events.len())
                    .map(|s| m[layout.event_count + s])
                    .sum::<i64>() as f64
            })
            .sum()
    };
    let reps = 8;
    let diffs: Vec<f64> = (0..reps)
        .map(|r| demand(&strong, r) - demand(&weak, r))
        .collect();
    let mean = diffs.iter().sum::<f64>() / reps as f64;
    let sd = (diffs.iter().map(|d| (d - mean).powi(2)).sum::<f64>() / (reps - 1) as f64).sqrt();
    // One-sided: the paired mean difference must sit below zero by more than
    // three standard errors of the replicate spread.
    assert!(
        mean + 3.0 * sd / (reps as f64).sqrt() < 0.0,
        "mean {mean}, sd {sd}, diffs {diffs:?}"
    );
}

#[test]
fn the_baseline_borough_looks_like_a_uk_place() {
    let config = load("scenarios/baseline.toml");
    let engine = Engine::new(&config, 1, 0);
    let res = &engine.population().residents;
    let n = res.len() as f64;
    let share = |f: &dyn Fn(u8) -> bool| res.age.iter().filter(|&&a| f(a)).count() as f64 / n;
    let children = share(&|a| a < 18);
    let older = share(&|a| a >= 65);
    let households = engine.population().households.len() as f64;
    assert!((0.18..0.25).contains(&children), "children {children}");
    assert!((0.15..0.23).contains(&older), "65 and over {older}");
    assert!(
        (2.2..2.5).contains(&(n / households)),
        "household size {}",
        n / households
    );
    assert_eq!(res.len(), 200_000);
    // Compact state: the issue's budget is 32 bytes a resident.
    assert_eq!(
        res.bytes_per_resident(),
        upstream::model::population::Residents::BYTES_PER_RESIDENT
    );
    assert!(res.bytes_per_resident() <= 32);
}

#[test]
fn a_full_service_with_a_queue_keeps_to_its_capacity_and_admits_in_turn() {
    let mut config = load("tests/fixtures/small.toml");
    let e = config
        .episodes
        .iter()
        .position(|e| e.id == "adult_residential_care")
        .unwrap();
    config.episodes[e].overflow = Overflow::Queue;
    config.episodes[e].capacity = 5;
    let layout = Layout::new(&config);
    let mut engine = Engine::new(&config, 8, 0);
    for _ in 0..config.burn_in_months + config.months {
        engine.step();
        // Invariants include: in-house occupancy never exceeds capacity.
        engine
            .check_invariants()
            .unwrap_or_else(|err| panic!("month {}: {err}", engine.months_run()));
    }
    let out = engine.finish();
    let n = layout.len();
    let waiting: i64 = out
        .raw
        .chunks(n)
        .map(|m| m[layout.episode_waiting + e])
        .sum();
    let entries: i64 = out
        .raw
        .chunks(n)
        .map(|m| m[layout.episode_entries + e])
        .sum();
    let spot: i64 = out.raw.chunks(n).map(|m| m[layout.episode_spot + e]).sum();
    assert!(waiting > 0, "a five-place service has a waiting list");
    assert!(
        entries > 0,
        "places free up and people on the list are admitted"
    );
    assert_eq!(spot, 0, "a queue buys no spot places");
    for m in out.raw.chunks(n) {
        assert!(m[layout.episode_occupancy + e] <= 5);
    }
}

#[test]
fn a_cost_of_living_shock_raises_low_income_while_it_lasts() {
    let mut config = load("tests/fixtures/small.toml");
    let base = config.clone();
    config.shocks.push(Shock {
        name: "Cost of living".into(),
        from_month: 1,
        to_month: 12,
        factor: RiskFactor::LowIncome,
        prevalence_multiplier: 1.5,
    });
    let layout = Layout::new(&config);
    let n = layout.len();
    let low_income = |c: &Config, month: usize| -> i64 {
        let out = run_replicate(c, 4, 0);
        out.raw[month * n + layout.risk + RiskFactor::LowIncome as usize]
    };
    // Before the shock both runs are the same; by its end the shocked place
    // has clearly more residents on low incomes.
    let (b, s) = (low_income(&base, 11), low_income(&config, 11));
    assert!(s as f64 > b as f64 * 1.15, "shocked {s}, baseline {b}");
    assert!(b > 0);
}

#[test]
fn every_bundled_scenario_keeps_its_accounts_month_by_month() {
    for file in &scenario::BUNDLED[1..] {
        let mut config = load(&format!("scenarios/{file}"));
        // A tenth of the size, so the test is quick; every kind of
        // intervention still runs.
        config.population.residents = 20_000;
        config.burn_in_months = 12;
        let mut engine = Engine::new(&config, 2, 0);
        for _ in 0..12 + 48 {
            engine.step();
            engine
                .check_invariants()
                .unwrap_or_else(|e| panic!("{file}, month {}: {e}", engine.months_run()));
        }
    }
}

#[test]
fn a_starting_state_file_gives_exactly_those_residents() {
    let config = load("tests/fixtures/small_csv.toml");
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/starting_state.csv"),
    )
    .unwrap();
    let rows: Vec<Vec<&str>> = text
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .collect();
    let mut engine = Engine::new(&config, 3, 0);
    let res = &engine.population().residents;
    assert_eq!(res.len(), rows.len());
    // Every row is there once: compare the multisets of (household, age, need).
    let need_of = |s: &str| NeedLevel::ALL.iter().position(|l| l.name() == s).unwrap() as u8;
    let mut want: Vec<(u8, u8, u8)> = rows
        .iter()
        .map(|r| {
            let mask = (0..5)
                .filter(|&f| r[4 + f] == "1")
                .fold(0u8, |m, f| m | 1 << f);
            (r[2].parse().unwrap(), need_of(r[3]), mask)
        })
        .collect();
    let mut got: Vec<(u8, u8, u8)> = (0..res.len())
        .map(|r| (res.age[r], res.need[r], res.flags[r]))
        .collect();
    want.sort_unstable();
    got.sort_unstable();
    assert_eq!(want, got);
    let households: std::collections::BTreeSet<&str> = rows.iter().map(|r| r[0]).collect();
    assert_eq!(engine.population().households.len(), households.len());
    for _ in 0..config.burn_in_months + 24 {
        engine.step();
        engine
            .check_invariants()
            .unwrap_or_else(|e| panic!("month {}: {e}", engine.months_run()));
    }
}

/// Erlang's loss formula: the share of Poisson arrivals that find all `c`
/// places of an M/M/c/c system full, at offered load `a` (erlangs).
fn erlang_b(c: u32, a: f64) -> f64 {
    (1..=c).fold(1.0, |b, k| a * b / (k as f64 + a * b))
}

/// The blocking probability of the engine's monthly rule, exactly: n places
/// filled at the start of a month; each stay ends this month with
/// probability q (geometric stays), its place offered again from next month;
/// Poisson(λ) arrivals take the c − n free places and the rest overflow.
fn monthly_loss_chain(c: usize, lambda: f64, q: f64) -> f64 {
    let kmax = c + 200;
    let mut poisson = vec![(-lambda).exp()];
    for k in 1..kmax {
        poisson.push(poisson[k - 1] * lambda / k as f64);
    }
    let mut p = vec![vec![0.0; c + 1]; c + 1];
    let mut admitted = vec![0.0; c + 1];
    for n in 0..=c {
        let free = c - n;
        let mut x = vec![0.0; free + 1];
        for (a, pa) in poisson.iter().enumerate() {
            x[a.min(free)] += pa;
        }
        admitted[n] = x.iter().enumerate().map(|(k, px)| k as f64 * px).sum();
        // Departures ~ Binomial(n, q).
        let mut binom = vec![0.0; n + 1];
        binom[0] = (1.0 - q).powi(n as i32);
        for d in 1..=n {
            binom[d] = binom[d - 1] * (n - d + 1) as f64 / d as f64 * q / (1.0 - q);
        }
        for (d, pd) in binom.iter().enumerate() {
            for (k, px) in x.iter().enumerate() {
                p[n][n - d + k] += pd * px;
            }
        }
    }
    let mut pi = vec![1.0 / (c + 1) as f64; c + 1];
    for _ in 0..20_000 {
        let mut next = vec![0.0; c + 1];
        for (i, row) in p.iter().enumerate() {
            for (j, pij) in row.iter().enumerate() {
                next[j] += pi[i] * pij;
            }
        }
        pi = next;
    }
    1.0 - pi.iter().zip(&admitted).map(|(a, b)| a * b).sum::<f64>() / lambda
}

#[test]
fn an_episode_service_loses_arrivals_as_erlang_b_says() {
    // One episode service; everyone eligible at one constant entry rate
    // (about one arrival a month), geometric stays of 40 months, 40 in-house
    // places, overflow to the spot market. Nothing else happens.
    let (residents, c, mean_stay) = (4_000u32, 40u32, 40.0);
    let mut config = independent_chain(residents, 360);
    config.burn_in_months = 240;
    config.events.clear();
    config.episodes.retain(|e| e.id == "adult_residential_care");
    let svc = &mut config.episodes[0];
    svc.eligible_bands = [true; AGE_BANDS];
    svc.entry_per_month = [1.0 / residents as f64; NEED_LEVELS];
    svc.household_multiplier = [1.0; NEED_LEVELS];
    svc.risk_multiplier = [1.0; RISK_FACTORS];
    svc.duration = Duration::Exponential {
        mean_months: mean_stay,
    };
    svc.capacity = c;
    svc.overflow = Overflow::Spot;
    let layout = Layout::new(&config);
    let n = layout.len();
    let reps = 300u32;
    let settings = upstream::replicates::RunSettings {
        replicates: reps,
        seed: 5,
        threads: None,
    };
    let exp = upstream::replicates::run(&[&config], &settings, &|| {}).unwrap();
    let (mut shares, mut arrivals) = (Vec::new(), 0i64);
    for r in &exp.scenarios[0].replicates {
        let sum = |col: usize| -> i64 { r.raw.chunks(n).map(|m| m[col]).sum() };
        let (entries, spot) = (
            sum(layout.episode_entries),
            sum(layout.episode_spot_entries),
        );
        arrivals += entries;
        shares.push(spot as f64 / entries as f64);
    }
    let mean = shares.iter().sum::<f64>() / reps as f64;
    let sd = (shares.iter().map(|s| (s - mean).powi(2)).sum::<f64>() / (reps - 1) as f64).sqrt();
    let se = sd / (reps as f64).sqrt();
    let lambda = arrivals as f64 / (reps as f64 * config.months as f64);
    let chain = monthly_loss_chain(c as usize, lambda, 1.0 / mean_stay);
    // A place freed during a month is offered from the next, on average
    // half a month later than in continuous time.
    let erlang = erlang_b(c, lambda * (mean_stay + 0.5));
    eprintln!(
        "blocking: simulated {mean:.4} ± {se:.4}, monthly chain {chain:.4}, Erlang B {erlang:.4} (λ = {lambda:.3} a month)"
    );
    assert!(
        (mean - chain).abs() <= 4.0 * se,
        "simulated {mean} against the monthly chain {chain} (standard error {se})"
    );
    assert!(
        (chain - erlang).abs() <= 0.02 * erlang,
        "the monthly step moves blocking {chain} more than 2% from Erlang B {erlang}"
    );
    assert!((mean - erlang).abs() <= 4.0 * se + (chain - erlang).abs());
    assert!(se < 0.1 * mean, "enough arrivals for a sharp test: {se}");
}

/// Money adds up exactly: every flow's horizon total is the sum of its
/// months to the penny (counts exactly), replicate by replicate, from the
/// engine's integer pence; and in the files, every £ total in summary.json
/// is the sum of its monthly means in timeseries.csv to the penny.
#[test]
fn horizon_totals_are_the_sum_of_their_months_to_the_penny() {
    use upstream::metrics::{Kind, Metric};
    use upstream::replicates::{self, RunSettings};
    let configs = [
        load("tests/fixtures/small.toml"),
        load("tests/fixtures/small_hubs.toml"),
    ];
    let settings = RunSettings {
        replicates: 3,
        seed: 5,
        threads: Some(2),
    };
    let exp = replicates::run(&configs.iter().collect::<Vec<_>>(), &settings, &|| {}).unwrap();
    let mut pounds = 0;
    for runs in &exp.scenarios {
        let (n, months) = (runs.layout.len(), runs.months());
        for (k, def) in runs.layout.defs.iter().enumerate() {
            // Quality of life is worked out from need, not counted.
            if def.kind != Kind::Flow || def.metric == Metric::Qalys {
                continue;
            }
            for (r, total) in runs.totals(&def.metric).into_iter().enumerate() {
                let raw = &runs.replicates[r].raw;
                let exact: i64 = (0..months).map(|m| raw[m * n + k]).sum();
                if def.pence {
                    assert!(
                        (total * 100.0 - exact as f64).abs() < 0.01,
                        "{}: £{total} over the horizon, but its months add up to {exact} pence",
                        def.name
                    );
                    pounds += (exact.abs() >= 100_000_000) as usize;
                } else {
                    assert_eq!(total, exact as f64, "{}", def.name);
                }
            }
        }
        // A stock's horizon figure is its monthly average.
        for (k, def) in runs.layout.defs.iter().enumerate() {
            if def.kind != Kind::Stock || def.pence || def.metric == Metric::QolIndex {
                continue;
            }
            for (r, total) in runs.totals(&def.metric).into_iter().enumerate() {
                let raw = &runs.replicates[r].raw;
                let sum: i64 = (0..months).map(|m| raw[m * n + k]).sum();
                let mean = sum as f64 / months as f64;
                assert!(
                    (total - mean).abs() <= 1e-9 * mean.abs(),
                    "{}: {total} against {mean}",
                    def.name
                );
            }
        }
    }
    // Totals of a million pounds and more were checked, where single
    // precision would be pounds out.
    assert!(pounds > 0);

    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let o = crate::common::upstream(&[
        "run",
        "tests/fixtures/small.toml",
        "tests/fixtures/small_hubs.toml",
        "-r",
        "3",
        "-q",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    let ts = std::fs::read_to_string(out.join("timeseries.csv")).unwrap();
    let mut monthly = std::collections::BTreeMap::<(String, String), (f64, usize)>::new();
    for line in ts.lines().skip(1) {
        // scenario,month,metric,mean,p5,p50,p95; a name may be quoted.
        let cells: Vec<&str> = line.rsplitn(6, ',').collect();
        let (metric, scenario) = (cells[4], cells[5].rsplit_once(',').unwrap().0);
        let m = monthly
            .entry((scenario.trim_matches('"').to_string(), metric.to_string()))
            .or_default();
        m.0 += cells[3].parse::<f64>().unwrap();
        m.1 += 1;
    }
    let mut checked = 0;
    for s in summary["scenarios"].as_array().unwrap() {
        let name = s["name"].as_str().unwrap();
        for (metric, band) in s["totals"].as_object().unwrap() {
            if !metric.ends_with("_gbp") {
                continue;
            }
            let (sum, months) = monthly[&(name.to_string(), metric.clone())];
            let total = band["mean"].as_f64().unwrap();
            // Each month is written to the penny: within half a penny a
            // month of the exact total.
            assert!(
                (sum - total).abs() <= 0.005 * months as f64 + 1e-6,
                "{name}, {metric}: summary.json says £{total}, timeseries.csv's months add up to £{sum}"
            );
            checked += 1;
        }
    }
    assert!(checked > 20, "{checked}");
}

/// An engine driven month by month says where it is: the scenario month
/// last simulated (negative in burn-in, 0 at its end), the months run, and
/// rows recorded for the horizon's months only; a replicate stopped early
/// still counts the resident-months of its whole run (the speed figures'
/// unit of work).
#[test]
fn an_engine_reports_the_month_it_has_reached_and_its_work() {
    let config = load("tests/fixtures/small.toml");
    let burn_in = config.burn_in_months;
    let mut engine = Engine::new(&config, 3, 0);
    assert_eq!(engine.month(), -(burn_in as i64));
    engine.step();
    assert_eq!(engine.month(), 1 - burn_in as i64);
    engine.run_to(0);
    assert_eq!((engine.month(), engine.months_run()), (0, burn_in));
    engine.run_to(5);
    assert_eq!((engine.month(), engine.months_run()), (5, burn_in + 5));
    assert_eq!(engine.total_months(), burn_in + config.months);
    let residents = engine.population().residents.len() as u64;
    let result = engine.finish();
    assert_eq!(result.raw.len(), 5 * Layout::new(&config).len());
    assert_eq!(
        result.resident_months,
        residents * (burn_in + config.months) as u64
    );
}

/// With no programme funding community assets, each neighbourhood keeps
/// its base places per 1,000 residents from the first month to the last.
#[test]
fn community_asset_places_start_and_stay_at_their_base_rate() {
    use upstream::metrics::Metric;
    let config = load("tests/fixtures/small.toml");
    assert!(
        config
            .interventions
            .iter()
            .all(|x| !matches!(x.delivery, Delivery::Assets { .. }))
    );
    let engine = Engine::new(&config, 4, 0);
    let pop = engine.population();
    let expect: f64 = (0..config.population.neighbourhoods.len())
        .map(|n| {
            (config.assets.base_places_per_1000 * pop.neighbourhood_residents(n).len() as f64
                / 1000.0)
                .floor()
        })
        .sum();
    assert!(expect > 0.0);
    let layout = Layout::new(&config);
    let k = layout.find(&Metric::AssetPlaces).unwrap();
    let raw = engine.run().raw;
    for m in 0..config.months as usize {
        assert_eq!(raw[m * layout.len() + k] as f64, expect, "month {}", m + 1);
    }
}

/// Each service's entries bought on the spot market are counted against
/// that service: month by month they equal the residents (or households)
/// who entered it that month on a spot place, from their own records.
#[test]
fn spot_entries_are_counted_against_their_own_service() {
    use upstream::metrics::{Metric, ServiceMeasure};
    use upstream::model::population::flag;
    let fixtures = format!("{}/tests/fixtures", env!("CARGO_MANIFEST_DIR"));
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("full.toml");
    // Two places (children's placements, which are rarer, none), so every
    // service overflows to the spot market.
    std::fs::write(
        &path,
        format!(
            "name = \"Full\"\nextends = \"{fixtures}/small.toml\"\n\
             [episodes.adult_residential_care]\ncapacity = 2\n\
             [episodes.childrens_placement]\ncapacity = 0\n\
             [episodes.temporary_accommodation]\ncapacity = 2\n"
        ),
    )
    .unwrap();
    let config = scenario::load(&path).unwrap().config;
    let layout = Layout::new(&config);
    let mut engine = Engine::new(&config, 8, 0);
    engine.run_to(0);
    let months = 20;
    let mut counted = vec![[0i64; 3]; months];
    for counts in counted.iter_mut() {
        let before = engine.population().residents.clone();
        engine.step();
        let after = &engine.population().residents;
        for r in 0..after.len() {
            let e = after.episode[r] as usize;
            if e != 0 && before.episode[r] == 0 && after.flags[r] & flag::SPOT != 0 {
                counts[e - 1] += 1;
            }
        }
    }
    let raw = engine.finish().raw;
    let mut total = [0i64; 3];
    for (e, svc) in config.episodes.iter().enumerate() {
        let k = layout
            .find(&Metric::service(&svc.id, ServiceMeasure::SpotEntries))
            .unwrap();
        for (m, counts) in counted.iter().enumerate() {
            assert_eq!(
                raw[m * layout.len() + k],
                counts[e],
                "{} in month {}",
                svc.id,
                m + 1
            );
            total[e] += counts[e];
        }
    }
    assert!(
        total.iter().all(|&t| t > 0),
        "every service bought spot places: {total:?}"
    );
}

#[test]
fn the_age_structure_holds_for_twenty_years_without_a_declared_trend() {
    // Births, deaths, moves and birthdays spread over the year, newcomers'
    // ages chosen to hold the start: after twenty years every age band's
    // share (and the children's) is where it began, within a point, while
    // a fifth or more of the residents have been replaced.
    let mut config = load("scenarios/baseline.toml");
    config.population.residents = 40_000;
    let shares = |engine: &Engine| -> Vec<f64> {
        let ages = &engine.population().residents.age;
        let n = ages.len() as f64;
        let mut by_band = vec![0.0; AGE_BANDS];
        for &a in ages {
            by_band[config.age_bands.band(a)] += 1.0 / n;
        }
        by_band
    };
    let mut engine = Engine::new(&config, 5, 0);
    let start = shares(&engine);
    for _ in 0..240 {
        engine.step();
    }
    let end = shares(&engine);
    for band in 0..AGE_BANDS {
        assert!(
            (end[band] - start[band]).abs() < 0.01,
            "band {}: {:.3} at the start, {:.3} after twenty years",
            config.age_bands.label(band),
            start[band],
            end[band]
        );
    }
    let tv = engine.turnover();
    assert!(tv.moves_out + tv.deaths > 40_000, "{tv:?}");
    // Every month has its share of the year's turns.
    assert!(tv.births > 0);
}

#[test]
fn a_warm_start_fills_services_as_a_long_burn_in_would() {
    // The same place started empty with a long burn-in, and warm with none:
    // each episode service holds within 5% of the same residents (both
    // averaged over a year and eight replicates; no programme runs, as the
    // warm start cannot know a programme's effect).
    let mut warm = load("scenarios/baseline.toml");
    warm.population.residents = 100_000;
    warm.interventions.clear();
    warm.months = 12;
    let mut cold = warm.clone();
    warm.burn_in_months = 0;
    cold.warm_start = false;
    cold.burn_in_months = 180;
    let layout = Layout::new(&warm);
    let settings = upstream::replicates::RunSettings {
        replicates: 8,
        seed: 8,
        threads: Some(2),
    };
    let runs = upstream::replicates::run(&[&warm, &cold], &settings, &|| {})
        .unwrap()
        .scenarios;
    let occupancy = |s: usize, e: usize| -> f64 {
        runs[s]
            .replicates
            .iter()
            .flat_map(|r| r.raw.chunks(layout.len()))
            .map(|m| m[layout.episode_occupancy + e] as f64)
            .sum::<f64>()
            / (8.0 * 12.0)
    };
    for (e, svc) in warm.episodes.iter().enumerate() {
        let (w, c) = (occupancy(0, e), occupancy(1, e));
        assert!(
            (w - c).abs() < 0.05 * c,
            "{}: {w:.1} warm against {c:.1} after a long burn-in",
            svc.name
        );
    }
}

/// The baseline with one episode service that everyone enters at the same
/// chance, for a fixed stay, and nothing else that could change it: an
/// alternating renewal process with a closed form.
fn one_renewal_service(entry: f64, stay: u16) -> (Config, usize) {
    let mut c = load("scenarios/baseline.toml");
    c.population.residents = 20_000;
    c.population.turnover = false;
    c.interventions.clear();
    for e in &mut c.events {
        e.rate_per_month = [0.0; NEED_LEVELS];
    }
    let e = c
        .episodes
        .iter()
        .position(|s| s.id == "adult_residential_care")
        .unwrap();
    for (i, s) in c.episodes.iter_mut().enumerate() {
        s.entry_per_month = [if i == e { entry } else { 0.0 }; NEED_LEVELS];
        s.household_multiplier = [1.0; NEED_LEVELS];
        s.risk_multiplier = [1.0; RISK_FACTORS];
        s.eligible_bands = [true; AGE_BANDS];
        s.duration = Duration::Fixed { months: stay };
    }
    (c, e)
}

#[test]
fn a_warm_start_matches_the_closed_form_of_an_alternating_renewal() {
    // Entry chance p a month while out, a stay of m months while in: at
    // equilibrium a resident is in with chance p m / (p m + 1 − p). The
    // expected occupancy at the start says exactly that, and a long run
    // from empty comes to it.
    let (mut config, e) = one_renewal_service(0.05, 20);
    let p = 1.0 - (-0.05f64).exp();
    let n = config.population.residents as f64;
    let closed = n * p * 20.0 / (p * 20.0 + 1.0 - p);
    let expected = upstream::engine::expected_at_start(&config).occupancy[e];
    assert!(
        (expected / closed - 1.0).abs() < 1e-9,
        "{expected} expected at the start against {closed} in closed form"
    );
    // Warm, the place starts there; cold, a long burn-in brings it there.
    let start = Engine::new(&config, 4, 0);
    let placed = start
        .population()
        .residents
        .episode
        .iter()
        .filter(|&&x| x != 0)
        .count();
    assert!(
        (placed as f64 / closed - 1.0).abs() < 0.03,
        "{placed} placed, {closed:.0} in closed form"
    );
    config.warm_start = false;
    let empty = Engine::new(&config, 4, 0);
    assert!(
        empty.population().residents.episode.iter().all(|&x| x == 0),
        "warm_start = false starts empty"
    );
    config.burn_in_months = 120;
    config.months = 12;
    let layout = Layout::new(&config);
    let raw = run_replicate(&config, 4, 0).raw;
    let mean: f64 = raw
        .chunks(layout.len())
        .map(|m| m[layout.episode_occupancy + e] as f64)
        .sum::<f64>()
        / 12.0;
    assert!(
        (mean / closed - 1.0).abs() < 0.03,
        "{mean:.0} after a long run from empty, {closed:.0} in closed form"
    );
}

#[test]
fn the_contacts_expected_at_the_start_are_the_first_month_s() {
    // A warm place's first month, with no burn-in, has about the contacts
    // its residents' own hazards expect, service by service.
    let mut config = load("scenarios/baseline.toml");
    config.population.residents = 50_000;
    config.burn_in_months = 0;
    config.months = 1;
    config.interventions.clear();
    let expected = upstream::engine::expected_at_start(&config);
    let layout = Layout::new(&config);
    let mut seen = vec![0.0; config.events.len()];
    for r in 0..8 {
        let raw = run_replicate(&config, 6, r).raw;
        for (s, v) in seen.iter_mut().enumerate() {
            *v += raw[layout.event_count + s] as f64 / 8.0;
        }
    }
    for (s, svc) in config.events.iter().enumerate() {
        let want = expected.contacts_per_month[s];
        // 5% for what the hazards alone leave out (household stress, the
        // month's own need moves), and three Poisson standard errors.
        let allowed = 0.05 + 3.0 / (want * 8.0).sqrt();
        assert!(
            (seen[s] / want - 1.0).abs() < allowed,
            "{}: {:.0} in the first month against {want:.0} expected",
            svc.name,
            seen[s]
        );
    }
}
