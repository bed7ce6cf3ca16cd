//! The Kubernetes Cluster Autoscaler on EKS managed node groups, as its FAQ
//! and code describe it (kubernetes/autoscaler `cluster-autoscaler/FAQ.md`;
//! aws.md §5.2, §9.5), a node scaler of the one cluster control
//! ([`crate::control::ClusterControl`] calls [`ClusterAutoscaler::scan`]
//! every `scan_interval` and carries out what it returns).
//!
//! - **Scale-up**: pods that found no node are first fitted onto nodes
//!   already launched and not yet Ready (CA counts upcoming nodes); for the
//!   rest, each node group with room is estimated on its template node
//!   (first-fit decreasing, `estimator::estimate`, within its max size), an
//!   expander picks among the groups that would help (least-waste by
//!   default; ties at random), and that group grows by the estimate.
//! - **Scale-down**: a Ready node whose requested share of allocatable (the
//!   larger of CPU and memory, DaemonSet pods included) is below the
//!   threshold, whose pods all fit elsewhere (the scheduler's filters,
//!   nodes being removed excluded), and — with `skip-nodes-with-system-pods`
//!   — that runs no CoreDNS pod, is unneeded; after `scale-down-unneeded-time`
//!   unneeded, and `scale-down-delay-after-add` after the last scale-up,
//!   it is removed: empty nodes up to `max-empty-bulk-delete` at once,
//!   otherwise one non-empty node per scan, never below a group's minimum.
//!   A removed node is cordoned and drained (its pods are deleted and
//!   recreated elsewhere by their ReplicaSets) and terminated once empty or
//!   after `max-graceful-termination-sec`.
//!
//! Not modelled: node groups' balancing of similar groups, scale-up
//! failures and back-off (no capacity errors are simulated), PodDisruptionBudgets,
//! the unready-node tolerance.

use super::estimator::{self, Estimate, ScaleUpOption, Template};
use crate::cluster::Cluster;
use crate::control::ServicePlacement;
use crate::placement::{self, Compiled, Request, Resources};
use crate::rng::Stream;
use crate::scaling::{Decision, Text};
use crate::time::{MINUTE, SECOND, SimTime};
use rand::RngExt;

/// Which expander picks among node groups that could help.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Expander {
    /// The group that wastes the least CPU and memory (default since CA 1.33, aws.md §9.5).
    LeastWaste,
    /// A random group.
    Random,
    /// The group that schedules the most pods.
    MostPods,
    /// The highest user priority.
    Priority,
}

/// Cluster Autoscaler flags (defaults: kubernetes/autoscaler FAQ, aws.md §5.2, §9.5).
#[derive(Debug, Clone, PartialEq)]
pub struct CaConfig {
    /// `--scan-interval` (10 s).
    pub scan_interval: SimTime,
    /// `--expander` (least-waste).
    pub expander: Expander,
    /// Priorities per node group (priority expander), by group index.
    pub priorities: Vec<Option<i32>>,
    /// `--scale-down-utilization-threshold` (0.5).
    pub utilization_threshold: f64,
    /// `--scale-down-unneeded-time` (10 min).
    pub unneeded_time: SimTime,
    /// `--scale-down-delay-after-add` (10 min).
    pub delay_after_add: SimTime,
    /// `--max-empty-bulk-delete` (10).
    pub max_empty_bulk_delete: u32,
    /// `--max-node-provision-time` (15 min).
    pub max_node_provision_time: SimTime,
    /// `--skip-nodes-with-system-pods` (true): kube-system pods without a
    /// PodDisruptionBudget block their node's removal.
    pub skip_nodes_with_system_pods: bool,
    /// Whether CoreDNS has a PodDisruptionBudget (maxUnavailable 1): the
    /// EKS add-on ships one (v1.9.3-eksbuild.6 / v1.10.1-eksbuild.3 on; EKS
    /// user guide, managing-coredns), so its pods move like others, one
    /// node's worth at a time.
    pub system_pdb: bool,
    /// Longest graceful termination of a drained node's pods (600 s).
    pub max_graceful_termination: SimTime,
    /// Whether scale-down is enabled (`--scale-down-enabled`, true).
    pub scale_down: bool,
}

