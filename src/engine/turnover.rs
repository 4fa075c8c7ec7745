//! Turnover and ageing: each resident's yearly turn comes in their slot's own
//! month of the year, so no month sees a year's worth at once. On their turn a
//! resident may die or move away (and at 17 leaves home); the vacated slot is
//! refilled by a newcomer of the same kind (a child's by a birth or a child
//! moving in, an adult's by an adult) who draws their own risk factors and
//! need; everything a leaver held is released. Those who stay age a year,
//! leaving any episode whose age bands they age out of. The newcomers' ages and
//! the moves by age hold the starting age structure (`model::demography`).

use super::household::HouseholdSummary;
use super::{Engine, scenario_month};
use crate::model::demography::{ADULT_AGE, Demography};
use crate::model::population::{self, flag, iv};
use crate::model::{AGE_BANDS, Config, MAX_AGE, NEED_LEVELS, Unit};
use crate::rng::{Purpose, resident_key, threshold};

/// Thresholds for the yearly turn's draws, and the newcomers' ages.
pub(super) struct Departures {
    death: [[u32; NEED_LEVELS]; AGE_BANDS],
    move_out: [u32; MAX_AGE as usize + 1],
    demography: Demography,
}

impl Departures {
    /// The yearly chance of moving away at each age.
    pub(super) fn moves(&self) -> [f64; MAX_AGE as usize + 1] {
        self.demography.move_out
    }

    pub(super) fn new(config: &Config) -> Departures {
        let p = &config.population;
        let demography = Demography::new(config);
        Departures {
            death: std::array::from_fn(|band| {
                std::array::from_fn(|level| {
                    threshold(1.0 - (-p.mortality[band] * p.mortality_need_multiplier[level]).exp())
                })
            }),
            move_out: demography.move_out.map(threshold),
            demography,
        }
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
        let recording = scenario_month(cfg, t) >= 1;
        let arrival = (t + 1).min(u16::MAX as u32) as u16;
        let pop = &mut self.population;
        let dep = &self.departures;
        let (mut births, mut deaths, mut moves_in, mut moves_out) = (0u64, 0u64, 0u64, 0u64);
        let n_slots = pop.residents.len();
        // A slot's turn comes when the month (counted from the first burn-in
        // month) matches the slot modulo 12.
        for r in (t as usize % 12..n_slots).step_by(12) {
            let h = pop.residents.household[r] as usize;
            let n = pop.households.neighbourhood[h] as usize;
            let decile = pcfg.neighbourhoods[n].decile;
            let res = &mut pop.residents;
            let age = res.age[r];
            let band = cfg.age_bands.band(age);
            let mut left = false;
            if pcfg.turnover {
                // One draw decides who stays; leavers draw more below.
                let bits = self.prefixes[r].bits(t, Purpose::Turnover);
                if (bits as u32) < dep.death[band][res.need[r] as usize] {
                    deaths += 1;
                    left = true;
                } else if ((bits >> 32) as u32) < dep.move_out[age as usize] || age + 1 == ADULT_AGE
                {
                    // At 17 a young person leaves home: the slot stays
                    // a child's.
                    moves_out += 1;
                    left = true;
                }
                if left {
                    let mut rng = self.prefixes[r].stream(t, Purpose::Newcomer);
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
                        let h = res.household[r] as usize;
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
                    // The newcomer: a child's place goes to a birth or a
                    // child moving in; an adult's to an adult moving in.
                    let new_age = dep.demography.age(age < ADULT_AGE, rng.uniform());
                    if new_age == 0 {
                        births += 1;
                    } else {
                        moves_in += 1;
                    }
                    let mask =
                        population::draw_risk_mask(cfg, decile, &self.tables.shock, &mut rng);
                    let need = self.starting_need.draw(cfg, mask, new_age, &mut rng);
                    res.age[r] = new_age;
                    res.need[r] = need;
                    res.flags[r] = mask;
                    res.arrival[r] = arrival;
                    self.prefixes[r] = self.crn.resident(resident_key(r as u32, arrival));
                    res.episode[r] = 0;
                    res.episode_left[r] = 0;
                    res.touched[r] = 0;
                    res.intervention[r] = 0;
                    res.intervention_months[r] = 0;
                }
            }
            if !left {
                let new_age = (age + 1).min(crate::model::MAX_AGE);
                res.age[r] = new_age;
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
            // Ages and members changed: refresh the household's summary.
            self.household_summary[h] = HouseholdSummary::of(pop, h).pack();
        }
        self.turnover.births += births;
        self.turnover.deaths += deaths;
        self.turnover.moves_in += moves_in;
        self.turnover.moves_out += moves_out;
        self.turnover.end = self.population.residents.len() as u64;
        if recording {
            let lay = &self.layout;
            self.row[lay.births] = births as i64;
            self.row[lay.deaths] = deaths as i64;
            self.row[lay.moves_in] = moves_in as i64;
            self.row[lay.moves_out] = moves_out as i64;
        }
    }
}
