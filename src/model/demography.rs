//! A steady place: who arrives when a resident leaves, so that the starting
//! age structure holds year after year unless a scenario declares a trend.
//!
//! Each slot has its yearly turn (deaths, moves, a birthday) in its own month
//! of the year. A child's slot stays a child's: at 18 the young person leaves
//! home and a birth or a child moving in takes the place; an adult's slot goes
//! to an adult. For the ages to hold, the newcomers' ages must replace exactly
//! what each age loses: with `N(a)` residents aged `a` at the start and `ℓ(a)`
//! the chance that one of them leaves in a year, the arrivals aged `a` must be
//! `N(a) − N(a−1)(1 − ℓ(a−1))`, which cannot be negative: where the starting
//! ages fall faster than deaths and moves would carry them, residents of the
//! age before move away a little more often (as net migration by age does).
//! [`Demography`] holds those moves and draws newcomers' ages, from the
//! expected starting ages (exact for a synthesised place, counted for a place
//! given resident by resident).

use super::hazards::{risk_multipliers, stationary};
use super::{AGE_BANDS, Config, MAX_AGE, NEED_LEVELS, PopulationSpec};

const AGES: usize = MAX_AGE as usize + 1;

/// The first adult age: a child's slot is refilled by a child, an adult's
/// by an adult.
pub const ADULT_AGE: u8 = 18;

/// The yearly chances of moving away, by age, and newcomers' ages, for
/// children's slots and adults' slots.
#[derive(Clone, Debug, PartialEq)]
pub struct Demography {
    /// Chance of moving away in a year at each age (for those who do not
    /// die): the scenario's rate, raised at an age the starting ages fall
    /// from faster than deaths and that rate would carry them.
    pub move_out: [f64; AGES],
    /// Cumulative share of child newcomers by age (ages 0 to 17).
    child: Vec<f64>,
    /// Cumulative share of adult newcomers by age (ages 18 to `MAX_AGE`).
    adult: Vec<f64>,
}

impl Demography {
    /// The moves and newcomers that keep the scenario's starting ages steady.
    pub fn new(config: &Config) -> Demography {
        let start = starting_ages(config);
        Demography::between(config, &start, &start)
    }

    /// The moves and newcomers that carry residents aged as `from` to
    /// residents aged as `to` a year later (both per resident at the start):
    /// arrivals aged `a` are `to(a) − from(a−1)(1 − ℓ(a−1))`, and where that
    /// would be negative, residents aged `a − 1` move away more often.
    pub fn between(config: &Config, from: &[f64; AGES], to: &[f64; AGES]) -> Demography {
        let death = chance_of_dying(config);
        let move_out = moves_that_hold(config, from, to, &death);
        let leave = leaving(config, &death, &move_out);
        let mut arrivals = [0.0; AGES];
        for a in 0..AGES {
            let stayers = match a {
                0 => 0.0,
                // Nobody ages into adulthood in a slot: 18-year-olds arrive.
                a if a == ADULT_AGE as usize => 0.0,
                a if a == AGES - 1 => (from[a - 1] + from[a]) * (1.0 - leave[a]),
                a => from[a - 1] * (1.0 - leave[a - 1]),
            };
            // Zero but for rounding: the moves above make room for everyone.
            arrivals[a] = (to[a] - stayers).max(0.0);
        }
        let adult = ADULT_AGE as usize;
        Demography {
            move_out,
            child: cumulative(&arrivals[..adult], &to[..adult]),
            adult: cumulative(&arrivals[adult..], &to[adult..]),
        }
    }

