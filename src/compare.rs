//! `capsim compare`: the same service and load on several platforms, and the
//! decision table an architect reads — monthly cost, cost per million
//! requests, p99, SLO breach minutes, scaling lag, idle cost, and the
//! operational notes each option implies.

use crate::error::{Error, ScenarioError};
use crate::report::charts::{self, Chart};
use crate::report::html::{self, InlineChart};
use crate::report::tables::Table;
use crate::report::{self, RunOutput};
use crate::scenario::{Scenario, overrides};
use serde_json::Value;
use std::path::Path;

/// The platform names `compare` knows, modelled or not.
pub const PLATFORMS: &[&str] = &[
    "ideal",
    "fargate",
    "fargate-spot",
    "ecs-ec2",
    "eks-nodegroup",
    "eks-karpenter",
    "eks-fargate",
];

/// Operational notes per platform.
pub fn notes(platform: &str) -> &'static str {
    match platform {
        "ideal" => {
            "Textbook baseline: tasks exist from t = 0 and cost nothing; not a deployable option."
        }
        "fargate" => {
            "No instances to patch or scale; billed per task second on requested vCPU and memory (1-minute minimum); each new task pays provisioning and a full image pull (no image cache); 74 fixed task sizes."
        }
        "fargate-spot" => {
            "Fargate with FARGATE base 1 weight 1 and FARGATE_SPOT weight 3 (three in four tasks beyond the first on Spot): Spot tasks cost ≈ 70 % less but can be reclaimed with a 2-minute warning; keep deregistration delay under 2 minutes; Linux only."
        }
        "ecs-ec2" => {
            "You run the instances (AMI patching, the ASG, the capacity provider); billed per instance second whatever the packing (see idle cost); new instances take a boot, tasks on an instance that has the image start in seconds; placement strategies and daemons are yours to tune."
        }
        "eks-nodegroup" => {
            "EKS control plane $0.10 per cluster-hour ($73/month, shared by every Deployment of the cluster); managed node groups you patch and upgrade (two m5.large by default, up to 10, Cluster Autoscaler); aws-node and kube-proxy on every node and two CoreDNS pods take CPU and pod slots (max pods per node from the VPC CNI); pods are scheduled by kube-scheduler and scaled by the HPA (here: the scenario's target tracking as an HPA at the same target)."
        }
        "eks-fargate" => {
            "EKS control plane $0.10 per cluster-hour; each pod on its own Fargate capacity sized up from its requests + 256 MB (it can cost more than the same ECS Fargate task); no nodes, no DaemonSets, no image cache, no Spot; x86 Linux only; the HPA scales pods (the scenario's target tracking as an HPA)."
        }
        _ => "",
    }
}

/// The overrides that put a scenario on `platform`, or why it cannot be.
fn platform_overrides(platform: &str) -> Result<Vec<(&'static str, toml::Value)>, String> {
    let kind = |k: &str| ("platform.kind", toml::Value::String(k.into()));
    match platform {
        "ideal" => Ok(vec![kind("ideal")]),
        "fargate" => Ok(vec![kind("fargate")]),
        "fargate-spot" => {
            let strategy: toml::Value = toml::from_str::<toml::Table>(
                "s = [{ provider = \"FARGATE\", base = 1, weight = 1 }, { provider = \"FARGATE_SPOT\", weight = 3 }]",
            )
            .expect("a valid literal")
            .remove("s")
            .expect("present");
            Ok(vec![
                kind("fargate"),
                ("platform.capacity_provider_strategy", strategy),
            ])
        }
        "ecs-ec2" => Ok(vec![kind("ecs_ec2")]),
        "eks-nodegroup" => Ok(vec![
            kind("eks"),
            (
                "platform.compute",
                toml::Value::String("node_groups".into()),
            ),
        ]),
        "eks-fargate" => Ok(vec![
            kind("eks"),
            ("platform.compute", toml::Value::String("fargate".into())),
        ]),
        "eks-karpenter" => Err(format!(
            "{platform} is not modelled yet (Karpenter comes with its own issue)"
        )),
        other => Err(format!(
            "unknown platform \"{other}\"; known: {}",
            PLATFORMS.join(", ")
        )),
    }
}

