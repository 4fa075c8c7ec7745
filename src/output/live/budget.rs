//! Budget by year by formula: each budget line's money in every scenario,
//! financial year and replicate (the Budget by replicate sheet, from Costs,
//! Financing and Indices), and Budget by year's means and bands over the
//! replicates, so that both follow the Inputs.

use rust_xlsxwriter::utility::row_col_to_cell;
use rust_xlsxwriter::{Formula, Worksheet, XlsxError};

use super::{
    BudgetSource, COSTS, FINANCING, INDICES, Model, Styles, as_run, at_cell, formula, headers,
    penny, range,
};
use crate::economics::budget::{Account, BudgetRow, TOTAL_REVENUE};
use crate::economics::ledger;
use crate::model::Payer;
use crate::output::finance::MtfsCells;
use crate::output::workbook::MTFS_VIEW;

/// The sheet of each budget line's money by scenario, financial year and
/// replicate.
pub const BUDGET_BY_REPLICATE: &str = "Budget by replicate";

/// A cell: row and column.
type Cell = (u32, u16);

/// Columns of Budget by replicate before the budget lines.
const LEAD: u16 = 3;

/// One column of Budget by replicate: a payer's budget line, or its
/// revenue total.
struct Column {
    payer: Payer,
    account: Account,
    line: String,
    /// Where its money is in the model; empty for a total (the payer's
    /// revenue lines added up) or a line the model does not hold.
    sources: Vec<BudgetSource>,
}

impl Column {
    fn total(&self) -> bool {
        self.line == TOTAL_REVENUE
    }
}

/// A formula adding up `terms` (0 for none).
fn sum_of(terms: &[String]) -> String {
    if terms.is_empty() {
        "=0".into()
    } else {
        format!("={}", terms.join("+"))
    }
}

