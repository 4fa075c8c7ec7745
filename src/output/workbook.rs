//! `upstream.xlsx`: the run as a workbook a finance officer can open and
//! audit. Sheets: as `SHEETS` lists them. Every sheet is one table with a frozen header
//! row, a filter and columns sized to fit; money in £ formats.

use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format, Workbook, Worksheet, XlsxError};

use super::RunInfo;
use super::finance;
use super::live;
use crate::replicates::Experiment;

/// The MTFS view's sheet.
pub(super) const MTFS_VIEW: &str = "MTFS view";

/// The Budget by year sheet.
pub(super) const BUDGET_BY_YEAR: &str = "Budget by year";

/// The sheets, in order.
pub(super) const SHEETS: [&str; 18] = [
    "Cover",
    live::INPUTS,
    "Summary",
    "Money bridge",
    live::CHECKS,
    MTFS_VIEW,
    "Capital and financing",
    BUDGET_BY_YEAR,
    "Who pays and who saves",
    "Acceptability",
    "Assumptions",
    live::REPLICATES,
    live::WORKINGS,
    live::BUDGET_BY_REPLICATE,
    live::COSTS,
    live::FINANCING,
    live::ACTIVITY,
    live::INDICES,
];

/// The Budget by year sheet's columns.
const BUDGET_COLUMNS: [&str; 23] = [
    "Scenario",
    "Financial year",
    "Payer",
    "Account",
    "Service line",
    "Baseline (£ nominal, mean)",
    "Scenario (£ nominal, mean)",
    "Scenario (P5)",
    "Scenario (P95)",
    "Saving (£, mean; − more spending)",
    "Saving (P5)",
    "Saving (P95)",
    "Baseline (£ real, mean)",
    "Scenario (£ real, mean)",
    "Saving (£ real, mean)",
    "Envelope (£)",
    "Headroom within the envelope (£, mean; − over it)",
    "Headroom (P5)",
    "Headroom (P95)",
    "Savings target (£)",
    "Saving beyond the target (£, mean; − short of it)",
    "Beyond the target (P5)",
    "Beyond the target (P95)",
];

/// The Assumptions sheet's columns.
const ASSUMPTION_COLUMNS: [&str; 10] = [
    "Scenario",
    "Parameter",
    "Value",
    "Source",
    "Confidence",
    "File",
    "Range low",
    "Range high",
    "Distribution",
    "Uncertainty",
];

/// The Summary sheet's columns (the read-back tests find figures by them).
pub(super) const SUMMARY_COLUMNS: [&str; 22] = [
    "Scenario",
    "Against",
    "Net present value (£, median)",
    "Chance net present value > 0",
    "Net present value (£, mean)",
    "Net present value (£, P5)",
    "Net present value (£, P95)",
    "Net present value without optimism bias (£, mean)",
    "Net present value of cashable savings (£, mean)",
    "Investment, present value (£, mean)",
    "Savings, present value (£, mean)",
    "Return on investment (mean)",
    "Benefit-cost ratio (mean)",
    "Payback month, discounted (P50; empty: not within the horizon)",
    "Payback month, discounted (P5)",
    "Payback month, discounted (P95)",
    "Share paying back within the horizon",
    "Payback month, undiscounted (P50; empty: not within the horizon)",
    "Crisis-months avoided (mean)",
    "QALYs gained, discounted (mean)",
    "Net cost per crisis-month avoided (£, mean)",
    "Net cost per QALY gained (£, mean)",
];

enum Cell {
    Text(String),
    Number(f64),
    Empty,
}

fn number(v: f64) -> Cell {
    if v.is_finite() {
        Cell::Number(v)
    } else {
        Cell::Empty
    }
}

struct Formats {
    header: Format,
    money: Format,
    number: Format,
    whole: Format,
    rate: Format,
    factor: Format,
}

fn table(
    sheet: &mut Worksheet,
    name: &str,
    header: &[&str],
    rows: Vec<Vec<Cell>>,
    f: &Formats,
) -> Result<(), XlsxError> {
    sheet.set_name(name)?;
    for (c, h) in header.iter().enumerate() {
        sheet.write_string_with_format(0, c as u16, *h, &f.header)?;
    }
    for (r, row) in rows.iter().enumerate() {
        let r = r as u32 + 1;
        for (c, cell) in row.iter().enumerate() {
            let c = c as u16;
            match cell {
                Cell::Text(t) => sheet.write_string(r, c, t)?,
                Cell::Number(v) => sheet.write_number_with_format(r, c, *v, &f.number)?,
                Cell::Empty => sheet,
            };
        }
    }
    sheet.set_freeze_panes(1, 0)?;
    if !header.is_empty() {
        sheet.autofilter(0, 0, rows.len() as u32, header.len() as u16 - 1)?;
    }
    sheet.set_autofit_max_width(400);
    sheet.autofit();
    Ok(())
}

