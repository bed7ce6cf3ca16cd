//! ECS on EC2: instance billing to the cent, idle cost, managed scaling from
//! an empty cluster (two instances first, warm-up, scale-in of empty
//! instances after 15 minutes), EC2 Spot, and the Fargate-vs-EC2 comparison
//! traced through the decision log.

mod common;
use capsim::report::RunOutput;

fn ec2(service: &str, platform: &str, extra: &str, load: &str) -> String {
    format!(
        r#"
name = "ec2-test"
seed = 9
duration = "{{DURATION}}"
[load]
{load}
[workload]
cpu_ms = {{ dist = "constant", value = 20 }}
[task]
cpu = 1024
memory = 4096
concurrency = 16
[service]
{service}
[platform]
kind = "ecs_ec2"
instance_types = ["m5.large"]
instance_boot_s = {{ dist = "constant", value = 60 }}
task_start_s = {{ dist = "constant", value = 2 }}
{platform}
{extra}
"#
    )
}

fn run(toml: &str, duration: &str) -> RunOutput {
    let out = common::run(&toml.replace("{DURATION}", duration));
    common::assert_conserved(&out);
    out
}

#[test]
fn a_fixed_asg_bills_to_the_cent() {
    let toml = ec2(
        "desired = 0",
        "managed_scaling = false\nmin_size = 3\nmax_size = 3\ndesired_capacity = 3",
        "[load_balancer]\nenabled = false",
        "kind = \"constant\"\nrps = 0",
    );
    let s = run(&toml, "30d").summary;
    let expected = 3.0 * 720.0 * 0.096;
    assert!(
        (s.cost_usd.total - expected).abs() < 0.005,
        "{} vs {expected}",
        s.cost_usd.total
    );
    assert!((s.cost_usd.instances - expected).abs() < 0.005);
    let n = s.nodes.unwrap();
    assert_eq!((n.min, n.max), (3, 3));
    assert!((n.node_hours - 2160.0).abs() < 1e-6);
    // Nothing reserved: all of it is air.
    assert!((s.cost_usd.idle.unwrap() - expected).abs() < 0.005);
}

#[test]
fn the_report_cites_the_instance_prices() {
    let toml = ec2(
        "desired = 1",
        "managed_scaling = true",
        "",
        "kind = \"constant\"\nrps = 5",
    );
    let out = run(&toml, "10m");
    let a = &out.context.assumptions;
    let price = a
        .iter()
        .find(|r| r.item.contains("EC2 price (m5.large"))
        .expect("a row for the instance price");
    assert!(price.value.contains("$0.096/h"), "{price:?}");
    assert!(
        price.source.contains("karpenter") && price.source.contains("2026-07-20"),
        "{price:?}"
    );
    for item in [
        "instance billing",
        "managed scaling",
        "instance boot (s)",
        "load balancer",
    ] {
        assert!(a.iter().any(|r| r.item == item), "no {item} row: {a:?}");
    }
}

#[test]
fn idle_cost_is_the_unreserved_share() {
    // One m5.large registering all its 8192 MiB; one task of half its CPU and
    // half its memory: half the instance is idle.
    let toml = ec2(
        "desired = 1",
        "managed_scaling = false\nmin_size = 1\nmax_size = 1\ndesired_capacity = 1\nregistered_memory_fraction = 1.0\nnetwork_mode = \"bridge\"",
        "[load_balancer]\nenabled = false",
        "kind = \"constant\"\nrps = 5",
    );
    let s = run(&toml, "1d").summary;
    let cost = 24.0 * 0.096;
    assert!(
        (s.cost_usd.instances - cost).abs() < 1e-9,
        "{}",
        s.cost_usd.instances
    );
    assert!(
        (s.cost_usd.idle.unwrap() - cost * 0.5).abs() < 1e-9,
        "{:?}",
        s.cost_usd.idle
    );
    let c = s.cluster.unwrap();
    assert!((c.cpu_allocated_mean.unwrap() - 0.5).abs() < 1e-12);
    assert!((c.memory_allocated_mean.unwrap() - 0.5).abs() < 1e-12);
}

