//! Measurements of a run: request outcomes, latency histograms, the number in
//! the system over time, and one row per simulated minute.
//!
//! Data planes report request outcomes here; the control plane adds the
//! fleet's side of each minute (task time, reserved CPU, busy CPU). Latency
//! percentiles come from `hdrhistogram` (3 significant digits), the mean from
//! an exact sum. `cloudwatch` holds the per-minute datapoints autoscaling reads.

pub mod cloudwatch;
mod minute_hist;
pub mod profile;

use crate::rng::Stream;
use crate::time::{DAY, MINUTE, SimTime};
use hdrhistogram::Histogram;
use minute_hist::MinuteHist;
use profile::{LatencyProfile, mixture_level, mixture_share_le};
use rand::RngExt;
use rand_distr::{Beta, Binomial, Distribution};
use std::sync::Arc;

/// A latency profile registered with a [`Recorder`].
pub type ProfileId = u32;

/// Largest latency the histograms resolve (longer ones are clamped to it).
const HIST_MAX: u64 = 30 * DAY;

fn new_hist() -> Histogram<u64> {
    Histogram::new_with_bounds(1, HIST_MAX, 3).expect("valid histogram bounds")
}

/// What happened during one simulated minute.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MinuteRow {
    /// Requests that arrived.
    pub arrived: u64,
    /// Requests that completed.
    pub completed: u64,
    /// Requests that timed out.
    pub timed_out: u64,
    /// Requests rejected (no task, or a full queue).
    pub rejected: u64,
    /// Requests that failed because their task stopped under them.
    pub failed: u64,
    /// Median latency of the requests completed this minute (µs).
    pub latency_p50: Option<u64>,
    /// 99th percentile latency of the requests completed this minute (µs).
    pub latency_p99: Option<u64>,
    /// Completed requests slower than the SLO target.
    pub slow: u64,
    /// Slowest completed request (µs).
    pub latency_max: u64,
    /// CPU busy time (CPU units × µs).
    pub busy: u64,
    /// CPU reserved by running tasks (CPU units × µs).
    pub reserved: u64,
    /// Task running time (task × µs).
    pub task_time: u64,
    /// Task serving time (task × µs).
    pub serving_time: u64,
    /// Desired count at the end of the minute.
    pub desired: u32,
    /// Cost accrued in the minute (USD).
    pub cost: f64,
    /// EC2 instances alive at the end of the minute.
    pub instances: Option<u32>,
    /// Of them, Spot instances.
    pub spot_instances: Option<u32>,
}

/// The fleet's side of one minute, from the control plane.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct FleetMinute {
    /// CPU busy time (CPU units × µs).
    pub busy: u64,
    /// CPU reserved by running tasks (CPU units × µs).
    pub reserved: u64,
    /// Running task time (task × µs).
    pub task_time: u64,
    /// Serving task time (task × µs).
    pub serving_time: u64,
    /// Desired count at the end of the minute.
    pub desired: u32,
    /// Cost accrued (USD).
    pub cost: f64,
    /// EC2 instances alive at the end of the minute.
    pub instances: Option<u32>,
    /// Of them, Spot instances.
    pub spot_instances: Option<u32>,
}

impl MinuteRow {
    /// Requests that finished this minute with an error.
    pub fn errors(&self) -> u64 {
        self.timed_out + self.rejected + self.failed
    }

    /// Whether the minute's p99 — over every request that finished in it,
    /// errors (timeouts, rejections, failures) counting as infinitely slow —
    /// exceeds the SLO target. Exact: the p99 is above the target when more
    /// than `N − ceil(0.99 N)` of the `N` finished requests were slow or failed.
    pub fn slo_breach(&self) -> bool {
        let n = self.completed + self.errors();
        if n == 0 {
            return false;
        }
        let rank = (99 * n).div_ceil(100);
        self.slow + self.errors() > n - rank
    }
}

