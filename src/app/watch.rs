//! What a run or an experiment says, and what its driver is shown as it
//! goes.

/// What a run or an experiment says: lines for standard output, then for
/// standard error (warnings and timings).
#[derive(Debug, Default)]
pub struct Said {
    /// For standard output.
    pub out: String,
    /// For standard error.
    pub err: String,
}

/// What the one driving a run or an experiment is shown as it goes: the
/// `upstream` command prints these; a test may keep or drop them.
pub trait Watch {
    /// A line for standard error before the runs.
    fn note(&self, line: &str);
    /// A counter of runs done out of `jobs`, dropped when the runs end.
    fn progress(&self, jobs: u64) -> Box<dyn Fn(u64) + Sync + '_>;
    /// A counter of charts drawn out of how many, dropped when drawn.
    fn drawing(&self) -> Box<dyn Fn(usize, usize) + Sync + '_>;
}

/// A watcher that shows nothing.
pub struct Unwatched;

impl Watch for Unwatched {
    fn note(&self, _: &str) {}
    fn progress(&self, _: u64) -> Box<dyn Fn(u64) + Sync + '_> {
        Box::new(|_| {})
    }
    fn drawing(&self) -> Box<dyn Fn(usize, usize) + Sync + '_> {
        Box::new(|_, _| {})
    }
}
