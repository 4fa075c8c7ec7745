//! The terminal summary: one line per scenario.

use crate::aggregate;
use crate::economics::Economics;
use crate::economics::appraisal::Payback;
use crate::experiment::Experiment;

/// £ in millions with one decimal: spurious precision helps nobody.
fn m(v: f64) -> String {
    let r = (v / 1e5).round() / 10.0;
    if r < 0.0 {
        format!("−£{:.1}m", -r)
    } else {
        format!("£{r:.1}m")
    }
}

/// A whole number with a true minus sign.
fn count(v: f64) -> String {
    let r = v.round();
    if r < 0.0 {
        format!("−{:.0}", -r)
    } else {
        format!("{r:.0}")
    }
}

fn month(m: Option<u32>) -> String {
    m.map_or("never".into(), |m| m.to_string())
}

fn payback(p: &Payback) -> String {
    format!("{} ({} to {})", month(p.p50), month(p.p5), month(p.p95))
}

/// A ratio to one decimal place, or a dash where it is not defined.
fn ratio(v: f64) -> String {
    if v.is_finite() {
        let r = (v * 10.0).round() / 10.0;
        if r < 0.0 {
            format!("−{:.1}", -r)
        } else {
            format!("{r:.1}")
        }
    } else {
        "–".into()
    }
}

pub fn render(exp: &Experiment, names: &[&str], economics: &Economics) -> String {
    let width = names
        .iter()
        .map(|n| n.chars().count())
        .max()
        .unwrap_or(8)
        .max(8);
    let mut out = String::new();
    let line = |cells: [&str; 9]| {
        format!(
            "{:<width$}  {:>10}  {:>10}  {:>9}  {:>30}  {:>30}  {:>5}  {:>20}  {:>22}\n",
            cells[0],
            cells[1],
            cells[2],
            cells[3],
            cells[4],
            cells[5],
            cells[6],
            cells[7],
            cells[8]
        )
    };
    out.push_str(&line([
        "Scenario",
        "Total cost",
        "Prevention",
        "Capital",
        "Net saving vs baseline (90%)",
        "Net present value (90%)",
        "ROI",
        "Payback month (90%)",
        "Crisis-months avoided",
    ]));
    for (s, name) in names.iter().enumerate() {
        let h = aggregate::headline(exp, s);
        let band = |mean: String, p5: String, p95: String| format!("{mean} ({p5} to {p95})");
        let cells = if s == 0 {
            [
                "(baseline)".to_string(),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
            ]
        } else {
            let a = &economics.appraisals[s - 1];
            [
                band(
                    m(h.net_saving_gbp.mean),
                    m(h.net_saving_gbp.p5),
                    m(h.net_saving_gbp.p95),
                ),
                band(m(a.npv.mean), m(a.npv.p5), m(a.npv.p95)),
                ratio(a.roi.mean),
                payback(&a.payback_month_discounted),
                band(
                    count(h.crisis_months_avoided.mean),
                    count(h.crisis_months_avoided.p5),
                    count(h.crisis_months_avoided.p95),
                ),
            ]
        };
        out.push_str(&line([
            name,
            &m(h.total_cost_gbp.mean),
            &m(h.prevention_spend_gbp.mean),
            &m(h.capital_spend_gbp.mean),
            &cells[0],
            &cells[1],
            &cells[2],
            &cells[3],
            &cells[4],
        ]));
    }
    out
}
