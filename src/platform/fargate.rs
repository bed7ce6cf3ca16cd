//! Fargate's rules: the valid task sizes.
//!
//! Source: AWS ECS TaskDefinition `memory` documentation (awsdocs/amazon-ecs-developer-guide
//! `doc_source/task-cpu-memory-error.md` @49232cf, and the current copy on docs.amazonaws.cn),
//! as tabulated in shared/reference/aws.md §1.1 and shared/data/catalogs/fargate_task_sizes.csv:
//! 74 CPU/memory pairs on Linux; Windows only the 1, 2 and 4 vCPU rows.
//!
//! And `[platform] kind = "fargate"` compiled: architecture and OS,
//! capacity provider strategy, start-up delays and per-task prices.

use super::{
    Arch, DEFAULT_SPOT_INTERRUPTIONS_PER_HOUR, Os, Platform, PlatformKind, PlatformSpec, Provider,
    ProviderShare, TaskFacts, TaskPrices, check_strategy, known_regions, positive_or, price_or,
};
use crate::error::ScenarioError;
use crate::pricing::{self, FARGATE_FREE_STORAGE_GB};
use crate::workload::{Dist, DistSpec};

/// Valid memory values (MiB) for a Fargate task CPU size (CPU units), Linux.
pub fn valid_memory_mib(cpu_units: u32) -> Option<Vec<u32>> {
    let gib = |from: u32, to: u32, step: u32| {
        (from..=to)
            .step_by(step as usize)
            .map(|g| g * 1024)
            .collect::<Vec<u32>>()
    };
    Some(match cpu_units {
        256 => vec![512, 1024, 2048],
        512 => gib(1, 4, 1),
        1024 => gib(2, 8, 1),
        2048 => gib(4, 16, 1),
        4096 => gib(8, 30, 1),
        8192 => gib(16, 60, 4),
        16384 => gib(32, 120, 8),
        _ => return None,
    })
}

/// CPU sizes Fargate offers (CPU units) for an OS.
pub fn valid_cpu_units(windows: bool) -> &'static [u32] {
    if windows {
        &[1024, 2048, 4096]
    } else {
        &[256, 512, 1024, 2048, 4096, 8192, 16384]
    }
}

/// The smallest Linux Fargate size (CPU units, MiB) that holds `cpu_units`
/// and `memory_mib`, if any (going up in CPU when no size of that CPU has
/// enough memory).
pub fn round_up(cpu_units: u32, memory_mib: u32) -> Option<(u32, u32)> {
    valid_cpu_units(false)
        .iter()
        .filter(|c| **c >= cpu_units)
        .find_map(|&c| {
            let mems = valid_memory_mib(c)?;
            mems.into_iter().find(|m| *m >= memory_mib).map(|m| (c, m))
        })
}

