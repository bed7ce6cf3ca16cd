//! The located YAML tree: every node keeps its source line, and `Doc`
//! turns a wrong type, range or quantity into an error naming the file,
//! the line, the document and the field.

use super::*;

// ---------------------------------------------------------------------------
// The located YAML tree
// ---------------------------------------------------------------------------

/// A YAML value whose children keep their source location.
#[derive(Debug, Clone)]
pub(super) enum Node {
    Null,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(String),
    Seq(Vec<N>),
    Map(Vec<(String, N)>),
}

pub(super) type N = Spanned<Node>;
pub(super) type Map = [(String, N)];

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
pub(super) fn describe(n: &Node) -> String {
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
pub(super) fn get<'n>(m: &'n Map, key: &str) -> Option<&'n N> {
    m.iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v)
        .filter(|v| !matches!(v.value, Node::Null))
}

pub(super) fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// Errors and typed reads within one object of the file.
pub(super) struct Doc<'a> {
    pub(super) origin: &'a str,
    /// e.g. `document 2 (Deployment web)`.
    pub(super) label: String,
}

impl Doc<'_> {
    pub(super) fn err(&self, at: &N, path: &str, msg: impl fmt::Display) -> String {
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

    pub(super) fn map<'n>(&self, n: &'n N, path: &str) -> Result<&'n Map, String> {
        match &n.value {
            Node::Map(m) => Ok(m),
            other => Err(self.err(
                n,
                path,
                format!("expected a mapping, got {}", describe(other)),
            )),
        }
    }

    pub(super) fn seq<'n>(&self, n: &'n N, path: &str) -> Result<&'n [N], String> {
        match &n.value {
            Node::Seq(s) => Ok(s),
            other => Err(self.err(n, path, format!("expected a list, got {}", describe(other)))),
        }
    }

    pub(super) fn str<'n>(&self, n: &'n N, path: &str) -> Result<&'n str, String> {
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
    pub(super) fn req<'n>(
        &self,
        m: &'n Map,
        parent: &N,
        path: &str,
        key: &str,
    ) -> Result<&'n N, String> {
        get(m, key).ok_or_else(|| self.err(parent, &join(path, key), "missing (required)"))
    }

    pub(super) fn opt_str<'n>(
        &self,
        m: &'n Map,
        path: &str,
        key: &str,
    ) -> Result<Option<&'n str>, String> {
        get(m, key)
            .map(|v| self.str(v, &join(path, key)))
            .transpose()
    }

    /// An integer within `min..=max` (Kubernetes int32 fields: max i32::MAX).
    pub(super) fn int(&self, n: &N, path: &str, min: i64, max: i64) -> Result<i64, String> {
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

    pub(super) fn u32_in(&self, n: &N, path: &str, min: u32, max: u32) -> Result<u32, String> {
        // The range makes the conversion lossless.
        self.int(n, path, i64::from(min), i64::from(max))
            .map(|v| u32::try_from(v).unwrap_or(max))
    }

    pub(super) fn opt_u32(
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
    pub(super) fn quantity_text(&self, n: &N, path: &str) -> Result<String, String> {
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

    pub(super) fn millicores(&self, n: &N, path: &str) -> Result<u32, String> {
        let s = self.quantity_text(n, path)?;
        parse_quantity_millicores(&s).map_err(|e| self.err(n, path, e))
    }

    pub(super) fn mib(&self, n: &N, path: &str) -> Result<u32, String> {
        let s = self.quantity_text(n, path)?;
        parse_quantity_mib(&s).map_err(|e| self.err(n, path, e))
    }

    /// A non-negative quantity as a number scaled by 10^extra10 × 2^extra2.
    pub(super) fn quantity_f64(
        &self,
        n: &N,
        path: &str,
        extra10: i64,
        extra2: i64,
    ) -> Result<f64, String> {
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

pub(super) const INT32_MAX: u32 = i32::MAX as u32;
