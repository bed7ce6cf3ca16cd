//! The CloudWatch metrics Service Auto Scaling reads, as ECS and the ALB
//! publish them: one datapoint per minute, visible after a publication delay.
//!
//! - `ECSServiceAverageCPUUtilization` = CPU used / CPU reserved over the
//!   running tasks × 100 (AWS ECS developer guide, cloudwatch-metrics.md; aws.md §2.2);
//! - `ECSServiceAverageMemoryUtilization` = memory used / memory reserved
//!   (`memoryReservation` if set, else task memory) × 100;
//! - `ALBRequestCountPerTarget` = requests in the minute / healthy targets.

use crate::time::{MINUTE, SimTime};
use serde::{Deserialize, Serialize};

/// A predefined metric, named as in the AWS API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Metric {
    /// Service CPU utilisation (%).
    #[serde(rename = "ECSServiceAverageCPUUtilization")]
    EcsServiceAverageCpuUtilization,
    /// Service memory utilisation (%).
    #[serde(rename = "ECSServiceAverageMemoryUtilization")]
    EcsServiceAverageMemoryUtilization,
    /// Requests per target per minute.
    #[serde(rename = "ALBRequestCountPerTarget")]
    AlbRequestCountPerTarget,
}

impl Metric {
    /// The AWS name.
    pub fn name(self) -> &'static str {
        match self {
            Metric::EcsServiceAverageCpuUtilization => "ECSServiceAverageCPUUtilization",
            Metric::EcsServiceAverageMemoryUtilization => "ECSServiceAverageMemoryUtilization",
            Metric::AlbRequestCountPerTarget => "ALBRequestCountPerTarget",
        }
    }
}

/// One minute's datapoints (`None` = no datapoint, e.g. no running task).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Datapoint {
    /// CPU utilisation (%).
    pub cpu: Option<f64>,
    /// Memory utilisation (%).
    pub memory: Option<f64>,
    /// Requests per healthy target.
    pub requests_per_target: Option<f64>,
    /// Time-average RUNNING tasks in the minute (the count behind the averages).
    pub running: f64,
}

/// The published datapoints of a run.
#[derive(Debug, Clone, Default)]
pub struct CloudWatch {
    points: Vec<Datapoint>,
    delay: SimTime,
}

impl CloudWatch {
    /// A store whose datapoints become visible `delay` after their minute ends.
    pub fn new(delay: SimTime) -> Self {
        CloudWatch {
            points: Vec::new(),
            delay,
        }
    }

    /// Records minute `m`'s datapoint (minutes are recorded in order).
    pub fn record(&mut self, m: usize, dp: Datapoint) {
        if self.points.len() <= m {
            self.points.resize(m + 1, Datapoint::default());
        }
        self.points[m] = dp;
    }

    /// When minute `m`'s datapoint becomes visible.
    pub fn published_at(&self, m: usize) -> SimTime {
        self.minute_end(m) + self.delay
    }

    /// End of minute `m`.
    pub fn minute_end(&self, m: usize) -> SimTime {
        (m as SimTime + 1) * MINUTE
    }

    /// The newest minute whose datapoint is visible at `now`.
    pub fn newest_published(&self, now: SimTime) -> Option<usize> {
        let visible = now.checked_sub(self.delay)? / MINUTE;
        let m = (visible as usize).checked_sub(1)?;
        let m = m.min(self.points.len().checked_sub(1)?);
        Some(m)
    }

    /// The value of `metric` in minute `m`.
    pub fn value(&self, m: usize, metric: Metric) -> Option<f64> {
        let p = self.points.get(m)?;
        match metric {
            Metric::EcsServiceAverageCpuUtilization => p.cpu,
            Metric::EcsServiceAverageMemoryUtilization => p.memory,
            Metric::AlbRequestCountPerTarget => p.requests_per_target,
        }
    }

    /// Every datapoint, by minute.
    pub fn points(&self) -> &[Datapoint] {
        &self.points
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn publication_delay() {
        let mut cw = CloudWatch::new(MINUTE);
        cw.record(
            0,
            Datapoint {
                cpu: Some(50.0),
                ..Default::default()
            },
        );
        cw.record(
            1,
            Datapoint {
                cpu: Some(60.0),
                ..Default::default()
            },
        );
        assert_eq!(cw.newest_published(MINUTE), None);
        assert_eq!(cw.newest_published(2 * MINUTE - 1), None);
        assert_eq!(cw.newest_published(2 * MINUTE), Some(0));
        assert_eq!(cw.newest_published(3 * MINUTE), Some(1));
        assert_eq!(cw.newest_published(10 * MINUTE), Some(1));
        assert_eq!(
            cw.value(1, Metric::EcsServiceAverageCpuUtilization),
            Some(60.0)
        );
    }
}
