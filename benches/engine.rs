//! Engine throughput on M/M/c (c = 16, ρ = 0.9): the model of
//! `scenarios/mmc.toml`. Reported as events per second (criterion's
//! elements/s), and as requests per second in a second group.

use capsim::Scenario;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::path::Path;

fn mmc(duration: &str) -> Scenario {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    Scenario::load(
        &root.join("scenarios/mmc.toml"),
        &[format!("duration={duration}")],
    )
    .expect("scenarios/mmc.toml loads")
}

fn bench(c: &mut Criterion) {
    let sc = mmc("2m");
    let probe = capsim::run(&sc).unwrap();
    let events = probe.summary.engine.events;
    let requests = probe.summary.requests.arrived;

    let mut g = c.benchmark_group("mmc16_rho0.9");
    g.sample_size(20);
    g.throughput(Throughput::Elements(events));
    g.bench_function("events", |b| b.iter(|| capsim::run(&sc).unwrap()));
    g.throughput(Throughput::Elements(requests));
    g.bench_function("requests", |b| b.iter(|| capsim::run(&sc).unwrap()));
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
