//! EKS: bills to the cent, EKS Fargate sizing, the HPA and the Cluster
//! Autoscaler against their documented behaviour (steady state, a surge
//! stage by stage, scale-down after stabilization and the unneeded time),
//! the YAML manifest, several Deployments on one cluster, `compare` across
//! ECS, EKS and Fargate, and the errors that name the other orchestrator.

mod common;
use capsim::RunOutput;
use capsim::report::TaskRow;
use capsim::scaling::Decision;
use std::path::Path;
use std::process::Command;

/// An EKS service: 1 vCPU / 2 GB pods, each request 50 ms of CPU.
fn eks(name: &str, duration: &str, load: &str, platform: &str, hpa: &str) -> String {
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
image_mb = 250
node_boot_s = {{ dist = "constant", value = 60 }}
provisioning_s = {{ dist = "constant", value = 40 }}
container_start_s = {{ dist = "constant", value = 3 }}
app_start_s = {{ dist = "constant", value = 5 }}
{platform}
{hpa}
"#
    )
}

fn decisions<'a>(out: &'a RunOutput, policy: &str) -> Vec<&'a Decision> {
    out.decisions
        .iter()
        .filter(|d| d.policy == policy)
        .collect()
}

#[test]
fn node_groups_and_control_plane_bill_to_the_cent() {
    // 3 × m5.large ($0.096/h) for 30 days and the standard control plane
    // ($0.10/h): $207.36 + $72.00 (aws.md §3.1, §4.1).
    let s = eks(
        "bill",
        "30d",
        "kind = \"constant\"\nrps = 1",
        r#"
[platform.cluster_autoscaler]
enabled = false
[[platform.node_groups]]
name = "ng"
instance_types = ["m5.large"]
min_size = 3
max_size = 3
"#,
        "[load_balancer]\nenabled = false",
    );
    let out = common::run(&s);
    let c = &out.summary.cost_usd;
    assert!((c.instances - 207.36).abs() < 0.005, "{c:?}");
    assert!((c.control_plane - 72.00).abs() < 0.005, "{c:?}");
    assert!((c.total - 279.36).abs() < 0.005, "{c:?}");
    let n = out.summary.nodes.as_ref().unwrap();
    assert_eq!((n.min, n.max), (3, 3));
    // Extended support: $0.60 per cluster-hour.
    let out = common::run(&s.replace("kind = \"eks\"", "kind = \"eks\"\nsupport = \"extended\""));
    assert!((out.summary.cost_usd.control_plane - 432.00).abs() < 0.005);
}

#[test]
fn eks_fargate_sizes_pods_up_and_bills_them_as_fargate() {
    // Requests of 1 vCPU / 8 GB run on 2 vCPU / 9 GB (EKS user guide's
    // example; aws.md §1.6). Two warm pods for a day, billed per second:
    // 2 × 24 h × (2 × $0.04048 + 9 × $0.004445) + 24 × $0.10.
    let s = eks(
        "fargate",
        "1d",
        "kind = \"constant\"\nrps = 1",
        "compute = \"fargate\"",
        "[load_balancer]\nenabled = false",
    )
    .replace("memory = 2048", "memory = 8192");
    let out = common::run(&s);
    let want = 2.0 * 24.0 * (2.0 * 0.04048 + 9.0 * 0.004445);
    let c = &out.summary.cost_usd;
    assert!((c.compute - want).abs() < 1e-6, "{} vs {want}", c.compute);
    assert!((c.control_plane - 2.40).abs() < 1e-9);
    assert!(out.summary.nodes.is_none(), "no nodes on Fargate");
    assert!(
        out.summary
            .notes
            .iter()
            .any(|n| n.contains("2 vCPU / 9 GB")),
        "{:?}",
        out.summary.notes
    );
    // A Fargate pod may use its whole size: 2 vCPU of CPU, not its 1 vCPU request.
    let c = capsim::Scenario::compile(&common::scenario(&s)).unwrap();
    assert_eq!(c.shape.cpu_units, 2048);
    assert_eq!(c.task.shape.cpu_units, 1024);
}

