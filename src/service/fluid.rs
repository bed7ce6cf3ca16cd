//! The aggregate ("fluid") data plane: requests are counted per step, not
//! simulated one by one, so a month costs about as much as a few minutes of
//! the request-level plane. The control plane is the very same code.
//!
//! Every `step` (1 s by default, a divisor of 20 s), for the coming
//! step: the arrivals are the rate's integral (fractions carried to the
//! next step), split evenly over the serving tasks (what round robin and
//! least-outstanding do for identical tasks). Then per task:
//!
//! - **Stable** (no backlog and the bottleneck below saturation): every
//!   arrival is served. Its latency is a wait plus its own service time. The
//!   wait: a request waits for a slot with the probability Erlang C gives
//!   for `concurrency` servers, for an exponential time whose mean is the
//!   Allen–Cunneen G/G/c wait. The service time: its CPU time (drawn from
//!   the workload), stretched by processor sharing on the task's vCPUs
//!   (the number of others a request finds is geometric, as in M/M/c-PS,
//!   whose mean stretch is 1 + C(c, a)/(c(1 − ρ)); a fraction of a vCPU runs the CPU
//!   phase that much slower), plus its I/O wait (drawn). A task whose slots
//!   each have a whole core never stretches. Arrivals split round robin
//!   over n tasks are Erlang-n, more regular than Poisson (ca² = 1/n): the
//!   queueing above the bare service time is scaled by (ca² + cs²)/2
//!   (Kingman, Allen–Cunneen). `SAMPLES` draws per task and step carry the
//!   step's requests in equal shares into the same latency histograms and
//!   per-minute rows as the request-level plane.
//! - **Saturated** (a backlog, or arrivals above what the task can serve):
//!   arrivals join a FIFO of cohorts; the task serves at its saturated
//!   throughput `min(concurrency / E[S], vCPUs / E[cpu])`, oldest cohort
//!   first. A served request's latency is its cohort's wait plus the
//!   in-service time at saturation (Little: `concurrency / throughput`,
//!   scaled by its own CPU and I/O draws).
//!
//! A request whose latency would exceed the workload's timeout times out
//! instead; a cohort older than the timeout times out whole; a backlog
//! beyond `queue_limit` rejects the excess; memory above the task's limit
//! (base + per request × requests on the task) OOM-kills it. CPU busy time
//! is the served requests' mean CPU time, spread evenly over the step, so
//! the CPU metric sees the same quantity as in request mode.
//!
//! Approximations (measured against the request-level plane in
//! `tests/fluid.rs`, figures in `BENCHMARKS.md`): arrivals within a step
//! are Poisson (the queueing formulas assume it) but the count per step is
//! the mean; completions are recorded at the step's start; requests in
//! service when a task is drained complete, those on a killed task are not
//! counted as failed (only its backlog is).

use super::TaskShape;
use super::queueing::{allen_cunneen_wait, erlang_c};
use crate::control::Notice;
use crate::engine::{Ctx, DataPlane, TaskId};
use crate::load::RateFn;
use crate::rng::Stream;
use crate::time::{SECOND, SimTime};
use crate::workload::Dist;
use rand::RngExt;
use rand_distr::{Distribution, Exp1, StandardNormal};
use std::collections::VecDeque;

/// Events of the fluid data plane.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FluidEvent {
    /// Serve the step starting now.
    Step,
}

/// What each request needs, as the fluid plane uses it.
pub struct FluidDemand {
    /// CPU time per request (ms on one vCPU).
    pub cpu: Dist,
    /// I/O wait per request (ms), if any.
    pub io: Option<Dist>,
    /// Mean CPU time (ms).
    pub cpu_mean_ms: f64,
    /// Mean I/O wait (ms).
    pub io_mean_ms: f64,
    /// Squared coefficient of variation of the service time (CPU + I/O).
    pub service_scv: f64,
    /// Squared coefficient of variation of the CPU time.
    pub cpu_scv: f64,
    /// Timeout after arrival, if any (µs).
    pub timeout: Option<SimTime>,
    /// Variance of the CPU time (ms²).
    pub cpu_var_ms2: f64,
    /// The stream latency draws come from.
    pub rng: Stream,
    /// With noise: the stream of the per-step arrival counts (Poisson
    /// around the rate's integral) and of the CPU time they need (normal
    /// around its mean, the variance of a sum of draws). Without: the
    /// means, fractions carried.
    pub noise: Option<Stream>,
}

