//! What a run publishes: the names of the files in an output folder, and
//! the schema of its JSON files, `summary.json` and `economics.json`. One
//! set of types, written by the `output` layer and read back by the report,
//! so a field renamed on one side fails to compile rather than failing in
//! `upstream report`.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::aggregate::Headline;
use crate::economics::appraisal::Appraisal;
use crate::economics::information::ValueOfInformation;
use crate::economics::{Conventions, Economics};
use crate::metrics::Band;
use crate::model::{Payer, Unit};

/// The files a run writes besides the report's, in the order the `output`
/// layer's `render` gives them; the workbook last.
pub const DATA_FILES: [&str; 10] = [
    TIMESERIES_FILE,
    DIFFERENCES_FILE,
    BY_NEIGHBOURHOOD_FILE,
    ASSUMPTIONS_FILE,
    SUMMARY_FILE,
    ECONOMICS_FILE,
    BUDGET_FILE,
    DRAWS_FILE,
    PRESENT_FILE,
    WORKBOOK_FILE,
];

/// Each neighbourhood's resident-months and crisis-months, by scenario.
pub const BY_NEIGHBOURHOOD_FILE: &str = "by_neighbourhood.csv";
/// Every assumption with its source, confidence and range.
pub const ASSUMPTIONS_FILE: &str = "assumptions.csv";
/// The run's settings, scenarios and headline figures ([`SummaryFile`]).
pub const SUMMARY_FILE: &str = "summary.json";
/// The appraisals and budgets ([`EconomicsFile`]).
pub const ECONOMICS_FILE: &str = "economics.json";
/// Each payer's budget by financial year.
pub const BUDGET_FILE: &str = "budget.csv";
/// Each replicate's draws of the uncertain parameters.
pub const DRAWS_FILE: &str = "draws.csv";
/// How each replicate's draw was held at the stated present: the stated
/// baseline's first year, and the factor each service's rates were scaled
/// by.
pub const PRESENT_FILE: &str = "present.csv";
/// The workbook.
pub const WORKBOOK_FILE: &str = "upstream.xlsx";

/// The split of a scenario's net present value variance between the
/// uncertain parameters and chance, in one sentence: the same words in the
/// terminal, the files and the report.
pub fn variance_split(v: &crate::economics::appraisal::VarianceSplit) -> String {
    let pct = |x: f64| (x * 100.0).round();
    format!(
        "Of its net present value's variance across replicates, {}% comes from the uncertain parameters and {}% from chance (standard deviation {}).",
        pct(v.parameters),
        pct(v.chance),
        crate::format::money(v.sd)
    )
}

/// Replicates below which a value of information is rough.
pub const FIRM_INFORMATION: u32 = 200;

/// What knowing the parameters would be worth, in a sentence or two: the
/// same words in the terminal, the report and the workbook.
pub fn value_of_information(v: &ValueOfInformation) -> String {
    let best = if v.best.is_empty() {
        String::new()
    } else {
        format!(" (the best choice on what is known now: {})", v.best)
    };
    let mut out = if v.evpi_gbp > 0.0 {
        format!(
            "Value of information: knowing every uncertain parameter exactly would be worth up to {} to this decision{best}, over the place's residents and the horizon (EVPI).",
            crate::format::money(v.evpi_gbp)
        )
    } else {
        format!(
            "Value of information: no draw of the uncertain parameters changes which option is best{best}, so knowing them exactly is worth nothing to this decision (EVPI £0)."
        )
    };
    let top: Vec<String> = v
        .parameters
        .iter()
        .filter(|p| p.evppi_gbp > 0.0)
        .take(3)
        .map(|p| format!("{}, {}", p.parameter, crate::format::money(p.evppi_gbp)))
        .collect();
    if !top.is_empty() {
        out.push_str(&format!(
            " Most worth finding out before scaling, by a pilot or a study that costs less (EVPPI, each known alone): {}.",
            top.join("; ")
        ));
    }
    let groups: Vec<String> = v
        .groups
        .iter()
        .filter(|g| g.evppi_gbp > 0.0)
        .take(3)
        .map(|g| {
            format!(
                "{} ({} parameters), {}",
                g.group,
                g.parameters.len(),
                crate::format::money(g.evppi_gbp)
            )
        })
        .collect();
    if !groups.is_empty() {
        out.push_str(&format!(
            " Known together, as one study or pilot would measure them (EVPPI of each group): {}.",
            groups.join("; ")
        ));
    }
    if v.replicates < FIRM_INFORMATION {
        out.push_str(&format!(
            " From {} replicates these are rough: {FIRM_INFORMATION} or more give firmer figures.",
            v.replicates
        ));
    }
    out
}

