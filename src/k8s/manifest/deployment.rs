//! Reading an `apps/v1` Deployment: containers (init containers and
//! native sidecars as Kubernetes counts them), strategy, probes, grace
//! period, node selector, topology spread, Karpenter's annotation.

use super::*;

// ---------------------------------------------------------------------------
// Deployment
// ---------------------------------------------------------------------------

pub(super) fn read_deployment(
    doc: &Doc,
    obj: &Obj,
    notes: &mut Notes,
) -> Result<Deployment, String> {
    let root = doc.map(obj.node, "")?;
    if obj.api_version != "apps/v1" {
        let at = get(root, "apiVersion").unwrap_or(obj.node);
        return Err(doc.err(
            at,
            "apiVersion",
            format!(
                "{}: capsim reads apps/v1 Deployments (extensions/v1beta1, apps/v1beta1 and apps/v1beta2 were removed in Kubernetes 1.16)",
                quote(&obj.api_version)
            ),
        ));
    }
    let Some(name) = obj.name.clone() else {
        return Err(doc.err(obj.node, "metadata.name", "missing (required)"));
    };
    let who = format!("Deployment {name}");
    let spec_node = doc.req(root, obj.node, "", "spec")?;
    let spec = doc.map(spec_node, "spec")?;
    for (k, _) in spec {
        match k.as_str() {
            "replicas" | "strategy" | "template" | "minReadySeconds" | "selector" => {}
            other => notes.add(format!("{who}: spec.{other}: not modelled")),
        }
    }
    let replicas = doc.opt_u32(spec, "spec", "replicas", 0, INT32_MAX)?;
    let min_ready_s = doc
        .opt_u32(spec, "spec", "minReadySeconds", 0, INT32_MAX)?
        .unwrap_or(0);
    let (max_surge, max_unavailable, recreate) = read_strategy(doc, spec, &who, notes)?;

    let tmpl_node = doc.req(spec, spec_node, "spec", "template")?;
    let tmpl = doc.map(tmpl_node, "spec.template")?;
    let mut do_not_disrupt = false;
    if let Some(md) = get(tmpl, "metadata") {
        do_not_disrupt = read_template_metadata(doc, md, &who, notes)?;
    }
    let pod_node = doc.req(tmpl, tmpl_node, "spec.template", "spec")?;
    let pod = read_pod_spec(doc, pod_node, &who, notes)?;
    Ok(Deployment {
        name,
        namespace: obj.namespace.clone(),
        replicas,
        containers: pod.containers,
        init_containers: pod.init_containers,
        max_surge,
        max_unavailable,
        recreate,
        min_ready_s,
        termination_grace_period_s: pod.grace,
        readiness: pod.readiness,
        node_selector: pod.node_selector,
        topology_spread: pod.topology_spread,
        do_not_disrupt,
    })
}

pub(super) fn int_or_percent(doc: &Doc, n: &N, path: &str) -> Result<IntOrPercent, String> {
    let bad = |what: String| {
        doc.err(
            n,
            path,
            format!("expected an integer or a percentage such as \"25%\", got {what}"),
        )
    };
    match &n.value {
        Node::Int(_) => Ok(IntOrPercent::Int(doc.u32_in(n, path, 0, INT32_MAX)?)),
        Node::Str(s) => {
            let p = s.strip_suffix('%').ok_or_else(|| bad(describe(&n.value)))?;
            if p.is_empty() || !p.bytes().all(|c| c.is_ascii_digit()) {
                return Err(bad(describe(&n.value)));
            }
            p.parse::<u32>()
                .ok()
                .filter(|&v| v <= INT32_MAX)
                .map(IntOrPercent::Percent)
                .ok_or_else(|| doc.err(n, path, format!("{s} is out of range")))
        }
        other => Err(bad(describe(other))),
    }
}

pub(super) fn is_zero(v: IntOrPercent) -> bool {
    matches!(v, IntOrPercent::Int(0) | IntOrPercent::Percent(0))
}

