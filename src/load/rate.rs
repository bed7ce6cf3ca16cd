//! The offered rate as a function of time (`RateFn`: constant, linear
//! pieces, trace buckets, diurnal): its value, its integral over any span
//! or over consecutive steps, its bounds over a span of steps, its peak,
//! and the segments with a known bound that arrivals are drawn over.

use crate::time::{DAY, HOUR, MINUTE, SECOND, SimTime};

/// A span of steps as [`RateFn::span`] gives it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Span {
    /// Expected requests in the first step.
    pub first: f64,
    /// Expected requests in the span.
    pub total: f64,
    /// The least rate over the span (requests per second).
    pub low: f64,
    /// The greatest rate over the span (requests per second).
    pub high: f64,
}

/// One linear piece of a rate function, `[start, end)`, from `r0` to `r1`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Piece {
    /// Start of the piece (µs).
    pub start: SimTime,
    /// End of the piece (µs, exclusive; `SimTime::MAX` for the last one).
    pub end: SimTime,
    /// Rate at `start` (requests per second).
    pub r0: f64,
    /// Rate approached at `end` (requests per second).
    pub r1: f64,
}

impl Piece {
    fn rate(&self, t: f64) -> f64 {
        if self.r0 == self.r1 || self.end == SimTime::MAX {
            return self.r0;
        }
        let f = (t - self.start as f64) / (self.end - self.start) as f64;
        self.r0 + (self.r1 - self.r0) * f.clamp(0.0, 1.0)
    }
}

/// The offered request rate as a function of simulated time.
#[derive(Debug, Clone, PartialEq)]
pub enum RateFn {
    /// A constant rate (requests per second).
    Constant(f64),
    /// Contiguous linear pieces starting at 0; the last one extends forever.
    Linear(Vec<Piece>),
    /// A piecewise-constant rate: `rps[i]` on `[i·width, (i+1)·width)`.
    Buckets {
        /// Bucket width (µs).
        width: SimTime,
        /// Rate in each bucket (requests per second).
        rps: Vec<f64>,
        /// Whether the buckets loop after the last one (else the rate is 0).
        repeat: bool,
    },
    /// The daily cycle of [`LoadSpec::Diurnal`].
    Diurnal {
        /// Weekday mean (requests per second).
        mean: f64,
        /// Relative amplitude `a` in `[0, 1)`.
        amplitude: f64,
        /// Hour of the daily peak.
        peak_hour: f64,
        /// Multiplier on days 5 and 6 of each week.
        weekend_factor: f64,
    },
}

/// Length of the thinning segments used for smooth rate functions.
pub(super) const SMOOTH_SEGMENT: SimTime = MINUTE;

/// Sine-cosine pairs a diurnal rate's repeated spans and steps share:
/// those of the last instant asked for and of the last step length (the
/// next span starts where the last ended). One memo serves one rate.
#[derive(Debug, Default, Clone)]
pub struct PhaseMemo {
    at: Option<(SimTime, (f64, f64))>,
    step: Option<(SimTime, (f64, f64))>,
}

impl PhaseMemo {
    /// The sine and cosine of `phase(t)`, kept for the next call.
    fn at(&mut self, t: SimTime, phase: impl Fn(SimTime) -> f64) -> (f64, f64) {
        match self.at {
            Some((u, sc)) if u == t => sc,
            _ => {
                let sc = phase(t).sin_cos();
                self.at = Some((t, sc));
                sc
            }
        }
    }

    /// The sine and cosine of `angle(d)` for a step of length `d`.
    fn step(&mut self, d: SimTime, angle: impl Fn(SimTime) -> f64) -> (f64, f64) {
        match self.step {
            Some((u, sc)) if u == d => sc,
            _ => {
                let sc = angle(d).sin_cos();
                self.step = Some((d, sc));
                sc
            }
        }
    }
}

