//! The `capsim` binary end to end: outputs, `--json`, `validate`, and every
//! kind of bad input giving a clear error (never a panic).

mod common;
use std::path::Path;
use std::process::{Command, Output};

fn capsim(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_capsim"))
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("capsim runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Asserts a clean failure whose message contains every `needle`.
fn fails_with(o: &Output, needles: &[&str]) {
    let e = stderr(o);
    assert!(
        !o.status.success(),
        "expected failure, got success; stderr: {e}"
    );
    assert!(!e.contains("panicked"), "panic instead of an error: {e}");
    for n in needles {
        assert!(e.contains(n), "error should mention {n:?}: {e}");
    }
}

const SMALL: &str = r#"
name = "small"
seed = 4
duration = "2m"
[load]
kind = "constant"
rps = 50
[workload]
cpu_ms = { dist = "exponential", mean = 10 }
[task]
cpu = 1024
memory = 2048
concurrency = 4
[service]
desired = 2
[platform]
kind = "ideal"
"#;

#[test]
fn run_writes_summary_and_timeseries() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("s.toml"), SMALL).unwrap();
    let o = capsim(&["run", "s.toml", "--out", "out"], d.path());
    assert!(o.status.success(), "{}", stderr(&o));
    let human = String::from_utf8(o.stdout).unwrap();
    assert!(
        human.contains("latency") && human.contains("requests"),
        "{human}"
    );
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.path().join("out/summary.json")).unwrap())
            .unwrap();
    for key in [
        "scenario",
        "seed",
        "duration_s",
        "requests",
        "latency_ms",
        "queue_wait_ms",
        "tasks",
        "cpu_utilization",
        "cost_usd",
        "slo",
        "engine",
    ] {
        assert!(summary.get(key).is_some(), "summary.json lacks {key}");
    }
    for key in [
        "arrived",
        "completed",
        "timed_out",
        "rejected",
        "in_flight_at_end",
    ] {
        assert!(
            summary["requests"].get(key).is_some(),
            "requests lacks {key}"
        );
    }
    for key in ["mean", "p50", "p90", "p95", "p99", "p999", "max"] {
        assert!(summary["latency_ms"][key].is_number(), "latency_ms.{key}");
    }
    for key in ["min", "max", "mean", "task_hours"] {
        assert!(summary["tasks"][key].is_number(), "tasks.{key}");
    }
    assert_eq!(summary["cost_usd"]["total"], 0.0);
    assert!(summary["engine"]["events"].as_u64().unwrap() > 0);
    let csv = std::fs::read_to_string(d.path().join("out/timeseries.csv")).unwrap();
    let header = csv.lines().next().unwrap();
    for col in [
        "arrival_rps",
        "completed",
        "timed_out",
        "tasks",
        "cpu_utilization",
        "latency_p50_ms",
        "latency_p99_ms",
    ] {
        assert!(
            header.split(',').any(|c| c == col),
            "timeseries.csv lacks {col}: {header}"
        );
    }
    assert_eq!(csv.lines().count(), 1 + 2, "a header and two minutes");
}

#[test]
fn json_flag_prints_only_the_summary() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("s.toml"), SMALL).unwrap();
    let o = capsim(
        &[
            "run",
            "s.toml",
            "--json",
            "--seed",
            "9",
            "--set",
            "load.rps=20",
            "--out",
            "o",
        ],
        d.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value =
        serde_json::from_slice(&o.stdout).expect("stdout is exactly one JSON document");
    assert_eq!(v["seed"], 9);
    let arrived = v["requests"]["arrived"].as_f64().unwrap();
    assert!(
        (arrived - 2400.0).abs() < 5.0 * 2400f64.sqrt(),
        "--set load.rps=20 took effect: {arrived}"
    );
}

