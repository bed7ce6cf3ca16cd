//! What one request asks of a task: CPU time, I/O wait, and how long a client
//! waits before giving up. Scenario section `[workload]`.

use crate::error::ScenarioError;
use crate::time::Duration;
use rand::Rng;
use rand_distr::{Distribution, Exp, Gamma, LogNormal};
use serde::{Deserialize, Serialize};

/// Φ⁻¹(0.99), the standard normal 99th percentile.
const Z99: f64 = 2.326_347_874_040_840_8;

/// A distribution of a non-negative quantity in milliseconds, as written in a
/// scenario: `{ dist = "exponential", mean = 20 }`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "dist", rename_all = "snake_case", deny_unknown_fields)]
pub enum DistSpec {
    /// Always the same value.
    Constant {
        /// The value (ms). Also accepted as `mean`.
        #[serde(alias = "mean")]
        value: f64,
    },
    /// Exponential with the given mean (ms).
    Exponential {
        /// Mean (ms).
        mean: f64,
    },
    /// Log-normal fitted to a mean and a 99th percentile (ms); `p99` must lie
    /// between `mean` and ≈15× `mean` (e^(z₀.₉₉²/2)).
    Lognormal {
        /// Mean (ms).
        mean: f64,
        /// 99th percentile (ms).
        p99: f64,
    },
    /// Gamma with the given mean (ms) and shape k (coefficient of variation 1/√k).
    Gamma {
        /// Mean (ms).
        mean: f64,
        /// Shape parameter k > 0.
        shape: f64,
    },
}

/// A compiled distribution ready to sample, in milliseconds.
#[derive(Debug, Clone)]
pub enum Dist {
    /// A constant.
    Constant(f64),
    /// Exponential.
    Exponential(Exp<f64>),
    /// Log-normal.
    LogNormal(LogNormal<f64>),
    /// Gamma.
    Gamma(Gamma<f64>),
}

impl Dist {
    /// One draw (ms, ≥ 0).
    #[inline]
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        match self {
            Dist::Constant(v) => *v,
            Dist::Exponential(d) => d.sample(rng),
            Dist::LogNormal(d) => d.sample(rng),
            Dist::Gamma(d) => d.sample(rng),
        }
    }
}

/// Smallest gamma shape: below it the draws overflow to infinity or
/// underflow to 0 (capsim's bound).
const MIN_GAMMA_SHAPE: f64 = 0.01;

/// Largest mean (ms) a distribution may have: one day.
const MAX_MEAN_MS: f64 = 86_400_000.0;

fn positive(key: &str, v: f64) -> Result<(), ScenarioError> {
    if v.is_finite() && v > 0.0 && v <= MAX_MEAN_MS {
        Ok(())
    } else {
        Err(ScenarioError::invalid(
            key,
            format!("expected a number > 0 and at most {MAX_MEAN_MS} ms (a day), got {v}"),
        ))
    }
}

impl DistSpec {
    /// A short description, e.g. `lognormal mean 20, p99 90`.
    pub fn describe(&self) -> String {
        match self {
            DistSpec::Constant { value } => format!("constant {value}"),
            DistSpec::Exponential { mean } => format!("exponential mean {mean}"),
            DistSpec::Lognormal { mean, p99 } => format!("lognormal mean {mean}, p99 {p99}"),
            DistSpec::Gamma { mean, shape } => format!("gamma mean {mean}, shape {shape}"),
        }
    }

    /// The variance of the distribution (ms²).
    pub fn variance(&self) -> f64 {
        match self {
            DistSpec::Constant { .. } => 0.0,
            DistSpec::Exponential { mean } => mean * mean,
            DistSpec::Lognormal { mean, p99 } => match lognormal_params(*mean, *p99) {
                Ok((_, sigma)) => ((sigma * sigma).exp() - 1.0) * mean * mean,
                Err(_) => 0.0,
            },
            DistSpec::Gamma { mean, shape } => mean * mean / shape,
        }
    }

