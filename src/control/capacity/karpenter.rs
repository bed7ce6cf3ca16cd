//! Karpenter's side of the cluster's control: pending pods open a batch,
//! the closed batch is provisioned (nodes launched as
//! [`crate::k8s::karpenter::controller`] decides, warm at the start), the
//! disruption controller's poll and its validation 15 s later, drains of
//! consolidated and expired nodes, replacements launched before the nodes
//! they replace drain. The decisions are Karpenter's; this file carries
//! them out on the cluster the other node scalers use.

use super::{ClusterControl, ClusterEvent, ServicePlacement};
use crate::k8s::karpenter::consolidate::Action;
use crate::k8s::karpenter::controller::{
    CONSOLIDATION_TTL, Command, DISRUPTION_POLL, PendingPod, row,
};
use crate::k8s::karpenter::provision::Launch;
use crate::k8s::karpenter::requirements::CapacityType;
use crate::placement::{Compiled, Resources};
use crate::time::SimTime;

impl ClusterControl {
    /// Starts Karpenter: the nodes the initial pods need, up at t = 0 when
    /// the cluster is warm, and the disruption controller's poll.
    pub(super) fn karpenter_start(&mut self) {
        let Some(k) = &self.karpenter else {
            return;
        };
        if k.consolidates() && DISRUPTION_POLL < self.end {
            self.queue
                .schedule(DISRUPTION_POLL, ClusterEvent::KarpenterDisrupt);
        }
        if !self.warm {
            return;
        }
        let mut pods: Vec<PendingPod> = Vec::new();
        for (svc, n) in self.warm_pods.iter().enumerate() {
            pods.extend(std::iter::repeat_n(
                Self::pending_pod(&self.services, svc),
                *n as usize,
            ));
        }
        pods.extend(self.system_pods());
        let Some(mut k) = self.karpenter.take() else {
            return;
        };
        let (launches, mut rows) = k.provision(0, &self.cluster, &pods);
        self.karpenter = Some(k);
        for r in &mut rows {
            r.reason = format!("warm start: {}", r.reason).into();
        }
        self.decisions.extend(rows);
        for l in &launches {
            self.karpenter_launch(l, 0, true);
        }
    }