/// Steady 36 req/s × 50 ms = 1.8 cores; at 50 % of a 1 vCPU request the HPA
/// settles where |1 − 1.8 / (n × 0.5)| ≤ 0.1 (its tolerance): n = 4 is the
/// only such count (3 pods run at 60 %, 5 at 36 %). m5.xlarge allocatable:
/// 4000m − 80m kube-reserved = 3920m, minus aws-node 50m and kube-proxy
/// 100m: 3770m, three 1 vCPU pods (CoreDNS 100m fits beside them): 4 pods
/// need 2 nodes, one more than the group starts with.
#[test]
fn steady_load_converges_to_the_hpa_count_and_the_nodes_it_needs() {
    let s = eks(
        "steady",
        "2h",
        "kind = \"constant\"\nrps = 36",
        r#"
[[platform.node_groups]]
name = "ng"
instance_types = ["m5.xlarge"]
min_size = 1
max_size = 10
"#,
        "[hpa]\nmin_replicas = 2\nmax_replicas = 30\ntarget_cpu_utilization = 50",
    );
    let out = common::run(&s);
    common::assert_conserved(&out);
    let last = out.minutes.last().unwrap();
    assert_eq!(last.desired, 4, "replicas at the end");
    assert_eq!(last.instances, Some(2), "nodes at the end");
    // The last hour is settled: 4 pods serving on 2 nodes.
    for m in &out.minutes[60..] {
        assert_eq!(m.desired, 4, "minute {}", m.minute);
        assert_eq!(m.instances, Some(2), "minute {}", m.minute);
        assert!(
            (m.serving - 4.0).abs() < 1e-9,
            "minute {}: {}",
            m.minute,
            m.serving
        );
    }
    // The HPA's arithmetic is in the log.
    let hpa = decisions(&out, "hpa");
    assert!(
        hpa.iter().any(|d| d.reason.contains("ready pods ×")),
        "{hpa:?}"
    );
    let ca = decisions(&out, "cluster-autoscaler");
    assert!(
        ca.iter()
            .any(|d| d.action == "nodes_out" && d.reason.contains("chose ng")),
        "{ca:?}"
    );
}

fn task_rows(out: &RunOutput) -> &[TaskRow] {
    &out.tasks
}

/// A surge: 30 → 150 req/s at 20 min on 3 pods and 1 node. The HPA scales
/// first (after a metrics window and its sync), the new pods are Pending,
/// the Cluster Autoscaler adds nodes within one scan, the nodes become Ready
/// after their boot (60 s), then each pod pulls its image (25 s), starts
/// (3 s) — Ready at once, no readiness probe — and passes its first ALB
/// health check after the application is up (5 s; within the 30 s interval).
#[test]
fn a_surge_goes_through_hpa_pending_nodes_and_readiness_in_order() {
    let s = eks(
        "surge",
        "1h",
        "kind = \"step\"\nrps = 30\nat = \"20m\"\nto_rps = 150",
        r#"
[[platform.node_groups]]
name = "ng"
instance_types = ["m5.xlarge"]
min_size = 1
max_size = 10
"#,
        "[hpa]\nmin_replicas = 2\nmax_replicas = 30\ntarget_cpu_utilization = 60",
    )
    .replace("desired = 2", "desired = 3");
    let out = common::run(&s);
    let step = 1_200.0;
    let hpa = decisions(&out, "hpa");
    let first_out = hpa
        .iter()
        .find(|d| d.action == "scale_out" && d.time_s > step)
        .expect("the HPA scales out");
    // A sample window (15 s) must end after the step and reach the HPA
    // (15 s delay) at a sync (every 15 s).
    assert!(
        first_out.time_s >= step + 30.0 && first_out.time_s <= step + 60.0,
        "HPA at {}",
        first_out.time_s
    );
    let ca = decisions(&out, "cluster-autoscaler");
    let first_nodes = ca
        .iter()
        .find(|d| d.action == "nodes_out" && d.time_s >= first_out.time_s)
        .expect("the Cluster Autoscaler adds nodes");
    assert!(
        first_nodes.time_s - first_out.time_s <= 10.0,
        "CA within one scan of the pods going Pending: {} vs {}",
        first_nodes.time_s,
        first_out.time_s
    );
    // Pods created by that scale-out and placed on the new nodes.
    let new: Vec<&TaskRow> = task_rows(&out)
        .iter()
        .filter(|t| (t.launched_s - first_out.time_s).abs() < 1e-6)
        .filter(|t| t.pull_start_s.is_some_and(|p| p > first_nodes.time_s))
        .collect();
    assert!(!new.is_empty(), "some new pods waited for the new nodes");
    for t in new {
        let pull = t.pull_start_s.unwrap();
        let running = t.running_s.unwrap();
        let serving = t.serving_s.unwrap();
        assert!(
            pull >= first_nodes.time_s + 60.0 - 1e-6,
            "node boot before the pull: {t:?}"
        );
        assert!(
            (running - pull - 28.0).abs() < 1e-6,
            "pull 25 s + start 3 s: {t:?}"
        );
        // Ready at the first probe after the app is up (t0 + 10 s), then
        // the first passing ALB check within the 30 s interval.
        assert!(
            serving > running + 10.0 && serving <= running + 40.0 + 1e-6,
            "{t:?}"
        );
    }
    assert!(out.summary.tasks.pending_task_minutes > 0.0);
}

