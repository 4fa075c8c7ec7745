//! The workbook's finance model: the simulated activity as data, every money
//! convention and reactive unit cost as an input, and the appraisal's
//! figures by formula from them, so that a finance officer's edit of an input
//! flows through to the Summary, the Money bridge, the MTFS view, Capital and
//! financing and Acceptability.
//!
//! Inputs (yellow) → Indices (discount factors, price indices) → Activity
//! and Financing (grey: contacts and place-months, and capital's charges,
//! by scenario, replicate and period) → Costs (activity times unit costs) →
//! Workings (each comparison's period by period) → Replicates (each
//! replicate's figures) → Summary, Money bridge, Capital and financing and
//! Acceptability (means, percentiles and counts over the replicates); Costs
//! and Financing → MTFS view (each payer's lines in cash) → Checks.
//!
//! Each formula carries the value Upstream computed (the same arithmetic, in
//! `economics::ledger`), so a reader that does not recalculate shows the same
//! figures. Signs as everywhere in Upstream: + saves money, − costs money.

use std::collections::BTreeMap;

mod budget;
pub use budget::BUDGET_BY_REPLICATE;

use rust_xlsxwriter::utility::{row_col_to_cell, row_col_to_cell_absolute};
use rust_xlsxwriter::{Color, Format, Formula, Worksheet, XlsxError};

use super::RunInfo;
use crate::economics::budget::TOTAL_REVENUE;
use crate::economics::ledger::{
    self, Costing, Ledger, PERIOD_COLUMNS, REPLICATE_COLUMNS, at, payer_at, replicate_column,
};
use crate::economics::lines::LineKind;
use crate::economics::{Economics, Grade, InterventionMoney};
use crate::model::{Config, Payer};
use crate::replicates::Experiment;

/// The finance model's sheets, in the order the workbook has them.
pub const INPUTS: &str = "Inputs";
/// Discount factors and price indices.
pub const INDICES: &str = "Indices";
/// The simulated activity.
pub const ACTIVITY: &str = "Activity";
/// Activity costed at the price base.
pub const COSTS: &str = "Costs";
/// Each comparison's workings by replicate and period.
pub const WORKINGS: &str = "Workings";
/// Each comparison's figures by replicate.
pub const REPLICATES: &str = "Replicates";
/// The checks, each TRUE.
pub const CHECKS: &str = "Checks";
/// The sheet of each scenario's own financing charges, by replicate and
/// period.
pub const FINANCING: &str = "Financing";

/// The Inputs sheet's columns.
pub const INPUT_COLUMNS: [&str; 9] = [
    "Input",
    "Value",
    "Unit",
    "Live, or run again",
    "Source",
    "Grade",
    "As run",
    "Changed since the run",
    "Id",
];

/// The words in the Inputs sheet's fourth column of an input the workbook
/// follows.
pub const LIVE: &str = "Live: change it here";
/// The words for an input that changes the simulation itself.
pub const RUN_AGAIN: &str = "Change in the scenario and run again";
/// The words for a payer's envelope or savings target: figures on the MTFS
/// view, which its headroom and Budget by year's follow.
pub const ON_THE_MTFS_VIEW: &str = "Live on the MTFS view: type over it there";

/// What a figure that cannot follow an edit shows once an input changes.
pub const STALE: &str = "run again";

/// The one sentence on signs, on every sheet of the model.
pub const SIGNS: &str = "Signs: + saves money or leaves money to spare, − costs money. Colours: yellow cells are inputs, grey cells simulated activity, white cells formulas.";

/// The cell the Checks sheet says whether every input is as run.
pub const AS_RUN: &str = "'Checks'!$B$2";

/// The styles of the model.
pub struct Styles {
    header: Format,
    input_money: Format,
    input_rate: Format,
    data: Format,
    data_money: Format,
    money: Format,
    rate: Format,
    factor: Format,
    number: Format,
    share: Format,
}

impl Styles {
    /// The model's styles: inputs yellow with blue figures, simulated
    /// activity grey, formulas plain.
    pub fn new() -> Styles {
        let input = Format::new()
            .set_background_color(Color::RGB(0xFFF2CC))
            .set_font_color(Color::RGB(0x1F3FBF));
        let data = Format::new().set_background_color(Color::RGB(0xEDEDED));
        Styles {
            header: Format::new().set_bold().set_text_wrap(),
            input_money: input.clone().set_num_format("£#,##0.00"),
            input_rate: input.set_num_format("0.00%"),
            data: data.clone().set_num_format("#,##0.##"),
            data_money: data.set_num_format("£#,##0.00;-£#,##0.00"),
            money: Format::new().set_num_format("£#,##0;-£#,##0"),
            rate: Format::new().set_num_format("0.00%"),
            factor: Format::new().set_num_format("0.000000"),
            number: Format::new().set_num_format("#,##0.00"),
            share: Format::new().set_num_format("0%"),
        }
    }
}

impl Default for Styles {
    fn default() -> Self {
        Styles::new()
    }
}

/// `'Sheet'!$B$5`.
fn at_cell(sheet: &str, row: u32, col: u16) -> String {
    format!("'{sheet}'!{}", row_col_to_cell_absolute(row, col))
}

/// `'Sheet'!B5:B9` (one column).
fn range(sheet: &str, first: u32, last: u32, col: u16) -> String {
    format!(
        "'{sheet}'!{}:{}",
        row_col_to_cell(first, col),
        row_col_to_cell(last, col)
    )
}

/// Writes a formula with the value it gives (a blank for NaN).
pub(super) fn formula(
    sheet: &mut Worksheet,
    (row, col): (u32, u16),
    text: &str,
    value: f64,
    format: &Format,
) -> Result<(), XlsxError> {
    let result = if value.is_finite() {
        value.to_string()
    } else {
        String::new()
    };
    sheet.write_formula_with_format(row, col, Formula::new(text).set_result(result), format)?;
    Ok(())
}

fn headers(sheet: &mut Worksheet, names: &[&str], s: &Styles) -> Result<(), XlsxError> {
    for (c, h) in names.iter().enumerate() {
        sheet.write_string_with_format(0, c as u16, *h, &s.header)?;
    }
    sheet.write_string(0, names.len() as u16 + 1, SIGNS)?;
    sheet.set_freeze_panes(1, 0)?;
    Ok(())
}

/// One row of the Inputs sheet.
struct Input {
    label: String,
    id: String,
    value: f64,
    unit: &'static str,
    source: String,
    grade: String,
    rate: bool,
}

/// Adds an input: its label, id, value, unit, the scenario path its
/// evidence is read from, and whether it is a rate.
type AddInput<'a> = dyn FnMut(String, String, f64, &'static str, &str, bool) + 'a;

/// Everything the model is built from.
pub struct Model<'a> {
    economics: &'a Economics,
    configs: Vec<&'a Config>,
    money: Vec<&'a [InterventionMoney]>,
    names: Vec<&'a str>,
    ledger: Ledger,
    replicates: usize,
    /// Inputs row by id.
    inputs: BTreeMap<String, u32>,
    /// The last row of the live inputs.
    live_inputs_end: u32,
    /// Whether the services' activity is priced from the unit costs on
    /// Inputs (else their pounds are as simulated).
    priced: bool,
}

impl<'a> Model<'a> {
    /// The model of a run.
    pub fn new(exp: &Experiment, info: &'a RunInfo) -> Model<'a> {
        let e = info.economics;
        let configs: Vec<&Config> = info.scenarios.iter().map(|l| &l.config).collect();
        let money: Vec<&[InterventionMoney]> = info
            .scenarios
            .iter()
            .map(|l| l.intervention_money.as_slice())
            .collect();
        // Drawn unit costs differ replicate by replicate: then the services'
        // pounds are carried as simulated, not priced from one input.
        let priced = info.draws.is_none();
        let ledger = ledger::ledger(&e.conventions, &configs, &money, &exp.scenarios, priced);
        let replicates = exp
            .scenarios
            .iter()
            .map(|s| s.series.len())
            .min()
            .unwrap_or(0);
        Model {
            economics: e,
            names: configs.iter().map(|c| c.name.as_str()).collect(),
            configs,
            money,
            ledger,
            replicates,
            inputs: BTreeMap::new(),
            live_inputs_end: 0,
            priced,
        }
    }

    fn periods(&self) -> usize {
        self.ledger.periods.len()
    }

    fn activity_row(&self, s: usize, r: usize, p: usize) -> u32 {
        1 + ((s * self.replicates + r) * self.periods() + p) as u32
    }

    fn workings_row(&self, s: usize, r: usize, p: usize) -> u32 {
        1 + (((s - 1) * self.replicates + r) * self.periods() + p) as u32
    }

    fn replicates_row(&self, s: usize, r: usize) -> u32 {
        1 + ((s - 1) * self.replicates + r) as u32
    }

    fn input(&self, id: &str) -> Option<String> {
        self.inputs.get(id).map(|&row| at_cell(INPUTS, row, 1))
    }

    /// The inputs the model follows: every money convention and reactive
    /// unit cost, with the baseline's evidence for each.
    fn live_inputs(&self, info: &RunInfo) -> Vec<Input> {
        let c = &self.economics.conventions;
        let assumptions = &info.scenarios[0].assumptions;
        let evidence = |path: &str| -> (String, String) {
            assumptions.iter().find(|a| a.parameter == path).map_or(
                (String::new(), "not stated".into()),
                |a| {
                    (
                        a.source.clone().unwrap_or_default(),
                        a.confidence.clone().unwrap_or_else(|| "not stated".into()),
                    )
                },
            )
        };
        let mut rows: Vec<Input> = Vec::new();
        let mut add = |label: String, id: String, value: f64, unit, path: &str, rate| {
            let (source, grade) = evidence(path);
            rows.push(Input {
                label,
                id,
                value,
                unit,
                source,
                grade,
                rate,
            });
        };
        let years = self.ledger.periods.last().map_or(0, |p| p.year + 1);
        for y in 0..years {
            let fy = c.fy_label(c.financial_year(y * 12 + 1));
            add(
                format!(
                    "Discount rate from appraisal year {} ({fy}) to the next",
                    y + 1
                ),
                format!("discount_rate.{y}"),
                c.discount.rate(y),
                "a year",
                "economics.discount_rate",
                true,
            );
        }
        // (label, id, value, unit): each read from `economics.{id}` in the
        // scenario, optimism bias under `optimism_bias`.
        let mut conventions: Vec<(String, String, f64, &'static str)> = vec![(
            "General inflation (GDP deflator)".into(),
            "general_inflation".into(),
            c.general_inflation,
            "a year",
        )];
        // A convention stated line by line, with a default for the rest.
        let by_line = |what: &str, key: &str, default: f64, named: &BTreeMap<String, f64>, unit| {
            let mut out = vec![(
                format!("{what} of lines not named below"),
                format!("{key}.default"),
                default,
                unit,
            )];
            out.extend(named.iter().map(|(id, v)| {
                (
                    format!("{what}: {}", self.line_name(id)),
                    format!("{key}.{id}"),
                    *v,
                    unit,
                )
            }));
            out
        };
        // A convention by confidence grade.
        let by_grade = |what: &str, key: &str, value: &dyn Fn(Grade) -> f64, unit| {
            [Grade::High, Grade::Medium, Grade::Low].map(|g| {
                let n = g.name();
                (
                    format!("{what}, {n} confidence"),
                    format!("{key}.{n}"),
                    value(g),
                    unit,
                )
            })
        };
        conventions.extend(by_line(
            "Unit-cost inflation",
            "inflation",
            c.default_inflation,
            &c.inflation,
            "a year",
        ));
        conventions.extend(by_grade(
            "Optimism bias on extra spend",
            "cost_uplift",
            &|g| c.uplift(g),
            "share added",
        ));
        conventions.extend(by_grade(
            "Optimism bias on savings",
            "savings_haircut",
            &|g| c.haircut(g),
            "share taken off",
        ));
        conventions.extend(by_line(
            "Cashable share of avoided cost",
            "cashable",
            c.default_cashable,
            &c.cashable,
            "share",
        ));
        for (label, id, value, unit) in conventions {
            let path = if id.starts_with("cost_uplift") || id.starts_with("savings_haircut") {
                format!("economics.optimism_bias.{id}")
            } else {
                format!("economics.{id}")
            };
            add(label, id, value, unit, &path, true);
        }
        if self.priced {
            self.unit_cost_inputs(&mut add);
        }
        rows
    }

