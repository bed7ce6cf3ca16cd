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
fn pod_total(
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

/// What [`parse`] read from one file.
#[derive(Debug, Clone, PartialEq)]
pub struct Manifest {
    /// The Deployment picked (always Some when [`parse`] succeeds).
    pub deployment: Option<Deployment>,
    /// The HPA whose `scaleTargetRef` names that Deployment, if any.
    pub hpa: Option<Hpa>,
    /// Fields and kinds read but not modelled, each listed once, in file order.
    pub notes: Vec<String>,
}

// ---------------------------------------------------------------------------
// Quantities
// ---------------------------------------------------------------------------

/// An exact quantity: ± mantissa × 10^exp10 × 2^exp2.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Quantity {
    negative: bool,
    mantissa: u128,
    exp10: i64,
    exp2: i64,
}

/// Parses the Kubernetes quantity grammar (quantity reference page):
/// `<signedNumber><suffix>` with a number `1`, `1.5`, `1.` or `.5`, and a
/// suffix that is a binary SI one (`Ki Mi Gi Ti Pi Ei`), a decimal SI one
/// (`m`, none, `k M G T P E`) or a decimal exponent (`e3`, `E-2`). Case
/// matters (`1k` is valid, `1K` is not; `1m` is a thousandth). The value
/// is kept exactly.
fn parse_quantity(s: &str) -> Result<Quantity, String> {
    let bad = || {
        format!(
            "invalid quantity {} (expected a number with an optional suffix, such as 250m, 0.5, 2Gi, 512Mi, 1G or 1e3)",
            quote(s)
        )
    };
    let b = s.as_bytes();
    let mut i = 0;
    let negative = match b.first() {
        Some(b'-') => {
            i = 1;
            true
        }
        Some(b'+') => {
            i = 1;
            false
        }
        _ => false,
    };
    let mut digits: Vec<u8> = Vec::new();
    let mut frac_len: i64 = 0;
    let mut seen_dot = false;
    while let Some(&c) = b.get(i) {
        match c {
            b'0'..=b'9' => {
                digits.push(c - b'0');
                if seen_dot {
                    frac_len += 1;
                }
            }
            b'.' if !seen_dot => seen_dot = true,
            _ => break,
        }
        i += 1;
    }
    if digits.is_empty() {
        return Err(bad());
    }
    // Only ASCII bytes were consumed, so `i` is a char boundary.
    let suffix = s.get(i..).ok_or_else(bad)?;
    let (exp10, exp2): (i64, i64) = match suffix {
        "" => (0, 0),
        "m" => (-3, 0),
        "k" => (3, 0),
        "M" => (6, 0),
        "G" => (9, 0),
        "T" => (12, 0),
        "P" => (15, 0),
        "E" => (18, 0),
        "Ki" => (0, 10),
        "Mi" => (0, 20),
        "Gi" => (0, 30),
        "Ti" => (0, 40),
        "Pi" => (0, 50),
        "Ei" => (0, 60),
        _ => {
            let rest = suffix.strip_prefix(['e', 'E']).ok_or_else(bad)?;
            let (sign, num) = match rest.as_bytes().first() {
                Some(b'-') => (-1, &rest[1..]),
                Some(b'+') => (1, &rest[1..]),
                _ => (1, rest),
            };
            if num.is_empty() || !num.bytes().all(|c| c.is_ascii_digit()) {
                return Err(bad());
            }
            let num = num.trim_start_matches('0');
            if num.len() > 6 {
                return Err(format!("quantity {}: exponent out of range", quote(s)));
            }
            let e: i64 = if num.is_empty() {
                0
            } else {
                num.parse().map_err(|_| bad())?
            };
            (sign * e, 0)
        }
    };
    // Normalise the digits: no leading zeros, trailing zeros into the exponent.
    let first = digits.iter().position(|&d| d != 0);
    let Some(first) = first else {
        return Ok(Quantity {
            negative: false,
            mantissa: 0,
            exp10: 0,
            exp2: 0,
        });
    };
    let last = digits.iter().rposition(|&d| d != 0).unwrap_or(first);
    let trailing = (digits.len() - 1 - last) as i64;
    let significant = &digits[first..=last];
    if significant.len() > 38 {
        return Err(format!(
            "quantity {}: too many significant digits",
            quote(s)
        ));
    }
    let mantissa = significant
        .iter()
        .fold(0u128, |m, &d| m * 10 + u128::from(d));
    Ok(Quantity {
        negative,
        mantissa,
        exp10: exp10 - frac_len + trailing,
        exp2,
    })
}