    /// With a declared trend, one `Demography` for each year the engine
    /// needs: the first holds the starting ages (burn-in), entry `y + 1`
    /// carries scenario year `y + 1`'s ages to year `y + 2`'s, and the last
    /// holds the trend's final year. Without a trend, only the first.
    pub fn by_year(config: &Config) -> Vec<Demography> {
        let start = starting_ages(config);
        let Some(trend) = &config.population.trend else {
            return vec![Demography::between(config, &start, &start)];
        };
        let ages = |y: usize| -> [f64; AGES] {
            let index = trend.index(y);
            std::array::from_fn(|a| start[a] * index[a])
        };
        let mut out = vec![Demography::between(config, &start, &start)];
        for y in 0..trend.years() {
            out.push(Demography::between(config, &ages(y), &ages(y + 1)));
        }
        out
    }

    /// The chance that a resident of each age leaves their slot in a year
    /// (dying at their band's mean rate, moving away, or leaving home at 17).
    pub fn chance_of_leaving(&self, config: &Config) -> [f64; AGES] {
        leaving(config, &chance_of_dying(config), &self.move_out)
    }

    /// A newcomer's age, for a child's slot or an adult's, from a uniform
    /// draw `u` in [0, 1).
    pub fn age(&self, child: bool, u: f64) -> u8 {
        let (cum, first) = if child {
            (&self.child, 0)
        } else {
            (&self.adult, ADULT_AGE as usize)
        };
        let i = cum.partition_point(|&c| c <= u).min(cum.len() - 1);
        (first + i) as u8
    }

    /// Share of a slot type's newcomers at each age (for tests and docs).
    pub fn shares(&self, child: bool) -> Vec<f64> {
        let cum = if child { &self.child } else { &self.adult };
        let mut prev = 0.0;
        cum.iter()
            .map(|&c| {
                let s = c - prev;
                prev = c;
                s
            })
            .collect()
    }
}

/// With a declared trend, the children and the adults at the start of each
/// scenario year (row by row of the trend), per child and per adult at the
/// start; empty without one.
pub fn growth_by_year(config: &Config) -> Vec<[f64; 2]> {
    let Some(trend) = &config.population.trend else {
        return Vec::new();
    };
    let start = starting_ages(config);
    let adult = ADULT_AGE as usize;
    let sum = |ages: &[f64]| ages.iter().sum::<f64>();
    let (c0, a0) = (sum(&start[..adult]), sum(&start[adult..]));
    (0..trend.years())
        .map(|y| {
            let index = trend.index(y);
            let n: [f64; AGES] = std::array::from_fn(|a| start[a] * index[a]);
            let ratio = |x: f64, base: f64| if base > 0.0 { x / base } else { 1.0 };
            [ratio(sum(&n[..adult]), c0), ratio(sum(&n[adult..]), a0)]
        })
        .collect()
}

/// Empty slots a place starting with `counts` children and adults needs for
/// its declared trend: its largest growth over the start, a year's largest
/// growth and 1% besides, for children and for adults; none for a kind that
/// never grows.
pub fn room_needed(config: &Config, counts: [usize; 2]) -> [usize; 2] {
    let growth = growth_by_year(config);
    std::array::from_fn(|k| {
        let base = counts[k] as f64;
        let most = growth.iter().map(|g| g[k] - 1.0).fold(0.0, f64::max);
        let year = growth
            .windows(2)
            .map(|w| w[1][k] - w[0][k])
            .fold(0.0, f64::max);
        if most <= 0.0 && year <= 0.0 {
            0
        } else {
            ((most + year + 0.01) * base).ceil() as usize + 12
        }
    })
}

/// Slots a replicate of the place holds: its residents, and the room a
/// declared trend keeps for arrivals (expected from the starting ages).
pub fn expected_slots(config: &Config) -> u64 {
    let residents = config.population.residents as u64;
    if config.population.trend.is_none() {
        return residents;
    }
    let start = starting_ages(config);
    let children: f64 = start[..ADULT_AGE as usize].iter().sum();
    let c = (children * residents as f64).round() as usize;
    let room = room_needed(config, [c, residents as usize - c.min(residents as usize)]);
    residents + room.iter().sum::<usize>() as u64
}

