//! `[platform] kind = "eks"`: Amazon EKS — pods on managed node groups
//! (the Cluster Autoscaler scales them) or on Fargate, the control-plane
//! fee, the nodes' allocatable and max pods, DaemonSets and CoreDNS,
//! kube-scheduler's scoring. Compiled into the same `Platform` the ECS
//! kinds produce: node groups become the cluster's Auto Scaling groups
//! (`cluster`, with Kubernetes nodes and the Cluster Autoscaler as node
//! scaler), Fargate pods are billed as Fargate tasks of their Fargate size.
//!
//! Facts (shared/reference/aws.md):
//! - control plane: $0.10 per cluster-hour with standard support, $0.60
//!   with extended support (§4.1);
//! - managed node groups are ON_DEMAND (instance types in priority order)
//!   or SPOT (capacity-optimized: capsim takes the cheapest type); the
//!   default group is eksctl's default, two m5.large nodes (eksctl
//!   documentation, `eksctl create cluster`), here allowed to grow to 10;
//! - DaemonSets on every node: aws-node (VPC CNI) requests 25m per
//!   container, two containers with the network-policy agent (50m), no
//!   memory (§4.4); kube-proxy 100m, no memory (§4.4, **unverified**);
//!   CoreDNS: 2 replicas (§4.4) of 100m / 70 MiB each (the CoreDNS add-on's
//!   requests — not in aws.md: an assumption of the manifest's values);
//! - node start: EC2 launch to node Ready, 45–65 s reported at scale (§3.3):
//!   default lognormal mean 60 s, p99 120 s — an assumption;
//! - EKS Fargate: one pod per Fargate node, sized by `k8s::fargate`, x86
//!   Linux only, no Spot (§1.6); the node is created and registered in
//!   30–45 s before the image pull (§1.5, a third-party report): default
//!   lognormal mean 40 s, p99 60 s — an assumption.

use super::{
    Arch, DEFAULT_SPOT_INTERRUPTIONS_PER_HOUR, Os, Platform, PlatformKind, PlatformSpec, Provider,
    ProviderShare, TaskFacts, ec2, fargate, positive_or,
};
use crate::cluster::{ClusterConfig, GroupConfig, MaxPods, NodeModel, NodeScaler};
use crate::error::ScenarioError;
use crate::k8s::cluster_autoscaler::{CaConfig, Expander};
use crate::placement::{Request, Resources, Strategy};
use crate::time::{Duration, SECOND};
use crate::workload::{Dist, DistSpec};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The EKS control plane, USD per cluster-hour (aws.md §4.1).
pub const STANDARD_SUPPORT_HOUR_USD: f64 = 0.10;
/// With extended support (aws.md §4.1).
pub const EXTENDED_SUPPORT_HOUR_USD: f64 = 0.60;

/// Where pods run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Compute {
    /// Managed node groups scaled by the Cluster Autoscaler.
    #[default]
    NodeGroups,
    /// One Fargate node per pod.
    Fargate,
    /// Karpenter's NodePools (`[[platform.node_pools]]`).
    Karpenter,
}

/// Kubernetes version support tier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Support {
    /// $0.10 per cluster-hour.
    #[default]
    Standard,
    /// $0.60 per cluster-hour.
    Extended,
}

/// kube-scheduler's `NodeResourcesFit` scoring strategy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scoring {
    /// Prefer the node with the most free (default).
    #[default]
    LeastAllocated,
    /// Prefer the fullest node (bin packing).
    MostAllocated,
}

/// A managed node group's capacity type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum CapacityType {
    /// On-demand instances.
    #[default]
    #[serde(rename = "ON_DEMAND")]
    OnDemand,
    /// Spot instances.
    #[serde(rename = "SPOT")]
    Spot,
}

fn default_types() -> Vec<String> {
    vec!["m5.large".into()]
}
fn default_ng_min() -> u32 {
    2
}
fn default_ng_max() -> u32 {
    10
}

