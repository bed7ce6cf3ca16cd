//! The report of services sharing one EC2 cluster: each service's own run
//! report in a folder of its name, and the cluster's summary
//! (`cluster.json`, `index.html`): its instances, what they cost, and how
//! that cost splits between the services, their daemons and capacity
//! nobody reserved.

use super::charts::{self, Chart, Line, PALETTE};
use super::run_page::{series, time_axis};
use super::{ClusterUse, Nodes, RunOutput, cluster_use, html, nodes_summary};
use crate::control::ClusterControl;
use crate::error::Error;
use crate::scenario::safe_name;
use crate::time::{SECOND, SimTime};
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;
use std::path::Path;

/// What a run of services sharing a cluster produces.
pub struct SharedOutput {
    /// Each service's output, in file order.
    pub services: Vec<RunOutput>,
    /// The cluster's summary.
    pub cluster: SharedSummary,
}

/// One service's line in the cluster summary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceLine {
    /// Service name.
    pub name: String,
    /// Requests arrived.
    pub requests: u64,
    /// 99th percentile latency (ms).
    pub latency_p99_ms: Option<f64>,
    /// Minutes whose p99 broke the service's SLO.
    pub slo_breach_minutes: Option<u64>,
    /// Mean RUNNING tasks.
    pub tasks_mean: f64,
    /// Task-minutes spent PENDING, waiting for room.
    pub pending_task_minutes: f64,
    /// Instance cost charged to the service: its allocation (on-demand and
    /// Spot instances alike), or the whole bill when it is alone.
    pub instances_usd: f64,
    /// Everything the service cost: allocated instances and its own bills
    /// (load balancer).
    pub total_usd: f64,
}

/// The cluster's cost and where it went.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SharedCost {
    /// Everything: instances (on-demand and Spot) and every service's own bills.
    pub total: f64,
    /// On-demand instances.
    pub instances: f64,
    /// Spot instances.
    pub spot: f64,
    /// Instance cost allocated to the services (sum of theirs).
    pub allocated_to_services: f64,
    /// Instance cost allocated to daemon tasks.
    pub daemons: f64,
    /// Instance cost nobody reserved: idle registered capacity, instances
    /// still booting, per-second rounding and 60-second minimums.
    pub unallocated: f64,
    /// The part of it spent on registered but unreserved capacity and on
    /// instances still booting (the rest: rounding and minimums).
    pub idle: f64,
    /// The run's cost rate scaled to a 730-hour month.
    pub monthly_projection: f64,
}

/// One service alone on its own copy of the cluster.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AloneLine {
    /// Service name.
    pub name: String,
    /// Everything it cost alone: its cluster's whole bill and its own bills.
    pub total_usd: f64,
    /// Its cluster's instance-hours.
    pub node_hours: f64,
    /// 99th percentile latency (ms).
    pub latency_p99_ms: Option<f64>,
    /// Minutes whose p99 broke the SLO.
    pub slo_breach_minutes: Option<u64>,
    /// Task-minutes spent PENDING.
    pub pending_task_minutes: f64,
}

/// The services each on its own cluster, against the shared one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alone {
    /// Each service alone, in file order.
    pub services: Vec<AloneLine>,
    /// Their total cost.
    pub total_usd: f64,
    /// Their total instance-hours.
    pub node_hours: f64,
    /// What sharing saves: alone total − shared total (negative: sharing costs more).
    pub saving_usd: f64,
    /// The saving as a share of the alone total.
    pub saving_share: Option<f64>,
}

/// `cluster.json`: the shared cluster over the run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SharedSummary {
    /// Scenario name.
    pub scenario: String,
    /// Seed.
    pub seed: u64,
    /// Simulated span (s).
    pub duration_s: f64,
    /// The services, in file order.
    pub services: Vec<ServiceLine>,
    /// Instances over the run.
    pub nodes: Nodes,
    /// Share of registered resources reserved by tasks (daemons included).
    pub cluster: ClusterUse,
    /// Cost and its allocation.
    pub cost_usd: SharedCost,
    /// Each service on its own cluster (`capsim run --alone`), if run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alone: Option<Alone>,
}

