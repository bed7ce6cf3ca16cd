//! Platforms tasks run on, and their rules: valid sizes, how long a task takes
//! to start, where it is placed (on-demand or Spot), what it costs.
//! Scenario section `[platform]`.
//!
//! - `ideal`: tasks exist from t = 0, start instantly, cost nothing; any
//!   size is allowed — the textbook case the queueing formulas describe.
//! - `fargate`: ECS on AWS Fargate — the 74 valid sizes, PROVISIONING →
//!   PENDING (image pull) → RUNNING, per-second billing of the requested vCPU
//!   and memory with a one-minute minimum, Fargate Spot with interruptions.
//!
//! Every default below names its source (mostly `shared/reference/aws.md`);
//! where the reference has no value the default is an assumption, said so
//! here and in the README, and a scenario field.

pub mod ec2;
mod ecs_ec2;
pub mod eks;
pub mod fargate;
pub mod karpenter;
pub mod taskdef;

use crate::error::ScenarioError;
use crate::pricing::{self, FargateRate};
use crate::time::Duration;
use crate::workload::{Dist, DistSpec};
use serde::{Deserialize, Serialize};

/// CPU architecture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Arch {
    /// x86-64.
    #[default]
    X86_64,
    /// ARM64 (Graviton).
    Arm64,
}

/// Operating system family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Os {
    /// Linux.
    #[default]
    Linux,
    /// Windows Server.
    Windows,
}

/// A capacity provider of a Fargate service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Provider {
    /// On-demand Fargate.
    #[serde(rename = "FARGATE")]
    Fargate,
    /// Fargate Spot.
    #[serde(rename = "FARGATE_SPOT")]
    FargateSpot,
    /// EC2 container instances (the ASG capacity provider), not for Fargate strategies.
    #[serde(rename = "EC2")]
    Ec2,
}

/// One entry of a capacity provider strategy (as in the ECS API).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderShare {
    /// The provider.
    pub provider: Provider,
    /// Tasks placed on this provider before weights apply. Default 0.
    #[serde(default)]
    pub base: u32,
    /// Relative share of the tasks beyond the bases. Default 1 (as when the
    /// ECS console adds a provider; the API default is 0).
    #[serde(default = "one")]
    pub weight: u32,
}

fn one() -> u32 {
    1
}

fn default_image_mb() -> f64 {
    250.0
}

fn default_pull_mbps() -> f64 {
    10.0
}

/// Spot interruptions per task-hour when the scenario gives none: AWS does
/// not publish a Fargate Spot interruption rate. The default is the upper
/// bound of the EC2 Spot Advisor's lowest band ("<5 %" of capacity
/// reclaimed per month, aws.md §3.2): −ln(0.95)/730 h ≈ 7.0e-5 per hour. An
/// assumption — set `spot_interruptions_per_hour` for a real estimate.
pub const DEFAULT_SPOT_INTERRUPTIONS_PER_HOUR: f64 = 7.0e-5;

/// Warning a Spot task gets before it is stopped: 2 minutes
/// (repost.aws knowledge-center fargate-spot-termination-notice; aws.md §1.4).
pub const SPOT_WARNING: crate::time::SimTime = 120 * crate::time::SECOND;

