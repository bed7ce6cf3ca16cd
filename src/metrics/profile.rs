//! Latency profiles: a latency distribution held as equally likely sample
//! values, recorded by the count. The aggregate ("fluid") data plane builds
//! one per task state it meets and records "n requests with this profile"
//! instead of n latencies; the recorder turns a minute's profiles into the
//! minute's percentiles and slow count, and adds them to the run's
//! histograms once, at the end.

/// A latency distribution as `len()` equally likely completed requests.
#[derive(Debug, Clone)]
pub struct LatencyProfile {
    /// Latencies (µs), ascending.
    latency: Vec<f32>,
    /// Queue waits (µs) of the same requests, in no order.
    wait: Vec<f32>,
    mean_latency: f64,
    mean_wait: f64,
    /// Requests of one task that share one queue state: a task's
    /// latencies are correlated over its queue's relaxation time, so a
    /// minute of `N` requests varies as `N / corr` independent ones.
    corr: f64,
}

impl LatencyProfile {
    /// A profile from `(latency, wait)` pairs (µs) of completed requests.
    pub fn new(samples: &[(f64, f64)]) -> Self {
        let n = samples.len().max(1) as f64;
        // Non-negative floats sort as their bits do (integers sort faster).
        let mut bits: Vec<u32> = samples
            .iter()
            .map(|s| (s.0.max(1.0) as f32).to_bits())
            .collect();
        radix_sort(&mut bits);
        let latency = bits.into_iter().map(f32::from_bits).collect();
        let wait: Vec<f32> = samples.iter().map(|s| s.1.max(0.0) as f32).collect();
        LatencyProfile {
            mean_latency: samples.iter().map(|s| s.0.max(1.0)).sum::<f64>() / n,
            mean_wait: samples.iter().map(|s| s.1.max(0.0)).sum::<f64>() / n,
            latency,
            wait,
            corr: 1.0,
        }
    }

    /// The same profile, its latencies correlated over `corr` ≥ 1
    /// consecutive requests of a task.
    pub fn with_correlation(mut self, corr: f64) -> Self {
        self.corr = if corr.is_finite() { corr.max(1.0) } else { 1.0 };
        self
    }

    /// Consecutive requests of a task whose latencies are correlated.
    pub fn correlation(&self) -> f64 {
        self.corr
    }

    /// Number of sample values.
    pub fn len(&self) -> usize {
        self.latency.len()
    }

    /// Whether the profile holds no sample (every request timed out).
    pub fn is_empty(&self) -> bool {
        self.latency.is_empty()
    }

    /// Mean latency (µs).
    pub fn mean_latency(&self) -> f64 {
        self.mean_latency
    }

    /// Mean queue wait (µs).
    pub fn mean_wait(&self) -> f64 {
        self.mean_wait
    }

    /// Largest latency (µs).
    pub fn max(&self) -> u64 {
        self.latency.last().map_or(0, |v| ceil_us(*v))
    }

    /// Share of the requests slower than `us`.
    pub fn share_above(&self, us: f64) -> f64 {
        self.share_above_near(us, 0.5)
    }

    /// [`LatencyProfile::share_above`], searched from the sample at level
    /// `u` (where `us` is expected: the same answer, found sooner).
    pub fn share_above_near(&self, us: f64, u: f64) -> f64 {
        let len = self.latency.len();
        if len == 0 {
            return 0.0;
        }
        let hint = (u.clamp(0.0, 1.0) * len as f64) as usize;
        let le = count_near(&self.latency, hint, |v| f64::from(v) <= us);
        (len - le) as f64 / len as f64
    }

