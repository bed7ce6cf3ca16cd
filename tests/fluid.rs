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
    // Processor sharing at light load: a request that finds the core busy
    // keeps its drawn slowdown for its whole CPU phase, so the body is a
    // little slow (p50 +7.0 %; the p99 agrees).
    ("PS 4×1 vCPU ρ=0.5", "p50"),
    // Near saturation the geometric queue model is too light in the body:
    // p50 −5.3 % at ρ = 0.85 and −22.2 % at ρ = 0.95 (the p99 −12.9 %;
    // −14.5 % and −16.1 % with other inputs before they were exact).
    ("PS 4×1 vCPU ρ=0.85", "p50"),
    ("PS 4×1 vCPU ρ=0.95", "p50"),
    // A saturated surge held at the target value afterwards: its median is
    // slower (+12.2 % over sixteen seeds). Its cost and tasks agree since
    // `fluid_noise` (without it the CPU metric sat exactly on the target:
    // fewer scale-outs, −7.2 % cost, −9.7 % tasks).
    ("step surge, scale-out", "p50"),
    // The diurnal days' median: +5.1 to +5.2 % over sixteen seeds, at the
    // edge (+4.7 % with per-seed inputs; the processor-sharing body at
    // moderate load, as at ρ = 0.5).
    ("diurnal day, target tracking", "p50"),
    ("Fargate Spot, interruptions", "p50"),
    ("ECS on EC2, managed scaling", "p50"),
    // A minute's p99 varies as if its requests were independent per busy
    // period of a task: the day's p99 agrees (−1.4 %) but its minutes
    // breach less often than request by request (over seeds 1–16 6.00,
    // 6.62 and 6.56 against 10.06, 13.38 and 10.00; over seeds 1–40,
    // before the inputs were shared, the fluid day gave 6.2, request mode
    // 10.9; counting a task's requests within its queue's relaxation time
    // as one gave 31).
    ("diurnal day, target tracking", "breach minutes"),
    ("Fargate Spot, interruptions", "breach minutes"),
    ("ECS on EC2, managed scaling", "breach minutes"),
    // Minute-to-minute bursts of a real trace: 57 breach minutes against
    // 51 (p99 +5.4 %); 49 to 60 with other draws of the minutes or inputs.
    ("NASA trace, one week", "breach minutes"),
];

struct Row {
    name: String,
    /// One summary per seed, each plane.
    request: Vec<Summary>,
    fluid: Vec<Summary>,
}

/// Means over the seeds of one plane's figures.
struct Means {
    cost: f64,
    tasks: f64,
    scale_outs: f64,
    p50: Option<f64>,
    p99: Option<f64>,
    breach: f64,
    events: f64,
}

fn means(runs: &[Summary]) -> Means {
    let n = runs.len() as f64;
    let avg = |f: &dyn Fn(&Summary) -> f64| runs.iter().map(f).sum::<f64>() / n;
    let opt = |f: &dyn Fn(&Summary) -> Option<f64>| {
        runs.iter()
            .map(f)
            .collect::<Option<Vec<f64>>>()
            .map(|v| v.iter().sum::<f64>() / n)
    };
    Means {
        cost: avg(&|s| s.cost_usd.total),
        tasks: avg(&|s| s.tasks.mean),
        scale_outs: avg(&|s| s.scaling.scale_out_events as f64),
        p50: opt(&|s| s.latency_ms.p50),
        p99: opt(&|s| s.latency_ms.p99),
        breach: avg(&|s| s.slo.breach_minutes.unwrap_or(0) as f64),
        events: avg(&|s| s.engine.events as f64),
    }
}

fn both(name: &str, toml: &str, overrides: &[&str], seeds: &[u64]) -> Row {
    both_with(name, overrides, seeds, |o| {
        common::scenario_with(toml, o).unwrap()
    })
}

/// A bundled scenario (`scenarios/<file>`), both ways.
fn both_file(name: &str, file: &str, overrides: &[&str], seeds: &[u64]) -> Row {
    let path = common::root().join("scenarios").join(file);
    both_with(name, overrides, seeds, |o| {
        let o: Vec<String> = o.iter().map(|s| s.to_string()).collect();
        capsim::Scenario::load(&path, &o).unwrap()
    })
}

