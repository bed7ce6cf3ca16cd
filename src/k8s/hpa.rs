//! The Kubernetes Horizontal Pod Autoscaler's arithmetic as pure functions:
//! the replica calculator (how many pods one metric asks for), the rule that
//! combines several metrics, the scaling behaviour (stabilization windows and
//! rate policies) and the controller's outer rules (disabled at zero, min and
//! max). No clock, no I/O, no randomness: the caller (the EKS control plane)
//! owns time, pods and metric samples and calls in once per sync period
//! (`--horizontal-pod-autoscaler-sync-period`, 15 s by default).
//!
//! # What this module owns
//! - [`resource_utilization_replicas`], [`resource_average_value_replicas`] and
//!   [`pods_metric_replicas`]: one metric's recommendation, with the
//!   controller's grouping of pods into ready / unready / missing / ignored,
//!   its per-direction tolerance and its rebalancing of unready and missing
//!   pods.
//! - [`replicas_for_metrics`]: the largest recommendation over several
//!   metrics, and what happens when some of them fail.
//! - [`normalize`] (an HPA with `spec.behavior`), [`normalize_without_behavior`]
//!   (an HPA without it), [`record_scale`] and [`History`]: stabilization
//!   windows, rate policies, min/max.
//! - [`desired_replicas`]: the outer rules of one reconciliation.
//!
//! # Modelled
//! Resource metrics (CPU, memory) with Utilization and AverageValue targets,
//! Pods metrics with AverageValue targets; the CPU initialization period and
//! initial readiness delay; deleting, failed and pending pods; missing
//! samples; the utilization percentage truncated to a whole percent as the
//! controller's integer arithmetic does; tolerances per direction
//! (`HPAConfigurableTolerance`); stabilization over past recommendations
//! (including the recommendation the controller records on its first sync);
//! Pods/Percent policies over their periods with Max/Min/Disabled selection;
//! the legacy normalization an HPA without `spec.behavior` gets.
//!
//! # Not modelled
//! - Object and External metrics, ContainerResource metrics (one container's
//!   request) and pod-level requests: a pod's request here is one number.
//! - metrics-server itself (scrape interval, sample window): the caller
//!   produces the [`MetricSample`]s.
//! - The work queue, status and condition writes, events, and the
//!   scale subresource's spec/status split (spec replicas are used
//!   throughout); the `selectionStrategy` pod filter (every pod passed in
//!   belongs to the target).
//! - Milli-quantity integer arithmetic other than the whole-percent
//!   truncation of utilization (raw averages are not truncated to a
//!   milli-unit; the difference is below one milli-unit).
//!
//! # Sources
//! Read from kubernetes/kubernetes (Apache-2.0); the Rust below is written
//! anew, not translated line by line. Each rule cites the file and commit it
//! follows:
//! - `pkg/controller/podautoscaler/replica_calculator.go`, the revision with
//!   per-direction `Tolerances` (v1.33+, HPAConfigurableTolerance), as stored
//!   in the code index, which did not record its commit; cross-checked with
//!   the older revision @00067268967e.
//! - `pkg/controller/podautoscaler/metrics/utilization.go`
//!   (`GetResourceUtilizationRatio`, `GetMetricUsageRatio`), same revision.
//! - `pkg/controller/podautoscaler/horizontal.go` @003e86297d18.
//! - `pkg/controller/podautoscaler/horizontal_test.go` @003e86297d18 and
//!   `replica_calculator_test.go` @00067268967e (the cases mirrored below).
//! - `pkg/apis/autoscaling/v2/defaults.go` @1adaa7534575.
#![warn(missing_docs)]

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::time::{MINUTE, SECOND, SimTime};

// ---------------------------------------------------------------------------
// Inputs
// ---------------------------------------------------------------------------

/// Which resource a Resource metric measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ResourceName {
    /// CPU, in millicores.
    Cpu,
    /// Memory, in MiB.
    Memory,
}

impl ResourceName {
    /// The unit suffix used in explanations.
    fn unit(self) -> &'static str {
        match self {
            ResourceName::Cpu => "m",
            ResourceName::Memory => " MiB",
        }
    }
}

impl fmt::Display for ResourceName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ResourceName::Cpu => "cpu",
            ResourceName::Memory => "memory",
        })
    }
}

/// A pod's phase (`status.phase`; Unknown is not modelled).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PodPhase {
    /// Accepted but not all containers are running (scheduling, image pull).
    Pending,
    /// Bound to a node, containers started.
    Running,
    /// All containers terminated successfully.
    Succeeded,
    /// All containers terminated, at least one in failure.
    Failed,
}

/// The pod's Ready condition.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReadyCondition {
    /// `status == True`.
    pub ready: bool,
    /// `lastTransitionTime`: when `ready` last changed.
    pub last_transition: SimTime,
}

/// What the controller knows of one pod of the target.
#[derive(Debug, Clone, PartialEq)]
pub struct PodInfo {
    /// Identifies the pod in errors and explanations.
    pub id: u32,
    /// `status.phase`.
    pub phase: PodPhase,
    /// deletionTimestamp is set (terminating).
    pub deleting: bool,
    /// The Ready condition, if the pod has one yet.
    pub ready: Option<ReadyCondition>,
    /// `status.startTime`, if set.
    pub start_time: Option<SimTime>,
    /// The pod's request of the metric's resource (sum over containers), if any —
    /// CPU in millicores, memory in MiB. `None` = no request (utilization cannot be computed).
    pub request: Option<f64>,
    /// The metric sample for this pod, if metrics-server has one.
    pub metric: Option<MetricSample>,
}

/// One pod's metric sample as the metrics API returns it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MetricSample {
    /// The value: CPU millicores, memory MiB, or the Pods metric's own unit.
    pub value: f64,
    /// When the sample's window ended.
    pub timestamp: SimTime,
    /// The window the value was averaged over (metrics-server: the scrape window).
    pub window: SimTime,
}

/// Controller settings (kube-controller-manager flags).
///
/// `tolerance_up` / `tolerance_down` are the cluster-wide
/// `--horizontal-pod-autoscaler-tolerance` unless the HPA's behaviour sets
/// `scaleUp.tolerance` / `scaleDown.tolerance` ([`Rules::tolerance`]); the
/// calculator does not see the behaviour, so the caller applies those
/// overrides first, with [`CalcConfig::with_behavior`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CalcConfig {
    /// Scale up only when the usage ratio exceeds `1 + tolerance_up` (default 0.1).
    pub tolerance_up: f64,
    /// Scale down only when the usage ratio is below `1 - tolerance_down` (default 0.1).
    pub tolerance_down: f64,
    /// `--horizontal-pod-autoscaler-cpu-initialization-period` (default 5 min).
    pub cpu_initialization_period: SimTime,
    /// `--horizontal-pod-autoscaler-initial-readiness-delay` (default 30 s).
    pub initial_readiness_delay: SimTime,
}

impl Default for CalcConfig {
    fn default() -> Self {
        CalcConfig {
            tolerance_up: 0.1,
            tolerance_down: 0.1,
            cpu_initialization_period: 5 * MINUTE,
            initial_readiness_delay: 30 * SECOND,
        }
    }
}

impl CalcConfig {
    /// This configuration with the HPA's per-direction tolerances applied:
    /// `behavior.scaleUp.tolerance` replaces `tolerance_up` and
    /// `behavior.scaleDown.tolerance` replaces `tolerance_down` where set
    /// (KEP-4951, HPAConfigurableTolerance; `copyHPAScalingRules` in
    /// kubernetes/kubernetes `pkg/apis/autoscaling/v2/defaults.go`
    /// @1adaa7534575 keeps an unset tolerance unset, so the cluster-wide
    /// value applies).
    pub fn with_behavior(&self, behavior: &Behavior) -> CalcConfig {
        CalcConfig {
            tolerance_up: behavior.scale_up.tolerance.unwrap_or(self.tolerance_up),
            tolerance_down: behavior.scale_down.tolerance.unwrap_or(self.tolerance_down),
            ..*self
        }
    }
}

// ---------------------------------------------------------------------------
// Calculator outputs
// ---------------------------------------------------------------------------

/// Result of one metric's calculation.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplicaCalc {
    /// The replica count this metric recommends.
    pub replicas: u32,
    /// Current average utilization (percent of request) for Utilization targets, else None.
    pub utilization: Option<f64>,
    /// Current raw average value per pod (what the target is compared against).
    pub raw_average: f64,
    /// Pods whose samples were used as they are.
    pub ready: u32,
    /// Pods set aside as not yet ready (pending; for CPU, also initializing or never ready).
    pub unready: u32,
    /// Pods (neither ignored nor unready) without a sample.
    pub missing: u32,
    /// Pods left out entirely (deleting or failed).
    pub ignored: u32,
    /// Usage ratio used (current / target), after any rebalancing.
    pub ratio: f64,
    /// One line explaining the calculation for a decision log, e.g.
    /// "ceil(4 ready pods × 73 % / 50 %) = 6" or "within tolerance (ratio 1.04): keep 4",
    /// mentioning unready pods counted at 0 % and missing pods assumed at 0 % / 100 % when that happened.
    pub explanation: String,
}

/// Why a metric gave no recommendation.
#[derive(Debug, Clone, PartialEq)]
pub enum CalcError {
    /// The target has no pods ("no pods returned by selector").
    NoPods,
    /// No pod is both countable and sampled ("did not receive metrics for
    /// targeted pods (pods might be unready)").
    NoMetrics,
    /// A Utilization target, and this pod has no request of the resource.
    MissingRequest {
        /// The pod without a request.
        pod: u32,
    },
    /// The target is not a positive finite number.
    InvalidTarget(String),
    /// The requests of the sampled pods add up to zero ("no metrics returned
    /// matched known pods"): utilization is undefined.
    ZeroRequests,
    /// Some other input is unusable (a non-finite or negative value, a bad
    /// tolerance).
    InvalidInput(String),
}

impl fmt::Display for CalcError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CalcError::NoPods => f.write_str("no pods returned by selector"),
            CalcError::NoMetrics => {
                f.write_str("did not receive metrics for targeted pods (pods might be unready)")
            }
            CalcError::MissingRequest { pod } => {
                write!(f, "missing request for the metric's resource on pod {pod}")
            }
            CalcError::InvalidTarget(why) => write!(f, "invalid target: {why}"),
            CalcError::ZeroRequests => {
                f.write_str("the sampled pods' requests add up to zero: utilization is undefined")
            }
            CalcError::InvalidInput(why) => write!(f, "invalid input: {why}"),
        }
    }
}

impl std::error::Error for CalcError {}

// ---------------------------------------------------------------------------
// Calculator
// ---------------------------------------------------------------------------

/// Resource metric with a Utilization target (percent of request), as GetResourceReplicas.
///
/// Rules (kubernetes/kubernetes `replica_calculator.go`, the `Tolerances`
/// revision, `GetResourceReplicas`, and `metrics/utilization.go`
/// `GetResourceUtilizationRatio`):
/// - pods are grouped as in [`pods_metric_replicas`]'s list (see
///   `groupPods` there), with the CPU readiness rules when `resource` is CPU;
/// - every pod, ignored ones included, must have a request
///   ([`CalcError::MissingRequest`] otherwise; `calculateRequests` lists all
///   pods);
/// - utilization = Σ samples × 100 / Σ requests over the ready pods,
///   truncated to a whole percent; ratio = utilization / target;
/// - missing pods on a scale-down are assumed at max(100 %, target) of their
///   request.
pub fn resource_utilization_replicas(
    current_replicas: u32,
    target_utilization: f64,
    resource: ResourceName,
    pods: &[PodInfo],
    now: SimTime,
    cfg: &CalcConfig,
) -> Result<ReplicaCalc, CalcError> {
    calculate(
        current_replicas,
        Target::Utilization(target_utilization),
        Some(resource),
        pods,
        now,
        cfg,
    )
}

/// Resource metric with an AverageValue target, as GetRawResourceReplicas.
///
/// The controller sends this through `calcPlainMetricReplicas` with the
/// resource's name, so CPU pods get the CPU readiness rules; requests are not
/// needed. Ratio = mean sample over ready pods / target; missing pods on a
/// scale-down are assumed at the target (kubernetes/kubernetes
/// `replica_calculator.go`, `Tolerances` revision, `GetRawResourceReplicas`
/// and `calcPlainMetricReplicas`).
pub fn resource_average_value_replicas(
    current_replicas: u32,
    target_average: f64,
    resource: ResourceName,
    pods: &[PodInfo],
    now: SimTime,
    cfg: &CalcConfig,
) -> Result<ReplicaCalc, CalcError> {
    calculate(
        current_replicas,
        Target::Average(target_average),
        Some(resource),
        pods,
        now,
        cfg,
    )
}