/// The cover: what the run is, its conventions and how to read the signs.
fn cover_rows(info: &RunInfo) -> Vec<Vec<Cell>> {
    let c = &info.economics.conventions;
    let names: Vec<&str> = info
        .scenarios
        .iter()
        .map(|l| l.config.name.as_str())
        .collect();
    let months = info.scenarios[0].config.months;
    let row = |item: &str, value: String| vec![Cell::Text(item.into()), Cell::Text(value)];
    let mut rows = vec![row(
        "What this is",
        format!(
            "Upstream results: {} compared with {}, {} replicates each, over {} months from {}-{:02}",
            if names.len() > 1 {
                names[1..].join(", ")
            } else {
                "no scenario".into()
            },
            names[0],
            info.settings.replicates,
            months,
            c.start.0,
            c.start.1
        ),
    )];
    // Warnings first after what the run is: before any figure they may
    // distort, as the report puts them.
    for l in info.scenarios {
        for w in &l.warnings {
            let at = [
                Some(info.recorded(&w.file.display().to_string())),
                w.line.map(|n| format!("line {n}")),
                w.field.as_ref().map(|f| format!("field `{f}`")),
            ];
            let at: Vec<String> = at.into_iter().flatten().collect();
            rows.push(row(
                "Warning: check before reading",
                format!("{} ({}): {}", l.config.name, at.join(", "), w.message),
            ));
        }
    }
    rows.extend([
        row("Upstream version", env!("CARGO_PKG_VERSION").into()),
        row("Seed", info.settings.seed.to_string()),
    ]);
    for l in info.scenarios {
        for f in &l.files {
            rows.push(row(
                "Scenario file",
                info.recorded(&f.path.display().to_string()),
            ));
        }
    }
    rows.extend([
        row("Price base", c.price_base_label()),
        row(
            "Financial year",
            format!("starts in month {}", c.financial_year_start_month),
        ),
        row("Discounting", c.discount.name.clone()),
        row(
            "General inflation a year",
            format!("{}%", c.general_inflation * 100.0),
        ),
        row(
            "Signs",
            format!(
                "{} In the Money bridge each line is its effect on the saving. Money is in \
                 pounds, to the penny.",
                crate::published::SIGNS
            ),
        ),
        row(
            "Illustrative values",
            "Many behaviour parameters are illustrative, low-confidence assumptions (see \
             Assumptions): the results compare scenarios under stated assumptions; they are \
             not forecasts."
                .into(),
        ),
        row(
            "The finance model",
            format!(
                "Inputs holds every money convention and reactive unit cost: change a yellow \
                 cell and every sheet of figures follows by formula from the simulated \
                 activity (Activity and Financing, grey), costed on Costs and priced on \
                 Indices: the Summary, the Money bridge, the MTFS view, Capital and \
                 financing, Budget by year, Who pays and who saves, Acceptability, and the \
                 Replicates, Workings and Budget by replicate beneath them. Inputs marked \
                 \"{}\" change what the simulation does (an intervention's budget and unit \
                 cost set how many it helps). Payback months are as run: once an input \
                 changes they say \"{}\". Checks holds the model's sums, each TRUE.",
                live::RUN_AGAIN,
                live::STALE
            ),
        ),
        row("Sheets", SHEETS[1..].join(", ")),
        row(
            "Every metric by month",
            format!(
                "{}, written with this workbook: each scenario's metrics month by month \
                 (mean, P5, P50, P95). Kept out of the workbook so that it opens quickly.",
                crate::published::TIMESERIES_FILE
            ),
        ),
        row(
            "Bands",
            crate::published::bands_cover(info.parameters_drawn()),
        ),
    ]);
    if let Some(s) = info.scaled {
        rows.push(row("Scaled", s.sentence()));
    }
    if let Some(v) = &info.economics.value_of_information {
        rows.push(row(
            "Value of information",
            crate::published::value_of_information(v),
        ));
    }
    for a in &info.economics.appraisals {
        if let Some(v) = &a.npv_variance {
            rows.push(row(
                "Variance of the net present value",
                format!("{}: {}", a.scenario, crate::published::variance_split(v)),
            ));
        }
    }
    rows
}

