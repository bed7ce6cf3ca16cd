//! What a sweep writes: `results` (one row per job), `points` (one row per
//! point, with means and 95 % confidence intervals and the Pareto front),
//! `jobs.jsonl` (lossless, for merging shards), charts and `index.html`.
//!
//! An unsharded sweep and the merge of its shards go through
//! [`write_outputs`] with the same job results, so their files are identical.

use super::stats::{self, Estimate};
use super::{JobResult, Mode, Parameter, Sweep};
use crate::error::Error;
use crate::report::charts::{self, Chart, ScatterPoint};
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
    /// Which scenario the assumptions are those of.
    #[serde(default)]
    pub assumptions_of: String,
    /// Fingerprint of the base scenario and capsim's version: shards of
    /// different sweeps or builds are never merged.
    pub fingerprint: String,
}

impl SweepMeta {
    /// The meta of a sweep.
    pub fn of(sweep: &Sweep) -> SweepMeta {
        // The base scenario's assumptions; if the base alone does not
        // compile (a swept key it needs), those of the first point, said so.
        let of = |s: Result<crate::scenario::Scenario, Error>| {
            s.ok().and_then(|s| {
                s.compile()
                    .ok()
                    .map(|c| crate::run::context(&s, &c).assumptions)
            })
        };
        let (assumptions_of, assumptions) = match of(sweep.base_scenario()) {
            Some(a) => ("the base scenario, before any swept value".to_string(), a),
            None => (
                "point 0 (the base scenario alone does not compile)".to_string(),
                of(sweep.scenario(&sweep.jobs()[0])).unwrap_or_default(),
            ),
        };
        let assumptions = assumptions
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
            assumptions_of,
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

/// What a sweep's intervals are and cover (said on the page and in the README).
pub const INTERVALS: &str = "Means over replications; the 95 % intervals in brackets are percentile-bootstrap intervals of the mean (2,000 resamples, fixed seed). They cover simulation noise only — the spread between random seeds — not errors in the model, the prices or the load. Below 5 replications they are unreliable.";

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
    /// On the cost-vs-p99 Pareto front (among the points that meet the SLO
    /// when any does).
    pub pareto: bool,
    /// The point against the scenario's `[slo]` (`None` without one).
    pub verdict: Option<PointVerdict>,
}

/// A point against the SLO: it meets it only if every replication ran and
/// met it.
#[derive(Debug, Clone, PartialEq)]
pub struct PointVerdict {
    /// Every replication ran and met the SLO.
    pub meets: bool,
    /// Replications that met it.
    pub meeting: usize,
    /// Replications in all (including failed ones).
    pub of: usize,
    /// Why it fails: the reasons of the first failing replication.
    pub reason: Option<String>,
}

impl PointVerdict {
    /// "meets" / "fails (2 of 5 replications)".
    pub fn cell(&self) -> String {
        if self.meets {
            format!("meets ({} of {})", self.meeting, self.of)
        } else {
            format!("fails ({} of {} meet)", self.meeting, self.of)
        }
    }
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
        let summaries: Vec<&crate::report::Summary> = jobs
            .iter()
            .filter_map(|r| r.outcome.as_ref().ok())
            .collect();
        let verdict = summaries.iter().any(|s| s.slo.meets.is_some()).then(|| {
            let meeting = summaries
                .iter()
                .filter(|s| s.slo.meets == Some(true))
                .count();
            let reason = summaries
                .iter()
                .find(|s| s.slo.meets == Some(false))
                .map(|s| s.slo.fails.join("; "))
                .or_else(|| {
                    (!failed.is_empty())
                        .then(|| format!("{} replication(s) did not run", failed.len()))
                });
            PointVerdict {
                meets: meeting == jobs.len(),
                meeting,
                of: jobs.len(),
                reason,
            }
        });
        rows.push(PointRow {
            point: p,
            values: first.values.clone(),
            ok: jobs.len() - failed.len(),
            failed: (failed.len(), failed.first().map(|s| s.to_string())),
            estimates,
            pareto: false,
            verdict,
        });
    }
    // Pareto front on (monthly cost, p99): no other point is at least as good
    // on both and better on one. When the SLO is set and some points meet
    // it, the front is drawn among those only: a point that fails the SLO is
    // not a trade-off anyone can choose.
    let restrict = rows
        .iter()
        .any(|r| r.verdict.as_ref().is_some_and(|v| v.meets));
    let eligible = |r: &PointRow| !restrict || r.verdict.as_ref().is_some_and(|v| v.meets);
    let key = |r: &PointRow| {
        Some((
            r.est("cost_usd.monthly_projection")?.mean,
            r.est("latency_ms.p99")?.mean,
        ))
    };
    let keys: Vec<Option<(f64, f64)>> = rows
        .iter()
        .map(|r| if eligible(r) { key(r) } else { None })
        .collect();
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
    let v = r.verdict.as_ref();
    rec.push((
        "slo_meets".into(),
        v.map_or(Value::Null, |v| Value::from(v.meets)),
    ));
    rec.push((
        "slo_replications_meeting".into(),
        v.map_or(Value::Null, |v| Value::from(v.meeting as u64)),
    ));
    rec.push((
        "slo_fails".into(),
        v.and_then(|v| v.reason.clone())
            .map_or(Value::Null, Value::from),
    ));
    rec
}

