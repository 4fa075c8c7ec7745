//! Guard rails: values a scenario may hold but that are rarely meant are
//! warned about, naming the file, line and field and what was likely meant;
//! `--strict` refuses them and writes nothing. The bundled scenarios have
//! none. Errors are in the words of people writing scenarios, and the forms
//! people naturally write (one number for every year, "Medium") are taken.

use std::fs;

use crate::common::{assert_rejected, upstream};

/// A scenario extending the bundled baseline with `text`, in a temporary
/// folder (kept alive by the returned guard).
fn scenario(text: &str) -> (tempfile::TempDir, String) {
    let tmp = tempfile::tempdir().unwrap();
    let root = env!("CARGO_MANIFEST_DIR");
    let body = format!("name = \"Odd\"\nextends = \"{root}/scenarios/baseline.toml\"\n{text}");
    let file = tmp.path().join("odd.toml");
    fs::write(&file, body).unwrap();
    let path = file.to_str().unwrap().to_string();
    (tmp, path)
}

const CASES: &[(&str, &str, &str)] = &[
    (
        "[interventions.early_help]\neffects = [{ on = \"escalation\", multiplier = 60 }]\n",
        "field `interventions.early_help.effects[0].multiplier`",
        "multipliers are not percentages (a 60% reduction is 0.4",
    ),
    (
        "[interventions.early_help]\neffects = [{ on = \"recovery\", multiplier = 0 }]\n",
        "field `interventions.early_help.effects[0].multiplier`",
        "removes the rate entirely",
    ),
    (
        "[interventions.early_help]\neffects = [{ on = \"escalation\", multiplier = 0.7 }, { on = \"recovery\", multiplier = 1000 }]\n",
        "field `interventions.early_help.effects[1].multiplier`",
        "1000 times",
    ),
    (
        "[interventions.early_help]\nannual_budget = [2_000]\n",
        "field `interventions.early_help.annual_budget`",
        "funds 0.48 of a case for a year (£4,200); money is written in pounds",
    ),
    (
        "[interventions.early_help]\ntargeting = { neighbourhoods = \"most_deprived:1\", age_bands = [\"oldest\"], with_children = true, unit = \"resident\" }\n",
        "field `interventions.early_help.targeting`",
        "reaches nobody in the starting population",
    ),
    (
        "[interventions.early_help]\nannual_budget = [2_000_000, 2_000_000, 2_000_000, 2_000_000, 2_000_000, 2_000_000, 2_000_000, 2_000_000, 2_000_000, 2_000_000, 2_000_000]\n",
        "field `interventions.early_help.annual_budget`",
        "gives 11 years but the horizon is 10: years 11 to 11 are never used",
    ),
    (
        "[economics.budgets.childrens_services]\nenvelope = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]\n",
        "field `economics.budgets.childrens_services.envelope`",
        "gives 12 years but the horizon is 10",
    ),
    (
        "[interventions.late]\nname = \"Late\"\nkind = \"caseload\"\npayer = \"nhs\"\nstart_month = 121\nannual_budget = [100_000]\nunit_cost_per_month = 100\nsupport_months = 6\neffects = [{ on = \"escalation\", multiplier = 0.8 }]\n",
        "field `interventions.late.start_month`",
        "after the 120-month horizon ends: it never runs",
    ),
    (
        "[population.trend]\nage_bands = [0, 18]\nyears = [[2026, 1000, 4000], [2027, 600, 4000]]\n",
        "field `population.trend.years[1]`",
        "declares 40.0% fewer children than a year before, but only",
    ),
    (
        // £200m a year of early help, charged in full while most of its
        // places stay empty (issue 37, fault 12).
        "[interventions.early_help]\nannual_budget = [200_000_000]\n",
        "field `interventions.early_help.annual_budget`",
        "more than 2 times the",
    ),
    (
        // A month's or a stay's cost written as one contact's, and pounds
        // as thousands (issue 37, fault 12).
        "[events.ae_attendance]\nunit_cost = 4200\n",
        "field `events.ae_attendance.unit_cost`",
        "£4,200 a contact is 15 times the £273 the bundled borough uses for this service (NHS National Cost Collection",
    ),
    (
        "[episodes.adult_residential_care]\nweekly_cost = 20\n",
        "field `episodes.adult_residential_care.weekly_cost`",
        "£20 a week is 2% of the £897",
    ),
];