/// The `[platform]` section.
// One per scenario: the size difference between variants does not matter,
// and inline variants keep `deny_unknown_fields` working with the `kind` tag.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum PlatformSpec {
    /// Tasks exist from t = 0, start instantly, cost nothing, any size is allowed.
    Ideal {},
    /// ECS on AWS Fargate.
    Fargate {
        /// `x86_64` or `arm64`. Default: the task definition's
        /// `runtimePlatform`, else `x86_64`.
        #[serde(default)]
        arch: Option<Arch>,
        /// `linux` or `windows`. Default: the task definition's, else `linux`.
        #[serde(default)]
        os: Option<Os>,
        /// Where new tasks go. Default: all on `FARGATE`.
        #[serde(default)]
        capacity_provider_strategy: Option<Vec<ProviderShare>>,
        /// Spot interruptions per Spot task-hour (Poisson). Default
        /// [`DEFAULT_SPOT_INTERRUPTIONS_PER_HOUR`] (an assumption).
        #[serde(default)]
        spot_interruptions_per_hour: Option<f64>,
        /// PROVISIONING time (s): capacity and ENI. Default lognormal mean 20 s,
        /// p99 40 s — aws.md §1.5 gives "≈ 10–40 s, unverified".
        #[serde(default)]
        provisioning_s: Option<DistSpec>,
        /// Compressed image size (MB) pulled at PENDING. Default 250.
        #[serde(default = "default_image_mb")]
        image_mb: f64,
        /// Image pull throughput (MB/s). Default 10: a 413 MB image took
        /// ≈ 57 s from creation to start (elasticscale.com, 2024) and the
        /// image download is ≈ 76 % of start time (AWS SOCI blog, 2023):
        /// 413 / (0.76 × 57) ≈ 9.5 MB/s (aws.md §1.5; derived).
        #[serde(default = "default_pull_mbps")]
        pull_mbps: f64,
        /// Image pull time (s) as a distribution, replacing `image_mb / pull_mbps`.
        #[serde(default)]
        pull_s: Option<DistSpec>,
        /// Time from RUNNING (containers started) until the application
        /// answers health checks (s). Default constant 5 s (an assumption;
        /// it is the application's own start-up time).
        #[serde(default)]
        app_start_s: Option<DistSpec>,
        /// Override of the on-demand vCPU-hour price (USD).
        #[serde(default)]
        vcpu_hour_usd: Option<f64>,
        /// Override of the on-demand GB-hour price (USD).
        #[serde(default)]
        gb_hour_usd: Option<f64>,
        /// Override of the Spot vCPU-hour price (USD).
        #[serde(default)]
        spot_vcpu_hour_usd: Option<f64>,
        /// Override of the Spot GB-hour price (USD).
        #[serde(default)]
        spot_gb_hour_usd: Option<f64>,
        /// Override of the ephemeral storage GB-hour price above 20 GB (USD).
        #[serde(default)]
        storage_gb_hour_usd: Option<f64>,
    },
    /// ECS on EC2: container instances in an Auto Scaling group, task
    /// placement, capacity-provider managed scaling, EC2 Spot.
    EcsEc2 {
        /// The ASG's instance types: one (a launch template) or several (a
        /// mixed-instances policy, on-demand in the order listed). Default `["m5.large"]`.
        #[serde(default = "default_instance_types")]
        instance_types: Vec<String>,
        /// A CSV adding or overriding instance types (same columns as the
        /// embedded catalog), relative to the scenario.
        #[serde(default)]
        instance_catalog: Option<String>,
        /// Availability zones the ASG spreads over. Default 3.
        #[serde(default = "default_azs")]
        availability_zones: u32,
        /// `awsvpc`, `bridge` or `host`. Default: the task definition's `networkMode`, else `awsvpc`.
        #[serde(default)]
        network_mode: Option<NetworkMode>,
        /// ENI trunking (`awsvpcTrunking`): more awsvpc tasks per instance where supported.
        #[serde(default)]
        awsvpc_trunking: bool,
        /// `ECS_RESERVED_MEMORY` (MiB). Default 0 (ECS agent default).
        #[serde(default)]
        reserved_memory_mib: u32,
        /// Memory the ECS agent registers, as a share of the instance's:
        /// default 7817/8192 (an m6i.large on the ECS-optimized AL2 AMI
        /// registers 7817 MiB of 8 GiB, aws/amazon-ecs-ami#597, 2025-12;
        /// the ECS guide's older m4.large example gives 7985) — derived.
        #[serde(default = "default_registered_fraction")]
        registered_memory_fraction: f64,
        /// ASG minimum size. Default 0.
        #[serde(default)]
        min_size: u32,
        /// ASG maximum size. Default 20.
        #[serde(default = "default_max_size")]
        max_size: u32,
        /// Instances at the start (registered at t = 0 with a warm start).
        /// Default `min_size`.
        #[serde(default)]
        desired_capacity: Option<u32>,
        /// Mixed instances: on-demand instances before any Spot. Default 0.
        #[serde(default)]
        on_demand_base_capacity: u32,
        /// Mixed instances: on-demand share above the base (%). Default 100 (no Spot).
        #[serde(default = "default_hundred")]
        on_demand_percentage_above_base: u32,
        /// `price-capacity-optimized` or `lowest-price`.
        #[serde(default)]
        spot_allocation_strategy: SpotAllocation,
        /// Spot price as a discount off on-demand, for every type. Default
        /// 0.6 — an assumption: AWS says "up to 90 %", typical discounts per
        /// family are not published (aws.md §3.2).
        #[serde(default = "default_spot_discount")]
        spot_discount: f64,
        /// Spot interruptions per Spot instance-hour. Default 7e-5 (the Spot
        /// Advisor's "< 5 % per month" band; an assumption).
        #[serde(default)]
        spot_interruptions_per_hour: Option<f64>,
        /// `ECS_ENABLE_SPOT_INSTANCE_DRAINING`: drain tasks at the 2-minute
        /// warning. Default false (ECS agent default).
        #[serde(default)]
        spot_instance_draining: bool,
        /// Launch to ECS agent registered (s). Default lognormal mean 60, p99
        /// 120 — an assumption near the 30–65 s node starts of aws.md §3.3.
        #[serde(default)]
        instance_boot_s: Option<DistSpec>,
        /// ECS capacity-provider managed scaling. Default true.
        #[serde(default = "default_true")]
        managed_scaling: bool,
        /// `targetCapacity` (%). Default 100.
        #[serde(default = "default_hundred")]
        target_capacity: u32,
        /// `minimumScalingStepSize`. Default 1.
        #[serde(default = "one")]
        minimum_scaling_step_size: u32,
        /// `maximumScalingStepSize`. Default 10000 (API reference; an older
        /// CloudFormation doc says 1).
        #[serde(default = "default_max_step")]
        maximum_scaling_step_size: u32,
        /// `instanceWarmupPeriod`: no further scale-out while an instance is
        /// this young. Default 300 s.
        #[serde(default = "default_warmup")]
        instance_warmup_period: Duration,
        /// Managed termination protection: only empty instances are scaled
        /// in. Default false (the AutoScalingGroupProvider API's default):
        /// the Auto Scaling group's termination policy picks instances and
        /// their tasks are stopped.
        #[serde(default)]
        managed_termination_protection: bool,
        /// Delay before a `CapacityProviderReservation` value reaches its
        /// alarms. Default 60 s — an assumption (AWS publishes no figure).
        #[serde(default = "default_reservation_delay")]
        managed_scaling_metric_delay: Duration,
        /// Daemon services: one task per instance, reserved before any replica.
        #[serde(default)]
        daemons: Vec<DaemonSpec>,
        /// Compressed image size (MB), pulled once per instance. Default 250.
        #[serde(default = "default_image_mb")]
        image_mb: f64,
        /// Image pull throughput (MB/s). Default 10.
        #[serde(default = "default_pull_mbps")]
        pull_mbps: f64,
        /// Image pull time (s) as a distribution, instead.
        #[serde(default)]
        pull_s: Option<DistSpec>,
        /// Time for the agent to start a placed task's containers (s).
        /// Default constant 3 (aws.md §1.5: 1–5 s with the image cached).
        #[serde(default)]
        task_start_s: Option<DistSpec>,
        /// Time from RUNNING until the application answers health checks (s).
        /// Default constant 5 (an assumption).
        #[serde(default)]
        app_start_s: Option<DistSpec>,
    },
    /// Amazon EKS: pods on managed node groups (Cluster Autoscaler) or on
    /// Fargate, the control-plane fee, kube-scheduler, the HPA (`[hpa]`).
    /// See `eks.rs` for every field's default and source.
    Eks {
        /// `node_groups` (default), `karpenter` or `fargate`.
        #[serde(default)]
        compute: eks::Compute,
        /// `standard` ($0.10 per cluster-hour) or `extended` ($0.60).
        #[serde(default)]
        support: eks::Support,
        /// Managed node groups. Default: one `default` group of m5.large,
        /// on-demand, 2 to 10 nodes.
        #[serde(default = "eks::default_node_groups")]
        node_groups: Vec<eks::NodeGroupSpec>,
        /// A CSV adding or overriding instance types.
        #[serde(default)]
        instance_catalog: Option<String>,
        /// Availability zones of the cluster's subnets. Default 3.
        #[serde(default = "default_azs")]
        availability_zones: u32,
        /// kubelet `--max-pods` for every node. Default: the VPC CNI's.
        #[serde(default)]
        max_pods: Option<u32>,
        /// VPC CNI prefix delegation (more pods per node, capped at 110/250).
        #[serde(default)]
        prefix_delegation: bool,
        /// Share of the nominal memory the kubelet sees as capacity.
        /// Default 7633/8192 (an m5.large's measured kubelet capacity).
        #[serde(default = "default_kubelet_fraction")]
        memory_capacity_fraction: f64,
        /// aws-node and kube-proxy on every node. Default true.
        #[serde(default = "default_true")]
        system_daemonsets: bool,
        /// More DaemonSets: `{ name, cpu_millicores, memory_mib }`.
        #[serde(default)]
        daemonsets: Vec<eks::DaemonSetSpec>,
        /// CoreDNS replicas (100m / 70 MiB each). Default 2.
        #[serde(default = "eks::default_coredns")]
        coredns_replicas: u32,
        /// kube-scheduler's resource score: `least_allocated` (default) or `most_allocated`.
        #[serde(default)]
        scheduler_scoring: eks::Scoring,
        /// Cluster Autoscaler flags.
        #[serde(default)]
        cluster_autoscaler: eks::CaSpec,
        /// Karpenter's NodePools (`compute = "karpenter"`). Default: the
        /// manifest's NodePools, else the getting-started guide's
        /// on-demand c/m/r pool.
        #[serde(default)]
        node_pools: Option<Vec<karpenter::NodePoolSpec>>,
        /// Karpenter's settings (`compute = "karpenter"`).
        #[serde(default)]
        karpenter: karpenter::KarpenterSpec,
        /// EC2 launch to node Ready (s). Default lognormal mean 60, p99 120 (an assumption).
        #[serde(default)]
        node_boot_s: Option<DistSpec>,
        /// Spot price as a discount off on-demand. Default 0.6 (an assumption).
        #[serde(default = "default_spot_discount")]
        spot_discount: f64,
        /// Spot discounts by instance family (`{ c6a = 0.65 }`), over
        /// `spot_discount`. A catalog row's `spot_usd_per_hour` wins over both.
        #[serde(default)]
        spot_discount_by_family: std::collections::BTreeMap<String, f64>,
        /// Spot interruptions per Spot instance-hour. Default 7e-5 (an assumption).
        #[serde(default)]
        spot_interruptions_per_hour: Option<f64>,
        /// Fargate: pod to Fargate capacity ready (s). Default lognormal mean
        /// 40, p99 60 (aws.md §1.5: 30–45 s, a third-party report).
        #[serde(default)]
        provisioning_s: Option<DistSpec>,
        /// Compressed image size (MB). Default 250.
        #[serde(default = "default_image_mb")]
        image_mb: f64,
        /// Image pull throughput (MB/s). Default 10.
        #[serde(default = "default_pull_mbps")]
        pull_mbps: f64,
        /// Image pull time (s) as a distribution, instead.
        #[serde(default)]
        pull_s: Option<DistSpec>,
        /// Nodes: placed pod to containers started, image cached (s). Default constant 3.
        #[serde(default)]
        container_start_s: Option<DistSpec>,
        /// Containers started to the application answering its readiness probe (s). Default constant 5.
        #[serde(default)]
        app_start_s: Option<DistSpec>,
    },
}

