//! The monthly step (MODEL.md section 3) and one replicate's run.
//!
//! Each month: environment (shocks), assets, intervention enrolment, then one
//! pass over residents household by household (episode continuation,
//! intervention support, need transition, risk-factor change, asset
//! connection, service contacts, handoff), then yearly turnover and ageing.
//!
//! Speed: most residents in most months take the fast path, where every
//! probability comes from a threshold table indexed by the resident's small
//! state and compared with 32 random bits. Residents touched by an
//! intervention take the slow path, which computes the same quantities from
//! the same functions with the intervention's multipliers; with multipliers of
//! exactly 1 both paths give identical bits, which is what makes a zero-effect
//! intervention reproduce the baseline exactly.

use std::collections::VecDeque;

use rand_distr::{Distribution, LogNormal};

use crate::metrics::{self, Layout};
use crate::model::population::{
    self, Population, flag, iv, reference_age, risk_multipliers, stationary, transition_probs,
};
use crate::model::{
    AGE_BANDS, Config, Delivery, Duration, EffectTarget, MAX_SERVICES, NEED_LEVELS, Overflow,
    RISK_FACTORS, RiskFactor, Unit, by_year,
};
use crate::rng::{Crn, Purpose, Stream, resident_key, threshold};

/// Totals kept per neighbourhood over the horizon.
pub const NEIGHBOURHOOD_METRICS: [&str; 8] = [
    "resident_months",
    "crisis_months",
    "struggling_months",
    "service_events",
    "episode_entries",
    "reactive_cost_gbp",
    "people_reached",
    "connected_months",
];
const NB_RESIDENT_MONTHS: usize = 0;
const NB_CRISIS: usize = 1;
const NB_STRUGGLING: usize = 2;
const NB_EVENTS: usize = 3;
const NB_ENTRIES: usize = 4;
const NB_COST: usize = 5;
const NB_REACHED: usize = 6;
const NB_CONNECTED: usize = 7;

/// Flows in and out of the population over a run, for conservation checks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Turnover {
    pub start: u64,
    pub births: u64,
    pub moves_in: u64,
    pub deaths: u64,
    pub moves_out: u64,
    pub end: u64,
}

/// One replicate's raw results.
#[derive(Clone, Debug, PartialEq)]
pub struct ReplicateResult {
    /// `raw[month * layout.len() + metric]`, integers (counts, pence).
    pub raw: Vec<i64>,
    /// Per neighbourhood, [`NEIGHBOURHOOD_METRICS`] (cost in pence).
    pub neighbourhoods: Vec<[i64; NEIGHBOURHOOD_METRICS.len()]>,
    pub resident_months: u64,
    pub turnover: Turnover,
}

/// Multipliers an intervention applies to one resident this month.
#[derive(Clone, Copy, Debug)]
struct Mods {
    escalation: f64,
    recovery: f64,
    risk_onset: [f64; RISK_FACTORS],
    contact: [f64; MAX_SERVICES],
    duration: [f64; MAX_SERVICES],
    handoff: f64,
}

impl Mods {
    const NONE: Mods = Mods {
        escalation: 1.0,
        recovery: 1.0,
        risk_onset: [1.0; RISK_FACTORS],
        contact: [1.0; MAX_SERVICES],
        duration: [1.0; MAX_SERVICES],
        handoff: 1.0,
    };

    /// Each multiplier moved from 1 towards its full value by `s` in [0, 1].
    fn scaled(&self, s: f64) -> Mods {
        let f = |m: f64| 1.0 + s * (m - 1.0);
        Mods {
            escalation: f(self.escalation),
            recovery: f(self.recovery),
            risk_onset: self.risk_onset.map(f),
            contact: self.contact.map(f),
            duration: self.duration.map(f),
            handoff: f(self.handoff),
        }
    }
}

/// One byte per household, refreshed as the residents' pass leaves it, so the
/// monthly enrolment scan can skip households without reading their members.
/// It also carries what the next month's pass needs of the household's
/// adults, so that pass need not read the members twice.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Summary {
    max_need: u8,
    child: bool,
    support: bool,
    /// Highest need among the adults.
    adult_max_need: u8,
    /// Adults in crisis, counted up to 3.
    adults_crisis: u8,
}

impl Summary {
    fn pack(self) -> u8 {
        self.max_need
            | (self.child as u8) << 2
            | (self.support as u8) << 3
            | self.adult_max_need << 4
            | self.adults_crisis.min(3) << 6
    }
    fn unpack(b: u8) -> Summary {
        Summary {
            max_need: b & 3,
            child: b & 4 != 0,
            support: b & 8 != 0,
            adult_max_need: (b >> 4) & 3,
            adults_crisis: b >> 6,
        }
    }
    #[inline(always)]
    fn add(&mut self, age: u8, need: u8, support: bool) {
        self.max_need = self.max_need.max(need);
        self.child |= age < 18;
        self.support |= support;
        if age >= 18 {
            self.adult_max_need = self.adult_max_need.max(need);
            self.adults_crisis += (need == 3) as u8;
        }
    }
    fn of(pop: &Population, h: usize) -> Summary {
        let res = &pop.residents;
        let mut s = Summary::default();
        for r in pop.households.members(h) {
            s.add(
                res.age[r],
                res.need[r],
                res.intervention[r] & iv::SUPPORT != 0,
            );
        }
        s.adults_crisis = s.adults_crisis.min(3);
        s
    }
}

