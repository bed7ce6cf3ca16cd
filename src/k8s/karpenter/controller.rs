//! Karpenter in a run: its configuration (NodePools as the scenario
//! writes them, compiled), the batching window of pending pods, what the
//! pure decisions ([`super::provision`], [`super::consolidate`]) are fed
//! from the cluster's state, the log rows of every decision and its
//! counters. The cluster's control (`control::karpenter`) calls it and
//! carries out what it decides: launches, drains, terminations.
//!
//! Timings (kubernetes-sigs/karpenter v1.14; aws.md §5.3, §9.5):
//! - pending pods are batched: the batch closes after 1 s without a new
//!   pending pod, or 10 s after it opened (`BATCH_IDLE_DURATION`,
//!   `BATCH_MAX_DURATION`, settings.md);
//! - the disruption controller looks for consolidation every 10 s
//!   (`pollingPeriod`, `pkg/controllers/disruption/controller.go`) and
//!   carries a decision out only if it still holds 15 s later
//!   (`consolidationTTL`, `pkg/controllers/disruption/consolidation.go`);
//! - a replacement node is launched before the nodes it replaces are
//!   drained (concepts/disruption.md: "pre-spins replacements");
//! - expiration is forceful and not limited by budgets (`expireAfter`,
//!   default 720 h).

pub use super::config::{
    BATCH_IDLE, BATCH_MAX, CONSOLIDATION_TTL, DISRUPTION_POLL, KarpenterConfig, NodePoolConfig,
};
use super::consolidate::{self, Action, Policy, Reason};
use super::provision::{self, Launch, Pool};
use super::requirements::CapacityType;
use crate::cluster::{Cluster, ClusterConfig};
use crate::placement::Resources;
use crate::scaling::{Decision, Text};
use crate::time::{SECOND, SimTime};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What Karpenter did over a run (`summary.json`, `nodes.karpenter`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct KarpenterStats {
    /// Provisioning batches (each with pending pods).
    pub batches: u64,
    /// On-demand nodes launched (consolidation's replacements included).
    pub launched_on_demand: u64,
    /// Spot nodes launched (consolidation's replacements included).
    pub launched_spot: u64,
    /// Empty nodes consolidation deleted.
    pub consolidation_empty: u64,
    /// Under-utilized nodes deleted (their pods fit elsewhere).
    pub consolidation_deleted: u64,
    /// Nodes consolidation decided to replace by a cheaper one (their
    /// replacement launched; they drain once it is ready).
    pub consolidation_replaced: u64,
    /// Consolidation decisions dropped at validation (the cluster changed).
    pub consolidation_abandoned: u64,
    /// Nodes drained because they reached `expireAfter`.
    pub expired: u64,
    /// Spot interruption warnings.
    pub spot_interruptions: u64,
    /// Pods evicted by consolidation and expiry, CoreDNS pods included
    /// (Spot interruptions aside).
    pub pods_disrupted: u64,
    /// Invariants audited at every poll and every consolidation carried
    /// out (tests read them; a run never breaks them).
    #[serde(skip)]
    pub audit: Audit,
}

/// What [`Karpenter::audit`] found, counted over a run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Audit {
    /// Times consolidation had more of a NodePool's nodes in disruption
    /// than its budgets allow of its nodes then.
    pub over_budget: u64,
    /// Times a registered node held more than it offers.
    pub over_allocated: u64,
    /// Replacements not strictly cheaper than what they replaced.
    pub dearer_replacements: u64,
    /// Audits made.
    pub audits: u64,
}

/// A consolidation decision as it is validated: its kind, its nodes (by
/// instance id, sorted) and its replacement (pool, type, Spot).
#[derive(Debug, Clone, PartialEq)]
pub struct Command {
    /// The decision.
    pub action: Action,
    /// The instances of `action`'s node indices.
    pub instances: Vec<u32>,
    /// Each NodePool's budget when it was decided: (pool, its nodes, how
    /// many of them it allowed to disrupt then), for the pools it touches.
    pub budgets: Vec<(usize, u32, u32)>,
    /// What its nodes cost (USD per hour).
    pub was: f64,
}

/// A pending pod as provisioning sees it: its requests (one pod slot) and
/// its `nodeSelector`.
#[derive(Debug, Clone, Copy)]
pub struct PendingPod<'a> {
    /// Millicores, MiB, one pod slot.
    pub request: Resources,
    /// Labels its node must carry.
    pub selector: &'a [(String, String)],
}

