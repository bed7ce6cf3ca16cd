//! The fluid data plane against the request-level plane on one suite of
//! scenarios: the same scenario and seed run both ways, and the figures a
//! user reads must agree — cost within 1 %, mean tasks within 2 %,
//! scale-out events within ±1, p50 within 5 %, p99 within 15 %, SLO-breach
//! minutes within 10 % or ±2. The table is printed (`cargo test --test
//! fluid -- --nocapture`); BENCHMARKS.md carries it. Where the fluid plane
//! is known to degrade, the row and figure are listed in `KNOWN` with the
//! reason, and still printed.

mod common;
use capsim::Summary;

/// (case, figure) pairs outside the tolerance, known and documented (the
/// README's fidelity section and BENCHMARKS.md give the measured values).
const KNOWN: &[(&str, &str)] = &[
    // Processor sharing at light load: the stretch's two-point shape puts
    // the median a little high (+6 %).
    ("PS 4×1 vCPU ρ=0.5", "p50"),
    // Near saturation the geometric queue model is too light in the body
    // (p50 −22 %; the p99 agrees).
    ("PS 4×1 vCPU ρ=0.95", "p50"),
    // A saturated surge: backlogs stay on the tasks that had them, and the
    // CPU metric then triggers fewer scale-outs (3 vs 5) than in request
    // mode, so fewer tasks, lower cost and slower medians.
    ("step surge, scale-out", "cost"),
    ("step surge, scale-out", "tasks"),
    ("step surge, scale-out", "p50"),
    ("step surge, scale-out", "scale-outs"),
    // Minute-to-minute bursts of a real trace: the fluid tail is heavier in
    // the busiest minutes (p99 +12 %, breach minutes 80 vs 47).
    ("NASA trace, one week", "breach minutes"),
];

struct Row {
    name: String,
    request: Summary,
    fluid: Summary,
}

fn both(name: &str, toml: &str, overrides: &[&str]) -> Row {
    both_with(name, overrides, |o| common::scenario_with(toml, o).unwrap())
}

/// A bundled scenario (`scenarios/<file>`), both ways.
fn both_file(name: &str, file: &str, overrides: &[&str]) -> Row {
    let path = common::root().join("scenarios").join(file);
    both_with(name, overrides, |o| {
        let o: Vec<String> = o.iter().map(|s| s.to_string()).collect();
        capsim::Scenario::load(&path, &o).unwrap()
    })
}

fn both_with(name: &str, overrides: &[&str], load: impl Fn(&[&str]) -> capsim::Scenario) -> Row {
    let run = |fidelity: &str| {
        let mut o: Vec<&str> = overrides.to_vec();
        let f = format!("fidelity=\"{fidelity}\"");
        o.push(&f);
        capsim::run(&load(&o)).unwrap().summary
    };
    Row {
        name: name.to_string(),
        request: run("request"),
        fluid: run("fluid"),
    }
}

fn rel(a: f64, b: f64) -> f64 {
    if b == 0.0 {
        if a == 0.0 { 0.0 } else { f64::INFINITY }
    } else {
        (a - b) / b
    }
}

/// The figures outside tolerance, each with what was measured.
fn misses(r: &Row) -> Vec<(&'static str, String)> {
    let (q, f) = (&r.request, &r.fluid);
    let mut out = Vec::new();
    let mut pct = |what: &'static str, a: f64, b: f64, tol: f64| {
        let d = rel(a, b);
        if d.abs() > tol {
            out.push((
                what,
                format!("fluid {a:.4} vs request {b:.4} ({:+.1} %)", d * 100.0),
            ));
        }
    };
    pct("cost", f.cost_usd.total, q.cost_usd.total, 0.01);
    pct("tasks", f.tasks.mean, q.tasks.mean, 0.02);
    if let (Some(a), Some(b)) = (f.latency_ms.p50, q.latency_ms.p50) {
        pct("p50", a, b, 0.05);
    }
    if let (Some(a), Some(b)) = (f.latency_ms.p99, q.latency_ms.p99) {
        pct("p99", a, b, 0.15);
    }
    let (a, b) = (f.scaling.scale_out_events, q.scaling.scale_out_events);
    if a.abs_diff(b) > 1 {
        out.push(("scale-outs", format!("fluid {a} vs request {b}")));
    }
    let (a, b) = (
        f.slo.breach_minutes.unwrap_or(0),
        q.slo.breach_minutes.unwrap_or(0),
    );
    if a.abs_diff(b) > 2 && (a as f64 - b as f64).abs() > 0.1 * b as f64 {
        out.push(("breach minutes", format!("fluid {a} vs request {b}")));
    }
    out
}

