//! Parameter uncertainty (`--uncertainty`): with every width zero a run
//! that draws parameters gives the plain run's results; wider ranges give
//! wider bands; a figure linear in one drawn parameter gives back each
//! replicate's draw, and the draws follow the stated distribution; every
//! scenario draws the same value of a parameter they share; the draws do
//! not depend on the thread count; the present is held while the
//! parameters are drawn; and a bad range is refused with its
//! file, line and field.

use std::fs;
use std::path::{Path, PathBuf};

use upstream::app::{Outcome, Plan, PlanError};
use upstream::metrics::{Metric, ServiceMeasure};
use upstream::replicates::RunSettings;
use upstream::scenario::{self, Loaded, Overrides};

use crate::common::assert_rejected;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// A scenario named `name` that extends the fixture `extends` with `extra`.
fn scenario(name: &str, extends: &str, extra: &str) -> Loaded {
    let path = fixture(&format!("{}.toml", name.to_lowercase().replace(' ', "_")));
    let text = format!("name = \"{name}\"\nextends = \"{extends}\"\n{extra}\n");
    let read = |p: &Path| {
        if p == path {
            Ok(text.clone())
        } else {
            fs::read_to_string(p)
        }
    };
    scenario::load_from(&path, &Overrides::default(), &read).unwrap_or_else(|e| panic!("{e}"))
}

fn widths(w: f64) -> String {
    format!("[uncertainty]\ndefault_width = {{ high = {w}, medium = {w}, low = {w} }}")
}

fn settings(replicates: u32, threads: usize) -> RunSettings {
    RunSettings {
        replicates,
        seed: 11,
        threads: Some(threads),
    }
}

/// The small borough and its hubs under default widths `w`.
fn pair(w: f64) -> Vec<Loaded> {
    vec![
        scenario("Small borough", "small.toml", &widths(w)),
        scenario("Small borough with hubs", "small_hubs.toml", ""),
    ]
}

fn run(scenarios: Vec<Loaded>, settings: RunSettings, drawn: bool) -> Outcome {
    let plan = Plan::of(scenarios, settings).unwrap();
    let plan = if drawn {
        plan.with_uncertainty().unwrap()
    } else {
        plan
    };
    plan.run(&|| {}).unwrap()
}

fn file(outcome: &Outcome, name: &str) -> Vec<u8> {
    let files = outcome.render().unwrap();
    files.into_iter().find(|(n, _)| n == name).unwrap().1
}

