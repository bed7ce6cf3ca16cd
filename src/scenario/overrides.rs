//! `--set dotted.path=value` overrides, applied to the TOML tree before it is
//! checked, so an override is validated exactly like the file it changes.
//!
//! The value is read as a TOML value when it is one (`800`, `0.5`, `true`,
//! `"text"`, `[1, 2]`, `{ dist = "exponential", mean = 5 }`) and as a plain
//! string otherwise (`2h`, `round_robin`).

use crate::error::ScenarioError;

/// Parses the value part of an override.
pub fn parse_value(raw: &str) -> toml::Value {
    let raw = raw.trim();
    match toml::from_str::<toml::Table>(&format!("v = {raw}")) {
        Ok(mut t) => t
            .remove("v")
            .unwrap_or_else(|| toml::Value::String(raw.to_string())),
        Err(_) => toml::Value::String(raw.to_string()),
    }
}

/// Applies one `key=value` override to a TOML table.
pub fn apply(table: &mut toml::Table, arg: &str) -> Result<(), ScenarioError> {
    let err = |message: String| ScenarioError::Override {
        arg: crate::input::excerpt(arg, 80),
        message,
    };
    let (key, raw) = arg
        .split_once('=')
        .ok_or_else(|| err("expected key=value, e.g. --set load.rps=800".into()))?;
    let key = key.trim();
    let segments: Vec<&str> = key.split('.').collect();
    if segments.iter().any(|s| s.is_empty()) {
        return Err(err(format!(
            "\"{}\" is not a dotted key like load.rps",
            crate::input::excerpt(key, 80)
        )));
    }
    // No scenario key is deeper than a few tables; a deep one would only
    // build nested tables until the stack ran out.
    if segments.len() > 16 {
        return Err(err(format!(
            "a key has at most 16 dotted parts, this one {}",
            segments.len()
        )));
    }
    set_path(table, &segments, parse_value(raw)).map_err(err)
}

/// Sets `value` at `path`, creating intermediate tables.
pub fn set_path(table: &mut toml::Table, path: &[&str], value: toml::Value) -> Result<(), String> {
    let mut t = table;
    for (i, seg) in path[..path.len() - 1].iter().enumerate() {
        let entry = t
            .entry(seg.to_string())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        t = match entry {
            toml::Value::Table(inner) => inner,
            other => {
                return Err(format!(
                    "`{}` is a {}, not a table, so it has no key `{}`",
                    path[..=i].join("."),
                    other.type_str(),
                    path[i + 1]
                ));
            }
        };
    }
    t.insert(path[path.len() - 1].to_string(), value);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_typed_when_they_parse_as_toml() {
        assert_eq!(parse_value("800"), toml::Value::Integer(800));
        assert_eq!(parse_value("0.5"), toml::Value::Float(0.5));
        assert_eq!(parse_value("2h"), toml::Value::String("2h".into()));
        assert_eq!(parse_value("\"x y\""), toml::Value::String("x y".into()));
        assert!(parse_value("[1, 2]").is_array());
    }

    #[test]
    fn nested_paths() {
        let mut t: toml::Table = toml::from_str("[load]\nkind = \"constant\"\nrps = 5\n").unwrap();
        apply(&mut t, "load.rps=800").unwrap();
        apply(&mut t, "slo.p99_ms=250").unwrap();
        assert_eq!(t["load"]["rps"], toml::Value::Integer(800));
        assert_eq!(t["slo"]["p99_ms"], toml::Value::Integer(250));
        let e = apply(&mut t, "load.rps.x=1").unwrap_err().to_string();
        assert!(e.contains("load.rps") && e.contains("not a table"), "{e}");
        assert!(apply(&mut t, "nonsense").is_err());
    }
}
