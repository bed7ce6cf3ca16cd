//! Reading recorded load traces: CSV or whitespace-separated values, plain or
//! gzip-compressed, with rescaling, a replay window and a policy for missing
//! buckets.
//!
//! Every bad row is reported with the file and line number (and, for the
//! values format, the value's position on its line).

use super::{LoadSpec, RateFn};
use crate::error::ScenarioError;
use crate::time::{Duration, SECOND, SimTime};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Layout of a trace file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TraceFormat {
    /// Comma-separated rows, with a header row unless `header = false`.
    Csv,
    /// Whitespace-separated numbers in order, one bucket each, on any number of lines.
    Values,
    /// Apache Parquet (a CloudWatch or ALB-log export converted elsewhere);
    /// read through polars, then like a CSV with a header (line N is row N − 1).
    Parquet,
    /// The JSON `aws cloudwatch get-metric-data` (`MetricDataResults`) or
    /// `get-metric-statistics` (`Datapoints`) prints: timestamps in UTC,
    /// in any order; gaps are missing buckets (`cloudwatch.rs`).
    Cloudwatch,
}

/// What a trace's numbers are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TraceUnit {
    /// Requests counted in each bucket.
    #[default]
    Count,
    /// Requests per second during each bucket.
    Rps,
}

/// What to do with a bucket that has no value (an empty cell, `NA`/`nan`, or
/// a gap in the time column).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MissingPolicy {
    /// Refuse the trace, naming the first missing bucket.
    #[default]
    Error,
    /// Treat as zero requests.
    Zero,
    /// Repeat the last known value (the first known one for leading gaps).
    Hold,
    /// Interpolate linearly between the known neighbours.
    Interpolate,
}

/// Most buckets a trace may have (400 MB of rates), so that a typo in a
/// time column cannot exhaust memory.
pub const MAX_BUCKETS: usize = 50_000_000;

/// A column of a CSV trace: its header name or its 0-based position.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ColumnRef {
    /// 0-based column position.
    Index(usize),
    /// Header name.
    Name(String),
}

impl std::fmt::Display for ColumnRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ColumnRef::Index(i) => write!(f, "column {i}"),
            ColumnRef::Name(n) => write!(f, "column \"{n}\""),
        }
    }
}

/// The numbers read from a trace file, before windowing and rescaling.
#[derive(Debug, Clone, PartialEq)]
pub struct RawTrace {
    /// One entry per bucket; `None` for a missing bucket.
    pub values: Vec<Option<f64>>,
    /// For each bucket, the line it came from (for a gap: the line after it).
    pub lines: Vec<usize>,
}

fn err(file: &Path, line: Option<usize>, msg: impl Into<String>) -> ScenarioError {
    ScenarioError::Trace {
        file: file.to_path_buf(),
        line,
        message: msg.into(),
    }
}

/// Reads the whole file, decompressing `.gz`.
fn read_text(path: &Path) -> Result<String, ScenarioError> {
    let max = crate::input::max_trace_bytes();
    let bytes = crate::input::read_bytes(path, max)
        .map_err(|e| err(path, None, format!("cannot read the trace file: {e}")))?;
    let is_gz = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("gz"));
    let bytes = if is_gz {
        crate::input::gunzip(&bytes, max)
            .map_err(|e| err(path, None, format!("the gzip trace: {e}")))?
    } else {
        bytes
    };
    let mut text = String::from_utf8(bytes)
        .map_err(|e| err(path, None, format!("the trace is not UTF-8 text: {e}")))?;
    // A byte-order mark (spreadsheets write one) is not part of the first value.
    if text.starts_with('\u{feff}') {
        text.drain(..'\u{feff}'.len_utf8());
    }
    Ok(text)
}

fn default_format(path: &Path) -> TraceFormat {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    if name.ends_with(".csv") || name.ends_with(".csv.gz") {
        TraceFormat::Csv
    } else if name.ends_with(".parquet") {
        TraceFormat::Parquet
    } else if name.ends_with(".json") || name.ends_with(".json.gz") {
        TraceFormat::Cloudwatch
    } else {
        TraceFormat::Values
    }
}