#[test]
fn managed_scaling_from_an_empty_cluster() {
    // 10 tasks of 512 CPU (bridge: CPU limits m5.large to 4) on an empty
    // group; at 40 min the service shrinks to 2 tasks.
    let toml = ec2(
        "desired = 10\nstart = \"cold\"\nplacement_strategy = [{ type = \"binpack\", field = \"cpu\" }]",
        "min_size = 0\nmax_size = 10\ndesired_capacity = 0\nnetwork_mode = \"bridge\"\ninstance_warmup_period = \"300s\"\nmanaged_termination_protection = true\nmanaged_scaling_metric_delay = \"0s\"",
        "[autoscaling]\nmin_capacity = 0\nmax_capacity = 10\n[[autoscaling.scheduled]]\nat = \"40m\"\nmax_capacity = 2",
        "kind = \"constant\"\nrps = 20",
    )
    .replace("cpu = 1024\nmemory = 4096", "cpu = 512\nmemory = 1024");
    let out = run(&toml, "2h");
    let rows: Vec<_> = out
        .decisions
        .iter()
        .filter(|d| d.policy == "capacity-provider" && d.action != "none")
        .collect();
    // First scale-out: from nothing to two instances.
    assert_eq!(rows[0].action, "instances_out");
    assert_eq!(
        (rows[0].old_desired, rows[0].new_desired),
        (0, 2),
        "{:?}",
        rows[0]
    );
    // Then what the reservation asks for (10 tasks need 3 instances), not before the warm-up ends.
    let second = rows
        .iter()
        .find(|d| d.action == "instances_out" && d.time_s > rows[0].time_s)
        .expect("a second scale-out");
    assert!(
        second.time_s >= rows[0].time_s + 300.0,
        "warm-up: {} after {}",
        second.time_s,
        rows[0].time_s
    );
    assert_eq!(second.new_desired, 3);
    assert!(
        out.decisions
            .iter()
            .any(|d| d.policy == "capacity-provider" && d.reason.contains("warm-up"))
    );
    // Every task got a place.
    assert_eq!(out.minutes[30].serving.round() as u32, 10);
    // After the shrink, instances that went empty leave only after 15 minutes.
    let ins: Vec<_> = rows.iter().filter(|d| d.action == "instances_in").collect();
    assert!(!ins.is_empty(), "empty instances are scaled in");
    for d in &ins {
        assert!(
            d.time_s >= 40.0 * 60.0 + 15.0 * 60.0,
            "scale-in at {} s",
            d.time_s
        );
    }
    let last = out.minutes.last().unwrap();
    // binpack scale-in empties the emptiest instances: two 512-CPU tasks end on one m5.large.
    assert_eq!(
        last.instances,
        Some(1),
        "two tasks of 512 CPU fit one m5.large"
    );
    assert!(out.summary.tasks.pending_task_minutes > 0.0);
    // The lag of the cold start includes the instance launches, as their
    // own stage (the boot of the instances the tasks waited for).
    let st = &out.summary.scaling.stages_s;
    assert!(st.node_provisioning > 0.0, "{st:?}");
    assert!(st.provisioning + st.node_provisioning > 60.0, "{st:?}");
}

#[test]
fn spot_instances_are_reclaimed_drained_and_replaced() {
    let toml = ec2(
        "desired = 4",
        "min_size = 2\nmax_size = 8\ndesired_capacity = 4\non_demand_percentage_above_base = 0\nspot_interruptions_per_hour = 0.5\nspot_instance_draining = true\nnetwork_mode = \"bridge\"",
        "",
        "kind = \"constant\"\nrps = 40",
    );
    let out = run(&toml, "12h");
    let s = &out.summary;
    assert!(s.tasks.spot_interrupted > 0, "{:?}", s.tasks);
    assert!(
        s.cost_usd.spot > 0.0 && s.cost_usd.instances == 0.0,
        "{:?}",
        s.cost_usd
    );
    assert!(
        s.nodes.as_ref().unwrap().launched > 4,
        "the ASG replaces reclaimed instances"
    );
    // Draining moves the tasks away before the instance goes: few requests fail.
    assert!(
        (s.requests.failed as f64) < 0.001 * s.requests.arrived as f64,
        "{:?}",
        s.requests
    );
}

