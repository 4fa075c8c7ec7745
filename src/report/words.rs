//! Words a board paper uses: the plain-English headline for each scenario,
//! generated from the numbers and honest about their uncertainty, and the
//! phrases it is built from. Numbers themselves are written by
//! [`crate::format`].

use super::data::{Appraisal, Payback, Timeline};
use crate::metrics::Band;

use crate::format::{count, money};

/// "ten" for small numbers, digits beyond twelve.
pub fn number_word(n: u32) -> String {
    const WORDS: [&str; 13] = [
        "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
        "eleven", "twelve",
    ];
    WORDS
        .get(n as usize)
        .map_or_else(|| n.to_string(), |w| w.to_string())
}

/// "ten years", or "18 months" for a horizon of part-years.
pub fn years_phrase(months: u32) -> String {
    let years = months / 12;
    if months.is_multiple_of(12) {
        format!(
            "{} year{}",
            number_word(years),
            if years == 1 { "" } else { "s" }
        )
    } else {
        format!("{} months", number_word(months))
    }
}

/// " (90% range £2.9m to £5.6m)", saying so when the range crosses zero;
/// nothing when the run had too few replicates for one.
fn range(lo: f64, hi: f64, fmt: fn(f64) -> String, crossing: &str) -> String {
    if lo.is_nan() || hi.is_nan() {
        return String::new();
    }
    let mut s = format!("90% range {} to {}", fmt(lo), fmt(hi));
    if lo < 0.0 && hi > 0.0 {
        s.push_str(", which crosses zero");
        if !crossing.is_empty() {
            s.push_str(": ");
            s.push_str(crossing);
        }
    }
    format!(" ({s})")
}

/// How a payer is named in a sentence.
pub fn payer_phrase(id: &str, name: &str) -> String {
    match id {
        "nhs" => "the NHS".into(),
        "police" => "the police".into(),
        "voluntary_sector" => "the voluntary sector".into(),
        _ => {
            let mut c = name.chars();
            c.next()
                .map(|f| f.to_lowercase().chain(c).collect())
                .unwrap_or_default()
        }
    }
}

/// Who gains most from the change in reactive cost (or bears most of a
/// rise): "mostly for the NHS", or the largest share when no payer has most.
fn who_gains(a: &Appraisal, saves: bool) -> Option<String> {
    let sign = if saves { 1.0 } else { -1.0 };
    let gains: Vec<(f64, &str, &str)> = a
        .who_pays
        .iter()
        .map(|p| (sign * p.cost_avoided.mean, p.id.as_str(), p.name.as_str()))
        .filter(|g| g.0 > 0.0)
        .collect();
    let total: f64 = gains.iter().map(|g| g.0).sum();
    let top = gains.iter().max_by(|x, y| x.0.total_cmp(&y.0))?;
    let share = top.0 / total;
    let who = payer_phrase(top.1, top.2);
    Some(match (saves, share > 0.5) {
        (true, true) => format!("mostly for {who}"),
        (true, false) => format!("the largest share ({:.0}%) for {who}", share * 100.0),
        (false, true) => format!("mostly borne by {who}"),
        (false, false) => format!("the largest share ({:.0}%) borne by {who}", share * 100.0),
    })
}

fn year_of(month: u32) -> u32 {
    month.div_ceil(12)
}

/// "in 94% of replicates", or "in any replicate" and the like at the ends.
fn share_of_replicates(share: f64) -> String {
    format!("in {:.0}% of replicates", share * 100.0)
}

/// When the investment pays back: the year of the horizon it does (year 1
/// is the first twelve months) and the financial year that month is in.
fn payback_clause(p: &Payback, horizon: &str, timeline: &Timeline) -> String {
    let never = 1.0 - p.within_horizon;
    match (p.p5, p.p50, p.p95) {
        (_, Some(m), hi) => {
            let y = year_of(m);
            let mut s = format!(
                "it pays back in year {y} of the horizon, {}",
                timeline.fy_of_month(m)
            );
            let lo = p.p5.map(year_of).unwrap_or(y);
            match hi.map(year_of) {
                Some(h) if h == lo => s.push_str(" (the same year across the 90% range)"),
                Some(h) => s.push_str(&format!(" (between years {lo} and {h})")),
                None => s.push_str(&format!(
                    " (from year {lo}, but not within the {horizon} {})",
                    share_of_replicates(never)
                )),
            }
            s
        }
        (_, None, _) if p.within_horizon > 0.0 => format!(
            "it does not pay back within the {horizon} {}",
            share_of_replicates(never)
        ),
        _ => format!("it does not pay back within the {horizon} in any replicate"),
    }
}

/// The amount of the money bridge's line `id` (`None` for an appraisal
/// read from before the bridge).
pub(super) fn bridged(a: &Appraisal, id: &str) -> Option<Band> {
    a.bridge.step(id).map(|s| s.amount)
}

