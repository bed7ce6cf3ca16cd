//! Services sharing one ECS-on-EC2 cluster: they compete for the same
//! instances (a task with no room waits PENDING until another service frees
//! some), the instance bill splits exactly between services, daemons and
//! unreserved capacity, Spot instance losses reach every service on them,
//! one service alone on its cluster gives exactly the single-service
//! result, runs are deterministic, and bad shared scenarios are errors that
//! name the key.

mod common;
use capsim::report::{RunOutput, SharedOutput};
use capsim::scenario::{Loaded, SharedScenario, load_str};
use std::path::Path;

fn shared(toml: &str, overrides: &[&str]) -> Result<SharedScenario, capsim::Error> {
    let o: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
    match load_str(toml, &common::root(), Path::new("<test>"), &o)? {
        Loaded::Shared(s) => Ok(s),
        Loaded::Single(_) => panic!("expected a shared scenario"),
    }
}

fn run(toml: &str) -> SharedOutput {
    let sc = shared(toml, &[]).unwrap_or_else(|e| panic!("{e}"));
    let out = capsim::run_shared_scenario(&sc).unwrap_or_else(|e| panic!("{e}"));
    for s in &out.services {
        common::assert_conserved(s);
    }
    out
}

/// A cluster of `instances` m5.large without managed scaling (bridge mode:
/// CPU is the limit, two 1024-CPU tasks per instance), and `services`.
fn cluster(duration: &str, instances: u32, platform: &str, services: &str) -> String {
    format!(
        r#"
name = "shared-test"
seed = 5
duration = "{duration}"
[workload]
cpu_ms = {{ dist = "constant", value = 20 }}
[task]
cpu = 1024
memory = 1024
concurrency = 16
[service]
desired = 1
[load_balancer]
enabled = false
[platform]
kind = "ecs_ec2"
instance_types = ["m5.large"]
network_mode = "bridge"
registered_memory_fraction = 1.0
managed_scaling = false
min_size = {instances}
max_size = {instances}
desired_capacity = {instances}
instance_boot_s = {{ dist = "constant", value = 60 }}
task_start_s = {{ dist = "constant", value = 2 }}
{platform}
{services}
"#
    )
}

/// A service with a constant load and a fixed desired count.
fn constant(name: &str, rps: u32, desired: u32) -> String {
    format!(
        "[services.{name}.load]\nkind = \"constant\"\nrps = {rps}\n[services.{name}.service]\ndesired = {desired}\n"
    )
}

fn by_name<'a>(out: &'a SharedOutput, name: &str) -> &'a RunOutput {
    out.services
        .iter()
        .find(|s| s.summary.scenario == name)
        .unwrap_or_else(|| panic!("no service {name}"))
}

#[test]
fn services_compete_for_the_same_instances() {
    // Two instances hold four tasks; a and b want three each. a starts
    // first and takes three places; b gets one and two of its tasks wait
    // PENDING the whole day.
    let services = constant("a", 10, 3) + &constant("b", 10, 3);
    let out = run(&cluster("1d", 2, "", &services));
    let a = by_name(&out, "a").summary.tasks.clone();
    let b = by_name(&out, "b").summary.tasks.clone();
    assert_eq!(a.pending_task_minutes, 0.0);
    assert_eq!(b.pending_task_minutes, 2.0 * 24.0 * 60.0, "{b:?}");
    assert_eq!((a.max, b.max), (3, 1));
    // Nothing was over-allocated: four tasks on four places.
    let c = &out.cluster;
    assert!(
        (c.cluster.cpu_allocated_mean.unwrap() - 1.0).abs() < 0.01,
        "{c:?}"
    );
}

