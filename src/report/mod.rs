//! What a run produces and how it is written: the summary (its JSON is a
//! stable contract other tools read), the per-minute time series, the short
//! human table, and the files under the output directory.

pub mod charts;
pub mod fsio;
pub mod html;
pub mod parquet_guard;
pub mod run_page;
pub mod shared;
pub mod tables;
pub mod verdict;

pub use shared::{
    SharedOutput, SharedSummary, add_alone, shared_summary, shared_table, write_shared,
};

pub use run_page::RunContext;

use crate::control::{ControlPlane, StopReason, TaskRecord};
use crate::error::Error;
use crate::load::RateFn;
use crate::metrics::Recorder;
use crate::pricing::Totals;
use crate::scaling::Decision;
use crate::scaling::lag::Stages;
use crate::time::{MINUTE, SECOND, SimTime, as_ms_f64, as_secs_f64};
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;
use std::path::Path;

/// Request counts. `arrived = completed + timed_out + rejected + failed + in_flight_at_end`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Requests {
    /// Requests that arrived.
    pub arrived: u64,
    /// Requests that completed.
    pub completed: u64,
    /// Requests that timed out.
    pub timed_out: u64,
    /// Requests rejected (no task, or a full queue).
    pub rejected: u64,
    /// Requests lost with a task that stopped under them.
    pub failed: u64,
    /// Requests still in the system when the run ended.
    pub in_flight_at_end: u64,
}

impl Requests {
    /// Whether every arrived request is accounted for exactly once.
    pub fn conserved(&self) -> bool {
        self.arrived
            == self.completed + self.timed_out + self.rejected + self.failed + self.in_flight_at_end
    }
}

/// Latency of completed requests (ms); `null` when none completed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LatencyMs {
    /// Exact mean.
    pub mean: Option<f64>,
    /// Median.
    pub p50: Option<f64>,
    /// 90th percentile.
    pub p90: Option<f64>,
    /// 95th percentile.
    pub p95: Option<f64>,
    /// 99th percentile.
    pub p99: Option<f64>,
    /// 99.9th percentile.
    pub p999: Option<f64>,
    /// Exact maximum.
    pub max: Option<f64>,
}

/// Time completed requests spent waiting for a slot (ms).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct QueueWaitMs {
    /// Exact mean.
    pub mean: Option<f64>,
    /// 99th percentile.
    pub p99: Option<f64>,
}

/// Requests in the system over time.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct InFlight {
    /// Time-average number of requests in the system (L in Little's law).
    pub mean: f64,
}

/// Running tasks over time (RUNNING: containers started, not stopped).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Tasks {
    /// Fewest running at once (for a positive time).
    pub min: u32,
    /// Most running at once.
    pub max: u32,
    /// Time-average running.
    pub mean: f64,
    /// Task-hours run.
    pub task_hours: f64,
    /// Tasks launched during the run (the warm initial fleet included).
    pub launched: u64,
    /// Tasks OOM-killed.
    pub oom_killed: u64,
    /// Tasks stopped by a Spot interruption.
    pub spot_interrupted: u64,
    /// Stopped because the node autoscaler removed their node (Kubernetes
    /// evictions; 0 on ECS).
    #[serde(default)]
    pub evicted: u64,
    /// Task-minutes spent before the image pull started: waiting for a place
    /// on an instance (EC2) or provisioning (Fargate).
    pub pending_task_minutes: f64,
}

/// EC2 container instances over time.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Nodes {
    /// Fewest alive at once (for a positive time).
    pub min: u32,
    /// Most alive at once.
    pub max: u32,
    /// Time-average alive.
    pub mean: f64,
    /// Instance-hours.
    pub node_hours: f64,
    /// Instances launched.
    pub launched: u64,
    /// Instance-hours and launches by instance type and capacity type,
    /// most hours first.
    #[serde(default)]
    pub by_type: Vec<NodeTypeUse>,
    /// What Karpenter did (`null` under another node scaler).
    #[serde(default)]
    pub karpenter: Option<crate::k8s::karpenter::controller::KarpenterStats>,
}

/// One instance type and capacity type of a cluster's nodes over a run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NodeTypeUse {
    /// e.g. `c6a.large`.
    pub instance_type: String,
    /// `spot` or `on-demand`.
    pub capacity_type: String,
    /// Nodes launched (the warm start's included).
    pub launched: u64,
    /// Node-hours.
    pub node_hours: f64,
}

/// How much of the registered capacity tasks reserved.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ClusterUse {
    /// Reserved / registered CPU, time-averaged.
    pub cpu_allocated_mean: Option<f64>,
    /// Reserved / registered memory, time-averaged.
    pub memory_allocated_mean: Option<f64>,
}

/// CPU used / CPU reserved by running tasks.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CpuUtilization {
    /// Over the whole run (busy core-seconds / reserved core-seconds).
    pub mean: Option<f64>,
}