fn table(rows: &[Row]) {
    println!(
        "| case | cost req / fluid | mean tasks | scale-outs | p50 ms | p99 ms | breach min | events req / fluid |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for r in rows {
        let (q, f) = (&r.request, &r.fluid);
        let ms = |x: Option<f64>| x.map_or("-".into(), |v| format!("{v:.1}"));
        println!(
            "| {} | {:.3} / {:.3} ({:+.2} %) | {:.3} / {:.3} | {} / {} | {} / {} | {} / {} | {} / {} | {} / {} |",
            r.name,
            q.cost_usd.total,
            f.cost_usd.total,
            rel(f.cost_usd.total, q.cost_usd.total) * 100.0,
            q.tasks.mean,
            f.tasks.mean,
            q.scaling.scale_out_events,
            f.scaling.scale_out_events,
            ms(q.latency_ms.p50),
            ms(f.latency_ms.p50),
            ms(q.latency_ms.p99),
            ms(f.latency_ms.p99),
            q.slo.breach_minutes.unwrap_or(0),
            f.slo.breach_minutes.unwrap_or(0),
            q.engine.events,
            f.engine.events,
        );
    }
}

fn assert_agree(rows: &[Row]) {
    table(rows);
    let mut unexpected = Vec::new();
    for r in rows {
        for (what, detail) in misses(r) {
            let known = KNOWN
                .iter()
                .any(|(case, fig)| r.name.starts_with(case) && *fig == what);
            println!(
                "{} {}: {what}: {detail}",
                if known { "known:" } else { "MISS:" },
                r.name
            );
            if !known {
                unexpected.push(format!("{}: {what}: {detail}", r.name));
            }
        }
        // Every request is accounted for in both planes.
        for s in [&r.request, &r.fluid] {
            let q = &s.requests;
            assert_eq!(
                q.arrived,
                q.completed + q.timed_out + q.rejected + q.failed + q.in_flight_at_end,
                "{}",
                r.name
            );
        }
    }
    assert!(
        unexpected.is_empty(),
        "outside tolerance:\n{}",
        unexpected.join("\n")
    );
}

/// Steady load on one task with a core per slot (M/M/16) and on four
/// tasks sharing one vCPU among 64 slots (processor sharing, CPU then
/// I/O), at four utilisations.
#[test]
fn steady_load_agrees() {
    let mmc = std::fs::read_to_string(common::root().join("scenarios/mmc.toml")).unwrap();
    let ps = common::basic(
        "kind = \"constant\"\nrps = 100",
        "cpu_ms = { dist = \"lognormal\", mean = 20, p99 = 90 }\nio_ms = { dist = \"exponential\", mean = 30 }",
        "cpu = 1024\nmemory = 2048\nconcurrency = 64",
        "desired = 4",
    )
    .replace("kind = \"ideal\"", "kind = \"fargate\"")
    .replace("duration = \"10m\"", "duration = \"30m\"");
    let mut rows = Vec::new();
    for rho in [0.5, 0.7, 0.85, 0.95] {
        rows.push(both(
            &format!("M/M/16 ρ={rho}"),
            &mmc,
            &[&format!("load.rps={}", rho * 1600.0)],
        ));
        rows.push(both(
            &format!("PS 4×1 vCPU ρ={rho}"),
            &ps,
            &[&format!("load.rps={}", rho * 200.0)],
        ));
    }
    assert_agree(&rows);
}

