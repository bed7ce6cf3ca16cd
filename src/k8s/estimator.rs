//! The Cluster Autoscaler's scale-up arithmetic as pure functions: the
//! binpacking estimator (how many template nodes of one node group the
//! pending pods need, and which pods they would hold) and the expanders that
//! choose among node groups (least-waste, most-pods, least-nodes, priority,
//! chained as `--expander=a,b` chains them). No I/O, no randomness: where CA
//! picks at random (the `random` expander, and the last tie of every chain)
//! the caller does, from its own stream.
//!
//! Sources, read at kubernetes/autoscaler @f7bb0c3 (2026-07-31), the last
//! commit holding CA's core before it moved out (87d9c45, "Remove local core
//! packages migrated to sigs.k8s.io"); the files are unchanged apart from
//! import paths in kubernetes-sigs/cluster-autoscaler `pkg/…` @33c3f97
//! (2026-08-21):
//!
//! - `cluster-autoscaler/estimator/binpacking_estimator.go` (last changed
//!   6427281, 2026-02-20): `Estimate`, `tryToScheduleOnExistingNodes`,
//!   `tryToScheduleOnNewNodes`.
//! - `cluster-autoscaler/estimator/decreasing_pod_orderer.go` (ac1c7b5,
//!   2025-04-22): the default pod orderer and its score.
//! - `cluster-autoscaler/estimator/threshold_based_limiter.go`,
//!   `static_threshold.go`, `sng_capacity_threshold.go`: the node limit.
//! - `cluster-autoscaler/expander/{waste,mostpods,leastnodes,priority,random}/`
//!   and `expander/factory/chain.go`.
//! - kubernetes-sigs/cluster-autoscaler @33c3f97:
//!   `pkg/core/scaleup/orchestrator/orchestrator.go` (`SchedulablePodGroups`,
//!   `ComputeExpansionOption`, the option filter before the expander),
//!   `pkg/config/flags/flags.go` (`--max-nodes-per-scaleup` 1000,
//!   `--fastpath-binpacking-enabled` false),
//!   `pkg/simulator/clustersnapshot/{scheduling_opts.go,store/delta.go}` and
//!   `predicate/plugin_runner.go` (which existing node a pod is tried on).
//! - shared/reference/aws.md §5.2, §9.5 (the only estimator is binpacking;
//!   `least-waste` is the default expander since CA 1.33.0).
//!
//! # What is modelled, and the choices made
//!
//! Pods and nodes are requests against allocatable in CPU (millicores),
//! memory (MiB) and pods (slots; one per pod, DaemonSet pods too), checked
//! as kube-scheduler's `NodeResourcesFit` does (a zero request always fits
//! that resource). Host ports, affinity, topology spread and volumes are not
//! modelled, so the estimator's topology branch never applies.
//!
//! - **Pod equivalence groups.** CA groups pending pods by controller and
//!   spec; here pods with equal requests form one group, in order of first
//!   appearance. Splitting equal pods into several groups, adjacent in the
//!   order, would not change the packing: the later group first tries every
//!   node already added, the last one included, where the earlier group
//!   would have put them.
//! - **Order.** Groups are sorted by decreasing score = CPU request /
//!   allocatable CPU + memory request / allocatable memory of the template
//!   (DaemonSets not subtracted; a zero allocatable drops its term), as
//!   `DecreasingPodOrderer` does. CA uses Go's unstable `sort.Slice`, so
//!   equal scores come in no defined order; here they keep input order.
//! - **Pods that fit no empty template node are dropped first**, as
//!   `SchedulablePodGroups` does before estimating (the template node
//!   carries its DaemonSet pods). They neither open nor count a node.
//! - **Existing new nodes.** Each group's pods first go to the nodes already
//!   added, in creation order, first fit. In CA the pod goes to "any node
//!   matching", tried from one past the previous match (`lastIndexOrderMapping`,
//!   offset 1) over a node list the default delta snapshot rebuilds from a Go
//!   map after every pod added — an order that is effectively arbitrary; the
//!   group stops trying existing nodes at its first pod that fits none.
//! - **New nodes.** The rest of the group goes to the last node added while
//!   it fits, else a new node is opened. If the last node is still empty of
//!   pending pods and the pod does not fit it, the rest of the group is
//!   skipped (no new node could take it either).
//! - **Node limit.** At most `max_nodes` nodes are opened; once refused, no
//!   later group opens one, but later groups still fill existing nodes.
//!   CA's limiter reads a limit of 0 as "no limit" and a negative one as
//!   "no node" (a group at its max size); here `max_nodes` is literal (0: no
//!   node) and [`MAX_NODES_PER_SCALEUP`] is CA's default cap. The caller passes min(`--max-nodes-per-scaleup`,
//!   group max size − target size, cluster max − current nodes).
//! - **Not modelled:** fast-path binpacking (off by default), the 10 s
//!   `--max-nodegroup-binpacking-duration` limit, similar node groups.
//! - **Templates.** CA simulates a node group's template `NodeInfo`: a real
//!   node of the group when it has one (so the kubelet's capacity and
//!   allocatable, see `crate::k8s::node`), else, on AWS, one built from the
//!   instance type with capacity = allocatable = vCPU, nominal memory and
//!   110 pods ("TODO: use proper allocatable!!", kubernetes/autoscaler
//!   `cluster-autoscaler/cloudprovider/aws/aws_manager.go` @55c37cd,
//!   `buildNodeFromTemplate`). Which of the two to pass is the caller's
//!   choice.

use crate::placement::Resources;
use std::collections::BTreeMap;