/// Parameters whose values changed no aggregated number: for every setting
/// of the other parameters, all of this one's values gave the same means.
/// (Zip sweeps with several parameters cannot tell which one mattered.)
pub fn inert_parameters(meta: &SweepMeta, pts: &[PointRow]) -> Vec<usize> {
    let mut out = Vec::new();
    for i in 0..meta.parameters.len() {
        if meta.parameters[i].values.len() < 2
            || (meta.mode == Mode::Zip && meta.parameters.len() > 1)
        {
            continue;
        }
        let mut groups: std::collections::BTreeMap<String, Vec<&PointRow>> = Default::default();
        for r in pts {
            let others: Vec<String> = r
                .values
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != i)
                .map(|(_, v)| v.to_string())
                .collect();
            groups.entry(others.join("\u{1f}")).or_default().push(r);
        }
        let means = |r: &PointRow| -> Vec<Option<u64>> {
            r.estimates
                .iter()
                .map(|e| e.map(|e| e.mean.to_bits()))
                .collect()
        };
        let compared = groups.values().filter(|g| g.len() > 1).count();
        let same = groups
            .values()
            .filter(|g| g.len() > 1)
            .all(|g| g.iter().all(|r| r.ok > 0 && means(r) == means(g[0])));
        if compared > 0 && same {
            out.push(i);
        }
    }
    out
}

fn money(v: f64) -> String {
    format!("${v:.2}")
}

