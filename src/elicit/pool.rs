//! Experts' judgements about one number, fitted and pooled: each expert's
//! quantiles as a split normal, the experts together as their linear pool
//! (the average of their distributions, each weighted alike), and the pool
//! written as the distribution a scenario states that comes closest to it.
//!
//! Why a split normal for each expert: it goes through their median and,
//! with one quantile either side, through both exactly; with two either
//! side it is their least-squares fit, and how far it misses says whether
//! their quantiles hang together. It leans the way they lean (a long tail
//! above is a wider spread above), which a normal cannot.

use statrs::distribution::{ContinuousCDF, Normal};

use crate::scenario::Shape;

/// The probabilities an expert may judge, in order: the 5th, 25th, 50th
/// (the median), 75th and 95th percentiles.
pub const PROBABILITIES: [f64; 5] = [0.05, 0.25, 0.5, 0.75, 0.95];

/// Where the pool is matched when it is written as a scenario's
/// distribution: the 5th to the 95th percentile, every 5.
fn grid() -> impl Iterator<Item = f64> {
    (1..=19).map(|k| k as f64 * 0.05)
}

fn z(p: f64) -> f64 {
    Normal::standard().inverse_cdf(p)
}

fn phi(x: f64) -> f64 {
    Normal::standard().cdf(x)
}

/// One expert's judgements as a split normal: a normal either side of their
/// median, with a spread of its own each side; on the log scale (a split
/// lognormal) when that fits their percentiles closer, as it does a long
/// tail above.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SplitNormal {
    /// The expert's median (its log, on the log scale).
    pub median: f64,
    /// The spread (standard deviation) below the median.
    pub below: f64,
    /// The spread above it.
    pub above: f64,
    /// Whether it is on the log scale.
    pub log: bool,
}

impl SplitNormal {
    /// Fitted to `points` (probability, value): one at the median, at
    /// least one either side, values rising with probability; the closer
    /// of the split normal and, for values above 0, the split lognormal.
    /// `None` if they are not.
    pub fn fit(points: &[(f64, f64)]) -> Option<SplitNormal> {
        let plain = SplitNormal::on_scale(points, false)?;
        let log = points
            .iter()
            .all(|p| p.1 > 0.0)
            .then(|| SplitNormal::on_scale(points, true))
            .flatten();
        Some(match log {
            Some(l) if l.misfit(points) < plain.misfit(points) - 1e-6 => l,
            _ => plain,
        })
    }

    fn on_scale(points: &[(f64, f64)], log: bool) -> Option<SplitNormal> {
        let t = |v: f64| if log { v.ln() } else { v };
        let median = t(points.iter().find(|p| p.0 == 0.5)?.1);
        let side = |below: bool| {
            let (mut num, mut den) = (0.0, 0.0);
            for &(p, v) in points.iter().filter(|p| p.0 != 0.5 && (p.0 < 0.5) == below) {
                let z = z(p);
                num += z * (t(v) - median);
                den += z * z;
            }
            (den > 0.0).then_some(num / den)
        };
        let (below, above) = (side(true)?, side(false)?);
        (below > 0.0 && above > 0.0 && below.is_finite() && above.is_finite()).then_some(
            SplitNormal {
                median,
                below,
                above,
                log,
            },
        )
    }

    /// The chance of a value at most `x`.
    pub fn cdf(&self, x: f64) -> f64 {
        let x = if self.log {
            if x <= 0.0 {
                return 0.0;
            }
            x.ln()
        } else {
            x
        };
        let spread = if x < self.median {
            self.below
        } else {
            self.above
        };
        phi((x - self.median) / spread)
    }

    /// The value with chance `p` below it.
    pub fn quantile(&self, p: f64) -> f64 {
        let z = z(p);
        let q = self.median + z * if z < 0.0 { self.below } else { self.above };
        if self.log { q.exp() } else { q }
    }

    /// The largest gap, as a chance, between the fit and `points`: 0 when
    /// it goes through every one.
    pub fn misfit(&self, points: &[(f64, f64)]) -> f64 {
        points
            .iter()
            .map(|&(p, v)| (self.cdf(v) - p).abs())
            .fold(0.0, f64::max)
    }
}

