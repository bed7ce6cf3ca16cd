//! The scenario's `[hpa]` section — a HorizontalPodAutoscaler
//! (`autoscaling/v2`) written in TOML — and its compiled form, the
//! controller settings [`crate::k8s::hpa_controller`] runs with. A manifest's
//! HPA (`crate::k8s::manifest::Hpa`) compiles to the same form.
//!
//! Defaults (kubernetes/kubernetes `pkg/apis/autoscaling/v2/defaults.go`,
//! kube-controller-manager flags; aws.md §5.1, §9.5): `min_replicas` 1,
//! tolerance 0.1, sync every 15 s, CPU initialization period 5 min, initial
//! readiness delay 30 s, downscale stabilization 300 s. An HPA without
//! `[hpa.behavior]` takes the controller's behaviour-less path (scale-up at
//! most max(2 × current, 4) per sync); with one, unset fields take the v2
//! defaults (scale-up: +100 % or +4 pods per 15 s, the larger; scale-down:
//! −100 % per 15 s after a 300 s stabilization window).
//!
//! metrics-server: the shipped manifests scrape every 15 s
//! (`--metric-resolution`; its FAQ says 60 s — aws.md §7.5 notes the
//! disagreement): `metric_resolution` defaults to 15 s. How long a sample
//! takes to reach the HPA after its window ends is not published:
//! `metric_delay` defaults to 15 s — an **assumption** (cAdvisor's
//! housekeeping plus the scrape's own staleness).

use super::hpa::{self, Behavior, PolicyKind, ResourceName, Rules, SelectPolicy};
use super::manifest;
use crate::error::ScenarioError;
use crate::time::{Duration, SECOND, SimTime};
use serde::{Deserialize, Serialize};

fn default_min() -> u32 {
    1
}
fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}
fn default_sync() -> Duration {
    secs(15)
}
fn default_tolerance() -> f64 {
    0.1
}
fn default_init() -> Duration {
    secs(300)
}
fn default_readiness_delay() -> Duration {
    secs(30)
}
fn default_stabilization() -> Duration {
    secs(300)
}
fn default_resolution() -> Duration {
    secs(15)
}
fn default_delay() -> Duration {
    secs(15)
}

/// `type` of a metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum MetricType {
    /// A resource of the pods (cpu, memory) against their requests.
    Resource,
    /// A per-pod metric, averaged over the pods.
    Pods,
}

/// The per-pod metrics capsim can produce for `type = "Pods"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PodsMetric {
    /// Requests arriving per second per pod (e.g. from a Prometheus adapter
    /// over the ingress or the application's own counter).
    RequestsPerSecond,
}

/// One `spec.metrics` entry, flattened: `{ type = "Resource", resource =
/// "cpu", average_utilization = 60 }`, `{ type = "Resource", resource =
/// "memory", average_value = 800 }` (MiB; CPU in millicores), `{ type =
/// "Pods", metric = "requests_per_second", average_value = 50 }`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricSpec {
    /// `Resource` or `Pods`.
    #[serde(rename = "type")]
    pub kind: MetricType,
    /// `cpu` or `memory` (Resource metrics).
    #[serde(default)]
    pub resource: Option<ResourceName>,
    /// The metric's name (Pods metrics).
    #[serde(default)]
    pub metric: Option<PodsMetric>,
    /// Target average utilization, percent of the request.
    #[serde(default)]
    pub average_utilization: Option<f64>,
    /// Target average value per pod (millicores, MiB, or the metric's unit).
    #[serde(default)]
    pub average_value: Option<f64>,
}

/// One scaling policy: `{ type = "Percent", value = 100, period = "15s" }`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicySpec {
    /// `Pods` or `Percent`.
    #[serde(rename = "type")]
    pub kind: PolicyKind,
    /// Pods, or percent of the current replicas (≥ 1).
    pub value: u32,
    /// The window the change is counted over (1 s – 1800 s).
    pub period: Duration,
}

