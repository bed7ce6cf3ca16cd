//! The fluid plane's latency profiles: for each state a stable task meets
//! (its arrival rate on a fine grid and the number of tasks), the latency
//! distribution its model gives, as `SAMPLES` equally likely requests,
//! built once and recorded by the count ([`crate::metrics::profile`]).
//!
//! Every profile is built from the same inputs (common random numbers),
//! a Latin hypercube: each input's `SAMPLES` values are one per equally
//! likely stratum of its distribution (the exact conditional mean of the
//! stratum for the workload's CPU and I/O times and the exponential wait,
//! `DistSpec::strata_means`; the middle for the uniforms), paired at
//! random. So two states differ only by the model, never by sampling
//! noise, and a profile's percentiles are those of the model within the
//! strata's width and the pairing's noise (over eight pairings of the
//! benchmark's workload in processor sharing: the median within ±1 %, the
//! p99 within ±2.5 %). The inputs are the workload's, shared by every run
//! of the process (`shared.rs`).
//!
//! The grid is on the logit of the task's load relative to its saturated
//! throughput, in steps of `GRID`: the relative error of both the load and
//! its distance to saturation is at most GRID/2 (1 %), so the waits, which
//! grow as 1/(1 − ρ), keep their precision near saturation.

use crate::rng::Stream;
use crate::workload::DistSpec;
use rand::seq::SliceRandom;

/// How much longer than its own CPU time a request's CPU phase takes.
#[derive(Debug, Clone, Copy)]
pub(super) enum Stretch {
    /// The same for every request (whole cores, or a saturated task).
    Fixed(f64),
    /// Processor sharing on `cores` servers, each running at `speed` of a
    /// vCPU: a request finds them busy with probability `busy` (Erlang C,
    /// lowered for regular arrivals); it then shares them with `G + 1`
    /// requests beyond the cores, `G` geometric with ratio `rho`, its CPU
    /// phase taking `(1 + (G + 1)/cores)/speed` times its own CPU time;
    /// the mean over requests is the M/M/c-PS stretch scaled for the
    /// arrivals' regularity (`mod.rs`'s docs).
    Ps {
        busy: f64,
        rho: f64,
        cores: f64,
        speed: f64,
    },
}

impl Stretch {
    /// The mean slowdown over requests.
    pub(super) fn mean(self) -> f64 {
        match self {
            Stretch::Fixed(s) => s,
            Stretch::Ps {
                busy,
                rho,
                cores,
                speed,
            } => (1.0 + busy / (cores * (1.0 - rho))) / speed,
        }
    }

    /// What [`Slowdowns::at`] needs of the stretch, worked out once (a
    /// profile asks it for 4,096 requests, a step's draws for up to 16).
    pub(super) fn slowdowns(self) -> Slowdowns {
        let mean = self.mean();
        match self {
            Stretch::Fixed(_) => Slowdowns {
                mean,
                idle: mean,
                busy_from: f64::INFINITY,
                ln_busy: 0.0,
                ln_rho: None,
                per_other: 0.0,
            },
            Stretch::Ps {
                busy,
                rho,
                cores,
                speed,
            } => Slowdowns {
                mean,
                idle: 1.0 / speed,
                busy_from: if busy > 0.0 {
                    1.0 - busy
                } else {
                    f64::INFINITY
                },
                ln_busy: busy.ln(),
                ln_rho: (rho > 0.0).then(|| rho.ln()),
                per_other: 1.0 / (cores * speed),
            },
        }
    }
}

/// A stretch's slowdowns, ready to be read per request
/// ([`Stretch::slowdowns`]).
#[derive(Debug, Clone, Copy)]
pub(super) struct Slowdowns {
    mean: f64,
    /// The slowdown of a request that finds the cores free.
    idle: f64,
    /// Levels from here on find them busy.
    busy_from: f64,
    ln_busy: f64,
    ln_rho: Option<f64>,
    /// The slowdown each request sharing the cores adds.
    per_other: f64,
}

