//! What a cluster is made of: its groups (one ECS Auto Scaling group, or
//! EKS managed node groups), its zones, Spot settings, daemons or
//! DaemonSets, what a node registers (the node model) and what scales it
//! (the node scaler).

use super::Managed;
use crate::placement::{Request, Resources};
use crate::platform::ec2::InstanceType;
use crate::workload::Dist;

/// What grows and shrinks the cluster's node groups.
#[derive(Debug, Clone, PartialEq)]
pub enum NodeScaler {
    /// Nothing: the groups keep their size (Spot reclaims are replaced).
    Fixed,
    /// ECS capacity-provider managed scaling of the one Auto Scaling group.
    EcsManaged(Managed),
    /// The Kubernetes Cluster Autoscaler over managed node groups
    /// (`crate::k8s::cluster_autoscaler`).
    ClusterAutoscaler(crate::k8s::cluster_autoscaler::CaConfig),
    /// Karpenter over NodePools (one group per NodePool, its types those
    /// its requirements allow; `crate::k8s::karpenter::controller`).
    Karpenter(crate::k8s::karpenter::config::KarpenterConfig),
}

/// How many pods a Kubernetes node may hold (the kubelet's `maxPods`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MaxPods {
    /// VPC CNI secondary-IP mode: ENIs × (IPv4 per ENI − 1) + 2 (aws.md §4.2).
    Standard,
    /// VPC CNI prefix delegation, capped at 110 or 250 (aws.md §4.2).
    PrefixDelegation,
    /// A fixed value (`--max-pods`).
    Fixed(u32),
}

/// What a node registers: ECS container instance or Kubernetes node.
#[derive(Debug, Clone, PartialEq)]
pub enum NodeModel {
    /// An ECS container instance: CPU units (1024 per vCPU), the memory the
    /// agent registers, one ENI per awsvpc task.
    Ecs {
        /// ENI trunking.
        trunking: bool,
        /// `ECS_RESERVED_MEMORY` (MiB).
        reserved_memory: u32,
        /// Registered share of the instance memory.
        registered_fraction: f64,
    },
    /// A Kubernetes node on the EKS-optimized AMI: millicores, allocatable
    /// after kube-reserved and the eviction threshold, max pods as slots.
    Kubernetes {
        /// Max pods.
        max_pods: MaxPods,
        /// Share of the nominal memory the kubelet sees as capacity.
        memory_fraction: f64,
    },
}

/// One Auto Scaling group (an ECS capacity provider's, or an EKS managed
/// node group).
#[derive(Debug, Clone, PartialEq)]
pub struct GroupConfig {
    /// Name (`eks.amazonaws.com/nodegroup`).
    pub name: String,
    /// Instance types, in priority order.
    pub types: Vec<InstanceType>,
    /// Minimum size.
    pub min_size: u32,
    /// Maximum size.
    pub max_size: u32,
    /// Instances at the start.
    pub initial: u32,
    /// On-demand base.
    pub od_base: u32,
    /// On-demand % above base (100: no Spot; 0: all Spot).
    pub od_pct: u32,
    /// Zones it spreads over (indexes into the cluster's zones).
    pub zones: Vec<usize>,
    /// Node labels (Kubernetes).
    pub labels: Vec<(String, String)>,
}

/// A cluster's configuration.
#[derive(Debug, Clone)]
pub struct ClusterConfig {
    /// The Auto Scaling groups (ECS: one).
    pub groups: Vec<GroupConfig>,
    /// Availability zone names.
    pub azs: Vec<String>,
    /// Spot discount off on-demand.
    pub spot_discount: f64,
    /// Spot discounts of particular families (`c6a`), over `spot_discount`.
    pub spot_discounts: std::collections::BTreeMap<String, f64>,
    /// Spot interruptions per instance-hour.
    pub spot_rate: f64,
    /// Drain tasks at a Spot warning.
    pub spot_draining: bool,
    /// Launch to registered (s).
    pub boot_s: Dist,
    /// What scales the groups.
    pub scaler: NodeScaler,
    /// Daemon tasks or DaemonSet pods (name, resources), one per instance.
    pub daemons: Vec<(String, Resources)>,
    /// What a node registers.
    pub model: NodeModel,
    /// Placed task to containers started (s).
    pub task_start_s: Dist,
    /// Kubernetes system pods placed like replicas (CoreDNS): how many,
    /// and what each requests.
    pub system: Option<(u32, Resources)>,
}

