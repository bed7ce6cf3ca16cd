//! The composition root of one run: compiles a scenario, wires the arrival
//! process, the data plane, the control plane and the recorder into a
//! [`Sim`], runs it and builds the report. The wall clock is read here, around
//! the engine, never inside it.

use crate::control::{Balancer, ControlConfig, ControlPlane, PodSettings};
use crate::control::{ClusterControl, ServicePlacement};
use crate::engine::DataPlane;
use crate::engine::{Sim, run_shared};
use crate::error::Error;
use crate::k8s::hpa_controller::PodRequests;
use crate::load::{Arrivals, RateFn};
use crate::metrics::Recorder;
use crate::metrics::cloudwatch::Metric;
use crate::platform::PlatformKind;
use crate::pricing;
use crate::report::RunContext;
use crate::report::html::Assumption;
use crate::report::{self, RunFacts, RunOutput, SharedOutput};
use crate::rng::{Component, stream};
use crate::scaling::AutoScaler;
use crate::scenario::{Compiled, Scenario, SharedScenario};
use crate::service::fluid::{FluidDemand, FluidPlane};
use crate::service::request::Demand;
use crate::service::{RequestPlane, Start};
use crate::time::{MINUTE, SimTime};
use crate::workload::DistSpec;
use std::time::Instant;

fn row(item: impl Into<String>, value: impl Into<String>, source: impl Into<String>) -> Assumption {
    Assumption {
        item: item.into(),
        value: value.into(),
        source: source.into(),
    }
}

/// A delay's row: the scenario's distribution, or the default and where it
/// comes from.
fn delay_row(item: &str, set: &Option<DistSpec>, default: &str, source: &str) -> Assumption {
    match set {
        Some(d) => row(item, d.describe(), "scenario"),
        None => row(item, default, source),
    }
}

/// The image pull's row: a distribution if given, else size / throughput.
fn pull_row(
    item: &str,
    pull_s: &Option<DistSpec>,
    image_mb: f64,
    pull_mbps: f64,
    note: &str,
) -> Assumption {
    match pull_s {
        Some(d) => row(item, d.describe(), format!("scenario{note}")),
        None => row(
            item,
            format!("{image_mb} MB at {pull_mbps} MB/s"),
            format!(
                "image_mb / pull_mbps; 10 MB/s is an assumption derived from a measured 57 s start of a 413 MB image (aws.md §1.5){note}"
            ),
        ),
    }
}

