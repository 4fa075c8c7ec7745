//! The invariants audit: every running total recounted from the residents'
//! own records, and the population accounts checked (nobody lost,
//! duplicated or counted in two places). For tests, and on every resume
//! from a snapshot; a pass over all residents.

use super::household::HouseholdSummary;
use super::{Engine, Turnover};
use crate::model::population::{flag, is_vacant, iv};
use crate::model::{NEED_LEVELS, Unit};

/// A running total or account that disagrees with the residents' own
/// records: always a fault in the engine, never in the input.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BrokenInvariant {
    /// A column of the residents' state is not one entry a resident long.
    #[error("{column} has {len} entries for {residents} residents")]
    ColumnLength {
        /// The column's field name in [`Residents`](crate::model::population::Residents).
        column: &'static str,
        /// Entries in that column.
        len: usize,
        /// Residents (the length of the `age` column).
        residents: usize,
    },
    /// Residents at the start plus arrivals do not equal residents now plus
    /// leavers, or the population's size is not what turnover says.
    #[error("population accounts do not balance: {turnover:?} with {residents} residents")]
    Accounts {
        /// The flows counted so far.
        turnover: Turnover,
        /// Residents in the population now.
        residents: usize,
    },
    /// A slot held empty for a declared trend has a need, risk factors, a
    /// service or support.
    #[error("empty slot {0} holds state")]
    EmptySlotHolds(usize),
    /// A resident's cached random-number key no longer matches their slot
    /// and arrival month.
    #[error("a resident's random-number key is stale")]
    StaleKey,
    /// Two slots hold the same (slot, arrival) identity.
    #[error("two residents share an identity")]
    SharedIdentity,
    /// A resident (by slot) has a need level outside 0–3.
    #[error("resident {0} has need level {1}")]
    NeedLevel(usize, u8),
    /// A resident (by slot) is marked waiting or on a spot place but is in
    /// no episode.
    #[error("resident {0} is waiting or on a spot place without an episode")]
    PlaceWithoutEpisode(usize),
    /// A resident (by slot) lies outside the household their record names.
    #[error("resident {0} is not in the household it names")]
    NotInHousehold(usize),
    /// An episode service's counts of in-house, spot and waiting residents
    /// differ from the residents' own records.
    #[error("episode service {service}: counters say {counters:?}, residents say {residents:?}")]
    EpisodeCounters {
        /// Index of the episode service (0-based, among episode services).
        service: usize,
        /// In-house, spot and waiting, as the service counts them.
        counters: (u32, u32, u32),
        /// The same, counted from the residents.
        residents: (u32, u32, u32),
    },
    /// An episode service holds more residents in-house than it has places.
    #[error("episode service {service} has {in_house} in {capacity} places")]
    OverCapacity {
        /// Index of the episode service (0-based, among episode services).
        service: usize,
        /// Residents or households in in-house places.
        in_house: u32,
        /// In-house places, including any an intervention added.
        capacity: u32,
    },
    /// An intervention's caseload differs from the number of residents
    /// marked as holding one of its cases.
    #[error("intervention {intervention}: caseload {cases} but {holders} case holders")]
    Caseload {
        /// Index of the intervention (0-based, in the config's order).
        intervention: usize,
        /// Cases as the intervention counts them.
        cases: u32,
        /// Case holders counted from the residents.
        holders: u32,
    },
    /// A household's summary (adults in crisis, highest adult need,
    /// children, support) differs from its members' records; the household
    /// by index.
    #[error("household {0}'s summary is stale")]
    StaleSummary(usize),
    /// A resident (by slot) holds a case but is not in support.
    #[error("resident {0} holds a case without support")]
    CaseWithoutSupport(usize),
    /// A resident (by slot) is in support from a resident-unit intervention
    /// without holding their own case.
    #[error("resident {0} is supported without holding a case")]
    SupportWithoutCase(usize),
    /// A resident (by slot) occupies an episode place with no months left.
    #[error("resident {0} occupies a place with no months left")]
    NoMonthsLeft(usize),
    /// A household supported by a household-unit intervention does not have
    /// exactly one case holder for it.
    #[error("household {household} has {holders} holders of one case")]
    Holders {
        /// Index of the household.
        household: usize,
        /// Members marked as holding the case.
        holders: u8,
    },
    /// Residents connected to a community asset, counted by neighbourhood,
    /// differ from the engine's running counts.
    #[error("connected residents {residents:?} but counters {counters:?}")]
    Connected {
        /// Connected residents by neighbourhood, from the residents' records.
        residents: Vec<u32>,
        /// The engine's running counts by neighbourhood.
        counters: Vec<u32>,
    },
}