impl Default for CaConfig {
    fn default() -> Self {
        CaConfig {
            scan_interval: 10 * SECOND,
            expander: Expander::LeastWaste,
            priorities: Vec::new(),
            utilization_threshold: 0.5,
            unneeded_time: 10 * MINUTE,
            delay_after_add: 10 * MINUTE,
            max_empty_bulk_delete: 10,
            max_node_provision_time: 15 * MINUTE,
            skip_nodes_with_system_pods: true,
            system_pdb: true,
            max_graceful_termination: 600 * SECOND,
            scale_down: true,
        }
    }
}

/// A pod waiting for a node.
#[derive(Debug, Clone)]
pub struct PendingPod {
    /// What it requests (its group is its service's).
    pub request: Request,
    /// Its scheduling constraints (node selector, topology spread).
    pub constraints: Vec<Compiled>,
}

/// What one scan decided.
#[derive(Debug, Clone, Default)]
pub struct ScanActions {
    /// Nodes to launch, per node group.
    pub launch: Vec<(usize, u32)>,
    /// Nodes to remove (drain, then terminate).
    pub remove: Vec<u32>,
    /// Nodes that did not become Ready within `max_node_provision_time`:
    /// deleted, and their group backs off.
    pub give_up: Vec<u32>,
    /// Decision-log rows.
    pub rows: Vec<Decision>,
}

/// The Cluster Autoscaler's state between scans.
pub struct ClusterAutoscaler {
    cfg: CaConfig,
    /// Since when each node (by instance id) has been unneeded.
    unneeded_since: Vec<Option<SimTime>>,
    last_scale_up: Option<SimTime>,
    /// The last "cannot help" message, not repeated every scan.
    last_stuck: String,
    /// Until when each node group is backed off after a failed scale-up.
    backoff_until: Vec<SimTime>,
}

/// `--initial-node-group-backoff-duration`: a node group whose node did not
/// come up is not scaled up again for 5 minutes (kubernetes/autoscaler FAQ).
pub const NODE_GROUP_BACKOFF: SimTime = 5 * MINUTE;

fn add(a: Resources, b: Resources) -> Resources {
    Resources {
        cpu: a.cpu.saturating_add(b.cpu),
        memory: a.memory.saturating_add(b.memory),
        slots: a.slots.saturating_add(b.slots),
    }
}

/// The template node of group `g`: the type its ASG launches (on-demand
/// the first listed, Spot the cheapest), its capacity and allocatable, and
/// the DaemonSets every node carries.
pub fn template(cluster: &Cluster, g: usize) -> Template {
    let cfg = &cluster.cfg;
    let group = &cfg.groups[g];
    let spot = group.od_pct == 0 && group.od_base == 0;
    let t = if spot {
        group
            .types
            .iter()
            .min_by(|a, b| cfg.price(a, true).total_cmp(&cfg.price(b, true)))
            .expect("a group has types")
    } else {
        &group.types[0]
    };
    let allocatable = cfg.capacity(t);
    let daemonsets = cfg
        .daemons
        .iter()
        .fold(Resources::default(), |a, (_, r)| add(a, *r));
    let memory = match &cfg.model {
        crate::cluster::NodeModel::Kubernetes {
            memory_fraction, ..
        } => (t.memory_mib as f64 * memory_fraction).floor() as u32,
        _ => allocatable.memory,
    };
    Template {
        capacity: Resources {
            cpu: t.vcpu * 1000,
            memory,
            slots: allocatable.slots,
        },
        allocatable,
        daemonsets,
    }
}

/// Whether a pod's node selector can match a node of group `g`.
fn group_matches(cluster: &Cluster, g: usize, constraints: &[Compiled]) -> bool {
    let group = &cluster.cfg.groups[g];
    constraints.iter().all(|c| match c {
        Compiled::NodeSelector(sel) => sel.iter().all(|(k, v)| match k.as_str() {
            "eks.amazonaws.com/nodegroup" => *v == group.name,
            "eks.amazonaws.com/capacityType" => {
                *v == if group.od_pct == 0 {
                    "SPOT"
                } else {
                    "ON_DEMAND"
                }
            }
            "node.kubernetes.io/instance-type" => group.types.iter().any(|t| t.instance_type == *v),
            "topology.kubernetes.io/zone" => group.zones.iter().any(|z| cluster.cfg.azs[*z] == *v),
            "kubernetes.io/arch" => group
                .types
                .iter()
                .any(|t| (t.arch == "arm64") == (v == "arm64")),
            _ => group.labels.iter().any(|(lk, lv)| lk == k && lv == v),
        }),
        _ => true,
    })
}