#[test]
fn default_output_is_reports_slash_safe_name() {
    let d = tempfile::tempdir().unwrap();
    let evil = SMALL.replace("name = \"small\"", "name = \"../../outside/<x>\"");
    std::fs::write(d.path().join("s.toml"), evil).unwrap();
    std::fs::create_dir(d.path().join("sub")).unwrap();
    let o = capsim(&["run", "../s.toml"], &d.path().join("sub"));
    assert!(o.status.success(), "{}", stderr(&o));
    let reports = d.path().join("sub/reports");
    let entries: Vec<_> = std::fs::read_dir(&reports)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert!(reports.join(&entries[0]).join("summary.json").is_file());
    assert!(
        !d.path().join("outside").exists(),
        "wrote outside the output folder"
    );
}

#[test]
fn validate_accepts_the_bundled_scenarios() {
    let root = common::root();
    let mut names: Vec<String> = std::fs::read_dir(root.join("scenarios"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".toml"))
        .collect();
    names.sort();
    assert!(names.len() >= 5, "{names:?}");
    for name in names {
        if name == "nasa-trace.toml" && common::reference_data().is_none() {
            println!("skipped {name}: reference data not found");
            continue;
        }
        let s = format!("scenarios/{name}");
        let s = s.as_str();
        let o = capsim(&["validate", s], &root);
        assert!(o.status.success(), "{s}: {}", stderr(&o));
        assert!(String::from_utf8_lossy(&o.stdout).contains("ok"));
    }
}

#[test]
fn bad_inputs_are_clear_errors() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    fails_with(
        &capsim(&["run", "missing.toml"], p),
        &["missing.toml", "cannot read"],
    );

    std::fs::write(p.join("malformed.toml"), "name = \"x\"\nduration = \n").unwrap();
    fails_with(
        &capsim(&["validate", "malformed.toml"], p),
        &["malformed.toml", "line 2"],
    );

    std::fs::write(
        p.join("unknown.toml"),
        SMALL.replace("desired = 2", "desired = 2\nreplicas = 3"),
    )
    .unwrap();
    fails_with(
        &capsim(&["validate", "unknown.toml"], p),
        &["unknown.toml", "replicas", "service"],
    );

    std::fs::write(p.join("typo.toml"), SMALL.replace("rps = 50", "rsp = 50")).unwrap();
    fails_with(
        &capsim(&["validate", "typo.toml"], p),
        &["typo.toml", "rsp", "rps"],
    );

    std::fs::write(
        p.join("negative.toml"),
        SMALL.replace("rps = 50", "rps = -50"),
    )
    .unwrap();
    fails_with(
        &capsim(&["validate", "negative.toml"], p),
        &["negative.toml", "load.rps", "line 7", "-50"],
    );

    std::fs::write(
        p.join("zero.toml"),
        SMALL.replace("duration = \"2m\"", "duration = \"0s\""),
    )
    .unwrap();
    fails_with(
        &capsim(&["validate", "zero.toml"], p),
        &["zero.toml", "duration", "line 4"],
    );

    std::fs::write(
        p.join("unitless.toml"),
        SMALL.replace("duration = \"2m\"", "duration = 120"),
    )
    .unwrap();
    fails_with(
        &capsim(&["validate", "unitless.toml"], p),
        &["unitless.toml", "duration", "unit"],
    );

    std::fs::write(p.join("s.toml"), SMALL).unwrap();
    fails_with(
        &capsim(&["validate", "s.toml", "--set", "load.rps=-1"], p),
        &["load.rps", "--set"],
    );
    fails_with(
        &capsim(&["validate", "s.toml", "--set", "task.cpu=lots"], p),
        &["task.cpu", "--set"],
    );
    fails_with(
        &capsim(&["validate", "s.toml", "--set", "nonsense"], p),
        &["nonsense", "key=value"],
    );

    std::fs::write(p.join("trace.csv"), "t,n\n0,5\n60,x\n").unwrap();
    let with_trace = SMALL.replace(
        "kind = \"constant\"\nrps = 50",
        "kind = \"trace\"\nfile = \"trace.csv\"\ntime_column = \"t\"\ncolumn = \"n\"\nbucket = \"1m\"",
    );
    std::fs::write(p.join("trace.toml"), with_trace).unwrap();
    fails_with(
        &capsim(&["validate", "trace.toml"], p),
        &["trace.csv", "line 3", "\"x\""],
    );

    std::fs::write(p.join("back.csv"), "t,n\n0,5\n120,5\n60,5\n").unwrap();
    std::fs::write(
        p.join("back.toml"),
        std::fs::read_to_string(p.join("trace.toml"))
            .unwrap()
            .replace("trace.csv", "back.csv"),
    )
    .unwrap();
    fails_with(
        &capsim(&["validate", "back.toml"], p),
        &["back.csv", "line 4", "increasing"],
    );
}

