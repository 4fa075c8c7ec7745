//! Turnover and ageing: each resident's yearly turn comes in their slot's own
//! month of the year, so no month sees a year's worth at once. On their turn a
//! resident may die or move away (and at 17 leaves home); the vacated slot is
//! refilled by a newcomer of the same kind (a child's by a birth or a child
//! moving in, an adult's by an adult) who draws their own risk factors and
//! need; everything a leaver held is released. Those who stay age a year,
//! leaving any episode whose age bands they age out of. The newcomers' ages and
//! the moves by age hold the starting age structure (`model::demography`).
//!
//! A declared trend changes that in two ways. The newcomers' ages and the
//! moves follow the trend's ages from one year to the next; and the place
//! grows or shrinks through empty slots (`model::population::make_room`): a
//! leaver's slot (other than a household's reference person's, which is
//! always refilled) is left empty, and at the month's end as many of the
//! month's empty slots are taken as bring the children and the adults to the
//! trend's path for that month, each with the same chance.

use super::household::HouseholdSummary;
use super::{Engine, scenario_month};
use crate::model::demography::{ADULT_AGE, Demography};
use crate::model::population::{self, Residents, VACANT_ADULT, VACANT_CHILD, flag, is_vacant, iv};
use crate::model::{AGE_BANDS, Config, MAX_AGE, NEED_LEVELS, RISK_FACTORS, Unit};
use crate::rng::{Crn, Purpose, ResidentCrn, resident_key, threshold};

/// Thresholds for the yearly turn's draws, and the newcomers' ages.
pub(super) struct Departures {
    death: [[u32; NEED_LEVELS]; AGE_BANDS],
    /// Moves and newcomers' ages: the starting ages' (burn-in), then each
    /// year of a declared trend's (`Demography::by_year`).
    years: Vec<(Demography, [u32; MAX_AGE as usize + 1])>,
    /// Children and adults at the start of each scenario year, per child
    /// and adult at the start (empty without a trend).
    growth: Vec<[f64; 2]>,
}

impl Departures {
    /// The yearly chance of moving away at each age, at the start.
    pub(super) fn moves(&self) -> [f64; MAX_AGE as usize + 1] {
        self.years[0].0.move_out
    }

    pub(super) fn new(config: &Config) -> Departures {
        let p = &config.population;
        Departures {
            death: std::array::from_fn(|band| {
                std::array::from_fn(|level| {
                    threshold(1.0 - (-p.mortality[band] * p.mortality_need_multiplier[level]).exp())
                })
            }),
            years: Demography::by_year(config)
                .into_iter()
                .map(|d| {
                    let moves = d.move_out.map(threshold);
                    (d, moves)
                })
                .collect(),
            growth: crate::model::demography::growth_by_year(config),
        }
    }

    /// The moves and newcomers for scenario month `m` (burn-in's before the
    /// horizon).
    fn year(&self, m: i64) -> &(Demography, [u32; MAX_AGE as usize + 1]) {
        let y = if m < 1 { 0 } else { (m as usize - 1) / 12 + 1 };
        &self.years[y.min(self.years.len() - 1)]
    }

    /// Children and adults the trend's path reaches by the end of scenario
    /// month `m`, per child and adult at the start: a straight line through
    /// each year.
    fn path(&self, m: i64) -> [f64; 2] {
        let last = self.growth.len().saturating_sub(1);
        if m < 1 || self.growth.is_empty() {
            return self.growth.first().copied().unwrap_or([1.0; 2]);
        }
        let (y, j) = ((m as usize - 1) / 12, (m as usize - 1) % 12);
        let (from, to) = (self.growth[y.min(last)], self.growth[(y + 1).min(last)]);
        let f = (j + 1) as f64 / 12.0;
        std::array::from_fn(|k| from[k] + f * (to[k] - from[k]))
    }
}

