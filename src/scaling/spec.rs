//! The `[autoscaling]` section as written: target-tracking, step-scaling
//! and scheduled policies with their defaults (AWS's for ECS), and the
//! checks of their values.

use crate::error::ScenarioError;
use crate::metrics::cloudwatch::Metric;
use crate::time::Duration;
use serde::{Deserialize, Serialize};

/// Most tasks (or pods) a service may have: the Amazon ECS quota of tasks
/// per service (aws.md, service quotas); capsim holds Kubernetes
/// Deployments to the same bound.
pub const MAX_TASKS: u32 = 5_000;

fn default_cooldown() -> Duration {
    Duration::from_secs(300)
}

/// Publication (and alarm) delay of the one-minute ECS metrics, calibrated
/// to the ECS team's measurement: 363 s from a load increase to the
/// scale-out trigger with standard metrics (aws/containers-roadmap#2113;
/// aws.md §9.1). With the 3-of-3 alarm, a step from 40 % to 100 % CPU at a
/// uniformly random instant breaches from the minute it falls in when it
/// falls in that minute's first half, else from the next: the third
/// breaching minute ends 180 s after the step on average, so the delay is
/// 363 − 180 = 183 s (the load shape is capsim's assumption; AWS did not
/// publish the measurement's).
pub const METRIC_DELAY_S: u64 = 183;

/// The same for the 20-second metrics, calibrated to the measured 86 s: the
/// third breaching 20 s datapoint ends 60 s after the step on average, so
/// 86 − 60 = 26 s.
pub const HIGH_RESOLUTION_METRIC_DELAY_S: u64 = 26;

fn default_metric_delay() -> Duration {
    Duration::from_secs(METRIC_DELAY_S)
}

fn default_hr_delay() -> Duration {
    Duration::from_secs(HIGH_RESOLUTION_METRIC_DELAY_S)
}

/// The alarms target tracking creates on the 20-second metrics: AWS does not
/// publish their shape. Default: 3 of 3 above target (as on 1-minute
/// metrics: 60 s of breach) and 45 of 45 below 0.9 × target (the same 15
/// minutes) — an assumption.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HighResolutionAlarms {
    /// Datapoints (of 20 s) above target for a scale-out.
    #[serde(default = "three")]
    pub high: u32,
    /// Datapoints (of 20 s) below 0.9 × target for a scale-in.
    #[serde(default = "forty_five")]
    pub low: u32,
}

fn three() -> u32 {
    3
}
fn forty_five() -> u32 {
    45
}

impl Default for HighResolutionAlarms {
    fn default() -> Self {
        HighResolutionAlarms { high: 3, low: 45 }
    }
}

/// The capacity Service Auto Scaling starts from when it proposes a new
/// desired count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CapacityBase {
    /// The running task count at the evaluation — "the actual running task
    /// count in a service is the value that Service Auto Scaling uses as its
    /// starting point" (ECS developer guide, service-auto-scaling). During a
    /// scale-out cooldown, the running count when it began (the capacity
    /// that scale-out added counts as part of the desired capacity).
    #[default]
    Running,
    /// The running count behind the newest datapoint (capsim's earlier
    /// rule: a proposal on the count that produced the metric).
    Datapoint,
}

/// How a step-scaling alarm's datapoints are aggregated to choose a step
/// (`MetricAggregationType`, StepScalingPolicyConfiguration).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum MetricAggregation {
    /// The mean (the API's default).
    #[default]
    Average,
    /// The smallest.
    Minimum,
    /// The largest.
    Maximum,
}

fn default_metric() -> Metric {
    Metric::EcsServiceAverageCpuUtilization
}

fn default_one() -> u32 {
    1
}

/// A target-tracking policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetTrackingSpec {
    /// Name in the decision log. Default `target-tracking-<n>`.
    #[serde(default)]
    pub name: Option<String>,
    /// The metric. Default `ECSServiceAverageCPUUtilization`.
    #[serde(default = "default_metric")]
    pub predefined_metric: Metric,
    /// Target value (percent for the utilisation metrics, requests per
    /// target per minute for `ALBRequestCountPerTarget`).
    pub target_value: f64,
    /// Default 300 s (AWS default for ECS services).
    #[serde(default = "default_cooldown")]
    pub scale_out_cooldown: Duration,
    /// Default 300 s (AWS default for ECS services).
    #[serde(default = "default_cooldown")]
    pub scale_in_cooldown: Duration,
    /// Never remove capacity. Default false (AWS default).
    #[serde(default)]
    pub disable_scale_in: bool,
}

