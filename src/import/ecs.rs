//! `capsim import ecs`: a scenario from the JSON the AWS CLI prints for a
//! service built by hand —
//!
//! - `aws ecs describe-services` (`services[]`): the desired count, the
//!   launch type or capacity provider strategy, the deployment
//!   configuration, placement strategy and constraints;
//! - `aws ecs describe-task-definition`: referenced by the scenario as it
//!   is (`[task] definition`, read by `platform::taskdef`);
//! - `aws application-autoscaling describe-scalable-targets` and
//!   `describe-scaling-policies` (`--service-namespace ecs`): min and max
//!   capacity and the target-tracking policies of the service.
//!
//! The load and the workload are not in any of these: the scenario holds
//! marked placeholders (and says how to replay a CloudWatch export).
//! Everything else the files hold is listed as ignored, with the reason.

use super::{Imported, Writer};
use crate::error::Error;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// The files of one import.
#[derive(Debug, Clone)]
pub struct Sources {
    /// `describe-services` output.
    pub services: PathBuf,
    /// `describe-task-definition` output (or a task definition JSON).
    pub task_definition: PathBuf,
    /// `describe-scalable-targets` output.
    pub scalable_targets: Option<PathBuf>,
    /// `describe-scaling-policies` output.
    pub scaling_policies: Option<PathBuf>,
    /// `aws cloudwatch describe-alarms` output: the alarms of step policies.
    pub alarms: Option<PathBuf>,
    /// The service to import when the file holds several.
    pub service: Option<String>,
}

fn read_json(path: &Path) -> Result<Value, Error> {
    let text =
        crate::input::read_text(path, crate::input::MAX_TEXT_BYTES).map_err(|m| Error::Import {
            file: path.to_path_buf(),
            message: m,
        })?;
    serde_json::from_str(&text).map_err(|e| Error::Import {
        file: path.to_path_buf(),
        message: format!("line {}: not the JSON the AWS CLI prints: {e}", e.line()),
    })
}

fn bad(path: &Path, message: impl Into<String>) -> Error {
    Error::Import {
        file: path.to_path_buf(),
        message: message.into(),
    }
}

