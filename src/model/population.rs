//! Residents, households and neighbourhoods as struct-of-arrays state, and the
//! synthesis of a starting population from a scenario.
//!
//! Residents are stored household by household and households neighbourhood by
//! neighbourhood, so both are contiguous ranges and a month's step is one pass
//! over flat arrays. A resident's slot never moves: turnover replaces the
//! occupant of a slot (see `engine::turnover`), keeping the population stable.

use super::demography::ADULT_AGE;
use super::hazards::{risk_multipliers, stationary};
use super::{AGE_BANDS, Config, NEED_LEVELS, RISK_FACTORS};
use crate::rng::{Crn, Purpose, Stream, resident_key};

/// Bits of `Residents::flags`.
pub mod flag {
    /// Bits 0..5 hold the risk factors (see `RiskFactor::bit`).
    pub const RISK_MASK: u8 = 0b0001_1111;
    /// Connected to a community asset in their neighbourhood.
    pub const CONNECTED: u8 = 1 << 5;
    /// The current episode is a spot-purchased place.
    pub const SPOT: u8 = 1 << 6;
    /// Waiting for a place in `episode` rather than occupying one.
    pub const WAITING: u8 = 1 << 7;
}

/// The age that marks a slot held open for a child a declared trend will
/// bring (see [`make_room`]).
pub const VACANT_CHILD: u8 = 254;
/// The age that marks a slot held open for an adult.
pub const VACANT_ADULT: u8 = 255;

/// Whether a slot with this age is held open rather than occupied.
#[inline(always)]
pub fn is_vacant(age: u8) -> bool {
    age >= VACANT_CHILD
}

/// Bits of `Residents::intervention`.
pub mod iv {
    /// Low six bits: intervention index + 1 (0 = none).
    pub const INDEX: u8 = 0b0011_1111;
    /// Counts as one case in the intervention's caseload (the resident, or the
    /// household's first member for household-unit interventions).
    pub const CASE_HOLDER: u8 = 1 << 6;
    /// In active support; otherwise the effect is lingering.
    pub const SUPPORT: u8 = 1 << 7;
}

/// Per-resident state: 17 bytes a resident.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Residents {
    /// Age in whole years, 0 to [`MAX_AGE`](crate::model::MAX_AGE).
    pub age: Vec<u8>,
    /// Need level, 0 (thriving) to 3 (crisis), as
    /// [`NeedLevel`](crate::model::NeedLevel) numbers them.
    pub need: Vec<u8>,
    /// Risk factors, asset connection, spot place, waiting (see [`flag`]).
    pub flags: Vec<u8>,
    /// Index of the resident's household in [`Households`].
    pub household: Vec<u32>,
    /// Month (counted from the first burn-in month) the occupant arrived in
    /// this slot; with the slot it forms the resident's random-number identity.
    pub arrival: Vec<u16>,
    /// Episode service index + 1 (0 = none).
    pub episode: Vec<u8>,
    /// Months left in the current episode.
    pub episode_left: Vec<u16>,
    /// Services touched in the current handoff window, one bit each.
    pub touched: Vec<u16>,
    /// Intervention index and state (see [`iv`]).
    pub intervention: Vec<u8>,
    /// Months of support left, or months since support ended.
    pub intervention_months: Vec<u16>,
}

impl Residents {
    /// Residents (slots) in the population.
    pub fn len(&self) -> usize {
        self.age.len()
    }
    /// Whether there are no residents.
    pub fn is_empty(&self) -> bool {
        self.age.is_empty()
    }
    /// The random-number identity of the resident in `slot`: the slot and
    /// their arrival month (see [`resident_key`]).
    #[inline(always)]
    pub fn key(&self, slot: usize) -> u64 {
        resident_key(slot as u32, self.arrival[slot])
    }
    /// Bytes of state per resident.
    pub const BYTES_PER_RESIDENT: usize = 1 + 1 + 1 + 4 + 2 + 1 + 2 + 2 + 1 + 2;