/// The run's measurements.
pub struct Recorder {
    /// Requests arrived.
    pub arrived: u64,
    /// Requests completed.
    pub completed: u64,
    /// Requests timed out.
    pub timed_out: u64,
    /// Requests rejected.
    pub rejected: u64,
    /// Requests failed by a stopping task.
    pub failed: u64,
    latency: Histogram<u64>,
    wait: Histogram<u64>,
    latency_sum: u128,
    wait_sum: u128,
    latency_max: u64,
    in_flight: u64,
    in_flight_area: u128,
    in_flight_since_take: u128,
    last_change: SimTime,
    minute_hist: MinuteHist,
    /// The minute's queue waits above zero (added to `wait` when it closes).
    minute_waits: MinuteHist,
    current: usize,
    /// End of the current minute (µs): the fast path of [`Recorder::row`].
    current_end: SimTime,
    rows: Vec<MinuteRow>,
    /// Completed requests that never waited (kept out of the wait
    /// histogram, which then holds only the positive waits).
    zero_waits: u64,
    /// SLO target (µs): completions above it are counted per minute.
    slo_us: f64,
    /// Latency profiles of the aggregate plane, with the requests recorded
    /// by each not yet added to the run's histograms.
    profiles: Vec<(Arc<LatencyProfile>, u64)>,
    /// Each profile's share of requests slower than the SLO's target.
    slo_above: Vec<f64>,
    /// Requests recorded by profile in the current minute.
    minute_profiles: Vec<(ProfileId, u64)>,
    /// Draws the order statistics a minute's requests would have shown
    /// (the aggregate plane; `None`: the profiles' own percentiles).
    minute_rng: Option<Stream>,
}

impl Default for Recorder {
    fn default() -> Self {
        Self::new()
    }
}

impl Recorder {
    /// An empty recorder counting completions slower than `slo_us` (µs).
    pub fn with_slo(slo_us: Option<f64>) -> Self {
        Recorder {
            slo_us: slo_us.unwrap_or(f64::INFINITY),
            ..Self::new()
        }
    }

    /// An empty recorder.
    pub fn new() -> Self {
        Recorder {
            arrived: 0,
            completed: 0,
            timed_out: 0,
            rejected: 0,
            failed: 0,
            latency: new_hist(),
            wait: new_hist(),
            latency_sum: 0,
            wait_sum: 0,
            latency_max: 0,
            in_flight: 0,
            in_flight_area: 0,
            in_flight_since_take: 0,
            last_change: 0,
            minute_hist: MinuteHist::new(HIST_MAX),
            minute_waits: MinuteHist::new(HIST_MAX),
            current: 0,
            current_end: MINUTE,
            rows: vec![MinuteRow::default()],
            zero_waits: 0,
            slo_us: f64::INFINITY,
            profiles: Vec::new(),
            slo_above: Vec::new(),
            minute_profiles: Vec::new(),
            minute_rng: None,
        }
    }

    /// The row of the minute containing `now`, closing earlier minutes.
    #[inline]
    fn row(&mut self, now: SimTime) -> &mut MinuteRow {
        if now >= self.current_end {
            self.roll_to((now / MINUTE) as usize);
        }
        &mut self.rows[self.current]
    }

    fn roll_to(&mut self, m: usize) {
        debug_assert!(m > self.current, "time went backwards");
        self.close_current();
        self.current = m;
        self.current_end = (m as SimTime + 1) * MINUTE;
        if self.rows.len() <= m {
            self.rows.resize(m + 1, MinuteRow::default());
        }
    }

    fn close_current(&mut self) {
        // The minute's single requests join the run's histograms, bucket
        // by bucket (its profiles join them at the end of the run).
        self.minute_hist.add_into(&mut self.latency);
        self.minute_waits.drain_into(&mut self.wait);
        let row = &mut self.rows[self.current];
        if !self.minute_profiles.is_empty() {
            let (parts, profiles, slo_above) =
                (&self.minute_profiles, &self.profiles, &self.slo_above);
            let get = |id: ProfileId| &*profiles[id as usize].0;
            let slow_share = |id: ProfileId| slo_above[id as usize];
            if self.minute_hist.is_empty()
                && let Some(rng) = self.minute_rng.as_mut()
            {
                // Only profiles, sampled: the minute's requests are draws
                // from their mixture, and its percentiles, maximum and slow
                // count those of so many draws.
                let m = sample_minute(parts, get, self.slo_us, slow_share, rng);
                row.slow += m.slow;
                row.latency_max = m.max;
                row.latency_p99 = Some(m.p99);
                row.latency_p50 = Some(m.p50);
                self.minute_profiles.clear();
                return;
            }
            // Profiles beside single requests (or not sampled): the
            // profiles join the histogram, their slow requests the count.
            let mut slow = 0.0;
            for &(id, n) in parts {
                slow += n as f64 * slow_share(id);
            }
            row.slow += slow.round() as u64;
            for &(id, n) in &self.minute_profiles {
                for (v, c) in self.profiles[id as usize].0.spread(n, false) {
                    self.minute_hist.record_n(v.clamp(1, HIST_MAX), c);
                }
            }
            self.minute_profiles.clear();
        }
        if row.completed > 0 {
            // Histogram buckets report their upper edge: never above the exact max.
            let q = self.minute_hist.values_at(&[0.50, 0.99]);
            row.latency_p50 = Some(q[0].min(row.latency_max));
            row.latency_p99 = Some(q[1].min(row.latency_max));
        }
        self.minute_hist.reset();
    }

