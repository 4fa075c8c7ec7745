//! The charts and the report, built from a small run's output folder.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use crate::common::upstream;
use serde_json::Value;
use upstream::format::money;
use upstream::report::words::html;

const SCENARIOS: [&str; 3] = [
    "tests/fixtures/small.toml",
    "tests/fixtures/small_hubs.toml",
    "tests/fixtures/small_zero_budget.toml",
];

/// Runs the small comparison once into `dir`.
fn run_into(dir: &Path, extra: &[&str]) {
    let mut args = vec!["run"];
    args.extend(SCENARIOS);
    args.extend(["-r", "8", "-q", "-o", dir.to_str().unwrap()]);
    args.extend(extra);
    let out = upstream(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// One output folder with its report, shared by the tests that only read it.
fn fixture() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        run_into(dir.path(), &[]);
        dir
    })
    .path()
}

/// A private copy of the fixture, for tests that change it.
fn copy_of_fixture() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(fixture(), dir.path());
    dir
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            fs::copy(e.path(), target).unwrap();
        }
    }
}

fn report(dir: &Path) -> String {
    fs::read_to_string(dir.join("report.html")).unwrap()
}

fn json(dir: &Path, name: &str) -> Value {
    serde_json::from_slice(&fs::read(dir.join(name)).unwrap()).unwrap()
}

/// Values of `attr="…"` anywhere in the page.
fn attributes<'a>(page: &'a str, attr: &str) -> Vec<&'a str> {
    let key = format!("{attr}=\"");
    page.match_indices(&key)
        .filter(|(i, _)| {
            // A whole attribute name, not the end of a longer one.
            page[..*i].chars().last().is_some_and(|c| c.is_whitespace())
        })
        .map(|(i, _)| {
            let rest = &page[i + key.len()..];
            &rest[..rest.find('"').unwrap()]
        })
        .collect()
}

fn chart_files(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = fs::read_dir(dir.join("charts"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == ext))
        .collect();
    v.sort();
    v
}

