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

use super::chunks::{Chunk, Slots, each_chunk};
use super::household::HouseholdSummary;
use super::{Engine, scenario_month};
use crate::model::demography::{ADULT_AGE, Demography};
use crate::model::population::{self, VACANT_ADULT, VACANT_CHILD, flag, is_vacant, iv};
use crate::model::{AGE_BANDS, Config, MAX_AGE, MAX_SERVICES, NEED_LEVELS, RISK_FACTORS, Unit};
use crate::rng::{Crn, Purpose, resident_key, threshold};

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

/// What one chunk's turns leave for the rest of the month, in slot order.
#[derive(Clone, Debug, Default)]
pub(super) struct TurnTally {
    flows: Flows,
    /// Leavers who were connected to the neighbourhood's asset.
    disconnected: u32,
    /// Episodes ended, by service: in-house, spot, waiting.
    released: [[u32; 3]; MAX_SERVICES],
    /// Cases ended with no one in the household left to hold them, by
    /// intervention.
    cases_ended: Vec<u32>,
    /// Children and adults who came of age (moved from the first count to
    /// the second) or left their slot empty.
    came_of_age: u64,
    emptied: [u64; 2],
    /// Slots empty this month, in order.
    vacancies: Vec<u32>,
}

/// What every chunk's turns read this month.
struct TurnMonth<'a> {
    config: &'a Config,
    t: u32,
    newcomers: Newcomers<'a>,
    dep: &'a Departures,
    move_out: &'a [u32; MAX_AGE as usize + 1],
    trend: bool,
    reach: &'a [super::interventions::Reach],
    household: &'a [u32],
    hh_start: &'a [u32],
}