/// The experts' linear pool: the chance of a value at most `x` is the
/// average of their chances.
#[derive(Clone, Debug, PartialEq)]
pub struct Pool {
    /// Each expert's fitted distribution.
    pub experts: Vec<SplitNormal>,
}

impl Pool {
    /// The chance of a value at most `x`.
    pub fn cdf(&self, x: f64) -> f64 {
        self.experts.iter().map(|e| e.cdf(x)).sum::<f64>() / self.experts.len() as f64
    }

    /// The value with chance `p` below it. It lies between the experts'
    /// own `p` quantiles (at the lowest of them no expert's chance passes
    /// `p`; at the highest every one's reaches it), so halving that
    /// interval finds it.
    pub fn quantile(&self, p: f64) -> f64 {
        let qs = self.experts.iter().map(|e| e.quantile(p));
        let (mut lo, mut hi) = qs.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), q| {
            (a.min(q), b.max(q))
        });
        for _ in 0..200 {
            let mid = 0.5 * (lo + hi);
            if mid <= lo || mid >= hi {
                break;
            }
            if self.cdf(mid) < p {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        0.5 * (lo + hi)
    }
}

/// The pool written as one of the distributions a scenario states.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Fitted {
    /// Its shape.
    pub shape: Shape,
    /// The range's low end (a lognormal's 5th percentile).
    pub low: f64,
    /// The `value` written beside it: the mode of a triangle or PERT, the
    /// median of a lognormal or of the pool (for a uniform range).
    pub value: f64,
    /// The range's high end (a lognormal's 95th percentile).
    pub high: f64,
    /// The largest gap, as a chance, between it and the pool from the 5th
    /// to the 95th percentile.
    pub misfit: f64,
}

/// The shapes tried, in the order preferred when two fit alike.
pub const SHAPES: [Shape; 4] = [
    Shape::Pert,
    Shape::Lognormal,
    Shape::Triangular,
    Shape::Uniform,
];

/// `pool` as each shape that can take it, the closest first (ties in the
/// order of [`SHAPES`]).
pub fn fits(pool: &Pool) -> Vec<Fitted> {
    let mut out: Vec<Fitted> = SHAPES.iter().filter_map(|&s| fit(pool, s)).collect();
    // A stable sort keeps the preferred order among equals.
    out.sort_by(|a, b| a.misfit.total_cmp(&b.misfit));
    out
}

/// `pool` written as `shape`, if it can be (a lognormal needs the pool's
/// 5th percentile above 0).
pub fn fit(pool: &Pool, shape: Shape) -> Option<Fitted> {
    let target: Vec<(f64, f64)> = grid().map(|p| (p, pool.quantile(p))).collect();
    let median = pool.quantile(0.5);
    let (low, value, high) = match shape {
        Shape::Lognormal => {
            if target.iter().any(|t| t.1 <= 0.0) {
                return None;
            }
            // ln q = μ + σ z, by least squares.
            let pts: Vec<(f64, f64)> = target.iter().map(|&(p, q)| (z(p), q.ln())).collect();
            let (slope, intercept) = line(&pts)?;
            let z95 = z(0.95);
            (
                (intercept - z95 * slope).exp(),
                intercept.exp(),
                (intercept + z95 * slope).exp(),
            )
        }
        Shape::Uniform => {
            // q = low + p (high − low), by least squares.
            let (slope, low) = line(&target)?;
            (low, median.clamp(low, low + slope), low + slope)
        }
        Shape::Triangular | Shape::Pert => {
            let (q05, q95) = (target[0].1, target[18].1);
            let spread = (q95 - q05).max(f64::MIN_POSITIVE);
            // The mode free, each end a positive distance from it.
            let at = |x: &[f64]| (x[0] - x[1].exp(), x[0], x[0] + x[2].exp());
            let misses = |x: &[f64]| {
                let (lo, mode, hi) = at(x);
                target
                    .iter()
                    .map(|&(p, q)| (shape.cdf(lo, mode, hi, q) - p).powi(2))
                    .sum::<f64>()
            };
            let start = [
                median,
                (2.0 * (median - q05)).max(spread * 0.1).ln(),
                (2.0 * (q95 - median)).max(spread * 0.1).ln(),
            ];
            let best = nelder_mead(&misses, &start, &[spread * 0.1, 0.3, 0.3]);
            at(&best)
        }
    };
    if !(low.is_finite() && high.is_finite() && low <= value && value <= high && low < high) {
        return None;
    }
    let misfit = target
        .iter()
        .map(|&(p, q)| (shape.cdf(low, value, high, q) - p).abs())
        .fold(0.0, f64::max);
    Some(Fitted {
        shape,
        low,
        value,
        high,
        misfit,
    })
}

