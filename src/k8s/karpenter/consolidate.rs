//! Karpenter's consolidation decision: which nodes to delete or replace
//! with one cheaper node, as karpenter v1.14 does it
//! (`website/content/en/docs/concepts/disruption.md`,
//! `pkg/controllers/disruption`; aws.md §5.3):
//!
//! - only nodes whose pods have not changed for `consolidateAfter`, with
//!   no `karpenter.sh/do-not-disrupt` pod, of a NodePool whose policy
//!   allows it (`WhenEmpty`: empty nodes only);
//! - candidates in order of savings: price ÷ (1 + pods) descending
//!   (v1.14's `SavingsRatio`, each pod's eviction cost taken as 1: pod
//!   priorities and deletion costs are not modelled);
//! - empty nodes first, deleted together; then several nodes at once
//!   (their pods onto the other nodes and at most one new node, cheaper
//!   than all of them; the largest first-k of the candidates the budgets
//!   leave, found by bisection); then one node at a time: deleted when
//!   its pods fit on the others, else replaced by one strictly cheaper
//!   node. Spot nodes are replaced only by Spot, behind the
//!   `SpotToSpotConsolidation` gate, and one node only when at least 15
//!   cheaper Spot types fit its pods;
//! - never more nodes than the disruption budgets allow
//!   ([`allowed_disruptions`]);
//! - evicted pods only onto nodes past their `consolidateAfter`, as
//!   Karpenter's consolidation simulation keeps them.
//!
//! Simplifications, stated: where the evicted pods go is simulated first
//! fit over the remaining nodes (largest pods first; the kube-scheduler
//! scores nodes its own way); the replacement comes from the first
//! candidate's NodePool, its limits not applied, and EC2 Fleet's list is
//! not cut to 60 types; the `Balanced` policy is not modelled.

use super::provision::{Launch, Pool, provision};
use super::requirements::CapacityType;
use crate::placement::Resources;

/// A NodePool's consolidation policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    /// Empty nodes only.
    WhenEmpty,
    /// Empty and under-utilized nodes (the default).
    WhenEmptyOrUnderutilized,
}

/// A node as consolidation sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// Index into the pools.
    pub pool: usize,
    /// Spot or on-demand.
    pub capacity_type: CapacityType,
    /// USD per hour.
    pub price: f64,
    /// What pods may request on it (DaemonSets' requests not taken off).
    pub allocatable: Resources,
    /// Its pods' requests (DaemonSets not counted).
    pub pods: Vec<Resources>,
    /// Its DaemonSets' requests.
    pub daemons: Resources,
    /// Whether `consolidateAfter` has passed since its pods last changed.
    pub settled: bool,
    /// Whether a pod on it says `karpenter.sh/do-not-disrupt`.
    pub do_not_disrupt: bool,
}

/// Why nodes go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// No pod on them.
    Empty,
    /// Their pods fit elsewhere, or on one cheaper node.
    Underutilized,
}

/// What consolidation does now.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Delete these nodes (their pods fit on the others).
    Delete {
        /// Indices of the nodes.
        nodes: Vec<usize>,
        /// Why.
        reason: Reason,
    },
    /// Delete these nodes and launch one cheaper node for what does not fit
    /// on the others (launched first; the nodes drain once it is ready).
    Replace {
        /// Indices of the nodes.
        nodes: Vec<usize>,
        /// The new node.
        with: Launch,
        /// What the nodes cost (USD per hour).
        was: f64,
    },
}

/// A disruption budget: a number of nodes or a share of them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Budget {
    /// At most this many nodes.
    Nodes(u32),
    /// At most this percentage of the NodePool's nodes, rounded up.
    Percent(u32),
}

/// Nodes that may be disrupted now: the least the budgets allow, each
/// `roundup(total × percent)` or its count, less the nodes being deleted
/// and those not ready (Karpenter's default budget is 10 %).
pub fn allowed_disruptions(total: u32, budgets: &[Budget], deleting: u32, not_ready: u32) -> u32 {
    budgets
        .iter()
        .map(|b| match *b {
            Budget::Nodes(n) => n,
            Budget::Percent(p) => {
                u32::try_from((u64::from(total) * u64::from(p)).div_ceil(100)).unwrap_or(u32::MAX)
            }
        })
        .min()
        .unwrap_or(u32::MAX)
        .saturating_sub(deleting)
        .saturating_sub(not_ready)
}

