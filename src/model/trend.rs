//! A declared trend: the place's residents by age band, year by year, as a
//! population projection gives them (ONS subnational projections, say). Only
//! each band's change from the first year is used, so a projection for a
//! whole county can drive a place of any size; the first row is the place at
//! the start, each later row one year on, and after the last row the place
//! holds steady.

use super::MAX_AGE;

const AGES: usize = MAX_AGE as usize + 1;

/// Residents by age band at the start of each scenario year.
#[derive(Clone, Debug, PartialEq)]
pub struct Trend {
    /// The first age of each band, increasing from 0.
    pub band_starts: Vec<u8>,
    /// `residents[y][b]`: residents in band `b` at the start of scenario
    /// year `y + 1` (row 0 is the start). Every entry is positive.
    pub residents: Vec<Vec<f64>>,
}

impl Trend {
    /// Rows in the table: the start and the years after it.
    pub fn years(&self) -> usize {
        self.residents.len()
    }

    /// Residents at each age at the start of scenario year `year + 1`, per
    /// resident of that age at the start; held at the last row after it.
    pub fn index(&self, year: usize) -> [f64; AGES] {
        let row = &self.residents[year.min(self.years() - 1)];
        let first = &self.residents[0];
        std::array::from_fn(|a| {
            let b = self
                .band_starts
                .iter()
                .rposition(|&s| a >= s as usize)
                .unwrap_or(0);
            row[b] / first[b]
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_age_takes_its_bands_change_and_the_last_row_holds() {
        let t = Trend {
            band_starts: vec![0, 18, 65],
            residents: vec![vec![100.0, 500.0, 200.0], vec![110.0, 500.0, 250.0]],
        };
        let first = t.index(0);
        assert!(first.iter().all(|&x| x == 1.0));
        let next = t.index(1);
        assert_eq!(next[0], 1.1);
        assert_eq!(next[17], 1.1);
        assert_eq!(next[18], 1.0);
        assert_eq!(next[64], 1.0);
        assert_eq!(next[65], 1.25);
        assert_eq!(next[MAX_AGE as usize], 1.25);
        assert_eq!(t.index(7), next);
    }
}
