//! The control plane: everything that decides or measures capacity, shared by
//! every data plane.
//!
//! - the **ECS service scheduler**: keeps the active task count at the
//!   desired count, replaces tasks that stop (OOM kills, Spot interruptions),
//!   honours `maximumPercent` when starting and `minimumHealthyPercent` when
//!   deregistering, picks Fargate or Fargate Spot by the capacity provider strategy;
//! - the **platform lifecycle** of each task: PROVISIONING → PENDING (image
//!   pull, billing starts) → RUNNING → application start → first passing
//!   health check → serving; deregistration (draining) → STOPPED;
//! - **metrics**: each minute's fleet integrals and the CloudWatch datapoints;
//! - **Service Auto Scaling** (`scaling`), evaluated every minute;
//! - the **cost ledger** (`pricing::Ledger`) and the **scaling lag** tracker.
//!
//! It talks to a data plane only through [`DataPlane`]: it adds, drains and
//! removes tasks and reads aggregate CPU use; data planes report OOM kills
//! and finished draining as [`Notice`]s. It never sees a request.

pub mod capacity;
mod ec2;
pub mod fleet;
mod k8s;

pub use capacity::{ClusterControl, ServicePlacement};

use crate::engine::{Ctx, DataPlane, TaskId};
use crate::metrics::FleetMinute;
use crate::metrics::cloudwatch::{CloudWatch, Datapoint};
use crate::platform::{self, Platform, PlatformKind, Provider};
use crate::pricing::{self, Bucket, ClassId, Ledger, Totals};
use crate::rng::{Component, Stream, stream};
use crate::scaling::lag::{AlarmMark, LagTracker, TaskTimes};
use crate::scaling::{AutoScaler, Decision};
use crate::time::{MINUTE, SECOND, SimTime, from_secs_f64};
use crate::workload::Dist;
pub use fleet::{Fleet, Stage, StopReason, TaskRecord};
use rand::RngExt;
use rand_distr::{Distribution, Exp1};

/// Events of the control plane.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ControlEvent {
    /// A minute boundary: close the minute's metrics.
    MetricsTick,
    /// Service Auto Scaling evaluates its alarms.
    Evaluate,
    /// Scheduled action `i` fires.
    Scheduled(u32),
    /// The task's image pull starts (end of PROVISIONING).
    PullStart(TaskId),
    /// The task's containers started (RUNNING).
    Running(TaskId),
    /// The task passed its first health check.
    Healthy(TaskId),
    /// A Spot interruption warning.
    SpotWarning(TaskId),
    /// The end of a Spot warning: the task is stopped.
    SpotStop(TaskId),
    /// The deregistration delay (ECS) or the termination grace period
    /// (Kubernetes) ran out.
    DeregistrationEnd(TaskId),
    /// Kubernetes: the pod's readiness probe passed (Ready).
    Ready(TaskId),
    /// Kubernetes: metrics-server scrapes the pods.
    MetricsScrape,
    /// Kubernetes: the HPA controller syncs.
    HpaSync,
    /// The end of a 20-second period: the high-resolution datapoint.
    HighResolutionTick,
    /// Kubernetes: an OOM-killed container's back-off ended; it starts again.
    Restart(TaskId),
    /// ECS: `stopTimeout` after SIGTERM ran out: the task is killed.
    StopTimeout(TaskId),
    /// The shared cluster placed a waiting task on an instance.
    Placed(TaskId, u32),
    /// The task's instance drains: a Spot warning (`SpotInterrupted`) or
    /// the node autoscaler removing it (`Evicted`).
    InstanceDraining(TaskId, StopReason),
    /// The task's EC2 instance stopped.
    InstanceLost(TaskId, StopReason),
}

/// What a data plane tells the control plane.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notice {
    /// The task exceeded its memory limit; the data plane already removed it
    /// and failed its requests.
    OomKilled(TaskId),
    /// A draining task has no request left.
    Drained(TaskId),
}

/// The load balancer's behaviour and billing (`[load_balancer]`).
#[derive(Debug, Clone, PartialEq)]
pub struct Balancer {
    /// Whether it is billed (hours + LCUs) on priced platforms.
    pub billed: bool,
    /// Health check interval: a new target is healthy at its first passing check.
    pub health_check_interval: SimTime,
    /// Longest deregistration (draining) time.
    pub deregistration_delay: SimTime,
    /// Requests per client connection (for the new-connections LCU dimension).
    pub requests_per_connection: f64,
    /// Bytes processed per request (kB, for the processed-bytes LCU dimension).
    pub kb_per_request: f64,
}

