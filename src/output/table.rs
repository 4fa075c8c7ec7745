//! The terminal summary: one line per scenario.

use crate::aggregate;
use crate::economics::Economics;
use crate::economics::appraisal::Payback;
use crate::format::{millions, ratio, whole};
use crate::replicates::Experiment;

fn month(m: Option<u32>) -> String {
    m.map_or("never".into(), |m| m.to_string())
}

fn payback(p: &Payback) -> String {
    format!("{} ({} to {})", month(p.p50), month(p.p5), month(p.p95))
}

/// What the table's figures mean, in a paragraph under it, and why a net
/// revenue saving and its net present value differ in sign where they do.
pub(crate) fn notes(
    economics: &Economics,
    months: u32,
    replicates: u32,
    parameters_drawn: usize,
    scaled: Option<crate::published::ScaledRun>,
) -> String {
    let mut why = String::new();
    for a in &economics.appraisals {
        if let Some(s) = &a.bridge.sign_change {
            why.push_str(&format!("{}: {s}\n", a.scenario));
        }
        if let Some(v) = &a.npv_variance {
            why.push_str(&format!(
                "{}: {}\n",
                a.scenario,
                crate::published::variance_split(v)
            ));
        }
    }
    if let Some(v) = &economics.value_of_information {
        why.push_str(&crate::published::value_of_information(v));
        why.push('\n');
    }
    // What the replicates cover is said with or without bands: means of
    // drawn replicates are not the stated run's.
    let bands = match crate::published::no_bands(replicates) {
        Some(why) if parameters_drawn == 0 => why,
        Some(why) => format!("{why} {}", crate::published::bands_cover(parameters_drawn)),
        None => format!(
            "Bands are 5th to 95th percentiles across {replicates} replicates. {}",
            crate::published::bands_cover(parameters_drawn)
        ),
    } + &scaled.map_or(String::new(), |s| format!(" {}", s.sentence()));
    why + &format!(
        "Money at {} prices over {} year{}. Net revenue saving is reactive cost avoided less extra prevention spend, undiscounted and before optimism bias; revenue budget impact is that saving over the horizon in cash prices, every payer, with capital's financing charged (every step to it and to the net present value is in the money bridge: economics.json and the workbook's Money bridge sheet); net present value is discounted ({}) with optimism bias: its median leads (half the replicates above it, half below), beside the chance it is above zero and its mean, the money bridge's figure, to which ROI (the ratio to the investment's present value) belongs; payback is the first month discounted savings exceed discounted investment. {bands}\n{}\n",
        economics.conventions.price_base_label(),
        months / 12,
        if months / 12 == 1 { "" } else { "s" },
        economics.conventions.discount.name,
        crate::published::SIGNS,
    )
}

pub(crate) fn render(exp: &Experiment, names: &[&str], economics: &Economics) -> String {
    let width = names
        .iter()
        .map(|n| n.chars().count())
        .max()
        .unwrap_or(8)
        .max(8);
    let mut out = String::new();
    let line = |cells: [&str; 12]| {
        format!(
            "{:<width$}  {:>10}  {:>10}  {:>9}  {:>30}  {:>30}  {:>30}  {:>14}  {:>9}  {:>5}  {:>20}  {:>22}",
            cells[0],
            cells[1],
            cells[2],
            cells[3],
            cells[4],
            cells[5],
            cells[6],
            cells[7],
            cells[8],
            cells[9],
            cells[10],
            cells[11]
        )
        .trim_end()
        .to_string()
            + "\n"
    };
    out.push_str(&line([
        "Scenario",
        "Total cost",
        "Prevention",
        "Capital",
        "Net revenue saving (90%)",
        "Revenue budget impact (90%)",
        "NPV median (90%)",
        "Chance NPV > 0",
        "NPV mean",
        "ROI",
        "Payback month (90%)",
        "Crisis-months avoided",
    ]));
    // A 90% range over fewer replicates says nothing: means alone.
    let ranges = exp.scenarios.first().map_or(0, |r| r.series.len())
        >= crate::aggregate::MIN_REPLICATES_FOR_RANGES as usize;
    for (s, name) in names.iter().enumerate() {
        let h = aggregate::headline(exp, s);
        let band = |mean: String, p5: String, p95: String| {
            if ranges {
                format!("{mean} ({p5} to {p95})")
            } else {
                mean
            }
        };
        let cells = if s == 0 {
            [
                "(baseline)".to_string(),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
            ]
        } else {
            let a = &economics.appraisals[s - 1];
            let impact = a.bridge.revenue_budget_impact();
            [
                band(
                    millions(h.net_revenue_saving_gbp.mean),
                    millions(h.net_revenue_saving_gbp.p5),
                    millions(h.net_revenue_saving_gbp.p95),
                ),
                band(
                    millions(impact.mean),
                    millions(impact.p5),
                    millions(impact.p95),
                ),
                band(millions(a.npv.p50), millions(a.npv.p5), millions(a.npv.p95)),
                crate::format::percent(a.probability_npv_positive),
                millions(a.npv.mean),
                ratio(a.roi.mean),
                payback(&a.payback_month_discounted),
                band(
                    whole(h.crisis_months_avoided.mean),
                    whole(h.crisis_months_avoided.p5),
                    whole(h.crisis_months_avoided.p95),
                ),
            ]
        };
        out.push_str(&line([
            name,
            &millions(h.total_cost_gbp.mean),
            &millions(h.prevention_spend_gbp.mean),
            &millions(h.capital_spend_gbp.mean),
            &cells[0],
            &cells[1],
            &cells[2],
            &cells[3],
            &cells[4],
            &cells[5],
            &cells[6],
            &cells[7],
        ]));
    }
    out
}
