//! `capsim compare`: the same service and load on several platforms, and the
//! decision table an architect reads — monthly cost, cost per million
//! requests, p99, the SLO verdict, errors, scaling lag, idle cost, and the
//! operational notes each option implies.
//!
//! Fair by construction: every option starts in the same state — the
//! scenario's initial tasks, warm or cold as it says, and on EC2 and EKS
//! node groups enough instances at the start to hold them (unless the
//! scenario or `[compare.<platform>]` sets the initial size) — and each
//! option's own settings come from `[compare.<platform>]` (merged into its
//! `[platform]`; `--set compare.ecs-ec2.instance_types=…` works too).

use crate::error::{Error, ScenarioError};
mod output;
mod translate;

pub use output::{records, text_table, write};

use crate::report::RunOutput;
use crate::scenario::{Scenario, overrides};
use translate::translate_orchestrator;

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
        "eks-karpenter" => {
            "EKS control plane $0.10 per cluster-hour; Karpenter launches the cheapest instance types that fit the pending pods (batched over 1–10 s; by default the getting-started NodePool: on-demand c/m/r of generation above 2 — allow Spot in [compare.eks-karpenter] node_pools); consolidation deletes or replaces under-used nodes after consolidateAfter, evicting their pods (they restart elsewhere: the price of consolidation); nodes expire after 720 h; aws-node, kube-proxy and CoreDNS as on node groups; Karpenter's own controller pods are not modelled."
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
        "eks-karpenter" => Ok(vec![
            kind("eks"),
            ("platform.compute", toml::Value::String("karpenter".into())),
        ]),
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
    let mut notes = if (from == "eks") != (kind == "eks") {
        translate_orchestrator(&mut table, base, kind == "eks", kind == "fargate").map_err(wrap)?
    } else {
        Vec::new()
    };
    // The option's own settings: `[compare.<platform>]` into `[platform]`.
    let own = match table.remove("compare") {
        Some(toml::Value::Table(mut all)) => {
            if let Some(bad) = all.keys().find(|k| !PLATFORMS.contains(&k.as_str())) {
                return Err(wrap(format!(
                    "[compare.{bad}]: not a platform; known: {}",
                    PLATFORMS.join(", ")
                )));
            }
            match all.remove(platform) {
                Some(toml::Value::Table(t)) => t,
                Some(_) => {
                    return Err(wrap(format!(
                        "[compare.{platform}] must be a table of [platform] keys"
                    )));
                }
                None => toml::Table::new(),
            }
        }
        Some(_) => return Err(wrap("[compare] must hold one table per platform".into())),
        None => toml::Table::new(),
    };
    let own_keys: Vec<String> = own.keys().cloned().collect();
    let mut keys: Vec<String> = extra
        .iter()
        .filter_map(|o| o.split_once('=').map(|(k, _)| k.trim().to_string()))
        .collect();
    for (k, v) in ovr {
        let path: Vec<&str> = k.split('.').collect();
        overrides::set_path(&mut table, &path, v).map_err(wrap)?;
        keys.push(k.to_string());
    }
    for (k, v) in own {
        overrides::set_path(&mut table, &["platform", &k], v).map_err(wrap)?;
        keys.push(format!("platform.{k}"));
    }
    let build = |table: toml::Table, keys: Vec<String>| -> Result<Scenario, Error> {
        let mut sc = Scenario::from_table(table, text, &base.base_dir, &base.origin, keys)?;
        sc.name = format!("{}-{platform}", base.name);
        Ok(sc)
    };
    // The same start for every option: instances enough for the initial
    // tasks, unless the option's settings give the initial size.
    let sized = |t: &toml::Table, k: &str| t.get("platform").and_then(|p| p.get(k)).is_some();
    let sc = build(table.clone(), keys.clone())?;
    if let Ok(c) = sc.compile()
        && let Some(n) = initial_instances(&c)
    {
        let set_by_user = own_keys
            .iter()
            .any(|k| k == "desired_capacity" || k == "node_groups")
            || (from == kind
                && (sized(&table, "desired_capacity") || sized(&table, "node_groups")));
        if !set_by_user {
            let (k, v, what) = if kind == "eks" {
                (
                    "platform.node_groups",
                    node_groups_with_desired(&c, n),
                    "nodes",
                )
            } else {
                (
                    "platform.desired_capacity",
                    toml::Value::Integer(n as i64),
                    "instances",
                )
            };
            let path: Vec<&str> = k.split('.').collect();
            overrides::set_path(&mut table, &path, v).map_err(wrap)?;
            keys.push(k.into());
            if kind != "eks" {
                let max = c
                    .platform
                    .ec2
                    .as_ref()
                    .map_or(n, |e| e.cluster.groups[0].max_size);
                if max < n {
                    overrides::set_path(
                        &mut table,
                        &["platform", "max_size"],
                        toml::Value::Integer(n as i64),
                    )
                    .map_err(wrap)?;
                    keys.push("platform.max_size".into());
                }
            }
            notes.push(format!(
                "compare: starts with {n} {what}, enough for the {} initial task(s), like every option",
                c.desired
            ));
        }
    }
    let mut sc = build(table, keys)?;
    sc.extra_notes = notes;
    Ok(sc)
}