impl Slowdowns {
    /// The slowdown of a request at level `u` (uniform on (0, 1)) of the
    /// drawn slowdowns. The drawn slowdown increases with `u`: none busy below
    /// 1 − busy, then the geometric's quantile. A long CPU phase shares the
    /// cores with many others coming and going, so a slowdown above the
    /// mean shrinks towards it as the phase outlasts the mean one, by
    /// (mean CPU / cpu)^¼ (M/M/1-PS's variance of T(x) grows as x, which
    /// would give a square root: that put the p99 of the suite's
    /// processor-sharing case at ρ = 0.85 9 % below the request-level
    /// plane's; the fourth root brings ρ = 0.7 and 0.85 within 1 %,
    /// BENCHMARKS.md; an empirical choice). Slowdowns below the mean, and
    /// every slowdown of a phase shorter than the mean, stand.
    ///
    /// Takes `u`, ln(1 − u) and the shrink factor of the request's CPU
    /// time ([`shrink`] of it and the mean): what a profile's inputs hold,
    /// so that building one takes no logarithm or power per request.
    pub(super) fn at(&self, u: f64, ln_tail: f64, shrink: f64) -> f64 {
        if self.busy_from.is_infinite() && self.per_other == 0.0 {
            return self.mean;
        }
        let drawn = if u >= self.busy_from {
            // The geometric's quantile at w = (u − (1 − busy))/busy, by
            // ln(1 − w) = ln(1 − u) − ln(busy) (w kept below 1 − 10⁻¹²);
            // the quotient is not negative, so truncating floors it.
            let ln_rest = (ln_tail - self.ln_busy).clamp(-27.631_021_115_928_547, 0.0);
            let g = self.ln_rho.map_or(0.0, |l| (ln_rest / l) as u64 as f64);
            self.idle + (g + 1.0) * self.per_other
        } else {
            self.idle
        };
        if drawn > self.mean {
            self.mean + (drawn - self.mean) * shrink
        } else {
            drawn
        }
    }
}

/// How far a slowdown above the mean shrinks towards it for a CPU phase
/// of `cpu` ms (mean `cpu_mean`): (mean / cpu)^¼, at most 1.
fn shrink(cpu: f64, cpu_mean: f64) -> f64 {
    (cpu_mean / cpu.max(1e-12)).powf(0.25).min(1.0)
}

/// Equally likely requests per profile.
pub(super) const SAMPLES: usize = 4096;
/// Most profiles one run keeps (each holds 32 KiB: 32 MiB in all); past
/// it, states not yet met are served by draws.
pub(super) const MAX_PROFILES: usize = 1024;
/// Step of the grid of loads, on the logit of load / saturated throughput.
pub(super) const GRID: f64 = 0.02;

/// The common random inputs of every profile, `SAMPLES` of each.
pub(super) struct Inputs {
    /// CPU time (ms).
    cpu: Vec<f64>,
    /// I/O wait (ms).
    io: Vec<f64>,
    /// Uniform: how much its CPU phase is stretched (whether it finds the
    /// cores busy, then how many others it shares them with; larger
    /// values, more).
    share_u: Vec<f64>,
    /// ln(1 − share_u).
    share_ln_tail: Vec<f64>,
    /// The shrink of a slowdown above the mean for its CPU time ([`shrink`]).
    shrink: Vec<f64>,
    /// Uniform: whether it waits for a slot.
    wait_u: Vec<f64>,
    /// Exponential (mean 1): how long, relative to the mean wait.
    wait_e: Vec<f64>,
}

impl Inputs {
    /// The inputs of a workload whose CPU and I/O times are `cpu` and
    /// `io`; `rng` pairs them.
    pub(super) fn new(cpu: &DistSpec, io: Option<&DistSpec>, rng: &mut Stream) -> Self {
        // Stratum values in ascending order, exact.
        let strata = |d: &DistSpec| d.strata_means(SAMPLES);
        // The CPU time and the number of others sharing the cores make the
        // tail together (their product): an orthogonal-array Latin
        // hypercube (Tang, 1993) puts one sample in each of the SIDE × SIDE
        // cells of their joint strata, as well as one in each stratum of
        // each, so the product's tail is not left to a random pairing.
        let (cpu_at, geo_at) = orthogonal_pairs(rng);
        let cpu_sorted = strata(cpu);
        let cpu: Vec<f64> = cpu_at.iter().map(|&k| cpu_sorted[k]).collect();
        let io = match io {
            Some(d) => {
                let mut v = strata(d);
                v.shuffle(rng);
                v
            }
            None => vec![0.0; SAMPLES],
        };
        let mid = |rng: &mut Stream| {
            let mut v: Vec<f64> = (0..SAMPLES)
                .map(|j| (j as f64 + 0.5) / SAMPLES as f64)
                .collect();
            v.shuffle(rng);
            v
        };
        let share_u: Vec<f64> = geo_at
            .iter()
            .map(|&k| (k as f64 + 0.5) / SAMPLES as f64)
            .collect();
        let wait_u = mid(rng);
        // E[X | stratum] of the unit exponential.
        let mut wait_e = DistSpec::Exponential { mean: 1.0 }.strata_means(SAMPLES);
        wait_e.shuffle(rng);
        let cpu_mean = cpu.iter().sum::<f64>() / SAMPLES as f64;
        Inputs {
            shrink: cpu.iter().map(|&c| shrink(c, cpu_mean)).collect(),
            share_ln_tail: share_u.iter().map(|&u| (1.0 - u).ln()).collect(),
            cpu,
            io,
            share_u,
            wait_u,
            wait_e,
        }
    }

