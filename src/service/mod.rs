//! The service being simulated — its tasks' shape, its fleet settings, its
//! load balancer — and the two data planes that serve its requests: the
//! request-level plane (`request`, every request an event) and the fluid
//! plane (`fluid`, requests counted per step, latencies from `queueing`).
//! Scenario sections `[task]`, `[service]` and `[load_balancer]`, and the
//! `fidelity` that picks the plane.

pub mod fluid;
pub mod ps;
pub mod queueing;
pub mod request;

use crate::error::ScenarioError;
use crate::platform::taskdef::{self, TaskDefinition};
use crate::time::{Duration, SECOND};
use serde::{Deserialize, Serialize};
use std::path::Path;

pub use request::RequestPlane;

/// Which data plane serves the requests (`fidelity`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fidelity {
    /// Every request simulated (the request-level plane).
    #[default]
    Request,
    /// Requests counted per step (the aggregate plane, `fluid`).
    Fluid,
    /// Fluid when the run offers more than `fluid_threshold` requests.
    Auto,
}

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
    /// An ECS task definition (`register-task-definition` JSON), relative to
    /// the scenario file; it supplies `cpu`, `memory`, the memory limits,
    /// ephemeral storage and the runtime platform.
    #[serde(default)]
    pub definition: Option<String>,
    /// EKS: a Kubernetes YAML (Deployment, HorizontalPodAutoscaler),
    /// relative to the scenario file; it supplies the pod's requests and
    /// limits, replicas, readiness probe, grace period, node selector,
    /// topology spread, and the HPA unless `[hpa]` is given.
    #[serde(default)]
    pub manifest: Option<String>,
    /// EKS: which Deployment of the manifest (by name) when it has several.
    #[serde(default)]
    pub deployment: Option<String>,
    /// ECS: `stopTimeout` — from SIGTERM (when the deregistration delay
    /// ends) to SIGKILL. Default: the task definition's containers' longest,
    /// else 30 s (the ECS default); Fargate allows at most 120 s.
    #[serde(default)]
    pub stop_timeout: Option<Duration>,
    /// EKS: the pod's CPU limit (CPU units). Default none: the pod is held
    /// to its request (a modelling choice, see the README).
    #[serde(default)]
    pub cpu_limit: Option<u32>,
    /// EKS: the pod's memory limit (MiB): above it the pod is OOM-killed.
    /// Default: `memory` (the request), as an ECS task's hard limit.
    #[serde(default)]
    pub memory_limit: Option<u32>,
    /// CPU in ECS CPU units (1024 = one vCPU). Required without a definition.
    #[serde(default)]
    pub cpu: Option<u32>,
    /// Memory in MiB. Required without a definition.
    #[serde(default)]
    pub memory: Option<u32>,
    /// Requests served at once (worker threads, event-loop slots); further
    /// requests wait in the task's FCFS queue.
    pub concurrency: u32,
    /// Longest queue a task accepts; a request finding it full is rejected
    /// (like an HTTP 503). Default: unbounded.
    #[serde(default)]
    pub queue_limit: Option<u32>,
    /// Ephemeral storage (GB, Fargate: 20–200; above 20 is billed). Default:
    /// the definition's `ephemeralStorage`, else 20.
    #[serde(default)]
    pub ephemeral_storage_gb: Option<f64>,
}

/// How the ECS scheduler runs the service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SchedulingStrategy {
    /// Keep a desired number of tasks.
    #[default]
    Replica,
    /// One task per container instance (ECS on EC2 only).
    Daemon,
}

/// Whether the initial tasks exist when the run starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Start {
    /// The service is already up: its initial tasks serve from t = 0.
    #[default]
    Warm,
    /// The initial tasks are launched at t = 0 and go through start-up.
    Cold,
}

fn default_min_healthy() -> u32 {
    100
}

fn default_max_percent() -> u32 {
    200
}