#[test]
fn room_freed_by_one_service_goes_to_another() {
    // As above, but at 1 h a scheduled action shrinks a to one task: the
    // two places it frees go to b's waiting tasks (after a's tasks drain).
    let services = constant("a", 10, 3)
        + "[services.a.autoscaling]\nmin_capacity = 3\nmax_capacity = 3\nscheduled = [{ at = \"1h\", min_capacity = 1, max_capacity = 1 }]\n"
        + &constant("b", 10, 3);
    let out = run(&cluster("3h", 2, "", &services));
    let b = &by_name(&out, "b").summary;
    // Two tasks waited from t = 0 to a's tasks stopping: at least 1 h, at
    // most 1 h plus the deregistration delay (300 s).
    let p = b.tasks.pending_task_minutes;
    assert!((120.0..=130.0).contains(&p), "{p}");
    assert_eq!(b.tasks.max, 3);
    let a = &by_name(&out, "a").summary;
    assert_eq!(a.tasks.min, 1);
    // Every request of b still served: no place was ever given twice.
    assert_eq!(b.requests.failed, 0);
}

#[test]
fn the_instance_bill_splits_exactly() {
    // One m5.large for a day; a holds 1024 CPU / 2048 MiB, b 512 / 1024:
    // 75 % of the CPU is reserved (more than of the memory), so 75 % of the
    // bill is allocated, split 2 : 1 between a and b; 25 % is idle.
    let services = r#"
[services.a.load]
kind = "constant"
rps = 5
[services.a.task]
cpu = 1024
memory = 2048
concurrency = 16
[services.b.load]
kind = "constant"
rps = 5
[services.b.task]
cpu = 512
memory = 1024
concurrency = 16
"#;
    let warm = "[service]\ndesired = 1\nstart = \"warm\"";
    let toml = cluster("1d", 1, "", services).replace("[service]\ndesired = 1", warm);
    let out = run(&toml);
    let bill = 24.0 * 0.096;
    let c = &out.cluster.cost_usd;
    assert!((c.instances - bill).abs() < 1e-9, "{c:?}");
    let a = by_name(&out, "a").summary.cost_usd.instances;
    let b = by_name(&out, "b").summary.cost_usd.instances;
    assert!((a - 0.5 * bill).abs() < 1e-9, "{a}");
    assert!((b - 0.25 * bill).abs() < 1e-9, "{b}");
    assert!((c.idle - 0.25 * bill).abs() < 1e-9, "{c:?}");
    assert!((c.allocated_to_services + c.daemons + c.unallocated - bill).abs() < 1e-9);
    assert!(
        (c.total - bill).abs() < 1e-9,
        "no load balancer: the bill is the total"
    );
}

#[test]
fn the_shipped_shared_scenario_adds_up() {
    let path = common::root().join("scenarios/shared-cluster.toml");
    let Loaded::Shared(sc) = capsim::scenario::load(&path, &["duration=\"6h\"".into()]).unwrap()
    else {
        panic!("shared-cluster.toml is a shared scenario");
    };
    let out = capsim::run_shared_scenario(&sc).unwrap();
    assert_eq!(out.services.len(), 3);
    let c = &out.cluster.cost_usd;
    let sum: f64 = out
        .services
        .iter()
        .map(|s| s.summary.cost_usd.instances)
        .sum();
    assert!((sum - c.allocated_to_services).abs() < 1e-9);
    assert!(c.daemons > 0.0, "the log agent runs on every instance");
    assert!(
        (c.allocated_to_services + c.daemons + c.unallocated - c.instances - c.spot).abs() < 1e-9
    );
    let own: f64 = out
        .services
        .iter()
        .map(|s| s.summary.cost_usd.total - s.summary.cost_usd.instances)
        .sum();
    assert!((c.total - (c.instances + c.spot + own)).abs() < 1e-9);
    for s in &out.services {
        common::assert_conserved(s);
        // The capacity provider's decisions are in every service's log.
        assert!(
            s.decisions.iter().any(|d| d.policy == "capacity-provider"),
            "{}",
            s.summary.scenario
        );
        let n = s.summary.nodes.as_ref().unwrap();
        assert_eq!(n, &out.cluster.nodes, "every service sees the one cluster");
    }
}