/// Everything the control plane is configured with.
pub struct ControlConfig {
    /// Seed (for the lifecycle streams).
    pub seed: u64,
    /// The service's index among those sharing an EC2 cluster (its
    /// placement group); 0 otherwise.
    pub service: usize,
    /// End of the run.
    pub end: SimTime,
    /// Platform.
    pub platform: Platform,
    /// Load balancer.
    pub balancer: Balancer,
    /// CPU units per task.
    pub cpu_units: u32,
    /// Memory counted as reserved per task (MiB), for the memory metric.
    pub memory_reserved_mib: f64,
    /// Memory in use per task with no request (MiB).
    pub memory_base_mib: f64,
    /// Memory per in-flight request (MiB).
    pub memory_per_request_mib: f64,
    /// Initial desired count.
    pub desired: u32,
    /// `minimumHealthyPercent`.
    pub minimum_healthy_percent: u32,
    /// `maximumPercent`.
    pub maximum_percent: u32,
    /// Whether the initial tasks are already serving at t = 0.
    pub warm_start: bool,
    /// Service Auto Scaling, if configured.
    pub autoscaler: Option<AutoScaler>,
    /// Keep the decision log's rows (false: a sweep, which writes none).
    pub decision_log: bool,
    /// CloudWatch publication delay.
    pub metric_delay: SimTime,
    /// The same for the 20-second metrics.
    pub high_resolution_metric_delay: SimTime,
    /// Tasks needed per minute (for the scaling lag).
    pub needed: Vec<u32>,
    /// Placement strategies of the service (EC2).
    pub placement_strategies: Vec<crate::placement::Strategy>,
    /// Placement constraints of the service (EC2).
    pub placement_constraints: Vec<crate::placement::Compiled>,
    /// Longest time a leaving task drains: the deregistration delay on ECS,
    /// the termination grace period on Kubernetes.
    pub drain_deadline: SimTime,
    /// Whether draining ends as soon as nothing is in flight (ECS `idle`
    /// drain, and Kubernetes pods, which exit on SIGTERM when done); else it
    /// lasts the whole deadline.
    pub drain_on_idle: bool,
    /// ECS: from SIGTERM at the deadline to SIGKILL (`stopTimeout`); `None`:
    /// stopped at the deadline (Kubernetes' grace period is the last word).
    pub stop_timeout: Option<SimTime>,
    /// The service's share of the EKS control plane fee (USD per hour; 0 on ECS).
    pub control_plane_hour: f64,
    /// Kubernetes: the pod's readiness probe and the HPA (`None` on ECS).
    pub k8s: Option<PodSettings>,
}

/// How a Kubernetes pod becomes ready, and the HPA scaling its Deployment.
#[derive(Debug, Clone)]
pub struct PodSettings {
    /// Readiness probe: `initialDelaySeconds`, `periodSeconds`,
    /// `successThreshold` (`None`: no probe — Ready when the containers start).
    pub probe: Option<(SimTime, SimTime, u32)>,
    /// The pod's requests (for Utilization metrics).
    pub requests: crate::k8s::hpa_controller::PodRequests,
    /// The HPA, if any.
    pub hpa: Option<crate::k8s::spec::HpaConfig>,
}

struct Streams {
    provisioning: Stream,
    pull: Stream,
    app: Stream,
    health: Stream,
    spot: Stream,
}

struct Classes {
    on_demand: ClassId,
    spot: Option<ClassId>,
    storage: Option<ClassId>,
}

/// The control plane of one run.
pub struct ControlPlane {
    cfg: ControlConfig,
    fleet: Fleet,
    desired: u32,
    cw: CloudWatch,
    /// 20-second datapoints, when a policy reads them.
    cw_hr: Option<CloudWatch>,
    /// CPU busy time since the last 20-second datapoint.
    hr_busy: u64,
    /// Running and serving integrals, arrivals and in-flight area at the
    /// last 20-second datapoint.
    hr_mark: (u128, u128, u64, u128),
    lag: LagTracker,
    decisions: Vec<Decision>,
    ledger: Ledger,
    classes: Option<Classes>,
    balancer_class: Option<ClassId>,
    rng: Streams,
    scale_out_events: u64,
    scale_in_events: u64,
    /// The HPA controller (Kubernetes with an HPA).
    hpa: Option<crate::k8s::hpa_controller::HpaController>,
    /// CPU busy time per task since the last metrics scrape (CPU units × µs).
    pod_busy: Vec<u64>,
    /// CPU busy time of all tasks since the last closed minute.
    minute_busy: u64,
    /// Arrivals and in-flight area at the last scrape.
    scraped: (u64, u128),
}

fn draw_secs(d: &Option<Dist>, rng: &mut Stream) -> SimTime {
    d.as_ref().map_or(0, |d| from_secs_f64(d.sample(rng)))
}