    /// The mean of the distribution (ms).
    pub fn mean(&self) -> f64 {
        match self {
            DistSpec::Constant { value } => *value,
            DistSpec::Exponential { mean }
            | DistSpec::Lognormal { mean, .. }
            | DistSpec::Gamma { mean, .. } => *mean,
        }
    }

    /// The means of `n` equally likely strata of the distribution, in
    /// ascending order: E[X | X between its quantiles j/n and (j+1)/n],
    /// exactly (no draws). They add up to `n` times the mean. The fluid
    /// plane's profiles are built on them (`service::fluid::profiles`).
    /// A specification that does not compile gives its mean in each.
    pub fn strata_means(&self, n: usize) -> Vec<f64> {
        use statrs::distribution::{ContinuousCDF, Gamma as GammaCdf, Normal};
        let nf = n as f64;
        // Each stratum's mean from the partial expectation's survival
        // `tail(q)` = E[X; X > q] / E[X] at its quantiles (upper tails, for
        // precision in the last strata).
        let from_tails = |mean: f64, quantile: &dyn Fn(f64) -> f64, tail: &dyn Fn(f64) -> f64| {
            let mut upper = 1.0;
            (0..n)
                .map(|j| {
                    let lower = if j + 1 == n {
                        0.0
                    } else {
                        tail(quantile((j + 1) as f64 / nf))
                    };
                    let m = mean * nf * (upper - lower).max(0.0);
                    upper = lower;
                    m
                })
                .collect()
        };
        match self {
            DistSpec::Constant { value } => vec![*value; n],
            DistSpec::Exponential { mean } => (0..n)
                .map(|j| {
                    // E[X | a < X < b] of the unit exponential between its
                    // quantiles a and b.
                    let a = -(1.0 - j as f64 / nf).ln();
                    if j + 1 == n {
                        return mean * (a + 1.0);
                    }
                    let b = -(1.0 - (j + 1) as f64 / nf).ln();
                    let (ea, eb) = ((-a).exp(), (-b).exp());
                    mean * (a * ea - b * eb + ea - eb) / (ea - eb)
                })
                .collect(),
            DistSpec::Lognormal { mean, p99 } => {
                let (Ok((_, sigma)), Ok(z)) =
                    (lognormal_params(*mean, *p99), Normal::new(0.0, 1.0))
                else {
                    return vec![self.mean(); n];
                };
                // X = e^(μ+σZ): E[X; Z > z] = E[X] Φ̄(z − σ).
                from_tails(*mean, &|u| z.inverse_cdf(u), &|q| z.sf(q - sigma))
            }
            DistSpec::Gamma { mean, shape } => {
                let rate = shape / mean;
                let (Ok(g), Ok(g1)) = (
                    GammaCdf::new(*shape, rate),
                    GammaCdf::new(shape + 1.0, rate),
                ) else {
                    return vec![self.mean(); n];
                };
                // E[X; X > q] = E[X] × the survival of Gamma(k + 1, rate) at q.
                // statrs finds the quantile by bisection to 10⁻⁹ (absolute):
                // at the smallest shapes the lowest strata, all within
                // 10⁻⁹ ms of 0, may come out of order; a running maximum
                // keeps them ascending.
                let mut v = from_tails(*mean, &|u| g.inverse_cdf(u), &|q| g1.sf(q));
                for i in 1..v.len() {
                    v[i] = v[i].max(v[i - 1]);
                }
                v
            }
        }
    }

