//! Sweeps: results independent of the thread count, shards run as separate
//! processes and merged equal to the unsharded run, failed jobs reported,
//! typed Parquet/CSV tables with confidence intervals.

mod common;
use capsim::sweep::{self, Shard, Sweep};
use std::path::Path;
use std::process::Command;

fn base() -> String {
    common::step_fargate("sweep-base", "20m", 200).replace("seed = 5", "seed = 11")
}

const SWEEP: &str = r#"
base = "base.toml"
name = "grid"
[sweep]
replications = 2
autoscaling.target_value = [40, 70]
task.memory = [1024, 3000]
"#;

fn setup() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("base.toml"), base()).unwrap();
    std::fs::write(d.path().join("sweep.toml"), SWEEP).unwrap();
    d
}

fn read(dir: &Path, name: &str) -> Vec<u8> {
    std::fs::read(dir.join(name)).unwrap_or_else(|e| panic!("{}: {e}", dir.join(name).display()))
}

fn capsim(args: &[&str], cwd: &Path, env: &[(&str, &str)]) -> std::process::Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_capsim"));
    c.args(args).current_dir(cwd);
    for (k, v) in env {
        c.env(k, v);
    }
    let o = c.output().unwrap();
    assert!(
        o.status.success(),
        "capsim {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

#[test]
fn results_do_not_depend_on_the_thread_count() {
    let d = setup();
    let s = Sweep::load(&d.path().join("sweep.toml")).unwrap();
    assert_eq!((s.points(), s.jobs().len()), (4, 8));
    let one = d.path().join("t1");
    let two = d.path().join("t2");
    let r1 = sweep::execute(&s, &one, 1, None, &|_| {}).unwrap();
    let r2 = sweep::execute(&s, &two, 2, None, &|_| {}).unwrap();
    assert_eq!(r1.len(), 8);
    assert_eq!(r1, r2, "job results differ between 1 and 2 threads");
    for f in [
        "results.csv",
        "points.csv",
        "results.parquet",
        "points.parquet",
        "jobs.jsonl",
        "index.html",
    ] {
        assert!(
            read(&one, f) == read(&two, f),
            "{f} differs between 1 and 2 threads"
        );
    }
    // task.memory = 3000 is not a Fargate size for 512 CPU units: those
    // jobs fail with the reason, the others run.
    let failed: Vec<_> = r1.iter().filter(|r| r.outcome.is_err()).collect();
    assert_eq!(failed.len(), 4);
    let reason = failed[0].outcome.as_ref().unwrap_err();
    assert!(reason.contains("1024, 2048, 3072, 4096"), "{reason}");
    // Same replication, same seed at every point (common random numbers).
    let seeds: Vec<u64> = r1
        .iter()
        .filter(|r| r.replication == 0)
        .map(|r| r.seed)
        .collect();
    assert!(seeds.windows(2).all(|w| w[0] == w[1]));
    assert_ne!(r1[0].seed, r1[1].seed);
}

#[test]
fn sharded_processes_merge_into_the_unsharded_result() {
    let d = setup();
    let p = d.path();
    capsim(
        &[
            "sweep",
            "sweep.toml",
            "--out",
            "full",
            "--threads",
            "2",
            "--allow-failures",
        ],
        p,
        &[],
    );
    capsim(
        &[
            "sweep",
            "sweep.toml",
            "--shard",
            "0/3",
            "--out",
            "s0",
            "--allow-failures",
        ],
        p,
        &[],
    );
    capsim(
        &[
            "sweep",
            "sweep.toml",
            "--shard",
            "1/3",
            "--out",
            "s1",
            "--allow-failures",
        ],
        p,
        &[],
    );
    // The third shard takes its index from a Kubernetes Indexed Job's environment.
    capsim(
        &[
            "sweep",
            "sweep.toml",
            "--shards",
            "3",
            "--out",
            "s2",
            "--allow-failures",
        ],
        p,
        &[("JOB_COMPLETION_INDEX", "2")],
    );
    // Half the jobs fail (an invalid Fargate size): merge says so and exits
    // 2 unless told to accept it.
    let o = Command::new(env!("CARGO_BIN_EXE_capsim"))
        .args(["merge", "s0", "s1", "s2", "--out", "merged"])
        .current_dir(p)
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("--allow-failures"));
    let m = capsim(
        &[
            "merge",
            "s0",
            "s1",
            "s2",
            "--out",
            "merged",
            "--allow-failures",
        ],
        p,
        &[],
    );
    assert!(String::from_utf8_lossy(&m.stdout).contains("8 jobs, 4 failed"));
    for f in [
        "results.csv",
        "points.csv",
        "results.parquet",
        "points.parquet",
        "index.html",
    ] {
        assert!(
            read(&p.join("full"), f) == read(&p.join("merged"), f),
            "{f} differs between sharded+merged and unsharded"
        );
    }
    // Shards of a different base scenario are refused.
    std::fs::write(
        p.join("base.toml"),
        base().replace("to_rps = 60", "to_rps = 80"),
    )
    .unwrap();
    capsim(
        &[
            "sweep",
            "sweep.toml",
            "--shard",
            "2/3",
            "--out",
            "other",
            "--allow-failures",
        ],
        p,
        &[],
    );
    let o = Command::new(env!("CARGO_BIN_EXE_capsim"))
        .args(["merge", "s0", "s1", "other", "--out", "mixed"])
        .current_dir(p)
        .output()
        .unwrap();
    assert!(!o.status.success(), "shards of different sweeps merged");
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("different sweep"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    // An incomplete merge is refused.
    let o = Command::new(env!("CARGO_BIN_EXE_capsim"))
        .args(["merge", "s0", "s1", "--out", "partial"])
        .current_dir(p)
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("missing"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn tables_have_typed_columns_and_intervals() {
    let d = setup();
    let s = Sweep::load(&d.path().join("sweep.toml")).unwrap();
    let out = d.path().join("o");
    sweep::execute(&s, &out, 2, None, &|_| {}).unwrap();
    let results =
        capsim::report::tables::read_parquet(&out.join("results.parquet"), 1_000_000).unwrap();
    let points =
        capsim::report::tables::read_parquet(&out.join("points.parquet"), 1_000_000).unwrap();
    assert_eq!(results.height(), 8);
    assert_eq!(points.height(), 4);
    use polars::prelude::DataType;
    let dtype = |df: &polars::prelude::DataFrame, c: &str| {
        df.column(c)
            .unwrap_or_else(|_| panic!("no column {c}"))
            .dtype()
            .clone()
    };
    assert_eq!(dtype(&results, "autoscaling.target_value"), DataType::Int64);
    assert_eq!(dtype(&results, "task.memory"), DataType::Int64);
    assert_eq!(dtype(&results, "status"), DataType::String);
    assert_eq!(dtype(&results, "error"), DataType::String);
    assert_eq!(dtype(&results, "cost_usd.total"), DataType::Float64);
    assert_eq!(dtype(&results, "requests.arrived"), DataType::Int64);
    assert_eq!(dtype(&results, "latency_ms.p99"), DataType::Float64);
    assert!(
        results.column("engine.wall_ms").is_err(),
        "wall time would break determinism"
    );
    assert_eq!(dtype(&points, "pareto"), DataType::Boolean);
    for c in [
        "cost_usd.total.mean",
        "cost_usd.total.ci95_low",
        "cost_usd.total.ci95_high",
        "latency_ms.p99.mean",
        "scaling.lag_s.mean.mean",
        "slo.breach_minutes.mean",
    ] {
        assert_eq!(dtype(&points, c), DataType::Float64, "{c}");
    }
    // Means lie inside their intervals.
    let mean = points
        .column("cost_usd.total.mean")
        .unwrap()
        .f64()
        .unwrap()
        .clone();
    let lo = points
        .column("cost_usd.total.ci95_low")
        .unwrap()
        .f64()
        .unwrap()
        .clone();
    let hi = points
        .column("cost_usd.total.ci95_high")
        .unwrap()
        .f64()
        .unwrap()
        .clone();
    let mut checked = 0;
    for i in 0..points.height() {
        if let (Some(m), Some(l), Some(h)) = (mean.get(i), lo.get(i), hi.get(i)) {
            assert!(l <= m && m <= h);
            checked += 1;
        }
    }
    assert_eq!(checked, 2, "the two valid points have intervals");
    let csv = String::from_utf8(read(&out, "results.csv")).unwrap();
    assert!(csv.lines().next().unwrap().starts_with(
        "job,point,replication,seed,autoscaling.target_value,task.memory,status,error,"
    ));
    assert!(out.join("pareto.svg").is_file() && out.join("heatmap_p99.png").is_file());
}

#[test]
fn seeds_are_not_swept() {
    let d = setup();
    std::fs::write(
        d.path().join("seeds.toml"),
        "base = \"base.toml\"\n[sweep]\nseed = [1, 2, 3]\n",
    )
    .unwrap();
    let e = Sweep::load(&d.path().join("seeds.toml"))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("sweep.seed") && e.contains("replications"),
        "{e}"
    );
}

#[test]
fn shard_arguments_are_checked() {
    assert!(Shard::parse("2/2").is_err());
    let d = setup();
    let o = Command::new(env!("CARGO_BIN_EXE_capsim"))
        .args(["sweep", "sweep.toml", "--shards", "2"])
        .current_dir(d.path())
        .env_remove("JOB_COMPLETION_INDEX")
        .env_remove("AWS_BATCH_JOB_ARRAY_INDEX")
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("JOB_COMPLETION_INDEX"));
}

const VERDICT_BASE: &str = r#"
name = "verdict-base"
seed = 11
duration = "DURATION"
[load]
kind = "step"
rps = 20
at = "5m"
to_rps = 60
[workload]
cpu_ms = { dist = "exponential", mean = 20 }
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
p99_ms = 500
max_breach_minutes = 12
"#;

fn verdict_sweep(duration: &str, sweep: &str) -> (tempfile::TempDir, Sweep) {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(
        d.path().join("base.toml"),
        VERDICT_BASE.replace("DURATION", duration),
    )
    .unwrap();
    std::fs::write(d.path().join("sweep.toml"), sweep).unwrap();
    let s = Sweep::load(&d.path().join("sweep.toml")).unwrap();
    (d, s)
}

#[test]
fn the_answer_is_the_cheapest_point_that_meets_the_slo() {
    let (d, s) = verdict_sweep(
        "60m",
        "base = \"base.toml\"\nname = \"v\"\n[sweep]\nreplications = 3\nautoscaling.target_value = [30, 60, 90]\n",
    );
    let out = d.path().join("out");
    let results = sweep::execute(&s, &out, 0, None, &|_| {}).unwrap();
    let meta = sweep::output::SweepMeta::of(&s);
    let pts = sweep::output::points(&meta, &results);
    let v: Vec<bool> = pts
        .iter()
        .map(|p| p.verdict.as_ref().unwrap().meets)
        .collect();
    // Tracking 30 % CPU keeps up with the step; 60 % and 90 % queue for
    // longer than the 12 minutes the SLO allows.
    assert_eq!(v, [true, false, false], "{pts:#?}");
    // The front is among meeting points only: the failing, cheaper points
    // are not on it.
    let front: Vec<usize> = pts.iter().filter(|p| p.pareto).map(|p| p.point).collect();
    assert_eq!(front, [0]);
    let answer = sweep::answer(&s, &results);
    assert!(
        answer[0].starts_with("target_value=30 is the cheapest point that meets the SLO"),
        "{answer:?}"
    );
    let fails: Vec<&String> = answer.iter().filter(|l| l.contains(" fails at ")).collect();
    assert_eq!(fails.len(), 2, "{answer:?}");
    assert!(
        fails
            .iter()
            .all(|l| l.contains("p99 above 500 ms in") && l.contains("(12 allowed)")),
        "{fails:?}"
    );
    assert!(answer.iter().any(|l| l.contains("Only 3 replication(s)")));
    let page = String::from_utf8(read(&out, "index.html")).unwrap();
    assert!(page.contains("among the points that meet the SLO"));
    assert!(page.contains("percentile-bootstrap"));
    assert!(page.contains("simulation noise only"));
    assert!(page.contains("is the cheapest point that meets the SLO"));
    let csv = String::from_utf8(read(&out, "points.csv")).unwrap();
    assert!(csv.lines().next().unwrap().contains("slo_meets"));
}

#[test]
fn a_parameter_that_changes_nothing_is_named() {
    // Over 20 minutes of a rising step nothing scales in: the scale-in
    // cooldown cannot matter, and the answer says so.
    let (d, s) = verdict_sweep(
        "20m",
        "base = \"base.toml\"\nname = \"v\"\n[sweep]\nautoscaling.target_value = [40, 80]\nautoscaling.scale_in_cooldown = [\"60s\", \"900s\"]\n",
    );
    let results = sweep::execute(&s, &d.path().join("out"), 0, None, &|_| {}).unwrap();
    let answer = sweep::answer(&s, &results);
    let inert: Vec<&String> = answer
        .iter()
        .filter(|l| l.contains("changed nothing"))
        .collect();
    assert_eq!(inert.len(), 1, "{answer:?}");
    assert!(inert[0].starts_with("autoscaling.scale_in_cooldown"));
}

/// The sweep example of the README, extracted from it, validates: every
/// point compiles.
#[test]
fn the_readme_sweep_example_is_valid() {
    let readme = std::fs::read_to_string(common::root().join("README.md")).unwrap();
    let section = readme
        .split("### Sweep files")
        .nth(1)
        .expect("README has a Sweep files section");
    let block = section
        .split("```toml\n")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .expect("a toml block");
    let d = tempfile::tempdir().unwrap();
    for f in ["quickstart.toml", "web-api-task.json"] {
        std::fs::copy(common::root().join("scenarios").join(f), d.path().join(f)).unwrap();
    }
    std::fs::write(d.path().join("sweep.toml"), block).unwrap();
    let s = Sweep::load(&d.path().join("sweep.toml")).unwrap();
    let check = sweep::validate(&s);
    assert!(check.invalid.is_empty(), "{:?}", check.invalid);
    assert!(s.points() >= 10 && check.requests > 0.0);
    capsim(&["validate", "sweep.toml"], d.path(), &[]);
}

#[test]
fn validate_fails_on_an_invalid_point_unless_allowed() {
    let d = setup();
    // task.memory = 3000 is no Fargate size: two of the four points.
    let o = Command::new(env!("CARGO_BIN_EXE_capsim"))
        .args(["validate", "sweep.toml"])
        .current_dir(d.path())
        .output()
        .unwrap();
    assert!(!o.status.success());
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("2 point(s) invalid"), "{text}");
    assert!(String::from_utf8_lossy(&o.stderr).contains("--allow-invalid"));
    let ok = capsim(
        &["validate", "sweep.toml", "--allow-invalid"],
        d.path(),
        &[],
    );
    assert!(String::from_utf8_lossy(&ok.stdout).contains("ok with --allow-invalid"));
}

