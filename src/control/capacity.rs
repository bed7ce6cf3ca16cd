//! The shared EC2 cluster's side of the control plane: one Auto Scaling
//! group behind one capacity provider, shared by every service of a run.
//!
//! It owns what no single service owns: the instances and their lifecycle
//! (launch → boot → agent registered → terminated), their billing (its own
//! [`Ledger`]), EC2 Spot warnings, managed scaling once a minute, the
//! placement of every service's tasks (one placement engine, one random
//! stream) and the PENDING queue of tasks that found no room, oldest first
//! whatever their service.
//!
//! Services call it synchronously while they handle their own events (place,
//! release, image cache) through [`crate::engine::Ctx::cluster`]; it never
//! calls a service. What a service must hear — a waiting task got a place,
//! its instance is draining or gone — goes to an outbox that
//! [`crate::engine::run_shared`] delivers as [`ControlEvent`]s at the same
//! instant. A run of one service on EC2 goes through the same path.

use super::ControlEvent;
use super::fleet::StopReason;
use crate::cluster::{Cluster, ClusterConfig};
use crate::engine::{EventQueue, TaskId};
use crate::placement::{Compiled, Node, Request, Strategy};
use crate::pricing::{Ledger, Totals};
use crate::rng::{Component, Stream, stream};
use crate::scaling::{Decision, Text};
use crate::time::{MINUTE, SECOND, SimTime, from_secs_f64};
use rand_distr::{Distribution, Exp1};

mod karpenter;

/// How the tasks of one service are placed.
#[derive(Debug, Clone)]
pub struct ServicePlacement {
    /// What one task asks of an instance; its `group` is the service's index.
    pub request: Request,
    /// `placementConstraints`.
    pub constraints: Vec<Compiled>,
    /// `placementStrategy`, in order.
    pub strategies: Vec<Strategy>,
    /// Its pods say `karpenter.sh/do-not-disrupt` (Kubernetes).
    pub do_not_disrupt: bool,
}

/// The cluster's own events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ClusterEvent {
    /// A minute boundary: managed scaling evaluates the reservation.
    ManagedTick,
    /// An instance's agent registered.
    InstanceReady(u32),
    /// A Spot interruption warning for an instance.
    InstanceSpotWarning(u32),
    /// An instance is reclaimed (two minutes after its warning).
    InstanceTerminate(u32),
    /// The Cluster Autoscaler scans.
    CaScan,
    /// A node being removed still has pods after the longest graceful
    /// termination: it goes anyway.
    ForceTerminate(u32),
    /// Karpenter's batch of pending pods may have closed.
    KarpenterBatch,
    /// Karpenter's disruption controller polls.
    KarpenterDisrupt,
    /// A consolidation decision is validated (and carried out if it holds).
    KarpenterValidate,
    /// A Karpenter node reaches `expireAfter`.
    KarpenterExpire(u32),
}

/// The shared cluster and its control.
pub struct ClusterControl {
    cluster: Cluster,
    queue: EventQueue<ClusterEvent>,
    ledger: Ledger,
    services: Vec<ServicePlacement>,
    /// Instance of each placed task, per service, by task id.
    nodes_of: Vec<Vec<Option<u32>>>,
    /// Tasks waiting for room, oldest first: (service, task).
    pending: Vec<(usize, TaskId)>,
    /// Desired capacity of each group.
    asg_desired: Vec<u32>,
    warm: bool,
    end: SimTime,
    placement_rng: Stream,
    boot_rng: Stream,
    spot_rng: Stream,
    decisions: Vec<Decision>,
    outbox: Vec<(usize, ControlEvent)>,
    /// Allocated instance cost already reported per service (minute rows).
    minute_taken: Vec<f64>,
    /// The Cluster Autoscaler (EKS node groups).
    ca: Option<crate::k8s::cluster_autoscaler::ClusterAutoscaler>,
    /// System pods (CoreDNS) waiting for a node.
    system_pending: u32,
    /// Nodes being drained for removal: terminated once empty.
    removing: Vec<u32>,
    /// `CapacityProviderReservation` values not yet superseded by a
    /// published one: (computed at, value).
    reservations: std::collections::VecDeque<(SimTime, crate::cluster::Reservation)>,
    /// Karpenter (EKS NodePools).
    karpenter: Option<crate::k8s::karpenter::controller::Karpenter>,
    /// Pods of each service up at t = 0 (warm start): what Karpenter's
    /// initial nodes hold.
    warm_pods: Vec<u32>,
    /// Services whose pods' nodeSelector excludes some NodePool: their
    /// nodes are not consolidated (capsim's consolidation moves pods by
    /// resources alone).
    pinned: Vec<bool>,
}

