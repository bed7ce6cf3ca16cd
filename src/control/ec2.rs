//! The control plane's EC2 side, for one service on a shared cluster
//! ([`super::capacity::ClusterControl`], reached through `Ctx::cluster`):
//! placing its tasks (those with no place stay PENDING until the cluster
//! says [`ControlEvent::Placed`]), the start delay of a placed task (no image
//! pull where the instance already has the image), what the service does
//! when an instance drains or goes away, and the scale-in order per
//! placement strategy.

use super::capacity::ClusterControl;
use super::{ControlEvent, ControlPlane, Stage, StopReason};
use crate::engine::{Ctx, DataPlane, TaskId};
use crate::time::{SimTime, from_secs_f64};

/// The shared cluster of a service on EC2.
pub(super) fn cluster<'c, E>(cx: &'c mut Ctx<'_, E>) -> &'c mut ClusterControl {
    cx.cluster
        .as_deref_mut()
        .expect("an ECS-on-EC2 service runs with its cluster")
}

impl ControlPlane {
    /// Whether tasks run on EC2 container instances.
    pub(super) fn on_ec2(&self) -> bool {
        self.cfg.platform.ec2.is_some()
    }

    /// Places a warm-start task at t = 0 directly (image already there).
    pub(super) fn place_warm<E>(&mut self, id: TaskId, cx: &mut Ctx<'_, E>) -> bool {
        let svc = self.cfg.service;
        match cluster(cx).place_warm(svc, id) {
            Some(node) => {
                self.fleet.set_node(id, node);
                true
            }
            None => false,
        }
    }

    /// Places a launched task; with no place it waits, PENDING.
    pub(super) fn place_task<E>(&mut self, id: TaskId, cx: &mut Ctx<'_, E>) {
        let now = cx.now();
        let svc = self.cfg.service;
        if let Some(node) = cluster(cx).place(svc, id, now) {
            self.fleet.set_node(id, node);
            cx.schedule_control(now, ControlEvent::PullStart(id));
        }
    }

    /// The cluster found room for a waiting task.
    pub(super) fn placed<E>(&mut self, id: TaskId, node: u32, cx: &mut Ctx<'_, E>) {
        if self.fleet.task(id).stage != Stage::Provisioning {
            return;
        }
        self.fleet.set_node(id, node);
        cx.schedule_control(cx.now(), ControlEvent::PullStart(id));
    }

    /// Image pull (skipped when the instance has the image) and container
    /// start of a placed task.
    pub(super) fn ec2_start_delay<E>(&mut self, id: TaskId, cx: &mut Ctx<'_, E>) -> SimTime {
        let node = self.fleet.task(id).node.expect("placed");
        let cached = cluster(cx).has_image(node, self.cfg.service);
        let pull = if cached {
            0
        } else {
            self.cfg
                .platform
                .pull_s
                .as_ref()
                .map_or(0, |d| from_secs_f64(d.sample(&mut self.rng.pull)))
        };
        let start = &self
            .cfg
            .platform
            .ec2
            .as_ref()
            .expect("EC2")
            .cluster
            .task_start_s;
        pull + from_secs_f64(start.sample(&mut self.rng.app))
    }

    /// A container start with the image already there: on a node the
    /// cluster's start time, on Fargate none (the start is in the pull).
    pub(super) fn container_start(&mut self, _id: TaskId) -> SimTime {
        self.cfg.platform.ec2.as_ref().map_or(0, |e| {
            from_secs_f64(e.cluster.task_start_s.sample(&mut self.rng.app))
        })
    }

    /// The task's instance now has the image.
    pub(super) fn mark_image_cached<E>(&mut self, id: TaskId, cx: &mut Ctx<'_, E>) {
        if let (Some(node), true) = (self.fleet.task(id).node, self.on_ec2()) {
            let svc = self.cfg.service;
            cluster(cx).cache_image(node, svc);
        }
    }

    /// Frees a stopped task's place (or forgets it if it was waiting); the
    /// cluster retries its waiting tasks.
    pub(super) fn release_task<E>(&mut self, id: TaskId, cx: &mut Ctx<'_, E>) {
        let now = cx.now();
        let svc = self.cfg.service;
        cluster(cx).release(svc, id, now);
    }

    /// The task's instance drains — a Spot warning with draining on, or the
    /// node autoscaler removing it: the task leaves now and is replaced
    /// elsewhere.
    pub(super) fn instance_draining<D: DataPlane>(
        &mut self,
        id: TaskId,
        why: StopReason,
        data: &mut D,
        cx: &mut Ctx<'_, D::Event>,
    ) {
        let stage = self.fleet.task(id).stage;
        if stage == Stage::Stopped {
            return;
        }
        if why == StopReason::Evicted {
            // A pod already leaving (a scale-in) keeps its own reason.
            if stage < Stage::Draining {
                self.fleet.evict(id);
            }
        } else {
            self.fleet.interrupt(id, cx.now());
        }
        match stage {
            Stage::Serving => self.drain(id, data, cx),
            Stage::Draining | Stage::Stopped => {}
            _ => self.stop(id, why, data, cx),
        }
        self.reconcile(data, cx);
    }

    /// The task's instance stopped (Spot reclaim or scale-in): so does the task.
    pub(super) fn instance_lost<D: DataPlane>(
        &mut self,
        id: TaskId,
        reason: StopReason,
        data: &mut D,
        cx: &mut Ctx<'_, D::Event>,
    ) {
        self.stop(id, reason, data, cx);
        self.reconcile(data, cx);
    }

    /// On EC2, the serving tasks a scale-in stops are chosen the way ECS
    /// does for the service's placement strategy (`placement::scale_in_node`):
    /// the newest serving task on the chosen instance, one at a time.
    pub(super) fn order_ec2_victims<E>(
        &mut self,
        victims: &mut [(bool, SimTime, TaskId)],
        cx: &mut Ctx<'_, E>,
    ) {
        let group = self.cfg.service as u32;
        // Only the service's serving, undrained tasks count on each node.
        let mut nodes = cluster(cx).nodes().to_vec();
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
            *nodes[*n as usize].groups.entry(group).or_insert(0) += 1;
        }
        let req = &self.cfg.platform.ec2.as_ref().expect("EC2").task;
        for v in victims.iter_mut().filter(|v| v.0) {
            let Some(i) = crate::placement::scale_in_node(
                &nodes,
                group,
                &self.cfg.placement_strategies,
                cluster(cx).placement_rng(),
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
            nodes[i].release(req);
            *v = (true, launched, id);
        }
    }
}
