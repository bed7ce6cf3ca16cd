//! EKS node facts as pure functions: how many pods the Amazon VPC CNI lets a
//! node run (max pods, in secondary-IP and prefix-delegation mode), and what
//! the EKS-optimized AMI's kubelet leaves to pods (allocatable: CPU in
//! millicores, memory in MiB, max pods as slots). No I/O, no state.
//!
//! Sources, read at these commits:
//!
//! - awslabs/amazon-eks-ami `nodeadm/internal/kubelet/eni_max_pods.go`
//!   @81fec2e (2026-07-23; file last changed 6caf831, 2026-02-27):
//!   `calculateStandardMaxPods`, `defaultMaxPods` (aws.md §4.2).
//! - awslabs/amazon-eks-ami `nodeadm/internal/kubelet/config.go` @81fec2e:
//!   `withDefaultReservedResources` (kube-reserved CPU, memory and 1 Gi of
//!   ephemeral storage), `getCPUMillicoresToReserve`,
//!   `getMemoryMebibytesToReserve`, the default `evictionHard`
//!   (`memory.available: 100Mi`) (aws.md §4.3). Checked: nodeadm sets only the
//!   *cgroup* of system-reserved (`systemReservedCgroup: /system`), never a
//!   `systemReserved` amount, so system-reserved is zero unless the user
//!   configures it (it appears only in user-config test cases).
//! - awslabs/amazon-eks-ami `templates/al2/runtime/max-pods-calculator.sh`
//!   @0ab8428 (2026-03-04, the parent of b228903 which removed AL2 support;
//!   file last changed 8f395aa, 2025-08-14): prefix delegation and the
//!   110 / 250 ceilings (aws.md §4.2).
//! - kubernetes/website
//!   `content/en/docs/tasks/administer-cluster/reserve-compute-resources.md`
//!   @0189ae0: allocatable = capacity − kube-reserved − system-reserved −
//!   eviction threshold; eviction thresholds exist for memory and storage
//!   only, so CPU loses only kube-reserved.
//!
//! # Memory capacity versus nominal memory
//!
//! [`allocatable`] takes the memory the kubelet sees as capacity (the
//! kernel's `MemTotal`), which is less than the instance type's nominal
//! memory; how much less is the caller's choice. Karpenter's choice, which
//! the reference table `ec2_instance_types_karpenter.csv` follows exactly, is
//! [`karpenter_memory_capacity_mib`]: nominal − 64 MiB on arm64 (Graviton
//! CMA) − ⌈7.5 %⌉ of that (`--vm-memory-overhead-percent`, default 0.075,
//! "subtracted … when cached information is unavailable"; aws.md §4.3).
//! Source: aws/karpenter-provider-aws `pkg/providers/instancetype/types.go`
//! @1d92708 (file last changed 7695b3c, 2026-08-20: `memory`,
//! `kubeReservedResources`, `evictionThreshold`) and
//! `pkg/operator/options/options.go` @1d92708.
//!
//! Worked example, m5.large (2 vCPU, 8192 MiB nominal, 29 pods): capacity
//! 8192 − ⌈614.4⌉ = 7577 MiB (92.5 % of nominal), allocatable 7577 − 574
//! (kube-reserved) − 100 (eviction) = **6903 MiB, 84.3 % of nominal**; CPU
//! 2000 − 70 = 1930 m. c7g.large (arm64, 4096 MiB, 29 pods): 4096 − 64 = 4032,
//! − ⌈302.4⌉ = 3729, − 574 − 100 = 3055 MiB (74.6 % of nominal). Over all
//! 1,363 rows of the table, CPU, pods (= `eni-max-pods.txt`, uncapped) and
//! memory match these formulas exactly (test
//! `karpenter_reference_table_matches`). Karpenter's CPU reservation uses
//! float percentages (`int64(r × 0.0025)`); it agrees with nodeadm's integer
//! arithmetic on every row.

use crate::placement::Resources;

/// nodeadm's max pods when it cannot look the instance type up (the
/// kubelet's own default): 110 (`defaultMaxPods`, `eni_max_pods.go` @81fec2e).
pub const DEFAULT_MAX_PODS: u32 = 110;