fn pow10(e: i64) -> Option<u128> {
    u32::try_from(e).ok().and_then(|e| 10u128.checked_pow(e))
}

fn pow2(e: i64) -> Option<u128> {
    u32::try_from(e).ok().and_then(|e| 2u128.checked_pow(e))
}

impl Quantity {
    /// ⌈self × 10^extra10 × 2^extra2⌉ for a non-negative quantity, exactly;
    /// None when it does not fit in a u128.
    fn ceil_scaled(&self, extra10: i64, extra2: i64) -> Option<u128> {
        if self.mantissa == 0 {
            return Some(0);
        }
        let (e10, e2) = (self.exp10 + extra10, self.exp2 + extra2);
        let mut num = self.mantissa;
        let mut den: u128 = 1;
        let mut den_overflow = false;
        if e10 >= 0 {
            num = num.checked_mul(pow10(e10)?)?;
        } else {
            match pow10(-e10) {
                Some(p) => den = p,
                None => den_overflow = true,
            }
        }
        if e2 >= 0 {
            num = num.checked_mul(pow2(e2)?)?;
        } else {
            match pow2(-e2).and_then(|p| den.checked_mul(p)) {
                Some(d) => den = d,
                None => den_overflow = true,
            }
        }
        if den_overflow {
            // The denominator exceeds any u128 numerator: 0 < value < 1.
            return Some(1);
        }
        Some(num / den + u128::from(!num.is_multiple_of(den)))
    }

    /// self × 10^extra10 × 2^extra2 as an f64 (may be infinite).
    fn to_f64(self, extra10: i64, extra2: i64) -> f64 {
        let m = self.mantissa as f64;
        let e10 = (self.exp10 + extra10).clamp(-1000, 1000) as i32;
        let e2 = (self.exp2 + extra2).clamp(-2000, 2000) as i32;
        // Dividing by an exact power of ten is more accurate than multiplying
        // by an inexact negative one.
        let v = if e10 >= 0 {
            m * 10f64.powi(e10)
        } else {
            m / 10f64.powi(-e10)
        };
        let v = v * 2f64.powi(e2);
        if self.negative { -v } else { v }
    }

    fn to_u32(self, s: &str, extra10: i64, extra2: i64, unit: &str) -> Result<u32, String> {
        if self.negative && self.mantissa != 0 {
            return Err(format!("quantity {} must not be negative", quote(s)));
        }
        self.ceil_scaled(extra10, extra2)
            .and_then(|v| u32::try_from(v).ok())
            .ok_or_else(|| {
                format!(
                    "quantity {} is too large (over {} {unit})",
                    quote(s),
                    u32::MAX
                )
            })
    }
}

/// A CPU quantity in millicores, rounded up (`"250m"` → 250, `"0.5"` → 500,
/// `"1"` → 1000, `"0.1m"` → 1: Kubernetes keeps no precision finer than
/// 1m and rounds up). Negative and larger-than-u32 values are errors.
pub fn parse_quantity_millicores(s: &str) -> Result<u32, String> {
    parse_quantity(s)?.to_u32(s, 3, 0, "millicores")
}

/// A memory quantity in MiB, rounded up (`"512Mi"` → 512, `"1G"` → 954,
/// `"128974848"` → 123, `"129e6"` → 124). Note that `"400m"` is 0.4 bytes
/// (→ 1 MiB), a valid quantity but almost always a mistake for 400Mi.
pub fn parse_quantity_mib(s: &str) -> Result<u32, String> {
    parse_quantity(s)?.to_u32(s, 0, -20, "MiB")
}

