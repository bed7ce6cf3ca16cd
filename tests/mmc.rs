//! One task with cpu = c×1024, concurrency = c and exponential CPU demand is
//! an M/M/c queue: its mean latency must match Erlang C, and Little's law
//! must hold.
//!
//! Run lengths are chosen so that 2 % is at least four standard errors of
//! the sample mean (the M/M/1 asymptotic variance at ρ = 0.9 is the worst:
//! about 0.5 % relative standard error at 10 M requests, measured over seeds).

mod common;

/// Erlang C: probability that an arrival waits, for c servers and offered load a = λ/μ.
fn erlang_c(c: u32, a: f64) -> f64 {
    let mut term = 1.0; // a^k / k!
    let mut sum = 0.0;
    for k in 0..c {
        if k > 0 {
            term *= a / k as f64;
        }
        sum += term;
    }
    let last = term * a / c as f64 * c as f64 / (c as f64 - a);
    last / (sum + last)
}

/// Mean time in system (ms) of M/M/c with service mean `s_ms` at utilisation `rho`.
fn mmc_mean_ms(c: u32, rho: f64, s_ms: f64) -> f64 {
    let mu = 1.0 / s_ms;
    let lambda = rho * c as f64 * mu;
    let wq = erlang_c(c, lambda / mu) / (c as f64 * mu - lambda);
    wq + s_ms
}

fn check(c: u32, rho: f64, requests: f64) {
    let s_ms = 10.0;
    let lambda = rho * c as f64 * 1000.0 / s_ms;
    let secs = (requests / lambda).ceil() as u64;
    let toml = format!(
        r#"
name = "mmc"
seed = {seed}
duration = "{secs}s"
[load]
kind = "constant"
rps = {lambda}
[workload]
cpu_ms = {{ dist = "exponential", mean = {s_ms} }}
[task]
cpu = {cpu}
memory = 4096
concurrency = {c}
[service]
desired = 1
[platform]
kind = "ideal"
"#,
        seed = 11 + c as u64,
        cpu = c * 1024
    );
    let out = common::run(&toml);
    common::assert_conserved(&out);
    let s = &out.summary;
    let expected = mmc_mean_ms(c, rho, s_ms);
    let got = s.latency_ms.mean.unwrap();
    let err = (got - expected) / expected;
    println!(
        "M/M/{c} rho={rho}: {} requests, mean {got:.4} ms vs Erlang C {expected:.4} ms ({:+.2} %)",
        s.requests.arrived,
        err * 100.0
    );
    assert!(
        err.abs() < 0.02,
        "M/M/{c} at rho={rho}: mean latency {got} ms, Erlang C {expected} ms ({:+.2} %)",
        err * 100.0
    );

    // Little's law: L = λW, with the observed arrival rate.
    let lambda_obs = s.requests.arrived as f64 / s.duration_s;
    let little = lambda_obs * got / 1000.0;
    let l = s.in_flight.mean;
    assert!(
        (l - little).abs() / little < 0.01,
        "Little's law: L = {l}, λW = {little}"
    );

    // The CPU utilisation the autoscalers will read is ρ.
    let u = s.cpu_utilization.mean.unwrap();
    assert!((u - rho).abs() < 0.01, "utilisation {u} vs rho {rho}");
}

#[test]
fn mm1_matches_erlang_c() {
    check(1, 0.5, 2.0e6);
    check(1, 0.8, 6.0e6);
    check(1, 0.9, 14.0e6);
}

#[test]
fn mm4_matches_erlang_c() {
    check(4, 0.5, 1.0e6);
    check(4, 0.8, 2.0e6);
    check(4, 0.9, 5.0e6);
}

#[test]
fn mm16_matches_erlang_c() {
    check(16, 0.5, 1.0e6);
    check(16, 0.8, 2.0e6);
    check(16, 0.9, 6.0e6);
}

#[test]
fn erlang_c_formula_sanity() {
    // M/M/1: P(wait) = ρ, W = 1/(μ − λ).
    assert!((erlang_c(1, 0.9) - 0.9).abs() < 1e-12);
    assert!((mmc_mean_ms(1, 0.9, 10.0) - 100.0).abs() < 1e-9);
    // A published value: c = 16, a = 14.4 → Wq ≈ 3.696 ms at s = 10 ms.
    assert!((mmc_mean_ms(16, 0.9, 10.0) - 13.6959).abs() < 1e-3);
}

/// One vCPU shared by every request in service (concurrency far above the
/// core count) is an M/G/1 processor-sharing queue: its mean time in system
/// is E[S] / (1 − ρ) whatever the service distribution (insensitivity).
/// This checks the virtual-clock processor sharing the dedicated-core tests
/// above do not exercise.
fn check_ps(dist: &str, rho: f64, requests: f64) {
    let s_ms = 10.0;
    let lambda = rho * 1000.0 / s_ms;
    let secs = (requests / lambda).ceil() as u64;
    let toml = format!(
        "name = \"ps\"\nseed = 21\nduration = \"{secs}s\"\n[load]\nkind = \"constant\"\nrps = {lambda}\n[workload]\ncpu_ms = {dist}\n[task]\ncpu = 1024\nmemory = 4096\nconcurrency = 100000\n[service]\ndesired = 1\n[platform]\nkind = \"ideal\"\n"
    );
    let out = common::run(&toml);
    common::assert_conserved(&out);
    let got = out.summary.latency_ms.mean.unwrap();
    let expected = s_ms / (1.0 - rho);
    let err = (got - expected) / expected;
    println!(
        "M/G/1-PS {dist} rho={rho}: mean {got:.4} ms vs {expected:.4} ms ({:+.2} %)",
        err * 100.0
    );
    assert!(
        err.abs() < 0.02,
        "M/G/1-PS with {dist} at rho={rho}: {got} ms vs {expected} ms"
    );
}

#[test]
fn mg1_processor_sharing_is_insensitive() {
    check_ps("{ dist = \"exponential\", mean = 10 }", 0.8, 6.0e6);
    check_ps("{ dist = \"lognormal\", mean = 10, p99 = 60 }", 0.8, 6.0e6);
    check_ps("{ dist = \"constant\", value = 10 }", 0.5, 2.0e6);
}
