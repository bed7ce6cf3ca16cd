//! Reading a HorizontalPodAutoscaler (`autoscaling/v2`, `/v1`): its target,
//! bounds, metrics and behavior.

use super::*;

// ---------------------------------------------------------------------------
// HorizontalPodAutoscaler
// ---------------------------------------------------------------------------

/// `(scaleTargetRef.kind, scaleTargetRef.name)`.
pub(super) fn hpa_target(doc: &Doc, obj: &Obj) -> Result<(String, String), String> {
    let root = doc.map(obj.node, "")?;
    let spec_node = doc.req(root, obj.node, "", "spec")?;
    let spec = doc.map(spec_node, "spec")?;
    let rn = doc.req(spec, spec_node, "spec", "scaleTargetRef")?;
    let r = doc.map(rn, "spec.scaleTargetRef")?;
    let kind = doc.req(r, rn, "spec.scaleTargetRef", "kind")?;
    let name = doc.req(r, rn, "spec.scaleTargetRef", "name")?;
    Ok((
        doc.str(kind, "spec.scaleTargetRef.kind")?.to_string(),
        doc.str(name, "spec.scaleTargetRef.name")?.to_string(),
    ))
}

/// The unit an HPA quantity is converted to.
#[derive(Clone, Copy)]
pub(super) enum Unit {
    Millicores,
    Mib,
    Plain,
}

pub(super) fn read_hpa(doc: &Doc, obj: &Obj, notes: &mut Notes) -> Result<Hpa, String> {
    let root = doc.map(obj.node, "")?;
    let v1 = match obj.api_version.as_str() {
        "autoscaling/v2" => false,
        "autoscaling/v1" => true,
        "autoscaling/v2beta2" => {
            notes.add(format!(
                "{}: autoscaling/v2beta2 was removed in Kubernetes 1.26; read as autoscaling/v2 (same fields)",
                obj.who()
            ));
            false
        }
        other => {
            let at = get(root, "apiVersion").unwrap_or(obj.node);
            return Err(doc.err(
                at,
                "apiVersion",
                format!(
                    "{}: capsim reads autoscaling/v2 and autoscaling/v1 HPAs",
                    quote(other)
                ),
            ));
        }
    };
    let Some(name) = obj.name.clone() else {
        return Err(doc.err(obj.node, "metadata.name", "missing (required)"));
    };
    let who = format!("HorizontalPodAutoscaler {name}");
    let (target_kind, target) = hpa_target(doc, obj)?;
    let spec_node = doc.req(root, obj.node, "", "spec")?;
    let spec = doc.map(spec_node, "spec")?;
    for (k, _) in spec {
        match (k.as_str(), v1) {
            ("scaleTargetRef" | "minReplicas" | "maxReplicas", _)
            | ("targetCPUUtilizationPercentage", true)
            | ("metrics" | "behavior", false) => {}
            (other, _) => notes.add(format!("{who}: spec.{other}: not modelled")),
        }
    }
    let min_replicas = doc.opt_u32(spec, "spec", "minReplicas", 0, INT32_MAX)?;
    if min_replicas == Some(0) {
        notes.add(format!(
            "{who}: minReplicas 0 needs the alpha feature gate HPAScaleToZero"
        ));
    }
    let max_node = doc.req(spec, spec_node, "spec", "maxReplicas")?;
    let max_replicas = doc.u32_in(max_node, "spec.maxReplicas", 1, INT32_MAX)?;
    if let Some(min) = min_replicas
        && min > max_replicas
    {
        return Err(doc.err(
            max_node,
            "spec.maxReplicas",
            format!("{max_replicas} is below minReplicas {min}"),
        ));
    }
    let mut metrics = Vec::new();
    let mut behavior = None;
    if v1 {
        if let Some(t) = get(spec, "targetCPUUtilizationPercentage") {
            let u = doc.u32_in(t, "spec.targetCPUUtilizationPercentage", 1, INT32_MAX)?;
            metrics.push(HpaMetric::Resource {
                name: "cpu".into(),
                target: HpaTarget {
                    kind: "Utilization".into(),
                    average_utilization: Some(u),
                    average_value: None,
                    value: None,
                },
            });
        }
    } else {
        if let Some(ms) = get(spec, "metrics") {
            for (i, m) in doc.seq(ms, "spec.metrics")?.iter().enumerate() {
                let p = format!("spec.metrics[{i}]");
                metrics.push(read_metric(doc, m, &p, &who, notes)?);
            }
        }
        if let Some(b) = get(spec, "behavior") {
            let bm = doc.map(b, "spec.behavior")?;
            for (k, _) in bm {
                if k != "scaleUp" && k != "scaleDown" {
                    notes.add(format!("{who}: spec.behavior.{k}: not modelled"));
                }
            }
            let mut rules = |key: &str| -> Result<Option<HpaRules>, String> {
                get(bm, key)
                    .map(|r| read_rules(doc, r, &format!("spec.behavior.{key}"), &who, notes))
                    .transpose()
            };
            let scale_up = rules("scaleUp")?;
            let scale_down = rules("scaleDown")?;
            behavior = Some(HpaBehavior {
                scale_up,
                scale_down,
            });
        }
    }
    if metrics.is_empty() {
        notes.add(format!(
            "{who}: no metrics: Kubernetes scales on 80 % average CPU utilization"
        ));
    }
    Ok(Hpa {
        name,
        api_version: obj.api_version.clone(),
        target,
        target_kind,
        min_replicas,
        max_replicas,
        metrics,
        behavior,
    })
}

