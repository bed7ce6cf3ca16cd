//! The Kubernetes Cluster Autoscaler on EKS managed node groups.

use crate::time::{MINUTE, SECOND, SimTime};

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
    pub priorities: Vec<i32>,
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
    /// `--skip-nodes-with-system-pods` (true).
    pub skip_nodes_with_system_pods: bool,
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
            max_graceful_termination: 600 * SECOND,
            scale_down: true,
        }
    }
}