/// How a step-scaling alarm compares the metric with its threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Comparison {
    /// `>=`
    GreaterThanOrEqualToThreshold,
    /// `>`
    GreaterThanThreshold,
    /// `<`
    LessThanThreshold,
    /// `<=`
    LessThanOrEqualToThreshold,
}

impl Comparison {
    pub(super) fn breaches(self, v: f64, threshold: f64) -> bool {
        match self {
            Comparison::GreaterThanOrEqualToThreshold => v >= threshold,
            Comparison::GreaterThanThreshold => v > threshold,
            Comparison::LessThanThreshold => v < threshold,
            Comparison::LessThanOrEqualToThreshold => v <= threshold,
        }
    }

    pub(super) fn upward(self) -> bool {
        matches!(
            self,
            Comparison::GreaterThanOrEqualToThreshold | Comparison::GreaterThanThreshold
        )
    }

    pub(super) fn symbol(self) -> &'static str {
        match self {
            Comparison::GreaterThanOrEqualToThreshold => ">=",
            Comparison::GreaterThanThreshold => ">",
            Comparison::LessThanThreshold => "<",
            Comparison::LessThanOrEqualToThreshold => "<=",
        }
    }
}

/// How a step adjustment changes capacity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AdjustmentType {
    /// Add (or remove) this many tasks.
    ChangeInCapacity,
    /// Add (or remove) this percentage of the current capacity.
    PercentChangeInCapacity,
    /// Set capacity to this.
    ExactCapacity,
}

/// One step: applies when `lower ≤ metric − threshold < upper` (above the
/// threshold) or `lower < metric − threshold ≤ upper` (below it).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepSpec {
    /// Lower bound relative to the threshold (none = −∞).
    #[serde(default)]
    pub lower: Option<f64>,
    /// Upper bound relative to the threshold (none = +∞).
    #[serde(default)]
    pub upper: Option<f64>,
    /// Adjustment (tasks, percent or exact count).
    pub adjustment: f64,
}

/// A step-scaling policy with its CloudWatch alarm.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepScalingSpec {
    /// Name in the decision log. Default `step-<n>`.
    #[serde(default)]
    pub name: Option<String>,
    /// The alarm's metric (1-minute Average). Default CPU utilisation.
    #[serde(default = "default_metric")]
    pub metric: Metric,
    /// Alarm threshold.
    pub threshold: f64,
    /// Alarm comparison.
    pub comparison: Comparison,
    /// Datapoints the alarm looks at. Default 1.
    #[serde(default = "default_one")]
    pub evaluation_periods: u32,
    /// Breaching datapoints needed among them. Default: all of them.
    #[serde(default)]
    pub datapoints_to_alarm: Option<u32>,
    /// `ChangeInCapacity`, `PercentChangeInCapacity` or `ExactCapacity`.
    pub adjustment_type: AdjustmentType,
    /// The steps; no gaps, no overlaps.
    pub steps: Vec<StepSpec>,
    /// Smallest change for `PercentChangeInCapacity`.
    #[serde(default)]
    pub min_adjustment_magnitude: Option<u32>,
    /// Default 300 s (as target tracking for ECS; the API has no default).
    #[serde(default = "default_cooldown")]
    pub cooldown: Duration,
    /// How the alarm's datapoints are aggregated to choose a step:
    /// `Average` (default), `Minimum`, `Maximum`.
    #[serde(default)]
    pub metric_aggregation_type: MetricAggregation,
}

/// A scheduled action: changes min/max capacity at `at` (and every `every`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduledSpec {
    /// Name in the decision log. Default `scheduled-<n>`.
    #[serde(default)]
    pub name: Option<String>,
    /// When (offset from the start of the run).
    pub at: Duration,
    /// Repeat period (e.g. `"1d"`). Default: once.
    #[serde(default)]
    pub every: Option<Duration>,
    /// New minimum capacity.
    #[serde(default)]
    pub min_capacity: Option<u32>,
    /// New maximum capacity.
    #[serde(default)]
    pub max_capacity: Option<u32>,
}

