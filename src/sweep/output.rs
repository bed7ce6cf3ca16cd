//! What a sweep writes: `results` (one row per job), `points` (one row per
//! point, with means and 95 % confidence intervals and the Pareto front),
//! `jobs.jsonl` (lossless, for merging shards), charts and `index.html`.
//!
//! An unsharded sweep and the merge of its shards go through
//! [`write_outputs`] with the same job results, so their files are identical.

use super::stats::{self, Estimate};
use super::{JobResult, Mode, Parameter, Sweep};
use crate::error::Error;
use crate::report::charts::{self, Chart};
use crate::report::html::{self, Assumption, InlineChart};
use crate::report::tables::{self, Table};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::path::Path;

/// Metrics aggregated per point (mean and 95 % CI over replications).
pub const POINT_METRICS: &[&str] = &[
    "cost_usd.total",
    "cost_usd.monthly_projection",
    "cost_usd.per_million_requests",
    "latency_ms.mean",
    "latency_ms.p99",
    "scaling.lag_s.mean",
    "scaling.lag_s.max",
    "scaling.under_provisioned_minutes",
    "slo.breach_minutes",
    "cpu_utilization.mean",
    "tasks.mean",
    "requests.failed",
    "requests.rejected",
    "requests.timed_out",
];

/// Everything about a sweep except its results: enough to merge shards and
/// to write the report without the sweep file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepMeta {
    /// Name.
    pub name: String,
    /// Grid or zip.
    pub mode: Mode,
    /// Seeds per point.
    pub replications: u32,
    /// Base seed.
    pub seed: u64,
    /// Parameters and their values.
    pub parameters: Vec<Parameter>,
    /// Points.
    pub points: usize,
    /// Jobs.
    pub jobs: usize,
    /// The base scenario's assumptions (item, value, source).
    pub assumptions: Vec<(String, String, String)>,
    /// Fingerprint of the base scenario and capsim's version: shards of
    /// different sweeps or builds are never merged.
    pub fingerprint: String,
}

impl SweepMeta {
    /// The meta of a sweep.
    pub fn of(sweep: &Sweep) -> SweepMeta {
        let assumptions = sweep
            .scenario(&sweep.jobs()[0])
            .ok()
            .and_then(|s| {
                s.compile()
                    .ok()
                    .map(|c| crate::run::context(&s, &c).assumptions)
            })
            .unwrap_or_default()
            .into_iter()
            .map(|a| (a.item, a.value, a.source))
            .collect();
        SweepMeta {
            name: sweep.name.clone(),
            mode: sweep.mode,
            replications: sweep.replications,
            seed: sweep.seed,
            parameters: sweep.parameters.clone(),
            points: sweep.points(),
            jobs: sweep.points() * sweep.replications as usize,
            assumptions,
            fingerprint: format!(
                "{:016x}-capsim-{}",
                crate::rng::derive_seed(0, &toml::to_string(&sweep.base).unwrap_or_default()),
                env!("CARGO_PKG_VERSION")
            ),
        }
    }

    /// Column name of parameter `i` (prefixed when it collides with a summary column).
    pub fn param_column(&self, i: usize) -> String {
        let p = &self.parameters[i].path;
        let summary_like = [
            "scenario",
            "seed",
            "platform",
            "region",
            "duration_s",
            "requests",
            "throughput_rps",
            "latency_ms",
            "queue_wait_ms",
            "in_flight",
            "tasks",
            "cpu_utilization",
            "cost_usd",
            "scaling",
            "slo",
            "engine",
            "notes",
        ];
        if summary_like
            .iter()
            .any(|s| p == s || p.starts_with(&format!("{s}.")))
        {
            format!("param.{p}")
        } else {
            p.clone()
        }
    }
}

