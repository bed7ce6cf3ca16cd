//! Scaling lag: for each episode in which demand needs more tasks than are
//! serving, the time until enough capacity serves, split into the stages
//! that made it up.
//!
//! "Needed" is per minute, from the load model (not the noisy arrivals): the
//! tasks that keep each target-tracking metric at its target (CPU: offered
//! CPU-seconds per second / (vCPUs × target); requests per target: offered
//! requests per minute / target), or, without target tracking, the tasks that
//! can serve the offered CPU at 100 %. An episode opens when the serving count
//! drops below the need (at a minute start or when a task leaves) and closes
//! when it reaches it again (when a task becomes healthy, or the need falls).
//!
//! The stages of an episode closed by a new task are the consecutive
//! intervals, clipped to the episode: metric period (until the end of the
//! first breaching datapoint in the window of the first scale-out alarm in
//! ALARM), alarm datapoints (the alarm's N-of-M wait, until the end of the
//! newest datapoint it saw), publication delay (on ECS the calibrated
//! metric delay, which runs to the alarm's evaluation), alarm evaluation
//! (until that alarm's evaluation: zero on ECS), cooldown and other waits
//! (until the closing task was launched), provisioning (Fargate capacity,
//! or waiting for a place on a node), node provisioning (when the task's
//! node was launched after it: from that launch until the node was ready),
//! image pull, and health check (container start, application start or
//! readiness, first health check). They add up to the lag exactly.
//!
//! On Kubernetes the same boundaries are the HPA's: the metrics window, the
//! sample's delay, the wait for the HPA's sync, stabilization and rate
//! limits, Pending, node provisioning, image pull, readiness.

use crate::time::{MINUTE, SimTime};
use serde::{Deserialize, Serialize};

/// Stage durations (seconds).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Stages {
    /// Until the end of the first breaching datapoint's period.
    pub metric_period: f64,
    /// The alarm's N-of-M wait: from the first breaching datapoint's end
    /// to the newest one's (e.g. 3 of 3 one-minute datapoints: two more
    /// minutes). Zero on Kubernetes (the HPA has no N of M).
    #[serde(default)]
    pub alarm_datapoints: f64,
    /// CloudWatch publication delay.
    pub publication_delay: f64,
    /// Until the alarm evaluation that first saw it.
    pub alarm_evaluation: f64,
    /// Waiting on cooldowns, limits or later decisions until the task that
    /// closed the episode was launched.
    pub cooldown: f64,
    /// PROVISIONING (Fargate), or PENDING waiting for a place on a node.
    pub provisioning: f64,
    /// The node the task went to booting, when it was launched for it.
    #[serde(default)]
    pub node_provisioning: f64,
    /// PENDING (image pull).
    pub image_pull: f64,
    /// RUNNING until healthy in the target group.
    pub health_check: f64,
}

impl Stages {
    fn add(&mut self, o: &Stages, w: f64) {
        self.metric_period += o.metric_period * w;
        self.alarm_datapoints += o.alarm_datapoints * w;
        self.publication_delay += o.publication_delay * w;
        self.alarm_evaluation += o.alarm_evaluation * w;
        self.cooldown += o.cooldown * w;
        self.provisioning += o.provisioning * w;
        self.node_provisioning += o.node_provisioning * w;
        self.image_pull += o.image_pull * w;
        self.health_check += o.health_check * w;
    }

    /// Sum of the stages.
    pub fn total(&self) -> f64 {
        self.metric_period
            + self.alarm_datapoints
            + self.publication_delay
            + self.alarm_evaluation
            + self.cooldown
            + self.provisioning
            + self.node_provisioning
            + self.image_pull
            + self.health_check
    }
}

/// The scale-out alarm first seen in an open episode.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AlarmMark {
    /// End of the oldest breaching datapoint's period in the alarm's window.
    pub first_breach_end: SimTime,
    /// End of the newest datapoint's minute.
    pub datapoint_end: SimTime,
    /// When that datapoint was published.
    pub published: SimTime,
    /// When the alarm was evaluated in ALARM.
    pub evaluated: SimTime,
}

/// Timestamps of the task that closed an episode.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TaskTimes {
    /// Launch (desired count raised, task created).
    pub launched: SimTime,
    /// Image pull started.
    pub pull_start: SimTime,
    /// RUNNING.
    pub running: SimTime,
    /// Its node's launch and readiness, when the node was launched after
    /// the task (the task waited for it).
    pub node: Option<(SimTime, SimTime)>,
}

