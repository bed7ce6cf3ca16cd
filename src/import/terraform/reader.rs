//! Reading one resource's attributes: evaluated in the module's context,
//! with the file, line and attribute they come from, placeholders noted.

use super::*;

/// What a resource's attribute evaluates to, with where it is.
pub(super) struct Reader<'m> {
    pub(super) m: &'m Module,
    pub(super) r: &'m Resource,
    pub(super) unresolved: Vec<String>,
}

impl Reader<'_> {
    pub(super) fn at(&self, key: &str) -> String {
        let text = self.m.texts.get(&self.r.file).map_or("", String::as_str);
        format!(
            "{}:{}: {}.{}.{key}",
            self.r.file,
            attr_line(text, self.r.line, key),
            self.r.kind,
            self.r.name
        )
    }

    pub(super) fn get_in(&mut self, body: &Body, key: &str, needed: bool) -> Option<Value> {
        let a = body.attributes().find(|a| a.key.as_str() == key)?;
        match a.expr.evaluate(&self.m.ctx) {
            Ok(v) => {
                if let Some(what) = contains_unresolved(&v) {
                    self.unresolved.push(format!(
                        "{}: {what} is known only once applied — {}",
                        self.at(key),
                        if needed {
                            "capsim needs it"
                        } else {
                            "capsim does not need it"
                        }
                    ));
                    if needed {
                        return None;
                    }
                }
                Some(v)
            }
            Err(e) => {
                self.unresolved
                    .push(format!("{}: cannot be evaluated ({e})", self.at(key)));
                None
            }
        }
    }

    pub(super) fn get(&mut self, key: &str, needed: bool) -> Option<Value> {
        let body = self.r.body.clone();
        self.get_in(&body, key, needed)
    }

    pub(super) fn blocks(&self, name: &str) -> Vec<Body> {
        self.r
            .body
            .blocks()
            .filter(|b| b.identifier.as_str() == name)
            .map(|b| b.body.clone())
            .collect()
    }
}

pub(super) fn num(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

pub(super) fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The resource a traversal names (`aws_x.name.attr` → `name`), if any.
pub(super) fn target_of(body: &Body, key: &str, kind: &str) -> Option<String> {
    let a = body.attributes().find(|a| a.key.as_str() == key)?;
    let mut refs = Vec::new();
    references(&a.expr, &mut refs);
    refs.into_iter()
        .find(|p| p[0] == kind && p.len() > 1)
        .map(|p| p[1].clone())
}