/// Cost of the run (USD).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Cost {
    /// Everything billed.
    pub total: f64,
    /// On-demand compute (vCPU, memory, OS licence).
    pub compute: f64,
    /// Spot compute.
    pub spot: f64,
    /// Storage (ephemeral storage above the free 20 GB).
    pub storage: f64,
    /// Load balancer (hours and LCUs).
    pub load_balancer: f64,
    /// On-demand EC2 instances (Spot instances are in `spot`).
    pub instances: f64,
    /// The EKS control plane (per cluster-hour; a shared cluster's fee is
    /// split evenly between its services). 0 on ECS.
    #[serde(default)]
    pub control_plane: f64,
    /// What registered but unreserved instance capacity cost (an instance's
    /// price × the share of it no task reserved, by its scarcer resource;
    /// booting instances count whole). `null` off EC2: Fargate bills what
    /// tasks reserve.
    pub idle: Option<f64>,
    /// Total per million arrived requests (`null` without requests).
    pub per_million_requests: Option<f64>,
    /// The run's cost rate scaled to a 730-hour month.
    pub monthly_projection: f64,
}

/// Lag statistics (seconds) over the episodes closed by new capacity.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LagStats {
    /// Mean.
    pub mean: Option<f64>,
    /// 95th percentile (nearest rank).
    pub p95: Option<f64>,
    /// Maximum.
    pub max: Option<f64>,
}

/// Scaling behaviour.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Scaling {
    /// Scale-out activities applied.
    pub scale_out_events: u64,
    /// Scale-in activities applied.
    pub scale_in_events: u64,
    /// Time from under-provisioning to enough serving capacity.
    pub lag_s: LagStats,
    /// Minutes whose average serving count was below the tasks needed at target.
    pub under_provisioned_minutes: u64,
    /// Under-provisioning episodes closed (by capacity or by falling demand).
    pub episodes: u64,
    /// Start (s) of an episode still open at the end of the run.
    pub unresolved_since_s: Option<f64>,
    /// Mean stage breakdown of the lag (s) over episodes closed by capacity.
    pub stages_s: Stages,
}

/// Service-level objective results.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Slo {
    /// The target p99 (ms), if the scenario sets one.
    pub p99_ms: Option<f64>,
    /// Minutes whose p99 (errors counted as infinitely slow) exceeded the
    /// target; `null` without a target.
    pub breach_minutes: Option<u64>,
    /// Whether the run meets every objective of `[slo]` (`null` without one).
    #[serde(default)]
    pub meets: Option<bool>,
    /// Why it fails, one reason per objective missed.
    #[serde(default)]
    pub fails: Vec<String>,
}

/// Engine counters.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Engine {
    /// Events processed.
    pub events: u64,
    /// Wall-clock time of the run (ms) — the only non-deterministic field.
    pub wall_ms: f64,
    /// The data plane that served the requests: `request` (every request
    /// simulated) or `fluid` (counted per step, latencies from queueing
    /// formulas: an approximation, README "Fidelity").
    #[serde(default = "request_plane")]
    pub data_plane: String,
}

fn request_plane() -> String {
    "request".into()
}

/// The summary of one run (`summary.json`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Scenario name.
    pub scenario: String,
    /// Seed used.
    pub seed: u64,
    /// Platform kind.
    pub platform: String,
    /// AWS region.
    pub region: String,
    /// Simulated seconds.
    pub duration_s: f64,
    /// Request counts.
    pub requests: Requests,
    /// Completed requests per simulated second.
    pub throughput_rps: f64,
    /// Latency of completed requests.
    pub latency_ms: LatencyMs,
    /// Queue wait of completed requests.
    pub queue_wait_ms: QueueWaitMs,
    /// Requests in the system.
    pub in_flight: InFlight,
    /// Running tasks.
    pub tasks: Tasks,
    /// CPU utilisation.
    pub cpu_utilization: CpuUtilization,
    /// EC2 instances (`null` off EC2).
    pub nodes: Option<Nodes>,
    /// Share of registered capacity reserved by tasks (`null` off EC2).
    pub cluster: Option<ClusterUse>,
    /// Cost.
    pub cost_usd: Cost,
    /// Autoscaling and lag.
    pub scaling: Scaling,
    /// SLO.
    pub slo: Slo,
    /// Engine counters.
    pub engine: Engine,
    /// Notes for the user (fields ignored, assumptions worth knowing).
    pub notes: Vec<String>,
}

impl Summary {
    /// The dotted paths of every number in a summary (what `[[slo.limits]]`
    /// and sweeps may name).
    pub fn numeric_paths() -> Vec<String> {
        let s = Summary {
            nodes: Some(Nodes {
                karpenter: Some(Default::default()),
                ..Nodes::default()
            }),
            cluster: Some(ClusterUse::default()),
            ..Summary::default()
        };
        let mut flat = Vec::new();
        tables::flatten(
            "",
            &serde_json::to_value(&s).expect("serialises"),
            &mut flat,
        );
        flat.into_iter()
            .filter(|(_, v)| v.is_number() || v.is_null())
            .map(|(k, _)| k)
            .filter(|k| k != "seed" && k != "slo.meets")
            .collect()
    }
}

