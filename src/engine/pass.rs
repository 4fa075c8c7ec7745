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
//!
//! The residents are split into [`Chunk`]s of whole households, fixed by the
//! population's layout, that run in any order on any thread. The two things a
//! resident's month takes from a shared pool, a place in an episode service
//! and a place at a community asset, are asked for in the chunk and granted
//! afterwards, one chunk after another in slot order: exactly as one loop
//! over every resident would grant them, whatever the thread count.

use super::assets::{connect_thresholds, disconnect_threshold};
use super::chunks::{Chunk, Slots, each_chunk};
use super::hazards::{
    Ctx, FlipChances, Mods, Rates, Tables, contact_index, flips_given_any, trans_index,
};
use super::household::HouseholdSummary;
use super::interventions::{Reach, Touch};
use super::services::{DurationDraw, pick_weighted, poisson_given_at_least_one};
use super::{
    Engine, NB_CONNECTED, NB_COST, NB_CRISIS, NB_ENTRIES, NB_EVENTS, NB_RESIDENT_MONTHS,
    NB_STRUGGLING,
};
use crate::metrics::NeighbourhoodMetric as Nb;
use crate::model::population::{flag, is_vacant, iv};
use crate::model::{Config, Delivery, MAX_SERVICES, NEED_LEVELS, Overflow, RiskFactor, Unit};
use crate::rng::{Crn, Purpose, ResidentCrn, resident_key};

/// A resident's request for a place in an episode service, granted after
/// the chunks have run.
#[derive(Clone, Copy, Debug)]
pub(super) struct EntryRequest {
    slot: u32,
    service: u8,
    /// Months the episode lasts if a place is free, drawn with the contact
    /// that asks for it.
    months: u16,
}

/// What one chunk's month leaves for the rest of the step: its tallies and
/// its residents' requests, in slot order.
#[derive(Clone, Debug, Default)]
pub(super) struct PassTally {
    need: [i64; NEED_LEVELS],
    crisis_entries: i64,
    events: [i64; MAX_SERVICES],
    handoff_cost: i64,
    /// Event contacts, episode entries and reactive cost (pence) in the
    /// chunk's neighbourhood.
    nb_events: i64,
    nb_entries: i64,
    cost: i64,
    /// Residents in each episode service's in-house places at month end.
    in_house: [u32; MAX_SERVICES],
    /// Episodes ended, by service: in-house, spot, waiting.
    released: [[u32; 3]; MAX_SERVICES],
    /// Support ended for a case holder, by intervention.
    cases_ended: Vec<u32>,
    entries: Vec<EntryRequest>,
    /// Asks to connect to an asset: the slot, and how many of the chunk's
    /// residents before it disconnected.
    connects: Vec<(u32, u32)>,
    disconnects: u32,
}

impl PassTally {
    fn clear(&mut self, interventions: usize) {
        let mut cases = std::mem::take(&mut self.cases_ended);
        let mut entries = std::mem::take(&mut self.entries);
        let mut connects = std::mem::take(&mut self.connects);
        cases.clear();
        cases.resize(interventions, 0);
        entries.clear();
        connects.clear();
        *self = PassTally {
            cases_ended: cases,
            entries,
            connects,
            ..PassTally::default()
        };
    }
}

/// What every chunk reads this month.
struct Month<'a> {
    cfg: &'a Config,
    rates: &'a Rates<'a>,
    tables: &'a Tables,
    reach: &'a [Reach],
    /// Each intervention's multipliers in support and at every month of its
    /// lingering effect.
    iv_mods: &'a [(Mods, Vec<Mods>)],
    hh_start: &'a [u32],
    crn: Crn,
    t: u32,
    window: usize,
    handoff_pence: f64,
    thr_connect: [u32; 2],
    /// Per neighbourhood: the chance a connected resident disconnects, and
    /// whether the asset has any places.
    thr_disc: &'a [(u32, bool)],
    durations: DurationDraw<'a>,
    /// Residents connected to each neighbourhood's asset.
    connected: &'a [u32],
}

/// Whether the residents of a chunk in neighbourhood `n`, whose flags are
/// `flags`, can connect to or disconnect from its asset this month (it has
/// places, or someone is connected), and whether any of their risk factors
/// can change (someone has one, or one can begin): the pass's loop pays
/// only for what is there to do. With `lean` false, both always.
fn uses(
    cfg: &Config,
    tables: &Tables,
    has_room: bool,
    connected: u32,
    n: usize,
    flags: &[u8],
    lean: bool,
) -> (bool, bool) {
    let assets = has_room || connected > 0;
    let decile = cfg.population.neighbourhoods[n].decile as usize;
    let onset = tables.risk[(decile - 1) * 32] > 0;
    let risk = onset || flags.iter().any(|&f| f & flag::RISK_MASK != 0);
    (assets || !lean, risk || !lean)
}

