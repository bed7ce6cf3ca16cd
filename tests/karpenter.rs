//! Karpenter on EKS in a run: the shipped scenario (Spot and on-demand
//! NodePools), consolidation after a load drop (timing and cost), the
//! `WhenEmpty` policy, NodePool limits, expiry, Spot interruptions,
//! `compare eks-karpenter`, determinism, and the errors a NodePool gets.

mod common;
use capsim::RunOutput;
use capsim::scaling::Decision;

/// An EKS service on Karpenter: 1 vCPU / 2 GB pods, each request 50 ms of
/// CPU; `load`, the NodePools and extra `[platform]` keys as given.
fn karpenter(name: &str, duration: &str, load: &str, pools: &str, hpa: &str) -> String {
    format!(
        r#"
name = "{name}"
seed = 3
duration = "{duration}"
[load]
{load}
[workload]
cpu_ms = {{ dist = "constant", value = 50 }}
[task]
cpu = 1024
memory = 2048
concurrency = 16
[service]
desired = 2
[platform]
kind = "eks"
compute = "karpenter"
image_mb = 250
node_boot_s = {{ dist = "constant", value = 60 }}
container_start_s = {{ dist = "constant", value = 3 }}
app_start_s = {{ dist = "constant", value = 5 }}
{pools}
{hpa}
"#
    )
}

const HPA: &str = "[hpa]\nmin_replicas = 2\nmax_replicas = 30\ntarget_cpu_utilization = 60";

/// An on-demand pool of c/m types of generation 6 and above.
fn pool(extra: &str) -> String {
    format!(
        r#"
[[platform.node_pools]]
name = "od"
requirements = [
  {{ key = "karpenter.k8s.aws/instance-category", operator = "In", values = ["c", "m"] }},
  {{ key = "karpenter.k8s.aws/instance-generation", operator = "Gt", values = ["5"] }},
]
{extra}
"#
    )
}

/// 15 req/s, 150 from 20 min to 100 min, then 15 again, over 3 hours:
/// the HPA goes from 2 pods to about 13 and back.
const SURGE: &str = "kind = \"step\"\nrps = 15\nat = \"20m\"\nto_rps = 150\nuntil = \"100m\"";

fn rows<'a>(out: &'a RunOutput, alarm: &str) -> Vec<&'a Decision> {
    out.decisions
        .iter()
        .filter(|d| d.policy == "karpenter" && d.alarm == alarm)
        .collect()
}

fn acted(out: &RunOutput) -> Vec<&Decision> {
    rows(out, "consolidation")
        .into_iter()
        .filter(|d| d.action != "none")
        .collect()
}

/// Mean cost per minute over minutes `a..b`.
fn cost_rate(out: &RunOutput, a: usize, b: usize) -> f64 {
    out.minutes[a..b].iter().map(|m| m.cost_usd).sum::<f64>() / (b - a) as f64
}

#[test]
fn the_shipped_scenario_provisions_spot_first_and_leaves_no_pod_pending() {
    let s = std::fs::read_to_string(common::root().join("scenarios/eks-karpenter-web-api.toml"))
        .unwrap();
    let sc = common::scenario_with(&s, &[]).unwrap();
    let out = capsim::run(&sc).unwrap();
    common::assert_conserved(&out);
    let nodes = out.summary.nodes.as_ref().expect("nodes");
    let k = nodes.karpenter.as_ref().expect("Karpenter's counters");
    // The Spot pool has the higher weight and room under its limits.
    assert!(k.launched_spot >= 1, "{k:?}");
    assert_eq!(k.launched_on_demand, 0, "{k:?}");
    assert!(nodes.by_type.iter().all(|t| t.capacity_type == "spot"));
    assert!(out.summary.cost_usd.spot > 0.0);
    assert_eq!(out.summary.cost_usd.instances, 0.0);
    // Every launch row names its type, its price and what it chose from.
    for d in rows(&out, "provisioning") {
        assert!(
            d.action == "node_launch" && d.reason.to_string().contains("the cheapest of"),
            "{d:?}"
        );
    }
    // Some type fits every pod: none waits long. A pod the HPA asks for
    // serves within minutes (the batch, a node's boot, the image pull and
    // readiness), never stays pending.
    let mut short = 0;
    for m in &out.minutes {
        short = if m.serving + 1e-9 < m.desired as f64 {
            short + 1
        } else {
            0
        };
        assert!(short <= 5, "minute {}: {m:?}", m.minute);
    }
    assert!(out.summary.slo.meets == Some(true), "{:?}", out.summary.slo);
    // nodes.csv: by type and capacity type, minute by minute, adding up to
    // the minute's nodes.
    for m in &out.minutes {
        let sum: u32 = out
            .nodes
            .iter()
            .filter(|n| n.minute == m.minute)
            .map(|n| n.nodes)
            .sum();
        assert_eq!(Some(sum), m.instances, "minute {}", m.minute);
    }
    assert!(out.nodes.iter().all(|n| n.capacity_type == "spot"));
}

