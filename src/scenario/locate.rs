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
    // An item of a list (`a.b[2]`, as serde writes paths) is on the list's line.
    let key = key.split('[').next().unwrap_or(key);
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
    /// `invalid type: map, …`: a table where something else was expected.
    Table,
    /// `invalid type: sequence, …`: a list where something else was expected.
    Array,
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
    if rest.starts_with("map, expected") {
        return Some(Quoted::Table);
    }
    if rest.starts_with("sequence, expected") {
        return Some(Quoted::Array);
    }
    None
}

fn matches_quoted(v: &toml::Value, q: &Quoted) -> bool {
    match (v, q) {
        (toml::Value::String(s), Quoted::Str(x)) => s == x,
        (toml::Value::Integer(i), Quoted::Int(x)) => i == x,
        (toml::Value::Float(f), Quoted::Float(x)) => f == x,
        (toml::Value::Boolean(b), Quoted::Bool(x)) => b == x,
        // A date is read as its text.
        (toml::Value::Datetime(d), Quoted::Str(x)) => d.to_string() == *x,
        (toml::Value::Table(_), Quoted::Table) | (toml::Value::Array(_), Quoted::Array) => true,
        _ => false,
    }
}

fn find_quoted(v: &toml::Value, path: &str, q: &Quoted, hits: &mut Vec<String>) {
    // A value inside an array counts as the array's key: with another
    // match elsewhere the error stays on the table.
    let children: Vec<(String, &toml::Value)> = match v {
        toml::Value::Table(t) => t.iter().map(|(k, x)| (format!("{path}.{k}"), x)).collect(),
        toml::Value::Array(a) => a.iter().map(|x| (path.to_string(), x)).collect(),
        _ => return,
    };
    for (p, x) in children {
        if matches_quoted(x, q) && !hits.contains(&p) {
            hits.push(p.clone());
        }
        find_quoted(x, &p, q, hits);
    }
}

/// The value at a dotted key (with `[i]` for a list's items, as serde
/// writes paths), if the table has it.
pub(super) fn value_at<'a>(root: &'a toml::Table, key: &str) -> Option<&'a toml::Value> {
    let mut v: Option<&toml::Value> = None;
    for seg in key.split('.') {
        let mut parts = seg.split('[');
        let name = parts.next()?;
        v = Some(match v {
            None => root.get(name)?,
            Some(toml::Value::Table(t)) => t.get(name)?,
            Some(_) => return None,
        });
        for index in parts {
            let i: usize = index.strip_suffix(']')?.parse().ok()?;
            v = Some(match v {
                Some(toml::Value::Array(a)) => a.get(i)?,
                _ => return None,
            });
        }
    }
    v
}

/// The keys inside the table at `key` holding the value a type error quotes
/// (or any table or list, for `invalid type: map`/`sequence`).
fn candidates(root: &toml::Table, key: &str, message: &str) -> Vec<String> {
    let Some(q) = quoted_value(message) else {
        return Vec::new();
    };
    let Some(v @ toml::Value::Table(_)) = value_at(root, key) else {
        return Vec::new();
    };
    let mut hits = Vec::new();
    find_quoted(v, key, &q, &mut hits);
    hits
}

/// Serde reports type errors inside tagged tables (`[load]`, `[platform]`,
/// distributions) at the table. When the message quotes the bad value and
/// exactly one value in that table is it, the error names that value's key.
pub(super) fn refine_key(root: &toml::Table, key: &str, message: &str) -> String {
    match candidates(root, key, message).as_slice() {
        [one] => one.clone(),
        _ => key.to_string(),
    }
}

