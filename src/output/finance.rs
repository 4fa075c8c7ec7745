//! The workbook's MTFS view: each payer's budget lines by financial year,
//! each line by formula from the finance model (`live`), with totals and
//! gaps by formula. Each formula carries the value Upstream computed
//! (`budget.csv`'s mean), so a reader that does not recalculate shows the
//! same figures; change an input and the view recalculates.

use std::collections::BTreeMap;

use rust_xlsxwriter::utility::row_col_to_cell;
use rust_xlsxwriter::{Format, Worksheet, XlsxError};

use super::live::{Model, formula};

use crate::economics::Economics;
use crate::economics::budget::{Account, BudgetRow, TOTAL_REVENUE};
use crate::model::Payer;

/// The MTFS view's columns before the financial years.
pub const MTFS_LEAD: [&str; 4] = ["Scenario", "Payer", "Account", "Budget line"];

/// The MTFS view's last column.
pub const MTFS_TOTAL: &str = "Over the horizon";

/// MTFS rows (in the Budget line column) that the sheet computes.
pub const CHANGE_ROW: &str = "Revenue saving (+ a saving, − more spending)";
/// The scenario's revenue budget, against an envelope.
pub const SCENARIO_ROW: &str = "Revenue budget in the scenario";
/// A payer's envelope.
pub const ENVELOPE_ROW: &str = "Envelope";
/// The envelope less the scenario's spend.
pub const HEADROOM_ROW: &str = "Headroom within the envelope (− over it)";
/// A payer's savings target.
pub const TARGET_ROW: &str = "Savings target";
/// The saving made less the target.
pub const BEYOND_TARGET_ROW: &str = "Saving beyond the target (− short of it)";
/// The Payer column of the row adding up every payer.
pub const ALL_PAYERS: &str = "All payers";
/// The Payer column of the row adding up the council's payers (adult
/// social care, children's services, housing).
pub const GENERAL_FUND: &str = "Council (General Fund)";

/// The styles the live sheets use.
pub struct Styles<'a> {
    /// Column headers.
    pub header: &'a Format,
    /// Money.
    pub money: &'a Format,
    /// A rate, as a percentage.
    pub rate: &'a Format,
    /// A discount factor.
    pub factor: &'a Format,
    /// A whole number.
    pub whole: &'a Format,
}

fn cell(row: u32, col: u16) -> String {
    row_col_to_cell(row, col)
}

fn headers(sheet: &mut Worksheet, names: &[&str], s: &Styles) -> Result<(), XlsxError> {
    for (c, h) in names.iter().enumerate() {
        sheet.write_string_with_format(0, c as u16, *h, s.header)?;
    }
    sheet.set_freeze_panes(1, 0)?;
    Ok(())
}