/// Adds the comparison with each service alone on its own cluster (the
/// outputs of `run::run_alone`, in service order).
pub fn add_alone(summary: &mut SharedSummary, alone: &[SharedOutput]) {
    let services: Vec<AloneLine> = alone
        .iter()
        .map(|o| {
            let c = &o.cluster;
            let s = c.services.first();
            AloneLine {
                name: s.map_or_else(|| c.scenario.clone(), |s| s.name.clone()),
                total_usd: c.cost_usd.total,
                node_hours: c.nodes.node_hours,
                latency_p99_ms: s.and_then(|s| s.latency_p99_ms),
                slo_breach_minutes: s.and_then(|s| s.slo_breach_minutes),
                pending_task_minutes: s.map_or(0.0, |s| s.pending_task_minutes),
            }
        })
        .collect();
    let total_usd: f64 = services.iter().map(|l| l.total_usd).sum();
    let saving_usd = total_usd - summary.cost_usd.total;
    summary.alone = Some(Alone {
        node_hours: services.iter().map(|l| l.node_hours).sum(),
        saving_share: (total_usd > 0.0).then(|| saving_usd / total_usd),
        total_usd,
        saving_usd,
        services,
    });
}

/// The cluster summary of a finished shared run.
pub fn shared_summary(
    name: &str,
    seed: u64,
    end: SimTime,
    services: &[RunOutput],
    cluster: &mut ClusterControl,
) -> SharedSummary {
    let bill = cluster.cost(end);
    let c = cluster.cluster();
    let lines: Vec<ServiceLine> = services
        .iter()
        .map(|o| {
            let s = &o.summary;
            ServiceLine {
                name: s.scenario.clone(),
                requests: s.requests.arrived,
                latency_p99_ms: s.latency_ms.p99,
                slo_breach_minutes: s.slo.breach_minutes,
                tasks_mean: s.tasks.mean,
                pending_task_minutes: s.tasks.pending_task_minutes,
                // Alone on its cluster a service is charged its Spot
                // instances too (in `spot`); sharing, its allocation.
                instances_usd: s.cost_usd.instances + s.cost_usd.spot,
                total_usd: s.cost_usd.total,
            }
        })
        .collect();
    let instances = bill.instances + bill.spot;
    let allocated: f64 = c.stats.allocated_usd.iter().sum();
    let own: f64 = lines.iter().map(|l| l.total_usd - l.instances_usd).sum();
    let total = instances + own;
    let duration_s = end as f64 / SECOND as f64;
    SharedSummary {
        scenario: name.to_string(),
        seed,
        duration_s,
        nodes: nodes_summary(c, end),
        cluster: cluster_use(c),
        cost_usd: SharedCost {
            total,
            instances: bill.instances,
            spot: bill.spot,
            allocated_to_services: allocated,
            daemons: c.stats.daemons_usd,
            unallocated: instances - allocated - c.stats.daemons_usd,
            idle: c.stats.idle_usd,
            monthly_projection: total / (duration_s / 3_600.0) * 730.0,
        },
        services: lines,
        alone: None,
    }
}

fn pct(v: Option<f64>) -> String {
    v.map_or("-".into(), |v| format!("{:.1} %", v * 100.0))
}

fn ms(v: Option<f64>) -> String {
    v.map_or("-".into(), |v| format!("{v:.1} ms"))
}

/// A short human table of the cluster and its services.
pub fn shared_table(s: &SharedSummary) -> String {
    let mut t = String::new();
    let c = &s.cost_usd;
    let _ = writeln!(
        t,
        "scenario   {} (seed {}, {} services sharing one cluster, {:.0} s simulated)",
        s.scenario,
        s.seed,
        s.services.len(),
        s.duration_s
    );
    let _ = writeln!(
        t,
        "instances  min {}  max {}  mean {:.2}  ({:.1} instance-hours); reserved CPU {}, memory {}",
        s.nodes.min,
        s.nodes.max,
        s.nodes.mean,
        s.nodes.node_hours,
        pct(s.cluster.cpu_allocated_mean),
        pct(s.cluster.memory_allocated_mean)
    );
    let _ = writeln!(
        t,
        "cost       ${:.2} (instances {:.2}, spot {:.2}); to services {:.2}, daemons {:.2}, unallocated {:.2} (idle {:.2}); ${:.2}/month",
        c.total,
        c.instances,
        c.spot,
        c.allocated_to_services,
        c.daemons,
        c.unallocated,
        c.idle,
        c.monthly_projection
    );
    if let Some(a) = &s.alone {
        let _ = writeln!(
            t,
            "alone      each service on its own cluster: ${:.2} ({:.1} instance-hours); sharing saves ${:.2}{}",
            a.total_usd,
            a.node_hours,
            a.saving_usd,
            a.saving_share
                .map_or(String::new(), |x| format!(" ({:.1} %)", x * 100.0))
        );
    }
    for l in &s.services {
        let _ = writeln!(
            t,
            "service    {}: {} requests, p99 {}, {} breach minute(s), {:.2} tasks, {:.1} pending task-minutes, ${:.2} (instances {:.2})",
            l.name,
            l.requests,
            ms(l.latency_p99_ms),
            l.slo_breach_minutes.map_or("-".into(), |b| b.to_string()),
            l.tasks_mean,
            l.pending_task_minutes,
            l.total_usd,
            l.instances_usd
        );
    }
    t
}

