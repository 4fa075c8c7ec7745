//! The report page: one self-contained HTML file with the charts inline as
//! SVG, its own styles, no script and no external reference, so it can be
//! emailed to a partnership board, read offline and printed.

use std::collections::HashMap;
use std::fmt::Write;

use super::data::{Appraisal, Payback, RunData};
use super::figures::{Figure, Section};
use super::words::{self, bridged, headline, html};
use crate::format::{count, money};

const STYLE: &str = r#"
:root { --ink: #1e1e1e; --muted: #555; --rule: #d8d8d8; --band: #f4f4f2; }
* { box-sizing: border-box; }
body { font-family: "DejaVu Sans", "Segoe UI", Arial, sans-serif; color: var(--ink);
  max-width: 1180px; margin: 0 auto; padding: 1.5rem 2rem 3rem; line-height: 1.45; }
h1 { font-size: 1.9rem; margin: 0 0 .3rem; }
h2 { font-size: 1.4rem; margin: 2.4rem 0 .6rem; padding-top: .6rem; border-top: 3px solid var(--ink); }
h3 { font-size: 1.1rem; margin: 1.6rem 0 .4rem; }
p.lede { color: var(--muted); margin-top: 0; }
nav ol { columns: 2; padding-left: 1.2rem; }
.headline { background: var(--band); border-left: 5px solid var(--ink); padding: .7rem 1rem; margin: .8rem 0; }
table { border-collapse: collapse; width: 100%; font-size: .88rem; margin: .6rem 0 1rem; }
table.bridge { width: auto; min-width: 60%; }
table.bridge caption { text-align: left; font-weight: 600; padding-bottom: .3rem; }
th, td { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid var(--rule); vertical-align: top; }
th { background: var(--band); }
td.n { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
.charts { display: grid; grid-template-columns: 1fr; gap: 1.6rem; }
.wide { overflow-x: auto; }
td small { color: var(--muted); }
table.board caption { text-align: left; font-weight: 600; padding-bottom: .3rem; }
p.note { font-size: .85em; color: var(--muted); }
figure { margin: 0; break-inside: avoid; page-break-inside: avoid; }
figure svg { width: 100%; height: auto; display: block; border: 1px solid var(--rule); }
figcaption { font-size: .85rem; color: var(--muted); margin-top: .3rem; }
.conf-high { color: #0b6e4f; } .conf-medium { color: #8a5a00; } .conf-low { color: #a4161a; }
footer { margin-top: 3rem; border-top: 1px solid var(--rule); font-size: .85rem; color: var(--muted); }
code { font-family: "DejaVu Sans Mono", Consolas, monospace; font-size: .85em; word-break: break-all; }
@media print {
  body { max-width: none; padding: 0; font-size: 10pt; }
  nav { display: none; }
  .charts { display: block; }
  figure { margin-bottom: 1rem; }
  h2 { break-before: page; }
  h2.first { break-before: auto; }
  .wide { overflow: visible; }
  table { font-size: 7.5pt; }
  div.wide:has(table.board) { break-inside: avoid; }
  th, td { padding: 2px 4px; }
}
"#;

/// Turns plotters' SVG document into an accessible inline figure that
/// scales with the page: a viewBox instead of a fixed size, a title for
/// screen readers, and no namespace URL (HTML does not need it).
pub(crate) fn inline_svg(svg: &str, id: &str, alt: &str) -> String {
    let start = svg.find("<svg").unwrap_or(0);
    let open_end = svg[start..].find('>').map_or(start, |i| start + i);
    let open = &svg[start..open_end];
    let attr = |name: &str| -> Option<&str> {
        let key = format!(" {name}=\"");
        let i = open.find(&key)? + key.len();
        open[i..].split('"').next()
    };
    let (w, h) = (
        attr("width").unwrap_or("100"),
        attr("height").unwrap_or("100"),
    );
    format!(
        "<svg viewBox=\"0 0 {w} {h}\" role=\"img\" aria-labelledby=\"{id}-title\"><title id=\"{id}-title\">{}</title>{}",
        html(alt),
        &svg[open_end + 1..]
    )
}

fn figure(out: &mut String, f: &Figure, svg: &str) {
    let c = &f.chart;
    let _ = writeln!(
        out,
        "<figure id=\"{id}\">{}<figcaption>{}</figcaption></figure>",
        inline_svg(svg, &c.file, &c.alt),
        html(&c.alt),
        id = c.file
    );
}

fn charts_of(out: &mut String, figures: &[Figure], svgs: &HashMap<&str, &str>, section: Section) {
    let mine: Vec<&Figure> = figures.iter().filter(|f| f.section == section).collect();
    if mine.is_empty() {
        return;
    }
    out.push_str("<div class=\"charts\">\n");
    for f in mine {
        figure(
            out,
            f,
            svgs.get(f.chart.file.as_str()).copied().unwrap_or(""),
        );
    }
    out.push_str("</div>\n");
}

/// A cell with the central figure above its range, both escaped.
pub(crate) fn cell(central: &str, lo: &str, hi: &str) -> String {
    format!(
        "{}<br><small>{} to {}</small>",
        html(central),
        html(lo),
        html(hi)
    )
}

fn payback_cell(p: &Payback) -> String {
    let m = |v: Option<u32>| v.map_or("never".to_string(), |m| format!("month {m}"));
    if p.p5.is_none() && p.p50.is_none() && p.p95.is_none() {
        return m(None);
    }
    cell(&m(p.p50), &m(p.p5), &m(p.p95))
}

/// A band's mean and 90% range, or the mean alone where the run had too few
/// replicates for a range.
pub(crate) fn band_cell(b: &crate::metrics::Band, f: fn(f64) -> String) -> String {
    if b.p5.is_nan() {
        return html(&f(b.mean));
    }
    cell(&f(b.mean), &f(b.p5), &f(b.p95))
}

/// " (90% range)" for a column of bands, or nothing where the run had too
/// few replicates for one.
fn ranged(d: &RunData) -> &'static str {
    if d.summary.settings.replicates < super::MIN_REPLICATES_FOR_RANGES {
        ""
    } else {
        " (90% range)"
    }
}

/// Extra residents enrolled in the programmes a scenario changes (new,
/// removed or altered) over the horizon against the baseline's (a resident
/// enrolled twice counts twice), or `None` when none of them enrols anyone
/// in either.
fn extra_people_reached(d: &RunData, a: &Appraisal) -> Option<f64> {
    let reached = |scenario: &str| -> f64 {
        let Some(s) = d.summary.scenarios.iter().find(|s| s.name == scenario) else {
            return 0.0;
        };
        a.cost_uplift
            .iter()
            .filter_map(|(id, _)| s.totals.get(&format!("intervention.{id}.people_reached")))
            .map(|b| b.mean)
            .sum()
    };
    let extra = reached(&a.scenario) - reached(&a.against);
    (extra.abs() >= 0.5).then_some(extra)
}

/// The board's two tables: the money, from what is budgeted to the net
/// present value with the figures a finance director asks for beside it;
/// then value for money, reach and payback.
/// How to read the signs of the board's money: the one convention every
/// output states.
fn signs() -> String {
    format!(
        "<p class=\"note\" id=\"signs\">{}</p>\n",
        html(crate::published::SIGNS)
    )
}

fn board_tables(out: &mut String, d: &RunData) {
    let r = ranged(d);
    let _ = writeln!(
        out,
        "<div class=\"wide\"><table class=\"board\"><caption>Money over the horizon</caption><thead><tr><th>Scenario</th><th>Extra spending, as budgeted</th><th>With the optimism-bias allowance</th>\
         <th>Net revenue saving{r}</th><th>Revenue budget impact, cash{r}</th><th>Net present value, median{r}</th><th>Chance net present value &gt; 0</th><th>Net present value, mean</th><th>Net present value before optimism bias</th><th>Net present value, cashable savings only</th></tr></thead><tbody>",
    );
    for a in d.economics.appraisals.iter() {
        let line = |id: &str| bridged(a, id).unwrap_or_default();
        let spend = -(line("extra_prevention_spend").mean + line("extra_capital_spend").mean);
        let allowance = -line("optimism_bias_on_spend").mean;
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            html(&a.scenario),
            html(&money(spend)),
            html(&money(spend + allowance)),
            band_cell(&line("net_revenue_saving"), money),
            band_cell(&line("revenue_budget_impact"), money),
            band_cell(
                &crate::metrics::Band {
                    mean: a.npv.p50,
                    ..a.npv
                },
                money
            ),
            crate::format::percent(a.probability_npv_positive),
            html(&money(a.npv.mean)),
            html(&money(a.bridge.npv_without_optimism_bias.mean)),
            html(&money(a.bridge.npv_cashable.mean)),
        );
    }
    out.push_str("</tbody></table></div>\n");
    out.push_str(&signs());
    let _ = writeln!(
        out,
        "<div class=\"wide\"><table class=\"board\"><caption>Value for money, reach and payback</caption><thead><tr><th>Scenario</th><th>Return on investment</th><th>Benefit–cost ratio</th>\
         <th>Payback, discounted (90% range)</th><th>Extra people reached</th><th>Extra spending per person reached</th><th>Crisis-months avoided{r}</th></tr></thead><tbody>",
    );
    let ratio = |v: f64| {
        if v.is_finite() {
            format!("{v:.2}").replace('-', "−")
        } else {
            "–".into()
        }
    };
    for a in d.economics.appraisals.iter() {
        let line = |id: &str| bridged(a, id).unwrap_or_default();
        let spend = -(line("extra_prevention_spend").mean + line("extra_capital_spend").mean);
        let reached = extra_people_reached(d, a);
        let per_person = match reached {
            Some(n) if n > 0.0 && spend > 0.0 => money(spend / n),
            _ => "–".into(),
        };
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            html(&a.scenario),
            ratio(a.roi.mean),
            ratio(a.benefit_cost_ratio.mean),
            payback_cell(&a.payback_month_discounted),
            reached.map_or("–".into(), count),
            html(&per_person),
            band_cell(&a.crisis_months_avoided, count),
        );
    }
    out.push_str("</tbody></table></div>\n");
    out.push_str("<p class=\"note\">Spending and savings are undiscounted, at the price base, as simulated; the revenue budget impact is in cash, every payer, with capital's financing charges; net present values are discounted. People reached are the extra enrolments, over the horizon, in the programmes a scenario changes (a resident enrolled twice counts twice); a community asset or a capital purchase enrols no one. – : not defined.</p>\n");
}