impl ClusterControl {
    /// A cluster shared by `services` (service `k`'s request has group `k`).
    /// With `warm`, its initial instances are up at t = 0.
    pub fn new(
        cfg: ClusterConfig,
        services: Vec<ServicePlacement>,
        seed: u64,
        end: SimTime,
        warm: bool,
    ) -> Self {
        let cfg_scaler = cfg.scaler.clone();
        let mut cluster = Cluster::new(cfg);
        cluster.set_services(services.iter().map(|s| s.request.resources).collect());
        let n = services.len();
        let karpenter = match &cfg_scaler {
            crate::cluster::NodeScaler::Karpenter(k) => Some(
                crate::k8s::karpenter::controller::Karpenter::new(k.clone(), &cluster.cfg),
            ),
            _ => None,
        };
        ClusterControl {
            cluster,
            queue: EventQueue::new(),
            ledger: Ledger::new(),
            nodes_of: vec![Vec::new(); n],
            pending: Vec::new(),
            asg_desired: Vec::new(),
            warm,
            end,
            placement_rng: stream(seed, Component::Placement),
            boot_rng: stream(seed, Component::InstanceBoot),
            spot_rng: stream(seed, Component::SpotInterruptions),
            decisions: Vec::new(),
            outbox: Vec::new(),
            minute_taken: vec![0.0; n],
            ca: match &cfg_scaler {
                crate::cluster::NodeScaler::ClusterAutoscaler(c) => Some(
                    crate::k8s::cluster_autoscaler::ClusterAutoscaler::new(c.clone()),
                ),
                _ => None,
            },
            pinned: services
                .iter()
                .map(|s| {
                    karpenter.as_ref().is_some_and(|k| {
                        s.constraints.iter().any(|c| match c {
                            Compiled::NodeSelector(sel) => !k.fits_every_pool(sel),
                            _ => false,
                        })
                    })
                })
                .collect(),
            karpenter,
            system_pending: 0,
            removing: Vec::new(),
            reservations: std::collections::VecDeque::new(),
            warm_pods: vec![0; n],
            services,
        }
    }

    /// The pods of each service up at t = 0 with a warm start (Karpenter
    /// launches the nodes that hold them before the run starts).
    pub fn with_warm_pods(mut self, pods: Vec<u32>) -> Self {
        self.warm_pods = pods;
        self
    }

    /// The cluster (instances, nodes, integrals).
    pub fn cluster(&self) -> &Cluster {
        &self.cluster
    }

    /// The placement view of the instances.
    pub fn nodes(&self) -> &[Node] {
        &self.cluster.nodes
    }

    /// The one placement stream (placements, and the random choices of
    /// which task a scale-in stops).
    pub fn placement_rng(&mut self) -> &mut Stream {
        &mut self.placement_rng
    }

    /// Managed-scaling decisions (capacity-provider rows).
    pub fn decisions(&self) -> &[Decision] {
        &self.decisions
    }

    /// Instance cost totals up to `now`.
    pub fn cost(&mut self, now: SimTime) -> Totals {
        self.ledger.totals(now)
    }

    /// Number of services sharing the cluster.
    pub fn service_count(&self) -> usize {
        self.services.len()
    }

    /// Instances alive now.
    pub fn alive(&self) -> u32 {
        self.cluster.alive()
    }

    /// Spot instances alive now.
    pub fn spot_alive(&self) -> u32 {
        self.cluster
            .instances
            .iter()
            .filter(|i| i.alive() && i.spot)
            .count() as u32
    }