/// `behavior.scaleUp` / `behavior.scaleDown`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RulesSpec {
    /// `stabilizationWindowSeconds` (0 – 3600 s).
    #[serde(default)]
    pub stabilization_window: Option<Duration>,
    /// `Max`, `Min` or `Disabled`.
    #[serde(default)]
    pub select_policy: Option<SelectPolicy>,
    /// Policies (replace the defaults when given).
    #[serde(default)]
    pub policies: Option<Vec<PolicySpec>>,
    /// Tolerance of this direction (overrides `hpa.tolerance`).
    #[serde(default)]
    pub tolerance: Option<f64>,
}

/// `spec.behavior`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BehaviorSpec {
    /// Scale-up rules.
    #[serde(default)]
    pub scale_up: Option<RulesSpec>,
    /// Scale-down rules.
    #[serde(default)]
    pub scale_down: Option<RulesSpec>,
}

/// The `[hpa]` section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HpaSpec {
    /// `minReplicas`. Default 1.
    #[serde(default = "default_min")]
    pub min_replicas: u32,
    /// `maxReplicas`.
    pub max_replicas: u32,
    /// Shortcut for the first metric: a CPU Utilization target in percent of
    /// the request (autoscaling/v1's `targetCPUUtilizationPercentage`), so
    /// that sweeps can address it as `hpa.target_cpu_utilization`.
    #[serde(default)]
    pub target_cpu_utilization: Option<f64>,
    /// More metrics (the largest recommendation wins). With neither this nor
    /// `target_cpu_utilization`, 80 % CPU (the v2 default).
    #[serde(default)]
    pub metrics: Vec<MetricSpec>,
    /// `spec.behavior`; absent: the behaviour-less path.
    #[serde(default)]
    pub behavior: Option<BehaviorSpec>,
    /// `--horizontal-pod-autoscaler-sync-period`. Default 15 s.
    #[serde(default = "default_sync")]
    pub sync_period: Duration,
    /// `--horizontal-pod-autoscaler-tolerance`. Default 0.1.
    #[serde(default = "default_tolerance")]
    pub tolerance: f64,
    /// `--horizontal-pod-autoscaler-cpu-initialization-period`. Default 5 min.
    #[serde(default = "default_init")]
    pub cpu_initialization_period: Duration,
    /// `--horizontal-pod-autoscaler-initial-readiness-delay`. Default 30 s.
    #[serde(default = "default_readiness_delay")]
    pub initial_readiness_delay: Duration,
    /// `--horizontal-pod-autoscaler-downscale-stabilization`. Default 5 min.
    #[serde(default = "default_stabilization")]
    pub downscale_stabilization: Duration,
    /// metrics-server `--metric-resolution`: samples every this long, each
    /// over this window. Default 15 s.
    #[serde(default = "default_resolution")]
    pub metric_resolution: Duration,
    /// A sample reaches the HPA this long after its window ends. Default
    /// 15 s — an assumption.
    #[serde(default = "default_delay")]
    pub metric_delay: Duration,
}

/// What one metric targets, compiled.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Target {
    /// Resource Utilization (percent of request).
    Utilization(ResourceName, f64),
    /// Resource AverageValue (millicores or MiB per pod).
    AverageValue(ResourceName, f64),
    /// A Pods metric's AverageValue.
    Pods(PodsMetric, f64),
}

impl Target {
    /// How the decision log names it.
    pub fn describe(&self) -> String {
        match self {
            Target::Utilization(r, v) => format!("{r} utilization vs {v} % of request"),
            Target::AverageValue(ResourceName::Cpu, v) => format!("cpu vs {v}m per pod"),
            Target::AverageValue(ResourceName::Memory, v) => format!("memory vs {v} MiB per pod"),
            Target::Pods(_, v) => format!("requests_per_second vs {v} per pod"),
        }
    }
}

/// The HPA and its controller, compiled.
#[derive(Debug, Clone, PartialEq)]
pub struct HpaConfig {
    /// min/max, behaviour, downscale stabilization.
    pub scaling: hpa::ScalingSpec,
    /// Metrics, in order.
    pub targets: Vec<Target>,
    /// Replica calculator settings (tolerances from the behaviour applied).
    pub calc: hpa::CalcConfig,
    /// Sync period.
    pub sync_period: SimTime,
    /// metrics-server resolution.
    pub resolution: SimTime,
    /// Sample delay.
    pub delay: SimTime,
}

fn bad(key: &str, m: impl Into<String>) -> ScenarioError {
    ScenarioError::invalid(format!("hpa.{key}"), m)
}

