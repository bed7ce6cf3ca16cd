//! A cluster of EC2 instances — ECS container instances of one Auto Scaling
//! group, or EKS nodes of managed node groups: what each registers, which
//! tasks or pods sit where, their billing, and the integrals the reports
//! read. `config.rs`: what a cluster is made of (groups, node model, node
//! scaler); `managed.rs`: ECS capacity-provider managed scaling.
//!
//! Facts (shared/reference/aws.md §2.6, §2.7, §3):
//! - registered CPU = vCPU × 1024; registered memory = what the OS reports
//!   (a share of the instance's) minus `ECS_RESERVED_MEMORY`; awsvpc tasks
//!   need an ENI each (ENIs − 1 per instance, more with trunking); static host
//!   ports are exclusive;
//! - `CapacityProviderReservation` = instances needed M / instances running N
//!   × 100, computed every minute; with tasks waiting for capacity, M = N +
//!   what those tasks need on an empty instance of the largest type (tasks
//!   that fit no type cannot make it grow), and M = 2 when N = 0; without, M
//!   = instances running a non-daemon task. Target tracking on
//!   `targetCapacity`: scale out by max(min step, min(max step, need)), no
//!   further scale-out while an instance is within `instanceWarmupPeriod`;
//!   scale in after 15 one-minute datapoints below target, by at most half the
//!   group, empty instances only with managed termination protection;
//! - instances bill per second with a 60-second minimum (Linux), on-demand
//!   or Spot; Spot instances get a 2-minute warning.

mod config;
mod managed;

pub use config::{ClusterConfig, Ec2Setup, GroupConfig, MaxPods, NodeModel, NodeScaler};
pub use managed::{Managed, Reservation, SCALE_IN_DATAPOINTS};

use crate::engine::TaskId;
use crate::placement::{self, Compiled, Node, NodeAttrs, Request, Resources, Strategy};
use crate::pricing::{self, Bucket, ClassId, Ledger};
use crate::rng::Stream;
use crate::time::SimTime;
use serde::Serialize;
use std::collections::BTreeMap;

/// The most instances a cluster holds at once (capsim's bound, as an ECS
/// cluster's; Karpenter launches no more).
pub const MAX_NODES: u32 = 5_000;

/// Group ids of daemon tasks (service groups count up from 0).
pub fn daemon_group(k: usize) -> u32 {
    u32::MAX - k as u32
}

/// Group id of Kubernetes system pods (CoreDNS) on a node.
pub const SYSTEM_GROUP: u32 = u32::MAX - 4096;

/// One container instance.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Instance {
    /// Id (= index).
    pub id: u32,
    /// Instance type.
    pub instance_type: String,
    /// Availability zone.
    pub az: String,
    /// Spot.
    pub spot: bool,
    /// Launched (billing starts).
    pub launched: SimTime,
    /// Agent registered (accepting tasks).
    pub registered: Option<SimTime>,
    /// Terminated (billing stops).
    pub terminated: Option<SimTime>,
    /// Draining (no new tasks; tasks moved away).
    pub draining: bool,
    /// Services (placement groups) whose image is on the instance.
    pub images: Vec<u32>,
    /// Non-daemon tasks on it: (service's placement group, task id).
    pub tasks: Vec<(u32, TaskId)>,
    /// Since when it has had no non-daemon task (registered instances).
    pub empty_since: Option<SimTime>,
    /// When its pods last changed (one placed or gone, or it registered):
    /// what Karpenter's `consolidateAfter` counts from.
    pub changed: SimTime,
    /// Already up when the run started (its warm-up is long over).
    pub warm: bool,
    /// System pods (CoreDNS) on it (Kubernetes).
    pub system_pods: u32,
    /// Tasks on it that are leaving (terminating), as in `tasks`.
    #[serde(skip)]
    pub leaving: Vec<(u32, TaskId)>,
    /// Its Auto Scaling group (node group), by index.
    #[serde(skip)]
    pub group: usize,
    #[serde(skip)]
    type_idx: usize,
    #[serde(skip)]
    class: ClassId,
}

impl Instance {
    /// Running (launched, not terminated).
    pub fn alive(&self) -> bool {
        self.terminated.is_none()
    }

    /// Its type's index in its group's types.
    pub fn type_index(&self) -> usize {
        self.type_idx
    }
}