    /// Tasks waiting for room now.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// Starts the cluster: the initial instances — registered at t = 0 when
    /// warm (their boot happened before the run), booting otherwise — and
    /// the minute ticks of managed scaling.
    pub(crate) fn start(&mut self) {
        self.asg_desired = self.cluster.cfg.groups.iter().map(|g| g.initial).collect();
        self.system_pending = self.cluster.cfg.system.map_or(0, |s| s.0);
        self.karpenter_start();
        for g in 0..self.asg_desired.len() {
            for _ in 0..self.asg_desired[g] {
                let id = self.cluster.launch(g, 0, &mut self.ledger);
                if self.warm {
                    self.cluster.instances[id as usize].warm = true;
                    self.cluster.register(id, 0);
                } else {
                    self.schedule_boot(id, 0);
                }
                self.schedule_spot(id, 0);
            }
        }
        if self.cluster.cfg.managed().is_some() && MINUTE < self.end {
            self.queue.schedule(MINUTE, ClusterEvent::ManagedTick);
        }
        if let Some(ca) = &self.ca {
            let every = ca.config().scan_interval;
            if every < self.end {
                self.queue.schedule(every, ClusterEvent::CaScan);
            }
        }
        // CoreDNS goes where there is room (or waits for a node).
        self.place_system(0);
    }

    /// The instant of the cluster's next event before the end, if any.
    pub(crate) fn next_time(&self) -> Option<SimTime> {
        self.queue.peek_time().filter(|t| *t < self.end)
    }

    /// Runs the cluster's next event.
    pub(crate) fn step(&mut self) {
        let Some((now, event)) = self.queue.pop() else {
            return;
        };
        match event {
            ClusterEvent::ManagedTick => {
                self.managed_scaling(now);
                if now + MINUTE < self.end {
                    self.queue.schedule(now + MINUTE, ClusterEvent::ManagedTick);
                }
            }
            ClusterEvent::InstanceReady(i) => {
                if self.cluster.instances[i as usize].terminated.is_none() {
                    // Daemons first, then the waiting tasks.
                    self.cluster.register(i, now);
                    self.place_system(now);
                    self.place_pending(now);
                    self.karpenter_ready(i, now);
                }
            }
            ClusterEvent::InstanceSpotWarning(i) => {
                if self.cluster.instances[i as usize].alive() {
                    self.karpenter_interrupted(i, now);
                }
                self.spot_warning(i, now)
            }
            ClusterEvent::InstanceTerminate(i) => {
                self.terminate(i, StopReason::SpotInterrupted, now)
            }
            ClusterEvent::CaScan => {
                self.ca_scan(now);
                let every = self.ca.as_ref().map_or(0, |c| c.config().scan_interval);
                if every > 0 && now + every < self.end {
                    self.queue.schedule(now + every, ClusterEvent::CaScan);
                }
            }
            ClusterEvent::ForceTerminate(i) => self.terminate(i, StopReason::Evicted, now),
            ClusterEvent::KarpenterBatch => self.karpenter_batch(now),
            ClusterEvent::KarpenterDisrupt => self.karpenter_disrupt(now),
            ClusterEvent::KarpenterValidate => self.karpenter_validate(now),
            ClusterEvent::KarpenterExpire(i) => self.karpenter_expire(i, now),
        }
    }

    /// What the services must hear, by service.
    pub(crate) fn take_outbox(&mut self) -> Vec<(usize, ControlEvent)> {
        std::mem::take(&mut self.outbox)
    }

    /// Ends the run: integrals brought to the end.
    pub(crate) fn finish(&mut self) {
        self.cluster.advance(self.end);
    }

    fn schedule_boot(&mut self, id: u32, now: SimTime) {
        let boot = from_secs_f64(self.cluster.cfg.boot_s.sample(&mut self.boot_rng));
        self.queue
            .schedule(now + boot, ClusterEvent::InstanceReady(id));
    }

    fn schedule_spot(&mut self, id: u32, now: SimTime) {
        let rate = self.cluster.cfg.spot_rate;
        if !self.cluster.instances[id as usize].spot || rate <= 0.0 {
            return;
        }
        let e: f64 = Exp1.sample(&mut self.spot_rng);
        let at = now.saturating_add(from_secs_f64(e * 3_600.0 / rate));
        if at < self.end {
            self.queue
                .schedule(at, ClusterEvent::InstanceSpotWarning(id));
        }
    }