/// Who pays and who saves: its columns.
const WHO_PAYS_COLUMNS: [&str; 12] = [
    "Scenario",
    "Payer or pool",
    "Name",
    "Spend, present value (£, mean)",
    "Spend (P5)",
    "Spend (P95)",
    "Cost avoided, present value (£, mean)",
    "Cost avoided (P5)",
    "Cost avoided (P95)",
    "Net position (£, mean)",
    "Net (P5)",
    "Net (P95)",
];

/// The acceptability curves' columns.
pub(super) const ACCEPTABILITY_COLUMNS: [&str; 4] = [
    "Scenario",
    "Per",
    "Willingness to pay (£ per unit)",
    "Chance worth it",
];

/// The money bridge's columns.
pub(super) const BRIDGE_COLUMNS: [&str; 8] = [
    "Scenario",
    "From the net revenue saving to",
    "Line",
    "Kind",
    "Amount (£, mean)",
    "Amount (P5)",
    "Amount (P95)",
    "Why the sign changes",
];

/// The Capital and financing sheet's columns.
pub(super) const CAPITAL_COLUMNS: [&str; 12] = [
    "Scenario",
    "Financial year",
    "Payer",
    "Scheme",
    "Capital spend (£ nominal, mean)",
    "Principal repaid or MRP (£, mean)",
    "Interest (£, mean)",
    "Financing charge to revenue (£, mean)",
    "Debt outstanding at the year's end (£, mean)",
    "Value left at the horizon (£ real, mean; final year)",
    "Value left (P5)",
    "Value left (P95)",
];

fn assumption_rows(info: &RunInfo) -> Vec<Vec<Cell>> {
    let c = &info.economics.conventions;
    let convention = |name: &str, value: String| {
        vec![
            Cell::Text("(all)".into()),
            Cell::Text(format!("economics convention: {name}")),
            Cell::Text(value),
            Cell::Empty,
            Cell::Empty,
            Cell::Empty,
            Cell::Empty,
            Cell::Empty,
            Cell::Empty,
            Cell::Empty,
        ]
    };
    let by_grade = |v: &[f64; 3]| format!("high {}, medium {}, low {}", v[0], v[1], v[2]);
    let mut rows = vec![
        convention("price base", c.price_base_label()),
        convention("first month", format!("{}-{:02}", c.start.0, c.start.1)),
        convention(
            "financial year starts in month",
            c.financial_year_start_month.to_string(),
        ),
        convention("discounting", c.discount.name.clone()),
        convention("discounting of QALYs", c.health_discount.name.clone()),
        convention("general inflation a year", c.general_inflation.to_string()),
        convention(
            "unit-cost inflation a year (unlisted lines)",
            c.default_inflation.to_string(),
        ),
        convention("optimism bias: cost uplift", by_grade(&c.cost_uplift)),
        convention(
            "optimism bias: savings haircut",
            by_grade(&c.savings_haircut),
        ),
        convention(
            "cashable share (unlisted services)",
            c.default_cashable.to_string(),
        ),
    ];
    for (id, v) in &c.inflation {
        rows.push(convention(
            &format!("unit-cost inflation a year: {id}"),
            v.to_string(),
        ));
    }
    for (id, v) in &c.cashable {
        rows.push(convention(&format!("cashable share: {id}"), v.to_string()));
    }
    for l in info.scenarios {
        for a in &l.assumptions {
            let r = l.uncertainty.range_of(&a.parameter);
            // A number stays a number, as in assumptions.csv.
            let end = |t: String| match t.parse::<f64>() {
                Ok(x) if !t.is_empty() => number(x),
                _ => Cell::Text(t),
            };
            rows.push(vec![
                Cell::Text(l.config.name.clone()),
                Cell::Text(a.parameter.clone()),
                Cell::Text(a.value.clone()),
                Cell::Text(a.source.clone().unwrap_or_default()),
                Cell::Text(a.confidence.clone().unwrap_or_default()),
                Cell::Text(info.recorded(&a.file)),
                end(r.low),
                end(r.high),
                Cell::Text(r.distribution),
                Cell::Text(r.uncertainty),
            ]);
        }
    }
    rows
}