/// `(maxSurge, maxUnavailable, recreate)`.
pub(super) fn read_strategy(
    doc: &Doc,
    spec: &Map,
    who: &str,
    notes: &mut Notes,
) -> Result<(IntOrPercent, IntOrPercent, bool), String> {
    let default = (IntOrPercent::Percent(25), IntOrPercent::Percent(25), false);
    let Some(sn) = get(spec, "strategy") else {
        return Ok(default);
    };
    let s = doc.map(sn, "spec.strategy")?;
    for (k, _) in s {
        if k != "type" && k != "rollingUpdate" {
            notes.add(format!("{who}: spec.strategy.{k}: not modelled"));
        }
    }
    let rolling = get(s, "rollingUpdate");
    match doc.opt_str(s, "spec.strategy", "type")? {
        None | Some("RollingUpdate") => {
            let (mut surge, mut unavailable) = (default.0, default.1);
            if let Some(rn) = rolling {
                let r = doc.map(rn, "spec.strategy.rollingUpdate")?;
                for (k, _) in r {
                    if k != "maxSurge" && k != "maxUnavailable" {
                        notes.add(format!(
                            "{who}: spec.strategy.rollingUpdate.{k}: not modelled"
                        ));
                    }
                }
                if let Some(v) = get(r, "maxSurge") {
                    surge = int_or_percent(doc, v, "spec.strategy.rollingUpdate.maxSurge")?;
                }
                if let Some(v) = get(r, "maxUnavailable") {
                    let path = "spec.strategy.rollingUpdate.maxUnavailable";
                    unavailable = int_or_percent(doc, v, path)?;
                    if let IntOrPercent::Percent(p) = unavailable
                        && p > 100
                    {
                        return Err(doc.err(v, path, format!("{p}% is above 100%")));
                    }
                }
                if is_zero(surge) && is_zero(unavailable) {
                    return Err(doc.err(
                        rn,
                        "spec.strategy.rollingUpdate",
                        "maxSurge and maxUnavailable are both 0: Kubernetes requires one of them to be positive",
                    ));
                }
            }
            Ok((surge, unavailable, false))
        }
        Some("Recreate") => {
            if let Some(rn) = rolling {
                return Err(doc.err(
                    rn,
                    "spec.strategy.rollingUpdate",
                    "may not be set when the strategy type is Recreate",
                ));
            }
            Ok((IntOrPercent::Int(0), IntOrPercent::Percent(100), true))
        }
        Some(other) => {
            let at = get(s, "type").unwrap_or(sn);
            Err(doc.err(
                at,
                "spec.strategy.type",
                format!("expected RollingUpdate or Recreate, got {}", quote(other)),
            ))
        }
    }
}

/// Reads the pod template's annotations; returns `do_not_disrupt`.
pub(super) fn read_template_metadata(
    doc: &Doc,
    md: &N,
    who: &str,
    notes: &mut Notes,
) -> Result<bool, String> {
    let path = "spec.template.metadata";
    let md = doc.map(md, path)?;
    let mut do_not_disrupt = false;
    let mut other_annotations = Vec::new();
    let mut injected = Vec::new();
    if let Some(an) = get(md, "annotations") {
        let apath = format!("{path}.annotations");
        for (k, v) in doc.map(an, &apath)? {
            // Annotation values are strings in the API; `true` unquoted is refused.
            let value = match &v.value {
                Node::Null => "",
                _ => doc.str(v, &format!("{apath}.{k}"))?,
            };
            match k.as_str() {
                // Karpenter skips voluntary disruption of such pods
                // (https://karpenter.sh/docs/concepts/disruption/).
                "karpenter.sh/do-not-disrupt" => do_not_disrupt = value == "true",
                "sidecar.istio.io/inject" if value == "true" => injected.push("Istio"),
                "linkerd.io/inject" if value == "enabled" => injected.push("Linkerd"),
                _ => other_annotations.push(k.as_str()),
            }
        }
    }
    if let Some(ln) = get(md, "labels")
        && let Node::Map(labels) = &ln.value
        && labels.iter().any(|(k, v)| {
            k == "sidecar.istio.io/inject" && matches!(&v.value, Node::Str(s) if s == "true")
        })
        && !injected.contains(&"Istio")
    {
        injected.push("Istio");
    }
    if !other_annotations.is_empty() {
        notes.add(format!(
            "{who}: pod annotations not modelled: {}",
            other_annotations.join(", ")
        ));
    }
    for mesh in injected {
        notes.add(format!(
            "{who}: {mesh} injects a proxy container at admission: its requests are not in the file and not counted"
        ));
    }
    Ok(do_not_disrupt)
}