/// Whether each scenario is worth it to the place: its acceptability
/// curves, if the run has any outcome to price.
/// On the board page: what is worth finding out, if the run drew the
/// parameters, and where the acceptability curves are.
fn information(out: &mut String, d: &RunData, figures: &[Figure]) {
    if let Some(v) = &d.economics.value_of_information {
        let _ = writeln!(
            out,
            "<h3 id=\"information\">What is worth finding out</h3>\n<p>{}</p>",
            html(&crate::published::value_of_information(v))
        );
    }
    if figures.iter().any(|f| f.section == Section::Worth) {
        out.push_str("<p class=\"note\">How sure each scenario is to be worth it, against what the place would pay for a crisis-month avoided or a QALY gained: <a href=\"#worth\">Is it worth it?</a> in the appendix.</p>\n");
    }
}

/// In the appendix: each scenario's acceptability curves.
fn worth(out: &mut String, figures: &[Figure], svgs: &HashMap<&str, &str>) {
    if !figures.iter().any(|f| f.section == Section::Worth) {
        return;
    }
    out.push_str("<h2 id=\"worth\">Is it worth it?</h2>\n<p>A scenario that loses money can still be worth it to a place that values what it gains. Each curve is the chance (the share of replicates) that the net present value, plus what the place would pay for each crisis-month avoided or QALY gained times the number gained, is above zero. At £0 it is the chance the net present value is above zero. The points are in <code>economics.json</code> (<code>acceptability</code>) and the workbook's Acceptability sheet.</p>\n");
    charts_of(out, figures, svgs, Section::Worth);
}