fn capsim_fails(args: &[&str], cwd: &Path) -> String {
    let o = Command::new(env!("CARGO_BIN_EXE_capsim"))
        .args(args)
        .current_dir(cwd)
        .output()
        .unwrap();
    assert!(!o.status.success(), "capsim {args:?} succeeded");
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Sizes that would wrap, explode or never merge are refused at load with
/// the key named, never a panic or a silent "0 jobs".
#[test]
fn absurd_sweep_sizes_are_refused() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("base.toml"), base()).unwrap();
    let cases = [
        // A tiny step: 1e12 values.
        (
            "autoscaling.target_value = { from = 10, to = 90, step = 1e-10 }",
            "at most 100000",
        ),
        // An infinite end.
        (
            "autoscaling.target_value = { from = 10, to = inf, step = 1 }",
            "finite",
        ),
        ("autoscaling.target_value = [40, nan]", "not a finite value"),
        // 2^64 points: 64 lists of two values.
        (
            &(0..64)
                .map(|i| format!("a{i}.x = [1, 2]"))
                .collect::<Vec<_>>()
                .join("\n"),
            "jobs; split the study",
        ),
    ];
    for (sweep, expect) in cases {
        let text = format!("base = \"base.toml\"\n[sweep]\n{sweep}\n");
        std::fs::write(d.path().join("s.toml"), &text).unwrap();
        let e = Sweep::load(&d.path().join("s.toml"))
            .unwrap_err()
            .to_string();
        assert!(e.contains(expect), "{sweep}: {e}");
        let stderr = capsim_fails(&["validate", "s.toml"], d.path());
        assert!(stderr.contains(expect), "{stderr}");
    }
}

