//! The control plane's EC2 side: placing tasks on container instances
//! (tasks with no place stay PENDING and are retried whenever capacity
//! changes), the instances' lifecycle (launch → boot → agent registered →
//! terminated), EC2 Spot warnings, and capacity-provider managed scaling,
//! evaluated once a minute and logged beside the service's decisions.

use super::{ControlEvent, ControlPlane, Stage, StopReason};
use crate::engine::{Ctx, DataPlane, TaskId};
use crate::scaling::{Decision, clock};
use crate::time::{SECOND, SimTime, from_secs_f64};
use rand_distr::{Distribution, Exp1};

impl ControlPlane {
    /// What one task of the service asks of an instance.
    pub(super) fn task_request(&self) -> crate::placement::Request {
        self.cfg
            .platform
            .ec2
            .as_ref()
            .expect("EC2 platform")
            .task
            .clone()
    }

    /// Places and allocates a task on an instance if one has room (no events).
    pub(super) fn try_allocate(&mut self, id: TaskId, now: SimTime) -> Option<u32> {
        let req = self.task_request();
        let cluster = self.cluster.as_mut().expect("cluster");
        let node = cluster.place(
            &req,
            &self.cfg.placement_constraints,
            &self.cfg.placement_strategies,
            &mut self.placement_rng,
        )?;
        cluster.allocate(node, id, &req, now);
        self.fleet.set_node(id, node);
        Some(node)
    }

    /// Whether tasks run on EC2 container instances.
    pub(super) fn on_ec2(&self) -> bool {
        self.cluster.is_some()
    }

    /// Starts the cluster: the initial instances, registered at t = 0 with a
    /// warm start (their boot happened before the run), booting otherwise.
    pub(super) fn start_cluster<D: DataPlane>(&mut self, cx: &mut Ctx<'_, D::Event>) {
        let Some(cluster) = self.cluster.as_mut() else {
            return;
        };
        let n = cluster.cfg.initial;
        self.asg_desired = n;
        for _ in 0..n {
            let id = self
                .cluster
                .as_mut()
                .expect("cluster")
                .launch(0, &mut self.ledger);
            if self.cfg.warm_start {
                let cluster = self.cluster.as_mut().expect("cluster");
                cluster.instances[id as usize].warm = true;
                cluster.register(id, 0);
                self.schedule_instance_spot(id, 0, cx);
            } else {
                self.schedule_boot(id, 0, cx);
                self.schedule_instance_spot(id, 0, cx);
            }
        }
    }

    /// Launches an instance now: it boots, and a Spot one may be reclaimed
    /// from its launch on.
    fn launch_instance(&mut self, now: SimTime, cx: &mut Ctx<'_, impl Sized>) -> u32 {
        let id = self
            .cluster
            .as_mut()
            .expect("cluster")
            .launch(now, &mut self.ledger);
        self.schedule_boot(id, now, cx);
        self.schedule_instance_spot(id, now, cx);
        id
    }

    fn schedule_boot(&mut self, id: u32, now: SimTime, cx: &mut Ctx<'_, impl Sized>) {
        let cluster = self.cluster.as_ref().expect("cluster");
        let boot = from_secs_f64(cluster.cfg.boot_s.sample(&mut self.boot_rng));
        cx.schedule_control(now + boot, ControlEvent::InstanceReady(id));
    }

    fn schedule_instance_spot(&mut self, id: u32, now: SimTime, cx: &mut Ctx<'_, impl Sized>) {
        let cluster = self.cluster.as_ref().expect("cluster");
        let rate = cluster.cfg.spot_rate;
        if !cluster.instances[id as usize].spot || rate <= 0.0 {
            return;
        }
        let e: f64 = Exp1.sample(&mut self.rng.spot);
        let at = now.saturating_add(from_secs_f64(e * 3_600.0 / rate));
        if at < self.cfg.end {
            cx.schedule_control(at, ControlEvent::InstanceSpotWarning(id));
        }
    }

    /// Tries to place a launched task; with no place it waits, PENDING.
    pub(super) fn place_task<D: DataPlane>(
        &mut self,
        id: TaskId,
        cx: &mut Ctx<'_, D::Event>,
    ) -> bool {
        let now = cx.now();
        if self.try_allocate(id, now).is_some() {
            cx.schedule_control(now, ControlEvent::PullStart(id));
            true
        } else {
            if !self.pending.contains(&id) {
                self.pending.push(id);
            }
            false
        }
    }

