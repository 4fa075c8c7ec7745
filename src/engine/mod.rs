//! One replicate of one scenario, month by month (MODEL.md section 3).
//!
//! [`Engine::step`] is the monthly schedule, in this order, one module per
//! mechanism:
//!
//! 1. environment: shocks change risk-factor prevalence (`hazards`);
//! 2. community assets grow or decline towards what is funded (`assets`);
//! 3. places an intervention adds to an episode service, and admissions from
//!    waiting lists into free places (`services`);
//! 4. enrolment of residents or households into interventions with free
//!    places (`interventions`);
//! 5. the residents' pass: one fused loop over every resident for episode
//!    continuation, support and dropout, need, risk factors, asset
//!    connection, and service contacts with handoff (`pass`), leaving each
//!    household's summary byte behind it (`household`);
//! 6. turnover and ageing for the twelfth of residents whose yearly turn
//!    falls this month (`turnover`);
//! 7. recording the month's integers ([`crate::metrics`]).
//!
//! Steps 5 and 6, and the warm start, run in chunks of whole households on
//! the engine's [`Workers`]; what a resident asks of a shared pool (a place
//! in a service or at an asset) is granted after, in slot order. Every draw
//! is a pure function of its coordinates ([`crate::rng`]), so neither the
//! order residents are visited in nor the thread count changes any result.
//! `audit` recounts every
//! running total from the residents' own records, for tests and on every
//! resume from a snapshot.

mod assets;
mod audit;
mod chunks;
mod hazards;
mod household;
mod interventions;
mod pass;
mod services;
mod snapshot;
mod turnover;
mod warm;

use rand_distr::LogNormal;

use crate::metrics::{self, Layout, NeighbourhoodMetric as Nb};
use crate::model::population::{self, Population, flag};
use crate::model::{Config, MAX_SERVICES, RISK_FACTORS};
use crate::rng::Crn;

use chunks::Chunk;
use hazards::{Rates, Tables};
use household::HouseholdSummary;
use interventions::{CaseloadState, Reach};
use pass::PassTally;
use services::EpisodeState;

pub use audit::BrokenInvariant;
pub use snapshot::SnapshotError;
pub use warm::ExpectedAtStart;

// Where each neighbourhood total sits in a neighbourhood's array.
const NB_RESIDENT_MONTHS: usize = Nb::ResidentMonths as usize;
const NB_CRISIS: usize = Nb::CrisisMonths as usize;
const NB_STRUGGLING: usize = Nb::StrugglingMonths as usize;
const NB_EVENTS: usize = Nb::ServiceEvents as usize;
const NB_ENTRIES: usize = Nb::EpisodeEntries as usize;
const NB_COST: usize = Nb::ReactiveCost as usize;
const NB_REACHED: usize = Nb::PeopleReached as usize;
const NB_CONNECTED: usize = Nb::ConnectedMonths as usize;

/// Flows in and out of the population over a run, for conservation checks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Turnover {
    /// Residents when the replicate began.
    pub start: u64,
    /// Vacated children's places refilled by a birth.
    pub births: u64,
    /// Vacated places refilled by a child or adult moving in.
    pub moves_in: u64,
    /// Residents who died.
    pub deaths: u64,
    /// Residents who moved away.
    pub moves_out: u64,
    /// Residents now (after the last turnover).
    pub end: u64,
}

/// One replicate's raw results: whole numbers only, so a shard's part file
/// carries them to a merge exactly.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ReplicateResult {
    /// `raw[month * layout.len() + metric]`, integers (counts, pence).
    pub raw: Vec<i64>,
    /// Per neighbourhood, its totals in
    /// [`NeighbourhoodMetric`](metrics::NeighbourhoodMetric) order (cost in
    /// pence).
    pub neighbourhoods: Vec<[i64; Nb::COUNT]>,
    /// Residents × months of burn-in and horizon: the work the replicate
    /// stands for (counted in full even if finished early).
    pub resident_months: u64,
    turnover: Turnover,
}

