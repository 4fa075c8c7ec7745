//! The model's hazards compiled for speed. [`Rates`] holds what is fixed for
//! a run; [`Tables`] holds, for every small state a resident can be in, the
//! 32-bit thresholds of this month's draws (the fast path), rebuilt only when
//! a shock changes the environment. Residents touched by an intervention
//! compute the same thresholds from the same functions with its multipliers
//! ([`Mods`]: the slow path); with multipliers of exactly 1 both give the
//! same bits, which is what makes a zero-effect intervention reproduce the
//! baseline exactly.

use super::Engine;
use crate::model::hazards::{risk_multipliers, transition_probs};
use crate::model::{AGE_BANDS, Config, MAX_SERVICES, NEED_LEVELS, RISK_FACTORS, Unit};
use crate::rng::{Stream, threshold};

/// Multipliers an intervention applies to one resident this month.
#[derive(Clone, Copy, Debug)]
pub(super) struct Mods {
    pub(super) escalation: f64,
    pub(super) recovery: f64,
    pub(super) risk_onset: [f64; RISK_FACTORS],
    pub(super) contact: [f64; MAX_SERVICES],
    pub(super) duration: [f64; MAX_SERVICES],
    pub(super) handoff: f64,
}

impl Mods {
    pub(super) const NONE: Mods = Mods {
        escalation: 1.0,
        recovery: 1.0,
        risk_onset: [1.0; RISK_FACTORS],
        contact: [1.0; MAX_SERVICES],
        duration: [1.0; MAX_SERVICES],
        handoff: 1.0,
    };

    /// Each multiplier moved from 1 towards its full value by `s` in [0, 1].
    pub(super) fn scaled(&self, s: f64) -> Mods {
        let f = |m: f64| 1.0 + s * (m - 1.0);
        Mods {
            escalation: f(self.escalation),
            recovery: f(self.recovery),
            risk_onset: self.risk_onset.map(f),
            contact: self.contact.map(f),
            duration: self.duration.map(f),
            handoff: f(self.handoff),
        }
    }
}

/// What a resident's hazards depend on, besides the intervention.
#[derive(Clone, Copy, Debug)]
pub(super) struct Ctx {
    pub(super) level: usize,
    pub(super) band: usize,
    /// Risk factors as they act on need (isolation lifted while connected).
    pub(super) need_mask: u8,
    /// Risk factors as held.
    pub(super) mask: u8,
    pub(super) connected: bool,
    /// Other adults of the household in crisis: 0, 1, 2 or more.
    pub(super) stress: usize,
    /// Highest need among the household's adults.
    pub(super) hh_max: usize,
    pub(super) is_ref: bool,
    pub(super) in_episode: bool,
}

/// Size of the transition table: level (2 bits), age band (2), risk factors
/// (5), connected (1), household stress (2).
pub(super) const TRANS_SIZE: usize = 1 << 12;
/// Size of the contact table: level (2), age band (2), risk factors (5),
/// household's highest adult need (2), first member (1), in an episode (1).
pub(super) const CONTACT_SIZE: usize = 1 << 13;

// Both tables pack their dimensions as bit fields, so the sizes must hold.
const _: () = assert!(NEED_LEVELS == 4 && AGE_BANDS == 4 && RISK_FACTORS == 5);

#[inline(always)]
pub(super) fn trans_index(
    level: usize,
    band: usize,
    mask: u8,
    connected: bool,
    stress: usize,
) -> usize {
    (level << 10 | band << 8 | (mask as usize) << 3 | (connected as usize) << 2 | stress)
        & (TRANS_SIZE - 1)
}

#[inline(always)]
pub(super) fn contact_index(
    level: usize,
    band: usize,
    mask: u8,
    hh_max: usize,
    is_ref: bool,
    in_ep: bool,
) -> usize {
    (level << 11
        | band << 9
        | (mask as usize) << 4
        | hh_max << 2
        | (is_ref as usize) << 1
        | in_ep as usize)
        & (CONTACT_SIZE - 1)
}

/// Per-scenario quantities fixed for a run.
pub(super) struct Rates<'a> {
    pub(super) config: &'a Config,
    pub(super) risk_up: [f64; 32],
    pub(super) risk_down: [f64; 32],
    pub(super) event_risk: Vec<[f64; 32]>,
    pub(super) episode_risk: Vec<[f64; 32]>,
    /// Episodes a resident can enter, one bit each, by age band and whether
    /// they are their household's first member.
    pub(super) entry_mask: [[u16; 2]; AGE_BANDS],
}