#[test]
fn spot_losses_reach_every_service_on_the_instance() {
    let services = constant("a", 20, 4) + &constant("b", 20, 4);
    let platform = "on_demand_base_capacity = 0\non_demand_percentage_above_base = 0\nspot_interruptions_per_hour = 0.5\nspot_instance_draining = true";
    let out = run(&cluster("12h", 4, platform, &services));
    for name in ["a", "b"] {
        let s = &by_name(&out, name).summary;
        assert!(s.tasks.spot_interrupted > 0, "{name}: {:?}", s.tasks);
        // Replaced: more tasks launched than the four it started with.
        assert!(s.tasks.launched > 4, "{name}");
    }
    assert!(
        out.cluster.nodes.launched > 4,
        "the ASG replaced reclaimed instances"
    );
    assert!(out.cluster.cost_usd.spot > 0.0 && out.cluster.cost_usd.instances == 0.0);
    let c = &out.cluster.cost_usd;
    let own: f64 = out
        .services
        .iter()
        .map(|s| s.summary.cost_usd.total - s.summary.cost_usd.instances - s.summary.cost_usd.spot)
        .sum();
    assert!((c.total - (c.spot + own)).abs() < 1e-9, "{c:?}");

    // Alone on a Spot cluster, a service is charged the whole bill, once.
    let out = run(&cluster("6h", 4, platform, &constant("a", 20, 4)));
    let s = &out.services[0].summary.cost_usd;
    assert!(s.spot > 0.0);
    assert!(
        (out.cluster.cost_usd.total - s.total).abs() < 1e-9,
        "{:?} vs {s:?}",
        out.cluster.cost_usd
    );
    assert!((out.cluster.services[0].instances_usd - (s.instances + s.spot)).abs() < 1e-9);
}

#[test]
fn one_service_alone_is_the_single_service_run() {
    let single = std::fs::read_to_string(common::root().join("scenarios/ec2-web-api.toml"))
        .unwrap()
        .replace("duration = \"1d\"", "duration = \"4h\"")
        .replace("\"web-api-task.json\"", "\"scenarios/web-api-task.json\"");
    let alone = common::run(&single);
    // The same file with its service sections moved under [services.web].
    let mut t: toml::Table = single.parse().unwrap();
    let mut web = toml::Table::new();
    for k in ["load", "workload", "task", "service", "autoscaling", "slo"] {
        web.insert(k.into(), t.remove(k).unwrap());
    }
    let mut services = toml::Table::new();
    services.insert("web".into(), toml::Value::Table(web));
    t.insert("services".into(), toml::Value::Table(services));
    let out = run(&toml::to_string(&t).unwrap());
    let mut a = alone.summary.clone();
    let mut b = out.services[0].summary.clone();
    a.engine.wall_ms = 0.0;
    b.engine.wall_ms = 0.0;
    b.scenario = a.scenario.clone();
    assert_eq!(a, b);
    assert_eq!(alone.decisions, out.services[0].decisions);
    assert!(
        (out.cluster.cost_usd.instances + out.cluster.cost_usd.spot
            - a.cost_usd.instances
            - a.cost_usd.spot)
            .abs()
            < 1e-9
    );
}

#[test]
fn shared_runs_are_deterministic() {
    let path = common::root().join("scenarios/shared-cluster.toml");
    let load = || match capsim::scenario::load(&path, &["duration=\"3h\"".into()]).unwrap() {
        Loaded::Shared(sc) => sc,
        Loaded::Single(_) => unreachable!(),
    };
    let x = capsim::run_shared_scenario(&load()).unwrap();
    let y = capsim::run_shared_scenario(&load()).unwrap();
    assert_eq!(x.cluster, y.cluster);
    for (a, b) in x.services.iter().zip(&y.services) {
        assert_eq!(a.minutes, b.minutes);
        assert_eq!(a.decisions, b.decisions);
        assert_eq!(a.tasks, b.tasks);
    }
}