fn rules(spec: Option<&RulesSpec>, default: Rules, key: &str) -> Result<Rules, ScenarioError> {
    let Some(s) = spec else {
        return Ok(default);
    };
    let stabilization_window = match s.stabilization_window {
        Some(d) if d.0 > 3_600 * SECOND => {
            return Err(bad(
                &format!("behavior.{key}.stabilization_window"),
                format!("expected 0 to 3600 s, got {d}"),
            ));
        }
        Some(d) => d.0,
        None => default.stabilization_window,
    };
    let policies = match &s.policies {
        Some(p) => {
            if p.is_empty() {
                return Err(bad(
                    &format!("behavior.{key}.policies"),
                    "needs at least one policy (or leave it out for the defaults)",
                ));
            }
            p.iter()
                .map(|p| {
                    if p.value == 0 {
                        return Err(bad(
                            &format!("behavior.{key}.policies.value"),
                            "must be at least 1",
                        ));
                    }
                    if p.period.0 < SECOND || p.period.0 > 1_800 * SECOND {
                        return Err(bad(
                            &format!("behavior.{key}.policies.period"),
                            format!("expected 1 s to 1800 s, got {}", p.period),
                        ));
                    }
                    Ok(hpa::Policy {
                        kind: p.kind,
                        value: p.value,
                        period: p.period.0,
                    })
                })
                .collect::<Result<Vec<_>, _>>()?
        }
        None => default.policies,
    };
    if let Some(t) = s.tolerance
        && !(t.is_finite() && (0.0..1.0).contains(&t))
    {
        return Err(bad(
            &format!("behavior.{key}.tolerance"),
            format!("expected a fraction in [0, 1), got {t}"),
        ));
    }
    Ok(Rules {
        stabilization_window,
        select_policy: s.select_policy.unwrap_or(default.select_policy),
        policies,
        tolerance: s.tolerance.or(default.tolerance),
    })
}

impl HpaSpec {
    /// Checks the section and compiles it.
    pub fn compile(&self) -> Result<HpaConfig, ScenarioError> {
        let most = crate::scaling::MAX_TASKS;
        if self.max_replicas == 0
            || self.min_replicas > self.max_replicas
            || self.max_replicas > most
        {
            return Err(bad(
                "max_replicas",
                format!(
                    "expected 1 ≤ min_replicas ({}) ≤ max_replicas ({}) ≤ {most} (capsim's bound, the ECS quota of tasks per service)",
                    self.min_replicas, self.max_replicas
                ),
            ));
        }
        if self.min_replicas == 0 {
            return Err(bad(
                "min_replicas",
                "must be at least 1 (scale to zero needs the HPAScaleToZero gate and an Object or External metric, not modelled)",
            ));
        }
        if !(self.tolerance.is_finite() && (0.0..1.0).contains(&self.tolerance)) {
            return Err(bad(
                "tolerance",
                format!("expected a fraction in [0, 1), got {}", self.tolerance),
            ));
        }
        for (k, d) in [
            ("sync_period", self.sync_period),
            ("metric_resolution", self.metric_resolution),
        ] {
            if d.0 < SECOND || d.0 > 3_600 * SECOND {
                return Err(bad(k, format!("expected 1 s to 1 h, got {d}")));
            }
        }
        if self.metric_delay.0 > 3_600 * SECOND {
            return Err(bad(
                "metric_delay",
                format!("expected at most 1 h, got {}", self.metric_delay),
            ));
        }
        let mut targets = Vec::new();
        if let Some(t) = self.target_cpu_utilization {
            targets.push(utilization(t, "target_cpu_utilization", ResourceName::Cpu)?);
        }
        for m in &self.metrics {
            targets.push(match (m.kind, m.resource, m.metric) {
                (MetricType::Resource, Some(r), None) => {
                    match (m.average_utilization, m.average_value) {
                        (Some(u), None) => utilization(u, "metrics.average_utilization", r)?,
                        (None, Some(v)) if v.is_finite() && v > 0.0 => Target::AverageValue(r, v),
                        _ => {
                            return Err(bad(
                                "metrics",
                                "a Resource metric needs exactly one of average_utilization (percent) or average_value (> 0)",
                            ));
                        }
                    }
                }
                (MetricType::Pods, None, Some(p)) => match (m.average_utilization, m.average_value) {
                    (None, Some(v)) if v.is_finite() && v > 0.0 => Target::Pods(p, v),
                    _ => {
                        return Err(bad(
                            "metrics",
                            "a Pods metric needs average_value (> 0) and no average_utilization",
                        ));
                    }
                },
                _ => {
                    return Err(bad(
                        "metrics",
                        "a Resource metric names `resource` (cpu or memory), a Pods metric names `metric` (requests_per_second)",
                    ));
                }
            });
        }
        if targets.is_empty() {
            // The v2 default: 80 % average CPU utilization.
            targets.push(Target::Utilization(ResourceName::Cpu, 80.0));
        }
        let down = self.downscale_stabilization.0;
        let behavior = match &self.behavior {
            None => None,
            Some(b) => {
                let d = Behavior::kubernetes_default(down);
                Some(Behavior {
                    scale_up: rules(b.scale_up.as_ref(), d.scale_up, "scale_up")?,
                    scale_down: rules(b.scale_down.as_ref(), d.scale_down, "scale_down")?,
                })
            }
        };
        let base = hpa::CalcConfig {
            tolerance_up: self.tolerance,
            tolerance_down: self.tolerance,
            cpu_initialization_period: self.cpu_initialization_period.0,
            initial_readiness_delay: self.initial_readiness_delay.0,
        };
        let calc = match &behavior {
            Some(b) => base.with_behavior(b),
            None => base,
        };
        Ok(HpaConfig {
            scaling: hpa::ScalingSpec {
                min_replicas: self.min_replicas,
                max_replicas: self.max_replicas,
                behavior,
                downscale_stabilization: down,
            },
            targets,
            calc,
            sync_period: self.sync_period.0,
            resolution: self.metric_resolution.0,
            delay: self.metric_delay.0,
        })
    }