/// What a run's bands cover, in one sentence: the same words in the
/// terminal, the files and the report.
pub fn bands_cover(parameters_drawn: usize) -> String {
    if parameters_drawn == 0 {
        "Bands cover chance alone (the luck in residents' lives): every parameter is held at its value.".into()
    } else {
        format!(
            "Bands cover chance and {parameters_drawn} uncertain parameters together: each replicate draws its own value of each (draws.csv), the same in every scenario, so comparisons stay paired. The present is held and the future drawn: each draw's service rates are scaled so that the baseline's first year has the stated baseline's activity (present.csv), and the draws move what happens from there."
        )
    }
}

/// What a run simulated at a fraction of the place's size means for its
/// figures, in one sentence: the same words in the terminal, the files and
/// the report. `stands_for` residents a simulated resident; `rounded` the
/// largest share an amount in whole places moved in scaling.
pub fn scaled(stands_for: u32, rounded: f64) -> String {
    let k = stands_for as f64;
    format!(
        "Each simulated resident stands for {stands_for} of the place's residents (--scale {stands_for}): the place was simulated at 1/{stands_for} of its size and every count and pound multiplied by {stands_for}, so each replicate's chance is about {:.1} times as wide as in a run of every resident, and amounts in whole places (capacities, funded places, caseloads) moved by at most {:.1}% in rounding.",
        k.sqrt(),
        rounded * 100.0,
    )
}

/// What makes a spreadsheet read a CSV cell as a formula when it starts
/// one: OWASP's list for CSV injection.
const FORMULA_START: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// A text cell as the CSV files write it: a scenario's `=HYPERLINK(…)` must
/// not be run by the spreadsheet that opens the file, so text starting with
/// a formula character gets a `'` in front (OWASP's rule). So does text
/// starting with `'` itself, so that reading is exact: [`from_csv_text`]
/// drops one leading `'`. Numbers are never written through this: `-4.5`
/// stays a number.
pub fn csv_text(text: &str) -> Cow<'_, str> {
    match text.chars().next() {
        Some(c) if FORMULA_START.contains(&c) || c == '\'' => Cow::Owned(format!("'{text}")),
        _ => Cow::Borrowed(text),
    }
}

/// A text cell of the CSV files as it was before [`csv_text`] wrote it.
pub fn from_csv_text(cell: &str) -> &str {
    cell.strip_prefix('\'').unwrap_or(cell)
}

/// Reads a text cell of the CSV files (see [`csv_text`]), for serde's
/// `deserialize_with`.
pub fn de_csv_text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    String::deserialize(d).map(|cell| from_csv_text(&cell).to_string())
}

/// Why figures of `replicates` replicates come without bands, if they do:
/// the same sentence wherever a band is left out.
pub fn no_bands(replicates: u32) -> Option<String> {
    (replicates < crate::aggregate::MIN_REPLICATES_FOR_RANGES).then(|| {
        format!(
            "No bands: {replicates} replicate{} are too few for a 90% range (at least {} are needed), so figures are means, beside the net present value's median.",
            if replicates == 1 { "" } else { "s" },
            crate::aggregate::MIN_REPLICATES_FOR_RANGES
        )
    })
}

/// Each scenario's monthly bands of every metric.
pub const TIMESERIES_FILE: &str = "timeseries.csv";

/// Each scenario's monthly bands of its difference from the baseline.
pub const DIFFERENCES_FILE: &str = "differences.csv";

/// A row of [`TIMESERIES_FILE`] or [`DIFFERENCES_FILE`]: one scenario's
/// band of one metric in one month. Its writer takes the header from
/// [`MonthRecord::COLUMNS`] and its readers (the report, `upstream
/// review`) read the rows as this type, which refuses a column it does not
/// know: one declaration of the file.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MonthRecord {
    /// The scenario's name.
    #[serde(deserialize_with = "de_csv_text")]
    pub scenario: String,
    /// The month of the horizon, from 1.
    pub month: u32,
    /// The metric's name.
    #[serde(deserialize_with = "de_csv_text")]
    pub metric: String,
    /// The mean across replicates.
    pub mean: f64,
    /// The 5th percentile.
    pub p5: f64,
    /// The median.
    pub p50: f64,
    /// The 95th percentile.
    pub p95: f64,
}

