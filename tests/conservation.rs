//! Every arrived request is accounted for exactly once:
//! arrived = completed + timed_out + rejected + failed + in_flight_at_end.

mod common;
use common::{assert_conserved, basic, run};
use proptest::prelude::*;

#[test]
fn overloaded_with_timeouts_and_a_bounded_queue() {
    let out = run(&basic(
        "kind = \"constant\"\nrps = 400",
        "cpu_ms = { dist = \"lognormal\", mean = 20, p99 = 120 }\nio_ms = { dist = \"exponential\", mean = 30 }\ntimeout = \"2s\"",
        "cpu = 512\nmemory = 1024\nconcurrency = 8\nqueue_limit = 20",
        "desired = 2\nrouting = \"least_outstanding\"",
    ));
    assert_conserved(&out);
    let r = &out.summary.requests;
    assert!(
        r.rejected > 0,
        "the queue limit must reject under 2.5x overload: {r:?}"
    );
    assert!(r.completed > 0);
}

#[test]
fn timeouts_fire_in_an_unbounded_queue() {
    let out = run(&basic(
        "kind = \"constant\"\nrps = 150",
        "cpu_ms = { dist = \"exponential\", mean = 10 }\ntimeout = \"500ms\"",
        "cpu = 1024\nmemory = 2048\nconcurrency = 1",
        "desired = 1",
    ));
    assert_conserved(&out);
    let r = &out.summary.requests;
    assert!(r.timed_out > 0 && r.rejected == 0, "{r:?}");
    // Nothing that completed took longer than the timeout.
    assert!(out.summary.latency_ms.max.unwrap() <= 500.0);
}

#[test]
fn no_task_means_every_request_is_rejected() {
    let out = run(&basic(
        "kind = \"constant\"\nrps = 10",
        "cpu_ms = { dist = \"constant\", value = 5 }",
        "cpu = 256\nmemory = 512\nconcurrency = 1",
        "desired = 0",
    ));
    assert_conserved(&out);
    let r = &out.summary.requests;
    assert_eq!(r.rejected, r.arrived);
    assert!(r.arrived > 5000);
    assert_eq!(out.summary.latency_ms.p99, None);
}

#[test]
fn processor_sharing_slows_oversubscribed_tasks() {
    // 0.25 vCPU and 4 slots: a lone 10 ms request takes 40 ms of wall time.
    let out = run(&basic(
        "kind = \"constant\"\nrps = 0.5",
        "cpu_ms = { dist = \"constant\", value = 10 }",
        "cpu = 256\nmemory = 512\nconcurrency = 4",
        "desired = 1",
    ));
    assert_conserved(&out);
    let p50 = out.summary.latency_ms.p50.unwrap();
    assert!((p50 - 40.0).abs() < 0.1, "p50 {p50}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    #[test]
    fn random_scenarios_conserve_requests(
        rps in 1.0f64..300.0,
        cpu_ms in 1.0f64..60.0,
        io_ms in 0.0f64..50.0,
        cpu in prop::sample::select(vec![256u32, 512, 1024, 2048, 4096]),
        concurrency in 1u32..32,
        queue_limit in prop::option::of(0u32..50),
        timeout_ms in prop::option::of(50u64..3000),
        desired in 0u32..5,
        least in any::<bool>(),
        fluid in any::<bool>(),
        noise in any::<bool>(),
        seed in 0u64..(i64::MAX as u64),
    ) {
        let io = if io_ms > 0.5 { format!("io_ms = {{ dist = \"exponential\", mean = {io_ms} }}\n") } else { String::new() };
        let timeout = timeout_ms.map(|t| format!("timeout = \"{t}ms\"\n")).unwrap_or_default();
        let ql = queue_limit.map(|q| format!("queue_limit = {q}\n")).unwrap_or_default();
        let toml = format!(
            "name = \"p\"\nseed = {seed}\nduration = \"3m\"\nfidelity = \"{}\"\nfluid_noise = {noise}\n[load]\nkind = \"spike\"\nrps = {rps}\nspike_rps = {}\nat = \"60s\"\nlength = \"30s\"\nramp = \"10s\"\n[workload]\ncpu_ms = {{ dist = \"gamma\", mean = {cpu_ms}, shape = 2 }}\n{io}{timeout}[task]\ncpu = {cpu}\nmemory = 2048\nconcurrency = {concurrency}\n{ql}[service]\ndesired = {desired}\nrouting = \"{}\"\n[platform]\nkind = \"ideal\"\n",
            if fluid { "fluid" } else { "request" },
            rps * 3.0,
            if least { "least_outstanding" } else { "round_robin" },
        );
        let out = run(&toml);
        assert_conserved(&out);
        if let (Some(t), Some(max)) = (timeout_ms, out.summary.latency_ms.max) {
            prop_assert!(max <= t as f64 + 1e-9, "completed after its timeout: {max} > {t}");
        }
        if let Some(u) = out.summary.cpu_utilization.mean {
            prop_assert!((0.0..=1.0 + 1e-9).contains(&u), "utilisation {u}");
        }
    }
}
