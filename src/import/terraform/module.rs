//! Reading a Terraform module: its `.tf` files (hcl-rs), or `terraform
//! show -json` output; variables, `.tfvars`, locals and the functions
//! capsim evaluates; placeholders for what only an apply knows.

use super::*;

pub(super) const UNRESOLVED: &str = "<unresolved: ";

pub(super) struct Resource {
    pub(super) kind: String,
    pub(super) name: String,
    pub(super) body: Body,
    pub(super) file: String,
    pub(super) line: usize,
}

pub(super) fn err(file: &Path, m: impl Into<String>) -> Error {
    Error::Import {
        file: file.to_path_buf(),
        message: m.into(),
    }
}

pub(super) fn label(b: &Block, i: usize) -> String {
    b.labels
        .get(i)
        .map(|l| l.as_str().to_string())
        .unwrap_or_default()
}

/// The line of `resource "kind" "name"` in `text` (1-based), or 0.
pub(super) fn line_of(text: &str, kind: &str, name: &str) -> usize {
    let want = [kind, name];
    text.lines()
        .position(|l| {
            let t = l.trim_start();
            t.starts_with("resource") && want.iter().all(|w| t.contains(&format!("\"{w}\"")))
        })
        .map_or(0, |i| i + 1)
}

/// The line of attribute `key` inside the resource starting at `from`.
pub(super) fn attr_line(text: &str, from: usize, key: &str) -> usize {
    text.lines()
        .enumerate()
        .skip(from.saturating_sub(1))
        .find(|(_, l)| {
            let t = l.trim_start();
            t.starts_with(key) && t[key.len()..].trim_start().starts_with('=')
        })
        .map_or(from, |(i, _)| i + 1)
}

pub(super) fn jsonencode(args: FuncArgs) -> Result<Value, String> {
    serde_json::to_string(&args[0])
        .map(Value::String)
        .map_err(|e| e.to_string())
}

pub(super) fn tostring(args: FuncArgs) -> Result<Value, String> {
    Ok(Value::String(match &args[0] {
        Value::String(s) => s.clone(),
        v => v.to_string(),
    }))
}

pub(super) fn tonumber(args: FuncArgs) -> Result<Value, String> {
    match &args[0] {
        Value::Number(n) => Ok(Value::Number(*n)),
        Value::String(s) => s
            .parse::<f64>()
            .ok()
            .and_then(hcl::Number::from_f64)
            .map(Value::Number)
            .ok_or_else(|| format!("tonumber: \"{s}\" is not a number")),
        v => Err(format!("tonumber: {v} is not a number")),
    }
}

pub(super) fn extreme(args: FuncArgs, max: bool) -> Result<Value, String> {
    let mut best: Option<f64> = None;
    for a in args.iter() {
        let v = a.as_f64().ok_or_else(|| format!("{a} is not a number"))?;
        best = Some(match best {
            Some(b) if (b >= v) == max => b,
            _ => v,
        });
    }
    best.and_then(hcl::Number::from_f64)
        .map(Value::Number)
        .ok_or_else(|| "no argument".to_string())
}

pub(super) fn max(args: FuncArgs) -> Result<Value, String> {
    extreme(args, true)
}

pub(super) fn min(args: FuncArgs) -> Result<Value, String> {
    extreme(args, false)
}

pub(super) fn lookup(args: FuncArgs) -> Result<Value, String> {
    match (&args[0], &args[1]) {
        (Value::Object(m), Value::String(k)) => Ok(m
            .get(k)
            .cloned()
            .or_else(|| args.get(2).cloned())
            .unwrap_or(Value::Null)),
        _ => Err("lookup(map, key, default)".into()),
    }
}

pub(super) fn functions(ctx: &mut Context) {
    ctx.declare_func(
        "jsonencode",
        FuncDef::builder().param(ParamType::Any).build(jsonencode),
    );
    ctx.declare_func(
        "tostring",
        FuncDef::builder().param(ParamType::Any).build(tostring),
    );
    ctx.declare_func(
        "tonumber",
        FuncDef::builder().param(ParamType::Any).build(tonumber),
    );
    ctx.declare_func(
        "max",
        FuncDef::builder().variadic_param(ParamType::Any).build(max),
    );
    ctx.declare_func(
        "min",
        FuncDef::builder().variadic_param(ParamType::Any).build(min),
    );
    ctx.declare_func(
        "lookup",
        FuncDef::builder()
            .param(ParamType::Any)
            .param(ParamType::Any)
            .variadic_param(ParamType::Any)
            .build(lookup),
    );
}

