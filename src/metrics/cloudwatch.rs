//! The CloudWatch metrics Service Auto Scaling reads, as ECS and the ALB
//! publish them: one datapoint per period (a minute; 20 s for the
//! high-resolution ECS metrics), visible after a publication delay.
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
    /// Service CPU utilisation (%) in 20-second datapoints (ECS developer
    /// guide, "Faster auto scaling with high-resolution metrics"; aws.md §9.1).
    #[serde(rename = "ECSServiceAverageCPUUtilizationHighResolution")]
    EcsServiceAverageCpuUtilizationHighResolution,
    /// Service memory utilisation (%) in 20-second datapoints.
    #[serde(rename = "ECSServiceAverageMemoryUtilizationHighResolution")]
    EcsServiceAverageMemoryUtilizationHighResolution,
}

impl Metric {
    /// The AWS name.
    pub fn name(self) -> &'static str {
        match self {
            Metric::EcsServiceAverageCpuUtilization => "ECSServiceAverageCPUUtilization",
            Metric::EcsServiceAverageMemoryUtilization => "ECSServiceAverageMemoryUtilization",
            Metric::AlbRequestCountPerTarget => "ALBRequestCountPerTarget",
            Metric::EcsServiceAverageCpuUtilizationHighResolution => {
                "ECSServiceAverageCPUUtilizationHighResolution"
            }
            Metric::EcsServiceAverageMemoryUtilizationHighResolution => {
                "ECSServiceAverageMemoryUtilizationHighResolution"
            }
        }
    }

    /// Whether it has 20-second datapoints.
    pub fn high_resolution(self) -> bool {
        matches!(
            self,
            Metric::EcsServiceAverageCpuUtilizationHighResolution
                | Metric::EcsServiceAverageMemoryUtilizationHighResolution
        )
    }

    /// What it measures, whatever its resolution.
    pub fn base(self) -> Metric {
        match self {
            Metric::EcsServiceAverageCpuUtilizationHighResolution => {
                Metric::EcsServiceAverageCpuUtilization
            }
            Metric::EcsServiceAverageMemoryUtilizationHighResolution => {
                Metric::EcsServiceAverageMemoryUtilization
            }
            m => m,
        }
    }
}

/// Period of the high-resolution metrics.
pub const HIGH_RESOLUTION_PERIOD: SimTime = 20 * crate::time::SECOND;

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

/// The published datapoints of a run, one per period.
#[derive(Debug, Clone, Default)]
pub struct CloudWatch {
    points: Vec<Datapoint>,
    delay: SimTime,
    period: SimTime,
}

impl CloudWatch {
    /// A store of one-minute datapoints visible `delay` after their minute ends.
    pub fn new(delay: SimTime) -> Self {
        Self::with_period(MINUTE, delay)
    }

    /// A store of datapoints every `period`, visible `delay` after it ends.
    pub fn with_period(period: SimTime, delay: SimTime) -> Self {
        CloudWatch {
            points: Vec::new(),
            delay,
            period: period.max(1),
        }
    }

    /// The period of its datapoints.
    pub fn period(&self) -> SimTime {
        self.period
    }

    /// Records period `m`'s datapoint (periods are recorded in order).
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

    /// End of period `m`.
    pub fn minute_end(&self, m: usize) -> SimTime {
        (m as SimTime + 1) * self.period
    }

    /// The newest period whose datapoint is visible at `now`.
    pub fn newest_published(&self, now: SimTime) -> Option<usize> {
        let visible = now.checked_sub(self.delay)? / self.period;
        let m = (visible as usize).checked_sub(1)?;
        let m = m.min(self.points.len().checked_sub(1)?);
        Some(m)
    }

    /// The value of `metric` in minute `m`.
    pub fn value(&self, m: usize, metric: Metric) -> Option<f64> {
        let p = self.points.get(m)?;
        match metric.base() {
            Metric::EcsServiceAverageMemoryUtilization => p.memory,
            Metric::AlbRequestCountPerTarget => p.requests_per_target,
            _ => p.cpu,
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
