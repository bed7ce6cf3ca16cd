//! The part of the ECS cluster query language `memberOf` constraints use
//! (AWS ECS developer guide, cluster-query-language.md): clauses
//! `attribute:<name> <op> <value>` joined by `and`, with `==`, `!=`, `in
//! [a, b]`, `not_in [a, b]` and `=~` (a pattern where `*` is any text).
//! Attributes: `ecs.instance-type`, `ecs.availability-zone`, and
//! `ecs.instance-family` (capsim's; the same as `ecs.instance-type =~ m5.*`).

use super::NodeAttrs;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Attr {
    InstanceType,
    Family,
    Az,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Op {
    Eq(String),
    Ne(String),
    In(Vec<String>),
    NotIn(Vec<String>),
    Matches(String),
}

/// A parsed expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    clauses: Vec<(Attr, Op)>,
}

fn glob(pattern: &str, s: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == s,
        Some((head, rest)) => {
            let Some(tail) = s.strip_prefix(head) else {
                return false;
            };
            (0..=tail.len()).any(|i| tail.is_char_boundary(i) && glob(rest, &tail[i..]))
        }
    }
}

fn list(s: &str) -> Result<Vec<String>, String> {
    let inner = s
        .trim()
        .strip_prefix('[')
        .and_then(|x| x.strip_suffix(']'))
        .ok_or_else(|| format!("expected a list like [a, b], got \"{s}\""))?;
    Ok(inner
        .split(',')
        .map(|x| x.trim().trim_matches('"').to_string())
        .filter(|x| !x.is_empty())
        .collect())
}

impl Query {
    /// Parses an expression.
    pub fn parse(expr: &str) -> Result<Query, String> {
        let mut clauses = Vec::new();
        for clause in expr.split(" and ") {
            let c = clause.trim();
            let rest = c
                .strip_prefix("attribute:")
                .ok_or_else(|| format!("\"{c}\": a clause starts with attribute:<name>"))?;
            let (name, rest) = rest
                .split_once(char::is_whitespace)
                .ok_or_else(|| format!("\"{c}\": expected an operator after the attribute"))?;
            let attr = match name {
                "ecs.instance-type" => Attr::InstanceType,
                "ecs.instance-family" => Attr::Family,
                "ecs.availability-zone" => Attr::Az,
                other => {
                    return Err(format!(
                        "unknown attribute \"{other}\"; capsim knows ecs.instance-type, ecs.instance-family, ecs.availability-zone"
                    ));
                }
            };
            let rest = rest.trim();
            let (op, value) = rest
                .split_once(char::is_whitespace)
                .ok_or_else(|| format!("\"{c}\": expected <operator> <value>"))?;
            let value = value.trim();
            let op = match op {
                "==" => Op::Eq(value.into()),
                "!=" => Op::Ne(value.into()),
                "in" => Op::In(list(value)?),
                "not_in" => Op::NotIn(list(value)?),
                "=~" => Op::Matches(value.into()),
                other => {
                    return Err(format!(
                        "unknown operator \"{other}\"; use ==, !=, in, not_in or =~"
                    ));
                }
            };
            clauses.push((attr, op));
        }
        Ok(Query { clauses })
    }

    /// Whether a node matches.
    pub fn matches(&self, n: &NodeAttrs) -> bool {
        self.clauses.iter().all(|(a, op)| {
            let v = match a {
                Attr::InstanceType => &n.instance_type,
                Attr::Family => &n.family,
                Attr::Az => &n.az,
            };
            match op {
                Op::Eq(x) => v == x,
                Op::Ne(x) => v != x,
                Op::In(xs) => xs.iter().any(|x| x == v),
                Op::NotIn(xs) => !xs.iter().any(|x| x == v),
                Op::Matches(p) => glob(p, v),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attrs(t: &str, az: &str) -> NodeAttrs {
        NodeAttrs {
            instance_type: t.into(),
            family: t.split('.').next().unwrap().into(),
            az: az.into(),
            labels: Default::default(),
        }
    }

    #[test]
    fn clauses() {
        let n = attrs("m5.large", "us-east-1a");
        assert!(
            Query::parse("attribute:ecs.instance-type == m5.large")
                .unwrap()
                .matches(&n)
        );
        assert!(
            Query::parse("attribute:ecs.instance-type =~ m5.*")
                .unwrap()
                .matches(&n)
        );
        assert!(
            !Query::parse("attribute:ecs.instance-type =~ c5.*")
                .unwrap()
                .matches(&n)
        );
        assert!(
            Query::parse("attribute:ecs.availability-zone in [us-east-1a, us-east-1b]")
                .unwrap()
                .matches(&n)
        );
        assert!(Query::parse("attribute:ecs.instance-family != c5 and attribute:ecs.availability-zone not_in [us-east-1c]").unwrap().matches(&n));
        assert!(Query::parse("attribute:ecs.ami-id == x").is_err());
        assert!(Query::parse("instance-type == x").is_err());
    }
}