#[test]
fn bad_shared_scenarios_name_the_key() {
    let base = cluster(
        "1h",
        1,
        "",
        "[services.a.load]\nkind = \"constant\"\nrps = 1\n",
    );
    // Loading checks the shape, compiling each service the values.
    let err = |toml: &str, o: &[&str]| {
        shared(toml, o)
            .and_then(|s| s.services.iter().try_for_each(|x| x.compile().map(|_| ())))
            .unwrap_err()
            .to_string()
    };

    let e = err(&format!("{base}[services.a.sweep]\nx = 1\n"), &[]);
    assert!(
        e.contains("services.a.sweep") && e.contains("belongs to the whole"),
        "{e}"
    );

    let e = err(&format!("{base}[services.a.platform]\nmax_size = 4\n"), &[]);
    assert!(
        e.contains("services.a.platform.max_size") && e.contains("shared cluster"),
        "{e}"
    );
    assert!(e.contains("line"), "{e}");

    let fargate = common::basic(
        "kind = \"constant\"\nrps = 1",
        "cpu_ms = { dist = \"constant\", value = 20 }",
        "cpu = 256\nmemory = 512\nconcurrency = 4",
        "desired = 1",
    )
    .replace("kind = \"ideal\"", "kind = \"fargate\"");
    let e = err(
        &format!("{fargate}[services.a.service]\ndesired = 2\n"),
        &[],
    );
    assert!(
        e.contains("share a cluster of instances") && e.contains("ecs_ec2"),
        "{e}"
    );

    // A service's own section is named where it is written.
    let e = err(&base.replace("rps = 1", "rps = -1"), &[]);
    assert!(e.contains("services.a.load"), "{e}");

    // Overrides reach one service.
    let sc = shared(&base, &["services.a.load.rps=7"]).unwrap();
    assert_eq!(sc.services[0].name, "a");
    let e = err(&base, &["services.a.load.rps=-3"]);
    assert!(e.contains("--set"), "{e}");

    // A mistake in the file is located in the file even when --set
    // changes something else.
    let e = err(
        &base.replace("rps = 1", "rps = \"abc\""),
        &["duration=\"2h\""],
    );
    assert!(
        e.contains("`services.a.load.rps`") && e.contains("line") && !e.contains("--set"),
        "{e}"
    );

    // A bad value in a service's own platform key names that key's table.
    let e = err(
        &format!("{base}[services.a.platform]\nnetwork_mode = \"bogus\"\n"),
        &[],
    );
    assert!(e.contains("services.a.platform"), "{e}");

    // --set must name a service the file defines...
    let e = err(&base, &["services.zz.load.rps=3"]);
    assert!(e.contains("no service `zz`"), "{e}");
    // ... and changes one key of a section the service inherits.
    let two = format!("{base}[services.b.load]\nkind = \"constant\"\nrps = 2\n");
    let sc = shared(&two, &["services.a.task.concurrency=4"]).unwrap();
    assert_eq!(sc.services[0].task.concurrency, 4);
    assert_eq!(
        sc.services[0].task.cpu,
        Some(1024),
        "the rest of [task] is kept"
    );
    assert_eq!(
        sc.services[1].task.concurrency, 16,
        "the other service is unchanged"
    );

    // A service can turn an inherited [autoscaling] off.
    let scaled = base.replace(
        "[platform]",
        "[autoscaling]\nmin_capacity = 1\nmax_capacity = 3\ntarget_value = 50\n[platform]",
    );
    let with = format!(
        "{scaled}[services.b]\nautoscaling = false\nload = {{ kind = \"constant\", rps = 2 }}\n"
    );
    let sc = shared(&with, &[]).unwrap();
    assert!(sc.services[0].autoscaling.is_some());
    assert!(sc.services[1].autoscaling.is_none());

    // Overrides of one service apply after the top-level ones, whatever
    // their order; a top-level override no service inherits is refused.
    let step = format!(
        "{}[services.b.service]\ndesired = 1\n",
        base.replace(
            "[services.a.load]\nkind = \"constant\"\nrps = 1\n",
            "[load]\nkind = \"step\"\nat = \"30m\"\nrps = 1\nto_rps = 200\n[services.a.service]\ndesired = 1\n",
        )
    );
    let peak = |o: &[&str]| {
        let sc = shared(&step, o).unwrap_or_else(|e| panic!("{e}"));
        let c = sc.services[0].compile().unwrap();
        c.rate.peak(c.end)
    };
    let x = peak(&["services.a.load.rps=50", "load.to_rps=400"]);
    let y = peak(&["load.to_rps=400", "services.a.load.rps=50"]);
    assert_eq!((x, y), (400.0, 400.0));
    let e = err(&base, &["load.rps=5"]);
    assert!(
        e.contains("every service gives itself its own [load]"),
        "{e}"
    );

    // Report folders must not collide.
    let e = err(
        &base.replace("[services.a.load]", "[services.\"cluster.json\".load]"),
        &[],
    );
    assert!(e.contains("rename the service"), "{e}");
    let two = format!(
        "{base}[services.\"a \"]\nload = {{ kind = \"constant\", rps = 1 }}\n[services.\"a/\"]\nload = {{ kind = \"constant\", rps = 1 }}\n"
    );
    // Two names made safe to the same text are told apart by a digest.
    let sc = shared(&two, &[]).unwrap();
    let folders: Vec<String> = sc
        .services
        .iter()
        .map(|s| capsim::scenario::safe_name(&s.name))
        .collect();
    assert_eq!(folders.len(), 3);
    assert!(
        folders[1].starts_with("a_-") && folders[2].starts_with("a_-"),
        "{folders:?}"
    );
    assert_ne!(folders[1], folders[2]);

    // Sweeps and comparisons take one service.
    let e = capsim::Scenario::from_toml_str(&base, &common::root(), Path::new("<test>"), &[])
        .unwrap_err()
        .to_string();
    assert!(e.contains("capsim run"), "{e}");
}