impl ControlPlane {
    /// A control plane for one run.
    pub fn new(cfg: ControlConfig) -> Self {
        let mut ledger = Ledger::new();
        let classes = cfg.platform.prices.as_ref().map(|p| Classes {
            on_demand: ledger.class(Bucket::Compute, p.on_demand_hour),
            spot: p.spot_hour.map(|h| ledger.class(Bucket::Spot, h)),
            storage: (p.storage_hour > 0.0).then(|| ledger.class(Bucket::Storage, p.storage_hour)),
        });
        let balancer_class = (cfg.balancer.billed && cfg.platform.kind != PlatformKind::Ideal)
            .then(|| ledger.class(Bucket::LoadBalancer, pricing::ALB_HOUR_USD));
        if cfg.control_plane_hour > 0.0 {
            // The cluster's fee runs for the whole run (aws.md §4.1).
            let c = ledger.class(Bucket::ControlPlane, cfg.control_plane_hour);
            ledger.start(c, 0);
        }
        let seed = cfg.seed;
        let mut desired = cfg.desired;
        if let Some(a) = &cfg.autoscaler {
            // Registering the scalable target keeps desired within [min, max].
            desired = desired.max(a.min).min(a.max);
        }
        if let Some(h) = cfg.k8s.as_ref().and_then(|k| k.hpa.as_ref()) {
            // The HPA's first sync brings replicas within [min, max] at once.
            let s = &h.scaling;
            desired = desired
                .max(s.min_replicas)
                .min(s.max_replicas.max(s.min_replicas));
        }
        ControlPlane {
            fleet: Fleet::new(),
            desired,
            cw: CloudWatch::new(cfg.metric_delay),
            cw_hr: cfg
                .autoscaler
                .as_ref()
                .filter(|a| a.high_resolution())
                .map(|_| {
                    CloudWatch::with_period(
                        crate::metrics::cloudwatch::HIGH_RESOLUTION_PERIOD,
                        cfg.high_resolution_metric_delay,
                    )
                }),
            hr_busy: 0,
            hr_mark: (0, 0, 0, 0),
            lag: LagTracker::new(cfg.needed.clone()),
            decisions: Vec::new(),
            ledger,
            classes,
            balancer_class,
            rng: Streams {
                provisioning: stream(seed, Component::Provisioning),
                pull: stream(seed, Component::ImagePull),
                app: stream(seed, Component::AppStart),
                health: stream(seed, Component::HealthCheck),
                spot: stream(seed, Component::SpotInterruptions),
            },
            scale_out_events: 0,
            scale_in_events: 0,
            hpa: cfg
                .k8s
                .as_ref()
                .and_then(|k| k.hpa.clone())
                .map(crate::k8s::hpa_controller::HpaController::new),
            pod_busy: Vec::new(),
            minute_busy: 0,
            scraped: (0, 0),
            cfg,
        }
    }

    /// The fleet ledger.
    pub fn fleet(&self) -> &Fleet {
        &self.fleet
    }

    /// The desired count now.
    pub fn desired(&self) -> u32 {
        self.desired
    }

    /// The scaling decision log.
    pub fn decisions(&self) -> &[Decision] {
        &self.decisions
    }

    /// The scaling decision log, handed over (the run's output keeps it).
    pub fn take_decisions(&mut self) -> Vec<Decision> {
        std::mem::take(&mut self.decisions)
    }

    /// The scaling lag tracker.
    pub fn lag(&self) -> &LagTracker {
        &self.lag
    }

    /// The scaling lag tracker (to finish it).
    pub fn lag_mut(&mut self) -> &mut LagTracker {
        &mut self.lag
    }

    /// Published CloudWatch datapoints.
    pub fn cloudwatch(&self) -> &CloudWatch {
        &self.cw
    }

    /// Scale-out and scale-in events applied.
    pub fn scaling_events(&self) -> (u64, u64) {
        (self.scale_out_events, self.scale_in_events)
    }

    /// The service's index among those sharing its cluster.
    pub fn service(&self) -> usize {
        self.cfg.service
    }

    /// Cost totals up to `now`.
    pub fn cost(&mut self, now: SimTime) -> Totals {
        self.ledger.totals(now)
    }

    /// Starts the run: the initial fleet, minute ticks, alarm evaluations,
    /// scheduled actions.
    pub fn start<D: DataPlane>(&mut self, data: &mut D, cx: &mut Ctx<'_, D::Event>) {
        let end = self.cfg.end;
        if MINUTE < end {
            cx.schedule_control(MINUTE, ControlEvent::MetricsTick);
        }
        if let Some(a) = &self.cfg.autoscaler {
            // Alarms are evaluated once a period, as datapoints are seen:
            // every minute, or every 20 s with high-resolution metrics.
            let (period, delay) = self.evaluation_cadence();
            let first = period + delay;
            if delay > 0 && first < end {
                cx.schedule_control(first, ControlEvent::Evaluate);
            }
            if self.cw_hr.is_some() && period < end {
                cx.schedule_control(period, ControlEvent::HighResolutionTick);
            }
            for (i, s) in a.scheduled.iter().enumerate() {
                if s.at < end {
                    cx.schedule_control(s.at, ControlEvent::Scheduled(i as u32));
                }
            }
        }
        if let Some(c) = self.balancer_class {
            self.ledger.start(c, 0);
        }
        if let Some(h) = &self.hpa {
            let (res, sync) = (h.config().resolution, h.config().sync_period);
            if res < end {
                cx.schedule_control(res, ControlEvent::MetricsScrape);
            }
            // The HPA controller's sync has its own phase against
            // metrics-server's scrapes: the first one at a uniformly random
            // instant of the first period.
            let first = stream(self.cfg.seed, Component::ControllerPhase).random_range(1..=sync);
            if first < end {
                cx.schedule_control(first, ControlEvent::HpaSync);
            }
        }
        if self.cfg.warm_start {
            // The service is already up: its tasks serve from t = 0 and are
            // billed from t = 0 (their start-up happened before the run).
            for _ in 0..self.desired {
                let provider = self.next_provider();
                let id = self.fleet.launch(0, provider);
                if self.on_ec2() && !self.place_warm(id, cx) {
                    // No room on the initial instances: it waits, PENDING.
                    continue;
                }
                self.fleet.set_warm(id);
                self.begin_billing(id, 0);
                self.fleet.set_ready(id, 0);
                self.fleet.set_stage(id, Stage::Serving, 0);
                data.add_task(id, cx);
                self.schedule_spot(id, 0, cx);
            }
        }
        self.reconcile(data, cx);
        self.lag.update(0, self.fleet.serving.get(), None);
    }