/// Every `root.a.b…` reference in `e` whose root is not `var` or `local`
/// (a resource, a data source, a module): (root, attributes).
pub(super) fn references(e: &Expression, out: &mut Vec<Vec<String>>) {
    use hcl::expr::TraversalOperator;
    match e {
        Expression::Traversal(t) => {
            if let Expression::Variable(v) = &t.expr {
                let mut path = vec![v.as_str().to_string()];
                for op in &t.operators {
                    match op {
                        TraversalOperator::GetAttr(a) => path.push(a.as_str().to_string()),
                        _ => break,
                    }
                }
                if !matches!(path[0].as_str(), "var" | "local" | "count" | "each") && path.len() > 1
                {
                    out.push(path);
                }
            } else {
                references(&t.expr, out);
            }
            for op in &t.operators {
                if let TraversalOperator::Index(i) = op {
                    references(i, out);
                }
            }
        }
        Expression::Array(a) => a.iter().for_each(|x| references(x, out)),
        Expression::Object(o) => o.values().for_each(|x| references(x, out)),
        Expression::TemplateExpr(t) => {
            if let Ok(tpl) = hcl::Template::from_expr(t) {
                for el in tpl.elements() {
                    if let hcl::template::Element::Interpolation(i) = el {
                        references(&i.expr, out);
                    }
                }
            }
        }
        Expression::FuncCall(f) => f.args.iter().for_each(|x| references(x, out)),
        Expression::Parenthesis(p) => references(p, out),
        Expression::Conditional(c) => {
            references(&c.cond_expr, out);
            references(&c.true_expr, out);
            references(&c.false_expr, out);
        }
        Expression::Operation(o) => match o.as_ref() {
            hcl::expr::Operation::Unary(u) => references(&u.expr, out),
            hcl::expr::Operation::Binary(b) => {
                references(&b.lhs_expr, out);
                references(&b.rhs_expr, out);
            }
        },
        _ => {}
    }
}

pub(super) fn body_references(b: &Body, out: &mut Vec<Vec<String>>) {
    for s in b.iter() {
        match s {
            Structure::Attribute(a) => references(&a.expr, out),
            Structure::Block(bl) => body_references(&bl.body, out),
        }
    }
}

/// Sets `path` in the nested object `v` to a placeholder naming it.
pub(super) fn place(v: &mut hcl::Map<String, Value>, path: &[String], full: &str) {
    if path.len() == 1 {
        v.entry(path[0].clone())
            .or_insert_with(|| Value::String(format!("{UNRESOLVED}{full}>")));
        return;
    }
    let e = v
        .entry(path[0].clone())
        .or_insert_with(|| Value::Object(hcl::Map::new()));
    if let Value::Object(m) = e {
        place(m, &path[1..], full);
    }
}

/// A literal `--var` value: a number, a boolean, else a string.
pub(super) fn literal(s: &str) -> Value {
    if let Ok(i) = s.parse::<i64>() {
        return Value::from(i);
    }
    if let Ok(f) = s.parse::<f64>() {
        return Value::from(f);
    }
    match s {
        "true" => Value::Bool(true),
        "false" => Value::Bool(false),
        _ => Value::String(s.to_string()),
    }
}

pub(super) fn contains_unresolved(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => s.find(UNRESOLVED).map(|i| {
            let rest = &s[i + UNRESOLVED.len()..];
            rest.split('>').next().unwrap_or(rest).to_string()
        }),
        Value::Array(a) => a.iter().find_map(contains_unresolved),
        Value::Object(o) => o.values().find_map(contains_unresolved),
        _ => None,
    }
}

/// The module: its resources and an evaluation context.
pub(super) struct Module {
    pub(super) resources: Vec<Resource>,
    /// `provider "aws" { region = … }` and where it is written.
    pub(super) region: Option<(Expression, String)>,
    pub(super) ctx: Context<'static>,
    pub(super) texts: BTreeMap<String, String>,
    /// Variables with no value: (name, file, line).
    pub(super) missing_vars: Vec<(String, String, usize)>,
}

impl Module {
    /// The scenario's `seed`, `duration` and `region` (the provider's, when
    /// it evaluates) and the load and workload placeholders.
    pub(super) fn write_run(&self, w: &mut Writer) {
        let region = self
            .region
            .as_ref()
            .and_then(|(e, at)| Some((text(&e.evaluate(&self.ctx).ok()?)?, at.as_str())))
            .filter(|(r, _)| !r.contains(UNRESOLVED));
        w.run(
            region.as_ref().map(|(r, at)| (r.as_str(), *at)),
            "no provider \"aws\" region in the module",
        );
        w.load_placeholders();
    }
}

