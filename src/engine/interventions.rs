//! Interventions: what each does to the residents it reaches ([`Reach`]),
//! how many cases it can hold this month, enrolment (best first, by offer
//! draw or risk register, then engagement), and the multipliers it applies
//! each month as it matures and, after support, as its effect lingers.

use super::hazards::Mods;
use super::household::{HouseholdSummary, SUPPORT_BIT};
use super::{Engine, NB_REACHED};
use crate::model::population::{flag, is_vacant, iv};
use crate::model::{Delivery, EffectTarget, Unit, by_year};
use crate::rng::{Purpose, threshold};

/// Which parts of a resident's month an intervention's effects change; the
/// others keep the fast path (exactly: a multiplier of 1 changes no bits).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Touch {
    pub(super) need: bool,
    pub(super) risk: bool,
    pub(super) event_rates: bool,
    /// Episode services whose entry hazard is changed, one bit each.
    pub(super) entries: u16,
}

impl Touch {
    pub(super) const NONE: Touch = Touch {
        need: false,
        risk: false,
        event_rates: false,
        entries: 0,
    };
}

/// What an intervention does to the people it reaches, fixed for a run.
pub(super) struct Reach {
    /// This intervention's own random-number stream (from its name).
    pub(super) stream: u32,
    /// Effect strength by months since support ended (lingering decay);
    /// past the end the effect is dropped.
    pub(super) lingering: Vec<f64>,
    pub(super) thr_dropout: u32,
    pub(super) unit: Unit,
    pub(super) touch: Touch,
}

/// Effects below a thousandth of full strength are dropped.
pub(super) const MIN_STRENGTH: f64 = 1e-3;

impl Reach {
    pub(super) fn new(iv: &crate::model::Intervention) -> Reach {
        match &iv.delivery {
            Delivery::Caseload {
                half_life_months,
                dropout_per_month,
                targeting,
                effects,
                ..
            } => {
                let mut lingering = Vec::new();
                if *half_life_months > 0.0 {
                    for k in 0..u16::MAX as usize {
                        let s = 0.5f64.powf(k as f64 / half_life_months);
                        if s < MIN_STRENGTH {
                            break;
                        }
                        lingering.push(s);
                    }
                }
                let live = || effects.iter().filter(|e| e.multiplier != 1.0);
                let mut touch = Touch::NONE;
                for e in live() {
                    match e.target {
                        EffectTarget::Escalation | EffectTarget::Recovery => touch.need = true,
                        EffectTarget::RiskFactor(_) => touch.risk = true,
                        EffectTarget::EventRate(_) => touch.event_rates = true,
                        EffectTarget::EpisodeEntry(e) => touch.entries |= 1 << e,
                        // Only the details of a contact: handled there.
                        EffectTarget::EpisodeDuration(_) | EffectTarget::HandoffCost => {}
                    }
                }
                Reach {
                    stream: crate::rng::stream_of(&iv.id),
                    lingering,
                    thr_dropout: threshold(*dropout_per_month),
                    unit: targeting.unit,
                    touch,
                }
            }
            _ => Reach {
                stream: crate::rng::stream_of(&iv.id),
                lingering: Vec::new(),
                thr_dropout: 0,
                unit: Unit::Resident,
                touch: Touch::NONE,
            },
        }
    }
}

/// Live state of a caseload intervention.
#[derive(Clone, Debug, Default)]
pub(super) struct CaseloadState {
    pub(super) cases: u32,
}