impl<'a> Rates<'a> {
    pub(super) fn new(config: &'a Config) -> Self {
        let mut risk_up = [1.0; 32];
        let mut risk_down = [1.0; 32];
        for mask in 0..32u8 {
            (risk_up[mask as usize], risk_down[mask as usize]) = risk_multipliers(config, mask);
        }
        let prod = |mult: &[f64; RISK_FACTORS]| {
            let mut t = [1.0; 32];
            for (mask, v) in t.iter_mut().enumerate() {
                for (f, m) in mult.iter().enumerate() {
                    if mask & (1 << f) != 0 {
                        *v *= m;
                    }
                }
            }
            t
        };
        let mut entry_mask = [[0u16; 2]; AGE_BANDS];
        for (e, svc) in config.episodes.iter().enumerate() {
            for (band, masks) in entry_mask.iter_mut().enumerate() {
                for (is_ref, m) in masks.iter_mut().enumerate() {
                    if svc.eligible_bands[band] && (svc.unit == Unit::Resident || is_ref == 1) {
                        *m |= 1 << e;
                    }
                }
            }
        }
        Rates {
            config,
            risk_up,
            risk_down,
            event_risk: config
                .events
                .iter()
                .map(|e| prod(&e.risk_multiplier))
                .collect(),
            episode_risk: config
                .episodes
                .iter()
                .map(|e| prod(&e.risk_multiplier))
                .collect(),
            entry_mask,
        }
    }

    pub(super) fn need_thresholds(&self, c: &Ctx, m: &Mods) -> (u32, u32) {
        let cfg = self.config;
        let mut up =
            cfg.need.age_escalation_multiplier[c.band] * self.risk_up[c.need_mask as usize];
        if c.connected {
            up *= cfg.assets.escalation_multiplier;
        }
        up *= cfg.household_stress[c.stress.min(2)] * m.escalation;
        let down = self.risk_down[c.need_mask as usize] * m.recovery;
        let (p_up, p_down) = transition_probs(&cfg.need, c.level, up, down);
        (threshold(p_up), threshold(p_up + p_down))
    }

    /// Chance each risk factor flips this month.
    pub(super) fn risk_flips(
        &self,
        decile: u8,
        mask: u8,
        shock: &[f64; RISK_FACTORS],
        m: &Mods,
    ) -> [f64; RISK_FACTORS] {
        let mut p = [0.0; RISK_FACTORS];
        for (f, risk) in self.config.risks.iter().enumerate() {
            let resolve = 1.0 / risk.persistence_months;
            p[f] = if mask & (1 << f) != 0 {
                resolve
            } else {
                let prev = (risk.prevalence(decile) * shock[f]).min(0.95);
                (prev * resolve / (1.0 - prev) * m.risk_onset[f]).min(1.0)
            };
        }
        p
    }

    pub(super) fn risk_threshold(
        &self,
        decile: u8,
        mask: u8,
        shock: &[f64; RISK_FACTORS],
        m: &Mods,
    ) -> u32 {
        let p = self.risk_flips(decile, mask, shock, m);
        threshold(1.0 - p.iter().map(|q| 1.0 - q).product::<f64>())
    }

    /// Contact rates per service (events first, then episode entries) and their
    /// total, for this month.
    pub(super) fn contact_rates(&self, c: &Ctx, m: &Mods, out: &mut [f64; MAX_SERVICES]) -> f64 {
        let cfg = self.config;
        let mut total = 0.0;
        for (s, e) in cfg.events.iter().enumerate() {
            let r = e.rate_per_month[c.level]
                * e.age_multiplier[c.band]
                * self.event_risk[s][c.mask as usize]
                * m.contact[s];
            out[s] = r;
            total += r;
        }
        let k = cfg.events.len();
        for (e, svc) in cfg.episodes.iter().enumerate() {
            let eligible =
                !c.in_episode && self.entry_mask[c.band][c.is_ref as usize] & (1 << e) != 0;
            let r = if eligible {
                svc.entry_per_month[c.level]
                    * svc.household_multiplier[c.hh_max]
                    * self.episode_risk[e][c.mask as usize]
                    * m.contact[k + e]
            } else {
                0.0
            };
            out[k + e] = r;
            total += r;
        }
        total
    }

    pub(super) fn contact_threshold(&self, c: &Ctx, m: &Mods) -> u32 {
        let mut rates = [0.0; MAX_SERVICES];
        let total = self.contact_rates(c, m, &mut rates);
        threshold(1.0 - (-total).exp())
    }
}

