//! Speed of the monthly step and of a whole replicate, in resident-months a
//! second: on the bundled baseline borough (200,000 residents) on one thread
//! and with its months split between two, and on the reduced model
//! (`benches/reduced.toml`: four need levels, one event service, nothing
//! else) that `benches/compare.sh` sets beside the speed-of-light probe.
//!
//! Run with `cargo bench --bench step -- --noplot`.

use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rayon::prelude::*;
use upstream::engine::{Engine, OneThread, Workers};
use upstream::scenario;

/// A month's chunks of residents on rayon's threads, as the `upstream`
/// command runs them when it has more threads than replicates.
struct Pool;

impl Workers for Pool {
    fn run(&self, jobs: &mut [&mut (dyn FnMut() + Send)]) {
        jobs.par_iter_mut().for_each(|job| job());
    }
}

fn load(file: &str) -> upstream::model::Config {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
    scenario::load(&path)
        .expect("bundled scenario loads")
        .config
}

fn two_threads() -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .expect("a pool of two threads")
}

fn monthly_step(c: &mut Criterion) {
    let mut group = c.benchmark_group("monthly_step");
    let pool = two_threads();
    for (name, file) in [
        ("baseline_200k", "scenarios/baseline.toml"),
        ("reduced_200k", "benches/reduced.toml"),
    ] {
        let config = load(file);
        group.throughput(Throughput::Elements(config.population.residents as u64));
        for (threads, workers) in [(1, &OneThread as &dyn Workers), (2, &Pool)] {
            let mut engine = Engine::new(&config, 1, 0).with_workers(workers);
            // Start from a settled population: run the burn-in first.
            pool.install(|| {
                for _ in 0..config.burn_in_months {
                    engine.step();
                }
            });
            group.bench_function(format!("{name}_{threads}_thread"), |b| {
                b.iter(|| pool.install(|| engine.step()))
            });
        }
    }
    group.finish();
}

/// One whole replicate of the bundled baseline: synthesis, warm start,
/// burn-in and ten years, as a run of one replicate does it.
fn replicate(c: &mut Criterion) {
    let config = load("scenarios/baseline.toml");
    let pool = two_threads();
    let mut group = c.benchmark_group("replicate");
    group.sample_size(10);
    group.throughput(Throughput::Elements(
        config.population.residents as u64 * (config.burn_in_months + config.months) as u64,
    ));
    for (threads, workers) in [(1, &OneThread as &dyn Workers), (2, &Pool)] {
        group.bench_function(format!("baseline_200k_{threads}_thread"), |b| {
            b.iter(|| {
                pool.install(|| {
                    black_box(upstream::engine::run_replicate_on(&config, 1, 0, workers))
                })
            })
        });
    }
    group.finish();
}

criterion_group!(benches, monthly_step, replicate);
criterion_main!(benches);