/// What the report says the numbers rest on: prices with their dates and
/// sources, start-up delays, load balancer and scaling settings.
pub fn context(scenario: &Scenario, c: &Compiled) -> RunContext {
    let mut a = Vec::new();
    let p = &c.platform;
    a.push(row(
        "platform",
        format!(
            "{} ({:?}, {:?}) in {}",
            scenario.platform.kind(),
            p.arch,
            p.os,
            scenario.region
        ),
        "scenario",
    ));
    a.push(row(
        "task size",
        format!(
            "{} CPU units, {} MiB, {} requests at once",
            c.shape.cpu_units, c.shape.memory_mib, c.shape.concurrency
        ),
        "scenario",
    ));
    a.push(match c.plane.0 {
        crate::service::Fidelity::Fluid => row(
            "data plane",
            "fluid: requests counted per step, latencies from queueing models (profiles shared by every seed, so intervals over seeds leave out their quadrature error, about 1 % on the p50 and 2.5 % on the p99)",
            format!(
                "{}; an approximation measured against the request-level plane (README, Fidelity)",
                c.plane.1
            ),
        ),
        _ => row("data plane", "request: every request simulated", c.plane.1.clone()),
    });
    if let Some(prices) = &p.prices {
        for r in &prices.sources {
            a.push(row(
                format!(
                    "Fargate price ({}, {}, {})",
                    r.region, r.os_arch, r.capacity
                ),
                format!(
                    "${}/vCPU-h, ${}/GB-h, storage above 20 GB ${}/GB-h",
                    r.vcpu_hour, r.gb_hour, r.storage_gb_hour
                ),
                format!("{} (as of {})", r.source, r.as_of),
            ));
        }
        a.push(row(
            "price per task-hour (on-demand)",
            format!("${:.6}", prices.on_demand_hour),
            "derived: vCPU × rate + GB × rate (+ Windows licence)",
        ));
        if let Some(s) = prices.spot_hour {
            a.push(row(
                "price per task-hour (Spot)",
                format!("${s:.6}"),
                "derived; Spot prices float",
            ));
        }
        a.push(row("billing", "per second, rounded up, one-minute minimum, from image pull to stop; tasks running at the end are billed to the end", "AWS Fargate pricing page (aws.md §1.3)"));
    }
    if scenario.load_balancer.enabled && p.kind != PlatformKind::Ideal {
        a.push(row(
            "load balancer",
            format!(
                "${}/ALB-hour, ${}/LCU-hour",
                pricing::ALB_HOUR_USD,
                pricing::ALB_LCU_HOUR_USD
            ),
            format!(
                "cloud-horizons.com and Price-List fixtures, us-east-1 (as of {}; aws.md §6)",
                pricing::ALB_PRICES_AS_OF
            ),
        ));
        a.push(row(
            "LCU estimate",
            format!(
                "{} requests per connection, {} kB per request",
                scenario.load_balancer.requests_per_connection,
                scenario.load_balancer.kb_per_request
            ),
            "assumption (scenario fields)",
        ));
    }
    if p.kind == PlatformKind::Fargate {
        let pf = &scenario.platform;
        if let crate::platform::PlatformSpec::Fargate {
            provisioning_s,
            image_mb,
            pull_mbps,
            pull_s,
            app_start_s,
            ..
        } = pf
        {
            a.push(delay_row(
                "provisioning (s)",
                provisioning_s,
                "lognormal mean 20, p99 40",
                "assumption: aws.md §1.5 gives ≈ 10–40 s, unverified",
            ));
            a.push(pull_row(
                "image pull (s)",
                pull_s,
                *image_mb,
                *pull_mbps,
                "",
            ));
            a.push(delay_row(
                "application start (s)",
                app_start_s,
                "constant 5",
                "assumption",
            ));
        }
        a.push(row("Spot interruptions", format!("{} per Spot task-hour, 2-minute warning", p.spot_interruptions_per_hour), "AWS publishes no Fargate Spot rate: scenario field (default from the EC2 Spot Advisor's lowest band)"));
    }
    if let (
        Some(e),
        crate::platform::PlatformSpec::EcsEc2 {
            instance_boot_s,
            image_mb,
            pull_mbps,
            pull_s,
            task_start_s,
            app_start_s,
            ..
        },
    ) = (&p.ec2, &scenario.platform)
    {
        ec2_assumptions(&mut a, &e.cluster);
        a.push(delay_row(
            "instance boot (s)",
            instance_boot_s,
            "lognormal mean 60, p99 120",
            "assumption: aws.md §3.3 has node start-up times for EKS and ECS's 300 s warm-up default, no ECS agent registration time",
        ));
        a.push(pull_row(
            "image pull (s), once per instance",
            pull_s,
            *image_mb,
            *pull_mbps,
            "; skipped where the instance has the image",
        ));
        a.push(delay_row(
            "task start (s)",
            task_start_s,
            "constant 3",
            "aws.md §1.5: 1–5 s with the image cached",
        ));
        a.push(delay_row(
            "application start (s)",
            app_start_s,
            "constant 5",
            "assumption",
        ));
    }
    if let (Some(e), Some(pod)) = (&p.eks, &c.pod) {
        if let Some(ec2) = &p.ec2 {
            ec2_assumptions(&mut a, &ec2.cluster);
        }
        eks_assumptions(&mut a, scenario, c, e, pod);
    }
    let lb = &scenario.load_balancer;
    a.push(row(
        "health check",
        format!(
            "every {}, one passing check for a new target",
            lb.health_check_interval
        ),
        "AWS ECS developer guide, load-balancer-healthcheck",
    ));
    a.push(row(
        "deregistration delay",
        if c.pod.is_some() {
            format!(
                "{} on the ALB; a deleted pod exits when idle or at its grace period",
                lb.deregistration_delay
            )
        } else {
            format!(
                "{}; {}; then SIGTERM, SIGKILL {} s later (stopTimeout)",
                lb.deregistration_delay,
                match lb.drain {
                    crate::service::DrainMode::Delay => {
                        "a draining task waits out the whole delay (open keep-alive connections)"
                    }
                    crate::service::DrainMode::Idle => "a draining task leaves when nothing is in flight",
                },
                c.stop_timeout / crate::time::SECOND
            )
        },
        "ELB target group default 300 s; ELB completes early only with no in-flight requests and no active connections (ELB guide, Deregistration delay); stopTimeout default 30 s (ECS)",
    ));
    a.push(row(
        "service start",
        format!("{:?}", scenario.service.start).to_lowercase(),
        "scenario",
    ));
    if let Some(s) = &scenario.autoscaling {
        a.push(row(
            "capacity",
            format!("min {} / max {}", s.min_capacity, s.max_capacity),
            "scenario",
        ));
        for t in s.target_tracking_policies() {
            a.push(row(
                format!("target tracking: {}", t.name.clone().unwrap_or_default()),
                format!(
                    "{} at {}; cooldowns out {} / in {}; scale-in {}",
                    t.predefined_metric.name(),
                    t.target_value,
                    t.scale_out_cooldown,
                    t.scale_in_cooldown,
                    if t.disable_scale_in {
                        "disabled"
                    } else {
                        "enabled"
                    }
                ),
                "alarms 3 of 3 above target / 15 of 15 below 0.9 × target (aws.md §2.1)",
            ));
        }
        for st in &s.step_scaling {
            a.push(row(
                format!("step scaling: {}", st.name.clone().unwrap_or_default()),
                format!(
                    "{} {:?} {} ({} of {} datapoints), {:?}, cooldown {}",
                    st.metric.name(),
                    st.comparison,
                    st.threshold,
                    st.datapoints_to_alarm.unwrap_or(st.evaluation_periods),
                    st.evaluation_periods,
                    st.adjustment_type,
                    st.cooldown
                ),
                "scenario",
            ));
        }
        a.push(row(
            "metric delay",
            format!(
                "{} after a one-minute datapoint's end ({} for 20-second ones); proposals start from the {} count",
                s.metric_delay,
                s.high_resolution_metric_delay,
                match s.capacity_base {
                    crate::scaling::CapacityBase::Running => "running",
                    crate::scaling::CapacityBase::Datapoint => "datapoint's running",
                }
            ),
            if s.metric_delay.0 == crate::scaling::METRIC_DELAY_S * crate::time::SECOND {
                "calibrated: a step to 100 % CPU triggers a scale-out 363 s (20-second metrics: 86 s) after it on average, as the ECS team measured (containers-roadmap#2113; aws.md §9.1); running count as the base (ECS guide)"
            } else {
                "scenario"
            },
        ));
    }
    let mean_cpu_s = scenario.workload.cpu_ms.mean() / 1_000.0;
    let vcpu = c.shape.cpu_units as f64 / 1024.0;
    RunContext {
        capacity_rps_per_task: (mean_cpu_s > 0.0).then(|| vcpu / mean_cpu_s),
        cpu_target_pct: scenario
            .autoscaling
            .as_ref()
            .and_then(|s| {
                s.target_tracking_policies()
                    .iter()
                    .find(|t| t.predefined_metric.base() == Metric::EcsServiceAverageCpuUtilization)
                    .map(|t| t.target_value)
            })
            .or_else(|| {
                // The HPA's CPU target is a share of the request, the chart's
                // capacity line of the CPU the pod may use.
                let h = c.pod.as_ref()?.hpa.as_ref()?;
                h.targets.iter().find_map(|t| match t {
                    crate::k8s::spec::Target::Utilization(
                        crate::k8s::hpa::ResourceName::Cpu,
                        v,
                    ) => Some(v * c.task.shape.cpu_units as f64 / c.shape.cpu_units.max(1) as f64),
                    _ => None,
                })
            }),
        assumptions: a,
    }
}

