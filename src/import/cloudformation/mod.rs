//! `capsim import cloudformation`: a scenario from a CloudFormation
//! template (JSON, or YAML with the short-form intrinsics `!Ref`, `!Sub`,
//! `!GetAtt`… read through serde-saphyr's tag capture). Intrinsics are
//! resolved where the template alone decides them: `Ref` to a parameter
//! (its default, or `--param`), `Fn::Sub` and `Fn::Join` over those,
//! `Fn::Select`, `Fn::FindInMap`, `AWS::Region` (`--region`). What only a
//! deployed stack knows (`Fn::GetAtt`, a resource's `Ref`, imports,
//! conditions) becomes a named placeholder, listed with its line.
//!
//! Read: `AWS::ECS::TaskDefinition` (written out as a task definition
//! JSON, the container definitions' keys in the API's camelCase),
//! `AWS::ECS::Service`, `AWS::ApplicationAutoScaling::ScalableTarget` (its
//! scheduled actions), its target-tracking and step `ScalingPolicy`s (with
//! their `AWS::CloudWatch::Alarm`), and on EC2 the capacity provider, its
//! Auto Scaling group and launch template. The rest is listed as not
//! needed. `template.rs` reads the template and resolves intrinsics.

mod template;

use super::{Imported, Writer};
use crate::error::Error;
use serde_json::{Map, Value};
use std::path::PathBuf;

use serde_saphyr::Tagged;
use template::*;

/// What to import.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The template.
    pub template: PathBuf,
    /// `--param Name=Value`.
    pub params: Vec<(String, String)>,
    /// `AWS::Region`.
    pub region: Option<String>,
    /// The `AWS::ECS::Service` (logical id) when there are several.
    pub service: Option<String>,
}

/// A scenario and the task definition JSON it references.
#[derive(Debug, Clone)]
pub struct CfnImport {
    /// The scenario.
    pub scenario: Imported,
    /// The task definition.
    pub task_definition: Value,
}

