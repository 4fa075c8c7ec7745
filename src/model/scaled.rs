//! A place simulated at a fraction of its size: one simulated resident
//! standing for `k` (as Covasim's population scaling does), for runs of
//! many draws where a resident-level run of the whole place would take too
//! long.
//!
//! Every rate, share, unit cost and multiplier is the place's own; every
//! amount that grows with the place (residents, places, budgets, caseloads,
//! the top-N of a risk ranking) is divided by `k` and rounded where it
//! counts whole things. The engine then simulates a place `k` times
//! smaller, and each recorded count and pound is multiplied by `k` (as
//! the metrics' `Series::from_raw` reads [`Config::stands_for`]), so every
//! figure is for the whole place. What scaling costs is chance: `k` residents who share one
//! life move together, so a replicate's counts spread about `√k` times as
//! far, and amounts rounded to whole places stand a little off the place's
//! own (see [`Scaled::rounded_share`]).

use super::{Config, Delivery};

/// Why a place cannot be scaled.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ScaleError {
    /// A place given resident by resident has no synthesis to scale.
    #[error(
        "the place is given resident by resident (a starting population), so it cannot be simulated at a fraction of its size; run it whole"
    )]
    GivenResidentByResident,
    /// A neighbourhood would be left with nobody.
    #[error(
        "neighbourhood {name} has {residents} residents, fewer than the {k} one simulated resident would stand for"
    )]
    TooSmall {
        /// The neighbourhood's name.
        name: String,
        /// Its residents.
        residents: u32,
        /// Residents one simulated resident would stand for.
        k: u32,
    },
}

/// A scaled place and how far its whole-number amounts moved in rounding.
#[derive(Clone, Debug)]
pub struct Scaled {
    /// The place, `k` times smaller, with `stands_for` set to `k`.
    pub config: Config,
    /// Of every amount counted in whole places or cases (capacities,
    /// funded places, caseloads), the largest share by which `k` times the
    /// rounded amount differs from the place's own (0 where none).
    pub rounded_share: f64,
}

