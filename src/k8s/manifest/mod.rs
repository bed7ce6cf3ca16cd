//! Kubernetes manifests: a multi-document YAML file holding a Deployment, the
//! HorizontalPodAutoscaler that scales it, and whatever else ships beside them
//! (Service, ConfigMap, PodDisruptionBudget…), read into the typed structs the
//! EKS model uses. It plays for Kubernetes the role `platform::taskdef` plays
//! for ECS:
//!
//! - the fields capsim models are read and checked as the API server would
//!   (types, ranges, enumerations, defaults);
//! - every other field, and every other kind in the file, is accepted and
//!   listed once in [`Manifest::notes`] as read but not modelled;
//! - errors name the file, the line, the document and the field, e.g.
//!   `app.yaml line 23: document 1 (Deployment web):
//!   spec.template.spec.containers[0].resources.requests.cpu: invalid quantity "abc" …`.
//!
//! The YAML is parsed by `serde_saphyr` into a small tree whose every node
//! keeps its source location, then walked by hand: that is what lets a
//! wrong type, a bad quantity or a missing field point at its line.
//! Documents are numbered from 1 in file order; empty documents (nothing
//! but comments between two `---`) are not counted. A `kind: List`
//! (what `kubectl get -o yaml` prints) is read as its items.
//!
//! References (the Kubernetes documentation):
//! - quantities: <https://kubernetes.io/docs/reference/kubernetes-api/common-definitions/quantity/>
//!   and <https://kubernetes.io/docs/concepts/configuration/manage-resources-containers/#resource-units-in-kubernetes>
//! - init containers and sidecars in the pod's effective request:
//!   <https://kubernetes.io/docs/concepts/workloads/pods/init-containers/#resource-sharing-within-containers>,
//!   <https://kubernetes.io/docs/concepts/workloads/pods/sidecar-containers/#resource-sharing-within-containers>
//! - probes: <https://kubernetes.io/docs/tasks/configure-pod-container/configure-liveness-readiness-startup-probes/#configure-probes>
//! - Deployment strategy: <https://kubernetes.io/docs/concepts/workloads/controllers/deployment/#strategy>
//! - topology spread: <https://kubernetes.io/docs/concepts/scheduling-eviction/topology-spread-constraints/>
//! - HPA: <https://kubernetes.io/docs/tasks/run-application/horizontal-pod-autoscale/>

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;
use std::fmt;

mod deployment;
mod hpa;
mod nodepool;
mod quantity;
#[cfg(test)]
mod tests;
mod tree;
mod types;

use deployment::*;
use hpa::*;
use nodepool::*;
use quantity::*;
pub use quantity::{parse_quantity_f64, parse_quantity_mib, parse_quantity_millicores};
use tree::*;
pub use types::*;

// ---------------------------------------------------------------------------
// Notes
// ---------------------------------------------------------------------------

/// Notes in first-seen order, each once.
#[derive(Default)]
struct Notes(Vec<String>);

impl Notes {
    fn add(&mut self, note: String) {
        if !self.0.contains(&note) {
            self.0.push(note);
        }
    }
}

/// Container fields not modelled, grouped by field with the containers that
/// set them, rendered as one note per field.
#[derive(Default)]
struct FieldNotes {
    fields: Vec<(String, Vec<String>)>,
    /// Notes of their own, rendered after the fields.
    warnings: Vec<String>,
}

impl FieldNotes {
    fn warn(&mut self, note: String) {
        self.warnings.push(note);
    }

    fn add(&mut self, field: String, container: &str) {
        match self.fields.iter_mut().find(|(f, _)| *f == field) {
            Some((_, names)) => {
                if !names.iter().any(|n| n == container) {
                    names.push(container.to_string());
                }
            }
            None => self.fields.push((field, vec![container.to_string()])),
        }
    }

    fn render(self, who: &str, notes: &mut Notes) {
        for (field, names) in self.fields {
            let remark = container_field_remark(&field);
            let s = if names.len() == 1 { "" } else { "s" };
            notes.add(format!(
                "{who}: {field} (container{s} {}): not modelled{remark}",
                names.join(", ")
            ));
        }
        for w in self.warnings {
            notes.add(format!("{who}: {w}"));
        }
    }
}

fn container_field_remark(field: &str) -> &'static str {
    match field {
        "livenessProbe" => " (a failing liveness probe restarts the container)",
        "startupProbe" => " (readiness probing starts only once it succeeds)",
        "lifecycle.preStop" => {
            " (the hook runs before SIGTERM and counts against terminationGracePeriodSeconds)"
        }
        "lifecycle.postStart" => " (the container is not Running until the hook returns)",
        "resources.requests.ephemeral-storage" | "resources.limits.ephemeral-storage" => {
            " (node disk is not modelled)"
        }
        _ => "",
    }
}

fn pod_field_remark(field: &str) -> &'static str {
    match field {
        "affinity" => " (node affinity and pod affinity/anti-affinity are not applied)",
        "tolerations" => " (node taints are not modelled)",
        "priorityClassName" | "priority" => " (no preemption)",
        "runtimeClassName" | "overhead" => " (pod overhead is not added to the requests)",
        "resources" => " (pod-level resources: the requests are computed from the containers)",
        "hostNetwork" => " (host ports are not reserved)",
        _ => "",
    }
}