impl MonthRecord {
    /// The header, in the order of the fields.
    pub const COLUMNS: [&str; 7] = ["scenario", "month", "metric", "mean", "p5", "p50", "p95"];
}

/// The file `upstream sensitivity` writes in its output folder.
pub const SENSITIVITY_FILE: &str = "sensitivity.csv";

/// A row of [`SENSITIVITY_FILE`]: one parameter at each end of its range,
/// in one scenario. Its writer takes the header from
/// [`SensitivityRecord::COLUMNS`] and the report reads the rows as this
/// type, which refuses a column it does not know.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SensitivityRecord {
    /// The scenario (after the baseline).
    #[serde(deserialize_with = "de_csv_text")]
    pub scenario: String,
    /// Its rank in the scenario, the largest swing first.
    pub rank: u32,
    /// The parameter, by its TOML path.
    #[serde(deserialize_with = "de_csv_text")]
    pub parameter: String,
    /// The low end of its range, as written.
    #[serde(deserialize_with = "de_csv_text")]
    pub range_low: String,
    /// The high end, as written.
    #[serde(deserialize_with = "de_csv_text")]
    pub range_high: String,
    /// Net present value with the parameter at its low end.
    pub npv_gbp_at_low: f64,
    /// With every parameter at its value.
    pub npv_gbp_central: f64,
    /// At its high end.
    pub npv_gbp_at_high: f64,
    /// The larger of the two departures from the central value.
    pub npv_swing_gbp: f64,
    /// Crisis-months avoided at the low end.
    pub crisis_months_avoided_at_low: f64,
    /// With every parameter at its value.
    pub crisis_months_avoided_central: f64,
    /// At the high end.
    pub crisis_months_avoided_at_high: f64,
}

impl SensitivityRecord {
    /// The header, in the order of the fields.
    pub const COLUMNS: [&str; 12] = [
        "scenario",
        "rank",
        "parameter",
        "range_low",
        "range_high",
        "npv_gbp_at_low",
        "npv_gbp_central",
        "npv_gbp_at_high",
        "npv_swing_gbp",
        "crisis_months_avoided_at_low",
        "crisis_months_avoided_central",
        "crisis_months_avoided_at_high",
    ];
}

/// A row of [`MORRIS_FILE`]: one parameter's elementary effects per whole
/// range, in one scenario; declared once, as [`SensitivityRecord`] is.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MorrisRecord {
    /// The scenario (after the baseline).
    #[serde(deserialize_with = "de_csv_text")]
    pub scenario: String,
    /// Its rank in the scenario, the largest μ* first.
    pub rank: u32,
    /// The parameter, by its TOML path.
    #[serde(deserialize_with = "de_csv_text")]
    pub parameter: String,
    /// The low end of its range, as written.
    #[serde(deserialize_with = "de_csv_text")]
    pub range_low: String,
    /// The high end, as written.
    #[serde(deserialize_with = "de_csv_text")]
    pub range_high: String,
    /// Trajectories screened.
    pub trajectories: u32,
    /// μ*: the mean size of its elementary effect on net present value.
    pub npv_gbp_mu_star: f64,
    /// μ: the mean signed effect.
    pub npv_gbp_mu: f64,
    /// σ: the effect's spread.
    pub npv_gbp_sigma: f64,
    /// μ* on crisis-months avoided.
    pub crisis_months_avoided_mu_star: f64,
    /// μ on crisis-months avoided.
    pub crisis_months_avoided_mu: f64,
    /// σ on crisis-months avoided.
    pub crisis_months_avoided_sigma: f64,
}

impl MorrisRecord {
    /// The header, in the order of the fields.
    pub const COLUMNS: [&str; 12] = [
        "scenario",
        "rank",
        "parameter",
        "range_low",
        "range_high",
        "trajectories",
        "npv_gbp_mu_star",
        "npv_gbp_mu",
        "npv_gbp_sigma",
        "crisis_months_avoided_mu_star",
        "crisis_months_avoided_mu",
        "crisis_months_avoided_sigma",
    ];
}

