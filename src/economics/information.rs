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
//! difference.
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
