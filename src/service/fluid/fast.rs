//! The fluid plane's fast path: every serving task without a backlog and
//! stable at the step's load is in one state, so a step is solved once for
//! all of them (`fast_step`: one profile recorded by the count, one busy
//! rate for the pool), and consecutive steps of a minute in that state
//! are served as one: `same_state_run` finds them from each step's
//! integral, `smooth_run` from the rate's bounds over them
//! (`RateFn::span`) without an integral per step.

use super::model::Lookup;
use super::profiles::Entry;
use super::{FluidEvent, FluidPlane, Pending};
use crate::engine::Ctx;
use crate::metrics::Recorder;
use crate::time::{MINUTE, SECOND, SimTime};

impl FluidPlane {
    /// The fast path's state of serving tasks without a backlog when the
    /// coming step's expected arrivals are `first`: its profile entry and
    /// the range of per-task rates (requests per second) in the same
    /// state. `None` unless stable with a profile and no OOM, or when the
    /// step is not a whole one.
    fn run_state(
        &mut self,
        now: SimTime,
        first: f64,
        rec: &mut Recorder,
    ) -> Option<(Entry, f64, f64)> {
        if self.queued_total != 0 || self.serving.is_empty() || first <= 0.0 {
            return None;
        }
        if now + self.step > self.end {
            return None;
        }
        let n = self.serving.len() as u32;
        let secs = self.step as f64 / SECOND as f64;
        let Lookup::Profile(entry) = self.lookup(first / f64::from(n) / secs, n, rec) else {
            return None;
        };
        let (tasks, lo, hi, _) = self.last?;
        (!entry.oom && tasks == n).then_some((entry, lo, hi))
    }

    /// The coming steps, all within this minute and starting before the
    /// horizon, over which the rate's bounds ([`RateFn::span`]) keep
    /// the load of serving tasks without a backlog in the fast path's
    /// state of the first step: their number, the rate's integral over
    /// them and that state. `None` if that is not known for sure (then
    /// [`Self::same_state_run`] looks at each step's integral).
    pub(super) fn smooth_run(
        &mut self,
        now: SimTime,
        cx: &mut Ctx<'_, FluidEvent>,
    ) -> Option<(usize, f64, Entry)> {
        if self.queued_total != 0 || self.serving.is_empty() {
            return None;
        }
        let limit = cx.horizon().min((now / MINUTE + 1) * MINUTE).min(self.end);
        let k = limit
            .saturating_sub(now)
            .div_ceil(self.step)
            .min(self.end.saturating_sub(now) / self.step);
        if k < 2 {
            return None;
        }
        let span =
            self.rate
                .span_memo(now, now + self.step, now + self.step * k, &mut self.phase)?;
        let (entry, lo, hi) = self.run_state(now, span.first, cx.rec)?;
        // A step's mean rate lies within the bounds (a margin for rounding).
        let n = self.serving.len() as f64;
        let inside = span.low / n * (1.0 - 1e-9) >= lo && span.high / n * (1.0 + 1e-9) < hi;
        inside.then_some((k as usize, span.total, entry))
    }

    /// How many of the coming steps (the rate's integrals over them,
    /// `means`, from now on) serving tasks without a backlog serve in the
    /// state of the first, all within its minute and starting before the
    /// horizon; and that state. `None` unless that is the fast path's
    /// state: stable, with a profile, no OOM.
    pub(super) fn same_state_run(
        &mut self,
        now: SimTime,
        means: &[f64],
        cx: &mut Ctx<'_, FluidEvent>,
    ) -> Option<(usize, Entry)> {
        let (entry, lo, hi) = self.run_state(now, *means.first()?, cx.rec)?;
        let (n, secs) = (self.serving.len() as f64, self.step as f64 / SECOND as f64);
        let limit = cx.horizon().min((now / MINUTE + 1) * MINUTE);
        let mut k = 1;
        let mut t = now + self.step;
        while k < means.len() && t < limit && t + self.step <= self.end {
            let lambda = means[k] / n / secs;
            if !(lambda >= lo && lambda < hi) {
                break;
            }
            k += 1;
            t += self.step;
        }
        Some((k, entry))
    }

    /// Serves `k` steps from `now` as one, `mean` requests expected over
    /// them, in the fast path's state `entry`.
    pub(super) fn serve_run(
        &mut self,
        now: SimTime,
        k: usize,
        mean: f64,
        entry: Entry,
        rec: &mut Recorder,
    ) {
        let arrivals = self.arrivals(mean);
        let until = now + self.step * k as SimTime;
        self.fast_step(now, until, arrivals, Some(entry), rec);
    }

    /// A step with every serving task in the same state: no backlog, and
    /// stable at the step's load (or no task, or no load).
    pub(super) fn fast_step(
        &mut self,
        now: SimTime,
        step_end: SimTime,
        arrivals: u64,
        entry: Option<Entry>,
        rec: &mut Recorder,
    ) {
        let n = self.serving.len();
        let (completed, timed_out, rejected) = match (n, entry) {
            (0, _) => (0, 0, arrivals),
            (_, Some(e)) => {
                let t = self.timeouts(arrivals, e.timeout_share);
                (arrivals - t, t, 0)
            }
            (_, None) => (0, 0, 0),
        };
        // Those that time out were in the system until their timeout.
        let area = entry.map_or(0.0, |e| completed as f64 * e.mean_latency_us)
            + timed_out as f64 * self.demand.timeout.unwrap_or(0) as f64;
        let profile = entry.map(|e| e.id);
        let same_minute = |p: &Pending| p.at / MINUTE == now / MINUTE;
        match self.pending.as_mut() {
            Some(p) if same_minute(p) && (p.profile == profile || completed == 0) => {
                p.arrived += arrivals;
                p.completed += completed;
                p.timed_out += timed_out;
                p.rejected += rejected;
                p.area += area;
            }
            _ => {
                self.flush(rec);
                self.pending = Some(Pending {
                    at: now,
                    profile,
                    arrived: arrivals,
                    completed,
                    timed_out,
                    rejected,
                    area,
                });
            }
        }
        // Busy time: own rates end, the pool takes the step's CPU.
        for id in self.own_active.drain(..) {
            if let Some(task) = self.tasks.get_mut(&id) {
                task.settle(now, &self.pool);
                task.busy_rate = 0.0;
            }
        }
        let rate = if n == 0 {
            0.0
        } else {
            // Every arrival's CPU, as the request-level plane charges a
            // request that times out in service (and the saturated path
            // does).
            let cpu = self.cpu_of(arrivals);
            (cpu / n as f64 / (step_end - now).max(1) as f64).min(self.shape.cpu_units as f64)
        };
        self.pool.set(now, rate);
        let mark = self.pool.base;
        if self.pool_all {
            self.pool_all = false;
            self.to_pool.clear();
            for &id in &self.serving {
                if let Some(task) = self.tasks.get_mut(&id)
                    && task.pooled.is_none()
                {
                    task.pooled = Some(mark);
                }
            }
        } else {
            for id in self.to_pool.drain(..) {
                if let Some(task) = self.tasks.get_mut(&id)
                    && task.pooled.is_none()
                    && !task.draining
                {
                    task.pooled = Some(mark);
                }
            }
        }
    }
}