/// Karpenter's state in a run.
#[derive(Debug, Clone)]
pub struct Karpenter {
    cfg: KarpenterConfig,
    /// Each NodePool's offers (built once; `remaining` set per decision).
    pools: Vec<Pool>,
    /// Capacity (what limits count) of each pool's type, by type index.
    capacity: Vec<Vec<Resources>>,
    /// The DaemonSets' requests on every node (pod slots included).
    daemons: Resources,
    /// The labels every node of each NodePool carries: its template's,
    /// `karpenter.sh/nodepool`, and each requirement `In` one value.
    labels: Vec<BTreeMap<String, String>>,
    /// The open batch: (opened, last pending pod).
    batch: Option<(SimTime, SimTime)>,
    /// Replacements launched and the nodes each replaces.
    replacing: Vec<(u32, Vec<u32>)>,
    /// The consolidation decision being validated.
    validating: Option<Command>,
    /// Nodes consolidation drained (pruned of the gone at each audit).
    drained: Vec<u32>,
    /// The last look found nothing to do: the cluster's version then, and
    /// the next instant a node's `consolidateAfter` runs out. Until either
    /// changes the answer is the same (Karpenter likewise skips an
    /// unchanged cluster).
    quiet: Option<(u64, SimTime)>,
    /// Counters.
    pub stats: KarpenterStats,
}

impl Karpenter {
    /// Karpenter over `cluster`'s groups (one per NodePool).
    pub fn new(cfg: KarpenterConfig, cluster: &ClusterConfig) -> Self {
        let daemons = cluster
            .daemons
            .iter()
            .fold(Resources::default(), |a, (_, r)| a.plus(*r));
        let mut pools = Vec::new();
        let mut capacity = Vec::new();
        let mut labels = Vec::new();
        for (p, g) in cfg.pools.iter().zip(&cluster.groups) {
            let mut pool = super::pool(
                &p.name,
                p.weight,
                &g.types,
                &p.requirements,
                cluster.spot_discount,
                daemons,
                p.limits,
            );
            // Karpenter's estimate of what a node offers, never more than
            // what the node then registers (the cluster's node model), so
            // that a node launched for a pod can take it.
            for o in &mut pool.options {
                let t = &g.types[o.index];
                // The cluster's Spot price model (a row's own price, a
                // family's discount, the platform's).
                o.spot = o.spot.map(|_| cluster.price(t, true));
                let real = cluster.capacity(t);
                let a = &mut o.allocatable;
                *a = Resources {
                    cpu: a.cpu.min(real.cpu),
                    memory: a.memory.min(real.memory),
                    slots: a.slots.min(real.slots),
                };
            }
            let mut caps = vec![Resources::default(); g.types.len()];
            for o in &pool.options {
                caps[o.index] = o.capacity;
            }
            capacity.push(caps);
            // The labels every node of the pool will carry: its template's,
            // its name, its zone when it has one, and each well-known label
            // whose value is the same on every type and capacity type it
            // may launch (a nodeSelector on a label that varies would make
            // Karpenter narrow the launch: not modelled, such pods stay
            // pending).
            let mut l: BTreeMap<String, String> = g.labels.iter().cloned().collect();
            l.insert("karpenter.sh/nodepool".into(), p.name.clone());
            if let [z] = g.zones.as_slice() {
                l.insert(
                    "topology.kubernetes.io/zone".into(),
                    cluster.azs[*z].clone(),
                );
            }
            for key in super::requirements::KNOWN_KEYS {
                let mut values = pool.options.iter().flat_map(|o| {
                    let t = &g.types[o.index];
                    [
                        o.on_demand
                            .map(|_| super::requirements::label(t, CapacityType::OnDemand, key)),
                        o.spot
                            .map(|_| super::requirements::label(t, CapacityType::Spot, key)),
                    ]
                    .into_iter()
                    .flatten()
                });
                if let Some(Some(first)) = values.next()
                    && values.all(|v| v.as_deref() == Some(first.as_str()))
                {
                    l.insert(key.to_string(), first);
                }
            }
            labels.push(l);
            pools.push(pool);
        }
        Karpenter {
            cfg,
            pools,
            capacity,
            daemons,
            labels,
            batch: None,
            replacing: Vec::new(),
            validating: None,
            drained: Vec::new(),
            quiet: None,
            stats: KarpenterStats::default(),
        }
    }

