//! A compact log-linear histogram of durations (ns) with quantiles: exact
//! up to [`EXACT`] values, estimated beyond, never outside [min, max].
//!
//! Up to [`EXACT`] durations the values themselves are kept and quantiles
//! are exact (nearest rank: the smallest value with at least q·n values at
//! or below it), so "1 block · 6.11 s" never reads "p99 6.04 s". Beyond,
//! buckets are exact below 16 ns; above, each power of two is split into 16
//! equal buckets (an HDR-histogram layout: the bucket is the position of the
//! leading bit and the next four bits, integer arithmetic only), so a bucket
//! is at most 1/16 of its lower bound wide and a quantile is within ~3.1 % of
//! the true value, clamped to the smallest and largest duration seen. Counts
//! live in a dense vector over the range of buckets seen (a few hundred for
//! durations from µs to s). Mergeable. Knows nothing of episodes or lines.

/// Sub-buckets per power of two (log2).
const SUB_BITS: u32 = 4;
const SUB: u64 = 1 << SUB_BITS;

/// Quantiles are exact up to this many durations (their values are kept).
pub const EXACT: usize = 64;

/// Durations histogram.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Histogram {
    /// Bucket index of `counts[0]`.
    base: u16,
    counts: Vec<u64>,
    count: u64,
    min: u64,
    max: u64,
    /// Every duration, while there are at most [`EXACT`] (emptied beyond).
    exact: Vec<u64>,
}

/// The bucket of `ns`: `ns` itself below 16, else 16 per power of two.
fn bucket_of(ns: u64) -> u16 {
    if ns < SUB {
        return ns as u16;
    }
    let e = 63 - ns.leading_zeros(); // >= SUB_BITS
    let m = (ns >> (e - SUB_BITS)) & (SUB - 1);
    ((u64::from(e - SUB_BITS + 1) << SUB_BITS) + m) as u16
}

/// The inclusive range of durations in bucket `b`.
fn bucket_range(b: u16) -> (u64, u64) {
    let b = u64::from(b);
    if b < SUB {
        return (b, b);
    }
    let shift = (b >> SUB_BITS) - 1; // e - SUB_BITS
    let m = b & (SUB - 1);
    let lo = (SUB + m) << shift;
    (lo, lo + ((1u64 << shift) - 1))
}

fn bucket_mid(b: u16) -> u64 {
    let (lo, hi) = bucket_range(b);
    lo + (hi - lo) / 2
}

impl Histogram {
    /// The memory it holds beside itself (its vectors' capacity), bytes.
    pub fn heap_bytes(&self) -> usize {
        (self.counts.capacity() + self.exact.capacity()) * std::mem::size_of::<u64>()
    }

    /// Records one duration.
    #[inline]
    pub fn record(&mut self, ns: u64) {
        self.add_to_bucket(bucket_of(ns), 1);
        self.min = if self.count == 0 {
            ns
        } else {
            self.min.min(ns)
        };
        self.count += 1;
        self.max = self.max.max(ns);
        self.keep(ns);
    }

    /// Keeps `ns` among the exact values while they are few enough.
    #[inline]
    fn keep(&mut self, ns: u64) {
        if self.count as usize <= EXACT {
            self.exact.push(ns);
        } else if !self.exact.is_empty() {
            self.exact = Vec::new();
        }
    }

    #[inline]
    fn add_to_bucket(&mut self, b: u16, n: u64) {
        if let Some(c) = b
            .checked_sub(self.base)
            .and_then(|i| self.counts.get_mut(usize::from(i)))
        {
            *c += n;
        } else {
            self.grow_to(b, n);
        }
    }

    /// [`Histogram::add_to_bucket`] for a bucket outside the current range.
    #[cold]
    #[inline(never)]
    fn grow_to(&mut self, b: u16, n: u64) {
        if self.counts.is_empty() {
            self.base = b;
            self.counts.push(n);
            return;
        }
        if b < self.base {
            let grow = usize::from(self.base - b);
            self.counts.splice(0..0, std::iter::repeat_n(0, grow));
            self.base = b;
        }
        let i = usize::from(b - self.base);
        if i >= self.counts.len() {
            self.counts.resize(i + 1, 0);
        }
        self.counts[i] += n;
    }

    /// Adds another histogram into this one.
    pub fn merge(&mut self, other: &Histogram) {
        for (i, &n) in other.counts.iter().enumerate() {
            if n != 0 {
                self.add_to_bucket(other.base + i as u16, n);
            }
        }
        if other.count > 0 {
            self.min = if self.count == 0 {
                other.min
            } else {
                self.min.min(other.min)
            };
        }
        self.count += other.count;
        self.max = self.max.max(other.max);
        if self.count as usize <= EXACT {
            self.exact.extend_from_slice(&other.exact);
        } else {
            self.exact = Vec::new();
        }
    }

    /// Number of recorded durations.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// The smallest recorded duration (0 when empty).
    pub fn min(&self) -> u64 {
        self.min
    }

    /// The largest recorded duration (0 when empty).
    pub fn max(&self) -> u64 {
        self.max
    }

