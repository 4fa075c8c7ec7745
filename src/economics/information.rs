//! The value of information: what knowing the uncertain parameters would
//! be worth to the decision between the scenarios (the baseline, doing
//! nothing new, among them), in £ of net present value for the place's
//! population over the horizon.
//!
//! The decision takes the option with the highest expected net present
//! value. With perfect information it would take, in each replicate, that
//! replicate's best; the expected value of perfect information (EVPI) is
//! the difference. Knowing one parameter alone is worth its expected value
//! of partial perfect information (EVPPI): each option's expected net
//! present value given the parameter, estimated by regression on the
//! parameter's draw (Strong and Oakley's approach, here the mean within
//! equal-count bins of the parameter's quantile), then the same
//! difference. A group of parameters a study or a pilot would measure
//! together (one programme's effects, one service's costs, the need
//! process) has its own EVPPI, by a regression on every member's draw at
//! once: least squares on each member's normal score and its square,
//! which is exact for a net benefit linear in the normal scores, and
//! needs [`GROUP_REPLICATES_PER_TERM`] replicates a term.
//!
//! A replicate's net present value mixes the parameters' effect with
//! chance, the luck in residents' lives, which no study can remove. Under
//! common random numbers the same replicate run with every parameter at
//! its value meets the same luck, so the difference between the two is the
//! parameters' effect alone; the figures here are computed on that
//! difference added to the stated run's mean.

use serde::{Deserialize, Serialize};

use crate::metrics::f64_or_nan;

/// What knowing the parameters would be worth to the decision.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ValueOfInformation {
    /// Replicates it is estimated from.
    pub replicates: u32,
    /// The option with the highest expected net present value: a
    /// scenario's name, or the baseline's.
    pub best: String,
    /// Expected value of perfect information, £: every parameter known.
    #[serde(deserialize_with = "f64_or_nan")]
    pub evpi_gbp: f64,
    /// Expected value of partial perfect information, £, one parameter
    /// known, largest first.
    pub parameters: Vec<PartialValue>,
    /// Expected value of partial perfect information, £, each group of
    /// two or more parameters known together, largest first; empty where
    /// the run has too few replicates for a group's regression.
    #[serde(default)]
    pub groups: Vec<GroupValue>,
}

/// What knowing a group of parameters together would be worth.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct GroupValue {
    /// What the group shares: its parameters' common dotted prefix, such
    /// as `interventions.family_early_help`.
    pub group: String,
    /// Its parameters' dotted names.
    pub parameters: Vec<String>,
    /// Its expected value of partial perfect information, £.
    #[serde(deserialize_with = "f64_or_nan")]
    pub evppi_gbp: f64,
}

/// What knowing one parameter would be worth.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PartialValue {
    /// The parameter's dotted name.
    pub parameter: String,
    /// Its expected value of partial perfect information, £.
    #[serde(deserialize_with = "f64_or_nan")]
    pub evppi_gbp: f64,
}

/// Each option's net benefit, replicate by replicate: `options[d][r]`.
/// The baseline is an option whose net benefit is 0 in every replicate.
fn expected_best(options: &[Vec<f64>]) -> (usize, f64) {
    let reps = options.first().map_or(0, Vec::len).max(1) as f64;
    options
        .iter()
        .map(|o| o.iter().sum::<f64>() / reps)
        .enumerate()
        .fold((0, f64::NEG_INFINITY), |best, (d, m)| {
            if m > best.1 { (d, m) } else { best }
        })
}

/// The expected value of perfect information: the mean over replicates of
/// the best option's net benefit, less the best option's mean.
pub fn evpi(options: &[Vec<f64>]) -> f64 {
    let reps = options.first().map_or(0, Vec::len);
    if reps == 0 {
        return f64::NAN;
    }
    let perfect = (0..reps)
        .map(|r| {
            options
                .iter()
                .map(|o| o[r])
                .fold(f64::NEG_INFINITY, f64::max)
        })
        .sum::<f64>()
        / reps as f64;
    (perfect - expected_best(options).1).max(0.0)
}

/// Bins a regression on one parameter uses for `replicates` replicates:
/// about the square root, so each bin's mean and the number of bins grow
/// together; at least 2.
pub fn bins(replicates: usize) -> usize {
    ((replicates as f64).sqrt().round() as usize).max(2)
}

