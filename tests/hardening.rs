//! Hostile input, by class: numbers out of range never wrap, runs that
//! cannot finish or would fill memory are refused or bounded, files that
//! are not regular or too large are refused, output folders are written
//! without following links. Each test covers a class through several
//! members, not one example.

mod common;
use std::path::Path;
use std::process::{Command, Output};

fn step(extra: &str) -> String {
    format!("{}\n{extra}", common::step_fargate("hard", "30m", 250))
}

fn err_of(toml: &str, overrides: &[&str]) -> String {
    match common::scenario_with(toml, overrides).and_then(|s| s.compile().map(|_| ())) {
        Ok(()) => panic!("accepted: {overrides:?}\n{toml}"),
        Err(e) => e.to_string(),
    }
}

fn capsim(args: &[&str], cwd: &Path, env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_capsim"));
    c.args(args).current_dir(cwd);
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().unwrap()
}

/// Class 1: values that would wrap or are nonsense are refused at load,
/// naming the key.
#[test]
fn out_of_range_numbers_are_refused_not_wrapped() {
    let base = common::step_fargate("hard", "30m", 250);
    let cases: &[(&[&str], &str)] = &[
        (
            &["autoscaling.scale_in_cooldown=\"213503982d\""],
            "at most 36500d",
        ),
        (&["duration=\"36501d\""], "at most 36500d"),
        (&["platform.vcpu_hour_usd=1e308"], "from 0 to 10000"),
        (&["platform.gb_hour_usd=nan"], "platform.gb_hour_usd"),
        // Counts beyond the ECS quotas (tasks per service).
        (&["service.desired=5001"], "service.desired"),
        (
            &["autoscaling.max_capacity=4294967295"],
            "autoscaling.max_capacity",
        ),
        (
            &["autoscaling.scheduled=[{at=\"1m\",min_capacity=50000000,max_capacity=50000000}]"],
            "autoscaling.scheduled",
        ),
        // Sizes that would overflow sums, counts that would fill memory.
        (&["task.concurrency=4294967295"], "task.concurrency"),
        (&["task.concurrency=0"], "task.concurrency"),
        (&["task.cpu=4294967295"], "task.cpu"),
        (&["task.memory=4294967295"], "task.memory"),
        (
            &["service.maximum_percent=4294967295"],
            "service.maximum_percent",
        ),
        (
            &["workload.io_ms={dist=\"gamma\",mean=10,shape=1e-320}"],
            "workload.io_ms.shape",
        ),
        (
            &["load_balancer.kb_per_request=1e300"],
            "load_balancer.kb_per_request",
        ),
        (
            &["platform.spot_interruptions_per_hour=1e9"],
            "spot_interruptions_per_hour",
        ),
    ];
    for (o, expect) in cases {
        let e = err_of(&base, o);
        assert!(e.contains(expect), "{o:?}: {e}");
    }
    // Step scaling: non-finite or inverted steps.
    let steps = |s: &str| {
        base.replace(
            "[autoscaling]\nmin_capacity = 1\nmax_capacity = 8\ntarget_value = 60",
            &format!(
                "[autoscaling]\nmin_capacity = 1\nmax_capacity = 8\n[[autoscaling.step_scaling]]\nthreshold = 70\ncomparison = \"greater_than_threshold\"\nadjustment_type = \"ChangeInCapacity\"\nsteps = [{{ lower = 0, upper = 10, adjustment = 1 }}, {{ lower = 10, adjustment = 2 }}]\n[[autoscaling.step_scaling]]\n{s}"
            ),
        )
    };
    for (policy, expect) in [
        (
            "threshold = nan\ncomparison = \"less_than_threshold\"\nadjustment_type = \"ChangeInCapacity\"\nsteps = [{ upper = 0, adjustment = -1 }]",
            "autoscaling.step_scaling[1].threshold",
        ),
        (
            "threshold = 30\ncomparison = \"less_than_threshold\"\nadjustment_type = \"ChangeInCapacity\"\nsteps = [{ lower = 5, upper = -5, adjustment = -1 }]",
            "must be below upper",
        ),
        (
            "threshold = 30\ncomparison = \"less_than_threshold\"\nadjustment_type = \"ChangeInCapacity\"\nsteps = [{ upper = inf, adjustment = -1 }]",
            "finite",
        ),
        (
            "threshold = 30\ncomparison = \"less_than_threshold\"\nadjustment_type = \"ChangeInCapacity\"\nsteps = [{ upper = 0, adjustment = 1e300 }]",
            "adjustment",
        ),
    ] {
        let e = err_of(&steps(policy), &[]);
        assert!(e.contains(expect), "{policy}: {e}");
    }
    // EKS counts and sizes: replicas, CoreDNS, DaemonSets, node groups.
    let eks = common::root().join("scenarios/eks-web-api.toml");
    for (o, expect) in [
        ("hpa.max_replicas=4000000000", "max_replicas"),
        ("platform.coredns_replicas=4000000000", "coredns_replicas"),
        (
            "platform.daemonsets=[{name=\"a\",cpu_millicores=4294967295}]",
            "platform.daemonsets[0]",
        ),
        (
            "platform.daemonsets=[{name=\"a\",memory_mib=4294967295}]",
            "platform.daemonsets[0]",
        ),
    ] {
        let e = match capsim::Scenario::load(&eks, &[o.to_string()])
            .and_then(|s| s.compile().map(|_| ()))
        {
            Ok(()) => panic!("accepted {o}"),
            Err(e) => e.to_string(),
        };
        assert!(e.contains(expect), "{o}: {e}");
    }
    // A key thousands of tables deep is refused before it is built.
    let deep = format!("{}rps=1", "load.".repeat(6000));
    let e = err_of(&base, &[deep.as_str()]);
    assert!(
        e.contains("16 dotted parts") && e.len() < 400,
        "{}",
        &e[..e.len().min(400)]
    );
    // Instances beyond the ECS quota (container instances per cluster), and
    // an EKS node group beyond capsim's own bound.
    for (file, max, expect) in [
        ("ec2-web-api.toml", 5001, "platform.max_size"),
        ("eks-web-api.toml", 1001, "≤ 1000"),
    ] {
        let dir = common::root().join("scenarios");
        let text = std::fs::read_to_string(dir.join(file)).unwrap();
        assert!(text.contains("max_size = 10\n"), "{file}");
        let text = text.replace("max_size = 10\n", &format!("max_size = {max}\n"));
        let e = match capsim::Scenario::from_toml_str(&text, &dir, Path::new(file), &[])
            .and_then(|s| s.compile().map(|_| ()))
        {
            Ok(()) => panic!("accepted {file} with max_size {max}"),
            Err(e) => e.to_string(),
        };
        assert!(e.contains(expect), "{file}: {e}");
    }
    // A scheduled action every microsecond would never let the run end.
    let e = err_of(
        &step("[[autoscaling.scheduled]]\nat = \"1m\"\nevery = \"1us\"\nmin_capacity = 2"),
        &[],
    );
    assert!(e.contains("at least 1m"), "{e}");
    // Task-definition integers beyond u32 and container memories whose sum
    // would wrap.
    let d = tempfile::tempdir().unwrap();
    for (def, expect) in [
        (
            r#"{"family":"f","cpu":4294968320,"memory":"2048","containerDefinitions":[{"name":"a","image":"x","essential":true}]}"#,
            "CPU units from 0 to 196608",
        ),
        (
            r#"{"family":"f","cpu":"1024","memory":"1e20","containerDefinitions":[{"name":"a","image":"x","essential":true}]}"#,
            "memory like",
        ),
        (
            r#"{"family":"f","cpu":"1024","memory":"2048","containerDefinitions":[{"name":"a","image":"x","essential":true,"memory":2147484160},{"name":"b","image":"x","essential":true,"memory":2147484160}]}"#,
            "below the sum of its essential containers",
        ),
    ] {
        std::fs::write(d.path().join("td.json"), def).unwrap();
        let toml = "name = \"td\"\nduration = \"10m\"\n[load]\nkind = \"constant\"\nrps = 5\n[workload]\ncpu_ms = { dist = \"constant\", value = 10 }\n[task]\ndefinition = \"td.json\"\nconcurrency = 8\n[service]\ndesired = 1\n[platform]\nkind = \"fargate\"\n";
        let e = match capsim::Scenario::from_toml_str(toml, d.path(), Path::new("td.toml"), &[])
            .and_then(|s| s.compile().map(|_| ()))
        {
            Ok(()) => panic!("accepted {def}"),
            Err(e) => e.to_string(),
        };
        assert!(e.contains(expect), "{def}: {e}");
    }
}