    #[inline]
    fn change_in_flight(&mut self, now: SimTime, delta: i64) {
        let a = self.in_flight as u128 * (now - self.last_change) as u128;
        self.in_flight_area += a;
        self.in_flight_since_take += a;
        self.last_change = now;
        self.in_flight = self.in_flight.wrapping_add_signed(delta);
    }

    /// A request arrived.
    #[inline]
    pub fn arrival(&mut self, now: SimTime) {
        self.arrived += 1;
        self.row(now).arrived += 1;
        self.change_in_flight(now, 1);
    }

    /// A request was rejected on arrival.
    #[inline]
    pub fn rejected(&mut self, now: SimTime) {
        self.rejected += 1;
        self.row(now).rejected += 1;
        self.change_in_flight(now, -1);
    }

    /// A request that arrived at `arrival` and entered service at `started` completed.
    #[inline]
    pub fn completed(&mut self, now: SimTime, arrival: SimTime, started: SimTime) {
        let latency = now - arrival;
        let wait = started - arrival;
        self.completed += 1;
        let slow = latency as f64 > self.slo_us;
        let row = self.row(now);
        row.completed += 1;
        row.slow += slow as u64;
        row.latency_max = row.latency_max.max(latency);
        if wait == 0 {
            self.zero_waits += 1;
        } else {
            self.minute_waits.record_n(wait, 1);
        }
        self.minute_hist.record_n(latency.max(1), 1);
        self.latency_sum += latency as u128;
        self.wait_sum += wait as u128;
        self.latency_max = self.latency_max.max(latency);
        self.change_in_flight(now, -1);
    }

    /// A request timed out.
    #[inline]
    pub fn timed_out(&mut self, now: SimTime) {
        self.timed_out += 1;
        self.row(now).timed_out += 1;
        self.change_in_flight(now, -1);
    }

    /// A request failed because its task stopped.
    #[inline]
    pub fn failed(&mut self, now: SimTime) {
        self.failed += 1;
        self.row(now).failed += 1;
        self.change_in_flight(now, -1);
    }

    /// `n` requests arrived at `now` (the aggregate data plane).
    pub fn arrivals(&mut self, now: SimTime, n: u64) {
        self.arrived += n;
        self.row(now).arrived += n;
        self.change_in_flight(now, n as i64);
    }

    /// `n` requests rejected at `now`.
    pub fn rejected_n(&mut self, now: SimTime, n: u64) {
        self.rejected += n;
        self.row(now).rejected += n;
        self.change_in_flight(now, -(n as i64));
    }

    /// `n` requests timed out at `now`.
    pub fn timed_out_n(&mut self, now: SimTime, n: u64) {
        self.timed_out += n;
        self.row(now).timed_out += n;
        self.change_in_flight(now, -(n as i64));
    }

    /// `n` requests failed at `now` (their task stopped).
    pub fn failed_n(&mut self, now: SimTime, n: u64) {
        self.failed += n;
        self.row(now).failed += n;
        self.change_in_flight(now, -(n as i64));
    }

    /// `n` requests completed at `now`, each after `latency` µs of which
    /// `wait` queued (the aggregate data plane's share of a step).
    pub fn completed_n(&mut self, now: SimTime, latency: SimTime, wait: SimTime, n: u64) {
        self.completed_draws(now, &[(latency, wait, n)]);
    }