/// The cluster.
pub struct Cluster {
    /// Configuration.
    pub cfg: ClusterConfig,
    /// Every instance the run launched, by id.
    pub instances: Vec<Instance>,
    /// Placement view of the instances (same index).
    pub nodes: Vec<Node>,
    classes: BTreeMap<(usize, usize, bool), ClassId>,
    low_datapoints: u32,
    /// What one task of each service (by placement group) reserves.
    service_requests: Vec<Resources>,
    /// Instance-time and allocation integrals.
    pub stats: ClusterStats,
    /// Bumped at every change of an instance or of what it holds (what a
    /// node scaler may cache its last look against).
    pub version: u64,
}

/// Integrals over time of the cluster's size and allocation.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ClusterStats {
    last: SimTime,
    alive: u32,
    /// Most instances alive at once.
    pub max: u32,
    /// Fewest instances alive at once (for a positive time).
    pub min: Option<u32>,
    /// Instance × µs.
    pub instance_time: u128,
    /// Registered CPU × µs.
    pub cpu_registered: f64,
    /// Allocated CPU × µs.
    pub cpu_allocated: f64,
    /// Registered memory × µs.
    pub mem_registered: f64,
    /// Allocated memory × µs.
    pub mem_allocated: f64,
    /// USD spent on registered but unallocated (or not yet registered) capacity.
    pub idle_usd: f64,
    /// Instance cost allocated to each service (by placement group): the
    /// reserved part of each instance's price, split between the tasks on it
    /// by their mean share of its CPU and memory.
    pub allocated_usd: Vec<f64>,
    /// Instance cost allocated to daemon tasks, the same way.
    pub daemons_usd: f64,
    // Current rates.
    alloc_rate_now: Vec<f64>,
    daemon_rate_now: f64,
    cpu_reg_now: f64,
    cpu_alloc_now: f64,
    mem_reg_now: f64,
    mem_alloc_now: f64,
    idle_rate_per_us: f64,
}

impl Cluster {
    /// A cluster with no instance yet.
    pub fn new(cfg: ClusterConfig) -> Self {
        Cluster {
            cfg,
            instances: Vec::new(),
            nodes: Vec::new(),
            classes: BTreeMap::new(),
            low_datapoints: 0,
            service_requests: Vec::new(),
            stats: ClusterStats::default(),
            version: 0,
        }
    }

    /// Declares the services sharing the cluster: what one task of service
    /// `k` (placement group `k`) reserves, for the cost allocation.
    pub fn set_services(&mut self, requests: Vec<Resources>) {
        self.stats.allocated_usd = vec![0.0; requests.len()];
        self.stats.alloc_rate_now = vec![0.0; requests.len()];
        self.service_requests = requests;
        self.refresh();
    }

    /// Whether the image of service `group` is on instance `id`.
    pub fn has_image(&self, id: u32, group: u32) -> bool {
        self.instances[id as usize].images.contains(&group)
    }

    /// The image of service `group` is now on instance `id`.
    pub fn cache_image(&mut self, id: u32, group: u32) {
        let images = &mut self.instances[id as usize].images;
        if !images.contains(&group) {
            images.push(group);
        }
    }

    /// Brings the integrals to `now`.
    pub fn advance(&mut self, now: SimTime) {
        let s = &mut self.stats;
        if now > s.last {
            let dt = (now - s.last) as f64;
            s.instance_time += s.alive as u128 * (now - s.last) as u128;
            s.cpu_registered += s.cpu_reg_now * dt;
            s.cpu_allocated += s.cpu_alloc_now * dt;
            s.mem_registered += s.mem_reg_now * dt;
            s.mem_allocated += s.mem_alloc_now * dt;
            s.idle_usd += s.idle_rate_per_us * dt;
            for (a, r) in s.allocated_usd.iter_mut().zip(&s.alloc_rate_now) {
                *a += r * dt;
            }
            s.daemons_usd += s.daemon_rate_now * dt;
            s.min = Some(s.min.map_or(s.alive, |m| m.min(s.alive)));
            s.max = s.max.max(s.alive);
            s.last = now;
        }
    }

