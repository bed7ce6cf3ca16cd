//! What a run produces and how it is written: the summary (its JSON is a
//! stable contract other tools read), the per-minute time series, the short
//! human table, and the files under the output directory.

use crate::error::Error;
use crate::load::RateFn;
use crate::metrics::Recorder;
use crate::time::{MINUTE, SECOND, SimTime, as_ms_f64, as_secs_f64};
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;
use std::path::Path;

/// Request counts. `arrived = completed + timed_out + rejected + failed + in_flight_at_end`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueueWaitMs {
    /// Exact mean.
    pub mean: Option<f64>,
    /// 99th percentile.
    pub p99: Option<f64>,
}

/// Requests in the system over time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InFlight {
    /// Time-average number of requests in the system (L in Little's law).
    pub mean: f64,
}

/// Running tasks over time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tasks {
    /// Fewest running at once (for a positive time).
    pub min: u32,
    /// Most running at once.
    pub max: u32,
    /// Time-average running.
    pub mean: f64,
    /// Task-hours run.
    pub task_hours: f64,
}

/// CPU used / CPU reserved by running tasks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CpuUtilization {
    /// Over the whole run (busy core-seconds / reserved core-seconds).
    pub mean: Option<f64>,
}

/// Cost of the run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cost {
    /// Everything billed (USD).
    pub total: f64,
}

/// Service-level objective results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Slo {
    /// The target p99 (ms), if the scenario sets one.
    pub p99_ms: Option<f64>,
    /// Minutes whose p99 (errors counted as infinitely slow) exceeded the
    /// target; `null` without a target.
    pub breach_minutes: Option<u64>,
}

/// Engine counters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Engine {
    /// Events processed.
    pub events: u64,
    /// Wall-clock time of the run (ms) — the only non-deterministic field.
    pub wall_ms: f64,
}

/// The summary of one run (`summary.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
    /// Cost.
    pub cost_usd: Cost,
    /// SLO.
    pub slo: Slo,
    /// Engine counters.
    pub engine: Engine,
}

/// One row of `timeseries.csv`: one simulated minute (the last may be partial).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
    /// CPU used / CPU reserved by running tasks (empty with no task).
    pub cpu_utilization: Option<f64>,
    /// Median latency of requests completed in the minute (ms).
    pub latency_p50_ms: Option<f64>,
    /// 99th percentile latency of requests completed in the minute (ms).
    pub latency_p99_ms: Option<f64>,
    /// Whether the minute breached the SLO (empty without an SLO).
    pub slo_breach: Option<bool>,
}

/// Everything a run produced.
#[derive(Debug, Clone, PartialEq)]
pub struct RunOutput {
    /// The summary.
    pub summary: Summary,
    /// One record per simulated minute.
    pub minutes: Vec<MinuteRecord>,
}

/// Inputs of [`build`] that are not in the recorder.
pub struct RunFacts<'a> {
    /// Scenario name.
    pub scenario: &'a str,
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
    pub slo_p99_ms: Option<f64>,
    /// Tasks: min, max, time integral (task × µs).
    pub tasks: (u32, u32, u128),
    /// Cost (USD).
    pub cost_usd: f64,
    /// Events processed.
    pub events: u64,
    /// Wall time (ms).
    pub wall_ms: f64,
}

fn ms(us: u64) -> f64 {
    as_ms_f64(us)
}

/// Builds the summary and the time series of a finished run.
pub fn build(rec: &Recorder, f: &RunFacts<'_>) -> RunOutput {
    let duration_s = as_secs_f64(f.end);
    let lat = rec.latency();
    let any = rec.completed > 0;
    let q = |p: f64| any.then(|| ms(lat.value_at_quantile(p)));
    let slo_us = f.slo_p99_ms.map(|p| p * 1_000.0);
    let breach = |row: &crate::metrics::MinuteRow| -> Option<bool> {
        slo_us.map(|limit| row.p99_with_errors.is_some_and(|v| v as f64 > limit))
    };
    let mut minutes = Vec::with_capacity(rec.rows().len());
    for (m, row) in rec.rows().iter().enumerate() {
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
            cpu_utilization: (row.reserved > 0).then(|| row.busy as f64 / row.reserved as f64),
            latency_p50_ms: row.latency_p50.map(ms),
            latency_p99_ms: row.latency_p99.map(ms),
            slo_breach: breach(row),
        });
    }
    let busy: u128 = rec.rows().iter().map(|r| r.busy as u128).sum();
    let reserved: u128 = rec.rows().iter().map(|r| r.reserved as u128).sum();
    let (tmin, tmax, task_area) = f.tasks;
    let summary = Summary {
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
            min: tmin,
            max: tmax,
            mean: task_area as f64 / f.end as f64,
            task_hours: task_area as f64 / (3_600.0 * SECOND as f64),
        },
        cpu_utilization: CpuUtilization {
            mean: (reserved > 0).then(|| busy as f64 / reserved as f64),
        },
        cost_usd: Cost { total: f.cost_usd },
        slo: Slo {
            p99_ms: f.slo_p99_ms,
            breach_minutes: slo_us.map(|_| {
                minutes
                    .iter()
                    .filter(|m| m.slo_breach == Some(true))
                    .count() as u64
            }),
        },
        engine: Engine {
            events: f.events,
            wall_ms: f.wall_ms,
        },
    };
    RunOutput { summary, minutes }
}

/// The summary as pretty JSON (what `--json` prints and `summary.json` holds).
pub fn summary_json(s: &Summary) -> String {
    let mut out = serde_json::to_string_pretty(s).expect("a summary always serialises");
    out.push('\n');
    out
}

/// The time series as CSV.
pub fn timeseries_csv(minutes: &[MinuteRecord]) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    for m in minutes {
        w.serialize(m).expect("writing CSV to memory cannot fail");
    }
    String::from_utf8(w.into_inner().expect("in-memory writer")).expect("CSV is UTF-8")
}

fn opt(v: Option<f64>, unit: &str) -> String {
    v.map_or_else(|| "-".to_string(), |v| format!("{v:.1} {unit}"))
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
    let _ = writeln!(t, "cost       ${:.2}", s.cost_usd.total);
    if let (Some(p), Some(b)) = (s.slo.p99_ms, s.slo.breach_minutes) {
        let _ = writeln!(t, "SLO        p99 ≤ {p} ms: {b} breach minute(s)");
    }
    let _ = writeln!(
        t,
        "engine     {} events in {:.0} ms",
        s.engine.events, s.engine.wall_ms
    );
    t
}

/// Writes `summary.json` and `timeseries.csv` into `dir` (created if needed).
/// Only these files are written; anything else in `dir` is left alone.
pub fn write_run(dir: &Path, out: &RunOutput) -> Result<(), Error> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |error| Error::Output { path, error }
    };
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let summary = dir.join("summary.json");
    std::fs::write(&summary, summary_json(&out.summary)).map_err(io(&summary))?;
    let ts = dir.join("timeseries.csv");
    std::fs::write(&ts, timeseries_csv(&out.minutes)).map_err(io(&ts))?;
    Ok(())
}
