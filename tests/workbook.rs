//! The workbook as a finance model: its Summary and Money bridge compute by
//! formula from the simulated activity and the Inputs the figures
//! `economics.json` holds, and follow an edited input as a run with it
//! would; its MTFS view gives `budget.csv`'s totals, and its capital schedule adds up to the bridge's financing and
//! value-left steps and to budget.csv's capital and financing lines. Checked
//! on the values the workbook caches, and (needing LibreOffice, so ignored
//! by default) on the values a real spreadsheet engine computes from the
//! formulas alone: `cargo test --release --test integration workbook -- --ignored`.

use std::collections::BTreeMap;
use std::fs;
use std::io::{Read, Write};
use std::path::Path;
use std::process::Command;

use calamine::{Data, Reader, Xlsx, open_workbook};
use serde_json::Value;
use upstream::model::Payer;
use upstream::output::finance::{
    ALL_PAYERS, BEYOND_TARGET_ROW, CHANGE_ROW, GENERAL_FUND, HEADROOM_ROW, MTFS_LEAD, MTFS_TOTAL,
};
use upstream::output::live;

use crate::common::{header_of, upstream};

fn col(head: &[String], name: &str) -> usize {
    head.iter()
        .position(|h| h == name)
        .unwrap_or_else(|| panic!("no column {name} in {head:?}"))
}

fn float(d: &Data, what: &str) -> f64 {
    match d {
        Data::Float(v) => *v,
        Data::Int(v) => *v as f64,
        other => panic!("{what}: {other:?} is not a number"),
    }
}

fn penny(a: f64, b: f64, what: &str) {
    assert!((a - b).abs() < 0.005, "{what}: {a} against {b}");
}

/// Within half a penny for each of `rows` figures written to the penny
/// and added up (budget.csv's rows, each rounded on its own).
fn pennies(a: f64, b: f64, rows: usize, what: &str) {
    let within = 0.005 * rows.max(1) as f64 + 1e-6;
    assert!(
        (a - b).abs() <= within,
        "{what}: {a} against {b} ({rows} rows)"
    );
}

/// budget.csv's `column` by (scenario, financial year, payer, line), where
/// the row gives it.
fn budget_column(csv: &str, column: &str) -> BTreeMap<(String, String, String, String), f64> {
    let mut rows = csv.lines();
    let head: Vec<&str> = rows.next().unwrap().split(',').collect();
    let at = |name: &str| head.iter().position(|h| *h == name).unwrap();
    let (s, fy, p, l, d) = (
        at("scenario"),
        at("financial_year"),
        at("payer"),
        at("service_line"),
        at(column),
    );
    rows.filter_map(|row| {
        // No bundled scenario or line name holds a comma.
        let c: Vec<&str> = row.split(',').collect();
        let key = (c[s].into(), c[fy].into(), c[p].into(), c[l].into());
        (!c[d].is_empty()).then(|| (key, c[d].parse::<f64>().unwrap()))
    })
    .collect()
}

/// Checks the workbook at `xlsx` against the run's `economics.json` and
/// `budget.csv`, whichever engine computed its formulas' values.
/// The finance model's outputs against `economics.json`: the Summary's
/// net present values and the Money bridge's every step, to the penny, and
/// every check on Checks TRUE.
fn check_model<R: std::io::Read + std::io::Seek>(
    wb: &mut Xlsx<R>,
    economics: &Value,
    as_run: bool,
) {
    let appraisals = economics["appraisals"].as_array().unwrap();
    let sheet = wb.worksheet_range("Summary").unwrap();
    let head = header_of(&sheet);
    for a in appraisals {
        let name = a["scenario"].as_str().unwrap();
        let row = sheet
            .rows()
            .find(|r| r[0] == Data::String(name.into()))
            .unwrap_or_else(|| panic!("{name}: no Summary row"));
        for (column, field, stat) in [
            ("Net present value (£, mean)", "npv", "mean"),
            ("Net present value (£, median)", "npv", "p50"),
            ("Net present value (£, P5)", "npv", "p5"),
            ("Net present value (£, P95)", "npv", "p95"),
            (
                "Net present value without optimism bias (£, mean)",
                "npv_without_optimism_bias",
                "mean",
            ),
            (
                "Net present value of cashable savings (£, mean)",
                "npv_cashable",
                "mean",
            ),
            (
                "Investment, present value (£, mean)",
                "pv_investment",
                "mean",
            ),
            ("Savings, present value (£, mean)", "pv_savings", "mean"),
        ] {
            penny(
                float(&row[col(&head, column)], column),
                a[field][stat].as_f64().unwrap(),
                &format!("{name}: Summary {column}"),
            );
        }
    }
    let sheet = wb.worksheet_range("Money bridge").unwrap();
    let head = header_of(&sheet);
    let mut steps = 0;
    for a in appraisals {
        let name = a["scenario"].as_str().unwrap();
        for (chain, key) in [
            ("Net present value", "appraisal"),
            ("Revenue budget impact", "budget"),
        ] {
            for step in a["bridge"][key].as_array().unwrap() {
                let line = step["name"].as_str().unwrap();
                let row = sheet
                    .rows()
                    .find(|r| {
                        r[0] == Data::String(name.into())
                            && r[1] == Data::String(chain.into())
                            && r[2] == Data::String(line.into())
                    })
                    .unwrap_or_else(|| panic!("{name}: no bridge row {line}"));
                for (column, stat) in [
                    ("Amount (£, mean)", "mean"),
                    ("Amount (P5)", "p5"),
                    ("Amount (P95)", "p95"),
                ] {
                    penny(
                        float(&row[col(&head, column)], column),
                        step["amount"][stat].as_f64().unwrap(),
                        &format!("{name}: {chain}: {line} {column}"),
                    );
                }
                steps += 1;
            }
        }
    }
    assert!(steps > 10, "only {steps} bridge steps");
    let sheet = wb.worksheet_range(live::CHECKS).unwrap();
    let mut checks = 0;
    for row in sheet.rows().skip(1) {
        let want = row[0] != Data::String("Every input as run".into()) || as_run;
        assert_eq!(row[1], Data::Bool(want), "{}", row[0]);
        checks += 1;
    }
    assert!(checks > 5, "only {checks} checks");
}

