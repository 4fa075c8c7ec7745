//! Every mechanism by which a programme acts, one at a time: a programme
//! that supports every resident from month 1, whose only effect is the one
//! under test, against the same programme with that effect at ×1 (same
//! enrolment, same draws). Each effect must move its target the right way by
//! more than three paired standard errors, and by about what a hand
//! calculation from the hazards predicts. Dropping any one mechanism from
//! the engine fails its test here.
//!
//! The same set-up pins two draws exactly: dropout from support uses this
//! month's dropout draw of the programme's own stream, and two programmes
//! offered to the same residents draw their engagement independently.

use std::fs;

use upstream::engine::Engine;
use upstream::metrics::{Layout, Metric, ServiceMeasure};
use upstream::model::population::iv;
use upstream::model::{Config, RiskFactor};
use upstream::rng::{Crn, Purpose, stream_of, threshold};
use upstream::scenario;

const RESIDENTS: u32 = 20_000;
const REPLICATES: u32 = 12;
const SEED: u64 = 20_261_201;

/// A scenario in which programme `everyone` supports every resident from
/// month 1 for two years, with these `effects` (a TOML array's items), and
/// `extra` TOML after it.
fn everyone(effects: &str, extra: &str) -> Config {
    let fixtures = format!("{}/tests/fixtures", env!("CARGO_MANIFEST_DIR"));
    let text = format!(
        r#"
name = "Everyone supported"
extends = "{fixtures}/small_plain.toml"

[population]
residents = {RESIDENTS}
# Nobody leaves, so nobody unsupported arrives in the months measured.
turnover = false

[interventions.everyone]
name = "Everyone"
kind = "caseload"
payer = "voluntary_sector"
caseload = [{RESIDENTS}]
unit_cost_per_month = 1
engagement = 1.0
dropout_per_month = 0.0
support_months = 24
effects = [{effects}]
{extra}
"#
    );
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("everyone.toml");
    fs::write(&path, text).unwrap();
    match scenario::load(&path) {
        Ok(loaded) => loaded.config,
        Err(e) => panic!("{e}"),
    }
}

/// What month 1 did, for one replicate.
#[derive(Default)]
struct Month1 {
    rises: f64,
    falls: f64,
    low_income_onsets: f64,
    ae_attendances: f64,
    ta_entries: f64,
    /// Months of stay drawn for the households entering temporary
    /// accommodation in month 1, summed.
    ta_months_drawn: f64,
    handoff_pence: f64,
}

fn month1(config: &Config, replicate: u32) -> Month1 {
    let mut engine = Engine::new(config, SEED, replicate);
    engine.run_to(0);
    let before = engine.population().residents.clone();
    engine.step();
    let after = &engine.population().residents;
    // The hand calculations assume the programme reached everyone at once.
    assert!(
        after.intervention.iter().all(|&s| s & iv::SUPPORT != 0),
        "not every resident was supported in month 1"
    );
    let ta = config
        .episodes
        .iter()
        .position(|e| e.id == "temporary_accommodation")
        .unwrap() as u8
        + 1;
    let low_income = RiskFactor::LowIncome.bit();
    let mut m = Month1::default();
    for r in 0..after.len() {
        m.rises += (after.need[r] > before.need[r]) as u8 as f64;
        m.falls += (after.need[r] < before.need[r]) as u8 as f64;
        m.low_income_onsets +=
            (before.flags[r] & low_income == 0 && after.flags[r] & low_income != 0) as u8 as f64;
        if before.episode[r] == 0 && after.episode[r] == ta {
            m.ta_months_drawn += after.episode_left[r] as f64;
        }
    }
    let layout = Layout::new(config);
    let raw = engine.finish().raw;
    let at = |metric: Metric| raw[layout.find(&metric).unwrap()] as f64;
    m.ae_attendances = at(Metric::service("ae_attendance", ServiceMeasure::Events));
    m.ta_entries = at(Metric::service(
        "temporary_accommodation",
        ServiceMeasure::Entries,
    ));
    m.handoff_pence = at(Metric::HandoffCost);
    m
}

/// Treated and control totals over the replicates, and the paired standard
/// error of their difference.
struct Paired {
    treated: f64,
    control: f64,
    se: f64,
}

impl Paired {
    fn ratio(&self) -> f64 {
        self.treated / self.control
    }
}

