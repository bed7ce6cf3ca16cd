//! Mean and 95 % interval over replications: a seeded percentile bootstrap
//! of the mean.
//!
//! Why a bootstrap: sweep metrics are non-negative and often skewed (breach
//! minutes, rejected requests), and sweeps run few replications. A Student t
//! interval is symmetric and, with 2–3 replications and one outlier, reaches
//! below zero (`5.0 [-20.4, 30.4]` breach minutes). A percentile bootstrap
//! stays inside the range of the values it resamples, so a non-negative
//! quantity gets a non-negative interval. It is deterministic: the resampling
//! stream has a fixed seed, so the same values always give the same interval.
//!
//! What it covers: simulation noise only — the spread between replications
//! that differ in their random seed. It says nothing about whether the model,
//! the prices or the load are right. With fewer than [`MIN_REPLICATIONS`]
//! values a bootstrap undercovers (with two values it is their range), and
//! reports say so.

use rand::RngExt;

/// Resamples drawn per interval.
pub const RESAMPLES: usize = 2_000;

/// Below this many replications, intervals are flagged as unreliable.
pub const MIN_REPLICATIONS: usize = 5;

/// Mean and a two-sided 95 % percentile-bootstrap interval of the mean.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    /// Sample mean.
    pub mean: f64,
    /// Lower bound (`None` with fewer than two values).
    pub low: Option<f64>,
    /// Upper bound.
    pub high: Option<f64>,
    /// Number of values.
    pub n: usize,
}

impl Estimate {
    /// Whether the interval rests on too few replications to be trusted.
    pub fn few(&self) -> bool {
        self.n < MIN_REPLICATIONS
    }
}

/// The estimate of `values`, or `None` when empty.
pub fn estimate(values: &[f64]) -> Option<Estimate> {
    let n = values.len();
    if n == 0 {
        return None;
    }
    let mean = values.iter().sum::<f64>() / n as f64;
    if n < 2 {
        return Some(Estimate {
            mean,
            low: None,
            high: None,
            n,
        });
    }
    let mut rng = crate::rng::stream_for(0, "sweep-bootstrap");
    let mut means: Vec<f64> = (0..RESAMPLES)
        .map(|_| (0..n).map(|_| values[rng.random_range(0..n)]).sum::<f64>() / n as f64)
        .collect();
    means.sort_by(f64::total_cmp);
    // Nearest-rank percentiles 2.5 % and 97.5 %.
    let at = |q: f64| means[((q * RESAMPLES as f64).ceil() as usize).clamp(1, RESAMPLES) - 1];
    Some(Estimate {
        mean,
        low: Some(at(0.025)),
        high: Some(at(0.975)),
        n,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn bootstrap_interval() {
        let e = estimate(&[1.0, 2.0, 3.0, 4.0, 5.0]).unwrap();
        assert_eq!(e.mean, 3.0);
        let (l, h) = (e.low.unwrap(), e.high.unwrap());
        // The bootstrap standard error of the mean is sqrt(2/5) ≈ 0.63: the
        // 95 % interval is about ±1.24 around the mean.
        assert!(
            (1.6..=2.2).contains(&l) && (3.8..=4.4).contains(&h),
            "{e:?}"
        );
        assert!(!e.few());
        assert!(estimate(&[]).is_none());
        assert_eq!(estimate(&[7.0]).unwrap().low, None);
        assert!(estimate(&[7.0, 8.0]).unwrap().few());
        let same = estimate(&[2.5, 2.5, 2.5]).unwrap();
        assert_eq!((same.low, same.high), (Some(2.5), Some(2.5)));
    }

    #[test]
    fn the_issue_case_stays_non_negative() {
        // Breach minutes 0, 0, 15: Student t gave 5.0 [-20.4, 30.4].
        let e = estimate(&[0.0, 0.0, 15.0]).unwrap();
        assert_eq!(e.mean, 5.0);
        assert_eq!(e.low, Some(0.0));
        assert!(e.high.unwrap() <= 15.0);
        assert_eq!(estimate(&[0.0, 0.0, 15.0]), Some(e), "deterministic");
    }

    proptest! {
        #[test]
        fn the_interval_holds_the_mean_inside_the_values(
            v in proptest::collection::vec(0.0f64..1e6, 2..12)
        ) {
            let e = estimate(&v).unwrap();
            let (lo, hi) = (e.low.unwrap(), e.high.unwrap());
            let min = v.iter().cloned().fold(f64::INFINITY, f64::min);
            let max = v.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
            prop_assert!(min <= lo + 1e-9 && lo <= hi && hi <= max + 1e-9);
            prop_assert!(lo <= e.mean + 1e-9 && e.mean <= hi + 1e-9, "{e:?}");
        }
    }
}
