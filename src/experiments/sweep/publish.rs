//! What `upstream sweep` publishes: its CSV files, and its page and charts.

#[allow(unused_imports)]
use crate::output::cells::*;

/// A sweep's results: a row per grid point and scenario (after the
/// baseline), in grid order, with each axis's value in a column named by
/// its parameter.
pub fn sweep_csv(sweep: &super::Swept) -> Vec<u8> {
    let rows = sweep.points.iter().flat_map(|p| {
        p.scenarios.iter().map(move |f| {
            let mut row = vec![text(f.scenario.as_str())];
            row.extend(p.values.iter().map(|v| number(*v)));
            row.extend(npv_and_crisis_months(&f.npv, &f.crisis_months_avoided));
            row.extend([
                pounds(f.pv_savings.mean),
                pounds(f.pv_investment.mean),
                number(f.payback_within_horizon),
                f.payback_month_p50
                    .map_or(Cell::Number(String::new()), |m| whole(m as u64)),
                text(p.id.as_str()),
            ]);
            row
        })
    });
    let mut header: Vec<String> = vec!["scenario".into()];
    for a in &sweep.axes {
        header.push(if a.multiples {
            format!("{} (multiple of the stated value)", a.parameter)
        } else {
            a.parameter.clone()
        });
    }
    header.extend(NPV_AND_CRISIS_MONTHS.map(String::from));
    header.extend(
        [
            "pv_savings_gbp_mean",
            "pv_investment_gbp_mean",
            "share_paying_back_discounted",
            "payback_month_discounted_p50",
            "run_id",
        ]
        .map(String::from),
    );
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    csv_bytes(&header, rows)
}
