//! Helpers shared by the integration tests.
#![allow(dead_code)]

use capsim::{RunOutput, Scenario};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The project root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Parses a scenario written inline, resolving relative paths from the project root.
pub fn scenario(toml: &str) -> Scenario {
    Scenario::from_toml_str(toml, &root(), Path::new("<test>"), &[])
        .unwrap_or_else(|e| panic!("{e}"))
}

/// Parses with overrides.
pub fn scenario_with(toml: &str, overrides: &[&str]) -> Result<Scenario, capsim::Error> {
    let o: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
    Scenario::from_toml_str(toml, &root(), Path::new("<test>"), &o)
}

/// Runs an inline scenario.
pub fn run(toml: &str) -> RunOutput {
    capsim::run(&scenario(toml)).unwrap_or_else(|e| panic!("{e}"))
}

/// The shared reference data folder (`../shared/data`, or `$CAPSIM_REFERENCE_DATA`),
/// or `None` — the caller then prints that it skipped.
pub fn reference_data() -> Option<PathBuf> {
    let dir = std::env::var_os("CAPSIM_REFERENCE_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("../shared/data"));
    dir.is_dir().then_some(dir)
}

/// A minimal valid scenario with the given sections replaced.
pub fn basic(load: &str, workload: &str, task: &str, service: &str) -> String {
    format!(
        "name = \"t\"\nseed = 7\nduration = \"10m\"\n[load]\n{load}\n[workload]\n{workload}\n[task]\n{task}\n[service]\n{service}\n[platform]\nkind = \"ideal\"\n"
    )
}

/// Asserts the accounting identity of a run.
pub fn assert_conserved(out: &RunOutput) {
    let r = &out.summary.requests;
    assert!(r.conserved(), "requests not conserved: {r:?}");
    let per_minute: u64 = out.minutes.iter().map(|m| m.arrived).sum();
    assert_eq!(per_minute, r.arrived, "per-minute arrivals do not add up");
    let finished: u64 = out
        .minutes
        .iter()
        .map(|m| m.completed + m.timed_out + m.rejected + m.failed)
        .sum();
    assert_eq!(
        finished + r.in_flight_at_end,
        r.arrived,
        "per-minute outcomes do not add up"
    );
}

/// A Fargate service with a load step (20 → 60 req/s at 5 min) and target
/// tracking at 60 % CPU: the fixture of the report and sweep tests.
pub fn step_fargate(name: &str, duration: &str, slo_p99_ms: u32) -> String {
    format!(
        r#"
name = "{name}"
seed = 5
duration = "{duration}"
[load]
kind = "step"
rps = 20
at = "5m"
to_rps = 60
[workload]
cpu_ms = {{ dist = "exponential", mean = 20 }}
[task]
cpu = 512
memory = 1024
concurrency = 8
[service]
desired = 2
[platform]
kind = "fargate"
[autoscaling]
min_capacity = 1
max_capacity = 8
target_value = 60
[slo]
p99_ms = {slo_p99_ms}
"#
    )
}

/// The headless browser for page checks: `$CAPSIM_CHROMIUM` or a
/// Debian/Chrome install.
pub fn chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("CAPSIM_CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    [
        "/usr/bin/chromium",
        "/usr/bin/chromium-browser",
        "/usr/bin/google-chrome",
    ]
    .iter()
    .map(PathBuf::from)
    .find(|p| p.is_file())
}

/// A headless Chromium command with a throwaway profile.
pub fn headless(browser: &Path, profile: &Path) -> Command {
    let mut c = Command::new(browser);
    c.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
    ])
    .arg(format!("--user-data-dir={}", profile.display()));
    c
}