fn fits(free: Resources, r: Resources) -> bool {
    r.cpu <= free.cpu && r.memory <= free.memory && r.slots <= free.slots
}

impl ClusterAutoscaler {
    /// A Cluster Autoscaler that has seen nothing yet.
    pub fn new(cfg: CaConfig) -> Self {
        ClusterAutoscaler {
            cfg,
            unneeded_since: Vec::new(),
            last_scale_up: None,
            last_stuck: String::new(),
            backoff_until: Vec::new(),
        }
    }

    /// The flags.
    pub fn config(&self) -> &CaConfig {
        &self.cfg
    }

    fn row(&self, now: SimTime, cluster: &Cluster, action: &str, reason: String) -> Decision {
        Decision {
            time_s: now as f64 / SECOND as f64,
            clock: Text::Clock(now),
            policy: "cluster-autoscaler".into(),
            alarm: "unschedulable pods / node utilization".into(),
            datapoints: "-".into(),
            alarm_state: "-".into(),
            running: cluster.alive(),
            old_desired: cluster.alive(),
            proposed: None,
            new_desired: cluster.alive(),
            action: action.to_string().into(),
            reason: reason.into(),
        }
    }

    /// One scan at `now`: what to launch and what to remove. `pending` are
    /// the pods no node holds; `services` tell what each service's pods ask
    /// for (to see whether a node's pods fit elsewhere).
    pub fn scan(
        &mut self,
        now: SimTime,
        cluster: &Cluster,
        pending: &[PendingPod],
        services: &[ServicePlacement],
        rng: &mut Stream,
    ) -> ScanActions {
        let mut out = ScanActions::default();
        self.give_up_slow_nodes(now, cluster, &mut out);
        let scaled_up = self.scale_up(now, cluster, pending, rng, &mut out);
        if scaled_up {
            self.last_scale_up = Some(now);
        }
        if self.cfg.scale_down && !scaled_up {
            self.scale_down(now, cluster, services, &mut out);
        }
        out
    }

    /// Nodes launched longer than `max_node_provision_time` ago and still
    /// not Ready are deleted, and their group backs off.
    fn give_up_slow_nodes(&mut self, now: SimTime, cluster: &Cluster, out: &mut ScanActions) {
        if self.backoff_until.len() < cluster.cfg.groups.len() {
            self.backoff_until.resize(cluster.cfg.groups.len(), 0);
        }
        for i in &cluster.instances {
            if i.alive()
                && i.registered.is_none()
                && !i.warm
                && now >= i.launched + self.cfg.max_node_provision_time
            {
                out.give_up.push(i.id);
                self.backoff_until[i.group] = now + NODE_GROUP_BACKOFF;
                out.rows.push(self.row(
                    now,
                    cluster,
                    "nodes_in",
                    format!(
                        "node-{} ({}) not Ready {:.0} s after its launch (max-node-provision-time): deleted; {} backs off for {} s",
                        i.id,
                        cluster.cfg.groups[i.group].name,
                        (now - i.launched) as f64 / SECOND as f64,
                        cluster.cfg.groups[i.group].name,
                        NODE_GROUP_BACKOFF / SECOND
                    ),
                ));
            }
        }
    }