/// The Morris screen `upstream sensitivity --morris` writes beside it.
pub const MORRIS_FILE: &str = "morris.csv";

/// The file `upstream break-even` writes in its output folder.
pub const BREAK_EVEN_FILE: &str = "break_even.csv";

/// A run over many places' figures: each place's, each region's and all
/// places', each scenario's, with bands.
pub const PLACES_FILE: &str = "places.csv";
/// The file `upstream sweep` writes in its output folder.
pub const SWEEP_FILE: &str = "sweep.csv";

/// `upstream calibrate`'s files: each fitted parameter's prior and
/// posterior; every candidate and its distance; each observed count beside
/// the simulation's; and the calibrated scenario.
pub const CALIBRATION_FILE: &str = "calibration.csv";
/// See [`CALIBRATION_FILE`].
pub const CANDIDATES_FILE: &str = "candidates.csv";
/// See [`CALIBRATION_FILE`].
pub const FIT_FILE: &str = "fit.csv";
/// See [`CALIBRATION_FILE`].
pub const CALIBRATED_FILE: &str = "calibrated.toml";

/// `upstream review`'s files: each observed count beside the projection's
/// band, and each assumption at the end of its range that closes most of
/// the gap.
pub const REVIEW_FILE: &str = "review.csv";
/// See [`REVIEW_FILE`].
pub const LEVERS_FILE: &str = "levers.csv";

/// `upstream optimise`'s files: every split run, with its figures; and
/// the best split at each share of the budget.
pub const SPLITS_FILE: &str = "splits.csv";
/// See [`SPLITS_FILE`].
pub const FRONTIER_FILE: &str = "frontier.csv";

/// The folder, inside a sweep's output folder, that keeps each point's
/// results (`<id>.json`), so an interrupted sweep resumes.
pub const SWEEP_RUNS_DIR: &str = "runs";

/// The report page's file name in the output folder.
pub const REPORT_FILE: &str = "report.html";
/// The folder, inside the output folder, that holds the chart images.
pub const CHARTS_DIR: &str = "charts";

/// `summary.json`: what was run, and each scenario's horizon totals.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SummaryFile {
    /// How the run was made.
    pub settings: Settings,
    /// What the horizon totals mean.
    pub notes: Vec<String>,
    /// Each scenario, the baseline first.
    pub scenarios: Vec<ScenarioSummary>,
}

/// How a run was made, enough to reproduce it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    /// The version of Upstream that made the run.
    pub upstream_version: String,
    /// The master seed.
    pub seed: u64,
    /// Stochastic replicates per scenario.
    pub replicates: u32,
    /// Months in the horizon (shared by every scenario).
    pub months: u32,
    /// Months simulated before the horizon and not recorded.
    pub burn_in_months: u32,
    /// The horizon's first month, as `2026-04`.
    pub start: String,
    /// Residents in the baseline (every scenario has as many).
    pub residents: u32,
    /// Resident-months simulated in all, burn-in included: a burn-in
    /// several scenarios share counted once.
    pub resident_months_simulated: u64,
    /// Burn-in resident-months that scenarios sharing a burn-in did not
    /// simulate again: with `resident_months_simulated`, the work the
    /// replicates stand for.
    #[serde(default)]
    pub burn_in_resident_months_shared: u64,
    /// Scenario names, the baseline first.
    pub scenarios: Vec<String>,
    /// The baseline's reactive services: event services, then episode
    /// services.
    pub services: Vec<ServiceRef>,
    /// Uncertain parameters each replicate drew its own value of, across
    /// the scenarios (a parameter several share counts once); 0, and not
    /// written, when every parameter was held at its value.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub parameters_drawn: usize,
    /// How the place was scaled, if each simulated resident stood for
    /// several of its residents; not written for a run of every resident.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scaled: Option<ScaledRun>,
}

/// A run of the place at a fraction of its size.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScaledRun {
    /// Residents each simulated resident stood for.
    pub stands_for: u32,
    /// The largest share by which an amount in whole places (a capacity,
    /// funded places, a caseload) moved in rounding.
    pub rounded_share: f64,
}