/// EKS's facts: the control-plane fee, the pod and how it becomes ready,
/// the nodes (allocatable, max pods, DaemonSets, CoreDNS), the Cluster
/// Autoscaler and the HPA, with their sources.
fn eks_assumptions(
    a: &mut Vec<Assumption>,
    scenario: &Scenario,
    c: &Compiled,
    e: &crate::platform::eks::EksFacts,
    pod: &crate::scenario::PodCompiled,
) {
    use crate::time::SECOND;
    a.push(row(
        "EKS control plane",
        format!(
            "${}/cluster-hour ({:?} support), split evenly between the Deployments of the cluster",
            e.fee_hour, e.support
        ),
        "aws.md §4.1: $0.10 standard, $0.60 extended support",
    ));
    a.push(row(
        "pod",
        format!(
            "requests {}m CPU / {} MiB; may use {} CPU units; memory limit {}",
            e.request.cpu,
            e.request.memory,
            e.cpu_capacity_units,
            e.memory_limit_mib
                .map_or("none (never OOM-killed)".into(), |m| format!("{m} MiB"))
        ),
        if c.task.manifest.is_some() {
            "manifest (Kubernetes effective requests: init containers and sidecars counted)"
        } else {
            "scenario [task]: cpu in CPU units = request (1024 = 1000m); memory = request, and the limit unless memory_limit is set"
        },
    ));
    if e.fargate_size.is_none() && c.task.cpu_limit_units.is_none() {
        a.push(row(
            "CPU without a limit",
            "the pod is held to its request",
            "modelling choice: a real pod may burst into idle node CPU (lower p99, utilization above 100 %)",
        ));
    }
    if let Some((cpu, mem)) = e.fargate_size {
        a.push(row(
            "EKS Fargate size",
            format!("{} vCPU / {} GB per pod", cpu as f64 / 1024.0, mem as f64 / 1024.0),
            "requests + 256 MB rounded up to a Fargate size (EKS user guide, fargate-pod-configuration; aws.md §1.6)",
        ));
    }
    a.push(match pod.probe {
        Some((initial, period, success)) => row(
            "readiness probe",
            format!(
                "first at {} s, every {} s, {} success(es); the first probe after the application is up passes",
                initial / SECOND,
                period / SECOND,
                success
            ),
            "manifest",
        ),
        None => row(
            "readiness probe",
            "none: Ready when the containers start; the ALB's first passing check after the application is up makes it serve",
            "Kubernetes: ready defaults to true once the container is started without a probe (ContainerStatus.ready)",
        ),
    });
    a.push(row(
        "termination grace period",
        format!(
            "{} s: a deleted pod leaves the endpoints at once and stops when its requests are done or the grace period ends",
            pod.grace / SECOND
        ),
        if c.task.manifest.is_some() { "manifest" } else { "Kubernetes default 30 s" },
    ));
    if let crate::platform::PlatformSpec::Eks {
        node_boot_s,
        provisioning_s,
        image_mb,
        pull_mbps,
        pull_s,
        container_start_s,
        app_start_s,
        ..
    } = &scenario.platform
    {
        if e.fargate_size.is_some() {
            a.push(delay_row(
                "Fargate node for the pod (s)",
                provisioning_s,
                "lognormal mean 40, p99 60",
                "assumption: aws.md §1.5 reports 30–45 s for the Fargate node (third party)",
            ));
            a.push(pull_row(
                "image pull (s), every pod",
                pull_s,
                *image_mb,
                *pull_mbps,
                "",
            ));
        } else {
            a.push(delay_row(
                "node boot to Ready (s)",
                node_boot_s,
                "lognormal mean 60, p99 120",
                "assumption near the 45–65 s EKS node starts of aws.md §3.3",
            ));
            a.push(pull_row(
                "image pull (s), once per node",
                pull_s,
                *image_mb,
                *pull_mbps,
                "; skipped where the node has the image",
            ));
            a.push(delay_row(
                "container start (s)",
                container_start_s,
                "constant 3",
                "aws.md §1.5: 1–5 s with the image cached",
            ));
        }
        a.push(delay_row(
            "application start until it answers the probe (s)",
            app_start_s,
            "constant 5",
            "assumption",
        ));
    }
    if let Some(cl) = p_cluster(c) {
        for t in cl.types() {
            let cap = cl.capacity(t);
            a.push(row(
                format!("node allocatable ({})", t.instance_type),
                format!("{}m CPU, {} MiB, {} pods", cap.cpu, cap.memory, cap.slots),
                "capacity − kube-reserved (CPU 6/1/0.5/0.25 % per core; memory 11 × max pods + 255 MiB) − 100 MiB eviction; max pods from the VPC CNI (aws.md §4.2, §4.3)",
            ));
        }
        for (name, r) in &cl.daemons {
            a.push(row(
                format!("DaemonSet {name}"),
                format!(
                    "{}m CPU, {} MiB, one pod slot on every node",
                    r.cpu, r.memory
                ),
                match name.as_str() {
                    "aws-node" => "aws.md §4.4: 25m per container, two containers",
                    "kube-proxy" => "aws.md §4.4: 100m, unverified",
                    _ => "scenario",
                },
            ));
        }
        if let Some((n, r)) = cl.system {
            a.push(row(
                "CoreDNS",
                format!("{n} pods of {}m / {} MiB, spread over nodes, moved when their node goes", r.cpu, r.memory),
                "aws.md §4.4: 2 replicas; requests from the CoreDNS add-on manifest (assumption); PodDisruptionBudget maxUnavailable 1 (EKS user guide, managing-coredns)",
            ));
        }
        if let crate::cluster::NodeScaler::ClusterAutoscaler(ca) = &cl.scaler {
            a.push(row(
                "Cluster Autoscaler",
                format!(
                    "scan every {} s, expander {:?}; scale-down below {:.0} % utilization for {} s, {} s after a scale-up, up to {} empty nodes at once",
                    ca.scan_interval / SECOND,
                    ca.expander,
                    ca.utilization_threshold * 100.0,
                    ca.unneeded_time / SECOND,
                    ca.delay_after_add / SECOND,
                    ca.max_empty_bulk_delete
                ),
                "kubernetes/autoscaler FAQ and flags (aws.md §5.2, §9.5)",
            ));
        }
        if let crate::cluster::NodeScaler::Karpenter(k) = &cl.scaler {
            for (p, g) in k.pools.iter().zip(&cl.groups) {
                a.push(row(
                    "Karpenter NodePool",
                    format!(
                        "{}: weight {}, {} instance type(s) allowed; {}; consolidation {}; budgets {}; expireAfter {}",
                        p.name,
                        p.weight,
                        g.types.len(),
                        p.limits.map_or("no limits".into(), |l| format!(
                            "limits {} vCPU / {} GiB",
                            if l.cpu == u32::MAX { "∞".into() } else { format!("{:.0}", l.cpu as f64 / 1000.0) },
                            if l.memory == u32::MAX { "∞".into() } else { format!("{:.0}", l.memory as f64 / 1024.0) },
                        )),
                        match p.consolidation {
                            None => "never".to_string(),
                            Some(c) => format!("{c:?} after {} s", p.consolidate_after / SECOND),
                        },
                        p.budgets
                            .iter()
                            .map(|b| {
                                let what = match b.budget {
                                    crate::k8s::karpenter::consolidate::Budget::Nodes(n) => format!("{n} node(s)"),
                                    crate::k8s::karpenter::consolidate::Budget::Percent(x) => format!("{x} %"),
                                };
                                if b.window.is_some() { format!("{what} (scheduled)") } else { what }
                            })
                            .collect::<Vec<_>>()
                            .join(", "),
                        p.expire_after.map_or("never".into(), |e| format!("{} h", e / (3_600 * SECOND))),
                    ),
                    "scenario; defaults of the karpenter.sh/v1 NodePool (aws.md §5.3)",
                ));
            }
            a.push(row(
                "Karpenter",
                format!(
                    "batches close {} ms after the last pending pod or {} s after the first; consolidation polled every 10 s, carried out if it still holds 15 s later; Spot-to-Spot consolidation {}",
                    k.batch_idle / 1_000,
                    k.batch_max / SECOND,
                    if k.spot_to_spot { "on" } else { "off" }
                ),
                "settings.md (aws.md §5.3); kubernetes-sigs/karpenter v1.14 disruption controller (pollingPeriod, consolidationTTL)",
            ));
        }
    }
    if let Some(h) = &pod.hpa {
        a.push(row(
            "HPA",
            format!(
                "{}; min {} / max {}; sync every {} s; tolerance {}; {}",
                h.targets
                    .iter()
                    .map(crate::k8s::spec::Target::describe)
                    .collect::<Vec<_>>()
                    .join(", "),
                h.scaling.min_replicas,
                h.scaling.max_replicas,
                h.sync_period / SECOND,
                h.calc.tolerance_up,
                match &h.scaling.behavior {
                    None => format!(
                        "no behavior: scale-up at most max(2 × current, 4) per sync, scale-down stabilized {} s",
                        h.scaling.downscale_stabilization / SECOND
                    ),
                    Some(b) => format!(
                        "behavior: up stabilization {} s, {} policies; down stabilization {} s, {} policies",
                        b.scale_up.stabilization_window / SECOND,
                        b.scale_up.policies.len(),
                        b.scale_down.stabilization_window / SECOND,
                        b.scale_down.policies.len()
                    ),
                }
            ),
            "Kubernetes HPA (replica_calculator.go, horizontal.go, v2 defaults; aws.md §5.1, §9.5)",
        ));
        a.push(row(
            "metrics-server",
            format!(
                "a sample every {} s over that window, seen by the HPA {} s after it ends",
                h.resolution / SECOND,
                h.delay / SECOND
            ),
            "resolution: shipped manifests (15 s; aws.md §5.1 notes the FAQ's 60 s); delay: assumption",
        ));
    }
}

