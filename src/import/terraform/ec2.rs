//! The EC2 side of an imported ECS service: its capacity provider, Auto
//! Scaling group and launch template.

use super::*;

/// The EC2 side of an ECS service: its capacity provider (named in the
/// service's strategy, else the module's only one), that provider's Auto
/// Scaling group and launch template — instance types (a mixed-instances
/// policy's overrides, or the launch template's type), sizes, on-demand
/// base and percentage, Spot allocation — and managed scaling.
pub(super) fn ec2_cluster(
    m: &Module,
    svc: &Resource,
    w: &mut Writer,
    ignored: &mut Vec<String>,
    unresolved: &mut Vec<String>,
) {
    let of =
        |kind: &str| -> Vec<&Resource> { m.resources.iter().filter(|r| r.kind == kind).collect() };
    let find = |kind: &str, name: Option<String>| -> Option<&Resource> {
        let all = of(kind);
        name.and_then(|n| all.iter().copied().find(|r| r.name == n))
            .or(if all.len() == 1 { Some(all[0]) } else { None })
    };
    let cp_name = svc
        .body
        .blocks()
        .filter(|b| b.identifier.as_str() == "capacity_provider_strategy")
        .find_map(|b| target_of(&b.body, "capacity_provider", "aws_ecs_capacity_provider"));
    let Some(cp) = find("aws_ecs_capacity_provider", cp_name) else {
        w.raw(
            "instance_types",
            "[\"m5.large\"]",
            "PLACEHOLDER: no aws_ecs_capacity_provider in the module",
        );
        return;
    };
    let mut c = Reader {
        m,
        r: cp,
        unresolved: Vec::new(),
    };
    let provider = c.blocks("auto_scaling_group_provider").into_iter().next();
    let asg_name = provider
        .as_ref()
        .and_then(|b| target_of(b, "auto_scaling_group_arn", "aws_autoscaling_group"));
    let Some(asg) = find("aws_autoscaling_group", asg_name) else {
        w.raw(
            "instance_types",
            "[\"m5.large\"]",
            "PLACEHOLDER: the capacity provider's aws_autoscaling_group is not in the module",
        );
        return;
    };
    let mut a = Reader {
        m,
        r: asg,
        unresolved: Vec::new(),
    };
    // Instance types: the mixed-instances policy's overrides, else the
    // launch template's type.
    let mut types: Vec<(String, String)> = Vec::new();
    let mut lt_name = None;
    let mip = a.blocks("mixed_instances_policy").into_iter().next();
    if let Some(mip) = &mip {
        for lt in mip
            .blocks()
            .filter(|b| b.identifier.as_str() == "launch_template")
        {
            for spec in lt
                .body
                .blocks()
                .filter(|b| b.identifier.as_str() == "launch_template_specification")
            {
                lt_name = lt_name
                    .or_else(|| target_of(&spec.body, "launch_template_id", "aws_launch_template"));
            }
            for o in lt
                .body
                .blocks()
                .filter(|b| b.identifier.as_str() == "override")
            {
                if let Some(t) = a
                    .get_in(&o.body, "instance_type", true)
                    .as_ref()
                    .and_then(text)
                {
                    types.push((t, a.at("override")));
                }
            }
        }
    }
    for lt in a.blocks("launch_template") {
        lt_name = lt_name.or_else(|| {
            target_of(&lt, "id", "aws_launch_template")
                .or_else(|| target_of(&lt, "name", "aws_launch_template"))
        });
    }
    if types.is_empty()
        && let Some(lt) = find("aws_launch_template", lt_name)
    {
        let mut l = Reader {
            m,
            r: lt,
            unresolved: Vec::new(),
        };
        if let Some(t) = l.get("instance_type", true).as_ref().and_then(text) {
            types.push((t, l.at("instance_type")));
        }
        unresolved.append(&mut l.unresolved);
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
    for (tf, key) in [
        ("min_size", "min_size"),
        ("max_size", "max_size"),
        ("desired_capacity", "desired_capacity"),
    ] {
        if let Some(v) = a.get(tf, true).as_ref().and_then(num) {
            w.value(key, v as i64, &a.at(tf));
        }
    }
    if let Some(mip) = &mip
        && let Some(dist) = mip
            .blocks()
            .find(|b| b.identifier.as_str() == "instances_distribution")
    {
        for (tf, key) in [
            ("on_demand_base_capacity", "on_demand_base_capacity"),
            (
                "on_demand_percentage_above_base_capacity",
                "on_demand_percentage_above_base",
            ),
        ] {
            if let Some(v) = a.get_in(&dist.body, tf, true).as_ref().and_then(num) {
                w.value(key, v as i64, &a.at(tf));
            }
        }
        if let Some(v) = a
            .get_in(&dist.body, "spot_allocation_strategy", true)
            .as_ref()
            .and_then(text)
        {
            if matches!(v.as_str(), "price-capacity-optimized" | "lowest-price") {
                w.value(
                    "spot_allocation_strategy",
                    v.as_str(),
                    &a.at("spot_allocation_strategy"),
                );
            } else {
                ignored.push(format!(
                    "{}: {v} is not modelled (price-capacity-optimized, lowest-price are)",
                    a.at("spot_allocation_strategy")
                ));
            }
        }
    }
    if let Some(p) = &provider {
        let protection = c
            .get_in(p, "managed_termination_protection", true)
            .as_ref()
            .and_then(text);
        if let Some(ms) = p
            .blocks()
            .find(|b| b.identifier.as_str() == "managed_scaling")
        {
            let status = c.get_in(&ms.body, "status", true).as_ref().and_then(text);
            w.value(
                "managed_scaling",
                status.as_deref() == Some("ENABLED"),
                &c.at("status"),
            );
            for (tf, key) in [
                ("target_capacity", "target_capacity"),
                ("minimum_scaling_step_size", "minimum_scaling_step_size"),
                ("maximum_scaling_step_size", "maximum_scaling_step_size"),
            ] {
                if let Some(v) = c.get_in(&ms.body, tf, true).as_ref().and_then(num) {
                    w.value(key, v as i64, &c.at(tf));
                }
            }
            if let Some(v) = c
                .get_in(&ms.body, "instance_warmup_period", true)
                .as_ref()
                .and_then(num)
            {
                w.value(
                    "instance_warmup_period",
                    format!("{}s", v as i64),
                    &c.at("instance_warmup_period"),
                );
            }
        } else {
            w.value(
                "managed_scaling",
                false,
                &format!(
                    "{}:{}: aws_ecs_capacity_provider.{}: no managed_scaling block",
                    cp.file, cp.line, cp.name
                ),
            );
        }
        if let Some(p) = protection {
            w.value(
                "managed_termination_protection",
                p == "ENABLED",
                &c.at("managed_termination_protection"),
            );
        }
    }
    unresolved.append(&mut c.unresolved);
    unresolved.append(&mut a.unresolved);
}