/// A daemon service's task (a log or monitoring agent).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DaemonSpec {
    /// Name.
    pub name: String,
    /// CPU units.
    pub cpu: u32,
    /// Memory (MiB).
    pub memory: u32,
}

/// ECS network modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NetworkMode {
    /// One ENI per task.
    Awsvpc,
    /// Docker bridge; static host ports are exclusive.
    Bridge,
    /// The host's network; container ports are exclusive.
    Host,
}

/// How the ASG picks Spot instance types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SpotAllocation {
    /// Lowest price weighed with capacity; capacity pools are not modelled,
    /// so it picks like `lowest-price`.
    #[default]
    PriceCapacityOptimized,
    /// Lowest price.
    LowestPrice,
}

fn default_instance_types() -> Vec<String> {
    vec!["m5.large".into()]
}
fn default_azs() -> u32 {
    3
}
/// Memory an ECS-optimized AMI registers as a share of the nominal:
/// 7817 MiB of an m6i.large's 8192 (ECS-optimized AL2 AMI 2.0.20251209,
/// aws/amazon-ecs-ami#597) — the newest published figure.
pub const ECS_REGISTERED_FRACTION: f64 = 7817.0 / 8192.0;

fn default_registered_fraction() -> f64 {
    ECS_REGISTERED_FRACTION
}

