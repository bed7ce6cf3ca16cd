//! Checking a scenario's values and compiling it into what a run needs
//! (`Compiled`): the load's rate function, the workload's distributions,
//! the task (or pod) shape, the platform, and on EKS the pod's readiness,
//! grace period, scheduling constraints and HPA.

use super::locate::{locate, relocate};
use super::{MAX_DURATION, Scenario};
use crate::error::{Error, ScenarioError};
use crate::load::RateFn;
use crate::metrics::cloudwatch::Metric;
use crate::platform::{Platform, PlatformKind, PlatformSpec, TaskFacts};
use crate::service::{CompiledTask, SchedulingStrategy, TaskShape};
use crate::time::{Duration, SimTime};
use crate::workload::Dist;

/// A scenario checked and compiled into what the engine needs.
#[derive(Debug, Clone)]
pub struct Compiled {
    /// End of the run (µs).
    pub end: SimTime,
    /// Offered rate over time.
    pub rate: RateFn,
    /// CPU demand per request (ms).
    pub cpu: Dist,
    /// I/O wait per request (ms).
    pub io: Option<Dist>,
    /// Request timeout (µs).
    pub timeout: Option<SimTime>,
    /// Task shape.
    pub shape: TaskShape,
    /// The compiled `[task]` (memory reserved, storage, task definition).
    pub task: CompiledTask,
    /// Platform.
    pub platform: Platform,
    /// Tasks (pods) at the start.
    pub desired: u32,
    /// ECS: `stopTimeout`, SIGTERM to SIGKILL.
    pub stop_timeout: SimTime,
    /// Kubernetes: the pod's readiness, termination grace period, scheduling
    /// constraints and the HPA (`None` on ECS).
    pub pod: Option<PodCompiled>,
    /// Notes for the user (task definition fields that are not modelled, …).
    pub notes: Vec<String>,
    /// The data plane that runs (`Request` or `Fluid`, never `Auto`) and why.
    pub plane: (crate::service::Fidelity, String),
    /// The fluid plane's step (µs).
    pub fluid_step: SimTime,
    /// The most tasks the service can have (its autoscaler's maximum, else
    /// its desired count): what a fluid run's cost grows with.
    pub max_tasks: u32,
    /// Whether the run keeps the service's decision log (its rows of
    /// `decisions.csv`). True when compiled; a sweep, which writes only
    /// summaries, turns it off (`run::run_summary`): Service Auto Scaling
    /// then decides the same but neither writes nor keeps its rows (a
    /// shared cluster's managed scaling still logs).
    pub decision_log: bool,
    /// Whether the run's output is its summary alone (a sweep's job,
    /// `run::run_summary`): no per-minute records, no task rows.
    pub summary_only: bool,
}

/// A Kubernetes pod and its autoscaler, compiled.
#[derive(Debug, Clone)]
pub struct PodCompiled {
    /// Readiness probe: initial delay, period, success threshold (`None`:
    /// no probe, Ready as soon as the containers start).
    pub probe: Option<(SimTime, SimTime, u32)>,
    /// `terminationGracePeriodSeconds`.
    pub grace: SimTime,
    /// Constraints for kube-scheduler (node selector, hard topology spread).
    pub constraints: Vec<crate::placement::Compiled>,
    /// Soft topology spread, as placement strategies ranked first.
    pub soft_spread: Vec<crate::placement::Strategy>,
    /// The HPA.
    pub hpa: Option<crate::k8s::spec::HpaConfig>,
    /// The pod template's `karpenter.sh/do-not-disrupt: "true"`: its node
    /// is not consolidated.
    pub do_not_disrupt: bool,
}

/// Most requests one task serves at once (`task.concurrency`): capsim's
/// bound, far above any thread or connection pool, so that arithmetic on
/// it cannot overflow.
pub const MAX_CONCURRENCY: u32 = 100_000;

/// Largest `service.maximum_percent`: capsim's bound (ECS documents no
/// upper limit for replica services; 200 is the default).
pub const MAX_MAXIMUM_PERCENT: u32 = 1_000;