/// Each capital scheme's revenue budget, year by year: the capital it
/// spends, the financing charged to revenue, and the revenue budget impact
/// (every payer, cash), before its net present value.
fn capital_schemes(out: &mut String, d: &RunData) {
    for a in d.economics.appraisals.iter() {
        if a.capital_schedule.is_empty() {
            continue;
        }
        let years = &a.bridge.revenue_budget_impact_by_year;
        let by_year = |pick: fn(&crate::economics::budget::CapitalRow) -> f64| -> Vec<f64> {
            years
                .iter()
                .map(|y| {
                    a.capital_schedule
                        .iter()
                        .filter(|r| r.financial_year == y.financial_year)
                        .map(pick)
                        .sum()
                })
                .collect()
        };
        let rows: [(&str, Vec<f64>); 3] = [
            ("Capital spend", by_year(|r| r.capital_spend.mean)),
            (
                "Financing charged to revenue (MRP and interest)",
                by_year(|r| r.financing_charge.mean),
            ),
            (
                "Revenue budget impact, every payer (+ a saving)",
                years.iter().map(|y| y.amount.mean).collect(),
            ),
        ];
        let _ = write!(
            out,
            "<div class=\"wide\"><table class=\"board\"><caption>{}: the revenue budget year by year (cash, means)</caption><thead><tr><th></th>",
            html(&a.scenario)
        );
        for y in years {
            let _ = write!(out, "<th>{}</th>", html(&y.financial_year));
        }
        out.push_str("<th>Total</th></tr></thead><tbody>\n");
        for (name, values) in rows {
            let _ = write!(out, "<tr><td>{}</td>", html(name));
            for v in &values {
                let _ = write!(out, "<td class=\"n\">{}</td>", html(&money(*v)));
            }
            let total: f64 = values.iter().sum();
            let _ = writeln!(out, "<td class=\"n\">{}</td></tr>", html(&money(total)));
        }
        out.push_str("</tbody></table></div>\n");
    }
}

