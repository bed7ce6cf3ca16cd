//! The manifest reader's tests: every field, every error with its line.

use super::*;

/// A realistic service: Deployment, Service, HPA (autoscaling/v2).
const WEB: &str = r#"# The web tier of the shop.
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
  labels:
    app: web
spec:
  replicas: 3
  revisionHistoryLimit: 5
  selector:
    matchLabels:
      app: web
  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxSurge: 50%
      maxUnavailable: 0
  template:
    metadata:
      labels:
        app: web
      annotations:
        karpenter.sh/do-not-disrupt: "true"
        prometheus.io/scrape: "true"
    spec:
      terminationGracePeriodSeconds: 45
      serviceAccountName: web
      nodeSelector:
        kubernetes.io/arch: arm64
        karpenter.sh/capacity-type: on-demand
      topologySpreadConstraints:
        - maxSkew: 1
          topologyKey: topology.kubernetes.io/zone
          whenUnsatisfiable: DoNotSchedule
          labelSelector:
            matchLabels:
              app: web
      affinity:
        podAntiAffinity:
          preferredDuringSchedulingIgnoredDuringExecution:
            - weight: 100
              podAffinityTerm:
                topologyKey: kubernetes.io/hostname
                labelSelector:
                  matchLabels:
                    app: web
      tolerations:
        - key: dedicated
          operator: Equal
          value: web
          effect: NoSchedule
      initContainers:
        - name: log-shipper
          image: fluent/fluent-bit:3.0
          restartPolicy: Always
          resources:
            requests:
              cpu: 50m
              memory: 64Mi
            limits:
              memory: 128Mi
          volumeMounts:
            - name: logs
              mountPath: /var/log/app
        - name: migrate
          image: registry.example.com/web-migrate:1.4.2
          command: ["/migrate", "--wait"]
          resources:
            requests:
              cpu: "1"
              memory: 256Mi
            limits:
              cpu: 1
              memory: 256Mi
      containers:
        - name: app
          image: registry.example.com/web:1.4.2
          imagePullPolicy: IfNotPresent
          ports:
            - containerPort: 8080
          env:
            - name: LOG_LEVEL
              value: info
          resources:
            requests:
              cpu: 500m
              memory: 1Gi
              ephemeral-storage: 1Gi
            limits:
              cpu: 1
              memory: 1536Mi
          readinessProbe:
            httpGet:
              path: /ready
              port: 8080
            initialDelaySeconds: 5
            periodSeconds: 5
          livenessProbe:
            httpGet:
              path: /healthz
              port: 8080
            periodSeconds: 20
          lifecycle:
            preStop:
              exec:
                command: ["sleep", "10"]
          securityContext:
            runAsNonRoot: true
          volumeMounts:
            - name: logs
              mountPath: /var/log/app
      volumes:
        - name: logs
          emptyDir: {}
---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: shop
spec:
  selector:
    app: web
  ports:
    - port: 80
      targetPort: 8080
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: web
  namespace: shop
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: web
  minReplicas: 3
  maxReplicas: 30
  metrics:
    - type: Resource
      resource:
        name: cpu
        target:
          type: Utilization
          averageUtilization: 60
    - type: Pods
      pods:
        metric:
          name: http_requests_per_second
        target:
          type: AverageValue
          averageValue: 1k
  behavior:
    scaleUp:
      stabilizationWindowSeconds: 0
      policies:
        - type: Percent
          value: 100
          periodSeconds: 60
        - type: Pods
          value: 4
          periodSeconds: 60
      selectPolicy: Max
    scaleDown:
      stabilizationWindowSeconds: 300
      policies:
        - type: Pods
          value: 1
          periodSeconds: 60
      tolerance: "0.05"
"#;

fn web() -> Manifest {
    parse(WEB, "web.yaml", None).unwrap()
}

fn q(cpu: Option<u32>, mem: Option<u32>) -> Quantities {
    Quantities {
        cpu_millicores: cpu,
        memory_mib: mem,
    }
}

/// A Deployment around one pod spec body (indented 6 spaces), for short tests.
fn deployment(name: &str, pod_spec: &str) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\nspec:\n  selector:\n    matchLabels: {{app: {name}}}\n  template:\n    spec:\n{pod_spec}"
    )
}

const ONE_CONTAINER: &str = "      containers:\n        - name: app\n          image: app:1\n";