/// The `[service]` section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceSpec {
    /// Desired task count at the start (autoscaling changes it). On EKS
    /// with a manifest: default its `spec.replicas`.
    #[serde(default)]
    pub desired: Option<u32>,
    /// Load-balancing algorithm. Default `round_robin`.
    #[serde(default)]
    pub routing: Routing,
    /// `minimumHealthyPercent`: healthy tasks kept, as a % of desired
    /// (rounded up), when tasks are replaced. Default 100 (ECS default).
    #[serde(default = "default_min_healthy")]
    pub minimum_healthy_percent: u32,
    /// `maximumPercent`: RUNNING + PENDING tasks allowed, as a % of desired
    /// (rounded down). Default 200 (ECS default for REPLICA services).
    #[serde(default = "default_max_percent")]
    pub maximum_percent: u32,
    /// `replica` (default) or `daemon` (EC2 only).
    #[serde(default)]
    pub scheduling_strategy: SchedulingStrategy,
    /// `warm` (default: tasks serve from t = 0) or `cold`.
    #[serde(default)]
    pub start: Start,
    /// ECS on EC2: placement strategies, in order, e.g.
    /// `[{ type = "spread", field = "attribute:ecs.availability-zone" }, { type = "binpack", field = "memory" }]`.
    /// Default: spread over availability zones (the ECS default for services).
    #[serde(default = "crate::placement::default_strategies")]
    pub placement_strategy: Vec<crate::placement::Strategy>,
    /// ECS on EC2: placement constraints, e.g. `[{ type = "distinctInstance" },
    /// { type = "memberOf", expression = "attribute:ecs.instance-type =~ m5.*" }]`.
    #[serde(default)]
    pub placement_constraints: Vec<crate::placement::Constraint>,
}

impl Default for ServiceSpec {
    fn default() -> Self {
        toml::from_str("").expect("every field of [service] has a default")
    }
}

fn default_true() -> bool {
    true
}

fn default_hc_interval() -> Duration {
    Duration::from_secs(30)
}

fn default_dereg() -> Duration {
    Duration::from_secs(300)
}

fn default_rpc() -> f64 {
    10.0
}

fn default_kb() -> f64 {
    10.0
}

/// When a deregistering target leaves the ALB.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DrainMode {
    /// It stays `draining` until the deregistration delay ends: ELB
    /// completes early only with no in-flight requests **and no active
    /// connections**, and clients keep their keep-alive connections open
    /// (the ELB guide, "Deregistration delay"; the ECS guide, "Optimize load
    /// balancer connection draining"). What AWS users usually see.
    #[default]
    Delay,
    /// It completes as soon as no request is in flight (clients that close
    /// idle connections).
    Idle,
}

/// The `[load_balancer]` section: the ALB in front of the service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoadBalancerSpec {
    /// Bill an ALB (hours and LCUs) on priced platforms. Default true; set
    /// false when the service shares an ALB billed elsewhere.
    #[serde(default = "default_true")]
    pub enabled: bool,
    /// `HealthCheckIntervalSeconds`, 5–300 s. Default 30 s; a newly
    /// registered target needs one passing check (AWS ECS developer guide,
    /// "Optimize load balancer health check parameters").
    #[serde(default = "default_hc_interval")]
    pub health_check_interval: Duration,
    /// `deregistration_delay.timeout_seconds`, 0–3600 s. Default 300 s (ELB
    /// target group default).
    #[serde(default = "default_dereg")]
    pub deregistration_delay: Duration,
    /// `delay` (default): a draining task waits out the whole delay (open
    /// keep-alive connections); `idle`: it leaves when nothing is in flight.
    #[serde(default)]
    pub drain: DrainMode,
    /// Requests per client connection, for the new-connections LCU
    /// dimension. Default 10 (an assumption: keep-alive clients).
    #[serde(default = "default_rpc")]
    pub requests_per_connection: f64,
    /// kB processed per request (request + response), for the processed-bytes
    /// LCU dimension. Default 10 (an assumption).
    #[serde(default = "default_kb")]
    pub kb_per_request: f64,
}

impl Default for LoadBalancerSpec {
    fn default() -> Self {
        LoadBalancerSpec {
            enabled: true,
            health_check_interval: default_hc_interval(),
            deregistration_delay: default_dereg(),
            drain: DrainMode::default(),
            requests_per_connection: default_rpc(),
            kb_per_request: default_kb(),
        }
    }
}

impl LoadBalancerSpec {
    /// Checks the section.
    pub fn validate(&self) -> Result<(), ScenarioError> {
        let hc = self.health_check_interval.0;
        if !(5 * SECOND..=300 * SECOND).contains(&hc) {
            return Err(ScenarioError::invalid(
                "load_balancer.health_check_interval",
                format!(
                    "the ALB allows 5 to 300 seconds, got {}",
                    self.health_check_interval
                ),
            ));
        }
        if self.deregistration_delay.0 > 3_600 * SECOND {
            return Err(ScenarioError::invalid(
                "load_balancer.deregistration_delay",
                format!(
                    "the ALB allows 0 to 3600 seconds, got {}",
                    self.deregistration_delay
                ),
            ));
        }
        if !(self.requests_per_connection.is_finite() && self.requests_per_connection >= 1.0) {
            return Err(ScenarioError::invalid(
                "load_balancer.requests_per_connection",
                "expected a number ≥ 1",
            ));
        }
        // capsim's bound: a gigabyte per request.
        if !(self.kb_per_request.is_finite() && (0.0..=1e6).contains(&self.kb_per_request)) {
            return Err(ScenarioError::invalid(
                "load_balancer.kb_per_request",
                format!(
                    "expected a number from 0 to 1000000 (a GB), got {}",
                    self.kb_per_request
                ),
            ));
        }
        Ok(())
    }
}