    /// Input `j` (below `SAMPLES`) as one request's draw: its CPU time
    /// (ms), I/O wait (ms) and shrink factor. The CPU and I/O values are
    /// their strata's means, so a uniform `j` draws from the workload's
    /// distributions on `SAMPLES` strata (the saturated path's draws).
    pub(super) fn request(&self, j: usize) -> (f64, f64, f64) {
        (self.cpu[j], self.io[j], self.shrink[j])
    }

    /// The latencies and waits (µs) of a stable task's model, for the
    /// requests that complete before `timeout` (µs), and the share that
    /// do not. `speed` is the CPU phase's speed when processor sharing.
    pub(super) fn latencies(
        &self,
        stretch: Stretch,
        p_wait: f64,
        mean_wait_s: f64,
        timeout: Option<f64>,
    ) -> (Vec<(f64, f64)>, f64) {
        let mut out = Vec::with_capacity(SAMPLES);
        let slowdowns = stretch.slowdowns();
        let wait_scale = if p_wait > 0.0 {
            mean_wait_s / p_wait * 1e6
        } else {
            0.0
        };
        let share = self
            .share_u
            .iter()
            .zip(&self.share_ln_tail)
            .zip(&self.shrink);
        let own = self.cpu.iter().zip(&self.io);
        let waits = self.wait_u.iter().zip(&self.wait_e);
        for (((&u, &ln_tail), &shrink), ((&cpu, &io), (&wait_u, &wait_e))) in
            share.zip(own.zip(waits))
        {
            let factor = slowdowns.at(u, ln_tail, shrink);
            let service = (cpu * factor + io) * 1_000.0;
            let wait = if wait_u < p_wait {
                wait_e * wait_scale
            } else {
                0.0
            };
            let latency = round_us(wait + service);
            if timeout.is_some_and(|t| latency > t) {
                continue;
            }
            out.push((latency, round_us(wait)));
        }
        let lost = (SAMPLES - out.len()) as f64 / SAMPLES as f64;
        (out, lost)
    }
}

/// `x` µs (not negative) to the nearest whole µs, halves up: `round`
/// without the library call it is on x86-64's baseline (no SSE4.1), which
/// cost a fifth of building a profile.
fn round_us(x: f64) -> f64 {
    whole_us(x) as f64
}

/// [`round_us`] as a time.
pub(super) fn whole_us(x: f64) -> crate::time::SimTime {
    // Through i64: one instruction (u64 takes several); latencies are far
    // below 2⁶³ µs.
    (x.max(0.0) + 0.5) as i64 as crate::time::SimTime
}

/// Side of the orthogonal array: SIDE² = SAMPLES.
const SIDE: usize = 64;

/// For each sample, its stratum of the CPU time and of the geometric's
/// uniform (ascending, 0..SAMPLES): an orthogonal-array-based Latin
/// hypercube of strength 2 on a SIDE × SIDE grid. Sample (i, j) lies in
/// coarse cell i of the CPU time and j of the uniform; within them its
/// fine strata are permuted so that every fine stratum holds one sample.
fn orthogonal_pairs(rng: &mut Stream) -> (Vec<usize>, Vec<usize>) {
    let perm = |rng: &mut Stream| {
        let mut p: Vec<usize> = (0..SIDE).collect();
        p.shuffle(rng);
        p
    };
    // σ_i: within coarse CPU stratum i, the fine stratum of the sample in
    // uniform cell j; τ_j likewise.
    let sigma: Vec<Vec<usize>> = (0..SIDE).map(|_| perm(rng)).collect();
    let tau: Vec<Vec<usize>> = (0..SIDE).map(|_| perm(rng)).collect();
    let mut cpu = Vec::with_capacity(SAMPLES);
    let mut geo = Vec::with_capacity(SAMPLES);
    for i in 0..SIDE {
        for j in 0..SIDE {
            cpu.push(i * SIDE + sigma[i][j]);
            geo.push(j * SIDE + tau[j][i]);
        }
    }
    (cpu, geo)
}

/// The grid point of a load of `lambda` requests per second on a task
/// that saturates at `sat`: its index and its load. `None` at or above
/// saturation, or without load.
pub(super) fn grid(lambda: f64, sat: f64) -> Option<(i32, f64)> {
    let x = lambda / sat;
    if !(x > 0.0 && x < 1.0) {
        return None;
    }
    let k = ((x / (1.0 - x)).ln() / GRID).round();
    let xq = 1.0 / (1.0 + (-k * GRID).exp());
    (xq < 1.0).then_some((k as i32, xq * sat))
}

/// A profile and what the plane needs of its state beside it.
#[derive(Debug, Clone, Copy)]
pub(super) struct Entry {
    /// The profile, registered with the recorder.
    pub id: crate::metrics::ProfileId,
    /// Share of the requests that time out.
    pub timeout_share: f64,
    /// Mean latency of those that complete (µs).
    pub mean_latency_us: f64,
    /// The state's memory exceeds the task's limit.
    pub oom: bool,
}