/// Load falls from 150 to 30 req/s at 40 min: the HPA scales in only after
/// its 300 s stabilization window, the Cluster Autoscaler removes nodes only
/// after they were unneeded for 10 minutes (and 10 minutes after its last
/// scale-up), and their pods are evicted and recreated elsewhere.
#[test]
fn scale_down_waits_for_stabilization_and_the_unneeded_time() {
    let s = eks(
        "down",
        "2h",
        "kind = \"step\"\nrps = 150\nat = \"40m\"\nto_rps = 30",
        r#"
[[platform.node_groups]]
name = "ng"
instance_types = ["m5.xlarge"]
min_size = 1
max_size = 10
"#,
        "[hpa]\nmin_replicas = 2\nmax_replicas = 30\ntarget_cpu_utilization = 60",
    )
    .replace("desired = 2", "desired = 13");
    let out = common::run(&s);
    let step = 2_400.0;
    let hpa = decisions(&out, "hpa");
    let first_in = hpa
        .iter()
        .find(|d| d.action == "scale_in" && d.time_s > step)
        .expect("the HPA scales in");
    assert!(
        first_in.time_s >= step + 300.0,
        "stabilization: scale-in at {} < {}",
        first_in.time_s,
        step + 300.0
    );
    let ca = decisions(&out, "cluster-autoscaler");
    let last_up = ca
        .iter()
        .filter(|d| d.action == "nodes_out")
        .map(|d| d.time_s)
        .fold(f64::NEG_INFINITY, f64::max);
    let removals: Vec<&&Decision> = ca.iter().filter(|d| d.action == "nodes_in").collect();
    assert!(!removals.is_empty(), "nodes are removed: {ca:?}");
    for r in &removals {
        assert!(r.time_s >= first_in.time_s + 600.0, "unneeded time: {r:?}");
        assert!(r.time_s >= last_up + 600.0, "delay after add: {r:?}");
    }
    let n = out.summary.nodes.as_ref().unwrap();
    assert!(out.minutes.last().unwrap().instances.unwrap() < n.max);
    common::assert_conserved(&out);
}

/// An OOM-killed container restarts in its pod (Kubernetes pod lifecycle,
/// "Container restarts"): no replacement pod is created, the pod stops
/// serving for at least the 10 s back-off, and the restarts are counted.
#[test]
fn an_oom_killed_container_restarts_in_its_pod() {
    let s = eks(
        "oom",
        "30m",
        "kind = \"constant\"\nrps = 60",
        "[[platform.node_groups]]\nname = \"ng\"\ninstance_types = [\"m5.xlarge\"]",
        "",
    )
    .replace(
        "cpu_ms = { dist = \"constant\", value = 50 }",
        "cpu_ms = { dist = \"constant\", value = 50 }\nio_ms = { dist = \"exponential\", mean = 400 }\nmemory_base_mib = 400\nmemory_per_request_mib = 100",
    );
    let out = common::run(&s);
    common::assert_conserved(&out);
    let t = &out.summary.tasks;
    assert!(t.oom_killed > 0, "{t:?}");
    assert_eq!(t.launched, 2, "restarts in place create no pod: {t:?}");
    assert!(out.summary.requests.failed > 0);
    // While a container restarts its pod does not serve.
    assert!(out.minutes.iter().any(|m| m.serving < 2.0 - 1e-9));
}