impl Engine<'_> {
    // Out of line so profiles show it apart; it runs once a month.
    #[inline(never)]
    pub(super) fn residents_pass(&mut self, m: i64, recording: bool) {
        let cfg = self.config;
        let iv_mods: Vec<(Mods, Vec<Mods>)> = self
            .intervention_mods(m)
            .into_iter()
            .zip(&self.reach)
            .map(|(full, rch)| {
                let lingering = rch.lingering.iter().map(|&s| full.scaled(s)).collect();
                (full.scaled(1.0), lingering)
            })
            .collect();
        let caps: Vec<u32> = self
            .asset_capacity
            .iter()
            .map(|c| c.floor().max(0.0) as u32)
            .collect();
        let thr_disc: Vec<(u32, bool)> = (0..caps.len())
            .map(|n| {
                (
                    disconnect_threshold(
                        self.connected[n],
                        caps[n],
                        cfg.assets.disconnect_per_month,
                    ),
                    caps[n] > 0,
                )
            })
            .collect();
        let mut tallies = std::mem::take(&mut self.pass_tallies);
        tallies.resize_with(self.chunks.len(), PassTally::default);
        for tally in &mut tallies {
            tally.clear(cfg.interventions.len());
        }
        // Places free at the start of the month: those left this month are
        // free from the next.
        let mut available: Vec<u32> = (0..self.episodes.len())
            .map(|e| {
                self.open_places(e)
                    .saturating_sub(self.episodes[e].in_house)
            })
            .collect();
        let Engine {
            population,
            prefixes,
            household_summary,
            chunks,
            workers,
            rates,
            tables,
            reach,
            crn,
            t,
            durations,
            connected,
            lean,
            ..
        } = self;
        let month = Month {
            connected,
            cfg,
            rates,
            tables,
            reach,
            iv_mods: &iv_mods,
            hh_start: &population.households.start,
            crn: *crn,
            t: *t,
            window: cfg.handoff.window_months as usize,
            handoff_pence: cfg.handoff.cost_per_extra_service_pence as f64
                * (1.0 - cfg.handoff.integration),
            thr_connect: connect_thresholds(&cfg.assets),
            thr_disc: &thr_disc,
            durations: DurationDraw {
                config: cfg,
                lognormal: durations,
            },
        };
        let slots = Slots::of(&mut population.residents, prefixes, household_summary);
        each_chunk(
            *workers,
            slots,
            chunks,
            &mut tallies,
            |chunk, slots, tally| {
                let n = chunk.neighbourhood;
                let room = month.thr_disc[n].1;
                let connected = month.connected[n];
                match uses(cfg, month.tables, room, connected, n, slots.flags, *lean) {
                    (true, true) => pass_chunk::<true, true>(&month, chunk, slots, tally),
                    (true, false) => pass_chunk::<true, false>(&month, chunk, slots, tally),
                    (false, true) => pass_chunk::<false, true>(&month, chunk, slots, tally),
                    (false, false) => pass_chunk::<false, false>(&month, chunk, slots, tally),
                }
            },
        );
        self.grant_places(&mut tallies, &mut available);
        self.grant_connections(&tallies, &caps);
        self.add_up(&tallies, recording);
        self.pass_tallies = tallies;
        if recording {
            self.record_services(m);
        }
    }

    /// Episode places asked for this month, one request after another in
    /// slot order: an in-house place while one is free, else a spot place
    /// or the waiting list, as the service overflows.
    fn grant_places(&mut self, tallies: &mut [PassTally], available: &mut [u32]) {
        let cfg = self.config;
        let lay = &self.layout;
        let res = &mut self.population.residents;
        for tally in tallies.iter_mut() {
            for i in 0..tally.entries.len() {
                let EntryRequest {
                    slot,
                    service,
                    months,
                } = tally.entries[i];
                let (r, e) = (slot as usize, service as usize);
                let svc = &cfg.episodes[e];
                let es = &mut self.episodes[e];
                if available[e] > 0 {
                    available[e] -= 1;
                    es.in_house += 1;
                    tally.in_house[e] += 1;
                    tally.cost += svc.monthly_cost_pence;
                } else if svc.overflow == Overflow::Spot {
                    es.spot += 1;
                    res.flags[r] |= flag::SPOT;
                    self.row[lay.episode_spot_entries + e] += 1;
                    tally.cost += svc.spot_monthly_cost_pence;
                } else {
                    es.waiting += 1;
                    es.queue.push_back((slot, res.arrival[r]));
                    res.flags[r] |= flag::WAITING;
                    continue;
                }
                self.row[lay.episode_entries + e] += 1;
                tally.nb_entries += 1;
                res.episode_left[r] = months;
            }
        }
    }

    /// Asset places asked for this month, neighbourhood by neighbourhood in
    /// slot order: granted while the asset has room, counting those who
    /// disconnected before the asker.
    fn grant_connections(&mut self, tallies: &[PassTally], caps: &[u32]) {
        let flags = &mut self.population.residents.flags;
        let mut c = 0;
        while c < self.chunks.len() {
            let n = self.chunks[c].neighbourhood;
            let mut connected = self.connected[n] as i64;
            while c < self.chunks.len() && self.chunks[c].neighbourhood == n {
                let tally = &tallies[c];
                let mut before = 0;
                for &(slot, disconnected) in &tally.connects {
                    connected -= (disconnected - before) as i64;
                    before = disconnected;
                    if connected < caps[n] as i64 {
                        flags[slot as usize] |= flag::CONNECTED;
                        connected += 1;
                    }
                }
                connected -= (tally.disconnects - before) as i64;
                c += 1;
            }
            self.connected[n] = connected as u32;
        }
    }

    /// The chunks' tallies into the month's row, each neighbourhood's
    /// totals and the services' and caseloads' counts.
    fn add_up(&mut self, tallies: &[PassTally], recording: bool) {
        let lay = &self.layout;
        let mut need = [0i64; NEED_LEVELS];
        let mut crisis_entries = 0;
        let mut events = [0i64; MAX_SERVICES];
        let mut handoff_cost = 0;
        let mut nb = vec![[0i64; Nb::COUNT]; self.neighbourhoods.len()];
        self.in_house_by_neighbourhood
            .iter_mut()
            .for_each(|c| *c = [0; MAX_SERVICES]);
        for (tally, chunk) in tallies.iter().zip(&self.chunks) {
            let n = chunk.neighbourhood;
            for (a, b) in need.iter_mut().zip(tally.need) {
                *a += b;
            }
            crisis_entries += tally.crisis_entries;
            for (a, b) in events.iter_mut().zip(tally.events) {
                *a += b;
            }
            for (a, b) in self.in_house_by_neighbourhood[n]
                .iter_mut()
                .zip(tally.in_house)
            {
                *a += b;
            }
            handoff_cost += tally.handoff_cost;
            let acc = &mut nb[n];
            acc[NB_RESIDENT_MONTHS] += tally.need.iter().sum::<i64>();
            acc[NB_CRISIS] += tally.need[3];
            acc[NB_STRUGGLING] += tally.need[2];
            acc[NB_EVENTS] += tally.nb_events;
            acc[NB_ENTRIES] += tally.nb_entries;
            acc[NB_COST] += tally.cost;
            for (e, es) in self.episodes.iter_mut().enumerate() {
                let [in_house, spot, waiting] = tally.released[e];
                es.in_house -= in_house;
                es.spot -= spot;
                es.waiting -= waiting;
            }
            for (i, &ended) in tally.cases_ended.iter().enumerate() {
                self.caseloads[i].cases -= ended;
            }
        }
        for (n, acc) in nb.iter_mut().enumerate() {
            acc[NB_CONNECTED] = self.connected[n] as i64;
        }
        if recording {
            for (acc, v) in self.neighbourhoods.iter_mut().zip(&nb) {
                for (a, b) in acc.iter_mut().zip(v) {
                    *a += b;
                }
            }
            let row = &mut self.row;
            row[lay.residents] = need.iter().sum();
            row[lay.need..lay.need + NEED_LEVELS].copy_from_slice(&need);
            row[lay.crisis_entries] = crisis_entries;
            for (s, svc) in self.config.events.iter().enumerate() {
                row[lay.event_count + s] = events[s];
                row[lay.event_cost + s] = events[s] * svc.unit_cost_pence;
            }
            row[lay.handoff_cost] = handoff_cost;
        }
    }

    /// The services' month-end counts and costs, the interventions' spend
    /// and caseloads, and connection to assets.
    fn record_services(&mut self, m: i64) {
        let cfg = self.config;
        let lay = &self.layout;
        let row = &mut self.row;
        for (e, svc) in cfg.episodes.iter().enumerate() {
            let es = &self.episodes[e];
            // Owned places (held by places interventions) are filled first:
            // they cost the service nothing, their running costs being the
            // interventions' spend, and earn rent instead.
            let mut owned_free = es.in_house;
            for (i, iv_cfg) in cfg.interventions.iter().enumerate() {
                if let Delivery::Places { service, rent, .. } = &iv_cfg.delivery
                    && *service == e
                {
                    let occupied = owned_free.min(self.places_added[i]);
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
                    &mut self.neighbourhoods,
                    &self.in_house_by_neighbourhood,
                    e,
                    owned as i64 * svc.monthly_cost_pence,
                );
            }
        }
        row[lay.connected] = self.connected.iter().map(|&c| c as i64).sum();
        row[lay.asset_places] = self.asset_capacity.iter().map(|c| c.floor() as i64).sum();
        for (i, iv_cfg) in cfg.interventions.iter().enumerate() {
            row[lay.iv_spend + i] = iv_cfg.monthly_spend(m as u32);
            row[lay.iv_caseload + i] = self.caseloads[i].cases as i64;
        }
    }
}

