//! `[platform] kind = "eks"`, `compute = "karpenter"`: the NodePools as a
//! scenario writes them (`[[platform.node_pools]]`, the `karpenter.sh/v1`
//! NodePool's fields in snake case) and `[platform.karpenter]` (the
//! controller's settings), compiled into the cluster's groups — one per
//! NodePool, its instance types those of the catalog its requirements
//! allow for the pod's architecture — and Karpenter's configuration.
//!
//! Defaults are the NodePool CRD's (karpenter.sh/v1, kubernetes-sigs/karpenter
//! v1.14 `pkg/apis/v1/nodepool.go`; aws.md §5.3): `consolidationPolicy`
//! `WhenEmptyOrUnderutilized`, `consolidateAfter` 0 s, one budget of
//! 10 % of nodes, `expireAfter` 720 h, no `terminationGracePeriod`, no
//! limits, no weight. The default NodePool, when a scenario names none,
//! is the one Karpenter's getting-started guide installs: on-demand, c/m/r
//! families of generation above 2, `limits.cpu` 1000,
//! `consolidateAfter` 1 m.

use super::ec2::{Catalog, InstanceType};
use crate::cluster::GroupConfig;
use crate::error::ScenarioError;
use crate::k8s::karpenter::config::{
    BATCH_IDLE, BATCH_MAX, KarpenterConfig, NodePoolConfig, ScheduledBudget, Window,
};
use crate::k8s::karpenter::consolidate::{Budget, Policy};
use crate::k8s::karpenter::requirements::{
    CapacityType, Operator, Requirement, allows_all, unmodelled,
};
use crate::placement::Resources;
use crate::time::{Duration, SimTime, parse_duration};
use serde::{Deserialize, Serialize};

/// One requirement: `{ key, operator, values }`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequirementSpec {
    /// A well-known label (`karpenter.k8s.aws/instance-family`…) or your own.
    pub key: String,
    /// `In`, `NotIn`, `Exists`, `DoesNotExist`, `Gt`, `Lt`.
    pub operator: String,
    /// The values (`Gt`/`Lt`: one integer).
    #[serde(default)]
    pub values: Vec<String>,
}

/// `limits`: the most capacity the NodePool's nodes may add up to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsSpec {
    /// CPU, a Kubernetes quantity (`1000`, `"500"`, `"64000m"`).
    #[serde(default)]
    pub cpu: Option<toml::Value>,
    /// Memory, a Kubernetes quantity (`"1000Gi"`).
    #[serde(default)]
    pub memory: Option<toml::Value>,
}

/// A disruption budget.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BudgetSpec {
    /// A node count (`"5"`) or a percentage of the NodePool's nodes (`"10%"`).
    pub nodes: String,
    /// Cron schedule in UTC (minute, hour, day of the week; or `@weekly`,
    /// `@daily`, `@hourly`): the budget applies from each firing.
    #[serde(default)]
    pub schedule: Option<String>,
    /// How long each firing lasts (with `schedule`; at most 7 days).
    #[serde(default)]
    pub duration: Option<String>,
    /// Disruption reasons it applies to (not modelled: refused).
    #[serde(default)]
    pub reasons: Option<Vec<String>>,
}

fn default_budgets() -> Vec<BudgetSpec> {
    vec![BudgetSpec {
        nodes: "10%".into(),
        schedule: None,
        duration: None,
        reasons: None,
    }]
}
fn default_policy() -> String {
    "WhenEmptyOrUnderutilized".into()
}
fn zero() -> String {
    "0s".into()
}
fn default_expire() -> String {
    "720h".into()
}

/// `disruption`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DisruptionSpec {
    /// `WhenEmpty` or `WhenEmptyOrUnderutilized` (default).
    #[serde(default = "default_policy")]
    pub consolidation_policy: String,
    /// A duration, or `"Never"` (no consolidation). Default `"0s"`.
    #[serde(default = "zero")]
    pub consolidate_after: String,
    /// Default: one budget of `"10%"`.
    #[serde(default = "default_budgets")]
    pub budgets: Vec<BudgetSpec>,
}

impl Default for DisruptionSpec {
    fn default() -> Self {
        DisruptionSpec {
            consolidation_policy: default_policy(),
            consolidate_after: zero(),
            budgets: default_budgets(),
        }
    }
}