impl Scenario {
    /// `[task]` sizes within what a task definition may say (ECS's
    /// maximums), the concurrency and the deployment percentages within
    /// capsim's bounds.
    fn check_task_numbers(&self) -> Result<(), ScenarioError> {
        use crate::platform::taskdef::{MAX_CPU_UNITS, MAX_MEMORY_MIB};
        let t = &self.task;
        for (key, value, max, what) in [
            ("task.cpu", t.cpu, MAX_CPU_UNITS, "CPU units"),
            ("task.cpu_limit", t.cpu_limit, MAX_CPU_UNITS, "CPU units"),
            ("task.memory", t.memory, MAX_MEMORY_MIB, "MiB"),
            ("task.memory_limit", t.memory_limit, MAX_MEMORY_MIB, "MiB"),
        ] {
            if let Some(v) = value
                && u64::from(v) > max
            {
                return Err(ScenarioError::invalid(
                    key,
                    format!("expected at most {max} {what} (the largest task ECS runs), got {v}"),
                ));
            }
        }
        if t.concurrency == 0 || t.concurrency > MAX_CONCURRENCY {
            return Err(ScenarioError::invalid(
                "task.concurrency",
                format!(
                    "expected 1 to {MAX_CONCURRENCY} requests served at once, got {}",
                    t.concurrency
                ),
            ));
        }
        if self.service.maximum_percent > MAX_MAXIMUM_PERCENT {
            return Err(ScenarioError::invalid(
                "service.maximum_percent",
                format!(
                    "expected at most {MAX_MAXIMUM_PERCENT} (capsim's bound; the ECS default is 200), got {}",
                    self.service.maximum_percent
                ),
            ));
        }
        Ok(())
    }

    /// Checks every section and compiles what the engine needs (reads trace
    /// files). Loading only checks the shape of the TOML; this checks values.
    pub fn compile(&self) -> Result<Compiled, Error> {
        self.compile_inner().map_err(|problem| {
            let problem = match (problem, &self.source) {
                (ScenarioError::Invalid { key, message, .. }, Some((text, overridden))) => {
                    locate(text, overridden, relocate(&self.own_sections, key), message)
                }
                (other, _) => other,
            };
            Error::Scenario {
                file: self.origin.clone(),
                problem,
            }
        })
    }