impl Model<'_> {
    /// The budget's columns: every (payer, account, line) of `budget.csv`,
    /// payer by payer, each payer's lines in the order the budget has them
    /// and its revenue total last.
    fn budget_columns(&self) -> Vec<Column> {
        let mut out: Vec<Column> = Vec::new();
        for r in &self.economics.budget {
            let known = out
                .iter()
                .any(|c| c.payer == r.payer && c.account == r.account && c.line == r.line);
            if known {
                continue;
            }
            let sources = if r.line == TOTAL_REVENUE {
                Vec::new()
            } else {
                self.budget_sources(r.payer, &r.line, r.account == Account::Capital)
            };
            out.push(Column {
                payer: r.payer,
                account: r.account,
                line: r.line.clone(),
                sources,
            });
        }
        // Stable: each payer's lines keep the budget's order, the total last.
        out.sort_by_key(|c| (c.payer as usize, c.total()));
        out
    }

    /// The horizon's financial years, each with its periods.
    fn budget_years(&self) -> Vec<(String, Vec<usize>)> {
        let c = &self.economics.conventions;
        let mut out: Vec<(String, Vec<usize>)> = Vec::new();
        for (p, period) in self.ledger.periods.iter().enumerate() {
            let label = c.fy_label(period.financial_year);
            match out.last_mut() {
                Some((l, ps)) if *l == label => ps.push(p),
                _ => out.push((label, vec![p])),
            }
        }
        out
    }

    /// Budget by replicate's row of scenario `s`, financial year `f` (its
    /// index) and replicate `r`: a year's replicates are consecutive.
    fn budget_row(&self, years: usize, (s, f, r): (usize, usize, usize)) -> u32 {
        1 + ((s * years + f) * self.replicates + r) as u32
    }

    /// A budget source's money in scenario `s`, replicate `r` and the
    /// periods `periods` (one financial year), cash: its formula and value.
    /// `costs` holds each of those periods' lines at the price base.
    fn source_cash(
        &self,
        source: BudgetSource,
        (s, r): (usize, usize),
        (periods, costs): (&[usize], &[Vec<f64>]),
        prices: &ledger::Prices,
    ) -> (String, f64) {
        match source {
            BudgetSource::Line(k) => {
                let line = &self.ledger.lines[k].line;
                let sign = if line.sign < 0.0 { "-" } else { "" };
                // A financial year's periods share its prices.
                let cash = at_cell(INDICES, self.index_row(k), self.cash_col(periods[0]));
                let cells: Vec<String> = periods
                    .iter()
                    .map(|&p| at_cell(COSTS, self.activity_row(s, r, p), self.costs_col(k)))
                    .collect();
                let value = periods
                    .iter()
                    .zip(costs)
                    .map(|(&p, c)| line.sign * c[k] * prices.cash[k][p])
                    .sum();
                (format!("{sign}{cash}*({})", cells.join("+")), value)
            }
            BudgetSource::Financing(j) | BudgetSource::Principal(j) => {
                let k = self.ledger.capital_lines[j];
                let principal = matches!(source, BudgetSource::Principal(_));
                let col = self.financing_col(j) + u16::from(principal);
                let cells: Vec<String> = periods
                    .iter()
                    .map(|&p| at_cell(FINANCING, self.activity_row(s, r, p), col))
                    .collect();
                let part = |f: &crate::economics::Repayment| {
                    if principal {
                        f.principal
                    } else {
                        ledger::charge(f)
                    }
                };
                // Each purchase period's charges at its own prices.
                let value = periods
                    .iter()
                    .map(|&p| {
                        (self.ledger.own_financing[s][r][p][j].iter())
                            .zip(&prices.cash[k])
                            .map(|(f, c)| part(f) * c)
                            .sum::<f64>()
                    })
                    .sum();
                (cells.join("+"), value)
            }
        }
    }

    /// The Budget by replicate sheet: every scenario's budget lines by
    /// financial year and replicate, cash, by formula; each payer's revenue
    /// total the sum of its revenue lines.
    pub fn budget_by_replicate(&self, sheet: &mut Worksheet, s: &Styles) -> Result<(), XlsxError> {
        sheet.set_name(BUDGET_BY_REPLICATE)?;
        let columns = self.budget_columns();
        let heads: Vec<String> = columns
            .iter()
            .map(|c| {
                format!(
                    "{}: {} ({}, £ nominal)",
                    c.payer.label(),
                    c.line,
                    c.account.name()
                )
            })
            .collect();
        let mut names = vec!["Scenario", "Financial year", "Replicate"];
        names.extend(heads.iter().map(String::as_str));
        headers(sheet, &names, s)?;
        let prices = self.ledger.prices(&self.economics.conventions);
        let years = self.budget_years();
        for (sc, name) in self.names.iter().enumerate() {
            for (f, (fy, periods)) in years.iter().enumerate() {
                for r in 0..self.replicates {
                    let row = self.budget_row(years.len(), (sc, f, r));
                    sheet.write_string(row, 0, *name)?;
                    sheet.write_string(row, 1, fy)?;
                    sheet.write_number(row, 2, (r + 1) as f64)?;
                    let mut values = vec![0.0; columns.len()];
                    let costs: Vec<Vec<f64>> = periods
                        .iter()
                        .map(|&p| self.ledger.costs(&self.configs, sc, r, p))
                        .collect();
                    for (i, c) in columns.iter().enumerate() {
                        let (text, value) = if c.total() {
                            let lines: Vec<usize> = (0..columns.len())
                                .filter(|&x| {
                                    let l = &columns[x];
                                    l.payer == c.payer
                                        && l.account == Account::Revenue
                                        && !l.total()
                                })
                                .collect();
                            let cells: Vec<String> = lines
                                .iter()
                                .map(|&x| row_col_to_cell(row, LEAD + x as u16))
                                .collect();
                            let value = lines.iter().map(|&x| values[x]).sum();
                            (sum_of(&cells), value)
                        } else {
                            let parts: Vec<(String, f64)> = c
                                .sources
                                .iter()
                                .map(|&x| self.source_cash(x, (sc, r), (periods, &costs), &prices))
                                .collect();
                            let texts: Vec<String> = parts.iter().map(|p| p.0.clone()).collect();
                            let value = parts.iter().map(|p| p.1).sum();
                            (sum_of(&texts), value)
                        };
                        values[i] = value;
                        formula(sheet, (row, LEAD + i as u16), &text, value, &s.money)?;
                    }
                }
            }
        }
        sheet.set_column_width(0, 30)?;
        sheet.set_column_width(1, 12)?;
        for i in 0..columns.len() as u16 {
            sheet.set_column_width(LEAD + i, 18)?;
        }
        Ok(())
    }

    /// Budget by year: each row of `budget.csv` (scenario, financial year,
    /// payer, line), its baseline and scenario means, the scenario's band,
    /// the saving's mean and band (paired replicate by replicate), each in
    /// real terms, and on a payer's revenue total its headroom within the
    /// envelope and saving beyond the target: by formula over Budget by
    /// replicate.
    pub fn budget_by_year(
        &self,
        sheet: &mut Worksheet,
        columns: &[&str],
        mtfs: &[MtfsCells],
        s: &Styles,
    ) -> Result<(), XlsxError> {
        headers(sheet, columns, s)?;
        let lines = self.budget_columns();
        let years = self.budget_years();
        for (i, r) in self.economics.budget.iter().enumerate() {
            let row = 1 + i as u32;
            sheet.write_string(row, 0, &r.scenario)?;
            sheet.write_string(row, 1, &r.financial_year)?;
            sheet.write_string(row, 2, r.payer.label())?;
            sheet.write_string(row, 3, r.account.name())?;
            sheet.write_string(row, 4, &r.line)?;
            let col = lines
                .iter()
                .position(|c| c.payer == r.payer && c.account == r.account && c.line == r.line)
                .filter(|&c| lines[c].total() || !lines[c].sources.is_empty());
            let f = years.iter().position(|(fy, _)| *fy == r.financial_year);
            match (self.scenario_index(&r.scenario), f, col) {
                (Some(sc), Some(f), Some(col)) if self.replicates > 0 => {
                    let over = |t: usize| {
                        range(
                            BUDGET_BY_REPLICATE,
                            self.budget_row(years.len(), (t, f, 0)),
                            self.budget_row(years.len(), (t, f, self.replicates - 1)),
                            LEAD + col as u16,
                        )
                    };
                    let scenario = mtfs.iter().find(|m| m.scenario == r.scenario);
                    let key = (r.payer, r.financial_year.clone());
                    let inputs = (
                        scenario.and_then(|m| m.envelope.get(&key)).copied(),
                        scenario.and_then(|m| m.target.get(&key)).copied(),
                    );
                    self.budget_cells(sheet, (row, r), (&over(0), &over(sc)), inputs, s)?;
                }
                _ => {
                    // Not in the model: as run, flagged once an input changes.
                    for (c, v) in as_run_values(r).into_iter().enumerate() {
                        if let Some(v) = v {
                            formula(sheet, (row, 5 + c as u16), &as_run(v), v, &s.money)?;
                        }
                    }
                }
            }
        }
        let rows = self.economics.budget.len() as u32;
        sheet.autofilter(0, 0, rows, columns.len() as u16 - 1)?;
        sheet.set_column_width(0, 30)?;
        sheet.set_column_width(1, 12)?;
        sheet.set_column_width(2, 26)?;
        sheet.set_column_width(4, 40)?;
        for col in 5..columns.len() as u16 {
            sheet.set_column_width(col, 16)?;
        }
        Ok(())
    }

    /// One Budget by year row's figures from the baseline's and the
    /// scenario's ranges over the replicates (`base`, `scen`).
    fn budget_cells(
        &self,
        sheet: &mut Worksheet,
        (row, r): (u32, &BudgetRow),
        (base, scen): (&str, &str),
        (envelope, target): (Option<Cell>, Option<Cell>),
        s: &Styles,
    ) -> Result<(), XlsxError> {
        let c = &self.economics.conventions;
        let general = self
            .input("general_inflation")
            .unwrap_or_else(|| c.general_inflation.to_string());
        let years = self.budget_years();
        let fy = years
            .iter()
            .position(|(l, _)| *l == r.financial_year)
            .and_then(|f| years[f].1.first())
            .map_or(c.price_base, |&p| self.ledger.periods[p].financial_year);
        let deflator = format!("(1+{general})^{}", fy - c.price_base);
        let mean = |x: &str| format!("AVERAGE({x})");
        let saving = format!("{}-{}", mean(base), mean(scen));
        let plain = |text: String, v: f64| (format!("=ROUND({text},2)"), penny(v), false);
        // A band of a replicate-by-replicate difference: an array formula.
        let band =
            |of: &str, q: f64, v: f64| (format!("=ROUND(PERCENTILE({of},{q}),2)"), penny(v), true);
        let mut cells = vec![
            (5, plain(mean(base), r.baseline.mean)),
            (6, plain(mean(scen), r.scenario_value.mean)),
            (
                7,
                plain(format!("PERCENTILE({scen},0.05)"), r.scenario_value.p5),
            ),
            (
                8,
                plain(format!("PERCENTILE({scen},0.95)"), r.scenario_value.p95),
            ),
            (9, plain(saving.clone(), r.saving.mean)),
            (10, band(&format!("{base}-{scen}"), 0.05, r.saving.p5)),
            (11, band(&format!("{base}-{scen}"), 0.95, r.saving.p95)),
            (
                12,
                plain(
                    format!("{}/{deflator}", mean(base)),
                    r.baseline.mean / r.deflator,
                ),
            ),
            (
                13,
                plain(
                    format!("{}/{deflator}", mean(scen)),
                    r.scenario_value.mean / r.deflator,
                ),
            ),
            (
                14,
                plain(format!("({saving})/{deflator}"), r.saving.mean / r.deflator),
            ),
        ];
        // The MTFS view's envelope and target where it has them, so that
        // one typed over there holds here too.
        let mtfs_figure = |sheet: &mut Worksheet, col: u16, at: Option<Cell>, v: f64| match at {
            Some((r, c)) => {
                let text = format!("='{MTFS_VIEW}'!{}", row_col_to_cell(r, c));
                formula(sheet, (row, col), &text, v, &s.money)
            }
            None => sheet
                .write_number_with_format(row, col, v, &s.money)
                .map(|_| ()),
        };
        if let (Some(e), Some(h)) = (r.envelope, &r.headroom) {
            mtfs_figure(sheet, 15, envelope, e)?;
            let env = row_col_to_cell(row, 15);
            cells.push((16, plain(format!("{env}-{}", mean(scen)), h.mean)));
            cells.push((17, band(&format!("{env}-{scen}"), 0.05, h.p5)));
            cells.push((18, band(&format!("{env}-{scen}"), 0.95, h.p95)));
        }
        if let (Some(t), Some(b)) = (r.savings_target, &r.beyond_target) {
            mtfs_figure(sheet, 19, target, t)?;
            let target = row_col_to_cell(row, 19);
            cells.push((20, plain(format!("{saving}-{target}"), b.mean)));
            let of = format!("({base}-{scen})-{target}");
            cells.push((21, band(&of, 0.05, b.p5)));
            cells.push((22, band(&of, 0.95, b.p95)));
        }
        for (col, (text, value, array)) in cells {
            if array {
                let f = Formula::new(text).set_result(value.to_string());
                sheet.write_array_formula_with_format(row, col, row, col, f, &s.money)?;
            } else {
                formula(sheet, (row, col), &text, value, &s.money)?;
            }
        }
        Ok(())
    }
}

/// A budget row's figures as run, in Budget by year's columns from the
/// baseline's mean (None where the row has none).
fn as_run_values(r: &BudgetRow) -> Vec<Option<f64>> {
    let band = |b: &Option<crate::metrics::Band>| match b {
        Some(b) => [Some(b.mean), Some(b.p5), Some(b.p95)],
        None => [None; 3],
    };
    let mut out = vec![
        Some(r.baseline.mean),
        Some(r.scenario_value.mean),
        Some(r.scenario_value.p5),
        Some(r.scenario_value.p95),
        Some(r.saving.mean),
        Some(r.saving.p5),
        Some(r.saving.p95),
        Some(r.baseline.mean / r.deflator),
        Some(r.scenario_value.mean / r.deflator),
        Some(r.saving.mean / r.deflator),
        r.envelope,
    ];
    out.extend(band(&r.headroom));
    out.push(r.savings_target);
    out.extend(band(&r.beyond_target));
    out
}