pub fn check_live_sheets(xlsx: &Path, economics: &Value, budget_csv: &str) {
    let mut wb: Xlsx<_> = open_workbook(xlsx).expect("the workbook opens");
    let appraisals = economics["appraisals"].as_array().unwrap();

    check_model(&mut wb, economics, true);

    // The workings' years: consecutive twelve-month spans from month 1 to
    // the horizon, each factor the one before over one plus its rate, and
    // their undiscounted flows adding up to the bridge's real net saving.
    let months = economics["appraisals"][0]["cumulative"]
        .as_array()
        .unwrap()
        .len() as u64;
    for a in appraisals {
        let name = a["scenario"].as_str().unwrap();
        let years = a["by_year"].as_array().unwrap();
        let (mut next, mut factor, mut net) = (1, 1.0, 0.0);
        for y in years {
            assert_eq!(y["first_month"].as_u64().unwrap(), next, "{name}");
            let last = y["last_month"].as_u64().unwrap();
            assert_eq!(last, (next + 11).min(months), "{name}");
            next = last + 1;
            let df = y["discount_factor"].as_f64().unwrap();
            assert!(
                (df - factor).abs() < 1e-12,
                "{name}: factor {df} against {factor}"
            );
            factor = df / (1.0 + y["discount_rate"].as_f64().unwrap());
            let mean = |f: &str| y[f]["mean"].as_f64().unwrap();
            net += mean("cost_avoided") - mean("spend") + mean("value_left");
        }
        assert_eq!(next, months + 1, "{name}: the years cover the horizon");
        penny(
            net,
            a["undiscounted_net"]["mean"].as_f64().unwrap(),
            &format!("{name}: the years' net flows"),
        );
    }

    // The revenue budget impact year by year: budget.csv's revenue totals
    // (every payer), adding up to the bridge's total.
    let budget = budget_column(budget_csv, "saving_mean");
    for a in appraisals {
        let name = a["scenario"].as_str().unwrap();
        let mut sum = 0.0;
        for y in a["bridge"]["revenue_budget_impact_by_year"]
            .as_array()
            .unwrap()
        {
            let fy = y["financial_year"].as_str().unwrap();
            let v = y["amount"]["mean"].as_f64().unwrap();
            let rows: Vec<f64> = Payer::ALL
                .iter()
                .filter_map(|p| {
                    budget
                        .get(&(
                            name.into(),
                            fy.into(),
                            p.name().into(),
                            "Total revenue".into(),
                        ))
                        .copied()
                })
                .collect();
            let csv: f64 = rows.iter().sum();
            // Each payer's row is written to the penny; one sign in both.
            assert!(
                (v - csv).abs() <= 0.005 * rows.len() as f64 + 1e-6,
                "{name}, {fy}: revenue budget impact: {v} against {csv}"
            );
            sum += v;
        }
        let total = a["bridge"]["budget"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["id"] == "revenue_budget_impact")
            .unwrap()["amount"]["mean"]
            .as_f64()
            .unwrap();
        penny(sum, total, &format!("{name}: the years add up"));
    }

    check_mtfs(&mut wb, appraisals, budget_csv);
    check_acceptability(&mut wb, appraisals, true);
    check_who_pays(&mut wb, appraisals);
    check_budget_by_year(&mut wb, budget_csv);
    check_budget_by_replicate(&mut wb, budget_csv);

    check_capital(&mut wb, appraisals, budget_csv);
}