/// Autoscaling on Fargate (a diurnal day with target tracking, a step
/// surge), Fargate Spot with interruptions, ECS on EC2 with bin-packing and
/// managed scaling.
#[test]
fn scaled_services_agree() {
    let rows = vec![
        both_file("diurnal day, target tracking", "quickstart.toml", &[]),
        both(
            "step surge, scale-out",
            &common::step_fargate("surge", "2h", 250),
            &[],
        ),
        both_file(
            "Fargate Spot, interruptions",
            "fargate-spot-web-api.toml",
            &[],
        ),
        both_file("ECS on EC2, managed scaling", "ec2-web-api.toml", &[]),
    ];
    assert_agree(&rows);
}

/// A week of the NASA-HTTP trace (reference data).
#[test]
fn nasa_week_agrees() {
    let Some(_) = common::reference_data() else {
        println!("skipped: no reference data");
        return;
    };
    assert_agree(&[both_file(
        "NASA trace, one week",
        "nasa-trace.toml",
        &["duration=\"7d\""],
    )]);
}

/// What the fluid plane does not run yet is refused, not run wrongly.
#[test]
fn shared_clusters_are_refused_in_fluid() {
    let path = common::root().join("scenarios/shared-cluster.toml");
    let loaded = capsim::scenario::load(&path, &["fidelity=\"fluid\"".to_string()]);
    let e = match loaded {
        Ok(capsim::scenario::Loaded::Shared(s)) => capsim::run_shared_scenario(&s)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default(),
        Ok(_) => panic!("a shared scenario"),
        Err(e) => e.to_string(),
    };
    assert!(e.contains("fidelity"), "{e}");
}

/// A fluid run is bounded by its task-steps, not its requests: a tiny step
/// over a long run with thousands of tasks is refused without `--force`,
/// and the month the plane is for is not.
#[test]
fn fluid_runs_are_bounded_by_task_steps() {
    let path = common::root().join("scenarios/quickstart.toml");
    let compiled = |o: &[&str]| {
        let o: Vec<String> = o.iter().map(|s| s.to_string()).collect();
        capsim::Scenario::load(&path, &o)
            .unwrap()
            .compile()
            .unwrap()
    };
    let huge = compiled(&[
        "fidelity=\"fluid\"",
        "duration=\"400d\"",
        "fluid_step=\"100ms\"",
        "autoscaling.max_capacity=5000",
    ]);
    let why = capsim::too_big(&huge).expect("refused");
    assert!(why.contains("task-steps"), "{why}");
    let month = compiled(&["fidelity=\"fluid\"", "duration=\"30d\""]);
    assert_eq!(capsim::too_big(&month), None);
    // fidelity = "auto" picks the plane by the expected requests.
    let auto = |t: &str| compiled(&["fidelity=\"auto\"", &format!("fluid_threshold={t}")]).plane;
    assert_eq!(auto("1e9").0, capsim::service::Fidelity::Request);
    let (plane, why) = auto("1e6");
    assert_eq!(plane, capsim::service::Fidelity::Fluid);
    assert!(why.contains("above fluid_threshold"), "{why}");
    // A step that does not divide a minute is refused.
    let o = vec![
        "fidelity=\"fluid\"".to_string(),
        "fluid_step=\"7s\"".to_string(),
    ];
    let e = capsim::Scenario::load(&path, &o)
        .unwrap()
        .compile()
        .unwrap_err()
        .to_string();
    assert!(e.contains("fluid_step"), "{e}");
}

/// The same scenario and seed give the same fluid run.
#[test]
fn fluid_runs_are_deterministic() {
    let path = common::root().join("scenarios/quickstart.toml");
    let o = vec![
        "fidelity=\"fluid\"".to_string(),
        "duration=\"3h\"".to_string(),
    ];
    let run = || {
        let mut s = capsim::run(&capsim::Scenario::load(&path, &o).unwrap())
            .unwrap()
            .summary;
        s.engine.wall_ms = 0.0;
        serde_json::to_string(&s).unwrap()
    };
    assert_eq!(run(), run());
}