#[test]
fn consolidation_after_a_load_drop_lowers_the_hourly_cost_in_time() {
    let after = 120.0;
    let s = karpenter(
        "drop",
        "3h",
        SURGE,
        &pool(
            "disruption = { consolidation_policy = \"WhenEmptyOrUnderutilized\", consolidate_after = \"2m\" }",
        ),
        HPA,
    );
    let out = common::run(&s);
    common::assert_conserved(&out);
    // The HPA's last scale-in after the drop (100 min).
    let last_in = out
        .decisions
        .iter()
        .filter(|d| d.policy == "hpa" && d.action == "scale_in" && d.time_s > 6_000.0)
        .map(|d| d.time_s)
        .fold(f64::NAN, f64::max);
    assert!(last_in.is_finite(), "the HPA scaled in after the drop");
    let gone: Vec<f64> = acted(&out)
        .iter()
        .filter(|d| d.time_s > 6_000.0)
        .map(|d| d.time_s)
        .collect();
    assert!(!gone.is_empty(), "consolidation acted after the drop");
    // Within consolidateAfter of the pods leaving (their 30 s grace at
    // most), plus the evaluation: the next 10 s poll and the 15 s
    // validation.
    assert!(
        gone[0] <= last_in + 30.0 + after + 10.0 + 15.0,
        "first consolidation at {} s, last scale-in at {last_in} s",
        gone[0]
    );
    // And never before consolidateAfter passed since the first scale-in.
    let first_in = out
        .decisions
        .iter()
        .find(|d| d.policy == "hpa" && d.action == "scale_in" && d.time_s > 6_000.0)
        .unwrap()
        .time_s;
    assert!(
        gone[0] >= first_in + after,
        "{} < {first_in} + {after}",
        gone[0]
    );
    // The cost rate of the last half hour is below the surge's.
    let (peak, end) = (cost_rate(&out, 60, 90), cost_rate(&out, 150, 180));
    assert!(
        end < 0.6 * peak,
        "cost per minute {peak} during the surge, {end} at the end"
    );
    let k = out
        .summary
        .nodes
        .as_ref()
        .unwrap()
        .karpenter
        .clone()
        .unwrap();
    assert!(k.consolidation_empty + k.consolidation_deleted + k.consolidation_replaced >= 1);
    // Nodes at the end: what two pods and CoreDNS need.
    assert!(out.minutes.last().unwrap().instances <= Some(2));
}

#[test]
fn when_empty_deletes_only_empty_nodes() {
    let run = |policy: &str| {
        common::run(&karpenter(
            "policy",
            "3h",
            SURGE,
            &pool(&format!(
                "disruption = {{ consolidation_policy = \"{policy}\", consolidate_after = \"2m\" }}"
            )),
            HPA,
        ))
    };
    let empty = run("WhenEmpty");
    let acts = acted(&empty);
    assert!(!acts.is_empty(), "empty nodes went");
    for d in &acts {
        assert_eq!(d.action, "consolidate_delete", "{d:?}");
        assert!(d.reason.to_string().contains("(empty)"), "{d:?}");
    }
    let k = empty
        .summary
        .nodes
        .as_ref()
        .unwrap()
        .karpenter
        .clone()
        .unwrap();
    assert_eq!((k.consolidation_deleted, k.consolidation_replaced), (0, 0));
    assert_eq!(k.pods_disrupted, 0, "an empty node has no pod to evict");
    // Under-utilized nodes go too under the default policy: the bill is lower.
    let under = run("WhenEmptyOrUnderutilized");
    assert!(
        under.summary.cost_usd.instances < empty.summary.cost_usd.instances,
        "{} vs {}",
        under.summary.cost_usd.instances,
        empty.summary.cost_usd.instances
    );
}