/// Threshold tables for the fast path, rebuilt when the environment changes.
pub(super) struct Tables {
    pub(super) trans: Box<[[u32; 2]; TRANS_SIZE]>,
    pub(super) risk: Vec<u32>,
    /// Flip probability of each factor, by decile and factors held.
    pub(super) flips: Vec<FlipChances>,
    pub(super) contact: Box<[u32; CONTACT_SIZE]>,
    pub(super) shock: [f64; RISK_FACTORS],
}

impl Tables {
    pub(super) fn build(rates: &Rates, shock: [f64; RISK_FACTORS]) -> Tables {
        let mut trans = Box::new([[0u32; 2]; TRANS_SIZE]);
        let mut contact = Box::new([0u32; CONTACT_SIZE]);
        for level in 0..NEED_LEVELS {
            for band in 0..AGE_BANDS {
                for mask in 0..32u8 {
                    let base = Ctx {
                        level,
                        band,
                        need_mask: mask,
                        mask,
                        connected: false,
                        stress: 0,
                        hh_max: 0,
                        is_ref: false,
                        in_episode: false,
                    };
                    for connected in [false, true] {
                        for stress in 0..4 {
                            let c = Ctx {
                                connected,
                                stress,
                                ..base
                            };
                            let (a, b) = rates.need_thresholds(&c, &Mods::NONE);
                            trans[trans_index(level, band, mask, connected, stress)] = [a, b];
                        }
                    }
                    for hh_max in 0..NEED_LEVELS {
                        for is_ref in [false, true] {
                            for in_episode in [false, true] {
                                let c = Ctx {
                                    hh_max,
                                    is_ref,
                                    in_episode,
                                    ..base
                                };
                                let index =
                                    contact_index(level, band, mask, hh_max, is_ref, in_episode);
                                contact[index] = rates.contact_threshold(&c, &Mods::NONE);
                            }
                        }
                    }
                }
            }
        }
        let mut risk = vec![0u32; 10 * 32];
        let mut flips = vec![FlipChances::new([0.0; RISK_FACTORS]); 10 * 32];
        for decile in 1..=10u8 {
            for mask in 0..32u8 {
                let k = (decile as usize - 1) * 32 + mask as usize;
                risk[k] = rates.risk_threshold(decile, mask, &shock, &Mods::NONE);
                flips[k] = FlipChances::new(rates.risk_flips(decile, mask, &shock, &Mods::NONE));
            }
        }
        Tables {
            trans,
            risk,
            flips,
            contact,
            shock,
        }
    }
}

impl Engine<'_> {
    pub(super) fn environment(&mut self, m: i64) {
        let mut shock = [1.0; RISK_FACTORS];
        for s in &self.config.shocks {
            if m >= s.from_month as i64 && m <= s.to_month as i64 {
                shock[s.factor as usize] *= s.prevalence_multiplier;
            }
        }
        if shock != self.tables.shock {
            self.tables = Tables::build(&self.rates, shock);
        }
    }
}

/// The chances that drive [`flips_given_any`] for one set of flip
/// probabilities, worked out once: each factor's chance of flipping, and its
/// chance given that none before it flipped and at least one from it on
/// does.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct FlipChances {
    pub(super) p: [f64; RISK_FACTORS],
    given_none_yet: [f64; RISK_FACTORS],
}

impl FlipChances {
    pub(super) fn new(p: [f64; RISK_FACTORS]) -> FlipChances {
        FlipChances {
            p,
            given_none_yet: std::array::from_fn(|f| {
                // P(f flips | at least one of f.. flips)
                let none_rest: f64 = p[f..].iter().map(|x| 1.0 - x).product();
                let any_rest = 1.0 - none_rest;
                if any_rest <= 0.0 {
                    0.0
                } else {
                    p[f] / any_rest
                }
            }),
        }
    }
}