    /// `(value, count)` pairs that spread `n` requests over the sample
    /// values as evenly as integers allow (the counts add up to `n`).
    pub fn spread(&self, n: u64, waits: bool) -> impl Iterator<Item = (u64, u64)> + '_ {
        let values = if waits { &self.wait } else { &self.latency };
        let len = values.len().max(1) as u64;
        // n / len whole requests each; the remainder r spread so that the
        // first j + 1 values hold ⌊r(j+1)/len⌋ of it (kept as r·j mod len).
        let (whole, rest) = (n / len, n % len);
        let mut acc = 0u64;
        values.iter().filter_map(move |v| {
            acc += rest;
            let extra = acc >= len;
            if extra {
                acc -= len;
            }
            let count = whole + u64::from(extra);
            (count > 0).then(|| (ceil_us(*v), count))
        })
    }

    /// Where `w` requests a sample reach `rank` requests, linear between
    /// consecutive samples (as [`mixture_level`] walks them): the first
    /// `c` samples hold `w × c`.
    fn level(&self, w: f64, rank: f64) -> u64 {
        let len = self.latency.len();
        let mut c = ((rank / w) as usize).clamp(1, len);
        while c > 1 && w * (c - 1) as f64 >= rank {
            c -= 1;
        }
        while w * (c as f64) < rank {
            if c == len {
                // Rounding left the rank unreached: the largest value.
                return self.max();
            }
            c += 1;
        }
        let v = self.latency[c - 1];
        let prev = if c >= 2 { self.latency[c - 2] } else { v };
        let f = (1.0 - (w * c as f64 - rank) / w).clamp(0.0, 1.0) as f32;
        ceil_us(prev + f * (v - prev))
    }

    /// Requests of this profile at or below `v`, for `n` requests.
    fn count_le(&self, n: u64, v: f32) -> f64 {
        let le = self.latency.partition_point(|x| *x <= v);
        n as f64 * le as f64 / self.latency.len().max(1) as f64
    }
}

/// `v` (µs, not negative) rounded up, without the library call `ceil`
/// is on x86-64's baseline (no SSE4.1).
fn ceil_us(v: f32) -> u64 {
    // Through i64: one instruction (u64 takes several).
    let t = v.max(0.0) as i64;
    (if (t as f32) < v { t + 1 } else { t }) as u64
}

/// Sorts non-negative floats' bits (as `sort_unstable` would, in three
/// passes of 11 bits): a profile's 4,096 values sort in a tenth of the
/// comparisons' time, and a run builds up to a thousand profiles.
fn radix_sort(keys: &mut Vec<u32>) {
    const BITS: u32 = 11;
    const MASK: u32 = (1 << BITS) - 1;
    let mut out = vec![0u32; keys.len()];
    for pass in 0..3 {
        let shift = pass * BITS;
        let mut at = [0usize; 1 << BITS];
        for &k in keys.iter() {
            at[((k >> shift) & MASK) as usize] += 1;
        }
        if at.contains(&keys.len()) {
            // One digit for all: this pass would not move anything.
            continue;
        }
        let mut sum = 0;
        for c in at.iter_mut() {
            (*c, sum) = (sum, sum + *c);
        }
        for &k in keys.iter() {
            let d = ((k >> shift) & MASK) as usize;
            out[at[d]] = k;
            at[d] += 1;
        }
        std::mem::swap(keys, &mut out);
    }
}