/// `[[platform.node_pools]]`: a `karpenter.sh/v1` NodePool.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodePoolSpec {
    /// `metadata.name`.
    pub name: String,
    /// `spec.weight` (higher first). Default none (0).
    #[serde(default)]
    pub weight: Option<i32>,
    /// `spec.template.spec.requirements`.
    #[serde(default)]
    pub requirements: Vec<RequirementSpec>,
    /// `spec.template.metadata.labels`: on every node of the pool (what a
    /// pod's `nodeSelector` may ask for).
    #[serde(default)]
    pub labels: std::collections::BTreeMap<String, String>,
    /// `spec.limits`.
    #[serde(default)]
    pub limits: Option<LimitsSpec>,
    /// `spec.disruption`.
    #[serde(default)]
    pub disruption: DisruptionSpec,
    /// `spec.template.spec.expireAfter`: a duration or `"Never"`. Default `"720h"`.
    #[serde(default = "default_expire")]
    pub expire_after: String,
    /// `spec.template.spec.terminationGracePeriod`. Default none.
    #[serde(default)]
    pub termination_grace_period: Option<Duration>,
}

/// The NodePool Karpenter's getting-started guide installs.
pub fn default_node_pools() -> Vec<NodePoolSpec> {
    let r = |key: &str, operator: &str, values: &[&str]| RequirementSpec {
        key: key.into(),
        operator: operator.into(),
        values: values.iter().map(|v| v.to_string()).collect(),
    };
    vec![NodePoolSpec {
        name: "default".into(),
        weight: None,
        labels: Default::default(),
        requirements: vec![
            r("kubernetes.io/os", "In", &["linux"]),
            r("karpenter.sh/capacity-type", "In", &["on-demand"]),
            r(
                "karpenter.k8s.aws/instance-category",
                "In",
                &["c", "m", "r"],
            ),
            r("karpenter.k8s.aws/instance-generation", "Gt", &["2"]),
        ],
        limits: Some(LimitsSpec {
            cpu: Some(toml::Value::Integer(1000)),
            memory: None,
        }),
        disruption: DisruptionSpec {
            consolidate_after: "1m".into(),
            ..DisruptionSpec::default()
        },
        expire_after: default_expire(),
        termination_grace_period: None,
    }]
}

fn yes() -> bool {
    true
}
fn batch_idle() -> Duration {
    Duration(BATCH_IDLE)
}
fn batch_max() -> Duration {
    Duration(BATCH_MAX)
}

/// `[platform.karpenter]`: the controller's settings (settings.md).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KarpenterSpec {
    /// `BATCH_IDLE_DURATION`. Default 1 s.
    #[serde(default = "batch_idle")]
    pub batch_idle_duration: Duration,
    /// `BATCH_MAX_DURATION`. Default 10 s.
    #[serde(default = "batch_max")]
    pub batch_max_duration: Duration,
    /// The `SpotToSpotConsolidation` feature gate. Default false.
    #[serde(default)]
    pub spot_to_spot_consolidation: bool,
    /// Interruption handling (an SQS queue): Spot nodes are drained at
    /// their 2-minute warning. Default true.
    #[serde(default = "yes")]
    pub interruption_handling: bool,
}

impl Default for KarpenterSpec {
    fn default() -> Self {
        toml::from_str("").expect("every field has a default")
    }
}

/// A manifest's NodePool as the table `[[platform.node_pools]]` would
/// write it.
pub fn from_manifest(p: &crate::k8s::manifest::NodePool) -> NodePoolSpec {
    let defaults = DisruptionSpec::default();
    let quantity =
        |v: Option<u32>, unit: &str| v.map(|v| toml::Value::String(format!("{v}{unit}")));
    NodePoolSpec {
        name: p.name.clone(),
        weight: p.weight,
        requirements: p
            .requirements
            .iter()
            .map(|r| RequirementSpec {
                key: r.key.clone(),
                operator: r.operator.clone(),
                values: r.values.clone(),
            })
            .collect(),
        labels: p.labels.iter().cloned().collect(),
        limits: (p.limits_millicores.is_some() || p.limits_mib.is_some()).then(|| LimitsSpec {
            cpu: quantity(p.limits_millicores, "m"),
            memory: quantity(p.limits_mib, "Mi"),
        }),
        disruption: DisruptionSpec {
            consolidation_policy: p
                .consolidation_policy
                .clone()
                .unwrap_or(defaults.consolidation_policy),
            consolidate_after: p
                .consolidate_after
                .clone()
                .unwrap_or(defaults.consolidate_after),
            budgets: if p.budgets.is_empty() {
                defaults.budgets
            } else {
                p.budgets
                    .iter()
                    .map(|b| BudgetSpec {
                        nodes: b.nodes.clone(),
                        schedule: b.schedule.clone(),
                        duration: b.duration.clone(),
                        reasons: b.reasons.clone(),
                    })
                    .collect()
            },
        },
        expire_after: p.expire_after.clone().unwrap_or_else(default_expire),
        termination_grace_period: p
            .termination_grace_period
            .as_deref()
            .and_then(|s| parse_duration(s).ok()),
    }
}