fn p_cluster(c: &Compiled) -> Option<&crate::cluster::ClusterConfig> {
    c.platform.ec2.as_ref().map(|e| &e.cluster)
}

/// The EC2 cluster's facts: instance prices with their sources, what the
/// agent registers, billing, Spot and managed-scaling settings.
fn ec2_assumptions(a: &mut Vec<Assumption>, c: &crate::cluster::ClusterConfig) {
    let k8s = c.kubernetes();
    for t in c.types() {
        let cap = c.capacity(t);
        a.push(row(
            format!("EC2 price ({}, on-demand Linux)", t.instance_type),
            if k8s {
                format!(
                    "${}/h; {} vCPU, {} MiB",
                    t.od_usd_per_hour, t.vcpu, t.memory_mib
                )
            } else {
                format!(
                    "${}/h; {} vCPU, {} MiB; registers {} CPU units, {} MiB",
                    t.od_usd_per_hour, t.vcpu, t.memory_mib, cap.cpu, cap.memory
                )
            },
            // The catalog row's own source (the embedded rows carry their
            // dates; a user's catalog says what it says).
            t.source.clone(),
        ));
    }
    a.push(row(
        "instance billing",
        "per second, 60-second minimum, from launch to termination; instances running at the end are billed to the end",
        "AWS EC2 On-Demand pricing: Linux per-second billing, 60-second minimum (not in aws.md; as the ECS-on-EC2 issue states it)",
    ));
    if let crate::cluster::NodeModel::Ecs {
        reserved_memory,
        registered_fraction,
        ..
    } = &c.model
    {
        a.push(row(
            "registered memory",
            format!(
                "{registered_fraction:.4} of the instance's memory, minus ECS_RESERVED_MEMORY {reserved_memory} MiB"
            ),
            if *registered_fraction == crate::platform::ECS_REGISTERED_FRACTION {
                "7817/8192: an m6i.large on the ECS-optimized AL2 AMI registers 7817 MiB (aws/amazon-ecs-ami#597, 2025-12)"
            } else {
                "scenario"
            },
        ));
    }
    for g in &c.groups {
        a.push(if k8s {
            row(
                format!("node group {}", g.name),
                format!(
                    "{}; min {} / max {} / {} at the start; {} zones{}",
                    if g.od_pct == 0 { "SPOT (the cheapest type)" } else { "ON_DEMAND (the first type)" },
                    g.min_size,
                    g.max_size,
                    g.initial,
                    g.zones.len(),
                    if g.labels.is_empty() {
                        String::new()
                    } else {
                        format!(
                            "; labels {}",
                            g.labels
                                .iter()
                                .map(|(k, v)| format!("{k}={v}"))
                                .collect::<Vec<_>>()
                                .join(", ")
                        )
                    }
                ),
                "scenario",
            )
        } else {
            row(
                "Auto Scaling group",
                format!(
                    "min {} / max {} / {} at the start; on-demand base {}, {} % on-demand above it; {} zones",
                    g.min_size,
                    g.max_size,
                    g.initial,
                    g.od_base,
                    g.od_pct,
                    g.zones.len()
                ),
                "scenario",
            )
        });
    }
    if c.groups
        .iter()
        .any(|g| g.od_pct < 100 && g.od_base < g.max_size)
    {
        a.push(row(
            "EC2 Spot",
            format!(
                "{:.0} % below on-demand; {} interruptions per instance-hour, 2-minute warning; draining {}",
                c.spot_discount * 100.0,
                c.spot_rate,
                if c.spot_draining { "on" } else { "off" }
            ),
            "assumptions unless set: AWS quotes Spot 'up to 90 %' off (default 60 %); the default rate is the upper bound of the Spot Advisor's lowest band, '<5 %' reclaimed per month (aws.md §3.2); 2-minute notice (aws.md §3.2)",
        ));
    }
    if let Some(m) = c.managed() {
        a.push(row(
            "managed scaling",
            format!(
                "targetCapacity {} %, steps {}–{}, warm-up {} s; the reservation seen {} s after it is computed; scale-out on 1 datapoint, scale-in after {} one-minute datapoints below target, then every minute, less than half the group per step; termination protection {}",
                m.target,
                m.min_step,
                m.max_step,
                m.warmup / crate::time::SECOND,
                m.metric_delay / crate::time::SECOND,
                crate::cluster::SCALE_IN_DATAPOINTS,
                if m.termination_protection {
                    "on (only instances without tasks go)"
                } else {
                    "off (the ASG's termination policy picks instances; their tasks are stopped and replaced)"
                }
            ),
            "CapacityProviderReservation as the ECS guide (cluster-auto-scaling) documents it; sized on the largest type (aws.md §2.6, §9.1); the reservation's delay is an assumption",
        ));
    }
    for (name, r) in c.daemons.iter().filter(|_| !k8s) {
        a.push(row(
            format!("daemon {name}"),
            format!("{} CPU units, {} MiB on every instance", r.cpu, r.memory),
            "scenario",
        ));
    }
}

