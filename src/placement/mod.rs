//! The placement engine: which node (an ECS container instance or a
//! Kubernetes node) a task or pod goes to, and which task goes first on
//! scale-in. One engine for every orchestrator.
//!
//! As ECS places tasks (AWS ECS developer guide, task-placement.md;
//! shared/reference/aws.md §2.5): keep the nodes where every resource fits
//! (CPU, memory, ENIs, host ports), then the ones that satisfy every
//! constraint (`distinctInstance`, `memberOf`), then rank them by the
//! strategies in order (`binpack` on cpu or memory, `spread` on availability
//! zone or instance, `random`), each strategy breaking the ties of the one
//! before; the last tie goes to the lowest node id. Strategies are best
//! effort, constraints binding: a task that fits nowhere stays PENDING.
//!
//! As kube-scheduler places pods (Kubernetes scheduling framework;
//! `NodeResourcesFit`, `NodeAffinity`, `PodTopologySpread` plugins): filter
//! by requests against allocatable (max pods as a slot), the node selector
//! and hard topology spread (`DoNotSchedule`: the skew after placing must
//! stay within `maxSkew`), then score `LeastAllocated` (default) or
//! `MostAllocated` — integer scores 0–100 averaged over CPU and memory — and
//! pick at random among the best (`selectHost`). Soft spread
//! (`ScheduleAnyway`) ranks before the resource score; kube-scheduler's
//! other default scores (balanced allocation, image locality, default
//! spreading) are not modelled.
//!
//! Invariant: a placement never over-allocates a node in any resource.

pub mod query;

use crate::rng::Stream;
use rand::RngExt;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub use query::Query;

/// Resources a node offers or a task asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Resources {
    /// CPU in the cluster's unit: ECS CPU units (1024 per vCPU) on ECS,
    /// millicores (1000 per vCPU) on Kubernetes.
    pub cpu: u32,
    /// Memory (MiB).
    pub memory: u32,
    /// Countable slots: ENIs for ECS awsvpc tasks (one per task), pods for
    /// Kubernetes (the kubelet's max pods; one per pod, DaemonSets too).
    pub slots: u32,
}

impl Resources {
    /// Whether it fits in `free`, every resource.
    pub fn fits_in(&self, free: &Resources) -> bool {
        self.cpu <= free.cpu && self.memory <= free.memory && self.slots <= free.slots
    }

    /// Both together (saturating).
    pub fn plus(self, other: Resources) -> Resources {
        Resources {
            cpu: self.cpu.saturating_add(other.cpu),
            memory: self.memory.saturating_add(other.memory),
            slots: self.slots.saturating_add(other.slots),
        }
    }

    /// What is left of it once `other` is taken (none below zero).
    pub fn minus(self, other: Resources) -> Resources {
        Resources {
            cpu: self.cpu.saturating_sub(other.cpu),
            memory: self.memory.saturating_sub(other.memory),
            slots: self.slots.saturating_sub(other.slots),
        }
    }

    /// The larger of each resource.
    pub fn most(self, other: Resources) -> Resources {
        Resources {
            cpu: self.cpu.max(other.cpu),
            memory: self.memory.max(other.memory),
            slots: self.slots.max(other.slots),
        }
    }
}

/// What a node is, for constraints and spread.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NodeAttrs {
    /// e.g. `m5.large`.
    pub instance_type: String,
    /// e.g. `m5`.
    pub family: String,
    /// e.g. `us-east-1a`.
    pub az: String,
    /// Kubernetes node labels (empty on ECS).
    pub labels: BTreeMap<String, String>,
}

/// A node as the placement engine sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// Stable id (lower wins the last tie).
    pub id: u32,
    /// Attributes.
    pub attrs: NodeAttrs,
    /// Registered (allocatable) resources.
    pub capacity: Resources,
    /// Resources allocated to tasks.
    pub used: Resources,
    /// Host ports taken.
    pub ports: Vec<u16>,
    /// Tasks per group (service) on the node.
    pub groups: BTreeMap<u32, u32>,
    /// Whether the node accepts new tasks (registered, not draining).
    pub accepting: bool,
    /// Whether the node has registered (a node still booting is not one
    /// kube-scheduler sees, for topology spread either).
    pub registered: bool,
    /// Tasks per group that are leaving (terminating): they hold their
    /// resources but topology spread does not count them.
    pub leaving: BTreeMap<u32, u32>,
}

