//! Offered load: the request rate over time and the arrival process that follows it.
//!
//! A scenario's `[load]` section ([`LoadSpec`]) is compiled into a [`RateFn`],
//! a pure function of simulated time (requests per second). [`Arrivals`] turns
//! a rate function into request instants: a non-homogeneous Poisson process,
//! drawn exactly by thinning over short segments on which the rate has a known
//! upper bound. On segments where the rate is constant no thinning draw is
//! spent, so a per-second trace or a constant rate costs one exponential draw
//! per request.
//!
//! The rate function is shared by every data plane: the request-level plane
//! draws instants from it, reports use [`RateFn::integral`] for the offered
//! load per minute.

mod cloudwatch;
mod rate;
pub mod trace;

pub use rate::{PhaseMemo, Piece, RateFn, Span};

use crate::error::ScenarioError;
use crate::rng::Stream;
use crate::time::{Duration, SECOND, SimTime};
use rand::RngExt;
use rand_distr::{Distribution, Exp1};
use serde::{Deserialize, Serialize};
use std::path::Path;

pub use trace::{ColumnRef, MissingPolicy, TraceFormat, TraceUnit};

fn default_peak_hour() -> f64 {
    14.0
}

fn default_one() -> f64 {
    1.0
}

/// The `[load]` section of a scenario: the offered request rate over time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum LoadSpec {
    /// A constant rate.
    Constant {
        /// Requests per second.
        rps: f64,
    },
    /// A daily cycle: `mean_rps × (1 + a·cos(2π(h − peak_hour)/24))` with `a`
    /// chosen so that peak / trough = `peak_to_trough`. Simulated time 0 is
    /// Monday 00:00.
    Diurnal {
        /// Mean requests per second over a (week)day.
        mean_rps: f64,
        /// Ratio of the daily peak rate to the daily trough rate (≥ 1).
        peak_to_trough: f64,
        /// Hour of day (0–24, fractional allowed) of the peak. Default 14.
        #[serde(default = "default_peak_hour")]
        peak_hour: f64,
        /// Multiplier applied on Saturdays and Sundays (days 5 and 6 of each
        /// week). Default 1 (no weekly cycle).
        #[serde(default = "default_one")]
        weekend_factor: f64,
    },
    /// `rps` until `at`, then `to_rps` (until `until`, if given, then `rps` again).
    Step {
        /// Rate before the step.
        rps: f64,
        /// When the step happens.
        at: Duration,
        /// Rate after the step.
        to_rps: f64,
        /// When the rate returns to `rps` (optional).
        #[serde(default)]
        until: Option<Duration>,
    },
    /// A linear ramp from `from_rps` (held until `start`) to `to_rps` (reached
    /// at `end` and held after it).
    Ramp {
        /// Rate at and before `start`.
        from_rps: f64,
        /// Rate at and after `end`.
        to_rps: f64,
        /// When the ramp begins. Default 0.
        #[serde(default)]
        start: Duration,
        /// When the ramp ends.
        end: Duration,
    },
    /// A baseline `rps` with one spike to `spike_rps` at `at`, held for
    /// `length`, reached and left by linear ramps of `ramp` (default 0: a jump).
    Spike {
        /// Baseline rate.
        rps: f64,
        /// Rate at the top of the spike.
        spike_rps: f64,
        /// When the spike starts (start of the rise).
        at: Duration,
        /// How long the spike holds at `spike_rps`.
        length: Duration,
        /// Rise and fall time. Default 0.
        #[serde(default)]
        ramp: Duration,
    },
    /// A recorded trace of counts (or rates) per time bucket, replayed as a
    /// piecewise-constant rate. See [`trace::TraceSpec`] for each field.
    Trace {
        /// Path of the trace file, relative to the scenario file.
        file: String,
        /// `csv` (with a header unless `header = false`), `values`
        /// (whitespace-separated numbers), `parquet` or `cloudwatch` (the
        /// AWS CLI's metric JSON). Default: by the name (`.csv`,
        /// `.parquet`, `.json`), else `values`. `.gz` files are decompressed.
        #[serde(default)]
        format: Option<TraceFormat>,
        /// Column holding the counts: a header name or a 0-based position.
        /// Default: the only column, or the last one when there is a time column.
        #[serde(default)]
        column: Option<ColumnRef>,
        /// Column holding each row's time (ISO date-time such as
        /// `1995-07-01T00:00`, or seconds). When given, rows must be strictly
        /// increasing and gaps are missing buckets.
        #[serde(default)]
        time_column: Option<ColumnRef>,
        /// Whether a CSV file has a header row. Default true.
        #[serde(default)]
        header: Option<bool>,
        /// Width of one bucket (one row or value), e.g. `"1s"` or `"1m"`.
        bucket: Duration,
        /// `count` (requests per bucket, the default) or `rps`.
        #[serde(default)]
        unit: TraceUnit,
        /// Multiply every rate by this factor.
        #[serde(default)]
        scale: Option<f64>,
        /// Rescale so that the busiest bucket of the window has this rate.
        #[serde(default)]
        peak_rps: Option<f64>,
        /// Rescale so that the window's mean rate is this.
        #[serde(default)]
        mean_rps: Option<f64>,
        /// Start of the replayed window, as an offset from the first bucket.
        #[serde(default)]
        start: Option<Duration>,
        /// End of the replayed window, as an offset from the first bucket.
        #[serde(default)]
        end: Option<Duration>,
        /// What to do with empty cells and gaps: `error` (default), `zero`,
        /// `hold` (repeat the last value) or `interpolate` (linear).
        #[serde(default)]
        missing: MissingPolicy,
        /// Loop the window when the scenario is longer than it. Default false:
        /// a scenario longer than its trace is an error.
        #[serde(default)]
        repeat: bool,
    },
}