/// Capital and financing: per scenario, the financing charges add up to
/// the bridge's financing step, the value left to its residual step; year
/// by year they are budget.csv's capital and financing lines, and the debt
/// is what was spent less what was repaid.
fn check_capital<R: std::io::Read + std::io::Seek>(
    wb: &mut Xlsx<R>,
    appraisals: &[Value],
    budget_csv: &str,
) {
    let budget = budget_column(budget_csv, "saving_mean");
    let sheet = wb.worksheet_range("Capital and financing").unwrap();
    let head = header_of(&sheet);
    let at = |name: &str| col(&head, name);
    // Row by row, economics.json's capital schedule, to the penny.
    let schedule: Vec<&Value> = appraisals
        .iter()
        .flat_map(|a| a["capital_schedule"].as_array().unwrap())
        .collect();
    assert_eq!(sheet.rows().count() - 1, schedule.len());
    for (row, want) in sheet.rows().skip(1).zip(&schedule) {
        let what = format!("{} {} {}", row[0], row[1], row[3]);
        assert_eq!(
            row[3].to_string(),
            want["scheme"].as_str().unwrap(),
            "{what}"
        );
        for (column, field, band) in [
            ("Capital spend (£ nominal, mean)", "capital_spend", "mean"),
            (
                "Principal repaid or MRP (£, mean)",
                "principal_repaid",
                "mean",
            ),
            ("Interest (£, mean)", "interest", "mean"),
            (
                "Financing charge to revenue (£, mean)",
                "financing_charge",
                "mean",
            ),
            (
                "Debt outstanding at the year's end (£, mean)",
                "debt_outstanding",
                "mean",
            ),
            (
                "Value left at the horizon (£ real, mean; final year)",
                "value_left_at_horizon",
                "mean",
            ),
            ("Value left (P5)", "value_left_at_horizon", "p5"),
            ("Value left (P95)", "value_left_at_horizon", "p95"),
        ] {
            match want[field][band].as_f64() {
                Some(x) => penny(
                    float(&row[at(column)], column),
                    x,
                    &format!("{what}: {column}"),
                ),
                None => assert_eq!(row[at(column)], Data::Empty, "{what}: {column}"),
            }
        }
    }
    let mut schemes = 0;
    // Debt outstanding is what was spent less what was repaid, to date.
    let mut owed: BTreeMap<(String, String), f64> = BTreeMap::new();
    for row in sheet.rows().skip(1) {
        let v = |c: &str| float(&row[at(c)], c);
        let key = (row[0].to_string(), row[at("Scheme")].to_string());
        let o = owed.entry(key.clone()).or_insert(0.0);
        *o += v("Capital spend (£ nominal, mean)") - v("Principal repaid or MRP (£, mean)");
        let shown = v("Debt outstanding at the year's end (£, mean)");
        assert!(
            (shown - *o).abs() < 0.5,
            "{key:?}: debt {shown} against {o}"
        );
    }
    for a in appraisals {
        let name = a["scenario"].as_str().unwrap();
        let step = |id: &str| -> f64 {
            a["bridge"]["budget"]
                .as_array()
                .unwrap()
                .iter()
                .chain(a["bridge"]["appraisal"].as_array().unwrap())
                .find(|s| s["id"] == id)
                .unwrap_or_else(|| panic!("{name}: no {id} step"))["amount"]["mean"]
                .as_f64()
                .unwrap()
        };
        let (mut charges, mut left) = (0.0, 0.0);
        for row in sheet.rows().filter(|r| r[0] == Data::String(name.into())) {
            schemes += 1;
            let v = |c: &str| float(&row[at(c)], c);
            let charge = v("Financing charge to revenue (£, mean)");
            // Three figures each to the penny: their sum may be a penny out.
            let parts = v("Principal repaid or MRP (£, mean)") + v("Interest (£, mean)");
            assert!(
                (charge - parts).abs() < 0.015,
                "{name}: principal and interest make the charge: {charge} against {parts}"
            );
            charges += charge;
            if let Data::Float(x) = row[at("Value left at the horizon (£ real, mean; final year)")]
            {
                left += x;
            }
            let payer = Payer::ALL
                .iter()
                .find(|p| row[at("Payer")] == p.label())
                .unwrap();
            let key = |line: String| {
                (
                    name.to_string(),
                    row[at("Financial year")].to_string(),
                    payer.name().to_string(),
                    line,
                )
            };
            let scheme = row[at("Scheme")].to_string();
            // The schedule shows spending as amounts; budget.csv's saving
            // on the same lines is their negative.
            penny(
                v("Capital spend (£ nominal, mean)"),
                -budget[&key(format!("{scheme} (capital)"))],
                &format!("{name}, {scheme}: capital spend against budget.csv"),
            );
            penny(
                charge,
                -budget[&key(format!("{scheme} (financing)"))],
                &format!("{name}, {scheme}: financing against budget.csv"),
            );
        }
        // Money written to the penny, summed over up to a few dozen rows.
        let near =
            |a: f64, b: f64, what: &str| assert!((a - b).abs() < 0.5, "{what}: {a} against {b}");
        near(
            charges,
            -step("financing"),
            &format!("{name}: financing step"),
        );
        near(
            left,
            step("residual_value"),
            &format!("{name}: value left step"),
        );
    }
    assert!(schemes > 0, "no capital scheme in the schedule");
}

