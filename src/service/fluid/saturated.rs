//! Saturated tasks: a FIFO of cohorts served at the task's saturated
//! throughput, each served cohort's latencies carried by `DRAWS` draws (as
//! are a stable task's once the run holds its most profiles).

use super::profiles::{SAMPLES, Slowdowns, Stretch, whole_us};
use super::{FluidEvent, FluidPlane};
use crate::engine::{Ctx, TaskId};
use crate::time::SimTime;
use rand::RngExt;
use rand_distr::{Distribution, Exp1};

/// Draws per task and step that carry a saturated task's latencies (and
/// a stable one's once the run holds `MAX_PROFILES` profiles).
pub(super) const DRAWS: u64 = 16;
impl FluidPlane {
    /// One request's service time (µs) with the CPU phase stretched: its
    /// CPU and I/O times from the profiles' inputs (a uniform stratum of
    /// 4,096, each its stratum's mean: nothing beyond the top stratum's
    /// mean, above the 99.98th percentile, is drawn).
    /// `slowdowns` are the stretch's ([`Stretch::slowdowns`]), worked out
    /// once for a step's draws.
    pub(super) fn draw_service(&mut self, model: Stretch, slowdowns: &Slowdowns) -> f64 {
        let j = self.demand.rng.random_range(0..SAMPLES);
        let (cpu, io, shrink) = self.inputs.inputs.request(j);
        let stretch = match model {
            Stretch::Fixed(s) => s,
            Stretch::Ps { .. } => {
                let u: f64 = self.demand.rng.random();
                slowdowns.at(u, (1.0 - u).ln(), shrink)
            }
        };
        (cpu * stretch + io) * 1_000.0
    }

    /// Records `n` requests served at `now` with latencies `wait + draw`,
    /// `DRAWS` draws carrying equal shares. Returns the sum of their
    /// in-service times (µs), for the in-flight area.
    pub(super) fn record_served(
        &mut self,
        now: SimTime,
        n: u64,
        wait_us: f64,
        stable_wait: Option<(f64, f64)>,
        stretch: Stretch,
        cx: &mut Ctx<'_, FluidEvent>,
    ) -> f64 {
        if n == 0 {
            return 0.0;
        }
        let draws = n.min(DRAWS);
        let mut area = 0.0;
        // Recorded together once drawn (one minute row, one in-flight change).
        let mut done = [(0, 0, 0); DRAWS as usize];
        let mut timed_out = 0;
        let slowdowns = stretch.slowdowns();
        for j in 0..draws {
            let count = n / draws + u64::from(j < n % draws);
            let service = self.draw_service(stretch, &slowdowns);
            let wait = match stable_wait {
                Some((p_wait, mean_wait_s)) if p_wait > 0.0 => {
                    if self.demand.rng.random::<f64>() < p_wait {
                        let e: f64 = Exp1.sample(&mut self.demand.rng);
                        e * mean_wait_s / p_wait * 1e6
                    } else {
                        0.0
                    }
                }
                _ => wait_us,
            };
            let latency = whole_us(wait + service);
            if self.demand.timeout.is_some_and(|t| latency > t) {
                timed_out += count;
                continue;
            }
            done[j as usize] = (latency, whole_us(wait), count);
            // The stable wait is spent in the system too; a backlog's wait
            // is already counted by the recorder (in flight since arrival).
            let in_system = if stable_wait.is_some() {
                wait + service
            } else {
                service
            };
            area += in_system * count as f64;
        }
        cx.rec.completed_draws(now, &done[..draws as usize]);
        cx.rec.timed_out_n(now, timed_out);
        area
    }

    /// A saturated task's step: its arrivals join its FIFO of cohorts,
    /// which it serves at its saturated throughput. Returns the requests
    /// served and their in-service area.
    pub(super) fn serve_saturated(
        &mut self,
        id: TaskId,
        a: u64,
        now: SimTime,
        secs: f64,
        sat: f64,
        cx: &mut Ctx<'_, FluidEvent>,
    ) -> (u64, f64) {
        let timeout = self.demand.timeout;
        let limit = self.shape.queue_limit.map(u64::from);
        let task = self.tasks.get_mut(&id).expect("live task");
        if a > 0 {
            // capsim's own bound, as in the request-level plane: it
            // also bounds the cohorts kept (each holds a request).
            // The task's queue limit applies after this step's
            // service, to what is left waiting.
            let held =
                (crate::service::request::MAX_IN_FLIGHT as u64).saturating_sub(self.queued_total);
            let kept = a.min(held);
            if kept < a {
                cx.rec.rejected_n(now, a - kept);
                self.bounded += a - kept;
            }
            if kept > 0 {
                task.backlog.push_back((now, kept));
                task.queued += kept;
                self.queued_total += kept;
            }
        }
        // Cohorts older than the timeout are gone.
        if let Some(t) = timeout {
            while let Some(&(at, count)) = task.backlog.front() {
                if now.saturating_sub(at) <= t {
                    break;
                }
                task.backlog.pop_front();
                task.queued -= count;
                self.queued_total -= count;
                cx.rec.timed_out_n(now, count);
            }
        }
        let capacity = sat * secs + task.capacity_carry;
        let mut budget = capacity.floor().max(0.0) as u64;
        task.capacity_carry = capacity - budget as f64;
        let mut cohorts = Vec::new();
        while budget > 0 {
            let Some(front) = task.backlog.front_mut() else {
                break;
            };
            let take = front.1.min(budget);
            cohorts.push((front.0, take));
            front.1 -= take;
            budget -= take;
            if front.1 == 0 {
                task.backlog.pop_front();
            }
        }
        if task.backlog.is_empty() {
            task.capacity_carry = 0.0;
        }
        let total: u64 = cohorts.iter().map(|c| c.1).sum();
        task.queued -= total;
        self.queued_total -= total;
        // Beyond the queue limit, the newest are turned away (as
        // arrivals finding the queue full).
        if let Some(l) = limit {
            let mut excess = task.queued.saturating_sub(l);
            let over = excess;
            while excess > 0 {
                let Some(back) = task.backlog.back_mut() else {
                    break;
                };
                let take = back.1.min(excess);
                back.1 -= take;
                excess -= take;
                if back.1 == 0 {
                    task.backlog.pop_back();
                }
            }
            let turned = over - excess;
            task.queued -= turned;
            self.queued_total -= turned;
            cx.rec.rejected_n(now, turned);
        }
        // In service at saturation: concurrency / throughput, the
        // CPU phase taking what the I/O phase does not.
        let in_service_s = self.shape.concurrency as f64 / sat;
        let cpu_s = self.demand.cpu_mean_ms / 1_000.0;
        let stretch = if cpu_s > 0.0 {
            ((in_service_s - self.demand.io_mean_ms / 1_000.0) / cpu_s).max(1.0)
        } else {
            1.0
        };
        let mut area = 0.0;
        for (at, count) in cohorts {
            let wait = (now - at) as f64;
            area += self.record_served(now, count, wait, None, Stretch::Fixed(stretch), cx);
        }
        (total, area)
    }
}