    /// [`Recorder::completed_n`] for several `(latency, wait, n)` at once
    /// (a saturated task's draws of one step).
    pub fn completed_draws(&mut self, now: SimTime, draws: &[(SimTime, SimTime, u64)]) {
        let total: u64 = draws.iter().map(|d| d.2).sum();
        if total == 0 {
            return;
        }
        let slo_us = self.slo_us;
        let row = self.row(now);
        row.completed += total;
        for &(latency, _, n) in draws {
            if latency as f64 > slo_us {
                row.slow += n;
            }
            if n > 0 {
                row.latency_max = row.latency_max.max(latency);
            }
        }
        let row_max = row.latency_max;
        for &(latency, wait, n) in draws.iter().filter(|d| d.2 > 0) {
            if wait == 0 {
                self.zero_waits += n;
            } else {
                self.minute_waits.record_n(wait.min(HIST_MAX), n);
            }
            self.minute_hist.record_n(latency.clamp(1, HIST_MAX), n);
            self.latency_sum += latency as u128 * n as u128;
            self.wait_sum += wait as u128 * n as u128;
        }
        self.completed += total;
        self.latency_max = self.latency_max.max(row_max);
        self.change_in_flight(now, -(total as i64));
    }

    /// Per-minute percentiles of profiles are sampled from `rng`: those of
    /// as many draws from the minute's mixture as it has requests, not the
    /// mixture's own (the aggregate data plane).
    pub fn sample_minutes(&mut self, rng: Stream) {
        self.minute_rng = Some(rng);
    }

    /// Registers a latency profile (the aggregate data plane's).
    /// (Profiles are shared between the runs of a process.)
    pub fn add_profile(&mut self, p: impl Into<Arc<LatencyProfile>>) -> ProfileId {
        let p = p.into();
        self.slo_above.push(p.share_above(self.slo_us));
        self.profiles.push((p, 0));
        (self.profiles.len() - 1) as ProfileId
    }

    /// `n` requests completed at `now` with latencies distributed as
    /// profile `id` (the aggregate data plane's share of a step). The
    /// minute's percentiles and slow count come from the mixture of its
    /// profiles; the run's histograms get them at the end.
    pub fn completed_profile(&mut self, now: SimTime, id: ProfileId, n: u64) {
        if n == 0 {
            return;
        }
        let p = &self.profiles[id as usize].0;
        let (max, mean_latency, mean_wait) = (p.max(), p.mean_latency(), p.mean_wait());
        // Rolls the minute first: the profile counts in the new one.
        let row = self.row(now);
        row.completed += n;
        row.latency_max = row.latency_max.max(max);
        match self.minute_profiles.last_mut() {
            Some((last, count)) if *last == id => *count += n,
            _ => self.minute_profiles.push((id, n)),
        }
        self.profiles[id as usize].1 += n;
        self.completed += n;
        self.latency_sum += (mean_latency * n as f64).round() as u128;
        self.wait_sum += (mean_wait * n as f64).round() as u128;
        self.latency_max = self.latency_max.max(max);
        self.change_in_flight(now, -(n as i64));
    }

    /// Adds request × µs spent in the system by requests that arrived and
    /// completed at one instant in the aggregate plane's records.
    pub fn add_in_flight_area(&mut self, area: u128) {
        self.in_flight_area += area;
        self.in_flight_since_take += area;
    }

    /// Adds the fleet's side of the minute ending at or before `now` (the
    /// control plane calls this at each minute boundary and at the end).
    pub fn add_fleet(&mut self, minute: usize, f: FleetMinute) {
        if self.rows.len() <= minute {
            self.rows.resize(minute + 1, MinuteRow::default());
        }
        let row = &mut self.rows[minute];
        row.busy += f.busy;
        row.reserved += f.reserved;
        row.task_time += f.task_time;
        row.serving_time += f.serving_time;
        row.desired = f.desired;
        row.cost += f.cost;
        row.instances = f.instances;
        row.spot_instances = f.spot_instances;
    }

    /// Time integral of requests in the system (request × µs) since the
    /// previous call, up to `now`.
    pub fn take_in_flight_area(&mut self, now: SimTime) -> u128 {
        self.change_in_flight(now, 0);
        std::mem::take(&mut self.in_flight_since_take)
    }