/// The memory a kubelet reports as capacity on an m5.large (7633 MiB of
/// 8192: karpenter-provider-aws `zz_generated.memory_overhead.go`
/// @33450d8, measured on nodes).
pub const KUBELET_MEMORY_FRACTION: f64 = 7633.0 / 8192.0;

fn default_kubelet_fraction() -> f64 {
    KUBELET_MEMORY_FRACTION
}

fn default_reservation_delay() -> Duration {
    Duration::from_secs(60)
}
fn default_max_size() -> u32 {
    20
}
fn default_hundred() -> u32 {
    100
}
fn default_spot_discount() -> f64 {
    0.6
}
fn default_true() -> bool {
    true
}
fn default_max_step() -> u32 {
    10_000
}
fn default_warmup() -> Duration {
    Duration::from_secs(300)
}

/// Which kind of platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlatformKind {
    /// See [`PlatformSpec::Ideal`].
    Ideal,
    /// See [`PlatformSpec::Fargate`].
    Fargate,
    /// See [`PlatformSpec::EcsEc2`].
    Ec2,
}

/// Prices of one task, USD per hour, and where they come from.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskPrices {
    /// On-demand task-hour (vCPU + memory + OS licence).
    pub on_demand_hour: f64,
    /// Spot task-hour (vCPU + memory).
    pub spot_hour: Option<f64>,
    /// Extra ephemeral storage per task-hour.
    pub storage_hour: f64,
    /// The catalog rows used (for the report's assumptions).
    pub sources: Vec<FargateRate>,
}

