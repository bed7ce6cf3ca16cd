//! CloudWatch alarms as Application Auto Scaling uses them: N of M
//! datapoints breaching a threshold, evaluated on what is published.

use super::Comparison;
use super::fmt_num;
use crate::metrics::cloudwatch::CloudWatch;
use crate::metrics::cloudwatch::Metric;
use crate::time::SimTime;

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
    /// End of the oldest breaching datapoint's period in the window: from
    /// there to `newest_end` the alarm waited for N of M to breach.
    pub first_breach_end: Option<SimTime>,
    /// Start of each datapoint's period, oldest first (same order as `values`).
    pub starts: Vec<SimTime>,
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
                first_breach_end: None,
                starts: Vec::new(),
            };
        };
        let n = self.periods as usize;
        if newest + 1 < n {
            return AlarmEval {
                state: AlarmState::InsufficientData,
                values: (0..=newest).map(|m| cw.value(m, self.metric)).collect(),
                breaching: 0,
                newest_end: Some(cw.minute_end(newest)),
                first_breach_end: None,
                starts: (0..=newest).map(|m| m as SimTime * cw.period()).collect(),
            };
        }
        let values: Vec<Option<f64>> = (newest + 1 - n..=newest)
            .map(|m| cw.value(m, self.metric))
            .collect();
        let breaches =
            |v: &Option<f64>| v.is_some_and(|v| self.comparison.breaches(v, self.threshold));
        let breaching = values.iter().filter(|v| breaches(v)).count() as u32;
        let first_breach_end = values
            .iter()
            .position(breaches)
            .map(|i| cw.minute_end(newest + 1 - n + i));
        AlarmEval {
            state: if breaching >= self.needed {
                AlarmState::Alarm
            } else {
                AlarmState::Ok
            },
            values,
            breaching,
            newest_end: Some(cw.minute_end(newest)),
            first_breach_end,
            starts: (newest + 1 - n..=newest)
                .map(|m| m as SimTime * cw.period())
                .collect(),
        }
    }

    pub(super) fn describe(&self) -> String {
        format!(
            "{} {} {}",
            self.metric.name(),
            self.comparison.symbol(),
            fmt_num(self.threshold)
        )
    }
}