#[test]
fn realistic_manifest_deployment_fields() {
    let m = web();
    let d = m.deployment.as_ref().unwrap();
    assert_eq!(d.name, "web");
    assert_eq!(d.namespace.as_deref(), Some("shop"));
    assert_eq!(d.replicas, Some(3));
    assert_eq!(d.max_surge, IntOrPercent::Percent(50));
    assert_eq!(d.max_unavailable, IntOrPercent::Int(0));
    assert!(!d.recreate);
    assert_eq!(d.min_ready_s, 0);
    assert_eq!(d.termination_grace_period_s, 45);
    assert!(d.do_not_disrupt);
    assert_eq!(
        d.node_selector,
        vec![
            ("kubernetes.io/arch".to_string(), "arm64".to_string()),
            (
                "karpenter.sh/capacity-type".to_string(),
                "on-demand".to_string()
            ),
        ]
    );
    assert_eq!(
        d.topology_spread,
        vec![TopologySpread {
            max_skew: 1,
            topology_key: "topology.kubernetes.io/zone".into(),
            when_unsatisfiable: WhenUnsatisfiable::DoNotSchedule,
        }]
    );
    assert_eq!(
        d.readiness,
        Some(Probe {
            initial_delay_s: 5,
            period_s: 5,
            success_threshold: 1,
            failure_threshold: 3,
            timeout_s: 1,
        })
    );
    assert_eq!(
        d.containers,
        vec![Container {
            name: "app".into(),
            image: Some("registry.example.com/web:1.4.2".into()),
            requests: q(Some(500), Some(1024)),
            limits: q(Some(1000), Some(1536)),
            sidecar: false,
        }]
    );
    assert_eq!(
        d.init_containers,
        vec![
            Container {
                name: "log-shipper".into(),
                image: Some("fluent/fluent-bit:3.0".into()),
                requests: q(Some(50), Some(64)),
                limits: q(None, Some(128)),
                sidecar: true,
            },
            Container {
                name: "migrate".into(),
                image: Some("registry.example.com/web-migrate:1.4.2".into()),
                requests: q(Some(1000), Some(256)),
                limits: q(Some(1000), Some(256)),
                sidecar: false,
            },
        ]
    );
    // maxSurge 50 % of 3 rounds up to 2; maxUnavailable 0.
    assert_eq!(d.rollout_bounds(3), (2, 0));
}

#[test]
fn realistic_manifest_effective_requests_and_limits() {
    let d = web().deployment.unwrap();
    // Init containers in order: log-shipper (sidecar 50m/64Mi), then
    // migrate (regular, 1000m/256Mi), then the app (500m/1Gi).
    //   while migrate runs:  migrate + sidecars started before it
    //                        cpu 1000 + 50 = 1050m, memory 256 + 64 = 320 MiB
    //   while the app runs:  app + all sidecars
    //                        cpu  500 + 50 =  550m, memory 1024 + 64 = 1088 MiB
    //   effective request = max per resource: cpu 1050m, memory 1088 MiB.
    assert_eq!(d.pod_requests(), q(Some(1050), Some(1088)));
    // Limits: the sidecar has no cpu limit, so the pod's cpu is unlimited.
    // Memory: app phase 1536 + 128 = 1664; migrate phase 256 + 128 = 384.
    assert_eq!(d.pod_limits(), q(None, Some(1664)));
}

#[test]
fn realistic_manifest_hpa() {
    let h = web().hpa.unwrap();
    assert_eq!(h.name, "web");
    assert_eq!(h.api_version, "autoscaling/v2");
    assert_eq!(
        (h.target.as_str(), h.target_kind.as_str()),
        ("web", "Deployment")
    );
    assert_eq!((h.min_replicas, h.max_replicas), (Some(3), 30));
    assert_eq!(
        h.metrics,
        vec![
            HpaMetric::Resource {
                name: "cpu".into(),
                target: HpaTarget {
                    kind: "Utilization".into(),
                    average_utilization: Some(60),
                    average_value: None,
                    value: None,
                },
            },
            HpaMetric::Pods {
                name: "http_requests_per_second".into(),
                target: HpaTarget {
                    kind: "AverageValue".into(),
                    average_utilization: None,
                    average_value: Some(1000.0),
                    value: None,
                },
            },
        ]
    );
    let b = h.behavior.clone().unwrap();
    assert_eq!(
        b.scale_up,
        Some(HpaRules {
            stabilization_window_s: Some(0),
            select_policy: Some("Max".into()),
            policies: Some(vec![
                HpaPolicy {
                    kind: "Percent".into(),
                    value: 100,
                    period_s: 60
                },
                HpaPolicy {
                    kind: "Pods".into(),
                    value: 4,
                    period_s: 60
                },
            ]),
            tolerance: None,
        })
    );
    assert_eq!(
        b.scale_down,
        Some(HpaRules {
            stabilization_window_s: Some(300),
            select_policy: None,
            policies: Some(vec![HpaPolicy {
                kind: "Pods".into(),
                value: 1,
                period_s: 60
            }]),
            tolerance: Some(0.05),
        })
    );
    // Defaults fill what is not written.
    let down = h.scale_down_rules();
    assert_eq!(down.select_policy.as_deref(), Some("Max"));
    assert_eq!(down.tolerance, Some(0.05));
    assert_eq!(h.scale_up_rules().tolerance, Some(0.1));
    assert_eq!(h.min_replicas_or_default(), 3);
}

