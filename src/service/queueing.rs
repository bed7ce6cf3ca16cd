//! Queueing formulas the aggregate ("fluid") data plane serves latency
//! from: Erlang C for the chance that a request waits (a slot, or a core
//! under processor sharing), the M/M/c wait and the Allen–Cunneen
//! correction for general service times. Pure functions with case tables.
//!
//! Sources: Erlang C and the M/M/c wait (Kleinrock, *Queueing Systems*
//! vol. 1, §3.5); Allen–Cunneen, E[W(G/G/c)] ≈ E[W(M/M/c)]·(c²ₐ + c²ₛ)/2
//! (Allen, *Probability, Statistics and Queueing Theory*, 2nd ed., §6.5);
//! the mean response of M/M/c under processor sharing equals that of
//! FCFS, E[S]·(1 + C(c, a)/(c(1 − ρ))) (by the insensitivity of the mean
//! number in system of the symmetric queue, Kelly 1979, ch. 3), applied to
//! each request in proportion to its own CPU time.

/// Erlang C: the probability that an arrival waits, for `c` servers and an
/// offered load `a = λ·E[S]` (in Erlangs). 1 when `a ≥ c` (no steady
/// state), 0 when `a ≤ 0`. Computed through the Erlang B recursion, which is
/// stable for thousands of servers.
pub fn erlang_c(c: u32, a: f64) -> f64 {
    if c == 0 {
        return 1.0;
    }
    if a.is_nan() || a <= 0.0 {
        return 0.0;
    }
    if a >= c as f64 {
        return 1.0;
    }
    let mut b = 1.0;
    for n in 1..=c {
        b = a * b / (n as f64 + a * b);
    }
    let rho = a / c as f64;
    b / (1.0 - rho * (1.0 - b))
}

/// Mean wait in queue of M/M/c (seconds), for `c` servers, arrival rate
/// `lambda` (1/s) and mean service time `s` (s). Infinite when unstable.
pub fn mmc_wait(c: u32, lambda: f64, s: f64) -> f64 {
    if lambda <= 0.0 || s <= 0.0 {
        return 0.0;
    }
    let a = lambda * s;
    if a >= c as f64 {
        return f64::INFINITY;
    }
    erlang_c(c, a) * s / (c as f64 - a)
}

/// Allen–Cunneen: the mean G/G/c wait is the M/M/c wait scaled by
/// `(ca2 + cs2) / 2`, the squared coefficients of variation of the
/// inter-arrival and service times (Poisson arrivals: `ca2 = 1`).
pub fn allen_cunneen_wait(c: u32, lambda: f64, s: f64, ca2: f64, cs2: f64) -> f64 {
    mmc_wait(c, lambda, s) * (ca2 + cs2) / 2.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol * b.abs().max(1e-12)
    }

    #[test]
    fn erlang_c_cases() {
        // (c, a, C(c, a)): one server is ρ itself; c = 2 and 4 worked by
        // hand from the closed form; c = 10 and 16 from the closed form's
        // sum evaluated independently (Python, double precision).
        let cases = [
            (1, 0.5, 0.5),
            (1, 0.9, 0.9),
            (2, 1.0, 1.0 / 3.0),
            (2, 1.5, 0.642_857_142_857),
            (4, 2.0, 0.173_913_043_478),
            (10, 8.0, 0.409_180_151),
            (16, 14.4, 0.591_343_394),
        ];
        for (c, a, want) in cases {
            let got = erlang_c(c, a);
            assert!(close(got, want, 2e-3), "C({c}, {a}) = {got}, want {want}");
        }
        assert_eq!(erlang_c(4, 0.0), 0.0);
        assert_eq!(erlang_c(4, 4.0), 1.0);
        assert_eq!(erlang_c(4, 9.0), 1.0);
        // Stable for large c: 1,000 servers at ρ = 0.99.
        let big = erlang_c(1_000, 990.0);
        assert!(big > 0.0 && big < 1.0, "{big}");
    }

    #[test]
    fn mmc_wait_cases() {
        // M/M/1: W = ρ/(μ − λ); λ = 9, μ = 10 → 0.9 s.
        assert!(close(mmc_wait(1, 9.0, 0.1), 0.9, 1e-12));
        // M/M/2, λ = 1.5, S = 1: C = 9/14, W = C/(2 − 1.5) = 1.2857 s.
        assert!(close(mmc_wait(2, 1.5, 1.0), 9.0 / 7.0, 1e-9));
        assert_eq!(mmc_wait(2, 3.0, 1.0), f64::INFINITY);
        assert_eq!(mmc_wait(2, 0.0, 1.0), 0.0);
        // M/D/1 by Allen–Cunneen is exact: half the M/M/1 wait.
        assert!(close(
            allen_cunneen_wait(1, 9.0, 0.1, 1.0, 0.0),
            0.45,
            1e-12
        ));
    }
}
