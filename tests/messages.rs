//! What a new user reads: scenario errors in user terms (no Rust type
//! names), each naming its key; sweep files given to `run`; warnings for
//! values that are valid but almost surely a mistake.

mod common;

/// Words of Rust and serde that must never reach a user.
const BANNED: &[&str] = &[
    "f32",
    "f64",
    "u8",
    "u16",
    "u32",
    "u64",
    "u128",
    "usize",
    "i8",
    "i16",
    "i32",
    "i64",
    "i128",
    "isize",
    "enum",
    "struct",
    "Vec",
    "Option",
    "String",
    "sequence",
    "map",
    "newtype",
    "tuple",
    "untagged",
    "internally",
    "adjacently",
    "identifier",
];

/// Phrases of serde that must never reach a user.
const BANNED_PHRASES: &[&str] = &["unit variant", "unit value", "string only", "string or map"];

/// The Rust or serde words in a message, if any.
fn rust_words(message: &str) -> Vec<String> {
    message
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| BANNED.contains(w) || (w.len() > 4 && w.ends_with("Spec")))
        .map(str::to_string)
        .chain(
            BANNED_PHRASES
                .iter()
                .filter(|p| message.contains(*p))
                .map(|p| p.to_string()),
        )
        .collect()
}

/// Every dotted key of a table, tables and their keys alike.
fn leaves(t: &toml::Table, prefix: &str, out: &mut Vec<(String, toml::Value)>) {
    for (k, v) in t {
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        if let toml::Value::Table(inner) = v {
            leaves(inner, &key, out);
        }
        out.push((key, v.clone()));
    }
}

/// Wrong-typed values of every TOML kind.
const WRONG: &[&str] = &[
    "\"zzz\"",
    "true",
    "12345.5",
    "-7",
    "{ zz = 1 }",
    "[9, 8]",
    "1979-05-27",
];

fn same_kind(a: &toml::Value, raw: &str) -> bool {
    let b = capsim::scenario::overrides::parse_value(raw);
    std::mem::discriminant(a) == std::mem::discriminant(&b) && !matches!(a, toml::Value::Integer(_))
}

/// Keys a scenario may leave out (so serialising it does not list them).
const OPTIONAL: &[&str] = &[
    "load.until",
    "load.scale",
    "load.column",
    "load.time_column",
    "load.header",
    "load.start",
    "load.end",
    "workload.io_ms",
    "workload.timeout",
    "task.cpu",
    "task.memory",
    "task.queue_limit",
    "task.ephemeral_storage_gb",
    "task.stop_timeout",
    "task.cpu_limit",
    "task.memory_limit",
    "service.desired",
    "slo.p99_ms",
    "platform.arch",
    "platform.os",
    "platform.capacity_provider_strategy",
    "platform.spot_interruptions_per_hour",
    "platform.provisioning_s",
    "platform.pull_s",
    "platform.app_start_s",
    "platform.vcpu_hour_usd",
    "platform.network_mode",
    "platform.desired_capacity",
    "platform.instance_boot_s",
    "platform.max_pods",
    "platform.node_boot_s",
    "hpa.target_cpu_utilization",
];

/// The [load] sections of the kinds the bundled scenarios do not use.
const LOADS: &[&str] = &[
    "kind = \"step\"\nrps = 10\nat = \"5m\"\nto_rps = 20\nuntil = \"8m\"",
    "kind = \"ramp\"\nfrom_rps = 10\nto_rps = 20\nstart = \"1m\"\nend = \"5m\"",
    "kind = \"spike\"\nrps = 10\nat = \"5m\"\nspike_rps = 50\nramp = \"30s\"\nlength = \"1m\"",
    "kind = \"trace\"\nfile = \"trace.csv\"\nbucket = \"1m\"\ncolumn = \"n\"\ntime_column = \"t\"\nmean_rps = 5\nmissing = \"zero\"\nrepeat = true",
];

