//! The report of one run: its four charts (demand vs serving capacity with
//! scaling markers, latency against the SLO, tasks, cumulative cost) and its
//! HTML page.

use super::charts::{self, Chart, Line, Marker, PALETTE};
use super::html::{self, Assumption, InlineChart};
use super::{MinuteRecord, RunOutput};
use crate::error::Error;
use std::fmt::Write as _;
use std::path::Path;

/// What the charts and the page need beyond the numbers.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunContext {
    /// Requests per second one serving task handles at 100 % CPU.
    pub capacity_rps_per_task: Option<f64>,
    /// The CPU target of target tracking (%), if any.
    pub cpu_target_pct: Option<f64>,
    /// The assumptions behind the numbers (prices with dates, delays, scaling).
    pub assumptions: Vec<Assumption>,
}

/// Most points a line has in a chart; longer series are averaged in buckets
/// (p99 takes the bucket's maximum).
const MAX_POINTS: usize = 1_500;

/// The time axis: hours, or days for runs longer than two days.
pub(crate) fn time_axis(minutes: &[MinuteRecord]) -> (f64, &'static str) {
    let span_h = minutes
        .last()
        .map_or(0.0, |m| (m.t_start_s + m.seconds) / 3_600.0);
    if span_h > 48.0 {
        (86_400.0, "time (days)")
    } else {
        (3_600.0, "time (hours)")
    }
}

pub(crate) fn series(
    minutes: &[MinuteRecord],
    unit: f64,
    f: impl Fn(&MinuteRecord) -> Option<f64>,
    max: bool,
) -> Vec<(f64, f64)> {
    let k = minutes.len().div_ceil(MAX_POINTS).max(1);
    minutes
        .chunks(k)
        .filter_map(|c| {
            let vals: Vec<f64> = c.iter().filter_map(&f).collect();
            if vals.is_empty() {
                return None;
            }
            let v = if max {
                vals.iter().copied().fold(f64::NEG_INFINITY, f64::max)
            } else {
                vals.iter().sum::<f64>() / vals.len() as f64
            };
            let mid = c.iter().map(|m| m.t_start_s + m.seconds / 2.0).sum::<f64>() / c.len() as f64;
            Some((mid / unit, v))
        })
        .collect()
}

/// Most scale markers drawn on the demand chart.
const MAX_MARKERS: usize = 60;

