//! CPU busy time: a task's own rate over a step, or a share of the pool's
//! (every serving task without a backlog is in one state, so their CPU use
//! is one integral, not one per task).

use super::Task;
use crate::time::SimTime;

impl Task {
    /// Brings its busy time up to `now`.
    pub(super) fn settle(&mut self, now: SimTime, pool: &Pool) {
        self.busy += self.busy_rate * now.saturating_sub(self.busy_since) as f64;
        self.busy_since = self.busy_since.max(now);
        if let Some(mark) = self.pooled.as_mut() {
            let at = pool.at(now);
            self.busy += at - *mark;
            *mark = at;
        }
    }
}

/// The busy rate every pooled task has: serving tasks without a backlog
/// are in the same state, so their CPU use is one integral, not one per task.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Pool {
    /// Integral of the rate up to `since` (CPU units × µs per task).
    pub(super) base: f64,
    /// Rate since `since` (CPU units × µs per µs).
    pub(super) rate: f64,
    since: SimTime,
}

impl Pool {
    pub(super) fn at(&self, t: SimTime) -> f64 {
        self.base + self.rate * t.saturating_sub(self.since) as f64
    }

    /// A new rate from `t` on.
    pub(super) fn set(&mut self, t: SimTime, rate: f64) {
        self.base = self.at(t);
        self.since = t;
        self.rate = rate;
    }
}