/// IPv4 addresses in one prefix-delegation slot: a `/28`, 16 addresses
/// (`IPS_PER_PREFIX`, `max-pods-calculator.sh` @0ab8428; aws.md §4.2).
pub const IPS_PER_PREFIX: u32 = 16;

/// Max-pods ceiling for instance types with at most
/// [`MAX_PODS_CEILING_VCPU_THRESHOLD`] vCPUs: 110
/// (`MAX_POD_CEILING_FOR_LOW_CPU`, `max-pods-calculator.sh` @0ab8428).
pub const MAX_PODS_CEILING_LOW_CPU: u32 = 110;

/// Max-pods ceiling above [`MAX_PODS_CEILING_VCPU_THRESHOLD`] vCPUs: 250
/// (`MAX_POD_CEILING_FOR_HIGH_CPU`, `max-pods-calculator.sh` @0ab8428).
pub const MAX_PODS_CEILING_HIGH_CPU: u32 = 250;

/// The vCPU count above which the higher ceiling applies (`CPU_COUNT -gt 30`,
/// `max-pods-calculator.sh` @0ab8428).
pub const MAX_PODS_CEILING_VCPU_THRESHOLD: u32 = 30;

/// evictionHard `memory.available`: 100 MiB (nodeadm's default kubelet
/// configuration, `config.go` @81fec2e; aws.md §4.3). It is subtracted from
/// memory capacity only.
pub const EVICTION_HARD_MEMORY_MIB: u32 = 100;

/// Karpenter's assumed VM memory overhead, in thousandths of the memory
/// (after [`GRAVITON_CMA_MIB`]): 75 ‰ = 7.5 % (`VMMemoryOverheadPercent`
/// default 0.075, aws/karpenter-provider-aws `pkg/operator/options/options.go`
/// @1d92708; aws.md §4.3).
pub const KARPENTER_VM_MEMORY_OVERHEAD_PERMILLE: u32 = 75;

/// Memory Karpenter removes from arm64 (Graviton) instance types before the
/// VM overhead: 64 MiB of CMA-reserved memory ("Gravitons have an extra 64 MiB
/// of cma reserved memory that we can't use", aws/karpenter-provider-aws
/// `pkg/providers/instancetype/types.go` @1d92708, `memory`).
pub const GRAVITON_CMA_MIB: u32 = 64;

/// maxPods in secondary-IP mode: ENIs × (IPv4 per ENI − 1) + 2 — the first
/// address of each ENI is the ENI's own, and 2 host-network pods (aws-node,
/// kube-proxy) need none.
///
/// Source: `calculateStandardMaxPods`, awslabs/amazon-eks-ami
/// `nodeadm/internal/kubelet/eni_max_pods.go` @81fec2e; the header of
/// aws/amazon-vpc-cni-k8s `misc/eni-max-pods.txt` (aws.md §4.2). nodeadm
/// (AL2023) does not cap this value (m5.24xlarge: 737); only the retired AL2
/// calculator script capped it like [`max_pods_prefix_delegation`].
///
/// Saturates instead of overflowing; 0 IPv4 addresses per ENI count as 1
/// (no pod address), giving 2.
pub fn max_pods_standard(enis: u32, ipv4_per_eni: u32) -> u32 {
    enis.saturating_mul(ipv4_per_eni.saturating_sub(1))
        .saturating_add(2)
}

