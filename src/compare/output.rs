//! What `compare` prints and writes: the answer — which option meets the
//! SLO at the least cost, and why the others fail — the decision table
//! (terminal, Parquet, CSV) with the verdict and the errors of every option,
//! the chart (the SLO line on the p99 panel) and the page, which also lists
//! what each option ran with.

use super::{Candidate, notes};
use crate::error::Error;
use crate::report::charts::{self, Chart};
use crate::report::html::{self, InlineChart};
use crate::report::tables::Table;
use crate::report::{self, Summary};
use serde_json::Value;
use std::path::Path;

fn errors(s: &Summary) -> u64 {
    s.requests.timed_out + s.requests.rejected + s.requests.failed
}

/// "meets", "FAILS", or "-" without an SLO; "⚠" marks errors.
fn verdict_cell(s: &Summary) -> String {
    let v = match s.slo.meets {
        Some(true) => "meets",
        Some(false) => "FAILS",
        None => "-",
    };
    if errors(s) > 0 {
        format!("{v} ⚠")
    } else {
        v.into()
    }
}

/// The answer to "which option?", in words: the cheapest that meets the
/// SLO first, then why each other option fails (or costs more), errors
/// named; without an SLO, the cheapest, and the advice to state one.
pub fn answer(options: &[Candidate]) -> Vec<String> {
    let cost = |o: &Candidate| o.output.summary.cost_usd.monthly_projection;
    let mut by_cost: Vec<&Candidate> = options.iter().collect();
    by_cost.sort_by(|a, b| cost(a).total_cmp(&cost(b)));
    let slo_set = options.iter().any(|o| o.output.summary.slo.meets.is_some());
    let mut lines = Vec::new();
    let meeting: Vec<&&Candidate> = by_cost
        .iter()
        .filter(|o| o.output.summary.slo.meets == Some(true))
        .collect();
    match (slo_set, meeting.first()) {
        (false, _) => {
            if let Some(c) = by_cost.first() {
                lines.push(format!(
                    "No SLO is set, so there is no verdict: {} is the cheapest at ${:.2}/month. State one in [slo] (p99_ms, max_breach_minutes, max_error_rate, limits) to know which option is good enough.",
                    c.platform,
                    cost(c)
                ));
            }
        }
        (true, Some(best)) => lines.push(format!(
            "{} meets the SLO at the least cost: ${:.2}/month (${}/M requests, p99 {}).",
            best.platform,
            cost(best),
            best.output
                .summary
                .cost_usd
                .per_million_requests
                .map_or("-".into(), |v| format!("{v:.3}")),
            best.output
                .summary
                .latency_ms
                .p99
                .map_or("-".into(), |v| format!("{v:.1} ms"))
        )),
        (true, None) => {
            lines.push("No option meets the SLO; the reasons follow, cheapest option first.".into())
        }
    }
    for o in &by_cost {
        let s = &o.output.summary;
        let mut line = match s.slo.meets {
            Some(false) => format!(
                "{} fails (${:.2}/month): {}.",
                o.platform,
                cost(o),
                s.slo.fails.join("; ")
            ),
            Some(true) if meeting.first().is_some_and(|b| b.platform == o.platform) => continue,
            Some(true) => format!(
                "{} meets it too, at ${:.2}/month (+${:.2}).",
                o.platform,
                cost(o),
                cost(o) - meeting.first().map_or(0.0, |b| cost(b))
            ),
            None => continue,
        };
        let e = errors(s);
        if e > 0 {
            line.push_str(&format!(
                " Errors: {} timed out, {} rejected, {} failed.",
                report::verdict::thousands(s.requests.timed_out),
                report::verdict::thousands(s.requests.rejected),
                report::verdict::thousands(s.requests.failed)
            ));
        }
        lines.push(line);
    }
    if let Some(n) = options
        .iter()
        .find_map(|o| report::projection_caveat(&o.output.summary))
    {
        lines.push(format!(
            "The monthly figures are projections, and the ranking holds for this run only: {}.",
            n.trim_start_matches("monthly projection: ")
        ));
    }
    if !slo_set {
        for o in &by_cost {
            let e = errors(&o.output.summary);
            if e > 0 {
                lines.push(format!(
                    "{} had {} errored request(s): look before trusting its cost.",
                    o.platform,
                    report::verdict::thousands(e)
                ));
            }
        }
    }
    lines
}