/// Fields of `[platform]` each kind accepts (others are dropped when switching).
fn keep_field(kind: &str, field: &str) -> bool {
    // Fields every priced platform shares (the image and the application).
    let common = ["kind", "image_mb", "pull_mbps", "pull_s", "app_start_s"];
    match kind {
        "ideal" => field == "kind",
        _ => common.contains(&field),
    }
}

/// Moves a scenario between ECS and EKS: the autoscaler is translated —
/// each target-tracking policy becomes a metric of one HPA at the same
/// target (CPU or memory utilization; requests per target per minute as
/// requests per pod per second) with the same min and max, and each HPA
/// metric a target-tracking policy — and an EKS pod from a manifest becomes
/// an ECS task of its requests. What has no equivalent (cooldowns, HPA
/// behaviour, step scaling) is said in the returned notes.
fn translate_orchestrator(
    table: &mut toml::Table,
    base: &Scenario,
    to_eks: bool,
    to_fargate: bool,
) -> Result<Vec<String>, String> {
    use crate::metrics::cloudwatch::Metric;
    let c = base.compile().map_err(|e| e.to_string())?;
    let mut notes = Vec::new();
    if to_eks {
        let Some(toml::Value::Table(a)) = table.remove("autoscaling") else {
            return Ok(notes);
        };
        let spec: crate::scaling::AutoscalingSpec = toml::Value::Table(a)
            .try_into()
            .map_err(|e: toml::de::Error| e.to_string())?;
        let tt = spec.target_tracking_policies();
        if tt.is_empty() {
            return Err(
                "its [autoscaling] has no target-tracking policy to run as an HPA on EKS (step scaling has no HPA equivalent)".into(),
            );
        }
        let metrics: Vec<String> = tt
            .iter()
            .map(|p| match p.predefined_metric.base() {
                Metric::EcsServiceAverageMemoryUtilization => format!(
                    "{{ type = \"Resource\", resource = \"memory\", average_utilization = {} }}",
                    p.target_value
                ),
                Metric::AlbRequestCountPerTarget => format!(
                    "{{ type = \"Pods\", metric = \"requests_per_second\", average_value = {} }}",
                    p.target_value / 60.0
                ),
                _ => format!(
                    "{{ type = \"Resource\", resource = \"cpu\", average_utilization = {} }}",
                    p.target_value
                ),
            })
            .collect();
        let hpa: toml::Table = toml::from_str(&format!(
            "min_replicas = {}\nmax_replicas = {}\nmetrics = [{}]\n",
            spec.min_capacity.max(1),
            spec.max_capacity.max(1),
            metrics.join(", ")
        ))
        .map_err(|e| e.to_string())?;
        table.insert("hpa".into(), toml::Value::Table(hpa));
        notes.push(format!(
            "compare: the ECS target tracking ran as an HPA ({} metric(s), min {}, max {}) with Kubernetes' default behaviour; its cooldowns have no HPA equivalent{}",
            metrics.len(),
            spec.min_capacity.max(1),
            spec.max_capacity.max(1),
            if spec.step_scaling.is_empty() && spec.scheduled.is_empty() {
                String::new()
            } else {
                "; step scaling and scheduled actions were dropped".into()
            }
        ));
        return Ok(notes);
    }
    // EKS → ECS: the pod becomes a task of its requests.
    if let Some(toml::Value::Table(t)) = table.get_mut("task") {
        for k in ["manifest", "deployment", "cpu_limit", "memory_limit"] {
            t.remove(k);
        }
        let (mut cpu, mut mem) = (c.task.shape.cpu_units, c.task.shape.memory_mib);
        if to_fargate {
            // ECS on Fargate takes only its sizes: the smallest that holds the pod.
            if let Some((fc, fm)) = crate::platform::fargate::round_up(cpu, mem) {
                if (fc, fm) != (cpu, mem) {
                    notes.push(format!(
                        "compare: the pod's requests ({cpu} CPU units, {mem} MiB) run as the smallest Fargate task that holds them, {fc} CPU units / {fm} MiB"
                    ));
                }
                (cpu, mem) = (fc, fm);
            }
        }
        t.insert("cpu".into(), toml::Value::Integer(cpu as i64));
        t.insert("memory".into(), toml::Value::Integer(mem as i64));
    }
    let service = table
        .entry("service")
        .or_insert_with(|| toml::Value::Table(toml::Table::new()));
    if let toml::Value::Table(s) = service {
        s.insert("desired".into(), toml::Value::Integer(c.desired as i64));
    }
    table.remove("hpa");
    if let Some(h) = c.pod.as_ref().and_then(|p| p.hpa.as_ref()) {
        use crate::k8s::hpa::ResourceName;
        use crate::k8s::spec::Target;
        let mut policies = Vec::new();
        for t in &h.targets {
            let (metric, target) = match *t {
                Target::Utilization(ResourceName::Cpu, v) => ("ECSServiceAverageCPUUtilization", v),
                Target::Utilization(ResourceName::Memory, v) => {
                    ("ECSServiceAverageMemoryUtilization", v)
                }
                Target::Pods(_, v) => ("ALBRequestCountPerTarget", v * 60.0),
                Target::AverageValue(..) => {
                    notes.push(format!(
                        "compare: the HPA metric \"{}\" has no ECS target-tracking equivalent and was dropped",
                        t.describe()
                    ));
                    continue;
                }
            };
            policies.push(format!(
                "{{ name = \"hpa-{}\", predefined_metric = \"{metric}\", target_value = {target} }}",
                policies.len() + 1
            ));
        }
        if policies.is_empty() {
            return Err("its HPA has no metric ECS target tracking can track".into());
        }
        let a: toml::Table = toml::from_str(&format!(
            "min_capacity = {}\nmax_capacity = {}\ntarget_tracking = [{}]\n",
            h.scaling.min_replicas,
            h.scaling.max_replicas,
            policies.join(", ")
        ))
        .map_err(|e| e.to_string())?;
        table.insert("autoscaling".into(), toml::Value::Table(a));
        notes.push(format!(
            "compare: the HPA ran as {} ECS target-tracking polic{} with the default cooldowns{}",
            policies.len(),
            if policies.len() == 1 { "y" } else { "ies" },
            if h.scaling.behavior.is_some() {
                "; its behaviour (stabilization windows, rate policies) has no ECS equivalent and was dropped"
            } else {
                ""
            }
        ));
    }
    Ok(notes)
}