#[test]
fn realistic_manifest_notes() {
    let notes = web().notes;
    let expected = [
        "Deployment web: spec.revisionHistoryLimit: not modelled",
        "Deployment web: pod annotations not modelled: prometheus.io/scrape",
        "Deployment web: spec.template.spec.serviceAccountName: not modelled",
        "Deployment web: spec.template.spec.affinity: not modelled (node affinity and pod affinity/anti-affinity are not applied)",
        "Deployment web: spec.template.spec.tolerations: not modelled (node taints are not modelled)",
        "Deployment web: spec.template.spec.volumes: not modelled",
        "Deployment web: imagePullPolicy (container app): not modelled",
        "Deployment web: ports (container app): not modelled",
        "Deployment web: env (container app): not modelled",
        "Deployment web: resources.requests.ephemeral-storage (container app): not modelled (node disk is not modelled)",
        "Deployment web: livenessProbe (container app): not modelled (a failing liveness probe restarts the container)",
        "Deployment web: lifecycle.preStop (container app): not modelled (the hook runs before SIGTERM and counts against terminationGracePeriodSeconds)",
        "Deployment web: securityContext (container app): not modelled",
        "Deployment web: volumeMounts (containers app, log-shipper): not modelled",
        "Deployment web: command (container migrate): not modelled",
        "Deployment web: spec.template.spec.topologySpreadConstraints[].labelSelector: not modelled",
        "Service web: kind not modelled",
        "Deployment web: spec.replicas (3) is set while HPA web scales it: every apply resets the replicas to 3 until the HPA acts again",
    ];
    for e in expected {
        assert!(
            notes.iter().any(|n| n == e),
            "missing note {e:?} in {notes:#?}"
        );
    }
    assert_eq!(notes.len(), expected.len(), "{notes:#?}");
    // Each note once.
    let mut sorted = notes.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), notes.len());
}

#[test]
fn quantities_table() {
    let cpu: &[(&str, Result<u32, &str>)] = &[
        ("250m", Ok(250)),
        ("0.5", Ok(500)),
        ("1", Ok(1000)),
        ("1.5", Ok(1500)),
        (".5", Ok(500)),
        ("2.", Ok(2000)),
        ("+1", Ok(1000)),
        ("1e3", Ok(1_000_000)),
        ("1E-3", Ok(1)),
        ("0.1m", Ok(1)),   // finer than 1m rounds up
        ("0.0001", Ok(1)), // 0.1m
        ("1k", Ok(1_000_000)),
        ("0", Ok(0)),
        ("-0", Ok(0)),
        ("4294967295m", Ok(u32::MAX)),
        ("abc", Err("invalid quantity")),
        ("", Err("invalid quantity")),
        ("1K", Err("invalid quantity")),
        ("1 m", Err("invalid quantity")),
        (" 1", Err("invalid quantity")),
        ("1e", Err("invalid quantity")),
        ("1..5", Err("invalid quantity")),
        ("1mi", Err("invalid quantity")),
        ("--1", Err("invalid quantity")),
        ("-1", Err("must not be negative")),
        ("-250m", Err("must not be negative")),
        ("4294967296m", Err("too large")),
        ("1e30", Err("too large")),
        ("1e9999999", Err("exponent out of range")),
        ("1e-999999", Ok(1)),
        ("1e-1000000", Err("exponent out of range")),
        ("١", Err("invalid quantity")),
    ];
    for (s, want) in cpu {
        match (parse_quantity_millicores(s), want) {
            (Ok(v), Ok(w)) => assert_eq!(v, *w, "cpu {s:?}"),
            (Err(e), Err(w)) => assert!(e.contains(w), "cpu {s:?}: {e}"),
            (got, want) => panic!("cpu {s:?}: got {got:?}, want {want:?}"),
        }
    }
    let mem: &[(&str, Result<u32, &str>)] = &[
        ("512Mi", Ok(512)),
        ("2Gi", Ok(2048)),
        ("1.5Gi", Ok(1536)),
        ("1G", Ok(954)),        // 10^9 / 2^20 = 953.67 → 954
        ("128974848", Ok(123)), // exactly 123 MiB
        ("129e6", Ok(124)),     // 123.02 → 124
        ("129M", Ok(124)),
        ("123Mi", Ok(123)),
        ("1Ki", Ok(1)),
        ("1048576", Ok(1)),
        ("1048577", Ok(2)),
        ("400m", Ok(1)), // 0.4 byte
        ("1Ti", Ok(1_048_576)),
        ("4095Ti", Ok(4_293_918_720)),
        ("4Pi", Err("too large")), // 2^32 MiB, one more than u32::MAX
        ("1Ei", Err("too large")),
        (
            "12345678901234567890123456789012345678901",
            Err("too many significant digits"),
        ),
        ("1Gb", Err("invalid quantity")),
    ];
    for (s, want) in mem {
        let got = parse_quantity_mib(s);
        match (got, want) {
            (Ok(v), Ok(w)) => assert_eq!(v, *w, "memory {s:?}"),
            (Err(e), Err(w)) => assert!(e.contains(w), "memory {s:?}: {e}"),
            (got, want) => panic!("memory {s:?}: got {got:?}, want {want:?}"),
        }
    }
    assert_eq!(parse_quantity_f64("1k").unwrap(), 1000.0);
    assert_eq!(parse_quantity_f64("250m").unwrap(), 0.25);
    assert_eq!(parse_quantity_f64("1Ki").unwrap(), 1024.0);
    assert_eq!(parse_quantity_f64("-2").unwrap(), -2.0);
    assert!(parse_quantity_f64("1e999999").is_err());
}

