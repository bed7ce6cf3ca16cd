//! The decision log of Service Auto Scaling: one row of `decisions.csv`
//! per evaluation per policy, and the text it is written in (datapoints
//! labelled with their period, instants as `d<day> HH:MM:SS`). A row keeps
//! its text's parts ([`Text`]) and writes it when read: a month's log
//! holds 43,000 rows, most of which nobody reads.

use super::alarm::AlarmEval;
use crate::time::{SECOND, SimTime};
use serde::Serialize;
use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

/// One row of `decisions.csv`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Decision {
    /// Simulated seconds since the start.
    pub time_s: f64,
    /// Day and time of day (`d0 09:03:00`).
    pub clock: Text,
    /// Policy name.
    pub policy: Text,
    /// What the alarm compares.
    pub alarm: Text,
    /// The datapoints it looked at, oldest first (`-` = missing).
    pub datapoints: Text,
    /// Alarm state.
    pub alarm_state: Text,
    /// Running tasks.
    pub running: u32,
    /// Desired count before.
    pub old_desired: u32,
    /// What the policy asked for (empty if nothing).
    pub proposed: Option<u32>,
    /// Desired count after this evaluation.
    pub new_desired: u32,
    /// `scale_out`, `scale_in`, `limits`, or `none`.
    pub action: Text,
    /// Why.
    pub reason: Text,
}

/// A field of a log row: text, or the parts it is written from when it is
/// read (displayed, compared or serialised). Two are equal when their
/// texts are.
#[derive(Debug, Clone)]
pub enum Text {
    /// Written already.
    Owned(String),
    /// A constant.
    Static(&'static str),
    /// A policy's name, label or quiet reason, shared by its rows.
    Shared(Arc<str>),
    /// An instant, written as [`clock`] writes it.
    Clock(SimTime),
    /// An alarm's datapoints and the starts of their periods, written as
    /// `09:01=62.10;09:02=-`.
    Datapoints(Box<[(Option<f64>, SimTime)]>),
    /// `no action: {breaching} of {periods} datapoints {label}, {needed}
    /// needed` (and ` to scale in`).
    Breaching {
        /// Datapoints that breached.
        breaching: u32,
        /// Datapoints looked at.
        periods: u32,
        /// The alarm's label.
        label: Arc<str>,
        /// Datapoints that must breach.
        needed: u32,
        /// Whether the alarm is the scale-in one.
        to_scale_in: bool,
    },
}

impl Text {
    /// The text.
    pub fn as_str(&self) -> Cow<'_, str> {
        match self {
            Text::Owned(s) => Cow::Borrowed(s),
            Text::Static(s) => Cow::Borrowed(s),
            Text::Shared(s) => Cow::Borrowed(s),
            other => Cow::Owned(other.to_string()),
        }
    }

    /// Whether the text holds `pat`.
    pub fn contains(&self, pat: &str) -> bool {
        self.as_str().contains(pat)
    }

    /// Whether the text starts with `pat` (the text of an instant, of
    /// datapoints or of a breaching count is written to tell).
    pub fn starts_with(&self, pat: &str) -> bool {
        match self {
            // Its text starts "no action: " and goes on with figures.
            Text::Breaching { .. }
                if !pat.starts_with("no action") && !"no action".starts_with(pat) =>
            {
                false
            }
            _ => self.as_str().starts_with(pat),
        }
    }

    /// Whether the text is empty.
    pub fn is_empty(&self) -> bool {
        self.as_str().is_empty()
    }

    /// An alarm's datapoints, labelled with their periods' starts.
    pub fn datapoints(e: &AlarmEval) -> Text {
        Text::Datapoints(
            e.values
                .iter()
                .copied()
                .zip(e.starts.iter().copied())
                .collect(),
        )
    }
}

