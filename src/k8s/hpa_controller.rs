//! The Horizontal Pod Autoscaler in a run: metrics-server's per-pod samples
//! (one every `metric_resolution`, over that window, visible to the HPA
//! `metric_delay` after the window ends) and the controller's sync loop
//! (every `sync_period`), which hands the pure calculator
//! ([`super::hpa`]) the pods as the controller sees them and turns its
//! answer into a new replica count and a decision-log row.
//!
//! The control plane owns time and pods: it calls [`HpaController::scrape`]
//! and [`HpaController::sync`] from its own events; nothing here schedules.

use super::hpa::{self, MetricSample, PodInfo, ResourceName};
use super::spec::{HpaConfig, Target};
use crate::engine::TaskId;
use crate::scaling::{Decision, Text};
use crate::time::{SECOND, SimTime};
use std::collections::VecDeque;

/// One pod's usage over a sample window.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Usage {
    /// CPU (millicores).
    pub cpu_m: f64,
    /// Memory in use (MiB).
    pub memory_mib: f64,
    /// Requests arriving per second.
    pub rps: f64,
}

/// One metrics-server scrape: every running pod's usage over the window
/// ending at `at`.
#[derive(Debug, Clone, PartialEq)]
pub struct Scrape {
    /// End of the window (the samples' timestamp).
    pub at: SimTime,
    /// Window length.
    pub window: SimTime,
    /// Pods with a sample.
    pub pods: Vec<(TaskId, Usage)>,
}

/// A pod as the controller sees it (phase, readiness, start) — the metric
/// and request are added here.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PodView {
    /// Id.
    pub id: TaskId,
    /// Phase.
    pub phase: hpa::PodPhase,
    /// Terminating.
    pub deleting: bool,
    /// Ready condition.
    pub ready: Option<hpa::ReadyCondition>,
    /// `status.startTime`.
    pub start_time: Option<SimTime>,
}

/// Requests of one pod, for Utilization targets.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PodRequests {
    /// CPU (millicores).
    pub cpu_m: f64,
    /// Memory (MiB).
    pub memory_mib: f64,
}

/// What a sync concluded.
#[derive(Debug, Clone, PartialEq)]
pub struct SyncOutcome {
    /// The new replica count (may equal the old one).
    pub desired: u32,
    /// The decision-log row of this sync (always one; marked quiet — see
    /// [`crate::scaling::QUIET`] — when the recommendation equalled the
    /// current count and nothing limited or failed).
    pub row: Option<Decision>,
    /// When the metrics asked for more replicas: the end of the newest
    /// sample window they saw (for the scaling-lag stages).
    pub out_signal: Option<SimTime>,
}

/// The HPA controller for one Deployment.
pub struct HpaController {
    cfg: HpaConfig,
    history: hpa::History,
    /// Scrapes not yet visible, oldest first.
    waiting: VecDeque<Scrape>,
    /// The newest visible sample of each pod, by id.
    latest: Vec<Option<(SimTime, Usage)>>,
    /// Window of the visible samples.
    window: SimTime,
    /// End of the newest visible window.
    newest: Option<SimTime>,
}

