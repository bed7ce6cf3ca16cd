//! The request-level data plane: every request is simulated.
//!
//! A request arrives (drawn from the load's arrival process), is routed to a
//! serving task, waits in that task's FCFS queue if all `concurrency` slots
//! are taken, runs its CPU phase under processor sharing ([`super::ps`]), then
//! its I/O phase (a pure wait that keeps the slot), and completes — unless it
//! is rejected (no task, full queue), times out, or fails with its task.
//!
//! Each request's CPU and I/O demand is drawn on arrival, from streams of its
//! own, whatever happens to it: two configurations run with the same seed see
//! the very same requests (common random numbers).

use super::ps::Ps;
use super::{Routing, TaskShape};
use crate::control::Notice;
use crate::engine::{Ctx, DataPlane, TaskId};
use crate::load::Arrivals;
use crate::rng::Stream;
use crate::time::SimTime;
use crate::workload::Dist;
use std::collections::VecDeque;

/// Events of the request-level data plane.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReqEvent {
    /// The next request arrives.
    Arrival,
    /// The earliest CPU completion on a task (stale unless `epoch` is current).
    CpuDone {
        /// The task.
        task: TaskId,
        /// The task's completion epoch when this was scheduled.
        epoch: u32,
    },
    /// A request's CPU phase ends on a task with dedicated cores (stale if
    /// the request is gone).
    CpuEnd {
        /// The request's key.
        req: u64,
    },
    /// A request's I/O wait ends (stale if the request is gone).
    IoDone {
        /// The request's key.
        req: u64,
    },
    /// The oldest live request may have reached its timeout.
    TimeoutCheck,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Free,
    Queued,
    Cpu,
    Io,
}

#[derive(Debug, Clone, Copy)]
struct Req {
    arrival: SimTime,
    started: SimTime,
    cpu_us: f64,
    io_us: SimTime,
    task: TaskId,
    generation: u32,
    phase: Phase,
}

/// Request storage with reusable slots; a key is `generation << 32 | slot`,
/// so a key of a finished request never matches the slot's next occupant.
#[derive(Default)]
struct Slab {
    reqs: Vec<Req>,
    free: Vec<u32>,
}

impl Slab {
    /// Requests alive now.
    #[inline]
    fn live(&self) -> usize {
        self.reqs.len() - self.free.len()
    }

    #[inline]
    fn alloc(&mut self, mut r: Req) -> u64 {
        if let Some(i) = self.free.pop() {
            r.generation = self.reqs[i as usize].generation;
            self.reqs[i as usize] = r;
            (r.generation as u64) << 32 | i as u64
        } else {
            r.generation = 0;
            self.reqs.push(r);
            (self.reqs.len() - 1) as u64
        }
    }

    #[inline]
    fn get(&self, key: u64) -> Option<&Req> {
        let r = self.reqs.get((key & 0xFFFF_FFFF) as usize)?;
        (r.generation == (key >> 32) as u32 && r.phase != Phase::Free).then_some(r)
    }

    #[inline]
    fn get_mut(&mut self, key: u64) -> Option<&mut Req> {
        let r = self.reqs.get_mut((key & 0xFFFF_FFFF) as usize)?;
        (r.generation == (key >> 32) as u32 && r.phase != Phase::Free).then_some(r)
    }

    #[inline]
    fn is_live(&self, key: u64) -> bool {
        self.get(key).is_some()
    }

    #[inline]
    fn release(&mut self, key: u64) {
        let i = (key & 0xFFFF_FFFF) as u32;
        let r = &mut self.reqs[i as usize];
        r.phase = Phase::Free;
        r.generation = r.generation.wrapping_add(1);
        self.free.push(i);
    }
}

struct Task {
    ps: Ps,
    /// Requests holding a slot (CPU or I/O phase).
    in_service: u32,
    /// Keys in arrival order; may hold stale keys of timed-out requests.
    queue: VecDeque<u64>,
    /// Live requests in the queue.
    queued: u32,
    /// Bumped whenever the scheduled CPU completion is superseded.
    epoch: u32,
    next_done: Option<SimTime>,
    /// Whether the next CPU completion must be recomputed.
    dirty: bool,
    /// Deregistering: no new requests; report when empty.
    draining: bool,
    /// Every slot has a whole core (`concurrency × 1024 ≤ cpu_units`): no
    /// processor sharing ever slows a request, so each CPU phase ends at a
    /// time known when it starts.
    dedicated: bool,
}

impl Task {
    fn outstanding(&self) -> u32 {
        self.in_service + self.queued
    }
}

/// What each request needs, and the streams its needs are drawn from.
pub struct Demand {
    /// CPU time per request (ms on one vCPU).
    pub cpu: Dist,
    /// I/O wait per request (ms), if any.
    pub io: Option<Dist>,
    /// Stream for CPU demand.
    pub cpu_rng: Stream,
    /// Stream for I/O demand.
    pub io_rng: Stream,
    /// Timeout after arrival, if any (µs).
    pub timeout: Option<SimTime>,
}

