#!/usr/bin/env python3
"""Regenerates src/platform/ec2_instances.csv, capsim's EC2 catalog: curated rows
(with ENI limits) for the common families, then every other type the Karpenter
reference prices (without them).

Inputs (beside the project, not part of it):
  ../shared/data/catalogs/ec2_instance_types_karpenter.csv  vCPU, memory, arch, us-east-1 on-demand $/h
      (aws/karpenter-provider-aws instance-type reference 2026-07-11, price table generated 2026-07-20)
  ../shared/data/catalogs/eni-max-pods.txt                 EKS max pods (aws/amazon-vpc-cni-k8s misc/eni-max-pods.txt)
ENIs x IPv4 per ENI and the awsvpc task limits (with and without ENI trunking) come from
shared/reference/aws.md §3.1 (awslabs/amazon-eks-ami instance-info.jsonl) and §2.7
(AWS ECS developer guide container-instance-eni.md): encoded below.
"""
import csv, os, sys

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.dirname(here)
data = os.path.join(root, "..", "shared", "data", "catalogs")

FAMILIES = ["t3", "t4g", "m5", "m6i", "m7i", "m6a", "c5", "c6i", "c7i", "r6i", "m6g", "m7g", "c6g", "c7g", "r6g"]
SIZES = ["medium", "large", "xlarge", "2xlarge", "4xlarge"]
BURSTABLE = {"t3", "t4g"}
GRAVITON = {"m6g", "m7g", "c6g", "c7g", "r6g", "t4g"}
# aws.md §2.7: families in the ECS ENI trunking table.
TRUNKING = {"c5", "m5", "m6i", "c6i", "r6i", "m6a", "m6g", "m7g", "c6g", "c7g", "r6g"}
TRUNK_TASKS = {"medium": 4, "large": 10, "xlarge": 20, "2xlarge": 40, "4xlarge": 60}

def enis(family, size):
    """(ENIs, IPv4 per ENI), aws.md §3.1."""
    if family in BURSTABLE:
        return {"medium": (3, 6), "large": (3, 12), "xlarge": (4, 15), "2xlarge": (4, 15)}.get(size)
    if size == "medium":
        return (2, 4) if family in GRAVITON else None
    return {"large": (3, 10), "xlarge": (4, 15), "2xlarge": (4, 15), "4xlarge": (8, 30)}[size]

def main():
    kp = {r["instance_type"]: r for r in csv.DictReader(open(os.path.join(data, "ec2_instance_types_karpenter.csv")))}
    pods = {}
    for line in open(os.path.join(data, "eni-max-pods.txt")):
        parts = line.split()
        if len(parts) == 2 and not line.startswith("#"):
            pods[parts[0]] = int(parts[1])
    out = csv.writer(open(os.path.join(root, "src", "platform", "ec2_instances.csv"), "w", newline=""), lineterminator="\n")
    out.writerow(["instance_type", "family", "size", "arch", "vcpu", "memory_mib", "od_usd_per_hour", "max_enis",
                  "ipv4_per_eni", "awsvpc_tasks", "awsvpc_tasks_trunking", "eks_max_pods", "source"])
    n = 0
    for f in FAMILIES:
        for s in SIZES:
            t = f"{f}.{s}"
            if t not in kp or not kp[t]["od_price_usd_per_hr_us_east_1"]:
                continue
            e = enis(f, s)
            if e is None:
                sys.exit(f"no ENI data for {t}")
            r = kp[t]
            max_pods = e[0] * (e[1] - 1) + 2
            if pods.get(t) != max_pods:
                sys.exit(f"{t}: max pods {pods.get(t)} in eni-max-pods.txt vs {max_pods} from ENIs")
            trunk = TRUNK_TASKS[s] if f in TRUNKING and not (s == "medium" and f not in GRAVITON) else ""
            arch = "arm64" if r["arch"] == "arm64" else "x86_64"
            out.writerow([t, f, s, arch, r["vcpu"], r["memory_mib"], r["od_price_usd_per_hr_us_east_1"], e[0], e[1],
                          e[0] - 1, trunk, max_pods,
                          "karpenter-provider-aws reference 2026-07-11 + us-east-1 prices 2026-07-20; ENIs aws.md 3.1; trunking aws.md 2.7"])
            n += 1
    # Every other type the Karpenter reference prices: what Karpenter chooses
    # from. The ENI columns stay empty (capsim's ENI table covers the
    # curated families only; ECS awsvpc tasks need them), max pods come from
    # eni-max-pods.txt.
    curated = {f"{f}.{s}" for f in FAMILIES for s in SIZES}
    for t in sorted(kp, key=sort_key):
        r = kp[t]
        if t in curated or not r["od_price_usd_per_hr_us_east_1"]:
            continue
        if t not in pods:
            sys.exit(f"{t}: no max pods in eni-max-pods.txt")
        arch = "arm64" if r["arch"] == "arm64" else "x86_64"
        out.writerow([t, r["family"], r["size"], arch, r["vcpu"], r["memory_mib"], r["od_price_usd_per_hr_us_east_1"],
                      "", "", "", "", pods[t],
                      "karpenter-provider-aws reference 2026-07-11 + us-east-1 prices 2026-07-20; max pods eni-max-pods.txt (amazon-vpc-cni-k8s); ENIs not curated"])
        n += 1
    print(f"{n} instance types written")

def sort_key(t):
    """Family, then size by vCPU-like order of the size names (metal last)."""
    family, _, size = t.partition(".")
    order = ["nano", "micro", "small", "medium", "large", "xlarge"]
    if size in order:
        rank = order.index(size)
    elif size.endswith("xlarge") and size[:-6].isdigit():
        rank = 5 + int(size[:-6])
    else:
        rank = 10_000
    return (family, rank, size)

main()