    /// Recomputes the current rates (after any change).
    fn refresh(&mut self) {
        self.version += 1;
        let (mut cr, mut ca, mut mr, mut ma, mut idle) = (0.0, 0.0, 0.0, 0.0, 0.0);
        let mut alloc = vec![0.0; self.service_requests.len()];
        let mut daemons = 0.0;
        for (inst, node) in self.instances.iter().zip(&self.nodes) {
            if !inst.alive() {
                continue;
            }
            let t = &self.cfg.groups[inst.group].types[inst.type_idx];
            let per_us = self.cfg.price(t, inst.spot) / 3.6e9;
            if inst.registered.is_some() {
                cr += node.capacity.cpu as f64;
                ca += node.used.cpu as f64;
                mr += node.capacity.memory as f64;
                ma += node.used.memory as f64;
                let share = (node.used.cpu as f64 / node.capacity.cpu.max(1) as f64)
                    .max(node.used.memory as f64 / node.capacity.memory.max(1) as f64);
                idle += per_us * (1.0 - share.min(1.0));
                // The reserved part is split by each group's mean share of
                // the instance's CPU and memory.
                let weight = |r: &Resources, n: u32| {
                    n as f64
                        * (r.cpu as f64 / node.capacity.cpu.max(1) as f64
                            + r.memory as f64 / node.capacity.memory.max(1) as f64)
                        / 2.0
                };
                let weights: Vec<(Option<usize>, f64)> = node
                    .groups
                    .iter()
                    .filter_map(|(g, n)| {
                        let k = (u32::MAX - g) as usize;
                        if k < self.cfg.daemons.len() {
                            Some((None, weight(&self.cfg.daemons[k].1, *n)))
                        } else if *g == SYSTEM_GROUP {
                            // Kubernetes system pods count with the daemons.
                            let r = self.cfg.system.map(|s| s.1).unwrap_or_default();
                            Some((None, weight(&r, *n)))
                        } else {
                            let r = self.service_requests.get(*g as usize)?;
                            Some((Some(*g as usize), weight(r, *n)))
                        }
                    })
                    .collect();
                let sum: f64 = weights.iter().map(|w| w.1).sum();
                if sum > 0.0 {
                    let reserved = per_us * share.min(1.0) / sum;
                    for (g, w) in weights {
                        match g {
                            Some(k) => alloc[k] += reserved * w,
                            None => daemons += reserved * w,
                        }
                    }
                }
            } else {
                idle += per_us;
            }
        }
        let s = &mut self.stats;
        s.alive = self.instances.iter().filter(|i| i.alive()).count() as u32;
        (
            s.cpu_reg_now,
            s.cpu_alloc_now,
            s.mem_reg_now,
            s.mem_alloc_now,
            s.idle_rate_per_us,
        ) = (cr, ca, mr, ma, idle);
        s.alloc_rate_now = alloc;
        s.daemon_rate_now = daemons;
    }

    /// Instances alive (launched, not terminated).
    pub fn alive(&self) -> u32 {
        self.instances.iter().filter(|i| i.alive()).count() as u32
    }

    fn class(&mut self, group: usize, type_idx: usize, spot: bool, ledger: &mut Ledger) -> ClassId {
        let price = self
            .cfg
            .price(&self.cfg.groups[group].types[type_idx], spot);
        *self
            .classes
            .entry((group, type_idx, spot))
            .or_insert_with(|| {
                ledger.class(
                    if spot {
                        Bucket::Spot
                    } else {
                        Bucket::Instances
                    },
                    price,
                )
            })
    }

    /// Launches an instance of group `group` (billing starts); returns its
    /// id. With a warm start the caller registers it at once.
    pub fn launch(&mut self, group: usize, now: SimTime, ledger: &mut Ledger) -> u32 {
        let g = &self.cfg.groups[group];
        let alive: Vec<&Instance> = self
            .instances
            .iter()
            .filter(|i| i.alive() && i.group == group)
            .collect();
        let od = alive.iter().filter(|i| !i.spot).count() as u32;
        let total = alive.len() as u32;
        // Mixed instances: the on-demand base first, then the percentage.
        let spot = if od < g.od_base {
            false
        } else {
            // Instances above the base, this one included; on-demand unless that
            // would put the on-demand share above the percentage.
            let above = total - od.min(g.od_base) + 1;
            let od_above = od.saturating_sub(g.od_base);
            (od_above + 1) as f64 > g.od_pct as f64 / 100.0 * above as f64
        };
        // On-demand: the first type listed (prioritized); Spot: the cheapest.
        let type_idx = if spot {
            (0..g.types.len())
                .min_by(|a, b| {
                    self.cfg
                        .price(&g.types[*a], true)
                        .total_cmp(&self.cfg.price(&g.types[*b], true))
                        .then(a.cmp(b))
                })
                .expect("at least one type")
        } else {
            0
        };
        self.launch_as(group, type_idx, spot, now, ledger)
    }