    /// Quantile `q` in [0, 1] by nearest rank: exact up to [`EXACT`]
    /// durations, else estimated; always within [min, max].
    pub fn quantile(&self, q: f64) -> u64 {
        if self.count == 0 {
            return 0;
        }
        if q >= 1.0 {
            return self.max;
        }
        let rank = ((q * self.count as f64).ceil() as u64).clamp(1, self.count);
        if self.exact.len() as u64 == self.count {
            let mut v = self.exact.clone();
            let (_, nth, _) = v.select_nth_unstable((rank - 1) as usize);
            return *nth;
        }
        let mut seen = 0;
        for (i, &n) in self.counts.iter().enumerate() {
            seen += n;
            if seen >= rank {
                return bucket_mid(self.base + i as u16).clamp(self.min, self.max);
            }
        }
        self.max
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_are_close() {
        let mut h = Histogram::default();
        let values: Vec<u64> = (1..=10_000u64).map(|i| i * 1_000).collect();
        for &v in &values {
            h.record(v);
        }
        for q in [0.5, 0.95, 0.99] {
            let exact = values[(q * values.len() as f64).ceil() as usize - 1] as f64;
            let est = h.quantile(q) as f64;
            assert!(
                (est - exact).abs() / exact < 0.05,
                "q={q} est={est} exact={exact}"
            );
        }
        assert_eq!(h.quantile(1.0), 10_000_000);
        let mut h2 = Histogram::default();
        h2.record(0);
        h.merge(&h2);
        assert_eq!(h.count(), 10_001);
        assert_eq!(h2.quantile(0.5), 0);
    }

    #[test]
    fn buckets_tile_the_durations() {
        // Every bucket's range starts right after the previous one's, and
        // every duration lands in the bucket whose range holds it.
        let mut next = 0u64;
        for b in 0..=bucket_of(u64::MAX) {
            let (lo, hi) = bucket_range(b);
            assert_eq!(lo, next, "bucket {b}");
            assert!(hi >= lo);
            assert!(
                (hi - lo) as f64 <= lo as f64 / SUB as f64,
                "bucket {b} too wide"
            );
            for ns in [lo, lo + (hi - lo) / 2, hi] {
                assert_eq!(bucket_of(ns), b, "{ns} ns");
            }
            next = hi.wrapping_add(1);
        }
        assert_eq!(next, 0, "the last bucket ends at u64::MAX");
    }

    /// Nearest rank over the sorted values: the smallest value with at
    /// least q·n values at or below it.
    fn nearest_rank(values: &[u64], q: f64) -> u64 {
        let mut v = values.to_vec();
        v.sort_unstable();
        let rank = ((q * v.len() as f64).ceil() as usize).clamp(1, v.len());
        v[rank - 1]
    }

    #[test]
    fn small_counts_are_exact_and_within_min_max() {
        // "1 block · 6.11 s · p99 6.04 s" (issue 17): one value is every quantile.
        let mut h = Histogram::default();
        h.record(6_110_000_000);
        for q in [0.0, 0.5, 0.95, 0.99, 1.0] {
            assert_eq!(h.quantile(q), 6_110_000_000);
        }
        // Up to EXACT values, merged from several histograms, every
        // quantile is the nearest-rank value.
        let values: Vec<u64> = (0..EXACT as u64)
            .map(|i| 1_000_000 + (i * 7_919 % 101) * 1_013)
            .collect();
        let (mut a, mut b) = (Histogram::default(), Histogram::default());
        for (i, &v) in values.iter().enumerate() {
            if i % 3 == 0 { a.record(v) } else { b.record(v) }
        }
        a.merge(&b);
        for n in [1, 2, 5, 20, EXACT] {
            let mut h = Histogram::default();
            for &v in &values[..n] {
                h.record(v);
            }
            for q in [0.0, 0.25, 0.5, 0.95, 0.99, 1.0] {
                assert_eq!(h.quantile(q), nearest_rank(&values[..n], q), "n={n} q={q}");
            }
        }
        for q in [0.5, 0.95, 0.99] {
            assert_eq!(a.quantile(q), nearest_rank(&values, q), "merged q={q}");
        }
    }

    #[test]
    fn estimates_stay_within_min_and_max() {
        // Beyond EXACT, a bucket's middle may lie outside the values seen.
        let mut h = Histogram::default();
        for _ in 0..EXACT + 10 {
            h.record(2_000_000_001);
        }
        h.record(2_000_000_300);
        for q in [0.0, 0.5, 0.95, 0.99, 1.0] {
            let v = h.quantile(q);
            assert!((h.min()..=h.max()).contains(&v), "q={q}: {v}");
        }
        assert_eq!(h.min(), 2_000_000_001);
    }

    #[test]
    fn merge_grows_both_ways() {
        let (mut a, mut b) = (Histogram::default(), Histogram::default());
        a.record(1_000);
        b.record(10);
        b.record(1_000_000_000);
        a.merge(&b);
        assert_eq!(a.count(), 3);
        assert_eq!(a.quantile(0.0), 10);
        assert!((a.quantile(0.5) as f64 - 1_000.0).abs() <= 1_000.0 / 32.0);
        assert_eq!(a.quantile(1.0), 1_000_000_000);
    }
}