/// The run's charts.
pub fn run_charts(out: &RunOutput, ctx: &RunContext) -> Vec<(String, String, Chart)> {
    let m = &out.minutes;
    let (unit, x_label) = time_axis(m);
    let mut list = Vec::new();
    // Demand vs serving capacity.
    let mut lines = vec![Line {
        name: "offered load".into(),
        points: series(m, unit, |r| Some(r.offered_rps), false),
        color: PALETTE[6],
        dashed: false,
    }];
    if let Some(cap) = ctx.capacity_rps_per_task {
        lines.push(Line {
            name: "serving capacity at 100 % CPU".into(),
            points: series(m, unit, |r| Some(r.serving * cap), false),
            color: PALETTE[0],
            dashed: false,
        });
        if let Some(t) = ctx.cpu_target_pct {
            lines.push(Line {
                name: format!("serving capacity at the {t} % target"),
                points: series(m, unit, |r| Some(r.serving * cap * t / 100.0), false),
                color: PALETTE[5],
                dashed: true,
            });
        }
    }
    let rate_at = |t: f64| m.get((t / 60.0) as usize).map_or(0.0, |r| r.offered_rps);
    let mut markers: Vec<Marker> = out
        .decisions
        .iter()
        .filter(|d| d.action == "scale_out" || d.action == "scale_in")
        .map(|d| Marker {
            x: d.time_s / unit,
            y: rate_at(d.time_s),
            up: d.action == "scale_out",
        })
        .collect();
    // A month's thousand scale events would hide the load line: past
    // MAX_MARKERS, one marker of each direction per 1/MAX_MARKERS of the
    // run (the first in it) stands for those around it.
    if markers.len() > MAX_MARKERS {
        let span = m.last().map_or(1.0, |r| (r.t_start_s + r.seconds) / unit);
        let width = span / MAX_MARKERS as f64;
        let mut seen = std::collections::BTreeSet::new();
        markers.retain(|mk| seen.insert(((mk.x / width) as u64, mk.up)));
    }
    list.push((
        "chart-demand".into(),
        "Demand and serving capacity".into(),
        Chart::Lines {
            title: "Demand vs serving capacity".into(),
            x_label: x_label.into(),
            y_label: "requests per second".into(),
            lines,
            markers,
            hline: None,
        },
    ));
    // Latency.
    let mut latency = vec![
        Line {
            name: "p50".into(),
            points: series(m, unit, |r| r.latency_p50_ms, false),
            color: PALETTE[2],
            dashed: false,
        },
        Line {
            name: "p99".into(),
            points: series(m, unit, |r| r.latency_p99_ms, true),
            color: PALETTE[1],
            dashed: false,
        },
    ];
    let capped = charts::clip_outliers(&mut latency, "ms");
    list.push((
        "chart-latency".into(),
        "Latency per minute".into(),
        Chart::Lines {
            title: match capped {
                Some(c) => format!("Latency per minute ({c})"),
                None => "Latency per minute".into(),
            },
            x_label: x_label.into(),
            y_label: "latency (ms)".into(),
            lines: latency,
            markers: Vec::new(),
            hline: out
                .summary
                .slo
                .p99_ms
                .map(|p| (p, format!("SLO p99 {p} ms"))),
        },
    ));
    // Tasks.
    list.push((
        "chart-tasks".into(),
        "Tasks".into(),
        Chart::Lines {
            title: "Tasks".into(),
            x_label: x_label.into(),
            y_label: "tasks".into(),
            lines: vec![
                Line {
                    name: "running".into(),
                    points: series(m, unit, |r| Some(r.tasks), false),
                    color: PALETTE[0],
                    dashed: false,
                },
                Line {
                    name: "serving".into(),
                    points: series(m, unit, |r| Some(r.serving), false),
                    color: PALETTE[2],
                    dashed: false,
                },
                Line {
                    name: "desired".into(),
                    points: series(m, unit, |r| Some(r.desired as f64), false),
                    color: PALETTE[4],
                    dashed: false,
                },
                Line {
                    name: "needed at target".into(),
                    points: series(m, unit, |r| Some(r.needed as f64), false),
                    color: PALETTE[6],
                    dashed: true,
                },
            ]
            .into_iter()
            .chain(m.iter().any(|r| r.instances.is_some()).then(|| Line {
                name: if out.summary.platform == "eks" {
                    "nodes".into()
                } else {
                    "EC2 instances".into()
                },
                points: series(m, unit, |r| r.instances.map(f64::from), false),
                color: PALETTE[3],
                dashed: false,
            }))
            .chain(
                m.iter()
                    .any(|r| r.spot_instances.is_some_and(|s| s > 0))
                    .then(|| Line {
                        name: if out.summary.platform == "eks" {
                            "Spot nodes".into()
                        } else {
                            "Spot instances".into()
                        },
                        points: series(m, unit, |r| r.spot_instances.map(f64::from), false),
                        color: PALETTE[3],
                        dashed: true,
                    }),
            )
            .collect(),
            markers: Vec::new(),
            hline: None,
        },
    ));
    // Nodes by instance type and capacity type, when there are several.
    let mut keys: Vec<((&str, &str), u64)> = Vec::new();
    for n in &out.nodes {
        let k = (n.instance_type.as_str(), n.capacity_type.as_str());
        match keys.iter_mut().find(|(x, _)| *x == k) {
            Some((_, total)) => *total += u64::from(n.nodes),
            None => keys.push((k, u64::from(n.nodes))),
        }
    }
    if keys.len() > 1 {
        keys.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let shown: Vec<(&str, &str)> = keys.iter().take(6).map(|(k, _)| *k).collect();
        let mut per: Vec<Vec<f64>> = vec![vec![0.0; m.len()]; shown.len() + 1];
        for n in &out.nodes {
            let k = (n.instance_type.as_str(), n.capacity_type.as_str());
            let row = shown.iter().position(|s| *s == k).unwrap_or(shown.len());
            if let Some(v) = per[row].get_mut(n.minute as usize) {
                *v += f64::from(n.nodes);
            }
        }
        let mut lines: Vec<Line> = shown
            .iter()
            .enumerate()
            .map(|(i, (t, ct))| Line {
                name: format!("{t} {ct}"),
                points: series(m, unit, |r| per[i].get(r.minute as usize).copied(), false),
                color: PALETTE[i % PALETTE.len()],
                dashed: *ct == "spot",
            })
            .collect();
        if keys.len() > shown.len() {
            let other = &per[shown.len()];
            lines.push(Line {
                name: format!("{} other type(s)", keys.len() - shown.len()),
                points: series(m, unit, |r| other.get(r.minute as usize).copied(), false),
                color: PALETTE[6],
                dashed: false,
            });
        }
        list.push((
            "chart-nodes".into(),
            "Nodes by instance type and capacity type".into(),
            Chart::Lines {
                title: "Nodes by instance type and capacity type (dashed: Spot)".into(),
                x_label: x_label.into(),
                y_label: "nodes".into(),
                lines,
                markers: Vec::new(),
                hline: None,
            },
        ));
    }
    // Cumulative cost.
    let mut total = 0.0;
    let cumulative: Vec<MinuteRecord> = m
        .iter()
        .map(|r| {
            total += r.cost_usd;
            MinuteRecord {
                cost_usd: total,
                ..r.clone()
            }
        })
        .collect();
    list.push((
        "chart-cost".into(),
        "Cumulative cost".into(),
        Chart::Lines {
            title: "Cumulative cost".into(),
            x_label: x_label.into(),
            y_label: "USD".into(),
            lines: vec![Line {
                name: "cost".into(),
                points: series(&cumulative, unit, |r| Some(r.cost_usd), true),
                color: PALETTE[3],
                dashed: false,
            }],
            markers: Vec::new(),
            hline: None,
        },
    ));
    list
}

