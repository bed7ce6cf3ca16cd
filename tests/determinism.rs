//! Same scenario + same seed ⇒ byte-identical outputs (apart from the wall
//! time); another seed ⇒ different draws.

mod common;
use capsim::report::{summary_json, timeseries_csv};

fn scenario_text() -> String {
    common::basic(
        "kind = \"diurnal\"\nmean_rps = 80\npeak_to_trough = 3\npeak_hour = 0.1",
        "cpu_ms = { dist = \"lognormal\", mean = 15, p99 = 90 }\nio_ms = { dist = \"exponential\", mean = 20 }\ntimeout = \"3s\"",
        "cpu = 1024\nmemory = 2048\nconcurrency = 4\nqueue_limit = 30",
        "desired = 3\nrouting = \"least_outstanding\"",
    )
}

fn outputs(seed: u64) -> (String, String) {
    let sc = common::scenario_with(&scenario_text(), &[&format!("seed={seed}")]).unwrap();
    let mut out = capsim::run(&sc).unwrap();
    out.summary.engine.wall_ms = 0.0;
    (summary_json(&out.summary), timeseries_csv(&out.minutes))
}

#[test]
fn same_seed_same_bytes() {
    let a = outputs(5);
    let b = outputs(5);
    assert_eq!(a.0, b.0);
    assert_eq!(a.1, b.1);
}

#[test]
fn other_seed_other_draws() {
    let a = outputs(5);
    let c = outputs(6);
    assert_ne!(a.0, c.0);
    assert_ne!(a.1, c.1);
}

#[test]
fn same_requests_across_configurations() {
    // Common random numbers: arrivals do not depend on the fleet.
    let base = scenario_text();
    let one = capsim::run(&common::scenario_with(&base, &["service.desired=1"]).unwrap()).unwrap();
    let five = capsim::run(&common::scenario_with(&base, &["service.desired=5"]).unwrap()).unwrap();
    assert_eq!(one.summary.requests.arrived, five.summary.requests.arrived);
    let a: Vec<u64> = one.minutes.iter().map(|m| m.arrived).collect();
    let b: Vec<u64> = five.minutes.iter().map(|m| m.arrived).collect();
    assert_eq!(a, b);
}

/// A sweep's job runs without the service's decision log (`run_summary`):
/// the same decisions, the same summary, byte for byte, in both planes and with
/// step scaling and scheduled actions too.
#[test]
fn the_summary_does_not_depend_on_the_decision_log() {
    let root = common::root();
    for (file, extra) in [
        ("scenarios/quickstart.toml", "fidelity=\"request\""),
        ("scenarios/quickstart.toml", "fidelity=\"fluid\""),
        (
            "scenarios/fargate-step-scaling.toml",
            "fidelity=\"request\"",
        ),
        ("scenarios/ec2-web-api.toml", "fidelity=\"fluid\""),
    ] {
        let o = vec!["duration=\"4h\"".to_string(), extra.to_string()];
        let s = capsim::Scenario::load(&root.join(file), &o).unwrap();
        let full = capsim::run(&s).unwrap();
        let quick = capsim::run_summary(&s).unwrap();
        assert!(!full.decisions.is_empty(), "{file}: the full run logs");
        // The service's own rows go (a cluster's managed scaling still logs).
        assert!(
            quick.decisions.len() < full.decisions.len(),
            "{file}: the summary run keeps fewer rows"
        );
        let json = |o: capsim::RunOutput| {
            let mut s = o.summary;
            s.engine.wall_ms = 0.0;
            serde_json::to_string(&s).unwrap()
        };
        assert_eq!(json(full), json(quick), "{file} {extra}");
    }
}