/// Cumulative shares of `weights`, falling back to `fallback`'s shape (and
/// then to a uniform mix) if they are all zero.
fn cumulative(weights: &[f64], fallback: &[f64]) -> Vec<f64> {
    let total: f64 = weights.iter().sum();
    let (w, total) = if total > 0.0 {
        (weights.to_vec(), total)
    } else if fallback.iter().sum::<f64>() > 0.0 {
        (fallback.to_vec(), fallback.iter().sum())
    } else {
        (vec![1.0; weights.len()], weights.len() as f64)
    };
    let mut acc = 0.0;
    let mut cum: Vec<f64> = w
        .iter()
        .map(|x| {
            acc += x / total;
            acc
        })
        .collect();
    if let Some(last) = cum.last_mut() {
        *last = 1.0;
    }
    cum
}

/// Expected residents at each age at the start, per resident of the place.
pub fn starting_ages(config: &Config) -> [f64; AGES] {
    starting_ages_of(&config.population)
}

/// As [`starting_ages`], from the population alone.
pub fn starting_ages_of(p: &PopulationSpec) -> [f64; AGES] {
    let mut n = [0.0; AGES];
    if let Some(list) = &p.starting {
        for m in list.iter().flat_map(|h| &h.members) {
            n[m.age as usize] += 1.0;
        }
    } else {
        // The synthesis rules (model::population::synthesise) in expectation:
        // a reference person, a partner or children, other adults.
        let sizes = normalised(&p.household_size_shares);
        let bands = normalised(&p.reference_age_shares);
        let spread = |n: &mut [f64; AGES], lo: u8, hi: u8, w: f64| {
            let hi = hi.max(lo);
            let each = w / (hi - lo + 1) as f64;
            for a in lo..=hi {
                n[a as usize] += each;
            }
        };
        for (b, &share_b) in bands.iter().enumerate() {
            let (lo, hi) = (p.reference_age_edges[b], p.reference_age_edges[b + 1] - 1);
            let hi = hi.max(lo);
            let per_age = share_b / (hi - lo + 1) as f64;
            for r in lo..=hi {
                let can_parent = r >= 18 && r <= p.max_parent_age;
                let partner_chance = if can_parent { p.partner_share } else { 1.0 };
                let child_hi = r.saturating_sub(16).min(17);
                for (k, &share_s) in sizes.iter().enumerate() {
                    let w = per_age * share_s;
                    if w == 0.0 {
                        continue;
                    }
                    n[r as usize] += w;
                    let size = k + 1;
                    for member in 1..size {
                        if member == 1 {
                            let lo = r.saturating_sub(6).max(18);
                            spread(&mut n, lo, (r + 6).min(MAX_AGE), w * partner_chance);
                            if partner_chance < 1.0 {
                                spread(&mut n, 0, child_hi, w * (1.0 - partner_chance));
                            }
                        } else if can_parent {
                            spread(&mut n, 0, child_hi, w);
                        } else {
                            spread(&mut n, 18, r, w);
                        }
                    }
                }
            }
        }
    }
    let total: f64 = n.iter().sum();
    if total > 0.0 {
        n.iter_mut().for_each(|x| *x /= total);
    }
    n
}

/// Expected households in the place at the start.
pub fn starting_households(p: &PopulationSpec) -> f64 {
    match &p.starting {
        Some(list) => list.len() as f64,
        None => {
            let sizes = normalised(&p.household_size_shares);
            let mean: f64 = sizes
                .iter()
                .enumerate()
                .map(|(k, s)| (k + 1) as f64 * s)
                .sum();
            p.residents as f64 / mean
        }
    }
}

fn normalised(shares: &[f64]) -> Vec<f64> {
    let total: f64 = shares.iter().sum();
    shares.iter().map(|s| s / total).collect()
}