/// Tasks needed in each minute to serve the offered load at the target of
/// every target-tracking policy (the largest), or at 100 % CPU without one.
pub fn needed_per_minute(
    rate: &RateFn,
    end: SimTime,
    cpu_mean_ms: f64,
    cpu_units: u32,
    targets: &[(Metric, f64)],
) -> Vec<u32> {
    let vcpu = cpu_units as f64 / 1024.0;
    let minutes = end.div_ceil(MINUTE) as usize;
    (0..minutes)
        .map(|m| {
            let t0 = m as SimTime * MINUTE;
            let t1 = (t0 + MINUTE).min(end);
            let rps = rate.integral(t0, t1) / ((t1 - t0) as f64 / 1e6);
            let cores = rps * cpu_mean_ms / 1_000.0;
            let need = |x: f64| (x - 1e-9).ceil().max(0.0) as u32;
            let by_cpu_at = |pct: f64| need(cores / (vcpu * pct / 100.0));
            let per_policy = targets.iter().map(|(metric, target)| match metric.base() {
                Metric::AlbRequestCountPerTarget => need(rps * 60.0 / target),
                // Memory use depends on latency; CPU at 100 % is the floor.
                Metric::EcsServiceAverageMemoryUtilization => by_cpu_at(100.0),
                _ => by_cpu_at(*target),
            });
            per_policy.max().unwrap_or_else(|| by_cpu_at(100.0))
        })
        .collect()
}

/// Wall-clock cost of one offered request in a release build (ns): the
/// bundled day-long scenarios process about 3.4 events per request at about
/// 10 M events/s on the 2-core machine `BENCHMARKS.md` records (quickstart:
/// 13.0 M requests in 4.5 s). A rough guide for `validate`, not a promise.
pub const NS_PER_REQUEST: f64 = 350.0;

/// Wall-clock cost of one step of the fluid plane while no task has a
/// backlog (ns, release build, with `fluid_noise`): every serving task is
/// then in the same state and solved once. With [`NS_PER_FLUID_MINUTE`],
/// fitted to `benches/fluid_month.toml` (30 days, 2.6 M steps and 43,200
/// minutes in about 0.29 s, BENCHMARKS.md). A rough guide: a saturated
/// service costs up to a microsecond per task and step.
pub const NS_PER_FLUID_STEP: f64 = 45.0;

/// Wall-clock cost of one simulated minute of a fluid run beside its steps
/// (ns): the control plane's minute (CloudWatch, alarms, the decision
/// log), the minute's percentiles, the latency profiles it builds.
pub const NS_PER_FLUID_MINUTE: f64 = 4_000.0;

/// Offered requests of a compiled scenario and a rough wall-clock estimate
/// of its run in seconds (release build, one core). For the fluid plane
/// the estimate assumes no task is saturated.
pub fn estimate(c: &Compiled) -> (f64, f64) {
    let requests = c.rate.integral(0, c.end);
    if c.plane.0 == crate::service::Fidelity::Fluid {
        let steps = c.end as f64 / c.fluid_step.max(1) as f64;
        let minutes = c.end as f64 / crate::time::MINUTE as f64;
        return (
            requests,
            (steps * NS_PER_FLUID_STEP + minutes * NS_PER_FLUID_MINUTE) / 1e9,
        );
    }
    (requests, requests * NS_PER_REQUEST / 1e9)
}

/// Most requests one run may offer without `--force`: about an hour of a
/// release build at [`NS_PER_REQUEST`].
pub const MAX_REQUESTS: f64 = 1e10;

/// Most task-steps a fluid run may take without `--force` (duration over
/// the step, times the most tasks): about an hour at a microsecond each.
pub const MAX_FLUID_TASK_STEPS: f64 = 3e9;

/// Most trace buckets a run may step through without `--force`: the
/// arrival process visits each (a run of 400 days over 1 ms buckets would
/// visit 3.5·10¹⁰ and never end).
pub const MAX_BUCKET_STEPS: f64 = 1e9;