/// Checks that a rate given in the scenario is a finite number ≥ 0.
/// Highest rate capsim accepts (requests per second): beyond it simulated
/// time could no longer advance between arrivals at microsecond resolution.
pub const MAX_RPS: f64 = 1e8;

fn check_rate(key: &str, v: f64) -> Result<(), ScenarioError> {
    if v.is_finite() && (0.0..=MAX_RPS).contains(&v) {
        Ok(())
    } else {
        Err(ScenarioError::invalid(
            key,
            format!("expected a rate between 0 and {MAX_RPS:e} requests per second, got {v}"),
        ))
    }
}

impl LoadSpec {
    /// Why `cost_usd.monthly_projection` (the run's cost scaled to 730 h)
    /// may misstate a month of this load over a run of `duration`: a span
    /// shorter than the load's daily or weekly cycle, or a one-off shape.
    pub fn projection_caveat(&self, duration: SimTime) -> Option<String> {
        const DAY: SimTime = 86_400_000_000;
        let span = duration as f64 / 3_600e6;
        let scaled = format!(
            "the monthly projection scales this {span:.1} h run to 730 h as if every hour of the month looked like these"
        );
        match self {
            LoadSpec::Constant { .. } => None,
            LoadSpec::Diurnal { weekend_factor, .. } => {
                if !duration.is_multiple_of(DAY) {
                    Some(format!(
                        "monthly projection: the run does not cover whole days of the daily cycle; {scaled} (run whole days for a fair projection)"
                    ))
                } else if *weekend_factor != 1.0 && !duration.is_multiple_of(7 * DAY) {
                    Some(format!(
                        "monthly projection: weekend_factor = {weekend_factor} but the run does not cover whole weeks; {scaled} (run whole weeks for a fair projection)"
                    ))
                } else {
                    None
                }
            }
            LoadSpec::Step { .. } | LoadSpec::Ramp { .. } | LoadSpec::Spike { .. } => {
                Some(format!(
                    "monthly projection: a step, ramp or spike is a one-off shape, not a month of traffic; {scaled}"
                ))
            }
            LoadSpec::Trace { .. } if duration < 7 * DAY => Some(format!(
                "monthly projection: the trace window is shorter than a week, so weekly cycles are not in it; {scaled}"
            )),
            LoadSpec::Trace { .. } => None,
        }
    }