/// A validated task shape, as the data plane uses it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TaskShape {
    /// CPU units (1024 = one vCPU).
    pub cpu_units: u32,
    /// Memory in MiB.
    pub memory_mib: u32,
    /// Requests in service at once.
    pub concurrency: u32,
    /// Longest queue, if bounded.
    pub queue_limit: Option<u32>,
    /// Memory limit (MiB): above it the task is OOM-killed.
    pub memory_limit_mib: f64,
    /// Memory in use with no request (MiB).
    pub memory_base_mib: f64,
    /// Memory per request in flight on the task (MiB).
    pub memory_per_request_mib: f64,
}

impl TaskShape {
    /// Memory in use (MiB) with `in_flight` requests on the task.
    #[inline]
    pub fn memory_in_use(&self, in_flight: u32) -> f64 {
        self.memory_base_mib + self.memory_per_request_mib * in_flight as f64
    }
}

/// A compiled `[task]`: the shape, the memory counted as reserved for the
/// memory metric, ephemeral storage, and the definition it came from.
#[derive(Debug, Clone)]
pub struct CompiledTask {
    /// The shape.
    pub shape: TaskShape,
    /// Memory ECS counts as reserved (MiB).
    pub memory_reserved_mib: f64,
    /// Ephemeral storage (GB).
    pub ephemeral_gb: f64,
    /// The task definition, if one was given.
    pub definition: Option<TaskDefinition>,
    /// The Kubernetes manifest, if one was given.
    pub manifest: Option<crate::k8s::manifest::Manifest>,
    /// Kubernetes: the pod's CPU limit (CPU units).
    pub cpu_limit_units: Option<u32>,
    /// Kubernetes: the pod's memory limit (MiB).
    pub memory_limit_mib: Option<u32>,
}

fn pick(key: &str, spec: Option<u32>, def: Option<u32>, what: &str) -> Result<u32, ScenarioError> {
    match (spec, def) {
        (Some(a), Some(b)) if a != b => Err(ScenarioError::invalid(
            key,
            format!("{a} disagrees with the task definition's {what} ({b}); give it in one place"),
        )),
        (a, b) => a.or(b).ok_or_else(|| {
            ScenarioError::invalid(
                key,
                format!("missing: give task.{what}, or a task.definition with \"{what}\""),
            )
        }),
    }
}

