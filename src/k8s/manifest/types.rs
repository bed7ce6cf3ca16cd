//! The typed objects a manifest is read into: Deployment, containers,
//! probes, topology spread, the HPA and its metrics, the manifest itself.

// ---------------------------------------------------------------------------
// Public types
// ---------------------------------------------------------------------------

/// CPU in millicores, memory in MiB (rounded up), either may be absent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Quantities {
    /// CPU in millicores (`"250m"` → 250, `"1"` → 1000).
    pub cpu_millicores: Option<u32>,
    /// Memory in MiB, rounded up (`"1G"` → 954).
    pub memory_mib: Option<u32>,
}

/// One container of the pod template (app container, regular init container
/// or native sidecar).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Container {
    /// `name`.
    pub name: String,
    /// `image`.
    pub image: Option<String>,
    /// `resources.requests` (cpu and memory) as written.
    pub requests: Quantities,
    /// `resources.limits` (cpu and memory) as written.
    pub limits: Quantities,
    /// An init container with `restartPolicy: Always` (a native sidecar,
    /// Kubernetes ≥ 1.29): it starts in init order and keeps running beside
    /// the app containers.
    pub sidecar: bool,
}

impl Container {
    /// The requests Kubernetes admits: a resource with a limit but no request
    /// gets its limit as the request (manage-resources-containers: "If you
    /// specify a limit for a resource, but do not specify any request …
    /// Kubernetes copies the limit you specified and uses it as the requested
    /// value"). LimitRange defaults of the namespace are not known here.
    pub fn effective_requests(&self) -> Quantities {
        Quantities {
            cpu_millicores: self.requests.cpu_millicores.or(self.limits.cpu_millicores),
            memory_mib: self.requests.memory_mib.or(self.limits.memory_mib),
        }
    }
}

/// A readiness probe's timing (the handler itself — httpGet, tcpSocket, exec,
/// grpc — is not modelled).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Probe {
    /// `initialDelaySeconds` (default 0).
    pub initial_delay_s: u32,
    /// `periodSeconds` (default 10).
    pub period_s: u32,
    /// `successThreshold` (default 1).
    pub success_threshold: u32,
    /// `failureThreshold` (default 3).
    pub failure_threshold: u32,
    /// `timeoutSeconds` (default 1).
    pub timeout_s: u32,
}

impl Default for Probe {
    /// The Kubernetes defaults (configure-probes): 0, 10, 1, 3, 1.
    fn default() -> Self {
        Probe {
            initial_delay_s: 0,
            period_s: 10,
            success_threshold: 1,
            failure_threshold: 3,
            timeout_s: 1,
        }
    }
}

/// A Kubernetes `IntOrString` that is either a count or a percentage
/// (`maxSurge: 1`, `maxUnavailable: "25%"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntOrPercent {
    /// An absolute number of pods.
    Int(u32),
    /// A percentage of the desired replicas.
    Percent(u32),
}

impl IntOrPercent {
    /// The number of pods for `total` desired replicas; percentages round up
    /// when `round_up` (maxSurge) and down otherwise (maxUnavailable), as the
    /// Deployment controller does.
    pub fn resolve(self, total: u32, round_up: bool) -> u32 {
        match self {
            IntOrPercent::Int(n) => n,
            IntOrPercent::Percent(p) => {
                let x = u64::from(total) * u64::from(p);
                let v = if round_up { x.div_ceil(100) } else { x / 100 };
                u32::try_from(v).unwrap_or(u32::MAX)
            }
        }
    }
}

/// `topologySpreadConstraints[].whenUnsatisfiable`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WhenUnsatisfiable {
    /// A hard constraint: the pod stays Pending rather than break the skew.
    DoNotSchedule,
    /// A soft constraint: the scheduler prefers nodes that reduce the skew.
    ScheduleAnyway,
}

/// One `topologySpreadConstraints` entry (labelSelector, minDomains,
/// nodeAffinityPolicy… are listed in the notes, not modelled: the constraint
/// is taken to count the Deployment's own pods).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopologySpread {
    /// `maxSkew` (≥ 1).
    pub max_skew: u32,
    /// `topologyKey`, e.g. `topology.kubernetes.io/zone`.
    pub topology_key: String,
    /// `whenUnsatisfiable`.
    pub when_unsatisfiable: WhenUnsatisfiable,
}