/// The SLO verdict in one line: "MEETS (p99 ≤ 400 ms: 0 breach minutes)"
/// or "FAILS: p99 above 400 ms in 12 minute(s) (0 allowed); …", or `None`
/// without an SLO.
pub fn slo_line(slo: &Slo) -> Option<String> {
    let meets = slo.meets?;
    let detail = match (slo.p99_ms, slo.breach_minutes) {
        (Some(p), Some(b)) => format!(" (p99 ≤ {p} ms: {b} breach minute(s))"),
        _ => String::new(),
    };
    Some(if meets {
        format!("MEETS the SLO{detail}")
    } else {
        format!("FAILS the SLO: {}", slo.fails.join("; "))
    })
}

/// One row of `timeseries.csv`: one simulated minute (the last may be partial).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MinuteRecord {
    /// Minute index from the start.
    pub minute: u64,
    /// Start of the minute (s).
    pub t_start_s: f64,
    /// Length of the minute (s): 60 except perhaps the last.
    pub seconds: f64,
    /// Offered rate of the load model, averaged over the minute (req/s).
    pub offered_rps: f64,
    /// Observed arrival rate (req/s).
    pub arrival_rps: f64,
    /// Requests that arrived.
    pub arrived: u64,
    /// Requests that completed.
    pub completed: u64,
    /// Requests that timed out.
    pub timed_out: u64,
    /// Requests rejected.
    pub rejected: u64,
    /// Requests failed with their task.
    pub failed: u64,
    /// Time-average running tasks.
    pub tasks: f64,
    /// Time-average tasks serving (healthy in the target group).
    pub serving: f64,
    /// Desired count at the end of the minute.
    pub desired: u32,
    /// Tasks needed to serve the offered load at the scaling target.
    pub needed: u32,
    /// EC2 instances alive at the end of the minute (empty off EC2).
    pub instances: Option<u32>,
    /// Of them, Spot instances (empty off EC2).
    #[serde(default)]
    pub spot_instances: Option<u32>,
    /// CPU used / CPU reserved by running tasks (empty with no task).
    pub cpu_utilization: Option<f64>,
    /// Median latency of requests completed in the minute (ms).
    pub latency_p50_ms: Option<f64>,
    /// 99th percentile latency of requests completed in the minute (ms).
    pub latency_p99_ms: Option<f64>,
    /// Whether the minute breached the SLO (empty without an SLO).
    pub slo_breach: Option<bool>,
    /// Cost accrued in the minute (USD).
    pub cost_usd: f64,
}

/// One row of `tasks.csv`: a task's life (times in seconds).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TaskRow {
    /// Task id.
    pub task: u32,
    /// `FARGATE` or `FARGATE_SPOT`.
    pub provider: String,
    /// Launched.
    pub launched_s: f64,
    /// Image pull started (billing starts).
    pub pull_start_s: Option<f64>,
    /// RUNNING.
    pub running_s: Option<f64>,
    /// Healthy, serving.
    pub serving_s: Option<f64>,
    /// Deregistration started.
    pub draining_s: Option<f64>,
    /// STOPPED.
    pub stopped_s: Option<f64>,
    /// Why it stopped.
    pub stop_reason: Option<String>,
}

/// Everything a run produced.
#[derive(Debug, Clone, PartialEq)]
pub struct RunOutput {
    /// The summary.
    pub summary: Summary,
    /// One record per simulated minute.
    pub minutes: Vec<MinuteRecord>,
    /// The scaling decision log.
    pub decisions: Vec<Decision>,
    /// Every task's life.
    pub tasks: Vec<TaskRow>,
    /// Nodes alive at the end of each minute by instance type and
    /// capacity type (`nodes.csv`; empty off EC2 and for a sweep's jobs).
    pub nodes: Vec<NodeMinute>,
    /// What the report needs beyond the numbers.
    pub context: RunContext,
}

/// One row of `nodes.csv`: the nodes of one instance type and capacity
/// type alive at the end of a minute (rows with none are left out).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NodeMinute {
    /// Minute index from the start.
    pub minute: u64,
    /// e.g. `c6a.large`.
    pub instance_type: String,
    /// `spot` or `on-demand`.
    pub capacity_type: String,
    /// Nodes alive.
    pub nodes: u32,
}

/// The cluster's nodes by type and capacity type at the end of each of
/// `minutes` minutes (the last one ends at `end`).
pub fn node_minutes(c: &crate::cluster::Cluster, minutes: usize, end: SimTime) -> Vec<NodeMinute> {
    let mut by: std::collections::BTreeMap<(&str, bool), Vec<u32>> = Default::default();
    for i in &c.instances {
        let counts = by
            .entry((&i.instance_type, i.spot))
            .or_insert_with(|| vec![0; minutes]);
        // Alive as minute m closes (the minute's row is written before
        // the cluster's events of that instant, as `instances` counts).
        let first = (i.launched / MINUTE) as usize;
        for (m, n) in counts.iter_mut().enumerate().skip(first.saturating_sub(1)) {
            let t = ((m as u64 + 1) * MINUTE).min(end);
            if i.terminated.is_some_and(|x| x < t) {
                break;
            }
            if i.launched < t || (i.warm && i.launched == 0) {
                *n += 1;
            }
        }
    }
    let mut out = Vec::new();
    for m in 0..minutes {
        for ((t, spot), counts) in &by {
            if counts[m] > 0 {
                out.push(NodeMinute {
                    minute: m as u64,
                    instance_type: t.to_string(),
                    capacity_type: if *spot { "spot" } else { "on-demand" }.into(),
                    nodes: counts[m],
                });
            }
        }
    }
    out
}