#[test]
fn yaml_numbers_as_quantities() {
    let spec = "      containers:\n        - name: app\n          resources:\n            requests: {cpu: 0.25, memory: 128974848}\n            limits: {cpu: 2, memory: 1e9}\n";
    let m = parse(&deployment("d", spec), "d.yaml", None).unwrap();
    let c = &m.deployment.unwrap().containers[0];
    assert_eq!(c.requests, q(Some(250), Some(123)));
    assert_eq!(c.limits, q(Some(2000), Some(954)));
}

#[test]
fn invalid_quantity_names_file_line_and_field() {
    let spec = "      containers:\n        - name: app\n          resources:\n            requests:\n              cpu: abc\n";
    let e = parse(&deployment("web", spec), "app.yaml", None).unwrap_err();
    assert!(
            e.starts_with(
                "app.yaml line 14: document 1 (Deployment web): spec.template.spec.containers[0].resources.requests.cpu: invalid quantity \"abc\""
            ),
            "{e}"
        );
}

#[test]
fn v1_hpa_is_converted() {
    let text = format!(
        "{}---\napiVersion: autoscaling/v1\nkind: HorizontalPodAutoscaler\nmetadata:\n  name: api\nspec:\n  scaleTargetRef:\n    apiVersion: apps/v1\n    kind: Deployment\n    name: api\n  minReplicas: 2\n  maxReplicas: 10\n  targetCPUUtilizationPercentage: 75\n",
        deployment("api", ONE_CONTAINER)
    );
    let m = parse(&text, "api.yaml", None).unwrap();
    let h = m.hpa.unwrap();
    assert_eq!(h.api_version, "autoscaling/v1");
    assert_eq!((h.min_replicas, h.max_replicas), (Some(2), 10));
    assert_eq!(
        h.metrics,
        vec![HpaMetric::Resource {
            name: "cpu".into(),
            target: HpaTarget {
                kind: "Utilization".into(),
                average_utilization: Some(75),
                average_value: None,
                value: None,
            },
        }]
    );
    assert_eq!(h.behavior, None);
    assert_eq!(h.scale_down_rules(), HpaRules::default_scale_down());
    assert_eq!(h.scale_up_rules(), HpaRules::default_scale_up());
    assert!(m.notes.is_empty(), "{:?}", m.notes);
}

#[test]
fn v1_hpa_without_target_uses_the_default_metric() {
    let text = format!(
        "{}---\napiVersion: autoscaling/v1\nkind: HorizontalPodAutoscaler\nmetadata: {{name: api}}\nspec:\n  scaleTargetRef: {{kind: Deployment, name: api}}\n  maxReplicas: 4\n",
        deployment("api", ONE_CONTAINER)
    );
    let m = parse(&text, "api.yaml", None).unwrap();
    let h = m.hpa.unwrap();
    assert!(h.metrics.is_empty());
    assert_eq!(h.min_replicas_or_default(), 1);
    assert!(matches!(
        &h.metrics_or_default()[0],
        HpaMetric::Resource { name, target } if name == "cpu" && target.average_utilization == Some(80)
    ));
    assert!(m.notes.iter().any(|n| n.contains("no metrics")));
}

#[test]
fn memory_and_other_hpa_metrics() {
    let text = format!(
        "{}---\napiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {{name: api}}\nspec:\n  scaleTargetRef: {{kind: Deployment, name: api}}\n  maxReplicas: 4\n  metrics:\n    - type: Resource\n      resource: {{name: memory, target: {{type: AverageValue, averageValue: 1.5Gi}}}}\n    - type: Resource\n      resource: {{name: cpu, target: {{type: AverageValue, averageValue: 250m}}}}\n    - type: External\n      external: {{metric: {{name: queue}}, target: {{type: Value, value: 30}}}}\n",
        deployment("api", ONE_CONTAINER)
    );
    let m = parse(&text, "api.yaml", None).unwrap();
    let metrics = m.hpa.unwrap().metrics;
    let value = |i: usize| match &metrics[i] {
        HpaMetric::Resource { target, .. } => target.average_value,
        _ => None,
    };
    assert_eq!(value(0), Some(1536.0));
    assert_eq!(value(1), Some(250.0));
    assert_eq!(
        metrics[2],
        HpaMetric::Other {
            kind: "External".into()
        }
    );
    assert!(
        m.notes
            .iter()
            .any(|n| n.contains("spec.metrics[2]: External metric not modelled"))
    );
}