/// Each plane over `seeds` (the same seeds both ways: the comparison is of
/// expectations, as one run of either is a draw).
fn both_with(
    name: &str,
    overrides: &[&str],
    seeds: &[u64],
    load: impl Fn(&[&str]) -> capsim::Scenario,
) -> Row {
    let run = |fidelity: &str| {
        seeds
            .iter()
            .map(|seed| {
                let mut o: Vec<&str> = overrides.to_vec();
                let f = format!("fidelity=\"{fidelity}\"");
                let s = format!("seed={seed}");
                o.push(&f);
                o.push(&s);
                capsim::run(&load(&o)).unwrap().summary
            })
            .collect()
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
    let (q, f) = (means(&r.request), means(&r.fluid));
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
    pct("cost", f.cost, q.cost, 0.01);
    pct("tasks", f.tasks, q.tasks, 0.02);
    if let (Some(a), Some(b)) = (f.p50, q.p50) {
        pct("p50", a, b, 0.05);
    }
    if let (Some(a), Some(b)) = (f.p99, q.p99) {
        pct("p99", a, b, 0.15);
    }
    if (f.scale_outs - q.scale_outs).abs() > 1.0 {
        out.push((
            "scale-outs",
            format!("fluid {:.2} vs request {:.2}", f.scale_outs, q.scale_outs),
        ));
    }
    let (a, b) = (f.breach, q.breach);
    if (a - b).abs() > 2.0 && (a - b).abs() > 0.1 * b {
        out.push(("breach minutes", format!("fluid {a:.2} vs request {b:.2}")));
    }
    out
}

fn table(rows: &[Row]) {
    println!(
        "| case | seeds | cost req / fluid | mean tasks | scale-outs | p50 ms | p99 ms | breach min | events req / fluid |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    for r in rows {
        let (q, f) = (means(&r.request), means(&r.fluid));
        let ms = |x: Option<f64>| x.map_or("-".into(), |v| format!("{v:.1}"));
        println!(
            "| {} | {} | {:.3} / {:.3} ({:+.2} %) | {:.3} / {:.3} | {:.2} / {:.2} | {} / {} | {} / {} | {:.2} / {:.2} | {:.0} / {:.0} |",
            r.name,
            r.request.len(),
            q.cost,
            f.cost,
            rel(f.cost, q.cost) * 100.0,
            q.tasks,
            f.tasks,
            q.scale_outs,
            f.scale_outs,
            ms(q.p50),
            ms(f.p50),
            ms(q.p99),
            ms(f.p99),
            q.breach,
            f.breach,
            q.events,
            f.events,
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
        for s in r.request.iter().chain(&r.fluid) {
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
            &[7],
        ));
        rows.push(both(
            &format!("PS 4×1 vCPU ρ={rho}"),
            &ps,
            &[&format!("load.rps={}", rho * 200.0)],
            &[7],
        ));
    }
    assert_agree(&rows);
}

/// Autoscaling on Fargate (a diurnal day with target tracking, a step
/// surge), Fargate Spot with interruptions, ECS on EC2 with bin-packing and
/// managed scaling.
#[test]
fn scaled_services_agree() {
    // Scale-outs and SLO-breach minutes of one run are draws: the
    // request-level quickstart gives 5 to 9 scale-outs and 2 to 32 breach
    // minutes over seeds 1-40, the fluid one 5 to 9 scale-outs (a scale-in
    // near the target undone minutes later on 30 % and 42 % of the days).
    // Four or eight seeds left the scale-outs' means to chance (request
    // mode's seeds 1-8 hold none of its undone scale-ins, the fluid
    // plane's 3): the planes are compared on their means over sixteen.
    let seeds: Vec<u64> = (1..=16).collect();
    let rows = vec![
        both_file(
            "diurnal day, target tracking",
            "quickstart.toml",
            &[],
            &seeds,
        ),
        both(
            "step surge, scale-out",
            &common::step_fargate("surge", "2h", 250),
            &[],
            &seeds,
        ),
        both_file(
            "Fargate Spot, interruptions",
            "fargate-spot-web-api.toml",
            &[],
            &seeds,
        ),
        both_file(
            "ECS on EC2, managed scaling",
            "ec2-web-api.toml",
            &[],
            &seeds,
        ),
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
        &[1],
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
    // The summary says which plane ran (request mode says so too).
    let s = capsim::run(&capsim::Scenario::load(&path, &o).unwrap()).unwrap();
    assert_eq!(s.summary.engine.data_plane, "fluid");
    let q = vec!["duration=\"10m\"".to_string()];
    let r = capsim::run(&capsim::Scenario::load(&path, &q).unwrap()).unwrap();
    assert_eq!(r.summary.engine.data_plane, "request");
}

/// A hopeless overload holds at most capsim's bound of requests in the
/// fluid plane too, and says how many it turned away.
#[test]
fn fluid_overload_is_bounded_and_said() {
    let toml = common::basic(
        "kind = \"constant\"\nrps = 1000000",
        "cpu_ms = { dist = \"constant\", value = 10 }",
        "cpu = 1024\nmemory = 2048\nconcurrency = 4",
        "desired = 1",
    );
    let s = common::scenario_with(&toml, &["fidelity=\"fluid\"", "duration=\"1m\""]).unwrap();
    let out = capsim::run(&s).unwrap();
    common::assert_conserved(&out);
    let q = &out.summary.requests;
    assert!(q.in_flight_at_end <= 5_000_000, "{q:?}");
    assert!(q.rejected > 50_000_000, "{q:?}");
    assert!(
        out.summary
            .notes
            .iter()
            .any(|n| n.contains("capsim's own bound")),
        "{:?}",
        out.summary.notes
    );
}

/// The CPU the fluid plane reports is the CPU its requests needed: on
/// Fargate Spot with frequent interruptions (tasks warned, drained,
/// replaced, some drained before their first step), no minute's busy time
/// exceeds its requests' (found in review: a task added and drained
/// before a step joined the busy pool and earned its rate until it
/// stopped, 53 vCPU·s too much in three minutes).
#[test]
fn fluid_cpu_is_what_the_requests_need() {
    // The means, so that each minute's CPU is exactly its requests'.
    let fluid = ["fidelity=\"fluid\"", "fluid_noise=false"];
    // Spot tasks warned, drained and replaced; then an overload whose
    // tasks are OOM-killed (both with lognormal CPU of mean 20 ms on one
    // vCPU per task).
    let spot = run_with(
        "scenarios/fargate-spot-web-api.toml",
        &[
            &fluid[..],
            &["duration=\"3h\"", "platform.spot_interruptions_per_hour=20"],
        ]
        .concat(),
    );
    assert!(
        spot.summary.tasks.spot_interrupted > 0,
        "the case needs interruptions"
    );
    let oom = run_with(
        "scenarios/quickstart.toml",
        &[
            &fluid[..],
            &[
                "duration=\"1h\"",
                "load.mean_rps=400",
                "autoscaling.max_capacity=3",
            ],
        ]
        .concat(),
    );
    assert!(oom.summary.tasks.oom_killed > 0, "the case needs OOM kills");
    check_cpu(&spot);
    check_cpu(&oom);
}

fn run_with(file: &str, set: &[&str]) -> capsim::RunOutput {
    let path = common::root().join(file);
    let o: Vec<String> = set.iter().map(|s| s.to_string()).collect();
    capsim::run(&capsim::Scenario::load(&path, &o).unwrap()).unwrap()
}

fn check_cpu(out: &capsim::RunOutput) {
    let mut checked = 0;
    for m in &out.minutes {
        let Some(u) = m.cpu_utilization else { continue };
        // One vCPU per task; lognormal CPU mean 20 ms per request.
        let busy = u * m.tasks * m.seconds;
        let needed = (m.completed + m.timed_out) as f64 * 0.020;
        assert!(
            busy <= needed * 1.001 + 0.01,
            "minute {}: {busy:.3} vCPU·s busy for {needed:.3} needed",
            m.minute
        );
        // And no less than the completed requests needed (an OOM-killed
        // task's served requests used to lose their CPU).
        let served = m.completed as f64 * 0.020;
        assert!(
            busy >= served * 0.999 - 0.01,
            "minute {}: {busy:.3} vCPU·s busy for {served:.3} served",
            m.minute
        );
        checked += 1;
    }
    assert!(checked * 2 > out.minutes.len(), "{checked} minutes checked");
}
