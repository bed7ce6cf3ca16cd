//! Processor sharing with a virtual clock.
//!
//! A task with `v` vCPUs serving `n` CPU-bound requests gives each of them
//! `min(1, v/n)` of a core. The virtual clock `V` advances at that rate; a
//! request needing `w` CPU-µs that starts when the clock reads `V₀` finishes
//! when it reads `V₀ + w`, whatever happens to `n` meanwhile. So the finish
//! tags never change: a min-heap of tags gives the next completion, and a
//! change in `n` costs O(log n), not a rescan of every request.
//!
//! The virtual clock is a float (CPU-µs); it is reset to 0 whenever the task
//! goes idle so that it stays small and precise. Instants handed back to the
//! engine are integer microseconds, rounded up.

use crate::time::SimTime;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// `x.ceil() as u64` for x ≥ 0, without the libm call `f64::ceil` becomes
/// on baseline x86-64.
#[inline]
pub(crate) fn ceil_u64(x: f64) -> u64 {
    let t = x as u64; // saturates at u64::MAX
    if (t as f64) < x {
        t.saturating_add(1)
    } else {
        t
    }
}

/// Slack when comparing a finish tag with the virtual clock (CPU-µs).
fn slack(v: f64) -> f64 {
    1e-6 + v * 1e-12
}

/// The processor-sharing state of one task. Jobs are identified by a `u64`
/// key; cancelled jobs stay in the heap until they surface, and the caller's
/// `is_live` tells them apart.
#[derive(Debug, Clone)]
pub struct Ps {
    cpu_units: u64,
    vtime: f64,
    last: SimTime,
    heap: BinaryHeap<Reverse<(u64, u64)>>,
    n: u32,
    busy: u64,
}

impl Ps {
    /// An idle server with `cpu_units` (1024 per vCPU).
    pub fn new(cpu_units: u32) -> Self {
        Ps {
            cpu_units: cpu_units as u64,
            vtime: 0.0,
            last: 0,
            heap: BinaryHeap::new(),
            n: 0,
            busy: 0,
        }
    }

    /// Share of a core each job gets now.
    #[inline]
    fn rate(&self) -> f64 {
        if self.n == 0 {
            1.0
        } else {
            (self.cpu_units as f64 / (1024.0 * self.n as f64)).min(1.0)
        }
    }

    /// Jobs in service now.
    #[inline]
    pub fn jobs(&self) -> u32 {
        self.n
    }

    /// Brings the virtual clock and the busy integral up to `now`.
    #[inline]
    pub fn advance(&mut self, now: SimTime) {
        if self.n > 0 && now > self.last {
            let dt = now - self.last;
            self.vtime += dt as f64 * self.rate();
            self.busy += dt * (self.n as u64 * 1024).min(self.cpu_units);
        }
        self.last = self.last.max(now);
    }

    /// A job needing `work` CPU-µs starts at `now`. Returns whether the
    /// next completion may have changed (the share per job changed, or the
    /// new job finishes first); when it returns false the scheduled next
    /// completion still holds.
    #[inline]
    pub fn push(&mut self, now: SimTime, key: u64, work: f64) -> bool {
        self.advance(now);
        let tag = (self.vtime + work.max(0.0)).to_bits();
        let first = self
            .heap
            .peek()
            .is_none_or(|Reverse((head, _))| tag < *head);
        self.heap.push(Reverse((tag, key)));
        self.n += 1;
        // While every job gets a whole core the share is 1 before and after.
        first || self.n as u64 * 1024 > self.cpu_units
    }

    fn went_idle(&mut self) {
        if self.n == 0 {
            self.heap.clear();
            self.vtime = 0.0;
        }
    }

    /// A job starts on a task whose cores are never shared (`concurrency ×
    /// 1024 ≤ cpu_units`): it runs at full speed, its completion is scheduled
    /// directly, and only the busy integral is kept here.
    #[inline]
    pub fn enter(&mut self, now: SimTime) {
        self.advance(now);
        self.n += 1;
    }

    /// A job started with [`Ps::enter`] finishes.
    #[inline]
    pub fn leave(&mut self, now: SimTime) {
        self.advance(now);
        debug_assert!(self.n > 0);
        self.n -= 1;
    }