/// Class 2: a run that cannot finish in reasonable time is refused unless
/// forced; a hopeless overload is bounded in memory and said.
#[test]
fn runaway_runs_are_refused_or_bounded() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(
        d.path().join("huge.toml"),
        "name = \"huge\"\nduration = \"400d\"\n[load]\nkind = \"constant\"\nrps = 1e8\n[workload]\ncpu_ms = { dist = \"constant\", value = 1 }\n[task]\ncpu = 1024\nmemory = 2048\nconcurrency = 8\n[service]\ndesired = 1\n[platform]\nkind = \"ideal\"\n",
    )
    .unwrap();
    for cmd in ["validate", "run"] {
        let o = capsim(&[cmd, "huge.toml"], d.path(), &[]);
        assert!(
            !o.status.success(),
            "{cmd} accepted a 400-day run at 10⁸ req/s"
        );
        let e = String::from_utf8_lossy(&o.stderr);
        assert!(e.contains("--force") && e.contains("requests"), "{e}");
    }
    // 1 task, 10 ms per request, 10⁶ req/s, no timeout, no queue limit: the
    // queue stops at the bound instead of growing without end.
    let out = common::run(
        "name = \"flood\"\nseed = 1\nduration = \"8s\"\n[load]\nkind = \"constant\"\nrps = 1000000\n[workload]\ncpu_ms = { dist = \"constant\", value = 10 }\n[task]\ncpu = 1024\nmemory = 2048\nconcurrency = 1\n[service]\ndesired = 1\n[platform]\nkind = \"ideal\"\n",
    );
    common::assert_conserved(&out);
    assert!(
        out.summary.requests.in_flight_at_end <= capsim::service::request::MAX_IN_FLIGHT as u64
    );
    assert!(out.summary.requests.rejected > 1_000_000);
    assert!(
        out.summary
            .notes
            .iter()
            .any(|n| n.contains("capsim's own bound")),
        "{:?}",
        out.summary.notes
    );
}