    /// Retries the PENDING tasks, oldest first.
    pub(super) fn place_pending<D: DataPlane>(&mut self, cx: &mut Ctx<'_, D::Event>) {
        let waiting = std::mem::take(&mut self.pending);
        for id in waiting {
            if self.fleet.task(id).stage == Stage::Provisioning && !self.place_task::<D>(id, cx) {
                // place_task re-queued it.
            }
        }
    }

    /// Image pull (skipped when the instance has the image) and container
    /// start of a placed task.
    pub(super) fn ec2_start_delay(&mut self, id: TaskId) -> SimTime {
        let node = self.fleet.task(id).node.expect("placed");
        let cluster = self.cluster.as_ref().expect("cluster");
        let cached = cluster.instances[node as usize].image_cached;
        let pull = if cached {
            0
        } else {
            self.cfg
                .platform
                .pull_s
                .as_ref()
                .map_or(0, |d| from_secs_f64(d.sample(&mut self.rng.pull)))
        };
        pull + from_secs_f64(cluster.cfg.task_start_s.sample(&mut self.rng.app))
    }

    /// The task's instance now has the image.
    pub(super) fn mark_image_cached(&mut self, id: TaskId) {
        if let (Some(node), Some(cluster)) = (self.fleet.task(id).node, self.cluster.as_mut()) {
            cluster.instances[node as usize].image_cached = true;
        }
    }

    /// Frees a stopped task's place (or forgets it if it was waiting).
    pub(super) fn release_task(&mut self, id: TaskId, now: SimTime) {
        self.pending.retain(|p| *p != id);
        let Some(node) = self.fleet.task(id).node else {
            return;
        };
        let req = self.task_request();
        if let Some(cluster) = self.cluster.as_mut() {
            cluster.release(node, id, &req, now);
        }
    }

    /// An instance's agent registered: it takes daemons, then waiting tasks.
    pub(super) fn instance_ready<D: DataPlane>(
        &mut self,
        id: u32,
        data: &mut D,
        cx: &mut Ctx<'_, D::Event>,
    ) {
        let now = cx.now();
        let cluster = self.cluster.as_mut().expect("cluster");
        if cluster.instances[id as usize].terminated.is_some() {
            return;
        }
        cluster.register(id, now);
        self.place_pending::<D>(cx);
        let _ = data;
    }

    /// A Spot warning: with instance draining on, the tasks leave now and
    /// are replaced elsewhere; the instance stops two minutes later.
    pub(super) fn instance_spot_warning<D: DataPlane>(
        &mut self,
        id: u32,
        data: &mut D,
        cx: &mut Ctx<'_, D::Event>,
    ) {
        let now = cx.now();
        let cluster = self.cluster.as_mut().expect("cluster");
        if cluster.instances[id as usize].terminated.is_some() {
            return;
        }
        cx.schedule_control(
            now + crate::platform::SPOT_WARNING,
            ControlEvent::InstanceTerminate(id),
        );
        if !cluster.cfg.spot_draining {
            // Without ECS_ENABLE_SPOT_INSTANCE_DRAINING the agent does nothing:
            // the tasks die with the instance two minutes later.
            return;
        }
        cluster.drain(id);
        let tasks = cluster.instances[id as usize].tasks.clone();
        for t in tasks {
            self.fleet.interrupt(t, now);
            match self.fleet.task(t).stage {
                Stage::Serving => self.drain(t, data, cx),
                Stage::Draining | Stage::Stopped => {}
                _ => self.stop(t, StopReason::SpotInterrupted, data, cx),
            }
        }
        self.reconcile(data, cx);
    }

    /// An instance stops (Spot reclaim or scale-in): its tasks stop with it.
    pub(super) fn instance_terminate<D: DataPlane>(
        &mut self,
        id: u32,
        reason: StopReason,
        data: &mut D,
        cx: &mut Ctx<'_, D::Event>,
    ) {
        let now = cx.now();
        let cluster = self.cluster.as_ref().expect("cluster");
        if cluster.instances[id as usize].terminated.is_some() {
            return;
        }
        // Closed first, so that no task freed here is placed back on it.
        self.cluster.as_mut().expect("cluster").drain(id);
        let tasks = self.cluster.as_ref().expect("cluster").instances[id as usize]
            .tasks
            .clone();
        for t in tasks {
            self.stop(t, reason, data, cx);
        }
        self.cluster
            .as_mut()
            .expect("cluster")
            .terminate(id, now, &mut self.ledger);
        if reason == StopReason::SpotInterrupted {
            // The ASG replaces a reclaimed instance to keep its desired capacity.
            let alive = self.cluster.as_ref().expect("cluster").alive();
            if alive < self.asg_desired {
                self.launch_instance(now, cx);
            }
        }
        self.reconcile(data, cx);
        self.place_pending::<D>(cx);
    }