/// Inputs of [`build`] that are not in the recorder.
pub struct RunFacts<'a> {
    /// Scenario name.
    pub scenario: &'a str,
    /// Build the summary alone ([`crate::run_summary`]): `minutes` and
    /// `tasks` stay empty.
    pub summary_only: bool,
    /// Seed.
    pub seed: u64,
    /// Platform kind.
    pub platform: &'a str,
    /// Region.
    pub region: &'a str,
    /// End of the run (µs).
    pub end: SimTime,
    /// Offered rate.
    pub rate: &'a RateFn,
    /// SLO target (ms).
    pub slo: &'a verdict::SloSpec,
    /// Cost totals.
    pub cost: Totals,
    /// The EC2 cluster the tasks ran on, if any.
    pub cluster: Option<&'a crate::cluster::Cluster>,
    /// What Karpenter did, if it scaled the cluster.
    pub karpenter: Option<crate::k8s::karpenter::controller::KarpenterStats>,
    /// What the cluster's unreserved capacity cost (when the service had
    /// the cluster to itself; shared clusters report it for all services).
    pub idle_usd: Option<f64>,
    /// Start (s) of a lag episode still open at the end.
    pub unresolved_episode_start_s: Option<f64>,
    /// Notes for the user.
    pub notes: Vec<String>,
    /// Events processed.
    pub events: u64,
    /// Wall time (ms).
    pub wall_ms: f64,
    /// The data plane that ran (`request` or `fluid`).
    pub data_plane: &'a str,
}

fn ms(us: u64) -> f64 {
    as_ms_f64(us)
}

/// A cluster's nodes by type in words: "c6a.large spot: 4 launched,
/// 44.0 h; …" (the five with the most hours, then how many more).
pub fn by_type_line(n: &Nodes) -> String {
    let mut parts: Vec<String> = n
        .by_type
        .iter()
        .take(5)
        .map(|t| {
            format!(
                "{} {}: {} launched, {:.1} h",
                t.instance_type, t.capacity_type, t.launched, t.node_hours
            )
        })
        .collect();
    if n.by_type.len() > 5 {
        parts.push(format!("{} more type(s)", n.by_type.len() - 5));
    }
    parts.join("; ")
}

/// What Karpenter did, in words (`None` without Karpenter).
pub fn karpenter_line(n: &Nodes) -> Option<String> {
    let k = n.karpenter.as_ref()?;
    Some(format!(
        "{} node(s) launched ({} Spot, {} on-demand) in {} batch(es); consolidation: {} empty and {} under-utilized deleted, {} replaced by cheaper, {} abandoned at validation; {} expired; {} Spot interruption(s); {} pod(s) evicted",
        k.launched_spot + k.launched_on_demand,
        k.launched_spot,
        k.launched_on_demand,
        k.batches,
        k.consolidation_empty,
        k.consolidation_deleted,
        k.consolidation_replaced,
        k.consolidation_abandoned,
        k.expired,
        k.spot_interruptions,
        k.pods_disrupted
    ))
}

/// The size of an EC2 cluster over a run.
pub fn nodes_summary(c: &crate::cluster::Cluster, end: SimTime) -> Nodes {
    let s = &c.stats;
    let mut by: std::collections::BTreeMap<(&str, bool), (u64, SimTime)> = Default::default();
    for i in &c.instances {
        let e = by.entry((&i.instance_type, i.spot)).or_default();
        e.0 += 1;
        e.1 += i
            .terminated
            .unwrap_or(end)
            .min(end)
            .saturating_sub(i.launched);
    }
    let mut by_type: Vec<NodeTypeUse> = by
        .into_iter()
        .map(|((t, spot), (n, us))| NodeTypeUse {
            instance_type: t.to_string(),
            capacity_type: if spot { "spot" } else { "on-demand" }.into(),
            launched: n,
            node_hours: us as f64 / (3_600.0 * SECOND as f64),
        })
        .collect();
    by_type.sort_by(|a, b| b.node_hours.total_cmp(&a.node_hours));
    Nodes {
        min: s.min.unwrap_or(0),
        max: s.max,
        mean: s.instance_time as f64 / end as f64,
        node_hours: s.instance_time as f64 / (3_600.0 * SECOND as f64),
        launched: c.instances.len() as u64,
        by_type,
        karpenter: None,
    }
}

