//! The present held under parameter uncertainty: a draw of the uncertain
//! parameters keeps the place's present activity and moves only what
//! happens next.
//!
//! A place's present (its children in care, households in temporary
//! accommodation, A&E attendances a year) is recorded, or stated in the
//! scenario; the parameters that produce it (need hazards, rates, stays)
//! are uncertain. Drawn independently they make another place: a faster
//! escalation with the same entry rates puts more residents in crisis and
//! more children in care on the first day. As a demand model fixes its
//! baseline's activity from the place's data and draws only what changes,
//! each draw here has every service's rates scaled (one factor a service,
//! every need level alike, so the drawn pattern across levels is kept)
//! until its first year's activity is the stated scenario's: first from
//! the residents' own hazards at equilibrium
//! ([`crate::engine::expected_at_start`], cheap, but blind to households'
//! stress and community assets), then by simulating the draw's first year
//! ([`PILOT_ROUNDS`] times) against the stated scenario's, the two on the
//! same luck. What the draw still
//! moves is the mix of need behind that activity, how it changes over the
//! years, what a programme does to it and what it costs.

use crate::engine::{ExpectedAtStart, expected_at_start};
use crate::model::Config;
use crate::replicates::{self, RunSettings, ThreadPoolError};
use crate::rng::mix64;

/// Rounds of rescaling at most: occupancy rises a little less than in
/// proportion to entries, and services compete for the same residents, so
/// the scaling is repeated until every service is within [`CLOSE`].
const ROUNDS: usize = 8;

/// A scaled service is held once its expected activity is within this
/// share of the stated one.
const CLOSE: f64 = 1e-4;

/// What scaling a draw to the present did: one factor a service, by which
/// its rates at every need level were multiplied.
#[derive(Clone, Debug, PartialEq)]
pub struct Held {
    /// Each event service's id and factor on `rate_per_month`, in the
    /// config's order.
    pub events: Vec<(String, f64)>,
    /// Each episode service's id and factor on `entry_per_month`.
    pub episodes: Vec<(String, f64)>,
}

impl Held {
    /// Multiplies `config`'s rates by these factors, service by service
    /// (matched by id): another scenario of the same replicate takes its
    /// baseline's factors, so a policy that does nothing stays the
    /// baseline. A service the baseline does not have is left alone.
    pub fn apply(&self, config: &mut Config) {
        let factor = |held: &[(String, f64)], id: &str| {
            held.iter().find(|(s, _)| s == id).map_or(1.0, |(_, k)| *k)
        };
        for s in &mut config.events {
            let k = factor(&self.events, &s.id);
            s.rate_per_month = s.rate_per_month.map(|r| r * k);
        }
        for e in &mut config.episodes {
            let k = factor(&self.episodes, &e.id);
            e.entry_per_month = e.entry_per_month.map(|r| r * k);
        }
    }

    /// These factors multiplied by `then`'s, service by service.
    fn times(&mut self, then: &Held) {
        for (h, (_, k)) in self
            .events
            .iter_mut()
            .chain(&mut self.episodes)
            .zip(then.events.iter().chain(&then.episodes))
        {
            h.1 *= k;
        }
    }

    /// Every factor, events then episodes.
    fn factors(&self) -> impl Iterator<Item = f64> + '_ {
        self.events.iter().chain(&self.episodes).map(|(_, k)| *k)
    }
}

/// `want / now`, or 1 (no scaling) where either is nothing.
fn ratio(want: f64, now: f64) -> f64 {
    if want > 0.0 && now > 0.0 {
        want / now
    } else {
        1.0
    }
}