    /// Closes the last minute at the end of the run (`end` exclusive).
    pub fn finish(&mut self, end: SimTime) {
        self.change_in_flight(end, 0);
        self.close_current();
        // The profiles' requests, gathered bucket by bucket first (the
        // minute's histogram is empty once the minute is closed).
        let counts: Vec<u64> = self
            .profiles
            .iter_mut()
            .map(|(_, total)| std::mem::take(total))
            .collect();
        let acc = &mut self.minute_hist;
        for ((p, _), &n) in self.profiles.iter().zip(&counts) {
            for (v, c) in p.spread(n, false) {
                acc.record_n(v.clamp(1, HIST_MAX), c);
            }
        }
        acc.drain_into(&mut self.latency);
        for ((p, _), &n) in self.profiles.iter().zip(&counts) {
            for (v, c) in p.spread(n, true) {
                if v == 0 {
                    self.zero_waits += c;
                } else {
                    acc.record_n(v.min(HIST_MAX), c);
                }
            }
        }
        acc.drain_into(&mut self.wait);
        let minutes = end.div_ceil(MINUTE).max(1) as usize;
        if self.rows.len() < minutes {
            self.rows.resize(minutes, MinuteRow::default());
        }
        self.rows.truncate(minutes);
    }

    /// Requests in the system now.
    pub fn in_flight(&self) -> u64 {
        self.in_flight
    }

    /// Time integral of the number of requests in the system (request × µs).
    pub fn in_flight_area(&self) -> u128 {
        self.in_flight_area
    }

    /// The same integral brought up to `now` (≥ the last change).
    pub fn in_flight_area_at(&self, now: SimTime) -> u128 {
        self.in_flight_area + self.in_flight as u128 * now.saturating_sub(self.last_change) as u128
    }

    /// Latency histogram of completed requests (µs), whole once the run
    /// is finished ([`Recorder::finish`]): a minute's requests join it
    /// when the minute closes, the profiles' at the end.
    pub fn latency(&self) -> &Histogram<u64> {
        &self.latency
    }

    /// Quantile `q` of the queue wait of completed requests (µs), once
    /// the run is finished (as [`Recorder::latency`]).
    pub fn wait_quantile(&self, q: f64) -> Option<u64> {
        if self.completed == 0 {
            return None;
        }
        // The zero waits sort first; the rest are in the histogram.
        let rank = (q * self.completed as f64).ceil().max(1.0) as u64;
        if rank <= self.zero_waits {
            return Some(0);
        }
        let positive = self.completed - self.zero_waits;
        Some(
            self.wait
                .value_at_quantile((rank - self.zero_waits) as f64 / positive as f64),
        )
    }

    /// Exact mean latency of completed requests (µs).
    pub fn latency_mean(&self) -> Option<f64> {
        (self.completed > 0).then(|| self.latency_sum as f64 / self.completed as f64)
    }

    /// Exact mean queue wait of completed requests (µs).
    pub fn wait_mean(&self) -> Option<f64> {
        (self.completed > 0).then(|| self.wait_sum as f64 / self.completed as f64)
    }

    /// Exact maximum latency (µs).
    pub fn latency_max(&self) -> u64 {
        self.latency_max
    }

    /// The per-minute rows.
    pub fn rows(&self) -> &[MinuteRow] {
        &self.rows
    }
}

/// What one minute of requests drawn from a mixture of profiles shows.
struct MinuteSample {
    p50: u64,
    p99: u64,
    max: u64,
    slow: u64,
}