/// How much of an EC2 cluster's registered resources tasks reserved.
pub fn cluster_use(c: &crate::cluster::Cluster) -> ClusterUse {
    ClusterUse {
        cpu_allocated_mean: (c.stats.cpu_registered > 0.0)
            .then(|| c.stats.cpu_allocated / c.stats.cpu_registered),
        memory_allocated_mean: (c.stats.mem_registered > 0.0)
            .then(|| c.stats.mem_allocated / c.stats.mem_registered),
    }
}

/// Builds the summary and the time series of a finished run.
pub fn build(rec: &Recorder, control: &ControlPlane, f: &RunFacts<'_>) -> RunOutput {
    let fleet = control.fleet();
    let needed = control.lag().needed();
    let duration_s = as_secs_f64(f.end);
    let lat = rec.latency();
    let any = rec.completed > 0;
    // Histogram buckets report their upper edge: never above the exact max.
    let q = |p: f64| any.then(|| ms(lat.value_at_quantile(p).min(rec.latency_max())));
    let slo_us = f.slo.p99_ms.map(|p| p * 1_000.0);
    let breach =
        |row: &crate::metrics::MinuteRow| -> Option<bool> { slo_us.map(|_| row.slo_breach()) };
    // A sweep's job reads only the summary: no per-minute records.
    let rows = if f.summary_only { &[][..] } else { rec.rows() };
    let mut minutes = Vec::with_capacity(rows.len());
    for (m, row) in rows.iter().enumerate() {
        let t0 = m as SimTime * MINUTE;
        let t1 = (t0 + MINUTE).min(f.end);
        let secs = as_secs_f64(t1 - t0);
        minutes.push(MinuteRecord {
            minute: m as u64,
            t_start_s: as_secs_f64(t0),
            seconds: secs,
            offered_rps: f.rate.integral(t0, t1) / secs,
            arrival_rps: row.arrived as f64 / secs,
            arrived: row.arrived,
            completed: row.completed,
            timed_out: row.timed_out,
            rejected: row.rejected,
            failed: row.failed,
            tasks: row.task_time as f64 / (t1 - t0) as f64,
            serving: row.serving_time as f64 / (t1 - t0) as f64,
            desired: row.desired,
            needed: needed.get(m).copied().unwrap_or(0),
            instances: row.instances,
            spot_instances: row.spot_instances,
            cpu_utilization: (row.reserved > 0).then(|| row.busy as f64 / row.reserved as f64),
            latency_p50_ms: row.latency_p50.map(ms),
            latency_p99_ms: row.latency_p99.map(ms),
            slo_breach: breach(row),
            cost_usd: row.cost,
        });
    }
    let busy: u128 = rec.rows().iter().map(|r| r.busy as u128).sum();
    let reserved: u128 = rec.rows().iter().map(|r| r.reserved as u128).sum();
    let task_area = fleet.running.total();
    let count = |r: StopReason| {
        fleet
            .tasks()
            .iter()
            .filter(|t| t.stop_reason == Some(r))
            .count() as u64
    };
    let lag = control.lag();
    let mut lags: Vec<f64> = lag
        .episodes()
        .iter()
        .filter(|e| e.closed_by == "capacity")
        .map(|e| e.lag_s)
        .collect();
    lags.sort_by(f64::total_cmp);
    let nearest_rank = |p: f64| -> Option<f64> {
        (!lags.is_empty())
            .then(|| lags[((p * lags.len() as f64).ceil() as usize).clamp(1, lags.len()) - 1])
    };
    let (outs, ins) = control.scaling_events();
    let total = f.cost.total();
    let mut summary = Summary {
        scenario: f.scenario.to_string(),
        seed: f.seed,
        platform: f.platform.to_string(),
        region: f.region.to_string(),
        duration_s,
        requests: Requests {
            arrived: rec.arrived,
            completed: rec.completed,
            timed_out: rec.timed_out,
            rejected: rec.rejected,
            failed: rec.failed,
            in_flight_at_end: rec.in_flight(),
        },
        throughput_rps: rec.completed as f64 / duration_s,
        latency_ms: LatencyMs {
            mean: rec.latency_mean().map(|v| v / 1_000.0),
            p50: q(0.50),
            p90: q(0.90),
            p95: q(0.95),
            p99: q(0.99),
            p999: q(0.999),
            max: any.then(|| ms(rec.latency_max())),
        },
        queue_wait_ms: QueueWaitMs {
            mean: rec.wait_mean().map(|v| v / 1_000.0),
            p99: rec.wait_quantile(0.99).map(ms),
        },
        in_flight: InFlight {
            mean: rec.in_flight_area() as f64 / f.end as f64,
        },
        tasks: Tasks {
            min: fleet.running.min(),
            max: fleet.running.max(),
            mean: task_area as f64 / f.end as f64,
            task_hours: task_area as f64 / (3_600.0 * SECOND as f64),
            launched: fleet.tasks().len() as u64,
            // Tasks stopped by an OOM kill, and Kubernetes containers
            // restarted in place after one.
            oom_killed: count(StopReason::OomKilled)
                + fleet
                    .tasks()
                    .iter()
                    .map(|t| t.oom_restarts as u64)
                    .sum::<u64>(),
            spot_interrupted: count(StopReason::SpotInterrupted),
            evicted: count(StopReason::Evicted),
            pending_task_minutes: fleet
                .tasks()
                .iter()
                .map(|t| {
                    t.pull_start
                        .or(t.stopped)
                        .unwrap_or(f.end)
                        .saturating_sub(t.launched)
                })
                .sum::<SimTime>() as f64
                / MINUTE as f64,
        },
        nodes: f.cluster.map(|c| Nodes {
            karpenter: f.karpenter.clone(),
            ..nodes_summary(c, f.end)
        }),
        cluster: f.cluster.map(cluster_use),
        cpu_utilization: CpuUtilization {
            mean: (reserved > 0).then(|| busy as f64 / reserved as f64),
        },
        cost_usd: Cost {
            total,
            compute: f.cost.compute,
            spot: f.cost.spot,
            storage: f.cost.storage,
            load_balancer: f.cost.load_balancer,
            instances: f.cost.instances,
            control_plane: f.cost.control_plane,
            idle: f.idle_usd,
            per_million_requests: (rec.arrived > 0).then(|| total / rec.arrived as f64 * 1e6),
            monthly_projection: total / (duration_s / 3_600.0) * 730.0,
        },
        scaling: Scaling {
            scale_out_events: outs,
            scale_in_events: ins,
            lag_s: LagStats {
                mean: (!lags.is_empty()).then(|| lags.iter().sum::<f64>() / lags.len() as f64),
                p95: nearest_rank(0.95),
                max: lags.last().copied(),
            },
            under_provisioned_minutes: lag.under_provisioned_minutes(),
            episodes: lag.episodes().len() as u64,
            unresolved_since_s: f.unresolved_episode_start_s,
            stages_s: lag.mean_stages(),
        },
        slo: Slo {
            p99_ms: f.slo.p99_ms,
            breach_minutes: slo_us.map(|_| {
                rec.rows()
                    .iter()
                    .filter(|r| breach(r) == Some(true))
                    .count() as u64
            }),
            meets: None,
            fails: Vec::new(),
        },
        engine: Engine {
            events: f.events,
            wall_ms: f.wall_ms,
            data_plane: f.data_plane.to_string(),
        },
        notes: f.notes.clone(),
    };
    if let Some(v) = verdict::verdict(&summary, f.slo) {
        summary.slo.meets = Some(v.meets);
        summary.slo.fails = v.fails;
    }
    let minutes_len = minutes.len();
    RunOutput {
        summary,
        minutes,
        // The caller hands the log over (`ControlPlane::take_decisions`).
        decisions: Vec::new(),
        tasks: if f.summary_only {
            Vec::new()
        } else {
            fleet.tasks().iter().map(task_row).collect()
        },
        nodes: match f.cluster {
            Some(c) if !f.summary_only => node_minutes(c, minutes_len, f.end),
            _ => Vec::new(),
        },
        context: RunContext::default(),
    }
}