#[test]
fn limits_cap_the_pool_and_the_rest_stays_pending() {
    // 150 req/s of 50 ms needs about 13 pods at 60 %; 8 vCPU of nodes hold
    // at most 7 of them beside the DaemonSets and CoreDNS.
    let out = common::run(&karpenter(
        "limits",
        "1h",
        "kind = \"constant\"\nrps = 150",
        &pool("limits = { cpu = 8 }"),
        HPA,
    ));
    let nodes = out.summary.nodes.as_ref().unwrap();
    let vcpus: f64 = nodes
        .by_type
        .iter()
        .map(|t| {
            let size = t.instance_type.split('.').nth(1).unwrap();
            let v = match size {
                "large" => 2.0,
                "xlarge" => 4.0,
                "2xlarge" => 8.0,
                other => panic!("a type larger than the limit: {other}"),
            };
            v * t.launched as f64
        })
        .sum();
    assert!(vcpus <= 8.0, "{:?}", nodes.by_type);
    assert!(
        rows(&out, "provisioning")
            .iter()
            .any(|d| d.reason.to_string().contains("would exceed its limits")),
        "the pods left are reported"
    );
    assert!(out.summary.tasks.pending_task_minutes > 10.0);
}

#[test]
fn nodes_expire_and_their_pods_move() {
    let out = common::run(&karpenter(
        "expiry",
        "2h",
        "kind = \"constant\"\nrps = 30",
        &pool("expire_after = \"30m\""),
        HPA,
    ));
    let k = out
        .summary
        .nodes
        .as_ref()
        .unwrap()
        .karpenter
        .clone()
        .unwrap();
    assert!(k.expired >= 3, "{k:?}");
    assert!(k.pods_disrupted >= 3, "{k:?}");
    assert!(
        rows(&out, "expiration")
            .iter()
            .all(|d| d.reason.to_string().contains("reached expireAfter"))
    );
    let last = out.minutes.last().unwrap();
    assert!(
        (last.serving - last.desired as f64).abs() < 1e-9,
        "{last:?}"
    );
}

#[test]
fn spot_interruptions_drain_and_provisioning_replaces() {
    let out = common::run(&karpenter(
        "spot",
        "6h",
        "kind = \"constant\"\nrps = 60",
        &format!(
            "spot_interruptions_per_hour = 0.5\n{}",
            pool("").replace(
                "requirements = [",
                "requirements = [\n  { key = \"karpenter.sh/capacity-type\", operator = \"In\", values = [\"spot\"] },"
            )
        ),
        HPA,
    ));
    let k = out
        .summary
        .nodes
        .as_ref()
        .unwrap()
        .karpenter
        .clone()
        .unwrap();
    assert!(k.spot_interruptions >= 1, "{k:?}");
    assert!(k.launched_spot > 1, "replacements launched: {k:?}");
    assert!(out.summary.tasks.spot_interrupted + out.summary.tasks.evicted >= 1);
    assert_eq!(
        rows(&out, "interruption").len() as u64,
        k.spot_interruptions
    );
    let last = out.minutes.last().unwrap();
    assert!(
        (last.serving - last.desired as f64).abs() < 1e-9,
        "{last:?}"
    );
}

#[test]
fn same_seed_same_bytes() {
    let s = karpenter(
        "det",
        "2h",
        SURGE,
        &pool("disruption = { consolidate_after = \"1m\" }"),
        HPA,
    );
    let a = common::run(&s);
    let b = common::run(&s);
    let strip = |o: &RunOutput| {
        let mut v = serde_json::to_value(&o.summary).unwrap();
        v["engine"]["wall_ms"] = serde_json::Value::Null;
        v
    };
    assert_eq!(strip(&a), strip(&b));
    assert_eq!(a.decisions, b.decisions);
    assert_eq!(a.minutes, b.minutes);
}

#[test]
fn compare_runs_eks_karpenter_beside_node_groups() {
    let d = tempfile::tempdir().unwrap();
    let s = std::fs::read_to_string(common::root().join("scenarios/quickstart.toml"))
        .unwrap()
        .replace("duration = \"1d\"", "duration = \"3h\"");
    std::fs::write(d.path().join("q.toml"), s).unwrap();
    std::fs::copy(
        common::root().join("scenarios/web-api-task.json"),
        d.path().join("web-api-task.json"),
    )
    .unwrap();
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_capsim"))
        .args([
            "compare",
            "q.toml",
            "--platforms",
            "eks-nodegroup,eks-karpenter",
            "--out",
            "cmp",
        ])
        .current_dir(d.path())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let table = String::from_utf8_lossy(&o.stdout);
    assert!(
        table
            .lines()
            .any(|l| l.starts_with("eks-karpenter") && l.contains("meets")),
        "{table}"
    );
    let page = std::fs::read_to_string(d.path().join("cmp/index.html")).unwrap();
    assert!(page.contains("Karpenter launches the cheapest instance types"));
    // What it ran with: the NodePool and how many types it allows, not a
    // list of hundreds.
    assert!(page.contains("Karpenter NodePool default ("), "{page}");
    assert!(!page.contains("c5.metal, c5.xlarge"));
}