/// Which parts of a resident's month an intervention's effects change; the
/// others keep the fast path (exactly: a multiplier of 1 changes no bits).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Touch {
    need: bool,
    risk: bool,
    event_rates: bool,
    /// Episode services whose entry hazard is changed, one bit each.
    entries: u16,
}

impl Touch {
    const NONE: Touch = Touch {
        need: false,
        risk: false,
        event_rates: false,
        entries: 0,
    };
}

/// What an intervention does to the people it reaches, fixed for a run.
struct Reach {
    /// This intervention's own random-number stream (from its name).
    stream: u32,
    /// Effect strength by months since support ended (lingering decay);
    /// past the end the effect is dropped.
    lingering: Vec<f64>,
    thr_dropout: u32,
    unit: Unit,
    touch: Touch,
}

/// Effects below a thousandth of full strength are dropped.
const MIN_STRENGTH: f64 = 1e-3;

impl Reach {
    fn new(iv: &crate::model::Intervention) -> Reach {
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

/// What a resident's hazards depend on, besides the intervention.
#[derive(Clone, Copy, Debug)]
struct Ctx {
    level: usize,
    band: usize,
    /// Risk factors as they act on need (isolation lifted while connected).
    need_mask: u8,
    /// Risk factors as held.
    mask: u8,
    connected: bool,
    /// Other adults of the household in crisis: 0, 1, 2 or more.
    stress: usize,
    /// Highest need among the household's adults.
    hh_max: usize,
    is_ref: bool,
    in_episode: bool,
}

/// Size of the transition table: level (2 bits), age band (2), risk factors
/// (5), connected (1), household stress (2).
const TRANS_SIZE: usize = 1 << 12;
/// Size of the contact table: level (2), age band (2), risk factors (5),
/// household's highest adult need (2), first member (1), in an episode (1).
const CONTACT_SIZE: usize = 1 << 13;

// Both tables pack their dimensions as bit fields, so the sizes must hold.
const _: () = assert!(NEED_LEVELS == 4 && AGE_BANDS == 4 && RISK_FACTORS == 5);

#[inline(always)]
fn trans_index(level: usize, band: usize, mask: u8, connected: bool, stress: usize) -> usize {
    (level << 10 | band << 8 | (mask as usize) << 3 | (connected as usize) << 2 | stress)
        & (TRANS_SIZE - 1)
}

#[inline(always)]
fn contact_index(
    level: usize,
    band: usize,
    mask: u8,
    hh_max: usize,
    is_ref: bool,
    in_ep: bool,
) -> usize {
    (level << 11
        | band << 9
        | (mask as usize) << 4
        | hh_max << 2
        | (is_ref as usize) << 1
        | in_ep as usize)
        & (CONTACT_SIZE - 1)
}

/// Per-scenario quantities fixed for a run.
struct Rates<'a> {
    config: &'a Config,
    risk_up: [f64; 32],
    risk_down: [f64; 32],
    event_risk: Vec<[f64; 32]>,
    episode_risk: Vec<[f64; 32]>,
    /// Episodes a resident can enter, one bit each, by age band and whether
    /// they are their household's first member.
    entry_mask: [[u16; 2]; AGE_BANDS],
}

impl<'a> Rates<'a> {
    fn new(config: &'a Config) -> Self {
        let mut risk_up = [1.0; 32];
        let mut risk_down = [1.0; 32];
        for mask in 0..32u8 {
            (risk_up[mask as usize], risk_down[mask as usize]) = risk_multipliers(config, mask);
        }
        let prod = |mult: &[f64; RISK_FACTORS]| {
            let mut t = [1.0; 32];
            for (mask, v) in t.iter_mut().enumerate() {
                for (f, m) in mult.iter().enumerate() {
                    if mask & (1 << f) != 0 {
                        *v *= m;
                    }
                }
            }
            t
        };
        let mut entry_mask = [[0u16; 2]; AGE_BANDS];
        for (e, svc) in config.episodes.iter().enumerate() {
            for (band, masks) in entry_mask.iter_mut().enumerate() {
                for (is_ref, m) in masks.iter_mut().enumerate() {
                    if svc.eligible_bands[band] && (svc.unit == Unit::Resident || is_ref == 1) {
                        *m |= 1 << e;
                    }
                }
            }
        }
        Rates {
            config,
            risk_up,
            risk_down,
            event_risk: config
                .events
                .iter()
                .map(|e| prod(&e.risk_multiplier))
                .collect(),
            episode_risk: config
                .episodes
                .iter()
                .map(|e| prod(&e.risk_multiplier))
                .collect(),
            entry_mask,
        }
    }