/// A Pods metric (e.g. requests per second per pod) with an AverageValue target, as GetMetricReplicas.
///
/// Pod grouping (`groupPods`, kubernetes/kubernetes `replica_calculator.go`,
/// `Tolerances` revision), in this order:
/// 1. deleting or Failed → ignored (left out entirely);
/// 2. Pending → unready;
/// 3. no sample → missing;
/// 4. CPU metrics only: no Ready condition or no start time → unready;
///    within `cpu_initialization_period` of start → unready if not ready or
///    if the sample's window began before the last readiness transition
///    (`timestamp < last_transition + window`); after it → unready only if
///    not ready and the last transition came within
///    `initial_readiness_delay` of start (never been ready);
/// 5. otherwise ready. For memory and Pods metrics a Running pod that is not
///    Ready still counts as ready.
///
/// Then (`calcPlainMetricReplicas`): ratio = mean sample over ready pods /
/// target. With no unready pods on a scale-up and no missing pods: keep the
/// current count if `1 - tolerance_down ≤ ratio ≤ 1 + tolerance_up`, else
/// `ceil(ratio × ready)`. Otherwise rebalance: missing pods count at the
/// target on a scale-down and at 0 on a scale-up, unready pods at 0 on a
/// scale-up only (left out on a scale-down); keep the current count if the
/// new ratio is within tolerance or on the other side of 1, or if
/// `ceil(new ratio × pods counted)` moves against the new ratio.
pub fn pods_metric_replicas(
    current_replicas: u32,
    target_average: f64,
    pods: &[PodInfo],
    now: SimTime,
    cfg: &CalcConfig,
) -> Result<ReplicaCalc, CalcError> {
    calculate(
        current_replicas,
        Target::Average(target_average),
        None,
        pods,
        now,
        cfg,
    )
}

/// What the ratio is taken against.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Target {
    /// Percent of request.
    Utilization(f64),
    /// Raw mean value per pod.
    Average(f64),
}

impl Target {
    fn value(self) -> f64 {
        match self {
            Target::Utilization(t) | Target::Average(t) => t,
        }
    }
}

/// Where `groupPods` puts a pod.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Group {
    Ignored,
    Unready,
    Missing,
    Ready(f64),
}

/// `Tolerances.isWithin`: `1 - down ≤ ratio ≤ 1 + up` (kubernetes/kubernetes
/// `replica_calculator.go`, `Tolerances` revision).
fn within_tolerance(ratio: f64, cfg: &CalcConfig) -> bool {
    (1.0 - cfg.tolerance_down) <= ratio && ratio <= (1.0 + cfg.tolerance_up)
}

/// `groupPods` (kubernetes/kubernetes `replica_calculator.go`, `Tolerances`
/// revision); see [`pods_metric_replicas`] for the rules.
fn group_pod(pod: &PodInfo, cpu_rules: bool, now: SimTime, cfg: &CalcConfig) -> Group {
    if pod.deleting || pod.phase == PodPhase::Failed {
        return Group::Ignored;
    }
    if pod.phase == PodPhase::Pending {
        return Group::Unready;
    }
    let Some(sample) = pod.metric else {
        return Group::Missing;
    };
    if cpu_rules {
        let unready = match (pod.ready, pod.start_time) {
            (Some(cond), Some(start)) => {
                if start.saturating_add(cfg.cpu_initialization_period) > now {
                    // Still initializing: the sample must cover a full window
                    // after the pod turned ready.
                    !cond.ready
                        || sample.timestamp < cond.last_transition.saturating_add(sample.window)
                } else {
                    // Past initialization: set aside only pods that have never
                    // been ready (their last transition is the initial one).
                    !cond.ready
                        && start.saturating_add(cfg.initial_readiness_delay) > cond.last_transition
                }
            }
            _ => true,
        };
        if unready {
            return Group::Unready;
        }
    }
    Group::Ready(sample.value)
}

fn validate_config(cfg: &CalcConfig) -> Result<(), CalcError> {
    for (name, t) in [("up", cfg.tolerance_up), ("down", cfg.tolerance_down)] {
        if !(t.is_finite() && t >= 0.0) {
            return Err(CalcError::InvalidInput(format!(
                "scale-{name} tolerance {t} must be a finite number ≥ 0"
            )));
        }
    }
    Ok(())
}

fn validate_pod(pod: &PodInfo, resource_metric: bool) -> Result<(), CalcError> {
    if let Some(sample) = pod.metric {
        let bad = !sample.value.is_finite() || (resource_metric && sample.value < 0.0);
        if bad {
            return Err(CalcError::InvalidInput(format!(
                "pod {}: metric value {} is not a usable number",
                pod.id, sample.value
            )));
        }
    }
    if let Some(request) = pod.request
        && !(request.is_finite() && request >= 0.0)
    {
        return Err(CalcError::InvalidInput(format!(
            "pod {}: request {request} must be a finite number ≥ 0",
            pod.id
        )));
    }
    Ok(())
}

/// The usage ratio and the value shown for it (whole-percent utilization, or
/// the mean), over (sample, request) pairs; `samples` is never empty here.
///
/// `GetResourceUtilizationRatio` / `GetMetricUsageRatio` (kubernetes/kubernetes
/// `pkg/controller/podautoscaler/metrics/utilization.go`): utilization is
/// `int32(Σ metric × 100 / Σ request)`, i.e. truncated; a tiny epsilon keeps
/// float noise (59.999999…) from losing a percent the integer arithmetic
/// would keep.
fn usage_ratio(samples: &[(f64, f64)], target: Target) -> Result<(f64, f64), CalcError> {
    let n = samples.len().max(1) as f64;
    let total: f64 = samples.iter().map(|s| s.0).sum();
    let (ratio, shown) = match target {
        Target::Utilization(t) => {
            let requests: f64 = samples.iter().map(|s| s.1).sum();
            if requests <= 0.0 {
                return Err(CalcError::ZeroRequests);
            }
            let pct = (total * 100.0 / requests + 1e-9).floor();
            (pct / t, pct)
        }
        Target::Average(t) => {
            let avg = total / n;
            (avg / t, avg)
        }
    };
    if !ratio.is_finite() {
        return Err(CalcError::InvalidInput(
            "metric totals overflow a finite ratio".to_string(),
        ));
    }
    Ok((ratio, shown))
}

/// `int32(math.Ceil(ratio × n))`, saturating instead of wrapping.
fn ceil_count(ratio: f64, n: usize) -> u32 {
    let x = (ratio * n as f64).ceil();
    if x.is_nan() || x <= 0.0 {
        0
    } else if x >= f64::from(u32::MAX) {
        u32::MAX
    } else {
        x as u32
    }
}

fn num(v: f64) -> String {
    if (v - v.round()).abs() < 1e-9 {
        format!("{:.0}", v)
    } else {
        format!("{:.2}", v)
    }
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}

fn calculate(
    current: u32,
    target: Target,
    resource: Option<ResourceName>,
    pods: &[PodInfo],
    now: SimTime,
    cfg: &CalcConfig,
) -> Result<ReplicaCalc, CalcError> {
    validate_config(cfg)?;
    let target_value = target.value();
    if !(target_value.is_finite() && target_value > 0.0) {
        return Err(CalcError::InvalidTarget(match target {
            Target::Utilization(t) => format!("utilization target {t} % must be a positive number"),
            Target::Average(t) => format!("average value target {t} must be a positive number"),
        }));
    }
    if pods.is_empty() {
        return Err(CalcError::NoPods);
    }
    for pod in pods {
        validate_pod(pod, resource.is_some())?;
    }

    let cpu_rules = resource == Some(ResourceName::Cpu);
    let groups: Vec<Group> = pods
        .iter()
        .map(|p| group_pod(p, cpu_rules, now, cfg))
        .collect();
    let ready_count = groups
        .iter()
        .filter(|g| matches!(g, Group::Ready(_)))
        .count();
    if ready_count == 0 {
        return Err(CalcError::NoMetrics);
    }

    // Requests of every pod (calculateRequests lists them all, ignored pods
    // included); only Utilization needs them.
    let requests: Vec<f64> = match target {
        Target::Utilization(_) => pods
            .iter()
            .map(|p| p.request.ok_or(CalcError::MissingRequest { pod: p.id }))
            .collect::<Result<_, _>>()?,
        Target::Average(_) => vec![0.0; pods.len()],
    };

    let ready_samples: Vec<(f64, f64)> = groups
        .iter()
        .zip(&requests)
        .filter_map(|(g, &r)| match g {
            Group::Ready(v) => Some((*v, r)),
            _ => None,
        })
        .collect();
    let (ratio, shown) = usage_ratio(&ready_samples, target)?;
    let raw_average =
        ready_samples.iter().map(|s| s.0).sum::<f64>() / ready_samples.len().max(1) as f64;

    let count = |want: Group| groups.iter().filter(|g| **g == want).count();
    let unready = count(Group::Unready);
    let missing = count(Group::Missing);
    let ignored = count(Group::Ignored);

    let unit = resource.map(ResourceName::unit).unwrap_or("");
    let fmt_value = |v: f64| match target {
        Target::Utilization(_) => format!("{} %", num(v)),
        Target::Average(_) => format!("{}{unit}", num(v)),
    };
    let tgt = fmt_value(target_value);
    let result = |replicas: u32, ratio: f64, explanation: String| ReplicaCalc {
        replicas,
        utilization: match target {
            Target::Utilization(_) => Some(shown),
            Target::Average(_) => None,
        },
        raw_average,
        ready: ready_count as u32,
        unready: unready as u32,
        missing: missing as u32,
        ignored: ignored as u32,
        ratio,
        explanation,
    };

    let scale_up_with_unready = unready > 0 && ratio > 1.0;
    if !scale_up_with_unready && missing == 0 {
        if within_tolerance(ratio, cfg) {
            return Ok(result(
                current,
                ratio,
                format!(
                    "within tolerance (ratio {ratio:.2}, band {:.2}–{:.2}): keep {current}",
                    1.0 - cfg.tolerance_down,
                    1.0 + cfg.tolerance_up
                ),
            ));
        }
        let replicas = ceil_count(ratio, ready_count);
        return Ok(result(
            replicas,
            ratio,
            format!(
                "ceil({} × {} / {tgt}) = {replicas}",
                plural(ready_count, "ready pod"),
                fmt_value(shown)
            ),
        ));
    }

    // Rebalance: put values on the pods that were set aside and recompute.
    let mut samples = ready_samples.clone();
    let mut notes: Vec<String> = Vec::new();
    let zero = match target {
        Target::Utilization(_) => "0 %",
        Target::Average(_) => "0",
    };
    if missing > 0 {
        let missing_requests = groups
            .iter()
            .zip(&requests)
            .filter(|(g, _)| **g == Group::Missing)
            .map(|(_, &r)| r);
        if ratio < 1.0 {
            match target {
                Target::Utilization(t) => {
                    let fallback = t.max(100.0);
                    samples.extend(missing_requests.map(|r| (r * fallback / 100.0, r)));
                    notes.push(format!(
                        "{} assumed at {} % of request",
                        plural(missing, "missing pod"),
                        num(fallback)
                    ));
                }
                Target::Average(t) => {
                    samples.extend(missing_requests.map(|r| (t, r)));
                    notes.push(format!(
                        "{} assumed at the target {tgt}",
                        plural(missing, "missing pod")
                    ));
                }
            }
        } else if ratio > 1.0 {
            samples.extend(missing_requests.map(|r| (0.0, r)));
            notes.push(format!(
                "{} assumed at {zero}",
                plural(missing, "missing pod")
            ));
        } else {
            notes.push(format!("{} left out", plural(missing, "missing pod")));
        }
    }
    if scale_up_with_unready {
        samples.extend(
            groups
                .iter()
                .zip(&requests)
                .filter(|(g, _)| **g == Group::Unready)
                .map(|(_, &r)| (0.0, r)),
        );
        notes.push(format!(
            "{} counted at {zero}",
            plural(unready, "unready pod")
        ));
    }
    let notes = notes.join("; ");
    let (new_ratio, new_shown) = usage_ratio(&samples, target)?;

    if within_tolerance(new_ratio, cfg) {
        return Ok(result(
            current,
            new_ratio,
            format!(
                "within tolerance after rebalancing (ratio {ratio:.2} → {new_ratio:.2}; {notes}): keep {current}"
            ),
        ));
    }
    if (ratio < 1.0 && new_ratio > 1.0) || (ratio > 1.0 && new_ratio < 1.0) {
        return Ok(result(
            current,
            new_ratio,
            format!(
                "rebalancing turns the direction (ratio {ratio:.2} → {new_ratio:.2}; {notes}): keep {current}"
            ),
        ));
    }
    let replicas = ceil_count(new_ratio, samples.len());
    let formula = format!(
        "ceil({} × {} / {tgt}) = {replicas}",
        plural(samples.len(), "pod"),
        fmt_value(new_shown)
    );
    if (new_ratio < 1.0 && replicas > current) || (new_ratio > 1.0 && replicas < current) {
        return Ok(result(
            current,
            new_ratio,
            format!("{formula} would move against the ratio ({notes}): keep {current}"),
        ));
    }
    Ok(result(replicas, new_ratio, format!("{formula} ({notes})")))
}

// ---------------------------------------------------------------------------
// Several metrics
// ---------------------------------------------------------------------------

/// The largest recommendation over several metrics, with the controller's rule
/// for invalid metrics (computeReplicasForMetrics: if some metric errors and the
/// valid ones would scale down, do not scale; if all error, error).
///
/// Returns the winning count and the index of the metric that gave it.
/// Follows `computeReplicasForMetrics` (kubernetes/kubernetes
/// `horizontal.go` @003e86297d18): a valid proposal replaces the running one
/// when that is still 0 or the proposal is larger; the call fails when every
/// metric failed (an empty list included) or when some failed and the valid
/// ones would go below `current_replicas`.
pub fn replicas_for_metrics(
    current_replicas: u32,
    results: &[Result<ReplicaCalc, CalcError>],
) -> Result<(u32, usize), String> {
    if results.is_empty() {
        return Err("no metrics to compute a replica count from".to_string());
    }
    let mut replicas = 0u32;
    let mut winner: Option<usize> = None;
    let mut invalid = 0usize;
    let mut first_error: Option<&CalcError> = None;
    for (i, r) in results.iter().enumerate() {
        match r {
            Ok(calc) => {
                if replicas == 0 || calc.replicas > replicas {
                    replicas = calc.replicas;
                    winner = Some(i);
                }
            }
            Err(e) => {
                invalid += 1;
                first_error.get_or_insert(e);
            }
        }
    }
    let describe = || {
        format!(
            "invalid metrics ({invalid} invalid out of {}), first error is: {}",
            results.len(),
            first_error.map(|e| e.to_string()).unwrap_or_default()
        )
    };
    match winner {
        Some(i) if !(invalid > 0 && replicas < current_replicas) => Ok((replicas, i)),
        Some(_) => Err(format!("{} (the valid ones would scale down)", describe())),
        None => Err(describe()),
    }
}