fn opt(v: Option<f64>, unit: &str) -> String {
    v.map_or("-".into(), |v| format!("{} {unit}", charts::fmt_value(v)))
}

/// Writes the run's charts (SVG, PNG) and `index.html` into `dir`.
pub fn write(dir: &Path, out: &RunOutput, ctx: &RunContext) -> Result<(), Error> {
    let mut inline = Vec::new();
    for (id, title, chart) in run_charts(out, ctx) {
        let stem = id.trim_start_matches("chart-").to_string();
        let svg = charts::render(&chart, dir, &stem)?;
        inline.push(InlineChart {
            id,
            title,
            svg,
            png: format!("{stem}.png"),
        });
    }
    let s = &out.summary;
    let r = &s.requests;
    let c = &s.cost_usd;
    let sc = &s.scaling;
    let mut rows: Vec<Vec<String>> = vec![
        vec!["platform".into(), format!("{} in {}", s.platform, s.region)],
        vec![
            "simulated".into(),
            format!("{:.1} h", s.duration_s / 3_600.0),
        ],
        vec![
            "data plane".into(),
            if s.engine.data_plane == "fluid" {
                "fluid: requests counted per step, latencies from queueing formulas (an approximation: see the notes and the README's Fidelity section)".into()
            } else {
                "request: every request simulated".into()
            },
        ],
        vec![
            "requests".into(),
            format!(
                "{} arrived, {} completed, {} timed out, {} rejected, {} failed",
                r.arrived, r.completed, r.timed_out, r.rejected, r.failed
            ),
        ],
        vec![
            "latency p50 / p99 / p99.9".into(),
            format!(
                "{} / {} / {}",
                opt(s.latency_ms.p50, "ms"),
                opt(s.latency_ms.p99, "ms"),
                opt(s.latency_ms.p999, "ms")
            ),
        ],
        vec![
            "SLO".into(),
            super::slo_line(&s.slo).unwrap_or_else(|| "none set".into()),
        ],
        vec![
            "tasks".into(),
            format!(
                "min {} / mean {:.2} / max {} ({:.1} task-hours; {} launched, {} OOM-killed, {} Spot-interrupted)",
                s.tasks.min,
                s.tasks.mean,
                s.tasks.max,
                s.tasks.task_hours,
                s.tasks.launched,
                s.tasks.oom_killed,
                s.tasks.spot_interrupted
            ),
        ],
        vec![
            "CPU utilisation".into(),
            s.cpu_utilization
                .mean
                .map_or("-".into(), |u| format!("{:.1} %", u * 100.0)),
        ],
        vec![
            "cost".into(),
            format!(
                "${:.2} (compute ${:.2}, instances ${:.2}, spot ${:.2}, storage ${:.2}, load balancer ${:.2}{})",
                c.total,
                c.compute,
                c.instances,
                c.spot,
                c.storage,
                c.load_balancer,
                if c.control_plane > 0.0 {
                    format!(", EKS control plane ${:.2}", c.control_plane)
                } else {
                    String::new()
                }
            ),
        ],
        vec![
            "monthly projection".into(),
            match super::projection_caveat(s) {
                Some(n) => format!("${:.2} per 730 h — ⚠ {n}", c.monthly_projection),
                None => format!("${:.2} per 730 h", c.monthly_projection),
            },
        ],
        vec![
            "idle capacity cost".into(),
            match (c.idle, &s.nodes) {
                (Some(i), _) => format!("${i:.2} (instances ${:.2})", c.instances),
                (None, Some(_)) => format!(
                    "shared cluster: see the cluster page (../index.html); this service is allocated ${:.2} of the instance bill",
                    c.instances
                ),
                (None, None) => "n/a: Fargate bills what tasks reserve".into(),
            },
        ],
        vec![
            "instances".into(),
            match (&s.nodes, &s.cluster) {
                (Some(n), Some(u)) => format!(
                    "min {} / mean {:.2} / max {} ({:.1} instance-hours); reserved CPU {} and memory {}; {:.1} pending task-minutes",
                    n.min,
                    n.mean,
                    n.max,
                    n.node_hours,
                    u.cpu_allocated_mean
                        .map_or("-".into(), |v| format!("{:.1} %", v * 100.0)),
                    u.memory_allocated_mean
                        .map_or("-".into(), |v| format!("{:.1} %", v * 100.0)),
                    s.tasks.pending_task_minutes
                ),
                _ => "-".into(),
            },
        ],
    ];
    if let Some(n) = &s.nodes {
        if !n.by_type.is_empty() {
            rows.push(vec!["node types".into(), super::by_type_line(n)]);
        }
        if let Some(k) = super::karpenter_line(n) {
            rows.push(vec!["Karpenter".into(), k]);
        }
    }
    rows.extend([
        vec![
            "cost per million requests".into(),
            c.per_million_requests
                .map_or("-".into(), |v| format!("${v:.3}")),
        ],
        vec![
            "scaling".into(),
            format!(
                "{} scale-outs, {} scale-ins; lag mean {} / p95 {} / max {}; {} under-provisioned minute(s)",
                sc.scale_out_events,
                sc.scale_in_events,
                opt(sc.lag_s.mean, "s"),
                opt(sc.lag_s.p95, "s"),
                opt(sc.lag_s.max, "s"),
                sc.under_provisioned_minutes
            ),
        ],
    ]);
    let st = &sc.stages_s;
    let k8s = s.platform == "eks";
    let label = |ecs: &'static str, kube: &'static str| if k8s { kube } else { ecs };
    let stages: Vec<(&str, f64)> = vec![
        (
            label(
                "metric period (until the first breaching datapoint's period ends)",
                "metrics window",
            ),
            st.metric_period,
        ),
        (
            label(
                "alarm datapoints (waiting for N of M datapoints to breach)",
                "metrics delay",
            ),
            if k8s {
                st.publication_delay
            } else {
                st.alarm_datapoints
            },
        ),
        (
            label(
                "metric delay (publication and alarm evaluation, calibrated together)",
                "HPA sync",
            ),
            if k8s {
                st.alarm_evaluation
            } else {
                st.publication_delay + st.alarm_evaluation
            },
        ),
        (
            label(
                "cooldown and other waits",
                "stabilization, rate limits and other waits",
            ),
            st.cooldown,
        ),
        (
            label("provisioning", "Pending (scheduling, Fargate capacity)"),
            st.provisioning,
        ),
        ("node provisioning", st.node_provisioning),
        ("image pull", st.image_pull),
        (
            label(
                "health check",
                "container start, readiness, ALB health check",
            ),
            st.health_check,
        ),
    ];
    let stage_rows: Vec<Vec<String>> = stages
        .iter()
        .map(|(k, v)| vec![k.to_string(), format!("{v:.1}")])
        .collect();
    let mut body = String::new();
    body.push_str("<h2>Summary</h2>\n");
    body.push_str(&html::table(&["", "value"], &rows, &[]));
    body.push_str("<h2>Charts</h2>\n");
    body.push_str(&html::charts(&inline));
    body.push_str("<h2>Scaling lag, by stage</h2>\n<p>Mean seconds per under-provisioning episode closed by new capacity; the stages add up to the lag.</p>\n");
    body.push_str(&html::table(&["stage", "seconds"], &stage_rows, &[]));
    body.push_str("<h2>Assumptions</h2>\n");
    body.push_str(&html::assumptions(&ctx.assumptions));
    if !s.notes.is_empty() {
        body.push_str("<h2>Notes</h2>\n");
        body.push_str(&html::notes(&s.notes));
    }
    body.push_str("<h2>Data</h2>\n");
    body.push_str(&html::files(&[
        "summary.json",
        "timeseries.csv",
        "timeseries.parquet",
        "decisions.csv",
        "tasks.csv",
    ]));
    let mut subtitle = String::new();
    let _ = write!(
        subtitle,
        "capsim run — seed {}, {} events in {:.0} ms",
        s.seed, s.engine.events, s.engine.wall_ms
    );
    let page = html::page(&s.scenario, &subtitle, &body);
    let p = dir.join("index.html");
    crate::report::fsio::write(&p, page).map_err(|error| Error::Output { path: p, error })
}