/// Default `--max-nodes-per-scaleup`: 1000 nodes per scale-up
/// (kubernetes-sigs/cluster-autoscaler `pkg/config/flags/flags.go` @33c3f97).
pub const MAX_NODES_PER_SCALEUP: u32 = 1000;

/// A node group's template node as CA simulates it. For an EKS node of the
/// optimized AMI: `capacity` = (vCPU × 1000, the kubelet's memory capacity,
/// max pods), `allocatable` = `crate::k8s::node::allocatable` of the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Template {
    /// The node's capacity (CPU millicores, memory MiB, pods): least-waste
    /// divides by it (`resourcesForNode` reads `Status.Capacity`,
    /// `expander/waste/waste.go` @f7bb0c3).
    pub capacity: Resources,
    /// The node's allocatable: pods fit against it, and the pod order's
    /// score divides by it.
    pub allocatable: Resources,
    /// What the DaemonSet pods take on every new node (their requests summed;
    /// slots = how many DaemonSet pods).
    pub daemonsets: Resources,
}

/// Result of estimating one node group for a set of pending pods.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Estimate {
    /// New nodes that would hold at least one pending pod (CA's node count:
    /// `len(newNodesWithPods)`).
    pub nodes: u32,
    /// Indexes (into the input) of the pods that would be scheduled, in the
    /// order the estimator placed them.
    pub scheduled: Vec<usize>,
    /// The scheduled pods' requests summed (DaemonSets not included): what
    /// least-waste counts as used.
    pub requested: Resources,
    /// What the new nodes would hold in total: `requested` plus the
    /// DaemonSets of each of the `nodes` nodes.
    pub used: Resources,
}

/// A node being filled during one estimate.
#[derive(Debug, Clone, Copy)]
struct SimNode {
    /// Requests on it, DaemonSets included.
    used: Resources,
    /// Pending pods placed on it (DaemonSet pods not counted).
    pods: u32,
}

/// Pods with equal requests, in the order they came.
#[derive(Debug, Clone)]
struct Group {
    request: Resources,
    members: Vec<usize>,
}

/// Component-wise saturating sum.
fn add(a: Resources, b: Resources) -> Resources {
    Resources {
        cpu: a.cpu.saturating_add(b.cpu),
        memory: a.memory.saturating_add(b.memory),
        slots: a.slots.saturating_add(b.slots),
    }
}

/// Whether `request` fits a node holding `used` out of `allocatable`, as
/// `NodeResourcesFit` checks it: each resource's request against what is
/// left, a zero request always fitting (even on an over-committed node).
fn fits(used: Resources, request: Resources, allocatable: Resources) -> bool {
    request.cpu <= allocatable.cpu.saturating_sub(used.cpu)
        && request.memory <= allocatable.memory.saturating_sub(used.memory)
        && request.slots <= allocatable.slots.saturating_sub(used.slots)
}

/// `DecreasingPodOrderer`'s score: CPU / allocatable CPU + memory /
/// allocatable memory, a term dropped when its allocatable is zero
/// (`calculatePodScore`, `estimator/decreasing_pod_orderer.go` @f7bb0c3).
fn score(request: Resources, allocatable: Resources) -> f64 {
    let mut s = 0.0;
    if allocatable.cpu > 0 {
        s += f64::from(request.cpu) / f64::from(allocatable.cpu);
    }
    if allocatable.memory > 0 {
        s += f64::from(request.memory) / f64::from(allocatable.memory);
    }
    s
}

/// Pods grouped by equal requests, in order of first appearance.
fn groups(pods: &[Resources]) -> Vec<Group> {
    let mut index: BTreeMap<(u32, u32, u32), usize> = BTreeMap::new();
    let mut out: Vec<Group> = Vec::new();
    for (i, p) in pods.iter().enumerate() {
        let key = (p.cpu, p.memory, p.slots);
        let g = *index.entry(key).or_insert_with(|| {
            out.push(Group {
                request: *p,
                members: Vec::new(),
            });
            out.len() - 1
        });
        if let Some(group) = out.get_mut(g) {
            group.members.push(i);
        }
    }
    out
}

/// The groups CA would estimate, in its order: those that fit an empty
/// template node (`SchedulablePodGroups`), by decreasing score, equal scores
/// in input order.
fn ordered_groups(pods: &[Resources], template: &Template) -> Vec<Group> {
    let mut gs: Vec<(f64, Group)> = groups(pods)
        .into_iter()
        .filter(|g| fits(template.daemonsets, g.request, template.allocatable))
        .map(|g| (score(g.request, template.allocatable), g))
        .collect();
    // `sort_by` is stable: equal scores keep their order.
    gs.sort_by(|a, b| b.0.total_cmp(&a.0));
    gs.into_iter().map(|(_, g)| g).collect()
}

