//! The residents split for work: [`Chunk`]s of whole households, fixed by
//! the population's layout, and each chunk's view of the residents' arrays
//! ([`Slots`]), so the residents' pass and turnover run chunks in any order
//! on any thread.

use std::ops::Range;

use crate::model::population::{Population, Residents};
use crate::rng::ResidentCrn;

/// Residents a chunk holds at least (but for a neighbourhood's last): small
/// enough that a place of a few neighbourhoods keeps every core busy, large
/// enough that handing out a chunk costs nothing beside its work.
pub(super) const CHUNK_RESIDENTS: usize = 4096;

/// A run of whole households in one neighbourhood: the unit of work of the
/// residents' pass and of turnover.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Chunk {
    pub(super) neighbourhood: usize,
    pub(super) households: Range<usize>,
    pub(super) residents: Range<usize>,
}

/// The population's chunks, in slot order, each of at least `size`
/// residents but for a neighbourhood's last.
pub(super) fn chunks(pop: &Population, size: usize) -> Vec<Chunk> {
    let mut out = Vec::new();
    let start = |h: usize| pop.households.start[h] as usize;
    for n in 0..pop.neighbourhood_start.len() - 1 {
        let (lo, hi) = (
            pop.neighbourhood_start[n] as usize,
            pop.neighbourhood_start[n + 1] as usize,
        );
        let mut h0 = lo;
        while h0 < hi {
            let mut h1 = h0 + 1;
            while h1 < hi && start(h1) - start(h0) < size {
                h1 += 1;
            }
            out.push(Chunk {
                neighbourhood: n,
                households: h0..h1,
                residents: start(h0)..start(h1),
            });
            h0 = h1;
        }
    }
    out
}

/// One chunk's view of the residents' arrays and its households' summaries.
pub(super) struct Slots<'a> {
    pub(super) age: &'a mut [u8],
    pub(super) need: &'a mut [u8],
    pub(super) flags: &'a mut [u8],
    pub(super) arrival: &'a mut [u16],
    pub(super) episode: &'a mut [u8],
    pub(super) episode_left: &'a mut [u16],
    pub(super) touched: &'a mut [u16],
    pub(super) intervention: &'a mut [u8],
    pub(super) intervention_months: &'a mut [u16],
    pub(super) prefixes: &'a mut [ResidentCrn],
    pub(super) summary: &'a mut [u8],
}

impl<'a> Slots<'a> {
    /// Every resident and household.
    pub(super) fn of(
        r: &'a mut Residents,
        prefixes: &'a mut [ResidentCrn],
        summary: &'a mut [u8],
    ) -> Slots<'a> {
        Slots {
            age: &mut r.age,
            need: &mut r.need,
            flags: &mut r.flags,
            arrival: &mut r.arrival,
            episode: &mut r.episode,
            episode_left: &mut r.episode_left,
            touched: &mut r.touched,
            intervention: &mut r.intervention,
            intervention_months: &mut r.intervention_months,
            prefixes,
            summary,
        }
    }

    /// The first `residents` and `households`, and the rest.
    fn split(self, residents: usize, households: usize) -> (Slots<'a>, Slots<'a>) {
        let (age, age_r) = self.age.split_at_mut(residents);
        let (need, need_r) = self.need.split_at_mut(residents);
        let (flags, flags_r) = self.flags.split_at_mut(residents);
        let (arrival, arrival_r) = self.arrival.split_at_mut(residents);
        let (episode, episode_r) = self.episode.split_at_mut(residents);
        let (left, left_r) = self.episode_left.split_at_mut(residents);
        let (touched, touched_r) = self.touched.split_at_mut(residents);
        let (ivs, ivs_r) = self.intervention.split_at_mut(residents);
        let (months, months_r) = self.intervention_months.split_at_mut(residents);
        let (prefixes, prefixes_r) = self.prefixes.split_at_mut(residents);
        let (summary, summary_r) = self.summary.split_at_mut(households);
        (
            Slots {
                age,
                need,
                flags,
                arrival,
                episode,
                episode_left: left,
                touched,
                intervention: ivs,
                intervention_months: months,
                prefixes,
                summary,
            },
            Slots {
                age: age_r,
                need: need_r,
                flags: flags_r,
                arrival: arrival_r,
                episode: episode_r,
                episode_left: left_r,
                touched: touched_r,
                intervention: ivs_r,
                intervention_months: months_r,
                prefixes: prefixes_r,
                summary: summary_r,
            },
        )
    }

    /// One view per chunk, in order.
    fn per_chunk(mut self, chunks: &[Chunk]) -> Vec<Slots<'a>> {
        let mut out = Vec::with_capacity(chunks.len());
        for c in chunks {
            let (head, rest) = self.split(c.residents.len(), c.households.len());
            out.push(head);
            self = rest;
        }
        out
    }
}

/// Calls `job` once for every chunk, with the chunk's view of `slots` and
/// its own tally, on `workers`: in any order, on any thread.
pub(super) fn each_chunk<T: Send>(
    workers: &dyn super::Workers,
    slots: Slots,
    chunks: &[Chunk],
    tallies: &mut [T],
    job: impl Fn(&Chunk, &mut Slots, &mut T) + Sync,
) {
    let mut work: Vec<_> = slots
        .per_chunk(chunks)
        .into_iter()
        .zip(chunks)
        .zip(tallies.iter_mut())
        .collect();
    super::for_each(workers, &mut work, |((slots, chunk), tally)| {
        job(chunk, slots, tally)
    });
}