    /// Compiles the spec into a rate function for a run of length `duration`.
    /// Trace files are read relative to `base_dir`.
    pub fn compile(&self, base_dir: &Path, duration: SimTime) -> Result<RateFn, ScenarioError> {
        let rate = self.compile_shape(base_dir, duration)?;
        let peak = rate.peak(duration);
        if peak.is_nan() || peak > MAX_RPS {
            return Err(ScenarioError::invalid(
                "load",
                format!(
                    "the load peaks at {peak:e} requests per second, above the {MAX_RPS:e} capsim simulates"
                ),
            ));
        }
        Ok(rate)
    }

    fn compile_shape(&self, base_dir: &Path, duration: SimTime) -> Result<RateFn, ScenarioError> {
        match self {
            LoadSpec::Constant { rps } => {
                check_rate("load.rps", *rps)?;
                Ok(RateFn::Constant(*rps))
            }
            LoadSpec::Diurnal {
                mean_rps,
                peak_to_trough,
                peak_hour,
                weekend_factor,
            } => {
                check_rate("load.mean_rps", *mean_rps)?;
                if !(peak_to_trough.is_finite() && *peak_to_trough >= 1.0) {
                    return Err(ScenarioError::invalid(
                        "load.peak_to_trough",
                        format!(
                            "expected a ratio ≥ 1 (peak rate / trough rate), got {peak_to_trough}"
                        ),
                    ));
                }
                if !(peak_hour.is_finite() && (0.0..24.0).contains(peak_hour)) {
                    return Err(ScenarioError::invalid(
                        "load.peak_hour",
                        format!("expected an hour of day in [0, 24), got {peak_hour}"),
                    ));
                }
                check_rate("load.weekend_factor", *weekend_factor)?;
                let amplitude = (peak_to_trough - 1.0) / (peak_to_trough + 1.0);
                Ok(RateFn::Diurnal {
                    mean: *mean_rps,
                    amplitude,
                    peak_hour: *peak_hour,
                    weekend_factor: *weekend_factor,
                })
            }
            LoadSpec::Step {
                rps,
                at,
                to_rps,
                until,
            } => {
                check_rate("load.rps", *rps)?;
                check_rate("load.to_rps", *to_rps)?;
                let mut pieces = vec![constant_piece(0, at.0, *rps)];
                match until {
                    Some(u) if u.0 <= at.0 => {
                        return Err(ScenarioError::invalid(
                            "load.until",
                            format!("must be later than load.at ({at}), got {u}"),
                        ));
                    }
                    Some(u) => {
                        pieces.push(constant_piece(at.0, u.0, *to_rps));
                        pieces.push(constant_piece(u.0, SimTime::MAX, *rps));
                    }
                    None => pieces.push(constant_piece(at.0, SimTime::MAX, *to_rps)),
                }
                Ok(RateFn::Linear(normalize(pieces)))
            }
            LoadSpec::Ramp {
                from_rps,
                to_rps,
                start,
                end,
            } => {
                check_rate("load.from_rps", *from_rps)?;
                check_rate("load.to_rps", *to_rps)?;
                if end.0 <= start.0 {
                    return Err(ScenarioError::invalid(
                        "load.end",
                        format!("must be later than load.start ({start}), got {end}"),
                    ));
                }
                Ok(RateFn::Linear(normalize(vec![
                    constant_piece(0, start.0, *from_rps),
                    Piece {
                        start: start.0,
                        end: end.0,
                        r0: *from_rps,
                        r1: *to_rps,
                    },
                    constant_piece(end.0, SimTime::MAX, *to_rps),
                ])))
            }
            LoadSpec::Spike {
                rps,
                spike_rps,
                at,
                length,
                ramp,
            } => {
                check_rate("load.rps", *rps)?;
                check_rate("load.spike_rps", *spike_rps)?;
                let too_long = || {
                    ScenarioError::invalid(
                        "load.at",
                        "at + ramp + length + ramp is too long to simulate",
                    )
                };
                let top = at.0.checked_add(ramp.0).ok_or_else(too_long)?;
                let fall = top.checked_add(length.0).ok_or_else(too_long)?;
                let back = fall.checked_add(ramp.0).ok_or_else(too_long)?;
                Ok(RateFn::Linear(normalize(vec![
                    constant_piece(0, at.0, *rps),
                    Piece {
                        start: at.0,
                        end: top,
                        r0: *rps,
                        r1: *spike_rps,
                    },
                    constant_piece(top, fall, *spike_rps),
                    Piece {
                        start: fall,
                        end: back,
                        r0: *spike_rps,
                        r1: *rps,
                    },
                    constant_piece(back, SimTime::MAX, *rps),
                ])))
            }
            LoadSpec::Trace { .. } => trace::compile(self, base_dir, duration),
        }
    }
}

