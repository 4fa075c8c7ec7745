//! Break-even (`upstream break-even`): the value a lever's grid reports as
//! the break-even really gives a net present value of about zero when the
//! scenario is run there; every replicate's break-even lies on the grid's
//! side that the band says; a lever with no change is not a lever; with
//! the other parameters drawn at zero width it is the plain break-even,
//! and at real widths each replicate's draw is shared along the grid while
//! the lever alone moves; and the command writes its file or refuses
//! clearly.

use std::path::Path;

use upstream::app::Plan;
use upstream::experiments::break_even::{BreakEvens, Crossing, Drawn, break_even};
use upstream::replicates::Runs;
use upstream::scenario::Loaded;

use crate::common::{small_hubs_plan, upstream};

/// The small borough and its hubs made cheap enough per case to pay back
/// within the grid.
fn cheap_hubs() -> (Vec<Loaded>, upstream::replicates::RunSettings) {
    let plan = small_hubs_plan(8, 9, 2, 2);
    let mut scenarios = plan.scenarios().to_vec();
    scenarios[1] = scenarios[1]
        .with_numbers(&[("interventions.hubs.unit_cost_per_month", &[60.0])])
        .unwrap();
    (scenarios, plan.settings().clone())
}

#[test]
fn the_break_even_found_is_where_net_present_value_is_zero() {
    let (scenarios, settings) = cheap_hubs();
    let found = break_even(&scenarios, &settings, None, &mut Runs::whole(), &|| {})
        .unwrap()
        .expect("run whole");
    // Engagement and the four effects.
    assert_eq!(found.levers.len(), 5);
    let crossed: Vec<_> = found
        .levers
        .iter()
        .filter_map(|l| match l.central {
            Crossing::At(v) => Some((l, v)),
            _ => None,
        })
        .collect();
    assert!(!crossed.is_empty(), "{:#?}", found.levers);
    for (l, v) in crossed {
        // Between the grid points it was interpolated from.
        let i = l
            .grid
            .windows(2)
            .position(|w| (w[0].min(w[1])..=w[0].max(w[1])).contains(&v));
        let i = i.expect("on the grid");
        assert!(l.npv[i] <= 0.0 && l.npv[i + 1] > 0.0, "{l:?}");
        // Run there, the comparison's net present value is near zero: far
        // nearer than the grid's own step in net present value.
        let at = scenarios[1]
            .with_numbers(&[(l.parameter.as_str(), &[v])])
            .unwrap();
        let plan = Plan::of(vec![scenarios[0].clone(), at], settings.clone()).unwrap();
        let npv = plan.run(&|| {}).unwrap().economics.appraisals[0].npv.mean;
        let step = l.npv[i + 1] - l.npv[i];
        assert!(
            npv.abs() < 0.5 * step,
            "{}: {npv} at {v}, step {step}",
            l.parameter
        );
        // The band's ends are in order along the lever's strength.
        let s = |c: Crossing| match c {
            Crossing::WithoutIt => f64::NEG_INFINITY,
            Crossing::At(x) => l.strength(x),
            Crossing::Beyond => f64::INFINITY,
        };
        let (low, high) = l.band.expect("8 replicates give a band");
        assert!(s(low) <= s(high), "{l:?}");
    }
}

#[test]
fn levers_are_the_changed_interventions_own_and_the_grid_starts_at_no_effect() {
    let (scenarios, settings) = cheap_hubs();
    let found = break_even(&scenarios, &settings, None, &mut Runs::whole(), &|| {})
        .unwrap()
        .expect("run whole");
    for l in &found.levers {
        assert!(l.parameter.starts_with("interventions.hubs."), "{l:?}");
        assert_eq!(l.grid[0], l.none);
        assert_eq!(l.npv.len(), l.grid.len());
    }
    let engagement = &found.levers[0];
    assert_eq!(engagement.parameter, "interventions.hubs.engagement");
    assert_eq!((engagement.none, engagement.stated), (0.0, 0.95));
    assert_eq!(*engagement.grid.last().unwrap(), 1.0);
    // With no one engaging, hubs spend and save nothing a resident could
    // cause: the net present value is the spend, lost.
    assert!(engagement.npv[0] < 0.0);
    let police = found
        .levers
        .iter()
        .find(|l| l.label.contains("Police"))
        .unwrap();
    assert_eq!((police.none, police.stated), (1.0, 0.7));
    assert!(
        police.reading().contains("stated: a fall of 30%"),
        "{}",
        police.reading()
    );
    // A name with no number behind it is refused, by name.
    let e = scenarios[1]
        .with_numbers(&[("interventions.hubs.name", &[1.0])])
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("`interventions.hubs.name` holds no number"),
        "{e}"
    );
    assert!(e.contains("small_hubs.toml"), "{e}");
}