/// The cluster page's charts: each service's RUNNING tasks beside the
/// instances, and each service's cumulative cost.
fn shared_charts(services: &[RunOutput]) -> Vec<(String, String, Chart)> {
    let Some(first) = services.first() else {
        return Vec::new();
    };
    let (unit, x_label) = time_axis(&first.minutes);
    let color = |k: usize| PALETTE[k % (PALETTE.len() - 1)];
    let mut tasks: Vec<Line> = services
        .iter()
        .enumerate()
        .map(|(k, o)| Line {
            name: format!("{} tasks", o.summary.scenario),
            points: series(&o.minutes, unit, |r| Some(r.tasks), false),
            color: color(k),
            dashed: false,
        })
        .collect();
    tasks.push(Line {
        name: "instances".into(),
        points: series(&first.minutes, unit, |r| r.instances.map(f64::from), false),
        color: PALETTE[6],
        dashed: true,
    });
    let cost: Vec<Line> = services
        .iter()
        .enumerate()
        .map(|(k, o)| {
            let mut total = 0.0;
            let cumulative: Vec<(f64, f64)> = o
                .minutes
                .iter()
                .map(|r| {
                    total += r.cost_usd;
                    ((r.t_start_s + r.seconds) / unit, total)
                })
                .collect();
            let step = cumulative.len().div_ceil(2_000).max(1);
            Line {
                name: o.summary.scenario.clone(),
                points: cumulative
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| i % step == 0 || *i + 1 == cumulative.len())
                    .map(|(_, p)| *p)
                    .collect(),
                color: color(k),
                dashed: false,
            }
        })
        .collect();
    vec![
        (
            "chart-tasks".into(),
            "Tasks per service and instances".into(),
            Chart::Lines {
                title: "Tasks per service and instances".into(),
                x_label: x_label.into(),
                y_label: "count (time-average per minute)".into(),
                lines: tasks,
                markers: Vec::new(),
                hline: None,
            },
        ),
        (
            "chart-cost".into(),
            "Cumulative cost per service (allocated instances and own bills)".into(),
            Chart::Lines {
                title: "Cumulative cost per service".into(),
                x_label: x_label.into(),
                y_label: "USD".into(),
                lines: cost,
                markers: Vec::new(),
                hline: None,
            },
        ),
    ]
}