/// Most requests a service holds at once (in service and queued, over all
/// its tasks): beyond it arrivals that would queue are rejected by capsim
/// itself, and the summary says how many. Memory stays under about 400 MB
/// per service however hopeless the overload (1 task, 10 ms per request,
/// 10⁶ req/s with no timeout and no queue limit grew 7 GB in 10 s).
pub const MAX_IN_FLIGHT: usize = 5_000_000;

/// The request-level data plane.
pub struct RequestPlane {
    arrivals: Arrivals,
    demand: Demand,
    shape: TaskShape,
    routing: Routing,
    next_rr: usize,
    tasks: Vec<Option<Task>>,
    serving: Vec<TaskId>,
    slab: Slab,
    deadlines: VecDeque<(SimTime, u64)>,
    check_scheduled: bool,
    busy_of_removed: u64,
    done: Vec<u64>,
    bounded: u64,
}

impl RequestPlane {
    /// Arrivals rejected because the service already held
    /// [`MAX_IN_FLIGHT`] requests.
    pub fn rejected_by_bound(&self) -> u64 {
        self.bounded
    }

    /// A data plane serving `arrivals` with tasks of `shape`.
    pub fn new(arrivals: Arrivals, demand: Demand, shape: TaskShape, routing: Routing) -> Self {
        RequestPlane {
            arrivals,
            demand,
            shape,
            routing,
            next_rr: 0,
            tasks: Vec::new(),
            serving: Vec::new(),
            slab: Slab::default(),
            deadlines: VecDeque::new(),
            check_scheduled: false,
            busy_of_removed: 0,
            done: Vec::new(),
            bounded: 0,
        }
    }

    /// The arrival process (and through it the rate function).
    pub fn arrivals(&self) -> &Arrivals {
        &self.arrivals
    }

    fn route(&mut self) -> Option<TaskId> {
        let n = self.serving.len();
        if n == 0 {
            return None;
        }
        let start = if self.next_rr < n { self.next_rr } else { 0 };
        self.next_rr = if start + 1 < n { start + 1 } else { 0 };
        match self.routing {
            Routing::RoundRobin => Some(self.serving[start]),
            Routing::LeastOutstanding => {
                let mut best = self.serving[start];
                let mut best_load = u32::MAX;
                for k in 0..n {
                    let i = start + k;
                    let id = self.serving[if i < n { i } else { i - n }];
                    let load = self.tasks[id as usize]
                        .as_ref()
                        .map_or(u32::MAX, Task::outstanding);
                    if load < best_load {
                        best = id;
                        best_load = load;
                    }
                }
                Some(best)
            }
        }
    }

    fn on_arrival(&mut self, cx: &mut Ctx<'_, ReqEvent>) {
        let now = cx.now();
        if let Some(next) = self.arrivals.next_arrival() {
            cx.schedule(next, ReqEvent::Arrival);
        }
        // Draw the request's needs whatever becomes of it (common random numbers).
        let cpu_us = self.demand.cpu.sample(&mut self.demand.cpu_rng) * 1_000.0;
        let io_us = match &self.demand.io {
            Some(d) => (d.sample(&mut self.demand.io_rng) * 1_000.0).round() as SimTime,
            None => 0,
        };
        cx.rec.arrival(now);
        let Some(task_id) = self.route() else {
            cx.rec.rejected(now);
            return;
        };
        let task = self.tasks[task_id as usize]
            .as_mut()
            .expect("routed to a live task");
        let has_slot = task.in_service < self.shape.concurrency;
        if !has_slot && self.shape.queue_limit.is_some_and(|l| task.queued >= l) {
            cx.rec.rejected(now);
            return;
        }
        if self.slab.live() >= MAX_IN_FLIGHT {
            // capsim's own bound, so that a hopeless overload cannot take
            // all memory: rejected, counted, and said in the summary.
            cx.rec.rejected(now);
            self.bounded += 1;
            return;
        }
        if self.shape.memory_in_use(task.outstanding() + 1) > self.shape.memory_limit_mib {
            // The request pushes the task past its memory limit: the task is
            // OOM-killed with everything on it, this request included.
            cx.rec.failed(now);
            self.kill(task_id, cx);
            cx.notify(Notice::OomKilled(task_id));
            return;
        }
        let key = self.slab.alloc(Req {
            arrival: now,
            started: now,
            cpu_us,
            io_us,
            task: task_id,
            generation: 0,
            phase: Phase::Queued,
        });
        if has_slot {
            self.start_service(task_id, key, cx);
            self.reschedule(task_id, cx);
        } else {
            let task = self.tasks[task_id as usize].as_mut().expect("live task");
            task.queue.push_back(key);
            task.queued += 1;
        }
        if let Some(timeout) = self.demand.timeout {
            let deadline = now.saturating_add(timeout);
            self.deadlines.push_back((deadline, key));
            if !self.check_scheduled {
                self.check_scheduled = true;
                cx.schedule(deadline, ReqEvent::TimeoutCheck);
            }
        }
    }

