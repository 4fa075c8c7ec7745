//! Properties that must hold for every valid scenario, checked with proptest
//! over scenarios generated around the small fixture: its size, horizon,
//! turnover, service capacities and overflow, need dynamics, and a hub
//! programme's size, engagement and effects all drawn at random.

use std::path::Path;

use proptest::prelude::*;
use upstream::engine::{Engine, run_replicate};
use upstream::metrics::Layout;
use upstream::model::*;
use upstream::replicates::{self, RunSettings};

fn hubs_fixture() -> Config {
    upstream::scenario::load(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/small_hubs.toml"),
    )
    .expect("fixture loads")
    .config
}

/// What a generated scenario changes in the fixture.
#[derive(Clone, Debug)]
struct Tweak {
    residents: u32,
    years: u32,
    burn_in: u32,
    turnover: bool,
    capacity_scale: f64,
    queue: bool,
    escalation_scale: f64,
    hub_places: u32,
    engagement: f64,
    support_months: u16,
    /// Each hub effect's strength in logs: the multiplier is raised to it.
    effect_strength: f64,
    seed: u64,
}

fn tweaks() -> impl Strategy<Value = Tweak> {
    (
        (600u32..2_500, 1u32..=3, 0u32..=12, any::<bool>()),
        (0.0f64..2.0, any::<bool>(), 0.5f64..2.0),
        (
            0u32..150,
            0.0f64..=1.0,
            1u16..=12,
            0.0f64..=1.5,
            any::<u64>(),
        ),
    )
        .prop_map(
            |(
                (residents, years, burn_in, turnover),
                (capacity_scale, queue, escalation_scale),
                (hub_places, engagement, support_months, effect_strength, seed),
            )| Tweak {
                residents,
                years,
                burn_in,
                turnover,
                capacity_scale,
                queue,
                escalation_scale,
                hub_places,
                engagement,
                support_months,
                effect_strength,
                seed,
            },
        )
}

fn hubs_of(c: &mut Config) -> &mut Intervention {
    c.interventions
        .iter_mut()
        .find(|i| i.id == "hubs")
        .expect("the fixture has hubs")
}

fn scenario(t: &Tweak) -> Config {
    let mut c = hubs_fixture();
    c.population.residents = t.residents;
    c.population.turnover = t.turnover;
    c.months = t.years * 12;
    c.burn_in_months = t.burn_in;
    for e in &mut c.episodes {
        e.capacity = (e.capacity as f64 * t.capacity_scale).round() as u32;
        if t.queue {
            e.overflow = Overflow::Queue;
        }
    }
    for r in c.need.escalation.iter_mut() {
        *r *= t.escalation_scale;
    }
    let hubs = hubs_of(&mut c);
    hubs.monthly_spend_by_year = vec![t.hub_places as i64 * 13_000];
    if let Delivery::Caseload {
        places_by_year,
        engagement,
        support_months,
        effects,
        ..
    } = &mut hubs.delivery
    {
        *places_by_year = vec![t.hub_places];
        *engagement = t.engagement;
        *support_months = t.support_months;
        for e in effects {
            e.multiplier = e.multiplier.powf(t.effect_strength);
        }
    }
    c
}

/// The same scenario with the hubs' effects raised to `strength` (0 is no
/// effect, 1 the scenario's own).
fn with_strength(c: &Config, strength: f64) -> Config {
    let mut c = c.clone();
    if let Delivery::Caseload { effects, .. } = &mut hubs_of(&mut c).delivery {
        for e in effects {
            e.multiplier = e.multiplier.powf(strength);
        }
    }
    c
}