/// Parses one number cell; `Ok(None)` for a missing marker.
fn parse_value(cell: &str) -> Result<Option<f64>, String> {
    let c = cell.trim();
    if c.is_empty() || c.eq_ignore_ascii_case("na") || c.eq_ignore_ascii_case("nan") || c == "-" {
        return Ok(None);
    }
    match c.parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(Some(v)),
        Ok(v) => Err(format!("expected a count or rate ≥ 0, got {v}")),
        Err(_) => Err(format!(
            "expected a number, got \"{}\"",
            crate::input::excerpt(c, 80)
        )),
    }
}

/// Parses a time cell to microseconds: seconds as a number, or a civil
/// date-time (`1995-07-01T00:00`, `1995-07-01 00:00:00`), taken without a
/// time zone (a local-time column repeats or skips an hour at DST changes,
/// which shows up as a non-monotonic row or a gap).
fn parse_time(cell: &str) -> Result<i128, String> {
    let c = cell.trim();
    if let Ok(secs) = c.parse::<f64>()
        && secs.is_finite()
    {
        // Times beyond ±10¹² s (31,700 years) are no trace's: refused
        // before any difference of two could overflow.
        if secs.abs() > 1e12 {
            return Err(format!(
                "expected a time within ±10¹² seconds, got \"{}\"",
                crate::input::excerpt(c, 80)
            ));
        }
        return Ok((secs * SECOND as f64).round() as i128);
    }
    let iso = c.replacen(' ', "T", 1);
    // With a UTC offset (`Z`, `+00:00`): an instant, taken in UTC.
    if let Ok(ts) = iso.parse::<jiff::Timestamp>() {
        return Ok(ts.as_microsecond() as i128);
    }
    let dt: jiff::civil::DateTime = iso.parse().map_err(|_| {
        format!(
            "expected a time (seconds, or a date-time like 1995-07-01T00:00), got \"{}\"",
            crate::input::excerpt(c, 80)
        )
    })?;
    let epoch = jiff::civil::date(1970, 1, 1).at(0, 0, 0, 0);
    Ok(dt.duration_since(epoch).as_micros())
}

/// Reads a trace file into raw buckets.
pub fn read(
    path: &Path,
    format: TraceFormat,
    column: Option<&ColumnRef>,
    time_column: Option<&ColumnRef>,
    header: bool,
    bucket: SimTime,
) -> Result<RawTrace, ScenarioError> {
    if format == TraceFormat::Parquet {
        let text = parquet_as_csv(path)?;
        return read_csv(path, &text, column, time_column, true, bucket);
    }
    let text = read_text(path)?;
    match format {
        TraceFormat::Parquet => unreachable!("handled above"),
        TraceFormat::Cloudwatch => {
            if time_column.is_some() {
                return Err(err(
                    path,
                    None,
                    "load.time_column does not apply to CloudWatch JSON (its timestamps are read); load.column names the result (Id or Label) or the statistic",
                ));
            }
            let column = column.map(|c| match c {
                ColumnRef::Name(n) => n.clone(),
                ColumnRef::Index(i) => i.to_string(),
            });
            let points = super::cloudwatch::read(&text, column.as_deref())
                .map_err(|(line, m)| err(path, line, m))?;
            buckets_of(path, &points, bucket)
        }
        TraceFormat::Values => {
            if column.is_some() || time_column.is_some() {
                return Err(err(
                    path,
                    None,
                    "load.column and load.time_column apply to CSV traces; this file is read as whitespace-separated values (set load.format = \"csv\" if it is CSV)",
                ));
            }
            read_values(path, &text)
        }
        TraceFormat::Csv => read_csv(path, &text, column, time_column, header, bucket),
    }
}

