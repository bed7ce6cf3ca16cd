//! NodePool requirements (`karpenter.sh/v1`): which instance types and
//! capacity types a NodePool allows, by the well-known labels Karpenter
//! puts on every type (aws.md §5.3; karpenter-provider-aws
//! `website/content/en/docs/concepts/scheduling.md`, "Well-Known Labels").

use crate::platform::ec2::InstanceType;

/// A requirement's operator.
#[derive(Debug, Clone, PartialEq)]
pub enum Operator {
    /// The label's value is one of these.
    In(Vec<String>),
    /// The label's value is none of these (or the label is absent).
    NotIn(Vec<String>),
    /// The label is present.
    Exists,
    /// The label is absent.
    DoesNotExist,
    /// The label's value, as an integer, is greater than this.
    Gt(i64),
    /// The label's value, as an integer, is less than this.
    Lt(i64),
}

/// One requirement: a label key and an operator on its value.
#[derive(Debug, Clone, PartialEq)]
pub struct Requirement {
    /// e.g. `karpenter.k8s.aws/instance-family`.
    pub key: String,
    /// What the value must satisfy.
    pub operator: Operator,
}

/// Capacity types (`karpenter.sh/capacity-type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CapacityType {
    /// `spot`.
    Spot,
    /// `on-demand`.
    OnDemand,
}

impl CapacityType {
    /// The label's value.
    pub fn label(self) -> &'static str {
        match self {
            CapacityType::Spot => "spot",
            CapacityType::OnDemand => "on-demand",
        }
    }
}

/// The label keys capsim knows: requirements on them filter instance types.
pub const KNOWN_KEYS: [&str; 10] = [
    "node.kubernetes.io/instance-type",
    "karpenter.k8s.aws/instance-family",
    "karpenter.k8s.aws/instance-category",
    "karpenter.k8s.aws/instance-generation",
    "karpenter.k8s.aws/instance-cpu",
    "karpenter.k8s.aws/instance-memory",
    "karpenter.k8s.aws/instance-size",
    "kubernetes.io/arch",
    "karpenter.sh/capacity-type",
    "kubernetes.io/os",
];

/// A family's category and generation, as Karpenter labels them: `m7i`
/// → (`m`, 7), `c6in` → (`c`, 6), `inf2` → (`inf`, 2), `u-6tb1` → (`u`, 1).
pub fn category_generation(family: &str) -> (String, Option<u32>) {
    let category: String = family
        .chars()
        .take_while(|c| c.is_ascii_lowercase())
        .collect();
    let rest = &family[category.len()..];
    let digits: String = rest
        .trim_start_matches(|c: char| !c.is_ascii_digit())
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    // `u-6tb1`: the memory size comes first; the generation is the last digit run.
    let generation = if rest.starts_with('-') {
        rest.rsplit(|c: char| !c.is_ascii_digit())
            .find(|s| !s.is_empty())
            .and_then(|s| s.parse().ok())
    } else {
        digits.parse().ok()
    };
    (category, generation)
}

/// The value of label `key` on a node of type `t` with capacity type `ct`
/// (`None`: the label is absent).
pub fn label(t: &InstanceType, ct: CapacityType, key: &str) -> Option<String> {
    match key {
        "node.kubernetes.io/instance-type" => Some(t.instance_type.clone()),
        "karpenter.k8s.aws/instance-family" => Some(t.family.clone()),
        "karpenter.k8s.aws/instance-category" => Some(category_generation(&t.family).0),
        "karpenter.k8s.aws/instance-generation" => {
            category_generation(&t.family).1.map(|g| g.to_string())
        }
        "karpenter.k8s.aws/instance-cpu" => Some(t.vcpu.to_string()),
        "karpenter.k8s.aws/instance-memory" => Some(t.memory_mib.to_string()),
        "karpenter.k8s.aws/instance-size" => Some(t.size.clone()),
        "kubernetes.io/arch" => Some(if t.arch == "arm64" { "arm64" } else { "amd64" }.into()),
        "karpenter.sh/capacity-type" => Some(ct.label().into()),
        "kubernetes.io/os" => Some("linux".into()),
        _ => None,
    }
}

/// Well-known label prefixes whose keys describe an instance type or its
/// offering: a key under them that capsim does not know (the zone, the
/// hypervisor, GPUs, local NVMe…) cannot be evaluated, and a scenario
/// must be refused it ([`unmodelled`]).
const WELL_KNOWN_PREFIXES: [&str; 5] = [
    "karpenter.k8s.aws/",
    "karpenter.sh/",
    "node.kubernetes.io/",
    "topology.kubernetes.io/",
    "kubernetes.io/",
];

