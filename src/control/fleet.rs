//! The fleet ledger: which tasks exist, since when, and the time integrals
//! (task time, reserved CPU) every report and bill is computed from.

use crate::engine::TaskId;
use crate::time::SimTime;

/// Life of one task as the ledger saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaskRecord {
    /// When it started running.
    pub started: SimTime,
    /// When it stopped, if it has.
    pub stopped: Option<SimTime>,
}

/// Running tasks over time.
#[derive(Debug, Clone, Default)]
pub struct Fleet {
    tasks: Vec<TaskRecord>,
    running: u32,
    last: SimTime,
    area_since_take: u128,
    area_total: u128,
    min: Option<u32>,
    max: u32,
}

impl Fleet {
    /// An empty fleet.
    pub fn new() -> Self {
        Self::default()
    }

    fn advance(&mut self, now: SimTime) {
        if now > self.last {
            let dt = (now - self.last) as u128;
            self.area_since_take += self.running as u128 * dt;
            self.area_total += self.running as u128 * dt;
            // Only counts that lasted a positive time are extremes.
            self.min = Some(self.min.map_or(self.running, |m| m.min(self.running)));
            self.max = self.max.max(self.running);
            self.last = now;
        }
    }

    /// A new task starts running at `now`; returns its id.
    pub fn start(&mut self, now: SimTime) -> TaskId {
        self.advance(now);
        let id = self.tasks.len() as TaskId;
        self.tasks.push(TaskRecord {
            started: now,
            stopped: None,
        });
        self.running += 1;
        id
    }

    /// Task `id` stops at `now`.
    pub fn stop(&mut self, id: TaskId, now: SimTime) {
        self.advance(now);
        let t = &mut self.tasks[id as usize];
        debug_assert!(t.stopped.is_none(), "task {id} stopped twice");
        t.stopped = Some(now);
        self.running -= 1;
    }

    /// Running tasks now.
    pub fn running(&self) -> u32 {
        self.running
    }

    /// Task time (task × µs) since the previous call, brought up to `now`.
    pub fn take_task_time(&mut self, now: SimTime) -> u64 {
        self.advance(now);
        std::mem::take(&mut self.area_since_take) as u64
    }

    /// Brings the integrals up to `now` (call once at the end of a run).
    pub fn close(&mut self, now: SimTime) {
        self.advance(now);
    }

    /// Smallest running count that lasted a positive time.
    pub fn min(&self) -> u32 {
        self.min.unwrap_or(self.running)
    }

    /// Largest running count that lasted a positive time.
    pub fn max(&self) -> u32 {
        self.max
    }

    /// Total task time (task × µs).
    pub fn task_time(&self) -> u128 {
        self.area_total
    }

    /// Every task the run started.
    pub fn tasks(&self) -> &[TaskRecord] {
        &self.tasks
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integrals_and_extremes() {
        let mut f = Fleet::new();
        let a = f.start(0);
        let _b = f.start(0);
        assert_eq!(f.take_task_time(10), 20);
        f.stop(a, 10);
        f.close(30);
        assert_eq!(f.task_time(), 20 + 20);
        assert_eq!(f.min(), 1);
        assert_eq!(f.max(), 2);
    }
}
