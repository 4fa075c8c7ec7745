//! The workbook as a finance model: its live sheets (NPV workings, the MTFS
//! view) compute by formula the figures `economics.json` and `budget.csv`
//! hold, and its capital schedule adds up to the bridge's financing and
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
    ALL_PAYERS, BEYOND_TARGET_ROW, CHANGE_ROW, HEADROOM_ROW, MTFS_LEAD, MTFS_TOTAL, NPV_ROW,
    WORKINGS_COLUMNS,
};

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
pub fn check_live_sheets(xlsx: &Path, economics: &Value, budget_csv: &str) {
    let mut wb: Xlsx<_> = open_workbook(xlsx).expect("the workbook opens");
    let appraisals = economics["appraisals"].as_array().unwrap();

    // NPV workings: each scenario's total row gives its net present value
    // and its cashable net present value.
    let sheet = wb.worksheet_range("NPV workings").unwrap();
    let head = header_of(&sheet);
    assert_eq!(head, WORKINGS_COLUMNS);
    let (months, disc, cash) = (
        col(&head, "Months"),
        col(&head, "Discounted net flow (£)"),
        col(&head, "Discounted net flow, cashable savings only (£)"),
    );
    for a in appraisals {
        let name = a["scenario"].as_str().unwrap();
        let total = sheet
            .rows()
            .find(|r| {
                r[0] == Data::String(name.into()) && r[months] == Data::String(NPV_ROW.into())
            })
            .unwrap_or_else(|| panic!("{name}: no net present value row in NPV workings"));
        let mean = |f: &str| a[f]["mean"].as_f64().unwrap();
        penny(
            float(&total[disc], name),
            mean("npv"),
            &format!("{name}: NPV"),
        );
        penny(
            float(&total[cash], name),
            mean("npv_cashable"),
            &format!("{name}: cashable NPV"),
        );
    }

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

    // The MTFS view: each payer's revenue saving is budget.csv's revenue
    // total's saving, year by year, with the same sign; "All payers" adds
    // them up.
    let sheet = wb.worksheet_range("MTFS view").unwrap();
    let head = header_of(&sheet);
    let years: Vec<&String> = head[MTFS_LEAD.len()..head.len() - 1].iter().collect();
    assert_eq!(head.last().unwrap(), MTFS_TOTAL);
    let (mut seen, mut totals) = (0, 0);
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
                .filter(|p| text(1) == ALL_PAYERS || text(1) == p.label())
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
    }
    assert_eq!(totals, appraisals.len(), "one All payers row a scenario");
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

    // Capital and financing: per scenario, the financing charges add up to
    // the bridge's financing step, the value left to its residual step; year
    // by year they are budget.csv's capital and financing lines.
    let sheet = wb.worksheet_range("Capital and financing").unwrap();
    let head = header_of(&sheet);
    let at = |name: &str| col(&head, name);
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

/// Sets every formula's cached value in the workbook to 0, so that only a
/// spreadsheet engine that recalculates can give the right figures.
fn forget_cached_values(from: &Path, to: &Path) {
    let mut zin = zip::ZipArchive::new(fs::File::open(from).unwrap()).unwrap();
    let mut zout = zip::ZipWriter::new(fs::File::create(to).unwrap());
    let mut forgotten = 0;
    for i in 0..zin.len() {
        let mut file = zin.by_index(i).unwrap();
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).unwrap();
        let name = file.name().unwrap().to_string();
        if name.starts_with("xl/worksheets/") {
            let text = String::from_utf8(bytes).unwrap();
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

    // A fresh LibreOffice profile that recalculates every formula on load
    // (its default for Excel files is to trust the cached values).
    let profile = tmp.path().join("profile");
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
    let recalculated = tmp.path().join("recalculated");
    let soffice = std::env::var("UPSTREAM_SOFFICE").unwrap_or_else(|_| "soffice".into());
    let run = Command::new(&soffice)
        .arg(format!(
            "-env:UserInstallation=file://{}",
            profile.display()
        ))
        .args(["--headless", "--convert-to", "xlsx", "--outdir"])
        .arg(&recalculated)
        .arg(&blank)
        .output()
        .unwrap_or_else(|e| panic!("cannot start {soffice} ({e}); install libreoffice-calc-nogui"));
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    check_live_sheets(&recalculated.join("blank.xlsx"), &economics, &budget_csv);
}
