//! The composition root of one run: compiles a scenario, wires the arrival
//! process, the data plane, the control plane and the recorder into a
//! [`Sim`], runs it and builds the report. The wall clock is read here, around
//! the engine, never inside it.

use crate::control::{Balancer, ControlConfig, ControlPlane};
use crate::engine::Sim;
use crate::error::Error;
use crate::load::{Arrivals, RateFn};
use crate::metrics::Recorder;
use crate::metrics::cloudwatch::Metric;
use crate::platform::PlatformKind;
use crate::pricing;
use crate::report::RunContext;
use crate::report::html::Assumption;
use crate::report::{self, RunFacts, RunOutput};
use crate::rng::{Component, stream};
use crate::scaling::AutoScaler;
use crate::scenario::{Compiled, Scenario};
use crate::service::request::Demand;
use crate::service::{RequestPlane, Start};
use crate::time::{MINUTE, SimTime};
use std::time::Instant;

fn row(item: impl Into<String>, value: impl Into<String>, source: impl Into<String>) -> Assumption {
    Assumption {
        item: item.into(),
        value: value.into(),
        source: source.into(),
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
        if scenario.load_balancer.enabled {
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
            a.push(row(
                "provisioning (s)",
                provisioning_s
                    .as_ref()
                    .map_or("lognormal mean 20, p99 40".into(), |d| d.describe()),
                if provisioning_s.is_some() {
                    "scenario"
                } else {
                    "assumption: aws.md §1.5 gives ≈ 10–40 s, unverified"
                },
            ));
            a.push(row(
                "image pull (s)",
                pull_s.as_ref().map_or(format!("{image_mb} MB at {pull_mbps} MB/s"), |d| d.describe()),
                "default 250 MB at 10 MB/s, derived from a measured 57 s start of a 413 MB image (aws.md §1.5)",
            ));
            a.push(row(
                "application start (s)",
                app_start_s
                    .as_ref()
                    .map_or("constant 5".into(), |d| d.describe()),
                if app_start_s.is_some() {
                    "scenario"
                } else {
                    "assumption"
                },
            ));
        }
        a.push(row("Spot interruptions", format!("{} per Spot task-hour, 2-minute warning", p.spot_interruptions_per_hour), "AWS publishes no Fargate Spot rate: scenario field (default from the EC2 Spot Advisor's lowest band)"));
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
        lb.deregistration_delay.to_string(),
        "ELB target group default 300 s",
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
            "metric publication delay",
            s.metric_delay.to_string(),
            "assumption: AWS documents 1-minute metrics, not their delay",
        ));
    }
    let mean_cpu_s = scenario.workload.cpu_ms.mean() / 1_000.0;
    let vcpu = c.shape.cpu_units as f64 / 1024.0;
    RunContext {
        capacity_rps_per_task: (mean_cpu_s > 0.0).then(|| vcpu / mean_cpu_s),
        cpu_target_pct: scenario.autoscaling.as_ref().and_then(|s| {
            s.target_tracking_policies()
                .iter()
                .find(|t| t.predefined_metric == Metric::EcsServiceAverageCpuUtilization)
                .map(|t| t.target_value)
        }),
        assumptions: a,
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
            let per_policy = targets.iter().map(|(metric, target)| match metric {
                Metric::EcsServiceAverageCpuUtilization => by_cpu_at(*target),
                Metric::AlbRequestCountPerTarget => need(rps * 60.0 / target),
                // Memory use depends on latency; CPU at 100 % is the floor.
                Metric::EcsServiceAverageMemoryUtilization => by_cpu_at(100.0),
            });
            per_policy.max().unwrap_or_else(|| by_cpu_at(100.0))
        })
        .collect()
}

/// Runs one scenario to its end.
pub fn run(scenario: &Scenario) -> Result<RunOutput, Error> {
    let c = scenario.compile()?;
    run_compiled(scenario, &c)
}

/// Runs a scenario already compiled.
pub fn run_compiled(scenario: &Scenario, c: &Compiled) -> Result<RunOutput, Error> {
    let seed = scenario.seed;
    let arrivals = Arrivals::new(c.rate.clone(), stream(seed, Component::Arrivals), c.end);
    let demand = Demand {
        cpu: c.cpu.clone(),
        io: c.io.clone(),
        cpu_rng: stream(seed, Component::CpuDemand),
        io_rng: stream(seed, Component::IoWait),
        timeout: c.timeout,
    };
    let plane = RequestPlane::new(arrivals, demand, c.shape, scenario.service.routing);
    let autoscaler = scenario.autoscaling.as_ref().map(AutoScaler::new);
    let targets = autoscaler
        .as_ref()
        .map(AutoScaler::targets)
        .unwrap_or_default();
    let lb = &scenario.load_balancer;
    let control = ControlPlane::new(ControlConfig {
        seed,
        end: c.end,
        platform: c.platform.clone(),
        balancer: Balancer {
            billed: lb.enabled,
            health_check_interval: lb.health_check_interval.0,
            deregistration_delay: lb.deregistration_delay.0,
            requests_per_connection: lb.requests_per_connection,
            kb_per_request: lb.kb_per_request,
        },
        cpu_units: c.shape.cpu_units,
        memory_reserved_mib: c.task.memory_reserved_mib,
        memory_base_mib: c.shape.memory_base_mib,
        memory_per_request_mib: c.shape.memory_per_request_mib,
        desired: scenario.service.desired,
        minimum_healthy_percent: scenario.service.minimum_healthy_percent,
        maximum_percent: scenario.service.maximum_percent,
        warm_start: scenario.service.start == Start::Warm,
        autoscaler,
        metric_delay: scenario
            .autoscaling
            .as_ref()
            .map_or(0, |a| a.metric_delay.0),
        placement_strategies: scenario.service.placement_strategy.clone(),
        placement_constraints: scenario
            .service
            .placement_constraints
            .iter()
            .map(|c| c.compile().expect("validated when the scenario compiled"))
            .collect(),
        needed: needed_per_minute(
            &c.rate,
            c.end,
            scenario.workload.cpu_ms.mean(),
            c.shape.cpu_units,
            &targets,
        ),
    });
    let mut sim = Sim::new(
        plane,
        control,
        Recorder::with_slo(scenario.slo.p99_ms.map(|ms| ms * 1_000.0)),
        c.end,
    );
    let started = Instant::now();
    sim.run();
    let wall_ms = started.elapsed().as_secs_f64() * 1_000.0;
    let events = sim.events();
    let unresolved = sim.control.lag_mut().finish();
    let cost = sim.control.cost(c.end);
    let mut out = report::build(
        &sim.rec,
        &sim.control,
        &RunFacts {
            scenario: &scenario.name,
            seed,
            platform: scenario.platform.kind(),
            region: &scenario.region,
            end: c.end,
            rate: &c.rate,
            slo_p99_ms: scenario.slo.p99_ms,
            cost,
            unresolved_episode_start_s: unresolved,
            notes: c.notes.clone(),
            events,
            wall_ms,
        },
    );
    out.context = context(scenario, c);
    Ok(out)
}