/// The flat record of a job result.
pub fn job_record(meta: &SweepMeta, r: &JobResult) -> Vec<(String, Value)> {
    let mut rec: Vec<(String, Value)> = vec![
        ("job".into(), Value::from(r.job as u64)),
        ("point".into(), Value::from(r.point as u64)),
        ("replication".into(), Value::from(r.replication)),
        ("seed".into(), Value::from(r.seed)),
    ];
    for (i, v) in r.values.iter().enumerate() {
        rec.push((meta.param_column(i), v.clone()));
    }
    match &r.outcome {
        Ok(s) => {
            rec.push(("status".into(), Value::from("ok")));
            rec.push(("error".into(), Value::Null));
            let mut flat = Vec::new();
            tables::flatten(
                "",
                &serde_json::to_value(s).expect("summaries serialise"),
                &mut flat,
            );
            // Wall time differs between identical runs; notes are text for people.
            rec.extend(
                flat.into_iter()
                    .filter(|(k, _)| k != "engine.wall_ms" && k != "notes" && k != "seed"),
            );
        }
        Err(e) => {
            rec.push(("status".into(), Value::from("failed")));
            rec.push(("error".into(), Value::from(e.as_str())));
        }
    }
    rec
}

fn metric(r: &JobResult, path: &str) -> Option<f64> {
    let s = r.outcome.as_ref().ok()?;
    let mut v = serde_json::to_value(s).ok()?;
    for seg in path.split('.') {
        v = v.get(seg)?.clone();
    }
    v.as_f64()
}

/// One aggregated point.
#[derive(Debug, Clone, PartialEq)]
pub struct PointRow {
    /// Point index.
    pub point: usize,
    /// Parameter values.
    pub values: Vec<Value>,
    /// Replications that ran.
    pub ok: usize,
    /// Replications that failed, and the first reason.
    pub failed: (usize, Option<String>),
    /// Estimates by metric (same order as [`POINT_METRICS`]).
    pub estimates: Vec<Option<Estimate>>,
    /// On the cost-vs-p99 Pareto front.
    pub pareto: bool,
}

impl PointRow {
    fn est(&self, m: &str) -> Option<Estimate> {
        POINT_METRICS
            .iter()
            .position(|x| *x == m)
            .and_then(|i| self.estimates[i])
    }
}

/// Aggregates job results (in job order) into points, and marks the front.
pub fn points(meta: &SweepMeta, results: &[JobResult]) -> Vec<PointRow> {
    let mut rows: Vec<PointRow> = Vec::with_capacity(meta.points);
    for p in 0..meta.points {
        let jobs: Vec<&JobResult> = results.iter().filter(|r| r.point == p).collect();
        let Some(first) = jobs.first() else { continue };
        let failed: Vec<&String> = jobs
            .iter()
            .filter_map(|r| r.outcome.as_ref().err())
            .collect();
        let estimates = POINT_METRICS
            .iter()
            .map(|m| {
                let vals: Vec<f64> = jobs.iter().filter_map(|r| metric(r, m)).collect();
                stats::estimate(&vals)
            })
            .collect();
        rows.push(PointRow {
            point: p,
            values: first.values.clone(),
            ok: jobs.len() - failed.len(),
            failed: (failed.len(), failed.first().map(|s| s.to_string())),
            estimates,
            pareto: false,
        });
    }
    // Pareto front on (monthly cost, p99): no other point is at least as good
    // on both and better on one.
    let key = |r: &PointRow| {
        Some((
            r.est("cost_usd.monthly_projection")?.mean,
            r.est("latency_ms.p99")?.mean,
        ))
    };
    let keys: Vec<Option<(f64, f64)>> = rows.iter().map(key).collect();
    for i in 0..rows.len() {
        let Some((c, l)) = keys[i] else { continue };
        let dominated = keys.iter().enumerate().any(|(j, k)| {
            j != i && k.is_some_and(|(c2, l2)| c2 <= c && l2 <= l && (c2 < c || l2 < l))
        });
        rows[i].pareto = !dominated;
    }
    rows
}

fn point_record(meta: &SweepMeta, r: &PointRow) -> Vec<(String, Value)> {
    let mut rec: Vec<(String, Value)> = vec![("point".into(), Value::from(r.point as u64))];
    for (i, v) in r.values.iter().enumerate() {
        rec.push((meta.param_column(i), v.clone()));
    }
    rec.push(("replications_ok".into(), Value::from(r.ok as u64)));
    rec.push(("replications_failed".into(), Value::from(r.failed.0 as u64)));
    rec.push((
        "error".into(),
        r.failed.1.clone().map_or(Value::Null, Value::from),
    ));
    for (m, e) in POINT_METRICS.iter().zip(&r.estimates) {
        let f = |x: Option<f64>| x.map_or(Value::Null, Value::from);
        rec.push((format!("{m}.mean"), f(e.map(|e| e.mean))));
        rec.push((format!("{m}.ci95_low"), f(e.and_then(|e| e.low))));
        rec.push((format!("{m}.ci95_high"), f(e.and_then(|e| e.high))));
    }
    rec.push(("pareto".into(), Value::from(r.pareto)));
    rec
}