    fn compile_inner(&self) -> Result<Compiled, ScenarioError> {
        if self.name.trim().is_empty() {
            return Err(ScenarioError::invalid("name", "must not be empty"));
        }
        self.check_task_numbers()?;
        if self.duration.0 == 0 {
            return Err(ScenarioError::invalid(
                "duration",
                "must be longer than 0, e.g. \"1h\"",
            ));
        }
        if self.duration.0 > MAX_DURATION {
            return Err(ScenarioError::invalid(
                "duration",
                format!(
                    "capsim simulates at most {} (one report row per minute), got {}",
                    Duration(MAX_DURATION),
                    self.duration
                ),
            ));
        }
        if self.region.trim().is_empty() {
            return Err(ScenarioError::invalid(
                "region",
                "must not be empty, e.g. \"us-east-1\"",
            ));
        }
        self.slo.validate()?;
        let end = self.duration.0;
        let rate = self.load.compile(&self.base_dir, end)?;
        let cpu = self.workload.cpu_ms.compile("workload.cpu_ms")?;
        let io = self
            .workload
            .io_ms
            .as_ref()
            .map(|d| d.compile("workload.io_ms"))
            .transpose()?;
        if self.workload.timeout.is_some_and(|t| t.0 == 0) {
            return Err(ScenarioError::invalid(
                "workload.timeout",
                "must be longer than 0 (leave it out for no timeout)",
            ));
        }
        let task = self.task.compile(
            &self.base_dir,
            self.workload.memory_base_mib,
            self.workload.memory_per_request_mib,
            self.source.as_ref().map_or(&[][..], |(_, o)| o.as_slice()),
        )?;
        let mut shape = task.shape;
        let def = task.definition.as_ref();
        let deployment = task.manifest.as_ref().and_then(|m| m.deployment.as_ref());
        let eks = matches!(self.platform, PlatformSpec::Eks { .. });
        if !eks {
            for (k, given) in [
                ("task.manifest", task.manifest.is_some()),
                ("task.cpu_limit", self.task.cpu_limit.is_some()),
                ("task.memory_limit", self.task.memory_limit.is_some()),
                ("hpa", self.hpa.is_some()),
            ] {
                if given {
                    return Err(ScenarioError::invalid(
                        k,
                        format!(
                            "is a Kubernetes setting: it needs platform.kind = \"eks\"{}",
                            if k == "hpa" {
                                "; on ECS, Service Auto Scaling is [autoscaling]"
                            } else {
                                ""
                            }
                        ),
                    ));
                }
            }
        } else if self.autoscaling.is_some() {
            return Err(ScenarioError::invalid(
                "autoscaling",
                "Service Auto Scaling is ECS's; on EKS the Horizontal Pod Autoscaler is [hpa] (e.g. target_cpu_utilization = 60)",
            ));
        }
        let platform = self.platform.compile(
            &TaskFacts {
                base_dir: self.base_dir.clone(),
                network_mode: def.and_then(|d| d.network_mode.clone()),
                host_ports: (
                    def.map(|d| d.exclusive_host_ports("host"))
                        .unwrap_or_default(),
                    def.map(|d| d.exclusive_host_ports("bridge"))
                        .unwrap_or_default(),
                ),
                cpu_units: shape.cpu_units,
                memory_mib: shape.memory_mib,
                ephemeral_gb: task.ephemeral_gb,
                arch: def.and_then(|d| d.arch),
                os: def.and_then(|d| d.os),
                cpu_limit_units: task.cpu_limit_units,
                // On EKS the memory request is also the limit unless one is
                // given (an ECS task's memory is its hard limit): a modelling
                // default that keeps OOM kills comparable across platforms.
                memory_limit_mib: if task.manifest.is_some() {
                    task.memory_limit_mib
                } else {
                    Some(task.memory_limit_mib.unwrap_or(shape.memory_mib))
                },
                node_selector: deployment
                    .map(|d| d.node_selector.clone())
                    .unwrap_or_default(),
                topology_spread: Vec::new(),
                node_pools: task
                    .manifest
                    .as_ref()
                    .map(|m| m.node_pools.clone())
                    .unwrap_or_default(),
            },
            &self.region,
        );
        let platform = platform.map_err(|e| self.blame_definition(def, e))?;
        let mut notes = Vec::new();
        let mut pod = None;
        if let Some(e) = &platform.eks {
            // The pod processes on its CPU limit (else its request on a
            // node, its Fargate size on Fargate); OOM at its memory limit.
            shape.cpu_units = e.cpu_capacity_units;
            shape.memory_limit_mib = e.memory_limit_mib.map_or(f64::INFINITY, f64::from);
            if shape.memory_base_mib >= shape.memory_limit_mib {
                return Err(ScenarioError::invalid(
                    "workload.memory_base_mib",
                    format!(
                        "{} MiB leaves no room under the pod's {} MiB memory limit",
                        shape.memory_base_mib, shape.memory_limit_mib
                    ),
                ));
            }
            if e.memory_limit_mib.is_none() {
                notes.push(
                    "the pod has no memory limit: it is never OOM-killed here (node-pressure eviction is not modelled)"
                        .to_string(),
                );
            }
            if task.cpu_limit_units.is_none() && e.fargate_size.is_none() {
                notes.push(format!(
                    "the pod has no CPU limit: capsim holds it to its request ({}m) — a modelling choice; a real pod may burst into its node's idle CPU, so p99 here is an upper bound when nodes have room",
                    e.request.cpu
                ));
            }
            if let Some((c, m)) = e.fargate_size {
                notes.push(format!(
                    "EKS Fargate runs the pod ({}m CPU, {} MiB requested) on a {} vCPU / {} GB Fargate size: requests + 256 MB, rounded up to a Fargate size (aws.md §1.6)",
                    e.request.cpu,
                    e.request.memory,
                    c as f64 / 1024.0,
                    m as f64 / 1024.0
                ));
            }
            let hpa = match (
                &self.hpa,
                task.manifest.as_ref().and_then(|m| m.hpa.as_ref()),
            ) {
                (Some(h), _) => Some(h.compile()?),
                (None, Some(h)) => Some(
                    crate::k8s::spec::HpaSpec::from_manifest(h)
                        .map_err(|m| ScenarioError::invalid("task.manifest", m))?
                        .compile()
                        .map_err(|e| match e {
                            ScenarioError::Invalid { key, message, .. } => ScenarioError::invalid(
                                "task.manifest",
                                format!("its HorizontalPodAutoscaler: {key}: {message}"),
                            ),
                            other => other,
                        })?,
                ),
                (None, None) => None,
            };
            let mut constraints = Vec::new();
            let mut soft_spread = Vec::new();
            let mut probe = None;
            let mut grace = 30 * crate::time::SECOND;
            let do_not_disrupt = deployment.is_some_and(|d| d.do_not_disrupt);
            if let Some(d) = deployment {
                if !d.node_selector.is_empty() {
                    constraints.push(crate::placement::Compiled::NodeSelector(
                        d.node_selector.clone(),
                    ));
                }
                for t in &d.topology_spread {
                    let key = match t.topology_key.as_str() {
                        "topology.kubernetes.io/zone" => crate::placement::TopologyKey::Zone,
                        "kubernetes.io/hostname" => crate::placement::TopologyKey::Hostname,
                        other => {
                            return Err(ScenarioError::invalid(
                                "task.manifest",
                                format!(
                                    "topologySpreadConstraints on `{other}` are not modelled (topology.kubernetes.io/zone and kubernetes.io/hostname are)"
                                ),
                            ));
                        }
                    };
                    match t.when_unsatisfiable {
                        crate::k8s::manifest::WhenUnsatisfiable::DoNotSchedule => {
                            constraints.push(crate::placement::Compiled::TopologySpread {
                                max_skew: t.max_skew,
                                key,
                            })
                        }
                        crate::k8s::manifest::WhenUnsatisfiable::ScheduleAnyway => soft_spread
                            .push(crate::placement::Strategy::Spread(match key {
                                crate::placement::TopologyKey::Zone => {
                                    crate::placement::SpreadField::AvailabilityZone
                                }
                                crate::placement::TopologyKey::Hostname => {
                                    crate::placement::SpreadField::InstanceId
                                }
                            })),
                    }
                }
                if let Some(p) = &d.readiness {
                    probe = Some((
                        p.initial_delay_s as SimTime * crate::time::SECOND,
                        p.period_s.max(1) as SimTime * crate::time::SECOND,
                        p.success_threshold.max(1),
                    ));
                }
                grace = d.termination_grace_period_s as SimTime * crate::time::SECOND;
            }
            pod = Some(PodCompiled {
                probe,
                grace,
                constraints,
                soft_spread,
                hpa,
                do_not_disrupt,
            });
        }
        if let Some(m) = &task.manifest {
            notes.extend(m.notes.iter().map(|n| format!("manifest: {n}")));
        }
        notes.extend(self.extra_notes.iter().cloned());
        if let Some(caveat) = self.load.projection_caveat(end) {
            notes.push(caveat);
        }
        // stopTimeout: the scenario's, else the task definition's longest,
        // else 30 s (ECS_CONTAINER_STOP_TIMEOUT's default; Fargate: at most 120 s).
        let stop_timeout = match (self.task.stop_timeout, def.and_then(|d| d.stop_timeout_s())) {
            (Some(d), _) => d.0,
            (None, Some(s)) => s as SimTime * crate::time::SECOND,
            (None, None) => 30 * crate::time::SECOND,
        };
        if platform.kind == PlatformKind::Fargate
            && platform.eks.is_none()
            && stop_timeout > 120 * crate::time::SECOND
        {
            return Err(ScenarioError::invalid(
                "task.stop_timeout",
                format!(
                    "Fargate allows a stop timeout of at most 120 s, got {} s",
                    stop_timeout / crate::time::SECOND
                ),
            ));
        }
        if stop_timeout > 3_600 * crate::time::SECOND {
            return Err(ScenarioError::invalid(
                "task.stop_timeout",
                "expected at most 1 h",
            ));
        }
        let desired = match (self.service.desired, deployment.and_then(|d| d.replicas)) {
            (Some(n), _) | (None, Some(n)) => n,
            (None, None) if pod.as_ref().is_some_and(|p| p.hpa.is_some()) => {
                // A Deployment without replicas has 1; the HPA takes it to its minimum.
                1
            }
            (None, None) => {
                return Err(ScenarioError::invalid(
                    "service.desired",
                    "missing: the number of tasks (pods) at the start",
                ));
            }
        };
        // Amazon ECS service quotas: 5,000 tasks per service (on EKS a
        // Deployment has no such quota; the same bound keeps memory in hand).
        if desired > crate::scaling::MAX_TASKS {
            return Err(ScenarioError::invalid(
                "service.desired",
                format!(
                    "expected at most 5000 tasks (the ECS quota of tasks per service), got {desired}"
                ),
            ));
        }
        if let Some(d) = def {
            if platform.kind == PlatformKind::Ec2 && !eks && d.cpu_units.is_none() {
                // Without a task-level cpu, ECS on EC2 gives the containers
                // CPU shares, not a cap (task definition parameters: task
                // cpu is "the hard limit of CPU units"; container cpu is a
                // relative share): the task may use its instance's idle CPU.
                return Err(ScenarioError::invalid(
                    "task.definition",
                    format!(
                        "{}: no task-level `cpu`: on ECS on EC2 its containers then get CPU shares, not a limit (a task may use idle CPU of its instance), which capsim does not model — set the task definition's `cpu` (the hard limit)",
                        d.file.display()
                    ),
                ));
            }
            if platform.kind == PlatformKind::Fargate {
                if !d.compatibilities.is_empty()
                    && !d.compatibilities.iter().any(|c| c == "FARGATE")
                {
                    return Err(ScenarioError::invalid(
                        "task.definition",
                        format!(
                            "{}: requiresCompatibilities {:?} does not include FARGATE",
                            d.file.display(),
                            d.compatibilities
                        ),
                    ));
                }
                if d.network_mode.as_deref().is_some_and(|m| m != "awsvpc") {
                    return Err(ScenarioError::invalid(
                        "task.definition",
                        format!(
                            "{}: Fargate tasks need networkMode \"awsvpc\", got {:?}",
                            d.file.display(),
                            d.network_mode.as_deref().unwrap_or("")
                        ),
                    ));
                }
            }
            if !d.ignored.is_empty() {
                notes.push(format!(
                    "{}: fields not modelled, ignored: {}",
                    d.file.display(),
                    d.ignored.join(", ")
                ));
            }
        }
        if self.service.scheduling_strategy == SchedulingStrategy::Daemon {
            // The simulated service is always a replica service; a daemon
            // (one task per instance) is a cluster's `platform.daemons` entry.
            return Err(ScenarioError::invalid(
                "service.scheduling_strategy",
                format!(
                    "a daemon service runs one task per container instance beside the simulated service: on ECS on EC2 give it as platform.daemons = [{{ name, cpu, memory }}]; the simulated service itself is a \"replica\" service{}",
                    if platform.kind == PlatformKind::Ideal || self.platform.kind() != "ecs_ec2" {
                        format!(" ({} has no instances)", self.platform.kind())
                    } else {
                        String::new()
                    }
                ),
            ));
        }
        if self.service.maximum_percent < 100 {
            return Err(ScenarioError::invalid(
                "service.maximum_percent",
                format!(
                    "must be at least 100 for a replica service, got {}",
                    self.service.maximum_percent
                ),
            ));
        }
        if self.service.minimum_healthy_percent > 100 {
            return Err(ScenarioError::invalid(
                "service.minimum_healthy_percent",
                format!(
                    "must be at most 100, got {}",
                    self.service.minimum_healthy_percent
                ),
            ));
        }
        for c in &self.service.placement_constraints {
            c.compile()
                .map_err(|m| ScenarioError::invalid("service.placement_constraints", m))?;
        }
        if eks
            && (!self.service.placement_constraints.is_empty()
                || self.service.placement_strategy != crate::placement::default_strategies())
        {
            return Err(ScenarioError::invalid(
                "service.placement_strategy",
                "ECS placement strategies and constraints do not apply to EKS: kube-scheduler places pods (platform.scheduler_scoring; nodeSelector and topologySpreadConstraints in the manifest)",
            ));
        }
        if platform.kind != PlatformKind::Ec2
            && (!self.service.placement_constraints.is_empty()
                || self.service.placement_strategy != crate::placement::default_strategies())
        {
            return Err(ScenarioError::invalid(
                "service.placement_strategy",
                "placement strategies and constraints apply to ECS on EC2 only (Fargate spreads tasks over zones itself)",
            ));
        }
        self.load_balancer.validate()?;
        if let Some(a) = &self.autoscaling {
            a.validate()?;
        }
        notes.extend(self.warnings(&rate, end));
        let plane = self.plane(&rate, end)?;
        Ok(Compiled {
            end,
            rate,
            cpu,
            io,
            timeout: self.workload.timeout.map(|d| d.0),
            shape,
            task,
            platform,
            desired,
            stop_timeout,
            // Deployments may run up to maximum_percent of the desired count.
            max_tasks: desired
                .max(self.autoscaling.as_ref().map_or(0, |a| {
                    a.scheduled
                        .iter()
                        .filter_map(|s| s.max_capacity.max(s.min_capacity))
                        .fold(a.max_capacity, u32::max)
                }))
                .max(
                    pod.as_ref()
                        .and_then(|p| p.hpa.as_ref())
                        .map_or(0, |h| h.scaling.max_replicas),
                )
                .saturating_mul(self.service.maximum_percent.max(100))
                / 100,
            pod,
            notes,
            decision_log: true,
            summary_only: false,
            plane,
            fluid_step: self.fluid_step.0,
        })
    }