/// Any quantity as a plain number (`"1k"` → 1000.0, `"250m"` → 0.25,
/// `"1Ki"` → 1024.0); may be negative. Errors when it does not fit an f64.
pub fn parse_quantity_f64(s: &str) -> Result<f64, String> {
    let v = parse_quantity(s)?.to_f64(0, 0);
    if v.is_finite() {
        Ok(v)
    } else {
        Err(format!("quantity {} is too large", quote(s)))
    }
}

/// Quotes a string for a message, shortened past 60 characters.
fn quote(s: &str) -> String {
    if s.chars().count() > 60 {
        let short: String = s.chars().take(57).collect();
        format!("{:?}", format!("{short}..."))
    } else {
        format!("{s:?}")
    }
}

// ---------------------------------------------------------------------------
// The located YAML tree
// ---------------------------------------------------------------------------

/// A YAML value whose children keep their source location.
#[derive(Debug, Clone)]
enum Node {
    Null,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(String),
    Seq(Vec<N>),
    Map(Vec<(String, N)>),
}

type N = Spanned<Node>;
type Map = [(String, N)];

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Node;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any YAML value")
            }
            fn visit_unit<E>(self) -> Result<Node, E> {
                Ok(Node::Null)
            }
            fn visit_none<E>(self) -> Result<Node, E> {
                Ok(Node::Null)
            }
            fn visit_some<D2: Deserializer<'de>>(self, d: D2) -> Result<Node, D2::Error> {
                Node::deserialize(d)
            }
            fn visit_newtype_struct<D2: Deserializer<'de>>(self, d: D2) -> Result<Node, D2::Error> {
                Node::deserialize(d)
            }
            fn visit_bool<E>(self, v: bool) -> Result<Node, E> {
                Ok(Node::Bool(v))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Node, E> {
                Ok(Node::Int(v.into()))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Node, E> {
                Ok(Node::Int(v.into()))
            }
            fn visit_i128<E>(self, v: i128) -> Result<Node, E> {
                Ok(Node::Int(v))
            }
            fn visit_u128<E>(self, v: u128) -> Result<Node, E> {
                Ok(match i128::try_from(v) {
                    Ok(i) => Node::Int(i),
                    Err(_) => Node::Float(v as f64),
                })
            }
            fn visit_f64<E>(self, v: f64) -> Result<Node, E> {
                Ok(Node::Float(v))
            }
            fn visit_char<E>(self, v: char) -> Result<Node, E> {
                Ok(Node::Str(v.to_string()))
            }
            fn visit_str<E>(self, v: &str) -> Result<Node, E> {
                Ok(Node::Str(v.to_string()))
            }
            fn visit_string<E>(self, v: String) -> Result<Node, E> {
                Ok(Node::Str(v))
            }
            fn visit_bytes<E>(self, v: &[u8]) -> Result<Node, E> {
                Ok(Node::Str(String::from_utf8_lossy(v).into_owned()))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<Node, A::Error> {
                let mut items = Vec::new();
                while let Some(x) = a.next_element::<N>()? {
                    items.push(x);
                }
                Ok(Node::Seq(items))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Node, A::Error> {
                let mut entries = Vec::new();
                while let Some(k) = a.next_key::<String>()? {
                    let v = a.next_value::<N>()?;
                    entries.push((k, v));
                }
                Ok(Node::Map(entries))
            }
        }
        d.deserialize_any(V)
    }
}

/// How a value looks, for messages.
fn describe(n: &Node) -> String {
    match n {
        Node::Null => "null".into(),
        Node::Bool(b) => format!("the boolean {b}"),
        Node::Int(i) => format!("the number {i}"),
        Node::Float(f) => format!("the number {f}"),
        Node::Str(s) => format!("the string {}", quote(s)),
        Node::Seq(_) => "a list".into(),
        Node::Map(_) => "a mapping".into(),
    }
}

/// A present, non-null field of a mapping (Kubernetes treats `key: null`
/// and `key:` as unset).
fn get<'n>(m: &'n Map, key: &str) -> Option<&'n N> {
    m.iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v)
        .filter(|v| !matches!(v.value, Node::Null))
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// Errors and typed reads within one object of the file.
struct Doc<'a> {
    origin: &'a str,
    /// e.g. `document 2 (Deployment web)`.
    label: String,
}

