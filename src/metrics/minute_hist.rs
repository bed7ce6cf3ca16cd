//! One minute's latency histogram: the buckets, percentiles and clamping
//! of the run's `hdrhistogram` (1 µs to `HIST_MAX`, 3 significant
//! digits), but emptied by zeroing only the buckets the minute touched.
//! An hdrhistogram's `reset` writes its whole count array (270 KiB at
//! these bounds) every minute, which cost the fluid plane's overloaded
//! months more than everything else they did.
//!
//! It is also how requests reach the run's histograms: a minute's are
//! added bucket by bucket when it closes, and the profiles' requests are
//! gathered in one at the end of the run, so an hdrhistogram's costlier
//! record runs once per bucket, not once per request.

use hdrhistogram::Histogram;

/// Sub-buckets per half bucket, as a power of two (3 significant digits:
/// 2,048 sub-buckets, the upper half used above the first bucket).
const HALF_MAG: u32 = 10;
const HALF: u64 = 1 << HALF_MAG;
/// Values below this share the first bucket, one value per sub-bucket.
const SUB_MASK: u64 = 2 * HALF - 1;

/// A histogram with `hdrhistogram`'s layout for `new_with_bounds(1, high, 3)`.
#[derive(Debug, Clone)]
pub struct MinuteHist {
    counts: Vec<u64>,
    /// Indices of the non-zero counts, in the order they were first touched.
    touched: Vec<u32>,
    /// The same indices as bits (bit `i % 64` of word `i / 64`): read in
    /// order for the percentiles without sorting `touched` (an overloaded
    /// minute touches thousands of buckets).
    bits: Vec<u64>,
    total: u64,
    high: u64,
}

fn bucket_of(v: u64) -> u32 {
    // Powers of two above the first bucket's range.
    (64 - (SUB_MASK + 1).trailing_zeros()) - (v | SUB_MASK).leading_zeros()
}

fn index_of(v: u64) -> usize {
    let b = bucket_of(v);
    let sub = v >> b;
    (((u64::from(b) + 1) << HALF_MAG) + sub - HALF) as usize
}

/// The smallest value counted at `index`.
fn value_of(index: usize) -> u64 {
    let mut bucket = (index as i64 >> HALF_MAG) - 1;
    let mut sub = (index as u64 & (HALF - 1)) + HALF;
    if bucket < 0 {
        sub -= HALF;
        bucket = 0;
    }
    sub << bucket
}

/// The largest value counted with `v`.
fn highest_equivalent(v: u64) -> u64 {
    let b = bucket_of(v);
    ((v >> b) << b) + (1u64 << b) - 1
}

impl MinuteHist {
    /// Covers 1 to `high` as `Histogram::new_with_bounds(1, high, 3)`.
    pub fn new(high: u64) -> Self {
        let len = Histogram::<u64>::new_with_bounds(1, high, 3)
            .expect("valid histogram bounds")
            .distinct_values();
        MinuteHist {
            counts: vec![0; len],
            touched: Vec::new(),
            bits: vec![0; len.div_ceil(64)],
            total: 0,
            high,
        }
    }

    /// Counts `n` values `v`; a value beyond the range counts at its top
    /// (below it, at 1).
    pub fn record_n(&mut self, v: u64, n: u64) {
        if n == 0 {
            return;
        }
        let mut i = index_of(v.max(1));
        if i >= self.counts.len() {
            i = index_of(self.high);
        }
        let c = &mut self.counts[i];
        if *c == 0 {
            self.touched.push(i as u32);
            self.bits[i / 64] |= 1 << (i % 64);
        }
        *c = c.saturating_add(n);
        self.total = self.total.saturating_add(n);
    }

    /// Whether nothing was counted since the last reset.
    pub fn is_empty(&self) -> bool {
        self.total == 0
    }