/// The expected value of partial perfect information on a parameter whose
/// quantile in each replicate is `quantile[r]`: each option's net benefit
/// averaged within equal-count bins of the quantile (its expected value
/// given the parameter), then as [`evpi`] over the bins.
pub fn evppi(options: &[Vec<f64>], quantile: &[f64]) -> f64 {
    let reps = quantile.len();
    if reps == 0 || options.iter().any(|o| o.len() != reps) {
        return f64::NAN;
    }
    let mut order: Vec<usize> = (0..reps).collect();
    order.sort_by(|&a, &b| quantile[a].total_cmp(&quantile[b]).then(a.cmp(&b)));
    let b = bins(reps).min(reps);
    // Each replicate stands for its bin's mean.
    let fitted: Vec<Vec<f64>> = options
        .iter()
        .map(|o| {
            let mut g = vec![0.0; reps];
            for k in 0..b {
                let members = &order[k * reps / b..(k + 1) * reps / b];
                let mean = members.iter().map(|&r| o[r]).sum::<f64>() / members.len() as f64;
                for &r in members {
                    g[r] = mean;
                }
            }
            g
        })
        .collect();
    evpi(&fitted)
}

/// Replicates a group's regression needs for each of its terms (two a
/// member and the constant): fewer, and the fit takes chance for
/// information.
pub const GROUP_REPLICATES_PER_TERM: usize = 20;

/// The group a parameter belongs to: what a study of one thing would
/// measure together. A service's, a programme's or a risk factor's
/// parameters (`episodes.childrens_placement.weekly_cost`) by its first
/// two names; every other section's (`need.escalation_per_month`) by its
/// first.
pub fn group_of(parameter: &str) -> &str {
    let mut dots = parameter.match_indices('.').map(|(i, _)| i);
    let first = dots.next().unwrap_or(parameter.len());
    let owned = matches!(
        &parameter[..first],
        "episodes" | "events" | "interventions" | "risk_factors" | "shocks"
    );
    match (owned, dots.next()) {
        (true, Some(second)) => &parameter[..second],
        (true, None) => parameter,
        (false, _) => &parameter[..first],
    }
}

/// The expected value of partial perfect information on a group of
/// parameters, `quantiles[j][r]` member `j`'s quantile in replicate `r`:
/// each option's net benefit fitted by least squares on every member's
/// normal score and its square, then as [`evpi`] over the fitted values.
/// NaN where there are too few replicates for the terms.
pub fn evppi_group(options: &[Vec<f64>], quantiles: &[&[f64]]) -> f64 {
    use statrs::distribution::{ContinuousCDF, Normal};
    let reps = quantiles.first().map_or(0, |q| q.len());
    let terms = 1 + 2 * quantiles.len();
    if reps < GROUP_REPLICATES_PER_TERM * terms
        || quantiles.iter().any(|q| q.len() != reps)
        || options.iter().any(|o| o.len() != reps)
    {
        return f64::NAN;
    }
    let normal = Normal::standard();
    // Each replicate's terms: 1, then z and z² for each member.
    let x: Vec<Vec<f64>> = (0..reps)
        .map(|r| {
            let mut row = Vec::with_capacity(terms);
            row.push(1.0);
            for q in quantiles {
                let z = normal.inverse_cdf(q[r].clamp(1e-9, 1.0 - 1e-9));
                row.extend([z, z * z - 1.0]);
            }
            row
        })
        .collect();
    let mut xtx = vec![vec![0.0; terms]; terms];
    for row in &x {
        for i in 0..terms {
            for j in 0..terms {
                xtx[i][j] += row[i] * row[j];
            }
        }
    }
    let fitted: Option<Vec<Vec<f64>>> = options
        .iter()
        .map(|o| {
            let xty: Vec<f64> = (0..terms)
                .map(|i| x.iter().zip(o).map(|(row, y)| row[i] * y).sum())
                .collect();
            let beta = solve(xtx.clone(), xty)?;
            Some(
                x.iter()
                    .map(|row| row.iter().zip(&beta).map(|(a, b)| a * b).sum())
                    .collect(),
            )
        })
        .collect();
    fitted.map_or(f64::NAN, |f| evpi(&f))
}

/// `a β = b` by Gaussian elimination with partial pivoting; `None` if `a`
/// is singular (two members drawn as one).
fn solve(mut a: Vec<Vec<f64>>, mut b: Vec<f64>) -> Option<Vec<f64>> {
    let n = b.len();
    let scale = a.iter().flatten().fold(0.0f64, |m, v| m.max(v.abs()));
    for col in 0..n {
        let pivot = (col..n).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))?;
        if a[pivot][col].abs() <= 1e-12 * scale {
            return None;
        }
        a.swap(col, pivot);
        b.swap(col, pivot);
        let (above, below) = a.split_at_mut(col + 1);
        let top = &above[col];
        for (i, row) in below.iter_mut().enumerate() {
            let f = row[col] / top[col];
            for (x, t) in row[col..].iter_mut().zip(&top[col..]) {
                *x -= f * t;
            }
            b[col + 1 + i] -= f * b[col];
        }
    }
    let mut beta = vec![0.0; n];
    for row in (0..n).rev() {
        let rest: f64 = (row + 1..n).map(|k| a[row][k] * beta[k]).sum();
        beta[row] = (b[row] - rest) / a[row][row];
    }
    Some(beta)
}