    fn scale_up(
        &mut self,
        now: SimTime,
        cluster: &Cluster,
        pending: &[PendingPod],
        rng: &mut Stream,
        out: &mut ScanActions,
    ) -> bool {
        if pending.is_empty() {
            self.last_stuck.clear();
            return false;
        }
        // Pods that fit nodes already coming up wait for them.
        let mut upcoming: Vec<(usize, Resources)> = cluster
            .instances
            .iter()
            .filter(|i| i.alive() && i.registered.is_none())
            .map(|i| {
                let t = template(cluster, i.group);
                (
                    i.group,
                    Resources {
                        cpu: t.allocatable.cpu.saturating_sub(t.daemonsets.cpu),
                        memory: t.allocatable.memory.saturating_sub(t.daemonsets.memory),
                        slots: t.allocatable.slots.saturating_sub(t.daemonsets.slots),
                    },
                )
            })
            .collect();
        let mut order: Vec<usize> = (0..pending.len()).collect();
        order.sort_by_key(|&i| {
            std::cmp::Reverse((
                pending[i].request.resources.cpu,
                pending[i].request.resources.memory,
            ))
        });
        let mut rest: Vec<usize> = Vec::new();
        for i in order {
            let r = pending[i].request.resources;
            let slot = upcoming.iter_mut().find(|(g, free)| {
                fits(*free, r) && group_matches(cluster, *g, &pending[i].constraints)
            });
            match slot {
                Some((_, free)) => {
                    free.cpu -= r.cpu;
                    free.memory -= r.memory;
                    free.slots -= r.slots;
                }
                None => rest.push(i),
            }
        }
        if rest.is_empty() {
            return false;
        }
        rest.sort_unstable();
        // Estimate each group with room for the pods it can take.
        let mut options = Vec::new();
        for g in 0..cluster.cfg.groups.len() {
            let group = &cluster.cfg.groups[g];
            let size = cluster.group_alive(g);
            let room = group
                .max_size
                .saturating_sub(size)
                .min(estimator::MAX_NODES_PER_SCALEUP);
            if room == 0 || self.backoff_until.get(g).is_some_and(|b| now < *b) {
                continue;
            }
            let eligible: Vec<usize> = rest
                .iter()
                .copied()
                .filter(|&i| group_matches(cluster, g, &pending[i].constraints))
                .collect();
            if eligible.is_empty() {
                continue;
            }
            let pods: Vec<Resources> = eligible
                .iter()
                .map(|&i| pending[i].request.resources)
                .collect();
            let t = template(cluster, g);
            let e: Estimate = estimator::estimate(&pods, &t, room);
            let opt = ScaleUpOption {
                group: g,
                estimate: e,
                template: t,
            };
            if opt.is_offered() {
                options.push(opt);
            }
        }
        if options.is_empty() {
            let msg = format!(
                "{} pod(s) pending; no node group can hold them (at max size, or no type fits a pod beside the DaemonSets)",
                rest.len()
            );
            if msg != self.last_stuck {
                out.rows.push(self.row(now, cluster, "none", msg.clone()));
                self.last_stuck = msg;
            }
            return false;
        }
        self.last_stuck.clear();
        let prio = |g: usize| self.cfg.priorities.get(g).copied().flatten();
        let best: Vec<usize> = match self.cfg.expander {
            Expander::LeastWaste => estimator::least_waste(&options),
            Expander::MostPods => estimator::most_pods(&options),
            Expander::Priority => estimator::priority(&options, &prio),
            Expander::Random => (0..options.len()).collect(),
        };
        let best = if best.is_empty() {
            (0..options.len()).collect()
        } else {
            best
        };
        let pick = best[rng.random_range(0..best.len())];
        let chosen = &options[pick];
        let g = chosen.group;
        let group = &cluster.cfg.groups[g];
        out.launch.push((g, chosen.estimate.nodes));
        let considered: Vec<String> = options
            .iter()
            .map(|o| {
                format!(
                    "{} needs {} node(s) for {} pod(s)",
                    cluster.cfg.groups[o.group].name,
                    o.estimate.nodes,
                    o.estimate.scheduled.len()
                )
            })
            .collect();
        let mut r = self.row(
            now,
            cluster,
            "nodes_out",
            format!(
                "{} pod(s) pending ({} wait for nodes already starting); {}; {:?} chose {} (+{} node(s), {} → {})",
                pending.len(),
                pending.len() - rest.len(),
                considered.join("; "),
                self.cfg.expander,
                group.name,
                chosen.estimate.nodes,
                cluster.group_alive(g),
                cluster.group_alive(g) + chosen.estimate.nodes
            ),
        );
        r.proposed = Some(cluster.alive() + chosen.estimate.nodes);
        r.new_desired = cluster.alive() + chosen.estimate.nodes;
        out.rows.push(r);
        true
    }

