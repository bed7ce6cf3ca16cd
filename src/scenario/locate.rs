//! Where an error is in the file: lines and columns of offsets and dotted
//! keys, the key a serde message is really about, a service's keys under
//! `services.<name>`, and whether a value came from `--set`.

use crate::error::ScenarioError;

/// Byte offset → (1-based line, 1-based column).
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before
        .rfind('\n')
        .map_or(before.len(), |nl| before.len() - nl - 1)
        + 1;
    (line, col)
}

/// The line where a dotted key (or the deepest table of it that is written)
/// appears in the TOML text.
pub(super) fn line_of_key(text: &str, key: &str) -> Option<usize> {
    let root = toml::de::DeTable::parse(text).ok()?;
    let mut table = root.get_ref();
    let mut found = None;
    for seg in key.split('.') {
        let (k, v) = table.iter().find(|(k, _)| k.get_ref().as_ref() == seg)?;
        found = Some(k.span().start);
        match v.get_ref() {
            toml::de::DeValue::Table(t) => table = t,
            _ => break,
        }
    }
    found.map(|off| line_col(text, off).0)
}

/// A value quoted in a serde message (`invalid type: string "abc", …`).
#[derive(Debug, PartialEq)]
enum Quoted {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
}

fn quoted_value(message: &str) -> Option<Quoted> {
    let rest = message
        .strip_prefix("invalid type: ")
        .or_else(|| message.strip_prefix("invalid value: "))?;
    let between = |r: &str, close: &str| r.find(close).map(|end| r[..end].to_string());
    if let Some(r) = rest.strip_prefix("string \"") {
        return between(r, "\", expected").map(Quoted::Str);
    }
    if let Some(r) = rest.strip_prefix("integer `") {
        return between(r, "`")?.parse().ok().map(Quoted::Int);
    }
    if let Some(r) = rest.strip_prefix("floating point `") {
        return between(r, "`")?.parse().ok().map(Quoted::Float);
    }
    if let Some(r) = rest.strip_prefix("boolean `") {
        return between(r, "`")?.parse().ok().map(Quoted::Bool);
    }
    None
}

fn matches_quoted(v: &toml::Value, q: &Quoted) -> bool {
    match (v, q) {
        (toml::Value::String(s), Quoted::Str(x)) => s == x,
        (toml::Value::Integer(i), Quoted::Int(x)) => i == x,
        (toml::Value::Float(f), Quoted::Float(x)) => f == x,
        (toml::Value::Boolean(b), Quoted::Bool(x)) => b == x,
        _ => false,
    }
}

fn find_quoted(v: &toml::Value, path: &str, q: &Quoted, hits: &mut Vec<String>) {
    match v {
        toml::Value::Table(t) => {
            for (k, x) in t {
                find_quoted(x, &format!("{path}.{k}"), q, hits);
            }
        }
        // A value inside an array counts as the array's key: with another
        // match elsewhere the error stays on the table.
        toml::Value::Array(a) => {
            for x in a {
                find_quoted(x, path, q, hits);
            }
        }
        other if matches_quoted(other, q) => hits.push(path.to_string()),
        _ => {}
    }
}

/// Serde reports type errors inside tagged tables (`[load]`, `[platform]`,
/// distributions) at the table. When the message quotes the bad value and
/// exactly one value in that table is it, the error names that value's key.
pub(super) fn refine_key(root: &toml::Table, key: &str, message: &str) -> String {
    let Some(q) = quoted_value(message) else {
        return key.to_string();
    };
    let mut v: Option<&toml::Value> = None;
    for seg in key.split('.') {
        let next = match v {
            None => root.get(seg),
            Some(toml::Value::Table(t)) => t.get(seg),
            Some(_) => None,
        };
        let Some(next) = next else {
            return key.to_string();
        };
        v = Some(next);
    }
    let Some(v @ toml::Value::Table(_)) = v else {
        return key.to_string();
    };
    let mut hits = Vec::new();
    find_quoted(v, key, &q, &mut hits);
    match hits.as_slice() {
        [one] => one.clone(),
        _ => key.to_string(),
    }
}

/// The key as written in the file: a service's own section is under
/// `services.<name>`.
pub(super) fn relocate(own: &Option<(String, Vec<String>)>, key: String) -> String {
    match own {
        Some((prefix, sections))
            if sections
                .iter()
                .any(|s| key == *s || key.starts_with(&format!("{s}."))) =>
        {
            format!("{prefix}.{key}")
        }
        _ => key,
    }
}

/// Adds the line of `key` in the file (unless an override set it).
pub(super) fn locate(
    text: &str,
    overridden: &[String],
    key: String,
    message: String,
) -> ScenarioError {
    // An error at or inside an overridden key comes from --set; an error on
    // a table that merely contains an overridden key is located in the file.
    let set_by_override = overridden
        .iter()
        .any(|o| key == *o || key.starts_with(&format!("{o}.")));
    let line = if set_by_override {
        None
    } else {
        line_of_key(text, &key)
    };
    let message = if set_by_override {
        format!("{message} (value from --set)")
    } else {
        message
    };
    ScenarioError::Invalid { key, line, message }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_errors_in_tagged_tables_name_the_value() {
        let t: toml::Table = toml::from_str(
            "[load]\nkind = \"constant\"\nrps = \"abc\"\n[w]\nd = { dist = \"exponential\", mean = true }\n[p]\na = -3\nb = -3\n",
        )
        .unwrap();
        let m = "invalid type: string \"abc\", expected f64";
        assert_eq!(refine_key(&t, "load", m), "load.rps");
        assert_eq!(
            refine_key(&t, "w.d", "invalid type: boolean `true`, expected f64"),
            "w.d.mean"
        );
        let arr: toml::Table = toml::from_str("[p]\nt = [\"a\", 2]\nn = 2\n").unwrap();
        assert_eq!(
            refine_key(&arr, "p", "invalid type: integer `2`, expected a string"),
            "p"
        );
        // Ambiguous or unquoted: the table stays named.
        assert_eq!(
            refine_key(&t, "p", "invalid value: integer `-3`, expected u32"),
            "p"
        );
        assert_eq!(refine_key(&t, "load", "missing field `rps`"), "load");
    }

    #[test]
    fn line_and_column() {
        let t = "a = 1\nb = 2\n";
        assert_eq!(line_col(t, 0), (1, 1));
        assert_eq!(line_col(t, 6), (2, 1));
        assert_eq!(line_col(t, 8), (2, 3));
        assert_eq!(line_of_key("x = 1\n[load]\nrps = 3\n", "load.rps"), Some(3));
        assert_eq!(line_of_key("x = 1\n[load]\nrps = 3\n", "load"), Some(2));
    }
}
