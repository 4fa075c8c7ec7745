//! Warm start: episode services begin the burn-in holding about the
//! residents they would hold at equilibrium, part-way through their stays.
//!
//! Filling services from empty takes as long as the longest stays: a
//! log-normal stay with a mean of 30 months is only 64% filled after 24
//! months, so a baseline would climb for years and be read as a forecast.
//! Here each resident is placed in a service with the chance the stationary
//! alternation of "out" and "in" gives for their entry chance `p` a month and
//! their expected stay `E[S]`: `p E[S] / (Σ p E[S] + 1 − Σ p)`. The expected
//! stay is what they would stay before the stay ends, they die or move away,
//! or they age out of the service: `Σ_m P(S > m) P(still here after m)`. Whoever is in a
//! service at a random moment is part-way through a length-biased stay, so
//! the months left are drawn uniformly within a stay drawn in proportion to
//! its length (for a geometric stay, simply a fresh stay). Places are shared
//! out at random between in-house and spot; where overflow waits, no one is
//! put on a waiting list (the burn-in builds the lists). The burn-in then
//! settles what this leaves out (need and stays move together in time).

use rand_distr::{Distribution, LogNormal};

use super::Engine;
use super::hazards::{Ctx, Mods};
use super::household::HouseholdSummary;
use crate::model::population::{flag, is_vacant};
use crate::model::{Config, Duration, MAX_AGE, MAX_SERVICES, NEED_LEVELS, Overflow, RiskFactor};
use crate::rng::{Purpose, Stream};

/// Longest stay the expected stays sum over (100 years).
const HORIZON: usize = 1200;

/// `P(S > m)` for m = 0, 1, … of each episode service's stay, as the engine
/// draws them (whole months, at least one), until it is negligible.
fn stay_survival(duration: &Duration) -> Vec<f64> {
    let mut out = vec![1.0];
    for m in 1..HORIZON {
        let p = match *duration {
            Duration::Exponential { mean_months } => {
                let q = (1.0 / mean_months).min(1.0);
                (1.0 - q).powi(m as i32)
            }
            Duration::LogNormal {
                mean_months,
                sd_months,
            } => {
                // Rounded to whole months: longer than m if at least m + ½.
                let s2 = (1.0 + (sd_months / mean_months).powi(2)).ln();
                let mu = mean_months.ln() - s2 / 2.0;
                let z = ((m as f64 + 0.5).ln() - mu) / (2.0 * s2).sqrt();
                0.5 * erfc(z)
            }
            Duration::Fixed { months } => f64::from(m < months as usize),
        };
        if p < 1e-9 {
            break;
        }
        out.push(p);
    }
    out
}

/// The complementary error function, to within 1.2e-7 (Numerical Recipes'
/// Chebyshev fit), enough for survival sums.
fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98
                                + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let r = t * poly.exp();
    if x >= 0.0 { r } else { 2.0 - r }
}

/// Expected months in service `e` for a resident of each age and need level:
/// the stay, cut short by dying or moving away (at their yearly chances) or
/// by ageing out of the service's age bands.
fn expected_stays(config: &Config, e: usize, move_out: &[f64]) -> Vec<[f64; NEED_LEVELS]> {
    let p = &config.population;
    let survival = stay_survival(&config.episodes[e].duration);
    let eligible = &config.episodes[e].eligible_bands;
    (0..=MAX_AGE)
        .map(|age| {
            // Months until the first age the service does not take (on
            // average half a year to the next birthday).
            let out_age = (age..=MAX_AGE).find(|&a| !eligible[config.age_bands.band(a)]);
            let cap = out_age.map_or(HORIZON as f64, |a| (a - age) as f64 * 12.0 - 6.0);
            let band = config.age_bands.band(age);
            std::array::from_fn(|level| {
                let death = if p.turnover {
                    1.0 - (-p.mortality[band] * p.mortality_need_multiplier[level]).exp()
                } else {
                    0.0
                };
                let stay_year = (1.0 - death) * (1.0 - move_out[age as usize]);
                let stay_month = stay_year.powf(1.0 / 12.0);
                let mut here = 1.0;
                let mut sum = 0.0;
                for (m, s) in survival.iter().enumerate() {
                    if m as f64 >= cap {
                        break;
                    }
                    sum += s * here;
                    here *= stay_month;
                }
                sum
            })
        })
        .collect()
}