impl Doc<'_> {
    fn err(&self, at: &N, path: &str, msg: impl fmt::Display) -> String {
        let line = at.referenced.line();
        let path = if path.is_empty() {
            String::new()
        } else {
            format!("{path}: ")
        };
        if line > 0 {
            format!("{} line {line}: {}: {path}{msg}", self.origin, self.label)
        } else {
            format!("{}: {}: {path}{msg}", self.origin, self.label)
        }
    }

    fn map<'n>(&self, n: &'n N, path: &str) -> Result<&'n Map, String> {
        match &n.value {
            Node::Map(m) => Ok(m),
            other => Err(self.err(
                n,
                path,
                format!("expected a mapping, got {}", describe(other)),
            )),
        }
    }

    fn seq<'n>(&self, n: &'n N, path: &str) -> Result<&'n [N], String> {
        match &n.value {
            Node::Seq(s) => Ok(s),
            other => Err(self.err(n, path, format!("expected a list, got {}", describe(other)))),
        }
    }

    fn str<'n>(&self, n: &'n N, path: &str) -> Result<&'n str, String> {
        match &n.value {
            Node::Str(s) => Ok(s),
            other => Err(self.err(
                n,
                path,
                format!("expected a string, got {} (quote it)", describe(other)),
            )),
        }
    }

    /// A required field of `m` (whose node is `parent`).
    fn req<'n>(&self, m: &'n Map, parent: &N, path: &str, key: &str) -> Result<&'n N, String> {
        get(m, key).ok_or_else(|| self.err(parent, &join(path, key), "missing (required)"))
    }

    fn opt_str<'n>(&self, m: &'n Map, path: &str, key: &str) -> Result<Option<&'n str>, String> {
        get(m, key)
            .map(|v| self.str(v, &join(path, key)))
            .transpose()
    }

    /// An integer within `min..=max` (Kubernetes int32 fields: max i32::MAX).
    fn int(&self, n: &N, path: &str, min: i64, max: i64) -> Result<i64, String> {
        match &n.value {
            Node::Int(i) => {
                if *i < i128::from(min) {
                    Err(self.err(n, path, format!("{i} is below the minimum {min}")))
                } else if *i > i128::from(max) {
                    Err(self.err(n, path, format!("{i} is above the maximum {max}")))
                } else {
                    Ok(*i as i64)
                }
            }
            other => Err(self.err(
                n,
                path,
                format!("expected an integer, got {}", describe(other)),
            )),
        }
    }

    fn u32_in(&self, n: &N, path: &str, min: u32, max: u32) -> Result<u32, String> {
        // The range makes the conversion lossless.
        self.int(n, path, i64::from(min), i64::from(max))
            .map(|v| u32::try_from(v).unwrap_or(max))
    }

    fn opt_u32(
        &self,
        m: &Map,
        path: &str,
        key: &str,
        min: u32,
        max: u32,
    ) -> Result<Option<u32>, String> {
        get(m, key)
            .map(|v| self.u32_in(v, &join(path, key), min, max))
            .transpose()
    }

    /// A quantity written as a string or a plain YAML number.
    fn quantity_text(&self, n: &N, path: &str) -> Result<String, String> {
        match &n.value {
            Node::Str(s) => Ok(s.clone()),
            Node::Int(i) => Ok(i.to_string()),
            // Rust prints the shortest decimal that reads back the same f64,
            // never in exponent form: 0.5 → "0.5", 1e3 → "1000".
            Node::Float(f) if f.is_finite() => Ok(format!("{f}")),
            other => Err(self.err(
                n,
                path,
                format!(
                    "expected a quantity such as \"500m\" or \"1Gi\", got {}",
                    describe(other)
                ),
            )),
        }
    }

    fn millicores(&self, n: &N, path: &str) -> Result<u32, String> {
        let s = self.quantity_text(n, path)?;
        parse_quantity_millicores(&s).map_err(|e| self.err(n, path, e))
    }

    fn mib(&self, n: &N, path: &str) -> Result<u32, String> {
        let s = self.quantity_text(n, path)?;
        parse_quantity_mib(&s).map_err(|e| self.err(n, path, e))
    }

    /// A non-negative quantity as a number scaled by 10^extra10 × 2^extra2.
    fn quantity_f64(&self, n: &N, path: &str, extra10: i64, extra2: i64) -> Result<f64, String> {
        let s = self.quantity_text(n, path)?;
        let q = parse_quantity(&s).map_err(|e| self.err(n, path, e))?;
        if q.negative && q.mantissa != 0 {
            return Err(self.err(
                n,
                path,
                format!("quantity {} must not be negative", quote(&s)),
            ));
        }
        let v = q.to_f64(extra10, extra2);
        if v.is_finite() {
            Ok(v)
        } else {
            Err(self.err(n, path, format!("quantity {} is too large", quote(&s))))
        }
    }
}

