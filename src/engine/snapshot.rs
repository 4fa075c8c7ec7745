//! A replicate's whole state as bytes, and back: what the learning
//! simulation keeps between rounds and a batch runner between jobs.
//!
//! The contract: resuming a snapshot under the configuration it was taken
//! with and running on gives the same numbers, byte for byte, as running
//! straight through. A snapshot may also be resumed under a configuration
//! that differs only in what acts from the resume month on (an
//! intervention's budget from a later year, a shock that starts later, an
//! effect from now on): common random numbers then pair the resumed run with
//! the unchanged one resident by resident, so the difference is the change.
//!
//! Only state that cannot be derived is stored: the residents and their
//! households, each episode service's places and waiting list, places an
//! intervention has added, asset places, the current shock, the months run
//! and what has been recorded. Running totals (occupancy, caseloads,
//! connected residents, household summaries, random-number keys) are
//! recounted from the residents, and the audit must pass before a resumed
//! engine is handed back. The format is little-endian, versioned and
//! checksummed; it is tied to the version of Upstream that wrote it.

use std::collections::VecDeque;

use super::{BrokenInvariant, Engine, Turnover};
use crate::metrics::NeighbourhoodMetric as Nb;
use crate::model::population::{Households, Population, Residents, flag, is_vacant, iv};
use crate::model::{Config, Delivery, RISK_FACTORS};
use crate::rng::mix64;

const MAGIC: &[u8; 8] = b"UPSTRSNP";
/// Bumped whenever the layout below changes.
const FORMAT: u32 = 2;

/// A snapshot that cannot be resumed, and why.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SnapshotError {
    /// The bytes do not start with a snapshot's marker, or are too short to
    /// hold one.
    #[error("these bytes are not an Upstream replicate snapshot")]
    NotASnapshot,
    /// Written by another version of Upstream or in another format.
    #[error(
        "the snapshot was written by Upstream {written} (format {format}); this is Upstream {}, which reads format {FORMAT}",
        env!("CARGO_PKG_VERSION")
    )]
    Version {
        /// The version of Upstream that wrote it.
        written: String,
        /// The snapshot format it was written in.
        format: u32,
    },
    /// The bytes end before the state does.
    #[error("the snapshot is cut short")]
    Truncated,
    /// The checksum does not match the contents.
    #[error("the snapshot is damaged (its checksum does not match)")]
    Damaged,
    /// The scenario's shape (residents, neighbourhoods, services,
    /// interventions, metrics or months) differs from the snapshot's.
    #[error(
        "the snapshot has {snapshot} {what} but the scenario has {config}; a replicate resumes only under a scenario with the same population, horizon, services and interventions"
    )]
    Mismatch {
        /// What differs, such as "episode services".
        what: &'static str,
        /// How many the snapshot has.
        snapshot: u64,
        /// How many the scenario has.
        config: u64,
    },
    /// The snapshot's services or interventions are not the scenario's.
    #[error(
        "the snapshot's {what} are {snapshot} but the scenario's are {config}; a replicate resumes only under a scenario with the same services and interventions, in the same order (their budgets, places and effects may change)"
    )]
    Different {
        /// "services" or "interventions".
        what: &'static str,
        /// The snapshot's, with their kinds.
        snapshot: String,
        /// The scenario's, with their kinds.
        config: String,
    },
    /// The parts of the state do not agree with each other; what disagrees.
    #[error("the snapshot is inconsistent: {0}")]
    Inconsistent(String),
    /// The resumed state fails the invariants audit.
    #[error("the snapshot's state breaks an invariant: {0}")]
    Broken(#[from] BrokenInvariant),
}

/// Fixed-width little-endian values.
trait Plain: Copy {
    const SIZE: usize;
    fn put(self, out: &mut Vec<u8>);
    fn take(bytes: &[u8]) -> Self;
}

macro_rules! plain {
    ($($t:ty),*) => {$(
        impl Plain for $t {
            const SIZE: usize = std::mem::size_of::<$t>();
            fn put(self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.to_le_bytes());
            }
            fn take(bytes: &[u8]) -> Self {
                <$t>::from_le_bytes(bytes.try_into().expect("sized by the reader"))
            }
        }
    )*};
}
plain!(u8, u16, u32, u64, i64, f64);