impl Node {
    /// A node with nothing on it.
    pub fn new(id: u32, attrs: NodeAttrs, capacity: Resources) -> Self {
        Node {
            id,
            attrs,
            capacity,
            used: Resources::default(),
            ports: Vec::new(),
            groups: BTreeMap::new(),
            accepting: true,
            registered: true,
            leaving: BTreeMap::new(),
        }
    }

    /// Resources still free.
    pub fn free(&self) -> Resources {
        Resources {
            cpu: self.capacity.cpu - self.used.cpu,
            memory: self.capacity.memory - self.used.memory,
            slots: self.capacity.slots - self.used.slots,
        }
    }

    /// Tasks of `group` on the node.
    pub fn count(&self, group: u32) -> u32 {
        self.groups.get(&group).copied().unwrap_or(0)
    }

    /// Whether `req` fits (resources and host ports).
    pub fn fits(&self, req: &Request) -> bool {
        req.resources.fits_in(&self.free()) && req.ports.iter().all(|p| !self.ports.contains(p))
    }

    /// Allocates `req` on the node. Panics if it does not fit: callers place
    /// through [`place`], which only returns nodes where it fits.
    pub fn allocate(&mut self, req: &Request) {
        assert!(self.fits(req), "over-allocation of node {}", self.id);
        self.used.cpu += req.resources.cpu;
        self.used.memory += req.resources.memory;
        self.used.slots += req.resources.slots;
        self.ports.extend(&req.ports);
        *self.groups.entry(req.group).or_insert(0) += 1;
    }

    /// Releases what `req` held.
    pub fn release(&mut self, req: &Request) {
        self.used.cpu -= req.resources.cpu;
        self.used.memory -= req.resources.memory;
        self.used.slots -= req.resources.slots;
        self.ports.retain(|p| !req.ports.contains(p));
        if let Some(c) = self.groups.get_mut(&req.group) {
            *c -= 1;
            if *c == 0 {
                self.groups.remove(&req.group);
            }
        }
    }
}

/// What one task asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// Resources.
    pub resources: Resources,
    /// Host ports (`host`/`bridge` network modes with fixed host ports).
    pub ports: Vec<u16>,
    /// The group (service) it belongs to, for spread and distinctInstance.
    pub group: u32,
}

/// A placement constraint (binding).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase", deny_unknown_fields)]
pub enum Constraint {
    /// At most one task of the group per node.
    DistinctInstance,
    /// Only nodes matching a cluster query expression.
    MemberOf {
        /// e.g. `attribute:ecs.instance-type =~ m5.*`.
        expression: String,
    },
}

/// What `binpack` packs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BinpackField {
    /// CPU.
    Cpu,
    /// Memory.
    Memory,
}

/// What `spread` spreads over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SpreadField {
    /// Availability zone.
    #[serde(rename = "attribute:ecs.availability-zone")]
    AvailabilityZone,
    /// Instance.
    #[serde(rename = "instanceId", alias = "host")]
    InstanceId,
}

/// A placement strategy (best effort, in order).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "field", rename_all = "lowercase")]
pub enum Strategy {
    /// Leave the least unused of a resource.
    Binpack(BinpackField),
    /// Even out the group's tasks over a field.
    Spread(SpreadField),
    /// Random.
    Random,
    /// kube-scheduler `NodeResourcesFit` `LeastAllocated`: the node with
    /// the highest mean share of CPU and memory left free after placing.
    #[serde(skip)]
    LeastAllocated,
    /// kube-scheduler `NodeResourcesFit` `MostAllocated`: the fullest node.
    #[serde(skip)]
    MostAllocated,
}

/// A topology domain of Kubernetes topology spread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TopologyKey {
    /// `topology.kubernetes.io/zone`.
    Zone,
    /// `kubernetes.io/hostname`.
    Hostname,
}

