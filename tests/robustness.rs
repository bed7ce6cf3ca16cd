//! Bad input is an error, never a panic: random overrides of every kind of
//! key, on every shipped scenario, either load, compile and run, or fail
//! with an error that names a key.

mod common;
use proptest::prelude::*;
use std::sync::atomic::{AtomicUsize, Ordering};

static RAN: AtomicUsize = AtomicUsize::new(0);
static REFUSED: AtomicUsize = AtomicUsize::new(0);

const KEYS: &[&str] = &[
    "duration",
    "seed",
    "load.rps",
    "load.mean_rps",
    "load.peak_to_trough",
    "load.peak_hour",
    "load.kind",
    "workload.cpu_ms.mean",
    "workload.cpu_ms.p99",
    "workload.io_ms",
    "workload.timeout",
    "workload.memory_base_mib",
    "workload.memory_per_request_mib",
    "task.cpu",
    "task.memory",
    "task.concurrency",
    "task.queue_limit",
    "task.ephemeral_storage_gb",
    "service.desired",
    "service.maximum_percent",
    "service.minimum_healthy_percent",
    "service.routing",
    "service.start",
    "platform.kind",
    "platform.arch",
    "platform.spot_interruptions_per_hour",
    "platform.instance_types",
    "platform.max_size",
    "platform.target_capacity",
    "platform.compute",
    "platform.support",
    "platform.max_pods",
    "platform.prefix_delegation",
    "platform.coredns_replicas",
    "platform.node_groups",
    "platform.cluster_autoscaler.expander",
    "platform.cluster_autoscaler.scan_interval",
    "platform.cluster_autoscaler.scale_down_utilization_threshold",
    "task.cpu_limit",
    "task.memory_limit",
    "task.manifest",
    "hpa.target_cpu_utilization",
    "hpa.min_replicas",
    "hpa.max_replicas",
    "hpa.tolerance",
    "hpa.metric_resolution",
    "hpa.sync_period",
    "hpa.behavior",
    "autoscaling.target_value",
    "autoscaling.min_capacity",
    "autoscaling.max_capacity",
    "autoscaling.scale_in_cooldown",
    "autoscaling.metric_delay",
    "load_balancer.health_check_interval",
    "load_balancer.deregistration_delay",
    "slo.p99_ms",
];

const VALUES: &[&str] = &[
    "0",
    "1",
    "-1",
    "3",
    "1024",
    "99999999999",
    "0.5",
    "-0.5",
    "1e308",
    "nan",
    "inf",
    "\"\"",
    "\"x\"",
    "true",
    "[]",
    "[1, 2]",
    "{}",
    "\"0s\"",
    "\"1ms\"",
    "\"90s\"",
    "\"400000y\"",
    "fargate",
    "ideal",
    "ecs_ec2",
    "arm64",
    "windows",
    "least_outstanding",
    "cold",
    "[\"m5.large\"]",
    "[\"nope.huge\"]",
    "eks",
    "node_groups",
    "extended",
    "random",
    "\"app.yaml\"",
    "[{ name = \"a\", min_size = 0, max_size = 1 }]",
    "{ scale_up = { select_policy = \"Disabled\" } }",
    "{ dist = \"constant\", value = 0 }",
    "{ dist = \"lognormal\", mean = 1, p99 = 1000 }",
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 240, failure_persistence: None, ..ProptestConfig::default() })]
    #[test]
    fn random_overrides_never_panic(
        scenario in prop::sample::select(vec!["quickstart.toml", "ec2-web-api.toml", "fargate-spot-web-api.toml", "fargate-step-scaling.toml", "mmc.toml", "shared-cluster.toml", "eks-web-api.toml", "eks-fargate-web-api.toml", "eks/manifest.toml"]),
        overrides in prop::collection::vec((prop::sample::select(KEYS), prop::sample::select(VALUES)), 1..4),
    ) {
        let path = common::root().join("scenarios").join(scenario);
        let scenario = std::path::Path::new(scenario).file_name().unwrap().to_str().unwrap();
        let mut set: Vec<String> = overrides.iter().map(|(k, v)| format!("{k}={v}")).collect();
        // Keep whatever runs short.
        set.push("duration=3m".into());
        let loaded = capsim::scenario::load(&path, &set);
        let sc = match loaded {
            Ok(capsim::scenario::Loaded::Single(sc)) => *sc,
            Ok(capsim::scenario::Loaded::Shared(shared)) => {
                match capsim::run_shared_scenario(&shared) {
                    Ok(out) => {
                        RAN.fetch_add(1, Ordering::Relaxed);
                        for o in &out.services {
                            prop_assert!(o.summary.requests.conserved());
                        }
                    }
                    Err(e) => {
                        let m = e.to_string();
                        prop_assert!(m.contains('`'), "the error names a key: {m}");
                    }
                }
                return Ok(());
            }
            Err(e) => {
                REFUSED.fetch_add(1, Ordering::Relaxed);
                let m = e.to_string();
                prop_assert!(m.contains(scenario), "the error names the file: {m}");
                return Ok(());
            }
        };
        match capsim::run(&sc) {
            Ok(out) => {
                RAN.fetch_add(1, Ordering::Relaxed);
                prop_assert!(out.summary.requests.conserved());
            }
            Err(e) => {
                let m = e.to_string();
                prop_assert!(m.contains('`') || m.contains("--set") || m.contains("trace"), "the error names a key: {m}");
            }
        }
    }
}

#[test]
fn single_overrides_mostly_run() {
    // Single overrides of keys every shipped scenario has, one at a time:
    // these must mostly be accepted, so the test above also exercises runs.
    let mut ran = 0;
    let mut total = 0;
    for k in [
        "duration",
        "seed",
        "task.concurrency",
        "service.desired",
        "slo.p99_ms",
        "load_balancer.deregistration_delay",
    ] {
        for v in ["1", "3", "\"90s\"", "0.5", "-1", "\"x\""] {
            total += 1;
            let set = vec![format!("{k}={v}"), "duration=2m".to_string()];
            if let Ok(sc) =
                capsim::Scenario::load(&common::root().join("scenarios/quickstart.toml"), &set)
                && capsim::run(&sc).is_ok()
            {
                ran += 1;
            }
        }
    }
    println!(
        "{ran} of {total} single overrides ran (random test: {} ran, {} refused)",
        RAN.load(Ordering::Relaxed),
        REFUSED.load(Ordering::Relaxed)
    );
    assert!(ran >= 6, "only {ran} of {total} ran");
}