    /// Launches an instance of group `group` of its type `type_idx`, Spot
    /// or on-demand (what a node scaler that picks the type, Karpenter,
    /// calls); returns its id.
    pub fn launch_as(
        &mut self,
        group: usize,
        type_idx: usize,
        spot: bool,
        now: SimTime,
        ledger: &mut Ledger,
    ) -> u32 {
        self.advance(now);
        let g = &self.cfg.groups[group];
        let alive: Vec<&Instance> = self
            .instances
            .iter()
            .filter(|i| i.alive() && i.group == group)
            .collect();
        // The zone with the fewest of the group's instances (ASG AZ balancing;
        // Karpenter spreads its launches over the NodePool's zones alike).
        let az = *g
            .zones
            .iter()
            .min_by_key(|z| {
                (
                    alive.iter().filter(|i| i.az == self.cfg.azs[**z]).count(),
                    **z,
                )
            })
            .expect("at least one zone");
        let class = self.class(group, type_idx, spot, ledger);
        ledger.start(class, now);
        let id = self.instances.len() as u32;
        let g = &self.cfg.groups[group];
        let t = &g.types[type_idx];
        let mut labels = std::collections::BTreeMap::new();
        if self.cfg.kubernetes() {
            // Well-known labels the kubelet and EKS set (Kubernetes
            // well-known labels; EKS managed node groups).
            for (k, v) in [
                ("kubernetes.io/hostname", format!("node-{id}")),
                ("topology.kubernetes.io/zone", self.cfg.azs[az].clone()),
                ("node.kubernetes.io/instance-type", t.instance_type.clone()),
                (
                    "kubernetes.io/arch",
                    if t.arch == "arm64" {
                        "arm64".into()
                    } else {
                        "amd64".into()
                    },
                ),
            ] {
                labels.insert(k.to_string(), v);
            }
            // A managed node group's labels, or a Karpenter NodePool's.
            let (pool_key, capacity_key, spot_value, od_value) =
                if matches!(self.cfg.scaler, NodeScaler::Karpenter(_)) {
                    (
                        "karpenter.sh/nodepool",
                        "karpenter.sh/capacity-type",
                        "spot",
                        "on-demand",
                    )
                } else {
                    (
                        "eks.amazonaws.com/nodegroup",
                        "eks.amazonaws.com/capacityType",
                        "SPOT",
                        "ON_DEMAND",
                    )
                };
            labels.insert(pool_key.to_string(), g.name.clone());
            labels.insert(
                capacity_key.to_string(),
                if spot { spot_value } else { od_value }.to_string(),
            );
            if matches!(self.cfg.scaler, NodeScaler::Karpenter(_)) {
                // Karpenter labels its nodes with every well-known label of
                // their type and capacity type (scheduling.md).
                use crate::k8s::karpenter::requirements::{CapacityType, KNOWN_KEYS, label};
                let ct = if spot {
                    CapacityType::Spot
                } else {
                    CapacityType::OnDemand
                };
                for key in KNOWN_KEYS {
                    if let Some(v) = label(t, ct, key) {
                        labels.insert(key.to_string(), v);
                    }
                }
            }
            for (k, v) in &g.labels {
                labels.insert(k.clone(), v.clone());
            }
        }
        let mut node = Node::new(
            id,
            NodeAttrs {
                instance_type: t.instance_type.clone(),
                family: t.family.clone(),
                az: self.cfg.azs[az].clone(),
                labels,
            },
            self.cfg.capacity(t),
        );
        node.accepting = false;
        node.registered = false;
        self.nodes.push(node);
        self.instances.push(Instance {
            id,
            instance_type: t.instance_type.clone(),
            az: self.cfg.azs[az].clone(),
            spot,
            launched: now,
            registered: None,
            terminated: None,
            draining: false,
            images: Vec::new(),
            tasks: Vec::new(),
            empty_since: None,
            changed: now,
            warm: false,
            system_pods: 0,
            leaving: Vec::new(),
            group,
            type_idx,
            class,
        });
        self.refresh();
        id
    }

    /// Instances of group `group` alive.
    pub fn group_alive(&self, group: usize) -> u32 {
        self.instances
            .iter()
            .filter(|i| i.alive() && i.group == group)
            .count() as u32
    }