fn constant_piece(start: SimTime, end: SimTime, r: f64) -> Piece {
    Piece {
        start,
        end,
        r0: r,
        r1: r,
    }
}

/// Drops empty pieces (zero length), keeping the list contiguous from 0.
fn normalize(pieces: Vec<Piece>) -> Vec<Piece> {
    let mut out: Vec<Piece> = pieces.into_iter().filter(|p| p.end > p.start).collect();
    if let Some(first) = out.first_mut() {
        first.start = 0;
    }
    out
}

/// The non-homogeneous Poisson arrival process of a rate function.
///
/// Internally it keeps the exact (fractional) candidate instant so that
/// rounding to whole microseconds never accumulates; each emitted instant is
/// the floor of the exact one.
pub struct Arrivals {
    rate: RateFn,
    rng: Stream,
    /// Exact time of the last candidate, µs.
    t: f64,
    end: SimTime,
}

impl Arrivals {
    /// Arrivals in `[0, end)` following `rate`, drawn from `rng`.
    pub fn new(rate: RateFn, rng: Stream, end: SimTime) -> Self {
        Arrivals {
            rate,
            rng,
            t: 0.0,
            end,
        }
    }

    /// The rate function arrivals follow.
    pub fn rate_fn(&self) -> &RateFn {
        &self.rate
    }

