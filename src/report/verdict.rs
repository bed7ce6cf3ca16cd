//! The service-level objective a scenario states (`[slo]`) and the verdict
//! on a run: meets or fails, and why it fails in the user's terms ("p99
//! above 250 ms in 1,354 minutes (0 allowed)"). `run`, `compare` and
//! `sweep` all judge through [`verdict`], so an option, a point and a run
//! are held to the same rule.
//!
//! Rules, all of which must hold:
//! - `p99_ms`: minutes whose p99 (errors counted as infinitely slow) is
//!   above it are breach minutes; at most `max_breach_minutes` of them, and
//!   at most `max_breach_share` of the run's minutes (with neither, none);
//! - `max_error_rate`: timed-out, rejected and failed requests as a share of
//!   the arrived ones;
//! - `[[slo.limits]]`: any number of `summary.json`, by its dotted path
//!   (`latency_ms.p99`, `cost_usd.monthly_projection`, …), with a `max`
//!   and/or a `min`.

use super::Summary;
use crate::error::ScenarioError;
use serde::{Deserialize, Serialize};

/// A limit on one summary metric.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limit {
    /// Dotted path in `summary.json`, e.g. `latency_ms.p99`.
    pub metric: String,
    /// Largest value that meets the SLO.
    #[serde(default)]
    pub max: Option<f64>,
    /// Smallest value that meets the SLO.
    #[serde(default)]
    pub min: Option<f64>,
}

/// The `[slo]` section.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SloSpec {
    /// Target 99th percentile latency (ms) of every minute. A minute whose
    /// p99 exceeds it — counting timeouts, rejections and failures as
    /// infinitely slow — is a breach minute.
    #[serde(default)]
    pub p99_ms: Option<f64>,
    /// Breach minutes the SLO tolerates. Default 0 (unless
    /// `max_breach_share` is given).
    #[serde(default)]
    pub max_breach_minutes: Option<u64>,
    /// Share of the run's minutes that may breach, e.g. 0.01 ("p99 under
    /// the target in 99 % of minutes").
    #[serde(default)]
    pub max_breach_share: Option<f64>,
    /// Largest share of requests that may end in an error (timed out,
    /// rejected, failed), e.g. 0.001.
    #[serde(default)]
    pub max_error_rate: Option<f64>,
    /// Limits on any summary metric.
    #[serde(default)]
    pub limits: Vec<Limit>,
}

impl SloSpec {
    /// Whether the scenario states any objective.
    pub fn is_set(&self) -> bool {
        self.p99_ms.is_some() || self.max_error_rate.is_some() || !self.limits.is_empty()
    }

    /// Checks the section: numbers in range, metrics that exist.
    pub fn validate(&self) -> Result<(), ScenarioError> {
        if let Some(p) = self.p99_ms
            && !(p.is_finite() && p > 0.0)
        {
            return Err(ScenarioError::invalid(
                "slo.p99_ms",
                format!("expected milliseconds > 0, got {p}"),
            ));
        }
        for (k, set) in [
            ("slo.max_breach_minutes", self.max_breach_minutes.is_some()),
            ("slo.max_breach_share", self.max_breach_share.is_some()),
        ] {
            if set && self.p99_ms.is_none() {
                return Err(ScenarioError::invalid(
                    k,
                    "counts minutes above slo.p99_ms, which is not set",
                ));
            }
        }
        if let Some(r) = self.max_breach_share
            && !(r.is_finite() && (0.0..=1.0).contains(&r))
        {
            return Err(ScenarioError::invalid(
                "slo.max_breach_share",
                format!("expected a share from 0 to 1 (0.01 = 1 % of minutes), got {r}"),
            ));
        }
        if let Some(r) = self.max_error_rate
            && !(r.is_finite() && (0.0..=1.0).contains(&r))
        {
            return Err(ScenarioError::invalid(
                "slo.max_error_rate",
                format!("expected a share from 0 to 1 (0.001 = 0.1 %), got {r}"),
            ));
        }
        let known = Summary::numeric_paths();
        for l in &self.limits {
            if !known.contains(&l.metric) {
                let mut near: Vec<(usize, &String)> = known
                    .iter()
                    .map(|k| (strsim::levenshtein(k, &l.metric), k))
                    .collect();
                near.sort();
                return Err(ScenarioError::invalid(
                    "slo.limits.metric",
                    format!(
                        "`{}` is not a number of summary.json; did you mean `{}`?",
                        l.metric,
                        near.first().map_or("latency_ms.p99", |n| n.1.as_str())
                    ),
                ));
            }
            if l.max.is_none() && l.min.is_none() {
                return Err(ScenarioError::invalid(
                    "slo.limits",
                    format!("the limit on `{}` needs a max or a min", l.metric),
                ));
            }
            if l.max.is_some_and(|v| !v.is_finite()) || l.min.is_some_and(|v| !v.is_finite()) {
                return Err(ScenarioError::invalid(
                    "slo.limits",
                    format!("the limit on `{}` must be a finite number", l.metric),
                ));
            }
        }
        Ok(())
    }
}