/// What each scenario changes from the baseline, counted by the confidence
/// of the changed values (the lists are in the appendix).
fn changes(out: &mut String, d: &RunData) {
    let names: Vec<&str> = d.names().collect();
    let Some(base) = names.first() else {
        return;
    };
    let baseline: HashMap<&str, &str> = d
        .assumptions
        .iter()
        .filter(|a| a.scenario == *base)
        .map(|a| (a.parameter.as_str(), a.value.as_str()))
        .collect();
    out.push_str("<p>What each scenario changes from the baseline, by the confidence its file gives:</p>\n<ul class=\"changes\">\n");
    for name in &names[1..] {
        let changed: Vec<_> = d
            .assumptions
            .iter()
            .filter(|a| a.scenario == *name)
            .filter(|a| baseline.get(a.parameter.as_str()) != Some(&a.value.as_str()))
            .collect();
        let by = |c: &str| changed.iter().filter(|a| a.confidence == c).count();
        let (high, medium, low) = (by("high"), by("medium"), by("low"));
        let unstated = changed.len() - high - medium - low;
        let mut parts = Vec::new();
        for (n, word) in [
            (high, "high"),
            (medium, "medium"),
            (low, "low"),
            (unstated, "not stated"),
        ] {
            if n > 0 {
                parts.push(format!("{n} {word}"));
            }
        }
        let _ = writeln!(
            out,
            "<li><strong>{}</strong>: {} assumption{}{}</li>",
            html(name),
            changed.len(),
            if changed.len() == 1 { "" } else { "s" },
            if parts.is_empty() {
                String::new()
            } else {
                format!(" ({})", parts.join(", "))
            }
        );
    }
    out.push_str("</ul>\n");
}

/// The scenario's money bridge: from the net revenue saving to the net
/// present value, and to the revenue budget impact.
fn bridge_tables(out: &mut String, a: &Appraisal, ranged: &str) {
    for (caption, steps) in [
        (
            "From the net revenue saving to the net present value",
            &a.bridge.appraisal,
        ),
        (
            "From the net revenue saving to the revenue budget impact",
            &a.bridge.budget,
        ),
    ] {
        if steps.is_empty() {
            continue;
        }
        let _ = writeln!(
            out,
            "<table class=\"bridge\"><caption>{}</caption><thead><tr><th>Line</th><th>£{ranged}</th></tr></thead><tbody>",
            html(caption)
        );
        for s in steps {
            let (open, close) = if s.total {
                ("<strong>", "</strong>")
            } else {
                ("", "")
            };
            let _ = writeln!(
                out,
                "<tr><td>{open}{}{close}</td><td class=\"n\">{open}{}{close}</td></tr>",
                html(&s.name),
                band_cell(&s.amount, money)
            );
        }
        out.push_str("</tbody></table>\n");
    }
}

/// The assumptions that decide each scenario's result, from a sensitivity
/// run in the same folder; without one, how to measure them.
fn deciding(out: &mut String, d: &RunData, figures: &[Figure], svgs: &HashMap<&str, &str>) {
    out.push_str("<h2 id=\"deciding\">The assumptions that decide this result</h2>\n");
    if d.sensitivity.is_empty() {
        out.push_str("<p>Not measured for this run. <code>upstream sensitivity</code> runs the same comparison with each uncertain assumption at each end of its range and writes this report with the assumptions that move each result most.</p>\n");
        return;
    }
    let morris = d.morris.first().map(|r| r.trajectories);
    let _ = writeln!(
        out,
        "<p>Each uncertain assumption was set to the low and then the high end of its range, every other at its value, and the comparison run again with the same luck, so each difference below is the assumption's, not chance's.{} Assumptions are listed from the largest swing in net present value; the full list is in <code>{}</code>{}.</p>",
        match morris {
            Some(t) => format!(
                " A Morris screen of {t} trajectories also moved them together: μ* is the mean size of an assumption's effect on net present value over its whole range, wherever the others were, and σ how much that effect depends on them."
            ),
            None => String::new(),
        },
        crate::published::SENSITIVITY_FILE,
        if morris.is_some() {
            format!(" and <code>{}</code>", crate::published::MORRIS_FILE)
        } else {
            String::new()
        }
    );
    for (s, name) in d.names().enumerate().skip(1) {
        let rows = d.swings(s);
        let Some(first) = rows.first() else { continue };
        let screened: HashMap<&str, &crate::published::MorrisRecord> = d
            .screened(s)
            .into_iter()
            .map(|r| (r.parameter.as_str(), r))
            .collect();
        let _ = writeln!(
            out,
            "<h3>{}</h3>\n<p>Net present value {} and {} crisis-months avoided with every assumption at its value.</p>",
            html(name),
            html(&money(first.npv_gbp_central)),
            html(&count(first.crisis_months_avoided_central))
        );
        out.push_str("<table><thead><tr><th>Assumption</th><th>Range</th><th>Net present value at the low end</th><th>At the high end</th><th>Swing</th><th>Crisis-months avoided at the low end</th><th>At the high end</th>");
        if morris.is_some() {
            out.push_str("<th>Morris μ*</th><th>σ</th>");
        }
        out.push_str("</tr></thead><tbody>\n");
        for r in rows.iter().take(super::figures::DECIDING) {
            let _ = write!(
                out,
                "<tr><td><code>{}</code></td><td>{} to {}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>",
                html(&r.parameter),
                html(&r.range_low),
                html(&r.range_high),
                html(&money(r.npv_gbp_at_low)),
                html(&money(r.npv_gbp_at_high)),
                html(&money(r.npv_swing_gbp)),
                html(&count(r.crisis_months_avoided_at_low)),
                html(&count(r.crisis_months_avoided_at_high))
            );
            if morris.is_some() {
                match screened.get(r.parameter.as_str()) {
                    Some(m) => {
                        let _ = write!(
                            out,
                            "<td>{}</td><td>{}</td>",
                            html(&money(m.npv_gbp_mu_star)),
                            html(&money(m.npv_gbp_sigma))
                        );
                    }
                    None => out.push_str("<td></td><td></td>"),
                }
            }
            out.push_str("</tr>\n");
        }
        out.push_str("</tbody></table>\n");
    }
    charts_of(out, figures, svgs, Section::Decide);
}

