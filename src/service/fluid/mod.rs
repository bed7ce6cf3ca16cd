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
//!   (Kingman, Allen–Cunneen). The latency distribution of that state is a
//!   profile (`profiles.rs`): built once per state (the load on a fine
//!   grid, the arrivals' regularity) from common random inputs, and
//!   recorded by the count, so a step costs the same whatever its number
//!   of requests. A minute's percentiles are those of as many draws from
//!   its profiles as it has requests (`Recorder::sample_minutes`): what
//!   the request-level plane would have measured, sampling noise included.
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
//! Speed: while no task has a backlog, every serving task is in the same
//! state, so a step is solved once for all of them: one profile lookup,
//! one record, one busy rate shared by the tasks (a pool), and consecutive
//! steps of a minute in that state are served as one (`fast.rs`). The
//! plane steps on through instants at which nothing else happens within
//! one event (`Ctx::advance_to`). With a backlog, each task is solved on
//! its own and saturated requests get `DRAWS` draws per task and step.
//!
//! Approximations (measured against the request-level plane in
//! `tests/fluid.rs`, figures in `BENCHMARKS.md`): arrivals within a step
//! are Poisson (the queueing formulas assume it; the count is a Poisson
//! draw with `fluid_noise`, the default, else the mean with fractions
//! carried); completions are recorded at the start of the step, or of the
//! steps served as one, whose CPU busy time is spread evenly; requests in
//! service when a task is drained complete, those on a killed task are not
//! counted as failed (only its backlog is).

mod busy;
mod fast;
mod model;
mod profiles;
mod saturated;
mod shared;

use super::TaskShape;
use crate::control::Notice;
use crate::engine::{Ctx, DataPlane, TaskId};
use crate::load::{PhaseMemo, RateFn};
use crate::metrics::{ProfileId, Recorder};
use crate::rng::Stream;
use crate::time::{SECOND, SimTime};
use crate::workload::DistSpec;
use busy::Pool;
use model::Lookup;
use profiles::{Cache, Known};
use rand_distr::{Distribution, StandardNormal};
use shared::SharedInputs;
use std::collections::{BTreeMap, VecDeque};

/// Mean arrivals of a count (a step's, or the steps' served as one) above
/// which a noisy count is drawn from the normal approximation of the
/// Poisson.
const NORMAL_ABOVE: f64 = 100.0;

/// Events of the fluid data plane.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FluidEvent {
    /// Serve the step starting now (and the following ones, up to the
    /// next instant something else happens).
    Step,
}

/// What each request needs, as the fluid plane uses it.
pub struct FluidDemand {
    /// CPU time per request (ms on one vCPU).
    pub cpu: DistSpec,
    /// I/O wait per request (ms), if any.
    pub io: Option<DistSpec>,
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
    /// The stream latency draws come from (the profiles' inputs come from
    /// one fixed stream, `shared.rs`).
    pub rng: Stream,
    /// With noise: the stream of the per-step arrival counts (Poisson
    /// around the rate's integral) and of the CPU time they need (normal
    /// around its mean, the variance of a sum of draws). Without: the
    /// means, fractions carried.
    pub noise: Option<Stream>,
    /// The stream of the per-minute percentiles' sampling (handed to the
    /// recorder at the start: `Recorder::sample_minutes`).
    pub minutes: Option<Stream>,
}

struct Task {
    /// Waiting requests: (arrival instant, count), oldest first.
    backlog: VecDeque<(SimTime, u64)>,
    queued: u64,
    /// Unserved fraction of the saturated throughput carried to the next step.
    capacity_carry: f64,
    draining: bool,
    /// CPU busy rate of its own over the current step (CPU units × µs per µs).
    busy_rate: f64,
    /// Its own busy time is accounted up to this instant.
    busy_since: SimTime,
    /// Busy time accrued and not yet taken (CPU units × µs).
    busy: f64,
    /// In the pool: the pool's integral when its share was last taken.
    pooled: Option<f64>,
}