#[test]
fn wrong_types_are_told_in_user_terms_and_name_their_key() {
    let root = common::root().join("scenarios");
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("trace.csv"), "t,n\n0,5\n60,7\n").unwrap();
    // (label, text, directory its paths resolve from)
    let mut bases: Vec<(String, String, std::path::PathBuf)> = [
        "quickstart.toml",
        "ec2-web-api.toml",
        "fargate-spot-web-api.toml",
        "fargate-step-scaling.toml",
        "mmc.toml",
        "eks-web-api.toml",
        "eks-fargate-web-api.toml",
        "eks/manifest.toml",
    ]
    .iter()
    .map(|f| {
        let path = root.join(f);
        let text = std::fs::read_to_string(&path).unwrap();
        (f.to_string(), text, path.parent().unwrap().to_path_buf())
    })
    .collect();
    for (i, load) in LOADS.iter().enumerate() {
        bases.push((
            format!("load-{i}"),
            common::basic(
                load,
                "cpu_ms = { dist = \"gamma\", mean = 10, shape = 2 }",
                "cpu = 1024\nmemory = 2048\nconcurrency = 4",
                "desired = 2",
            ),
            tmp.path().to_path_buf(),
        ));
    }
    let mut checked = 0;
    let mut bad = Vec::new();
    for (label, text, dir) in &bases {
        let origin = dir.join("scenario.toml");
        let sc = capsim::Scenario::from_toml_str(text, dir, &origin, &[])
            .unwrap_or_else(|e| panic!("{label}: {e}"));
        // Every key the scenario has, defaults included, and optional ones.
        let full: toml::Table = toml::from_str(&toml::to_string(&sc).unwrap()).unwrap();
        let mut keys = Vec::new();
        leaves(&full, "", &mut keys);
        for k in OPTIONAL {
            if !keys.iter().any(|(key, _)| key == k) {
                keys.push((k.to_string(), toml::Value::Table(toml::Table::new())));
            }
        }
        for (key, original) in keys {
            for raw in WRONG {
                if same_kind(&original, raw) {
                    continue;
                }
                // Given with --set, and written in the file.
                let set = vec![format!("{key}={raw}")];
                let mut table: toml::Table = toml::from_str(text).unwrap();
                capsim::scenario::overrides::apply(&mut table, &set[0]).unwrap();
                let written = toml::to_string(&table).unwrap();
                for (how, result) in [
                    (
                        "--set",
                        capsim::Scenario::from_toml_str(text, dir, &origin, &set),
                    ),
                    (
                        "file",
                        capsim::Scenario::from_toml_str(&written, dir, &origin, &[]),
                    ),
                ] {
                    let message = match result.and_then(|s| s.compile().map(|_| ())) {
                        Ok(()) => continue,
                        Err(e) => e.to_string(),
                    };
                    checked += 1;
                    let case = format!("{label} {how} {key}={raw}");
                    let words = rust_words(&message);
                    if !words.is_empty() {
                        bad.push(format!("{case}: {words:?} in {message}"));
                    }
                    // The key, an item of it, or (a table written as a
                    // list, which serde reads positionally) a key inside it;
                    // a trace's errors name the trace file and the key.
                    let trace = message.contains(": trace ");
                    let named = ["`", "[", "."]
                        .iter()
                        .any(|end| message.contains(&format!("`{key}{end}")))
                        || (trace && (message.contains(&key) || message.contains("cannot read")))
                        // A key added to a section that then misses another.
                        || message.contains("missing field");
                    if !named {
                        bad.push(format!("{case}: key not named in {message}"));
                    }
                    let located = trace
                        || if how == "file" {
                            message.contains("(line ")
                        } else {
                            message.contains("--set")
                        };
                    if !located {
                        bad.push(format!("{case}: not located in {message}"));
                    }
                }
            }
        }
    }
    assert!(checked > 3000, "only {checked} wrong values checked");
    assert!(
        bad.is_empty(),
        "{} bad messages:\n{}",
        bad.len(),
        bad.join("\n")
    );
}

fn capsim(args: &[&str], cwd: &std::path::Path) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_capsim"))
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("capsim runs")
}