    /// The reactive services' unit costs, as the engine charges them.
    fn unit_cost_inputs(&self, add: &mut AddInput) {
        let base = self.configs[0];
        for e in &base.events {
            add(
                format!("{}: cost of a contact", e.name),
                format!("unit_cost.{}", e.id),
                e.unit_cost_pence as f64 / 100.0,
                "£",
                &format!("events.{}.unit_cost", e.id),
                false,
            );
        }
        for e in &base.episodes {
            let path = format!("episodes.{}", e.id);
            add(
                format!(
                    "{}: an in-house place for a month (weekly cost × 365.25 / 7 / 12)",
                    e.name
                ),
                format!("monthly_cost.{}", e.id),
                e.monthly_cost_pence as f64 / 100.0,
                "£",
                &format!("{path}.weekly_cost"),
                false,
            );
            add(
                format!("{}: a spot place for a month", e.name),
                format!("spot_monthly_cost.{}", e.id),
                e.spot_monthly_cost_pence as f64 / 100.0,
                "£",
                &format!("{path}.spot_premium"),
                false,
            );
            if let Some((_, pence)) = e.recovered {
                add(
                    format!(
                        "{}: recovered from another payer, a place for a month",
                        e.name
                    ),
                    format!("recovered.{}", e.id),
                    pence as f64 / 100.0,
                    "£",
                    &format!("{path}.recovered_per_week"),
                    false,
                );
            }
        }
    }

    /// The Inputs sheet: every money convention and reactive unit cost the
    /// model follows, then what needs a run.
    pub fn inputs(
        &mut self,
        sheet: &mut Worksheet,
        info: &RunInfo,
        s: &Styles,
    ) -> Result<(), XlsxError> {
        sheet.set_name(INPUTS)?;
        headers(sheet, &INPUT_COLUMNS, s)?;
        let rows = self.live_inputs(info);
        let mut row = 1u32;
        for i in &rows {
            let value_format = if i.rate {
                &s.input_rate
            } else {
                &s.input_money
            };
            sheet.write_string(row, 0, &i.label)?;
            sheet.write_number_with_format(row, 1, i.value, value_format)?;
            sheet.write_string(row, 2, i.unit)?;
            sheet.write_string(row, 3, LIVE)?;
            sheet.write_string(row, 4, &i.source)?;
            sheet.write_string(row, 5, &i.grade)?;
            sheet.write_number(row, 6, i.value)?;
            let (b, g) = (row_col_to_cell(row, 1), row_col_to_cell(row, 6));
            sheet.write_formula(
                row,
                7,
                Formula::new(format!("={b}<>{g}")).set_result("FALSE"),
            )?;
            sheet.write_string(row, 8, &i.id)?;
            self.inputs.insert(i.id.clone(), row);
            row += 1;
        }
        self.live_inputs_end = row - 1;
        if !self.priced {
            sheet.write_string(row, 0, "Reactive services' unit costs")?;
            sheet.write_string(row, 1, "drawn for each replicate")?;
            sheet.write_string(row, 3, RUN_AGAIN)?;
            sheet.write_string(row, 4, "This run drew its parameters (--uncertainty): each replicate's services cost what its own draw priced them at, carried on Activity as pounds")?;
            row += 1;
        }
        // What the model shows but cannot follow: it changes the
        // simulation itself, so it needs a run.
        let mut seen = std::collections::BTreeSet::new();
        for l in info.scenarios {
            for a in &l.assumptions {
                let money = [
                    "annual_budget",
                    "unit_cost_per_month",
                    "capital_cost_per_place",
                    "running_cost_per_place_week",
                    "rent_per_week",
                    "financing",
                    "land_share",
                    "residual_value_share",
                ];
                let is_money = a.parameter.starts_with("interventions.")
                    && money.iter().any(|m| a.parameter.contains(m));
                let budget = a.parameter.starts_with("economics.budgets.");
                let other = budget
                    || a.parameter == "economics.price_base"
                    || a.parameter == "handoff.cost_per_extra_service";
                if !(is_money || other) || !seen.insert((a.parameter.clone(), a.value.clone())) {
                    continue;
                }
                sheet.write_string(row, 0, format!("{} ({})", a.parameter, l.config.name))?;
                sheet.write_string(row, 1, &a.value)?;
                let how = if budget { ON_THE_MTFS_VIEW } else { RUN_AGAIN };
                sheet.write_string(row, 3, how)?;
                sheet.write_string(row, 4, a.source.clone().unwrap_or_default())?;
                sheet.write_string(row, 5, a.confidence.clone().unwrap_or_default())?;
                sheet.write_string(row, 8, &a.parameter)?;
                row += 1;
            }
        }
        sheet.set_column_width(0, 60)?;
        sheet.set_column_width(1, 14)?;
        sheet.set_column_width(3, 24)?;
        sheet.set_column_width(4, 60)?;
        Ok(())
    }

    fn line_name(&self, id: &str) -> String {
        self.ledger
            .lines
            .iter()
            .find(|l| l.line.id == id)
            .map_or(id.to_string(), |l| {
                l.line.name.trim_end_matches(" (capital)").to_string()
            })
    }

    fn years(&self) -> u32 {
        self.ledger.periods.last().map_or(0, |p| p.year + 1)
    }

    fn factor_row(&self, year: u32) -> u32 {
        1 + year
    }

    fn index_row(&self, k: usize) -> u32 {
        self.years() + 3 + k as u32
    }

    fn real_col(&self, p: usize) -> u16 {
        5 + p as u16
    }

    fn cash_col(&self, p: usize) -> u16 {
        5 + (self.periods() + p) as u16
    }

    /// The Indices sheet: discount factors by appraisal year from the
    /// rates, and each line's real-terms and cash indices by period from
    /// the inflation inputs.
    pub fn indices(&self, sheet: &mut Worksheet, s: &Styles) -> Result<(), XlsxError> {
        sheet.set_name(INDICES)?;
        let c = &self.economics.conventions;
        headers(
            sheet,
            &[
                "Appraisal year",
                "Financial year",
                "Discount rate to the next year",
                "Discount factor",
            ],
            s,
        )?;
        let factors = c.discount.factors(self.years());
        for y in 0..self.years() {
            let row = self.factor_row(y);
            sheet.write_number(row, 0, (y + 1) as f64)?;
            sheet.write_string(row, 1, c.fy_label(c.financial_year(y * 12 + 1)))?;
            let rate = self
                .input(&format!("discount_rate.{y}"))
                .unwrap_or_else(|| "0".into());
            formula(
                sheet,
                (row, 2),
                &format!("={rate}"),
                c.discount.rate(y),
                &s.rate,
            )?;
            if y == 0 {
                formula(sheet, (row, 3), "=1", 1.0, &s.factor)?;
            } else {
                let text = format!(
                    "={}/(1+{})",
                    row_col_to_cell(row - 1, 3),
                    row_col_to_cell(row - 1, 2)
                );
                formula(sheet, (row, 3), &text, factors[y as usize], &s.factor)?;
            }
        }
        let head = self.years() + 2;
        let lead = [
            "Line",
            "Id",
            "Kind",
            "Unit-cost inflation a year",
            "Cashable share",
        ];
        for (k, h) in lead.iter().enumerate() {
            sheet.write_string_with_format(head, k as u16, *h, &s.header)?;
        }
        for (p, period) in self.ledger.periods.iter().enumerate() {
            let fy = c.fy_label(period.financial_year);
            sheet.write_string_with_format(
                head,
                self.real_col(p),
                format!("Real £ per price-base £, {fy}"),
                &s.header,
            )?;
            sheet.write_string_with_format(
                head,
                self.cash_col(p),
                format!("Cash £ per price-base £, {fy}"),
                &s.header,
            )?;
        }
        let prices = self.ledger.prices(c);
        let general = self
            .input("general_inflation")
            .unwrap_or_else(|| "0".into());
        for (k, l) in self.ledger.lines.iter().enumerate() {
            let row = self.index_row(k);
            sheet.write_string(row, 0, &l.line.name)?;
            sheet.write_string(row, 1, &l.line.id)?;
            sheet.write_string(row, 2, kind_name(l.line.kind))?;
            let inflation = self
                .input(&format!("inflation.{}", l.line.id))
                .or_else(|| self.input("inflation.default"))
                .unwrap_or_else(|| "0".into());
            formula(
                sheet,
                (row, 3),
                &format!("={inflation}"),
                c.inflation_of(&l.line.id),
                &s.rate,
            )?;
            let cashable = if l.line.kind == LineKind::Reactive {
                self.input(&format!("cashable.{}", l.line.id))
                    .or_else(|| self.input("cashable.default"))
                    .unwrap_or_else(|| "0".into())
            } else {
                "0".into()
            };
            formula(
                sheet,
                (row, 4),
                &format!("={cashable}"),
                prices.cashable[k],
                &s.share,
            )?;
            let i = row_col_to_cell_absolute(row, 3);
            for (p, period) in self.ledger.periods.iter().enumerate() {
                let n = period.financial_year - c.price_base;
                formula(
                    sheet,
                    (row, self.real_col(p)),
                    &format!("=(1+{i})^({n})/(1+{general})^({n})"),
                    prices.real[k][p],
                    &s.factor,
                )?;
                formula(
                    sheet,
                    (row, self.cash_col(p)),
                    &format!("=(1+{i})^({n})"),
                    prices.cash[k][p],
                    &s.factor,
                )?;
            }
        }
        sheet.set_column_width(0, 40)?;
        Ok(())
    }