impl RateFn {
    /// The rate (requests per second) at instant `t` (µs, fractional allowed).
    pub fn rate(&self, t: f64) -> f64 {
        match self {
            RateFn::Constant(r) => *r,
            RateFn::Linear(pieces) => {
                let i = piece_index(pieces, t as SimTime);
                pieces[i].rate(t)
            }
            RateFn::Buckets { width, rps, repeat } => {
                bucket_rate(*width, rps, *repeat, t as SimTime).unwrap_or(0.0)
            }
            RateFn::Diurnal {
                mean,
                amplitude,
                peak_hour,
                weekend_factor,
            } => {
                let day_factor = weekday_factor(t as SimTime, *weekend_factor);
                let hours = t / HOUR as f64;
                let phase = 2.0 * std::f64::consts::PI * (hours - peak_hour) / 24.0;
                mean * day_factor * (1.0 + amplitude * phase.cos())
            }
        }
    }

    /// The segment containing `t`: its end (exclusive) and an upper bound of
    /// the rate on it, and whether the rate is constant there (no thinning).
    pub(super) fn segment(&self, t: SimTime) -> (SimTime, f64, bool) {
        match self {
            RateFn::Constant(r) => (SimTime::MAX, *r, true),
            RateFn::Linear(pieces) => {
                let p = &pieces[piece_index(pieces, t)];
                (p.end, p.r0.max(p.r1), p.r0 == p.r1 || p.end == SimTime::MAX)
            }
            RateFn::Buckets { width, rps, repeat } => match bucket_rate(*width, rps, *repeat, t) {
                Some(r) => ((t / width + 1).saturating_mul(*width), r, true),
                None => (SimTime::MAX, 0.0, true),
            },
            RateFn::Diurnal {
                mean,
                amplitude,
                peak_hour,
                weekend_factor,
            } => {
                let start = t - t % SMOOTH_SEGMENT;
                let end = start + SMOOTH_SEGMENT;
                // Segments never straddle a day (a day is a whole number of
                // them), so the weekday factor is the start's. The cosine's
                // maximum on [start, end] is at an end point unless a daily
                // peak instant lies inside.
                let factor = mean * weekday_factor(start, *weekend_factor);
                let cos_at = |x: SimTime| {
                    let hours = x as f64 / HOUR as f64;
                    (2.0 * std::f64::consts::PI * (hours - peak_hour) / 24.0).cos()
                };
                let mut top = cos_at(start).max(cos_at(end));
                let peak_offset = (peak_hour.rem_euclid(24.0) * HOUR as f64) as SimTime;
                let day_start = start - start % DAY;
                if [day_start, day_start + DAY]
                    .iter()
                    .any(|d| (start..end).contains(&(d + peak_offset)))
                {
                    top = 1.0;
                }
                let bound = factor * (1.0 + amplitude * top);
                (end, bound * (1.0 + 1e-12), *amplitude == 0.0)
            }
        }
    }

    /// The integrals over consecutive steps `[t0 + k·step, t0 + (k+1)·step)`
    /// (the last cut at `end`), `out.len()` of them: what
    /// [`RateFn::integral`] gives step by step, faster. A diurnal rate
    /// within one day turns its sine by a rotation per step instead of
    /// two sines (the fluid plane's steps).
    pub fn step_integrals(&self, t0: SimTime, step: SimTime, end: SimTime, out: &mut [f64]) {
        self.step_integrals_memo(t0, step, end, out, &mut PhaseMemo::default());
    }