/// The scenario for one platform.
pub fn scenario_for(
    base: &Scenario,
    text: &str,
    platform: &str,
    extra: &[String],
) -> Result<Scenario, Error> {
    let wrap = |m: String| Error::Scenario {
        file: base.origin.clone(),
        problem: ScenarioError::invalid("--platforms", m),
    };
    let ovr = platform_overrides(platform).map_err(wrap)?;
    let mut table = crate::scenario::parse_table(text, &base.origin)?;
    for o in extra {
        overrides::apply(&mut table, o).map_err(|problem| Error::Scenario {
            file: base.origin.clone(),
            problem,
        })?;
    }
    let kind = match &ovr[0].1 {
        toml::Value::String(k) => k.clone(),
        _ => unreachable!("kind is a string"),
    };
    let from = table
        .get("platform")
        .and_then(|p| p.get("kind"))
        .and_then(|k| k.as_str())
        .unwrap_or("")
        .to_string();
    if let Some(toml::Value::Table(p)) = table.get_mut("platform") {
        if from != kind {
            p.retain(|k, _| keep_field(&kind, k));
        }
        p.remove("capacity_provider_strategy");
    }
    if kind != "ecs_ec2"
        && let Some(toml::Value::Table(svc)) = table.get_mut("service")
    {
        // ECS placement belongs to ECS on EC2 (kube-scheduler places pods).
        svc.remove("placement_strategy");
        svc.remove("placement_constraints");
    }
    let notes = if (from == "eks") != (kind == "eks") {
        translate_orchestrator(&mut table, base, kind == "eks", kind == "fargate").map_err(wrap)?
    } else {
        Vec::new()
    };
    let mut keys: Vec<String> = extra
        .iter()
        .filter_map(|o| o.split_once('=').map(|(k, _)| k.trim().to_string()))
        .collect();
    for (k, v) in ovr {
        let path: Vec<&str> = k.split('.').collect();
        overrides::set_path(&mut table, &path, v).map_err(wrap)?;
        keys.push(k.to_string());
    }
    let mut sc = Scenario::from_table(table, text, &base.base_dir, &base.origin, keys)?;
    sc.name = format!("{}-{platform}", base.name);
    sc.extra_notes = notes;
    Ok(sc)
}