/// Clears the services touched in the handoff window of each resident whose
/// window starts this month, in a chunk whose first slot is `r0`. Each
/// resident's window has its own phase, `(t + slot) mod window`, so no month
/// clears everyone's at once; a window of 0 never clears.
fn clear_windows(touched: &mut [u16], t: u32, r0: usize, window: usize) {
    if window > 0 {
        let first = (window - (t as usize + r0) % window) % window;
        for k in (first..touched.len()).step_by(window) {
            touched[k] = 0;
        }
    }
}

/// What a chunk's residents read that is fixed for the chunk.
struct Local<'a> {
    mo: &'a Month<'a>,
    decile: u8,
    risk_row: &'a [u32],
    flips_row: &'a [FlipChances],
    thr_disc: u32,
    has_room: bool,
    /// The chunk's first slot.
    r0: usize,
}

/// A chunk's running tallies.
#[derive(Default)]
struct Running {
    need: [i64; NEED_LEVELS],
    cost: i64,
    crisis_entries: i64,
    handoff_cost: i64,
    in_house: [u32; MAX_SERVICES],
}

/// A resident's household as it stood at the start of the month. Small
/// enough to pass in one register.
#[derive(Clone, Copy)]
struct Home {
    /// The household's first member, in the chunk.
    lo: u32,
    adults_crisis: u8,
    hh_max: u8,
}

