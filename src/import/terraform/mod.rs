//! `capsim import terraform`: a scenario from a Terraform module's `.tf`
//! files (parsed with hcl-rs). What can be evaluated is evaluated:
//! literals, `var.*` (their defaults, `.tfvars` files and `--var`),
//! `local.*`, `jsonencode(...)` and a few functions, string templates.
//! References to what only exists once applied (an ECR repository's URL,
//! a role's ARN, a subnet) become marked placeholders and are listed with
//! their file and line, saying whether capsim needs them.
//!
//! Read: `aws_ecs_task_definition` (cpu, memory, container definitions,
//! runtime platform, network mode, ephemeral storage) — written out as a
//! task definition JSON the scenario references —, `aws_ecs_service`
//! (desired count, launch type or capacity provider strategy, deployment
//! percentages, placement), `aws_appautoscaling_target` with its
//! target-tracking and step policies (`scaling.rs`: with their alarm) and
//! scheduled actions, the target group, the region; on EC2 the capacity
//! provider's group (`ec2.rs`); an EKS cluster's node groups (`eks.rs`).
//! `module.rs` reads the module, `reader.rs` one resource's attributes.
//! Everything else is listed as not needed.

mod ec2;
mod eks;
mod module;
mod reader;
mod scaling;

use super::{Imported, Writer};
use crate::error::Error;
use ec2::*;
use hcl::eval::{Context, Evaluate, FuncArgs, FuncDef, ParamType};
use hcl::{Block, Body, Expression, Structure, Value};
use module::*;
use reader::*;
use scaling::*;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// What to import.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// A module folder (its `*.tf`) or one `.tf` file.
    pub path: PathBuf,
    /// `--var name=value`.
    pub vars: Vec<(String, String)>,
    /// `--var-file`s, in order.
    pub var_files: Vec<PathBuf>,
    /// The `aws_ecs_service` to import (its resource name or `name`)
    /// when the module has several.
    pub service: Option<String>,
    /// EKS: the Kubernetes YAML of the pod (as the scenario names it).
    pub manifest: Option<PathBuf>,
}

/// A scenario and the task definition JSON it references.
#[derive(Debug, Clone)]
pub struct TerraformImport {
    /// The scenario.
    pub scenario: Imported,
    /// The task definition (`register-task-definition` JSON); `None` on EKS.
    pub task_definition: Option<serde_json::Value>,
}