/// Cheaper Spot types a Spot node needs to be replaced by Spot.
pub const SPOT_TO_SPOT_MIN_TYPES: usize = 15;

/// A pod's request as it takes a node: one pod slot.
fn one(p: &Resources) -> Resources {
    Resources { slots: 1, ..*p }
}

fn free(n: &Node) -> Resources {
    let used = n.pods.iter().fold(n.daemons, |u, p| u.plus(one(p)));
    n.allocatable.minus(used)
}

/// The pods of `gone` that do not fit on the other nodes (first fit,
/// largest first).
fn left_over(nodes: &[Node], gone: &[usize]) -> Vec<Resources> {
    let mut room: Vec<Resources> = nodes
        .iter()
        .enumerate()
        .filter(|(i, n)| !gone.contains(i) && n.settled)
        .map(|(_, n)| free(n))
        .collect();
    let mut pods: Vec<Resources> = gone
        .iter()
        .flat_map(|&i| nodes[i].pods.iter().map(one))
        .collect();
    pods.sort_by_key(|p| std::cmp::Reverse((p.cpu, p.memory)));
    let mut rest = Vec::new();
    for p in pods {
        match room.iter_mut().find(|r| p.fits_in(r)) {
            Some(r) => *r = r.minus(p),
            None => rest.push(p),
        }
    }
    rest
}

/// Whether removing `gone` works: `None` if not, else the action.
fn option(nodes: &[Node], pools: &[Pool], gone: &[usize], spot_to_spot: bool) -> Option<Action> {
    let rest = left_over(nodes, gone);
    if rest.is_empty() {
        return Some(Action::Delete {
            nodes: gone.to_vec(),
            reason: Reason::Underutilized,
        });
    }
    let was: f64 = gone.iter().map(|&i| nodes[i].price).sum();
    let all_spot = gone
        .iter()
        .all(|&i| nodes[i].capacity_type == CapacityType::Spot);
    if all_spot && !spot_to_spot {
        // Spot is replaced by Spot only, behind its gate.
        return None;
    }
    // One new node from the first node's pool, strictly cheaper than what
    // goes (for Spot nodes, Spot only).
    let mut pool = pools[nodes[gone[0]].pool].clone();
    pool.remaining = None;
    for o in &mut pool.options {
        o.on_demand = o.on_demand.filter(|p| *p < was && !all_spot);
        o.spot = o.spot.filter(|p| *p < was);
    }
    pool.options
        .retain(|o| o.on_demand.is_some() || o.spot.is_some());
    let got = provision(&rest, std::slice::from_mut(&mut pool));
    match (got.launches.as_slice(), got.unschedulable.is_empty()) {
        // One Spot node needs 15 cheaper Spot types that fit its pods.
        ([one], true) if all_spot && gone.len() == 1 && one.considered < SPOT_TO_SPOT_MIN_TYPES => {
            None
        }
        ([one], true) if one.price < was => Some(Action::Replace {
            nodes: gone.to_vec(),
            with: one.clone(),
            was,
        }),
        _ => None,
    }
}