impl Home {
    /// The household whose first member is `lo`, from its packed summary.
    fn of(lo: usize, packed: u8) -> Home {
        let start = HouseholdSummary::unpack(packed);
        Home {
            lo: lo as u32,
            adults_crisis: start.adults_crisis,
            hh_max: start.adult_max_need,
        }
    }
}

/// One chunk's residents through the month's six submodels.
///
/// `ASSETS` false: the neighbourhood has no asset place and nobody
/// connected, so the month's connecting and disconnecting are skipped.
/// `RISK` false: no risk factor can change, so that check is skipped. Both
/// give exactly the general loop's results where they are chosen.
// `h` and `k` index several parallel arrays at once.
#[allow(clippy::needless_range_loop)]
fn pass_chunk<const ASSETS: bool, const RISK: bool>(
    mo: &Month,
    chunk: &Chunk,
    s: &mut Slots,
    tally: &mut PassTally,
) {
    let cfg = mo.cfg;
    let (tables, t) = (mo.tables, mo.t);
    let isolation = RiskFactor::Isolation.bit();
    let bands = &cfg.age_bands;
    let n = chunk.neighbourhood;
    let decile = cfg.population.neighbourhoods[n].decile;
    let (thr_disc, has_room) = mo.thr_disc[n];
    let local = Local {
        mo,
        decile,
        risk_row: &tables.risk[(decile as usize - 1) * 32..decile as usize * 32],
        flips_row: &tables.flips[(decile as usize - 1) * 32..decile as usize * 32],
        thr_disc,
        has_room,
        r0: chunk.residents.start,
    };
    let (risk_row, flips_row, r0) = (local.risk_row, local.flips_row, local.r0);
    let h0 = chunk.households.start;
    let len = chunk.residents.len();
    assert!(
        s.age.len() == len
            && s.need.len() == len
            && s.flags.len() == len
            && s.episode.len() == len
            && s.touched.len() == len
            && s.intervention.len() == len
            && s.intervention_months.len() == len
            && s.prefixes.len() == len
            && s.arrival.len() == len
            && s.episode_left.len() == len
    );
    let mut run = Running::default();
    // Cleared before the residents' loop, which only then reads it.
    clear_windows(s.touched, t, r0, mo.window);
    // One flat loop over the chunk's residents, a household's state
    // swapped as its first member comes up: cheaper than a loop per
    // household, whose set-up costs as much as a resident when most
    // households are small. A household's state is as it stood at the
    // start of the month (a synchronous update), as last month's pass or
    // turnover left it.
    let ends = &mo.hh_start[h0 + 1..chunk.households.end + 1];
    assert!(!ends.is_empty() && s.summary.len() == ends.len());
    let mut h = 0;
    let mut next = ends[0] as usize - r0;
    let mut home = Home::of(0, s.summary[0]);
    let mut summary = HouseholdSummary::default();
    for k in 0..len {
        if k == next {
            summary.adults_crisis = summary.adults_crisis.min(3);
            s.summary[h] = summary.pack();
            h += 1;
            next = ends[h] as usize - r0;
            home = Home::of(k, s.summary[h]);
            summary = HouseholdSummary::default();
        }
        let (lo, adults_crisis, hh_max) =
            (home.lo as usize, home.adults_crisis as usize, home.hh_max);
        let age_k = s.age[k];
        // Room a declared trend keeps for arrivals: nobody yet.
        if is_vacant(age_k) {
            continue;
        }
        if s.episode[k] | s.intervention[k] != 0 {
            summary = general_resident(&local, s, k, home, summary, &mut run, tally);
            continue;
        }
        // Most residents, most months: in no episode and touched by no
        // programme. The same steps as the general path with no
        // multipliers, read from the tables alone.
        let r = r0 + k;
        let band = bands.band(age_k);
        let level = s.need[k] as usize;
        let mut flags = s.flags[k];
        let rc = s.prefixes[k];
        let connected_now = flags & flag::CONNECTED != 0;
        let mask = flags & flag::RISK_MASK;
        let need_mask = mask & !(isolation * connected_now as u8);
        let is_adult_crisis = (age_k >= 18) & (level == 3);
        let stress = (adults_crisis - is_adult_crisis as usize).min(2);
        let h1 = rc.bits(t, Purpose::Need);
        let u_need = h1 as u32;
        let [thr_up, thr_move] =
            tables.trans[trans_index(level, band, need_mask, connected_now, stress)];
        // Up below the first threshold, down between the two (the
        // second is the first plus the chance of moving down).
        let up = (u_need < thr_up) as usize;
        let new_level = level + 2 * up - (u_need < thr_move) as usize;
        run.crisis_entries += (up & (level == 2) as usize) as i64;
        s.need[k] = new_level as u8;
        if RISK && ((h1 >> 32) as u32) < risk_row[mask as usize] {
            let mut rng = rc.stream(t, Purpose::RiskDetail);
            flags ^= flips_given_any(&flips_row[mask as usize], &mut rng);
        }
        let h2 = rc.bits(t, Purpose::Contact);
        let (u_contact, u_asset) = (h2 as u32, (h2 >> 32) as u32);
        if !ASSETS {
            debug_assert!(!connected_now);
        } else if connected_now {
            if u_asset < thr_disc {
                flags &= !flag::CONNECTED;
                tally.disconnects += 1;
            }
        } else if has_room && u_asset < mo.thr_connect[(flags & isolation != 0) as usize] {
            tally.connects.push((r as u32, tally.disconnects));
        }
        let mask_now = flags & flag::RISK_MASK;
        let is_ref = k == lo;
        let thr_contact = tables.contact
            [contact_index(new_level, band, mask_now, hh_max as usize, is_ref, false)];
        if u_contact < thr_contact {
            let ctx = Ctx {
                level: new_level,
                band,
                need_mask,
                mask: mask_now,
                connected: connected_now,
                stress,
                hh_max: hh_max as usize,
                is_ref,
                in_episode: false,
            };
            // An episode begun this month is costed when its place is
            // granted, after the pass.
            contacts(
                mo,
                &ctx,
                &Mods::NONE,
                u_contact,
                rc,
                r,
                &mut s.touched[k],
                &mut s.episode[k],
                tally,
                &mut run.cost,
                &mut run.handoff_cost,
            );
        }
        s.flags[k] = flags;
        run.need[new_level] += 1;
        summary.add(age_k, new_level as u8, false);
    }
    assert!(next == len && h + 1 == ends.len());
    summary.adults_crisis = summary.adults_crisis.min(3);
    s.summary[h] = summary.pack();
    tally.need = run.need;
    tally.crisis_entries = run.crisis_entries;
    tally.handoff_cost = run.handoff_cost;
    tally.cost += run.cost;
    for (a, b) in tally.in_house.iter_mut().zip(run.in_house) {
        *a += b;
    }
}