impl Config {
    /// This place with one simulated resident standing for `k`. `k = 1`
    /// is the place itself.
    pub fn standing_for(&self, k: u32) -> Result<Scaled, ScaleError> {
        let mut c = self.clone();
        if k <= 1 {
            return Ok(Scaled {
                config: c,
                rounded_share: 0.0,
            });
        }
        if c.population.starting.is_some() {
            return Err(ScaleError::GivenResidentByResident);
        }
        let kf = k as f64;
        for n in &mut c.population.neighbourhoods {
            if n.residents < k {
                return Err(ScaleError::TooSmall {
                    name: n.name.clone(),
                    residents: n.residents,
                    k,
                });
            }
            n.residents = (n.residents as f64 / kf).round() as u32;
        }
        c.population.residents = c
            .population
            .neighbourhoods
            .iter()
            .map(|n| n.residents)
            .sum();
        let mut worst = 0.0f64;
        let mut whole = |v: &mut u32| {
            let was = *v as f64;
            *v = (was / kf).round() as u32;
            if was > 0.0 {
                worst = worst.max((*v as f64 * kf - was).abs() / was);
            }
        };
        for e in &mut c.episodes {
            whole(&mut e.capacity);
        }
        for iv in &mut c.interventions {
            for p in &mut iv.monthly_spend_by_year {
                *p = (*p as f64 / kf).round() as i64;
            }
            match &mut iv.delivery {
                Delivery::Caseload {
                    places_by_year,
                    burn_in_places,
                    targeting,
                    ..
                } => {
                    places_by_year.iter_mut().for_each(&mut whole);
                    whole(burn_in_places);
                    if let Some(n) = &mut targeting.risk_top_n {
                        // At least one: a ranking of nobody offers nothing.
                        whole(n);
                        *n = (*n).max(1);
                    }
                }
                Delivery::Assets { places_by_year, .. } => {
                    places_by_year.iter_mut().for_each(|p| *p /= kf);
                }
                Delivery::Places { places_by_year, .. } => {
                    places_by_year.iter_mut().for_each(&mut whole);
                }
            }
        }
        c.stands_for = k;
        Ok(Scaled {
            config: c,
            rounded_share: worst,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn load(file: &str) -> Config {
        crate::scenario::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join(file))
            .expect("loads")
            .config
    }

    /// Amounts that count whole things, in a fixed order.
    fn counted(c: &Config) -> Vec<u32> {
        let mut out: Vec<u32> = c.episodes.iter().map(|e| e.capacity).collect();
        for iv in &c.interventions {
            match &iv.delivery {
                Delivery::Caseload {
                    places_by_year,
                    burn_in_places,
                    ..
                } => {
                    out.extend(places_by_year);
                    out.push(*burn_in_places);
                }
                Delivery::Places { places_by_year, .. } => out.extend(places_by_year),
                Delivery::Assets { .. } => {}
            }
        }
        out
    }

    #[test]
    fn one_resident_standing_for_one_is_the_place_itself() {
        let c = load("scenarios/prevention_portfolio.toml");
        let s = c.standing_for(1).unwrap();
        assert_eq!(s.config, c);
        assert_eq!(s.rounded_share, 0.0);
    }

    #[test]
    fn every_amount_that_grows_with_the_place_is_divided_and_every_rate_kept() {
        for file in [
            "scenarios/prevention_portfolio.toml",
            "scenarios/ta_acquisition.toml",
            "scenarios/community_fund.toml",
        ] {
            let c = load(file);
            let k = 4;
            let s = c.standing_for(k).unwrap();
            let d = &s.config;
            assert_eq!(d.stands_for, k);
            for (a, b) in c
                .population
                .neighbourhoods
                .iter()
                .zip(&d.population.neighbourhoods)
            {
                assert_eq!(b.residents, (a.residents as f64 / 4.0).round() as u32);
                assert_eq!((a.name.as_str(), a.decile), (b.name.as_str(), b.decile));
            }
            let sum: u32 = d
                .population
                .neighbourhoods
                .iter()
                .map(|n| n.residents)
                .sum();
            assert_eq!(d.population.residents, sum);
            let (whole, scaled) = (counted(&c), counted(d));
            assert!(!whole.is_empty(), "{file} counts places");
            let mut worst = 0.0f64;
            for (a, b) in whole.iter().zip(&scaled) {
                assert_eq!(*b, (*a as f64 / 4.0).round() as u32, "{file}");
                if *a > 0 {
                    worst = worst.max((*b as f64 * 4.0 - *a as f64).abs() / *a as f64);
                }
            }
            assert_eq!(s.rounded_share, worst, "{file}");
            for (a, b) in c.interventions.iter().zip(&d.interventions) {
                for (x, y) in a.monthly_spend_by_year.iter().zip(&b.monthly_spend_by_year) {
                    assert!(
                        (*y as f64 * 4.0 - *x as f64).abs() <= 2.0,
                        "{file}: {x} {y}"
                    );
                }
                if let (
                    Delivery::Assets {
                        places_by_year: x, ..
                    },
                    Delivery::Assets {
                        places_by_year: y, ..
                    },
                ) = (&a.delivery, &b.delivery)
                {
                    for (x, y) in x.iter().zip(y) {
                        assert!((y * 4.0 - x).abs() < 1e-9);
                    }
                }
            }
            // Rates, shares and unit costs are the place's own.
            let mut back = d.clone();
            back.population = c.population.clone();
            back.episodes = c.episodes.clone();
            back.interventions = c.interventions.clone();
            back.stands_for = 1;
            assert_eq!(back, c, "{file}: only sizes move");
        }
    }

    #[test]
    fn a_place_given_resident_by_resident_or_too_small_is_refused() {
        let c = load("tests/fixtures/every_field.toml");
        assert_eq!(
            c.standing_for(2).unwrap_err(),
            ScaleError::GivenResidentByResident
        );
        let mut c = load("scenarios/baseline.toml");
        c.population.neighbourhoods[3].residents = 5;
        let e = c.standing_for(6).unwrap_err();
        assert!(
            matches!(
                &e,
                ScaleError::TooSmall {
                    residents: 5,
                    k: 6,
                    ..
                }
            ),
            "{e}"
        );
        assert!(c.standing_for(5).is_ok());
    }
}
