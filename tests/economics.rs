//! Economics through the binary: known properties of the business case, the
//! workbook read back, and clear errors for bad money conventions.

use std::fs;
use std::path::Path;

use crate::common::{header_of, upstream};

use calamine::{Data, Reader, Xlsx, open_workbook};
use serde_json::Value;
use upstream::economics::appraisal::{Appraisal, appraise};
use upstream::economics::{Conventions, InterventionMoney};
use upstream::metrics::Band;
use upstream::model::{Config, Payer};
use upstream::replicates::{self, RunSettings, ScenarioRuns};
use upstream::report::words::html;
use upstream::scenario::{self, Overrides};

fn fixtures() -> String {
    format!("{}/tests/fixtures", env!("CARGO_MANIFEST_DIR"))
}

/// Writes scenario files (name, text; `FIXTURES` stands for the fixtures
/// folder) into a temporary folder, runs them (the first is the baseline)
/// and returns the folder and the parsed economics.json.
fn run(files: &[(&str, &str)], replicates: &str) -> (tempfile::TempDir, Value) {
    let tmp = tempfile::tempdir().unwrap();
    let mut args = vec!["run".to_string()];
    for (name, text) in files {
        let path = tmp.path().join(name);
        fs::write(&path, text.replace("FIXTURES", &fixtures())).unwrap();
        args.push(path.to_str().unwrap().into());
    }
    let out = tmp.path().join("out");
    args.extend(["-r", replicates, "-q", "-o", out.to_str().unwrap()].map(String::from));
    let o = upstream(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let json =
        serde_json::from_str(&fs::read_to_string(out.join("economics.json")).unwrap()).unwrap();
    (tmp, json)
}

fn band(v: &Value) -> [f64; 4] {
    ["mean", "p5", "p50", "p95"].map(|k| v[k].as_f64().unwrap())
}

const OB_BASELINE: &str = r#"
name = "Small borough with money conventions"
extends = "FIXTURES/small_plain.toml"

[economics]
price_base = "2024/25"
general_inflation = 0.02

[economics.optimism_bias]
cost_uplift = { high = 0.05, medium = 0.15, low = 0.3 }
savings_haircut = { high = 0.0, medium = 0.2, low = 0.4 }
"#;

#[test]
fn a_zero_budget_scenario_has_exactly_zero_net_present_value() {
    let zero = r#"
name = "Zero budget"
extends = "base.toml"

[interventions.outreach]
name = "Outreach"
kind = "caseload"
payer = "voluntary_sector"
annual_budget = [0]
unit_cost_per_month = 100
support_months = 3
effects = [{ on = "escalation", multiplier = 0.5, confidence = "low" }]
"#;
    let (tmp, e) = run(&[("base.toml", OB_BASELINE), ("zero.toml", zero)], "3");
    // Nominal and real side by side in the budget: real is nominal deflated
    // by 2% a year from the 2024/25 price base.
    let budget = fs::read_to_string(tmp.path().join("out/budget.csv")).unwrap();
    let mut lines = budget.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |n: &str| header.iter().position(|h| *h == n).unwrap();
    let (mut checked, mut revenue) = (0, false);
    for line in lines {
        let cells: Vec<&str> = line.split(',').collect();
        let fy: i32 = cells[col("financial_year")][..4].parse().unwrap();
        let nominal: f64 = cells[col("baseline_mean")].parse().unwrap();
        let real: f64 = cells[col("baseline_real_mean")].parse().unwrap();
        // Each written to the penny: within half a penny of the other,
        // scaled by the deflator, and a little for the products' rounding.
        let scale = 1.02f64.powi(fy - 2024);
        assert!((real * scale - nominal).abs() <= 0.005 * (1.0 + scale) + 1e-9 * nominal.abs());
        checked += (nominal != 0.0) as usize;
        let account = cells[col("account")];
        assert!(account == "revenue" || account == "capital", "{line}");
        revenue |= account == "revenue";
    }
    assert!(revenue);
    assert!(checked > 0);
    let a = &e["appraisals"][0];
    for field in [
        "npv",
        "npv_without_optimism_bias",
        "pv_investment",
        "pv_savings",
    ] {
        assert_eq!(band(&a[field]), [0.0; 4], "{field}");
    }
    assert_eq!(a["payback_month_discounted"]["p50"], Value::Null);
    assert_eq!(a["roi"]["replicates"], 0);
}

/// Loads a fixture, or `text` standing in for a fixture named `name`.
fn load(name: &str, text: Option<&str>) -> scenario::Loaded {
    let path = Path::new(&fixtures()).join(name);
    let read = |p: &Path| match text {
        Some(t) if p == path => Ok(t.to_string()),
        _ => fs::read_to_string(p),
    };
    scenario::load_from(&path, &Overrides::default(), &read).unwrap_or_else(|e| panic!("{e}"))
}

fn assert_scaled(what: &str, with: &Band, without: &Band, factor: f64) {
    let (a, b) = (
        band(&serde_json::to_value(with).unwrap()),
        band(&serde_json::to_value(without).unwrap()),
    );
    for k in 0..4 {
        assert!(
            (a[k] - factor * b[k]).abs() <= 1e-9 * b[k].abs(),
            "{what}: {a:?} is not {factor} × {b:?}"
        );
    }
}

/// Scenarios run through the library (the first is the baseline), ready
/// to be appraised under any money conventions.
struct Ran {
    loaded: Vec<scenario::Loaded>,
    runs: Vec<ScenarioRuns>,
}

impl Ran {
    fn new(loaded: Vec<scenario::Loaded>, replicates: u32, seed: u64) -> Ran {
        let configs: Vec<&Config> = loaded.iter().map(|l| &l.config).collect();
        let settings = RunSettings {
            replicates,
            seed,
            threads: Some(2),
        };
        let runs = replicates::run(&configs, &settings, &|| {})
            .unwrap()
            .scenarios;
        Ran { loaded, runs }
    }

    /// Scenario `s` appraised against the baseline under `conv`.
    fn appraise(&self, conv: &Conventions, s: usize) -> Appraisal {
        let configs: Vec<&Config> = self.loaded.iter().map(|l| &l.config).collect();
        let money: Vec<&[InterventionMoney]> = self
            .loaded
            .iter()
            .map(|l| l.intervention_money.as_slice())
            .collect();
        appraise(conv, &configs, &money, &self.runs, s)
    }

    /// The baseline's money conventions.
    fn conventions(&self) -> Conventions {
        self.loaded[0].conventions.clone()
    }
}

#[test]
fn optimism_bias_is_applied_once_and_prudently() {
    // The hubs save money in every replicate; the same hubs made harmful
    // (escalation ×1.5) cost money in every replicate. Appraised with the
    // baseline's optimism bias and with none: savings are cut by the
    // haircut, extra costs grown by it, and spend uplifted, each exactly
    // once and replicate by replicate (so every band scales).
    let base = load("small.toml", None);
    let saving = load("small_hubs.toml", None);
    let harmful = load(
        "harmful.toml",
        Some(
            "name = \"Harmful hubs\"\nextends = \"small_hubs.toml\"\n[interventions.hubs]\neffects = [{ on = \"escalation\", multiplier = 1.5 }]\n",
        ),
    );
    let ran = Ran::new(vec![base, saving, harmful], 4, 11);
    let with = ran.conventions();
    let mut without = with.clone();
    without.cost_uplift = [0.0; 3];
    without.savings_haircut = [0.0; 3];
    for (s, saves) in [(1, true), (2, false)] {
        let a = ran.appraise(&with, s);
        let b = ran.appraise(&without, s);
        let h = a.savings_haircut;
        let u = a.cost_uplift[0].1;
        assert!(h > 0.0 && u > 0.0, "the conventions must bite: {h}, {u}");
        assert!(b.pv_investment.p5 > 0.0);
        if saves {
            assert!(
                b.pv_savings.p5 > 0.0,
                "saves in every replicate: {:?}",
                b.pv_savings
            );
        } else {
            assert!(
                b.pv_savings.p95 < 0.0,
                "costs in every replicate: {:?}",
                b.pv_savings
            );
        }
        let keep = if saves { 1.0 - h } else { 1.0 + h };
        assert_scaled(
            "present value of savings",
            &a.pv_savings,
            &b.pv_savings,
            keep,
        );
        assert_scaled(
            "undiscounted savings",
            &a.undiscounted_savings,
            &b.undiscounted_savings,
            keep,
        );
        assert_scaled(
            "present value of investment",
            &a.pv_investment,
            &b.pv_investment,
            1.0 + u,
        );
        // One number, one meaning: the appraisal's own figure without
        // optimism bias is the appraisal with none.
        assert_scaled(
            "net present value without optimism bias",
            &a.npv_without_optimism_bias,
            &b.npv,
            1.0,
        );
        assert_eq!(b.npv, b.npv_without_optimism_bias);
        // Every replicate's net present value has the same sign here, so
        // the chance it is positive is 1 or 0.
        let (npv, p) = (a.npv, a.probability_npv_positive);
        if npv.p5 > 0.0 {
            assert_eq!(p, 1.0, "{npv:?}");
        } else {
            assert!(npv.p95 < 0.0, "{npv:?}");
            assert_eq!(p, 0.0, "{npv:?}");
        }
    }
}

#[test]
fn who_pays_sums_to_the_whole_and_the_workbook_reads_back() {
    let hubs = fs::read_to_string(format!("{}/small_hubs.toml", fixtures())).unwrap();
    let hubs = hubs.replace(
        "extends = \"small.toml\"",
        "extends = \"FIXTURES/small.toml\"",
    );
    let (tmp, e) = run(
        &[
            (
                "base.toml",
                "name = \"Small\"\nextends = \"FIXTURES/small.toml\"\n",
            ),
            ("hubs.toml", &hubs),
        ],
        "4",
    );
    let a = &e["appraisals"][0];
    // Means are linear: the payers' net positions add up to the net present
    // value, their spend to the investment and their avoided cost to the savings.
    for (part, whole) in [
        ("net", "npv"),
        ("spend", "pv_investment"),
        ("cost_avoided", "pv_savings"),
    ] {
        let sum: f64 = a["who_pays"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p[part]["mean"].as_f64().unwrap())
            .sum();
        let total = a[whole]["mean"].as_f64().unwrap();
        assert!(
            (sum - total).abs() <= 1e-6 * total.abs().max(1.0),
            "{part}: {sum} against {whole}: {total}"
        );
    }
    assert!(a["pv_investment"]["mean"].as_f64().unwrap() > 0.0);

    let path = tmp.path().join("out/upstream.xlsx");
    let mut wb: Xlsx<_> = open_workbook(&path).expect("the workbook opens");
    assert_eq!(
        wb.sheet_names(),
        [
            "Cover",
            "Inputs",
            "Summary",
            "Money bridge",
            "Checks",
            "MTFS view",
            "Capital and financing",
            "Budget by year",
            "Who pays and who saves",
            "Acceptability",
            "Assumptions",
            "Replicates",
            "Workings",
            "Budget by replicate",
            "Costs",
            "Financing",
            "Activity",
            "Indices"
        ]
    );
    let summary = wb.worksheet_range("Summary").unwrap();
    let header = header_of(&summary);
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let row = summary
        .rows()
        .nth(1)
        .expect("one scenario against the baseline");
    assert_eq!(
        row[col("Scenario")],
        Data::String(a["scenario"].as_str().unwrap().into())
    );
    let cell = |name: &str| match &row[col(name)] {
        Data::Float(v) => *v,
        other => panic!("{name}: {other:?}"),
    };
    // Money is written to the penny.
    let penny = |name: &str, want: f64| {
        let got = cell(name);
        assert!((got - want).abs() <= 0.005, "{name}: {got} against {want}");
    };
    penny(
        "Net present value (£, mean)",
        a["npv"]["mean"].as_f64().unwrap(),
    );
    penny(
        "Net present value (£, P5)",
        a["npv"]["p5"].as_f64().unwrap(),
    );
    penny(
        "Investment, present value (£, mean)",
        a["pv_investment"]["mean"].as_f64().unwrap(),
    );
    let budget = wb.worksheet_range("Budget by year").unwrap();
    assert!(budget.rows().count() > 10);
    let assumptions = wb.worksheet_range("Assumptions").unwrap();
    assert!(
        assumptions
            .rows()
            .any(|r| r[1] == Data::String("economics convention: price base".into())),
    );
}

/// A bad money convention in a scenario extending the bundled baseline.
fn assert_rejected(extra: &str, expect: &[&str]) {
    crate::common::assert_rejected(
        &format!("name = \"Bad money\"\nextends = \"BASELINE\"\n{extra}"),
        expect,
    );
}

#[test]
fn bad_money_conventions_are_clear_errors() {
    assert_rejected(
        "[economics]\ndiscount_rate = 1.5\n",
        &[
            "bad.toml",
            "line 4",
            "economics.discount_rate",
            "3.5% is 0.035",
            "1.5",
        ],
    );
    assert_rejected(
        "[economics]\nfinancial_year_start_month = 13\n",
        &["economics.financial_year_start_month", "1 to 12", "13"],
    );
    assert_rejected(
        "[economics]\nprice_base = \"2023/25\"\n",
        &["economics.price_base", "\"2023/24\""],
    );
    assert_rejected(
        "[economics.cashable]\nae = 1.0\n",
        &["economics.cashable.ae", "ae_attendance"],
    );
    assert_rejected(
        r#"
[interventions.homes]
name = "Homes"
kind = "places"
payer = "housing"
service = "temporary_accommodation"
places = [10]
capital_cost_per_place = 300000
running_cost_per_place_week = 100
"#,
        &["interventions.homes.financing", "financing rule"],
    );
    assert_rejected(
        r#"
[interventions.homes]
name = "Homes"
kind = "places"
payer = "housing"
service = "temporary_accommodation"
places = [10]
capital_cost_per_place = 300000
running_cost_per_place_week = 100
financing = { method = "mrp", rate = 0.045, years = 50 }
residual_value_share = 0.5
land_share = 0.6
"#,
        &["interventions.homes.land_share", "not both"],
    );
    assert_rejected(
        r#"
[interventions.fund]
name = "Fund"
kind = "assets"
payer = "voluntary_sector"
annual_budget = [1000]
cost_per_place_per_year = 100
land_share = 0.6
"#,
        &["interventions.fund.land_share", "only to kind = places"],
    );
}

#[test]
fn scenarios_in_a_comparison_share_their_money_conventions() {
    let tmp = tempfile::tempdir().unwrap();
    let root = env!("CARGO_MANIFEST_DIR");
    let other = tmp.path().join("other.toml");
    fs::write(
        &other,
        format!(
            "name = \"Other rate\"\nextends = \"{root}/scenarios/baseline.toml\"\n[economics]\ndiscount_rate = 0.03\n"
        ),
    )
    .unwrap();
    let out_dir = tmp.path().join("out");
    let out = upstream(&[
        "run",
        &format!("{root}/scenarios/baseline.toml"),
        other.to_str().unwrap(),
        "-o",
        out_dir.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("money conventions"));
    assert!(!Path::new(&out_dir).exists());
}

#[test]
fn the_cumulative_net_saving_ends_at_the_net_present_value_with_capital_credited() {
    let homes = r#"
name = "Small borough buys homes"
extends = "FIXTURES/small.toml"

[interventions.homes]
name = "Homes for temporary accommodation"
kind = "places"
payer = "housing"
service = "temporary_accommodation"
places = [4, 8]
capital_cost_per_place = 200_000
running_cost_per_place_week = 0
residual_value_share = 0.9
financing = { method = "annuity", rate = 0.04, years = 30 }
"#;
    let (tmp, e) = run(
        &[
            (
                "base.toml",
                "name = \"Small\"\nextends = \"FIXTURES/small.toml\"\n",
            ),
            ("homes.toml", homes),
        ],
        "3",
    );
    let a = &e["appraisals"][0];
    let residual = band(&a["pv_residual_value"]);
    assert!(residual[0] > 1e6, "residual value {residual:?}");
    let cumulative = a["cumulative"].as_array().unwrap();
    let last = cumulative.last().unwrap();
    let before = &cumulative[cumulative.len() - 2];
    // Per replicate the last cumulative net is the NPV, so every band
    // statistic agrees.
    let (net, npv) = (band(&last["net"]), band(&a["npv"]));
    for k in 0..4 {
        assert!(
            (net[k] - npv[k]).abs() <= 1e-6 * npv[k].abs().max(1.0),
            "{net:?} {npv:?}"
        );
    }
    // The residual value is credited in the last month only.
    let step = band(&before["investment"])[0] - band(&last["investment"])[0];
    assert!(
        step > 0.9 * residual[0],
        "investment falls by {step} at the horizon"
    );
    // The report's board summary leads the scheme with its revenue budget
    // year by year: the bridge's impact by year and the capital schedule's
    // spend and financing, as economics.json holds them.
    let page = fs::read_to_string(tmp.path().join("out/report.html")).unwrap();
    let name = a["scenario"].as_str().unwrap();
    let caption = format!("<caption>{}: the revenue budget year by year", html(name));
    let start = page.find(&caption).expect("a capital scheme's table");
    let table = &page[start..start + page[start..].find("</table>").unwrap()];
    let row = |label: &str| -> Vec<String> {
        let r = table
            .split("<tr>")
            .find(|r| r.starts_with(&format!("<td>{}</td>", html(label))))
            .unwrap_or_else(|| panic!("no {label} row in {table}"));
        r.split("<td class=\"n\">")
            .skip(1)
            .map(|c| c.split('<').next().unwrap().to_string())
            .collect()
    };
    let years = a["bridge"]["revenue_budget_impact_by_year"]
        .as_array()
        .unwrap();
    let schedule = a["capital_schedule"].as_array().unwrap();
    let per_year = |field: &str| -> Vec<f64> {
        years
            .iter()
            .map(|y| {
                schedule
                    .iter()
                    .filter(|r| r["financial_year"] == y["financial_year"])
                    .map(|r| r[field]["mean"].as_f64().unwrap())
                    .sum()
            })
            .collect()
    };
    for (label, values) in [
        ("Capital spend", per_year("capital_spend")),
        (
            "Financing charged to revenue (MRP and interest)",
            per_year("financing_charge"),
        ),
        (
            "Revenue budget impact, every payer (+ a saving)",
            years
                .iter()
                .map(|y| y["amount"]["mean"].as_f64().unwrap())
                .collect(),
        ),
    ] {
        let shown = row(label);
        assert_eq!(
            shown.len(),
            values.len() + 1,
            "{label}: a cell a year and a total"
        );
        for (cell, v) in shown.iter().zip(&values) {
            assert_eq!(*cell, html(&upstream::format::money(*v)), "{label}");
        }
        let total: f64 = values.iter().sum();
        assert_eq!(
            shown[values.len()],
            html(&upstream::format::money(total)),
            "{label}"
        );
    }
    assert!(
        per_year("capital_spend").iter().sum::<f64>() > 1e6,
        "the homes are bought"
    );
}

/// A scenario with no `[economics]` takes the default money conventions,
/// with its own start: the horizon's financial years are its own.
#[test]
fn a_scenario_without_money_conventions_keeps_its_own_start() {
    let base = format!("{}/scenarios/baseline.toml", env!("CARGO_MANIFEST_DIR"));
    let text = fs::read_to_string(&base).unwrap();
    let cut = text.find("\n[economics]").unwrap();
    let text = text[..cut].replace("start = \"2026-04\"", "start = \"2027-10\"");
    assert!(text.contains("start = \"2027-10\"") && !text.contains("[economics"));
    let path = Path::new(&fixtures()).join("no_economics.toml");
    let read = |p: &Path| {
        if p == path {
            Ok(text.clone())
        } else {
            fs::read_to_string(p)
        }
    };
    let loaded =
        scenario::load_from(&path, &Overrides::default(), &read).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(loaded.start, (2027, 10));
    let defaults = upstream::economics::Conventions::default();
    assert_eq!(
        loaded.conventions,
        upstream::economics::Conventions {
            start: (2027, 10),
            ..defaults
        }
    );
}

/// Cashable savings are the savings times their lines' cashable shares:
/// all of them at a share of 1, a quarter at 0.25, none at 0.
#[test]
fn cashable_savings_are_savings_times_their_cashable_share() {
    let ran = Ran::new(
        vec![load("small.toml", None), load("small_hubs.toml", None)],
        3,
        12,
    );
    for share in [0.0, 0.25, 1.0] {
        let mut conv = ran.conventions();
        conv.cashable.clear();
        conv.default_cashable = share;
        let a = ran.appraise(&conv, 1);
        assert!(a.pv_savings.p5 > 0.0, "{:?}", a.pv_savings);
        assert_scaled(
            "present value of cashable savings",
            &a.pv_cashable_savings,
            &a.pv_savings,
            share,
        );
    }
}

/// The cost-effectiveness ratios are the net cost (the negative of the net
/// present value) over the crisis-months avoided and over the QALYs
/// gained, replicate by replicate (one replicate here, so each band is
/// that replicate's figure).
#[test]
fn cost_effectiveness_ratios_are_net_cost_over_what_was_gained() {
    let ran = Ran::new(
        vec![load("small.toml", None), load("small_hubs.toml", None)],
        1,
        13,
    );
    let a = ran.appraise(&ran.conventions(), 1);
    let (npv, crisis, qalys) = (
        a.npv.mean,
        a.crisis_months_avoided.mean,
        a.qalys_gained.mean,
    );
    assert!(crisis > 0.0 && qalys > 0.0, "{crisis}, {qalys}");
    for (what, ratio, gained) in [
        (
            "per crisis-month",
            a.net_cost_per_crisis_month_avoided,
            crisis,
        ),
        ("per QALY", a.net_cost_per_qaly_gained, qalys),
    ] {
        assert_eq!(ratio.replicates, 1);
        assert!(
            (ratio.mean * gained + npv).abs() <= 1e-9 * npv.abs(),
            "net cost {what}: {} × {gained} is not {}",
            ratio.mean,
            -npv
        );
    }
}

/// Each scenario's `saving_mean` of budget.csv's rows named `line`, added
/// up, with how many rows were added.
fn budget_savings(csv: &str, line: &str) -> std::collections::BTreeMap<String, (f64, usize)> {
    let mut rows = csv.lines();
    let header: Vec<&str> = rows.next().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let (scenario, service_line, saving) =
        (col("scenario"), col("service_line"), col("saving_mean"));
    let mut out = std::collections::BTreeMap::new();
    for row in rows {
        // No bundled scenario or line name holds a comma.
        let cells: Vec<&str> = row.split(',').collect();
        if cells[service_line] == line {
            let e = out.entry(cells[scenario].to_string()).or_insert((0.0, 0));
            e.0 += cells[saving].parse::<f64>().unwrap();
            e.1 += 1;
        }
    }
    out
}

#[test]
fn the_money_bridge_adds_up_and_agrees_with_every_figure_it_names() {
    // The bundled comparison: for every scenario, each total of the bridge
    // is the sum of the steps above it to the penny; its net revenue saving
    // is the summary's (the terminal's), its net present value (with and
    // without optimism bias, and cashable) and its real net saving are the
    // appraisal's, and its revenue budget impact is budget.csv's revenue
    // totals summed over years and payers; the report's board summary and
    // the workbook's sheets show the same figures.
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let o = upstream(&[
        "run",
        "-r",
        "2",
        "--years",
        "3",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let terminal = String::from_utf8_lossy(&o.stdout).into_owned();
    let mut wb: Xlsx<_> = open_workbook(out.join("upstream.xlsx")).expect("the workbook opens");
    let sheet = wb.worksheet_range("Money bridge").unwrap();
    // The cover says what the run is; the Summary holds only numbers past
    // its two name columns, money to the penny.
    let cover = wb.worksheet_range("Cover").unwrap();
    let value = |item: &str| -> Vec<String> {
        cover
            .rows()
            .filter(|r| r[0] == Data::String(item.into()))
            .map(|r| r[1].to_string())
            .collect()
    };
    assert_eq!(value("Upstream version"), [env!("CARGO_PKG_VERSION")]);
    assert_eq!(value("Seed"), ["20260401"]);
    let files = value("Scenario file");
    assert!(files.len() >= 7, "{files:?}");
    assert!(files.iter().all(|f| !f.starts_with('/')), "{files:?}");
    let summary = wb.worksheet_range("Summary").unwrap();
    let header = header_of(&summary);
    for row in summary.rows().skip(1) {
        for (cell, name) in row.iter().zip(&header).skip(2) {
            match cell {
                Data::Float(v) if name.contains('£') => {
                    assert_eq!(
                        (v * 100.0).round() / 100.0,
                        *v,
                        "{name}: {v} is not to the penny"
                    )
                }
                // Crisis-months whole, as the terminal shows them; QALYs to
                // a tenth.
                Data::Float(v) if name.starts_with("Crisis-months") => {
                    assert_eq!(v.round(), *v, "{name}: {v} is not whole")
                }
                Data::Float(v) if name.starts_with("QALYs") => {
                    assert_eq!((v * 10.0).round() / 10.0, *v, "{name}: {v}")
                }
                Data::Float(_) | Data::Empty => {}
                other => panic!("text in {name}, a numeric column of the Summary: {other:?}"),
            }
        }
    }
    let read = |f: &str| fs::read_to_string(out.join(f)).unwrap();
    let economics: Value = serde_json::from_str(&read("economics.json")).unwrap();
    let summary: Value = serde_json::from_str(&read("summary.json")).unwrap();
    let revenue = budget_savings(&read("budget.csv"), "Total revenue");
    // A figure rounded to the penny is within half a penny of the exact one
    // (and a mean over replicates can end in exactly half a penny).
    let penny = |a: f64, b: f64, what: &str| {
        assert!((a - b).abs() <= 0.005 + 1e-6, "{what}: {a} against {b}")
    };
    let appraisals = economics["appraisals"].as_array().unwrap();
    assert_eq!(appraisals.len(), 6);
    for (k, a) in appraisals.iter().enumerate() {
        let name = a["scenario"].as_str().unwrap();
        let bridge = &a["bridge"];
        for chain in ["appraisal", "budget"] {
            let mut running = 0.0;
            for step in bridge[chain].as_array().unwrap() {
                let amount = step["amount"]["mean"].as_f64().unwrap();
                if step["total"].as_bool().unwrap() {
                    penny(amount, running, &format!("{name}: {}", step["name"]));
                } else {
                    running += amount;
                }
            }
        }
        let step = |chain: &str, id: &str| -> Value {
            bridge[chain]
                .as_array()
                .unwrap()
                .iter()
                .find(|s| s["id"] == id)
                .unwrap_or_else(|| panic!("{name}: no {id} in the {chain} bridge"))["amount"]
                .clone()
        };
        let headline = &summary["scenarios"][k + 1]["against_baseline"];
        penny(
            step("appraisal", "net_revenue_saving")["mean"]
                .as_f64()
                .unwrap(),
            headline["net_revenue_saving_gbp"]["mean"].as_f64().unwrap(),
            &format!("{name}: net revenue saving against the summary's"),
        );
        penny(
            step("budget", "net_revenue_saving")["mean"]
                .as_f64()
                .unwrap(),
            step("appraisal", "net_revenue_saving")["mean"]
                .as_f64()
                .unwrap(),
            &format!("{name}: both chains start from one net revenue saving"),
        );
        for (id, field) in [
            ("npv", "npv"),
            ("net_saving_after_optimism_bias", "undiscounted_net"),
        ] {
            let (ours, theirs) = (band(&step("appraisal", id)), band(&a[field]));
            for (x, y) in ours.iter().zip(theirs) {
                penny(*x, y, &format!("{name}: {id} against {field}"));
            }
        }
        for field in ["npv_without_optimism_bias", "npv_cashable"] {
            for (x, y) in band(&bridge[field]).iter().zip(band(&a[field])) {
                penny(*x, y, &format!("{name}: {field}"));
            }
        }
        // The terminal's row shows the same net revenue saving, revenue
        // budget impact and net present value, in that order, as it rounds
        // them.
        let row = terminal
            .lines()
            .find(|l| l.starts_with(name))
            .unwrap_or_else(|| panic!("no row for {name} in {terminal}"));
        let mut from = 0;
        for (chain, id) in [
            ("appraisal", "net_revenue_saving"),
            ("budget", "revenue_budget_impact"),
            ("appraisal", "npv"),
        ] {
            let shown = upstream::format::millions(step(chain, id)["mean"].as_f64().unwrap());
            let at = row[from..]
                .find(&shown)
                .unwrap_or_else(|| panic!("{name}: {id} {shown} not in {row} after {from}"));
            from += at + shown.len();
        }
        if let Some(why) = bridge["sign_change"].as_str() {
            assert!(terminal.contains(why), "{name}: {why} not printed");
        }
        // The workbook's Money bridge sheet: the same lines and amounts.
        let mut in_sheet = 0;
        for chain in ["appraisal", "budget"] {
            for s in bridge[chain].as_array().unwrap() {
                let found = sheet.rows().find(|r| {
                    r[0] == Data::String(name.into())
                        && r[2] == Data::String(s["name"].as_str().unwrap().into())
                        && r[1]
                            == Data::String(
                                if chain == "appraisal" {
                                    "Net present value"
                                } else {
                                    "Revenue budget impact"
                                }
                                .into(),
                            )
                });
                let r = found.unwrap_or_else(|| panic!("{name}: {} not in the sheet", s["name"]));
                match &r[4] {
                    Data::Float(v) => penny(*v, s["amount"]["mean"].as_f64().unwrap(), "sheet"),
                    other => panic!("{name}: {other:?}"),
                }
                in_sheet += 1;
            }
        }
        assert_eq!(in_sheet, 15);
        // One sign everywhere: budget.csv's saving reads as the bridge's
        // revenue budget impact does, positive when the scenario saves.
        // Each of its rows is written to the penny, so their sum is within
        // half a penny a row.
        let (sum, rows) = revenue[name];
        let impact = step("budget", "revenue_budget_impact")["mean"]
            .as_f64()
            .unwrap();
        assert!(
            (impact - sum).abs() <= 0.005 * rows as f64 + 1e-6,
            "{name}: revenue budget impact against budget.csv: {impact} against {sum}"
        );
    }
    // One sign convention, stated in the same words by every output.
    let signs = upstream::published::SIGNS;
    assert!(
        terminal.contains(signs),
        "the terminal does not state the signs"
    );
    for file in ["summary.json", "economics.json"] {
        let notes: Value = serde_json::from_str(&read(file)).unwrap();
        assert!(
            notes["notes"]
                .as_array()
                .unwrap()
                .iter()
                .any(|n| n == signs),
            "{file} does not state the signs"
        );
    }
    assert!(
        value("Signs").iter().any(|v| v.starts_with(signs)),
        "the workbook's Cover does not state the signs"
    );
    // The report's board summary quotes the same figures.
    crate::report::check_board_money_table(&read("report.html"), &economics);
    // The workbook's live sheets compute the same figures (their cached
    // values here; LibreOffice's recalculation in crate::workbook).
    crate::workbook::check_live_sheets(&out.join("upstream.xlsx"), &economics, &read("budget.csv"));
}

#[test]
fn housing_benefit_moves_money_between_payers_and_leaves_their_total_unchanged() {
    // The same homes bought with and without housing benefit: the subsidy
    // recovered on temporary accommodation and the homes' rent are
    // transfers from the DWP to housing, so every figure over all payers is
    // the same, while housing gains what the DWP pays.
    let run_with = |transfers: bool| {
        let (subsidy, rent) = if transfers {
            (
                "[episodes.temporary_accommodation]\nrecovered_per_week = 120\nrecovered_from = \"dwp\"\n",
                "rent_per_week = 250\nrent_paid_by = \"dwp\"\n",
            )
        } else {
            // The fixture's baseline recovers subsidy: none here.
            (
                "[episodes.temporary_accommodation]\nrecovered_per_week = 0\nrecovered_from = \"dwp\"\n",
                "",
            )
        };
        let base = format!("name = \"Small\"\nextends = \"FIXTURES/small.toml\"\n{subsidy}");
        let homes = format!(
            r#"
name = "Small borough buys homes"
extends = "base.toml"

[interventions.homes]
name = "Homes"
kind = "places"
payer = "housing"
service = "temporary_accommodation"
places = [4, 8]
capital_cost_per_place = 200_000
running_cost_per_place_week = 90
financing = {{ method = "mrp", rate = 0.04, years = 40 }}
{rent}"#
        );
        run(&[("base.toml", &base), ("homes.toml", &homes)], "3")
    };
    let ((_t1, with), (_t2, without)) = (run_with(true), run_with(false));
    let (a, b) = (&with["appraisals"][0], &without["appraisals"][0]);
    let close = |x: f64, y: f64| (x - y).abs() <= 0.01;
    for (sa, sb) in a["bridge"]["appraisal"]
        .as_array()
        .unwrap()
        .iter()
        .zip(b["bridge"]["appraisal"].as_array().unwrap())
    {
        let (x, y) = (band(&sa["amount"]), band(&sb["amount"]));
        assert!(
            (0..4).all(|k| close(x[k], y[k])),
            "{}: {x:?} against {y:?}",
            sa["id"]
        );
    }
    for field in ["npv", "npv_cashable", "npv_without_optimism_bias"] {
        assert!(close(band(&a[field])[0], band(&b[field])[0]), "{field}");
    }
    let net = |appraisal: &Value, payer: &str| -> f64 {
        let p = appraisal["who_pays"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["id"] == payer)
            .unwrap();
        band(&p["net"])[0]
    };
    let dwp = net(a, "dwp");
    assert!(
        dwp < -1.0,
        "the DWP pays more rent than the subsidy it saves: {dwp}"
    );
    assert_eq!(net(b, "dwp"), 0.0);
    assert!(
        close(net(a, "housing") + dwp, net(b, "housing")),
        "housing gains what the DWP pays"
    );
}

#[test]
fn a_transfer_needs_both_its_amount_and_another_payer() {
    assert_rejected(
        "[episodes.temporary_accommodation]\nrecovered_from = \"housing\"\nrecovered_per_week = 100\n",
        &[
            "episodes.temporary_accommodation.recovered_from",
            "from another payer",
        ],
    );
    assert_rejected(
        "[interventions.homes]\nname = \"Homes\"\nkind = \"places\"\npayer = \"housing\"\nservice = \"temporary_accommodation\"\nplaces = [10]\ncapital_cost_per_place = 0\nrunning_cost_per_place_week = 90\nrent_per_week = 250\n",
        &[
            "interventions.homes.rent_paid_by",
            "`rent_per_week` needs `rent_paid_by`",
        ],
    );
    assert_rejected(
        "[interventions.homes]\nname = \"Homes\"\nkind = \"places\"\npayer = \"housing\"\nservice = \"temporary_accommodation\"\nplaces = [10]\ncapital_cost_per_place = 0\nrunning_cost_per_place_week = 90\nrent_paid_by = \"dwp\"\n",
        &[
            "interventions.homes.rent_per_week",
            "`rent_paid_by` needs `rent_per_week`",
        ],
    );
    assert_rejected(
        "[interventions.homes]\nname = \"Homes\"\nkind = \"places\"\npayer = \"housing\"\nservice = \"temporary_accommodation\"\nplaces = [10]\ncapital_cost_per_place = 0\n",
        &[
            "interventions.homes.running_cost_per_place_week",
            "needs `running_cost_per_place_week`",
        ],
    );
}

#[test]
fn the_ledger_values_every_comparison_as_the_appraisal_does() {
    // The workbook's finance model computes from the ledger (activity by
    // replicate and period) what the appraisal computes from the monthly
    // series: the same figures, replicate by replicate, under the bundled
    // conventions and under others (a January start, so two periods a
    // year; a flat 5% rate; dearer inflation; no optimism bias).
    let base = load("small.toml", None);
    let hubs = load("small_hubs.toml", None);
    let homes = load(
        "homes.toml",
        Some(
            r#"name = "Homes bought"
extends = "small.toml"
[interventions.ta_homes]
name = "Homes bought for temporary accommodation"
kind = "places"
payer = "housing"
service = "temporary_accommodation"
places = [3, 6]
capital_cost_per_place = { value = 387_000, confidence = "medium" }
running_cost_per_place_week = 98.5
rent_per_week = 299.18
rent_paid_by = "dwp"
financing = { method = "mrp", rate = 0.045, years = 1 }
land_share = 0.5
"#,
        ),
    );
    // Early help cut: less spend than the baseline, so optimism bias
    // shrinks the cut's saving.
    let halved = load(
        "halved.toml",
        Some(
            r#"name = "Early help halved"
extends = "small.toml"
[interventions.early_help]
annual_budget = { per_1000_residents = [5_000] }
burn_in_budget = 60_000
"#,
        ),
    );
    let ran = Ran::new(vec![base, hubs, homes, halved], 3, 5);
    let configs: Vec<&Config> = ran.loaded.iter().map(|l| &l.config).collect();
    let money: Vec<&[InterventionMoney]> = ran
        .loaded
        .iter()
        .map(|l| l.intervention_money.as_slice())
        .collect();
    let bundled = ran.conventions();
    let mut other = bundled.clone();
    other.start = (2027, 1);
    other.discount = upstream::economics::Schedule::flat(0.05);
    other.general_inflation = 0.03;
    other.default_inflation = 0.045;
    other.pools = vec![upstream::economics::Pool {
        id: "council".into(),
        name: "The council".into(),
        payers: vec![
            Payer::AdultSocialCare,
            Payer::ChildrensServices,
            Payer::Housing,
        ],
    }];
    let mut plain = bundled.clone();
    plain.cost_uplift = [0.0; 3];
    plain.savings_haircut = [0.0; 3];
    for conv in [&bundled, &other, &plain] {
        let ledger = upstream::economics::ledger::ledger(conv, &configs, &money, &ran.runs, true);
        let prices = ledger.prices(conv);
        for s in 1..4 {
            let a = ran.appraise(conv, s);
            let allowance = ledger.allowance(conv, &configs, &money, s);
            let carried = &ledger.carried[s];
            let figures: Vec<_> = (0..3)
                .map(|r| {
                    let w = ledger.period_workings(&configs, &prices, &allowance, s, r);
                    upstream::economics::ledger::replicate_figures(
                        &w,
                        allowance.haircut,
                        carried.crisis_months_avoided[r],
                        carried.qalys_gained[r],
                    )
                })
                .collect();
            let of = |id: &str| {
                let k = upstream::economics::ledger::replicate_column(id);
                Band::of(&figures.iter().map(|f| f[k]).collect::<Vec<_>>())
            };
            let same = |what: &str, ours: Band, theirs: &Band| {
                for (x, y) in [
                    (ours.mean, theirs.mean),
                    (ours.p5, theirs.p5),
                    (ours.p95, theirs.p95),
                ] {
                    assert!(
                        (x - y).abs() <= 1e-6 * (1.0 + y.abs()),
                        "{what} of scenario {s}: {x} against {y}"
                    );
                }
            };
            same("npv", of("npv"), &a.npv);
            same(
                "npv without OB",
                of("npv_without_optimism_bias"),
                &a.npv_without_optimism_bias,
            );
            same("npv cashable", of("npv_cashable"), &a.npv_cashable);
            same("pv investment", of("pv_investment"), &a.pv_investment);
            same("pv savings", of("pv_savings"), &a.pv_savings);
            same(
                "pv value left",
                of("pv_residual_value"),
                &a.pv_residual_value,
            );
            same(
                "crisis-months",
                of("crisis_months_avoided"),
                &a.crisis_months_avoided,
            );
            same("QALYs", of("qalys_gained"), &a.qalys_gained);
            for step in a.bridge.appraisal.iter().chain(&a.bridge.budget) {
                same(&step.id, of(&step.id), &step.amount);
            }
            // Who pays and who saves: each payer's spend, cost avoided and
            // net, replicate by replicate, and each pool's as the sum of
            // its payers; the payers' nets add up to the net present value.
            let kept = upstream::economics::ledger::replicate_column("kept");
            let npv = upstream::economics::ledger::replicate_column("npv");
            let payers: Vec<_> = (0..3)
                .map(|r| {
                    let w = ledger.period_workings(&configs, &prices, &allowance, s, r);
                    let by_payer = ledger.payer_workings(&configs, &prices, &allowance, s, r);
                    let left = ledger.scheme_value_left(&prices, s, r);
                    let f = ledger.payer_figures(&w, &by_payer, &left, figures[r][kept]);
                    let net: f64 = f.iter().map(|x| x[2]).sum();
                    let want = figures[r][npv];
                    assert!(
                        (net - want).abs() <= 1e-6 * (1.0 + want.abs()),
                        "{net} against {want}"
                    );
                    f
                })
                .collect();
            let band = |f: &dyn Fn(&[[f64; 3]; 7]) -> f64| {
                Band::of(&payers.iter().map(f).collect::<Vec<_>>())
            };
            let mut moved = 0;
            for (p, position) in a.who_pays.iter().enumerate() {
                for (i, theirs) in [&position.spend, &position.cost_avoided, &position.net]
                    .into_iter()
                    .enumerate()
                {
                    same(&format!("{} {i}", position.id), band(&|f| f[p][i]), theirs);
                    moved += usize::from(theirs.mean != 0.0);
                }
            }
            assert!(moved > 3, "scenario {s}: only {moved} payer figures move");
            for (pool, position) in conv.pools.iter().zip(&a.pools) {
                for (i, theirs) in [&position.spend, &position.cost_avoided, &position.net]
                    .into_iter()
                    .enumerate()
                {
                    let sum =
                        |f: &[[f64; 3]; 7]| pool.payers.iter().map(|p| f[*p as usize][i]).sum();
                    same(&format!("{} {i}", position.id), band(&sum), theirs);
                }
            }
            // The homes buy capital and finance it, so every step bites;
            // the cut spends less, with optimism bias against it.
            if s == 2 {
                assert!(of("financing").mean != 0.0 && of("residual_value").mean != 0.0);
            }
            if s == 3 && conv.cost_uplift != [0.0; 3] {
                assert!(of("extra_prevention_spend").mean > 0.0);
                assert!(of("optimism_bias_on_spend").mean < 0.0);
            }
        }
        // The budget too (the MTFS view's formulas): each payer's revenue
        // spend in each financial year, cash, is its lines' money at the
        // price base times their cash indices, with the financing of its
        // capital (each purchase period's charges times that period's cash
        // index), as budget.csv has it.
        for s in 0..4 {
            let rows =
                upstream::economics::budget::budget(conv, &configs, &money, &ran.runs, s).rows;
            let mut checked = 0;
            for row in rows.iter().filter(|r| r.line == "Total revenue") {
                let mut spend = 0.0;
                for r in 0..3 {
                    for (p, period) in ledger.periods.iter().enumerate() {
                        if conv.fy_label(period.financial_year) != row.financial_year {
                            continue;
                        }
                        let costs = ledger.costs(&configs, s, r, p);
                        for (k, l) in ledger.lines.iter().enumerate() {
                            if l.line.payer != row.payer {
                                continue;
                            }
                            if l.line.kind != upstream::economics::lines::LineKind::Capital {
                                spend += l.line.sign * costs[k] * prices.cash[k][p];
                                continue;
                            }
                            let j = ledger.capital_lines.iter().position(|&x| x == k).unwrap();
                            spend += ledger.own_financing[s][r][p][j]
                                .iter()
                                .zip(&prices.cash[k])
                                .map(|(f, c)| upstream::economics::ledger::charge(f) * c)
                                .sum::<f64>();
                        }
                    }
                }
                let (ours, theirs) = (spend / 3.0, row.scenario_value.mean);
                assert!(
                    (ours - theirs).abs() <= 1e-6 * (1.0 + theirs.abs()),
                    "scenario {s}, {:?}, {}: {ours} against {theirs}",
                    row.payer,
                    row.financial_year
                );
                checked += 1;
            }
            assert!(checked > 0, "scenario {s}: no budget total");
        }
        // The homes' financing is in the housing budget.
        let homes = &ledger.own_financing[2];
        assert!(
            homes
                .iter()
                .flatten()
                .flatten()
                .flatten()
                .any(|f| f.principal > 0.0 && f.interest > 0.0)
        );
    }
}