struct Writer(Vec<u8>);

impl Writer {
    fn put<T: Plain>(&mut self, v: T) {
        v.put(&mut self.0);
    }
    fn list<T: Plain>(&mut self, v: &[T]) {
        self.put(v.len() as u64);
        for &x in v {
            x.put(&mut self.0);
        }
    }
}

struct Reader<'b> {
    bytes: &'b [u8],
}

impl Reader<'_> {
    fn take<T: Plain>(&mut self) -> Result<T, SnapshotError> {
        if self.bytes.len() < T::SIZE {
            return Err(SnapshotError::Truncated);
        }
        let (head, rest) = self.bytes.split_at(T::SIZE);
        self.bytes = rest;
        Ok(T::take(head))
    }
    fn list<T: Plain>(&mut self) -> Result<Vec<T>, SnapshotError> {
        let n = self.take::<u64>()?;
        // A damaged length must not ask for more memory than the bytes hold.
        if n > (self.bytes.len() / T::SIZE) as u64 {
            return Err(SnapshotError::Truncated);
        }
        (0..n).map(|_| self.take()).collect()
    }
}

/// A 64-bit checksum of the body, from the engine's own mixing function.
fn checksum(body: &[u8]) -> u64 {
    let mut h = body.len() as u64;
    for chunk in body.chunks(8) {
        let mut word = [0u8; 8];
        word[..chunk.len()].copy_from_slice(chunk);
        h = mix64(h ^ u64::from_le_bytes(word));
    }
    h
}