/// Draws per task and step that carry the step's latencies.
const SAMPLES: u64 = 16;

/// How much longer than its own CPU time a request's CPU phase takes.
#[derive(Debug, Clone, Copy)]
enum Stretch {
    /// The same for every request (whole cores, or a saturated task).
    Fixed(f64),
    /// Processor sharing on `cores`: a request finds the cores busy with
    /// probability `busy` (Erlang C, lowered for regular arrivals); it then
    /// shares them with `G + 1` requests beyond the cores, `G` geometric
    /// with ratio `rho`, its CPU phase taking `1 + (G + 1)/cores` times
    /// its own CPU time; the mean over requests is the M/M/c-PS stretch
    /// scaled for the arrivals' regularity (module docs).
    Ps { busy: f64, rho: f64, cores: f64 },
}

struct Task {
    /// Waiting requests: (arrival instant, count), oldest first.
    backlog: VecDeque<(SimTime, u64)>,
    queued: u64,
    /// Unserved fraction of the saturated throughput carried to the next step.
    capacity_carry: f64,
    draining: bool,
    /// CPU busy rate over the current step (CPU units × µs per µs).
    busy_rate: f64,
    /// Busy time is accounted up to this instant.
    busy_since: SimTime,
    /// Busy time accrued and not yet taken (CPU units × µs).
    busy: f64,
}

/// The fluid data plane.
pub struct FluidPlane {
    rate: RateFn,
    end: SimTime,
    step: SimTime,
    demand: FluidDemand,
    shape: TaskShape,
    tasks: Vec<Option<Task>>,
    serving: Vec<TaskId>,
    carry: f64,
    next_rr: usize,
    busy_of_removed: f64,
    /// Each task's arrivals of the step (reused).
    share: Vec<u64>,
    /// Requests waiting in every task's backlog.
    queued_total: u64,
    /// Arrivals rejected by capsim's own bound on requests held at once.
    bounded: u64,
}

impl FluidPlane {
    /// A fluid plane serving `rate` until `end` in steps of `step` µs.
    pub fn new(
        rate: RateFn,
        end: SimTime,
        step: SimTime,
        demand: FluidDemand,
        shape: TaskShape,
    ) -> Self {
        FluidPlane {
            rate,
            end,
            step,
            demand,
            shape,
            tasks: Vec::new(),
            serving: Vec::new(),
            carry: 0.0,
            next_rr: 0,
            busy_of_removed: 0.0,
            share: Vec::new(),
            queued_total: 0,
            bounded: 0,
        }
    }

    fn cores(&self) -> f64 {
        self.shape.cpu_units as f64 / 1024.0
    }

    fn dedicated(&self) -> bool {
        self.shape.concurrency as u64 * 1024 <= self.shape.cpu_units as u64
    }

    /// Saturated throughput of one task (requests per second).
    fn saturated_throughput(&self) -> f64 {
        let s = (self.demand.cpu_mean_ms + self.demand.io_mean_ms) / 1_000.0;
        let c = self.demand.cpu_mean_ms / 1_000.0;
        let by_slots = self.shape.concurrency as f64 / s;
        if self.dedicated() || c <= 0.0 {
            by_slots
        } else {
            by_slots.min(self.cores() / c)
        }
    }