/// The mixture's distribution function inverted at level `u` (a
/// Beta-drawn order statistic's): where the mixture of profiles, `n`
/// requests of each (`parts` names them, `get` finds them), linear between
/// consecutive sample values (a profile's few samples in the far tail
/// would otherwise make its quantiles a staircase), reaches `u × total`
/// requests. `None` if the mixture holds no request.
pub fn mixture_level<'a, K: Copy>(
    parts: &[(K, u64)],
    get: impl Fn(K) -> &'a LatencyProfile,
    u: f64,
) -> Option<u64> {
    // At most a few profiles a minute: kept on the stack.
    let mut live: [(&LatencyProfile, f64, usize); MAX_PARTS] = [(&EMPTY, 0.0, 0); MAX_PARTS];
    let mut k = 0;
    let mut total = 0u64;
    for &(key, n) in parts {
        let p = get(key);
        if n == 0 || p.is_empty() {
            continue;
        }
        if k == MAX_PARTS {
            return mixture_level_wide(parts, get, u);
        }
        live[k] = (p, n as f64 / p.len() as f64, 0);
        k += 1;
        total += n;
    }
    if total == 0 {
        return None;
    }
    let live = &mut live[..k];
    let rank = rank_of(u, total);
    if let [(p, w, _)] = *live {
        // Most minutes hold one profile: its samples are the walk.
        return Some(p.level(w, rank));
    }
    // Each profile's own quantile at `u`; the mixture's is at least the
    // smallest of them (and about at most the largest). Start there and
    // walk the merged samples up.
    let own_at =
        |p: &LatencyProfile| (u * p.len() as f64).ceil().clamp(1.0, p.len() as f64) as usize - 1;
    let own = |p: &LatencyProfile| p.latency[own_at(p)];
    let lo = live.iter().map(|l| own(l.0)).fold(f32::MAX, f32::min);
    let mut start = lo;
    // A walk that already bisected walks to the end, from the samples the
    // bisection counted below its start.
    let mut bisected: Option<[usize; MAX_PARTS]> = None;
    loop {
        let mut below = 0.0;
        let mut prev = f32::NEG_INFINITY;
        for (i, l) in live.iter_mut().enumerate() {
            l.2 = match bisected {
                Some(at) => at[i],
                // Neighbouring profiles have about as many samples below
                // the start as at their own quantile.
                None => count_below_near(&l.0.latency, start, own_at(l.0)),
            };
            below += l.1 * l.2 as f64;
            if l.2 > 0 {
                prev = prev.max(l.0.latency[l.2 - 1]);
            }
        }
        if prev == f32::NEG_INFINITY {
            // Below the first sample there is nothing to interpolate from.
            prev = lo;
        }
        let mut steps = 0;
        let stopped = loop {
            // The next sample in value order.
            let mut next: Option<usize> = None;
            for (i, l) in live.iter().enumerate() {
                if l.2 < l.0.len()
                    && next.is_none_or(|j| l.0.latency[l.2] < live[j].0.latency[live[j].2])
                {
                    next = Some(i);
                }
            }
            let Some(i) = next else {
                // Rounding left the rank unreached: the largest value.
                let max = live.iter().map(|l| l.0.max()).max();
                return max;
            };
            let l = &mut live[i];
            let v = l.0.latency[l.2];
            below += l.1;
            l.2 += 1;
            if below >= rank {
                // Between the previous value and this one, as far as the
                // rank goes into this sample's weight.
                let f = (1.0 - (below - rank) / l.1).clamp(0.0, 1.0) as f32;
                return Some(ceil_us(prev + f * (v - prev)));
            }
            prev = v;
            steps += 1;
            if bisected.is_none() && steps >= WALK {
                break v;
            }
        };
        // Profiles far apart make a long walk: bisect the values between
        // where it stopped and the largest own quantile, keeping the start
        // where fewer than `rank` requests lie below it (as below the
        // sample it stopped at), so the walk from there finds the same
        // level. A value inside the bracket has each profile's count of
        // samples below it inside the counts at its ends: only that range
        // is searched.
        start = stopped;
        let mut b = live.iter().map(|l| own(l.0)).fold(f32::MIN, f32::max);
        let (mut at_a, mut at_b) = ([0usize; MAX_PARTS], [0usize; MAX_PARTS]);
        for (i, l) in live.iter().enumerate() {
            // The walk took every sample below the one it stopped at.
            let mut j = l.2;
            while j > 0 && l.0.latency[j - 1] >= start {
                j -= 1;
            }
            at_a[i] = j;
            at_b[i] = j + l.0.latency[j..].partition_point(|x| *x < b);
        }
        let between = |a: &[usize; MAX_PARTS], b: &[usize; MAX_PARTS]| -> usize {
            a.iter().zip(b).map(|(a, b)| b - a).sum()
        };
        while between(&at_a, &at_b) > WALK {
            let mid = start + (b - start) / 2.0;
            if mid <= start || mid >= b {
                break;
            }
            let mut at = [0usize; MAX_PARTS];
            let mut w = 0.0;
            for (i, l) in live.iter().enumerate() {
                at[i] = at_a[i] + l.0.latency[at_a[i]..at_b[i]].partition_point(|x| *x < mid);
                w += l.1 * at[i] as f64;
            }
            if w < rank {
                (start, at_a) = (mid, at);
            } else {
                (b, at_b) = (mid, at);
            }
        }
        bisected = Some(at_a);
    }
}

/// How many of the ascending `values` are below `v`, searched outwards
/// from index `hint` (the answer is usually near it: fewer and closer
/// reads than a binary search of the whole).
fn count_below_near(values: &[f32], v: f32, hint: usize) -> usize {
    count_near(values, hint, |x| x < v)
}