fn task_row(t: &TaskRecord) -> TaskRow {
    let s = |x: Option<SimTime>| x.map(as_secs_f64);
    TaskRow {
        task: t.id,
        provider: match t.provider {
            crate::platform::Provider::Fargate => "FARGATE".into(),
            crate::platform::Provider::FargateSpot => "FARGATE_SPOT".into(),
            crate::platform::Provider::Ec2 => "EC2".into(),
        },
        launched_s: as_secs_f64(t.launched),
        pull_start_s: s(t.pull_start),
        running_s: s(t.running),
        serving_s: s(t.serving),
        draining_s: s(t.draining),
        stopped_s: s(t.stopped),
        stop_reason: t.stop_reason.map(|r| format!("{r:?}")),
    }
}

/// The summary as pretty JSON (what `--json` prints and `summary.json` holds).
pub fn summary_json(s: &Summary) -> String {
    let mut out = serde_json::to_string_pretty(s).expect("a summary always serialises");
    out.push('\n');
    out
}

/// Rows as CSV (with a header even when there is no row).
pub fn to_csv<T: Serialize>(rows: &[T], header: &[&str]) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    if rows.is_empty() {
        w.write_record(header)
            .expect("writing CSV to memory cannot fail");
    }
    for r in rows {
        w.serialize(r).expect("writing CSV to memory cannot fail");
    }
    String::from_utf8(w.into_inner().expect("in-memory writer")).expect("CSV is UTF-8")
}

/// The time series as CSV.
pub fn timeseries_csv(minutes: &[MinuteRecord]) -> String {
    to_csv(minutes, &["minute"])
}

/// The decision log as CSV.
pub fn decisions_csv(rows: &[Decision]) -> String {
    to_csv(
        rows,
        &[
            "time_s",
            "clock",
            "policy",
            "alarm",
            "datapoints",
            "alarm_state",
            "running",
            "old_desired",
            "proposed",
            "new_desired",
            "action",
            "reason",
        ],
    )
}

/// The task lives as CSV.
pub fn tasks_csv(rows: &[TaskRow]) -> String {
    to_csv(
        rows,
        &[
            "task",
            "provider",
            "launched_s",
            "pull_start_s",
            "running_s",
            "serving_s",
            "draining_s",
            "stopped_s",
            "stop_reason",
        ],
    )
}