impl Engine<'_> {
    /// Cases an intervention can hold this month.
    pub(super) fn places(&self, i: usize, m: i64) -> u32 {
        let iv = &self.config.interventions[i];
        match &iv.delivery {
            Delivery::Caseload {
                places_by_year,
                existing,
                burn_in_places,
                ..
            } => {
                if m < 1 {
                    if *existing { *burn_in_places } else { 0 }
                } else if m >= iv.start_month as i64 {
                    by_year(places_by_year, m as u32).copied().unwrap_or(0)
                } else {
                    0
                }
            }
            _ => 0,
        }
    }

    pub(super) fn enrol(&mut self, m: i64) {
        for i in 0..self.config.interventions.len() {
            let free = self.places(i, m).saturating_sub(self.caseloads[i].cases);
            if free > 0 {
                self.enrol_one(i, m, free);
            }
        }
    }

    /// Offers free places to eligible residents or households, best first, until
    /// the places are taken or the eligible run out.
    // Out of line so profiles show it apart; it runs once a month.
    #[inline(never)]
    pub(super) fn enrol_one(&mut self, i: usize, m: i64, free: u32) {
        let cfg = self.config;
        let iv_cfg = &cfg.interventions[i];
        let Delivery::Caseload {
            targeting: tg,
            engagement,
            support_months,
            existing,
            ..
        } = &iv_cfg.delivery
        else {
            return;
        };
        // A programme already running starts with its cases part-way through
        // support, as at equilibrium, so they do not all finish together.
        let part_way = *existing && self.t == 0;
        let t = self.t;
        let crn = self.crn;
        let risk = tg.risk_top_n.is_some() || tg.risk_top_share.is_some();
        let stream = self.reach[i].stream;
        let mut cands = self.candidates(i, m);
        let pop = &self.population;
        let res = &pop.residents;
        let in_support = |r: usize| res.intervention[r] & iv::SUPPORT != 0;
        let desc = |a: &(u64, u32), b: &(u64, u32)| b.cmp(a);
        if risk {
            // The register: the top N (or share) by risk score, enrolled or not.
            let k = match (tg.risk_top_n, tg.risk_top_share) {
                (Some(n), _) => n as usize,
                (None, Some(s)) => (s * cands.len() as f64).ceil() as usize,
                _ => cands.len(),
            }
            .min(cands.len());
            // Scores are small integers: find the lowest score in the register
            // from a histogram, and draw tie-breaks only from there up.
            let mut hist: Vec<u32> = Vec::new();
            for &(p, _) in cands.iter() {
                let sc = (p >> 32) as usize;
                if sc >= hist.len() {
                    hist.resize(sc + 1, 0);
                }
                hist[sc] += 1;
            }
            let mut cut = 0u64;
            let mut above = 0usize;
            for sc in (0..hist.len()).rev() {
                above += hist[sc] as usize;
                if above >= k {
                    cut = sc as u64;
                    break;
                }
            }
            cands.retain(|&(p, _)| p >> 32 >= cut);
            for c in cands.iter_mut() {
                let first = match tg.unit {
                    Unit::Resident => c.1 as usize,
                    Unit::Household => pop.households.start[c.1 as usize] as usize,
                };
                c.0 |= crn
                    .resident(res.key(first))
                    .bits_for(0, Purpose::Rank, stream)
                    >> 32;
            }
            if k < cands.len() && k > 0 {
                cands.select_nth_unstable_by(k - 1, desc);
            }
            cands.truncate(k);
            cands.retain(|&(_, x)| match tg.unit {
                Unit::Resident => !in_support(x as usize),
                Unit::Household => !pop.households.members(x as usize).any(in_support),
            });
        }
        let thr_engage = threshold(*engagement);
        let mut remaining = free;
        let mut offered = 0usize;
        while remaining > 0 && offered < cands.len() {
            // Sort only the next batch of best candidates.
            let rest = &mut cands[offered..];
            let batch = ((remaining as f64 / engagement.max(0.05)) as usize + 16).min(rest.len());
            if batch < rest.len() {
                rest.select_nth_unstable_by(batch - 1, desc);
            }
            rest[..batch].sort_unstable_by(desc);
            for &(_, x) in &cands[offered..offered + batch] {
                if remaining == 0 {
                    break;
                }
                let x = x as usize;
                let members = match tg.unit {
                    Unit::Resident => x..x + 1,
                    Unit::Household => self.population.households.members(x),
                };
                let key = self.population.residents.key(members.start);
                let engage = crn.resident(key).bits_for(t, Purpose::Engage, stream);
                if (engage as u32) >= thr_engage {
                    continue;
                }
                let length = if part_way {
                    1 + ((engage >> 32) % *support_months as u64) as u16
                } else {
                    *support_months
                };
                let res = &mut self.population.residents;
                let mut reached = 0i64;
                for r in members.clone() {
                    // A declared trend's empty slots are nobody to support.
                    if is_vacant(res.age[r]) {
                        continue;
                    }
                    reached += 1;
                    res.intervention[r] = (i as u8 + 1) | iv::SUPPORT;
                    // One more than the length: this month's pass counts down
                    // once, so support covers `length` months in all.
                    res.intervention_months[r] = length + 1;
                }
                res.intervention[members.start] |= iv::CASE_HOLDER;
                let h = res.household[members.start] as usize;
                self.household_summary[h] |= SUPPORT_BIT;
                self.caseloads[i].cases += 1;
                remaining -= 1;
                if m >= 1 {
                    self.row[self.layout.iv_reached + i] += reached;
                    let n = self.population.households.neighbourhood
                        [res.household[members.start] as usize];
                    self.neighbourhoods[n as usize][NB_REACHED] += reached;
                }
            }
            offered += batch;
        }
        self.candidates = cands;
    }

    /// Whom programme `i`'s targeting reaches this month, before any
    /// register cut: (priority, resident or household) pairs, in a buffer
    /// the engine reuses.
    pub(super) fn candidates(&mut self, i: usize, m: i64) -> Vec<(u64, u32)> {
        let cfg = self.config;
        let Delivery::Caseload { targeting: tg, .. } = &cfg.interventions[i].delivery else {
            return Vec::new();
        };
        let pop = &self.population;
        let res = &pop.residents;
        let t = self.t;
        let crn = self.crn;
        let risk = tg.risk_top_n.is_some() || tg.risk_top_share.is_some();
        let stream = self.reach[i].stream;
        let mut neigh: Vec<usize> = if tg.neighbourhoods.is_empty() {
            (0..cfg.population.neighbourhoods.len()).collect()
        } else {
            tg.neighbourhoods.clone()
        };
        for (from, extra) in &tg.expansions {
            if m >= *from as i64 {
                neigh.extend(extra);
            }
        }
        neigh.sort_unstable();
        neigh.dedup();
        let in_support = |r: usize| res.intervention[r] & iv::SUPPORT != 0;
        // An empty slot (a declared trend's room) is nobody.
        let band_ok =
            |age: u8| !is_vacant(age) && tg.age_bands.is_none_or(|b| b[cfg.age_bands.band(age)]);
        let need_floor = tg.need_at_least.map_or(0, |l| l as u8);
        let mut cands = std::mem::take(&mut self.candidates);
        cands.clear();
        let score = |r: usize| {
            cfg.risk_score
                .score(res.need[r], res.flags[r] & flag::RISK_MASK)
        };
        // The household's summary rules most households out unread: which
        // summary bytes pass, as a table, so the scan below has no branch.
        let passes: [bool; 256] = std::array::from_fn(|b| {
            let sum = HouseholdSummary::unpack(b as u8);
            !(sum.max_need < need_floor
                || (tg.with_children && !sum.child)
                || (!risk && tg.unit == Unit::Household && sum.support))
        });
        let mut households = std::mem::take(&mut self.household_buffer);
        households.clear();
        for &n in &neigh {
            let range = pop.neighbourhood_households(n);
            let summaries = &self.household_summary[range.clone()];
            let base = households.len();
            households.resize(base + summaries.len(), 0);
            let mut kept = base;
            for (h, &b) in range.zip(summaries) {
                households[kept] = h as u32;
                kept += passes[b as usize] as usize;
            }
            households.truncate(kept);
        }
        for &h in &households {
            let h = h as usize;
            {
                let members = pop.households.members(h);
                match tg.unit {
                    Unit::Resident => {
                        for r in members {
                            if res.need[r] < need_floor
                                || !band_ok(res.age[r])
                                || (!risk && in_support(r))
                            {
                                continue;
                            }
                            let key = res.key(r);
                            let prio = if risk {
                                (score(r) as u64) << 32
                            } else {
                                crn.resident(key).bits_for(t, Purpose::Offer, stream)
                            };
                            cands.push((prio, r as u32));
                        }
                    }
                    // Without an age filter or a risk ranking the summary
                    // has decided already (it is exact: see check_invariants).
                    Unit::Household if !risk && tg.age_bands.is_none() => {
                        let key = res.key(pop.households.start[h] as usize);
                        let prio = crn.resident(key).bits_for(t, Purpose::Offer, stream);
                        cands.push((prio, h as u32));
                    }
                    Unit::Household => {
                        // One pass over the members for every filter.
                        let (mut max_need, mut child, mut band, mut supported, mut best) =
                            (0u8, false, false, false, 0u32);
                        for r in members.clone() {
                            max_need = max_need.max(res.need[r]);
                            child |= res.age[r] < 18;
                            band |= band_ok(res.age[r]);
                            supported |= in_support(r);
                        }
                        if max_need < need_floor
                            || (tg.with_children && !child)
                            || !band
                            || (!risk && supported)
                        {
                            continue;
                        }
                        let key = res.key(members.start);
                        let prio = if risk {
                            for r in members {
                                best = best.max(score(r));
                            }
                            (best as u64) << 32
                        } else {
                            crn.resident(key).bits_for(t, Purpose::Offer, stream)
                        };
                        cands.push((prio, h as u32));
                    }
                }
            }
        }
        self.household_buffer = households;
        cands
    }

    /// Full-strength multipliers of each intervention this month (maturity
    /// included), before a resident's own lingering decay.
    pub(super) fn intervention_mods(&self, m: i64) -> Vec<Mods> {
        let cfg = self.config;
        cfg.interventions
            .iter()
            .map(|iv_cfg| {
                let Delivery::Caseload {
                    effects,
                    ramp_up_months,
                    existing,
                    ..
                } = &iv_cfg.delivery
                else {
                    return Mods::NONE;
                };
                let maturity = if *existing || *ramp_up_months == 0 {
                    1.0
                } else {
                    ((m - iv_cfg.start_month as i64 + 1) as f64 / *ramp_up_months as f64)
                        .clamp(0.0, 1.0)
                };
                let mut full = Mods::NONE;
                let k = cfg.events.len();
                for e in effects {
                    match e.target {
                        EffectTarget::Escalation => full.escalation *= e.multiplier,
                        EffectTarget::Recovery => full.recovery *= e.multiplier,
                        EffectTarget::RiskFactor(f) => full.risk_onset[f as usize] *= e.multiplier,
                        EffectTarget::EventRate(s) => full.contact[s] *= e.multiplier,
                        EffectTarget::EpisodeEntry(s) => full.contact[k + s] *= e.multiplier,
                        EffectTarget::EpisodeDuration(s) => full.duration[s] *= e.multiplier,
                        EffectTarget::HandoffCost => full.handoff *= e.multiplier,
                    }
                }
                full.scaled(maturity)
            })
            .collect()
    }
}