/// A node that is not Ready within `max_node_provision_time` is deleted and
/// its group backs off for 5 minutes before the Cluster Autoscaler tries it
/// again (kubernetes/autoscaler FAQ).
#[test]
fn a_node_that_never_becomes_ready_is_given_up() {
    let s = eks(
        "slow",
        "1h",
        "kind = \"constant\"\nrps = 10",
        "[platform.cluster_autoscaler]\nmax_node_provision_time = \"5m\"\n[[platform.node_groups]]\nname = \"ng\"\ninstance_types = [\"m5.xlarge\"]\nmin_size = 1",
        "",
    )
    .replace("value = 60 }", "value = 900 }")
    .replace("desired = 2", "desired = 6");
    let out = common::run(&s);
    let ca = decisions(&out, "cluster-autoscaler");
    let up: Vec<f64> = ca
        .iter()
        .filter(|d| d.action == "nodes_out")
        .map(|d| d.time_s)
        .collect();
    let gave_up: Vec<f64> = ca
        .iter()
        .filter(|d| d.reason.contains("max-node-provision-time"))
        .map(|d| d.time_s)
        .collect();
    assert!(!gave_up.is_empty(), "{ca:?}");
    assert!(
        gave_up[0] >= up[0] + 300.0 && gave_up[0] <= up[0] + 310.0,
        "{up:?} {gave_up:?}"
    );
    // The next scale-up waits for the 5-minute back-off.
    let next = up.iter().find(|t| **t > gave_up[0]).expect("tried again");
    assert!(*next >= gave_up[0] + 300.0, "{next} vs {}", gave_up[0]);
}

/// CoreDNS has the PodDisruptionBudget the EKS add-on ships: a node holding
/// one CoreDNS pod can be scaled down (its pod moves); without the budget
/// (`coredns_pdb = false`, with `skip-nodes-with-system-pods`) it cannot.
#[test]
fn coredns_nodes_scale_down_under_its_disruption_budget() {
    let run = |pdb: bool| {
        let s = eks(
            "dns",
            "1h",
            "kind = \"constant\"\nrps = 5",
            &format!(
                "[platform.cluster_autoscaler]\ncoredns_pdb = {pdb}\n[[platform.node_groups]]\nname = \"ng\"\ninstance_types = [\"m5.xlarge\"]\nmin_size = 1\ndesired_size = 4"
            ),
            "",
        );
        common::run(&s)
    };
    let with = run(true);
    let without = run(false);
    let nodes = |o: &RunOutput| o.minutes.last().unwrap().instances.unwrap();
    assert_eq!(nodes(&with), 1, "every other node removed");
    assert!(
        nodes(&without) >= 2,
        "the CoreDNS nodes stay: {}",
        nodes(&without)
    );
    assert!(with.summary.cost_usd.instances < without.summary.cost_usd.instances);
}

#[test]
fn deployments_share_one_cluster_and_split_its_fee() {
    let text = r#"
name = "two"
seed = 4
duration = "2h"
[workload]
cpu_ms = { dist = "constant", value = 20 }
[task]
cpu = 512
memory = 1024
concurrency = 8
[service]
desired = 2
[platform]
kind = "eks"
[[platform.node_groups]]
name = "ng"
instance_types = ["m5.xlarge"]
min_size = 1
max_size = 6
[hpa]
min_replicas = 2
max_replicas = 20
target_cpu_utilization = 60
[services.web.load]
kind = "constant"
rps = 100
[services.api.load]
kind = "constant"
rps = 40
"#;
    let loaded =
        capsim::scenario::load_str(text, &common::root(), Path::new("<test>"), &[]).unwrap();
    let capsim::scenario::Loaded::Shared(shared) = loaded else {
        panic!("a shared scenario");
    };
    let out = capsim::run_shared_scenario(&shared).unwrap();
    let fees: Vec<f64> = out
        .services
        .iter()
        .map(|s| s.summary.cost_usd.control_plane)
        .collect();
    // One cluster, one fee ($0.10 × 2 h), split evenly.
    assert!(
        (fees[0] - 0.10).abs() < 1e-9 && (fees[1] - 0.10).abs() < 1e-9,
        "{fees:?}"
    );
    for s in &out.services {
        common::assert_conserved(s);
        assert!(s.summary.tasks.max >= 2);
    }
}