/// One resident in an episode or touched by a programme, through the
/// month's six submodels: the general path, with each intervention's
/// multipliers.
// Out of line, so the plain path's loop keeps its registers.
#[inline(never)]
fn general_resident(
    l: &Local,
    s: &mut Slots,
    k: usize,
    home: Home,
    mut summary: HouseholdSummary,
    run: &mut Running,
    tally: &mut PassTally,
) -> HouseholdSummary {
    let mo = l.mo;
    let (rates, tables, crn, t) = (mo.rates, mo.tables, mo.crn, mo.t);
    let isolation = RiskFactor::Isolation.bit();
    let (lo, adults_crisis, hh_max) = (home.lo as usize, home.adults_crisis as usize, home.hh_max);
    let r = l.r0 + k;
    let r0 = l.r0;
    let age_k = s.age[k];
    let band = mo.cfg.age_bands.band(age_k);
    let level = s.need[k] as usize;
    let mut flags = s.flags[k];
    let arrival = &*s.arrival;
    let prefixes = &*s.prefixes;
    let (need, episode) = (&mut *s.need, &mut *s.episode);
    let touched_s = &mut *s.touched;
    let (intervention, intervention_months) = (&mut *s.intervention, &mut *s.intervention_months);
    let rc = prefixes[k];
    // 1. Episode continuation: exits free their place next month.
    let ep = episode[k];
    if ep != 0 && flags & flag::WAITING == 0 {
        let left = s.episode_left[k] - 1;
        s.episode_left[k] = left;
        if left == 0 {
            let kind = if flags & flag::SPOT != 0 { 1 } else { 0 };
            tally.released[ep as usize - 1][kind] += 1;
            flags &= !(flag::WAITING | flag::SPOT);
            episode[k] = 0;
        }
    }

    // 2. Intervention support, dropout and lingering effect.
    let mut mods: Option<&Mods> = None;
    let mut touch = Touch::NONE;
    let ivb = intervention[k];
    if ivb != 0 {
        let i = (ivb & iv::INDEX) as usize - 1;
        let rch = &l.mo.reach[i];
        let mut state = ivb;
        let mut months = intervention_months[k];
        if state & iv::SUPPORT != 0 {
            months -= 1;
            let dropped = rch.thr_dropout > 0 && {
                let drop_key = if rch.unit == Unit::Household {
                    resident_key((r0 + lo) as u32, arrival[lo])
                } else {
                    resident_key(r as u32, arrival[k])
                };
                (crn.resident(drop_key)
                    .bits_for(t, Purpose::Dropout, rch.stream) as u32)
                    < rch.thr_dropout
            };
            if months == 0 || dropped {
                state &= !iv::SUPPORT;
                if state & iv::CASE_HOLDER != 0 {
                    tally.cases_ended[i] += 1;
                    state &= !iv::CASE_HOLDER;
                }
                months = 0;
            }
        } else {
            months = months.saturating_add(1);
        }
        let (support, lingering) = &l.mo.iv_mods[i];
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
            let [a, b] = tables.trans[trans_index(level, band, need_mask, connected_now, stress)];
            (a, b)
        }
        Some(md) => rates.need_thresholds(&ctx_at(level, mask), md),
    };
    let mut new_level = level;
    if u_need < thr_up {
        new_level = level + 1;
        run.crisis_entries += (new_level == 3) as i64;
    } else if u_need < thr_move {
        new_level = level - 1;
    }
    need[k] = new_level as u8;

    // 4. Risk factors change.
    let slow_risk = mods.filter(|_| touch.risk);
    let thr_risk = match slow_risk {
        None => l.risk_row[mask as usize],
        Some(md) => rates.risk_threshold(l.decile, mask, &tables.shock, md),
    };
    if u_risk < thr_risk {
        let p = match slow_risk {
            None => l.flips_row[mask as usize],
            Some(md) => FlipChances::new(rates.risk_flips(l.decile, mask, &tables.shock, md)),
        };
        let mut rng = rc.stream(t, Purpose::RiskDetail);
        flags ^= flips_given_any(&p, &mut rng);
    }

    // 5. Asset connection: a place is asked for here and granted
    // after the pass, in slot order, while the asset has room.
    let h2 = rc.bits(t, Purpose::Contact);
    let (u_contact, u_asset) = (h2 as u32, (h2 >> 32) as u32);
    if connected_now {
        if u_asset < l.thr_disc {
            flags &= !flag::CONNECTED;
            tally.disconnects += 1;
        }
    } else if l.has_room {
        let isolated = (flags & isolation != 0) as usize;
        if u_asset < l.mo.thr_connect[isolated] {
            tally.connects.push((r as u32, tally.disconnects));
        }
    }

    // 6. Service contacts, with this month's need level, and handoff.
    let mask_now = flags & flag::RISK_MASK;
    // The slow path only where an effect changes a rate this
    // resident has (a multiplier on a rate of 0 changes nothing).
    let slow_contact =
        touch.event_rates || touch.entries & rates.entry_mask[band][is_ref as usize] != 0 && !in_ep;
    let thr_contact = match mods.filter(|_| slow_contact) {
        None => {
            tables.contact[contact_index(new_level, band, mask_now, hh_max as usize, is_ref, in_ep)]
        }
        Some(md) => rates.contact_threshold(&ctx_at(new_level, mask_now), md),
    };
    let mut entered = false;
    if u_contact < thr_contact {
        let md = mods.unwrap_or(&Mods::NONE);
        entered = contacts(
            mo,
            &ctx_at(new_level, mask_now),
            md,
            u_contact,
            rc,
            r,
            &mut touched_s[k],
            &mut episode[k],
            tally,
            &mut run.cost,
            &mut run.handoff_cost,
        );
    }
    s.flags[k] = flags;

    // Month-end tallies and the household summary.
    run.need[new_level] += 1;
    summary.add(age_k, new_level as u8, intervention[k] & iv::SUPPORT != 0);
    let ep = episode[k];
    if ep != 0 && !entered && flags & flag::WAITING == 0 {
        let svc = &mo.cfg.episodes[ep as usize - 1];
        run.cost += if flags & flag::SPOT != 0 {
            svc.spot_monthly_cost_pence
        } else {
            run.in_house[ep as usize - 1] += 1;
            svc.monthly_cost_pence
        };
    }
    summary
}