/// A compiled platform.
#[derive(Debug, Clone)]
pub struct Platform {
    /// Kind.
    pub kind: PlatformKind,
    /// Architecture.
    pub arch: Arch,
    /// OS.
    pub os: Os,
    /// Capacity provider strategy.
    pub strategy: Vec<ProviderShare>,
    /// Spot interruptions per Spot task-hour.
    pub spot_interruptions_per_hour: f64,
    /// PROVISIONING time (s).
    pub provisioning_s: Option<Dist>,
    /// Image pull time (s): a distribution, or a fixed time.
    pub pull_s: Option<Dist>,
    /// Application start time (s).
    pub app_start_s: Option<Dist>,
    /// Prices per task (Fargate only).
    pub prices: Option<TaskPrices>,
    /// The cluster and what a task asks of an instance (EC2 only).
    pub ec2: Option<crate::cluster::Ec2Setup>,
    /// EKS: the control-plane fee and the pod's settings (`None` on ECS).
    pub eks: Option<eks::EksFacts>,
}

/// What compiling a platform needs to know about the task.
pub struct TaskFacts {
    /// Directory of the scenario (for an instance catalog CSV).
    pub base_dir: std::path::PathBuf,
    /// Network mode from the task definition.
    pub network_mode: Option<String>,
    /// Exclusive host ports of a task in `host` and in `bridge` network mode.
    pub host_ports: (Vec<u16>, Vec<u16>),
    /// CPU units.
    pub cpu_units: u32,
    /// Memory (MiB).
    pub memory_mib: u32,
    /// Ephemeral storage (GB).
    pub ephemeral_gb: f64,
    /// Architecture from the task definition.
    pub arch: Option<Arch>,
    /// OS from the task definition.
    pub os: Option<Os>,
    /// Kubernetes: the pod's CPU limit (CPU units), if any.
    pub cpu_limit_units: Option<u32>,
    /// Kubernetes: the pod's memory limit (MiB), if any.
    pub memory_limit_mib: Option<u32>,
    /// Kubernetes: `nodeSelector`.
    pub node_selector: Vec<(String, String)>,
    /// Kubernetes: topology spread constraints (max skew, key, hard).
    pub topology_spread: Vec<(u32, crate::placement::TopologyKey, bool)>,
    /// Kubernetes: the manifest's Karpenter NodePools.
    pub node_pools: Vec<crate::k8s::manifest::NodePool>,
}