    /// Bytes actually held per resident, from the arrays themselves.
    pub fn bytes_per_resident(&self) -> usize {
        fn per<T>(v: &[T]) -> usize {
            std::mem::size_of_val(v) / v.len().max(1)
        }
        per(&self.age)
            + per(&self.need)
            + per(&self.flags)
            + per(&self.household)
            + per(&self.arrival)
            + per(&self.episode)
            + per(&self.episode_left)
            + per(&self.touched)
            + per(&self.intervention)
            + per(&self.intervention_months)
    }
}

/// Households as contiguous runs of resident slots, in neighbourhood order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Households {
    /// Residents of household h are `start[h]..start[h + 1]`.
    pub start: Vec<u32>,
    /// Index of each household's neighbourhood (0-based, in the config's
    /// order).
    pub neighbourhood: Vec<u16>,
}

impl Households {
    /// Households in the population.
    pub fn len(&self) -> usize {
        self.neighbourhood.len()
    }
    /// Whether there are no households.
    pub fn is_empty(&self) -> bool {
        self.neighbourhood.is_empty()
    }
    /// Slots of household `h`'s members; the first is its reference person.
    pub fn members(&self, h: usize) -> std::ops::Range<usize> {
        self.start[h] as usize..self.start[h + 1] as usize
    }
}

/// A replicate's residents, grouped into households and neighbourhoods.
#[derive(Clone, Debug, PartialEq)]
pub struct Population {
    /// Every resident's state, by slot.
    pub residents: Residents,
    /// Which slots form each household, and where it lives.
    pub households: Households,
    /// Households of neighbourhood n are `neighbourhood_start[n]..[n + 1]`.
    pub neighbourhood_start: Vec<u32>,
}

impl Population {
    /// Indices of neighbourhood `n`'s households.
    pub fn neighbourhood_households(&self, n: usize) -> std::ops::Range<usize> {
        self.neighbourhood_start[n] as usize..self.neighbourhood_start[n + 1] as usize
    }
    /// Slots of neighbourhood `n`'s residents.
    pub fn neighbourhood_residents(&self, n: usize) -> std::ops::Range<usize> {
        let hh = self.neighbourhood_households(n);
        self.households.start[hh.start] as usize..self.households.start[hh.end] as usize
    }
}

fn pick(shares: &[f64], u: f64) -> usize {
    let total: f64 = shares.iter().sum();
    let mut acc = 0.0;
    for (i, s) in shares.iter().enumerate() {
        acc += s / total;
        if u < acc {
            return i;
        }
    }
    shares.len() - 1
}

fn uniform_age(rng: &mut Stream, lo: u8, hi: u8) -> u8 {
    let span = (hi.max(lo) - lo) as f64 + 1.0;
    (lo as f64 + (rng.uniform() * span).floor()).min(hi.max(lo) as f64) as u8
}

/// Draws a reference person's age from the scenario's age bands.
pub(crate) fn reference_age(config: &Config, rng: &mut Stream) -> u8 {
    let p = &config.population;
    let b = pick(&p.reference_age_shares, rng.uniform());
    uniform_age(
        rng,
        p.reference_age_edges[b],
        p.reference_age_edges[b + 1] - 1,
    )
}

/// Draws risk factors for a resident of a neighbourhood with this decile, at the
/// factors' stationary prevalence.
pub(crate) fn draw_risk_mask(
    config: &Config,
    decile: u8,
    shock: &[f64; RISK_FACTORS],
    rng: &mut Stream,
) -> u8 {
    let mut mask = 0u8;
    for (f, risk) in config.risks.iter().enumerate() {
        if rng.uniform() < (risk.prevalence(decile) * shock[f]).min(0.95) {
            mask |= 1 << f;
        }
    }
    mask
}

/// Starting need distributions: each resident's own stationary distribution,
/// by age band and risk factors, so the population starts near equilibrium
/// before burn-in adds the interactions.
#[derive(Clone, Debug)]
pub(crate) struct StartingNeed {
    by_band_and_mask: Vec<[f64; NEED_LEVELS]>,
}

