//! Reading a Karpenter NodePool (`karpenter.sh/v1`): its weight, limits,
//! disruption (policy, `consolidateAfter`, budgets), template labels,
//! requirements, `expireAfter` and `terminationGracePeriod`, each checked
//! where the API server checks it (types, enumerations, quantities,
//! durations) so that an error names its line. What the NodePool says
//! beyond that (taints, kubelet settings, the node class) is listed in the
//! notes. `platform::karpenter` compiles it as it compiles a
//! `[[platform.node_pools]]` table.

use super::*;

/// Karpenter's duration fields: a Go duration or `Never`.
fn duration(doc: &Doc, n: &N, path: &str) -> Result<String, String> {
    let s = doc.str(n, path)?;
    if s != "Never" {
        crate::time::parse_duration(s)
            .map_err(|m| doc.err(n, path, format!("{m}, or \"Never\"")))?;
    }
    Ok(s.to_string())
}

/// A string, or a YAML integer written without quotes (Kubernetes refuses
/// it in a string field; capsim reads it as written).
fn text(doc: &Doc, n: &N, path: &str) -> Result<String, String> {
    match &n.value {
        Node::Int(i) => Ok(i.to_string()),
        _ => doc.str(n, path).map(str::to_string),
    }
}

fn strings(doc: &Doc, n: &N, path: &str) -> Result<Vec<String>, String> {
    doc.seq(n, path)?
        .iter()
        .enumerate()
        .map(|(i, v)| text(doc, v, &format!("{path}[{i}]")))
        .collect()
}

pub(super) fn read_node_pool(doc: &Doc, obj: &Obj, notes: &mut Notes) -> Result<NodePool, String> {
    let root = doc.map(obj.node, "")?;
    if obj.api_version != "karpenter.sh/v1" {
        let at = get(root, "apiVersion").unwrap_or(obj.node);
        return Err(doc.err(
            at,
            "apiVersion",
            format!(
                "{}: capsim reads karpenter.sh/v1 NodePools (v1beta1 differs: WhenUnderutilized, expireAfter under disruption — see Karpenter's v1 migration guide)",
                quote(&obj.api_version)
            ),
        ));
    }
    let Some(name) = obj.name.clone() else {
        return Err(doc.err(obj.node, "metadata.name", "missing (required)"));
    };
    let who = format!("NodePool {name}");
    let spec_node = doc.req(root, obj.node, "", "spec")?;
    let spec = doc.map(spec_node, "spec")?;
    let mut pool = NodePool {
        name,
        line: obj.node.referenced.line(),
        ..NodePool::default()
    };
    for (k, v) in spec {
        let path = format!("spec.{k}");
        match k.as_str() {
            "weight" => pool.weight = Some(doc.int(v, &path, 1, 100)? as i32),
            "limits" => {
                for (lk, lv) in doc.map(v, &path)? {
                    let lp = format!("{path}.{lk}");
                    match lk.as_str() {
                        "cpu" => pool.limits_millicores = Some(doc.millicores(lv, &lp)?),
                        "memory" => pool.limits_mib = Some(doc.mib(lv, &lp)?),
                        other => notes.add(format!("{who}: spec.limits.{other}: not modelled")),
                    }
                }
            }
            "disruption" => read_disruption(doc, v, &path, &who, &mut pool, notes)?,
            "template" => read_template(doc, v, &path, &who, &mut pool, notes)?,
            other => notes.add(format!("{who}: spec.{other}: not modelled")),
        }
    }
    Ok(pool)
}