fn sd(xs: &[f64]) -> f64 {
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    (xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt()
}

#[test]
fn zero_widths_give_the_plain_runs_results() {
    let drawn = run(pair(0.0), settings(3, 2), true);
    let plain = run(pair(0.0), settings(3, 2), false);
    // Every parameter with a grade was drawn, at zero width.
    assert!(drawn.plan.scenarios()[0].uncertainty.parameters.len() > 30);
    for name in [
        "timeseries.csv",
        "differences.csv",
        "by_neighbourhood.csv",
        "budget.csv",
    ] {
        assert!(file(&drawn, name) == file(&plain, name), "{name} differs");
    }
    let (mut a, p) = (drawn.economics.clone(), &plain.economics);
    let split = a.appraisals[0]
        .npv_variance
        .take()
        .expect("a split when drawn");
    let voi = a.value_of_information.take().expect("a value when drawn");
    assert_eq!(&a, p);
    // Nothing for the parameters to explain, nor worth finding out.
    assert_eq!(split.parameters, 0.0);
    assert_eq!(voi.evpi_gbp, 0.0);
    assert!(voi.parameters.iter().all(|p| p.evppi_gbp == 0.0));
    assert!(split.chance == 1.0 && split.sd > 0.0);
}

#[test]
fn wider_ranges_give_wider_bands() {
    let cost = |o: &Outcome| o.experiment.scenarios[0].totals(&Metric::ReactiveCost);
    let mut last: Option<(f64, f64)> = None;
    for w in [0.0, 0.2, 0.5] {
        let o = run(pair(w), settings(8, 2), true);
        let spread = (
            sd(&cost(&o)),
            o.economics.appraisals[0].npv_variance.unwrap().sd,
        );
        if let Some(before) = last {
            assert!(
                spread.0 > before.0,
                "reactive cost sd {spread:?} after {before:?} at ±{w}"
            );
            assert!(
                spread.1 > before.1,
                "net present value sd {spread:?} after {before:?} at ±{w}"
            );
        }
        last = Some(spread);
        // Knowing one parameter is never worth more than knowing them all.
        let voi = o.economics.value_of_information.as_ref().unwrap();
        assert!(voi.evpi_gbp >= 0.0);
        for p in &voi.parameters {
            assert!(
                (0.0..=voi.evpi_gbp * (1.0 + 1e-12) + 1e-6).contains(&p.evppi_gbp),
                "{} worth {} against {}",
                p.parameter,
                p.evppi_gbp,
                voi.evpi_gbp
            );
        }
    }
}

/// A service's cost is linear in its unit cost: each replicate's cost over
/// its contacts gives back that replicate's draw, and the draws recovered
/// follow the stated uniform distribution (a Kolmogorov–Smirnov test at
/// 5%).
#[test]
fn a_figure_linear_in_one_parameter_recovers_its_distribution() {
    let base = scenario(
        "Small borough",
        "small.toml",
        &format!(
            "{}\n[events.ae_attendance]\nunit_cost = {{ value = 273.0, range = [200.0, 400.0], distribution = \"uniform\" }}",
            widths(0.0)
        ),
    );
    let p = base
        .uncertainty
        .parameters
        .iter()
        .position(|u| u.parameter == "events.ae_attendance.unit_cost")
        .unwrap();
    let n = 40;
    let o = run(vec![base], settings(n, 2), true);
    let runs = &o.experiment.scenarios[0];
    let measure = |m| runs.totals(&Metric::Service("ae_attendance".into(), m));
    let (cost, contacts) = (
        measure(ServiceMeasure::Cost),
        measure(ServiceMeasure::Events),
    );
    let draws = &o.plan.draws().unwrap().values[0];
    let mut recovered: Vec<f64> = (0..n as usize).map(|r| cost[r] / contacts[r]).collect();
    for (r, x) in recovered.iter().enumerate() {
        let drawn = draws[r][p][0];
        // Costs are kept in whole pence.
        assert!(
            (x - drawn).abs() < 0.01,
            "replicate {r}: {x} from a draw of {drawn}"
        );
    }
    recovered.sort_by(f64::total_cmp);
    let d = recovered
        .iter()
        .enumerate()
        .map(|(i, x)| {
            let f = (x - 200.0) / 200.0;
            (f - i as f64 / n as f64)
                .abs()
                .max(((i + 1) as f64 / n as f64 - f).abs())
        })
        .fold(0.0, f64::max);
    assert!(d < 1.36 / (n as f64).sqrt(), "KS distance {d}");
}

#[test]
fn scenarios_share_each_replicates_draw_and_threads_do_not_matter() {
    let one = run(pair(0.5), settings(3, 1), true);
    let two = run(pair(0.5), settings(3, 2), true);
    // Every file but the two that record the thread count.
    for (name, _) in one.render().unwrap() {
        if name != "summary.json" && name != "upstream.xlsx" {
            assert!(
                file(&one, &name) == file(&two, &name),
                "{name} differs between 1 and 2 threads"
            );
        }
    }
    let without_threads = |o: &Outcome| {
        let mut v: serde_json::Value = serde_json::from_slice(&file(o, "summary.json")).unwrap();
        v["settings"].as_object_mut().unwrap().remove("threads");
        v
    };
    assert_eq!(without_threads(&one), without_threads(&two));
    let scenarios = one.plan.scenarios();
    let values = &one.plan.draws().unwrap().values;
    let mut shared = 0;
    for (p, u) in scenarios[0].uncertainty.parameters.iter().enumerate() {
        let Some(q) = scenarios[1]
            .uncertainty
            .parameters
            .iter()
            .position(|v| v.parameter == u.parameter)
        else {
            continue;
        };
        shared += 1;
        for (r, (a, b)) in values[0].iter().zip(&values[1]).enumerate() {
            assert_eq!(a[p], b[q], "{} in replicate {r}", u.parameter);
        }
    }
    assert!(shared > 30);
    // And they do move from replicate to replicate.
    assert_ne!(values[0][0], values[0][1]);
    // Held at the present, scenarios that share a burn-in as stated still
    // share it as drawn: the drawn runs and the stated re-runs each share
    // as the plain run does.
    let plain = run(pair(0.5), settings(3, 1), false);
    assert!(plain.experiment.burn_in_shared > 0);
    assert_eq!(
        one.experiment.burn_in_shared,
        2 * plain.experiment.burn_in_shared
    );
}

#[test]
fn a_run_with_nothing_uncertain_is_refused() {
    let plain = |name: &str, extends: &str| {
        scenario(name, extends, "")
            .with_default_width(None)
            .unwrap()
    };
    let plan = Plan::of(
        vec![
            plain("Small borough", "small.toml"),
            plain("Hubs", "small_hubs.toml"),
        ],
        settings(2, 2),
    )
    .unwrap();
    assert!(matches!(
        plan.with_uncertainty(),
        Err(upstream::app::Error::Plan(PlanError::NothingUncertain))
    ));
}

#[test]
fn bad_ranges_are_refused_with_file_line_and_field() {
    let base = "name = \"Bad\"\nextends = \"BASELINE\"\n";
    assert_rejected(
        &format!(
            "{base}[events.ae_attendance]\nunit_cost = {{ value = 273, range = [300, 400] }}\n"
        ),
        &[
            "bad.toml, line 4, field `events.ae_attendance.unit_cost.range`",
            "at most `value`",
        ],
    );
    assert_rejected(
        &format!(
            "{base}[need]\nutility = {{ value = [0.9, 0.8, 0.65, 0.45], range = [0.5, 1.0] }}\n"
        ),
        &[
            "field `need.utility.range`",
            "[[4 low values], [4 high values]]",
        ],
    );
    assert_rejected(
        &format!(
            "{base}[assets]\nescalation_multiplier = {{ value = 0.85, range = [0.5, 1.0], distribution = \"normal\" }}\n"
        ),
        &[
            "field `assets.escalation_multiplier.distribution`",
            "unknown distribution \"normal\"",
        ],
    );
    assert_rejected(
        &format!(
            "{base}[interventions.early_help]\nengagement = {{ value = 0.8, range = [0.5, 1.2] }}\n"
        ),
        &[
            "field `interventions.early_help.engagement.range`",
            "at its range's high end (1.2) the scenario is refused",
        ],
    );
    assert_rejected(
        &format!(
            "{base}[economics]\ngeneral_inflation = {{ value = 0.02, range = [0.01, 0.03] }}\n"
        ),
        &["field `economics.general_inflation.range`", "not yet drawn"],
    );
    assert_rejected(
        &format!(
            "{base}[uncertainty]\ndefault_width = {{ high = 0.1, medium = 0.25, low = 1.5 }}\n"
        ),
        &[
            "field `uncertainty.default_width.low`",
            "expected a share from 0 to 1",
        ],
    );
}

/// Each service's first-year measure (a month's contacts, or the residents
/// in it on a day), the mean of its first twelve months, replicate by
/// replicate.
fn first_years(o: &Outcome) -> Vec<(String, Vec<f64>)> {
    let runs = &o.experiment.scenarios[0];
    let config = &o.plan.scenarios()[0].config;
    let events = config
        .events
        .iter()
        .map(|s| (s.id.clone(), ServiceMeasure::Events));
    let episodes = config
        .episodes
        .iter()
        .map(|e| (e.id.clone(), ServiceMeasure::Occupancy));
    events
        .chain(episodes)
        .map(|(id, m)| {
            let metric = Metric::Service(id.clone(), m);
            let each = (0..runs.series.len())
                .map(|r| runs.monthly(&metric, r)[..12].iter().sum::<f64>() / 12.0)
                .collect();
            (format!("{id} {m:?}"), each)
        })
        .collect()
}

fn mean(xs: &[f64]) -> f64 {
    xs.iter().sum::<f64>() / xs.len() as f64
}

/// Under wide ranges the baseline stays the place: every service's
/// first-year mean with parameters drawn is within 5% of the stated run's
/// (give or take three standard errors of chance), where the same draws
/// left unheld miss some service by more than 15%.
#[test]
fn the_present_is_held_while_the_parameters_are_drawn() {
    let n = 16;
    let place = || {
        scenario(
            "Small borough",
            "small.toml",
            &format!("{}\n[population]\nresidents = 40_000", widths(0.5)),
        )
    };
    let stated = first_years(&run(vec![place()], settings(n, 2), false));
    let drawn = first_years(&run(vec![place()], settings(n, 2), true));
    let mut checked = 0;
    for ((name, s), (_, d)) in stated.iter().zip(&drawn) {
        let (ms, md) = (mean(s), mean(d));
        if ms < 20.0 {
            continue;
        }
        checked += 1;
        let se = ((sd(s).powi(2) + sd(d).powi(2)) / n as f64).sqrt();
        assert!(
            (md - ms).abs() <= 0.05 * ms + 3.0 * se,
            "{name}: {md:.1} drawn against {ms:.1} stated (se {se:.1})"
        );
    }
    assert!(
        checked >= 6,
        "only {checked} services large enough to check"
    );
    // The same draws, unheld: each replicate's first year as drawn.
    let l = place();
    let unheld: Vec<upstream::present::FirstYear> = (0..n)
        .map(|r| {
            let (config, _) = l.drawn(upstream::rng::Crn::new(11, r)).unwrap();
            upstream::present::first_year(&config, 1, 11 + r as u64, Some(2)).unwrap()
        })
        .collect();
    let config = &l.config;
    let worst = (0..config.events.len())
        .map(|s| {
            let each: Vec<f64> = unheld.iter().map(|y| y.contacts_per_month[s]).collect();
            (mean(&each) / mean(&stated[s].1) - 1.0).abs()
        })
        .fold(0.0, f64::max);
    assert!(
        worst > 0.15,
        "unheld draws move the present by {worst:.3} at most"
    );
}

/// Held by the residents' own hazards alone, a draw with faster escalation
/// and longer stays expects the stated place's activity again, service by
/// service, and the factors returned are the ones its rates were scaled by.
#[test]
fn a_draw_held_at_the_start_expects_the_stated_activity() {
    use upstream::engine::expected_at_start;
    let stated = scenario("Small borough", "small.toml", "").config;
    let mut drawn = stated.clone();
    drawn.need.escalation = drawn.need.escalation.map(|x| x * 1.5);
    for e in &mut drawn.episodes {
        e.entry_per_month = e.entry_per_month.map(|x| x * 0.7);
    }
    let before = drawn.clone();
    let present = expected_at_start(&stated);
    let moved = expected_at_start(&drawn);
    let held = upstream::present::hold_at_start(&present, &mut drawn);
    let now = expected_at_start(&drawn);
    let pairs = present
        .contacts_per_month
        .iter()
        .zip(&now.contacts_per_month)
        .chain(present.occupancy.iter().zip(&now.occupancy));
    for (want, got) in pairs {
        assert!((got / want - 1.0).abs() < 1e-3, "{got} against {want}");
    }
    // Unheld, the draw was another place.
    let worst = present
        .contacts_per_month
        .iter()
        .zip(&moved.contacts_per_month)
        .chain(present.occupancy.iter().zip(&moved.occupancy))
        .map(|(want, got)| (got / want - 1.0).abs())
        .fold(0.0, f64::max);
    assert!(
        worst > 0.2,
        "unheld, the draw moves the present by {worst} at most"
    );
    for ((s, b), (id, k)) in drawn.events.iter().zip(&before.events).zip(&held.events) {
        assert_eq!(&s.id, id);
        assert!((s.rate_per_month[0] / b.rate_per_month[0] - k).abs() < 1e-9);
        assert!(*k < 1.0, "{id}: faster escalation is scaled down, by {k}");
    }
    for ((e, b), (_, k)) in drawn
        .episodes
        .iter()
        .zip(&before.episodes)
        .zip(&held.episodes)
    {
        assert!((e.entry_per_month[3] / b.entry_per_month[3] - k).abs() < 1e-9);
    }
}

/// `present.csv` holds, for every replicate and service, the stated first
/// year and the factor that replicate's rates were scaled by.
#[test]
fn present_csv_records_each_replicates_factors() {
    let n = 3;
    let o = run(pair(0.5), settings(n, 2), true);
    let text = String::from_utf8(file(&o, "present.csv")).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("replicate,metric,stated_first_year_mean,rates_scaled_by")
    );
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    let draws = o.plan.draws().unwrap();
    let services = draws.held[0].events.len() + draws.held[0].episodes.len();
    assert_eq!(rows.len(), n as usize * services);
    for (r, held) in draws.held.iter().enumerate() {
        let factors = held.events.iter().chain(&held.episodes);
        let stated = draws
            .stated
            .contacts_per_month
            .iter()
            .chain(&draws.stated.occupancy);
        for (((id, k), x), row) in factors.zip(stated).zip(&rows[r * services..]) {
            assert_eq!(row[0], (r + 1).to_string());
            assert!(row[1].starts_with(&format!("service.{id}.")), "{row:?}");
            assert_eq!(row[2].parse::<f64>().unwrap(), *x);
            assert_eq!(row[3].parse::<f64>().unwrap(), *k);
        }
    }
    // The factors move with the draws.
    assert!(rows.iter().any(|r| r[3].parse::<f64>().unwrap() != 1.0));
    // A run that draws nothing writes the header alone.
    let plain = run(pair(0.5), settings(n, 2), false);
    let text = String::from_utf8(file(&plain, "present.csv")).unwrap();
    assert_eq!(text.lines().count(), 1);
}