/// The NodePools of a scenario: its `[[platform.node_pools]]`, else its
/// manifest's (errors then name the manifest and the NodePool), else the
/// getting-started pool; compiled as [`compile`] does.
pub fn compile_pools(
    table: Option<&[NodePoolSpec]>,
    manifest: &[crate::k8s::manifest::NodePool],
    settings: &KarpenterSpec,
    catalog: &Catalog,
    arch: super::Arch,
    azs: &[String],
    prefix_delegation: bool,
) -> Result<(Vec<GroupConfig>, KarpenterConfig), ScenarioError> {
    match (table, manifest.is_empty()) {
        (Some(_), false) => Err(ScenarioError::invalid(
            "platform.node_pools",
            "NodePools come from the table or from the manifest, not both: remove one",
        )),
        (Some(t), true) => compile(t, settings, catalog, arch, azs, prefix_delegation),
        (None, false) => {
            let specs: Vec<NodePoolSpec> = manifest.iter().map(from_manifest).collect();
            compile(&specs, settings, catalog, arch, azs, prefix_delegation).map_err(|e| match e {
                ScenarioError::Invalid { key, message, .. } => {
                    // `platform.node_pools[i].field` → the manifest's NodePool.
                    let (pool, field) = key
                        .strip_prefix("platform.node_pools[")
                        .and_then(|r| r.split_once(']'))
                        .map_or((None, key.as_str()), |(i, f)| {
                            (i.parse::<usize>().ok(), f.trim_start_matches('.'))
                        });
                    // Requirements keep their own line; other fields the
                    // NodePool's.
                    let which = pool
                        .and_then(|i| manifest.get(i))
                        .map_or(String::new(), |p| {
                            let line = field
                                .strip_prefix("requirements[")
                                .and_then(|r| r.split_once(']'))
                                .and_then(|(j, _)| j.parse::<usize>().ok())
                                .and_then(|j| p.requirements.get(j))
                                .map_or(p.line, |r| r.line);
                            format!("line {line}: NodePool {}: ", p.name)
                        });
                    ScenarioError::invalid("task.manifest", format!("{which}{field}: {message}"))
                }
                other => other,
            })
        }
        (None, true) => compile(
            &default_node_pools(),
            settings,
            catalog,
            arch,
            azs,
            prefix_delegation,
        ),
    }
}

/// A duration or `"Never"` (`None`).
fn duration_or_never(key: &str, s: &str) -> Result<Option<SimTime>, ScenarioError> {
    if s == "Never" {
        return Ok(None);
    }
    parse_duration(s)
        .map(|d| Some(d.0))
        .map_err(|m| ScenarioError::invalid(key, format!("{m}, or \"Never\"")))
}

fn quantity_text(v: &toml::Value) -> Option<String> {
    match v {
        toml::Value::Integer(i) => Some(i.to_string()),
        toml::Value::Float(f) => Some(f.to_string()),
        toml::Value::String(s) => Some(s.clone()),
        _ => None,
    }
}

fn requirement(key: &str, r: &RequirementSpec) -> Result<Requirement, ScenarioError> {
    if unmodelled(&r.key) {
        return Err(ScenarioError::invalid(
            key,
            format!(
                "a requirement on {} is not modelled (capsim knows {})",
                r.key,
                crate::k8s::karpenter::requirements::KNOWN_KEYS.join(", ")
            ),
        ));
    }
    let one_int = || -> Result<i64, ScenarioError> {
        match r.values.as_slice() {
            [v] => v.trim().parse().map_err(|_| {
                ScenarioError::invalid(
                    key,
                    format!("{} needs one integer value, got \"{v}\"", r.operator),
                )
            }),
            _ => Err(ScenarioError::invalid(
                key,
                format!(
                    "{} needs exactly one integer value, got {}",
                    r.operator,
                    r.values.len()
                ),
            )),
        }
    };
    let none = |op: Operator| {
        if r.values.is_empty() {
            Ok(op)
        } else {
            Err(ScenarioError::invalid(
                key,
                format!("{} takes no values", r.operator),
            ))
        }
    };
    let some = |v: &Vec<String>| {
        if v.is_empty() {
            Err(ScenarioError::invalid(
                key,
                format!("{} needs at least one value", r.operator),
            ))
        } else {
            Ok(v.clone())
        }
    };
    let operator = match r.operator.as_str() {
        "In" => Operator::In(some(&r.values)?),
        "NotIn" => Operator::NotIn(some(&r.values)?),
        "Exists" => none(Operator::Exists)?,
        "DoesNotExist" => none(Operator::DoesNotExist)?,
        "Gt" => Operator::Gt(one_int()?),
        "Lt" => Operator::Lt(one_int()?),
        other => {
            return Err(ScenarioError::invalid(
                key,
                format!(
                    "unknown operator \"{other}\"; expected In, NotIn, Exists, DoesNotExist, Gt or Lt"
                ),
            ));
        }
    };
    Ok(Requirement {
        key: r.key.clone(),
        operator,
    })
}