#[test]
fn every_scenario_has_its_section_headline_and_charts() {
    let dir = fixture();
    let page = report(dir);
    let summary = json(dir, "summary.json");
    let names: Vec<&str> = summary["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 3);
    for (i, name) in names.iter().enumerate().skip(1) {
        let heading = format!("<h2 id=\"scenario-{i}\">{}</h2>", html(name));
        assert!(page.contains(&heading), "no section for {name}");
        let headline = format!("<p class=\"headline\">{}: ", html(name));
        assert_eq!(
            page.matches(&headline).count(),
            2,
            "{name}: a headline among the headlines and one in its section"
        );
        for chart in ["payback", "who-pays", "cost-by-service", "need-levels"] {
            let id = format!("scenario-{i}-{chart}");
            assert!(page.contains(&format!("<figure id=\"{id}\">")), "{id}");
        }
    }
    // A plain run says which assumptions decide its result is not measured,
    // and how to measure it.
    let deciding = &page[page.find("<h2 id=\"deciding\">").unwrap()..];
    assert!(deciding.starts_with(
        "<h2 id=\"deciding\">The assumptions that decide this result</h2>\n<p>Not measured for this run. <code>upstream sensitivity</code>"
    ));
    for i in 1..names.len() {
        assert!(!page.contains(&format!("tornado_{i}")));
    }
    // The baseline is in every chart of a measure over time (its legend).
    let fans: Vec<PathBuf> = chart_files(dir, "svg")
        .into_iter()
        .filter(|p| {
            let n = p.file_name().unwrap().to_string_lossy();
            !n.starts_with("scenario-")
                && !n.contains("difference")
                && !n.starts_with("neighbourhoods")
        })
        .collect();
    assert!(fans.len() >= 5);
    for f in fans {
        let svg = fs::read_to_string(&f).unwrap();
        // The chart's words in order, a wrapped legend label joined up again.
        let words: Vec<&str> = svg
            .split("</text>")
            .filter_map(|t| t.rsplit_once('>').map(|(_, w)| w.trim()))
            .collect();
        let words = words.join(" ");
        for name in &names {
            assert!(
                words.contains(&html(name)),
                "{name} missing from {}",
                f.display()
            );
        }
    }
    // Every figure in the page has its SVG and PNG on disk, and no chart on
    // disk is missing from the page.
    let ids = attributes(&page, "id");
    let figures: Vec<&str> = ids
        .iter()
        .copied()
        .filter(|id| dir.join("charts").join(format!("{id}.svg")).is_file())
        .collect();
    assert_eq!(figures.len(), chart_files(dir, "svg").len());
    assert_eq!(figures.len(), chart_files(dir, "png").len());
    assert_eq!(page.matches("<svg ").count(), figures.len());
}

#[test]
fn the_report_is_self_contained() {
    let page = report(fixture());
    for banned in [
        "<script", "<link", "<img", "<iframe", "@import", "url(", "src=",
    ] {
        assert!(!page.contains(banned), "the report contains {banned}");
    }
    for href in attributes(&page, "href") {
        assert!(href.starts_with('#'), "a link leaves the page: {href}");
    }
    assert!(
        !page.contains("http://") && !page.contains("https://"),
        "an external URL is referenced"
    );
    // Every inline chart has alt text that a screen reader announces.
    let titles = page.matches("role=\"img\" aria-labelledby=").count();
    assert_eq!(titles, page.matches("<svg ").count());
    assert_eq!(titles, page.matches("</title>").count() - 1);
}

#[test]
fn each_png_is_a_valid_image_of_the_size_its_svg_states() {
    let dir = fixture();
    let pngs = chart_files(dir, "png");
    assert!(pngs.len() >= 20, "{} charts", pngs.len());
    for path in pngs {
        let decoder = png::Decoder::new(fs::File::open(&path).unwrap());
        let mut reader = decoder.read_info().expect("a PNG header");
        let mut pixels = vec![0; reader.output_buffer_size()];
        let info = reader.next_frame(&mut pixels).expect("PNG image data");
        let svg = fs::read_to_string(path.with_extension("svg")).unwrap();
        let stated: Vec<u32> = ["width", "height"]
            .iter()
            .map(|a| attributes(&svg, a)[0].parse().unwrap())
            .collect();
        assert_eq!([info.width, info.height], stated[..], "{}", path.display());
        assert!(info.width >= 1000 && info.height >= 300);
        // Drawn, not blank: a good share of pixels are not white.
        let inked = pixels[..info.buffer_size()]
            .chunks(3)
            .filter(|p| p.iter().any(|&c| c < 200))
            .count();
        let share = inked as f64 / (info.width * info.height) as f64;
        assert!(share > 0.01, "{} is nearly blank", path.display());
    }
    // The data is drawn, not just the axes: the first policy scenario's
    // line, in its palette colour (Okabe–Ito orange), crosses the chart.
    let decoder = png::Decoder::new(fs::File::open(dir.join("charts/crisis.png")).unwrap());
    let mut reader = decoder.read_info().unwrap();
    let mut pixels = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut pixels).unwrap();
    let width = info.width as usize;
    let orange_columns: std::collections::BTreeSet<usize> = pixels[..info.buffer_size()]
        .chunks(3)
        .enumerate()
        .filter(|(_, p)| p == &[230, 159, 0])
        .map(|(i, _)| i % width)
        .collect();
    assert!(
        orange_columns.len() > width / 3,
        "the scenario's line spans {} of {width} columns",
        orange_columns.len()
    );
}