const SMALL: &str = r#"name = "small"
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
fn the_binary_says_what_was_expected_where() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    for (from, to, needles) in [
        (
            "rps = 50",
            "rps = \"fast\"",
            &["`load.rps` (line 6)", "expected a number, got \"fast\""][..],
        ),
        (
            "concurrency = 4",
            "concurrency = -4",
            &[
                "`task.concurrency` (line 12)",
                "expected a whole number ≥ 0, got -4",
            ],
        ),
        (
            "cpu_ms = { dist = \"exponential\", mean = 10 }",
            "cpu_ms = 10",
            &["`workload.cpu_ms` (line 8)", "a distribution table such as"],
        ),
        (
            "seed = 4\n",
            "seed = 4\nplatform = \"fargate\"\n",
            &["`platform` (line 3)", "a [platform] table with a kind"],
        ),
        (
            "[service]\ndesired = 2",
            "[service]\ndesired = 2\nrouting = 3",
            &[
                "`service.routing`",
                "expected `round_robin` or `least_outstanding`, got 3",
            ],
        ),
    ] {
        let text = SMALL.replace(from, to);
        let text = if to.contains("platform =") {
            text.replace("[platform]\nkind = \"ideal\"\n", "")
        } else {
            text
        };
        std::fs::write(p.join("s.toml"), text).unwrap();
        let o = capsim(&["validate", "s.toml"], p);
        let e = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success(), "{to}: {e}");
        assert!(rust_words(&e).is_empty(), "{e}");
        for n in needles {
            assert!(e.contains(n), "{to}: expected {n:?} in {e}");
        }
    }
}

/// A Fargate scenario with the given `[task]` lines.
fn fargate(task: &str) -> String {
    SMALL
        .replace("cpu = 1024\nmemory = 2048\n", task)
        .replace("kind = \"ideal\"", "kind = \"fargate\"")
}

#[test]
fn a_wrong_fargate_size_names_the_key_that_is_wrong() {
    let d = tempfile::tempdir().unwrap();
    let check = |text: &str, needles: &[&str], absent: &[&str]| {
        let e =
            capsim::Scenario::from_toml_str(text, d.path(), std::path::Path::new("f.toml"), &[])
                .unwrap()
                .compile()
                .unwrap_err()
                .to_string();
        for n in needles {
            assert!(e.contains(n), "expected {n:?} in {e}");
        }
        for n in absent {
            assert!(!e.contains(n), "unexpected {n:?} in {e}");
        }
    };
    // A valid CPU with a memory it does not offer: the memory.
    check(
        &fargate("cpu = 1024\nmemory = 512\n"),
        &["`task.memory` (line 11)", "2048, 3072"],
        &["`task.cpu`"],
    );
    // A CPU Fargate does not have: the CPU.
    check(
        &fargate("cpu = 300\nmemory = 512\n"),
        &["`task.cpu` (line 10)", "256, 512, 1024"],
        &[],
    );
    // From a task definition: the definition and its file.
    let def = r#"{ "family": "f", "cpu": "256", "memory": "4096",
        "containerDefinitions": [{ "name": "c", "image": "i", "essential": true }] }"#;
    std::fs::write(d.path().join("def.json"), def).unwrap();
    check(
        &fargate("definition = \"def.json\"\n"),
        &[
            "`task.definition` (line 10)",
            "def.json",
            "`memory`",
            "512, 1024, 2048",
        ],
        &["`task.cpu`", "`task.memory`"],
    );
    std::fs::write(d.path().join("def.json"), def.replace("\"256\"", "\"300\"")).unwrap();
    check(
        &fargate("definition = \"def.json\"\n"),
        &["`task.definition`", "def.json", "`cpu`", "valid CPU values"],
        &[],
    );
    // The scenario's own memory, with the definition's CPU: the memory key.
    std::fs::write(
        d.path().join("def.json"),
        def.replace("\"256\"", "\"1024\"")
            .replace("\"memory\": \"4096\",", ""),
    )
    .unwrap();
    check(
        &fargate("definition = \"def.json\"\nmemory = 512\n"),
        &["`task.memory` (line 11)", "2048, 3072"],
        &["`task.definition`"],
    );
}