/// Fast steps of one minute with one profile, recorded together.
#[derive(Debug, Clone, Copy)]
struct Pending {
    at: SimTime,
    profile: Option<ProfileId>,
    arrived: u64,
    completed: u64,
    timed_out: u64,
    rejected: u64,
    area: f64,
}

/// The fluid data plane.
pub struct FluidPlane {
    rate: RateFn,
    end: SimTime,
    step: SimTime,
    demand: FluidDemand,
    shape: TaskShape,
    /// Live tasks by id (ids are never reused: a map, so that a run that
    /// replaces tasks for a month holds only the live ones).
    tasks: BTreeMap<TaskId, Task>,
    serving: Vec<TaskId>,
    carry: f64,
    next_rr: usize,
    busy_of_removed: f64,
    /// Each serving task's arrivals of the step, by id (reused).
    share: Vec<(TaskId, u64)>,
    /// Live task ids (reused).
    ids: Vec<TaskId>,
    /// Requests waiting in every task's backlog.
    queued_total: u64,
    /// Arrivals rejected by capsim's own bound on requests held at once.
    bounded: u64,
    /// Saturated throughput of one task (requests per second).
    sat: f64,
    /// The profiles' common inputs (the workload's, shared by the process's runs).
    inputs: SharedInputs,
    cache: Cache,
    /// The last state looked up: (tasks, load range of its grid point, what it is).
    last: Option<(u32, f64, f64, Known)>,
    /// Timed-out fraction carried to the next step.
    timeout_carry: f64,
    pool: Pool,
    /// Every serving task joins the pool at the next fast step.
    pool_all: bool,
    /// Tasks that join it then (added since).
    to_pool: Vec<TaskId>,
    /// Tasks with a busy rate of their own (zeroed at the next step).
    own_active: Vec<TaskId>,
    pending: Option<Pending>,
    /// The rate's integral over the coming steps (reused).
    means: Vec<f64>,
    /// The rate's sines and cosines the last span or steps worked out.
    phase: PhaseMemo,
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
        let inputs = shared::inputs(&demand.cpu, demand.io.as_ref());
        let mut plane = FluidPlane {
            rate,
            end,
            step,
            demand,
            shape,
            tasks: BTreeMap::new(),
            serving: Vec::new(),
            carry: 0.0,
            next_rr: 0,
            busy_of_removed: 0.0,
            share: Vec::new(),
            ids: Vec::new(),
            queued_total: 0,
            bounded: 0,
            sat: 0.0,
            inputs,
            cache: Cache::new(),
            last: None,
            timeout_carry: 0.0,
            pool: Pool::default(),
            pool_all: false,
            to_pool: Vec::new(),
            own_active: Vec::new(),
            pending: None,
            means: Vec::new(),
            phase: PhaseMemo::default(),
        };
        plane.sat = plane.saturated_throughput();
        plane
    }

    /// Records the fast steps gathered so far.
    fn flush(&mut self, rec: &mut Recorder) {
        let Some(p) = self.pending.take() else {
            return;
        };
        rec.arrivals(p.at, p.arrived);
        rec.rejected_n(p.at, p.rejected);
        if let Some(id) = p.profile {
            rec.completed_profile(p.at, id, p.completed);
        }
        rec.timed_out_n(p.at, p.timed_out);
        rec.add_in_flight_area(p.area.round() as u128);
    }

    /// Serves the step starting now and the following ones while nothing
    /// else happens, up to a step that raised a notice.
    fn on_step(&mut self, cx: &mut Ctx<'_, FluidEvent>) {
        let mut means = std::mem::take(&mut self.means);
        means.clear();
        let mut i = 0;
        loop {
            let now = cx.now();
            // Steps in one state are served as one (a Poisson count over
            // them is one Poisson count of their sum): for a smooth rate
            // whose bounds show it, without an integral step by step.
            let (raised, k) = if i == means.len()
                && let Some((k, total, entry)) = self.smooth_run(now, cx)
            {
                self.serve_run(now, k, total, entry, cx.rec);
                (false, k)
            } else {
                if i == means.len() {
                    // The steps before anything else happens (at least this one).
                    let until = cx.horizon().min(self.end);
                    let k = until.saturating_sub(now).div_ceil(self.step).clamp(1, 120);
                    means.resize(k as usize, 0.0);
                    self.rate.step_integrals_memo(
                        now,
                        self.step,
                        self.end,
                        &mut means,
                        &mut self.phase,
                    );
                    i = 0;
                }
                let (raised, k) = match self.same_state_run(now, &means[i..], cx) {
                    Some((k, entry)) if k > 1 => {
                        let total = means[i..i + k].iter().sum();
                        self.serve_run(now, k, total, entry, cx.rec);
                        (false, k)
                    }
                    _ => (self.step_once(means[i], cx), 1),
                };
                i += k;
                (raised, k)
            };
            let next = now + self.step * k as SimTime;
            if next >= self.end {
                break;
            }
            if raised || next >= cx.horizon() {
                cx.schedule(next, FluidEvent::Step);
                break;
            }
            cx.advance_to(next);
        }
        self.means = means;
        self.flush(cx.rec);
    }

    /// The step's arrivals from the rate's integral `mean` over it
    /// (fractions carried), or a Poisson count around it with noise.
    fn arrivals(&mut self, mean: f64) -> u64 {
        let count = match self.demand.noise.as_mut() {
            // Above a hundred a step, the normal approximation (skewness
            // 1/√mean ≤ 10 %; the variance is exact): a Poisson sampler
            // built per step costs as much as the rest of the step.
            Some(rng) if mean > NORMAL_ABOVE => {
                let z: f64 = StandardNormal.sample(rng);
                (mean + z * mean.sqrt()).round().max(0.0)
            }
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
        count as u64
    }

    /// CPU time (CPU units × µs) that `served` requests need: their mean,
    /// and with noise the spread of a sum of that many draws.
    fn cpu_of(&mut self, served: u64) -> f64 {
        let mean = served as f64 * self.demand.cpu_mean_ms * 1_000.0 * 1024.0;
        match self.demand.noise.as_mut() {
            Some(rng) if served > 0 => {
                let z: f64 = StandardNormal.sample(rng);
                let sd = (served as f64 * self.demand.cpu_var_ms2).sqrt() * 1_000.0 * 1024.0;
                (mean + z * sd).max(0.0)
            }
            _ => mean,
        }
    }

    /// Of `n` requests, how many time out at a share of `share`
    /// (fractions carried).
    fn timeouts(&mut self, n: u64, share: f64) -> u64 {
        if share <= 0.0 {
            return 0;
        }
        let x = n as f64 * share + self.timeout_carry;
        let whole = x.floor().clamp(0.0, n as f64);
        self.timeout_carry = x - whole;
        whole as u64
    }

    /// Serves one step; returns whether it raised a notice.
    /// `mean` is the rate's integral over the step.
    fn step_once(&mut self, mean: f64, cx: &mut Ctx<'_, FluidEvent>) -> bool {
        let now = cx.now();
        let step_end = (now + self.step).min(self.end);
        let secs = (step_end - now) as f64 / SECOND as f64;
        let arrivals = self.arrivals(mean);
        let n = self.serving.len() as u32;
        // The queueing formulas take the expected rate: they hold the
        // Poisson variability themselves (a noisy count would count it
        // twice). The count itself (noisy or not) is what is served. Round
        // robin (and least outstanding) over n identical tasks: each sees
        // every n-th arrival of a Poisson stream.
        let lambda = mean / f64::from(n.max(1)) / secs.max(1e-9);
        if self.queued_total == 0 {
            let fast = match n {
                0 => Some(None),
                _ if mean <= 0.0 => Some(None),
                _ => match self.lookup(lambda, n, cx.rec) {
                    Lookup::Profile(e) if !e.oom => Some(Some(e)),
                    _ => None,
                },
            };
            if let Some(entry) = fast {
                self.fast_step(now, step_end, arrivals, entry, cx.rec);
                return false;
            }
        }
        self.flush(cx.rec);
        self.slow_step(now, step_end, secs, arrivals, lambda, cx)
    }

    /// A step with some task backlogged or saturated: each task on its own.
    fn slow_step(
        &mut self,
        now: SimTime,
        step_end: SimTime,
        secs: f64,
        arrivals: u64,
        lambda: f64,
        cx: &mut Ctx<'_, FluidEvent>,
    ) -> bool {
        // Busy time of the step that ended now; the pool breaks up.
        for task in self.tasks.values_mut() {
            task.settle(now, &self.pool);
            task.pooled = None;
            task.busy_rate = 0.0;
        }
        self.pool.set(now, 0.0);
        self.pool_all = true;
        self.own_active.clear();
        cx.rec.arrivals(now, arrivals);
        let n = self.serving.len() as u64;
        if n == 0 {
            cx.rec.rejected_n(now, arrivals);
        }
        // Even split; the remainder goes round.
        let mut share = std::mem::take(&mut self.share);
        share.clear();
        if let Some(base) = arrivals.checked_div(n) {
            let rem = arrivals % n;
            let start = self.next_rr % n as usize;
            for (k, &id) in self.serving.iter().enumerate() {
                let extra = ((k + self.serving.len() - start) % self.serving.len()) < rem as usize;
                share.push((id, base + u64::from(extra)));
            }
            self.next_rr = (start + rem as usize) % n as usize;
        }
        // Tasks join `serving` in the order of their ids, which only grow:
        // sorted already, as a rule.
        if !share.is_sorted() {
            share.sort_unstable();
        }
        let mut ids = std::mem::take(&mut self.ids);
        ids.clear();
        ids.extend(self.tasks.keys().copied());
        let mut next_share = share.iter().peekable();
        let sat = self.sat;
        let max_busy_rate = self.shape.cpu_units as f64;
        let mut area = 0.0;
        let mut killed = Vec::new();
        let mut drained = Vec::new();
        // Every task without a backlog is in the same state: one lookup.
        let common = if n > 0 && lambda > 0.0 {
            self.lookup(lambda, n as u32, cx.rec)
        } else {
            Lookup::Saturated
        };
        for &id in &ids {
            let a = match next_share.peek() {
                Some(&&(s, a)) if s == id => {
                    next_share.next();
                    a
                }
                _ => 0,
            };
            let Some(queued) = self.tasks.get(&id).map(|t| t.queued) else {
                continue;
            };
            if a == 0 && queued == 0 {
                // Nothing to serve (a draining task, or none of the step's
                // arrivals): no model, no memory but the base.
                let task = self.tasks.get_mut(&id).expect("live task");
                if task.draining {
                    task.draining = false;
                    drained.push(id);
                }
                continue;
            }
            let stable = if queued == 0 {
                common
            } else {
                Lookup::Saturated
            };
            let served;
            match stable {
                Lookup::Profile(e) => {
                    let t = self.timeouts(a, e.timeout_share);
                    served = a;
                    cx.rec.completed_profile(now, e.id, a - t);
                    cx.rec.timed_out_n(now, t);
                    area += (a - t) as f64 * e.mean_latency_us
                        + t as f64 * self.demand.timeout.unwrap_or(0) as f64;
                    if e.oom {
                        killed.push(id);
                    }
                }
                Lookup::Draws((model, stretch, p_wait, mean_wait)) => {
                    served = a;
                    area += self.record_served(now, a, 0.0, Some((p_wait, mean_wait)), model, cx);
                    if self.stable_oom(lambda, stretch, mean_wait) {
                        killed.push(id);
                    }
                }
                Lookup::Saturated => {
                    let (s, a_area) = self.serve_saturated(id, a, now, secs, sat, cx);
                    served = s;
                    area += a_area;
                    let task = self.tasks.get(&id).expect("live task");
                    let on_task = task.queued + self.shape.concurrency as u64;
                    if self
                        .shape
                        .memory_in_use(on_task.min(u32::MAX as u64) as u32)
                        > self.shape.memory_limit_mib
                    {
                        killed.push(id);
                    }
                }
            }
            let cpu_units_us = self.cpu_of(served);
            let task = self.tasks.get_mut(&id).expect("live task");
            task.busy_rate = (cpu_units_us / (step_end - now).max(1) as f64).min(max_busy_rate);
            if task.busy_rate > 0.0 {
                self.own_active.push(id as TaskId);
            }
            if task.draining && task.queued == 0 {
                task.draining = false;
                drained.push(id);
            }
        }
        self.share = share;
        self.ids = ids;
        cx.rec.add_in_flight_area(area.round() as u128);
        let raised = !killed.is_empty() || !drained.is_empty();
        for id in killed {
            // The requests it served this step were recorded as completed:
            // their CPU counts, though the task goes now.
            if let Some(task) = self.tasks.get(&id) {
                self.busy_of_removed += task.busy_rate * (step_end - now) as f64;
            }
            self.kill(id, cx);
            cx.notify(Notice::OomKilled(id));
        }
        for id in drained {
            cx.notify(Notice::Drained(id));
        }
        raised
    }

    /// Removes a task; its backlog fails.
    fn kill(&mut self, id: TaskId, cx: &mut Ctx<'_, FluidEvent>) {
        let now = cx.now();
        self.serving.retain(|t| *t != id);
        if let Some(mut task) = self.tasks.remove(&id) {
            task.settle(now, &self.pool);
            self.busy_of_removed += task.busy;
            self.queued_total -= task.queued;
            cx.rec.failed_n(now, task.queued);
        }
    }
}