/// "(£4.6m with a 30% allowance for optimism bias)", when there is one.
fn with_allowance(a: &Appraisal, spend: f64) -> String {
    let Some(allowance) = bridged(a, "optimism_bias_on_spend").map(|b| -b.mean) else {
        return String::new();
    };
    if allowance == 0.0 || spend <= 0.0 {
        return String::new();
    }
    let mut rates: Vec<f64> = a.cost_uplift.iter().map(|(_, u)| *u).collect();
    rates.sort_by(f64::total_cmp);
    rates.dedup();
    let what = match rates.as_slice() {
        [u] => format!("a {:.0}% allowance", u * 100.0),
        _ => "allowances".into(),
    };
    format!(
        " ({} with {what} for optimism bias)",
        money(spend + allowance)
    )
}

/// The headline for one scenario against the baseline, in the money
/// bridge's terms: the extra spending as budgeted (and with its allowance
/// for optimism bias), the reactive cost it avoids and for whom, the net
/// revenue saving, when it pays back, its net present value (and, where the
/// two differ in sign, why) and crisis-months avoided, each with its 90%
/// range.
pub fn headline(a: &Appraisal, months: u32, timeline: &Timeline) -> String {
    let horizon = years_phrase(months);
    let spend = |id: &str| bridged(a, id).map(|b| -b.mean);
    let invest = match (
        spend("extra_prevention_spend"),
        spend("extra_capital_spend"),
    ) {
        (Some(p), Some(c)) => p + c,
        _ => a.undiscounted_investment.mean,
    };
    let s = bridged(a, "reactive_cost_avoided").unwrap_or(a.undiscounted_savings);
    let saves = s.mean >= 0.0;
    let s = &s;
    let mut out = format!("{}: ", a.scenario);
    out.push_str(&if invest >= 0.0 {
        format!(
            "{} of extra spending over {horizon}{} ",
            money(invest),
            with_allowance(a, invest)
        )
    } else {
        format!("spending {} less over {horizon} ", money(-invest))
    });
    out.push_str(&if saves {
        format!(
            "avoids {} of reactive cost{}",
            money(s.mean),
            range(s.p5, s.p95, money, "it may not avoid any")
        )
    } else {
        format!(
            "adds {} to reactive cost{}",
            money(-s.mean),
            range(-s.p95, -s.p5, money, "it may not add any")
        )
    });
    if let Some(who) = who_gains(a, saves) {
        out.push_str(", ");
        out.push_str(&who);
    }
    if let Some(n) = bridged(a, "net_revenue_saving") {
        out.push_str(&format!(": a net revenue saving of {}", money(n.mean)));
    }
    if invest > 0.0 {
        out.push_str("; ");
        out.push_str(&payback_clause(
            &a.payback_month_discounted,
            &horizon,
            timeline,
        ));
    }
    out.push_str(". ");
    let npv = &a.npv;
    out.push_str(&format!(
        "Its net present value is above zero in {} of replicates: its median is {}{}, its mean {}.",
        crate::format::percent(a.probability_npv_positive),
        money(npv.p50),
        range(npv.p5, npv.p95, money, "it may lose money or save it"),
        money(npv.mean),
    ));
    if let Some(v) = &a.npv_variance {
        out.push(' ');
        out.push_str(&crate::published::variance_split(v));
    }
    if let Some(why) = &a.bridge.sign_change {
        out.push(' ');
        out.push_str(why);
    }
    out.push(' ');
    out.push_str(&crisis_sentence(&a.crisis_months_avoided));
    out
}

fn crisis_sentence(c: &Band) -> String {
    if c.p5 == 0.0 && c.p95 == 0.0 {
        "It does not change the months residents spend in crisis.".into()
    } else if c.mean >= 0.0 {
        format!(
            "It avoids {} months that residents would have spent in crisis{}.",
            count(c.mean),
            range(c.p5, c.p95, count, "it may avoid none")
        )
    } else {
        format!(
            "It adds {} months that residents spend in crisis{}.",
            count(-c.mean),
            range(-c.p95, -c.p5, count, "it may add none")
        )
    }
}