/// The default strategy of ECS services: spread over availability zones
/// (task-placement-strategies.md; aws.md §2.5).
pub fn default_strategies() -> Vec<Strategy> {
    vec![Strategy::Spread(SpreadField::AvailabilityZone)]
}

/// Compiled constraints.
#[derive(Debug, Clone)]
pub enum Compiled {
    /// See [`Constraint::DistinctInstance`].
    DistinctInstance,
    /// See [`Constraint::MemberOf`].
    MemberOf(Query),
    /// Kubernetes `nodeSelector`: every label must match.
    NodeSelector(Vec<(String, String)>),
    /// Kubernetes topology spread with `whenUnsatisfiable: DoNotSchedule`:
    /// after placing, the group's pods in the node's domain minus the
    /// fewest in any domain that has an eligible node must not exceed `max_skew`.
    TopologySpread {
        /// `maxSkew`.
        max_skew: u32,
        /// `topologyKey`.
        key: TopologyKey,
    },
}

impl Constraint {
    /// Parses the constraint's expression, if any.
    pub fn compile(&self) -> Result<Compiled, String> {
        match self {
            Constraint::DistinctInstance => Ok(Compiled::DistinctInstance),
            Constraint::MemberOf { expression } => {
                Ok(Compiled::MemberOf(Query::parse(expression)?))
            }
        }
    }
}

fn selector_matches(node: &Node, selector: &[(String, String)]) -> bool {
    selector
        .iter()
        .all(|(k, v)| node.attrs.labels.get(k).is_some_and(|x| x == v))
}

/// Whether `node` passes the node-level filters (node selector): the nodes
/// whose domains count for topology spread.
fn eligible(node: &Node, constraints: &[Compiled]) -> bool {
    constraints.iter().all(|c| match c {
        Compiled::NodeSelector(sel) => selector_matches(node, sel),
        _ => true,
    })
}

fn domain(node: &Node, key: TopologyKey) -> &str {
    match key {
        TopologyKey::Zone => node.attrs.az.as_str(),
        TopologyKey::Hostname => node
            .attrs
            .labels
            .get("kubernetes.io/hostname")
            .map_or("", String::as_str),
    }
}

fn allowed(nodes: &[Node], node: &Node, req: &Request, constraints: &[Compiled]) -> bool {
    constraints.iter().all(|c| match c {
        Compiled::DistinctInstance => node.count(req.group) == 0,
        Compiled::MemberOf(q) => q.matches(&node.attrs),
        Compiled::NodeSelector(sel) => selector_matches(node, sel),
        Compiled::TopologySpread { max_skew, key } => {
            // Pods of the group per domain, over the domains of the
            // registered nodes that pass the node filters; terminating pods
            // are not counted (PodTopologySpread, kubernetes#87621).
            let mut per: BTreeMap<&str, u32> = BTreeMap::new();
            for n in nodes
                .iter()
                .filter(|n| n.registered && n.capacity.cpu > 0 && eligible(n, constraints))
            {
                let count = n.count(req.group);
                let leaving = n.leaving.get(&req.group).copied().unwrap_or(0);
                *per.entry(domain(n, *key)).or_insert(0) += count - leaving.min(count);
            }
            let min = per.values().copied().min().unwrap_or(0);
            let here = per.get(domain(node, *key)).copied().unwrap_or(0);
            // (A candidate is registered and passes the node filters, so its
            // domain is in `per`.)
            here + 1 - min.min(here + 1) <= *max_skew
        }
    })
}

/// kube-scheduler's integer score (0–100) of `NodeResourcesFit` for a node
/// after placing `req`: `LeastAllocated` scores free share, `MostAllocated`
/// used share, per resource `(x × 100) / allocatable`, then the mean of CPU
/// and memory (weights 1, 1; integer arithmetic as in the plugin).
pub fn resource_score(n: &Node, req: &Request, most: bool) -> u64 {
    let one = |cap: u32, used: u32, want: u32| -> u64 {
        let cap = cap as u64;
        if cap == 0 {
            return 0;
        }
        let after = (used as u64 + want as u64).min(cap);
        if most {
            after * 100 / cap
        } else {
            (cap - after) * 100 / cap
        }
    };
    (one(n.capacity.cpu, n.used.cpu, req.resources.cpu)
        + one(n.capacity.memory, n.used.memory, req.resources.memory))
        / 2
}