    fn scale_down(
        &mut self,
        now: SimTime,
        cluster: &Cluster,
        services: &[ServicePlacement],
        out: &mut ScanActions,
    ) {
        let n = cluster.instances.len();
        if self.unneeded_since.len() < n {
            self.unneeded_since.resize(n, None);
        }
        // Nodes pods could move to: Ready and accepting.
        let mut sim: Vec<placement::Node> = cluster.nodes.clone();
        let mut removing: Vec<u32> = Vec::new();
        let mut candidates: Vec<(bool, u32)> = Vec::new();
        let mut noop = crate::rng::stream(0, crate::rng::Component::Placement);
        // CoreDNS's PodDisruptionBudget lets one of its pods go at a time.
        let mut system_moving = false;
        let system_request = cluster.cfg.system.map(|(_, r)| Request {
            resources: r,
            ports: Vec::new(),
            group: crate::cluster::SYSTEM_GROUP,
        });
        for inst in &cluster.instances {
            let id = inst.id as usize;
            let node = &cluster.nodes[id];
            let ready = inst.alive() && inst.registered.is_some() && !inst.draining;
            if !ready {
                self.unneeded_since[id] = None;
                continue;
            }
            let util = (node.used.cpu as f64 / node.capacity.cpu.max(1) as f64)
                .max(node.used.memory as f64 / node.capacity.memory.max(1) as f64);
            let system_blocked = inst.system_pods > 0
                && if self.cfg.system_pdb {
                    inst.system_pods > 1 || system_moving
                } else {
                    self.cfg.skip_nodes_with_system_pods
                };
            if util >= self.cfg.utilization_threshold || system_blocked {
                self.unneeded_since[id] = None;
                continue;
            }
            // Could its pods go elsewhere (this node and those already
            // chosen excluded)?
            let mut trial = sim.clone();
            trial[id].accepting = false;
            for r in &removing {
                trial[*r as usize].accepting = false;
            }
            let mut movable = true;
            let system = system_request
                .iter()
                .flat_map(|r| std::iter::repeat_n((r, &[][..]), inst.system_pods as usize));
            let pods = inst.tasks.iter().map(|(g, _)| {
                services
                    .get(*g as usize)
                    .map(|s| (&s.request, &s.constraints[..]))
            });
            for pod in pods.chain(system.map(Some)) {
                let Some((request, constraints)) = pod else {
                    movable = false;
                    break;
                };
                // First fit, like the simulator's check (no scoring).
                match placement::place(&trial, request, constraints, &[], &mut noop) {
                    Some(k) => trial[k].allocate(request),
                    None => {
                        movable = false;
                        break;
                    }
                }
            }
            if !movable {
                self.unneeded_since[id] = None;
                continue;
            }
            let since = *self.unneeded_since[id].get_or_insert(now);
            if now < since + self.cfg.unneeded_time
                || self
                    .last_scale_up
                    .is_some_and(|t| now < t + self.cfg.delay_after_add)
            {
                continue;
            }
            candidates.push((inst.tasks.is_empty() && inst.system_pods == 0, inst.id));
            system_moving |= inst.system_pods > 0;
            // The pods' new places stay taken for the next candidates.
            if !inst.tasks.is_empty() || inst.system_pods > 0 {
                sim = trial;
                sim[id].accepting = false;
                removing.push(inst.id);
            }
        }
        // Empty nodes first, several at once; else one non-empty node.
        let mut left: Vec<u32> = (0..cluster.cfg.groups.len())
            .map(|g| cluster.group_alive(g))
            .collect();
        let take = |id: u32, left: &mut Vec<u32>| -> bool {
            let g = cluster.instances[id as usize].group;
            if left[g] > cluster.cfg.groups[g].min_size {
                left[g] -= 1;
                true
            } else {
                false
            }
        };
        let empty: Vec<u32> = candidates
            .iter()
            .filter(|c| c.0)
            .map(|c| c.1)
            .filter(|id| take(*id, &mut left))
            .take(self.cfg.max_empty_bulk_delete as usize)
            .collect();
        let chosen: Vec<u32> = if !empty.is_empty() {
            empty
        } else {
            candidates
                .iter()
                .filter(|c| !c.0)
                .map(|c| c.1)
                .find(|id| take(*id, &mut left))
                .into_iter()
                .collect()
        };
        for id in chosen {
            let inst = &cluster.instances[id as usize];
            let node = &cluster.nodes[id as usize];
            let util = (node.used.cpu as f64 / node.capacity.cpu.max(1) as f64)
                .max(node.used.memory as f64 / node.capacity.memory.max(1) as f64);
            let since = self.unneeded_since[id as usize].unwrap_or(now);
            out.rows.push(self.row(
                now,
                cluster,
                "nodes_in",
                format!(
                    "node-{id} ({}, {}) {}: utilization {:.0} % < {:.0} % for {:.0} s; {} pod(s) moved elsewhere",
                    inst.instance_type,
                    cluster.cfg.groups[inst.group].name,
                    if inst.tasks.is_empty() { "empty" } else { "underutilized" },
                    util * 100.0,
                    self.cfg.utilization_threshold * 100.0,
                    (now - since) as f64 / SECOND as f64,
                    inst.tasks.len()
                ),
            ));
            self.unneeded_since[id as usize] = None;
            out.remove.push(id);
        }
    }
}