    /// [`RateFn::step_integrals`] for a caller that asks again and again
    /// (the fluid plane): a diurnal rate's sines and cosines it already
    /// worked out come from `memo` (the same values).
    pub fn step_integrals_memo(
        &self,
        t0: SimTime,
        step: SimTime,
        end: SimTime,
        out: &mut [f64],
        memo: &mut PhaseMemo,
    ) {
        let k = out.len() as u64;
        let last = t0.saturating_add(step.saturating_mul(k)).min(end);
        match self {
            RateFn::Diurnal {
                mean,
                amplitude,
                peak_hour,
                weekend_factor,
            } if k > 1 && t0 / DAY == last.saturating_sub(1) / DAY => {
                let omega = 2.0 * std::f64::consts::PI / DAY as f64;
                let tp = peak_hour * HOUR as f64;
                let scale = mean * weekday_factor(t0, *weekend_factor) / SECOND as f64;
                let (mut s, mut c) = memo.at(t0, |t| omega * (t as f64 - tp));
                let (sh, ch) = memo.step(step, |d| omega * d as f64);
                let mut t = t0;
                for o in out.iter_mut() {
                    let b = t.saturating_add(step).min(end);
                    if b <= t {
                        *o = 0.0;
                        continue;
                    }
                    if b - t != step {
                        // The last, cut short.
                        *o = self.integral(t, b);
                        t = b;
                        continue;
                    }
                    let (s1, c1) = (s * ch + c * sh, c * ch - s * sh);
                    *o = scale * (step as f64 + amplitude * (s1 - s) / omega);
                    (s, c) = (s1, c1);
                    t = b;
                }
            }
            _ => {
                let mut t = t0;
                for o in out.iter_mut() {
                    let b = t.saturating_add(step).min(end);
                    *o = self.integral(t, b);
                    t = b;
                }
            }
        }
    }

    /// What the fluid plane asks of a span of steps `[t0, t1)` starting
    /// with `[t0, first_end)`: the integrals over the first step and the
    /// span, and the least and greatest rate over the span, where they are
    /// cheap to know for sure: a constant rate, one linear piece, one
    /// bucket, a diurnal cycle within one day (three sine-cosine pairs for
    /// all four). `None` elsewhere.
    pub fn span(&self, t0: SimTime, first_end: SimTime, t1: SimTime) -> Option<Span> {
        self.span_memo(t0, first_end, t1, &mut PhaseMemo::default())
    }

    /// [`RateFn::span`] with the sines and cosines of `memo` (see
    /// [`RateFn::step_integrals_memo`]); it keeps those at `t1`.
    pub fn span_memo(
        &self,
        t0: SimTime,
        first_end: SimTime,
        t1: SimTime,
        memo: &mut PhaseMemo,
    ) -> Option<Span> {
        if let RateFn::Diurnal {
            mean,
            amplitude,
            peak_hour,
            weekend_factor,
        } = self
        {
            let day_end = (t0 / DAY + 1).saturating_mul(DAY);
            if !(t0 < first_end && first_end <= t1 && t1 <= day_end) {
                return None;
            }
            let omega = 2.0 * std::f64::consts::PI / DAY as f64;
            let tp = peak_hour * HOUR as f64;
            let scale = mean * weekday_factor(t0, *weekend_factor);
            let phase = |t: SimTime| omega * (t as f64 - tp);
            let (s0, c0) = memo.at(t0, phase);
            let (s1, _) = phase(first_end).sin_cos();
            let (s2, c2) = memo.at(t1, phase);
            let integral = |a: SimTime, b: SimTime, sa: f64, sb: f64| {
                scale * ((b - a) as f64 + amplitude * (sb - sa) / omega) / SECOND as f64
            };
            let (p0, p1) = (omega * (t0 as f64 - tp), omega * (t1 as f64 - tp));
            let (lo, hi) = cos_range(p0, p1, c0, c2);
            let at = |c: f64| scale * (1.0 + amplitude * c);
            return Some(Span {
                first: integral(t0, first_end, s0, s1),
                total: integral(t0, t1, s0, s2),
                low: at(lo).min(at(hi)),
                high: at(lo).max(at(hi)),
            });
        }
        // The same bounds hold on [t0, t1) as on [t0, t1 − 1].
        let (low, high) = self.bounds(t0, t1.checked_sub(1)?)?;
        Some(Span {
            first: self.integral(t0, first_end),
            total: self.integral(t0, t1),
            low,
            high,
        })
    }