/// The MTFS view against `budget.csv`: each budget line's saving, each
/// payer's revenue saving, the General Fund and All payers rows, headroom
/// and saving beyond target, year by year and over the horizon, with the
/// same sign (+ a saving, or money to spare).
fn check_mtfs<R: std::io::Read + std::io::Seek>(
    wb: &mut Xlsx<R>,
    appraisals: &[Value],
    budget_csv: &str,
) {
    let budget = budget_column(budget_csv, "saving_mean");
    // The MTFS view: each payer's revenue saving is budget.csv's revenue
    // total's saving, year by year, with the same sign; "All payers" adds
    // them up.
    let sheet = wb.worksheet_range("MTFS view").unwrap();
    let head = header_of(&sheet);
    let years: Vec<&String> = head[MTFS_LEAD.len()..head.len() - 1].iter().collect();
    assert_eq!(head.last().unwrap(), MTFS_TOTAL);
    // Each budget line's saving, by formula from the finance model.
    let mut lines = 0;
    for row in sheet.rows().skip(1) {
        let text = |k: usize| row[k].to_string();
        let Some(payer) = Payer::ALL.iter().find(|p| p.label() == text(1)) else {
            continue;
        };
        for (k, fy) in years.iter().enumerate() {
            let key = (text(0), fy.to_string(), payer.name().to_string(), text(3));
            if let Some(want) = budget.get(&key) {
                let shown = float(&row[MTFS_LEAD.len() + k], "MTFS");
                penny(shown, *want, &format!("MTFS line {key:?}"));
                lines += 1;
            }
        }
    }
    assert!(lines > 0, "no budget line in the MTFS view");
    let (mut seen, mut totals, mut council) = (0, 0, 0);
    for row in sheet.rows().skip(1) {
        let text = |k: usize| row[k].to_string();
        if text(3) != CHANGE_ROW {
            continue;
        }
        let scenario = text(0);
        let (mut horizon, mut summed) = (0.0, 0);
        for (k, fy) in years.iter().enumerate() {
            let rows: Vec<f64> = Payer::ALL
                .iter()
                .filter(|p| {
                    text(1) == ALL_PAYERS
                        || text(1) == p.label()
                        || (text(1) == GENERAL_FUND && p.council())
                })
                .filter_map(|p| {
                    budget
                        .get(&(
                            scenario.clone(),
                            fy.to_string(),
                            p.name().into(),
                            "Total revenue".into(),
                        ))
                        .copied()
                })
                .collect();
            let expected: f64 = rows.iter().sum();
            let shown = float(&row[MTFS_LEAD.len() + k], "MTFS");
            pennies(
                shown,
                expected,
                rows.len(),
                &format!("{scenario}, {}, {fy}", text(1)),
            );
            horizon += expected;
            summed += rows.len();
        }
        let last = float(&row[head.len() - 1], "MTFS");
        pennies(
            last,
            horizon,
            summed,
            &format!("{scenario}, {}: over the horizon", text(1)),
        );
        seen += 1;
        totals += usize::from(text(1) == ALL_PAYERS);
        council += usize::from(text(1) == GENERAL_FUND);
    }
    assert_eq!(totals, appraisals.len(), "one All payers row a scenario");
    assert_eq!(council, appraisals.len(), "one General Fund row a scenario");
    assert!(seen > totals, "no payer's change row in the MTFS view");
    // Its headroom within each envelope and saving beyond each target, by
    // formula, are budget.csv's, with the same sign: positive leaves money
    // to spare.
    for (label, column) in [
        (HEADROOM_ROW, "headroom_mean"),
        (BEYOND_TARGET_ROW, "beyond_target_mean"),
    ] {
        let expected = budget_column(budget_csv, column);
        let mut checked = 0;
        for row in sheet.rows().skip(1) {
            let text = |k: usize| row[k].to_string();
            if text(3) != label {
                continue;
            }
            let payer = Payer::ALL
                .iter()
                .find(|p| p.label() == text(1))
                .unwrap_or_else(|| panic!("{label}: no payer {}", text(1)));
            for (k, fy) in years.iter().enumerate() {
                let key = (
                    text(0),
                    fy.to_string(),
                    payer.name().to_string(),
                    "Total revenue".to_string(),
                );
                if let Some(want) = expected.get(&key) {
                    let shown = float(&row[MTFS_LEAD.len() + k], "MTFS");
                    pennies(shown, *want, 2, &format!("{label}: {key:?}"));
                    checked += 1;
                }
            }
        }
        assert!(checked > 0, "no {label} row checked in the MTFS view");
    }
}

/// Acceptability: each point's chance is the share of the Replicates'
/// net present values plus the willingness times the units gained that are
/// above zero; and, for the run as written (`as_run`), the chance
/// economics.json holds.
fn check_acceptability<R: std::io::Read + std::io::Seek>(
    wb: &mut Xlsx<R>,
    appraisals: &[Value],
    as_run: bool,
) {
    let reps = wb.worksheet_range(live::REPLICATES).unwrap();
    let head = header_of(&reps);
    let column = |scenario: &str, name: &str| -> Vec<f64> {
        let c = col(&head, name);
        reps.rows()
            .skip(1)
            .filter(|r| r[0] == scenario)
            .map(|r| float(&r[c], name))
            .collect()
    };
    let sheet = wb.worksheet_range("Acceptability").unwrap();
    let mut rows = sheet.rows().skip(1);
    let mut points = 0;
    for a in appraisals {
        let name = a["scenario"].as_str().unwrap();
        let npv = column(name, "Net present value");
        for curve in a["acceptability"].as_array().unwrap() {
            let units = match curve["per"].as_str().unwrap() {
                "crisis_month" => column(name, "Crisis-months avoided"),
                _ => column(name, "QALYs gained, discounted"),
            };
            for want in curve["chance_worth_it"].as_array().unwrap() {
                let row = rows.next().expect("a row for each point");
                assert_eq!(row[0].to_string(), name);
                let w = float(&row[2], "willingness");
                let shown = float(&row[3], "chance");
                let worth = npv
                    .iter()
                    .zip(&units)
                    .filter(|(n, u)| *n + w * *u > 0.0)
                    .count();
                let counted = worth as f64 / npv.len() as f64;
                assert!(
                    (shown - counted).abs() < 1e-9,
                    "{name} at £{w}: {shown} against {counted}"
                );
                if as_run {
                    let json = want.as_f64().unwrap();
                    assert!(
                        (shown - json).abs() < 1e-9,
                        "{name} at £{w}: {shown} against {json}"
                    );
                }
                points += 1;
            }
        }
    }
    assert!(points > 0, "no acceptability point");
}

