//! Scenario sweeps: a grid (or a zip) of values for any dotted scenario path,
//! each point run with N seeds, in parallel with rayon; deterministic shards
//! for running a sweep on many machines, and merging their results.
//!
//! Invariants:
//! - a job's seed is derived from the base seed and the job's replication
//!   (`rng::derive_seed(seed, "replication-<r>")`): every point of a
//!   replication sees the same requests (common random numbers), and results
//!   never depend on the thread count or the order jobs finish in;
//! - results are kept in job order; a failed job (an invalid combination)
//!   is a row with its reason, and never stops the others;
//! - shard K of N runs the jobs whose index ≡ K (mod N); merging every
//!   shard gives exactly the unsharded results.

pub mod output;
pub mod stats;

use crate::error::{Error, ScenarioError};
use crate::report::Summary;
use crate::rng::derive_seed;
use crate::scenario::{self, Scenario, overrides};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// How parameter lists combine into points.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Every combination (cartesian product).
    #[default]
    Grid,
    /// The i-th value of every list together (lists of equal length).
    Zip,
}

/// One swept parameter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Parameter {
    /// Dotted scenario path.
    pub path: String,
    /// Its values, in order.
    pub values: Vec<toml::Value>,
}

/// A sweep: the base scenario (as TOML), the parameters, replications.
#[derive(Debug, Clone)]
pub struct Sweep {
    /// Name (output directory).
    pub name: String,
    /// The base scenario's table (without `[sweep]`).
    pub base: toml::Table,
    /// The base scenario's text (for error lines).
    pub text: String,
    /// Where relative paths of the base scenario resolve.
    pub base_dir: PathBuf,
    /// The base scenario's file.
    pub origin: PathBuf,
    /// Base seed.
    pub seed: u64,
    /// Parameters, in the order written.
    pub parameters: Vec<Parameter>,
    /// Grid or zip.
    pub mode: Mode,
    /// Seeds per point.
    pub replications: u32,
}

/// One job: a point and a replication.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    /// Index in the sweep (point × replications + replication).
    pub index: usize,
    /// Point index.
    pub point: usize,
    /// Replication index.
    pub replication: u32,
    /// The job's seed.
    pub seed: u64,
    /// The point's parameter values, in parameter order.
    pub values: Vec<toml::Value>,
}

/// What a job produced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobResult {
    /// Job index.
    pub job: usize,
    /// Point index.
    pub point: usize,
    /// Replication.
    pub replication: u32,
    /// Seed.
    pub seed: u64,
    /// Parameter values (as TOML values rendered to JSON).
    pub values: Vec<serde_json::Value>,
    /// The summary, or the reason the job failed.
    pub outcome: Result<Summary, String>,
}

fn sweep_err(origin: &Path, key: &str, message: impl Into<String>) -> Error {
    Error::Scenario {
        file: origin.to_path_buf(),
        problem: ScenarioError::invalid(key, message),
    }
}

