//! The EKS side of a Terraform module: a cluster's managed node groups
//! (`aws_eks_node_group`: instance types, capacity type, scaling config,
//! labels) or Fargate profiles, with the pod from the Kubernetes YAML
//! given beside the module (`--manifest`; a module's Kubernetes objects
//! are not read).

use super::*;

/// The scenario of an EKS module.
pub(super) fn eks(
    m: &Module,
    opts: &Options,
    cluster: &Resource,
) -> Result<TerraformImport, Error> {
    let of =
        |kind: &str| -> Vec<&Resource> { m.resources.iter().filter(|r| r.kind == kind).collect() };
    let mut ignored = Vec::new();
    let mut unresolved = Vec::new();
    let mut c = Reader {
        m,
        r: cluster,
        unresolved: Vec::new(),
    };
    let name = c
        .get("name", false)
        .as_ref()
        .and_then(text)
        .unwrap_or_else(|| cluster.name.clone());
    let mut w = Writer::default();
    w.comment(&format!(
        "Imported by `capsim import terraform` from {}: the EKS cluster aws_eks_cluster.{}.",
        opts.path.display(),
        cluster.name
    ));
    w.comment("Each imported value names its file, line and attribute. PLACEHOLDER values");
    w.comment("are not in the module: the load and the workload above all are yours to set.");
    w.value("name", crate::scenario::safe_name(&name), &c.at("name"));
    m.write_run(&mut w);
    w.table("task", "");
    match &opts.manifest {
        Some(p) => w.value(
            "manifest",
            p.display().to_string(),
            "--manifest: the pod and its HPA",
        ),
        None => {
            w.value(
                "cpu",
                1024,
                "PLACEHOLDER: the pod's CPU request (or pass --manifest)",
            );
            w.value(
                "memory",
                2048,
                "PLACEHOLDER: the pod's memory request (MiB)",
            );
        }
    }
    w.value(
        "concurrency",
        64,
        "PLACEHOLDER: requests one pod serves at once",
    );
    if opts.manifest.is_none() {
        w.table("service", "");
        w.value("desired", 2, "PLACEHOLDER: the Deployment's replicas");
    }
    let groups = of("aws_eks_node_group");
    let fargate = of("aws_eks_fargate_profile");
    w.table("platform", "");
    w.value(
        "kind",
        "eks",
        &format!(
            "{}:{}: aws_eks_cluster.{}",
            cluster.file, cluster.line, cluster.name
        ),
    );
    if groups.is_empty() && !fargate.is_empty() {
        w.value(
            "compute",
            "fargate",
            &format!(
                "{}:{}: aws_eks_fargate_profile.{}",
                fargate[0].file, fargate[0].line, fargate[0].name
            ),
        );
    } else {
        w.value("compute", "node_groups", "aws_eks_node_group");
        if !fargate.is_empty() {
            ignored.push("aws_eks_fargate_profile beside node groups: capsim runs a Deployment on one or the other (node groups here)".into());
        }
    }
    for g in &groups {
        let mut r = Reader {
            m,
            r: g,
            unresolved: Vec::new(),
        };
        w.array_table("platform.node_groups");
        let gname = r
            .get("node_group_name", false)
            .as_ref()
            .and_then(text)
            .filter(|n| !n.contains(UNRESOLVED))
            .unwrap_or_else(|| g.name.clone());
        w.value("name", gname.as_str(), &r.at("node_group_name"));
        if let Some(Value::Array(types)) = r.get("instance_types", true) {
            let list: Vec<String> = types
                .iter()
                .filter_map(text)
                .map(|t| format!("\"{t}\""))
                .collect();
            w.raw(
                "instance_types",
                &format!("[{}]", list.join(", ")),
                &r.at("instance_types"),
            );
        }
        if let Some(ct) = r.get("capacity_type", true).as_ref().and_then(text) {
            w.value("capacity_type", ct.as_str(), &r.at("capacity_type"));
        }
        if let Some(sc) = r.blocks("scaling_config").into_iter().next() {
            for (tf, key) in [
                ("min_size", "min_size"),
                ("max_size", "max_size"),
                ("desired_size", "desired_size"),
            ] {
                if let Some(v) = r.get_in(&sc, tf, true).as_ref().and_then(num) {
                    w.value(key, v as i64, &r.at(tf));
                }
            }
        }
        if let Some(Value::Object(labels)) = r.get("labels", true) {
            let items: Vec<String> = labels
                .iter()
                .filter_map(|(k, v)| {
                    // A bare key where TOML allows one.
                    let key = if !k.is_empty()
                        && k.chars()
                            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
                    {
                        k.clone()
                    } else {
                        toml::Value::String(k.clone()).to_string()
                    };
                    Some(format!("{key} = {}", toml::Value::String(text(v)?)))
                })
                .collect();
            w.raw(
                "labels",
                &format!("{{ {} }}", items.join(", ")),
                &r.at("labels"),
            );
        }
        unresolved.append(&mut r.unresolved);
    }
    for r in &m.resources {
        if !matches!(
            r.kind.as_str(),
            "aws_eks_cluster" | "aws_eks_node_group" | "aws_eks_fargate_profile"
        ) {
            ignored.push(format!(
                "{}:{}: {}.{}: not needed by capsim",
                r.file, r.line, r.kind, r.name
            ));
        }
    }
    w.slo_placeholder();
    unresolved.append(&mut c.unresolved);
    let needed: Vec<&String> = unresolved
        .iter()
        .filter(|u| u.ends_with("capsim needs it"))
        .collect();
    if !needed.is_empty() {
        return Err(err(
            &opts.path,
            format!(
                "values capsim needs are not known:\n  {}",
                needed
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join("\n  ")
            ),
        ));
    }
    ignored.extend(unresolved);
    Ok(TerraformImport {
        scenario: Imported {
            toml: w.finish(),
            ignored,
        },
        task_definition: None,
    })
}