/// Who pays and who saves: every payer's and pool's spend, cost avoided and
/// net (mean, P5 and P95) is economics.json's to the penny, and the
/// payers' mean nets add up to the Summary's net present value.
fn check_who_pays<R: std::io::Read + std::io::Seek>(wb: &mut Xlsx<R>, appraisals: &[Value]) {
    let sheet = wb.worksheet_range("Who pays and who saves").unwrap();
    let head = header_of(&sheet);
    let mut rows = sheet.rows().skip(1);
    let mut moved = 0;
    for a in appraisals {
        let name = a["scenario"].as_str().unwrap();
        let mut nets = 0.0;
        for (kind, key) in [("Payer", "who_pays"), ("Pool", "pools")] {
            for position in a[key].as_array().unwrap() {
                let row = rows.next().expect("a row for each payer and pool");
                let what = format!("{name}: {}", position["name"].as_str().unwrap());
                assert_eq!(row[0].to_string(), name);
                assert_eq!(row[1].to_string(), kind, "{what}");
                assert_eq!(row[2].to_string(), position["name"].as_str().unwrap());
                for (field, columns) in [
                    (
                        "spend",
                        [
                            "Spend, present value (£, mean)",
                            "Spend (P5)",
                            "Spend (P95)",
                        ],
                    ),
                    (
                        "cost_avoided",
                        [
                            "Cost avoided, present value (£, mean)",
                            "Cost avoided (P5)",
                            "Cost avoided (P95)",
                        ],
                    ),
                    ("net", ["Net position (£, mean)", "Net (P5)", "Net (P95)"]),
                ] {
                    for (column, stat) in columns.iter().zip(["mean", "p5", "p95"]) {
                        let want = position[field][stat].as_f64().unwrap();
                        penny(
                            float(&row[col(&head, column)], column),
                            want,
                            &format!("{what}: {column}"),
                        );
                        moved += usize::from(want.abs() >= 0.01);
                    }
                }
                if kind == "Payer" {
                    nets += float(&row[col(&head, "Net position (£, mean)")], "net");
                }
            }
        }
        let npv = a["npv"]["mean"].as_f64().unwrap();
        pennies(nets, npv, 8, &format!("{name}: the payers' nets"));
    }
    assert!(rows.next().is_none(), "a row for no payer");
    assert!(moved > 20, "only {moved} who-pays figures move");
}

/// A payer's name for people from its name in budget.csv.
fn payer_label(name: &str) -> &'static str {
    Payer::ALL
        .iter()
        .find(|p| p.name() == name)
        .unwrap_or_else(|| panic!("no payer {name}"))
        .label()
}

/// Budget by replicate: each budget row's lines, replicate by replicate,
/// average to budget.csv's scenario mean, and each payer's revenue total is
/// the sum of its revenue lines.
fn check_budget_by_replicate<R: std::io::Read + std::io::Seek>(wb: &mut Xlsx<R>, budget_csv: &str) {
    let sheet = wb.worksheet_range("Budget by replicate").unwrap();
    let head = header_of(&sheet);
    let mut sums: BTreeMap<(String, String, usize), (f64, usize)> = BTreeMap::new();
    for row in sheet.rows().skip(1) {
        for c in 3..head.len() {
            if let Data::Float(v) = row[c] {
                let e = sums
                    .entry((row[0].to_string(), row[1].to_string(), c))
                    .or_default();
                e.0 += v;
                e.1 += 1;
            }
        }
    }
    let mut csv = budget_csv.lines();
    let names: Vec<&str> = csv.next().unwrap().split(',').collect();
    let at = |name: &str| names.iter().position(|h| *h == name).unwrap();
    let mut checked = 0;
    for line in csv {
        let c: Vec<&str> = line.split(',').collect();
        let payer = payer_label(c[at("payer")]);
        let column = format!(
            "{payer}: {} ({}, £ nominal)",
            c[at("service_line")],
            c[at("account")]
        );
        let k = col(&head, &column);
        let (sum, n) = sums[&(
            c[at("scenario")].to_string(),
            c[at("financial_year")].to_string(),
            k,
        )];
        let want: f64 = c[at("scenario_mean")].parse().unwrap();
        pennies(
            sum / n as f64,
            want,
            2,
            &format!(
                "{}, {}: {column}",
                c[at("scenario")],
                c[at("financial_year")]
            ),
        );
        checked += 1;
    }
    assert!(checked > 20, "only {checked} budget rows checked");
}