fn appraisal_of<'a>(d: &'a RunData, name: &str) -> Option<&'a Appraisal> {
    d.economics.appraisals.iter().find(|a| a.scenario == name)
}

fn assumptions(out: &mut String, d: &RunData) {
    let names: Vec<&str> = d.names().collect();
    let baseline: HashMap<&str, &str> = d
        .assumptions
        .iter()
        .filter(|a| a.scenario == names[0])
        .map(|a| (a.parameter.as_str(), a.value.as_str()))
        .collect();
    for (s, name) in names.iter().enumerate() {
        let mut rows: Vec<_> = d
            .assumptions
            .iter()
            .filter(|a| a.scenario == *name)
            .filter(|a| s == 0 || baseline.get(a.parameter.as_str()) != Some(&a.value.as_str()))
            .collect();
        // Where a sensitivity run measured them, the assumptions that move
        // the result most come first: for the baseline, by their largest
        // effect on any scenario.
        let deciding: HashMap<&str, u32> = if s == 0 {
            let mut m: HashMap<&str, u32> = HashMap::new();
            for r in &d.sensitivity {
                let e = m.entry(r.parameter.as_str()).or_insert(r.rank);
                *e = (*e).min(r.rank);
            }
            m
        } else {
            d.swings(s)
                .into_iter()
                .map(|r| (r.parameter.as_str(), r.rank))
                .collect()
        };
        let by_effect = !deciding.is_empty();
        if s > 0 || by_effect {
            // Then what a scenario changes, weakest evidence first: the
            // values a board should question before acting.
            let grade = |c: &str| match c {
                "low" => 0,
                "" => 1,
                "medium" => 2,
                _ => 3,
            };
            rows.sort_by_key(|a| {
                (
                    deciding
                        .get(a.parameter.as_str())
                        .copied()
                        .unwrap_or(u32::MAX),
                    if s > 0 { grade(&a.confidence) } else { 0 },
                )
            });
        }
        let _ = writeln!(
            out,
            "<h3>{}{}</h3>",
            html(name),
            match (s == 0, by_effect) {
                (true, false) => " (every assumption)",
                (true, true) => " (every assumption, those that move a result most first)",
                (false, false) => " (what differs from the baseline, the least certain first)",
                (false, true) =>
                    " (what differs from the baseline, those that move its result most first, then the least certain)",
            }
        );
        if rows.is_empty() {
            out.push_str("<p>No assumption differs from the baseline.</p>\n");
            continue;
        }
        out.push_str("<table><thead><tr><th>Assumption</th><th>Value</th><th>Source</th><th>Confidence</th><th>Range under --uncertainty</th></tr></thead><tbody>\n");
        for a in rows {
            let conf = if a.confidence.is_empty() {
                "not stated".to_string()
            } else {
                a.confidence.clone()
            };
            let _ = writeln!(
                out,
                "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td class=\"conf-{}\">{}</td><td>{}</td></tr>",
                html(&a.parameter),
                html(&a.value),
                html(&a.source),
                html(&a.confidence),
                html(&conf),
                html(&range_text(a))
            );
        }
        out.push_str("</tbody></table>\n");
    }
}

/// An assumption's range in words: "0.4 to 0.6, triangular (default width
/// for low confidence (±50%))", why it is held fixed, or nothing.
fn range_text(a: &super::data::AssumptionRow) -> String {
    if a.range_low.is_empty() {
        return a.uncertainty.clone();
    }
    format!(
        "{} to {}, {} ({})",
        a.range_low, a.range_high, a.distribution, a.uncertainty
    )
}