    /// Validates and compiles; `key` is the dotted path used in errors.
    pub fn compile(&self, key: &str) -> Result<Dist, ScenarioError> {
        match self {
            DistSpec::Constant { value } => {
                if !(value.is_finite() && (0.0..=MAX_MEAN_MS).contains(value)) {
                    return Err(ScenarioError::invalid(
                        format!("{key}.value"),
                        format!(
                            "expected a number between 0 and {MAX_MEAN_MS} ms (a day), got {value}"
                        ),
                    ));
                }
                Ok(Dist::Constant(*value))
            }
            DistSpec::Exponential { mean } => {
                positive(&format!("{key}.mean"), *mean)?;
                Ok(Dist::Exponential(
                    Exp::new(1.0 / mean).expect("rate is positive and finite"),
                ))
            }
            DistSpec::Lognormal { mean, p99 } => {
                positive(&format!("{key}.mean"), *mean)?;
                positive(&format!("{key}.p99"), *p99)?;
                let (mu, sigma) = lognormal_params(*mean, *p99)
                    .map_err(|m| ScenarioError::invalid(format!("{key}.p99"), m))?;
                Ok(Dist::LogNormal(
                    LogNormal::new(mu, sigma).expect("sigma is finite and ≥ 0"),
                ))
            }
            DistSpec::Gamma { mean, shape } => {
                positive(&format!("{key}.mean"), *mean)?;
                positive(&format!("{key}.shape"), *shape)?;
                if *shape < MIN_GAMMA_SHAPE {
                    return Err(ScenarioError::invalid(
                        format!("{key}.shape"),
                        format!(
                            "expected at least {MIN_GAMMA_SHAPE} (smaller shapes put nearly every draw at 0 or at infinity), got {shape}"
                        ),
                    ));
                }
                Ok(Dist::Gamma(
                    Gamma::new(*shape, mean / shape).expect("shape and scale are positive"),
                ))
            }
        }
    }
}

/// (μ, σ) of the log-normal with the given mean and 99th percentile.
///
/// mean = e^(μ+σ²/2) and p99 = e^(μ+zσ) give σ²/2 − zσ + ln(p99/mean) = 0;
/// the smaller root is taken (the larger one puts the mass in a far tail).
pub fn lognormal_params(mean: f64, p99: f64) -> Result<(f64, f64), String> {
    if p99 <= mean {
        return Err(format!(
            "a log-normal's 99th percentile must be above its mean ({mean} ms), got {p99} ms; use dist = \"constant\" for no variation"
        ));
    }
    let d = (p99 / mean).ln();
    let disc = Z99 * Z99 - 2.0 * d;
    if disc < 0.0 {
        return Err(format!(
            "no log-normal has mean {mean} ms and p99 {p99} ms: p99 can be at most {:.2}× the mean",
            (Z99 * Z99 / 2.0).exp()
        ));
    }
    let sigma = Z99 - disc.sqrt();
    let mu = mean.ln() - sigma * sigma / 2.0;
    Ok((mu, sigma))
}

