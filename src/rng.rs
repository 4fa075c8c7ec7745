//! Common random numbers (MODEL.md section 4).
//!
//! Every draw is a pure function of (master seed, replicate, resident, month,
//! purpose). No generator state is carried between residents, so any thread can
//! compute any resident's luck, the order of work does not matter, and the same
//! resident in the same replicate meets the same luck in every scenario: a
//! scenario's difference from the baseline measures the policy, not the dice.
//!
//! The mixing function is the SplitMix64 finaliser (Steele, Lea and Flood 2014),
//! a few nanoseconds a call. The contract, pinned by known-answer tests: for a
//! given version of Upstream the same inputs give the same bits on every
//! platform.

use std::convert::Infallible;

/// What a draw is for. Each purpose has its own independent stream, so adding a
/// new use of randomness never shifts the draws of an existing one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u64)]
pub enum Purpose {
    /// Need transition (low 32 bits) and risk-factor change (high 32 bits).
    Need = 1,
    /// Any service contact this month (low 32 bits) and asset connection (high).
    Contact = 2,
    /// Details of a contact: how many, which services, episode length.
    ContactDetail = 3,
    /// Which risk factor changed.
    RiskDetail = 4,
    /// Priority for an intervention's offer this month.
    Offer = 5,
    /// Whether an offered resident engages.
    Engage = 6,
    /// Dropout from support.
    Dropout = 7,
    /// A stable tie-break between equal risk scores.
    Rank = 8,
    /// Yearly death (low 32 bits) and moving away (high 32 bits).
    Turnover = 9,
    /// Initial synthesis of the population.
    Synthesis = 10,
    /// Starting episode length when a place frees for someone waiting.
    Waiting = 11,
    /// Who arrives in a vacated place.
    Newcomer = 12,
    /// Who is in which service at the start, and their months left.
    WarmStart = 13,
    /// Where a declared trend's room goes, and whether an empty slot is
    /// taken this month.
    Room = 14,
    /// One replicate's draw of an uncertain parameter (keyed by the
    /// parameter's name in place of a resident).
    Parameter = 15,
    /// A screening experiment's design: where each Morris trajectory
    /// starts and the order it moves the parameters in (keyed by the
    /// trajectory in place of a replicate).
    Screening = 16,
    /// A calibration's candidate parameter sets, drawn from their prior
    /// ranges (keyed by the candidate in place of a replicate and by the
    /// parameter's name in place of a resident).
    Calibration = 17,
}

const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;

/// The SplitMix64 finaliser: a bijection on u64 with full avalanche.
#[inline(always)]
pub fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The key of one replicate's randomness. Cheap to copy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Crn {
    key: u64,
}

impl Crn {
    /// The randomness of replicate `replicate` (0-based) under the run's
    /// master seed.
    pub fn new(master_seed: u64, replicate: u32) -> Self {
        let key = mix64(mix64(master_seed ^ GOLDEN).wrapping_add(replicate as u64));
        Crn { key }
    }

    /// 64 random bits for (resident, month, purpose). `resident` is the
    /// resident's stable identity ([`resident_key`]), `month` counts from the
    /// first burn-in month.
    #[inline(always)]
    pub fn bits(self, resident: u64, month: u32, purpose: Purpose) -> u64 {
        self.resident(resident).bits(month, purpose)
    }

    /// The part of the key fixed for one resident, to share between draws.
    #[inline(always)]
    pub fn resident(self, resident: u64) -> ResidentCrn {
        ResidentCrn {
            key: mix64(self.key ^ resident.wrapping_mul(GOLDEN)),
        }
    }

    /// A generator for several draws at one (resident, month, purpose), for the
    /// rare slow paths that need more than 64 bits (distributions from
    /// `rand_distr`, multinomial picks).
    pub fn stream(self, resident: u64, month: u32, purpose: Purpose) -> Stream {
        Stream {
            base: self.bits(resident, month, purpose),
            counter: 0,
        }
    }
}

/// One resident's randomness: [`Crn::bits`] with the resident fixed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ResidentCrn {
    key: u64,
}