impl HpaController {
    /// A controller with no sample yet.
    pub fn new(cfg: HpaConfig) -> Self {
        HpaController {
            window: cfg.resolution,
            cfg,
            history: hpa::History::default(),
            waiting: VecDeque::new(),
            latest: Vec::new(),
            newest: None,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &HpaConfig {
        &self.cfg
    }

    /// metrics-server stored a scrape (visible `delay` after its window ends).
    pub fn scrape(&mut self, s: Scrape) {
        self.waiting.push_back(s);
    }

    fn publish(&mut self, now: SimTime) {
        while self
            .waiting
            .front()
            .is_some_and(|s| s.at + self.cfg.delay <= now)
        {
            let s = self.waiting.pop_front().expect("peeked");
            for (id, u) in &s.pods {
                let i = *id as usize;
                if self.latest.len() <= i {
                    self.latest.resize(i + 1, None);
                }
                self.latest[i] = Some((s.at, *u));
            }
            self.window = s.window;
            self.newest = Some(s.at);
        }
    }

    fn sample(&self, id: TaskId, value: impl Fn(&Usage) -> f64) -> Option<MetricSample> {
        let (at, u) = self.latest.get(id as usize).copied().flatten()?;
        // metrics-server keeps a pod's sample only while it is fresh: an
        // older one than the newest scrape means the pod had none since.
        if Some(at) != self.newest {
            return None;
        }
        Some(MetricSample {
            value: value(&u),
            timestamp: at,
            window: self.window,
        })
    }

    /// One sync at `now` with the target at `current` replicas.
    pub fn sync(
        &mut self,
        now: SimTime,
        pods: &[PodView],
        current: u32,
        requests: PodRequests,
    ) -> SyncOutcome {
        self.publish(now);
        let mut results = Vec::new();
        let mut seen = Vec::new();
        for t in &self.cfg.targets {
            let infos: Vec<PodInfo> = pods
                .iter()
                .map(|p| {
                    let (request, metric) = match t {
                        Target::Utilization(r, _) | Target::AverageValue(r, _) => match r {
                            ResourceName::Cpu => {
                                (Some(requests.cpu_m), self.sample(p.id, |u| u.cpu_m))
                            }
                            ResourceName::Memory => (
                                Some(requests.memory_mib),
                                self.sample(p.id, |u| u.memory_mib),
                            ),
                        },
                        Target::Pods(..) => (None, self.sample(p.id, |u| u.rps)),
                    };
                    PodInfo {
                        id: p.id,
                        phase: p.phase,
                        deleting: p.deleting,
                        ready: p.ready,
                        start_time: p.start_time,
                        request,
                        metric,
                    }
                })
                .collect();
            let r = match *t {
                Target::Utilization(r, v) => {
                    hpa::resource_utilization_replicas(current, v, r, &infos, now, &self.cfg.calc)
                }
                Target::AverageValue(r, v) => {
                    hpa::resource_average_value_replicas(current, v, r, &infos, now, &self.cfg.calc)
                }
                Target::Pods(_, v) => {
                    hpa::pods_metric_replicas(current, v, &infos, now, &self.cfg.calc)
                }
            };
            seen.push(match &r {
                Ok(c) => match t {
                    Target::Utilization(..) => {
                        format!("{:.0} %", c.utilization.unwrap_or(c.raw_average))
                    }
                    _ => format!("{:.1}", c.raw_average),
                },
                Err(_) => "-".into(),
            });
            results.push(r);
        }
        let d = hpa::desired_replicas(&mut self.history, &self.cfg.scaling, current, &results, now);
        if d.rescale
            && let Some(b) = &self.cfg.scaling.behavior
        {
            hpa::record_scale(&mut self.history, b, current, d.desired, now);
        }
        let recommended = d.recommendation.unwrap_or(d.desired);
        let out_signal = (recommended > current).then_some(self.newest).flatten();
        let interesting =
            d.rescale || recommended != current || d.reason == "FailedComputeMetricsReplicas";
        let row = Some({
            let mut reason = if interesting {
                d.message.clone()
            } else {
                format!("{}: {}", crate::scaling::QUIET, d.message)
            };
            if let Some(errs) = results
                .iter()
                .filter_map(|r| r.as_ref().err())
                .map(|e| e.to_string())
                .reduce(|a, b| format!("{a}; {b}"))
            {
                reason.push_str(&format!(" (metrics unavailable: {errs})"));
            }
            let ready = pods
                .iter()
                .filter(|p| p.ready.is_some_and(|r| r.ready) && !p.deleting)
                .count() as u32;
            Decision {
                time_s: now as f64 / SECOND as f64,
                clock: Text::Clock(now),
                policy: "hpa".into(),
                alarm: self
                    .cfg
                    .targets
                    .iter()
                    .map(Target::describe)
                    .collect::<Vec<_>>()
                    .join("; ")
                    .into(),
                datapoints: seen.join("; ").into(),
                alarm_state: Text::Static(d.reason),
                running: ready,
                old_desired: current,
                proposed: d.recommendation,
                new_desired: d.desired,
                action: if d.desired > current {
                    "scale_out".into()
                } else if d.desired < current {
                    "scale_in".into()
                } else {
                    "none".into()
                },
                reason: reason.into(),
            }
        });
        SyncOutcome {
            desired: d.desired,
            row,
            out_signal,
        }
    }
}