/// Which risk factors flip, drawn exactly from independent flips with
/// probabilities `c.p`, conditioned on at least one flipping.
pub(super) fn flips_given_any(c: &FlipChances, rng: &mut Stream) -> u8 {
    let mut out = 0u8;
    for f in 0..RISK_FACTORS {
        let q = if out != 0 {
            c.p[f]
        } else {
            c.given_none_yet[f]
        };
        if rng.uniform() < q {
            out |= 1 << f;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{Crn, Purpose};

    /// With no live effect the slow path must give the fast path's bits, at
    /// every index of every table: otherwise a programme with no effect
    /// would move its residents' outcomes. The bundled hubs scenario has
    /// every kind of service and risk factor; a shock makes the risk table
    /// differ from the unshocked one.
    #[test]
    fn slow_path_thresholds_equal_the_tables_at_every_index() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/hubs.toml");
        let config = crate::scenario::load(&path).unwrap().config;
        let rates = Rates::new(&config);
        // Full strength, and a lingering effect part way down its decay.
        let none = [Mods::NONE, Mods::NONE.scaled(0.37)];
        for shock in [[1.0; RISK_FACTORS], [1.4, 1.0, 1.0, 1.0, 2.0]] {
            let tables = Tables::build(&rates, shock);
            let mut trans_seen = vec![false; TRANS_SIZE];
            let mut contact_seen = vec![false; CONTACT_SIZE];
            for level in 0..NEED_LEVELS {
                for band in 0..AGE_BANDS {
                    for mask in 0..32u8 {
                        for connected in [false, true] {
                            for stress in 0..4 {
                                let i = trans_index(level, band, mask, connected, stress);
                                assert!(!trans_seen[i], "two states share transition index {i}");
                                trans_seen[i] = true;
                                let c = Ctx {
                                    level,
                                    band,
                                    need_mask: mask,
                                    // Contacts read `mask`; need must not.
                                    mask: !mask & 31,
                                    connected,
                                    stress,
                                    hh_max: 3,
                                    is_ref: true,
                                    in_episode: true,
                                };
                                for m in &none {
                                    let [a, b] = tables.trans[i];
                                    assert_eq!(rates.need_thresholds(&c, m), (a, b), "{c:?}");
                                }
                            }
                        }
                        for hh_max in 0..NEED_LEVELS {
                            for is_ref in [false, true] {
                                for in_episode in [false, true] {
                                    let i = contact_index(
                                        level, band, mask, hh_max, is_ref, in_episode,
                                    );
                                    assert!(!contact_seen[i], "two states share contact index {i}");
                                    contact_seen[i] = true;
                                    let c = Ctx {
                                        level,
                                        band,
                                        // Need reads `need_mask`; contacts must not.
                                        need_mask: !mask & 31,
                                        mask,
                                        connected: true,
                                        stress: 2,
                                        hh_max,
                                        is_ref,
                                        in_episode,
                                    };
                                    for m in &none {
                                        assert_eq!(
                                            rates.contact_threshold(&c, m),
                                            tables.contact[i],
                                            "{c:?}"
                                        );
                                    }
                                }
                            }
                        }
                    }
                }
            }
            assert!(trans_seen.iter().all(|&x| x) && contact_seen.iter().all(|&x| x));
            for decile in 1..=10u8 {
                for mask in 0..32u8 {
                    let k = (decile as usize - 1) * 32 + mask as usize;
                    for m in &none {
                        assert_eq!(
                            rates.risk_threshold(decile, mask, &shock, m),
                            tables.risk[k]
                        );
                        assert_eq!(rates.risk_flips(decile, mask, &shock, m), tables.flips[k].p);
                    }
                }
            }
        }
    }

    #[test]
    #[allow(clippy::needless_range_loop)] // indexes several arrays in step
    fn conditional_flips_match_independent_flips() {
        // Distribution of the flipped set given at least one flip, against exact
        // enumeration, for a skewed set of probabilities.
        let p = [0.02, 0.3, 0.001, 0.1, 0.05];
        let crn = Crn::new(3, 0);
        let n = 200_000;
        let mut counts = [0u32; 32];
        for r in 0..n {
            let mut rng = crn.stream(r, 0, Purpose::RiskDetail);
            counts[flips_given_any(&FlipChances::new(p), &mut rng) as usize] += 1;
        }
        let none: f64 = p.iter().map(|x| 1.0 - x).product();
        for mask in 1..32usize {
            let mut prob = 1.0;
            for f in 0..5 {
                prob *= if mask & (1 << f) != 0 {
                    p[f]
                } else {
                    1.0 - p[f]
                };
            }
            let expect = prob / (1.0 - none);
            let got = counts[mask] as f64 / n as f64;
            let se = (expect * (1.0 - expect) / n as f64).sqrt();
            assert!(
                (got - expect).abs() < 5.0 * se + 1e-6,
                "mask {mask}: {got} vs {expect}"
            );
        }
        assert_eq!(counts[0], 0);
    }
}