impl ResidentCrn {
    /// 64 random bits for this resident at (`month`, `purpose`); `month`
    /// counts from the first burn-in month.
    #[inline(always)]
    pub fn bits(self, month: u32, purpose: Purpose) -> u64 {
        self.bits_for(month, purpose, 0)
    }

    /// As [`ResidentCrn::bits`], in one of several independent streams of the
    /// same purpose (for example one per intervention, so that two programmes
    /// do not share a resident's luck). Stream 0 is `bits`.
    #[inline(always)]
    pub fn bits_for(self, month: u32, purpose: Purpose, stream: u32) -> u64 {
        // All 32 bits of the stream enter the key; stream 0 leaves it as is.
        let key = self.key ^ (stream as u64).wrapping_mul(0xA076_1D64_78BD_642F);
        let counter = (month as u64) << 8 | purpose as u64;
        mix64(key ^ counter.wrapping_mul(0xD1B5_4A32_D192_ED03))
    }

    /// A stream of draws for one purpose this month; the same stream as
    /// [`Crn::stream`] gives for this resident.
    pub fn stream(self, month: u32, purpose: Purpose) -> Stream {
        Stream {
            base: self.bits(month, purpose),
            counter: 0,
        }
    }
}

/// A stream number for a named thing (an intervention), stable whatever else
/// the scenario holds or the order it lists things in: 32-bit FNV-1a of the
/// name, never 0 (stream 0 is shared draws).
pub fn stream_of(name: &str) -> u32 {
    let mut h: u32 = 0x811C_9DC5;
    for b in name.bytes() {
        h = (h ^ b as u32).wrapping_mul(0x0100_0193);
    }
    h.max(1)
}

/// One replicate's uniform draw in (0, 1) for the uncertain parameter named
/// `parameter` (its dotted path): the same in every scenario of a run that
/// has the parameter, so their differences stay paired, and independent of
/// every resident's luck. The name is hashed with 64-bit FNV-1a.
pub fn parameter_uniform(crn: Crn, parameter: &str) -> f64 {
    named_uniform(crn, parameter, Purpose::Parameter)
}

/// A uniform draw in (0, 1) keyed by `crn`, a name (hashed with 64-bit
/// FNV-1a in place of a resident) and `purpose`: never exactly 0 or 1.
pub fn named_uniform(crn: Crn, name: &str, purpose: Purpose) -> f64 {
    let mut h: u64 = 0xCBF2_9CE4_8422_2325;
    for b in name.bytes() {
        h = (h ^ b as u64).wrapping_mul(0x0100_0000_01B3);
    }
    let bits = crn.bits(h, 0, purpose);
    // The middle of one of 2^52 equal steps, exact in a double: never 0 or
    // 1, where a lognormal's quantile is infinite.
    ((bits >> 12) as f64 + 0.5) / (1u64 << 52) as f64
}

/// A resident's identity for random draws: the slot they occupy and the month
/// they arrived in it. Stable across scenarios as long as the same person is
/// there, and never reused for a newcomer.
#[inline(always)]
pub fn resident_key(slot: u32, arrival: u16) -> u64 {
    (slot as u64) | ((arrival as u64) << 32)
}