fn kind_remark(kind: &str) -> &'static str {
    match kind {
        "PodDisruptionBudget" => {
            " (it bounds voluntary evictions: node drains, Karpenter consolidation)"
        }
        "StatefulSet" | "DaemonSet" | "ReplicaSet" | "Pod" | "Job" | "CronJob" => {
            " (capsim reads one Deployment)"
        }
        "VerticalPodAutoscaler" => " (the requests are taken as written)",
        "ScaledObject" => " (KEDA drives an HPA of its own)",
        "EC2NodeClass" => " (its AMI, subnets and security groups change nothing capsim simulates)",
        _ => "",
    }
}

// ---------------------------------------------------------------------------
// Objects in the file
// ---------------------------------------------------------------------------

/// One Kubernetes object of the file (a document, or an item of a List).
struct Obj<'n> {
    label: String,
    api_version: String,
    kind: String,
    name: Option<String>,
    namespace: Option<String>,
    node: &'n N,
}

impl Obj<'_> {
    fn who(&self) -> String {
        match &self.name {
            Some(n) => format!("{} {n}", self.kind),
            None => format!("{} ({})", self.kind, self.label),
        }
    }

    fn doc<'a>(&self, origin: &'a str) -> Doc<'a> {
        Doc {
            origin,
            label: format!("{} ({})", self.label, self.who()),
        }
    }

    fn ns(&self) -> &str {
        self.namespace.as_deref().unwrap_or("default")
    }
}

fn read_object<'n>(
    origin: &str,
    label: String,
    node: &'n N,
    out: &mut Vec<Obj<'n>>,
    in_list: bool,
) -> Result<(), String> {
    let doc = Doc { origin, label };
    let m = match &node.value {
        Node::Map(m) => m,
        other => {
            return Err(doc.err(
                node,
                "",
                format!(
                    "expected a Kubernetes object (a mapping with apiVersion and kind), got {}",
                    describe(other)
                ),
            ));
        }
    };
    let kind = doc.req(m, node, "", "kind")?;
    let kind = doc.str(kind, "kind")?.to_string();
    let api_version = doc.req(m, node, "", "apiVersion")?;
    let api_version = doc.str(api_version, "apiVersion")?.to_string();
    if kind == "List" && !in_list {
        let items = doc.req(m, node, "", "items")?;
        for (j, item) in doc.seq(items, "items")?.iter().enumerate() {
            read_object(
                origin,
                format!("{} item {}", doc.label, j + 1),
                item,
                out,
                true,
            )?;
        }
        return Ok(());
    }
    let (mut name, mut namespace) = (None, None);
    if let Some(md) = get(m, "metadata") {
        let md = doc.map(md, "metadata")?;
        name = doc.opt_str(md, "metadata", "name")?.map(str::to_string);
        namespace = doc
            .opt_str(md, "metadata", "namespace")?
            .map(str::to_string);
    }
    out.push(Obj {
        label: doc.label,
        api_version,
        kind,
        name,
        namespace,
        node,
    });
    Ok(())
}

/// How deeply YAML may nest. A Deployment needs about 14 levels (pod
/// anti-affinity match expressions); every level costs the recursive
/// deserializer stack (some 45 KiB unoptimised), and 32 levels stay well
/// inside a 2 MiB thread stack.
const MAX_DEPTH: usize = 32;

/// The YAML parser's error, with its line.
fn yaml_error(origin: &str, e: &serde_saphyr::Error) -> String {
    let mut msg = e.to_string();
    if let Some(l) = e.location() {
        let suffix = format!(" at line {}, column {}", l.line(), l.column());
        if let Some(short) = msg.strip_suffix(&suffix) {
            msg = short.to_string();
        }
    }
    if let serde_saphyr::Error::Budget { .. } = e.without_snippet() {
        msg.push_str(&format!(
            " (capsim reads YAML nested at most {MAX_DEPTH} levels deep, within the parser's default size limits)"
        ));
    }
    match e.location() {
        Some(l) if l.line() > 0 => {
            format!(
                "{origin} line {}: invalid YAML (column {}): {msg}",
                l.line(),
                l.column()
            )
        }
        _ => format!("{origin}: invalid YAML: {msg}"),
    }
}

/// Names for a message: at most ten, then how many more.
fn some_names(names: Vec<String>) -> String {
    if names.is_empty() {
        return "none".into();
    }
    let more = names.len().saturating_sub(10);
    let mut s = names.into_iter().take(10).collect::<Vec<_>>().join(", ");
    if more > 0 {
        s.push_str(&format!(" and {more} more"));
    }
    s
}