/// One under-provisioning episode.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Episode {
    /// Start (s).
    pub start_s: f64,
    /// End (s).
    pub end_s: f64,
    /// Length (s).
    pub lag_s: f64,
    /// `capacity` (a task became healthy) or `demand` (the need fell).
    pub closed_by: String,
    /// Stage breakdown (all zero when closed by demand).
    pub stages: Stages,
}

struct Open {
    start: SimTime,
    alarm: Option<AlarmMark>,
}

/// Tracks episodes over a run.
pub struct LagTracker {
    needed: Vec<u32>,
    open: Option<Open>,
    episodes: Vec<Episode>,
    under_minutes: u64,
}

fn secs(t: SimTime) -> f64 {
    t as f64 / 1e6
}

impl LagTracker {
    /// A tracker with the tasks needed in each minute.
    pub fn new(needed: Vec<u32>) -> Self {
        LagTracker {
            needed,
            open: None,
            episodes: Vec::new(),
            under_minutes: 0,
        }
    }

    /// Tasks needed in the minute containing `t`.
    pub fn needed_at(&self, t: SimTime) -> u32 {
        let m = (t / MINUTE) as usize;
        self.needed
            .get(m)
            .or(self.needed.last())
            .copied()
            .unwrap_or(0)
    }

    /// Tasks needed per minute.
    pub fn needed(&self) -> &[u32] {
        &self.needed
    }

    /// The serving count changed (or a minute started) at `now`. `closer`
    /// is the task that just became healthy, if that is the change.
    pub fn update(&mut self, now: SimTime, serving: u32, closer: Option<TaskTimes>) {
        let need = self.needed_at(now);
        match &self.open {
            None if serving < need => {
                self.open = Some(Open {
                    start: now,
                    alarm: None,
                });
            }
            Some(_) if serving >= need => {
                let open = self.open.take().expect("open episode");
                self.close(open, now, closer);
            }
            _ => {}
        }
    }

    /// A scale-out alarm was in ALARM.
    pub fn alarm(&mut self, mark: AlarmMark) {
        if let Some(o) = &mut self.open
            && o.alarm.is_none()
            && mark.evaluated >= o.start
        {
            o.alarm = Some(mark);
        }
    }

    /// Minute `m` ended with `mean_serving` tasks serving on average.
    pub fn minute_closed(&mut self, m: usize, mean_serving: f64) {
        if let Some(n) = self.needed.get(m)
            && mean_serving + 1e-9 < *n as f64
        {
            self.under_minutes += 1;
        }
    }

    fn close(&mut self, open: Open, end: SimTime, closer: Option<TaskTimes>) {
        let start = open.start;
        let mut stages = Stages::default();
        let closed_by = if let Some(task) = closer {
            let (first, dp_end, published, evaluated) = match open.alarm {
                Some(a) => (
                    a.first_breach_end,
                    a.datapoint_end,
                    a.published,
                    a.evaluated,
                ),
                None => (start, start, start, start),
            };
            let (node_launched, node_ready) = match task.node {
                Some((l, r)) if l >= task.launched => (l, r),
                _ => (task.launched, task.launched),
            };
            // Consecutive boundaries, each clipped into [previous, end].
            let mut b = [
                start,
                first,
                dp_end,
                published,
                evaluated,
                task.launched,
                node_launched,
                node_ready,
                task.pull_start,
                task.running,
                end,
            ];
            for i in 1..b.len() {
                b[i] = b[i].clamp(b[i - 1], end);
            }
            let d = |i: usize| secs(b[i + 1] - b[i]);
            stages = Stages {
                metric_period: d(0),
                alarm_datapoints: d(1),
                publication_delay: d(2),
                alarm_evaluation: d(3),
                cooldown: d(4),
                provisioning: d(5) + d(7),
                node_provisioning: d(6),
                image_pull: d(8),
                health_check: d(9),
            };
            "capacity"
        } else {
            "demand"
        };
        self.episodes.push(Episode {
            start_s: secs(start),
            end_s: secs(end),
            lag_s: secs(end - start),
            closed_by: closed_by.into(),
            stages,
        });
    }

