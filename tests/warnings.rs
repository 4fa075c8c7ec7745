//! Guard rails: values a scenario may hold but that are rarely meant are
//! warned about, naming the file, line and field and what was likely meant;
//! `--strict` refuses them and writes nothing. The bundled scenarios have
//! none.

use std::fs;

use crate::common::upstream;

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
}