const ZONE: &str = "topology.kubernetes.io/zone";

/// The cluster's groups (one per NodePool) and Karpenter's configuration.
/// `prefix_delegation`: only types with ENI data may join a pool.
pub fn compile(
    pools: &[NodePoolSpec],
    settings: &KarpenterSpec,
    catalog: &Catalog,
    arch: super::Arch,
    azs: &[String],
    prefix_delegation: bool,
) -> Result<(Vec<GroupConfig>, KarpenterConfig), ScenarioError> {
    if pools.is_empty() || pools.len() > 100 {
        return Err(ScenarioError::invalid(
            "platform.node_pools",
            format!("expected 1 to 100 NodePools, got {}", pools.len()),
        ));
    }
    let batch_idle = settings.batch_idle_duration.0;
    let batch_max = settings.batch_max_duration.0;
    let s = crate::time::SECOND;
    if !(s / 10..=600 * s).contains(&batch_idle) || !(batch_idle..=600 * s).contains(&batch_max) {
        return Err(ScenarioError::invalid(
            "platform.karpenter.batch_idle_duration",
            "expected 100ms ≤ batch_idle_duration ≤ batch_max_duration ≤ 10m",
        ));
    }
    let want = if arch == super::Arch::Arm64 {
        "arm64"
    } else {
        "x86_64"
    };
    let mut groups = Vec::new();
    let mut configs = Vec::new();
    for (i, p) in pools.iter().enumerate() {
        let k = |f: &str| format!("platform.node_pools[{i}].{f}");
        if p.name.trim().is_empty() || pools[..i].iter().any(|o| o.name == p.name) {
            return Err(ScenarioError::invalid(
                k("name"),
                format!(
                    "NodePool names must be unique and not empty, got \"{}\"",
                    p.name
                ),
            ));
        }
        let mut reqs = Vec::new();
        let mut zones: Vec<usize> = (0..azs.len()).collect();
        for (j, r) in p.requirements.iter().enumerate() {
            let key = k(&format!("requirements[{j}]"));
            if r.key == ZONE {
                // The zones the NodePool's nodes may land in.
                zones.retain(|&z| match r.operator.as_str() {
                    "In" => r.values.contains(&azs[z]),
                    "NotIn" => !r.values.contains(&azs[z]),
                    _ => true,
                });
                if !matches!(r.operator.as_str(), "In" | "NotIn") || zones.is_empty() {
                    return Err(ScenarioError::invalid(
                        key,
                        format!(
                            "a zone requirement must be In or NotIn and leave one of the cluster's zones ({})",
                            azs.join(", ")
                        ),
                    ));
                }
                continue;
            }
            reqs.push(requirement(&key, r)?);
        }
        // Without a capacity-type requirement a NodePool launches on-demand
        // (karpenter-provider-aws defaults it; concepts/nodepools.md).
        if !reqs.iter().any(|r| r.key == "karpenter.sh/capacity-type") {
            reqs.push(Requirement {
                key: "karpenter.sh/capacity-type".into(),
                operator: Operator::In(vec!["on-demand".into()]),
            });
        }
        let allowed = |t: &InstanceType| {
            allows_all(&reqs, t, CapacityType::OnDemand) || allows_all(&reqs, t, CapacityType::Spot)
        };
        let types: Vec<InstanceType> = catalog
            .types()
            .filter(|t| t.arch == want && allowed(t))
            .filter(|t| !prefix_delegation || (t.max_enis.is_some() && t.ipv4_per_eni.is_some()))
            .cloned()
            .collect();
        if types.is_empty() {
            return Err(ScenarioError::invalid(
                k("requirements"),
                format!(
                    "NodePool {} allows no {want} instance type of the catalog (the pod's architecture)",
                    p.name
                ),
            ));
        }
        let limits = match &p.limits {
            None => None,
            Some(l) => {
                let q = |v: &Option<toml::Value>,
                         f: &str,
                         parse: fn(&str) -> Result<u32, String>|
                 -> Result<u32, ScenarioError> {
                    match v {
                        None => Ok(u32::MAX),
                        Some(v) => quantity_text(v)
                            .ok_or_else(|| "expected a number or a quantity string".to_string())
                            .and_then(|t| parse(&t))
                            .map_err(|m| ScenarioError::invalid(k(f), m)),
                    }
                };
                Some(Resources {
                    cpu: q(
                        &l.cpu,
                        "limits.cpu",
                        crate::k8s::manifest::parse_quantity_millicores,
                    )?,
                    memory: q(
                        &l.memory,
                        "limits.memory",
                        crate::k8s::manifest::parse_quantity_mib,
                    )?,
                    slots: u32::MAX,
                })
            }
        };
        let d = &p.disruption;
        let consolidation = match d.consolidation_policy.as_str() {
            "WhenEmpty" => Policy::WhenEmpty,
            "WhenEmptyOrUnderutilized" => Policy::WhenEmptyOrUnderutilized,
            other => {
                return Err(ScenarioError::invalid(
                    k("disruption.consolidation_policy"),
                    format!(
                        "expected WhenEmpty or WhenEmptyOrUnderutilized, got \"{other}\" (Balanced is not modelled)"
                    ),
                ));
            }
        };
        let after = duration_or_never(&k("disruption.consolidate_after"), &d.consolidate_after)?;
        let mut budgets = Vec::new();
        for (j, b) in d.budgets.iter().enumerate() {
            let key = k(&format!("disruption.budgets[{j}]"));
            if b.reasons.is_some() {
                return Err(ScenarioError::invalid(
                    key,
                    "budgets by reason are not modelled yet (a budget here holds for every reason)",
                ));
            }
            // A schedule and its duration go together (the NodePool CRD).
            let window = match (&b.schedule, &b.duration) {
                (None, None) => None,
                (Some(s), Some(d)) => {
                    let d = parse_duration(d)
                        .map_err(|m| ScenarioError::invalid(&key, format!("duration: {m}")))?
                        .0;
                    if d == 0 || d > 7 * 24 * 3_600 * crate::time::SECOND {
                        return Err(ScenarioError::invalid(
                            &key,
                            "duration: expected more than 0 and at most 7 days",
                        ));
                    }
                    Some(
                        Window::new(s, d)
                            .map_err(|m| ScenarioError::invalid(&key, format!("schedule: {m}")))?,
                    )
                }
                _ => {
                    return Err(ScenarioError::invalid(
                        key,
                        "a budget's schedule and duration go together: give both or neither",
                    ));
                }
            };
            let bad = || {
                ScenarioError::invalid(
                    &key,
                    format!(
                        "nodes: expected a count (\"5\") or a percentage (\"10%\"), got \"{}\"",
                        b.nodes
                    ),
                )
            };
            let budget = match b.nodes.trim().strip_suffix('%') {
                Some(pct) => {
                    let v: u32 = pct.trim().parse().map_err(|_| bad())?;
                    if v > 100 {
                        return Err(bad());
                    }
                    Budget::Percent(v)
                }
                None => Budget::Nodes(b.nodes.trim().parse().map_err(|_| bad())?),
            };
            budgets.push(ScheduledBudget { budget, window });
        }
        groups.push(GroupConfig {
            name: p.name.clone(),
            types,
            min_size: 0,
            max_size: crate::cluster::MAX_NODES,
            initial: 0,
            od_base: 0,
            od_pct: 100,
            zones,
            // The template's labels, and a requirement `In` one value on a
            // key of the user's own: Karpenter puts that label on the node.
            labels: p
                .labels
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .chain(reqs.iter().filter_map(|r| {
                    match &r.operator {
                        Operator::In(v)
                            if v.len() == 1
                                && !crate::k8s::karpenter::requirements::KNOWN_KEYS
                                    .contains(&r.key.as_str()) =>
                        {
                            Some((r.key.clone(), v[0].clone()))
                        }
                        _ => None,
                    }
                }))
                .collect(),
        });
        configs.push(NodePoolConfig {
            name: p.name.clone(),
            weight: p.weight.unwrap_or(0),
            requirements: reqs,
            limits,
            consolidation: after.map(|_| consolidation),
            consolidate_after: after.unwrap_or(0),
            budgets,
            expire_after: duration_or_never(&k("expire_after"), &p.expire_after)?,
            termination_grace: p.termination_grace_period.map(|d| d.0),
        });
    }
    Ok((
        groups,
        KarpenterConfig {
            pools: configs,
            batch_idle,
            batch_max,
            spot_to_spot: settings.spot_to_spot_consolidation,
        },
    ))
}
