//! The CSV toolkit every published CSV is written with: cells that keep
//! numbers as numbers and text safe from a spreadsheet's formulas, money to
//! the penny, and the figure columns experiments share.

use crate::metrics::Band;
use crate::published::csv_text;

/// A cell of a CSV file. Every CSV file is written through [`csv_bytes`],
/// which neutralises text a spreadsheet would run as a formula
/// ([`csv_text`]); a number, negative ones included, is written as it is.
pub(crate) enum Cell {
    Text(String),
    Number(String),
}

pub(crate) fn text(s: impl Into<String>) -> Cell {
    Cell::Text(s.into())
}

pub(crate) fn number(v: f64) -> Cell {
    Cell::Number(exact(v))
}

/// A sum of money, to the penny, as the workbook and a ledger hold it: a
/// mean of pounds carries floating-point noise (3667152.5499999993) that
/// is no part of the figure.
pub(crate) fn pounds(v: f64) -> Cell {
    number(to_the_penny(v))
}

/// `v` rounded to the penny, as every output writes money.
pub fn to_the_penny(v: f64) -> f64 {
    if v.is_finite() {
        (v * 100.0).round() / 100.0 + 0.0
    } else {
        v
    }
}

pub(crate) fn whole(v: impl Into<u64>) -> Cell {
    Cell::Number(v.into().to_string())
}

pub(crate) fn csv_bytes(header: &[&str], rows: impl Iterator<Item = Vec<Cell>>) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(header).expect("writing to memory");
    for r in rows {
        for c in &r {
            let field = match c {
                Cell::Text(t) => csv_text(t),
                Cell::Number(n) => n.as_str().into(),
            };
            w.write_field(field.as_bytes()).expect("writing to memory");
        }
        w.write_record(None::<&[u8]>).expect("writing to memory");
    }
    w.into_inner().expect("writing to memory")
}

impl Cell {
    /// A number stays a number; a list is text.
    pub(crate) fn if_number(self) -> Cell {
        match self {
            Cell::Number(t) if t.parse::<f64>().is_err() => Cell::Text(t),
            other => other,
        }
    }
}

/// Numbers as the shortest text that reads back to the same value.
pub(crate) fn exact(v: f64) -> String {
    if v == 0.0 { "0".into() } else { format!("{v}") }
}

pub(crate) fn band_cells(b: &Band) -> [Cell; 4] {
    [number(b.mean), number(b.p5), number(b.p50), number(b.p95)]
}

pub(crate) fn pounds_cells(b: &Band) -> [Cell; 4] {
    [pounds(b.mean), pounds(b.p5), pounds(b.p50), pounds(b.p95)]
}

/// The columns [`npv_and_crisis_months`] fills.
pub(crate) const NPV_AND_CRISIS_MONTHS: [&str; 6] = [
    "npv_gbp_mean",
    "npv_gbp_p5",
    "npv_gbp_p95",
    "crisis_months_avoided_mean",
    "crisis_months_avoided_p5",
    "crisis_months_avoided_p95",
];

/// Net present value and crisis-months avoided, each as mean, 5th and
/// 95th percentile: the columns every experiment's file opens its figures
/// with.
pub(crate) fn npv_and_crisis_months(npv: &Band, crisis: &Band) -> [Cell; 6] {
    [
        pounds(npv.mean),
        pounds(npv.p5),
        pounds(npv.p95),
        number(crisis.mean),
        number(crisis.p5),
        number(crisis.p95),
    ]
}