#[test]
fn the_command_writes_break_even_csv_or_refuses_clearly() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("be");
    let run = |scenarios: &[&str]| {
        let mut args = vec!["break-even"];
        args.extend(scenarios);
        args.extend(["-r", "2", "--years", "1", "-o", out.to_str().unwrap()]);
        upstream(&args)
    };
    let alone = run(&["tests/fixtures/small.toml"]);
    assert_eq!(alone.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&alone.stderr).contains("give at least one scenario after it"));
    assert!(!out.exists());
    let ok = run(&[
        "tests/fixtures/small.toml",
        "tests/fixtures/small_hubs.toml",
    ]);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let csv = std::fs::read_to_string(out.join("break_even.csv")).unwrap();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next().unwrap(),
        "scenario,parameter,value_with_no_effect,value_stated,break_even,break_even_p5,break_even_p95,grid_end,npv_gbp_with_no_effect,reading"
    );
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), 5);
    // Two replicates are too few for a band: its cells are empty, no
    // reading gives one, and the terminal says why.
    for r in &rows {
        let cells: Vec<&str> = r.split(',').collect();
        assert_eq!((cells[5], cells[6]), ("", ""), "{r}");
        assert!(!r.contains("across replicates"), "{r}");
    }
    // Each row's reading is the sentence the terminal printed.
    let stdout = String::from_utf8_lossy(&ok.stdout);
    assert!(stdout.contains("No bands: 2 replicates are too few for a 90% range"));
    for r in &rows {
        let reading = r.rsplit_once(",\"").map_or_else(
            || r.rsplit(',').next().unwrap().to_string(),
            |(_, q)| q.trim_end_matches('"').replace("\"\"", "\""),
        );
        assert!(stdout.contains(&reading), "{reading} not printed");
        // And the page gives it too, escaped for HTML.
        let page = std::fs::read_to_string(out.join("report.html")).unwrap();
        let escaped = reading.replace('&', "&amp;").replace('\'', "&#39;");
        assert!(page.contains(&escaped), "{reading} not on the page");
    }
}

/// The cheap hubs against the small borough with default widths `w`, their
/// break-evens with the other parameters drawn (and the same without).
fn drawn_and_plain(w: f64) -> (BreakEvens, BreakEvens) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let small = root.join("small.toml");
    let extra =
        format!("\n[uncertainty]\ndefault_width = {{ high = {w}, medium = {w}, low = {w} }}\n");
    let read = |p: &Path| {
        let text = upstream::input::read(p)?;
        Ok(if p == small { text + &extra } else { text })
    };
    let load = |name: &str| {
        upstream::scenario::load_from(&root.join(name), &Default::default(), &read).unwrap()
    };
    let (_, settings) = cheap_hubs();
    let scenarios = vec![
        load("small.toml"),
        load("small_hubs.toml")
            .with_numbers(&[("interventions.hubs.unit_cost_per_month", &[60.0])])
            .unwrap(),
    ];
    let plan = Plan::of(scenarios.clone(), settings.clone())
        .unwrap()
        .with_uncertainty()
        .unwrap();
    let drawn = Drawn {
        baseline: (0..settings.replicates)
            .map(|r| plan.config_at(0, r, true))
            .collect(),
        held: &plan.draws().unwrap().held,
    };
    let with = break_even(
        plan.scenarios(),
        &settings,
        Some(&drawn),
        &mut Runs::whole(),
        &|| {},
    )
    .unwrap()
    .unwrap();
    let without = break_even(&scenarios, &settings, None, &mut Runs::whole(), &|| {})
        .unwrap()
        .unwrap();
    (with, without)
}

#[test]
fn with_parameters_drawn_at_zero_width_the_break_even_is_the_plain_one() {
    let (drawn, plain) = drawn_and_plain(0.0);
    assert_eq!(drawn.levers.len(), plain.levers.len());
    for (d, p) in drawn.levers.iter().zip(&plain.levers) {
        assert!(d.parameters_drawn && !p.parameters_drawn);
        assert_eq!((&d.parameter, &d.grid), (&p.parameter, &p.grid));
        assert_eq!(d.npv, p.npv, "{}", d.parameter);
        assert_eq!((d.central, d.band), (p.central, p.band), "{}", d.parameter);
    }
}

#[test]
fn with_parameters_drawn_the_lever_alone_moves_along_the_grid() {
    let (drawn, plain) = drawn_and_plain(0.3);
    let mut moved = 0;
    for (d, p) in drawn.levers.iter().zip(&plain.levers) {
        assert_eq!(d.grid, p.grid, "the grid is the stated lever's");
        if d.npv != p.npv {
            moved += 1;
        }
        // The band, where there is one, says what it covers.
        if d.band.is_some_and(|(a, b)| a != b) {
            assert!(
                d.reading()
                    .contains("across replicates, the other parameters drawn"),
                "{}",
                d.reading()
            );
        }
        // Each replicate's draw is the same at every point, so the net
        // present value still rises with engagement from none (nobody
        // reached, nothing saved) as it does without draws.
        if d.parameter.ends_with(".engagement") {
            assert!(
                d.npv[0] < 0.0 && d.npv[0] < *d.npv.last().unwrap(),
                "{:?}",
                d.npv
            );
        }
    }
    assert_eq!(
        moved,
        drawn.levers.len(),
        "the draws move every lever's net present value"
    );
}

#[test]
fn the_command_draws_the_other_parameters_when_asked_and_says_so() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("be");
    let ok = upstream(&[
        "break-even",
        "tests/fixtures/small.toml",
        "tests/fixtures/small_hubs.toml",
        "-r",
        "8",
        "--years",
        "1",
        "--uncertainty",
        "-o",
        out.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&ok.stdout);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let sentence = stdout
        .lines()
        .find(|l| l.starts_with("Bands cover chance and "))
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(
        sentence.contains("the lever alone set by the grid"),
        "{sentence}"
    );
    let page = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(
        page.contains(&sentence.replace('\'', "&#39;")),
        "the page says it too"
    );
}
