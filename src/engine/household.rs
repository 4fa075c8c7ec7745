//! Each household's summary byte: its highest need, whether it has a child,
//! whether anyone in it is supported, its adults' highest need and how many
//! of its adults are in crisis. The residents' pass writes it as it leaves a
//! household, so enrolment can rule households out without reading their
//! members and the next month's pass knows the household's start-of-month
//! state (a synchronous update). `audit` checks it is never stale.

use crate::model::population::{Population, iv};

/// The bit of the packed summary that says someone in the household is
/// supported by an intervention.
pub(super) const SUPPORT_BIT: u8 = 1 << 3;

/// One byte per household, refreshed as the residents' pass leaves it, so the
/// monthly enrolment scan can skip households without reading their members.
/// It also carries what the next month's pass needs of the household's
/// adults, so that pass need not read the members twice.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct HouseholdSummary {
    pub(super) max_need: u8,
    pub(super) child: bool,
    pub(super) support: bool,
    /// Highest need among the adults.
    pub(super) adult_max_need: u8,
    /// Adults in crisis, counted up to 3.
    pub(super) adults_crisis: u8,
}

impl HouseholdSummary {
    pub(super) fn pack(self) -> u8 {
        self.max_need
            | (self.child as u8) << 2
            | ((self.support as u8) * SUPPORT_BIT)
            | self.adult_max_need << 4
            | self.adults_crisis.min(3) << 6
    }
    pub(super) fn unpack(b: u8) -> HouseholdSummary {
        HouseholdSummary {
            max_need: b & 3,
            child: b & 4 != 0,
            support: b & SUPPORT_BIT != 0,
            adult_max_need: (b >> 4) & 3,
            adults_crisis: b >> 6,
        }
    }
    #[inline(always)]
    pub(super) fn add(&mut self, age: u8, need: u8, support: bool) {
        self.max_need = self.max_need.max(need);
        self.child |= age < 18;
        self.support |= support;
        if age >= 18 {
            self.adult_max_need = self.adult_max_need.max(need);
            self.adults_crisis += (need == 3) as u8;
        }
    }
    /// The summary of the members at `members` of a chunk's view.
    pub(super) fn of_members(
        s: &super::chunks::Slots,
        members: std::ops::Range<usize>,
    ) -> HouseholdSummary {
        let mut out = HouseholdSummary::default();
        for k in members {
            out.add(s.age[k], s.need[k], s.intervention[k] & iv::SUPPORT != 0);
        }
        out.adults_crisis = out.adults_crisis.min(3);
        out
    }

    pub(super) fn of(pop: &Population, h: usize) -> HouseholdSummary {
        let res = &pop.residents;
        let mut s = HouseholdSummary::default();
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Every summary survives packing into its byte, and every byte is one
    /// summary: the fields have room and do not overlap.
    #[test]
    fn a_summary_packs_into_one_byte_and_back() {
        let mut bytes = std::collections::BTreeSet::new();
        for max_need in 0..4 {
            for adult_max_need in 0..4 {
                for adults_crisis in 0..4 {
                    for child in [false, true] {
                        for support in [false, true] {
                            let s = HouseholdSummary {
                                max_need,
                                child,
                                support,
                                adult_max_need,
                                adults_crisis,
                            };
                            assert_eq!(HouseholdSummary::unpack(s.pack()), s);
                            bytes.insert(s.pack());
                        }
                    }
                }
            }
        }
        assert_eq!(bytes.len(), 256);
    }
}