impl Engine<'_> {
    /// This month's share of the yearly turns: the slots whose turn month it
    /// is.
    // Out of line so profiles show it apart.
    #[inline(never)]
    pub(super) fn turnover_and_ageing(&mut self) {
        let cfg = self.config;
        let pcfg = &cfg.population;
        let t = self.t;
        let m = scenario_month(cfg, t);
        let recording = m >= 1;
        let arrival = (t + 1).min(u16::MAX as u32) as u16;
        let pop = &mut self.population;
        let dep = &self.departures;
        let (demography, move_out) = dep.year(m);
        let trend = !dep.growth.is_empty();
        let mut flows = Flows::default();
        let newcomers = Newcomers {
            config: cfg,
            shock: &self.tables.shock,
            starting_need: &self.starting_need,
            demography,
            crn: self.crn,
            t,
            arrival,
        };
        let mut vacancies = std::mem::take(&mut self.vacancies);
        vacancies.clear();
        let n_slots = pop.residents.len();
        // A slot's turn comes when the month (counted from the first burn-in
        // month) matches the slot modulo 12.
        for r in (t as usize % 12..n_slots).step_by(12) {
            let h = pop.residents.household[r] as usize;
            let n = pop.households.neighbourhood[h] as usize;
            let decile = pcfg.neighbourhoods[n].decile;
            let res = &mut pop.residents;
            let age = res.age[r];
            if is_vacant(age) {
                vacancies.push(r as u32);
                continue;
            }
            let band = cfg.age_bands.band(age);
            let mut left = false;
            if pcfg.turnover {
                // One draw decides who stays; leavers draw more below.
                let bits = self.prefixes[r].bits(t, Purpose::Turnover);
                if (bits as u32) < dep.death[band][res.need[r] as usize] {
                    flows.deaths += 1;
                    left = true;
                } else if ((bits >> 32) as u32) < move_out[age as usize] || age + 1 == ADULT_AGE {
                    // At 17 a young person leaves home: the slot stays
                    // a child's.
                    flows.moves_out += 1;
                    left = true;
                }
                if left {
                    // Release everything the leaver held.
                    let flags = res.flags[r];
                    if flags & flag::CONNECTED != 0 {
                        self.connected[n] -= 1;
                    }
                    let ep = res.episode[r];
                    if ep != 0 {
                        self.episodes[ep as usize - 1].release(flags);
                    }
                    let ivb = res.intervention[r];
                    if ivb & iv::CASE_HOLDER != 0 {
                        // The case goes on with anyone in the household
                        // still supported by it; otherwise the place frees.
                        // (Only household cases: in a resident case each
                        // supported member holds their own.)
                        let i = (ivb & iv::INDEX) as usize - 1;
                        let same = (ivb & iv::INDEX) | iv::SUPPORT;
                        let heir = (self.reach[i].unit == Unit::Household)
                            .then(|| {
                                pop.households.members(h).find(|&q| {
                                    q != r
                                        && res.intervention[q] & (iv::INDEX | iv::SUPPORT) == same
                                })
                            })
                            .flatten();
                        match heir {
                            Some(q) => res.intervention[q] |= iv::CASE_HOLDER,
                            None => self.caseloads[i].cases -= 1,
                        }
                    }
                    let child = age < ADULT_AGE;
                    if trend && r != pop.households.start[h] as usize {
                        // Left empty; the month's arrivals are settled below.
                        self.occupied[!child as usize] -= 1;
                        vacate(res, r, child);
                        vacancies.push(r as u32);
                    } else {
                        // The newcomer: a child's place goes to a birth or a
                        // child moving in; an adult's to an adult moving in.
                        let age = newcomers.settle(res, &mut self.prefixes[r], r, child, decile);
                        flows.arrived(age);
                    }
                }
            }
            if !left {
                let new_age = (age + 1).min(crate::model::MAX_AGE);
                res.age[r] = new_age;
                if new_age == ADULT_AGE {
                    // Only without turnover does a child stay to grow up.
                    self.occupied[0] -= 1;
                    self.occupied[1] += 1;
                }
                let new_band = cfg.age_bands.band(new_age);
                let ep = res.episode[r];
                // Ageing out of an episode's eligibility ends it (care leavers).
                if ep != 0
                    && new_band != band
                    && !cfg.episodes[ep as usize - 1].eligible_bands[new_band]
                {
                    res.flags[r] = self.episodes[ep as usize - 1].release(res.flags[r]);
                    res.episode[r] = 0;
                    res.episode_left[r] = 0;
                }
            }
            // A member changed, or a child became an adult: refresh the
            // household's summary (a year older otherwise changes nothing in
            // it).
            if left || age + 1 == ADULT_AGE {
                self.household_summary[h] = HouseholdSummary::of(pop, h).pack();
            }
        }
        if trend {
            // Enough of the month's empty slots are taken to bring children
            // and adults to the trend's path, each slot with the same chance.
            let path = dep.path(m);
            for (kind, empty) in [VACANT_CHILD, VACANT_ADULT].into_iter().enumerate() {
                let target = (self.start_occupied[kind] as f64 * path[kind]).round() as i64;
                let wanted = target - self.occupied[kind] as i64;
                let open = vacancies
                    .iter()
                    .filter(|&&r| pop.residents.age[r as usize] == empty)
                    .count();
                if wanted <= 0 || open == 0 {
                    continue;
                }
                let chance = wanted as f64 / open as f64;
                let thr = threshold(chance);
                for &r in &vacancies {
                    let r = r as usize;
                    let res = &mut pop.residents;
                    if res.age[r] != empty
                        || chance < 1.0 && (self.prefixes[r].bits(t, Purpose::Room) as u32) >= thr
                    {
                        continue;
                    }
                    let h = res.household[r] as usize;
                    let decile =
                        pcfg.neighbourhoods[pop.households.neighbourhood[h] as usize].decile;
                    let age = newcomers.settle(res, &mut self.prefixes[r], r, kind == 0, decile);
                    flows.arrived(age);
                    self.occupied[kind] += 1;
                    self.household_summary[h] = HouseholdSummary::of(pop, h).pack();
                }
            }
        }
        self.vacancies = vacancies;
        self.turnover.births += flows.births;
        self.turnover.deaths += flows.deaths;
        self.turnover.moves_in += flows.moves_in;
        self.turnover.moves_out += flows.moves_out;
        self.turnover.end = self.occupied.iter().sum();
        if recording {
            let lay = &self.layout;
            self.row[lay.births] = flows.births as i64;
            self.row[lay.deaths] = flows.deaths as i64;
            self.row[lay.moves_in] = flows.moves_in as i64;
            self.row[lay.moves_out] = flows.moves_out as i64;
        }
    }
}

