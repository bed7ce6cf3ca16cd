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

pub mod fargate;
pub mod taskdef;

use crate::error::ScenarioError;
use crate::pricing::{self, FARGATE_FREE_STORAGE_GB, FargateRate};
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
}

/// Which kind of platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlatformKind {
    /// See [`PlatformSpec::Ideal`].
    Ideal,
    /// See [`PlatformSpec::Fargate`].
    Fargate,
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
    /// Prices per task (none on `ideal`).
    pub prices: Option<TaskPrices>,
}

/// What compiling a platform needs to know about the task.
pub struct TaskFacts {
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
}

fn positive_or(key: &str, v: Option<f64>) -> Result<Option<f64>, ScenarioError> {
    match v {
        Some(x) if !(x.is_finite() && x >= 0.0) => Err(ScenarioError::invalid(
            key,
            format!("expected a number ≥ 0, got {x}"),
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
            }),
            PlatformSpec::Fargate {
                arch,
                os,
                capacity_provider_strategy,
                spot_interruptions_per_hour,
                provisioning_s,
                image_mb,
                pull_mbps,
                pull_s,
                app_start_s,
                vcpu_hour_usd,
                gb_hour_usd,
                spot_vcpu_hour_usd,
                spot_gb_hour_usd,
                storage_gb_hour_usd,
            } => {
                let arch = match (arch, task.arch) {
                    (Some(a), Some(t)) if *a != t => {
                        return Err(ScenarioError::invalid(
                            "platform.arch",
                            format!(
                                "{a:?} disagrees with the task definition's runtimePlatform ({t:?})"
                            ),
                        ));
                    }
                    (a, t) => a.or(t).unwrap_or_default(),
                };
                let os = match (os, task.os) {
                    (Some(a), Some(t)) if *a != t => {
                        return Err(ScenarioError::invalid(
                            "platform.os",
                            format!(
                                "{a:?} disagrees with the task definition's runtimePlatform ({t:?})"
                            ),
                        ));
                    }
                    (a, t) => a.or(t).unwrap_or_default(),
                };
                let windows = os == Os::Windows;
                if windows && arch == Arch::Arm64 {
                    return Err(ScenarioError::invalid(
                        "platform.arch",
                        "Windows on Fargate is x86_64 only (aws.md §1.3b)",
                    ));
                }
                fargate::check_size(task.cpu_units, task.memory_mib, windows)
                    .map_err(|m| ScenarioError::invalid("task.cpu", m))?;
                if !(20.0..=200.0).contains(&task.ephemeral_gb) {
                    return Err(ScenarioError::invalid(
                        "task.ephemeral_storage_gb",
                        format!(
                            "Fargate ephemeral storage is 20 to 200 GiB, got {}",
                            task.ephemeral_gb
                        ),
                    ));
                }
                let strategy = capacity_provider_strategy.clone().unwrap_or_else(|| {
                    vec![ProviderShare {
                        provider: Provider::Fargate,
                        base: 0,
                        weight: 1,
                    }]
                });
                check_strategy(&strategy)?;
                let uses_spot = strategy.iter().any(|s| s.provider == Provider::FargateSpot);
                if uses_spot && windows {
                    return Err(ScenarioError::invalid(
                        "platform.capacity_provider_strategy",
                        "Fargate Spot does not run Windows tasks (aws.md §1.3b)",
                    ));
                }
                let rate = positive_or(
                    "platform.spot_interruptions_per_hour",
                    *spot_interruptions_per_hour,
                )?;
                for (key, v) in [
                    ("platform.vcpu_hour_usd", vcpu_hour_usd),
                    ("platform.gb_hour_usd", gb_hour_usd),
                    ("platform.spot_vcpu_hour_usd", spot_vcpu_hour_usd),
                    ("platform.spot_gb_hour_usd", spot_gb_hour_usd),
                    ("platform.storage_gb_hour_usd", storage_gb_hour_usd),
                ] {
                    positive_or(key, *v)?;
                }
                if !(image_mb.is_finite() && *image_mb >= 0.0) {
                    return Err(ScenarioError::invalid(
                        "platform.image_mb",
                        format!("expected MB ≥ 0, got {image_mb}"),
                    ));
                }
                if !(pull_mbps.is_finite() && *pull_mbps > 0.0) {
                    return Err(ScenarioError::invalid(
                        "platform.pull_mbps",
                        format!("expected MB/s > 0, got {pull_mbps}"),
                    ));
                }
                let os_arch = match (os, arch) {
                    (Os::Windows, _) => "windows_x86",
                    (Os::Linux, Arch::X86_64) => "linux_x86",
                    (Os::Linux, Arch::Arm64) => "linux_arm64",
                };
                let mut sources = Vec::new();
                let od = pricing::fargate_rate(region, os_arch, "on_demand");
                let vcpu_h = vcpu_hour_usd.or(od.as_ref().map(|r| r.vcpu_hour));
                let gb_h = gb_hour_usd.or(od.as_ref().map(|r| r.gb_hour));
                let (Some(vcpu_h), Some(gb_h)) = (vcpu_h, gb_h) else {
                    return Err(ScenarioError::invalid(
                        "region",
                        format!(
                            "capsim has no Fargate {os_arch} price for {region}; set platform.vcpu_hour_usd and platform.gb_hour_usd (regions with prices: {})",
                            known_regions(os_arch, "on_demand")
                        ),
                    ));
                };
                if let Some(r) = od.clone() {
                    sources.push(r);
                }
                let storage_h = storage_gb_hour_usd
                    .or(od.as_ref().map(|r| r.storage_gb_hour))
                    .unwrap_or(0.000111);
                let vcpu = task.cpu_units as f64 / 1024.0;
                let gb = task.memory_mib as f64 / 1024.0;
                let license = if windows {
                    pricing::FARGATE_WINDOWS_LICENSE_VCPU_HOUR * vcpu
                } else {
                    0.0
                };
                let spot_hour = if uses_spot {
                    let sp = pricing::fargate_rate(region, os_arch, "spot");
                    let sv = spot_vcpu_hour_usd.or(sp.as_ref().map(|r| r.vcpu_hour));
                    let sg = spot_gb_hour_usd.or(sp.as_ref().map(|r| r.gb_hour));
                    let (Some(sv), Some(sg)) = (sv, sg) else {
                        return Err(ScenarioError::invalid(
                            "region",
                            format!(
                                "capsim has no Fargate Spot {os_arch} price for {region}; set platform.spot_vcpu_hour_usd and platform.spot_gb_hour_usd (regions with Spot prices: {})",
                                known_regions(os_arch, "spot")
                            ),
                        ));
                    };
                    if let Some(r) = sp {
                        sources.push(r);
                    }
                    Some(vcpu * sv + gb * sg)
                } else {
                    None
                };
                let provisioning = provisioning_s
                    .clone()
                    .unwrap_or(DistSpec::Lognormal {
                        mean: 20.0,
                        p99: 40.0,
                    })
                    .compile("platform.provisioning_s")?;
                let pull = match pull_s {
                    Some(d) => d.compile("platform.pull_s")?,
                    None => Dist::Constant(image_mb / pull_mbps),
                };
                let app = app_start_s
                    .clone()
                    .unwrap_or(DistSpec::Constant { value: 5.0 })
                    .compile("platform.app_start_s")?;
                Ok(Platform {
                    kind: PlatformKind::Fargate,
                    arch,
                    os,
                    strategy,
                    spot_interruptions_per_hour: rate
                        .unwrap_or(DEFAULT_SPOT_INTERRUPTIONS_PER_HOUR),
                    provisioning_s: Some(provisioning),
                    pull_s: Some(pull),
                    app_start_s: Some(app),
                    prices: Some(TaskPrices {
                        on_demand_hour: vcpu * vcpu_h + gb * gb_h + license,
                        spot_hour,
                        storage_hour: (task.ephemeral_gb - FARGATE_FREE_STORAGE_GB).max(0.0)
                            * storage_h,
                        sources,
                    }),
                })
            }
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
            }
        }
        // 2 base on FARGATE, then 8 split 1:3 → 2 and 6.
        assert_eq!((od, spot), (4, 6));
    }
}