#[test]
fn each_implausible_value_is_warned_about_where_it_is_set() {
    for (text, field, phrase) in CASES {
        let (_tmp, path) = scenario(text);
        let out = upstream(&["check", &path]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{text}: {stderr}");
        let line = stderr
            .lines()
            .find(|l| l.contains(field))
            .unwrap_or_else(|| panic!("{text}: no warning about {field} in: {stderr}"));
        assert!(line.starts_with("warning: "), "{line}");
        assert!(line.contains("odd.toml, line "), "{line}");
        assert!(
            line.contains(phrase),
            "{text}: expected {phrase:?} in {line}"
        );
        // Under --strict it is an error, and a run writes nothing.
        let strict = upstream(&["check", "--strict", &path]);
        assert_eq!(strict.status.code(), Some(2), "{text}");
        let tmp = tempfile::tempdir().unwrap();
        let out_dir = tmp.path().join("out");
        let run = upstream(&[
            "run",
            &path,
            "--strict",
            "-r",
            "1",
            "-o",
            out_dir.to_str().unwrap(),
        ]);
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert_eq!(run.status.code(), Some(2), "{stderr}");
        assert!(
            stderr.contains("--strict, which makes them errors"),
            "{stderr}"
        );
        assert!(
            !out_dir.exists(),
            "a refused run wrote {}",
            out_dir.display()
        );
    }
}

#[test]
fn the_bundled_scenarios_have_no_warnings() {
    let root = env!("CARGO_MANIFEST_DIR");
    let files: Vec<String> = upstream::scenario::BUNDLED
        .iter()
        .map(|f| format!("{root}/scenarios/{f}"))
        .collect();
    let mut args = vec!["check", "--strict"];
    args.extend(files.iter().map(|s| s.as_str()));
    let out = upstream(&args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_run_lists_its_warnings_in_the_summary_and_the_report() {
    let (tmp, path) = scenario(CASES[0].0);
    let out_dir = tmp.path().join("out");
    let root = env!("CARGO_MANIFEST_DIR");
    let run = upstream(&[
        "run",
        &format!("{root}/scenarios/baseline.toml"),
        &path,
        "-r",
        "2",
        "--years",
        "1",
        "-o",
        out_dir.to_str().unwrap(),
    ]);
    assert_eq!(
        run.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let summary: upstream::published::SummaryFile =
        serde_json::from_slice(&fs::read(out_dir.join("summary.json")).unwrap()).unwrap();
    assert!(summary.scenarios[0].warnings.is_empty());
    let w = &summary.scenarios[1].warnings;
    assert_eq!(w.len(), 1, "{w:?}");
    assert_eq!(
        w[0].field.as_deref(),
        Some("interventions.early_help.effects[0].multiplier")
    );
    assert!(w[0].message.contains("not percentages"));
    let report = fs::read_to_string(out_dir.join("report.html")).unwrap();
    assert!(report.contains("Warnings about the inputs"));
    assert!(report.contains("not percentages"));
    // Above the headlines, each figure that rests on them marked, and on
    // the workbook's Cover (issue 37, fault 12).
    let warned = report.find("id=\"warnings\"").unwrap();
    let first = report.find("class=\"headline\"").unwrap();
    assert!(
        warned < first,
        "the warnings come before the first headline"
    );
    let headline = &report[first..first + report[first..].find("</p>").unwrap()];
    assert!(
        headline.contains("rests on inputs warned about above"),
        "{headline}"
    );
    use calamine::Reader as _;
    let mut book: calamine::Xlsx<_> =
        calamine::open_workbook(out_dir.join("upstream.xlsx")).unwrap();
    let cover = book.worksheet_range("Cover").unwrap();
    let rows: Vec<String> = cover
        .rows()
        .map(|r| {
            r.iter()
                .map(|c| c.to_string())
                .collect::<Vec<_>>()
                .join(" | ")
        })
        .collect();
    let at = rows
        .iter()
        .position(|r| {
            r.starts_with("Warning: check before reading") && r.contains("not percentages")
        })
        .unwrap_or_else(|| panic!("{rows:#?}"));
    assert!(at <= 2, "near the top of the Cover: {rows:#?}");
    assert!(
        rows[at].contains("interventions.early_help.effects[0].multiplier"),
        "{}",
        rows[at]
    );
}

#[test]
fn errors_are_in_users_words() {
    let head = "extends = \"BASELINE\"\nname = \"E\"\n[interventions.early_help]\n";
    for (text, expect) in [
        (
            "anual_budget = [2_000_000]",
            "unknown field `anual_budget`: did you mean `annual_budget`?",
        ),
        (
            "annual_budget = [2,000,000]",
            "numbers cannot contain commas: write 2_000_000",
        ),
        (
            "kind = \"casload\"",
            "`casload` is not one of `caseload`, `assets`, `places`: did you mean `caseload`?",
        ),
        (
            "annual_budget = [\"2m\"]",
            "write money as pounds, one number a year",
        ),
        (
            "targeting = { risk_top_percent = 2 }",
            "`risk_top_percent` is not a field any more: it is now `risk_top_share`, a share from 0 to 1",
        ),
        (
            "targeting = { risk_top_share = 2 }",
            "expected a share above 0 and up to 1, found 2 (for 2% write 0.02)",
        ),
    ] {
        assert_rejected(&format!("{head}{text}\n"), &["bad.toml, line 4", expect]);
    }
    assert_rejected(
        "extends = \"BASELINE\"\nname = \"E\"\n[population]\nresidents = 200,000\n",
        &["bad.toml, line 4", "numbers cannot contain commas"],
    );
    assert_rejected(
        "extends = \"BASELINE\"\nname = \"E\"\n[population]\nbirth_share = 0.6\n",
        &["`birth_share` is not a field any more", "remove it"],
    );
}

#[test]
fn one_number_means_every_year_and_grades_take_any_case() {
    let load = |text: &str| {
        let (_tmp, path) = scenario(text);
        upstream::scenario::load(std::path::Path::new(&path)).unwrap_or_else(|e| panic!("{e}"))
    };
    let list = load("[interventions.early_help]\nannual_budget = [1_500_000]\n");
    let one = load("[interventions.early_help]\nannual_budget = 1_500_000\n");
    let graded = load(
        "[interventions.early_help]\nannual_budget = { value = 1_500_000, confidence = \"Medium\" }\n",
    );
    assert_eq!(
        format!("{:?}", list.config.interventions),
        format!("{:?}", one.config.interventions)
    );
    assert_eq!(
        format!("{:?}", list.config.interventions),
        format!("{:?}", graded.config.interventions)
    );
    let grade = |l: &upstream::scenario::Loaded| {
        l.assumptions
            .iter()
            .find(|a| a.parameter == "interventions.early_help.annual_budget")
            .and_then(|a| a.confidence.clone())
    };
    assert_eq!(grade(&graded).as_deref(), Some("Medium"));
}

#[test]
fn the_edges_of_each_guard_rail_are_where_it_says() {
    // Inside each rail (at its edge) nothing is said; just outside, a warning.
    let warned = |text: &str| -> Vec<String> {
        let (_tmp, path) = scenario(text);
        let loaded = upstream::app::load(std::path::Path::new(&path), &Default::default())
            .unwrap_or_else(|e| panic!("{e}"));
        loaded.warnings.iter().map(|w| w.to_string()).collect()
    };
    let effect = |m: &str| {
        format!(
            "[interventions.early_help]\neffects = [{{ on = \"escalation\", multiplier = {m} }}]\n"
        )
    };
    for quiet in [
        effect("0.2"),
        effect("5"),
        // £350 a case-month: £4,200 funds exactly one case for a year; a
        // year of nothing is a choice, not a slip.
        "[interventions.early_help]\nannual_budget = [0, 4_200]\n".to_string(),
        format!("[interventions.early_help]\nannual_budget = [{}]\n", ["2_000_000"; 10].join(", ")),
        "[interventions.late]\nname = \"Late\"\nkind = \"caseload\"\npayer = \"nhs\"\nstart_month = 120\nannual_budget = [100_000]\nunit_cost_per_month = 100\nsupport_months = 6\neffects = [{ on = \"escalation\", multiplier = 0.8 }]\n".to_string(),
    ] {
        let w = warned(&quiet);
        assert!(w.is_empty(), "{quiet}: {w:?}");
    }
    // A unit cost up to ten times either side of the national £273 an A&E
    // attendance costs is quiet (and so is a free service: a choice, not a
    // slip); beyond, it is warned about.
    let attendance = |cost: &str| format!("[events.ae_attendance]\nunit_cost = {cost}\n");
    for quiet in [attendance("27.3"), attendance("2730"), attendance("0")] {
        let w = warned(&quiet);
        assert!(w.is_empty(), "{quiet}: {w:?}");
    }
    for loud in [
        effect("0.19"),
        effect("5.01"),
        "[interventions.early_help]\nannual_budget = [4_199]\n".to_string(),
        attendance("27.29"),
        attendance("2730.01"),
    ] {
        assert_eq!(warned(&loud).len(), 1, "{loud}");
    }
}

/// What a run of one scenario said: its warnings as summary.json holds
/// them, standard error, and the mean of `intervention.early_help.caseload`
/// in each month from timeseries.csv.
struct Said {
    warnings: Vec<upstream::published::Warning>,
    stderr: String,
    caseload: Vec<f64>,
}

/// Runs `text` (extending the bundled baseline) alone for three years.
fn run_warnings(text: &str) -> Said {
    let (tmp, path) = scenario(text);
    let out_dir = tmp.path().join("out");
    let run = upstream(&[
        "run",
        &path,
        "-r",
        "2",
        "--years",
        "3",
        "--no-report",
        "-o",
        out_dir.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&run.stderr).into_owned();
    assert_eq!(run.status.code(), Some(0), "{stderr}");
    let summary: upstream::published::SummaryFile =
        serde_json::from_slice(&fs::read(out_dir.join("summary.json")).unwrap()).unwrap();
    let series = fs::read_to_string(out_dir.join("timeseries.csv")).unwrap();
    // scenario,month,metric,mean,…; no scenario or metric name here holds a comma.
    let caseload = series
        .lines()
        .map(|l| l.split(',').collect::<Vec<_>>())
        .filter(|c| c[2] == "intervention.early_help.caseload")
        .map(|c| c[3].parse().unwrap())
        .collect();
    Said {
        warnings: summary.scenarios[0].warnings.clone(),
        stderr,
        caseload,
    }
}

/// Early help's places in its first year, as the scenario `text` funds them.
fn early_help_places(text: &str) -> f64 {
    let (_tmp, path) = scenario(text);
    let loaded = upstream::app::load(std::path::Path::new(&path), &Default::default()).unwrap();
    let iv = loaded
        .config
        .interventions
        .iter()
        .find(|i| i.id == "early_help")
        .unwrap();
    match &iv.delivery {
        upstream::model::Delivery::Caseload { places_by_year, .. } => places_by_year[0] as f64,
        _ => panic!("early help is a caseload programme"),
    }
}

#[test]
fn a_run_warns_about_what_only_its_results_show() {
    // Issue 37, faults 9 and 12: each guard rail that needs the run's
    // results, in summary.json and on the terminal, on the field that
    // caused it, with figures the run's own files give; the bundled
    // baseline itself raises none of them.
    let dropout = "[interventions.early_help]\ndropout_per_month = 0.5\n";
    let stop = "[interventions.early_help]\nannual_budget = [2_000_000, 0]\n";
    // Half its cases leave each month, so its cases never fill its places:
    // the empty share is what timeseries.csv's caseload leaves of them.
    let said = run_warnings(dropout);
    let places = early_help_places(dropout);
    let year_one: f64 = said.caseload[..12].iter().sum();
    assert!(said.caseload[..12].iter().all(|c| *c <= places));
    let empty = format!(
        "leaves {:.0}% of its funded places empty in year 1",
        100.0 * (1.0 - year_one / (12.0 * places))
    );
    // The money stops after a year: every case held after it is unfunded.
    let stopped = run_warnings(stop);
    let after: f64 = stopped.caseload[12..].iter().sum();
    assert!(after > 0.0 && stopped.caseload[..12].iter().all(|c| *c <= places));
    let unfunded = format!(
        "holds more cases than its money pays for: {} months of support (mean across \
         replicates, most in year 2)",
        upstream::format::count(after)
    );
    for (text, said, field, phrase) in [
        (
            // An envelope half of what the place spends.
            "[economics.budgets.childrens_services]\nenvelope = { per_1000_residents = [60_000] }\n",
            run_warnings(
                "[economics.budgets.childrens_services]\nenvelope = { per_1000_residents = [60_000] }\n",
            ),
            "economics.budgets.childrens_services.envelope",
            "over this envelope of £12,000,000, before any policy".to_string(),
        ),
        (dropout, said, "interventions.early_help", empty),
        (stop, stopped, "interventions.early_help", unfunded),
    ] {
        let warnings = &said.warnings;
        assert_eq!(warnings.len(), 1, "{text}: {warnings:?}");
        assert_eq!(warnings[0].field.as_deref(), Some(field), "{text}");
        assert!(
            warnings[0].message.contains(&phrase),
            "{text}: expected {phrase:?} in {}",
            warnings[0].message
        );
        assert!(
            said.stderr.contains(&format!("field `{field}`: ")) && said.stderr.contains(&phrase),
            "{text}: not on the terminal: {}",
            said.stderr
        );
    }
    let quiet = run_warnings("");
    assert!(
        quiet.warnings.is_empty(),
        "the bundled baseline: {:?}",
        quiet.warnings
    );
    assert!(!quiet.stderr.contains("warning"), "{}", quiet.stderr);
}