    /// The ECS agent registered: daemons are placed first, then the instance accepts tasks.
    pub fn register(&mut self, id: u32, now: SimTime) {
        self.advance(now);
        let i = id as usize;
        if self.instances[i].terminated.is_some() {
            return;
        }
        self.instances[i].registered = Some(now);
        self.instances[i].empty_since = Some(now);
        self.instances[i].changed = now;
        for (k, (_, r)) in self.cfg.daemons.iter().enumerate() {
            let req = Request {
                resources: *r,
                ports: Vec::new(),
                group: daemon_group(k),
            };
            if self.nodes[i].fits(&req) {
                self.nodes[i].allocate(&req);
            }
        }
        self.nodes[i].accepting = !self.instances[i].draining;
        self.nodes[i].registered = true;
        self.refresh();
    }

    /// Where a task goes, if anywhere.
    pub fn place(
        &self,
        req: &Request,
        constraints: &[Compiled],
        strategies: &[Strategy],
        rng: &mut Stream,
    ) -> Option<u32> {
        placement::place(&self.nodes, req, constraints, strategies, rng).map(|i| self.nodes[i].id)
    }

    /// Allocates a task on an instance.
    pub fn allocate(&mut self, id: u32, task: TaskId, req: &Request, now: SimTime) {
        self.advance(now);
        self.nodes[id as usize].allocate(req);
        let inst = &mut self.instances[id as usize];
        inst.tasks.push((req.group, task));
        inst.empty_since = None;
        inst.changed = now;
        self.refresh();
    }

    /// Releases a task's resources.
    pub fn release(&mut self, id: u32, task: TaskId, req: &Request, now: SimTime) {
        self.advance(now);
        if self.instances[id as usize].terminated.is_some() {
            // Its resources went with it.
            return;
        }
        self.nodes[id as usize].release(req);
        if self.instances[id as usize]
            .leaving
            .contains(&(req.group, task))
        {
            self.instances[id as usize]
                .leaving
                .retain(|t| *t != (req.group, task));
            let n = &mut self.nodes[id as usize];
            if let Some(c) = n.leaving.get_mut(&req.group) {
                *c -= 1;
                if *c == 0 {
                    n.leaving.remove(&req.group);
                }
            }
        }
        let inst = &mut self.instances[id as usize];
        inst.tasks.retain(|t| *t != (req.group, task));
        inst.changed = now;
        if inst.tasks.is_empty() && inst.registered.is_some() {
            inst.empty_since = Some(now);
        }
        self.refresh();
    }

    /// Places one system pod (CoreDNS) where it fits — spread over nodes,
    /// then the least allocated — and returns the node.
    pub fn place_system(&mut self, rng: &mut Stream, now: SimTime) -> Option<u32> {
        let (_, r) = self.cfg.system?;
        let req = Request {
            resources: r,
            ports: Vec::new(),
            group: SYSTEM_GROUP,
        };
        let strategies = [
            Strategy::Spread(placement::SpreadField::InstanceId),
            Strategy::LeastAllocated,
            Strategy::Random,
        ];
        let i = placement::place(&self.nodes, &req, &[], &strategies, rng)?;
        self.advance(now);
        self.nodes[i].allocate(&req);
        self.instances[i].system_pods += 1;
        self.instances[i].changed = now;
        self.refresh();
        Some(i as u32)
    }

    /// Takes the system pods off an instance (it is leaving); returns how many.
    pub fn evict_system(&mut self, id: u32, now: SimTime) -> u32 {
        let Some((_, r)) = self.cfg.system else {
            return 0;
        };
        let n = std::mem::take(&mut self.instances[id as usize].system_pods);
        if self.instances[id as usize].terminated.is_none() {
            self.advance(now);
            let req = Request {
                resources: r,
                ports: Vec::new(),
                group: SYSTEM_GROUP,
            };
            for _ in 0..n {
                self.nodes[id as usize].release(&req);
            }
            self.refresh();
        }
        n
    }

    /// A task on instance `id` is leaving (terminating): topology spread
    /// stops counting it; it holds its resources until released.
    pub fn mark_leaving(&mut self, id: u32, group: u32, task: TaskId) {
        let inst = &mut self.instances[id as usize];
        if inst.terminated.is_some()
            || !inst.tasks.contains(&(group, task))
            || inst.leaving.contains(&(group, task))
        {
            return;
        }
        inst.leaving.push((group, task));
        *self.nodes[id as usize].leaving.entry(group).or_insert(0) += 1;
    }

