//! The discrete-event engine: the event queue, the closed event enum, the
//! context handed to event handlers, the data-plane boundary and the loop.
//!
//! Invariants (see ARCHITECTURE.md):
//! - time is integer microseconds; events at one instant run in scheduling order;
//! - one run is single-threaded, does no I/O and never reads the wall clock;
//! - events are a closed enum: [`Event::Data`] for the data plane's own
//!   events, [`Event::Control`] for the control plane's. Nothing is boxed.

pub mod queue;

use crate::control::{ClusterControl, ControlEvent, ControlPlane, Notice};
use crate::metrics::Recorder;
use crate::time::SimTime;
pub use queue::EventQueue;

/// Every event of a run. `E` is the data plane's own closed event enum.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Event<E> {
    /// An event of the data plane (request arrivals, completions, …).
    Data(E),
    /// An event of the control plane (metric ticks, lifecycle, autoscaling, …).
    Control(ControlEvent),
}

/// What an event handler may touch: the clock, the queue, the recorder, the
/// notices a data plane sends the control plane, and the EC2 cluster the
/// service shares with others (ECS on EC2 only).
pub struct Ctx<'a, E> {
    now: SimTime,
    /// No other event is due before this instant (see [`Ctx::advance_to`]).
    horizon: SimTime,
    queue: &'a mut EventQueue<Event<E>>,
    /// Measurements of the run.
    pub rec: &'a mut Recorder,
    notices: &'a mut Vec<Notice>,
    /// The shared cluster (ECS on EC2), if the tasks run on one.
    pub cluster: Option<&'a mut ClusterControl>,
}

impl<'a, E> Ctx<'a, E> {
    /// A context at instant `now`.
    pub fn new(
        now: SimTime,
        queue: &'a mut EventQueue<Event<E>>,
        rec: &'a mut Recorder,
        notices: &'a mut Vec<Notice>,
        cluster: Option<&'a mut ClusterControl>,
    ) -> Self {
        Ctx {
            now,
            horizon: now,
            queue,
            rec,
            notices,
            cluster,
        }
    }

    /// The same context, told that no other event is due before `horizon`.
    pub fn with_horizon(mut self, horizon: SimTime) -> Self {
        self.horizon = horizon.max(self.now);
        self
    }

    /// No other event (of this service, of a service sharing its cluster,
    /// of the cluster) is due before this instant.
    pub fn horizon(&self) -> SimTime {
        self.horizon
    }

    /// Moves the clock forward to `t`, before the horizon: a data plane
    /// may handle instants nothing else happens at in one event (the fluid
    /// plane's steps). It must not have scheduled anything before `t`.
    /// Notices raised are handled at the instant reached.
    pub fn advance_to(&mut self, t: SimTime) {
        debug_assert!(
            t >= self.now && t < self.horizon,
            "advance past the horizon"
        );
        debug_assert!(
            self.queue.peek_time().is_none_or(|p| p > t),
            "advance past a scheduled event"
        );
        self.now = t;
    }

    /// Tells the control plane something (handled right after the current event).
    pub fn notify(&mut self, n: Notice) {
        self.notices.push(n);
    }

    /// The current instant.
    #[inline]
    pub fn now(&self) -> SimTime {
        self.now
    }

    /// Schedules a data-plane event.
    #[inline]
    pub fn schedule(&mut self, at: SimTime, event: E) {
        self.queue.schedule(at, Event::Data(event));
    }

    /// Schedules a control-plane event.
    #[inline]
    pub fn schedule_control(&mut self, at: SimTime, event: ControlEvent) {
        self.queue.schedule(at, Event::Control(event));
    }
}

/// Identifier of a task (an ECS task, a pod): dense, never reused in a run.
pub type TaskId = u32;

/// The boundary between how requests are served (a data plane) and
/// everything that decides capacity (the control plane: metrics, platform
/// lifecycle, autoscalers, billing).
///
/// The control plane only adds and removes tasks and reads aggregate usage;
/// it never sees a request. A data plane never decides capacity. A second,
/// aggregate ("fluid") data plane implements the same trait and reuses the
/// control plane unchanged.
pub trait DataPlane {
    /// The data plane's own closed event enum.
    type Event;

