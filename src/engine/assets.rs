//! Community assets: each neighbourhood's places (connected residents) grow
//! towards what is funded and decline slowly when funding stops; residents
//! connect while places are free and disconnect faster when a
//! neighbourhood holds more connected residents than places.

use super::Engine;
use crate::model::population::{Population, is_vacant};
use crate::model::{AssetSpec, Config, Delivery, by_year};
use crate::rng::threshold;

/// Each neighbourhood's places at the start: its base places per 1,000
/// residents.
pub(super) fn starting_places(config: &Config, population: &Population) -> Vec<f64> {
    (0..config.population.neighbourhoods.len())
        .map(|n| {
            let residents = population
                .neighbourhood_residents(n)
                .filter(|&r| !is_vacant(population.residents.age[r]))
                .count() as f64;
            config.assets.base_places_per_1000 * residents / 1000.0
        })
        .collect()
}

impl Engine<'_> {
    pub(super) fn update_assets(&mut self, m: i64) {
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
}

/// This month's chance that a connected resident disconnects, as a threshold:
/// the base rate, plus enough to shed the excess over the places there are.
pub(super) fn disconnect_threshold(connected: u32, places: u32, base: f64) -> u32 {
    let over = connected.saturating_sub(places);
    let p = if connected > 0 {
        base + (1.0 - base) * over as f64 / connected as f64
    } else {
        base
    };
    threshold(p)
}

/// The chance a resident who is not connected connects this month, as a
/// threshold, for residents without and with the isolation risk factor.
pub(super) fn connect_thresholds(assets: &AssetSpec) -> [u32; 2] {
    [
        threshold(1.0 - (-assets.connect_per_month).exp()),
        threshold(1.0 - (-assets.connect_per_month * assets.isolated_uptake_multiplier).exp()),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Connected residents beyond the places leave at once in expectation:
    /// of `c` connected, `(1 − p)·c` stay, which must be the base rate's
    /// share of those the places can hold, `(1 − base)·min(c, places)`.
    #[test]
    fn the_excess_over_the_places_disconnects_in_expectation() {
        for base in [0.0, 0.02, 0.3] {
            for connected in [0u32, 1, 7, 40, 1000] {
                for places in [0u32, 1, 6, 40, 2000] {
                    let p = disconnect_threshold(connected, places, base) as f64 / 4_294_967_296.0;
                    let stay = (1.0 - p) * connected as f64;
                    let expect = (1.0 - base) * connected.min(places) as f64;
                    assert!(
                        (stay - expect).abs() <= 1e-6 * connected.max(1) as f64,
                        "{connected} connected, {places} places, base {base}: {stay} stay, not {expect}"
                    );
                }
            }
        }
        assert_eq!(disconnect_threshold(0, 5, 0.25), threshold(0.25));
    }
}