    fn lead(
        &self,
        sheet: &mut Worksheet,
        row: u32,
        s: usize,
        r: usize,
        p: usize,
    ) -> Result<(), XlsxError> {
        let c = &self.economics.conventions;
        let period = &self.ledger.periods[p];
        sheet.write_string(row, 0, self.names[s])?;
        sheet.write_number(row, 1, (r + 1) as f64)?;
        sheet.write_string(row, 2, c.fy_label(period.financial_year))?;
        sheet.write_number(row, 3, (period.year + 1) as f64)?;
        Ok(())
    }

    /// The Activity sheet: each scenario's simulated activity by replicate
    /// and period.
    pub fn activity(&self, sheet: &mut Worksheet, s: &Styles) -> Result<(), XlsxError> {
        sheet.set_name(ACTIVITY)?;
        let mut names = vec!["Scenario", "Replicate", "Financial year", "Appraisal year"];
        names.extend(self.ledger.columns.iter().map(|c| c.name.as_str()));
        headers(sheet, &names, s)?;
        for sc in 0..self.configs.len() {
            for r in 0..self.replicates {
                for p in 0..self.periods() {
                    let row = self.activity_row(sc, r, p);
                    self.lead(sheet, row, sc, r, p)?;
                    for (k, v) in self.ledger.activity[sc][r][p].iter().enumerate() {
                        sheet.write_number_with_format(row, 4 + k as u16, *v, &s.data)?;
                    }
                }
            }
        }
        Ok(())
    }

    /// The unit-cost cells of a service in scenario `sc`: the Inputs' when
    /// the scenario's costs are the baseline's, else its own as figures.
    fn unit_refs(&self, sc: usize, service: &str) -> [String; 3] {
        let own = ledger::unit_costs(self.configs[sc], service);
        let base = ledger::unit_costs(self.configs[0], service);
        let ids = ["unit_cost", "monthly_cost", "spot_monthly_cost"];
        let pick = |id: &str, v: f64| -> String {
            match self.input(&format!("{id}.{service}")) {
                Some(cell) if own == base => cell,
                _ => format!("{v}"),
            }
        };
        let first = if self.input(&format!("{}.{service}", ids[0])).is_some() {
            pick(ids[0], own.0)
        } else {
            pick(ids[1], own.0)
        };
        [first, pick(ids[2], own.1), pick("recovered", own.2)]
    }

    fn costs_col(&self, k: usize) -> u16 {
        4 + k as u16
    }

    /// The Costs sheet: each line's money at the price base, activity
    /// times unit costs (or the pounds simulated).
    pub fn costs(&self, sheet: &mut Worksheet, s: &Styles) -> Result<(), XlsxError> {
        sheet.set_name(COSTS)?;
        let heads: Vec<String> = self
            .ledger
            .lines
            .iter()
            .map(|l| format!("{} ({}, £ price base)", l.line.name, l.line.payer.label()))
            .collect();
        let mut names = vec!["Scenario", "Replicate", "Financial year", "Appraisal year"];
        names.extend(heads.iter().map(String::as_str));
        headers(sheet, &names, s)?;
        for sc in 0..self.configs.len() {
            for r in 0..self.replicates {
                for p in 0..self.periods() {
                    let row = self.activity_row(sc, r, p);
                    self.lead(sheet, row, sc, r, p)?;
                    let values = self.ledger.costs(&self.configs, sc, r, p);
                    let a = |col: usize| {
                        format!("'{ACTIVITY}'!{}", row_col_to_cell(row, 4 + col as u16))
                    };
                    for (k, l) in self.ledger.lines.iter().enumerate() {
                        let text = match &l.costing {
                            Costing::Contacts { service, contacts } => {
                                format!("={}*{}", a(*contacts), self.unit_refs(sc, service)[0])
                            }
                            Costing::Places {
                                service,
                                in_house,
                                spot,
                            } => {
                                let u = self.unit_refs(sc, service);
                                format!("={}*{}+{}*{}", a(*in_house), u[0], a(*spot), u[1])
                            }
                            Costing::Recovered {
                                service,
                                in_house,
                                spot,
                            } => {
                                let u = self.unit_refs(sc, service);
                                format!("=({}+{})*{}", a(*in_house), a(*spot), u[2])
                            }
                            Costing::Pounds { column } => format!("={}", a(*column)),
                        };
                        formula(sheet, (row, self.costs_col(k)), &text, values[k], &s.money)?;
                    }
                }
            }
        }
        Ok(())
    }

    fn workings_col(&self, i: usize) -> u16 {
        4 + i as u16
    }

    /// The Workings' columns of each payer's money after the period
    /// columns: its spend after optimism bias, then its cost avoided.
    const PAYER_WORKINGS: usize = 2 * Payer::ALL.len();

    /// First carried column of capital line `j`: its value left, then its
    /// financing by purchase period.
    fn carried_col(&self, j: usize) -> u16 {
        4 + (PERIOD_COLUMNS.len() + Self::PAYER_WORKINGS + j * (1 + self.periods())) as u16
    }

    /// The Workings' column of payer `p`'s money `i` (`payer_at`).
    fn payer_workings_col(&self, p: usize, i: usize) -> u16 {
        self.workings_col(PERIOD_COLUMNS.len() + 2 * p + i)
    }