/// The residents recounted from their own records.
struct Recount {
    /// In house, spot and waiting, by service.
    occupied: Vec<(u32, u32, u32)>,
    /// Case holders by intervention.
    cases: Vec<u32>,
    /// Residents connected to a community asset, by neighbourhood.
    connected: Vec<u32>,
}

impl Engine<'_> {
    /// Recounts every running total from the residents' own records and
    /// checks the population accounts: nobody lost, duplicated or counted in
    /// two places. For tests, and on every resume from a snapshot; a pass
    /// over all residents.
    pub fn check_invariants(&self) -> Result<(), BrokenInvariant> {
        self.check_columns()?;
        self.check_accounts()?;
        self.check_identities()?;
        let tally = self.check_residents()?;
        self.check_services(&tally)?;
        self.check_households()?;
        if tally.connected != self.connected {
            return Err(BrokenInvariant::Connected {
                residents: tally.connected,
                counters: self.connected.clone(),
            });
        }
        Ok(())
    }

    /// Every column holds one value a resident.
    fn check_columns(&self) -> Result<(), BrokenInvariant> {
        let res = &self.population.residents;
        let n = res.len();
        for (name, len) in [
            ("need", res.need.len()),
            ("flags", res.flags.len()),
            ("household", res.household.len()),
            ("arrival", res.arrival.len()),
            ("episode", res.episode.len()),
            ("episode_left", res.episode_left.len()),
            ("touched", res.touched.len()),
            ("intervention", res.intervention.len()),
            ("intervention_months", res.intervention_months.len()),
        ] {
            if len != n {
                return Err(BrokenInvariant::ColumnLength {
                    column: name,
                    len,
                    residents: n,
                });
            }
        }
        Ok(())
    }

    /// Those at the start, born and moved in are those at the end, dead
    /// and moved out; the end's count is the residents', neighbourhood by
    /// neighbourhood.
    fn check_accounts(&self) -> Result<(), BrokenInvariant> {
        let tv = &self.turnover;
        // Checked sums: a resumed snapshot's counts may be anything.
        let came = [tv.births, tv.moves_in]
            .iter()
            .try_fold(tv.start, |a, &b| a.checked_add(b));
        let went = [tv.deaths, tv.moves_out]
            .iter()
            .try_fold(tv.end, |a, &b| a.checked_add(b));
        let occupied = super::occupied(&self.population);
        let residents = occupied.iter().sum::<u64>();
        if came.is_none() || came != went || tv.end != residents || occupied != self.occupied {
            return Err(BrokenInvariant::Accounts {
                turnover: *tv,
                residents: residents as usize,
            });
        }
        Ok(())
    }

    /// Each resident's stream is its key's, and no two share a key.
    fn check_identities(&self) -> Result<(), BrokenInvariant> {
        let res = &self.population.residents;
        let n = res.len();
        if (0..n).any(|r| self.prefixes[r] != self.crn.resident(res.key(r))) {
            return Err(BrokenInvariant::StaleKey);
        }
        let mut keys: Vec<u64> = (0..n).map(|r| res.key(r)).collect();
        keys.sort_unstable();
        if keys.windows(2).any(|w| w[0] == w[1]) {
            return Err(BrokenInvariant::SharedIdentity);
        }
        Ok(())
    }

    /// Each resident's own record is whole, and the residents recounted:
    /// places by service, cases by intervention, connections by
    /// neighbourhood.
    fn check_residents(&self) -> Result<Recount, BrokenInvariant> {
        let res = &self.population.residents;
        let mut tally = Recount {
            occupied: vec![(0, 0, 0); self.episodes.len()],
            cases: vec![0; self.caseloads.len()],
            connected: vec![0; self.connected.len()],
        };
        for r in 0..res.len() {
            let f = res.flags[r];
            // An empty slot holds nothing at all.
            if is_vacant(res.age[r])
                && (
                    res.need[r],
                    f,
                    res.episode[r],
                    res.intervention[r],
                    res.touched[r],
                ) != (0, 0, 0, 0, 0)
            {
                return Err(BrokenInvariant::EmptySlotHolds(r));
            }
            if res.need[r] as usize >= NEED_LEVELS {
                return Err(BrokenInvariant::NeedLevel(r, res.need[r]));
            }
            let e = res.episode[r];
            if e != 0 {
                let o = &mut tally.occupied[e as usize - 1];
                if f & flag::WAITING != 0 {
                    o.2 += 1;
                } else if f & flag::SPOT != 0 {
                    o.1 += 1;
                } else {
                    o.0 += 1;
                }
            } else if f & (flag::WAITING | flag::SPOT) != 0 {
                return Err(BrokenInvariant::PlaceWithoutEpisode(r));
            }
            let ivb = res.intervention[r];
            if ivb & iv::CASE_HOLDER != 0 {
                tally.cases[(ivb & iv::INDEX) as usize - 1] += 1;
            }
            if f & flag::CONNECTED != 0 {
                let h = res.household[r] as usize;
                tally.connected[self.population.households.neighbourhood[h] as usize] += 1;
            }
            let h = res.household[r] as usize;
            if !self.population.households.members(h).contains(&r) {
                return Err(BrokenInvariant::NotInHousehold(r));
            }
        }
        Ok(tally)
    }

    /// Each service's counters and each caseload agree with the residents
    /// recounted, and no service holds more in house than it has places.
    fn check_services(&self, tally: &Recount) -> Result<(), BrokenInvariant> {
        for (e, (es, o)) in self.episodes.iter().zip(&tally.occupied).enumerate() {
            if (es.in_house, es.spot, es.waiting) != *o {
                return Err(BrokenInvariant::EpisodeCounters {
                    service: e,
                    counters: (es.in_house, es.spot, es.waiting),
                    residents: *o,
                });
            }
            if es.in_house > es.capacity {
                return Err(BrokenInvariant::OverCapacity {
                    service: e,
                    in_house: es.in_house,
                    capacity: es.capacity,
                });
            }
        }
        for (i, (c, k)) in self.caseloads.iter().zip(&tally.cases).enumerate() {
            if c.cases != *k {
                return Err(BrokenInvariant::Caseload {
                    intervention: i,
                    cases: c.cases,
                    holders: *k,
                });
            }
        }
        Ok(())
    }

    /// Each household's summary is current, each case in support has one
    /// holder, and each resident in a place has months left.
    fn check_households(&self) -> Result<(), BrokenInvariant> {
        let res = &self.population.residents;
        for h in 0..self.population.households.len() {
            if self.household_summary[h] != HouseholdSummary::of(&self.population, h).pack() {
                return Err(BrokenInvariant::StaleSummary(h));
            }
            // Each case in support has exactly one holder: the resident, or
            // one member of the household.
            let mut holders = [0u8; crate::model::MAX_INTERVENTIONS];
            let mut supported = [false; crate::model::MAX_INTERVENTIONS];
            for r in self.population.households.members(h) {
                let ivb = res.intervention[r];
                if ivb & iv::CASE_HOLDER != 0 && ivb & iv::SUPPORT == 0 {
                    return Err(BrokenInvariant::CaseWithoutSupport(r));
                }
                if ivb & iv::SUPPORT != 0 {
                    let i = (ivb & iv::INDEX) as usize - 1;
                    supported[i] = true;
                    holders[i] += (ivb & iv::CASE_HOLDER != 0) as u8;
                    if self.reach[i].unit == Unit::Resident && ivb & iv::CASE_HOLDER == 0 {
                        return Err(BrokenInvariant::SupportWithoutCase(r));
                    }
                }
                if res.episode[r] != 0
                    && res.flags[r] & flag::WAITING == 0
                    && res.episode_left[r] == 0
                {
                    return Err(BrokenInvariant::NoMonthsLeft(r));
                }
            }
            for i in 0..self.reach.len() {
                if self.reach[i].unit == Unit::Household && supported[i] && holders[i] != 1 {
                    return Err(BrokenInvariant::Holders {
                        household: h,
                        holders: holders[i],
                    });
                }
            }
        }
        Ok(())
    }
}