// ---------------------------------------------------------------------------
// Behaviour
// ---------------------------------------------------------------------------

/// `selectPolicy`: which policy's limit applies when several are given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SelectPolicy {
    /// The policy allowing the largest change (the default).
    Max,
    /// The policy allowing the smallest change.
    Min,
    /// No scaling in this direction at all.
    Disabled,
}

/// What a policy's value counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PolicyKind {
    /// An absolute number of pods per period.
    Pods,
    /// A percentage of the replica count at the start of the period.
    Percent,
}

/// One `HPAScalingPolicy`: at most `value` pods or percent per `period`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Policy {
    /// Pods or Percent.
    pub kind: PolicyKind,
    /// The number of pods, or the percentage.
    pub value: u32,
    /// `periodSeconds`: the sliding window the change is counted over.
    pub period: SimTime,
}

/// `HPAScalingRules` for one direction.
#[derive(Debug, Clone, PartialEq)]
pub struct Rules {
    /// `stabilizationWindowSeconds`.
    pub stabilization_window: SimTime,
    /// `selectPolicy`.
    pub select_policy: SelectPolicy,
    /// `policies`.
    pub policies: Vec<Policy>,
    /// `tolerance` (HPAConfigurableTolerance): overrides the cluster-wide
    /// tolerance for this direction; applied by [`CalcConfig::with_behavior`].
    pub tolerance: Option<f64>,
}

/// `spec.behavior`: the rules for each direction.
#[derive(Debug, Clone, PartialEq)]
pub struct Behavior {
    /// `scaleUp`.
    pub scale_up: Rules,
    /// `scaleDown`.
    pub scale_down: Rules,
}

impl Behavior {
    /// autoscaling/v2 defaults (defaults.go): up: no stabilization, Percent 100/15 s and Pods 4/15 s, Max;
    /// down: stabilization `downscale_stabilization` (flag default 300 s), Percent 100/15 s, Max.
    ///
    /// Source: `defaultHPAScaleUpRules` / `defaultHPAScaleDownRules` in
    /// kubernetes/kubernetes `pkg/apis/autoscaling/v2/defaults.go`
    /// @1adaa7534575; the scale-down window is left unset there and filled
    /// from `--horizontal-pod-autoscaler-downscale-stabilization` by
    /// `maybeInitScaleDownStabilizationWindow` (`horizontal.go`
    /// @003e86297d18). These defaults fill the gaps of a behaviour the user
    /// wrote; an HPA with no `spec.behavior` at all takes the legacy path,
    /// [`normalize_without_behavior`].
    pub fn kubernetes_default(downscale_stabilization: SimTime) -> Behavior {
        Behavior {
            scale_up: Rules {
                stabilization_window: 0,
                select_policy: SelectPolicy::Max,
                policies: vec![
                    Policy {
                        kind: PolicyKind::Pods,
                        value: 4,
                        period: 15 * SECOND,
                    },
                    Policy {
                        kind: PolicyKind::Percent,
                        value: 100,
                        period: 15 * SECOND,
                    },
                ],
                tolerance: None,
            },
            scale_down: Rules {
                stabilization_window: downscale_stabilization,
                select_policy: SelectPolicy::Max,
                policies: vec![Policy {
                    kind: PolicyKind::Percent,
                    value: 100,
                    period: 15 * SECOND,
                }],
                tolerance: None,
            },
        }
    }
}

/// One stored scale event (`timestampedScaleEvent`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScaleEvent {
    /// When the target was rescaled.
    pub at: SimTime,
    /// How many replicas were added (scale-up list) or removed (scale-down list).
    pub change: u32,
    /// Older than the direction's longest policy period when last checked;
    /// the next event of that direction reuses its slot.
    pub outdated: bool,
}

/// What the controller remembers between syncs: past recommendations (for stabilization)
/// and past scale events per direction (for the rate policies).
///
/// Recommendations older than every window are dropped when a new one is
/// recorded (the controller overwrites one of them; the rest are never read
/// again while the windows stay the same). Scale events are kept the way
/// `storeScaleEvent` keeps them, outdated flag and slot reuse included,
/// because an outdated event still counts for the other direction's policy
/// periods until its slot is reused.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct History {
    /// Unstabilized recommendations: (when, replicas).
    pub recommendations: Vec<(SimTime, u32)>,
    /// Past scale-ups.
    pub scale_up_events: Vec<ScaleEvent>,
    /// Past scale-downs.
    pub scale_down_events: Vec<ScaleEvent>,
}

impl History {
    /// `recordInitialRecommendation` (kubernetes/kubernetes `horizontal.go`
    /// @003e86297d18): on the first sync of an HPA the current replica count
    /// is stored as a recommendation, so a freshly created HPA does not scale
    /// down within its scale-down stabilization window. Does nothing once any
    /// recommendation is stored. [`desired_replicas`] calls it.
    pub fn record_initial(&mut self, current_replicas: u32, now: SimTime) {
        if self.recommendations.is_empty() {
            self.recommendations.push((now, current_replicas));
        }
    }
}

/// The outcome of normalizing a recommendation.
#[derive(Debug, Clone, PartialEq)]
pub struct Normalized {
    /// The replica count to scale to.
    pub desired: u32,
    /// The recommendation after stabilization, before the rate limits.
    pub stabilized: u32,
    /// Condition reason as the controller sets it: "ScaleUpStabilized", "ScaleDownStabilized",
    /// "ScaleUpLimit", "ScaleDownLimit", "TooFewReplicas", "TooManyReplicas", "DesiredWithinRange", ...
    ///
    /// The controller sets two conditions; this is the ScalingLimited reason
    /// when a limit changed the count, else the AbleToScale reason when
    /// stabilization did, else "DesiredWithinRange".
    pub reason: &'static str,
    /// Human text, e.g. "limited by the scale-up policy (max of 100 % and 4 pods per 15 s) to 8".
    pub message: String,
}

fn secs(t: SimTime) -> String {
    if t.is_multiple_of(SECOND) {
        format!("{} s", t / SECOND)
    } else {
        format!("{:.3} s", t as f64 / SECOND as f64)
    }
}

fn describe_rules(rules: &Rules) -> String {
    let one = |p: &Policy| match p.kind {
        PolicyKind::Pods => format!("{} per {}", plural(p.value as usize, "pod"), secs(p.period)),
        PolicyKind::Percent => format!("{} % per {}", p.value, secs(p.period)),
    };
    let list: Vec<String> = rules.policies.iter().map(one).collect();
    match (rules.select_policy, list.len()) {
        (SelectPolicy::Disabled, _) => "disabled".to_string(),
        (_, 0) => "no policies".to_string(),
        (_, 1) => list.join(""),
        (SelectPolicy::Max, _) => format!("max of {}", list.join(" and ")),
        (SelectPolicy::Min, _) => format!("min of {}", list.join(" and ")),
    }
}

/// `getReplicasChangePerPeriod`: the changes of events newer than `period`
/// (strictly: `at > now - period`).
fn change_in_period(events: &[ScaleEvent], period: SimTime, now: SimTime) -> i64 {
    events
        .iter()
        .filter(|e| e.at.saturating_add(period) > now)
        .map(|e| i64::from(e.change))
        .sum()
}

/// `calculateScaleUpLimitWithScalingRules` (kubernetes/kubernetes
/// `horizontal.go` @003e86297d18): for each policy, the replica count at the
/// start of its period (current − added + removed within it) plus the
/// policy's allowance (Pods: + value; Percent: ceil(start × (1 + value/100)),
/// the same float expression as the Go); Max takes the largest, Min the
/// smallest; Disabled returns the current count.
fn scale_up_limit(current: u32, history: &History, rules: &Rules, now: SimTime) -> i64 {
    let (mut result, pick): (i64, fn(i64, i64) -> i64) = match rules.select_policy {
        SelectPolicy::Disabled => return i64::from(current),
        SelectPolicy::Min => (i64::from(i32::MAX), i64::min),
        SelectPolicy::Max => (i64::from(i32::MIN), i64::max),
    };
    for p in &rules.policies {
        let added = change_in_period(&history.scale_up_events, p.period, now);
        let removed = change_in_period(&history.scale_down_events, p.period, now);
        let start = i64::from(current) - added + removed;
        let proposed = match p.kind {
            PolicyKind::Pods => start + i64::from(p.value),
            PolicyKind::Percent => {
                (start as f64 * (1.0 + f64::from(p.value) / 100.0)).ceil() as i64
            }
        };
        result = pick(result, proposed);
    }
    result
}

/// `calculateScaleDownLimitWithBehaviors` (kubernetes/kubernetes
/// `horizontal.go` @003e86297d18): per policy, start − value (Pods) or
/// `int32(start × (1 − value/100))` (Percent, truncated toward zero); Max
/// (the most change) takes the smallest, Min the largest; Disabled returns
/// the current count.
fn scale_down_limit(current: u32, history: &History, rules: &Rules, now: SimTime) -> i64 {
    let (mut result, pick): (i64, fn(i64, i64) -> i64) = match rules.select_policy {
        SelectPolicy::Disabled => return i64::from(current),
        SelectPolicy::Min => (i64::from(i32::MIN), i64::max),
        SelectPolicy::Max => (i64::from(i32::MAX), i64::min),
    };
    for p in &rules.policies {
        let added = change_in_period(&history.scale_up_events, p.period, now);
        let removed = change_in_period(&history.scale_down_events, p.period, now);
        let start = i64::from(current) - added + removed;
        let proposed = match p.kind {
            PolicyKind::Pods => start - i64::from(p.value),
            PolicyKind::Percent => (start as f64 * (1.0 - f64::from(p.value) / 100.0)) as i64,
        };
        result = pick(result, proposed);
    }
    result
}

fn to_u32(x: i64) -> u32 {
    x.clamp(0, i64::from(u32::MAX)) as u32
}

/// Clamp to [min, max] for callers whose current count is already outside it
/// (the controller never normalizes then; [`desired_replicas`] handles it
/// first). Returns the reason and message when it changed the count.
fn final_clamp(desired: u32, min: u32, max: u32) -> Option<(u32, &'static str, String)> {
    if desired > max {
        Some((
            max,
            "TooManyReplicas",
            format!("capped at maxReplicas {max}"),
        ))
    } else if desired < min {
        Some((
            min,
            "TooFewReplicas",
            format!("raised to minReplicas {min}"),
        ))
    } else {
        None
    }
}

fn combine(stab: Option<String>, limit: Option<String>, fallback: String) -> String {
    match (stab, limit) {
        (Some(s), Some(l)) => format!("{s}; {l}"),
        (Some(s), None) => s,
        (None, Some(l)) => l,
        (None, None) => fallback,
    }
}