    /// The values at quantiles `qs` (ascending, in [0, 1]), as
    /// `Histogram::value_at_quantile` gives them: the highest value
    /// equivalent to the first bucket whose running count reaches
    /// ⌈q × total⌉ (at least 1). 0 when empty.
    pub fn values_at(&self, qs: &[f64]) -> Vec<u64> {
        let mut out = Vec::with_capacity(qs.len());
        // The touched buckets in ascending order, from the bits.
        let mut ascending = self.bits.iter().enumerate().flat_map(|(w, &word)| {
            let mut rest = word;
            std::iter::from_fn(move || {
                (rest != 0).then(|| {
                    let b = rest.trailing_zeros() as usize;
                    rest &= rest - 1;
                    w * 64 + b
                })
            })
        });
        let mut seen = 0u64;
        let mut at = ascending.next();
        for &q in qs {
            let q = q.min(1.0);
            let target = ((q * self.total as f64).ceil() as u64).max(1);
            while let Some(i) = at
                && seen + self.counts[i] < target
            {
                seen += self.counts[i];
                at = ascending.next();
            }
            out.push(match at {
                Some(i) if q == 0.0 => value_of(i),
                Some(i) => highest_equivalent(value_of(i)),
                None => 0,
            });
        }
        out
    }

    /// Adds its counts to `h` (a histogram of the same bounds, so that
    /// each count lands in the bucket it would have had) and empties it:
    /// one record per bucket instead of one per value.
    pub fn drain_into(&mut self, h: &mut Histogram<u64>) {
        self.add_into(h);
        self.reset();
    }

    /// Adds its counts to `h` as [`MinuteHist::drain_into`] does, and keeps them.
    pub fn add_into(&self, h: &mut Histogram<u64>) {
        for &i in &self.touched {
            let _ = h.record_n(value_of(i as usize), self.counts[i as usize]);
        }
    }

    /// Empties it, zeroing only the counts it holds.
    pub fn reset(&mut self) {
        for &i in &self.touched {
            self.counts[i as usize] = 0;
            self.bits[i as usize / 64] = 0;
        }
        self.touched.clear();
        self.total = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const HIGH: u64 = 30 * 86_400 * 1_000_000;

    proptest! {
        /// The same percentiles as the run's hdrhistogram, on any values
        /// (beyond the range too), and after a reset.
        #[test]
        fn agrees_with_hdrhistogram(
            before in prop::collection::vec((0u64..=u64::MAX >> 20, 1u64..1_000), 0..50),
            values in prop::collection::vec((prop_oneof![0u64..5_000, 0u64..100_000_000, 0u64..=u64::MAX >> 16], 1u64..1_000), 1..300),
        ) {
            let mut mine = MinuteHist::new(HIGH);
            for &(v, n) in &before {
                mine.record_n(v, n);
            }
            mine.reset();
            let mut hdr = Histogram::<u64>::new_with_bounds(1, HIGH, 3).unwrap();
            for &(v, n) in &values {
                mine.record_n(v, n);
                hdr.saturating_record_n(v.max(1), n);
            }
            let qs = [0.0, 0.01, 0.5, 0.9, 0.99, 0.999, 1.0];
            let got = mine.values_at(&qs);
            for (q, g) in qs.iter().zip(got) {
                prop_assert_eq!(g, hdr.value_at_quantile(*q), "quantile {}", q);
            }
            // Drained into a histogram: the same as recording there.
            let mut into = Histogram::<u64>::new_with_bounds(1, HIGH, 3).unwrap();
            mine.drain_into(&mut into);
            prop_assert!(mine.is_empty());
            prop_assert_eq!(into.len(), hdr.len());
            for q in qs {
                prop_assert_eq!(into.value_at_quantile(q), hdr.value_at_quantile(q));
            }
            prop_assert_eq!(into.max(), hdr.max());
            prop_assert_eq!(into.min_nz(), hdr.min_nz());
        }
    }

    #[test]
    fn empty_gives_zero() {
        let mut h = MinuteHist::new(HIGH);
        assert!(h.is_empty());
        assert_eq!(h.values_at(&[0.5, 0.99]), vec![0, 0]);
        h.record_n(1_234_567, 3);
        assert!(!h.is_empty());
        assert_eq!(h.values_at(&[0.5]), vec![1_234_943]);
        h.reset();
        assert!(h.is_empty());
    }
}