/// What consolidation does now over `nodes` (of `pools`, whose policies
/// are `policies`), disrupting at most `allowed[p]` nodes of pool `p`
/// (a pool missing from either counts as allowing nothing); `None` when
/// nothing would save money.
pub fn consolidate(
    nodes: &[Node],
    pools: &[Pool],
    policies: &[Policy],
    allowed: &[u32],
    spot_to_spot: bool,
) -> Option<Action> {
    let budget = |p: usize| allowed.get(p).copied().unwrap_or(0);
    let policy = |p: usize| policies.get(p).copied().unwrap_or(Policy::WhenEmpty);
    let candidate =
        |n: &Node| n.settled && !n.do_not_disrupt && n.pool < pools.len() && budget(n.pool) > 0;
    // The nodes of `it`, in order, each while its pool's budget lasts.
    let within_budgets = |it: &mut dyn Iterator<Item = usize>| -> Vec<usize> {
        let mut taken = vec![0u32; pools.len()];
        it.filter(|&i| {
            let p = nodes[i].pool;
            taken[p] += 1;
            taken[p] <= budget(p)
        })
        .collect()
    };
    let empty = within_budgets(
        &mut (0..nodes.len()).filter(|&i| candidate(&nodes[i]) && nodes[i].pods.is_empty()),
    );
    if !empty.is_empty() {
        return Some(Action::Delete {
            nodes: empty,
            reason: Reason::Empty,
        });
    }
    let mut under: Vec<usize> = (0..nodes.len())
        .filter(|&i| {
            candidate(&nodes[i]) && policy(nodes[i].pool) == Policy::WhenEmptyOrUnderutilized
        })
        .collect();
    // The most saving per disruption first: price ÷ (1 + pods).
    let ratio = |i: usize| nodes[i].price / (1.0 + nodes[i].pods.len() as f64);
    under.sort_by(|&a, &b| ratio(b).total_cmp(&ratio(a)).then(a.cmp(&b)));
    // Several at once: of the candidates the budgets leave (in order, each
    // pool's budget spent as they come), the largest first-k that works
    // (bisection, as `firstNConsolidationOption`, at most 100).
    let budgeted = within_budgets(&mut under.iter().copied());
    let most = budgeted.len().min(100);
    if most >= 2 {
        let (mut lo, mut hi) = (2, most);
        let mut best = None;
        while lo <= hi {
            let k = (lo + hi) / 2;
            match option(nodes, pools, &budgeted[..k], spot_to_spot) {
                Some(a) => {
                    best = Some(a);
                    lo = k + 1;
                }
                None => hi = k - 1,
            }
        }
        if best.is_some() {
            return best;
        }
    }
    under
        .iter()
        .find_map(|&i| option(nodes, pools, &[i], spot_to_spot))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::k8s::karpenter::pool;
    use crate::k8s::karpenter::requirements::{Operator, Requirement};
    use crate::platform::ec2::{Catalog, InstanceType};
    use proptest::prelude::*;

    const DAEMONS: Resources = Resources {
        cpu: 200,
        memory: 256,
        slots: 2,
    };

    fn types() -> Vec<InstanceType> {
        Catalog::embedded().types().cloned().collect()
    }

    fn families(f: &[&str], spot: bool) -> Vec<Requirement> {
        let mut r = vec![Requirement {
            key: "karpenter.k8s.aws/instance-family".into(),
            operator: Operator::In(f.iter().map(|x| x.to_string()).collect()),
        }];
        if !spot {
            r.push(Requirement {
                key: "karpenter.sh/capacity-type".into(),
                operator: Operator::In(vec!["on-demand".into()]),
            });
        }
        r
    }

    fn node(
        pools: &[Pool],
        types: &[InstanceType],
        p: usize,
        name: &str,
        pods: &[(u32, u32)],
    ) -> Node {
        let o = pools[p]
            .options
            .iter()
            .find(|o| types[o.index].instance_type == name)
            .unwrap_or_else(|| panic!("{name} offered"));
        Node {
            pool: p,
            capacity_type: CapacityType::OnDemand,
            price: o.on_demand.unwrap(),
            allocatable: o.allocatable,
            pods: pods
                .iter()
                .map(|&(cpu, memory)| Resources {
                    cpu,
                    memory,
                    slots: 1,
                })
                .collect(),
            daemons: DAEMONS,
            settled: true,
            do_not_disrupt: false,
        }
    }

    #[test]
    fn budgets_round_up_and_take_the_least() {
        use Budget::*;
        assert_eq!(allowed_disruptions(10, &[Percent(10)], 0, 0), 1);
        assert_eq!(allowed_disruptions(25, &[Percent(10)], 0, 0), 3);
        assert_eq!(allowed_disruptions(4, &[Nodes(5), Percent(50)], 0, 0), 2);
        assert_eq!(allowed_disruptions(25, &[Percent(10)], 2, 0), 1);
        assert_eq!(allowed_disruptions(25, &[Percent(10)], 2, 5), 0);
        assert_eq!(allowed_disruptions(0, &[Percent(10)], 0, 0), 0);
        assert_eq!(allowed_disruptions(7, &[Nodes(0)], 0, 0), 0);
    }

    #[test]
    fn empty_nodes_go_together_within_the_budget() {
        let t = types();
        let pools = [pool(
            "p",
            0,
            &t,
            &families(&["m5"], false),
            0.0,
            DAEMONS,
            None,
        )];
        let mut nodes = vec![
            node(&pools, &t, 0, "m5.large", &[]),
            node(&pools, &t, 0, "m5.large", &[(500, 500)]),
            node(&pools, &t, 0, "m5.xlarge", &[]),
            node(&pools, &t, 0, "m5.xlarge", &[]),
        ];
        nodes[3].settled = false;
        let got = consolidate(&nodes, &pools, &[Policy::WhenEmpty], &[1], false);
        assert_eq!(
            got,
            Some(Action::Delete {
                nodes: vec![0],
                reason: Reason::Empty
            })
        );
        let got = consolidate(&nodes, &pools, &[Policy::WhenEmpty], &[5], false);
        assert_eq!(
            got,
            Some(Action::Delete {
                nodes: vec![0, 2],
                reason: Reason::Empty
            })
        );
        // Nothing empty is settled: WhenEmpty does nothing.
        nodes[0].settled = false;
        nodes[2].do_not_disrupt = true;
        assert_eq!(
            consolidate(&nodes, &pools, &[Policy::WhenEmpty], &[5], false),
            None
        );
    }

    #[test]
    fn an_underused_node_goes_when_its_pods_fit_elsewhere() {
        let t = types();
        let pools = [pool(
            "p",
            0,
            &t,
            &families(&["m5"], false),
            0.0,
            DAEMONS,
            None,
        )];
        let nodes = vec![
            node(
                &pools,
                &t,
                0,
                "m5.2xlarge",
                &[(3_000, 8_000), (3_000, 8_000)],
            ),
            node(&pools, &t, 0, "m5.large", &[(300, 500)]),
        ];
        // One node at a time (the budget), fewest pods first: the
        // m5.large's pod fits beside the others, so it goes as an
        // under-utilized node.
        let got = consolidate(
            &nodes,
            &pools,
            &[Policy::WhenEmptyOrUnderutilized],
            &[1],
            false,
        );
        assert_eq!(
            got,
            Some(Action::Delete {
                nodes: vec![1],
                reason: Reason::Underutilized
            })
        );
        assert_eq!(
            consolidate(&nodes, &pools, &[Policy::WhenEmpty], &[1], false),
            None
        );
    }

    #[test]
    fn a_big_node_with_a_small_pod_is_replaced_by_a_cheaper_one() {
        let t = types();
        let pools = [pool(
            "p",
            0,
            &t,
            &families(&["m5"], false),
            0.0,
            DAEMONS,
            None,
        )];
        let nodes = vec![node(&pools, &t, 0, "m5.4xlarge", &[(500, 1_000)])];
        let Some(Action::Replace {
            nodes: gone,
            with,
            was,
        }) = consolidate(
            &nodes,
            &pools,
            &[Policy::WhenEmptyOrUnderutilized],
            &[1],
            false,
        )
        else {
            panic!("a replacement");
        };
        assert_eq!(gone, vec![0]);
        assert_eq!(t[with.index].instance_type, "m5.large");
        assert!(with.price < was);
    }

    proptest! {
        /// Whatever the nodes, budgets and policies: no more nodes than a
        /// pool's budget allows, only settled nodes without a
        /// do-not-disrupt pod, empty ones alone for `WhenEmpty` pools and
        /// for `Empty`; a replacement strictly cheaper than what it
        /// replaces, and every evicted pod with a place (on the nodes left
        /// or the new one) without over-allocating any.
        #[test]
        fn invariants(
            specs in prop::collection::vec(
                (0usize..2, 0usize..4, prop::collection::vec((50u32..3_000, 64u32..6_000), 0..6), any::<bool>(), any::<bool>()),
                1..12,
            ),
            policies in prop::collection::vec(any::<bool>(), 2),
            allowed in prop::collection::vec(0u32..4, 2),
            spot_to_spot in any::<bool>(),
        ) {
            let t = types();
            let pools = [
                pool("a", 0, &t, &families(&["m5", "c5"], false), 0.5, DAEMONS, None),
                pool("b", 0, &t, &families(&["r5", "m6i"], true), 0.5, DAEMONS, None),
            ];
            let sizes = ["large", "xlarge", "2xlarge", "4xlarge"];
            let mut nodes = Vec::new();
            for (p, size, pods, settled, dnd) in specs {
                let family = if p == 0 { "m5" } else { "r5" };
                let name = format!("{family}.{}", sizes[size]);
                let mut n = node(&pools, &t, p, &name, &[]);
                if p == 1 {
                    // The second pool's nodes run on Spot.
                    let o = pools[1].options.iter().find(|o| t[o.index].instance_type == name).unwrap();
                    n.capacity_type = CapacityType::Spot;
                    n.price = o.spot.unwrap();
                }
                // Only the pods that fit.
                let mut room = free(&n);
                for (cpu, memory) in pods {
                    let pod = Resources { cpu, memory, slots: 1 };
                    if pod.fits_in(&room) {
                        room = room.minus(pod);
                        n.pods.push(pod);
                    }
                }
                n.settled = settled;
                n.do_not_disrupt = dnd && settled;
                nodes.push(n);
            }
            let policies: Vec<Policy> = policies
                .iter()
                .map(|&u| if u { Policy::WhenEmptyOrUnderutilized } else { Policy::WhenEmpty })
                .collect();
            let Some(action) = consolidate(&nodes, &pools, &policies, &allowed, spot_to_spot) else {
                return Ok(());
            };
            let (gone, new) = match &action {
                Action::Delete { nodes: g, reason } => {
                    if *reason == Reason::Empty {
                        prop_assert!(g.iter().all(|&i| nodes[i].pods.is_empty()));
                    }
                    (g.clone(), None)
                }
                Action::Replace { nodes: g, with, was } => {
                    let sum: f64 = g.iter().map(|&i| nodes[i].price).sum();
                    prop_assert!((sum - was).abs() < 1e-9);
                    prop_assert!(with.price < *was, "{} against {}", with.price, was);
                    if g.iter().all(|&i| nodes[i].capacity_type == CapacityType::Spot) {
                        prop_assert!(spot_to_spot && with.capacity_type == CapacityType::Spot);
                        if g.len() == 1 {
                            prop_assert!(with.considered >= SPOT_TO_SPOT_MIN_TYPES);
                        }
                    }
                    (g.clone(), Some(with.clone()))
                }
            };
            let mut taken = [0u32; 2];
            for &i in &gone {
                let n = &nodes[i];
                prop_assert!(n.settled && !n.do_not_disrupt);
                prop_assert!(n.pods.is_empty() || policies[n.pool] == Policy::WhenEmptyOrUnderutilized);
                taken[n.pool] += 1;
            }
            prop_assert!(taken[0] <= allowed[0] && taken[1] <= allowed[1], "{taken:?} against {allowed:?}");
            // Every evicted pod finds a place on the nodes left past their
            // consolidateAfter or the new node. Checked apart from the
            // packing the code does: each pod fits one of them alone, and
            // all of them fit what they have free together.
            let mut room: Vec<Resources> = (0..nodes.len())
                .filter(|&i| !gone.contains(&i) && nodes[i].settled)
                .map(|i| free(&nodes[i]))
                .collect();
            if let Some(l) = &new {
                let o = pools.iter().flat_map(|p| p.options.iter()).find(|o| o.index == l.index).unwrap();
                room.push(o.allocatable.minus(DAEMONS));
            }
            let pods: Vec<Resources> = gone.iter().flat_map(|&i| nodes[i].pods.iter().map(one)).collect();
            for p in &pods {
                prop_assert!(room.iter().any(|r| p.fits_in(r)), "pod {p:?} fits nowhere");
            }
            let all = |v: &[Resources]| v.iter().fold(Resources::default(), |a, r| a.plus(*r));
            prop_assert!(all(&pods).fits_in(&all(&room)), "{:?} into {:?}", all(&pods), all(&room));
        }
    }
}