fn name(p: &Path) -> String {
    p.file_name().map_or_else(
        || p.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// How the scenario names `target` from a scenario written in `dir`: its
/// name when it sits beside the scenario, else its absolute path.
fn reference(target: &Path, dir: &Path) -> String {
    let abs = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    let t = abs(target);
    match t.parent() {
        Some(parent) if parent == abs(dir) => name(&t),
        _ => t.display().to_string(),
    }
}

/// Imports the service; `out_dir` is where the scenario will be written
/// (the task definition is referenced from there).
pub fn import(src: &Sources, out_dir: &Path) -> Result<Imported, Error> {
    let services = read_json(&src.services)?;
    let list = services
        .get("services")
        .and_then(Value::as_array)
        .ok_or_else(|| {
            bad(
                &src.services,
                "expected the output of `aws ecs describe-services` (a \"services\" list)",
            )
        })?;
    let names: Vec<&str> = list
        .iter()
        .filter_map(|s| s.get("serviceName").and_then(Value::as_str))
        .collect();
    let (idx, svc) = match &src.service {
        Some(want) => list
            .iter()
            .enumerate()
            .find(|(_, s)| s.get("serviceName").and_then(Value::as_str) == Some(want))
            .ok_or_else(|| {
                bad(
                    &src.services,
                    format!("no service named \"{want}\"; the file holds {names:?}"),
                )
            })?,
        None if list.len() == 1 => (0, &list[0]),
        None => {
            return Err(bad(
                &src.services,
                format!(
                    "{} services ({names:?}): choose one with --service",
                    list.len()
                ),
            ));
        }
    };
    // The task definition must be what the scenario can read.
    let td_text = crate::input::read_text(&src.task_definition, crate::input::MAX_TEXT_BYTES)
        .map_err(|m| bad(&src.task_definition, m))?;
    crate::platform::taskdef::parse(&td_text, &src.task_definition)
        .map_err(|m| bad(&src.task_definition, m))?;
    let sf = name(&src.services);
    let at = |field: &str| format!("{sf}: services[{idx}].{field}");
    let service_name = svc
        .get("serviceName")
        .and_then(Value::as_str)
        .unwrap_or("service")
        .to_string();
    let cluster = svc
        .get("clusterArn")
        .and_then(Value::as_str)
        .and_then(|a| a.rsplit('/').next())
        .unwrap_or("?");
    let mut ignored = Vec::new();
    let mut w = Writer::default();
    w.comment(&format!(
        "Imported by `capsim import ecs`: service {service_name} of cluster {cluster}."
    ));
    w.comment(&format!(
        "Sources: {sf}, {}{}{}.",
        name(&src.task_definition),
        src.scalable_targets
            .as_ref()
            .map_or(String::new(), |p| format!(", {}", name(p))),
        src.scaling_policies
            .as_ref()
            .map_or(String::new(), |p| format!(", {}", name(p)))
    ));
    w.comment("Each imported value names its source. PLACEHOLDER values are not in");
    w.comment("these files: the load and the workload above all are yours to set.");
    w.value(
        "name",
        crate::scenario::safe_name(&service_name),
        &at("serviceName"),
    );
    let region = svc
        .get("serviceArn")
        .and_then(Value::as_str)
        .and_then(|a| a.split(':').nth(3))
        .filter(|r| !r.is_empty());
    let arn = at("serviceArn");
    w.run(
        region.map(|r| (r, arn.as_str())),
        "the service ARN names none",
    );
    w.load_placeholders();

    w.table("task", "");
    w.value(
        "definition",
        reference(&src.task_definition, out_dir),
        &format!(
            "{}: cpu, memory, containers, platform",
            name(&src.task_definition)
        ),
    );
    w.value(
        "concurrency",
        64,
        "PLACEHOLDER: requests one task serves at once",
    );

    w.table("service", "");
    match svc.get("desiredCount").and_then(Value::as_u64) {
        Some(n) => w.value("desired", n as i64, &at("desiredCount")),
        None => ignored.push(format!("{}: no desiredCount", at(""))),
    }
    if let Some(dc) = svc.get("deploymentConfiguration") {
        if let Some(v) = dc.get("maximumPercent").and_then(Value::as_u64) {
            w.value(
                "maximum_percent",
                v as i64,
                &at("deploymentConfiguration.maximumPercent"),
            );
        }
        if let Some(v) = dc.get("minimumHealthyPercent").and_then(Value::as_u64) {
            w.value(
                "minimum_healthy_percent",
                v as i64,
                &at("deploymentConfiguration.minimumHealthyPercent"),
            );
        }
        if dc.get("deploymentCircuitBreaker").is_some() {
            ignored.push(format!(
                "{}: no deployment happens in a run",
                at("deploymentConfiguration.deploymentCircuitBreaker")
            ));
        }
    }
    // Launch type or capacity providers.
    let launch = svc.get("launchType").and_then(Value::as_str);
    let strategy = svc
        .get("capacityProviderStrategy")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let providers: Vec<(String, u64, u64)> = strategy
        .iter()
        .map(|p| {
            (
                p.get("capacityProvider")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string(),
                p.get("base").and_then(Value::as_u64).unwrap_or(0),
                p.get("weight").and_then(Value::as_u64).unwrap_or(0),
            )
        })
        .collect();
    let fargate_only = !providers.is_empty()
        && providers
            .iter()
            .all(|(p, _, _)| p == "FARGATE" || p == "FARGATE_SPOT");
    let on_ec2 = launch == Some("EC2") || (!providers.is_empty() && !fargate_only);
    if on_ec2 {
        if let Some(ps) = svc.get("placementStrategy").and_then(Value::as_array)
            && !ps.is_empty()
        {
            let items: Vec<String> = ps
                .iter()
                .map(|p| {
                    let t = p.get("type").and_then(Value::as_str).unwrap_or("");
                    match p.get("field").and_then(Value::as_str) {
                        Some(f) => format!("{{ type = \"{t}\", field = \"{f}\" }}"),
                        None => format!("{{ type = \"{t}\" }}"),
                    }
                })
                .collect();
            w.raw(
                "placement_strategy",
                &format!("[{}]", items.join(", ")),
                &at("placementStrategy"),
            );
        }
        if let Some(pc) = svc.get("placementConstraints").and_then(Value::as_array)
            && !pc.is_empty()
        {
            let items: Vec<String> = pc
                .iter()
                .map(|p| {
                    let t = p.get("type").and_then(Value::as_str).unwrap_or("");
                    match p.get("expression").and_then(Value::as_str) {
                        Some(e) => format!(
                            "{{ type = \"{t}\", expression = {} }}",
                            toml::Value::String(e.into())
                        ),
                        None => format!("{{ type = \"{t}\" }}"),
                    }
                })
                .collect();
            w.raw(
                "placement_constraints",
                &format!("[{}]", items.join(", ")),
                &at("placementConstraints"),
            );
        }
    }
    for (field, why) in [
        ("loadBalancers", "every task is an ALB target in capsim"),
        (
            "networkConfiguration",
            "subnets and security groups change nothing simulated",
        ),
        ("serviceRegistries", "service discovery is not modelled"),
        (
            "healthCheckGracePeriodSeconds",
            "capsim starts serving at the first passing health check",
        ),
        ("enableExecuteCommand", "not simulated"),
        ("propagateTags", "not simulated"),
    ] {
        if svc.get(field).is_some_and(|v| !v.is_null()) {
            ignored.push(format!("{}: {why}", at(field)));
        }
    }

    w.table("platform", "");
    if on_ec2 {
        w.value(
            "kind",
            "ecs_ec2",
            &if launch == Some("EC2") {
                at("launchType")
            } else {
                at("capacityProviderStrategy")
            },
        );
        w.raw(
            "instance_types",
            "[\"m5.large\"]",
            "PLACEHOLDER: the capacity provider's Auto Scaling group is not in these files",
        );
        if !providers.is_empty() {
            ignored.push(format!(
                "{}: EC2 capacity providers {:?}: their Auto Scaling groups (instance types, sizes, managed scaling) are not in these files — set platform.instance_types, min_size, max_size",
                at("capacityProviderStrategy"),
                providers.iter().map(|p| &p.0).collect::<Vec<_>>()
            ));
        }
    } else {
        w.value(
            "kind",
            "fargate",
            &if providers.is_empty() {
                at("launchType")
            } else {
                at("capacityProviderStrategy")
            },
        );
        if !providers.is_empty() {
            let items: Vec<String> = providers
                .iter()
                .map(|(p, b, wt)| format!("{{ provider = \"{p}\", base = {b}, weight = {wt} }}"))
                .collect();
            w.raw(
                "capacity_provider_strategy",
                &format!("[{}]", items.join(", ")),
                &at("capacityProviderStrategy"),
            );
        }
    }

    // Application Auto Scaling.
    let resource = svc
        .get("serviceArn")
        .and_then(Value::as_str)
        .map(|_| format!("service/{cluster}/{service_name}"));
    let target = match (&src.scalable_targets, &resource) {
        (Some(p), Some(r)) => {
            let j = read_json(p)?;
            let targets = j
                .get("ScalableTargets")
                .and_then(Value::as_array)
                .ok_or_else(|| {
                    bad(
                        p,
                        "expected the output of `aws application-autoscaling describe-scalable-targets` (a \"ScalableTargets\" list)",
                    )
                })?;
            let found = targets.iter().enumerate().find(|(_, t)| {
                t.get("ResourceId").and_then(Value::as_str) == Some(r)
                    && t.get("ScalableDimension").and_then(Value::as_str)
                        == Some("ecs:service:DesiredCount")
            });
            if found.is_none() {
                ignored.push(format!(
                    "{}: no scalable target for {r}: the service does not autoscale",
                    name(p)
                ));
            }
            found.map(|(i, t)| (name(p), i, t.clone()))
        }
        _ => None,
    };
    if let Some((tf, ti, t)) = target {
        w.table("autoscaling", "");
        let tat = |f: &str| format!("{tf}: ScalableTargets[{ti}].{f}");
        for (key, field) in [
            ("min_capacity", "MinCapacity"),
            ("max_capacity", "MaxCapacity"),
        ] {
            match t.get(field).and_then(Value::as_u64) {
                Some(v) => w.value(key, v as i64, &tat(field)),
                None => return Err(bad(Path::new(&tf), format!("{} is missing", tat(field)))),
            }
        }
        if let Some(p) = &src.scaling_policies {
            let j = read_json(p)?;
            let policies = j
                .get("ScalingPolicies")
                .and_then(Value::as_array)
                .ok_or_else(|| {
                    bad(
                        p,
                        "expected the output of `aws application-autoscaling describe-scaling-policies` (a \"ScalingPolicies\" list)",
                    )
                })?;
            let pf = name(p);
            let mut steps: Vec<Vec<(String, String, String)>> = Vec::new();
            let alarms: Option<(String, Vec<Value>)> = match &src.alarms {
                Some(a) => {
                    let j = read_json(a)?;
                    let list = j
                        .get("MetricAlarms")
                        .and_then(Value::as_array)
                        .cloned()
                        .ok_or_else(|| {
                            bad(
                                a,
                                "expected the output of `aws cloudwatch describe-alarms` (a \"MetricAlarms\" list)",
                            )
                        })?;
                    Some((name(a), list))
                }
                None => None,
            };
            let mut first = true;
            for (i, pol) in policies.iter().enumerate() {
                let pat = |f: &str| format!("{pf}: ScalingPolicies[{i}].{f}");
                if pol.get("ResourceId").and_then(Value::as_str) != resource.as_deref() {
                    continue;
                }
                let pname = pol.get("PolicyName").and_then(Value::as_str).unwrap_or("?");
                match pol.get("PolicyType").and_then(Value::as_str) {
                    Some("TargetTrackingScaling") => {
                        let c = pol
                            .get("TargetTrackingScalingPolicyConfiguration")
                            .cloned()
                            .unwrap_or(Value::Null);
                        let Some(metric) = c
                            .get("PredefinedMetricSpecification")
                            .and_then(|m| m.get("PredefinedMetricType"))
                            .and_then(Value::as_str)
                        else {
                            ignored.push(format!(
                                "{}: policy {pname} tracks a customized metric: capsim models the predefined ECS and ALB metrics only",
                                pat("TargetTrackingScalingPolicyConfiguration")
                            ));
                            continue;
                        };
                        let Some(target) = c.get("TargetValue").and_then(Value::as_f64) else {
                            return Err(bad(
                                p,
                                format!(
                                    "{} is missing",
                                    pat("TargetTrackingScalingPolicyConfiguration.TargetValue")
                                ),
                            ));
                        };
                        let cfg =
                            |f: &str| pat(&format!("TargetTrackingScalingPolicyConfiguration.{f}"));
                        let secs = |f: &str| c.get(f).and_then(Value::as_u64);
                        if first {
                            w.value(
                                "predefined_metric",
                                metric,
                                &cfg("PredefinedMetricSpecification"),
                            );
                            w.value("target_value", target, &cfg("TargetValue"));
                            // The API's default cooldowns for ECS are 300 s.
                            w.value(
                                "scale_out_cooldown",
                                format!("{}s", secs("ScaleOutCooldown").unwrap_or(300)),
                                &cfg("ScaleOutCooldown"),
                            );
                            w.value(
                                "scale_in_cooldown",
                                format!("{}s", secs("ScaleInCooldown").unwrap_or(300)),
                                &cfg("ScaleInCooldown"),
                            );
                            if c.get("DisableScaleIn").and_then(Value::as_bool) == Some(true) {
                                w.value("disable_scale_in", true, &cfg("DisableScaleIn"));
                            }
                            first = false;
                        } else {
                            w.array_table("autoscaling.target_tracking");
                            w.value("name", pname, &pat("PolicyName"));
                            w.value(
                                "predefined_metric",
                                metric,
                                &cfg("PredefinedMetricSpecification"),
                            );
                            w.value("target_value", target, &cfg("TargetValue"));
                            w.value(
                                "scale_out_cooldown",
                                format!("{}s", secs("ScaleOutCooldown").unwrap_or(300)),
                                &cfg("ScaleOutCooldown"),
                            );
                            w.value(
                                "scale_in_cooldown",
                                format!("{}s", secs("ScaleInCooldown").unwrap_or(300)),
                                &cfg("ScaleInCooldown"),
                            );
                        }
                    }
                    Some("StepScaling") => {
                        let names: Vec<&str> = pol
                            .get("Alarms")
                            .and_then(Value::as_array)
                            .into_iter()
                            .flatten()
                            .filter_map(|a| a.get("AlarmName").and_then(Value::as_str))
                            .collect();
                        let found = alarms.as_ref().and_then(|(af, list)| {
                            list.iter()
                                .enumerate()
                                .find(|(_, a)| {
                                    a.get("AlarmName")
                                        .and_then(Value::as_str)
                                        .is_some_and(|n| names.contains(&n))
                                })
                                .map(|(i, a)| (af.clone(), i, a.clone()))
                        });
                        match found {
                            None => ignored.push(format!(
                                "{}: step policy {pname}: its thresholds live in its CloudWatch alarm {names:?}: pass --alarms with `aws cloudwatch describe-alarms` output",
                                pat("PolicyType")
                            )),
                            Some((af, ai, alarm)) => {
                                let cfg = pol
                                    .get("StepScalingPolicyConfiguration")
                                    .cloned()
                                    .unwrap_or(Value::Null);
                                let at = |id: &str, field: &str| {
                                    if id == pname {
                                        pat(field)
                                    } else {
                                        format!("{af}: MetricAlarms[{ai}].{field}")
                                    }
                                };
                                match super::aws_scaling::step_lines(pname, "\u{0}alarm", &alarm, &cfg, &at) {
                                    Ok(lines) => steps.push(lines),
                                    Err(why) => ignored.push(format!("{}: step policy {pname}: {why}", pat("PolicyType"))),
                                }
                            }
                        }
                    }
                    other => ignored.push(format!(
                        "{}: policy {pname} of type {other:?} is not modelled",
                        pat("PolicyType")
                    )),
                }
            }
            if first && steps.is_empty() {
                ignored.push(format!(
                    "{pf}: no target-tracking policy for {}: the scenario's autoscaling has bounds only",
                    resource.as_deref().unwrap_or("?")
                ));
            }
            for lines in std::mem::take(&mut steps) {
                w.array_table("autoscaling.step_scaling");
                for (k, v, src) in lines {
                    w.raw(&k, &v, &src);
                }
            }
        }
    } else if src.scalable_targets.is_none() {
        ignored.push(
            "no --scalable-targets given: the scenario does not autoscale (add `aws application-autoscaling describe-scalable-targets --service-namespace ecs` output)".into(),
        );
    }
    w.slo_placeholder();
    Ok(Imported {
        toml: w.finish(),
        ignored,
    })
}