/// The medium-term financial strategy view: per scenario, each payer's
/// budget lines (the saving on each, baseline less scenario, nominal £,
/// mean) with financial years across; each payer's revenue saving, its
/// headroom within its envelope and its saving beyond its target by
/// formula; and every payer's saving added up. Signs as everywhere: +
/// saves money or leaves it to spare.
pub fn mtfs_view(
    sheet: &mut Worksheet,
    e: &Economics,
    model: &Model,
    s: &Styles,
) -> Result<Vec<MtfsCells>, XlsxError> {
    let mut fys: Vec<&str> = Vec::new();
    for r in &e.budget {
        if !fys.contains(&r.financial_year.as_str()) {
            fys.push(&r.financial_year);
        }
    }
    let mut names: Vec<&str> = MTFS_LEAD.to_vec();
    names.extend(&fys);
    names.push(MTFS_TOTAL);
    headers(sheet, &names, s)?;
    let lead = MTFS_LEAD.len() as u16;
    let mut row = 1u32;
    let mut out = Vec::new();
    for a in &e.appraisals {
        let view = MtfsScenario {
            scenario: &a.scenario,
            model,
            sc: model.scenario_index(&a.scenario),
            fys: &fys,
            lead,
            at: e
                .budget
                .iter()
                .filter(|r| r.scenario == a.scenario)
                .map(|r| ((r.financial_year.as_str(), r.payer, r.line.as_str()), r))
                .collect(),
            s,
        };
        let mut change_cells: Vec<u32> = Vec::new();
        let mut all = vec![0.0; fys.len()];
        let mut council_cells: Vec<u32> = Vec::new();
        let mut council = vec![0.0; fys.len()];
        let mut cells = MtfsCells {
            scenario: a.scenario.clone(),
            all_payers: (0, 0),
            envelope: BTreeMap::new(),
            target: BTreeMap::new(),
        };
        for payer in Payer::ALL {
            if let Some(change) = view.payer(sheet, &mut row, payer, &e.budget)? {
                for (k, fy) in fys.iter().enumerate() {
                    let col = lead + k as u16;
                    let key = (payer, fy.to_string());
                    if let Some(r) = change.envelope_row {
                        cells.envelope.insert(key.clone(), (r, col));
                    }
                    if let Some(r) = change.target_row {
                        cells.target.insert(key, (r, col));
                    }
                }
                change_cells.push(change.row);
                for (k, v) in change.by_year.iter().enumerate() {
                    all[k] += v;
                }
                if payer.council() {
                    council_cells.push(change.row);
                    for (k, v) in change.by_year.iter().enumerate() {
                        council[k] += v;
                    }
                }
            }
        }
        view.subtotal(sheet, row, GENERAL_FUND, &council_cells, &council)?;
        view.subtotal(sheet, row + 1, ALL_PAYERS, &change_cells, &all)?;
        cells.all_payers = (row + 1, view.total_col());
        out.push(cells);
        row += 3;
    }
    sheet.set_column_width(1, 24)?;
    sheet.set_column_width(3, 48)?;
    for col in lead..=lead + fys.len() as u16 {
        sheet.set_column_width(col, 16)?;
    }
    Ok(out)
}

/// Where the MTFS view has a scenario's figures that other sheets read:
/// its revenue saving, every payer, over the horizon (Checks ties it to the
/// Money bridge), and each payer's envelope and savings target by
/// financial year (Budget by year measures its headroom and its saving
/// beyond the target against them, so a figure typed over there follows).
pub struct MtfsCells {
    /// The scenario's name.
    pub scenario: String,
    /// The All payers total: row and column.
    pub all_payers: (u32, u16),
    /// Each payer's envelope cell by financial year's label.
    pub envelope: BTreeMap<(Payer, String), (u32, u16)>,
    /// Each payer's savings target cell by financial year's label.
    pub target: BTreeMap<(Payer, String), (u32, u16)>,
}

/// One scenario's block of the MTFS view: its budget rows by financial
/// year, payer and line, and where the years' columns start.
struct MtfsScenario<'a> {
    scenario: &'a str,
    /// The finance model, whose formulas give the budget lines' money.
    model: &'a Model<'a>,
    /// The scenario's index in the model (None: its lines as run).
    sc: Option<usize>,
    fys: &'a [&'a str],
    lead: u16,
    at: BTreeMap<(&'a str, Payer, &'a str), &'a BudgetRow>,
    s: &'a Styles<'a>,
}

/// A payer's revenue saving row: where it is, and its values by year;
/// and the rows of its envelope and savings target, where it has them.
struct ChangeRow {
    row: u32,
    by_year: Vec<f64>,
    envelope_row: Option<u32>,
    target_row: Option<u32>,
}