/// Tasks of `group` per availability zone over the given nodes.
fn per_az(nodes: &[Node], group: u32) -> BTreeMap<&str, u32> {
    let mut m = BTreeMap::new();
    for n in nodes {
        *m.entry(n.attrs.az.as_str()).or_insert(0) += n.count(group);
    }
    m
}

/// Picks the node for `req`, or `None` when it fits nowhere. Draws from
/// `rng` only for the `random` strategy.
pub fn place(
    nodes: &[Node],
    req: &Request,
    constraints: &[Compiled],
    strategies: &[Strategy],
    rng: &mut Stream,
) -> Option<usize> {
    let candidates: Vec<usize> = (0..nodes.len())
        .filter(|&i| {
            nodes[i].accepting && nodes[i].fits(req) && allowed(nodes, &nodes[i], req, constraints)
        })
        .collect();
    if candidates.is_empty() {
        return None;
    }
    let az_counts = per_az(nodes, req.group);
    // One key per strategy, lower is better; then the node id.
    let mut keyed: Vec<(Vec<u64>, u32, usize)> = candidates
        .iter()
        .map(|&i| {
            let n = &nodes[i];
            let key = strategies
                .iter()
                .map(|s| match s {
                    Strategy::Binpack(BinpackField::Cpu) => {
                        (n.free().cpu - req.resources.cpu) as u64
                    }
                    Strategy::Binpack(BinpackField::Memory) => {
                        (n.free().memory - req.resources.memory) as u64
                    }
                    Strategy::Spread(SpreadField::AvailabilityZone) => {
                        az_counts.get(n.attrs.az.as_str()).copied().unwrap_or(0) as u64
                    }
                    Strategy::Spread(SpreadField::InstanceId) => n.count(req.group) as u64,
                    Strategy::Random => rng.random::<u64>(),
                    Strategy::LeastAllocated => 100 - resource_score(n, req, false),
                    Strategy::MostAllocated => 100 - resource_score(n, req, true),
                })
                .collect();
            (key, n.id, i)
        })
        .collect();
    keyed.sort();
    Some(keyed[0].2)
}

/// Picks the node from which a task of `group` is stopped on scale-in, as
/// ECS documents per strategy: `binpack` frees the node left with the most
/// unused resources, `spread` keeps the field balanced (the most loaded
/// zone or instance first), `random` picks at random. `None` when the group
/// has no task.
pub fn scale_in_node(
    nodes: &[Node],
    group: u32,
    strategies: &[Strategy],
    rng: &mut Stream,
) -> Option<usize> {
    let candidates: Vec<usize> = (0..nodes.len())
        .filter(|&i| nodes[i].count(group) > 0)
        .collect();
    if candidates.is_empty() {
        return None;
    }
    let az_counts = per_az(nodes, group);
    let mut keyed: Vec<(Vec<i64>, u32, usize)> = candidates
        .iter()
        .map(|&i| {
            let n = &nodes[i];
            let key = strategies
                .iter()
                .map(|s| match s {
                    // More free after removal first: negate.
                    Strategy::Binpack(BinpackField::Cpu) => -(n.free().cpu as i64),
                    Strategy::Binpack(BinpackField::Memory) => -(n.free().memory as i64),
                    Strategy::Spread(SpreadField::AvailabilityZone) => {
                        -(az_counts.get(n.attrs.az.as_str()).copied().unwrap_or(0) as i64)
                    }
                    Strategy::Spread(SpreadField::InstanceId) => -(n.count(group) as i64),
                    Strategy::Random => rng.random::<i64>(),
                    // Kubernetes does not use this (the ReplicaSet picks pods).
                    Strategy::LeastAllocated | Strategy::MostAllocated => 0,
                })
                .collect();
            (key, n.id, i)
        })
        .collect();
    keyed.sort();
    Some(keyed[0].2)
}

#[cfg(test)]
mod tests {
    use super::Strategy as Strat;
    use super::*;
    use crate::rng::{Component, stream};
    use proptest::prelude::*;