/// merge checks every record against the sweep it claims, and never writes
/// into a shard it reads.
#[test]
fn merge_refuses_tampered_shards_and_its_own_inputs() {
    let d = setup();
    let p = d.path();
    for k in 0..2 {
        capsim(
            &[
                "sweep",
                "sweep.toml",
                "--shard",
                &format!("{k}/2"),
                "--out",
                &format!("s{k}"),
                "--allow-failures",
            ],
            p,
            &[],
        );
    }
    let e = capsim_fails(&["merge", "s0", "s1", "--out", "s1"], p);
    assert!(e.contains("merge into a new directory"), "{e}");
    let jsonl = p.join("s1/jobs.jsonl");
    let good = std::fs::read_to_string(&jsonl).unwrap();
    let first: serde_json::Value = serde_json::from_str(good.lines().next().unwrap()).unwrap();
    let tamper = |f: &dyn Fn(&mut serde_json::Value)| {
        let mut v = first.clone();
        f(&mut v);
        let mut lines: Vec<String> = good.lines().map(String::from).collect();
        lines[0] = serde_json::to_string(&v).unwrap();
        std::fs::write(&jsonl, lines.join("\n") + "\n").unwrap();
        capsim_fails(&["merge", "s0", "s1", "--out", "m", "--allow-failures"], p)
    };
    // A parameter list of the wrong length.
    let e = tamper(&|v| v["values"].as_array_mut().unwrap().push(1.into()));
    assert!(e.contains("does not match the sweep"), "{e}");
    // A job renumbered past the end.
    let e = tamper(&|v| v["job"] = 99.into());
    assert!(e.contains("out of range"), "{e}");
    // A job renumbered onto another: that one is then twice, this one missing.
    let other = first["job"].as_u64().unwrap() ^ 1;
    let e = tamper(&|v| v["job"] = other.into());
    assert!(
        e.contains("does not match") || e.contains("more than one shard"),
        "{e}"
    );
    std::fs::write(&jsonl, good).unwrap();
    capsim(
        &["merge", "s0", "s1", "--out", "m", "--allow-failures"],
        p,
        &[],
    );
}