#[test]
fn run_and_compare_on_a_sweep_say_it_is_one() {
    let root = common::root();
    for args in [
        &["run", "scenarios/sweep-target-value.toml"][..],
        &[
            "compare",
            "scenarios/sweep-target-value.toml",
            "--platforms",
            "fargate",
        ],
        &["run", "scenarios/sweep-target-value.toml", "--json"],
    ] {
        let o = capsim(args, &root);
        let e = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success(), "{args:?}: {e}");
        for n in [
            "`base` (line 5)",
            "sweep file",
            "capsim sweep scenarios/sweep-target-value.toml",
            "capsim run scenarios/quickstart.toml",
        ] {
            assert!(e.contains(n), "{args:?}: expected {n:?} in {e}");
        }
        assert!(!e.contains("unknown field"), "{e}");
        assert!(o.stdout.is_empty(), "nothing on stdout: {e}");
    }
    // A scenario with a [sweep] table.
    let d = tempfile::tempdir().unwrap();
    std::fs::write(
        d.path().join("s.toml"),
        format!("{SMALL}[sweep]\ntask.concurrency = [2, 4]\n"),
    )
    .unwrap();
    for args in [
        &["run", "s.toml"][..],
        &["compare", "s.toml", "--platforms", "fargate"],
    ] {
        let o = capsim(args, d.path());
        let e = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success(), "{args:?}: {e}");
        for n in [
            "`sweep` (line 17)",
            "capsim sweep s.toml",
            "remove its [sweep]",
        ] {
            assert!(e.contains(n), "{args:?}: expected {n:?} in {e}");
        }
    }
    // `capsim sweep` and `validate` still take both.
    let o = capsim(&["validate", "s.toml"], d.path());
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = capsim(&["validate", "scenarios/sweep-target-value.toml"], &root);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

/// A Fargate service with target tracking, an SLO and a timeout: no warning.
const PLAUSIBLE: &str = r#"name = "plausible"
duration = "30m"
[load]
kind = "constant"
rps = 50
[workload]
cpu_ms = { dist = "exponential", mean = 10 }
timeout = "10s"
[task]
cpu = 1024
memory = 2048
concurrency = 4
[service]
desired = 2
[platform]
kind = "fargate"
[autoscaling]
min_capacity = 1
max_capacity = 4
target_value = 70
[slo]
p99_ms = 200
"#;

fn warnings_of(text: &str, dir: &std::path::Path, set: &[&str]) -> Vec<String> {
    let set: Vec<String> = set.iter().map(|s| s.to_string()).collect();
    capsim::Scenario::from_toml_str(text, dir, std::path::Path::new("w.toml"), &set)
        .unwrap()
        .compile()
        .unwrap_or_else(|e| panic!("{set:?}: {e}"))
        .notes
        .into_iter()
        .filter(|n| n.starts_with("warning: "))
        .collect()
}