/// [`refine_key`], and otherwise — several values of the table could be
/// the bad one, or the message quotes none (a custom message, an unknown
/// field) — the deepest key whose removal changes the error (`error_of`
/// gives the error a table has, if any). Still ambiguous: the table.
pub(super) fn refine_key_with(
    root: &toml::Table,
    key: &str,
    message: &str,
    error_of: impl Fn(&toml::Table) -> Option<String>,
) -> String {
    let hits = candidates(root, key, message);
    if hits.len() == 1 {
        return refine_key(root, key, message);
    }
    let pool = if hits.is_empty() {
        let Some(v @ toml::Value::Table(_)) = value_at(root, key) else {
            return key.to_string();
        };
        let mut all = Vec::new();
        keys_inside(v, key, &mut all);
        // A tag (`kind`, `dist`, `type`) is named by serde itself when it
        // is wrong; removing it changes any error inside its table.
        all.retain(|k| {
            !["kind", "dist", "type"]
                .iter()
                .any(|tag| *k == format!("{key}.{tag}"))
        });
        all
    } else {
        hits
    };
    let before = error_of(root);
    let culprits: Vec<&String> = pool
        .iter()
        .filter(|h| {
            let mut t = root.clone();
            remove_at(&mut t, h) && error_of(&t) != before
        })
        .collect();
    // Removing a table removes what is wrong inside it: the deepest wins.
    let deepest: Vec<&&String> = culprits
        .iter()
        .filter(|c| !culprits.iter().any(|d| d.starts_with(&format!("{c}."))))
        .collect();
    match deepest.as_slice() {
        [one] => (**one).clone(),
        _ => key.to_string(),
    }
}

/// Every dotted key inside a table, nested tables and their keys alike
/// (a list counts as one value).
fn keys_inside(v: &toml::Value, path: &str, out: &mut Vec<String>) {
    if let toml::Value::Table(t) = v {
        for (k, x) in t {
            let p = format!("{path}.{k}");
            out.push(p.clone());
            keys_inside(x, &p, out);
        }
    }
}

/// Removes the value at a dotted key; whether it was there.
fn remove_at(root: &mut toml::Table, key: &str) -> bool {
    let mut t = root;
    let segs: Vec<&str> = key.split('.').collect();
    for seg in &segs[..segs.len() - 1] {
        t = match t.get_mut(*seg) {
            Some(toml::Value::Table(inner)) => inner,
            _ => return false,
        };
    }
    t.remove(segs[segs.len() - 1]).is_some()
}

/// What serde says it expected, in the user's terms: no Rust type names.
/// `variants`: the names an enum accepts, when they are known.
fn expected_in_user_terms(
    expected: &str,
    variants: Option<&str>,
    found: Option<&toml::Value>,
) -> String {
    let names = || variants.map_or("a name in quotes".to_string(), str::to_string);
    // The range of a bounded whole number is said when the value is out of it.
    let whole = |lo: i64, hi: i64| match found {
        Some(toml::Value::Integer(i)) if *i > hi || (*i < lo && lo < 0) => {
            format!("a whole number from {lo} to {hi}")
        }
        _ if lo == 0 => "a whole number ≥ 0".to_string(),
        _ => "a whole number".to_string(),
    };
    match expected.trim() {
        "f64" | "f32" => "a number".into(),
        "u8" => whole(0, u8::MAX.into()),
        "u16" => whole(0, u16::MAX.into()),
        "u32" => whole(0, u32::MAX.into()),
        "u64" | "u128" | "usize" => "a whole number ≥ 0".into(),
        "i8" => whole(i8::MIN.into(), i8::MAX.into()),
        "i16" => whole(i16::MIN.into(), i16::MAX.into()),
        "i32" => whole(i32::MIN.into(), i32::MAX.into()),
        "i64" | "i128" | "isize" => "a whole number".into(),
        // A table given as a list: serde reads a table's keys from a list's items.
        "fewer elements in array" => "a table".into(),
        "a sequence" | "sequence" => "a list".into(),
        "a map" | "map" => "a table".into(),
        "a boolean" | "bool" => "true or false".into(),
        "a borrowed string" | "a string" | "string" | "a character" => "a string in quotes".into(),
        // Enums: toml's words for a name, serde's for a tag.
        "variant identifier" | "string only" | "string or map" | "unit variant" => names(),
        "internally tagged enum DistSpec" => {
            "a distribution table such as { dist = \"exponential\", mean = 20 }".into()
        }
        "internally tagged enum LoadSpec" => {
            "a [load] table with a kind, such as kind = \"constant\" and rps = 100".into()
        }
        "internally tagged enum PlatformSpec" => {
            "a [platform] table with a kind, such as kind = \"fargate\"".into()
        }
        "internally tagged enum Constraint" => {
            "a placement constraint such as { type = \"distinctInstance\" }".into()
        }
        "adjacently tagged enum Strategy" => {
            "a placement strategy such as { type = \"spread\", field = \"instanceId\" }".into()
        }
        e if e.starts_with("struct ") || e.contains("enum ") || e.starts_with("a table") => {
            "a table".into()
        }
        e if e.starts_with("tuple") || e.starts_with("an array") => "a list".into(),
        e if e.starts_with("option") => "a value".into(),
        other => other.to_string(),
    }
}