fn paired(treated: &Config, control: &Config, measure: fn(&Month1) -> f64) -> Paired {
    let (mut t, mut c, mut d) = (0.0, 0.0, Vec::new());
    for r in 0..REPLICATES {
        let (a, b) = (measure(&month1(treated, r)), measure(&month1(control, r)));
        t += a;
        c += b;
        d.push(a - b);
    }
    let n = d.len() as f64;
    let mean = d.iter().sum::<f64>() / n;
    let var = d.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    Paired {
        treated: t,
        control: c,
        se: (var / n).sqrt() * n,
    }
}

fn control() -> Config {
    everyone(r#"{ on = "escalation", multiplier = 1.0 }"#, "")
}

/// Temporary accommodation entered twenty times as often as the bundled
/// borough's rate, so a month's entries are enough to measure.
const BUSY_TA: &str = r#"
[episodes.temporary_accommodation]
entry_per_month = [0.0002, 0.001, 0.008, 0.04]
"#;

/// The effect moved its target the way `m` says, by more than three paired
/// standard errors, to within `[lo, hi]` of the control as a ratio.
fn assert_moves(what: &str, p: &Paired, m: f64, lo: f64, hi: f64) {
    let diff = p.treated - p.control;
    // The bounds are on the expectation; the ratio seen may stray from it
    // by the dice, three paired standard errors either way.
    let slack = 3.0 * p.se / p.control;
    assert!(p.control > 0.0, "{what}: nothing to change in the control");
    assert!(
        diff.signum() == (m - 1.0).signum() && diff.abs() > 3.0 * p.se,
        "{what}: moved by {diff} against a paired standard error of {} (treated {}, control {})",
        p.se,
        p.treated,
        p.control
    );
    assert!(
        (lo - slack..=hi + slack).contains(&p.ratio()),
        "{what}: treated over control is {:.4}, the hand calculation says {lo:.4} to {hi:.4} (± {slack:.4} for the dice)",
        p.ratio()
    );
}

/// Need moves up with probability `(1 − e^−(u+d))·u/(u+d)` for hazards `u`
/// up and `d` down. Scaling `u` by `m < 1` scales that by `m` times
/// `g(mu+d)/g(u+d)` with `g(x) = (1 − e^−x)/x` decreasing, a factor from 1
/// to `1/g(h)` for hazards up to `h`; scaling by `m > 1` gives a factor from
/// `g(m·h)` to 1. So the ratio of moves lies in `[m, m/g(h)]` or
/// `[m·g(m·h), m]`, whatever the residents' mix.
fn g(x: f64) -> f64 {
    (1.0 - (-x).exp()) / x
}

/// The largest monthly need hazard any resident can have in month 1 (up and
/// down together), from the scenario's own figures with every multiplier at
/// its largest.
fn largest_hazard(c: &Config) -> f64 {
    let up_mult: f64 = c
        .need
        .age_escalation_multiplier
        .iter()
        .cloned()
        .fold(0.0, f64::max)
        * c.risks
            .iter()
            .map(|r| r.escalation_multiplier.max(1.0))
            .product::<f64>()
        * c.household_stress.iter().cloned().fold(0.0, f64::max)
        * c.assets.escalation_multiplier.max(1.0);
    let down_mult: f64 = c
        .risks
        .iter()
        .map(|r| r.recovery_multiplier.max(1.0))
        .product();
    (0..4)
        .map(|l| {
            let up = if l < 3 {
                c.need.escalation[l] * up_mult
            } else {
                0.0
            };
            let down = if l > 0 {
                c.need.recovery[l - 1] * down_mult
            } else {
                0.0
            };
            up + down
        })
        .fold(0.0, f64::max)
}

#[test]
fn escalation_effect_slows_rises_in_need_as_the_hazard_says() {
    let m = 0.5;
    let treated = everyone(r#"{ on = "escalation", multiplier = 0.5 }"#, "");
    let h = largest_hazard(&treated);
    let p = paired(&treated, &control(), |x| x.rises);
    assert_moves("escalation ×0.5: rises in need", &p, m, m, m / g(h));
}

#[test]
fn recovery_effect_speeds_falls_in_need_as_the_hazard_says() {
    let m = 2.0;
    let treated = everyone(r#"{ on = "recovery", multiplier = 2.0 }"#, "");
    let h = largest_hazard(&treated);
    let p = paired(&treated, &control(), |x| x.falls);
    assert_moves("recovery ×2: falls in need", &p, m, m * g(m * h), m);
}

#[test]
fn risk_factor_effect_scales_its_onsets() {
    // Each factor flips independently (drawn as "any flip", then which), so
    // the expected onsets of low income scale exactly with its multiplier.
    let treated = everyone(
        r#"{ on = "risk_factor", factor = "low_income", multiplier = 0.5 }"#,
        "",
    );
    let p = paired(&treated, &control(), |x| x.low_income_onsets);
    assert_moves("low income onset ×0.5", &p, 0.5, 0.5, 0.5);
}

#[test]
fn event_rate_effect_scales_its_contacts() {
    // Contacts are Poisson with the services' total rate, each landing on a
    // service in proportion to its rate: expected A&E attendances are the
    // A&E rate itself, so they scale exactly with the multiplier.
    let treated = everyone(
        r#"{ on = "event_rate", service = "ae_attendance", multiplier = 0.5 }"#,
        "",
    );
    let p = paired(&treated, &control(), |x| x.ae_attendances);
    assert_moves("A&E rate ×0.5", &p, 0.5, 0.5, 0.5);
}

#[test]
fn episode_entry_effect_scales_its_entries() {
    // A household enters with probability 1 − e^−r for its entry rate r
    // (several contacts with the service still make one entry), so as for
    // need the ratio lies in [m, m/g(r)] for rates up to r: here the crisis
    // rate with every risk multiplier above 1 at once.
    let treated = everyone(
        r#"{ on = "episode_entry", service = "temporary_accommodation", multiplier = 0.5 }"#,
        BUSY_TA,
    );
    let control = everyone(r#"{ on = "escalation", multiplier = 1.0 }"#, BUSY_TA);
    let ta = &treated.episodes[2];
    assert_eq!(ta.id, "temporary_accommodation");
    let r = ta.entry_per_month[3]
        * ta.household_multiplier.iter().cloned().fold(0.0, f64::max)
        * ta.risk_multiplier
            .iter()
            .map(|m| m.max(1.0))
            .product::<f64>();
    let p = paired(&treated, &control, |x| x.ta_entries);
    assert_moves(
        "temporary accommodation entry ×0.5",
        &p,
        0.5,
        0.5,
        0.5 / g(r),
    );
}

#[test]
fn episode_duration_effect_scales_the_stays_drawn() {
    // The same households enter (entry is untouched) with the same luck.
    // A stay is D whole months, geometric with mean 1/q = 14, and halved it
    // is D/2 rounded, halves up: its mean is E[D]/2 + P(D odd)/2, and
    // P(D odd) = 1/(2 − q), so the ratio is 1/2 + q/(2(2 − q)).
    let treated = everyone(
        r#"{ on = "episode_duration", service = "temporary_accommodation", multiplier = 0.5 }"#,
        BUSY_TA,
    );
    let control = everyone(r#"{ on = "escalation", multiplier = 1.0 }"#, BUSY_TA);
    let entries = paired(&treated, &control, |x| x.ta_entries);
    assert_eq!(entries.treated, entries.control);
    let q = match treated.episodes[2].duration {
        upstream::model::Duration::Exponential { mean_months } => 1.0 / mean_months,
        _ => panic!("temporary accommodation's stays are exponential in the bundled borough"),
    };
    let expect = 0.5 + q / (2.0 * (2.0 - q));
    let p = paired(&treated, &control, |x| x.ta_months_drawn);
    assert_moves("temporary accommodation stay ×0.5", &p, 0.5, expect, expect);
}

#[test]
fn handoff_effect_scales_the_coordination_cost_exactly() {
    // Contacts are untouched, so the same extra services are touched and
    // each costs half as much: exactly half, to the penny (£116 a handoff).
    let treated = everyone(r#"{ on = "handoff_cost", multiplier = 0.5 }"#, "");
    let p = paired(&treated, &control(), |x| x.handoff_pence);
    assert_moves("handoff cost ×0.5", &p, 0.5, 0.5, 0.5);
    assert_eq!(p.treated * 2.0, p.control);
}

/// Supported residents (not case holders ending support this month) drop
/// out in month `t` exactly when the programme's own dropout draw for month
/// `t` falls under the monthly dropout rate.
#[test]
fn dropout_uses_this_months_draw_of_the_programmes_own_stream() {
    let rate = 0.3;
    let config = everyone(r#"{ on = "escalation", multiplier = 0.5 }"#, "");
    let mut config = config;
    if let upstream::model::Delivery::Caseload {
        dropout_per_month, ..
    } = &mut config.interventions.last_mut().unwrap().delivery
    {
        *dropout_per_month = rate;
    } else {
        panic!("the programme is a caseload");
    }
    let stream = stream_of("everyone");
    let thr = threshold(rate);
    let (mut dropped, mut stayed) = (0, 0);
    for replicate in 0..2 {
        let crn = Crn::new(SEED, replicate);
        let mut engine = Engine::new(&config, SEED, replicate);
        engine.run_to(1);
        for _ in 0..3 {
            let t = engine.months_run();
            let before = engine.population().residents.clone();
            engine.step();
            let after = &engine.population().residents;
            for r in 0..after.len() {
                let supported = before.intervention[r] & iv::SUPPORT != 0;
                if !supported || before.intervention_months[r] <= 1 {
                    continue;
                }
                let draw = crn
                    .resident(before.key(r))
                    .bits_for(t, Purpose::Dropout, stream);
                let expect = (draw as u32) < thr;
                let left = after.intervention[r] & iv::SUPPORT == 0;
                assert_eq!(left, expect, "resident {r} in month {t}");
                dropped += left as u32;
                stayed += !left as u32;
            }
        }
    }
    // Both outcomes were seen often, so the check was not vacuous.
    assert!(
        dropped > 1000 && stayed > 1000,
        "{dropped} dropped, {stayed} stayed"
    );
}

/// Two programmes offered to the same residents in the same month, each
/// engaging half of them: a resident who turns the first down engages with
/// the second half the time, as independent draws would. (Were the two
/// programmes to share one stream, everyone who refused the first would
/// refuse the second too.)
#[test]
fn two_programmes_offered_to_the_same_residents_draw_independently() {
    let config = everyone(
        r#"{ on = "escalation", multiplier = 1.0 }"#,
        &format!(
            r#"
[interventions.second]
name = "Second"
kind = "caseload"
payer = "voluntary_sector"
caseload = [{RESIDENTS}]
unit_cost_per_month = 1
engagement = 0.5
support_months = 24
effects = [{{ on = "escalation", multiplier = 1.0 }}]
"#
        ),
    );
    let mut config = config;
    for x in &mut config.interventions {
        if let upstream::model::Delivery::Caseload { engagement, .. } = &mut x.delivery {
            *engagement = 0.5;
        }
    }
    let index = |id: &str| {
        config
            .interventions
            .iter()
            .position(|x| x.id == id)
            .unwrap() as u8
            + 1
    };
    let (first, second) = (index("everyone"), index("second"));
    let mut counts = [0f64; 3];
    for replicate in 0..2 {
        let mut engine = Engine::new(&config, SEED, replicate);
        engine.run_to(1);
        for &s in &engine.population().residents.intervention {
            let i = s & iv::INDEX;
            counts[if i == first {
                0
            } else if i == second {
                1
            } else {
                2
            }] += 1.0;
        }
    }
    // The programme listed first offers first and engages half; the other
    // engages half of the refusers: a quarter of residents, and a quarter
    // are in neither.
    let n: f64 = counts.iter().sum();
    let expected = if first < second {
        [0.5, 0.25, 0.25]
    } else {
        [0.25, 0.5, 0.25]
    };
    for (k, expect) in expected.into_iter().enumerate() {
        let se = (expect * (1.0 - expect) / n).sqrt();
        assert!(
            (counts[k] / n - expect).abs() < 5.0 * se,
            "shares {:?} of {n}, expected {expected:?}",
            counts.map(|c| c / n)
        );
    }
}

/// Targeting reaches only whom it names: a household programme enrols only
/// households with a member in its age band (if it names one), one at or
/// above its need level and, if it asks, a child; a resident programme only
/// residents in its band at or above its need. Households are checked both
/// where their summary byte decides (no age band) and where their members
/// are read; each filter rules some out.
#[test]
fn targeting_reaches_only_whom_it_names() {
    let older = 2;
    for (unit, band, need, children) in [
        ("household", Some(older), 1u8, true),
        ("resident", Some(older), 1, false),
        ("household", None, 2, false),
        ("household", None, 1, true),
    ] {
        let text_targeting = format!(
            "{{ unit = \"{unit}\", need_at_least = \"{}\", with_children = {children}{} }}",
            ["thriving", "coping", "struggling", "crisis"][need as usize],
            if band.is_some() {
                ", age_bands = [\"older\"]"
            } else {
                ""
            },
        );
        let fixtures = format!("{}/tests/fixtures", env!("CARGO_MANIFEST_DIR"));
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("targeted.toml");
        fs::write(
            &path,
            format!(
                "name = \"Targeted\"\nextends = \"{fixtures}/small_plain.toml\"\n\
                 [interventions.targeted]\nname = \"Targeted\"\nkind = \"caseload\"\n\
                 payer = \"voluntary_sector\"\ncaseload = [{RESIDENTS}]\nunit_cost_per_month = 1\n\
                 engagement = 1.0\nsupport_months = 24\ntargeting = {text_targeting}\n\
                 effects = [{{ on = \"escalation\", multiplier = 1.0 }}]\n"
            ),
        )
        .unwrap();
        let config = scenario::load(&path)
            .unwrap_or_else(|e| panic!("{e}"))
            .config;
        let mut engine = Engine::new(&config, SEED, 0);
        engine.run_to(0);
        let before = engine.population().clone();
        engine.step();
        let after = &engine.population().residents;
        let res = &before.residents;
        let in_band = |r: usize| band.is_none_or(|b| config.age_bands.band(res.age[r]) == b);
        let case = format!("{unit}, {text_targeting}");
        let (mut enrolled, mut left_out) = (0, 0);
        for h in 0..before.households.len() {
            let members = before.households.members(h);
            // A member who left this month was replaced by a newcomer, whom
            // no enrolment has yet reached: judge households as they began.
            if members.clone().any(|r| after.arrival[r] != res.arrival[r]) {
                continue;
            }
            if unit == "household" {
                let supported = members
                    .clone()
                    .any(|r| after.intervention[r] & iv::SUPPORT != 0);
                let eligible = members.clone().any(in_band)
                    && members.clone().any(|r| res.need[r] >= need)
                    && (!children || members.clone().any(|r| res.age[r] < 18));
                assert!(
                    eligible || !supported,
                    "{case}: household {h} is not targeted but was enrolled"
                );
                // The whole household is enrolled together.
                assert!(
                    !supported
                        || members
                            .clone()
                            .all(|r| after.intervention[r] & iv::SUPPORT != 0)
                );
                enrolled += supported as u32;
                left_out += !eligible as u32;
            } else {
                for r in members {
                    let eligible = in_band(r) && res.need[r] >= need;
                    let supported = after.intervention[r] & iv::SUPPORT != 0;
                    assert!(
                        eligible || !supported,
                        "{case}: resident {r} is not targeted but was enrolled"
                    );
                    assert!(
                        !eligible || supported,
                        "{case}: resident {r} is targeted, yet not enrolled"
                    );
                    enrolled += supported as u32;
                    left_out += !eligible as u32;
                }
            }
        }
        // Few households have both a child and someone aged 65 to 84, but
        // some do; in every case many are left out.
        assert!(
            enrolled > 10 && left_out > 500,
            "{case}: {enrolled} enrolled, {left_out} left out"
        );
    }
}

/// An effect on one service's entries leaves every other service's expected
/// contacts as they were: a service's expected contacts are its own rate.
/// With temporary accommodation entered often and the effect taking every
/// entry away, A&E attendances must not move beyond the dice (were the
/// chance of any contact left as it was and only the choice of service
/// changed, A&E would gain what temporary accommodation lost).
#[test]
fn an_effect_on_one_service_leaves_the_others_contacts_as_they_were() {
    let busy = "[episodes.temporary_accommodation]\nentry_per_month = [0.05, 0.05, 0.05, 0.05]\n";
    let treated = everyone(
        r#"{ on = "episode_entry", service = "temporary_accommodation", multiplier = 0.0 }"#,
        busy,
    );
    let control = everyone(r#"{ on = "escalation", multiplier = 1.0 }"#, busy);
    let entries = paired(&treated, &control, |x| x.ta_entries);
    assert_eq!(entries.treated, 0.0);
    assert!(entries.control > 1000.0, "{}", entries.control);
    let p = paired(&treated, &control, |x| x.ae_attendances);
    assert!(
        (p.treated - p.control).abs() <= 3.0 * p.se,
        "A&E attendances moved from {} to {} (paired standard error {})",
        p.control,
        p.treated,
        p.se
    );
}