/// Ranks of `xs`, 0 to n − 1 (no ties in continuous draws).
fn ranks(xs: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..xs.len()).collect();
    order.sort_by(|&a, &b| xs[a].total_cmp(&xs[b]));
    let mut r = vec![0.0; xs.len()];
    for (rank, &i) in order.iter().enumerate() {
        r[i] = rank as f64;
    }
    r
}

/// Spearman's rank correlation.
fn spearman(a: &[f64], b: &[f64]) -> f64 {
    let (ra, rb) = (ranks(a), ranks(b));
    let (ma, mb) = (mean(&ra), mean(&rb));
    let cov: f64 = ra.iter().zip(&rb).map(|(x, y)| (x - ma) * (y - mb)).sum();
    let var = |r: &[f64], m: f64| r.iter().map(|x| (x - m).powi(2)).sum::<f64>();
    cov / (var(&ra, ma) * var(&rb, mb)).sqrt()
}

/// Stated correlations hold in the draws: two parameters at a rank
/// correlation of −0.6 come out at it (2,000 replicates), each still
/// uniform on its quantiles (Kolmogorov–Smirnov at 5%); a group at 1 moves
/// together; a parameter named in none draws as before; and the
/// assumptions say so beside each range.
#[test]
fn correlated_parameters_keep_their_ranges_and_take_the_stated_rank_correlation() {
    let l = scenario(
        "Small borough",
        "small.toml",
        "[uncertainty]\ncorrelations = [\n  { parameters = [\"need.escalation_per_month\", \"need.recovery_per_month\"], rank = -0.6, source = \"Illustrative\" },\n  { parameters = [\"events.ae_attendance.unit_cost\", \"events.unplanned_admission.unit_cost\", \"events.ambulance_callout.unit_cost\"], rank = 1.0 },\n]",
    );
    let u = &l.uncertainty;
    let find = |name: &str| u.parameters.iter().find(|p| p.parameter == name).unwrap();
    let n = 2_000;
    let q = |name: &str| -> Vec<f64> {
        (0..n)
            .map(|r| u.quantile_of(upstream::rng::Crn::new(3, r), find(name)))
            .collect()
    };
    let (esc, rec) = (q("need.escalation_per_month"), q("need.recovery_per_month"));
    let rho = spearman(&esc, &rec);
    assert!((rho + 0.6).abs() < 0.05, "rank correlation {rho}");
    for xs in [&esc, &rec] {
        let mut s = xs.clone();
        s.sort_by(f64::total_cmp);
        let d = s
            .iter()
            .enumerate()
            .map(|(i, x)| {
                (x - i as f64 / n as f64)
                    .abs()
                    .max(((i + 1) as f64 / n as f64 - x).abs())
            })
            .fold(0.0, f64::max);
        assert!(d < 1.36 / (n as f64).sqrt(), "KS distance {d}");
    }
    let group: Vec<Vec<f64>> = [
        "events.ae_attendance.unit_cost",
        "events.unplanned_admission.unit_cost",
        "events.ambulance_callout.unit_cost",
    ]
    .iter()
    .map(|p| q(p))
    .collect();
    for ((a, b), c) in group[0].iter().zip(&group[1]).zip(&group[2]) {
        assert!((a - b).abs() < 1e-9 && (a - c).abs() < 1e-9);
    }
    // Uncorrelated parameters draw their own quantile, as before.
    let free = find("need.utility");
    let crn = upstream::rng::Crn::new(3, 7);
    assert_eq!(
        u.quantile_of(crn, free),
        upstream::rng::parameter_uniform(crn, "need.utility")
    );
    let said = u.range_of("need.escalation_per_month").uncertainty;
    assert!(
        said.contains("rank correlation -0.6 with need.recovery_per_month"),
        "{said}"
    );
    // Without the correlation the two draw independently.
    let plain = scenario("Small borough", "small.toml", "");
    let free: Vec<f64> = (0..n)
        .map(|r| {
            plain.uncertainty.quantile_of(
                upstream::rng::Crn::new(3, r),
                find("need.recovery_per_month"),
            )
        })
        .collect();
    assert!(spearman(&esc, &free).abs() < 0.1);
}