impl StartingNeed {
    /// The distributions for every age band and set of risk factors.
    pub(crate) fn new(config: &Config) -> Self {
        let mut by_band_and_mask = Vec::with_capacity(AGE_BANDS * 32);
        for band in 0..AGE_BANDS {
            for mask in 0..32u8 {
                let (up, down) = risk_multipliers(config, mask);
                by_band_and_mask.push(stationary(
                    &config.need,
                    up * config.need.age_escalation_multiplier[band],
                    down,
                ));
            }
        }
        StartingNeed { by_band_and_mask }
    }

    /// Draws a need level (0–3) for a resident of this age holding the risk
    /// factors in `mask`.
    pub(crate) fn draw(&self, config: &Config, mask: u8, age: u8, rng: &mut Stream) -> u8 {
        pick(&self.distribution(config, mask, age), rng.uniform()) as u8
    }

    /// The stationary need distribution of a resident of this age holding
    /// the risk factors in `mask`.
    pub(crate) fn distribution(&self, config: &Config, mask: u8, age: u8) -> [f64; NEED_LEVELS] {
        let band = config.age_bands.band(age);
        self.by_band_and_mask[band * 32 + mask as usize]
    }
}

/// Builds the starting population for one replicate.
pub fn synthesise(config: &Config, crn: Crn) -> Population {
    let p = &config.population;
    let total = p.residents as usize;
    let n_neigh = p.neighbourhoods.len();
    let mut residents = Residents::default();
    let mut households = Households::default();
    let mut neighbourhood_start = vec![0u32];
    let reserve = |v: &mut Vec<u8>| v.reserve(total);
    reserve(&mut residents.age);
    reserve(&mut residents.need);
    reserve(&mut residents.flags);

    if let Some(list) = &p.starting {
        // Residents as given: households already in neighbourhood order.
        let mut next = 0;
        for n in 0..n_neigh {
            while next < list.len() && list[next].neighbourhood == n {
                households.start.push(residents.age.len() as u32);
                households.neighbourhood.push(n as u16);
                for m in &list[next].members {
                    residents.age.push(m.age);
                    residents.need.push(m.need);
                    residents.flags.push(m.risk_mask);
                    residents
                        .household
                        .push(households.neighbourhood.len() as u32 - 1);
                }
                next += 1;
            }
            neighbourhood_start.push(households.neighbourhood.len() as u32);
        }
        let given = finish(residents, households, neighbourhood_start);
        return match &p.trend {
            Some(_) => make_room(config, crn, given),
            None => given,
        };
    }
    let placed = synthesise_place(config, crn, residents, households, neighbourhood_start);
    match &p.trend {
        Some(_) => make_room(config, crn, placed),
        None => placed,
    }
}

fn synthesise_place(
    config: &Config,
    crn: Crn,
    mut residents: Residents,
    mut households: Households,
    mut neighbourhood_start: Vec<u32>,
) -> Population {
    let p = &config.population;
    let starting = StartingNeed::new(config);
    let quotas = p.quotas();
    let mut hh_counter = 0u64;
    let mut ages = Vec::new();
    for (n, neigh) in p.neighbourhoods.iter().enumerate() {
        let quota = quotas[n] as usize;
        let mut placed = 0usize;
        while placed < quota {
            // Households are numbered across the place; their draws use a key
            // outside the range of resident keys.
            let mut rng = crn.stream(u64::MAX - hh_counter, 0, Purpose::Synthesis);
            hh_counter += 1;
            let size = (pick(&p.household_size_shares, rng.uniform()) + 1).min(quota - placed);
            let ref_age = reference_age(config, &mut rng);
            ages.clear();
            ages.push(ref_age);
            let can_parent = ref_age >= 18 && ref_age <= p.max_parent_age;
            for k in 1..size {
                let partner = k == 1 && (!can_parent || rng.uniform() < p.partner_share);
                let age = if partner {
                    let lo = ref_age.saturating_sub(6).max(18);
                    uniform_age(&mut rng, lo, (ref_age + 6).min(super::MAX_AGE))
                } else if can_parent {
                    uniform_age(&mut rng, 0, (ref_age - 16).min(17))
                } else {
                    uniform_age(&mut rng, 18, ref_age)
                };
                ages.push(age);
            }
            households.start.push(residents.age.len() as u32);
            households.neighbourhood.push(n as u16);
            for &age in &ages {
                let slot = residents.age.len();
                let mut rrng = crn.stream(resident_key(slot as u32, 0), 0, Purpose::Synthesis);
                let mask = draw_risk_mask(config, neigh.decile, &[1.0; RISK_FACTORS], &mut rrng);
                let need = starting.draw(config, mask, age, &mut rrng);
                residents.age.push(age);
                residents.need.push(need);
                residents.flags.push(mask);
                residents
                    .household
                    .push(households.neighbourhood.len() as u32 - 1);
            }
            placed += size;
        }
        neighbourhood_start.push(households.neighbourhood.len() as u32);
    }
    finish(residents, households, neighbourhood_start)
}

