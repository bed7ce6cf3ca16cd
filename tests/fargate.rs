//! ECS on Fargate: task definitions and sizes, billing to the cent, the
//! Service Auto Scaling timeline (3 of 3 to scale out, 15 of 15 to scale in,
//! cooldowns, start-up stages), OOM kills and Spot interruptions.

mod common;
use capsim::report::RunOutput;

/// A Fargate scenario with fixed start-up delays (20 s provisioning, 25 s
/// pull, 5 s app start) so the timeline is predictable; `extra` is appended.
fn fargate(load: &str, task: &str, extra: &str) -> String {
    format!(
        r#"
name = "fargate-test"
seed = 3
duration = "{{DURATION}}"
[load]
{load}
[workload]
cpu_ms = {{ dist = "constant", value = 20 }}
[task]
{task}
concurrency = 32
[service]
desired = 2
[platform]
kind = "fargate"
provisioning_s = {{ dist = "constant", value = 20 }}
image_mb = 250
pull_mbps = 10
app_start_s = {{ dist = "constant", value = 5 }}
{extra}
"#
    )
}

fn run(toml: &str, duration: &str) -> RunOutput {
    let out = common::run(&toml.replace("{DURATION}", duration));
    common::assert_conserved(&out);
    out
}

fn cents(a: f64, b: f64) -> bool {
    (a - b).abs() < 0.005
}

#[test]
fn the_documentation_task_definition_loads() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(
        d.path().join("task.json"),
        r#"{
  "family": "sample-fargate",
  "networkMode": "awsvpc",
  "requiresCompatibilities": ["FARGATE"],
  "cpu": "256",
  "memory": "512",
  "containerDefinitions": [{
    "name": "sample-app",
    "image": "public.ecr.aws/docker/library/httpd:latest",
    "essential": true,
    "portMappings": [{ "containerPort": 8080, "hostPort": 8080, "protocol": "tcp" }],
    "entryPoint": ["sh", "-c"]
  }]
}"#,
    )
    .unwrap();
    let toml = fargate(
        "kind = \"constant\"\nrps = 5",
        "definition = \"task.json\"",
        "[load_balancer]\nenabled = false",
    )
    .replace("{DURATION}", "10m");
    let sc = capsim::Scenario::from_toml_str(&toml, d.path(), std::path::Path::new("t.toml"), &[])
        .unwrap();
    let c = sc.compile().unwrap();
    assert_eq!((c.shape.cpu_units, c.shape.memory_mib), (256, 512));
    assert!(
        c.notes.iter().any(|n| n.contains("entryPoint")),
        "{:?}",
        c.notes
    );

    // An invalid size fails and names the valid values.
    std::fs::write(
        d.path().join("bad.json"),
        std::fs::read_to_string(d.path().join("task.json"))
            .unwrap()
            .replace("\"512\"", "\"4096\""),
    )
    .unwrap();
    let bad = capsim::Scenario::from_toml_str(
        &toml.replace("task.json", "bad.json"),
        d.path(),
        std::path::Path::new("t.toml"),
        &[],
    )
    .unwrap();
    let e = bad.compile().unwrap_err().to_string();
    // The size comes from the task definition: it is named, and the file.
    assert!(
        e.contains("512, 1024, 2048") && e.contains("`task.definition`") && e.contains("bad.json"),
        "{e}"
    );
    // Daemon scheduling belongs to EC2.
    let daemon = capsim::Scenario::from_toml_str(
        &toml,
        d.path(),
        std::path::Path::new("t.toml"),
        &["service.scheduling_strategy=daemon".into()],
    )
    .unwrap();
    assert!(daemon.compile().unwrap_err().to_string().contains("EC2"));
}