#[test]
fn correlations_that_cannot_hold_are_refused_with_file_line_and_field() {
    let base = "name = \"Bad\"\nextends = \"BASELINE\"\n";
    assert_rejected(
        &format!(
            "{base}[uncertainty]\ncorrelations = [{{ parameters = [\"need.escalation_per_month\", \"need.nothing\"], rank = 0.5 }}]\n"
        ),
        &[
            "field `uncertainty.correlations[0].parameters`",
            "\"need.nothing\" is not an uncertain parameter",
        ],
    );
    assert_rejected(
        &format!(
            "{base}[uncertainty]\ncorrelations = [{{ parameters = [\"need.escalation_per_month\", \"need.recovery_per_month\"], rank = 1.5 }}]\n"
        ),
        &["field `uncertainty.correlations[0].rank`", "from −1 to 1"],
    );
    assert_rejected(
        &format!(
            "{base}[uncertainty]\ncorrelations = [{{ parameters = [\"need.escalation_per_month\", \"need.recovery_per_month\", \"need.utility\"], rank = -0.9 }}]\n"
        ),
        &["uncertainty.correlations", "cannot all hold at once"],
    );
    assert_rejected(
        &format!(
            "{base}[uncertainty]\ncorrelations = [{{ parameters = [\"need.utility\", \"need.utility\"], rank = 0.5 }}]\n"
        ),
        &["two or more different uncertain parameters"],
    );
}