#[test]
fn a_headline_quotes_the_numbers_in_economics_json() {
    let dir = fixture();
    let page = report(dir);
    let economics = json(dir, "economics.json");
    let hubs = &economics["appraisals"][0];
    let name = hubs["scenario"].as_str().unwrap();
    let n = |path: &[&str]| -> f64 {
        let mut v = hubs;
        for p in path {
            v = &v[*p];
        }
        v.as_f64().unwrap()
    };
    // The money bridge's lines, the budget as entered first.
    let line = |id: &str, stat: &str| -> f64 {
        hubs["bridge"]["appraisal"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["id"] == id)
            .unwrap()["amount"][stat]
            .as_f64()
            .unwrap()
    };
    let spend = -line("extra_prevention_spend", "mean");
    let sentence = format!(
        "{name}: {} of extra spending over two years ({} with a 30% allowance for optimism bias) avoids {} of reactive cost (90% range {} to {}",
        money(spend),
        money(spend - line("optimism_bias_on_spend", "mean")),
        money(line("reactive_cost_avoided", "mean")),
        money(line("reactive_cost_avoided", "p5")),
        money(line("reactive_cost_avoided", "p95")),
    );
    assert!(page.contains(&html(&sentence)), "missing: {sentence}");
    let saving = format!(
        ": a net revenue saving of {}",
        money(line("net_revenue_saving", "mean"))
    );
    assert!(page.contains(&html(&saving)), "missing: {saving}");
    let npv = format!(
        "Its net present value is above zero in {} of replicates: its median is {} (90% range {} to {}",
        upstream::format::percent(n(&["probability_npv_positive"])),
        money(n(&["npv", "p50"])),
        money(n(&["npv", "p5"])),
        money(n(&["npv", "p95"])),
    );
    assert!(page.contains(&html(&npv)), "missing: {npv}");
    let crosses = n(&["npv", "p5"]) < 0.0 && n(&["npv", "p95"]) > 0.0;
    let said = page.contains(&html(&format!("{npv}, which crosses zero")));
    assert_eq!(crosses, said, "a range that crosses zero is said to");
    // Payback: the year quoted is the one the median month falls in, or
    // the share of replicates that do not pay back.
    let payback = &hubs["payback_month_discounted"];
    let clause = match payback["p50"].as_u64() {
        Some(m) => format!("; it pays back in year {} of the horizon", m.div_ceil(12)),
        None => {
            let never = 1.0 - payback["within_horizon"].as_f64().unwrap();
            if never < 1.0 {
                format!(
                    "; it does not pay back within the two years in {:.0}% of replicates",
                    never * 100.0
                )
            } else {
                "; it does not pay back within the two years in any replicate".into()
            }
        }
    };
    assert!(page.contains(&html(&clause)), "missing: {clause}");
    // The zero-budget scenario changes nothing, and the report says so.
    let zero = economics["appraisals"][1]["scenario"].as_str().unwrap();
    let zero_headline = format!(
        "{zero}: £0 of extra spending over two years avoids £0 of reactive cost (90% range £0 to £0)"
    );
    assert!(page.contains(&html(&zero_headline)), "{zero_headline}");
    assert!(page.contains("It does not change the months residents spend in crisis."));
}