#[test]
fn fixed_fleets_bill_to_the_cent() {
    // 3 tasks of 0.25 vCPU / 0.5 GB for 30 days, no load balancer, no traffic.
    let base = |task: &str, platform: &str| {
        fargate(
            "kind = \"constant\"\nrps = 0",
            task,
            &format!("{platform}\n[load_balancer]\nenabled = false"),
        )
        .replace("desired = 2", "desired = 3")
    };
    let hours = 30.0 * 24.0;
    let x86 = run(&base("cpu = 256\nmemory = 512", ""), "30d").summary;
    let expected = 3.0 * hours * (0.25 * 0.04048 + 0.5 * 0.004445);
    assert!(
        cents(x86.cost_usd.total, expected),
        "x86 {} vs {expected}",
        x86.cost_usd.total
    );
    assert!(cents(expected, 26.66));
    assert!(cents(
        x86.cost_usd.monthly_projection,
        expected / hours * 730.0
    ));

    let arm = run(&base("cpu = 256\nmemory = 512", "arch = \"arm64\""), "30d").summary;
    let expected = 3.0 * hours * (0.25 * 0.03238 + 0.5 * 0.00356);
    assert!(
        cents(arm.cost_usd.total, expected),
        "arm {} vs {expected}",
        arm.cost_usd.total
    );

    let spot = run(
        &base(
            "cpu = 256\nmemory = 512",
            "capacity_provider_strategy = [{ provider = \"FARGATE_SPOT\", weight = 1 }]\nspot_interruptions_per_hour = 0",
        ),
        "30d",
    )
    .summary;
    let expected = 3.0 * hours * (0.25 * 0.01288871 + 0.5 * 0.00141527);
    assert!(
        cents(spot.cost_usd.spot, expected) && spot.cost_usd.compute == 0.0,
        "spot {:?} vs {expected}",
        spot.cost_usd
    );

    let storage = run(
        &base("cpu = 256\nmemory = 512\nephemeral_storage_gb = 50", ""),
        "30d",
    )
    .summary;
    let expected_storage = 3.0 * hours * 30.0 * 0.000111;
    assert!(
        cents(storage.cost_usd.storage, expected_storage),
        "storage {} vs {expected_storage}",
        storage.cost_usd.storage
    );
    assert!(cents(
        storage.cost_usd.total,
        x86.cost_usd.total + expected_storage
    ));
}

#[test]
fn short_lived_tasks_pay_the_one_minute_minimum() {
    // A cold task starts pulling at 20 s; a scheduled action at 30 s sets
    // max_capacity 0, so it stops after 10 s of billing and pays 60 s.
    let toml = fargate(
        "kind = \"constant\"\nrps = 0",
        "cpu = 256\nmemory = 512",
        "[load_balancer]\nenabled = false\n[autoscaling]\nmin_capacity = 0\nmax_capacity = 1\n[[autoscaling.scheduled]]\nat = \"30s\"\nmax_capacity = 0",
    )
    .replace("desired = 2", "desired = 1\nstart = \"cold\"");
    let out = run(&toml, "10m");
    let per_second = (0.25 * 0.04048 + 0.5 * 0.004445) / 3600.0;
    assert!(
        (out.summary.cost_usd.total - 60.0 * per_second).abs() < 1e-12,
        "{}",
        out.summary.cost_usd.total
    );
    let t = &out.tasks[0];
    assert_eq!((t.pull_start_s, t.stopped_s), (Some(20.0), Some(30.0)));
}

#[test]
fn warm_tasks_are_past_their_minimum() {
    // Two tasks already serving at t = 0; at 10 s the service shrinks to
    // one: the stopped task's 10 in-run seconds are billed as 10, not 60.
    let toml = fargate(
        "kind = \"constant\"\nrps = 0",
        "cpu = 1024\nmemory = 2048",
        "[load_balancer]\nenabled = false\nderegistration_delay = \"0s\"\n[autoscaling]\nmin_capacity = 0\nmax_capacity = 2\n[[autoscaling.scheduled]]\nat = \"10s\"\nmax_capacity = 1",
    );
    let out = run(&toml, "1m");
    let per_second = (1.0 * 0.04048 + 2.0 * 0.004445) / 3600.0;
    assert!(
        (out.summary.cost_usd.total - (60.0 + 10.0) * per_second).abs() < 1e-12,
        "{}",
        out.summary.cost_usd.total
    );
}

/// The first scale-out and scale-in decisions of a run.
fn first(out: &RunOutput, action: &str) -> Option<f64> {
    out.decisions
        .iter()
        .find(|d| d.action == action)
        .map(|d| d.time_s)
}