    /// The Workings sheet: each comparison, replicate and period, from the
    /// Costs and Indices.
    pub fn workings(&self, sheet: &mut Worksheet, s: &Styles) -> Result<(), XlsxError> {
        sheet.set_name(WORKINGS)?;
        let c = &self.economics.conventions;
        let mut heads: Vec<String> = ["Scenario", "Replicate", "Financial year", "Appraisal year"]
            .iter()
            .chain(PERIOD_COLUMNS.iter())
            .map(|h| h.to_string())
            .collect();
        for p in Payer::ALL {
            heads.push(format!(
                "{}: extra spend after optimism bias (£ real)",
                p.label()
            ));
            heads.push(format!("{}: reactive cost avoided (£ real)", p.label()));
        }
        for &k in &self.ledger.capital_lines {
            let name = self.ledger.lines[k]
                .line
                .name
                .trim_end_matches(" (capital)")
                .to_string();
            heads.push(format!("{name}: value left at the horizon of this period's extra purchases (£ price base, simulated)"));
            for period in &self.ledger.periods {
                heads.push(format!(
                    "{name}: financing in this period of each price-base £ of extra purchases in {} (simulated)",
                    c.fy_label(period.financial_year)
                ));
            }
        }
        let names: Vec<&str> = heads.iter().map(String::as_str).collect();
        headers(sheet, &names, s)?;
        let prices = self.ledger.prices(c);
        for sc in 1..self.configs.len() {
            let allowance = self.ledger.allowance(c, &self.configs, &self.money, sc);
            for r in 0..self.replicates {
                let values = self
                    .ledger
                    .period_workings(&self.configs, &prices, &allowance, sc, r);
                let by_payer =
                    self.ledger
                        .payer_workings(&self.configs, &prices, &allowance, sc, r);
                for (p, value) in values.iter().enumerate() {
                    let row = self.workings_row(sc, r, p);
                    self.lead(sheet, row, sc, r, p)?;
                    let texts = self.period_formulas(sc, r, p, &allowance);
                    let payers = by_payer[p].iter().flatten();
                    let value = value.iter().chain(payers);
                    for (i, (text, v)) in texts.iter().zip(value).enumerate() {
                        let f = if i == at::FACTOR { &s.factor } else { &s.money };
                        formula(sheet, (row, self.workings_col(i)), text, *v, f)?;
                    }
                    let carried = &self.ledger.carried[sc];
                    for j in 0..self.ledger.capital_lines.len() {
                        let col = self.carried_col(j);
                        sheet.write_number_with_format(
                            row,
                            col,
                            carried.value_left[r][p][j],
                            &s.data_money,
                        )?;
                        for (q, v) in carried.financing[r][p][j].iter().enumerate() {
                            sheet.write_number_with_format(
                                row,
                                col + 1 + q as u16,
                                *v,
                                &s.data_money,
                            )?;
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// The formulas of one row of the Workings, in the order of
    /// `PERIOD_COLUMNS`, then each payer's spend and cost avoided.
    fn period_formulas(
        &self,
        sc: usize,
        r: usize,
        p: usize,
        allowance: &ledger::Allowance,
    ) -> Vec<String> {
        let year = self.ledger.periods[p].year;
        let (rb, rs) = (self.activity_row(0, r, p), self.activity_row(sc, r, p));
        let cost =
            |row: u32, k: usize| format!("'{COSTS}'!{}", row_col_to_cell(row, self.costs_col(k)));
        let real = |k: usize| at_cell(INDICES, self.index_row(k), self.real_col(p));
        let cash = |k: usize| at_cell(INDICES, self.index_row(k), self.cash_col(p));
        let cashable = |k: usize| at_cell(INDICES, self.index_row(k), 4);
        let mut terms: Vec<Vec<String>> =
            vec![Vec::new(); PERIOD_COLUMNS.len() + Self::PAYER_WORKINGS];
        for (k, l) in self.ledger.lines.iter().enumerate() {
            let (b, s) = (cost(rb, k), cost(rs, k));
            let payer = PERIOD_COLUMNS.len() + 2 * l.line.payer as usize;
            match l.line.kind {
                LineKind::Reactive => {
                    let d = if l.line.sign < 0.0 {
                        format!("({s}-{b})")
                    } else {
                        format!("({b}-{s})")
                    };
                    terms[at::AVOIDED].push(d.clone());
                    terms[payer + payer_at::AVOIDED].push(format!("{d}*{}", real(k)));
                    terms[at::CASHABLE_REAL].push(format!("{d}*{}*{}", real(k), cashable(k)));
                    terms[at::AVOIDED_CASH].push(format!("{d}*{}", cash(k)));
                }
                LineKind::Prevention | LineKind::Capital => {
                    let d = format!("({s}-{b})");
                    if l.line.kind == LineKind::Prevention {
                        terms[at::PREVENTION].push(d.clone());
                        terms[at::PREVENTION_CASH].push(format!("{d}*{}", cash(k)));
                    } else {
                        terms[at::CAPITAL].push(d.clone());
                    }
                    terms[payer + payer_at::SPEND].push(format!("{d}*{}", real(k)));
                    if let Some(g) = allowance.uplift_grade[k] {
                        let u = self
                            .input(&format!("cost_uplift.{}", g.name()))
                            .unwrap_or_else(|| "0".into());
                        let ob = format!("{u}*ABS({d}*{})", real(k));
                        terms[payer + payer_at::SPEND].push(ob.clone());
                        terms[at::OB_SPEND].push(ob);
                    }
                }
            }
        }
        let row = self.workings_row(sc, r, p);
        // The totals over payers, written once: real cost avoided is the
        // payers' added up, real spend theirs less the optimism bias.
        let here = |col: u16| row_col_to_cell(row, col);
        for i in 0..Payer::ALL.len() {
            terms[at::AVOIDED_REAL].push(here(self.payer_workings_col(i, payer_at::AVOIDED)));
            terms[at::SPEND_REAL].push(here(self.payer_workings_col(i, payer_at::SPEND)));
        }
        let ob = here(self.workings_col(at::OB_SPEND));
        terms[at::SPEND_REAL] = vec![format!("({})-{ob}", terms[at::SPEND_REAL].join("+"))];
        for (j, &k) in self.ledger.capital_lines.iter().enumerate() {
            let col = self.carried_col(j);
            terms[at::VALUE_LEFT].push(format!("{}*{}", row_col_to_cell(row, col), real(k)));
            let index_row = self.index_row(k);
            terms[at::FINANCING].push(format!(
                "SUMPRODUCT('{INDICES}'!{}:{},{}:{})",
                row_col_to_cell_absolute(index_row, self.cash_col(0)),
                row_col_to_cell_absolute(index_row, self.cash_col(self.periods() - 1)),
                row_col_to_cell(row, col + 1),
                row_col_to_cell(row, col + self.periods() as u16),
            ));
        }
        terms[at::FACTOR].push(at_cell(INDICES, self.factor_row(year), 3));
        terms
            .into_iter()
            .map(|t| {
                if t.is_empty() {
                    "=0".to_string()
                } else {
                    format!("={}", t.join("+"))
                }
            })
            .collect()
    }
}

fn kind_name(k: LineKind) -> &'static str {
    match k {
        LineKind::Reactive => "reactive",
        LineKind::Prevention => "prevention",
        LineKind::Capital => "capital",
    }
}

/// How each Replicates column is computed from the Workings and the
/// columns before it: `W(col)` is the Workings' range of the replicate's
/// periods, `R(id)` this row's cell of column `id`, `{H}` the comparison's
/// haircut, `LAST(col)` the Workings' cell of the replicate's last period.
fn replicate_rule(id: &str) -> &'static str {
    match id {
        "reactive_cost_avoided" => "=SUM(W(avoided))",
        "extra_prevention_spend" => "=-SUM(W(prevention))",
        "net_revenue_saving" => "=R(reactive_cost_avoided)+R(extra_prevention_spend)",
        "extra_capital_spend" => "=-SUM(W(capital))",
        "residual_value" => "=SUM(W(value_left))",
        "relative_price_effects" => {
            "=(SUM(W(avoided_real))-R(reactive_cost_avoided))-(SUM(W(spend_real))+R(extra_prevention_spend)+R(extra_capital_spend))"
        }
        "optimism_bias_on_spend" => "=-SUM(W(ob_spend))",
        "avoided_real" => "=SUM(W(avoided_real))",
        "kept" => "=IF(R(avoided_real)>=0,1-{H},1+{H})",
        "optimism_bias_on_savings" => "=-(R(avoided_real)*(1-R(kept)))",
        "net_saving_after_optimism_bias" => {
            "=R(net_revenue_saving)+R(extra_capital_spend)+R(residual_value)+R(relative_price_effects)+R(optimism_bias_on_spend)+R(optimism_bias_on_savings)"
        }
        "horizon_factor" => "=LAST(factor)",
        "pv_savings" => "=R(kept)*SUMPRODUCT(W(factor),W(avoided_real))",
        "pv_cashable_savings" => "=R(kept)*SUMPRODUCT(W(factor),W(cashable_real))",
        "pv_residual_value" => "=R(residual_value)*R(horizon_factor)",
        "pv_investment" => {
            "=SUMPRODUCT(W(factor),W(spend_real))+SUMPRODUCT(W(factor),W(ob_spend))-R(pv_residual_value)"
        }
        "npv" => "=R(pv_savings)-R(pv_investment)",
        "discounting" => "=R(npv)-R(net_saving_after_optimism_bias)",
        "npv_without_optimism_bias" => {
            "=SUMPRODUCT(W(factor),W(avoided_real))-SUMPRODUCT(W(factor),W(spend_real))+R(pv_residual_value)"
        }
        "npv_cashable" => "=R(pv_cashable_savings)-R(pv_investment)",
        "inflation" => {
            "=(SUM(W(avoided_cash))-R(reactive_cost_avoided))-(SUM(W(prevention_cash))+R(extra_prevention_spend))"
        }
        "financing" => "=-SUM(W(financing))",
        "revenue_budget_impact" => "=R(net_revenue_saving)+R(financing)+R(inflation)",
        "roi" => "=IF(R(pv_investment)>0,R(npv)/R(pv_investment),\"\")",
        "benefit_cost_ratio" => "=IF(R(pv_investment)>0,R(pv_savings)/R(pv_investment),\"\")",
        "crisis_months_avoided" => "DATA",
        "net_cost_per_crisis_month_avoided" => {
            "=IF(R(crisis_months_avoided)>0,-R(npv)/R(crisis_months_avoided),\"\")"
        }
        "qalys_gained" => "DATA",
        "net_cost_per_qaly_gained" => "=IF(R(qalys_gained)>0,-R(npv)/R(qalys_gained),\"\")",
        "undiscounted_net" => {
            "=R(kept)*R(avoided_real)-(SUM(W(spend_real))+SUM(W(ob_spend))-R(residual_value))"
        }
        _ => "",
    }
}

/// The Workings column a rule's `W(name)` means.
fn period_index(name: &str) -> usize {
    match name {
        "factor" => at::FACTOR,
        "avoided" => at::AVOIDED,
        "avoided_real" => at::AVOIDED_REAL,
        "cashable_real" => at::CASHABLE_REAL,
        "avoided_cash" => at::AVOIDED_CASH,
        "prevention" => at::PREVENTION,
        "prevention_cash" => at::PREVENTION_CASH,
        "capital" => at::CAPITAL,
        "spend_real" => at::SPEND_REAL,
        "ob_spend" => at::OB_SPEND,
        "value_left" => at::VALUE_LEFT,
        "financing" => at::FINANCING,
        other => panic!("no Workings column {other}"),
    }
}

/// Replaces each `NAME(arg)` in `text` by `f(arg)`.
fn expand(text: &str, name: &str, f: &dyn Fn(&str) -> String) -> String {
    let open = format!("{name}(");
    let mut out = String::with_capacity(text.len() * 2);
    let mut rest = text;
    while let Some(i) = rest.find(&open) {
        // Only a whole name: not the end of a longer one (SUM( is not M().
        let whole = i == 0 || !rest.as_bytes()[i - 1].is_ascii_alphabetic();
        if !whole {
            out.push_str(&rest[..i + open.len()]);
            rest = &rest[i + open.len()..];
            continue;
        }
        out.push_str(&rest[..i]);
        let after = &rest[i + open.len()..];
        let close = after.find(')').expect("a closing bracket");
        out.push_str(&f(&after[..close]));
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    out
}

/// Columns of the Replicates sheet before the figures.
const REPLICATES_LEAD: u16 = 2;

impl Model<'_> {
    fn replicates_col(&self, id: &str) -> u16 {
        REPLICATES_LEAD + replicate_column(id) as u16
    }

    fn haircut_ref(&self, allowance: &ledger::Allowance) -> String {
        allowance
            .haircut_grade
            .and_then(|g| self.input(&format!("savings_haircut.{}", g.name())))
            .unwrap_or_else(|| "0".into())
    }

    /// The Replicates sheet: each comparison's figures, replicate by
    /// replicate, from the Workings.
    pub fn replicates(&self, sheet: &mut Worksheet, s: &Styles) -> Result<(), XlsxError> {
        sheet.set_name(REPLICATES)?;
        let mut names = vec!["Scenario", "Replicate"];
        names.extend(REPLICATE_COLUMNS.iter().map(|(_, n)| *n));
        headers(sheet, &names, s)?;
        let c = &self.economics.conventions;
        let prices = self.ledger.prices(c);
        for sc in 1..self.configs.len() {
            let allowance = self.ledger.allowance(c, &self.configs, &self.money, sc);
            let haircut = self.haircut_ref(&allowance);
            let carried = &self.ledger.carried[sc];
            for r in 0..self.replicates {
                let row = self.replicates_row(sc, r);
                sheet.write_string(row, 0, self.names[sc])?;
                sheet.write_number(row, 1, (r + 1) as f64)?;
                let w = self
                    .ledger
                    .period_workings(&self.configs, &prices, &allowance, sc, r);
                let values = ledger::replicate_figures(
                    &w,
                    allowance.haircut,
                    carried.crisis_months_avoided[r],
                    carried.qalys_gained[r],
                );
                let (first, last) = (
                    self.workings_row(sc, r, 0),
                    self.workings_row(sc, r, self.periods() - 1),
                );
                for (k, (id, _)) in REPLICATE_COLUMNS.iter().enumerate() {
                    let col = self.replicates_col(id);
                    let rule = replicate_rule(id);
                    if rule == "DATA" {
                        sheet.write_number_with_format(row, col, values[k], &s.data)?;
                        continue;
                    }
                    let text = expand(rule, "W", &|name| {
                        range(WORKINGS, first, last, self.workings_col(period_index(name)))
                    });
                    let text = expand(&text, "R", &|name| {
                        row_col_to_cell(row, self.replicates_col(name))
                    });
                    let text = expand(&text, "LAST", &|name| {
                        at_cell(WORKINGS, last, self.workings_col(period_index(name)))
                    });
                    let text = text.replace("{H}", &haircut);
                    let format = match *id {
                        "kept" | "roi" | "benefit_cost_ratio" => &s.number,
                        "horizon_factor" => &s.factor,
                        "qalys_gained" => &s.number,
                        _ => &s.money,
                    };
                    formula(sheet, (row, col), &text, values[k], format)?;
                }
                self.scheme_value_left(sheet, (sc, r), &prices, s)?;
                let kept = values[replicate_column("kept")];
                self.payer_positions(sheet, (sc, r), (&w, &prices, &allowance, kept), s)?;
            }
        }
        let figures = ["spend", "cost avoided", "net position"];
        for (p, payer) in Payer::ALL.iter().enumerate() {
            for (i, f) in figures.iter().enumerate() {
                sheet.write_string_with_format(
                    0,
                    self.payer_col(p, i),
                    format!("{}: {f}, present value (£ real)", payer.label()),
                    &s.header,
                )?;
            }
        }
        for (k, pool) in self.economics.conventions.pools.iter().enumerate() {
            for (i, f) in figures.iter().enumerate() {
                sheet.write_string_with_format(
                    0,
                    self.pool_col(k, i),
                    format!("{} (pool): {f}, present value (£ real)", pool.name),
                    &s.header,
                )?;
            }
        }
        for (j, &k) in self.ledger.capital_lines.iter().enumerate() {
            let name = self.ledger.lines[k]
                .line
                .name
                .trim_end_matches(" (capital)");
            sheet.write_string_with_format(
                0,
                self.scheme_col(j),
                format!("{name}: capital's value left at the horizon (£ real)"),
                &s.header,
            )?;
        }
        Ok(())
    }

    /// The Replicates' column of capital line `j`'s value left, after the
    /// figures, a blank column and the sign sentence.
    fn scheme_col(&self, j: usize) -> u16 {
        REPLICATES_LEAD + (REPLICATE_COLUMNS.len() + 2 + j) as u16
    }

    /// The Replicates' column of payer `p`'s figure `i` (spend, cost
    /// avoided, net; present values), after the schemes'.
    fn payer_col(&self, p: usize, i: usize) -> u16 {
        self.scheme_col(self.ledger.capital_lines.len()) + (3 * p + i) as u16
    }

    /// The Replicates' column of pool `k`'s figure `i`, after the payers'.
    fn pool_col(&self, k: usize, i: usize) -> u16 {
        self.payer_col(Payer::ALL.len(), 0) + (3 * k + i) as u16
    }

    /// Each capital scheme's value left at the horizon in one replicate of
    /// one comparison, real: each period's purchases' value left times its
    /// real-terms index.
    fn scheme_value_left(
        &self,
        sheet: &mut Worksheet,
        (sc, r): (usize, usize),
        prices: &ledger::Prices,
        s: &Styles,
    ) -> Result<(), XlsxError> {
        let row = self.replicates_row(sc, r);
        let carried = &self.ledger.carried[sc];
        for (j, &k) in self.ledger.capital_lines.iter().enumerate() {
            let terms: Vec<String> = (0..self.periods())
                .map(|p| {
                    format!(
                        "{}*{}",
                        at_cell(WORKINGS, self.workings_row(sc, r, p), self.carried_col(j)),
                        at_cell(INDICES, self.index_row(k), self.real_col(p))
                    )
                })
                .collect();
            let value = (0..self.periods())
                .map(|p| carried.value_left[r][p][j] * prices.real[k][p])
                .sum();
            formula(
                sheet,
                (row, self.scheme_col(j)),
                &format!("={}", terms.join("+")),
                value,
                &s.money,
            )?;
        }
        Ok(())
    }

    /// Each payer's and pool's present values in one replicate of one
    /// comparison: spend after optimism bias (net of its capital's value
    /// left), cost avoided after the haircut, and the net, from the
    /// Workings' payer columns; a pool's are its payers' sums.
    fn payer_positions(
        &self,
        sheet: &mut Worksheet,
        (sc, r): (usize, usize),
        (w, prices, allowance, kept): (
            &[[f64; PERIOD_COLUMNS.len()]],
            &ledger::Prices,
            &ledger::Allowance,
            f64,
        ),
        s: &Styles,
    ) -> Result<(), XlsxError> {
        let by_payer = self
            .ledger
            .payer_workings(&self.configs, prices, allowance, sc, r);
        let left = self.ledger.scheme_value_left(prices, sc, r);
        let values = self.ledger.payer_figures(w, &by_payer, &left, kept);
        let row = self.replicates_row(sc, r);
        let (first, last) = (
            self.workings_row(sc, r, 0),
            self.workings_row(sc, r, self.periods() - 1),
        );
        let factor = range(WORKINGS, first, last, self.workings_col(at::FACTOR));
        let discounted = |p: usize, i: usize| {
            let flows = range(WORKINGS, first, last, self.payer_workings_col(p, i));
            format!("SUMPRODUCT({factor},{flows})")
        };
        let here = |col: u16| row_col_to_cell(row, col);
        for (p, value) in values.iter().enumerate() {
            let schemes: Vec<String> = (self.ledger.capital_lines.iter().enumerate())
                .filter(|(_, k)| self.ledger.lines[**k].line.payer as usize == p)
                .map(|(j, _)| here(self.scheme_col(j)))
                .collect();
            let mut spend = format!("={}", discounted(p, payer_at::SPEND));
            if !schemes.is_empty() {
                spend += &format!(
                    "-({})*{}",
                    schemes.join("+"),
                    here(self.replicates_col("horizon_factor"))
                );
            }
            let avoided = format!(
                "={}*{}",
                here(self.replicates_col("kept")),
                discounted(p, payer_at::AVOIDED)
            );
            let net = format!(
                "={}-{}",
                here(self.payer_col(p, 1)),
                here(self.payer_col(p, 0))
            );
            for (i, (text, v)) in [spend, avoided, net].iter().zip(value).enumerate() {
                formula(sheet, (row, self.payer_col(p, i)), text, *v, &s.money)?;
            }
        }
        for (k, pool) in self.economics.conventions.pools.iter().enumerate() {
            let sums: [f64; 3] =
                std::array::from_fn(|i| pool.payers.iter().map(|p| values[*p as usize][i]).sum());
            for (i, value) in sums.iter().enumerate() {
                let cells: Vec<String> = pool
                    .payers
                    .iter()
                    .map(|p| here(self.payer_col(*p as usize, i)))
                    .collect();
                let text = format!("={}", cells.join("+"));
                formula(sheet, (row, self.pool_col(k, i)), &text, *value, &s.money)?;
            }
        }
        Ok(())
    }

    /// The Capital and financing sheet: for each comparison, capital scheme
    /// and financial year, the extra capital spend, its principal (or MRP)
    /// and interest, the financing charge to revenue and the debt still
    /// owed, cash, mean over replicates, by formula from Costs and
    /// Financing; in the final year, the value left at the horizon (mean
    /// and band over the Replicates). Rows as `economics.json` has them.
    pub fn capital(
        &self,
        sheet: &mut Worksheet,
        columns: &[&str],
        s: &Styles,
    ) -> Result<(), XlsxError> {
        headers(sheet, columns, s)?;
        let mut row = 1u32;
        for a in &self.economics.appraisals {
            let Some(sc) = self.scenario_index(&a.scenario) else {
                continue;
            };
            for (i, x) in a.capital_schedule.iter().enumerate() {
                sheet.write_string(row, 0, &x.scenario)?;
                sheet.write_string(row, 1, &x.financial_year)?;
                sheet.write_string(row, 2, x.payer.label())?;
                sheet.write_string(row, 3, &x.scheme)?;
                let j = self.ledger.capital_lines.iter().position(|&k| {
                    let l = &self.ledger.lines[k].line;
                    l.payer == x.payer && l.name.trim_end_matches(" (capital)") == x.scheme
                });
                let Some(j) = j else {
                    // Not in the model: the run's figures, as run.
                    for (c, v) in [
                        x.capital_spend.mean,
                        x.principal_repaid.mean,
                        x.interest.mean,
                        x.financing_charge.mean,
                        x.debt_outstanding.mean,
                    ]
                    .iter()
                    .enumerate()
                    {
                        sheet.write_number_with_format(row, 4 + c as u16, *v, &s.money)?;
                    }
                    row += 1;
                    continue;
                };
                let k = self.ledger.capital_lines[j];
                let fy = x.financial_year.as_str();
                let extra = |source: BudgetSource| {
                    format!(
                        "=(({})-({}))/{}",
                        self.budget_sum(source, sc, fy),
                        self.budget_sum(source, 0, fy),
                        self.replicates
                    )
                };
                let cell = |col: u16| row_col_to_cell(row, col);
                formula(
                    sheet,
                    (row, 4),
                    &extra(BudgetSource::Line(k)),
                    x.capital_spend.mean,
                    &s.money,
                )?;
                formula(
                    sheet,
                    (row, 5),
                    &extra(BudgetSource::Principal(j)),
                    x.principal_repaid.mean,
                    &s.money,
                )?;
                formula(
                    sheet,
                    (row, 6),
                    &format!("={}-{}", cell(7), cell(5)),
                    x.interest.mean,
                    &s.money,
                )?;
                formula(
                    sheet,
                    (row, 7),
                    &extra(BudgetSource::Financing(j)),
                    x.financing_charge.mean,
                    &s.money,
                )?;
                // Debt at the year's end: the year before's, plus what was
                // bought, less what was repaid.
                let before = if i > 0 && a.capital_schedule[i - 1].scheme == x.scheme {
                    format!("{}+", row_col_to_cell(row - 1, 8))
                } else {
                    String::new()
                };
                formula(
                    sheet,
                    (row, 8),
                    &format!("={before}{}-{}", cell(4), cell(5)),
                    x.debt_outstanding.mean,
                    &s.money,
                )?;
                if let Some(left) = &x.value_left_at_horizon {
                    let over = range(
                        REPLICATES,
                        self.replicates_row(sc, 0),
                        self.replicates_row(sc, self.replicates - 1),
                        self.scheme_col(j),
                    );
                    for (c, text, v) in [
                        (9, format!("=AVERAGE({over})"), left.mean),
                        (10, format!("=PERCENTILE({over},0.05)"), left.p5),
                        (11, format!("=PERCENTILE({over},0.95)"), left.p95),
                    ] {
                        formula(sheet, (row, c), &text, v, &s.money)?;
                    }
                }
                row += 1;
            }
        }
        sheet.set_column_width(0, 30)?;
        sheet.set_column_width(3, 40)?;
        for col in 4..columns.len() as u16 {
            sheet.set_column_width(col, 18)?;
        }
        Ok(())
    }

    /// The Acceptability sheet: each scenario's curves point by point, the
    /// chance its net present value plus the willingness to pay times the
    /// units gained is above zero, counted over the Replicates.
    pub fn acceptability(
        &self,
        sheet: &mut Worksheet,
        columns: &[&str],
        s: &Styles,
    ) -> Result<(), XlsxError> {
        headers(sheet, columns, s)?;
        let mut row = 1u32;
        for a in &self.economics.appraisals {
            let sc = self.scenario_index(&a.scenario);
            for c in &a.acceptability {
                let (per, units) = match c.per.as_str() {
                    "crisis_month" => ("crisis-month avoided", "crisis_months_avoided"),
                    "qaly" => ("QALY gained", "qalys_gained"),
                    other => (other, ""),
                };
                for (w, p) in c.willingness_gbp.iter().zip(&c.chance_worth_it) {
                    sheet.write_string(row, 0, &a.scenario)?;
                    sheet.write_string(row, 1, per)?;
                    sheet.write_number_with_format(row, 2, *w, &s.money)?;
                    match sc {
                        Some(sc) if self.replicates > 0 && !units.is_empty() => {
                            let text = format!(
                                "=SUMPRODUCT((({})+{w}*({})>0)*1)/{}",
                                self.over_replicates(sc, "npv"),
                                self.over_replicates(sc, units),
                                self.replicates
                            );
                            formula(sheet, (row, 3), &text, *p, &s.share)?;
                        }
                        _ => {
                            sheet.write_number_with_format(row, 3, *p, &s.share)?;
                        }
                    }
                    row += 1;
                }
            }
        }
        sheet.set_column_width(0, 30)?;
        sheet.set_column_width(1, 22)?;
        sheet.set_column_width(2, 18)?;
        Ok(())
    }

    /// Who pays and who saves: each comparison's payers and pools, their
    /// spend, cost avoided and net (present values), mean and band over
    /// the Replicates, by formula. Rows as `economics.json` has them.
    pub fn who_pays(
        &self,
        sheet: &mut Worksheet,
        columns: &[&str],
        s: &Styles,
    ) -> Result<(), XlsxError> {
        headers(sheet, columns, s)?;
        let mut row = 1u32;
        for a in &self.economics.appraisals {
            let Some(sc) = self
                .scenario_index(&a.scenario)
                .filter(|_| self.replicates > 0)
            else {
                continue;
            };
            let payers = a
                .who_pays
                .iter()
                .enumerate()
                .map(|(p, x)| ("Payer", x, self.payer_col(p, 0)));
            let pools = a
                .pools
                .iter()
                .enumerate()
                .map(|(k, x)| ("Pool", x, self.pool_col(k, 0)));
            for (kind, position, col) in payers.chain(pools) {
                sheet.write_string(row, 0, &a.scenario)?;
                sheet.write_string(row, 1, kind)?;
                sheet.write_string(row, 2, &position.name)?;
                let bands = [&position.spend, &position.cost_avoided, &position.net];
                for (i, band) in bands.into_iter().enumerate() {
                    let over = range(
                        REPLICATES,
                        self.replicates_row(sc, 0),
                        self.replicates_row(sc, self.replicates - 1),
                        col + i as u16,
                    );
                    let cells = [
                        (format!("=ROUND(AVERAGE({over}),2)"), band.mean),
                        (format!("=ROUND(PERCENTILE({over},0.05),2)"), band.p5),
                        (format!("=ROUND(PERCENTILE({over},0.95),2)"), band.p95),
                    ];
                    for (j, (text, v)) in cells.iter().enumerate() {
                        let at = (row, 3 + (3 * i + j) as u16);
                        formula(sheet, at, text, penny(*v), &s.money)?;
                    }
                }
                row += 1;
            }
        }
        sheet.set_column_width(0, 30)?;
        sheet.set_column_width(2, 26)?;
        for col in 3..columns.len() as u16 {
            sheet.set_column_width(col, 16)?;
        }
        Ok(())
    }

    /// The range of column `id` over comparison `sc`'s replicates.
    fn over_replicates(&self, sc: usize, id: &str) -> String {
        range(
            REPLICATES,
            self.replicates_row(sc, 0),
            self.replicates_row(sc, self.replicates - 1),
            self.replicates_col(id),
        )
    }
}

/// Rounds to the penny, as every output writes money (−0 as 0).
fn penny(v: f64) -> f64 {
    (v * 100.0).round() / 100.0 + 0.0
}

/// A formula's text for a figure that cannot follow an edit: the value as
/// run while every input is as run, else [`STALE`].
fn as_run(value: f64) -> String {
    if value.is_finite() {
        format!("=IF({AS_RUN},{value},\"{STALE}\")")
    } else {
        format!("=IF({AS_RUN},\"\",\"{STALE}\")")
    }
}

impl Model<'_> {
    /// The Summary: each comparison's figures over its replicates, by
    /// formula from the Replicates; payback (monthly, so simulated) as run.
    pub fn summary(
        &self,
        sheet: &mut Worksheet,
        columns: &[&str],
        s: &Styles,
    ) -> Result<(), XlsxError> {
        headers(sheet, columns, s)?;
        for (i, a) in self.economics.appraisals.iter().enumerate() {
            let sc = i + 1;
            let row = sc as u32;
            let over = |id: &str| self.over_replicates(sc, id);
            sheet.write_string(row, 0, &a.scenario)?;
            sheet.write_string(row, 1, &a.against)?;
            let npv = over("npv");
            let pb = |m: Option<u32>| m.map_or(f64::NAN, |m| m as f64);
            // Money to the penny, crisis-months whole, QALYs to a tenth, as
            // every other output rounds them.
            let round = |inner: String, d: i32| format!("ROUND({inner},{d})");
            let penny = |inner: String| round(inner, 2);
            let mean = |id: &str| format!("AVERAGE({})", over(id));
            let maybe = |id: &str| format!("=IFERROR({},\"\")", penny(mean(id)));
            let rounded = |v: f64, d: i32| {
                let scale = 10f64.powi(d);
                (v * scale).round() / scale + 0.0
            };
            let m = |v: f64| rounded(v, 2);
            let percentile = |q: f64| format!("={}", penny(format!("PERCENTILE({npv},{q})")));
            let money = |id: &str, v: f64| (format!("={}", penny(mean(id))), m(v), &s.money);
            let ratio = |id: &str, v: f64| {
                let text = format!("=IFERROR(AVERAGE({}),\"\")", over(id));
                (text, v, &s.number)
            };
            let month = |v: Option<u32>| {
                let v = pb(v);
                (as_run(v), v, &s.number)
            };
            let d = &a.payback_month_discounted;
            let cells: Vec<(String, f64, &Format)> = vec![
                (percentile(0.5), m(a.npv.p50), &s.money),
                (
                    format!("=COUNTIF({npv},\">0\")/COUNT({npv})"),
                    a.probability_npv_positive,
                    &s.share,
                ),
                money("npv", a.npv.mean),
                (percentile(0.05), m(a.npv.p5), &s.money),
                (percentile(0.95), m(a.npv.p95), &s.money),
                money(
                    "npv_without_optimism_bias",
                    a.npv_without_optimism_bias.mean,
                ),
                money("npv_cashable", a.npv_cashable.mean),
                money("pv_investment", a.pv_investment.mean),
                money("pv_savings", a.pv_savings.mean),
                ratio("roi", a.roi.mean),
                ratio("benefit_cost_ratio", a.benefit_cost_ratio.mean),
                month(d.p50),
                month(d.p5),
                month(d.p95),
                (as_run(d.within_horizon), d.within_horizon, &s.share),
                month(a.payback_month_undiscounted.p50),
                (
                    format!("={}", round(mean("crisis_months_avoided"), 0)),
                    rounded(a.crisis_months_avoided.mean, 0),
                    &s.number,
                ),
                (
                    format!("={}", round(mean("qalys_gained"), 1)),
                    rounded(a.qalys_gained.mean, 1),
                    &s.number,
                ),
                (
                    maybe("net_cost_per_crisis_month_avoided"),
                    m(a.net_cost_per_crisis_month_avoided.mean),
                    &s.money,
                ),
                (
                    maybe("net_cost_per_qaly_gained"),
                    m(a.net_cost_per_qaly_gained.mean),
                    &s.money,
                ),
            ];
            for (k, (text, value, format)) in cells.iter().enumerate() {
                formula(sheet, (row, 2 + k as u16), text, *value, format)?;
            }
        }
        sheet.set_column_width(0, 36)?;
        sheet.set_column_width(1, 24)?;
        for col in 2..columns.len() as u16 {
            sheet.set_column_width(col, 18)?;
        }
        Ok(())
    }

    /// The Money bridge: each step's mean and band over the replicates, by
    /// formula from the Replicates.
    pub fn bridge(
        &self,
        sheet: &mut Worksheet,
        columns: &[&str],
        s: &Styles,
    ) -> Result<(), XlsxError> {
        headers(sheet, columns, s)?;
        let mut row = 1u32;
        for (i, a) in self.economics.appraisals.iter().enumerate() {
            let sc = i + 1;
            let b = &a.bridge;
            for (chain, steps) in [
                ("Net present value", &b.appraisal),
                ("Revenue budget impact", &b.budget),
            ] {
                for step in steps {
                    sheet.write_string(row, 0, &a.scenario)?;
                    sheet.write_string(row, 1, chain)?;
                    sheet.write_string(row, 2, &step.name)?;
                    sheet.write_string(row, 3, if step.total { "total" } else { "step" })?;
                    let over = self.over_replicates(sc, &step.id);
                    formula(
                        sheet,
                        (row, 4),
                        &format!("=AVERAGE({over})"),
                        step.amount.mean,
                        &s.money,
                    )?;
                    formula(
                        sheet,
                        (row, 5),
                        &format!("=PERCENTILE({over},0.05)"),
                        step.amount.p5,
                        &s.money,
                    )?;
                    formula(
                        sheet,
                        (row, 6),
                        &format!("=PERCENTILE({over},0.95)"),
                        step.amount.p95,
                        &s.money,
                    )?;
                    if let (Some(why), "npv") = (&b.sign_change, step.id.as_str()) {
                        let text = format!(
                            "=IF({AS_RUN},\"{}\",\"Run again to explain the change of sign\")",
                            why.replace('"', "\"\"")
                        );
                        sheet.write_formula(row, 7, Formula::new(text).set_result(why))?;
                    }
                    row += 1;
                }
            }
        }
        sheet.set_column_width(0, 36)?;
        sheet.set_column_width(2, 44)?;
        for col in 4..7 {
            sheet.set_column_width(col, 18)?;
        }
        Ok(())
    }

    /// Where the Money bridge has step `id` of comparison `sc`.
    fn bridge_row(&self, sc: usize, id: &str) -> u32 {
        let mut row = 1u32;
        for a in &self.economics.appraisals[..sc - 1] {
            row += (a.bridge.appraisal.len() + a.bridge.budget.len()) as u32;
        }
        let a = &self.economics.appraisals[sc - 1];
        row + a
            .bridge
            .appraisal
            .iter()
            .chain(&a.bridge.budget)
            .position(|st| st.id == id)
            .unwrap_or(0) as u32
    }

    /// Comparison `sc`'s checks: each its name, formula and meaning.
    fn scenario_checks(
        &self,
        sc: usize,
        mtfs: &[super::finance::MtfsCells],
    ) -> Vec<(String, String, &'static str)> {
        let mut out = Vec::new();
        let name = self.names[sc];
        let over = |id: &str| self.over_replicates(sc, id);
        out.push((
            format!("{name}: the bridge adds up to the net present value"),
            format!(
                "=ABS(SUM({})+SUM({})-SUM({}))<0.01",
                over("net_saving_after_optimism_bias"),
                over("discounting"),
                over("npv")
            ),
            "Net saving after optimism bias, plus discounting, is the net present value, replicate by replicate",
        ));
        out.push((
            format!("{name}: the Summary's net present value is the Money bridge's"),
            format!(
                "=ABS('Summary'!{}-'Money bridge'!{})<0.005",
                row_col_to_cell(sc as u32, 4),
                row_col_to_cell(self.bridge_row(sc, "npv"), 4)
            ),
            "One number, one meaning: the mean net present value",
        ));
        let a = &self.economics.appraisals[sc - 1];
        let npv = (a.npv.mean * 100.0).round() / 100.0;
        out.push((
            format!(
                "{name}: at the inputs as run, the model gives the run's net present value"
            ),
            format!(
                "=OR(NOT({AS_RUN}),ABS('Summary'!{}-({npv}))<0.005)",
                row_col_to_cell(sc as u32, 4)
            ),
            "The formulas reproduce the run: its mean net present value, as economics.json holds it",
        ));
        let impact = (a.bridge.revenue_budget_impact().mean * 100.0).round() / 100.0;
        out.push((
            format!(
                "{name}: at the inputs as run, the model gives the run's revenue budget impact"
            ),
            format!(
                "=OR(NOT({AS_RUN}),ABS('Money bridge'!{}-({impact}))<0.005)",
                row_col_to_cell(self.bridge_row(sc, "revenue_budget_impact"), 4)
            ),
            "The formulas reproduce the run: its revenue budget impact, cash, all payers, as economics.json holds it",
        ));
        if let Some(m) = mtfs.iter().find(|m| m.scenario == name) {
            out.push((
                format!("{name}: the MTFS view adds up to the revenue budget impact"),
                format!(
                    "=ABS('{}'!{}-'Money bridge'!{})<0.01",
                    super::workbook::MTFS_VIEW,
                    row_col_to_cell(m.all_payers.0, m.all_payers.1),
                    row_col_to_cell(self.bridge_row(sc, "revenue_budget_impact"), 4)
                ),
                "Every payer's revenue saving over the horizon, line by line from the MTFS view, is the Money bridge's revenue budget impact",
            ));
            let rows = self.economics.budget.len() as u32;
            let column = |col: u16| range(super::workbook::BUDGET_BY_YEAR, 1, rows.max(1), col);
            let totals = (self.economics.budget.iter())
                .filter(|r| r.scenario == name && r.line == TOTAL_REVENUE)
                .count();
            out.push((
                format!("{name}: Budget by year's revenue totals add up to the MTFS view's"),
                format!(
                    "=ABS(SUMPRODUCT(({}=\"{}\")*({}=\"{TOTAL_REVENUE}\")*{})-'{}'!{})<{}",
                    column(0),
                    name.replace('"', "\"\""),
                    column(4),
                    column(9),
                    super::workbook::MTFS_VIEW,
                    row_col_to_cell(m.all_payers.0, m.all_payers.1),
                    // Each row is rounded to the penny.
                    0.005 * (totals + 1) as f64
                ),
                "Every payer's revenue saving, financial year by financial year from Budget by year (each replicate's budget lines), adds up to the MTFS view's all payers",
            ));
        }
        let nets: Vec<String> = (0..Payer::ALL.len())
            .map(|p| {
                range(
                    REPLICATES,
                    self.replicates_row(sc, 0),
                    self.replicates_row(sc, self.replicates - 1),
                    self.payer_col(p, 2),
                )
            })
            .collect();
        out.push((
            format!("{name}: the payers' net positions add up to the net present value"),
            format!("=ABS(SUM({})-SUM({}))<0.01", nets.join(","), over("npv")),
            "Who pays and who saves: every payer's net, replicate by replicate, is part of the net present value",
        ));
        out.push((
            format!("{name}: the revenue budget impact adds up"),
            format!(
                "=ABS(SUM({})+SUM({})+SUM({})-SUM({}))<0.01",
                over("net_revenue_saving"),
                over("financing"),
                over("inflation"),
                over("revenue_budget_impact")
            ),
            "Net revenue saving, less financing, plus inflation to cash, is the revenue budget impact",
        ));
        out
    }

    /// The Checks sheet: whether every input is as run (the figures that
    /// need a run say so when not), and the model's sums, each TRUE.
    pub fn checks(
        &self,
        sheet: &mut Worksheet,
        mtfs: &[super::finance::MtfsCells],
        s: &Styles,
    ) -> Result<(), XlsxError> {
        sheet.set_name(CHECKS)?;
        headers(sheet, &["Check", "Result", "What it means"], s)?;
        let changed = range(INPUTS, 1, self.live_inputs_end.max(1), 7);
        sheet.write_string(1, 0, "Every input as run")?;
        sheet.write_formula(
            1,
            1,
            Formula::new(format!("=COUNTIF({changed},TRUE)=0")).set_result("TRUE"),
        )?;
        sheet.write_string(1, 2, "FALSE once an input is changed: the model's figures follow it; the figures that need a run (payback months) then say so")?;
        let mut row = 2u32;
        let mut check = |sheet: &mut Worksheet,
                         name: String,
                         text: String,
                         means: &str|
         -> Result<(), XlsxError> {
            sheet.write_string(row, 0, name)?;
            sheet.write_formula(row, 1, Formula::new(text).set_result("TRUE"))?;
            sheet.write_string(row, 2, means)?;
            row += 1;
            Ok(())
        };
        let sum = |sheet: &str, first: u32, last: u32, col: u16| {
            format!("SUM({})", range(sheet, first, last, col))
        };
        let comparisons = self.configs.len().saturating_sub(1);
        if comparisons > 0 && self.replicates > 0 {
            let (wf, wl) = (
                self.workings_row(1, 0, 0),
                self.workings_row(comparisons, self.replicates - 1, self.periods() - 1),
            );
            let (rf, rl) = (
                self.replicates_row(1, 0),
                self.replicates_row(comparisons, self.replicates - 1),
            );
            for (w, id, sign) in [
                (at::AVOIDED, "reactive_cost_avoided", ""),
                (at::PREVENTION, "extra_prevention_spend", "-"),
                (at::FINANCING, "financing", "-"),
            ] {
                check(
                    sheet,
                    format!("Workings add up to the Replicates: {}", PERIOD_COLUMNS[w]),
                    format!(
                        "=ABS({sign}{}-{})<0.01",
                        sum(WORKINGS, wf, wl, self.workings_col(w)),
                        sum(REPLICATES, rf, rl, self.replicates_col(id))
                    ),
                    "Every period's money is in its replicate's figures",
                )?;
            }
            if !self.ledger.capital_lines.is_empty() {
                let schemes = format!(
                    "'{REPLICATES}'!{}:{}",
                    row_col_to_cell(rf, self.scheme_col(0)),
                    row_col_to_cell(rl, self.scheme_col(self.ledger.capital_lines.len() - 1))
                );
                check(
                    sheet,
                    "Capital schemes' value left adds up to the Replicates'".into(),
                    format!(
                        "=ABS(SUM({schemes})-{})<0.01",
                        sum(REPLICATES, rf, rl, self.replicates_col("residual_value"))
                    ),
                    "Each scheme's value left at the horizon (Capital and financing) is part of the bridge's",
                )?;
            }
            for sc in 1..=comparisons {
                for (name, text, means) in self.scenario_checks(sc, mtfs) {
                    check(sheet, name, text, means)?;
                }
            }
        }
        let all = range(CHECKS, 2, row.max(3) - 1, 1);
        sheet.write_string(row, 0, "Every check above TRUE")?;
        sheet.write_formula(
            row,
            1,
            Formula::new(format!("=AND({all})")).set_result("TRUE"),
        )?;
        sheet.set_column_width(0, 70)?;
        sheet.set_column_width(1, 10)?;
        sheet.set_column_width(2, 90)?;
        Ok(())
    }
}

/// Where a budget line's money is in the model: a ledger line's on Costs,
/// or a capital line's financing on Financing.
#[derive(Clone, Copy)]
enum BudgetSource {
    Line(usize),
    Financing(usize),
    Principal(usize),
}

impl Model<'_> {
    /// The Financing sheet's first column of capital line `j`: its cash
    /// charge, then its cash principal, then the charges and the principal
    /// of each purchase period.
    fn financing_col(&self, j: usize) -> u16 {
        4 + (j * 2 * (1 + self.periods())) as u16
    }

    /// The Financing sheet: each scenario's own financing charges (MRP and
    /// interest) by replicate and period, per capital scheme; the charges
    /// and the principal of each period's purchases at the price base are
    /// simulated (grey), their cash sums are formulas over the purchase
    /// years' cash indices.
    pub fn financing(&self, sheet: &mut Worksheet, s: &Styles) -> Result<(), XlsxError> {
        sheet.set_name(FINANCING)?;
        let c = &self.economics.conventions;
        let mut heads: Vec<String> = ["Scenario", "Replicate", "Financial year", "Appraisal year"]
            .iter()
            .map(|h| h.to_string())
            .collect();
        for &k in &self.ledger.capital_lines {
            let name = self.ledger.lines[k]
                .line
                .name
                .trim_end_matches(" (capital)");
            heads.push(format!("{name}: financing charge (£ cash)"));
            heads.push(format!("{name}: of which principal or MRP (£ cash)"));
            for part in ["charge", "principal"] {
                for period in &self.ledger.periods {
                    heads.push(format!(
                        "{name}: {part} in this period on purchases in {} (£ price base, simulated)",
                        c.fy_label(period.financial_year)
                    ));
                }
            }
        }
        let names: Vec<&str> = heads.iter().map(String::as_str).collect();
        headers(sheet, &names, s)?;
        let prices = self.ledger.prices(c);
        let n = self.periods() as u16;
        for sc in 0..self.configs.len() {
            for r in 0..self.replicates {
                for p in 0..self.periods() {
                    let row = self.activity_row(sc, r, p);
                    self.lead(sheet, row, sc, r, p)?;
                    for (j, &k) in self.ledger.capital_lines.iter().enumerate() {
                        let col = self.financing_col(j);
                        let charges = &self.ledger.own_financing[sc][r][p][j];
                        let index_row = self.index_row(k);
                        type Part = fn(&crate::economics::Repayment) -> f64;
                        let parts: [Part; 2] = [ledger::charge, |x| x.principal];
                        for (i, of) in parts.into_iter().enumerate() {
                            let first = col + 2 + i as u16 * n;
                            for (q, v) in charges.iter().enumerate() {
                                sheet.write_number_with_format(
                                    row,
                                    first + q as u16,
                                    of(v),
                                    &s.data_money,
                                )?;
                            }
                            let text = format!(
                                "=SUMPRODUCT('{INDICES}'!{}:{},{}:{})",
                                row_col_to_cell_absolute(index_row, self.cash_col(0)),
                                row_col_to_cell_absolute(index_row, self.cash_col(n as usize - 1)),
                                row_col_to_cell(row, first),
                                row_col_to_cell(row, first + n - 1),
                            );
                            let cash = charges
                                .iter()
                                .zip(&prices.cash[k])
                                .map(|(f, x)| of(f) * x)
                                .sum();
                            formula(sheet, (row, col + i as u16), &text, cash, &s.money)?;
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// The scenario index of a scenario's name.
    pub fn scenario_index(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| *n == name)
    }

    /// Where the money of budget line `line` of `payer` is: its ledger
    /// lines (a capital line's purchases or a revenue line) or the
    /// financing of its capital lines.
    fn budget_sources(&self, payer: Payer, line: &str, capital: bool) -> Vec<BudgetSource> {
        let lines = &self.ledger.lines;
        if !capital && let Some(scheme) = line.strip_suffix(" (financing)") {
            return self
                .ledger
                .capital_lines
                .iter()
                .enumerate()
                .filter(|(_, k)| {
                    let l = &lines[**k].line;
                    l.payer == payer && l.name.trim_end_matches(" (capital)") == scheme
                })
                .map(|(j, _)| BudgetSource::Financing(j))
                .collect();
        }
        (0..lines.len())
            .filter(|&k| {
                let l = &lines[k].line;
                l.payer == payer && l.name == line && (l.kind == LineKind::Capital) == capital
            })
            .map(BudgetSource::Line)
            .collect()
    }

    /// A formula for the money of `source` in scenario `sc`, financial year
    /// `fy`, cash, summed over replicates (signed as the budget is: money
    /// received from another payer is below zero).
    fn budget_sum(&self, source: BudgetSource, sc: usize, fy: &str) -> String {
        let (first, last) = (
            self.activity_row(sc, 0, 0),
            self.activity_row(sc, self.replicates - 1, self.periods() - 1),
        );
        let sum = |sheet: &str, col: u16| {
            format!(
                "SUMPRODUCT(('{sheet}'!{}:{}=\"{fy}\")*'{sheet}'!{}:{})",
                row_col_to_cell_absolute(first, 2),
                row_col_to_cell_absolute(last, 2),
                row_col_to_cell_absolute(first, col),
                row_col_to_cell_absolute(last, col),
            )
        };
        match source {
            BudgetSource::Line(k) => {
                let c = &self.economics.conventions;
                let p = self
                    .ledger
                    .periods
                    .iter()
                    .position(|p| c.fy_label(p.financial_year) == fy)
                    .unwrap_or(0);
                let cash = at_cell(INDICES, self.index_row(k), self.cash_col(p));
                let sign = if self.ledger.lines[k].line.sign < 0.0 {
                    "-"
                } else {
                    ""
                };
                format!("{sign}{cash}*{}", sum(COSTS, self.costs_col(k)))
            }
            BudgetSource::Financing(j) => sum(FINANCING, self.financing_col(j)),
            BudgetSource::Principal(j) => sum(FINANCING, self.financing_col(j) + 1),
        }
    }

    /// The formula of an MTFS cell: the saving on budget line `line` of
    /// `payer` in financial year `fy`, scenario `sc` against the baseline,
    /// cash, mean over replicates (+ a saving). None where the model has no
    /// such line or no replicate.
    pub fn budget_saving(
        &self,
        sc: usize,
        payer: Payer,
        line: &str,
        capital: bool,
        fy: &str,
    ) -> Option<String> {
        let sources = self.budget_sources(payer, line, capital);
        if sources.is_empty() || self.replicates == 0 || self.periods() == 0 {
            return None;
        }
        let side = |t: usize| -> Vec<String> {
            sources.iter().map(|&x| self.budget_sum(x, t, fy)).collect()
        };
        Some(format!(
            "=(({})-({}))/{}",
            side(0).join("+"),
            side(sc).join("+"),
            self.replicates
        ))
    }

    /// The formula of scenario `sc`'s revenue spend on `payer`'s budget
    /// lines `lines` in financial year `fy`, cash, mean over replicates.
    /// None where a line is not in the model.
    pub fn budget_spend(
        &self,
        sc: usize,
        payer: Payer,
        lines: &[&str],
        fy: &str,
    ) -> Option<String> {
        if self.replicates == 0 || self.periods() == 0 {
            return None;
        }
        let mut terms = Vec::new();
        for line in lines {
            let sources = self.budget_sources(payer, line, false);
            if sources.is_empty() {
                return None;
            }
            terms.extend(sources.iter().map(|&x| self.budget_sum(x, sc, fy)));
        }
        if terms.is_empty() {
            return Some("=0".into());
        }
        Some(format!("=({})/{}", terms.join("+"), self.replicates))
    }
}