#[test]
fn node_pool_errors_name_the_key() {
    let base = karpenter("bad", "10m", "kind = \"constant\"\nrps = 1", "", "");
    let cases: &[(&str, &str)] = &[
        (
            "[[platform.node_pools]]\nname = \"p\"\nrequirements = [{ key = \"karpenter.k8s.aws/instance-family\", operator = \"Within\", values = [\"m5\"] }]",
            "unknown operator \"Within\"",
        ),
        (
            "[[platform.node_pools]]\nname = \"p\"\nrequirements = [{ key = \"karpenter.k8s.aws/instance-gpu-count\", operator = \"Gt\", values = [\"0\"] }]",
            "is not modelled",
        ),
        (
            "[[platform.node_pools]]\nname = \"p\"\nrequirements = [{ key = \"karpenter.k8s.aws/instance-generation\", operator = \"Gt\", values = [\"new\"] }]",
            "needs one integer value",
        ),
        (
            "[[platform.node_pools]]\nname = \"p\"\nrequirements = [{ key = \"karpenter.k8s.aws/instance-family\", operator = \"In\", values = [\"m7g\"] }]",
            "allows no x86_64 instance type",
        ),
        (
            "[[platform.node_pools]]\nname = \"p\"\ndisruption = { budgets = [{ nodes = \"10%\", reasons = [\"Empty\"] }] }",
            "not modelled yet",
        ),
        (
            "[[platform.node_pools]]\nname = \"p\"\ndisruption = { budgets = [{ nodes = \"0\", schedule = \"@monthly\", duration = \"1h\" }] }",
            "calendar date",
        ),
        (
            "[[platform.node_pools]]\nname = \"p\"\ndisruption = { budgets = [{ nodes = \"0\", schedule = \"@daily\" }] }",
            "go together",
        ),
        (
            "[[platform.node_pools]]\nname = \"p\"\ndisruption = { budgets = [{ nodes = \"ten\" }] }",
            "expected a count",
        ),
        (
            "[[platform.node_pools]]\nname = \"p\"\ndisruption = { consolidation_policy = \"Balanced\" }",
            "Balanced is not modelled",
        ),
        (
            "[[platform.node_pools]]\nname = \"p\"\nexpire_after = \"soon\"",
            "or \"Never\"",
        ),
        (
            "[[platform.node_pools]]\nname = \"p\"\nlimits = { memory = \"lots\" }",
            "limits.memory",
        ),
        (
            "[[platform.node_pools]]\nname = \"p\"\n[[platform.node_pools]]\nname = \"p\"",
            "unique",
        ),
    ];
    for (pools, want) in cases {
        let s = base.replace("\n\n\n", &format!("\n{pools}\n"));
        let e = match common::scenario_with(&s, &[]).and_then(|sc| capsim::run(&sc).map(|_| ())) {
            Ok(()) => panic!("accepted: {pools}"),
            Err(e) => e.to_string(),
        };
        assert!(e.contains(want), "{pools}\n→ {e}");
        assert!(e.contains("platform.node_pools"), "{e}");
    }
}

mod property {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