fn finish(
    mut residents: Residents,
    mut households: Households,
    neighbourhood_start: Vec<u32>,
) -> Population {
    households.start.push(residents.age.len() as u32);
    let n = residents.age.len();
    residents.arrival = vec![0; n];
    residents.episode = vec![0; n];
    residents.episode_left = vec![0; n];
    residents.touched = vec![0; n];
    residents.intervention = vec![0; n];
    residents.intervention_months = vec![0; n];
    Population {
        residents,
        households,
        neighbourhood_start,
    }
}

/// A place with room to grow: empty slots added to its households for the
/// children and adults a declared trend will bring at its largest (and a
/// year's growth and 1% besides, so arrivals are never short of room). The
/// residents are the synthesised place's, unchanged. A child's slot goes to
/// a household whose reference person could be a parent (any household if
/// none could), an adult's to any household; each household's reference
/// person stays first.
pub fn make_room(config: &Config, crn: Crn, place: Population) -> Population {
    let res = &place.residents;
    let children = res.age.iter().filter(|&&a| a < ADULT_AGE).count();
    let counts = [children, res.len() - children];
    let room = super::demography::room_needed(config, counts);
    if room == [0, 0] || place.households.is_empty() {
        return place;
    }
    let hh = &place.households;
    let parents: Vec<usize> = (0..hh.len())
        .filter(|&h| {
            let age = res.age[hh.start[h] as usize];
            (18..=config.population.max_parent_age).contains(&age)
        })
        .collect();
    let everyone: Vec<usize> = (0..hh.len()).collect();
    let mut extra = vec![[0u32; 2]; hh.len()];
    for (kind, &n) in room.iter().enumerate() {
        let pool = if kind == 0 && !parents.is_empty() {
            &parents
        } else {
            &everyone
        };
        for e in 0..n {
            let u = crn.stream(e as u64, kind as u32, Purpose::Room).uniform();
            let h = pool[((u * pool.len() as f64) as usize).min(pool.len() - 1)];
            extra[h][kind] += 1;
        }
    }
    let n = res.len() + room[0] + room[1];
    let mut out = Residents::default();
    let mut start = Vec::with_capacity(hh.len() + 1);
    for (h, extra) in extra.iter().enumerate() {
        start.push(out.age.len() as u32);
        for r in hh.members(h) {
            out.age.push(res.age[r]);
            out.need.push(res.need[r]);
            out.flags.push(res.flags[r]);
            out.household.push(h as u32);
        }
        for (kind, age) in [VACANT_CHILD, VACANT_ADULT].into_iter().enumerate() {
            for _ in 0..extra[kind] {
                out.age.push(age);
                out.need.push(0);
                out.flags.push(0);
                out.household.push(h as u32);
            }
        }
    }
    debug_assert_eq!(out.age.len(), n);
    let households = Households {
        start,
        neighbourhood: hh.neighbourhood.clone(),
    };
    finish(out, households, place.neighbourhood_start)
}