fn read_disruption(
    doc: &Doc,
    n: &N,
    path: &str,
    who: &str,
    pool: &mut NodePool,
    notes: &mut Notes,
) -> Result<(), String> {
    for (k, v) in doc.map(n, path)? {
        let p = format!("{path}.{k}");
        match k.as_str() {
            "consolidationPolicy" => {
                let s = doc.str(v, &p)?;
                if !matches!(s, "WhenEmpty" | "WhenEmptyOrUnderutilized" | "Balanced") {
                    return Err(doc.err(
                        v,
                        &p,
                        format!(
                            "{}: expected WhenEmpty, WhenEmptyOrUnderutilized or Balanced",
                            quote(s)
                        ),
                    ));
                }
                pool.consolidation_policy = Some(s.to_string());
            }
            "consolidateAfter" => pool.consolidate_after = Some(duration(doc, v, &p)?),
            "budgets" => {
                for (i, b) in doc.seq(v, &p)?.iter().enumerate() {
                    let bp = format!("{p}[{i}]");
                    let bm = doc.map(b, &bp)?;
                    let nodes = doc.req(bm, b, &bp, "nodes")?;
                    let mut budget = NodePoolBudget {
                        nodes: text(doc, nodes, &join(&bp, "nodes"))?,
                        ..NodePoolBudget::default()
                    };
                    for (bk, bv) in bm {
                        let kp = join(&bp, bk);
                        match bk.as_str() {
                            "nodes" => {}
                            "schedule" => budget.schedule = Some(doc.str(bv, &kp)?.to_string()),
                            "duration" => budget.duration = Some(duration(doc, bv, &kp)?),
                            "reasons" => budget.reasons = Some(strings(doc, bv, &kp)?),
                            other => notes.add(format!("{who}: {p}[].{other}: not modelled")),
                        }
                    }
                    pool.budgets.push(budget);
                }
            }
            other => notes.add(format!("{who}: {path}.{other}: not modelled")),
        }
    }
    Ok(())
}

fn read_template(
    doc: &Doc,
    n: &N,
    path: &str,
    who: &str,
    pool: &mut NodePool,
    notes: &mut Notes,
) -> Result<(), String> {
    let t = doc.map(n, path)?;
    if let Some(md) = get(t, "metadata") {
        let mp = join(path, "metadata");
        for (k, v) in doc.map(md, &mp)? {
            let kp = join(&mp, k);
            match k.as_str() {
                "labels" => {
                    for (lk, lv) in doc.map(v, &kp)? {
                        pool.labels
                            .push((lk.clone(), text(doc, lv, &join(&kp, lk))?));
                    }
                }
                other => notes.add(format!("{who}: {mp}.{other}: not modelled")),
            }
        }
    }
    let Some(spec) = get(t, "spec") else {
        return Ok(());
    };
    let sp = join(path, "spec");
    for (k, v) in doc.map(spec, &sp)? {
        let kp = join(&sp, k);
        match k.as_str() {
            "requirements" => {
                for (i, r) in doc.seq(v, &kp)?.iter().enumerate() {
                    let rp = format!("{kp}[{i}]");
                    let rm = doc.map(r, &rp)?;
                    let key = doc.str(doc.req(rm, r, &rp, "key")?, &join(&rp, "key"))?;
                    let op_node = doc.req(rm, r, &rp, "operator")?;
                    let operator = doc.str(op_node, &join(&rp, "operator"))?;
                    if !matches!(
                        operator,
                        "In" | "NotIn" | "Exists" | "DoesNotExist" | "Gt" | "Lt"
                    ) {
                        return Err(doc.err(
                            op_node,
                            &join(&rp, "operator"),
                            format!(
                                "{}: expected In, NotIn, Exists, DoesNotExist, Gt or Lt",
                                quote(operator)
                            ),
                        ));
                    }
                    let values = match get(rm, "values") {
                        Some(vs) => strings(doc, vs, &join(&rp, "values"))?,
                        None => Vec::new(),
                    };
                    if get(rm, "minValues").is_some() {
                        notes.add(format!("{who}: {kp}[].minValues: not modelled"));
                    }
                    pool.requirements.push(NodePoolRequirement {
                        key: key.to_string(),
                        operator: operator.to_string(),
                        values,
                        line: r.referenced.line(),
                    });
                }
            }
            "expireAfter" => pool.expire_after = Some(duration(doc, v, &kp)?),
            "terminationGracePeriod" => {
                let s = duration(doc, v, &kp)?;
                if s == "Never" {
                    return Err(doc.err(v, &kp, "expected a duration"));
                }
                pool.termination_grace_period = Some(s);
            }
            // The EC2NodeClass (AMI, subnets, security groups) changes
            // nothing capsim simulates.
            "nodeClassRef" => {}
            _ => notes.add(format!("{who}: {kp}: not modelled")),
        }
    }
    Ok(())
}