    /// The least and the greatest rate (requests per second) over
    /// `[t0, t1]` for a constant rate, one linear piece or one bucket
    /// (a diurnal cycle's are [`RateFn::span`]'s own). `None` elsewhere.
    fn bounds(&self, t0: SimTime, t1: SimTime) -> Option<(f64, f64)> {
        if t1 < t0 {
            return None;
        }
        match self {
            RateFn::Constant(r) => Some((*r, *r)),
            RateFn::Linear(pieces) => {
                let i = piece_index(pieces, t0);
                (i == piece_index(pieces, t1)).then(|| {
                    let (a, b) = (pieces[i].rate(t0 as f64), pieces[i].rate(t1 as f64));
                    (a.min(b), a.max(b))
                })
            }
            RateFn::Buckets { width, rps, repeat } => {
                if t0 / width != t1 / width {
                    return None;
                }
                let r = bucket_rate(*width, rps, *repeat, t0).unwrap_or(0.0);
                Some((r, r))
            }
            RateFn::Diurnal { .. } => None,
        }
    }

    /// Expected number of requests in `[t0, t1)` (the integral of the rate).
    pub fn integral(&self, t0: SimTime, t1: SimTime) -> f64 {
        if t1 <= t0 {
            return 0.0;
        }
        match self {
            RateFn::Constant(r) => r * secs(t1 - t0),
            RateFn::Linear(pieces) => pieces
                .iter()
                .filter(|p| p.end > t0 && p.start < t1)
                .map(|p| {
                    let a = p.start.max(t0);
                    let b = p.end.min(t1);
                    0.5 * (p.rate(a as f64) + p.rate(b as f64)) * secs(b - a)
                })
                .sum(),
            RateFn::Buckets { width, rps, repeat } => {
                let n = rps.len() as u64;
                // Past the trace a non-repeating one is 0: stop there.
                let t1 = if *repeat {
                    t1
                } else {
                    t1.min(n.saturating_mul(*width))
                };
                if t1 <= t0 {
                    return 0.0;
                }
                let (first, last) = (t0 / width, (t1 - 1) / width);
                if *repeat && n > 0 && last - first > 2 * n {
                    // Many periods: the partial first and last buckets, then
                    // whole periods by their sum and the rest bucket by bucket
                    // (at most one period), so fine buckets over a long run
                    // cost one pass over the trace, not one step per bucket.
                    let head_end = (first + 1) * width;
                    let tail_start = last * width;
                    let head = self.rate(t0 as f64) * secs(head_end - t0);
                    let tail = self.rate(tail_start as f64) * secs(t1 - tail_start);
                    let whole = last - first - 1;
                    let period: f64 = rps.iter().sum();
                    let start = ((first + 1) % n) as usize;
                    let rest: f64 = (0..(whole % n) as usize)
                        .map(|k| rps[(start + k) % n as usize])
                        .sum();
                    let per_bucket = secs(*width);
                    return head + tail + ((whole / n) as f64 * period + rest) * per_bucket;
                }
                let mut total = 0.0;
                let mut t = t0;
                while t < t1 {
                    let end = ((t / width + 1).saturating_mul(*width)).min(t1);
                    total += self.rate(t as f64) * secs(end - t);
                    t = end;
                }
                total
            }
            RateFn::Diurnal {
                mean,
                amplitude,
                peak_hour,
                weekend_factor,
            } => {
                // Integrate day by day (the weekend factor is constant within a day).
                let omega = 2.0 * std::f64::consts::PI / DAY as f64;
                let tp = peak_hour * HOUR as f64;
                let mut total = 0.0;
                let mut t = t0;
                while t < t1 {
                    let end = (t - t % DAY + DAY).min(t1);
                    let f = weekday_factor(t, *weekend_factor);
                    let (a, b) = (t as f64, end as f64);
                    let sin_part = ((omega * (b - tp)).sin() - (omega * (a - tp)).sin()) / omega;
                    total += mean * f * ((b - a) + amplitude * sin_part) / SECOND as f64;
                    t = end;
                }
                total
            }
        }
    }

