//! EKS on Fargate: the capacity a pod runs on, as AWS sizes it
//! (awsdocs/amazon-eks-user-guide `latest/ug/nodes/fargate-pod-configuration.adoc`
//! @4d52b4d; aws.md §1.6): the pod's request is the larger of the largest
//! init container's and the sum of the long-running containers' (for vCPU
//! and memory separately — Kubernetes' effective request); 256 MB is added
//! to memory for the Kubernetes components (kubelet, kube-proxy,
//! containerd); the result is rounded up to the smallest Fargate size
//! (the table ECS uses, `platform::fargate`) that holds both, which can
//! raise the vCPU (1 vCPU / 8 GB asks for 8.25 GB, which only a 2 vCPU size
//! offers: 2 vCPU / 9 GB). A pod without requests gets 0.25 vCPU / 0.5 GB.
//! What the pod is billed is that size (the `CapacityProvisioned`
//! annotation), per second with a one-minute minimum, as Fargate.

use crate::platform::fargate;

/// Memory AWS adds to a Fargate pod for the Kubernetes components (MiB).
pub const K8S_OVERHEAD_MIB: u32 = 256;

/// The Fargate size (CPU units, MiB) a pod with these requests runs on
/// (CPU in millicores, memory in MiB; `None` = no request), or why none
/// fits (above 16 vCPU / 120 GB).
pub fn pod_size(
    cpu_millicores: Option<u32>,
    memory_mib: Option<u32>,
) -> Result<(u32, u32), String> {
    if cpu_millicores.is_none() && memory_mib.is_none() {
        return Ok((256, 512));
    }
    // Millicores to CPU units, rounded up (1000m = 1024 units).
    let cpu = (cpu_millicores.unwrap_or(0) as u64 * 1024).div_ceil(1000);
    let mem = memory_mib.unwrap_or(0) as u64 + K8S_OVERHEAD_MIB as u64;
    let fits = u32::try_from(cpu).ok().zip(u32::try_from(mem).ok());
    fits.and_then(|(c, m)| fargate::round_up(c, m)).ok_or_else(|| {
        format!(
            "no Fargate size holds {}m vCPU and {} MiB (the requests plus {K8S_OVERHEAD_MIB} MiB for Kubernetes); the largest is 16 vCPU / 120 GB",
            cpu_millicores.unwrap_or(0),
            mem
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_as_aws_documents() {
        // The EKS user guide's worked example: 1 vCPU / 8 GB → 2 vCPU / 9 GB.
        assert_eq!(pod_size(Some(1000), Some(8192)), Ok((2048, 9216)));
        // No request: the smallest size.
        assert_eq!(pod_size(None, None), Ok((256, 512)));
        // 0.25 vCPU / 256 MiB + 256 → 512 MiB fits the smallest.
        assert_eq!(pod_size(Some(250), Some(256)), Ok((256, 512)));
        // 0.25 vCPU / 512 MiB + 256 → 768 MiB: the next memory step, 1 GB.
        assert_eq!(pod_size(Some(250), Some(512)), Ok((256, 1024)));
        // 0.25 vCPU / 2 GB + 256 → no 0.25 vCPU size has > 2 GB: 0.5 vCPU / 3 GB.
        assert_eq!(pod_size(Some(250), Some(2048)), Ok((512, 3072)));
        // 0.5 vCPU / 1 GB + 256 → 2 GB.
        assert_eq!(pod_size(Some(500), Some(1024)), Ok((512, 2048)));
        // 100m rounds up to 0.25 vCPU.
        assert_eq!(pod_size(Some(100), Some(100)), Ok((256, 512)));
        // 1.5 vCPU → 2 vCPU (4 GB is the smallest 2 vCPU memory).
        assert_eq!(pod_size(Some(1500), Some(1024)), Ok((2048, 4096)));
        // Above 16 vCPU / 120 GB: refused.
        assert!(pod_size(Some(16_001), Some(1024)).is_err());
        assert!(pod_size(Some(1000), Some(120 * 1024)).is_err());
    }
}