impl Engine<'_> {
    /// This month's share of the yearly turns: the slots whose turn month it
    /// is, chunk by chunk (a turn touches only its slot and household).
    // Out of line so profiles show it apart.
    #[inline(never)]
    pub(super) fn turnover_and_ageing(&mut self) {
        let cfg = self.config;
        let t = self.t;
        let m = scenario_month(cfg, t);
        let recording = m >= 1;
        let arrival = (t + 1).min(u16::MAX as u32) as u16;
        let mut tallies = std::mem::take(&mut self.turn_tallies);
        tallies.resize_with(self.chunks.len(), TurnTally::default);
        for tally in &mut tallies {
            let mut cases = std::mem::take(&mut tally.cases_ended);
            let mut vacancies = std::mem::take(&mut tally.vacancies);
            cases.clear();
            cases.resize(cfg.interventions.len(), 0);
            vacancies.clear();
            *tally = TurnTally {
                cases_ended: cases,
                vacancies,
                ..TurnTally::default()
            };
        }
        {
            let Engine {
                population,
                prefixes,
                household_summary,
                chunks,
                workers,
                tables,
                starting_need,
                departures,
                crn,
                reach,
                ..
            } = self;
            let departures = &*departures;
            let (demography, move_out) = departures.year(m);
            // Each slot's household, read while the slots are written.
            let household = std::mem::take(&mut population.residents.household);
            let month = TurnMonth {
                config: cfg,
                t,
                newcomers: Newcomers {
                    config: cfg,
                    shock: &tables.shock,
                    starting_need,
                    demography,
                    crn: *crn,
                    t,
                    arrival,
                },
                dep: departures,
                move_out,
                trend: !departures.growth.is_empty(),
                reach,
                household: &household,
                hh_start: &population.households.start,
            };
            let slots = Slots::of(&mut population.residents, prefixes, household_summary);
            each_chunk(
                *workers,
                slots,
                chunks,
                &mut tallies,
                |chunk, slots, tally| turns_in_chunk(&month, chunk, slots, tally),
            );
            population.residents.household = household;
        }
        let mut flows = Flows::default();
        let mut vacancies = std::mem::take(&mut self.vacancies);
        vacancies.clear();
        for (tally, chunk) in tallies.iter().zip(&self.chunks) {
            flows.add(&tally.flows);
            self.connected[chunk.neighbourhood] -= tally.disconnected;
            for (es, [in_house, spot, waiting]) in self.episodes.iter_mut().zip(tally.released) {
                es.in_house -= in_house;
                es.spot -= spot;
                es.waiting -= waiting;
            }
            for (c, &ended) in self.caseloads.iter_mut().zip(&tally.cases_ended) {
                c.cases -= ended;
            }
            self.occupied[0] -= tally.came_of_age + tally.emptied[0];
            self.occupied[1] += tally.came_of_age;
            self.occupied[1] -= tally.emptied[1];
            vacancies.extend_from_slice(&tally.vacancies);
        }
        self.turn_tallies = tallies;
        let trend = !self.departures.growth.is_empty();
        if trend {
            let pcfg = &cfg.population;
            let pop = &mut self.population;
            let (demography, _) = self.departures.year(m);
            let newcomers = Newcomers {
                config: cfg,
                shock: &self.tables.shock,
                starting_need: &self.starting_need,
                demography,
                crn: self.crn,
                t,
                arrival,
            };
            // Enough of the month's empty slots are taken to bring children
            // and adults to the trend's path, each slot with the same chance.
            let path = self.departures.path(m);
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
                    if pop.residents.age[r] != empty
                        || chance < 1.0 && (self.prefixes[r].bits(t, Purpose::Room) as u32) >= thr
                    {
                        continue;
                    }
                    let h = pop.residents.household[r] as usize;
                    let decile =
                        pcfg.neighbourhoods[pop.households.neighbourhood[h] as usize].decile;
                    let mut all = Slots::of(&mut pop.residents, &mut self.prefixes, &mut []);
                    let age = newcomers.settle(&mut all, r, r, kind == 0, decile);
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

/// The turns in one chunk: the slots whose month of the year this is.
fn turns_in_chunk(mo: &TurnMonth, chunk: &Chunk, s: &mut Slots, tally: &mut TurnTally) {
    let cfg = mo.config;
    let pcfg = &cfg.population;
    let dep = mo.dep;
    let t = mo.t;
    let decile = pcfg.neighbourhoods[chunk.neighbourhood].decile;
    let (r0, h0) = (chunk.residents.start, chunk.households.start);
    // A slot's turn comes when the month (counted from the first burn-in
    // month) matches the slot modulo 12.
    let first = (t as usize % 12 + 12 - r0 % 12) % 12;
    for k in (first..chunk.residents.len()).step_by(12) {
        let r = r0 + k;
        let h = mo.household[r] as usize;
        let age = s.age[k];
        if is_vacant(age) {
            tally.vacancies.push(r as u32);
            continue;
        }
        let band = cfg.age_bands.band(age);
        let mut left = false;
        if pcfg.turnover {
            // One draw decides who stays; leavers draw more below.
            let bits = s.prefixes[k].bits(t, Purpose::Turnover);
            if (bits as u32) < dep.death[band][s.need[k] as usize] {
                tally.flows.deaths += 1;
                left = true;
            } else if ((bits >> 32) as u32) < mo.move_out[age as usize] || age + 1 == ADULT_AGE {
                // At 17 a young person leaves home: the slot stays a
                // child's.
                tally.flows.moves_out += 1;
                left = true;
            }
            if left {
                // Release everything the leaver held.
                let flags = s.flags[k];
                if flags & flag::CONNECTED != 0 {
                    tally.disconnected += 1;
                }
                let ep = s.episode[k];
                if ep != 0 {
                    tally.released[ep as usize - 1][release_kind(flags)] += 1;
                }
                let ivb = s.intervention[k];
                if ivb & iv::CASE_HOLDER != 0 {
                    // The case goes on with anyone in the household still
                    // supported by it; otherwise the place frees. (Only
                    // household cases: in a resident case each supported
                    // member holds their own.)
                    let i = (ivb & iv::INDEX) as usize - 1;
                    let same = (ivb & iv::INDEX) | iv::SUPPORT;
                    let members = mo.hh_start[h] as usize - r0..mo.hh_start[h + 1] as usize - r0;
                    let heir = (mo.reach[i].unit == Unit::Household)
                        .then(|| {
                            members.clone().find(|&q| {
                                q != k && s.intervention[q] & (iv::INDEX | iv::SUPPORT) == same
                            })
                        })
                        .flatten();
                    match heir {
                        Some(q) => s.intervention[q] |= iv::CASE_HOLDER,
                        None => tally.cases_ended[i] += 1,
                    }
                }
                let child = age < ADULT_AGE;
                if mo.trend && r != mo.hh_start[h] as usize {
                    // Left empty; the month's arrivals are settled after.
                    tally.emptied[!child as usize] += 1;
                    vacate(s, k, child);
                    tally.vacancies.push(r as u32);
                } else {
                    // The newcomer: a child's place goes to a birth or a
                    // child moving in; an adult's to an adult moving in.
                    let age = mo.newcomers.settle(s, k, r, child, decile);
                    tally.flows.arrived(age);
                }
            }
        }
        if !left {
            let new_age = (age + 1).min(crate::model::MAX_AGE);
            s.age[k] = new_age;
            if new_age == ADULT_AGE {
                // Only without turnover does a child stay to grow up.
                tally.came_of_age += 1;
            }
            let new_band = cfg.age_bands.band(new_age);
            let ep = s.episode[k];
            // Ageing out of an episode's eligibility ends it (care leavers).
            if ep != 0
                && new_band != band
                && !cfg.episodes[ep as usize - 1].eligible_bands[new_band]
            {
                tally.released[ep as usize - 1][release_kind(s.flags[k])] += 1;
                s.flags[k] &= !(flag::WAITING | flag::SPOT);
                s.episode[k] = 0;
                s.episode_left[k] = 0;
            }
        }
        // A member changed, or a child became an adult: refresh the
        // household's summary (a year older otherwise changes nothing in
        // it).
        if left || age + 1 == ADULT_AGE {
            let members = mo.hh_start[h] as usize - r0..mo.hh_start[h + 1] as usize - r0;
            s.summary[h - h0] = HouseholdSummary::of_members(s, members).pack();
        }
    }
}

/// Where an episode's place was, by the holder's flags: in-house (0), spot
/// (1) or the waiting list (2).
fn release_kind(flags: u8) -> usize {
    if flags & flag::WAITING != 0 {
        2
    } else if flags & flag::SPOT != 0 {
        1
    } else {
        0
    }
}

/// A month's births, deaths and moves.
#[derive(Clone, Copy, Debug, Default)]
struct Flows {
    births: u64,
    deaths: u64,
    moves_in: u64,
    moves_out: u64,
}

impl Flows {
    fn add(&mut self, other: &Flows) {
        self.births += other.births;
        self.deaths += other.deaths;
        self.moves_in += other.moves_in;
        self.moves_out += other.moves_out;
    }

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
    /// A newcomer in slot `r`, index `k` of `s` (a child's slot or an
    /// adult's): their age, risk factors and need from the slot's newcomer
    /// draw, a new identity, nothing else. Returns their age.
    fn settle(&self, s: &mut Slots, k: usize, r: usize, child: bool, decile: u8) -> u8 {
        let cfg = self.config;
        let mut rng = s.prefixes[k].stream(self.t, Purpose::Newcomer);
        let age = self.demography.age(child, rng.uniform());
        let mask = population::draw_risk_mask(cfg, decile, self.shock, &mut rng);
        let need = self.starting_need.draw(cfg, mask, age, &mut rng);
        settle(s, k, age, need, mask, self.arrival);
        s.prefixes[k] = self.crn.resident(resident_key(r as u32, self.arrival));
        age
    }
}

/// Index `k`'s new occupant, with nothing yet but their age, need and risk
/// factors.
fn settle(s: &mut Slots, k: usize, age: u8, need: u8, mask: u8, arrival: u16) {
    s.age[k] = age;
    s.need[k] = need;
    s.flags[k] = mask;
    s.arrival[k] = arrival;
    s.episode[k] = 0;
    s.episode_left[k] = 0;
    s.touched[k] = 0;
    s.intervention[k] = 0;
    s.intervention_months[k] = 0;
}

/// Index `k` emptied, kept for a child or an adult.
fn vacate(s: &mut Slots, k: usize, child: bool) {
    let arrival = s.arrival[k];
    settle(s, k, 0, 0, 0, arrival);
    s.age[k] = if child { VACANT_CHILD } else { VACANT_ADULT };
}