/// The answer to "which setting?", in words: the cheapest point that meets
/// the SLO in every replication, the cheaper points that fail and why, the
/// next choice and whether the two are told apart by the interval; then
/// parameters that changed nothing and how far to trust the intervals.
pub fn answer(meta: &SweepMeta, pts: &[PointRow]) -> Vec<String> {
    let cost = |r: &PointRow| r.est("cost_usd.monthly_projection");
    let mut by_cost: Vec<&PointRow> = pts.iter().filter(|r| cost(r).is_some()).collect();
    by_cost.sort_by(|a, b| {
        cost(a)
            .map(|e| e.mean)
            .unwrap_or(f64::INFINITY)
            .total_cmp(&cost(b).map(|e| e.mean).unwrap_or(f64::INFINITY))
    });
    let p99 = |r: &PointRow| {
        r.est("latency_ms.p99")
            .map_or("-".into(), |e| format!("{:.1} ms", e.mean))
    };
    let mut lines = Vec::new();
    let slo_set = pts.iter().any(|r| r.verdict.is_some());
    let meets = |r: &PointRow| r.verdict.as_ref().is_some_and(|v| v.meets);
    let meeting: Vec<&&PointRow> = by_cost.iter().filter(|r| meets(r)).collect();
    match (slo_set, meeting.first()) {
        (false, _) => lines.push(
            "No SLO is set, so no point can be called good enough: the Pareto front below is over all points. State one in [slo] (p99_ms, max_breach_minutes, max_error_rate, limits) to get the cheapest point that meets it.".into(),
        ),
        (true, None) => {
            lines.push("No point meets the SLO in every replication. Cheapest points and why they fail:".into());
        }
        (true, Some(best)) => {
            let c = cost(best).expect("sorted points have a cost");
            lines.push(format!(
                "{} is the cheapest point that meets the SLO in every replication: {}/month{}, p99 {}.",
                label(meta, &best.values),
                money(c.mean),
                interval(&c),
                p99(best)
            ));
            if let Some(next) = meeting.get(1) {
                let n = cost(next).expect("sorted points have a cost");
                let overlap = match (c.high, n.low) {
                    (Some(h), Some(l)) => h >= l,
                    _ => false,
                };
                if n.mean == c.mean {
                    lines.push(format!(
                        "{} costs exactly the same: the two are equally good choices on cost.",
                        label(meta, &next.values)
                    ));
                } else { lines.push(format!(
                    "Next: {} at {}/month (+{}){}.",
                    label(meta, &next.values),
                    money(n.mean),
                    money(n.mean - c.mean),
                    if overlap {
                        "; the two intervals overlap, so simulation noise alone could swap them — run more replications to separate them"
                    } else {
                        ""
                    }
                )); }
            }
        }
    }
    if slo_set {
        let limit = meeting
            .first()
            .and_then(|b| cost(b))
            .map_or(f64::INFINITY, |e| e.mean);
        let cheaper_failing: Vec<&&PointRow> = by_cost
            .iter()
            .filter(|r| !meets(r) && cost(r).is_some_and(|e| e.mean < limit))
            .collect();
        for r in cheaper_failing.iter().take(5) {
            let v = r.verdict.as_ref().expect("slo set");
            lines.push(format!(
                "{} fails at {}/month ({} of {} replications meet): {}.",
                label(meta, &r.values),
                money(cost(r).map_or(0.0, |e| e.mean)),
                v.meeting,
                v.of,
                v.reason.as_deref().unwrap_or("no reason recorded")
            ));
        }
        if cheaper_failing.len() > 5 {
            lines.push(format!(
                "… and {} more cheaper points that fail (see the table).",
                cheaper_failing.len() - 5
            ));
        }
    }
    for i in inert_parameters(meta, pts) {
        let p = &meta.parameters[i];
        let vals: Vec<String> = p.values.iter().map(|v| v.to_string()).collect();
        lines.push(format!(
            "{} changed nothing: every value ({}) gave identical results. In this scenario it has no effect (for a cooldown: nothing happened that it would delay) — sweeping it tells you nothing.",
            p.path,
            vals.join(", ")
        ));
    }
    if (meta.replications as usize) < stats::MIN_REPLICATIONS {
        lines.push(format!(
            "Only {} replication(s) per point: intervals from fewer than {} are unreliable (with 2 they are just the range of the two values). Set replications ≥ {} before trusting a close call.",
            meta.replications,
            stats::MIN_REPLICATIONS,
            stats::MIN_REPLICATIONS
        ));
    }
    lines
}