/// The Deployment to read: the only one, or the one named `"name"` or
/// `"namespace/name"`.
fn select_deployment<'o, 'n>(
    objs: &'o [Obj<'n>],
    origin: &str,
    deployment: Option<&str>,
) -> Result<&'o Obj<'n>, String> {
    let deployments: Vec<&Obj> = objs.iter().filter(|o| o.kind == "Deployment").collect();
    let line_of = |o: &Obj| o.node.referenced.line();
    match deployment {
        Some(want) => {
            let (ns, name) = match want.split_once('/') {
                Some((ns, name)) => (Some(ns), name),
                None => (None, want),
            };
            let found: Vec<&Obj> = deployments
                .iter()
                .copied()
                .filter(|o| o.name.as_deref() == Some(name) && ns.is_none_or(|ns| o.ns() == ns))
                .collect();
            match found.as_slice() {
                [one] => Ok(one),
                [] => Err(format!(
                    "{origin}: no Deployment named {} (found: {})",
                    quote(want),
                    some_names(deployments.iter().map(|o| o.who()).collect())
                )),
                several => Err(format!(
                    "{origin}: several Deployments named {}: {}; choose one as namespace/name",
                    quote(want),
                    some_names(
                        several
                            .iter()
                            .map(|o| format!("{}/{name} (line {})", o.ns(), line_of(o)))
                            .collect()
                    )
                )),
            }
        }
        None => match deployments.as_slice() {
            [one] => Ok(one),
            [] => Err(format!(
                "{origin}: no Deployment in the file (found: {})",
                some_names(objs.iter().map(|o| o.who()).collect())
            )),
            several => Err(format!(
                "{origin}: several Deployments ({}): name the one to simulate",
                some_names(
                    several
                        .iter()
                        .map(|o| format!(
                            "{} (line {})",
                            o.name.as_deref().unwrap_or("?"),
                            line_of(o)
                        ))
                        .collect()
                )
            )),
        },
    }
}

/// Parses the YAML text; `origin` names the file in errors. Picks the
/// Deployment — the only one, or the one named by `deployment` (`"name"` or
/// `"namespace/name"`; an error if several and none named) — and the HPA
/// whose `scaleTargetRef` names it in the same namespace.
pub fn parse(text: &str, origin: &str, deployment: Option<&str>) -> Result<Manifest, String> {
    let options = serde_saphyr::options! {
        budget: serde_saphyr::budget! { max_depth: MAX_DEPTH },
        with_snippet: false,
        // `.inf`/`.nan` become strings: an error only where a number is read.
        non_finite_float_policy: serde_saphyr::NonFiniteFloatPolicy::AsString,
    };
    let docs: Vec<N> = serde_saphyr::from_multiple_with_options(text, options)
        .map_err(|e| yaml_error(origin, &e))?;
    if docs.is_empty() {
        return Err(format!(
            "{origin}: no Kubernetes objects (the file is empty or holds only comments)"
        ));
    }
    let mut objs = Vec::new();
    for (i, d) in docs.iter().enumerate() {
        read_object(origin, format!("document {}", i + 1), d, &mut objs, false)?;
    }

    let chosen = select_deployment(&objs, origin, deployment)?;
    let mut notes = Notes::default();
    let dep = read_deployment(&chosen.doc(origin), chosen, &mut notes)?;

    // The HPA that targets it, the NodePools; everything else is listed.
    let mut hpa: Option<(Hpa, String)> = None;
    let mut node_pools: Vec<NodePool> = Vec::new();
    for o in &objs {
        if std::ptr::eq(o, chosen) {
            continue;
        }
        let who = o.who();
        match o.kind.as_str() {
            "Deployment" => notes.add(format!("{who}: not selected")),
            "HorizontalPodAutoscaler" => {
                let doc = o.doc(origin);
                let (kind, name) = hpa_target(&doc, o)?;
                if kind == "Deployment" && name == dep.name && o.ns() == chosen.ns() {
                    if let Some((_, first)) = &hpa {
                        return Err(doc.err(
                            o.node,
                            "spec.scaleTargetRef",
                            format!(
                                "a second HPA for Deployment {} (the first is {first}): two HPAs fight over one Deployment",
                                dep.name
                            ),
                        ));
                    }
                    hpa = Some((read_hpa(&doc, o, &mut notes)?, o.label.clone()));
                } else {
                    notes.add(format!(
                        "{who}: targets {kind} {name}, not Deployment {}: ignored",
                        dep.name
                    ));
                }
            }
            "NodePool" if o.api_version.starts_with("karpenter.sh/") => {
                let pool = read_node_pool(&o.doc(origin), o, &mut notes)?;
                if node_pools.iter().any(|p| p.name == pool.name) {
                    return Err(o.doc(origin).err(
                        o.node,
                        "metadata.name",
                        format!("a second NodePool named {}", quote(&pool.name)),
                    ));
                }
                node_pools.push(pool);
            }
            kind => notes.add(format!("{who}: kind not modelled{}", kind_remark(kind))),
        }
    }
    let hpa = hpa.map(|(h, _)| h);
    if let (Some(h), Some(r)) = (&hpa, dep.replicas) {
        notes.add(format!(
            "Deployment {}: spec.replicas ({r}) is set while HPA {} scales it: every apply resets the replicas to {r} until the HPA acts again",
            dep.name, h.name
        ));
    }
    Ok(Manifest {
        deployment: Some(dep),
        hpa,
        node_pools,
        notes: notes.0,
    })
}