    /// Called once at time 0, after the control plane has started.
    fn start(&mut self, cx: &mut Ctx<'_, Self::Event>);

    /// Handles one of the data plane's events.
    fn handle(&mut self, event: Self::Event, cx: &mut Ctx<'_, Self::Event>);

    /// Task `id` starts receiving requests.
    fn add_task(&mut self, id: TaskId, cx: &mut Ctx<'_, Self::Event>);

    /// Task `id` stops receiving new requests; those in flight go on. The
    /// data plane sends [`Notice::Drained`] when none is left.
    fn drain_task(&mut self, id: TaskId, cx: &mut Ctx<'_, Self::Event>);

    /// Task `id` stops at once: requests still on it fail.
    fn remove_task(&mut self, id: TaskId, cx: &mut Ctx<'_, Self::Event>);

    /// Arrivals the plane rejected because of capsim's own bound on
    /// requests held at once (said in the summary).
    fn rejected_by_bound(&self) -> u64 {
        0
    }

    /// CPU busy time over all tasks since the previous call, in CPU units ×
    /// µs (1024 units = one vCPU), brought up to `now`; each task's own is
    /// added to `per_task[id]` (grown as needed).
    fn take_busy(&mut self, now: SimTime, per_task: &mut Vec<u64>) -> u64;
}

/// One scenario run: the queue, the two planes and the recorder.
pub struct Sim<D: DataPlane> {
    queue: EventQueue<Event<D::Event>>,
    /// The data plane.
    pub data: D,
    /// The control plane.
    pub control: ControlPlane,
    /// The measurements.
    pub rec: Recorder,
    end: SimTime,
    events: u64,
    notices: Vec<Notice>,
}

impl<D: DataPlane> Sim<D> {
    /// A run that ends at `end` (events at or after it are not processed).
    pub fn new(data: D, control: ControlPlane, rec: Recorder, end: SimTime) -> Self {
        Sim {
            queue: EventQueue::new(),
            data,
            control,
            rec,
            end,
            events: 0,
            notices: Vec::new(),
        }
    }

    /// Number of events processed.
    pub fn events(&self) -> u64 {
        self.events
    }

    /// Runs to the end (a service that shares no cluster).
    pub fn run(&mut self) {
        self.run_reporting(&|_| {});
    }

    /// Runs to the end, telling `progress` the simulated instant every
    /// [`PROGRESS_EVERY`] events (for a progress bar; the run itself does
    /// not depend on it).
    pub fn run_reporting(&mut self, progress: &dyn Fn(SimTime)) {
        self.start(None);
        while let Some(t) = self.next_time() {
            self.step(None, SimTime::MAX);
            if self.events.is_multiple_of(PROGRESS_EVERY) {
                progress(t);
            }
        }
        self.finish(None);
    }

    /// Starts the run at t = 0: the control plane, then the data plane.
    pub fn start(&mut self, mut cluster: Option<&mut ClusterControl>) {
        let mut notices = std::mem::take(&mut self.notices);
        {
            let mut cx = Ctx::new(
                0,
                &mut self.queue,
                &mut self.rec,
                &mut notices,
                cluster.as_deref_mut(),
            );
            self.control.start(&mut self.data, &mut cx);
            self.data.start(&mut cx);
        }
        self.handle_notices(0, &mut notices, cluster);
        self.notices = notices;
    }

    /// The instant of the next event, if any (events at or after the end
    /// are never run).
    pub fn next_time(&self) -> Option<SimTime> {
        self.queue.peek_time().filter(|t| *t < self.end)
    }

    /// Runs the next event (and the notices it raised). No event outside
    /// this service is due before `bound`. Returns the instant reached
    /// (later than the event's if its handler advanced the clock).
    pub fn step(&mut self, mut cluster: Option<&mut ClusterControl>, bound: SimTime) -> SimTime {
        let Some((t, event)) = self.queue.pop() else {
            return self.end;
        };
        self.events += 1;
        let horizon = self
            .queue
            .peek_time()
            .unwrap_or(SimTime::MAX)
            .min(self.end)
            .min(bound);
        let mut notices = std::mem::take(&mut self.notices);
        let mut cx = Ctx::new(
            t,
            &mut self.queue,
            &mut self.rec,
            &mut notices,
            cluster.as_deref_mut(),
        )
        .with_horizon(horizon);
        match event {
            Event::Data(e) => self.data.handle(e, &mut cx),
            Event::Control(c) => self.control.handle(c, &mut self.data, &mut cx),
        }
        // A data plane may have moved the clock forward (`advance_to`).
        let t = cx.now();
        if !notices.is_empty() {
            self.handle_notices(t, &mut notices, cluster);
        }
        self.notices = notices;
        t
    }

    /// Schedules a control-plane event from outside the run (what the shared
    /// cluster tells this service).
    pub fn schedule_control(&mut self, at: SimTime, event: ControlEvent) {
        self.queue.schedule(at, Event::Control(event));
    }

    /// Ends the run at its end instant.
    pub fn finish(&mut self, cluster: Option<&mut ClusterControl>) {
        let mut notices = std::mem::take(&mut self.notices);
        let mut cx = Ctx::new(
            self.end,
            &mut self.queue,
            &mut self.rec,
            &mut notices,
            cluster,
        );
        self.control.finish(&mut self.data, &mut cx);
        self.notices = notices;
    }

    /// Notices are rare (OOM kills, drained tasks): the control plane
    /// handles them right after the event that raised them, in order.
    fn handle_notices(
        &mut self,
        t: SimTime,
        notices: &mut Vec<Notice>,
        mut cluster: Option<&mut ClusterControl>,
    ) {
        let mut i = 0;
        while i < notices.len() {
            let n = notices[i];
            i += 1;
            let mut more = Vec::new();
            let mut cx = Ctx::new(
                t,
                &mut self.queue,
                &mut self.rec,
                &mut more,
                cluster.as_deref_mut(),
            );
            self.control.notice(n, &mut self.data, &mut cx);
            notices.extend(more);
        }
        notices.clear();
    }
}

/// Events between two progress reports.
pub const PROGRESS_EVERY: u64 = 1 << 16;

/// Runs services that share one EC2 cluster to their common end, in
/// lockstep: the earliest event of all (the services' and the cluster's) runs
/// first; at one instant the services go in order, then the cluster. What the
/// cluster tells a service (a waiting task placed, an instance draining or
/// gone) reaches it as a control event at the same instant.
pub fn run_shared<D: DataPlane>(
    sims: &mut [Sim<D>],
    cluster: &mut ClusterControl,
    progress: &dyn Fn(SimTime),
) {
    let mut steps: u64 = 0;
    cluster.start();
    deliver(sims, cluster, 0);
    for k in 0..sims.len() {
        sims[k].start(Some(cluster));
        deliver(sims, cluster, 0);
    }
    loop {
        let mut next: Option<(SimTime, usize)> = None;
        for (k, s) in sims.iter().enumerate() {
            if let Some(t) = s.next_time()
                && next.is_none_or(|(b, _)| t < b)
            {
                next = Some((t, k));
            }
        }
        let c = cluster.next_time();
        match next {
            Some((t, k)) if c.is_none_or(|c| t <= c) => {
                // Nothing else is due before the others' next events.
                let mut bound = c.unwrap_or(SimTime::MAX);
                for (j, s) in sims.iter().enumerate() {
                    if j != k {
                        bound = bound.min(s.next_time().unwrap_or(SimTime::MAX));
                    }
                }
                let t = sims[k].step(Some(cluster), bound);
                deliver(sims, cluster, t);
                steps += 1;
                if steps.is_multiple_of(PROGRESS_EVERY) {
                    progress(t);
                }
            }
            _ => match c {
                Some(c) => {
                    cluster.step();
                    deliver(sims, cluster, c);
                }
                None => break,
            },
        }
    }
    for sim in sims.iter_mut() {
        sim.finish(Some(cluster));
    }
    cluster.finish();
}

fn deliver<D: DataPlane>(sims: &mut [Sim<D>], cluster: &mut ClusterControl, at: SimTime) {
    for (k, event) in cluster.take_outbox() {
        sims[k].schedule_control(at, event);
    }
}
