//! Scenarios × replicates, run in parallel with rayon.
//!
//! Each (scenario, replicate) job is independent and single-threaded; results
//! are collected in job order, and every random draw depends only on its
//! coordinates (see `rng`), so the output is identical for any thread count.

use rayon::prelude::*;

use crate::engine::{self, ReplicateResult};
use crate::metrics::{Layout, Series};
use crate::model::Config;

/// How to run an experiment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunSettings {
    pub replicates: u32,
    pub seed: u64,
    /// Worker threads; `None` uses every core.
    pub threads: Option<usize>,
}

/// One scenario's replicates.
#[derive(Clone, Debug)]
pub struct ScenarioRuns {
    pub layout: Layout,
    pub series: Vec<Series>,
    pub replicates: Vec<ReplicateResult>,
}

#[derive(Clone, Debug)]
pub struct Experiment {
    pub scenarios: Vec<ScenarioRuns>,
    pub resident_months: u64,
    pub threads: usize,
}

#[derive(Debug, thiserror::Error)]
#[error("could not start {threads} worker threads: {source}")]
pub struct ThreadPoolError {
    threads: usize,
    source: rayon::ThreadPoolBuildError,
}

/// Runs every scenario for every replicate. `on_done` is called once per
/// finished job, from whichever thread ran it (for progress bars).
pub fn run(
    configs: &[Config],
    settings: &RunSettings,
    on_done: &(dyn Fn() + Sync),
) -> Result<Experiment, ThreadPoolError> {
    let mut builder = rayon::ThreadPoolBuilder::new();
    if let Some(n) = settings.threads {
        builder = builder.num_threads(n);
    }
    let pool = builder.build().map_err(|source| ThreadPoolError {
        threads: settings.threads.unwrap_or(0),
        source,
    })?;
    let jobs: Vec<(usize, u32)> = (0..configs.len())
        .flat_map(|s| (0..settings.replicates).map(move |r| (s, r)))
        .collect();
    let results: Vec<ReplicateResult> = pool.install(|| {
        jobs.par_iter()
            .map(|&(s, r)| {
                let out = engine::run_replicate(&configs[s], settings.seed, r);
                on_done();
                out
            })
            .collect()
    });
    let mut results = results.into_iter();
    let mut scenarios = Vec::with_capacity(configs.len());
    let mut resident_months = 0;
    for config in configs {
        let layout = Layout::new(config);
        let replicates: Vec<ReplicateResult> = results
            .by_ref()
            .take(settings.replicates as usize)
            .collect();
        resident_months += replicates.iter().map(|r| r.resident_months).sum::<u64>();
        let series = replicates
            .iter()
            .map(|r| Series::from_raw(config, &layout, &r.raw, config.months as usize))
            .collect();
        scenarios.push(ScenarioRuns {
            layout,
            series,
            replicates,
        });
    }
    Ok(Experiment {
        scenarios,
        resident_months,
        threads: pool.current_num_threads(),
    })
}
