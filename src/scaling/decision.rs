//! The decision log of Service Auto Scaling: one row of `decisions.csv`
//! per evaluation per policy, and the text it is written in (datapoints
//! labelled with their period, instants as `d<day> HH:MM:SS`).

use super::alarm::AlarmEval;
use crate::time::{SECOND, SimTime};
use serde::Serialize;

/// One row of `decisions.csv`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Decision {
    /// Simulated seconds since the start.
    pub time_s: f64,
    /// Day and time of day (`d0 09:03:00`).
    pub clock: String,
    /// Policy name.
    pub policy: String,
    /// What the alarm compares.
    pub alarm: String,
    /// The datapoints it looked at, oldest first (`-` = missing).
    pub datapoints: String,
    /// Alarm state.
    pub alarm_state: String,
    /// Running tasks.
    pub running: u32,
    /// Desired count before.
    pub old_desired: u32,
    /// What the policy asked for (empty if nothing).
    pub proposed: Option<u32>,
    /// Desired count after this evaluation.
    pub new_desired: u32,
    /// `scale_out`, `scale_in`, `limits`, or `none`.
    pub action: String,
    /// Why.
    pub reason: String,
}

/// The reason of a log row where no datapoint breached any of the
/// policy's alarms: `--decisions changes` leaves such rows out.
pub const QUIET: &str = "no action (quiet)";

impl Decision {
    /// Whether nothing breached at this evaluation (see [`QUIET`]).
    pub fn is_quiet(&self) -> bool {
        self.reason.starts_with(QUIET)
    }
}

/// The datapoints an alarm looked at, each labelled with the start of the
/// period it measures: `09:01=62.10;09:02=-` (`-` = missing; seconds
/// shown for high-resolution periods).
pub(super) fn labelled(e: &AlarmEval) -> String {
    use std::fmt::Write;
    // Written in place: this runs at every evaluation of every policy.
    let mut out = String::with_capacity(e.values.len() * 12);
    for (k, (v, t)) in e.values.iter().zip(&e.starts).enumerate() {
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