/// Months left for someone found in a service at a random moment (at least
/// one: the month they are found in).
fn months_left(config: &Config, e: usize, rng: &mut Stream) -> u16 {
    let whole = |x: f64| x.round().clamp(1.0, u16::MAX as f64 - 1.0) as u16;
    let stay = match config.episodes[e].duration {
        Duration::Exponential { mean_months } => {
            // Memoryless: what is left is a fresh stay.
            let q = (1.0 / mean_months).min(1.0);
            if q >= 1.0 {
                return 1;
            }
            return whole(((1.0 - rng.uniform()).ln() / (1.0 - q).ln()).ceil());
        }
        Duration::LogNormal {
            mean_months,
            sd_months,
        } => {
            // Length-biased log-normal: the same σ, μ moved up by σ².
            let s2 = (1.0 + (sd_months / mean_months).powi(2)).ln();
            let biased = LogNormal::new(mean_months.ln() + s2 / 2.0, s2.sqrt()).expect("validated");
            whole(biased.sample(rng)) as f64
        }
        Duration::Fixed { months } => months as f64,
    };
    whole(1.0 + (rng.uniform() * stay).floor().min(stay - 1.0))
}

/// What a resident's own hazards say about them at equilibrium.
pub(super) struct AtEquilibrium {
    /// Entry chance a month × expected stay, by episode service.
    pub(super) weights: [f64; MAX_SERVICES],
    /// Chance of being found in some episode service.
    pub(super) inside: f64,
    /// Expected contacts a month, by event service.
    pub(super) contacts: [f64; MAX_SERVICES],
}

/// Expected activity of a place at the start, from its residents' own
/// hazards (as the warm start places them).
#[derive(Clone, Debug, PartialEq)]
pub struct ExpectedAtStart {
    /// Contacts a month with each event service, in the config's order.
    pub contacts_per_month: Vec<f64>,
    /// Residents (or households) in each episode service, in the config's
    /// order.
    pub occupancy: Vec<f64>,
}