/// The least-squares line through `pts` (x, y): its slope and intercept,
/// if the slope is above 0.
fn line(pts: &[(f64, f64)]) -> Option<(f64, f64)> {
    let n = pts.len() as f64;
    let mx = pts.iter().map(|p| p.0).sum::<f64>() / n;
    let my = pts.iter().map(|p| p.1).sum::<f64>() / n;
    let sxy: f64 = pts.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    let sxx: f64 = pts.iter().map(|p| (p.0 - mx).powi(2)).sum();
    let slope = sxy / sxx;
    (slope > 0.0 && slope.is_finite()).then_some((slope, my - slope * mx))
}

/// The minimum of `f` near `start`, by the Nelder–Mead simplex (the first
/// simplex `step` apart in each coordinate): three numbers need no
/// gradients, and the fit is smooth.
fn nelder_mead(f: &dyn Fn(&[f64]) -> f64, start: &[f64], step: &[f64]) -> Vec<f64> {
    let n = start.len();
    let mut simplex: Vec<(Vec<f64>, f64)> = (0..=n)
        .map(|i| {
            let mut x = start.to_vec();
            if i > 0 {
                x[i - 1] += step[i - 1];
            }
            let fx = f(&x);
            (x, fx)
        })
        .collect();
    for _ in 0..2_000 {
        simplex.sort_by(|a, b| a.1.total_cmp(&b.1));
        if simplex[n].1 - simplex[0].1 < 1e-15 {
            break;
        }
        let centroid: Vec<f64> = (0..n)
            .map(|j| simplex[..n].iter().map(|v| v.0[j]).sum::<f64>() / n as f64)
            .collect();
        let toward = |t: f64| -> Vec<f64> {
            (0..n)
                .map(|j| centroid[j] + t * (simplex[n].0[j] - centroid[j]))
                .collect()
        };
        let reflected = toward(-1.0);
        let fr = f(&reflected);
        if fr < simplex[0].1 {
            let expanded = toward(-2.0);
            let fe = f(&expanded);
            simplex[n] = if fe < fr {
                (expanded, fe)
            } else {
                (reflected, fr)
            };
        } else if fr < simplex[n - 1].1 {
            simplex[n] = (reflected, fr);
        } else {
            let contracted = toward(if fr < simplex[n].1 { -0.5 } else { 0.5 });
            let fc = f(&contracted);
            if fc < simplex[n].1.min(fr) {
                simplex[n] = (contracted, fc);
            } else {
                let best = simplex[0].0.clone();
                for v in simplex.iter_mut().skip(1) {
                    for (x, b) in v.0.iter_mut().zip(&best) {
                        *x = b + 0.5 * (*x - b);
                    }
                    v.1 = f(&v.0);
                }
            }
        }
    }
    simplex.sort_by(|a, b| a.1.total_cmp(&b.1));
    simplex.swap_remove(0).0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A split normal goes through a median and one quantile either side
    /// exactly, whichever pair is given.
    #[test]
    fn a_split_normal_goes_through_three_judgements() {
        for points in [
            vec![(0.25, 8.0), (0.5, 10.0), (0.75, 15.0)],
            vec![(0.05, 2.0), (0.5, 10.0), (0.95, 40.0)],
        ] {
            let s = SplitNormal::fit(&points).unwrap();
            assert!(s.misfit(&points) < 1e-9, "{points:?}");
            for &(p, v) in &points {
                assert!((s.quantile(p) - v).abs() < 1e-9);
            }
        }
        // Quantiles that do not lie on one split normal are missed, and
        // the miss is said.
        let uneven = [
            (0.05, 9.0),
            (0.25, 9.9),
            (0.5, 10.0),
            (0.75, 10.1),
            (0.95, 30.0),
        ];
        assert!(SplitNormal::fit(&uneven).unwrap().misfit(&uneven) > 0.05);
        // A long tail above, as a lognormal has, is fitted on the log
        // scale, through every percentile.
        let long: Vec<(f64, f64)> = PROBABILITIES
            .iter()
            .map(|&p| (p, (0.5 * z(p)).exp()))
            .collect();
        let fitted = SplitNormal::fit(&long).unwrap();
        assert!(fitted.log && fitted.misfit(&long) < 1e-9, "{fitted:?}");
        // No spread on one side is no distribution.
        assert_eq!(SplitNormal::fit(&[(0.5, 1.0), (0.75, 2.0)]), None);
    }

    /// One expert's pool is that expert; two experts who agree pool to
    /// either; two who differ pool to a median between theirs, and the
    /// pool's quantiles undo its chances.
    #[test]
    fn the_linear_pool_averages_the_experts_chances() {
        let a = SplitNormal {
            median: 10.0,
            below: 2.0,
            above: 4.0,
            log: false,
        };
        let b = SplitNormal {
            median: 20.0_f64.ln(),
            below: 0.05,
            above: 0.05,
            log: true,
        };
        let one = Pool { experts: vec![a] };
        let same = Pool {
            experts: vec![a, a],
        };
        for p in PROBABILITIES {
            assert!((one.quantile(p) - a.quantile(p)).abs() < 1e-9);
            assert!((same.quantile(p) - a.quantile(p)).abs() < 1e-9);
        }
        let two = Pool {
            experts: vec![a, b],
        };
        let m = two.quantile(0.5);
        assert!(a.quantile(0.5) < m && m < b.quantile(0.5), "{m}");
        assert!((two.cdf(m) - 0.5).abs() < 1e-9);
        // Half the chance sits with each expert.
        assert!((two.cdf(15.0) - 0.5 * (a.cdf(15.0) + b.cdf(15.0))).abs() < 1e-15);
    }

    /// A pool that is exactly one of the scenario's shapes is written as
    /// that shape with its own figures, and fits it within rounding.
    #[test]
    fn a_pool_that_is_a_shape_is_written_as_that_shape() {
        // Experts whose pool is a lognormal: one expert whose split
        // normal is a normal cannot be, so fit the shape to its own
        // quantiles through a pool built from many narrow experts.
        let (lo, mode, hi) = (0.02, 0.03, 0.06);
        for shape in [
            Shape::Pert,
            Shape::Lognormal,
            Shape::Triangular,
            Shape::Uniform,
        ] {
            let experts: Vec<SplitNormal> = (0..400)
                .map(|i| {
                    let m = shape.quantile(lo, mode, hi, (i as f64 + 0.5) / 400.0);
                    SplitNormal {
                        median: m,
                        below: 1e-7,
                        above: 1e-7,
                        log: false,
                    }
                })
                .collect();
            let pool = Pool { experts };
            let best = fits(&pool);
            let f = fit(&pool, shape).unwrap();
            assert!(f.misfit < 0.01, "{shape:?}: {f:?}");
            assert!(best[0].misfit <= f.misfit + 1e-12, "{shape:?}: {best:?}");
            let tol = 0.1 * (hi - lo);
            assert!(
                (f.low - lo).abs() < tol && (f.high - hi).abs() < tol,
                "{shape:?}: {f:?}"
            );
            if matches!(shape, Shape::Pert | Shape::Triangular) {
                assert!((f.value - mode).abs() < tol, "{shape:?}: {f:?}");
            }
        }
    }
}