    fn node(id: u32, az: &str, itype: &str, cpu: u32, mem: u32) -> Node {
        Node::new(
            id,
            NodeAttrs {
                instance_type: itype.into(),
                family: itype.split('.').next().unwrap().into(),
                az: az.into(),
                labels: BTreeMap::new(),
            },
            Resources {
                cpu,
                memory: mem,
                slots: 3,
            },
        )
    }

    fn req(cpu: u32, mem: u32, group: u32) -> Request {
        Request {
            resources: Resources {
                cpu,
                memory: mem,
                slots: 0,
            },
            ports: Vec::new(),
            group,
        }
    }

    #[test]
    fn binpack_fills_the_fullest_node() {
        let mut nodes = vec![
            node(0, "a", "m5.large", 2048, 8000),
            node(1, "a", "m5.large", 2048, 8000),
        ];
        let mut rng = stream(1, Component::Placement);
        let s = [Strat::Binpack(BinpackField::Memory)];
        let r = req(512, 1000, 0);
        let i = place(&nodes, &r, &[], &s, &mut rng).unwrap();
        nodes[i].allocate(&r);
        let j = place(&nodes, &r, &[], &s, &mut rng).unwrap();
        assert_eq!(i, j, "binpack keeps filling the same node");
    }

    #[test]
    fn spread_balances_zones_then_distinct_instance_binds() {
        let mut nodes = vec![
            node(0, "a", "m5.large", 4096, 8000),
            node(1, "b", "m5.large", 4096, 8000),
            node(2, "c", "m5.large", 4096, 8000),
        ];
        let mut rng = stream(1, Component::Placement);
        let s = default_strategies();
        let c = [Constraint::DistinctInstance.compile().unwrap()];
        let r = req(256, 256, 7);
        for _ in 0..3 {
            let i = place(&nodes, &r, &c, &s, &mut rng).unwrap();
            nodes[i].allocate(&r);
        }
        assert!(nodes.iter().all(|n| n.count(7) == 1));
        assert_eq!(
            place(&nodes, &r, &c, &s, &mut rng),
            None,
            "distinctInstance: no fourth place"
        );
        // Another group is not constrained by group 7.
        assert!(place(&nodes, &req(256, 256, 8), &c, &s, &mut rng).is_some());
    }

    #[test]
    fn topology_spread_counts_registered_nodes_and_staying_pods() {
        let host = |id: u32| {
            let mut n = node(id, "a", "m5.large", 4096, 8000);
            n.attrs
                .labels
                .insert("kubernetes.io/hostname".into(), format!("node-{id}"));
            n
        };
        let mut nodes = vec![host(0), host(1), host(2)];
        let r = req(256, 256, 4);
        nodes[0].allocate(&r);
        nodes[1].allocate(&r);
        // Node 2 is booting: not a domain yet, so skew is measured on 0 and 1.
        nodes[2].registered = false;
        nodes[2].accepting = false;
        let c = [Compiled::TopologySpread {
            max_skew: 1,
            key: TopologyKey::Hostname,
        }];
        let mut rng = stream(1, Component::Placement);
        let i = place(&nodes, &r, &c, &[], &mut rng).expect("skew 1 allows a second pod");
        nodes[i].allocate(&r);
        // Now 2 and 1: the next must go to the other node.
        let j = place(&nodes, &r, &c, &[], &mut rng).unwrap();
        assert_ne!(i, j);
        nodes[j].allocate(&r);
        // 2 and 2: a registered empty node makes the minimum 0, so a third
        // pod on either would skew by 3.
        nodes[2].registered = true;
        nodes[2].accepting = true;
        assert_eq!(place(&nodes, &r, &c, &[], &mut rng), Some(2));
        // A terminating pod is not counted: with one of node 0's pods leaving,
        // node 0 counts 1.
        nodes[0].leaving.insert(4, 1);
        nodes[2].accepting = false;
        nodes[2].registered = false;
        assert_eq!(place(&nodes, &r, &c, &[], &mut rng), Some(0));
    }