    /// Which data plane runs, and why (said in the summary).
    fn plane(
        &self,
        rate: &crate::load::RateFn,
        end: SimTime,
    ) -> Result<(crate::service::Fidelity, String), ScenarioError> {
        use crate::service::Fidelity;
        let step = self.fluid_step.0;
        // A divisor of 20 s, the finest CloudWatch period capsim models, so
        // that every datapoint gets whole steps.
        if step < crate::time::SECOND / 10 || !(20 * crate::time::SECOND).is_multiple_of(step) {
            return Err(ScenarioError::invalid(
                "fluid_step",
                format!(
                    "expected a divisor of 20s of at least 100ms (1s, 2s, 5s, 10s, 20s, …), got {}",
                    self.fluid_step
                ),
            ));
        }
        if !(self.fluid_threshold.is_finite() && self.fluid_threshold >= 0.0) {
            return Err(ScenarioError::invalid(
                "fluid_threshold",
                format!(
                    "expected a number of requests ≥ 0, got {}",
                    self.fluid_threshold
                ),
            ));
        }
        let expected = rate.integral(0, end);
        Ok(match self.fidelity {
            Fidelity::Request => (Fidelity::Request, "fidelity = \"request\"".into()),
            Fidelity::Fluid => (
                Fidelity::Fluid,
                format!("fidelity = \"fluid\", step {}", self.fluid_step),
            ),
            Fidelity::Auto if expected > self.fluid_threshold => (
                Fidelity::Fluid,
                format!(
                    "fidelity = \"auto\": about {expected:.3e} requests, above fluid_threshold {:.0e}; step {}",
                    self.fluid_threshold, self.fluid_step
                ),
            ),
            Fidelity::Auto => (
                Fidelity::Request,
                format!(
                    "fidelity = \"auto\": about {expected:.3e} requests, not above fluid_threshold {:.0e}",
                    self.fluid_threshold
                ),
            ),
        })
    }
}