#[test]
fn shared_cluster_run_writes_each_service_and_the_cluster() {
    let root = common::root();
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("shared");
    let o = capsim(
        &[
            "run",
            "scenarios/shared-cluster.toml",
            "--set",
            "duration=\"2h\"",
            "--out",
            out.to_str().unwrap(),
        ],
        &root,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("3 services sharing one cluster"), "{text}");
    for name in ["web", "search", "accounts"] {
        assert!(text.contains(&format!("service    {name}:")), "{text}");
        let s: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(out.join(name).join("summary.json")).unwrap(),
        )
        .unwrap();
        assert_eq!(s["scenario"], name);
        let page = std::fs::read_to_string(out.join(name).join("index.html")).unwrap();
        assert!(
            page.contains("shared cluster: see the cluster page"),
            "a shared service's page points at the cluster's"
        );
    }
    let c: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("cluster.json")).unwrap()).unwrap();
    assert_eq!(c["services"].as_array().unwrap().len(), 3);
    let page = std::fs::read_to_string(out.join("index.html")).unwrap();
    assert!(page.contains("web/index.html") && page.contains("unallocated"));
    for chart in ["tasks.svg", "tasks.png", "cost.svg", "cost.png"] {
        assert!(out.join(chart).is_file(), "{chart}");
    }
    assert!(page.contains("<svg"), "charts are inline");

    // --json prints exactly the cluster summary.
    let o = capsim(
        &[
            "run",
            "scenarios/shared-cluster.toml",
            "--set",
            "duration=\"10m\"",
            "--json",
            "--out",
            out.to_str().unwrap(),
        ],
        &root,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(j["scenario"], "shared-cluster");

    // --alone belongs to shared scenarios.
    let o = capsim(&["run", "scenarios/ec2-web-api.toml", "--alone"], &root);
    fails_with(&o, &["--alone", "one service"]);

    // Sweeps and comparisons refuse it with a reason.
    let o = capsim(&["sweep", "scenarios/shared-cluster.toml"], &root);
    fails_with(&o, &["services", "cannot be swept"]);
    let o = capsim(
        &[
            "compare",
            "scenarios/shared-cluster.toml",
            "--platforms",
            "fargate",
        ],
        &root,
    );
    fails_with(&o, &["services", "capsim run"]);
}

/// The image the README's Indexed Job and Batch examples run builds where
/// a container engine exists (none runs on the project's CI machines: the
/// test says it skipped), and its binary answers.
#[test]
fn the_container_image_builds_where_an_engine_exists() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let dockerfile = std::fs::read_to_string(root.join("Dockerfile")).unwrap();
    assert!(dockerfile.contains("--locked") && dockerfile.contains("/licenses"));
    let engine = ["docker", "podman"].into_iter().find(|e| {
        std::process::Command::new(e)
            .arg("info")
            .output()
            .is_ok_and(|o| o.status.success())
    });
    let Some(engine) = engine else {
        eprintln!("skipped: no container engine (docker or podman) runs here");
        return;
    };
    let built = std::process::Command::new(engine)
        .args(["build", "-t", "capsim:test", "."])
        .current_dir(root)
        .status()
        .unwrap();
    assert!(built.success());
    let o = std::process::Command::new(engine)
        .args(["run", "--rm", "capsim:test", "capsim", "--version"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&o.stdout).contains("capsim"));
}