pub(super) struct PodSpec {
    pub(super) containers: Vec<Container>,
    pub(super) init_containers: Vec<Container>,
    pub(super) grace: u32,
    pub(super) readiness: Option<Probe>,
    pub(super) node_selector: Vec<(String, String)>,
    pub(super) topology_spread: Vec<TopologySpread>,
}

pub(super) fn read_pod_spec(
    doc: &Doc,
    node: &N,
    who: &str,
    notes: &mut Notes,
) -> Result<PodSpec, String> {
    let path = "spec.template.spec";
    let pod = doc.map(node, path)?;
    for (k, _) in pod {
        match k.as_str() {
            "containers"
            | "initContainers"
            | "nodeSelector"
            | "topologySpreadConstraints"
            | "terminationGracePeriodSeconds" => {}
            other => notes.add(format!(
                "{who}: {path}.{other}: not modelled{}",
                pod_field_remark(other)
            )),
        }
    }
    let mut fields = FieldNotes::default();
    let mut readiness: Vec<(String, Probe)> = Vec::new();
    let mut sidecar_readiness: Vec<(String, Probe)> = Vec::new();
    let mut names: Vec<(String, String)> = Vec::new();

    let cn = doc.req(pod, node, path, "containers")?;
    let cpath = format!("{path}.containers");
    let list = doc.seq(cn, &cpath)?;
    if list.is_empty() {
        return Err(doc.err(cn, &cpath, "empty: a pod needs at least one container"));
    }
    let mut containers = Vec::new();
    for (i, c) in list.iter().enumerate() {
        let p = format!("{cpath}[{i}]");
        let (c, probe) = read_container(doc, c, &p, false, &mut fields, &mut names)?;
        if let Some(probe) = probe {
            readiness.push((c.name.clone(), probe));
        }
        containers.push(c);
    }
    let mut init_containers = Vec::new();
    if let Some(inn) = get(pod, "initContainers") {
        let ipath = format!("{path}.initContainers");
        for (i, c) in doc.seq(inn, &ipath)?.iter().enumerate() {
            let p = format!("{ipath}[{i}]");
            let (c, probe) = read_container(doc, c, &p, true, &mut fields, &mut names)?;
            if let Some(probe) = probe {
                sidecar_readiness.push((c.name.clone(), probe));
            }
            init_containers.push(c);
        }
    }
    fields.render(who, notes);
    let roles = containers
        .iter()
        .map(|c| ("container", c))
        .chain(init_containers.iter().map(|c| {
            (
                if c.sidecar {
                    "sidecar"
                } else {
                    "init container"
                },
                c,
            )
        }));
    for (role, c) in roles {
        for (res, req, lim) in [
            ("cpu", c.requests.cpu_millicores, c.limits.cpu_millicores),
            ("memory", c.requests.memory_mib, c.limits.memory_mib),
        ] {
            if req.is_none() && lim.is_some() {
                notes.add(format!(
                    "{who}: {role} {}: no {res} request: Kubernetes uses its limit as the request",
                    c.name
                ));
            }
        }
    }
    readiness.extend(sidecar_readiness);
    let readiness = match readiness.as_slice() {
        [] => None,
        [(_, p)] => Some(*p),
        [(first, p), rest @ ..] => {
            let others: Vec<&str> = rest.iter().map(|(n, _)| n.as_str()).collect();
            notes.add(format!(
                "{who}: readinessProbe read from container {first}; also set on {} (not modelled: the pod is Ready only when all are)",
                others.join(", ")
            ));
            Some(*p)
        }
    };

    let grace = doc
        .opt_u32(pod, path, "terminationGracePeriodSeconds", 0, u32::MAX)?
        .unwrap_or(30);
    let mut node_selector = Vec::new();
    if let Some(ns) = get(pod, "nodeSelector") {
        let npath = format!("{path}.nodeSelector");
        for (k, v) in doc.map(ns, &npath)? {
            let value = match &v.value {
                Node::Null => "",
                _ => doc.str(v, &format!("{npath}.{k}"))?,
            };
            node_selector.push((k.clone(), value.to_string()));
        }
    }
    let mut topology_spread = Vec::new();
    if let Some(ts) = get(pod, "topologySpreadConstraints") {
        let tpath = format!("{path}.topologySpreadConstraints");
        for (i, t) in doc.seq(ts, &tpath)?.iter().enumerate() {
            let p = format!("{tpath}[{i}]");
            topology_spread.push(read_spread(doc, t, &p, who, notes)?);
        }
    }
    Ok(PodSpec {
        containers,
        init_containers,
        grace,
        readiness,
        node_selector,
        topology_spread,
    })
}

