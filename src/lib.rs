//! capsim — a capacity-planning and cost simulator for containers on AWS.
//!
//! A discrete-event engine replays a load (requests per second over time)
//! against a model of a containerised service and its platform, and reports
//! cost, latency and scaling lag. See `ARCHITECTURE.md` for the map of the
//! modules and the invariants they keep.
//!
//! ```no_run
//! let scenario = capsim::Scenario::load("scenarios/quickstart.toml".as_ref(), &[]).unwrap();
//! let out = capsim::run(&scenario).unwrap();
//! println!("p99 = {:?} ms", out.summary.latency_ms.p99);
//! ```

#![warn(missing_docs)]

pub mod cluster;
pub mod compare;
pub mod control;
pub mod engine;
pub mod error;
#[doc(hidden)]
pub mod fuzz;
pub mod import;
pub mod input;
pub mod k8s;
pub mod load;
pub mod metrics;
pub mod placement;
pub mod platform;
pub mod pricing;
pub mod report;
pub mod rng;
pub(crate) mod run;
pub mod scaling;
pub mod scenario;
pub mod service;
pub mod sweep;
pub mod time;
pub mod workload;

pub use error::{Error, Result, ScenarioError};
pub use report::{RunOutput, Summary};
pub use run::{
    estimate, needed_per_minute, run, run_alone, run_compiled, run_compiled_reporting,
    run_shared_reporting, run_shared_scenario, run_summary, too_big,
};
pub use scenario::Scenario;