/// Why a compiled scenario is too big to run without `--force` (a run that
/// would take hours or exhaust memory), or `None`.
pub fn too_big(c: &Compiled) -> Option<String> {
    let (requests, secs) = estimate(c);
    if c.plane.0 == crate::service::Fidelity::Fluid {
        // The fluid plane's cost is its task-steps, not its requests.
        let task_steps = c.end as f64 / c.fluid_step.max(1) as f64 * c.max_tasks.max(1) as f64;
        if task_steps > MAX_FLUID_TASK_STEPS {
            return Some(format!(
                "steps {task_steps:.2e} task-steps of the fluid plane (duration / fluid_step × at most {} tasks), more than {MAX_FLUID_TASK_STEPS:.0e}: use a longer fluid_step or a shorter run, or pass --force",
                c.max_tasks
            ));
        }
    } else if requests > MAX_REQUESTS {
        return Some(format!(
            "offers about {requests:.2e} requests, more than {MAX_REQUESTS:.0e}: roughly {:.0} hours of simulation; shorten the run or lower the rate, or pass --force",
            secs / 3_600.0
        ));
    }
    if let crate::load::RateFn::Buckets { width, .. } = &c.rate {
        let steps = c.end as f64 / *width as f64;
        if steps > MAX_BUCKET_STEPS {
            return Some(format!(
                "steps through {steps:.2e} trace buckets, more than {MAX_BUCKET_STEPS:.0e}: use a coarser load.bucket or a shorter run, or pass --force"
            ));
        }
    }
    None
}

/// Runs one scenario to its end.
pub fn run(scenario: &Scenario) -> Result<RunOutput, Error> {
    let c = scenario.compile()?;
    run_compiled(scenario, &c)
}

/// Runs one scenario for its summary only (a sweep's job): the same run,
/// without the decision log (its rows are neither written nor kept), the
/// per-minute records or the task rows (the output holds them empty).
pub fn run_summary(scenario: &Scenario) -> Result<RunOutput, Error> {
    let mut c = scenario.compile()?;
    c.decision_log = false;
    c.summary_only = true;
    run_compiled(scenario, &c)
}

/// Runs a scenario already compiled. On ECS on EC2 the service runs beside
/// its cluster's control exactly as services sharing one do.
pub fn run_compiled(scenario: &Scenario, c: &Compiled) -> Result<RunOutput, Error> {
    run_compiled_reporting(scenario, c, &|_| {})
}

/// [`run_compiled`], telling `progress` the simulated instant now and then
/// (for a progress bar; the outputs do not depend on it).
pub fn run_compiled_reporting(
    scenario: &Scenario,
    c: &Compiled,
    progress: &dyn Fn(SimTime),
) -> Result<RunOutput, Error> {
    match c.plane.0 {
        crate::service::Fidelity::Fluid => run_single(
            scenario,
            c,
            progress,
            fluid_plane(scenario, c, scenario.seed),
        ),
        _ => run_single(
            scenario,
            c,
            progress,
            request_plane(scenario, c, scenario.seed),
        ),
    }
}

fn run_single<D: DataPlane>(
    scenario: &Scenario,
    c: &Compiled,
    progress: &dyn Fn(SimTime),
    plane: D,
) -> Result<RunOutput, Error> {
    let mut sim = build_sim(scenario, c, scenario.seed, 0, 1, plane);
    let mut cluster = cluster_for(&[(scenario, c)], scenario.seed, c.end);
    let started = Instant::now();
    match cluster.as_mut() {
        Some(cl) => run_shared(std::slice::from_mut(&mut sim), cl, progress),
        None => sim.run_reporting(progress),
    }
    let wall_ms = started.elapsed().as_secs_f64() * 1_000.0;
    Ok(output(scenario, c, &mut sim, cluster.as_mut(), wall_ms))
}

/// Runs services that share one EC2 cluster.
pub fn run_shared_scenario(shared: &SharedScenario) -> Result<SharedOutput, Error> {
    run_shared_reporting(shared, &|_| {})
}

/// [`run_shared_scenario`] with progress reports (see [`run_compiled_reporting`]).
pub fn run_shared_reporting(
    shared: &SharedScenario,
    progress: &dyn Fn(SimTime),
) -> Result<SharedOutput, Error> {
    let compiled = shared
        .services
        .iter()
        .map(|s| s.compile())
        .collect::<Result<Vec<_>, _>>()?;
    let end = compiled[0].end;
    if let Some((s, _)) = shared
        .services
        .iter()
        .zip(&compiled)
        .find(|(_, c)| c.plane.0 == crate::service::Fidelity::Fluid)
    {
        return Err(Error::Scenario {
            file: s.origin.clone(),
            problem: crate::ScenarioError::invalid(
                "fidelity",
                "the fluid plane does not run services sharing a cluster yet: use fidelity = \"request\"",
            ),
        });
    }
    let mut sims: Vec<_> = shared
        .services
        .iter()
        .zip(&compiled)
        .enumerate()
        .map(|(k, (s, c))| {
            build_sim(
                s,
                c,
                s.seed,
                k,
                shared.services.len(),
                request_plane(s, c, s.seed),
            )
        })
        .collect();
    let pairs: Vec<(&Scenario, &Compiled)> = shared.services.iter().zip(&compiled).collect();
    let mut cluster = cluster_for(&pairs, shared.seed, end).expect("shared scenarios are on EC2");
    let started = Instant::now();
    run_shared(&mut sims, &mut cluster, progress);
    let wall_ms = started.elapsed().as_secs_f64() * 1_000.0;
    let services: Vec<RunOutput> = pairs
        .iter()
        .zip(sims.iter_mut())
        .map(|((s, c), sim)| output(s, c, sim, Some(&mut cluster), wall_ms))
        .collect();
    let summary = report::shared_summary(&shared.name, shared.seed, end, &services, &mut cluster);
    Ok(SharedOutput {
        services,
        cluster: summary,
    })
}

/// Each service of a shared scenario alone on its own copy of the cluster,
/// with the seed it has in the shared run (so the same arrivals and
/// requests: common random numbers): the baseline that shows what sharing
/// the cluster saves. Runs in parallel; results in file order.
pub fn run_alone(shared: &SharedScenario) -> Result<Vec<SharedOutput>, Error> {
    use rayon::prelude::*;
    shared
        .services
        .par_iter()
        .map(|sc| {
            run_shared_scenario(&SharedScenario {
                name: sc.name.clone(),
                seed: shared.seed,
                origin: shared.origin.clone(),
                services: vec![sc.clone()],
            })
        })
        .collect()
}