impl DataPlane for FluidPlane {
    type Event = FluidEvent;

    fn start(&mut self, cx: &mut Ctx<'_, FluidEvent>) {
        if let Some(rng) = self.demand.minutes.take() {
            cx.rec.sample_minutes(rng);
        }
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
        self.tasks.insert(
            id,
            Task {
                backlog: VecDeque::new(),
                queued: 0,
                capacity_carry: 0.0,
                draining: false,
                busy_rate: 0.0,
                busy_since: cx.now(),
                busy: 0.0,
                pooled: None,
            },
        );
        self.serving.push(id);
        self.to_pool.push(id);
    }

    fn drain_task(&mut self, id: TaskId, cx: &mut Ctx<'_, FluidEvent>) {
        let now = cx.now();
        self.serving.retain(|t| *t != id);
        // Added and drained before a step: it never joins the pool (found
        // in review: a Spot task warned before it was healthy earned the
        // pool's rate until it stopped).
        self.to_pool.retain(|t| *t != id);
        if let Some(task) = self.tasks.get_mut(&id) {
            // Out of the pool: what it took on this step it finishes.
            if task.pooled.is_some() {
                task.settle(now, &self.pool);
                task.pooled = None;
                task.busy_rate = self.pool.rate;
                self.own_active.push(id);
            }
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
        if let Some((&last, _)) = self.tasks.last_key_value()
            && per_task.len() <= last as usize
        {
            per_task.resize(last as usize + 1, 0);
        }
        for (&id, task) in self.tasks.iter_mut() {
            task.settle(now, &self.pool);
            let b = std::mem::take(&mut task.busy);
            // Not negative: rounded without the library call.
            per_task[id as usize] += (b.max(0.0) + 0.5) as i64 as u64;
            total += b;
        }
        (total.max(0.0) + 0.5) as i64 as u64
    }
}
