//! A stable task's queueing model (the wait for a slot, processor sharing
//! on the task's vCPUs, the correlation of its requests' latencies) and
//! the lookup of the latency profile of the state the step's load puts a
//! task in (built on first use, `profiles.rs`).

use super::FluidPlane;
use super::profiles::{self, Entry, Known, MAX_PROFILES, Stretch, grid};
use crate::metrics::Recorder;
use crate::service::queueing::{allen_cunneen_wait, erlang_c};

/// A stable task's model: the CPU stretch, its mean, the chance of waiting
/// for a slot and the mean of that wait (s).
pub(super) type Model = (Stretch, f64, f64, f64);

/// How a task without a backlog serves at the step's load.
#[derive(Debug, Clone, Copy)]
pub(super) enum Lookup {
    /// Stable, with this profile.
    Profile(Entry),
    /// Stable, but the run holds `MAX_PROFILES` profiles: by draws.
    Draws(Model),
    /// Saturated.
    Saturated,
}

impl From<Known> for Lookup {
    fn from(k: Known) -> Self {
        match k {
            Known::Stable(e) => Lookup::Profile(e),
            Known::Saturated => Lookup::Saturated,
        }
    }
}
impl FluidPlane {
    pub(super) fn cores(&self) -> f64 {
        self.shape.cpu_units as f64 / 1024.0
    }

    pub(super) fn dedicated(&self) -> bool {
        self.shape.concurrency as u64 * 1024 <= self.shape.cpu_units as u64
    }

    /// Saturated throughput of one task (requests per second).
    pub(super) fn saturated_throughput(&self) -> f64 {
        let s = (self.demand.cpu_mean_ms + self.demand.io_mean_ms) / 1_000.0;
        let c = self.demand.cpu_mean_ms / 1_000.0;
        let by_slots = self.shape.concurrency as f64 / s;
        if self.dedicated() || c <= 0.0 {
            by_slots
        } else {
            by_slots.min(self.cores() / c)
        }
    }

    /// How a stable task serves at `lambda` requests per second: the CPU
    /// stretch, the chance of waiting for a slot and the mean of that
    /// wait (s). `None` when the task is saturated at that rate.
    pub(super) fn stable(&self, lambda: f64, ca2: f64) -> Option<Model> {
        let c = self.demand.cpu_mean_ms / 1_000.0;
        let io = self.demand.io_mean_ms / 1_000.0;
        // Queueing above the bare service time grows with the variability
        // of the arrivals: Poisson arrivals (ca² = 1) give the M/G/·
        // figures; arrivals split round robin over n tasks are Erlang-n
        // (ca² = 1/n) and queue less. The factor on the excess is
        // Kingman's (ca² + cs²)/2 with the CPU time's cs², at most 1: an
        // empirical choice, fitted on the agreement suite (with cs² = 1, as processor
        // sharing's insensitivity under Poisson arrivals would suggest, the
        // diurnal day's breach minutes go from 9 to 30 against 7). It is
        // wrong for nearly constant CPU times on one task (constant 20 ms
        // at 80 %: 61 ms against 101 ms): README, "Fidelity".
        let damp = ((ca2 + self.demand.cpu_scv.min(1.0)) / 2.0).max(1e-3);
        let (model, stretch) = if self.dedicated() || c <= 0.0 {
            (Stretch::Fixed(1.0), 1.0)
        } else {
            let v = self.cores();
            let a = lambda * c;
            // Whole servers for Erlang C, each running at v / servers of a
            // core (one slow server below a whole vCPU, 1.5 vCPU as one
            // server half again as fast).
            let servers = v.floor().max(1.0);
            let speed = v / servers;
            let rho = a / (servers * speed);
            if rho >= 1.0 {
                return None;
            }
            // Regular arrivals shorten the queue's geometric tail: its
            // ratio is lowered so that the mean excess is `damp` times the
            // Poisson one (below a ratio of 0, fewer arrivals find the
            // cores busy instead).
            let root = damp.sqrt();
            let c_busy = (erlang_c(servers as u32, a / speed) * root).min(1.0);
            let tail = 1.0 - (1.0 - rho) / root;
            let (busy, ratio) = if tail >= 0.0 {
                (c_busy, tail)
            } else {
                (c_busy * root / (1.0 - rho), 0.0)
            };
            if f64::from(self.shape.concurrency) <= servers {
                // No more requests than servers: none ever shares one.
                (Stretch::Fixed(1.0 / speed), 1.0 / speed)
            } else {
                let ps = Stretch::Ps {
                    busy,
                    rho: ratio,
                    cores: servers,
                    speed,
                };
                (ps, ps.mean())
            }
        };
        if !stretch.is_finite() {
            return None;
        }
        let s = c * stretch + io;
        let k = self.shape.concurrency;
        if lambda * s >= k as f64 * 0.999 {
            return None;
        }
        let p_wait = erlang_c(k, lambda * s);
        let mean_wait = allen_cunneen_wait(k, lambda, s, ca2, self.demand.service_scv);
        Some((model, stretch, p_wait, mean_wait))
    }