/// The shared cluster's control for services running on EC2 (service `k`
/// places its tasks as placement group `k`), or `None` off EC2.
fn cluster_for(
    services: &[(&Scenario, &Compiled)],
    seed: u64,
    end: SimTime,
) -> Option<ClusterControl> {
    let ec2 = services[0].1.platform.ec2.as_ref()?;
    let placements = services
        .iter()
        .enumerate()
        .map(|(k, (s, c))| {
            let mut request = c
                .platform
                .ec2
                .as_ref()
                .expect("every service on EC2")
                .task
                .clone();
            request.group = k as u32;
            match (&c.pod, &c.platform.eks) {
                // kube-scheduler: soft spread first, then the resource
                // score, then a random pick among the best.
                (Some(pod), Some(e)) => ServicePlacement {
                    request,
                    constraints: pod.constraints.clone(),
                    strategies: pod.soft_spread.iter().chain(&e.scoring).cloned().collect(),
                    do_not_disrupt: pod.do_not_disrupt,
                },
                _ => ServicePlacement {
                    request,
                    constraints: compiled_constraints(s),
                    strategies: s.service.placement_strategy.clone(),
                    do_not_disrupt: false,
                },
            }
        })
        .collect();
    // The cluster was up before the run if any service was.
    let warm = services.iter().any(|(s, _)| s.service.start == Start::Warm);
    Some(
        ClusterControl::new(ec2.cluster.clone(), placements, seed, end, warm).with_warm_pods(
            services
                .iter()
                .map(|(s, c)| {
                    if s.service.start == Start::Warm {
                        c.desired
                    } else {
                        0
                    }
                })
                .collect(),
        ),
    )
}

fn compiled_constraints(s: &Scenario) -> Vec<crate::placement::Compiled> {
    s.service
        .placement_constraints
        .iter()
        .map(|c| c.compile().expect("validated when the scenario compiled"))
        .collect()
}

/// One service wired into a [`Sim`]: arrivals, the request plane, its
/// control plane (service `service` of its cluster) and recorder.
/// The autoscaling targets the scaling lag measures the need against:
/// Service Auto Scaling's target-tracking policies (which act above their
/// target), or the HPA's metrics at the edge of its tolerance, where it acts
/// (target × (1 + tolerance); CPU as utilization of the request, requests
/// per pod per second as requests per target per minute, memory as CPU at
/// 100 %).
fn lag_targets(scenario: &Scenario, c: &Compiled) -> Vec<(Metric, f64)> {
    if let Some(h) = c.pod.as_ref().and_then(|p| p.hpa.as_ref()) {
        use crate::k8s::hpa::ResourceName;
        use crate::k8s::spec::Target;
        let request_m = c
            .platform
            .eks
            .as_ref()
            .map_or(1.0, |e| e.request.cpu.max(1) as f64);
        let edge = 1.0 + h.calc.tolerance_up;
        return h
            .targets
            .iter()
            .map(|t| match *t {
                Target::Utilization(ResourceName::Cpu, v) => {
                    (Metric::EcsServiceAverageCpuUtilization, v * edge)
                }
                Target::AverageValue(ResourceName::Cpu, m) => (
                    Metric::EcsServiceAverageCpuUtilization,
                    m * edge / request_m * 100.0,
                ),
                Target::Pods(_, v) => (Metric::AlbRequestCountPerTarget, v * edge * 60.0),
                _ => (Metric::EcsServiceAverageMemoryUtilization, 100.0),
            })
            .collect();
    }
    scenario
        .autoscaling
        .as_ref()
        .map(|a| AutoScaler::new(a).targets())
        .unwrap_or_default()
}

/// The request-level data plane of a service.
fn request_plane(scenario: &Scenario, c: &Compiled, seed: u64) -> RequestPlane {
    let arrivals = Arrivals::new(c.rate.clone(), stream(seed, Component::Arrivals), c.end);
    let demand = Demand {
        cpu: c.cpu.clone(),
        io: c.io.clone(),
        cpu_rng: stream(seed, Component::CpuDemand),
        io_rng: stream(seed, Component::IoWait),
        timeout: c.timeout,
    };
    RequestPlane::new(arrivals, demand, c.shape, scenario.service.routing)
}

/// The fluid data plane of a service.
fn fluid_plane(scenario: &Scenario, c: &Compiled, seed: u64) -> FluidPlane {
    let w = &scenario.workload;
    let cpu_mean = w.cpu_ms.mean();
    let io_mean = w.io_ms.as_ref().map_or(0.0, |d| d.mean());
    let var = w.cpu_ms.variance() + w.io_ms.as_ref().map_or(0.0, |d| d.variance());
    let s = cpu_mean + io_mean;
    let demand = FluidDemand {
        cpu: w.cpu_ms.clone(),
        io: w.io_ms.clone(),
        cpu_mean_ms: cpu_mean,
        io_mean_ms: io_mean,
        service_scv: if s > 0.0 { var / (s * s) } else { 0.0 },
        cpu_scv: if cpu_mean > 0.0 {
            w.cpu_ms.variance() / (cpu_mean * cpu_mean)
        } else {
            0.0
        },
        timeout: c.timeout,
        cpu_var_ms2: w.cpu_ms.variance(),
        rng: stream(seed, Component::CpuDemand),
        noise: scenario
            .fluid_noise
            .then(|| stream(seed, Component::Arrivals)),
        minutes: Some(stream(seed, Component::MinuteSampling)),
    };
    FluidPlane::new(
        c.rate.clone(),
        c.end,
        scenario.fluid_step.0,
        demand,
        c.shape,
    )
}