/// maxPods with prefix delegation: ENIs × ((IPv4 per ENI − 1) × 16) + 2,
/// capped at 110 (≤ 30 vCPU) or 250 (> 30 vCPU).
///
/// Source: `calculate_max_ip_addresses_prefix_delegation` and the ceilings of
/// awslabs/amazon-eks-ami `templates/al2/runtime/max-pods-calculator.sh`
/// @0ab8428 (its last version, removed with AL2 in b228903, 2026-03-04), which
/// the EKS user guide's `choosing-instance-type.adoc` still recommends
/// (aws.md §4.2). nodeadm has no prefix-delegation mode of its own: the user
/// sets `maxPods` or a `maxPodsExpression` (its test emulates unbounded
/// prefix delegation on a t3.medium: 242, `eni_max_pods_test.go` @81fec2e).
/// Prefix delegation needs a Nitro instance and VPC CNI ≥ 1.9.0; the caller
/// checks that.
pub fn max_pods_prefix_delegation(enis: u32, ipv4_per_eni: u32, vcpu: u32) -> u32 {
    let uncapped = enis
        .saturating_mul(
            ipv4_per_eni
                .saturating_sub(1)
                .saturating_mul(IPS_PER_PREFIX),
        )
        .saturating_add(2);
    let ceiling = if vcpu > MAX_PODS_CEILING_VCPU_THRESHOLD {
        MAX_PODS_CEILING_HIGH_CPU
    } else {
        MAX_PODS_CEILING_LOW_CPU
    };
    uncapped.min(ceiling)
}

/// kube-reserved CPU (millicores): 6 % of the first core, 1 % of the second,
/// 0.5 % of cores 3–4, 0.25 % above — 1 vCPU 60 m, 2 → 70, 4 → 80, 8 → 90,
/// 16 → 110, 48 → 190, 96 → 310.
///
/// Source: `getCPUMillicoresToReserve` / `getResourceToReserveInRange`,
/// awslabs/amazon-eks-ami `nodeadm/internal/kubelet/config.go` @81fec2e
/// (aws.md §4.3): ranges 0–1000, 1000–2000, 2000–4000 and 4000–total
/// millicores at 600, 100, 50 and 25 basis points, each range's share
/// truncated to whole millicores separately (5 vCPU: 60 + 10 + 10 + 2 = 82).
pub fn kube_reserved_cpu_millicores(vcpu: u32) -> u32 {
    // (range start, range end, basis points); the last range ends at the total.
    let total = u64::from(vcpu) * 1000;
    let ranges: [(u64, u64, u64); 4] = [
        (0, 1000, 600),
        (1000, 2000, 100),
        (2000, 4000, 50),
        (4000, total, 25),
    ];
    let reserved: u64 = ranges
        .iter()
        .filter(|(start, _, _)| total > *start)
        .map(|(start, end, bp)| (total.min(*end) - start) * bp / 10_000)
        .sum();
    u32::try_from(reserved).unwrap_or(u32::MAX)
}

/// kube-reserved memory (MiB): 11 × maxPods + 255 (29 pods → 574; 58 → 893;
/// 110 → 1465; 234 → 2829).
///
/// Source: `getMemoryMebibytesToReserve`, awslabs/amazon-eks-ami
/// `nodeadm/internal/kubelet/config.go` @81fec2e (aws.md §4.3); nodeadm's
/// e2e case `kubelet-config-new-instance-type` expects 1465Mi for 110 pods.
/// Saturates instead of overflowing.
pub fn kube_reserved_memory_mib(max_pods: u32) -> u32 {
    max_pods.saturating_mul(11).saturating_add(255)
}

/// Allocatable = capacity − kube-reserved − eviction threshold, as the
/// EKS-optimized AMI configures the kubelet: CPU in millicores (vCPU × 1000 −
/// [`kube_reserved_cpu_millicores`]), memory in MiB
/// (`memory_capacity_mib` − [`kube_reserved_memory_mib`] −
/// [`EVICTION_HARD_MEMORY_MIB`]), slots = `max_pods`. System-reserved is
/// zero: nodeadm does not set it (module doc).
///
/// `memory_capacity_mib` is what the kubelet sees as capacity; the caller
/// decides how it relates to the nominal memory (module doc; Karpenter's
/// assumption is [`karpenter_memory_capacity_mib`]). Saturates at zero
/// instead of underflowing.
///
/// Source: kubernetes/website `reserve-compute-resources.md` @0189ae0 and
/// awslabs/amazon-eks-ami `nodeadm/internal/kubelet/config.go` @81fec2e
/// (aws.md §4.3).
pub fn allocatable(vcpu: u32, memory_capacity_mib: u32, max_pods: u32) -> Resources {
    Resources {
        cpu: vcpu
            .saturating_mul(1000)
            .saturating_sub(kube_reserved_cpu_millicores(vcpu)),
        memory: memory_capacity_mib
            .saturating_sub(kube_reserved_memory_mib(max_pods))
            .saturating_sub(EVICTION_HARD_MEMORY_MIB),
        slots: max_pods,
    }
}

