//! What `upstream sensitivity` publishes: its CSV files, and its page and charts.

#[allow(unused_imports)]
use crate::output::cells::*;

/// `upstream sensitivity`'s results: a row per scenario (after the
/// baseline) and parameter, the largest swing in net present value first.
pub fn sensitivity_csv(one_way: &super::OneWay) -> Vec<u8> {
    let rows = (1..one_way.scenarios.len()).flat_map(|s| {
        one_way
            .ranked(s)
            .into_iter()
            .enumerate()
            .map(move |(rank, e)| {
                vec![
                    text(one_way.scenarios[s].as_str()),
                    whole(rank as u64 + 1),
                    text(e.parameter.as_str()),
                    Cell::Number(e.range.0.clone()).if_number(),
                    Cell::Number(e.range.1.clone()).if_number(),
                    pounds(e.npv.low),
                    pounds(e.npv.central),
                    pounds(e.npv.high),
                    pounds(e.npv.swing()),
                    number(e.crisis_months_avoided.low),
                    number(e.crisis_months_avoided.central),
                    number(e.crisis_months_avoided.high),
                ]
            })
    });
    csv_bytes(&crate::published::SensitivityRecord::COLUMNS, rows)
}

/// A Morris screen's results: a row per scenario (after the baseline) and
/// parameter, the largest μ* on net present value first; elementary
/// effects are per whole range.
pub fn morris_csv(screen: &super::Screening) -> Vec<u8> {
    let rows = (1..screen.scenarios.len()).flat_map(|s| {
        screen
            .ranked(s)
            .into_iter()
            .enumerate()
            .map(move |(rank, e)| {
                vec![
                    text(screen.scenarios[s].as_str()),
                    whole(rank as u64 + 1),
                    text(e.parameter.as_str()),
                    Cell::Number(e.range.0.clone()).if_number(),
                    Cell::Number(e.range.1.clone()).if_number(),
                    whole(screen.trajectories as u64),
                    pounds(e.npv.mu_star),
                    pounds(e.npv.mu),
                    pounds(e.npv.sigma),
                    number(e.crisis_months_avoided.mu_star),
                    number(e.crisis_months_avoided.mu),
                    number(e.crisis_months_avoided.sigma),
                ]
            })
    });
    csv_bytes(&crate::published::MorrisRecord::COLUMNS, rows)
}

/// Each scenario's assumptions that decide its net present value, one way
/// and (if run) by the Morris screen, the `top` of each; and what was
/// written to `out`: the lines the terminal shows.
pub fn summary(
    one_way: &super::OneWay,
    screen: Option<&super::Screening>,
    top: usize,
    out: &std::path::Path,
) -> String {
    use crate::format::money;
    use crate::published::{MORRIS_FILE, SENSITIVITY_FILE};
    use std::fmt::Write;
    let mut o = String::new();
    for s in 1..one_way.scenarios.len() {
        let ranked = one_way.ranked(s);
        let central = ranked.first().map_or(0.0, |e| e.npv.central);
        let _ = writeln!(
            o,
            "{}: net present value {} with every parameter at its value; the assumptions that decide it (net present value at the low and the high end of each range):",
            one_way.scenarios[s],
            money(central)
        );
        for e in ranked.iter().take(top) {
            let _ = writeln!(
                o,
                "  {:<55} {:>10} to {:>10}  (range {} to {})",
                e.parameter,
                money(e.npv.low),
                money(e.npv.high),
                e.range.0,
                e.range.1
            );
        }
        if let Some(screen) = screen {
            let _ = writeln!(
                o,
                "  Morris screen, {} trajectories (μ*, the mean size of each parameter's elementary effect on net present value per whole range; σ, its spread):",
                screen.trajectories
            );
            for e in screen.ranked(s).iter().take(top) {
                let _ = writeln!(
                    o,
                    "  {:<55} μ* {:>10}  σ {:>10}",
                    e.parameter,
                    money(e.npv.mu_star),
                    money(e.npv.sigma)
                );
            }
        }
    }
    let _ = writeln!(
        o,
        "Wrote {SENSITIVITY_FILE}{}, the central comparison's files and report.html, with a tornado{} chart per scenario, to {}",
        match screen {
            Some(_) => format!(", {MORRIS_FILE}"),
            None => String::new(),
        },
        if screen.is_some() {
            " and a Morris"
        } else {
            ""
        },
        out.display()
    );
    o
}