fn opt(v: Option<f64>, unit: &str) -> String {
    v.map_or_else(|| "-".to_string(), |v| format!("{v:.1} {unit}"))
}

/// The note that says the monthly projection may misstate a month, if any.
pub fn projection_caveat(s: &Summary) -> Option<&str> {
    s.notes
        .iter()
        .find(|n| n.starts_with("monthly projection:"))
        .map(String::as_str)
}

/// A short human summary table.
pub fn human_table(s: &Summary) -> String {
    let mut t = String::new();
    let r = &s.requests;
    let l = &s.latency_ms;
    let _ = writeln!(
        t,
        "scenario   {} (seed {}, {} on {}, {:.0} s simulated)",
        s.scenario, s.seed, s.platform, s.region, s.duration_s
    );
    let _ = writeln!(
        t,
        "requests   {} arrived, {} completed, {} timed out, {} rejected, {} failed, {} in flight at end",
        r.arrived, r.completed, r.timed_out, r.rejected, r.failed, r.in_flight_at_end
    );
    let _ = writeln!(
        t,
        "latency    mean {}  p50 {}  p99 {}  p99.9 {}  max {}",
        opt(l.mean, "ms"),
        opt(l.p50, "ms"),
        opt(l.p99, "ms"),
        opt(l.p999, "ms"),
        opt(l.max, "ms")
    );
    let _ = writeln!(
        t,
        "queue wait mean {}  p99 {}",
        opt(s.queue_wait_ms.mean, "ms"),
        opt(s.queue_wait_ms.p99, "ms")
    );
    let _ = writeln!(
        t,
        "tasks      min {}  max {}  mean {:.2}  ({:.1} task-hours)   CPU utilisation {}",
        s.tasks.min,
        s.tasks.max,
        s.tasks.mean,
        s.tasks.task_hours,
        s.cpu_utilization
            .mean
            .map_or("-".into(), |u| format!("{:.1} %", u * 100.0))
    );
    let c = &s.cost_usd;
    let _ = writeln!(
        t,
        "cost       ${:.2} (compute {:.2}, instances {:.2}, spot {:.2}, storage {:.2}, load balancer {:.2}{}{}); ${:.2}/month{}; {}",
        c.total,
        c.compute,
        c.instances,
        c.spot,
        c.storage,
        c.load_balancer,
        if c.control_plane > 0.0 {
            format!(", EKS control plane {:.2}", c.control_plane)
        } else {
            String::new()
        },
        c.idle
            .map_or(String::new(), |i| format!("; idle capacity {i:.2}")),
        c.monthly_projection,
        if projection_caveat(s).is_some() {
            " (⚠ see the monthly projection note)"
        } else {
            ""
        },
        c.per_million_requests
            .map_or("-".into(), |p| format!("${p:.3} per million requests"))
    );
    let sc = &s.scaling;
    if sc.scale_out_events + sc.scale_in_events + sc.episodes > 0 {
        let _ = writeln!(
            t,
            "scaling    {} out, {} in; lag mean {} p95 {} max {}; {} under-provisioned minute(s)",
            sc.scale_out_events,
            sc.scale_in_events,
            opt(sc.lag_s.mean, "s"),
            opt(sc.lag_s.p95, "s"),
            opt(sc.lag_s.max, "s"),
            sc.under_provisioned_minutes
        );
    }
    if let Some(v) = slo_line(&s.slo) {
        let _ = writeln!(t, "SLO        {v}");
    }
    if let (Some(n), Some(u)) = (&s.nodes, &s.cluster) {
        let pct = |v: Option<f64>| v.map_or("-".into(), |v| format!("{:.1} %", v * 100.0));
        let _ = writeln!(
            t,
            "instances  min {}  max {}  mean {:.2}  ({:.1} instance-hours); reserved CPU {}, memory {}; {:.1} pending task-minutes",
            n.min,
            n.max,
            n.mean,
            n.node_hours,
            pct(u.cpu_allocated_mean),
            pct(u.memory_allocated_mean),
            s.tasks.pending_task_minutes
        );
        if !n.by_type.is_empty() {
            let _ = writeln!(t, "node types {}", by_type_line(n));
        }
        if let Some(k) = karpenter_line(n) {
            let _ = writeln!(t, "karpenter  {k}");
        }
    }
    let _ = writeln!(
        t,
        "engine     {} events in {:.0} ms ({} data plane)",
        s.engine.events, s.engine.wall_ms, s.engine.data_plane
    );
    t
}