    /// How a stable task serves at `lambda` requests per second: the CPU
    /// stretch, the chance of waiting for a slot and the mean of that
    /// wait (s). `None` when the task is saturated at that rate.
    fn stable(&self, lambda: f64, ca2: f64) -> Option<(Stretch, f64, f64, f64)> {
        let c = self.demand.cpu_mean_ms / 1_000.0;
        let io = self.demand.io_mean_ms / 1_000.0;
        // Queueing above the bare service time grows with the variability
        // of the arrivals: Poisson arrivals (ca² = 1) give the M/G/·
        // figures; arrivals split round robin over n tasks are Erlang-n
        // (ca² = 1/n) and queue less. The factor on the excess is
        // Kingman's (ca² + cs²)/2 with the CPU time's cs², at most 1: an
        // empirical choice, fitted on the agreement suite (with cs² = 1, as processor
        // sharing's insensitivity under Poisson arrivals would suggest, the
        // diurnal day's breach minutes go from 9 to 30 against 7). It is
        // wrong for nearly constant CPU times on one task (constant 20 ms
        // at 80 %: 61 ms against 101 ms): README, "Fidelity".
        let damp = ((ca2 + self.demand.cpu_scv.min(1.0)) / 2.0).max(1e-3);
        let (model, stretch) = if self.dedicated() || c <= 0.0 {
            (Stretch::Fixed(1.0), 1.0)
        } else {
            let v = self.cores();
            let a = lambda * c;
            // Whole servers for Erlang C, each running at v / servers of a
            // core (one slow server below a whole vCPU, 1.5 vCPU as one
            // server half again as fast).
            let servers = v.floor().max(1.0);
            let speed = v / servers;
            let rho = a / (servers * speed);
            if rho >= 1.0 {
                return None;
            }
            // Regular arrivals shorten the queue's geometric tail: its
            // ratio is lowered so that the mean excess is `damp` times the
            // Poisson one (below a ratio of 0, fewer arrivals find the
            // cores busy instead).
            let root = damp.sqrt();
            let c_busy = (erlang_c(servers as u32, a / speed) * root).min(1.0);
            let tail = 1.0 - (1.0 - rho) / root;
            let (busy, ratio) = if tail >= 0.0 {
                (c_busy, tail)
            } else {
                (c_busy * root / (1.0 - rho), 0.0)
            };
            let mean = (1.0 + busy / (servers * (1.0 - ratio))) / speed;
            if f64::from(self.shape.concurrency) <= servers {
                // No more requests than servers: none ever shares one.
                (Stretch::Fixed(1.0 / speed), 1.0 / speed)
            } else {
                (
                    Stretch::Ps {
                        busy,
                        rho: ratio,
                        cores: servers,
                    },
                    mean,
                )
            }
        };
        if !stretch.is_finite() {
            return None;
        }
        let s = c * stretch + io;
        let k = self.shape.concurrency;
        if lambda * s >= k as f64 * 0.999 {
            return None;
        }
        let p_wait = erlang_c(k, lambda * s);
        let mean_wait = allen_cunneen_wait(k, lambda, s, ca2, self.demand.service_scv);
        Some((model, stretch, p_wait, mean_wait))
    }

    /// One request's service time (µs) with the CPU phase stretched.
    fn draw_service(&mut self, stretch: Stretch) -> f64 {
        let stretch = match stretch {
            Stretch::Fixed(s) => s,
            Stretch::Ps { busy, rho, cores } => {
                let speed = self.cores().min(1.0);
                if self.demand.rng.random::<f64>() < busy {
                    // Others beyond the cores: geometric, mean rho/(1-rho).
                    let u: f64 = self.demand.rng.random::<f64>().max(f64::MIN_POSITIVE);
                    let g = if rho > 0.0 {
                        (u.ln() / rho.ln()).floor().max(0.0)
                    } else {
                        0.0
                    };
                    (1.0 + (g + 1.0) / cores) / speed
                } else {
                    1.0 / speed
                }
            }
        };
        let cpu = self.demand.cpu.sample(&mut self.demand.rng);
        let io = self
            .demand
            .io
            .as_ref()
            .map_or(0.0, |d| d.sample(&mut self.demand.rng));
        (cpu * stretch + io) * 1_000.0
    }

    /// Records `n` requests served at `now` with latencies `wait + draw`,
    /// `SAMPLES` draws carrying equal shares. Returns the sum of their
    /// in-service times (µs), for the in-flight area.
    fn record_served(
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
        let draws = n.min(SAMPLES);
        let mut area = 0.0;
        for j in 0..draws {
            let count = n / draws + u64::from(j < n % draws);
            let service = self.draw_service(stretch);
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
            let latency = (wait + service).round() as SimTime;
            if self.demand.timeout.is_some_and(|t| latency > t) {
                cx.rec.timed_out_n(now, count);
                continue;
            }
            cx.rec
                .completed_n(now, latency, wait.round() as SimTime, count);
            // The stable wait is spent in the system too; a backlog's wait
            // is already counted by the recorder (in flight since arrival).
            let in_system = if stable_wait.is_some() {
                wait + service
            } else {
                service
            };
            area += in_system * count as f64;
        }
        area
    }