/// A value as a user wrote it (scalars) or its kind (tables, lists).
fn written(v: &toml::Value) -> String {
    match v {
        toml::Value::Table(_) => "a table".into(),
        toml::Value::Array(_) => "a list".into(),
        other => other.to_string(),
    }
}

/// What serde says it found, in the user's terms; `found` is the value at
/// the key, when it is known.
fn found_in_user_terms(unexpected: &str, found: Option<&toml::Value>) -> String {
    let tick = |r: &str| r.strip_suffix('`').map(str::to_string);
    if let Some(v) = unexpected
        .strip_prefix("boolean `")
        .or_else(|| unexpected.strip_prefix("integer `"))
        .or_else(|| unexpected.strip_prefix("floating point `"))
        .and_then(tick)
    {
        return v;
    }
    if unexpected.starts_with("string \"") {
        return unexpected["string ".len()..].to_string();
    }
    match unexpected {
        "sequence" => "a list".into(),
        "map" => "a table".into(),
        "unit value" => "nothing".into(),
        other => found.map_or_else(|| other.to_string(), written),
    }
}

/// A serde message in the user's terms: `invalid type: map, expected f64`
/// becomes `expected a number, got a table`; Rust type names never reach
/// the user. `found` is the value at the key the message is about, when
/// known; `variants` the names an enum there accepts, when known.
pub(super) fn user_terms(
    message: &str,
    found: Option<&toml::Value>,
    variants: Option<&str>,
) -> String {
    let message = message.trim();
    if let Some(rest) = message
        .strip_prefix("invalid type: ")
        .or_else(|| message.strip_prefix("invalid value: "))
    {
        // A quoted string may itself hold ", expected ".
        let split = if rest.starts_with("string \"") {
            rest.find("\", expected ").map(|i| i + 1)
        } else {
            rest.find(", expected ")
        };
        if let Some(i) = split {
            let (unexpected, expected) = (&rest[..i], &rest[i + ", expected ".len()..]);
            return format!(
                "expected {}, got {}",
                expected_in_user_terms(expected, variants, found),
                found_in_user_terms(unexpected, found)
            );
        }
    }
    if let Some(rest) = message.strip_prefix("invalid length ")
        && let Some((n, expected)) = rest.split_once(", expected ")
    {
        return format!(
            "expected {}, got {}",
            expected_in_user_terms(expected, variants, found),
            found.map_or_else(|| format!("{n} value(s)"), written)
        );
    }
    // A table or list given where a name is expected: toml reads a table
    // of one key as an enum's variant.
    if let Some(rest) = message.strip_prefix("unknown variant `")
        && let Some(v @ (toml::Value::Table(_) | toml::Value::Array(_))) = found
        && let Some((_, expected)) = rest.split_once(", expected ")
    {
        return format!("expected {expected} (a name in quotes), got {}", written(v));
    }
    if let Some(name) = message.strip_prefix("data did not match any variant of untagged enum ") {
        return match name {
            "ColumnRef" => "expected a column name in quotes or a 0-based column number".into(),
            _ => format!(
                "the value has none of the accepted forms{}",
                found.map_or(String::new(), |v| format!(", got {}", written(v)))
            ),
        };
    }
    message.to_string()
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
    fn tables_lists_and_dates_are_found_too() {
        let t: toml::Table = toml::from_str(
            "[load]\nkind = \"constant\"\nrps = { a = 1 }\nx = 2\n[p]\nd = 1979-05-27\n",
        )
        .unwrap();
        assert_eq!(
            refine_key(&t, "load", "invalid type: map, expected f64"),
            "load.rps"
        );
        assert_eq!(
            refine_key(&t, "p", "invalid type: string \"1979-05-27\", expected f64"),
            "p.d"
        );
        assert_eq!(
            refine_key(&t, "load", "invalid type: sequence, expected f64"),
            "load"
        );
    }

    #[test]
    fn ambiguity_is_settled_by_what_removing_a_value_changes() {
        // Two `true`s: the one whose removal changes the error is the bad one.
        let t: toml::Table = toml::from_str("[p]\nkind = \"k\"\na = true\nb = true\n").unwrap();
        let m = "invalid type: boolean `true`, expected u32";
        let error_of = |t: &toml::Table| {
            let b = value_at(t, "p.b").is_some();
            b.then(|| m.to_string())
        };
        assert_eq!(refine_key(&t, "p", m), "p");
        assert_eq!(refine_key_with(&t, "p", m, error_of), "p.b");
        // A message quoting nothing: every key inside is tried, the tag
        // aside, and the deepest culprit wins.
        let t: toml::Table =
            toml::from_str("[p]\nkind = \"k\"\nc = { d = \"x\", e = 1 }\n").unwrap();
        let error_of =
            |t: &toml::Table| value_at(t, "p.c.d").map(|_| "a duration needs a unit".to_string());
        assert_eq!(
            refine_key_with(&t, "p", "a duration needs a unit", error_of),
            "p.c.d"
        );
    }

    #[test]
    fn serde_messages_in_user_terms() {
        let none = |m: &str| user_terms(m, None, None);
        assert_eq!(
            none("invalid type: map, expected f64"),
            "expected a number, got a table"
        );
        assert_eq!(
            none("invalid value: integer `-3`, expected u32"),
            "expected a whole number ≥ 0, got -3"
        );
        assert_eq!(
            user_terms(
                "invalid value: integer `5000000000`, expected u32",
                Some(&toml::Value::Integer(5_000_000_000)),
                None
            ),
            "expected a whole number from 0 to 4294967295, got 5000000000"
        );
        assert_eq!(
            none("invalid type: string \"a, expected b\", expected a sequence"),
            "expected a list, got \"a, expected b\""
        );
        assert_eq!(
            none("invalid type: floating point `1.5`, expected i64"),
            "expected a whole number, got 1.5"
        );
        assert_eq!(
            none("invalid type: boolean `true`, expected a map"),
            "expected a table, got true"
        );
        assert!(
            none("invalid type: integer `3`, expected internally tagged enum DistSpec")
                .starts_with("expected a distribution table such as { dist = \"exponential\"")
        );
        assert!(
            none("invalid type: string \"x\", expected internally tagged enum LoadSpec")
                .starts_with("expected a [load] table with a kind")
        );
        assert!(
            none("invalid type: string \"x\", expected internally tagged enum PlatformSpec")
                .starts_with("expected a [platform] table with a kind")
        );
        assert_eq!(
            none("invalid type: string \"x\", expected struct SloSpec"),
            "expected a table, got \"x\""
        );
        assert_eq!(
            user_terms(
                "invalid type: unit variant, expected string only",
                Some(&toml::Value::Boolean(true)),
                Some("`warm` or `cold`")
            ),
            "expected `warm` or `cold`, got true"
        );
        assert_eq!(
            none("invalid type: integer `2`, expected variant identifier"),
            "expected a name in quotes, got 2"
        );
        assert_eq!(
            user_terms(
                "unknown variant `zz`, expected `warm` or `cold`",
                Some(&toml::Value::Table(toml::Table::new())),
                None
            ),
            "expected `warm` or `cold` (a name in quotes), got a table"
        );
        // Messages already in the user's terms pass through.
        for m in [
            "missing field `rps`",
            "unknown field `rsp`, expected one of `rps`",
            "unknown variant `x`, expected `warm` or `cold`",
            "a duration needs a unit: write \"5s\" or \"5ms\", not 5",
        ] {
            assert_eq!(none(m), m);
        }
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