/// What the cache knows of a state.
#[derive(Debug, Clone, Copy)]
pub(super) enum Known {
    /// Stable, with this profile.
    Stable(Entry),
    /// Saturated at this load.
    Saturated,
}

/// The arrivals' regularity `n` tasks see (round robin over `n`: ca² =
/// 1/n) as a cache key and the ca² the model takes: exact up to 10 tasks,
/// then 1/n on a grid of 0.01 (the queueing factor (ca² + cs²)/2 then
/// moves by at most 0.5 % of its value between neighbours), so that a
/// service between 10 and 100 tasks meets 10 regularities, not 90.
pub(super) fn regularity(n: u32) -> (u32, f64) {
    if n <= 10 {
        return (n, 1.0 / f64::from(n.max(1)));
    }
    let b = (100.0 / f64::from(n)).round();
    // Keys above 10 are grid points (1000 + hundredths).
    (1_000 + b as u32, b / 100.0)
}

/// Profiles by state: (regularity, grid index).
pub(super) type Cache = std::collections::HashMap<(u32, i32), Known>;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{Component, stream};

    #[test]
    fn regularity_is_exact_for_few_tasks_then_on_a_grid() {
        assert_eq!(regularity(1), (1, 1.0));
        assert_eq!(regularity(4), (4, 0.25));
        assert_eq!(regularity(10).1, 0.1);
        assert_eq!(regularity(29), regularity(30));
        assert!((regularity(30).1 - 1.0 / 30.0).abs() <= 0.005);
        assert_eq!(regularity(400).1, 0.0);
    }

    #[test]
    fn grid_points_are_close_near_saturation() {
        for x in [0.01, 0.3, 0.5, 0.9, 0.99, 0.999] {
            let (_, q) = grid(x * 50.0, 50.0).expect("below saturation");
            let xq = q / 50.0;
            let tol = GRID / 2.0 * 1.02;
            assert!((xq / x - 1.0).abs() <= tol, "{x}: {xq}");
            assert!(((1.0 - xq) / (1.0 - x) - 1.0).abs() <= tol, "{x}: {xq}");
        }
        assert!(grid(50.0, 50.0).is_none());
        assert!(grid(0.0, 50.0).is_none());
        assert!(grid(f64::NAN, 50.0).is_none());
    }

    #[test]
    fn the_orthogonal_array_covers_strata_and_cells() {
        let mut rng = stream(3, Component::CpuDemand);
        let (cpu, geo) = orthogonal_pairs(&mut rng);
        let mut fine = (vec![0; SAMPLES], vec![0; SAMPLES]);
        let mut cells = vec![0; SIDE * SIDE];
        for (&c, &g) in cpu.iter().zip(&geo) {
            fine.0[c] += 1;
            fine.1[g] += 1;
            cells[(c / SIDE) * SIDE + g / SIDE] += 1;
        }
        assert!(fine.0.iter().chain(&fine.1).all(|&k| k == 1));
        assert!(cells.iter().all(|&k| k == 1));
    }

    #[test]
    fn strata_keep_the_distributions() {
        let mut rng = stream(1, Component::CpuDemand);
        let lognormal_mean = (2.8f64 + 0.18).exp();
        let cpu = DistSpec::Lognormal {
            mean: lognormal_mean,
            p99: (2.8f64 + 0.6 * 2.326_347_874_040_841).exp(),
        };
        let io = DistSpec::Exponential { mean: 30.0 };
        let inputs = Inputs::new(&cpu, Some(&io), &mut rng);
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
        assert!((mean(&inputs.cpu) / lognormal_mean - 1.0).abs() < 0.02);
        assert!((mean(&inputs.io) / 30.0 - 1.0).abs() < 0.03);
        assert!((mean(&inputs.wait_e) - 1.0).abs() < 1e-9);
        // Without waits or sharing, latency is CPU plus I/O, all complete.
        let (l, lost) = inputs.latencies(Stretch::Fixed(1.0), 0.0, 0.0, None);
        assert_eq!(lost, 0.0);
        assert_eq!(l.len(), SAMPLES);
        assert!(
            (mean(&l.iter().map(|x| x.0).collect::<Vec<_>>()) / 1e3 / (lognormal_mean + 30.0)
                - 1.0)
                .abs()
                < 0.03
        );
        // A short timeout loses the slow ones.
        let (l, lost) = inputs.latencies(Stretch::Fixed(1.0), 0.0, 0.0, Some(20_000.0));
        assert!(lost > 0.3 && lost < 0.9, "{lost}");
        assert!(l.iter().all(|x| x.0 <= 20_000.0));
    }
}
