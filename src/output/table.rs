//! The terminal summary: one line per scenario.

use crate::aggregate;
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

pub fn render(exp: &Experiment, names: &[&str]) -> String {
    let width = names
        .iter()
        .map(|n| n.chars().count())
        .max()
        .unwrap_or(8)
        .max(8);
    let mut out = String::new();
    out.push_str(&format!(
        "{:<width$}  {:>10}  {:>10}  {:>9}  {:>30}  {:>22}\n",
        "Scenario",
        "Total cost",
        "Prevention",
        "Capital",
        "Net saving vs baseline (90%)",
        "Crisis-months avoided"
    ));
    for (s, name) in names.iter().enumerate() {
        let h = aggregate::headline(exp, s);
        let (saving, avoided) = if s == 0 {
            ("(baseline)".to_string(), "".to_string())
        } else {
            (
                format!(
                    "{} ({} to {})",
                    m(h.net_saving_gbp.mean),
                    m(h.net_saving_gbp.p5),
                    m(h.net_saving_gbp.p95)
                ),
                format!(
                    "{} ({} to {})",
                    count(h.crisis_months_avoided.mean),
                    count(h.crisis_months_avoided.p5),
                    count(h.crisis_months_avoided.p95)
                ),
            )
        };
        out.push_str(&format!(
            "{:<width$}  {:>10}  {:>10}  {:>9}  {:>30}  {:>22}\n",
            name,
            m(h.total_cost_gbp.mean),
            m(h.prevention_spend_gbp.mean),
            m(h.capital_spend_gbp.mean),
            saving,
            avoided
        ));
    }
    out
}