#[test]
fn step_load_follows_the_aws_timeline() {
    // 50 req/s × 20 ms = 1 core on two 1-vCPU tasks (50 %), target 60 %.
    // At 30 min the load rises to 140 req/s (2.8 cores: 5 tasks at 56 %);
    // at 90 min it falls back.
    let toml = fargate(
        "kind = \"step\"\nrps = 50\nat = \"30m\"\nto_rps = 140\nuntil = \"90m\"",
        "cpu = 1024\nmemory = 2048",
        "[autoscaling]\nmin_capacity = 2\nmax_capacity = 10\ntarget_value = 60\nmetric_delay = \"60s\"",
    );
    let out = run(&toml, "3h");
    let step = 30.0 * 60.0;
    // Three full metric minutes above target (30, 31, 32), published a
    // minute after the third ends: no scale-out before 34:00.
    let out_at = first(&out, "scale_out").expect("scales out");
    assert!(
        out_at >= step + 3.0 * 60.0 + 60.0,
        "scale-out decided at {out_at} s"
    );
    assert!(
        out_at <= step + 5.0 * 60.0,
        "scale-out decided late: {out_at} s"
    );
    // The high alarm saw 3 of 3 datapoints above the target.
    let d = out
        .decisions
        .iter()
        .find(|d| d.action == "scale_out")
        .unwrap();
    let points = values(&d.datapoints.to_string());
    assert_eq!(points.len(), 3);
    // Each datapoint names its minute: the step's first three.
    let text = d.datapoints.to_string();
    let minutes: Vec<&str> = text
        .split(';')
        .map(|p| p.split('=').next().unwrap())
        .collect();
    assert_eq!(minutes, ["00:30", "00:31", "00:32"], "{}", d.datapoints);
    assert!(points.iter().all(|p| *p > 60.0), "{points:?}");
    // New tasks serve only after provisioning + pull + app start + a health check.
    for t in out.tasks.iter().filter(|t| t.launched_s > 0.0) {
        if let Some(s) = t.serving_s {
            assert!(
                s - t.launched_s >= 20.0 + 25.0 + 5.0,
                "task {} served {} s after launch",
                t.task,
                s - t.launched_s
            );
            assert_eq!(t.pull_start_s, Some(t.launched_s + 20.0));
            assert_eq!(t.running_s, Some(t.launched_s + 45.0));
        }
    }
    // Settles at ceil(2.8 / 0.6) = 5 tasks (the backlog of the first
    // minutes may overshoot first; scale-in brings it back).
    assert_eq!(out.minutes[85].desired, 5, "desired at 85 min");
    // Every target-tracking scale-out saw 3 of 3 datapoints above 60, every
    // scale-in 15 of 15 below 54.
    for d in out.decisions.iter().filter(|d| d.action != "none") {
        let points = values(&d.datapoints.to_string());
        match &*d.action.as_str() {
            "scale_out" => assert!(
                points.len() == 3 && points.iter().all(|p| *p > 60.0),
                "{d:?}"
            ),
            "scale_in" => assert!(
                points.len() == 15 && points.iter().all(|p| *p < 54.0),
                "{d:?}"
            ),
            other => panic!("unexpected action {other}"),
        }
    }
    // After the drop at 90 min (minute 89 still above 54 %), scale-in needs
    // minutes 90–104 below 54 %, published at 106:00.
    assert!(out.minutes[89].cpu_utilization.unwrap() >= 0.54);
    let in_at = out
        .decisions
        .iter()
        .find(|d| d.action == "scale_in" && d.time_s > 90.0 * 60.0)
        .map(|d| d.time_s)
        .expect("scales in");
    assert!(
        in_at >= 90.0 * 60.0 + 15.0 * 60.0 + 60.0,
        "scale-in decided at {in_at} s"
    );
    // Scale-in cooldown: successive scale-ins are at least 300 s apart.
    let ins: Vec<f64> = out
        .decisions
        .iter()
        .filter(|d| d.action == "scale_in")
        .map(|d| d.time_s)
        .collect();
    for w in ins.windows(2) {
        assert!(w[1] - w[0] >= 300.0, "scale-ins at {} and {} s", w[0], w[1]);
    }
    // The load drops to what 2 tasks serve: one scale-in from 5 to 2, and
    // no row blames the cooldown for holding back a scale-in it did not
    // propose (proposals ≥ the desired count are "no action").
    for d in &out.decisions {
        if d.reason.contains("scale-in cooldown") {
            assert!(d.proposed.is_some_and(|p| p < d.old_desired), "{d:?}");
        }
    }
    // Back to the 2 tasks the low load needs, never below min_capacity.
    assert_eq!(out.minutes.last().unwrap().desired, 2);
    assert!(out.minutes.iter().all(|m| m.desired >= 2));
    // The lag of the step is measured and its stages add up.
    let s = &out.summary.scaling;
    assert!(s.scale_out_events >= 1 && s.scale_in_events >= 1);
    let lag = s.lag_s.max.expect("a lag episode");
    assert!(lag >= 4.0 * 60.0 + 50.0, "lag {lag}");
    let stages = s.stages_s;
    assert!(
        stages.provisioning > 0.0 && stages.image_pull > 0.0 && stages.metric_period > 0.0,
        "{stages:?}"
    );
}

