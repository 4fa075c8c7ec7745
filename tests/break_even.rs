//! Break-even (`upstream break-even`): the value a lever's grid reports as
//! the break-even really gives a net present value of about zero when the
//! scenario is run there; every replicate's break-even lies on the grid's
//! side that the band says; a lever with no change is not a lever; and the
//! command writes its file or refuses clearly.

use upstream::app::Plan;
use upstream::experiments::break_even::{Crossing, break_even};
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
    let found = break_even(&scenarios, &settings, &mut Runs::whole(), &|| {})
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
    let found = break_even(&scenarios, &settings, &mut Runs::whole(), &|| {})
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