/// What the verdict says.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    /// Meets every objective.
    pub meets: bool,
    /// Why it fails, one reason per objective missed.
    pub fails: Vec<String>,
}

/// `1354` → `1,354`.
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn number(v: f64) -> String {
    if v.abs() >= 100.0 || v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.3}")
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_string()
    }
}

/// The verdict on a run's summary, or `None` when the scenario states no
/// objective.
pub fn verdict(s: &Summary, slo: &SloSpec) -> Option<Verdict> {
    if !slo.is_set() {
        return None;
    }
    let mut fails = Vec::new();
    if let (Some(p), Some(b)) = (slo.p99_ms, s.slo.breach_minutes) {
        let minutes = (s.duration_s / 60.0).ceil() as u64;
        let by_share = slo
            .max_breach_share
            .map(|r| (r * minutes as f64).floor() as u64);
        let allowed = match (slo.max_breach_minutes, by_share) {
            (Some(a), Some(b)) => a.min(b),
            (Some(a), None) => a,
            (None, Some(b)) => b,
            (None, None) => 0,
        };
        if b > allowed {
            fails.push(format!(
                "p99 above {} ms in {} minute(s) ({} allowed); p99 over the run {}",
                number(p),
                thousands(b),
                thousands(allowed),
                s.latency_ms
                    .p99
                    .map_or("-".to_string(), |v| format!("{} ms", number(v)))
            ));
        }
    }
    if let Some(max) = slo.max_error_rate {
        let r = &s.requests;
        let errors = r.timed_out + r.rejected + r.failed;
        let rate = if r.arrived > 0 {
            errors as f64 / r.arrived as f64
        } else {
            0.0
        };
        if rate > max {
            fails.push(format!(
                "errors {:.3} % of requests ({} timed out, {} rejected, {} failed) > {:.3} %",
                rate * 100.0,
                thousands(r.timed_out),
                thousands(r.rejected),
                thousands(r.failed),
                max * 100.0
            ));
        }
    }
    let json = serde_json::to_value(s).ok();
    for l in &slo.limits {
        let v = json.as_ref().and_then(|j| {
            l.metric
                .split('.')
                .try_fold(j, |v, seg| v.get(seg))
                .and_then(|v| v.as_f64())
        });
        match v {
            None => fails.push(format!("{} has no value in this run", l.metric)),
            Some(v) => {
                if let Some(max) = l.max
                    && v > max
                {
                    fails.push(format!("{} {} > {}", l.metric, number(v), number(max)));
                }
                if let Some(min) = l.min
                    && v < min
                {
                    fails.push(format!("{} {} < {}", l.metric, number(v), number(min)));
                }
            }
        }
    }
    Some(Verdict {
        meets: fails.is_empty(),
        fails,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1354), "1,354");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }

    #[test]
    fn limits_must_name_summary_numbers() {
        let ok = SloSpec {
            limits: vec![Limit {
                metric: "latency_ms.p99".into(),
                max: Some(250.0),
                min: None,
            }],
            ..SloSpec::default()
        };
        assert!(ok.validate().is_ok());
        let typo = SloSpec {
            limits: vec![Limit {
                metric: "latncy_ms.p99".into(),
                max: Some(250.0),
                min: None,
            }],
            ..SloSpec::default()
        };
        let e = typo.validate().unwrap_err().to_string();
        assert!(e.contains("latency_ms.p99"), "{e}");
    }
}
