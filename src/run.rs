//! The composition root of one run: compiles a scenario, wires the arrival
//! process, the data plane, the control plane and the recorder into a
//! [`Sim`], runs it and builds the report. The wall clock is read here, around
//! the engine, never inside it.

use crate::control::ControlPlane;
use crate::engine::Sim;
use crate::error::Error;
use crate::load::Arrivals;
use crate::metrics::Recorder;
use crate::report::{self, RunFacts, RunOutput};
use crate::rng::{Component, stream};
use crate::scenario::Scenario;
use crate::service::RequestPlane;
use crate::service::request::Demand;
use std::time::Instant;

/// Runs one scenario to its end.
pub fn run(scenario: &Scenario) -> Result<RunOutput, Error> {
    let c = scenario.compile()?;
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
    let control = ControlPlane::new(
        c.platform.clone(),
        scenario.service.desired,
        c.shape.cpu_units,
        c.end,
    );
    let mut sim = Sim::new(plane, control, Recorder::new(), c.end);
    let started = Instant::now();
    sim.run();
    let wall_ms = started.elapsed().as_secs_f64() * 1_000.0;
    let fleet = sim.control.fleet();
    Ok(report::build(
        &sim.rec,
        &RunFacts {
            scenario: &scenario.name,
            seed,
            platform: scenario.platform.kind(),
            region: &scenario.region,
            end: c.end,
            rate: &c.rate,
            slo_p99_ms: scenario.slo.p99_ms,
            tasks: (fleet.min(), fleet.max(), fleet.task_time()),
            cost_usd: 0.0,
            events: sim.events(),
            wall_ms,
        },
    ))
}