#[test]
fn several_deployments_choose_by_name() {
    let text = format!(
        "{}---\n{}---\napiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {{name: worker}}\nspec:\n  scaleTargetRef: {{kind: Deployment, name: worker}}\n  maxReplicas: 5\n",
        deployment("web", ONE_CONTAINER),
        deployment("worker", ONE_CONTAINER)
    );
    let e = parse(&text, "two.yaml", None).unwrap_err();
    assert!(
        e.starts_with("two.yaml: several Deployments (web (line 1), worker (line 14))"),
        "{e}"
    );
    let m = parse(&text, "two.yaml", Some("worker")).unwrap();
    assert_eq!(m.deployment.unwrap().name, "worker");
    assert_eq!(m.hpa.unwrap().target, "worker");
    assert!(
        m.notes
            .contains(&"Deployment web: not selected".to_string())
    );
    let m = parse(&text, "two.yaml", Some("web")).unwrap();
    assert_eq!(m.hpa, None);
    assert!(
        m.notes
            .iter()
            .any(|n| n.starts_with("HorizontalPodAutoscaler worker: targets Deployment worker"))
    );
    let m = parse(&text, "two.yaml", Some("default/web")).unwrap();
    assert_eq!(m.deployment.unwrap().name, "web");
    let e = parse(&text, "two.yaml", Some("api")).unwrap_err();
    assert_eq!(
        e,
        "two.yaml: no Deployment named \"api\" (found: Deployment web, Deployment worker)"
    );
}

#[test]
fn missing_hpa_is_none() {
    let m = parse(&deployment("solo", ONE_CONTAINER), "solo.yaml", None).unwrap();
    assert_eq!(m.hpa, None);
    let d = m.deployment.unwrap();
    // Defaults.
    assert_eq!(d.replicas, None);
    assert_eq!(d.max_surge, IntOrPercent::Percent(25));
    assert_eq!(d.max_unavailable, IntOrPercent::Percent(25));
    assert_eq!(d.termination_grace_period_s, 30);
    assert_eq!(d.readiness, None);
    assert!(!d.do_not_disrupt);
    assert_eq!(d.pod_requests(), Quantities::default());
    assert_eq!(d.pod_limits(), Quantities::default());
    assert_eq!(d.rollout_bounds(10), (3, 2));
    assert_eq!(d.rollout_bounds(1), (1, 0));
}

#[test]
fn malformed_yaml_reports_the_parser_line() {
    let text = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n labels: {a: b}\n";
    let e = parse(text, "bad.yaml", None).unwrap_err();
    assert!(e.starts_with("bad.yaml line 5: invalid YAML"), "{e}");
    let e = parse("a: [1, 2\nb: 3\n", "bad.yaml", None).unwrap_err();
    assert!(e.starts_with("bad.yaml line "), "{e}");
    let e = parse("a: 1\na: 2\n", "dup.yaml", None).unwrap_err();
    assert!(
        e.starts_with("dup.yaml line 2: invalid YAML") && e.contains("duplicate"),
        "{e}"
    );
}

#[test]
fn type_errors_report_their_line() {
    let text = deployment("web", ONE_CONTAINER)
        .replace("spec:\n  selector", "spec:\n  replicas: three\n  selector");
    let e = parse(&text, "t.yaml", None).unwrap_err();
    assert_eq!(
        e,
        "t.yaml line 6: document 1 (Deployment web): spec.replicas: expected an integer, got the string \"three\""
    );
    let text = deployment("web", ONE_CONTAINER)
        .replace("spec:\n  selector", "spec:\n  replicas: \"3\"\n  selector");
    assert!(
        parse(&text, "t.yaml", None)
            .unwrap_err()
            .contains("got the string \"3\"")
    );
    let spec = "      containers:\n        name: app\n";
    let e = parse(&deployment("web", spec), "t.yaml", None).unwrap_err();
    assert!(
        e.contains("line 11")
            && e.contains("spec.template.spec.containers: expected a list, got a mapping"),
        "{e}"
    );
    let spec = format!("{ONE_CONTAINER}      nodeSelector:\n        spot: true\n");
    let e = parse(&deployment("web", &spec), "t.yaml", None).unwrap_err();
    assert!(
        e.contains("line 14")
            && e.contains("nodeSelector.spot: expected a string, got the boolean true (quote it)"),
        "{e}"
    );
}