    /// The `[hpa]` a manifest's HorizontalPodAutoscaler amounts to, or why
    /// it cannot be simulated.
    pub fn from_manifest(h: &manifest::Hpa) -> Result<HpaSpec, String> {
        let mut metrics = Vec::new();
        for m in h.metrics_or_default() {
            metrics.push(match m {
                manifest::HpaMetric::Resource { name, target } => {
                    let resource = match name.as_str() {
                        "cpu" => ResourceName::Cpu,
                        "memory" => ResourceName::Memory,
                        other => {
                            return Err(format!(
                                "HPA {}: resource metric `{other}` is not modelled (cpu and memory are)",
                                h.name
                            ));
                        }
                    };
                    MetricSpec {
                        kind: MetricType::Resource,
                        resource: Some(resource),
                        metric: None,
                        average_utilization: target.average_utilization.map(f64::from),
                        average_value: if target.average_utilization.is_some() {
                            None
                        } else {
                            target.average_value
                        },
                    }
                }
                manifest::HpaMetric::Pods { name, target } => MetricSpec {
                    kind: MetricType::Pods,
                    resource: None,
                    metric: Some(match name.as_str() {
                        "requests_per_second" | "http_requests_per_second" | "requests-per-second" => {
                            PodsMetric::RequestsPerSecond
                        }
                        other => {
                            return Err(format!(
                                "HPA {}: Pods metric `{other}` is not modelled; capsim produces requests per second per pod (name it requests_per_second or http_requests_per_second)",
                                h.name
                            ));
                        }
                    }),
                    average_utilization: None,
                    average_value: target.average_value,
                },
                manifest::HpaMetric::Other { kind } => {
                    return Err(format!(
                        "HPA {}: {kind} metrics are not modelled (Resource cpu/memory and Pods requests_per_second are)",
                        h.name
                    ));
                }
            });
        }
        let rules = |r: &Option<manifest::HpaRules>| -> Result<Option<RulesSpec>, String> {
            let Some(r) = r else { return Ok(None) };
            Ok(Some(RulesSpec {
                stabilization_window: r.stabilization_window_s.map(|s| secs(s as u64)),
                select_policy: match r.select_policy.as_deref() {
                    None => None,
                    Some("Max") => Some(SelectPolicy::Max),
                    Some("Min") => Some(SelectPolicy::Min),
                    Some("Disabled") => Some(SelectPolicy::Disabled),
                    Some(o) => return Err(format!("HPA {}: unknown selectPolicy `{o}`", h.name)),
                },
                policies: match &r.policies {
                    None => None,
                    Some(ps) => Some(
                        ps.iter()
                            .map(|p| {
                                Ok(PolicySpec {
                                    kind: match p.kind.as_str() {
                                        "Pods" => PolicyKind::Pods,
                                        "Percent" => PolicyKind::Percent,
                                        o => {
                                            return Err(format!(
                                                "HPA {}: unknown policy type `{o}`",
                                                h.name
                                            ));
                                        }
                                    },
                                    value: p.value,
                                    period: secs(p.period_s as u64),
                                })
                            })
                            .collect::<Result<Vec<_>, String>>()?,
                    ),
                },
                tolerance: r.tolerance,
            }))
        };
        let behavior = match &h.behavior {
            None => None,
            Some(b) => Some(BehaviorSpec {
                scale_up: rules(&b.scale_up)?,
                scale_down: rules(&b.scale_down)?,
            }),
        };
        Ok(HpaSpec {
            min_replicas: h.min_replicas_or_default(),
            max_replicas: h.max_replicas,
            target_cpu_utilization: None,
            metrics,
            behavior,
            sync_period: default_sync(),
            tolerance: default_tolerance(),
            cpu_initialization_period: default_init(),
            initial_readiness_delay: default_readiness_delay(),
            downscale_stabilization: default_stabilization(),
            metric_resolution: default_resolution(),
            metric_delay: default_delay(),
        })
    }
}