/// Scales `drawn`'s rates, service by service, until its expected activity
/// at the start is `present`'s (the stated scenario's
/// [`expected_at_start`]), and returns the factors used. A service with no
/// activity in either is left alone.
pub fn hold_at_start(present: &ExpectedAtStart, drawn: &mut Config) -> Held {
    let ids = |ids: Vec<&String>| ids.into_iter().map(|id| (id.clone(), 1.0)).collect();
    let mut held = Held {
        events: ids(drawn.events.iter().map(|s| &s.id).collect()),
        episodes: ids(drawn.episodes.iter().map(|e| &e.id).collect()),
    };
    for _ in 0..ROUNDS {
        let now = expected_at_start(drawn);
        let mut round = held.clone();
        for (s, (_, k)) in round.events.iter_mut().enumerate() {
            *k = ratio(present.contacts_per_month[s], now.contacts_per_month[s]);
        }
        for (e, (_, k)) in round.episodes.iter_mut().enumerate() {
            *k = ratio(present.occupancy[e], now.occupancy[e]);
        }
        if round.factors().all(|k| (k - 1.0).abs() < CLOSE) {
            break;
        }
        round.apply(drawn);
        held.times(&round);
    }
    held
}

/// Rounds of simulating each draw's first year and scaling it to the
/// stated one.
pub const PILOT_ROUNDS: usize = 2;

/// Where the pilot runs' random numbers come from: apart from the run's
/// own, so a draw's first year is not fitted to the very chance it then
/// meets. A draw's pilot and the stated scenario's meet the same chance
/// in the same replicate, so their ratio is the draw's own difference, and
/// a draw that moves no activity is left exactly as it is.
const PILOT_STREAM: u64 = 0x7072_6573_656e_7421;

/// The master seed of the pilot runs of a run at `seed`.
fn pilot_seed(seed: u64) -> u64 {
    mix64(seed ^ PILOT_STREAM)
}

/// A place's first year after its burn-in, averaged over replicates:
/// contacts a month with each event service, and residents in each
/// episode service on an average day.
#[derive(Clone, Debug, PartialEq)]
pub struct FirstYear {
    /// Contacts a month, by event service in the config's order.
    pub contacts_per_month: Vec<f64>,
    /// Residents (or households) in each episode service on an average day.
    pub occupancy: Vec<f64>,
}

/// The first year (after its burn-in) of `configs(r)` for replicates
/// `0..replicates`, each run once at `seed`: one [`FirstYear`] each.
fn first_years<'a>(
    configs: &(dyn Fn(u32) -> &'a Config + Sync),
    replicates: u32,
    seed: u64,
    threads: Option<usize>,
) -> Result<Vec<FirstYear>, ThreadPoolError> {
    let one_year: Vec<Config> = (0..replicates)
        .map(|r| {
            let mut c = configs(r).clone();
            c.months = c.months.min(12);
            c
        })
        .collect();
    let settings = RunSettings {
        replicates,
        seed,
        threads,
    };
    let config = |_: usize, r: u32| &one_year[r as usize];
    let part = replicates::run_part(1, &config, &settings, replicates::Shard::WHOLE, &|| {})?;
    let mut runs =
        replicates::assemble(1, &config, &settings, vec![part]).expect("one shard holds it all");
    let runs = runs.scenarios.remove(0);
    let lay = &runs.layout;
    Ok(runs
        .replicates
        .iter()
        .zip(&one_year)
        .map(|(r, c)| {
            let months = r.raw.len() / lay.len().max(1);
            // Counts for the whole place, as a series gives them.
            let per = months.max(1) as f64 / c.stands_for.max(1) as f64;
            let mut out = FirstYear {
                contacts_per_month: vec![0.0; c.events.len()],
                occupancy: vec![0.0; c.episodes.len()],
            };
            for m in r.raw.chunks(lay.len()) {
                for (s, x) in out.contacts_per_month.iter_mut().enumerate() {
                    *x += m[lay.event_count + s] as f64 / per;
                }
                for (e, x) in out.occupancy.iter_mut().enumerate() {
                    *x += m[lay.episode_occupancy + e] as f64 / per;
                }
            }
            out
        })
        .collect())
}

