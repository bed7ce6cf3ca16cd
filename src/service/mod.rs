//! The service being simulated — its tasks' shape, how requests are routed —
//! and the request-level data plane that serves every request as an event.
//! Scenario sections `[task]` and `[service]`.

pub mod ps;
pub mod request;

use crate::error::ScenarioError;
use serde::{Deserialize, Serialize};

pub use request::RequestPlane;

/// How the load balancer picks a task for each request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Routing {
    /// Each task in turn, whatever its load (the ALB default algorithm).
    #[default]
    RoundRobin,
    /// The task with the fewest requests in flight (queued or in service);
    /// ties go to the next task in turn (ALB "least outstanding requests").
    LeastOutstanding,
}

/// The `[task]` section: one task's size and how many requests it serves at once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskSpec {
    /// CPU in ECS CPU units (1024 = one vCPU).
    pub cpu: u32,
    /// Memory in MiB.
    pub memory: u32,
    /// Requests served at once (worker threads, event-loop slots); further
    /// requests wait in the task's FCFS queue.
    pub concurrency: u32,
    /// Longest queue a task accepts; a request finding it full is rejected
    /// (like an HTTP 503). Default: unbounded.
    #[serde(default)]
    pub queue_limit: Option<u32>,
}

/// The `[service]` section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceSpec {
    /// Number of tasks (the fixed fleet size, until autoscaling exists).
    pub desired: u32,
    /// Load-balancing algorithm. Default `round_robin`.
    #[serde(default)]
    pub routing: Routing,
}

/// A validated task shape, as the data plane uses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaskShape {
    /// CPU units (1024 = one vCPU).
    pub cpu_units: u32,
    /// Memory in MiB.
    pub memory_mib: u32,
    /// Requests in service at once.
    pub concurrency: u32,
    /// Longest queue, if bounded.
    pub queue_limit: Option<u32>,
}

impl TaskSpec {
    /// Validates the section.
    pub fn compile(&self) -> Result<TaskShape, ScenarioError> {
        if self.cpu == 0 {
            return Err(ScenarioError::invalid(
                "task.cpu",
                "expected CPU units > 0 (1024 = one vCPU), got 0",
            ));
        }
        if self.memory == 0 {
            return Err(ScenarioError::invalid(
                "task.memory",
                "expected MiB > 0, got 0",
            ));
        }
        if self.concurrency == 0 {
            return Err(ScenarioError::invalid(
                "task.concurrency",
                "expected at least 1 request served at once, got 0",
            ));
        }
        Ok(TaskShape {
            cpu_units: self.cpu,
            memory_mib: self.memory,
            concurrency: self.concurrency,
            queue_limit: self.queue_limit,
        })
    }
}
