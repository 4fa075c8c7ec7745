//! What `upstream optimise` publishes: its CSV files, and its page and charts.

#[allow(unused_imports)]
use crate::output::cells::*;

/// Every split an optimisation ran: the share of the budget, each lever's
/// £ a year and reach, the figures against the baseline, and how often it
/// was the best of its share's splits.
pub fn splits_csv(o: &super::Optimised) -> Vec<u8> {
    let best: Vec<usize> = o.best.clone();
    let rows = o.splits.iter().enumerate().map(|(i, s)| {
        let mut row = vec![
            whole((i + 1) as u64),
            number(s.share),
            pounds(s.share * o.budget.budget),
        ];
        for (l, f) in o.budget.levers.iter().zip(&s.funding) {
            row.push(pounds(f.amount));
            row.push(text(if f.amount > 0.0 {
                l.reach[f.reach].label.as_str()
            } else {
                ""
            }));
        }
        row.extend(split_figures(&s.figures));
        row.push(whole(s.wins));
        row.push(text(if best.contains(&i) { "yes" } else { "" }));
        row
    });
    let mut header: Vec<String> = ["split", "share_of_budget", "budget_gbp_a_year"]
        .map(String::from)
        .to_vec();
    for l in &o.budget.levers {
        header.push(format!("{}_gbp_a_year", l.intervention));
        header.push(format!("{}_reach", l.intervention));
    }
    header.extend(NPV_AND_CRISIS_MONTHS.map(String::from));
    header.extend(SPLIT_FIGURES.map(String::from));
    header.push("replicates_best_of_share".into());
    header.push("best_of_share".into());
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    csv_bytes(&header, rows)
}

/// The best split at each share of the budget: spend against outcome;
/// then, for comparison, the split the scenario states, as written. The
/// `row` column says which a row is.
pub fn frontier_csv(o: &super::Optimised) -> Vec<u8> {
    let best = o.best.iter().map(|&i| {
        let s = &o.splits[i];
        let mut row = vec![
            text("best"),
            number(s.share),
            pounds(s.share * o.budget.budget),
            whole((i + 1) as u64),
            text(o.describe(s)),
        ];
        row.extend(split_figures(&s.figures));
        row.push(whole(s.wins));
        row
    });
    let mut stated = vec![
        text("as written"),
        number(o.stated_amount / o.budget.budget),
        pounds(o.stated_amount),
        match o.stated_is {
            Ok(i) => whole((i + 1) as u64),
            Err(_) => Cell::Number(String::new()),
        },
        text(o.stated_sentence()),
    ];
    stated.extend(split_figures(&o.stated));
    stated.push(Cell::Number(String::new()));
    let rows = best.chain(std::iter::once(stated));
    let mut header: Vec<String> = [
        "row",
        "share_of_budget",
        "budget_gbp_a_year",
        "split",
        "funding",
    ]
    .map(String::from)
    .to_vec();
    header.extend(NPV_AND_CRISIS_MONTHS.map(String::from));
    header.extend(SPLIT_FIGURES.map(String::from));
    header.push("replicates_best_of_share".into());
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    csv_bytes(&header, rows)
}

/// The columns [`split_figures`] fills after [`NPV_AND_CRISIS_MONTHS`].
const SPLIT_FIGURES: [&str; 2] = ["pv_investment_gbp_mean", "probability_npv_positive"];

fn split_figures(f: &super::Figures) -> Vec<Cell> {
    let mut cells = Vec::from(npv_and_crisis_months(&f.npv, &f.crisis_months_avoided));
    cells.extend([
        pounds(f.pv_investment.mean),
        number(f.probability_npv_positive),
    ]);
    cells
}
