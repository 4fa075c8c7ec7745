//! What `upstream break_even` publishes: its CSV files, and its page and charts.

#[allow(unused_imports)]
use crate::output::cells::*;

/// Break-evens: a row per scenario and lever. A break-even outside the
/// grid is an empty cell, and the reading says which side.
pub fn break_even_csv(b: &super::BreakEvens) -> Vec<u8> {
    use super::Crossing;
    let at = |c: Crossing| match c {
        Crossing::At(v) => number(v),
        _ => Cell::Number(String::new()),
    };
    let rows = b.levers.iter().map(|l| {
        vec![
            text(l.scenario.as_str()),
            text(l.parameter.as_str()),
            number(l.none),
            number(l.stated),
            at(l.central),
            l.band.map_or(Cell::Number(String::new()), |b| at(b.0)),
            l.band.map_or(Cell::Number(String::new()), |b| at(b.1)),
            number(l.grid[l.grid.len() - 1]),
            pounds(l.npv[0]),
            text(l.reading().as_str()),
        ]
    });
    csv_bytes(
        &[
            "scenario",
            "parameter",
            "value_with_no_effect",
            "value_stated",
            "break_even",
            "break_even_p5",
            "break_even_p95",
            "grid_end",
            "npv_gbp_with_no_effect",
            "reading",
        ],
        rows,
    )
}