/// Class 3: only regular files of bounded size are read; long input is
/// cut in messages.
#[test]
fn only_bounded_regular_files_are_read() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    let scenario = |trace: &str| {
        format!(
            "name = \"t\"\nduration = \"10m\"\n[load]\nkind = \"trace\"\nfile = \"{trace}\"\nformat = \"values\"\nbucket = \"1m\"\n[workload]\ncpu_ms = {{ dist = \"constant\", value = 10 }}\n[task]\ncpu = 1024\nmemory = 2048\nconcurrency = 8\n[service]\ndesired = 1\n[platform]\nkind = \"ideal\"\n"
        )
    };
    let compile_err =
        |toml: &str| match capsim::Scenario::from_toml_str(toml, p, Path::new("t.toml"), &[])
            .and_then(|s| s.compile().map(|_| ()))
        {
            Ok(()) => panic!("accepted {toml}"),
            Err(e) => e.to_string(),
        };
    // A device never ends: refused before any byte is read.
    let e = compile_err(&scenario("/dev/zero"));
    assert!(e.contains("not a regular file"), "{e}");
    // A named pipe would block for ever.
    if Command::new("mkfifo")
        .arg(p.join("pipe"))
        .status()
        .is_ok_and(|s| s.success())
    {
        let e = compile_err(&scenario("pipe"));
        assert!(e.contains("named pipe"), "{e}");
        std::fs::write(p.join("s.toml"), "name = \"x\"").unwrap();
        let o = capsim(&["validate", "pipe"], p, &[]);
        assert!(!o.status.success());
        assert!(String::from_utf8_lossy(&o.stderr).contains("named pipe"));
    }
    // A gzip bomb: 10 MB of zeros compress to a few kB; with a 1 MB bound
    // it is refused.
    {
        use std::io::Write;
        let mut z = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        for _ in 0..(10 << 20) / 2 {
            z.write_all(b"1\n").unwrap();
        }
        std::fs::write(p.join("bomb.gz"), z.finish().unwrap()).unwrap();
        std::fs::write(p.join("bomb.toml"), scenario("bomb.gz")).unwrap();
        let o = capsim(
            &["validate", "bomb.toml"],
            p,
            &[("CAPSIM_MAX_TRACE_BYTES", "1000000")],
        );
        assert!(!o.status.success());
        let e = String::from_utf8_lossy(&o.stderr);
        assert!(e.contains("decompresses to more than 1000000 bytes"), "{e}");
        // The largest bound a user can give does not overflow either.
        let o = capsim(
            &["validate", "bomb.toml"],
            p,
            &[("CAPSIM_MAX_TRACE_BYTES", "18446744073709551615")],
        );
        let e = String::from_utf8_lossy(&o.stderr);
        assert!(!e.contains("panicked"), "{e}");
    }
    // A megabyte-long token is quoted at a readable length.
    std::fs::write(p.join("long.txt"), format!("1 2 {}\n", "x".repeat(1 << 20))).unwrap();
    let e = compile_err(&scenario("long.txt"));
    assert!(e.len() < 1_000, "a {}-byte message", e.len());
    assert!(e.contains("characters)"), "{e}");
    // A byte-order mark does not break a values trace.
    std::fs::write(p.join("bom.txt"), "\u{feff}5 5 5 5 5 5 5 5 5 5\n").unwrap();
    capsim::Scenario::from_toml_str(&scenario("bom.txt"), p, Path::new("t.toml"), &[])
        .and_then(|s| s.compile().map(|_| ()))
        .unwrap();
}

