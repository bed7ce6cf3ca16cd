//! Moving a scenario between ECS and EKS for `compare`: the autoscaler
//! translated policy by policy (what has no equivalent is dropped and said),
//! and an EKS pod from a manifest turned into an ECS task of its requests.

use crate::scenario::Scenario;

/// Moves a scenario between ECS and EKS: the autoscaler is translated —
/// each target-tracking policy becomes a metric of one HPA at the same
/// target (CPU or memory utilization; requests per target per minute as
/// requests per pod per second) with the same min and max, and each HPA
/// metric a target-tracking policy — and an EKS pod from a manifest becomes
/// an ECS task of its requests. What has no equivalent (cooldowns, HPA
/// behaviour, step scaling) is said in the returned notes.
pub(super) fn translate_orchestrator(
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