/// Checks a size; the error names the valid values.
pub fn check_size(cpu_units: u32, memory_mib: u32, windows: bool) -> Result<(), String> {
    let cpus = valid_cpu_units(windows);
    let os = if windows { "Windows" } else { "Linux" };
    if !cpus.contains(&cpu_units) {
        return Err(format!(
            "Fargate ({os}) has no task size with {cpu_units} CPU units; valid CPU values are {}",
            cpus.iter()
                .map(u32::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let mems = valid_memory_mib(cpu_units).expect("listed CPU sizes have memory values");
    if !mems.contains(&memory_mib) {
        return Err(format!(
            "Fargate has no {cpu_units} CPU / {memory_mib} MiB task; with cpu = {cpu_units} the valid memory values (MiB) are {}",
            mems.iter()
                .map(u32::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    Ok(())
}

/// The key to blame for an invalid size: the CPU when Fargate has no such
/// CPU size, else the memory (wrong for that CPU).
pub fn size_key(cpu_units: u32, windows: bool) -> &'static str {
    if valid_cpu_units(windows).contains(&cpu_units) {
        "task.memory"
    } else {
        "task.cpu"
    }
}

/// Compiles `[platform] kind = ...` (see [`PlatformSpec`]).
pub(super) fn compile(
    spec: &PlatformSpec,
    task: &TaskFacts,
    region: &str,
) -> Result<Platform, ScenarioError> {
    let PlatformSpec::Fargate {
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
    } = spec
    else {
        unreachable!("called for its own kind only")
    };
    let arch = match (arch, task.arch) {
        (Some(a), Some(t)) if *a != t => {
            return Err(ScenarioError::invalid(
                "platform.arch",
                format!("{a:?} disagrees with the task definition's runtimePlatform ({t:?})"),
            ));
        }
        (a, t) => a.or(t).unwrap_or_default(),
    };
    let os = match (os, task.os) {
        (Some(a), Some(t)) if *a != t => {
            return Err(ScenarioError::invalid(
                "platform.os",
                format!("{a:?} disagrees with the task definition's runtimePlatform ({t:?})"),
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
    check_size(task.cpu_units, task.memory_mib, windows)
        .map_err(|m| ScenarioError::invalid(size_key(task.cpu_units, windows), m))?;
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
        price_or(key, *v)?;
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
    let prices = task_prices(
        region,
        os,
        arch,
        (task.cpu_units, task.memory_mib, task.ephemeral_gb),
        &Overrides {
            vcpu: *vcpu_hour_usd,
            gb: *gb_hour_usd,
            spot_vcpu: *spot_vcpu_hour_usd,
            spot_gb: *spot_gb_hour_usd,
            storage: *storage_gb_hour_usd,
        },
        uses_spot,
    )?;
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
        spot_interruptions_per_hour: rate.unwrap_or(DEFAULT_SPOT_INTERRUPTIONS_PER_HOUR),
        provisioning_s: Some(provisioning),
        pull_s: Some(pull),
        app_start_s: Some(app),
        prices: Some(prices),
        ec2: None,
        eks: None,
    })
}

/// Price overrides of a scenario (USD per hour; `None`: the catalog's).
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Overrides {
    pub vcpu: Option<f64>,
    pub gb: Option<f64>,
    pub spot_vcpu: Option<f64>,
    pub spot_gb: Option<f64>,
    pub storage: Option<f64>,
}

/// The rate a run bills, for the report: the catalog row, with any
/// scenario override in place of its price and the override named as the
/// source (the catalog's own price and source kept beside it).
fn as_billed(
    catalog: Option<pricing::FargateRate>,
    (region, os_arch, capacity): (&str, &str, &str),
    (vcpu_h, gb_h, storage_h): (f64, f64, f64),
    overrides: [(&str, Option<f64>); 3],
) -> pricing::FargateRate {
    let given: Vec<String> = overrides
        .iter()
        .filter_map(|(k, v)| v.map(|v| format!("{k} = {v}")))
        .collect();
    let mut r = catalog.clone().unwrap_or(pricing::FargateRate {
        region: region.into(),
        os_arch: os_arch.into(),
        capacity: capacity.into(),
        vcpu_hour: vcpu_h,
        gb_hour: gb_h,
        storage_gb_hour: storage_h,
        as_of: "-".into(),
        source: String::new(),
    });
    if !given.is_empty() {
        r.source = match &catalog {
            Some(c) => format!(
                "scenario override: {} (the catalog's ${}/vCPU-h, ${}/GB-h, ${}/GB-h: {}, as of {})",
                given.join(", "),
                c.vcpu_hour,
                c.gb_hour,
                c.storage_gb_hour,
                c.source,
                c.as_of
            ),
            None => format!("scenario override: {}", given.join(", ")),
        };
        r.as_of = "the scenario".into();
        r.vcpu_hour = vcpu_h;
        r.gb_hour = gb_h;
        r.storage_gb_hour = storage_h;
    }
    r
}

/// What one task (or EKS Fargate pod) of `size` = (CPU units, MiB,
/// ephemeral GB) costs per hour: vCPU × rate + GB × rate (+ the Windows
/// licence per vCPU), Spot likewise, storage above the free 20 GB — from
/// the embedded catalog of `region` unless overridden.
pub(super) fn task_prices(
    region: &str,
    os: Os,
    arch: Arch,
    size: (u32, u32, f64),
    o: &Overrides,
    uses_spot: bool,
) -> Result<TaskPrices, ScenarioError> {
    let windows = os == Os::Windows;
    let os_arch = match (os, arch) {
        (Os::Windows, _) => "windows_x86",
        (Os::Linux, Arch::X86_64) => "linux_x86",
        (Os::Linux, Arch::Arm64) => "linux_arm64",
    };
    let mut sources = Vec::new();
    let od = pricing::fargate_rate(region, os_arch, "on_demand");
    let vcpu_h = o.vcpu.or(od.as_ref().map(|r| r.vcpu_hour));
    let gb_h = o.gb.or(od.as_ref().map(|r| r.gb_hour));
    let (Some(vcpu_h), Some(gb_h)) = (vcpu_h, gb_h) else {
        return Err(ScenarioError::invalid(
            "region",
            format!(
                "capsim has no Fargate {os_arch} price for {region}; set platform.vcpu_hour_usd and platform.gb_hour_usd (regions with prices: {})",
                known_regions(os_arch, "on_demand")
            ),
        ));
    };
    let storage_h = o
        .storage
        .or(od.as_ref().map(|r| r.storage_gb_hour))
        .unwrap_or(0.000111);
    sources.push(as_billed(
        od,
        (region, os_arch, "on_demand"),
        (vcpu_h, gb_h, storage_h),
        [
            ("platform.vcpu_hour_usd", o.vcpu),
            ("platform.gb_hour_usd", o.gb),
            ("platform.storage_gb_hour_usd", o.storage),
        ],
    ));
    let vcpu = size.0 as f64 / 1024.0;
    let gb = size.1 as f64 / 1024.0;
    let license = if windows {
        pricing::FARGATE_WINDOWS_LICENSE_VCPU_HOUR * vcpu
    } else {
        0.0
    };
    let spot_hour = if uses_spot {
        let sp = pricing::fargate_rate(region, os_arch, "spot");
        let sv = o.spot_vcpu.or(sp.as_ref().map(|r| r.vcpu_hour));
        let sg = o.spot_gb.or(sp.as_ref().map(|r| r.gb_hour));
        let (Some(sv), Some(sg)) = (sv, sg) else {
            return Err(ScenarioError::invalid(
                "region",
                format!(
                    "capsim has no Fargate Spot {os_arch} price for {region}; set platform.spot_vcpu_hour_usd and platform.spot_gb_hour_usd (regions with Spot prices: {})",
                    known_regions(os_arch, "spot")
                ),
            ));
        };
        sources.push(as_billed(
            sp,
            (region, os_arch, "spot"),
            (sv, sg, storage_h),
            [
                ("platform.spot_vcpu_hour_usd", o.spot_vcpu),
                ("platform.spot_gb_hour_usd", o.spot_gb),
                ("platform.storage_gb_hour_usd", o.storage),
            ],
        ));
        Some(vcpu * sv + gb * sg)
    } else {
        None
    };
    Ok(TaskPrices {
        on_demand_hour: vcpu * vcpu_h + gb * gb_h + license,
        spot_hour,
        storage_hour: (size.2 - FARGATE_FREE_STORAGE_GB).max(0.0) * storage_h,
        sources,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seventy_four_linux_sizes() {
        let n: usize = valid_cpu_units(false)
            .iter()
            .map(|c| valid_memory_mib(*c).unwrap().len())
            .sum();
        assert_eq!(n, 74);
    }

    #[test]
    fn matches_the_shared_catalog_when_present() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../shared/data/catalogs/fargate_task_sizes.csv");
        let Ok(text) = std::fs::read_to_string(&path) else {
            println!("skipped: reference data not found ({})", path.display());
            return;
        };
        let mut rows = 0;
        for line in text.lines().skip(1) {
            let f: Vec<&str> = line.split(',').collect();
            let (cpu, mem): (u32, u32) = (f[0].parse().unwrap(), f[2].parse().unwrap());
            assert!(check_size(cpu, mem, false).is_ok(), "{cpu}/{mem}");
            rows += 1;
        }
        assert_eq!(rows, 74);
    }

    #[test]
    fn invalid_sizes_name_the_valid_values() {
        assert_eq!(size_key(256, false), "task.memory");
        assert_eq!(size_key(300, false), "task.cpu");
        assert_eq!(size_key(512, true), "task.cpu");
        let e = check_size(256, 4096, false).unwrap_err();
        assert!(e.contains("512, 1024, 2048"), "{e}");
        let e = check_size(300, 512, false).unwrap_err();
        assert!(e.contains("256, 512, 1024"), "{e}");
        assert!(check_size(256, 512, true).is_err());
        assert!(check_size(1024, 2048, true).is_ok());
    }
}