    /// Whether a pod with this `nodeSelector` may go to every NodePool.
    pub fn fits_every_pool(&self, selector: &[(String, String)]) -> bool {
        self.labels
            .iter()
            .all(|l| selector.iter().all(|(k, v)| l.get(k) == Some(v)))
    }

    /// The configuration.
    pub fn config(&self) -> &KarpenterConfig {
        &self.cfg
    }

    /// Whether any NodePool consolidates.
    pub fn consolidates(&self) -> bool {
        self.cfg.pools.iter().any(|p| p.consolidation.is_some())
    }

    /// A pod went pending at `now`: the batch opens (returns when to look
    /// at it) or stays open one idle window longer.
    pub fn pod_pending(&mut self, now: SimTime) -> Option<SimTime> {
        match &mut self.batch {
            Some((_, last)) => {
                *last = now;
                None
            }
            None => {
                self.batch = Some((now, now));
                Some(now + self.cfg.batch_idle)
            }
        }
    }

    /// Whether the batch closes at `now`; if not, when to look again.
    pub fn batch_due(&self, now: SimTime) -> Result<(), SimTime> {
        let Some((opened, last)) = self.batch else {
            return Ok(());
        };
        let close = (last + self.cfg.batch_idle).min(opened + self.cfg.batch_max);
        if now >= close { Ok(()) } else { Err(close) }
    }