    /// The largest rate reached in `[0, horizon)`, sampled at segment
    /// boundaries and segment bounds (exact for every kind but `Diurnal`,
    /// where it is the analytic daily peak).
    pub fn peak(&self, horizon: SimTime) -> f64 {
        match self {
            RateFn::Constant(r) => *r,
            RateFn::Linear(p) => p
                .iter()
                .filter(|p| p.start < horizon)
                .map(|p| {
                    p.r0.max(if p.end <= horizon {
                        p.r1
                    } else {
                        p.rate(horizon as f64)
                    })
                })
                .fold(0.0, f64::max),
            RateFn::Buckets { width, rps, .. } => {
                let n = (horizon.div_ceil(*width) as usize).min(rps.len());
                rps[..n].iter().copied().fold(0.0, f64::max)
            }
            RateFn::Diurnal {
                mean,
                amplitude,
                weekend_factor,
                ..
            } => {
                let max_factor = if horizon > 5 * DAY {
                    weekend_factor.max(1.0)
                } else {
                    1.0
                };
                mean * max_factor * (1.0 + amplitude)
            }
        }
    }
}

pub(super) fn secs(t: SimTime) -> f64 {
    t as f64 / SECOND as f64
}

/// The least and greatest cosine over phases `[p0, p1]`, whose ends'
/// cosines are `c0` and `c1`: at the ends unless a multiple of π lies
/// inside (even: 1, odd: −1).
fn cos_range(p0: f64, p1: f64, c0: f64, c1: f64) -> (f64, f64) {
    let (mut lo, mut hi) = (c0.min(c1), c0.max(c1));
    let pi = std::f64::consts::PI;
    let mut k = (p0 / pi).ceil();
    while k <= (p1 / pi).floor() {
        if k.rem_euclid(2.0) == 0.0 {
            hi = 1.0;
        } else {
            lo = -1.0;
        }
        k += 1.0;
    }
    (lo, hi)
}

pub(super) fn weekday_factor(t: SimTime, weekend_factor: f64) -> f64 {
    let day_of_week = (t / DAY) % 7;
    if day_of_week >= 5 {
        weekend_factor
    } else {
        1.0
    }
}

pub(super) fn piece_index(pieces: &[Piece], t: SimTime) -> usize {
    // Pieces are contiguous and sorted; find the last one starting at or before t.
    pieces.partition_point(|p| p.start <= t).saturating_sub(1)
}