/// Flattens the `[sweep]` table into parameters: leaves are arrays of values
/// or ranges `{ from, to, step }`; `mode` and `replications` are reserved.
fn parameters(
    table: &toml::Table,
    prefix: &str,
    origin: &Path,
    out: &mut Vec<Parameter>,
) -> Result<(), Error> {
    for (k, v) in table {
        let path = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        if prefix.is_empty() && (k == "mode" || k == "replications") {
            continue;
        }
        match v {
            toml::Value::Array(a) => {
                if a.is_empty() {
                    return Err(sweep_err(
                        origin,
                        &format!("sweep.{path}"),
                        "needs at least one value",
                    ));
                }
                finite_values(a).map_err(|m| sweep_err(origin, &format!("sweep.{path}"), m))?;
                out.push(Parameter {
                    path,
                    values: a.clone(),
                });
            }
            toml::Value::Table(t) if t.contains_key("from") => out.push(Parameter {
                values: range(t).map_err(|m| sweep_err(origin, &format!("sweep.{path}"), m))?,
                path,
            }),
            toml::Value::Table(t) => parameters(t, &path, origin, out)?,
            other => {
                return Err(sweep_err(
                    origin,
                    &format!("sweep.{path}"),
                    format!(
                        "expected a list of values or a range {{ from, to, step }}, got {}",
                        other.type_str()
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// Most values one range may expand to.
pub const MAX_RANGE_VALUES: usize = 100_000;

/// Most jobs (points × replications) one sweep may have: the job list and
/// the results are held in memory (about 2 KB per job result). Split a
/// larger study into several sweeps.
pub const MAX_JOBS: usize = 1_000_000;

/// Rejects NaN and infinite values: they never compare equal, so a sweep
/// over them could not be merged or aggregated.
fn finite_values(values: &[toml::Value]) -> Result<(), String> {
    fn walk(v: &toml::Value) -> bool {
        match v {
            toml::Value::Float(f) => f.is_finite(),
            toml::Value::Array(a) => a.iter().all(walk),
            toml::Value::Table(t) => t.values().all(walk),
            _ => true,
        }
    }
    match values.iter().find(|v| !walk(v)) {
        Some(v) => Err(format!("{v} is not a finite value")),
        None => Ok(()),
    }
}

/// Points of a grid or zip over parameter lists of these lengths, or
/// `None` when the product overflows.
fn count_points(mode: Mode, mut lens: impl Iterator<Item = usize>) -> Option<usize> {
    match mode {
        Mode::Grid => lens.try_fold(1usize, |a, n| a.checked_mul(n)),
        Mode::Zip => Some(lens.next().unwrap_or(1)),
    }
}

/// The parameter values of point `i` of a grid (the last parameter varies
/// fastest) or a zip.
pub fn point_values(mode: Mode, parameters: &[Parameter], i: usize) -> Vec<toml::Value> {
    match mode {
        Mode::Zip => parameters.iter().map(|p| p.values[i].clone()).collect(),
        Mode::Grid => {
            let mut rest = i;
            let mut v: Vec<toml::Value> = parameters
                .iter()
                .rev()
                .map(|p| {
                    let n = p.values.len();
                    let x = p.values[rest % n].clone();
                    rest /= n;
                    x
                })
                .collect();
            v.reverse();
            v
        }
    }
}

/// Expands `{ from, to, step }` (inclusive of `to`).
fn range(t: &toml::Table) -> Result<Vec<toml::Value>, String> {
    for k in t.keys() {
        if !["from", "to", "step"].contains(&k.as_str()) {
            return Err(format!(
                "unknown range key `{k}`; a range is {{ from, to, step }}"
            ));
        }
    }
    let num = |k: &str| -> Result<f64, String> {
        match t.get(k) {
            Some(toml::Value::Integer(i)) => Ok(*i as f64),
            Some(toml::Value::Float(f)) => Ok(*f),
            _ => Err(format!("a range needs a number `{k}`")),
        }
    };
    let ints = ["from", "to", "step"]
        .iter()
        .all(|k| matches!(t.get(*k), Some(toml::Value::Integer(_))));
    let (from, to, step) = (num("from")?, num("to")?, num("step")?);
    if !(from.is_finite() && to.is_finite() && step.is_finite()) {
        return Err("a range needs finite numbers `from`, `to` and `step`".into());
    }
    if step <= 0.0 || to < from {
        return Err("a range needs from ≤ to and step > 0".into());
    }
    // Counted in floating point first: a tiny step must not wrap the count.
    let count = ((to - from) / step + 1e-9).floor() + 1.0;
    if count.is_nan() || count > MAX_RANGE_VALUES as f64 {
        return Err(format!(
            "the range has {count:.0} values; at most {MAX_RANGE_VALUES}"
        ));
    }
    let n = count as usize;
    Ok((0..n)
        .map(|i| {
            let v = from + step * i as f64;
            if ints {
                toml::Value::Integer(v.round() as i64)
            } else {
                toml::Value::Float(v)
            }
        })
        .collect())
}

impl Sweep {
    /// Reads a sweep: a scenario file with a `[sweep]` section, or a sweep
    /// file with `base = "scenario.toml"`, an optional `name`, and `[sweep]`.
    pub fn load(path: &Path) -> Result<Sweep, Error> {
        let text = crate::input::read_text(path, crate::input::MAX_TEXT_BYTES).map_err(|e| {
            Error::Scenario {
                file: path.to_path_buf(),
                problem: ScenarioError::Read(e),
            }
        })?;
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let mut table = scenario::parse_table(&text, path)?;
        if table.contains_key("services") {
            return Err(sweep_err(
                path,
                "services",
                "services sharing a cluster cannot be swept yet: sweep a single-service scenario (capsim run takes the shared one)",
            ));
        }
        let Some(toml::Value::Table(spec)) = table.remove("sweep") else {
            return Err(sweep_err(
                path,
                "sweep",
                "missing: a sweep needs a [sweep] table of parameter values",
            ));
        };
        let (base, base_text, base_dir, origin, name) = match table.remove("base") {
            Some(toml::Value::String(b)) => {
                let bpath = dir.join(&b);
                let btext =
                    crate::input::read_text(&bpath, crate::input::MAX_TEXT_BYTES).map_err(|e| {
                        sweep_err(
                            path,
                            "base",
                            format!("cannot read {}: {e}", bpath.display()),
                        )
                    })?;
                let mut btable = scenario::parse_table(&btext, &bpath)?;
                btable.remove("sweep");
                let name = match table.remove("name") {
                    Some(toml::Value::String(n)) => Some(n),
                    None => None,
                    Some(_) => return Err(sweep_err(path, "name", "expected a string")),
                };
                if let Some(k) = table.keys().next() {
                    return Err(sweep_err(
                        path,
                        k,
                        "a sweep file with `base` holds only `base`, `name` and [sweep]; put scenario keys in the base or in [sweep]",
                    ));
                }
                let bdir = bpath.parent().map(Path::to_path_buf).unwrap_or_default();
                (btable, btext, bdir, bpath, name)
            }
            Some(_) => {
                return Err(sweep_err(
                    path,
                    "base",
                    "expected the path of a scenario file",
                ));
            }
            None => (table, text.clone(), dir, path.to_path_buf(), None),
        };
        let mode = match spec.get("mode") {
            None => Mode::Grid,
            Some(toml::Value::String(s)) if s == "grid" => Mode::Grid,
            Some(toml::Value::String(s)) if s == "zip" => Mode::Zip,
            Some(v) => {
                return Err(sweep_err(
                    path,
                    "sweep.mode",
                    format!("expected \"grid\" or \"zip\", got {v}"),
                ));
            }
        };
        let replications = match spec.get("replications") {
            None => 1,
            Some(toml::Value::Integer(n)) if (1..=10_000).contains(n) => *n as u32,
            Some(v) => {
                return Err(sweep_err(
                    path,
                    "sweep.replications",
                    format!("expected 1 to 10000, got {v}"),
                ));
            }
        };
        let mut params = Vec::new();
        parameters(&spec, "", path, &mut params)?;
        if params.iter().any(|p| p.path == "seed") {
            return Err(sweep_err(
                path,
                "sweep.seed",
                "seeds are not swept: every job's seed comes from the base seed and its replication; use sweep.replications for more seeds",
            ));
        }
        if params.is_empty() && replications == 1 {
            return Err(sweep_err(
                path,
                "sweep",
                "lists no parameter and one replication: nothing to sweep",
            ));
        }
        if mode == Mode::Zip
            && params
                .windows(2)
                .any(|w| w[0].values.len() != w[1].values.len())
        {
            return Err(sweep_err(
                path,
                "sweep.mode",
                "zip needs every parameter list to have the same length",
            ));
        }
        let jobs = count_points(mode, params.iter().map(|p| p.values.len()))
            .and_then(|p| p.checked_mul(replications as usize))
            .filter(|j| *j <= MAX_JOBS);
        if jobs.is_none() {
            let points: f64 = match mode {
                Mode::Grid => params.iter().map(|p| p.values.len() as f64).product(),
                Mode::Zip => params.first().map_or(1.0, |p| p.values.len() as f64),
            };
            return Err(sweep_err(
                path,
                "sweep",
                format!(
                    "{points:.0} point(s) × {replications} replication(s) is more than {MAX_JOBS} jobs; split the study into several sweeps"
                ),
            ));
        }
        // Check the base scenario itself.
        let probe = Scenario::from_table(base.clone(), &base_text, &base_dir, &origin, Vec::new())?;
        let name = name.unwrap_or_else(|| format!("{}-sweep", probe.name));
        Ok(Sweep {
            name,
            base,
            text: base_text,
            base_dir,
            origin,
            seed: probe.seed,
            parameters: params,
            mode,
            replications,
        })
    }

    /// Number of points (bounded at load: see [`MAX_JOBS`]).
    pub fn points(&self) -> usize {
        count_points(self.mode, self.parameters.iter().map(|p| p.values.len()))
            .expect("the point count was checked at load")
    }

    /// The parameter values of point `i`.
    pub fn point_values(&self, i: usize) -> Vec<toml::Value> {
        point_values(self.mode, &self.parameters, i)
    }

    /// Every job, in index order.
    pub fn jobs(&self) -> Vec<Job> {
        let mut jobs = Vec::with_capacity(self.points() * self.replications as usize);
        for point in 0..self.points() {
            let values = self.point_values(point);
            for r in 0..self.replications {
                jobs.push(Job {
                    index: jobs.len(),
                    point,
                    replication: r,
                    seed: job_seed(self.seed, r),
                    values: values.clone(),
                });
            }
        }
        jobs
    }

    /// The base scenario alone, before any swept value is applied.
    pub fn base_scenario(&self) -> Result<Scenario, Error> {
        Scenario::from_table(
            self.base.clone(),
            &self.text,
            &self.base_dir,
            &self.origin,
            Vec::new(),
        )
    }

    /// The scenario of a job.
    pub fn scenario(&self, job: &Job) -> Result<Scenario, Error> {
        let mut table = self.base.clone();
        let mut keys = Vec::new();
        for (p, v) in self.parameters.iter().zip(&job.values) {
            let path: Vec<&str> = p.path.split('.').collect();
            overrides::set_path(&mut table, &path, v.clone())
                .map_err(|m| sweep_err(&self.origin, &p.path, m))?;
            keys.push(p.path.clone());
        }
        overrides::set_path(&mut table, &["seed"], toml::Value::Integer(job.seed as i64))
            .expect("top level");
        Scenario::from_table(table, &self.text, &self.base_dir, &self.origin, keys)
    }

    /// Runs one job (never panics the sweep: errors become the outcome).
    pub fn run_job(&self, job: &Job) -> JobResult {
        let outcome = self
            .scenario(job)
            .and_then(|s| crate::run_summary(&s))
            .map(|o| {
                let mut s = o.summary;
                // Wall time differs between identical runs: sweep outputs
                // keep only the whole sweep's, in sweep.json.
                s.engine.wall_ms = 0.0;
                s
            })
            .map_err(|e| e.to_string());
        JobResult {
            job: job.index,
            point: job.point,
            replication: job.replication,
            seed: job.seed,
            values: job.values.iter().map(toml_to_json).collect(),
            outcome,
        }
    }
}

/// The seed of replication `r` under base seed `seed` (63-bit, as TOML integers are signed).
pub fn job_seed(seed: u64, r: u32) -> u64 {
    derive_seed(seed, &format!("replication-{r}")) >> 1
}

/// A TOML value as JSON.
pub fn toml_to_json(v: &toml::Value) -> serde_json::Value {
    serde_json::to_value(v).unwrap_or(serde_json::Value::Null)
}

/// Which jobs a shard runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    /// This shard (0-based).
    pub index: usize,
    /// Number of shards.
    pub count: usize,
}

impl Shard {
    /// Parses `K/N` (0 ≤ K < N).
    pub fn parse(s: &str) -> Result<Shard, String> {
        let (k, n) = s
            .split_once('/')
            .ok_or_else(|| format!("expected K/N (e.g. 0/4), got \"{s}\""))?;
        let index: usize = k
            .trim()
            .parse()
            .map_err(|_| format!("shard index \"{k}\" is not a number"))?;
        let count: usize = n
            .trim()
            .parse()
            .map_err(|_| format!("shard count \"{n}\" is not a number"))?;
        if count == 0 || index >= count {
            return Err(format!("expected 0 ≤ K < N, got {index}/{count}"));
        }
        Ok(Shard { index, count })
    }

    /// Whether this shard runs job `i`.
    pub fn owns(&self, i: usize) -> bool {
        i % self.count == self.index
    }
}

/// Runs jobs on `threads` threads (0: all cores), calling `progress` after
/// each; results come back in job order whatever the thread count.
pub fn run_jobs(
    sweep: &Sweep,
    jobs: &[Job],
    threads: usize,
    progress: &(dyn Fn(u64) + Sync),
) -> Vec<JobResult> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("a thread pool");
    let done = AtomicU64::new(0);
    pool.install(|| {
        jobs.par_iter()
            .map(|j| {
                let r = sweep.run_job(j);
                progress(done.fetch_add(1, Ordering::Relaxed) + 1);
                r
            })
            .collect()
    })
}

/// Runs a sweep (or one shard of it) and writes its outputs into `dir`:
/// everything for a whole sweep, only `results.*`, `jobs.jsonl` and
/// `shard.json` for a shard (merge the shards with [`merge`]).
pub fn execute(
    sweep: &Sweep,
    dir: &Path,
    threads: usize,
    shard: Option<Shard>,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Vec<JobResult>, Error> {
    let meta = output::SweepMeta::of(sweep);
    let jobs: Vec<Job> = sweep
        .jobs()
        .into_iter()
        .filter(|j| shard.is_none_or(|s| s.owns(j.index)))
        .collect();
    let started = std::time::Instant::now();
    let results = run_jobs(sweep, &jobs, threads, progress);
    let wall_ms = started.elapsed().as_secs_f64() * 1_000.0;
    let failed = results.iter().filter(|r| r.outcome.is_err()).count();
    let info = serde_json::json!({
        "sweep": meta,
        "shard": shard,
        "jobs_run": results.len(),
        "jobs_failed": failed,
        "threads": threads,
        "wall_ms": wall_ms,
    });
    match shard {
        Some(_) => {
            output::write_results(dir, &meta, &results)?;
            write_json(&dir.join("shard.json"), &info)?;
        }
        None => {
            output::write_outputs(dir, &meta, &results)?;
            write_json(&dir.join("sweep.json"), &info)?;
        }
    }
    Ok(results)
}

/// What `validate` finds in a sweep: every point compiled as `sweep` would.
#[derive(Debug)]
pub struct Check {
    /// Invalid points and why.
    pub invalid: Vec<(usize, Error)>,
    /// Offered requests over every job.
    pub requests: f64,
    /// Rough CPU time of every job (s, release build; see [`crate::run::estimate`]).
    pub cpu_seconds: f64,
    /// Points too big to run without `--force`, and why ([`crate::run::too_big`]).
    pub too_big: Vec<(usize, String)>,
}

/// Compiles every point of `sweep` (the replications of a point differ only
/// in their seed) and estimates the work.
pub fn validate(sweep: &Sweep) -> Check {
    let mut check = Check {
        invalid: Vec::new(),
        requests: 0.0,
        cpu_seconds: 0.0,
        too_big: Vec::new(),
    };
    let reps = sweep.replications as f64;
    for j in sweep.jobs().iter().filter(|j| j.replication == 0) {
        match sweep.scenario(j).and_then(|s| s.compile()) {
            Ok(c) => {
                let (r, s) = crate::run::estimate(&c);
                check.requests += r * reps;
                check.cpu_seconds += s * reps;
                if let Some(why) = crate::run::too_big(&c) {
                    check.too_big.push((j.point, why));
                }
            }
            Err(e) => check.invalid.push((j.point, e)),
        }
    }
    check
}

/// The answer of a whole sweep in words (as on its page).
pub fn answer(sweep: &Sweep, results: &[JobResult]) -> Vec<String> {
    let meta = output::SweepMeta::of(sweep);
    output::answer(&meta, &output::points(&meta, results))
}

fn write_json(path: &Path, v: &serde_json::Value) -> Result<(), Error> {
    let mut text = serde_json::to_string_pretty(v).expect("JSON values serialise");
    text.push('\n');
    crate::report::fsio::write(path, text).map_err(|error| Error::Output {
        path: path.to_path_buf(),
        error,
    })
}

/// Merges shard directories into one sweep's outputs, identical to an
/// unsharded run. Every job must be present exactly once. Returns the jobs
/// merged and how many of them failed.
pub fn merge(dirs: &[PathBuf], out: &Path) -> Result<(usize, usize), Error> {
    let bad = |path: &Path, m: String| Error::Scenario {
        file: path.to_path_buf(),
        problem: ScenarioError::Read(m),
    };
    // Writing into a shard being read would overwrite what is merged.
    let same = |a: &Path, b: &Path| match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y || x.starts_with(&y) || y.starts_with(&x),
        _ => false,
    };
    if let Some(d) = dirs.iter().find(|d| same(d, out)) {
        return Err(bad(
            out,
            format!(
                "--out is (or contains, or is inside) the shard directory {}: merge into a new directory",
                d.display()
            ),
        ));
    }
    let (meta, results) = read_shards(dirs)?;
    output::write_outputs(out, &meta, &results)?;
    let failed = results.iter().filter(|r| r.outcome.is_err()).count();
    write_json(
        &out.join("sweep.json"),
        &serde_json::json!({ "sweep": meta, "shard": null, "jobs_run": results.len(), "jobs_failed": failed, "merged_from": dirs.len() }),
    )?;
    Ok((results.len(), failed))
}

/// Reads shard directories (`shard.json`, `jobs.jsonl`) and checks them
/// against the sweep they claim: one sweep description, consistent sizes,
/// every record the job it names, each job exactly once. Returns the
/// description and the jobs in order.
pub fn read_shards(dirs: &[PathBuf]) -> Result<(output::SweepMeta, Vec<JobResult>), Error> {
    let bad = |path: &Path, m: String| Error::Scenario {
        file: path.to_path_buf(),
        problem: ScenarioError::Read(m),
    };
    let Some(first) = dirs.first() else {
        return Err(bad(Path::new("."), "no shard directory given".into()));
    };
    let out = first.as_path();
    let mut meta: Option<output::SweepMeta> = None;
    let mut results: Vec<JobResult> = Vec::new();
    for d in dirs {
        let sp = d.join("shard.json");
        let text = crate::input::read_text(&sp, crate::input::MAX_TEXT_BYTES)
            .map_err(|e| bad(&sp, format!("not a shard directory ({e})")))?;
        let info: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| bad(&sp, e.to_string()))?;
        let m: output::SweepMeta = serde_json::from_value(info["sweep"].clone())
            .map_err(|e| bad(&sp, format!("no sweep description: {e}")))?;
        match &meta {
            None => meta = Some(m),
            Some(prev) if *prev != m => {
                return Err(bad(
                    &sp,
                    format!("belongs to a different sweep than {}", dirs[0].display()),
                ));
            }
            Some(_) => {}
        }
        results.extend(
            output::read_jobs(&d.join("jobs.jsonl")).map_err(|m| bad(&d.join("jobs.jsonl"), m))?,
        );
        // More records than the sweep has jobs: some are repeated (the same
        // shard given twice?); stop before reading any more.
        if let Some(m) = &meta
            && results.len() > m.jobs
        {
            return Err(bad(
                d,
                format!(
                    "the shards so far hold {} records for a sweep of {} jobs: a shard is given twice, or holds jobs it should not",
                    results.len(),
                    m.jobs
                ),
            ));
        }
    }
    let meta = meta.ok_or_else(|| bad(out, "no shard directory given".into()))?;
    // The description must be one a sweep could have: sizes that match the
    // parameters, within the limits.
    let points = count_points(meta.mode, meta.parameters.iter().map(|p| p.values.len()));
    let zip_uneven = meta.mode == Mode::Zip
        && meta
            .parameters
            .windows(2)
            .any(|w| w[0].values.len() != w[1].values.len());
    if meta.parameters.iter().any(|p| p.values.is_empty())
        || zip_uneven
        || points != Some(meta.points)
        || meta.replications == 0
        || meta.points.checked_mul(meta.replications as usize) != Some(meta.jobs)
        || meta.jobs > MAX_JOBS
    {
        return Err(bad(
            &dirs[0].join("shard.json"),
            format!(
                "its sweep description is inconsistent ({} points × {} replications ≠ {} jobs, or more than {MAX_JOBS} jobs)",
                meta.points, meta.replications, meta.jobs
            ),
        ));
    }
    // Every record must be the job it claims: id in range, its point,
    // replication, seed and parameter values those of that job.
    for r in &results {
        let reps = meta.replications as usize;
        let expected = (r.job < meta.jobs).then(|| {
            let point = r.job / reps;
            let values: Vec<serde_json::Value> = point_values(meta.mode, &meta.parameters, point)
                .iter()
                .map(toml_to_json)
                .collect();
            (
                point,
                (r.job % reps) as u32,
                job_seed(meta.seed, (r.job % reps) as u32),
                values,
            )
        });
        match expected {
            Some((point, rep, seed, values))
                if r.point == point
                    && r.replication == rep
                    && r.seed == seed
                    && r.values == values => {}
            Some(_) => {
                return Err(bad(
                    out,
                    format!(
                        "job {} of the shards does not match the sweep (its point, replication, seed or parameter values differ from job {}'s)",
                        r.job, r.job
                    ),
                ));
            }
            None => {
                return Err(bad(
                    out,
                    format!(
                        "job {} of the shards is out of range: the sweep has {} jobs",
                        r.job, meta.jobs
                    ),
                ));
            }
        }
    }
    results.sort_by_key(|r| r.job);
    for w in results.windows(2) {
        if w[0].job == w[1].job {
            return Err(bad(
                out,
                format!("job {} is in more than one shard", w[0].job),
            ));
        }
    }
    if results.len() != meta.jobs {
        let have: std::collections::BTreeSet<usize> = results.iter().map(|r| r.job).collect();
        let missing: Vec<String> = (0..meta.jobs)
            .filter(|j| !have.contains(j))
            .take(10)
            .map(|j| j.to_string())
            .collect();
        return Err(bad(
            out,
            format!(
                "{} of {} jobs are missing (first: {}); merge every shard",
                meta.jobs - results.len(),
                meta.jobs,
                missing.join(", ")
            ),
        ));
    }
    Ok((meta, results))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        let t: toml::Table = toml::from_str("from = 40\nto = 80\nstep = 10").unwrap();
        let v = range(&t).unwrap();
        assert_eq!(v.len(), 5);
        assert_eq!(v[4], toml::Value::Integer(80));
        let t: toml::Table = toml::from_str("from = 0.5\nto = 1.0\nstep = 0.25").unwrap();
        assert_eq!(range(&t).unwrap().len(), 3);
        let t: toml::Table = toml::from_str("from = 1\nto = 0\nstep = 1").unwrap();
        assert!(range(&t).is_err());
    }

    #[test]
    fn shards_partition_the_jobs() {
        let shards: Vec<Shard> = (0..3)
            .map(|k| Shard::parse(&format!("{k}/3")).unwrap())
            .collect();
        for i in 0..100 {
            assert_eq!(shards.iter().filter(|s| s.owns(i)).count(), 1);
        }
        assert!(Shard::parse("3/3").is_err());
        assert!(Shard::parse("x").is_err());
    }
}
