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
