//! Turnover and ageing, once a year: deaths and moves away, each vacated
//! slot refilled by a birth or a newcomer (who draws their own risk factors
//! and need), everything a leaver held released, then everyone else ages a
//! year, leaving any episode whose age bands they age out of.

use super::household::HouseholdSummary;
use super::{Engine, scenario_month};
use crate::model::population::{self, flag, iv, reference_age};
use crate::model::{AGE_BANDS, NEED_LEVELS, Unit};
use crate::rng::{Purpose, resident_key, threshold};

impl Engine<'_> {
    /// Once a year: deaths and moves, each vacated place refilled by a birth or
    /// a newcomer, then everyone ages a year.
    // Out of line so profiles show it apart; it runs once a year.
    #[inline(never)]
    pub(super) fn turnover_and_ageing(&mut self) {
        let cfg = self.config;
        let pcfg = &cfg.population;
        let t = self.t;
        let recording = scenario_month(cfg, t) >= 1;
        let arrival = (t + 1).min(u16::MAX as u32) as u16;
        let pop = &mut self.population;
        let n_neigh = pcfg.neighbourhoods.len();
        let (mut births, mut deaths, mut moves_in, mut moves_out) = (0u64, 0u64, 0u64, 0u64);
        let thr_move = threshold(1.0 - (-pcfg.move_out_per_year).exp());
        let mut thr_death = [[0u32; NEED_LEVELS]; AGE_BANDS];
        for (band, row) in thr_death.iter_mut().enumerate() {
            for (level, thr) in row.iter_mut().enumerate() {
                *thr = threshold(
                    1.0 - (-pcfg.mortality[band] * pcfg.mortality_need_multiplier[level]).exp(),
                );
            }
        }
        for n in 0..n_neigh {
            let decile = pcfg.neighbourhoods[n].decile;
            for h in pop.neighbourhood_households(n) {
                for r in pop.households.members(h) {
                    let res = &mut pop.residents;
                    let age = res.age[r];
                    let band = cfg.age_bands.band(age);
                    let mut left = false;
                    if pcfg.turnover {
                        // One draw decides who stays; leavers draw more below.
                        let bits = self.prefixes[r].bits(t, Purpose::Turnover);
                        if (bits as u32) < thr_death[band][res.need[r] as usize] {
                            deaths += 1;
                            left = true;
                        } else if ((bits >> 32) as u32) < thr_move {
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
                                                && res.intervention[q] & (iv::INDEX | iv::SUPPORT)
                                                    == same
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
                            let new_age = if age < 18 {
                                if rng.uniform() < pcfg.birth_share {
                                    births += 1;
                                    0
                                } else {
                                    moves_in += 1;
                                    (rng.uniform() * 18.0).floor().min(17.0) as u8
                                }
                            } else {
                                moves_in += 1;
                                reference_age(cfg, &mut rng)
                            };
                            let mask = population::draw_risk_mask(
                                cfg,
                                decile,
                                &self.tables.shock,
                                &mut rng,
                            );
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
                }
                // Ages and members changed: refresh while the household is in cache.
                self.household_summary[h] = HouseholdSummary::of(pop, h).pack();
            }
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