/// A resource's values from `terraform show -json` as an HCL body: an
/// array of objects is a nested block per object, the rest attributes.
pub(super) fn json_body(values: &serde_json::Map<String, serde_json::Value>) -> Body {
    use serde::Deserialize;
    let mut out = Vec::new();
    for (k, v) in values {
        match v {
            serde_json::Value::Array(items)
                if !items.is_empty() && items.iter().all(serde_json::Value::is_object) =>
            {
                for item in items {
                    let body = json_body(item.as_object().expect("checked"));
                    let mut b = hcl::Block::builder(k.as_str()).build();
                    b.body = body;
                    out.push(Structure::Block(b));
                }
            }
            serde_json::Value::Null => {}
            v => {
                if let Ok(value) = Value::deserialize(v.clone()) {
                    out.push(Structure::Attribute(hcl::Attribute::new(
                        k.as_str(),
                        Expression::from(value),
                    )));
                }
            }
        }
    }
    Body(out)
}

/// `terraform show -json` of a plan (`planned_values`) or a state
/// (`values`): its resources, child modules' included, values resolved
/// (what is known only after apply is absent).
pub(super) fn read_shown(opts: &Options) -> Result<Module, Error> {
    let f = &opts.path;
    let text = crate::input::read_text(f, crate::input::MAX_TEXT_BYTES).map_err(|m| err(f, m))?;
    let json: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
        err(
            f,
            format!(
                "line {}: not the JSON of `terraform show -json`: {e}",
                e.line()
            ),
        )
    })?;
    let root = json
        .get("planned_values")
        .or_else(|| json.get("values"))
        .and_then(|v| v.get("root_module"))
        .ok_or_else(|| {
            err(
                f,
                "no planned_values or values.root_module: not `terraform show -json` output",
            )
        })?;
    let fname = f.file_name().map_or_else(
        || f.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let mut resources = Vec::new();
    let mut stack = vec![root];
    while let Some(m) = stack.pop() {
        for r in m
            .get("resources")
            .and_then(|v| v.as_array())
            .into_iter()
            .flatten()
        {
            if r.get("mode").and_then(|v| v.as_str()) == Some("data") {
                continue;
            }
            let kind = r
                .get("type")
                .and_then(|v| v.as_str())
                .unwrap_or("")
                .to_string();
            let name = r
                .get("name")
                .and_then(|v| v.as_str())
                .unwrap_or("")
                .to_string();
            let address = r.get("address").and_then(|v| v.as_str()).unwrap_or("");
            let line = text
                .lines()
                .position(|l| {
                    l.contains(&format!("\"address\": \"{address}\""))
                        || l.contains(&format!("\"address\":\"{address}\""))
                })
                .map_or(0, |i| i + 1);
            let empty = serde_json::Map::new();
            let values = r
                .get("values")
                .and_then(|v| v.as_object())
                .unwrap_or(&empty);
            resources.push(Resource {
                kind,
                name,
                body: json_body(values),
                file: fname.clone(),
                line,
            });
        }
        for c in m
            .get("child_modules")
            .and_then(|v| v.as_array())
            .into_iter()
            .flatten()
        {
            stack.push(c);
        }
    }
    let mut ctx = Context::new();
    functions(&mut ctx);
    let mut texts = BTreeMap::new();
    texts.insert(fname, text);
    Ok(Module {
        resources,
        region: None,
        ctx,
        texts,
        missing_vars: Vec::new(),
    })
}