/// A month's births, deaths and moves.
#[derive(Default)]
struct Flows {
    births: u64,
    deaths: u64,
    moves_in: u64,
    moves_out: u64,
}

impl Flows {
    fn arrived(&mut self, age: u8) {
        if age == 0 {
            self.births += 1;
        } else {
            self.moves_in += 1;
        }
    }
}

/// What a month's newcomers are drawn from.
struct Newcomers<'a> {
    config: &'a Config,
    shock: &'a [f64; RISK_FACTORS],
    starting_need: &'a population::StartingNeed,
    demography: &'a Demography,
    crn: Crn,
    t: u32,
    arrival: u16,
}

impl Newcomers<'_> {
    /// A newcomer in slot `r` (a child's slot or an adult's): their age,
    /// risk factors and need from the slot's newcomer draw, a new identity,
    /// nothing else. Returns their age.
    fn settle(
        &self,
        res: &mut Residents,
        prefix: &mut ResidentCrn,
        r: usize,
        child: bool,
        decile: u8,
    ) -> u8 {
        let cfg = self.config;
        let mut rng = prefix.stream(self.t, Purpose::Newcomer);
        let age = self.demography.age(child, rng.uniform());
        let mask = population::draw_risk_mask(cfg, decile, self.shock, &mut rng);
        let need = self.starting_need.draw(cfg, mask, age, &mut rng);
        settle(res, r, age, need, mask, self.arrival);
        *prefix = self.crn.resident(resident_key(r as u32, self.arrival));
        age
    }
}

/// Slot `r`'s new occupant, with nothing yet but their age, need and risk
/// factors.
fn settle(res: &mut Residents, r: usize, age: u8, need: u8, mask: u8, arrival: u16) {
    res.age[r] = age;
    res.need[r] = need;
    res.flags[r] = mask;
    res.arrival[r] = arrival;
    res.episode[r] = 0;
    res.episode_left[r] = 0;
    res.touched[r] = 0;
    res.intervention[r] = 0;
    res.intervention_months[r] = 0;
}

/// Slot `r` emptied, kept for a child or an adult.
fn vacate(res: &mut Residents, r: usize, child: bool) {
    let arrival = res.arrival[r];
    settle(res, r, 0, 0, 0, arrival);
    res.age[r] = if child { VACANT_CHILD } else { VACANT_ADULT };
}