#[test]
fn implausible_values_are_warned_about_and_name_their_key() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    assert!(warnings_of(PLAUSIBLE, dir, &[]).is_empty());
    for (set, key, why) in [
        (
            &["autoscaling.target_value=0.7"][..],
            "autoscaling.target_value",
            "did you mean 70?",
        ),
        (
            &[
                "autoscaling.predefined_metric=ECSServiceAverageMemoryUtilization",
                "autoscaling.target_value=0.5",
            ],
            "autoscaling.target_value",
            "a memory utilization target is a percent",
        ),
        (
            &[
                "autoscaling.target_tracking=[{ predefined_metric = \"ECSServiceAverageCPUUtilizationHighResolution\", target_value = 0.07 }]",
            ],
            "autoscaling.target_tracking[0].target_value",
            "did you mean 7?",
        ),
        (&["slo.p99_ms=0.4"], "slo.p99_ms", "in milliseconds"),
        (
            &["workload.timeout=\"5ms\""],
            "workload.timeout",
            "shorter than the mean CPU time",
        ),
        (
            &["task.concurrency=20000"],
            "task.concurrency",
            "not a rate",
        ),
        (&["load.rps=0"], "load.rps", "no request arrives"),
        (
            &["load={ kind = \"step\", rps = 0, at = \"1m\", to_rps = 0 }"],
            "load",
            "no request arrives",
        ),
        (&["duration=\"5m\""], "duration", "3 high minutes"),
    ] {
        let w = warnings_of(PLAUSIBLE, dir, set);
        assert_eq!(w.len(), 1, "{set:?}: {w:?}");
        assert!(
            w[0].starts_with(&format!("warning: `{key}` ")) && w[0].contains(why),
            "{set:?}: {w:?}"
        );
        assert!(rust_words(&w[0]).is_empty(), "{w:?}");
    }
    // Requests per target are not a percent; a short run without
    // autoscaling says nothing.
    let alb = [
        "autoscaling.predefined_metric=ALBRequestCountPerTarget",
        "autoscaling.target_value=0.7",
    ];
    assert!(warnings_of(PLAUSIBLE, dir, &alb).is_empty());
    let no_autoscaling = PLAUSIBLE.replace(
        "[autoscaling]\nmin_capacity = 1\nmax_capacity = 4\ntarget_value = 70\n",
        "",
    );
    assert!(warnings_of(&no_autoscaling, dir, &["duration=\"5m\""]).is_empty());
    // A service of a shared cluster: the key as written in the file.
    let shared = capsim::scenario::load(
        &common::root().join("scenarios/shared-cluster.toml"),
        &["services.web.autoscaling.target_value=0.7".to_string()],
    )
    .unwrap();
    let capsim::scenario::Loaded::Shared(shared) = shared else {
        panic!("a shared cluster")
    };
    let notes = shared.services[0].compile().unwrap().notes;
    assert!(
        notes
            .iter()
            .any(|n| n.starts_with("warning: `services.web.autoscaling.target_value` is 0.7")),
        "{notes:?}"
    );
    // The HPA's targets, on EKS.
    let root = common::root().join("scenarios");
    let eks = std::fs::read_to_string(root.join("eks-web-api.toml")).unwrap();
    let w = warnings_of(&eks, &root, &["hpa.target_cpu_utilization=0.6"]);
    assert!(
        w.len() == 1 && w[0].starts_with("warning: `hpa.target_cpu_utilization` is 0.6"),
        "{w:?}"
    );
    let w = warnings_of(
        &eks,
        &root,
        &[
            "hpa.metrics=[{ type = \"Resource\", resource = \"memory\", average_utilization = 0.8 }]",
        ],
    );
    assert!(
        w.iter()
            .any(|n| n.starts_with("warning: `hpa.metrics[0].average_utilization`")),
        "{w:?}"
    );
}

#[test]
fn warnings_go_to_stderr_once_and_into_the_summary() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(
        d.path().join("w.toml"),
        PLAUSIBLE
            .replace("target_value = 70", "target_value = 0.7")
            .replace("\"30m\"", "\"2m\""),
    )
    .unwrap();
    let o = capsim(&["run", "w.toml", "--json", "--out", "o"], d.path());
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{e}");
    let v: serde_json::Value =
        serde_json::from_slice(&o.stdout).expect("stdout is exactly the summary JSON");
    let notes: Vec<&str> = v["notes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|n| n.as_str())
        .collect();
    for key in ["autoscaling.target_value", "duration"] {
        let line = format!("warning: `{key}` ");
        assert_eq!(e.matches(&line).count(), 1, "once on stderr: {e}");
        assert!(notes.iter().any(|n| n.starts_with(&line)), "{notes:?}");
    }
    assert!(!e.contains("note: warning"), "{e}");
    // `validate` says them too.
    let o = capsim(&["validate", "w.toml"], d.path());
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(
        o.status.success() && e.contains("warning: `autoscaling.target_value` is 0.7"),
        "{e}"
    );
}
