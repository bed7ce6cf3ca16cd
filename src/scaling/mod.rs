//! Service Auto Scaling as Application Auto Scaling runs it for ECS: target
//! tracking (with the CloudWatch alarms AWS creates for it), step scaling and
//! scheduled actions, min/max capacity and cooldowns. Scenario section
//! `[autoscaling]`. Also the scaling-lag measurement (`lag.rs`).
//!
//! Facts and their sources (shared/reference/aws.md §2.1–2.3):
//! - target tracking creates two alarms on 1-minute datapoints: AlarmHigh
//!   `metric > target` for 3 of 3, AlarmLow `metric < 0.9 × target` for 15 of 15
//!   (real AWS-generated alarms; an AWS workshop lab agrees);
//! - the new desired count is proportional to metric / target on the
//!   *running* count, rounded up when adding and down when removing — the
//!   common `ceil(running × metric / target)` (AWS does not publish the
//!   formula: an assumption);
//! - cooldowns default to 300 s for ECS; during a scale-out cooldown only a
//!   larger scale-out is applied; scale-in is blocked during the scale-in
//!   cooldown and a scale-out ends it;
//! - several policies: scale out if any says out, in only if all
//!   scale-in-enabled target-tracking policies say in; the largest capacity wins;
//! - step scaling: bounds relative to the threshold, ChangeInCapacity /
//!   PercentChangeInCapacity (AWS rounding) / ExactCapacity, in-cooldown
//!   scale-outs only add the difference;
//! - desired is kept within [min, max]; scheduled actions change min/max.

pub mod lag;

use crate::error::ScenarioError;
use crate::metrics::cloudwatch::{CloudWatch, Metric};
use crate::time::{Duration, SECOND, SimTime};
use serde::{Deserialize, Serialize};

fn default_cooldown() -> Duration {
    Duration::from_secs(300)
}

