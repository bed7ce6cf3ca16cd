//! `capsim import alb-logs`: an Application Load Balancer's access logs
//! (the documented space-separated format, one file or a folder of them as
//! AWS writes them, gzip or not) into
//!
//! - a per-second request trace (`trace.csv`: each request counted at its
//!   `request_creation_time`, the instant the load balancer received it),
//! - a fit of `target_processing_time` (the target's time from the
//!   request sent to the response headers started) to capsim's workload:
//!   a log-normal by maximum likelihood, written as `cpu_ms` and `io_ms`
//!   by a CPU share, with its goodness of fit (the Kolmogorov–Smirnov
//!   distance) and a Q–Q plot,
//! - the shares of 5xx responses and of requests no target answered
//!   (`target_processing_time` = −1).
//!
//! Processing time includes the target's own queueing at the load it
//! served. The fit therefore uses the quietest seconds only (those with
//! at most the first quartile of the per-second counts), where queueing is
//! least; it says so, and falls back to every request when those hold too
//! few. Field positions: Elastic Load Balancing guide, "Access log
//! entries" (type, time, elb, client:port, target:port,
//! request_processing_time, target_processing_time,
//! response_processing_time, elb_status_code, target_status_code, …,
//! request_creation_time is the 22nd field).

use crate::error::Error;
use std::path::{Path, PathBuf};

/// Fewest requests the fit uses from the quietest seconds before it falls
/// back to all of them.
pub const MIN_QUIET_SAMPLES: usize = 500;

/// Most log lines read (at about 400 bytes a line, 40 GB of logs).
pub const MAX_LINES: usize = 100_000_000;

/// One request of the logs.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Entry {
    /// Arrival (µs since the Unix epoch, UTC).
    arrival: i64,
    /// Target processing time (ms), `None` when no target answered (−1).
    processing_ms: Option<f64>,
    /// The load balancer answered 5xx.
    error_5xx: bool,
}

/// The fit and the trace.
#[derive(Debug, Clone, PartialEq)]
pub struct AlbImport {
    /// Requests read.
    pub requests: usize,
    /// First second (µs since the epoch) and the counts per second from it.
    pub start_us: i64,
    /// Requests per second.
    pub per_second: Vec<u64>,
    /// Share of requests answered 5xx by the load balancer.
    pub share_5xx: f64,
    /// Share of requests no target answered.
    pub share_no_response: f64,
    /// The log-normal's μ and σ (of ln ms).
    pub mu: f64,
    /// σ.
    pub sigma: f64,
    /// Samples the fit used.
    pub samples: usize,
    /// Whether the fit used the quietest seconds only.
    pub quiet_only: bool,
    /// The Kolmogorov–Smirnov distance of the fit to its samples.
    pub ks: f64,
    /// (fitted, measured) quantiles at 1 %, 2 %, …, 99 % (ms).
    pub qq: Vec<(f64, f64)>,
}

impl AlbImport {
    /// The fitted mean (ms).
    pub fn mean_ms(&self) -> f64 {
        (self.mu + self.sigma * self.sigma / 2.0).exp()
    }

    /// The fitted 99th percentile (ms).
    pub fn p99_ms(&self) -> f64 {
        (self.mu + Z99 * self.sigma).exp()
    }
}

/// The standard normal's 99th percentile.
const Z99: f64 = 2.326_347_874_040_841;

/// Splits a log line into fields: spaces separate, double quotes group
/// (a backslash escapes a quote inside).
fn fields(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let (mut quoted, mut any) = (false, false);
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' if quoted => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            '"' => {
                quoted = !quoted;
                any = true;
            }
            ' ' if !quoted => {
                if any || !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
                any = false;
            }
            c => {
                cur.push(c);
                any = true;
            }
        }
    }
    if any || !cur.is_empty() {
        out.push(cur);
    }
    out
}

fn parse_line(line: &str) -> Result<Entry, String> {
    let f = fields(line);
    if f.len() < 22 {
        return Err(format!(
            "{} fields where an ALB log entry has at least 22 (type, time, elb, client:port, …, request_creation_time)",
            f.len()
        ));
    }
    let time = |s: &str, what: &str| {
        s.parse::<jiff::Timestamp>()
            .map(|t| t.as_microsecond())
            .map_err(|e| format!("{what} \"{}\": {e}", crate::input::excerpt(s, 40)))
    };
    let arrival = time(&f[21], "request_creation_time").or_else(|_| time(&f[1], "time"))?;
    let processing: f64 = f[6].parse().map_err(|_| {
        format!(
            "target_processing_time \"{}\" is not a number",
            crate::input::excerpt(&f[6], 40)
        )
    })?;
    if !processing.is_finite() || (processing < 0.0 && processing != -1.0) {
        return Err(format!(
            "target_processing_time {processing}: expected seconds ≥ 0, or -1"
        ));
    }
    Ok(Entry {
        arrival,
        processing_ms: (processing >= 0.0).then_some(processing * 1_000.0),
        error_5xx: f[8].starts_with('5'),
    })
}