/// The sharding contract as Kubernetes Indexed Jobs and AWS Batch array
/// jobs run it: N processes started with nothing in their environment but
/// their index (through `sh -c`, as the README's Job and job definition
/// do), each writing its shard into one shared folder; one is killed and
/// started again with the same index; the merge is byte-identical to the
/// unsharded sweep.
#[test]
fn shards_run_by_index_alone_survive_a_retry_and_merge_identical() {
    let d = setup();
    let p = d.path();
    std::fs::write(
        p.join("sweep.toml"),
        "base = \"base.toml\"\nname = \"grid\"\n[sweep]\nreplications = 3\nautoscaling.target_value = [40, 55, 70, 85]\n",
    )
    .unwrap();
    capsim(&["sweep", "sweep.toml", "--out", "full", "--quiet"], p, &[]);
    std::fs::create_dir(p.join("shared")).unwrap();
    let exe = env!("CARGO_BIN_EXE_capsim");
    let start = |var: &str, k: usize| {
        Command::new("/bin/sh")
            .args([
                "-c",
                &format!(
                    "exec '{exe}' sweep sweep.toml --shards 3 --quiet --out shared/shard-${var}"
                ),
            ])
            .current_dir(p)
            .env_clear()
            .env(var, k.to_string())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let mut a = start("JOB_COMPLETION_INDEX", 0);
    let mut killed = start("JOB_COMPLETION_INDEX", 1);
    let mut c = start("AWS_BATCH_JOB_ARRAY_INDEX", 2);
    std::thread::sleep(std::time::Duration::from_millis(50));
    killed.kill().unwrap();
    killed.wait().unwrap();
    for child in [&mut a, &mut c] {
        let o = child.wait().unwrap();
        assert!(o.success());
    }
    // The orchestrator starts the failed index again, into the same place.
    let o = start("JOB_COMPLETION_INDEX", 1).wait_with_output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let m = capsim(
        &[
            "merge",
            "shared/shard-0",
            "shared/shard-1",
            "shared/shard-2",
            "--out",
            "merged",
        ],
        p,
        &[],
    );
    assert!(
        String::from_utf8_lossy(&m.stdout).contains("12 jobs"),
        "{}",
        String::from_utf8_lossy(&m.stdout)
    );
    for f in [
        "results.csv",
        "points.csv",
        "results.parquet",
        "points.parquet",
        "index.html",
    ] {
        assert!(
            read(&p.join("full"), f) == read(&p.join("merged"), f),
            "{f} differs between the retried shards merged and the unsharded sweep"
        );
    }
}