/// Each group of two or more parameters ([`group_of`]) and its value,
/// largest first; a group the replicates cannot fit is left out.
fn groups(options: &[Vec<f64>], quantiles: &[(String, Vec<f64>)], reps: usize) -> Vec<GroupValue> {
    let mut by_group: Vec<(&str, Vec<usize>)> = Vec::new();
    for (i, (name, _)) in quantiles.iter().enumerate() {
        let g = group_of(name);
        match by_group.iter_mut().find(|(k, _)| *k == g) {
            Some((_, members)) => members.push(i),
            None => by_group.push((g, vec![i])),
        }
    }
    let mut out: Vec<GroupValue> = by_group
        .into_iter()
        .filter(|(_, members)| members.len() > 1)
        .filter_map(|(g, members)| {
            let q: Vec<&[f64]> = members
                .iter()
                .map(|&i| &quantiles[i].1[..reps.min(quantiles[i].1.len())])
                .collect();
            let value = evppi_group(options, &q);
            value.is_finite().then(|| GroupValue {
                group: g.to_string(),
                parameters: members.iter().map(|&i| quantiles[i].0.clone()).collect(),
                evppi_gbp: value,
            })
        })
        .collect();
    out.sort_by(|a, b| {
        b.evppi_gbp
            .total_cmp(&a.evppi_gbp)
            .then(a.group.cmp(&b.group))
    });
    out
}