/// `config`'s first year after its burn-in, the mean of `replicates`
/// replicates at `seed`.
pub fn first_year(
    config: &Config,
    replicates: u32,
    seed: u64,
    threads: Option<usize>,
) -> Result<FirstYear, ThreadPoolError> {
    Ok(mean(
        &first_years(&|_| config, replicates, seed, threads)?,
        config,
    ))
}

/// The mean of `each`, first years of `config`.
fn mean(each: &[FirstYear], config: &Config) -> FirstYear {
    let n = each.len().max(1) as f64;
    let mut mean = FirstYear {
        contacts_per_month: vec![0.0; config.events.len()],
        occupancy: vec![0.0; config.episodes.len()],
    };
    for y in each {
        for (m, x) in mean
            .contacts_per_month
            .iter_mut()
            .zip(&y.contacts_per_month)
        {
            *m += x / n;
        }
        for (m, x) in mean.occupancy.iter_mut().zip(&y.occupancy) {
            *m += x / n;
        }
    }
    mean
}

/// What the stated scenario says of the present, for draws to be held to.
#[derive(Clone, Debug, PartialEq)]
pub struct Present {
    /// Its expected activity from the residents' own hazards.
    at_start: ExpectedAtStart,
    /// Its first year in each replicate of the pilot runs.
    each: Vec<FirstYear>,
    /// Its first year, the mean over the pilot runs' replicates.
    pub first_year: FirstYear,
}

impl Present {
    /// The present of the stated scenario `stated`: its residents' expected
    /// activity, and its first year in `replicates` replicates on streams
    /// apart from the run's (`seed`'s).
    pub fn of(
        stated: &Config,
        replicates: u32,
        seed: u64,
        threads: Option<usize>,
    ) -> Result<Present, ThreadPoolError> {
        let each = first_years(&|_| stated, replicates, pilot_seed(seed), threads)?;
        Ok(Present {
            at_start: expected_at_start(stated),
            first_year: mean(&each, stated),
            each,
        })
    }

    /// Holds every draw in `drawn` (replicate `r`'s at `drawn[r]`, as many
    /// as the present has replicates) at this present: scaled first by the
    /// residents' own hazards, then [`PILOT_ROUNDS`] times by its first
    /// year against the stated scenario's in the same pilot replicate.
    /// Returns each draw's factors.
    pub fn hold(
        &self,
        drawn: &mut [Config],
        seed: u64,
        threads: Option<usize>,
    ) -> Result<Vec<Held>, ThreadPoolError> {
        use rayon::prelude::*;
        assert_eq!(drawn.len(), self.each.len(), "one draw a replicate");
        // Each draw as drawn, to take the factors once at the end: every
        // scenario then meets the same arithmetic, and scenarios that share
        // a burn-in still do.
        let as_drawn = drawn.to_vec();
        let mut held: Vec<Held> = drawn
            .par_iter_mut()
            .map(|c| hold_at_start(&self.at_start, c))
            .collect();
        for _ in 0..PILOT_ROUNDS {
            let seen = first_years(
                &|r| &drawn[r as usize],
                drawn.len() as u32,
                pilot_seed(seed),
                threads,
            )?;
            for (((c, h), y), want) in drawn.iter_mut().zip(&mut held).zip(&seen).zip(&self.each) {
                let mut step = h.clone();
                for (s, (_, k)) in step.events.iter_mut().enumerate() {
                    *k = ratio(want.contacts_per_month[s], y.contacts_per_month[s]);
                }
                for (e, (_, k)) in step.episodes.iter_mut().enumerate() {
                    *k = ratio(want.occupancy[e], y.occupancy[e]);
                }
                step.apply(c);
                h.times(&step);
            }
        }
        for ((c, d), h) in drawn.iter_mut().zip(as_drawn).zip(&held) {
            *c = d;
            h.apply(c);
        }
        Ok(held)
    }
}