pub(super) fn read_spread(
    doc: &Doc,
    node: &N,
    path: &str,
    who: &str,
    notes: &mut Notes,
) -> Result<TopologySpread, String> {
    let m = doc.map(node, path)?;
    for (k, _) in m {
        match k.as_str() {
            "maxSkew" | "topologyKey" | "whenUnsatisfiable" => {}
            other => notes.add(format!(
                "{who}: spec.template.spec.topologySpreadConstraints[].{other}: not modelled"
            )),
        }
    }
    if get(m, "labelSelector").is_none() && get(m, "matchLabelKeys").is_none() {
        notes.add(format!(
            "{who}: {path} has no labelSelector: Kubernetes then counts no pods for it, so it spreads nothing (capsim assumes it spreads this Deployment's pods)"
        ));
    }
    let skew = doc.req(m, node, path, "maxSkew")?;
    let max_skew = doc.u32_in(skew, &join(path, "maxSkew"), 1, INT32_MAX)?;
    let key = doc.req(m, node, path, "topologyKey")?;
    let topology_key = doc.str(key, &join(path, "topologyKey"))?.to_string();
    if topology_key.is_empty() {
        return Err(doc.err(key, &join(path, "topologyKey"), "empty"));
    }
    let wn = doc.req(m, node, path, "whenUnsatisfiable")?;
    let when_unsatisfiable = match doc.str(wn, &join(path, "whenUnsatisfiable"))? {
        "DoNotSchedule" => WhenUnsatisfiable::DoNotSchedule,
        "ScheduleAnyway" => WhenUnsatisfiable::ScheduleAnyway,
        other => {
            return Err(doc.err(
                wn,
                &join(path, "whenUnsatisfiable"),
                format!(
                    "expected DoNotSchedule or ScheduleAnyway, got {}",
                    quote(other)
                ),
            ));
        }
    };
    Ok(TopologySpread {
        max_skew,
        topology_key,
        when_unsatisfiable,
    })
}

/// Reads one container; returns it and its readiness probe, if any.
pub(super) fn read_container(
    doc: &Doc,
    node: &N,
    path: &str,
    init: bool,
    fields: &mut FieldNotes,
    names: &mut Vec<(String, String)>,
) -> Result<(Container, Option<Probe>), String> {
    let m = doc.map(node, path)?;
    let name_node = doc.req(m, node, path, "name")?;
    let name = doc.str(name_node, &join(path, "name"))?.to_string();
    if name.is_empty() {
        return Err(doc.err(name_node, &join(path, "name"), "empty"));
    }
    if let Some((_, first)) = names.iter().find(|(n, _)| *n == name) {
        return Err(doc.err(
            name_node,
            &join(path, "name"),
            format!(
                "{} is already the name of {first}: container names must be unique in a pod",
                quote(&name)
            ),
        ));
    }
    names.push((name.clone(), path.to_string()));
    let image = doc.opt_str(m, path, "image")?.map(str::to_string);
    let mut requests = Quantities::default();
    let mut limits = Quantities::default();
    let mut sidecar = false;
    let mut readiness = None;
    for (k, v) in m {
        let p = join(path, k);
        if matches!(v.value, Node::Null) {
            continue;
        }
        match k.as_str() {
            "name" | "image" => {}
            "resources" => read_resources(doc, v, &p, &name, &mut requests, &mut limits, fields)?,
            "restartPolicy" if init => {
                let policy = doc.str(v, &p)?;
                if policy == "Always" {
                    sidecar = true;
                } else {
                    fields.add(format!("restartPolicy {}", quote(policy)), &name);
                }
            }
            "readinessProbe" => readiness = Some((read_probe(doc, v, &p, fields, &name)?, v)),
            "lifecycle" => match &v.value {
                Node::Map(hooks) => {
                    for (h, _) in hooks {
                        fields.add(format!("lifecycle.{h}"), &name);
                    }
                }
                _ => fields.add("lifecycle".into(), &name),
            },
            other => fields.add(other.to_string(), &name),
        }
    }
    let readiness = match readiness {
        Some((_, v)) if init && !sidecar => {
            return Err(doc.err(
                v,
                &join(path, "readinessProbe"),
                "Kubernetes refuses a readinessProbe on a regular init container (only sidecars, with restartPolicy: Always, may have one)",
            ));
        }
        r => r.map(|(p, _)| p),
    };
    Ok((
        Container {
            name,
            image,
            requests,
            limits,
            sidecar,
        },
        readiness,
    ))
}