/// The decision's value of information. `names[d]` and `npv[d][r]` are
/// each scenario's name and net present value (the baseline, worth 0,
/// first, with its own name and an empty list); `chance[d][r]` the same
/// replicates with every parameter at its value; `quantiles` each
/// parameter's name and quantile by replicate.
pub fn value_of_information(
    names: &[&str],
    npv: &[&[f64]],
    chance: &[&[f64]],
    quantiles: &[(String, Vec<f64>)],
) -> ValueOfInformation {
    let reps = npv
        .iter()
        .chain(chance)
        .map(|v| v.len())
        .filter(|&n| n > 0)
        .min()
        .unwrap_or(0);
    // The parameters' effect on the stated run's mean: chance removed,
    // replicate by replicate, as far as the pairing removes it.
    let options: Vec<Vec<f64>> = npv
        .iter()
        .zip(chance)
        .map(|(drawn, stated)| {
            if drawn.is_empty() {
                return vec![0.0; reps];
            }
            let mean = stated[..reps].iter().sum::<f64>() / reps.max(1) as f64;
            (0..reps).map(|r| drawn[r] - stated[r] + mean).collect()
        })
        .collect();
    let mut parameters: Vec<PartialValue> = quantiles
        .iter()
        .map(|(name, q)| PartialValue {
            parameter: name.clone(),
            evppi_gbp: evppi(&options, &q[..reps.min(q.len())]),
        })
        .collect();
    parameters.sort_by(|a, b| {
        b.evppi_gbp
            .total_cmp(&a.evppi_gbp)
            .then(a.parameter.cmp(&b.parameter))
    });
    ValueOfInformation {
        groups: groups(&options, quantiles, reps),
        replicates: reps as u32,
        best: names
            .get(expected_best(&options).0)
            .map_or(String::new(), |n| n.to_string()),
        evpi_gbp: evpi(&options),
        parameters,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use statrs::distribution::{Continuous, ContinuousCDF, Normal};

    /// Net benefit normal with mean `a` and standard deviation `b` against
    /// doing nothing: the value of perfect information is
    /// `b φ(a/b) + a Φ(a/b) − max(0, a)`.
    fn closed_form(a: f64, b: f64) -> f64 {
        let n = Normal::standard();
        b * n.pdf(a / b) + a * n.cdf(a / b) - a.max(0.0)
    }

    /// Replicate `r` of `n`'s quantile of a parameter: an even spread,
    /// shuffled by a fixed stride so the order of replicates carries none.
    fn quantile(r: usize, n: usize, stride: usize) -> f64 {
        ((r * stride) % n) as f64 / n as f64 + 0.5 / n as f64
    }

    #[test]
    fn evpi_and_evppi_match_the_closed_form_for_a_normal_net_benefit() {
        let n = 10_000;
        let z = |u: f64| Normal::standard().inverse_cdf(u);
        for (a, b) in [(-1.0e6, 2.0e6), (0.5e6, 1.0e6), (0.0, 3.0e6)] {
            let phi: Vec<f64> = (0..n).map(|r| quantile(r, n, 7_919)).collect();
            let psi: Vec<f64> = (0..n).map(|r| quantile(r, n, 3_571)).collect();
            let fund: Vec<f64> = phi.iter().map(|&u| a + b * z(u)).collect();
            let options = vec![vec![0.0; n], fund.clone()];
            let want = closed_form(a, b);
            let got = evpi(&options);
            assert!(
                (got - want).abs() < 0.01 * want,
                "EVPI {got} against {want}"
            );
            // The parameter that sets the net benefit is worth all of it; one
            // that does not, next to nothing.
            let on_phi = evppi(&options, &phi);
            assert!(
                (on_phi - want).abs() < 0.03 * want,
                "EVPPI {on_phi} against {want}"
            );
            let on_psi = evppi(&options, &psi);
            assert!(on_psi < 0.05 * want, "EVPPI of an idle parameter {on_psi}");
        }
    }

    #[test]
    fn a_group_known_together_matches_the_closed_form_and_an_idle_group_is_worth_nothing() {
        let n = 8_000;
        let z = |u: f64| Normal::standard().inverse_cdf(u);
        let q = |stride| (0..n).map(|r| quantile(r, n, stride)).collect::<Vec<f64>>();
        let (phi, psi, chi) = (q(7_919), q(3_571), q(2_897));
        for (a, b1, b2) in [(-1.0e6, 1.5e6, 1.0e6), (0.5e6, 0.6e6, 0.8e6)] {
            // Linear in both members' normal scores, with noise no study
            // could remove.
            let fund: Vec<f64> = (0..n)
                .map(|r| a + b1 * z(phi[r]) + b2 * z(psi[r]) + 4e5 * z(chi[r]))
                .collect();
            let options = vec![vec![0.0; n], fund];
            let want = closed_form(a, b1.hypot(b2));
            let together = evppi_group(&options, &[&phi, &psi]);
            assert!(
                (together - want).abs() < 0.03 * want,
                "group EVPPI {together} against {want}"
            );
            // Knowing both is worth more than knowing either.
            assert!(together > evppi(&options, &phi) && together > evppi(&options, &psi));
            let idle = evppi_group(&options, &[&q(1_009), &q(4_001)]);
            assert!(idle < 0.1 * want, "an idle group {idle} against {want}");
        }
        // Too few replicates for the terms: no figure, rather than chance.
        let few = vec![vec![0.0; 99], vec![1.0; 99]];
        assert!(evppi_group(&few, &[&phi[..99], &psi[..99]]).is_nan());
    }

    #[test]
    fn parameters_group_by_what_one_study_would_measure() {
        for (p, g) in [
            (
                "interventions.hubs.effects[1].multiplier",
                "interventions.hubs",
            ),
            (
                "episodes.childrens_placement.weekly_cost",
                "episodes.childrens_placement",
            ),
            ("events.ae.unit_cost", "events.ae"),
            ("need.escalation_per_month", "need"),
            ("population.mortality_need_multiplier", "population"),
            ("household.crisis_stress_multiplier", "household"),
            ("interventions", "interventions"),
        ] {
            assert_eq!(group_of(p), g);
        }
        let n = 200;
        let q = |stride| (0..n).map(|r| quantile(r, n, stride)).collect::<Vec<f64>>();
        let quantiles = vec![
            ("interventions.a.x".to_string(), q(7)),
            ("need.y".to_string(), q(11)),
            ("interventions.a.z".to_string(), q(13)),
        ];
        let options = vec![
            vec![0.0; n],
            quantiles[0].1.iter().map(|u| u - 0.4).collect(),
        ];
        let g = groups(&options, &quantiles, n);
        assert_eq!(g.len(), 1, "a group of one is its parameter's own");
        assert_eq!(g[0].group, "interventions.a");
        assert_eq!(g[0].parameters, ["interventions.a.x", "interventions.a.z"]);
        assert!(g[0].evppi_gbp > 0.0);
    }

    /// Chance is not information: a net benefit that varies only by the
    /// luck the stated run meets too is worth nothing to know.
    #[test]
    fn the_luck_the_stated_run_shares_is_no_information() {
        let n = 400;
        let luck: Vec<f64> = (0..n)
            .map(|r| ((r * 37) % 101) as f64 * 1e4 - 5e5)
            .collect();
        let drawn: Vec<f64> = luck.iter().map(|l| 1e5 + l).collect();
        let q: Vec<f64> = (0..n).map(|r| quantile(r, n, 13)).collect();
        let v = value_of_information(
            &["Baseline", "Fund"],
            &[&[], &drawn],
            &[&[], &drawn],
            &[("x".into(), q)],
        );
        assert_eq!(v.evpi_gbp, 0.0);
        assert_eq!(v.parameters[0].evppi_gbp, 0.0);
        assert_eq!(v.best, "Fund");
        // Without the pairing the same luck would look like information.
        assert!(evpi(&[vec![0.0; n], drawn]) > 1e4);
    }
}