const INCLUDES: &[&str] = &[
    "Residents in households and neighbourhoods, each with an age, a need level (thriving, coping, struggling, crisis) and five risk factors whose prevalence rises with deprivation.",
    "Need moving up or down each month with risk factors, age, stress shared within a household, connection to community assets and any intervention's effect.",
    "Reactive services: events (A&E, admissions, ambulance, police, mental-health crisis) and episodes with capacity (adult residential care, children's placements, temporary accommodation), overflowing to spot purchase at a premium or a waiting list.",
    "Interventions defined in the scenario: caseload programmes with targeting, engagement, dropout, ramp-up and a lingering effect; community assets; capital purchases of places.",
    "Failure demand from handoffs between services, shocks to risk factors, yearly deaths, moves and births, and ageing.",
    "A place that grows or ages only as its scenario declares (a table of residents by age band and year, such as a population projection); without one, the place holds its size and ages.",
    "Money: unit costs at a price base, inflation, Green Book discounting, optimism bias, capital financing, cashable shares, and who pays and who saves.",
];

const EXCLUDES: &[&str] = &[
    "Growth in households: a growing place's newcomers join existing households (a household holds room for them from the start), so the number of households stays fixed.",
    "More than one intervention per resident at a time: enrolment ends another programme's lingering effect.",
    "Workforce limits, provider markets and prices that respond to demand, beyond the spot premium.",
    "Effects outside the place, and savings to payers the scenario does not name.",
    "Certainty about behaviour: many behaviour parameters are illustrative and marked low confidence; see the assumptions. Results compare scenarios under stated assumptions; they are not forecasts.",
];

/// Inputs that are rarely meant, beside the headlines they may distort.
fn warnings(out: &mut String, d: &RunData) {
    let all: Vec<(&str, &crate::published::Warning)> = d
        .summary
        .scenarios
        .iter()
        .flat_map(|s| s.warnings.iter().map(move |w| (s.name.as_str(), w)))
        .collect();
    if all.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "<h3 id=\"warnings\">Warnings about the inputs</h3>\n<p>{} in the scenario files {} rarely meant. Check {} before reading the results (<code>--strict</code> refuses them).</p>\n<ul class=\"warnings\">",
        if all.len() == 1 {
            "One value".to_string()
        } else {
            format!("{} values", words::number_word(all.len() as u32))
        },
        if all.len() == 1 { "is" } else { "are" },
        if all.len() == 1 { "it" } else { "them" },
    );
    for (scenario, w) in all {
        let at = match (w.line, &w.field) {
            (Some(line), Some(field)) => format!(
                "{}, line {line}, <code>{}</code>",
                html(&w.file),
                html(field)
            ),
            (None, Some(field)) => format!("{}, <code>{}</code>", html(&w.file), html(field)),
            (_, None) => html(&w.file).to_string(),
        };
        let _ = writeln!(
            out,
            "<li><strong>{}</strong> ({at}): {}</li>",
            html(scenario),
            html(&w.message)
        );
    }
    out.push_str("</ul>\n");
}

pub(crate) fn list(out: &mut String, items: &[&str]) {
    out.push_str("<ul>\n");
    for i in items {
        let _ = writeln!(out, "<li>{}</li>", html(i));
    }
    out.push_str("</ul>\n");
}

fn reproduce(out: &mut String, d: &RunData) {
    let s = &d.summary.settings;
    let mut files: Vec<&str> = Vec::new();
    for sc in &d.summary.scenarios {
        if let Some(f) = sc.files.first() {
            files.push(&f.path);
        }
    }
    let years = if s.months.is_multiple_of(12) {
        format!(" --years {}", s.months / 12)
    } else {
        String::new()
    };
    // Every option that changes the results; threads and output do not.
    let uncertainty = if s.parameters_drawn > 0 {
        " --uncertainty"
    } else {
        ""
    };
    let command = format!(
        "upstream run --seed {} --replicates {}{years}{uncertainty} {}",
        s.seed,
        s.replicates,
        files.join(" ")
    );
    out.push_str("<footer><h2 id=\"reproduce\">Reproducing this run</h2>\n");
    let _ = writeln!(
        out,
        "<p>Upstream {}; seed {}; {} replicates per scenario; {} residents; {} months from {} after {} months of burn-in; {} resident-months simulated{}. The same command, version and files give the same numbers, byte for byte, whatever the number of threads.</p>",
        html(&s.upstream_version),
        s.seed,
        s.replicates,
        count(s.residents as f64),
        s.months,
        html(&s.start),
        s.burn_in_months,
        count(s.resident_months_simulated as f64),
        if s.burn_in_resident_months_shared > 0 {
            format!(
                " ({} more of burn-in shared between scenarios that run the same one, rather than simulated again)",
                count(s.burn_in_resident_months_shared as f64)
            )
        } else {
            String::new()
        },
    );
    let _ = writeln!(
        out,
        "<p>Command: <code>{}</code><br>Rebuild this report from the output folder without re-running: <code>upstream report OUTPUT-FOLDER</code></p>",
        html(&command)
    );
    out.push_str(
        "<table><thead><tr><th>Scenario</th><th>File</th><th>SHA-256</th></tr></thead><tbody>\n",
    );
    for sc in &d.summary.scenarios {
        for f in &sc.files {
            let _ = writeln!(
                out,
                "<tr><td>{}</td><td><code>{}</code></td><td><code>{}</code></td></tr>",
                html(&sc.name),
                html(&f.path),
                html(&f.sha256)
            );
        }
    }
    out.push_str("</tbody></table>\n");
    let _ = writeln!(
        out,
        "<p>Money is in pounds at {} prices. Net present values are discounted ({}) with optimism bias. Ranges are the 5th to 95th percentiles across replicates; differences from the baseline are paired replicate by replicate. {}</p></footer>",
        html(&d.price_base_label()),
        html(&d.economics.conventions.discount.name),
        html(&format!(
            "{}{}",
            crate::published::bands_cover(d.summary.settings.parameters_drawn),
            d.summary
                .settings
                .scaled
                .map_or(String::new(), |s| format!(" {}", s.sentence()))
        ))
    );
}