impl Default for Text {
    fn default() -> Self {
        Text::Static("")
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Text::Owned(s) => f.write_str(s),
            Text::Static(s) => f.write_str(s),
            Text::Shared(s) => f.write_str(s),
            Text::Clock(t) => f.write_str(&clock(*t)),
            Text::Datapoints(points) => f.write_str(&labelled(points)),
            Text::Breaching {
                breaching,
                periods,
                label,
                needed,
                to_scale_in,
            } => {
                write!(
                    f,
                    "no action: {breaching} of {periods} datapoints {label}, {needed} needed"
                )?;
                if *to_scale_in {
                    f.write_str(" to scale in")?;
                }
                Ok(())
            }
        }
    }
}

impl Serialize for Text {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.as_str())
    }
}

impl From<String> for Text {
    fn from(s: String) -> Self {
        Text::Owned(s)
    }
}

impl From<&'static str> for Text {
    fn from(s: &'static str) -> Self {
        Text::Static(s)
    }
}

impl PartialEq for Text {
    fn eq(&self, other: &Text) -> bool {
        self.as_str() == other.as_str()
    }
}

impl PartialEq<&str> for Text {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<str> for Text {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

/// The reason of a log row where no datapoint breached any of the
/// policy's alarms: `--decisions changes` leaves such rows out.
pub const QUIET: &str = "no action (quiet)";

impl Decision {
    /// Whether nothing breached at this evaluation (see [`QUIET`]).
    pub fn is_quiet(&self) -> bool {
        // Some datapoint breached where a breaching count is the reason.
        !matches!(self.reason, Text::Breaching { .. }) && self.reason.starts_with(QUIET)
    }
}

/// The datapoints an alarm looked at, each labelled with the start of the
/// period it measures: `09:01=62.10;09:02=-` (`-` = missing; seconds
/// shown for high-resolution periods).
fn labelled(points: &[(Option<f64>, SimTime)]) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(points.len() * 12);
    for (k, (v, t)) in points.iter().enumerate() {
        if k > 0 {
            out.push(';');
        }
        let s = t / SECOND;
        let _ = write!(out, "{:02}:{:02}", (s / 3_600) % 24, (s / 60) % 60);
        if !s.is_multiple_of(60) {
            let _ = write!(out, ":{:02}", s % 60);
        }
        out.push('=');
        match v {
            Some(v) => push_fixed2(&mut out, *v),
            None => out.push('-'),
        }
    }
    out
}

/// Appends `v` as `format!("{v:.2}")` does, by integer arithmetic where
/// the hundredths are not within rounding of a tie (the float formatter
/// then decides).
fn push_fixed2(out: &mut String, v: f64) {
    use std::fmt::Write;
    let c = v * 100.0;
    let tie = ((c - c.floor()) - 0.5).abs() < 1e-6;
    let r = c.round();
    if v.is_finite() && c.abs() < 1e15 && !tie && (r != 0.0 || v.is_sign_positive()) {
        let a = r.abs() as u64;
        if r < 0.0 {
            out.push('-');
        }
        let _ = write!(out, "{}.{:02}", a / 100, a % 100);
    } else {
        let _ = write!(out, "{v:.2}");
    }
}

/// Formats an instant as `d<day> HH:MM:SS`.
pub fn clock(t: SimTime) -> String {
    let s = t / SECOND;
    format!(
        "d{} {:02}:{:02}:{:02}",
        s / 86_400,
        (s / 3_600) % 24,
        (s / 60) % 60,
        s % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_two_decimals_are_the_formatters() {
        let cases = [
            0.0,
            -0.0,
            0.004,
            0.005,
            0.015,
            0.125,
            0.375,
            -0.001,
            -0.004,
            -0.005,
            -1.235,
            1.0,
            62.1,
            62.104999,
            99.995,
            100.0,
            1e9 + 0.555,
            70.0 / 3.0,
            -70.0 / 3.0,
            1e300,
            f64::NAN,
            f64::INFINITY,
            2.675,
        ];
        for v in cases {
            let mut s = String::new();
            push_fixed2(&mut s, v);
            assert_eq!(s, format!("{v:.2}"), "{v}");
        }
        for k in 0..100_000u32 {
            let v = f64::from(k) * 0.000_73 - 20.0;
            let mut s = String::new();
            push_fixed2(&mut s, v);
            assert_eq!(s, format!("{v:.2}"), "{v}");
        }
    }
}