/// The minute rows as typed columns, in `MinuteRecord`'s field order and
/// with the types the JSON route would infer (a test holds the two equal).
fn timeseries_columns(m: &[MinuteRecord]) -> tables::Columns {
    let f = |get: fn(&MinuteRecord) -> f64| m.iter().map(move |r| Some(get(r)));
    let u = |get: fn(&MinuteRecord) -> u64| m.iter().map(move |r| Some(get(r)));
    tables::Columns::new(m.len())
        .ints("minute", u(|r| r.minute))
        .floats("t_start_s", f(|r| r.t_start_s))
        .floats("seconds", f(|r| r.seconds))
        .floats("offered_rps", f(|r| r.offered_rps))
        .floats("arrival_rps", f(|r| r.arrival_rps))
        .ints("arrived", u(|r| r.arrived))
        .ints("completed", u(|r| r.completed))
        .ints("timed_out", u(|r| r.timed_out))
        .ints("rejected", u(|r| r.rejected))
        .ints("failed", u(|r| r.failed))
        .floats("tasks", f(|r| r.tasks))
        .floats("serving", f(|r| r.serving))
        .ints("desired", u(|r| u64::from(r.desired)))
        .ints("needed", u(|r| u64::from(r.needed)))
        .ints("instances", m.iter().map(|r| r.instances.map(u64::from)))
        .ints(
            "spot_instances",
            m.iter().map(|r| r.spot_instances.map(u64::from)),
        )
        .floats("cpu_utilization", m.iter().map(|r| r.cpu_utilization))
        .floats("latency_p50_ms", m.iter().map(|r| r.latency_p50_ms))
        .floats("latency_p99_ms", m.iter().map(|r| r.latency_p99_ms))
        .bools("slo_breach", m.iter().map(|r| r.slo_breach))
        .floats("cost_usd", f(|r| r.cost_usd))
}

/// Writes `summary.json`, `timeseries.csv` and `.parquet`, `decisions.csv`,
/// `tasks.csv`, the charts (SVG and PNG) and `index.html` into `dir`
/// (created if needed). Only these files are written.
/// Only these files are written; anything else in `dir` is left alone.
pub fn write_run(dir: &Path, out: &RunOutput) -> Result<(), Error> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |error| Error::Output { path, error }
    };
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let summary = dir.join("summary.json");
    crate::report::fsio::write(&summary, summary_json(&out.summary)).map_err(io(&summary))?;
    // timeseries.csv comes with its Parquet twin from the table below.
    for (name, text) in [
        ("decisions.csv", decisions_csv(&out.decisions)),
        ("tasks.csv", tasks_csv(&out.tasks)),
    ] {
        let p = dir.join(name);
        crate::report::fsio::write(&p, text).map_err(io(&p))?;
    }
    if !out.nodes.is_empty() {
        let p = dir.join("nodes.csv");
        let text = to_csv(
            &out.nodes,
            &["minute", "instance_type", "capacity_type", "nodes"],
        );
        crate::report::fsio::write(&p, text).map_err(io(&p))?;
    }
    timeseries_columns(&out.minutes).write(dir, "timeseries")?;
    run_page::write(dir, out, &out.context)
}

#[cfg(test)]
mod timeseries_tests {
    use super::*;

    /// The JSON route the minute rows took before: serialised rows as flat
    /// records (dotted column names).
    fn records<T: Serialize>(rows: &[T]) -> Vec<Vec<(String, serde_json::Value)>> {
        rows.iter()
            .map(|r| {
                let mut out = Vec::new();
                tables::flatten(
                    "",
                    &serde_json::to_value(r).expect("rows serialise"),
                    &mut out,
                );
                out
            })
            .collect()
    }

    /// The typed columns are the frame the JSON route infers, for rows
    /// with every optional column empty, partly filled and full, and
    /// non-finite floats.
    #[test]
    fn typed_columns_are_the_json_routes() {
        let row = |k: u64| MinuteRecord {
            minute: k,
            t_start_s: k as f64 * 60.0,
            seconds: 60.0,
            offered_rps: 10.5 * k as f64,
            arrival_rps: if k == 2 { f64::NAN } else { 10.0 },
            arrived: 600 + k,
            completed: 590,
            tasks: 3.0,
            serving: 2.5,
            desired: 3,
            needed: 2,
            cost_usd: 0.01,
            ..MinuteRecord::default()
        };
        let empty: Vec<MinuteRecord> = (0..4).map(row).collect();
        let mut partly = empty.clone();
        partly[1].instances = Some(4);
        partly[2].spot_instances = Some(1);
        partly[2].cpu_utilization = Some(0.5);
        partly[3].latency_p50_ms = Some(12.0);
        partly[3].latency_p99_ms = Some(80.0);
        partly[0].slo_breach = Some(true);
        let full: Vec<MinuteRecord> = partly
            .iter()
            .map(|r| MinuteRecord {
                instances: Some(2),
                spot_instances: Some(0),
                cpu_utilization: Some(0.25),
                latency_p50_ms: Some(1.0),
                latency_p99_ms: Some(2.0),
                slo_breach: Some(false),
                ..r.clone()
            })
            .collect();
        for rows in [empty, partly, full] {
            let typed = timeseries_columns(&rows).frame().unwrap();
            let json = tables::Table::from_records(records(&rows))
                .to_frame()
                .unwrap();
            assert_eq!(typed.get_column_names(), json.get_column_names());
            assert_eq!(typed.dtypes(), json.dtypes());
            assert!(typed.equals_missing(&json), "{typed}\n{json}");
        }
    }
}