/// The id of the technical appendix's heading: what comes before it is the
/// board summary.
pub const APPENDIX: &str = "appendix";

/// The whole report page. `svgs` holds each figure's SVG by file name.
pub(crate) fn page(d: &RunData, figures: &[Figure], svgs: &HashMap<&str, &str>) -> String {
    let names: Vec<&str> = d.names().collect();
    let s = &d.summary.settings;
    let months = d.months();
    let mut out = String::with_capacity(1 << 20);
    let title = match names.len() - 1 {
        0 => format!("Upstream: {}", names[0]),
        1 => format!("Upstream: {} and one other scenario", names[0]),
        n => format!(
            "Upstream: {} and {} other scenarios",
            names[0],
            words::number_word(n as u32)
        ),
    };
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en-GB\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        html(&title)
    );
    let _ = writeln!(
        out,
        "<header><h1>{}</h1><p class=\"lede\">{} residents over {} from {}, {} replicates per scenario. Money at {} prices. Every result is a comparison with the baseline under the stated assumptions, not a forecast.</p></header>",
        html(&title),
        count(s.residents as f64),
        html(&words::number_word(months / 12)).to_string()
            + if months / 12 == 1 { " year" } else { " years" },
        html(&d.timeline.fy_of_month(1)),
        s.replicates,
        html(&d.price_base_label()),
    );
    out.push_str("<h2 id=\"headlines\" class=\"first\">Board summary</h2>\n");
    // Before any figure they may distort.
    warnings(&mut out, d);
    let _ = writeln!(
        out,
        "<p>Each scenario against the baseline, <strong>{}</strong>, in the terms of its money bridge (step by step in the appendix). Extra spending, reactive cost avoided and the net revenue saving are undiscounted, at {} prices, as simulated, with the allowance for optimism bias beside the spending; payback and the net present value are discounted, with optimism bias.</p>",
        html(names[0]),
        html(&d.price_base_label())
    );
    if s.replicates < super::MIN_REPLICATES_FOR_RANGES {
        let _ = writeln!(
            out,
            "<p><strong>This run has {} replicate{}: too few for a 90% range, which needs at least {}, so figures are given as means alone.</strong></p>",
            s.replicates,
            if s.replicates == 1 { "" } else { "s" },
            super::MIN_REPLICATES_FOR_RANGES
        );
    }
    let warned = |name: &str| {
        d.summary
            .scenarios
            .iter()
            .enumerate()
            .any(|(i, sc)| (i == 0 || sc.name == name) && !sc.warnings.is_empty())
    };
    for a in d.economics.appraisals.iter() {
        let mark = if warned(&a.scenario) {
            " <strong class=\"warned\">(This rests on inputs warned about above.)</strong>"
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "<p class=\"headline\">{}{mark}</p>",
            html(&headline(a, months, &d.timeline))
        );
    }
    board_tables(&mut out, d);
    information(&mut out, d, figures);
    capital_schemes(&mut out, d);
    changes(&mut out, d);
    deciding(&mut out, d, figures, svgs);

    // Everything after this heading is the technical appendix.
    let _ = writeln!(
        out,
        "<h2 id=\"{APPENDIX}\">Technical appendix</h2>\n<p>Each scenario's money bridge and charts, demand and outcomes, neighbourhoods, every assumption, what the model leaves out, and how to reproduce the run.</p>"
    );
    out.push_str("<nav><ol><li><a href=\"#headlines\">Board summary</a></li>\n");
    for (i, n) in names.iter().enumerate().skip(1) {
        let _ = writeln!(out, "<li><a href=\"#scenario-{i}\">{}</a></li>", html(n));
    }
    if figures.iter().any(|f| f.section == Section::Worth) {
        out.push_str("<li><a href=\"#worth\">Is it worth it?</a></li>");
    }
    out.push_str("<li><a href=\"#demand\">Demand and outcomes</a></li><li><a href=\"#neighbourhoods\">Neighbourhoods</a></li><li><a href=\"#assumptions\">Assumptions</a></li><li><a href=\"#scope\">What the model includes</a></li><li><a href=\"#reproduce\">Reproducing this run</a></li></ol></nav>\n");

    for (i, n) in names.iter().enumerate().skip(1) {
        let _ = writeln!(out, "<h2 id=\"scenario-{i}\">{}</h2>", html(n));
        if let Some(desc) = &d.summary.scenarios[i].description {
            let _ = writeln!(out, "<p class=\"lede\">{}</p>", html(desc));
        }
        if let Some(a) = appraisal_of(d, n) {
            let _ = writeln!(
                out,
                "<p class=\"headline\">{}</p>",
                html(&headline(a, months, &d.timeline))
            );
            bridge_tables(&mut out, a, ranged(d));
        }
        charts_of(&mut out, figures, svgs, Section::Scenario(i));
    }

    worth(&mut out, figures, svgs);
    out.push_str("<h2 id=\"demand\">Demand and outcomes</h2>\n<p>Each measure for every scenario over time, then each scenario's difference from the baseline, paired replicate by replicate.</p>\n");
    charts_of(&mut out, figures, svgs, Section::Demand);
    out.push_str("<h2 id=\"neighbourhoods\">Neighbourhoods</h2>\n");
    if figures.iter().any(|f| f.section == Section::Neighbourhoods) {
        out.push_str("<p>Where each scenario changes crisis, neighbourhood by neighbourhood, the most deprived first.</p>\n");
        charts_of(&mut out, figures, svgs, Section::Neighbourhoods);
    } else if names.len() < 2 {
        out.push_str("<p>There is no scenario to compare with the baseline.</p>\n");
    } else {
        out.push_str(
            "<p>The output folder has no figures by neighbourhood for the baseline.</p>\n",
        );
    }

    out.push_str("<h2 id=\"assumptions\">Assumptions</h2>\n<p>Every number a scenario sets, with its source and confidence as the scenario file states them. Low-confidence values are illustrative and should be replaced with local evidence before a decision rests on them.</p>\n");
    assumptions(&mut out, d);

    out.push_str(
        "<h2 id=\"scope\">What the model includes and leaves out</h2>\n<h3>Included</h3>\n",
    );
    list(&mut out, INCLUDES);
    out.push_str("<h3>Left out</h3>\n");
    list(&mut out, EXCLUDES);
    reproduce(&mut out, d);
    out.push_str("</body>\n</html>\n");
    out
}

