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

mod alarm;
mod decision;
pub mod lag;
mod spec;

pub use alarm::{Alarm, AlarmEval, AlarmState};
pub use spec::{
    AdjustmentType, AutoscalingSpec, CapacityBase, Comparison, HIGH_RESOLUTION_METRIC_DELAY_S,
    HighResolutionAlarms, MAX_TASKS, METRIC_DELAY_S, MetricAggregation, ScheduledSpec,
    StepScalingSpec, StepSpec, TargetTrackingSpec,
};

use crate::metrics::cloudwatch::{CloudWatch, Metric};
use crate::time::{SECOND, SimTime};
pub use decision::{Decision, QUIET, Text, clock};
use std::sync::Arc;

/// A log row's text, written only when the autoscaler keeps its log's text
/// (`AutoScaler::without_text`): the minute's no-action reasons and
/// formulas cost more than the evaluation itself.
macro_rules! say {
    ($text:expr, $($arg:tt)*) => {
        if $text { format!($($arg)*) } else { String::new() }
    };
}

pub(crate) fn fmt_num(v: f64) -> String {
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

struct TargetTracking {
    name: Arc<str>,
    target: f64,
    high: Alarm,
    low: Alarm,
    /// `high.describe()` and `low.describe()`, and the reason of a quiet
    /// evaluation: written once, not at every evaluation.
    high_label: Arc<str>,
    low_label: Arc<str>,
    quiet: Arc<str>,
    out_cooldown: SimTime,
    in_cooldown: SimTime,
    disable_in: bool,
}

struct StepPolicy {
    name: Arc<str>,
    alarm: Alarm,
    /// `alarm.describe()` and the reason of a quiet evaluation.
    label: Arc<str>,
    quiet: Arc<str>,
    adjustment_type: AdjustmentType,
    steps: Vec<StepSpec>,
    min_magnitude: Option<u32>,
    cooldown: SimTime,
    aggregation: MetricAggregation,
    /// The base (running count) this policy's scale-out cooldown began
    /// from, and its end.
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
    /// Whether any scale-out alarm was in ALARM (applied or not): the end
    /// of the oldest breaching datapoint in its window and of the newest
    /// datapoint it saw (between the two it waited for N of M to breach).
    pub out_alarm: Option<(SimTime, SimTime)>,
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
    base: CapacityBase,
    /// The running count when the target-tracking scale-out cooldown began.
    out_cooldown_base: u32,
    /// Whether any policy reads a 20-second metric.
    high_resolution: bool,
    /// Write the log rows' text (false: a sweep keeps no log; the rows
    /// still carry the decisions, without their datapoints, formulas and
    /// reasons of insufficient data; their other text is written only if
    /// read).
    text: bool,
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
    /// The same autoscaler, its log rows without their text (a sweep's
    /// run, which keeps no log: the decisions are the same).
    pub fn without_text(mut self) -> Self {
        self.text = false;
        self
    }

    /// Compiles a validated spec.
    pub fn new(spec: &AutoscalingSpec) -> Self {
        // Target tracking's alarms (aws.md §2.1): 3 of 3 above, 15 of 15
        // below on one-minute datapoints; on 20-second ones the scenario's
        // (AWS does not publish them).
        let hr = spec.high_resolution_alarms;
        let high_n = |m: Metric| if m.high_resolution() { hr.high } else { 3 };
        let low_n = |m: Metric| if m.high_resolution() { hr.low } else { 15 };
        let tt = spec
            .target_tracking_policies()
            .iter()
            .enumerate()
            .map(|(i, p)| TargetTracking {
                name: p
                    .name
                    .clone()
                    .unwrap_or_else(|| format!("target-tracking-{}", i + 1))
                    .into(),
                target: p.target_value,
                high: Alarm {
                    metric: p.predefined_metric,
                    threshold: p.target_value,
                    comparison: Comparison::GreaterThanThreshold,
                    periods: high_n(p.predefined_metric),
                    needed: high_n(p.predefined_metric),
                },
                low: Alarm {
                    metric: p.predefined_metric,
                    threshold: 0.9 * p.target_value,
                    comparison: Comparison::LessThanThreshold,
                    periods: low_n(p.predefined_metric),
                    needed: low_n(p.predefined_metric),
                },
                out_cooldown: p.scale_out_cooldown.0,
                in_cooldown: p.scale_in_cooldown.0,
                disable_in: p.disable_scale_in,
                high_label: Arc::from(""),
                low_label: Arc::from(""),
                quiet: Arc::from(""),
            })
            .map(|mut t: TargetTracking| {
                t.high_label = t.high.describe().into();
                t.low_label = t.low.describe().into();
                t.quiet = if t.disable_in {
                    format!("{QUIET}: no datapoint {} (scale-in disabled)", t.high_label)
                } else {
                    format!(
                        "{QUIET}: no datapoint {}, none {}",
                        t.high_label, t.low_label
                    )
                }
                .into();
                t
            })
            .collect();
        let steps = spec
            .step_scaling
            .iter()
            .enumerate()
            .map(|(i, s)| StepPolicy {
                name: s
                    .name
                    .clone()
                    .unwrap_or_else(|| format!("step-{}", i + 1))
                    .into(),
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
                aggregation: s.metric_aggregation_type,
                out_cooldown: None,
                in_cooldown_until: 0,
                label: Arc::from(""),
                quiet: Arc::from(""),
            })
            .map(|mut p: StepPolicy| {
                p.label = p.alarm.describe().into();
                p.quiet = format!("{QUIET}: no datapoint {}", p.label).into();
                p
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
            base: spec.capacity_base,
            out_cooldown_base: 0,
            high_resolution: metrics_used(spec).iter().any(|m| m.high_resolution()),
            text: true,
        }
    }

    /// Whether any policy reads a 20-second metric (the service then
    /// publishes them and evaluates every 20 s).
    pub fn high_resolution(&self) -> bool {
        self.high_resolution
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
    /// `cw` holds the one-minute datapoints, `hr` the 20-second ones (when
    /// a policy uses them); `running` is the running count now.
    pub fn evaluate(
        &mut self,
        now: SimTime,
        cw: &CloudWatch,
        hr: Option<&CloudWatch>,
        running: u32,
        desired: u32,
    ) -> Outcome {
        let store = |m: Metric| {
            if m.high_resolution() {
                hr.unwrap_or(cw)
            } else {
                cw
            }
        };
        // The base a proposal starts from (aws.md §9.1): the running count
        // now, or during a scale-out cooldown the one it began with (the
        // capacity that scale-out added counts as desired capacity); or,
        // with `datapoint`, the count behind the newest datapoint.
        let in_out_cooldown = now < self.out_cooldown_until;
        let base_of = |m: Metric| -> (f64, &'static str) {
            match self.base {
                CapacityBase::Running if in_out_cooldown => {
                    (self.out_cooldown_base as f64, "running at the scale-out")
                }
                CapacityBase::Running => (running as f64, "running"),
                CapacityBase::Datapoint => {
                    let c = store(m);
                    (
                        c.newest_published(now)
                            .map_or(running as f64, |i| c.points()[i].running),
                        "running behind the datapoint",
                    )
                }
            }
        };
        struct Proposal {
            row: usize,
            desired: u32,
            policy: Option<usize>,
        }
        let mut rows: Vec<Decision> = Vec::new();
        let mut outs: Vec<Proposal> = Vec::new();
        let mut ins: Vec<Proposal> = Vec::new();
        let mut all_tt_in = !self.tt.iter().all(|p| p.disable_in);
        let mut out_alarm: Option<(SimTime, SimTime)> = None;
        let mut mark = |e: &AlarmEval| {
            if let Some(newest) = e.newest_end {
                let w = (e.first_breach_end.unwrap_or(newest).min(newest), newest);
                if out_alarm.is_none_or(|(_, n)| newest > n) {
                    out_alarm = Some(w);
                }
            }
        };
        let mut formulas: Vec<(usize, String)> = Vec::new();
        let text = self.text;
        // A row keeps its text's parts (written when the log is read).
        let row = |policy: &Arc<str>,
                   alarm: &Arc<str>,
                   e: &AlarmEval,
                   proposed: Option<u32>,
                   reason: Text| Decision {
            time_s: now as f64 / SECOND as f64,
            clock: Text::Clock(now),
            policy: Text::Shared(policy.clone()),
            alarm: Text::Shared(alarm.clone()),
            // A sweep's log keeps no row: no copy of the datapoints.
            datapoints: if text {
                Text::datapoints(e)
            } else {
                Text::default()
            },
            alarm_state: Text::Static(e.state.as_str()),
            running,
            old_desired: desired,
            proposed,
            new_desired: desired,
            action: Text::Static("none"),
            reason,
        };
        for p in &self.tt {
            let c = store(p.high.metric);
            let high = p.high.evaluate(c, now);
            let low = p.low.evaluate(c, now);
            let latest = high.values.last().copied().flatten();
            // Proportional: N tasks at m % need N × m / target tasks to sit
            // at the target.
            let (base, what) = base_of(p.high.metric);
            let proposal = latest.map(|m| (base * m / p.target - 1e-9).ceil().max(0.0) as u32);
            // Written only for the rows that show it.
            let formula = || {
                latest.map(|m| {
                    say!(
                        text,
                        "ceil({} {what} × {m:.2} / {}) = {}",
                        fmt_num(base),
                        fmt_num(p.target),
                        proposal.unwrap_or(0)
                    )
                })
            };
            let mut this_in = false;
            if high.state == AlarmState::Alarm {
                mark(&high);
                let prop = proposal.unwrap_or(desired);
                rows.push(row(
                    &p.name,
                    &p.high_label,
                    &high,
                    Some(prop),
                    Text::default(),
                ));
                formulas.push((rows.len() - 1, formula().unwrap_or_default()));
                outs.push(Proposal {
                    row: rows.len() - 1,
                    desired: prop,
                    policy: None,
                });
            } else if low.state == AlarmState::Alarm && !p.disable_in {
                let prop = proposal.unwrap_or(desired);
                rows.push(row(
                    &p.name,
                    &p.low_label,
                    &low,
                    Some(prop),
                    Text::default(),
                ));
                formulas.push((rows.len() - 1, formula().unwrap_or_default()));
                ins.push(Proposal {
                    row: rows.len() - 1,
                    desired: prop,
                    policy: None,
                });
                this_in = true;
            } else if high.breaching > 0 {
                rows.push(row(
                    &p.name,
                    &p.high_label,
                    &high,
                    None,
                    Text::Breaching {
                        breaching: high.breaching,
                        periods: p.high.periods,
                        label: p.high_label.clone(),
                        needed: p.high.needed,
                        to_scale_in: false,
                    },
                ));
            } else if high.state == AlarmState::InsufficientData {
                rows.push(row(
                    &p.name,
                    &p.high_label,
                    &high,
                    None,
                    say!(
                        text,
                        "{QUIET}: insufficient data ({} of {} datapoints published)",
                        high.values.len(),
                        p.high.periods
                    )
                    .into(),
                ));
            } else if low.breaching > 0
                && !p.disable_in
                && low.state != AlarmState::InsufficientData
            {
                rows.push(row(
                    &p.name,
                    &p.low_label,
                    &low,
                    None,
                    Text::Breaching {
                        breaching: low.breaching,
                        periods: p.low.periods,
                        label: p.low_label.clone(),
                        needed: p.low.needed,
                        to_scale_in: true,
                    },
                ));
            } else {
                rows.push(row(
                    &p.name,
                    &p.high_label,
                    &high,
                    None,
                    Text::Shared(p.quiet.clone()),
                ));
            }
            if !p.disable_in && !this_in {
                all_tt_in = false;
            }
        }
        for (i, p) in self.steps.iter().enumerate() {
            let e = p.alarm.evaluate(store(p.alarm.metric), now);
            if e.state != AlarmState::Alarm {
                if e.breaching == 0 {
                    rows.push(row(
                        &p.name,
                        &p.label,
                        &e,
                        None,
                        Text::Shared(p.quiet.clone()),
                    ));
                } else {
                    rows.push(row(
                        &p.name,
                        &p.label,
                        &e,
                        None,
                        Text::Breaching {
                            breaching: e.breaching,
                            periods: p.alarm.periods,
                            label: p.label.clone(),
                            needed: p.alarm.needed,
                            to_scale_in: false,
                        },
                    ));
                }
                continue;
            }
            // The step matches the alarm's datapoints aggregated by the
            // policy's MetricAggregationType (StepScalingPolicyConfiguration:
            // Average by default); missing ones are left out.
            let present: Vec<f64> = e.values.iter().filter_map(|v| *v).collect();
            let latest = if present.is_empty() {
                p.alarm.threshold
            } else {
                match p.aggregation {
                    MetricAggregation::Average => {
                        present.iter().sum::<f64>() / present.len() as f64
                    }
                    MetricAggregation::Minimum => {
                        present.iter().copied().fold(f64::INFINITY, f64::min)
                    }
                    MetricAggregation::Maximum => {
                        present.iter().copied().fold(f64::NEG_INFINITY, f64::max)
                    }
                }
            };
            // The running count is the starting point (ECS guide: it
            // "prevents excessive (runaway) scaling"); in a scale-out
            // cooldown, the base the cooldown started from: only the
            // difference is added.
            let base = match p.out_cooldown {
                Some((b, until)) if now < until => b,
                _ => match self.base {
                    CapacityBase::Running => running,
                    CapacityBase::Datapoint => base_of(p.alarm.metric).0.round() as u32,
                },
            };
            let change = self.step_change(p, latest, base);
            let proposed = change.map(|c| (base as i64 + c).max(0) as u32);
            if p.alarm.comparison.upward() {
                mark(&e);
            }
            rows.push(row(&p.name, &p.label, &e, proposed, Text::default()));
            formulas.push((
                rows.len() - 1,
                say!(
                    text,
                    "{:?} of the datapoints {}; {base} running {} {} = {}",
                    p.aggregation,
                    fmt_num((latest * 100.0).round() / 100.0),
                    if change.unwrap_or(0) >= 0 { "+" } else { "−" },
                    change.unwrap_or(0).unsigned_abs(),
                    proposed.map_or("-".into(), |d| d.to_string())
                ),
            ));
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
                        Text::Static("no action: no step matches, or a zero adjustment")
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
                let why: String = if target > desired && p.desired == best {
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
                rows[p.row].reason = why.into();
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
                if !in_cooldown {
                    self.out_cooldown_base = running;
                }
                let step_base = match self.base {
                    CapacityBase::Running => running,
                    CapacityBase::Datapoint => desired,
                };
                for p in outs.iter().filter_map(|p| p.policy) {
                    let s = &mut self.steps[p];
                    if !matches!(s.out_cooldown, Some((_, until)) if now < until) {
                        s.out_cooldown = Some((step_base, now + s.cooldown));
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
                let why: String = if p.desired >= desired {
                    format!("no action: proposal ≥ desired count {desired}")
                } else if p.policy.is_none() && !all_tt_in {
                    "not applied: scale-in needs every scale-in-enabled target-tracking policy to agree".into()
                } else if p.policy.is_none() && in_cooldown {
                    format!(
                        "suppressed: scale-in cooldown until {}",
                        clock(self.in_cooldown_until)
                    )
                } else if let Some(u) = step_cd {
                    format!("suppressed: scale-in cooldown until {}", clock(u))
                } else if target.is_some_and(|t| t >= desired) {
                    format!("suppressed: at min_capacity {}", self.min)
                } else if target == Some(p.desired.max(self.min)) {
                    "scale in".into()
                } else {
                    "not applied: another policy keeps more capacity".into()
                };
                rows[p.row].reason = why.into();
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
                rows[i].reason = format!("{} [{f}]", rows[i].reason).into();
            }
        }
        for r in &mut rows {
            r.new_desired = new_desired;
            // Only a proposal's row (text written above) says it scaled.
            let Text::Owned(reason) = &r.reason else {
                continue;
            };
            if reason.starts_with("scale out") && scaled_out {
                r.action = Text::Static("scale_out");
            } else if reason.starts_with("scale in") && scaled_in {
                r.action = Text::Static("scale_in");
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
            clock: Text::Clock(now),
            policy: s.name.clone().into(),
            alarm: Text::default(),
            datapoints: Text::default(),
            alarm_state: Text::default(),
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
            )
            .into(),
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
        let o = a.evaluate(MINUTE, &cw(&[70.0], 10.0), None, 10, 10);
        assert_eq!(o.desired, 12);
        // Still in cooldown, a bigger breach: 10 + 3 = 13, one more than 12.
        let o = a.evaluate(2 * MINUTE, &cw(&[70.0, 90.0], 10.0), None, 10, 12);
        assert_eq!(o.desired, 13);
        // Same breach again in cooldown: nothing more.
        let o = a.evaluate(3 * MINUTE, &cw(&[70.0, 90.0, 90.0], 10.0), None, 10, 13);
        assert_eq!(o.desired, 13);
        assert!(o.rows[0].reason.contains("cooldown"), "{:?}", o.rows);
        // After the cooldown: +3 on 13.
        let o = a.evaluate(7 * MINUTE, &cw(&[90.0; 7], 13.0), None, 13, 13);
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
        let o = a.evaluate(3 * MINUTE, &cw(&[60.0; 3], 10.0), None, 10, 10);
        assert_eq!((o.desired, o.scaled_out), (12, true));
        // 40 % for 15 minutes: below 45 and below 72 → both say in; the
        // largest capacity wins: ceil(10 × 40 / 50) = 8 vs ceil(10 × 40 / 80) = 5.
        let mut a = AutoScaler::new(&spec(toml));
        let o = a.evaluate(15 * MINUTE, &cw(&[40.0; 15], 10.0), None, 10, 10);
        assert_eq!((o.desired, o.scaled_in), (8, true));
        // 47 %: below 72 but not below 45 → the first says no → no scale-in.
        let mut a = AutoScaler::new(&spec(toml));
        let o = a.evaluate(15 * MINUTE, &cw(&[47.0; 15], 10.0), None, 10, 10);
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
        let o = a.evaluate(3 * MINUTE, &cw(&[100.0; 3], 5.0), None, 5, 5);
        assert_eq!(o.desired, 6, "clamped to max_capacity");
        let o = a.evaluate(4 * MINUTE, &cw(&[100.0; 4], 6.0), None, 6, 6);
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
        assert_eq!(
            a.evaluate(MINUTE, &cw(&[20.0], 10.0), None, 10, 10).desired,
            9
        );
        assert_eq!(
            a.evaluate(2 * MINUTE, &cw(&[20.0, 90.0], 9.0), None, 9, 9)
                .desired,
            11
        );
        // The scale-out ended the scale-in cooldown: low CPU scales in at once.
        assert_eq!(
            a.evaluate(3 * MINUTE, &cw(&[20.0, 90.0, 10.0], 11.0), None, 11, 11)
                .desired,
            10
        );
    }
}