pub(super) fn read_module(opts: &Options) -> Result<Module, Error> {
    if opts.path.is_file() && opts.path.extension().is_some_and(|e| e == "json") {
        return read_shown(opts);
    }
    let files: Vec<PathBuf> = if opts.path.is_dir() {
        let mut v: Vec<PathBuf> = std::fs::read_dir(&opts.path)
            .map_err(|e| err(&opts.path, e.to_string()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "tf"))
            .collect();
        v.sort();
        v
    } else {
        vec![opts.path.clone()]
    };
    if files.is_empty() {
        return Err(err(&opts.path, "no .tf file"));
    }
    let mut resources = Vec::new();
    let mut defaults: BTreeMap<String, Option<Expression>> = BTreeMap::new();
    let mut var_lines: BTreeMap<String, (String, usize)> = BTreeMap::new();
    let mut locals: Vec<(String, Expression)> = Vec::new();
    let mut texts = BTreeMap::new();
    let mut refs = Vec::new();
    let mut region = None;
    for f in &files {
        let text =
            crate::input::read_text(f, crate::input::MAX_TEXT_BYTES).map_err(|m| err(f, m))?;
        let body = hcl::parse(&text).map_err(|e| err(f, format!("not valid HCL: {e}")))?;
        let fname = f.file_name().map_or_else(
            || f.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        body_references(&body, &mut refs);
        for s in body.into_inner() {
            let Structure::Block(b) = s else { continue };
            match b.identifier.as_str() {
                "resource" => {
                    let (kind, name) = (label(&b, 0), label(&b, 1));
                    let line = line_of(&text, &kind, &name);
                    resources.push(Resource {
                        kind,
                        name,
                        body: b.body,
                        file: fname.clone(),
                        line,
                    });
                }
                "variable" => {
                    let name = label(&b, 0);
                    let line = text
                        .lines()
                        .position(|l| {
                            l.trim_start().starts_with("variable")
                                && l.contains(&format!("\"{name}\""))
                        })
                        .map_or(0, |i| i + 1);
                    var_lines.insert(name.clone(), (fname.clone(), line));
                    let default = b
                        .body
                        .attributes()
                        .find(|a| a.key.as_str() == "default")
                        .map(|a| a.expr.clone());
                    defaults.insert(name, default);
                }
                "provider" if label(&b, 0) == "aws" && region.is_none() => {
                    if let Some(a) = b.body.attributes().find(|a| a.key.as_str() == "region") {
                        let line = text
                            .lines()
                            .position(|l| {
                                l.trim_start().starts_with("provider") && l.contains("\"aws\"")
                            })
                            .map_or(0, |i| i + 1);
                        region = Some((
                            a.expr.clone(),
                            format!("{fname}:{line}: provider \"aws\".region"),
                        ));
                    }
                }
                "locals" => {
                    for a in b.body.attributes() {
                        locals.push((a.key.as_str().to_string(), a.expr.clone()));
                    }
                }
                _ => {}
            }
        }
        texts.insert(fname, text);
    }
    let mut ctx = Context::new();
    functions(&mut ctx);
    // Everything only an apply knows: placeholders that name it.
    let mut roots: hcl::Map<String, Value> = hcl::Map::new();
    for r in &refs {
        place(&mut roots, r, &r.join("."));
    }
    for (k, v) in &roots {
        ctx.declare_var(k.clone(), v.clone());
    }
    // Variables: --var, then .tfvars (later files win), then defaults.
    let mut values: BTreeMap<String, Value> = BTreeMap::new();
    for vf in &opts.var_files {
        let text =
            crate::input::read_text(vf, crate::input::MAX_TEXT_BYTES).map_err(|m| err(vf, m))?;
        let body = hcl::parse(&text).map_err(|e| err(vf, format!("not valid HCL: {e}")))?;
        for a in body.attributes() {
            let v = a
                .expr
                .evaluate(&Context::new())
                .map_err(|e| err(vf, format!("{}: {e}", a.key.as_str())))?;
            values.insert(a.key.as_str().to_string(), v);
        }
    }
    for (k, v) in &opts.vars {
        values.insert(k.clone(), literal(v));
    }
    let mut var = hcl::Map::new();
    let mut missing_vars = Vec::new();
    for (name, default) in &defaults {
        let v = match (values.get(name), default) {
            (Some(v), _) => v.clone(),
            (None, Some(d)) => d.evaluate(&ctx).unwrap_or(Value::Null),
            (None, None) => {
                let (f, l) = var_lines.get(name).cloned().unwrap_or_default();
                missing_vars.push((name.clone(), f, l));
                Value::String(format!("{UNRESOLVED}var.{name}>"))
            }
        };
        var.insert(name.clone(), v);
    }
    ctx.declare_var("var", Value::Object(var));
    // Locals may use each other: evaluate until nothing more resolves.
    let mut local = hcl::Map::new();
    let mut left = locals;
    for _ in 0..=left.len() {
        ctx.declare_var("local", Value::Object(local.clone()));
        let before = left.len();
        left.retain(|(k, e)| match e.evaluate(&ctx) {
            Ok(v) => {
                local.insert(k.clone(), v);
                false
            }
            Err(_) => true,
        });
        if left.is_empty() || left.len() == before {
            break;
        }
    }
    for (k, _) in left {
        local.insert(k.clone(), Value::String(format!("{UNRESOLVED}local.{k}>")));
    }
    ctx.declare_var("local", Value::Object(local));
    // A resource's attributes the module itself decides (a capacity
    // provider's `name`, a cluster's) replace their placeholders; twice,
    // for references between them.
    for _ in 0..2 {
        for r in &resources {
            for a in r.body.attributes() {
                if let Ok(v) = a.expr.evaluate(&ctx)
                    && contains_unresolved(&v).is_none()
                    && let Some(Value::Object(by_name)) = roots.get_mut(&r.kind)
                    && let Some(Value::Object(attrs)) = by_name.get_mut(&r.name)
                    && attrs.contains_key(a.key.as_str())
                {
                    attrs.insert(a.key.as_str().to_string(), v);
                }
            }
        }
        for (k, v) in &roots {
            ctx.declare_var(k.clone(), v.clone());
        }
    }
    Ok(Module {
        resources,
        region,
        ctx,
        texts,
        missing_vars,
    })
}