/// A page of its own, for an experiment's folder: the report's styles, a
/// title and lede, then `body`.
pub(crate) fn standalone(title: &str, lede: &str, body: &str) -> String {
    let mut out = String::with_capacity(body.len() + STYLE.len() + 1024);
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en-GB\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{t}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<header><h1>{t}</h1><p class=\"lede\">{}</p></header>\n",
        html(lede),
        t = html(title)
    );
    out.push_str(body);
    out.push_str("</body>\n</html>\n");
    out
}

/// A table of `rows` under `head`, in a box that scrolls sideways on a
/// narrow screen. Cells are HTML already; `numeric` says which columns
/// hold figures, set right.
pub(crate) fn table(out: &mut String, head: &[&str], numeric: &[bool], rows: &[Vec<String>]) {
    out.push_str("<div class=\"wide\"><table><thead><tr>");
    for h in head {
        let _ = write!(out, "<th>{}</th>", html(h));
    }
    out.push_str("</tr></thead><tbody>\n");
    for r in rows {
        out.push_str("<tr>");
        for (i, c) in r.iter().enumerate() {
            let class = if numeric.get(i) == Some(&true) {
                " class=\"n\""
            } else {
                ""
            };
            let _ = write!(out, "<td{class}>{c}</td>");
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody></table></div>\n");
}

/// A band as a table cell: the mean and its 90% range, or the mean alone
/// when `ranged` is false.
pub(crate) fn band_or_mean(b: &crate::metrics::Band, f: fn(f64) -> String, ranged: bool) -> String {
    if ranged {
        cell(&f(b.mean), &f(b.p5), &f(b.p95))
    } else {
        html(&f(b.mean))
    }
}

/// The figures `charts` as a grid, each with its SVG from `svgs`.
pub(crate) fn chart_grid(
    out: &mut String,
    charts: &[&super::charts::Chart],
    svgs: &HashMap<&str, &str>,
) {
    out.push_str("<div class=\"charts\">\n");
    for c in charts {
        let _ = writeln!(
            out,
            "<figure id=\"{id}\">{}<figcaption>{}</figcaption></figure>",
            inline_svg(
                svgs.get(c.file.as_str()).copied().unwrap_or(""),
                &c.file,
                &c.alt
            ),
            html(&c.alt),
            id = c.file
        );
    }
    out.push_str("</div>\n");
}