/// `platform.image_mb` ≥ 0 and `platform.pull_mbps` > 0, each named when wrong.
fn check_image(image_mb: f64, pull_mbps: f64) -> Result<(), ScenarioError> {
    if !(image_mb.is_finite() && image_mb >= 0.0) {
        return Err(ScenarioError::invalid(
            "platform.image_mb",
            format!("expected MB ≥ 0, got {image_mb}"),
        ));
    }
    if !(pull_mbps.is_finite() && pull_mbps > 0.0) {
        return Err(ScenarioError::invalid(
            "platform.pull_mbps",
            format!("expected MB/s > 0, got {pull_mbps}"),
        ));
    }
    Ok(())
}

/// The highest price capsim accepts (USD per hour, per unit or per
/// instance): well above the dearest EC2 instance (about $400/h), low
/// enough that a month of thousands of tasks stays a finite, printable sum.
pub const MAX_PRICE_USD_PER_HOUR: f64 = 10_000.0;

/// A price override: `None`, or a number from 0 to [`MAX_PRICE_USD_PER_HOUR`].
fn price_or(key: &str, v: Option<f64>) -> Result<Option<f64>, ScenarioError> {
    match v {
        Some(x) if !(x.is_finite() && (0.0..=MAX_PRICE_USD_PER_HOUR).contains(&x)) => {
            Err(ScenarioError::invalid(
                key,
                format!("expected USD per hour from 0 to {MAX_PRICE_USD_PER_HOUR}, got {x}"),
            ))
        }
        other => Ok(other),
    }
}

/// A Spot interruption rate (per instance or task and hour): at most one a
/// minute (capsim's bound; AWS publishes frequency bands, all far below).
fn positive_or(key: &str, v: Option<f64>) -> Result<Option<f64>, ScenarioError> {
    match v {
        Some(x) if !(x.is_finite() && (0.0..=60.0).contains(&x)) => Err(ScenarioError::invalid(
            key,
            format!("expected interruptions per hour from 0 to 60, got {x}"),
        )),
        other => Ok(other),
    }
}