/// The decision table as records.
pub fn records(options: &[Candidate]) -> Vec<Vec<(String, Value)>> {
    options
        .iter()
        .map(|o| {
            let s = &o.output.summary;
            let f = |v: Option<f64>| v.map_or(Value::Null, Value::from);
            vec![
                ("platform".into(), Value::from(o.platform.as_str())),
                (
                    "monthly_cost_usd".into(),
                    Value::from(s.cost_usd.monthly_projection),
                ),
                (
                    "cost_per_million_requests_usd".into(),
                    f(s.cost_usd.per_million_requests),
                ),
                ("latency_p99_ms".into(), f(s.latency_ms.p99)),
                (
                    "slo_meets".into(),
                    s.slo.meets.map_or(Value::Null, Value::from),
                ),
                ("slo_fails".into(), Value::from(s.slo.fails.join("; "))),
                (
                    "slo_breach_minutes".into(),
                    s.slo.breach_minutes.map_or(Value::Null, Value::from),
                ),
                ("timed_out".into(), Value::from(s.requests.timed_out)),
                ("rejected".into(), Value::from(s.requests.rejected)),
                ("failed".into(), Value::from(s.requests.failed)),
                ("scaling_lag_mean_s".into(), f(s.scaling.lag_s.mean)),
                ("scaling_lag_max_s".into(), f(s.scaling.lag_s.max)),
                // Fargate bills what tasks reserve: no instance capacity sits idle (null).
                ("idle_cost_usd".into(), f(s.cost_usd.idle)),
                ("errors".into(), Value::from(errors(s))),
                ("settings".into(), Value::from(o.settings.as_str())),
                ("notes".into(), Value::from(notes(&o.platform))),
            ]
        })
        .collect()
}

/// The answer and the decision table as text for the terminal.
pub fn text_table(options: &[Candidate]) -> String {
    let mut t = String::new();
    for line in answer(options) {
        t.push_str(&line);
        t.push('\n');
    }
    t.push('\n');
    t.push_str(&format!(
        "{:<14} {:>12} {:>10} {:>10} {:>8} {:>9} {:>9} {:>8} {:>9} {:>14}\n",
        "platform",
        "monthly USD",
        "USD/M req",
        "p99 ms",
        "SLO",
        "timed out",
        "rejected",
        "failed",
        "lag mean",
        "idle USD/month"
    ));
    for o in options {
        let s = &o.output.summary;
        let f = |v: Option<f64>, d: usize| v.map_or("-".to_string(), |v| format!("{v:.d$}"));
        t.push_str(&format!(
            "{:<14} {:>12.2} {:>10} {:>10} {:>8} {:>9} {:>9} {:>8} {:>9} {:>14}\n",
            o.platform,
            s.cost_usd.monthly_projection,
            f(s.cost_usd.per_million_requests, 3),
            f(s.latency_ms.p99, 1),
            verdict_cell(s),
            s.requests.timed_out,
            s.requests.rejected,
            s.requests.failed,
            f(s.scaling.lag_s.mean, 0),
            s.cost_usd.idle.map_or("n/a".to_string(), |i| format!(
                "{:.2}",
                i / (s.duration_s / 3_600.0) * 730.0
            ))
        ));
    }
    t
}