    /// Puts a request into a free slot of its task. The caller reschedules.
    fn start_service(&mut self, task_id: TaskId, key: u64, cx: &mut Ctx<'_, ReqEvent>) {
        let now = cx.now();
        let task = self.tasks[task_id as usize].as_mut().expect("live task");
        task.in_service += 1;
        let r = self.slab.get_mut(key).expect("live request");
        r.started = now;
        if r.cpu_us > 0.0 {
            r.phase = Phase::Cpu;
            if task.dedicated {
                task.ps.enter(now);
                let at = now.saturating_add(super::ps::ceil_u64(r.cpu_us));
                cx.schedule(at, ReqEvent::CpuEnd { req: key });
            } else if task.ps.push(now, key, r.cpu_us) {
                task.dirty = true;
            }
        } else {
            self.after_cpu(key, cx);
        }
    }

    /// The CPU phase of a request is over: start its I/O wait or complete it.
    fn after_cpu(&mut self, key: u64, cx: &mut Ctx<'_, ReqEvent>) {
        let r = self.slab.get_mut(key).expect("live request");
        if r.io_us > 0 {
            r.phase = Phase::Io;
            let at = cx.now().saturating_add(r.io_us);
            cx.schedule(at, ReqEvent::IoDone { req: key });
        } else {
            self.complete(key, cx);
        }
    }

    /// A request in service completes and frees its slot. The caller refills.
    fn complete(&mut self, key: u64, cx: &mut Ctx<'_, ReqEvent>) {
        let r = *self.slab.get(key).expect("live request");
        cx.rec.completed(cx.now(), r.arrival, r.started);
        if let Some(task) = self.tasks[r.task as usize].as_mut() {
            task.in_service -= 1;
        }
        self.slab.release(key);
        self.check_drained(r.task, cx);
    }

    /// Tells the control plane when a draining task has nothing left.
    fn check_drained(&mut self, task_id: TaskId, cx: &mut Ctx<'_, ReqEvent>) {
        if let Some(task) = self.tasks[task_id as usize].as_mut()
            && task.draining
            && task.outstanding() == 0
        {
            task.draining = false;
            cx.notify(Notice::Drained(task_id));
        }
    }

    /// Removes a task, failing every request on it.
    fn kill(&mut self, id: TaskId, cx: &mut Ctx<'_, ReqEvent>) {
        let now = cx.now();
        self.serving.retain(|t| *t != id);
        let Some(mut task) = self.tasks.get_mut(id as usize).and_then(Option::take) else {
            return;
        };
        self.busy_of_removed += task.ps.take_busy(now);
        // Rare (task failures, cut-off draining): a scan of the requests in flight is fine.
        for i in 0..self.slab.reqs.len() {
            let r = self.slab.reqs[i];
            if r.phase != Phase::Free && r.task == id {
                self.slab.release((r.generation as u64) << 32 | i as u64);
                cx.rec.failed(now);
            }
        }
    }

    /// Moves queued requests into free slots, FCFS.
    fn refill(&mut self, task_id: TaskId, cx: &mut Ctx<'_, ReqEvent>) {
        loop {
            let Some(task) = self.tasks[task_id as usize].as_mut() else {
                return;
            };
            if task.in_service >= self.shape.concurrency || task.queued == 0 {
                return;
            }
            let Some(key) = task.queue.pop_front() else {
                return;
            };
            if !self.slab.is_live(key) {
                continue;
            }
            task.queued -= 1;
            self.start_service(task_id, key, cx);
        }
    }

    /// Schedules the task's next CPU completion if it changed.
    fn reschedule(&mut self, task_id: TaskId, cx: &mut Ctx<'_, ReqEvent>) {
        let slab = &self.slab;
        let Some(task) = self.tasks[task_id as usize].as_mut() else {
            return;
        };
        if !task.dirty {
            return;
        }
        task.dirty = false;
        let next = task.ps.next_completion(cx.now(), &|k| slab.is_live(k));
        if next != task.next_done {
            task.epoch = task.epoch.wrapping_add(1);
            task.next_done = next;
            if let Some(at) = next {
                cx.schedule(
                    at,
                    ReqEvent::CpuDone {
                        task: task_id,
                        epoch: task.epoch,
                    },
                );
            }
        }
    }

