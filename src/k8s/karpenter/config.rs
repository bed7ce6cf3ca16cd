//! Karpenter's configuration as a run uses it — the compiled NodePools
//! and the controller's settings — and the timings it runs on
//! (kubernetes-sigs/karpenter v1.14; aws.md §5.3, §9.5). Apart from the
//! controller so that the cluster's configuration can hold it without
//! depending on the controller.

use super::consolidate::{Budget, Policy};
use super::requirements::Requirement;
use crate::placement::Resources;
use crate::time::{SECOND, SimTime};

/// `BATCH_IDLE_DURATION`'s default.
pub const BATCH_IDLE: SimTime = SECOND;
/// `BATCH_MAX_DURATION`'s default.
pub const BATCH_MAX: SimTime = 10 * SECOND;
/// The disruption controller's polling period.
pub const DISRUPTION_POLL: SimTime = 10 * SECOND;
/// How long a consolidation decision must hold before it is carried out.
pub const CONSOLIDATION_TTL: SimTime = 15 * SECOND;

/// One NodePool, compiled.
#[derive(Debug, Clone, PartialEq)]
pub struct NodePoolConfig {
    /// `metadata.name`.
    pub name: String,
    /// `spec.weight`.
    pub weight: i32,
    /// `spec.template.spec.requirements`.
    pub requirements: Vec<Requirement>,
    /// `spec.limits` (millicores, MiB of capacity), if any.
    pub limits: Option<Resources>,
    /// `spec.disruption.consolidationPolicy` (`None`: consolidation off,
    /// `consolidateAfter: Never`).
    pub consolidation: Option<Policy>,
    /// `spec.disruption.consolidateAfter`.
    pub consolidate_after: SimTime,
    /// `spec.disruption.budgets`.
    pub budgets: Vec<Budget>,
    /// `spec.template.spec.expireAfter` (`None`: `Never`).
    pub expire_after: Option<SimTime>,
    /// `spec.template.spec.terminationGracePeriod` (`None`: a draining node
    /// waits for its pods, however long).
    pub termination_grace: Option<SimTime>,
}

/// Karpenter's configuration: its NodePools (the cluster's groups, in the
/// same order) and settings.
#[derive(Debug, Clone, PartialEq)]
pub struct KarpenterConfig {
    /// The NodePools.
    pub pools: Vec<NodePoolConfig>,
    /// `BATCH_IDLE_DURATION`.
    pub batch_idle: SimTime,
    /// `BATCH_MAX_DURATION`.
    pub batch_max: SimTime,
    /// The `SpotToSpotConsolidation` feature gate.
    pub spot_to_spot: bool,
}