    /// Whether a stable task at `lambda` requests per second (its CPU
    /// stretched by `stretch` on average, waiting `mean_wait` s for a slot)
    /// holds more requests than its memory limit allows (Little: λ × the
    /// time in the system).
    pub(super) fn stable_oom(&self, lambda: f64, stretch: f64, mean_wait: f64) -> bool {
        let service_s = (self.demand.cpu_mean_ms * stretch + self.demand.io_mean_ms) / 1_000.0;
        let in_flight = lambda * (service_s + mean_wait);
        self.shape.memory_in_use(in_flight.ceil() as u32) > self.shape.memory_limit_mib
    }

    /// Requests of one task at `lambda` per second whose latencies are
    /// correlated: those of one busy period of its bottleneck queue, whose
    /// mean is E[S]/(c(1 − ρ)) for c servers (M/M/1's, per server). The
    /// bottleneck is the cores when slots share them, else the slots. (The
    /// queue's relaxation time, 1/(cμ(1 − √ρ)²), gave four times the
    /// request-level plane's SLO-breach minutes on the suite: BENCHMARKS.md.)
    pub(super) fn correlation(&self, lambda: f64) -> f64 {
        let relax = |servers: f64, service_s: f64| {
            let rho = (lambda * service_s / servers).clamp(0.0, 0.999_999);
            service_s / (servers * (1.0 - rho))
        };
        let c = self.demand.cpu_mean_ms / 1_000.0;
        let s = c + self.demand.io_mean_ms / 1_000.0;
        let mut tau = relax(f64::from(self.shape.concurrency), s);
        if !self.dedicated() && c > 0.0 {
            let v = self.cores();
            let servers = v.floor().max(1.0);
            tau = tau.max(relax(servers, c * servers / v));
        }
        (lambda * tau).max(1.0)
    }

    /// How a task without a backlog serves `lambda` requests per second
    /// when `n` tasks share the load: the profile of its grid point, built
    /// on first use.
    pub(super) fn lookup(&mut self, lambda: f64, n: u32, rec: &mut Recorder) -> Lookup {
        if let Some((tasks, lo, hi, known)) = self.last
            && tasks == n
            && lambda >= lo
            && lambda < hi
        {
            return known.into();
        }
        let Some((k, lq)) = grid(lambda, self.sat) else {
            return Lookup::Saturated;
        };
        let (regularity, ca2) = profiles::regularity(n);
        let known = match self.cache.get(&(regularity, k)) {
            Some(known) => *known,
            None if self.cache.len() >= MAX_PROFILES => {
                return match self.stable(lambda, 1.0 / f64::from(n)) {
                    Some(m) => Lookup::Draws(m),
                    None => Lookup::Saturated,
                };
            }
            None => {
                let known = match self.stable(lq, ca2) {
                    Some((model, stretch, p_wait, mean_wait)) => {
                        let built = self.inputs.profile(
                            model,
                            p_wait,
                            mean_wait,
                            self.demand.timeout.map(|t| t as f64),
                            self.correlation(lq),
                        );
                        let mean_latency_us = built.profile.mean_latency();
                        Known::Stable(Entry {
                            id: rec.add_profile(built.profile),
                            timeout_share: built.lost,
                            mean_latency_us,
                            oom: self.stable_oom(lq, stretch, mean_wait),
                        })
                    }
                    None => Known::Saturated,
                };
                self.cache.insert((regularity, k), known);
                known
            }
        };
        let edge = |x: f64| self.sat / (1.0 + (-x * profiles::GRID).exp());
        let (lo, hi) = (edge(f64::from(k) - 0.5), edge(f64::from(k) + 0.5));
        self.last = Some((n, lo, hi, known));
        known.into()
    }
}