    fn on_cpu_done(&mut self, task_id: TaskId, epoch: u32, cx: &mut Ctx<'_, ReqEvent>) {
        let now = cx.now();
        let slab = &self.slab;
        let Some(task) = self
            .tasks
            .get_mut(task_id as usize)
            .and_then(Option::as_mut)
        else {
            return;
        };
        if task.epoch != epoch {
            return;
        }
        task.next_done = None;
        task.dirty = true;
        task.ps.advance(now);
        let mut done = std::mem::take(&mut self.done);
        while let Some(key) = task.ps.pop_done(&|k| slab.is_live(k)) {
            done.push(key);
        }
        for key in done.drain(..) {
            self.after_cpu(key, cx);
        }
        self.done = done;
        self.refill(task_id, cx);
        self.reschedule(task_id, cx);
    }

    fn on_cpu_end(&mut self, key: u64, cx: &mut Ctx<'_, ReqEvent>) {
        let Some(r) = self.slab.get(key) else { return };
        if r.phase != Phase::Cpu {
            return;
        }
        let task_id = r.task;
        if let Some(task) = self.tasks[task_id as usize].as_mut() {
            task.ps.leave(cx.now());
        }
        self.after_cpu(key, cx);
        self.refill(task_id, cx);
    }

    fn on_io_done(&mut self, key: u64, cx: &mut Ctx<'_, ReqEvent>) {
        let Some(r) = self.slab.get(key) else { return };
        let task_id = r.task;
        self.complete(key, cx);
        self.refill(task_id, cx);
        self.reschedule(task_id, cx);
    }

    fn on_timeout_check(&mut self, cx: &mut Ctx<'_, ReqEvent>) {
        let now = cx.now();
        self.check_scheduled = false;
        while let Some(&(deadline, key)) = self.deadlines.front() {
            if !self.slab.is_live(key) {
                self.deadlines.pop_front();
                continue;
            }
            if deadline > now {
                self.check_scheduled = true;
                cx.schedule(deadline, ReqEvent::TimeoutCheck);
                return;
            }
            self.deadlines.pop_front();
            self.time_out(key, cx);
        }
    }

    fn time_out(&mut self, key: u64, cx: &mut Ctx<'_, ReqEvent>) {
        let now = cx.now();
        let r = *self.slab.get(key).expect("live request");
        if let Some(task) = self.tasks[r.task as usize].as_mut() {
            match r.phase {
                Phase::Queued => task.queued -= 1,
                Phase::Cpu => {
                    task.ps.cancel(now);
                    task.dirty = true;
                    task.in_service -= 1;
                }
                Phase::Io => task.in_service -= 1,
                Phase::Free => unreachable!("a live request is never free"),
            }
        }
        self.slab.release(key);
        cx.rec.timed_out(now);
        self.refill(r.task, cx);
        self.reschedule(r.task, cx);
        self.check_drained(r.task, cx);
    }
}

impl DataPlane for RequestPlane {
    type Event = ReqEvent;

    fn start(&mut self, cx: &mut Ctx<'_, ReqEvent>) {
        if let Some(first) = self.arrivals.next_arrival() {
            cx.schedule(first, ReqEvent::Arrival);
        }
    }

    #[inline]
    fn handle(&mut self, event: ReqEvent, cx: &mut Ctx<'_, ReqEvent>) {
        match event {
            ReqEvent::Arrival => self.on_arrival(cx),
            ReqEvent::CpuDone { task, epoch } => self.on_cpu_done(task, epoch, cx),
            ReqEvent::CpuEnd { req } => self.on_cpu_end(req, cx),
            ReqEvent::IoDone { req } => self.on_io_done(req, cx),
            ReqEvent::TimeoutCheck => self.on_timeout_check(cx),
        }
    }

    fn add_task(&mut self, id: TaskId, cx: &mut Ctx<'_, ReqEvent>) {
        let i = id as usize;
        if self.tasks.len() <= i {
            self.tasks.resize_with(i + 1, || None);
        }
        let mut ps = Ps::new(self.shape.cpu_units);
        ps.advance(cx.now());
        self.tasks[i] = Some(Task {
            ps,
            in_service: 0,
            queue: VecDeque::new(),
            queued: 0,
            epoch: 0,
            next_done: None,
            dirty: false,
            draining: false,
            dedicated: self.shape.concurrency as u64 * 1024 <= self.shape.cpu_units as u64,
        });
        self.serving.push(id);
    }

    fn drain_task(&mut self, id: TaskId, cx: &mut Ctx<'_, ReqEvent>) {
        self.serving.retain(|t| *t != id);
        if let Some(task) = self.tasks.get_mut(id as usize).and_then(Option::as_mut) {
            task.draining = true;
        }
        self.check_drained(id, cx);
    }

    fn remove_task(&mut self, id: TaskId, cx: &mut Ctx<'_, ReqEvent>) {
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
                let b = task.ps.take_busy(now);
                per_task[i] += b;
                total += b;
            }
        }
        total
    }
}
