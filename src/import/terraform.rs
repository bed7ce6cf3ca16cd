//! `capsim import terraform`: a scenario from a Terraform module's `.tf`
//! files (parsed with hcl-rs). What can be evaluated is evaluated:
//! literals, `var.*` (their defaults, `.tfvars` files and `--var`),
//! `local.*`, `jsonencode(...)` and a few functions, string templates.
//! References to what only exists once applied (an ECR repository's URL,
//! a role's ARN, a subnet) become marked placeholders and are listed with
//! their file and line, saying whether capsim needs them.
//!
//! Read: `aws_ecs_task_definition` (cpu, memory, container definitions,
//! runtime platform, network mode, ephemeral storage) — written out as a
//! task definition JSON the scenario references —, `aws_ecs_service`
//! (desired count, launch type or capacity provider strategy, deployment
//! percentages, placement), `aws_appautoscaling_target` and its
//! `aws_appautoscaling_policy` target-tracking policies. Everything else
//! is listed as not needed.

use super::{Imported, Writer};
use crate::error::Error;
use hcl::eval::{Context, Evaluate, FuncArgs, FuncDef, ParamType};
use hcl::{Block, Body, Expression, Structure, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// What to import.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// A module folder (its `*.tf`) or one `.tf` file.
    pub path: PathBuf,
    /// `--var name=value`.
    pub vars: Vec<(String, String)>,
    /// `--var-file`s, in order.
    pub var_files: Vec<PathBuf>,
    /// The `aws_ecs_service` to import (its resource name or `name`)
    /// when the module has several.
    pub service: Option<String>,
}

/// A scenario and the task definition JSON it references.
#[derive(Debug, Clone)]
pub struct TerraformImport {
    /// The scenario.
    pub scenario: Imported,
    /// The task definition (`register-task-definition` JSON).
    pub task_definition: serde_json::Value,
}

const UNRESOLVED: &str = "<unresolved: ";

struct Resource {
    kind: String,
    name: String,
    body: Body,
    file: String,
    line: usize,
}

fn err(file: &Path, m: impl Into<String>) -> Error {
    Error::Import {
        file: file.to_path_buf(),
        message: m.into(),
    }
}

fn label(b: &Block, i: usize) -> String {
    b.labels
        .get(i)
        .map(|l| l.as_str().to_string())
        .unwrap_or_default()
}

/// The line of `resource "kind" "name"` in `text` (1-based), or 0.
fn line_of(text: &str, kind: &str, name: &str) -> usize {
    let want = [kind, name];
    text.lines()
        .position(|l| {
            let t = l.trim_start();
            t.starts_with("resource") && want.iter().all(|w| t.contains(&format!("\"{w}\"")))
        })
        .map_or(0, |i| i + 1)
}

/// The line of attribute `key` inside the resource starting at `from`.
fn attr_line(text: &str, from: usize, key: &str) -> usize {
    text.lines()
        .enumerate()
        .skip(from.saturating_sub(1))
        .find(|(_, l)| {
            let t = l.trim_start();
            t.starts_with(key) && t[key.len()..].trim_start().starts_with('=')
        })
        .map_or(from, |(i, _)| i + 1)
}

fn jsonencode(args: FuncArgs) -> Result<Value, String> {
    serde_json::to_string(&args[0])
        .map(Value::String)
        .map_err(|e| e.to_string())
}

fn tostring(args: FuncArgs) -> Result<Value, String> {
    Ok(Value::String(match &args[0] {
        Value::String(s) => s.clone(),
        v => v.to_string(),
    }))
}