/// The median, 99th percentile, maximum and count above `slo_us` of a
/// minute of `N` requests from a mixture of profiles (`N` its requests).
/// Requests of one task are correlated over a busy period of its queue,
/// so the minute varies as `N_eff = Σ n / corr` independent draws: the
/// maximum, the 99th percentile and the median are that many uniforms'
/// order statistics, drawn jointly from the top (U^(1/N_eff), then Beta
/// fractions of it), each mapped through the mixture's quantile function;
/// the slow count is drawn given the 99th percentile (those ranked above it
/// are slow if it is; of the rest, a binomial share) and scaled to `N`, so
/// that a minute's p99 is above the target exactly when its slow count
/// says so.
fn sample_minute<'a>(
    parts: &[(ProfileId, u64)],
    get: impl Fn(ProfileId) -> &'a LatencyProfile + Copy,
    slo_us: f64,
    slow_share: impl Fn(ProfileId) -> f64,
    rng: &mut Stream,
) -> MinuteSample {
    let total: u64 = parts.iter().map(|p| p.1).sum();
    let eff: f64 = parts
        .iter()
        .map(|&(id, n)| n as f64 / get(id).correlation())
        .sum();
    let n = (eff.round() as u64).clamp(1, total.max(1));
    let quantile = |u: f64| mixture_level(parts, get, u).unwrap_or(0);
    // Jointly, from the top: the largest of n uniforms is U^(1/n); the
    // k-th below the m-th is the m-th times a Beta(k, m − k) (found in
    // review: drawn apart, a small minute's p99 came out below its
    // maximum's and contradicted its slow count).
    let r99 = ((0.99 * n as f64).ceil() as u64).clamp(1, n);
    let r50 = ((0.50 * n as f64).ceil() as u64).clamp(1, n);
    let below = |top: f64, k: u64, m: u64, rng: &mut Stream| -> f64 {
        if k >= m {
            return top;
        }
        match Beta::new(k as f64, (m - k) as f64) {
            Ok(b) => top * b.sample(rng),
            Err(_) => top * k as f64 / m as f64,
        }
    };
    let umax = rng.random::<f64>().powf(1.0 / n as f64);
    let u99 = below(umax, r99, n, rng);
    let u50 = below(u99, r50, r99, rng);
    let (p50, p99, max) = (quantile(u50), quantile(u99), quantile(umax));
    // Near the 99th percentile, each profile's samples are searched from
    // its own 99th percentile's; at the target, their shares are known.
    let at_or_below = |v: f64| mixture_share_le(parts, get, |_, p| p.share_above_near(v, u99));
    let f_slo = mixture_share_le(parts, get, |id, _| slow_share(id));
    let binomial = |trials: u64, p: f64, rng: &mut Stream| -> u64 {
        match Binomial::new(trials, p.clamp(0.0, 1.0)) {
            Ok(b) => b.sample(rng),
            Err(_) => 0,
        }
    };
    let breach = p99 as f64 > slo_us;
    let slow_eff = if breach {
        // Ranks r99..N are above the p99, so slow; of the r99 − 1 below it,
        // those between the target and the p99.
        let below = at_or_below(p99 as f64 - 0.5).max(f64::MIN_POSITIVE);
        (n - r99 + 1) + binomial(r99 - 1, (below - f_slo) / below, rng)
    } else {
        // None ranked at or below the p99 is slow; of the N − r99 above it,
        // those above the target.
        let above = (1.0 - at_or_below(p99 as f64)).max(f64::MIN_POSITIVE);
        binomial(n - r99, (1.0 - f_slo) / above, rng)
    };
    // To the minute's requests, on the same side of its 99th percentile.
    let allowed = total - (99 * total).div_ceil(100);
    let scaled = (slow_eff as f64 * total as f64 / n as f64).round() as u64;
    let slow = if breach {
        scaled.clamp(allowed + 1, total)
    } else {
        scaled.min(allowed)
    };
    MinuteSample {
        p50,
        p99,
        max,
        slow,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::{MS, SECOND};

    #[test]
    fn minutes_roll_by_timestamp() {
        let mut r = Recorder::new();
        r.arrival(0);
        r.completed(10 * MS, 0, 0);
        r.arrival(61 * SECOND);
        r.completed(61 * SECOND + 20 * MS, 61 * SECOND, 61 * SECOND);
        r.finish(2 * MINUTE);
        let rows = r.rows();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].completed, 1);
        assert_eq!(rows[1].completed, 1);
        let p99 = rows[1].latency_p99.unwrap();
        assert!((p99 as f64 - 20_000.0).abs() <= 20.0, "{p99}");
        assert_eq!(r.in_flight(), 0);
    }

    #[test]
    fn errors_count_as_infinitely_slow_in_the_slo_percentile() {
        // 98 fast completions and 1 timeout: rank 99 of 99 is the error.
        let mut r = Recorder::with_slo(Some(5_000.0));
        for i in 0..99 {
            r.arrival(i);
        }
        for i in 0..98 {
            r.completed(i + 1000, i, i);
        }
        r.timed_out(2000);
        r.finish(MINUTE);
        assert!(r.rows()[0].slo_breach());

        // 1 error in 200: rank 198 is still a fast completion.
        let mut r = Recorder::with_slo(Some(5_000.0));
        for i in 0..200 {
            r.arrival(i);
        }
        r.rejected(200);
        for i in 0..199 {
            r.completed(i + 1000, i, i);
        }
        r.finish(MINUTE);
        assert!(!r.rows()[0].slo_breach());
    }

    #[test]
    fn latency_exactly_at_the_target_is_no_breach() {
        let mut r = Recorder::with_slo(Some(100_000.0));
        for i in 0..10 {
            r.arrival(i * SECOND);
            r.completed(i * SECOND + 100 * MS, i * SECOND, i * SECOND);
        }
        r.finish(MINUTE);
        let row = &r.rows()[0];
        assert!(!row.slo_breach());
        assert_eq!(row.latency_p99, Some(100_000), "capped at the exact max");
    }

    #[test]
    fn wait_quantiles_count_the_zero_waits() {
        let mut r = Recorder::new();
        for i in 0..100 {
            r.arrival(i);
        }
        for i in 0..100 {
            // 95 requests never wait, 5 wait 1 ms.
            let started = if i < 95 { i } else { i + 1000 };
            r.completed(2000 + i, i, started);
        }
        r.finish(MINUTE);
        assert_eq!(r.wait_quantile(0.95), Some(0));
        let p99 = r.wait_quantile(0.99).unwrap();
        assert!((p99 as i64 - 1000).abs() <= 1, "{p99}");
        assert_eq!(Recorder::new().wait_quantile(0.5), None);
    }

    #[test]
    fn in_flight_area_is_the_integral() {
        let mut r = Recorder::new();
        r.arrival(0);
        r.arrival(10);
        r.completed(20, 0, 0); // 2 in flight for 10 µs, 1 for 10 before
        r.completed(30, 10, 10);
        r.finish(100);
        assert_eq!(r.in_flight_area(), 10 + 2 * 10 + 10);
    }
}