/// One platform's result.
pub struct Candidate {
    /// Platform name.
    pub platform: String,
    /// The run.
    pub output: RunOutput,
}

/// Checks the platform list before anything runs: unmodelled ones are refused.
pub fn check_platforms(platforms: &[String]) -> Result<(), String> {
    if platforms.is_empty() {
        return Err("--platforms lists no platform".into());
    }
    let refused: Vec<String> = platforms
        .iter()
        .filter_map(|p| platform_overrides(p).err())
        .collect();
    if refused.is_empty() {
        Ok(())
    } else {
        Err(refused.join("; "))
    }
}

/// The decision table as records.
pub fn records(options: &[Candidate]) -> Vec<Vec<(String, Value)>> {
    options
        .iter()
        .map(|o| {
            let s = &o.output.summary;
            let f = |v: Option<f64>| v.map_or(Value::Null, Value::from);
            vec![
                ("platform".into(), Value::from(o.platform.as_str())),
                (
                    "monthly_cost_usd".into(),
                    Value::from(s.cost_usd.monthly_projection),
                ),
                (
                    "cost_per_million_requests_usd".into(),
                    f(s.cost_usd.per_million_requests),
                ),
                ("latency_p99_ms".into(), f(s.latency_ms.p99)),
                (
                    "slo_breach_minutes".into(),
                    s.slo.breach_minutes.map_or(Value::Null, Value::from),
                ),
                ("scaling_lag_mean_s".into(), f(s.scaling.lag_s.mean)),
                ("scaling_lag_max_s".into(), f(s.scaling.lag_s.max)),
                // Fargate bills what tasks reserve: no instance capacity sits idle (null).
                ("idle_cost_usd".into(), f(s.cost_usd.idle)),
                (
                    "errors".into(),
                    Value::from(s.requests.timed_out + s.requests.rejected + s.requests.failed),
                ),
                ("notes".into(), Value::from(notes(&o.platform))),
            ]
        })
        .collect()
}

/// The decision table as text for the terminal.
pub fn text_table(options: &[Candidate]) -> String {
    let mut t = format!(
        "{:<14} {:>14} {:>12} {:>10} {:>8} {:>10} {:>14}\n",
        "platform", "monthly USD", "USD/M req", "p99 ms", "breach", "lag mean", "idle USD/month"
    );
    for o in options {
        let s = &o.output.summary;
        let f = |v: Option<f64>, d: usize| v.map_or("-".to_string(), |v| format!("{v:.d$}"));
        t.push_str(&format!(
            "{:<14} {:>14.2} {:>12} {:>10} {:>8} {:>10} {:>14}\n",
            o.platform,
            s.cost_usd.monthly_projection,
            f(s.cost_usd.per_million_requests, 3),
            f(s.latency_ms.p99, 1),
            s.slo.breach_minutes.map_or("-".into(), |b| b.to_string()),
            f(s.scaling.lag_s.mean, 0),
            s.cost_usd.idle.map_or("n/a".to_string(), |i| format!(
                "{:.2}",
                i / (s.duration_s / 3_600.0) * 730.0
            ))
        ));
    }
    t
}

