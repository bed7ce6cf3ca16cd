//! Engine throughput on M/M/c (c = 16, ρ = 0.9): the model of
//! `scenarios/mmc.toml`. Reported as events per second (criterion's
//! elements/s), and as requests per second in a second group; then services
//! sharing an EC2 cluster against one EC2 service alone.

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

/// Services sharing one EC2 cluster (`scenarios/shared-cluster.toml`, 2 h):
/// the lockstep loop of three services and the cluster, in events per
/// second (all services' events), beside one EC2 service alone
/// (`scenarios/ec2-web-api.toml`, 2 h) through the same loop.
fn shared(c: &mut Criterion) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let set = ["duration=\"2h\"".to_string()];
    let capsim::scenario::Loaded::Shared(sc) =
        capsim::scenario::load(&root.join("scenarios/shared-cluster.toml"), &set)
            .expect("scenarios/shared-cluster.toml loads")
    else {
        panic!("a shared scenario");
    };
    let probe = capsim::run_shared_scenario(&sc).unwrap();
    let events: u64 = probe.services.iter().map(|s| s.summary.engine.events).sum();
    let single = Scenario::load(&root.join("scenarios/ec2-web-api.toml"), &set)
        .expect("scenarios/ec2-web-api.toml loads");
    let single_events = capsim::run(&single).unwrap().summary.engine.events;

    let mut g = c.benchmark_group("ec2_2h");
    g.sample_size(10);
    g.throughput(Throughput::Elements(events));
    g.bench_function("shared_3_services", |b| {
        b.iter(|| capsim::run_shared_scenario(&sc).unwrap())
    });
    g.throughput(Throughput::Elements(single_events));
    g.bench_function("one_service", |b| b.iter(|| capsim::run(&single).unwrap()));
    g.finish();
}

criterion_group! {
    name = benches;
    // No plots: criterion's plotting backend needs system fonts.
    config = Criterion::default().without_plots();
    targets = bench, shared
}
criterion_main!(benches);