/// An `apps/v1` Deployment, the fields capsim's EKS model uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deployment {
    /// `metadata.name`.
    pub name: String,
    /// `metadata.namespace` (None: the namespace of the kubectl context).
    pub namespace: Option<String>,
    /// `spec.replicas` as written (Kubernetes defaults it to 1; with an HPA
    /// it is usually left out).
    pub replicas: Option<u32>,
    /// `spec.template.spec.containers`.
    pub containers: Vec<Container>,
    /// `spec.template.spec.initContainers` in order, regular ones and
    /// sidecars (`sidecar: true`) alike.
    pub init_containers: Vec<Container>,
    /// `spec.strategy.rollingUpdate.maxSurge` (default 25 %; 0 for Recreate).
    pub max_surge: IntOrPercent,
    /// `spec.strategy.rollingUpdate.maxUnavailable` (default 25 %; 100 % for Recreate).
    pub max_unavailable: IntOrPercent,
    /// `spec.strategy.type: Recreate` (every old pod stops before new ones start).
    pub recreate: bool,
    /// `spec.minReadySeconds` (default 0): how long a ready pod must stay
    /// ready before it counts as available.
    pub min_ready_s: u32,
    /// `spec.template.spec.terminationGracePeriodSeconds` (default 30).
    pub termination_grace_period_s: u32,
    /// Readiness probe of the first container that has one: app containers
    /// in order, then sidecars (the notes say so when several have one).
    pub readiness: Option<Probe>,
    /// `spec.template.spec.nodeSelector`, in file order.
    pub node_selector: Vec<(String, String)>,
    /// `spec.template.spec.topologySpreadConstraints`.
    pub topology_spread: Vec<TopologySpread>,
    /// The pod template carries the annotation `karpenter.sh/do-not-disrupt: "true"`.
    pub do_not_disrupt: bool,
}

impl Deployment {
    /// The pod's effective requests as Kubernetes computes them for
    /// scheduling: per resource, the larger of
    /// - the sum of the app containers and of all sidecars, and
    /// - for each init container in order, what runs while it starts: a
    ///   regular init container's request plus the sidecars started before
    ///   it; a sidecar's request plus the sidecars before it.
    ///
    /// Each container's request is its [`Container::effective_requests`]. A
    /// resource is None when no container sets it. Pod overhead
    /// (RuntimeClass) is not included. Sums saturate at `u32::MAX`.
    pub fn pod_requests(&self) -> Quantities {
        Quantities {
            cpu_millicores: pod_total(
                &self.containers,
                &self.init_containers,
                |c| c.effective_requests().cpu_millicores,
                false,
            ),
            memory_mib: pod_total(
                &self.containers,
                &self.init_containers,
                |c| c.effective_requests().memory_mib,
                false,
            ),
        }
    }

    /// The pod's effective limits, by the same rule on limits. A resource is
    /// None (unlimited) where any container — app, sidecar or regular init
    /// container — has no limit for it: the kubelet then sets no pod-level
    /// cgroup limit for that resource.
    pub fn pod_limits(&self) -> Quantities {
        Quantities {
            cpu_millicores: pod_total(
                &self.containers,
                &self.init_containers,
                |c| c.limits.cpu_millicores,
                true,
            ),
            memory_mib: pod_total(
                &self.containers,
                &self.init_containers,
                |c| c.limits.memory_mib,
                true,
            ),
        }
    }

    /// `(surge, unavailable)` in pods for a rolling update of `replicas`
    /// pods: maxSurge rounds up, maxUnavailable rounds down, and when both
    /// come to 0 one pod may be unavailable (the Deployment controller's
    /// "fenceposts").
    pub fn rollout_bounds(&self, replicas: u32) -> (u32, u32) {
        let surge = self.max_surge.resolve(replicas, true);
        let mut unavailable = self.max_unavailable.resolve(replicas, false);
        if surge == 0 && unavailable == 0 {
            unavailable = 1;
        }
        (surge, unavailable)
    }
}

/// Sum of what runs at once, per the init-container/sidecar rule.
/// `all_required`: None as soon as one container lacks the value (limits);
/// otherwise None only when no container has it (requests).
pub(super) fn pod_total(
    app: &[Container],
    init: &[Container],
    get: impl Fn(&Container) -> Option<u32>,
    all_required: bool,
) -> Option<u32> {
    let mut all = app.iter().chain(init);
    if all_required {
        if all.any(|c| get(c).is_none()) {
            return None;
        }
    } else if all.all(|c| get(c).is_none()) {
        return None;
    }
    let v = |c: &Container| u64::from(get(c).unwrap_or(0));
    let mut sidecars = 0u64;
    let mut init_max = 0u64;
    for c in init {
        if c.sidecar {
            sidecars += v(c);
            init_max = init_max.max(sidecars);
        } else {
            init_max = init_max.max(v(c) + sidecars);
        }
    }
    let running = app.iter().map(v).sum::<u64>() + sidecars;
    Some(u32::try_from(running.max(init_max)).unwrap_or(u32::MAX))
}