/// Whether `key` is a well-known label capsim does not model (a
/// requirement on it must be refused, not ignored).
pub fn unmodelled(key: &str) -> bool {
    !KNOWN_KEYS.contains(&key) && WELL_KNOWN_PREFIXES.iter().any(|p| key.starts_with(p))
}

impl Requirement {
    /// Whether a node of type `t` and capacity type `ct` satisfies it. A
    /// requirement on a key of the user's own (`example.com/team`) does
    /// not filter types: Karpenter intersects only the keys both sides
    /// define, and puts the label on the node.
    pub fn allows(&self, t: &InstanceType, ct: CapacityType) -> bool {
        if !KNOWN_KEYS.contains(&self.key.as_str()) {
            return true;
        }
        let v = label(t, ct, &self.key);
        let int = || v.as_deref().and_then(|s| s.parse::<i64>().ok());
        match &self.operator {
            Operator::In(values) => v.is_some_and(|v| values.contains(&v)),
            Operator::NotIn(values) => v.is_none_or(|v| !values.contains(&v)),
            Operator::Exists => v.is_some(),
            Operator::DoesNotExist => v.is_none(),
            Operator::Gt(n) => int().is_some_and(|x| x > *n),
            Operator::Lt(n) => int().is_some_and(|x| x < *n),
        }
    }
}

/// Whether every requirement allows type `t` as capacity type `ct`.
pub fn allows_all(reqs: &[Requirement], t: &InstanceType, ct: CapacityType) -> bool {
    reqs.iter().all(|r| r.allows(t, ct))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::ec2::Catalog;

    #[test]
    fn categories_and_generations() {
        for (family, category, generation) in [
            ("m5", "m", Some(5)),
            ("m7i", "m", Some(7)),
            ("m7i-flex", "m", Some(7)),
            ("c6in", "c", Some(6)),
            ("inf2", "inf", Some(2)),
            ("trn1n", "trn", Some(1)),
            ("x2iedn", "x", Some(2)),
            ("u-6tb1", "u", Some(1)),
            ("u7i-12tb", "u", Some(7)),
            ("p6-b200", "p", Some(6)),
            ("is4gen", "is", Some(4)),
            ("hpc7g", "hpc", Some(7)),
        ] {
            assert_eq!(
                category_generation(family),
                (category.to_string(), generation),
                "{family}"
            );
        }
    }

    fn req(key: &str, operator: Operator) -> Requirement {
        Requirement {
            key: key.into(),
            operator,
        }
    }

    #[test]
    fn operators_filter_types() {
        let c = Catalog::embedded();
        let m5 = c.get("m5.xlarge").unwrap();
        let c7g = c.get("c7g.large").unwrap();
        let od = CapacityType::OnDemand;
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        let cases = [
            (
                req(
                    "karpenter.k8s.aws/instance-category",
                    Operator::In(s(&["c", "m"])),
                ),
                true,
                true,
            ),
            (
                req(
                    "karpenter.k8s.aws/instance-category",
                    Operator::NotIn(s(&["c"])),
                ),
                true,
                false,
            ),
            (
                req("karpenter.k8s.aws/instance-generation", Operator::Gt(5)),
                false,
                true,
            ),
            (
                req("karpenter.k8s.aws/instance-cpu", Operator::Lt(4)),
                false,
                true,
            ),
            (
                req("kubernetes.io/arch", Operator::In(s(&["arm64"]))),
                false,
                true,
            ),
            (
                req(
                    "karpenter.k8s.aws/instance-size",
                    Operator::In(s(&["xlarge"])),
                ),
                true,
                false,
            ),
            // The user's own labels label the node, they filter no type.
            (req("example.com/team", Operator::Exists), true, true),
            (req("example.com/team", Operator::DoesNotExist), true, true),
            (
                req("example.com/team", Operator::NotIn(s(&["a"]))),
                true,
                true,
            ),
        ];
        for (r, on_m5, on_c7g) in cases {
            assert_eq!(
                (r.allows(m5, od), r.allows(c7g, od)),
                (on_m5, on_c7g),
                "{r:?}"
            );
        }
        assert!(unmodelled("topology.kubernetes.io/zone"));
        assert!(unmodelled("karpenter.k8s.aws/instance-gpu-count"));
        assert!(!unmodelled("karpenter.k8s.aws/instance-family"));
        assert!(!unmodelled("example.com/team"));
        let spot_only = req("karpenter.sh/capacity-type", Operator::In(s(&["spot"])));
        assert!(spot_only.allows(m5, CapacityType::Spot));
        assert!(!spot_only.allows(m5, od));
    }
}