#[test]
fn negative_and_absurd_numbers_are_refused() {
    let with = |extra: &str| {
        deployment("web", ONE_CONTAINER).replace(
            "spec:\n  selector",
            &format!("spec:\n  {extra}\n  selector"),
        )
    };
    let e = parse(&with("replicas: -1"), "n.yaml", None).unwrap_err();
    assert!(
        e.contains("line 6") && e.contains("spec.replicas: -1 is below the minimum 0"),
        "{e}"
    );
    let e = parse(&with("replicas: 99999999999"), "n.yaml", None).unwrap_err();
    assert!(e.contains("above the maximum 2147483647"), "{e}");
    let e = parse(&with("replicas: 1e400"), "n.yaml", None).unwrap_err();
    assert!(e.contains("expected an integer"), "{e}");
    let e = parse(&with("replicas: 3.0"), "n.yaml", None).unwrap_err();
    assert!(e.contains("expected an integer, got the number 3"), "{e}");
    let e = parse(
        &with("replicas: 123456789012345678901234567890123456789012"),
        "n.yaml",
        None,
    )
    .unwrap_err();
    assert!(e.contains("expected an integer"), "{e}");
    let spec = "      containers:\n        - name: app\n          resources:\n            requests: {cpu: 100000000, memory: -1Gi}\n";
    let e = parse(&deployment("web", spec), "n.yaml", None).unwrap_err();
    assert!(
        e.contains("line 13") && e.contains("requests.cpu: quantity \"100000000\" is too large"),
        "{e}"
    );
    let spec = "      containers:\n        - name: app\n          resources:\n            requests: {memory: -1Gi}\n";
    let e = parse(&deployment("web", spec), "n.yaml", None).unwrap_err();
    assert!(
        e.contains("requests.memory: quantity \"-1Gi\" must not be negative"),
        "{e}"
    );
    let spec = format!("{ONE_CONTAINER}      terminationGracePeriodSeconds: -5\n");
    assert!(
        parse(&deployment("web", &spec), "n.yaml", None)
            .unwrap_err()
            .contains("below the minimum 0")
    );
}

#[test]
fn empty_file_is_an_error() {
    for text in ["", "\n\n", "# nothing here\n", "---\n---\n", "~\n"] {
        let e = parse(text, "empty.yaml", None).unwrap_err();
        assert_eq!(
            e, "empty.yaml: no Kubernetes objects (the file is empty or holds only comments)",
            "{text:?}"
        );
    }
}

#[test]
fn only_a_service_is_an_error() {
    let text =
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  ports: [{port: 80}]\n";
    let e = parse(text, "svc.yaml", None).unwrap_err();
    assert_eq!(
        e,
        "svc.yaml: no Deployment in the file (found: Service web)"
    );
}

#[test]
fn documents_that_are_not_objects() {
    let e = parse("- a\n- b\n", "l.yaml", None).unwrap_err();
    assert!(
        e.starts_with("l.yaml line 1: document 1: expected a Kubernetes object"),
        "{e}"
    );
    let e = parse("apiVersion: v1\nmetadata: {name: x}\n", "k.yaml", None).unwrap_err();
    assert_eq!(e, "k.yaml line 1: document 1: kind: missing (required)");
}

#[test]
fn list_kind_is_read_as_its_items() {
    let dep = deployment("web", ONE_CONTAINER);
    let indented: String = dep.lines().map(|l| format!("    {l}\n")).collect();
    let text = format!("apiVersion: v1\nkind: List\nitems:\n  - \n{indented}");
    let text = text.replacen("  - \n    apiVersion", "  - apiVersion", 1);
    let m = parse(&text, "list.yaml", None).unwrap();
    assert_eq!(m.deployment.unwrap().name, "web");
}

#[test]
fn sidecar_order_matters() {
    // The regular init container comes first: no sidecar runs beside it.
    let spec = "      initContainers:\n        - name: init\n          resources: {requests: {cpu: 1, memory: 256Mi}}\n        - name: proxy\n          restartPolicy: Always\n          resources: {requests: {cpu: 100m, memory: 128Mi}}\n        - name: warm\n          resources: {requests: {cpu: 900m, memory: 64Mi}}\n      containers:\n        - name: app\n          resources: {requests: {cpu: 200m, memory: 512Mi}}\n";
    let d = parse(&deployment("d", spec), "d.yaml", None)
        .unwrap()
        .deployment
        .unwrap();
    // init: 1000m/256; proxy: 100m/128 (itself); warm: 900 + 100 = 1000m, 64 + 128 = 192;
    // app phase: 200 + 100 = 300m, 512 + 128 = 640.  → 1000m, 640 MiB.
    assert_eq!(d.pod_requests(), q(Some(1000), Some(640)));
    assert_eq!(d.pod_limits(), q(None, None));
}