impl ScaledRun {
    /// What it means for the run's figures, in one sentence.
    pub fn sentence(&self) -> String {
        scaled(self.stands_for, self.rounded_share)
    }
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// A reactive service, so readers of the outputs can name its metrics.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ServiceRef {
    /// The service's id, as its metrics name it (`service.{id}.…`).
    pub id: String,
    /// The service's name for people.
    pub name: String,
    /// Event or episode service.
    pub kind: ServiceKind,
    /// Who pays for it.
    pub payer: Payer,
    /// Whom an episode service counts as one case.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<Unit>,
}

impl ServiceRef {
    /// The measure its charts show over time, their title and their
    /// axis, named once for the report and the workbench: an episode
    /// service's places held ("Temporary accommodation: households placed
    /// at the end of each month"), an event service's events.
    pub fn charted(&self) -> (crate::metrics::Metric, String, String) {
        use crate::metrics::{Metric, ServiceMeasure};
        if self.kind == ServiceKind::Episode {
            let who = if self.unit == Some(Unit::Household) {
                "households"
            } else {
                "residents"
            };
            (
                Metric::service(&self.id, ServiceMeasure::Occupancy),
                format!("{}: {who} placed at the end of each month", self.name),
                format!("{who} placed"),
            )
        } else {
            (
                Metric::service(&self.id, ServiceMeasure::Events),
                format!("{}: events each month", self.name),
                "events a month".to_string(),
            )
        }
    }
}

/// Whether a service counts contacts or holds residents in places.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ServiceKind {
    /// Counts contacts, each at a unit cost.
    Event,
    /// Holds residents or households in places for a stay, at a monthly cost.
    Episode,
}

/// One scenario of a run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScenarioSummary {
    /// The scenario's name.
    pub name: String,
    /// The scenario's description, if its file gives one.
    pub description: Option<String>,
    /// The scenario's file, then each file it extends.
    pub files: Vec<FileRef>,
    /// Against the baseline, paired by replicate (not for the baseline).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub against_baseline: Option<Headline>,
    /// Every metric's horizon figure, by the metric's name.
    pub totals: BTreeMap<String, Band>,
    /// Values the scenario holds that are rarely meant, where they are set.
    #[serde(default)]
    pub warnings: Vec<Warning>,
}

/// A value a scenario holds that is rarely meant (an error under
/// `--strict`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Warning {
    /// The file that sets it.
    pub file: String,
    /// Its line in that file, when it can be found.
    pub line: Option<usize>,
    /// Dotted path of the field.
    pub field: Option<String>,
    /// What it does as written, and what was likely meant.
    pub message: String,
}

/// A file read for a scenario, and its SHA-256.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FileRef {
    /// The file's path, as it was read.
    pub path: String,
    /// The SHA-256 of its bytes, in lower-case hex.
    pub sha256: String,
}

/// How to read the sign of a sum of money, in the same words in every
/// output: the terminal, the report, the workbook and the JSON files.
pub const SIGNS: &str = "Signs: spending and cost are shown as amounts; every change of money \
     (a saving, a net revenue saving, a revenue budget impact, a net present value, headroom \
     within an envelope, a saving beyond a target) is positive when the scenario saves money or \
     leaves money to spare, and negative when it costs more or falls short. A difference from \
     the baseline (differences.csv and its charts) is the scenario less the baseline for every \
     measure, counts included, so less cost is negative there.";

/// `economics.json`: each scenario's appraisal against the baseline, with
/// the conventions they share. Written from a run's [`Economics`] without
/// copying it, and read back as an owned value.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EconomicsFile<'a> {
    /// The version of Upstream that wrote the file.
    pub upstream_version: String,
    /// What the figures mean.
    pub notes: Vec<String>,
    /// The money conventions every scenario shares.
    pub conventions: Cow<'a, Conventions>,
    /// Scenarios 1.. against the baseline, in run order.
    pub appraisals: Cow<'a, [Appraisal]>,
    /// What knowing the uncertain parameters would be worth to the
    /// decision (a run that draws them only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value_of_information: Option<Cow<'a, ValueOfInformation>>,
}

