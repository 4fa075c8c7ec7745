//! Reactive services with places (episode services): capacity, in-house and
//! spot places, first-come-first-served waiting lists, places added by an
//! intervention, and how long an episode lasts. Event services need no state
//! of their own: the residents' pass counts their contacts.

use std::collections::VecDeque;

use rand_distr::{Distribution, LogNormal};

use super::{Engine, NB_ENTRIES};
use crate::model::population::flag;
use crate::model::{Config, Delivery, Duration, MAX_SERVICES, Overflow, by_year};
use crate::rng::{Purpose, Stream};

/// Live state of an episode service.
#[derive(Clone, Debug, Default)]
pub(super) struct EpisodeState {
    pub(super) capacity: u32,
    /// In-house places lost this month to a provider failure: no one new
    /// takes one. Worked out afresh each month from the configuration.
    pub(super) lost: u32,
    pub(super) in_house: u32,
    pub(super) spot: u32,
    pub(super) waiting: u32,
    pub(super) queue: VecDeque<(u32, u16)>,
}

/// The log-normal length-of-stay distribution of each episode service that
/// has one, built once a run.
pub(super) fn lognormals(config: &Config) -> Vec<Option<LogNormal<f64>>> {
    config
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
        .collect()
}

impl Engine<'_> {
    pub(super) fn update_places(&mut self, m: i64) {
        for (i, iv) in self.config.interventions.iter().enumerate() {
            if let Delivery::Places {
                service,
                places_by_year,
                capital_cost_per_place_pence,
                ..
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
        for (e, ep) in self.episodes.iter_mut().enumerate() {
            let share: f64 = self
                .config
                .provider_failures
                .iter()
                .filter(|f| f.service == e && f.acts_in(m))
                .map(|f| f.places_lost)
                .sum();
            ep.lost = (ep.capacity as f64 * share.min(1.0)).floor() as u32;
        }
    }

    /// Places of episode service `e` that can take someone new: in-house
    /// places not lost to a provider failure.
    pub(super) fn open_places(&self, e: usize) -> u32 {
        self.episodes[e].capacity - self.episodes[e].lost
    }

    pub(super) fn admit_from_queues(&mut self) {
        let t = self.t;
        for e in 0..self.episodes.len() {
            if self.config.episodes[e].overflow != Overflow::Queue {
                continue;
            }
            while self.episodes[e].in_house < self.open_places(e) {
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
}

/// Episode lengths, borrowed apart from the engine's mutable state.
pub(super) struct DurationDraw<'a> {
    pub(super) config: &'a Config,
    pub(super) lognormal: &'a [Option<LogNormal<f64>>],
}

impl DurationDraw<'_> {
    pub(super) fn draw(&self, e: usize, rng: &mut Stream, multiplier: f64) -> u16 {
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
pub(super) fn poisson_given_at_least_one(lambda: f64, u: u32) -> u32 {
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

pub(super) fn pick_weighted(weights: &[f64; MAX_SERVICES], total: f64, u: f64) -> usize {
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
}