/// Runs a month's independent pieces of work, in any order and on any
/// threads: the engine's results are the same whichever. [`OneThread`] runs
/// them in turn; a caller with a thread pool passes its own (the `upstream`
/// command passes one that runs them on its pool's threads).
pub trait Workers: Sync {
    /// Calls every job once.
    fn run(&self, jobs: &mut [&mut (dyn FnMut() + Send)]);
}

/// Calls `job` once for every item, on `workers`: in any order, on any
/// thread.
fn for_each<T: Send>(workers: &dyn Workers, items: &mut [T], job: impl Fn(&mut T) + Sync) {
    let job = &job;
    let mut jobs: Vec<_> = items.iter_mut().map(|item| move || job(item)).collect();
    let mut refs: Vec<&mut (dyn FnMut() + Send)> = jobs
        .iter_mut()
        .map(|j| j as &mut (dyn FnMut() + Send))
        .collect();
    workers.run(&mut refs);
}

/// Runs every job in turn on the calling thread.
#[derive(Clone, Copy, Debug, Default)]
pub struct OneThread;

impl Workers for OneThread {
    fn run(&self, jobs: &mut [&mut (dyn FnMut() + Send)]) {
        for job in jobs {
            job();
        }
    }
}

/// One replicate of one scenario, month by month.
pub struct Engine<'a> {
    config: &'a Config,
    /// Who runs each month's chunks of residents.
    workers: &'a dyn Workers,
    /// The residents in runs of whole households, each a month's job.
    chunks: Vec<Chunk>,
    /// Whether a chunk whose neighbourhood has no assets, or no risk factor
    /// that can change, runs a loop without them (always, but in the test
    /// that checks they give the same results).
    lean: bool,
    /// Each chunk's tallies, kept between months to reuse their buffers.
    pass_tallies: Vec<PassTally>,
    turn_tallies: Vec<turnover::TurnTally>,
    layout: Layout,
    rates: Rates<'a>,
    tables: Tables,
    crn: Crn,
    /// The master seed and replicate number `crn` was made from.
    seed: u64,
    replicate: u32,
    population: Population,
    episodes: Vec<EpisodeState>,
    caseloads: Vec<CaseloadState>,
    /// Places intervention: places added last month (to charge capital once).
    places_added: Vec<u32>,
    /// Each neighbourhood's residents or households in an episode service's
    /// in-house places at the end of the month (rewritten each month).
    in_house_by_neighbourhood: Vec<[u32; MAX_SERVICES]>,
    asset_capacity: Vec<f64>,
    connected: Vec<u32>,
    durations: Vec<Option<LogNormal<f64>>>,
    reach: Vec<Reach>,
    household_summary: Vec<u8>,
    /// Each resident's share of the random-number key, kept so the step
    /// need not recompute it every month (8 bytes a resident).
    prefixes: Vec<crate::rng::ResidentCrn>,
    starting_need: population::StartingNeed,
    departures: turnover::Departures,
    candidates: Vec<(u64, u32)>,
    /// Households that pass enrolment's first filter (reused each month).
    household_buffer: Vec<u32>,
    /// Children and adults in the place now, and at the start (a declared
    /// trend's path is drawn from the start's).
    occupied: [u64; 2],
    start_occupied: [u64; 2],
    /// The month's empty slots, for a declared trend (reused each month).
    vacancies: Vec<u32>,
    /// Months simulated so far, burn-in included.
    t: u32,
    row: Vec<i64>,
    raw: Vec<i64>,
    neighbourhoods: Vec<[i64; Nb::COUNT]>,
    turnover: Turnover,
}

/// Scenario month (1-based) of absolute month `t`; zero or less in burn-in.
fn scenario_month(config: &Config, t: u32) -> i64 {
    t as i64 - config.burn_in_months as i64 + 1
}