pub(super) fn bucket_rate(width: SimTime, rps: &[f64], repeat: bool, t: SimTime) -> Option<f64> {
    let i = (t / width) as usize;
    if i < rps.len() {
        Some(rps[i])
    } else if repeat && !rps.is_empty() {
        Some(rps[i % rps.len()])
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_span_bounds_the_rate() {
        let diurnal = RateFn::Diurnal {
            mean: 100.0,
            amplitude: 0.6,
            peak_hour: 14.0,
            weekend_factor: 0.5,
        };
        let linear = RateFn::Linear(vec![
            Piece {
                start: 0,
                end: HOUR,
                r0: 10.0,
                r1: 50.0,
            },
            Piece {
                start: HOUR,
                end: SimTime::MAX,
                r0: 50.0,
                r1: 50.0,
            },
        ]);
        let buckets = RateFn::Buckets {
            width: SECOND,
            rps: vec![3.0, 7.0],
            repeat: true,
        };
        // Spans over a peak (14:00), a trough (02:00), a weekend day, a
        // piece's end and plain ones, each checked against the rate every
        // 1/4 s; those crossing a piece's or a bucket's end are not known.
        let mut known = 0;
        for f in [&diurnal, &linear, &buckets, &RateFn::Constant(4.0)] {
            for (t0, len) in [
                (14 * HOUR - 30 * SECOND, MINUTE),
                (2 * HOUR - 10 * SECOND, 30 * SECOND),
                (5 * DAY + 9 * HOUR, 2 * MINUTE),
                (HOUR - 30 * SECOND, MINUTE),
                (0, SECOND / 2),
            ] {
                let Some(span) = f.span(t0, t0 + len.min(SECOND), t0 + len) else {
                    continue;
                };
                known += 1;
                assert!(span.low <= span.high);
                let mut t = t0;
                while t < t0 + len {
                    let r = f.rate(t as f64);
                    assert!(
                        r >= span.low - 1e-9 && r <= span.high + 1e-9,
                        "{f:?} at {t}: {r} not in {span:?}"
                    );
                    t += SECOND / 4;
                }
            }
        }
        // Diurnal 5, linear 4, buckets 1, constant 5.
        assert_eq!(known, 15);
        // Tight at a peak and a trough.
        let around = |t: SimTime| diurnal.span(t - MINUTE, t - MINUTE + SECOND, t + MINUTE);
        let high = around(14 * HOUR).expect("within a day").high;
        assert!((high - 160.0).abs() < 1e-9, "{high}");
        let low = around(2 * HOUR).expect("within a day").low;
        assert!((low - 40.0).abs() < 1e-9, "{low}");
        // Across a day, a piece's end or a bucket's: not known.
        assert!(diurnal.span(DAY - SECOND, DAY, DAY + SECOND).is_none());
        assert!(linear.span(HOUR - SECOND, HOUR, HOUR + SECOND).is_none());
        assert!(buckets.span(0, SECOND, 2 * SECOND).is_none());
    }

    #[test]
    fn a_memo_gives_the_same_values() {
        let diurnal = RateFn::Diurnal {
            mean: 100.0,
            amplitude: 0.6,
            peak_hour: 14.0,
            weekend_factor: 0.5,
        };
        // Spans that follow each other, steps between them, as the fluid
        // plane asks: bit for bit what fresh calls give.
        let mut memo = PhaseMemo::default();
        let mut t = 13 * HOUR;
        for k in [60, 3, 17, 60, 1, 60] {
            let t1 = t + k * SECOND;
            assert_eq!(
                diurnal.span_memo(t, t + SECOND, t1, &mut memo),
                diurnal.span(t, t + SECOND, t1)
            );
            let (mut a, mut b) = (vec![0.0; k as usize], vec![0.0; k as usize]);
            diurnal.step_integrals_memo(t, SECOND, DAY, &mut a, &mut memo);
            diurnal.step_integrals(t, SECOND, DAY, &mut b);
            assert_eq!(a, b);
            t = t1;
        }
    }

    #[test]
    fn a_span_is_its_integrals() {
        let diurnal = RateFn::Diurnal {
            mean: 100.0,
            amplitude: 0.6,
            peak_hour: 14.0,
            weekend_factor: 0.5,
        };
        for (t0, k) in [
            (14 * HOUR - 30 * SECOND, 60),
            (2 * HOUR - 10 * SECOND, 30),
            (5 * DAY + 9 * HOUR, 57),
            (DAY - 3 * SECOND, 3),
        ] {
            let (first_end, t1) = (t0 + SECOND, t0 + k * SECOND);
            let span = diurnal.span(t0, first_end, t1).expect("within a day");
            let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * b.abs().max(1.0);
            assert!(
                close(span.first, diurnal.integral(t0, first_end)),
                "{span:?}"
            );
            assert!(close(span.total, diurnal.integral(t0, t1)), "{span:?}");
        }
        let c = RateFn::Constant(4.0);
        assert_eq!(
            c.span(0, SECOND, 3 * SECOND),
            Some(Span {
                first: 4.0,
                total: 12.0,
                low: 4.0,
                high: 4.0
            })
        );
    }
}