    /// The next arrival instant, or `None` when there is none before the end.
    #[inline]
    pub fn next_arrival(&mut self) -> Option<SimTime> {
        loop {
            if self.t >= self.end as f64 {
                return None;
            }
            let (seg_end, bound, constant) = self.rate.segment(self.t as SimTime);
            debug_assert!(seg_end as f64 > self.t);
            if bound <= 0.0 {
                self.t = seg_end as f64;
                continue;
            }
            let gap: f64 = Exp1.sample(&mut self.rng);
            let candidate = self.t + gap * SECOND as f64 / bound;
            if candidate >= seg_end as f64 {
                // Memorylessness: restart the draw at the segment boundary.
                self.t = seg_end as f64;
                continue;
            }
            self.t = candidate;
            if constant || self.rng.random::<f64>() * bound < self.rate.rate(candidate) {
                let at = candidate as SimTime;
                return if at < self.end { Some(at) } else { None };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::rate::secs;
    use super::*;
    use crate::rng::{Component, stream};
    use crate::time::{DAY, HOUR, MINUTE};

    fn count(rate: RateFn, end: SimTime, seed: u64) -> u64 {
        let mut a = Arrivals::new(rate, stream(seed, Component::Arrivals), end);
        let mut n = 0;
        let mut last = 0;
        while let Some(t) = a.next_arrival() {
            assert!(t >= last, "arrivals must be non-decreasing");
            assert!(t < end);
            last = t;
            n += 1;
        }
        n
    }

    #[test]
    fn step_integrals_are_the_integrals_step_by_step() {
        const S: SimTime = 1_000_000;
        let rates = [
            RateFn::Diurnal {
                mean: 150.0,
                amplitude: 0.6,
                peak_hour: 14.0,
                weekend_factor: 0.5,
            },
            RateFn::Constant(7.5),
            RateFn::Buckets {
                width: 7 * S,
                rps: vec![1.0, 5.0, 2.0],
                repeat: true,
            },
        ];
        // Within a day, across midnight into a weekend, and cut at the end.
        let starts = [
            (3_600 * S, S),
            (5 * DAY - 30 * S, S),
            (DAY - 90 * S, 250_000),
        ];
        for rate in &rates {
            for &(t0, step) in &starts {
                let end = t0 + 57 * step + step / 3;
                let mut out = [0.0; 60];
                rate.step_integrals(t0, step, end, &mut out);
                for (k, got) in out.iter().enumerate() {
                    let a = (t0 + k as SimTime * step).min(end);
                    let b = (a + step).min(end);
                    let want = rate.integral(a, b);
                    assert!(
                        (got - want).abs() <= 1e-9 * want.abs().max(1.0),
                        "{rate:?} from {t0} step {k}: {got} vs {want}"
                    );
                }
            }
        }
    }

    #[test]
    fn the_monthly_projection_is_flagged_when_the_span_misses_a_cycle() {
        const H: SimTime = 3_600_000_000;
        let diurnal = |weekend_factor| LoadSpec::Diurnal {
            mean_rps: 10.0,
            peak_to_trough: 3.0,
            peak_hour: 14.0,
            weekend_factor,
        };
        let cases: &[(LoadSpec, SimTime, bool)] = &[
            (LoadSpec::Constant { rps: 5.0 }, H, false),
            (diurnal(1.0), 6 * H, true),
            (diurnal(1.0), 24 * H, false),
            (diurnal(1.0), 48 * H, false),
            (diurnal(0.5), 24 * H, true),
            (diurnal(0.5), 7 * 24 * H, false),
            (
                LoadSpec::Step {
                    rps: 1.0,
                    at: Duration(H),
                    to_rps: 2.0,
                    until: None,
                },
                30 * 24 * H,
                true,
            ),
        ];
        for (spec, span, flagged) in cases {
            let c = spec.projection_caveat(*span);
            assert_eq!(c.is_some(), *flagged, "{spec:?} over {span} µs: {c:?}");
            if let Some(c) = c {
                assert!(c.starts_with("monthly projection:"), "{c}");
            }
        }
        assert!(
            diurnal(1.0)
                .projection_caveat(6 * H)
                .unwrap()
                .contains("6.0 h run to 730 h")
        );
    }

    /// The count of a Poisson process is within 5 standard deviations of its mean.
    fn assert_poisson(n: u64, mean: f64) {
        let sd = mean.sqrt();
        assert!(
            (n as f64 - mean).abs() < 5.0 * sd,
            "count {n} vs expected {mean:.0} (sd {sd:.0})"
        );
    }

    #[test]
    fn constant_rate_count_is_poisson() {
        let n = count(RateFn::Constant(200.0), 600 * SECOND, 1);
        assert_poisson(n, 120_000.0);
    }

    #[test]
    fn repeating_bucket_integral_over_many_periods_matches_bucket_sums() {
        let rps = vec![1.0, 5.0, 2.5, 0.0, 7.0];
        let width = 3 * SECOND;
        let f = RateFn::Buckets {
            width,
            rps: rps.clone(),
            repeat: true,
        };
        let brute = |t0: SimTime, t1: SimTime| {
            let mut total = 0.0;
            let mut t = t0;
            while t < t1 {
                let end = ((t / width + 1) * width).min(t1);
                total += rps[(t / width) as usize % rps.len()] * secs(end - t);
                t = end;
            }
            total
        };
        for (t0, t1) in [
            (0, 100 * width),
            (SECOND / 2, 37 * width + 17),
            (
                4 * width + 1,
                4 * width + 12 * rps.len() as SimTime * width - 1,
            ),
            (7, 8),
        ] {
            let (a, b) = (f.integral(t0, t1), brute(t0, t1));
            assert!(
                (a - b).abs() <= 1e-9 * b.max(1.0),
                "[{t0}, {t1}): {a} vs {b}"
            );
        }
        // A non-repeating trace is 0 past its end, and fast to integrate.
        let once = RateFn::Buckets {
            width,
            rps,
            repeat: false,
        };
        assert!((once.integral(0, 400 * DAY) - 15.5 * 3.0).abs() < 1e-9);
    }

    #[test]
    fn diurnal_count_matches_integral() {
        let spec = LoadSpec::Diurnal {
            mean_rps: 50.0,
            peak_to_trough: 4.0,
            peak_hour: 14.0,
            weekend_factor: 1.0,
        };
        let rate = spec.compile(Path::new("."), DAY).unwrap();
        let expected = rate.integral(0, DAY);
        assert!((expected - 50.0 * 86_400.0).abs() < 1e-6 * expected);
        let n = count(rate.clone(), DAY, 3);
        assert_poisson(n, expected);
        // The shape: the peak hour sees 4x the trough hour.
        let peak = rate.integral(14 * HOUR - 30 * MINUTE, 14 * HOUR + 30 * MINUTE);
        let trough = rate.integral(2 * HOUR - 30 * MINUTE, 2 * HOUR + 30 * MINUTE);
        assert!((peak / trough - 4.0).abs() < 0.05, "{peak} / {trough}");
    }

    #[test]
    fn ramp_and_spike_counts_match_integrals() {
        let ramp = LoadSpec::Ramp {
            from_rps: 10.0,
            to_rps: 110.0,
            start: Duration(60 * SECOND),
            end: Duration(660 * SECOND),
        }
        .compile(Path::new("."), 720 * SECOND)
        .unwrap();
        let expected = 60.0 * 10.0 + 600.0 * 60.0 + 60.0 * 110.0;
        assert!((ramp.integral(0, 720 * SECOND) - expected).abs() < 1e-6);
        assert_poisson(count(ramp, 720 * SECOND, 5), expected);

        let spike = LoadSpec::Spike {
            rps: 10.0,
            spike_rps: 100.0,
            at: Duration(100 * SECOND),
            length: Duration(50 * SECOND),
            ramp: Duration(10 * SECOND),
        }
        .compile(Path::new("."), 300 * SECOND)
        .unwrap();
        let expected = 300.0 * 10.0 + 2.0 * 0.5 * 90.0 * 10.0 + 90.0 * 50.0;
        assert!((spike.integral(0, 300 * SECOND) - expected).abs() < 1e-6);
        assert_poisson(count(spike.clone(), 300 * SECOND, 6), expected);
        assert_eq!(spike.peak(300 * SECOND), 100.0);
    }

    #[test]
    fn step_changes_rate_at_the_right_instant() {
        let r = LoadSpec::Step {
            rps: 10.0,
            at: Duration(60 * SECOND),
            to_rps: 30.0,
            until: Some(Duration(120 * SECOND)),
        }
        .compile(Path::new("."), 180 * SECOND)
        .unwrap();
        assert_eq!(r.rate((60 * SECOND - 1) as f64), 10.0);
        assert_eq!(r.rate((60 * SECOND) as f64), 30.0);
        assert_eq!(r.rate((120 * SECOND) as f64), 10.0);
        assert!((r.integral(0, 180 * SECOND) - 3000.0).abs() < 1e-9);
    }

    #[test]
    fn zero_and_negative_rates() {
        assert_eq!(count(RateFn::Constant(0.0), DAY, 1), 0);
        let err = LoadSpec::Constant { rps: -5.0 }
            .compile(Path::new("."), DAY)
            .unwrap_err()
            .to_string();
        assert!(err.contains("load.rps") && err.contains("-5"), "{err}");
    }

    #[test]
    fn buckets_repeat_or_stop() {
        let b = RateFn::Buckets {
            width: SECOND,
            rps: vec![5.0, 0.0, 10.0],
            repeat: false,
        };
        assert_eq!(b.rate((2 * SECOND) as f64), 10.0);
        assert_eq!(b.rate((3 * SECOND) as f64), 0.0);
        let r = RateFn::Buckets {
            width: SECOND,
            rps: vec![5.0, 0.0, 10.0],
            repeat: true,
        };
        assert_eq!(r.rate((5 * SECOND) as f64), 10.0);
        assert!((r.integral(0, 6 * SECOND) - 30.0).abs() < 1e-9);
    }
}
