//! `[platform] kind = "ecs_ec2"`: ECS on EC2 container instances — the
//! Auto Scaling group behind one capacity provider, what the ECS agent
//! registers, managed scaling, daemons, network modes; compiled into the
//! cluster configuration `cluster` runs.

use super::{
    DEFAULT_SPOT_INTERRUPTIONS_PER_HOUR, NetworkMode, Platform, PlatformKind, PlatformSpec,
    Provider, ProviderShare, TaskFacts, ec2, positive_or,
};
use crate::error::ScenarioError;
use crate::workload::{Dist, DistSpec};

/// Compiles `[platform] kind = ...` (see [`PlatformSpec`]).
pub(super) fn compile(
    spec: &PlatformSpec,
    task: &TaskFacts,
    region: &str,
) -> Result<Platform, ScenarioError> {
    let PlatformSpec::EcsEc2 {
        instance_types,
        instance_catalog,
        availability_zones,
        network_mode,
        awsvpc_trunking,
        reserved_memory_mib,
        registered_memory_fraction,
        min_size,
        max_size,
        desired_capacity,
        on_demand_base_capacity,
        on_demand_percentage_above_base,
        spot_allocation_strategy: _,
        spot_discount,
        spot_interruptions_per_hour,
        spot_instance_draining,
        instance_boot_s,
        managed_scaling,
        target_capacity,
        minimum_scaling_step_size,
        maximum_scaling_step_size,
        instance_warmup_period,
        managed_termination_protection,
        managed_scaling_metric_delay,
        daemons,
        image_mb,
        pull_mbps,
        pull_s,
        task_start_s,
        app_start_s,
    } = spec
    else {
        unreachable!("called for its own kind only")
    };
    let key = |k: &str| format!("platform.{k}");
    for (i, d) in daemons.iter().enumerate() {
        use crate::platform::taskdef::{MAX_CPU_UNITS, MAX_MEMORY_MIB};
        if u64::from(d.cpu) > MAX_CPU_UNITS || u64::from(d.memory) > MAX_MEMORY_MIB {
            return Err(ScenarioError::invalid(
                format!("platform.daemons[{i}]"),
                format!(
                    "expected cpu ≤ {MAX_CPU_UNITS} units and memory ≤ {MAX_MEMORY_MIB} MiB (the largest task ECS runs)"
                ),
            ));
        }
    }
    let arch = task.arch.unwrap_or_default();
    let catalog = ec2::catalog_for(instance_catalog, &task.base_dir, region)?;
    let types = ec2::lookup(&catalog, instance_types, arch, &key("instance_types"))?;
    if !(1..=6).contains(availability_zones) {
        return Err(ScenarioError::invalid(
            key("availability_zones"),
            format!("expected 1 to 6, got {availability_zones}"),
        ));
    }
    if !(registered_memory_fraction.is_finite() && (0.5..=1.0).contains(registered_memory_fraction))
    {
        return Err(ScenarioError::invalid(
            key("registered_memory_fraction"),
            format!("expected 0.5 to 1, got {registered_memory_fraction}"),
        ));
    }
    if min_size > max_size {
        return Err(ScenarioError::invalid(
            key("min_size"),
            format!("must not exceed max_size ({max_size})"),
        ));
    }
    // Amazon ECS service quotas: 5,000 container instances per cluster.
    if *max_size > 5_000 {
        return Err(ScenarioError::invalid(
            key("max_size"),
            format!(
                "expected at most 5000 (the ECS quota of container instances per cluster), got {max_size}"
            ),
        ));
    }
    let initial = desired_capacity.unwrap_or(*min_size);
    if initial < *min_size || initial > *max_size {
        return Err(ScenarioError::invalid(
            key("desired_capacity"),
            format!("must lie between min_size {min_size} and max_size {max_size}"),
        ));
    }
    if *on_demand_percentage_above_base > 100 {
        return Err(ScenarioError::invalid(
            key("on_demand_percentage_above_base"),
            "expected 0 to 100",
        ));
    }
    if !(spot_discount.is_finite() && (0.0..1.0).contains(spot_discount)) {
        return Err(ScenarioError::invalid(
            key("spot_discount"),
            format!("expected a share in [0, 1), got {spot_discount}"),
        ));
    }
    if !(1..=100).contains(target_capacity) {
        return Err(ScenarioError::invalid(
            key("target_capacity"),
            format!("expected 1 to 100 (%), got {target_capacity}"),
        ));
    }
    if *minimum_scaling_step_size == 0
        || minimum_scaling_step_size > maximum_scaling_step_size
        || *maximum_scaling_step_size > 10_000
    {
        return Err(ScenarioError::invalid(
            key("minimum_scaling_step_size"),
            "expected 1 ≤ minimum ≤ maximum ≤ 10000",
        ));
    }
    let rate = positive_or(
        &key("spot_interruptions_per_hour"),
        *spot_interruptions_per_hour,
    )?;
    let mode = match (network_mode, task.network_mode.as_deref()) {
        (Some(m), _) => *m,
        (None, Some("bridge")) => NetworkMode::Bridge,
        (None, Some("host")) => NetworkMode::Host,
        (None, Some("awsvpc")) | (None, None) => NetworkMode::Awsvpc,
        (None, Some(other)) => {
            return Err(ScenarioError::invalid(
                "task.definition",
                format!("networkMode \"{other}\" is not modelled; use awsvpc, bridge or host"),
            ));
        }
    };
    if mode == NetworkMode::Awsvpc {
        ec2::require_enis(&types, &key("instance_types"), "awsvpc tasks")?;
    }
    super::check_image(*image_mb, *pull_mbps)?;
    let cluster = crate::cluster::ClusterConfig {
        groups: vec![crate::cluster::GroupConfig {
            name: "asg".into(),
            types,
            min_size: *min_size,
            max_size: *max_size,
            initial,
            od_base: *on_demand_base_capacity,
            od_pct: *on_demand_percentage_above_base,
            zones: (0..*availability_zones as usize).collect(),
            labels: Vec::new(),
        }],
        azs: (0..*availability_zones)
            .map(|i| format!("{region}{}", (b'a' + i as u8) as char))
            .collect(),
        spot_discount: *spot_discount,
        spot_discounts: Default::default(),
        spot_rate: rate.unwrap_or(DEFAULT_SPOT_INTERRUPTIONS_PER_HOUR),
        spot_draining: *spot_instance_draining,
        boot_s: instance_boot_s
            .clone()
            .unwrap_or(DistSpec::Lognormal {
                mean: 60.0,
                p99: 120.0,
            })
            .compile(&key("instance_boot_s"))?,
        scaler: if *managed_scaling {
            crate::cluster::NodeScaler::EcsManaged(crate::cluster::Managed {
                target: *target_capacity,
                min_step: *minimum_scaling_step_size,
                max_step: *maximum_scaling_step_size,
                warmup: instance_warmup_period.0,
                termination_protection: *managed_termination_protection,
                metric_delay: managed_scaling_metric_delay.0,
            })
        } else {
            crate::cluster::NodeScaler::Fixed
        },
        daemons: daemons
            .iter()
            .map(|d| {
                (
                    d.name.clone(),
                    crate::placement::Resources {
                        cpu: d.cpu,
                        memory: d.memory,
                        slots: 0,
                    },
                )
            })
            .collect(),
        model: crate::cluster::NodeModel::Ecs {
            trunking: *awsvpc_trunking,
            reserved_memory: *reserved_memory_mib,
            registered_fraction: *registered_memory_fraction,
        },
        task_start_s: task_start_s
            .clone()
            .unwrap_or(DistSpec::Constant { value: 3.0 })
            .compile(&key("task_start_s"))?,
        system: None,
    };
    let request = crate::placement::Request {
        resources: crate::placement::Resources {
            cpu: task.cpu_units,
            memory: task.memory_mib,
            slots: u32::from(mode == NetworkMode::Awsvpc),
        },
        ports: match mode {
            NetworkMode::Host => task.host_ports.0.clone(),
            NetworkMode::Bridge => task.host_ports.1.clone(),
            NetworkMode::Awsvpc => Vec::new(),
        },
        group: 0,
    };
    // Every type of the group must hold one task beside the
    // daemons: a task that exceeds the smallest type can never
    // make the group grow and would stay PENDING (aws.md §2.6).
    let (d_cpu, d_mem) = cluster.daemons.iter().fold((0u32, 0u32), |(c, m), (_, r)| {
        (c.saturating_add(r.cpu), m.saturating_add(r.memory))
    });
    for t in cluster.types() {
        let cap = cluster.capacity(t);
        if request.resources.cpu.saturating_add(d_cpu) > cap.cpu
            || request.resources.memory.saturating_add(d_mem) > cap.memory
            || request.resources.slots > cap.slots
        {
            return Err(ScenarioError::invalid(
                "task.cpu",
                format!(
                    "a {} CPU / {} MiB task{} does not fit on a {} ({} CPU units, {} MiB registered{}); tasks must fit every instance type of the group",
                    task.cpu_units,
                    task.memory_mib,
                    if cluster.daemons.is_empty() {
                        String::new()
                    } else {
                        format!(" with its daemons ({d_cpu} CPU, {d_mem} MiB)")
                    },
                    t.instance_type,
                    cap.cpu,
                    cap.memory,
                    if request.resources.slots > cap.slots {
                        ", no ENI for an awsvpc task"
                    } else {
                        ""
                    }
                ),
            ));
        }
    }
    let pull = match pull_s {
        Some(d) => d.compile(&key("pull_s"))?,
        None => Dist::Constant(image_mb / pull_mbps),
    };
    Ok(Platform {
        kind: PlatformKind::Ec2,
        arch,
        os: task.os.unwrap_or_default(),
        strategy: vec![ProviderShare {
            provider: Provider::Fargate,
            base: 0,
            weight: 1,
        }],
        spot_interruptions_per_hour: 0.0,
        provisioning_s: None,
        pull_s: Some(pull),
        app_start_s: Some(
            app_start_s
                .clone()
                .unwrap_or(DistSpec::Constant { value: 5.0 })
                .compile(&key("app_start_s"))?,
        ),
        prices: None,
        ec2: Some(crate::cluster::Ec2Setup {
            cluster,
            task: request,
        }),
        eks: None,
    })
}