#[test]
fn the_manifest_supplies_the_pod_and_the_hpa() {
    let sc = capsim::Scenario::load(&common::root().join("scenarios/eks/manifest.toml"), &[])
        .unwrap_or_else(|e| panic!("{e}"));
    let c = sc.compile().unwrap_or_else(|e| panic!("{e}"));
    // app 500m/1Gi + log shipper sidecar 50m/64Mi; the init container (1 CPU)
    // runs alone first: max(1000m, 550m) CPU, max(256, 1088) MiB.
    let e = c.platform.eks.as_ref().unwrap();
    assert_eq!((e.request.cpu, e.request.memory), (1000, 1088));
    let pod = c.pod.as_ref().unwrap();
    assert_eq!(pod.grace, 45 * 1_000_000);
    assert_eq!(pod.probe.map(|p| p.1), Some(5 * 1_000_000));
    let h = pod.hpa.as_ref().unwrap();
    assert_eq!((h.scaling.min_replicas, h.scaling.max_replicas), (3, 20));
    assert_eq!(c.desired, 3);
    assert!(
        c.notes.iter().any(|n| n.contains("manifest:")),
        "{:?}",
        c.notes
    );
    let out = capsim::run(&sc).unwrap();
    common::assert_conserved(&out);
}

#[test]
fn each_orchestrator_refuses_the_others_autoscaler() {
    let s = eks(
        "x",
        "10m",
        "kind = \"constant\"\nrps = 10",
        "",
        "[autoscaling]\nmin_capacity = 1\nmax_capacity = 3\ntarget_value = 50",
    );
    let e = common::scenario(&s).compile().unwrap_err().to_string();
    assert!(e.contains("[hpa]"), "{e}");
    let ecs = common::step_fargate("y", "10m", 300) + "[hpa]\nmax_replicas = 3\n";
    let e = common::scenario(&ecs).compile().unwrap_err().to_string();
    assert!(e.contains("hpa") && e.contains("[autoscaling]"), "{e}");
}