/// What the snapshot's residents and records refer to by position: each
/// service's and intervention's id and kind, in order. A scenario that
/// resumes it must list the same, whatever it changes in their budgets,
/// places or effects.
fn identities(config: &Config) -> [(&'static str, String); 2] {
    let services = config
        .events
        .iter()
        .map(|e| format!("{} (event)", e.id))
        .chain(
            config
                .episodes
                .iter()
                .map(|e| format!("{} (episode, {:?})", e.id, e.unit)),
        );
    let interventions = config.interventions.iter().map(|i| {
        let kind = match &i.delivery {
            Delivery::Caseload { targeting, .. } => format!("caseload, {:?}", targeting.unit),
            Delivery::Assets { .. } => "assets".into(),
            Delivery::Places { service, .. } => format!("places in service {service}"),
        };
        format!("{} ({kind})", i.id)
    });
    [
        ("services", services.collect::<Vec<_>>().join(", ")),
        (
            "interventions",
            interventions.collect::<Vec<_>>().join(", "),
        ),
    ]
}

/// The shape a snapshot and a configuration must share, as (what, count).
fn shape(config: &Config, layout_len: usize) -> [(&'static str, u64); 8] {
    [
        ("residents", config.population.residents as u64),
        (
            "neighbourhoods",
            config.population.neighbourhoods.len() as u64,
        ),
        ("event services", config.events.len() as u64),
        ("episode services", config.episodes.len() as u64),
        ("interventions", config.interventions.len() as u64),
        ("metrics a month", layout_len as u64),
        ("months of horizon", config.months as u64),
        ("months of burn-in", config.burn_in_months as u64),
    ]
}

/// What a replicate's state holds that cannot be derived from its
/// residents: read from a snapshot, or copied at the end of a burn-in.
struct State {
    seed: u64,
    replicate: u32,
    t: u32,
    population: Population,
    /// Each episode service's places and waiting list.
    episodes: Vec<(u32, VecDeque<(u32, u16)>)>,
    places_added: Vec<u32>,
    asset_capacity: Vec<f64>,
    shock: [f64; RISK_FACTORS],
    raw: Vec<i64>,
    neighbourhoods: Vec<[i64; Nb::COUNT]>,
    turnover: Turnover,
    start_occupied: [u64; 2],
}

impl<'a> Engine<'a> {
    /// The replicate's whole state, to resume later with [`Engine::resume`].
    pub fn snapshot(&self) -> Vec<u8> {
        let mut w = Writer(Vec::new());
        w.0.extend_from_slice(MAGIC);
        w.put(FORMAT);
        w.list(env!("CARGO_PKG_VERSION").as_bytes());
        for (_, n) in shape(self.config, self.layout.len()) {
            w.put(n);
        }
        for (_, ids) in identities(self.config) {
            w.list(ids.as_bytes());
        }
        w.put(self.seed);
        w.put(self.replicate);
        w.put(self.t);
        let res = &self.population.residents;
        w.list(&res.age);
        w.list(&res.need);
        w.list(&res.flags);
        w.list(&res.household);
        w.list(&res.arrival);
        w.list(&res.episode);
        w.list(&res.episode_left);
        w.list(&res.touched);
        w.list(&res.intervention);
        w.list(&res.intervention_months);
        w.list(&self.population.households.start);
        w.list(&self.population.households.neighbourhood);
        w.list(&self.population.neighbourhood_start);
        for e in &self.episodes {
            w.put(e.capacity);
            let (slots, arrivals): (Vec<u32>, Vec<u16>) = e.queue.iter().copied().unzip();
            w.list(&slots);
            w.list(&arrivals);
        }
        w.list(&self.places_added);
        w.list(&self.asset_capacity);
        for f in self.tables.shock {
            w.put(f);
        }
        w.list(&self.raw);
        let nb: Vec<i64> = self.neighbourhoods.iter().flatten().copied().collect();
        w.list(&nb);
        let tv = &self.turnover;
        for v in [
            tv.start,
            tv.births,
            tv.moves_in,
            tv.deaths,
            tv.moves_out,
            tv.end,
        ] {
            w.put(v);
        }
        for v in self.start_occupied {
            w.put(v);
        }
        let sum = checksum(&w.0);
        w.put(sum);
        w.0
    }

    /// Resumes a replicate from [`Engine::snapshot`] under `config`: the
    /// scenario it was taken under, or one that differs only from the month
    /// it resumes at on (see the module's doc). The next [`Engine::step`]
    /// simulates the month after the snapshot's.
    pub fn resume(config: &'a Config, bytes: &[u8]) -> Result<Engine<'a>, SnapshotError> {
        if bytes.len() < MAGIC.len() + 8 || !bytes.starts_with(MAGIC) {
            return Err(SnapshotError::NotASnapshot);
        }
        let (body, sum) = bytes.split_at(bytes.len() - 8);
        let mut r = Reader {
            bytes: &body[MAGIC.len()..],
        };
        if checksum(body) != u64::from_le_bytes(sum.try_into().expect("eight bytes")) {
            return Err(SnapshotError::Damaged);
        }
        let format: u32 = r.take()?;
        let written = String::from_utf8_lossy(&r.list::<u8>()?).into_owned();
        if format != FORMAT || written != env!("CARGO_PKG_VERSION") {
            return Err(SnapshotError::Version { written, format });
        }
        let layout_len = crate::metrics::Layout::new(config).len();
        for (what, n) in shape(config, layout_len) {
            let snapshot: u64 = r.take()?;
            if snapshot != n {
                return Err(SnapshotError::Mismatch {
                    what,
                    snapshot,
                    config: n,
                });
            }
        }
        for (what, config_ids) in identities(config) {
            let snapshot = String::from_utf8_lossy(&r.list::<u8>()?).into_owned();
            if snapshot != config_ids {
                return Err(SnapshotError::Different {
                    what,
                    snapshot,
                    config: config_ids,
                });
            }
        }
        let seed: u64 = r.take()?;
        let replicate: u32 = r.take()?;
        let t: u32 = r.take()?;
        let residents = Residents {
            age: r.list()?,
            need: r.list()?,
            flags: r.list()?,
            household: r.list()?,
            arrival: r.list()?,
            episode: r.list()?,
            episode_left: r.list()?,
            touched: r.list()?,
            intervention: r.list()?,
            intervention_months: r.list()?,
        };
        let population = Population {
            residents,
            households: Households {
                start: r.list()?,
                neighbourhood: r.list()?,
            },
            neighbourhood_start: r.list()?,
        };
        check_population(config, &population)?;
        let mut episodes: Vec<(u32, VecDeque<(u32, u16)>)> =
            Vec::with_capacity(config.episodes.len());
        for _ in 0..config.episodes.len() {
            let capacity: u32 = r.take()?;
            let slots: Vec<u32> = r.list()?;
            let arrivals: Vec<u16> = r.list()?;
            if slots.len() != arrivals.len()
                || slots
                    .iter()
                    .any(|&s| s as usize >= population.residents.len())
            {
                return Err(SnapshotError::Inconsistent(
                    "a waiting list names no resident".into(),
                ));
            }
            episodes.push((capacity, slots.into_iter().zip(arrivals).collect()));
        }
        let places_added: Vec<u32> = r.list()?;
        let asset_capacity: Vec<f64> = r.list()?;
        let mut shock = [1.0; RISK_FACTORS];
        for f in &mut shock {
            *f = r.take()?;
        }
        let raw: Vec<i64> = r.list()?;
        let nb: Vec<i64> = r.list()?;
        let mut tv = [0u64; 6];
        for v in &mut tv {
            *v = r.take()?;
        }
        let start_occupied: [u64; 2] = [r.take()?, r.take()?];
        if !r.bytes.is_empty() {
            return Err(SnapshotError::Inconsistent(
                "bytes follow the end of the state".into(),
            ));
        }
        let k = Nb::COUNT;
        if nb.len() != config.population.neighbourhoods.len() * k {
            return Err(SnapshotError::Inconsistent(
                "its months, records and lists do not agree".into(),
            ));
        }
        let state = State {
            seed,
            replicate,
            t,
            population,
            episodes,
            places_added,
            asset_capacity,
            shock,
            raw,
            neighbourhoods: nb
                .chunks(k)
                .map(|c| c.try_into().expect("chunks of k"))
                .collect(),
            turnover: Turnover {
                start: tv[0],
                births: tv[1],
                moves_in: tv[2],
                deaths: tv[3],
                moves_out: tv[4],
                end: tv[5],
            },
            start_occupied,
        };
        Engine::from_state(config, state)
    }

    /// The replicate as it stands at the end of its burn-in, carried on
    /// under `config`, a scenario that runs the same burn-in
    /// ([`Config::shares_burn_in_with`]): running it on gives the same
    /// numbers, byte for byte, as `config` run from the start, without
    /// simulating its burn-in again. Residents in a programme keep it, found
    /// in `config` by its id.
    ///
    /// # Panics
    /// If the burn-in is not yet done or already over, or `config` does not
    /// share it: the caller's rule, not the data, is then wrong.
    pub fn carry_on<'b>(&self, config: &'b Config) -> Engine<'b>
    where
        'a: 'b,
    {
        assert!(
            self.t == self.config.burn_in_months && self.config.shares_burn_in_with(config),
            "a burn-in is carried only into a scenario that shares it, at its end"
        );
        // Where each of this scenario's interventions sits in `config`; a
        // programme that acts in burn-in is in both.
        let to: Vec<u8> = self
            .config
            .interventions
            .iter()
            .map(|i| {
                config
                    .interventions
                    .iter()
                    .position(|j| j.id == i.id)
                    .map_or(0, |j| j as u8 + 1)
            })
            .collect();
        let mut population = self.population.clone();
        for b in &mut population.residents.intervention {
            let i = *b & iv::INDEX;
            if i != 0 {
                let j = to[i as usize - 1];
                assert!(
                    j != 0,
                    "a resident's programme acts in burn-in, so both scenarios have it"
                );
                *b = (*b & !iv::INDEX) | j;
            }
        }
        // Homes are bought from month 1 only, so none are owed to anyone yet.
        assert!(
            self.places_added.iter().all(|&n| n == 0),
            "no places are bought in burn-in"
        );
        let places_added = vec![0; config.interventions.len()];
        let state = State {
            seed: self.seed,
            replicate: self.replicate,
            t: self.t,
            population,
            episodes: self
                .episodes
                .iter()
                .map(|e| (e.capacity, e.queue.clone()))
                .collect(),
            places_added,
            asset_capacity: self.asset_capacity.clone(),
            shock: self.tables.shock,
            raw: self.raw.clone(),
            neighbourhoods: self.neighbourhoods.clone(),
            turnover: self.turnover,
            start_occupied: self.start_occupied,
        };
        Engine::from_state(config, state)
            .expect("a running replicate's state passes its own checks")
            .with_workers(self.workers)
    }

    /// An engine around `state`, once its parts are checked against each
    /// other and `config`, with every running total recounted and the audit
    /// passed.
    fn from_state(config: &'a Config, state: State) -> Result<Engine<'a>, SnapshotError> {
        let State {
            seed,
            replicate,
            t,
            population,
            episodes,
            places_added,
            asset_capacity,
            shock,
            raw,
            neighbourhoods,
            turnover,
            start_occupied,
        } = state;
        let layout_len = crate::metrics::Layout::new(config).len();
        let recorded = t.saturating_sub(config.burn_in_months) as usize;
        let n_neigh = config.population.neighbourhoods.len();
        if t > config.burn_in_months + config.months
            || raw.len() != recorded * layout_len
            || neighbourhoods.len() != n_neigh
            || places_added.len() != config.interventions.len()
            || asset_capacity.len() != n_neigh
            || episodes.len() != config.episodes.len()
        {
            return Err(SnapshotError::Inconsistent(
                "its months, records and lists do not agree".into(),
            ));
        }

        // Places an intervention added are part of its service's capacity,
        // and are taken off again when it adds fewer.
        let mut added = vec![0u64; config.episodes.len()];
        for (iv, &n) in config.interventions.iter().zip(&places_added) {
            match iv.delivery {
                Delivery::Places { service, .. } => added[service] += n as u64,
                _ if n != 0 => {
                    return Err(SnapshotError::Inconsistent(
                        "places are added by an intervention that adds none".into(),
                    ));
                }
                _ => {}
            }
        }
        if added
            .iter()
            .zip(&episodes)
            .any(|(a, (capacity, _))| *a > *capacity as u64)
        {
            return Err(SnapshotError::Inconsistent(
                "a service has fewer places than its interventions added".into(),
            ));
        }

        let mut engine = Engine::assemble(config, seed, replicate, population, shock);
        engine.t = t;
        engine.raw.extend_from_slice(&raw);
        engine.neighbourhoods = neighbourhoods;
        engine.turnover = turnover;
        engine.start_occupied = start_occupied;
        engine.places_added = places_added;
        engine.asset_capacity = asset_capacity;
        for (es, (capacity, queue)) in engine.episodes.iter_mut().zip(episodes) {
            es.capacity = capacity;
            es.queue = queue;
        }
        engine.recount();
        engine.check_invariants()?;
        Ok(engine)
    }

    /// Sets the running totals that the residents' records determine:
    /// occupancy, spot places and waiting by service, caseloads, and
    /// connected residents by neighbourhood.
    fn recount(&mut self) {
        let res = &self.population.residents;
        for r in 0..res.len() {
            let f = res.flags[r];
            let e = res.episode[r];
            if e != 0 {
                let es = &mut self.episodes[e as usize - 1];
                if f & flag::WAITING != 0 {
                    es.waiting += 1;
                } else if f & flag::SPOT != 0 {
                    es.spot += 1;
                } else {
                    es.in_house += 1;
                }
            }
            let ivb = res.intervention[r];
            if ivb & iv::CASE_HOLDER != 0 {
                self.caseloads[(ivb & iv::INDEX) as usize - 1].cases += 1;
            }
            if f & flag::CONNECTED != 0 {
                let h = res.household[r] as usize;
                self.connected[self.population.households.neighbourhood[h] as usize] += 1;
            }
        }
    }
}

/// Checks what the engine indexes by before it trusts the population: every
/// index in range and every range in order, so that a snapshot, however
/// damaged, is refused rather than followed out of bounds.
fn check_population(config: &Config, p: &Population) -> Result<(), SnapshotError> {
    let res = &p.residents;
    let n = res.len();
    let hh = &p.households;
    let bad = |what: &str| Err(SnapshotError::Inconsistent(what.into()));
    let columns = [
        res.need.len(),
        res.flags.len(),
        res.household.len(),
        res.arrival.len(),
        res.episode.len(),
        res.episode_left.len(),
        res.touched.len(),
        res.intervention.len(),
        res.intervention_months.len(),
    ];
    // A declared trend adds empty slots to the residents.
    let slots_fit = match config.population.trend {
        None => n == config.population.residents as usize,
        Some(_) => n >= config.population.residents as usize,
    };
    if !slots_fit || columns.iter().any(|&c| c != n) || hh.start.len() != hh.neighbourhood.len() + 1
    {
        return bad("its residents' columns differ in length");
    }
    if hh.start.first() != Some(&0)
        || hh.start.last() != Some(&(n as u32))
        || hh.start.windows(2).any(|w| w[0] >= w[1])
    {
        return bad("its households do not cover the residents in order");
    }
    let n_neigh = config.population.neighbourhoods.len();
    let ns = &p.neighbourhood_start;
    if ns.len() != n_neigh + 1
        || ns.first() != Some(&0)
        || ns.last() != Some(&(hh.neighbourhood.len() as u32))
        || ns.windows(2).any(|w| w[0] > w[1])
    {
        return bad("its neighbourhoods do not cover the households in order");
    }
    for n in 0..n_neigh {
        if p.neighbourhood_households(n)
            .any(|h| hh.neighbourhood[h] as usize != n)
        {
            return bad("a household is filed under the wrong neighbourhood");
        }
    }
    // A summary byte counts a household's adults in crisis in a u8.
    if hh.start.windows(2).any(|w| w[1] - w[0] > u8::MAX as u32) {
        return bad("a household has more members than a household can");
    }
    let episodes = config.episodes.len();
    let interventions = config.interventions.len();
    for r in 0..n {
        // Support counts down a month at a time and ends at zero.
        if res.intervention[r] & iv::SUPPORT != 0 && res.intervention_months[r] == 0 {
            return bad("a resident is supported with no months of support left");
        }
        if res.household[r] as usize >= hh.neighbourhood.len()
            || res.episode[r] as usize > episodes
            || (res.intervention[r] & iv::INDEX) as usize > interventions
            || (res.intervention[r] != 0 && res.intervention[r] & iv::INDEX == 0)
            || (res.age[r] > crate::model::MAX_AGE && !is_vacant(res.age[r]))
        {
            return bad("a resident refers to something that does not exist");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `bytes` with the value at `at` replaced and the checksum made good
    /// again, as a snapshot written with that state would be.
    fn forged(bytes: &[u8], at: usize, value: u8) -> Vec<u8> {
        let mut b = bytes[..bytes.len() - 8].to_vec();
        b[at] = value;
        let sum = checksum(&b);
        b.extend_from_slice(&sum.to_le_bytes());
        b
    }

    /// Every rule of a population's shape refuses a population that breaks
    /// it alone, and a whole population passes them all.
    #[test]
    fn each_broken_rule_of_a_populations_shape_is_refused() {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/small_hubs.toml");
        let config = crate::scenario::load(&path).unwrap().config;
        let mut engine = Engine::new(&config, 1, 0);
        engine.run_to(2);
        let good = engine.population().clone();
        assert!(check_population(&config, &good).is_ok());
        let last = good.residents.len() - 1;
        type Forgery = fn(&mut Population, usize);
        let forgeries: [(&str, &str, Forgery); 18] = [
            ("a column one short", "columns differ", |p, _| {
                p.residents.touched.pop();
            }),
            ("one resident too many", "columns differ", |p, _| {
                p.residents.age.push(30);
            }),
            (
                "households' starts one too many",
                "columns differ",
                |p, _| {
                    p.households.start.insert(1, 0);
                },
            ),
            (
                "households not starting at 0",
                "households do not cover",
                |p, _| p.households.start[0] = 1,
            ),
            (
                "households not ending at the last resident",
                "households do not cover",
                |p, _| *p.households.start.last_mut().unwrap() -= 1,
            ),
            ("an empty household", "households do not cover", |p, _| {
                p.households.start[1] = p.households.start[0]
            }),
            (
                "neighbourhoods' starts one too many",
                "neighbourhoods do not cover",
                |p, _| {
                    p.neighbourhood_start.push(0);
                },
            ),
            (
                "neighbourhoods not starting at 0",
                "neighbourhoods do not cover",
                |p, _| p.neighbourhood_start[0] = 1,
            ),
            (
                "neighbourhoods not ending at the last household",
                "neighbourhoods do not cover",
                |p, _| *p.neighbourhood_start.last_mut().unwrap() -= 1,
            ),
            (
                "neighbourhoods out of order",
                "neighbourhoods do not cover",
                |p, _| p.neighbourhood_start[1] = p.neighbourhood_start[2] + 1,
            ),
            (
                "a household in the wrong neighbourhood",
                "wrong neighbourhood",
                |p, _| p.households.neighbourhood[0] = 1,
            ),
            ("a household too big to count", "more members", |p, _| {
                // The last 300 residents or so made one household.
                let n = p.residents.len() as u32;
                let h = &mut p.households;
                let j = h.start.iter().rposition(|&s| s <= n - 300).unwrap();
                h.start.truncate(j + 1);
                h.start.push(n);
                h.neighbourhood.truncate(j + 1);
                for x in p.neighbourhood_start.iter_mut() {
                    *x = (*x).min(j as u32 + 1);
                }
            }),
            (
                "support with no months left",
                "no months of support",
                |p, r| {
                    p.residents.intervention[r] = iv::SUPPORT | 1;
                    p.residents.intervention_months[r] = 0;
                },
            ),
            (
                "a household that does not exist",
                "does not exist",
                |p, r| p.residents.household[r] = p.households.neighbourhood.len() as u32,
            ),
            ("a service that does not exist", "does not exist", |p, r| {
                p.residents.episode[r] = 4
            }),
            (
                "an intervention that does not exist",
                "does not exist",
                |p, r| p.residents.intervention[r] = 3,
            ),
            (
                "an intervention state with no intervention",
                "does not exist",
                |p, r| {
                    p.residents.intervention[r] = iv::SUPPORT;
                    p.residents.intervention_months[r] = 3;
                },
            ),
            ("an age beyond the oldest", "does not exist", |p, r| {
                p.residents.age[r] = crate::model::MAX_AGE + 1
            }),
        ];
        for (what, why, forge) in forgeries {
            for r in [0, last] {
                let mut p = good.clone();
                forge(&mut p, r);
                match check_population(&config, &p) {
                    Err(SnapshotError::Inconsistent(e)) if e.contains(why) => {}
                    other => panic!("{what} (resident {r}): {other:?}, not \"{why}\""),
                }
            }
        }
    }

    #[test]
    fn a_well_formed_snapshot_of_an_impossible_state_is_refused_not_followed() {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/small.toml");
        let config = crate::scenario::load(&path).unwrap().config;
        let mut engine = Engine::new(&config, 1, 0);
        engine.run_to(2);
        let bytes = engine.snapshot();
        // The first resident's columns follow the header: magic, format,
        // version, shape, the services' and interventions' ids, seed,
        // replicate and months run.
        let version = env!("CARGO_PKG_VERSION").len();
        let ids: usize = identities(&config).iter().map(|(_, s)| 8 + s.len()).sum();
        let ages = 8 + 4 + 8 + version + 8 * 8 + ids + 8 + 4 + 4;
        let n = config.population.residents as usize;
        let first = |column: usize| ages + column * (8 + n) + 8;
        assert_eq!(bytes[ages..ages + 8], (n as u64).to_le_bytes());
        assert!(Engine::resume(&config, &forged(&bytes, first(0), bytes[first(0)])).is_ok());
        // Need, the second column, at level 7.
        let e = Engine::resume(&config, &forged(&bytes, first(1), 7))
            .err()
            .unwrap();
        assert!(
            matches!(e, SnapshotError::Broken(BrokenInvariant::NeedLevel(0, 7))),
            "{e}"
        );
        // Episode, the sixth byte column after household (4 bytes) and
        // arrival (2 bytes): a service that does not exist.
        let episode = ages + 3 * (8 + n) + (8 + 4 * n) + (8 + 2 * n) + 8;
        let e = Engine::resume(&config, &forged(&bytes, episode, 200))
            .err()
            .unwrap();
        assert!(matches!(e, SnapshotError::Inconsistent(_)), "{e}");
        // Supported (the intervention byte, the ninth column, after months
        // left and services touched, two bytes each) with no months of
        // support left (the tenth column).
        let intervention = episode + n + 2 * (8 + 2 * n) + 8;
        let months = intervention + n + 8;
        let supported = forged(&bytes, intervention, iv::SUPPORT | 1);
        let no_months = forged(&supported, months, 0);
        let no_months = forged(&no_months, months + 1, 0);
        let e = Engine::resume(&config, &no_months).err().unwrap();
        assert!(matches!(e, SnapshotError::Inconsistent(_)), "{e}");
    }
}