    fn on_step(&mut self, cx: &mut Ctx<'_, FluidEvent>) {
        let now = cx.now();
        let step_end = (now + self.step).min(self.end);
        if step_end < self.end {
            cx.schedule(step_end, FluidEvent::Step);
        }
        let secs = (step_end - now) as f64 / SECOND as f64;
        // Busy time of the step that ended now.
        for task in self.tasks.iter_mut().flatten() {
            task.busy += task.busy_rate * (now - task.busy_since) as f64;
            task.busy_since = now;
            task.busy_rate = 0.0;
        }
        let mean = self.rate.integral(now, step_end);
        let arrivals = match self.demand.noise.as_mut() {
            Some(rng) if mean > 0.0 => match rand_distr::Poisson::new(mean) {
                Ok(p) => p.sample(rng).max(0.0),
                Err(_) => mean.round(),
            },
            Some(_) => 0.0,
            None => {
                let offered = mean + self.carry;
                let whole = offered.floor().max(0.0);
                self.carry = offered - whole;
                whole
            }
        };
        let arrivals = arrivals as u64;
        cx.rec.arrivals(now, arrivals);
        let n = self.serving.len() as u64;
        if n == 0 {
            cx.rec.rejected_n(now, arrivals);
        }
        // Even split; the remainder goes round.
        let mut share = std::mem::take(&mut self.share);
        share.clear();
        share.resize(self.tasks.len(), 0);
        if let Some(base) = arrivals.checked_div(n) {
            let rem = arrivals % n;
            let start = self.next_rr % n as usize;
            for (k, &id) in self.serving.iter().enumerate() {
                let extra = ((k + self.serving.len() - start) % self.serving.len()) < rem as usize;
                share[id as usize] = base + u64::from(extra);
            }
            self.next_rr = (start + rem as usize) % n as usize;
        }
        let sat = self.saturated_throughput();
        let cpu_units_us_per_request = self.demand.cpu_mean_ms * 1_000.0 * 1024.0;
        let max_busy_rate = self.shape.cpu_units as f64;
        let mut area = 0.0;
        let mut killed = Vec::new();
        let mut drained = Vec::new();
        // The queueing formulas take the expected rate: they hold the
        // Poisson variability themselves (a noisy count would count it
        // twice). The count itself (noisy or not) is what is served. Round
        // robin (and least outstanding) over n identical tasks: each sees
        // every n-th arrival of a Poisson stream. Every task without a
        // backlog is in the same state, so the model is solved once.
        let lambda = mean / n.max(1) as f64 / secs.max(1e-9);
        let ca2 = 1.0 / n.max(1) as f64;
        let common = self.stable(lambda, ca2);
        for (id, &a) in share.iter().enumerate() {
            let Some(queued) = self.tasks[id].as_ref().map(|t| t.queued) else {
                continue;
            };
            if a == 0 && queued == 0 {
                // Nothing to serve (a draining task, or none of the step's
                // arrivals): no model, no memory but the base.
                let task = self.tasks[id].as_mut().expect("live task");
                task.busy_rate = 0.0;
                if task.draining {
                    task.draining = false;
                    drained.push(id as TaskId);
                }
                continue;
            }
            let stable = if queued == 0 { common } else { None };
            let served;
            if let Some((model, stretch, p_wait, mean_wait)) = stable {
                served = a;
                area += self.record_served(now, a, 0.0, Some((p_wait, mean_wait)), model, cx);
                let in_flight = lambda
                    * ((self.demand.cpu_mean_ms * stretch + self.demand.io_mean_ms) / 1_000.0
                        + mean_wait);
                if self.shape.memory_in_use(in_flight.ceil() as u32) > self.shape.memory_limit_mib {
                    killed.push(id);
                }
            } else {
                // Saturated: FIFO of cohorts.
                let timeout = self.demand.timeout;
                let limit = self.shape.queue_limit.map(u64::from);
                let task = self.tasks[id].as_mut().expect("live task");
                if a > 0 {
                    // capsim's own bound, as in the request-level plane: it
                    // also bounds the cohorts kept (each holds a request).
                    // The task's queue limit applies after this step's
                    // service, to what is left waiting.
                    let held =
                        (super::request::MAX_IN_FLIGHT as u64).saturating_sub(self.queued_total);
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
                let queued_now = task.queued;
                served = total;
                // In service at saturation: concurrency / throughput, the
                // CPU phase taking what the I/O phase does not.
                let in_service_s = self.shape.concurrency as f64 / sat;
                let cpu_s = self.demand.cpu_mean_ms / 1_000.0;
                let stretch = if cpu_s > 0.0 {
                    ((in_service_s - self.demand.io_mean_ms / 1_000.0) / cpu_s).max(1.0)
                } else {
                    1.0
                };
                for (at, count) in cohorts {
                    let wait = (now - at) as f64;
                    area += self.record_served(now, count, wait, None, Stretch::Fixed(stretch), cx);
                }
                let on_task = queued_now + self.shape.concurrency as u64;
                if self
                    .shape
                    .memory_in_use(on_task.min(u32::MAX as u64) as u32)
                    > self.shape.memory_limit_mib
                {
                    killed.push(id);
                }
            }
            // The CPU the served requests need: their mean, and with noise
            // the spread of a sum of that many draws.
            let mut cpu_units_us = served as f64 * cpu_units_us_per_request;
            if let Some(rng) = self.demand.noise.as_mut()
                && served > 0
            {
                let z: f64 = StandardNormal.sample(rng);
                let sd = (served as f64 * self.demand.cpu_var_ms2).sqrt() * 1_000.0 * 1024.0;
                cpu_units_us = (cpu_units_us + z * sd).max(0.0);
            }
            let task = self.tasks[id].as_mut().expect("live task");
            task.busy_rate = (cpu_units_us / (step_end - now).max(1) as f64).min(max_busy_rate);
            if task.draining && task.queued == 0 {
                task.draining = false;
                drained.push(id as TaskId);
            }
        }
        self.share = share;
        cx.rec.add_in_flight_area(area.round() as u128);
        for id in killed {
            self.kill(id as TaskId, cx);
            cx.notify(Notice::OomKilled(id as TaskId));
        }
        for id in drained {
            cx.notify(Notice::Drained(id));
        }
    }

    /// Removes a task; its backlog fails.
    fn kill(&mut self, id: TaskId, cx: &mut Ctx<'_, FluidEvent>) {
        let now = cx.now();
        self.serving.retain(|t| *t != id);
        if let Some(mut task) = self.tasks.get_mut(id as usize).and_then(Option::take) {
            task.busy += task.busy_rate * now.saturating_sub(task.busy_since) as f64;
            self.busy_of_removed += task.busy;
            self.queued_total -= task.queued;
            cx.rec.failed_n(now, task.queued);
        }
    }
}

impl DataPlane for FluidPlane {
    type Event = FluidEvent;