#[test]
fn same_seed_same_bytes() {
    let s = eks(
        "det",
        "40m",
        "kind = \"step\"\nrps = 30\nat = \"10m\"\nto_rps = 150",
        "[[platform.node_groups]]\nname = \"ng\"\ninstance_types = [\"m5.xlarge\"]\nmin_size = 1",
        "[hpa]\nmax_replicas = 30\ntarget_cpu_utilization = 60",
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
}

#[test]
fn compare_runs_ecs_eks_and_fargate_side_by_side() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(
        d.path().join("s.toml"),
        common::step_fargate("cmp", "30m", 300),
    )
    .unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_capsim"))
        .args([
            "compare",
            "s.toml",
            "--platforms",
            "fargate,ecs-ec2,eks-nodegroup,eks-fargate",
            "--out",
            "cmp",
        ])
        .current_dir(d.path())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let df = capsim::report::tables::read_parquet(&d.path().join("cmp/compare.parquet"), 1_000_000)
        .unwrap();
    assert_eq!(df.height(), 4);
    for p in ["eks-nodegroup", "eks-fargate"] {
        let s: capsim::Summary = serde_json::from_str(
            &std::fs::read_to_string(d.path().join(format!("cmp/{p}/summary.json"))).unwrap(),
        )
        .unwrap();
        assert_eq!(s.platform, "eks");
        assert!(s.cost_usd.control_plane > 0.0, "{p}");
        assert!(s.requests.completed > 0, "{p}");
    }
    let page = std::fs::read_to_string(d.path().join("cmp/index.html")).unwrap();
    assert!(
        page.contains("EKS control plane"),
        "operational notes on the page"
    );
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 16, failure_persistence: None, ..ProptestConfig::default() })]
        /// Whatever the node groups, pods, load and autoscaler settings:
        /// every request is accounted for, no node is over-allocated
        /// (`Node::allocate` asserts it), node groups stay within their
        /// bounds, reserved shares stay ≤ 100 %, and the bill is the sum of
        /// its parts.
        #[test]
        fn random_eks_clusters_hold_their_invariants(
            groups in prop::collection::vec(
                (prop::sample::select(vec!["m5.large", "m5.xlarge", "c5.xlarge", "m6i.2xlarge"]), any::<bool>(), 0u32..3, 1u32..5),
                1..3,
            ),
            (cpu, mem, desired) in (prop::sample::select(vec![256u32, 512, 1024, 1536]), prop::sample::select(vec![512u32, 1024, 2048, 3072]), 1u32..6),
            (low, high, target, warm) in (0u32..40, 20u32..200, 30u32..90, any::<bool>()),
            (expander, most, limit, coredns) in (0usize..3, any::<bool>(), any::<bool>(), any::<bool>()),
            seed in 0u64..1000,
        ) {
            let mut platform = format!(
                "spot_interruptions_per_hour = 4\nscheduler_scoring = \"{}\"\n[platform.cluster_autoscaler]\nexpander = \"{}\"\nscale_down_unneeded_time = \"2m\"\nscale_down_delay_after_add = \"2m\"\n",
                if most { "most_allocated" } else { "least_allocated" },
                ["least-waste", "most-pods", "random"][expander],
            );
            let mut max_total = 0;
            for (i, (t, spot, min, extra)) in groups.iter().enumerate() {
                max_total += min + extra;
                platform.push_str(&format!(
                    "[[platform.node_groups]]\nname = \"g{i}\"\ninstance_types = [\"{t}\"]\ncapacity_type = \"{}\"\nmin_size = {min}\nmax_size = {}\nlabels = {{ pool = \"p{i}\" }}\n",
                    if *spot { "SPOT" } else { "ON_DEMAND" },
                    min + extra,
                ));
            }
            let mut s = eks(
                "prop",
                "40m",
                &format!("kind = \"step\"\nrps = {low}\nat = \"15m\"\nto_rps = {high}\nuntil = \"30m\""),
                &platform,
                &format!("[hpa]\nmin_replicas = 1\nmax_replicas = 16\ntarget_cpu_utilization = {target}\n[service]\ndesired = {desired}\nstart = \"{}\"", if warm { "warm" } else { "cold" }),
            )
            .replacen("[service]\ndesired = 2\n", "", 1)
            .replace("seed = 3", &format!("seed = {seed}"))
            .replace("cpu = 1024\nmemory = 2048", &format!("cpu = {cpu}\nmemory = {mem}"));
            if limit {
                // Limits above the requests: the pod may use twice its CPU.
                s = s.replace("concurrency = 16", &format!("concurrency = 16\ncpu_limit = {}\nmemory_limit = {}", 2 * cpu, 2 * mem));
            }
            if coredns {
                s = s.replace("scheduler_scoring", "coredns_replicas = 3\nscheduler_scoring");
            }
            let sc = match capsim::Scenario::from_toml_str(&s, &common::root(), Path::new("<prop>"), &[]) {
                Ok(sc) => sc,
                Err(e) => { prop_assert!(false, "{e}\n{s}"); unreachable!() }
            };
            // A pod too large for every group is refused at compile: fine.
            let c = match sc.compile() {
                Ok(c) => c,
                Err(e) => {
                    // Only a pod too large for every group may be refused.
                    prop_assert!(e.to_string().contains("fits no node group"), "{e}");
                    return Ok(());
                }
            };
            let out = capsim::run_compiled(&sc, &c).unwrap();
            common::assert_conserved(&out);
            let n = out.summary.nodes.as_ref().unwrap();
            prop_assert!(n.max <= max_total, "{} nodes > {max_total}", n.max);
            let cl = out.summary.cluster.as_ref().unwrap();
            prop_assert!(cl.cpu_allocated_mean.unwrap_or(0.0) <= 1.0 + 1e-9);
            prop_assert!(cl.memory_allocated_mean.unwrap_or(0.0) <= 1.0 + 1e-9);
            let cost = &out.summary.cost_usd;
            let parts = cost.compute + cost.spot + cost.storage + cost.load_balancer + cost.instances + cost.control_plane;
            prop_assert!((cost.total - parts).abs() < 1e-9);
            prop_assert!((cost.control_plane - 0.10 * 40.0 / 60.0).abs() < 1e-9);
            for m in &out.minutes {
                prop_assert!(m.desired >= 1 && m.desired <= 16, "replicas {}", m.desired);
            }
        }
    }
}