/// Imports the module; `task_definition_file` is how the scenario names
/// the task definition JSON the caller writes beside it.
pub fn import(opts: &Options, task_definition_file: &str) -> Result<TerraformImport, Error> {
    let m = read_module(opts)?;
    let of =
        |kind: &str| -> Vec<&Resource> { m.resources.iter().filter(|r| r.kind == kind).collect() };
    let services = of("aws_ecs_service");
    if services.is_empty()
        && let Some(cluster) = of("aws_eks_cluster").first()
    {
        return eks::eks(&m, opts, cluster);
    }
    let svc = match (&opts.service, services.as_slice()) {
        (None, [one]) => *one,
        (None, []) => return Err(err(&opts.path, "no aws_ecs_service in the module")),
        (None, many) => {
            return Err(err(
                &opts.path,
                format!(
                    "{} aws_ecs_service resources ({}): choose one with --service",
                    many.len(),
                    many.iter()
                        .map(|r| r.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
        (Some(want), _) => services
            .iter()
            .copied()
            .find(|r| {
                &r.name == want
                    || r.body.attributes().any(|a| {
                        a.key.as_str() == "name"
                            && a.expr
                                .evaluate(&m.ctx)
                                .ok()
                                .as_ref()
                                .and_then(text)
                                .as_deref()
                                == Some(want)
                    })
            })
            .ok_or_else(|| err(&opts.path, format!("no aws_ecs_service named \"{want}\"")))?,
    };
    let mut ignored = Vec::new();
    let mut unresolved = Vec::new();
    // The task definition the service runs.
    let tds = of("aws_ecs_task_definition");
    let td = target_of(&svc.body, "task_definition", "aws_ecs_task_definition")
        .and_then(|n| tds.iter().copied().find(|r| r.name == n))
        .or(if tds.len() == 1 { Some(tds[0]) } else { None })
        .ok_or_else(|| {
            err(
                &opts.path,
                format!(
                    "aws_ecs_service.{}: its task_definition names no aws_ecs_task_definition of the module",
                    svc.name
                ),
            )
        })?;
    let mut t = Reader {
        m: &m,
        r: td,
        unresolved: Vec::new(),
    };
    let mut task = serde_json::Map::new();
    let family = t
        .get("family", false)
        .as_ref()
        .and_then(text)
        .unwrap_or_else(|| td.name.clone());
    task.insert("family".into(), family.into());
    let mut src = BTreeMap::new();
    for (key, json) in [("cpu", "cpu"), ("memory", "memory")] {
        if let Some(v) = t.get(key, true).as_ref().and_then(text) {
            src.insert(json, t.at(key));
            task.insert(json.into(), v.into());
        }
    }
    if let Some(v) = t.get("network_mode", false).as_ref().and_then(text) {
        task.insert("networkMode".into(), v.into());
    }
    if let Some(Value::Array(a)) = t.get("requires_compatibilities", false) {
        task.insert(
            "requiresCompatibilities".into(),
            a.iter()
                .filter_map(text)
                .map(serde_json::Value::from)
                .collect::<Vec<_>>()
                .into(),
        );
    }
    for b in t.blocks("runtime_platform") {
        let mut rp = serde_json::Map::new();
        if let Some(v) = t
            .get_in(&b, "operating_system_family", true)
            .as_ref()
            .and_then(text)
        {
            rp.insert("operatingSystemFamily".into(), v.into());
        }
        if let Some(v) = t
            .get_in(&b, "cpu_architecture", true)
            .as_ref()
            .and_then(text)
        {
            rp.insert("cpuArchitecture".into(), v.into());
        }
        task.insert("runtimePlatform".into(), rp.into());
    }
    for b in t.blocks("ephemeral_storage") {
        if let Some(v) = t.get_in(&b, "size_in_gib", true).as_ref().and_then(num) {
            task.insert(
                "ephemeralStorage".into(),
                serde_json::json!({ "sizeInGiB": v }),
            );
        }
    }
    let defs = t.get("container_definitions", false);
    let defs: serde_json::Value = match defs.as_ref().and_then(text) {
        Some(s) => serde_json::from_str(&s).map_err(|e| {
            err(
                &opts.path,
                format!(
                    "{}: not JSON container definitions: {e}",
                    t.at("container_definitions")
                ),
            )
        })?,
        None => {
            return Err(err(
                &opts.path,
                format!(
                    "{}: the container definitions could not be evaluated (a file() or templatefile()? pass them as jsonencode(...) or a literal)",
                    t.at("container_definitions")
                ),
            ));
        }
    };
    task.insert("containerDefinitions".into(), defs);
    for a in td.body.attributes() {
        if !matches!(
            a.key.as_str(),
            "family"
                | "cpu"
                | "memory"
                | "network_mode"
                | "requires_compatibilities"
                | "container_definitions"
        ) {
            ignored.push(format!("{}: not needed by capsim", t.at(a.key.as_str())));
        }
    }
    unresolved.append(&mut t.unresolved);

    let mut s = Reader {
        m: &m,
        r: svc,
        unresolved: Vec::new(),
    };
    let mut w = Writer::default();
    let service_name = s
        .get("name", false)
        .as_ref()
        .and_then(text)
        .unwrap_or_else(|| svc.name.clone());
    w.comment(&format!(
        "Imported by `capsim import terraform` from {}: aws_ecs_service.{} and what it uses.",
        opts.path.display(),
        svc.name
    ));
    w.comment("Each imported value names its file, line and attribute. PLACEHOLDER values");
    w.comment("are not in the module: the load and the workload above all are yours to set.");
    w.value(
        "name",
        crate::scenario::safe_name(&service_name),
        &s.at("name"),
    );
    m.write_run(&mut w);
    w.table("task", "");
    w.value(
        "definition",
        task_definition_file,
        &format!(
            "written from {}:{} aws_ecs_task_definition.{} (cpu {}, memory {})",
            td.file,
            td.line,
            td.name,
            src.get("cpu").map_or("-", |s| s.as_str()),
            src.get("memory").map_or("-", |s| s.as_str())
        ),
    );
    w.value(
        "concurrency",
        64,
        "PLACEHOLDER: requests one task serves at once",
    );
    w.table("service", "");
    if let Some(v) = s.get("desired_count", true).as_ref().and_then(num) {
        w.value("desired", v as i64, &s.at("desired_count"));
    }
    for (tf, key) in [
        ("deployment_maximum_percent", "maximum_percent"),
        (
            "deployment_minimum_healthy_percent",
            "minimum_healthy_percent",
        ),
    ] {
        if let Some(v) = s.get(tf, true).as_ref().and_then(num) {
            w.value(key, v as i64, &s.at(tf));
        }
    }
    let strategy: Vec<(String, i64, i64)> = s
        .blocks("capacity_provider_strategy")
        .iter()
        .map(|b| {
            (
                s.get_in(b, "capacity_provider", true)
                    .as_ref()
                    .and_then(text)
                    .unwrap_or_default(),
                s.get_in(b, "base", true)
                    .as_ref()
                    .and_then(num)
                    .unwrap_or(0.0) as i64,
                s.get_in(b, "weight", true)
                    .as_ref()
                    .and_then(num)
                    .unwrap_or(0.0) as i64,
            )
        })
        .collect();
    let launch = s.get("launch_type", true).as_ref().and_then(text);
    let fargate_only = !strategy.is_empty()
        && strategy
            .iter()
            .all(|p| p.0 == "FARGATE" || p.0 == "FARGATE_SPOT");
    let on_ec2 = launch.as_deref() == Some("EC2") || (!strategy.is_empty() && !fargate_only);
    if on_ec2 {
        let ps: Vec<String> = s
            .blocks("ordered_placement_strategy")
            .iter()
            .map(|b| {
                let ty = s
                    .get_in(b, "type", true)
                    .as_ref()
                    .and_then(text)
                    .unwrap_or_default();
                match s.get_in(b, "field", true).as_ref().and_then(text) {
                    Some(f) => format!("{{ type = \"{ty}\", field = \"{f}\" }}"),
                    None => format!("{{ type = \"{ty}\" }}"),
                }
            })
            .collect();
        if !ps.is_empty() {
            w.raw(
                "placement_strategy",
                &format!("[{}]", ps.join(", ")),
                &s.at("ordered_placement_strategy"),
            );
        }
    }
    for a in svc.body.attributes() {
        if !matches!(
            a.key.as_str(),
            "name"
                | "desired_count"
                | "launch_type"
                | "task_definition"
                | "deployment_maximum_percent"
                | "deployment_minimum_healthy_percent"
        ) {
            ignored.push(format!("{}: not needed by capsim", s.at(a.key.as_str())));
        }
    }
    for b in svc.body.blocks() {
        if !matches!(
            b.identifier.as_str(),
            "capacity_provider_strategy" | "ordered_placement_strategy"
        ) {
            ignored.push(format!(
                "{}:{}: aws_ecs_service.{}: block {}: not needed by capsim",
                svc.file,
                svc.line,
                svc.name,
                b.identifier.as_str()
            ));
        }
    }
    // The target group behind the service's load balancer block.
    let tgs = of("aws_lb_target_group");
    let tg_name = svc
        .body
        .blocks()
        .filter(|b| b.identifier.as_str() == "load_balancer")
        .find_map(|b| target_of(&b.body, "target_group_arn", "aws_lb_target_group"));
    let tg = tg_name
        .and_then(|n| tgs.iter().copied().find(|r| r.name == n))
        .or(if tgs.len() == 1 { Some(tgs[0]) } else { None });
    if let Some(tg) = tg {
        let mut g = Reader {
            m: &m,
            r: tg,
            unresolved: Vec::new(),
        };
        let delay = g.get("deregistration_delay", true).as_ref().and_then(num);
        let interval = g
            .blocks("health_check")
            .first()
            .and_then(|b| g.get_in(b, "interval", true))
            .as_ref()
            .and_then(num);
        if delay.is_some() || interval.is_some() {
            w.table("load_balancer", "");
            if let Some(i) = interval {
                w.value(
                    "health_check_interval",
                    format!("{}s", i as i64),
                    &g.at("interval"),
                );
            }
            if let Some(d) = delay {
                w.value(
                    "deregistration_delay",
                    format!("{}s", d as i64),
                    &g.at("deregistration_delay"),
                );
            }
        }
        unresolved.append(&mut g.unresolved);
    }
    w.table("platform", "");
    if on_ec2 {
        w.value(
            "kind",
            "ecs_ec2",
            &s.at(if launch.is_some() {
                "launch_type"
            } else {
                "capacity_provider_strategy"
            }),
        );
        ec2_cluster(&m, svc, &mut w, &mut ignored, &mut unresolved);
    } else {
        w.value(
            "kind",
            "fargate",
            &s.at(if launch.is_some() {
                "launch_type"
            } else {
                "capacity_provider_strategy"
            }),
        );
        if !strategy.is_empty() {
            let items: Vec<String> = strategy
                .iter()
                .map(|(p, b, wt)| format!("{{ provider = \"{p}\", base = {b}, weight = {wt} }}"))
                .collect();
            w.raw(
                "capacity_provider_strategy",
                &format!("[{}]", items.join(", ")),
                &s.at("capacity_provider_strategy"),
            );
        }
    }
    unresolved.append(&mut s.unresolved);

    // Application Auto Scaling: the target naming this service, its policies.
    let targets = of("aws_appautoscaling_target");
    let target = targets
        .iter()
        .copied()
        .find(|r| {
            target_of(&r.body, "resource_id", "aws_ecs_service").as_deref()
                == Some(svc.name.as_str())
                || r.body.attributes().any(|a| {
                    a.key.as_str() == "resource_id"
                        && a.expr
                            .evaluate(&m.ctx)
                            .ok()
                            .as_ref()
                            .and_then(text)
                            .is_some_and(|id| id.ends_with(&format!("/{service_name}")))
                })
        })
        .or(if targets.len() == 1 {
            Some(targets[0])
        } else {
            None
        });
    if let Some(tg) = target {
        let mut a = Reader {
            m: &m,
            r: tg,
            unresolved: Vec::new(),
        };
        w.table("autoscaling", "");
        for (tf, key) in [
            ("min_capacity", "min_capacity"),
            ("max_capacity", "max_capacity"),
        ] {
            match a.get(tf, true).as_ref().and_then(num) {
                Some(v) => w.value(key, v as i64, &a.at(tf)),
                None => {
                    return Err(err(
                        &opts.path,
                        format!("{}: needed and not known", a.at(tf)),
                    ));
                }
            }
        }
        let mut first = true;
        let mut steps: Vec<Vec<(String, String, String)>> = Vec::new();
        for p in of("aws_appautoscaling_policy") {
            let names_target = ["resource_id", "scalable_dimension", "service_namespace"]
                .iter()
                .any(|k| {
                    target_of(&p.body, k, "aws_appautoscaling_target").as_deref()
                        == Some(tg.name.as_str())
                });
            if !names_target && targets.len() > 1 {
                continue;
            }
            let mut r = Reader {
                m: &m,
                r: p,
                unresolved: Vec::new(),
            };
            let ty = r
                .get("policy_type", true)
                .as_ref()
                .and_then(text)
                .unwrap_or_else(|| "StepScaling".into());
            if ty == "StepScaling" {
                match step_policy(&m, p, &mut r) {
                    Ok(lines) => steps.push(lines),
                    Err(why) => ignored.push(format!(
                        "{}: step policy {}: {why}",
                        r.at("policy_type"),
                        p.name
                    )),
                }
                unresolved.append(&mut r.unresolved);
                continue;
            }
            if ty != "TargetTrackingScaling" {
                ignored.push(format!(
                    "{}: a {ty} policy is not modelled",
                    r.at("policy_type")
                ));
                continue;
            }
            let Some(cfg) = r
                .blocks("target_tracking_scaling_policy_configuration")
                .into_iter()
                .next()
            else {
                continue;
            };
            let metric = cfg
                .blocks()
                .find(|b| b.identifier.as_str() == "predefined_metric_specification")
                .map(|b| b.body.clone())
                .and_then(|b| r.get_in(&b, "predefined_metric_type", true))
                .as_ref()
                .and_then(text);
            let Some(metric) = metric else {
                ignored.push(format!(
                    "{}: tracks a customized metric: capsim models the predefined ECS and ALB metrics only",
                    r.at("target_tracking_scaling_policy_configuration")
                ));
                continue;
            };
            let Some(target_value) = r.get_in(&cfg, "target_value", true).as_ref().and_then(num)
            else {
                return Err(err(
                    &opts.path,
                    format!("{}: needed and not known", r.at("target_value")),
                ));
            };
            let cool = |r: &mut Reader, k: &str| {
                r.get_in(&cfg, k, true)
                    .as_ref()
                    .and_then(num)
                    .unwrap_or(300.0) as i64
            };
            let (out_c, in_c) = (
                cool(&mut r, "scale_out_cooldown"),
                cool(&mut r, "scale_in_cooldown"),
            );
            if !first {
                w.array_table("autoscaling.target_tracking");
                w.value(
                    "name",
                    p.name.as_str(),
                    &format!("{}:{} aws_appautoscaling_policy.{}", p.file, p.line, p.name),
                );
            }
            w.value(
                "predefined_metric",
                metric.as_str(),
                &r.at("predefined_metric_type"),
            );
            w.value("target_value", target_value, &r.at("target_value"));
            w.value(
                "scale_out_cooldown",
                format!("{out_c}s"),
                &r.at("scale_out_cooldown"),
            );
            w.value(
                "scale_in_cooldown",
                format!("{in_c}s"),
                &r.at("scale_in_cooldown"),
            );
            first = false;
            unresolved.append(&mut r.unresolved);
        }
        unresolved.append(&mut a.unresolved);
        for lines in steps {
            w.array_table("autoscaling.step_scaling");
            for (k, v, src) in lines {
                w.raw(&k, &v, &src);
            }
        }
        // Scheduled actions on the target.
        for sa in of("aws_appautoscaling_scheduled_action") {
            let mut r = Reader {
                m: &m,
                r: sa,
                unresolved: Vec::new(),
            };
            let Some(schedule) = r.get("schedule", true).as_ref().and_then(text) else {
                continue;
            };
            if r.get("timezone", false)
                .as_ref()
                .and_then(text)
                .is_some_and(|z| z != "UTC" && z != "Etc/UTC")
            {
                ignored.push(format!(
                    "{}: a time zone other than UTC is not modelled: taken as UTC",
                    r.at("timezone")
                ));
            }
            match super::aws_schedule(&schedule) {
                Ok((at, every)) => {
                    let action = r.blocks("scalable_target_action").into_iter().next();
                    let cap = |r: &mut Reader, k: &str| {
                        action
                            .as_ref()
                            .and_then(|b| r.get_in(b, k, true))
                            .as_ref()
                            .and_then(num)
                    };
                    let (lo, hi) = (cap(&mut r, "min_capacity"), cap(&mut r, "max_capacity"));
                    w.array_table("autoscaling.scheduled");
                    w.value(
                        "name",
                        sa.name.as_str(),
                        &format!(
                            "{}:{}: aws_appautoscaling_scheduled_action.{}",
                            sa.file, sa.line, sa.name
                        ),
                    );
                    w.value(
                        "at",
                        at,
                        &format!(
                            "{}: {schedule} (time 0 is Monday 00:00 UTC)",
                            r.at("schedule")
                        ),
                    );
                    w.value("every", every, &r.at("schedule"));
                    if let Some(v) = lo {
                        w.value("min_capacity", v as i64, &r.at("min_capacity"));
                    }
                    if let Some(v) = hi {
                        w.value("max_capacity", v as i64, &r.at("max_capacity"));
                    }
                }
                Err(m) => ignored.push(format!("{}: {m}", r.at("schedule"))),
            }
            unresolved.append(&mut r.unresolved);
        }
    } else {
        ignored.push(
            "no aws_appautoscaling_target for the service: the scenario does not autoscale".into(),
        );
    }
    for r in &m.resources {
        if !matches!(
            r.kind.as_str(),
            "aws_ecs_service"
                | "aws_ecs_task_definition"
                | "aws_appautoscaling_target"
                | "aws_appautoscaling_policy"
                | "aws_lb_target_group"
                | "aws_appautoscaling_scheduled_action"
                | "aws_cloudwatch_metric_alarm"
                | "aws_ecs_capacity_provider"
                | "aws_autoscaling_group"
                | "aws_launch_template"
        ) {
            ignored.push(format!(
                "{}:{}: {}.{}: not needed by capsim",
                r.file, r.line, r.kind, r.name
            ));
        }
    }
    w.slo_placeholder();
    let needed: Vec<&String> = unresolved
        .iter()
        .filter(|u| u.ends_with("capsim needs it"))
        .collect();
    if !needed.is_empty() {
        // The variables without a value behind them.
        let vars: Vec<String> = m
            .missing_vars
            .iter()
            .filter(|(n, _, _)| needed.iter().any(|u| u.contains(&format!("var.{n} "))))
            .map(|(n, f, l)| format!("{f}:{l}: variable \"{n}\" has no value: pass --var {n}=…"))
            .collect();
        return Err(err(
            &opts.path,
            format!(
                "values capsim needs are not known:\n  {}{}",
                needed
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join("\n  "),
                if vars.is_empty() {
                    String::new()
                } else {
                    format!("\n  {}", vars.join("\n  "))
                }
            ),
        ));
    }
    ignored.extend(unresolved);
    Ok(TerraformImport {
        scenario: Imported {
            toml: w.finish(),
            ignored,
        },
        task_definition: Some(serde_json::Value::Object(task)),
    })
}
