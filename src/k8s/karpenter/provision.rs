//! Karpenter's provisioning decision: a batch of pending pods onto new
//! NodeClaims, each launched as the cheapest instance type left that fits
//! every pod it took. As kubernetes-sigs/karpenter v1.14 schedules
//! (`pkg/controllers/provisioning/scheduling`; aws.md §5.3):
//!
//! - pods in order of CPU request, then memory, descending (`queue.go`);
//! - each pod tries the batch's in-flight NodeClaims, least full first
//!   (`scheduler.go`, `addToInflightNode`; ties here by creation order,
//!   Karpenter's sort is not stable), then a new NodeClaim from each
//!   NodePool by weight, descending (`addToNewNodeClaim`);
//! - a NodeClaim keeps the instance types that still fit its pods' requests
//!   plus the DaemonSets' (`nodeclaim.go`, `CanAdd`), the kubelet's max pods
//!   counting as a resource;
//! - a NodePool's limits: types larger than what remains are not offered,
//!   and a new NodeClaim takes the largest capacity among its types off
//!   what remains (pessimistic, as Karpenter's `subtractMax`);
//! - at launch, Spot when the NodePool allows it and some type offers it
//!   (karpenter-provider-aws `getCapacityType`), Spot offerings pricier
//!   than the cheapest on-demand one dropped (`filter.go`), and the
//!   cheapest type left: EC2 Fleet's `lowest-price` on-demand; for Spot,
//!   `price-capacity-optimized` also weighs capacity pools, which capsim
//!   does not model (it takes the lowest Spot price).
//!
//! Existing nodes (and NodeClaims of earlier batches still launching) come
//! first, in the caller's order (Karpenter: initialized nodes first, then
//! by name), as free capacity.

use super::requirements::CapacityType;
use crate::placement::Resources;

/// An instance type a NodePool may launch: its allocatable (millicores,
/// MiB, max pods), its capacity (what limits count: millicores and MiB of
/// capacity) and its hourly prices by capacity type (`None`: not allowed).
#[derive(Debug, Clone, PartialEq)]
pub struct Offer {
    /// Index of the type in the caller's list.
    pub index: usize,
    /// What pods may request on it.
    pub allocatable: Resources,
    /// What a NodePool's limits count.
    pub capacity: Resources,
    /// On-demand price (USD per hour), if the NodePool allows on-demand.
    pub on_demand: Option<f64>,
    /// Spot price (USD per hour), if the NodePool allows Spot.
    pub spot: Option<f64>,
}

/// A NodePool as the decision sees it.
#[derive(Debug, Clone)]
pub struct Pool {
    /// Name (ties of weight go by name, descending).
    pub name: String,
    /// `spec.weight` (higher first).
    pub weight: i32,
    /// The types its requirements allow.
    pub options: Vec<Offer>,
    /// What its limits leave (millicores and MiB of capacity), if limited.
    pub remaining: Option<Resources>,
    /// The DaemonSets' requests on each of its nodes (their pods in `slots`).
    pub daemons: Resources,
}

/// One new node: the pool, the type and capacity type launched, its hourly
/// price, the pods it takes and how many types were left to choose from.
#[derive(Debug, Clone, PartialEq)]
pub struct Launch {
    /// Index into the pools.
    pub pool: usize,
    /// The caller's index of the type launched.
    pub index: usize,
    /// Spot or on-demand.
    pub capacity_type: CapacityType,
    /// USD per hour.
    pub price: f64,
    /// Indices of the pods it takes.
    pub pods: Vec<usize>,
    /// Types that still fitted every pod (what EC2 Fleet was offered).
    pub considered: usize,
}

/// The batch's outcome: pods on existing nodes, new nodes, and the pods no
/// NodePool can take.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Provisioning {
    /// (pod, existing node) pairs.
    pub on_existing: Vec<(usize, usize)>,
    /// New nodes, in the order they were opened.
    pub launches: Vec<Launch>,
    /// Pods that fit no allowed type (or exceed the limits).
    pub unschedulable: Vec<usize>,
}

struct Claim {
    pool: usize,
    pods: Vec<usize>,
    /// Requests so far, DaemonSets included.
    used: Resources,
    /// Indices into the pool's options that still fit.
    types: Vec<usize>,
    /// The largest allocatable of each resource among `types` (a quick
    /// refusal before scanning them).
    most: Resources,
}

fn most_of<'a>(it: impl Iterator<Item = &'a Resources>) -> Resources {
    it.fold(Resources::default(), |m, r| m.most(*r))
}

/// Schedules a batch of pending `pods` (each a request of millicores, MiB
/// and one pod slot) onto new NodeClaims from `pools`.
pub fn provision(pods: &[Resources], pools: &mut [Pool]) -> Provisioning {
    provision_with(pods, &mut [], pools)
}

/// [`provision`] with `existing` nodes' free capacity tried first (and
/// taken as pods land there).
pub fn provision_with(
    pods: &[Resources],
    existing: &mut [Resources],
    pools: &mut [Pool],
) -> Provisioning {
    let mut any: Vec<(Option<usize>, Resources)> = existing.iter().map(|r| (None, *r)).collect();
    let out = provision_filtered(pods, |_, _| true, &mut any, pools);
    for (e, (_, r)) in existing.iter_mut().zip(any) {
        *e = r;
    }
    out
}

