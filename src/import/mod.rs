//! `capsim import`: scenarios from what users already have. Each importer
//! reads its sources (today `ecs`: the JSON the AWS CLI prints for a
//! service built by hand), and writes a scenario TOML where every imported
//! value carries a comment naming the file and field it came from, and
//! every value the sources cannot give (the load, the workload) is a
//! marked placeholder. It returns what it ignored, each with the reason;
//! the binary writes the file (never over one that exists unless asked)
//! and validates it.

pub mod alb;
mod aws_scaling;
pub mod cloudformation;
pub mod ecs;
pub mod terraform;

use std::fmt::Write as _;

/// What an importer produced.
#[derive(Debug, Clone, PartialEq)]
pub struct Imported {
    /// The scenario TOML, commented.
    pub toml: String,
    /// What the sources held that the scenario does not use, and why.
    pub ignored: Vec<String>,
}

/// A TOML document written line by line, each value with its source.
#[derive(Debug, Default)]
pub(crate) struct Writer {
    out: String,
}

impl Writer {
    /// A comment line (`# …`), or a blank line for an empty text.
    pub(crate) fn comment(&mut self, text: &str) {
        if text.is_empty() {
            self.out.push('\n');
        } else {
            for line in text.lines() {
                let _ = writeln!(self.out, "# {line}");
            }
        }
    }

    /// `[name]`, after a blank line, with an optional comment.
    pub(crate) fn table(&mut self, name: &str, note: &str) {
        self.out.push('\n');
        if note.is_empty() {
            let _ = writeln!(self.out, "[{name}]");
        } else {
            let _ = writeln!(self.out, "[{name}]  # {note}");
        }
    }

    /// `[[name]]` (one more element of an array of tables).
    pub(crate) fn array_table(&mut self, name: &str) {
        let _ = writeln!(self.out, "\n[[{name}]]");
    }

    /// `key = value  # source` (the value already in TOML form).
    pub(crate) fn raw(&mut self, key: &str, value: &str, source: &str) {
        if source.is_empty() {
            let _ = writeln!(self.out, "{key} = {value}");
        } else {
            let _ = writeln!(self.out, "{key} = {value}  # {source}");
        }
    }

    /// `key = value  # source`, the value written as TOML writes it.
    pub(crate) fn value(&mut self, key: &str, value: impl Into<toml::Value>, source: &str) {
        let v: toml::Value = value.into();
        self.raw(key, &v.to_string(), source);
    }

    /// `seed`, `duration`, and `region`: the one found with its source,
    /// else us-east-1 marked as a placeholder saying why.
    pub(crate) fn run(&mut self, region: Option<(&str, &str)>, why_none: &str) {
        self.value("seed", 1, "capsim: any seed");
        self.value("duration", "1d", "capsim: the horizon to simulate");
        match region {
            Some((r, source)) => self.value("region", r, source),
            None => self.value("region", "us-east-1", &format!("PLACEHOLDER: {why_none}")),
        }
    }

    /// The `[load]` and `[workload]` no configuration holds: marked
    /// placeholders, with how to replace them.
    pub(crate) fn load_placeholders(&mut self) {
        self.table(
            "load",
            "PLACEHOLDER: your traffic. A CloudWatch export replays as it is:",
        );
        self.comment(
            "kind = \"trace\", file = \"requests.json\" (aws cloudwatch get-metric-data …),",
        );
        self.comment("format = \"cloudwatch\", bucket = \"1m\", missing = \"zero\"");
        self.value("kind", "constant", "PLACEHOLDER");
        self.value("rps", 50, "PLACEHOLDER");
        self.table(
            "workload",
            "PLACEHOLDER: what one request needs (capsim import alb-logs fits it to measured latencies)",
        );
        self.raw(
            "cpu_ms",
            "{ dist = \"lognormal\", mean = 20, p99 = 90 }",
            "PLACEHOLDER",
        );
        self.raw(
            "io_ms",
            "{ dist = \"exponential\", mean = 30 }",
            "PLACEHOLDER",
        );
    }

    /// The `[slo]` placeholder every import ends with.
    pub(crate) fn slo_placeholder(&mut self) {
        self.table(
            "slo",
            "PLACEHOLDER: what good enough means for this service",
        );
        self.value("p99_ms", 500, "PLACEHOLDER");
        self.value("max_breach_share", 0.01, "PLACEHOLDER");
    }

    pub(crate) fn finish(self) -> String {
        self.out
    }
}