/// The log files: `path` itself, or the files of the folder (recursively,
/// as AWS lays them out by account, region and date), in name order.
fn files(path: &Path) -> Result<Vec<PathBuf>, Error> {
    let bad = |m: String| Error::Import {
        file: path.to_path_buf(),
        message: m,
    };
    let meta = std::fs::metadata(path).map_err(|e| bad(e.to_string()))?;
    if meta.is_file() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut out = Vec::new();
    let mut stack = vec![path.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(&dir)
            .map_err(|e| bad(format!("{}: {e}", dir.display())))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                stack.push(p);
            } else if p.is_file() {
                out.push(p);
            }
        }
    }
    out.sort();
    if out.is_empty() {
        return Err(bad("no log file in the folder".into()));
    }
    Ok(out)
}

/// Reads the logs under `path` and fits them.
pub fn import(path: &Path) -> Result<AlbImport, Error> {
    let mut entries = Vec::new();
    for file in files(path)? {
        let bad = |line: Option<usize>, m: String| Error::Import {
            file: file.clone(),
            message: match line {
                Some(l) => format!("line {l}: {m}"),
                None => m,
            },
        };
        let max = crate::input::max_trace_bytes();
        let bytes = crate::input::read_bytes(&file, max).map_err(|e| bad(None, e))?;
        let gz = file
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("gz"));
        let bytes = if gz {
            crate::input::gunzip(&bytes, max).map_err(|e| bad(None, e))?
        } else {
            bytes
        };
        let text = String::from_utf8(bytes).map_err(|e| bad(None, format!("not text: {e}")))?;
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            if entries.len() >= MAX_LINES {
                return Err(bad(
                    Some(i + 1),
                    format!("more than {MAX_LINES} log entries"),
                ));
            }
            entries.push(parse_line(line).map_err(|m| bad(Some(i + 1), m))?);
        }
    }
    if entries.is_empty() {
        return Err(Error::Import {
            file: path.to_path_buf(),
            message: "no log entry".into(),
        });
    }
    fit(&entries).map_err(|m| Error::Import {
        file: path.to_path_buf(),
        message: m,
    })
}

fn fit(entries: &[Entry]) -> Result<AlbImport, String> {
    const SECOND: i64 = 1_000_000;
    let first = entries.iter().map(|e| e.arrival).min().unwrap_or(0);
    let last = entries.iter().map(|e| e.arrival).max().unwrap_or(0);
    let start = first.div_euclid(SECOND) * SECOND;
    let seconds = usize::try_from((last - start) / SECOND + 1).unwrap_or(usize::MAX);
    if seconds > crate::load::trace::MAX_BUCKETS {
        return Err(format!(
            "the logs span {seconds} seconds, more than a trace's {} buckets",
            crate::load::trace::MAX_BUCKETS
        ));
    }
    let second = |e: &Entry| ((e.arrival - start) / SECOND) as usize;
    let mut per_second = vec![0u64; seconds];
    for e in entries {
        per_second[second(e)] += 1;
    }
    // The quietest seconds: at most the first quartile of the busy ones.
    let mut busy: Vec<u64> = per_second.iter().copied().filter(|&c| c > 0).collect();
    busy.sort_unstable();
    let quartile = busy[(busy.len() - 1) / 4];
    let answered = |e: &&Entry| e.processing_ms.is_some_and(|p| p > 0.0);
    let quiet: Vec<f64> = entries
        .iter()
        .filter(answered)
        .filter(|e| per_second[second(e)] <= quartile)
        .filter_map(|e| e.processing_ms)
        .collect();
    let (mut xs, quiet_only) = if quiet.len() >= MIN_QUIET_SAMPLES {
        (quiet, true)
    } else {
        (
            entries
                .iter()
                .filter(answered)
                .filter_map(|e| e.processing_ms)
                .collect(),
            false,
        )
    };
    if xs.len() < 2 {
        return Err(format!(
            "{} request(s) with a positive target_processing_time: too few to fit",
            xs.len()
        ));
    }
    xs.sort_by(f64::total_cmp);
    let n = xs.len() as f64;
    let mu = xs.iter().map(|x| x.ln()).sum::<f64>() / n;
    let sigma = (xs.iter().map(|x| (x.ln() - mu).powi(2)).sum::<f64>() / n).sqrt();
    let normal = statrs::distribution::Normal::new(0.0, 1.0).map_err(|e| e.to_string())?;
    use statrs::distribution::{ContinuousCDF, Normal};
    let cdf = |x: f64| -> f64 {
        if sigma > 0.0 {
            Normal::cdf(&normal, (x.ln() - mu) / sigma)
        } else if x < mu.exp() {
            0.0
        } else {
            1.0
        }
    };
    let ks = xs
        .iter()
        .enumerate()
        .map(|(i, &x)| {
            let f = cdf(x);
            (f - i as f64 / n).abs().max(((i + 1) as f64 / n - f).abs())
        })
        .fold(0.0, f64::max);
    let qq = (1..100)
        .map(|k| {
            let p = k as f64 / 100.0;
            let fitted = (mu + sigma * Normal::inverse_cdf(&normal, p)).exp();
            let measured = xs[((p * n).ceil() as usize).clamp(1, xs.len()) - 1];
            (fitted, measured)
        })
        .collect();
    let total = entries.len() as f64;
    Ok(AlbImport {
        requests: entries.len(),
        start_us: start,
        per_second,
        share_5xx: entries.iter().filter(|e| e.error_5xx).count() as f64 / total,
        share_no_response: entries.iter().filter(|e| e.processing_ms.is_none()).count() as f64
            / total,
        mu,
        sigma,
        samples: xs.len(),
        quiet_only,
        ks,
        qq,
    })
}