/// The binpacking itself, on groups already ordered: the nodes opened (some
/// possibly left empty of pending pods) and the pods placed, in order.
fn pack(groups: &[Group], template: &Template, max_nodes: u32) -> (Vec<SimNode>, Vec<usize>) {
    let alloc = template.allocatable;
    let mut nodes: Vec<SimNode> = Vec::new();
    let mut scheduled: Vec<usize> = Vec::new();
    let mut opened: u32 = 0;
    // CA's `newNodesAvailable`: false once the limiter refused a node.
    let mut may_open = true;
    for g in groups {
        let req = g.request;
        // 1. `tryToScheduleOnExistingNodes`: the nodes added so far, first
        // fit, until a pod fits none. Pods of a group are equal, so a node
        // that refused one refuses the rest: the search resumes where the
        // previous pod went.
        let mut placed = 0;
        let mut cursor = 0;
        while placed < g.members.len() {
            while nodes.get(cursor).is_some_and(|n| !fits(n.used, req, alloc)) {
                cursor += 1;
            }
            let Some(node) = nodes.get_mut(cursor) else {
                break;
            };
            node.used = add(node.used, req);
            node.pods = node.pods.saturating_add(1);
            scheduled.extend(g.members.get(placed));
            placed += 1;
        }
        if !may_open {
            continue;
        }
        // 2. `tryToScheduleOnNewNodes`: the last node added while it fits,
        // else a new node.
        for &p in g.members.iter().skip(placed) {
            if let Some(last) = nodes.last_mut() {
                if fits(last.used, req, alloc) {
                    last.used = add(last.used, req);
                    last.pods = last.pods.saturating_add(1);
                    scheduled.push(p);
                    continue;
                }
                if last.pods == 0 {
                    // An empty node refused it: a new one would too.
                    break;
                }
            }
            if opened >= max_nodes {
                may_open = false;
                break;
            }
            opened += 1;
            let mut node = SimNode {
                used: template.daemonsets,
                pods: 0,
            };
            let fit = fits(node.used, req, alloc);
            if fit {
                node.used = add(node.used, req);
                node.pods = 1;
                scheduled.push(p);
            }
            // A node that took nothing stays, as CA keeps it in its snapshot.
            nodes.push(node);
            if !fit {
                break;
            }
        }
    }
    (nodes, scheduled)
}

/// Sums a packing up into an [`Estimate`].
fn summarize(pods: &[Resources], nodes: &[SimNode], scheduled: Vec<usize>) -> Estimate {
    let busy = nodes.iter().filter(|n| n.pods > 0);
    let used = busy
        .clone()
        .fold(Resources::default(), |acc, n| add(acc, n.used));
    let requested = scheduled
        .iter()
        .filter_map(|&i| pods.get(i))
        .fold(Resources::default(), |acc, p| add(acc, *p));
    Estimate {
        nodes: u32::try_from(busy.count()).unwrap_or(u32::MAX),
        scheduled,
        requested,
        used,
    }
}

/// First-fit-decreasing binpacking of `pods` (their requests: CPU
/// millicores, memory MiB, slots = 1 per pod) on new template nodes of one
/// node group, as CA's binpacking estimator does it (module doc for the
/// details and choices): pods that fit no empty template node are skipped;
/// the rest, grouped by equal requests, go by decreasing score, each group
/// first onto the nodes already opened, then onto the last node opened while
/// it fits, else onto a new node; at most `max_nodes` new nodes are opened,
/// and pods left over stay unscheduled.
///
/// Source: `BinpackingNodeEstimator.Estimate`, kubernetes/autoscaler
/// `cluster-autoscaler/estimator/binpacking_estimator.go` @f7bb0c3, with
/// `DecreasingPodOrderer` (`decreasing_pod_orderer.go` @f7bb0c3) and
/// `SchedulablePodGroups` (kubernetes-sigs/cluster-autoscaler
/// `pkg/core/scaleup/orchestrator/orchestrator.go` @33c3f97).
pub fn estimate(pods: &[Resources], template: &Template, max_nodes: u32) -> Estimate {
    let order = ordered_groups(pods, template);
    let (nodes, scheduled) = pack(&order, template, max_nodes);
    summarize(pods, &nodes, scheduled)
}

/// One scale-up option: a node group, its estimate and its template.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ScaleUpOption {
    /// The node group (the caller's index).
    pub group: usize,
    /// What [`estimate`] gave for it.
    pub estimate: Estimate,
    /// Its template node.
    pub template: Template,
}

impl ScaleUpOption {
    /// Whether CA would offer it to the expanders at all: an option with no
    /// pod or no node is dropped before them (`prepareScaleUp`,
    /// kubernetes-sigs/cluster-autoscaler
    /// `pkg/core/scaleup/orchestrator/orchestrator.go` @33c3f97). Every
    /// expander here ignores options that are not offered.
    pub fn is_offered(&self) -> bool {
        self.estimate.nodes > 0 && !self.estimate.scheduled.is_empty()
    }
}

/// One expander that filters options down to the equally best, chainable
/// (CA's `expander.Filter`). `random` is not one: it picks a single option,
/// which the caller does from its own stream.
#[derive(Clone, Copy)]
pub enum Filter<'a> {
    /// [`least_waste`].
    LeastWaste,
    /// [`most_pods`].
    MostPods,
    /// [`least_nodes`].
    LeastNodes,
    /// [`priority`], with its priorities per node group.
    Priority(&'a dyn Fn(usize) -> Option<i32>),
}

impl std::fmt::Debug for Filter<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Filter::LeastWaste => f.write_str("LeastWaste"),
            Filter::MostPods => f.write_str("MostPods"),
            Filter::LeastNodes => f.write_str("LeastNodes"),
            Filter::Priority(_) => f.write_str("Priority(..)"),
        }
    }
}