/// A resident's contacts this month, given at least one (`u_contact` below
/// the chance of any): how many, with which services, the handoff cost of
/// each extra service in the window, and a request for a place when an
/// episode service is contacted by someone in none. Returns whether a place
/// was asked for.
// Out of line: one resident in ten or so has a contact in a month.
#[inline(never)]
#[allow(clippy::too_many_arguments)]
fn contacts(
    mo: &Month,
    ctx: &Ctx,
    md: &Mods,
    u_contact: u32,
    rc: ResidentCrn,
    slot: usize,
    touched: &mut u16,
    episode: &mut u8,
    tally: &mut PassTally,
    cost: &mut i64,
    handoff_cost: &mut i64,
) -> bool {
    let cfg = mo.cfg;
    let n_events = cfg.events.len();
    let mut rates_s = [0.0; MAX_SERVICES];
    let total = mo.rates.contact_rates(ctx, md, &mut rates_s);
    let count = poisson_given_at_least_one(total, u_contact);
    let mut rng = rc.stream(mo.t, Purpose::ContactDetail);
    let mut entered = false;
    for _ in 0..count {
        let sv = pick_weighted(&rates_s, total, rng.uniform());
        let bit = 1u16 << sv;
        if *touched & bit == 0 {
            if *touched != 0 {
                let c = (mo.handoff_pence * md.handoff).round() as i64;
                *handoff_cost += c;
                *cost += c;
            }
            *touched |= bit;
        }
        if sv < n_events {
            tally.events[sv] += 1;
            tally.nb_events += 1;
            *cost += cfg.events[sv].unit_cost_pence;
        } else if *episode == 0 {
            // A place is asked for; where it is (and what it costs this
            // month) is settled after the pass. Its length is drawn now,
            // straight after the contact, whatever the answer (someone who
            // waits draws again when admitted), so the next contacts' draws
            // do not depend on it.
            let e = sv - n_events;
            *episode = e as u8 + 1;
            entered = true;
            let months = mo.durations.draw(e, &mut rng, md.duration[e]);
            tally.entries.push(EntryRequest {
                slot: slot as u32,
                service: e as u8,
                months,
            });
        }
    }
    entered
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::chunks::{CHUNK_RESIDENTS, chunks};

    /// Places at an asset and in an episode service are granted in slot
    /// order wherever the chunks fall: a run split into one household per
    /// chunk gives the usual split's numbers, to the integer, in a place
    /// whose assets are full and whose services overflow.
    #[test]
    fn results_do_not_depend_on_where_the_chunks_fall() {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/small_hubs.toml");
        let config = crate::scenario::load(&path).unwrap().config;
        let run = |size: usize| {
            let mut engine = Engine::new(&config, 7, 0);
            engine.chunks = chunks(&engine.population, size);
            let n = engine.chunks.len();
            (engine.run(), n)
        };
        let ((usual, few), (fine, many)) = (run(CHUNK_RESIDENTS), run(1));
        assert!(many > 100 * few, "{few} chunks against {many}");
        assert_eq!(usual.raw, fine.raw);
        assert_eq!(usual.neighbourhoods, fine.neighbourhoods);
        // Not a vacuous check: the assets were full and places ran out.
        let layout = crate::metrics::Layout::new(&config);
        let months: Vec<&[i64]> = usual.raw.chunks(layout.len()).collect();
        assert!(
            months
                .iter()
                .any(|m| m[layout.connected] * 100 >= m[layout.asset_places] * 95),
            "the assets never filled"
        );
        let overflowed = (0..config.episodes.len()).any(|e| {
            months.iter().any(|m| {
                m[layout.episode_spot_entries + e] > 0 || m[layout.episode_waiting + e] > 0
            })
        });
        assert!(overflowed, "no service ran out of places");
    }

    /// A resident's handoff window is cleared exactly in the months where
    /// `(t + slot) mod window` is 0, whatever the chunk's first slot, and
    /// never with no window.
    #[test]
    fn handoff_windows_clear_on_each_residents_own_phase() {
        for window in 0..5usize {
            for r0 in [0usize, 1, 7, 4096] {
                for t in 0..12u32 {
                    let mut touched = vec![0b101u16; 23];
                    clear_windows(&mut touched, t, r0, window);
                    for (k, &v) in touched.iter().enumerate() {
                        let due = window > 0 && (t as usize + r0 + k).is_multiple_of(window);
                        assert_eq!(v == 0, due, "window {window}, r0 {r0}, t {t}, k {k}");
                    }
                }
            }
        }
    }

    /// The lean loops (no assets, no risk factors that can change) give the
    /// full loop's results to the integer, in the reduced model (where every
    /// chunk runs the leanest) and in a place with assets and risk factors;
    /// and a chunk still takes the full loop where nobody holds a factor but
    /// one can begin, or where an asset has no places but residents are
    /// still connected to it.
    #[test]
    fn lean_loops_give_the_full_loops_results() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        for file in ["benches/reduced.toml", "tests/fixtures/small_hubs.toml"] {
            let mut config = crate::scenario::load(&root.join(file)).unwrap().config;
            config.months = config.months.min(36);
            let run = |lean: bool| {
                let mut engine = Engine::new(&config, 3, 0);
                engine.lean = lean;
                engine.run()
            };
            let (lean, full) = (run(true), run(false));
            assert_eq!(lean.raw, full.raw, "{file}");
            assert_eq!(lean.neighbourhoods, full.neighbourhoods, "{file}");
        }
        // Not vacuous: the reduced model's chunks all take the leanest loop.
        let config = crate::scenario::load(&root.join("benches/reduced.toml"))
            .unwrap()
            .config;
        let mut engine = Engine::new(&config, 3, 0);
        for _ in 0..12 {
            engine.step();
            let room = engine.asset_capacity[0].floor() > 0.0;
            let (connected, flags) = (engine.connected[0], &engine.population.residents.flags);
            let uses = |lean| uses(&config, &engine.tables, room, connected, 0, flags, lean);
            assert_eq!(uses(true), (false, false));
            assert_eq!(uses(false), (true, true));
        }

        // Nobody yet holds a risk factor, but one can begin: the lean loop
        // must still check. The factor begins only outside the most
        // deprived decile (so reading decile 1's chances instead of the
        // chunk's would miss it) and doubles escalation, so a missed onset
        // moves the results as well as the factors.
        let mut config = config;
        config.risks[0].prevalence_most_deprived = 0.0;
        config.risks[0].prevalence_least_deprived = 0.3;
        config.risks[0].escalation_multiplier = 2.0;
        assert_ne!(config.population.neighbourhoods[0].decile, 1);
        let run = |lean: bool| {
            let mut engine = Engine::new(&config, 3, 0);
            engine.lean = lean;
            engine
                .population
                .residents
                .flags
                .iter_mut()
                .for_each(|f| *f &= !flag::RISK_MASK);
            for _ in 0..12 {
                engine.step();
            }
            let flags = engine.population.residents.flags.clone();
            (flags, engine.finish().raw)
        };
        let (lean, full) = (run(true), run(false));
        assert!(
            full.0.iter().any(|f| f & flag::RISK_MASK != 0),
            "nobody gained a factor"
        );
        assert_eq!(lean, full);

        // An asset with no places left but residents still connected: the
        // lean loop must still let them disconnect.
        let mut config = crate::scenario::load(&root.join("tests/fixtures/small_hubs.toml"))
            .unwrap()
            .config;
        config.assets.growth_per_month = 0.0;
        let run = |lean: bool| {
            let mut engine = Engine::new(&config, 3, 0);
            engine.lean = lean;
            // A year for residents to connect, then the places go (and,
            // with no growth, stay gone).
            for _ in 0..12 {
                engine.step();
            }
            let before: u32 = engine.connected.iter().sum();
            engine.asset_capacity.iter_mut().for_each(|c| *c = 0.0);
            for _ in 0..12 {
                engine.step();
            }
            let after: u32 = engine.connected.iter().sum();
            let flags = engine.population.residents.flags.clone();
            ((before, after), flags, engine.finish().raw)
        };
        let (lean, full) = (run(true), run(false));
        let (before, after) = full.0;
        assert!(after < before, "{before} connected before, {after} after");
        assert_eq!(lean, full);
    }
}