/// `[[platform.node_groups]]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeGroupSpec {
    /// Name (`eks.amazonaws.com/nodegroup`).
    pub name: String,
    /// Instance types (on-demand: the first; Spot: the cheapest). Default `["m5.large"]`.
    #[serde(default = "default_types")]
    pub instance_types: Vec<String>,
    /// `ON_DEMAND` (default) or `SPOT`.
    #[serde(default)]
    pub capacity_type: CapacityType,
    /// Minimum size. Default 2.
    #[serde(default = "default_ng_min")]
    pub min_size: u32,
    /// Maximum size. Default 10.
    #[serde(default = "default_ng_max")]
    pub max_size: u32,
    /// Nodes at the start. Default `min_size`.
    #[serde(default)]
    pub desired_size: Option<u32>,
    /// Zones (names such as `us-east-1a`) of the group's subnets. Default: all.
    #[serde(default)]
    pub zones: Option<Vec<String>>,
    /// Node labels.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// Priority for the `priority` expander (higher wins; none: never chosen
    /// while another group has one).
    #[serde(default)]
    pub priority: Option<i32>,
}

/// The default node groups: eksctl's two m5.large.
pub fn default_node_groups() -> Vec<NodeGroupSpec> {
    vec![NodeGroupSpec {
        name: "default".into(),
        instance_types: default_types(),
        capacity_type: CapacityType::OnDemand,
        min_size: default_ng_min(),
        max_size: default_ng_max(),
        desired_size: None,
        zones: None,
        labels: BTreeMap::new(),
        priority: None,
    }]
}

/// Default CoreDNS replicas (aws.md §4.4).
pub fn default_coredns() -> u32 {
    2
}

/// A user DaemonSet: one pod on every node.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DaemonSetSpec {
    /// Name.
    pub name: String,
    /// CPU request (millicores).
    #[serde(default)]
    pub cpu_millicores: u32,
    /// Memory request (MiB).
    #[serde(default)]
    pub memory_mib: u32,
}

fn d(s: u64) -> Duration {
    Duration::from_secs(s)
}
fn default_scan() -> Duration {
    d(10)
}
fn default_threshold() -> f64 {
    0.5
}
fn default_ten_min() -> Duration {
    d(600)
}
fn default_bulk() -> u32 {
    10
}
fn default_provision() -> Duration {
    d(900)
}
fn yes() -> bool {
    true
}

/// `[platform.cluster_autoscaler]`: the Cluster Autoscaler's flags
/// (kubernetes/autoscaler FAQ; aws.md §5.2, §9.5).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaSpec {
    /// Run the Cluster Autoscaler. Default true (false: node groups keep their size).
    #[serde(default = "yes")]
    pub enabled: bool,
    /// `--scan-interval`. Default 10 s.
    #[serde(default = "default_scan")]
    pub scan_interval: Duration,
    /// `--expander`: `least-waste` (default since CA 1.33), `random`, `most-pods`, `priority`.
    #[serde(default = "default_expander")]
    pub expander: Expander,
    /// `--scale-down-enabled`. Default true.
    #[serde(default = "yes")]
    pub scale_down_enabled: bool,
    /// `--scale-down-utilization-threshold`. Default 0.5.
    #[serde(default = "default_threshold")]
    pub scale_down_utilization_threshold: f64,
    /// `--scale-down-unneeded-time`. Default 10 min.
    #[serde(default = "default_ten_min")]
    pub scale_down_unneeded_time: Duration,
    /// `--scale-down-delay-after-add`. Default 10 min.
    #[serde(default = "default_ten_min")]
    pub scale_down_delay_after_add: Duration,
    /// `--max-empty-bulk-delete`. Default 10.
    #[serde(default = "default_bulk")]
    pub max_empty_bulk_delete: u32,
    /// `--max-node-provision-time`. Default 15 min.
    #[serde(default = "default_provision")]
    pub max_node_provision_time: Duration,
    /// `--skip-nodes-with-system-pods`: kube-system pods without a
    /// PodDisruptionBudget block their node's removal. Default true.
    #[serde(default = "yes")]
    pub skip_nodes_with_system_pods: bool,
    /// CoreDNS has a PodDisruptionBudget (maxUnavailable 1), as the EKS
    /// add-on ships it (v1.9.3-eksbuild.6 and v1.10.1-eksbuild.3 on): a
    /// node holding one CoreDNS pod may be scaled down, one such node at a
    /// time. `false`: CoreDNS blocks its node (with the flag above).
    /// Default true.
    #[serde(default = "yes")]
    pub coredns_pdb: bool,
    /// `--max-graceful-termination-sec`. Default 600 s.
    #[serde(default = "default_ten_min")]
    pub max_graceful_termination: Duration,
}

fn default_expander() -> Expander {
    Expander::LeastWaste
}

impl Default for CaSpec {
    fn default() -> Self {
        toml::from_str("").expect("every field has a default")
    }
}

