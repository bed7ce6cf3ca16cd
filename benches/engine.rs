//! Engine throughput on M/M/c (c = 16, ρ = 0.9): the model of
//! `scenarios/mmc.toml`. Reported as events per second (criterion's
//! elements/s), and as requests per second in a second group; then services
//! sharing an EC2 cluster against one EC2 service alone; then the same
//! service on EKS node groups against ECS on EC2; the fluid month; and
//! Karpenter's provisioning decision.

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

/// The lockstep loop of services sharing one EC2 cluster, like for like:
/// `scenarios/ec2-web-api.toml` for 2 h alone, and the same service three
/// times over (`[services.a]`, `b`, `c`) on that cluster, in events per
/// second (all services' events). The ratio is what sharing costs per event.
fn shared(c: &mut Criterion) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let set = ["duration=\"2h\"".to_string()];
    let single = Scenario::load(&root.join("scenarios/ec2-web-api.toml"), &set)
        .expect("scenarios/ec2-web-api.toml loads");
    let single_events = capsim::run(&single).unwrap().summary.engine.events;
    let text = std::fs::read_to_string(root.join("scenarios/ec2-web-api.toml")).unwrap();
    let mut t: toml::Table = text.parse().unwrap();
    let mut web = toml::Table::new();
    for k in ["load", "workload", "task", "service", "autoscaling", "slo"] {
        web.insert(k.into(), t.remove(k).unwrap());
    }
    let mut services = toml::Table::new();
    for name in ["a", "b", "c"] {
        services.insert(name.into(), toml::Value::Table(web.clone()));
    }
    t.insert("services".into(), toml::Value::Table(services));
    // Room for three times the tasks.
    t["platform"]["max_size"] = toml::Value::Integer(30);
    let capsim::scenario::Loaded::Shared(sc) = capsim::scenario::load_str(
        &toml::to_string(&t).unwrap(),
        &root.join("scenarios"),
        Path::new("three-web-apis.toml"),
        &set,
    )
    .expect("the three-service scenario loads") else {
        panic!("a shared scenario");
    };
    let probe = capsim::run_shared_scenario(&sc).unwrap();
    let events: u64 = probe.services.iter().map(|s| s.summary.engine.events).sum();

    let mut g = c.benchmark_group("ec2_2h");
    g.sample_size(10);
    g.throughput(Throughput::Elements(single_events));
    g.bench_function("one_service", |b| b.iter(|| capsim::run(&single).unwrap()));
    g.throughput(Throughput::Elements(events));
    g.bench_function("three_services_shared", |b| {
        b.iter(|| capsim::run_shared_scenario(&sc).unwrap())
    });
    g.finish();
}

/// The EKS node-group path against ECS on EC2 on the same service:
/// `scenarios/eks-web-api.toml` (HPA at 70 %, Cluster Autoscaler,
/// m5.xlarge) and `scenarios/ec2-web-api.toml` (target tracking at 70 %,
/// managed scaling, m5.xlarge), 2 h each, in events per second. Each side's
/// events include its own control plane (metrics-server scrapes, HPA syncs
/// and CA scans on EKS; CloudWatch minutes and managed scaling on ECS).
fn eks(c: &mut Criterion) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let set = ["duration=\"2h\"".to_string()];
    let load = |f: &str| {
        Scenario::load(&root.join("scenarios").join(f), &set).expect("a shipped scenario")
    };
    let ecs = load("ec2-web-api.toml");
    let eks = load("eks-web-api.toml");
    let ecs_events = capsim::run(&ecs).unwrap().summary.engine.events;
    let eks_events = capsim::run(&eks).unwrap().summary.engine.events;
    let mut g = c.benchmark_group("web_api_2h");
    g.sample_size(10);
    g.throughput(Throughput::Elements(ecs_events));
    g.bench_function("ecs_ec2", |b| b.iter(|| capsim::run(&ecs).unwrap()));
    g.throughput(Throughput::Elements(eks_events));
    g.bench_function("eks_node_groups", |b| b.iter(|| capsim::run(&eks).unwrap()));
    g.finish();
}

/// The fluid plane on issue 13's month: `benches/fluid_month.toml` (the
/// quickstart web API at 1,000 requests per second on average, diurnal,
/// target tracking on Fargate) for 30 days, the whole run (plane set-up,
/// simulation, summary; no files written). Request mode is measured on a
/// one-day window of the same scenario and scaled by 30 in BENCHMARKS.md.
fn fluid(c: &mut Criterion) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let load = |set: &[String]| {
        Scenario::load(&root.join("benches/fluid_month.toml"), set)
            .expect("benches/fluid_month.toml loads")
    };
    let month = load(&[]);
    let mut g = c.benchmark_group("fluid_month");
    g.sample_size(10);
    g.bench_function("fluid_30d", |b| b.iter(|| capsim::run(&month).unwrap()));
    if std::env::var_os("CAPSIM_BENCH_REQUEST_DAY").is_some() {
        let day = load(&["duration=\"1d\"".into(), "fidelity=\"request\"".into()]);
        g.bench_function("request_1d", |b| b.iter(|| capsim::run(&day).unwrap()));
    }
    g.finish();
}

/// Karpenter's provisioning decision (issue 14) on the sizes of Karpenter's
/// own scheduling benchmark: 400 instance types (the catalog's c, m and r
/// types, both architectures, the first 400 by name) and 20,000 pending
/// pods of mixed sizes, in pods per second. Karpenter holds a floor of 100.
fn karpenter(c: &mut Criterion) {
    use capsim::k8s::karpenter::{pool, provision::provision, requirements};
    use capsim::placement::Resources;
    let types: Vec<_> = capsim::platform::ec2::Catalog::embedded()
        .types()
        .filter(|t| {
            let (category, _) = requirements::category_generation(&t.family);
            ["c", "m", "r"].contains(&category.as_str())
        })
        .take(400)
        .cloned()
        .collect();
    assert_eq!(types.len(), 400);
    let daemons = Resources {
        cpu: 200,
        memory: 256,
        slots: 2,
    };
    let base = pool("default", 0, &types, &[], 0.6, daemons, None);
    let (cpus, mems) = (
        [100, 250, 500, 1_000, 2_000, 4_000],
        [128, 512, 1_024, 2_048, 4_096, 8_192],
    );
    let mut state = 7u64;
    let pods: Vec<Resources> = (0..20_000)
        .map(|_| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let (a, b) = ((state >> 33) as usize % 6, (state >> 45) as usize % 6);
            Resources {
                cpu: cpus[a],
                memory: mems[b],
                slots: 1,
            }
        })
        .collect();
    let mut g = c.benchmark_group("karpenter_provision");
    g.sample_size(10);
    for n in [1_000usize, 20_000] {
        g.throughput(Throughput::Elements(n as u64));
        g.bench_function(format!("pods_{n}_types_400"), |b| {
            b.iter(|| provision(&pods[..n], &mut [base.clone()]))
        });
    }
    g.finish();
}

criterion_group! {
    name = benches;
    // No plots: criterion's plotting backend needs system fonts.
    config = Criterion::default().without_plots();
    targets = bench, shared, eks, fluid, karpenter
}
criterion_main!(benches);