/// Reactive demand over the horizon: every event and every episode entry.
fn demand(layout: &Layout, raw: &[i64], c: &Config) -> f64 {
    raw.chunks(layout.len())
        .map(|m| {
            (0..c.events.len())
                .map(|s| m[layout.event_count + s])
                .chain((0..c.episodes.len()).map(|e| m[layout.episode_entries + e]))
                .sum::<i64>()
        })
        .sum::<i64>() as f64
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, failure_persistence: None, ..ProptestConfig::default() })]

    /// No resident lost or duplicated and every running count reconciled,
    /// month by month; no cost is ever negative.
    #[test]
    fn residents_are_conserved_and_costs_never_negative(t in tweaks()) {
        let c = scenario(&t);
        let layout = Layout::new(&c);
        let mut engine = Engine::new(&c, t.seed, 0);
        for _ in 0..c.burn_in_months + c.months {
            engine.step();
            if let Err(e) = engine.check_invariants() {
                return Err(TestCaseError::fail(format!("month {}: {e}", engine.months_run())));
            }
        }
        let out = engine.finish();
        for (m, row) in out.raw.chunks(layout.len()).enumerate() {
            for (def, v) in layout.defs.iter().zip(row) {
                prop_assert!(!def.pence || *v >= 0, "{} is {v} in month {}", def.name, m + 1);
            }
            prop_assert_eq!(row[layout.residents], c.population.residents as i64);
        }
    }

    /// The same scenario and seed give the same numbers on a repeat and for
    /// any number of threads, one replicate split among threads included.
    #[test]
    fn results_do_not_depend_on_repeats_or_threads(t in tweaks()) {
        let c = scenario(&t);
        prop_assert_eq!(run_replicate(&c, t.seed, 1).raw, run_replicate(&c, t.seed, 1).raw);
        let run = |threads| {
            let s = RunSettings { replicates: 3, seed: t.seed, threads: Some(threads) };
            replicates::run(&[&c], &s, &|| {}).unwrap()
        };
        let (one, three) = (run(1), run(3));
        for (a, b) in one.scenarios[0].replicates.iter().zip(&three.scenarios[0].replicates) {
            prop_assert_eq!(&a.raw, &b.raw);
            prop_assert_eq!(&a.neighbourhoods, &b.neighbourhoods);
        }
        // One replicate on several threads: its months are split among them.
        let alone = run_replicate(&c, t.seed, 0);
        for threads in [2, 3] {
            let s = RunSettings { replicates: 1, seed: t.seed, threads: Some(threads) };
            let split = replicates::run(&[&c], &s, &|| {}).unwrap();
            prop_assert_eq!(&split.scenarios[0].replicates[0].raw, &alone.raw);
            prop_assert_eq!(&split.scenarios[0].replicates[0].neighbourhoods, &alone.neighbourhoods);
        }
    }

    /// A zero-budget programme, listed first or last, reaches nobody and
    /// changes nothing.
    #[test]
    fn a_zero_budget_programme_reproduces_the_scenario_exactly(t in tweaks(), first in any::<bool>()) {
        let c = scenario(&t);
        let mut z = c.clone();
        let mut zero = hubs_of(&mut z).clone();
        zero.id = if first { "aa_zero".into() } else { "zz_zero".into() };
        zero.monthly_spend_by_year = vec![0];
        if let Delivery::Caseload { places_by_year, burn_in_places, .. } = &mut zero.delivery {
            *places_by_year = vec![0];
            *burn_in_places = 0;
        }
        if first { z.interventions.insert(0, zero) } else { z.interventions.push(zero) }
        let (la, lb) = (Layout::new(&c), Layout::new(&z));
        let (a, b) = (run_replicate(&c, t.seed, 0), run_replicate(&z, t.seed, 0));
        for (i, def) in la.defs.iter().enumerate() {
            let j = lb.defs.iter().position(|d| d.name == def.name).unwrap();
            let col = |raw: &[i64], k: usize, n: usize| -> Vec<i64> {
                raw.chunks(n).map(|m| m[k]).collect()
            };
            prop_assert_eq!(col(&a.raw, i, la.len()), col(&b.raw, j, lb.len()), "{}", &def.name);
        }
        prop_assert_eq!(a.neighbourhoods, b.neighbourhoods);
    }

    /// Making the hubs' effects stronger never raises expected reactive
    /// demand: paired over replicates, the mean change from half strength to
    /// full strength is no more than three standard errors above zero.
    #[test]
    fn stronger_prevention_never_raises_expected_demand(t in tweaks()) {
        let c = scenario(&t);
        let layout = Layout::new(&c);
        let reps = 12u32;
        let s = RunSettings { replicates: reps, seed: t.seed, threads: None };
        let configs = [with_strength(&c, 0.0), with_strength(&c, 0.5), with_strength(&c, 1.0)];
        let exp = replicates::run(&configs.each_ref(), &s, &|| {}).unwrap();
        let d: Vec<Vec<f64>> = exp
            .scenarios
            .iter()
            .zip(&configs)
            .map(|(sc, cfg)| sc.replicates.iter().map(|r| demand(&layout, &r.raw, cfg)).collect())
            .collect();
        let paired = |x: &[f64], y: &[f64]| -> (f64, f64) {
            let diffs: Vec<f64> = x.iter().zip(y).map(|(a, b)| b - a).collect();
            let n = diffs.len() as f64;
            let mean = diffs.iter().sum::<f64>() / n;
            let var = diffs.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
            (mean, (var / n).sqrt())
        };
        // Half strength against none, full against half: each step down.
        for (from, to) in [(0, 1), (1, 2)] {
            let (mean, se) = paired(&d[from], &d[to]);
            prop_assert!(
                mean <= 3.0 * se + 1e-9,
                "demand rose by {mean} (standard error {se}) from strength {from}/2 to {to}/2"
            );
        }
        // And the scenario moves towards no effect as its effects weaken:
        // half strength is no further from it than full strength.
        let (half, se_half) = paired(&d[0], &d[1]);
        let (full, se_full) = paired(&d[0], &d[2]);
        prop_assert!(
            half.abs() <= full.abs() + 3.0 * (se_half + se_full) + 1e-9,
            "half strength moved demand {half}, full strength {full}"
        );
    }
}
