//! The residents' pass: one loop over every resident, household by household
//! and neighbourhood by neighbourhood, that runs six submodels in turn for
//! each resident. It is one fused loop for speed (each resident's state is
//! read and written once a month); each submodel is a marked block, in the
//! order of MODEL.md section 3:
//!
//! 1. episode continuation (exits free their place next month);
//! 2. intervention support, dropout and lingering effect;
//! 3. need transition, from the start-of-month risk factors, connection and
//!    household state;
//! 4. risk-factor change;
//! 5. asset connection;
//! 6. service contacts with this month's need level, and handoff;
//!
//! then month-end tallies and the household's summary.

use super::assets::{connect_thresholds, disconnect_threshold};
use super::hazards::{Ctx, Mods, contact_index, flips_given_any, trans_index};
use super::household::HouseholdSummary;
use super::interventions::Touch;
use super::services::{DurationDraw, pick_weighted, poisson_given_at_least_one};
use super::{
    Engine, NB_CONNECTED, NB_COST, NB_CRISIS, NB_ENTRIES, NB_EVENTS, NB_RESIDENT_MONTHS,
    NB_STRUGGLING,
};
use crate::metrics::NeighbourhoodMetric as Nb;
use crate::model::population::{flag, is_vacant, iv};
use crate::model::{Delivery, MAX_SERVICES, NEED_LEVELS, Overflow, RiskFactor, Unit};
use crate::rng::{Purpose, resident_key};