fn build_sim<D: DataPlane>(
    scenario: &Scenario,
    c: &Compiled,
    seed: u64,
    service: usize,
    services: usize,
    plane: D,
) -> Sim<D> {
    let autoscaler = scenario.autoscaling.as_ref().map(|a| {
        let a = AutoScaler::new(a);
        if c.decision_log { a } else { a.without_text() }
    });
    let targets = lag_targets(scenario, c);
    let lb = &scenario.load_balancer;
    let mut platform = c.platform.clone();
    if let Some(e) = platform.ec2.as_mut() {
        e.task.group = service as u32;
    }
    let control = ControlPlane::new(ControlConfig {
        seed,
        service,
        end: c.end,
        platform,
        balancer: Balancer {
            billed: lb.enabled,
            health_check_interval: lb.health_check_interval.0,
            deregistration_delay: lb.deregistration_delay.0,
            requests_per_connection: lb.requests_per_connection,
            kb_per_request: lb.kb_per_request,
        },
        // What a task reserves (on EKS the pod's request, not its limit).
        cpu_units: c.task.shape.cpu_units,
        memory_reserved_mib: c.task.memory_reserved_mib,
        memory_base_mib: c.shape.memory_base_mib,
        memory_per_request_mib: c.shape.memory_per_request_mib,
        desired: c.desired,
        minimum_healthy_percent: scenario.service.minimum_healthy_percent,
        maximum_percent: scenario.service.maximum_percent,
        warm_start: scenario.service.start == Start::Warm,
        autoscaler,
        decision_log: c.decision_log,
        metric_delay: scenario
            .autoscaling
            .as_ref()
            .map_or(0, |a| a.metric_delay.0),
        high_resolution_metric_delay: scenario
            .autoscaling
            .as_ref()
            .map_or(0, |a| a.high_resolution_metric_delay.0),
        placement_strategies: scenario.service.placement_strategy.clone(),
        placement_constraints: compiled_constraints(scenario),
        drain_deadline: c
            .pod
            .as_ref()
            .map_or(lb.deregistration_delay.0, |p| p.grace),
        drain_on_idle: c.pod.is_some() || lb.drain == crate::service::DrainMode::Idle,
        stop_timeout: c.pod.is_none().then_some(c.stop_timeout),
        control_plane_hour: c
            .platform
            .eks
            .as_ref()
            .map_or(0.0, |e| e.fee_hour / services as f64),
        k8s: c.pod.as_ref().map(|p| PodSettings {
            probe: p.probe,
            requests: PodRequests {
                cpu_m: c
                    .platform
                    .eks
                    .as_ref()
                    .map_or(0.0, |e| e.request.cpu as f64),
                memory_mib: c.shape.memory_mib as f64,
            },
            hpa: p.hpa.clone(),
        }),
        needed: needed_per_minute(
            &c.rate,
            c.end,
            scenario.workload.cpu_ms.mean(),
            c.task.shape.cpu_units,
            &targets,
        ),
    });
    Sim::new(
        plane,
        control,
        Recorder::with_slo(scenario.slo.p99_ms.map(|ms| ms * 1_000.0)),
        c.end,
    )
}

/// A finished service's report. Alone on its cluster, a service is
/// charged the whole instance bill (and its idle part is shown); sharing
/// it, the instance cost allocated to it.
fn output<D: DataPlane>(
    scenario: &Scenario,
    c: &Compiled,
    sim: &mut Sim<D>,
    cluster: Option<&mut ClusterControl>,
    wall_ms: f64,
) -> RunOutput {
    let unresolved = sim.control.lag_mut().finish();
    let mut cost = sim.control.cost(c.end);
    let svc = sim.control.service();
    let mut idle_usd = None;
    let mut cluster_decisions: &[crate::scaling::Decision] = &[];
    let cl: Option<&ClusterControl> = match cluster {
        Some(cl) => {
            if cl.service_count() == 1 {
                cost.add(&cl.cost(c.end));
                idle_usd = Some(cl.cluster().stats.idle_usd);
            } else {
                cost.instances += cl.cluster().stats.allocated_usd[svc];
            }
            Some(cl)
        }
        None => None,
    };
    if let Some(cl) = cl {
        cluster_decisions = cl.decisions();
    }
    let mut out = report::build(
        &sim.rec,
        &sim.control,
        &RunFacts {
            scenario: &scenario.name,
            seed: scenario.seed,
            summary_only: c.summary_only,
            platform: scenario.platform.kind(),
            region: &scenario.region,
            end: c.end,
            rate: &c.rate,
            slo: &scenario.slo,
            cost,
            cluster: cl.map(ClusterControl::cluster),
            karpenter: cl.and_then(ClusterControl::karpenter_stats),
            idle_usd,
            unresolved_episode_start_s: unresolved,
            notes: {
                let mut n = c.notes.clone();
                if scenario.fidelity != crate::service::Fidelity::Request {
                    n.push(format!(
                        "data plane: {} ({}); see the README on fidelity for what the fluid plane approximates",
                        match c.plane.0 {
                            crate::service::Fidelity::Fluid => "fluid",
                            _ => "request",
                        },
                        c.plane.1
                    ));
                }
                let b = sim.data.rejected_by_bound();
                if b > 0 {
                    n.push(format!(
                        "warning: {b} request(s) were rejected by capsim's own bound of {} requests in the service at once (it is hopelessly overloaded); they count as rejected — set task.queue_limit or workload.timeout to model what the service would do",
                        crate::service::request::MAX_IN_FLIGHT
                    ));
                }
                n
            },
            events: sim.events(),
            wall_ms,
            data_plane: match c.plane.0 {
                crate::service::Fidelity::Fluid => "fluid",
                _ => "request",
            },
        },
    );
    out.decisions = sim.control.take_decisions();
    // The capacity provider's rows sit beside the service's, in time order
    // (the service's first at one instant).
    if !cluster_decisions.is_empty() {
        let mine = std::mem::take(&mut out.decisions);
        let mut merged = Vec::with_capacity(mine.len() + cluster_decisions.len());
        let (mut a, mut b) = (
            mine.into_iter().peekable(),
            cluster_decisions.iter().peekable(),
        );
        loop {
            match (a.peek(), b.peek()) {
                (Some(x), Some(y)) if x.time_s <= y.time_s => {
                    merged.push(a.next().expect("peeked"))
                }
                (_, Some(_)) => merged.push(b.next().expect("peeked").clone()),
                (Some(_), None) => merged.push(a.next().expect("peeked")),
                (None, None) => break,
            }
        }
        out.decisions = merged;
    }
    out.context = context(scenario, c);
    out
}