/// Class 5: a symbolic link already in the output folder is replaced, not
/// written through; scenario names made safe to the same text keep apart;
/// a daemon service is refused on every platform.
#[test]
fn output_is_never_written_through_links_or_shared() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    std::fs::write(p.join("s.toml"), common::step_fargate("links", "10m", 250)).unwrap();
    #[cfg(unix)]
    {
        let outside = p.join("precious.txt");
        std::fs::write(&outside, "keep").unwrap();
        std::fs::create_dir(p.join("out")).unwrap();
        for f in [
            "summary.json",
            "timeseries.csv",
            "latency.png",
            "index.html",
        ] {
            std::os::unix::fs::symlink(&outside, p.join("out").join(f)).unwrap();
        }
        let o = capsim(&["run", "s.toml", "--out", "out", "--quiet"], p, &[]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        assert_eq!(std::fs::read_to_string(&outside).unwrap(), "keep");
        assert!(
            std::fs::read_to_string(p.join("out/summary.json"))
                .unwrap()
                .contains("\"scenario\": \"links\"")
        );
    }
    // Two names that are made safe to the same text keep separate folders.
    let mut dirs = Vec::new();
    for name in ["web/api", "web_api", "web api"] {
        let o = capsim(
            &[
                "run",
                "s.toml",
                "--quiet",
                "--set",
                &format!("name={name:?}"),
            ],
            p,
            &[],
        );
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let found: Vec<_> = std::fs::read_dir(p.join("reports"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|d| !dirs.contains(d))
            .collect();
        assert_eq!(found.len(), 1, "{name}: {found:?}");
        let summary = std::fs::read_to_string(found[0].join("summary.json")).unwrap();
        assert!(
            summary.contains(&format!("\"scenario\": {name:?}")),
            "{summary}"
        );
        dirs.push(found[0].clone());
    }
    assert!(dirs.contains(&p.join("reports/web_api")), "{dirs:?}");
    for platform in ["ideal", "fargate"] {
        let e = err_of(
            &common::step_fargate("d", "10m", 250),
            &[
                "service.scheduling_strategy=\"daemon\"",
                &format!("platform.kind=\"{platform}\""),
            ],
        );
        assert!(e.contains("platform.daemons"), "{platform}: {e}");
    }
}