mod random {
    use super::*;
    use proptest::prelude::*;

    fn service(
        k: usize,
        (cpu, mem, desired, rps, warm, scaling, strategy): (u32, u32, u32, u32, bool, bool, usize),
    ) -> String {
        let strategies = [
            "[{ type = \"spread\", field = \"attribute:ecs.availability-zone\" }, { type = \"binpack\", field = \"memory\" }]",
            "[{ type = \"binpack\", field = \"cpu\" }]",
            "[{ type = \"random\" }]",
            "[{ type = \"spread\", field = \"instanceId\" }]",
        ];
        let mut s = format!(
            "[services.s{k}.load]\nkind = \"constant\"\nrps = {rps}\n[services.s{k}.task]\ncpu = {cpu}\nmemory = {mem}\nconcurrency = 8\n[services.s{k}.service]\ndesired = {desired}\nstart = \"{}\"\nplacement_strategy = {}\n",
            if warm { "warm" } else { "cold" },
            strategies[strategy]
        );
        if scaling {
            s.push_str(&format!(
                "[services.s{k}.autoscaling]\nmin_capacity = 1\nmax_capacity = 8\npredefined_metric = \"ECSServiceAverageCPUUtilization\"\ntarget_value = 50\nmetric_delay = \"0s\"\n"
            ));
        }
        s
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 24, failure_persistence: None, ..ProptestConfig::default() })]
        /// Whatever the services and the cluster, every request is accounted
        /// for, no instance is over-allocated (`Node::allocate` asserts it,
        /// releases would underflow) and the bill splits exactly.
        #[test]
        fn random_shared_clusters_hold_their_invariants(
            services in prop::collection::vec(
                (prop::sample::select(vec![256u32, 512, 1024]), prop::sample::select(vec![512u32, 1024, 2048, 4096]), 0u32..6, 0u32..60, any::<bool>(), any::<bool>(), 0usize..4),
                1..4,
            ),
            (min, extra, managed, spot, draining, daemon, both) in (0u32..3, 0u32..4, any::<bool>(), any::<bool>(), any::<bool>(), any::<bool>(), any::<bool>()),
            seed in 0u64..1000,
        ) {
            let mut platform = format!("managed_scaling = {managed}\nmin_size = {min}\nmax_size = {}\ndesired_capacity = {min}\nspot_instance_draining = {draining}\n", min + extra + 1);
            if spot {
                platform.push_str("on_demand_base_capacity = 0\non_demand_percentage_above_base = 0\nspot_interruptions_per_hour = 3\n");
            }
            if daemon {
                platform.push_str("daemons = [{ name = \"agent\", cpu = 128, memory = 256 }]\n");
            }
            let text: String = services.iter().enumerate().map(|(k, s)| service(k, *s)).collect();
            let mut toml = cluster("40m", 1, &platform, &text)
                .replace("seed = 5", &format!("seed = {seed}"))
                .replace("managed_scaling = false\nmin_size = 1\nmax_size = 1\ndesired_capacity = 1\n", "");
            if both {
                toml = toml.replace("instance_types = [\"m5.large\"]", "instance_types = [\"m5.large\", \"m5.xlarge\"]");
            }
            let out = run(&toml);
            let c = &out.cluster;
            prop_assert!(c.cluster.cpu_allocated_mean.unwrap_or(0.0) <= 1.0 + 1e-9);
            prop_assert!(c.cluster.memory_allocated_mean.unwrap_or(0.0) <= 1.0 + 1e-9);
            let bill = c.cost_usd.instances + c.cost_usd.spot;
            prop_assert!((c.cost_usd.allocated_to_services + c.cost_usd.daemons + c.cost_usd.unallocated - bill).abs() < 1e-9);
            prop_assert!(c.cost_usd.unallocated >= -1e-9, "{:?}", c.cost_usd);
            prop_assert!(c.cost_usd.idle <= c.cost_usd.unallocated + 1e-9, "{:?}", c.cost_usd);
        }
    }
}