/// The number of leading `values` for which `pred` holds (true on a
/// prefix), searched outwards from index `hint`.
fn count_near(values: &[f32], hint: usize, pred: impl Fn(f32) -> bool) -> usize {
    let n = values.len();
    let hint = hint.min(n);
    // The answer lies in [lo, hi]: values[lo - 1] < v ≤ values[hi].
    let (mut lo, mut hi);
    if hint < n && pred(values[hint]) {
        // Upwards: the answer is above hint.
        let mut step = 1;
        lo = hint + 1;
        loop {
            let probe = hint + step;
            if probe >= n {
                hi = n;
                break;
            }
            if !pred(values[probe]) {
                hi = probe;
                break;
            }
            lo = probe + 1;
            step *= 2;
        }
    } else {
        // Downwards: the answer is at or below hint.
        let mut step = 1;
        hi = hint;
        loop {
            if step > hint {
                lo = 0;
                break;
            }
            let probe = hint - step;
            if pred(values[probe]) {
                lo = probe + 1;
                break;
            }
            hi = probe;
            step *= 2;
        }
    }
    lo + values[lo..hi].partition_point(|x| pred(*x))
}

/// The requests at or below level `u` of `total` (kept above zero).
fn rank_of(u: f64, total: u64) -> f64 {
    (u.clamp(0.0, 1.0) * total as f64 - 1e-9).max(1e-9)
}

/// Samples a mixture's quantile walks through before it bisects (and at
/// most after).
const WALK: usize = 32;

/// Profiles a minute's mixture keeps on the stack.
const MAX_PARTS: usize = 8;

static EMPTY: LatencyProfile = LatencyProfile {
    latency: Vec::new(),
    wait: Vec::new(),
    mean_latency: 0.0,
    mean_wait: 0.0,
    corr: 1.0,
};

