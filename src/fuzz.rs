//! Entry points for the coverage-guided fuzz targets (`fuzz/`) and for the
//! test that replays their checked-in corpus (`tests/fuzz_corpus.rs`).
//!
//! Each takes arbitrary bytes, hands them to one reader the way a user's
//! file reaches it (written to a scratch file, then loaded by path, so the
//! file checks of [`crate::input`] run too), and returns. An error is a
//! fine answer; a panic, a hang or memory without bound is a bug. Not part
//! of the library's API.

use crate::scenario::{self, Loaded};
use std::path::{Path, PathBuf};

/// How far an input got: the replay test checks that the seeds reach the
/// deep end, so that a fuzzer starting from them does too.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Reached {
    /// Refused while reading or checking (a clear error).
    Refused,
    /// Read and checked; not run (too large for a fuzzing run).
    Accepted,
    /// Read, checked and simulated.
    Ran,
}

/// A scenario file: lines before a line `%%` are `--set` overrides, the
/// rest is the TOML. Compiled, and run when it is small.
pub fn scenario(data: &[u8]) -> Reached {
    let Ok(text) = std::str::from_utf8(data) else {
        return Reached::Refused;
    };
    let (sets, toml) = match text.split_once("\n%%\n") {
        Some((sets, toml)) => (sets.lines().map(str::to_string).collect(), toml),
        None => (Vec::new(), text),
    };
    let dir = scratch();
    let origin = dir.join("fuzz.toml");
    match scenario::load_str(toml, &dir, &origin, &sets) {
        Ok(Loaded::Single(s)) => compile_and_run(&s),
        Ok(Loaded::Shared(shared)) => {
            let mut reached = Reached::Ran;
            for s in &shared.services {
                match s.compile() {
                    Err(_) => return Reached::Refused,
                    Ok(c) if !small(&c) || crate::too_big(&c).is_some() => {
                        reached = Reached::Accepted
                    }
                    Ok(_) => {}
                }
            }
            if reached == Reached::Ran {
                return ran(crate::run_shared_scenario(&shared).is_ok());
            }
            reached
        }
        Err(_) => Reached::Refused,
    }
}

/// A trace file. The first byte chooses how it is read: bits 0–1 the
/// format (values, CSV, CSV without a header, Parquet), bit 2 gzip (the
/// rest compressed here before it is written), bit 3 the rest written as
/// it is under a `.gz` name (a raw, likely broken, gzip stream), bits 4–5
/// the `missing` policy, bits 6–7 the CSV columns (0: counts in column 1,
/// times in column 0; 1 or 3: columns named `rps` and `time`; 2: counts in
/// column 3, no time column). The second byte chooses how the trace is
/// replayed: bits 0–1 the bucket (1m, 1s, 5m, 1ms), bit 2 the unit (`rps`
/// instead of counts), bits 3–4 the rescaling (mean 2 req/s, peak 5 req/s,
/// scale 0.5, none), bit 5 a window starting 1 minute in.
pub fn trace(data: &[u8]) -> Reached {
    let [mode, opts, body @ ..] = data else {
        return Reached::Refused;
    };
    let (mode, opts) = (*mode, *opts);
    let (format, ext, header) = match mode & 3 {
        0 => ("values", "txt", true),
        1 => ("csv", "csv", true),
        2 => ("csv", "csv", false),
        _ => ("parquet", "parquet", true),
    };
    let dir = scratch();
    let (name, bytes) = if mode & 4 != 0 {
        use std::io::Write;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        let _ = gz.write_all(body);
        (format!("t.{ext}.gz"), gz.finish().unwrap_or_default())
    } else if mode & 8 != 0 {
        (format!("t.{ext}.gz"), body.to_vec())
    } else {
        (format!("t.{ext}"), body.to_vec())
    };
    if std::fs::write(dir.join(&name), bytes).is_err() {
        return Reached::Refused;
    }
    let missing = ["zero", "hold", "interpolate", "error"][((mode >> 4) & 3) as usize];
    let column = match (format, mode >> 6) {
        ("values", _) => "",
        (_, 0) => "column = 1\ntime_column = 0\n",
        (_, 1 | 3) => "column = \"rps\"\ntime_column = \"time\"\n",
        _ => "column = 3\n",
    };
    let bucket = ["1m", "1s", "5m", "1ms"][(opts & 3) as usize];
    let unit = if opts & 4 != 0 { "rps" } else { "count" };
    let scaling = ["mean_rps = 2", "peak_rps = 5", "scale = 0.5", ""][((opts >> 3) & 3) as usize];
    let window = if opts & 32 != 0 {
        "start = \"1m\"\n"
    } else {
        ""
    };
    let toml = format!(
        "name = \"fuzz\"\nduration = \"30m\"\n[load]\nkind = \"trace\"\nfile = \"{name}\"\nformat = \"{format}\"\nheader = {header}\nbucket = \"{bucket}\"\nunit = \"{unit}\"\nmissing = \"{missing}\"\n{scaling}\n{window}repeat = true\n{column}[workload]\ncpu_ms = {{ dist = \"constant\", value = 10 }}\n[task]\ncpu = 256\nmemory = 512\nconcurrency = 4\n[service]\ndesired = 1\n[platform]\nkind = \"fargate\"\n"
    );
    match scenario::load_str(&toml, &dir, &dir.join("fuzz.toml"), &[]) {
        Ok(Loaded::Single(s)) => compile_and_run(&s),
        _ => Reached::Refused,
    }
}