        /// Over random pods, NodePools and loads: the budgets hold at
        /// every poll and every consolidation carried out, no node holds
        /// more than it offers, every replacement is strictly cheaper, and
        /// every request is accounted for.
        #[test]
        fn budgets_allocation_and_prices_hold(
            seed in 0u64..1_000,
            cpu in prop::sample::select(vec![256u32, 512, 1024, 2048, 4096]),
            mem_per_vcpu in prop::sample::select(vec![1u32, 2, 4, 8]),
            categories in prop::sample::subsequence(vec!["c", "m", "r"], 1..=3),
            spot in any::<bool>(),
            on_demand in any::<bool>(),
            budget in prop_oneof![(1u32..4).prop_map(|n| n.to_string()), (10u32..60).prop_map(|p| format!("{p}%"))],
            after_s in 0u32..300,
            when_empty in any::<bool>(),
            (low, high) in (5u32..40, 40u32..250),
            target in 40u32..85,
        ) {
            let memory = (cpu * mem_per_vcpu * 1024 / 1024).max(512);
            let mut capacity = Vec::new();
            if spot || !on_demand { capacity.push("\"spot\""); }
            if on_demand { capacity.push("\"on-demand\""); }
            let cats: Vec<String> = categories.iter().map(|c| format!("\"{c}\"")).collect();
            let s = format!(
                r#"
name = "prop"
seed = {seed}
duration = "1h"
[load]
kind = "step"
rps = {low}
at = "15m"
to_rps = {high}
until = "35m"
[workload]
cpu_ms = {{ dist = "exponential", mean = 40 }}
[task]
cpu = {cpu}
memory = {memory}
concurrency = 16
[service]
desired = 2
[platform]
kind = "eks"
compute = "karpenter"
spot_interruptions_per_hour = 0.2
node_boot_s = {{ dist = "lognormal", mean = 60, p99 = 120 }}
[[platform.node_pools]]
name = "p"
requirements = [
  {{ key = "karpenter.sh/capacity-type", operator = "In", values = [{}] }},
  {{ key = "karpenter.k8s.aws/instance-category", operator = "In", values = [{}] }},
  {{ key = "karpenter.k8s.aws/instance-generation", operator = "Gt", values = ["4"] }},
]
disruption = {{ consolidation_policy = "{}", consolidate_after = "{after_s}s", budgets = [{{ nodes = "{budget}" }}] }}
[platform.karpenter]
spot_to_spot_consolidation = true
[hpa]
min_replicas = 2
max_replicas = 40
target_cpu_utilization = {target}
"#,
                capacity.join(", "),
                cats.join(", "),
                if when_empty { "WhenEmpty" } else { "WhenEmptyOrUnderutilized" },
            );
            let out = common::run(&s);
            common::assert_conserved(&out);
            let k = out.summary.nodes.as_ref().unwrap().karpenter.clone().unwrap();
            prop_assert!(k.audit.audits > 0);
            prop_assert_eq!(k.audit.over_budget, 0, "{:?}", k);
            prop_assert_eq!(k.audit.over_allocated, 0, "{:?}", k);
            prop_assert_eq!(k.audit.dearer_replacements, 0, "{:?}", k);
            if when_empty {
                prop_assert_eq!(k.consolidation_deleted + k.consolidation_replaced, 0);
            }
        }
    }
}

/// A Deployment asking for nodes labelled `workload: web`, its pods
/// annotated `karpenter.sh/do-not-disrupt` when `protected`.
fn manifest(protected: bool) -> String {
    format!(
        r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  selector:
    matchLabels: {{ app: web }}
  template:
    metadata:
      labels: {{ app: web }}
      annotations:
        karpenter.sh/do-not-disrupt: "{protected}"
    spec:
      nodeSelector:
        workload: web
      containers:
        - name: web
          image: registry.example.com/web:1
          resources:
            requests: {{ cpu: "1", memory: 2Gi }}
"#
    )
}

fn with_manifest(protected: bool, pool_labels: &str) -> RunOutput {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("app.yaml"), manifest(protected)).unwrap();
    let s = karpenter(
        "manifest",
        "3h",
        SURGE,
        &pool(&format!(
            "labels = {{ {pool_labels} }}\ndisruption = {{ consolidate_after = \"2m\" }}"
        )),
        HPA,
    )
    .replace("cpu = 1024\nmemory = 2048\n", "manifest = \"app.yaml\"\n");
    let sc = capsim::Scenario::from_toml_str(&s, d.path(), std::path::Path::new("<test>"), &[])
        .unwrap_or_else(|e| panic!("{e}"));
    capsim::run(&sc).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn node_selectors_pick_the_pool_and_do_not_disrupt_blocks_consolidation() {
    let free = with_manifest(false, "workload = \"web\"");
    let kept = with_manifest(true, "workload = \"web\"");
    for out in [&free, &kept] {
        common::assert_conserved(out);
        let last = out.minutes.last().unwrap();
        assert!(
            (last.serving - last.desired as f64).abs() < 1e-9,
            "{last:?}"
        );
    }
    let k = |o: &RunOutput| o.summary.nodes.as_ref().unwrap().karpenter.clone().unwrap();
    assert!(free.summary.tasks.evicted >= 1, "{:?}", k(&free));
    // Nodes holding a protected pod are never consolidated: none of its
    // pods is evicted; empty nodes and nodes of CoreDNS alone still go.
    assert_eq!(kept.summary.tasks.evicted, 0, "{:?}", k(&kept));
    assert!(k(&kept).consolidation_empty >= 1, "{:?}", k(&kept));
    assert!(kept.summary.cost_usd.instances > free.summary.cost_usd.instances);
    // No pool carries the label: the pods stay pending, and Karpenter
    // launches nothing for them (CoreDNS's node only).
    let none = with_manifest(false, "team = \"other\"");
    let k = k(&none);
    assert_eq!(k.launched_on_demand + k.launched_spot, 1, "{k:?}");
    assert!(
        rows(&none, "provisioning")
            .iter()
            .any(|d| d.reason.to_string().contains("nodeSelector")),
    );
    assert_eq!(none.summary.requests.completed, 0);
}