/// A uniform in [0, 1) from the top 53 bits.
#[inline(always)]
pub fn unit_f64(bits: u64) -> f64 {
    (bits >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// The threshold `t` such that `u32 < t` has probability `p` (to 2^-32).
#[inline]
pub fn threshold(p: f64) -> u32 {
    if p.is_nan() || p <= 0.0 {
        0
    } else if p >= 1.0 {
        u32::MAX
    } else {
        (p * 4_294_967_296.0) as u32
    }
}

/// A counter-based generator: draw `k` is `mix64(base + k·golden)`.
/// Implements `rand`'s `Rng` so `rand_distr` distributions can sample from it.
#[derive(Clone, Debug)]
pub struct Stream {
    base: u64,
    counter: u64,
}

impl Stream {
    /// The next 64 random bits.
    #[inline]
    pub fn next_bits(&mut self) -> u64 {
        self.counter += 1;
        mix64(self.base.wrapping_add(self.counter.wrapping_mul(GOLDEN)))
    }

    /// The next uniform draw in [0, 1).
    #[inline]
    pub fn uniform(&mut self) -> f64 {
        unit_f64(self.next_bits())
    }
}

impl rand::TryRng for Stream {
    type Error = Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        Ok((self.next_bits() >> 32) as u32)
    }

    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        Ok(self.next_bits())
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        for chunk in dst.chunks_mut(8) {
            let bytes = self.next_bits().to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_are_pure_functions_of_their_coordinates() {
        let a = Crn::new(42, 3);
        let b = Crn::new(42, 3);
        assert_eq!(a.bits(7, 11, Purpose::Need), b.bits(7, 11, Purpose::Need));
        assert_ne!(
            a.bits(7, 11, Purpose::Need),
            a.bits(7, 11, Purpose::Contact)
        );
        assert_ne!(a.bits(7, 11, Purpose::Need), a.bits(8, 11, Purpose::Need));
        assert_ne!(a.bits(7, 11, Purpose::Need), a.bits(7, 12, Purpose::Need));
        assert_ne!(
            a.bits(7, 11, Purpose::Need),
            Crn::new(42, 4).bits(7, 11, Purpose::Need)
        );
        assert_ne!(
            a.bits(7, 11, Purpose::Need),
            Crn::new(43, 3).bits(7, 11, Purpose::Need)
        );
    }

    /// Pins the generator: a change here changes every published result, so it
    /// must be deliberate (update these values and say so in the change log).
    #[test]
    fn known_answers() {
        assert_eq!(mix64(0), 0);
        // SplitMix64's first output from seed 0, as published with the algorithm.
        assert_eq!(mix64(GOLDEN), 0xE220_A839_7B1D_CDAF);
        let crn = Crn::new(20_260_401, 0);
        let got: Vec<u64> = (0..3)
            .map(|m| crn.bits(resident_key(5, 0), m, Purpose::Need))
            .collect();
        assert_eq!(got, KNOWN);
        // An intervention's own stream (as the engine keys an offer,
        // engagement or dropout draw), and stream 0 is the shared draw.
        let r = crn.resident(resident_key(5, 0));
        assert_eq!(r.bits_for(0, Purpose::Need, 0), KNOWN[0]);
        let early_help = stream_of("early_help");
        assert_eq!(early_help, KNOWN_STREAM);
        let got: Vec<u64> = [Purpose::Offer, Purpose::Engage, Purpose::Dropout]
            .map(|p| r.bits_for(14, p, early_help))
            .to_vec();
        assert_eq!(got, KNOWN_ON_STREAM);
    }
    // Worked out apart from this code, by a twenty-line re-implementation of
    // the key schedule above in Python's arbitrary-precision integers.
    const KNOWN_STREAM: u32 = 0x7CCA_2ADE;
    const KNOWN_ON_STREAM: [u64; 3] = [
        16_490_635_519_272_435_468,
        10_144_680_245_485_882_567,
        12_126_351_743_881_726_513,
    ];
    const KNOWN: [u64; 3] = [
        7_092_496_995_611_561_547,
        17_063_944_634_647_927_016,
        3_714_493_439_194_547_757,
    ];

    #[test]
    fn named_streams_are_stable_and_distinct() {
        // FNV-1a's published value for "a".
        assert_eq!(stream_of("a"), 0xE40C_292C);
        // A parameter's draw, worked out apart from this code (the same
        // SplitMix64, key and 64-bit FNV-1a in Python's integers).
        assert_eq!(
            parameter_uniform(Crn::new(1, 0), "need.escalation_per_month"),
            0.3357294145228015
        );
        assert_eq!(
            parameter_uniform(Crn::new(20_260_401, 3), "events.ae_attendance.unit_cost"),
            0.5045714514501444
        );
        assert_ne!(stream_of("early_help"), stream_of("hubs"));
        assert_ne!(stream_of(""), 0);
    }

    /// Two named streams of one purpose, at the same resident and month, are
    /// independent: the four cells of "under 0.5 in each" hold a quarter
    /// each (a chi-squared test, 3 degrees of freedom), and the draws are
    /// uncorrelated; so are neighbouring months and purposes of one stream.
    #[test]
    fn streams_apart_draw_independently() {
        let crn = Crn::new(2026, 3);
        let (a, b) = (stream_of("early_help"), stream_of("hubs"));
        let n = 200_000u64;
        type Pair = Box<dyn Fn(ResidentCrn) -> (u64, u64)>;
        let pairs: [(&str, Pair); 3] = [
            (
                "two programmes",
                Box::new(move |r| {
                    (
                        r.bits_for(7, Purpose::Engage, a),
                        r.bits_for(7, Purpose::Engage, b),
                    )
                }),
            ),
            (
                "next month",
                Box::new(move |r| {
                    (
                        r.bits_for(7, Purpose::Dropout, a),
                        r.bits_for(8, Purpose::Dropout, a),
                    )
                }),
            ),
            (
                "offer and engagement",
                Box::new(move |r| {
                    (
                        r.bits_for(7, Purpose::Offer, a),
                        r.bits_for(7, Purpose::Engage, a),
                    )
                }),
            ),
        ];
        for (what, draw) in &pairs {
            let mut cells = [0f64; 4];
            let (mut sxy, mut sx, mut sy, mut sxx, mut syy) = (0.0, 0.0, 0.0, 0.0, 0.0);
            for k in 0..n {
                let (x, y) = draw(crn.resident(resident_key(k as u32, 0)));
                let (u, v) = (unit_f64(x), unit_f64(y));
                cells[(u < 0.5) as usize * 2 + (v < 0.5) as usize] += 1.0;
                (sx, sy, sxx, syy, sxy) = (sx + u, sy + v, sxx + u * u, syy + v * v, sxy + u * v);
            }
            let e = n as f64 / 4.0;
            let chi2: f64 = cells.iter().map(|c| (c - e).powi(2) / e).sum();
            // The 99.9th percentile of chi-squared with 3 degrees of freedom.
            assert!(
                chi2 < 16.27,
                "{what}: chi-squared {chi2} for cells {cells:?}"
            );
            let nf = n as f64;
            let cov = sxy / nf - sx / nf * sy / nf;
            let corr =
                cov / ((sxx / nf - (sx / nf).powi(2)) * (syy / nf - (sy / nf).powi(2))).sqrt();
            // Five standard errors of a correlation of zero.
            assert!(corr.abs() < 5.0 / nf.sqrt(), "{what}: correlation {corr}");
        }
    }

    #[test]
    fn uniforms_are_uniform_enough() {
        // Mean and variance of 200,000 uniforms within 5 standard errors.
        let crn = Crn::new(1, 0);
        let n = 200_000u32;
        let (mut s, mut s2) = (0.0, 0.0);
        for r in 0..n {
            let u = unit_f64(crn.bits(r as u64, 0, Purpose::Need));
            s += u;
            s2 += u * u;
        }
        let mean = s / n as f64;
        let var = s2 / n as f64 - mean * mean;
        let se_mean = (1.0f64 / 12.0 / n as f64).sqrt();
        assert!((mean - 0.5).abs() < 5.0 * se_mean, "mean {mean}");
        assert!((var - 1.0 / 12.0).abs() < 0.002, "variance {var}");
    }

    #[test]
    fn threshold_matches_probability() {
        assert_eq!(threshold(0.0), 0);
        assert_eq!(threshold(-1.0), 0);
        assert_eq!(threshold(1.0), u32::MAX);
        assert_eq!(threshold(0.5), 1 << 31);
        let crn = Crn::new(9, 1);
        let t = threshold(0.3);
        let hits = (0..100_000u64)
            .filter(|&r| (crn.bits(r, 0, Purpose::Contact) as u32) < t)
            .count();
        // 0.3 ± 5 standard errors (sd = sqrt(0.21/1e5) ≈ 0.00145).
        assert!((hits as f64 / 1e5 - 0.3).abs() < 0.0073, "{hits}");
    }

    #[test]
    fn stream_feeds_rand_distr() {
        use rand_distr::{Distribution, Exp};
        let crn = Crn::new(5, 0);
        let exp = Exp::new(0.5).unwrap();
        let n = 50_000;
        let mean: f64 = (0..n)
            .map(|r| exp.sample(&mut crn.stream(r, 0, Purpose::ContactDetail)))
            .sum::<f64>()
            / n as f64;
        // Mean 2, sd 2: five standard errors is 0.045.
        assert!((mean - 2.0).abs() < 0.045, "{mean}");
    }
}