/// Reads `resources` into `requests` and `limits` (cpu and memory); other
/// resources are listed in `fields`. Unknown keys are refused: a typo such as
/// `request:` would otherwise silently drop a request.
pub(super) fn read_resources(
    doc: &Doc,
    node: &N,
    path: &str,
    container: &str,
    requests: &mut Quantities,
    limits: &mut Quantities,
    fields: &mut FieldNotes,
) -> Result<(), String> {
    for (rk, rv) in doc.map(node, path)? {
        let rp = join(path, rk);
        let target = match rk.as_str() {
            "requests" => &mut *requests,
            "limits" => &mut *limits,
            "claims" => {
                fields.add("resources.claims".into(), container);
                continue;
            }
            other => {
                return Err(doc.err(
                    rv,
                    &rp,
                    format!(
                        "unknown field {} (expected requests, limits or claims)",
                        quote(other)
                    ),
                ));
            }
        };
        if matches!(rv.value, Node::Null) {
            continue;
        }
        for (q, qv) in doc.map(rv, &rp)? {
            let qp = join(&rp, q);
            match q.as_str() {
                "cpu" => target.cpu_millicores = Some(doc.millicores(qv, &qp)?),
                "memory" => {
                    let mib = doc.mib(qv, &qp)?;
                    target.memory_mib = Some(mib);
                    if let Node::Str(s) = &qv.value
                        && let Some(number) = s.strip_suffix('m')
                    {
                        fields.warn(format!(
                            "{qp}: {} is {number} millibytes (rounded up to {mib} MiB): did you mean \"{number}Mi\"?",
                            quote(s)
                        ));
                    }
                }
                other => fields.add(format!("resources.{rk}.{other}"), container),
            }
        }
    }
    Ok(())
}

pub(super) fn read_probe(
    doc: &Doc,
    node: &N,
    path: &str,
    fields: &mut FieldNotes,
    container: &str,
) -> Result<Probe, String> {
    let m = doc.map(node, path)?;
    let d = Probe::default();
    // Kubernetes defaults a 0 (or absent) period, timeout and thresholds.
    let field = |key: &str, default: u32| -> Result<u32, String> {
        Ok(match doc.opt_u32(m, path, key, 0, INT32_MAX)? {
            None | Some(0) => default,
            Some(v) => v,
        })
    };
    for (k, _) in m {
        match k.as_str() {
            "initialDelaySeconds"
            | "periodSeconds"
            | "timeoutSeconds"
            | "successThreshold"
            | "failureThreshold"
            | "httpGet"
            | "tcpSocket"
            | "exec"
            | "grpc" => {}
            other => fields.add(format!("readinessProbe.{other}"), container),
        }
    }
    Ok(Probe {
        initial_delay_s: doc
            .opt_u32(m, path, "initialDelaySeconds", 0, INT32_MAX)?
            .unwrap_or(d.initial_delay_s),
        period_s: field("periodSeconds", d.period_s)?,
        success_threshold: field("successThreshold", d.success_threshold)?,
        failure_threshold: field("failureThreshold", d.failure_threshold)?,
        timeout_s: field("timeoutSeconds", d.timeout_s)?,
    })
}