fn interval(e: &Estimate) -> String {
    match (e.low, e.high) {
        (Some(l), Some(h)) => format!(" [{}, {}]", money(l), money(h)),
        _ => String::new(),
    }
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
    crate::report::fsio::write(&p, jsonl).map_err(io(&p))?;
    let records: Vec<Vec<(String, Value)>> = results.iter().map(|r| job_record(meta, r)).collect();
    Table::from_records(records).write(dir, "results")
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
    Table::from_records(records).write(dir, "points")?;
    let mut inline = Vec::new();
    let scatter: Vec<ScatterPoint> = pts
        .iter()
        .filter_map(|r| {
            Some(ScatterPoint {
                x: r.est("cost_usd.monthly_projection")?.mean,
                y: r.est("latency_ms.p99")?.mean,
                label: format!("#{}", r.point),
                front: r.pareto,
                fails: r.verdict.as_ref().is_some_and(|v| !v.meets),
            })
        })
        .collect();
    if !scatter.is_empty() {
        let slo_p99 = results
            .iter()
            .find_map(|r| r.outcome.as_ref().ok().and_then(|s| s.slo.p99_ms));
        let chart = Chart::Scatter {
            title: "Monthly cost vs p99 latency (mean over replications; #n = point n)".into(),
            x_label: "monthly cost projection (USD per 730 h)".into(),
            y_label: "p99 latency over the run (ms)".into(),
            points: scatter,
            hline: slo_p99.map(|p| (p, format!("SLO: p99 ≤ {p} ms in each minute"))),
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
    crate::report::fsio::write(&p, page).map_err(io(&p))?;
    Ok(pts)
}

fn page(
    meta: &SweepMeta,
    results: &[JobResult],
    pts: &[PointRow],
    inline: &[InlineChart],
) -> String {
    let failed: Vec<&JobResult> = results.iter().filter(|r| r.outcome.is_err()).collect();
    let mut body = String::from("<h2>Answer</h2>\n");
    body.push_str(&html::notes(&answer(meta, pts)));
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
    let restricted = pts
        .iter()
        .any(|r| r.verdict.as_ref().is_some_and(|v| v.meets));
    let slo_set = pts.iter().any(|r| r.verdict.is_some());
    body.push_str(&format!(
        "<h2>Pareto front: monthly cost vs p99{}</h2>\n<p>Points no other {}point beats on both cost and p99. {}</p>\n",
        if restricted {
            ", among the points that meet the SLO"
        } else {
            ""
        },
        if restricted { "meeting " } else { "" },
        html::esc(INTERVALS)
    ));
    let head = [
        "point",
        "parameters",
        "SLO",
        "monthly cost (USD)",
        "p99 (ms)",
        "SLO breach minutes",
        "errors (timed out + rejected + failed)",
        "lag mean (s)",
    ];
    let cells = |r: &PointRow| {
        let errors = ["requests.timed_out", "requests.rejected", "requests.failed"]
            .iter()
            .filter_map(|m| r.est(m).map(|e| e.mean))
            .sum::<f64>();
        vec![
            r.point.to_string(),
            label(meta, &r.values),
            match &r.verdict {
                Some(v) if v.meets => v.cell(),
                Some(v) => format!("⚠ {}: {}", v.cell(), v.reason.as_deref().unwrap_or("-")),
                None => "no [slo]".into(),
            },
            ci(r.est("cost_usd.monthly_projection"), 2),
            ci(r.est("latency_ms.p99"), 1),
            ci(r.est("slo.breach_minutes"), 1),
            if errors > 0.0 {
                format!("⚠ {errors:.0} per run (mean)")
            } else {
                "0".into()
            },
            ci(r.est("scaling.lag_s.mean"), 1),
        ]
    };
    let front: Vec<Vec<String>> = pts.iter().filter(|r| r.pareto).map(cells).collect();
    body.push_str(&html::table(&head, &front, &[]));
    body.push_str("<h2>Charts</h2>\n");
    body.push_str(&html::charts(inline));
    body.push_str("<h2>All points</h2>\n");
    if !slo_set {
        body.push_str("<p>No <code>[slo]</code> in the scenario: no point is judged.</p>\n");
    }
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
    body.push_str("<h2>Assumptions</h2>\n");
    body.push_str(&format!(
        "<p>Of {}; the swept parameters above change some of them per point.</p>\n",
        html::esc(&meta.assumptions_of)
    ));
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
    let text = crate::input::read_text(path, crate::input::MAX_JOBS_BYTES)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l).map_err(|e| format!("{} line {}: {e}", path.display(), i + 1))
        })
        .collect()
}