const NODE_POOL: &str = r#"---
apiVersion: karpenter.sh/v1
kind: NodePool
metadata:
  name: web-spot
spec:
  weight: 50
  limits:
    cpu: "32"
  disruption:
    consolidationPolicy: WhenEmptyOrUnderutilized
    consolidateAfter: 2m
    budgets:
      - nodes: "20%"
  template:
    metadata:
      labels:
        workload: web
    spec:
      nodeClassRef: { group: karpenter.k8s.aws, kind: EC2NodeClass, name: default }
      expireAfter: 720h
      requirements:
        - key: karpenter.sh/capacity-type
          operator: In
          values: ["spot"]
        - key: karpenter.k8s.aws/instance-category
          operator: In
          values: ["c", "m"]
        - key: karpenter.k8s.aws/instance-generation
          operator: Gt
          values: ["5"]
---
apiVersion: karpenter.k8s.aws/v1
kind: EC2NodeClass
metadata:
  name: default
spec:
  amiSelectorTerms: [{ alias: al2023@latest }]
"#;

fn manifest_run(yaml: &str, extra: &str) -> Result<RunOutput, String> {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("app.yaml"), yaml).unwrap();
    let s = karpenter("np", "3h", SURGE, extra, HPA)
        .replace("cpu = 1024\nmemory = 2048\n", "manifest = \"app.yaml\"\n");
    capsim::Scenario::from_toml_str(&s, d.path(), std::path::Path::new("<test>"), &[])
        .and_then(|sc| capsim::run(&sc))
        .map_err(|e| e.to_string())
}

#[test]
fn a_manifests_node_pool_is_read_and_runs() {
    let out = manifest_run(&format!("{}{NODE_POOL}", manifest(false)), "").unwrap();
    common::assert_conserved(&out);
    let nodes = out.summary.nodes.as_ref().unwrap();
    let k = nodes.karpenter.clone().unwrap();
    assert!(k.launched_spot >= 1 && k.launched_on_demand == 0, "{k:?}");
    assert!(
        rows(&out, "provisioning").iter().all(|d| d
            .reason
            .to_string()
            .starts_with("NodePool web-spot")
            || d.reason
                .to_string()
                .starts_with("warm start: NodePool web-spot")),
        "{:?}",
        rows(&out, "provisioning")
    );
    assert!(
        out.summary.notes.iter().any(|n| n.contains("EC2NodeClass")),
        "{:?}",
        out.summary.notes
    );
    let last = out.minutes.last().unwrap();
    assert!(
        (last.serving - last.desired as f64).abs() < 1e-9,
        "{last:?}"
    );
}