    fn next_provider(&self) -> Provider {
        if self.on_ec2() {
            return Provider::Ec2;
        }
        let counts = |p: Provider| {
            self.fleet
                .alive()
                .filter(|t| t.active() && t.provider == p)
                .count() as u32
        };
        platform::next_provider(&self.cfg.platform.strategy, &counts)
    }

    fn class_of(&self, id: TaskId) -> Option<ClassId> {
        let c = self.classes.as_ref()?;
        Some(match self.fleet.task(id).provider {
            Provider::Fargate => c.on_demand,
            Provider::FargateSpot => c.spot.unwrap_or(c.on_demand),
            // EC2 tasks cost nothing themselves: their instances are billed.
            Provider::Ec2 => return None,
        })
    }

    fn begin_billing(&mut self, id: TaskId, now: SimTime) {
        if let Some(class) = self.class_of(id) {
            self.ledger.start(class, now);
        }
        if let Some(s) = self.classes.as_ref().and_then(|c| c.storage) {
            self.ledger.start(s, now);
        }
    }

    fn end_billing(&mut self, id: TaskId, now: SimTime) {
        let Some(start) = self.fleet.task(id).pull_start else {
            return;
        };
        // Per second, rounded up, with a one-minute minimum (aws.md §1.3). A
        // warm task's billing began before the run: it is past the minimum
        // and its in-run time is billed exactly.
        let extra = if self.fleet.task(id).warm {
            0
        } else {
            pricing::per_second_billing_extra(now - start, true)
        };
        if let Some(class) = self.class_of(id) {
            self.ledger.stop(class, now);
            self.ledger.charge_time(class, extra, now);
        }
        if let Some(s) = self.classes.as_ref().and_then(|c| c.storage) {
            self.ledger.stop(s, now);
            self.ledger.charge_time(s, extra, now);
        }
    }

    fn schedule_spot(&mut self, id: TaskId, now: SimTime, cx: &mut Ctx<'_, impl Sized>) {
        let rate = self.cfg.platform.spot_interruptions_per_hour;
        if self.fleet.task(id).provider != Provider::FargateSpot || rate <= 0.0 {
            return;
        }
        let e: f64 = Exp1.sample(&mut self.rng.spot);
        let at = now.saturating_add(from_secs_f64(e * 3_600.0 / rate));
        if at < self.cfg.end {
            cx.schedule_control(at, ControlEvent::SpotWarning(id));
        }
    }

    /// Creates a task and starts its lifecycle.
    fn launch<D: DataPlane>(&mut self, data: &mut D, cx: &mut Ctx<'_, D::Event>) {
        let now = cx.now();
        let provider = self.next_provider();
        let id = self.fleet.launch(now, provider);
        if self.cfg.platform.kind == PlatformKind::Ideal {
            self.fleet.set_stage(id, Stage::Serving, now);
            data.add_task(id, cx);
            let instant = TaskTimes {
                launched: now,
                pull_start: now,
                running: now,
                node: None,
            };
            self.lag
                .update(now, self.fleet.serving.get(), Some(instant));
            return;
        }
        if self.on_ec2() {
            self.place_task(id, cx);
            return;
        }
        let d = draw_secs(
            &self.cfg.platform.provisioning_s,
            &mut self.rng.provisioning,
        );
        cx.schedule_control(now + d, ControlEvent::PullStart(id));
    }

    /// Stops a task now: billing ends, the data plane drops it.
    fn stop<D: DataPlane>(
        &mut self,
        id: TaskId,
        reason: StopReason,
        data: &mut D,
        cx: &mut Ctx<'_, D::Event>,
    ) {
        let now = cx.now();
        let stage = self.fleet.task(id).stage;
        if stage == Stage::Stopped {
            return;
        }
        if matches!(stage, Stage::Serving | Stage::Draining) && reason != StopReason::OomKilled {
            data.remove_task(id, cx);
        }
        self.end_billing(id, now);
        self.fleet.stop(id, now, reason);
        self.lag.update(now, self.fleet.serving.get(), None);
        if self.on_ec2() {
            self.release_task(id, cx);
        }
    }