impl PlatformSpec {
    /// The platform's name as written in scenarios.
    pub fn kind(&self) -> &'static str {
        match self {
            PlatformSpec::Ideal {} => "ideal",
            PlatformSpec::Fargate { .. } => "fargate",
            PlatformSpec::EcsEc2 { .. } => "ecs_ec2",
            PlatformSpec::Eks { .. } => "eks",
        }
    }

    /// Checks the platform against the task and compiles it.
    pub fn compile(&self, task: &TaskFacts, region: &str) -> Result<Platform, ScenarioError> {
        match self {
            PlatformSpec::Ideal {} => Ok(Platform {
                kind: PlatformKind::Ideal,
                arch: task.arch.unwrap_or_default(),
                os: task.os.unwrap_or_default(),
                strategy: vec![ProviderShare {
                    provider: Provider::Fargate,
                    base: 0,
                    weight: 1,
                }],
                spot_interruptions_per_hour: 0.0,
                provisioning_s: None,
                pull_s: None,
                app_start_s: None,
                prices: None,
                ec2: None,
                eks: None,
            }),
            PlatformSpec::Fargate { .. } => fargate::compile(self, task, region),
            PlatformSpec::EcsEc2 { .. } => ecs_ec2::compile(self, task, region),
            PlatformSpec::Eks { .. } => eks::compile(self, task, region),
        }
    }
}

fn known_regions(os_arch: &str, capacity: &str) -> String {
    let mut v: Vec<String> = pricing::fargate_catalog()
        .into_iter()
        .filter(|r| r.os_arch == os_arch && r.capacity == capacity)
        .map(|r| r.region)
        .collect();
    v.dedup();
    if v.is_empty() {
        "none".into()
    } else {
        v.join(", ")
    }
}

fn check_strategy(strategy: &[ProviderShare]) -> Result<(), ScenarioError> {
    let key = "platform.capacity_provider_strategy";
    if strategy.is_empty() {
        return Err(ScenarioError::invalid(key, "needs at least one provider"));
    }
    if strategy.iter().all(|s| s.weight == 0) {
        return Err(ScenarioError::invalid(
            key,
            "at least one provider needs a weight > 0",
        ));
    }
    if strategy.iter().any(|s| s.provider == Provider::Ec2) {
        return Err(ScenarioError::invalid(
            key,
            "EC2 is not a Fargate capacity provider: use platform.kind = \"ecs_ec2\"",
        ));
    }
    if strategy.iter().filter(|s| s.base > 0).count() > 1 {
        return Err(ScenarioError::invalid(
            key,
            "only one provider can have a base (as in ECS)",
        ));
    }
    for (i, a) in strategy.iter().enumerate() {
        if strategy[..i].iter().any(|b| b.provider == a.provider) {
            return Err(ScenarioError::invalid(
                key,
                format!("{:?} is listed twice", a.provider),
            ));
        }
    }
    Ok(())
}

/// The provider for the next task, given how many active tasks each provider
/// has: bases first, then the provider furthest below its weighted share.
pub fn next_provider(strategy: &[ProviderShare], counts: &dyn Fn(Provider) -> u32) -> Provider {
    for s in strategy {
        if counts(s.provider) < s.base {
            return s.provider;
        }
    }
    let mut best = strategy[0].provider;
    let mut best_score = f64::INFINITY;
    for s in strategy.iter().filter(|s| s.weight > 0) {
        let beyond = counts(s.provider).saturating_sub(s.base) as f64;
        let score = (beyond + 1.0) / s.weight as f64;
        if score < best_score {
            best_score = score;
            best = s.provider;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strategy_honours_base_then_weights() {
        let strategy = [
            ProviderShare {
                provider: Provider::Fargate,
                base: 2,
                weight: 1,
            },
            ProviderShare {
                provider: Provider::FargateSpot,
                base: 0,
                weight: 3,
            },
        ];
        let mut od = 0;
        let mut spot = 0;
        for _ in 0..10 {
            match next_provider(&strategy, &|p| {
                if p == Provider::Fargate { od } else { spot }
            }) {
                Provider::Fargate => od += 1,
                Provider::FargateSpot => spot += 1,
                Provider::Ec2 => unreachable!("not in a Fargate strategy"),
            }
        }
        // 2 base on FARGATE, then 8 split 1:3 → 2 and 6.
        assert_eq!((od, spot), (4, 6));
    }
}