fn default_metric_delay() -> Duration {
    Duration::from_secs(60)
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
    fn breaches(self, v: f64, threshold: f64) -> bool {
        match self {
            Comparison::GreaterThanOrEqualToThreshold => v >= threshold,
            Comparison::GreaterThanThreshold => v > threshold,
            Comparison::LessThanThreshold => v < threshold,
            Comparison::LessThanOrEqualToThreshold => v <= threshold,
        }
    }

    fn upward(self) -> bool {
        matches!(
            self,
            Comparison::GreaterThanOrEqualToThreshold | Comparison::GreaterThanThreshold
        )
    }

    fn symbol(self) -> &'static str {
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
    /// visible to alarms. Default 60 s — AWS documents 1-minute metrics but
    /// no publication delay: an assumption.
    #[serde(default = "default_metric_delay")]
    pub metric_delay: Duration,
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
        for s in &self.step_scaling {
            let key = "autoscaling.step_scaling";
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
        for s in &self.scheduled {
            if s.every.is_some_and(|e| e.0 == 0) {
                return Err(ScenarioError::invalid(
                    "autoscaling.scheduled.every",
                    "must be longer than 0",
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

/// State of a CloudWatch alarm after an evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlarmState {
    /// Enough breaching datapoints.
    Alarm,
    /// Not enough.
    Ok,
    /// Fewer published datapoints than the alarm looks at.
    InsufficientData,
}

impl AlarmState {
    /// As CloudWatch names it.
    pub fn as_str(self) -> &'static str {
        match self {
            AlarmState::Alarm => "ALARM",
            AlarmState::Ok => "OK",
            AlarmState::InsufficientData => "INSUFFICIENT_DATA",
        }
    }
}

/// An alarm definition.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Alarm {
    /// Metric.
    pub metric: Metric,
    /// Threshold.
    pub threshold: f64,
    /// Comparison.
    pub comparison: Comparison,
    /// Datapoints looked at (N).
    pub periods: u32,
    /// Breaching datapoints needed (M).
    pub needed: u32,
}

/// What an alarm saw.
#[derive(Debug, Clone, PartialEq)]
pub struct AlarmEval {
    /// Resulting state.
    pub state: AlarmState,
    /// The datapoints looked at, oldest first (`None` = missing).
    pub values: Vec<Option<f64>>,
    /// How many breached.
    pub breaching: u32,
    /// End of the newest datapoint's minute.
    pub newest_end: Option<SimTime>,
}

impl Alarm {
    /// Evaluates on the datapoints published by `now`. Missing datapoints do
    /// not breach (`treat_missing_data = missing`).
    pub fn evaluate(&self, cw: &CloudWatch, now: SimTime) -> AlarmEval {
        let Some(newest) = cw.newest_published(now) else {
            return AlarmEval {
                state: AlarmState::InsufficientData,
                values: Vec::new(),
                breaching: 0,
                newest_end: None,
            };
        };
        let n = self.periods as usize;
        if newest + 1 < n {
            return AlarmEval {
                state: AlarmState::InsufficientData,
                values: (0..=newest).map(|m| cw.value(m, self.metric)).collect(),
                breaching: 0,
                newest_end: Some(cw.minute_end(newest)),
            };
        }
        let values: Vec<Option<f64>> = (newest + 1 - n..=newest)
            .map(|m| cw.value(m, self.metric))
            .collect();
        let breaching = values
            .iter()
            .filter(|v| v.is_some_and(|v| self.comparison.breaches(v, self.threshold)))
            .count() as u32;
        AlarmEval {
            state: if breaching >= self.needed {
                AlarmState::Alarm
            } else {
                AlarmState::Ok
            },
            values,
            breaching,
            newest_end: Some(cw.minute_end(newest)),
        }
    }

    fn describe(&self) -> String {
        format!(
            "{} {} {}",
            self.metric.name(),
            self.comparison.symbol(),
            fmt_num(self.threshold)
        )
    }
}

fn fmt_num(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e12 {
        format!("{}", v as i64)
    } else {
        format!("{v:.2}")
    }
}

/// AWS rounding of a PercentChangeInCapacity adjustment (aws.md §2.3):
/// > 1 rounds down, (0, 1) → 1, (−1, 0) → −1, < −1 rounds up (towards 0).
pub fn percent_rounding(change: f64) -> i64 {
    if change > 1.0 {
        change.floor() as i64
    } else if change > 0.0 {
        1
    } else if change > -1.0 && change < 0.0 {
        -1
    } else {
        change.ceil() as i64
    }
}

/// One row of `decisions.csv`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Decision {
    /// Simulated seconds since the start.
    pub time_s: f64,
    /// Day and time of day (`d0 09:03:00`).
    pub clock: String,
    /// Policy name.
    pub policy: String,
    /// What the alarm compares.
    pub alarm: String,
    /// The datapoints it looked at, oldest first (`-` = missing).
    pub datapoints: String,
    /// Alarm state.
    pub alarm_state: String,
    /// Running tasks.
    pub running: u32,
    /// Desired count before.
    pub old_desired: u32,
    /// What the policy asked for (empty if nothing).
    pub proposed: Option<u32>,
    /// Desired count after this evaluation.
    pub new_desired: u32,
    /// `scale_out`, `scale_in`, `limits`, or `none`.
    pub action: String,
    /// Why.
    pub reason: String,
}

/// Formats an instant as `d<day> HH:MM:SS`.
pub fn clock(t: SimTime) -> String {
    let s = t / SECOND;
    format!(
        "d{} {:02}:{:02}:{:02}",
        s / 86_400,
        (s / 3_600) % 24,
        (s / 60) % 60,
        s % 60
    )
}

struct TargetTracking {
    name: String,
    target: f64,
    high: Alarm,
    low: Alarm,
    out_cooldown: SimTime,
    in_cooldown: SimTime,
    disable_in: bool,
}

struct StepPolicy {
    name: String,
    alarm: Alarm,
    adjustment_type: AdjustmentType,
    steps: Vec<StepSpec>,
    min_magnitude: Option<u32>,
    cooldown: SimTime,
    /// Desired count when this policy's scale-out cooldown began, and its end.
    out_cooldown: Option<(u32, SimTime)>,
    in_cooldown_until: SimTime,
}

/// A scheduled action, compiled.
#[derive(Debug, Clone)]
pub struct Scheduled {
    /// Name.
    pub name: String,
    /// First time.
    pub at: SimTime,
    /// Period.
    pub every: Option<SimTime>,
    /// New minimum.
    pub min: Option<u32>,
    /// New maximum.
    pub max: Option<u32>,
}

/// What an evaluation concluded.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// New desired count (may equal the old one).
    pub desired: u32,
    /// Log rows of this evaluation.
    pub rows: Vec<Decision>,
    /// Whether a scale-out was applied.
    pub scaled_out: bool,
    /// Whether a scale-in was applied.
    pub scaled_in: bool,
    /// Whether any scale-out alarm was in ALARM (applied or not), with the
    /// end of the newest datapoint it saw.
    pub out_alarm: Option<SimTime>,
}

/// Application Auto Scaling for one ECS service.
pub struct AutoScaler {
    /// Current minimum capacity.
    pub min: u32,
    /// Current maximum capacity.
    pub max: u32,
    tt: Vec<TargetTracking>,
    steps: Vec<StepPolicy>,
    /// Scheduled actions.
    pub scheduled: Vec<Scheduled>,
    out_cooldown_until: SimTime,
    in_cooldown_until: SimTime,
}

/// Metrics the policies use (to tell the control plane what to publish).
pub fn metrics_used(spec: &AutoscalingSpec) -> Vec<Metric> {
    let mut v: Vec<Metric> = spec
        .target_tracking_policies()
        .iter()
        .map(|p| p.predefined_metric)
        .collect();
    v.extend(spec.step_scaling.iter().map(|s| s.metric));
    v
}

impl AutoScaler {
    /// Compiles a validated spec.
    pub fn new(spec: &AutoscalingSpec) -> Self {
        let tt = spec
            .target_tracking_policies()
            .iter()
            .enumerate()
            .map(|(i, p)| TargetTracking {
                name: p
                    .name
                    .clone()
                    .unwrap_or_else(|| format!("target-tracking-{}", i + 1)),
                target: p.target_value,
                high: Alarm {
                    metric: p.predefined_metric,
                    threshold: p.target_value,
                    comparison: Comparison::GreaterThanThreshold,
                    periods: 3,
                    needed: 3,
                },
                low: Alarm {
                    metric: p.predefined_metric,
                    threshold: 0.9 * p.target_value,
                    comparison: Comparison::LessThanThreshold,
                    periods: 15,
                    needed: 15,
                },
                out_cooldown: p.scale_out_cooldown.0,
                in_cooldown: p.scale_in_cooldown.0,
                disable_in: p.disable_scale_in,
            })
            .collect();
        let steps = spec
            .step_scaling
            .iter()
            .enumerate()
            .map(|(i, s)| StepPolicy {
                name: s.name.clone().unwrap_or_else(|| format!("step-{}", i + 1)),
                alarm: Alarm {
                    metric: s.metric,
                    threshold: s.threshold,
                    comparison: s.comparison,
                    periods: s.evaluation_periods,
                    needed: s.datapoints_to_alarm.unwrap_or(s.evaluation_periods),
                },
                adjustment_type: s.adjustment_type,
                steps: s.steps.clone(),
                min_magnitude: s.min_adjustment_magnitude,
                cooldown: s.cooldown.0,
                out_cooldown: None,
                in_cooldown_until: 0,
            })
            .collect();
        let scheduled = spec
            .scheduled
            .iter()
            .enumerate()
            .map(|(i, s)| Scheduled {
                name: s
                    .name
                    .clone()
                    .unwrap_or_else(|| format!("scheduled-{}", i + 1)),
                at: s.at.0,
                every: s.every.map(|d| d.0),
                min: s.min_capacity,
                max: s.max_capacity,
            })
            .collect();
        AutoScaler {
            min: spec.min_capacity,
            max: spec.max_capacity,
            tt,
            steps,
            scheduled,
            out_cooldown_until: 0,
            in_cooldown_until: 0,
        }
    }

    /// Target values of the target-tracking policies, by metric.
    pub fn targets(&self) -> Vec<(Metric, f64)> {
        self.tt.iter().map(|p| (p.high.metric, p.target)).collect()
    }

    fn step_change(&self, p: &StepPolicy, value: f64, desired: u32) -> Option<i64> {
        let diff = value - p.alarm.threshold;
        let up = p.alarm.comparison.upward();
        let step = p.steps.iter().find(|s| {
            let lo = s.lower.unwrap_or(f64::NEG_INFINITY);
            let hi = s.upper.unwrap_or(f64::INFINITY);
            if up {
                lo <= diff && diff < hi
            } else {
                lo < diff && diff <= hi
            }
        })?;
        Some(match p.adjustment_type {
            AdjustmentType::ChangeInCapacity => step.adjustment.round() as i64,
            AdjustmentType::ExactCapacity => step.adjustment.round() as i64 - desired as i64,
            AdjustmentType::PercentChangeInCapacity => {
                let mut c = percent_rounding(desired as f64 * step.adjustment / 100.0);
                if let Some(m) = p.min_magnitude
                    && c != 0
                    && c.unsigned_abs() < m as u64
                {
                    c = c.signum() * m as i64;
                }
                c
            }
        })
    }

    /// Evaluates every policy at `now` and decides the new desired count.
    pub fn evaluate(
        &mut self,
        now: SimTime,
        cw: &CloudWatch,
        running: u32,
        desired: u32,
    ) -> Outcome {
        struct Proposal {
            row: usize,
            desired: u32,
            policy: Option<usize>,
        }
        let mut rows: Vec<Decision> = Vec::new();
        let mut outs: Vec<Proposal> = Vec::new();
        let mut ins: Vec<Proposal> = Vec::new();
        let mut all_tt_in = !self.tt.iter().all(|p| p.disable_in);
        let mut out_alarm: Option<SimTime> = None;
        let mut formulas: Vec<(usize, String)> = Vec::new();
        let row =
            |policy: &str, alarm: &Alarm, e: &AlarmEval, proposed: Option<u32>, reason: String| {
                Decision {
                    time_s: now as f64 / SECOND as f64,
                    clock: clock(now),
                    policy: policy.to_string(),
                    alarm: alarm.describe(),
                    datapoints: e
                        .values
                        .iter()
                        .map(|v| v.map_or("-".into(), |v| format!("{v:.2}")))
                        .collect::<Vec<_>>()
                        .join(";"),
                    alarm_state: e.state.as_str().to_string(),
                    running,
                    old_desired: desired,
                    proposed,
                    new_desired: desired,
                    action: "none".into(),
                    reason,
                }
            };
        for p in &self.tt {
            let high = p.high.evaluate(cw, now);
            let low = p.low.evaluate(cw, now);
            let latest = high.values.last().copied().flatten();
            // Proportional on the running count behind the newest datapoint:
            // N tasks at m % need N × m / target tasks to sit at the target.
            let base = cw
                .newest_published(now)
                .map_or(running as f64, |m| cw.points()[m].running);
            let proposal = latest.map(|m| (base * m / p.target - 1e-9).ceil().max(0.0) as u32);
            let formula = latest.map(|m| {
                format!(
                    "ceil({base:.2} running × {m:.2} / {}) = {}",
                    fmt_num(p.target),
                    proposal.unwrap_or(0)
                )
            });
            let mut this_in = false;
            if high.state == AlarmState::Alarm {
                out_alarm = out_alarm.max(high.newest_end);
                let prop = proposal.unwrap_or(desired);
                rows.push(row(&p.name, &p.high, &high, Some(prop), String::new()));
                formulas.push((rows.len() - 1, formula.clone().unwrap_or_default()));
                outs.push(Proposal {
                    row: rows.len() - 1,
                    desired: prop,
                    policy: None,
                });
            } else if low.state == AlarmState::Alarm && !p.disable_in {
                let prop = proposal.unwrap_or(desired);
                rows.push(row(&p.name, &p.low, &low, Some(prop), String::new()));
                formulas.push((rows.len() - 1, formula.clone().unwrap_or_default()));
                ins.push(Proposal {
                    row: rows.len() - 1,
                    desired: prop,
                    policy: None,
                });
                this_in = true;
            } else if high.breaching > 0 {
                rows.push(row(
                    &p.name,
                    &p.high,
                    &high,
                    None,
                    format!(
                        "no action: {} of {} datapoints {}, {} needed",
                        high.breaching,
                        p.high.periods,
                        p.high.describe(),
                        p.high.needed
                    ),
                ));
            } else if low.breaching > 0
                && !p.disable_in
                && low.state != AlarmState::InsufficientData
            {
                rows.push(row(
                    &p.name,
                    &p.low,
                    &low,
                    None,
                    format!(
                        "no action: {} of {} datapoints {}, {} needed to scale in",
                        low.breaching,
                        p.low.periods,
                        p.low.describe(),
                        p.low.needed
                    ),
                ));
            }
            if !p.disable_in && !this_in {
                all_tt_in = false;
            }
        }
        for (i, p) in self.steps.iter().enumerate() {
            let e = p.alarm.evaluate(cw, now);
            if e.state != AlarmState::Alarm {
                if e.breaching > 0 {
                    rows.push(row(
                        &p.name,
                        &p.alarm,
                        &e,
                        None,
                        format!(
                            "no action: {} of {} datapoints {}, {} needed",
                            e.breaching,
                            p.alarm.periods,
                            p.alarm.describe(),
                            p.alarm.needed
                        ),
                    ));
                }
                continue;
            }
            // The newest datapoint present (CloudWatch's "missing" treatment).
            let latest = e
                .values
                .iter()
                .rev()
                .find_map(|v| *v)
                .unwrap_or(p.alarm.threshold);
            // In a scale-out cooldown the adjustment applies to the capacity
            // the cooldown started from: only the difference is added.
            let base = match p.out_cooldown {
                Some((b, until)) if now < until => b,
                _ => desired,
            };
            let change = self.step_change(p, latest, base);
            let proposed = change.map(|c| (base as i64 + c).max(0) as u32);
            if p.alarm.comparison.upward() {
                out_alarm = out_alarm.max(e.newest_end);
            }
            rows.push(row(&p.name, &p.alarm, &e, proposed, String::new()));
            match (change, proposed) {
                (Some(c), Some(d)) if c > 0 || d > desired => outs.push(Proposal {
                    row: rows.len() - 1,
                    desired: d,
                    policy: Some(i),
                }),
                (Some(c), Some(d)) if c < 0 || d < desired => ins.push(Proposal {
                    row: rows.len() - 1,
                    desired: d,
                    policy: Some(i),
                }),
                _ => {
                    rows.last_mut().expect("pushed").reason =
                        "no action: no step matches, or a zero adjustment".into()
                }
            }
        }

        let mut new_desired = desired;
        let mut scaled_out = false;
        let mut scaled_in = false;
        if !outs.is_empty() {
            let best = outs.iter().map(|p| p.desired).max().expect("non-empty");
            let target = best.max(self.min).min(self.max);
            let in_cooldown = now < self.out_cooldown_until;
            for p in &outs {
                rows[p.row].reason = if target > desired && p.desired == best {
                    if in_cooldown {
                        format!(
                            "scale out (larger than the current desired count during the scale-out cooldown until {})",
                            clock(self.out_cooldown_until)
                        )
                    } else {
                        "scale out".into()
                    }
                } else if p.desired <= desired {
                    if in_cooldown {
                        format!(
                            "suppressed: proposal ≤ desired count {desired} during the scale-out cooldown until {}",
                            clock(self.out_cooldown_until)
                        )
                    } else {
                        format!(
                            "no action: proposal ≤ desired count {desired} (capacity already added counts)"
                        )
                    }
                } else if best.min(self.max) <= desired {
                    format!("suppressed: at max_capacity {}", self.max)
                } else {
                    "not applied: another policy asked for more".into()
                };
            }
            if target > desired {
                new_desired = target;
                scaled_out = true;
                let cd = self
                    .tt
                    .iter()
                    .map(|p| p.out_cooldown)
                    .chain(
                        outs.iter()
                            .filter_map(|p| p.policy)
                            .map(|i| self.steps[i].cooldown),
                    )
                    .max()
                    .unwrap_or(0);
                self.out_cooldown_until = now + cd;
                // A scale-out ends any scale-in cooldown (aws.md §2.2), the
                // step policies' too.
                self.in_cooldown_until = self.in_cooldown_until.min(now);
                for s in &mut self.steps {
                    s.in_cooldown_until = s.in_cooldown_until.min(now);
                }
                for p in outs.iter().filter_map(|p| p.policy) {
                    let s = &mut self.steps[p];
                    if !matches!(s.out_cooldown, Some((_, until)) if now < until) {
                        s.out_cooldown = Some((desired, now + s.cooldown));
                    }
                }
            }
        } else if !ins.is_empty() {
            let in_cooldown = now < self.in_cooldown_until;
            let tt_ins: Vec<&Proposal> = ins.iter().filter(|p| p.policy.is_none()).collect();
            let step_ins: Vec<&Proposal> = ins.iter().filter(|p| p.policy.is_some()).collect();
            // Target tracking scales in only when every scale-in-enabled
            // policy agrees; the largest capacity wins.
            let tt_target = (all_tt_in && !tt_ins.is_empty() && !in_cooldown)
                .then(|| tt_ins.iter().map(|p| p.desired).max().expect("non-empty"));
            let step_target = step_ins
                .iter()
                .filter(|p| now >= self.steps[p.policy.expect("step")].in_cooldown_until)
                .map(|p| p.desired)
                .max();
            let target = match (tt_target, step_target) {
                (Some(a), Some(b)) => Some(a.max(b)),
                (a, b) => a.or(b),
            }
            .map(|t| t.max(self.min).min(self.max.max(desired)));
            for p in &ins {
                let step_cd = p
                    .policy
                    .map(|i| self.steps[i].in_cooldown_until)
                    .filter(|u| now < *u);
                rows[p.row].reason = if p.policy.is_none() && !all_tt_in {
                    "not applied: scale-in needs every scale-in-enabled target-tracking policy to agree".into()
                } else if p.policy.is_none() && in_cooldown {
                    format!(
                        "suppressed: scale-in cooldown until {}",
                        clock(self.in_cooldown_until)
                    )
                } else if let Some(u) = step_cd {
                    format!("suppressed: scale-in cooldown until {}", clock(u))
                } else if p.desired >= desired {
                    format!("no action: proposal ≥ desired count {desired}")
                } else if target.is_some_and(|t| t >= desired) {
                    format!("suppressed: at min_capacity {}", self.min)
                } else if target == Some(p.desired.max(self.min)) {
                    "scale in".into()
                } else {
                    "not applied: another policy keeps more capacity".into()
                };
            }
            if let Some(t) = target
                && t < desired
            {
                new_desired = t;
                scaled_in = true;
                if tt_target.is_some() {
                    let cd = self
                        .tt
                        .iter()
                        .filter(|p| !p.disable_in)
                        .map(|p| p.in_cooldown)
                        .max()
                        .unwrap_or(0);
                    self.in_cooldown_until = now + cd;
                }
                for p in ins.iter().filter_map(|p| p.policy) {
                    self.steps[p].in_cooldown_until = now + self.steps[p].cooldown;
                }
            }
        }
        for (i, f) in formulas {
            if !f.is_empty() {
                rows[i].reason = format!("{} [{f}]", rows[i].reason);
            }
        }
        for r in &mut rows {
            r.new_desired = new_desired;
            if r.reason.starts_with("scale out") && scaled_out {
                r.action = "scale_out".into();
            } else if r.reason.starts_with("scale in") && scaled_in {
                r.action = "scale_in".into();
            }
        }
        Outcome {
            desired: new_desired,
            rows,
            scaled_out,
            scaled_in,
            out_alarm,
        }
    }

    /// Applies scheduled action `i` at `now`: new min/max, desired clamped.
    pub fn apply_scheduled(
        &mut self,
        i: usize,
        now: SimTime,
        running: u32,
        desired: u32,
    ) -> (u32, Decision) {
        let s = self.scheduled[i].clone();
        if let Some(m) = s.min {
            self.min = m;
        }
        if let Some(m) = s.max {
            self.max = m;
        }
        if self.min > self.max {
            self.max = self.min;
        }
        let new = desired.max(self.min).min(self.max);
        let d = Decision {
            time_s: now as f64 / SECOND as f64,
            clock: clock(now),
            policy: s.name.clone(),
            alarm: String::new(),
            datapoints: String::new(),
            alarm_state: String::new(),
            running,
            old_desired: desired,
            proposed: None,
            new_desired: new,
            action: if new != desired {
                "limits".into()
            } else {
                "none".into()
            },
            reason: format!(
                "scheduled action: min_capacity {} max_capacity {}",
                self.min, self.max
            ),
        };
        (new, d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_rounding_follows_aws() {
        // aws.md §2.3 worked example: 10 +10% → 11; 11 +30% = 3.3 → 3; 14 −10% = −1.4 → −1.
        assert_eq!(percent_rounding(1.0), 1);
        assert_eq!(percent_rounding(3.3), 3);
        assert_eq!(percent_rounding(-1.4), -1);
        assert_eq!(percent_rounding(0.4), 1);
        assert_eq!(percent_rounding(-0.4), -1);
        assert_eq!(percent_rounding(-6.67), -6);
        assert_eq!(percent_rounding(12.7), 12);
    }

    #[test]
    fn clock_format() {
        assert_eq!(clock(9 * 3600 * SECOND + 3 * 60 * SECOND), "d0 09:03:00");
        assert_eq!(clock(86_400 * SECOND + 1), "d1 00:00:00");
    }

    use crate::metrics::cloudwatch::Datapoint;
    use crate::time::MINUTE;

    fn cw(cpu: &[f64], running: f64) -> CloudWatch {
        let mut cw = CloudWatch::new(0);
        for (m, v) in cpu.iter().enumerate() {
            cw.record(
                m,
                Datapoint {
                    cpu: Some(*v),
                    running,
                    ..Default::default()
                },
            );
        }
        cw
    }

    fn spec(toml: &str) -> AutoscalingSpec {
        let s: AutoscalingSpec = toml::from_str(toml).unwrap();
        s.validate().unwrap();
        s
    }

    #[test]
    fn step_scale_out_in_cooldown_adds_only_the_difference() {
        // +2 above 60, +3 above 80 (aws.md §2.3: "+2 then +3 ⇒ +1 more").
        let mut a = AutoScaler::new(&spec(
            r#"min_capacity = 1
max_capacity = 20
[[step_scaling]]
threshold = 60
comparison = "greater_than_threshold"
adjustment_type = "ChangeInCapacity"
cooldown = "300s"
steps = [{ lower = 0, upper = 20, adjustment = 2 }, { lower = 20, adjustment = 3 }]
"#,
        ));
        let o = a.evaluate(MINUTE, &cw(&[70.0], 10.0), 10, 10);
        assert_eq!(o.desired, 12);
        // Still in cooldown, a bigger breach: 10 + 3 = 13, one more than 12.
        let o = a.evaluate(2 * MINUTE, &cw(&[70.0, 90.0], 10.0), 10, 12);
        assert_eq!(o.desired, 13);
        // Same breach again in cooldown: nothing more.
        let o = a.evaluate(3 * MINUTE, &cw(&[70.0, 90.0, 90.0], 10.0), 10, 13);
        assert_eq!(o.desired, 13);
        assert!(o.rows[0].reason.contains("cooldown"), "{:?}", o.rows);
        // After the cooldown: +3 on 13.
        let o = a.evaluate(7 * MINUTE, &cw(&[90.0; 7], 13.0), 13, 13);
        assert_eq!(o.desired, 16);
    }

    #[test]
    fn scale_out_if_any_scale_in_only_if_all() {
        let toml = r#"min_capacity = 1
max_capacity = 50
target_value = 50
scale_in_cooldown = "0s"
[[target_tracking]]
target_value = 80
scale_in_cooldown = "0s"
"#;
        let mut a = AutoScaler::new(&spec(toml));
        // 60 %: above the first target only → out to ceil(10 × 60 / 50) = 12.
        let o = a.evaluate(3 * MINUTE, &cw(&[60.0; 3], 10.0), 10, 10);
        assert_eq!((o.desired, o.scaled_out), (12, true));
        // 40 % for 15 minutes: below 45 and below 72 → both say in; the
        // largest capacity wins: ceil(10 × 40 / 50) = 8 vs ceil(10 × 40 / 80) = 5.
        let mut a = AutoScaler::new(&spec(toml));
        let o = a.evaluate(15 * MINUTE, &cw(&[40.0; 15], 10.0), 10, 10);
        assert_eq!((o.desired, o.scaled_in), (8, true));
        // 47 %: below 72 but not below 45 → the first says no → no scale-in.
        let mut a = AutoScaler::new(&spec(toml));
        let o = a.evaluate(15 * MINUTE, &cw(&[47.0; 15], 10.0), 10, 10);
        assert_eq!((o.desired, o.scaled_in), (10, false));
    }

    #[test]
    fn limits_and_scheduled_actions() {
        let mut a = AutoScaler::new(&spec(
            r#"min_capacity = 2
max_capacity = 6
target_value = 50
[[scheduled]]
at = "8h"
min_capacity = 8
max_capacity = 12
"#,
        ));
        let o = a.evaluate(3 * MINUTE, &cw(&[100.0; 3], 5.0), 5, 5);
        assert_eq!(o.desired, 6, "clamped to max_capacity");
        let o = a.evaluate(4 * MINUTE, &cw(&[100.0; 4], 6.0), 6, 6);
        assert_eq!(o.desired, 6);
        assert!(o.rows[0].reason.contains("max_capacity"), "{:?}", o.rows);
        let (d, row) = a.apply_scheduled(0, 8 * 60 * MINUTE, 6, 6);
        assert_eq!(d, 8);
        assert_eq!(row.action, "limits");
    }

    #[test]
    fn a_scale_out_ends_a_step_scale_in_cooldown() {
        let mut a = AutoScaler::new(&spec(
            r#"min_capacity = 1
max_capacity = 20
[[step_scaling]]
name = "in"
threshold = 30
comparison = "less_than_threshold"
adjustment_type = "ChangeInCapacity"
cooldown = "600s"
steps = [{ upper = 0, adjustment = -1 }]
[[step_scaling]]
name = "out"
threshold = 70
comparison = "greater_than_threshold"
adjustment_type = "ChangeInCapacity"
cooldown = "60s"
steps = [{ lower = 0, adjustment = 2 }]
"#,
        ));
        assert_eq!(a.evaluate(MINUTE, &cw(&[20.0], 10.0), 10, 10).desired, 9);
        assert_eq!(
            a.evaluate(2 * MINUTE, &cw(&[20.0, 90.0], 9.0), 9, 9)
                .desired,
            11
        );
        // The scale-out ended the scale-in cooldown: low CPU scales in at once.
        assert_eq!(
            a.evaluate(3 * MINUTE, &cw(&[20.0, 90.0, 10.0], 11.0), 11, 11)
                .desired,
            10
        );
    }
}