/// Budget by year: every row is budget.csv's row, every figure to the
/// penny (means, bands, real terms, envelope, headroom, target, beyond it),
/// as the MTFS view's lines are.
fn check_budget_by_year<R: std::io::Read + std::io::Seek>(wb: &mut Xlsx<R>, budget_csv: &str) {
    let sheet = wb.worksheet_range("Budget by year").unwrap();
    let mut csv = budget_csv.lines();
    let head: Vec<&str> = csv.next().unwrap().split(',').collect();
    let at = |name: &str| head.iter().position(|h| *h == name).unwrap();
    let figures = [
        "baseline_mean",
        "scenario_mean",
        "scenario_p5",
        "scenario_p95",
        "saving_mean",
        "saving_p5",
        "saving_p95",
        "baseline_real_mean",
        "scenario_real_mean",
        "saving_real_mean",
        "envelope",
        "headroom_mean",
        "headroom_p5",
        "headroom_p95",
        "savings_target",
        "beyond_target_mean",
        "beyond_target_p5",
        "beyond_target_p95",
    ];
    let (mut rows, mut moved, mut bands) = (0, 0, 0);
    // The sheet has budget.csv's rows in its order.
    for (row, line) in sheet.rows().skip(1).zip(csv) {
        // No bundled scenario or line name holds a comma.
        let c: Vec<&str> = line.split(',').collect();
        let payer = payer_label(c[at("payer")]);
        let what = format!(
            "{}, {}, {payer}, {}",
            c[at("scenario")],
            c[at("financial_year")],
            c[at("service_line")]
        );
        assert_eq!(row[0].to_string(), c[at("scenario")], "{what}");
        assert_eq!(row[1].to_string(), c[at("financial_year")], "{what}");
        assert_eq!(row[2].to_string(), payer, "{what}");
        assert_eq!(row[3].to_string(), c[at("account")], "{what}");
        assert_eq!(row[4].to_string(), c[at("service_line")], "{what}");
        for (k, name) in figures.iter().enumerate() {
            let cell = &row[5 + k];
            let want = c[at(name)];
            if want.is_empty() {
                assert_eq!(*cell, Data::Empty, "{what}: {name}");
                continue;
            }
            let want: f64 = want.parse().unwrap();
            // Both rounded to the penny, each on its own arithmetic (the
            // replicates' lines here, the monthly series in budget.csv): a
            // value on a half penny may round either way.
            pennies(float(cell, name), want, 2, &format!("{what}: {name}"));
            moved += usize::from(want.abs() >= 0.01 && name.starts_with("saving"));
            bands += usize::from(name.ends_with("p5") || name.ends_with("p95"));
        }
        rows += 1;
    }
    assert_eq!(
        rows,
        budget_csv.lines().count() - 1,
        "a row for every budget row"
    );
    assert!(
        moved > 20 && bands > 100,
        "only {moved} savings move, {bands} bands"
    );
}

/// Sets every formula's cached value in the workbook to 0, so that only a
/// spreadsheet engine that recalculates can give the right figures.
fn forget_cached_values(from: &Path, to: &Path) {
    edit_and_forget(from, to, &[]);
}

/// Sets each input cell `(Inputs row, value)` of the Inputs sheet (the
/// workbook's second) as a finance officer would, and every formula's cached
/// value to 0.
fn edit_and_forget(from: &Path, to: &Path, edits: &[(u32, f64)]) {
    let mut zin = zip::ZipArchive::new(fs::File::open(from).unwrap()).unwrap();
    let mut zout = zip::ZipWriter::new(fs::File::create(to).unwrap());
    let mut forgotten = 0;
    for i in 0..zin.len() {
        let mut file = zin.by_index(i).unwrap();
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).unwrap();
        let name = file.name().unwrap().to_string();
        if name.starts_with("xl/worksheets/") {
            let mut text = String::from_utf8(bytes).unwrap();
            if name == "xl/worksheets/sheet2.xml" {
                for (row, value) in edits {
                    let open = format!("<c r=\"B{}\"", row + 1);
                    let at = text
                        .find(&open)
                        .unwrap_or_else(|| panic!("no input cell {open}"));
                    let v = at + text[at..].find("<v>").unwrap() + 3;
                    let end = v + text[v..].find("</v>").unwrap();
                    text.replace_range(v..end, &value.to_string());
                }
            }
            let mut out = String::with_capacity(text.len());
            let mut rest = text.as_str();
            while let Some(k) = rest.find("</f><v>") {
                let (head, tail) = rest.split_at(k + "</f><v>".len());
                out.push_str(head);
                let end = tail.find("</v>").unwrap();
                out.push('0');
                rest = &tail[end..];
                forgotten += 1;
            }
            out.push_str(rest);
            bytes = out.into_bytes();
        }
        zout.start_file(name, zip::write::SimpleFileOptions::default())
            .unwrap();
        zout.write_all(&bytes).unwrap();
    }
    zout.finish().unwrap();
    assert!(forgotten > 100, "only {forgotten} formulas in the workbook");
}