    /// The provisioning decision for the batch's pending `pods` (their
    /// requests, one pod slot each): nodes launching and not yet ready
    /// take what they can first. Closes the batch; returns the launches
    /// and the log rows.
    pub fn provision(
        &mut self,
        now: SimTime,
        cluster: &Cluster,
        batch: &[PendingPod<'_>],
    ) -> (Vec<Launch>, Vec<Decision>) {
        let opened = self.batch.take().map_or(now, |b| b.0);
        if batch.is_empty() {
            return (Vec::new(), Vec::new());
        }
        // Nodes launched and not yet registered, by id (Karpenter's
        // in-flight NodeClaims): their pool and room less the DaemonSets'.
        let in_flight: Vec<(usize, Resources)> = cluster
            .instances
            .iter()
            .filter(|i| i.alive() && i.registered.is_none() && !i.draining)
            .map(|i| {
                (
                    i.group,
                    cluster.nodes[i.id as usize].capacity.minus(self.daemons),
                )
            })
            .collect();
        for (p, pool) in self.pools.iter_mut().enumerate() {
            pool.remaining = self.cfg.pools[p].limits.map(|l| {
                cluster
                    .instances
                    .iter()
                    .filter(|i| i.alive() && i.group == p)
                    .fold(l, |r, i| r.minus(self.capacity[p][i.type_index()]))
            });
        }
        // A pod goes only to the NodePools whose nodes carry the labels its
        // nodeSelector asks for (Karpenter schedules against the pools'
        // labels and requirements; the other constraints are the
        // kube-scheduler's once the node is up).
        let mut masks: BTreeMap<&[(String, String)], Vec<bool>> = BTreeMap::new();
        for p in batch {
            masks.entry(p.selector).or_insert_with(|| {
                self.labels
                    .iter()
                    .map(|l| p.selector.iter().all(|(k, v)| l.get(k) == Some(v)))
                    .collect()
            });
        }
        let pods: Vec<Resources> = batch.iter().map(|p| p.request).collect();
        let mut existing: Vec<(Option<usize>, Resources)> =
            in_flight.iter().map(|(q, r)| (Some(*q), *r)).collect();
        let mut got = provision::provision_filtered(
            &pods,
            |p, q| masks[batch[p].selector][q],
            &mut existing,
            &mut self.pools,
        );
        // capsim's bound on a cluster's nodes: launches past it do not happen.
        let room = crate::cluster::MAX_NODES.saturating_sub(cluster.alive()) as usize;
        if got.launches.len() > room {
            for l in got.launches.drain(room..) {
                got.unschedulable.extend(l.pods);
            }
        }
        self.stats.batches += 1;
        let alive = cluster.alive();
        let mut rows = Vec::new();
        let waited = (now - opened) as f64 / SECOND as f64;
        let mut n = alive;
        for l in &got.launches {
            match l.capacity_type {
                CapacityType::Spot => self.stats.launched_spot += 1,
                CapacityType::OnDemand => self.stats.launched_on_demand += 1,
            }
            let pool = &self.cfg.pools[l.pool].name;
            let t = &cluster.cfg.groups[l.pool].types[l.index];
            rows.push(row(
                now,
                "provisioning",
                format!(
                    "{} pod(s) in the batch ({waited:.1} s), {} onto launching nodes",
                    batch.len(),
                    got.on_existing.len()
                ),
                alive,
                n,
                n + 1,
                "node_launch",
                format!(
                    "NodePool {pool}: {} {} at ${:.4}/h for {} pod(s), the cheapest of {} type(s) that fit them",
                    t.instance_type,
                    l.capacity_type.label(),
                    l.price,
                    l.pods.len(),
                    l.considered
                ),
            ));
            n += 1;
        }
        if !got.unschedulable.is_empty() {
            rows.push(row(
                now,
                "provisioning",
                format!("{} pod(s) in the batch", batch.len()),
                alive,
                n,
                n,
                "none",
                format!(
                    "{} pod(s) fit no type a NodePool allows (with the labels their nodeSelector asks for), or would exceed its limits (or capsim's {} nodes): they stay pending",
                    got.unschedulable.len(),
                    crate::cluster::MAX_NODES
                ),
            ));
        }
        (got.launches, rows)
    }

    /// A replacement node `id` was launched for `victims`.
    pub fn replacing(&mut self, id: u32, victims: Vec<u32>) {
        self.replacing.push((id, victims));
    }

    /// Node `id` registered: the nodes it replaces, if it is a replacement.
    pub fn replacement_ready(&mut self, id: u32) -> Vec<u32> {
        match self.replacing.iter().position(|(r, _)| *r == id) {
            Some(k) => self.replacing.swap_remove(k).1,
            None => Vec::new(),
        }
    }

    /// Node `id` went before it registered: a replacement's nodes are
    /// free to be considered again.
    /// Returns the nodes it was to replace (to reopen).
    pub fn node_gone(&mut self, id: u32) -> Vec<u32> {
        match self.replacing.iter().position(|(r, _)| *r == id) {
            Some(k) => self.replacing.swap_remove(k).1,
            None => Vec::new(),
        }
    }

    fn being_replaced(&self, id: u32) -> bool {
        self.replacing.iter().any(|(_, v)| v.contains(&id))
    }

    /// The consolidation decision over the cluster now, with the instance
    /// ids of its nodes. `removing`: nodes already draining; `pods`: the
    /// requests of the pods on an instance, and whether one of them says
    /// `karpenter.sh/do-not-disrupt` (its node is not a candidate).
    pub fn consolidation(
        &mut self,
        now: SimTime,
        cluster: &Cluster,
        removing: &[u32],
        pods: &dyn Fn(u32) -> (Vec<Resources>, bool),
    ) -> Option<Command> {
        if let Some(cmd) = &self.validating {
            // Validation re-checks the decision's own nodes only (as
            // Karpenter re-simulates its command's candidates): every other
            // node stays a destination but is not a candidate.
            let only = cmd.instances.clone();
            return self.consolidation_now(now, cluster, removing, pods, Some(&only));
        }
        if let Some((version, until)) = self.quiet
            && version == cluster.version
            && now < until
        {
            return None;
        }
        let cmd = self.consolidation_now(now, cluster, removing, pods, None);
        self.quiet = match &cmd {
            Some(_) => None,
            None => {
                // The next node to pass its consolidateAfter.
                let next = cluster
                    .instances
                    .iter()
                    .filter(|i| i.alive() && i.registered.is_some())
                    .filter_map(|i| {
                        let p = &self.cfg.pools[i.group];
                        p.consolidation?;
                        let at = i.changed.saturating_add(p.consolidate_after);
                        (at > now).then_some(at)
                    })
                    .min()
                    .unwrap_or(SimTime::MAX);
                // Scheduled budgets open and close with time alone: look
                // again at the next poll.
                let scheduled = self
                    .cfg
                    .pools
                    .iter()
                    .any(|p| p.budgets.iter().any(|b| b.window.is_some()));
                Some((cluster.version, if scheduled { now + 1 } else { next }))
            }
        };
        cmd
    }

    fn consolidation_now(
        &mut self,
        now: SimTime,
        cluster: &Cluster,
        removing: &[u32],
        pods: &dyn Fn(u32) -> (Vec<Resources>, bool),
        only: Option<&[u32]>,
    ) -> Option<Command> {
        let cfg = &self.cfg;
        let mut ids = Vec::new();
        let mut nodes = Vec::new();
        let np = cfg.pools.len();
        let (mut total, mut deleting, mut not_ready) = (vec![0; np], vec![0; np], vec![0; np]);
        for inst in cluster.instances.iter().filter(|i| i.alive()) {
            let p = inst.group;
            total[p] += 1;
            if inst.draining || removing.contains(&inst.id) || self.being_replaced(inst.id) {
                deleting[p] += 1;
                continue;
            }
            if inst.registered.is_none() {
                not_ready[p] += 1;
                continue;
            }
            let pool = &cfg.pools[p];
            let t = &cluster.cfg.groups[p].types[inst.type_index()];
            ids.push(inst.id);
            let (on_it, do_not_disrupt) = pods(inst.id);
            nodes.push(consolidate::Node {
                pool: p,
                capacity_type: if inst.spot {
                    CapacityType::Spot
                } else {
                    CapacityType::OnDemand
                },
                price: cluster.cfg.price(t, inst.spot),
                allocatable: cluster.nodes[inst.id as usize].capacity,
                pods: on_it,
                daemons: self.daemons,
                settled: pool.consolidation.is_some()
                    && now >= inst.changed.saturating_add(pool.consolidate_after),
                do_not_disrupt: do_not_disrupt || only.is_some_and(|o| !o.contains(&inst.id)),
            });
        }
        let allowed: Vec<u32> = (0..np)
            .map(|p| {
                let pool = &cfg.pools[p];
                if pool.consolidation.is_none() {
                    return 0;
                }
                consolidate::allowed_disruptions(
                    total[p],
                    &super::config::active_budgets(&pool.budgets, now),
                    deleting[p],
                    not_ready[p],
                )
            })
            .collect();
        let policies: Vec<Policy> = cfg
            .pools
            .iter()
            .map(|p| p.consolidation.unwrap_or(Policy::WhenEmpty))
            .collect();
        let action =
            consolidate::consolidate(&nodes, &self.pools, &policies, &allowed, cfg.spot_to_spot)?;
        let which = match &action {
            Action::Delete { nodes, .. } | Action::Replace { nodes, .. } => nodes,
        };
        let mut instances: Vec<u32> = which.iter().map(|&i| ids[i]).collect();
        instances.sort_unstable();
        let was = which.iter().map(|&i| nodes[i].price).sum();
        let mut budgets: Vec<(usize, u32, u32)> = which
            .iter()
            .map(|&i| {
                let p = nodes[i].pool;
                (p, total[p], allowed[p])
            })
            .collect();
        budgets.sort_unstable();
        budgets.dedup();
        Some(Command {
            action,
            instances,
            budgets,
            was,
        })
    }

    /// Checks the invariants the issue asks to hold at every instant:
    /// the nodes consolidation is disrupting (draining, or waiting for
    /// their replacement) within each NodePool's budgets of its nodes now,
    /// and no node holding more than it offers.
    pub fn audit(&mut self, now: SimTime, cluster: &Cluster) {
        self.drained
            .retain(|&id| cluster.instances[id as usize].alive());
        let np = self.cfg.pools.len();
        let mut total = vec![0u32; np];
        let mut disrupting = vec![0u32; np];
        for inst in cluster.instances.iter().filter(|i| i.alive()) {
            total[inst.group] += 1;
            if self.drained.contains(&inst.id) || self.being_replaced(inst.id) {
                disrupting[inst.group] += 1;
            }
            let n = &cluster.nodes[inst.id as usize];
            if inst.registered.is_some() && !n.used.fits_in(&n.capacity) {
                self.stats.audit.over_allocated += 1;
            }
        }
        for p in 0..np {
            let budget = consolidate::allowed_disruptions(
                total[p],
                &super::config::active_budgets(&self.cfg.pools[p].budgets, now),
                0,
                0,
            );
            if disrupting[p] > budget {
                self.stats.audit.over_budget += 1;
            }
        }
        self.stats.audit.audits += 1;
    }

    /// Consolidation drains node `id` (counted against its budgets until it
    /// is gone).
    pub fn drained_by_consolidation(&mut self, id: u32) {
        self.drained.push(id);
    }

    /// Starts validating `cmd` (nothing else is considered meanwhile).
    pub fn validate(&mut self, cmd: Command) {
        self.validating = Some(cmd);
    }

    /// Whether a decision is being validated.
    pub fn is_validating(&self) -> bool {
        self.validating.is_some()
    }

    /// The decision to carry out and `true` if `now`'s decision is the
    /// one under validation (same nodes, same kind, same replacement
    /// type); else the one under validation and `false`, counted abandoned.
    pub fn validated(&mut self, now: Option<Command>) -> (Command, bool) {
        let was = self.validating.take().expect("a decision under validation");
        let same = now.as_ref().is_some_and(|c| {
            c.instances == was.instances
                && match (&c.action, &was.action) {
                    (Action::Delete { .. }, Action::Delete { .. }) => true,
                    (Action::Replace { with: a, .. }, Action::Replace { with: b, .. }) => {
                        (a.pool, a.index, a.capacity_type) == (b.pool, b.index, b.capacity_type)
                    }
                    _ => false,
                }
        });
        if same {
            (now.expect("checked"), true)
        } else {
            self.stats.consolidation_abandoned += 1;
            (was, false)
        }
    }

    /// The log row of a consolidation decision carried out (or abandoned),
    /// and its counters.
    pub fn consolidation_row(
        &mut self,
        now: SimTime,
        cluster: &Cluster,
        cmd: &Command,
        carried_out: bool,
    ) -> Decision {
        let alive = cluster.alive();
        let names = |ids: &[u32]| -> String {
            ids.iter()
                .map(|&i| {
                    let inst = &cluster.instances[i as usize];
                    format!(
                        "node-{i} ({} {})",
                        inst.instance_type,
                        if inst.spot { "spot" } else { "on-demand" }
                    )
                })
                .collect::<Vec<_>>()
                .join(", ")
        };
        let k = cmd.instances.len() as u32;
        let (action, reason, new) = match (&cmd.action, carried_out) {
            (_, false) => (
                "none",
                format!(
                    "consolidation of {} abandoned: it no longer held {} s later",
                    names(&cmd.instances),
                    CONSOLIDATION_TTL / SECOND
                ),
                alive,
            ),
            (Action::Delete { reason, .. }, true) => {
                let why = match reason {
                    Reason::Empty => {
                        self.stats.consolidation_empty += u64::from(k);
                        "empty"
                    }
                    Reason::Underutilized => {
                        self.stats.consolidation_deleted += u64::from(k);
                        "under-utilized: their pods fit on the other nodes"
                    }
                };
                (
                    "consolidate_delete",
                    format!(
                        "delete {} ({why}), saving ${:.4}/h",
                        names(&cmd.instances),
                        cmd.was
                    ),
                    alive.saturating_sub(k),
                )
            }
            (Action::Replace { with, was, .. }, true) => {
                self.stats.consolidation_replaced += u64::from(k);
                if with.price >= *was {
                    self.stats.audit.dearer_replacements += 1;
                }
                let t = &cluster.cfg.groups[with.pool].types[with.index];
                (
                    "consolidate_replace",
                    format!(
                        "replace {} (${was:.4}/h) with one {} {} (${:.4}/h, the cheapest of {} type(s) that fit their pods)",
                        names(&cmd.instances),
                        t.instance_type,
                        with.capacity_type.label(),
                        with.price,
                        with.considered
                    ),
                    (alive + 1).saturating_sub(k),
                )
            }
        };
        let budgets = cmd
            .budgets
            .iter()
            .map(|&(p, total, allowed)| {
                format!(
                    "{}: {allowed} of {total} node(s) may be disrupted",
                    self.cfg.pools[p].name
                )
            })
            .collect::<Vec<_>>()
            .join("; ");
        row(
            now,
            "consolidation",
            format!("{k} node(s); budget {budgets}"),
            alive,
            alive,
            new,
            action,
            reason,
        )
    }
}

/// One log row of Karpenter's.
#[allow(clippy::too_many_arguments)]
pub fn row(
    now: SimTime,
    what: &'static str,
    datapoints: String,
    running: u32,
    old: u32,
    new: u32,
    action: &'static str,
    reason: String,
) -> Decision {
    Decision {
        time_s: now as f64 / SECOND as f64,
        clock: Text::Clock(now),
        policy: "karpenter".into(),
        alarm: what.into(),
        datapoints: datapoints.into(),
        alarm_state: "-".into(),
        running,
        old_desired: old,
        proposed: Some(new),
        new_desired: new,
        action: action.into(),
        reason: reason.into(),
    }
}