/// A HorizontalPodAutoscaler as written (`autoscaling/v2`; `autoscaling/v1`
/// with `targetCPUUtilizationPercentage` converted to a cpu Utilization
/// metric). Kubernetes' defaults are applied only by the `*_or_default`
/// methods and [`Hpa::scale_up_rules`] / [`Hpa::scale_down_rules`].
#[derive(Debug, Clone, PartialEq)]
pub struct Hpa {
    /// `metadata.name`.
    pub name: String,
    /// `apiVersion` (`autoscaling/v2`, `autoscaling/v2beta2` or `autoscaling/v1`).
    pub api_version: String,
    /// `spec.scaleTargetRef.name`.
    pub target: String,
    /// `spec.scaleTargetRef.kind` (always `Deployment` for the HPA picked by [`parse`]).
    pub target_kind: String,
    /// `spec.minReplicas` as written (Kubernetes' default: 1).
    pub min_replicas: Option<u32>,
    /// `spec.maxReplicas`.
    pub max_replicas: u32,
    /// `spec.metrics` as written (empty: Kubernetes uses 80 % average CPU
    /// utilization, see [`Hpa::metrics_or_default`]).
    pub metrics: Vec<HpaMetric>,
    /// `spec.behavior` as written.
    pub behavior: Option<HpaBehavior>,
}

/// One `spec.metrics` entry.
#[derive(Debug, Clone, PartialEq)]
pub enum HpaMetric {
    /// `type: Resource`: a resource of the pods (cpu, memory) against their requests.
    Resource {
        /// `resource.name` (`cpu` or `memory`).
        name: String,
        /// `resource.target`.
        target: HpaTarget,
    },
    /// `type: Pods`: a per-pod custom metric, averaged.
    Pods {
        /// `pods.metric.name`.
        name: String,
        /// `pods.target`.
        target: HpaTarget,
    },
    /// `Object`, `External` or `ContainerResource`: kept so the caller can
    /// refuse it with a clear message.
    Other {
        /// The metric `type`.
        kind: String,
    },
}

/// A metric target.
#[derive(Debug, Clone, PartialEq)]
pub struct HpaTarget {
    /// `type`: `Utilization`, `AverageValue` or `Value`.
    pub kind: String,
    /// `averageUtilization` (percent of the request).
    pub average_utilization: Option<u32>,
    /// `averageValue` as a number: millicores for cpu, MiB for memory (not
    /// rounded), the plain number for Pods metrics and other resources.
    pub average_value: Option<f64>,
    /// `value` as a number, in the same unit as `average_value`.
    pub value: Option<f64>,
}

/// `behavior.scaleUp` or `behavior.scaleDown` as written.
#[derive(Debug, Clone, PartialEq)]
pub struct HpaRules {
    /// `stabilizationWindowSeconds` (0..=3600).
    pub stabilization_window_s: Option<u32>,
    /// `selectPolicy`: `Max`, `Min` or `Disabled`.
    pub select_policy: Option<String>,
    /// `policies`.
    pub policies: Option<Vec<HpaPolicy>>,
    /// `tolerance` (a quantity such as `"0.05"`, Kubernetes ≥ 1.33 alpha),
    /// as a fraction.
    pub tolerance: Option<f64>,
}

impl HpaRules {
    /// Kubernetes' scale-up rules when none are written: no stabilization,
    /// the larger of +4 pods and +100 % every 15 s, 10 % tolerance (the
    /// controller's default). Source: the HPA page, "Default Behavior", and
    /// `pkg/apis/autoscaling/v2/defaults.go`.
    pub fn default_scale_up() -> HpaRules {
        HpaRules {
            stabilization_window_s: Some(0),
            select_policy: Some("Max".into()),
            policies: Some(vec![
                HpaPolicy {
                    kind: "Pods".into(),
                    value: 4,
                    period_s: 15,
                },
                HpaPolicy {
                    kind: "Percent".into(),
                    value: 100,
                    period_s: 15,
                },
            ]),
            tolerance: Some(0.1),
        }
    }

    /// Kubernetes' scale-down rules when none are written: a 300 s
    /// stabilization window (the controller's
    /// `--horizontal-pod-autoscaler-downscale-stabilization`), −100 % every
    /// 15 s, 10 % tolerance.
    pub fn default_scale_down() -> HpaRules {
        HpaRules {
            stabilization_window_s: Some(300),
            select_policy: Some("Max".into()),
            policies: Some(vec![HpaPolicy {
                kind: "Percent".into(),
                value: 100,
                period_s: 15,
            }]),
            tolerance: Some(0.1),
        }
    }

    /// These rules with every unset field taken from `defaults`, as the API
    /// server fills them.
    pub fn or_defaults(&self, defaults: HpaRules) -> HpaRules {
        HpaRules {
            stabilization_window_s: self
                .stabilization_window_s
                .or(defaults.stabilization_window_s),
            select_policy: self.select_policy.clone().or(defaults.select_policy),
            policies: self.policies.clone().or(defaults.policies),
            tolerance: self.tolerance.or(defaults.tolerance),
        }
    }
}