/// `draws.csv` holds each scenario's draw of each uncertain parameter in
/// each replicate: its quantile (the copula's, where it is correlated) and
/// the value it gives, as the run drew them.
#[test]
fn draws_csv_records_each_replicates_draw() {
    let n = 2;
    let o = run(pair(0.5), settings(n, 2), true);
    let text = String::from_utf8(file(&o, "draws.csv")).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("scenario,replicate,parameter,quantile,value")
    );
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    let scenarios = o.plan.scenarios();
    let values = &o.plan.draws().unwrap().values;
    let expected: usize = scenarios
        .iter()
        .map(|l| l.uncertainty.parameters.len() * n as usize)
        .sum();
    assert_eq!(rows.len(), expected);
    // The baseline's first replicate, parameter by parameter (lists are
    // written in brackets, so only single numbers are compared here).
    let base = &scenarios[0];
    for (p, u) in base.uncertainty.parameters.iter().enumerate() {
        let row = &rows[p];
        assert_eq!(
            (row[0], row[1], row[2]),
            (base.config.name.as_str(), "1", u.parameter.as_str())
        );
        let q = base
            .uncertainty
            .quantile_of(upstream::rng::Crn::new(11, 0), u);
        assert_eq!(row[3].parse::<f64>().unwrap(), q);
        if values[0][0][p].len() == 1 {
            assert_eq!(row[4].parse::<f64>().unwrap(), values[0][0][p][0]);
        }
    }
}

/// Too few replicates for bands still say what the replicates cover: the
/// means of drawn replicates are not the stated run's.
#[test]
fn without_bands_a_run_still_says_its_parameters_were_drawn() {
    let base = || scenario("Small borough", "small.toml", &widths(0.2));
    let drawn = run(vec![base()], settings(2, 1), true).table();
    assert!(drawn.contains("No bands: 2 replicates"), "{drawn}");
    assert!(drawn.contains("uncertain parameters together"), "{drawn}");
    let plain = run(vec![base()], settings(2, 1), false).table();
    assert!(plain.contains("No bands: 2 replicates"), "{plain}");
    assert!(!plain.contains("Bands cover"), "{plain}");
}