/// [`mixture_level`] for more than `MAX_PARTS` profiles: bisection on
/// the value, to a relative 10⁻⁴.
fn mixture_level_wide<'a, K: Copy>(
    parts: &[(K, u64)],
    get: impl Fn(K) -> &'a LatencyProfile,
    u: f64,
) -> Option<u64> {
    let live: Vec<_> = parts
        .iter()
        .map(|&(k, n)| (get(k), n))
        .filter(|p| p.1 > 0 && !p.0.is_empty())
        .collect();
    let total: u64 = live.iter().map(|p| p.1).sum();
    if total == 0 {
        return None;
    }
    let rank = rank_of(u, total);
    let enough = |v: f32| live.iter().map(|p| p.0.count_le(p.1, v)).sum::<f64>() >= rank;
    let mut lo = live.iter().map(|p| p.0.latency[0]).fold(f32::MAX, f32::min);
    let mut hi = live
        .iter()
        .map(|p| p.0.latency[p.0.len() - 1])
        .fold(0.0, f32::max);
    if enough(lo) {
        return Some(lo.ceil() as u64);
    }
    while hi - lo > hi * 1e-4 {
        let mid = lo + (hi - lo) / 2.0;
        if mid <= lo || mid >= hi {
            break;
        }
        if enough(mid) {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    Some(hi.ceil() as u64)
}

/// Share of a mixture's requests at or below `v` (µs), given each
/// profile's share above it (`above`). Profiles without a request or a
/// sample do not count.
pub fn mixture_share_le<'a, K: Copy>(
    parts: &[(K, u64)],
    get: impl Fn(K) -> &'a LatencyProfile,
    above: impl Fn(K, &LatencyProfile) -> f64,
) -> f64 {
    let mut total = 0u64;
    let mut le = 0.0;
    for &(k, n) in parts {
        let p = get(k);
        if n == 0 || p.is_empty() {
            continue;
        }
        total += n;
        le += n as f64 * (1.0 - above(k, p));
    }
    if total == 0 { 0.0 } else { le / total as f64 }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile(values: &[f64]) -> LatencyProfile {
        LatencyProfile::new(&values.iter().map(|v| (*v, 0.0)).collect::<Vec<_>>())
    }

    #[test]
    fn radix_sort_sorts_like_sort_unstable() {
        let mut state = 12345u64;
        for len in [0, 1, 2, 100, 4096] {
            let mut keys: Vec<u32> = (0..len)
                .map(|_| {
                    state = state
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    let x = (state >> 40) as f32 / 16.0 + 1.0;
                    x.to_bits()
                })
                .collect();
            let mut want = keys.clone();
            want.sort_unstable();
            radix_sort(&mut keys);
            assert_eq!(keys, want, "{len}");
        }
    }

    #[test]
    fn ceil_us_is_ceil() {
        for v in [
            0.0f32,
            0.25,
            1.0,
            1.5,
            2.999,
            1e6 + 0.5,
            16_777_216.0,
            4.0e9,
        ] {
            assert_eq!(ceil_us(v), v.ceil() as u64, "{v}");
        }
    }

    #[test]
    fn spread_adds_up() {
        let p = profile(&(1..=7).map(f64::from).collect::<Vec<_>>());
        for n in [0u64, 1, 6, 7, 8, 100, u64::MAX / 2] {
            let counts: Vec<(u64, u64)> = p.spread(n, false).collect();
            assert_eq!(counts.iter().map(|c| c.1).sum::<u64>(), n);
            // As evenly as integers allow: the first j + 1 values hold
            // ⌊n(j + 1)/7⌋.
            let want: Vec<(u64, u64)> = (0..7u128)
                .map(|j| {
                    let c = n as u128 * (j + 1) / 7 - n as u128 * j / 7;
                    (j as u64 + 1, c as u64)
                })
                .filter(|c| c.1 > 0)
                .collect();
            assert_eq!(counts, want, "{n}");
        }
    }

    #[test]
    fn one_profile_quantiles_are_its_order_statistics() {
        let p = profile(&[40.0, 10.0, 30.0, 20.0]);
        let q = |q| mixture_level(&[(&p, 400)], |p| p, q);
        assert_eq!(q(0.25), Some(10));
        // Between order statistics, linear.
        assert_eq!(q(0.26), Some(11));
        assert_eq!(q(0.5), Some(20));
        assert_eq!(q(0.99), Some(40));
        assert_eq!(mixture_level(&[(&p, 0)], |p| p, 0.5), None);
    }

    /// The level by the definition: walk every sample of the mixture in
    /// value order from the bottom.
    fn walked(parts: &[(&LatencyProfile, u64)], u: f64) -> Option<u64> {
        let mut all: Vec<(f32, f64)> = parts
            .iter()
            .filter(|p| p.1 > 0)
            .flat_map(|(p, n)| {
                p.latency
                    .iter()
                    .map(move |v| (*v, *n as f64 / p.len() as f64))
            })
            .collect();
        all.sort_by(|a, b| a.0.total_cmp(&b.0));
        let total: u64 = parts.iter().map(|p| p.1).sum();
        let rank = rank_of(u, total);
        let mut below = 0.0;
        let mut prev = f32::NEG_INFINITY;
        for (v, w) in all {
            below += w;
            if below >= rank {
                let prev = if prev == f32::NEG_INFINITY { v } else { prev };
                let f = (1.0 - (below - rank) / w).clamp(0.0, 1.0) as f32;
                return Some(ceil_us(prev + f * (v - prev)));
            }
            prev = v;
        }
        None
    }

    proptest::proptest! {
        /// The search from a hint counts what a binary search does.
        #[test]
        fn a_search_from_a_hint_is_a_binary_search(
            mut values in proptest::collection::vec(0u16..50, 0..300),
            v in 0u16..55,
            hint in 0usize..320,
        ) {
            values.sort_unstable();
            let values: Vec<f32> = values.into_iter().map(f32::from).collect();
            let v = f32::from(v);
            proptest::prop_assert_eq!(
                count_below_near(&values, v, hint),
                values.partition_point(|x| *x < v)
            );
            proptest::prop_assert_eq!(
                count_near(&values, hint, |x| x <= v),
                values.partition_point(|x| *x <= v)
            );
        }

        /// Bisecting first finds the level the walk from the bottom does
        /// (within a µs: sums of weights in another order).
        #[test]
        fn the_level_is_the_walks(
            scales in proptest::collection::vec((1.0f64..50.0, 1u64..10_000), 1..6),
            u in 0.0f64..1.0,
        ) {
            let profiles: Vec<LatencyProfile> = scales
                .iter()
                .map(|(s, _)| profile(&(1..=500).map(|i| 1_000.0 * s * (f64::from(i) / 100.0).exp()).collect::<Vec<_>>()))
                .collect();
            let parts: Vec<(&LatencyProfile, u64)> = profiles.iter().zip(&scales).map(|(p, (_, n))| (p, *n)).collect();
            let got = mixture_level(&parts, |p| p, u).unwrap();
            let want = walked(&parts, u).unwrap();
            proptest::prop_assert!(got.abs_diff(want) <= 1, "{} vs {}", got, want);
        }
    }

    #[test]
    fn equal_samples_give_the_walks_level() {
        let p = profile(&[10.0, 10.0, 10.0, 20.0, 20.0, 30.0, 30.0, 30.0]);
        for u in [0.0, 0.1, 0.3, 0.375, 0.4, 0.5, 0.6, 0.74, 0.75, 0.9, 1.0] {
            for n in [1, 8, 13, 1_000] {
                assert_eq!(
                    mixture_level(&[(&p, n)], |p| p, u),
                    walked(&[(&p, n)], u),
                    "u {u}, n {n}"
                );
            }
        }
    }

    #[test]
    fn a_mixture_weighs_profiles_by_their_counts() {
        let fast = profile(&[10.0, 10.0]);
        let slow = profile(&[1000.0, 1000.0]);
        // 99 fast for 1 slow: the p99 is fast, the p99.5 slow.
        let parts = [(&fast, 99), (&slow, 1)];
        assert_eq!(mixture_level(&parts, |p| p, 0.99), Some(10));
        assert_eq!(mixture_level(&parts, |p| p, 0.995), Some(1000));
        assert_eq!(mixture_level(&parts, |p| p, 0.5), Some(10));
        // Close profiles: the answer lies between their own quantiles.
        let a = profile(&(1..=100).map(f64::from).collect::<Vec<_>>());
        let b = profile(&(1..=100).map(|v| f64::from(v) * 1.01).collect::<Vec<_>>());
        let m = mixture_level(&[(&a, 500), (&b, 500)], |p| p, 0.9).expect("requests");
        assert!((90..=91).contains(&m), "{m}");
        // More profiles than the stack holds: bisection, the same answer
        // to its tolerance.
        let many: Vec<_> = (0..12)
            .map(|k| (if k % 2 == 0 { &a } else { &b }, 100))
            .collect();
        let walk = mixture_level(&many[..8], |p| p, 0.9).expect("requests");
        let wide = mixture_level(&many, |p| p, 0.9).expect("requests");
        assert_eq!(walk, m);
        assert!((wide as f64 / m as f64 - 1.0).abs() < 2e-3, "{wide} vs {m}");
        let le = mixture_share_le(&[(&a, 1), (&b, 1)], |p| p, |_, p| p.share_above(50.0));
        assert!((le - 0.495).abs() < 1e-9);
    }

    #[test]
    fn a_single_sample_is_every_quantile() {
        let p = profile(&[80.0]);
        for q in [0.01, 0.5, 0.99] {
            assert_eq!(mixture_level(&[(&p, 10)], |p| p, q), Some(80));
        }
    }

    #[test]
    fn spread_keeps_the_count_and_shares() {
        let p = profile(&[1.0, 2.0, 3.0, 4.0]);
        let s: Vec<_> = p.spread(10, false).collect();
        assert_eq!(s.iter().map(|x| x.1).sum::<u64>(), 10);
        assert_eq!(s, vec![(1, 2), (2, 3), (3, 2), (4, 3)]);
        let few: Vec<_> = p.spread(2, false).collect();
        assert_eq!(few, vec![(2, 1), (4, 1)]);
        assert!((p.share_above(2.5) - 0.5).abs() < 1e-12);
        assert_eq!(p.max(), 4);
    }

    #[test]
    fn waits_and_means() {
        let p = LatencyProfile::new(&[(10.0, 0.0), (30.0, 20.0)]);
        assert_eq!(p.mean_latency(), 20.0);
        assert_eq!(p.mean_wait(), 10.0);
        let mut w: Vec<_> = p.spread(4, true).collect();
        w.sort_unstable();
        assert_eq!(w, vec![(0, 2), (20, 2)]);
    }
}
