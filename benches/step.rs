//! Speed of the monthly step and of a whole replicate on the bundled baseline
//! borough (200,000 residents). Throughput is in resident-months per second
//! on one thread; a run uses one thread per replicate, so a 2-core machine
//! does about twice this.
//!
//! Run with `cargo bench --bench step`.

use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use upstream::engine::Engine;
use upstream::scenario;

fn baseline() -> upstream::model::Config {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/baseline.toml");
    scenario::load(&path)
        .expect("bundled baseline loads")
        .config
}

fn monthly_step(c: &mut Criterion) {
    let config = baseline();
    let mut engine = Engine::new(&config, 1, 0);
    // Start from a settled population: run the burn-in first.
    for _ in 0..config.burn_in_months {
        engine.step();
    }
    let mut group = c.benchmark_group("monthly_step");
    group.throughput(Throughput::Elements(config.population.residents as u64));
    group.bench_function("baseline_200k", |b| b.iter(|| engine.step()));
    group.finish();
}

fn replicate(c: &mut Criterion) {
    let mut config = baseline();
    config.months = 12;
    config.burn_in_months = 0;
    let mut group = c.benchmark_group("replicate");
    group.sample_size(10);
    group.throughput(Throughput::Elements(
        config.population.residents as u64 * 12,
    ));
    group.bench_function("baseline_200k_one_year", |b| {
        b.iter(|| black_box(upstream::engine::run_replicate(&config, 1, 0)))
    });
    group.finish();
}

criterion_group!(benches, monthly_step, replicate);
criterion_main!(benches);