/// Writes each option's run report in `dir/<platform>/`, and the comparison
/// (`compare.{parquet,csv}`, a grouped bar chart, `index.html`) in `dir`.
pub fn write(dir: &Path, name: &str, options: &[Candidate]) -> Result<(), Error> {
    std::fs::create_dir_all(dir).map_err(|error| Error::Output {
        path: dir.to_path_buf(),
        error,
    })?;
    for o in options {
        report::write_run(&dir.join(&o.platform), &o.output)?;
    }
    Table::from_records(records(options)).write(dir, "compare")?;
    let groups: Vec<String> = options.iter().map(|o| o.platform.clone()).collect();
    let slo_p99 = options.iter().find_map(|o| o.output.summary.slo.p99_ms);
    let chart = Chart::Bars {
        title: "Platforms compared".into(),
        groups,
        panels: vec![
            (
                "monthly cost (USD)".into(),
                options
                    .iter()
                    .map(|o| Some(o.output.summary.cost_usd.monthly_projection))
                    .collect(),
                None,
            ),
            (
                "p99 latency (ms)".into(),
                options
                    .iter()
                    .map(|o| o.output.summary.latency_ms.p99)
                    .collect(),
                slo_p99.map(|p| (p, format!("SLO p99 {p} ms"))),
            ),
            (
                "mean scaling lag (s)".into(),
                options
                    .iter()
                    .map(|o| o.output.summary.scaling.lag_s.mean)
                    .collect(),
                None,
            ),
        ],
    };
    let svg = charts::render(&chart, dir, "compare")?;
    let head = [
        "platform",
        "monthly cost (USD)",
        "USD per million requests",
        "p99 (ms)",
        "SLO",
        "SLO breach minutes",
        "timed out / rejected / failed",
        "lag mean (s)",
        "idle cost",
        "report",
    ];
    let rows: Vec<Vec<String>> = options
        .iter()
        .map(|o| {
            let s = &o.output.summary;
            let f = |v: Option<f64>, d: usize| v.map_or("-".to_string(), |v| format!("{v:.d$}"));
            vec![
                o.platform.clone(),
                format!("{:.2}", s.cost_usd.monthly_projection),
                f(s.cost_usd.per_million_requests, 3),
                f(s.latency_ms.p99, 1),
                verdict_cell(s),
                s.slo.breach_minutes.map_or("-".into(), |b| b.to_string()),
                format!(
                    "{} / {} / {}",
                    s.requests.timed_out, s.requests.rejected, s.requests.failed
                ),
                f(s.scaling.lag_s.mean, 1),
                s.cost_usd
                    .idle
                    .map_or("n/a (billed on reservation)".into(), |i| {
                        format!(
                            "{:.2} in the run ({:.2} per month)",
                            i,
                            i / (s.duration_s / 3_600.0) * 730.0
                        )
                    }),
                format!("{}/index.html", o.platform),
            ]
        })
        .collect();
    let mut body = String::from("<h2>Answer</h2>\n");
    body.push_str(&html::notes(&answer(options)));
    body.push_str("<h2>Decision table</h2>\n");
    body.push_str(&html::table(&head, &rows, &[]));
    body.push_str("<h2>What each option ran with</h2>\n");
    let settings: Vec<Vec<String>> = options
        .iter()
        .map(|o| {
            let mut cell = o.settings.clone();
            let extra: Vec<&String> = o
                .output
                .summary
                .notes
                .iter()
                .filter(|n| n.starts_with("compare:"))
                .collect();
            for n in extra {
                cell.push_str("; ");
                cell.push_str(n.trim_start_matches("compare: "));
            }
            vec![o.platform.clone(), cell]
        })
        .collect();
    body.push_str(&html::table(&["platform", "settings"], &settings, &[]));
    body.push_str("<h2>Operational notes</h2>\n");
    let ops: Vec<Vec<String>> = options
        .iter()
        .map(|o| vec![o.platform.clone(), notes(&o.platform).into()])
        .collect();
    body.push_str(&html::table(
        &["platform", "what running it implies"],
        &ops,
        &[],
    ));
    body.push_str("<h2>Charts</h2>\n");
    body.push_str(&html::charts(&[InlineChart {
        id: "chart-compare".into(),
        title: "Monthly cost, p99 (with the SLO) and scaling lag per platform".into(),
        svg,
        png: "compare.png".into(),
    }]));
    body.push_str("<h2>Per-platform reports</h2>\n");
    let links: Vec<String> = options
        .iter()
        .map(|o| format!("{}/index.html", o.platform))
        .collect();
    let link_refs: Vec<&str> = links.iter().map(String::as_str).collect();
    body.push_str(&html::files(&link_refs));
    body.push_str("<h2>Data</h2>\n");
    body.push_str(&html::files(&["compare.parquet", "compare.csv"]));
    let p = dir.join("index.html");
    crate::report::fsio::write(&p, html::page(name, "capsim compare", &body))
        .map_err(|error| Error::Output { path: p, error })
}