pub(super) fn read_metric(
    doc: &Doc,
    node: &N,
    path: &str,
    who: &str,
    notes: &mut Notes,
) -> Result<HpaMetric, String> {
    let m = doc.map(node, path)?;
    let tn = doc.req(m, node, path, "type")?;
    let kind = doc.str(tn, &join(path, "type"))?;
    match kind {
        "Resource" => {
            let sp = join(path, "resource");
            let sn = doc.req(m, node, path, "resource")?;
            let s = doc.map(sn, &sp)?;
            let name_node = doc.req(s, sn, &sp, "name")?;
            let name = doc.str(name_node, &join(&sp, "name"))?.to_string();
            let unit = match name.as_str() {
                "cpu" => Unit::Millicores,
                "memory" => Unit::Mib,
                _ => Unit::Plain,
            };
            let target = read_target(doc, s, sn, &sp, unit, &["Utilization", "AverageValue"])?;
            Ok(HpaMetric::Resource { name, target })
        }
        "Pods" => {
            let sp = join(path, "pods");
            let sn = doc.req(m, node, path, "pods")?;
            let s = doc.map(sn, &sp)?;
            let mn = doc.req(s, sn, &sp, "metric")?;
            let mp = join(&sp, "metric");
            let metric = doc.map(mn, &mp)?;
            let name_node = doc.req(metric, mn, &mp, "name")?;
            let name = doc.str(name_node, &join(&mp, "name"))?.to_string();
            if get(metric, "selector").is_some() {
                notes.add(format!("{who}: {mp}.selector: not modelled"));
            }
            let target = read_target(doc, s, sn, &sp, Unit::Plain, &["AverageValue"])?;
            Ok(HpaMetric::Pods { name, target })
        }
        "Object" | "External" | "ContainerResource" => {
            notes.add(format!("{who}: {path}: {kind} metric not modelled"));
            Ok(HpaMetric::Other {
                kind: kind.to_string(),
            })
        }
        other => Err(doc.err(
            tn,
            &join(path, "type"),
            format!(
                "expected Resource, Pods, Object, External or ContainerResource, got {}",
                quote(other)
            ),
        )),
    }
}