/// The workbook's bytes.
pub(super) fn render(exp: &Experiment, info: &RunInfo) -> Result<Vec<u8>, XlsxError> {
    let f = Formats {
        header: Format::new().set_bold().set_text_wrap(),
        money: Format::new().set_num_format("£#,##0;-£#,##0"),
        number: Format::new().set_num_format("#,##0.00"),
        whole: Format::new().set_num_format("0"),
        rate: Format::new().set_num_format("0.0%"),
        factor: Format::new().set_num_format("0.0000"),
    };
    let e = info.economics;
    let mut wb = Workbook::new();
    // A fixed creation date (the ZIP epoch, as reproducible builds use), so
    // the same run gives the same bytes; Excel would stamp the clock time.
    let created = ExcelDateTime::from_ymd(1980, 1, 1)?;
    wb.set_properties(
        &DocProperties::new()
            .set_title("Upstream results")
            .set_creation_datetime(&created),
    );
    let styles = live::Styles::new();
    let mut model = live::Model::new(exp, info);
    // The Inputs first: every other sheet of the model refers to its cells.
    let mut inputs = Worksheet::new();
    model.inputs(&mut inputs, info, &styles)?;
    let sheet = |name: &str| -> Result<Worksheet, XlsxError> {
        let mut w = Worksheet::new();
        w.set_name(name)?;
        Ok(w)
    };
    let mut cover = sheet(SHEETS[0])?;
    table(
        &mut cover,
        SHEETS[0],
        &["Item", "Value"],
        cover_rows(info),
        &f,
    )?;
    wb.push_worksheet(cover);
    wb.push_worksheet(inputs);
    let mut summary = sheet(SHEETS[2])?;
    model.summary(&mut summary, &SUMMARY_COLUMNS, &styles)?;
    wb.push_worksheet(summary);
    let mut bridge = sheet(SHEETS[3])?;
    model.bridge(&mut bridge, &BRIDGE_COLUMNS, &styles)?;
    wb.push_worksheet(bridge);
    let old = finance::Styles {
        header: &f.header,
        money: &f.money,
        rate: &f.rate,
        factor: &f.factor,
        whole: &f.whole,
    };
    // The MTFS view before Checks, which ties its totals to the bridge.
    let mut mtfs = sheet(SHEETS[5])?;
    let mtfs_cells = finance::mtfs_view(&mut mtfs, e, &model, &old)?;
    let mut checks = Worksheet::new();
    model.checks(&mut checks, &mtfs_cells, &styles)?;
    wb.push_worksheet(checks);
    wb.push_worksheet(mtfs);
    let mut w = Worksheet::new();
    w.set_name(SHEETS[6])?;
    model.capital(&mut w, &CAPITAL_COLUMNS, &styles)?;
    wb.push_worksheet(w);
    let mut w = Worksheet::new();
    w.set_name(SHEETS[7])?;
    model.budget_by_year(&mut w, &BUDGET_COLUMNS, &mtfs_cells, &styles)?;
    wb.push_worksheet(w);
    let mut w = Worksheet::new();
    w.set_name(SHEETS[8])?;
    model.who_pays(&mut w, &WHO_PAYS_COLUMNS, &styles)?;
    wb.push_worksheet(w);
    let mut w = Worksheet::new();
    w.set_name(SHEETS[9])?;
    model.acceptability(&mut w, &ACCEPTABILITY_COLUMNS, &styles)?;
    wb.push_worksheet(w);
    let mut w = Worksheet::new();
    table(
        &mut w,
        SHEETS[10],
        &ASSUMPTION_COLUMNS,
        assumption_rows(info),
        &f,
    )?;
    wb.push_worksheet(w);
    let mut w = Worksheet::new();
    model.replicates(&mut w, &styles)?;
    wb.push_worksheet(w);
    let mut w = Worksheet::new();
    model.workings(&mut w, &styles)?;
    wb.push_worksheet(w);
    let mut w = Worksheet::new();
    model.budget_by_replicate(&mut w, &styles)?;
    wb.push_worksheet(w);
    let mut w = Worksheet::new();
    model.costs(&mut w, &styles)?;
    wb.push_worksheet(w);
    let mut w = Worksheet::new();
    model.financing(&mut w, &styles)?;
    wb.push_worksheet(w);
    let mut w = Worksheet::new();
    model.activity(&mut w, &styles)?;
    wb.push_worksheet(w);
    let mut w = Worksheet::new();
    model.indices(&mut w, &styles)?;
    wb.push_worksheet(w);
    wb.save_to_buffer()
}