/// Escapes text for HTML.
pub fn html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::economics::appraisal::Position;

    fn band(mean: f64, p5: f64, p95: f64) -> Band {
        Band {
            mean,
            p5,
            p50: mean,
            p95,
        }
    }

    fn position(id: &str, name: &str, avoided: f64) -> Position {
        Position {
            id: id.into(),
            name: name.into(),
            spend: band(0.0, 0.0, 0.0),
            cost_avoided: band(avoided, avoided, avoided),
            net: band(avoided, avoided, avoided),
        }
    }

    fn hubs() -> Appraisal {
        Appraisal {
            scenario: "Hubs in the five most deprived neighbourhoods".into(),
            npv: Band {
                p50: 2.1e6,
                ..band(1.9e6, -0.4e6, 3.6e6)
            },
            undiscounted_investment: band(1.8e6, 1.8e6, 1.8e6),
            undiscounted_savings: band(4.2e6, 2.9e6, 5.6e6),
            payback_month_discounted: Payback {
                within_horizon: 1.0,
                p5: Some(30),
                p50: Some(40),
                p95: Some(70),
            },
            probability_npv_positive: 0.875,
            crisis_months_avoided: band(1234.0, 900.0, 1500.0),
            who_pays: vec![
                position("nhs", "NHS", 3.0e6),
                position("adult_social_care", "Adult social care", 1.0e6),
                position("police", "Police", 0.2e6),
            ],
            ..Appraisal::default()
        }
    }

    #[test]
    fn the_headline_quotes_its_numbers_and_says_when_a_range_crosses_zero() {
        let t = Timeline::new((2026, 4), 4);
        assert_eq!(
            headline(&hubs(), 120, &t),
            "Hubs in the five most deprived neighbourhoods: £1.8m of extra spending over ten years \
             avoids £4.2m of reactive cost (90% range £2.9m to £5.6m), mostly for the NHS; it pays \
             back in year 4 of the horizon, 2029/30 (between years 3 and 6). Its net present value is \
             above zero in 88% of replicates: its median is £2.1m (90% range −£400k to £3.6m, which \
             crosses zero: it may lose money or save it), its mean £1.9m. It avoids 1,234 months \
             that residents would have spent in crisis (90% range 900 to 1,500)."
        );
    }

    #[test]
    fn a_cut_that_raises_demand_is_described_as_adding_cost_and_never_paying_back() {
        let mut a = hubs();
        a.scenario = "Early help halved".into();
        a.undiscounted_investment = band(-10e6, -10e6, -10e6);
        a.undiscounted_savings = band(-19.3e6, -23e6, -15e6);
        a.crisis_months_avoided = band(-8935.0, -9486.0, -8337.0);
        for p in &mut a.who_pays {
            p.cost_avoided = band(-p.cost_avoided.mean, 0.0, 0.0);
        }
        a.who_pays[0].cost_avoided.mean = -1e6;
        a.who_pays[1].cost_avoided.mean = -1.1e6;
        let s = headline(&a, 120, &Timeline::new((2026, 4), 4));
        assert!(s.starts_with(
            "Early help halved: spending £10.0m less over ten years adds £19.3m to reactive cost \
             (90% range £15.0m to £23.0m), the largest share (48%) borne by adult social care."
        ), "{s}");
        assert!(!s.contains("pays back"), "{s}");
        assert!(s.ends_with(
            "It adds 8,935 months that residents spend in crisis (90% range 8,337 to 9,486)."
        ));
    }

    #[test]
    fn the_headline_quotes_the_money_bridge_budget_first() {
        use crate::economics::bridge::{Bridge, Step};
        let step = |id: &str, amount: Band| Step {
            id: id.into(),
            name: id.into(),
            total: false,
            amount,
        };
        let mut a = hubs();
        a.cost_uplift = vec![("hubs".into(), 0.3)];
        a.bridge = Bridge {
            appraisal: vec![
                step("extra_prevention_spend", band(-3.5e6, -3.5e6, -3.5e6)),
                step("reactive_cost_avoided", band(20.0e6, 17.0e6, 23.0e6)),
                step("net_revenue_saving", band(16.5e6, 13.5e6, 19.5e6)),
                step("extra_capital_spend", band(0.0, 0.0, 0.0)),
                step("optimism_bias_on_spend", band(-1.05e6, -1.05e6, -1.05e6)),
            ],
            sign_change: Some("The net revenue saving of £16.5m becomes … (−£1.0m).".into()),
            ..Bridge::default()
        };
        let s = headline(&a, 120, &Timeline::new((2026, 4), 4));
        assert!(
            s.starts_with(
                "Hubs in the five most deprived neighbourhoods: £3.5m of extra spending over ten \
                 years (£4.5m with a 30% allowance for optimism bias) avoids £20.0m of reactive \
                 cost (90% range £17.0m to £23.0m), mostly for the NHS: a net revenue saving of \
                 £16.5m; it pays back"
            ),
            "{s}"
        );
        assert!(
            s.contains("its mean £1.9m. The net revenue saving of £16.5m becomes"),
            "{s}"
        );
    }

    #[test]
    fn payback_that_may_never_come_says_so() {
        let t = Timeline::new((2026, 4), 4);
        let p = Payback {
            within_horizon: 0.9,
            p5: Some(13),
            p50: Some(30),
            p95: None,
        };
        assert_eq!(
            payback_clause(&p, "ten years", &t),
            "it pays back in year 3 of the horizon, 2028/29 (from year 2, but not within the \
             ten years in 10% of replicates)"
        );
        let mostly_never = Payback {
            within_horizon: 0.0625,
            p5: Some(100),
            p50: None,
            p95: None,
        };
        assert_eq!(
            payback_clause(&mostly_never, "ten years", &t),
            "it does not pay back within the ten years in 94% of replicates"
        );
        let never = Payback::default();
        assert_eq!(
            payback_clause(&never, "ten years", &t),
            "it does not pay back within the ten years in any replicate"
        );
    }

    #[test]
    fn html_is_escaped() {
        assert_eq!(html("<a & \"b\">"), "&lt;a &amp; &quot;b&quot;&gt;");
    }
}