#[test]
#[ignore = "needs LibreOffice: cargo test --release --test integration workbook -- --ignored"]
fn the_workbook_recalculated_by_libreoffice_agrees_with_economics_json() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let o = upstream(&[
        "run",
        "-r",
        "2",
        "--years",
        "4",
        "--no-report",
        "-q",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let economics: Value =
        serde_json::from_str(&fs::read_to_string(out.join("economics.json")).unwrap()).unwrap();
    let budget_csv = fs::read_to_string(out.join("budget.csv")).unwrap();
    let blank = tmp.path().join("blank.xlsx");
    forget_cached_values(&out.join("upstream.xlsx"), &blank);

    let recalculated = recalculate(tmp.path(), &blank);
    check_live_sheets(&recalculated, &economics, &budget_csv);
    // Inputs says how each input is changed: an envelope or savings
    // target on the MTFS view, an intervention's money by a run.
    let mut wb: Xlsx<_> = open_workbook(&recalculated).unwrap();
    let inputs = wb.worksheet_range(live::INPUTS).unwrap();
    let how = |prefix: &str| -> Vec<String> {
        inputs
            .rows()
            .filter(|r| r[8].to_string().starts_with(prefix))
            .map(|r| r[3].to_string())
            .collect()
    };
    let (budgets, interventions) = (how("economics.budgets."), how("interventions."));
    assert!(!budgets.is_empty() && !interventions.is_empty());
    assert!(
        budgets.iter().all(|h| h == live::ON_THE_MTFS_VIEW),
        "{budgets:?}"
    );
    assert!(
        interventions.iter().all(|h| h == live::RUN_AGAIN),
        "{interventions:?}"
    );
}

/// `blank` recalculated by LibreOffice from its formulas alone, in a fresh
/// profile under `tmp`: the path of the recalculated copy.
fn recalculate(tmp: &Path, blank: &Path) -> std::path::PathBuf {
    let tmp = tempfile::tempdir_in(tmp).unwrap().keep();
    // A fresh LibreOffice profile that recalculates every formula on load
    // (its default for Excel files is to trust the cached values).
    let profile = tmp.as_path().join("profile");
    fs::create_dir_all(profile.join("user")).unwrap();
    fs::write(
        profile.join("user/registrymodifications.xcu"),
        r#"<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>
</oor:items>
"#,
    )
    .unwrap();
    let recalculated = tmp.as_path().join("recalculated");
    let soffice = std::env::var("UPSTREAM_SOFFICE").unwrap_or_else(|_| "soffice".into());
    let run = Command::new(&soffice)
        .arg(format!(
            "-env:UserInstallation=file://{}",
            profile.display()
        ))
        .args(["--headless", "--convert-to", "xlsx", "--outdir"])
        .arg(&recalculated)
        .arg(blank)
        .output()
        .unwrap_or_else(|e| panic!("cannot start {soffice} ({e}); install libreoffice-calc-nogui"));
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    recalculated.join(blank.file_name().unwrap())
}

/// The bundled comparison's baseline with `from` replaced by `to` in its
/// text, and three of its scenarios, copied to `dir`: the files a run with
/// one input changed reads.
fn bundled_with(dir: &Path, from: &str, to: &str) -> Vec<String> {
    fs::create_dir_all(dir).unwrap();
    let bundled = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut files = Vec::new();
    for name in [
        "baseline.toml",
        "hubs.toml",
        "ta_acquisition.toml",
        "disinvestment.toml",
    ] {
        let mut text = fs::read_to_string(bundled.join(name)).unwrap();
        if name == "baseline.toml" {
            assert!(text.contains(from), "baseline.toml has no {from}");
            text = text.replacen(from, to, 1);
        }
        fs::write(dir.join(name), text).unwrap();
        files.push(dir.join(name).to_str().unwrap().to_string());
    }
    files
}

fn run_economics(files: &[String], out: &Path) -> Value {
    let mut args: Vec<&str> = vec!["run"];
    args.extend(files.iter().map(String::as_str));
    args.extend([
        "-r",
        "3",
        "--years",
        "4",
        "--no-report",
        "-q",
        "-o",
        out.to_str().unwrap(),
    ]);
    let o = upstream(&args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_str(&fs::read_to_string(out.join("economics.json")).unwrap()).unwrap()
}

#[test]
#[ignore = "needs LibreOffice: cargo test --release --test integration workbook -- --ignored"]
fn an_input_changed_in_the_workbook_gives_what_a_run_with_it_gives() {
    // A finance officer changes the discount rate, optimism bias,
    // inflation or a reactive unit cost on the Inputs sheet; LibreOffice
    // recalculates; the Summary and the Money bridge are what the command
    // line gives with that input changed in the scenario, to the penny.
    let tmp = tempfile::tempdir().unwrap();
    let files = bundled_with(&tmp.path().join("as_run"), "", "");
    let out = tmp.path().join("as_run_out");
    run_economics(&files, &out);
    let xlsx = out.join("upstream.xlsx");
    let mut wb: Xlsx<_> = open_workbook(&xlsx).unwrap();
    let inputs = wb.worksheet_range(live::INPUTS).unwrap();
    let row_of = |id: &str| -> u32 {
        inputs
            .rows()
            .position(|r| r[8] == Data::String(id.into()))
            .unwrap_or_else(|| panic!("no input {id}")) as u32
    };
    let discount: Vec<(u32, f64)> = (0..4)
        .map(|y| (row_of(&format!("discount_rate.{y}")), 0.05))
        .collect();
    // What is changed, the baseline's text before and after, and the
    // Inputs cells edited.
    type Case<'a> = (&'a str, &'a str, &'a str, Vec<(u32, f64)>);
    let cases: Vec<Case> = vec![
        (
            "discount rate",
            "general_inflation = {",
            "discount_rate = 0.05\ngeneral_inflation = {",
            discount,
        ),
        (
            "optimism bias",
            "cost_uplift = { high = 0.05, medium = 0.15, low = 0.3 }\nsavings_haircut = { high = 0.0, medium = 0.15, low = 0.3 }",
            "cost_uplift = { high = 0.05, medium = 0.25, low = 0.3 }\nsavings_haircut = { high = 0.0, medium = 0.15, low = 0.45 }",
            vec![
                (row_of("cost_uplift.medium"), 0.25),
                (row_of("savings_haircut.low"), 0.45),
            ],
        ),
        (
            "inflation",
            "general_inflation = { value = 0.02,",
            "general_inflation = { value = 0.03,",
            vec![(row_of("general_inflation"), 0.03)],
        ),
        (
            "a reactive unit cost",
            "unit_cost = { value = 273,",
            "unit_cost = { value = 310,",
            vec![(row_of("unit_cost.ae_attendance"), 310.0)],
        ),
    ];
    for (k, (what, from, to, edits)) in cases.into_iter().enumerate() {
        let dir = tmp.path().join(format!("case{k}"));
        let changed = run_economics(&bundled_with(&dir, from, to), &dir.join("out"));
        let edited = dir.join("edited.xlsx");
        edit_and_forget(&xlsx, &edited, &edits);
        let recalculated = recalculate(&dir, &edited);
        let mut wb: Xlsx<_> = open_workbook(&recalculated).expect("the workbook opens");
        // The change bites: the net present value moves.
        let before = &open_economics(&out)["appraisals"][0]["npv"]["mean"];
        assert_ne!(before, &changed["appraisals"][0]["npv"]["mean"], "{what}");
        eprintln!("{what}: checking the recalculated workbook");
        check_model(&mut wb, &changed, false);
        let budget_csv = fs::read_to_string(dir.join("out/budget.csv")).unwrap();
        let appraisals = changed["appraisals"].as_array().unwrap();
        check_mtfs(&mut wb, appraisals, &budget_csv);
        check_capital(&mut wb, appraisals, &budget_csv);
        check_acceptability(&mut wb, appraisals, false);
        check_who_pays(&mut wb, appraisals);
        check_budget_by_year(&mut wb, &budget_csv);
        check_budget_by_replicate(&mut wb, &budget_csv);
    }
}

fn open_economics(out: &Path) -> Value {
    serde_json::from_str(&fs::read_to_string(out.join("economics.json")).unwrap()).unwrap()
}

#[test]
fn a_workbook_too_large_for_a_spreadsheet_is_refused_before_the_run() {
    // Seven scenarios × 10,000 replicates × 20 financial years is more rows
    // than a sheet holds: refused before anything is simulated, and
    // nothing is written.
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let started = std::time::Instant::now();
    let o = upstream(&[
        "run",
        "-r",
        "10000",
        "--years",
        "20",
        "--memory-limit",
        "1G",
        "-q",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("1,400,001 rows (7 scenarios × 10000 replicates × 20 periods), more than a spreadsheet's 1,048,576"),
        "{err}"
    );
    assert!(!out.exists(), "nothing is written");
    assert!(started.elapsed().as_secs() < 30, "refused before the run");
}

#[test]
#[ignore = "needs LibreOffice: cargo test --release --test integration workbook -- --ignored"]
fn a_run_with_drawn_parameters_recalculates_to_its_own_figures() {
    // Each replicate drew its own unit costs: the services' pounds are
    // carried as simulated, the unit costs are not offered as live inputs,
    // and the formulas still give the run's figures.
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let o = upstream(&[
        "run",
        fixtures.join("small.toml").to_str().unwrap(),
        fixtures.join("small_hubs.toml").to_str().unwrap(),
        "-r",
        "3",
        "--uncertainty",
        "--no-report",
        "-q",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let blank = tmp.path().join("blank.xlsx");
    forget_cached_values(&out.join("upstream.xlsx"), &blank);
    let mut wb: Xlsx<_> = open_workbook(recalculate(tmp.path(), &blank)).unwrap();
    let inputs = wb.worksheet_range(live::INPUTS).unwrap();
    assert!(
        !inputs
            .rows()
            .any(|r| r[3] == Data::String(live::LIVE.into())
                && r[8].to_string().starts_with("unit_cost.")),
        "a drawn unit cost offered as a live input"
    );
    check_model(&mut wb, &open_economics(&out), true);
}