impl ClusterConfig {
    /// What a node of type `t` offers: on ECS what the agent registers
    /// (CPU units, memory, awsvpc ENIs), on Kubernetes the allocatable
    /// (millicores, MiB, max pods).
    pub fn capacity(&self, t: &InstanceType) -> Resources {
        match &self.model {
            NodeModel::Ecs {
                trunking,
                reserved_memory,
                registered_fraction,
            } => {
                let memory = ((t.memory_mib as f64 * registered_fraction).floor() as u32)
                    .saturating_sub(*reserved_memory);
                // Only awsvpc tasks ask for an ENI (bridge and host tasks ask for
                // none), so the limit holds whatever the tasks' network modes.
                // A type without ENI data holds no awsvpc task (a scenario
                // of awsvpc tasks is refused such types when it compiles).
                let slots = if *trunking {
                    t.awsvpc_tasks_trunking.or(t.awsvpc_tasks)
                } else {
                    t.awsvpc_tasks
                }
                .unwrap_or(0);
                Resources {
                    cpu: t.vcpu * 1024,
                    memory,
                    slots,
                }
            }
            NodeModel::Kubernetes {
                max_pods,
                memory_fraction,
            } => {
                let pods = self.max_pods(t, *max_pods);
                let memory = (t.memory_mib as f64 * memory_fraction).floor() as u32;
                crate::k8s::node::allocatable(t.vcpu, memory, pods)
            }
        }
    }

    fn max_pods(&self, t: &InstanceType, m: MaxPods) -> u32 {
        match (m, t.max_enis, t.ipv4_per_eni) {
            (MaxPods::Standard, Some(e), Some(i)) => crate::k8s::node::max_pods_standard(e, i),
            // The VPC CNI's published table (the same formula on AWS's ENI data).
            (MaxPods::Standard, _, _) => t.eks_max_pods,
            (MaxPods::PrefixDelegation, Some(e), Some(i)) => {
                crate::k8s::node::max_pods_prefix_delegation(e, i, t.vcpu)
            }
            // Refused when the scenario compiles (`MaxPods::needs_enis`).
            (MaxPods::PrefixDelegation, _, _) => t.eks_max_pods,
            (MaxPods::Fixed(n), _, _) => n,
        }
    }

    /// Price per hour of type `t` (Spot: discounted).
    pub fn price(&self, t: &InstanceType, spot: bool) -> f64 {
        if spot {
            // A catalog row's own Spot price, else its family's discount,
            // else the platform's. Spot capacity pools (and so prices that
            // move with them) are not modelled.
            t.spot_usd_per_hour.unwrap_or_else(|| {
                let d = self
                    .spot_discounts
                    .get(&t.family)
                    .copied()
                    .unwrap_or(self.spot_discount);
                t.od_usd_per_hour * (1.0 - d)
            })
        } else {
            t.od_usd_per_hour
        }
    }

    /// ECS managed scaling, if that is what scales the cluster.
    pub fn managed(&self) -> Option<&Managed> {
        match &self.scaler {
            NodeScaler::EcsManaged(m) => Some(m),
            _ => None,
        }
    }

    /// Whether the cluster runs Kubernetes nodes.
    pub fn kubernetes(&self) -> bool {
        matches!(self.model, NodeModel::Kubernetes { .. })
    }

    /// Every instance type of every group, in group order.
    pub fn types(&self) -> impl Iterator<Item = &InstanceType> {
        self.groups.iter().flat_map(|g| g.types.iter())
    }
}

/// The cluster and what one task of the service asks of an instance.
#[derive(Debug, Clone)]
pub struct Ec2Setup {
    /// The cluster.
    pub cluster: ClusterConfig,
    /// A task's request (group 0).
    pub task: Request,
}