/// Writes each option's run report in `dir/<platform>/`, and the comparison
/// (`compare.{parquet,csv}`, a grouped bar chart, `index.html`) in `dir`.
pub fn write(dir: &Path, name: &str, options: &[Candidate]) -> Result<(), Error> {
    std::fs::create_dir_all(dir).map_err(|error| Error::Output {
        path: dir.to_path_buf(),
        error,
    })?;
    for o in options {
        report::write_run(&dir.join(&o.platform), &o.output)?;
    }
    Table::from_records(&records(options)).write(dir, "compare")?;
    let groups: Vec<String> = options.iter().map(|o| o.platform.clone()).collect();
    let chart = Chart::Bars {
        title: "Platforms compared".into(),
        groups,
        panels: vec![
            (
                "monthly cost (USD)".into(),
                options
                    .iter()
                    .map(|o| Some(o.output.summary.cost_usd.monthly_projection))
                    .collect(),
            ),
            (
                "p99 latency (ms)".into(),
                options
                    .iter()
                    .map(|o| o.output.summary.latency_ms.p99)
                    .collect(),
            ),
            (
                "mean scaling lag (s)".into(),
                options
                    .iter()
                    .map(|o| o.output.summary.scaling.lag_s.mean)
                    .collect(),
            ),
        ],
    };
    let svg = charts::render(&chart, dir, "compare")?;
    let head = [
        "platform",
        "monthly cost (USD)",
        "USD per million requests",
        "p99 (ms)",
        "SLO breach minutes",
        "lag mean (s)",
        "idle cost",
        "report",
        "operational notes",
    ];
    let rows: Vec<Vec<String>> = options
        .iter()
        .map(|o| {
            let s = &o.output.summary;
            let f = |v: Option<f64>, d: usize| v.map_or("-".to_string(), |v| format!("{v:.d$}"));
            vec![
                o.platform.clone(),
                format!("{:.2}", s.cost_usd.monthly_projection),
                f(s.cost_usd.per_million_requests, 3),
                f(s.latency_ms.p99, 1),
                s.slo.breach_minutes.map_or("-".into(), |b| b.to_string()),
                f(s.scaling.lag_s.mean, 1),
                s.cost_usd
                    .idle
                    .map_or("n/a (billed on reservation)".into(), |i| {
                        format!(
                            "{:.2} in the run ({:.2} per month)",
                            i,
                            i / (s.duration_s / 3_600.0) * 730.0
                        )
                    }),
                format!("{}/index.html", o.platform),
                notes(&o.platform).into(),
            ]
        })
        .collect();
    let mut body = String::from("<h2>Decision table</h2>\n");
    body.push_str(&html::table(&head, &rows, &[]));
    body.push_str("<h2>Charts</h2>\n");
    body.push_str(&html::charts(&[InlineChart {
        id: "chart-compare".into(),
        title: "Monthly cost, p99 and scaling lag per platform".into(),
        svg,
        png: "compare.png".into(),
    }]));
    body.push_str("<h2>Per-platform reports</h2>\n");
    let links: Vec<String> = options
        .iter()
        .map(|o| format!("{}/index.html", o.platform))
        .collect();
    let link_refs: Vec<&str> = links.iter().map(String::as_str).collect();
    body.push_str(&html::files(&link_refs));
    body.push_str("<h2>Data</h2>\n");
    body.push_str(&html::files(&["compare.parquet", "compare.csv"]));
    let p = dir.join("index.html");
    std::fs::write(&p, html::page(name, "capsim compare", &body))
        .map_err(|error| Error::Output { path: p, error })
}