    /// Stops new placements on an instance.
    pub fn drain(&mut self, id: u32) {
        self.version += 1;
        self.instances[id as usize].draining = true;
        self.nodes[id as usize].accepting = false;
    }

    /// Terminates an instance: billing stops (per second, 60-second minimum).
    pub fn terminate(&mut self, id: u32, now: SimTime, ledger: &mut Ledger) {
        self.advance(now);
        let inst = &mut self.instances[id as usize];
        if inst.terminated.is_some() {
            return;
        }
        inst.terminated = Some(now);
        ledger.stop(inst.class, now);
        // A warm instance was launched before the run: past its minimum.
        let extra = if inst.warm {
            0
        } else {
            pricing::per_second_billing_extra(now - inst.launched, true)
        };
        ledger.charge_time(inst.class, extra, now);
        let node = &mut self.nodes[id as usize];
        node.accepting = false;
        node.capacity = Resources::default();
        node.used = Resources::default();
        node.groups.clear();
        node.ports.clear();
        node.leaving.clear();
        self.refresh();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::ec2::{Catalog, InstanceType};
    use crate::workload::Dist;

    fn cfg(types: &[&str]) -> ClusterConfig {
        let c = Catalog::embedded();
        ClusterConfig {
            groups: vec![GroupConfig {
                name: "asg".into(),
                types: types.iter().map(|t| c.get(t).unwrap().clone()).collect(),
                min_size: 0,
                max_size: 10,
                initial: 0,
                od_base: 1,
                od_pct: 50,
                zones: vec![0, 1, 2],
                labels: Vec::new(),
            }],
            azs: vec![
                "us-east-1a".into(),
                "us-east-1b".into(),
                "us-east-1c".into(),
            ],
            spot_discount: 0.6,
            spot_discounts: Default::default(),
            spot_rate: 0.0,
            spot_draining: false,
            boot_s: Dist::Constant(60.0),
            scaler: NodeScaler::EcsManaged(Managed {
                target: 100,
                min_step: 1,
                max_step: 10_000,
                warmup: 300 * 1_000_000,
                termination_protection: true,
                metric_delay: 0,
            }),
            daemons: vec![(
                "agent".into(),
                Resources {
                    cpu: 128,
                    memory: 256,
                    slots: 0,
                },
            )],
            model: NodeModel::Ecs {
                trunking: false,
                reserved_memory: 0,
                registered_fraction: 7985.0 / 8192.0,
            },
            task_start_s: Dist::Constant(3.0),
            system: None,
        }
    }

    #[test]
    fn spot_prices_come_from_the_row_then_the_family_then_the_platform() {
        let mut c = cfg(&["m5.large", "m6a.large"]);
        let (m5, m6a) = (c.groups[0].types[0].clone(), c.groups[0].types[1].clone());
        // The platform's discount (0.6).
        assert!((c.price(&m5, true) - m5.od_usd_per_hour * 0.4).abs() < 1e-12);
        c.spot_discounts.insert("m6a".into(), 0.7);
        assert!((c.price(&m6a, true) - m6a.od_usd_per_hour * 0.3).abs() < 1e-12);
        assert!((c.price(&m5, true) - m5.od_usd_per_hour * 0.4).abs() < 1e-12);
        let own = InstanceType {
            spot_usd_per_hour: Some(0.0123),
            ..m6a.clone()
        };
        assert_eq!(c.price(&own, true), 0.0123);
        assert_eq!(c.price(&own, false), m6a.od_usd_per_hour);
    }

    #[test]
    fn a_users_catalog_row_may_carry_its_spot_price() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("types.csv");
        let head = "instance_type,family,size,arch,vcpu,memory_mib,od_usd_per_hour,max_enis,ipv4_per_eni,awsvpc_tasks,awsvpc_tasks_trunking,eks_max_pods,source,spot_usd_per_hour";
        std::fs::write(
            &p,
            format!("{head}\nm9.large,m9,large,x86_64,2,8192,0.1,3,10,2,,29,mine,0.031\n"),
        )
        .unwrap();
        let c = Catalog::with_overrides(&p).unwrap();
        assert_eq!(c.get("m9.large").unwrap().spot_usd_per_hour, Some(0.031));
        assert_eq!(c.get("m5.large").unwrap().spot_usd_per_hour, None);
        std::fs::write(
            &p,
            format!("{head}\nm9.large,m9,large,x86_64,2,8192,0.1,3,10,2,,29,mine,-1\n"),
        )
        .unwrap();
        let e = Catalog::with_overrides(&p).unwrap_err();
        assert!(
            e.contains("line 2") && e.contains("spot_usd_per_hour"),
            "{e}"
        );
    }