/// A task-definition file (`containerDefinitions` JSON, or the output of
/// `aws ecs describe-task-definition`), compiled into a Fargate and an ECS
/// on EC2 service.
pub fn task_definition(data: &[u8]) -> Reached {
    let dir = scratch();
    if std::fs::write(dir.join("td.json"), data).is_err() {
        return Reached::Refused;
    }
    let mut reached = Reached::Refused;
    for platform in [
        "kind = \"fargate\"",
        "kind = \"ecs_ec2\"\ninstance_types = [\"m5.large\"]\nmin_size = 1\nmax_size = 2",
    ] {
        let toml = format!(
            "name = \"fuzz\"\nduration = \"10m\"\n[load]\nkind = \"constant\"\nrps = 5\n[workload]\ncpu_ms = {{ dist = \"constant\", value = 10 }}\n[task]\ndefinition = \"td.json\"\nconcurrency = 4\n[service]\ndesired = 1\n[platform]\n{platform}\n"
        );
        if let Ok(Loaded::Single(s)) = scenario::load_str(&toml, &dir, &dir.join("fuzz.toml"), &[])
        {
            reached = reached.max(compile_and_run(&s));
        }
    }
    reached
}

/// A shard directory for `merge`: the bytes before a line `%%` are its
/// `shard.json`, the rest its `jobs.jsonl`. Read and checked, not written.
pub fn shards(data: &[u8]) -> Reached {
    let (meta, jobs) = match data.windows(4).position(|w| w == b"\n%%\n") {
        Some(i) => (&data[..i], &data[i + 4..]),
        None => (data, &[][..]),
    };
    let dir = scratch().join("shard");
    if std::fs::create_dir_all(&dir).is_err()
        || std::fs::write(dir.join("shard.json"), meta).is_err()
        || std::fs::write(dir.join("jobs.jsonl"), jobs).is_err()
    {
        return Reached::Refused;
    }
    match crate::sweep::read_shards(&[dir]) {
        Ok(_) => Reached::Accepted,
        Err(_) => Reached::Refused,
    }
}

/// Runs are kept to what takes milliseconds: a fuzzer wants thousands of
/// inputs a second, and the engine's own limits are tested elsewhere.
fn small(c: &crate::scenario::Compiled) -> bool {
    let (requests, secs) = crate::estimate(c);
    // The fluid plane's cost is its task-steps, not its requests.
    let cheap = if c.plane.0 == crate::service::Fidelity::Fluid {
        secs <= 0.1
    } else {
        requests <= 5_000.0
    };
    cheap && c.end <= 6 * 3_600 * crate::time::SECOND
}

fn compile_and_run(s: &crate::Scenario) -> Reached {
    match s.compile() {
        Err(_) => Reached::Refused,
        Ok(c) if small(&c) && crate::too_big(&c).is_none() => {
            ran(crate::run_compiled(s, &c).is_ok())
        }
        Ok(_) => Reached::Accepted,
    }
}

fn ran(ok: bool) -> Reached {
    if ok { Reached::Ran } else { Reached::Refused }
}

/// This thread's scratch folder, made once.
fn scratch() -> PathBuf {
    thread_local! {
        static DIR: PathBuf = {
            let base = if Path::new("/dev/shm").is_dir() {
                PathBuf::from("/dev/shm")
            } else {
                std::env::temp_dir()
            };
            let id = format!("{:?}", std::thread::current().id());
            let d = base.join(format!(
                "capsim-fuzz-{}-{}",
                std::process::id(),
                id.trim_start_matches("ThreadId(").trim_end_matches(')')
            ));
            let _ = std::fs::create_dir_all(&d);
            d
        };
    }
    DIR.with(|d| d.clone())
}