    /// Managed scaling, once a minute: the reservation, the decision, its log row.
    pub(super) fn managed_scaling<D: DataPlane>(
        &mut self,
        data: &mut D,
        cx: &mut Ctx<'_, D::Event>,
    ) {
        let now = cx.now();
        if self
            .cluster
            .as_ref()
            .is_none_or(|c| c.cfg.managed.is_none())
        {
            return;
        }
        let req = self.task_request();
        let pending: Vec<_> = self.pending.iter().map(|_| req.clone()).collect();
        let cluster = self.cluster.as_mut().expect("cluster");
        let r = cluster.reservation(&pending);
        let (delta, reason) = cluster.managed_decision(now, &r);
        let target = cluster.cfg.managed.as_ref().map_or(100, |m| m.target);
        let old = self.asg_desired;
        if delta > 0 {
            for _ in 0..delta {
                self.launch_instance(now, cx);
            }
            self.asg_desired = old + delta as u32;
        } else if delta < 0 {
            let victims = self
                .cluster
                .as_ref()
                .expect("cluster")
                .scale_in_victims((-delta) as usize);
            for v in &victims {
                self.instance_terminate(*v, StopReason::ScaleIn, data, cx);
            }
            self.asg_desired = old.saturating_sub(victims.len() as u32);
        }
        if delta != 0 || !reason.starts_with("at target") {
            let cluster = self.cluster.as_ref().expect("cluster");
            self.decisions.push(Decision {
                time_s: now as f64 / SECOND as f64,
                clock: clock(now),
                policy: "capacity-provider".into(),
                alarm: format!("CapacityProviderReservation vs targetCapacity {target}"),
                datapoints: r.value.map_or("-".into(), |v| format!("{v:.2}")),
                alarm_state: match r.value {
                    Some(v) if v > target as f64 => "ALARM (high)".into(),
                    Some(v) if v < target as f64 => "ALARM (low)".into(),
                    Some(_) => "OK".into(),
                    None => "INSUFFICIENT_DATA".into(),
                },
                running: cluster.alive(),
                old_desired: old,
                proposed: Some(r.m),
                new_desired: self.asg_desired,
                action: if delta > 0 {
                    "instances_out".into()
                } else if delta < 0 {
                    "instances_in".into()
                } else {
                    "none".into()
                },
                reason: format!("{reason}; {} task(s) pending", self.pending.len()),
            });
        }
    }

    /// On EC2, the serving tasks a scale-in stops are chosen the way ECS
    /// does for the service's placement strategy (`placement::scale_in_node`):
    /// the newest serving task on the chosen instance, one at a time.
    pub(super) fn order_ec2_victims(&mut self, victims: &mut [(bool, SimTime, TaskId)]) {
        let Some(cluster) = self.cluster.as_ref() else {
            return;
        };
        let req = self.task_request();
        // Only serving, undrained tasks count on each node.
        let mut nodes = cluster.nodes.clone();
        for n in &mut nodes {
            n.groups.clear();
        }
        let mut serving: Vec<(u32, SimTime, TaskId)> = self
            .fleet
            .alive()
            .filter(|t| t.active() && t.stage == Stage::Serving)
            .filter_map(|t| t.node.map(|n| (n, t.launched, t.id)))
            .collect();
        for (n, _, _) in &serving {
            *nodes[*n as usize].groups.entry(req.group).or_insert(0) += 1;
        }
        for v in victims.iter_mut().filter(|v| v.0) {
            let Some(i) = crate::placement::scale_in_node(
                &nodes,
                req.group,
                &self.cfg.placement_strategies,
                &mut self.placement_rng,
            ) else {
                break;
            };
            let node = nodes[i].id;
            // The newest serving task on that node.
            let Some(pos) = serving
                .iter()
                .enumerate()
                .filter(|(_, s)| s.0 == node)
                .max_by_key(|(_, s)| (s.1, s.2))
                .map(|(k, _)| k)
            else {
                break;
            };
            let (_, launched, id) = serving.remove(pos);
            nodes[i].release(&req);
            *v = (true, launched, id);
        }
    }
}
