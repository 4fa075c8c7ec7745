//! What `upstream review` publishes: its CSV files, and its page and charts.

#[allow(unused_imports)]
use crate::output::cells::*;

/// A review's counts: each observed count beside the projection's mean
/// and 90% range across replicates, and where it fell.
pub fn review_csv(r: &super::Reviewed) -> Vec<u8> {
    let rows = r.observed.observations.iter().zip(&r.rows).map(|(o, row)| {
        let mut v = vec![
            text(o.metric.as_str()),
            text(o.period.label()),
            number(o.count),
        ];
        v.extend(band_cells(&row.projected));
        v.push(text(row.side.name()));
        v.push(text(o.source.clone().unwrap_or_default()));
        v
    });
    csv_bytes(
        &[
            "metric",
            "period",
            "observed",
            "projected_mean",
            "projected_p5",
            "projected_p50",
            "projected_p95",
            "observed_against_band",
            "source",
        ],
        rows,
    )
}

/// A review's levers: each uncertain parameter at the end of its range
/// that closes more of the gap, the most first.
pub fn levers_csv(r: &super::Reviewed) -> Vec<u8> {
    let rows = r.levers.iter().map(|l| {
        vec![
            text(l.parameter.as_str()),
            text(if l.high { "high" } else { "low" }),
            Cell::Number(l.value.clone()).if_number(),
            number(l.distance),
            number(r.distance),
            number(l.closes),
            text(l.reading()),
        ]
    });
    csv_bytes(
        &[
            "parameter",
            "end",
            "value",
            "gap_there",
            "gap_as_projected",
            "share_of_gap_closed",
            "reading",
        ],
        rows,
    )
}