fn tonumber(args: FuncArgs) -> Result<Value, String> {
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

fn extreme(args: FuncArgs, max: bool) -> Result<Value, String> {
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

fn max(args: FuncArgs) -> Result<Value, String> {
    extreme(args, true)
}

fn min(args: FuncArgs) -> Result<Value, String> {
    extreme(args, false)
}

fn lookup(args: FuncArgs) -> Result<Value, String> {
    match (&args[0], &args[1]) {
        (Value::Object(m), Value::String(k)) => Ok(m
            .get(k)
            .cloned()
            .or_else(|| args.get(2).cloned())
            .unwrap_or(Value::Null)),
        _ => Err("lookup(map, key, default)".into()),
    }
}

fn functions(ctx: &mut Context) {
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
fn references(e: &Expression, out: &mut Vec<Vec<String>>) {
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

fn body_references(b: &Body, out: &mut Vec<Vec<String>>) {
    for s in b.iter() {
        match s {
            Structure::Attribute(a) => references(&a.expr, out),
            Structure::Block(bl) => body_references(&bl.body, out),
        }
    }
}

/// Sets `path` in the nested object `v` to a placeholder naming it.
fn place(v: &mut hcl::Map<String, Value>, path: &[String], full: &str) {
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
fn literal(s: &str) -> Value {
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

fn contains_unresolved(v: &Value) -> Option<String> {
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
struct Module {
    resources: Vec<Resource>,
    /// `provider "aws" { region = … }` and where it is written.
    region: Option<(Expression, String)>,
    ctx: Context<'static>,
    texts: BTreeMap<String, String>,
    /// Variables with no value: (name, file, line).
    missing_vars: Vec<(String, String, usize)>,
}

/// A resource's values from `terraform show -json` as an HCL body: an
/// array of objects is a nested block per object, the rest attributes.
fn json_body(values: &serde_json::Map<String, serde_json::Value>) -> Body {
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
fn read_shown(opts: &Options) -> Result<Module, Error> {
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

fn read_module(opts: &Options) -> Result<Module, Error> {
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

/// What a resource's attribute evaluates to, with where it is.
struct Reader<'m> {
    m: &'m Module,
    r: &'m Resource,
    unresolved: Vec<String>,
}

impl Reader<'_> {
    fn at(&self, key: &str) -> String {
        let text = self.m.texts.get(&self.r.file).map_or("", String::as_str);
        format!(
            "{}:{}: {}.{}.{key}",
            self.r.file,
            attr_line(text, self.r.line, key),
            self.r.kind,
            self.r.name
        )
    }

    fn get_in(&mut self, body: &Body, key: &str, needed: bool) -> Option<Value> {
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

    fn get(&mut self, key: &str, needed: bool) -> Option<Value> {
        let body = self.r.body.clone();
        self.get_in(&body, key, needed)
    }

    fn blocks(&self, name: &str) -> Vec<Body> {
        self.r
            .body
            .blocks()
            .filter(|b| b.identifier.as_str() == name)
            .map(|b| b.body.clone())
            .collect()
    }
}

fn num(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The resource a traversal names (`aws_x.name.attr` → `name`), if any.
fn target_of(body: &Body, key: &str, kind: &str) -> Option<String> {
    let a = body.attributes().find(|a| a.key.as_str() == key)?;
    let mut refs = Vec::new();
    references(&a.expr, &mut refs);
    refs.into_iter()
        .find(|p| p[0] == kind && p.len() > 1)
        .map(|p| p[1].clone())
}

/// The EC2 side of an ECS service: its capacity provider (named in the
/// service's strategy, else the module's only one), that provider's Auto
/// Scaling group and launch template — instance types (a mixed-instances
/// policy's overrides, or the launch template's type), sizes, on-demand
/// base and percentage, Spot allocation — and managed scaling.
fn ec2_cluster(
    m: &Module,
    svc: &Resource,
    w: &mut Writer,
    ignored: &mut Vec<String>,
    unresolved: &mut Vec<String>,
) {
    let of =
        |kind: &str| -> Vec<&Resource> { m.resources.iter().filter(|r| r.kind == kind).collect() };
    let find = |kind: &str, name: Option<String>| -> Option<&Resource> {
        let all = of(kind);
        name.and_then(|n| all.iter().copied().find(|r| r.name == n))
            .or(if all.len() == 1 { Some(all[0]) } else { None })
    };
    let cp_name = svc
        .body
        .blocks()
        .filter(|b| b.identifier.as_str() == "capacity_provider_strategy")
        .find_map(|b| target_of(&b.body, "capacity_provider", "aws_ecs_capacity_provider"));
    let Some(cp) = find("aws_ecs_capacity_provider", cp_name) else {
        w.raw(
            "instance_types",
            "[\"m5.large\"]",
            "PLACEHOLDER: no aws_ecs_capacity_provider in the module",
        );
        return;
    };
    let mut c = Reader {
        m,
        r: cp,
        unresolved: Vec::new(),
    };
    let provider = c.blocks("auto_scaling_group_provider").into_iter().next();
    let asg_name = provider
        .as_ref()
        .and_then(|b| target_of(b, "auto_scaling_group_arn", "aws_autoscaling_group"));
    let Some(asg) = find("aws_autoscaling_group", asg_name) else {
        w.raw(
            "instance_types",
            "[\"m5.large\"]",
            "PLACEHOLDER: the capacity provider's aws_autoscaling_group is not in the module",
        );
        return;
    };
    let mut a = Reader {
        m,
        r: asg,
        unresolved: Vec::new(),
    };
    // Instance types: the mixed-instances policy's overrides, else the
    // launch template's type.
    let mut types: Vec<(String, String)> = Vec::new();
    let mut lt_name = None;
    let mip = a.blocks("mixed_instances_policy").into_iter().next();
    if let Some(mip) = &mip {
        for lt in mip
            .blocks()
            .filter(|b| b.identifier.as_str() == "launch_template")
        {
            for spec in lt
                .body
                .blocks()
                .filter(|b| b.identifier.as_str() == "launch_template_specification")
            {
                lt_name = lt_name
                    .or_else(|| target_of(&spec.body, "launch_template_id", "aws_launch_template"));
            }
            for o in lt
                .body
                .blocks()
                .filter(|b| b.identifier.as_str() == "override")
            {
                if let Some(t) = a
                    .get_in(&o.body, "instance_type", true)
                    .as_ref()
                    .and_then(text)
                {
                    types.push((t, a.at("override")));
                }
            }
        }
    }
    for lt in a.blocks("launch_template") {
        lt_name = lt_name.or_else(|| {
            target_of(&lt, "id", "aws_launch_template")
                .or_else(|| target_of(&lt, "name", "aws_launch_template"))
        });
    }
    if types.is_empty()
        && let Some(lt) = find("aws_launch_template", lt_name)
    {
        let mut l = Reader {
            m,
            r: lt,
            unresolved: Vec::new(),
        };
        if let Some(t) = l.get("instance_type", true).as_ref().and_then(text) {
            types.push((t, l.at("instance_type")));
        }
        unresolved.append(&mut l.unresolved);
    }
    if types.is_empty() {
        w.raw(
            "instance_types",
            "[\"m5.large\"]",
            "PLACEHOLDER: the Auto Scaling group's instance types are not known",
        );
    } else {
        let list: Vec<String> = types.iter().map(|(t, _)| format!("\"{t}\"")).collect();
        w.raw(
            "instance_types",
            &format!("[{}]", list.join(", ")),
            &types[0].1,
        );
    }
    for (tf, key) in [
        ("min_size", "min_size"),
        ("max_size", "max_size"),
        ("desired_capacity", "desired_capacity"),
    ] {
        if let Some(v) = a.get(tf, true).as_ref().and_then(num) {
            w.value(key, v as i64, &a.at(tf));
        }
    }
    if let Some(mip) = &mip
        && let Some(dist) = mip
            .blocks()
            .find(|b| b.identifier.as_str() == "instances_distribution")
    {
        for (tf, key) in [
            ("on_demand_base_capacity", "on_demand_base_capacity"),
            (
                "on_demand_percentage_above_base_capacity",
                "on_demand_percentage_above_base",
            ),
        ] {
            if let Some(v) = a.get_in(&dist.body, tf, true).as_ref().and_then(num) {
                w.value(key, v as i64, &a.at(tf));
            }
        }
        if let Some(v) = a
            .get_in(&dist.body, "spot_allocation_strategy", true)
            .as_ref()
            .and_then(text)
        {
            if matches!(v.as_str(), "price-capacity-optimized" | "lowest-price") {
                w.value(
                    "spot_allocation_strategy",
                    v.as_str(),
                    &a.at("spot_allocation_strategy"),
                );
            } else {
                ignored.push(format!(
                    "{}: {v} is not modelled (price-capacity-optimized, lowest-price are)",
                    a.at("spot_allocation_strategy")
                ));
            }
        }
    }
    if let Some(p) = &provider {
        let protection = c
            .get_in(p, "managed_termination_protection", true)
            .as_ref()
            .and_then(text);
        if let Some(ms) = p
            .blocks()
            .find(|b| b.identifier.as_str() == "managed_scaling")
        {
            let status = c.get_in(&ms.body, "status", true).as_ref().and_then(text);
            w.value(
                "managed_scaling",
                status.as_deref() == Some("ENABLED"),
                &c.at("status"),
            );
            for (tf, key) in [
                ("target_capacity", "target_capacity"),
                ("minimum_scaling_step_size", "minimum_scaling_step_size"),
                ("maximum_scaling_step_size", "maximum_scaling_step_size"),
            ] {
                if let Some(v) = c.get_in(&ms.body, tf, true).as_ref().and_then(num) {
                    w.value(key, v as i64, &c.at(tf));
                }
            }
            if let Some(v) = c
                .get_in(&ms.body, "instance_warmup_period", true)
                .as_ref()
                .and_then(num)
            {
                w.value(
                    "instance_warmup_period",
                    format!("{}s", v as i64),
                    &c.at("instance_warmup_period"),
                );
            }
        } else {
            w.value(
                "managed_scaling",
                false,
                &format!(
                    "{}:{}: aws_ecs_capacity_provider.{}: no managed_scaling block",
                    cp.file, cp.line, cp.name
                ),
            );
        }
        if let Some(p) = protection {
            w.value(
                "managed_termination_protection",
                p == "ENABLED",
                &c.at("managed_termination_protection"),
            );
        }
    }
    unresolved.append(&mut c.unresolved);
    unresolved.append(&mut a.unresolved);
}

/// Imports the module; `task_definition_file` is how the scenario names
/// the task definition JSON the caller writes beside it.
pub fn import(opts: &Options, task_definition_file: &str) -> Result<TerraformImport, Error> {
    let m = read_module(opts)?;
    let of =
        |kind: &str| -> Vec<&Resource> { m.resources.iter().filter(|r| r.kind == kind).collect() };
    let services = of("aws_ecs_service");
    let svc = match (&opts.service, services.as_slice()) {
        (None, [one]) => *one,
        (None, []) => return Err(err(&opts.path, "no aws_ecs_service in the module")),
        (None, many) => {
            return Err(err(
                &opts.path,
                format!(
                    "{} aws_ecs_service resources ({}): choose one with --service",
                    many.len(),
                    many.iter()
                        .map(|r| r.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
        (Some(want), _) => services
            .iter()
            .copied()
            .find(|r| {
                &r.name == want
                    || r.body.attributes().any(|a| {
                        a.key.as_str() == "name"
                            && a.expr
                                .evaluate(&m.ctx)
                                .ok()
                                .as_ref()
                                .and_then(text)
                                .as_deref()
                                == Some(want)
                    })
            })
            .ok_or_else(|| err(&opts.path, format!("no aws_ecs_service named \"{want}\"")))?,
    };
    let mut ignored = Vec::new();
    let mut unresolved = Vec::new();
    // The task definition the service runs.
    let tds = of("aws_ecs_task_definition");
    let td = target_of(&svc.body, "task_definition", "aws_ecs_task_definition")
        .and_then(|n| tds.iter().copied().find(|r| r.name == n))
        .or(if tds.len() == 1 { Some(tds[0]) } else { None })
        .ok_or_else(|| {
            err(
                &opts.path,
                format!(
                    "aws_ecs_service.{}: its task_definition names no aws_ecs_task_definition of the module",
                    svc.name
                ),
            )
        })?;
    let mut t = Reader {
        m: &m,
        r: td,
        unresolved: Vec::new(),
    };
    let mut task = serde_json::Map::new();
    let family = t
        .get("family", false)
        .as_ref()
        .and_then(text)
        .unwrap_or_else(|| td.name.clone());
    task.insert("family".into(), family.into());
    let mut src = BTreeMap::new();
    for (key, json) in [("cpu", "cpu"), ("memory", "memory")] {
        if let Some(v) = t.get(key, true).as_ref().and_then(text) {
            src.insert(json, t.at(key));
            task.insert(json.into(), v.into());
        }
    }
    if let Some(v) = t.get("network_mode", false).as_ref().and_then(text) {
        task.insert("networkMode".into(), v.into());
    }
    if let Some(Value::Array(a)) = t.get("requires_compatibilities", false) {
        task.insert(
            "requiresCompatibilities".into(),
            a.iter()
                .filter_map(text)
                .map(serde_json::Value::from)
                .collect::<Vec<_>>()
                .into(),
        );
    }
    for b in t.blocks("runtime_platform") {
        let mut rp = serde_json::Map::new();
        if let Some(v) = t
            .get_in(&b, "operating_system_family", true)
            .as_ref()
            .and_then(text)
        {
            rp.insert("operatingSystemFamily".into(), v.into());
        }
        if let Some(v) = t
            .get_in(&b, "cpu_architecture", true)
            .as_ref()
            .and_then(text)
        {
            rp.insert("cpuArchitecture".into(), v.into());
        }
        task.insert("runtimePlatform".into(), rp.into());
    }
    for b in t.blocks("ephemeral_storage") {
        if let Some(v) = t.get_in(&b, "size_in_gib", true).as_ref().and_then(num) {
            task.insert(
                "ephemeralStorage".into(),
                serde_json::json!({ "sizeInGiB": v }),
            );
        }
    }
    let defs = t.get("container_definitions", false);
    let defs: serde_json::Value = match defs.as_ref().and_then(text) {
        Some(s) => serde_json::from_str(&s).map_err(|e| {
            err(
                &opts.path,
                format!(
                    "{}: not JSON container definitions: {e}",
                    t.at("container_definitions")
                ),
            )
        })?,
        None => {
            return Err(err(
                &opts.path,
                format!(
                    "{}: the container definitions could not be evaluated (a file() or templatefile()? pass them as jsonencode(...) or a literal)",
                    t.at("container_definitions")
                ),
            ));
        }
    };
    task.insert("containerDefinitions".into(), defs);
    for a in td.body.attributes() {
        if !matches!(
            a.key.as_str(),
            "family"
                | "cpu"
                | "memory"
                | "network_mode"
                | "requires_compatibilities"
                | "container_definitions"
        ) {
            ignored.push(format!("{}: not needed by capsim", t.at(a.key.as_str())));
        }
    }
    unresolved.append(&mut t.unresolved);

    let mut s = Reader {
        m: &m,
        r: svc,
        unresolved: Vec::new(),
    };
    let mut w = Writer::default();
    let service_name = s
        .get("name", false)
        .as_ref()
        .and_then(text)
        .unwrap_or_else(|| svc.name.clone());
    w.comment(&format!(
        "Imported by `capsim import terraform` from {}: aws_ecs_service.{} and what it uses.",
        opts.path.display(),
        svc.name
    ));
    w.comment("Each imported value names its file, line and attribute. PLACEHOLDER values");
    w.comment("are not in the module: the load and the workload above all are yours to set.");
    w.value(
        "name",
        crate::scenario::safe_name(&service_name),
        &s.at("name"),
    );
    w.value("seed", 1, "capsim: any seed");
    w.value("duration", "1d", "capsim: the horizon to simulate");
    match m
        .region
        .as_ref()
        .and_then(|(e, at)| Some((text(&e.evaluate(&m.ctx).ok()?)?, at)))
        .filter(|(r, _)| !r.contains(UNRESOLVED))
    {
        Some((r, at)) => w.value("region", r.as_str(), at),
        None => w.value(
            "region",
            "us-east-1",
            "PLACEHOLDER: no provider \"aws\" region in the module",
        ),
    }
    w.table(
        "load",
        "PLACEHOLDER: your traffic (a CloudWatch export replays: format = \"cloudwatch\")",
    );
    w.value("kind", "constant", "PLACEHOLDER");
    w.value("rps", 50, "PLACEHOLDER");
    w.table(
        "workload",
        "PLACEHOLDER: what one request needs (capsim import alb-logs fits it)",
    );
    w.raw(
        "cpu_ms",
        "{ dist = \"lognormal\", mean = 20, p99 = 90 }",
        "PLACEHOLDER",
    );
    w.raw(
        "io_ms",
        "{ dist = \"exponential\", mean = 30 }",
        "PLACEHOLDER",
    );
    w.table("task", "");
    w.value(
        "definition",
        task_definition_file,
        &format!(
            "written from {}:{} aws_ecs_task_definition.{} (cpu {}, memory {})",
            td.file,
            td.line,
            td.name,
            src.get("cpu").map_or("-", |s| s.as_str()),
            src.get("memory").map_or("-", |s| s.as_str())
        ),
    );
    w.value(
        "concurrency",
        64,
        "PLACEHOLDER: requests one task serves at once",
    );
    w.table("service", "");
    if let Some(v) = s.get("desired_count", true).as_ref().and_then(num) {
        w.value("desired", v as i64, &s.at("desired_count"));
    }
    for (tf, key) in [
        ("deployment_maximum_percent", "maximum_percent"),
        (
            "deployment_minimum_healthy_percent",
            "minimum_healthy_percent",
        ),
    ] {
        if let Some(v) = s.get(tf, true).as_ref().and_then(num) {
            w.value(key, v as i64, &s.at(tf));
        }
    }
    let strategy: Vec<(String, i64, i64)> = s
        .blocks("capacity_provider_strategy")
        .iter()
        .map(|b| {
            (
                s.get_in(b, "capacity_provider", true)
                    .as_ref()
                    .and_then(text)
                    .unwrap_or_default(),
                s.get_in(b, "base", true)
                    .as_ref()
                    .and_then(num)
                    .unwrap_or(0.0) as i64,
                s.get_in(b, "weight", true)
                    .as_ref()
                    .and_then(num)
                    .unwrap_or(0.0) as i64,
            )
        })
        .collect();
    let launch = s.get("launch_type", true).as_ref().and_then(text);
    let fargate_only = !strategy.is_empty()
        && strategy
            .iter()
            .all(|p| p.0 == "FARGATE" || p.0 == "FARGATE_SPOT");
    let on_ec2 = launch.as_deref() == Some("EC2") || (!strategy.is_empty() && !fargate_only);
    if on_ec2 {
        let ps: Vec<String> = s
            .blocks("ordered_placement_strategy")
            .iter()
            .map(|b| {
                let ty = s
                    .get_in(b, "type", true)
                    .as_ref()
                    .and_then(text)
                    .unwrap_or_default();
                match s.get_in(b, "field", true).as_ref().and_then(text) {
                    Some(f) => format!("{{ type = \"{ty}\", field = \"{f}\" }}"),
                    None => format!("{{ type = \"{ty}\" }}"),
                }
            })
            .collect();
        if !ps.is_empty() {
            w.raw(
                "placement_strategy",
                &format!("[{}]", ps.join(", ")),
                &s.at("ordered_placement_strategy"),
            );
        }
    }
    for a in svc.body.attributes() {
        if !matches!(
            a.key.as_str(),
            "name"
                | "desired_count"
                | "launch_type"
                | "task_definition"
                | "deployment_maximum_percent"
                | "deployment_minimum_healthy_percent"
        ) {
            ignored.push(format!("{}: not needed by capsim", s.at(a.key.as_str())));
        }
    }
    for b in svc.body.blocks() {
        if !matches!(
            b.identifier.as_str(),
            "capacity_provider_strategy" | "ordered_placement_strategy"
        ) {
            ignored.push(format!(
                "{}:{}: aws_ecs_service.{}: block {}: not needed by capsim",
                svc.file,
                svc.line,
                svc.name,
                b.identifier.as_str()
            ));
        }
    }
    // The target group behind the service's load balancer block.
    let tgs = of("aws_lb_target_group");
    let tg_name = svc
        .body
        .blocks()
        .filter(|b| b.identifier.as_str() == "load_balancer")
        .find_map(|b| target_of(&b.body, "target_group_arn", "aws_lb_target_group"));
    let tg = tg_name
        .and_then(|n| tgs.iter().copied().find(|r| r.name == n))
        .or(if tgs.len() == 1 { Some(tgs[0]) } else { None });
    if let Some(tg) = tg {
        let mut g = Reader {
            m: &m,
            r: tg,
            unresolved: Vec::new(),
        };
        let delay = g.get("deregistration_delay", true).as_ref().and_then(num);
        let interval = g
            .blocks("health_check")
            .first()
            .and_then(|b| g.get_in(b, "interval", true))
            .as_ref()
            .and_then(num);
        if delay.is_some() || interval.is_some() {
            w.table("load_balancer", "");
            if let Some(i) = interval {
                w.value(
                    "health_check_interval",
                    format!("{}s", i as i64),
                    &g.at("interval"),
                );
            }
            if let Some(d) = delay {
                w.value(
                    "deregistration_delay",
                    format!("{}s", d as i64),
                    &g.at("deregistration_delay"),
                );
            }
        }
        unresolved.append(&mut g.unresolved);
    }
    w.table("platform", "");
    if on_ec2 {
        w.value(
            "kind",
            "ecs_ec2",
            &s.at(if launch.is_some() {
                "launch_type"
            } else {
                "capacity_provider_strategy"
            }),
        );
        ec2_cluster(&m, svc, &mut w, &mut ignored, &mut unresolved);
    } else {
        w.value(
            "kind",
            "fargate",
            &s.at(if launch.is_some() {
                "launch_type"
            } else {
                "capacity_provider_strategy"
            }),
        );
        if !strategy.is_empty() {
            let items: Vec<String> = strategy
                .iter()
                .map(|(p, b, wt)| format!("{{ provider = \"{p}\", base = {b}, weight = {wt} }}"))
                .collect();
            w.raw(
                "capacity_provider_strategy",
                &format!("[{}]", items.join(", ")),
                &s.at("capacity_provider_strategy"),
            );
        }
    }
    unresolved.append(&mut s.unresolved);

    // Application Auto Scaling: the target naming this service, its policies.
    let targets = of("aws_appautoscaling_target");
    let target = targets
        .iter()
        .copied()
        .find(|r| {
            target_of(&r.body, "resource_id", "aws_ecs_service").as_deref()
                == Some(svc.name.as_str())
                || r.body.attributes().any(|a| {
                    a.key.as_str() == "resource_id"
                        && a.expr
                            .evaluate(&m.ctx)
                            .ok()
                            .as_ref()
                            .and_then(text)
                            .is_some_and(|id| id.ends_with(&format!("/{service_name}")))
                })
        })
        .or(if targets.len() == 1 {
            Some(targets[0])
        } else {
            None
        });
    if let Some(tg) = target {
        let mut a = Reader {
            m: &m,
            r: tg,
            unresolved: Vec::new(),
        };
        w.table("autoscaling", "");
        for (tf, key) in [
            ("min_capacity", "min_capacity"),
            ("max_capacity", "max_capacity"),
        ] {
            match a.get(tf, true).as_ref().and_then(num) {
                Some(v) => w.value(key, v as i64, &a.at(tf)),
                None => {
                    return Err(err(
                        &opts.path,
                        format!("{}: needed and not known", a.at(tf)),
                    ));
                }
            }
        }
        let mut first = true;
        for p in of("aws_appautoscaling_policy") {
            let names_target = ["resource_id", "scalable_dimension", "service_namespace"]
                .iter()
                .any(|k| {
                    target_of(&p.body, k, "aws_appautoscaling_target").as_deref()
                        == Some(tg.name.as_str())
                });
            if !names_target && targets.len() > 1 {
                continue;
            }
            let mut r = Reader {
                m: &m,
                r: p,
                unresolved: Vec::new(),
            };
            let ty = r
                .get("policy_type", true)
                .as_ref()
                .and_then(text)
                .unwrap_or_else(|| "StepScaling".into());
            if ty != "TargetTrackingScaling" {
                ignored.push(format!(
                    "{}: a {ty} policy: its thresholds live in a CloudWatch alarm (aws_cloudwatch_metric_alarm), not read yet — write it as [[autoscaling.step_scaling]]",
                    r.at("policy_type")
                ));
                continue;
            }
            let Some(cfg) = r
                .blocks("target_tracking_scaling_policy_configuration")
                .into_iter()
                .next()
            else {
                continue;
            };
            let metric = cfg
                .blocks()
                .find(|b| b.identifier.as_str() == "predefined_metric_specification")
                .map(|b| b.body.clone())
                .and_then(|b| r.get_in(&b, "predefined_metric_type", true))
                .as_ref()
                .and_then(text);
            let Some(metric) = metric else {
                ignored.push(format!(
                    "{}: tracks a customized metric: capsim models the predefined ECS and ALB metrics only",
                    r.at("target_tracking_scaling_policy_configuration")
                ));
                continue;
            };
            let Some(target_value) = r.get_in(&cfg, "target_value", true).as_ref().and_then(num)
            else {
                return Err(err(
                    &opts.path,
                    format!("{}: needed and not known", r.at("target_value")),
                ));
            };
            let cool = |r: &mut Reader, k: &str| {
                r.get_in(&cfg, k, true)
                    .as_ref()
                    .and_then(num)
                    .unwrap_or(300.0) as i64
            };
            let (out_c, in_c) = (
                cool(&mut r, "scale_out_cooldown"),
                cool(&mut r, "scale_in_cooldown"),
            );
            if !first {
                w.array_table("autoscaling.target_tracking");
                w.value(
                    "name",
                    p.name.as_str(),
                    &format!("{}:{} aws_appautoscaling_policy.{}", p.file, p.line, p.name),
                );
            }
            w.value(
                "predefined_metric",
                metric.as_str(),
                &r.at("predefined_metric_type"),
            );
            w.value("target_value", target_value, &r.at("target_value"));
            w.value(
                "scale_out_cooldown",
                format!("{out_c}s"),
                &r.at("scale_out_cooldown"),
            );
            w.value(
                "scale_in_cooldown",
                format!("{in_c}s"),
                &r.at("scale_in_cooldown"),
            );
            first = false;
            unresolved.append(&mut r.unresolved);
        }
        unresolved.append(&mut a.unresolved);
        // Scheduled actions on the target.
        for sa in of("aws_appautoscaling_scheduled_action") {
            let mut r = Reader {
                m: &m,
                r: sa,
                unresolved: Vec::new(),
            };
            let Some(schedule) = r.get("schedule", true).as_ref().and_then(text) else {
                continue;
            };
            if r.get("timezone", false)
                .as_ref()
                .and_then(text)
                .is_some_and(|z| z != "UTC" && z != "Etc/UTC")
            {
                ignored.push(format!(
                    "{}: a time zone other than UTC is not modelled: taken as UTC",
                    r.at("timezone")
                ));
            }
            match super::aws_schedule(&schedule) {
                Ok((at, every)) => {
                    let action = r.blocks("scalable_target_action").into_iter().next();
                    let cap = |r: &mut Reader, k: &str| {
                        action
                            .as_ref()
                            .and_then(|b| r.get_in(b, k, true))
                            .as_ref()
                            .and_then(num)
                    };
                    let (lo, hi) = (cap(&mut r, "min_capacity"), cap(&mut r, "max_capacity"));
                    w.array_table("autoscaling.scheduled");
                    w.value(
                        "name",
                        sa.name.as_str(),
                        &format!(
                            "{}:{}: aws_appautoscaling_scheduled_action.{}",
                            sa.file, sa.line, sa.name
                        ),
                    );
                    w.value(
                        "at",
                        at,
                        &format!(
                            "{}: {schedule} (time 0 is Monday 00:00 UTC)",
                            r.at("schedule")
                        ),
                    );
                    w.value("every", every, &r.at("schedule"));
                    if let Some(v) = lo {
                        w.value("min_capacity", v as i64, &r.at("min_capacity"));
                    }
                    if let Some(v) = hi {
                        w.value("max_capacity", v as i64, &r.at("max_capacity"));
                    }
                }
                Err(m) => ignored.push(format!("{}: {m}", r.at("schedule"))),
            }
            unresolved.append(&mut r.unresolved);
        }
    } else {
        ignored.push(
            "no aws_appautoscaling_target for the service: the scenario does not autoscale".into(),
        );
    }
    for r in &m.resources {
        if !matches!(
            r.kind.as_str(),
            "aws_ecs_service"
                | "aws_ecs_task_definition"
                | "aws_appautoscaling_target"
                | "aws_appautoscaling_policy"
                | "aws_lb_target_group"
                | "aws_appautoscaling_scheduled_action"
                | "aws_ecs_capacity_provider"
                | "aws_autoscaling_group"
                | "aws_launch_template"
        ) {
            ignored.push(format!(
                "{}:{}: {}.{}: not needed by capsim",
                r.file, r.line, r.kind, r.name
            ));
        }
    }
    w.table(
        "slo",
        "PLACEHOLDER: what good enough means for this service",
    );
    w.value("p99_ms", 500, "PLACEHOLDER");
    w.value("max_breach_share", 0.01, "PLACEHOLDER");
    let needed: Vec<&String> = unresolved
        .iter()
        .filter(|u| u.ends_with("capsim needs it"))
        .collect();
    if !needed.is_empty() {
        // The variables without a value behind them.
        let vars: Vec<String> = m
            .missing_vars
            .iter()
            .filter(|(n, _, _)| needed.iter().any(|u| u.contains(&format!("var.{n} "))))
            .map(|(n, f, l)| format!("{f}:{l}: variable \"{n}\" has no value: pass --var {n}=…"))
            .collect();
        return Err(err(
            &opts.path,
            format!(
                "values capsim needs are not known:\n  {}{}",
                needed
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join("\n  "),
                if vars.is_empty() {
                    String::new()
                } else {
                    format!("\n  {}", vars.join("\n  "))
                }
            ),
        ));
    }
    ignored.extend(unresolved);
    Ok(TerraformImport {
        scenario: Imported {
            toml: w.finish(),
            ignored,
        },
        task_definition: serde_json::Value::Object(task),
    })
}
