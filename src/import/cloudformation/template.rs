//! Reading a CloudFormation template: JSON, or YAML whose short-form
//! intrinsics (`!Ref`, `!Sub`, `!GetAtt`…) serde-saphyr's tag capture
//! turns into their long form; resolving the intrinsics the template alone
//! decides, placeholders for the rest.

use super::*;
pub(super) use crate::import::aws_scaling::{num, scalar};
use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Tagged;

pub(super) const UNRESOLVED: &str = "<unresolved: ";

/// A YAML node with its tag, read generically.
#[derive(Debug)]
pub(super) enum Node {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Tagged<Node>>),
    Map(Vec<(String, Tagged<Node>)>),
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Node;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a YAML value")
            }
            fn visit_unit<E>(self) -> Result<Node, E> {
                Ok(Node::Null)
            }
            fn visit_none<E>(self) -> Result<Node, E> {
                Ok(Node::Null)
            }
            fn visit_bool<E>(self, v: bool) -> Result<Node, E> {
                Ok(Node::Bool(v))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Node, E> {
                Ok(Node::Int(v))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Node, E> {
                Ok(i64::try_from(v).map_or(Node::Float(v as f64), Node::Int))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Node, E> {
                Ok(Node::Float(v))
            }
            fn visit_str<E>(self, v: &str) -> Result<Node, E> {
                Ok(Node::Str(v.to_string()))
            }
            fn visit_string<E>(self, v: String) -> Result<Node, E> {
                Ok(Node::Str(v))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<Node, A::Error> {
                let mut v = Vec::new();
                while let Some(x) = a.next_element()? {
                    v.push(x);
                }
                Ok(Node::Seq(v))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Node, A::Error> {
                let mut v = Vec::new();
                while let Some((k, x)) = a.next_entry::<String, Tagged<Node>>()? {
                    v.push((k, x));
                }
                Ok(Node::Map(v))
            }
        }
        d.deserialize_any(V)
    }
}

/// The node as JSON, short-form intrinsics in their long form.
pub(super) fn to_json(n: Tagged<Node>) -> Value {
    let Tagged(node, tag) = n;
    let v = match node {
        Node::Null => Value::Null,
        Node::Bool(b) => Value::Bool(b),
        Node::Int(i) => Value::from(i),
        Node::Float(f) => serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number),
        Node::Str(s) => Value::String(s),
        Node::Seq(s) => Value::Array(s.into_iter().map(to_json).collect()),
        Node::Map(m) => Value::Object(m.into_iter().map(|(k, v)| (k, to_json(v))).collect()),
    };
    match tag.as_deref() {
        Some("!Ref") => serde_json::json!({ "Ref": v }),
        Some("!GetAtt") => {
            let parts = match v {
                Value::String(s) => {
                    let (a, b) = s.split_once('.').unwrap_or((&s, ""));
                    serde_json::json!([a, b])
                }
                other => other,
            };
            serde_json::json!({ "Fn::GetAtt": parts })
        }
        Some(t) if t.starts_with('!') && !t.starts_with("!!") => {
            let mut m = Map::new();
            m.insert(format!("Fn::{}", &t[1..]), v);
            Value::Object(m)
        }
        _ => v,
    }
}

pub(super) struct Template {
    pub(super) json: Value,
    pub(super) text: String,
    pub(super) params: Map<String, Value>,
    pub(super) region: Option<String>,
}

impl Template {
    pub(super) fn line_of(&self, logical_id: &str) -> usize {
        self.text
            .lines()
            .position(|l| {
                let t = l.trim_start();
                t.starts_with(&format!("{logical_id}:"))
                    || t.starts_with(&format!("\"{logical_id}\""))
            })
            .map_or(0, |i| i + 1)
    }

    /// `v` with every intrinsic the template decides resolved, the rest
    /// replaced by placeholders naming them.
    pub(super) fn resolve(&self, v: &Value) -> Value {
        match v {
            Value::Array(a) => Value::Array(a.iter().map(|x| self.resolve(x)).collect()),
            Value::Object(o) if o.len() == 1 => {
                let (k, arg) = o.iter().next().expect("one entry");
                match k.as_str() {
                    "Ref" => match arg.as_str() {
                        Some("AWS::Region") => self
                            .region
                            .clone()
                            .map_or_else(|| ph("Ref AWS::Region"), Value::String),
                        Some(name) => self
                            .params
                            .get(name)
                            .cloned()
                            .unwrap_or_else(|| ph(&format!("Ref {name}"))),
                        None => ph("Ref"),
                    },
                    "Fn::Sub" => {
                        let (s, vars) = match arg {
                            Value::String(s) => (s.clone(), Map::new()),
                            Value::Array(a) => (
                                a.first().and_then(Value::as_str).unwrap_or("").to_string(),
                                a.get(1)
                                    .and_then(Value::as_object)
                                    .cloned()
                                    .unwrap_or_default(),
                            ),
                            _ => return ph("Fn::Sub"),
                        };
                        let mut out = String::new();
                        let mut rest = s.as_str();
                        while let Some(i) = rest.find("${") {
                            out.push_str(&rest[..i]);
                            let Some(j) = rest[i..].find('}') else {
                                break;
                            };
                            let name = &rest[i + 2..i + j];
                            let val = match vars.get(name) {
                                Some(v) => self.resolve(v),
                                None => self.resolve(&serde_json::json!({ "Ref": name })),
                            };
                            out.push_str(&scalar(&val));
                            rest = &rest[i + j + 1..];
                        }
                        out.push_str(rest);
                        Value::String(out)
                    }
                    "Fn::Join" => match arg.as_array().map(Vec::as_slice) {
                        Some([sep, Value::Array(items)]) => {
                            let sep = sep.as_str().unwrap_or("");
                            Value::String(
                                items
                                    .iter()
                                    .map(|x| scalar(&self.resolve(x)))
                                    .collect::<Vec<_>>()
                                    .join(sep),
                            )
                        }
                        _ => ph("Fn::Join"),
                    },
                    "Fn::Select" => match arg.as_array().map(Vec::as_slice) {
                        Some([i, list]) => {
                            let i = scalar(&self.resolve(i)).parse::<usize>().ok();
                            match (i, self.resolve(list)) {
                                (Some(i), Value::Array(a)) if i < a.len() => a[i].clone(),
                                _ => ph("Fn::Select"),
                            }
                        }
                        _ => ph("Fn::Select"),
                    },
                    "Fn::FindInMap" => match arg.as_array().map(Vec::as_slice) {
                        Some([m, a, b]) => {
                            let (m, a, b) = (
                                scalar(&self.resolve(m)),
                                scalar(&self.resolve(a)),
                                scalar(&self.resolve(b)),
                            );
                            self.json
                                .get("Mappings")
                                .and_then(|x| x.get(&m))
                                .and_then(|x| x.get(&a))
                                .and_then(|x| x.get(&b))
                                .cloned()
                                .unwrap_or_else(|| ph(&format!("Fn::FindInMap {m}.{a}.{b}")))
                        }
                        _ => ph("Fn::FindInMap"),
                    },
                    "Fn::GetAtt" => ph(&format!(
                        "Fn::GetAtt {}",
                        arg.as_array()
                            .map(|a| a.iter().map(scalar).collect::<Vec<_>>().join("."))
                            .unwrap_or_default()
                    )),
                    k if k.starts_with("Fn::") => ph(k),
                    _ => Value::Object(
                        o.iter()
                            .map(|(k, x)| (k.clone(), self.resolve(x)))
                            .collect(),
                    ),
                }
            }
            Value::Object(o) => Value::Object(
                o.iter()
                    .map(|(k, x)| (k.clone(), self.resolve(x)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }
}

pub(super) fn ph(what: &str) -> Value {
    Value::String(format!("{UNRESOLVED}{what}>"))
}

pub(super) fn unresolved_in(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => s.find(UNRESOLVED).map(|i| {
            let rest = &s[i + UNRESOLVED.len()..];
            rest.split('>').next().unwrap_or(rest).to_string()
        }),
        Value::Array(a) => a.iter().find_map(unresolved_in),
        Value::Object(o) => o.values().find_map(unresolved_in),
        _ => None,
    }
}

/// PascalCase keys (CloudFormation) to the API's camelCase, recursively;
/// the keys of `Options` and `DockerLabels` maps are the user's and stay.
pub(super) fn camel(v: &Value) -> Value {
    match v {
        Value::Array(a) => Value::Array(a.iter().map(camel).collect()),
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, x)| {
                    let mut c = k.chars();
                    let key = match c.next() {
                        Some(f) => f.to_lowercase().collect::<String>() + c.as_str(),
                        None => String::new(),
                    };
                    let inner =
                        if matches!(k.as_str(), "Options" | "DockerLabels" | "SystemControls") {
                            x.clone()
                        } else {
                            camel(x)
                        };
                    (key, inner)
                })
                .collect(),
        ),
        other => other.clone(),
    }
}