/// normalizeDesiredReplicasWithBehaviors: records the recommendation, stabilizes it over the
/// windows, applies the scale-up/scale-down rate policies (with select policy, Disabled),
/// then min/max. Mutates `history` (recommendations older than the longest window are dropped).
///
/// Rules (kubernetes/kubernetes `horizontal.go` @003e86297d18):
/// - `stabilizeRecommendationWithBehaviors`: the up limit is the lowest
///   recommendation newer than the scale-up window (`at > now − window`,
///   today's included), the down limit the highest newer than the
///   scale-down window; the current count is raised to the up limit and
///   then lowered to the down limit. So a scale-up needs every recent
///   recommendation to be above the current count, and a scale-down every
///   recent one below it.
/// - `convertDesiredReplicasWithBehaviorRate`: going up, the limit from
///   the scale-up policies (never below the current count) or maxReplicas,
///   whichever is lower ("ScaleUpLimit" / "TooManyReplicas"); going down,
///   the scale-down policies' limit (never above the current count) or
///   minReplicas, whichever is higher ("ScaleDownLimit" /
///   "TooFewReplicas"). Min and max are only applied in the direction of
///   travel, as in the controller; a final clamp to [min, max] covers
///   callers whose current count is outside the range (`desired_replicas`
///   never passes one). If `min_replicas > max_replicas` (which API
///   validation forbids) max is taken as min.
pub fn normalize(
    history: &mut History,
    behavior: &Behavior,
    current_replicas: u32,
    prenormalized: u32,
    min_replicas: u32,
    max_replicas: u32,
    now: SimTime,
) -> Normalized {
    let max_replicas = max_replicas.max(min_replicas);
    let up = &behavior.scale_up;
    let down = &behavior.scale_down;

    // Stabilize.
    let mut up_rec = prenormalized;
    let mut down_rec = prenormalized;
    for &(at, rec) in &history.recommendations {
        if at.saturating_add(up.stabilization_window) > now {
            up_rec = up_rec.min(rec);
        }
        if at.saturating_add(down.stabilization_window) > now {
            down_rec = down_rec.max(rec);
        }
    }
    let mut stabilized = current_replicas;
    if stabilized < up_rec {
        stabilized = up_rec;
    }
    if stabilized > down_rec {
        stabilized = down_rec;
    }
    let longest = up.stabilization_window.max(down.stabilization_window);
    history
        .recommendations
        .retain(|&(at, _)| at.saturating_add(longest) >= now);
    history.recommendations.push((now, prenormalized));

    let mut reason = "DesiredWithinRange";
    let stab_msg = (stabilized != prenormalized).then(|| {
        if prenormalized >= current_replicas {
            reason = "ScaleUpStabilized";
            format!(
                "scale-up stabilized over {}: lowest recent recommendation {stabilized} (metrics want {prenormalized})",
                secs(up.stabilization_window)
            )
        } else {
            reason = "ScaleDownStabilized";
            format!(
                "scale-down stabilized over {}: highest recent recommendation {stabilized} (metrics want {prenormalized})",
                secs(down.stabilization_window)
            )
        }
    });

    // Rate limits, then the range in the direction of travel.
    let mut desired = stabilized;
    let mut limit_msg: Option<String> = None;
    if stabilized > current_replicas {
        let limit =
            scale_up_limit(current_replicas, history, up, now).max(i64::from(current_replicas));
        let (allowed, why, text) = if i64::from(max_replicas) > limit {
            (
                to_u32(limit),
                "ScaleUpLimit",
                format!("limited by the scale-up policy ({})", describe_rules(up)),
            )
        } else {
            (
                max_replicas,
                "TooManyReplicas",
                "capped at maxReplicas".to_string(),
            )
        };
        if stabilized > allowed {
            desired = allowed;
            reason = why;
            limit_msg = Some(format!("{text} to {allowed}"));
        }
    } else if stabilized < current_replicas {
        let limit =
            scale_down_limit(current_replicas, history, down, now).min(i64::from(current_replicas));
        let (allowed, why, text) = if i64::from(min_replicas) < limit {
            (
                to_u32(limit),
                "ScaleDownLimit",
                format!(
                    "limited by the scale-down policy ({})",
                    describe_rules(down)
                ),
            )
        } else {
            (
                min_replicas,
                "TooFewReplicas",
                "raised to minReplicas".to_string(),
            )
        };
        if stabilized < allowed {
            desired = allowed;
            reason = why;
            limit_msg = Some(format!("{text} to {allowed}"));
        }
    }
    if let Some((d, why, text)) = final_clamp(desired, min_replicas, max_replicas) {
        desired = d;
        reason = why;
        limit_msg = Some(text);
    }

    let message = combine(
        stab_msg,
        limit_msg,
        format!("recommendation {desired} (current {current_replicas}) is within range"),
    );
    Normalized {
        desired,
        stabilized,
        reason,
        message,
    }
}

/// `normalizeDesiredReplicas`: what an HPA *without* `spec.behavior` gets
/// (autoscaling/v2 defaulting leaves a missing behaviour nil, and the
/// controller then takes this older path).
///
/// Rules (kubernetes/kubernetes `horizontal.go` @003e86297d18,
/// `stabilizeRecommendation` and `convertDesiredReplicasWithRules`):
/// - the recommendation is raised to the highest one recorded within
///   `downscale_stabilization` (`at ≥ now − window`); no scale-up
///   stabilization;
/// - a scale-up is capped at `max(2 × current, 4)` per sync, with no memory
///   of earlier scale events ("ScaleUpLimit"), and at maxReplicas
///   ("TooManyReplicas");
/// - anything below minReplicas is raised to it ("TooFewReplicas").
///
/// Compare [`Behavior::kubernetes_default`]: from 1 replica this path allows
/// 4, the defaulted behaviour 5; from 3, 6 against 7.
pub fn normalize_without_behavior(
    history: &mut History,
    current_replicas: u32,
    prenormalized: u32,
    min_replicas: u32,
    max_replicas: u32,
    downscale_stabilization: SimTime,
    now: SimTime,
) -> Normalized {
    let max_replicas = max_replicas.max(min_replicas);
    let mut stabilized = prenormalized;
    for &(at, rec) in &history.recommendations {
        if at.saturating_add(downscale_stabilization) >= now {
            stabilized = stabilized.max(rec);
        }
    }
    history
        .recommendations
        .retain(|&(at, _)| at.saturating_add(downscale_stabilization) >= now);
    history.recommendations.push((now, prenormalized));

    let mut reason = "DesiredWithinRange";
    let stab_msg = (stabilized != prenormalized).then(|| {
        reason = "ScaleDownStabilized";
        format!(
            "scale-down stabilized over {}: highest recent recommendation {stabilized} (metrics want {prenormalized})",
            secs(downscale_stabilization)
        )
    });

    let scale_up_limit = (2.0 * f64::from(current_replicas)).max(4.0) as i64;
    let (max_allowed, why_max, text_max) = if i64::from(max_replicas) > scale_up_limit {
        (
            to_u32(scale_up_limit),
            "ScaleUpLimit",
            "limited by the scale-up rate (max of 2× and 4 pods per sync)".to_string(),
        )
    } else {
        (
            max_replicas,
            "TooManyReplicas",
            "capped at maxReplicas".to_string(),
        )
    };
    let mut desired = stabilized;
    let mut limit_msg = None;
    if stabilized < min_replicas {
        desired = min_replicas;
        reason = "TooFewReplicas";
        limit_msg = Some(format!("raised to minReplicas {min_replicas}"));
    } else if stabilized > max_allowed {
        desired = max_allowed;
        reason = why_max;
        limit_msg = Some(format!("{text_max} to {max_allowed}"));
    }
    let message = combine(
        stab_msg,
        limit_msg,
        format!("recommendation {desired} (current {current_replicas}) is within range"),
    );
    Normalized {
        desired,
        stabilized,
        reason,
        message,
    }
}

/// storeScaleEvent: after the target was actually rescaled from `old` to `new` at `now`
/// (drops events older than the longest policy period of that direction).
///
/// As `storeScaleEvent` does it (kubernetes/kubernetes `horizontal.go`
/// @003e86297d18): events of that direction older than its longest policy
/// period are marked outdated (`at < now − period`), and the new event takes
/// the slot of the last outdated one, or is appended if there is none. So the
/// list never holds more than one outdated slot's worth of stale events per
/// new event; an outdated event is really gone only once reused. Call it only
/// for an HPA with a behaviour: the controller stores no events for one
/// without. `old == new` records nothing.
pub fn record_scale(history: &mut History, behavior: &Behavior, old: u32, new: u32, now: SimTime) {
    fn store(events: &mut Vec<ScaleEvent>, rules: &Rules, change: u32, now: SimTime) {
        let longest = rules.policies.iter().map(|p| p.period).max().unwrap_or(0);
        for e in events.iter_mut() {
            if e.at.saturating_add(longest) < now {
                e.outdated = true;
            }
        }
        let event = ScaleEvent {
            at: now,
            change,
            outdated: false,
        };
        match events.iter_mut().rev().find(|e| e.outdated) {
            Some(slot) => *slot = event,
            None => events.push(event),
        }
    }
    if new > old {
        store(
            &mut history.scale_up_events,
            &behavior.scale_up,
            new - old,
            now,
        );
    } else if new < old {
        store(
            &mut history.scale_down_events,
            &behavior.scale_down,
            old - new,
            now,
        );
    }
}

// ---------------------------------------------------------------------------
// The outer rules
// ---------------------------------------------------------------------------

/// The HPA spec fields and the controller flag the outer rules need.
#[derive(Debug, Clone, PartialEq)]
pub struct ScalingSpec {
    /// `spec.minReplicas` (the API defaults it to 1).
    pub min_replicas: u32,
    /// `spec.maxReplicas`.
    pub max_replicas: u32,
    /// `spec.behavior`, fully filled in (see [`Behavior::kubernetes_default`]),
    /// or `None` when the HPA has none: then [`normalize_without_behavior`]
    /// applies.
    pub behavior: Option<Behavior>,
    /// `--horizontal-pod-autoscaler-downscale-stabilization` (default 5 min):
    /// the window of the behaviour-less path.
    pub downscale_stabilization: SimTime,
}

/// One reconciliation's decision.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    /// The replica count the target should have after this sync.
    pub desired: u32,
    /// `desired != current` and scaling is not disabled: the caller rescales,
    /// then calls [`record_scale`] (when the HPA has a behaviour).
    pub rescale: bool,
    /// "ScalingDisabled", "AboveMaxReplicas", "BelowMinReplicas",
    /// "FailedComputeMetricsReplicas", or the [`Normalized::reason`].
    pub reason: &'static str,
    /// Human text for a decision log.
    pub message: String,
    /// What the metrics recommended before normalization, when they were used.
    pub recommendation: Option<u32>,
    /// Index (into the metrics passed in) of the metric that won.
    pub metric_index: Option<usize>,
    /// The normalization, when it ran.
    pub normalized: Option<Normalized>,
}