impl<'a> EconomicsFile<'a> {
    /// The file for a run's economics, borrowing them.
    pub fn of(economics: &'a Economics, notes: Vec<String>) -> EconomicsFile<'a> {
        EconomicsFile {
            upstream_version: env!("CARGO_PKG_VERSION").into(),
            notes,
            conventions: Cow::Borrowed(&economics.conventions),
            appraisals: Cow::Borrowed(&economics.appraisals),
            value_of_information: economics.value_of_information.as_ref().map(Cow::Borrowed),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_service_is_charted_by_what_it_holds_or_counts() {
        let service = |id: &str, kind, unit| ServiceRef {
            id: id.into(),
            name: "Its name".into(),
            kind,
            payer: Payer::Housing,
            unit,
        };
        let (metric, title, axis) = service(
            "temporary_accommodation",
            ServiceKind::Episode,
            Some(Unit::Household),
        )
        .charted();
        assert_eq!(metric.name(), "service.temporary_accommodation.occupancy");
        assert_eq!(
            title,
            "Its name: households placed at the end of each month"
        );
        assert_eq!(axis, "households placed");
        let (_, title, axis) = service("care", ServiceKind::Episode, None).charted();
        assert_eq!(title, "Its name: residents placed at the end of each month");
        assert_eq!(axis, "residents placed");
        let (metric, title, axis) = service("ae", ServiceKind::Event, None).charted();
        assert_eq!(metric.name(), "service.ae.events");
        assert_eq!(title, "Its name: events each month");
        assert_eq!(axis, "events a month");
    }

    use super::*;

    /// The header the writer uses is the one the reader reads: every field,
    /// nothing else.
    #[test]
    fn a_month_record_reads_exactly_the_written_header() {
        let text = format!(
            "{}\n'=x,3,need.crisis,1.5,1,1.5,2\n",
            MonthRecord::COLUMNS.join(",")
        );
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let rows: Vec<MonthRecord> = reader.deserialize().collect::<Result<_, _>>().unwrap();
        assert_eq!(rows[0].scenario, "=x");
        assert_eq!((rows[0].month, rows[0].p95), (3, 2.0));
        let extra = format!(
            "{},extra\nx,3,need.crisis,1.5,1,1.5,2,0\n",
            MonthRecord::COLUMNS.join(",")
        );
        let mut reader = csv::Reader::from_reader(extra.as_bytes());
        assert!(reader.deserialize::<MonthRecord>().next().unwrap().is_err());
        let short = MonthRecord::COLUMNS[..6].join(",") + "\nx,3,need.crisis,1.5,1,1.5\n";
        let mut reader = csv::Reader::from_reader(short.as_bytes());
        assert!(reader.deserialize::<MonthRecord>().next().unwrap().is_err());
    }

    /// The experiments' records too: the written header reads, a column
    /// more or less does not.
    #[test]
    fn a_sensitivity_or_morris_record_reads_exactly_the_written_header() {
        fn check<T: serde::de::DeserializeOwned>(columns: &[&str], row: &str) -> T {
            let read = |header: &str, row: &str| {
                let text = format!("{header}\n{row}\n");
                let mut reader = csv::Reader::from_reader(text.as_bytes());
                reader.deserialize::<T>().next().unwrap()
            };
            let extra = read(&format!("{},extra", columns.join(",")), &format!("{row},0"));
            assert!(extra.is_err());
            let cut = row.rsplit_once(',').unwrap().0;
            assert!(read(&columns[..columns.len() - 1].join(","), cut).is_err());
            read(&columns.join(","), row).unwrap()
        }
        let row = "'=x,1,interventions.hubs.effect,0.5,0.9,-1,2,3.5,4,5,6,7";
        let s: SensitivityRecord = check(&SensitivityRecord::COLUMNS, row);
        assert_eq!((s.scenario.as_str(), s.npv_gbp_at_high), ("=x", 3.5));
        let m: MorrisRecord = check(&MorrisRecord::COLUMNS, "x,2,p,1,2,10,-1,2,3,4,5,6");
        assert_eq!((m.trajectories, m.crisis_months_avoided_sigma), (10, 6.0));
    }

    #[test]
    fn text_a_spreadsheet_would_run_is_neutralised_and_read_back_exactly() {
        for (text, cell) in [
            ("=HYPERLINK(\"x\")", "'=HYPERLINK(\"x\")"),
            ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
            ("-4+5", "'-4+5"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tx", "'\tx"),
            ("\rx", "'\rx"),
            ("'quoted", "''quoted"),
            ("Hubs = good", "Hubs = good"),
            ("", ""),
        ] {
            assert_eq!(csv_text(text), cell);
            assert_eq!(from_csv_text(cell), text);
        }
    }
}