/// The chance of dying in a year at each age, at the band's rate scaled by
/// its mean need multiplier at the start (zero without turnover).
fn chance_of_dying(config: &Config) -> [f64; AGES] {
    let p = &config.population;
    if !p.turnover {
        return [0.0; AGES];
    }
    let multiplier = mortality_multiplier(config);
    std::array::from_fn(|a| {
        let band = config.age_bands.band(a as u8);
        1.0 - (-p.mortality[band] * multiplier[band]).exp()
    })
}

/// The scenario's chance of moving away, raised where needed so that no age
/// keeps more residents than the next age should have a year later.
fn moves_that_hold(
    config: &Config,
    from: &[f64; AGES],
    to: &[f64; AGES],
    death: &[f64; AGES],
) -> [f64; AGES] {
    let p = &config.population;
    if !p.turnover {
        return [0.0; AGES];
    }
    let base = 1.0 - (-p.move_out_per_year).exp();
    let mut moves = [base; AGES];
    let need = |from: f64, to: f64, death: f64| -> f64 {
        if from <= 0.0 || death >= 1.0 {
            return 0.0;
        }
        1.0 - to / (from * (1.0 - death))
    };
    for a in 0..AGES - 2 {
        if a + 1 != ADULT_AGE as usize {
            moves[a] = moves[a].max(need(from[a], to[a + 1], death[a]));
        }
    }
    // The oldest age keeps its own survivors as well as those arriving.
    let (older, oldest) = (AGES - 2, AGES - 1);
    let m = need(from[older] + from[oldest], to[oldest], death[oldest]);
    moves[older] = moves[older].max(m);
    moves[oldest] = moves[oldest].max(m);
    moves.map(|m| m.clamp(0.0, 1.0))
}

fn leaving(config: &Config, death: &[f64; AGES], moves: &[f64; AGES]) -> [f64; AGES] {
    let mut leave: [f64; AGES] = std::array::from_fn(|a| death[a] + (1.0 - death[a]) * moves[a]);
    if config.population.turnover {
        leave[ADULT_AGE as usize - 1] = 1.0;
    }
    leave
}