    /// Launches an instance now: it boots, and a Spot one may be reclaimed
    /// from its launch on.
    fn launch_instance(&mut self, group: usize, now: SimTime) {
        let id = self.cluster.launch(group, now, &mut self.ledger);
        self.schedule_boot(id, now);
        self.schedule_spot(id, now);
    }

    fn set_node(&mut self, svc: usize, task: TaskId, node: Option<u32>) {
        let v = &mut self.nodes_of[svc];
        if v.len() <= task as usize {
            v.resize(task as usize + 1, None);
        }
        v[task as usize] = node;
    }

    fn node_of(&self, svc: usize, task: TaskId) -> Option<u32> {
        self.nodes_of[svc].get(task as usize).copied().flatten()
    }

    /// Places and allocates a task where it fits, if anywhere.
    fn try_allocate(&mut self, svc: usize, task: TaskId, now: SimTime) -> Option<u32> {
        let s = &self.services[svc];
        let node = self.cluster.place(
            &s.request,
            &s.constraints,
            &s.strategies,
            &mut self.placement_rng,
        )?;
        self.cluster.allocate(node, task, &s.request, now);
        self.set_node(svc, task, Some(node));
        Some(node)
    }

    /// Places a new task of service `svc`: its instance, or `None` — it
    /// waits, PENDING, and the service hears [`ControlEvent::Placed`] when
    /// room appears.
    pub fn place(&mut self, svc: usize, task: TaskId, now: SimTime) -> Option<u32> {
        let node = self.try_allocate(svc, task, now);
        if node.is_none() && !self.pending.contains(&(svc, task)) {
            self.pending.push((svc, task));
            self.karpenter_pending(now);
        }
        node
    }

    /// Places a task that is already running at t = 0 (warm start): its
    /// image is on its instance.
    pub fn place_warm(&mut self, svc: usize, task: TaskId) -> Option<u32> {
        let node = self.place(svc, task, 0)?;
        self.cluster.cache_image(node, svc as u32);
        Some(node)
    }

    /// A task of service `svc` stopped: its place is freed (or it no longer
    /// waits), and waiting tasks are retried.
    pub fn release(&mut self, svc: usize, task: TaskId, now: SimTime) {
        self.pending.retain(|p| *p != (svc, task));
        if let Some(node) = self.node_of(svc, task) {
            self.set_node(svc, task, None);
            let req = self.services[svc].request.clone();
            self.cluster.release(node, task, &req, now);
            if self.removing.contains(&node)
                && self.cluster.instances[node as usize].tasks.is_empty()
            {
                // A drained node goes once its pods are gone.
                self.terminate(node, StopReason::ScaleIn, now);
            }
        }
        self.place_pending(now);
    }

    /// Places waiting system pods (CoreDNS) where they fit.
    fn place_system(&mut self, now: SimTime) {
        while self.system_pending > 0
            && self
                .cluster
                .place_system(&mut self.placement_rng, now)
                .is_some()
        {
            self.system_pending -= 1;
        }
        if self.system_pending > 0 {
            self.karpenter_pending(now);
        }
    }

    /// The Cluster Autoscaler's scan, and what it decided carried out.
    fn ca_scan(&mut self, now: SimTime) {
        use crate::k8s::cluster_autoscaler::PendingPod;
        let Some(mut ca) = self.ca.take() else {
            return;
        };
        let mut pending: Vec<PendingPod> = self
            .pending
            .iter()
            .map(|(svc, _)| PendingPod {
                request: self.services[*svc].request.clone(),
                constraints: self.services[*svc].constraints.clone(),
            })
            .collect();
        if let Some((_, r)) = self.cluster.cfg.system {
            for _ in 0..self.system_pending {
                pending.push(PendingPod {
                    request: Request {
                        resources: r,
                        ports: Vec::new(),
                        group: crate::cluster::SYSTEM_GROUP,
                    },
                    constraints: Vec::new(),
                });
            }
        }
        let actions = ca.scan(
            now,
            &self.cluster,
            &pending,
            &self.services,
            &mut self.placement_rng,
        );
        self.ca = Some(ca);
        self.decisions.extend(actions.rows);
        for (g, n) in actions.launch {
            for _ in 0..n {
                self.launch_instance(g, now);
            }
            self.asg_desired[g] += n;
        }
        for id in actions.remove {
            self.remove_node(id, now);
        }
        for id in actions.give_up {
            // Never became Ready: the Cluster Autoscaler deletes it.
            let g = self.cluster.instances[id as usize].group;
            self.asg_desired[g] = self.asg_desired[g].saturating_sub(1);
            self.terminate(id, StopReason::ScaleIn, now);
        }
    }