/// Writes each service's report into `dir/<service>/`, then `cluster.json`,
/// the charts (`tasks`, `cost`, SVG and PNG) and `index.html` into `dir`.
/// Only these files are written.
pub fn write_shared(dir: &Path, out: &SharedOutput) -> Result<(), Error> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |error| Error::Output { path, error }
    };
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    for o in &out.services {
        super::write_run(&dir.join(safe_name(&o.summary.scenario)), o)?;
    }
    let json = dir.join("cluster.json");
    let text = serde_json::to_string_pretty(&out.cluster).expect("the summary serialises") + "\n";
    crate::report::fsio::write(&json, text).map_err(io(&json))?;
    let s = &out.cluster;
    let rows: Vec<Vec<String>> = s
        .services
        .iter()
        .map(|l| {
            vec![
                l.name.clone(),
                l.requests.to_string(),
                ms(l.latency_p99_ms),
                l.slo_breach_minutes.map_or("-".into(), |b| b.to_string()),
                format!("{:.2}", l.tasks_mean),
                format!("{:.1}", l.pending_task_minutes),
                format!("${:.2}", l.instances_usd),
                format!("${:.2}", l.total_usd),
            ]
        })
        .collect();
    let c = &s.cost_usd;
    let cost_rows = vec![
        vec!["on-demand instances".into(), format!("${:.2}", c.instances)],
        vec!["Spot instances".into(), format!("${:.2}", c.spot)],
        vec![
            "allocated to services".into(),
            format!("${:.2}", c.allocated_to_services),
        ],
        vec!["allocated to daemons".into(), format!("${:.2}", c.daemons)],
        vec![
            "unallocated (idle, booting, billing minimums)".into(),
            format!("${:.2}", c.unallocated),
        ],
        vec!["of which idle".into(), format!("${:.2}", c.idle)],
        vec![
            "total (with the services' own bills)".into(),
            format!("${:.2}", c.total),
        ],
        vec![
            "per 730-hour month".into(),
            format!("${:.2}", c.monthly_projection),
        ],
    ];
    let mut inline = Vec::new();
    for (id, title, chart) in shared_charts(&out.services) {
        let stem = id.trim_start_matches("chart-").to_string();
        let svg = charts::render(&chart, dir, &stem)?;
        inline.push(html::InlineChart {
            id,
            title,
            svg,
            png: format!("{stem}.png"),
        });
    }
    let mut body = String::new();
    body.push_str("<h2>Services</h2>\n");
    body.push_str(&html::table(
        &[
            "service",
            "requests",
            "p99",
            "SLO breach minutes",
            "mean tasks",
            "pending task-minutes",
            "instance cost allocated",
            "total cost",
        ],
        &rows,
        &[],
    ));
    body.push_str("<h2>Cluster</h2>\n");
    let _ = writeln!(
        body,
        "<p>Instances: min {} / max {} / mean {:.2} ({:.1} instance-hours); reserved CPU {}, memory {}.</p>",
        s.nodes.min,
        s.nodes.max,
        s.nodes.mean,
        s.nodes.node_hours,
        html::esc(&pct(s.cluster.cpu_allocated_mean)),
        html::esc(&pct(s.cluster.memory_allocated_mean))
    );
    body.push_str(&html::table(&["cost", "USD"], &cost_rows, &[]));
    body.push_str(
        "<p>Instance cost is allocated while tasks hold it: the reserved share of each instance's price (the larger of its CPU and memory shares) is split between the tasks on it by their mean share of its CPU and memory. This is capsim's rule, close to but not the same as AWS split cost allocation data.</p>\n",
    );
    if let Some(a) = &s.alone {
        body.push_str("<h2>Each service on its own cluster</h2>\n");
        let _ = writeln!(
            body,
            "<p>The same services, each alone on a copy of the cluster (same seeds, so the same requests): ${:.2} and {:.1} instance-hours in all, against ${:.2} and {:.1} shared. Sharing saves ${:.2}{}.</p>",
            a.total_usd,
            a.node_hours,
            s.cost_usd.total,
            s.nodes.node_hours,
            a.saving_usd,
            a.saving_share
                .map_or(String::new(), |x| format!(" ({:.1} %)", x * 100.0))
        );
        let rows: Vec<Vec<String>> = a
            .services
            .iter()
            .zip(&s.services)
            .map(|(l, sh)| {
                vec![
                    l.name.clone(),
                    format!("${:.2}", l.total_usd),
                    format!("${:.2}", sh.total_usd),
                    format!("{:.1}", l.node_hours),
                    ms(l.latency_p99_ms),
                    ms(sh.latency_p99_ms),
                    format!("{:.1}", l.pending_task_minutes),
                    format!("{:.1}", sh.pending_task_minutes),
                ]
            })
            .collect();
        body.push_str(&html::table(
            &[
                "service",
                "cost alone",
                "cost shared",
                "instance-hours alone",
                "p99 alone",
                "p99 shared",
                "pending task-minutes alone",
                "pending task-minutes shared",
            ],
            &rows,
            &[],
        ));
    }
    body.push_str(&html::charts(&inline));
    body.push_str("<h2>Each service's report</h2>\n");
    let links: Vec<String> = out
        .services
        .iter()
        .map(|o| format!("{}/index.html", safe_name(&o.summary.scenario)))
        .collect();
    let mut names: Vec<&str> = links.iter().map(String::as_str).collect();
    names.extend(["cluster.json", "tasks.png", "cost.png"]);
    body.push_str(&html::files(&names));
    let page = html::page(
        &format!("capsim shared cluster: {}", s.scenario),
        &format!(
            "seed {}, {:.0} s simulated, {} services",
            s.seed,
            s.duration_s,
            s.services.len()
        ),
        &body,
    );
    let index = dir.join("index.html");
    crate::report::fsio::write(&index, page).map_err(io(&index))?;
    Ok(())
}