impl<'a> Engine<'a> {
    /// A replicate at its first burn-in month: a population synthesised from
    /// the scenario, services as at equilibrium (or empty, if the scenario
    /// says so), assets at their base places.
    pub fn new(config: &'a Config, seed: u64, replicate: u32) -> Engine<'a> {
        Engine::new_on(config, seed, replicate, &OneThread)
    }

    /// [`Engine::new`] with its work, the warm start's and every month's,
    /// run by `workers`: the same engine, byte for byte.
    pub fn new_on(
        config: &'a Config,
        seed: u64,
        replicate: u32,
        workers: &'a dyn Workers,
    ) -> Engine<'a> {
        let population = population::synthesise(config, Crn::new(seed, replicate));
        let mut engine = Engine::assemble(config, seed, replicate, population, [1.0; RISK_FACTORS])
            .with_workers(workers);
        engine.warm_start();
        engine
    }

    /// An engine around `population` at month 0: everything derived from the
    /// configuration built, every running total at its starting value.
    fn assemble(
        config: &'a Config,
        seed: u64,
        replicate: u32,
        population: Population,
        shock: [f64; RISK_FACTORS],
    ) -> Engine<'a> {
        let crn = Crn::new(seed, replicate);
        let rates = Rates::new(config);
        let tables = Tables::build(&rates, shock);
        let layout = Layout::new(config);
        let n_neigh = config.population.neighbourhoods.len();
        let occupied = occupied(&population);
        let n = occupied.iter().sum();
        Engine {
            config,
            workers: &OneThread,
            chunks: chunks::chunks(&population, chunks::CHUNK_RESIDENTS),
            lean: true,
            pass_tallies: Vec::new(),
            turn_tallies: Vec::new(),
            rates,
            tables,
            crn,
            seed,
            replicate,
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
            in_house_by_neighbourhood: vec![[0; MAX_SERVICES]; n_neigh],
            asset_capacity: assets::starting_places(config, &population),
            connected: vec![0; n_neigh],
            durations: services::lognormals(config),
            reach: config.interventions.iter().map(Reach::new).collect(),
            starting_need: population::StartingNeed::new(config),
            departures: turnover::Departures::new(config),
            prefixes: (0..population.residents.len())
                .map(|r| crn.resident(population.residents.key(r)))
                .collect(),
            household_summary: (0..population.households.len())
                .map(|h| HouseholdSummary::of(&population, h).pack())
                .collect(),
            candidates: Vec::new(),
            household_buffer: Vec::new(),
            occupied,
            start_occupied: occupied,
            vacancies: Vec::new(),
            t: 0,
            row: vec![0; layout.len()],
            raw: Vec::with_capacity(layout.len() * config.months as usize),
            neighbourhoods: vec![[0; Nb::COUNT]; n_neigh],
            turnover: Turnover {
                start: n,
                end: n,
                ..Default::default()
            },
            layout,
            population,
        }
    }

    /// The same engine with its monthly work run by `workers`: the results
    /// are the same, byte for byte, whoever runs it.
    pub fn with_workers(mut self, workers: &'a dyn Workers) -> Engine<'a> {
        self.workers = workers;
        self
    }

    /// The residents, their households and neighbourhoods, as they stand.
    pub fn population(&self) -> &Population {
        &self.population
    }

    /// Months simulated so far, burn-in included.
    pub fn months_run(&self) -> u32 {
        self.t
    }

    /// Births, deaths and moves so far, for conservation checks.
    pub fn turnover(&self) -> Turnover {
        self.turnover
    }

    /// Burn-in and horizon months together.
    pub fn total_months(&self) -> u32 {
        self.config.burn_in_months + self.config.months
    }

    /// The scenario month (1-based) last simulated: 0 before the horizon,
    /// negative in burn-in, `months` when the horizon is done.
    pub fn month(&self) -> i64 {
        scenario_month(self.config, self.t) - 1
    }

    /// Simulates burn-in (if not yet done) and the horizon up to and
    /// including scenario month `month`, or to the horizon's end.
    pub fn run_to(&mut self, month: u32) {
        let until = (self.config.burn_in_months + month).min(self.total_months());
        while self.t < until {
            self.step();
        }
    }

    /// Runs burn-in and the horizon and returns the recorded results.
    pub fn run(mut self) -> ReplicateResult {
        while self.t < self.total_months() {
            self.step();
        }
        self.finish()
    }

    /// Stops the replicate and returns what it has recorded so far (all of
    /// it once the horizon is done).
    pub fn finish(self) -> ReplicateResult {
        let total = self.total_months() as u64;
        ReplicateResult {
            raw: self.raw,
            neighbourhoods: self.neighbourhoods,
            resident_months: self.population.residents.len() as u64 * total,
            turnover: self.turnover,
        }
    }

    /// Advances one month: the schedule in the module's doc, in its order.
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
        self.turnover_and_ageing();
        if recording {
            self.record();
        }
        self.t += 1;
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

/// Children and adults in `population` (empty slots held for a declared
/// trend not counted).
fn occupied(population: &Population) -> [u64; 2] {
    let mut n = [0u64; 2];
    for &a in &population.residents.age {
        if !population::is_vacant(a) {
            n[(a >= crate::model::demography::ADULT_AGE) as usize] += 1;
        }
    }
    n
}

/// Runs one replicate of one scenario on the calling thread.
pub fn run_replicate(config: &Config, seed: u64, replicate: u32) -> ReplicateResult {
    Engine::new(config, seed, replicate).run()
}

/// Runs one replicate of one scenario with its monthly work run by
/// `workers`: the same result as [`run_replicate`], byte for byte.
pub fn run_replicate_on(
    config: &Config,
    seed: u64,
    replicate: u32,
    workers: &dyn Workers,
) -> ReplicateResult {
    Engine::new_on(config, seed, replicate, workers).run()
}

/// Residents a place larger than this is judged on, for checks that look at
/// a starting population.
const CHECK_SAMPLE: u32 = 200_000;

/// How many residents (or households) each caseload programme's targeting
/// reaches in a starting population (replicate 0's, before any register
/// cut), at the programme's start; `None` for programmes of other kinds. A
/// synthesised place of more than 200,000 residents is judged on a
/// 200,000-resident synthesis of it, its count scaled up to the place.
pub fn reach_at_start(config: &Config) -> Vec<Option<usize>> {
    let (config, scale) = sample_of(config);
    let config = config.as_ref();
    let mut engine = Engine::new(config, 0, 0);
    (0..config.interventions.len())
        .map(|i| {
            let iv = &config.interventions[i];
            matches!(iv.delivery, crate::model::Delivery::Caseload { .. }).then(|| {
                let found = engine.candidates(i, iv.start_month.max(1) as i64).len();
                // Scaled up from the sample to the place.
                (found as f64 * scale).round() as usize
            })
        })
        .collect()
}

/// A place's expected activity at the start, from its residents' own
/// hazards as the warm start reads them: contacts a month with each event
/// service and residents in each episode service. Judged on replicate 0's
/// synthesis (of at most 200,000 residents, scaled up for a larger place).
pub fn expected_at_start(config: &Config) -> ExpectedAtStart {
    let (config, scale) = sample_of(config);
    let config = config.as_ref();
    let engine = Engine::assemble(
        config,
        0,
        0,
        population::synthesise(config, Crn::new(0, 0)),
        [1.0; RISK_FACTORS],
    );
    let mut out = engine.expected_at_start();
    out.contacts_per_month.iter_mut().for_each(|x| *x *= scale);
    out.occupancy.iter_mut().for_each(|x| *x *= scale);
    out
}

/// The place itself, or, for a synthesised place of more than 200,000
/// residents, a 200,000-resident version of it with each neighbourhood's
/// share kept; and how many residents each sampled one stands for.
fn sample_of(config: &Config) -> (std::borrow::Cow<'_, Config>, f64) {
    let residents = config.population.residents;
    if config.population.starting.is_some() || residents <= CHECK_SAMPLE {
        return (std::borrow::Cow::Borrowed(config), 1.0);
    }
    // Neighbourhoods keep their shares (PopulationSpec::quotas).
    let mut smaller = config.clone();
    smaller.population.residents = CHECK_SAMPLE;
    let ratio = CHECK_SAMPLE as f64 / residents as f64;
    (std::borrow::Cow::Owned(smaller), 1.0 / ratio)
}