/// The memory capacity (MiB) Karpenter assumes a node's kubelet will report
/// before it has seen one: nominal − 64 MiB on arm64, then − ⌈7.5 %⌉ of the
/// rest (m5.large: 8192 → 7577; c7g.large: 4096 → 3729).
///
/// Source: `memory`, aws/karpenter-provider-aws
/// `pkg/providers/instancetype/types.go` @1d92708, with the default
/// `VMMemoryOverheadPercent` 0.075 (`pkg/operator/options/options.go`
/// @1d92708; aws.md §4.3). Karpenter computes the overhead in floating point
/// from bytes; for whole MiB the exact integer form here gives the same
/// result (the overhead's fraction is a multiple of 1/40 MiB, far from any
/// rounding error). Feeding this to [`allocatable`] reproduces every row of
/// `ec2_instance_types_karpenter.csv`.
pub fn karpenter_memory_capacity_mib(nominal_mib: u32, arm64: bool) -> u32 {
    let base = if arm64 {
        nominal_mib.saturating_sub(GRAVITON_CMA_MIB)
    } else {
        nominal_mib
    };
    let overhead =
        (u64::from(base) * u64::from(KARPENTER_VM_MEMORY_OVERHEAD_PERMILLE)).div_ceil(1000);
    // overhead ≤ base because the rate is below 100 %.
    base.saturating_sub(u32::try_from(overhead).unwrap_or(u32::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;
    use std::path::PathBuf;

    /// The shared reference data folder (`$CAPSIM_REFERENCE_DATA`, else
    /// `../shared/data` beside the crate), if present.
    fn reference_data() -> Option<PathBuf> {
        let dir = std::env::var_os("CAPSIM_REFERENCE_DATA")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/data"))
            });
        dir.is_dir().then_some(dir)
    }

    /// `instance_type max_pods` lines of `eni-max-pods.txt`.
    fn eni_max_pods(text: &str) -> BTreeMap<String, u32> {
        text.lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(|l| {
                let mut f = l.split_whitespace();
                let t = f.next().unwrap().to_string();
                let n = f.next().unwrap().parse().unwrap();
                (t, n)
            })
            .collect()
    }

    /// A headed CSV without quoting, as rows of column → value.
    fn csv_rows(text: &str) -> Vec<BTreeMap<&str, &str>> {
        let mut lines = text.lines().filter(|l| !l.trim().is_empty());
        let header: Vec<&str> = lines.next().unwrap().split(',').collect();
        lines
            .map(|l| header.iter().copied().zip(l.split(',')).collect())
            .collect()
    }

    /// Max pods of a catalog row: from its ENIs where it has them (the
    /// formula), else its `eks_max_pods` (the VPC CNI's table).
    fn row_pods(r: &BTreeMap<&str, &str>) -> u32 {
        if r["max_enis"].is_empty() {
            num(r, "eks_max_pods")
        } else {
            max_pods_standard(num(r, "max_enis"), num(r, "ipv4_per_eni"))
        }
    }

    fn num(row: &BTreeMap<&str, &str>, col: &str) -> u32 {
        let v = row.get(col).unwrap_or_else(|| panic!("no column {col}"));
        v.parse()
            .unwrap_or_else(|_| panic!("{col} = {v:?} is not a number"))
    }

    const CATALOG: &str = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/src/platform/ec2_instances.csv"
    ));

    #[test]
    fn standard_max_pods_documented_examples() {
        // (ENIs, IPv4 per ENI) → max pods: m5.large, t3.medium, m5.4xlarge,
        // nodeadm's own test (6, 12 → 68), m5.24xlarge (uncapped on AL2023).
        for (enis, ips, pods) in [
            (3, 10, 29),
            (3, 6, 17),
            (8, 30, 234),
            (6, 12, 68),
            (15, 50, 737),
        ] {
            assert_eq!(max_pods_standard(enis, ips), pods, "{enis} × {ips}");
        }
    }

    #[test]
    fn standard_max_pods_degenerate_inputs() {
        assert_eq!(max_pods_standard(0, 10), 2);
        assert_eq!(max_pods_standard(3, 0), 2);
        assert_eq!(max_pods_standard(3, 1), 2);
        assert_eq!(max_pods_standard(u32::MAX, u32::MAX), u32::MAX);
    }

    #[test]
    fn prefix_delegation_caps() {
        // t3.medium: 3 × 5 × 16 + 2 = 242 unbounded (nodeadm's test), capped at 110.
        assert_eq!(max_pods_prefix_delegation(3, 6, 2), 110);
        // m5.large: 3 × 9 × 16 + 2 = 434 → 110.
        assert_eq!(max_pods_prefix_delegation(3, 10, 2), 110);
        // m5.24xlarge, 96 vCPU: 15 × 49 × 16 + 2 = 11762 → 250.
        assert_eq!(max_pods_prefix_delegation(15, 50, 96), 250);
        // Below the ceiling the formula stands: 1 ENI × 1 × 16 + 2 = 18.
        assert_eq!(max_pods_prefix_delegation(1, 2, 2), 18);
        assert_eq!(max_pods_prefix_delegation(2, 4, 1), 98);
        // The ceiling switches above 30 vCPU, not at 30.
        assert_eq!(max_pods_prefix_delegation(8, 30, 30), 110);
        assert_eq!(max_pods_prefix_delegation(8, 30, 31), 250);
        assert_eq!(max_pods_prefix_delegation(8, 30, 32), 250);
        // Degenerate inputs neither panic nor exceed the ceiling.
        assert_eq!(max_pods_prefix_delegation(0, 0, 0), 2);
        assert_eq!(
            max_pods_prefix_delegation(u32::MAX, u32::MAX, u32::MAX),
            250
        );
    }

    #[test]
    fn kube_reserved_cpu_documented_examples() {
        for (vcpu, m) in [
            (0, 0),
            (1, 60),
            (2, 70),
            (3, 75),
            (4, 80),
            (5, 82), // 60 + 10 + 10 + ⌊1000 × 0.25 %⌋ = 2
            (6, 85),
            (8, 90),
            (16, 110),
            (32, 150),
            (36, 160),
            (48, 190),
            (64, 230),
            (96, 310),
            (128, 390),
            (192, 550),
        ] {
            assert_eq!(kube_reserved_cpu_millicores(vcpu), m, "{vcpu} vCPU");
        }
        // Huge counts saturate rather than overflow.
        assert_eq!(kube_reserved_cpu_millicores(u32::MAX), u32::MAX);
    }

    #[test]
    fn kube_reserved_memory_documented_examples() {
        for (pods, mib) in [
            (0, 255),
            (8, 343),
            (17, 442),
            (29, 574),
            (58, 893),
            (110, 1465),
            (234, 2829),
            (737, 8362),
        ] {
            assert_eq!(kube_reserved_memory_mib(pods), mib, "{pods} pods");
        }
        assert_eq!(kube_reserved_memory_mib(u32::MAX), u32::MAX);
    }

    #[test]
    fn allocatable_m5_large() {
        // Karpenter's reference row: 1930 m, 6903 MiB, 29 pods.
        let cap = karpenter_memory_capacity_mib(8192, false);
        assert_eq!(cap, 7577);
        assert_eq!(
            allocatable(2, cap, 29),
            Resources {
                cpu: 1930,
                memory: 6903,
                slots: 29
            }
        );
        // c7g.large (arm64): 1930 m, 3055 MiB, 29 pods.
        assert_eq!(karpenter_memory_capacity_mib(4096, true), 3729);
        assert_eq!(
            allocatable(2, 3729, 29),
            Resources {
                cpu: 1930,
                memory: 3055,
                slots: 29
            }
        );
        // m5.4xlarge: 16 vCPU, 234 pods.
        assert_eq!(
            allocatable(16, karpenter_memory_capacity_mib(65536, false), 234),
            Resources {
                cpu: 15890,
                memory: 57691,
                slots: 234
            }
        );
    }

    #[test]
    fn allocatable_never_underflows() {
        assert_eq!(allocatable(0, 0, 0), Resources::default());
        assert_eq!(allocatable(1, 300, 110).memory, 0);
        let huge = allocatable(u32::MAX, u32::MAX, u32::MAX);
        assert_eq!(huge.slots, u32::MAX);
        assert_eq!(huge.memory, 0);
        assert_eq!(karpenter_memory_capacity_mib(0, true), 0);
        assert_eq!(
            karpenter_memory_capacity_mib(u32::MAX, false),
            3_972_844_747
        );
    }

    #[test]
    fn catalog_max_pods_match_formula_and_vpc_cni_table() {
        let rows = csv_rows(CATALOG);
        assert!(rows.len() >= 60, "{} catalog rows", rows.len());
        let curated = rows.iter().filter(|r| !r["max_enis"].is_empty()).count();
        assert!(curated >= 60, "{curated} rows with ENI limits");
        for r in &rows {
            let t = r["instance_type"];
            assert_eq!(
                row_pods(r),
                num(r, "eks_max_pods"),
                "{t}: formula vs eks_max_pods"
            );
        }
        let Some(dir) = reference_data() else {
            println!(
                "skipped: reference data not found (../shared/data or $CAPSIM_REFERENCE_DATA)"
            );
            return;
        };
        let text = std::fs::read_to_string(dir.join("catalogs/eni-max-pods.txt")).unwrap();
        let table = eni_max_pods(&text);
        assert!(
            table.len() > 1000,
            "{} rows in eni-max-pods.txt",
            table.len()
        );
        for r in &rows {
            let t = r["instance_type"];
            assert_eq!(
                Some(&row_pods(r)),
                table.get(t),
                "{t}: formula vs eni-max-pods.txt"
            );
        }
    }

    #[test]
    fn karpenter_reference_table_matches() {
        let Some(dir) = reference_data() else {
            println!(
                "skipped: reference data not found (../shared/data or $CAPSIM_REFERENCE_DATA)"
            );
            return;
        };
        let eni =
            eni_max_pods(&std::fs::read_to_string(dir.join("catalogs/eni-max-pods.txt")).unwrap());
        let text =
            std::fs::read_to_string(dir.join("catalogs/ec2_instance_types_karpenter.csv")).unwrap();
        let rows = csv_rows(&text);
        assert_eq!(rows.len(), 1363);
        for r in &rows {
            let t = r["instance_type"];
            let (vcpu, nominal, pods) = (
                num(r, "vcpu"),
                num(r, "memory_mib"),
                num(r, "allocatable_pods"),
            );
            assert_eq!(eni.get(t), Some(&pods), "{t}: pods vs eni-max-pods.txt");
            let arm64 = match r["arch"] {
                "arm64" => true,
                "amd64" => false,
                a => panic!("{t}: arch {a}"),
            };
            let a = allocatable(vcpu, karpenter_memory_capacity_mib(nominal, arm64), pods);
            assert_eq!(a.cpu, num(r, "allocatable_cpu_millicores"), "{t}: cpu");
            assert_eq!(a.memory, num(r, "allocatable_memory_mib"), "{t}: memory");
            assert_eq!(a.slots, pods, "{t}: pods");
        }
        // capsim's catalog: its ENI figures give Karpenter's pods, and its
        // vCPU and memory are Karpenter's.
        let by_type: BTreeMap<&str, &BTreeMap<&str, &str>> =
            rows.iter().map(|r| (r["instance_type"], r)).collect();
        for c in csv_rows(CATALOG) {
            let t = c["instance_type"];
            let k = by_type
                .get(t)
                .unwrap_or_else(|| panic!("{t} not in Karpenter's table"));
            assert_eq!(num(&c, "vcpu"), num(k, "vcpu"), "{t}: vcpu");
            assert_eq!(num(&c, "memory_mib"), num(k, "memory_mib"), "{t}: memory");
            assert_eq!(row_pods(&c), num(k, "allocatable_pods"), "{t}: pods");
        }
    }
}