#[test]
fn a_manifests_node_pool_errors_name_the_line() {
    let bad_op = NODE_POOL.replace("operator: Gt", "operator: Above");
    let e = manifest_run(&format!("{}{bad_op}", manifest(false)), "").unwrap_err();
    assert!(e.contains("line ") && e.contains("\"Above\""), "{e}");
    let beta = NODE_POOL.replace("karpenter.sh/v1\n", "karpenter.sh/v1beta1\n");
    let e = manifest_run(&format!("{}{beta}", manifest(false)), "").unwrap_err();
    assert!(e.contains("karpenter.sh/v1 NodePools"), "{e}");
    let gpu = NODE_POOL.replace(
        "karpenter.k8s.aws/instance-generation",
        "karpenter.k8s.aws/instance-gpu-count",
    );
    let e = manifest_run(&format!("{}{gpu}", manifest(false)), "").unwrap_err();
    assert!(
        e.contains("task.manifest")
            && e.contains("NodePool web-spot")
            && e.contains("not modelled"),
        "{e}"
    );
    // The requirement's own line (1-based; its `- key:` line).
    let line = format!("{}{gpu}", manifest(false))
        .lines()
        .position(|l| l.contains("instance-gpu-count"))
        .unwrap()
        + 1;
    assert!(e.contains(&format!("line {line}:")), "{e}");
    let both = manifest_run(&format!("{}{NODE_POOL}", manifest(false)), &pool("")).unwrap_err();
    assert!(both.contains("not both"), "{both}");
}

#[test]
fn a_selector_on_a_label_every_node_of_the_pool_carries_is_met() {
    // kubernetes.io/os and the pool's single capacity type are on every
    // node Karpenter launches: the pods run, and the launches are those
    // the load needs (no relaunch for pods a node could not take).
    let yaml = manifest(false).replace(
        "workload: web",
        "kubernetes.io/os: linux\n        karpenter.sh/capacity-type: on-demand",
    );
    let out = with_manifest_yaml(&yaml, "");
    let k = out
        .summary
        .nodes
        .as_ref()
        .unwrap()
        .karpenter
        .clone()
        .unwrap();
    assert!(k.launched_on_demand <= 12, "{k:?}");
    let last = out.minutes.last().unwrap();
    assert!(
        (last.serving - last.desired as f64).abs() < 1e-9,
        "{last:?}"
    );
    // A label that varies between the pool's types (the size) is not met:
    // the pods stay pending, nothing launches for them.
    let yaml = manifest(false).replace("workload: web", "karpenter.k8s.aws/instance-size: xlarge");
    let out = with_manifest_yaml(&yaml, "");
    assert_eq!(out.summary.requests.completed, 0);
    let k = out
        .summary
        .nodes
        .as_ref()
        .unwrap()
        .karpenter
        .clone()
        .unwrap();
    assert_eq!(k.launched_on_demand, 1, "CoreDNS's node only: {k:?}");
}

fn with_manifest_yaml(yaml: &str, pool_labels: &str) -> RunOutput {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("app.yaml"), yaml).unwrap();
    let s = karpenter(
        "selector",
        "3h",
        SURGE,
        &pool(&format!(
            "labels = {{ {pool_labels} }}\ndisruption = {{ consolidate_after = \"2m\" }}"
        )),
        HPA,
    )
    .replace("cpu = 1024\nmemory = 2048\n", "manifest = \"app.yaml\"\n");
    let sc = capsim::Scenario::from_toml_str(&s, d.path(), std::path::Path::new("<test>"), &[])
        .unwrap_or_else(|e| panic!("{e}"));
    capsim::run(&sc).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn a_scheduled_budget_holds_consolidation_back_while_it_is_open() {
    // No disruption from 01:00 for 2 hours (the drop comes at 01:40):
    // consolidation waits for 03:00; the 10 % budget applies at all times.
    let run = |budgets: &str| {
        common::run(&karpenter(
            "scheduled",
            "4h",
            SURGE,
            &pool(&format!(
                "disruption = {{ consolidate_after = \"2m\", budgets = [{budgets}] }}"
            )),
            HPA,
        ))
    };
    let free = run("{ nodes = \"10%\" }");
    let held =
        run("{ nodes = \"10%\" }, { nodes = \"0\", schedule = \"0 1 * * *\", duration = \"2h\" }");
    let after_drop = |o: &RunOutput| -> Vec<f64> {
        acted(o)
            .iter()
            .map(|d| d.time_s)
            .filter(|t| *t > 6_000.0)
            .collect()
    };
    let f = after_drop(&free);
    let h = after_drop(&held);
    assert!(!f.is_empty() && f[0] < 3.0 * 3_600.0, "{f:?}");
    assert!(!h.is_empty(), "it acts once the window closes");
    assert!(h.iter().all(|t| *t >= 3.0 * 3_600.0), "{h:?}");
    // Nothing was disrupted inside the window at all.
    assert!(
        acted(&held)
            .iter()
            .all(|d| d.time_s < 3_600.0 || d.time_s >= 3.0 * 3_600.0),
        "{:?}",
        acted(&held)
    );
}