    /// Ends the run: an episode still open is reported as unresolved.
    pub fn finish(&mut self) -> Option<f64> {
        self.open.take().map(|o| secs(o.start))
    }

    /// Closed episodes.
    pub fn episodes(&self) -> &[Episode] {
        &self.episodes
    }

    /// Minutes whose average serving count was below the need.
    pub fn under_provisioned_minutes(&self) -> u64 {
        self.under_minutes
    }

    /// Mean stage breakdown over the episodes closed by capacity.
    pub fn mean_stages(&self) -> Stages {
        let closed: Vec<&Episode> = self
            .episodes
            .iter()
            .filter(|e| e.closed_by == "capacity")
            .collect();
        let mut s = Stages::default();
        if !closed.is_empty() {
            let w = 1.0 / closed.len() as f64;
            for e in closed {
                s.add(&e.stages, w);
            }
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::SECOND;

    #[test]
    fn stages_add_up_to_the_lag() {
        let mut l = LagTracker::new(vec![2, 4, 4, 4, 4, 4, 4, 4]);
        l.update(0, 2, None);
        l.update(MINUTE, 2, None); // need rises to 4: opens
        l.alarm(AlarmMark {
            first_breach_end: 2 * MINUTE,
            datapoint_end: 4 * MINUTE,
            published: 5 * MINUTE,
            evaluated: 5 * MINUTE,
        });
        let task = TaskTimes {
            launched: 5 * MINUTE,
            pull_start: 5 * MINUTE + 20 * SECOND,
            running: 5 * MINUTE + 45 * SECOND,
            node: None,
        };
        l.update(6 * MINUTE, 3, Some(task)); // not enough yet
        assert!(l.episodes().is_empty());
        l.update(6 * MINUTE + 10 * SECOND, 4, Some(task));
        let e = &l.episodes()[0];
        assert_eq!(e.closed_by, "capacity");
        assert!((e.lag_s - 310.0).abs() < 1e-9);
        assert!((e.stages.total() - e.lag_s).abs() < 1e-9);
        // Opened at 1:00; the first breaching datapoint ended at 2:00, the
        // third (3 of 3) at 4:00.
        assert!((e.stages.metric_period - 60.0).abs() < 1e-9);
        assert!((e.stages.alarm_datapoints - 120.0).abs() < 1e-9);
        assert!((e.stages.publication_delay - 60.0).abs() < 1e-9);
        assert!((e.stages.provisioning - 20.0).abs() < 1e-9);
        assert!((e.stages.image_pull - 25.0).abs() < 1e-9);
        assert!((e.stages.health_check - 25.0).abs() < 1e-9);
    }

    #[test]
    fn a_node_launched_for_the_task_is_its_own_stage() {
        let mut l = LagTracker::new(vec![1, 2, 2, 2, 2]);
        l.update(MINUTE, 1, None);
        let task = TaskTimes {
            launched: MINUTE + 10 * SECOND,
            // Pending 15 s, the node boots 60 s, placed 5 s after it is ready.
            node: Some((MINUTE + 25 * SECOND, MINUTE + 85 * SECOND)),
            pull_start: MINUTE + 90 * SECOND,
            running: MINUTE + 120 * SECOND,
        };
        l.update(MINUTE + 150 * SECOND, 2, Some(task));
        let e = &l.episodes()[0];
        assert!((e.stages.provisioning - 20.0).abs() < 1e-9);
        assert!((e.stages.node_provisioning - 60.0).abs() < 1e-9);
        assert!((e.stages.total() - e.lag_s).abs() < 1e-9);
        // A node up before the task counts nothing.
        let mut l = LagTracker::new(vec![2, 2]);
        l.update(0, 1, None);
        let t = TaskTimes {
            node: Some((0, 5 * SECOND)),
            launched: 10 * SECOND,
            pull_start: 12 * SECOND,
            running: 20 * SECOND,
        };
        l.update(30 * SECOND, 2, Some(t));
        assert_eq!(l.episodes()[0].stages.node_provisioning, 0.0);
    }

    #[test]
    fn demand_can_close_an_episode() {
        let mut l = LagTracker::new(vec![5, 1]);
        l.update(0, 2, None);
        l.update(MINUTE, 2, None);
        assert_eq!(l.episodes()[0].closed_by, "demand");
        assert_eq!(l.episodes()[0].stages.total(), 0.0);
    }
}