    /// Starts deregistering a serving task.
    fn drain<D: DataPlane>(&mut self, id: TaskId, data: &mut D, cx: &mut Ctx<'_, D::Event>) {
        let now = cx.now();
        self.fleet.set_stage(id, Stage::Draining, now);
        if self.on_ec2() {
            let svc = self.cfg.service;
            ec2::cluster(cx).mark_leaving(svc, id);
        }
        cx.schedule_control(
            now + self.cfg.drain_deadline,
            ControlEvent::DeregistrationEnd(id),
        );
        data.drain_task(id, cx);
        self.lag.update(now, self.fleet.serving.get(), None);
    }

    /// The ECS service scheduler (or, on Kubernetes, the ReplicaSet
    /// controller): brings the active count to the desired count.
    fn reconcile<D: DataPlane>(&mut self, data: &mut D, cx: &mut Ctx<'_, D::Event>) {
        if self.cfg.k8s.is_some() {
            self.reconcile_replicaset(data, cx);
            return;
        }
        let active = self.fleet.alive().filter(|t| t.active()).count() as u32;
        if active < self.desired {
            // maximumPercent bounds RUNNING + PENDING tasks, rounded down (aws.md §2.4).
            let alive = self.fleet.alive().count() as u32;
            let cap = ((self.cfg.maximum_percent as u64 * self.desired as u64 / 100) as u32)
                .max(self.desired);
            let n = (self.desired - active).min(cap.saturating_sub(alive));
            for _ in 0..n {
                self.launch(data, cx);
            }
        } else if active > self.desired {
            // Tasks not yet serving go first (newest first), then serving ones (newest first).
            let mut victims: Vec<(bool, SimTime, TaskId)> = self
                .fleet
                .alive()
                .filter(|t| t.active())
                .map(|t| (t.stage == Stage::Serving, t.launched, t.id))
                .collect();
            victims.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)).then(b.2.cmp(&a.2)));
            let mut victims: Vec<(bool, SimTime, TaskId)> = victims
                .into_iter()
                .take((active - self.desired) as usize)
                .collect();
            if self.on_ec2() {
                self.order_ec2_victims(&mut victims, cx);
            }
            for (serving, _, id) in victims {
                if serving {
                    self.drain(id, data, cx);
                } else {
                    self.stop(id, StopReason::ScaleIn, data, cx);
                }
            }
        }
    }

    /// Whether a serving task may be deregistered now without going below
    /// `minimumHealthyPercent` of the desired count (rounded up).
    fn may_deregister(&self) -> bool {
        let healthy = self
            .fleet
            .alive()
            .filter(|t| t.stage == Stage::Serving)
            .count() as u64;
        let floor = (self.cfg.minimum_healthy_percent as u64 * self.desired as u64).div_ceil(100);
        healthy > floor
    }

    /// Deregisters interrupted Spot tasks that are still serving, as far as
    /// `minimumHealthyPercent` allows.
    fn release_interrupted<D: DataPlane>(&mut self, data: &mut D, cx: &mut Ctx<'_, D::Event>) {
        // The earliest reclaim first: it is the one that would be cut off.
        let mut waiting: Vec<(SimTime, TaskId)> = self
            .fleet
            .alive()
            .filter(|t| t.interrupted && t.stage == Stage::Serving)
            .map(|t| (t.interrupted_at.unwrap_or(0), t.id))
            .collect();
        waiting.sort();
        let waiting: Vec<TaskId> = waiting.into_iter().map(|w| w.1).collect();
        for id in waiting {
            if self.may_deregister() {
                self.drain(id, data, cx);
            }
        }
    }

    /// Handles a control-plane event.
    pub fn handle<D: DataPlane>(
        &mut self,
        event: ControlEvent,
        data: &mut D,
        cx: &mut Ctx<'_, D::Event>,
    ) {
        let now = cx.now();
        match event {
            ControlEvent::MetricsTick => {
                self.close_minute(data, cx, now);
                if self.cfg.autoscaler.is_some()
                    && self.cfg.metric_delay == 0
                    && self.cw_hr.is_none()
                {
                    self.evaluate(data, cx);
                }
                if now + MINUTE < self.cfg.end {
                    cx.schedule_control(now + MINUTE, ControlEvent::MetricsTick);
                }
            }
            ControlEvent::Evaluate => {
                self.evaluate(data, cx);
                let (period, _) = self.evaluation_cadence();
                if now + period < self.cfg.end {
                    cx.schedule_control(now + period, ControlEvent::Evaluate);
                }
            }
            ControlEvent::HighResolutionTick => {
                self.close_high_resolution(data, cx, now);
                if self.cfg.high_resolution_metric_delay == 0 {
                    self.evaluate(data, cx);
                }
                let period = crate::metrics::cloudwatch::HIGH_RESOLUTION_PERIOD;
                if now + period < self.cfg.end {
                    cx.schedule_control(now + period, ControlEvent::HighResolutionTick);
                }
            }
            ControlEvent::Scheduled(i) => {
                let running = self.fleet.running.get();
                let Some(a) = self.cfg.autoscaler.as_mut() else {
                    return;
                };
                let (new, row) = a.apply_scheduled(i as usize, now, running, self.desired);
                if let Some(every) = a.scheduled[i as usize].every
                    && now + every < self.cfg.end
                {
                    cx.schedule_control(now + every, ControlEvent::Scheduled(i));
                }
                if self.cfg.decision_log {
                    self.decisions.push(row);
                }
                self.set_desired(new, data, cx);
            }
            ControlEvent::Restart(id) => {
                if self.fleet.task(id).stage != Stage::Pulling {
                    return;
                }
                // The image is on the node: only the container starts.
                let start = self.container_start(id);
                cx.schedule_control(now + start, ControlEvent::Running(id));
            }
            ControlEvent::PullStart(id) => {
                if self.fleet.task(id).stage != Stage::Provisioning {
                    return;
                }
                self.fleet.set_stage(id, Stage::Pulling, now);
                self.begin_billing(id, now);
                self.schedule_spot(id, now, cx);
                let d = if self.on_ec2() {
                    self.ec2_start_delay(id, cx)
                } else {
                    draw_secs(&self.cfg.platform.pull_s, &mut self.rng.pull)
                };
                cx.schedule_control(now + d, ControlEvent::Running(id));
            }
            ControlEvent::Running(id) => {
                if self.fleet.task(id).stage != Stage::Pulling {
                    return;
                }
                self.fleet.set_stage(id, Stage::Starting, now);
                self.mark_image_cached(id, cx);
                // Registered in the target group at RUNNING; a new target is
                // healthy after one passing check (AWS ECS developer guide,
                // load-balancer-healthcheck), the first one after the
                // application is up, at a random phase of the interval.
                let app = draw_secs(&self.cfg.platform.app_start_s, &mut self.rng.app);
                let phase = self.health_phase();
                match self.readiness_time(now, app) {
                    Some(ready) => {
                        // Ready: the load balancer controller registers the
                        // pod's IP; the target serves after its first passing
                        // check once the application is up.
                        cx.schedule_control(ready, ControlEvent::Ready(id));
                        let checked = ready.max(now + app) + phase;
                        cx.schedule_control(checked, ControlEvent::Healthy(id));
                    }
                    None => cx.schedule_control(now + app + phase, ControlEvent::Healthy(id)),
                }
            }
            ControlEvent::Ready(id) => {
                if self.fleet.task(id).stage == Stage::Starting {
                    self.fleet.set_ready(id, now);
                }
            }
            ControlEvent::MetricsScrape => {
                self.metrics_scrape(data, cx);
                let res = self.hpa.as_ref().map_or(0, |h| h.config().resolution);
                if res > 0 && now + res < self.cfg.end {
                    cx.schedule_control(now + res, ControlEvent::MetricsScrape);
                }
            }
            ControlEvent::HpaSync => {
                self.hpa_sync(data, cx);
                let sync = self.hpa.as_ref().map_or(0, |h| h.config().sync_period);
                if sync > 0 && now + sync < self.cfg.end {
                    cx.schedule_control(now + sync, ControlEvent::HpaSync);
                }
            }
            ControlEvent::Healthy(id) => {
                if self.fleet.task(id).stage != Stage::Starting {
                    return;
                }
                self.fleet.set_stage(id, Stage::Serving, now);
                data.add_task(id, cx);
                let t = self.fleet.task(id);
                let node = t.node.and_then(|n| {
                    let i = &cx.cluster.as_deref()?.cluster().instances[n as usize];
                    Some((i.launched, i.registered.unwrap_or(i.launched)))
                });
                let times = TaskTimes {
                    launched: t.launched,
                    pull_start: t.pull_start.unwrap_or(now),
                    running: t.running.unwrap_or(now),
                    node,
                };
                self.lag.update(now, self.fleet.serving.get(), Some(times));
                if self.fleet.task(id).interrupted {
                    if self.may_deregister() {
                        self.drain(id, data, cx);
                    }
                } else {
                    self.release_interrupted(data, cx);
                }
            }
            ControlEvent::SpotWarning(id) => {
                let stage = self.fleet.task(id).stage;
                if stage == Stage::Stopped || self.fleet.task(id).interrupted {
                    return;
                }
                if stage == Stage::Draining {
                    // Already leaving (a scale-in): it still goes when reclaimed.
                    self.fleet.interrupt(id, now);
                    cx.schedule_control(now + platform::SPOT_WARNING, ControlEvent::SpotStop(id));
                    return;
                }
                self.fleet.interrupt(id, now);
                cx.schedule_control(now + platform::SPOT_WARNING, ControlEvent::SpotStop(id));
                if stage == Stage::Serving && self.may_deregister() {
                    self.drain(id, data, cx);
                }
                // The scheduler starts a replacement at once (aws.md §1.4).
                self.reconcile(data, cx);
            }
            ControlEvent::SpotStop(id) => {
                self.stop(id, StopReason::SpotInterrupted, data, cx);
                self.reconcile(data, cx);
            }
            ControlEvent::Placed(id, node) => self.placed(id, node, cx),
            ControlEvent::InstanceDraining(id, why) => self.instance_draining(id, why, data, cx),
            ControlEvent::InstanceLost(id, reason) => self.instance_lost(id, reason, data, cx),
            ControlEvent::DeregistrationEnd(id) => {
                if self.fleet.task(id).stage != Stage::Draining {
                    return;
                }
                match self.cfg.stop_timeout {
                    // The delay ran out: ECS stops the task (SIGTERM): it
                    // goes now if idle, else its requests have stopTimeout.
                    Some(timeout) if !self.fleet.task(id).drained => {
                        self.fleet.sigterm(id);
                        cx.schedule_control(now + timeout, ControlEvent::StopTimeout(id));
                    }
                    _ => self.finish_draining(id, data, cx),
                }
            }
            ControlEvent::StopTimeout(id) => self.finish_draining(id, data, cx),
        }
    }

    /// Handles a notice from the data plane.
    pub fn notice<D: DataPlane>(
        &mut self,
        notice: Notice,
        data: &mut D,
        cx: &mut Ctx<'_, D::Event>,
    ) {
        match notice {
            Notice::OomKilled(id) => {
                // Kubernetes restarts the container in its pod; ECS (and a
                // pod already terminating) stops the task and replaces it.
                if self.cfg.k8s.is_some() && self.fleet.task(id).stage < Stage::Draining {
                    self.restart_container(id, cx);
                    return;
                }
                self.stop(id, StopReason::OomKilled, data, cx);
                self.reconcile(data, cx);
            }
            // Nothing is in flight any more: with `idle` draining (and after
            // SIGTERM) the task goes; otherwise it waits out the delay.
            Notice::Drained(id) => {
                self.fleet.set_drained(id);
                if self.cfg.drain_on_idle || self.fleet.task(id).sigterm {
                    self.finish_draining(id, data, cx);
                }
            }
        }
    }

    /// A draining task stops (its deregistration finished or ran out).
    fn finish_draining<D: DataPlane>(
        &mut self,
        id: TaskId,
        data: &mut D,
        cx: &mut Ctx<'_, D::Event>,
    ) {
        if self.fleet.task(id).stage != Stage::Draining {
            return;
        }
        let t = self.fleet.task(id);
        let reason = if t.interrupted {
            StopReason::SpotInterrupted
        } else if t.evicted {
            StopReason::Evicted
        } else {
            StopReason::ScaleIn
        };
        self.stop(id, reason, data, cx);
        self.reconcile(data, cx);
    }

    fn set_desired<D: DataPlane>(&mut self, new: u32, data: &mut D, cx: &mut Ctx<'_, D::Event>) {
        if new != self.desired {
            self.desired = new;
            self.reconcile(data, cx);
            // A lower floor may now let interrupted Spot tasks deregister.
            self.release_interrupted(data, cx);
        }
    }

    /// A new target is healthy after one passing check (AWS ECS developer
    /// guide, load-balancer-healthcheck), the first one after the
    /// application is up, at a random phase of the interval.
    fn health_phase(&mut self) -> SimTime {
        let interval = self.cfg.balancer.health_check_interval;
        if interval > 0 {
            self.rng.health.random_range(1..=interval)
        } else {
            0
        }
    }

    /// CPU busy time since the previous call, all tasks (and each task's,
    /// kept for the next metrics scrape).
    fn collect_busy<D: DataPlane>(&mut self, data: &mut D, now: SimTime) {
        let b = data.take_busy(now, &mut self.pod_busy);
        self.minute_busy += b;
        self.hr_busy += b;
    }

    /// How often alarms are evaluated, and when after a period's end:
    /// every minute after the one-minute delay, or every 20 s after the
    /// high-resolution delay when a policy reads 20-second metrics.
    fn evaluation_cadence(&self) -> (SimTime, SimTime) {
        if self.cw_hr.is_some() {
            (
                crate::metrics::cloudwatch::HIGH_RESOLUTION_PERIOD,
                self.cfg.high_resolution_metric_delay,
            )
        } else {
            (MINUTE, self.cfg.metric_delay)
        }
    }

    /// A CloudWatch datapoint of the service over `len` µs: CPU used /
    /// reserved, memory in use / reserved, requests per serving target.
    fn datapoint(
        &self,
        busy: u64,
        times: (u64, u64),
        arrived: u64,
        in_flight_area: u128,
        len: SimTime,
    ) -> Datapoint {
        let (running_time, serving_time) = times;
        let reserved = running_time.saturating_mul(self.cfg.cpu_units as u64);
        let mem_used = self.cfg.memory_base_mib * running_time as f64
            + self.cfg.memory_per_request_mib * in_flight_area as f64;
        Datapoint {
            cpu: (reserved > 0).then(|| busy as f64 / reserved as f64 * 100.0),
            memory: (running_time > 0 && self.cfg.memory_reserved_mib > 0.0)
                .then(|| mem_used / (self.cfg.memory_reserved_mib * running_time as f64) * 100.0),
            requests_per_target: (serving_time > 0)
                .then(|| arrived as f64 / (serving_time as f64 / MINUTE as f64)),
            running: running_time as f64 / len.max(1) as f64,
        }
    }

    /// Closes the 20-second period ending at `now`: its high-resolution datapoint.
    fn close_high_resolution<D: DataPlane>(
        &mut self,
        data: &mut D,
        cx: &mut Ctx<'_, D::Event>,
        now: SimTime,
    ) {
        let period = crate::metrics::cloudwatch::HIGH_RESOLUTION_PERIOD;
        if now == 0 || self.cw_hr.is_none() {
            return;
        }
        self.collect_busy(data, now);
        let busy = std::mem::take(&mut self.hr_busy);
        let mark = (
            self.fleet.running.total_at(now),
            self.fleet.serving.total_at(now),
            cx.rec.arrived,
            cx.rec.in_flight_area_at(now),
        );
        let (r0, s0, a0, f0) = std::mem::replace(&mut self.hr_mark, mark);
        let i = ((now - 1) / period) as usize;
        let len = now - i as SimTime * period;
        let dp = self.datapoint(
            busy,
            ((mark.0 - r0) as u64, (mark.1 - s0) as u64),
            mark.2 - a0,
            mark.3 - f0,
            len,
        );
        if let Some(c) = self.cw_hr.as_mut() {
            c.record(i, dp);
        }
    }

    fn evaluate<D: DataPlane>(&mut self, data: &mut D, cx: &mut Ctx<'_, D::Event>) {
        let now = cx.now();
        let running = self.fleet.running.get();
        let Some(a) = self.cfg.autoscaler.as_mut() else {
            return;
        };
        let out = a.evaluate(now, &self.cw, self.cw_hr.as_ref(), running, self.desired);
        if let Some((first_breach_end, dp_end)) = out.out_alarm {
            self.lag.alarm(AlarmMark {
                first_breach_end,
                datapoint_end: dp_end,
                published: dp_end + self.evaluation_cadence().1,
                evaluated: now,
            });
        }
        if self.cfg.decision_log {
            self.decisions.extend(out.rows);
        }
        if out.scaled_out {
            self.scale_out_events += 1;
        }
        if out.scaled_in {
            self.scale_in_events += 1;
        }
        self.set_desired(out.desired, data, cx);
    }

    /// Closes the minute ending at `now` (or the partial last one): fleet
    /// integrals, cost, the CloudWatch datapoints, the lag bookkeeping.
    fn close_minute<D: DataPlane>(
        &mut self,
        data: &mut D,
        cx: &mut Ctx<'_, D::Event>,
        now: SimTime,
    ) {
        if now == 0 {
            return;
        }
        let minute = ((now - 1) / MINUTE) as usize;
        let len = now - minute as SimTime * MINUTE;
        self.collect_busy(data, now);
        let busy = std::mem::take(&mut self.minute_busy);
        let running_time = self.fleet.running.take(now);
        let serving_time = self.fleet.serving.take(now);
        let in_flight_area = cx.rec.take_in_flight_area(now);
        let arrived = cx.rec.rows().get(minute).map_or(0, |r| r.arrived);
        if self.balancer_class.is_some() {
            // ALB LCUs: the largest of the dimensions capsim can estimate
            // (new connections / 25 per s, active connections / 3000,
            // processed GB per hour), billed per LCU-hour (aws.md §6).
            let secs = len as f64 / SECOND as f64;
            let b = &self.cfg.balancer;
            let new_conn = arrived as f64 / secs / b.requests_per_connection / 25.0;
            let active = in_flight_area as f64 / len as f64 / 3_000.0;
            let gb_per_hour = arrived as f64 * b.kb_per_request / 1e6 * 3_600.0 / secs;
            let lcu = new_conn.max(active).max(gb_per_hour);
            self.ledger.charge(
                Bucket::LoadBalancer,
                lcu * pricing::ALB_LCU_HOUR_USD * secs / 3_600.0,
                now,
            );
        }
        let svc = self.cfg.service;
        let cost = self.ledger.take(now)
            + cx.cluster
                .as_deref_mut()
                .map_or(0.0, |c| c.minute_cost(svc, now));
        let reserved = running_time.saturating_mul(self.cfg.cpu_units as u64);
        let dp = self.datapoint(
            busy,
            (running_time, serving_time),
            arrived,
            in_flight_area,
            len,
        );
        cx.rec.add_fleet(
            minute,
            FleetMinute {
                busy,
                reserved,
                task_time: running_time,
                serving_time,
                desired: self.desired,
                cost,
                instances: cx.cluster.as_deref().map(ClusterControl::alive),
                spot_instances: cx.cluster.as_deref().map(ClusterControl::spot_alive),
            },
        );
        self.cw.record(minute, dp);
        self.lag
            .minute_closed(minute, serving_time as f64 / len as f64);
        if now < self.cfg.end {
            self.lag.update(now, self.fleet.serving.get(), None);
        }
    }

    /// Ends the run at `cx.now()`: closes the last (possibly partial) minute.
    /// Tasks still running are billed up to the end, without a minimum.
    pub fn finish<D: DataPlane>(&mut self, data: &mut D, cx: &mut Ctx<'_, D::Event>) {
        let now = cx.now();
        self.close_minute(data, cx, now);
        self.fleet.close(now);
        cx.rec.finish(now);
    }
}