impl Engine<'_> {
    // Out of line so profiles show it apart; it runs once a month.
    #[inline(never)]
    // `h` and `k` index several parallel arrays at once (and `h + 1`).
    #[allow(clippy::needless_range_loop)]
    pub(super) fn residents_pass(&mut self, m: i64, recording: bool) {
        let cfg = self.config;
        let t = self.t;
        let crn = self.crn;
        // Each intervention's multipliers in support and at every month of its
        // lingering effect, worked out once a month rather than per resident.
        let iv_mods: Vec<(Mods, Vec<Mods>)> = self
            .intervention_mods(m)
            .into_iter()
            .zip(&self.reach)
            .map(|(full, rch)| {
                let lingering = rch.lingering.iter().map(|&s| full.scaled(s)).collect();
                (full.scaled(1.0), lingering)
            })
            .collect();
        let n_events = cfg.events.len();
        // Each resident's handoff window has its own phase, `(t + slot) mod
        // window`, so no month clears everyone's at once.
        let window = cfg.handoff.window_months as usize;
        let handoff_pence =
            cfg.handoff.cost_per_extra_service_pence as f64 * (1.0 - cfg.handoff.integration);
        let thr_connect = connect_thresholds(&cfg.assets);
        let isolation = RiskFactor::Isolation.bit();

        let mut need_counts = [0i64; NEED_LEVELS];
        let mut crisis_entries = 0i64;
        let mut events = [0i64; MAX_SERVICES];
        let mut handoff_cost = 0i64;
        let mut connected_total = 0i64;

        let Engine {
            population: pop,
            tables,
            rates,
            episodes,
            caseloads,
            asset_capacity,
            connected,
            row,
            neighbourhoods: nb_acc,
            in_house_by_neighbourhood,
            places_added,
            layout: lay,
            durations,
            reach,
            household_summary,
            prefixes,
            ..
        } = self;
        let mut available: Vec<u32> = episodes
            .iter()
            .map(|e| e.capacity.saturating_sub(e.in_house))
            .collect();
        let durations_engine = DurationDraw {
            config: cfg,
            lognormal: durations,
        };
        let bands = &cfg.age_bands;

        for n in 0..cfg.population.neighbourhoods.len() {
            let decile = cfg.population.neighbourhoods[n].decile;
            let risk_row = &tables.risk[(decile as usize - 1) * 32..decile as usize * 32];
            let flips_row = &tables.flips[(decile as usize - 1) * 32..decile as usize * 32];
            let cap = asset_capacity[n].floor().max(0.0) as u32;
            let thr_disc = disconnect_threshold(connected[n], cap, cfg.assets.disconnect_per_month);
            let mut nb = [0i64; Nb::COUNT];
            // Tallies kept in locals (registers) through the neighbourhood.
            let mut need_n = [0i64; NEED_LEVELS];
            let mut cost_n = 0i64;
            let mut in_house_n = [0u32; MAX_SERVICES];
            let mut connected_n = connected[n];
            let (hh_lo, hh_hi) = (
                pop.neighbourhood_start[n] as usize,
                pop.neighbourhood_start[n + 1] as usize,
            );
            // The neighbourhood's residents as slices of one length; each
            // household is then a range checked once against that length.
            let households = &pop.households;
            let res = &mut pop.residents;
            let (nlo, nhi) = (
                households.start[hh_lo] as usize,
                households.start[hh_hi] as usize,
            );
            let age = &res.age[nlo..nhi];
            let need = &mut res.need[nlo..nhi];
            let flags_s = &mut res.flags[nlo..nhi];
            let arrival = &res.arrival[nlo..nhi];
            let episode = &mut res.episode[nlo..nhi];
            let episode_left = &mut res.episode_left[nlo..nhi];
            let touched_s = &mut res.touched[nlo..nhi];
            let intervention = &mut res.intervention[nlo..nhi];
            let intervention_months = &mut res.intervention_months[nlo..nhi];
            let prefixes_n = &prefixes[nlo..nhi];
            let len = age.len();
            let mut phase = if window > 0 {
                (t as usize + nlo) % window
            } else {
                1
            };
            for h in hh_lo..hh_hi {
                let lo = households.start[h] as usize - nlo;
                let hi = households.start[h + 1] as usize - nlo;
                assert!(lo < hi && hi <= len);
                // Household state at the start of the month (synchronous
                // update), as last month's pass (or turnover) left it.
                let start = HouseholdSummary::unpack(household_summary[h]);
                let adults_crisis = start.adults_crisis as usize;
                let hh_max = start.adult_max_need;
                let hh_key = resident_key((nlo + lo) as u32, arrival[lo]);
                let mut summary = HouseholdSummary::default();
                for k in lo..hi {
                    let r = nlo + k;
                    let key = resident_key(r as u32, arrival[k]);
                    let age_k = age[k];
                    let band = bands.band(age_k);
                    let level = need[k] as usize;
                    let mut flags = flags_s[k];
                    if phase == 0 {
                        touched_s[k] = 0;
                    }
                    if window > 0 {
                        phase += 1;
                        if phase == window {
                            phase = 0;
                        }
                    }
                    // Room a declared trend keeps for arrivals: nobody yet.
                    if is_vacant(age_k) {
                        continue;
                    }

                    // 1. Episode continuation: exits free their place next month.
                    let ep = episode[k];
                    if ep != 0 && flags & flag::WAITING == 0 {
                        let left = episode_left[k] - 1;
                        episode_left[k] = left;
                        if left == 0 {
                            flags = episodes[ep as usize - 1].release(flags);
                            episode[k] = 0;
                        }
                    }

                    // 2. Intervention support, dropout and lingering effect.
                    let rc = prefixes_n[k];
                    let mut mods: Option<&Mods> = None;
                    let mut touch = Touch::NONE;
                    let ivb = intervention[k];
                    if ivb != 0 {
                        let i = (ivb & iv::INDEX) as usize - 1;
                        let rch = &reach[i];
                        let mut state = ivb;
                        let mut months = intervention_months[k];
                        if state & iv::SUPPORT != 0 {
                            months -= 1;
                            let dropped = rch.thr_dropout > 0 && {
                                let drop_key = if rch.unit == Unit::Household {
                                    hh_key
                                } else {
                                    key
                                };
                                (crn.resident(drop_key)
                                    .bits_for(t, Purpose::Dropout, rch.stream)
                                    as u32)
                                    < rch.thr_dropout
                            };
                            if months == 0 || dropped {
                                state &= !iv::SUPPORT;
                                if state & iv::CASE_HOLDER != 0 {
                                    caseloads[i].cases -= 1;
                                    state &= !iv::CASE_HOLDER;
                                }
                                months = 0;
                            }
                        } else {
                            months = months.saturating_add(1);
                        }
                        let (support, lingering) = &iv_mods[i];
                        let now = if state & iv::SUPPORT != 0 {
                            Some(support)
                        } else {
                            lingering.get(months as usize)
                        };
                        match now {
                            Some(md) => {
                                mods = Some(md);
                                touch = rch.touch;
                            }
                            None => {
                                state = 0;
                                months = 0;
                            }
                        }
                        intervention[k] = state;
                        intervention_months[k] = months;
                    }

                    // 3. Need transition.
                    let connected_now = flags & flag::CONNECTED != 0;
                    let mask = flags & flag::RISK_MASK;
                    let need_mask = if connected_now {
                        mask & !isolation
                    } else {
                        mask
                    };
                    let is_adult_crisis = age_k >= 18 && level == 3;
                    let stress = (adults_crisis - is_adult_crisis as usize).min(2);
                    let h1 = rc.bits(t, Purpose::Need);
                    let (u_need, u_risk) = (h1 as u32, (h1 >> 32) as u32);
                    let in_ep = episode[k] != 0;
                    let is_ref = k == lo;
                    // Built only for the slow paths.
                    let ctx_at = |level: usize, mask: u8| Ctx {
                        level,
                        band,
                        need_mask,
                        mask,
                        connected: connected_now,
                        stress,
                        hh_max: hh_max as usize,
                        is_ref,
                        in_episode: in_ep,
                    };
                    let (thr_up, thr_move) = match mods.filter(|_| touch.need) {
                        None => {
                            let [a, b] = tables.trans
                                [trans_index(level, band, need_mask, connected_now, stress)];
                            (a, b)
                        }
                        Some(md) => rates.need_thresholds(&ctx_at(level, mask), md),
                    };
                    let mut new_level = level;
                    if u_need < thr_up {
                        new_level = level + 1;
                        crisis_entries += (new_level == 3) as i64;
                    } else if u_need < thr_move {
                        new_level = level - 1;
                    }
                    need[k] = new_level as u8;

                    // 4. Risk factors change.
                    let slow_risk = mods.filter(|_| touch.risk);
                    let thr_risk = match slow_risk {
                        None => risk_row[mask as usize],
                        Some(md) => rates.risk_threshold(decile, mask, &tables.shock, md),
                    };
                    if u_risk < thr_risk {
                        let p = match slow_risk {
                            None => flips_row[mask as usize],
                            Some(md) => rates.risk_flips(decile, mask, &tables.shock, md),
                        };
                        let mut rng = crn.stream(key, t, Purpose::RiskDetail);
                        flags ^= flips_given_any(&p, &mut rng);
                    }

                    // 5. Asset connection.
                    let h2 = rc.bits(t, Purpose::Contact);
                    let (u_contact, u_asset) = (h2 as u32, (h2 >> 32) as u32);
                    if connected_now {
                        if u_asset < thr_disc {
                            flags &= !flag::CONNECTED;
                            connected_n -= 1;
                        }
                    } else if connected_n < cap {
                        let isolated = (flags & isolation != 0) as usize;
                        if u_asset < thr_connect[isolated] {
                            flags |= flag::CONNECTED;
                            connected_n += 1;
                        }
                    }

                    // 6. Service contacts, with this month's need level, and handoff.
                    let mask_now = flags & flag::RISK_MASK;
                    // The slow path only where an effect changes a rate this
                    // resident has (a multiplier on a rate of 0 changes nothing).
                    let slow_contact = touch.event_rates
                        || touch.entries & rates.entry_mask[band][is_ref as usize] != 0 && !in_ep;
                    let thr_contact = match mods.filter(|_| slow_contact) {
                        None => {
                            tables.contact[contact_index(
                                new_level,
                                band,
                                mask_now,
                                hh_max as usize,
                                is_ref,
                                in_ep,
                            )]
                        }
                        Some(md) => rates.contact_threshold(&ctx_at(new_level, mask_now), md),
                    };
                    if u_contact < thr_contact {
                        let md = mods.unwrap_or(&Mods::NONE);
                        let mut rates_s = [0.0; MAX_SERVICES];
                        let total =
                            rates.contact_rates(&ctx_at(new_level, mask_now), md, &mut rates_s);
                        let count = poisson_given_at_least_one(total, u_contact);
                        let mut rng = crn.stream(key, t, Purpose::ContactDetail);
                        for _ in 0..count {
                            let s = pick_weighted(&rates_s, total, rng.uniform());
                            let bit = 1u16 << s;
                            let touched = touched_s[k];
                            if touched & bit == 0 {
                                if touched != 0 {
                                    let c = (handoff_pence * md.handoff).round() as i64;
                                    handoff_cost += c;
                                    cost_n += c;
                                }
                                touched_s[k] = touched | bit;
                            }
                            if s < n_events {
                                events[s] += 1;
                                nb[NB_EVENTS] += 1;
                                cost_n += cfg.events[s].unit_cost_pence;
                            } else if episode[k] == 0 {
                                let e = s - n_events;
                                let svc = &cfg.episodes[e];
                                let es = &mut episodes[e];
                                episode[k] = e as u8 + 1;
                                if available[e] > 0 {
                                    available[e] -= 1;
                                    es.in_house += 1;
                                } else if svc.overflow == Overflow::Spot {
                                    es.spot += 1;
                                    flags |= flag::SPOT;
                                    row[lay.episode_spot_entries + e] += 1;
                                } else {
                                    es.waiting += 1;
                                    es.queue.push_back((r as u32, arrival[k]));
                                    flags |= flag::WAITING;
                                    continue;
                                }
                                row[lay.episode_entries + e] += 1;
                                nb[NB_ENTRIES] += 1;
                                episode_left[k] =
                                    durations_engine.draw(e, &mut rng, md.duration[e]);
                            }
                        }
                    }
                    flags_s[k] = flags;

                    // Month-end tallies and the household summary.
                    need_n[new_level] += 1;
                    summary.add(age_k, new_level as u8, intervention[k] & iv::SUPPORT != 0);
                    let ep = episode[k];
                    if ep != 0 && flags & flag::WAITING == 0 {
                        let svc = &cfg.episodes[ep as usize - 1];
                        cost_n += if flags & flag::SPOT != 0 {
                            svc.spot_monthly_cost_pence
                        } else {
                            in_house_n[ep as usize - 1] += 1;
                            svc.monthly_cost_pence
                        };
                    }
                }
                summary.adults_crisis = summary.adults_crisis.min(3);
                household_summary[h] = summary.pack();
            }
            nb[NB_RESIDENT_MONTHS] = need_n.iter().sum();
            nb[NB_CRISIS] = need_n[3];
            nb[NB_STRUGGLING] = need_n[2];
            nb[NB_CONNECTED] = connected_n as i64;
            nb[NB_COST] += cost_n;
            in_house_by_neighbourhood[n] = in_house_n;
            for l in 0..NEED_LEVELS {
                need_counts[l] += need_n[l];
            }
            connected[n] = connected_n;
            connected_total += connected_n as i64;
            if recording {
                for (acc, v) in nb_acc[n].iter_mut().zip(nb) {
                    *acc += v;
                }
            }
        }

        if recording {
            row[lay.residents] = need_counts.iter().sum();
            for l in 0..NEED_LEVELS {
                row[lay.need + l] = need_counts[l];
            }
            row[lay.crisis_entries] = crisis_entries;
            for (s, svc) in cfg.events.iter().enumerate() {
                row[lay.event_count + s] = events[s];
                row[lay.event_cost + s] = events[s] * svc.unit_cost_pence;
            }
            for (e, svc) in cfg.episodes.iter().enumerate() {
                let es = &episodes[e];
                // Owned places (held by places interventions) are filled
                // first: they cost the service nothing, their running costs
                // being the interventions' spend, and earn rent instead.
                let mut owned_free = es.in_house;
                for (i, iv_cfg) in cfg.interventions.iter().enumerate() {
                    if let Delivery::Places { service, rent, .. } = &iv_cfg.delivery
                        && *service == e
                    {
                        let occupied = owned_free.min(places_added[i]);
                        owned_free -= occupied;
                        if let (Some((_, pence)), Some(k)) = (rent, lay.iv_rent[i]) {
                            row[k] = occupied as i64 * pence;
                        }
                    }
                }
                let owned = es.in_house - owned_free;
                row[lay.episode_occupancy + e] = (es.in_house + es.spot) as i64;
                row[lay.episode_spot + e] = es.spot as i64;
                row[lay.episode_waiting + e] = es.waiting as i64;
                row[lay.episode_cost + e] = owned_free as i64 * svc.monthly_cost_pence
                    + es.spot as i64 * svc.spot_monthly_cost_pence;
                if let (Some((_, pence)), Some(k)) = (svc.recovered, lay.episode_recovered[e]) {
                    row[k] = (owned_free + es.spot) as i64 * pence;
                }
                if owned > 0 {
                    owned_off_neighbourhoods(
                        nb_acc,
                        in_house_by_neighbourhood,
                        e,
                        owned as i64 * svc.monthly_cost_pence,
                    );
                }
            }
            row[lay.handoff_cost] = handoff_cost;
            row[lay.connected] = connected_total;
            row[lay.asset_places] = asset_capacity.iter().map(|c| c.floor() as i64).sum();
            for (i, iv_cfg) in cfg.interventions.iter().enumerate() {
                row[lay.iv_spend + i] = iv_cfg.monthly_spend(m as u32);
                row[lay.iv_caseload + i] = caseloads[i].cases as i64;
            }
        }
    }
}

/// Takes the cost of service `e`'s occupied owned places, `owed` pence (the
/// pass charged every in-house place the in-house cost), off the
/// neighbourhoods in proportion to their residents in its in-house places,
/// to the penny: each gets the whole pence of its share, and the pence left
/// go to the largest remainders (the lower index first on a tie), so the
/// neighbourhoods' costs still add up to the place's.
fn owned_off_neighbourhoods(
    nb_acc: &mut [[i64; Nb::COUNT]],
    in_house: &[[u32; MAX_SERVICES]],
    e: usize,
    owed: i64,
) {
    let total: i64 = in_house.iter().map(|c| c[e] as i64).sum();
    if total == 0 {
        return;
    }
    let mut rest = owed;
    let mut remainders: Vec<(i64, usize)> = Vec::with_capacity(in_house.len());
    for (n, c) in in_house.iter().enumerate() {
        let share = owed as i128 * c[e] as i128;
        let whole = (share / total as i128) as i64;
        nb_acc[n][NB_COST] -= whole;
        rest -= whole;
        remainders.push(((share % total as i128) as i64, n));
    }
    remainders.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    for &(_, n) in remainders.iter().take(rest as usize) {
        nb_acc[n][NB_COST] -= 1;
    }
}