/// reconcileAutoscaler's outer rules: current 0 with min > 0 → autoscaling disabled (keep 0);
/// current above max → max; below min → min; otherwise the metrics' recommendation normalized with behaviour.
///
/// Follows `reconcileAutoscaler` (kubernetes/kubernetes `horizontal.go`
/// @003e86297d18): [`History::record_initial`] first, whatever the branch;
/// then the branches above in that order. When the metrics cannot give a
/// count ([`replicas_for_metrics`] fails) the target is left as it is
/// ("FailedComputeMetricsReplicas") and nothing is recorded. `metrics` are
/// each metric's calculation, made with the tolerances of
/// [`CalcConfig::with_behavior`]. This function does not call
/// [`record_scale`]: the caller does once the rescale is applied.
pub fn desired_replicas(
    history: &mut History,
    spec: &ScalingSpec,
    current_replicas: u32,
    metrics: &[Result<ReplicaCalc, CalcError>],
    now: SimTime,
) -> Decision {
    history.record_initial(current_replicas, now);
    let min = spec.min_replicas;
    let max = spec.max_replicas.max(min);
    let plain = |desired: u32, reason: &'static str, message: String| Decision {
        desired,
        rescale: desired != current_replicas,
        reason,
        message,
        recommendation: None,
        metric_index: None,
        normalized: None,
    };
    if current_replicas == 0 && min != 0 {
        return Decision {
            rescale: false,
            ..plain(
                0,
                "ScalingDisabled",
                "scaling is disabled since the replica count of the target is zero".to_string(),
            )
        };
    }
    if current_replicas > max {
        return plain(
            max,
            "AboveMaxReplicas",
            format!("current replicas {current_replicas} above maxReplicas {max}: scale to {max}"),
        );
    }
    if current_replicas < min {
        return plain(
            min,
            "BelowMinReplicas",
            format!("current replicas {current_replicas} below minReplicas {min}: scale to {min}"),
        );
    }
    let (recommendation, index) = match replicas_for_metrics(current_replicas, metrics) {
        Ok(found) => found,
        Err(e) => {
            return Decision {
                rescale: false,
                ..plain(current_replicas, "FailedComputeMetricsReplicas", e)
            };
        }
    };
    let normalized = match &spec.behavior {
        Some(b) => normalize(history, b, current_replicas, recommendation, min, max, now),
        None => normalize_without_behavior(
            history,
            current_replicas,
            recommendation,
            min,
            max,
            spec.downscale_stabilization,
            now,
        ),
    };
    let invalid = metrics.iter().filter(|m| m.is_err()).count();
    let mut message = match metrics.get(index) {
        Some(Ok(calc)) => format!(
            "metric {index}: {}; {}",
            calc.explanation, normalized.message
        ),
        _ => normalized.message.clone(),
    };
    if invalid > 0 {
        message.push_str(&format!(
            " ({invalid} of {} metrics invalid; scaling on the others)",
            metrics.len()
        ));
    }
    Decision {
        desired: normalized.desired,
        rescale: normalized.desired != current_replicas,
        reason: normalized.reason,
        message,
        recommendation: Some(recommendation),
        metric_index: Some(index),
        normalized: Some(normalized),
    }
}

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use super::*;

    /// Three hours into the run: far past every start time, window and period.
    const NOW: SimTime = 180 * MINUTE;

    fn s(n: u64) -> SimTime {
        n * SECOND
    }

    /// A Running pod, started at 0, Ready since 10 s, sampled at NOW over 60 s.
    fn pod(id: u32, request: f64, value: f64) -> PodInfo {
        PodInfo {
            id,
            phase: PodPhase::Running,
            deleting: false,
            ready: Some(ReadyCondition {
                ready: true,
                last_transition: s(10),
            }),
            start_time: Some(0),
            request: Some(request),
            metric: Some(MetricSample {
                value,
                timestamp: NOW,
                window: s(60),
            }),
        }
    }

    /// Not Ready since start: never been ready.
    fn never_ready(mut p: PodInfo) -> PodInfo {
        p.ready = Some(ReadyCondition {
            ready: false,
            last_transition: 0,
        });
        p
    }

    fn unsampled(mut p: PodInfo) -> PodInfo {
        p.metric = None;
        p
    }

    fn cfg() -> CalcConfig {
        CalcConfig::default()
    }

    fn cpu(current: u32, target: f64, pods: &[PodInfo]) -> ReplicaCalc {
        match resource_utilization_replicas(current, target, ResourceName::Cpu, pods, NOW, &cfg()) {
            Ok(c) => c,
            Err(e) => panic!("unexpected error: {e}"),
        }
    }

    fn ok_calc(replicas: u32) -> Result<ReplicaCalc, CalcError> {
        Ok(ReplicaCalc {
            replicas,
            utilization: None,
            raw_average: 0.0,
            ready: 1,
            unready: 0,
            missing: 0,
            ignored: 0,
            ratio: 1.0,
            explanation: format!("test recommendation {replicas}"),
        })
    }

    fn rules(policies: &[(PolicyKind, u32, u64)], select: SelectPolicy, window: u64) -> Rules {
        Rules {
            stabilization_window: s(window),
            select_policy: select,
            policies: policies
                .iter()
                .map(|&(kind, value, period)| Policy {
                    kind,
                    value,
                    period: s(period),
                })
                .collect(),
            tolerance: None,
        }
    }

    fn with_up(up: Rules) -> Behavior {
        Behavior {
            scale_up: up,
            ..Behavior::kubernetes_default(0)
        }
    }

    fn with_down(down: Rules) -> Behavior {
        Behavior {
            scale_down: down,
            ..Behavior::kubernetes_default(0)
        }
    }

    fn events(list: &[(u64, u32)]) -> Vec<ScaleEvent> {
        list.iter()
            .map(|&(ago, change)| ScaleEvent {
                at: NOW - s(ago),
                change,
                outdated: false,
            })
            .collect()
    }

    // ----- calculator: CPU utilization -----

    #[test]
    fn cpu_scale_up() {
        // TestReplicaCalcScaleUp: 600+1000+1400 of 3×2000 = 50 %; 50/30 = 1.667;
        // ceil(3 × 1.667) = 5.
        let pods = [
            pod(0, 2000.0, 600.0),
            pod(1, 2000.0, 1000.0),
            pod(2, 2000.0, 1400.0),
        ];
        let c = cpu(3, 30.0, &pods);
        assert_eq!(c.replicas, 5);
        assert_eq!(c.utilization, Some(50.0));
        assert_eq!(c.raw_average, 1000.0);
        assert_eq!(c.explanation, "ceil(3 ready pods × 50 % / 30 %) = 5");
    }

    #[test]
    fn cpu_scale_down() {
        // TestReplicaCalcScaleDown: 2800 of 10000 = 28 %; 28/50 = 0.56; ceil(5 × 0.56) = 3.
        let pods: Vec<PodInfo> = [200.0, 600.0, 1000.0, 500.0, 500.0]
            .iter()
            .enumerate()
            .map(|(i, &v)| pod(i as u32, 2000.0, v))
            .collect();
        let c = cpu(5, 50.0, &pods);
        assert_eq!(c.replicas, 3);
        assert_eq!(c.utilization, Some(28.0));
    }

    #[test]
    fn cpu_within_tolerance_keeps_current() {
        // TestReplicaCalcTolerance: 6120 of 6000 = 102 %; ratio 1.02 within 0.9–1.1: keep 3.
        let pods = [
            pod(0, 1800.0, 2020.0),
            pod(1, 2000.0, 2060.0),
            pod(2, 2200.0, 2040.0),
        ];
        let c = cpu(3, 100.0, &pods);
        assert_eq!(c.replicas, 3);
        assert_eq!(c.utilization, Some(102.0));
        assert!(
            c.explanation.starts_with("within tolerance (ratio 1.02"),
            "{}",
            c.explanation
        );
        assert!(c.explanation.ends_with("keep 3"), "{}", c.explanation);
    }

    #[test]
    fn tolerance_edge_exactly_plus_ten_percent_keeps() {
        // 4 × 550 of 4 × 1000 = 55 %; 55/50 = 1.10 = 1 + 0.1: inside (≤): keep 4.
        let pods: Vec<PodInfo> = (0..4).map(|i| pod(i, 1000.0, 550.0)).collect();
        assert_eq!(cpu(4, 50.0, &pods).replicas, 4);
    }

    #[test]
    fn just_above_tolerance_scales_up() {
        // 56 %: 56/50 = 1.12 > 1.1; ceil(4 × 1.12) = ceil(4.48) = 5.
        let pods: Vec<PodInfo> = (0..4).map(|i| pod(i, 1000.0, 560.0)).collect();
        assert_eq!(cpu(4, 50.0, &pods).replicas, 5);
    }

    #[test]
    fn tolerance_edge_exactly_minus_ten_percent_keeps() {
        // 45 %: 45/50 = 0.90 = 1 − 0.1: inside (≥): keep 4.
        let pods: Vec<PodInfo> = (0..4).map(|i| pod(i, 1000.0, 450.0)).collect();
        assert_eq!(cpu(4, 50.0, &pods).replicas, 4);
    }

    #[test]
    fn just_below_tolerance_scales_down() {
        // 44 %: 0.88 < 0.9; ceil(10 × 0.88) = ceil(8.8) = 9.
        let pods: Vec<PodInfo> = (0..10).map(|i| pod(i, 1000.0, 440.0)).collect();
        assert_eq!(cpu(10, 50.0, &pods).replicas, 9);
    }

    #[test]
    fn utilization_is_truncated_to_whole_percent() {
        // 3 × 1109 of 3 × 1000 = 110.9 % → 110 % (int32 arithmetic); 110/100 = 1.10:
        // within tolerance, keep 3. Untruncated, 1.109 would give ceil(3.327) = 4.
        let pods: Vec<PodInfo> = (0..3).map(|i| pod(i, 1000.0, 1109.0)).collect();
        let c = cpu(3, 100.0, &pods);
        assert_eq!(c.utilization, Some(110.0));
        assert_eq!(c.replicas, 3);
    }

    #[test]
    fn unready_pod_counts_zero_on_scale_up() {
        // TestReplicaCalcScaleUpUnreadyLessScale: ready 1000+1400 of 4000 = 60 %, ratio 2.0;
        // the never-ready pod counts at 0: 2400 of 6000 = 40 %, 40/30 = 1.333;
        // ceil(3 × 1.333) = 4.
        let pods = [
            never_ready(pod(0, 2000.0, 600.0)),
            pod(1, 2000.0, 1000.0),
            pod(2, 2000.0, 1400.0),
        ];
        let c = cpu(3, 30.0, &pods);
        assert_eq!(c.replicas, 4);
        assert_eq!(c.utilization, Some(60.0));
        assert_eq!((c.ready, c.unready, c.missing, c.ignored), (2, 1, 0, 0));
        assert!(
            c.explanation.contains("1 unready pod counted at 0 %"),
            "{}",
            c.explanation
        );
        assert!(
            c.explanation.starts_with("ceil(3 pods × 40 % / 30 %) = 4"),
            "{}",
            c.explanation
        );
    }

    #[test]
    fn unready_pods_reversing_direction_keep_current() {
        // TestReplicaCalcScaleUpUnreadyNoScale: ready 800 of 2000 = 40 %, ratio 1.33;
        // with two unready at 0: 800 of 6000 = 13 %, ratio 0.43 < 1: direction turns, keep 3.
        let pods = [
            pod(0, 2000.0, 800.0),
            never_ready(pod(1, 2000.0, 1000.0)),
            never_ready(pod(2, 2000.0, 1400.0)),
        ];
        let c = cpu(3, 30.0, &pods);
        assert_eq!(c.replicas, 3);
        assert!(
            c.explanation.starts_with("rebalancing turns the direction"),
            "{}",
            c.explanation
        );
    }

    #[test]
    fn pending_pods_are_left_out_of_a_scale_down() {
        // TestReplicaCalcScaleDownExcludeUnscheduledPods: one ready pod at 200 of 2000 = 10 %,
        // four Pending (unready); ratio 0.2 < 1, so unready pods are not counted:
        // ceil(1 × 0.2) = 1.
        let mut pods = vec![pod(0, 2000.0, 200.0)];
        for i in 1..5 {
            let mut p = unsampled(pod(i, 2000.0, 0.0));
            p.phase = PodPhase::Pending;
            pods.push(p);
        }
        let c = cpu(5, 50.0, &pods);
        assert_eq!(c.replicas, 1);
        assert_eq!(c.unready, 4);
    }

    #[test]
    fn initializing_pod_with_sample_from_before_readiness_is_unready() {
        // TestReplicaCalcScaleUpHotCpuLessScale: pod 0 started 1 min ago (inside the 5 min
        // initialization period), Ready 20 s ago, sample window 60 s ending now: the window
        // began before readiness, so it is unready. As in the unready case: 4.
        let mut hot = pod(0, 2000.0, 600.0);
        hot.start_time = Some(NOW - s(60));
        hot.ready = Some(ReadyCondition {
            ready: true,
            last_transition: NOW - s(20),
        });
        let pods = [hot, pod(1, 2000.0, 1000.0), pod(2, 2000.0, 1400.0)];
        let c = cpu(3, 30.0, &pods);
        assert_eq!(c.unready, 1);
        assert_eq!(c.replicas, 4);
    }

    #[test]
    fn initializing_pod_with_fresh_sample_counts() {
        // Ready 50 s ago, sample window 30 s ending now: the whole window is after readiness,
        // so the pod counts: 50 %, ceil(3 × 1.667) = 5.
        let mut p0 = pod(0, 2000.0, 600.0);
        p0.start_time = Some(NOW - s(60));
        p0.ready = Some(ReadyCondition {
            ready: true,
            last_transition: NOW - s(50),
        });
        p0.metric = Some(MetricSample {
            value: 600.0,
            timestamp: NOW,
            window: s(30),
        });
        let pods = [p0, pod(1, 2000.0, 1000.0), pod(2, 2000.0, 1400.0)];
        let c = cpu(3, 30.0, &pods);
        assert_eq!(c.unready, 0);
        assert_eq!(c.replicas, 5);
    }

    #[test]
    fn initializing_pod_not_ready_is_unready() {
        // Inside the initialization period and not Ready: unready → 4 as above.
        let mut p0 = pod(0, 2000.0, 600.0);
        p0.start_time = Some(NOW - s(60));
        p0.ready = Some(ReadyCondition {
            ready: false,
            last_transition: NOW - s(55),
        });
        let pods = [p0, pod(1, 2000.0, 1000.0), pod(2, 2000.0, 1400.0)];
        assert_eq!(cpu(3, 30.0, &pods).replicas, 4);
    }

    #[test]
    fn never_ready_after_initialization_is_unready() {
        // Started at 0 (past the period), not Ready, last transition at 20 s < 0 + 30 s
        // delay: it has never been ready → unready → 4.
        let mut p0 = pod(0, 2000.0, 600.0);
        p0.ready = Some(ReadyCondition {
            ready: false,
            last_transition: s(20),
        });
        let pods = [p0, pod(1, 2000.0, 1000.0), pod(2, 2000.0, 1400.0)];
        let c = cpu(3, 30.0, &pods);
        assert_eq!(c.unready, 1);
        assert_eq!(c.replicas, 4);
    }

    #[test]
    fn pod_that_became_unready_later_still_counts() {
        // Not Ready, but the transition came at 10 min ≥ 0 + 30 s: it was ready once, so its
        // sample counts (the controller only sets aside never-ready pods after the
        // initialization period): 50 % → 5.
        let mut p0 = pod(0, 2000.0, 600.0);
        p0.ready = Some(ReadyCondition {
            ready: false,
            last_transition: 10 * MINUTE,
        });
        let pods = [p0, pod(1, 2000.0, 1000.0), pod(2, 2000.0, 1400.0)];
        let c = cpu(3, 30.0, &pods);
        assert_eq!(c.unready, 0);
        assert_eq!(c.replicas, 5);
    }

    #[test]
    fn cpu_pod_without_ready_condition_is_unready() {
        // groupPods: no Ready condition (or no start time) → unready for CPU → 4.
        let mut p0 = pod(0, 2000.0, 600.0);
        p0.ready = None;
        let pods = [p0, pod(1, 2000.0, 1000.0), pod(2, 2000.0, 1400.0)];
        assert_eq!(cpu(3, 30.0, &pods).replicas, 4);
    }

    #[test]
    fn deleting_pods_are_ignored() {
        // TestReplicaCalcScaleUpIgnoresDeletionPods: 1000+1400 of 4000 = 60 %, 60/30 = 2.0;
        // the two deleting pods are neither unready nor missing: ceil(2 × 2) = 4.
        let mut pods = vec![pod(0, 2000.0, 1000.0), pod(1, 2000.0, 1400.0)];
        for i in 2..4 {
            let mut p = unsampled(pod(i, 2000.0, 0.0));
            p.deleting = true;
            pods.push(p);
        }
        let c = cpu(2, 30.0, &pods);
        assert_eq!(c.replicas, 4);
        assert_eq!((c.ignored, c.missing), (2, 0));
    }

    #[test]
    fn failed_pods_are_ignored() {
        // TestReplicaCalcScaleUpIgnoresFailedPods: same numbers with Failed pods: 4.
        let mut pods = vec![pod(0, 2000.0, 1000.0), pod(1, 2000.0, 1400.0)];
        for i in 2..4 {
            let mut p = never_ready(unsampled(pod(i, 2000.0, 0.0)));
            p.phase = PodPhase::Failed;
            pods.push(p);
        }
        let c = cpu(2, 30.0, &pods);
        assert_eq!(c.replicas, 4);
        assert_eq!(c.ignored, 2);
    }

    #[test]
    fn missing_metrics_on_scale_down_assume_full_request() {
        // TestReplicaCalcMissingMetrics: 800+190 of 4000 = 24.75 → 24 %, ratio 0.24;
        // two missing pods at 100 % of request: 4990 of 8000 = 62.4 → 62 %, ratio 0.62;
        // ceil(4 × 0.62) = ceil(2.48) = 3.
        let pods = [
            pod(0, 2000.0, 800.0),
            pod(1, 2000.0, 190.0),
            unsampled(pod(2, 2000.0, 0.0)),
            unsampled(pod(3, 2000.0, 0.0)),
        ];
        let c = cpu(4, 100.0, &pods);
        assert_eq!(c.replicas, 3);
        assert_eq!(c.utilization, Some(24.0));
        assert_eq!(c.missing, 2);
        assert!(
            c.explanation
                .contains("2 missing pods assumed at 100 % of request"),
            "{}",
            c.explanation
        );
    }

    #[test]
    fn missing_metrics_on_scale_up_assume_zero() {
        // 900+900 of 2000 = 90 %, 90/50 = 1.8; the missing pod at 0: 1800 of 3000 = 60 %,
        // ratio 1.2; ceil(3 × 1.2) = ceil(3.6) = 4.
        let pods = [
            pod(0, 1000.0, 900.0),
            pod(1, 1000.0, 900.0),
            unsampled(pod(2, 1000.0, 0.0)),
        ];
        let c = cpu(3, 50.0, &pods);
        assert_eq!(c.replicas, 4);
        assert!(
            c.explanation.contains("1 missing pod assumed at 0 %"),
            "{}",
            c.explanation
        );
    }

    #[test]
    fn missing_metrics_reversing_direction_keep_current() {
        // TestReplicaCalcMissingMetricsNoChangeGt: 1900 of 1000 = 190 %, ratio 1.9; the missing
        // pod at 0: 1900 of 2000 = 95 %, ratio 0.95 < 1: direction turns, keep 2.
        let pods = [pod(0, 1000.0, 1900.0), unsampled(pod(1, 1000.0, 0.0))];
        assert_eq!(cpu(2, 100.0, &pods).replicas, 2);
    }

    #[test]
    fn missing_metrics_scale_down_that_lands_on_current() {
        // TestReplicaCalcMissingMetricsNoChangeLt: 60 %, ratio 0.6; missing at 100 %:
        // 1600 of 2000 = 80 %, ratio 0.8 (outside tolerance); ceil(2 × 0.8) = 2.
        let pods = [pod(0, 1000.0, 600.0), unsampled(pod(1, 1000.0, 0.0))];
        assert_eq!(cpu(2, 100.0, &pods).replicas, 2);
    }

    #[test]
    fn missing_fallback_is_the_target_when_above_100_percent() {
        // Target 150 %: 600 of 2000 = 30 %, ratio 0.2; missing pods at max(100, 150) = 150 %
        // of request: 600+3000 of 4000 = 90 %, ratio 0.6; ceil(4 × 0.6) = ceil(2.4) = 3.
        // (At 100 % it would be 65 %, ratio 0.433, ceil(1.73) = 2.)
        let pods = [
            pod(0, 1000.0, 300.0),
            pod(1, 1000.0, 300.0),
            unsampled(pod(2, 1000.0, 0.0)),
            unsampled(pod(3, 1000.0, 0.0)),
        ];
        let c = cpu(4, 150.0, &pods);
        assert_eq!(c.replicas, 3);
        assert!(
            c.explanation.contains("at 150 % of request"),
            "{}",
            c.explanation
        );
    }

    #[test]
    fn rebalanced_count_moving_against_the_ratio_keeps_current() {
        // Current 10, but only 3 pods: two at 200 %, one missing. Ratio 2.0; missing at 0:
        // 4000 of 3000 = 133 %, ratio 1.33 (still up); ceil(3 × 1.33) = 4 < 10: keep 10.
        let pods = [
            pod(0, 1000.0, 2000.0),
            pod(1, 1000.0, 2000.0),
            unsampled(pod(2, 1000.0, 0.0)),
        ];
        let c = cpu(10, 100.0, &pods);
        assert_eq!(c.replicas, 10);
        assert!(
            c.explanation.contains("would move against the ratio"),
            "{}",
            c.explanation
        );
    }

    #[test]
    fn memory_ignores_readiness() {
        // Memory has no readiness rules: the not-Ready pod counts.
        // 400+450+500 of 3 × 512 = 87.9 → 87 %, 87/60 = 1.45; ceil(3 × 1.45) = ceil(4.35) = 5.
        // (Had it been set aside: 950 of 1024 = 92 % → rebalanced 61 %, ratio 1.02: keep 3.)
        let pods = [
            never_ready(pod(0, 512.0, 400.0)),
            pod(1, 512.0, 450.0),
            pod(2, 512.0, 500.0),
        ];
        let c = resource_utilization_replicas(3, 60.0, ResourceName::Memory, &pods, NOW, &cfg())
            .expect("memory calculation");
        assert_eq!(c.utilization, Some(87.0));
        assert_eq!(c.unready, 0);
        assert_eq!(c.replicas, 5);
    }

    #[test]
    fn memory_utilization_scale_down() {
        // 4 × 300 of 4 × 1024 = 29.3 → 29 %, 29/70 = 0.414; ceil(4 × 0.414) = ceil(1.66) = 2.
        let pods: Vec<PodInfo> = (0..4).map(|i| pod(i, 1024.0, 300.0)).collect();
        let c = resource_utilization_replicas(4, 70.0, ResourceName::Memory, &pods, NOW, &cfg())
            .expect("memory calculation");
        assert_eq!(c.replicas, 2);
    }

    // ----- calculator: AverageValue and Pods metrics -----

    #[test]
    fn cpu_average_value_scale_up() {
        // Mean 700m against 500m: ratio 1.4; ceil(3 × 1.4) = ceil(4.2) = 5. No requests needed.
        let mut pods = [pod(0, 0.0, 600.0), pod(1, 0.0, 700.0), pod(2, 0.0, 800.0)];
        for p in &mut pods {
            p.request = None;
        }
        let c = resource_average_value_replicas(3, 500.0, ResourceName::Cpu, &pods, NOW, &cfg())
            .expect("average value calculation");
        assert_eq!(c.replicas, 5);
        assert_eq!(c.utilization, None);
        assert_eq!(c.raw_average, 700.0);
        assert_eq!(c.explanation, "ceil(3 ready pods × 700m / 500m) = 5");
    }

    #[test]
    fn cpu_average_value_uses_cpu_readiness_rules() {
        // Ready mean (1000+1400)/2 = 1200m vs 500m: 2.4; the never-ready pod at 0:
        // 2400/3 = 800m, ratio 1.6; ceil(3 × 1.6) = ceil(4.8) = 5. (Counting it: 6.)
        let pods = [
            never_ready(pod(0, 0.0, 600.0)),
            pod(1, 0.0, 1000.0),
            pod(2, 0.0, 1400.0),
        ];
        let c = resource_average_value_replicas(3, 500.0, ResourceName::Cpu, &pods, NOW, &cfg())
            .expect("average value calculation");
        assert_eq!(c.replicas, 5);
    }

    #[test]
    fn memory_average_value_missing_on_scale_down_uses_target() {
        // Mean 100 MiB vs 400: ratio 0.25; the two missing pods at the target 400:
        // (100+100+400+400)/4 = 250, ratio 0.625; ceil(4 × 0.625) = ceil(2.5) = 3.
        let pods = [
            pod(0, 0.0, 100.0),
            pod(1, 0.0, 100.0),
            unsampled(pod(2, 0.0, 0.0)),
            unsampled(pod(3, 0.0, 0.0)),
        ];
        let c = resource_average_value_replicas(4, 400.0, ResourceName::Memory, &pods, NOW, &cfg())
            .expect("average value calculation");
        assert_eq!(c.replicas, 3);
        assert!(
            c.explanation.contains("assumed at the target 400 MiB"),
            "{}",
            c.explanation
        );
    }

    #[test]
    fn pods_metric_scale_up() {
        // TestReplicaCalcScaleUpCM: qps 20, 10, 30 → mean 20 vs 15: 1.333; ceil(3 × 1.333) = 4.
        let pods = [pod(0, 0.0, 20.0), pod(1, 0.0, 10.0), pod(2, 0.0, 30.0)];
        let c = pods_metric_replicas(3, 15.0, &pods, NOW, &cfg()).expect("pods metric");
        assert_eq!(c.replicas, 4);
        assert_eq!(c.raw_average, 20.0);
    }

    #[test]
    fn pods_metric_scale_down() {
        // TestReplicaCalcScaleDownCM: 5 × 12 vs 20: 0.6; ceil(5 × 0.6) = 3.
        let pods: Vec<PodInfo> = (0..5).map(|i| pod(i, 0.0, 12.0)).collect();
        let c = pods_metric_replicas(5, 20.0, &pods, NOW, &cfg()).expect("pods metric");
        assert_eq!(c.replicas, 3);
    }

    #[test]
    fn pods_metric_within_tolerance() {
        // TestReplicaCalcToleranceCM: mean 20.67 vs 20: 1.033: keep 3.
        let pods = [pod(0, 0.0, 20.0), pod(1, 0.0, 21.0), pod(2, 0.0, 21.0)];
        let c = pods_metric_replicas(3, 20.0, &pods, NOW, &cfg()).expect("pods metric");
        assert_eq!(c.replicas, 3);
    }

    #[test]
    fn pods_metric_has_no_cpu_readiness_rules() {
        // TestReplicaCalcScaleUpCMUnreadyHotCpuNoLessScale: the third pod is not Ready and
        // initializing, but a Pods metric counts it: mean 30 vs 15 = 2.0; ceil(3 × 2) = 6.
        let mut hot = pod(2, 0.0, 30.0);
        hot.start_time = Some(NOW - s(30));
        hot.ready = Some(ReadyCondition {
            ready: false,
            last_transition: NOW - s(30),
        });
        let pods = [pod(0, 0.0, 50.0), pod(1, 0.0, 10.0), hot];
        let c = pods_metric_replicas(3, 15.0, &pods, NOW, &cfg()).expect("pods metric");
        assert_eq!(c.unready, 0);
        assert_eq!(c.replicas, 6);
    }

    #[test]
    fn pods_metric_pending_pod_counts_zero_on_scale_up() {
        // Pending is unready for every metric: mean 30 vs 15 = 2.0 → rebalanced (30+30+0)/3 = 20,
        // ratio 1.333; ceil(3 × 1.333) = 4.
        let mut pending = unsampled(pod(2, 0.0, 0.0));
        pending.phase = PodPhase::Pending;
        let pods = [pod(0, 0.0, 30.0), pod(1, 0.0, 30.0), pending];
        let c = pods_metric_replicas(3, 15.0, &pods, NOW, &cfg()).expect("pods metric");
        assert_eq!(c.unready, 1);
        assert_eq!(c.replicas, 4);
        assert!(
            c.explanation.contains("1 unready pod counted at 0"),
            "{}",
            c.explanation
        );
    }

    // ----- calculator: tolerances -----

    #[test]
    fn per_direction_tolerance_up() {
        // 54 %/50 = 1.08: inside the default 1.1, outside an up tolerance of 0.05:
        // ceil(4 × 1.08) = ceil(4.32) = 5.
        let pods: Vec<PodInfo> = (0..4).map(|i| pod(i, 1000.0, 540.0)).collect();
        assert_eq!(cpu(4, 50.0, &pods).replicas, 4);
        let tight = CalcConfig {
            tolerance_up: 0.05,
            ..cfg()
        };
        let c = resource_utilization_replicas(4, 50.0, ResourceName::Cpu, &pods, NOW, &tight)
            .expect("cpu calculation");
        assert_eq!(c.replicas, 5);
    }

    #[test]
    fn per_direction_tolerance_down() {
        // 44 %/50 = 0.88 scales down with the default (9 of 10) but is inside a down
        // tolerance of 0.2 (band 0.8–1.1): keep 10.
        let pods: Vec<PodInfo> = (0..10).map(|i| pod(i, 1000.0, 440.0)).collect();
        let loose = CalcConfig {
            tolerance_down: 0.2,
            ..cfg()
        };
        let c = resource_utilization_replicas(10, 50.0, ResourceName::Cpu, &pods, NOW, &loose)
            .expect("cpu calculation");
        assert_eq!(c.replicas, 10);
    }

    #[test]
    fn behavior_tolerance_overrides_the_cluster_tolerance() {
        let mut b = Behavior::kubernetes_default(300 * SECOND);
        b.scale_up.tolerance = Some(0.02);
        let c = CalcConfig::default().with_behavior(&b);
        assert_eq!(c.tolerance_up, 0.02, "scaleUp.tolerance replaces the flag");
        assert_eq!(
            c.tolerance_down, 0.1,
            "unset scaleDown.tolerance keeps the flag"
        );
    }

    // ----- calculator: errors -----

    #[test]
    fn zero_requests_are_an_error() {
        let pods = [pod(0, 0.0, 100.0), pod(1, 0.0, 100.0)];
        let r = resource_utilization_replicas(2, 50.0, ResourceName::Cpu, &pods, NOW, &cfg());
        assert_eq!(r, Err(CalcError::ZeroRequests));
    }

    #[test]
    fn missing_request_is_an_error() {
        // TestReplicaCalcEmptyCPURequest: every pod needs a request, even an ignored one.
        let mut p2 = pod(2, 0.0, 0.0);
        p2.request = None;
        p2.deleting = true;
        let pods = [pod(0, 1000.0, 100.0), pod(1, 1000.0, 100.0), p2];
        let r = resource_utilization_replicas(3, 50.0, ResourceName::Cpu, &pods, NOW, &cfg());
        assert_eq!(r, Err(CalcError::MissingRequest { pod: 2 }));
    }

    #[test]
    fn no_pods_is_an_error() {
        assert_eq!(
            pods_metric_replicas(3, 10.0, &[], NOW, &cfg()),
            Err(CalcError::NoPods)
        );
        let r = resource_utilization_replicas(0, 50.0, ResourceName::Cpu, &[], NOW, &cfg());
        assert_eq!(r, Err(CalcError::NoPods));
    }

    #[test]
    fn invalid_targets_are_errors() {
        let pods = [pod(0, 1000.0, 100.0)];
        for bad in [f64::NAN, 0.0, -5.0, f64::INFINITY] {
            let r = resource_utilization_replicas(1, bad, ResourceName::Cpu, &pods, NOW, &cfg());
            assert!(
                matches!(r, Err(CalcError::InvalidTarget(_))),
                "utilization {bad}: {r:?}"
            );
            let r = resource_average_value_replicas(1, bad, ResourceName::Cpu, &pods, NOW, &cfg());
            assert!(
                matches!(r, Err(CalcError::InvalidTarget(_))),
                "average {bad}: {r:?}"
            );
            let r = pods_metric_replicas(1, bad, &pods, NOW, &cfg());
            assert!(
                matches!(r, Err(CalcError::InvalidTarget(_))),
                "pods {bad}: {r:?}"
            );
        }
    }

    #[test]
    fn no_countable_samples_is_an_error() {
        // Every pod unready or unsampled: nothing to average.
        let pods = [
            never_ready(pod(0, 1000.0, 100.0)),
            unsampled(pod(1, 1000.0, 0.0)),
        ];
        let r = resource_utilization_replicas(2, 50.0, ResourceName::Cpu, &pods, NOW, &cfg());
        assert_eq!(r, Err(CalcError::NoMetrics));
    }

    #[test]
    fn unusable_numbers_are_errors_not_panics() {
        let nan = [pod(0, 1000.0, f64::NAN)];
        let r = pods_metric_replicas(1, 10.0, &nan, NOW, &cfg());
        assert!(matches!(r, Err(CalcError::InvalidInput(_))), "{r:?}");
        let neg = [pod(0, -1.0, 100.0)];
        let r = resource_utilization_replicas(1, 50.0, ResourceName::Cpu, &neg, NOW, &cfg());
        assert!(matches!(r, Err(CalcError::InvalidInput(_))), "{r:?}");
        let bad_cfg = CalcConfig {
            tolerance_up: f64::NAN,
            ..cfg()
        };
        let ok = [pod(0, 1000.0, 100.0)];
        let r = pods_metric_replicas(1, 10.0, &ok, NOW, &bad_cfg);
        assert!(matches!(r, Err(CalcError::InvalidInput(_))), "{r:?}");
        // Huge values saturate instead of wrapping.
        let huge = [pod(0, 1.0, 1e300)];
        let c = pods_metric_replicas(1, 1e-300, &huge, NOW, &cfg());
        assert!(matches!(c, Err(CalcError::InvalidInput(_))), "{c:?}");
        let big = [pod(0, 1.0, 1e12)];
        let c = pods_metric_replicas(1, 1.0, &big, NOW, &cfg()).expect("finite ratio");
        assert_eq!(c.replicas, u32::MAX);
    }

    // ----- several metrics -----

    #[test]
    fn several_metrics_max_wins() {
        let r = replicas_for_metrics(4, &[ok_calc(3), ok_calc(7), ok_calc(5)]);
        assert_eq!(r, Ok((7, 1)));
    }

    #[test]
    fn invalid_metric_blocks_scale_down() {
        // TestNoScaleDownOneMetricInvalid: CPU says 3 of 5, the other metric fails: no scale.
        let r = replicas_for_metrics(5, &[ok_calc(3), Err(CalcError::NoMetrics)]);
        let e = r.expect_err("a failing metric must block a scale-down");
        assert!(e.contains("1 invalid out of 2"), "{e}");
    }

    #[test]
    fn invalid_metric_does_not_block_scale_up() {
        // TestScaleUpOneMetricEmpty: CPU says 4 of 3, the external metric fails: scale to 4.
        let r = replicas_for_metrics(3, &[ok_calc(4), Err(CalcError::NoPods)]);
        assert_eq!(r, Ok((4, 0)));
    }

    #[test]
    fn invalid_metric_with_no_change_is_fine() {
        // Valid ones at the current count (not below it): no error.
        let r = replicas_for_metrics(5, &[Err(CalcError::NoPods), ok_calc(5)]);
        assert_eq!(r, Ok((5, 1)));
    }

    #[test]
    fn all_metrics_invalid_is_an_error() {
        let r = replicas_for_metrics(5, &[Err(CalcError::NoPods), Err(CalcError::NoMetrics)]);
        let e = r.expect_err("all invalid");
        assert!(e.contains("2 invalid out of 2"), "{e}");
        assert!(
            e.contains("no pods returned by selector"),
            "first error named: {e}"
        );
        assert!(replicas_for_metrics(5, &[]).is_err(), "no metrics at all");
    }

    // ----- behaviour: defaults -----

    #[test]
    fn default_scale_up_from_one_allows_five() {
        // Pods 4 → 1 + 4 = 5; Percent 100 → ceil(1 × 2) = 2; Max → 5.
        let b = Behavior::kubernetes_default(300 * SECOND);
        let n = normalize(&mut History::default(), &b, 1, 10, 1, 100, NOW);
        assert_eq!(n.desired, 5);
        assert_eq!(n.stabilized, 10);
        assert_eq!(n.reason, "ScaleUpLimit");
        assert_eq!(
            n.message,
            "limited by the scale-up policy (max of 4 pods per 15 s and 100 % per 15 s) to 5"
        );
    }

    #[test]
    fn default_scale_up_doubles_from_ten() {
        // horizontal_test "scaleUp with default behavior": max(10 + 4, 20) = 20.
        let b = Behavior::kubernetes_default(300 * SECOND);
        let n = normalize(&mut History::default(), &b, 10, 50, 1, 1000, NOW);
        assert_eq!((n.desired, n.reason), (20, "ScaleUpLimit"));
    }

    #[test]
    fn default_scale_up_counts_the_last_15_seconds() {
        // Scaled 4 → 8 ten seconds ago: the period started at 8 − 4 = 4, so the limit is
        // max(4 + 4, 4 × 2) = 8 = current: no further scale-up yet. Six seconds later the
        // event is 16 s old: from 8, max(12, 16) = 16.
        let b = Behavior::kubernetes_default(300 * SECOND);
        let mut h = History {
            scale_up_events: events(&[(10, 4)]),
            ..History::default()
        };
        let n = normalize(&mut h, &b, 8, 40, 1, 100, NOW);
        assert_eq!((n.desired, n.reason), (8, "ScaleUpLimit"));
        let n = normalize(&mut h, &b, 8, 40, 1, 100, NOW + s(6));
        assert_eq!(n.desired, 16);
    }

    #[test]
    fn default_scale_down_keeps_highest_recommendation_over_300s() {
        // Recommendations 10 (200 s ago) and 8 (100 s ago), now 4, current 10: the highest
        // in the window is 10 → stay at 10.
        let b = Behavior::kubernetes_default(300 * SECOND);
        let mut h = History {
            recommendations: vec![(NOW - s(200), 10), (NOW - s(100), 8)],
            ..History::default()
        };
        let n = normalize(&mut h, &b, 10, 4, 1, 100, NOW);
        assert_eq!(
            (n.desired, n.stabilized, n.reason),
            (10, 10, "ScaleDownStabilized")
        );
        // With 6 and 8 instead, the highest is 8: go down to 8 (the 100 %/15 s policy allows it).
        let mut h = History {
            recommendations: vec![(NOW - s(200), 6), (NOW - s(100), 8)],
            ..History::default()
        };
        let n = normalize(&mut h, &b, 10, 4, 1, 100, NOW);
        assert_eq!((n.desired, n.reason), (8, "ScaleDownStabilized"));
        assert!(
            n.message.contains("highest recent recommendation 8"),
            "{}",
            n.message
        );
    }

    #[test]
    fn old_recommendations_leave_the_window_and_the_history() {
        // 10 was recommended 301 s ago: outside the 300 s window, so 4 goes through, and the
        // old entry is dropped.
        let b = Behavior::kubernetes_default(300 * SECOND);
        let mut h = History {
            recommendations: vec![(NOW - s(301), 10)],
            ..History::default()
        };
        let n = normalize(&mut h, &b, 10, 4, 1, 100, NOW);
        assert_eq!(n.desired, 4);
        assert_eq!(h.recommendations, vec![(NOW, 4)]);
    }

    // ----- behaviour: stabilization -----

    #[test]
    fn scale_up_stabilization_window() {
        // horizontal_test "simple scale up stabilization": up window 300 s, recommendations
        // 4 and 5 in it, now 7, current 1: the lowest, 4.
        let b = with_up(rules(
            &[(PolicyKind::Pods, 100, 15)],
            SelectPolicy::Max,
            300,
        ));
        let mut h = History {
            recommendations: vec![(NOW - s(120), 4), (NOW - s(60), 5)],
            ..History::default()
        };
        let n = normalize(&mut h, &b, 1, 7, 1, 100, NOW);
        assert_eq!((n.desired, n.reason), (4, "ScaleUpStabilized"));
    }

    #[test]
    fn both_windows_hold_when_the_recommendation_turns() {
        // horizontal_test: current 2, windows 300/300. A recent 3 and a new 1: the up limit is
        // 1, the down limit 3 → stay 2. A recent 1 and a new 3: likewise 2.
        let mut b = with_up(rules(
            &[(PolicyKind::Pods, 100, 15)],
            SelectPolicy::Max,
            300,
        ));
        b.scale_down.stabilization_window = s(300);
        let mut h = History {
            recommendations: vec![(NOW - 100 * MINUTE, 2), (NOW - s(180), 3)],
            ..History::default()
        };
        assert_eq!(normalize(&mut h, &b, 2, 1, 1, 100, NOW).desired, 2);
        let mut h = History {
            recommendations: vec![(NOW - 100 * MINUTE, 2), (NOW - s(180), 1)],
            ..History::default()
        };
        assert_eq!(normalize(&mut h, &b, 2, 3, 1, 100, NOW).desired, 2);
    }

    // ----- behaviour: user policies -----

    #[test]
    fn pods_policy_limits_scale_up() {
        // horizontal_test "scaleUp with pod policy limitation": 30 pods/60 s from 10 → 40.
        let b = with_up(rules(&[(PolicyKind::Pods, 30, 60)], SelectPolicy::Max, 0));
        let n = normalize(&mut History::default(), &b, 10, 50, 1, 1000, NOW);
        assert_eq!((n.desired, n.reason), (40, "ScaleUpLimit"));
    }

    #[test]
    fn percent_policy_limits_scale_up() {
        // "scaleUp with percent policy limitation": 200 %/60 s from 10 → ceil(10 × 3) = 30.
        let b = with_up(rules(
            &[(PolicyKind::Percent, 200, 60)],
            SelectPolicy::Max,
            0,
        ));
        let n = normalize(&mut History::default(), &b, 10, 50, 1, 1000, NOW);
        assert_eq!(n.desired, 30);
    }

    #[test]
    fn percent_policy_uses_the_controllers_float_arithmetic() {
        // 10 %/60 s from 100: Go computes ceil(100.0 × (1 + 10/100.0)) = ceil(110.00000000000001)
        // = 111, not 110; the same float expression here gives the same 111.
        let b = with_up(rules(
            &[(PolicyKind::Percent, 10, 60)],
            SelectPolicy::Max,
            0,
        ));
        let n = normalize(&mut History::default(), &b, 100, 500, 1, 1000, NOW);
        assert_eq!(n.desired, 111);
    }

    #[test]
    fn max_select_takes_the_larger_change() {
        // "scaleUp with pods policy larger than percent policy": 100 pods vs 100 % from 10:
        // max(110, 20) = 110.
        let b = with_up(rules(
            &[(PolicyKind::Pods, 100, 60), (PolicyKind::Percent, 100, 60)],
            SelectPolicy::Max,
            0,
        ));
        let n = normalize(&mut History::default(), &b, 10, 500, 1, 1000, NOW);
        assert_eq!(n.desired, 110);
    }

    #[test]
    fn min_select_scale_up_takes_the_smaller_change() {
        // 2 pods vs 100 % from 10 with Min: min(12, 20) = 12.
        let b = with_up(rules(
            &[(PolicyKind::Pods, 2, 60), (PolicyKind::Percent, 100, 60)],
            SelectPolicy::Min,
            0,
        ));
        let n = normalize(&mut History::default(), &b, 10, 500, 1, 1000, NOW);
        assert_eq!((n.desired, n.reason), (12, "ScaleUpLimit"));
    }

    #[test]
    fn disabled_scale_up_keeps_current() {
        let b = with_up(rules(
            &[(PolicyKind::Pods, 4, 15)],
            SelectPolicy::Disabled,
            0,
        ));
        let n = normalize(&mut History::default(), &b, 10, 50, 1, 1000, NOW);
        assert_eq!((n.desired, n.reason), (10, "ScaleUpLimit"));
        assert!(
            n.message.contains("scale-up policy (disabled)"),
            "{}",
            n.message
        );
    }

    #[test]
    fn disabled_scale_down_keeps_current() {
        let b = with_down(rules(
            &[(PolicyKind::Percent, 100, 15)],
            SelectPolicy::Disabled,
            0,
        ));
        let n = normalize(&mut History::default(), &b, 10, 2, 1, 1000, NOW);
        assert_eq!((n.desired, n.reason), (10, "ScaleDownLimit"));
    }

    #[test]
    fn min_and_max_select_scale_down() {
        // 2 pods/60 s vs 50 %/60 s from 10: proposals 8 and 5. Min (least change) → 8;
        // Max (most change) → 5.
        let policies = [(PolicyKind::Pods, 2, 60), (PolicyKind::Percent, 50, 60)];
        let b = with_down(rules(&policies, SelectPolicy::Min, 0));
        let n = normalize(&mut History::default(), &b, 10, 1, 1, 1000, NOW);
        assert_eq!((n.desired, n.reason), (8, "ScaleDownLimit"));
        let b = with_down(rules(&policies, SelectPolicy::Max, 0));
        let n = normalize(&mut History::default(), &b, 10, 1, 1, 1000, NOW);
        assert_eq!((n.desired, n.reason), (5, "ScaleDownLimit"));
    }

    #[test]
    fn scale_down_percent_policy_with_past_events() {
        // "scaleDown with percent policy limitation and previous events": 2+4+6 removed within
        // 120 s, so the period started at 112; 50 % of it: 56.
        let b = with_down(rules(
            &[(PolicyKind::Percent, 50, 120)],
            SelectPolicy::Max,
            0,
        ));
        let mut h = History {
            scale_down_events: events(&[(100, 2), (60, 4), (20, 6)]),
            ..History::default()
        };
        let n = normalize(&mut h, &b, 100, 0, 1, 1000, NOW);
        assert_eq!((n.desired, n.reason), (56, "ScaleDownLimit"));
    }

    #[test]
    fn scale_up_pods_policy_with_past_events() {
        // "scaleUp with pod policy and previous scale up events": 1+5+9 added within 120 s:
        // start 85; + 150 = 235.
        let b = with_up(rules(&[(PolicyKind::Pods, 150, 120)], SelectPolicy::Max, 0));
        let mut h = History {
            scale_up_events: events(&[(100, 1), (60, 5), (20, 9)]),
            ..History::default()
        };
        let n = normalize(&mut h, &b, 100, 500, 1, 1000, NOW);
        assert_eq!(n.desired, 235);
    }

    #[test]
    fn scale_up_limit_below_current_keeps_current() {
        // "scaleUp with currentReplicas limitation ... a lot of recent scale up events":
        // start 85, + 5 = 90 < 100: the limit becomes the current 100.
        let b = with_up(rules(&[(PolicyKind::Pods, 5, 120)], SelectPolicy::Max, 0));
        let mut h = History {
            scale_up_events: events(&[(100, 1), (60, 5), (20, 9)]),
            ..History::default()
        };
        let n = normalize(&mut h, &b, 100, 500, 1, 1000, NOW);
        assert_eq!((n.desired, n.reason), (100, "ScaleUpLimit"));
    }

    #[test]
    fn scale_up_counts_scale_down_events_too() {
        // "scaleUp with percent policy and previous scale up and down events": +4 and −2
        // within 300 s from current 6: start 6 − 4 + 2 = 4; 300 % → 16.
        let b = with_up(rules(
            &[(PolicyKind::Percent, 300, 300)],
            SelectPolicy::Max,
            0,
        ));
        let mut h = History {
            scale_up_events: events(&[(60, 4)]),
            scale_down_events: events(&[(60, 2)]),
            ..History::default()
        };
        let n = normalize(&mut h, &b, 6, 24, 1, 1000, NOW);
        assert_eq!(n.desired, 16);
    }

    #[test]
    fn events_older_than_the_period_do_not_count() {
        // 9 added 61 s ago, 5 added 20 s ago, Pods 10/60 s: only the 5 counts: start 95,
        // limit 105.
        let b = with_up(rules(&[(PolicyKind::Pods, 10, 60)], SelectPolicy::Max, 0));
        let mut h = History {
            scale_up_events: events(&[(61, 9), (20, 5)]),
            ..History::default()
        };
        let n = normalize(&mut h, &b, 100, 500, 1, 1000, NOW);
        assert_eq!(n.desired, 105);
    }

    // ----- behaviour: min/max -----

    #[test]
    fn max_replicas_caps_scale_up() {
        // "desired replica count is more than the maximum replica count": from 100 the default
        // allows 200, max is 150.
        let b = Behavior::kubernetes_default(300 * SECOND);
        let n = normalize(&mut History::default(), &b, 100, 1000, 100, 150, NOW);
        assert_eq!((n.desired, n.reason), (150, "TooManyReplicas"));
    }

    #[test]
    fn min_replicas_floors_scale_down() {
        // "prenormalized desired replicas < minReplicas": 3 → 1 with min 2 → 2.
        let b = Behavior::kubernetes_default(0);
        let n = normalize(&mut History::default(), &b, 3, 1, 2, 8, NOW);
        assert_eq!((n.desired, n.reason), (2, "TooFewReplicas"));
    }

    #[test]
    fn within_range_passes_through() {
        // "prenormalized desired replicas within range": 5 → 7 (limit 10, max 8).
        let b = Behavior::kubernetes_default(0);
        let n = normalize(&mut History::default(), &b, 5, 7, 3, 8, NOW);
        assert_eq!((n.desired, n.reason), (7, "DesiredWithinRange"));
    }

    // ----- behaviour: stored events -----

    #[test]
    fn record_scale_reuses_the_last_outdated_slot() {
        // TestStoreScaleEvents "replace one entry, use policies with different periods": the
        // longest period is 60 s; events 29 s and 59 s old stay, both 61 s old ones become
        // outdated and the new +5 takes the later slot.
        let b = with_up(rules(
            &[(PolicyKind::Pods, 10, 60), (PolicyKind::Percent, 100, 30)],
            SelectPolicy::Max,
            0,
        ));
        let mut h = History {
            scale_up_events: events(&[(29, 8), (59, 6), (61, 7), (61, 9)]),
            ..History::default()
        };
        assert_eq!(change_in_period(&h.scale_up_events, s(60), NOW), 14);
        record_scale(&mut h, &b, 10, 15, NOW);
        let got: Vec<(u32, bool)> = h
            .scale_up_events
            .iter()
            .map(|e| (e.change, e.outdated))
            .collect();
        assert_eq!(got, vec![(8, false), (6, false), (7, true), (5, false)]);
        assert!(h.scale_down_events.is_empty());
    }

    #[test]
    fn record_scale_appends_when_nothing_is_outdated() {
        // "two entries, both actual": periods 120 s and 30 s, events 58 s and 59 s old: append.
        let b = with_down(rules(
            &[(PolicyKind::Pods, 10, 120), (PolicyKind::Percent, 100, 30)],
            SelectPolicy::Max,
            0,
        ));
        let mut h = History {
            scale_down_events: events(&[(58, 7), (59, 6)]),
            ..History::default()
        };
        record_scale(&mut h, &b, 10, 5, NOW);
        let got: Vec<u32> = h.scale_down_events.iter().map(|e| e.change).collect();
        assert_eq!(got, vec![7, 6, 5]);
        record_scale(&mut h, &b, 5, 5, NOW);
        assert_eq!(h.scale_down_events.len(), 3, "no change, no event");
    }

    // ----- the outer rules -----

    fn spec(min: u32, max: u32, behavior: Option<Behavior>) -> ScalingSpec {
        ScalingSpec {
            min_replicas: min,
            max_replicas: max,
            behavior,
            downscale_stabilization: 300 * SECOND,
        }
    }

    #[test]
    fn zero_current_with_min_disables_scaling() {
        let sp = spec(1, 10, Some(Behavior::kubernetes_default(300 * SECOND)));
        let d = desired_replicas(&mut History::default(), &sp, 0, &[ok_calc(5)], NOW);
        assert_eq!(
            (d.desired, d.rescale, d.reason),
            (0, false, "ScalingDisabled")
        );
    }

    #[test]
    fn current_above_max_goes_to_max() {
        let sp = spec(1, 10, Some(Behavior::kubernetes_default(300 * SECOND)));
        let d = desired_replicas(&mut History::default(), &sp, 12, &[ok_calc(30)], NOW);
        assert_eq!(
            (d.desired, d.rescale, d.reason),
            (10, true, "AboveMaxReplicas")
        );
    }

    #[test]
    fn current_below_min_goes_to_min() {
        let sp = spec(3, 10, Some(Behavior::kubernetes_default(300 * SECOND)));
        let d = desired_replicas(&mut History::default(), &sp, 1, &[ok_calc(1)], NOW);
        assert_eq!(
            (d.desired, d.rescale, d.reason),
            (3, true, "BelowMinReplicas")
        );
    }

    #[test]
    fn full_decision_scales_up_on_cpu() {
        // 3 pods at 50 % against 30 % → 5; the default behaviour allows max(3 + 4, 6) = 7.
        let pods = [
            pod(0, 2000.0, 600.0),
            pod(1, 2000.0, 1000.0),
            pod(2, 2000.0, 1400.0),
        ];
        let b = Behavior::kubernetes_default(300 * SECOND);
        let c = cfg().with_behavior(&b);
        let m = [resource_utilization_replicas(
            3,
            30.0,
            ResourceName::Cpu,
            &pods,
            NOW,
            &c,
        )];
        let mut h = History::default();
        let d = desired_replicas(&mut h, &spec(1, 10, Some(b)), 3, &m, NOW);
        assert_eq!(
            (d.desired, d.rescale, d.reason),
            (5, true, "DesiredWithinRange")
        );
        assert_eq!((d.recommendation, d.metric_index), (Some(5), Some(0)));
        assert!(
            d.message
                .starts_with("metric 0: ceil(3 ready pods × 50 % / 30 %) = 5"),
            "{}",
            d.message
        );
    }

    #[test]
    fn failed_metrics_keep_current() {
        let sp = spec(1, 10, Some(Behavior::kubernetes_default(300 * SECOND)));
        let mut h = History::default();
        let d = desired_replicas(&mut h, &sp, 4, &[Err(CalcError::NoMetrics)], NOW);
        assert_eq!(
            (d.desired, d.rescale, d.reason),
            (4, false, "FailedComputeMetricsReplicas")
        );
        assert_eq!(
            h.recommendations,
            vec![(NOW, 4)],
            "only the initial recommendation"
        );
    }

    #[test]
    fn first_sync_blocks_scale_down_for_the_window() {
        // The first sync records the current 10 as a recommendation; with the 300 s window the
        // metrics' 4 cannot win yet. 301 s later that record is out of the window: 4.
        let sp = spec(1, 20, Some(Behavior::kubernetes_default(300 * SECOND)));
        let mut h = History::default();
        let d = desired_replicas(&mut h, &sp, 10, &[ok_calc(4)], NOW);
        assert_eq!(
            (d.desired, d.rescale, d.reason),
            (10, false, "ScaleDownStabilized")
        );
        let d = desired_replicas(&mut h, &sp, 10, &[ok_calc(4)], NOW + s(301));
        assert_eq!((d.desired, d.rescale), (4, true));
    }

    #[test]
    fn partial_metric_failure_is_reported_while_scaling_up() {
        let sp = spec(1, 20, Some(Behavior::kubernetes_default(300 * SECOND)));
        let d = desired_replicas(
            &mut History::default(),
            &sp,
            3,
            &[Err(CalcError::NoPods), ok_calc(5)],
            NOW,
        );
        assert_eq!((d.desired, d.metric_index), (5, Some(1)));
        assert!(
            d.message.contains("1 of 2 metrics invalid"),
            "{}",
            d.message
        );
    }

    #[test]
    fn without_behavior_scale_up_is_max_of_double_and_four() {
        // An HPA with no spec.behavior: from 1 → max(2, 4) = 4 (the defaulted behaviour gives
        // 5); from 3 → max(6, 4) = 6 (behaviour: 7).
        let sp = spec(1, 100, None);
        let d = desired_replicas(&mut History::default(), &sp, 1, &[ok_calc(10)], NOW);
        assert_eq!((d.desired, d.reason), (4, "ScaleUpLimit"));
        let d = desired_replicas(&mut History::default(), &sp, 3, &[ok_calc(10)], NOW);
        assert_eq!(d.desired, 6);
        let with_b = spec(1, 100, Some(Behavior::kubernetes_default(300 * SECOND)));
        let d = desired_replicas(&mut History::default(), &with_b, 3, &[ok_calc(10)], NOW);
        assert_eq!(d.desired, 7);
    }

    #[test]
    fn without_behavior_scale_down_is_stabilized() {
        // TestNormalizeDesiredReplicas "stabilize - old recommendations": 10 and 9 are older than
        // 5 min, 4 and 5 are not: max(3, 4, 5) = 5.
        let mut h = History {
            recommendations: vec![
                (NOW - 10 * MINUTE, 10),
                (NOW - MINUTE, 4),
                (NOW - 2 * MINUTE, 5),
                (NOW - 9 * MINUTE, 9),
            ],
            ..History::default()
        };
        let n = normalize_without_behavior(&mut h, 10, 3, 1, 100, 5 * MINUTE, NOW);
        assert_eq!(
            (n.desired, n.stabilized, n.reason),
            (5, 5, "ScaleDownStabilized")
        );
        assert_eq!(
            h.recommendations.len(),
            3,
            "the two old ones dropped, the new one added"
        );
    }
}