fn utilization(v: f64, key: &str, r: ResourceName) -> Result<Target, ScenarioError> {
    if !(v.is_finite() && v > 0.0 && v <= 1_000.0) {
        return Err(bad(
            key,
            format!("expected a percent of the request in (0, 1000], got {v}"),
        ));
    }
    Ok(Target::Utilization(r, v))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(text: &str) -> HpaSpec {
        toml::from_str(text).unwrap()
    }

    #[test]
    fn defaults_and_shortcut() {
        let c = spec("max_replicas = 10\ntarget_cpu_utilization = 60")
            .compile()
            .unwrap();
        assert_eq!(
            c.targets,
            vec![Target::Utilization(ResourceName::Cpu, 60.0)]
        );
        assert_eq!(c.scaling.min_replicas, 1);
        assert!(c.scaling.behavior.is_none());
        assert_eq!(
            (c.sync_period, c.resolution, c.delay),
            (15 * SECOND, 15 * SECOND, 15 * SECOND)
        );
        let c = spec("max_replicas = 10").compile().unwrap();
        assert_eq!(
            c.targets,
            vec![Target::Utilization(ResourceName::Cpu, 80.0)]
        );
    }

    #[test]
    fn behaviour_fills_gaps_with_v2_defaults() {
        let c = spec("max_replicas = 10\n[behavior.scale_down]\nstabilization_window = \"60s\"\n")
            .compile()
            .unwrap();
        let b = c.scaling.behavior.unwrap();
        assert_eq!(b.scale_down.stabilization_window, 60 * SECOND);
        assert_eq!(
            b.scale_up,
            Behavior::kubernetes_default(300 * SECOND).scale_up
        );
    }

    #[test]
    fn bad_values_name_their_key() {
        for (text, key) in [
            ("max_replicas = 0", "hpa.max_replicas"),
            ("min_replicas = 0\nmax_replicas = 3", "hpa.min_replicas"),
            (
                "max_replicas = 3\ntarget_cpu_utilization = -5",
                "hpa.target_cpu_utilization",
            ),
            ("max_replicas = 3\ntolerance = 2.0", "hpa.tolerance"),
            (
                "max_replicas = 3\nmetrics = [{ type = \"Resource\", resource = \"cpu\" }]",
                "hpa.metrics",
            ),
            (
                "max_replicas = 3\n[behavior.scale_up]\npolicies = [{ type = \"Pods\", value = 0, period = \"15s\" }]",
                "hpa.behavior.scale_up.policies.value",
            ),
        ] {
            let e = spec(text).compile().unwrap_err().to_string();
            assert!(e.contains(key), "{text}: {e}");
        }
    }
}