/// Writes the import into `dir` (created): `trace.csv`, `workload.toml`
/// (the `[load]` and `[workload]` to paste into a scenario, each value
/// commented), `qq.svg` / `qq.png` and `index.html`. `cpu_share`: the part
/// of the processing time that is CPU, the rest waiting (`io_ms`).
pub fn write(dir: &Path, a: &AlbImport, cpu_share: f64, source: &Path) -> Result<(), Error> {
    use crate::report::{charts, fsio, html};
    use std::fmt::Write as _;
    let out = |path: PathBuf| {
        move |error: std::io::Error| Error::Output {
            path: path.clone(),
            error,
        }
    };
    std::fs::create_dir_all(dir).map_err(out(dir.to_path_buf()))?;
    let mut csv = String::from("time,requests\n");
    for (i, c) in a.per_second.iter().enumerate() {
        let t =
            jiff::Timestamp::from_microsecond(a.start_us + i as i64 * 1_000_000).map_err(|e| {
                Error::Import {
                    file: source.to_path_buf(),
                    message: e.to_string(),
                }
            })?;
        let _ = writeln!(csv, "{},{c}", t.strftime("%Y-%m-%dT%H:%M:%SZ"));
    }
    fsio::write(&dir.join("trace.csv"), csv).map_err(out(dir.join("trace.csv")))?;
    let (mean, p99) = (a.mean_ms(), a.p99_ms());
    let fitted = format!(
        "log-normal fit of target_processing_time: mean {mean:.2} ms, p99 {p99:.2} ms (mu {:.4}, sigma {:.4} of ln ms), {} requests{}; Kolmogorov-Smirnov distance {:.4}",
        a.mu,
        a.sigma,
        a.samples,
        if a.quiet_only {
            " of the quietest seconds"
        } else {
            ", every one (the quietest seconds held too few)"
        },
        a.ks
    );
    let mut w = super::Writer::default();
    w.comment(&format!(
        "Imported by `capsim import alb-logs` from {}.",
        source.display()
    ));
    w.comment(&format!(
        "{} requests; {:.3} % answered 5xx by the load balancer, {:.3} % with no target response.",
        a.requests,
        a.share_5xx * 100.0,
        a.share_no_response * 100.0
    ));
    w.comment("Paste these sections into a scenario (next to trace.csv).");
    w.table("load", "");
    w.value("kind", "trace", "");
    w.value(
        "file",
        "trace.csv",
        "requests per second, counted at request_creation_time (UTC)",
    );
    w.value("time_column", "time", "");
    w.value("column", "requests", "");
    w.value("bucket", "1s", "");
    w.table("workload", &fitted);
    w.comment(&format!(
        "The fit is of the whole processing time; {:.0} % of it is taken as CPU (--cpu-share: set it from the",
        cpu_share * 100.0
    ));
    w.comment("service's CPU use, e.g. CPU-seconds per request = CPU utilisation x vCPUs x tasks / requests per second).");
    w.comment("capsim draws the CPU and the wait independently, so their sum spreads a little less than the fit.");
    let dist = |share: f64| {
        format!(
            "{{ dist = \"lognormal\", mean = {:.4}, p99 = {:.4} }}",
            mean * share,
            p99 * share
        )
    };
    if cpu_share > 0.0 {
        w.raw("cpu_ms", &dist(cpu_share), "the fit x cpu share");
    } else {
        w.raw(
            "cpu_ms",
            "{ dist = \"constant\", value = 0.01 }",
            "no CPU (cpu share 0)",
        );
    }
    if cpu_share < 1.0 {
        w.raw("io_ms", &dist(1.0 - cpu_share), "the fit x (1 - cpu share)");
    }
    fsio::write(&dir.join("workload.toml"), w.finish()).map_err(out(dir.join("workload.toml")))?;
    let hi = a.qq.iter().map(|q| q.0.max(q.1)).fold(0.0, f64::max);
    let chart = charts::Chart::Lines {
        title: "Q-Q: measured vs fitted quantiles of target_processing_time".into(),
        x_label: "fitted log-normal quantile (ms)".into(),
        y_label: "measured quantile (ms)".into(),
        lines: vec![
            charts::Line {
                name: "quantiles 1 % to 99 %".into(),
                points: a.qq.clone(),
                color: charts::PALETTE[0],
                dashed: false,
            },
            charts::Line {
                name: "a perfect fit".into(),
                points: vec![(0.0, 0.0), (hi, hi)],
                color: charts::PALETTE[6],
                dashed: true,
            },
        ],
        markers: Vec::new(),
        hline: None,
    };
    let svg = charts::render(&chart, dir, "qq")?;
    let rows = vec![
        vec!["requests".into(), a.requests.to_string()],
        vec!["seconds".into(), a.per_second.len().to_string()],
        vec![
            "5xx from the load balancer".into(),
            format!("{:.3} %", a.share_5xx * 100.0),
        ],
        vec![
            "no target response".into(),
            format!("{:.3} %", a.share_no_response * 100.0),
        ],
        vec!["fit".into(), fitted.clone()],
        vec!["cpu share".into(), format!("{:.0} %", cpu_share * 100.0)],
    ];
    let mut body = String::new();
    body.push_str("<h2>Summary</h2>");
    body.push_str(&html::table(&["", "value"], &rows, &[]));
    body.push_str(&html::charts(&[html::InlineChart {
        id: "chart-qq".into(),
        title: "Q-Q plot".into(),
        svg,
        png: "qq.png".into(),
    }]));
    body.push_str(&html::notes(&[
        "target_processing_time includes the target's queueing at the load it served: the fit uses the quietest seconds (at most the first quartile of requests per second) to see the service time itself; at high utilisation it would read high.".into(),
        "A Kolmogorov-Smirnov distance under about 0.05 means the log-normal follows the measurements closely; the Q-Q plot shows where it does not (usually the tail).".into(),
    ]));
    body.push_str(&html::files(&[
        "trace.csv",
        "workload.toml",
        "qq.svg",
        "qq.png",
    ]));
    fsio::write(
        &dir.join("index.html"),
        html::page(
            "ALB access logs",
            &format!("capsim import alb-logs — {}", source.display()),
            &body,
        ),
    )
    .map_err(out(dir.join("index.html")))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const LINE: &str = r#"https 2026-11-02T10:00:00.250000Z app/web/50dc6c495c0c9188 192.168.131.39:2817 10.0.0.1:80 0.000 0.042 0.000 200 200 34 366 "GET https://www.example.com:443/ HTTP/1.1" "curl/7.46.0" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067 "Root=1-58337281-1d84f3d73c47ec4e58577259" "www.example.com" "arn:aws:acm:us-east-2:123456789012:certificate/12345678-1234-1234-1234-123456789012" 1 2026-11-02T10:00:00.200000Z "authenticate,forward" "-" "-" "10.0.0.1:80" "200" "-" "-" TID_123456"#;

    #[test]
    fn a_documented_entry_reads() {
        let e = parse_line(LINE).unwrap();
        assert_eq!(e.processing_ms, Some(42.0));
        assert!(!e.error_5xx);
        // Counted at request_creation_time, not at the response's time.
        let created: jiff::Timestamp = "2026-11-02T10:00:00.2Z".parse().unwrap();
        assert_eq!(e.arrival, created.as_microsecond());
        let no_target = LINE
            .replace(" 0.042 ", " -1 ")
            .replace(" 200 200 ", " 502 - ");
        let e = parse_line(&no_target).unwrap();
        assert_eq!((e.processing_ms, e.error_5xx), (None, true));
    }

    #[test]
    fn bad_entries_say_what_is_wrong() {
        assert!(parse_line("https 2026").unwrap_err().contains("22"));
        let e = parse_line(&LINE.replace(" 0.042 ", " soon ")).unwrap_err();
        assert!(e.contains("target_processing_time"), "{e}");
        let e = parse_line(&LINE.replace(" 0.042 ", " -3 ")).unwrap_err();
        assert!(e.contains("-1"), "{e}");
        assert_eq!(
            fields(r#"a "b c" "" "d \"e\"" f"#),
            vec!["a", "b c", "", "d \"e\"", "f"]
        );
    }
}