/// A Parquet file as CSV text with a header (polars writes datetimes in ISO form).
fn parquet_as_csv(path: &Path) -> Result<String, ScenarioError> {
    use polars::prelude::{CsvWriter, SerWriter};
    let mut df =
        crate::report::tables::read_parquet(path, MAX_BUCKETS).map_err(|m| err(path, None, m))?;
    // A column of one long string repeated (dictionary-encoded, so small on
    // disk) would expand without bound as text: the text is capped at the
    // trace bound.
    let mut capped = Capped {
        buf: Vec::new(),
        max: crate::input::max_trace_bytes(),
    };
    CsvWriter::new(&mut capped)
        .finish(&mut df)
        .map_err(|e| err(path, None, format!("cannot convert the Parquet trace: {e}")))?;
    String::from_utf8(capped.buf).map_err(|e| {
        err(
            path,
            None,
            format!("the Parquet trace has non-UTF-8 text: {e}"),
        )
    })
}

/// A buffer that refuses to grow past `max` bytes.
struct Capped {
    buf: Vec<u8>,
    max: u64,
}

impl std::io::Write for Capped {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        if self.buf.len() as u64 + data.len() as u64 > self.max {
            return Err(std::io::Error::other(format!(
                "as text it is more than {} bytes (set CAPSIM_MAX_TRACE_BYTES to allow more)",
                self.max
            )));
        }
        self.buf.extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Timed datapoints (oldest first) into buckets of width `bucket`: each
/// must lie a whole number of buckets after the previous one; the buckets
/// between are missing.
fn buckets_of(
    path: &Path,
    points: &[super::cloudwatch::Point],
    bucket: SimTime,
) -> Result<RawTrace, ScenarioError> {
    let mut values = Vec::new();
    let mut lines = Vec::new();
    for (w, p) in points.iter().enumerate() {
        if w > 0 {
            let step = (p.t - points[w - 1].t) as u128;
            if !step.is_multiple_of(u128::from(bucket)) {
                return Err(err(
                    path,
                    Some(p.line),
                    format!(
                        "this datapoint is {} after the previous one, not a whole number of buckets ({}): load.bucket must be the query's Period",
                        Duration(step.min(u128::from(u64::MAX)) as SimTime),
                        Duration(bucket)
                    ),
                ));
            }
            let gap = step / u128::from(bucket) - 1;
            if values.len() as u128 + gap >= MAX_BUCKETS as u128 {
                return Err(err(
                    path,
                    Some(p.line),
                    format!("the trace would exceed {MAX_BUCKETS} buckets"),
                ));
            }
            for _ in 0..gap {
                values.push(None);
                lines.push(p.line);
            }
        }
        values.push(Some(p.v));
        lines.push(p.line);
    }
    Ok(RawTrace { values, lines })
}

fn read_values(path: &Path, text: &str) -> Result<RawTrace, ScenarioError> {
    let mut values = Vec::new();
    let mut lines = Vec::new();
    for (i, line) in text.lines().enumerate() {
        for (k, tok) in line.split_whitespace().enumerate() {
            let v = parse_value(tok).map_err(|m| {
                err(
                    path,
                    Some(i + 1),
                    format!("value #{} on the line: {m}", k + 1),
                )
            })?;
            if values.len() >= MAX_BUCKETS {
                return Err(err(
                    path,
                    Some(i + 1),
                    format!("the trace has more than {MAX_BUCKETS} values"),
                ));
            }
            values.push(v);
            lines.push(i + 1);
        }
    }
    Ok(RawTrace { values, lines })
}

fn resolve_column(
    path: &Path,
    headers: Option<&csv::StringRecord>,
    c: &ColumnRef,
    width: usize,
    key: &str,
) -> Result<usize, ScenarioError> {
    match c {
        ColumnRef::Index(i) if *i < width => Ok(*i),
        ColumnRef::Index(i) => Err(err(
            path,
            Some(1),
            format!("{key} = {i} but the file has {width} columns (positions start at 0)"),
        )),
        ColumnRef::Name(n) => match headers {
            None => Err(err(
                path,
                None,
                format!(
                    "{key} = \"{n}\" names a column, but load.header = false; give a 0-based position"
                ),
            )),
            Some(h) => h.iter().position(|x| x.trim() == n).ok_or_else(|| {
                let names: Vec<&str> = h.iter().collect();
                err(
                    path,
                    Some(1),
                    format!("{key}: no column named \"{n}\"; the header has {names:?}"),
                )
            }),
        },
    }
}

fn read_csv(
    path: &Path,
    text: &str,
    column: Option<&ColumnRef>,
    time_column: Option<&ColumnRef>,
    header: bool,
    bucket: SimTime,
) -> Result<RawTrace, ScenarioError> {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(header)
        .flexible(false)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers = if header {
        Some(
            rdr.headers()
                .map_err(|e| err(path, Some(1), format!("cannot read the header row: {e}")))?
                .clone(),
        )
    } else {
        None
    };
    let mut values = Vec::new();
    let mut lines = Vec::new();
    let mut cols: Option<(usize, Option<usize>)> = None;
    let mut prev_time: Option<(i128, usize)> = None;
    for rec in rdr.records() {
        let rec = rec.map_err(|e| {
            let line = e.position().map(|p| p.line() as usize);
            err(path, line, format!("malformed CSV row: {e}"))
        })?;
        let line = rec.position().map(|p| p.line() as usize).unwrap_or(0);
        let (vcol, tcol) = match cols {
            Some(c) => c,
            None => {
                let width = rec.len();
                let tcol = time_column
                    .map(|c| resolve_column(path, headers.as_ref(), c, width, "load.time_column"))
                    .transpose()?;
                let vcol = match column {
                    Some(c) => resolve_column(path, headers.as_ref(), c, width, "load.column")?,
                    None if width == 1 => 0,
                    None if width == 2 && tcol.is_some() => 1 - tcol.unwrap_or(0),
                    None => {
                        return Err(err(
                            path,
                            Some(line),
                            format!(
                                "the file has {width} columns: set load.column to the one holding the counts"
                            ),
                        ));
                    }
                };
                cols = Some((vcol, tcol));
                (vcol, tcol)
            }
        };
        if let Some(tcol) = tcol {
            let t = parse_time(&rec[tcol]).map_err(|m| err(path, Some(line), m))?;
            if let Some((pt, pline)) = prev_time {
                if t <= pt {
                    return Err(err(
                        path,
                        Some(line),
                        format!(
                            "time \"{}\" is not after the previous row's (line {pline}): rows must be in strictly increasing time",
                            rec[tcol].trim()
                        ),
                    ));
                }
                let step = (t - pt) as u128;
                if !step.is_multiple_of(bucket as u128) {
                    return Err(err(
                        path,
                        Some(line),
                        format!(
                            "time \"{}\" is {} after the previous row, not a whole number of buckets ({})",
                            rec[tcol].trim(),
                            Duration(step as SimTime),
                            Duration(bucket)
                        ),
                    ));
                }
                let gap = step / bucket as u128 - 1;
                if values.len() as u128 + gap > MAX_BUCKETS as u128 {
                    return Err(err(
                        path,
                        Some(line),
                        format!(
                            "time \"{}\" jumps {} past the previous row: the trace would exceed {MAX_BUCKETS} buckets (a typo in the time column?)",
                            rec[tcol].trim(),
                            Duration(step.min(u64::MAX as u128) as SimTime)
                        ),
                    ));
                }
                for _ in 0..gap {
                    values.push(None);
                    lines.push(line);
                }
            }
            prev_time = Some((t, line));
        }
        let v = parse_value(&rec[vcol]).map_err(|m| err(path, Some(line), m))?;
        values.push(v);
        lines.push(line);
    }
    Ok(RawTrace { values, lines })
}

/// Fills missing buckets according to the policy.
pub fn fill_missing(
    path: &Path,
    raw: &RawTrace,
    policy: MissingPolicy,
) -> Result<Vec<f64>, ScenarioError> {
    let v = &raw.values;
    if let Some(first_missing) = v.iter().position(Option::is_none) {
        if policy == MissingPolicy::Error {
            return Err(err(
                path,
                Some(raw.lines[first_missing]),
                format!(
                    "bucket #{} has no value (an empty cell or a gap in the time column); set load.missing to \"zero\", \"hold\" or \"interpolate\" to fill such buckets",
                    first_missing + 1
                ),
            ));
        }
        if v.iter().all(Option::is_none) {
            return Err(err(path, None, "the trace has no value at all"));
        }
    }
    let known: Vec<(usize, f64)> = v
        .iter()
        .enumerate()
        .filter_map(|(i, x)| x.map(|x| (i, x)))
        .collect();
    let mut out = Vec::with_capacity(v.len());
    let mut k = 0; // index into `known` of the next known bucket at or after i
    for (i, x) in v.iter().enumerate() {
        while k < known.len() && known[k].0 < i {
            k += 1;
        }
        out.push(match x {
            Some(x) => *x,
            None => {
                let prev = k.checked_sub(1).map(|j| known[j]);
                let next = known.get(k).copied();
                match policy {
                    MissingPolicy::Error => unreachable!("checked above"),
                    MissingPolicy::Zero => 0.0,
                    MissingPolicy::Hold => prev.or(next).map_or(0.0, |p| p.1),
                    MissingPolicy::Interpolate => match (prev, next) {
                        (Some((i0, v0)), Some((i1, v1))) => {
                            v0 + (v1 - v0) * (i - i0) as f64 / (i1 - i0) as f64
                        }
                        (Some((_, v)), None) | (None, Some((_, v))) => v,
                        (None, None) => 0.0,
                    },
                }
            }
        });
    }
    Ok(out)
}

/// Compiles a `kind = "trace"` load into a piecewise-constant rate.
pub fn compile(
    spec: &LoadSpec,
    base_dir: &Path,
    duration: SimTime,
) -> Result<RateFn, ScenarioError> {
    let LoadSpec::Trace {
        file,
        format,
        column,
        time_column,
        header,
        bucket,
        unit,
        scale,
        peak_rps,
        mean_rps,
        start,
        end,
        missing,
        repeat,
    } = spec
    else {
        unreachable!("trace::compile is only called for trace loads")
    };
    if bucket.0 < crate::time::MS {
        return Err(ScenarioError::invalid(
            "load.bucket",
            format!("must be at least 1ms, got {bucket}"),
        ));
    }
    let rescales = [scale.is_some(), peak_rps.is_some(), mean_rps.is_some()];
    if rescales.iter().filter(|x| **x).count() > 1 {
        return Err(ScenarioError::invalid(
            "load.scale",
            "give at most one of load.scale, load.peak_rps and load.mean_rps",
        ));
    }
    for (key, v) in [
        ("load.scale", scale),
        ("load.peak_rps", peak_rps),
        ("load.mean_rps", mean_rps),
    ] {
        if let Some(v) = v
            && !(v.is_finite() && *v >= 0.0)
        {
            return Err(ScenarioError::invalid(
                key,
                format!("expected a number ≥ 0, got {v}"),
            ));
        }
    }
    let path: PathBuf = if Path::new(file).is_absolute() {
        PathBuf::from(file)
    } else {
        base_dir.join(file)
    };
    let format = format.unwrap_or_else(|| default_format(&path));
    let raw = read(
        &path,
        format,
        column.as_ref(),
        time_column.as_ref(),
        header.unwrap_or(true),
        bucket.0,
    )?;
    if raw.values.is_empty() {
        return Err(err(&path, None, "the trace has no rows"));
    }
    // Window first, so that missing buckets outside it do not matter.
    let n = raw.values.len();
    let index_of = |key: &str, d: Duration| -> Result<usize, ScenarioError> {
        if !d.0.is_multiple_of(bucket.0) {
            return Err(ScenarioError::invalid(
                key,
                format!("must be a whole number of buckets ({bucket}), got {d}"),
            ));
        }
        Ok((d.0 / bucket.0) as usize)
    };
    let lo = start
        .map(|d| index_of("load.start", d))
        .transpose()?
        .unwrap_or(0);
    let hi = end
        .map(|d| index_of("load.end", d))
        .transpose()?
        .unwrap_or(n);
    if hi > n {
        return Err(ScenarioError::invalid(
            "load.end",
            format!(
                "{} is past the end of the trace ({} buckets of {bucket} = {})",
                Duration(hi as SimTime * bucket.0),
                n,
                Duration(n as SimTime * bucket.0)
            ),
        ));
    }
    if lo >= hi {
        return Err(ScenarioError::invalid(
            "load.start",
            "the window (load.start to load.end) is empty",
        ));
    }
    let window = RawTrace {
        values: raw.values[lo..hi].to_vec(),
        lines: raw.lines[lo..hi].to_vec(),
    };
    let mut rps = fill_missing(&path, &window, *missing)?;
    let per_sec = match unit {
        TraceUnit::Count => SECOND as f64 / bucket.0 as f64,
        TraceUnit::Rps => 1.0,
    };
    for r in &mut rps {
        *r *= per_sec;
    }
    let factor = if let Some(s) = scale {
        *s
    } else if let Some(p) = peak_rps {
        let max = rps.iter().copied().fold(0.0, f64::max);
        if max <= 0.0 {
            return Err(err(
                &path,
                None,
                "load.peak_rps: the trace window has no request, it cannot be rescaled",
            ));
        }
        p / max
    } else if let Some(m) = mean_rps {
        let mean = rps.iter().sum::<f64>() / rps.len() as f64;
        if mean <= 0.0 {
            return Err(err(
                &path,
                None,
                "load.mean_rps: the trace window has no request, it cannot be rescaled",
            ));
        }
        m / mean
    } else {
        1.0
    };
    for r in &mut rps {
        *r *= factor;
    }
    let length = (rps.len() as SimTime)
        .checked_mul(bucket.0)
        .ok_or_else(|| {
            ScenarioError::invalid(
                "load.bucket",
                format!("{} buckets of {bucket} are too long to simulate", rps.len()),
            )
        })?;
    if duration > length && !repeat {
        return Err(ScenarioError::invalid(
            "duration",
            format!(
                "the run ({}) is longer than the trace window ({}); shorten duration, or set load.repeat = true to loop the trace",
                Duration(duration),
                Duration(length)
            ),
        ));
    }
    Ok(RateFn::Buckets {
        width: bucket.0,
        rps,
        repeat: *repeat,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::MINUTE;

    fn raw(v: &[Option<f64>]) -> RawTrace {
        RawTrace {
            values: v.to_vec(),
            lines: (1..=v.len()).collect(),
        }
    }

    #[test]
    fn missing_policies() {
        let r = raw(&[None, Some(2.0), None, None, Some(8.0), None]);
        let p = Path::new("t.csv");
        assert_eq!(
            fill_missing(p, &r, MissingPolicy::Zero).unwrap(),
            vec![0.0, 2.0, 0.0, 0.0, 8.0, 0.0]
        );
        assert_eq!(
            fill_missing(p, &r, MissingPolicy::Hold).unwrap(),
            vec![2.0, 2.0, 2.0, 2.0, 8.0, 8.0]
        );
        assert_eq!(
            fill_missing(p, &r, MissingPolicy::Interpolate).unwrap(),
            vec![2.0, 2.0, 4.0, 6.0, 8.0, 8.0]
        );
        let e = fill_missing(p, &r, MissingPolicy::Error)
            .unwrap_err()
            .to_string();
        assert!(e.contains("t.csv") && e.contains("line 1"), "{e}");
    }

    #[test]
    fn time_cells() {
        assert_eq!(parse_time("60").unwrap(), 60 * SECOND as i128);
        let a = parse_time("1995-07-01T00:00").unwrap();
        let b = parse_time("1995-07-01 00:01:00").unwrap();
        assert_eq!(b - a, MINUTE as i128);
        assert!(parse_time("yesterday").is_err());
    }

    #[test]
    fn value_cells() {
        assert_eq!(parse_value(" 42 ").unwrap(), Some(42.0));
        assert_eq!(parse_value("").unwrap(), None);
        assert_eq!(parse_value("NA").unwrap(), None);
        assert!(parse_value("-3").is_err());
        assert!(parse_value("x").is_err());
    }
}
