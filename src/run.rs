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
use crate::report::{self, RunFacts, RunOutput};
use crate::rng::{Component, stream};
use crate::scaling::AutoScaler;
use crate::scenario::{Compiled, Scenario};
use crate::service::request::Demand;
use crate::service::{RequestPlane, Start};
use crate::time::{MINUTE, SimTime};
use std::time::Instant;

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
    Ok(report::build(
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
    ))
}