/// One scaling policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HpaPolicy {
    /// `type`: `Pods` or `Percent`.
    pub kind: String,
    /// `value` (≥ 1).
    pub value: u32,
    /// `periodSeconds` (1..=1800).
    pub period_s: u32,
}

/// `spec.behavior` as written.
#[derive(Debug, Clone, PartialEq)]
pub struct HpaBehavior {
    /// `scaleUp`.
    pub scale_up: Option<HpaRules>,
    /// `scaleDown`.
    pub scale_down: Option<HpaRules>,
}

impl Hpa {
    /// `minReplicas`, or Kubernetes' default 1.
    pub fn min_replicas_or_default(&self) -> u32 {
        self.min_replicas.unwrap_or(1)
    }

    /// `metrics`, or Kubernetes' default when none are written: 80 % average
    /// CPU utilization.
    pub fn metrics_or_default(&self) -> Vec<HpaMetric> {
        if self.metrics.is_empty() {
            vec![HpaMetric::Resource {
                name: "cpu".into(),
                target: HpaTarget {
                    kind: "Utilization".into(),
                    average_utilization: Some(80),
                    average_value: None,
                    value: None,
                },
            }]
        } else {
            self.metrics.clone()
        }
    }

    /// The scale-up rules in force: those written, completed by [`HpaRules::default_scale_up`].
    pub fn scale_up_rules(&self) -> HpaRules {
        match self.behavior.as_ref().and_then(|b| b.scale_up.as_ref()) {
            Some(r) => r.or_defaults(HpaRules::default_scale_up()),
            None => HpaRules::default_scale_up(),
        }
    }

    /// The scale-down rules in force: those written, completed by [`HpaRules::default_scale_down`].
    pub fn scale_down_rules(&self) -> HpaRules {
        match self.behavior.as_ref().and_then(|b| b.scale_down.as_ref()) {
            Some(r) => r.or_defaults(HpaRules::default_scale_down()),
            None => HpaRules::default_scale_down(),
        }
    }
}

/// One requirement of a NodePool, as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodePoolRequirement {
    /// `key`.
    pub key: String,
    /// `operator` (one of the six Kubernetes operators).
    pub operator: String,
    /// `values`, as strings.
    pub values: Vec<String>,
    /// Its line in the file.
    pub line: u64,
}

/// One disruption budget of a NodePool, as written.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NodePoolBudget {
    /// `nodes`: a count or a percentage.
    pub nodes: String,
    /// `schedule` (cron).
    pub schedule: Option<String>,
    /// `duration`.
    pub duration: Option<String>,
    /// `reasons`.
    pub reasons: Option<Vec<String>>,
}

/// A `karpenter.sh/v1` NodePool, the fields capsim models, checked as the
/// API server checks them (quantities and durations parsed, operators
/// and policies among their values); `platform::karpenter` compiles it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NodePool {
    /// `metadata.name`.
    pub name: String,
    /// The line its document starts on.
    pub line: u64,
    /// `spec.weight` (1–100).
    pub weight: Option<i32>,
    /// `spec.limits.cpu` (millicores).
    pub limits_millicores: Option<u32>,
    /// `spec.limits.memory` (MiB).
    pub limits_mib: Option<u32>,
    /// `spec.disruption.consolidationPolicy`.
    pub consolidation_policy: Option<String>,
    /// `spec.disruption.consolidateAfter` (a duration or `Never`).
    pub consolidate_after: Option<String>,
    /// `spec.disruption.budgets`.
    pub budgets: Vec<NodePoolBudget>,
    /// `spec.template.metadata.labels`.
    pub labels: Vec<(String, String)>,
    /// `spec.template.spec.requirements`.
    pub requirements: Vec<NodePoolRequirement>,
    /// `spec.template.spec.expireAfter`.
    pub expire_after: Option<String>,
    /// `spec.template.spec.terminationGracePeriod`.
    pub termination_grace_period: Option<String>,
}

/// What [`parse`] read from one file: a Deployment, its HPA, NodePools.
#[derive(Debug, Clone, PartialEq)]
pub struct Manifest {
    /// The Deployment picked (always Some when [`parse`] succeeds).
    pub deployment: Option<Deployment>,
    /// The HPA whose `scaleTargetRef` names that Deployment, if any.
    pub hpa: Option<Hpa>,
    /// Karpenter NodePools, in file order.
    pub node_pools: Vec<NodePool>,
    /// Fields and kinds read but not modelled, each listed once, in file order.
    pub notes: Vec<String>,
}