/// The `[workload]` section: what each request needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkloadSpec {
    /// CPU time per request on one full vCPU (ms).
    pub cpu_ms: DistSpec,
    /// Wait per request that holds a concurrency slot but uses no CPU (ms),
    /// e.g. a database call. It follows the CPU phase. Default: none.
    #[serde(default)]
    pub io_ms: Option<DistSpec>,
    /// A request still unfinished this long after it arrived fails with a
    /// timeout (like a client or ALB idle timeout). Default: none.
    #[serde(default)]
    pub timeout: Option<Duration>,
    /// Memory a task uses with no request in flight (MiB). Default 0.
    #[serde(default)]
    pub memory_base_mib: f64,
    /// Memory each request in flight on a task (queued or in service) adds
    /// (MiB). Above the task's memory limit the task is OOM-killed. Default 0.
    #[serde(default)]
    pub memory_per_request_mib: f64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{Component, stream};

    #[test]
    fn lognormal_fit_reproduces_mean_and_p99() {
        let (mu, sigma) = lognormal_params(40.0, 200.0).unwrap();
        assert!(((mu + sigma * sigma / 2.0).exp() - 40.0).abs() < 1e-9);
        assert!(((mu + Z99 * sigma).exp() - 200.0).abs() < 1e-9);
        assert!(lognormal_params(40.0, 30.0).is_err());
        assert!(lognormal_params(1.0, 100.0).is_err());
    }

    #[test]
    fn strata_means_are_exact() {
        let specs = [
            DistSpec::Constant { value: 5.0 },
            DistSpec::Exponential { mean: 5.0 },
            DistSpec::Lognormal {
                mean: 20.0,
                p99: 90.0,
            },
            DistSpec::Gamma {
                mean: 8.0,
                shape: 2.5,
            },
            DistSpec::Gamma {
                mean: 8.0,
                shape: 0.5,
            },
        ];
        let n = 512;
        for spec in &specs {
            let strata = spec.strata_means(n);
            assert_eq!(strata.len(), n);
            assert!(strata.is_sorted(), "{spec:?}");
            // They add up to n means (telescoping partial expectations).
            let total: f64 = strata.iter().sum();
            assert!(
                (total / (n as f64 * spec.mean()) - 1.0).abs() < 1e-6,
                "{spec:?}: {total}"
            );
            // Against many sorted draws cut into the same strata: the
            // body stratum by stratum, the top 1 % together.
            let d = spec.compile("w").expect("valid");
            let per = 256;
            let mut rng = stream(11, Component::CpuDemand);
            let mut draws: Vec<f64> = (0..n * per).map(|_| d.sample(&mut rng)).collect();
            draws.sort_by(f64::total_cmp);
            let chunk = |j: usize| draws[j * per..(j + 1) * per].iter().sum::<f64>() / per as f64;
            for j in [n / 10, n / 2, n * 9 / 10] {
                let rel = chunk(j) / strata[j] - 1.0;
                assert!(
                    rel.abs() < 0.02,
                    "{spec:?} stratum {j}: {} vs {}",
                    chunk(j),
                    strata[j]
                );
            }
            let top = n / 100;
            let drawn: f64 = (n - top..n).map(chunk).sum();
            let exact: f64 = strata[n - top..].iter().sum();
            assert!(
                (drawn / exact - 1.0).abs() < 0.05,
                "{spec:?} top: {drawn} vs {exact}"
            );
        }
    }

    #[test]
    fn strata_of_the_smallest_gamma_shape_are_ordered_and_quick() {
        let spec = DistSpec::Gamma {
            mean: 8.0,
            shape: MIN_GAMMA_SHAPE,
        };
        let strata = spec.strata_means(4096);
        assert!(strata.iter().all(|v| v.is_finite() && *v >= 0.0));
        assert!(strata.is_sorted());
        let total: f64 = strata.iter().sum();
        assert!((total / (4096.0 * 8.0) - 1.0).abs() < 1e-6, "{total}");
    }

    #[test]
    fn sample_means_match() {
        let specs = [
            DistSpec::Constant { value: 5.0 },
            DistSpec::Exponential { mean: 5.0 },
            DistSpec::Lognormal {
                mean: 5.0,
                p99: 30.0,
            },
            DistSpec::Gamma {
                mean: 5.0,
                shape: 2.0,
            },
        ];
        for spec in specs {
            let d = spec.compile("workload.cpu_ms").unwrap();
            let mut rng = stream(1, Component::CpuDemand);
            let n = 200_000;
            let m: f64 = (0..n).map(|_| d.sample(&mut rng)).sum::<f64>() / n as f64;
            assert!((m - 5.0).abs() < 0.1, "{spec:?}: mean {m}");
        }
    }

    #[test]
    fn bad_parameters_name_the_key() {
        let e = DistSpec::Exponential { mean: -1.0 }
            .compile("workload.cpu_ms")
            .unwrap_err()
            .to_string();
        assert!(e.contains("workload.cpu_ms.mean"), "{e}");
        let e = DistSpec::Gamma {
            mean: 1.0,
            shape: 0.0,
        }
        .compile("workload.io_ms")
        .unwrap_err()
        .to_string();
        assert!(e.contains("workload.io_ms.shape"), "{e}");
    }
}