const INT32_MAX: u32 = i32::MAX as u32;

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

    // The HPA that targets it; everything else is listed.
    let mut hpa: Option<(Hpa, String)> = None;
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
        notes: notes.0,
    })
}

// ---------------------------------------------------------------------------
// Deployment
// ---------------------------------------------------------------------------

fn read_deployment(doc: &Doc, obj: &Obj, notes: &mut Notes) -> Result<Deployment, String> {
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

fn int_or_percent(doc: &Doc, n: &N, path: &str) -> Result<IntOrPercent, String> {
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

fn is_zero(v: IntOrPercent) -> bool {
    matches!(v, IntOrPercent::Int(0) | IntOrPercent::Percent(0))
}

/// `(maxSurge, maxUnavailable, recreate)`.
fn read_strategy(
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
fn read_template_metadata(doc: &Doc, md: &N, who: &str, notes: &mut Notes) -> Result<bool, String> {
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

struct PodSpec {
    containers: Vec<Container>,
    init_containers: Vec<Container>,
    grace: u32,
    readiness: Option<Probe>,
    node_selector: Vec<(String, String)>,
    topology_spread: Vec<TopologySpread>,
}

fn read_pod_spec(doc: &Doc, node: &N, who: &str, notes: &mut Notes) -> Result<PodSpec, String> {
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

fn read_spread(
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
fn read_container(
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
fn read_resources(
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

fn read_probe(
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

// ---------------------------------------------------------------------------
// HorizontalPodAutoscaler
// ---------------------------------------------------------------------------

/// `(scaleTargetRef.kind, scaleTargetRef.name)`.
fn hpa_target(doc: &Doc, obj: &Obj) -> Result<(String, String), String> {
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
enum Unit {
    Millicores,
    Mib,
    Plain,
}

fn read_hpa(doc: &Doc, obj: &Obj, notes: &mut Notes) -> Result<Hpa, String> {
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

fn read_metric(
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
fn read_target(
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

fn read_rules(
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

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

#[cfg(test)]
mod tests {
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
        assert!(m.notes.iter().any(|n| n.starts_with("HorizontalPodAutoscaler worker: targets Deployment worker")));
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
        let text =
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n labels: {a: b}\n";
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
                && e.contains(
                    "nodeSelector.spot: expected a string, got the boolean true (quote it)"
                ),
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
            e.contains("line 13")
                && e.contains("requests.cpu: quantity \"100000000\" is too large"),
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
        let spec = "      containers:\n        - name: app\n          resources: {requests: {memory: 400m}}\n";
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
            e.contains(
                "spec.metrics[0].pods.target.type: expected AverageValue, got \"Utilization\""
            ),
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
}
