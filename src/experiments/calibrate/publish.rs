//! What `upstream calibrate` publishes: its CSV files, and its page and charts.

#[allow(unused_imports)]
use crate::output::cells::*;

/// A calibration's fitted parameters: prior and posterior, and whether
/// the observed counts narrowed it (and so whether the calibrated scenario
/// restates it).
pub fn calibration_csv(c: &super::Calibration) -> Vec<u8> {
    let rows = c.parameters.iter().map(|f| {
        let u = &f.prior;
        vec![
            text(u.parameter.as_str()),
            Cell::Number(u.written(&u.central)).if_number(),
            Cell::Number(u.written(&u.low)).if_number(),
            Cell::Number(u.written(&u.high)).if_number(),
            text(u.shape.name()),
            Cell::Number(u.written(&f.posterior[0])).if_number(),
            Cell::Number(u.written(&f.posterior[1])).if_number(),
            Cell::Number(u.written(&f.posterior[2])).if_number(),
            number(f.kept),
            number(f.p_value),
            text(if f.informed() { "yes" } else { "no" }),
        ]
    });
    csv_bytes(
        &[
            "parameter",
            "stated_value",
            "prior_low",
            "prior_high",
            "prior_distribution",
            "posterior_p5",
            "posterior_p50",
            "posterior_p95",
            "share_of_prior_90pc_range_kept",
            "p_value_prior_alone",
            "restated_in_calibrated_scenario",
        ],
        rows,
    )
}

/// Every candidate a calibration ran, in the order drawn: its distance
/// from the observed counts, its rank if kept, and its parameters.
pub fn candidates_csv(c: &super::Calibration) -> Vec<u8> {
    let rows = c.candidates.iter().enumerate().map(|(i, cand)| {
        let rank = c.accepted.iter().position(|&a| a == i);
        let mut row = vec![
            whole(i as u64),
            whole(cand.generation as u64),
            number(cand.distance),
            rank.map_or(Cell::Number(String::new()), |r| whole(r as u64 + 1)),
        ];
        row.extend(
            c.parameters
                .iter()
                .zip(&cand.values)
                .map(|(f, v)| Cell::Number(f.prior.written(v)).if_number()),
        );
        row
    });
    let mut header: Vec<&str> = vec!["candidate", "generation", "distance", "kept_rank"];
    header.extend(c.parameters.iter().map(|f| f.prior.parameter.as_str()));
    csv_bytes(&header, rows)
}

/// Each observed count beside the simulation's: with every parameter as
/// stated, across every candidate (the prior) and across the kept ones
/// (the posterior), each across its replicates.
pub fn fit_csv(c: &super::Calibration) -> Vec<u8> {
    let rows = c.observed.observations.iter().zip(&c.fit).map(|(o, f)| {
        let mut row = vec![
            text(o.metric.as_str()),
            text(o.period.label()),
            number(o.count),
            number(f.stated),
        ];
        row.extend(band_cells(&f.prior));
        row.extend(band_cells(&f.posterior));
        row.push(text(if f.inside() { "true" } else { "false" }));
        row.push(text(o.source.clone().unwrap_or_default()));
        row
    });
    csv_bytes(
        &[
            "metric",
            "period",
            "observed",
            "stated_mean",
            "prior_mean",
            "prior_p5",
            "prior_p50",
            "prior_p95",
            "calibrated_mean",
            "calibrated_p5",
            "calibrated_p50",
            "calibrated_p95",
            "inside_calibrated_90",
            "source",
        ],
        rows,
    )
}