/// What the EKS platform adds to a compiled [`Platform`].
#[derive(Debug, Clone, PartialEq)]
pub struct EksFacts {
    /// Node groups or Fargate.
    pub compute: Compute,
    /// Support tier.
    pub support: Support,
    /// The cluster's control-plane fee (USD per hour).
    pub fee_hour: f64,
    /// kube-scheduler's scoring strategy (with a random last tie-break).
    pub scoring: Vec<Strategy>,
    /// The pod's requests (millicores, MiB, one pod slot).
    pub request: Resources,
    /// CPU the pod may use (CPU units): its limit, else its request on a
    /// node, its Fargate size on Fargate.
    pub cpu_capacity_units: u32,
    /// Memory above which the pod is OOM-killed (MiB), if any.
    pub memory_limit_mib: Option<u32>,
    /// Fargate: the size the pod runs on (CPU units, MiB).
    pub fargate_size: Option<(u32, u32)>,
}

/// Millicores of `units` CPU units, rounded up (1024 units = 1000m).
pub fn units_to_millicores(units: u32) -> u32 {
    ((units as u64 * 1000).div_ceil(1024)) as u32
}

pub(super) fn compile(
    spec: &PlatformSpec,
    task: &TaskFacts,
    region: &str,
) -> Result<Platform, ScenarioError> {
    let PlatformSpec::Eks {
        compute,
        support,
        node_groups,
        instance_catalog,
        availability_zones,
        max_pods,
        prefix_delegation,
        memory_capacity_fraction,
        system_daemonsets,
        daemonsets,
        coredns_replicas,
        scheduler_scoring,
        cluster_autoscaler,
        node_pools,
        karpenter,
        node_boot_s,
        spot_discount,
        spot_discount_by_family,
        spot_interruptions_per_hour,
        provisioning_s,
        image_mb,
        pull_mbps,
        pull_s,
        container_start_s,
        app_start_s,
    } = spec
    else {
        unreachable!("called for its own kind only")
    };
    let key = |k: &str| format!("platform.{k}");
    let arch = task.arch.unwrap_or_default();
    if task.os == Some(Os::Windows) {
        return Err(ScenarioError::invalid(
            "task.definition",
            "Windows pods on EKS are not modelled (Linux only)",
        ));
    }
    super::check_image(*image_mb, *pull_mbps)?;
    let request = Resources {
        cpu: units_to_millicores(task.cpu_units),
        memory: task.memory_mib,
        slots: 1,
    };
    if let Some(l) = task.cpu_limit_units
        && l < task.cpu_units
    {
        return Err(ScenarioError::invalid(
            "task.cpu_limit",
            format!(
                "a limit ({l} CPU units) below the request ({}) is refused by Kubernetes",
                task.cpu_units
            ),
        ));
    }
    if let Some(l) = task.memory_limit_mib
        && l < task.memory_mib
    {
        return Err(ScenarioError::invalid(
            "task.memory_limit",
            format!(
                "a limit ({l} MiB) below the request ({} MiB) is refused by Kubernetes",
                task.memory_mib
            ),
        ));
    }
    let pull = match pull_s {
        Some(p) => p.compile(&key("pull_s"))?,
        None => Dist::Constant(image_mb / pull_mbps),
    };
    let app = app_start_s
        .clone()
        .unwrap_or(DistSpec::Constant { value: 5.0 })
        .compile(&key("app_start_s"))?;
    let fee_hour = match support {
        Support::Standard => STANDARD_SUPPORT_HOUR_USD,
        Support::Extended => EXTENDED_SUPPORT_HOUR_USD,
    };
    let scoring = vec![
        match scheduler_scoring {
            Scoring::LeastAllocated => Strategy::LeastAllocated,
            Scoring::MostAllocated => Strategy::MostAllocated,
        },
        Strategy::Random,
    ];
    let fargate_strategy = vec![ProviderShare {
        provider: Provider::Fargate,
        base: 0,
        weight: 1,
    }];
    if *compute == Compute::Fargate {
        if arch != Arch::X86_64 {
            return Err(ScenarioError::invalid(
                "task.definition",
                "EKS Fargate runs x86_64 Linux pods only (aws.md §1.6)",
            ));
        }
        let (cpu, mem) = crate::k8s::fargate::pod_size(Some(request.cpu), Some(request.memory))
            .map_err(|m| ScenarioError::invalid("task.cpu", m))?;
        let prices = fargate::task_prices(
            region,
            Os::Linux,
            Arch::X86_64,
            (cpu, mem, task.ephemeral_gb.min(20.0)),
            &fargate::Overrides::default(),
            false,
        )?;
        let provisioning = provisioning_s
            .clone()
            .unwrap_or(DistSpec::Lognormal {
                mean: 40.0,
                p99: 60.0,
            })
            .compile(&key("provisioning_s"))?;
        return Ok(Platform {
            kind: PlatformKind::Fargate,
            arch,
            os: Os::Linux,
            strategy: fargate_strategy,
            spot_interruptions_per_hour: 0.0,
            provisioning_s: Some(provisioning),
            pull_s: Some(pull),
            app_start_s: Some(app),
            prices: Some(prices),
            ec2: None,
            eks: Some(EksFacts {
                compute: *compute,
                support: *support,
                fee_hour,
                scoring,
                request,
                cpu_capacity_units: task.cpu_limit_units.unwrap_or(cpu).min(cpu),
                // The containers may use the size less the 256 MB AWS adds
                // for the Kubernetes components.
                memory_limit_mib: Some(
                    task.memory_limit_mib
                        .unwrap_or(u32::MAX)
                        .min(mem - crate::k8s::fargate::K8S_OVERHEAD_MIB),
                ),
                fargate_size: Some((cpu, mem)),
            }),
        });
    }
    // Managed node groups.
    let catalog = ec2::catalog_for(instance_catalog, &task.base_dir, region)?;
    if !(1..=6).contains(availability_zones) {
        return Err(ScenarioError::invalid(
            key("availability_zones"),
            format!("expected 1 to 6, got {availability_zones}"),
        ));
    }
    if !(memory_capacity_fraction.is_finite() && (0.5..=1.0).contains(memory_capacity_fraction)) {
        return Err(ScenarioError::invalid(
            key("memory_capacity_fraction"),
            format!("expected 0.5 to 1, got {memory_capacity_fraction}"),
        ));
    }
    if !(spot_discount.is_finite() && (0.0..1.0).contains(spot_discount)) {
        return Err(ScenarioError::invalid(
            key("spot_discount"),
            format!("expected a share in [0, 1), got {spot_discount}"),
        ));
    }
    for (family, d) in spot_discount_by_family {
        if !(d.is_finite() && (0.0..1.0).contains(d)) {
            return Err(ScenarioError::invalid(
                key(&format!("spot_discount_by_family.{family}")),
                format!("expected a share in [0, 1), got {d}"),
            ));
        }
        if !catalog.types().any(|t| &t.family == family) {
            return Err(ScenarioError::invalid(
                key(&format!("spot_discount_by_family.{family}")),
                format!("no instance family \"{family}\" in the catalog"),
            ));
        }
    }
    if let Some(m) = max_pods
        && !(1..=737).contains(m)
    {
        return Err(ScenarioError::invalid(
            key("max_pods"),
            format!("expected 1 to 737 (the most the VPC CNI allows on any type), got {m}"),
        ));
    }
    let azs: Vec<String> = (0..*availability_zones)
        .map(|i| format!("{region}{}", (b'a' + i as u8) as char))
        .collect();
    if node_groups.is_empty() && *compute == Compute::NodeGroups {
        return Err(ScenarioError::invalid(
            key("node_groups"),
            "needs at least one node group (or compute = \"fargate\")",
        ));
    }
    // Amazon EKS quotas: 30 managed node groups per cluster; capsim holds
    // the cluster to 5,000 nodes in all (as an ECS cluster's instances).
    let nodes: u64 = node_groups.iter().map(|g| u64::from(g.max_size)).sum();
    if node_groups.len() > 30 || nodes > 5_000 {
        return Err(ScenarioError::invalid(
            key("node_groups"),
            format!(
                "expected at most 30 node groups (the EKS quota) of at most 5000 nodes in all, got {} groups of {nodes}",
                node_groups.len()
            ),
        ));
    }
    if *coredns_replicas > 100 {
        return Err(ScenarioError::invalid(
            key("coredns_replicas"),
            format!("expected 0 to 100 (capsim's bound), got {coredns_replicas}"),
        ));
    }
    for (i, d) in daemonsets.iter().enumerate() {
        if u64::from(d.cpu_millicores) > 192_000
            || u64::from(d.memory_mib) > crate::platform::taskdef::MAX_MEMORY_MIB
        {
            return Err(ScenarioError::invalid(
                format!("platform.daemonsets[{i}]"),
                "expected cpu_millicores ≤ 192000 and memory_mib ≤ 25165824 (the largest node)",
            ));
        }
    }
    let mut groups = Vec::new();
    let mut priorities = Vec::new();
    // Karpenter's nodes come from its NodePools, not node groups.
    let node_groups: &[NodeGroupSpec] = if *compute == Compute::Karpenter {
        &[]
    } else {
        node_groups
    };
    for (i, g) in node_groups.iter().enumerate() {
        let gk = |k: &str| format!("platform.node_groups.{k}");
        if g.name.trim().is_empty() || node_groups[..i].iter().any(|o| o.name == g.name) {
            return Err(ScenarioError::invalid(
                gk("name"),
                format!(
                    "node group names must be unique and not empty, got \"{}\"",
                    g.name
                ),
            ));
        }
        let types = ec2::lookup(&catalog, &g.instance_types, arch, &gk("instance_types"))?;
        if *prefix_delegation && max_pods.is_none() {
            ec2::require_enis(&types, &gk("instance_types"), "prefix delegation")?;
        }
        if g.min_size > g.max_size || g.max_size > 1_000 {
            return Err(ScenarioError::invalid(
                gk("min_size"),
                format!(
                    "node group {}: expected min_size ({}) ≤ max_size ({}) ≤ 1000",
                    g.name, g.min_size, g.max_size
                ),
            ));
        }
        let initial = g.desired_size.unwrap_or(g.min_size);
        if initial < g.min_size || initial > g.max_size {
            return Err(ScenarioError::invalid(
                gk("desired_size"),
                format!(
                    "node group {}: must lie between min_size {} and max_size {}",
                    g.name, g.min_size, g.max_size
                ),
            ));
        }
        let zones = match &g.zones {
            None => (0..azs.len()).collect(),
            Some(names) => {
                let mut z = Vec::new();
                for n in names {
                    let Some(i) = azs.iter().position(|a| a == n) else {
                        return Err(ScenarioError::invalid(
                            gk("zones"),
                            format!(
                                "node group {}: zone {n} is not one of the cluster's ({})",
                                g.name,
                                azs.join(", ")
                            ),
                        ));
                    };
                    z.push(i);
                }
                if z.is_empty() {
                    return Err(ScenarioError::invalid(
                        gk("zones"),
                        "needs at least one zone",
                    ));
                }
                z
            }
        };
        priorities.push(g.priority);
        groups.push(GroupConfig {
            name: g.name.clone(),
            types,
            min_size: g.min_size,
            max_size: g.max_size,
            initial,
            od_base: 0,
            od_pct: if g.capacity_type == CapacityType::Spot {
                0
            } else {
                100
            },
            zones,
            labels: g
                .labels
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        });
    }
    let mut daemons = Vec::new();
    if *system_daemonsets {
        daemons.push((
            "aws-node".to_string(),
            Resources {
                cpu: 50,
                memory: 0,
                slots: 1,
            },
        ));
        daemons.push((
            "kube-proxy".to_string(),
            Resources {
                cpu: 100,
                memory: 0,
                slots: 1,
            },
        ));
    }
    for ds in daemonsets {
        daemons.push((
            ds.name.clone(),
            Resources {
                cpu: ds.cpu_millicores,
                memory: ds.memory_mib,
                slots: 1,
            },
        ));
    }
    let ca = cluster_autoscaler;
    if !(ca.scale_down_utilization_threshold.is_finite()
        && (0.0..=1.0).contains(&ca.scale_down_utilization_threshold))
    {
        return Err(ScenarioError::invalid(
            key("cluster_autoscaler.scale_down_utilization_threshold"),
            "expected a share in [0, 1]",
        ));
    }
    if ca.scan_interval.0 < SECOND {
        return Err(ScenarioError::invalid(
            key("cluster_autoscaler.scan_interval"),
            "expected at least 1 s",
        ));
    }
    if ca.expander == Expander::Priority
        && *compute == Compute::NodeGroups
        && priorities.iter().all(Option::is_none)
    {
        return Err(ScenarioError::invalid(
            key("cluster_autoscaler.expander"),
            "the priority expander needs a `priority` on at least one node group",
        ));
    }
    let scaler = if *compute == Compute::Karpenter {
        let (g, k) = super::karpenter::compile_pools(
            node_pools.as_deref(),
            &task.node_pools,
            karpenter,
            &catalog,
            arch,
            &azs,
            *prefix_delegation && max_pods.is_none(),
        )?;
        groups = g;
        NodeScaler::Karpenter(k)
    } else if ca.enabled {
        NodeScaler::ClusterAutoscaler(CaConfig {
            scan_interval: ca.scan_interval.0,
            expander: ca.expander,
            priorities,
            utilization_threshold: ca.scale_down_utilization_threshold,
            unneeded_time: ca.scale_down_unneeded_time.0,
            delay_after_add: ca.scale_down_delay_after_add.0,
            max_empty_bulk_delete: ca.max_empty_bulk_delete.max(1),
            max_node_provision_time: ca.max_node_provision_time.0,
            skip_nodes_with_system_pods: ca.skip_nodes_with_system_pods,
            system_pdb: ca.coredns_pdb,
            max_graceful_termination: ca.max_graceful_termination.0,
            scale_down: ca.scale_down_enabled,
        })
    } else {
        NodeScaler::Fixed
    };
    let rate = positive_or(
        &key("spot_interruptions_per_hour"),
        *spot_interruptions_per_hour,
    )?;
    let cluster = ClusterConfig {
        groups,
        azs,
        spot_discount: *spot_discount,
        spot_discounts: spot_discount_by_family.clone(),
        spot_rate: rate.unwrap_or(DEFAULT_SPOT_INTERRUPTIONS_PER_HOUR),
        // Managed node groups cordon and drain a node at its Spot
        // interruption notice (EKS managed node groups, Spot capacity).
        spot_draining: *compute != Compute::Karpenter || karpenter.interruption_handling,
        boot_s: node_boot_s
            .clone()
            .unwrap_or(DistSpec::Lognormal {
                mean: 60.0,
                p99: 120.0,
            })
            .compile(&key("node_boot_s"))?,
        scaler,
        daemons,
        model: NodeModel::Kubernetes {
            max_pods: match (max_pods, prefix_delegation) {
                (Some(m), _) => MaxPods::Fixed(*m),
                (None, true) => MaxPods::PrefixDelegation,
                (None, false) => MaxPods::Standard,
            },
            memory_fraction: *memory_capacity_fraction,
        },
        task_start_s: container_start_s
            .clone()
            .unwrap_or(DistSpec::Constant { value: 3.0 })
            .compile(&key("container_start_s"))?,
        system: (*coredns_replicas > 0).then_some((
            *coredns_replicas,
            Resources {
                cpu: 100,
                memory: 70,
                slots: 1,
            },
        )),
    };
    // The pod must fit an empty node of some group beside the DaemonSets.
    let fits_somewhere = cluster.groups.iter().any(|g| {
        g.types.iter().any(|t| {
            let cap = cluster.capacity(t);
            let ds = cluster
                .daemons
                .iter()
                .fold(Resources::default(), |a, (_, r)| Resources {
                    cpu: a.cpu.saturating_add(r.cpu),
                    memory: a.memory.saturating_add(r.memory),
                    slots: a.slots.saturating_add(r.slots),
                });
            request.cpu.saturating_add(ds.cpu) <= cap.cpu
                && request.memory.saturating_add(ds.memory) <= cap.memory
                && ds.slots < cap.slots
        })
    });
    if !fits_somewhere {
        return Err(ScenarioError::invalid(
            "task.cpu",
            format!(
                "a pod requesting {}m CPU / {} MiB fits no node group's instance types beside the DaemonSets",
                request.cpu, request.memory
            ),
        ));
    }
    Ok(Platform {
        kind: PlatformKind::Ec2,
        arch,
        os: Os::Linux,
        strategy: fargate_strategy,
        spot_interruptions_per_hour: 0.0,
        provisioning_s: None,
        pull_s: Some(pull),
        app_start_s: Some(app),
        prices: None,
        ec2: Some(crate::cluster::Ec2Setup {
            cluster,
            task: Request {
                resources: request,
                ports: Vec::new(),
                group: 0,
            },
        }),
        eks: Some(EksFacts {
            compute: *compute,
            support: *support,
            fee_hour,
            scoring,
            request,
            cpu_capacity_units: task.cpu_limit_units.unwrap_or(task.cpu_units),
            memory_limit_mib: task.memory_limit_mib,
            fargate_size: None,
        }),
    })
}