impl TaskSpec {
    /// Validates the section (reading the task definition, if any).
    /// `overridden` are the dotted keys set by `--set` or a sweep: a
    /// `task.cpu` or `task.memory` among them replaces the task definition's
    /// task-level value (sweeping the task size of a service described by
    /// its task definition), where the same key written in the file next to
    /// a different definition value is an error.
    pub fn compile(
        &self,
        base_dir: &Path,
        memory_base_mib: f64,
        memory_per_request_mib: f64,
        overridden: &[String],
    ) -> Result<CompiledTask, ScenarioError> {
        let over = |k: &str| overridden.iter().any(|o| o == k || o == "task");
        let definition = match &self.definition {
            None => None,
            Some(file) => {
                let path = base_dir.join(file);
                let mut d = taskdef::load(&path).map_err(|m| {
                    ScenarioError::invalid("task.definition", format!("{}: {m}", path.display()))
                })?;
                if over("task.cpu") && self.cpu.is_some() && d.cpu_units.is_some() {
                    d.cpu_units = self.cpu;
                }
                if over("task.memory") && self.memory.is_some() && d.memory_mib.is_some() {
                    d.memory_mib = self.memory;
                }
                if let (Some(task), Some(containers)) = (d.memory_mib, d.containers_memory_mib())
                    && containers > task
                {
                    return Err(ScenarioError::invalid(
                        if over("task.memory") {
                            "task.memory"
                        } else {
                            "task.definition"
                        },
                        format!(
                            "the task's memory ({task} MiB) is below the sum of its essential containers' hard limits ({containers} MiB) in {}; ECS refuses such a task definition",
                            path.display()
                        ),
                    ));
                }
                Some(d)
            }
        };
        if definition.is_some() && self.manifest.is_some() {
            return Err(ScenarioError::invalid(
                "task.manifest",
                "give an ECS task definition or a Kubernetes manifest, not both",
            ));
        }
        let manifest = match &self.manifest {
            None => None,
            Some(file) => {
                let path = base_dir.join(file);
                let text = read_manifest(&path).map_err(|m| {
                    ScenarioError::invalid("task.manifest", format!("{}: {m}", path.display()))
                })?;
                Some(
                    crate::k8s::manifest::parse(
                        &text,
                        &path.display().to_string(),
                        self.deployment.as_deref(),
                    )
                    .map_err(|m| ScenarioError::invalid("task.manifest", m))?,
                )
            }
        };
        if self.deployment.is_some() && manifest.is_none() {
            return Err(ScenarioError::invalid(
                "task.deployment",
                "names a Deployment of task.manifest, which is not given",
            ));
        }
        let pod = manifest.as_ref().and_then(|m| m.deployment.as_ref());
        // Millicores to CPU units (1000m = 1024 units), rounded up.
        let units = |m: u32| ((m as u64 * 1024).div_ceil(1000)).min(u32::MAX as u64) as u32;
        let pod_req = pod.map(|d| d.pod_requests());
        let pod_lim = pod.map(|d| d.pod_limits());
        let def = definition.as_ref();
        let cpu = pick(
            "task.cpu",
            self.cpu,
            def.and_then(|d| d.cpu_units)
                .or(pod_req.and_then(|q| q.cpu_millicores).map(units)),
            "cpu",
        )?;
        let memory = pick(
            "task.memory",
            self.memory,
            def.and_then(|d| d.memory_mib)
                .or(pod_req.and_then(|q| q.memory_mib)),
            "memory",
        )?;
        let cpu_limit_units = pick_opt(
            "task.cpu_limit",
            self.cpu_limit,
            pod_lim.and_then(|q| q.cpu_millicores).map(units),
        )?;
        let memory_limit_mib = pick_opt(
            "task.memory_limit",
            self.memory_limit,
            pod_lim.and_then(|q| q.memory_mib),
        )?;
        if cpu == 0 {
            return Err(ScenarioError::invalid(
                "task.cpu",
                "expected CPU units > 0 (1024 = one vCPU), got 0",
            ));
        }
        if memory == 0 {
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
        let limit = def
            .and_then(|d| d.memory_limit_mib())
            .unwrap_or(memory)
            .min(memory) as f64;
        for (key, v) in [
            ("workload.memory_base_mib", memory_base_mib),
            ("workload.memory_per_request_mib", memory_per_request_mib),
        ] {
            if !(v.is_finite() && v >= 0.0) {
                return Err(ScenarioError::invalid(
                    key,
                    format!("expected MiB ≥ 0, got {v}"),
                ));
            }
        }
        if memory_base_mib >= limit {
            return Err(ScenarioError::invalid(
                "workload.memory_base_mib",
                format!(
                    "{memory_base_mib} MiB leaves no room under the task's {limit} MiB memory limit"
                ),
            ));
        }
        let ephemeral_gb = self
            .ephemeral_storage_gb
            .or(def.and_then(|d| d.ephemeral_storage_gib).map(f64::from))
            .unwrap_or(20.0);
        Ok(CompiledTask {
            shape: TaskShape {
                cpu_units: cpu,
                memory_mib: memory,
                concurrency: self.concurrency,
                queue_limit: self.queue_limit,
                memory_limit_mib: limit,
                memory_base_mib,
                memory_per_request_mib,
            },
            memory_reserved_mib: def.and_then(|d| d.memory_reserved_mib()).unwrap_or(memory) as f64,
            ephemeral_gb,
            definition,
            manifest,
            cpu_limit_units,
            memory_limit_mib,
        })
    }
}

/// Largest manifest read (a Deployment and an HPA are a few kB).
const MAX_MANIFEST_BYTES: u64 = 16 << 20;

/// Reads a manifest: a regular file of at most 16 MiB of UTF-8.
fn read_manifest(path: &Path) -> Result<String, String> {
    crate::input::read_text(path, MAX_MANIFEST_BYTES)
}

/// An optional value given in the scenario or in a file, not both differently.
fn pick_opt(key: &str, spec: Option<u32>, file: Option<u32>) -> Result<Option<u32>, ScenarioError> {
    match (spec, file) {
        (Some(a), Some(b)) if a != b => Err(ScenarioError::invalid(
            key,
            format!("{a} disagrees with the manifest's {b}; give it in one place"),
        )),
        (a, b) => Ok(a.or(b)),
    }
}