#[cfg(test)]
mod sampled_minutes {
    use super::*;
    use crate::rng::{Component, stream};

    /// A minute of `n` requests uniform on [0, 1000) µs, sampled many times.
    fn minutes(n: u64, slo: f64, trials: u32) -> (f64, f64, Vec<MinuteSample>) {
        let mut rng = stream(1, Component::MinuteSampling);
        let samples: Vec<(f64, f64)> = (0..4096)
            .map(|j| ((j as f64 + 0.5) / 4096.0 * 1000.0, 0.0))
            .collect();
        let profiles = [(LatencyProfile::new(&samples), 0u64)];
        let get = |id: ProfileId| &profiles[id as usize].0;
        let above = profiles[0].0.share_above(slo);
        let out: Vec<_> = (0..trials)
            .map(|_| sample_minute(&[(0, n)], get, slo, |_| above, &mut rng))
            .collect();
        let breach = out.iter().filter(|m| m.p99 as f64 > slo).count() as f64 / f64::from(trials);
        let mean = out.iter().map(|m| m.p99 as f64).sum::<f64>() / f64::from(trials);
        (breach, mean, out)
    }

    #[test]
    fn a_small_minutes_p99_is_its_maximum() {
        // 50 requests: the p99 is the largest, above 990 with probability
        // 1 − 0.99^50 = 0.395; its mean is 1000 × 50/51.
        let (breach, mean, _) = minutes(50, 990.0, 4000);
        assert!((breach - 0.395).abs() < 0.03, "{breach}");
        assert!((mean - 980.4).abs() < 2.0, "{mean}");
    }

    #[test]
    fn a_large_minutes_p99_is_close_to_the_quantile() {
        // 10,000 requests: the 9,900th, sd √(0.99 × 0.01 / 10⁴) ≈ 0.001.
        let (_, mean, out) = minutes(10_000, 995.0, 500);
        assert!((mean - 990.0).abs() < 0.5, "{mean}");
        assert!(out.iter().all(|m| (m.p99 as f64 - 990.0).abs() < 6.0));
        assert!(out.iter().all(|m| m.p50 <= m.p99 + 1 && m.p99 <= m.max));
    }

    #[test]
    fn the_slow_count_agrees_with_the_p99() {
        for (n, slo) in [(50, 990.0), (300, 985.0), (5_000, 990.0)] {
            let (_, _, out) = minutes(n, slo, 500);
            let rank = (99 * n).div_ceil(100);
            for m in out {
                let breach = m.slow > n - rank;
                assert_eq!(
                    breach,
                    m.p99 as f64 > slo,
                    "{n}: {} slow, p99 {}",
                    m.slow,
                    m.p99
                );
                assert!(m.slow <= n);
            }
        }
    }
}