impl Scenario {
    /// An error about `task.cpu` or `task.memory` whose value came from
    /// the task definition (the scenario does not set it) names
    /// `task.definition` and the file.
    fn blame_definition(
        &self,
        def: Option<&crate::platform::taskdef::TaskDefinition>,
        e: ScenarioError,
    ) -> ScenarioError {
        let ScenarioError::Invalid { key, line, message } = e else {
            return e;
        };
        let from_definition = match (key.as_str(), def) {
            ("task.cpu", Some(d)) => self.task.cpu.is_none() && d.cpu_units.is_some(),
            ("task.memory", Some(d)) => self.task.memory.is_none() && d.memory_mib.is_some(),
            _ => false,
        };
        match def {
            Some(d) if from_definition => {
                let field = key.trim_start_matches("task.");
                ScenarioError::invalid(
                    "task.definition",
                    format!("{} (its `{field}`): {message}", d.file.display()),
                )
            }
            _ => ScenarioError::Invalid { key, line, message },
        }
    }
}

/// Shortest run in which Service Auto Scaling's alarms can be seen at work:
/// target tracking scales out after 3 high one-minute datapoints and in
/// after 15 low ones (aws.md §9.1), each seen minutes late.
const AUTOSCALING_MIN_DURATION: SimTime = 10 * crate::time::MINUTE;