/// CA's default expander since 1.33.0: least-waste (aws.md §9.5; random
/// before, FAQ and aws.md §7.6).
pub const DEFAULT_FILTERS: &[Filter<'static>] = &[Filter::LeastWaste];

/// The indexes of the options CA would offer ([`ScaleUpOption::is_offered`]).
fn offered(options: &[ScaleUpOption]) -> Vec<usize> {
    (0..options.len())
        .filter(|&i| options.get(i).is_some_and(ScaleUpOption::is_offered))
        .collect()
}

/// The waste score: wasted CPU fraction + wasted memory fraction of the
/// nodes' capacity; `None` when a capacity is zero (CA would divide by zero).
fn waste_score(o: &ScaleUpOption) -> Option<f64> {
    let n = f64::from(o.estimate.nodes);
    let avail_cpu = f64::from(o.template.capacity.cpu) * n;
    let avail_mem = f64::from(o.template.capacity.memory) * n;
    if avail_cpu <= 0.0 || avail_mem <= 0.0 {
        return None;
    }
    let req = o.estimate.requested;
    let wasted_cpu = (avail_cpu - f64::from(req.cpu)) / avail_cpu;
    let wasted_mem = (avail_mem - f64::from(req.memory)) / avail_mem;
    Some(wasted_cpu + wasted_mem)
}

/// Among `candidates`, those with the best `key` (`better(a, b)`: `a` beats
/// `b`), ties kept in order; options without a key are left out.
fn best_by<K: PartialOrd + Copy>(
    options: &[ScaleUpOption],
    candidates: &[usize],
    key: impl Fn(&ScaleUpOption) -> Option<K>,
    better: impl Fn(K, K) -> bool,
) -> Vec<usize> {
    let keyed: Vec<(usize, K)> = candidates
        .iter()
        .filter_map(|&i| options.get(i).and_then(&key).map(|k| (i, k)))
        .collect();
    let Some(best) = keyed
        .iter()
        .map(|&(_, k)| k)
        .reduce(|a, b| if better(b, a) { b } else { a })
    else {
        return Vec::new();
    };
    keyed
        .into_iter()
        .filter(|&(_, k)| k == best)
        .map(|(i, _)| i)
        .collect()
}

fn least_waste_among(options: &[ScaleUpOption], candidates: &[usize]) -> Vec<usize> {
    best_by(options, candidates, waste_score, |a, b| a < b)
}

fn most_pods_among(options: &[ScaleUpOption], candidates: &[usize]) -> Vec<usize> {
    best_by(
        options,
        candidates,
        |o| Some(o.estimate.scheduled.len()),
        |a, b| a > b,
    )
}

fn least_nodes_among(options: &[ScaleUpOption], candidates: &[usize]) -> Vec<usize> {
    best_by(
        options,
        candidates,
        |o| (o.estimate.nodes > 0).then_some(o.estimate.nodes),
        |a, b| a < b,
    )
}

fn priority_among(
    options: &[ScaleUpOption],
    candidates: &[usize],
    priority_of_group: &dyn Fn(usize) -> Option<i32>,
) -> Vec<usize> {
    if candidates.is_empty() {
        return Vec::new();
    }
    // As priority.go: the bar starts at -1, so priorities below -1 never
    // make it; a group with no priority is not considered.
    let mut max_prio: i32 = -1;
    let mut best: Vec<usize> = Vec::new();
    for &i in candidates {
        let Some(o) = options.get(i) else { continue };
        let Some(p) = priority_of_group(o.group) else {
            continue;
        };
        if p < max_prio {
            continue;
        }
        if p > max_prio {
            max_prio = p;
            best.clear();
        }
        best.push(i);
    }
    if best.is_empty() {
        // No group matched: CA warns and filters nothing.
        return candidates.to_vec();
    }
    best
}

fn apply(options: &[ScaleUpOption], candidates: &[usize], filter: &Filter<'_>) -> Vec<usize> {
    match filter {
        Filter::LeastWaste => least_waste_among(options, candidates),
        Filter::MostPods => most_pods_among(options, candidates),
        Filter::LeastNodes => least_nodes_among(options, candidates),
        Filter::Priority(p) => priority_among(options, candidates, *p),
    }
}

/// least-waste: the options whose nodes would waste the least, scored as
/// (capacity CPU × nodes − requested CPU) / (capacity CPU × nodes) + the same
/// for memory — pending pods' requests only (DaemonSets count as waste),
/// against the template's *capacity*, not allocatable. Ties (equal scores,
/// compared exactly as CA does) are all kept, in input order; there is no
/// further tie-break inside least-waste (the chain's random fallback does
/// it). Options not offered ([`ScaleUpOption::is_offered`]) or with a zero
/// CPU or memory capacity are left out.
///
/// Source: `leastwaste.BestOptions`, `resourcesForPods`, `resourcesForNode`,
/// kubernetes/autoscaler `cluster-autoscaler/expander/waste/waste.go`
/// @f7bb0c3 (and its test: with equal pods, a group with more memory wastes
/// more, one with less CPU wastes less).
pub fn least_waste(options: &[ScaleUpOption]) -> Vec<usize> {
    least_waste_among(options, &offered(options))
}

/// most-pods: the options that would schedule the most pending pods, ties
/// kept in input order.
///
/// Source: `mostpods.BestOptions`, kubernetes/autoscaler
/// `cluster-autoscaler/expander/mostpods/mostpods.go` @f7bb0c3.
pub fn most_pods(options: &[ScaleUpOption]) -> Vec<usize> {
    most_pods_among(options, &offered(options))
}

/// least-nodes (CA ≥ 1.31): the options that need the fewest new nodes,
/// ties kept in input order.
///
/// Source: `leastnodes.BestOptions`, kubernetes/autoscaler
/// `cluster-autoscaler/expander/leastnodes/leastnodes.go` @f7bb0c3.
pub fn least_nodes(options: &[ScaleUpOption]) -> Vec<usize> {
    least_nodes_among(options, &offered(options))
}

/// priority: the options whose node group has the highest priority, ties
/// kept in input order. `priority_of_group(group)` is the highest priority
/// whose regular expressions match the group's name, `None` if none does
/// (the ConfigMap `cluster-autoscaler-priority-expander`). A group with no
/// priority is never chosen, unless no group has one: then every option is
/// kept. Like CA, the running maximum starts at −1, so priorities below −1
/// count as no priority (the readme asks for positive values).
///
/// Source: `priority.BestOptions`, kubernetes/autoscaler
/// `cluster-autoscaler/expander/priority/priority.go` and `readme.md`
/// @f7bb0c3. (A missing or unparsable ConfigMap also keeps every option.)
pub fn priority(
    options: &[ScaleUpOption],
    priority_of_group: &dyn Fn(usize) -> Option<i32>,
) -> Vec<usize> {
    priority_among(options, &offered(options), priority_of_group)
}

/// `--expander=a,b,…`: the filters in order, each on what the previous one
/// kept, stopping as soon as one option is left; what remains goes to the
/// caller's random pick (CA's fallback strategy). Empty if no option is
/// offered, or a filter left none (CA then scales nothing up).
///
/// Source: `chainStrategy.BestOption`, kubernetes/autoscaler
/// `cluster-autoscaler/expander/factory/chain.go`, and `Factory.Build`
/// (`expander_factory.go`, random as the fallback) @f7bb0c3.
pub fn chain(options: &[ScaleUpOption], filters: &[Filter<'_>]) -> Vec<usize> {
    let mut candidates = offered(options);
    for f in filters {
        candidates = apply(options, &candidates, f);
        if candidates.len() == 1 {
            break;
        }
    }
    candidates
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(cpu: u32, memory: u32) -> Resources {
        Resources {
            cpu,
            memory,
            slots: 1,
        }
    }

    /// A template with no DaemonSets; capacity = allocatable.
    fn bare(cpu: u32, memory: u32, pods: u32) -> Template {
        let a = Resources {
            cpu,
            memory,
            slots: pods,
        };
        Template {
            capacity: a,
            allocatable: a,
            daemonsets: Resources::default(),
        }
    }

    fn n_pods(n: usize, cpu: u32, memory: u32) -> Vec<Resources> {
        vec![r(cpu, memory); n]
    }

    /// Estimates with groups in arrival order (no sort), for comparison.
    fn estimate_unsorted(pods: &[Resources], t: &Template, max_nodes: u32) -> Estimate {
        let gs: Vec<Group> = groups(pods)
            .into_iter()
            .filter(|g| fits(t.daemonsets, g.request, t.allocatable))
            .collect();
        let (nodes, scheduled) = pack(&gs, t, max_nodes);
        summarize(pods, &nodes, scheduled)
    }

    /// Checks what every estimate must satisfy, and returns it.
    fn checked(pods: &[Resources], t: &Template, max_nodes: u32) -> Estimate {
        let gs = ordered_groups(pods, t);
        let (nodes, scheduled) = pack(&gs, t, max_nodes);
        assert!(nodes.len() <= max_nodes as usize);
        // Pending pods never take more than the DaemonSets leave.
        let (a, ds) = (t.allocatable, t.daemonsets);
        for n in &nodes {
            assert!(n.used.cpu - ds.cpu <= a.cpu.saturating_sub(ds.cpu));
            assert!(n.used.memory - ds.memory <= a.memory.saturating_sub(ds.memory));
            assert!(n.used.slots - ds.slots <= a.slots.saturating_sub(ds.slots));
        }
        let mut seen = scheduled.clone();
        seen.sort_unstable();
        seen.dedup();
        assert_eq!(seen.len(), scheduled.len(), "a pod scheduled twice");
        let e = summarize(pods, &nodes, scheduled);
        assert_eq!(e, estimate(pods, t, max_nodes));
        assert_eq!(
            e.used,
            Resources {
                cpu: e.requested.cpu + ds.cpu * e.nodes,
                memory: e.requested.memory + ds.memory * e.nodes,
                slots: e.requested.slots + ds.slots * e.nodes,
            }
        );
        e
    }

    #[test]
    fn resource_bound_with_daemonsets() {
        // 4-vCPU node: 3920 m allocatable; aws-node 50 m + kube-proxy 100 m
        // leave 3770 m, so three 1-CPU pods per node: 10 pods → 4 nodes.
        let t = Template {
            capacity: Resources {
                cpu: 4000,
                memory: 15_160,
                slots: 58,
            },
            allocatable: Resources {
                cpu: 3920,
                memory: 14_167,
                slots: 58,
            },
            daemonsets: Resources {
                cpu: 150,
                memory: 0,
                slots: 2,
            },
        };
        let e = checked(&n_pods(10, 1000, 512), &t, MAX_NODES_PER_SCALEUP);
        assert_eq!(e.nodes, 4);
        assert_eq!(e.scheduled, (0..10).collect::<Vec<_>>());
        assert_eq!(
            e.used,
            Resources {
                cpu: 4 * 150 + 10_000,
                memory: 10 * 512,
                slots: 4 * 2 + 10
            }
        );
        assert_eq!(
            e.requested,
            Resources {
                cpu: 10_000,
                memory: 5120,
                slots: 10
            }
        );
    }

    #[test]
    fn ca_simple_resource_based_binpacking() {
        // binpacking_estimator_test.go: 350 m pods on 1000 m nodes, 2 per node.
        let e = checked(&n_pods(10, 350, 1), &bare(350 * 3 - 50, 2000, 10), u32::MAX);
        assert_eq!((e.nodes, e.scheduled.len()), (5, 10));
    }

    #[test]
    fn pod_count_bound() {
        // CA's case: 10 pods per node, 20 tiny pods → 2 nodes.
        let e = checked(&n_pods(20, 10, 1), &bare(10_000, 20_000, 10), 1000);
        assert_eq!((e.nodes, e.scheduled.len()), (2, 20));
        // m6g.medium-like: 8 max pods, 2 of them DaemonSets: 6 app pods per
        // node bind long before CPU (37 would fit) → 20 pods need 4 nodes.
        let t = Template {
            daemonsets: Resources {
                cpu: 150,
                memory: 0,
                slots: 2,
            },
            ..bare(3920, 14_000, 8)
        };
        let e = checked(&n_pods(20, 100, 128), &t, 1000);
        assert_eq!(e.nodes, 4);
        assert_eq!(e.used.slots, 4 * 2 + 20);
    }

    #[test]
    fn larger_pods_first() {
        // On 1000 m nodes, in arrival order 400, 400 share a node and each
        // 600 needs its own: 3 nodes. Sorted, 600 + 400 twice: 2 nodes.
        let pods = [r(400, 1), r(400, 1), r(600, 1), r(600, 1)];
        let t = bare(1000, 4000, 110);
        assert_eq!(estimate_unsorted(&pods, &t, 100).nodes, 3);
        let e = checked(&pods, &t, 100);
        assert_eq!(e.nodes, 2);
        assert_eq!(e.scheduled, vec![2, 3, 0, 1]);
    }

    #[test]
    fn score_orders_groups_and_ties_keep_input_order() {
        // decreasing_pod_orderer_test.go: (2 m, 100 B) before (2 m, 1 B)
        // before (1 m, 1 B); here memory in MiB on a 600 MiB node.
        let t = bare(4, 600, 10);
        let pods = [r(1, 1), r(2, 100), r(2, 1)];
        let order: Vec<Resources> = ordered_groups(&pods, &t)
            .iter()
            .map(|g| g.request)
            .collect();
        assert_eq!(order, vec![r(2, 100), r(2, 1), r(1, 1)]);
        // Equal scores (0.5 CPU vs 0.5 memory): input order.
        let t = bare(1000, 1000, 10);
        let pods = [r(0, 500), r(500, 0), r(0, 500)];
        let order: Vec<Vec<usize>> = ordered_groups(&pods, &t)
            .into_iter()
            .map(|g| g.members)
            .collect();
        assert_eq!(order, vec![vec![0, 2], vec![1]]);
    }

    #[test]
    fn node_limit_leaves_pods_unscheduled() {
        // CA's "limiter cuts binpacking": 20 × 500 m on 1000 m nodes, 5 nodes.
        let e = checked(&n_pods(20, 500, 1), &bare(1000, 5000, 10), 5);
        assert_eq!((e.nodes, e.scheduled.len()), (5, 10));
        assert_eq!(e.scheduled, (0..10).collect::<Vec<_>>());
        // No node allowed: nothing scheduled.
        assert_eq!(
            checked(&n_pods(3, 500, 1), &bare(1000, 5000, 10), 0),
            Estimate::default()
        );
    }

    #[test]
    fn node_limit_favours_larger_pods() {
        // CA's "decreasing ordered pods are processed first": 10 × 50 m then
        // 10 × 500 m, 5 nodes of 1000 m: only the large pods fit.
        let mut pods = n_pods(10, 50, 1);
        pods.extend(n_pods(10, 500, 1));
        let e = checked(&pods, &bare(1000, 5000, 10), 5);
        assert_eq!(e.nodes, 5);
        assert_eq!(e.scheduled, (10..20).collect::<Vec<_>>());
    }

    #[test]
    fn once_refused_later_groups_only_fill_existing_nodes() {
        // One node allowed: the 700 m pod opens it, the second 700 m is
        // refused a node, the 300 m pod still fills the first node.
        let pods = [r(700, 1), r(700, 1), r(300, 1), r(300, 1)];
        let e = checked(&pods, &bare(1000, 5000, 10), 1);
        assert_eq!(e.nodes, 1);
        assert_eq!(e.scheduled, vec![0, 2]);
    }

    #[test]
    fn pod_larger_than_template_is_skipped() {
        let t = Template {
            daemonsets: Resources {
                cpu: 100,
                memory: 100,
                slots: 1,
            },
            ..bare(1000, 2000, 10)
        };
        let pods = [
            r(5000, 1), // more CPU than the node
            r(400, 1),
            r(10, 4000), // more memory than the node
            r(950, 1),   // fits allocatable, not beside the DaemonSets
            r(400, 1),
        ];
        // Skipped pods open no node, so one node suffices even at limit 1.
        let e = checked(&pods, &t, 1);
        assert_eq!(e.nodes, 1);
        assert_eq!(e.scheduled, vec![1, 4]);
        // A pod that fits nothing alone: nothing.
        assert_eq!(checked(&[r(5000, 1)], &t, 10), Estimate::default());
    }

    #[test]
    fn empty_input() {
        assert_eq!(checked(&[], &bare(1000, 1000, 10), 10), Estimate::default());
        assert_eq!(estimate(&[], &Template::default(), 0), Estimate::default());
    }

    #[test]
    fn daemonsets_filling_the_node_leave_no_room() {
        let t = Template {
            daemonsets: Resources {
                cpu: 2000,
                memory: 0,
                slots: 0,
            },
            ..bare(1000, 1000, 10)
        };
        assert_eq!(checked(&n_pods(3, 1, 1), &t, 10), Estimate::default());
        // A pod requesting no CPU still fits an over-committed node, as
        // NodeResourcesFit skips a zero request.
        let e = checked(&[r(0, 10)], &t, 10);
        assert_eq!(e.nodes, 1);
    }

    #[test]
    fn extreme_values_do_not_panic() {
        let big = Resources {
            cpu: u32::MAX,
            memory: u32::MAX,
            slots: u32::MAX,
        };
        let t = Template {
            capacity: big,
            allocatable: big,
            daemonsets: Resources::default(),
        };
        let e = estimate(&[big, big, Resources::default()], &t, u32::MAX);
        assert_eq!(e.nodes, 2);
        assert_eq!(e.used, big);
        let _ = estimate(&[big], &Template::default(), u32::MAX);
        let zero = estimate(&[Resources::default(); 3], &Template::default(), 1);
        assert_eq!((zero.nodes, zero.scheduled.len()), (1, 3));
        let o = ScaleUpOption {
            group: 0,
            estimate: e,
            template: t,
        };
        assert_eq!(least_waste(std::slice::from_ref(&o)), vec![0]);
    }

    #[test]
    fn ca_benchmark_case() {
        // BenchmarkBinpackingEstimate: 50 000 × (50 m) + 1000 × (95 m) on
        // 1000 m / 100-pod nodes, limit 3000 → 2595 nodes, 51 000 pods.
        let mut pods = n_pods(50_000, 50, 1);
        pods.extend(n_pods(1000, 95, 1));
        let e = checked(&pods, &bare(1000, 5000, 100), 3000);
        assert_eq!((e.nodes, e.scheduled.len()), (2595, 51_000));
    }

    #[test]
    fn random_inputs_keep_the_invariants() {
        // A small LCG: no dependency, reproducible.
        let mut s: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = |m: u32| {
            s = s
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            u32::try_from((s >> 33) % u64::from(m)).unwrap()
        };
        for _ in 0..300 {
            let t = Template {
                daemonsets: Resources {
                    cpu: next(300),
                    memory: next(600),
                    slots: next(3),
                },
                ..bare(1000 + next(8000), 2000 + next(30_000), 1 + next(60))
            };
            let n = next(80) as usize;
            let pods: Vec<Resources> = (0..n)
                .map(|_| r(next(5) * 250 + next(2) * 100, next(6) * 512))
                .collect();
            let max_nodes = next(40);
            let e = checked(&pods, &t, max_nodes);
            // Never worse than one node per pod; with no limit reached,
            // every pod that fits an empty node is scheduled.
            assert!(e.nodes as usize <= e.scheduled.len());
            let fitting = pods
                .iter()
                .filter(|p| fits(t.daemonsets, **p, t.allocatable))
                .count();
            if e.nodes < max_nodes {
                assert_eq!(e.scheduled.len(), fitting);
            }
            // A lower bound: the CPU the pods need over what a node has left.
            let free = t.allocatable.cpu - t.daemonsets.cpu;
            assert!(u64::from(e.nodes) * u64::from(free) >= u64::from(e.requested.cpu));
        }
    }

    fn option(group: usize, nodes: u32, pods: usize, req: Resources, t: Template) -> ScaleUpOption {
        ScaleUpOption {
            group,
            estimate: Estimate {
                nodes,
                scheduled: (0..pods).collect(),
                requested: req,
                used: req,
            },
            template: t,
        }
    }

    #[test]
    fn least_waste_as_ca_tests_it() {
        // waste_test.go: one 500 m / 1000 MiB pod; "balanced" is 16 pods'
        // worth, "highmem" has twice the memory, "lowcpu" half the CPU.
        let pod = r(500, 1000);
        let balanced = option(0, 1, 1, pod, bare(16 * 500, 16 * 1000, 100));
        let highmem = option(1, 1, 1, pod, bare(16 * 500, 32 * 1000, 100));
        let lowcpu = option(2, 1, 1, pod, bare(8 * 500, 16 * 1000, 100));
        assert_eq!(least_waste(std::slice::from_ref(&balanced)), vec![0]);
        assert_eq!(least_waste(&[balanced.clone(), highmem.clone()]), vec![0]);
        assert_eq!(least_waste(&[balanced, highmem, lowcpu]), vec![2]);
    }

    #[test]
    fn least_waste_picks_the_tighter_group_from_estimates() {
        // 6 pods of 1 CPU / 2 GiB. An m5.xlarge-like group (4 CPU, 16 GiB)
        // takes 3 per node beside the DaemonSets → 2 nodes; a c5.2xlarge-like
        // group (8 CPU, 16 GiB) takes all 6 on 1 node.
        let pods = n_pods(6, 1000, 2048);
        let ds = Resources {
            cpu: 150,
            memory: 0,
            slots: 2,
        };
        let m5 = Template {
            capacity: Resources {
                cpu: 4000,
                memory: 15_160,
                slots: 58,
            },
            allocatable: Resources {
                cpu: 3920,
                memory: 14_167,
                slots: 58,
            },
            daemonsets: ds,
        };
        let c5 = Template {
            capacity: Resources {
                cpu: 8000,
                memory: 15_160,
                slots: 58,
            },
            allocatable: Resources {
                cpu: 7910,
                memory: 14_167,
                slots: 58,
            },
            daemonsets: ds,
        };
        let options: Vec<ScaleUpOption> = [m5, c5]
            .into_iter()
            .enumerate()
            .map(|(g, t)| ScaleUpOption {
                group: g,
                estimate: estimate(&pods, &t, 100),
                template: t,
            })
            .collect();
        assert_eq!(options[0].estimate.nodes, 2);
        assert_eq!(options[1].estimate.nodes, 1);
        // m5: CPU (8000 − 6000)/8000 = 0.25, memory (30320 − 12288)/30320;
        // c5: 0.25 and (15160 − 12288)/15160: c5 wastes less.
        assert_eq!(least_waste(&options), vec![1]);
    }

    #[test]
    fn least_waste_keeps_ties_and_ignores_daemonsets() {
        let t = bare(4000, 8000, 110);
        let a = option(0, 1, 2, r(2000, 4000), t);
        let b = option(1, 2, 4, r(4000, 8000), t);
        // Same 0.5 + 0.5 score: both kept, in order.
        assert_eq!(least_waste(&[a.clone(), b.clone()]), vec![0, 1]);
        // DaemonSets are not requested pods: adding them to `used` changes nothing.
        let mut a_ds = a.clone();
        a_ds.estimate.used = add(a_ds.estimate.used, r(1000, 1000));
        a_ds.template.daemonsets = r(1000, 1000);
        assert_eq!(least_waste(&[a_ds, b.clone()]), vec![0, 1]);
        // Capacity, not allocatable: a smaller allocatable changes nothing.
        let mut b_small = b;
        b_small.template.allocatable = r(2500, 5000);
        assert_eq!(least_waste(&[a, b_small]), vec![0, 1]);
    }

    #[test]
    fn options_ca_would_not_offer_are_ignored() {
        let t = bare(1000, 1000, 10);
        let none = option(0, 0, 0, Resources::default(), t);
        let no_pods = option(1, 1, 0, Resources::default(), t);
        let zero_cap = option(2, 1, 1, r(1, 1), Template::default());
        let fine = option(3, 1, 1, r(500, 500), t);
        let all = [none, no_pods, zero_cap, fine];
        assert_eq!(least_waste(&all), vec![3]);
        assert_eq!(most_pods(&all), vec![2, 3]);
        assert_eq!(least_nodes(&all), vec![2, 3]);
        assert_eq!(priority(&all, &|_| None), vec![2, 3]);
        assert!(least_waste(&[]).is_empty());
        assert!(most_pods(&all[..2]).is_empty());
        assert!(chain(&all[..2], DEFAULT_FILTERS).is_empty());
        // Only the zero-capacity option: least-waste cannot score it.
        assert!(least_waste(&all[2..3]).is_empty());
    }

    #[test]
    fn most_pods_and_least_nodes() {
        let t = bare(1000, 1000, 10);
        let opts = [
            option(0, 3, 5, r(1, 1), t),
            option(1, 2, 7, r(1, 1), t),
            option(2, 2, 7, r(1, 1), t),
            option(3, 1, 4, r(1, 1), t),
        ];
        assert_eq!(most_pods(&opts), vec![1, 2]);
        assert_eq!(least_nodes(&opts), vec![3]);
    }

    #[test]
    fn priority_expander() {
        let t = bare(1000, 1000, 10);
        let opts: Vec<ScaleUpOption> = (0..4).map(|g| option(g, 1, 1, r(1, 1), t)).collect();
        // priority_test.go's config: t2.micro 5, t2.large / t3.large 10,
        // m4.4xlarge 50; groups 0..4 = t2.micro, t2.large, t3.large, m4.4xlarge.
        let prio = |g: usize| {
            [Some(5), Some(10), Some(10), Some(50)]
                .get(g)
                .copied()
                .flatten()
        };
        assert_eq!(priority(&opts[1..2], &prio), vec![0]);
        assert_eq!(
            priority(&[opts[1].clone(), opts[3].clone()], &prio),
            vec![1]
        );
        assert_eq!(priority(&opts[..3], &prio), vec![1, 2]);
        // Unmatched groups are never chosen …
        let only_large = |g: usize| (g == 1).then_some(10);
        assert_eq!(priority(&opts, &only_large), vec![1]);
        // … unless nothing matches: then all are kept.
        assert_eq!(priority(&opts, &|_| None), vec![0, 1, 2, 3]);
        // The bar starts at −1: −1 counts, −2 does not.
        assert_eq!(priority(&opts, &|g| (g == 2).then_some(-1)), vec![2]);
        assert_eq!(
            priority(&opts, &|g| (g == 2).then_some(-2)),
            vec![0, 1, 2, 3]
        );
        // Priorities are by the option's node group, not its position.
        let shifted: Vec<ScaleUpOption> =
            (0..3).map(|g| option(10 + g, 1, 1, r(1, 1), t)).collect();
        assert_eq!(
            priority(&shifted, &|g| Some(i32::try_from(g).unwrap())),
            vec![2]
        );
    }

    #[test]
    fn chained_filters() {
        let t = bare(1000, 1000, 10);
        let opts = [
            option(0, 2, 4, r(500, 500), t),
            option(1, 1, 2, r(1000, 1000), t),
            option(2, 1, 2, r(1000, 1000), t),
            option(3, 2, 4, r(2000, 2000), t),
        ];
        let prio = |g: usize| Some(if g == 0 { 1 } else { 5 });
        // priority keeps 1, 2, 3; least-waste keeps the exact ones: 1, 2, 3
        // all waste 0; most-pods then keeps 3 alone.
        assert_eq!(
            chain(
                &opts,
                &[
                    Filter::Priority(&prio),
                    Filter::LeastWaste,
                    Filter::MostPods
                ]
            ),
            vec![3]
        );
        // A chain stops at one option: least-nodes would have kept 1 and 2.
        let first = |g: usize| Some(if g == 0 { 9 } else { 1 });
        assert_eq!(
            chain(&opts, &[Filter::Priority(&first), Filter::LeastNodes]),
            vec![0]
        );
        assert_eq!(
            chain(&opts, &[Filter::LeastNodes, Filter::MostPods]),
            vec![1, 2]
        );
        // No filter: every offered option, for the random pick.
        assert_eq!(chain(&opts, &[]), vec![0, 1, 2, 3]);
        assert_eq!(chain(&opts, DEFAULT_FILTERS), vec![1, 2, 3]);
        assert_eq!(format!("{:?}", Filter::Priority(&prio)), "Priority(..)");
    }
}