#[test]
fn steady_load_converges_to_the_formula() {
    // 90 req/s × 20 ms = 1.8 cores; 1-vCPU tasks at target 50 % need
    // ceil(1.8 / 0.5) = 4 tasks, which then run at 45 %.
    let toml = fargate(
        "kind = \"constant\"\nrps = 90",
        "cpu = 1024\nmemory = 2048",
        "[autoscaling]\nmin_capacity = 1\nmax_capacity = 10\ntarget_value = 50",
    );
    let out = run(&toml, "4h");
    let settled: Vec<u32> = out.minutes[30..].iter().map(|m| m.desired).collect();
    assert!(
        settled.iter().all(|d| *d == 4),
        "desired after 30 min: {settled:?}"
    );
    let u = out.minutes[200].cpu_utilization.unwrap();
    assert!((u - 0.45).abs() < 0.03, "utilisation {u}");
}

#[test]
fn oom_kills_are_replaced_and_lose_no_request() {
    // 2 GB tasks, 400 MiB base + 100 MiB per request in flight: the 17th
    // concurrent request kills a task. A spike makes queues build up.
    let toml = fargate(
        "kind = \"spike\"\nrps = 20\nspike_rps = 400\nat = \"10m\"\nlength = \"2m\"",
        "cpu = 1024\nmemory = 2048",
        "",
    )
    .replace("cpu_ms = { dist = \"constant\", value = 20 }", "cpu_ms = { dist = \"constant\", value = 20 }\nmemory_base_mib = 400\nmemory_per_request_mib = 100");
    let out = run(&toml, "30m");
    let s = &out.summary;
    assert!(s.tasks.oom_killed > 0, "{:?}", s.tasks);
    assert!(s.requests.failed > 0);
    assert!(
        s.tasks.launched >= 2 + s.tasks.oom_killed,
        "every OOM-killed task is replaced"
    );
    assert!(
        out.tasks
            .iter()
            .any(|t| t.stop_reason.as_deref() == Some("OomKilled"))
    );
    // After the spike the fleet is back to the desired count.
    assert_eq!(out.minutes.last().unwrap().serving.round() as u32, 2);
}

#[test]
fn spot_interruptions_are_replaced_and_lose_no_request() {
    let toml = fargate(
        "kind = \"constant\"\nrps = 60",
        "cpu = 1024\nmemory = 2048",
        "capacity_provider_strategy = [{ provider = \"FARGATE\", base = 1, weight = 1 }, { provider = \"FARGATE_SPOT\", weight = 3 }]\nspot_interruptions_per_hour = 2",
    )
    .replace("desired = 2", "desired = 4");
    let out = run(&toml, "6h");
    let s = &out.summary;
    assert!(s.tasks.spot_interrupted > 0, "{:?}", s.tasks);
    assert!(s.cost_usd.spot > 0.0 && s.cost_usd.compute > 0.0);
    // The base task is on demand; the others 1:3.
    let od = out.tasks.iter().filter(|t| t.provider == "FARGATE").count();
    assert!(od >= 1);
    // Interrupted tasks stop within the 2-minute warning.
    for t in out
        .tasks
        .iter()
        .filter(|t| t.stop_reason.as_deref() == Some("SpotInterrupted"))
    {
        assert_eq!(t.provider, "FARGATE_SPOT");
        assert!(t.stopped_s.is_some());
    }
    // The service keeps its desired count (4) serving most of the time.
    let mean_serving: f64 =
        out.minutes.iter().map(|m| m.serving).sum::<f64>() / out.minutes.len() as f64;
    assert!(mean_serving > 3.8, "mean serving {mean_serving}");
}

/// The values of a decision row's datapoints (`09:01=62.10;09:02=…`).
fn values(datapoints: &str) -> Vec<f64> {
    datapoints
        .split(';')
        .map(|p| p.split_once('=').expect("labelled").1.parse().unwrap())
        .collect()
}

/// A price override bills and is what the report says was billed, named as
/// the scenario's, with the catalog's price beside it.
#[test]
fn a_price_override_is_reported_as_the_price() {
    let sc = common::scenario_with(
        &common::step_fargate("priced", "10m", 250),
        &["platform.vcpu_hour_usd=0.05"],
    )
    .unwrap();
    let out = capsim::run(&sc).unwrap();
    let a = out.context.assumptions;
    let price = a
        .iter()
        .find(|r| r.item.starts_with("Fargate price"))
        .expect("a Fargate price row");
    assert!(price.value.starts_with("$0.05/vCPU-h"), "{price:?}");
    assert!(
        price.source.starts_with(
            "scenario override: platform.vcpu_hour_usd = 0.05 (the catalog's $0.04048/vCPU-h"
        ),
        "{price:?}"
    );
}