    /// The system pods (CoreDNS) waiting for a node.
    fn system_pods(&self) -> Vec<PendingPod<'static>> {
        match self.cluster.cfg.system {
            Some((_, r)) => vec![
                PendingPod {
                    request: r,
                    selector: &[],
                };
                self.system_pending as usize
            ],
            None => Vec::new(),
        }
    }

    /// A pending pod of service `svc`: its requests and node selector.
    fn pending_pod(services: &[ServicePlacement], svc: usize) -> PendingPod<'_> {
        let s = &services[svc];
        PendingPod {
            request: s.request.resources,
            selector: s
                .constraints
                .iter()
                .find_map(|c| match c {
                    Compiled::NodeSelector(sel) => Some(sel.as_slice()),
                    _ => None,
                })
                .unwrap_or(&[]),
        }
    }

    /// Launches the node of a decision (registered at once when `warm`);
    /// returns its id.
    fn karpenter_launch(&mut self, l: &Launch, now: SimTime, warm: bool) -> u32 {
        let spot = l.capacity_type == CapacityType::Spot;
        let id = self
            .cluster
            .launch_as(l.pool, l.index, spot, now, &mut self.ledger);
        if warm {
            self.cluster.instances[id as usize].warm = true;
            self.cluster.register(id, now);
        } else {
            self.schedule_boot(id, now);
        }
        self.schedule_spot(id, now);
        let expire = self
            .karpenter
            .as_ref()
            .and_then(|k| k.config().pools[l.pool].expire_after);
        if let Some(e) = expire
            && now.saturating_add(e) < self.end
        {
            self.queue
                .schedule(now + e, ClusterEvent::KarpenterExpire(id));
        }
        id
    }

    /// A pod went pending: the batch opens, or waits one idle window more.
    pub(super) fn karpenter_pending(&mut self, now: SimTime) {
        if let Some(k) = &mut self.karpenter
            && let Some(at) = k.pod_pending(now)
        {
            self.queue.schedule(at, ClusterEvent::KarpenterBatch);
        }
    }

    /// The batch's window may have closed: provision its pods.
    pub(super) fn karpenter_batch(&mut self, now: SimTime) {
        let Some(mut k) = self.karpenter.take() else {
            return;
        };
        if let Err(at) = k.batch_due(now) {
            self.karpenter = Some(k);
            self.queue.schedule(at, ClusterEvent::KarpenterBatch);
            return;
        }
        let mut pods: Vec<PendingPod> = self
            .pending
            .iter()
            .map(|(svc, _)| Self::pending_pod(&self.services, *svc))
            .collect();
        pods.extend(self.system_pods());
        let (launches, rows) = k.provision(now, &self.cluster, &pods);
        self.karpenter = Some(k);
        self.decisions.extend(rows);
        for l in &launches {
            self.karpenter_launch(l, now, false);
        }
    }

    /// A node registered: the nodes it replaces drain now; pods still
    /// pending open a batch.
    pub(super) fn karpenter_ready(&mut self, id: u32, now: SimTime) {
        let Some(k) = &mut self.karpenter else {
            return;
        };
        let victims = k.replacement_ready(id);
        for &v in &victims {
            let inst = &self.cluster.instances[v as usize];
            if inst.alive() && !inst.draining {
                k.drained_by_consolidation(v);
            }
        }
        for v in victims {
            self.karpenter_drain(v, now);
        }
        if !self.pending.is_empty() || self.system_pending > 0 {
            self.karpenter_pending(now);
        }
    }

    /// Drains a node Karpenter disrupts (its pods counted as disrupted).
    fn karpenter_drain(&mut self, id: u32, now: SimTime) {
        let inst = &self.cluster.instances[id as usize];
        if !inst.alive() || inst.draining || self.removing.contains(&id) {
            return;
        }
        let pods = inst.tasks.len() as u64 + u64::from(inst.system_pods);
        if let Some(k) = &mut self.karpenter {
            k.stats.pods_disrupted += pods;
        }
        self.remove_node(id, now);
    }

    /// The requests of the pods on instance `id` (replicas and system
    /// pods), and whether one of them says `karpenter.sh/do-not-disrupt`.
    fn pods_on(&self, id: u32) -> (Vec<Resources>, bool) {
        let inst = &self.cluster.instances[id as usize];
        let blocked = inst
            .tasks
            .iter()
            .any(|(g, _)| self.services[*g as usize].do_not_disrupt || self.pinned[*g as usize]);
        let mut pods: Vec<Resources> = inst
            .tasks
            .iter()
            .map(|(g, _)| self.services[*g as usize].request.resources)
            .collect();
        if let Some((_, r)) = self.cluster.cfg.system {
            pods.extend(std::iter::repeat_n(r, inst.system_pods as usize));
        }
        (pods, blocked)
    }

    fn consolidation_now(&mut self, now: SimTime) -> Option<Command> {
        let mut k = self.karpenter.take()?;
        let cmd = k.consolidation(now, &self.cluster, &self.removing, &|id| self.pods_on(id));
        self.karpenter = Some(k);
        cmd
    }

    /// The disruption controller's poll: a consolidation decision, if
    /// any, to validate 15 s from now.
    pub(super) fn karpenter_disrupt(&mut self, now: SimTime) {
        if now + DISRUPTION_POLL < self.end {
            self.queue
                .schedule(now + DISRUPTION_POLL, ClusterEvent::KarpenterDisrupt);
        }
        let Some(k) = &mut self.karpenter else {
            return;
        };
        k.audit(now, &self.cluster);
        if k.is_validating() {
            return;
        }
        if let Some(cmd) = self.consolidation_now(now) {
            if let Some(k) = &mut self.karpenter {
                k.validate(cmd);
            }
            self.queue
                .schedule(now + CONSOLIDATION_TTL, ClusterEvent::KarpenterValidate);
        }
    }

    /// The decision under validation, carried out if it still holds.
    pub(super) fn karpenter_validate(&mut self, now: SimTime) {
        let again = self.consolidation_now(now);
        let Some(mut k) = self.karpenter.take() else {
            return;
        };
        let (cmd, ok) = k.validated(again);
        let r = k.consolidation_row(now, &self.cluster, &cmd, ok);
        self.karpenter = Some(k);
        self.decisions.push(r);
        if !ok {
            return;
        }
        match &cmd.action {
            Action::Delete { .. } => {
                for &id in &cmd.instances {
                    if let Some(k) = &mut self.karpenter {
                        k.drained_by_consolidation(id);
                    }
                    self.karpenter_drain(id, now);
                }
            }
            Action::Replace { with, .. } => {
                // Launched first; the nodes, tainted now (no new pods),
                // drain once it is ready.
                let id = self.karpenter_launch(with, now, false);
                if let Some(k) = &mut self.karpenter {
                    k.replacing(id, cmd.instances.clone());
                    match with.capacity_type {
                        CapacityType::Spot => k.stats.launched_spot += 1,
                        CapacityType::OnDemand => k.stats.launched_on_demand += 1,
                    }
                }
                for &v in &cmd.instances {
                    self.cluster.nodes[v as usize].accepting = false;
                }
            }
        }
        if let Some(k) = &mut self.karpenter {
            k.audit(now, &self.cluster);
        }
    }

    /// Node `id` reached `expireAfter`: drained (forcefully, whatever the
    /// budgets), its pods rescheduled by provisioning.
    pub(super) fn karpenter_expire(&mut self, id: u32, now: SimTime) {
        let inst = &self.cluster.instances[id as usize];
        if !inst.alive() || inst.draining || self.removing.contains(&id) {
            return;
        }
        let alive = self.cluster.alive();
        let r = row(
            now,
            "expiration",
            format!("launched at {:.0} s", inst.launched as f64 / 1e6),
            alive,
            alive,
            alive.saturating_sub(1),
            "expire",
            format!(
                "node-{id} ({}) reached expireAfter: drained, its pods go pending",
                inst.instance_type
            ),
        );
        self.decisions.push(r);
        if let Some(k) = &mut self.karpenter {
            k.stats.expired += 1;
        }
        self.karpenter_drain(id, now);
    }

    /// A Spot interruption warning on a Karpenter node: counted and logged
    /// (the node drains as any Spot node does; its pods' replacements go
    /// pending and provisioning launches what they need).
    pub(super) fn karpenter_interrupted(&mut self, id: u32, now: SimTime) {
        let Some(k) = &mut self.karpenter else {
            return;
        };
        k.stats.spot_interruptions += 1;
        let inst = &self.cluster.instances[id as usize];
        let alive = self.cluster.alive();
        self.decisions.push(row(
            now,
            "interruption",
            "Spot interruption warning".into(),
            alive,
            alive,
            alive,
            "drain",
            format!(
                "node-{id} ({} spot) is reclaimed in 2 minutes: {}",
                inst.instance_type,
                if self.cluster.cfg.spot_draining {
                    "cordoned and drained"
                } else {
                    "interruption handling is off, its pods go with it"
                }
            ),
        ));
    }

    /// Karpenter's counters so far (`None` without Karpenter).
    pub fn karpenter_stats(&self) -> Option<crate::k8s::karpenter::controller::KarpenterStats> {
        self.karpenter.as_ref().map(|k| k.stats.clone())
    }

    /// A Karpenter node went (terminated): a replacement that never became
    /// ready frees the nodes it was to replace.
    pub(super) fn karpenter_gone(&mut self, id: u32, now: SimTime) {
        let Some(k) = &mut self.karpenter else {
            return;
        };
        for v in k.node_gone(id) {
            // Uncordoned: the replacement they waited for never came.
            let inst = &self.cluster.instances[v as usize];
            if inst.alive() && !inst.draining && inst.registered.is_some() {
                self.cluster.nodes[v as usize].accepting = true;
            }
        }
        // Room under the limits, or a launching node lost: pods still
        // pending are provisioned again.
        if !self.pending.is_empty() || self.system_pending > 0 {
            self.karpenter_pending(now);
        }
    }
}