/// [`provision_with`] where pod `p` may go only to NodePools `q` with
/// `allowed(p, q)` (its `nodeSelector` against the pools' labels), and
/// each existing node may belong to a pool (`None`: any pod may use it).
pub fn provision_filtered(
    pods: &[Resources],
    allowed: impl Fn(usize, usize) -> bool,
    existing: &mut [(Option<usize>, Resources)],
    pools: &mut [Pool],
) -> Provisioning {
    let mut order: Vec<usize> = (0..pods.len()).collect();
    order.sort_by(|&a, &b| {
        (pods[b].cpu, pods[b].memory)
            .cmp(&(pods[a].cpu, pods[a].memory))
            .then(a.cmp(&b))
    });
    let mut by_weight: Vec<usize> = (0..pools.len()).collect();
    by_weight.sort_by(|&a, &b| {
        (pools[b].weight, &pools[b].name).cmp(&(pools[a].weight, &pools[a].name))
    });
    let mut claims: Vec<Claim> = Vec::new();
    // Claims by (pods, creation): the least full first.
    let mut fullness: Vec<usize> = Vec::new();
    let mut out = Provisioning::default();
    for p in order {
        let pod = Resources {
            slots: 1,
            ..pods[p]
        };
        if let Some(e) = existing
            .iter()
            .position(|(q, free)| pod.fits_in(free) && q.is_none_or(|q| allowed(p, q)))
        {
            existing[e].1 = existing[e].1.minus(pod);
            out.on_existing.push((p, e));
            continue;
        }
        let mut placed = false;
        for k in 0..fullness.len() {
            let c = &mut claims[fullness[k]];
            if !allowed(p, c.pool) {
                continue;
            }
            let want = c.used.plus(pod);
            if !want.fits_in(&c.most) {
                continue;
            }
            let options = &pools[c.pool].options;
            if !c
                .types
                .iter()
                .any(|&i| want.fits_in(&options[i].allocatable))
            {
                continue;
            }
            c.types.retain(|&i| want.fits_in(&options[i].allocatable));
            c.most = most_of(c.types.iter().map(|&i| &options[i].allocatable));
            c.used = want;
            c.pods.push(p);
            // One more pod: move it behind the claims as full or fuller.
            let n = c.pods.len();
            let id = fullness[k];
            let mut j = k;
            while j + 1 < fullness.len() && {
                let next = &claims[fullness[j + 1]];
                (next.pods.len(), fullness[j + 1]) < (n, id)
            } {
                fullness.swap(j, j + 1);
                j += 1;
            }
            placed = true;
            break;
        }
        if placed {
            continue;
        }
        for &q in &by_weight {
            if !allowed(p, q) {
                continue;
            }
            let pool = &mut pools[q];
            let want = pool.daemons.plus(pod);
            // Limits count CPU and memory (an offer's capacity holds no slot).
            let fits = |o: &Offer| {
                want.fits_in(&o.allocatable)
                    && pool.remaining.is_none_or(|r| o.capacity.fits_in(&r))
            };
            let types: Vec<usize> = (0..pool.options.len())
                .filter(|&i| fits(&pool.options[i]))
                .collect();
            if types.is_empty() {
                continue;
            }
            if let Some(r) = pool.remaining.as_mut() {
                *r = r.minus(most_of(types.iter().map(|&i| &pool.options[i].capacity)));
            }
            let most = most_of(types.iter().map(|&i| &pool.options[i].allocatable));
            claims.push(Claim {
                pool: q,
                pods: vec![p],
                used: want,
                types,
                most,
            });
            // One pod: before every claim with more.
            let id = claims.len() - 1;
            let at = fullness
                .iter()
                .position(|&c| claims[c].pods.len() > 1)
                .unwrap_or(fullness.len());
            fullness.insert(at, id);
            placed = true;
            break;
        }
        if !placed {
            out.unschedulable.push(p);
        }
    }
    for c in claims {
        out.launches.push(launch(&pools[c.pool], c));
    }
    out.unschedulable.sort_unstable();
    out
}

/// The type and capacity type a claim launches as.
fn launch(pool: &Pool, c: Claim) -> Launch {
    let options = &pool.options;
    let cheapest_on_demand = c
        .types
        .iter()
        .filter_map(|&i| options[i].on_demand)
        .fold(f64::INFINITY, f64::min);
    // Spot where offered, no dearer than the cheapest on-demand offering.
    let spot = c
        .types
        .iter()
        .filter_map(|&i| options[i].spot.map(|s| (s, i)))
        .filter(|&(s, _)| s <= cheapest_on_demand)
        .min_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    let (capacity_type, (price, i)) = match spot {
        Some(s) => (CapacityType::Spot, s),
        None => (
            CapacityType::OnDemand,
            c.types
                .iter()
                .filter_map(|&i| options[i].on_demand.map(|p| (p, i)))
                .min_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)))
                .expect("a claim's types are offered on some capacity type"),
        ),
    };
    Launch {
        pool: c.pool,
        index: options[i].index,
        capacity_type,
        price,
        considered: c.types.len(),
        pods: c.pods,
    }
}