/// An Application Auto Scaling schedule as capsim's scheduled action: the
/// first firing as an offset from the run's start (simulated time 0 is
/// Monday 00:00 UTC) and the repeat period. `cron(M H * * ? *)` fires
/// daily, `cron(M H ? * DAY *)` weekly, `rate(N unit)` every N units;
/// what needs a calendar date (`at(…)`, days of the month, months, years,
/// several hours or days) is refused with the reason.
pub(crate) fn aws_schedule(expr: &str) -> Result<(String, String), String> {
    let e = expr.trim();
    let inner = |p: &str| e.strip_prefix(p).and_then(|r| r.strip_suffix(')'));
    if let Some(r) = inner("rate(") {
        let (n, unit) = r
            .trim()
            .split_once(' ')
            .ok_or_else(|| format!("\"{e}\": expected rate(N unit)"))?;
        let n: u64 = n
            .parse()
            .map_err(|_| format!("\"{e}\": {n} is not a count"))?;
        let u = match unit.trim().trim_end_matches('s') {
            "minute" => "m",
            "hour" => "h",
            "day" => "d",
            other => return Err(format!("\"{e}\": unknown unit {other}")),
        };
        let every = format!("{n}{u}");
        return Ok((every.clone(), every));
    }
    if let Some(c) = inner("cron(") {
        let f: Vec<&str> = c.split_whitespace().collect();
        let [minute, hour, dom, month, dow, ..] = f.as_slice() else {
            return Err(format!(
                "\"{e}\": expected cron(minutes hours day-of-month month day-of-week year)"
            ));
        };
        let (m, h): (u64, u64) = match (minute.parse(), hour.parse()) {
            (Ok(m), Ok(h)) if m < 60 && h < 24 => (m, h),
            _ => {
                return Err(format!(
                    "\"{e}\": capsim represents one firing a day or a week (fixed minute and hour)"
                ));
            }
        };
        if *month != "*" || !matches!(*dom, "*" | "?") || f.get(5).is_some_and(|y| *y != "*") {
            return Err(format!(
                "\"{e}\": days of the month, months and years need a calendar date, which a run has not"
            ));
        }
        let day_s = h * 3_600 + m * 60;
        return match *dow {
            "*" | "?" => Ok((format!("{day_s}s"), "1d".into())),
            d => {
                // AWS: 1–7 = SUN–SAT, or the names; day 0 of a run is Monday.
                let names = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];
                let i = names
                    .iter()
                    .position(|n| n.eq_ignore_ascii_case(d))
                    .or_else(|| {
                        d.parse::<usize>()
                            .ok()
                            .filter(|x| (1..=7).contains(x))
                            .map(|x| x - 1)
                    })
                    .ok_or_else(|| format!("\"{e}\": one day of the week (SUN–SAT or 1–7) only"))?;
                let from_monday = (i + 6) % 7;
                Ok((
                    format!("{}s", from_monday as u64 * 86_400 + day_s),
                    "7d".into(),
                ))
            }
        };
    }
    Err(format!(
        "\"{e}\": a one-off at(…) needs a calendar date, which a run has not (capsim's scheduled actions are offsets from its start)"
    ))
}

#[cfg(test)]
mod tests {
    use super::aws_schedule;

    #[test]
    fn schedules_become_offsets_and_periods() {
        let ok = |e: &str| aws_schedule(e).unwrap();
        assert_eq!(ok("cron(30 8 * * ? *)"), ("30600s".into(), "1d".into()));
        // Friday 18:00: 4 days after Monday 00:00.
        assert_eq!(
            ok("cron(0 18 ? * FRI *)"),
            ((4 * 86_400 + 18 * 3_600).to_string() + "s", "7d".into())
        );
        assert_eq!(
            ok("cron(0 0 ? * 1 *)"),
            ((6 * 86_400).to_string() + "s", "7d".into())
        );
        assert_eq!(ok("rate(6 hours)"), ("6h".into(), "6h".into()));
        assert_eq!(ok("rate(1 day)"), ("1d".into(), "1d".into()));
        for (e, want) in [
            ("at(2026-12-24T18:00:00)", "calendar date"),
            ("cron(0 9 1 * ? *)", "calendar date"),
            ("cron(0 9-17 * * ? *)", "fixed minute and hour"),
            ("rate(2 fortnights)", "unknown unit"),
        ] {
            assert!(aws_schedule(e).unwrap_err().contains(want), "{e}");
        }
    }
}