    #[test]
    fn member_of_filters_nodes() {
        let nodes = vec![
            node(0, "us-east-1a", "m5.large", 4096, 8000),
            node(1, "us-east-1b", "c5.large", 4096, 8000),
        ];
        let mut rng = stream(1, Component::Placement);
        let c = [Constraint::MemberOf {
            expression: "attribute:ecs.instance-type =~ c5.*".into(),
        }
        .compile()
        .unwrap()];
        assert_eq!(place(&nodes, &req(1, 1, 0), &c, &[], &mut rng), Some(1));
    }

    #[test]
    fn scale_in_follows_the_strategy() {
        let mut nodes = vec![
            node(0, "a", "m5.large", 4096, 8000),
            node(1, "b", "m5.large", 4096, 8000),
        ];
        let r = req(256, 256, 0);
        nodes[0].allocate(&r);
        nodes[0].allocate(&r);
        nodes[1].allocate(&r);
        let mut rng = stream(1, Component::Placement);
        assert_eq!(
            scale_in_node(&nodes, 0, &default_strategies(), &mut rng),
            Some(0),
            "the fuller zone first"
        );
        assert_eq!(
            scale_in_node(&nodes, 0, &[Strat::Binpack(BinpackField::Cpu)], &mut rng),
            Some(1),
            "binpack empties the emptiest node"
        );
        assert_eq!(scale_in_node(&nodes, 5, &[], &mut rng), None);
    }

    proptest! {
        #[test]
        fn placement_never_over_allocates_and_honours_constraints(
            caps in proptest::collection::vec((1u32..8, 1u32..16, 1u32..4, 0usize..3), 1..12),
            reqs in proptest::collection::vec((1u32..3000, 1u32..6000, 0u32..2, 0u32..3, proptest::option::of(8000u16..8003)), 1..200),
            strategy in 0usize..5,
            distinct in any::<bool>(),
            member in any::<bool>(),
            seed in any::<u64>(),
        ) {
            let azs = ["us-east-1a", "us-east-1b", "us-east-1c"];
            let types = ["m5.large", "c5.xlarge", "r6i.large"];
            let mut nodes: Vec<Node> = caps.iter().enumerate().map(|(i, (v, g, e, a))| {
                let mut n = node(i as u32, azs[*a], types[i % 3], v * 1024, g * 1024);
                n.capacity.slots = *e;
                n
            }).collect();
            let strategies = [
                vec![Strat::Binpack(BinpackField::Cpu)],
                vec![Strat::Binpack(BinpackField::Memory)],
                default_strategies(),
                vec![Strat::Spread(SpreadField::InstanceId), Strat::Binpack(BinpackField::Memory)],
                vec![Strat::Random],
            ][strategy].clone();
            let mut constraints = Vec::new();
            if distinct {
                constraints.push(Constraint::DistinctInstance.compile().unwrap());
            }
            if member {
                constraints.push(Constraint::MemberOf { expression: "attribute:ecs.instance-type in [m5.large, r6i.large]".into() }.compile().unwrap());
            }
            let mut rng = stream(seed, Component::Placement);
            let mut placed = 0;
            for (cpu, mem, slots, group, port) in reqs {
                let r = Request { resources: Resources { cpu, memory: mem, slots }, ports: port.into_iter().collect(), group };
                match place(&nodes, &r, &constraints, &strategies, &mut rng) {
                    Some(i) => {
                        prop_assert!(nodes[i].fits(&r));
                        if distinct { prop_assert_eq!(nodes[i].count(group), 0); }
                        if member { prop_assert!(nodes[i].attrs.instance_type != "c5.xlarge"); }
                        nodes[i].allocate(&r);
                        placed += 1;
                    }
                    None => {
                        // Nothing allowed had room.
                        for n in &nodes {
                            let ok = n.fits(&r) && allowed(&nodes, n, &r, &constraints);
                            prop_assert!(!ok, "a task was left pending although node {} had room", n.id);
                        }
                    }
                }
                for n in &nodes {
                    prop_assert!(n.used.cpu <= n.capacity.cpu && n.used.memory <= n.capacity.memory && n.used.slots <= n.capacity.slots);
                    let mut ports = n.ports.clone();
                    ports.sort();
                    ports.dedup();
                    prop_assert_eq!(ports.len(), n.ports.len(), "a host port was given twice");
                }
            }
            let _ = placed;
        }
    }
}