/// How many instances (nodes) of the first group hold the initial tasks
/// and what every node carries (daemons or DaemonSets, CoreDNS): `None` off
/// EC2. First-fit decreasing on the group's launch type, as the Cluster
/// Autoscaler's estimator does.
fn initial_instances(c: &crate::scenario::Compiled) -> Option<u32> {
    let e = c.platform.ec2.as_ref()?;
    let cl = &e.cluster;
    if matches!(cl.scaler, crate::cluster::NodeScaler::Karpenter(_)) {
        // Karpenter provisions the initial pods' nodes itself at t = 0.
        return None;
    }
    let t = crate::k8s::cluster_autoscaler::template(&crate::cluster::Cluster::new(cl.clone()), 0);
    let mut pods = vec![e.task.resources; c.desired as usize];
    if let Some((n, r)) = cl.system {
        pods.extend(std::iter::repeat_n(r, n as usize));
    }
    let est = crate::k8s::estimator::estimate(&pods, &t, cl.groups[0].max_size.max(1_000));
    Some(est.nodes.max(cl.groups[0].min_size))
}

/// The node groups with the first one's `desired_size` raised to `n`.
fn node_groups_with_desired(c: &crate::scenario::Compiled, n: u32) -> toml::Value {
    let groups = c.platform.ec2.as_ref().map(|e| &e.cluster.groups);
    let list: Vec<toml::Value> = groups
        .into_iter()
        .flatten()
        .enumerate()
        .map(|(i, g)| {
            let mut t = toml::Table::new();
            t.insert("name".into(), toml::Value::String(g.name.clone()));
            t.insert(
                "instance_types".into(),
                toml::Value::Array(
                    g.types
                        .iter()
                        .map(|x| toml::Value::String(x.instance_type.clone()))
                        .collect(),
                ),
            );
            t.insert(
                "capacity_type".into(),
                toml::Value::String(if g.od_pct == 0 { "SPOT" } else { "ON_DEMAND" }.into()),
            );
            t.insert("min_size".into(), toml::Value::Integer(g.min_size as i64));
            let max = if i == 0 {
                g.max_size.max(n)
            } else {
                g.max_size
            };
            t.insert("max_size".into(), toml::Value::Integer(max as i64));
            let desired = if i == 0 { n.max(g.initial) } else { g.initial };
            t.insert("desired_size".into(), toml::Value::Integer(desired as i64));
            if !g.labels.is_empty() {
                t.insert(
                    "labels".into(),
                    toml::Value::Table(
                        g.labels
                            .iter()
                            .map(|(k, v)| (k.clone(), toml::Value::String(v.clone())))
                            .collect(),
                    ),
                );
            }
            toml::Value::Table(t)
        })
        .collect();
    toml::Value::Array(list)
}

/// What an option ran with, for the page: platform, capacity at the start
/// and its bounds, the autoscaler.
pub fn describe(sc: &Scenario, c: &crate::scenario::Compiled) -> String {
    let mut parts = vec![sc.platform.kind().to_string()];
    if let Some(e) = &c.platform.ec2
        && let crate::cluster::NodeScaler::Karpenter(k) = &e.cluster.scaler
    {
        // A NodePool may allow hundreds of types: their count and the range.
        for (p, g) in k.pools.iter().zip(&e.cluster.groups) {
            let cheapest = g
                .types
                .iter()
                .min_by(|a, b| a.od_usd_per_hour.total_cmp(&b.od_usd_per_hour));
            parts.push(format!(
                "Karpenter NodePool {} ({} instance type(s) allowed{}; {}; nodes provisioned for the initial pods)",
                p.name,
                g.types.len(),
                cheapest.map_or(String::new(), |t| format!(
                    ", from {} at ${:.4}/h on demand",
                    t.instance_type, t.od_usd_per_hour
                )),
                match p.consolidation {
                    None => "no consolidation".to_string(),
                    Some(pol) => format!(
                        "consolidation {pol:?} after {} s",
                        p.consolidate_after / crate::time::SECOND
                    ),
                }
            ));
        }
    } else if let Some(e) = &c.platform.ec2 {
        for g in &e.cluster.groups {
            let types: Vec<&str> = g.types.iter().map(|t| t.instance_type.as_str()).collect();
            parts.push(format!(
                "{} {} ({}; {} at the start, {}–{})",
                if e.cluster.kubernetes() {
                    "node group"
                } else {
                    "ASG"
                },
                g.name,
                types.join(", "),
                g.initial,
                g.min_size,
                g.max_size
            ));
        }
    }
    if let Some(p) = &c.platform.prices {
        parts.push(format!("${:.5} per task-hour", p.on_demand_hour));
    }
    if let Some((cpu, mem)) = c.platform.eks.as_ref().and_then(|e| e.fargate_size) {
        parts.push(format!(
            "Fargate size {} vCPU / {} GB",
            cpu as f64 / 1024.0,
            mem as f64 / 1024.0
        ));
    }
    parts
        .push(format!("{} task(s) at the start, {:?}", c.desired, sc.service.start).to_lowercase());
    match (&sc.autoscaling, c.pod.as_ref().and_then(|p| p.hpa.as_ref())) {
        (Some(a), _) => parts.push(format!(
            "Service Auto Scaling {}–{} ({} target-tracking, {} step policies)",
            a.min_capacity,
            a.max_capacity,
            a.target_tracking_policies().len(),
            a.step_scaling.len()
        )),
        (None, Some(h)) => parts.push(format!(
            "HPA {}–{}: {}",
            h.scaling.min_replicas,
            h.scaling.max_replicas,
            h.targets
                .iter()
                .map(crate::k8s::spec::Target::describe)
                .collect::<Vec<_>>()
                .join(", ")
        )),
        (None, None) => parts.push("no autoscaling".into()),
    }
    parts.join("; ")
}

/// One platform's result.
pub struct Candidate {
    /// Platform name.
    pub platform: String,
    /// What it ran with ([`describe`]).
    pub settings: String,
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