    /// Scale-down of one node: cordoned and drained (its pods are told to
    /// leave, system pods move), terminated once empty or after the longest
    /// graceful termination.
    fn remove_node(&mut self, id: u32, now: SimTime) {
        let g = self.cluster.instances[id as usize].group;
        self.asg_desired[g] = self.asg_desired[g].saturating_sub(1);
        self.cluster.drain(id);
        self.system_pending += self.cluster.evict_system(id, now);
        self.place_system(now);
        let tasks = self.cluster.instances[id as usize].tasks.clone();
        if tasks.is_empty() {
            self.terminate(id, StopReason::ScaleIn, now);
            return;
        }
        self.removing.push(id);
        for (g, task) in tasks {
            self.outbox.push((
                g as usize,
                ControlEvent::InstanceDraining(task, StopReason::Evicted),
            ));
        }
        let grace = match (&self.karpenter, &self.ca) {
            // A NodePool's terminationGracePeriod (none: its pods' own).
            (Some(k), _) => k.config().pools[g].termination_grace,
            (None, ca) => Some(
                ca.as_ref()
                    .map_or(0, |c| c.config().max_graceful_termination),
            ),
        };
        if let Some(grace) = grace {
            self.queue
                .schedule(now + grace, ClusterEvent::ForceTerminate(id));
        }
    }

    /// Retries the waiting tasks, oldest first.
    fn place_pending(&mut self, now: SimTime) {
        let waiting = std::mem::take(&mut self.pending);
        for (svc, task) in waiting {
            match self.try_allocate(svc, task, now) {
                Some(node) => self.outbox.push((svc, ControlEvent::Placed(task, node))),
                None => self.pending.push((svc, task)),
            }
        }
    }

    /// A task of service `svc` is leaving (terminating) but still holds its place.
    pub fn mark_leaving(&mut self, svc: usize, task: TaskId) {
        if let Some(node) = self.node_of(svc, task) {
            self.cluster.mark_leaving(node, svc as u32, task);
        }
    }

    /// Whether service `svc`'s image is on instance `node`.
    pub fn has_image(&self, node: u32, svc: usize) -> bool {
        self.cluster.has_image(node, svc as u32)
    }

    /// Service `svc`'s image is now on instance `node`.
    pub fn cache_image(&mut self, node: u32, svc: usize) {
        self.cluster.cache_image(node, svc as u32);
    }

    /// Instance cost of service `svc` since its previous call, up to `now`:
    /// everything the cluster cost when it serves one service, the
    /// service's allocated share when several share it.
    pub fn minute_cost(&mut self, svc: usize, now: SimTime) -> f64 {
        if self.services.len() == 1 {
            return self.ledger.take(now);
        }
        self.cluster.advance(now);
        let a = self.cluster.stats.allocated_usd[svc];
        let d = a - self.minute_taken[svc];
        self.minute_taken[svc] = a;
        d
    }

    /// A Spot warning: with instance draining on, the tasks are told to
    /// leave now and are replaced elsewhere; the instance stops two minutes
    /// later either way.
    fn spot_warning(&mut self, id: u32, now: SimTime) {
        if self.cluster.instances[id as usize].terminated.is_some() {
            return;
        }
        self.queue.schedule(
            now + crate::platform::SPOT_WARNING,
            ClusterEvent::InstanceTerminate(id),
        );
        if !self.cluster.cfg.spot_draining {
            // Without ECS_ENABLE_SPOT_INSTANCE_DRAINING the agent does nothing:
            // the tasks die with the instance two minutes later.
            return;
        }
        self.cluster.drain(id);
        self.system_pending += self.cluster.evict_system(id, now);
        self.place_system(now);
        for (g, task) in self.cluster.instances[id as usize].tasks.clone() {
            self.outbox.push((
                g as usize,
                ControlEvent::InstanceDraining(task, StopReason::SpotInterrupted),
            ));
        }
    }

