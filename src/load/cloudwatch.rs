//! CloudWatch metric exports as load traces (`[load] kind = "trace"`,
//! `format = "cloudwatch"`): the JSON the AWS CLI prints for
//!
//! - `aws cloudwatch get-metric-data`: `MetricDataResults`, each with an
//!   `Id`, a `Label`, `Timestamps` and `Values` (newest first by default);
//! - `aws cloudwatch get-metric-statistics`: a `Label` and `Datapoints`,
//!   each a `Timestamp` and its statistics (`Sum`, `Average`,
//!   `SampleCount`, `Minimum`, `Maximum`, `ExtendedStatistics`), in no
//!   order (CloudWatch API reference).
//!
//! Timestamps carry their UTC offset and are read as instants. The
//! datapoints are sorted; each must lie a whole number of buckets after
//! the first (the request's `Period` is the scenario's `bucket`); a bucket
//! with no datapoint is missing (`load.missing` says what it becomes) —
//! CloudWatch returns no datapoint for a period with no data, so for
//! `RequestCount` `missing = "zero"` is usually right. Errors name the
//! file and the line of the datapoint.

use serde_json::Value;

/// A problem with the file: its line, if on one, and what is wrong.
pub type Problem = (Option<usize>, String);

fn err(line: Option<usize>, msg: impl Into<String>) -> Problem {
    (line, msg.into())
}

/// One datapoint: its instant (µs since the epoch, UTC), value and line.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    /// Instant.
    pub t: i128,
    /// Value.
    pub v: f64,
    /// Line in the file.
    pub line: usize,
}

/// Lines of the text, found by scanning forward for each timestamp in
/// document order (the text holds them in that order).
struct Lines<'t> {
    text: &'t str,
    at: usize,
    line: usize,
}

impl Lines<'_> {
    fn of(&mut self, needle: &str) -> usize {
        if let Some(k) = self.text[self.at..].find(needle) {
            self.line += self.text[self.at..self.at + k].matches('\n').count();
            self.at += k + needle.len();
        }
        self.line
    }
}

fn instant(line: usize, s: &str) -> Result<i128, Problem> {
    s.parse::<jiff::Timestamp>()
        .map(|t| i128::from(t.as_microsecond()))
        .map_err(|e| {
            err(
                Some(line),
                format!(
                    "expected a timestamp with its UTC offset (2026-11-01T10:05:00Z), got \"{}\" ({e})",
                    crate::input::excerpt(s, 80)
                ),
            )
        })
}

fn value(line: usize, v: &Value) -> Result<f64, Problem> {
    match v.as_f64() {
        Some(x) if x.is_finite() && x >= 0.0 => Ok(x),
        _ => Err(err(
            Some(line),
            format!("expected a count or rate ≥ 0, got {v}"),
        )),
    }
}

/// Reads a CloudWatch JSON export: its datapoints, oldest first (two at
/// one instant are refused). `column`: the result's Id or Label, or the
/// statistic.
pub fn read(text: &str, column: Option<&str>) -> Result<Vec<Point>, Problem> {
    let json: Value = serde_json::from_str(text).map_err(|e| {
        err(
            Some(e.line()),
            format!("not the JSON the AWS CLI prints: {e}"),
        )
    })?;
    let mut lines = Lines {
        text,
        at: 0,
        line: 1,
    };
    let want = |c: &str| c.to_string();
    // (time, value, line) in file order.
    let mut points: Vec<(i128, f64, usize)> = Vec::new();
    if let Some(results) = json.get("MetricDataResults").and_then(Value::as_array) {
        let names: Vec<String> = results
            .iter()
            .map(|r| {
                format!(
                    "{} ({})",
                    r.get("Id").and_then(Value::as_str).unwrap_or("?"),
                    r.get("Label").and_then(Value::as_str).unwrap_or("?")
                )
            })
            .collect();
        let chosen = match column {
            Some(c) => {
                let w = want(c);
                results.iter().find(|r| {
                    r.get("Id").and_then(Value::as_str) == Some(&w)
                        || r.get("Label").and_then(Value::as_str) == Some(&w)
                })
            }
            None if results.len() == 1 => results.first(),
            None => None,
        };
        let Some(r) = chosen else {
            return Err(err(
                None,
                format!(
                    "{} result(s) in MetricDataResults: {}; set load.column to the Id or Label of the one to replay",
                    results.len(),
                    names.join(", ")
                ),
            ));
        };
        if let Some(id) = r.get("Id").and_then(Value::as_str) {
            lines.of(&format!("\"{id}\""));
        }
        let empty = Vec::new();
        let ts = r
            .get("Timestamps")
            .and_then(Value::as_array)
            .unwrap_or(&empty);
        let vs = r.get("Values").and_then(Value::as_array).unwrap_or(&empty);
        if ts.len() != vs.len() {
            return Err(err(
                Some(lines.line),
                format!(
                    "{} Timestamps but {} Values in the result",
                    ts.len(),
                    vs.len()
                ),
            ));
        }
        for t in ts {
            let s = t.as_str().unwrap_or("");
            let line = lines.of(s);
            points.push((instant(line, s)?, 0.0, line));
        }
        for (p, v) in points.iter_mut().zip(vs) {
            p.1 = value(p.2, v)?;
        }
        if r.get("StatusCode").and_then(Value::as_str) == Some("PartialData") {
            return Err(err(
                None,
                "the result's StatusCode is PartialData: fetch the rest with the NextToken the CLI printed (or `--no-paginate` off) and save one file",
            ));
        }
    } else if let Some(dps) = json.get("Datapoints").and_then(Value::as_array) {
        const STATS: [&str; 5] = ["Sum", "Average", "SampleCount", "Maximum", "Minimum"];
        let stat = match column {
            Some(c) => want(c),
            None => {
                let present: Vec<&str> = STATS
                    .iter()
                    .copied()
                    .filter(|s| dps.iter().any(|d| d.get(*s).is_some()))
                    .collect();
                match present.as_slice() {
                    [] if dps.is_empty() => "Sum".to_string(),
                    [one] => one.to_string(),
                    many if many.contains(&"Sum") => "Sum".to_string(),
                    many => {
                        return Err(err(
                            None,
                            format!(
                                "the datapoints hold {}: set load.column to the statistic to replay",
                                many.join(", ")
                            ),
                        ));
                    }
                }
            }
        };
        for d in dps {
            let s = d.get("Timestamp").and_then(Value::as_str).unwrap_or("");
            let line = lines.of(s);
            let v = d
                .get(&stat)
                .or_else(|| d.get("ExtendedStatistics").and_then(|e| e.get(&stat)));
            let Some(v) = v else {
                return Err(err(
                    Some(line),
                    format!("the datapoint has no {stat} (load.column names the statistic)"),
                ));
            };
            points.push((instant(line, s)?, value(line, v)?, line));
        }
    } else {
        return Err(err(
            None,
            "expected the JSON of `aws cloudwatch get-metric-data` (MetricDataResults) or `get-metric-statistics` (Datapoints)",
        ));
    }
    points.sort_by_key(|p| p.0);
    for w in points.windows(2) {
        if w[0].0 == w[1].0 {
            return Err(err(
                Some(w[1].2),
                format!("a second datapoint for the instant of line {}", w[0].2),
            ));
        }
    }
    Ok(points
        .into_iter()
        .map(|(t, v, line)| Point { t, v, line })
        .collect())
}