/// `a=1, b=x` for a point.
pub fn label(meta: &SweepMeta, values: &[Value]) -> String {
    meta.parameters
        .iter()
        .zip(values)
        .map(|(p, v)| {
            let short = p.path.rsplit('.').next().unwrap_or(&p.path);
            let v = match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            format!("{short}={v}")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn ci(e: Option<Estimate>, digits: usize) -> String {
    match e {
        None => "-".into(),
        Some(Estimate {
            mean,
            low: Some(l),
            high: Some(h),
            ..
        }) => format!("{mean:.digits$} [{l:.digits$}, {h:.digits$}]"),
        Some(e) => format!("{:.digits$}", e.mean),
    }
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |error| Error::Output {
        path: path.to_path_buf(),
        error,
    }
}

/// Writes `jobs.jsonl` and `results.{parquet,csv}` (a shard writes only these).
pub fn write_results(dir: &Path, meta: &SweepMeta, results: &[JobResult]) -> Result<(), Error> {
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let mut jsonl = String::new();
    for r in results {
        jsonl.push_str(&serde_json::to_string(r).expect("job results serialise"));
        jsonl.push('\n');
    }
    let p = dir.join("jobs.jsonl");
    std::fs::write(&p, jsonl).map_err(io(&p))?;
    let records: Vec<Vec<(String, Value)>> = results.iter().map(|r| job_record(meta, r)).collect();
    Table::from_records(&records).write(dir, "results")
}

/// Writes every output of a complete sweep: results, points, charts, page.
pub fn write_outputs(
    dir: &Path,
    meta: &SweepMeta,
    results: &[JobResult],
) -> Result<Vec<PointRow>, Error> {
    write_results(dir, meta, results)?;
    let pts = points(meta, results);
    let records: Vec<Vec<(String, Value)>> = pts.iter().map(|r| point_record(meta, r)).collect();
    Table::from_records(&records).write(dir, "points")?;
    let mut inline = Vec::new();
    let scatter: Vec<(f64, f64, String, bool)> = pts
        .iter()
        .filter_map(|r| {
            Some((
                r.est("cost_usd.monthly_projection")?.mean,
                r.est("latency_ms.p99")?.mean,
                label(meta, &r.values),
                r.pareto,
            ))
        })
        .collect();
    if !scatter.is_empty() {
        let chart = Chart::Scatter {
            title: "Monthly cost vs p99 latency (mean over replications)".into(),
            x_label: "monthly cost projection (USD per 730 h)".into(),
            y_label: "p99 latency (ms)".into(),
            points: scatter,
        };
        inline.push(InlineChart {
            id: "chart-pareto".into(),
            title: "Cost vs p99, Pareto front highlighted".into(),
            svg: charts::render(&chart, dir, "pareto")?,
            png: "pareto.png".into(),
        });
    }
    if meta.parameters.len() == 2 && meta.mode == Mode::Grid {
        let (px, py) = (&meta.parameters[1], &meta.parameters[0]);
        let tick = |v: &toml::Value| match v {
            toml::Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        for (metric, stem, what) in [
            ("latency_ms.p99", "heatmap_p99", "p99 latency (ms)"),
            (
                "cost_usd.monthly_projection",
                "heatmap_cost",
                "monthly cost (USD)",
            ),
        ] {
            // Grid order: the last parameter varies fastest.
            let values: Vec<Vec<Option<f64>>> = (0..py.values.len())
                .map(|yi| {
                    (0..px.values.len())
                        .map(|xi| {
                            pts.iter()
                                .find(|r| r.point == yi * px.values.len() + xi)
                                .and_then(|r| r.est(metric))
                                .map(|e| e.mean)
                        })
                        .collect()
                })
                .collect();
            let chart = Chart::Heatmap {
                title: format!("{what} by {} and {}", py.path, px.path),
                x_label: px.path.clone(),
                y_label: py.path.clone(),
                x_ticks: px.values.iter().map(tick).collect(),
                y_ticks: py.values.iter().map(tick).collect(),
                values,
            };
            inline.push(InlineChart {
                id: format!("chart-{stem}"),
                title: format!("{what}, heat map"),
                svg: charts::render(&chart, dir, stem)?,
                png: format!("{stem}.png"),
            });
        }
    }
    let page = page(meta, results, &pts, &inline);
    let p = dir.join("index.html");
    std::fs::write(&p, page).map_err(io(&p))?;
    Ok(pts)
}

fn page(
    meta: &SweepMeta,
    results: &[JobResult],
    pts: &[PointRow],
    inline: &[InlineChart],
) -> String {
    let failed: Vec<&JobResult> = results.iter().filter(|r| r.outcome.is_err()).collect();
    let mut body = String::new();
    body.push_str("<h2>Sweep</h2>\n");
    let mut rows = vec![
        vec!["mode".into(), format!("{:?}", meta.mode).to_lowercase()],
        vec![
            "points × replications".into(),
            format!(
                "{} × {} = {} jobs ({} failed)",
                meta.points,
                meta.replications,
                meta.jobs,
                failed.len()
            ),
        ],
        vec!["base seed".into(), meta.seed.to_string()],
    ];
    for p in &meta.parameters {
        let vals: Vec<String> = p.values.iter().map(|v| v.to_string()).collect();
        rows.push(vec![p.path.clone(), vals.join(", ")]);
    }
    body.push_str(&html::table(&["setting", "value"], &rows, &[]));
    body.push_str("<h2>Pareto front: monthly cost vs p99</h2>\n<p>Points no other point beats on both cost and p99 (means over replications; 95 % confidence intervals in brackets, Student t).</p>\n");
    let head = [
        "point",
        "parameters",
        "monthly cost (USD)",
        "p99 (ms)",
        "SLO breach minutes",
        "lag mean (s)",
    ];
    let cells = |r: &PointRow| {
        vec![
            r.point.to_string(),
            label(meta, &r.values),
            ci(r.est("cost_usd.monthly_projection"), 2),
            ci(r.est("latency_ms.p99"), 1),
            ci(r.est("slo.breach_minutes"), 1),
            ci(r.est("scaling.lag_s.mean"), 1),
        ]
    };
    let front: Vec<Vec<String>> = pts.iter().filter(|r| r.pareto).map(cells).collect();
    body.push_str(&html::table(&head, &front, &[]));
    body.push_str("<h2>Charts</h2>\n");
    body.push_str(&html::charts(inline));
    body.push_str("<h2>All points</h2>\n");
    let all: Vec<Vec<String>> = pts.iter().map(cells).collect();
    let marks: Vec<bool> = pts.iter().map(|r| r.pareto).collect();
    body.push_str(&html::table(&head, &all, &marks));
    if !failed.is_empty() {
        body.push_str("<h2>Failed jobs</h2>\n");
        let rows: Vec<Vec<String>> = failed
            .iter()
            .map(|r| {
                vec![
                    r.job.to_string(),
                    label(meta, &r.values),
                    r.outcome.as_ref().err().cloned().unwrap_or_default(),
                ]
            })
            .collect();
        body.push_str(&html::table(&["job", "parameters", "reason"], &rows, &[]));
    }
    body.push_str("<h2>Assumptions (base scenario)</h2>\n");
    let a: Vec<Assumption> = meta
        .assumptions
        .iter()
        .map(|(i, v, s)| Assumption {
            item: i.clone(),
            value: v.clone(),
            source: s.clone(),
        })
        .collect();
    body.push_str(&html::assumptions(&a));
    body.push_str("<h2>Data</h2>\n");
    body.push_str(&html::files(&[
        "results.parquet",
        "results.csv",
        "points.parquet",
        "points.csv",
        "jobs.jsonl",
        "sweep.json",
    ]));
    html::page(&meta.name, "capsim sweep", &body)
}

/// Reads `jobs.jsonl`.
pub fn read_jobs(path: &Path) -> Result<Vec<JobResult>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l).map_err(|e| format!("{} line {}: {e}", path.display(), i + 1))
        })
        .collect()
}