#[test]
fn fargate_and_ec2_compare_and_trace_back() {
    let root = common::root();
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_capsim"))
        .args([
            "compare",
            "scenarios/quickstart.toml",
            "--platforms",
            "fargate,ecs-ec2",
            "--set",
            "duration=6h",
            "--out",
        ])
        .arg(tempfile::tempdir().unwrap().path())
        .current_dir(&root)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let table = String::from_utf8_lossy(&o.stdout);
    assert!(
        table.contains("fargate") && table.contains("ecs-ec2"),
        "{table}"
    );

    // The shipped EC2 scenario: every instance launch is a logged
    // capacity-provider decision, every task launch follows a service
    // decision or the initial fleet.
    let sc = capsim::Scenario::load(
        &root.join("scenarios/ec2-web-api.toml"),
        &["duration=12h".into()],
    )
    .unwrap();
    let out = capsim::run(&sc).unwrap();
    common::assert_conserved(&out);
    let launches = out.summary.nodes.as_ref().unwrap().launched as u32;
    let logged: u32 = out
        .decisions
        .iter()
        .filter(|d| d.action == "instances_out")
        .map(|d| d.new_desired - d.old_desired)
        .sum();
    assert_eq!(
        launches,
        2 + logged,
        "initial instances plus logged scale-outs"
    );
    let tasks = out.tasks.len() as u32;
    let scaled: u32 = out
        .decisions
        .iter()
        .filter(|d| d.action == "scale_out")
        .map(|d| d.new_desired - d.old_desired)
        .sum();
    let replaced = out
        .tasks
        .iter()
        .filter(|t| t.stop_reason.as_deref() != Some("ScaleIn") && t.stop_reason.is_some())
        .count() as u32;
    assert!(
        tasks <= 3 + scaled + replaced + 1,
        "{tasks} tasks for {scaled} scaled out and {replaced} replaced"
    );
    assert!(out.tasks.iter().all(|t| t.provider == "EC2"));
}

#[test]
fn without_spot_draining_tasks_die_with_their_instance() {
    let toml = ec2(
        "desired = 4",
        "min_size = 2\nmax_size = 8\ndesired_capacity = 4\non_demand_percentage_above_base = 0\nspot_interruptions_per_hour = 0.5\nnetwork_mode = \"bridge\"",
        "",
        "kind = \"constant\"\nrps = 40",
    );
    let out = run(&toml, "12h");
    let cut: Vec<_> = out
        .tasks
        .iter()
        .filter(|t| t.stop_reason.as_deref() == Some("SpotInterrupted"))
        .collect();
    assert!(!cut.is_empty());
    // No deregistration: they were serving until the instance went.
    assert!(cut.iter().all(|t| t.draining_s.is_none()), "{cut:?}");
}

#[test]
fn tasks_must_fit_every_instance_type_beside_the_daemons() {
    let toml = ec2(
        "desired = 1",
        "instance_types = [\"m5.large\", \"m5.xlarge\"]\ndaemons = [{ name = \"agent\", cpu = 256, memory = 256 }]",
        "",
        "kind = \"constant\"\nrps = 1",
    )
    .replace("instance_types = [\"m5.large\"]\n", "")
    .replace("cpu = 1024\nmemory = 4096", "cpu = 2048\nmemory = 4096")
    .replace("{DURATION}", "1h");
    let e = capsim::Scenario::from_toml_str(
        &toml,
        &common::root(),
        std::path::Path::new("t.toml"),
        &[],
    )
    .unwrap()
    .compile()
    .unwrap_err()
    .to_string();
    assert!(e.contains("m5.large") && e.contains("daemons"), "{e}");
}