    /// A live job leaves before finishing (timeout, failure). The caller must
    /// make `is_live` false for its key.
    #[inline]
    pub fn cancel(&mut self, now: SimTime) {
        self.advance(now);
        debug_assert!(self.n > 0);
        self.n -= 1;
        self.went_idle();
    }

    fn drop_stale(&mut self, is_live: &impl Fn(u64) -> bool) {
        while let Some(Reverse((_, key))) = self.heap.peek() {
            if is_live(*key) {
                break;
            }
            self.heap.pop();
        }
    }

    /// Removes and returns a job whose work is done by the virtual clock
    /// (call [`Ps::advance`] first), or `None`.
    #[inline]
    pub fn pop_done(&mut self, is_live: &impl Fn(u64) -> bool) -> Option<u64> {
        self.drop_stale(is_live);
        let Reverse((tag, key)) = *self.heap.peek()?;
        if f64::from_bits(tag) <= self.vtime + slack(self.vtime) {
            self.heap.pop();
            self.n -= 1;
            self.went_idle();
            Some(key)
        } else {
            None
        }
    }

    /// When the next job finishes if nothing changes, seen from `now`
    /// (integer µs, rounded up so that the job is done by then).
    #[inline]
    pub fn next_completion(
        &mut self,
        now: SimTime,
        is_live: &impl Fn(u64) -> bool,
    ) -> Option<SimTime> {
        if self.n == 0 {
            return None;
        }
        self.advance(now);
        self.drop_stale(is_live);
        let Reverse((tag, _)) = *self.heap.peek()?;
        let remaining = (f64::from_bits(tag) - self.vtime).max(0.0) / self.rate();
        Some(now.saturating_add(ceil_u64(remaining)))
    }

    /// CPU busy time since the previous call (CPU units × µs), up to `now`.
    pub fn take_busy(&mut self, now: SimTime) -> u64 {
        self.advance(now);
        std::mem::take(&mut self.busy)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ceil_matches_std() {
        for x in [0.0, 0.2, 1.0, 1.0000001, 2.5, 1e9 + 0.5, 123456789.0] {
            assert_eq!(ceil_u64(x), x.ceil() as u64, "{x}");
        }
    }

    #[test]
    fn two_jobs_share_one_core() {
        // One vCPU, two jobs of 100 µs each starting together: both finish at 200 µs.
        let mut ps = Ps::new(1024);
        let live = |_k: u64| true;
        ps.push(0, 1, 100.0);
        ps.push(0, 2, 100.0);
        assert_eq!(ps.next_completion(0, &live), Some(200));
        ps.advance(200);
        assert!(ps.pop_done(&live).is_some());
        assert!(ps.pop_done(&live).is_some());
        assert_eq!(ps.take_busy(200), 200 * 1024);
    }

    #[test]
    fn rate_changes_keep_finish_tags() {
        // Two vCPUs, jobs of 300 and 100 µs, a third of 100 µs arrives at 50:
        // from 50 each gets 2/3 of a core.
        let mut ps = Ps::new(2048);
        let live = |_k: u64| true;
        ps.push(0, 1, 300.0);
        ps.push(0, 2, 100.0);
        assert_eq!(ps.next_completion(0, &live), Some(100));
        ps.push(50, 3, 100.0);
        // Job 2 has 50 µs left at rate 2/3: done at 125.
        assert_eq!(ps.next_completion(50, &live), Some(125));
        ps.advance(125);
        assert_eq!(ps.pop_done(&live), Some(2));
        assert_eq!(ps.pop_done(&live), None);
    }

    #[test]
    fn quarter_vcpu_runs_at_quarter_speed() {
        let mut ps = Ps::new(256);
        let live = |_k: u64| true;
        ps.push(0, 1, 100.0);
        assert_eq!(ps.next_completion(0, &live), Some(400));
        assert_eq!(ps.take_busy(400), 400 * 256);
    }

    #[test]
    fn cancelled_jobs_are_skipped() {
        let mut ps = Ps::new(1024);
        ps.push(0, 1, 10.0);
        ps.push(0, 2, 100.0);
        ps.cancel(5);
        let live = |k: u64| k != 1;
        // Job 2 ran at 1/2 for 5 µs (2.5 done), then alone: done at 5 + 97.5.
        assert_eq!(ps.next_completion(5, &live), Some(103));
    }
}