#[test]
fn each_service_alone_is_the_baseline_sharing_is_measured_against() {
    let path = common::root().join("scenarios/shared-cluster.toml");
    let Loaded::Shared(sc) = capsim::scenario::load(&path, &["duration=\"4h\"".into()]).unwrap()
    else {
        panic!("a shared scenario");
    };
    let mut out = capsim::run_shared_scenario(&sc).unwrap();
    let alone = capsim::run_alone(&sc).unwrap();
    assert_eq!(alone.len(), 3);
    for (a, s) in alone.iter().zip(&out.services) {
        // Same seed, same arrivals (common random numbers).
        assert_eq!(a.services[0].summary.seed, s.summary.seed);
        assert_eq!(
            a.services[0].summary.requests.arrived,
            s.summary.requests.arrived
        );
        // Alone, a service pays its whole cluster.
        let c = &a.cluster.cost_usd;
        assert!((a.services[0].summary.cost_usd.total - c.total).abs() < 1e-9);
    }
    capsim::report::add_alone(&mut out.cluster, &alone);
    let a = out.cluster.alone.as_ref().unwrap();
    let sum: f64 = alone.iter().map(|o| o.cluster.cost_usd.total).sum();
    assert!((a.total_usd - sum).abs() < 1e-9);
    assert!((a.saving_usd - (sum - out.cluster.cost_usd.total)).abs() < 1e-9);
    assert!(
        a.saving_usd > 0.0,
        "three small services pay for three minimum fleets alone"
    );
}