impl MtfsScenario<'_> {
    /// The column of the horizon's total.
    fn total_col(&self) -> u16 {
        self.lead + self.fys.len() as u16
    }

    /// Writes one row: values by year (or formulas, with their values),
    /// and the horizon's total by formula.
    fn put(
        &self,
        sheet: &mut Worksheet,
        row: u32,
        payer: Payer,
        account: Account,
        line: &str,
        by_year: &[(Option<String>, f64)],
    ) -> Result<(), XlsxError> {
        sheet.write_string(row, 0, self.scenario)?;
        sheet.write_string(row, 1, payer.label())?;
        sheet.write_string(row, 2, account.name())?;
        sheet.write_string(row, 3, line)?;
        for (k, (text, v)) in by_year.iter().enumerate() {
            let col = self.lead + k as u16;
            match text {
                Some(t) => formula(sheet, (row, col), t, *v, self.s.money)?,
                None => {
                    sheet.write_number_with_format(row, col, *v, self.s.money)?;
                }
            }
        }
        let total_col = self.total_col();
        let text = format!(
            "=SUM({}:{})",
            cell(row, self.lead),
            cell(row, total_col - 1)
        );
        let sum: f64 = by_year.iter().map(|(_, v)| v).sum();
        formula(sheet, (row, total_col), &text, sum, self.s.money)
    }

    /// `pick` of the budget row for `line` in year `fy`, 0 if none.
    fn value(
        &self,
        fy: &str,
        payer: Payer,
        line: &str,
        pick: &dyn Fn(&BudgetRow) -> Option<f64>,
    ) -> f64 {
        self.at
            .get(&(fy, payer, line))
            .and_then(|r| pick(r))
            .unwrap_or(0.0)
    }

    /// The saving on a budget line in each year: by formula from the
    /// finance model, with the run's value.
    fn line_by_year(&self, payer: Payer, line: &str, capital: bool) -> Vec<(Option<String>, f64)> {
        let saving = |r: &BudgetRow| Some(r.saving.mean);
        self.fys
            .iter()
            .map(|fy| {
                let text = self
                    .sc
                    .and_then(|sc| self.model.budget_saving(sc, payer, line, capital, fy));
                (text, self.value(fy, payer, line, &saving))
            })
            .collect()
    }

    /// `pick` of the revenue total's row in each year, as plain values.
    fn totals(
        &self,
        payer: Payer,
        pick: &dyn Fn(&BudgetRow) -> Option<f64>,
    ) -> Vec<(Option<String>, f64)> {
        self.fys
            .iter()
            .map(|fy| (None, self.value(fy, payer, TOTAL_REVENUE, pick)))
            .collect()
    }

    /// Whether any year's revenue total has `pick`.
    fn has(&self, payer: Payer, pick: &dyn Fn(&BudgetRow) -> Option<f64>) -> bool {
        self.fys.iter().any(|fy| {
            self.at
                .get(&(*fy, payer, TOTAL_REVENUE))
                .and_then(|r| pick(r))
                .is_some()
        })
    }

    /// `payer`'s rows from `row` on: each revenue line, their saving by
    /// formula, the envelope's headroom and the saving beyond the target
    /// where stated, then each capital line. None if the payer has no line.
    fn payer(
        &self,
        sheet: &mut Worksheet,
        row: &mut u32,
        payer: Payer,
        budget: &[BudgetRow],
    ) -> Result<Option<ChangeRow>, XlsxError> {
        let mut lines: Vec<(&str, Account)> = Vec::new();
        for r in budget
            .iter()
            .filter(|r| r.scenario == self.scenario && r.payer == payer)
        {
            if !lines.iter().any(|(l, _)| *l == r.line) {
                lines.push((&r.line, r.account));
            }
        }
        if lines.is_empty() {
            return Ok(None);
        }
        let saving = |r: &BudgetRow| Some(r.saving.mean);
        let revenue: Vec<&str> = lines
            .iter()
            .filter(|(l, acc)| *acc == Account::Revenue && *l != TOTAL_REVENUE)
            .map(|(l, _)| *l)
            .collect();
        let first = *row;
        for line in &revenue {
            let by_year = self.line_by_year(payer, line, false);
            self.put(sheet, *row, payer, Account::Revenue, line, &by_year)?;
            *row += 1;
        }
        let change: Vec<f64> = self
            .fys
            .iter()
            .map(|fy| {
                revenue
                    .iter()
                    .map(|l| self.value(fy, payer, l, &saving))
                    .sum()
            })
            .collect();
        let by_year: Vec<_> = (0..self.fys.len() as u16)
            .map(|k| {
                let col = self.lead + k;
                let text = (!revenue.is_empty())
                    .then(|| format!("=SUM({}:{})", cell(first, col), cell(*row - 1, col)));
                (text, change[k as usize])
            })
            .collect();
        self.put(sheet, *row, payer, Account::Revenue, CHANGE_ROW, &by_year)?;
        let change_row = *row;
        *row += 1;
        let (mut envelope_row, mut target_row) = (None, None);
        if self.has(payer, &|r| r.envelope) {
            self.headroom(sheet, *row, payer, &revenue)?;
            envelope_row = Some(*row + 1);
            *row += 3;
        }
        if self.has(payer, &|r| r.savings_target) {
            self.beyond_target(sheet, *row, payer, change_row, &change)?;
            target_row = Some(*row);
            *row += 2;
        }
        for (line, _) in lines.iter().filter(|(_, acc)| *acc == Account::Capital) {
            let by_year = self.line_by_year(payer, line, true);
            self.put(sheet, *row, payer, Account::Capital, line, &by_year)?;
            *row += 1;
        }
        Ok(Some(ChangeRow {
            row: change_row,
            by_year: change,
            envelope_row,
            target_row,
        }))
    }

    /// Three rows from `row`: the scenario's revenue spend, the envelope,
    /// and the headroom (envelope less spend) by formula.
    fn headroom(
        &self,
        sheet: &mut Worksheet,
        row: u32,
        payer: Payer,
        revenue: &[&str],
    ) -> Result<(), XlsxError> {
        let scen: Vec<_> = self
            .totals(payer, &|r| Some(r.scenario_value.mean))
            .into_iter()
            .zip(self.fys)
            .map(|((_, v), fy)| {
                let text = self
                    .sc
                    .and_then(|sc| self.model.budget_spend(sc, payer, revenue, fy));
                (text, v)
            })
            .collect();
        self.put(sheet, row, payer, Account::Revenue, SCENARIO_ROW, &scen)?;
        let envelope = self.totals(payer, &|r| r.envelope);
        self.put(
            sheet,
            row + 1,
            payer,
            Account::Revenue,
            ENVELOPE_ROW,
            &envelope,
        )?;
        let headroom: Vec<_> = (0..self.fys.len())
            .map(|k| {
                let col = self.lead + k as u16;
                let text = format!("={}-{}", cell(row + 1, col), cell(row, col));
                (Some(text), envelope[k].1 - scen[k].1)
            })
            .collect();
        self.put(
            sheet,
            row + 2,
            payer,
            Account::Revenue,
            HEADROOM_ROW,
            &headroom,
        )
    }

    /// Two rows from `row`: the savings target, and the saving beyond it
    /// (the saving in `change_row` less the target) by formula.
    fn beyond_target(
        &self,
        sheet: &mut Worksheet,
        row: u32,
        payer: Payer,
        change_row: u32,
        change: &[f64],
    ) -> Result<(), XlsxError> {
        let target = self.totals(payer, &|r| r.savings_target);
        self.put(sheet, row, payer, Account::Revenue, TARGET_ROW, &target)?;
        let beyond: Vec<_> = (0..self.fys.len())
            .map(|k| {
                let col = self.lead + k as u16;
                let text = format!("={}-{}", cell(change_row, col), cell(row, col));
                (Some(text), change[k] - target[k].1)
            })
            .collect();
        self.put(
            sheet,
            row + 1,
            payer,
            Account::Revenue,
            BEYOND_TARGET_ROW,
            &beyond,
        )
    }

    /// Every payer's revenue saving added up, by formula over their rows.
    /// A row adding up the revenue saving rows `change_cells` (whose
    /// values by year are `all`), named `label` in the Payer column.
    fn subtotal(
        &self,
        sheet: &mut Worksheet,
        row: u32,
        label: &str,
        change_cells: &[u32],
        all: &[f64],
    ) -> Result<(), XlsxError> {
        sheet.write_string(row, 0, self.scenario)?;
        sheet.write_string(row, 1, label)?;
        sheet.write_string(row, 2, Account::Revenue.name())?;
        sheet.write_string(row, 3, CHANGE_ROW)?;
        let n = self.fys.len() as u16;
        for k in 0..=n {
            let col = self.lead + k;
            let parts: Vec<String> = change_cells.iter().map(|r| cell(*r, col)).collect();
            let text = if parts.is_empty() {
                "=0".to_string()
            } else {
                format!("={}", parts.join("+"))
            };
            let v = if k < n {
                all[k as usize]
            } else {
                all.iter().sum()
            };
            formula(sheet, (row, col), &text, v, self.s.money)?;
        }
        Ok(())
    }
}