    /// An instance stops (Spot reclaim or scale-in): its tasks' places go
    /// with it and their services hear of it.
    fn terminate(&mut self, id: u32, reason: StopReason, now: SimTime) {
        if self.cluster.instances[id as usize].terminated.is_some() {
            return;
        }
        // Closed first, so that nothing freed here is placed back on it.
        self.cluster.drain(id);
        self.removing.retain(|r| *r != id);
        self.system_pending += self.cluster.evict_system(id, now);
        for (g, task) in self.cluster.instances[id as usize].tasks.clone() {
            let svc = g as usize;
            self.set_node(svc, task, None);
            let req = self.services[svc].request.clone();
            self.cluster.release(id, task, &req, now);
            self.outbox
                .push((svc, ControlEvent::InstanceLost(task, reason)));
        }
        self.cluster.terminate(id, now, &mut self.ledger);
        let g = self.cluster.instances[id as usize].group;
        self.karpenter_gone(id, now);
        if reason == StopReason::SpotInterrupted
            && self.karpenter.is_none()
            && self.cluster.group_alive(g) < self.asg_desired[g]
        {
            // The ASG replaces a reclaimed instance to keep its desired capacity.
            self.launch_instance(g, now);
        }
        self.place_system(now);
        self.place_pending(now);
    }

    /// Managed scaling, once a minute: the reservation, the decision, its log row.
    fn managed_scaling(&mut self, now: SimTime) {
        let pending: Vec<Request> = self
            .pending
            .iter()
            .map(|(svc, _)| self.services[*svc].request.clone())
            .collect();
        let computed = self.cluster.reservation(&pending);
        // The value the alarms see: the newest one published by now.
        let delay = self.cluster.cfg.managed().map_or(0, |m| m.metric_delay);
        self.reservations.push_back((now, computed));
        while self.reservations.len() > 1 && self.reservations[1].0 + delay <= now {
            self.reservations.pop_front();
        }
        let Some(r) = self
            .reservations
            .front()
            .filter(|(t, _)| *t + delay <= now)
            .map(|(_, r)| r.clone())
        else {
            return;
        };
        let (delta, reason) = self.cluster.managed_decision(now, &r, self.cluster.alive());
        let target = self.cluster.cfg.managed().map_or(100, |m| m.target);
        let old = self.asg_desired[0];
        if delta > 0 {
            for _ in 0..delta {
                self.launch_instance(0, now);
            }
            self.asg_desired[0] = old + delta as u32;
        } else if delta < 0 {
            let victims =
                self.cluster
                    .scale_in_victims((-delta) as usize, now, &mut self.placement_rng);
            for v in &victims {
                self.terminate(*v, StopReason::ScaleIn, now);
            }
            self.asg_desired[0] = old.saturating_sub(victims.len() as u32);
        }
        let quiet = delta == 0 && reason.starts_with("at target");
        {
            self.decisions.push(Decision {
                time_s: now as f64 / SECOND as f64,
                clock: Text::Clock(now),
                policy: "capacity-provider".into(),
                alarm: format!("CapacityProviderReservation vs targetCapacity {target}").into(),
                datapoints: r.value.map_or("-".into(), |v| format!("{v:.2}").into()),
                alarm_state: match r.value {
                    Some(v) if v > target as f64 => "ALARM (high)".into(),
                    Some(v) if v < target as f64 => "ALARM (low)".into(),
                    Some(_) => "OK".into(),
                    None => "INSUFFICIENT_DATA".into(),
                },
                running: self.cluster.alive(),
                old_desired: old,
                proposed: Some(r.m),
                new_desired: self.asg_desired[0],
                action: if delta > 0 {
                    "instances_out".into()
                } else if delta < 0 {
                    "instances_in".into()
                } else {
                    "none".into()
                },
                reason: format!(
                    "{}{reason}; {} task(s) pending",
                    if quiet {
                        format!("{}: ", crate::scaling::QUIET)
                    } else {
                        String::new()
                    },
                    self.pending.len()
                )
                .into(),
            });
        }
    }
}