/// The `[autoscaling]` section. The first target-tracking policy is written
/// inline (`target_value`, `predefined_metric`, cooldowns, …) so that sweeps
/// can address it as `autoscaling.target_value`; more go in
/// `[[autoscaling.target_tracking]]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AutoscalingSpec {
    /// Minimum desired count.
    pub min_capacity: u32,
    /// Maximum desired count.
    pub max_capacity: u32,
    /// Metric of the inline target-tracking policy. Default CPU utilisation.
    #[serde(default = "default_metric")]
    pub predefined_metric: Metric,
    /// Target of the inline policy (none: no inline policy).
    #[serde(default)]
    pub target_value: Option<f64>,
    /// Inline policy's scale-out cooldown. Default 300 s.
    #[serde(default = "default_cooldown")]
    pub scale_out_cooldown: Duration,
    /// Inline policy's scale-in cooldown. Default 300 s.
    #[serde(default = "default_cooldown")]
    pub scale_in_cooldown: Duration,
    /// Inline policy never scales in. Default false.
    #[serde(default)]
    pub disable_scale_in: bool,
    /// More target-tracking policies.
    #[serde(default)]
    pub target_tracking: Vec<TargetTrackingSpec>,
    /// Step-scaling policies.
    #[serde(default)]
    pub step_scaling: Vec<StepScalingSpec>,
    /// Scheduled actions.
    #[serde(default)]
    pub scheduled: Vec<ScheduledSpec>,
    /// Delay between the end of a metric minute and its datapoint being
    /// seen by the alarms. Default 183 s, calibrated to the ECS team's
    /// measured 363 s scale-out trigger ([`METRIC_DELAY_S`]).
    #[serde(default = "default_metric_delay")]
    pub metric_delay: Duration,
    /// The same for the 20-second (high-resolution) metrics. Default 26 s,
    /// calibrated to the measured 86 s ([`HIGH_RESOLUTION_METRIC_DELAY_S`]).
    #[serde(default = "default_hr_delay")]
    pub high_resolution_metric_delay: Duration,
    /// The target-tracking alarms on 20-second metrics. Default 3 of 3
    /// above, 45 of 45 below — an assumption.
    #[serde(default)]
    pub high_resolution_alarms: HighResolutionAlarms,
    /// The count proposals start from: `running` (default) or `datapoint`.
    #[serde(default)]
    pub capacity_base: CapacityBase,
}

impl AutoscalingSpec {
    /// Every target-tracking policy, the inline one first.
    pub fn target_tracking_policies(&self) -> Vec<TargetTrackingSpec> {
        let mut v = Vec::new();
        if let Some(t) = self.target_value {
            v.push(TargetTrackingSpec {
                name: Some("target-tracking".into()),
                predefined_metric: self.predefined_metric,
                target_value: t,
                scale_out_cooldown: self.scale_out_cooldown,
                scale_in_cooldown: self.scale_in_cooldown,
                disable_scale_in: self.disable_scale_in,
            });
        }
        v.extend(self.target_tracking.iter().cloned());
        v
    }