    fn need_thresholds(&self, c: &Ctx, m: &Mods) -> (u32, u32) {
        let cfg = self.config;
        let mut up =
            cfg.need.age_escalation_multiplier[c.band] * self.risk_up[c.need_mask as usize];
        if c.connected {
            up *= cfg.assets.escalation_multiplier;
        }
        up *= cfg.household_stress[c.stress.min(2)] * m.escalation;
        let down = self.risk_down[c.need_mask as usize] * m.recovery;
        let (p_up, p_down) = transition_probs(&cfg.need, c.level, up, down);
        (threshold(p_up), threshold(p_up + p_down))
    }

    /// Chance each risk factor flips this month.
    fn risk_flips(
        &self,
        decile: u8,
        mask: u8,
        shock: &[f64; RISK_FACTORS],
        m: &Mods,
    ) -> [f64; RISK_FACTORS] {
        let mut p = [0.0; RISK_FACTORS];
        for (f, risk) in self.config.risks.iter().enumerate() {
            let resolve = 1.0 / risk.persistence_months;
            p[f] = if mask & (1 << f) != 0 {
                resolve
            } else {
                let prev = (risk.prevalence(decile) * shock[f]).min(0.95);
                (prev * resolve / (1.0 - prev) * m.risk_onset[f]).min(1.0)
            };
        }
        p
    }

    fn risk_threshold(&self, decile: u8, mask: u8, shock: &[f64; RISK_FACTORS], m: &Mods) -> u32 {
        let p = self.risk_flips(decile, mask, shock, m);
        threshold(1.0 - p.iter().map(|q| 1.0 - q).product::<f64>())
    }

    /// Contact rates per service (events first, then episode entries) and their
    /// total, for this month.
    fn contact_rates(&self, c: &Ctx, m: &Mods, out: &mut [f64; MAX_SERVICES]) -> f64 {
        let cfg = self.config;
        let mut total = 0.0;
        for (s, e) in cfg.events.iter().enumerate() {
            let r = e.rate_per_month[c.level]
                * e.age_multiplier[c.band]
                * self.event_risk[s][c.mask as usize]
                * m.contact[s];
            out[s] = r;
            total += r;
        }
        let k = cfg.events.len();
        for (e, svc) in cfg.episodes.iter().enumerate() {
            let eligible =
                !c.in_episode && self.entry_mask[c.band][c.is_ref as usize] & (1 << e) != 0;
            let r = if eligible {
                svc.entry_per_month[c.level]
                    * svc.household_multiplier[c.hh_max]
                    * self.episode_risk[e][c.mask as usize]
                    * m.contact[k + e]
            } else {
                0.0
            };
            out[k + e] = r;
            total += r;
        }
        total
    }

    fn contact_threshold(&self, c: &Ctx, m: &Mods) -> u32 {
        let mut rates = [0.0; MAX_SERVICES];
        let total = self.contact_rates(c, m, &mut rates);
        threshold(1.0 - (-total).exp())
    }
}

/// Threshold tables for the fast path, rebuilt when the environment changes.
struct Tables {
    trans: Box<[[u32; 2]; TRANS_SIZE]>,
    risk: Vec<u32>,
    /// Flip probability of each factor, by decile and factors held.
    flips: Vec<[f64; RISK_FACTORS]>,
    contact: Box<[u32; CONTACT_SIZE]>,
    shock: [f64; RISK_FACTORS],
}

impl Tables {
    fn build(rates: &Rates, shock: [f64; RISK_FACTORS]) -> Tables {
        let mut trans = Box::new([[0u32; 2]; TRANS_SIZE]);
        let mut contact = Box::new([0u32; CONTACT_SIZE]);
        for level in 0..NEED_LEVELS {
            for band in 0..AGE_BANDS {
                for mask in 0..32u8 {
                    let base = Ctx {
                        level,
                        band,
                        need_mask: mask,
                        mask,
                        connected: false,
                        stress: 0,
                        hh_max: 0,
                        is_ref: false,
                        in_episode: false,
                    };
                    for connected in [false, true] {
                        for stress in 0..4 {
                            let c = Ctx {
                                connected,
                                stress,
                                ..base
                            };
                            let (a, b) = rates.need_thresholds(&c, &Mods::NONE);
                            trans[trans_index(level, band, mask, connected, stress)] = [a, b];
                        }
                    }
                    for hh_max in 0..NEED_LEVELS {
                        for is_ref in [false, true] {
                            for in_episode in [false, true] {
                                let c = Ctx {
                                    hh_max,
                                    is_ref,
                                    in_episode,
                                    ..base
                                };
                                contact[contact_index(
                                    level, band, mask, hh_max, is_ref, in_episode,
                                )] = rates.contact_threshold(&c, &Mods::NONE);
                            }
                        }
                    }
                }
            }
        }
        let mut risk = vec![0u32; 10 * 32];
        let mut flips = vec![[0.0; RISK_FACTORS]; 10 * 32];
        for decile in 1..=10u8 {
            for mask in 0..32u8 {
                let k = (decile as usize - 1) * 32 + mask as usize;
                risk[k] = rates.risk_threshold(decile, mask, &shock, &Mods::NONE);
                flips[k] = rates.risk_flips(decile, mask, &shock, &Mods::NONE);
            }
        }
        Tables {
            trans,
            risk,
            flips,
            contact,
            shock,
        }
    }
}

/// Live state of an episode service.
#[derive(Clone, Debug, Default)]
struct EpisodeState {
    capacity: u32,
    in_house: u32,
    spot: u32,
    waiting: u32,
    queue: VecDeque<(u32, u16)>,
}

impl EpisodeState {
    /// Someone leaves the service: their place (in-house or spot) or their
    /// spot on the waiting list, by their flags. Returns the flags without the
    /// episode's bits. A stale waiting-list entry is skipped on admission.
    fn release(&mut self, flags: u8) -> u8 {
        if flags & flag::WAITING != 0 {
            self.waiting -= 1;
        } else if flags & flag::SPOT != 0 {
            self.spot -= 1;
        } else {
            self.in_house -= 1;
        }
        flags & !(flag::WAITING | flag::SPOT)
    }
}

/// Live state of a caseload intervention.
#[derive(Clone, Debug, Default)]
struct CaseloadState {
    cases: u32,
}

/// One replicate of one scenario, month by month.
pub struct Engine<'a> {
    config: &'a Config,
    layout: Layout,
    rates: Rates<'a>,
    tables: Tables,
    crn: Crn,
    pub population: Population,
    episodes: Vec<EpisodeState>,
    caseloads: Vec<CaseloadState>,
    /// Places intervention: places added last month (to charge capital once).
    places_added: Vec<u32>,
    asset_capacity: Vec<f64>,
    connected: Vec<u32>,
    durations: Vec<Option<LogNormal<f64>>>,
    reach: Vec<Reach>,
    household_summary: Vec<u8>,
    /// Each resident's share of the random-number key, kept so the step
    /// need not recompute it every month (8 bytes a resident).
    prefixes: Vec<crate::rng::ResidentCrn>,
    starting_need: population::StartingNeed,
    candidates: Vec<(u64, u32)>,
    /// Households that pass enrolment's first filter (reused each month).
    household_buffer: Vec<u32>,
    /// Months simulated so far, burn-in included.
    pub t: u32,
    row: Vec<i64>,
    raw: Vec<i64>,
    neighbourhoods: Vec<[i64; NEIGHBOURHOOD_METRICS.len()]>,
    pub turnover: Turnover,
}