/// Reads `source.target`; `allowed` lists the target types Kubernetes
/// accepts for this metric type.
pub(super) fn read_target(
    doc: &Doc,
    source: &Map,
    source_node: &N,
    path: &str,
    unit: Unit,
    allowed: &[&str],
) -> Result<HpaTarget, String> {
    let tp = join(path, "target");
    let tn = doc.req(source, source_node, path, "target")?;
    let t = doc.map(tn, &tp)?;
    let kn = doc.req(t, tn, &tp, "type")?;
    let kind = doc.str(kn, &join(&tp, "type"))?.to_string();
    if !allowed.contains(&kind.as_str()) {
        return Err(doc.err(
            kn,
            &join(&tp, "type"),
            format!("expected {}, got {}", allowed.join(" or "), quote(&kind)),
        ));
    }
    let (e10, e2) = match unit {
        Unit::Millicores => (3, 0),
        Unit::Mib => (0, -20),
        Unit::Plain => (0, 0),
    };
    let quantity = |key: &str| -> Result<Option<f64>, String> {
        get(t, key)
            .map(|v| doc.quantity_f64(v, &join(&tp, key), e10, e2))
            .transpose()
    };
    let target = HpaTarget {
        average_utilization: doc.opt_u32(t, &tp, "averageUtilization", 1, INT32_MAX)?,
        average_value: quantity("averageValue")?,
        value: quantity("value")?,
        kind,
    };
    let missing = match target.kind.as_str() {
        "Utilization" if target.average_utilization.is_none() => Some("averageUtilization"),
        "AverageValue" if target.average_value.is_none() => Some("averageValue"),
        "Value" if target.value.is_none() => Some("value"),
        _ => None,
    };
    if let Some(field) = missing {
        return Err(doc.err(
            tn,
            &join(&tp, field),
            format!("missing (required when type is {})", target.kind),
        ));
    }
    Ok(target)
}

pub(super) fn read_rules(
    doc: &Doc,
    node: &N,
    path: &str,
    who: &str,
    notes: &mut Notes,
) -> Result<HpaRules, String> {
    let m = doc.map(node, path)?;
    for (k, _) in m {
        match k.as_str() {
            "stabilizationWindowSeconds" | "selectPolicy" | "policies" | "tolerance" => {}
            other => notes.add(format!("{who}: {path}.{other}: not modelled")),
        }
    }
    let stabilization_window_s = doc.opt_u32(m, path, "stabilizationWindowSeconds", 0, 3600)?;
    let select_policy = match get(m, "selectPolicy") {
        None => None,
        Some(v) => {
            let p = join(path, "selectPolicy");
            let s = doc.str(v, &p)?;
            if !matches!(s, "Max" | "Min" | "Disabled") {
                return Err(doc.err(
                    v,
                    &p,
                    format!("expected Max, Min or Disabled, got {}", quote(s)),
                ));
            }
            Some(s.to_string())
        }
    };
    let policies = match get(m, "policies") {
        None => None,
        Some(pn) => {
            let pp = join(path, "policies");
            let list = doc.seq(pn, &pp)?;
            if list.is_empty() {
                return Err(doc.err(pn, &pp, "empty: Kubernetes requires at least one policy"));
            }
            let mut policies = Vec::new();
            for (i, p) in list.iter().enumerate() {
                let ip = format!("{pp}[{i}]");
                let pm = doc.map(p, &ip)?;
                let kn = doc.req(pm, p, &ip, "type")?;
                let kind = doc.str(kn, &join(&ip, "type"))?;
                if kind != "Pods" && kind != "Percent" {
                    return Err(doc.err(
                        kn,
                        &join(&ip, "type"),
                        format!("expected Pods or Percent, got {}", quote(kind)),
                    ));
                }
                let vn = doc.req(pm, p, &ip, "value")?;
                let value = doc.u32_in(vn, &join(&ip, "value"), 1, INT32_MAX)?;
                let sn = doc.req(pm, p, &ip, "periodSeconds")?;
                let period_s = doc.u32_in(sn, &join(&ip, "periodSeconds"), 1, 1800)?;
                policies.push(HpaPolicy {
                    kind: kind.to_string(),
                    value,
                    period_s,
                });
            }
            Some(policies)
        }
    };
    let tolerance = get(m, "tolerance")
        .map(|v| doc.quantity_f64(v, &join(path, "tolerance"), 0, 0))
        .transpose()?;
    Ok(HpaRules {
        stabilization_window_s,
        select_policy,
        policies,
        tolerance,
    })
}