    #[test]
    fn registered_resources_follow_the_agent() {
        let c = cfg(&["m5.large"]);
        let r = c.capacity(&c.groups[0].types[0]);
        assert_eq!((r.cpu, r.memory, r.slots), (2048, 7985, 2));
    }

    #[test]
    fn mixed_instances_and_zones() {
        let mut cl = Cluster::new(cfg(&["m5.large", "m6a.large"]));
        let mut ledger = Ledger::new();
        let ids: Vec<u32> = (0..5).map(|_| cl.launch(0, 0, &mut ledger)).collect();
        let spot: Vec<bool> = ids.iter().map(|i| cl.instances[*i as usize].spot).collect();
        // Base 1 on demand, then half of the rest.
        assert_eq!(spot, vec![false, true, false, true, false]);
        // Spot goes to the cheaper type, on-demand to the first listed.
        assert_eq!(cl.instances[1].instance_type, "m6a.large");
        assert_eq!(cl.instances[0].instance_type, "m5.large");
        let azs: Vec<&str> = cl.instances.iter().map(|i| i.az.as_str()).collect();
        assert_eq!(
            azs,
            vec![
                "us-east-1a",
                "us-east-1b",
                "us-east-1c",
                "us-east-1a",
                "us-east-1b"
            ]
        );
    }

    #[test]
    fn reservation_counts_pending_tasks_by_requirement() {
        let mut cl = Cluster::new(cfg(&["m5.large"]));
        let mut ledger = Ledger::new();
        let task = Request {
            resources: Resources {
                cpu: 512,
                memory: 1024,
                slots: 1,
            },
            ports: Vec::new(),
            group: 0,
        };
        // Empty group with pending tasks: two instances first.
        let r = cl.reservation(&[task.clone(), task.clone()]);
        assert_eq!((r.m, r.n, r.value), (2, 0, Some(200.0)));
        let a = cl.launch(0, 0, &mut ledger);
        cl.register(a, 0);
        // awsvpc without trunking: 2 tasks per m5.large; 5 pending need 3 more.
        let r = cl.reservation(&vec![task.clone(); 5]);
        assert_eq!((r.m, r.n), (4, 1));
        // A task bigger than any instance cannot make the group grow.
        let huge = Request {
            resources: Resources {
                cpu: 99_999,
                memory: 1,
                slots: 1,
            },
            ports: Vec::new(),
            group: 0,
        };
        // ... and holds the reservation at the target (no scale-in either).
        let r = cl.reservation(&[huge]);
        assert_eq!((r.m, r.n, r.value), (1, 1, Some(100.0)));
    }

    #[test]
    fn every_registered_instance_runs_every_daemon() {
        let mut c = cfg(&["m5.large"]);
        c.daemons.push((
            "metrics".into(),
            Resources {
                cpu: 64,
                memory: 128,
                slots: 0,
            },
        ));
        let mut cl = Cluster::new(c);
        let mut ledger = Ledger::new();
        let ids: Vec<u32> = (0..3).map(|_| cl.launch(0, 0, &mut ledger)).collect();
        for (k, id) in ids.iter().enumerate() {
            // Not accepting before the agent registers.
            assert!(!cl.nodes[*id as usize].accepting);
            cl.register(*id, 60 + k as SimTime);
        }
        for n in &cl.nodes {
            assert_eq!(n.count(daemon_group(0)), 1);
            assert_eq!(n.count(daemon_group(1)), 1);
            assert_eq!((n.used.cpu, n.used.memory), (128 + 64, 256 + 128));
            assert!(n.accepting);
        }
        // Daemons hold their resources before any replica: a task that would
        // need the whole instance no longer fits.
        let whole = Request {
            resources: Resources {
                cpu: 2048,
                memory: 1024,
                slots: 1,
            },
            ports: Vec::new(),
            group: 0,
        };
        let mut rng = crate::rng::stream(1, crate::rng::Component::Placement);
        assert_eq!(cl.place(&whole, &[], &[], &mut rng), None);
    }
}