impl Engine<'_> {
    /// Calls `visit` for every resident with what their own hazards say
    /// about them at equilibrium: entry chances and stays averaged over
    /// their stationary need distribution (need moves within months, stays
    /// last years), with no programme's effect.
    pub(super) fn at_equilibrium(&self, visit: impl FnMut(usize, &AtEquilibrium)) {
        let stays = self.expected_stays();
        self.at_equilibrium_in(&stays, 0..self.population.households.len(), visit);
    }

    /// Each episode service's expected stays (see [`expected_stays`]).
    fn expected_stays(&self) -> Vec<Vec<[f64; NEED_LEVELS]>> {
        let move_out = &self.departures.moves();
        (0..self.config.episodes.len())
            .map(|e| expected_stays(self.config, e, move_out))
            .collect()
    }

    /// [`Engine::at_equilibrium`] for the residents of `households`.
    fn at_equilibrium_in(
        &self,
        stays: &[Vec<[f64; NEED_LEVELS]>],
        households: std::ops::Range<usize>,
        mut visit: impl FnMut(usize, &AtEquilibrium),
    ) {
        let cfg = self.config;
        let n_events = cfg.events.len();
        let isolation = RiskFactor::Isolation.bit();
        let pop = &self.population;
        let res = &pop.residents;
        let mut rates = [0.0; MAX_SERVICES];
        for h in households {
            let summary = HouseholdSummary::unpack(self.household_summary[h]);
            let members = pop.households.members(h);
            let first = members.start;
            for r in members {
                if is_vacant(res.age[r]) {
                    continue;
                }
                let flags = res.flags[r];
                let mask = flags & flag::RISK_MASK;
                let connected = flags & flag::CONNECTED != 0;
                let level = res.need[r] as usize;
                let adult_crisis = res.age[r] >= 18 && level == 3;
                let ctx = Ctx {
                    level,
                    band: cfg.age_bands.band(res.age[r]),
                    need_mask: if connected { mask & !isolation } else { mask },
                    mask,
                    connected,
                    stress: (summary.adults_crisis as usize - adult_crisis as usize).min(2),
                    hh_max: summary.adult_max_need as usize,
                    is_ref: r == first,
                    in_episode: false,
                };
                let age = res.age[r];
                let pi = self.starting_need.distribution(cfg, mask, age);
                let mut at = AtEquilibrium {
                    weights: [0.0; MAX_SERVICES],
                    inside: 0.0,
                    contacts: [0.0; MAX_SERVICES],
                };
                let mut enter = 0.0;
                for (level, share) in pi.iter().enumerate() {
                    let total =
                        self.rates
                            .contact_rates(&Ctx { level, ..ctx }, &Mods::NONE, &mut rates);
                    if total <= 0.0 {
                        continue;
                    }
                    for (c, r) in at.contacts.iter_mut().zip(&rates).take(n_events) {
                        *c += share * r;
                    }
                    // Chance of entering each service in a month, as the pass has it.
                    let any = 1.0 - (-total).exp();
                    for (e, stay) in stays.iter().enumerate() {
                        let p = share * any * rates[n_events + e] / total;
                        enter += p;
                        at.weights[e] += p * stay[age as usize][level];
                    }
                }
                let weight: f64 = at.weights.iter().sum();
                if weight > 0.0 {
                    at.inside = weight / (weight + 1.0 - enter);
                }
                visit(r, &at);
            }
        }
    }

    /// The place's expected activity at the start (see [`ExpectedAtStart`]).
    pub(super) fn expected_at_start(&self) -> ExpectedAtStart {
        let cfg = self.config;
        let mut out = ExpectedAtStart {
            contacts_per_month: vec![0.0; cfg.events.len()],
            occupancy: vec![0.0; cfg.episodes.len()],
        };
        self.at_equilibrium(|_, at| {
            for (s, c) in out.contacts_per_month.iter_mut().enumerate() {
                *c += at.contacts[s];
            }
            let weight: f64 = at.weights.iter().sum();
            if weight > 0.0 {
                for (e, o) in out.occupancy.iter_mut().enumerate() {
                    *o += at.inside * at.weights[e] / weight;
                }
            }
        });
        out
    }

    /// Places residents in episode services as at equilibrium, before the
    /// first burn-in month.
    pub(super) fn warm_start(&mut self) {
        let cfg = self.config;
        if cfg.episodes.is_empty() || !cfg.warm_start {
            return;
        }
        // Who is found in which service, chunk by chunk on the engine's
        // workers, then in slot order.
        let stays = self.expected_stays();
        let mut by_chunk: Vec<Vec<Vec<u32>>> =
            vec![vec![Vec::new(); cfg.episodes.len()]; self.chunks.len()];
        {
            let this = &*self;
            let stays = &stays;
            let mut work: Vec<_> = this.chunks.iter().zip(by_chunk.iter_mut()).collect();
            super::for_each(this.workers, &mut work, |(chunk, found)| {
                this.at_equilibrium_in(stays, chunk.households.clone(), |r, at| {
                    if let Some(e) = this.found_in(r, at) {
                        found[e].push(r as u32);
                    }
                })
            });
        }
        let mut found: Vec<Vec<u32>> = vec![Vec::new(); cfg.episodes.len()];
        for chunk in by_chunk {
            for (all, some) in found.iter_mut().zip(chunk) {
                all.extend(some);
            }
        }
        for (e, slots) in found.iter().enumerate() {
            let svc = &cfg.episodes[e];
            let state = &mut self.episodes[e];
            // Exactly min(capacity, found) in-house, chosen at random in one
            // pass (selection sampling); the rest spot, or left out to wait.
            let mut want = (state.capacity as usize).min(slots.len());
            for (i, &r) in slots.iter().enumerate() {
                let r = r as usize;
                let mut rng = self.prefixes[r].stream(1, Purpose::WarmStart);
                let in_house = want > 0 && rng.uniform() * ((slots.len() - i) as f64) < want as f64;
                let res = &mut self.population.residents;
                if in_house {
                    want -= 1;
                    state.in_house += 1;
                } else if svc.overflow == Overflow::Spot {
                    state.spot += 1;
                    res.flags[r] |= flag::SPOT;
                } else {
                    continue;
                }
                res.episode[r] = e as u8 + 1;
                res.episode_left[r] = months_left(cfg, e, &mut rng);
            }
        }
    }

    /// The service resident `r` is found in at the start, if any: in one
    /// with the chance `at.inside`, which one in proportion to entry chance
    /// × stay.
    fn found_in(&self, r: usize, at: &AtEquilibrium) -> Option<usize> {
        if at.inside <= 0.0 {
            return None;
        }
        let u = (self.prefixes[r].bits(0, Purpose::WarmStart) >> 11) as f64 / (1u64 << 53) as f64;
        if u >= at.inside {
            return None;
        }
        let weight: f64 = at.weights.iter().sum();
        let target = u / at.inside * weight;
        let mut acc = 0.0;
        for (e, &w) in at
            .weights
            .iter()
            .enumerate()
            .take(self.config.episodes.len())
        {
            acc += w;
            if w > 0.0 && target < acc {
                return Some(e);
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config_with(duration: Duration) -> Config {
        let mut config = crate::scenario::load(std::path::Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/scenarios/baseline.toml"
        )))
        .expect("baseline loads")
        .config;
        config.episodes[0].duration = duration;
        config
    }

    #[test]
    fn erfc_matches_known_values() {
        // Values from Abramowitz and Stegun, table 7.1.
        for (x, expected) in [
            (0.0, 1.0),
            (0.5, 0.479_500_122),
            (1.0, 0.157_299_207),
            (2.0, 0.004_677_735),
            (-1.0, 1.842_700_793),
        ] {
            assert!((erfc(x) - expected).abs() < 2e-7, "erfc({x}) = {}", erfc(x));
        }
    }

    #[test]
    fn burn_in_follows_its_stated_rule() {
        let mut config = config_with(Duration::LogNormal {
            mean_months: 30.0,
            sd_months: 24.0,
        });
        // Early help: 6 months of support + a 12-month half-life + the
        // longest mean stay of 30 months = 48.
        assert_eq!(config.steady_burn_in(), 48);
        config.interventions.clear();
        assert_eq!(config.steady_burn_in(), 24);
        // Filling from empty: three times 30 months, in whole years.
        config.warm_start = false;
        assert_eq!(config.steady_burn_in(), 96);
    }

    /// The months left of someone found at a random moment average
    /// `E[S²] / (2 E[S]) + 1/2` for whole-month stays.
    #[test]
    fn months_left_are_those_of_a_length_biased_stay() {
        let crn = crate::rng::Crn::new(3, 0);
        let mean_left = |config: &Config| {
            let n = 200_000;
            let sum: f64 = (0..n)
                .map(|r| months_left(config, 0, &mut crn.stream(r, 0, Purpose::WarmStart)) as f64)
                .sum();
            sum / n as f64
        };
        let fixed = config_with(Duration::Fixed { months: 12 });
        // Uniform on 1..=12.
        assert!(
            (mean_left(&fixed) - 6.5).abs() < 0.05,
            "{}",
            mean_left(&fixed)
        );
        // Geometric: a fresh stay.
        let geometric = config_with(Duration::Exponential { mean_months: 14.0 });
        assert!(
            (mean_left(&geometric) - 14.0).abs() < 0.2,
            "{}",
            mean_left(&geometric)
        );
        // Log-normal with mean 24 and sd 20: E[S²]/(2E[S]) = (400 + 576)/48.
        let lognormal = config_with(Duration::LogNormal {
            mean_months: 24.0,
            sd_months: 20.0,
        });
        let expected = (400.0 + 576.0) / 48.0 + 0.5;
        assert!(
            (mean_left(&lognormal) - expected).abs() < 0.02 * expected,
            "{} against {expected}",
            mean_left(&lognormal)
        );
    }
}