    /// Checks the section.
    pub fn validate(&self) -> Result<(), ScenarioError> {
        if self.max_capacity > MAX_TASKS {
            return Err(ScenarioError::invalid(
                "autoscaling.max_capacity",
                format!(
                    "expected at most {MAX_TASKS} (the ECS quota of tasks per service), got {}",
                    self.max_capacity
                ),
            ));
        }
        if self.min_capacity > self.max_capacity {
            return Err(ScenarioError::invalid(
                "autoscaling.min_capacity",
                format!(
                    "must not exceed max_capacity ({}), got {}",
                    self.max_capacity, self.min_capacity
                ),
            ));
        }
        for (i, p) in self.target_tracking_policies().iter().enumerate() {
            let key = if i == 0 && self.target_value.is_some() {
                "autoscaling.target_value".to_string()
            } else {
                "autoscaling.target_tracking.target_value".to_string()
            };
            let ok = p.target_value.is_finite()
                && p.target_value > 0.0
                && (p.predefined_metric == Metric::AlbRequestCountPerTarget
                    || p.target_value <= 100.0);
            if !ok {
                return Err(ScenarioError::invalid(
                    key,
                    format!(
                        "expected a target in (0, 100] percent (or > 0 requests per target), got {}",
                        p.target_value
                    ),
                ));
            }
        }
        for (i, s) in self.step_scaling.iter().enumerate() {
            let key = format!("autoscaling.step_scaling[{i}]");
            let key = key.as_str();
            if !s.threshold.is_finite() {
                return Err(ScenarioError::invalid(
                    format!("{key}.threshold"),
                    format!("expected a finite number, got {}", s.threshold),
                ));
            }
            if s.evaluation_periods > 1_440 {
                return Err(ScenarioError::invalid(
                    format!("{key}.evaluation_periods"),
                    format!(
                        "expected 1 to 1440 (CloudWatch evaluates at most one day of one-minute datapoints), got {}",
                        s.evaluation_periods
                    ),
                ));
            }
            for (j, st) in s.steps.iter().enumerate() {
                let finite = |v: Option<f64>| v.is_none_or(f64::is_finite);
                if !finite(st.lower) || !finite(st.upper) {
                    return Err(ScenarioError::invalid(
                        format!("{key}.steps[{j}]"),
                        "bounds must be finite numbers (leave one out for an open end)",
                    ));
                }
                if let (Some(l), Some(u)) = (st.lower, st.upper)
                    && l >= u
                {
                    return Err(ScenarioError::invalid(
                        format!("{key}.steps[{j}]"),
                        format!("lower ({l}) must be below upper ({u})"),
                    ));
                }
                if !(st.adjustment.is_finite() && st.adjustment.abs() <= 1e6) {
                    return Err(ScenarioError::invalid(
                        format!("{key}.steps[{j}].adjustment"),
                        format!(
                            "expected a number from -1000000 to 1000000, got {}",
                            st.adjustment
                        ),
                    ));
                }
            }
            if s.steps.is_empty() {
                return Err(ScenarioError::invalid(
                    key,
                    "a step-scaling policy needs at least one step",
                ));
            }
            if s.evaluation_periods == 0
                || s.datapoints_to_alarm
                    .is_some_and(|m| m == 0 || m > s.evaluation_periods)
            {
                return Err(ScenarioError::invalid(
                    key,
                    "datapoints_to_alarm must be between 1 and evaluation_periods (≥ 1)",
                ));
            }
            let mut steps = s.steps.clone();
            steps.sort_by(|a, b| {
                a.lower
                    .unwrap_or(f64::NEG_INFINITY)
                    .total_cmp(&b.lower.unwrap_or(f64::NEG_INFINITY))
            });
            for w in steps.windows(2) {
                if w[0].upper != w[1].lower {
                    return Err(ScenarioError::invalid(
                        key,
                        format!(
                            "steps must not overlap or leave gaps: a step ends at {:?} and the next starts at {:?}",
                            w[0].upper, w[1].lower
                        ),
                    ));
                }
            }
        }
        let hr = &self.high_resolution_alarms;
        if !(1..=360).contains(&hr.high) || !(1..=360).contains(&hr.low) {
            return Err(ScenarioError::invalid(
                "autoscaling.high_resolution_alarms",
                "expected 1 to 360 datapoints for `high` and `low`",
            ));
        }
        for s in &self.scheduled {
            // Application Auto Scaling's rate expressions go down to one minute.
            if s.every.is_some_and(|e| e.0 < crate::time::MINUTE) {
                return Err(ScenarioError::invalid(
                    "autoscaling.scheduled.every",
                    "must be at least 1m (scheduled actions repeat at most once a minute)",
                ));
            }
            if s.min_capacity
                .max(s.max_capacity)
                .is_some_and(|c| c > MAX_TASKS)
            {
                return Err(ScenarioError::invalid(
                    "autoscaling.scheduled.max_capacity",
                    format!("expected at most {MAX_TASKS} (the ECS quota of tasks per service)"),
                ));
            }
            if let (Some(a), Some(b)) = (s.min_capacity, s.max_capacity)
                && a > b
            {
                return Err(ScenarioError::invalid(
                    "autoscaling.scheduled.min_capacity",
                    "must not exceed max_capacity",
                ));
            }
        }
        Ok(())
    }
}