#[test]
fn limits_stand_in_for_missing_requests() {
    let spec = "      containers:\n        - name: app\n          resources:\n            limits: {cpu: 2, memory: 4Gi}\n        - name: agent\n          resources:\n            requests: {cpu: 100m}\n            limits: {cpu: 200m, memory: 256Mi}\n";
    let m = parse(&deployment("d", spec), "d.yaml", None).unwrap();
    let d = m.deployment.unwrap();
    assert_eq!(d.pod_requests(), q(Some(2100), Some(4352)));
    assert_eq!(d.pod_limits(), q(Some(2200), Some(4352)));
    assert!(m.notes.contains(&"Deployment d: container app: no cpu request: Kubernetes uses its limit as the request".to_string()));
    assert!(m.notes.contains(&"Deployment d: container agent: no memory request: Kubernetes uses its limit as the request".to_string()));
}

#[test]
fn recreate_strategy_and_strategy_errors() {
    let with = |s: &str| {
        deployment("web", ONE_CONTAINER)
            .replace("  template:", &format!("  strategy:\n{s}  template:"))
    };
    let d = parse(&with("    type: Recreate\n"), "s.yaml", None)
        .unwrap()
        .deployment
        .unwrap();
    assert!(d.recreate);
    assert_eq!(
        (d.max_surge, d.max_unavailable),
        (IntOrPercent::Int(0), IntOrPercent::Percent(100))
    );
    assert_eq!(d.rollout_bounds(4), (0, 4));
    let e = parse(
        &with("    rollingUpdate: {maxSurge: 0, maxUnavailable: 0%}\n"),
        "s.yaml",
        None,
    )
    .unwrap_err();
    assert!(e.contains("both 0"), "{e}");
    let e = parse(
        &with("    rollingUpdate: {maxSurge: \"5\"}\n"),
        "s.yaml",
        None,
    )
    .unwrap_err();
    assert!(
        e.contains("line 9") && e.contains("maxSurge: expected an integer or a percentage"),
        "{e}"
    );
    let e = parse(
        &with("    rollingUpdate: {maxUnavailable: 150%}\n"),
        "s.yaml",
        None,
    )
    .unwrap_err();
    assert!(e.contains("150% is above 100%"), "{e}");
    let e = parse(&with("    type: BlueGreen\n"), "s.yaml", None).unwrap_err();
    assert!(e.contains("expected RollingUpdate or Recreate"), "{e}");
}

#[test]
fn probe_defaults_and_several_probes() {
    let spec = "      containers:\n        - name: app\n          readinessProbe:\n            tcpSocket: {port: 80}\n            periodSeconds: 0\n        - name: proxy\n          readinessProbe: {httpGet: {path: /, port: 15021}, failureThreshold: 30}\n";
    let m = parse(&deployment("d", spec), "d.yaml", None).unwrap();
    assert_eq!(m.deployment.unwrap().readiness, Some(Probe::default()));
    assert!(
        m.notes
            .iter()
            .any(|n| n.contains("readinessProbe read from container app; also set on proxy"))
    );
    let spec = "      initContainers:\n        - name: init\n          readinessProbe: {exec: {command: [\"true\"]}}\n      containers:\n        - name: app\n";
    let e = parse(&deployment("d", spec), "d.yaml", None).unwrap_err();
    assert!(e.contains("regular init container"), "{e}");
}

#[test]
fn resources_typo_is_refused_and_duplicates_too() {
    let spec = "      containers:\n        - name: app\n          resources:\n            request: {cpu: 1}\n";
    let e = parse(&deployment("d", spec), "d.yaml", None).unwrap_err();
    assert!(e.contains("unknown field \"request\""), "{e}");
    let spec = "      containers:\n        - name: app\n        - name: app\n";
    let e = parse(&deployment("d", spec), "d.yaml", None).unwrap_err();
    assert!(
        e.contains("containers[1].name") && e.contains("must be unique"),
        "{e}"
    );
}

#[test]
fn hpa_errors() {
    let hpa = |body: &str| {
        format!(
            "{}---\napiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {{name: h}}\nspec:\n  scaleTargetRef: {{kind: Deployment, name: api}}\n{body}",
            deployment("api", ONE_CONTAINER)
        )
    };
    let e = parse(&hpa("  minReplicas: 2\n"), "h.yaml", None).unwrap_err();
    assert!(
        e.contains("document 2 (HorizontalPodAutoscaler h): spec.maxReplicas: missing"),
        "{e}"
    );
    let e = parse(&hpa("  minReplicas: 5\n  maxReplicas: 2\n"), "h.yaml", None).unwrap_err();
    assert!(e.contains("below minReplicas 5"), "{e}");
    let e = parse(
            &hpa("  maxReplicas: 3\n  metrics:\n    - type: Resource\n      resource: {name: cpu, target: {type: Utilization}}\n"),
            "h.yaml",
            None,
        )
        .unwrap_err();
    assert!(
        e.contains("averageUtilization: missing (required when type is Utilization)"),
        "{e}"
    );
    let e = parse(
            &hpa("  maxReplicas: 3\n  behavior:\n    scaleDown:\n      stabilizationWindowSeconds: 7200\n"),
            "h.yaml",
            None,
        )
        .unwrap_err();
    assert!(
        e.contains("line 22") && e.contains("7200 is above the maximum 3600"),
        "{e}"
    );
    let twice = format!(
        "{}---\napiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {{name: h2}}\nspec:\n  scaleTargetRef: {{kind: Deployment, name: api}}\n  maxReplicas: 3\n",
        hpa("  maxReplicas: 3\n")
    );
    let e = parse(&twice, "h.yaml", None).unwrap_err();
    assert!(e.contains("a second HPA"), "{e}");
    let old = hpa("  maxReplicas: 3\n").replace("autoscaling/v2", "autoscaling/v2beta1");
    assert!(
        parse(&old, "h.yaml", None)
            .unwrap_err()
            .contains("capsim reads autoscaling/v2")
    );
}