/// Mean mortality multiplier by age band over the starting need mix.
fn mortality_multiplier(config: &Config) -> [f64; AGE_BANDS] {
    let p = &config.population;
    let mut sum = [0.0; AGE_BANDS];
    let mut weight = [0.0; AGE_BANDS];
    if let Some(list) = &p.starting {
        for m in list.iter().flat_map(|h| &h.members) {
            let band = config.age_bands.band(m.age);
            sum[band] += p.mortality_need_multiplier[m.need as usize];
            weight[band] += 1.0;
        }
    } else {
        // Each neighbourhood's residents draw risk factors at its decile's
        // prevalence and need from their own stationary distribution (as
        // synthesis does).
        for (neigh, quota) in p.neighbourhoods.iter().zip(p.quotas()) {
            for mask in 0..1u8 << config.risks.len() {
                let mut chance = quota as f64;
                for (f, risk) in config.risks.iter().enumerate() {
                    let q = risk.prevalence(neigh.decile).min(0.95);
                    chance *= if mask & (1 << f) != 0 { q } else { 1.0 - q };
                }
                let (up, down) = risk_multipliers(config, mask);
                for band in 0..AGE_BANDS {
                    let pi: [f64; NEED_LEVELS] = stationary(
                        &config.need,
                        up * config.need.age_escalation_multiplier[band],
                        down,
                    );
                    let m: f64 = (0..NEED_LEVELS)
                        .map(|l| pi[l] * p.mortality_need_multiplier[l])
                        .sum();
                    sum[band] += chance * m;
                    weight[band] += chance;
                }
            }
        }
    }
    std::array::from_fn(|b| {
        if weight[b] > 0.0 {
            sum[b] / weight[b]
        } else {
            1.0
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> Config {
        crate::scenario::load(std::path::Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/scenarios/baseline.toml"
        )))
        .expect("baseline loads")
        .config
    }

    /// One year of the slot process in expectation: survivors age, every
    /// leaver's slot goes to a newcomer of its kind.
    fn a_year_on(config: &Config, d: &Demography, n: &[f64; AGES]) -> [f64; AGES] {
        let leave = d.chance_of_leaving(config);
        let mut next = [0.0; AGES];
        let (mut child_leavers, mut adult_leavers) = (0.0, 0.0);
        for a in 0..AGES {
            let stay = n[a] * (1.0 - leave[a]);
            if a < ADULT_AGE as usize {
                child_leavers += n[a] * leave[a];
            } else {
                adult_leavers += n[a] * leave[a];
            }
            next[(a + 1).min(AGES - 1)] += stay;
        }
        for (a, s) in d.shares(true).iter().enumerate() {
            next[a] += child_leavers * s;
        }
        for (a, s) in d.shares(false).iter().enumerate() {
            next[ADULT_AGE as usize + a] += adult_leavers * s;
        }
        next
    }

    #[test]
    fn neighbourhoods_keep_their_shares_when_the_place_is_resized() {
        let mut config = config();
        let p = &mut config.population;
        // As given: the baseline splits 200,000 evenly over 20.
        assert_eq!(p.quotas(), vec![10_000; 20]);
        // Resized alone: split evenly again, the remainder to the first.
        p.residents = 1_003;
        let q = p.quotas();
        assert_eq!(q.iter().sum::<u32>(), 1_003);
        assert_eq!((q[0], q[2], q[3], q[19]), (51, 51, 50, 50));
        // Uneven neighbourhoods keep their proportions.
        for (i, n) in p.neighbourhoods.iter_mut().enumerate() {
            n.residents = if i == 0 { 30_000 } else { 10_000 };
        }
        p.residents = 22_000;
        let q = p.quotas();
        assert_eq!(q.iter().sum::<u32>(), 22_000);
        assert_eq!((q[0], q[1]), (3_000, 1_000));
    }

    #[test]
    fn the_starting_ages_hold_a_year_on_in_expectation() {
        let config = config();
        let d = Demography::new(&config);
        let start = starting_ages(&config);
        let mut n = start;
        for _ in 0..10 {
            n = a_year_on(&config, &d, &n);
        }
        for a in 0..AGES {
            assert!(
                (n[a] - start[a]).abs() < 1e-3 * start.iter().cloned().fold(0.0, f64::max),
                "age {a}: {} after ten years against {} at the start",
                n[a],
                start[a]
            );
        }
    }

    #[test]
    fn newcomers_are_of_their_slots_kind_and_births_come_first() {
        let config = config();
        let d = Demography::new(&config);
        assert_eq!(d.age(true, 0.0), 0);
        assert!(d.age(true, 0.999_999) < ADULT_AGE);
        assert!(d.age(false, 0.0) >= ADULT_AGE);
        assert!(d.age(false, 0.999_999) <= MAX_AGE);
        // Births replace the youngest age in full; children of other ages
        // only replace those who moved away.
        let child = d.shares(true);
        assert!(child[0] > 5.0 * child[1], "{child:?}");
    }

    #[test]
    fn the_expected_starting_ages_match_a_synthesised_place() {
        let config = config();
        let start = starting_ages(&config);
        let pop = crate::model::population::synthesise(&config, crate::rng::Crn::new(7, 0));
        let n = pop.residents.len() as f64;
        let share = |lo: u8, hi: u8| -> (f64, f64) {
            let seen = pop
                .residents
                .age
                .iter()
                .filter(|&&a| a >= lo && a <= hi)
                .count() as f64;
            let expected: f64 = (lo..=hi).map(|a| start[a as usize]).sum();
            (seen / n, expected)
        };
        for (lo, hi) in [
            (0, 17),
            (18, 29),
            (30, 44),
            (45, 64),
            (65, 84),
            (85, MAX_AGE),
        ] {
            let (seen, expected) = share(lo, hi);
            assert!(
                (seen - expected).abs() < 0.005,
                "ages {lo}-{hi}: {seen:.4} synthesised, {expected:.4} expected"
            );
        }
    }
}