/// A utilization target below this is almost surely a fraction where a
/// percent is meant (0.7 for 70 %).
const LOWEST_PLAUSIBLE_PERCENT: f64 = 5.0;

/// More requests in service at once on one task than this is almost surely
/// a rate (requests per second) written as the concurrency.
const MOST_PLAUSIBLE_CONCURRENCY: u32 = 10_000;

/// A product like 0.07 × 100 without its floating-point tail (7, not 7.000000000000001).
fn tidy(x: f64) -> f64 {
    (x * 1e9).round() / 1e9
}

impl Scenario {
    /// Values that are valid but almost surely a mistake, as notes that
    /// start with `warning:`, each naming its key and why it looks wrong.
    fn warnings(&self, rate: &RateFn, end: SimTime) -> Vec<String> {
        let mut w = Vec::new();
        // A service of a shared cluster: the key as written in the file.
        let mut warn = |key: &str, why: String| {
            let key = relocate(&self.own_sections, key.to_string());
            w.push(format!("warning: `{key}` {why}"))
        };
        let percent = |t: f64, what: &str| {
            format!(
                "is {t}: a {what} target is a percent (70 means 70 %), so this asks for {t} % and will scale out to its maximum; did you mean {}?",
                tidy(t * 100.0)
            )
        };
        if let Some(a) = &self.autoscaling {
            let inline = usize::from(a.target_value.is_some());
            for (i, p) in a.target_tracking_policies().iter().enumerate() {
                let key = if i < inline {
                    "autoscaling.target_value".to_string()
                } else {
                    format!("autoscaling.target_tracking[{}].target_value", i - inline)
                };
                let what = match p.predefined_metric.base() {
                    Metric::EcsServiceAverageCpuUtilization => "CPU utilization",
                    Metric::EcsServiceAverageMemoryUtilization => "memory utilization",
                    _ => continue,
                };
                if p.target_value < LOWEST_PLAUSIBLE_PERCENT {
                    warn(&key, percent(p.target_value, what));
                }
            }
            let alarms = inline > 0 || !a.target_tracking.is_empty() || !a.step_scaling.is_empty();
            if alarms && end < AUTOSCALING_MIN_DURATION {
                warn(
                    "duration",
                    format!(
                        "is {}: [autoscaling] acts on alarms over minutes of datapoints (target tracking scales out after 3 high minutes and in after 15 low ones, each seen about {} late), so a run shorter than {} shows little of it",
                        self.duration,
                        a.metric_delay,
                        Duration(AUTOSCALING_MIN_DURATION)
                    ),
                );
            }
        }
        if let Some(h) = &self.hpa {
            if let Some(t) = h.target_cpu_utilization
                && t < LOWEST_PLAUSIBLE_PERCENT
            {
                warn("hpa.target_cpu_utilization", percent(t, "CPU utilization"));
            }
            for (i, m) in h.metrics.iter().enumerate() {
                if let Some(t) = m.average_utilization
                    && t < LOWEST_PLAUSIBLE_PERCENT
                {
                    warn(
                        &format!("hpa.metrics[{i}].average_utilization"),
                        percent(t, "utilization"),
                    );
                }
            }
        }
        if let Some(p) = self.slo.p99_ms
            && p < 1.0
        {
            warn(
                "slo.p99_ms",
                format!(
                    "is {p}: it is in milliseconds (400 means 0.4 s), so nearly every minute will breach it; did you mean {}?",
                    tidy(p * 1000.0)
                ),
            );
        }
        let cpu_mean = self.workload.cpu_ms.mean();
        if let Some(t) = self.workload.timeout
            && crate::time::as_ms_f64(t.0) < cpu_mean
        {
            warn(
                "workload.timeout",
                format!(
                    "is {t}, shorter than the mean CPU time of a request ({cpu_mean} ms, `workload.cpu_ms`): most requests will time out"
                ),
            );
        }
        if self.task.concurrency > MOST_PLAUSIBLE_CONCURRENCY {
            warn(
                "task.concurrency",
                format!(
                    "is {}: it is the number of requests one task serves at once (a thread or connection pool), not a rate; above {MOST_PLAUSIBLE_CONCURRENCY} is unusual",
                    self.task.concurrency
                ),
            );
        }
        if rate.peak(end) == 0.0 {
            let key = match self.load {
                crate::load::LoadSpec::Constant { .. } => "load.rps",
                crate::load::LoadSpec::Diurnal { .. } => "load.mean_rps",
                _ => "load",
            };
            warn(
                key,
                "gives a mean rate of 0 requests per second: no request arrives during the run"
                    .into(),
            );
        }
        w
    }
}