/// Scenario month (1-based) of absolute month `t`; zero or less in burn-in.
fn scenario_month(config: &Config, t: u32) -> i64 {
    t as i64 - config.burn_in_months as i64 + 1
}

impl<'a> Engine<'a> {
    pub fn new(config: &'a Config, seed: u64, replicate: u32) -> Engine<'a> {
        let crn = Crn::new(seed, replicate);
        let population = population::synthesise(config, crn);
        let rates = Rates::new(config);
        let tables = Tables::build(&rates, [1.0; RISK_FACTORS]);
        let layout = Layout::new(config);
        let n_neigh = config.population.neighbourhoods.len();
        let asset_capacity = (0..n_neigh)
            .map(|n| {
                let residents = population.neighbourhood_residents(n).len() as f64;
                config.assets.base_places_per_1000 * residents / 1000.0
            })
            .collect();
        let durations = config
            .episodes
            .iter()
            .map(|e| match e.duration {
                Duration::LogNormal {
                    mean_months,
                    sd_months,
                } => {
                    let s2 = (1.0 + (sd_months / mean_months).powi(2)).ln();
                    Some(LogNormal::new(mean_months.ln() - s2 / 2.0, s2.sqrt()).expect("validated"))
                }
                _ => None,
            })
            .collect();
        let n = population.residents.len() as u64;
        Engine {
            config,
            rates,
            tables,
            crn,
            episodes: config
                .episodes
                .iter()
                .map(|e| EpisodeState {
                    capacity: e.capacity,
                    ..Default::default()
                })
                .collect(),
            caseloads: vec![CaseloadState::default(); config.interventions.len()],
            places_added: vec![0; config.interventions.len()],
            asset_capacity,
            connected: vec![0; n_neigh],
            durations,
            reach: config.interventions.iter().map(Reach::new).collect(),
            starting_need: population::StartingNeed::new(config),
            prefixes: (0..population.residents.len())
                .map(|r| crn.resident(population.residents.key(r)))
                .collect(),
            household_summary: (0..population.households.len())
                .map(|h| Summary::of(&population, h).pack())
                .collect(),
            candidates: Vec::new(),
            household_buffer: Vec::new(),
            t: 0,
            row: vec![0; layout.len()],
            raw: Vec::with_capacity(layout.len() * config.months as usize),
            neighbourhoods: vec![[0; NEIGHBOURHOOD_METRICS.len()]; n_neigh],
            turnover: Turnover {
                start: n,
                end: n,
                ..Default::default()
            },
            layout,
            population,
        }
    }

    pub fn total_months(&self) -> u32 {
        self.config.burn_in_months + self.config.months
    }

    /// Runs burn-in and the horizon and returns the recorded results.
    pub fn run(mut self) -> ReplicateResult {
        while self.t < self.total_months() {
            self.step();
        }
        self.finish()
    }

    pub fn finish(self) -> ReplicateResult {
        let total = self.total_months() as u64;
        ReplicateResult {
            raw: self.raw,
            neighbourhoods: self.neighbourhoods,
            resident_months: self.population.residents.len() as u64 * total,
            turnover: self.turnover,
        }
    }

    /// Advances one month.
    pub fn step(&mut self) {
        let m = scenario_month(self.config, self.t);
        let recording = m >= 1;
        self.row.iter_mut().for_each(|v| *v = 0);
        self.environment(m);
        self.update_assets(m);
        self.update_places(m);
        self.admit_from_queues();
        self.enrol(m);
        self.residents_pass(m, recording);
        if (self.t + 1).is_multiple_of(12) {
            self.turnover_and_ageing();
        }
        if recording {
            self.record();
        }
        self.t += 1;
    }

    /// Recounts every running total from the residents' own records and
    /// checks the population accounts: nobody lost, duplicated or counted in
    /// two places. For tests and audits; a pass over all residents.
    pub fn check_invariants(&self) -> Result<(), String> {
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
                return Err(format!("{name} has {len} entries for {n} residents"));
            }
        }
        let tv = &self.turnover;
        if tv.start + tv.births + tv.moves_in != tv.end + tv.deaths + tv.moves_out
            || tv.end != n as u64
        {
            return Err(format!(
                "population accounts do not balance: {tv:?} with {n} residents"
            ));
        }
        if (0..n).any(|r| self.prefixes[r] != self.crn.resident(res.key(r))) {
            return Err("a resident's random-number key is stale".into());
        }
        let mut keys: Vec<u64> = (0..n).map(|r| res.key(r)).collect();
        keys.sort_unstable();
        if keys.windows(2).any(|w| w[0] == w[1]) {
            return Err("two residents share an identity".into());
        }
        let mut occupied = vec![(0u32, 0u32, 0u32); self.episodes.len()];
        let mut cases = vec![0u32; self.caseloads.len()];
        let mut connected = vec![0u32; self.connected.len()];
        for r in 0..n {
            let f = res.flags[r];
            if res.need[r] as usize >= NEED_LEVELS {
                return Err(format!("resident {r} has need level {}", res.need[r]));
            }
            let e = res.episode[r];
            if e != 0 {
                let o = &mut occupied[e as usize - 1];
                if f & flag::WAITING != 0 {
                    o.2 += 1;
                } else if f & flag::SPOT != 0 {
                    o.1 += 1;
                } else {
                    o.0 += 1;
                }
            } else if f & (flag::WAITING | flag::SPOT) != 0 {
                return Err(format!(
                    "resident {r} is waiting or on a spot place without an episode"
                ));
            }
            let ivb = res.intervention[r];
            if ivb & iv::CASE_HOLDER != 0 {
                cases[(ivb & iv::INDEX) as usize - 1] += 1;
            }
            if f & flag::CONNECTED != 0 {
                let h = res.household[r] as usize;
                connected[self.population.households.neighbourhood[h] as usize] += 1;
            }
            let h = res.household[r] as usize;
            if !self.population.households.members(h).contains(&r) {
                return Err(format!("resident {r} is not in the household it names"));
            }
        }
        for (e, (es, o)) in self.episodes.iter().zip(&occupied).enumerate() {
            if (es.in_house, es.spot, es.waiting) != *o {
                return Err(format!(
                    "episode service {e}: counters say {:?}, residents say {o:?}",
                    (es.in_house, es.spot, es.waiting)
                ));
            }
            if es.in_house > es.capacity {
                return Err(format!(
                    "episode service {e} has {} in {} places",
                    es.in_house, es.capacity
                ));
            }
        }
        for (i, (c, k)) in self.caseloads.iter().zip(&cases).enumerate() {
            if c.cases != *k {
                return Err(format!(
                    "intervention {i}: caseload {} but {k} case holders",
                    c.cases
                ));
            }
        }
        for h in 0..self.population.households.len() {
            if self.household_summary[h] != Summary::of(&self.population, h).pack() {
                return Err(format!("household {h}'s summary is stale"));
            }
            // Each case in support has exactly one holder: the resident, or
            // one member of the household.
            let mut holders = [0u8; crate::model::MAX_INTERVENTIONS];
            let mut supported = [false; crate::model::MAX_INTERVENTIONS];
            for r in self.population.households.members(h) {
                let ivb = res.intervention[r];
                if ivb & iv::CASE_HOLDER != 0 && ivb & iv::SUPPORT == 0 {
                    return Err(format!("resident {r} holds a case without support"));
                }
                if ivb & iv::SUPPORT != 0 {
                    let i = (ivb & iv::INDEX) as usize - 1;
                    supported[i] = true;
                    holders[i] += (ivb & iv::CASE_HOLDER != 0) as u8;
                    if self.reach[i].unit == Unit::Resident && ivb & iv::CASE_HOLDER == 0 {
                        return Err(format!("resident {r} is supported without holding a case"));
                    }
                }
                if res.episode[r] != 0
                    && res.flags[r] & flag::WAITING == 0
                    && res.episode_left[r] == 0
                {
                    return Err(format!("resident {r} occupies a place with no months left"));
                }
            }
            for i in 0..self.reach.len() {
                if self.reach[i].unit == Unit::Household && supported[i] && holders[i] != 1 {
                    return Err(format!(
                        "household {h} has {} holders of one case",
                        holders[i]
                    ));
                }
            }
        }
        if connected != self.connected {
            return Err(format!(
                "connected residents {:?} but counters {:?}",
                connected, self.connected
            ));
        }
        Ok(())
    }

    fn environment(&mut self, m: i64) {
        let mut shock = [1.0; RISK_FACTORS];
        for s in &self.config.shocks {
            if m >= s.from_month as i64 && m <= s.to_month as i64 {
                shock[s.factor as usize] *= s.prevalence_multiplier;
            }
        }
        if shock != self.tables.shock {
            self.tables = Tables::build(&self.rates, shock);
        }
    }

    fn update_assets(&mut self, m: i64) {
        let cfg = self.config;
        let mut funded = vec![0.0; self.asset_capacity.len()];
        for iv in &cfg.interventions {
            if let Delivery::Assets {
                neighbourhoods,
                places_by_year,
            } = &iv.delivery
                && m >= iv.start_month as i64
            {
                let places = by_year(places_by_year, m as u32).copied().unwrap_or(0.0);
                for &n in neighbourhoods {
                    funded[n] += places / neighbourhoods.len() as f64;
                }
            }
        }
        for (n, cap) in self.asset_capacity.iter_mut().enumerate() {
            let residents = self.population.neighbourhood_residents(n).len() as f64;
            let target = cfg.assets.base_places_per_1000 * residents / 1000.0 + funded[n];
            if target > *cap {
                *cap += cfg.assets.growth_per_month * (target - *cap);
            } else {
                *cap -= cfg.assets.decline_per_month * (*cap - target);
            }
        }
    }

    fn update_places(&mut self, m: i64) {
        for (i, iv) in self.config.interventions.iter().enumerate() {
            if let Delivery::Places {
                service,
                places_by_year,
                capital_cost_per_place_pence,
            } = &iv.delivery
            {
                let places = if m >= iv.start_month as i64 {
                    by_year(places_by_year, m as u32).copied().unwrap_or(0)
                } else {
                    0
                };
                let added = places.saturating_sub(self.places_added[i]);
                if added > 0 && m >= 1 {
                    self.row[self.layout.iv_capital + i] +=
                        added as i64 * capital_cost_per_place_pence;
                }
                let ep = &mut self.episodes[*service];
                ep.capacity = ep.capacity + places - self.places_added[i];
                self.places_added[i] = places;
            }
        }
    }

    fn admit_from_queues(&mut self) {
        let t = self.t;
        for e in 0..self.episodes.len() {
            if self.config.episodes[e].overflow != Overflow::Queue {
                continue;
            }
            while self.episodes[e].in_house < self.episodes[e].capacity {
                let Some((slot, arrival)) = self.episodes[e].queue.pop_front() else {
                    break;
                };
                let s = slot as usize;
                let res = &self.population.residents;
                if res.arrival[s] != arrival
                    || res.flags[s] & flag::WAITING == 0
                    || res.episode[s] != e as u8 + 1
                {
                    continue; // left the place or the list since joining
                }
                let mut rng = self.crn.stream(res.key(s), t, Purpose::Waiting);
                let draw = DurationDraw {
                    config: self.config,
                    lognormal: &self.durations,
                };
                // +1: the residents' pass counts this month and steps it down.
                let left = draw.draw(e, &mut rng, 1.0) + 1;
                let res = &mut self.population.residents;
                res.flags[s] &= !flag::WAITING;
                res.episode_left[s] = left;
                let ep = &mut self.episodes[e];
                ep.in_house += 1;
                ep.waiting -= 1;
                if t >= self.config.burn_in_months {
                    self.row[self.layout.episode_entries + e] += 1;
                    let h = self.population.residents.household[s] as usize;
                    let n = self.population.households.neighbourhood[h] as usize;
                    self.neighbourhoods[n][NB_ENTRIES] += 1;
                }
            }
        }
    }

    /// Cases an intervention can hold this month.
    fn places(&self, i: usize, m: i64) -> u32 {
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

    fn enrol(&mut self, m: i64) {
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
    fn enrol_one(&mut self, i: usize, m: i64, free: u32) {
        let cfg = self.config;
        let iv_cfg = &cfg.interventions[i];
        let Delivery::Caseload {
            targeting: tg,
            engagement,
            support_months,
            ..
        } = &iv_cfg.delivery
        else {
            return;
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
        let band_ok = |age: u8| tg.age_bands.is_none_or(|b| b[cfg.age_bands.band(age)]);
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
            let sum = Summary::unpack(b as u8);
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
                if (crn.resident(key).bits_for(t, Purpose::Engage, stream) as u32) >= thr_engage {
                    continue;
                }
                let res = &mut self.population.residents;
                for r in members.clone() {
                    res.intervention[r] = (i as u8 + 1) | iv::SUPPORT;
                    // One more than the length: this month's pass counts down
                    // once, so support covers `support_months` months in all.
                    res.intervention_months[r] = *support_months + 1;
                }
                res.intervention[members.start] |= iv::CASE_HOLDER;
                let h = res.household[members.start] as usize;
                self.household_summary[h] |= 1 << 3; // the support bit
                self.caseloads[i].cases += 1;
                remaining -= 1;
                if m >= 1 {
                    self.row[self.layout.iv_reached + i] += members.len() as i64;
                    let n = self.population.households.neighbourhood
                        [res.household[members.start] as usize];
                    self.neighbourhoods[n as usize][NB_REACHED] += members.len() as i64;
                }
            }
            offered += batch;
        }
        self.candidates = cands;
        self.household_buffer = households;
    }

    /// Full-strength multipliers of each intervention this month (maturity
    /// included), before a resident's own lingering decay.
    fn intervention_mods(&self, m: i64) -> Vec<Mods> {
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

    // Out of line so profiles show it apart; it runs once a month.
    #[inline(never)]
    // `h` and `k` index several parallel arrays at once (and `h + 1`).
    #[allow(clippy::needless_range_loop)]
    fn residents_pass(&mut self, m: i64, recording: bool) {
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
        let reset_touched =
            cfg.handoff.window_months > 0 && t.is_multiple_of(cfg.handoff.window_months);
        let handoff_pence =
            cfg.handoff.cost_per_extra_service_pence as f64 * (1.0 - cfg.handoff.integration);
        let thr_connect = [
            threshold(1.0 - (-cfg.assets.connect_per_month).exp()),
            threshold(
                1.0 - (-cfg.assets.connect_per_month * cfg.assets.isolated_uptake_multiplier).exp(),
            ),
        ];
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
            let over = connected[n].saturating_sub(cap);
            let d = cfg.assets.disconnect_per_month;
            let p_disc = if connected[n] > 0 {
                d + (1.0 - d) * over as f64 / connected[n] as f64
            } else {
                d
            };
            let thr_disc = threshold(p_disc);
            let mut nb = [0i64; NEIGHBOURHOOD_METRICS.len()];
            // Tallies kept in locals (registers) through the neighbourhood.
            let mut need_n = [0i64; NEED_LEVELS];
            let mut cost_n = 0i64;
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
            for h in hh_lo..hh_hi {
                let lo = households.start[h] as usize - nlo;
                let hi = households.start[h + 1] as usize - nlo;
                assert!(lo < hi && hi <= len);
                // Household state at the start of the month (synchronous
                // update), as last month's pass (or turnover) left it.
                let start = Summary::unpack(household_summary[h]);
                let adults_crisis = start.adults_crisis as usize;
                let hh_max = start.adult_max_need;
                let hh_key = resident_key((nlo + lo) as u32, arrival[lo]);
                let mut summary = Summary::default();
                for k in lo..hi {
                    let r = nlo + k;
                    let key = resident_key(r as u32, arrival[k]);
                    let age_k = age[k];
                    let band = bands.band(age_k);
                    let level = need[k] as usize;
                    let mut flags = flags_s[k];
                    if reset_touched {
                        touched_s[k] = 0;
                    }

                    // Episode continuation: exits free their place next month.
                    let ep = episode[k];
                    if ep != 0 && flags & flag::WAITING == 0 {
                        let left = episode_left[k] - 1;
                        episode_left[k] = left;
                        if left == 0 {
                            flags = episodes[ep as usize - 1].release(flags);
                            episode[k] = 0;
                        }
                    }

                    // Intervention support, dropout and lingering effect.
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

                    // Need transition.
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

                    // Risk factors change.
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

                    // Asset connection.
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

                    // Service contacts, with this month's need level.
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
                                episode_left[k] =
                                    durations_engine.draw(e, &mut rng, md.duration[e]);
                            }
                        }
                    }
                    flags_s[k] = flags;

                    // Month-end tallies.
                    need_n[new_level] += 1;
                    summary.add(age_k, new_level as u8, intervention[k] & iv::SUPPORT != 0);
                    let ep = episode[k];
                    if ep != 0 && flags & flag::WAITING == 0 {
                        let svc = &cfg.episodes[ep as usize - 1];
                        cost_n += if flags & flag::SPOT != 0 {
                            svc.spot_monthly_cost_pence
                        } else {
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
            row[lay.residents] = pop.residents.len() as i64;
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
                row[lay.episode_occupancy + e] = (es.in_house + es.spot) as i64;
                row[lay.episode_spot + e] = es.spot as i64;
                row[lay.episode_waiting + e] = es.waiting as i64;
                row[lay.episode_cost + e] = es.in_house as i64 * svc.monthly_cost_pence
                    + es.spot as i64 * svc.spot_monthly_cost_pence;
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

    /// Once a year: deaths and moves, each vacated place refilled by a birth or
    /// a newcomer, then everyone ages a year.
    // Out of line so profiles show it apart; it runs once a month.
    #[inline(never)]
    fn turnover_and_ageing(&mut self) {
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
                self.household_summary[h] = Summary::of(pop, h).pack();
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

    fn record(&mut self) {
        // Risk-factor prevalence: a separate light pass, kept out of the step.
        let mut by_mask = [0i64; 32];
        for &f in &self.population.residents.flags {
            by_mask[(f & flag::RISK_MASK) as usize] += 1;
        }
        let mut counts = [0i64; RISK_FACTORS];
        for (mask, n) in by_mask.iter().enumerate() {
            for (k, c) in counts.iter_mut().enumerate() {
                *c += n * (mask >> k & 1) as i64;
            }
        }
        self.row[self.layout.risk..self.layout.risk + RISK_FACTORS].copy_from_slice(&counts);
        metrics::derive_month(self.config, &self.layout, &mut self.row);
        self.raw.extend_from_slice(&self.row);
    }
}

/// Episode lengths, borrowed apart from the engine's mutable state.
struct DurationDraw<'a> {
    config: &'a Config,
    lognormal: &'a [Option<LogNormal<f64>>],
}

impl DurationDraw<'_> {
    fn draw(&self, e: usize, rng: &mut Stream, multiplier: f64) -> u16 {
        let months = match self.config.episodes[e].duration {
            Duration::Exponential { mean_months } => {
                let q = (1.0 / mean_months).min(1.0);
                if q >= 1.0 {
                    1.0
                } else {
                    ((1.0 - rng.uniform()).ln() / (1.0 - q).ln())
                        .ceil()
                        .max(1.0)
                }
            }
            Duration::LogNormal { .. } => self.lognormal[e]
                .as_ref()
                .expect("built in new")
                .sample(rng)
                .round()
                .max(1.0),
            Duration::Fixed { months } => months as f64,
        };
        (months * multiplier)
            .round()
            .clamp(1.0, u16::MAX as f64 - 1.0) as u16
    }
}

/// How many contacts, given at least one: the inverse Poisson CDF at the same
/// uniform that decided there was one, so more contact risk never means fewer
/// contacts for the same luck.
fn poisson_given_at_least_one(lambda: f64, u: u32) -> u32 {
    let w = 1.0 - (u as f64 + 0.5) / 4_294_967_296.0;
    let mut p = (-lambda).exp();
    let mut cdf = p;
    let mut n = 0u32;
    while cdf < w && n < 64 {
        n += 1;
        p *= lambda / n as f64;
        cdf += p;
    }
    n.max(1)
}

fn pick_weighted(weights: &[f64; MAX_SERVICES], total: f64, u: f64) -> usize {
    let target = u * total;
    let mut acc = 0.0;
    let mut last = 0;
    for (i, &w) in weights.iter().enumerate() {
        if w > 0.0 {
            acc += w;
            last = i;
            if target < acc {
                return i;
            }
        }
    }
    last
}

/// Which risk factors flip, drawn exactly from independent flips with
/// probabilities `p`, conditioned on at least one flipping.
fn flips_given_any(p: &[f64; RISK_FACTORS], rng: &mut Stream) -> u8 {
    let mut out = 0u8;
    for f in 0..RISK_FACTORS {
        let q = if out != 0 {
            p[f]
        } else {
            // P(f flips | at least one of f.. flips)
            let none_rest: f64 = p[f..].iter().map(|x| 1.0 - x).product();
            let any_rest = 1.0 - none_rest;
            if any_rest <= 0.0 {
                0.0
            } else {
                p[f] / any_rest
            }
        };
        if rng.uniform() < q {
            out |= 1 << f;
        }
    }
    out
}

/// Runs one replicate of one scenario.
pub fn run_replicate(config: &Config, seed: u64, replicate: u32) -> ReplicateResult {
    Engine::new(config, seed, replicate).run()
}

/// The closed-form stationary need distribution of a resident with no risk
/// factors in the given age band (used by tests and docs).
pub fn stationary_need(config: &Config, band: usize) -> [f64; NEED_LEVELS] {
    stationary(
        &config.need,
        config.need.age_escalation_multiplier[band],
        1.0,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn poisson_count_is_monotone_in_rate() {
        for u in [0u32, 1 << 20, 1 << 28, 1 << 31, u32::MAX - 5] {
            let mut last = 0;
            for k in 1..50 {
                let n = poisson_given_at_least_one(k as f64 * 0.1, u);
                assert!(n >= last);
                last = n;
            }
        }
    }

    #[test]
    #[allow(clippy::needless_range_loop)] // indexes several arrays in step
    fn conditional_flips_match_independent_flips() {
        // Distribution of the flipped set given at least one flip, against exact
        // enumeration, for a skewed set of probabilities.
        let p = [0.02, 0.3, 0.001, 0.1, 0.05];
        let crn = Crn::new(3, 0);
        let n = 200_000;
        let mut counts = [0u32; 32];
        for r in 0..n {
            let mut rng = crn.stream(r, 0, Purpose::RiskDetail);
            counts[flips_given_any(&p, &mut rng) as usize] += 1;
        }
        let none: f64 = p.iter().map(|x| 1.0 - x).product();
        for mask in 1..32usize {
            let mut prob = 1.0;
            for f in 0..5 {
                prob *= if mask & (1 << f) != 0 {
                    p[f]
                } else {
                    1.0 - p[f]
                };
            }
            let expect = prob / (1.0 - none);
            let got = counts[mask] as f64 / n as f64;
            let se = (expect * (1.0 - expect) / n as f64).sqrt();
            assert!(
                (got - expect).abs() < 5.0 * se + 1e-6,
                "mask {mask}: {got} vs {expect}"
            );
        }
        assert_eq!(counts[0], 0);
    }
}