#[test]
fn old_deployment_api_is_refused() {
    let text = deployment("web", ONE_CONTAINER).replace("apps/v1", "extensions/v1beta1");
    let e = parse(&text, "old.yaml", None).unwrap_err();
    assert!(
        e.starts_with("old.yaml line 1: document 1 (Deployment web): apiVersion:"),
        "{e}"
    );
}

#[test]
fn deep_nesting_does_not_crash() {
    let deep = format!("{}1{}", "[".repeat(5000), "]".repeat(5000));
    assert!(
        parse(&deep, "deep.yaml", None)
            .unwrap_err()
            .starts_with("deep.yaml")
    );
    let mut nested = String::new();
    for i in 0..500 {
        nested.push_str(&" ".repeat(i));
        nested.push_str("a:\n");
    }
    let e = parse(&nested, "deep.yaml", None).unwrap_err();
    assert!(e.starts_with("deep.yaml line 33: invalid YAML"), "{e}");
    assert!(e.contains("at most 32 levels deep"), "{e}");
}

#[test]
fn memory_in_millibytes_is_flagged() {
    let spec =
        "      containers:\n        - name: app\n          resources: {requests: {memory: 400m}}\n";
    let m = parse(&deployment("d", spec), "d.yaml", None).unwrap();
    assert_eq!(
        m.deployment.unwrap().containers[0].requests.memory_mib,
        Some(1)
    );
    assert_eq!(
        m.notes,
        vec![
            "Deployment d: spec.template.spec.containers[0].resources.requests.memory: \"400m\" is 400 millibytes (rounded up to 1 MiB): did you mean \"400Mi\"?"
        ]
    );
}

#[test]
fn hpa_matching_needs_name_kind_and_namespace() {
    let dep = deployment("api", ONE_CONTAINER)
        .replace("  name: api\n", "  name: api\n  namespace: prod\n");
    let hpa = |ns: &str, kind: &str| {
        format!(
            "---\napiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {{name: h, namespace: {ns}}}\nspec:\n  scaleTargetRef: {{kind: {kind}, name: api}}\n  maxReplicas: 3\n"
        )
    };
    let m = parse(
        &format!("{dep}{}", hpa("prod", "Deployment")),
        "h.yaml",
        None,
    )
    .unwrap();
    assert_eq!(m.hpa.unwrap().max_replicas, 3);
    let m = parse(
        &format!("{dep}{}", hpa("staging", "Deployment")),
        "h.yaml",
        None,
    )
    .unwrap();
    assert_eq!(m.hpa, None);
    let m = parse(
        &format!("{dep}{}", hpa("prod", "StatefulSet")),
        "h.yaml",
        None,
    )
    .unwrap();
    assert_eq!(m.hpa, None);
    assert!(
        m.notes.contains(
            &"HorizontalPodAutoscaler h: targets StatefulSet api, not Deployment api: ignored"
                .to_string()
        )
    );
    // A Pods metric takes only AverageValue targets.
    let bad = format!(
        "{dep}{}  metrics:\n    - type: Pods\n      pods: {{metric: {{name: rps}}, target: {{type: Utilization, averageUtilization: 50}}}}\n",
        hpa("prod", "Deployment")
    );
    let e = parse(&bad, "h.yaml", None).unwrap_err();
    assert!(
        e.contains("spec.metrics[0].pods.target.type: expected AverageValue, got \"Utilization\""),
        "{e}"
    );
}

#[test]
fn no_panic_on_truncated_or_mangled_input() {
    // Every prefix of the fixture, and every line replaced by junk.
    let mut cut = WEB.len();
    while cut > 0 {
        if WEB.is_char_boundary(cut) {
            let _ = parse(&WEB[..cut], "cut.yaml", None);
        }
        cut = cut.saturating_sub(7);
    }
    let lines: Vec<&str> = WEB.lines().collect();
    for junk in [
        "  - : ]",
        "\t",
        "*x",
        "&a !!binary Zm9v",
        "cpu: 1e99999",
        "{{ .Values.x }}",
    ] {
        for i in 0..lines.len() {
            let mut l = lines.clone();
            l[i] = junk;
            let _ = parse(&l.join("\n"), "junk.yaml", None);
        }
    }
}
