//! Mean and 95 % confidence interval over replications (Student t, `statrs`).

use statrs::distribution::{ContinuousCDF, StudentsT};

/// Mean and a two-sided 95 % confidence interval of the mean.
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
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    let t = StudentsT::new(0.0, 1.0, (n - 1) as f64)
        .expect("n ≥ 2 gives positive degrees of freedom")
        .inverse_cdf(0.975);
    let half = t * (var / n as f64).sqrt();
    Some(Estimate {
        mean,
        low: Some(mean - half),
        high: Some(mean + half),
        n,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn student_t_interval() {
        // n = 5, t(0.975, 4) = 2.7764.
        let e = estimate(&[1.0, 2.0, 3.0, 4.0, 5.0]).unwrap();
        assert_eq!(e.mean, 3.0);
        let half = 2.776445 * (2.5f64 / 5.0).sqrt();
        assert!((e.high.unwrap() - 3.0 - half).abs() < 1e-4, "{e:?}");
        assert!(estimate(&[]).is_none());
        assert_eq!(estimate(&[7.0]).unwrap().low, None);
    }
}