#[test]
fn the_report_from_a_run_equals_the_report_rebuilt_from_its_folder() {
    let dir = copy_of_fixture();
    let before = report(dir.path());
    let svg_before = fs::read(dir.path().join("charts/crisis.svg")).unwrap();
    fs::remove_file(dir.path().join("report.html")).unwrap();
    fs::remove_dir_all(dir.path().join("charts")).unwrap();
    let out = upstream(&["report", dir.path().to_str().unwrap(), "-q"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(report(dir.path()), before);
    assert_eq!(
        fs::read(dir.path().join("charts/crisis.svg")).unwrap(),
        svg_before
    );
}

/// `upstream report` on a damaged folder: exit 2, one line naming the file
/// and what is wrong, and the previous report untouched.
fn assert_report_refused(damage: impl Fn(&Path), expect: &[&str]) {
    let dir = copy_of_fixture();
    let before = fs::read(dir.path().join("report.html")).unwrap();
    let charts_before = chart_files(dir.path(), "png").len();
    damage(dir.path());
    let out = upstream(&["report", dir.path().to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr: {stderr}");
    for e in expect {
        assert!(stderr.contains(e), "expected {e:?} in: {stderr}");
    }
    assert_eq!(stderr.trim().lines().count(), 1, "one line: {stderr}");
    assert_eq!(fs::read(dir.path().join("report.html")).unwrap(), before);
    assert_eq!(chart_files(dir.path(), "png").len(), charts_before);
    let partial = fs::read_dir(dir.path())
        .unwrap()
        .chain(fs::read_dir(dir.path().join("charts")).unwrap())
        .filter(|e| {
            let name = e.as_ref().unwrap().file_name();
            name.to_string_lossy().ends_with(".partial")
        })
        .count();
    assert_eq!(partial, 0, "no half-written file");
}

fn edit(dir: &Path, name: &str, f: impl Fn(String) -> String) {
    let path = dir.join(name);
    let text = fs::read_to_string(&path).unwrap();
    fs::write(&path, f(text)).unwrap();
}

#[test]
fn a_missing_file_is_named() {
    assert_report_refused(
        |d| fs::remove_file(d.join("timeseries.csv")).unwrap(),
        &["timeseries.csv", "missing"],
    );
}

#[test]
fn a_corrupt_number_is_named_with_its_line() {
    assert_report_refused(
        |d| {
            edit(d, "differences.csv", |t| {
                let mut lines: Vec<String> = t.lines().map(String::from).collect();
                let cells: Vec<&str> = lines[4].split(',').collect();
                lines[4] = format!("{},{},{},abc,0,0,0", cells[0], cells[1], cells[2]);
                lines.join("\n")
            })
        },
        &["differences.csv", "line 5", "field 4"],
    );
}

#[test]
fn truncated_json_is_named() {
    assert_report_refused(
        |d| edit(d, "economics.json", |t| t[..t.len() / 2].to_string()),
        &["economics.json", "not a valid Upstream output"],
    );
}

#[test]
fn a_scenario_the_summary_does_not_know_is_named() {
    assert_report_refused(
        |d| {
            edit(d, "by_neighbourhood.csv", |t| {
                t.replacen("Small borough,", "Elsewhere,", 1)
            })
        },
        &["by_neighbourhood.csv", "\"Elsewhere\"", "summary.json"],
    );
}

#[test]
fn a_sensitivity_row_of_a_scenario_the_summary_does_not_know_is_named() {
    assert_report_refused(
        |d| {
            fs::write(
                d.join("sensitivity.csv"),
                "scenario,rank,parameter,range_low,range_high,npv_gbp_at_low,npv_gbp_central,npv_gbp_at_high,npv_swing_gbp,crisis_months_avoided_at_low,crisis_months_avoided_central,crisis_months_avoided_at_high\nElsewhere,1,need.utility,0,1,0,0,0,0,0,0,0\n",
            )
            .unwrap()
        },
        &["sensitivity.csv", "line 2", "\"Elsewhere\""],
    );
}

#[test]
fn a_month_missing_from_a_series_is_named() {
    assert_report_refused(
        |d| {
            edit(d, "timeseries.csv", |t| {
                t.lines()
                    .filter(|l| !l.starts_with("Small borough,7,need.crisis,"))
                    .collect::<Vec<_>>()
                    .join("\n")
            })
        },
        &["timeseries.csv", "need.crisis", "month 7"],
    );
}

#[test]
fn a_folder_that_is_not_there_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("nothing-here");
    let out = upstream(&["report", missing.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("nothing-here") && stderr.contains("not an output folder"));
    assert!(!missing.exists());
}

#[test]
fn a_later_run_leaves_no_report_or_chart_from_an_earlier_one() {
    let dir = copy_of_fixture();
    // Two scenarios where there were three: the third's charts go.
    let out = upstream(&[
        "run",
        SCENARIOS[0],
        SCENARIOS[1],
        "-r",
        "2",
        "-q",
        "-o",
        dir.path().to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(dir.path().join("charts/scenario-1-payback.svg").is_file());
    assert!(!dir.path().join("charts/scenario-2-payback.svg").exists());
    assert!(!report(dir.path()).contains("scenario-2"));
    // Without a report, the earlier report and charts would describe other
    // numbers, so they go too.
    run_into(dir.path(), &["--no-report"]);
    assert!(!dir.path().join("report.html").exists());
    assert!(!dir.path().join("charts").exists());
    assert!(dir.path().join("summary.json").is_file());
}

#[test]
fn a_run_of_the_baseline_alone_still_gets_a_report() {
    let tmp = tempfile::tempdir().unwrap();
    let out = upstream(&[
        "run",
        SCENARIOS[0],
        "-r",
        "2",
        "-q",
        "-o",
        tmp.path().to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let page = report(tmp.path());
    assert!(page.contains("There is no scenario to compare with the baseline."));
    // Only the measures over time: no differences, no business case.
    assert!(chart_files(tmp.path(), "svg").iter().all(|p| {
        let name = p.file_name().unwrap().to_string_lossy();
        !name.contains("difference") && !name.starts_with("scenario-")
    }));
    assert!(page.contains("<figure id=\"crisis\">"));
}

#[test]
fn a_run_of_too_few_replicates_gives_means_without_ranges() {
    // Two replicates: a 90% range would be two numbers apart, so the report
    // says so once and gives means alone.
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("out");
    let mut args = vec!["run"];
    args.extend(SCENARIOS);
    args.extend(["-r", "2", "-q", "-o", dir.to_str().unwrap()]);
    let out = upstream(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let page = report(&dir);
    assert!(
        page.contains("This run has 2 replicates: too few for a 90% range"),
        "no note about the replicates"
    );
    // Headlines, tables and chart captions give means alone, and the
    // captions say what the shading then is.
    for part in page.split("<p class=\"headline\">").skip(1) {
        let headline = &part[..part.find("</p>").unwrap()];
        assert!(!headline.contains("90% range"), "{headline}");
    }
    let captions: Vec<&str> = page
        .split("<figcaption>")
        .skip(1)
        .map(|p| &p[..p.find("</figcaption>").unwrap()])
        .collect();
    assert!(captions.len() > 5);
    for c in &captions {
        assert!(!c.contains("90% range") && !c.contains("90% bands"), "{c}");
    }
    assert!(
        captions
            .iter()
            .any(|c| c.contains("too few replicates for a range"))
    );
    assert!(page.contains("<th>Net present value, median</th>"));
    assert!(!page.contains("Net present value, median (90% range)"));
    assert!(page.contains("<th>Line</th><th>£</th>"));
    assert!(page.contains("Its net present value is "));
}

#[test]
fn the_board_summary_tables_quote_the_money_bridge() {
    let dir = fixture();
    check_board_money_table(&report(dir), &json(dir, "economics.json"));
}

/// Each figure in the board's money table is the bridge's (or the
/// appraisal's) as economics.json holds it, in the order of the header.
pub fn check_board_money_table(page: &str, economics: &Value) {
    let table = {
        let start = page
            .find("<caption>Money over the horizon</caption>")
            .expect("the board's money table");
        &page[start..start + page[start..].find("</table>").unwrap()]
    };
    // The signs are read beside the table, in the words every output uses.
    let after = &page[page.find(table).unwrap() + table.len()..];
    let signs = &after[..after.find("<table").unwrap_or(after.len())];
    assert!(
        signs.contains(&upstream::report::words::html(upstream::published::SIGNS)),
        "no sign legend under the board's money table"
    );
    for a in economics["appraisals"].as_array().unwrap() {
        let name = a["scenario"].as_str().unwrap();
        let row = table
            .split("<tr>")
            .find(|r| r.starts_with(&format!("<td>{}</td>", html(name))))
            .unwrap_or_else(|| panic!("no row for {name}"));
        // Each numeric cell's first figure (its mean), before any range.
        let cells: Vec<&str> = row
            .split("<td class=\"n\">")
            .skip(1)
            .map(|c| c.split(['<']).next().unwrap())
            .collect();
        let step = |id: &str| -> f64 {
            a["bridge"]["appraisal"]
                .as_array()
                .unwrap()
                .iter()
                .chain(a["bridge"]["budget"].as_array().unwrap())
                .find(|s| s["id"] == id)
                .unwrap()["amount"]["mean"]
                .as_f64()
                .unwrap()
        };
        let spend = -(step("extra_prevention_spend") + step("extra_capital_spend"));
        let pounds = |v: f64| html(&money(v));
        // The net present value's median leads, the chance it is above
        // zero and its mean beside it.
        let expected = [
            pounds(spend),
            pounds(spend - step("optimism_bias_on_spend")),
            pounds(step("net_revenue_saving")),
            pounds(step("revenue_budget_impact")),
            pounds(a["npv"]["p50"].as_f64().unwrap()),
            upstream::format::percent(a["probability_npv_positive"].as_f64().unwrap()),
            pounds(a["npv"]["mean"].as_f64().unwrap()),
            pounds(a["npv_without_optimism_bias"]["mean"].as_f64().unwrap()),
            pounds(a["npv_cashable"]["mean"].as_f64().unwrap()),
        ];
        assert_eq!(cells.len(), expected.len(), "{name}: {row}");
        for (cell, v) in cells.iter().zip(expected) {
            assert_eq!(*cell, v, "{name}: {row}");
        }
    }
}

#[test]
fn what_a_scenario_changes_is_listed_least_certain_first() {
    // The appendix lists each scenario's changed assumptions with low
    // confidence first, then unstated, medium and high.
    let page = report(fixture());
    let start = page
        .find("(what differs from the baseline, the least certain first)")
        .expect("a scenario's changed assumptions");
    let table = &page[start..start + page[start..].find("</table>").unwrap()];
    let ranks: Vec<u8> = table
        .split("<td class=\"conf-")
        .skip(1)
        .map(|c| match &c[..c.find('"').unwrap()] {
            "low" => 0,
            "" => 1,
            "medium" => 2,
            _ => 3,
        })
        .collect();
    assert!(ranks.len() > 2, "{table}");
    assert!(ranks.windows(2).all(|w| w[0] <= w[1]), "{ranks:?}");
}

/// The report's "reproduce this run" command, followed, gives the same
/// results: it carries every option that changes them, `--uncertainty`
/// among them (issue 37, fault 11).
#[test]
fn following_the_reproduce_command_gives_the_same_results() {
    let tmp = tempfile::tempdir().unwrap();
    let first = tmp.path().join("first");
    crate::common::ok(&[
        "run",
        "tests/fixtures/small.toml",
        "tests/fixtures/small_hubs.toml",
        "-r",
        "3",
        "--years",
        "2",
        "--seed",
        "11",
        "--uncertainty",
        "-q",
        "-o",
        first.to_str().unwrap(),
    ]);
    let page = report(&first);
    let command = page
        .split("Command: <code>")
        .nth(1)
        .and_then(|c| c.split("</code>").next())
        .expect("the report gives its command");
    assert!(command.contains("--uncertainty"), "{command}");
    let again = tmp.path().join("again");
    let mut args: Vec<&str> = command.split_whitespace().skip(1).collect();
    args.extend(["-q", "-o", again.to_str().unwrap()]);
    crate::common::ok(&args);
    for file in [
        "timeseries.csv",
        "summary.json",
        "economics.json",
        "draws.csv",
    ] {
        assert!(
            fs::read(first.join(file)).unwrap() == fs::read(again.join(file)).unwrap(),
            "{file} differs when the report's command is followed: {command}"
        );
    }
}