    fn start(&mut self, cx: &mut Ctx<'_, FluidEvent>) {
        if self.end > 0 {
            cx.schedule(0, FluidEvent::Step);
        }
    }

    fn handle(&mut self, event: FluidEvent, cx: &mut Ctx<'_, FluidEvent>) {
        match event {
            FluidEvent::Step => self.on_step(cx),
        }
    }

    fn add_task(&mut self, id: TaskId, cx: &mut Ctx<'_, FluidEvent>) {
        let i = id as usize;
        if self.tasks.len() <= i {
            self.tasks.resize_with(i + 1, || None);
        }
        self.tasks[i] = Some(Task {
            backlog: VecDeque::new(),
            queued: 0,
            capacity_carry: 0.0,
            draining: false,
            busy_rate: 0.0,
            busy_since: cx.now(),
            busy: 0.0,
        });
        self.serving.push(id);
    }

    fn drain_task(&mut self, id: TaskId, cx: &mut Ctx<'_, FluidEvent>) {
        self.serving.retain(|t| *t != id);
        if let Some(task) = self.tasks.get_mut(id as usize).and_then(Option::as_mut) {
            if task.queued == 0 {
                cx.notify(Notice::Drained(id));
            } else {
                task.draining = true;
            }
        }
    }

    fn remove_task(&mut self, id: TaskId, cx: &mut Ctx<'_, FluidEvent>) {
        self.kill(id, cx);
    }

    fn rejected_by_bound(&self) -> u64 {
        self.bounded
    }

    fn take_busy(&mut self, now: SimTime, per_task: &mut Vec<u64>) -> u64 {
        let mut total = std::mem::take(&mut self.busy_of_removed);
        if per_task.len() < self.tasks.len() {
            per_task.resize(self.tasks.len(), 0);
        }
        for (i, task) in self.tasks.iter_mut().enumerate() {
            if let Some(task) = task {
                task.busy += task.busy_rate * now.saturating_sub(task.busy_since) as f64;
                task.busy_since = task.busy_since.max(now);
                let b = std::mem::take(&mut task.busy);
                per_task[i] += b.round() as u64;
                total += b;
            }
        }
        total.round() as u64
    }
}