/// Imports the template; `task_definition_file` is how the scenario names
/// the task definition JSON the caller writes beside it.
pub fn import(opts: &Options, task_definition_file: &str) -> Result<CfnImport, Error> {
    let path = &opts.template;
    let bad = |m: String| Error::Import {
        file: path.clone(),
        message: m,
    };
    let text = crate::input::read_text(path, crate::input::MAX_TEXT_BYTES).map_err(&bad)?;
    let json: Value = if text.trim_start().starts_with('{') {
        serde_json::from_str(&text).map_err(|e| bad(format!("line {}: not JSON: {e}", e.line())))?
    } else {
        let node: Tagged<Node> =
            serde_saphyr::from_str(&text).map_err(|e| bad(format!("not valid YAML: {e}")))?;
        to_json(node)
    };
    let resources = json
        .get("Resources")
        .and_then(Value::as_object)
        .ok_or_else(|| bad("no Resources: not a CloudFormation template".into()))?
        .clone();
    // Parameters: --param, else the default.
    let mut params = Map::new();
    let mut missing = Vec::new();
    if let Some(ps) = json.get("Parameters").and_then(Value::as_object) {
        for (name, p) in ps {
            let given = opts
                .params
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone());
            match (given, p.get("Default")) {
                (Some(v), _) => {
                    params.insert(name.clone(), Value::String(v));
                }
                (None, Some(d)) => {
                    params.insert(name.clone(), d.clone());
                }
                (None, None) => missing.push(name.clone()),
            }
        }
    }
    let t = Template {
        json: json.clone(),
        text: text.clone(),
        params,
        region: opts.region.clone(),
    };
    let fname = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let of = |ty: &str| -> Vec<(&String, &Value)> {
        resources
            .iter()
            .filter(|(_, r)| r.get("Type").and_then(Value::as_str) == Some(ty))
            .collect()
    };
    let services = of("AWS::ECS::Service");
    let (sid, svc) = match (&opts.service, services.as_slice()) {
        (Some(w), _) => services
            .iter()
            .copied()
            .find(|(k, _)| *k == w)
            .ok_or_else(|| bad(format!("no AWS::ECS::Service {w}")))?,
        (None, [one]) => *one,
        (None, []) => return Err(bad("no AWS::ECS::Service in the template".into())),
        (None, many) => {
            return Err(bad(format!(
                "{} AWS::ECS::Service resources ({}): choose one with --service",
                many.len(),
                many.iter()
                    .map(|(k, _)| k.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
    };
    let ignored = std::cell::RefCell::new(Vec::new());
    let needed = std::cell::RefCell::new(Vec::new());
    let at = |id: &str, field: &str| format!("{fname}:{}: {id}.Properties.{field}", t.line_of(id));
    let prop = |id: &str, r: &Value, field: &str, need: bool| -> Option<Value> {
        let raw = r.get("Properties")?.get(field)?;
        let v = t.resolve(raw);
        if let Some(what) = unresolved_in(&v) {
            let msg = format!(
                "{}: {what} is known only once the stack exists — {}",
                at(id, field),
                if need {
                    "capsim needs it"
                } else {
                    "capsim does not need it"
                }
            );
            if need {
                needed.borrow_mut().push(msg);
                return None;
            }
            ignored.borrow_mut().push(msg);
        }
        Some(v)
    };
    // The task definition: the service's `TaskDefinition: !Ref X`.
    let tds = of("AWS::ECS::TaskDefinition");
    let td_ref = svc
        .get("Properties")
        .and_then(|p| p.get("TaskDefinition"))
        .and_then(|v| v.get("Ref"))
        .and_then(Value::as_str);
    let (tid, td) = tds
        .iter()
        .copied()
        .find(|(k, _)| Some(k.as_str()) == td_ref)
        .or(if tds.len() == 1 { Some(tds[0]) } else { None })
        .ok_or_else(|| {
            bad(format!(
                "{sid}: its TaskDefinition names no AWS::ECS::TaskDefinition of the template"
            ))
        })?;
    let mut task = Map::new();
    task.insert("family".into(), Value::String(tid.clone()));
    for (field, key) in [
        ("Cpu", "cpu"),
        ("Memory", "memory"),
        ("NetworkMode", "networkMode"),
    ] {
        if let Some(v) = prop(tid, td, field, field != "NetworkMode") {
            task.insert(key.into(), Value::String(scalar(&v)));
        }
    }
    for (field, key) in [
        ("RequiresCompatibilities", "requiresCompatibilities"),
        ("RuntimePlatform", "runtimePlatform"),
        ("EphemeralStorage", "ephemeralStorage"),
    ] {
        if let Some(v) = prop(tid, td, field, true) {
            task.insert(key.into(), camel(&v));
        }
    }
    let defs = prop(tid, td, "ContainerDefinitions", false)
        .ok_or_else(|| bad(format!("{}: missing", at(tid, "ContainerDefinitions"))))?;
    task.insert("containerDefinitions".into(), camel(&defs));
    if let Some(p) = td.get("Properties").and_then(Value::as_object) {
        for k in p.keys() {
            if !matches!(
                k.as_str(),
                "Cpu"
                    | "Memory"
                    | "NetworkMode"
                    | "RequiresCompatibilities"
                    | "RuntimePlatform"
                    | "EphemeralStorage"
                    | "ContainerDefinitions"
            ) {
                ignored
                    .borrow_mut()
                    .push(format!("{}: not needed by capsim", at(tid, k)));
            }
        }
    }
    let mut w = Writer::default();
    w.comment(&format!(
        "Imported by `capsim import cloudformation` from {fname}: {sid} and what it uses."
    ));
    w.comment("Each imported value names its line and property. PLACEHOLDER values are not");
    w.comment("in the template: the load and the workload above all are yours to set.");
    w.value(
        "name",
        crate::scenario::safe_name(sid),
        &format!("{fname}:{}: {sid}", t.line_of(sid)),
    );
    w.run(
        opts.region
            .as_deref()
            .map(|r| (r, "--region (AWS::Region)")),
        "a template names no region (--region)",
    );
    w.load_placeholders();
    w.table("task", "");
    w.value(
        "definition",
        task_definition_file,
        &format!("written from {fname}:{}: {tid}", t.line_of(tid)),
    );
    w.value(
        "concurrency",
        64,
        "PLACEHOLDER: requests one task serves at once",
    );
    w.table("service", "");
    if let Some(n) = prop(sid, svc, "DesiredCount", true).as_ref().and_then(num) {
        w.value("desired", n as i64, &at(sid, "DesiredCount"));
    }
    if let Some(dc) = prop(sid, svc, "DeploymentConfiguration", true) {
        for (f, key) in [
            ("MaximumPercent", "maximum_percent"),
            ("MinimumHealthyPercent", "minimum_healthy_percent"),
        ] {
            if let Some(n) = dc.get(f).and_then(num) {
                w.value(
                    key,
                    n as i64,
                    &at(sid, &format!("DeploymentConfiguration.{f}")),
                );
            }
        }
    }
    let launch = prop(sid, svc, "LaunchType", true).map(|v| scalar(&v));
    // As written: a provider is FARGATE, FARGATE_SPOT, or a `Ref` to a
    // capacity provider of the template (its logical id).
    let strategy: Vec<(String, i64, i64)> = svc
        .get("Properties")
        .and_then(|p| p.get("CapacityProviderStrategy"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|p| {
            let provider = match p.get("CapacityProvider") {
                Some(Value::Object(o)) => o.get("Ref").map(scalar).unwrap_or_default(),
                Some(v) => scalar(&t.resolve(v)),
                None => String::new(),
            };
            (
                provider,
                p.get("Base")
                    .map(|v| t.resolve(v))
                    .as_ref()
                    .and_then(num)
                    .unwrap_or(0.0) as i64,
                p.get("Weight")
                    .map(|v| t.resolve(v))
                    .as_ref()
                    .and_then(num)
                    .unwrap_or(0.0) as i64,
            )
        })
        .collect();
    let fargate_only = !strategy.is_empty()
        && strategy
            .iter()
            .all(|p| p.0 == "FARGATE" || p.0 == "FARGATE_SPOT");
    let on_ec2 = launch.as_deref() == Some("EC2") || (!strategy.is_empty() && !fargate_only);
    if let Some(p) = svc.get("Properties").and_then(Value::as_object) {
        for k in p.keys() {
            if !matches!(
                k.as_str(),
                "DesiredCount"
                    | "DeploymentConfiguration"
                    | "LaunchType"
                    | "CapacityProviderStrategy"
                    | "TaskDefinition"
            ) {
                ignored
                    .borrow_mut()
                    .push(format!("{}: not needed by capsim", at(sid, k)));
            }
        }
    }
    w.table("platform", "");
    let src = at(
        sid,
        if launch.is_some() {
            "LaunchType"
        } else {
            "CapacityProviderStrategy"
        },
    );
    if on_ec2 {
        w.value("kind", "ecs_ec2", &src);
        let cps = of("AWS::ECS::CapacityProvider");
        let cp = strategy
            .iter()
            .find_map(|(p, _, _)| cps.iter().copied().find(|(k, _)| *k == p))
            .or(if cps.len() == 1 { Some(cps[0]) } else { None });
        // The provider's group, by `Ref` (or the template's only one).
        let by_ref = |v: Option<&Value>, ty: &str| {
            let all = of(ty);
            v.and_then(|v| v.get("Ref"))
                .and_then(Value::as_str)
                .and_then(|id| all.iter().copied().find(|(k, _)| k.as_str() == id))
                .or(if all.len() == 1 { Some(all[0]) } else { None })
        };
        let asg_provider = cp.and_then(|(_, r)| {
            r.get("Properties")?
                .get("AutoScalingGroupProvider")
                .cloned()
        });
        let asg = by_ref(
            asg_provider
                .as_ref()
                .and_then(|p| p.get("AutoScalingGroupArn")),
            "AWS::AutoScaling::AutoScalingGroup",
        );
        let mut types: Vec<(String, String)> = Vec::new();
        if let Some((gid, g)) = asg {
            let gp = g.get("Properties").cloned().unwrap_or(Value::Null);
            let mip = gp.get("MixedInstancesPolicy");
            for (i, o) in mip
                .and_then(|m| m.get("LaunchTemplate"))
                .and_then(|l| l.get("Overrides"))
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .enumerate()
            {
                if let Some(ty) = o.get("InstanceType").map(|v| scalar(&t.resolve(v))) {
                    types.push((
                        ty,
                        at(
                            gid,
                            &format!("MixedInstancesPolicy.LaunchTemplate.Overrides[{i}]"),
                        ),
                    ));
                }
            }
            if types.is_empty() {
                let spec = mip
                    .and_then(|m| m.get("LaunchTemplate"))
                    .and_then(|l| l.get("LaunchTemplateSpecification"))
                    .or_else(|| gp.get("LaunchTemplate"));
                if let Some((lid, lt)) = by_ref(
                    spec.and_then(|s| s.get("LaunchTemplateId")),
                    "AWS::EC2::LaunchTemplate",
                ) && let Some(ty) = lt
                    .get("Properties")
                    .and_then(|p| p.get("LaunchTemplateData"))
                    .and_then(|d| d.get("InstanceType"))
                {
                    types.push((
                        scalar(&t.resolve(ty)),
                        at(lid, "LaunchTemplateData.InstanceType"),
                    ));
                }
            }
            if types.is_empty() {
                w.raw(
                    "instance_types",
                    "[\"m5.large\"]",
                    "PLACEHOLDER: the Auto Scaling group's instance types are not known",
                );
            } else {
                let list: Vec<String> = types.iter().map(|(t, _)| format!("\"{t}\"")).collect();
                w.raw(
                    "instance_types",
                    &format!("[{}]", list.join(", ")),
                    &types[0].1,
                );
            }
            for (f, key) in [
                ("MinSize", "min_size"),
                ("MaxSize", "max_size"),
                ("DesiredCapacity", "desired_capacity"),
            ] {
                if let Some(v) = gp.get(f).map(|v| t.resolve(v)).as_ref().and_then(num) {
                    w.value(key, v as i64, &at(gid, f));
                }
            }
            if let Some(d) = mip.and_then(|m| m.get("InstancesDistribution")) {
                for (f, key) in [
                    ("OnDemandBaseCapacity", "on_demand_base_capacity"),
                    (
                        "OnDemandPercentageAboveBaseCapacity",
                        "on_demand_percentage_above_base",
                    ),
                ] {
                    if let Some(v) = d.get(f).map(|v| t.resolve(v)).as_ref().and_then(num) {
                        w.value(
                            key,
                            v as i64,
                            &at(
                                gid,
                                &format!("MixedInstancesPolicy.InstancesDistribution.{f}"),
                            ),
                        );
                    }
                }
                if let Some(v) = d
                    .get("SpotAllocationStrategy")
                    .map(|v| scalar(&t.resolve(v)))
                    && matches!(v.as_str(), "price-capacity-optimized" | "lowest-price")
                {
                    w.value(
                        "spot_allocation_strategy",
                        v.as_str(),
                        &at(
                            gid,
                            "MixedInstancesPolicy.InstancesDistribution.SpotAllocationStrategy",
                        ),
                    );
                }
            }
        } else {
            w.raw(
                "instance_types",
                "[\"m5.large\"]",
                "PLACEHOLDER: no AWS::AutoScaling::AutoScalingGroup behind the capacity provider",
            );
        }
        if let (Some((cid, _)), Some(p)) = (cp, &asg_provider) {
            if let Some(ms) = p.get("ManagedScaling") {
                let status = ms.get("Status").map(scalar);
                w.value(
                    "managed_scaling",
                    status.as_deref() == Some("ENABLED"),
                    &at(cid, "AutoScalingGroupProvider.ManagedScaling.Status"),
                );
                for (f, key) in [
                    ("TargetCapacity", "target_capacity"),
                    ("MinimumScalingStepSize", "minimum_scaling_step_size"),
                    ("MaximumScalingStepSize", "maximum_scaling_step_size"),
                ] {
                    if let Some(v) = ms.get(f).map(|v| t.resolve(v)).as_ref().and_then(num) {
                        w.value(
                            key,
                            v as i64,
                            &at(cid, &format!("AutoScalingGroupProvider.ManagedScaling.{f}")),
                        );
                    }
                }
                if let Some(v) = ms.get("InstanceWarmupPeriod").and_then(num) {
                    w.value(
                        "instance_warmup_period",
                        format!("{}s", v as i64),
                        &at(
                            cid,
                            "AutoScalingGroupProvider.ManagedScaling.InstanceWarmupPeriod",
                        ),
                    );
                }
            }
            if let Some(v) = p.get("ManagedTerminationProtection").map(scalar) {
                w.value(
                    "managed_termination_protection",
                    v == "ENABLED",
                    &at(cid, "AutoScalingGroupProvider.ManagedTerminationProtection"),
                );
            }
        }
    } else {
        w.value("kind", "fargate", &src);
        if !strategy.is_empty() {
            let items: Vec<String> = strategy
                .iter()
                .map(|(p, b, wt)| format!("{{ provider = \"{p}\", base = {b}, weight = {wt} }}"))
                .collect();
            w.raw(
                "capacity_provider_strategy",
                &format!("[{}]", items.join(", ")),
                &src,
            );
        }
    }
    // The scalable target naming the service, and its policies.
    let targets = of("AWS::ApplicationAutoScaling::ScalableTarget");
    let names_service = |r: &Value| {
        let raw = r.get("Properties").and_then(|p| p.get("ResourceId"));
        raw.is_some_and(|v| v.to_string().contains(&format!("\"{sid}\"")))
    };
    let target =
        targets
            .iter()
            .copied()
            .find(|(_, r)| names_service(r))
            .or(if targets.len() == 1 {
                Some(targets[0])
            } else {
                None
            });
    if let Some((gid, g)) = target {
        w.table("autoscaling", "");
        for (f, key) in [
            ("MinCapacity", "min_capacity"),
            ("MaxCapacity", "max_capacity"),
        ] {
            match prop(gid, g, f, true).as_ref().and_then(num) {
                Some(n) => w.value(key, n as i64, &at(gid, f)),
                None => needed.borrow_mut().push(format!("{}: missing", at(gid, f))),
            }
        }
        let mut first = true;
        let mut scheduled = Vec::new();
        let mut steps: Vec<Vec<(String, String, String)>> = Vec::new();
        if let Some(Value::Array(actions)) = prop(gid, g, "ScheduledActions", true) {
            for (i, a) in actions.iter().enumerate() {
                let field = format!("ScheduledActions[{i}]");
                let schedule = a.get("Schedule").map(scalar).unwrap_or_default();
                match super::aws_schedule(&schedule) {
                    Ok((at_, every)) => scheduled.push((
                        a.get("ScheduledActionName")
                            .map(scalar)
                            .unwrap_or_else(|| field.clone()),
                        at_,
                        every,
                        a.get("ScalableTargetAction")
                            .and_then(|x| x.get("MinCapacity"))
                            .and_then(num),
                        a.get("ScalableTargetAction")
                            .and_then(|x| x.get("MaxCapacity"))
                            .and_then(num),
                        at(gid, &field),
                    )),
                    Err(m) => ignored
                        .borrow_mut()
                        .push(format!("{}: {m}", at(gid, &field))),
                }
            }
        }
        for (pid, p) in of("AWS::ApplicationAutoScaling::ScalingPolicy") {
            let targets_it = p
                .get("Properties")
                .and_then(|x| x.get("ScalingTargetId"))
                .is_some_and(|v| v.to_string().contains(&format!("\"{gid}\"")));
            if !targets_it && targets.len() > 1 {
                continue;
            }
            let ty = prop(pid, p, "PolicyType", true)
                .map(|v| scalar(&v))
                .unwrap_or_default();
            if ty == "StepScaling" {
                // The alarm whose AlarmActions `Ref` this policy.
                let alarm = of("AWS::CloudWatch::Alarm").into_iter().find(|(_, a)| {
                    a.get("Properties")
                        .and_then(|x| x.get("AlarmActions"))
                        .is_some_and(|v| v.to_string().contains(&format!("\"{pid}\"")))
                });
                match alarm.ok_or_else(|| "no AWS::CloudWatch::Alarm names it in AlarmActions: its threshold is unknown".to_string()).and_then(|(aid, a)| {
                    let ap = t.resolve(a.get("Properties").unwrap_or(&Value::Null));
                    let cfg = p
                        .get("Properties")
                        .and_then(|x| x.get("StepScalingPolicyConfiguration"))
                        .map(|v| t.resolve(v))
                        .ok_or("no StepScalingPolicyConfiguration")?;
                    super::aws_scaling::step_lines(pid, aid, &ap, &cfg, &at)
                }) {
                    Ok(lines) => steps.push(lines),
                    Err(why) => ignored
                        .borrow_mut()
                        .push(format!("{}: step policy {pid}: {why}", at(pid, "PolicyType"))),
                }
                continue;
            }
            if ty != "TargetTrackingScaling" {
                ignored.borrow_mut().push(format!(
                    "{}: a {ty} policy is not modelled",
                    at(pid, "PolicyType")
                ));
                continue;
            }
            let Some(cfg) = prop(pid, p, "TargetTrackingScalingPolicyConfiguration", true) else {
                continue;
            };
            let cf = |f: &str| {
                at(
                    pid,
                    &format!("TargetTrackingScalingPolicyConfiguration.{f}"),
                )
            };
            let Some(metric) = cfg
                .get("PredefinedMetricSpecification")
                .and_then(|m| m.get("PredefinedMetricType"))
                .map(scalar)
            else {
                ignored.borrow_mut().push(format!(
                    "{}: tracks a customized metric: capsim models the predefined ECS and ALB metrics only",
                    cf("CustomizedMetricSpecification")
                ));
                continue;
            };
            let Some(target_value) = cfg.get("TargetValue").and_then(num) else {
                needed
                    .borrow_mut()
                    .push(format!("{}: missing", cf("TargetValue")));
                continue;
            };
            let cool = |f: &str| cfg.get(f).and_then(num).unwrap_or(300.0) as i64;
            if !first {
                w.array_table("autoscaling.target_tracking");
                w.value(
                    "name",
                    pid.as_str(),
                    &format!("{fname}:{}: {pid}", t.line_of(pid)),
                );
            }
            w.value(
                "predefined_metric",
                metric.as_str(),
                &cf("PredefinedMetricSpecification"),
            );
            w.value("target_value", target_value, &cf("TargetValue"));
            w.value(
                "scale_out_cooldown",
                format!("{}s", cool("ScaleOutCooldown")),
                &cf("ScaleOutCooldown"),
            );
            w.value(
                "scale_in_cooldown",
                format!("{}s", cool("ScaleInCooldown")),
                &cf("ScaleInCooldown"),
            );
            first = false;
        }
        for lines in steps {
            w.array_table("autoscaling.step_scaling");
            for (k, v, src) in lines {
                w.raw(&k, &v, &src);
            }
        }
        for (name, at_, every, lo, hi, src) in scheduled {
            w.array_table("autoscaling.scheduled");
            w.value("name", name.as_str(), &src);
            w.value(
                "at",
                at_,
                &format!("{src}.Schedule (time 0 is Monday 00:00 UTC)"),
            );
            w.value("every", every, &format!("{src}.Schedule"));
            if let Some(v) = lo {
                w.value(
                    "min_capacity",
                    v as i64,
                    &format!("{src}.ScalableTargetAction.MinCapacity"),
                );
            }
            if let Some(v) = hi {
                w.value(
                    "max_capacity",
                    v as i64,
                    &format!("{src}.ScalableTargetAction.MaxCapacity"),
                );
            }
        }
    } else {
        ignored.borrow_mut().push("no AWS::ApplicationAutoScaling::ScalableTarget for the service: the scenario does not autoscale".into());
    }
    for (id, r) in &resources {
        let ty = r.get("Type").and_then(Value::as_str).unwrap_or("?");
        if !matches!(
            ty,
            "AWS::ECS::Service"
                | "AWS::ECS::TaskDefinition"
                | "AWS::ApplicationAutoScaling::ScalableTarget"
                | "AWS::ApplicationAutoScaling::ScalingPolicy"
                | "AWS::ECS::CapacityProvider"
                | "AWS::AutoScaling::AutoScalingGroup"
                | "AWS::EC2::LaunchTemplate"
                | "AWS::CloudWatch::Alarm"
        ) {
            ignored.borrow_mut().push(format!(
                "{fname}:{}: {id} ({ty}): not needed by capsim",
                t.line_of(id)
            ));
        }
    }
    w.slo_placeholder();
    let (needed, ignored) = (needed.into_inner(), ignored.into_inner());
    if !needed.is_empty() {
        let params: Vec<String> = missing
            .iter()
            .filter(|p| needed.iter().any(|n| n.contains(&format!("Ref {p}"))))
            .map(|p| format!("parameter {p} has no Default: pass --param {p}=…"))
            .collect();
        return Err(bad(format!(
            "values capsim needs are not known:\n  {}{}",
            needed.join("\n  "),
            if params.is_empty() {
                String::new()
            } else {
                format!("\n  {}", params.join("\n  "))
            }
        )));
    }
    Ok(CfnImport {
        scenario: Imported {
            toml: w.finish(),
            ignored,
        },
        task_definition: Value::Object(task),
    })
}
